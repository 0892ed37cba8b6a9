"""The scheduler's jobs, kept in the project's own database (table apscheduler_jobs, created by
APScheduler's SQLAlchemyJobStore on first start) so that a restart neither loses nor doubles them.

At start, `sync` makes the store hold exactly the planned jobs (xxgk.service.plan), each under its
stable id: jobs are added with replace_existing, and jobs the configuration no longer asks for are
removed. A job whose run fell due while the service was stopped keeps that run time, so that the
scheduler runs it once at start (coalesce) instead of skipping it; otherwise the next run is
computed afresh from the (possibly changed) trigger.

`read_jobs` reads the table for `xxgk status` without a scheduler and without changing anything.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from xxgk.service.plan import TZ, JobSpec

TABLE = "apscheduler_jobs"


def job_store(engine: Engine) -> Any:  # -> SQLAlchemyJobStore
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    return SQLAlchemyJobStore(engine=engine, tablename=TABLE)


def make_scheduler(engine: Engine, *, misfire_grace_s: float) -> Any:  # -> AsyncIOScheduler
    """An AsyncIOScheduler (Beijing time) on the job store; every job coalesces missed runs into
    one and never runs twice at once."""
    from apscheduler.executors.asyncio import AsyncIOExecutor
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    return AsyncIOScheduler(
        jobstores={"default": job_store(engine)},
        executors={"default": AsyncIOExecutor()},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": int(misfire_grace_s)},
        timezone=TZ,
    )


@dataclass(frozen=True, slots=True)
class SyncResult:
    added: list[str]
    replaced: list[str]
    removed: list[str]
    missed: list[str]  # jobs whose run fell due while stopped: they run once now


def sync(scheduler: Any, specs: list[JobSpec], *, now: datetime | None = None,
         keep: frozenset[str] = frozenset()) -> SyncResult:
    """Make the (started, paused) scheduler's store hold exactly `specs` (and the ids in `keep`)."""
    now = now or datetime.now(UTC)
    stored = {job.id: job for job in scheduler.get_jobs()}
    wanted = {spec.id for spec in specs} | keep
    removed = []
    for job_id in sorted(set(stored) - wanted):
        scheduler.remove_job(job_id)
        removed.append(job_id)
    added, replaced, missed = [], [], []
    for spec in specs:
        old = stored.get(spec.id)
        options: dict[str, Any] = {}
        if old is not None and old.next_run_time is not None and old.next_run_time <= now:
            options["next_run_time"] = old.next_run_time  # missed while stopped: run it once now
            missed.append(spec.id)
        scheduler.add_job(spec.func, trigger=spec.trigger, args=list(spec.args), id=spec.id, name=spec.name,
                          replace_existing=True, **options)
        (replaced if old is not None else added).append(spec.id)
    return SyncResult(added, replaced, removed, missed)


@dataclass(frozen=True, slots=True)
class StoredJob:
    id: str
    name: str
    next_run: datetime | None  # None: paused
    trigger: str
    func: str


def read_jobs(engine: Engine) -> list[StoredJob] | None:
    """The jobs in the store, soonest first; None when the table does not exist (never served)."""
    if not sa.inspect(engine).has_table(TABLE):
        return None
    table = sa.table(TABLE, sa.column("id"), sa.column("next_run_time"), sa.column("job_state"))
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.id, table.c.next_run_time, table.c.job_state)).all()
    jobs = []
    for job_id, next_run, state in rows:
        try:
            data = pickle.loads(state)
            name, trigger = data.get("name") or job_id, str(data.get("trigger", ""))
            func = str(data.get("func", ""))
        except Exception:  # noqa: BLE001 - an unreadable row is shown as such, never removed here
            name, trigger, func = job_id, "?", "?"
        when = None if next_run is None else datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=next_run)
        jobs.append(StoredJob(job_id, name, when.astimezone(TZ) if when else None, trigger, func))
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(jobs, key=lambda j: (j.next_run or far, j.id))
