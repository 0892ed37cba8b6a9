"""/crawl [站点…] (admins): crawl the configured sites (settings.sites) in the background.

The crawl (xxgk.service.work.crawl_sites, as `xxgk crawl` and `xxgk serve` run it) is a task in the bot's own event loop;
the command answers at once with a progress message, edited as the crawl goes (at most once every
EDIT_INTERVAL seconds, and only when its text changed: Telegram refuses an edit that changes
nothing) and at the end into what was found per site. One crawl at a time per bot: a second
/crawl while one runs says when it started and how far it got. A crawl that raises ends with a
message saying why; either way the lock is released. When the bot stops, a running crawl is
cancelled: the sites finished are saved, and the next crawl goes on with the rest.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from telegram import Bot, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, ContextTypes

from bot.handlers.common import command_args
from bot.services import services
from bot.text import escaped as escape  # site names and errors: invisible characters dropped, escaped
from checks.model import CST

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from scraper.crawl import SiteResult
    from xxgk.config import SiteConfig, Settings

log = logging.getLogger(__name__)

CRAWL_USAGE = "/crawl [站点…]，例如 /crawl（全部站点）或 /crawl lianjiang-trs"
EDIT_INTERVAL = 2.5  # seconds between two edits of the progress message
TICK = 0.5  # how often the progress is looked at
MESSAGE_LIMIT = 3900  # characters of a message (Telegram's limit is 4096)
SITES_SHOWN = 8  # sites listed in the progress message
SITES_LISTED = 30  # configured sites named when an unknown one is asked for
ERRORS_SHOWN = 2  # errors listed per site in the summary
ERROR_WIDTH = 80  # characters of an error
STATUS_NAMES = {"ok": "成功", "partial": "部分失败", "failed": "失败"}
_KEY = "xxgk.crawl"


@dataclass(slots=True)
class CrawlJob:
    """The crawl running now: kept in bot_data while it runs (the lock)."""

    sites: list[str]
    started: datetime  # Beijing time
    chat_id: int
    message_id: int | None = None
    known: dict[str, tuple[int, int]] = field(default_factory=dict)  # site → (articles done, known)
    task: asyncio.Task[Any] | None = None
    last_text: str = ""
    last_edit: float = 0.0

    def hook(self, site: str, done: int, total: int) -> None:
        """The crawler's progress hook (called in the event loop)."""
        self.known[site] = (done, total)

    def elapsed(self) -> str:
        return duration((datetime.now(CST) - self.started).total_seconds())

    def counts(self) -> str:
        """「文章 30/45 篇，站点 1/2 个」: articles done of those known, sites done of all."""
        done = sum(d for d, _ in self.known.values())
        total = sum(t for _, t in self.known.values())
        finished = sum(1 for d, t in self.known.values() if d >= t)
        return f"文章 {done}/{total} 篇，站点 {finished}/{len(self.sites)} 个"

    def progress_text(self) -> str:
        lines = [f"正在抓取 {len(self.sites)} 个站点（开始于 {self.started:%H:%M:%S}，已用时 {self.elapsed()}）"]
        if not self.known:
            lines.append("正在读取栏目列表…")
            return "\n".join(lines)
        lines.append(self.counts())
        busy = [(s, d, t) for s, (d, t) in self.known.items() if d < t]
        for site, done, total in busy[:SITES_SHOWN]:
            lines.append(f"• {site}：{done}/{total}")
        if len(busy) > SITES_SHOWN:
            lines.append(f"……另有 {len(busy) - SITES_SHOWN} 个站点正在抓取")
        return "\n".join(lines)


def duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} 秒"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} 分 {seconds} 秒"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} 小时 {minutes} 分"


def _short(text: str, width: int = ERROR_WIDTH) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def summary_text(job: CrawlJob, results: list[SiteResult]) -> str:
    """The final message: per site its status, reports found, new and changed, its first errors;
    failed sites first; cut to one message."""
    failed = [r for r in results if r.status != "ok"]
    head = "抓取完成" if not failed else f"抓取结束，{len(failed)} 个站点未全部成功"
    lines = [f"{head}：{len(results)} 个站点，用时 {job.elapsed()}",
             f"合计：报告 {sum(r.reports_found for r in results)} 份，新增 {sum(r.reports_new for r in results)}，"
             f"变更 {sum(r.reports_changed for r in results)}"]
    order = sorted(results, key=lambda r: (r.status == "ok", r.site))
    used = sum(len(line) + 1 for line in lines)
    for i, r in enumerate(order):
        line = (f"• {r.site}：{STATUS_NAMES.get(r.status, r.status)}，报告 {r.reports_found} 份，"
                f"新增 {r.reports_new}，变更 {r.reports_changed}")
        if r.errors:
            shown = "；".join(_short(e) for e in r.errors[:ERRORS_SHOWN])
            more = f" 等 {len(r.errors)} 个" if len(r.errors) > ERRORS_SHOWN else ""
            line += f"\n  错误{more}：{shown}"
        if used + len(line) + 1 > MESSAGE_LIMIT - 40:
            lines.append(f"……另有 {len(order) - i} 个站点（xxgk crawl 或数据库的 crawl_run 表有完整结果）")
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def running_job(holder: Application | ContextTypes.DEFAULT_TYPE) -> CrawlJob | None:  # type: ignore[type-arg]
    """The crawl running now, if any (an Application or a handler's context)."""
    return holder.bot_data.get(_KEY)  # type: ignore[no-any-return]


async def _edit(bot: Bot, job: CrawlJob, text: str, *, final: bool = False) -> None:
    """Edit the progress message to `text` unless it says that already; the final text is sent
    as a new message when the edit fails (the message was deleted, say)."""
    if text == job.last_text or job.message_id is None:
        return
    try:
        await bot.edit_message_text(escape(text), chat_id=job.chat_id, message_id=job.message_id)
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            job.last_text = text
            return
        if not final:
            log.warning("could not edit the crawl's progress message: %s", exc)
            return
        with suppress(TelegramError):
            await bot.send_message(job.chat_id, escape(text))
    except TelegramError as exc:
        log.warning("could not edit the crawl's progress message: %s", exc)
        if final:
            with suppress(TelegramError):
                await bot.send_message(job.chat_id, escape(text))
        return
    job.last_text = text
    job.last_edit = time.monotonic()


async def run_job(application: Application, job: CrawlJob, settings: Settings,  # type: ignore[type-arg]
                  engine: Engine, sites: list[SiteConfig]) -> None:
    """The crawl and its progress message, to the end; the lock is released whatever happens. The
    crawl is the one `xxgk crawl` and the service run (xxgk.service.work.crawl_sites): cut short,
    it records where each site stopped."""
    from xxgk.service.work import crawl_sites

    bot = application.bot
    crawl = asyncio.ensure_future(crawl_sites(settings, engine, sites, progress=job.hook, why="机器人停止"))
    try:
        while not crawl.done():
            await asyncio.wait({crawl}, timeout=TICK)
            if crawl.done():
                break
            if not application.running:  # the bot is stopping: don't keep it waiting for the crawl
                crawl.cancel()
                break
            if time.monotonic() - job.last_edit >= EDIT_INTERVAL:
                await _edit(bot, job, job.progress_text())
        try:
            results = await crawl
        except asyncio.CancelledError:
            if not crawl.cancelled():
                raise  # this task itself was cancelled
            text = (f"抓取已中断（机器人正在停止），用时 {job.elapsed()}：已完成的站点结果已保存，"
                    "下次抓取会继续未完成的部分。")
        except Exception as exc:  # noqa: BLE001 - the admin is told why; the traceback is logged
            from xxgk.config import scrub, secret_values

            log.exception("the crawl failed")
            why = scrub(f"{type(exc).__name__}: {exc}", secret_values(settings))  # no token, no password
            text = f"抓取失败（用时 {job.elapsed()}）：{_short(why, 300)}"
        else:
            text = summary_text(job, results)
        await _edit(bot, job, text, final=True)
    finally:
        if not crawl.done():
            crawl.cancel()
        if application.bot_data.get(_KEY) is job:
            del application.bot_data[_KEY]


async def crawl_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/crawl [站点…]: crawl the configured sites (all, or those named) in the background."""
    message = update.effective_message
    if message is None:
        return
    svc = services(context)
    settings = svc.settings
    configured = list(settings.sites) if settings is not None else []
    if settings is None or not configured:
        await message.reply_text("配置中没有要抓取的站点（[[sites]]），请先在配置文件中添加。")
        return
    names = list(dict.fromkeys(command_args(context)))
    known = {s.name for s in configured}
    unknown = [n for n in names if n not in known]
    if unknown:
        available = "、".join(s.name for s in configured[:SITES_LISTED])
        if len(configured) > SITES_LISTED:
            available += f" 等 {len(configured)} 个"
        await message.reply_text(escape(f"配置中没有这些站点：{'、'.join(unknown)}（可用：{available}）\n"
                                        f"用法：{CRAWL_USAGE}"))
        return
    sites = [s for s in configured if not names or s.name in names]

    running = running_job(context)
    if running is not None:
        await message.reply_text(escape(
            f"已有抓取在进行中（开始于 {running.started:%H:%M:%S}，进度 {running.counts()}），"
            "请等它结束后再试。"))
        return
    job = CrawlJob([s.name for s in sites], datetime.now(CST), message.chat_id)
    context.bot_data[_KEY] = job  # taken before the first await: the lock
    try:
        job.last_text = job.progress_text()
        sent = await message.reply_text(escape(job.last_text))
        job.message_id = sent.message_id
        job.last_edit = time.monotonic()
        job.task = context.application.create_task(run_job(context.application, job, settings, svc.engine, sites),
                                                   name="xxgk-crawl")
    except BaseException:
        if context.bot_data.get(_KEY) is job:
            del context.bot_data[_KEY]
        raise
