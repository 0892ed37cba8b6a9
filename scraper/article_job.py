"""Reading a fetched article page, and checking and storing it: one job for a worker process.

Parsing a page costs more CPU than fetching it, so it runs next to the checks in the worker pool,
not on the crawler's event loop. The crawler gets back what it needs to go on: the attachment
URLs and the publication date (which the page's attachments share).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy.engine import Engine

from checks.model import CST
from scraper.article import Article, parse_article, url_date
from scraper.store_job import DocumentJob, JobOutcome, store_document


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


def process_article(job: ArticleJob, engine: Engine | None = None) -> ArticleOutcome:
    page = job.page
    article = parse_article(page.content, job.final_url, content_type=page.content_type,
                            body_selector=job.body_selector)
    published, source = publication_date(article, job.list_date, job.final_url, job.first_seen,
                                         job.crawled_before)
    stored = None
    if job.store_page:
        stored = store_document(dataclasses.replace(page, published=published, published_source=source), engine)
    return ArticleOutcome(tuple(a.url for a in article.attachments), published, source, stored)
