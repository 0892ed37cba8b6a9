"""Word .docx reports.

The package is opened with python-docx and the body XML is walked in order, so paragraphs
and tables come out interleaved as they are in the document:

- `w:p` → `Paragraph` (runs joined without separators; `w:br` splits the paragraph into
  lines, each its own Paragraph; automatic list numbers such as "一、" are rendered from
  numbering.xml and put in front, since report headings are often auto-numbered);
- `w:tbl` → `Table`: `w:gridSpan` → colspan, `w:vMerge` restart/continue → rowspan on the
  starting cell with the continuation cells omitted; paragraphs inside a cell are joined
  with "\\n"; a table nested in a cell is flattened to text (cells joined by a space, rows by
  "\\n").
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.exceptions import PackageNotFoundError
from docx.package import Package
from lxml import etree

from checks.document import Block, Cell, Document, Paragraph, ReadError, Table

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# For a main part python-docx did not parse itself: no entities, no DTD, no network, no huge trees.
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"

W_P = _W + "p"
W_TBL = _W + "tbl"
W_TR = _W + "tr"
W_TC = _W + "tc"
W_T = _W + "t"
W_VAL = _W + "val"

# Containers that only wrap content (content controls, custom XML, tracked insertions).
_WRAPPERS = {_W + "sdt", _W + "customXml", _W + "smartTag", _W + "ins", _W + "hyperlink", _W + "fldSimple"}
_CONTENT = {_W + "sdtContent"}
# Subtrees whose text must not be read: properties, deleted/moved-away text, field codes,
# and the fallback copy of alternate content (the Choice copy is read).
_NO_TEXT = {
    _W + "pPr", _W + "rPr", _W + "sdtPr", _W + "tblPr", _W + "trPr", _W + "tcPr", _W + "del",
    _W + "moveFrom", _W + "instrText", _W + "delText", _MC + "Fallback", _W + "footnoteReference",
    _W + "endnoteReference", _W + "commentReference",
}  # fmt: skip


def read_docx(data: bytes, source: str, *, fmt: str = "docx") -> Document:
    """Read a .docx (or .docm/.dotx) file's bytes. Raises ReadError if it is not a readable
    Word file."""
    try:
        package = Package.open(io.BytesIO(data))
        part = package.main_document_part
    except (zipfile.BadZipFile, PackageNotFoundError, EOFError):
        raise ReadError("Word 文件（.docx）已损坏或不完整，无法打开") from None
    except KeyError:
        raise ReadError("不是有效的 Word 文件（.docx）：缺少正文部分 word/document.xml") from None
    except etree.XMLSyntaxError:
        raise ReadError("Word 文件（.docx）已损坏：正文 XML 无法解析") from None
    except Exception as exc:  # noqa: BLE001 - python-docx raises assorted errors on malformed packages
        raise ReadError(f"Word 文件（.docx）已损坏或不完整，无法打开（{type(exc).__name__}）") from None

    root = getattr(part, "element", None)
    if root is None:
        try:
            root = etree.fromstring(part.blob, _SAFE_XML)
        except etree.XMLSyntaxError:
            raise ReadError("Word 文件（.docx）已损坏：正文 XML 无法解析") from None
    body = root.find(_W + "body")
    if body is None:
        raise ReadError("不是有效的 Word 文件（.docx）：正文为空或结构不对")

    ctx = _Context(numbering=_Numbering.from_part(part))
    blocks = _body_blocks(body, ctx)
    if not blocks:
        raise ReadError("Word 文件中没有文字内容")
    meta = _core_meta(package)
    title = meta.get("Title") or None
    return Document(source=source, format=fmt, blocks=blocks, title=title, meta=meta)


def _core_meta(package: Package) -> dict[str, str]:
    try:
        core = package.core_properties
    except (KeyError, ValueError, etree.XMLSyntaxError):  # a malformed docProps/core.xml is not fatal
        return {}
    meta: dict[str, str] = {}
    for key, attr in (
        ("Title", "title"),
        ("Author", "author"),
        ("Subject", "subject"),
        ("Keywords", "keywords"),
        ("LastModifiedBy", "last_modified_by"),
        ("Created", "created"),
        ("Modified", "modified"),
    ):
        try:
            value = getattr(core, attr)
        except ValueError:  # an unparseable date
            value = None
        if value is None:
            continue
        text = value.isoformat() if hasattr(value, "isoformat") else str(value).strip()
        if text:
            meta[key] = text
    return meta


# ---------------------------------------------------------------- body walk


@dataclass(slots=True)
class _Context:
    numbering: _Numbering


def _body_blocks(container: etree._Element, ctx: _Context) -> list[Block]:
    blocks: list[Block] = []
    for child in _flatten(container):
        if child.tag == W_P:
            text, boxes = _paragraph_text(child, ctx)
            blocks.extend(Paragraph(line) for line in _lines(text))
            blocks.extend(Paragraph(line) for box in boxes for line in _lines(box))
        elif child.tag == W_TBL:
            table = _table(child, ctx)
            if table.rows:
                blocks.append(table)
    return blocks


def _flatten(container: etree._Element):
    """Children of a block container with wrapper elements (content controls…) opened."""
    for child in container:
        tag = child.tag
        if tag in _WRAPPERS or tag in _CONTENT:
            yield from _flatten(child)
        elif tag == _MC + "AlternateContent":
            choice = child.find(_MC + "Choice")
            if choice is not None:
                yield from _flatten(choice)
        else:
            yield child


def _lines(text: str) -> list[str]:
    return [line for line in (part.strip() for part in text.split("\n")) if line]


def _paragraph_text(p: etree._Element, ctx: _Context) -> tuple[str, list[str]]:
    """The paragraph's text (with its list label) and the texts of any text boxes in it."""
    parts: list[str] = []
    boxes: list[str] = []
    _collect(p, parts, boxes, ctx)
    label = ctx.numbering.label_for(p)
    text = "".join(parts)
    if label and text.strip():
        text = label + text.lstrip()
    return text, boxes


def _collect(el: etree._Element, parts: list[str], boxes: list[str], ctx: _Context) -> None:
    for child in el:
        tag = child.tag
        if not isinstance(tag, str) or tag in _NO_TEXT:
            continue
        if tag == W_T:
            if child.text:
                parts.append(child.text)
        elif tag == _W + "tab" or tag == _W + "ptab":
            parts.append("\t")
        elif tag == _W + "br" or tag == _W + "cr":
            parts.append("\n")
        elif tag == _W + "noBreakHyphen":
            parts.append("-")
        elif tag == _W + "txbxContent":
            boxes.append(_cell_text(child, ctx))
        else:
            _collect(child, parts, boxes, ctx)


# ---------------------------------------------------------------- tables


@dataclass(slots=True)
class _CellBuilder:
    text: str
    colspan: int
    rowspan: int = 1


@dataclass(slots=True)
class _Open:
    cell: _CellBuilder
    colspan: int
    seen_in: int  # index of the last row that continued it


_MAX_SPAN = 1000  # as for HTML: a span is a few columns; a billion is an attack, not a table


def _table(tbl: etree._Element, ctx: _Context) -> Table:
    rows: list[list[_CellBuilder]] = []
    open_at: dict[int, _Open] = {}  # start column → vertically merged cell still open
    for r, tr in enumerate(child for child in _flatten(tbl) if child.tag == W_TR):
        out: list[_CellBuilder] = []
        col = min(max(_int_val(tr.find(f"{_W}trPr/{_W}gridBefore"), 0), 0), _MAX_SPAN)
        for tc in (c for c in _flatten(tr) if c.tag == W_TC):
            span = min(max(_int_val(tc.find(f"{_W}tcPr/{_W}gridSpan"), 1), 1), _MAX_SPAN)
            vmerge = _vmerge(tc)
            started = open_at.get(col)
            if vmerge == "continue" and started is not None and started.seen_in == r - 1:
                started.cell.rowspan += 1
                started.seen_in = r
            else:
                cell = _CellBuilder(_cell_text(tc, ctx), span)
                out.append(cell)
                if vmerge == "restart":
                    open_at[col] = _Open(cell, span, r)
                else:
                    open_at.pop(col, None)
            col += span
        rows.append(out)
    while rows and not any(c.text for c in rows[-1]):
        rows.pop()
    return Table([[Cell(c.text, c.rowspan, c.colspan) for c in row] for row in rows])


def _vmerge(tc: etree._Element) -> str | None:
    el = tc.find(f"{_W}tcPr/{_W}vMerge")
    if el is None:
        return None
    return "restart" if el.get(W_VAL) == "restart" else "continue"


def _int_val(el: etree._Element | None, default: int) -> int:
    if el is None:
        return default
    try:
        return int(el.get(W_VAL, default))
    except ValueError:
        return default


def _cell_text(container: etree._Element, ctx: _Context) -> str:
    """Text of a cell or text box: its paragraphs joined with "\\n"; nested tables flattened
    (cells joined by a space, rows by "\\n")."""
    lines: list[str] = []
    for child in _flatten(container):
        if child.tag == W_P:
            text, boxes = _paragraph_text(child, ctx)
            lines.extend(_lines(text))
            for box in boxes:
                lines.extend(_lines(box))
        elif child.tag == W_TBL:
            for row in _table(child, ctx).rows:
                line = " ".join(c.text.replace("\n", " ") for c in row if c.text)
                if line.strip():
                    lines.append(line.strip())
    return "\n".join(lines)


# ---------------------------------------------------------------- automatic numbering


_ZH_DIGITS = "零一二三四五六七八九"
_ZH_LEGAL = "零壹贰叁肆伍陆柒捌玖"
_TIANGAN = "甲乙丙丁戊己庚辛壬癸"
_DIZHI = "子丑寅卯辰巳午未申酉戌亥"


def _zh_number(n: int, digits: str = _ZH_DIGITS, ten: str = "十", hundred: str = "百") -> str:
    if n < 0 or n >= 1000:
        return str(n)
    if n < 10:
        return digits[n]
    if n < 20:
        return ten + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + ten + (digits[n % 10] if n % 10 else "")
    rest = n % 100
    head = digits[n // 100] + hundred
    if rest == 0:
        return head
    if rest < 10:
        return head + digits[0] + digits[rest]
    if rest < 20:
        return head + digits[1] + _zh_number(rest, digits, ten, hundred)
    return head + _zh_number(rest, digits, ten, hundred)


def _roman(n: int) -> str:
    if n <= 0 or n >= 4000:
        return str(n)
    out = []
    for value, sym in (
        (1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
        (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"),
    ):  # fmt: skip
        while n >= value:
            out.append(sym)
            n -= value
    return "".join(out)


def _letters(n: int) -> str:
    if n <= 0:
        return str(n)
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def format_number(n: int, fmt: str) -> str:
    """A list counter in one of Word's number formats (w:numFmt)."""
    if fmt in ("chineseCounting", "chineseCountingThousand", "japaneseCounting", "taiwaneseCounting"):
        return _zh_number(n)
    if fmt in ("chineseLegalSimplified", "ideographLegalTraditional"):
        return _zh_number(n, _ZH_LEGAL, "拾", "佰")
    if fmt == "ideographDigital" or fmt == "taiwaneseDigital" or fmt == "japaneseDigitalTenThousand":
        return "".join("〇一二三四五六七八九"[int(d)] for d in str(n))
    if fmt == "ideographTraditional":
        return _TIANGAN[(n - 1) % 10] if n > 0 else str(n)
    if fmt == "ideographZodiac":
        return _DIZHI[(n - 1) % 12] if n > 0 else str(n)
    if fmt in ("decimalEnclosedCircle", "decimalEnclosedCircleChinese"):
        return chr(0x2460 + n - 1) if 1 <= n <= 20 else str(n)
    if fmt == "decimalEnclosedParen":
        return chr(0x2474 + n - 1) if 1 <= n <= 20 else f"({n})"
    if fmt == "decimalEnclosedFullstop":
        return chr(0x2488 + n - 1) if 1 <= n <= 20 else f"{n}."
    if fmt in ("decimalFullWidth", "decimalFullWidth2"):
        return "".join(chr(0xFF10 + int(d)) for d in str(n))
    if fmt == "decimalZero":
        return f"{n:02d}"
    if fmt == "lowerLetter":
        return _letters(n)
    if fmt == "upperLetter":
        return _letters(n).upper()
    if fmt == "lowerRoman":
        return _roman(n)
    if fmt == "upperRoman":
        return _roman(n).upper()
    if fmt == "none":
        return ""
    return str(n)


@dataclass(frozen=True, slots=True)
class _Level:
    start: int
    fmt: str
    text: str
    suffix: str
    legal: bool


@dataclass(slots=True)
class _Numbering:
    """Word's automatic list numbering, enough to render labels like "一、", "（二）", "1.2"."""

    abstract: dict[str, dict[int, _Level]] = field(default_factory=dict)
    # numId → (abstractNumId, start overrides per level)
    nums: dict[str, tuple[str, dict[int, int]]] = field(default_factory=dict)
    style_num: dict[str, tuple[str, int]] = field(default_factory=dict)  # styleId → (numId, ilvl)
    counters: dict[str, list[int]] = field(default_factory=dict)
    overridden: set[str] = field(default_factory=set)

    @classmethod
    def from_part(cls, part) -> _Numbering:
        numbering = cls()
        try:
            root = getattr(part.part_related_by(RT.NUMBERING), "element", None)
        except KeyError:  # no numbering part
            root = None
        if root is not None:
            numbering._load_numbering(root)
        try:
            styles = getattr(part.part_related_by(RT.STYLES), "element", None)
        except KeyError:
            styles = None
        if styles is not None:
            numbering._load_styles(styles)
        return numbering

    def _load_numbering(self, root: etree._Element) -> None:
        for an in root.iter(_W + "abstractNum"):
            levels: dict[int, _Level] = {}
            for lvl in an.iter(_W + "lvl"):
                ilvl = _int(lvl.get(_W + "ilvl"), 0)
                fmt_el = lvl.find(_W + "numFmt")
                text_el = lvl.find(_W + "lvlText")
                suff_el = lvl.find(_W + "suff")
                levels[ilvl] = _Level(
                    start=_int_val(lvl.find(_W + "start"), 1),
                    fmt=fmt_el.get(W_VAL, "decimal") if fmt_el is not None else "decimal",
                    text=text_el.get(W_VAL, "") if text_el is not None else "",
                    suffix=suff_el.get(W_VAL, "tab") if suff_el is not None else "tab",
                    legal=lvl.find(_W + "isLgl") is not None,
                )
            self.abstract[an.get(_W + "abstractNumId", "")] = levels
        for num in root.iter(_W + "num"):
            abstract_el = num.find(_W + "abstractNumId")
            if abstract_el is None:
                continue
            overrides: dict[int, int] = {}
            for ov in num.iter(_W + "lvlOverride"):
                start = ov.find(_W + "startOverride")
                if start is not None:
                    overrides[_int(ov.get(_W + "ilvl"), 0)] = _int_val(start, 1)
            self.nums[num.get(_W + "numId", "")] = (abstract_el.get(W_VAL, ""), overrides)

    def _load_styles(self, root: etree._Element) -> None:
        direct: dict[str, tuple[str | None, int | None]] = {}
        based: dict[str, str] = {}
        for style in root.iter(_W + "style"):
            sid = style.get(_W + "styleId")
            if not sid:
                continue
            base = style.find(_W + "basedOn")
            if base is not None:
                based[sid] = base.get(W_VAL, "")
            num_pr = style.find(f"{_W}pPr/{_W}numPr")
            if num_pr is not None:
                num_el = num_pr.find(_W + "numId")
                ilvl_el = num_pr.find(_W + "ilvl")
                direct[sid] = (
                    num_el.get(W_VAL) if num_el is not None else None,
                    _int_val(ilvl_el, 0) if ilvl_el is not None else None,
                )
        for sid in set(direct) | set(based):
            num_id, ilvl, seen, cur = None, None, set(), sid
            while cur and cur not in seen:
                seen.add(cur)
                d_num, d_ilvl = direct.get(cur, (None, None))
                num_id = num_id if num_id is not None else d_num
                ilvl = ilvl if ilvl is not None else d_ilvl
                cur = based.get(cur, "")
            if num_id is not None:
                self.style_num[sid] = (num_id, ilvl or 0)

    def label_for(self, p: etree._Element) -> str:
        ppr = p.find(_W + "pPr")
        if ppr is None:
            return ""
        num_id: str | None = None
        ilvl: int | None = None
        num_pr = ppr.find(_W + "numPr")
        if num_pr is not None:
            num_el = num_pr.find(_W + "numId")
            ilvl_el = num_pr.find(_W + "ilvl")
            num_id = num_el.get(W_VAL) if num_el is not None else None
            ilvl = _int_val(ilvl_el, 0) if ilvl_el is not None else None
        style_el = ppr.find(_W + "pStyle")
        if style_el is not None and (num_id is None or ilvl is None):
            s_num, s_ilvl = self.style_num.get(style_el.get(W_VAL, ""), (None, 0))
            num_id = num_id if num_id is not None else s_num
            ilvl = ilvl if ilvl is not None else s_ilvl
        if not num_id or num_id == "0" or num_id not in self.nums:
            return ""
        return self._next(num_id, ilvl or 0)

    def _next(self, num_id: str, ilvl: int) -> str:
        abstract_id, overrides = self.nums[num_id]
        levels = self.abstract.get(abstract_id)
        if not levels or ilvl not in levels:
            return ""
        counters = self.counters.setdefault(abstract_id, [0] * 9)
        if overrides and num_id not in self.overridden:
            self.overridden.add(num_id)
            for lvl_index, start in overrides.items():
                if 0 <= lvl_index < 9:
                    counters[lvl_index] = start - 1
        if not 0 <= ilvl < 9:
            return ""
        if counters[ilvl] == 0 and levels[ilvl].start != 1:
            counters[ilvl] = levels[ilvl].start - 1
        counters[ilvl] += 1
        for deeper in range(ilvl + 1, 9):
            counters[deeper] = 0
        level = levels[ilvl]
        if level.fmt == "bullet":
            return ""
        text = level.text
        for i in range(9):
            key = f"%{i + 1}"
            if key in text:
                lvl_i = levels.get(i)
                value = counters[i] if counters[i] else (lvl_i.start if lvl_i else 1)
                fmt = "decimal" if (level.legal or lvl_i is None) else lvl_i.fmt
                text = text.replace(key, format_number(value, fmt))
        if not text:
            return ""
        return text + ("" if level.suffix == "nothing" else " ")


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default
