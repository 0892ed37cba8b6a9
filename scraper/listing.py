"""Walk a site's list pages and yield the links on them.

`iter_entries` fetches the list URL, recognises the platform (or takes `hints.platform`) and
follows its pagination:

- **trs**: the `createPageHTML(…)` page count → `index_1.htm`, `index_2.htm` …;
- **jcms**: the records embedded in the column page, then POSTs to `dataproxy.jsp`, 45 records
  (3 pages) per request, until `totalrecord`;
- **gkmlpt**: the JSON API `/gkmlpt/api/all/<column>?page=N&sid=<site>`;
- **plain**: links titled 下一页/尾页/page numbers, or `?page=N` / `index_N.html` URLs.

It yields every article-like link once (URLs deduplicated across pages); whether a link is a
report is for the caller to decide (`scraper.recognize.is_report_title`). It never fetches more
than `max_pages` list pages (a jcms request counts as the pages it returns) and never fetches a
page twice. The parsers are pure functions in `scraper.platforms`; only this module fetches.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Literal

from scraper.http import FetchResult, PoliteClient
from scraper.platforms import gkmlpt, jcms, plain, trs
from scraper.platforms.common import ListEntry, entries_from_tree, parse_html, to_text
from scraper.soft_errors import error_page
from xxgk.config import SiteHints

__all__ = ["ListEntry", "ListingError", "Platform", "detect_platform", "parse_list_page", "iter_entries"]

Platform = Literal["trs", "jcms", "gkmlpt", "plain"]
Validators = Mapping[str, tuple[str | None, str | None]]  # url → (etag, last_modified)

_ACCEPT_HTML = ("text/html", "application/xhtml+xml", "*/*;q=0.5")
_ACCEPT_JSON = ("application/json", "text/javascript", "*/*;q=0.5")
_ACCEPT_XML = ("application/xml", "text/xml", "*/*;q=0.5")


class ListingError(Exception):
    """A list page could not be fetched. `url` is the page, `reason` the fetch error (Chinese)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"列表页 {url} 抓取失败：{reason}")
        self.url = url
        self.reason = reason


def detect_platform(text: str, url: str) -> Platform:
    """The platform a list page is served by, from its URL and markup."""
    if gkmlpt.is_gkmlpt(url, text):
        return "gkmlpt"
    if jcms.is_jcms(text):
        return "jcms"
    if trs.is_trs(text):
        return "trs"
    return "plain"


def parse_list_page(text: str, url: str, *, link_selector: str | None = None) -> list[ListEntry]:
    """The links of an HTML list page (a jcms column page's embedded records included)."""
    root = parse_html(text)
    entries = entries_from_tree(root, url, selector=link_selector)
    if "<record" in text:
        entries = jcms.records(text, url) + entries
    return entries


async def iter_entries(
    client: PoliteClient,
    list_url: str,
    hints: SiteHints,
    *,
    max_pages: int,
    validators: Validators | None = None,
    on_fetch: Callable[[FetchResult], None] | None = None,
    errors: list[str] | None = None,
) -> AsyncIterator[ListEntry]:
    """Yield the entries of a list and of its further pages.

    - `validators` (url → (etag, last_modified)) makes list GETs conditional; a page that
      answers 304 yields nothing and its pagination is not followed (an unchanged first page
      means an unchanged list).
    - `on_fetch` sees every list fetch (to store validators, count bytes).
    - A first page that cannot be fetched raises `ListingError`. A later one never stops the
      walk: its error is appended to `errors` if given (and `on_fetch` sees its FetchResult).
      A 200 answer that is an error page or a firewall's challenge (scraper.soft_errors) counts
      as a page that could not be fetched.
    """
    walker = _Walk(client, hints, max(1, max_pages), validators or {}, on_fetch, errors)
    platform = hints.platform
    if platform == "gkmlpt" or (platform is None and gkmlpt.is_gkmlpt(list_url)):
        async for entry in walker.gkmlpt(list_url, None):
            yield entry
        return
    first = await walker.get(list_url, first=True)
    if first is None:
        return
    text, final_url = first
    platform = platform or detect_platform(text, final_url)
    if platform == "gkmlpt":  # the column id is in the configured URL's #fragment
        fragment = list_url.partition("#")[2]
        async for entry in walker.gkmlpt(final_url + ("#" + fragment if fragment else ""), text):
            yield entry
    elif platform == "jcms":
        async for entry in walker.jcms(final_url, text):
            yield entry
    else:
        async for entry in walker.linked_pages(final_url, text, platform):
            yield entry


class _Walk:
    def __init__(
        self,
        client: PoliteClient,
        hints: SiteHints,
        max_pages: int,
        validators: Validators,
        on_fetch: Callable[[FetchResult], None] | None,
        errors: list[str] | None,
    ) -> None:
        self.client = client
        self.hints = hints
        self.max_pages = max_pages
        self.validators = validators
        self.on_fetch = on_fetch
        self.errors = errors
        self.page_count = 0  # list pages fetched (a jcms group counts as its pages)
        self.seen: set[str] = set()

    def new(self, entries: list[ListEntry]) -> list[ListEntry]:
        out = []
        for e in entries:
            if e.url not in self.seen:
                self.seen.add(e.url)
                out.append(e)
        return out

    async def get(
        self,
        url: str,
        *,
        first: bool = False,
        method: str = "GET",
        data: Mapping[str, str] | None = None,
        accept: tuple[str, ...] = _ACCEPT_HTML,
        pages: int = 1,
    ) -> tuple[str, str] | None:
        """(text, final url) of a list page; None if unchanged (304) or failed (recorded)."""
        etag, last_modified = self.validators.get(url, (None, None)) if method == "GET" else (None, None)
        res = await self.client.fetch(url, etag=etag, last_modified=last_modified, method=method, data=data,
                                      accept_types=accept)
        self.page_count += pages
        if self.on_fetch is not None:
            self.on_fetch(res)
        if res.not_modified:
            return None
        soft = error_page(res.content, res.content_type) if res.ok and res.content is not None else None
        if not res.ok or res.content is None or soft is not None:
            reason = soft or res.error or f"HTTP {res.status}"
            if first:
                raise ListingError(url, reason)
            if self.errors is not None:
                self.errors.append(f"列表页 {url} 抓取失败：{reason}")
            return None
        return to_text(res.content, res.content_type), res.final_url

    # ---------------------------------------------------------------- TRS and plain pages

    async def linked_pages(self, url: str, text: str, platform: str) -> AsyncIterator[ListEntry]:
        """Page 1 is already fetched; then the pages it links to, lowest page number first.
        A page that adds no new entry is a dead end: its links are not followed."""
        selector = self.hints.link_selector
        fetched = {url}
        if url.endswith("/"):  # the directory and its index page are the same page
            fetched.update(url + name for name in ("index.htm", "index.html", "index.shtml", "index.jhtml"))
        best: dict[str, int] = {}
        queue: list[tuple[int, int, str]] = []
        seq = 0

        def enqueue(candidates: list[tuple[int, str]]) -> None:
            nonlocal seq
            for prio, nxt in candidates:
                if nxt not in fetched and prio < best.get(nxt, 1 << 62):
                    best[nxt] = prio  # a better priority re-queues; the stale copy is skipped
                    seq += 1
                    heapq.heappush(queue, (prio, seq, nxt))

        current: tuple[str, str] | None = (text, url)
        first = True
        while current is not None:
            page_text, page_url = current
            fetched.add(page_url)
            root = parse_html(page_text)
            found = self.new(entries_from_tree(root, page_url, selector=selector))
            for entry in found:
                yield entry
            if found or first:
                links: list[tuple[int, str]] = []
                if platform == "trs":
                    links = [(i + 2, u) for i, u in enumerate(trs.page_urls(page_text, page_url))]
                links += plain.page_links(root, page_url)
                enqueue(links)
            first = False
            current = None
            while queue and self.page_count < self.max_pages and current is None:
                _, _, nxt = heapq.heappop(queue)
                if nxt in fetched:
                    continue
                fetched.add(nxt)
                current = await self.get(nxt)

    # ---------------------------------------------------------------- jcms

    async def jcms(self, url: str, text: str) -> AsyncIterator[ListEntry]:
        query = jcms.parse_column_page(text, url)
        inline = jcms.records(text, url)
        if query is None:  # no dataproxy parameters: page it like a plain list
            for entry in self.new(inline):
                yield entry
            async for entry in self.linked_pages(url, text, "plain"):
                yield entry
            return
        self.page_count = max(self.page_count, math.ceil(len(inline) / query.perpage) if inline else 1)
        found = self.new(inline)
        for entry in found:
            yield entry
        total = query.total
        start = len(inline) + 1
        while self.page_count < self.max_pages and (total is None or start <= total):
            remaining_pages = self.max_pages - self.page_count
            size = min(query.group_size, remaining_pages * query.perpage)
            end = start + size - 1
            req_url, form = jcms.request(query, start, end)
            got = await self.get(req_url, method="POST", data=form, accept=_ACCEPT_XML,
                                 pages=math.ceil(size / query.perpage))
            if got is None:
                return
            entries, xml_total = jcms.parse_dataproxy(got[0], url)
            if xml_total is not None:
                total = xml_total
            found = self.new(entries)
            for entry in found:
                yield entry
            if not entries or not found:
                return
            start = end + 1

    # ---------------------------------------------------------------- gkmlpt

    async def gkmlpt(self, url: str, text: str | None) -> AsyncIterator[ListEntry]:
        query = gkmlpt.query_from(url, text or "")
        if query is None and text is None:
            got = await self.get(url.split("#", 1)[0], first=True, pages=0)
            if got is None:
                return
            text = got[0]
            query = gkmlpt.query_from(url, text)
        if query is None:  # a gkmlpt-looking page without a site id: read its links
            if text:
                for entry in self.new(parse_list_page(text, url, link_selector=self.hints.link_selector)):
                    yield entry
            return
        page = 1
        total: int | None = None
        count = 0
        while self.page_count < self.max_pages:
            api = gkmlpt.api_url(query, page)
            got = await self.get(api, first=page == 1, accept=_ACCEPT_JSON)
            if got is None:
                return
            entries, page_total = gkmlpt.parse_api(got[0], api)
            if page_total is not None:
                total = page_total
            count += len(entries)
            found = self.new(entries)
            for entry in found:
                yield entry
            if not entries or not found or (total is not None and count >= total):
                return
            page += 1
