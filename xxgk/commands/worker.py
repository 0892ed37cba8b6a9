"""`xxgk worker`: a crawl worker process (xxgk.service.worker). Run any number of them, on one
machine or several sharing a PostgreSQL store; `xxgk serve` with `[schedule] crawl_by_workers`
(or `xxgk crawl --queue`) queues the crawls they share."""

from __future__ import annotations

import logging
from typing import Annotated, Optional

import typer

from xxgk.cli_common import ConfigOption, err, open_engine, settings_from
from xxgk.commands.serve import _quiet_check_workers

log = logging.getLogger("xxgk.worker")


def worker_command(
    once: Annotated[bool, typer.Option("--once", help="没有待抓取的站点组时退出（默认一直等待新任务）。")] = False,
    name: Annotated[Optional[str], typer.Option("--name", help="本工作进程的名称（默认 主机名:进程号:随机串）。")] = None,
    poll: Annotated[float, typer.Option("--poll", help="没有任务时每隔几秒查看一次。", min=0.1)] = 5.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="更详细的日志。")] = False,
    log_json: Annotated[bool, typer.Option("--log-json", help="日志每行一个 JSON 对象（默认 key=value）。")] = False,
    config: ConfigOption = None,
) -> None:
    """抓取工作进程：从数据库领取待抓取的站点组（共用主机的站点为一组）并抓取，可在多台机器上同时运行多个。

    每组同一时间只由一个进程抓取（租约，[schedule] lease_s 秒，工作中定时续期）；进程退出或崩溃后租约到期，其他进程接手，已保存的报告不会丢失或重复。任务由 xxgk serve（[schedule] crawl_by_workers = true）或 xxgk crawl --queue 排入。Ctrl-C 或 SIGTERM：中断当前抓取并记录位置，把该组交还给其他进程，然后退出。

    退出状态：0 正常结束；2 配置或数据库错误。
    """
    import asyncio

    from xxgk.service import logs
    from xxgk.service.worker import Worker

    settings = settings_from(config)
    logs.setup(verbose=verbose, as_json=log_json, secrets=[])
    if not settings.sites:
        err.print("错误：配置中没有要抓取的站点（[[sites]]）；工作进程只抓取配置中的站点")
        raise typer.Exit(2)
    engine = open_engine(settings)
    _quiet_check_workers(settings)
    try:
        asyncio.run(Worker(settings, engine, name=name, poll_s=poll, once=once).run())
    finally:
        engine.dispose()
