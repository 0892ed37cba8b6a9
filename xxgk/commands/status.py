"""`xxgk status`: the service at a glance, from the database alone (no scheduler is started)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from xxgk.cli_common import ConfigOption, err, open_engine, settings_from

CRAWL_STATUS = {"ok": "成功", "partial": "部分失败", "failed": "失败", "running": "进行中",
                "interrupted": "中断", "never": "尚未抓取"}
SEVERITY_NAMES = {"error": "错误", "warning": "警告", "info": "提示"}


def _short(value: str | None) -> str:
    """An ISO time as 2026-01-05 02:00."""
    return value[:16].replace("T", " ") if value else "-"


def status_command(
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出。")] = False,
    config: ConfigOption = None,
) -> None:
    """显示监测服务的状态：计划任务及下次运行时间、各站点最近一次抓取（成功或失败及原因）、待处理问题（按严重程度）、等待发送的告警。

    只读取数据库，不启动调度器；时间为北京时间。
    """
    from rich.console import Console
    from rich.table import Table

    from xxgk.config import redact_url, scrub, secret_values
    from xxgk.service.status import gather

    settings = settings_from(config)
    engine = open_engine(settings)
    try:
        data = gather(settings, engine)
    except Exception as exc:  # noqa: BLE001 - the database went away, a table is broken: one line
        err.print(f"错误：无法读取服务状态：{scrub(f'{type(exc).__name__}: {exc}', secret_values(settings))}",
                  soft_wrap=True, markup=False)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    data["database"] = redact_url(str(data["database"]))  # ?password= too, which SQLAlchemy shows
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return

    out = Console(highlight=False)
    if not out.is_terminal:
        out = Console(highlight=False, width=160)  # piped: don't cut names at 80 columns
    out.print(f"数据库：{data['database']}", markup=False)

    if data["jobs"] is None:
        out.print("\n计划任务：尚无（xxgk serve 还没有在这个数据库上运行过）")
    elif not data["jobs"]:
        out.print("\n计划任务：无")
    else:
        table = Table("任务", "下次运行", "说明", title="计划任务", title_justify="left")
        for job in data["jobs"]:
            table.add_row(job["id"], _short(job["next_run"]) if job["next_run"] else "已暂停", job["name"])
        out.print(table)

    if data["crawls"]:
        table = Table("站点", "状态", "时间", "报告", "新增", "变更", "原因", title="最近一次抓取", title_justify="left")
        for c in data["crawls"]:
            if c["status"] == "never":
                table.add_row(c["site"], CRAWL_STATUS["never"], "-", "-", "-", "-", "")
                continue
            why = c["errors"][0] if c["errors"] and c["status"] != "ok" else ""
            if len(c["errors"]) > 1 and why:
                why += f"（另有 {len(c['errors']) - 1} 条）"
            site = c["site"] if c["configured"] else f"{c['site']}（已不在配置中）"
            table.add_row(site, CRAWL_STATUS.get(c["status"], c["status"]),
                          _short(c["finished_at"] or c["started_at"]), str(c["reports_found"]),
                          str(c["reports_new"]), str(c["reports_changed"]), why)
        out.print(table)
    else:
        out.print("\n最近一次抓取：配置中没有站点，也没有抓取记录")

    findings = data["findings"]
    parts = "，".join(f"{SEVERITY_NAMES.get(k, k)} {v}" for k, v in findings["open"].items())
    out.print(f"\n待处理问题：{findings['total']} 个（{parts}）")
    alerts = data["alerts"]
    line = f"等待发送的告警：{alerts['pending'] + alerts['interrupted']} 条"
    if alerts["interrupted"]:
        line += f"（其中 {alerts['interrupted']} 条上次发送中断，将标注可能重复后重发）"
    if alerts["failed"]:
        line += f"；已放弃 {alerts['failed']} 条（多次发送失败）"
    out.print(line)
