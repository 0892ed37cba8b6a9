"""The supervisor's workbook (`xxgk export`): one report year of one scope as an .xlsx, ready to print.

Sheets, in order:

- 说明: the year, the scope, when it was generated (Beijing time), the basis (「按已收录的 N 份报告
  统计」), what each sheet holds and how many rows, what the colours mean;
- 报告主要数据: every stored report's key figures (query.api.report_figures);
- 问题清单: every tracked finding of the year, whatever its state (query.api.findings);
- 逾期和未发布: the late and missing reports still open or acknowledged, with their deadline and
  publication date (query.api.late_and_missing).

Every data sheet has Chinese headers on row 1, frozen and repeated on each printed page, an
autofilter, column widths from the content (a CJK character counts double), real numbers with
thousands separators (#,##0; #,##0.00 for 万元), real dates, conditional colours (程度 错误 red and
警告 amber, 状态 待处理/已确认/已解决/误报, 逾期天数 scaled from light to red, 待处理问题 > 0), and
report links as hyperlinks. Printing: A4 landscape, fit to the page width, the link column left
out, the sheet's title in the page header, the basis, generation time and page number in the footer.

The workbook is written with openpyxl's write-only mode, which keeps every formatting above; the
rows themselves are streamed as XML with each column's style id computed once (FAST_ROWS), five
times faster than a styled cell object per value: a province's year on the national store takes
2–3 s (bench/bench_export.py). The file goes to a temporary file next to the target, renamed over
it at the end: a failed export never leaves a half-written file or a damaged old one.
"""

from __future__ import annotations

import math
import os
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from checks.model import CST
from query.api import Column, Scope, Table, findings, late_and_missing, report_figures

SHEET_NOTES = "说明"
SHEET_REPORTS = "报告主要数据"
SHEET_FINDINGS = "问题清单"
SHEET_OVERDUE = "逾期和未发布"

EXCEL_MAX_ROWS = 1_048_576
# Excel keeps at most 65,530 hyperlinks per sheet; beyond that a link is written as plain text.
MAX_LINKS = 65_000
MAX_URL = 2_000  # Excel refuses longer link addresses

Progress = Callable[[str], None]


class ExportError(Exception):
    """The workbook cannot be written where asked; the message is Chinese, for the user."""


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What was written: the file, the year and scope, the reports counted and the data rows of each
    sheet (headers excluded), in sheet order."""

    path: Path
    year: int
    scope: str
    reports: int
    sheets: dict[str, int]
    generated_at: datetime
    seconds: float
    notes: tuple[str, ...] = ()

    @property
    def line(self) -> str:
        counts = "，".join(f"「{name}」{rows:,} 行" for name, rows in self.sheets.items())
        return (f"已导出 {self.path}：{self.year}年度{self.scope}，按已收录的 {self.reports:,} 份报告统计；"
                f"{counts}（用时 {self.seconds:.1f} 秒）")


def check_target(path: Path) -> Path:
    """The absolute target path, or ExportError: not .xlsx, a directory, or a missing folder."""
    if path.suffix.lower() != ".xlsx":
        raise ExportError(f"导出文件名应以 .xlsx 结尾：{path}")
    target = path.expanduser().absolute()
    if target.is_dir():
        raise ExportError(f"{path} 是一个目录，请给出文件名")
    if not target.parent.is_dir():
        raise ExportError(f"目录不存在：{target.parent}")
    return target


def write_workbook(conn: Connection, year: int, scope: Scope, path: str | os.PathLike[str], *,
                   now: datetime | None = None, progress: Progress | None = None) -> ExportSummary:
    """Write the workbook of `year` in `scope` to `path` (.xlsx), replacing it if it exists.

    `now` (aware) is the generation time shown in the workbook, the current time by default;
    `progress` is called with a short Chinese description of each step (and every few thousand
    rows). Raises ExportError for a target that cannot be written; the target is left untouched
    by a failed export."""
    started = time.perf_counter()
    target = check_target(Path(path))
    generated = (now or datetime.now(CST)).astimezone(CST)
    say = progress or (lambda _message: None)

    say("读取报告主要数据…")
    figures = report_figures(conn, year, scope)
    say("读取问题清单…")
    found = findings(conn, year, scope, states=(), limit=None)
    say("读取逾期和未发布的报告…")
    overdue = late_and_missing(conn, year, scope, limit=None)
    reports = figures.reports or 0

    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    try:
        notes_ws = wb.create_sheet(SHEET_NOTES)  # first in the workbook, written last (it counts the rows)
        footer = f"{figures.basis}；生成于 {generated:%Y-%m-%d %H:%M}（北京时间）"
        notes: list[str] = []
        sheets: dict[str, int] = {}
        for name, table, freeze in ((SHEET_REPORTS, figures, "B2"), (SHEET_FINDINGS, found, "C2"),
                                    (SHEET_OVERDUE, overdue, "C2")):
            title = f"{year}年度{scope.label()}{name}"
            sheets[name], sheet_notes = _write_table(wb, name, table, title=title, freeze=freeze,
                                                     footer=footer, say=say)
            notes += sheet_notes
        _write_notes(notes_ws, year, scope, figures, generated, sheets, notes, footer)

        say("保存文件…")
        _save(wb, target)
    except BaseException:
        _discard(wb)
        raise
    return ExportSummary(target, year, scope.label(), reports, sheets, generated,
                         time.perf_counter() - started, tuple(notes))


def _save(wb: Any, target: Path) -> None:
    """Save to a temporary file next to `target`, then rename it over `target`."""
    tmp = target.with_name(f".{target.stem[:40]}.{secrets.token_hex(4)}.xlsx.tmp")
    try:
        handle = open(tmp, "xb")  # noqa: SIM115 - closed below, before the rename
    except OSError as exc:
        raise ExportError(f"无法写入 {target}：{exc.strerror or exc}") from None
    try:
        with handle:
            wb.save(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ExportError(f"无法写入 {target}：{exc.strerror or exc}") from None
        raise


def _discard(wb: Any) -> None:
    """After a failure: finish and remove the sheets' streams (openpyxl's temporary files)."""
    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        if writer is None:
            continue
        try:
            if not ws.closed:
                ws.close()
        except Exception:  # noqa: BLE001, S110 - cleaning up after another error
            pass
        try:
            if os.path.exists(writer.out):
                writer.cleanup()
        except Exception:  # noqa: BLE001, S110
            pass


# ---- formatting -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Format:
    number_format: str = "General"
    horizontal: str | None = None
    wrap: bool = False
    link: bool = False
    min_width: float = 6
    max_width: float = 40


_IDS = {"id", "year", "agency_id"}  # numbers that are names: no thousands separator
_CENTRED = {"level", "severity", "state", "template", "region_code", "rule"}


def _format(column: Column) -> _Format:
    key, kind = column.key, column.kind
    if key == "url":
        return _Format(link=True, max_width=45)
    if key == "message":
        return _Format(wrap=True, min_width=30, max_width=60)
    if key in _IDS:
        return _Format("0", "center")
    if kind == "int":
        return _Format("#,##0")
    if kind == "number":
        return _Format("#,##0.00")
    if kind == "date":
        return _Format("yyyy-mm-dd", "center", min_width=11)
    if key in _CENTRED:
        return _Format(horizontal="center")
    if key in ("agency", "region", "site"):
        return _Format(max_width=36)
    return _Format()


def text_width(text: str) -> int:
    """Display width in Excel's character units: a CJK character (three bytes in UTF-8) counts
    double, ASCII single."""
    return (len(text.encode("utf-8")) + len(text)) // 2


def _value_width(value: Any, fmt: _Format) -> int:
    if isinstance(value, str):
        return text_width(value)
    if isinstance(value, bool):
        return 5
    if isinstance(value, int | float):
        if fmt.number_format == "#,##0.00":
            return len(f"{value:,.2f}")
        if fmt.number_format == "#,##0":
            return len(f"{round(value):,}")
        return len(str(value))
    if isinstance(value, date):
        return 10
    return text_width(str(value))


def _widths(table: Table, formats: Sequence[_Format]) -> tuple[list[float], int]:
    """Column widths (header on at most two lines) and the header row's line count."""
    widths: list[float] = []
    lines = 1
    for index, (column, fmt) in enumerate(zip(table.columns, formats, strict=True)):
        values = [row[index] for row in table.rows if row[index] is not None]
        if values and isinstance(values[0], int | float) and not isinstance(values[0], bool):
            # A number's width grows with its size: the largest and the most negative suffice.
            data = max(_value_width(max(values), fmt), _value_width(min(values), fmt))
        else:
            data = max((_value_width(v, fmt) for v in values), default=0)
        header = text_width(column.label)
        header_need = header + 2 if header <= 12 else math.ceil(header / 2) + 2
        width = min(max(data + 2, header_need, fmt.min_width), fmt.max_width)
        widths.append(width)
        lines = max(lines, math.ceil(header / max(width - 1.5, 1)))
    return widths, min(lines, 3)


# Excel's own "light red fill with dark red text" and friends.
_RED = ("FFC7CE", "9C0006")
_AMBER = ("FFEB9C", "9C5700")
_GREEN = ("C6EFCE", "006100")
_BLUE = ("DDEBF7", "1F4E78")
_GREY = ("EDEDED", "7F7F7F")


def _dxf(colours: tuple[str, str]) -> dict[str, Any]:
    from openpyxl.styles import Font, PatternFill

    fill, font = colours
    return {"fill": PatternFill(fill_type="solid", fgColor=fill, bgColor=fill), "font": Font(color=font)}


def _conditional(ws: Any, table: Table, rows: int) -> None:
    """Conditional colours on the columns that have meaning at a glance."""
    from openpyxl.formatting.rule import CellIsRule, ColorScaleRule, FormulaRule
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    if rows == 0:
        return
    last_row = rows + 1
    letters = {c.key: get_column_letter(i) for i, c in enumerate(table.columns, 1)}

    def span(key: str) -> str:
        return f"{letters[key]}2:{letters[key]}{last_row}"

    def equal(key: str, text: str, colours: tuple[str, str]) -> None:
        ws.conditional_formatting.add(span(key), CellIsRule(operator="equal", formula=[f'"{text}"'],
                                                            **_dxf(colours)))

    if "state" in letters:
        # A closed finding greys its whole row; the state cell keeps its own colour (listed first).
        equal("state", "待处理", _RED)
        equal("state", "已确认", _BLUE)
        equal("state", "已解决", _GREEN)
        equal("state", "误报", _GREY)
        whole = f"A2:{get_column_letter(len(table.columns))}{last_row}"
        column = letters["state"]
        ws.conditional_formatting.add(whole, FormulaRule(
            formula=[f'OR(${column}2="已解决",${column}2="误报")'], font=Font(color=_GREY[1])))
    if "severity" in letters:
        equal("severity", "错误", _RED)
        equal("severity", "警告", _AMBER)
    if "days_late" in letters:
        ws.conditional_formatting.add(span("days_late"), ColorScaleRule(
            start_type="num", start_value=0, start_color="FFF2CC",
            mid_type="percentile", mid_value=50, mid_color="F4B084",
            end_type="max", end_color="F8696B"))
    if "open_findings" in letters:
        ws.conditional_formatting.add(span("open_findings"), CellIsRule(
            operator="greaterThan", formula=["0"], **_dxf(_RED)))


def _print_setup(ws: Any, title: str, footer: str, header_rows: str | None = "1:1") -> None:
    from openpyxl.worksheet.properties import PageSetupProperties

    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = 9  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as it takes
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.print_options.gridLines = True
    margins = ws.page_margins
    margins.left = margins.right = 0.4
    margins.top = margins.bottom = 0.7
    margins.header = margins.footer = 0.3
    if header_rows:
        ws.print_title_rows = header_rows
    ws.oddHeader.center.text = title.replace("&", "&&")  # "&" starts a code in headers and footers
    ws.oddHeader.center.font = "-,Bold"
    ws.oddFooter.left.text = footer.replace("&", "&&")
    ws.oddFooter.left.size = 8
    ws.oddFooter.right.text = "第 &P 页，共 &N 页"
    ws.oddFooter.right.size = 8


def _header_style() -> dict[str, Any]:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    thin = Side(style="thin", color="808080")
    return {"font": Font(bold=True), "fill": PatternFill(fill_type="solid", fgColor="D9E1F2"),
            "alignment": Alignment(horizontal="center", vertical="center", wrap_text=True),
            "border": Border(left=thin, right=thin, top=thin, bottom=thin)}


def _styled_cell(ws: Any, column: int, fmt: _Format) -> Any:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    cell = WriteOnlyCell(ws)
    cell.row, cell.column = 1, column  # overwritten when written; a coordinate for the hyperlink setter
    cell.number_format = fmt.number_format
    cell.alignment = Alignment(horizontal=fmt.horizontal, vertical="center", wrap_text=fmt.wrap or None)
    if fmt.link:
        cell.font = Font(color="0563C1", underline="single")
    return cell


def _clean(text: str) -> str:
    """Without the control characters XML (and so Excel) cannot hold."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", text)


class _Links:
    """Which values of a link column become hyperlinks: http(s) addresses Excel accepts, up to
    MAX_LINKS a sheet; counts the others."""

    def __init__(self) -> None:
        self.made = 0
        self.refused = 0

    def wanted(self, url: str) -> bool:
        if not url.startswith(("http://", "https://")):
            return False
        if self.made >= MAX_LINKS or len(url) > MAX_URL:
            self.refused += 1
            return False
        self.made += 1
        return True


# Rows go straight to openpyxl's write-only stream (FAST_ROWS): each cell is one XML element with
# the column's precomputed style id, instead of a Cell object per value whose style is hashed
# again for every cell, five times faster. It relies on two hooks of openpyxl's WriteOnlyWorksheet
# (3.1: _values_to_row and the writer's write_row); without them the rows go through the public
# API (WriteOnlyCell), which writes the same workbook.
FAST_ROWS = True


def _fast_writer(ws: Any, header_ids: Sequence[str], style_ids: Sequence[str], link_columns: set[int],
                 links: _Links) -> bool:
    """Make `ws.append(values)` write plain values (str, int, float, date, None) as cells styled by
    column (`header_ids` on row 1, `style_ids` below). False when this openpyxl lacks the hooks
    (nothing changed then)."""
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.datetime import to_excel
    from openpyxl.worksheet.hyperlink import Hyperlink
    from openpyxl.xml.functions import XML_NS, Element, SubElement

    if not FAST_ROWS or not callable(getattr(ws, "_values_to_row", None)) or not callable(
            getattr(ws, "_get_writer", None)):
        return False
    ws._get_writer()  # writes everything above the rows: widths, panes, properties are set by now
    writer = getattr(ws, "_writer", None)
    if writer is None or not callable(getattr(writer, "write_row", None)) or not isinstance(
            getattr(ws, "_hyperlinks", None), list):
        return False
    letters = [get_column_letter(i) for i in range(1, len(style_ids) + 1)]
    preserve = f"{{{XML_NS}}}space"
    dimensions = ws.row_dimensions
    hyperlinks = ws._hyperlinks

    def write_row(xf: Any, values: Sequence[Any], row_index: int) -> None:
        r = str(row_index)
        attrs = {"r": r}
        if row_index in dimensions:
            attrs.update(dimensions[row_index])
        row = Element("row", attrs)
        ids = style_ids if row_index > 1 else header_ids
        for index, value in enumerate(values):
            if value is None:
                continue
            ref = letters[index] + r
            kind = type(value)
            if kind is str:
                c = SubElement(row, "c", {"r": ref, "s": ids[index], "t": "inlineStr"})
                t = SubElement(SubElement(c, "is"), "t")
                t.text = value
                if value != value.strip():
                    t.set(preserve, "preserve")
                if row_index > 1 and index in link_columns and links.wanted(value):
                    hyperlinks.append(Hyperlink(ref=ref, target=value))
                continue
            if kind is int or kind is float:
                if kind is float and not math.isfinite(value):
                    continue
                text = str(value)
            elif isinstance(value, date):
                text = str(to_excel(value))
            else:  # never in a Table; written as text rather than lost
                c = SubElement(row, "c", {"r": ref, "s": ids[index], "t": "inlineStr"})
                SubElement(SubElement(c, "is"), "t").text = str(value)
                continue
            SubElement(SubElement(row, "c", {"r": ref, "s": ids[index], "t": "n"}), "v").text = text
        xf.write(row)

    ws._values_to_row = lambda values, row_index: values
    writer.write_row = write_row
    return True


def _write_table(wb: Any, name: str, table: Table, *, title: str, freeze: str, footer: str,
                 say: Progress) -> tuple[int, list[str]]:
    """One data sheet: header, rows, formatting. Returns the data rows and any notes."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.hyperlink import Hyperlink

    rows = len(table.rows)
    if rows >= EXCEL_MAX_ROWS:
        raise ExportError(f"「{name}」有 {rows:,} 行，超过 Excel 单个工作表的上限；请用 --region 或 --level 缩小范围")
    say(f"写入「{name}」（{rows:,} 行）…")
    ws = wb.create_sheet(name)
    formats = [_format(c) for c in table.columns]
    widths, header_lines = _widths(table, formats)
    for index, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(index)].width = round(width, 1)
    ws.row_dimensions[1].height = 15 * header_lines + 6
    ws.freeze_panes = freeze
    _print_setup(ws, title, footer)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{rows + 1}"
    printed = len(table.columns) - (table.columns[-1].key == "url")  # a link is no use on paper
    ws.print_area = f"A1:{get_column_letter(printed)}{rows + 1}"
    _conditional(ws, table, rows)

    style = _header_style()
    header = []
    for column in table.columns:
        cell = WriteOnlyCell(ws, value=column.label)
        for attr, value in style.items():
            setattr(cell, attr, value)
        header.append(cell)
    cells = [_styled_cell(ws, i, fmt) for i, fmt in enumerate(formats, 1)]
    link_columns = {i for i, fmt in enumerate(formats) if fmt.link}
    links = _Links()
    illegal = ILLEGAL_CHARACTERS_RE.search
    step = 20_000

    header_ids, style_ids = [str(c.style_id) for c in header], [str(c.style_id) for c in cells]
    if _fast_writer(ws, header_ids, style_ids, link_columns, links):
        ws.append([c.value for c in header])
        for number, row in enumerate(table.rows, 1):
            if any(type(v) is str and illegal(v) for v in row):
                row = tuple(_clean(v) if type(v) is str else v for v in row)
            ws.append(row)
            if number % step == 0:
                say(f"写入「{name}」：{number:,} / {rows:,} 行…")
    else:
        ws.append(header)
        for number, row in enumerate(table.rows, 1):
            out: list[Any] = []
            for index, value in enumerate(row):
                if value is None or (type(value) is float and not math.isfinite(value)):
                    out.append(None)
                    continue
                cell = cells[index]
                if type(value) is str and illegal(value):
                    value = _clean(value)
                cell.value = value
                if cell.data_type == "f":  # text starting with "=" is text here, never a formula
                    cell.data_type = "s"
                if index in link_columns:
                    wanted = type(value) is str and links.wanted(value)
                    cell.hyperlink = Hyperlink(ref=cell.coordinate, target=value) if wanted else None
                out.append(cell)
            ws.append(out)
            if number % step == 0:
                say(f"写入「{name}」：{number:,} / {rows:,} 行…")
    notes = list(table.notes)
    if links.refused:
        notes.append(f"「{name}」中有 {links.refused:,} 个报告链接以文本形式写出"
                     f"（Excel 每个工作表最多约 6.5 万个超链接，且链接不能超过 {MAX_URL} 个字符）")
    return rows, notes


SHEET_DESCRIPTIONS = {
    SHEET_REPORTS: "每份已收录报告的主要数据：单位、地区、层级，本年新收和上年结转申请、予以公开、部分公开、不予公开、"
                   "办理结果总计、结转下年度、行政复议、行政诉讼、行政许可、行政处罚、行政事业性收费，发布日期、模板、"
                   "待处理问题数和报告链接。空白表示报告未填报或无法识读。",
    SHEET_FINDINGS: "本年度全部跟踪问题（数据不一致、逾期、未发布等），含待处理、已确认、已解决和误报，按严重程度、地区排列。",
    SHEET_OVERDUE: "待处理和已确认的未发布年度报告、站点无法访问、逾期发布，含法定期限、发布日期和逾期天数；"
                   "未发布的在前。",
}

COLOUR_NOTES = (
    "程度：错误为红色，警告为黄色。",
    "状态：待处理为红色，已确认为蓝色，已解决为绿色，误报为灰色；已解决和误报的整行文字为灰色。",
    "逾期天数：天数越多颜色越深。待处理问题：大于零为红色。",
    "每个工作表第一行为表头，已冻结，打印时每页重复；可用表头的筛选按钮筛选和排序。",
    "打印为 A4 横向、缩放到一页宽；报告链接列可点击打开，不打印。",
)


def _write_notes(ws: Any, year: int, scope: Scope, figures: Table, generated: datetime,
                 sheets: dict[str, int], notes: list[str], footer: str) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.hyperlink import Hyperlink

    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")

    def cell(value: Any, *, font: Any = None, alignment: Any = None, number_format: str | None = None) -> Any:
        c = WriteOnlyCell(ws, value=value)
        if font is not None:
            c.font = font
        if alignment is not None:
            c.alignment = alignment
        if number_format is not None:
            c.number_format = number_format
        return c

    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 90
    ws.column_dimensions["C"].width = 12
    _print_setup(ws, "说明", footer, header_rows=None)
    ws.page_setup.orientation = "portrait"

    title = f"{year}年度{scope.label()}政府信息公开工作年度报告监测汇总"
    ws.append([cell(title, font=Font(bold=True, size=14))])
    ws.append([])
    for label, value in (
        ("报告年度", f"{year}年度（{year + 1}年发布的年度报告）"),
        ("范围", scope.label()),
        ("统计口径", figures.basis or ""),
        ("生成时间", f"{generated:%Y-%m-%d %H:%M}（北京时间）"),
    ):
        ws.append([cell(label, font=bold), cell(value, alignment=wrap)])
    ws.append([])
    ws.append([cell("工作表", font=bold), cell("内容", font=bold), cell("行数", font=bold)])
    for name, rows in sheets.items():
        link = cell(name, font=Font(color="0563C1", underline="single"))
        link.row, link.column = 1, 1
        link.hyperlink = Hyperlink(ref="A1", location=f"'{name}'!A1", display=name)
        ws.append([link, cell(SHEET_DESCRIPTIONS[name], alignment=wrap), cell(rows, number_format="#,##0")])
    ws.append([])
    ws.append([cell("颜色和用法", font=bold), cell(COLOUR_NOTES[0], alignment=wrap)])
    for line in COLOUR_NOTES[1:]:
        ws.append([None, cell(line, alignment=wrap)])
    if notes:
        ws.append([])
        ws.append([cell("附注", font=bold), cell(notes[0], alignment=wrap)])
        for line in notes[1:]:
            ws.append([None, cell(line, alignment=wrap)])


__all__ = ["ExportError", "ExportSummary", "check_target", "text_width", "write_workbook"]
