"""Plain-text renderings: the flattened layout of the seeds and a TSV/markdown layout.

Flattened (seeds 000/001/002/004, a Word document saved as text): each table row's cells
one per line prefixed by a TAB, an empty cell as a lone TAB line, a blank line after each
row, a multi-line cell's further lines without the TAB, two blank lines after a table.

TSV (seed 003, a document converted to markdown): one table row per line, cells separated
by TABs over the full grid (a spanned slot is an empty cell), markdown `#` headings.
"""

from __future__ import annotations

from ._common import blocks, heading_level, is_number_text, stable_int, title_lines
from .spec import ReportSpec
from .tables import GridCell, GridTable

NBSP = "\u00a0"


IDEOGRAPHIC_SPACE = "\u3000"
_PADS = ((NBSP, ""), ("", NBSP), (IDEOGRAPHIC_SPACE, ""), ("", ""))


def _padded(cell: GridCell, text: str) -> str:
    """Numbers padded with a no-break or ideographic space, as Word's text export leaves
    them (seeds 000, 002, 004)."""
    if cell.role != "value" or not is_number_text(text):
        return text
    before, after = _PADS[stable_int(cell.key, text) % len(_PADS)]
    return before + text + after


def _flat_table(table: GridTable, covered_cells: bool, padding: bool) -> list[str]:
    lines: list[str] = []
    for row in table.row_layout():
        for cell, origin in row:
            if not origin:
                if covered_cells:
                    lines.append("\t")
                continue
            first, *rest = cell.display_lines()
            lines.append("\t" + (_padded(cell, first) if padding else first))
            lines.extend(rest)
        lines.append("")
    lines.append("")
    return lines


def to_flat_text(spec: ReportSpec, *, covered_cells: bool = True, padding: bool = False) -> str:
    """The seeds' flattened text.

    `covered_cells`: a slot covered by a rowspan from above prints as a lone TAB line, as
    in seed 000 (seeds 002/004 leave it out). `padding`: numbers get a stray no-break space.
    """
    lines = [*title_lines(spec), ""]
    for block in blocks(spec):
        if isinstance(block, str):
            lines.extend([block, ""])
        else:
            lines.extend(_flat_table(block, covered_cells, padding))
    return "\n".join(lines) + "\n"


def _tsv_table(table: GridTable) -> list[str]:
    lines: list[str] = []
    for slots in table.expand():
        while slots and slots[-1] is None:  # a row with missing cells ends early
            slots = slots[:-1]
        cells = ["" if slot is None or not slot[1] else slot[0].text for slot in slots]
        lines.append("\t".join(cells))
    return lines


def _markdown_paragraph(text: str) -> str:
    level = heading_level(text)
    return f"{'#' * (level + 1)} {text}" if level else text


def to_tsv(spec: ReportSpec) -> str:
    """Markdown-ish text with tables as TAB-separated grid rows (seed 003)."""
    lines = [f"# {spec.title}", ""]
    for block in blocks(spec):
        if isinstance(block, str):
            lines.extend([_markdown_paragraph(block), ""])
        else:
            lines.extend([*_tsv_table(block), ""])
    return "\n".join(lines)
