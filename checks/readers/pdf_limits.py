"""Limits on what a PDF can make pdfminer and pdfplumber do: fixed memory for any PDF.

Streams. 
pdfminer decodes a stream in one call (`zlib.decompress`, `lzwdecode`, `rldecode`): a few KB of
deflated zeros become gigabytes before anything can look at them. And a deflated stream with a
bad checksum is retried byte by byte, concatenating the output each time, which is quadratic:
a 10 MB stream takes hours. `install()` replaces those decoders in `pdfminer.pdftypes` with
ones that stop at `MAX_STREAM_BYTES` per stream and, within `inflate_budget()`, at
`MAX_INFLATED_BYTES` for the whole document, raising ReadError; the corrupted-stream fallback
becomes linear. Output is otherwise the same as pdfminer's.

Only streams pdfminer actually decodes count (content streams, fonts, object streams); images
are never inflated by the reader.

Objects. A page's content stream, or a form XObject it draws ten thousand times (forms within
forms: exponential), can make millions of characters and paths, a few KB each in pdfplumber.
`install()` also counts the objects pdfplumber's layout device receives and stops a page at
`MAX_PAGE_OBJECTS`; a dense report page has a few thousand.

The replacements are installed into the libraries' modules once, the first time a PDF is read;
if a later pdfplumber renames what is replaced, that limit is skipped (the time limit remains).
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import SimpleNamespace

from checks.document import ReadError
from checks.normalize import human_size

MAX_STREAM_BYTES = 64 * 2**20  # an embedded CJK font is the largest stream a report has: ~20 MB
MAX_INFLATED_BYTES = 256 * 2**20
MAX_PAGE_OBJECTS = 50_000
_CHUNK = 1 << 20


@dataclass(slots=True)
class _Budget:
    left: int
    exceeded: str | None = None  # the reason, once a stream went over


_BUDGET: ContextVar[_Budget | None] = ContextVar("pdf_inflate_budget", default=None)


def _bomb(reason: str) -> ReadError:
    budget = _BUDGET.get()
    if budget is not None and budget.exceeded is None:
        budget.exceeded = reason  # remembered: pdfminer swallows some errors and goes on
    return ReadError(reason)


def _room() -> int:
    """How many bytes the next stream may inflate to."""
    budget = _BUDGET.get()
    return MAX_STREAM_BYTES if budget is None else min(MAX_STREAM_BYTES, budget.left)


def _take(n: int) -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.left -= n


def _over(room: int) -> ReadError:
    if room < MAX_STREAM_BYTES:
        return _bomb(f"PDF 的数据流解压后总量过大（超过 {human_size(MAX_INFLATED_BYTES)}），疑似异常文件，未读取")
    return _bomb(f"PDF 中有数据流解压后过大（超过 {human_size(MAX_STREAM_BYTES)}），疑似压缩炸弹，未读取")


class _Sink:
    """Collects decoded chunks up to `room` bytes."""

    def __init__(self) -> None:
        self.room = _room()
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.room:
            raise _over(self.room)
        self.parts.append(chunk)

    def done(self) -> bytes:
        _take(self.size)
        return b"".join(self.parts)


def _inflate(data: bytes, *, strict: bool) -> bytes:
    """zlib.decompress(data), bounded. strict: raise zlib.error for a truncated stream, as
    zlib.decompress does; else return what was inflated (the corrupted-stream fallback)."""
    sink = _Sink()
    d = zlib.decompressobj()
    pending = data
    try:
        while pending and not d.eof:
            sink.add(d.decompress(pending, _CHUNK))
            pending = d.unconsumed_tail
        if not d.eof:
            sink.add(d.flush(_CHUNK))
    except zlib.error:
        if strict:
            raise
    if strict and not d.eof:
        raise zlib.error("Error -5 while decompressing data: incomplete or truncated stream")
    return sink.done()


def decompress(data: bytes, *args) -> bytes:  # noqa: ARG001 - zlib.decompress's signature
    return _inflate(data, strict=True)


def decompress_corrupted(data: bytes) -> bytes:
    """pdfminer's fallback for a deflated stream with a bad checksum, linear: everything up to
    the damage. Damage before the last 4 bytes (the checksum) is an error, as in pdfminer."""
    sink = _Sink()
    d = zlib.decompressobj()
    body, tail = data[:-4], data[-4:]
    pending = body
    while pending and not d.eof:  # raises zlib.error for damage in the body
        sink.add(d.decompress(pending, _CHUNK))
        pending = d.unconsumed_tail
    try:
        if not d.eof:
            sink.add(d.decompress(tail, MAX_STREAM_BYTES))
    except zlib.error:
        pass  # the checksum: what was inflated stands
    return sink.done()


def lzwdecode(data: bytes) -> bytes:
    from pdfminer.lzw import LZWDecoder

    sink = _Sink()
    for chunk in LZWDecoder(io.BytesIO(data)).run():
        sink.add(chunk)
    return sink.done()


def rldecode(data: bytes) -> bytes:
    """RunLengthDecode (PDF 32000 7.4.5), bounded: each run of up to 128 bytes is sized first."""
    sink = _Sink()
    i, n = 0, len(data)
    while i < n:
        length = data[i]
        if length == 128:  # end of data
            break
        if length < 128:
            sink.add(data[i + 1 : i + 2 + length])
            i += length + 2
        else:
            sink.add(data[i + 1 : i + 2] * (257 - length))
            i += 2
    return sink.done()


_installed = False


def install() -> None:
    """Replace pdfminer's unbounded decoders (idempotent)."""
    global _installed
    if _installed:
        return
    from pdfminer import pdftypes

    pdftypes.zlib = SimpleNamespace(decompress=decompress, decompressobj=zlib.decompressobj, error=zlib.error)
    pdftypes.decompress_corrupted = decompress_corrupted
    pdftypes.lzwdecode = lzwdecode
    pdftypes.rldecode = rldecode
    _count_page_objects()
    _installed = True


def _count_page_objects() -> None:
    try:
        from pdfplumber.page import PDFPageAggregatorWithMarkedContent as device
    except ImportError:
        return
    tag = getattr(device, "tag_cur_item", None)  # called once per char, path and image drawn
    if tag is None:
        return

    def counted(self) -> None:
        n = self.__dict__.get("_xxgk_objects", 0) + 1
        self.__dict__["_xxgk_objects"] = n
        if n > MAX_PAGE_OBJECTS:
            raise _bomb(f"PDF 的某一页包含的文字和图形对象过多（超过 {MAX_PAGE_OBJECTS} 个），疑似异常文件，未读取")
        tag(self)

    device.tag_cur_item = counted


@contextmanager
def inflate_budget(limit: int = MAX_INFLATED_BYTES) -> Iterator[None]:
    """Streams decoded within the block share `limit` bytes. A stream over a limit raises
    ReadError; if pdfminer swallowed that error, it is raised when the block ends."""
    budget = _Budget(limit)
    token = _BUDGET.set(budget)
    try:
        yield
    finally:
        _BUDGET.reset(token)
    if budget.exceeded is not None:
        raise ReadError(budget.exceeded)
