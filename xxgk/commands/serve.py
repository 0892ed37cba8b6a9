"""`xxgk serve`: run the monitor around the clock (xxgk.service): the Telegram bot, when a token is
configured, and the scheduler's jobs (crawls, sweeps, the digest, alert retries) in one process,
until Ctrl-C or SIGTERM."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from xxgk.cli_common import ConfigOption, err, open_engine, settings_from

log = logging.getLogger("xxgk.service")


def _quiet_check_workers(settings) -> None:  # noqa: ANN001
    """Start the crawler's fork server (the parent of its check workers) with SIGINT ignored, so
    that a Ctrl-C in the terminal, which reaches the whole process group, stops the service the
    orderly way instead of killing the workers mid-file. A no-op without worker processes."""
    import multiprocessing
    import signal
    from multiprocessing import forkserver

    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
    if settings.crawler.check_workers <= 0 or in_memory:  # the crawler starts no workers then
        return
    multiprocessing.get_context("forkserver").set_forkserver_preload(["scraper.article_job"])
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)


def serve_command(
    no_bot: Annotated[bool, typer.Option(
        "--no-bot", help="不运行 Telegram 机器人；告警经控制台、webhook、Apprise 等渠道发送。")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="更详细的日志（含调度器自身的记录）。")] = False,
    log_json: Annotated[bool, typer.Option("--log-json", help="日志每行一个 JSON 对象（默认 key=value）。")] = False,
    config: ConfigOption = None,
) -> None:
    """长期运行监测服务：按计划抓取站点、核查、发送每日汇总和告警，并运行 Telegram 机器人（配置了令牌时），按 Ctrl-C 或发送 SIGTERM 结束。

    计划见配置的 [schedule] 部分（北京时间）：发布季（默认 1月1日至4月15日）每天抓取，其余时间每周抓取；各发布期限次日及每周核查；每天发送汇总；定时重发未送达的告警。任务保存在数据库中，重启不会丢失或重复；停止时正在进行的抓取会记录中断位置，下次启动继续。日志输出到标准错误，每个事件一行。

    退出状态：0 正常停止；1 无法连接 Telegram Bot API；2 配置或数据库错误、机器人令牌无效。
    """
    import asyncio

    from xxgk.service import logs
    from xxgk.service.logs import event
    from xxgk.service.runtime import Service, StartError

    from xxgk.config import scrub, secret_values

    settings = settings_from(config)
    token = settings.bot.token.get_secret_value().strip() if settings.bot.token is not None else ""
    secrets = secret_values(settings)  # the token and the database password: blanked out of every line
    logs.setup(verbose=verbose, as_json=log_json, secrets=secrets)
    run_bot = bool(token) and not no_bot
    if not no_bot and not token:
        event(log, "bot.disabled", reason="no_token", msg="没有配置机器人令牌（XXGK_BOT__TOKEN），只运行监测任务",
              level=logging.WARNING)
    if not settings.sites:
        event(log, "crawl.no_sites", msg="配置中没有要抓取的站点（[[sites]]），不会抓取", level=logging.WARNING)
    engine = open_engine(settings)
    _quiet_check_workers(settings)
    service = Service(settings, engine, bot=run_bot)
    try:
        status = asyncio.run(service.run())
    except StartError as exc:
        err.print(f"错误：{scrub(str(exc), secrets)}", soft_wrap=True, markup=False)
        raise typer.Exit(exc.status) from None
    except Exception:  # noqa: BLE001 - logged as one event (secrets blanked), not a bare traceback
        event(log, "service.failed", level=logging.ERROR, exc_info=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    if status:
        raise typer.Exit(status)
