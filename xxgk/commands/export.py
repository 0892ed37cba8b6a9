"""`xxgk export`: the supervisor's workbook of one report year (query.export.write_workbook)."""

from __future__ import annotations

import os
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from xxgk.cli_common import ConfigOption, err, open_engine, settings_from


def export_command(
    file: Annotated[Path, typer.Argument(help="导出的工作簿文件，须以 .xlsx 结尾；已存在则覆盖。",
                                         metavar="FILE.xlsx", show_default=False)],
    year: Annotated[int, typer.Option("--year", "-y", help="报告年度（如 2021，即 2022 年发布的报告）。",
                                      min=2008, max=2100, show_default=False)],
    region: Annotated[Optional[str], typer.Option(
        "--region", "-r", help="地区：代码或名称（含下级，如 330000 或 浙江省）；默认全部地区。")] = None,
    level: Annotated[Optional[str], typer.Option("--level", help="层级：部门、人民政府 或 乡镇；默认全部层级。")] = None,
    config: ConfigOption = None,
) -> None:
    """导出年度工作簿（xlsx）：报告主要数据、问题清单（含状态）、逾期和未发布三张表，另附说明。

    中文表头，首行冻结并在打印时每页重复，可筛选；已设好列宽、数字和日期格式、颜色提示（错误红色、警告黄色、逾期天数越多越红）和打印格式（A4 横向、适合页宽）；报告链接可直接点击。

    退出状态：0 已导出；2 参数、地区、数据库或文件无法写入等错误；130 已中断（不留下半成品文件）。
    """
    from query.api import Scope
    from query.export import ExportError, check_target, write_workbook
    from query.scope import ScopeError, level_of

    try:
        target = check_target(file)
        if not os.access(target.parent, os.W_OK):
            raise ExportError(f"没有写入权限：{target.parent}")
        chosen_level = level_of(level)
    except (ExportError, ScopeError) as exc:
        err.print(f"错误：{exc}", soft_wrap=True, markup=False)
        raise typer.Exit(2) from None

    settings = settings_from(config)
    engine = open_engine(settings)
    status = err.status("正在导出…", spinner="dots") if err.is_terminal else nullcontext()
    try:
        with engine.connect() as conn, status as live:
            scope = Scope(_region(conn, region) if region else None, chosen_level)

            def progress(message: str) -> None:
                if live is not None:
                    live.update(escape(f"正在导出 {year}年度{scope.label()}：{message}"))

            summary = write_workbook(conn, year, scope, target, progress=progress)
    except (ExportError, ScopeError) as exc:
        err.print(f"错误：{exc}", soft_wrap=True, markup=False)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        err.print("已中断，没有写入文件。", soft_wrap=True)
        raise typer.Exit(130) from None
    except Exception as exc:  # noqa: BLE001 - the database went away mid-export: one line, no password
        from xxgk.config import scrub, secret_values

        err.print(f"错误：导出失败：{scrub(f'{type(exc).__name__}: {exc}', secret_values(settings))}",
                  soft_wrap=True, markup=False)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()

    out = Console(highlight=False, soft_wrap=True, markup=False)  # paths and names may hold [brackets]
    out.print(summary.line)
    if summary.reports == 0:
        out.print(f"提示：{summary.scope}没有已收录的{year}年度报告（请检查年度、地区，或先抓取、入库）。")
    for note in summary.notes:
        out.print(f"注：{note}")


def _region(conn, text: str):  # noqa: ANN001, ANN202 - a Connection in, a query.scope.RegionRef out
    """The region `text` names (query.scope.find_region); a code that neither the region table nor
    any agency knows is an error here rather than an empty workbook."""
    import sqlalchemy as sa

    from db.models import Agency, Region
    from query.scope import ScopeError, find_region, in_region

    found = find_region(conn, text)
    regions, agencies = Region.__table__, Agency.__table__
    in_scope = in_region(agencies.c.region_code, found.prefix, conn.dialect.name)
    known = (conn.execute(sa.select(regions.c.code).where(regions.c.code == found.code)).first()
             or conn.execute(sa.select(agencies.c.id).where(in_scope).limit(1)).first())
    if known is None:
        raise ScopeError(f"找不到地区：{text}（单位名录和已收录的报告中都没有这个地区）")
    return found
