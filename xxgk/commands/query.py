"""`xxgk query`: the query layer on the command line (table, --json or --csv)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from xxgk.cli_common import ConfigOption, err, open_engine, settings_from

app = typer.Typer(
    help="查询：哪些单位收到申请、单位历年数据、按地区和层级汇总与排名、逾期/未发布/数据不一致的报告、单位合规历史。"
         "默认输出表格，--json 或 --csv 输出机器可读格式。",
    no_args_is_help=True,
)

YearOption = Annotated[int, typer.Option("--year", "-y", help="报告年度（如 2021，即 2022 年发布的报告）。",
                                         min=2008, max=2100)]
RegionOption = Annotated[Optional[str], typer.Option(
    "--region", "-r", help="地区：代码或名称（含下级，如 330200 或 宁波市）。")]
LevelOption = Annotated[Optional[str], typer.Option("--level", help="层级：部门、人民政府 或 乡镇。")]
LimitOption = Annotated[int, typer.Option("--limit", help="最多显示条数。", min=1)]
OffsetOption = Annotated[int, typer.Option("--offset", help="跳过前若干条（翻页）。", min=0)]
JsonOption = Annotated[bool, typer.Option("--json", help="输出 JSON。")]
CsvOption = Annotated[bool, typer.Option("--csv", help="输出 CSV（中文表头）。")]


def _out() -> Console:
    out = Console(highlight=False)
    if not out.is_terminal:
        out = Console(highlight=False, width=200)
    return out


def _run(config: Any, as_json: bool, as_csv: bool, ask: Callable[..., Any], *, by_column: str | None = None) -> None:
    """Open the store, answer, print. `ask(conn)` returns a query.api.Table; a table `by_column`
    is printed on its side, headed by that column's values."""
    from query.render import footer, to_csv, to_json, to_rich, to_rich_by_column
    from query.scope import ScopeError

    if as_json and as_csv:
        err.print("错误：--json 和 --csv 只能选一个")
        raise typer.Exit(2)
    engine = open_engine(settings_from(config))
    try:
        with engine.connect() as conn:
            table = ask(conn)
    except ScopeError as exc:
        err.print(f"错误：{exc}")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    if as_json:
        typer.echo(to_json(table))
    elif as_csv:
        typer.echo(to_csv(table), nl=False)
    else:
        out = _out()
        if not table.rows:
            out.print(f"{table.title}：没有符合条件的结果。")
        else:
            out.print(to_rich_by_column(table, by_column) if by_column else to_rich(table))
        if note := footer(table):
            out.print(note)


def _scope(conn: Any, region: str | None, level: str | None) -> Any:
    from query.api import Scope
    from query.scope import find_region, level_of

    return Scope(find_region(conn, region) if region else None, level_of(level))


def _figure(name: str) -> str:
    from query.fields import UnknownFigure, find_figure

    try:
        return find_figure(name).key
    except UnknownFigure as exc:
        err.print(f"错误：{exc}。用 xxgk query fields 查看全部指标。")
        raise typer.Exit(2) from None


def _agency(conn: Any, name: str, region: str | None) -> Any:
    from query.scope import ScopeError, find_agencies, find_region

    found = find_agencies(conn, name, find_region(conn, region) if region else None)
    if not found:
        raise ScopeError(f"找不到单位：{name}（用 xxgk agencies list 查看名录）")
    if len(found) > 1:
        names = "；".join(f"{a.name}（编号 {a.id}）" for a in found)
        raise ScopeError(f"“{name}”对应多个单位：{names}。请用全称或编号")
    return found[0]


@app.command("received")
def received_command(
    year: YearOption, region: RegionOption = None, level: LevelOption = None, limit: LimitOption = 50,
    offset: OffsetOption = 0,
    ascending: Annotated[bool, typer.Option("--asc", help="从少到多排序。")] = False,
    as_json: JsonOption = False, as_csv: CsvOption = False, config: ConfigOption = None,
) -> None:
    """哪些单位收到了政府信息公开申请（本年新收申请数大于零），按申请数排序。"""
    from query.api import received

    _run(config, as_json, as_csv, lambda conn: received(conn, year, _scope(conn, region, level),
                                                        ascending=ascending, limit=limit, offset=offset))


@app.command("top")
def top_command(
    field: Annotated[str, typer.Argument(help="指标，如 申请、予以公开、行政复议、行政诉讼、行政许可、行政处罚、收费。")],
    year: YearOption, region: RegionOption = None, level: LevelOption = None, limit: LimitOption = 10,
    offset: OffsetOption = 0,
    ascending: Annotated[bool, typer.Option("--asc", help="从少到多排序。")] = False,
    as_json: JsonOption = False, as_csv: CsvOption = False, config: ConfigOption = None,
) -> None:
    """按某项指标给单位排名（默认前 10 名）。"""
    from query.api import ranking

    key = _figure(field)
    _run(config, as_json, as_csv, lambda conn: ranking(conn, key, year, _scope(conn, region, level),
                                                       ascending=ascending, limit=limit, offset=offset))


@app.command("totals")
def totals_command(
    field: Annotated[str, typer.Argument(help="指标，如 申请、行政复议、行政处罚、收费。")],
    year: YearOption, region: RegionOption = None, level: LevelOption = None,
    by: Annotated[str, typer.Option("--by", help="分组：region（下一级地区）、level（层级）或 none（只要合计）。")] = "region",
    as_json: JsonOption = False, as_csv: CsvOption = False, config: ConfigOption = None,
) -> None:
    """某项指标的合计：按下一级地区或按层级分组，最后一行为总计。"""
    from query.api import totals

    if by not in ("region", "level", "none"):
        err.print(f"错误：--by 应为 region、level 或 none：{by}")
        raise typer.Exit(2)
    key = _figure(field)
    group = None if by == "none" else by
    _run(config, as_json, as_csv, lambda conn: totals(conn, key, year, _scope(conn, region, level), by=group))


@app.command("agency")
def agency_command(
    name: Annotated[str, typer.Argument(help="单位全称、简称、别名或编号。")],
    year: Annotated[Optional[int], typer.Option("--year", "-y", help="只看这一年度（默认历年）。")] = None,
    region: RegionOption = None,
    fields: Annotated[Optional[str], typer.Option("--fields", help="指标，逗号分隔（默认主要指标）。")] = None,
    as_json: JsonOption = False, as_csv: CsvOption = False, config: ConfigOption = None,
) -> None:
    """一个单位一年或历年的主要数据、发布日期和待处理问题数。"""
    from query.api import KEY_FIGURES, agency_figures

    keys = tuple(_figure(f) for f in fields.replace("，", ",").split(",") if f.strip()) if fields else KEY_FIGURES
    _run(config, as_json, as_csv, lambda conn: agency_figures(conn, _agency(conn, name, region),
                                                              [year] if year else None, keys), by_column="year")


@app.command("history")
def history_command(
    name: Annotated[str, typer.Argument(help="单位全称、简称、别名或编号。")],
    region: RegionOption = None,
    as_json: JsonOption = False, as_csv: CsvOption = False, config: ConfigOption = None,
) -> None:
    """一个单位的合规历史：历年发现的全部问题及其状态。"""
    from query.api import agency_history

    _run(config, as_json, as_csv, lambda conn: agency_history(conn, _agency(conn, name, region)))


def _compliance(kind: str, doc: str) -> Callable[..., None]:
    def command(
        year: YearOption, region: RegionOption = None, level: LevelOption = None,
        all_states: Annotated[bool, typer.Option("--all", help="包括已解决、已确认和误报的。")] = False,
        limit: LimitOption = 200, offset: OffsetOption = 0,
        as_json: JsonOption = False, as_csv: CsvOption = False, config: ConfigOption = None,
    ) -> None:
        from query.api import findings

        states = () if all_states else ("open",)
        _run(config, as_json, as_csv, lambda conn: findings(conn, year, _scope(conn, region, level),
                                                            kinds=(kind,), states=states, limit=limit, offset=offset))

    command.__doc__ = doc
    return command


app.command("late")(_compliance("late", "逾期发布的报告：发布日期、截止日期、逾期天数（默认只列待处理的）。"))
app.command("missing")(_compliance("missing", "截止日期已过仍未发布年度报告的单位，以及站点无法访问的（默认只列待处理的）。"))


@app.command("inconsistent")
def inconsistent_command(
    year: YearOption, region: RegionOption = None, level: LevelOption = None, limit: LimitOption = 200,
    offset: OffsetOption = 0,
    as_json: JsonOption = False, as_csv: CsvOption = False, config: ConfigOption = None,
) -> None:
    """哪些单位的报告数据不一致（勾稽关系、合计、正文与表格、上下年衔接等待处理问题）。"""
    from query.api import inconsistent_agencies

    _run(config, as_json, as_csv, lambda conn: inconsistent_agencies(conn, year, _scope(conn, region, level),
                                                                     limit=limit, offset=offset))


@app.command("fields")
def fields_command(as_json: JsonOption = False, as_csv: CsvOption = False) -> None:
    """可查询的指标：代码、名称和常用说法。"""
    from query.api import Column, Table
    from query.fields import FIGURES
    from query.render import to_csv, to_json, to_rich

    table = Table("可查询的指标", (Column("key", "代码"), Column("label", "名称"), Column("names", "其他说法"),
                                  Column("unit", "单位")),
                  [(f.key, f.label, "、".join(f.names), f.unit) for f in FIGURES], len(FIGURES))
    if as_json:
        typer.echo(to_json(table))
    elif as_csv:
        typer.echo(to_csv(table), nl=False)
    else:
        _out().print(to_rich(table))
