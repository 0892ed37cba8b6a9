"""Crawl leases: how several `xxgk worker` processes share the crawl through the database.

The unit of work is a *host group*: the configured sites that share a host (a portal and its
departments' columns, say) are crawled together, by one worker, so that the per-host politeness
limits of scraper.http hold across workers. Each group has one `crawl_lease` row:

- `due_at`: a crawl is wanted (set by the scheduler, `xxgk crawl --queue`, or a worker's start);
- `holder` and `expires_at`: the worker crawling it, and until when its lease holds. A worker
  renews its lease while it works; a worker that dies stops renewing and the lease expires, after
  which another worker claims the group and crawls it again (the crawl state per URL makes that
  second crawl fetch only what the first did not store);
- `finished_at`: the end of the last completed crawl.

Claiming takes a due group whose lease is free or expired. On PostgreSQL the candidate rows are
read with `FOR UPDATE SKIP LOCKED`, so that workers claiming at the same moment take different
groups without waiting on each other; the claim itself is a conditional UPDATE on every
database, so two workers can never hold one group, on SQLite as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from db.models import CrawlLease

_T = CrawlLease.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Lease:
    key: str
    holder: str
    expires_at: datetime
    due_at: datetime  # the request this crawl answers: a newer request keeps the group due


def ensure_groups(engine: Engine, keys: Iterable[str]) -> None:
    """Make sure every group has its row (not due)."""
    keys = sorted(set(keys))
    with engine.begin() as conn:
        _insert_missing(conn, keys)


def _insert_missing(conn: sa.Connection, keys: Sequence[str]) -> None:
    """Rows for the keys that have none. ON CONFLICT DO NOTHING (both databases) lets `xxgk crawl
    --queue` and the scheduler add the same group at once."""
    if _is_postgres(conn):
        from sqlalchemy.dialects.postgresql import insert

        conn.execute(insert(_T).from_select(["key"], sa.select(sa.func.unnest(_key_array(keys))))
                     .on_conflict_do_nothing(index_elements=["key"]))
        return
    from sqlalchemy.dialects.sqlite import insert

    conn.execute(insert(_T).on_conflict_do_nothing(index_elements=["key"]), [{"key": k} for k in keys])


def _is_postgres(conn: sa.Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _key_array(keys: Sequence[str]) -> sa.BindParameter:
    """The keys as one PostgreSQL array parameter. A national tick names 75,000 groups and more:
    one IN list of them is past PostgreSQL's 65,535 bound parameters, and chunked statements took
    over a minute there (each chunk's UPDATE scanned every not-yet-due row)."""
    from sqlalchemy.dialects.postgresql import ARRAY

    return sa.bindparam("keys", list(keys), type_=ARRAY(sa.Text))


def request(engine: Engine, keys: Iterable[str], now: datetime) -> int:
    """Ask for a crawl of these groups (creating their rows); a group already due keeps its
    earlier request time. Returns how many groups became due."""
    keys = sorted(set(keys))
    if not keys:
        return 0
    with engine.begin() as conn:
        _insert_missing(conn, keys)
        if _is_postgres(conn):
            result = conn.execute(sa.update(_T).where(_T.c.key == sa.any_(_key_array(keys)), _T.c.due_at.is_(None))
                                  .values(due_at=now))
        else:  # one prepared statement, executed per key by sqlite3's own loop
            result = conn.execute(sa.update(_T).where(_T.c.key == sa.bindparam("k"), _T.c.due_at.is_(None))
                                  .values(due_at=sa.bindparam("now")), [{"k": k, "now": now} for k in keys])
        return result.rowcount or 0


def claim(engine: Engine, holder: str, now: datetime, lease_s: float,
          only: Sequence[str] | None = None, *, limit: int = 1) -> list[Lease]:
    """Take up to `limit` due groups whose lease is free or expired (the longest-waiting first)."""
    free = sa.or_(_T.c.holder.is_(None), _T.c.expires_at < now)
    candidates = (sa.select(_T.c.key, _T.c.due_at).where(_T.c.due_at.is_not(None), _T.c.due_at <= now, free)
                  .order_by(_T.c.due_at, _T.c.key).limit(limit + 8))
    if only is not None:
        candidates = candidates.where(_T.c.key.in_(list(only)))
    expires = now + timedelta(seconds=lease_s)
    taken: list[Lease] = []
    with engine.begin() as conn:
        if _is_postgres(conn):
            candidates = candidates.with_for_update(skip_locked=True)
        for key, due_at in conn.execute(candidates).all():
            if conn.execute(
                sa.update(_T).where(_T.c.key == key, free).values(holder=holder, expires_at=expires, started_at=now)
            ).rowcount:
                taken.append(Lease(key, holder, expires, due_at))
                if len(taken) == limit:
                    break
    return taken


def renew(engine: Engine, lease: Lease, now: datetime, lease_s: float) -> Lease | None:
    """Extend a lease still held; None if it was lost (expired and taken by another worker)."""
    expires = now + timedelta(seconds=lease_s)
    with engine.begin() as conn:
        kept = conn.execute(
            sa.update(_T).where(_T.c.key == lease.key, _T.c.holder == lease.holder).values(expires_at=expires)
        ).rowcount
    return Lease(lease.key, lease.holder, expires, lease.due_at) if kept else None


def finish(engine: Engine, lease: Lease, now: datetime, *, completed: bool) -> bool:
    """Give the group back. A completed crawl clears the request it answered (a newer request
    made during the crawl stays due); an unfinished one leaves the group due for another worker.
    False if the lease had been lost meanwhile."""
    values: dict[str, object] = {"holder": None, "expires_at": None}
    if completed:
        values["finished_at"] = now
        values["due_at"] = sa.case((_T.c.due_at <= lease.due_at, None), else_=_T.c.due_at)
    with engine.begin() as conn:
        return bool(conn.execute(
            sa.update(_T).where(_T.c.key == lease.key, _T.c.holder == lease.holder).values(**values)
        ).rowcount)


def any_due(engine: Engine, keys: Sequence[str] | None = None) -> bool:
    """Whether a crawl is still wanted of any of these groups (claimed or not)."""
    query = sa.select(sa.func.count()).select_from(_T).where(_T.c.due_at.is_not(None))
    if keys is not None:
        query = query.where(_T.c.key.in_(list(keys)))
    with engine.connect() as conn:
        return bool(conn.execute(query).scalar_one())


def pending(engine: Engine) -> list[dict[str, object]]:
    """Every group's state, for `xxgk status`."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(_T).order_by(_T.c.key)).mappings().all()
    return [dict(r) for r in rows]
