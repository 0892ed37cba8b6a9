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

**The annual-report module** `/module/xxgk/xxgkAnnualReport.jsp?area=<unit code>&fbtime=<year>`
(丽水 2017 `area=113325000026455663`; 微山 2023 `area=11370826004323472M`, the unit's
统一社会信用代码) shows one unit's report for one report year. The unit code is the `area` of the
site's other 信息公开 module links (`/module/xxgk/tree.jsp?…&area=…`, `search.jsp?…&area=…`,
`subjectinfo.jsp?area=…`) and the `vc_xxgkarea=` of its 信息公开 column links
(`/col/col42829/index.html?vc_xxgkarea=113706000042603877-1`): `unit_codes` reads them.

Assumed, not seen: what the module answers. No copy of its output was found, only its URLs
(in disclosure-site research notes and in mirror sites copying them). `parse_annual_report`
therefore reads the answer as any page: the report itself (its tables, or its attachment), a
page linking to the report, or neither (no report for that year: an empty or "未查询到" page,
or a 404).
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit

from scraper.platforms.common import ListEntry, clean_text, entries_from_tree, parse_html

__all__ = ["JcmsQuery", "is_jcms", "parse_column_page", "records", "parse_dataproxy", "request",
           "MODULE_PATH", "ModuleAnswer", "unit_codes", "annual_report_url", "module_year",
           "parse_annual_report"]

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


# ---------------------------------------------------------------------- annual-report module

MODULE_PATH = "/module/xxgk/xxgkAnnualReport.jsp"
_CODE = r"([0-9A-Za-z][0-9A-Za-z\-]{3,40})"
# `area=` of the xxgk module's own links, `vc_xxgkarea=` of 信息公开 column links.
_MODULE_AREA = re.compile(r"/module/xxgk/\w+\.jsp\?[^\s'\"<>]*?\barea=" + _CODE)
_VC_AREA = re.compile(r"\bvc_xxgkarea=" + _CODE)
_MODULE_URL = re.compile(re.escape(MODULE_PATH) + r"\?(?:[^\s'\"<>]*&)?area=" + _CODE + r"&fbtime=(\d{4})\b")
_REPORT_TEXT = re.compile(r"主动公开政府信息情况|收到和处理政府信息公开申请情况|政府信息公开行政复议|存在的主要问题")


def unit_codes(text: str) -> list[str]:
    """The xxgk unit codes (`area`) a jcms page names in its links, in page order."""
    text = html.unescape(text)
    found: dict[str, None] = {}
    for pattern in (_MODULE_AREA, _VC_AREA):
        for m in pattern.finditer(text):
            found.setdefault(unquote(m.group(1)).split("#", 1)[0])
    return [code for code in found if len(code) >= 4]


def annual_report_url(origin: str, code: str, year: int) -> str:
    """The module's URL for one unit and one report year on a site ("http://host[:port]")."""
    return f"{origin.rstrip('/')}{MODULE_PATH}?area={code}&fbtime={year}"


def module_year(url: str) -> tuple[str, int] | None:
    """(unit code, report year) of an annual-report module URL, else None."""
    m = _MODULE_URL.search(url)
    return (m.group(1), int(m.group(2))) if m else None


@dataclass(frozen=True, slots=True)
class ModuleAnswer:
    """What the annual-report module answered for one unit and year."""

    report: bool  # the page is the report (its tables or text, or its attachment)
    title: str  # the report's title (the page's, else one naming the year)
    published: dt.date | None  # the page's 发布时间 / 发布日期
    links: tuple[ListEntry, ...] = ()  # reports it links to (when it is not the report itself)


def parse_annual_report(text: str, url: str, year: int) -> ModuleAnswer:
    """Read an answer of the annual-report module (see the module docstring: its form is assumed)."""
    from scraper.article import read_article  # scraper.article imports this package's modules
    from scraper.recognize import is_report_title, report_year

    root = parse_html(text)
    links = [e for e in entries_from_tree(root, url)
             if e.url != url and is_report_title(e.title) and not _is_file(e.url)]
    article = read_article(text, url, parse_html(text))
    # the page's title if it names the report and its year (a heading, else any short line that
    # does), else one naming the year asked for
    headings = (clean_text(el.text) for el in root.iter("h1", "h2", "h3", "div", "p", "span", "td", "strong")
                if el.text and len(el.text) < 120)
    named = itertools.chain((article.title, article.meta.get("ArticleTitle")), headings)
    title = next((t for t in named if t and report_year(t)), f"{year}年度政府信息公开工作年度报告")
    published = article.published.date() if article.published else None
    body = article.body_text
    report = (article.has_report_tables or len(set(_REPORT_TEXT.findall(body))) >= 2
              or (bool(article.attachments) and is_report_title(title) and not links))
    return ModuleAnswer(report, title, published, () if report else tuple(links))


_FILE = re.compile(r"\.(?:docx?|pdf|wps|xlsx?|et|zip|rar)$", re.IGNORECASE)


def _is_file(url: str) -> bool:
    return _FILE.search(urlsplit(url).path) is not None or "downfile.jsp" in url
