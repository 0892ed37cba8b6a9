"""CPU cost of the crawl's two HTML parsers, per article page, on one core.

    python bench/bench_parse.py               # 150 benchmark sites + the four fixture sites
    python bench/bench_parse.py --sites 20    # a smoke run
    python bench/bench_parse.py --digest      # also print a hash of every result

The pages are the crawl benchmark's report pages (`xxgk.demo.many_sites`, as `python -m
xxgk.demo --many N` serves them) plus the HTML article pages of the four fixture sites
(`default_sites()`), rendered in memory up front, so only parsing is timed:

- `scraper.article.parse_article` on the page's bytes and Content-Type, as the crawler calls it;
- `checks.readers.html.read_html` on the decoded text, as `checks.readers.read_bytes` calls it
  for an HTML report;
- both, as the crawler reads a new report page (`scraper.article_job.process_article`): the page
  decoded and parsed once, the report read from that tree by `read_bytes`, then the article.

`--digest` hashes the repr of every Article and Document: an optimisation must leave it unchanged.
It also checks that reading both from one parse gives exactly what the two parsers give alone.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checks.readers import ReadError, read_bytes  # noqa: E402
from checks.readers.decode import decode, header_charset, html_declared_charset  # noqa: E402
from checks.readers.html import read_html, shared_tree  # noqa: E402
from scraper.article import decode_page, parse_article, read_article  # noqa: E402
from scraper.article_job import parse_once  # noqa: E402
from xxgk.demo import Site, default_sites, many_sites  # noqa: E402

Page = tuple[bytes, str, str]  # bytes, Content-Type header, URL


def _html_pages(site: Site, paths: list[str]) -> list[Page]:
    out = []
    for path in dict.fromkeys(paths):
        page = site.pages.get(path)
        if page is None or page.content_type != "text/html" or page.faults:
            continue
        data = page.data()
        if data:
            out.append((data, page.content_type_header, f"http://{site.name}.example{path}"))
    return out


def corpus(n_sites: int, fixtures: bool) -> list[Page]:
    """The benchmark sites' report pages, then (with `fixtures`) every HTML article page the
    fixture sites' lists link to."""
    pages = [p for site in many_sites(n_sites) for p in _html_pages(site, [r.url for r in site.reports])]
    if fixtures:
        for site in default_sites():
            paths = [r.url for r in site.reports] + [e.href for e in site.entries if e.href.startswith("/")]
            pages += _html_pages(site, paths)
    return pages


def _decoded(data: bytes, content_type: str) -> str:
    return decode(data, declared=header_charset(content_type) or html_declared_charset(data)).text


def _read(text: str, url: str) -> object:
    try:
        return read_html(text, url)
    except ReadError as exc:  # a page without text is a result too
        return exc


def _read_both(data: bytes, ctype: str, url: str) -> tuple[object, object]:
    """(Document or ReadError, Article) from one parse, as process_article reads a new page."""
    text, encoding = decode_page(data, ctype)
    root, shared = parse_once(text)
    with shared_tree(text, root) if shared else contextlib.nullcontext():
        try:
            document: object = read_bytes(data, url, content_type=ctype)
        except ReadError as exc:
            document = exc
    return document, read_article(text, url, root, encoding=encoding)


def timed(run: Callable[[], object], min_seconds: float) -> list[float]:
    """Seconds per call of `run`, over repeated calls for at least min_seconds (at least 3)."""
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 3 or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=150, help="benchmark sites (one to three reports each)")
    ap.add_argument("--no-fixtures", action="store_true", help="leave out the four fixture sites' pages")
    ap.add_argument("--seconds", type=float, default=3.0, help="minimum time per parser")
    ap.add_argument("--digest", action="store_true", help="print a hash of every result")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    pages = corpus(args.sites, not args.no_fixtures)
    texts = [(_decoded(data, ctype), url) for data, ctype, url in pages]
    size = statistics.median(len(data) for data, _, _ in pages) / 1024
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, Python {platform.python_version()}, one core")
    print(f"{len(pages)} article pages, median {size:.0f} KB")
    print()

    def articles() -> list[object]:
        return [parse_article(data, url, content_type=ctype) for data, ctype, url in pages]

    def documents() -> list[object]:
        return [_read(text, url) for text, url in texts]

    def both() -> list[tuple[object, object]]:
        return [_read_both(data, ctype, url) for data, ctype, url in pages]

    # The best pass is the steadier figure on a busy machine; the median is the typical one.
    print("| parser | ms/page, median pass | ms/page, best pass |")
    print("|---|---|---|")
    for name, run in (("parse_article", articles), ("read_html", documents), ("both, one parse", both)):
        run()  # warm caches and imports
        times = timed(run, args.seconds)
        per_page = 1000 / len(pages)
        print(f"| {name} | {statistics.median(times) * per_page:.3f} | {min(times) * per_page:.3f} |")
    if args.digest:
        print()
        for name, run in (("parse_article", articles), ("read_html", documents)):
            digest = hashlib.sha256("\n".join(map(repr, run())).encode("utf-8")).hexdigest()[:16]
            print(f"{name} digest: {digest}")
        once = [(repr(document), repr(article), article.body_html) for document, article in both()]
        apart = [(repr(document), repr(article), article.body_html)
                 for document, article in zip(documents(), articles())]  # type: ignore[attr-defined]
        same = sum(a == b for a, b in zip(once, apart))
        print(f"one parse for both readers: {same} of {len(pages)} pages read exactly as with two parses")
        if same != len(pages):
            sys.exit(1)


if __name__ == "__main__":
    main()
