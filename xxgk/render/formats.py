"""Every format reports are published in, behind one import.

| function | output | like |
|---|---|---|
| `to_cms_html` | str, a full CMS article page (10–30 KB) | Pingtan / jcms pages |
| `to_word_html` | str, Word "Save as Web Page" (~280 KB) | Pingtan 2019–2022 pages |
| `to_docx` | bytes, .docx with merged cells | attachments |
| `to_pdf` | bytes, PDF with a text layer | 淮安/洪泽 PDFs |
| `to_flat_text` | str, cells one per line after a TAB | seeds 000/001/002/004 |
| `to_tsv` | str, TAB-separated grid rows, markdown headings | seed 003 |
"""

from __future__ import annotations

from collections.abc import Callable

from .docx_out import to_docx
from .html_cms import to_cms_html
from .html_word import to_word_html
from .pdf_out import to_pdf
from .spec import ReportSpec
from .text_out import to_flat_text, to_tsv

Renderer = Callable[[ReportSpec], str | bytes]

# Format name -> (renderer, file extension).
RENDERERS: dict[str, tuple[Renderer, str]] = {
    "cms_html": (to_cms_html, ".html"),
    "word_html": (to_word_html, ".htm"),
    "docx": (to_docx, ".docx"),
    "pdf": (to_pdf, ".pdf"),
    "flat_text": (to_flat_text, ".txt"),
    "tsv": (to_tsv, ".txt"),
}


def render(spec: ReportSpec, fmt: str) -> bytes:
    """The report in format `fmt` (a key of RENDERERS) as bytes (text as UTF-8)."""
    try:
        renderer, _ = RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; expected one of {sorted(RENDERERS)}") from None
    out = renderer(spec)
    return out.encode("utf-8") if isinstance(out, str) else out


__all__ = [
    "RENDERERS",
    "render",
    "to_cms_html",
    "to_docx",
    "to_flat_text",
    "to_pdf",
    "to_tsv",
    "to_word_html",
]
