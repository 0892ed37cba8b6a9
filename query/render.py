"""A query answer as text: a terminal table, JSON or CSV. The bot renders its own messages."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

from rich.table import Table as RichTable

from query.api import Column, Table


def cell_text(column: Column, value: Any) -> str:
    """A value as a supervisor reads it: thousands separators, blank as 「—」."""
    if value is None:
        return "—"
    if column.kind == "int" and isinstance(value, int | float):
        return f"{int(value):,}"
    if column.kind == "number" and isinstance(value, int | float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def to_rich(table: Table, *, hide: frozenset[str] = frozenset({"agency_id"})) -> RichTable:
    columns = [c for c in table.columns if c.key not in hide]
    out = RichTable(*(c.label for c in columns), title=table.title, title_justify="left")
    for i, col in enumerate(columns):
        if col.kind in ("int", "number"):
            out.columns[i].justify = "right"
    index = [table.columns.index(c) for c in columns]
    for row in table.rows:
        out.add_row(*(cell_text(columns[j], row[i]) for j, i in enumerate(index)))
    return out


def to_rich_by_column(table: Table, head: str) -> RichTable:
    """A wide table turned on its side: one row per column, one column per row, headed by the
    values of column `head` (an agency's years)."""
    index = {c.key: i for i, c in enumerate(table.columns)}
    head_column = table.columns[index[head]]
    out = RichTable(head_column.label, *(cell_text(head_column, row[index[head]]) for row in table.rows),
                    title=table.title, title_justify="left")
    for i in range(1, len(table.rows) + 1):
        out.columns[i].justify = "right"
    for col in table.columns:
        if col.key != head:
            out.add_row(col.label, *(cell_text(col, row[index[col.key]]) for row in table.rows))
    return out


def footer(table: Table) -> str:
    """The lines under a table: what it counts, and whether rows were left out."""
    parts = []
    if table.basis:
        parts.append(table.basis)
    if table.total > len(table.rows):
        parts.append(f"共 {table.total:,} 条，显示 {len(table.rows):,} 条（用 --limit / --offset 翻页）")
    parts.extend(table.notes)
    return "；".join(parts)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def to_json(table: Table) -> str:
    return json.dumps({
        "title": table.title,
        "total": table.total,
        "reports": table.reports,
        "basis": table.basis,
        "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in table.columns],
        "rows": [{c.key: _plain(v) for c, v in zip(table.columns, row, strict=True)} for row in table.rows],
        "notes": table.notes,
    }, ensure_ascii=False, indent=2)


def to_csv(table: Table) -> str:
    """CSV with the Chinese column labels as header; numbers without separators."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.label for c in table.columns])
    for row in table.rows:
        writer.writerow(["" if v is None else _plain(v) for v in row])
    return buffer.getvalue()
