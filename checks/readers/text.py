"""Plain-text reports: prose lines plus tables in one of two flattened layouts.

1. One cell per line (what copying a Word table as text gives, and the seeds 000/001/002/004):
   each cell starts with a TAB, an empty cell is a lone TAB, a blank line separates rows,
   a line without a TAB right after a cell continues that cell ("商业" / "企业"); a cell may even
   hold blank lines ("（三）" / "" / "不予" / "" / "公开").
2. Tab-separated rows (seed 003): one row per line, cells separated by TABs.

Lines without a TAB outside tables are paragraphs. Export debris such as "[bookmark: _GoBack]"
and "[image: …]" is dropped.
"""

from __future__ import annotations

import re

from checks.document import Cell, Document, Paragraph, Table

_DEBRIS = re.compile(r"\[(?:bookmark|image):[^\]]*\]")
# A short line may continue a cell across a blank line (vertical group labels like 不予 / 公开).
_SHORT_CONTINUATION = 8


def read_text(text: str, source: str) -> Document:
    lines = [_DEBRIS.sub("", line).rstrip("\r") for line in text.replace("\r\n", "\n").split("\n")]
    blocks: list[Paragraph | Table] = []
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        if "\t" not in line:
            if line.strip():
                blocks.append(Paragraph(line.strip()))
            i += 1
            continue
        end = _table_end(lines, i)
        region = lines[i:end]
        table = _read_one_cell_per_line(region) if _is_one_cell_per_line(region) else _read_tsv(region)
        if table.rows:
            blocks.append(table)
        i = end
    return Document(source=source, format="text", blocks=blocks)


def _table_end(lines: list[str], start: int) -> int:
    """Index just past the table region that starts at `start` (a line with a TAB).

    The region goes on over blank lines and short continuation lines as long as another TAB
    line follows; two blank lines, or a long line of prose after a blank, end it."""
    i = start
    n = len(lines)
    last_tab = start
    while i < n:
        line = lines[i]
        if "\t" in line:
            last_tab = i
            i += 1
            continue
        if not line.strip():
            i += 1
            continue
        # A non-TAB, non-blank line: continuation if it directly follows a cell line, or if it is
        # short and the table resumes after it.
        blanks_before = i - 1 - _last_nonblank(lines, i)
        if blanks_before == 0 and "\t" in lines[i - 1]:
            i += 1
            continue
        if blanks_before <= 1 and len(line.strip()) <= _SHORT_CONTINUATION and _resumes(lines, i + 1):
            i += 1
            continue
        break
    return last_tab + 1 + _trailing_continuations(lines, last_tab + 1)


def _last_nonblank(lines: list[str], i: int) -> int:
    j = i - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    return j


def _resumes(lines: list[str], i: int) -> bool:
    """After skipping blanks and short lines (at most one blank between), is there a TAB line?"""
    blanks = 0
    while i < len(lines):
        line = lines[i]
        if "\t" in line:
            return True
        if not line.strip():
            blanks += 1
            if blanks > 1:
                return False
        elif len(line.strip()) > _SHORT_CONTINUATION:
            return False
        else:
            blanks = 0
        i += 1
    return False


def _trailing_continuations(lines: list[str], i: int) -> int:
    """Continuation lines directly after the last TAB line still belong to its last cell."""
    k = 0
    while i + k < len(lines) and lines[i + k].strip() and "\t" not in lines[i + k]:
        k += 1
    return k


def _is_one_cell_per_line(region: list[str]) -> bool:
    tab_lines = [line for line in region if "\t" in line]
    single = sum(1 for line in tab_lines if line.startswith("\t") and line.count("\t") == 1)
    return single * 10 >= len(tab_lines) * 7


def _read_one_cell_per_line(region: list[str]) -> Table:
    rows: list[list[Cell]] = []
    row: list[Cell] = []
    pending_break = False  # a blank line was seen since the last cell
    for line in region:
        if "\t" in line:
            if pending_break and row:
                rows.append(row)
                row = []
            pending_break = False
            row.extend(Cell(part) for part in line[1:].split("\t")) if line.startswith("\t") else row.extend(
                Cell(part) for part in line.split("\t")
            )
        elif not line.strip():
            pending_break = True
        else:
            # Continuation of the last cell (possibly across a blank line inside the cell).
            if row:
                last = row[-1]
                row[-1] = Cell(last.text + "\n" + line.strip(), last.rowspan, last.colspan)
            else:
                row.append(Cell(line.strip()))
            pending_break = False
    if row:
        rows.append(row)
    return Table(rows=rows)


def _read_tsv(region: list[str]) -> Table:
    rows: list[list[Cell]] = []
    for line in region:
        if "\t" in line:
            rows.append([Cell(part) for part in line.split("\t")])
        elif line.strip() and rows:
            last = rows[-1][-1]
            rows[-1][-1] = Cell(last.text + "\n" + line.strip())
    return Table(rows=rows)
