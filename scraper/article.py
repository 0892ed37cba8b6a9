"""An article page → its title, publication date, publishing agency, body and attachments (pure).

Publication date, in order (disclosure-sites.md §3):

1. the visible 发布日期 / 发布时间 line ("发布日期:2023-01-04 14:42", "发布时间:2023/01/18 11:34:01",
   "发布时间：2024年3月26日"); a page whose 发布时间 label is **empty** has no visible date. Only
   when the page has no 发布… label at all: a bare "时间：…" / "日期：…" (not 成文日期, 生效日期 …), then
   发文日期. 成文日期 (date written) is never the publication date;
2. `<meta name="PubDate">`;
3. gkmlpt's embedded `DETAIL` record.

The URL's date (`url_date`) is a last resort left to the caller, after the list page's date and
the first time the crawler saw the page.

The body is found without per-site selectors: the innermost well-known article container
(`#zoom`, `.TRS_Editor`, `#UCAP-CONTENT`, `.article-content`, `.xxgk_content`,
`.article_component` …) that holds something, else the block with the most paragraph text;
`body_selector` (the site's hint) overrides both.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Literal, NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit

from lxml import etree

from checks.readers.decode import decode, header_charset, html_declared_charset
from scraper.platforms import gkmlpt
from scraper.platforms.common import (
    DATE_RE,
    absolute_url,
    base_url_of,
    clean_text,
    css,
    find_datetime,
    match_datetime,
    parse_html,
    text_nodes,
    text_of,
    to_text,
)

__all__ = [
    "Article", "Attachment", "parse_article", "read_article", "decode_page", "url_date", "attachment_ext",
    "ATTACHMENT_EXTS",
]

ATTACHMENT_EXTS = ("doc", "docx", "pdf", "wps", "xls", "xlsx", "et")

PublishedSource = Literal["page", "meta", "gkmlpt"]


@dataclass(frozen=True, slots=True)
class Attachment:
    url: str  # absolute
    name: str  # the link text (or the file name)
    ext: str  # "pdf", "docx", … (lower case, no dot)


@dataclass(frozen=True, slots=True)
class Article:
    url: str
    title: str | None
    published: dt.datetime | None  # naive, local (Beijing) time; midnight when only a date is shown
    published_source: PublishedSource | None
    agency_hint: str | None  # 发布机构 / 来源 / publisher / Author meta
    attachments: tuple[Attachment, ...]
    body_is_just_attachments: bool  # the attachment is the report: one report, not two
    has_report_tables: bool  # the page holds the report's tables (勾稽关系 / 本年新收 / 第二十条)
    body_text: str
    body: etree._Element = field(repr=False, compare=False)  # the article container in the page's tree
    meta: dict[str, str] = field(default_factory=dict)  # <meta name=…> (first value per name)
    encoding: str | None = None  # of the bytes given, if bytes were given

    @property
    def body_html(self) -> str:
        """The container as HTML: serialised only when asked for (the crawl never needs it)."""
        return etree.tostring(self.body, encoding="unicode", method="html")


# ------------------------------------------------------------------------------------ URL dates

_URL_DATES = (
    re.compile(r"/t((?:19|20)\d{2})(\d{2})(\d{2})_\d+"),  # TRS  …/202202/t20220208_80613.htm
    re.compile(r"/art/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})/"),  # jcms …/art/2023/1/4/art_…
    re.compile(r"/((?:19|20)\d{2})-(\d{2})/(\d{2})/"),  # …/sfj/2026-01/14/article_….html
    re.compile(r"/((?:19|20)\d{2})(\d{2})(\d{2})/"),  # …/nw12344/20240329/<uuid>.html
)


def url_date(url: str) -> dt.date | None:
    """The date an article URL carries (tYYYYMMDD_, /art/Y/M/D/, /YYYYMMDD/, /YYYY-MM/DD/), or
    None. It can differ from the publication date: use it last."""
    path = urlsplit(url).path
    for pattern in _URL_DATES:
        for m in pattern.finditer(path):
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                continue
    return None


# ------------------------------------------------------------------------------------ labels

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _spaced(word: str) -> str:
    """A label regex that tolerates spaces between its characters ("索 引 号")."""
    return r"\s*".join(map(re.escape, word))


_PUB_LABEL = re.compile(rf"(?:{_spaced('发布日期')}|{_spaced('发布时间')})")
_BARE_LABEL = re.compile(rf"(?:{_spaced('时间')}|{_spaced('日期')})\s*[:：]")
_ISSUED_LABEL = re.compile(_spaced("发文日期"))
_AFTER_LABEL = re.compile(r"\s*[:：]?\s*\|?\s*[\[【(（]?\s*")

_AGENCY_LABELS = (
    (re.compile(rf"{_spaced('发布')}(?:{_spaced('机构')}|{_spaced('单位')}|{_spaced('部门')})"), False),
    (re.compile(rf"(?:{_spaced('信息')}|{_spaced('文章')}|{_spaced('稿件')})?{_spaced('来源')}"), True),
)
_VALUE = re.compile(r"\s*[:：]?\s*\|?\s*([^\s:：|/，,;；]{2,40})")
# A next label glued to the value when the page has no space between them: "来源：区发改局发布时间：…"
_GLUED_LABEL = re.compile(r"发布时间|发布日期|时间|日期|浏览|访问|点击|作者|字号|责任编辑|编辑|分享|打印")
_NOT_A_VALUE = re.compile(
    r"^(?:时间|日期|发布|浏览|访问|点击|作者|字号|分享|打印|关闭|索引|主题|成文|文号|公开|来源|信息|"
    r"【|\[|\(|（|-|—|无|本站|本网)"
)


_QUALIFIERS = frozenset(
    "成文 生效 废止 印发 更新 统计 截止 实施 有效 失效 修改 修订 会议 报名 开始 结束 办理 受理 答复 申请 "
    "访问 浏览 开放 咨询 办公 工作 服务 活动 举办 采集 数据 资金 经费".split()
)


def _qualified(text: str, pos: int) -> bool:
    """True if the label at `pos` is part of a longer word: "成文日期", "资金来源", "统计 时间"."""
    if pos > 0 and _CJK.match(text[pos - 1]):
        return True
    before = text[max(0, pos - 8) : pos].replace(" ", "")
    return before[-2:] in _QUALIFIERS


def _date_after(text: str, end: int) -> dt.datetime | None:
    m = _AFTER_LABEL.match(text, end)
    pos = m.end() if m else end
    d = DATE_RE.match(text, pos)
    return match_datetime(d) if d else None


def visible_published(text: str) -> dt.datetime | None:
    """The publication date shown on the page, from its normalised text."""
    labelled = False
    for m in _PUB_LABEL.finditer(text):
        labelled = True
        got = _date_after(text, m.end())
        if got is not None:
            return got
    if labelled:  # an empty 发布时间: the page shows no date
        return None
    for m in _BARE_LABEL.finditer(text):
        if _qualified(text, m.start()):  # 成文日期, 生效时间, 更新时间, 统计时间 …
            continue
        got = _date_after(text, m.end())
        if got is not None:
            return got
    for m in _ISSUED_LABEL.finditer(text):
        got = _date_after(text, m.end())
        if got is not None:
            return got
    return None


def _labelled_value(text: str, label: re.Pattern[str], needs_boundary: bool) -> str | None:
    for m in label.finditer(text):
        if needs_boundary and m.group(0).startswith("来") and _qualified(text, m.start()):
            continue  # 资金来源, 数据来源 …
        v = _VALUE.match(text, m.end())
        if v is None:
            continue
        value = _GLUED_LABEL.split(v.group(1), 1)[0].strip("。.．")
        if len(value) >= 2 and not _NOT_A_VALUE.match(value) and not DATE_RE.match(value):
            return value
    return None


# ------------------------------------------------------------------------------------ body

_SPECIFIC_IDS = frozenset({
    "zoom", "Zoom", "UCAP-CONTENT", "xxgk_content", "fontzoom", "BodyLabel", "detailContent",
    "mainText", "artibody", "vsb_content", "js_content", "articleContent", "ArticleContent",
})  # fmt: skip
_SPECIFIC_CLASSES = frozenset({
    "TRS_Editor", "TRS_UEDITOR", "article-content", "article_content", "xxgk_content",
    "article_component", "detail-content", "detail_content", "news_content", "pages_content",
    "article_con", "art_con", "wzcon", "Custom_UnionStyle", "zoom", "content_text",
    "xxgk-content", "zwgk_content", "gk_content", "article-body", "article_body",
})  # fmt: skip
_BLOCK_TAGS = frozenset({"div", "article", "section", "main", "body", "center", "form"})
_SKIP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "select", "button")
_TITLE_CLASSES = frozenset({
    "article_title", "article-title", "arti_title", "detail-title", "detail_title", "news_title",
    "xxgk_title", "content_title", "con_title", "title", "tit", "bt", "wzbt", "h-title",
})  # fmt: skip
_TITLE_IDS = frozenset({"title", "ivs_title", "articleTitle", "ArticleTitle", "con_title"})
_TITLE_TAGS = frozenset({"div", "h1", "h2", "h3", "p", "td", "span", "strong"})
_TITLE_SPLIT = re.compile(r"\s*[_|｜]+\s*|\s+[-–—－]+\s+")
_ATTACH_SCOPE_TAGS = frozenset({"div", "ul", "ol", "p", "span", "table", "section", "dl"})
_REPORT_MARKERS = re.compile(r"勾稽关系|本年新收|第二十条")
_ATTACH_CONTAINER = re.compile(r"attach|fujian|appendix|xgfj|file_ul|file_xmb|(?:^|[\s_-])fj(?:$|[\s_-])", re.I)
_EXT_RE = re.compile(r"\.(docx?|pdf|wps|xlsx?|et)$", re.I)
_HTML_PATH = re.compile(r"\.(?:s?html?|jhtml|jsp|php|aspx?)$", re.I)
_RESIDUAL_NOISE = re.compile(r"附\s*件\s*\d*\s*[:：]?|下载|点击|查看|打开|[\s\d:：，。、；;,.()（）【】\[\]<>《》\"'“”-]")


def attachment_ext(url: str, text: str = "") -> str | None:
    """The document type an attachment link points to: from the URL path, a query value
    (`downfile.jsp?filename=x.pdf`), or – for links that are not pages – the link text."""
    parts = urlsplit(url)
    m = _EXT_RE.search(unquote(parts.path))
    if m:
        return m.group(1).lower()
    for _, value in parse_qsl(parts.query, keep_blank_values=False):
        m = _EXT_RE.search(unquote(value).strip())
        if m:
            return m.group(1).lower()
    if text and not _HTML_PATH.search(parts.path):
        m = _EXT_RE.search(text.strip())
        if m:
            return m.group(1).lower()
    return None


def _text(el: etree._Element) -> str:
    return clean_text(" ".join(text_nodes(el)))


class _Named(NamedTuple):
    """An element with an id or a class attribute: both values, and the class split."""

    el: etree._Element
    id: str | None
    cls: str | None
    classes: list[str]


# Every id and class attribute in the document (also past a stray </html>, where libxml2 starts
# a second root), in document order. Selecting the attributes costs one C-level pass; testing
# every element, in an XPath predicate or in Python, costs ten times more on pages whose report
# tables have hundreds of cells, and only named elements can be containers, title blocks or
# attachment lists.
_ID_AND_CLASS = etree.XPath("//*/@id | //*/@class")


def _named(root: etree._Element) -> list[_Named]:
    """The document's elements that have an id or a class, in document order."""
    out: list[_Named] = []
    last = None
    for attr in _ID_AND_CLASS(root):
        el = attr.getparent()
        if el is not last:  # an element's attributes come together, before its children
            cls = el.get("class")
            out.append(_Named(el, el.get("id"), cls, cls.split() if cls else []))
            last = el
    return out


_MEANINGFUL = etree.XPath("string-length(normalize-space(.)) >= 20 or boolean(.//table) or boolean(.//img)")
_CONTAINER_TAGS = frozenset({"div", "article", "section", "main", "td", "center", "form"})


def _meaningful(el: etree._Element) -> bool:
    # The first text nodes usually decide, without the XPath building the container's whole
    # text: 20 characters other than the XML whitespace normalize-space() collapses make its
    # result 20 long or more.
    seen = 0
    for text in el.itertext():
        seen += len(text) - text.count(" ") - text.count("\n") - text.count("\t") - text.count("\r")
        if seen >= 20:
            return True
    if _MEANINGFUL(el):
        return True
    return any(attachment_ext(a.get("href") or "", text_of(a)) for a in el.iter("a"))


def _known_container(named: list[_Named]) -> etree._Element | None:
    """The innermost well-known article container that holds something: the first one, in
    document order, with no such container inside it."""
    inner = None
    for n in named:
        if not (n.id in _SPECIFIC_IDS or not _SPECIFIC_CLASSES.isdisjoint(n.classes)):
            continue
        if n.el.tag not in _CONTAINER_TAGS:
            continue
        # A container's descendants follow it in document order: the first candidate past
        # `inner`'s subtree means none inside it qualified.
        if inner is not None and not _is_ancestor(inner, n.el):
            break
        if _meaningful(n.el):
            inner = n.el
    return inner


def _is_ancestor(anc: etree._Element, el: etree._Element) -> bool:
    parent = el.getparent()
    while parent is not None:
        if parent is anc:
            return True
        parent = parent.getparent()
    return False


def _densest_block(body: etree._Element) -> etree._Element:
    """The block element holding the most text directly (its own paragraphs, spans and table
    cells, not nested blocks); link text does not count, so menus do not win."""
    container: dict[etree._Element, etree._Element] = {}  # element → the block its text counts for
    in_link: set[etree._Element] = set()
    score: dict[etree._Element, int] = {}  # insertion order breaks ties
    for el in body.iter(etree.Element):
        tag = el.tag
        parent = el.getparent()
        parent_block = container.get(parent)  # None for `body` itself
        block = el if parent_block is None or tag in _BLOCK_TAGS else parent_block
        container[el] = block
        parent_in_link = parent in in_link
        link = parent_in_link or tag == "a"
        if link:
            in_link.add(el)
        text = el.text
        if text and not link:
            score[block] = score.get(block, 0) + len(text.strip())
        tail = el.tail
        if tail and parent_block is not None and not parent_in_link:
            score[parent_block] = score.get(parent_block, 0) + len(tail.strip())
    if not score:
        return body
    best = max(score, key=score.__getitem__)
    return best if score[best] >= 20 else body


def _find_body(root: etree._Element, named: list[_Named], selector: str | None) -> etree._Element:
    body = root.find("body")
    if body is None:
        body = root
    if selector:
        try:
            hits = css(selector)(root)
        except Exception:  # a bad selector in the config: fall back to discovery
            hits = []
        if hits:
            return hits[0]
    known = _known_container(named)
    return known if known is not None else _densest_block(body)


def _title(
    root: etree._Element, named: list[_Named], meta: dict[str, str], detail: dict | None
) -> str | None:
    for key in ("ArticleTitle", "articletitle", "og:title"):
        if meta.get(key):
            return clean_text(meta[key])
    if detail and isinstance(detail.get("title"), str) and detail["title"].strip():
        return clean_text(re.sub(r"<[^>]+>", "", detail["title"]))
    title_el = root.find(".//title")
    page_title = clean_text(text_of(title_el)) if title_el is not None else ""
    candidates = []
    for n in named:
        if (
            (n.id in _TITLE_IDS or not _TITLE_CLASSES.isdisjoint(n.classes))
            and n.el.tag in _TITLE_TAGS
            and next(n.el.iterancestors("body"), None) is not None  # in the <body>
        ):
            text = clean_text(text_of(n.el))
            if 4 <= len(text) <= 200:
                candidates.append(text)
    for text in candidates:  # a title block the <title> confirms
        if page_title and (text in page_title or page_title.startswith(text[:12])):
            return text
    if page_title:
        segments = [s for s in _TITLE_SPLIT.split(page_title) if s]
        for seg in segments:
            if "年度报告" in seg or "年报" in seg:
                return seg
        if segments:
            return segments[0]
    if candidates:
        return candidates[0]
    h1 = root.find(".//h1")
    return clean_text(text_of(h1)) or None if h1 is not None else None


def _meta(root: etree._Element) -> dict[str, str]:
    meta: dict[str, str] = {}
    for el in root.iter("meta"):
        name = el.get("name") or el.get("property")
        content = el.get("content")
        if name and content is not None and content.strip():
            meta.setdefault(name.strip(), content.strip())
    return meta


def _meta_get(meta: dict[str, str], *names: str) -> str | None:
    lower = {k.lower(): v for k, v in meta.items()}
    for name in names:
        value = lower.get(name.lower())
        if value:
            return value
    return None


def _attachments(
    root: etree._Element, named: list[_Named], body: etree._Element, base: str, detail: dict | None
) -> list[Attachment]:
    scopes = [body]
    for n in named:
        el = n.el
        if (
            _ATTACH_CONTAINER.search(f"{n.id or ''} {n.cls or ''}")
            and el.tag in _ATTACH_SCOPE_TAGS
            and el is not body
            and not _is_ancestor(el, body)
            and _is_ancestor(root, el)  # not past a stray </html>
        ):
            scopes.append(el)
    out: dict[str, Attachment] = {}

    def collect(scope: etree._Element) -> None:
        for a in scope.iter("a"):
            url = absolute_url(base, a.get("href"))
            if url is None or url in out:
                continue
            text = clean_text(text_of(a))
            ext = attachment_ext(url, text)
            if ext is None:
                continue
            name = text or clean_text(a.get("title")) or unquote(urlsplit(url).path.rsplit("/", 1)[-1])
            out[url] = Attachment(url=url, name=name, ext=ext)

    for scope in scopes:
        collect(scope)
    if not out and body.getparent() is not None and body.tag != "body":
        collect(body.getparent())  # "附件：…" written just after the article container
    if detail:
        for item in detail.get("attachment") or detail.get("attachments") or []:
            if not isinstance(item, dict):
                continue
            href = item.get("url") or item.get("link") or item.get("path")
            url = absolute_url(base, href) if isinstance(href, str) else None
            name = clean_text(str(item.get("name") or item.get("title") or ""))
            ext = attachment_ext(url, name) if url else None
            if url and ext and url not in out:
                out[url] = Attachment(url=url, name=name or url.rsplit("/", 1)[-1], ext=ext)
    return list(out.values())


def _just_attachments(body: etree._Element, body_text: str, attachments: list[Attachment], title: str | None) -> bool:
    if not attachments or body.find(".//table") is not None:
        return False
    residual = body_text
    for att in attachments:
        if att.name:
            residual = residual.replace(att.name, " ")
    if title:
        residual = residual.replace(title, " ")
    residual = _RESIDUAL_NOISE.sub("", residual)
    return len(residual) < 200


# ------------------------------------------------------------------------------------ parse


def decode_page(html: bytes | str, content_type: str | None = None) -> tuple[str, str | None]:
    """An article page's text and the encoding it was decoded from (None for str given, or
    bytes no encoding reads cleanly)."""
    if not isinstance(html, bytes):
        return html, None
    declared = header_charset(content_type) or html_declared_charset(html)
    try:
        decoded = decode(html, declared=declared)
        return decoded.text, decoded.encoding
    except Exception:
        return to_text(html, content_type), None


def parse_article(
    html: bytes | str,
    url: str,
    *,
    content_type: str | None = None,
    body_selector: str | None = None,
) -> Article:
    """Read an article page. Pure: bytes (any of the usual Chinese encodings) or str in."""
    text, encoding = decode_page(html, content_type)
    return read_article(text, url, parse_html(text), encoding=encoding, body_selector=body_selector)


def read_article(
    text: str,
    url: str,
    root: etree._Element,
    *,
    encoding: str | None = None,
    body_selector: str | None = None,
) -> Article:
    """Read an article page from its decoded text and its tree, as `parse_html(text)` builds
    it (a caller that parsed the page already passes that tree). The tree is modified: scripts,
    styles and other non-text elements are removed from it."""
    detail = gkmlpt.detail_json(text) if "DETAIL" in text else None
    meta = _meta(root)
    etree.strip_elements(root, *_SKIP_TAGS, with_tail=False)
    base = base_url_of(root, url)
    page = root.find("body")
    if page is None:
        page = root
    page_text = _text(page)

    named = _named(root)
    title = _title(root, named, meta, detail)
    body = _find_body(root, named, body_selector)
    body_text = page_text if body is page else _text(body)

    meta_published = find_datetime(_meta_get(meta, "PubDate", "publishdate", "pubtime", "firstpublishedtime",
                                             "article:published_time", "publish_time"))
    detail_published = gkmlpt.detail_published(detail) if detail is not None else None
    published: dt.datetime | None = visible_published(page_text)
    source: PublishedSource | None = "page" if published else None
    if published is not None and published.time() == dt.time(0):
        # the page shows the day only: take the time from PubDate/DETAIL when they name that day
        for precise in (meta_published, detail_published):
            if precise is not None and precise.date() == published.date():
                published = precise
                break
    if published is None and meta_published is not None:
        published, source = meta_published, "meta"
    if published is None and detail_published is not None:
        published, source = detail_published, "gkmlpt"

    agency = _labelled_value(page_text, *_AGENCY_LABELS[0])
    if agency is None and detail is not None and isinstance(detail.get("publisher"), str):
        agency = clean_text(detail["publisher"]) or None
    if agency is None:
        agency = _labelled_value(page_text, *_AGENCY_LABELS[1])
    if agency is None:
        agency = _meta_get(meta, "ContentSource", "Author", "author")

    attachments = _attachments(root, named, body, base, detail)
    has_tables = _REPORT_MARKERS.search(page_text) is not None and any(
        _REPORT_MARKERS.search(_text(t)) for t in root.iter("table")
    )
    return Article(
        url=url,
        title=title,
        published=published,
        published_source=source,
        agency_hint=agency,
        attachments=tuple(attachments),
        body_is_just_attachments=_just_attachments(body, body_text, attachments, title),
        has_report_tables=has_tables,
        body_text=body_text,
        body=body,
        meta=meta,
        encoding=encoding,
    )
