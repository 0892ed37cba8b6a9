"""What `xxgk status` reports, read from the store without starting anything: the scheduler's
jobs and their next runs, the last crawl of each site, open findings by severity, and alerts
waiting to be delivered. `gather` returns plain data (the command prints it, or dumps it as JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from db.models import SEVERITIES, AlertDelivery, CrawlRun, TrackedFinding
from xxgk.config import Settings
from xxgk.service.jobstore import read_jobs
from xxgk.service.plan import TZ
from xxgk.service.work import is_interrupted


def _time(value: datetime | None) -> str | None:
    return value.astimezone(TZ).isoformat(timespec="seconds") if value is not None else None


def _crawls(engine: Engine, configured: list[str]) -> list[dict[str, Any]]:
    runs: sa.Table = CrawlRun.__table__  # type: ignore[attr-defined]
    latest = sa.select(sa.func.max(runs.c.id).label("id")).group_by(runs.c.site).subquery()
    with engine.connect() as conn:
        rows = {r.site: r for r in conn.execute(sa.select(runs).join(latest, latest.c.id == runs.c.id))}
    out = []
    for site in configured + sorted(set(rows) - set(configured)):
        r = rows.get(site)
        if r is None:
            out.append({"site": site, "configured": True, "status": "never"})
            continue
        errors = list(r.errors or [])
        status = "interrupted" if is_interrupted(r.status, errors) else r.status
        out.append({
            "site": site, "configured": site in configured, "status": status,
            "started_at": _time(r.started_at), "finished_at": _time(r.finished_at),
            "reports_found": r.reports_found, "reports_new": r.reports_new,
            "reports_changed": r.reports_changed,
            "pages_fetched": r.pages_fetched, "errors": errors,
        })
    return out


def _findings(engine: Engine) -> dict[str, Any]:
    tf: sa.Table = TrackedFinding.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        counts = dict(conn.execute(sa.select(tf.c.severity, sa.func.count()).where(tf.c.state == "open")
                                   .group_by(tf.c.severity)).all())
    by_severity = {severity: int(counts.get(severity, 0)) for severity in SEVERITIES}
    return {"open": by_severity, "total": sum(by_severity.values())}


def _alerts(engine: Engine) -> dict[str, int]:
    from compliance.alerts import waiting_counts
    from db.engine import session

    deliveries: sa.Table = AlertDelivery.__table__  # type: ignore[attr-defined]
    with session(engine) as s:
        waiting = waiting_counts(s)
        failed = s.connection().execute(sa.select(sa.func.count()).select_from(deliveries)
                                        .where(deliveries.c.state == "failed")).scalar_one()
    return {
        "pending": sum(c.get("pending", 0) for c in waiting.values()),
        # cut short while sending: sent again, marked as possible repeats
        "interrupted": sum(c.get("sending", 0) for c in waiting.values()),
        "failed": int(failed),  # given up after max_attempts
        "subscribers": sum(1 for c in waiting.values() if c.get("pending", 0) + c.get("sending", 0)),
    }


def gather(settings: Settings, engine: Engine) -> dict[str, Any]:
    stored = read_jobs(engine)
    jobs = None if stored is None else [
        {"id": j.id, "name": j.name, "next_run": _time(j.next_run), "trigger": j.trigger} for j in stored
    ]
    return {
        "database": engine.url.render_as_string(hide_password=True),
        "jobs": jobs,
        "crawls": _crawls(engine, [s.name for s in settings.sites]),
        "findings": _findings(engine),
        "alerts": _alerts(engine),
    }
