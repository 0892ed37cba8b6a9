"""Render a report (data + prose) into every format reports are published in.

    from xxgk.render import synthetic_spec, to_pdf
    spec = synthetic_spec(7)
    pdf_bytes = to_pdf(spec)
"""

from .formats import RENDERERS, render, to_cms_html, to_docx, to_flat_text, to_pdf, to_tsv, to_word_html
from .spec import ReportSpec, TableSlot, default_title, spec_from_expected
from .synthetic import AGENCIES, synthetic_spec
from .tables import GridCell, GridTable, build_table

__all__ = [
    "AGENCIES",
    "RENDERERS",
    "GridCell",
    "GridTable",
    "ReportSpec",
    "TableSlot",
    "build_table",
    "default_title",
    "render",
    "spec_from_expected",
    "synthetic_spec",
    "to_cms_html",
    "to_docx",
    "to_flat_text",
    "to_pdf",
    "to_tsv",
    "to_word_html",
]
