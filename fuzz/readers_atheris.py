"""Coverage-guided fuzzing of the text and HTML readers with atheris (not run in CI).

    pip install atheris
    python fuzz/readers_atheris.py -max_total_time=300 -max_len=20000 fuzz/corpus

The corpus starts from the seed reports and their CMS/Word HTML renderings (written into the
corpus directory when it is empty). A crash is any exception other than ReadError/NotAReport,
or a read that needed read_bytes' catch-all ("解析出错"); libFuzzer saves the input as
crash-<hash>: copy it to tests/fuzz_regressions/ (tests/test_fuzz_readers.py reads every file
there) and fix the reader.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

with atheris.instrument_imports():
    from checks.check import check_document
    from checks.document import ReadError
    from checks.parse import NotAReport
    from checks.readers import read_bytes

_NAMES = ("report.txt", "report.html")


def one_input(data: bytes) -> None:
    if len(data) < 2:
        return
    name = _NAMES[data[0] % 2]
    try:
        doc = read_bytes(data[1:], name, soffice="/nonexistent/soffice", timeout=30)
    except ReadError as exc:
        if "解析出错" in exc.reason or "超时" in exc.reason:
            raise AssertionError(exc.reason) from None
        return
    try:
        check_document(doc, time_limit_s=30)
    except NotAReport:
        pass


def seed_corpus(directory: Path) -> None:
    from fuzz_regressions.builders import rendered, seed_texts

    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        return
    for i, text in enumerate(seed_texts()):
        (directory / f"seed{i}.txt").write_bytes(b"\x00" + text.encode("utf-8"))
    for fmt in ("cms_html", "word_html"):
        (directory / f"{fmt}.html").write_bytes(b"\x01" + rendered(fmt))


if __name__ == "__main__":
    dirs = [Path(a) for a in sys.argv[1:] if not a.startswith("-")]
    if dirs:
        seed_corpus(dirs[0])
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
