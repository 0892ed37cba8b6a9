"""Crawl the configured sites: find annual reports, fetch what is new or changed, check and store it.

One site's failure never stops the others; each site's result is recorded in `crawl_run`.
A site none of whose lists could be read, or whose lists, read anew, suddenly name no report
(redesigned: db.crawlstate.LIST_EMPTIED_MARK), is a failed crawl: it proves no report missing.
Fetching is polite (scraper.http.PoliteClient); parsing is pure (scraper.listing,
scraper.article, checks); storage is db.store / db.crawlstate.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
from collections.abc import Callable, Iterable
from typing import Any
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine

from compliance.registry import registry_stamp
from db import crawlstate
from db.engine import session
from scraper import watchdog
from scraper.article_job import ArticleJob, process_article, start_of
from scraper.http import FetchResult, PoliteClient, host_key
from scraper.listing import ListEntry, ListingError, iter_entries
from scraper.platforms import jcms, trs
from scraper.platforms.common import to_text
from scraper.recognize import is_report_title, report_year
from scraper.store_job import DocumentJob, JobOutcome, store_document
from xxgk.config import CrawlerConfig, SiteConfig



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


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_ACCEPT_JSON = ("application/json", "text/javascript", "*/*;q=0.5")
# Bytes on a list page that may call for more than its links: a TRS document search, jcms units.
_API_MARKERS = (b"trsapi", b"listModel", b"/module/", b"vc_xxgkarea", b"<datastore>", b"/col/col")
_CST = timezone(timedelta(hours=8))
# The jcms annual-report module is asked for report years from this one on unless --since says
# otherwise: reports under the 2019 revision of the regulation, whose tables the checks read.
MODULE_FIRST_YEAR = 2019
MODULE_MAX_UNITS = 50  # unit codes asked per site: a portal links many units, each costs a request a year


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


_FLUSH_SITES = 50  # finished sites written per transaction


def _check_pool(workers: int) -> Executor | None:
    """Reading, checking and storing are CPU-bound: worker processes keep them off the event
    loop's core. forkserver, not fork: the crawler's process may run threads (a server in tests)."""
    if workers <= 0:
        return None
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["scraper.article_job"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


def _start_workers(pool: Executor, workers: int) -> None:
    """Start the pool's worker processes (run in a thread: the first start waits for the fork
    server to import the checks and the database layer, most of a second that would otherwise
    hold up the event loop, and every fetch with it, in the first submit)."""
    try:
        for future in [pool.submit(int) for _ in range(workers)]:
            future.result()
    except Exception:  # noqa: BLE001 - a pool that cannot start fails the first real job instead
        pass


@dataclass(slots=True)
class _SiteCrawl:
    """One site's crawl in progress: its config, what the database knew, what changed."""

    site: SiteConfig
    state: crawlstate.SiteState
    result: SiteResult
    updates: list[crawlstate.UrlUpdate] = field(default_factory=list)
    # Article pages already fetched while listing (the jcms annual-report module's answers):
    # the article step takes them from here instead of fetching them again.
    prefetched: dict[str, FetchResult] = field(default_factory=dict)


class Crawler:
    """Crawls sites with one PoliteClient and stores results through `engine`."""

    def __init__(self, cfg: CrawlerConfig, engine: Engine, *, soffice: str = "soffice",
                 convert_timeout: float = 120.0, read_timeout: float | None = None,
                 progress: ProgressHook | None = None):
        self.cfg = cfg
        self.engine = engine
        self.database_url = engine.url.render_as_string(hide_password=False)
        self.soffice = soffice
        self.convert_timeout = convert_timeout
        self.read_timeout = read_timeout  # None: convert_timeout (DocumentJob.read_limit)
        self.progress = progress
        self._pool: Executor | None = None
        self._pool_started: asyncio.Future[None] | None = None  # the workers are running
        self._registry_stamp = ""

    async def run(self, sites: list[SiteConfig], *, since: int | None = None) -> list[SiteResult]:
        in_memory = self.engine.dialect.name == "sqlite" and self.engine.url.database in (None, "", ":memory:")
        self._pool = None if in_memory else _check_pool(self.cfg.check_workers)
        names = [site.name for site in sites]
        with session(self.engine) as s:
            run_ids = crawlstate.start_runs(s, names)
            states = crawlstate.load_site_states(s, names)
            hosts = {key for key in map(host_key, allowed_hosts(sites)) if key}
            robots = crawlstate.load_robots(
                s, hosts, datetime.now(UTC) - timedelta(hours=self.cfg.robots_cache_hours)
            ) if self.cfg.robots_cache_hours > 0 else {}
            stamp = registry_stamp(s)
            self._registry_stamp = "" if stamp.startswith("0:") else stamp  # nothing registered: names as written
        finished: list[tuple[str, int, SiteResult, list[crawlstate.UrlUpdate]]] = []

        def flush() -> None:
            """Finished sites' URL updates and crawl_run rows, many sites per transaction."""
            if not finished:
                return
            with session(self.engine) as s:
                now = datetime.now(UTC)
                crawlstate.save_sites_url_updates(s, [(name, updates) for name, _, _, updates in finished], now)
                for name, run_id, result, updates in finished:
                    crawlstate.finish_run(
                        s, run_id, status=result.status, pages_fetched=result.pages_fetched,
                        not_modified=result.not_modified, bytes_received=result.bytes_received,
                        reports_found=result.reports_found, reports_new=result.reports_new,
                        reports_changed=result.reports_changed, errors=result.errors)
            finished.clear()

        client: PoliteClient | None = None
        # As many sites at once as requests in flight: each host gets one request at a time anyway,
        # and a site crawled start to finish keeps its keep-alive connection instead of churning.
        sites_at_once = asyncio.Semaphore(self.cfg.concurrency)

        async def crawl_one(client: PoliteClient, site: SiteConfig) -> SiteResult:
            async with sites_at_once:
                crawl = _SiteCrawl(site, states[site.name], SiteResult(site.name))
                await self._crawl_site(client, crawl, since)
                finished.append((site.name, run_ids[site.name], crawl.result, crawl.updates))
                if len(finished) >= _FLUSH_SITES:
                    flush()
                return crawl.result

        try:
            client = PoliteClient(self.cfg, allowed_hosts(sites), robots_cache=robots)
            async with client:
                results = await asyncio.gather(*(crawl_one(client, site) for site in sites), return_exceptions=True)
        finally:
            flush()
            if client is not None and client.robots_read:
                with session(self.engine) as s:
                    crawlstate.save_robots(s, client.robots_read, datetime.now(UTC))
            if self._pool_started is not None:
                await self._pool_started
                self._pool_started = None
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None
        out: list[SiteResult] = []
        for site, result in zip(sites, results):
            if isinstance(result, BaseException):
                out.append(SiteResult(site.name, errors=[f"抓取中断：{type(result).__name__}: {result}"], status="failed"))
            else:
                out.append(result)
        return out

    # ---- one site ---------------------------------------------------------------------------

    async def _crawl_site(self, client: PoliteClient, crawl: _SiteCrawl, since: int | None) -> None:
        site, state, result = crawl.site, crawl.state, crawl.result
        try:
            entries, listed, fresh = await self._list(client, crawl, since)
            if listed and fresh and self._emptied(crawl, entries):
                return
            # Known articles an unchanged list no longer shows us are revisited (conditional GET)
            # once their last check is older than recheck_after_days, to notice later edits.
            # A page never read completely (it failed last time) is always due.
            due = datetime.now(UTC) - timedelta(days=self.cfg.recheck_after_days)
            known = state.known_articles
            for article in known:
                if article.url in entries:
                    continue
                if article.content_hash is None or article.checked_at is None or article.checked_at <= due:
                    entries[article.url] = ListEntry(article.title or "", article.url, article.list_date)
                elif article.url in state.report_urls:
                    result.reports_found += 1  # known, unchanged list, checked recently: still found
            # Links to other hosts (mirrors, spam copies of gov pages) are not this site's: ignored.
            candidates = [e for e in entries.values() if client.is_allowed(e.url) and self._wanted(e, since)]
            done = 0
            if self.progress:
                self.progress(site.name, 0, len(candidates))

            async def one(entry: ListEntry) -> None:
                nonlocal done
                try:
                    await self._article(client, crawl, entry)
                except Exception as exc:  # noqa: BLE001 - one article never stops the site
                    result.errors.append(f"{entry.url}：处理出错（{type(exc).__name__}: {exc}）")
                done += 1
                if self.progress:
                    self.progress(site.name, done, len(candidates))

            await asyncio.gather(*(one(e) for e in candidates))
            if not listed:  # the known pages may have been revisited, but what is new is unknown
                result.status = "failed"
            elif result.errors:
                result.status = "partial"
        except Exception as exc:  # noqa: BLE001 - a broken site is a result, not a crash
            result.errors.append(f"抓取中断：{type(exc).__name__}: {exc}")
            result.status = "failed"

    async def _list(self, client: PoliteClient, crawl: _SiteCrawl,
                    since: int | None = None) -> tuple[dict[str, ListEntry], bool, bool]:
        """Entries of all list URLs (conditional GETs), whether any list could be read, and
        whether every list's first page was read anew (none unchanged or failed).

        Beyond the pages `iter_entries` walks: a TRS "动静结合" list's later pages come from the
        site's document search, and a jcms site's annual-report module is asked for the reports
        of the units it names (see `_trs_search` and `_annual_report_module`)."""
        seen: dict[str, ListEntry] = {}
        listed = False
        fresh = True
        hints = crawl.site.hints
        units: dict[str, str] = {}  # unit code -> origin of its annual-report module

        def on_fetch(res: FetchResult) -> None:
            self._count(res, crawl.result)
            if res.error is None:
                crawl.updates.append(crawlstate.UrlUpdate(
                    res.url, "list", res.status, res.etag, res.last_modified,
                    _sha256(res.content) if res.content is not None and not res.not_modified else None))

        for list_url in crawl.site.list_urls:
            errors: list[str] = []
            first: list[FetchResult] = []  # the list's first page, as fetched

            def on_list_fetch(res: FetchResult, first: list[FetchResult] = first) -> None:
                if not first:
                    first.append(res)
                on_fetch(res)

            try:
                async for entry in iter_entries(client, list_url, hints,
                                                max_pages=self.cfg.max_list_pages,
                                                validators=crawl.state.validators, on_fetch=on_list_fetch,
                                                errors=errors):
                    seen.setdefault(entry.url, entry)
                listed = True
            except ListingError as exc:
                crawl.result.errors.append(f"{list_url}：{exc}")
                # Not its validators (an error page's, a challenge's): the next crawl reads it anew.
                crawl.updates.append(crawlstate.UrlUpdate(exc.url, "list", None, None, None, None, forget=True))
                fresh = False
                crawl.result.errors.extend(errors)
                continue
            crawl.result.errors.extend(errors)
            page = first[0] if first else None
            if page is None or page.error is not None or page.not_modified or page.content is None:
                fresh = False
                continue  # unchanged (304) or unread: its search pages and links are as before
            if not any(marker in page.content for marker in _API_MARKERS):
                continue  # most pages: no need to decode them again
            text = to_text(page.content, page.content_type)
            query = trs.parse_list_api(text, page.final_url)
            if query is not None:
                await self._trs_search(client, crawl, query, seen)
            if hints.platform in (None, "jcms") and (jcms.is_jcms(text) or "/module/xxgk/" in text
                                                     or "vc_xxgkarea=" in text):
                for code in jcms.unit_codes(text):
                    units.setdefault(code, _origin(page.final_url))

        if crawl.site.list_urls:
            for code in hints.unit_codes:
                units.setdefault(code, _origin(crawl.site.list_urls[0]))
        # Module pages the lists link to, and the units asked before: the codes are in the URLs.
        for url in [*seen, *crawl.state.urls]:
            known = jcms.module_year(url) if jcms.MODULE_PATH in url else None
            if known is not None:
                units.setdefault(known[0], _origin(url))
        if units:
            await self._annual_report_module(client, crawl, dict(list(units.items())[:MODULE_MAX_UNITS]),
                                             since, seen)
        return seen, listed, fresh

    @staticmethod
    def _emptied(crawl: _SiteCrawl, entries: dict[str, ListEntry]) -> bool:
        """True (and the site's crawl failed, see LIST_EMPTIED_MARK) if its lists, read anew,
        name no report although earlier crawls listed some. Nothing else of the site is fetched,
        and the lists' validators are dropped so that the next crawl reads them anew too."""
        if any(is_report_title(e.title) for e in entries.values()):
            return False
        before = sum(1 for a in crawl.state.known_articles if a.title and is_report_title(a.title))
        if before == 0:
            return False
        crawl.result.errors.insert(0, crawlstate.list_emptied_error(before))
        crawl.result.status = "failed"
        lists = {u.url for u in crawl.updates if u.kind == "list"}
        crawl.updates.extend(crawlstate.UrlUpdate(url, "list", None, None, None, None, forget=True) for url in lists)
        return True

    async def _trs_search(self, client: PoliteClient, crawl: _SiteCrawl, query: trs.TrsApiQuery,
                          seen: dict[str, ListEntry]) -> None:
        """The pages of a "动静结合" list after the static ones, from the site's document search
        (POSTs: no validators; asked only when the static page changed). Stops at the page
        count, at an empty page or one with nothing new, or at max_list_pages."""
        pages = query.page_count
        page = query.first_api_page
        budget = max(0, self.cfg.max_list_pages - query.static_pages)
        while budget > 0 and (pages is None or page <= pages):
            url, form = trs.api_request(query, page)
            res = await client.fetch(url, method="POST", data=form, accept_types=_ACCEPT_JSON)
            self._count(res, crawl.result)
            budget -= 1
            if not res.ok or res.content is None:
                crawl.result.errors.append(f"{url}（第 {page} 页）：列表接口请求失败：{res.error or f'HTTP {res.status}'}")
                return
            entries, page_count = trs.parse_api(to_text(res.content, res.content_type), res.final_url)
            if page_count is not None:
                pages = page_count
            new = [e for e in entries if e.url not in seen]
            for entry in new:
                seen[entry.url] = entry
            if not new:
                return
            page += 1

    async def _annual_report_module(self, client: PoliteClient, crawl: _SiteCrawl, units: dict[str, str],
                                    since: int | None, seen: dict[str, ListEntry]) -> None:
        """Ask a jcms site's annual-report module for each unit's report of each year from
        `since` (else MODULE_FIRST_YEAR) to last year (a report on year Y appears in Y+1).

        A year is asked again only while its report may still appear: the last year, until the
        report is there; an older year once (a report found is then revisited like any known
        article, when due). The answer is read as a report page (then handed to the article step
        without a second download), a page linking to reports (their links become entries), or
        no report (remembered like a list page, for conditional requests; a 404 is not an error)."""
        latest = datetime.now(_CST).year - 1
        first = since if since is not None else MODULE_FIRST_YEAR
        state = crawl.state
        for code, origin in units.items():
            for year in range(first, latest + 1):
                url = jcms.annual_report_url(origin, code, year)
                if url in seen or url in state.report_urls or url in crawl.prefetched:
                    continue
                if not client.is_allowed(url):
                    continue
                prior = state.urls.get(url)
                if prior is not None and year < latest:
                    continue
                res = await client.fetch(url, etag=prior.etag if prior else None,
                                         last_modified=prior.last_modified if prior else None)
                self._count(res, crawl.result)
                if res.not_modified:
                    continue
                if res.error is not None or res.content is None or res.status is None or res.status >= 300:
                    if res.status is not None and 400 <= res.status < 500:  # no such report page
                        crawl.updates.append(crawlstate.UrlUpdate(url, "list", res.status, None, None, None))
                    else:
                        crawl.result.errors.append(f"{url}：{res.error or f'HTTP {res.status}'}")
                    continue
                answer = jcms.parse_annual_report(to_text(res.content, res.content_type), res.final_url, year)
                entry = ListEntry(answer.title, url, answer.published)
                if answer.report and self._wanted(entry, since):
                    seen[url] = entry
                    crawl.prefetched[url] = res
                    continue
                crawl.updates.append(crawlstate.UrlUpdate(
                    url, "list", res.status, res.etag, res.last_modified, _sha256(res.content)))
                for entry in answer.links:
                    seen.setdefault(entry.url, entry)

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

    async def _fetch(self, client: PoliteClient, crawl: _SiteCrawl, url: str, *, kind: str,
                     entry: ListEntry | None = None) -> tuple[FetchResult, crawlstate.UrlState | None, str | None]:
        """A conditional GET, remembered for the end of the crawl. Returns the result, what was
        known of the URL before, and the content hash when new content arrived (else None)."""
        prior = crawl.state.urls.get(url)
        res = crawl.prefetched.pop(url, None)  # fetched (and counted) while listing
        if res is None:
            res = await client.fetch(url, etag=prior.etag if prior else None,
                                     last_modified=prior.last_modified if prior else None)
            self._count(res, crawl.result)
        if res.error:
            crawl.result.errors.append(f"{url}：{res.error}")
            crawl.updates.append(crawlstate.UrlUpdate(
                url, kind, res.status or None, None, None, None,
                title=entry.title if entry else None, list_date=entry.date if entry else None, forget=True))
            return res, prior, None
        digest = _sha256(res.content) if res.content is not None and not res.not_modified else None
        crawl.updates.append(crawlstate.UrlUpdate(
            url, kind, res.status, res.etag, res.last_modified, digest,
            title=entry.title if entry else None, list_date=entry.date if entry else None))
        return res, prior, digest

    # ---- one article --------------------------------------------------------------------------

    async def _article(self, client: PoliteClient, crawl: _SiteCrawl, entry: ListEntry) -> None:
        res, prior, digest = await self._fetch(client, crawl, entry.url, kind="article", entry=entry)
        if res.error:
            return
        now = datetime.now(UTC)
        first_seen = prior.first_seen_at if prior else now
        outcomes: list[tuple[DocumentJob | None, JobOutcome]] = []
        if digest is None:
            # Unchanged page (304): its attachments may still have changed.
            attachment_urls = crawl.state.attachments.get(entry.url, [])
            published, source = (start_of(entry.date), "list") if entry.date else (first_seen, "first_seen")
        else:
            page = self._job(crawl, entry, entry.url, res, digest, None, first_seen, "first_seen", now)
            read = await self._in_worker(process_article, ArticleJob(
                page, res.final_url, entry.date, first_seen, crawl.state.crawled_before,
                crawl.site.hints.body_selector, store_page=prior is None or prior.content_hash != digest))
            if isinstance(read, JobOutcome):  # the page could not be read: retried next time
                outcomes.append((page, read))
                attachment_urls, published, source = [], first_seen, "first_seen"
            else:
                attachment_urls, published, source = list(read.attachments), read.published, read.published_source
                if read.page is not None:
                    outcomes.append((page, read.page))

        jobs: list[DocumentJob] = []
        for url in attachment_urls:
            att, att_prior, att_digest = await self._fetch(client, crawl, url, kind="attachment")
            if att_digest is not None and (att_prior is None or att_prior.content_hash != att_digest):
                jobs.append(self._job(crawl, entry, url, att, att_digest, entry.url, published, source, now))
        stored = await asyncio.gather(*(self._in_worker(store_document, job) for job in jobs))
        outcomes.extend(zip(jobs, stored))  # type: ignore[arg-type]

        result = crawl.result
        for job, outcome in outcomes:
            attachment = job is not None and job.source_url is not None
            if outcome.error is not None and (attachment or outcome.failed or outcome.retry):
                result.errors.append(f"{outcome.url}：{outcome.error}")
            if outcome.failed or outcome.retry:
                # Not stored, but may be next time (a crash, LibreOffice missing): forget the
                # document and its article page so the next crawl reads both again.
                for url, kind in ((outcome.url, "attachment" if attachment else "article"), (entry.url, "article")):
                    crawl.updates.append(crawlstate.UrlUpdate(url, kind, None, None, None, None, forget=True))
            if outcome.status == "new":
                result.reports_new += 1
            elif outcome.status == "changed":
                result.reports_changed += 1
        if (any(o.status for _, o in outcomes) or entry.url in crawl.state.report_urls
                or any(u in crawl.state.report_urls for u in attachment_urls)):
            result.reports_found += 1

    def _job(self, crawl: _SiteCrawl, entry: ListEntry, url: str, res: FetchResult, digest: str,
             source_url: str | None, published: datetime, source: str, now: datetime) -> DocumentJob:
        assert res.content is not None
        site = crawl.site
        return DocumentJob(
            url=url, content=res.content, content_hash=digest, content_type=res.content_type, source_url=source_url,
            site=site.name, site_agency=site.agency, region_code=site.region_code,
            region_name=site.region_name, level=site.level, list_title=entry.title,
            list_year=report_year(entry.title), published=published, published_source=source,
            fetched_at=now, database_url=self.database_url, registry_stamp=self._registry_stamp, soffice=self.soffice,
            convert_timeout=self.convert_timeout, read_timeout=self.read_timeout,
        )

    async def _in_worker(self, fn: Callable[..., Any], job: Any) -> Any:
        """fn(job) in the worker pool (inline without one); a crash becomes a failed JobOutcome."""
        url = job.url if isinstance(job, DocumentJob) else job.page.url
        pool = self._pool
        limit = watchdog.hard_limit_s(job)
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            if pool is None:
                return fn(job, self.engine)
            if self._pool_started is None:  # the first job: start the workers, off the event loop
                self._pool_started = loop.run_in_executor(None, _start_workers, pool, self.cfg.check_workers)
            await self._pool_started  # no job is submitted while they start: submitting would block
            started = loop.time()
            return await loop.run_in_executor(pool, watchdog.guarded, fn, job, limit)
        except BrokenProcessPool:
            # A worker died (killed for memory, crashed, ended by its watchdog): new workers for the
            # jobs after this one. The other jobs in flight in the broken pool end here too.
            if pool is not None and self._pool is pool:
                pool.shutdown(wait=False, cancel_futures=True)
                self._pool = _check_pool(self.cfg.check_workers)
                self._pool_started = None
            if loop.time() - started >= limit:
                return JobOutcome(url, None, f"检查超时（超过 {limit:g} 秒仍未结束），检查进程已终止，下次抓取重试",
                                  failed=True)
            return JobOutcome(url, None, "检查进程异常退出，本文件未处理，下次抓取重试", failed=True)
        except Exception as exc:  # noqa: BLE001 - one document never stops the crawl
            return JobOutcome(url, None, f"检查或入库出错（{type(exc).__name__}: {exc}）", failed=True)
