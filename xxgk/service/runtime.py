"""The running service: the Telegram bot (optional) and the scheduler in one asyncio loop.

Start: the bot is initialised and polls (its Bot also sends the telegram alerts); the scheduler
starts paused on the job store, the store is synced with the plan (xxgk.service.jobstore.sync),
a one-shot crawl is added for sites never crawled and crawls cut short, and the scheduler resumes.

Work: every job goes through `run_job` (tracked, timed, logged; an error is logged, never fatal).
Crawls of the same site never overlap (nor with a /crawl the bot is running); sweeps run one at a
time in a thread, deliveries one at a time (compliance.alerts.deliver must not run twice at once).
A crawl is followed by a sweep of the years it touched and the latest ones, and by the delivery
of the immediate alerts that opened.

Stop (SIGINT or SIGTERM): the scheduler is paused (nothing new starts), crawls in flight are
cancelled (the crawl records where each site stopped: xxgk.service.work), sweeps and deliveries
in flight get `shutdown_timeout_s` to finish, then are cancelled; the bot stops polling. A second
signal cancels at once whatever is still running. The exit status is 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from xxgk.config import Settings
from xxgk.service import plan, work
from xxgk.service.leader import Leadership
from xxgk.service.logs import event

log = logging.getLogger("xxgk.service")

_CURRENT: Service | None = None
BOT_CRAWL_KEY = "xxgk.crawl"  # where bot/handlers/crawl.py keeps the /crawl in progress


def current() -> Service:
    if _CURRENT is None:
        raise RuntimeError("xxgk serve is not running in this process")
    return _CURRENT


class StartError(Exception):
    """The service could not start: a Chinese message and an exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class Service:
    def __init__(self, settings: Settings, engine: Engine, *, bot: bool) -> None:
        self.settings = settings
        self.engine = engine
        self.bot_enabled = bot
        self.application: Any = None
        self.scheduler: Any = None
        self.channels: dict[str, Any] | None = None
        self.stopping = False
        self.forced = False
        self.crawling: set[str] = set()
        self.crawl_tasks: set[asyncio.Task[Any]] = set()
        self.job_tasks: dict[asyncio.Task[Any], str] = {}
        self._stop: asyncio.Event | None = None
        self._sweep_lock: asyncio.Lock | None = None
        self._deliver_lock: asyncio.Lock | None = None
        self.leader = Leadership(engine)
        self.leadership_lost = False

    # ---- running -------------------------------------------------------------------------------

    async def run(self) -> int:
        global _CURRENT
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._sweep_lock, self._deliver_lock = asyncio.Lock(), asyncio.Lock()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal, sig)
        _CURRENT = self
        try:
            from compliance.channels import use_settings

            # The channels' settings (without the bot, a telegram subscriber is served by a Bot of
            # its own), and what deliver() reads of the configuration.
            use_settings(self.settings)
            if not await self._become_leader():
                return 0  # stopped while on standby
            if self.bot_enabled:
                await self._start_bot()
            watchdog = asyncio.create_task(self._watch_leadership())
            try:
                await self._start_scheduler()
                await self._stop.wait()
            finally:  # also when the start failed: the bot, if running, stops polling
                watchdog.cancel()
                await self._shutdown()
            return 1 if self.leadership_lost else 0
        finally:
            self.leader.release()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            _CURRENT = None

    async def _become_leader(self) -> bool:
        """Wait on standby until this process holds the leadership (xxgk.service.leader), or until
        it is stopped (False)."""
        assert self._stop is not None
        poll = self.settings.schedule.standby_poll_s
        announced = False
        while not await asyncio.to_thread(self.leader.try_acquire):
            if not announced:
                event(log, "service.standby", msg="另一个 xxgk serve 进程正在运行调度器，本进程待命，它停止后接管",
                      poll_s=poll)
                announced = True
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=poll)
                return False
            except TimeoutError:
                continue
        if announced:
            event(log, "service.takeover", msg="已接管调度器")
        return True

    async def _watch_leadership(self) -> None:
        """Stop (exit status 1) if the leadership is lost, e.g. the database connection holding
        it broke: another process may be leading by now."""
        while True:
            await asyncio.sleep(self.settings.schedule.standby_poll_s)
            if not await asyncio.to_thread(self.leader.still_held):
                self.leadership_lost = True
                event(log, "service.leadership_lost", level=logging.ERROR,
                      msg="失去调度器锁（数据库连接中断），停止本进程")
                self.request_stop("leadership_lost")
                return

    def request_stop(self, why: str = "request") -> None:
        """Stop as a signal would (tests, embedding)."""
        self._on_signal(why)

    def _on_signal(self, sig: signal.Signals | str) -> None:
        name = sig.name if isinstance(sig, signal.Signals) else sig
        if not self.stopping:
            self.stopping = True
            event(log, "service.stopping", signal=name, running=sorted(self.job_tasks.values()))
            assert self._stop is not None
            self._stop.set()
            return
        if not self.forced:
            self.forced = True
            event(log, "service.force_stop", signal=name, cancelled=sorted(self.job_tasks.values()),
                  level=logging.WARNING)
            for task in list(self.job_tasks):
                task.cancel()

    async def _start_bot(self) -> None:
        from telegram import Update
        from telegram.error import InvalidToken, NetworkError, TelegramError

        from bot.app import build_application
        from compliance.channels import TelegramChannel

        application = build_application(self.settings, self.engine)
        try:
            await application.initialize()  # getMe: checks the token
        except InvalidToken:
            raise StartError("Telegram 不接受这个机器人令牌，请检查 XXGK_BOT__TOKEN。", 2) from None
        except NetworkError as exc:
            where = self.settings.bot.base_url or "https://api.telegram.org"
            raise StartError(f"无法连接 Telegram Bot API（{where}）：{exc}", 1) from None
        except TelegramError as exc:
            raise StartError(f"Telegram Bot API 出错：{exc}", 1) from None
        self.application = application
        if application.post_init is not None:
            await application.post_init(application)
        assert application.updater is not None
        await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        await application.start()
        bot = self.settings.bot
        token = bot.token.get_secret_value().strip() if bot.token is not None else None
        # Alerts to telegram subscribers go through the bot's own Bot (its rate limiter, its connection).
        self.channels = {"telegram": TelegramChannel(token, base_url=bot.base_url, bot=application.bot)}
        event(log, "bot.started", username=application.bot.username, admins=len(bot.admins))

    async def _stop_bot(self) -> None:
        application = self.application
        if application is None:
            return
        try:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            if application.post_stop is not None:
                await application.post_stop(application)
            await application.shutdown()
        except Exception:  # noqa: BLE001 - stopping must finish
            event(log, "bot.stop_failed", level=logging.WARNING, exc_info=True)
        event(log, "bot.stopped")

    async def _start_scheduler(self) -> None:
        from xxgk.service.jobstore import make_scheduler, sync

        cfg = self.settings.schedule
        self.scheduler = make_scheduler(self.engine, misfire_grace_s=cfg.misfire_grace_hours * 3600)
        self.scheduler.start(paused=True)
        now = datetime.now(UTC)
        result = await asyncio.to_thread(sync, self.scheduler, plan.plan(self.settings), now=now)
        names = [s.name for s in self.settings.sites]
        new, cut = await asyncio.to_thread(work.catch_up_sites, self.engine, names)
        new = new if cfg.crawl_new_sites_at_start else []
        cut = cut if cfg.resume_interrupted else []
        if new or cut:
            spec = plan.start_crawl(new + cut, len(new), len(cut), now)
            self.scheduler.add_job(spec.func, trigger=spec.trigger, args=list(spec.args), id=spec.id,
                                   name=spec.name, replace_existing=True)
        self.scheduler.resume()
        event(log, "service.started", msg="监测服务已启动，按 Ctrl-C 结束", bot=self.application is not None,
              sites=len(names),
              database=self.engine.url.render_as_string(hide_password=True),
              added=result.added, replaced=result.replaced, removed=result.removed, missed=result.missed,
              new_sites=new, resumed_sites=cut)
        for job in self.scheduler.get_jobs():
            when = job.next_run_time and job.next_run_time.astimezone(plan.TZ).isoformat(timespec="seconds")
            event(log, "job.scheduled", job=job.id, next_run=when, name=job.name)

    async def _shutdown(self) -> None:
        started = time.monotonic()
        self.stopping = True
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.pause()  # nothing new starts
        for task in list(self.crawl_tasks):
            task.cancel()  # the crawl records where each site stopped
        pending = set(self.job_tasks)
        if pending:
            _, pending = await asyncio.wait(pending, timeout=self.settings.schedule.shutdown_timeout_s)
        if pending:
            event(log, "service.cancel_in_flight", jobs=sorted(self.job_tasks.get(t, "?") for t in pending),
                  level=logging.WARNING)
            for task in pending:
                task.cancel()
            await asyncio.wait(pending, timeout=10)
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler.shutdown runs on the loop's next turn
        await self._stop_bot()
        event(log, "service.stopped", seconds=round(time.monotonic() - started, 3))

    # ---- jobs ----------------------------------------------------------------------------------

    async def run_job(self, job_id: str, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run one job's work: tracked for the stop, timed and logged; an error is logged."""
        if self.stopping:
            return
        task = asyncio.current_task()
        assert task is not None
        self.job_tasks[task] = job_id
        started = time.monotonic()
        event(log, "job.start", job=job_id, level=logging.DEBUG)
        try:
            await fn(*args)
        except asyncio.CancelledError:
            event(log, "job.cancelled", job=job_id, seconds=round(time.monotonic() - started, 3),
                  level=logging.WARNING)
            if not self.stopping:
                raise
        except Exception:  # noqa: BLE001 - one job's failure never stops the service
            event(log, "job.failed", job=job_id, level=logging.ERROR, exc_info=True)
        else:
            event(log, "job.done", job=job_id, seconds=round(time.monotonic() - started, 3))
        finally:
            self.job_tasks.pop(task, None)

    async def crawl_group(self, group: str) -> None:
        groups = plan.crawl_groups(self.settings)
        if group not in groups:
            event(log, "crawl.no_sites", job=group, level=logging.WARNING)
            return
        await self.crawl_names(groups[group][1])

    def _bot_crawling(self) -> bool:
        if self.application is None:
            return False
        job = self.application.bot_data.get(BOT_CRAWL_KEY)
        task = getattr(job, "task", None)
        return task is not None and not task.done()

    async def crawl_names(self, names: list[str]) -> None:
        """Crawl the configured sites `names`, then sweep and send the immediate alerts."""
        by_name = {s.name: s for s in self.settings.sites}
        if self.settings.schedule.crawl_by_workers:  # `xxgk worker` processes crawl them
            queued = await asyncio.to_thread(work.queue_crawl, self.engine, [by_name[n] for n in names if n in by_name])
            event(log, "crawl.queued", sites=len(names), groups=queued)
            return
        if self._bot_crawling():
            event(log, "crawl.skipped", reason="bot_crawl_running", sites=len(names), level=logging.WARNING)
            return
        busy = [n for n in names if n in self.crawling]
        if busy:
            event(log, "crawl.skipped", reason="already_crawling", sites=busy, level=logging.WARNING)
        sites = [by_name[n] for n in names if n in by_name and n not in self.crawling]
        if not sites:
            return
        taken = {s.name for s in sites}
        self.crawling |= taken
        started = datetime.now(UTC)
        clock = time.monotonic()
        event(log, "crawl.start", sites=len(sites))
        def progress(site: str, done: int, total: int) -> None:
            if done == 0 or done == total:  # listed; every article seen to
                event(log, "crawl.progress", site=site, done=done, total=total, level=logging.DEBUG)

        task = asyncio.create_task(work.crawl_sites(self.settings, self.engine, sites, progress=progress))
        self.crawl_tasks.add(task)
        try:
            results = await task
        except asyncio.CancelledError:
            me = asyncio.current_task()
            if task.cancelled() and me is not None and not me.cancelling():
                event(log, "crawl.interrupted", sites=len(sites), seconds=round(time.monotonic() - clock, 3),
                      level=logging.WARNING)
                return  # the crawl recorded where each site stopped
            raise
        finally:
            self.crawl_tasks.discard(task)
            self.crawling -= taken
        for r in results:
            event(log, "crawl.site", level=logging.INFO if r.status == "ok" else logging.WARNING, site=r.site,
                  status=r.status, reports=r.reports_found, new=r.reports_new, changed=r.reports_changed,
                  pages=r.pages_fetched, not_modified=r.not_modified, bytes=r.bytes_received,
                  errors=len(r.errors), error=r.errors[0] if r.errors else None)
        event(log, "crawl.done", sites=len(results), ok=sum(r.status == "ok" for r in results),
              partial=sum(r.status == "partial" for r in results),
              failed=sum(r.status == "failed" for r in results),
              new=sum(r.reports_new for r in results), changed=sum(r.reports_changed for r in results),
              seconds=round(time.monotonic() - clock, 3))
        if self.stopping or not self.settings.schedule.sweep_after_crawl:
            return
        years = await asyncio.to_thread(work.touched_years, self.engine, started)
        await self.sweep(years | set(self._latest_years()))
        await self.deliver(False)

    def _latest_years(self) -> list[int]:
        from checks.model import CST

        return work.latest_years(datetime.now(CST).date(), self.settings.schedule.sweep_years)

    async def scheduled_sweep(self) -> None:
        await self.sweep(self._latest_years())
        await self.deliver(False)

    async def sweep(self, years: set[int] | list[int]) -> None:
        assert self._sweep_lock is not None
        if self.stopping:
            return
        async with self._sweep_lock:
            now = datetime.now(UTC)
            results = await asyncio.to_thread(work.sweep_years, self.settings, self.engine, years, now=now)
        for r in results:
            event(log, "sweep.year", year=r.year, as_of=r.as_of.isoformat(), reports=r.reports,
                  registered=r.registered, opened=r.opened, resolved=r.resolved, alerts=r.alerts,
                  verdicts=",".join(f"{k}:{v}" for k, v in sorted(r.verdicts.items())) or None)

    async def deliver(self, digest: bool) -> None:
        from compliance.alerts import deliver

        assert self._deliver_lock is not None
        async with self._deliver_lock:
            report = await deliver(self.engine, now=datetime.now(UTC), channels=self.channels, digest=digest,
                                   max_attempts=self.settings.schedule.max_attempts)
        kind = "digest" if digest else "immediate"
        for o in report.errors:
            event(log, "alerts.failed", level=logging.WARNING, kind=kind, subscriber=o.subscriber,
                  channel=o.channel, alerts=len(o.delivery_ids), gave_up=o.failed, error=o.error)
        for name in report.skipped_subscribers:
            event(log, "alerts.skipped", level=logging.WARNING, kind=kind, subscriber=name,
                  reason="channel_unavailable")
        quiet = not (report.sent or report.errors or report.cancelled or report.deferred)
        event(log, "alerts.sent", level=logging.DEBUG if quiet else logging.INFO, kind=kind,
              messages=len(report.sent), alerts=report.sent_count,
              repeats=len(report.repeats), failed=len(report.errors), cancelled=report.cancelled,
              deferred=report.deferred)

    async def retry(self) -> None:
        await self.deliver(False)
        if await asyncio.to_thread(_digest_to_retry, self.engine):
            await self.deliver(True)


def _digest_to_retry(engine: Engine) -> bool:
    """Whether a digest failed (or was cut short) and is waiting: a digest delivery pending after
    an attempt, or left sending."""
    import sqlalchemy as sa

    from db.engine import session
    from db.models import AlertDelivery, Subscriber

    d, s_ = AlertDelivery.__table__, Subscriber.__table__  # type: ignore[attr-defined]
    with session(engine) as s:
        row = s.connection().execute(
            sa.select(d.c.id).join(s_, s_.c.id == d.c.subscriber_id)
            .where(s_.c.mode == "digest", s_.c.active == sa.true(),
                   sa.or_(d.c.state == "sending", sa.and_(d.c.state == "pending", d.c.attempts > 0)))
            .limit(1)).first()
    return row is not None
