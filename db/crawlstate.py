"""What the crawler remembers between runs: per-URL HTTP state, document versions, crawl runs.

Nothing here commits: use ``db.engine.session()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, func, select

from db.models import CrawlRun, Document, DocumentVersion, HttpState


@dataclass(frozen=True, slots=True)
class UrlState:
    """A detached copy of HttpState, safe to use outside the session."""

    url: str
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    first_seen_at: datetime


def get_url_state(session: Session, url: str) -> UrlState | None:
    row = session.get(HttpState, url)
    if row is None:
        return None
    return UrlState(row.url, row.etag, row.last_modified, row.content_hash, row.first_seen_at)


def record_url_state(
    session: Session,
    url: str,
    *,
    site: str | None,
    status: int | None,
    etag: str | None = None,
    last_modified: str | None = None,
    content_hash: str | None = None,
    now: datetime | None = None,
) -> None:
    """Remember a fetch. A 304 (content_hash None) keeps the stored validators and hash."""
    now = now or datetime.now(UTC)
    row = session.get(HttpState, url)
    if row is None:
        session.add(HttpState(url=url, site=site, etag=etag, last_modified=last_modified,
                              content_hash=content_hash, status=status, first_seen_at=now, checked_at=now))
        return
    row.status = status
    row.checked_at = now
    if content_hash is not None:
        row.content_hash = content_hash
        row.etag = etag
        row.last_modified = last_modified
    elif etag or last_modified:
        row.etag = etag or row.etag
        row.last_modified = last_modified or row.last_modified
    session.add(row)


def site_crawled_before(session: Session, site: str) -> bool:
    """Has this site finished a crawl before? (Then "first seen" is close to "published".)"""
    stmt = select(func.count()).select_from(CrawlRun).where(
        CrawlRun.site == site, col(CrawlRun.finished_at).is_not(None)
    )
    return session.exec(stmt).one() > 0


def stored_document(session: Session, url: str) -> Document | None:
    return session.exec(select(Document).where(Document.url == url)).first()


def version_count(session: Session, url: str) -> int:
    stmt = (
        select(func.count())
        .select_from(DocumentVersion)
        .join(Document, col(Document.id) == col(DocumentVersion.document_id))
        .where(Document.url == url)
    )
    return session.exec(stmt).one()


def start_run(session: Session, site: str) -> int:
    run = CrawlRun(site=site, started_at=datetime.now(UTC))
    session.add(run)
    session.flush()
    assert run.id is not None
    return run.id


def finish_run(session: Session, run_id: int, *, status: str, pages_fetched: int, not_modified: int,
               bytes_received: int, reports_found: int, reports_new: int, reports_changed: int,
               errors: list[str]) -> None:
    run = session.get(CrawlRun, run_id)
    if run is None:
        raise KeyError(run_id)
    run.finished_at = datetime.now(UTC)
    run.status = status
    run.pages_fetched = pages_fetched
    run.not_modified = not_modified
    run.bytes_received = bytes_received
    run.reports_found = reports_found
    run.reports_new = reports_new
    run.reports_changed = reports_changed
    run.errors = errors
    session.add(run)


def last_runs(session: Session, limit: int = 50) -> list[CrawlRun]:
    return list(session.exec(select(CrawlRun).order_by(col(CrawlRun.id).desc()).limit(limit)).all())
