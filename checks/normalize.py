"""Pure text helpers: normalising labels and reading cell values."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from checks.model import Number

_SPACE = re.compile(r"\s+")
_QUOTES = str.maketrans({"“": "", "”": "", '"': "", "‘": "", "’": "", "'": "", "「": "", "」": ""})
# Leading enumerators: 一、 （一） (一) 1. 1、 1． 第一 ; repeated (三、（一）).
_ENUM = re.compile(r"^(?:[一二三四五六七八九十]+[、.,，:：]|[(（][一二三四五六七八九十\d]+[)）]|\d{1,2}[、.,，:：](?!\d))+")
_PAREN_NOTE = re.compile(r"[(（][^()（）]*[)）]$")
_PUNCT = re.compile(r"[、，,。.：:；;·!！?？]")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def nfkc(text: str) -> str:
    """Full-width to half-width, compatibility forms folded (（→(, ０→0, U+3000→space)."""
    return unicodedata.normalize("NFKC", text)


@lru_cache(maxsize=16384)
def compact(text: str) -> str:
    """NFKC, no whitespace of any kind, no quote marks: the form labels are compared in."""
    return _SPACE.sub("", nfkc(text)).translate(_QUOTES)


@lru_cache(maxsize=16384)
def label_core(text: str) -> str:
    """A row label without its enumerators and trailing notes:
    "（二）部分公开（区分处理的，只计这一情形，不计其他情形）" → "部分公开"."""
    s = compact(text).replace("其它", "其他")  # both spellings are in use
    s = _ENUM.sub("", s)
    s = _ENUM.sub("", nfkc(s))
    while True:
        stripped = _PAREN_NOTE.sub("", s)
        if stripped == s or not stripped:
            break
        s = stripped
    return _PUNCT.sub("", s)


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


# ---- values ------------------------------------------------------------------------------

BLANK_TOKENS = frozenset({"", "/", "-", "--", "—", "——", "–", "－", "／", "\\", "、", "无", "空", "null", "N/A", "n/a", "*", "…"})
ZERO_LOOKALIKES = frozenset({"O", "o", "〇", "○", "Ｏ"})
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_SPACED_DIGITS = re.compile(r"^[+-]?\d+(?:\s+\d+)+$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_UNIT = re.compile(r"(万元|元|件|个|项|条|次|宗|起)$")


@dataclass(frozen=True, slots=True)
class CellValue:
    """A cell read as a number. `value` is None for blank cells and unreadable ones.
    `problem` is None, "unreadable" or "suspicious"; `raw` is the cell as published."""

    value: Number | None
    raw: str
    problem: str | None = None
    unit: str | None = None


@lru_cache(maxsize=4096)
def read_value(raw: str) -> CellValue:
    s = nfkc(raw).strip().strip("\u200b")
    if s in BLANK_TOKENS:
        return CellValue(None, raw)
    if s in ZERO_LOOKALIKES:
        return CellValue(0, raw, "suspicious")
    unit = None
    m = _UNIT.search(s)
    if m and m.start() > 0:
        unit = m.group(1)
        s = s[: m.start()].strip()
    problem = None
    if _THOUSANDS.match(s):
        s = s.replace(",", "")
    elif _SPACED_DIGITS.match(s):
        s = _SPACE.sub("", s)
        problem = "suspicious"
    if not _NUMBER.match(s):
        return CellValue(None, raw, "unreadable", unit)
    value: Number = float(s) if "." in s else int(s)
    digits = s.lstrip("+-")
    if problem is None:
        if len(digits) > 1 and digits[0] == "0" and "." not in digits:
            problem = "suspicious"  # "00", "05": a typo for 0 or 5?
        elif isinstance(value, (int, float)) and value < 0:
            problem = "negative"
    return CellValue(value, raw, problem, unit)


def looks_like_value(raw: str) -> bool:
    """Could this cell sit in a value column (a number, a blank, a dash, a short typo)?

    Anything with two or more CJK ideographs is a label; so are bare enumerators like "（三）"."""
    s = compact(raw)
    if not s:
        return True
    if read_value(raw).problem != "unreadable":
        return True  # numbers, blanks, and amounts with a unit ("196.7万元")
    if len(_CJK.findall(s)) >= 2:
        return False
    if _ENUM.fullmatch(s):
        return False
    return len(s) <= 12


def show_number(value: Number | None, *, blank: str) -> str:
    """A cell value as a supervisor reads it: 3 not 3.0, `blank` for None."""
    if value is None:
        return blank
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def human_size(n: float) -> str:
    """A byte count as a supervisor reads it: "200.0 MB", "27.4 KB", "512 字节"."""
    if n >= 2**20:
        return f"{n / 2**20:.1f} MB"
    if n >= 2**10:
        return f"{n / 2**10:.1f} KB"
    return f"{n:.0f} 字节"
