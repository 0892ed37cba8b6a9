"""A report as a .docx file (python-docx): headings as plain bold paragraphs, as
government offices write them, and tables with real merged cells (`cell.merge`)."""

from __future__ import annotations

import io
import zipfile

from docx import Document as new_document
from docx.document import Document
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.table import Table, _Cell
from docx.text.run import Run

from ._common import blocks, heading_level, title_lines
from .spec import ReportSpec
from .tables import GridCell, GridTable

_BODY_FONT = "仿宋_GB2312"
_HEADING_FONTS = {1: "黑体", 2: "楷体_GB2312"}
_TITLE_FONT = "方正小标宋简体"
_CELL_FONT = "宋体"


def _set_font(run: Run, name: str, size: float, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold or None
    r_pr = run._element.get_or_add_rPr()
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), name)


def _add_title(doc: Document, spec: ReportSpec) -> None:
    for line in title_lines(spec):
        para = doc.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _set_font(para.add_run(line), _TITLE_FONT, 22)
    doc.add_paragraph()


def _add_paragraph(doc: Document, text: str) -> None:
    para = doc.add_paragraph()
    para.paragraph_format.first_line_indent = Pt(32)
    para.paragraph_format.line_spacing = Pt(28)
    level = heading_level(text)
    _set_font(para.add_run(text), _HEADING_FONTS.get(level or 0, _BODY_FONT), 16, bold=level == 2)


def _write_cell(cell: _Cell, grid_cell: GridCell) -> None:
    lines = grid_cell.display_lines() if grid_cell.role != "value" else (grid_cell.text,)
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    first = cell.paragraphs[0]
    for extra in cell.paragraphs[1:]:  # left over from merging
        extra._element.getparent().remove(extra._element)
    for i, line in enumerate(lines):
        para = first if i == 0 else cell.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if line:
            _set_font(para.add_run(line), _CELL_FONT, 10.5)
    if grid_cell.vertical:
        tc_pr = cell._tc.get_or_add_tcPr()
        direction = OxmlElement("w:textDirection")
        direction.set(qn("w:val"), "tbRlV")
        tc_pr.append(direction)


def _trim_short_rows(table: Table, grid: GridTable) -> None:
    """Rows with missing cells end early: drop their trailing empty grid cells and record
    them as `w:gridAfter`, which is how Word stores a short row."""
    for r, slots in enumerate(grid.expand()):
        missing = 0
        while missing < len(slots) and slots[len(slots) - 1 - missing] is None:
            missing += 1
        if not missing:
            continue
        tr = table.rows[r]._tr
        for tc in tr.tc_lst[-missing:]:
            tr.remove(tc)
        tr_pr = tr.get_or_add_trPr()
        grid_after = OxmlElement("w:gridAfter")
        grid_after.set(qn("w:val"), str(missing))
        tr_pr.insert(0, grid_after)


def _add_table(doc: Document, grid: GridTable) -> None:
    table = doc.add_table(rows=len(grid.rows), cols=grid.width)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    expanded = grid.expand()
    origins: list[tuple[int, int, GridCell]] = []
    for r, slots in enumerate(expanded):
        for c, slot in enumerate(slots):
            if slot is not None and slot[1]:
                origins.append((r, c, slot[0]))
    merged: list[tuple[_Cell, GridCell]] = []
    for r, c, cell in origins:
        target = table.cell(r, c)
        if cell.rowspan > 1 or cell.colspan > 1:
            target = target.merge(table.cell(r + cell.rowspan - 1, c + cell.colspan - 1))
        merged.append((target, cell))
    for target, cell in merged:
        _write_cell(target, cell)
    _trim_short_rows(table, grid)
    doc.add_paragraph()


def to_docx(spec: ReportSpec) -> bytes:
    """The report as .docx bytes."""
    doc = new_document()
    doc.core_properties.title = spec.title or ""
    doc.core_properties.author = spec.agency
    if spec.published is not None:
        doc.core_properties.created = spec.published
        doc.core_properties.modified = spec.published
    _add_title(doc, spec)
    for block in blocks(spec):
        if isinstance(block, str):
            _add_paragraph(doc, block)
        else:
            _add_table(doc, block)
    out = io.BytesIO()
    doc.save(out)
    return _fixed_zip_times(out.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """The same .docx with every zip entry dated 1980-01-01, so the same spec gives the same bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info))
    return out.getvalue()
