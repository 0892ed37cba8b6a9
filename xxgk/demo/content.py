"""Report content for the demo sites: the report body as CMS editor HTML or Word-exported
HTML (to embed in an article page), attachments (.docx, .pdf, .doc) and the seed reports.

Everything renders from a `ReportSpec` through `xxgk.render`; rendered files are cached per
spec and format, so building the sites twice (or many times in one test run) renders once.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from html import escape
from pathlib import Path

from xxgk.render import ReportSpec, TableSlot, render, spec_from_expected, to_cms_html, to_word_html

from .model import fingerprint

log = logging.getLogger(__name__)

_CACHE: dict[str, bytes] = {}
_CACHE_LOCK = threading.Lock()


def spec_key(spec: ReportSpec) -> str:
    """A fingerprint of everything a renderer reads from the spec."""
    return fingerprint(repr(spec))


def with_published(spec: ReportSpec, published: dt.datetime, title: str | None = None) -> ReportSpec:
    """A copy of the spec with its publication time (and optionally its title) set."""
    new = copy.deepcopy(spec)
    new.published = published
    if title is not None:
        new.title = title
    return new


# ---- report bodies to embed in article pages ------------------------------------------------

_CMS_CONTENT = re.compile(
    r'<div class="article_content" id="zoom">\n(.*?)\n</div>\n<div class="article_attachment"', re.S
)
_WORD_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S | re.I)
_WORD_STYLE = re.compile(r"<style>.*?</style>", re.S | re.I)


def cms_fragment(spec: ReportSpec) -> str:
    """The report as CMS editor output (paragraphs and tables, no title), as it sits inside
    an article page's content container."""
    page = to_cms_html(spec)
    match = _CMS_CONTENT.search(page)
    if match is None:  # the renderer changed its page layout: fall back to the whole body
        body = _WORD_BODY.search(page)
        return body.group(1) if body else page
    return match.group(1)


def word_fragment(spec: ReportSpec) -> tuple[str, str]:
    """The report as Word "Save as Web Page" output: (style block, body content). The body
    starts with the title, as Word documents pasted into a CMS do."""
    page = to_word_html(spec)
    body = _WORD_BODY.search(page)
    style = _WORD_STYLE.search(page)
    return (style.group(0) if style else ""), (body.group(1) if body else page)


# ---- attachments ---------------------------------------------------------------------------


def soffice_path() -> str | None:
    return shutil.which(os.environ.get("XXGK_SOFFICE", "soffice"))


def rendered(spec: ReportSpec, fmt: str) -> bytes:
    """The report in `fmt` (a `xxgk.render` format, or "doc"), rendered once per spec."""
    key = f"{fmt}:{spec_key(spec)}"
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    data = docx_to_doc(rendered(spec, "docx")) if fmt == "doc" else render(spec, fmt)
    with _CACHE_LOCK:
        _CACHE[key] = data
    return data


def docx_to_doc(docx: bytes, *, timeout: float = 180.0) -> bytes:
    """Convert .docx bytes to a legacy Word 97 .doc with LibreOffice."""
    exe = soffice_path()
    if exe is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    with tempfile.TemporaryDirectory(prefix="xxgk-demo-doc-") as tmp:
        work = Path(tmp)
        src = work / "report.docx"
        src.write_bytes(docx)
        cmd = [
            exe,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless", "--invisible", "--nologo", "--nodefault", "--nolockcheck", "--norestore",
            "--convert-to", "doc:MS Word 97", "--outdir", str(work / "out"), str(src),
        ]  # fmt: skip
        subprocess.run(cmd, capture_output=True, timeout=timeout, check=False, start_new_session=True)
        out = work / "out" / "report.doc"
        if not out.is_file():
            raise RuntimeError("LibreOffice did not convert the report to .doc")
        return out.read_bytes()


MIME = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "doc": "application/msword",
}


# ---- seeds --------------------------------------------------------------------------------


def shared_dir() -> Path:
    env = os.environ.get("XXGK_SHARED")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared"


@dataclass(frozen=True, slots=True)
class SeedReport:
    stem: str
    spec: ReportSpec
    findings_required: tuple[str, ...]


def _table_kind(table) -> str:
    text = "".join(c.text for row in table.rows[:3] for c in row)
    if "第二十条" in text:
        return "proactive"
    if "勾稽" in text or "申请人" in text:
        return "applications"
    return "review_litigation"


def seed_body(text: str, source: str) -> list:
    """A seed report's prose in order, with its three tables as `TableSlot`s."""
    from checks.document import Paragraph, Table
    from checks.readers.text import read_text

    body: list = []
    for block in read_text(text, source).blocks:
        if isinstance(block, Paragraph):
            body.append(block.text.lstrip("# "))
        elif isinstance(block, Table):
            slot = TableSlot(_table_kind(block))  # type: ignore[arg-type]
            if slot not in body:
                body.append(slot)
    return body


_SEEDS: dict[str, SeedReport] | None = None


def load_seeds() -> dict[str, SeedReport]:
    """The shared corpus's seed reports by number ("000" …), or {} when it is not there."""
    global _SEEDS
    if _SEEDS is not None:
        return _SEEDS
    seeds: dict[str, SeedReport] = {}
    root = shared_dir() / "corpus"
    try:
        for path in sorted((root / "seeds").glob("*.txt")):
            expected = json.loads((root / "expected" / f"{path.stem}.json").read_text(encoding="utf-8"))
            spec = spec_from_expected(expected, seed_body(path.read_text(encoding="utf-8"), str(path)))
            seeds[path.stem[:3]] = SeedReport(
                path.stem, spec, tuple(expected.get("findings_required") or ())
            )
    except (OSError, ValueError, KeyError) as exc:
        log.warning("seed reports not usable (%s); the demo uses synthetic reports only", exc)
        seeds = {}
    _SEEDS = seeds
    return seeds


# ---- small HTML pieces --------------------------------------------------------------------


def esc(text: str) -> str:
    return escape(text, quote=True)


def encode_page(html: str, encoding: str) -> bytes:
    """Encode a page; characters the charset lacks become numeric references, as CMSs do."""
    return html.encode(encoding, errors="xmlcharrefreplace")


def notice_paragraphs(title: str, agency: str, day: dt.date) -> str:
    """Two or three paragraphs of an ordinary notice (not a report)."""
    return (
        f'<p style="text-indent:2em;">各有关单位：</p>'
        f'<p style="text-indent:2em;">现将《{esc(title)}》有关事项通知如下，请结合实际认真贯彻落实。'
        "各单位要高度重视，明确专人负责，按时完成各项工作任务，确保取得实效。</p>"
        f'<p style="text-align:right;">{esc(agency)}</p>'
        f'<p style="text-align:right;">{day.year}年{day.month}月{day.day}日</p>'
    )
