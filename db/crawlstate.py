"""What the crawler remembers between runs: per-URL HTTP state, document versions, crawl runs.

Nothing here commits: use ``db.engine.session()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from db.engine import in_chunks
from db.models import Agency, CrawlRun, Document, HttpState, RobotsTxt


@dataclass(frozen=True, slots=True)
class UrlState:
    """A detached copy of HttpState, safe to use outside the session."""

    url: str
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    first_seen_at: datetime
    checked_at: datetime | None = None
    kind: str | None = None  # "list", "article", "attachment"
    title: str | None = None  # an article's title on its list page
    list_date: date | None = None


_HTTP: sa.Table = HttpState.__table__  # type: ignore[attr-defined]
_HTTP_FIELDS = ("site", "kind", "title", "list_date", "etag", "last_modified", "content_hash", "status",
                "first_seen_at", "checked_at")
_AGENCIES: sa.Table = Agency.__table__  # type: ignore[attr-defined]
_AGENCY_FIELDS = ("region_code", "region_name", "level")


def _given_or_kept(field: str) -> sa.ColumnElement[Any]:
    column = _AGENCIES.c[field]
    return sa.func.coalesce(sa.bindparam(f"new_{field}", type_=column.type), column)


# Sets each field given (not NULL), and writes nothing when that changes no field.
_DESCRIBE_AGENCY = (
    sa.update(_AGENCIES)
    .where(_AGENCIES.c.id == sa.bindparam("agency_id"))
    .where(sa.or_(*(_AGENCIES.c[f].is_distinct_from(_given_or_kept(f)) for f in _AGENCY_FIELDS)))
    .values({f: _given_or_kept(f) for f in _AGENCY_FIELDS})
)


def describe_agency(session: Session | Connection, agency_id: int, *, region_code: str | None,
                    region_name: str | None, level: str | None) -> None:
    """Fill in what the site config says of an agency (never erasing what is known)."""
    conn = session if isinstance(session, Connection) else session.connection()
    conn.execute(_DESCRIBE_AGENCY, {
        "agency_id": agency_id,
        "new_region_code": region_code or None,
        "new_region_name": region_name or None,
        "new_level": level or None,
    })


# The first error of a failed crawl_run whose lists were read but named no report, where earlier
# crawls listed reports: the site was most likely redesigned (or its list now comes from a script)
# and the crawler needs updating. Such a run is not a successful crawl: it makes no report missing
# (compliance.sweep), and the sweep alerts on it instead.
LIST_EMPTIED_MARK = "列表页没有返回任何报告条目"


def list_emptied_error(listed_before: int) -> str:
    """The crawl_run error of a site whose lists suddenly name no report (see LIST_EMPTIED_MARK)."""
    return (f"{LIST_EMPTIED_MARK}（此前列出 {listed_before} 篇报告），网站可能已改版，"
            "抓取程序可能需要更新；本次不据此判断报告缺失")


def is_list_emptied(status: str, errors: list[str] | None) -> bool:
    """Whether a crawl_run row is one whose lists came back empty (see LIST_EMPTIED_MARK)."""
    return status == "failed" and bool(errors) and str(errors[0]).startswith(LIST_EMPTIED_MARK)


def start_runs(session: Session, sites: list[str]) -> dict[str, int]:
    """A 'running' crawl_run row per site, in one flush. Runs of these sites still marked
    'running' were interrupted (the process was killed): they are closed as failed."""
    now = datetime.now(UTC)
    for chunk in in_chunks(sites):  # a crawl of every site at once may name more than PostgreSQL's 65,535
        stale = session.exec(select(CrawlRun).where(col(CrawlRun.site).in_(chunk),
                                                    col(CrawlRun.finished_at).is_(None)))
        for run in stale.all():
            run.status, run.finished_at = "failed", now
            run.errors = [*run.errors, "抓取被中断（进程在完成前退出）"]
            session.add(run)
    runs = {site: CrawlRun(site=site, started_at=now) for site in sites}
    session.add_all(runs.values())
    session.flush()
    return {site: run.id for site, run in runs.items() if run.id is not None}


def finish_run(session: Session, run_id: int, *, status: str, pages_fetched: int, not_modified: int,
               bytes_received: int, reports_found: int, reports_new: int, reports_changed: int,
               errors: list[str]) -> None:
    runs: sa.Table = CrawlRun.__table__  # type: ignore[attr-defined]
    done = session.connection().execute(sa.update(runs).where(runs.c.id == run_id).values(
        finished_at=datetime.now(UTC), status=status, pages_fetched=pages_fetched, not_modified=not_modified,
        bytes_received=bytes_received, reports_found=reports_found, reports_new=reports_new,
        reports_changed=reports_changed, errors=errors,
    ))
    if done.rowcount == 0:
        raise KeyError(run_id)


# ---- a site's state in one read, its URL updates in one write ----------------------------------


@dataclass(slots=True)
class SiteState:
    """What one crawl of a site needs from the database, loaded in one go."""

    crawled_before: bool
    urls: dict[str, UrlState]  # every URL of the site fetched before
    report_urls: set[str]  # documents that gave a report
    attachments: dict[str, list[str]]  # article URL -> its report attachments' URLs

    @property
    def validators(self) -> dict[str, tuple[str | None, str | None]]:
        """ETag / Last-Modified of the list pages, for conditional GETs."""
        return {u.url: (u.etag, u.last_modified) for u in self.urls.values() if u.kind == "list"}

    @property
    def known_articles(self) -> list[UrlState]:
        """Article pages seen in earlier crawls."""
        return [u for u in self.urls.values() if u.kind == "article"]


@dataclass(frozen=True, slots=True)
class UrlUpdate:
    url: str
    kind: str
    status: int | None
    etag: str | None
    last_modified: str | None
    content_hash: str | None  # None: not fetched anew (304), keep what is stored
    title: str | None = None
    list_date: date | None = None
    forget: bool = False  # the fetch or the check failed: drop validators and hash so it is retried


def load_site_states(session: Session, sites: list[str]) -> dict[str, SiteState]:
    """Every site's state in three queries, whatever the number of sites."""
    states = {name: SiteState(False, {}, set(), {}) for name in sites}
    if not sites:
        return states
    h = _HTTP.c
    for r in session.connection().execute(
        sa.select(h.site, h.url, h.etag, h.last_modified, h.content_hash, h.first_seen_at, h.checked_at, h.kind,
                  h.title, h.list_date).where(h.site.in_(sites))
    ):
        states[r.site or ""].urls[r.url] = UrlState(r.url, r.etag, r.last_modified, r.content_hash, r.first_seen_at,
                                                    r.checked_at, r.kind, r.title, r.list_date)
    docs = session.exec(select(Document.site, Document.url, Document.source_url)
                        .where(col(Document.site).in_(sites))).all()
    for site, url, source in docs:
        st = states[site or ""]
        st.report_urls.add(url)
        if source:
            st.attachments.setdefault(source, []).append(url)
            st.report_urls.add(source)
    finished = session.exec(select(CrawlRun.site).where(col(CrawlRun.site).in_(sites),
                                                        col(CrawlRun.finished_at).is_not(None)).distinct()).all()
    for site in finished:
        states[site].crawled_before = True
    return states


def save_url_updates(session: Session | Connection, site: str, updates: list[UrlUpdate], now: datetime) -> None:
    """Apply one site's URL updates: see save_sites_url_updates."""
    save_sites_url_updates(session, [(site, updates)], now)


def save_sites_url_updates(session: Session | Connection, sites: list[tuple[str, list[UrlUpdate]]],
                           now: datetime) -> None:
    """Apply crawls' URL updates (per site, in order: a later update of a URL refines an earlier
    one; a 'forget' after a failed check keeps the title the list gave). Core statements in bulk,
    many sites at once: a crawl of a thousand sites writes thousands of these rows."""
    updates = [(site, u) for site, site_updates in sites for u in site_updates]
    if not updates:
        return
    conn = session if isinstance(session, Connection) else session.connection()
    urls = list({u.url for _, u in updates})
    stored: dict[str, dict[str, Any]] = {}
    for chunk in in_chunks(urls):
        for row in conn.execute(sa.select(_HTTP).where(_HTTP.c.url.in_(chunk))):
            stored[row.url] = row._asdict()
    rows: dict[str, dict[str, Any]] = {}
    for site, u in updates:
        row = rows.get(u.url)
        if row is None:
            row = rows[u.url] = dict(stored.get(u.url) or {"url": u.url, "site": site, "first_seen_at": now,
                                                           **dict.fromkeys(_HTTP_FIELDS[1:-2])})
        row["kind"] = u.kind or row["kind"]
        row["title"] = u.title or row["title"]
        row["list_date"] = u.list_date or row["list_date"]
        row["status"] = u.status if u.status is not None else row["status"]
        row["checked_at"] = now
        if u.forget:
            row["content_hash"] = row["etag"] = row["last_modified"] = None
        elif u.content_hash is not None:
            row["content_hash"], row["etag"], row["last_modified"] = u.content_hash, u.etag, u.last_modified
        else:
            row["etag"] = u.etag or row["etag"]
            row["last_modified"] = u.last_modified or row["last_modified"]
    new = [r for url, r in rows.items() if url not in stored]
    changed = [{"_url": url, **{f"v_{k}": r[k] for k in _HTTP_FIELDS}} for url, r in rows.items()
               if url in stored and r != stored[url]]
    if new:
        conn.execute(sa.insert(_HTTP), new)
    if changed:
        conn.execute(
            sa.update(_HTTP).where(_HTTP.c.url == sa.bindparam("_url"))
            .values({k: sa.bindparam(f"v_{k}", type_=_HTTP.c[k].type) for k in _HTTP_FIELDS}),
            changed,
        )


def load_robots(session: Session, hosts: Iterable[str], since: datetime) -> dict[str, str | None]:
    """robots.txt of these hosts read at or after `since`: host → text (None: the host has none)."""
    robots: sa.Table = RobotsTxt.__table__  # type: ignore[attr-defined]
    out: dict[str, str | None] = {}
    for chunk in in_chunks(list(hosts)):
        rows = session.connection().execute(sa.select(robots.c.host, robots.c.body).where(
            robots.c.host.in_(chunk), robots.c.fetched_at >= since))
        out.update((host, body) for host, body in rows)
    return out


def save_robots(session: Session, read: dict[str, str | None], now: datetime) -> None:
    """Keep what a crawl read of robots.txt (replacing older copies)."""
    if not read:
        return
    robots: sa.Table = RobotsTxt.__table__  # type: ignore[attr-defined]
    hosts = list(read)
    conn = session.connection()
    for chunk in in_chunks(hosts):
        conn.execute(sa.delete(robots).where(robots.c.host.in_(chunk)))
    conn.execute(sa.insert(robots), [{"host": h, "fetched_at": now, "body": read[h]} for h in hosts])
