"""Bytes → str for plain-text and HTML reports.

Chinese government sites publish in UTF-8 and in GBK/GB2312 in roughly equal measure, and
their declarations are not to be trusted (pages declared `utf-8` that are GBK, and the
reverse). So a declaration is a hint that is checked against the bytes ("declare and sniff"):

1. a byte-order mark (UTF-8, UTF-16, UTF-32) wins outright;
2. bytes that are valid UTF-8 are UTF-8, whatever is declared: a real GBK text of any length
   is practically never valid UTF-8, while GB18030 decodes almost any byte string, so a
   GBK declaration cannot be verified the same way;
3. otherwise a declared charset that decodes the bytes strictly (GBK and GB2312 are read as
   GB18030, their superset; single-byte Latin declarations are ignored because they decode
   anything);
4. then strict GB18030;
5. then charset-normalizer's guess, as a last resort.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from checks.document import ReadError

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # must precede UTF-16 LE: it starts with FF FE too
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Charsets whose declaration says nothing: they decode every byte string.
_UNVERIFIABLE = {"latin-1", "iso8859-1", "cp1252", "ascii", "iso8859-15"}

# Names that mean "some GB encoding": read them all as GB18030, the superset.
_GB_NAMES = {"gb2312", "gbk", "gb18030", "cp936", "x-gbk", "gb_2312-80", "csgb2312", "euc-cn", "hz-gb-2312"}

_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,400}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]{2,40})""",
    re.IGNORECASE,
)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]{2,40})""", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str  # the Python codec that was used


def normalise_charset(name: str | None) -> str | None:
    """A declared charset as a Python codec name, or None if unknown/unusable."""
    if not name:
        return None
    label = name.strip().strip("\"'").lower()
    if label in _GB_NAMES:
        return "gb18030"
    try:
        codec = codecs.lookup(label).name
    except LookupError:
        return None
    if codec in {"gbk", "gb2312", "gb18030", "hz"}:
        return "gb18030"
    if codec in {"utf-8-sig"}:
        return "utf-8"
    return codec


def html_declared_charset(data: bytes) -> str | None:
    """The charset named by a `<meta charset>` or `<meta http-equiv=Content-Type>` in the
    first 4 KB of an ASCII-compatible document, or None."""
    m = _META_CHARSET.search(data, 0, 4096)
    return m.group(1).decode("ascii") if m else None


def header_charset(content_type: str | None) -> str | None:
    """The charset parameter of an HTTP Content-Type value, or None."""
    if not content_type:
        return None
    m = _HEADER_CHARSET.search(content_type)
    return m.group(1) if m else None


def _bom(data: bytes) -> tuple[str, int] | None:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, len(bom)
    return None


def utf16_without_bom(data: bytes) -> str | None:
    """The codec ("utf-16-le"/"utf-16-be") if the bytes look like UTF-16 without a BOM.

    Such text betrays itself by NUL bytes in one parity only: every ASCII character (digits,
    spaces, line breaks) has a zero high byte, while CJK characters rarely have a zero byte
    at all (only U+xx00)."""
    sample = data[:4096]
    if len(sample) < 8:
        return None
    sample = sample[: len(sample) // 2 * 2]
    half = len(sample) // 2
    even_nul = sample[0::2].count(0)
    odd_nul = sample[1::2].count(0)
    if odd_nul > half * 0.05 and even_nul * 4 <= odd_nul:
        return "utf-16-le"
    if even_nul > half * 0.05 and odd_nul * 4 <= even_nul:
        return "utf-16-be"
    return None


def _try(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode(data: bytes, *, declared: str | None = None) -> Decoded:
    """Decode a text or HTML file. `declared` is a charset from the markup or the HTTP
    header (any spelling). Raises ReadError if the bytes are not text in any encoding."""
    bom = _bom(data)
    if bom is not None:
        codec, skip = bom
        text = _try(data[skip:], codec)
        if text is not None:
            return Decoded(text, codec)
    utf16 = utf16_without_bom(data)
    if utf16 is not None:
        text = _try(data, utf16)
        if text is not None:
            return Decoded(text, utf16)

    text = _try(data, "utf-8")
    if text is not None:
        return Decoded(text, "utf-8")

    codec = normalise_charset(declared)
    if codec and codec not in _UNVERIFIABLE and codec != "utf-8" and not codec.startswith("utf-"):
        text = _try(data, codec)
        if text is not None:
            return Decoded(text, codec)

    text = _try(data, "gb18030")
    if text is not None:
        return Decoded(text, "gb18030")

    # A few damaged bytes (a file cut in the middle of a character, one stray byte) must not
    # send a UTF-8 or GBK file to the guesser. UTF-8 goes first: GBK read as UTF-8 fails on
    # nearly every character, while UTF-8 read as GB18030 mostly "succeeds" as mojibake.
    for candidate in ("utf-8", "gb18030"):
        text = _lenient(data, candidate)
        if text is not None:
            return Decoded(text, candidate)

    guessed = _guess(data)
    if guessed is not None:
        return guessed
    if codec in _UNVERIFIABLE:
        return Decoded(data.decode(codec, errors="replace"), codec)
    raise ReadError("无法识别文件的文字编码（既不是 UTF-8 也不是 GBK/GB18030）")


def _lenient(data: bytes, codec: str) -> str | None:
    """The text if decoding with replacement damages at most 1 in 2000 characters."""
    text = data.decode(codec, errors="replace")
    bad = text.count("\ufffd")
    return text if bad * 2000 <= max(len(text), 2000) else None


def _guess(data: bytes) -> Decoded | None:
    from charset_normalizer import from_bytes  # imported lazily: rarely needed, slow to import

    best = from_bytes(data[:200_000]).best()
    if best is None or best.encoding is None:
        return None
    text = _try(data, best.encoding)
    if text is None:
        return None
    return Decoded(text, best.encoding)
