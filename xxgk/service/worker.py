"""`xxgk worker`: a crawl worker that shares the crawl with other workers through the database.

A worker claims up to `worker_batch` due host groups at a time (db.leases), crawls their sites
together with the shared crawl (xxgk.service.work.crawl_sites, which records where each site
stopped if cut short), renews its leases every third of `lease_s` while it works, and gives the
groups back when done. If its lease
is lost (the worker stalled past the lease and another took the group over), it abandons that
crawl: two workers never crawl one group at once for longer than a renewal interval.

A worker that is killed stops renewing; its lease expires and another worker crawls the group
again. What the dead worker stored stays stored (reports are saved whole, in one transaction,
and identified by content), and the crawl state it had not saved makes the next worker fetch
those pages again: nothing is lost, nothing is stored twice.

SIGINT/SIGTERM: the crawl in flight is cut short and recorded, the group is given back still due
(another worker may take it at once), and the worker exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from db import leases
from scraper.groups import host_groups
from xxgk.config import Settings
from xxgk.service import work
from xxgk.service.logs import event

log = logging.getLogger("xxgk.worker")


def worker_name() -> str:
    """host:pid:random, unique across machines and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(slots=True)
class WorkerStats:
    groups: int = 0
    sites: int = 0
    reports_new: int = 0
    lost: int = 0
    failed: int = 0
    done: list[str] = field(default_factory=list)


class Worker:
    def __init__(self, settings: Settings, engine: Engine, *, name: str | None = None,
                 poll_s: float = 5.0, once: bool = False) -> None:
        self.settings = settings
        self.engine = engine
        self.name = name or worker_name()
        self.poll_s = poll_s
        self.once = once
        self.lease_s = settings.schedule.lease_s
        self.batch = settings.schedule.worker_batch
        self.groups = host_groups(settings.sites)
        self.stats = WorkerStats()
        self._stop: asyncio.Event | None = None

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stop.set)
        try:
            await asyncio.to_thread(leases.ensure_groups, self.engine, self.groups)
            event(log, "worker.started", worker=self.name, groups=len(self.groups), lease_s=self.lease_s)
            while not self._stop.is_set():
                batch = await asyncio.to_thread(leases.claim, self.engine, self.name, datetime.now(UTC),
                                                self.lease_s, list(self.groups), limit=self.batch)
                if not batch:
                    # --once: done when no group is due any more (one another worker holds may
                    # still come back to the queue if that worker dies: wait for it).
                    if self.once and not await asyncio.to_thread(leases.any_due, self.engine, list(self.groups)):
                        break
                    try:
                        await asyncio.wait_for(self._stop.wait(), timeout=self.poll_s)
                    except TimeoutError:
                        pass
                    continue
                await self._crawl(batch)
            event(log, "worker.stopped", worker=self.name, groups=self.stats.groups, sites=self.stats.sites,
                  new=self.stats.reports_new, lost=self.stats.lost, failed=self.stats.failed)
            return 0
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    async def _crawl(self, batch: list[leases.Lease]) -> None:
        """Crawl the claimed groups together (one crawler: its concurrency spans them, its per-host
        limits hold within each), renewing every lease; give each group back at the end."""
        assert self._stop is not None
        keys = [lease.key for lease in batch]
        sites = [site for key in keys for site in self.groups[key]]
        event(log, "worker.claimed", worker=self.name, groups=keys, sites=[s.name for s in sites])
        task = asyncio.create_task(work.crawl_sites(self.settings, self.engine, sites, why="工作进程停止"))
        stop = asyncio.create_task(self._stop.wait())
        try:
            while not task.done():
                await asyncio.wait({task, stop}, timeout=self.lease_s / 3, return_when=asyncio.FIRST_COMPLETED)
                if task.done():
                    break
                if stop.done():  # SIGTERM: cut the crawl short (it records where it stopped)
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                    break
                now = datetime.now(UTC)
                renewed = [await asyncio.to_thread(leases.renew, self.engine, lease, now, self.lease_s)
                           for lease in batch]
                lost = [lease.key for lease, kept in zip(batch, renewed) if kept is None]
                batch = [kept for kept in renewed if kept is not None]
                if lost:  # stalled past the lease: another worker has those groups now
                    self.stats.lost += len(lost)
                    event(log, "worker.lease_lost", level=logging.WARNING, worker=self.name, groups=lost)
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                    break
        finally:
            stop.cancel()
        completed = task.done() and not task.cancelled() and task.exception() is None
        if task.done() and not task.cancelled() and task.exception() is not None:
            self.stats.failed += 1
            event(log, "worker.crawl_failed", level=logging.ERROR, worker=self.name, groups=keys,
                  exc_info=task.exception())
        now = datetime.now(UTC)
        for lease in batch:
            await asyncio.to_thread(leases.finish, self.engine, lease, now, completed=completed)
        if completed:
            results = task.result()
            self.stats.groups += len(batch)
            self.stats.sites += len(results)
            self.stats.reports_new += sum(r.reports_new for r in results)
            self.stats.done.extend(lease.key for lease in batch)
            event(log, "worker.done", worker=self.name, groups=[lease.key for lease in batch], sites=len(results),
                  new=sum(r.reports_new for r in results),
                  failed=sum(r.status == "failed" for r in results))
