"""TRS WCM list pages: a static `index.htm` whose later pages are `index_1.htm`, `index_2.htm` …

The page count is written into a script call the TRS template emits:

    createPageHTML(20, 0, "index", "htm");                     // pages, current, prefix, suffix
    createPageHTML('pageBar', 5, 0, 'index', 'html', 68);      // newer: element id first, records last

Page 0 is `<prefix>.<suffix>`, page n is `<prefix>_<n>.<suffix>`, in the list page's directory.

**"动静结合" lists** (福建 集约化 sites such as 平潭): the static `index.htm` holds only the first
`maxStaticIndex` page(s); the page's script pages the rest through the site's document search:

    var SiteInfo = { …, searchId: 200210, … };            // the search channel of the site
    require(["list2.trsapi", "tools"], function(listModel, tools) { listModel({
        quickMode: "动静结合", maxStaticIndex: 1,
        listArgs: { channelid: SiteInfo.searchId, classsql: "" || "chnlid=1813",
                    sortfield: "-docorderpri,-docreltime" },
        pagebar: { prepage: 10, recordCount: '20', … } … }); });

The search is `POST /fjdzapp/search` on the list's own host, form-encoded: the `listArgs`
(channelid, classsql, sortfield) plus `page` (from 1) and `prepage`. It answers JSON
`{"data": [{"doctitle", "chnldocurl", "docpuburl", "docreltime", …}], "pageCount": N, …}`
(field names as seen in public crawlers of 福建 sites and in the archived list template, which
renders `el.chnldocurl`, `el.doctitle`, `el.docreltime|date('yyyy-MM-dd')`).

Assumed, not seen: that the list2.trsapi module itself posts to `/fjdzapp/search` (its source
was not found; the search endpoint, its form fields and the `listArgs` names match), and that
API page n is page n of the list (so the API pages after the static ones start at
`maxStaticIndex + 1`). `docreltime` is a "YYYY-MM-DD HH:MM:SS" string in every answer seen; epoch
milliseconds are accepted too. An older variant (`/was5/web/search?…&templet=docs.jsp`) answers
`{"count": "…", "docs": [{"title", "url", "chnldocurl", "time", …}]}`: `parse_api` reads it as well.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from scraper.platforms.common import ListEntry, absolute_url, clean_title, find_datetime

__all__ = ["is_trs", "page_urls", "page_count", "TrsApiQuery", "parse_list_api", "api_request", "parse_api"]

_CALL = re.compile(r"createPageHTML\s*\(([^)]{0,300})\)")
_ARG = re.compile(r"""\s*(?:"([^"]*)"|'([^']*)'|(\d+)|([A-Za-z_$][\w$.]*))\s*""")
_SUFFIXES = {"htm", "html", "shtml", "jhtml", "jsp", "php", "asp", "aspx"}
_MARKERS = re.compile(r"createPageHTML\s*\(|/t\d{8}_\d+\.s?html?|TRS_Editor|trsapi", re.IGNORECASE)


def is_trs(text: str) -> bool:
    return _MARKERS.search(text) is not None


def _args(call: str) -> list[str | int]:
    out: list[str | int] = []
    for part in call.split(","):
        m = _ARG.fullmatch(part)
        if not m:
            return []
        if m.group(3) is not None:
            out.append(int(m.group(3)))
        else:
            out.append(m.group(1) if m.group(1) is not None else m.group(2) or m.group(4) or "")
    return out


def page_count(text: str) -> tuple[int, int, str, str] | None:
    """(pages, current page, prefix, suffix) from the createPageHTML call, or None."""
    for m in _CALL.finditer(text):
        args = _args(m.group(1))
        ints = [a for a in args if isinstance(a, int)]
        strings = [a for a in args if isinstance(a, str)]
        suffix_at = next((i for i, s in enumerate(strings) if s.lower().lstrip(".") in _SUFFIXES), None)
        if len(ints) < 2 or suffix_at is None or suffix_at == 0:
            continue
        prefix = strings[suffix_at - 1] or "index"
        suffix = strings[suffix_at].lstrip(".")
        return ints[0], ints[1], prefix, suffix
    return None


def page_urls(text: str, page_url: str) -> list[str]:
    """The URLs of the list's other pages (1 … pages-1, page 0 included only if this page is
    not it), resolved against this page's URL."""
    found = page_count(text)
    if found is None:
        return []
    pages, current, prefix, suffix = found
    pages = min(max(pages, 0), 10_000)
    urls = []
    for n in range(pages):
        if n == current:
            continue
        name = f"{prefix}.{suffix}" if n == 0 else f"{prefix}_{n}.{suffix}"
        urls.append(urljoin(page_url, name))
    return urls


# ---------------------------------------------------------------------------- 动静结合 lists

SEARCH_PATH = "/fjdzapp/search"
_LIST_MODEL = re.compile(r"list2\.trsapi|\blistModel\s*\(")
_LIST_ARGS = re.compile(r"\blistArgs\s*:\s*\{([^{}]{0,2000})\}")
_PAGEBAR = re.compile(r"\bpagebar\s*:\s*\{([^{}]{0,2000})\}")
_JS_TERM = r"""(?:'[^']*'|"[^"]*"|[\w.$]+)"""
_JS_PAIR = re.compile(r"(\w+)\s*:\s*(" + _JS_TERM + r"(?:\s*\|\|\s*" + _JS_TERM + r")*)")
_JS_ALT = re.compile(r"""'([^']*)'|"([^"]*)"|([\w.$]+)""")
_STATIC_INDEX = re.compile(r"\bmaxStaticIndex\s*:\s*['\"]?(\d{1,4})")
_QUICK_MODE = re.compile(r"""\bquickMode\s*:\s*['"]([^'"]{0,20})['"]""")
_TAGS = re.compile(r"<[^>]+>")
_CHINA = dt.timezone(dt.timedelta(hours=8))
_ARG_KEYS = ("channelid", "classsql", "sortfield")


@dataclass(frozen=True, slots=True)
class TrsApiQuery:
    """What it takes to page a "动静结合" list through the site's document search."""

    endpoint: str  # absolute URL of the search
    form: dict[str, str] = field(default_factory=dict)  # channelid, classsql, sortfield
    prepage: int = 10  # records per page
    static_pages: int = 1  # pages the static HTML already shows
    record_count: int | None = None  # records in the list, as the page says
    mode: str = ""  # quickMode, e.g. 动静结合

    @property
    def page_count(self) -> int | None:
        """Pages in the list, from the record count the page declares."""
        if self.record_count is None:
            return None
        return math.ceil(self.record_count / self.prepage)

    @property
    def first_api_page(self) -> int:
        return self.static_pages + 1


def _js_value(expr: str, text: str) -> str | None:
    """The value of a small JS expression: a literal, `a || b` (the first non-empty one), or a
    `SiteInfo.searchId`-style property resolved from `searchId: 200210` elsewhere in the page."""
    for m in _JS_ALT.finditer(expr):
        if m.group(3) is not None:
            name = m.group(3)
            if name.isdigit():
                return name
            if name in ("null", "undefined", "true", "false"):
                continue
            prop = name.rsplit(".", 1)[-1]
            found = re.search(r"\b" + re.escape(prop) + r"""\s*[:=]\s*(?:'([^']*)'|"([^"]*)"|([\w\-.=]+))""", text)
            value = next((g for g in found.groups() if g is not None), None) if found else None
            if value and value not in ("null", "undefined"):
                return value
            continue
        value = m.group(1) if m.group(1) is not None else m.group(2)
        if value:
            return value
    return None


def _object(body: str, text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _JS_PAIR.finditer(body):
        value = _js_value(m.group(2), text)
        if value is not None:
            out.setdefault(m.group(1), value)
    return out


def parse_list_api(text: str, page_url: str) -> TrsApiQuery | None:
    """The search parameters of a "动静结合" (static + API) TRS list page, or None if the page
    pages no list through `list2.trsapi` or its search channel cannot be resolved."""
    if _LIST_MODEL.search(text) is None:
        return None
    args_m = _LIST_ARGS.search(text)
    if args_m is None:
        return None
    args = _object(args_m.group(1), text)
    if not args.get("channelid", "").isdigit():
        return None
    form = {k: args[k] for k in _ARG_KEYS if args.get(k)}
    bar = _object(_PAGEBAR.search(text).group(1), text) if _PAGEBAR.search(text) else {}
    prepage = int(bar["prepage"]) if bar.get("prepage", "").isdigit() else 10
    records = int(bar["recordCount"]) if bar.get("recordCount", "").isdigit() else None
    static = _STATIC_INDEX.search(text)
    mode = _QUICK_MODE.search(text)
    parts = urlsplit(page_url)
    return TrsApiQuery(
        endpoint=f"{parts.scheme}://{parts.netloc}{SEARCH_PATH}",
        form=form,
        prepage=max(1, min(prepage, 500)),
        static_pages=int(static.group(1)) if static else 1,
        record_count=records,
        mode=mode.group(1) if mode else "",
    )


def api_request(query: TrsApiQuery, page: int) -> tuple[str, dict[str, str]]:
    """URL and form fields of the POST for one page (from 1) of the list."""
    return query.endpoint, {**query.form, "page": str(page), "prepage": str(query.prepage)}


def _when(value: object) -> dt.date | None:
    if isinstance(value, str) and len(value.strip()) == 8 and value.strip().isdigit():  # 20160120
        value = f"{value[:4]}-{value[4:6]}-{value[6:8]}"
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
        ts = float(value)  # epoch seconds or milliseconds, Beijing time
        if ts > 1e11:
            ts /= 1000
        try:
            return dt.datetime.fromtimestamp(ts, _CHINA).date() if ts > 0 else None
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        found = find_datetime(value)
        return found.date() if found else None
    return None


_QUIRKY_VALUE = re.compile(r""":\s*'([^'\\]*)'""")


def _load(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        pass
    # was5's docs.jsp writes some values in single quotes ("py":'###pypy###'): make it JSON
    try:
        return json.loads(_QUIRKY_VALUE.sub(lambda m: ": " + json.dumps(m.group(1)), text))
    except ValueError:
        return None


def parse_api(text: str, base_url: str) -> tuple[list[ListEntry], int | None]:
    """(entries, pageCount) of one answer of the document search; ([], None) if it is not one.
    Titles lose the search's highlighting tags; the date is `docreltime` (the list's date)."""
    data = _load(text)
    if not isinstance(data, dict):
        return [], None
    rows = data.get("data")
    if not isinstance(rows, list):
        rows = data.get("docs")
    entries: list[ListEntry] = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        url = None
        for key in ("chnldocurl", "docpuburl", "url"):
            url = absolute_url(base_url, str(row.get(key) or "")) if row.get(key) else None
            if url:
                break
        title = clean_title(_TAGS.sub("", str(row.get("doctitle") or row.get("title") or "")))
        if not url or not title:
            continue
        day = None
        for key in ("docreltime", "pubdate", "time", "docpubtime"):
            day = _when(row.get(key))
            if day is not None:
                break
        entries.append(ListEntry(title=title, url=url, date=day))
    pages = data.get("pageCount")
    if isinstance(pages, str) and pages.isdigit():
        pages = int(pages)
    return entries, pages if isinstance(pages, int) and not isinstance(pages, bool) else None
