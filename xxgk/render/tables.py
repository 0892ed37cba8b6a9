"""The three standard tables of a report as a grid model with spans.

Layouts follow the real published tables (../shared/spec/template-labels.md):

- section 二: the sub-tables 第二十条第（一）/（五）/（六）/（八）项 (and （九） for 2019)
  stacked in one 4-column table, each under a title row spanning all columns;
- section 三: a 3-row header block and 25 (2021) or 23 (2019) data rows in 10 columns
  (3 label columns, then 自然人 … 其他, 总计);
- section 四: 3 header rows and one row of 15 numbers.

A `GridTable` lists, per row, only the cells that start in that row (like HTML and like
`checks.document.Table`); `expand()` gives the rectangular grid.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from checks.template import (
    APPLICANT_COLUMNS,
    APPLICATION_ROWS,
    COLUMN_LABELS,
    PROACTIVE_COLUMN_LABELS,
    PROACTIVE_ROWS,
    REVIEW_COLUMN_LABELS,
    REVIEW_COLUMNS,
    REVIEW_ROWS,
    TEMPLATE_2019,
    TEMPLATE_2021,
    ProactiveRowSpec,
    RowSpec,
)

from .spec import CellValue, ReportSpec, TableKind

Role = Literal["title", "header", "label", "value", "note"]


@dataclass(frozen=True, slots=True)
class GridCell:
    """One printed cell.

    `text` is the canonical text. `lines` is how a typesetter breaks it (header cells
    such as 商业/企业 are often printed on two lines); renderers that keep line breaks use
    `lines`, the others `text`. `key` is (row key, column key) for value cells.
    """

    text: str
    role: Role
    rowspan: int = 1
    colspan: int = 1
    lines: tuple[str, ...] = ()
    key: tuple[str, str] | None = None
    vertical: bool = False  # printed one character per line (三、本年度办理结果 in PDFs)

    def display_lines(self) -> tuple[str, ...]:
        return self.lines or (self.text,)


@dataclass(slots=True)
class GridTable:
    kind: TableKind
    width: int
    rows: list[list[GridCell]] = field(default_factory=list)

    def cells(self) -> Iterator[GridCell]:
        for row in self.rows:
            yield from row

    def value_cells(self) -> Iterator[GridCell]:
        return (c for c in self.cells() if c.role == "value")

    def expand(self) -> list[list[tuple[GridCell, bool] | None]]:
        """Rectangular grid: each slot holds (cell, is_origin) or None where nothing is.

        `is_origin` is True only at a cell's top-left slot.
        """
        height = len(self.rows)
        grid: list[list[tuple[GridCell, bool] | None]] = [[None] * self.width for _ in range(height)]
        for r, row in enumerate(self.rows):
            col = 0
            for cell in row:
                while col < self.width and grid[r][col] is not None:
                    col += 1
                for dr in range(cell.rowspan):
                    for dc in range(cell.colspan):
                        if r + dr < height and col + dc < self.width:
                            grid[r + dr][col + dc] = (cell, dr == 0 and dc == 0)
                col += cell.colspan
        return grid

    def row_layout(self) -> list[list[tuple[GridCell, bool]]]:
        """Per row, the distinct cells occupying it left to right, each with True where the
        cell starts in this row and False where it comes down from a rowspan above."""
        out: list[list[tuple[GridCell, bool]]] = []
        for r, slots in enumerate(self.expand()):
            row: list[tuple[GridCell, bool]] = []
            for slot in slots:
                if slot is None or (row and row[-1][0] is slot[0]):
                    continue
                row.append((slot[0], any(cell is slot[0] for cell in self.rows[r])))
            out.append(row)
        return out


# ---- value formatting ---------------------------------------------------------------


def format_value(value: CellValue) -> str:
    """How a value prints: numbers plainly, None as empty, strings verbatim."""
    if value is None:
        return ""
    if isinstance(value, bool):
        raise TypeError("booleans are not cell values")
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _value_cell(row_key: str, col_key: str, value: CellValue, colspan: int = 1, suffix: str = "") -> GridCell:
    text = format_value(value)
    if suffix and text and not isinstance(value, str):
        text += suffix
    return GridCell(text=text, role="value", colspan=colspan, key=(row_key, col_key))


def _lookup(values: dict[str, dict[str, CellValue]], row: str, col: str) -> CellValue:
    return (values.get(row) or {}).get(col)


def _drop(cells: list[GridCell], n: int) -> list[GridCell]:
    """Leave out the last `n` value cells of a row (labels stay)."""
    if n <= 0:
        return cells
    out = list(cells)
    removed = 0
    for i in range(len(out) - 1, -1, -1):
        if removed == n:
            break
        if out[i].role == "value":
            del out[i]
            removed += 1
    return out


# ---- section 二 ------------------------------------------------------------------------

PROACTIVE_WIDTH = 4
PROACTIVE_ITEM_TITLE = "第二十条第{item}项"
CONTENT_HEADER = "信息内容"

# Header labels as printed where they differ from checks.template's column labels,
# by (template, column key).
_PROACTIVE_HEADER_OVERRIDES: dict[tuple[str, str], str] = {
    (TEMPLATE_2021, "amount_wan_yuan"): "本年收费金额（单位：万元）",
    (TEMPLATE_2019, "decisions"): "处理决定数量",
    (TEMPLATE_2019, "amount_wan_yuan"): "采购总金额",
}
# Header cells printed on two lines (template-labels.md: 本年新<br />制作数量).
_HEADER_LINES: dict[str, tuple[str, ...]] = {
    "本年新制作数量": ("本年新", "制作数量"),
    "本年新公开数量": ("本年新", "公开数量"),
    "商业企业": ("商业", "企业"),
    "科研机构": ("科研", "机构"),
    "结果纠正": ("结果", "纠正"),
    "其他结果": ("其他", "结果"),
    "尚未审结": ("尚未", "审结"),
}
# Values printed with their unit inside the cell (2019 procurement: '196.7万元').
_VALUE_SUFFIX: dict[tuple[str, str], str] = {("procurement", "amount_wan_yuan"): "万元"}


def _header(text: str, rowspan: int = 1, colspan: int = 1, lines: tuple[str, ...] | None = None) -> GridCell:
    lines = _HEADER_LINES.get(text, ()) if lines is None else lines
    return GridCell(text=text, role="header", rowspan=rowspan, colspan=colspan, lines=lines)


def _proactive_items(template: str) -> list[tuple[str, list[ProactiveRowSpec]]]:
    items: dict[str, list[ProactiveRowSpec]] = {}
    for row in PROACTIVE_ROWS[template]:
        items.setdefault(row.item, []).append(row)
    return list(items.items())


def _spans(n_columns: int, width: int) -> list[int]:
    """Colspans for `n_columns` value columns filling `width - 1` slots (last one stretches)."""
    spans = [1] * n_columns
    spans[-1] += (width - 1) - n_columns
    return spans


def proactive_table(spec: ReportSpec) -> GridTable:
    table = GridTable(kind="proactive", width=PROACTIVE_WIDTH)
    for item, rows in _proactive_items(spec.template):
        title = PROACTIVE_ITEM_TITLE.format(item=item)
        table.rows.append([GridCell(text=title, role="title", colspan=PROACTIVE_WIDTH)])
        columns = rows[0].columns
        spans = _spans(len(columns), PROACTIVE_WIDTH)
        header = [_header(CONTENT_HEADER)]
        for col, span in zip(columns, spans):
            label = _PROACTIVE_HEADER_OVERRIDES.get((spec.template, col), PROACTIVE_COLUMN_LABELS[col])
            header.append(_header(label, colspan=span))
        table.rows.append(header)
        for row in rows:
            cells = [GridCell(text=row.label, role="label")]
            for col, span in zip(columns, spans):
                value = _lookup(spec.proactive, row.key, col)
                cells.append(_value_cell(row.key, col, value, span, _VALUE_SUFFIX.get((row.key, col), "")))
            table.rows.append(_drop(cells, spec.drop_cells.get(row.key, 0)))
    return table


# ---- section 三 ------------------------------------------------------------------------

APPLICATIONS_WIDTH = 10
BALANCE_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
APPLICANT_HEADER = "申请人情况"
ORGANISATION_HEADER = "法人或其他组织"
RESULTS_LABEL = "三、本年度办理结果"
GROUP_LABELS = {
    "三": "（三）不予公开",
    "四": "（四）无法提供",
    "五": "（五）不予处理",
    "六": "（六）其他处理",
}
# Printed labels where checks.template's label is shortened.
_ROW_LABEL_OVERRIDES = {
    "partially_disclosed": "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
    "other_overdue_correction": "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "other_overdue_fee": "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
}


def row_label(row: RowSpec) -> str:
    """The label as printed in the table: '1.属于国家秘密', '（一）予以公开', '一、…'."""
    if row.key in _ROW_LABEL_OVERRIDES:
        return _ROW_LABEL_OVERRIDES[row.key]
    label = row.label
    if label.startswith("三（"):
        label = label[1:]  # the section numeral, if present: 三（一）予以公开 → （一）予以公开
    if row.group is not None and label.startswith("（"):
        label = label.split("）", 1)[1]  # the group: （三）1.属于国家秘密 → 1.属于国家秘密
    return label


def results_rowspan(template: str) -> int:
    outside = ("new", "carried_over", "carried_forward")
    return len([r for r in APPLICATION_ROWS[template] if r.key not in outside])


def _applications_header() -> list[list[GridCell]]:
    parts = [_header(COLUMN_LABELS[c]) for c in APPLICANT_COLUMNS[1:-1]]
    return [
        [
            GridCell(text=BALANCE_NOTE, role="note", rowspan=3, colspan=3),
            _header(APPLICANT_HEADER, colspan=7),
        ],
        [
            _header(COLUMN_LABELS["natural"], rowspan=2),
            _header(ORGANISATION_HEADER, colspan=5),
            _header(COLUMN_LABELS["total"], rowspan=2),
        ],
        parts,
    ]


def _group_sizes(template: str) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for row in APPLICATION_ROWS[template]:
        if row.group is not None:
            sizes[row.group] = sizes.get(row.group, 0) + 1
    return sizes


def _application_labels(
    row: RowSpec, template: str, seen_groups: set[str], first_result: bool
) -> list[GridCell]:
    label = row_label(row)
    if row.key in ("new", "carried_over", "carried_forward"):
        return [GridCell(text=label, role="label", colspan=3)]
    cells: list[GridCell] = []
    if first_result:
        cells.append(
            GridCell(text=RESULTS_LABEL, role="label", rowspan=results_rowspan(template), vertical=True)
        )
    if row.group is None:
        cells.append(GridCell(text=label, role="label", colspan=2))
        return cells
    if row.group not in seen_groups:
        seen_groups.add(row.group)
        size = _group_sizes(template)[row.group]
        cells.append(GridCell(text=GROUP_LABELS[row.group], role="label", rowspan=size))
    cells.append(GridCell(text=label, role="label"))
    return cells


def applications_table(spec: ReportSpec) -> GridTable:
    table = GridTable(kind="applications", width=APPLICATIONS_WIDTH)
    table.rows.extend(_applications_header())
    seen_groups: set[str] = set()
    for row in APPLICATION_ROWS[spec.template]:
        cells = _application_labels(row, spec.template, seen_groups, first_result=row.key == "disclosed")
        for col in APPLICANT_COLUMNS:
            cells.append(_value_cell(row.key, col, _lookup(spec.applications, row.key, col)))
        table.rows.append(_drop(cells, spec.drop_cells.get(row.key, 0)))
    return table


# ---- section 四 ------------------------------------------------------------------------

REVIEW_WIDTH = 15
REVIEW_HEADER = "行政复议"
LITIGATION_HEADER = "行政诉讼"
LITIGATION_DIRECT_HEADER = "未经复议直接起诉"
LITIGATION_AFTER_REVIEW_HEADER = "复议后起诉"
# The narrow sub-header cells of 行政诉讼 wrap once more than those of 行政复议 (seed 000).
_REVIEW_SUB_LINES = {**_HEADER_LINES, "结果维持": ("结果", "维持")}


def review_table(spec: ReportSpec) -> GridTable:
    table = GridTable(kind="review_litigation", width=REVIEW_WIDTH)
    labels = [REVIEW_COLUMN_LABELS[c] for c in REVIEW_COLUMNS]
    table.rows.append([_header(REVIEW_HEADER, colspan=5), _header(LITIGATION_HEADER, colspan=10)])
    table.rows.append(
        [_header(text, rowspan=2) for text in labels]
        + [_header(LITIGATION_DIRECT_HEADER, colspan=5), _header(LITIGATION_AFTER_REVIEW_HEADER, colspan=5)]
    )
    table.rows.append([_header(text, lines=_REVIEW_SUB_LINES.get(text, ())) for text in labels * 2])
    values = [
        _value_cell(row, col, _lookup(spec.review_litigation, row, col))
        for row in REVIEW_ROWS
        for col in REVIEW_COLUMNS
    ]
    dropped = sum(spec.drop_cells.get(row, 0) for row in REVIEW_ROWS)
    table.rows.append(_drop(values, dropped))
    return table


# ---- entry point ---------------------------------------------------------------------------

_BUILDERS = {
    "proactive": proactive_table,
    "applications": applications_table,
    "review_litigation": review_table,
}


def build_table(spec: ReportSpec, kind: TableKind) -> GridTable:
    return _BUILDERS[kind](spec)

