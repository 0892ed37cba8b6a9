"""Is this link title an annual report on government information disclosure, and for which year?

Titles seen on real sites (see /work/shared/spec/disclosure-sites.md §5):

- "平潭综合实验区2021年度政府信息公开工作年度报告" (the usual form);
- without 「工作」: "…2021年政府信息公开年度报告", "…2021年政府信息公开年报";
- "…2022年度政府信息公开工作报告" (「年度政府信息公开工作报告」);
- Chinese numerals: "二〇二一年政府信息公开工作年度报告";
- generic: "政府信息公开工作年度报告" with the year only in the body.

Not reports: notices about compiling them ("关于做好2022年政府信息公开工作年度报告编制工作的
通知"), explainers ("…年度报告的解读", "图解…"), evaluations and reviews; and mirror/spam copies
that convert to traditional script or insert pinyin ("政府信息公開", "機(jī)關(guān)").
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["report_year", "is_report_title", "title_years"]

# 政府信息公开 (also 政务信息公开), then within a short window the report word.
_REPORT = re.compile(r"(?:政府|政务)信息公开.{0,12}?(?:年度报告|年报|工作报告|年度工作报告)")

# News about reports, not reports. Checked on the whole title.
_NEWS = re.compile(
    r"做好|编制|报送|撰写|起草|解读|图解|读懂|一图|评估|评议|测评|考核|培训|通报|督查|检查|"
    r"整改|抽查|核查|审核|要点|发布会|征求|意见|说明会|工作会|部署|点评|排名|榜单"
)
# "…的通知" is a notice unless it publishes the report ("关于印发/公布…年度报告的通知").
_NOTICE = re.compile(r"通知$|的通知")
_PUBLISHES = re.compile(r"印发|公布|发布")

# Traditional-only characters that an official simplified title never contains; mirrors
# convert whole pages to traditional script ("政府資訊公開", "報告", "機關").
_TRADITIONAL = frozenset(
    "報開資訊機關縣區務門級總體據計劃辦應與為會國長書業鄉鎮陽東華衛實經濟發農環電設產標準規範條歲萬"
    "圖讀網頁證執審監當時間應對處權責統計劃聯繫點擊關於為這個們"
)
# Pinyin inserted after characters: "機(jī)關(guān)" or any tone-marked Latin letter.
_TONE_MARKED = re.compile(r"[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]")
_PINYIN_SYLLABLE = re.compile(r"[(（][a-zü]{1,6}[)）]")

_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "O": 0, "o": 0, "Ｏ": 0, "０": 0, "一": 1, "二": 2, "三": 3,
              "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_YEAR_ARABIC = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_YEAR_CHINESE = re.compile(r"二[〇○零OoＯ０一二三四五六七八九]{3}")
_MIN_YEAR, _MAX_YEAR = 2007, 2099  # the regulation took effect in 2008; first reports cover 2007/2008


def _normalise(title: str) -> str:
    """NFKC (full-width digits and letters to ASCII), whitespace removed."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", title or ""))


def _is_mirror(text: str) -> bool:
    if _TONE_MARKED.search(text) or len(_PINYIN_SYLLABLE.findall(text)) >= 2:
        return True
    return any(ch in _TRADITIONAL for ch in text)


def is_report_title(title: str) -> bool:
    """True if the title names an annual report on government information disclosure, with or
    without a year (a generic "政府信息公开工作年度报告" gets its year from the body)."""
    text = _normalise(title)
    if not text or len(text) > 120 or _is_mirror(text):
        return False
    if not _REPORT.search(text):
        return False
    if _NEWS.search(text):
        return False
    if _NOTICE.search(text) and not _PUBLISHES.search(text):
        return False
    return True


def title_years(title: str) -> list[tuple[int, int]]:
    """(position, year) for every plausible year named in the title, Arabic or Chinese numerals."""
    text = _normalise(title)
    found: list[tuple[int, int]] = []
    for m in _YEAR_ARABIC.finditer(text):
        found.append((m.start(), int(m.group(1))))
    for m in _YEAR_CHINESE.finditer(text):
        found.append((m.start(), int("".join(str(_CN_DIGITS[ch]) for ch in m.group(0)))))
    return sorted((p, y) for p, y in found if _MIN_YEAR <= y <= _MAX_YEAR)


def report_year(title: str) -> int | None:
    """The report year if the title names an annual report with a year, else None.

    With several years ("2021年度…年度报告（2022年3月发布）") the year followed by 年度 wins,
    then the last year before 「政府信息公开」, then the first one."""
    if not is_report_title(title):
        return None
    text = _normalise(title)
    years = title_years(title)
    if not years:
        return None
    for pos, year in years:
        if _followed_by_niandu(text, pos):
            return year
    anchor = _REPORT.search(text)
    if anchor is not None:
        before = [y for p, y in years if p < anchor.start()]
        if before:
            return before[-1]
    return years[0][1]


def _followed_by_niandu(text: str, pos: int) -> bool:
    # the year token is 4 characters long in both spellings (2021 / 二〇二一)
    return text.startswith("年度", pos + 4)
