"""Hanweb jcms / jpaas column pages and their `dataproxy.jsp` endpoint.

A column page (`/col/col1229214366/index.html`) embeds the first group of records and the
parameters of the paging endpoint, e.g.

    <script type="text/xml"><datastore>
      <nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&webid=1&path=/
                           &columnid=114&unitid=1737&…"></a>]]></nextgroup>
      <recordset><record><![CDATA[<li><a href="/art/2023/1/4/art_114_6798.html" title="…">…</a>
                                     <span>2023-01-04</span></li>]]></record> …
    </recordset></datastore></script>
    var param_1737 = {col:1, appid:1, webid:1, path:'/', columnid:114, sourceContentType:1,
                      unitid:'1737', webname:'…', permissiontype:0};
    … $('#1737').jpage({ …, perPage:15, totalRecord:47, … });

Later groups come from POST `/module/web/jpage/dataproxy.jsp?startrecord=46&endrecord=90&perpage=15`
with the form fields above; the answer is XML with `<totalrecord>N</totalrecord>` and `<record>`s
holding CDATA HTML fragments. One request returns 3 pages (45 records), as the jpage script does.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit

from scraper.platforms.common import ListEntry, entries_from_tree, parse_html

__all__ = ["JcmsQuery", "is_jcms", "parse_column_page", "records", "parse_dataproxy", "request"]

FORM_KEYS = ("col", "appid", "webid", "path", "columnid", "sourceContentType", "unitid", "webname",
             "permissiontype")  # fmt: skip
_DEFAULTS = {"col": "1", "appid": "1", "path": "/", "permissiontype": "0"}

_PROXY = re.compile(r"""((?:https?://[^\s'"<>]+?)?/module/(?:web/)?jpage/dataproxy\.jsp)(\?[^\s'"<>\]]*)?""")
_PARAM_OBJ = re.compile(r"var\s+param_\w*\s*=\s*\{([^{}]{0,2000})\}")
_OBJ_PAIR = re.compile(r"""(\w+)\s*:\s*(?:'([^']*)'|"([^"]*)"|([\w.%\-/]+))""")
_LOOSE = re.compile(
    r"""\b(col|appid|webid|columnid|sourceContentType|unitid|webname|permissiontype)\s*[:=]\s*['"]?([^'"&,;}\s<>]+)""",
    re.IGNORECASE,
)
_PERPAGE = re.compile(r"""\bper[Pp]age\s*[:=]\s*['"]?(\d{1,4})""")
_OUTPAGE = re.compile(r"""\boutPage\s*[:=]\s*['"]?(\d{1,3})""")
_TOTAL_PAGE = re.compile(r"""\btotalRecord\s*[:=]\s*['"]?(\d+)""")
_TOTAL_XML = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.IGNORECASE)
_RECORD = re.compile(r"<record[^>]*>(.*?)</record>", re.IGNORECASE | re.DOTALL)
_CDATA = re.compile(r"^\s*<!\[CDATA\[(.*?)\]\]>\s*$", re.DOTALL)
_COLUMN_IN_URL = re.compile(r"/col/col(\d+)/")
_KEY_CASE = {k.lower(): k for k in FORM_KEYS}


@dataclass(frozen=True, slots=True)
class JcmsQuery:
    """What it takes to page a jcms column through its dataproxy endpoint."""

    proxy_url: str  # absolute, without query string
    form: dict[str, str] = field(default_factory=dict)
    perpage: int = 15
    group_pages: int = 3  # pages returned per request (45 records with 15 per page)
    total: int | None = None  # records in the column, when the page says

    @property
    def group_size(self) -> int:
        return self.perpage * self.group_pages


def is_jcms(text: str) -> bool:
    return "dataproxy.jsp" in text or "<datastore>" in text or ("jpage" in text and "/col/col" in text)


def parse_column_page(text: str, page_url: str) -> JcmsQuery | None:
    """The paging parameters a jcms column page declares, or None if it declares none.

    Sources, best first: the `var param_… = {…}` object, the query of a dataproxy URL in the
    page (the `<nextgroup>` link), then `key: value` / `key=value` pairs anywhere."""
    proxy = _PROXY.search(text)
    if proxy is None:
        return None
    form: dict[str, str] = {}

    def put(key: str, value: str | None) -> None:
        canon = _KEY_CASE.get(key.lower())
        if canon and value is not None and canon not in form and value != "":
            form[canon] = unquote(value) if "%" in value else value

    for m in _PARAM_OBJ.finditer(text):
        for pm in _OBJ_PAIR.finditer(m.group(1)):
            put(pm.group(1), next(v for v in pm.groups()[1:] if v is not None))
    for pm in _PROXY.finditer(text):
        if pm.group(2):
            for key, value in parse_qsl(html.unescape(pm.group(2))[1:], keep_blank_values=False):
                put(key, value)
    for pm in _LOOSE.finditer(text):
        put(pm.group(1), pm.group(2))
    if "columnid" not in form:
        m = _COLUMN_IN_URL.search(urlsplit(page_url).path)
        if m:
            form["columnid"] = m.group(1)
    if "unitid" not in form or "columnid" not in form:
        return None
    for key, value in _DEFAULTS.items():
        form.setdefault(key, value)
    ordered = {k: form[k] for k in FORM_KEYS if k in form}

    perpage = _int(_PERPAGE.search(text), 15)
    group_pages = _int(_OUTPAGE.search(text), 3)
    totals = _TOTAL_PAGE.findall(text)
    total = int(totals[-1]) if totals else None
    return JcmsQuery(
        proxy_url=urljoin(page_url, proxy.group(1)),
        form=ordered,
        perpage=max(1, min(perpage, 200)),
        group_pages=max(1, min(group_pages, 20)),
        total=total,
    )


def _int(m: re.Match[str] | None, default: int) -> int:
    return int(m.group(1)) if m else default


def request(query: JcmsQuery, start: int, end: int) -> tuple[str, dict[str, str]]:
    """URL and form fields of the POST for records start…end (1-based, inclusive)."""
    url = f"{query.proxy_url}?startrecord={start}&endrecord={end}&perpage={query.perpage}"
    return url, dict(query.form)


def records(text: str, base_url: str) -> list[ListEntry]:
    """The entries in the `<record>` elements of a column page or a dataproxy answer."""
    fragments = []
    for raw in _RECORD.findall(text):
        m = _CDATA.match(raw)
        fragments.append(m.group(1) if m else html.unescape(raw))
    if not fragments:
        return []
    # one parse for all records; each record in its own row element so dates stay with links
    doc = "<html><body>" + "".join(f"<div>{f}</div>" for f in fragments) + "</body></html>"
    return entries_from_tree(parse_html(doc), base_url)


def parse_dataproxy(text: str, base_url: str) -> tuple[list[ListEntry], int | None]:
    """(entries, totalrecord) of a dataproxy.jsp answer."""
    m = _TOTAL_XML.search(text)
    return records(text, base_url), (int(m.group(1)) if m else None)
