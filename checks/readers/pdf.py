"""PDF reports, read with pdfplumber.

Per page, ruled tables are found with `page.find_tables()` and emitted as `Table`s; the text
lines outside the tables become one `Paragraph` each; both are ordered by their top edge.
Cell spans are measured from the cell rectangles (how many column/row boundaries of the
table a cell crosses), so merged header cells and vertical labels come out as published.

PDFs made by WPS or "Jisupdf" often have no ruling a table finder can see; their tables come
out as lines such as "一、本年新收… 2 0 0 0 0 0 2", which the parser splits itself.

A PDF is refused, in fixed memory, when its page tree holds more pages than any report
(`MAX_PAGES`) or a stream would inflate past `MAX_STREAM_BYTES` (a decompression bomb: a few
KB of zeros deflated) or all its streams past `MAX_INFLATED_BYTES`. pdfminer inflates a whole
stream at once and, for a stream with a bad checksum, byte by byte in quadratic time; its
decoders are replaced by bounded, linear ones and each page's objects are counted
(`checks.readers.pdf_limits`).
"""

from __future__ import annotations

import io
import logging
import re
from bisect import bisect_left

from checks.document import Block, Cell, Document, Paragraph, ReadError, Table
from checks.readers import pdf_limits

log = logging.getLogger(__name__)

ENCRYPTED = "PDF 有密码保护，无法读取"
DAMAGED = "PDF 文件不完整或已损坏"
NO_TEXT = "PDF 没有文字层（可能是扫描件/图片），需要先做 OCR 识别"
GARBLED = "PDF 的文字无法正确提取（字体缺少编码映射，取出的是乱码），需要先做 OCR 识别"

MAX_PAGES = 2000  # an annual report has 5 to 50 pages

_CID = re.compile(r"\(cid:\d+\)")
_EDGE_TOLERANCE = 2.0  # points; cell edges closer than this are the same ruling line


def read_pdf(data: bytes, source: str) -> Document:
    """Read a PDF's bytes. Raises ReadError for encrypted, damaged and image-only files."""
    if b"%%EOF" not in data.rstrip(b"\x00\r\n\t\x0c ")[-2048:]:
        raise ReadError(DAMAGED + "（文件末尾缺少结束标记，可能没有下载完整）")
    import pdfplumber  # heavy import, only when a PDF is read
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    pdf_limits.install()
    blocks: list[Block] = []
    try:
        with pdf_limits.inflate_budget(), pdfplumber.open(io.BytesIO(data)) as pdf:
            meta = _meta(pdf.metadata)
            _check_page_count(pdf.doc)
            if not pdf.pages:
                raise ReadError(DAMAGED + "（没有任何页面）")
            n_chars = n_cid = n_images = 0
            for page in pdf.pages:
                chars = page.chars
                n_chars += len(chars)
                n_cid += sum(1 for c in chars if c.get("text", "").startswith("(cid:"))
                n_images += len(page.images)
                if chars:
                    blocks.extend(_page_blocks(page))
                page.close()
    except ReadError:
        raise
    except Exception as exc:  # pdfminer/pdfplumber raise many types for broken files
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], Exception) else exc
        if isinstance(cause, ReadError):  # a stream over the limits, wrapped by pdfplumber
            raise cause from None
        if isinstance(cause, (MemoryError, RecursionError)):
            raise cause from None  # read_bytes gives these their own reasons
        if isinstance(cause, (PDFPasswordIncorrect, PDFEncryptionError)) or isinstance(
            exc, (PDFPasswordIncorrect, PDFEncryptionError)
        ):
            raise ReadError(ENCRYPTED) from None
        if b"/Encrypt" in data[-4096:] or b"/Encrypt" in data[:4096]:
            raise ReadError(ENCRYPTED) from None
        log.debug("PDF read failed: %s", source, exc_info=True)
        raise ReadError(DAMAGED) from None

    if n_chars == 0:
        raise ReadError(NO_TEXT)
    if n_cid * 2 > n_chars:
        raise ReadError(GARBLED)
    if not blocks:
        raise ReadError(NO_TEXT)
    return Document(source=source, format="pdf", blocks=blocks, title=_title(meta.get("Title")), meta=meta)


def _check_page_count(doc) -> None:
    """Refuse a page tree of more than MAX_PAGES pages before pdfplumber builds a Page for each
    (a few KB of PDF can hold a hundred thousand empty pages). Pages are counted as pdfminer
    walks the tree, not by its /Count, which may lie."""
    from pdfminer.pdfpage import PDFPage

    for n, _ in enumerate(PDFPage.create_pages(doc), start=1):
        if n > MAX_PAGES:
            raise ReadError(f"PDF 页数过多（超过 {MAX_PAGES} 页），不像是年度报告，疑似异常文件，未读取")


# ---------------------------------------------------------------- metadata


def _meta(info: dict | None) -> dict[str, str]:
    meta: dict[str, str] = {}
    for key, value in (info or {}).items():
        if isinstance(value, bytes):
            value = _decode_pdf_string(value)
        if not isinstance(value, str):
            continue
        value = value.replace("\x00", "").strip()
        if value and value != "(unspecified)":
            meta[str(key)] = value
    return meta


def _decode_pdf_string(value: bytes) -> str:
    for codec in ("utf-16", "utf-8", "gb18030"):
        if codec == "utf-16" and not value.startswith((b"\xfe\xff", b"\xff\xfe")):
            continue
        try:
            return value.decode(codec)
        except UnicodeDecodeError:
            continue
    return value.decode("latin-1")


_OFFICE_PREFIX = re.compile(r"^(Microsoft (Word|PowerPoint) - |WPS文字 - )", re.IGNORECASE)
_FILE_SUFFIX = re.compile(r"\.(docx?|wps|pdf|rtf|xlsx?|txt)$", re.IGNORECASE)
_GENERIC = re.compile(r"^(文档|新建|无标题|untitled|document)\s*\S{0,4}$", re.IGNORECASE)


def _title(raw: str | None) -> str | None:
    """The metadata title if it looks like a report title (not a file name or a placeholder)."""
    if not raw:
        return None
    title = _FILE_SUFFIX.sub("", _OFFICE_PREFIX.sub("", raw.strip())).strip()
    cjk = sum(1 for ch in title if "\u4e00" <= ch <= "\u9fff")
    if cjk < 4 or _GENERIC.match(title):
        return None
    return title


# ---------------------------------------------------------------- page layout


def _page_blocks(page) -> list[Block]:
    placed: list[tuple[float, int, Block]] = []
    boxes: list[tuple[float, float, float, float]] = []
    for found in page.find_tables():
        table = _table(found)
        if table is None:
            continue
        boxes.append(found.bbox)
        placed.append((found.bbox[1], len(placed), table))
    if boxes:
        outside = page.filter(lambda obj: obj.get("object_type") != "char" or not _inside(obj, boxes))
    else:
        outside = page
    for line in outside.extract_text_lines(strip=True, return_chars=False):
        text = _CID.sub("", line["text"]).strip()
        if text:
            placed.append((line["top"], len(placed), Paragraph(text)))
    placed.sort(key=lambda item: (item[0], item[1]))
    return [block for _, _, block in placed]


def _inside(obj: dict, boxes: list[tuple[float, float, float, float]]) -> bool:
    cx = (obj["x0"] + obj["x1"]) / 2
    cy = (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in boxes)


def _edges(values: list[float]) -> list[float]:
    """Distinct ruling positions: values closer than the tolerance are merged."""
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > _EDGE_TOLERANCE:
            out.append(v)
    return out


def _index(edges: list[float], value: float) -> int:
    i = bisect_left(edges, value - _EDGE_TOLERANCE)
    return min(i, len(edges) - 1)


def _table(found) -> Table | None:
    """A pdfplumber table as a Table, spans measured from the cell rectangles; None for a
    one-cell "table" (a frame drawn around text)."""
    cells = [c for row in found.rows for c in row.cells if c is not None]
    if len(cells) < 2:
        return None
    xs = _edges([c[0] for c in cells] + [c[2] for c in cells])
    ys = _edges([c[1] for c in cells] + [c[3] for c in cells])
    rows: list[list[Cell]] = []
    for row, texts in zip(found.rows, found.extract()):
        out: list[Cell] = []
        for bbox, text in zip(row.cells, texts):
            if bbox is None:
                continue
            x0, top, x1, bottom = bbox
            colspan = max(_index(xs, x1) - _index(xs, x0), 1)
            rowspan = max(_index(ys, bottom) - _index(ys, top), 1)
            out.append(Cell(_CID.sub("", text or "").strip(), rowspan, colspan))
        rows.append(out)
    return Table(rows)
