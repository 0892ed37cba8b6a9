"""The `xxgk` command."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from checks.normalize import human_size
from xxgk.cli_common import ConfigOption, err, open_engine, settings_from
from xxgk.config import Settings, redact_url

app = typer.Typer(
    help="xxgk monitor：政府信息公开工作年度报告的检查与监测工具。",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="数据库维护（迁移）。", no_args_is_help=True)
app.add_typer(db_app, name="db")

class FailOn(str, Enum):
    never = "never"
    error = "error"
    warning = "warning"


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(help="年度报告文件：.html/.htm、.txt、.docx、.pdf、.doc、.wps。")],
    as_json: Annotated[bool, typer.Option("--json", help="每个文件输出一行 JSON（规范数据和问题清单）。")] = False,
    save: Annotated[bool, typer.Option("--save", help="把结果存入数据库（配置中的 database_url，默认 sqlite:///xxgk.db）。")] = False,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="发现该级别及以上的问题时以状态 3 退出（never/error/warning）。")
    ] = FailOn.never,
    config: ConfigOption = None,
) -> None:
    """检查年度报告：识别单位、年度、格式，读出各表数据，逐条核对勾稽关系等规则。

    退出状态：0 全部读取成功；1 有文件无法读取（其他文件照常检查）；2 配置错误；3 见 --fail-on。
    """
    from checks.files import check_file
    from checks.summary import summarize

    settings = settings_from(config)
    max_bytes = int(settings.checks.max_file_mb * 1024 * 1024)
    store = _open_store(settings) if save else None

    failed = 0
    worst = 0  # 0 none, 1 warning, 2 error
    show_progress = len(files) > 3 and err.is_terminal
    progress = Progress(TextColumn("检查中"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=err, transient=True, disable=not show_progress)
    try:
        with progress:
            task = progress.add_task("check", total=len(files))
            for path in files:
                result = check_file(path, max_bytes=max_bytes, soffice=settings.checks.soffice,
                                    timeout=settings.checks.convert_timeout_s,
                                    read_timeout=settings.checks.read_limit_s)
                progress.advance(task)
                if result.report is None:
                    failed += 1
                    err.print(f"错误：{path}：{result.error}", soft_wrap=True)
                    continue
                report = result.report
                for f in report.findings:
                    worst = max(worst, {"error": 2, "warning": 1}.get(f.severity, 0))
                saved = None
                if store is not None:
                    saved = store(result)
                if as_json:
                    sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
                else:
                    print(f"== {path}")
                    print(summarize(report))
                    if saved:
                        print(saved)
                    print()
    except KeyboardInterrupt:
        err.print("已中断：已检查的文件结果已输出（--save 时已入库）。")
        raise typer.Exit(130) from None
    if failed:
        raise typer.Exit(1)
    if (fail_on == FailOn.error and worst >= 2) or (fail_on == FailOn.warning and worst >= 1):
        raise typer.Exit(3)


def _open_store(settings: Settings):
    """A function that saves one FileResult and returns a one-line Chinese note."""
    from db.engine import session
    from db.store import save_report

    engine = open_engine(settings)

    notes = {"created": "已存入数据库（新增）", "updated": "已存入数据库（已更新）",
             "unchanged": "数据库中已有相同内容，未改动", "unidentified": "已存入文件记录；未识别单位或年度，未生成报告记录"}

    def store(result) -> str:
        with session(engine) as s:
            outcome = save_report(
                s, result.report, url=result.path.resolve().as_uri(), content_hash=result.content_hash,
                size=result.size, fetched_at=datetime.now(UTC),
            )
        return notes.get(outcome.status, outcome.status)

    return store


@app.command()
def crawl(
    site: Annotated[Optional[list[str]], typer.Option("--site", help="只抓取这个站点（配置中的 name），可重复。")] = None,
    since: Annotated[Optional[int], typer.Option("--since", help="只抓取该年度及以后的报告。", min=2000, max=2100)] = None,
    queue: Annotated[bool, typer.Option("--queue", help="不在本进程抓取，而是排入队列，由 xxgk worker 工作进程抓取。")] = False,
    config: ConfigOption = None,
) -> None:
    """抓取配置中的政务公开站点：找出年度报告，下载、检查并存入数据库；再次抓取只取新增或变化的内容。

    退出状态：0 全部站点成功；1 有站点部分或全部失败（其他站点照常抓取）；2 配置或数据库错误。
    """
    settings = settings_from(config)
    sites = settings.sites
    if site:
        unknown = [n for n in site if n not in {s.name for s in sites}]
        if unknown:
            err.print(f"错误：配置中没有这些站点：{'、'.join(unknown)}（可用：{'、'.join(s.name for s in sites) or '无'}）")
            raise typer.Exit(2)
        sites = [s for s in sites if s.name in site]
    if not sites:
        err.print("错误：配置中没有要抓取的站点（[[sites]]）；参见 config.example.toml，或运行 xxgk demo 试用")
        raise typer.Exit(2)
    if queue:
        from xxgk.service.work import queue_crawl

        if since is not None:
            err.print("错误：--queue 不能与 --since 同用（工作进程按配置抓取全部年度）")
            raise typer.Exit(2)
        queued = queue_crawl(open_engine(settings), sites)
        print(f"已排入 {queued} 个站点组（共用主机的站点为一组），等待 xxgk worker 抓取。")
        return
    results = _run_crawl(settings, sites, since)
    if any(r.status != "ok" for r in results):
        raise typer.Exit(1)


def _run_crawl(settings: Settings, sites, since: int | None):
    import asyncio

    from rich.table import Table

    from xxgk.service.work import crawl_sites

    engine = open_engine(settings)
    progress = Progress(TextColumn("抓取 {task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeRemainingColumn(), console=err, transient=True)
    known: dict[str, tuple[int, int]] = {}

    with progress:
        task = progress.add_task(f"{len(sites)} 个站点", total=None)

        def hook(site_name: str, done: int, total: int) -> None:
            known[site_name] = (done, total)
            progress.update(task, completed=sum(d for d, _ in known.values()),
                            total=sum(t for _, t in known.values()) or None)

        try:  # the shared crawl (xxgk.service.work); cut short, it records where each site stopped
            results = asyncio.run(crawl_sites(settings, engine, sites, since=since, progress=hook,
                                              why="Ctrl-C"))
        except KeyboardInterrupt:
            err.print("已中断：已完成的站点结果已保存，下次抓取会继续未完成的部分。")
            raise typer.Exit(130) from None

    table = Table(title="抓取结果", show_lines=False)
    for header in ("站点", "状态", "报告", "新增", "变更", "请求", "未变(304)", "流量", "错误"):
        table.add_column(header)
    status_names = {"ok": "成功", "partial": "部分失败", "failed": "失败"}
    for r in results:
        table.add_row(r.site, status_names.get(r.status, r.status), str(r.reports_found), str(r.reports_new),
                      str(r.reports_changed), str(r.pages_fetched), str(r.not_modified),
                      human_size(r.bytes_received), str(len(r.errors)))
    out = Console(highlight=False)
    if not out.is_terminal:
        out = Console(highlight=False, width=160)  # piped or logged: don't cut site names at 80 columns
    out.print(table)
    for r in results:
        for e in r.errors:
            print(f"{r.site}：{e}")
    return results


@app.command()
def demo(
    database_url: Annotated[
        str, typer.Option("--database-url", help="演示用数据库（默认单独的 xxgk-demo.db，不混入正式数据）。")
    ] = "sqlite:///xxgk-demo.db",
    serve: Annotated[bool, typer.Option("--serve", help="抓取后继续提供演示站点，按 Ctrl-C 结束。")] = False,
) -> None:
    """演示完整流程：在本机回环地址上启动四个仿真政务公开站点（TRS、大汉 jcms、广东 gkmlpt、普通站点），
    抓取、检查并入库，再抓一次以演示增量抓取（第二次应无新增）。不访问任何外部网络。
    """
    from xxgk.config import CrawlerConfig, SiteConfig
    from xxgk.demo import DemoServer, default_sites, sites_config

    err.print("正在启动演示站点（仅本机回环地址）…")
    with DemoServer(default_sites(), slow_delay=0.5) as srv:
        srv.wait_warm(120)
        sites = [SiteConfig(**entry) for entry in sites_config(srv)]
        settings = Settings(
            database_url=database_url,
            crawler=CrawlerConfig(per_host_delay_s=0.05, timeout_s=10, backoff_s=0.2, retries=3,
                                  allow_private_addresses=True),  # the demo sites are on loopback
            sites=sites,
        )
        for site in sites:
            print(f"  {site.name}：{site.list_urls[0]}")
        _demo_registry(settings)
        print("\n第一次抓取：")
        _run_crawl(settings, sites, None)
        srv.reset_log()
        print("\n第二次抓取（只取新增或变化的内容）：")
        _run_crawl(settings, sites, None)
        print(f"第二次抓取共 {len(srv.requests)} 个请求，传输 {human_size(srv.bytes_sent)}。")
        _print_stored(settings)
        _demo_compliance(settings)
        if serve:
            err.print("演示站点继续运行，按 Ctrl-C 结束。")
            try:
                import time

                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass


def _demo_registry(settings: Settings) -> None:
    """The demo sites' agencies, as a supervisor's office would register them."""
    from compliance.registry import import_registry, load_registry
    from db.engine import session

    path = Path(__file__).parent / "demo" / "agencies.csv"
    with session(open_engine(settings)) as s:
        result = import_registry(s, load_registry(path))
    print(f"\n单位名录：{path.name}，新增 {result.created} 个单位（其中几个从不发布报告）")


def _demo_compliance(settings: Settings) -> None:
    """Sweep every year the demo holds, subscribe a supervisor to a digest, and show it."""
    import asyncio

    import sqlalchemy as sa

    from checks.model import CST
    from compliance.alerts import deliver
    from compliance.channels import ConsoleChannel
    from compliance.sweep import sweep
    from db.engine import session
    from db.models import Report, Subscriber

    engine = open_engine(settings)
    now = datetime.now(UTC)
    with session(engine) as s:
        years = sorted(s.connection().execute(sa.select(Report.__table__.c.year).distinct()).scalars())
        if s.connection().execute(sa.select(Subscriber.__table__.c.id).where(
                Subscriber.__table__.c.name == "演示督查员")).first() is None:
            s.add(Subscriber(name="演示督查员", channel="console", mode="digest", min_severity="warning",
                             created_at=now))
    print(f"\n合规核查（截至 {now.astimezone(CST):%Y-%m-%d}）：")
    for year in years:
        result = sweep(engine, year, today=now.astimezone(CST).date(), now=now, deadlines=settings.deadlines)
        counts = "，".join(f"{rule} {n}" for rule, n in sorted(result.verdicts.items())) or "无跨报告问题"
        print(f"  {year}年度：报告 {result.reports} 份；{counts}；新增问题 {result.opened}，告警 {result.alerts}")
    print("\n督查员收到的每日汇总（控制台渠道）：\n")
    report = asyncio.run(deliver(engine, now=now, digest=True, channels={"console": ConsoleChannel()}))
    if not report.sent:
        print("（没有新的告警）")


def _print_stored(settings: Settings) -> None:
    from sqlmodel import select

    from checks.model import CST
    from db.engine import make_engine, session
    from db.models import Agency, Document, Finding, Report

    engine = make_engine(settings.database_url)
    with session(engine) as s:
        rows = s.exec(select(Report, Agency, Document)
                      .join(Agency, Report.agency_id == Agency.id)
                      .join(Document, Report.document_id == Document.id)
                      .order_by(Agency.name, Report.year)).all()
        print(f"\n数据库（{redact_url(settings.database_url)}）中的报告：")
        for report, agency, document in rows:
            findings = s.exec(select(Finding).where(Finding.report_id == report.id)).all()
            rules = "、".join(sorted({f.rule for f in findings})) or "无问题"
            published = document.published_at.astimezone(CST).date() if document.published_at else "未知"
            print(f"  {agency.name} {report.year}年度（发布 {published}，{document.format}）：{rules}")


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """把数据库结构升级到最新版本（alembic upgrade head）。"""
    settings = settings_from(config)
    open_engine(settings)  # opens and upgrades, with a clear error when it cannot
    print(f"数据库已是最新结构：{redact_url(settings.database_url)}")


def _register_groups() -> None:
    from xxgk.commands import (agencies, alerts, ask, bot, config_check, export, findings, query, serve,
                               status, worker)
    from xxgk.commands import backup as backup_commands

    app.add_typer(agencies.app, name="agencies")
    app.add_typer(config_check.app, name="config")
    app.command("serve")(serve.serve_command)
    app.command("status")(status.status_command)
    app.command("worker")(worker.worker_command)
    app.add_typer(findings.app, name="findings")
    app.add_typer(alerts.app, name="alerts")
    app.add_typer(query.app, name="query")
    app.command("export")(export.export_command)
    app.command("ask")(ask.ask_command)
    app.command("bot")(bot.bot_command)
    app.command("backup")(backup_commands.backup_command)
    app.command("restore")(backup_commands.restore_command)


_register_groups()

if __name__ == "__main__":  # pragma: no cover
    app()
