"""Numbers and years as supervisors write them: 10, 十, 二十五, 两; 2021年, 2021年度, 二〇二一年,
今年, 去年, 前年. Pure functions."""

from __future__ import annotations

import re
from datetime import date

_DIGITS = {"〇": 0, "零": 0, "○": 0, "Ｏ": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
           "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}

CN_NUMBER = "〇零○一二两三四五六七八九十百千"
NUMBER = rf"(?:\d+|[{CN_NUMBER}]+)"


def cn_int(text: str) -> int | None:
    """An integer from Arabic or Chinese numerals: 10, 十 → 10, 十二 → 12, 二十 → 20, 一百零五 → 105,
    二〇二一 → 2021 (digit by digit). None when it is not a number."""
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if any(c not in _DIGITS and c not in _UNITS for c in text):
        return None
    if not any(c in _UNITS for c in text):  # 二〇二一: digit by digit
        return int("".join(str(_DIGITS[c]) for c in text))
    total, current = 0, 0
    for c in text:
        if c in _DIGITS:
            current = _DIGITS[c]
        else:
            total += (current or 1) * _UNITS[c]
            current = 0
    return total + current


# A year: 2021年 / 2021年度 / 2021 / 二〇二一年 / 21年度; or 今年, 去年, 前年, 大前年.
RELATIVE_YEARS = {"大前年": -3, "前年": -2, "去年": -1, "今年": 0}
YEAR = re.compile(
    r"(?P<rel>大前年|前年|去年|今年)(?:度)?"
    r"|(?P<cn>[〇零○一二三四五六七八九]{4})年(?:度)?"
    r"|(?<!\d)(?P<num>(?:19|20)\d{2})(?:年(?:度)?|(?![\d件个份万元条名家]))"
    r"|(?<!\d)(?P<short>\d{2})年(?:度)?"
)


def year_of(match: re.Match[str], today: date | None = None) -> int | None:
    """The report year a YEAR match names, `today` (Beijing date) fixing the relative ones (None
    without it)."""
    if match.group("rel"):
        return today.year + RELATIVE_YEARS[match.group("rel")] if today else None
    if match.group("cn"):
        return cn_int(match.group("cn"))
    if match.group("num"):
        return int(match.group("num"))
    short = int(match.group("short"))
    return 2000 + short if short >= 8 else None
