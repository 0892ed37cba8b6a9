"""Plain list pages: pagination by links.

A link is a page of the same list when it stays on the list's host and either its text is
下一页/下页/后页/尾页/末页/首页/a page number and it points into the list's directory or has a
page pattern, or its URL has a page pattern (`index_2.html`, `page_3.html`, `?page=4`,
`?pageNum=5&uid=…`) and stays in the list's directory.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml import etree

from scraper.platforms.common import absolute_url, base_url_of, clean_text, text_of

__all__ = ["page_links", "page_number"]

_NEXT = re.compile(r"^(?:下一页|下页|后页|下一頁|next|next page|>|›|»|>>|下一页>+|下一页»)$", re.IGNORECASE)
_LAST = re.compile(r"^(?:尾页|末页|最后一页|最后页|last|last page)$", re.IGNORECASE)
_FIRST_PREV = re.compile(r"^(?:首页|第一页|上一页|上页|前页|prev|previous|<|‹|«|<<)$", re.IGNORECASE)
_NUMBER = re.compile(r"^\[?\s*(\d{1,3})\s*\]?$")  # 1…999: a "2021" link is a year tab
_URL_PAGE = re.compile(
    r"(?:^|/)(?:index|list|page|default|more)[_-](\d{1,5})\.\w{2,5}$"
    r"|[?&](?:page|pagenum|pageno|pageindex|curpage|currentpage|pn|p|pageNum|pageNo|pageIndex|curPage)=(\d{1,5})",
    re.IGNORECASE,
)


def page_number(url: str) -> int | None:
    """The page number a URL names (`index_1.htm` is page 2: `index.htm` is page 1)."""
    parts = urlsplit(url)
    m = _URL_PAGE.search(parts.path + ("?" + parts.query if parts.query else ""))
    if not m:
        return None
    if m.group(1) is not None:
        n = int(m.group(1))
        return n + 1 if parts.path.rsplit("/", 1)[-1].lower().startswith("index") else n
    return int(m.group(2))


def _directory(path: str) -> str:
    return path.rsplit("/", 1)[0]


def page_links(root: etree._Element, page_url: str) -> list[tuple[int, str]]:
    """(priority, url) of the other pages of this list linked from this page; lower priority
    first (the next page, then pages by number, the last page at the end)."""
    base = base_url_of(root, page_url)
    here = urlsplit(page_url)
    here_page = page_number(page_url) or 1
    out: dict[str, int] = {}
    for a in root.iter("a"):
        url = absolute_url(base, a.get("href"))
        if url is None:
            continue
        parts = urlsplit(url)
        if parts.netloc != here.netloc or (parts.path == here.path and parts.query == here.query):
            continue
        text = clean_text(text_of(a)) or clean_text(a.get("title"))
        number = page_number(url)
        numbered = _NUMBER.match(text)
        same_dir = _directory(parts.path) == _directory(here.path)
        if number is None and not same_dir:
            continue  # 首页 in the site's menu is the home page, not page 1 of this list
        if _NEXT.match(text):
            prio = number if number is not None else here_page + 1
        elif _LAST.match(text):
            prio = 100_000 + (number or 0)
        elif _FIRST_PREV.match(text):
            prio = number if number is not None else 0
        elif numbered:
            prio = number if number is not None else int(numbered.group(1))
        elif number is not None and same_dir:
            prio = number
        else:
            continue
        if url not in out or prio < out[url]:
            out[url] = prio
    return sorted(((p, u) for u, p in out.items()), key=lambda pu: (pu[0], pu[1]))
