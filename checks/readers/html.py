"""HTML reports: CMS article pages and Word-exported HTML.

The page is parsed with lxml (comments, Word conditional comments and processing
instructions dropped by the parser) and walked once, in document order:

- block-level elements and `<br>` end a line; each non-empty line becomes a `Paragraph`;
- inline elements are joined without separators (`<span>1</span><span>2</span>` → "12");
- source whitespace collapses to one space (a source line break between two CJK characters,
  as Word inserts when it wraps long lines, disappears); `&nbsp;` becomes a space and U+3000
  is kept; each line is stripped;
- a data table (one that contains no other table and has more than one cell) becomes a
  `Table` of cells as published, spans not expanded; inside a cell, `<br>` and block
  elements give "\\n";
- a layout table (one that wraps other tables, as old CMS templates wrap whole pages, or a
  one-cell frame) is descended into like a `<div>`.

If the page has an article container (`#zoom`, `.TRS_Editor`, …) that holds most of the
text and the tables, only that container is read, which drops the site's menus and footer.

A caller that has already parsed the page (the crawler parses a fetched article page for its
links and date, then checks it) passes the tree instead of having it parsed twice:
`read_html(text, source, root=parse_tree(text))`, or, when the text reaches `read_html` through
`checks.readers.read_bytes`, `with shared_tree(text, root): read_bytes(...)`. Reading never
modifies the tree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

from lxml import etree

from checks.document import Cell, Document, Paragraph, ReadError, Table

_BR = "\ue000"  # private-use sentinel for a forced line break inside a block

_BLOCK = frozenset(
    {
        "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd",
        "blockquote", "pre", "section", "article", "header", "footer", "nav", "aside", "main",
        "figure", "figcaption", "address", "hr", "center", "form", "fieldset", "legend",
        "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "body", "html",
        "details", "summary", "menu", "dir", "listing", "xmp", "plaintext",
    }
)  # fmt: skip

_SKIP = frozenset(
    {
        "script", "style", "head", "title", "noscript", "template", "iframe", "object", "embed",
        "select", "option", "button", "textarea", "input", "o:p", "xml", "svg", "map", "audio",
        "video", "canvas", "meta", "link", "base",
    }
)  # fmt: skip

_CJK = r"\u2e80-\u303f\u3040-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
_CJK_BREAK = re.compile(rf"(?<=[{_CJK}])[ \t]*\r?\n[ \t\r\n]*(?=[{_CJK}])")
# Every _CJK_BREAK match holds one of these; its leading literal makes it a fast search.
_NEWLINE_BEFORE_CJK = re.compile(rf"\n[ \t\r\n]*(?=[{_CJK}])")
_SPACE_RUN = re.compile(r"[ \t\r\n\f\v]+")
_TRANSLATE = str.maketrans({"\xa0": " ", "\u200b": None, "\u200c": None, "\u200d": None, "\ufeff": None})
_NEEDS_WORK = re.compile("[\\s\u200b\u200c\u200d\ufeff\ue000]")
_DIGITS = re.compile(r"\s*(\d+)")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\ufeff]")
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*>")
_TITLE_SPLIT = re.compile(r"\s*[_|｜\-]+\s*")

_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True)

_CONTAINER_IDS = (
    "zoom", "Zoom", "UCAP-CONTENT", "content", "Content", "BodyLabel", "article", "artibody",
    "fontzoom", "xxgk_content", "mainText", "detailContent",
)  # fmt: skip
_CONTAINER_CLASSES = (
    "article-content", "article_content", "xxgk_content", "article_component", "TRS_Editor",
    "content", "article", "pages_content", "news_content", "detail-content", "detail_content",
    "article_con", "art_con", "wzcon", "main-content", "view", "zoom", "Custom_UnionStyle",
)  # fmt: skip


_CONTAINER_ID_SET = frozenset(_CONTAINER_IDS)
_CONTAINER_CLASS_SET = frozenset(_CONTAINER_CLASSES)
_CONTAINER_TAGS = frozenset({"div", "section", "article", "main", "td"})
# The id and class attributes under an element, in document order: one C-level pass instead of
# a Python look at every <td> of the report's tables; only named elements can be containers.
_ID_AND_CLASS = etree.XPath("descendant-or-self::*/@id | descendant-or-self::*/@class")


def _containers(body: etree._Element) -> list[etree._Element]:
    found = []
    last = None
    for attr in _ID_AND_CLASS(body):
        el = attr.getparent()
        if el is last:  # an element's attributes come together, before its children
            continue
        last = el
        if el.tag not in _CONTAINER_TAGS:
            continue
        if el.get("id") in _CONTAINER_ID_SET:
            found.append(el)
            continue
        cls = el.get("class")
        if cls and not _CONTAINER_CLASS_SET.isdisjoint(cls.split()):
            found.append(el)
    return found


_TEXT_LEN = etree.XPath("string-length(normalize-space(.))")
_TABLES = etree.XPath("count(descendant::table)")
_ANCESTOR_TABLES = etree.XPath("count(ancestor::table)")


def read_html(text: str, source: str, *, root: etree._Element | None = None) -> Document:
    """Turn an HTML page (already decoded) into a Document. Raises ReadError if the page has
    no text at all.

    `root`: the page's tree as `parse_tree(text)` returned it, unmodified, if the caller has
    it already (else the tree `shared_tree` offers for this text, else the text is parsed)."""
    if root is None:
        shared = _SHARED.get()
        if shared is not None and (shared[0] is text or shared[0] == text):
            root = shared[1]
        else:
            root = parse_tree(text)
    meta = _meta(root)
    title = _title(root, meta)
    body = root.find("body")
    if body is None:
        body = root
    content = _article_container(body)
    try:
        blocks = _blocks(content)
    except RecursionError:
        raise ReadError("网页的标签嵌套层次过深，无法读取") from None
    if not blocks:
        if body.find(".//img") is not None:
            raise ReadError("网页中没有文字内容（报告可能是图片），需要先做 OCR 识别")
        raise ReadError("网页中没有文字内容")
    return Document(source=source, format="html", blocks=blocks, title=title, meta=meta)


_SHARED: ContextVar[tuple[str, etree._Element] | None] = ContextVar("shared_html_tree", default=None)


@contextmanager
def shared_tree(text: str, root: etree._Element) -> Iterator[None]:
    """Within the block, `read_html` given exactly `text` reads `root` (which must be
    `parse_tree(text)`, unmodified) instead of parsing the text again: for a caller whose
    text reaches read_html through `checks.readers.read_bytes`."""
    token = _SHARED.set((text, root))
    try:
        yield
    finally:
        _SHARED.reset(token)


def prepare(text: str) -> str:
    """The markup `parse_tree` hands to lxml: no XML declaration (lxml refuses one in a str),
    no NUL characters and none of the private-use character the walk uses as a line break."""
    text = _XML_DECL.sub("", text, count=1)
    if "\x00" in text or _BR in text:
        text = text.replace("\x00", "").replace(_BR, "")
    return text


def parse_tree(text: str) -> etree._Element:
    """The lxml tree read_html reads: comments and processing instructions dropped. Raises
    ReadError for a page that cannot be parsed or holds nothing."""
    return parse_prepared(prepare(text))


def parse_prepared(text: str) -> etree._Element:
    """parse_tree for text that `prepare` has already been applied to."""
    try:
        root = etree.fromstring(text, _PARSER)
    except (etree.LxmlError, ValueError) as exc:
        raise ReadError(f"网页无法解析（{type(exc).__name__}）") from None
    if _hit_parser_limit(_PARSER.error_log):
        # libxml2 stops at 256 levels of nesting (or a text node of 10 MB) and drops the rest of
        # the page: what is left would read as a report with sections missing.
        raise ReadError("网页的标签嵌套层次过深（超过 256 层）或单段文字过长，超出解析器的限制，无法完整读取")
    if root is None:
        raise ReadError("网页中没有文字内容")
    return root


def _hit_parser_limit(log) -> bool:
    return any(entry.type == _RESOURCE_LIMIT for entry in log)


_RESOURCE_LIMIT = etree.ErrorTypes.ERR_RESOURCE_LIMIT


# ---------------------------------------------------------------- metadata


def _meta(root: etree._Element) -> dict[str, str]:
    meta: dict[str, str] = {}
    for el in root.iter("meta"):
        name = el.get("name")
        content = el.get("content")
        if name and content and content.strip():
            meta.setdefault(name.strip(), content.strip())
    return meta


def _title(root: etree._Element, meta: dict[str, str]) -> str | None:
    for key, value in meta.items():
        if key.lower() == "articletitle":
            return _clean_inline(value) or None
    el = root.find(".//title")
    if el is None:
        return None
    full = _clean_inline("".join(el.itertext()))
    segments = [s for s in _TITLE_SPLIT.split(full) if s]
    if not segments:
        return None
    for seg in segments:
        if "年度报告" in seg:
            return seg
    return segments[0]


def _clean_inline(text: str) -> str:
    return _SPACE_RUN.sub(" ", text.translate(_TRANSLATE)).strip()


# ---------------------------------------------------------------- article container


def _article_container(body: etree._Element) -> etree._Element:
    """The smallest recognised article container holding at least half the page text and
    80 % of the tables that are not wrapped around it; else the body."""
    candidates = _containers(body)
    if not candidates:
        return body
    total = _TEXT_LEN(body)
    if total <= 0:
        return body
    tables = _TABLES(body)
    best, best_len = body, total
    for cand in candidates:
        length = _TEXT_LEN(cand)
        if length < 0.5 * total or length >= best_len:
            continue
        if tables and _TABLES(cand) < 0.8 * (tables - _ANCESTOR_TABLES(cand)):
            continue
        best, best_len = cand, length
    return best


# ---------------------------------------------------------------- the walk


def _finish(raw: str) -> list[str]:
    """The non-empty lines of one block's raw inline text."""
    if _NEEDS_WORK.search(raw) is None:  # the usual table cell: "58", "行政许可"
        return [raw] if raw else []
    if "\n" in raw and _NEWLINE_BEFORE_CJK.search(raw):  # a cheap search for what the sub needs
        raw = _CJK_BREAK.sub("", raw)
    raw = _SPACE_RUN.sub(" ", raw)
    if "\xa0" in raw:
        raw = raw.replace("\xa0", " ")
    raw = _ZERO_WIDTH.sub("", raw)
    return [line for line in map(str.strip, raw.split(_BR)) if line]


def _span(value: str | None) -> int:
    if not value:
        return 1
    if value.isdigit():
        return min(max(int(value), 1), 1000)
    digits = _DIGITS.match(value)
    if digits is None:
        return 1
    return min(max(int(digits.group(1)), 1), 1000)


def _is_layout_table(table: etree._Element) -> bool:
    nested = table.iter("table")
    next(nested)  # the table itself
    if next(nested, None) is not None:
        return True
    cells = table.iter("td", "th")
    next(cells, None)
    return next(cells, None) is None


def _walk(el: etree._Element, parts: list[str], out: list | None) -> None:
    """Append the inline text of el's children to `parts`, with _BR at every block boundary
    and `<br>`. At top level (`out` is the block list) data tables are emitted into `out`;
    inside a cell (`out` is None) there are no tables to emit."""
    append = parts.append
    for child in el:
        tag = child.tag
        if tag.__class__ is not str or tag in _SKIP:
            pass
        elif tag in _BLOCK:
            style = child.get("style")
            if style and ("none" in style or "hidden" in style) and _HIDDEN.search(style):
                pass
            elif tag == "table" and out is not None and not _is_layout_table(child):
                _flush(parts, out)
                _table(child, out)
            elif tag == "pre":
                append(_BR)
                append("".join(child.itertext()).replace("\r\n", "\n").replace("\n", _BR))
                append(_BR)
            else:
                append(_BR)
                text = child.text  # lxml builds a new str on every access: read it once
                if text:
                    append(text)
                if len(child):
                    _walk(child, parts, out)
                append(_BR)
        elif tag == "br":
            append(_BR)
        else:
            text = child.text
            if text:
                append(text)
            if len(child):
                _walk(child, parts, out)
        tail = child.tail
        if tail:
            append(tail)


def _flush(parts: list[str], out: list) -> None:
    if parts:
        out.extend(Paragraph(line) for line in _finish("".join(parts)))
        parts.clear()


def _blocks(el: etree._Element) -> list[Paragraph | Table]:
    out: list[Paragraph | Table] = []
    parts: list[str] = [el.text] if el.text else []
    _walk(el, parts, out)
    _flush(parts, out)
    return out


# Cells are immutable and report tables repeat the same few values ("0", "1", "信息内容") page
# after page: share them, as a dataclass with frozen fields is slow to build.
_cell = lru_cache(maxsize=4096)(Cell)


def _table(table: etree._Element, out: list) -> None:
    for caption in table.iter("caption"):
        out.extend(_blocks(caption))
    rows: list[list[Cell]] = []
    for tr in table.iter("tr"):
        row = []
        for td in tr:
            tag = td.tag
            if tag != "td" and tag != "th":
                continue
            rowspan, colspan = td.get("rowspan"), td.get("colspan")
            row.append(
                _cell(
                    _cell_text(td),
                    1 if rowspan is None else _span(rowspan),
                    1 if colspan is None else _span(colspan),
                )
            )
        if tr.get("height") == "0" and not any(c.text for c in row):
            continue  # Word's trailing column-width row
        rows.append(row)
    while rows and not any(c.text for c in rows[-1]):
        rows.pop()
    if rows:
        out.append(Table(rows))


_SIMPLE_WRAPPERS = frozenset(
    {"p", "div", "span", "font", "strong", "b", "center", "h1", "h2", "h3", "h4", "h5", "h6"}
)


def _cell_text(td: etree._Element) -> str:
    text = td.text
    # Fast path for the usual CMS cell, <td><p>text</p></td>: one text-only wrapper.
    if len(td) == 1 and (text is None or text.isspace()):
        child = td[0]
        if child.tag in _SIMPLE_WRAPPERS and not len(child):
            tail = child.tail
            style = child.get("style")  # hidden? The test _walk makes, inline: this runs for every cell
            if (tail is None or tail.isspace()) and not (
                style and ("none" in style or "hidden" in style) and _HIDDEN.search(style)
            ):
                inner = child.text
                if not inner or inner.isspace():
                    return ""
                # "58", "行政许可": nothing to clean (isalnum() is the cheaper test, and implies it)
                if inner.isalnum() or _NEEDS_WORK.search(inner) is None:
                    return inner
                return "\n".join(_finish(inner))
    parts: list[str] = [text] if text else []
    if len(td):
        _walk(td, parts, None)
    if not parts:
        return ""
    return "\n".join(_finish("".join(parts)))
