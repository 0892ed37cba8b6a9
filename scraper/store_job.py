"""Reading, checking and storing one fetched document: the CPU-heavy half of a crawl.

Runs in a worker process (or inline when the crawler has no workers); everything it takes and
returns is picklable, and each process opens its own database engine once.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from checks.check import check_document
from checks.document import Document, ReadError
from checks.model import CST, Finding, Report
from checks.parse import NotAReport
from checks.readers import read_bytes
from compliance.registry import AgencyMatcher
from db import crawlstate
from db.engine import make_engine, session
from db.store import save_report, stored_document
from scraper.soft_errors import error_page

_ENGINES: dict[str, Engine] = {}


@dataclass(frozen=True, slots=True)
class DocumentJob:
    url: str
    content: bytes
    content_hash: str  # sha256 hex of content
    content_type: str | None
    source_url: str | None  # the article page, for an attachment
    site: str
    site_agency: str  # the configured agency, or "portal"
    region_code: str | None
    region_name: str | None
    level: str | None
    list_title: str
    list_year: int | None
    published: datetime
    published_source: str
    fetched_at: datetime
    database_url: str
    registry_stamp: str = ""  # compliance.registry.registry_stamp at the crawl's start; "" : no registry
    soffice: str = "soffice"
    convert_timeout: float = 120.0  # a LibreOffice conversion
    read_timeout: float | None = None  # reading the document here (checks.budget); None: convert_timeout

    @property
    def read_limit(self) -> float:
        return self.convert_timeout if self.read_timeout is None else self.read_timeout


@dataclass(frozen=True, slots=True)
class JobOutcome:
    url: str
    status: str | None  # "new", "changed", "unchanged"; None: not a report
    error: str | None = None  # why a document could not be read or stored
    failed: bool = False  # an error of ours (a crash), not of the document
    retry: bool = False  # the document may read fine next time (e.g. once LibreOffice is installed)


Read = tuple[Document, None] | tuple[None, ReadError]  # a document, or why it could not be read


def read_document(job: DocumentJob) -> Read:
    """The job's content as a Document, or why it cannot be read."""
    try:
        return read_bytes(job.content, job.url, soffice=job.soffice, timeout=job.convert_timeout,
                          read_timeout=job.read_timeout, content_type=job.content_type), None
    except ReadError as exc:
        return None, exc


def check_read(read: Read) -> tuple[Report | None, ReadError | None]:
    """(report, None), (None, why the file is unreadable), or (None, None) for a page that is
    not a report (a notice, a link-only article)."""
    doc, problem = read
    if doc is None:
        return None, problem
    try:
        return check_document(doc), None
    except NotAReport:
        return None, None


def engine_for(database_url: str) -> Engine:
    engine = _ENGINES.get(database_url)
    if engine is None:
        engine = _ENGINES[database_url] = make_engine(database_url)
    return engine


def store_document(job: DocumentJob, engine: Engine | None = None, *, read: Read | None = None) -> JobOutcome:
    """Read (unless `read`, the outcome of read_document(job), is given), check and store."""
    report, problem = check_read(read if read is not None else read_document(job))
    if report is None:
        # Not a report: a 200 answer that is an error page or a firewall's challenge is a fetch
        # that failed, retried next crawl (nothing is stored, what was stored before stays).
        if (soft := error_page(job.content, job.content_type)) is not None:
            return JobOutcome(job.url, None, f"{soft}，未入库", retry=True)
        if problem is None:
            return JobOutcome(job.url, None)
        return JobOutcome(job.url, None, problem.reason, retry=problem.retryable)
    if report.agency is None and job.site_agency != "portal":
        report.agency = job.site_agency
    if report.year is None:
        report.year = job.list_year
    engine = engine or engine_for(job.database_url)
    return store_checked(job, report, engine, registered=_match_registered(job, report, engine))


_MATCHERS: dict[str, tuple[str, AgencyMatcher]] = {}


def _match_registered(job: DocumentJob, report: Report, engine: Engine) -> bool:
    """Give the report the registered name of its agency (matched by name, alias or fuzzily, the
    site's region breaking ties). True if it matched; an unmatched name is kept as written and
    waits in `xxgk agencies unmatched` for a person."""
    if not job.registry_stamp or report.agency is None:
        return False
    key = job.database_url
    cached = _MATCHERS.get(key)
    if cached is None or cached[0] != job.registry_stamp:
        with session(engine) as s:
            cached = _MATCHERS[key] = (job.registry_stamp, AgencyMatcher.from_session(s))
    matcher = cached[1]
    found = matcher.match(report.agency, job.region_code)
    if found is None or not found.ok or found.agency_id is None:
        return False
    report.agency = matcher.name(found.agency_id)
    return True


def store_checked(job: DocumentJob, report: Report, engine: Engine, *, registered: bool = False) -> JobOutcome:
    """Store a checked report of `job` (the database half of store_document, timed by bench/bench_save.py)."""
    # Workers save in parallel: two may create the same new agency, or the same report from an
    # inline page and its PDF, at once. The loser's transaction rolls back whole; saving again
    # then finds the winner's rows. A unique constraint fails only once the winner has
    # committed (SQLite takes the write lock first, PostgreSQL waits for the other transaction),
    # so that save is repeated at once; a database still locked after the driver's own wait is
    # given a moment.
    for attempt in range(_SAVE_ATTEMPTS):
        try:
            return _save(job, report, engine, registered)
        except IntegrityError:
            if attempt == _SAVE_ATTEMPTS - 1:
                raise
        except OperationalError:
            if attempt == _SAVE_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


_SAVE_ATTEMPTS = 4


def _save(job: DocumentJob, report: Report, engine: Engine, registered: bool) -> JobOutcome:
    # Its own list of findings: a retry must start from the checker's findings.
    report = dataclasses.replace(report, findings=list(report.findings))
    digest = job.content_hash
    published, source = job.published, job.published_source
    # A plain connection, no ORM session: nothing here uses ORM objects, and the session's
    # bookkeeping would cost more than some of the statements.
    with engine.begin() as conn:
        stored = stored_document(conn, job.url)
        changed = stored is not None and stored.content_hash != digest
        if stored is not None and stored.published_at is not None:
            # The first publication date stands: an edit later does not make a report on time.
            published, source = stored.published_at, stored.published_source or source
        if changed or (stored is not None and stored.versions > 1):
            first = stored.fetched_at if stored is not None else job.fetched_at
            report.findings.append(Finding(
                "changed_after_publication", "warning",
                f"报告发布后内容被修改过：{first.astimezone(CST):%Y-%m-%d} 抓取的版本与之后抓取的不同，各版本均已保存",
                "全文"))
        outcome = save_report(conn, report, url=job.url, content_hash=digest, size=len(job.content),
                              fetched_at=job.fetched_at, published_at=published, site=job.site,
                              source_url=job.source_url, published_source=source, stored=stored)
        if outcome.agency_id is not None and not registered:
            # What the site config says of an agency the registry does not know: its region (a
            # portal's agencies are in the portal's region), and its level if the site is its own.
            own_site = report.agency == job.site_agency
            crawlstate.describe_agency(conn, outcome.agency_id, region_code=job.region_code,
                                       region_name=job.region_name, level=job.level if own_site else None)
    if outcome.status == "created":
        return JobOutcome(job.url, "new")
    if changed and not outcome.superseded:
        return JobOutcome(job.url, "changed")
    return JobOutcome(job.url, "unchanged")
