"""A report as PDF (reportlab platypus, built-in CID font STSong-Light).

Ruled tables with SPAN styles; the narrow label 三、本年度办理结果 is set one character
per line as Word prints it, so the text layer gives it one character per line too. Tables
taller than the rest of a page move to or split across pages as platypus decides.
"""

from __future__ import annotations

import io
from functools import cache
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ._common import blocks, heading_level, title_lines
from .spec import ReportSpec
from .tables import GridCell, GridTable

FONT = "STSong-Light"
_MARGIN = 54.0
_PAGE_WIDTH = A4[0] - 2 * _MARGIN

# Column widths as fractions of the text width.
_COLUMN_SHARES = {
    "proactive": (0.28, 0.24, 0.24, 0.24),
    "applications": (0.045, 0.13, 0.285, *(0.54 / 7,) * 7),
    "review_litigation": (1 / 15,) * 15,
}


@cache
def _register_font() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))


@cache
def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=11, leading=19, firstLineIndent=22, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=17, leading=26, alignment=TA_CENTER,
                                firstLineIndent=0),
        "h1": ParagraphStyle("h1", parent=base, fontSize=12, spaceBefore=4),
        "h2": ParagraphStyle("h2", parent=base),
        "body": base,
        "cell": ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9.5, alignment=TA_CENTER,
                               wordWrap="CJK"),
        "cell_left": ParagraphStyle("cell_left", fontName=FONT, fontSize=7.5, leading=9.5, alignment=TA_LEFT,
                                    wordWrap="CJK"),
    }


def _cell_flowable(cell: GridCell) -> Paragraph:
    styles = _styles()
    if cell.vertical:
        lines: tuple[str, ...] = tuple(cell.text)  # one character per line
    elif cell.role == "value":
        lines = (cell.text,)
    else:
        lines = cell.display_lines()
    left = cell.role == "label" and cell.colspan == 1 and cell.rowspan == 1
    return Paragraph("<br/>".join(escape(line) for line in lines), styles["cell_left" if left else "cell"])


def _table(grid: GridTable) -> Table:
    data: list[list[Paragraph | str]] = [["" for _ in range(grid.width)] for _ in grid.rows]
    commands: list[tuple] = [
        ("FONT", (0, 0), (-1, -1), FONT, 7.5),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (0, 0), (-1, -1), "CENTER"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
    ]
    for r, slots in enumerate(grid.expand()):
        for c, slot in enumerate(slots):
            if slot is None:
                continue
            cell, origin = slot
            if not origin:
                continue
            data[r][c] = _cell_flowable(cell)
            if cell.rowspan > 1 or cell.colspan > 1:
                commands.append(("SPAN", (c, r), (c + cell.colspan - 1, r + cell.rowspan - 1)))
            commands.append(("GRID", (c, r), (c + cell.colspan - 1, r + cell.rowspan - 1), 0.5, colors.black))
    widths = [share * _PAGE_WIDTH for share in _COLUMN_SHARES[grid.kind]]
    return Table(data, colWidths=widths, style=TableStyle(commands), hAlign="CENTER")


def _paragraph(text: str) -> Paragraph:
    level = heading_level(text)
    style = {1: "h1", 2: "h2"}.get(level or 0, "body")
    return Paragraph(escape(text), _styles()[style])


def _story(spec: ReportSpec) -> list[Flowable]:
    story: list[Flowable] = [Paragraph(escape(line), _styles()["title"]) for line in title_lines(spec)]
    story.append(Spacer(1, 10))
    for block in blocks(spec):
        if isinstance(block, str):
            story.append(_paragraph(block))
        else:
            story.extend([Spacer(1, 4), _table(block), Spacer(1, 8)])
    return story


def to_pdf(spec: ReportSpec) -> bytes:
    """The report as PDF bytes with a text layer."""
    _register_font()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
        title=spec.title or "",
        author=spec.agency,
        creator="WPS 文字",
        subject="政府信息公开工作年度报告",
        invariant=True,  # no creation date or random ID: the same spec gives the same bytes
    )
    doc.build(_story(spec))
    return out.getvalue()
