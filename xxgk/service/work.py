"""The work the scheduler runs, shared with the CLI (`xxgk crawl` runs `crawl_sites` too).

A crawl cut short (the task cancelled, Ctrl-C) is recorded: the sites it had finished are saved
as usual by the crawler; each site it had not is closed in crawl_run as interrupted, with how
far it got (「已处理 3/10 篇」). Nothing of an unfinished site's list pages is remembered (the
crawler saves URL state per finished site), so the next crawl lists it again and fetches what
was not fetched; the reports it already stored are kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from db.models import CRAWL_STATUSES, CrawlRun, Report
from xxgk.config import SiteConfig, Settings

# crawl_run.status of a crawl cut short. Until the schema knows "interrupted", such a run is
# closed as failed, its first error saying it was interrupted (INTERRUPTED_MARK).
INTERRUPTED = "interrupted" if "interrupted" in CRAWL_STATUSES else "failed"
INTERRUPTED_MARK = "抓取被中断"

ProgressHook = Callable[[str, int, int], None]


def is_interrupted(status: str, errors: list[str] | None) -> bool:
    """Whether a crawl_run row is one cut short (by the service stopping, or a killed process)."""
    if status == "interrupted":
        return True
    return status == "failed" and bool(errors) and str(errors[0]).startswith(INTERRUPTED_MARK)


def record_interrupted(engine: Engine, sites: Iterable[str], started: datetime,
                       progress: dict[str, tuple[int, int]], why: str = "服务停止") -> list[str]:
    """Close the crawl_run rows this crawl opened (at or after `started`) and did not finish, as
    interrupted, saying how far each site got. The sites so closed."""
    from db.engine import in_chunks, session

    runs: sa.Table = CrawlRun.__table__  # type: ignore[attr-defined]
    names = list(sites)
    closed: list[str] = []
    now = datetime.now(UTC)
    with session(engine) as s:
        conn = s.connection()
        open_runs = [row for chunk in in_chunks(names) for row in conn.execute(sa.select(runs.c.id, runs.c.site).where(
            runs.c.site.in_(chunk), runs.c.finished_at.is_(None), runs.c.started_at >= started))]
        for run_id, site in open_runs:
            done, total = progress.get(site, (0, 0))
            where = f"已处理 {done}/{total} 篇" if total else "尚未读完栏目列表"
            conn.execute(sa.update(runs).where(runs.c.id == run_id).values(
                status=INTERRUPTED, finished_at=now,
                errors=[f"{INTERRUPTED_MARK}（{why}）：{where}，下次抓取继续"]))
            closed.append(site)
    return closed


async def crawl_sites(settings: Settings, engine: Engine, sites: list[SiteConfig], *,
                      since: int | None = None, progress: ProgressHook | None = None,
                      why: str = "服务停止"):  # -> list[SiteResult]
    """Crawl `sites` (scraper.crawl.Crawler) and refresh the planner's statistics. Cancelled or
    interrupted, it records the unfinished sites as interrupted (see the module docstring) and
    re-raises."""
    from db.engine import analyze
    from scraper.crawl import Crawler

    known: dict[str, tuple[int, int]] = {}

    def hook(site: str, done: int, total: int) -> None:
        known[site] = (done, total)
        if progress is not None:
            progress(site, done, total)

    started = datetime.now(UTC)
    crawler = Crawler(settings.crawler, engine, soffice=settings.checks.soffice,
                      convert_timeout=settings.checks.convert_timeout_s,
                      read_timeout=settings.checks.read_limit_s, progress=hook)
    try:
        results = await crawler.run(sites, since=since)
    except BaseException:  # CancelledError, KeyboardInterrupt: record where each site stopped
        record_interrupted(engine, [s.name for s in sites], started, known, why)
        raise
    await asyncio.to_thread(analyze, engine)  # new reports: keep the query planner's statistics fresh
    return results


def queue_crawl(engine: Engine, sites: list[SiteConfig], now: datetime | None = None) -> int:
    """Ask `xxgk worker` processes to crawl these sites: their host groups (scraper.groups) become
    due (db.leases). Returns how many groups became due (a group already due stays as it is)."""
    from db import leases
    from scraper.groups import host_groups

    return leases.request(engine, host_groups(sites), now or datetime.now(UTC))


def touched_years(engine: Engine, since: datetime) -> set[int]:
    """Report years with a report created or changed at or after `since` (by a crawl)."""
    from db.engine import session

    reports: sa.Table = Report.__table__  # type: ignore[attr-defined]
    with session(engine) as s:
        return set(s.connection().execute(
            sa.select(reports.c.year).where(reports.c.updated_at >= since).distinct()).scalars())


def latest_years(today: date, n: int) -> list[int]:
    """The `n` latest report years as of `today` (a Beijing date): the last year first."""
    return [today.year - 1 - i for i in range(n)]


def sweep_years(settings: Settings, engine: Engine, years: Iterable[int], *, now: datetime) -> list:
    """compliance.sweep.sweep for each year (newest first), as `xxgk findings sweep` runs it; the
    SweepResults. Blocking: run it in a thread."""
    from checks.model import CST
    from compliance.sweep import sweep
    from db.engine import analyze

    today = now.astimezone(CST).date()
    results = [sweep(engine, year, today=today, now=now, deadlines=settings.deadlines)
               for year in sorted(set(years), reverse=True)]
    if results:
        analyze(engine)
    return results


def catch_up_sites(engine: Engine, names: list[str]) -> tuple[list[str], list[str]]:
    """Of the configured sites `names`: those never crawled, and those whose last crawl was cut
    short (recorded as interrupted, or left running by a killed process)."""
    from db.engine import session

    runs: sa.Table = CrawlRun.__table__  # type: ignore[attr-defined]
    latest = sa.select(runs.c.site, sa.func.max(runs.c.id).label("id")).group_by(runs.c.site).subquery()
    with session(engine) as s:
        rows = s.connection().execute(
            sa.select(runs.c.site, runs.c.status, runs.c.finished_at, runs.c.errors)
            .join(latest, latest.c.id == runs.c.id)).all()
    last = {r.site: r for r in rows}
    new = [n for n in names if n not in last]
    cut = [n for n in names if n in last and (last[n].finished_at is None
                                              or is_interrupted(last[n].status, last[n].errors))]
    return new, cut
