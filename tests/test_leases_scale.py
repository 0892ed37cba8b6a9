"""Crawl leases at national scale: a scheduler tick that queues every host group of 150,000
configured sites (75,000 groups and more) in one call. One IN list of that many keys is past
PostgreSQL's 65,535 bound parameters per statement (the tick failed there before the keys were
sent in chunks). Runs on SQLite and, in CI's second pass, on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from db import leases
from db.models import CrawlLease

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
N = 70_000  # more keys than one PostgreSQL statement can bind


def test_a_tick_queues_more_groups_than_one_statement_can_bind(engine) -> None:  # noqa: ANN001
    keys = [f"xxgk{i}.gov.cn" for i in range(N)]
    assert leases.request(engine, keys, T0) == N
    table = CrawlLease.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(table)
                            .where(table.c.due_at.is_not(None))).scalar_one() == N

    # Again while all are due: nothing changes, every row keeps its first request time.
    assert leases.request(engine, keys + ["new.gov.cn"], T0 + timedelta(hours=1)) == 1
    with engine.connect() as conn:
        times = conn.execute(sa.select(table.c.due_at, sa.func.count()).group_by(table.c.due_at)).all()
    assert sorted(n for _, n in times) == [1, N]


def test_a_crawl_of_more_sites_than_one_statement_can_bind(engine) -> None:  # noqa: ANN001
    """`xxgk crawl` without workers opens one run per configured site at once: the query that closes
    interrupted runs first named every site in one IN list. An interrupted run among them is still
    found and closed."""
    from sqlmodel import Session, select

    from db import crawlstate
    from db.models import CrawlRun

    sites = [f"site-{i}" for i in range(N)]
    with Session(engine) as s:
        crawlstate.start_runs(s, [sites[-1]])  # a crawl of the last site that never finished
        s.commit()
    with Session(engine) as s:
        ids = crawlstate.start_runs(s, sites)
        s.commit()
        assert len(ids) == N
        old = s.exec(select(CrawlRun).where(CrawlRun.site == sites[-1], CrawlRun.id != ids[sites[-1]])).one()
        assert old.status == "failed" and old.finished_at is not None
