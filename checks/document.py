"""The format-neutral document model every reader produces and the parser consumes.

A report, whatever it was published as (HTML, .docx, .pdf, plain text), becomes a
`Document`: a title and metadata, and a flat list of blocks in reading order. A block is
either a `Paragraph` (one line or paragraph of prose, a heading included) or a `Table`
(rows of cells as they appear in the source, spans recorded but not expanded).

Readers never interpret the report: they do not know what 自然人 or 总计 means. The parser
(`checks.parse`) never touches bytes, markup or files.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Cell:
    """One table cell as published.

    `text` keeps the cell's own line breaks ("商业\\n企业") and spaces; the parser normalises.
    Inline pieces (numbers split across <span>s or runs) are joined without a separator.
    """

    text: str
    rowspan: int = 1
    colspan: int = 1


@dataclass(slots=True)
class Table:
    """Rows of cells in source order. A cell covered by a rowspan/colspan from elsewhere is
    *not* repeated: a row lists only the cells that start in it."""

    rows: list[list[Cell]]


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: str


Block = Paragraph | Table


@dataclass(slots=True)
class Document:
    """What a reader hands to the parser."""

    source: str
    format: str  # "text", "html", "docx", "pdf", "doc", "wps"
    blocks: list[Block]
    title: str | None = None  # from metadata (HTML <title>/ArticleTitle, docx core properties, PDF info)
    meta: dict[str, str] = field(default_factory=dict)

    def paragraphs(self) -> list[str]:
        return [b.text for b in self.blocks if isinstance(b, Paragraph)]

    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]


class ReadError(Exception):
    """A file that cannot be turned into a Document. The message is a one-line reason in
    Chinese that a supervisor understands (e.g. "PDF 没有文字层（可能是扫描件），需要先做 OCR")."""

    def __init__(self, reason: str, *, retryable: bool = False):
        super().__init__(reason)
        self.reason = reason
        # True when the file may read fine later (LibreOffice missing or too slow this time),
        # False when the file itself is the problem.
        self.retryable = retryable


def expand_grid(table: Table) -> list[list[Cell | None]]:
    """The table's rectangular grid: each cell placed at every slot it spans.

    Returns rows of equal length; a slot that no cell covers is None. Used where the
    column a value sits in matters (headers whose spans do not line up with data rows).
    """
    grid: list[list[Cell | None]] = []
    pending: dict[tuple[int, int], Cell] = {}  # (row, col) slots filled by rowspans from above
    for r, row in enumerate(table.rows):
        out: list[Cell | None] = []
        col = 0
        cells = iter(row)
        cell = next(cells, None)
        while cell is not None or any(key[0] == r and key[1] >= col for key in pending):
            if (r, col) in pending:
                out.append(pending.pop((r, col)))
                col += 1
                continue
            if cell is None:
                out.append(None)
                col += 1
                continue
            for dc in range(max(cell.colspan, 1)):
                out.append(cell)
                for dr in range(1, max(cell.rowspan, 1)):
                    pending[(r + dr, col + dc)] = cell
            col += max(cell.colspan, 1)
            cell = next(cells, None)
        grid.append(out)
    width = max((len(r) for r in grid), default=0)
    for r in grid:
        r.extend([None] * (width - len(r)))
    return grid
