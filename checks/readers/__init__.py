"""Format readers: a file's bytes → `checks.document.Document`.

The format is sniffed from the bytes (magic numbers first; the file name's extension is only
a hint, e.g. to tell .wps from .doc): `%PDF` → PDF; a ZIP holding `word/document.xml` →
.docx; OLE2 (`D0 CF 11 E0`) or RTF → .doc/.wps via LibreOffice; markup in the first few KB
→ HTML; anything else that decodes as text → plain text. Every failure is a `ReadError`
whose reason is one line of Chinese.

Hostile files are refused within fixed memory and time: ZIP packages by their entry count and
declared sizes before anything is unpacked (zipfile never inflates past a declared size), PDF
streams by a cap on what they inflate to and PDFs by their page count (checks.readers.pdf),
and the reading in this process by a time limit (checks.budget; LibreOffice runs under its own).
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from checks.budget import time_limit, timeout_reason
from checks.document import Document, ReadError
from checks.normalize import human_size
from checks.readers.decode import decode, header_charset, html_declared_charset, utf16_without_bom

log = logging.getLogger(__name__)

__all__ = ["ReadError", "read_bytes", "read_path", "sniff"]

_UNKNOWN = "无法识别的文件格式（不是 HTML、Word、PDF 或文本文件）"
_CONTROL_BYTES = bytes(b for b in range(0x20) if b not in (0x09, 0x0A, 0x0C, 0x0D, 0x1B))
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")
_WORD_STREAM = "WordDocument".encode("utf-16-le")  # OLE2 directory entry names are UTF-16LE
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML_START = re.compile(
    r"<(?:!doctype\s+html|html|head|body|meta|title|table|p|div|span|br|h[1-6]|font|center|style|script)\b",
    re.IGNORECASE,
)
# Formats that are recognisably not a report document.
_OTHER_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "文件是 PNG 图片，不是文字报告，需要先做 OCR 识别"),
    (b"\xff\xd8\xff", "文件是 JPEG 图片，不是文字报告，需要先做 OCR 识别"),
    (b"GIF87a", "文件是 GIF 图片，不是文字报告，需要先做 OCR 识别"),
    (b"GIF89a", "文件是 GIF 图片，不是文字报告，需要先做 OCR 识别"),
    (b"II*\x00", "文件是 TIFF 图片，不是文字报告，需要先做 OCR 识别"),
    (b"MM\x00*", "文件是 TIFF 图片，不是文字报告，需要先做 OCR 识别"),
    (b"Rar!\x1a\x07", "文件是 RAR 压缩包，请先解压后检查其中的报告文件"),
    (b"7z\xbc\xaf\x27\x1c", "文件是 7z 压缩包，请先解压后检查其中的报告文件"),
    (b"\x1f\x8b", "文件是 gzip 压缩文件，请先解压后检查其中的报告文件"),
    (b"%!PS", "文件是 PostScript 文件，请转换为 PDF 后再检查"),
    (b"\x7fELF", "文件是可执行程序（ELF），不是报告文档，未读取"),
)


def read_path(path: Path, *, max_bytes: int, soffice: str = "soffice", timeout: float = 120.0,
              read_timeout: float | None = None) -> Document:
    """Read a report file. The size is checked before anything is read."""
    return read_bytes(load_file(path, max_bytes=max_bytes), str(path), soffice=soffice, timeout=timeout,
                      read_timeout=read_timeout)


def load_file(path: Path, *, max_bytes: int) -> bytes:
    """A file's bytes, refused with a clear reason (missing, empty, a directory, over
    `max_bytes`) before anything is read."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ReadError("文件不存在") from None
    except OSError as exc:
        raise ReadError(f"无法访问文件（{exc.strerror or exc}）") from None
    if not path.is_file():
        raise ReadError("不是普通文件（可能是目录）")
    if st.st_size == 0:
        raise ReadError("文件为空")
    if st.st_size > max_bytes:
        raise ReadError(f"文件过大（{human_size(st.st_size)}），超过上限 {_limit(max_bytes)}")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ReadError(f"无法读取文件（{exc.strerror or exc}）") from None


def read_bytes(
    data: bytes,
    source: str,
    *,
    soffice: str = "soffice",
    timeout: float = 120.0,
    content_type: str | None = None,
    read_timeout: float | None = None,
) -> Document:
    """Read a report from its bytes. `source` (a path or URL) is recorded in the Document
    and its extension used as a hint; `content_type` is an HTTP Content-Type header, whose
    charset is used as a hint for text and HTML.

    `timeout` limits a LibreOffice conversion (.doc/.wps/.rtf); `read_timeout` limits the
    reading done in this process (None: the same as `timeout`; 0: no limit). Past either,
    ReadError."""
    if not data:
        raise ReadError("文件为空")
    limit = timeout if read_timeout is None else read_timeout
    kind = "file"
    try:
        kind = sniff(data, _suffix(source), content_type=content_type)  # bounded: looks at the head, lists a ZIP
        return _dispatch(kind, data, source, soffice=soffice, timeout=timeout, content_type=content_type,
                         read_timeout=limit)
    except ReadError:
        raise
    except MemoryError:
        raise ReadError("文件过于庞大或结构异常，读取时内存不足，已停止处理") from None
    except RecursionError:
        raise ReadError("文件的结构嵌套层次过深，无法读取") from None
    except Exception as exc:  # a reader bug or an input nobody foresaw: still one clean line
        log.warning("reader crashed on %s", source, exc_info=True)
        raise ReadError(
            f"文件无法读取（{_KIND_NAMES.get(kind, kind)}解析出错：{type(exc).__name__}）"
        ) from None


_KIND_NAMES = {
    "file": "",
    "pdf": "PDF ",
    "docx": "Word ",
    "doc": ".doc ",
    "wps": ".wps ",
    "rtf": "RTF ",
    "html": "网页",
    "text": "文本",
}


def sniff(data: bytes, suffix: str = "", *, content_type: str | None = None) -> str:
    """The format of a file: "pdf", "docx", "doc", "wps", "rtf", "html" or "text".
    `suffix` (".wps", ".docx"…) is a hint only. Raises ReadError for recognisably
    unsupported or unrecognisable content."""
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _sniff_zip(data, suffix)
    if data.startswith(_OLE2):
        return _sniff_ole(data, suffix)
    if data[:64].lstrip()[:5] == b"{\\rtf":
        return "rtf"
    for magic, reason in _OTHER_MAGIC:
        if data.startswith(magic):
            raise ReadError(reason)
    if _is_windows_executable(data):
        raise ReadError("文件是 Windows 可执行程序（.exe/.dll），不是报告文档，未读取")
    if not _looks_like_text(data):
        raise ReadError(_UNKNOWN)
    head_text = decode(data[:4096], declared=_declared(data, content_type)).text
    return "html" if _is_html(head_text, content_type) else "text"


# A real report's .docx unpacks to a few MB (its photos do not compress): what python-docx holds
# in memory is bounded by these, its parsed XML by the XML limit.
_MAX_UNPACKED = 128 * 2**20
_MAX_UNPACKED_XML = 48 * 2**20
_MAX_ENTRIES = 5000  # a .docx has a few dozen parts; each entry costs zipfile a ZipInfo
_CENTRAL_DIR_ENTRY = b"PK\x01\x02"  # every entry zipfile lists starts with this signature


def _sniff_zip(data: bytes, suffix: str) -> str:
    entries = data.count(_CENTRAL_DIR_ENTRY)  # an upper bound, counted before zipfile lists them
    if entries > _MAX_ENTRIES:
        raise ReadError(f"压缩文档包含的条目过多（{entries} 个，上限 {_MAX_ENTRIES}），疑似异常文件，未读取")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            names = {info.filename for info in infos}
            unpacked = sum(info.file_size for info in infos)
            xml = sum(info.file_size for info in infos if info.filename.lower().endswith((".xml", ".rels")))
            _check_unpacked(unpacked, xml)
            if "word/document.xml" in names:
                _check_inflated(infos, data)
            mimetype = zf.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, ValueError, NotImplementedError, RuntimeError):
        first = _first_zip_entry(data)
        if suffix in (".docx", ".docm", ".dotx", ".wps", ".doc") or first.startswith("word/"):
            raise ReadError("Word 文件（.docx）已损坏或不完整，无法打开") from None
        if first in ("[Content_Types].xml", "_rels/.rels"):
            raise ReadError("Office 文档（如 .docx）已损坏或不完整，无法打开") from None
        raise ReadError("ZIP 压缩文件已损坏或不完整，无法打开") from None
    if "word/document.xml" in names:
        return "docx"
    if b"opendocument.text" in mimetype:
        raise ReadError("暂不支持 OpenDocument 文本（.odt），请另存为 .docx 或 .pdf 后再检查")
    if any(n.startswith("xl/") for n in names):
        raise ReadError("文件是 Excel 表格（.xlsx），不是年度报告文档")
    if any(n.startswith("ppt/") for n in names):
        raise ReadError("文件是 PowerPoint 演示文稿（.pptx），不是年度报告文档")
    if suffix in (".docx", ".docm", ".dotx"):
        raise ReadError("不是有效的 Word 文件（.docx）：缺少正文部分 word/document.xml")
    raise ReadError("文件是 ZIP 压缩包，请先解压后检查其中的报告文件")


def _check_unpacked(unpacked: int, xml: int) -> None:
    """Refuse a package by its declared sizes: a few hundred KB that unpack to gigabytes (a zip
    bomb) would exhaust memory. zipfile stops inflating an entry at its declared size (and then
    fails its CRC check), so an entry that lies about its size cannot get past this either."""
    if unpacked > _MAX_UNPACKED:
        raise ReadError(f"压缩文档解压后过大（{human_size(unpacked)}，上限 {human_size(_MAX_UNPACKED)}），疑似异常文件，未读取")
    if xml > _MAX_UNPACKED_XML:
        raise ReadError(
            f"压缩文档中的 XML 解压后过大（{human_size(xml)}，上限 {human_size(_MAX_UNPACKED_XML)}），疑似异常文件，未读取"
        )


def _check_inflated(infos: list[zipfile.ZipInfo], data: bytes) -> None:
    """Inflate every entry (bounded, output discarded) to check it is no bigger than declared.
    zipfile's read() inflates a whole entry in one call before cutting it to the declared
    size, so a 2 KB entry that inflates to gigabytes would exhaust memory in python-docx."""
    view = memoryview(data)
    for info in infos:
        if info.compress_type == zipfile.ZIP_STORED:
            continue  # read as stored: never more than the file holds
        if info.compress_type != zipfile.ZIP_DEFLATED:
            raise ReadError("Word 文件（.docx）使用了不支持的压缩方式，无法打开")
        start = info.header_offset
        if bytes(view[start : start + 4]) != b"PK\x03\x04":
            raise ReadError("Word 文件（.docx）已损坏或不完整，无法打开")
        name_len = int.from_bytes(view[start + 26 : start + 28], "little")
        extra_len = int.from_bytes(view[start + 28 : start + 30], "little")
        begin = start + 30 + name_len + extra_len
        pending: bytes | memoryview = view[begin : begin + info.compress_size]
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        produced = 0
        try:
            while pending and not inflater.eof:
                produced += len(inflater.decompress(pending, 1 << 20))
                pending = inflater.unconsumed_tail
                if produced > info.file_size:
                    raise ReadError(
                        f"压缩文档中的 {info.filename[:80]} 解压后比声明的大小（{human_size(info.file_size)}）更大，疑似压缩炸弹，未读取"
                    )
        except zlib.error:
            raise ReadError("Word 文件（.docx）已损坏或不完整，无法打开") from None


def _first_zip_entry(data: bytes) -> str:
    """The name in the first local file header of a (possibly truncated) ZIP."""
    if len(data) < 30:
        return ""
    name_len = int.from_bytes(data[26:28], "little")
    return data[30 : 30 + name_len].decode("utf-8", errors="replace")


def _sniff_ole(data: bytes, suffix: str) -> str:
    if _WORD_STREAM in data:
        return "wps" if suffix == ".wps" else "doc"
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") + b"\x00\x00" in data:
        raise ReadError("文件是 Excel 表格（.xls），不是年度报告文档")
    if "PowerPoint Document".encode("utf-16-le") in data:
        raise ReadError("文件是 PowerPoint 演示文稿（.ppt），不是年度报告文档")
    return "wps" if suffix == ".wps" else "doc"


def _is_windows_executable(data: bytes) -> bool:
    """An MZ header whose e_lfanew points at a "PE\\0\\0" signature."""
    if not data.startswith(b"MZ") or len(data) < 0x40:
        return False
    pe = int.from_bytes(data[0x3C:0x40], "little")
    return data[pe : pe + 4] == b"PE\x00\x00"


def _looks_like_text(data: bytes) -> bool:
    """False for binary content: NUL bytes (unless UTF-16/32 text) or many control bytes."""
    sample = data[:8192]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    if sample.count(0):
        return utf16_without_bom(data) is not None
    control = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return control * 100 <= len(sample)


def _dispatch(
    kind: str, data: bytes, source: str, *, soffice: str, timeout: float, content_type: str | None,
    read_timeout: float | None = None,
) -> Document:
    if kind in ("doc", "wps", "rtf"):
        from checks.readers.legacy import read_legacy

        fmt = "wps" if kind == "wps" else "doc"
        # Kingsoft .wps files are Word binaries (a "WordDocument" stream): let LibreOffice see
        # ".doc"; other OLE files keep ".wps" so its Works/WPS import is tried.
        if kind == "rtf":
            suffix = ".rtf"
        elif kind == "wps" and _WORD_STREAM not in data:
            suffix = ".wps"
        else:
            suffix = ".doc"
        return read_legacy(data, source, fmt, soffice=soffice, timeout=timeout, suffix=suffix,
                           read_timeout=read_timeout)
    with time_limit(read_timeout, timeout_reason(read_timeout or 0)):
        if kind == "pdf":
            from checks.readers.pdf import read_pdf

            return read_pdf(data, source)
        if kind == "docx":
            from checks.readers.docx import read_docx

            return read_docx(data, source)
        return _read_markup_or_text(kind, data, source, content_type)


def _declared(data: bytes, content_type: str | None) -> str | None:
    return header_charset(content_type) or html_declared_charset(data)


def _read_markup_or_text(kind: str, data: bytes, source: str, content_type: str | None) -> Document:
    text = decode(data, declared=_declared(data, content_type)).text
    if not text.strip():
        raise ReadError("文件为空（只有空白字符）")
    if "\x00" in text or _control_ratio(text) > 0.01:
        raise ReadError(_UNKNOWN)
    if kind == "html":
        from checks.readers.html import read_html

        return read_html(text, source)
    from checks.readers.text import read_text

    return read_text(text, source)


def _control_ratio(text: str) -> float:
    sample = text[:8192]
    return len(_CONTROL_CHARS.findall(sample)) / max(len(sample), 1)


def _is_html(text: str, content_type: str | None) -> bool:
    head = text[:4096]
    if _HTML_START.search(head):
        return True
    return bool(content_type) and "html" in content_type.lower() and "<" in head


def _suffix(source: str) -> str:
    path = urlsplit(source).path if "://" in source else source
    return PurePosixPath(path.replace("\\", "/")).suffix.lower()


def _limit(n: int) -> str:
    return human_size(n).replace(".0 ", " ")
