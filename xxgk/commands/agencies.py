"""`xxgk agencies`: 单位名录：导入、查看、认领未匹配的单位。"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from xxgk.cli_common import ConfigOption, err, open_engine, settings_from

app = typer.Typer(help="单位名录：导入、查看、认领未匹配的单位。", no_args_is_help=True)


def _out() -> Console:
    out = Console(highlight=False)
    if not out.is_terminal:
        out = Console(highlight=False, width=200)  # piped or logged: don't cut names at 80 columns
    return out


def _region(code: str | None, name: str | None) -> str:
    if name and code:
        return f"{name}（{code}）"
    return name or code or "—"


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="单位名录 CSV（UTF-8 或 GBK，首行为表头）。")],
    config: ConfigOption = None,
) -> None:
    """从 CSV 导入单位名录：新增或更新单位、别名和地区；重复导入同一文件不会改动任何数据。

    列：name（名称）、aliases（别名，多个用 ｜ | ; ； 分隔）、region_code（地区代码）、
    region_name（地区名称）、level（级别：部门/政府/乡镇 或 department/government/township）、
    site（站点，可选）、province_name、city_name（上级地区名称，可选）。

    有任何一行出错时列出全部错误、不写入数据，以状态 2 退出。
    """
    from compliance.registry import RegistryError, import_registry, load_registry
    from db.engine import session

    try:
        rows = load_registry(file)
    except RegistryError as exc:
        for problem in exc.problems:
            err.print(f"错误：{file}：{problem}", soft_wrap=True)
        if len(exc.problems) > 1:
            err.print(f"共 {len(exc.problems)} 处错误，未写入任何数据。")
        else:
            err.print("未写入任何数据。")
        raise typer.Exit(2) from None
    engine = open_engine(settings_from(config))
    with session(engine) as s:
        result = import_registry(s, rows)
    print(f"导入完成：{file} 共 {len(rows)} 个单位，新增 {result.created} 个，更新 {result.updated} 个，"
          f"未变 {result.unchanged} 个；新增别名 {result.aliases_added} 个，写入地区 {result.regions_written} 个。")
    if result.registered:
        print(f"以下单位此前由抓取自动建立，现已登记（报告保留）：{'、'.join(result.registered)}")


@app.command("list")
def list_(
    region: Annotated[Optional[str], typer.Option("--region", help="只列出该地区（含下级）的单位，如 330211。")] = None,
    level: Annotated[
        Optional[str], typer.Option("--level", help="只列出该级别：部门/政府/乡镇（department/government/township）。")
    ] = None,
    unregistered: Annotated[
        bool, typer.Option("--unregistered", help="列出未登记的单位（抓取时按报告名称自动建立、尚未认领的）。")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", help="最多显示条数。", min=1)] = 200,
    offset: Annotated[int, typer.Option("--offset", help="跳过前若干条（翻页）。", min=0)] = 0,
    config: ConfigOption = None,
) -> None:
    """列出名录中的单位：名称、别名、地区、级别、站点和已收录的报告数（按地区代码和名称排序，分页显示）。"""
    from compliance.registry import LEVEL_NAMES, count_agencies, list_agencies, normalise_code, parse_level
    from compliance.regions import is_region_code
    from db.engine import session

    if region is not None and not is_region_code(normalise_code(region)):
        err.print(f"错误：地区代码“{region}”无效（应为 6 位行政区划代码，如 330211）")
        raise typer.Exit(2)
    wanted_level = None
    if level is not None:
        wanted_level = parse_level(level)
        if wanted_level is None:
            err.print(f"错误：级别“{level}”无法识别（应为 部门/政府/乡镇 或 department/government/township）")
            raise typer.Exit(2)
    engine = open_engine(settings_from(config))
    with session(engine) as s:
        agencies = list_agencies(s, region=region, level=wanted_level, registered=not unregistered,
                                 limit=limit, offset=offset)
        total = count_agencies(s, region=region, level=wanted_level, registered=not unregistered)
    what = "未登记的单位" if unregistered else "名录中的单位"
    if not agencies:
        print(f"没有符合条件的{what}。" if not total else f"共 {total:,} 个{what}，--offset {offset} 之后没有了。")
        return
    table = Table(title=what)
    for header in ("名称", "别名", "地区", "级别", "站点", "已收录报告数"):
        table.add_column(header, justify="right" if header == "已收录报告数" else "left")
    for a in agencies:
        table.add_row(a.name, "、".join(a.aliases) or "—", _region(a.region_code, a.region_name),
                      LEVEL_NAMES.get(a.level or "", a.level or "—"), a.site or "—", str(a.reports))
    out = _out()
    out.print(table)
    if total > len(agencies):
        out.print(f"共 {total:,} 个单位，显示第 {offset + 1:,}–{offset + len(agencies):,} 个（用 --limit / --offset 翻页）。")
    else:
        out.print(f"共 {total:,} 个单位。")


@app.command("unmatched")
def unmatched_(config: ConfigOption = None) -> None:
    """列出未匹配的单位：抓到了报告、但报告中的名称对不上名录中任何单位的，以及建议归入的单位。

    用 xxgk agencies assign 未匹配名称 登记名称 认领。
    """
    from compliance.registry import AgencyMatcher, unmatched
    from db.engine import session

    engine = open_engine(settings_from(config))
    with session(engine) as s:
        matcher = AgencyMatcher.from_session(s)
        found = unmatched(s, matcher)
    if not found:
        print("没有未匹配的单位。")
        return
    table = Table(title="未匹配的单位")
    for header in ("名称", "报告数", "年度", "站点", "地区", "建议归入"):
        table.add_column(header)
    for u in found:
        table.add_row(u.name, str(u.reports), "、".join(map(str, u.years)), "、".join(u.sites) or "—",
                      _region(u.region_code, u.region_name), u.suggestion or "—")
    out = _out()
    out.print(table)
    out.print(f"共 {len(found)} 个未匹配的单位；认领：xxgk agencies assign 未匹配名称 登记名称")


@app.command("assign")
def assign_(
    unmatched_name: Annotated[str, typer.Argument(metavar="未匹配名称", help="未匹配单位的名称（或编号）。")],
    registered_name: Annotated[str, typer.Argument(metavar="登记名称", help="名录中单位的名称（或编号）。")],
    config: ConfigOption = None,
) -> None:
    """把未匹配的单位归入名录中的单位：报告和文件转过去，原名称记为别名，以后自动匹配。

    若名录中的单位已有同一年度的报告，该年度的报告留在原单位下，供人工核对。
    """
    from compliance.registry import RegistryError, assign
    from db.engine import session

    engine = open_engine(settings_from(config))
    try:
        with session(engine) as s:
            result = assign(s, _ref(unmatched_name), _ref(registered_name))
    except RegistryError as exc:
        err.print(f"错误：{exc}")
        raise typer.Exit(2) from None
    print(f"已将“{result.unmatched}”归入“{result.registered}”：转移报告 {result.reports_moved} 份、"
          f"文件 {result.documents_moved} 个。")
    if result.alias_added:
        print(f"“{result.unmatched}”已记为“{result.registered}”的别名，以后抓到的报告会自动匹配。")
    if result.kept_years:
        years = "、".join(f"{y} 年度" for y in result.kept_years)
        print(f"注意：“{result.registered}”已有 {years}的报告，“{result.unmatched}”的这些报告仍保留在原单位下，请人工核对。")
    if result.deleted:
        print(f"未匹配的单位“{result.unmatched}”已无报告，已删除。")


def _ref(text: str) -> int | str:
    """An agency given by number (its id, as `list` shows none: for scripts) or by name."""
    text = text.strip()
    return int(text) if text.isdigit() else text
