"""Documents built to hurt (issue 7): each is refused with a clear reason, in fixed memory and
within a time limit, by the reader as the CLI and the crawler's worker processes run it.

Memory: every hostile document is read in a fresh interpreter whose address space is capped
with RLIMIT_AS (`_AS_LIMIT`); it must end with the expected ReadError, not MemoryError or a
crash, and its peak RSS (VmHWM) stays under `_RSS_LIMIT_MB`. Run with `-s` to see each
document's time and peak RSS.

Time: a real slow document (1,500 dense ruled pages, a 240 KB PDF pdfplumber needs minutes for)
is stopped by the per-document limit: in-process, through `xxgk check`'s path (check_file) and
in the crawler's own worker pool (scraper.crawl's ProcessPoolExecutor).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from checks.budget import time_limit
from checks.document import ReadError
from checks.files import check_file
from checks.readers import read_bytes
from fuzz_regressions import builders as B

REPO = Path(__file__).resolve().parent.parent
_AS_LIMIT = 1536 * 2**20  # the interpreter with every reader imported maps ~70 MB; bombs want GBs
_RSS_LIMIT_MB = 400
_HANG_S = 120  # only detects a hang: every document here ends in a few seconds

_CHILD = r"""
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[3]), int(sys.argv[3])))
sys.path[:0] = [sys.argv[4]]
from checks.readers import read_bytes, ReadError
from checks.check import check_document
from checks.parse import NotAReport
data = open(sys.argv[1], "rb").read()
start = time.monotonic()
try:
    doc = read_bytes(data, sys.argv[2], soffice="/nonexistent/soffice", timeout=60)
    try:
        check_document(doc)
        out = {"ok": True, "format": doc.format}
    except NotAReport as exc:
        out = {"ok": True, "format": doc.format, "not_a_report": str(exc)}
except ReadError as exc:
    out = {"ok": False, "error": exc.reason}
out["seconds"] = round(time.monotonic() - start, 2)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec.
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
out["maxrss_mb"] = int(hwm.split()[1]) // 1024
print(json.dumps(out, ensure_ascii=False))
"""


def read_capped(tmp_path: Path, data: bytes, name: str) -> dict:
    """Read `data` (as file `name`) in a fresh interpreter under RLIMIT_AS."""
    path = tmp_path / name
    path.write_bytes(data)
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), name, str(_AS_LIMIT), str(REPO)],
        capture_output=True, text=True, timeout=_HANG_S, cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"\n{name}: {len(data):,} bytes -> {result}")
    assert result["maxrss_mb"] < _RSS_LIMIT_MB, result
    return result


HOSTILE = {
    # name: (builder, a piece of the expected reason)
    "declared-bomb.docx": (B.docx_declared_bomb, "解压后过大"),
    "undeclared-bomb.docx": (B.docx_undeclared_bomb, "比声明的大小"),
    "many-entries.docx": (lambda: B.docx_many_entries(20_000), "条目过多"),
    "billion-laughs.docx": (B.docx_billion_laughs, "XML 无法解析"),
    "deflate-bomb.pdf": (B.pdf_deflate_bomb, "疑似压缩炸弹"),
    "objstm-bomb.pdf": (B.pdf_object_stream_bomb, "疑似压缩炸弹"),
    "3000-pages.pdf": (lambda: B.pdf_with_pages(3000), "页数过多"),
    "text-flood.pdf": (lambda: B.pdf_text_flood(100_000), "对象过多"),
    "form-bomb.pdf": (B.pdf_form_bomb, "对象过多"),
    "deep.html": (B.deep_html, "嵌套层次过深"),
    "random.docx": (lambda: bytes(range(256)) * 64, "无法识别"),
    "program.doc": (B.ole2_exe_like, "可执行程序"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_document_is_refused_in_fixed_memory(tmp_path, name):
    build, reason = HOSTILE[name]
    result = read_capped(tmp_path, build(), name)
    assert not result["ok"] and reason in result["error"], result


def test_hundred_thousand_unclosed_cells_are_siblings(tmp_path):
    """<td> cannot nest: the parser closes each at the next, so 100,000 of them read (no report)."""
    result = read_capped(tmp_path, B.deep_html(tag="td"), "deep-td.html")
    assert result["ok"] and "not_a_report" in result, result


def test_stream_with_a_bad_checksum_reads_in_linear_time(tmp_path):
    """pdfminer's own fallback is quadratic in this 4 MB stream (400 KB already take it 4 s); ours is linear."""
    result = read_capped(tmp_path, B.pdf_corrupted_checksum(), "bad-checksum.pdf")
    assert result["ok"] and result["format"] == "pdf" and result["seconds"] < 60, result


def test_nested_zip_bomb_is_never_unpacked(tmp_path):
    """A .docx carrying zips of zips (32 GB if all unpacked) reads as the report it also is:
    embedded packages are not opened."""
    result = read_capped(tmp_path, B.docx_nested_bomb(), "nested.docx")
    assert result["ok"] and result["format"] == "docx" and "not_a_report" not in result, result


@pytest.mark.parametrize("name,fmt,expected", [
    ("report.pdf", "docx", "docx"),  # a .pdf that is a .docx
    ("report.html", "pdf", "pdf"),  # an .html that is a PDF
    ("report.docx", "cms_html", "html"),
    ("report.doc", "flat_text", "text"),
])
def test_extension_that_lies_is_ignored(tmp_path, name, fmt, expected):
    result = read_capped(tmp_path, B.rendered(fmt), name)
    assert result["ok"] and result["format"] == expected and "not_a_report" not in result, result


# ---------------------------------------------------------------- the per-document time limit


@pytest.fixture(scope="module")
def slow_pdf() -> bytes:
    return B.slow_pdf()


def test_slow_pdf_is_really_slow(slow_pdf):
    """The document the limit is tested with takes far longer than the limit without it."""
    start = time.monotonic()
    with pytest.raises(ReadError, match="超时"), time_limit(6, "超时：还没读完"):
        read_bytes(slow_pdf, "slow.pdf", read_timeout=0)  # 0: the reader's own limit is off
    assert time.monotonic() - start < _HANG_S


def test_read_stops_at_the_time_limit(slow_pdf):
    start = time.monotonic()
    with pytest.raises(ReadError) as info:
        read_bytes(slow_pdf, "slow.pdf", read_timeout=2)
    elapsed = time.monotonic() - start
    assert "超时" in info.value.reason and "2 秒" in info.value.reason and info.value.retryable
    assert elapsed < _HANG_S
    # The limit is gone afterwards: a normal document reads as usual, with no stray alarm.
    assert read_bytes(B.rendered("cms_html"), "ok.html").blocks
    time.sleep(0.1)


def test_check_file_reports_the_timeout(tmp_path, slow_pdf):
    path = tmp_path / "slow.pdf"
    path.write_bytes(slow_pdf)
    result = check_file(path, max_bytes=50 * 2**20, timeout=2)
    assert not result.ok and "超时" in result.error


def _pdf_job(url: str, content: bytes, **limits: float):
    """A crawler's DocumentJob for a PDF attachment (its store is never reached)."""
    from datetime import datetime, timezone

    from scraper.store_job import DocumentJob

    now = datetime(2024, 3, 1, tzinfo=timezone.utc)
    return DocumentJob(url=url, content=content, content_hash="0" * 64, content_type="application/pdf",
                       source_url="http://x.gov.cn/a.html", site="x", site_agency="portal", region_code=None,
                       region_name=None, level=None, list_title="2021年政府信息公开工作年度报告",
                       list_year=2021, published=now, published_source="list", fetched_at=now,
                       database_url="sqlite:///unused.db", **limits)


@pytest.mark.parametrize("limits", [{"convert_timeout": 2.0}, {"convert_timeout": 600.0, "read_timeout": 2.0}],
                         ids=["convert_timeout", "read_timeout"])
def test_crawl_worker_process_stops_at_the_limit(slow_pdf, limits):
    """In the crawler's own pool (forkserver worker processes), a slow attachment ends with an
    error outcome after its limit (checks.read_timeout_s, or checks.convert_timeout_s when that is
    unset), and the worker takes the next job."""
    from scraper.crawl import _check_pool
    from scraper.store_job import store_document

    def job(url: str, content: bytes):
        return _pdf_job(url, content, **limits)

    pool = _check_pool(1)
    try:
        start = time.monotonic()
        outcome = pool.submit(store_document, job("http://x.gov.cn/slow.pdf", slow_pdf)).result(timeout=_HANG_S)
        assert outcome.status is None and "超时" in outcome.error and outcome.retry, outcome
        assert time.monotonic() - start < _HANG_S
        # The same worker goes on: an unreadable document right after is read, not stuck behind.
        nxt = pool.submit(store_document, job("http://x.gov.cn/bad.pdf", b"%PDF-1.4 broken")).result(timeout=_HANG_S)
        assert nxt.error and "超时" not in nxt.error
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def test_limits_nest():
    """An inner limit ends first with its own reason; an outer one that ends first wins."""
    def spin(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass

    with time_limit(30, "outer"):
        with pytest.raises(ReadError, match="inner"), time_limit(0.2, "inner"):
            spin(30)
        spin(0.3)  # the outer limit is still armed, and did not fire early
    with pytest.raises(ReadError, match="outer"), time_limit(0.2, "outer"):
        try:
            with time_limit(30, "inner"):
                spin(30)
        except ReadError as exc:
            pytest.fail(f"the inner limit reported the outer one: {exc}")


def _stuck_in_c(job):
    """A job stuck where no signal handler runs: SIGALRM blocked, then a sleep, as a C call that
    never returns to the interpreter (checks.budget's limit cannot end it)."""
    import signal

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    time.sleep(3600)


def test_a_worker_stuck_in_a_c_call_is_ended_by_its_watchdog(tmp_path, monkeypatch):
    """The crawler's worker runs each job under scraper.watchdog: a job still running far past
    its limits (3 s here) ends its worker; the document is a failed outcome naming the timeout,
    and the next job runs in new workers."""
    from db.engine import make_engine
    from scraper import watchdog
    from scraper.crawl import Crawler, _check_pool
    from scraper.store_job import store_document
    from xxgk.config import CrawlerConfig

    monkeypatch.setattr(watchdog, "hard_limit_s", lambda job: 3.0)
    job = _pdf_job

    crawler = Crawler(CrawlerConfig(check_workers=1), make_engine(f"sqlite:///{tmp_path / 'x.db'}"))
    crawler._pool = _check_pool(1)  # as Crawler.run starts it

    async def run():
        start = time.monotonic()
        stuck = await crawler._in_worker(_stuck_in_c, job("http://x.gov.cn/stuck.pdf", b"%PDF-1.4"))
        elapsed = time.monotonic() - start
        nxt = await crawler._in_worker(store_document, job("http://x.gov.cn/bad.pdf", b"%PDF-1.4 broken"))
        return stuck, elapsed, nxt

    try:
        stuck, elapsed, nxt = asyncio.run(run())
    finally:
        if crawler._pool is not None:
            crawler._pool.shutdown(wait=True, cancel_futures=True)
    assert stuck.failed and stuck.status is None
    assert stuck.error.startswith("检查超时（超过 3 秒仍未结束），检查进程已终止"), stuck.error
    assert 3 <= elapsed < _HANG_S
    assert nxt.error and not nxt.failed and "超时" not in nxt.error  # read (and refused) by new workers
