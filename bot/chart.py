"""Charts for the bot: a query answer (query.api.Table) drawn as a PNG.

- :func:`bar_chart`: agencies or regions by one figure (an answer of query.api.ranking or
  query.api.totals), horizontal bars, largest first, at most `top` bars (the title says so);
- :func:`line_chart`: one figure across years (query.api.agency_figures, or the yearly totals of
  a scope that :func:`chart_for` builds);
- :func:`chart_for`: runs the query and draws it — what the bot's /chart handler calls;
- :func:`chart_table`: draws a Table the bot already has (an answer's table), if it is chartable.

Every text (title, axis labels, tick labels, the basis footnote 「按已收录的 N 份报告统计」) is set
in a CJK font found on the machine (:func:`find_cjk_font`; none installed is a :class:`FontMissing`
naming the Debian packages). Drawing uses matplotlib's object API with the Agg canvas (pyplot is
never imported: no global figure state, safe to call from worker threads), and a figure has a
fixed size in pixels, so the PNG's dimensions depend only on `size`.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import FuncFormatter, MaxNLocator
from sqlalchemy.engine import Connection

from query.api import ALL, Column, Scope, Table
from query.fields import Figure, figure, find_figure
from query.render import cell_text
from query.scope import AgencyRef

# Names on a chart are crawled text: a "$" is a dollar sign, not the start of matplotlib's mathtext
# (an agency named 「某局$\\x$」 would otherwise fail to draw). Set for every Text made from now on,
# in whichever thread draws.
matplotlib.rcParams["text.parse_math"] = False

__all__ = [
    "CJKFont", "Chart", "ChartError", "ChartKind", "FontMissing", "NoData",
    "bar_chart", "chart_for", "chart_table", "find_cjk_font", "line_chart", "shorten_names",
]

ChartKind = Literal["agencies", "regions", "levels", "years"]
CHART_KINDS: tuple[str, ...] = ("agencies", "regions", "levels", "years")

DEFAULT_TOP = 15
MAX_BARS = 30
BAR_SIZE = (1200, 900)  # pixels
LINE_SIZE = (1200, 700)
DPI = 100
MAX_LABEL_WIDTH = 16.0  # display width of a bar label (a CJK character is 1, an ASCII one 0.5)

BAR_COLOR = "#3566a8"
LINE_COLOR = "#c0392b"
TEXT_COLOR = "#222222"
NOTE_COLOR = "#666666"
TOTAL_LABEL = "合计"

# Preferred CJK families (Simplified Chinese first), then files to look for when matplotlib's
# font list predates the font's installation.
CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "Source Han Sans",
    "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Serif CJK SC", "Source Han Serif SC",
    "Microsoft YaHei", "SimHei", "PingFang SC", "Hiragino Sans GB", "Droid Sans Fallback", "AR PL UMing CN",
)
FONT_DIRS: tuple[str, ...] = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts",
                              "/Library/Fonts", "/System/Library/Fonts", "C:/Windows/Fonts")
_FONT_FILE = re.compile(r"(notosanscjk|notoserifcjk|notosanssc|sourcehan|wqy|wenquanyi|droidsansfallback|"
                        r"msyh|simhei|uming|pingfang)", re.IGNORECASE)
_FONT_NAME = re.compile(r"(CJK|Source Han|WenQuanYi|YaHei|SimHei|PingFang|Hiragino Sans GB|Droid Sans Fallback|"
                        r"UMing|Noto Sans SC|Noto Serif SC)", re.IGNORECASE)
# Characters every chart shows: a font must have all of them to count as a Chinese font.
PROBE_TEXT = "政府信息公开工作年度报告按已收录份统计本年新收申请件万元单位地区合计前名历年镇海区人社局（）"

FONT_PACKAGES = "fonts-noto-cjk 或 fonts-wqy-microhei"


class ChartError(ValueError):
    """No chart can be drawn; the message is Chinese, for the user."""


class NoData(ChartError):
    """The answer has nothing to draw (no reports, or the figure is blank everywhere)."""


class FontMissing(RuntimeError):
    """No CJK font is installed: the message names the Debian packages that provide one."""

    def __init__(self) -> None:
        super().__init__(
            f"没有找到中文字体，无法绘制图表：请安装 {FONT_PACKAGES}"
            "（Debian/Ubuntu：sudo apt-get install fonts-wqy-microhei），然后重新启动程序。"
        )


# ---- the CJK font -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CJKFont:
    family: str  # the family name matplotlib resolves (findfont(family) → path)
    path: str

    def props(self, size: float) -> FontProperties:
        return FontProperties(family=[self.family, "DejaVu Sans"], size=size)


def _covers(path: str, text: str = PROBE_TEXT) -> bool:
    try:
        charmap = font_manager.get_font(path).get_charmap()
    except (OSError, RuntimeError, ValueError):
        return False
    return all(ord(c) in charmap for c in set(text))


def _resolve(family: str) -> str | None:
    """The file matplotlib uses for `family`, with no fallback to another family; None if none."""
    try:
        path = font_manager.findfont(FontProperties(family=family), fallback_to_default=False)
    except ValueError:
        return None
    return str(path)


def _usable(family: str) -> CJKFont | None:
    path = _resolve(family)
    if path is None or not _covers(path):
        return None
    return CJKFont(family, path)


@lru_cache(maxsize=8)
def find_cjk_font(families: tuple[str, ...] = CJK_FAMILIES, search_dirs: tuple[str, ...] = FONT_DIRS) -> CJKFont:
    """A font that has the Chinese characters charts show: a preferred family matplotlib knows;
    else any family in its font list whose name says CJK; else font files under `search_dirs`
    that matplotlib's (possibly older) font cache does not list yet, which are added to it.
    Raises FontMissing. Cached: call `find_cjk_font.cache_clear()` after installing a font."""
    for family in families:
        found = _usable(family)
        if found:
            return found
    known = sorted({e.name for e in font_manager.fontManager.ttflist if _FONT_NAME.search(e.name)})
    for family in known:
        found = _usable(family)
        if found:
            return found
    for directory in search_dirs:
        root = Path(directory).expanduser()
        if not root.is_dir():
            continue
        files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".ttc", ".ttf", ".otf", ".otc")
                       and _FONT_FILE.search(p.name))
        for path in files:
            if not _covers(str(path)):
                continue
            try:
                font_manager.fontManager.addfont(str(path))
                family = font_manager.get_font(str(path)).family_name
            except (OSError, RuntimeError, ValueError):
                continue
            found = _usable(family)
            if found:
                return found
    raise FontMissing()


# ---- labels and numbers ------------------------------------------------------------------------


def _width(text: str) -> float:
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.5 for c in text)


def _cut_middle(text: str, width: float) -> str:
    """`text` within `width`, keeping its head and its tail (「…局」 says what kind of agency)."""
    if _width(text) <= width:
        return text
    tail_width = max(2.0, width // 3)
    tail = ""
    for c in reversed(text):
        if _width(c + tail) > tail_width:
            break
        tail = c + tail
    head = ""
    for c in text:
        if _width(head + c) + 1 + _width(tail) > width:
            break
        head += c
    return f"{head}…{tail}"


# Standard short forms of the long words in agency names (the longest first where they overlap).
ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("中华人民共和国", ""),
    ("人力资源和社会保障", "人社"), ("人力资源社会保障", "人社"),
    ("发展和改革委员会", "发改委"), ("发展改革委员会", "发改委"),
    ("住房和城乡建设", "住建"), ("住房城乡建设", "住建"),
    ("市场监督管理", "市场监管"),
    ("卫生健康委员会", "卫健委"), ("卫生和健康委员会", "卫健委"),
    ("经济和信息化", "经信"),
    ("文化广电和旅游", "文广旅"), ("文化和广电旅游", "文广旅"), ("文化广电旅游", "文广旅"),
    ("自然资源和规划", "自然资源规划"),
    ("退役军人事务", "退役军人"),
    ("综合行政执法", "综合执法"),
    ("管理委员会", "管委会"),
    ("人民政府办公室", "政府办"), ("人民政府办公厅", "政府办"),
    ("街道办事处", "街道"),
    ("人民政府", "政府"),
    ("委员会", "委"),
)

_REGION_PREFIX = re.compile(r"^(.{2,}?(?:自治区|自治州|特别行政区|省|市|区|县|州|盟|旗))")


def _region_prefix(names: Sequence[str]) -> str:
    """The longest region-name prefix (ending in 省/市/区/县/…) that every name starts with and
    that leaves at least two characters of each: 「宁波市镇海区」 for 镇海区's agencies."""
    if not names:
        return ""
    best = ""
    first = names[0]
    for end in range(2, len(first)):
        prefix = first[:end]
        if not _REGION_PREFIX.fullmatch(prefix):
            continue
        if all(n.startswith(prefix) and len(n) - len(prefix) >= 2 for n in names):
            best = prefix
    return best


def shorten_names(names: Sequence[str], width: float = MAX_LABEL_WIDTH) -> list[str]:
    """Bar labels for agency or region names: the region prefix every name shares dropped (the
    title names the scope), long names abbreviated (人力资源和社会保障局 → 人社局), then cut in the
    middle to `width`; labels stay distinct (a clash keeps the names longer, then numbers them)."""
    names = [str(n) for n in names]
    prefix = _region_prefix(names) if len(names) > 1 else ""

    def short(name: str, *, abbreviate: bool) -> str:
        text = name[len(prefix):] if prefix and name.startswith(prefix) else name
        if abbreviate and _width(text) > width:
            for long, brief in ABBREVIATIONS:
                text = text.replace(long, brief)
        return _cut_middle(text, width)

    labels = [short(n, abbreviate=True) for n in names]
    for i, label in enumerate(labels):
        if labels.count(label) > 1:
            labels[i] = short(names[i], abbreviate=False)
    seen: dict[str, int] = {}
    for i, label in enumerate(labels):
        if labels.count(label) > 1:
            seen[label] = seen.get(label, 0) + 1
            labels[i] = f"{_cut_middle(label, width - 2)}#{seen[label]}"
    return labels


def _number(value: float, kind: str) -> str:
    if kind == "number":
        return cell_text(Column("v", "", "number"), value)
    return cell_text(Column("v", "", "int"), value)


def _wrap(text: str, width: float) -> str:
    """`text` broken into lines of at most `width` (CJK text has no spaces to break at)."""
    lines, line = [], ""
    for c in text:
        if _width(line + c) > width:
            lines.append(line)
            line = ""
        line += c
    lines.append(line)
    return "\n".join(lines)


# ---- drawing -----------------------------------------------------------------------------------


def _figure(size: tuple[int, int], footnote_lines: int) -> MplFigure:
    width, height = size
    if width < 200 or height < 150:
        raise ChartError("图表尺寸太小")
    fig = MplFigure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    reserve = min(0.2, (0.012 + 0.028 * footnote_lines) * 900 / height)
    fig.set_layout_engine(ConstrainedLayoutEngine(rect=(0, reserve, 1, 1 - reserve), h_pad=0.08, w_pad=0.12))
    return fig


def _footnote(fig: MplFigure, font: CJKFont, lines: Sequence[str]) -> None:
    if lines:
        fig.text(0.012, 0.012, "\n".join(lines), ha="left", va="bottom", color=NOTE_COLOR,
                 fontproperties=font.props(11))


def _png(fig: MplFigure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return buffer.getvalue()


def _style(ax: Any) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(colors=TEXT_COLOR)


def _column(table: Table, key: str) -> tuple[int, Column]:
    for i, column in enumerate(table.columns):
        if column.key == key:
            return i, column
    raise ChartError(f"表格「{table.title}」没有列 {key}")


def _bar_keys(table: Table, label_key: str | None, value_key: str | None) -> tuple[str, str]:
    keys = [c.key for c in table.columns]
    if label_key is None:
        label_key = next((k for k in ("agency", "group", "region") if k in keys), None)
    if value_key is None:
        value_key = next((k for k in ("value", "total") if k in keys), None)
    if label_key is None or value_key is None:
        raise ChartError(f"「{table.title}」不能画成条形图")
    return label_key, value_key


def _footnotes(table: Table, extra: Sequence[str] = ()) -> list[str]:
    return [line for line in (table.basis, *extra) if line]


def bar_chart(table: Table, *, label_key: str | None = None, value_key: str | None = None,
              top: int = DEFAULT_TOP, title: str | None = None, size: tuple[int, int] = BAR_SIZE,
              font: CJKFont | None = None) -> bytes:
    """A horizontal bar chart of `table` (query.api.ranking: agencies by `value`; query.api.totals:
    regions, levels or agencies by `total`, its 「合计」 row left out), in the table's order, at most
    `top` bars (≤ MAX_BARS; the title then says 「前 N 名，共 M 个」). Raises NoData when no row
    has a value."""
    return _bar(table, label_key=label_key, value_key=value_key, top=top, title=title, size=size, font=font).png


def _title_width(size: tuple[int, int], points: float) -> float:
    """How many CJK characters of a `points` title fit across 90 % of the figure."""
    return max(10.0, size[0] * 0.9 / (points / 72 * DPI))


@dataclass(frozen=True, slots=True)
class _Drawn:
    png: bytes
    title: str
    labels: tuple[str, ...]  # the bars' labels, or the years


def _bar(table: Table, *, label_key: str | None, value_key: str | None, top: int, title: str | None,
         size: tuple[int, int], font: CJKFont | None) -> _Drawn:
    label_key, value_key = _bar_keys(table, label_key, value_key)
    li, _ = _column(table, label_key)
    vi, value_column = _column(table, value_key)
    top = max(1, min(int(top), MAX_BARS))
    rows = list(table.rows)
    if label_key == "group" and rows and rows[-1][li] == TOTAL_LABEL:
        rows = rows[:-1]
    candidates = [(str(r[li] if r[li] is not None else "—"), r[vi]) for r in rows if r[vi] is not None]
    if not candidates:
        raise NoData(f"没有可作图的数据：{table.title}" + (f"（{table.basis}）" if table.basis else ""))
    available = len(candidates) + max(0, table.total - len(table.rows))  # rows beyond the table's page
    shown = candidates[:top]
    font = font or find_cjk_font()

    head = title or table.title
    if available > len(shown):
        head += f"（前 {len(shown)} 名，共 {available:,} 个）"
    fig = _figure(size, len(_footnotes(table)))
    ax = fig.add_subplot()
    _style(ax)
    labels = shorten_names([name for name, _ in shown])
    values = [float(v) for _, v in shown]
    positions = list(range(len(shown)))
    bars = ax.barh(positions, values, color=BAR_COLOR, height=0.68)
    ax.set_yticks(positions, labels, fontproperties=font.props(12 if len(shown) <= 20 else 10))
    ax.set_ylim(max(len(shown), 8) - 0.5, -0.5)  # the largest on top; a few bars stay slim
    ax.bar_label(bars, labels=[_number(v, value_column.kind) for v in values], padding=4,
                 fontproperties=font.props(10), color=TEXT_COLOR)
    largest = max(values) if values else 0
    ax.set_xlim(0, largest * 1.14 if largest > 0 else 1)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=value_column.kind != "number", min_n_ticks=2))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: _number(x, value_column.kind)))
    for tick in ax.get_xticklabels():
        tick.set_fontproperties(font.props(10))
    ax.grid(axis="x", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_xlabel(value_column.label, fontproperties=font.props(12), color=TEXT_COLOR)
    ax.set_ylabel(_column(table, label_key)[1].label, fontproperties=font.props(12), color=TEXT_COLOR)
    ax.set_title(_wrap(head, _title_width(size, 16)), fontproperties=font.props(16), color=TEXT_COLOR,
                 loc="left", pad=12)
    _footnote(fig, font, _footnotes(table))
    return _Drawn(_png(fig), head, tuple(labels))


def _line_keys(table: Table, x_key: str, y_key: str | None) -> tuple[str, str]:
    keys = [c.key for c in table.columns]
    if x_key not in keys:
        raise ChartError(f"「{table.title}」没有年度，不能画成折线图")
    if y_key is None:  # the first figure: a figure key (query.fields) or a total
        y_key = next((c.key for c in table.columns
                      if c.kind in ("int", "number") and ("." in c.key or c.key == "total")), None)
    if y_key is None or y_key not in keys:
        raise ChartError(f"「{table.title}」不能画成折线图")
    return x_key, y_key


def line_chart(table: Table, *, y_key: str | None = None, x_key: str = "year", title: str | None = None,
               size: tuple[int, int] = LINE_SIZE, font: CJKFont | None = None) -> bytes:
    """A line chart of one figure (`y_key`; default: the table's first figure column) across years
    (`x_key`), one point per year with its value written above it; a year left blank is a gap.
    Raises NoData when no year has a value."""
    return _line(table, y_key=y_key, x_key=x_key, title=title, size=size, font=font).png


def _line(table: Table, *, y_key: str | None, x_key: str, title: str | None, size: tuple[int, int],
          font: CJKFont | None) -> _Drawn:
    x_key, y_key = _line_keys(table, x_key, y_key)
    xi, _ = _column(table, x_key)
    yi, y_column = _column(table, y_key)
    points = sorted((int(r[xi]), None if r[yi] is None else float(r[yi])) for r in table.rows if r[xi] is not None)
    if not any(v is not None for _, v in points):
        raise NoData(f"没有可作图的数据：{title or table.title}" + (f"（{table.basis}）" if table.basis else ""))
    font = font or find_cjk_font()

    notes = []
    blank = [str(x) for x, v in points if v is None]
    if blank:
        notes.append(f"{'、'.join(blank)} 年度未填报")
    fig = _figure(size, len(_footnotes(table, notes)))
    ax = fig.add_subplot()
    _style(ax)
    xs = [x for x, _ in points]
    ys = [math.nan if v is None else v for _, v in points]
    ax.plot(xs, ys, color=LINE_COLOR, linewidth=2.2, marker="o", markersize=7, clip_on=False, zorder=3)
    values = [v for v in ys if not math.isnan(v)]
    for x, y in zip(xs, ys):
        if not math.isnan(y):
            ax.annotate(_number(y, y_column.kind), (x, y), textcoords="offset points", xytext=(0, 9),
                        ha="center", fontproperties=font.props(11), color=TEXT_COLOR)
    low, high = min(values), max(values)
    bottom = 0.0 if low >= 0 else low * 1.15
    ax.set_ylim(bottom, high * 1.18 if high > 0 else 1)
    ax.set_xlim(xs[0] - 0.5, xs[-1] + 0.5)
    step = max(1, math.ceil(len(range(xs[0], xs[-1] + 1)) / 12))
    ticks = list(range(xs[0], xs[-1] + 1, step))
    ax.set_xticks(ticks, [f"{x}年" for x in ticks], fontproperties=font.props(11))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=y_column.kind != "number", min_n_ticks=2))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: _number(y, y_column.kind)))
    for tick in ax.get_yticklabels():
        tick.set_fontproperties(font.props(10))
    ax.grid(axis="y", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_xlabel("年度", fontproperties=font.props(12), color=TEXT_COLOR)
    ax.set_ylabel(y_column.label, fontproperties=font.props(12), color=TEXT_COLOR)
    head = title or table.title
    ax.set_title(_wrap(head, _title_width(size, 16)), fontproperties=font.props(16), color=TEXT_COLOR,
                 loc="left", pad=12)
    _footnote(fig, font, _footnotes(table, notes))
    return _Drawn(_png(fig), head, tuple(str(x) for x in xs))


# ---- from a question to a chart ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Chart:
    """A drawn chart: the PNG, its title, a caption for the photo (title and basis, plain text —
    escape it for HTML), the table it shows and what it shows of it: the bars' labels (shortened
    names) or the years."""

    png: bytes
    title: str
    caption: str
    table: Table
    labels: tuple[str, ...] = ()


def _figure_of(key_or_name: str) -> Figure:
    try:
        return figure(key_or_name)
    except KeyError:
        return find_figure(key_or_name)  # raises UnknownFigure (Chinese, with suggestions)


def _years(conn: Connection, scope: Scope, agency: AgencyRef | None = None) -> list[int]:
    import sqlalchemy as sa

    from db.models import Agency, report_figure

    agencies = Agency.__table__  # type: ignore[attr-defined]
    stmt = (sa.select(report_figure.c.year).distinct()
            .select_from(report_figure.join(agencies, agencies.c.id == report_figure.c.agency_id)))
    if agency is not None:
        stmt = stmt.where(report_figure.c.agency_id == agency.id)
    else:
        stmt = stmt.where(*scope.where(conn))
    return sorted(int(y) for y in conn.execute(stmt).scalars())


def _yearly_totals(conn: Connection, f: Figure, years: Sequence[int], scope: Scope) -> Table:
    from query import api

    rows = []
    reports = 0
    for year in years:
        t = api.totals(conn, f.key, year, scope, by=None)
        for _label, n, _filled, total, _largest in t.rows:
            rows.append((year, total, n))
            reports += n
    kind = "number" if f.unit == "万元" else "int"
    return Table(
        f"{scope.label()}{f.label}历年合计",
        (Column("year", "年度", "id"), Column("total", f"{f.label}合计（{f.unit}）", kind),
         Column("reports", "报告数", "int")),
        rows, len(rows), reports=reports,
    )


def _caption(title: str, table: Table) -> str:
    return "\n".join(line for line in (title, table.basis) if line)


def chart_for(conn: Connection, figure_key: str, year: int | None = None, scope: Scope = ALL,
              kind: ChartKind = "agencies", *, agency: AgencyRef | None = None, years: Sequence[int] | None = None,
              top: int = DEFAULT_TOP) -> Chart:
    """Run the query a chart shows and draw it.

    - ``agencies``: the top agencies of `scope` by the figure on `year` (query.api.ranking);
    - ``regions``: the figure's sum on `year` by the regions one level below `scope` (query.api.totals);
    - ``levels``: its sum by level (部门、人民政府、乡镇);
    - ``years``: the figure across years: `agency`'s own (query.api.agency_figures) or the sum over
      `scope`, for `years` (default: every year stored, up to `year` if given).

    `figure_key` is a key (applications.new.total) or a name a supervisor uses (申请、行政处罚).
    `year` None: the latest year with reports in scope. Raises NoData / ChartError (Chinese),
    UnknownFigure, FontMissing. Drawing takes a fraction of a second: call it in a worker thread
    (asyncio.to_thread) from the bot's event loop.
    """
    from query import api

    if kind not in CHART_KINDS:
        raise ChartError(f"未知的图表类型：{kind}（可用：{'、'.join(CHART_KINDS)}）")
    f = _figure_of(figure_key)
    if kind == "years":
        if years:
            wanted = sorted({int(y) for y in years})
        else:
            wanted = [y for y in _years(conn, scope, agency) if year is None or y <= year]
        if agency is not None:
            table = api.agency_figures(conn, agency, wanted or None, figures=(f.key,))
            if not wanted:
                table.rows = []
            drawn = _line(table, y_key=f.key, x_key="year", title=f"{agency.name}历年{f.label}", size=LINE_SIZE,
                          font=None)
        else:
            table = _yearly_totals(conn, f, wanted, scope)
            drawn = _line(table, y_key="total", x_key="year", title=None, size=LINE_SIZE, font=None)
        return Chart(drawn.png, drawn.title, _caption(drawn.title, table), table, drawn.labels)

    if year is None:
        known = _years(conn, scope)
        if not known:
            raise NoData(f"{scope.label()}还没有收录任何报告，无法作图")
        year = known[-1]
    if kind == "agencies":
        table = api.ranking(conn, f.key, year, scope, limit=max(1, min(top, MAX_BARS)))
    else:
        table = api.totals(conn, f.key, year, scope, by="region" if kind == "regions" else "level")
    drawn = _bar(table, label_key=None, value_key=None, top=top, title=None, size=BAR_SIZE, font=None)
    return Chart(drawn.png, drawn.title, _caption(drawn.title, table), table, drawn.labels)


def chart_table(table: Table, *, top: int = DEFAULT_TOP) -> bytes | None:
    """The chart of a table the bot already answered with, or None when it is no ranking, no
    totals and no figures by year (a list of findings, an agency's history)."""
    keys = {c.key for c in table.columns}
    try:
        if "year" in keys and "rank" not in keys:
            return line_chart(table)
        if keys & {"agency", "group"} and keys & {"value", "total"}:
            return bar_chart(table, top=top)
    except NoData:
        return None
    except ChartError:
        return None
    return None
