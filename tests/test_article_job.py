"""A fetched article page is parsed once, for both of its readers.

scraper.article_job.process_article hands the tree it parses to checks.readers.html (through
read_bytes) and then to scraper.article. Everything it returns and stores must be what the two
readers give when each parses the page itself."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from lxml import etree

from checks.document import ReadError
from checks.readers import read_bytes
from checks.readers.html import parse_tree, read_html, shared_tree
from databases import drop_database, new_database_url
from db.engine import make_engine, upgrade
from readers_fixtures import cms_report_html, word_report_html
from scraper import store_job
from scraper.article import decode_page, parse_article, read_article
from scraper.article_job import ArticleJob, parse_once, process_article, publication_date
from scraper.platforms.common import parse_html
from scraper.store_job import DocumentJob, store_document
from xxgk.demo import default_sites

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2024, 3, 1, 9, 30, tzinfo=timezone.utc)

# A site script in the body, longer than the article: the report reader counts it when it looks
# for the article container, the article reader removes it. Reading the report after the
# article would read another part of the page.
_SCRIPT = '<script>var menu = "' + "x" * 40000 + '";</script>'


def _demo_pages() -> list[tuple[str, bytes, str]]:
    """The fixture sites' HTML article pages: (url, bytes, Content-Type header)."""
    out = []
    for site in default_sites():
        paths = [r.url for r in site.reports] + [e.href for e in site.entries if e.href.startswith("/")]
        for path in dict.fromkeys(paths):
            page = site.pages.get(path)
            if page is None or page.content_type != "text/html" or page.faults:
                continue
            data = page.data()
            if data:
                out.append((f"http://{site.name}.example{path}", data, page.content_type_header))
    return out


def _pages() -> list[tuple[str, bytes, str | None]]:
    cms = cms_report_html()
    pages: list[tuple[str, bytes, str | None]] = [
        ("http://x.gov.cn/cms.html", cms.encode("utf-8"), "text/html; charset=utf-8"),
        ("http://x.gov.cn/gbk.html", cms_report_html(charset_meta="gb2312").encode("gb18030"), None),
        ("http://x.gov.cn/word.htm", word_report_html(target_kb=60).encode("utf-8"), "text/html"),
        ("http://x.gov.cn/script.html", cms.replace("<body>", "<body>" + _SCRIPT, 1).encode(), "text/html"),
        # The report reader drops U+E000 (its line break) before parsing, the article reader does
        # not: the page is parsed for each, as before.
        ("http://x.gov.cn/pua.html", cms.replace("</h1>", "\ue000</h1>", 1).encode("utf-8"), "text/html"),
        ("http://x.gov.cn/decl.html", ('<?xml version="1.0" encoding="utf-8"?>\n' + cms).encode(), "text/html"),
        ("http://x.gov.cn/notice.html", "<html><body><h1>通知</h1><p>放假</p></body></html>".encode(), "text/html"),
        ("http://x.gov.cn/blank.html", b"<html><body>  </body></html>", "text/html"),
        # Comments, processing instructions and broken markup: both parsers drop and mend alike.
        ("http://x.gov.cn/messy.html", cms.replace("<body>", "<body><!-- 统计 --><?php echo 1; ?><p>未闭合<b>粗体"
                                                  "<table><tr><td>1<td>2</table>", 1).encode(), "text/html"),
        ("http://x.gov.cn/image.html", b'<html><body><img src="a.png"></body></html>', "text/html"),
    ]
    for path in sorted((REPO / "samples").glob("*.htm*")):
        pages.append((f"http://x.gov.cn/{path.name}", path.read_bytes(), None))
    return pages + _demo_pages()


PAGES = _pages()


def _text(data: bytes, content_type: str | None) -> str:
    return decode_page(data, content_type)[0]


def _read(text: str, **kw) -> object:
    try:
        return read_html(text, "http://x.gov.cn/a.html", **kw)
    except ReadError as exc:
        return ("ReadError", exc.reason)


def _tree_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root.getroottree(), method="xml")


def test_the_script_page_really_depends_on_the_order() -> None:
    """Keeps test_process_article_parses_once… meaningful: on this page, the report read from
    the article reader's tree (scripts removed) differs from the report read from the page."""
    page = next(data for url, data, _ in PAGES if url.endswith("/script.html")).decode("utf-8")
    root = parse_tree(page)
    first = read_html(page, "u", root=root)
    read_article(page, "u", root)  # removes the script from the tree
    assert read_html(page, "u", root=root) != first


@pytest.mark.parametrize("url,data,content_type", PAGES, ids=lambda v: v if isinstance(v, str) else "")
def test_read_html_given_the_parsed_tree_reads_what_it_reads_from_the_text(url, data, content_type) -> None:
    text = _text(data, content_type)
    try:
        root = parse_tree(text)
    except ReadError:
        with pytest.raises(ReadError):
            read_html(text, url)
        return
    before = _tree_bytes(root)
    assert _read(text, root=root) == _read(text)
    assert _tree_bytes(root) == before  # reading leaves the tree as it was
    # read_bytes, as the crawler calls it, inside shared_tree: the same Document
    expected = _document(data, url, content_type)
    with shared_tree(text, root):
        assert _document(data, url, content_type) == expected
    assert _tree_bytes(root) == before


def _document(data: bytes, url: str, content_type: str | None) -> object:
    try:
        return read_bytes(data, url, content_type=content_type)
    except ReadError as exc:
        return ("ReadError", exc.reason)


def test_both_parsers_build_the_same_tree() -> None:
    """parse_once hands the report reader's tree to the article reader: that is only right while
    the two parsers are configured alike."""
    for url, data, content_type in PAGES:
        text = _text(data, content_type)
        root, shared = parse_once(text)
        if shared:
            assert _tree_bytes(root) == _tree_bytes(parse_html(text)), url
            assert _tree_bytes(root) == _tree_bytes(parse_tree(text)), url
        else:
            assert "\ue000" in text, url


def test_shared_tree_is_used_for_its_text_only() -> None:
    page = cms_report_html()
    other = parse_tree(page.replace("一、总体情况", "一、概述", 1))
    with shared_tree(page, other):
        assert read_html(page, "u") == read_html(page, "u", root=other)  # the tree given is read
        assert read_html(page + " ", "u") == read_html(page + " ", "u", root=parse_tree(page + " "))
    assert read_html(page, "u") != read_html(page, "u", root=other)  # and only inside the block


def test_read_article_on_a_parsed_tree_is_parse_article() -> None:
    for url, data, content_type in PAGES:
        text, encoding = decode_page(data, content_type)
        expected = parse_article(data, url, content_type=content_type)
        got = read_article(text, url, parse_html(text), encoding=encoding)
        assert repr(got) == repr(expected)
        assert got.body_html == expected.body_html


def _job(url: str, data: bytes, content_type: str | None, database_url: str, *,
         store_page: bool = True) -> ArticleJob:
    page = DocumentJob(
        url=url, content=data, content_hash=hashlib.sha256(data).hexdigest(), content_type=content_type,
        source_url=None, site="demo", site_agency="示例县人民政府", region_code="110101", region_name="东城区",
        level="government", list_title="示例县2023年政府信息公开工作年度报告", list_year=2023, published=NOW,
        published_source="first_seen", fetched_at=NOW, database_url=database_url,
    )
    return ArticleJob(page, url, None, NOW, False, None, store_page)


def _dump(engine) -> list[tuple[str, list[str]]]:
    """Every table's rows, without the columns that hold the time of writing (either database)."""
    out = []
    meta = sa.MetaData()
    with engine.connect() as conn:
        for name in sorted(sa.inspect(conn).get_table_names()):
            table = sa.Table(name, meta, autoload_with=conn)
            keep = [c for c in table.c if not re.search(r"(_at|time|stamp)$", c.name)]
            out.append((name, sorted(map(repr, conn.execute(sa.select(*keep))))))
    return out


def _reference(job: ArticleJob, engine):
    """What process_article did before the page was parsed once: parse_article, then
    store_document reading the bytes again."""
    page = job.page
    article = parse_article(page.content, job.final_url, content_type=page.content_type)
    published, source = publication_date(article, job.list_date, job.final_url, job.first_seen,
                                         job.crawled_before)
    stored = None
    if job.store_page:
        page = dataclasses.replace(page, published=published, published_source=source)
        stored = store_document(page, engine)
    return tuple(a.url for a in article.attachments), published, source, stored


def test_process_article_parses_once_and_stores_what_two_parses_stored(tmp_path, monkeypatch, request) -> None:
    old_url, new_url = new_database_url(tmp_path, "old.db"), new_database_url(tmp_path, "new.db")
    request.addfinalizer(lambda: (drop_database(old_url), drop_database(new_url)))
    upgrade(old_url)
    upgrade(new_url)
    old, new = make_engine(old_url), make_engine(new_url)
    request.addfinalizer(lambda: (old.dispose(), new.dispose()))
    real = etree.fromstring
    parses = []

    def counting(*args, **kwargs):
        parses.append(1)
        return real(*args, **kwargs)

    checked = []  # the Documents the checks were given
    real_check = store_job.check_document

    def check(doc):
        checked.append(doc)
        return real_check(doc)

    monkeypatch.setattr(store_job, "check_document", check)
    try:
        for url, data, content_type in PAGES:
            checked.clear()
            expected = _reference(_job(url, data, content_type, old_url), old)
            expected_docs = list(checked)
            checked.clear()
            monkeypatch.setattr(etree, "fromstring", counting)
            parses.clear()
            got = process_article(_job(url, data, content_type, new_url), new)
            monkeypatch.setattr(etree, "fromstring", real)
            assert checked == expected_docs, url
            assert (got.attachments, got.published, got.published_source, got.page) == expected, url
            # A page holding U+E000 is parsed for each reader, as before.
            assert len(parses) == (2 if "\ue000" in _text(data, content_type) else 1), url
        assert _dump(new) == _dump(old)
        # A page whose content did not change is only read for its links: parsed once, not stored.
        url, data, content_type = PAGES[0]
        parses.clear()
        monkeypatch.setattr(etree, "fromstring", counting)
        got = process_article(_job(url, data, content_type, new_url, store_page=False), new)
        assert got.page is None and len(parses) == 1
    finally:
        old.dispose()
        new.dispose()
