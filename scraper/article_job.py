"""Reading a fetched article page, and checking and storing it: one job for a worker process.

Parsing a page costs more CPU than fetching it, so it runs next to the checks in the worker pool,
not on the crawler's event loop. The crawler gets back what it needs to go on: the attachment
URLs and the publication date (which the page's attachments share).

A new page is parsed once for its two readers: checks.readers.html reads the report from the tree,
then scraper.article reads the links and the date from it (in that order: scraper.article removes
scripts and styles from the tree, which the report reader must still see).

A pathological page cannot hold the worker: reading it as a report, and reading its links and
date, each stop after the job's time limit (`DocumentJob.read_limit`: the config's
`checks.read_timeout_s`, by default `checks.convert_timeout_s`; see checks.budget), the first
with the document's read error, the second with a JobOutcome naming the timeout.
"""

from __future__ import annotations

import dataclasses
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, time

from lxml import etree
from sqlalchemy.engine import Engine

from checks.budget import time_limit, timeout_reason
from checks.document import ReadError
from checks.model import CST
from checks.readers import html as html_reader
from checks.readers.html import shared_tree
from scraper.article import Article, decode_page, read_article, url_date
from scraper.platforms.common import parse_html, prepare_html
from scraper.store_job import DocumentJob, JobOutcome, read_document, store_document


@dataclass(frozen=True, slots=True)
class ArticleJob:
    page: DocumentJob  # the page as fetched; its publication date is filled in from the page
    final_url: str  # after redirects: relative links resolve against it
    list_date: date | None
    first_seen: datetime
    crawled_before: bool  # the site was crawled before: first-seen dates mean something
    body_selector: str | None
    store_page: bool  # new content: check and store the page itself (else only read its links)


@dataclass(frozen=True, slots=True)
class ArticleOutcome:
    attachments: tuple[str, ...]
    published: datetime
    published_source: str
    page: JobOutcome | None  # None: the page was not stored (store_page was False)


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=CST)


def publication_date(article: Article, list_date: date | None, url: str, first_seen: datetime,
                     crawled_before: bool) -> tuple[datetime, str]:
    """The publication date and its evidence, in the order the deadline rules trust them:
    the article's 发布日期 line or PubDate meta, the list page's date, the first time the crawler
    saw it (only meaningful once the site is crawled regularly), the URL's date as a last resort."""
    if article.published is not None:
        published = article.published
        if published.tzinfo is None:
            published = published.replace(tzinfo=CST)
        return published, article.published_source or "article"
    if list_date is not None:
        return start_of(list_date), "list"
    if crawled_before:
        return first_seen, "first_seen"
    from_url = url_date(url)
    if from_url is not None:
        return start_of(from_url), "url"
    return first_seen, "first_seen"


def process_article(job: ArticleJob, engine: Engine | None = None) -> ArticleOutcome | JobOutcome:
    """The page's attachments and date, and the page checked and stored if it is new; or a
    JobOutcome with the reason if the page could not be read in time."""
    page = job.page
    limit = page.read_limit
    try:
        with time_limit(limit, timeout_reason(limit, "网页")):
            text, encoding = decode_page(page.content, page.content_type)
            root, shared = parse_once(text) if job.store_page else (parse_html(text), False)
        read = None
        if job.store_page:
            # One parse for both readers, the report reader first (see the module docstring).
            with shared_tree(text, root) if shared else nullcontext():
                read = read_document(page)  # under the reader's own limit
        with time_limit(limit, timeout_reason(limit, "网页")):
            article = read_article(text, job.final_url, root, encoding=encoding, body_selector=job.body_selector)
    except ReadError as exc:
        return JobOutcome(page.url, None, exc.reason, retry=exc.retryable)
    published, source = publication_date(article, job.list_date, job.final_url, job.first_seen,
                                         job.crawled_before)
    stored = None
    if job.store_page:
        page = dataclasses.replace(page, published=published, published_source=source)
        stored = store_document(page, engine, read=read)
    return ArticleOutcome(tuple(a.url for a in article.attachments), published, source, stored)


def parse_once(text: str) -> tuple[etree._Element, bool]:
    """The page's tree, and whether it is also the tree checks.readers.html would build: both
    parsers hand lxml the same markup (they differ only for rare pages, e.g. ones holding the
    character the report reader uses as a line break) and the parse succeeded."""
    prepared = html_reader.prepare(text)
    if prepared is text or prepared == prepare_html(text):
        try:
            return html_reader.parse_prepared(prepared), True
        except ReadError:
            pass
    return parse_html(text), False
