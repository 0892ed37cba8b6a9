"""Crawl the configured sites: find annual reports, fetch what is new or changed, check and store it.

One site's failure never stops the others; each site's result is recorded in `crawl_run`.
Fetching is polite (scraper.http.PoliteClient); parsing is pure (scraper.listing,
scraper.article, checks); storage is db.store / db.crawlstate.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine

from checks.check import check_document
from checks.document import ReadError
from checks.model import Finding, Report
from checks.parse import NotAReport
from checks.readers import read_bytes
from db import crawlstate
from db.engine import session
from db.store import save_report
from scraper.article import Article, parse_article, url_date
from scraper.http import FetchResult, PoliteClient
from scraper.listing import ListEntry, ListingError, iter_entries
from scraper.recognize import is_report_title, report_year
from xxgk.config import CrawlerConfig, SiteConfig

CST = timezone(timedelta(hours=8))  # dates on Chinese government sites are Beijing time


@dataclass(slots=True)
class SiteResult:
    site: str
    reports_found: int = 0  # report documents on the site this run, unchanged ones included
    reports_new: int = 0
    reports_changed: int = 0
    pages_fetched: int = 0
    not_modified: int = 0
    bytes_received: int = 0
    errors: list[str] = field(default_factory=list)
    status: str = "ok"  # ok | partial (some pages failed) | failed (nothing could be listed)


ProgressHook = Callable[[str, int, int], None]  # (site, articles done, articles known)


def allowed_hosts(sites: Iterable[SiteConfig]) -> set[str]:
    hosts: set[str] = set()
    for site in sites:
        for url in site.list_urls:
            hosts.add(urlsplit(url).netloc.lower())
        hosts.update(h.lower() for h in site.allowed_hosts)
    return hosts


def publication_date(article: Article, entry: ListEntry, url: str, first_seen: datetime,
                     crawled_before: bool) -> tuple[datetime, str]:
    """The publication date and its evidence, in the order the deadline rules trust them:
    the article's 发布日期 line or PubDate meta, the list page's date, the first time the crawler
    saw it (only meaningful once the site is crawled regularly), the URL's date as a last resort."""
    if article.published is not None:
        published = article.published
        if published.tzinfo is None:
            published = published.replace(tzinfo=CST)
        return published, article.published_source or "article"
    if entry.date is not None:
        return _start_of(entry.date), "list"
    if crawled_before:
        return first_seen, "first_seen"
    from_url = url_date(url)
    if from_url is not None:
        return _start_of(from_url), "url"
    return first_seen, "first_seen"


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=CST)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Crawler:
    """Crawls sites with one PoliteClient and stores results through `engine`."""

    def __init__(self, cfg: CrawlerConfig, engine: Engine, *, soffice: str = "soffice",
                 convert_timeout: float = 120.0, progress: ProgressHook | None = None):
        self.cfg = cfg
        self.engine = engine
        self.soffice = soffice
        self.convert_timeout = convert_timeout
        self.progress = progress

    async def run(self, sites: list[SiteConfig], *, since: int | None = None) -> list[SiteResult]:
        async with PoliteClient(self.cfg, allowed_hosts(sites)) as client:
            results = await asyncio.gather(
                *(self._crawl_site(client, site, since) for site in sites), return_exceptions=True
            )
        out: list[SiteResult] = []
        for site, result in zip(sites, results):
            if isinstance(result, BaseException):
                out.append(SiteResult(site.name, errors=[f"抓取中断：{type(result).__name__}: {result}"], status="failed"))
            else:
                out.append(result)
        return out

    # ---- one site ---------------------------------------------------------------------------

    async def _crawl_site(self, client: PoliteClient, site: SiteConfig, since: int | None) -> SiteResult:
        result = SiteResult(site.name)
        with session(self.engine) as s:
            run_id = crawlstate.start_run(s, site.name)
            crawled_before = crawlstate.site_crawled_before(s, site.name)
            validators = crawlstate.list_validators(s, site.name)
            known = crawlstate.known_articles(s, site.name)
        listed = False
        try:
            entries, listed = await self._list(client, site, result, validators)
            # Articles seen before are revisited (conditional GET) even when the list is unchanged.
            for article in known:
                entries.setdefault(article.url, ListEntry(article.title, article.url, article.list_date))
            # Links to other hosts (mirrors, spam copies of gov pages) are not this site's: ignored.
            candidates = [e for e in entries.values() if client.is_allowed(e.url) and self._wanted(e, since)]
            done = 0
            if self.progress:
                self.progress(site.name, 0, len(candidates))

            async def one(entry: ListEntry) -> None:
                nonlocal done
                try:
                    await self._article(client, site, entry, crawled_before, result)
                except Exception as exc:  # noqa: BLE001 - one article never stops the site
                    result.errors.append(f"{entry.url}：处理出错（{type(exc).__name__}: {exc}）")
                done += 1
                if self.progress:
                    self.progress(site.name, done, len(candidates))

            await asyncio.gather(*(one(e) for e in candidates))
            if not listed and not known:
                result.status = "failed"
            elif result.errors:
                result.status = "partial"
        except Exception as exc:  # noqa: BLE001 - a broken site is a result, not a crash
            result.errors.append(f"抓取中断：{type(exc).__name__}: {exc}")
            result.status = "failed"
        finally:
            with session(self.engine) as s:
                crawlstate.finish_run(
                    s, run_id, status=result.status, pages_fetched=result.pages_fetched,
                    not_modified=result.not_modified, bytes_received=result.bytes_received,
                    reports_found=result.reports_found, reports_new=result.reports_new,
                    reports_changed=result.reports_changed, errors=result.errors,
                )
        return result

    async def _list(self, client: PoliteClient, site: SiteConfig, result: SiteResult,
                    validators: dict[str, tuple[str | None, str | None]]) -> tuple[dict[str, ListEntry], bool]:
        """Entries of all list URLs (conditional GETs), and whether any list could be read."""
        seen: dict[str, ListEntry] = {}
        listed = False

        def on_fetch(res: FetchResult) -> None:
            self._count(res, result)
            if res.error is None:
                with session(self.engine) as s:
                    crawlstate.record_url_state(
                        s, res.url, site=site.name, kind="list", status=res.status, etag=res.etag,
                        last_modified=res.last_modified,
                        content_hash=_sha256(res.content) if res.content is not None else None)

        for list_url in site.list_urls:
            errors: list[str] = []
            try:
                async for entry in iter_entries(client, list_url, site.hints, max_pages=self.cfg.max_list_pages,
                                                validators=validators, on_fetch=on_fetch, errors=errors):
                    seen.setdefault(entry.url, entry)
                listed = True
            except ListingError as exc:
                result.errors.append(f"{list_url}：{exc}")
            result.errors.extend(errors)
        return seen, listed

    @staticmethod
    def _wanted(entry: ListEntry, since: int | None) -> bool:
        if not is_report_title(entry.title):
            return False
        if since is None:
            return True
        year = report_year(entry.title)
        return year is None or year >= since

    @staticmethod
    def _count(res: FetchResult, result: SiteResult) -> None:
        if res.attempts:
            result.pages_fetched += 1
        result.bytes_received += res.bytes_received
        if res.not_modified:
            result.not_modified += 1

    async def _fetch(self, client: PoliteClient, url: str, site: SiteConfig, result: SiteResult, *,
                     kind: str, entry: ListEntry | None = None) -> tuple[FetchResult, crawlstate.UrlState | None, str | None]:
        """A conditional GET; records the URL's state. Returns the result, the state before, and
        the content hash when new content arrived (None for 304s and errors)."""
        with session(self.engine) as s:
            state = crawlstate.get_url_state(s, url)
        res = await client.fetch(url, etag=state.etag if state else None,
                                 last_modified=state.last_modified if state else None)
        self._count(res, result)
        if res.error:
            result.errors.append(f"{url}：{res.error}")
            return res, state, None
        digest = _sha256(res.content) if res.content is not None and not res.not_modified else None
        with session(self.engine) as s:
            crawlstate.record_url_state(
                s, url, site=site.name, kind=kind, status=res.status, etag=res.etag,
                last_modified=res.last_modified, content_hash=digest,
                title=entry.title if entry else None, list_date=entry.date if entry else None)
        return res, state, digest

    # ---- one article --------------------------------------------------------------------------

    async def _article(self, client: PoliteClient, site: SiteConfig, entry: ListEntry,
                       crawled_before: bool, result: SiteResult) -> None:
        res, state, digest = await self._fetch(client, entry.url, site, result, kind="article", entry=entry)
        if res.error:
            return
        now = datetime.now(UTC)
        first_seen = state.first_seen_at if state else now
        documents: list[tuple[str, bytes, str | None, str | None]] = []  # url, content, type, source_url
        if digest is None:
            # Unchanged page (304): its attachments may still have changed.
            with session(self.engine) as s:
                attachment_urls = crawlstate.attachments_of(s, entry.url)
            article = None
            published, source = (_start_of(entry.date), "list") if entry.date else (first_seen, "first_seen")
        else:
            assert res.content is not None
            article = parse_article(res.content, res.final_url, content_type=res.content_type,
                                    body_selector=site.hints.body_selector)
            published, source = publication_date(article, entry, res.final_url, first_seen, crawled_before)
            if state is None or state.content_hash != digest:
                documents.append((entry.url, res.content, res.content_type, None))
            attachment_urls = [a.url for a in article.attachments]

        for url in attachment_urls:
            att, _, att_digest = await self._fetch(client, url, site, result, kind="attachment")
            if att_digest is not None and att.content is not None:
                with session(self.engine) as s:
                    stored = crawlstate.stored_document(s, url)
                if stored is None or stored.content_hash != att_digest:
                    documents.append((url, att.content, att.content_type, entry.url))

        for url, content, content_type, source_url in documents:
            report = self._check(url, content, content_type, result, is_attachment=source_url is not None)
            if report is not None:
                self._save(site, entry, url, content, report, published, source, source_url, now, result)
        with session(self.engine) as s:
            if crawlstate.is_report_source(s, entry.url):
                result.reports_found += 1

    def _check(self, url: str, content: bytes, content_type: str | None, result: SiteResult,
               *, is_attachment: bool) -> Report | None:
        try:
            doc = read_bytes(content, url, soffice=self.soffice, timeout=self.convert_timeout,
                             content_type=content_type)
            return check_document(doc)
        except NotAReport:
            return None  # a notice page, a link-only article: not a report itself
        except ReadError as exc:
            if is_attachment:
                result.errors.append(f"{url}：{exc.reason}")
            return None

    def _save(self, site: SiteConfig, entry: ListEntry, url: str, content: bytes, report: Report,
              published: datetime, source: str, source_url: str | None, now: datetime,
              result: SiteResult) -> None:
        if report.agency is None and site.agency != "portal":
            report.agency = site.agency
        if report.year is None:
            report.year = report_year(entry.title)
        digest = _sha256(content)
        with session(self.engine) as s:
            stored = crawlstate.stored_document(s, url)
            changed = stored is not None and stored.content_hash != digest
            if stored is not None and stored.published_at is not None:
                # The first publication date stands: an edit later does not make a report on time.
                published, source = stored.published_at, stored.published_source or source
            if changed or crawlstate.version_count(s, url) > 1:
                first = stored.fetched_at if stored is not None else now
                report.findings.append(Finding(
                    "changed_after_publication", "warning",
                    f"报告发布后内容被修改过：{first.astimezone(CST):%Y-%m-%d} 抓取的版本与之后抓取的不同，各版本均已保存",
                    "全文"))
            outcome = save_report(s, report, url=url, content_hash=digest, size=len(content), fetched_at=now,
                                  published_at=published, site=site.name, source_url=source_url,
                                  published_source=source)
            if report.agency == site.agency and outcome.agency_id is not None:
                crawlstate.describe_agency(s, outcome.agency_id, region_code=site.region_code,
                                           region_name=site.region_name, level=site.level)
        if outcome.status == "created":
            result.reports_new += 1
        elif changed and not outcome.superseded:
            result.reports_changed += 1
