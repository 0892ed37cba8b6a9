"""What the demo server serves and what a crawler must find there.

A `Site` is one disclosure site: its pages (`path?query` → `Page`), the dynamic endpoints
(dataproxy, gkmlpt API), the entries of its report column and the ground truth: one
`ReportTruth` per annual report, with the URL a crawler finds it at, the publication date it
must record and the data (`ReportSpec`) the report was rendered from.

Times are naive datetimes in China Standard Time (UTC+8), as the sites print them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from xxgk.render import ReportSpec

CST = dt.timezone(dt.timedelta(hours=8), "CST")

Platform = Literal["trs", "jcms", "gkmlpt", "plain"]
ReportKind = Literal["inline", "attachment"]


# ---- faults ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FailTimes:
    """Answer `status` to the first `times` requests, then the page."""

    status: int = 500
    times: int = 2


@dataclass(frozen=True, slots=True)
class RateLimited:
    """Answer 429 with `Retry-After: retry_after` to the first `times` requests, then the page."""

    times: int = 1
    retry_after: int = 1


@dataclass(frozen=True, slots=True)
class Slow:
    """Wait before answering: `delay` seconds, or the server's `slow_delay` when None."""

    delay: float | None = None


@dataclass(frozen=True, slots=True)
class Redirect:
    """Always redirect to `location` (a path on the same site or an absolute URL)."""

    location: str
    status: int = 302


@dataclass(frozen=True, slots=True)
class Huge:
    """A body of `size` bytes generated while it is sent (never held in memory)."""

    size: int = 60 * 1024 * 1024
    head: bytes = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"


Fault = FailTimes | RateLimited | Slow | Redirect | Huge


# ---- pages -------------------------------------------------------------------------------


def http_date(when: dt.datetime) -> str:
    """An RFC 7231 date (GMT) for a CST wall-clock time."""
    aware = when.replace(tzinfo=CST) if when.tzinfo is None else when
    return format_datetime(aware.astimezone(dt.timezone.utc), usegmt=True)


def fingerprint(*parts: object) -> str:
    return hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:16]


class Page:
    """One resource. `body` is bytes or a function that makes them (called once, on first
    use, then kept). The ETag is derived from `key` when given (lazy pages must give one),
    else from the bytes, so a changed page gets a new ETag."""

    __slots__ = (
        "_body", "_lock", "content_type", "charset", "last_modified", "faults", "headers",
        "expensive", "etag",
    )  # fmt: skip

    def __init__(
        self,
        body: bytes | Callable[[], bytes],
        *,
        content_type: str = "text/html",
        charset: str | None = None,
        last_modified: dt.datetime,
        faults: tuple[Fault, ...] = (),
        headers: dict[str, str] | None = None,
        key: str | None = None,
        expensive: bool = False,
    ) -> None:
        if not isinstance(body, bytes) and key is None:
            raise ValueError("a lazily rendered page needs a key for its ETag")
        self._body = body
        self._lock = threading.Lock()
        self.content_type = content_type
        self.charset = charset
        self.last_modified = last_modified.replace(microsecond=0)
        self.faults = tuple(faults)
        self.headers = dict(headers or {})
        self.expensive = expensive
        tag = key if key is not None else hashlib.sha1(body).hexdigest()  # type: ignore[arg-type]
        self.etag = f'"{fingerprint(tag, self.last_modified.isoformat())}"'

    @property
    def ready(self) -> bool:
        return isinstance(self._body, bytes)

    def data(self) -> bytes:
        """The bytes, rendering them on first use (thread-safe; may take a second or more
        for .docx, several for .doc)."""
        body = self._body
        if isinstance(body, bytes):
            return body
        with self._lock:
            if not isinstance(self._body, bytes):
                self._body = self._body()
            return self._body

    @property
    def content_type_header(self) -> str:
        return f"{self.content_type}; charset={self.charset}" if self.charset else self.content_type

    @property
    def last_modified_header(self) -> str:
        return http_date(self.last_modified)

    def fault(self, kind: type) -> Any:
        return next((f for f in self.faults if isinstance(f, kind)), None)


class Dynamic(Protocol):
    """An endpoint whose answer depends on the query and form. `base` is the site's
    "http://127.0.x.y:port" (for absolute URLs in API answers). Returns a Page, or None for
    404."""

    def __call__(self, method: str, query: dict[str, str], form: dict[str, str], base: str) -> Page | None: ...


# ---- ground truth ------------------------------------------------------------------------


@dataclass(slots=True)
class ReportTruth:
    """One annual report as a crawler must record it.

    `url` is the path of the page the site's list links to (the article, or the
    annual-report module page). `document` is the path of the bytes that hold the report:
    `url` itself for inline reports, the attachment for attachment-only ones. `duplicates`
    are further files that hold the same report (a PDF attached to an inline report): still
    one report. `published` is the date printed as 发布日期/发布时间/时间 on the page (never
    成文日期, never the URL's date, never a PubDate meta that disagrees), or the list row's
    date when the page's line is empty (`date_source == "list"`)."""

    site: str
    title: str
    url: str
    agency: str
    year: int
    published: dt.datetime
    kind: ReportKind
    fmt: str  # cms_html | word_html | docx | pdf | doc
    document: str
    spec: ReportSpec
    duplicates: tuple[str, ...] = ()
    findings_required: tuple[str, ...] = ()
    faults: tuple[str, ...] = ()  # names of faults on the way to it (see Site.fault_urls)
    source: str = "synthetic"  # synthetic | seed:<stem>
    # Where the publication date is: "page" (a 发布日期/发布时间/时间 line on the page) or
    # "list" (the page's date line is empty: only the list row gives it).
    date_source: Literal["page", "list"] = "page"
    notes: str = ""
    version: int = 1
    list_date: dt.date | None = None

    @property
    def template(self) -> str:
        return self.spec.template

    @property
    def published_date(self) -> dt.date:
        return self.published.date()

    @property
    def expected(self) -> dict[str, Any]:
        """The canonical data the checks must read from the document."""
        spec = self.spec
        return {
            "agency": self.agency,
            "year": self.year,
            "template": spec.template,
            "proactive": spec.proactive,
            "applications": spec.applications,
            "review_litigation": spec.review_litigation,
        }


@dataclass(slots=True)
class ListEntry:
    """One row of a column list: what a list page shows and where it links."""

    title: str
    href: str  # a path on the site, or an absolute URL (off-site)
    date: dt.date
    kind: Literal["report", "other", "offsite", "forbidden", "broken", "loop", "decoy"] = "other"
    pinned: bool = False


@dataclass(slots=True, eq=False)
class Site:
    """A disclosure site: pages, endpoints, list entries and ground truth.

    `list_paths` are the column URLs to configure (a `#fragment` is part of the configured
    URL, never sent); `hints` the site hints to configure with them. `fault_urls` names every deliberate hazard: fault name → path or URL.
    `decoys` are pages whose titles look like reports but are not. `notes` says what was
    left out (e.g. the .doc attachment when LibreOffice is missing)."""

    name: str
    platform: Platform
    agency: str  # the publishing agency, or "portal"
    region_code: str
    region_name: str
    level: Literal["department", "government", "township"]
    list_paths: list[str]
    site_name: str = ""  # the site's display name (SiteName meta)
    pages: dict[str, Page] = field(default_factory=dict)
    dynamic: dict[str, Dynamic] = field(default_factory=dict)
    entries: list[ListEntry] = field(default_factory=list)
    reports: list[ReportTruth] = field(default_factory=list)
    fault_urls: dict[str, str] = field(default_factory=dict)
    decoys: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Site hints a crawler needs to find everything (the `[sites.hints]` of its config), e.g. the
    # unit codes of a jcms annual-report module that no page links to.
    hints: dict[str, Any] = field(default_factory=dict)
    builder: Any = field(default=None, repr=False)  # the platform builder (lists, articles)

    # ---- lookups ----

    def report(self, year: int, agency: str | None = None) -> ReportTruth:
        found = [r for r in self.reports if r.year == year and (agency is None or r.agency == agency)]
        if len(found) != 1:
            raise LookupError(f"{self.name}: {len(found)} reports for year {year} agency {agency}")
        return found[0]

    def report_at(self, url: str) -> ReportTruth:
        for r in self.reports:
            if r.url == url or r.document == url:
                return r
        raise LookupError(f"{self.name}: no report at {url}")

    def page(self, path: str) -> Page:
        return self.pages[path]

    # ---- runtime changes (the server wraps these so they run on its loop) ----

    def rebuild_lists(self) -> None:
        self.builder.rebuild_lists(self)

    def add_report(
        self,
        spec: ReportSpec,
        *,
        published: dt.datetime | None = None,
        title: str | None = None,
    ) -> ReportTruth:
        """Publish a new inline report: its article page and a new first row in the list."""
        truth = self.builder.add_report(self, spec, published=published, title=title)
        self.rebuild_lists()
        return truth

    def change_report(
        self, truth: ReportTruth, spec: ReportSpec, *, modified: dt.datetime | None = None
    ) -> ReportTruth:
        """Replace a published report's content (same URL and publication date, new bytes,
        new Last-Modified/ETag). The truth's spec and version are updated in place."""
        modified = modified or dt.datetime.now(CST).replace(tzinfo=None, microsecond=0)
        truth.spec = self.builder.change_report(self, truth, spec, modified)
        truth.version += 1
        return truth
