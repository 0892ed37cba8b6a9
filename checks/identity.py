"""Who published the report and for which year: from the title, the first lines, or metadata."""

from __future__ import annotations

import re
from dataclasses import dataclass

from checks.normalize import compact, nfkc

_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "O": 0, "Ｏ": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_YEAR_ARABIC = re.compile(r"((?:19|20)\d{2})\s*年")
_YEAR_CHINESE = re.compile(r"([二][〇○零OＯ一二三四五六七八九]{3})\s*年")
_REPORT_WORDS = re.compile(r"(?:年度报告|年报|工作报告)")
# Everything from the report's name onwards: "政府信息公开工作年度报告", "政务公开…年度报告", "信息公开年报".
_REPORT_NAME = re.compile(
    r"(?:关于)?(?:的)?(?:政府信息公开|政务公开|政府信息|信息公开)[^，。；]*?(?:年度报告|年报|工作报告)(?:[(（][^)）]*[)）])?"
)
_TITLE_SPLIT = re.compile(r"\s*[_|｜]+\s*|\s+[-–—]+\s+")
_LEADING_JUNK = re.compile(r"^[#\s*·•【\[]+|[\s】\]]+$")
_AGENCY_TAIL = re.compile(
    r"(?:人民政府|办事处|委员会|管理委员会|政府|局|委|办|厅|院|署|会|中心|处|所|站|队|室|部|街道|镇|乡|馆|社|团|府|公司|集团|实验区|开发区|新区|区|县|市|旗|州|盟|省)$"
)
STATS_PERIOD = re.compile(r"统计(?:期限|时限|时间|区间|周期)[^。]{0,12}?((?:19|20)\d{2})\s*年\s*1\s*月\s*1\s*日")


def chinese_year(text: str) -> int | None:
    """二〇二一 → 2021."""
    digits = [_CN_DIGITS.get(ch) for ch in text]
    if any(d is None for d in digits):
        return None
    return int("".join(str(d) for d in digits))


def years_in(text: str) -> list[int]:
    """Report-like years (1990–2099) named in text, in order, Arabic or Chinese numerals."""
    found: list[tuple[int, int]] = []
    t = nfkc(text)
    for m in _YEAR_ARABIC.finditer(t):
        found.append((m.start(), int(m.group(1))))
    for m in _YEAR_CHINESE.finditer(text):
        y = chinese_year(m.group(1))
        if y:
            found.append((m.start(), y))
    return [y for _, y in sorted(found) if 1990 <= y <= 2099]


@dataclass(frozen=True, slots=True)
class Identity:
    title: str | None
    agency: str | None
    year: int | None


def find_title(paragraphs: list[str], meta_title: str | None = None, window: int = 8) -> str | None:
    """The report's title: metadata if it names a report, else the first lines up to and
    including the one that names the report (titles are often split over two lines:
    agency on one, "2021年度政府信息公开工作年度报告" on the next)."""
    if meta_title:
        meta_title = _report_segment(meta_title)
    if meta_title and _REPORT_WORDS.search(meta_title):
        return _clean(meta_title)
    lines = [_clean(p) for p in paragraphs[:window]]
    for i, line in enumerate(lines):
        if not line or len(line) > 60:
            continue
        if _REPORT_WORDS.search(line) and ("公开" in line or "年报" in line):
            parts = [line]
            # Prepend short preceding lines that carry the agency or the year.
            j = i - 1
            while j >= 0 and lines[j] and len(lines[j]) <= 30 and not re.search(r"[。；;，,:：]", lines[j]):
                parts.insert(0, lines[j])
                j -= 1
            return "".join(parts)
    if meta_title:
        return _clean(meta_title)
    return None


def _report_segment(title: str) -> str:
    """A page title's part that names the report: CMS titles append the column and the site
    ("…年度报告_政府信息公开年报_平潭综合实验区党工委管委会")."""
    segments = [seg for seg in _TITLE_SPLIT.split(title) if seg.strip()]
    if len(segments) > 1:
        for seg in segments:
            if _REPORT_WORDS.search(seg):
                return seg
    return title


def _clean(text: str) -> str:
    return _LEADING_JUNK.sub("", re.sub(r"\s+", " ", text.strip())).replace(" ", "") if text else text


def agency_from_title(title: str) -> str | None:
    s = compact(title)
    s = _REPORT_NAME.sub("", s)
    s = re.sub(r"(?:(?:19|20)\d{2}|[二][〇○零OＯ一二三四五六七八九]{3})年度?", "", s)
    s = re.sub(r"^关于|关于$|的$|[(（](?:图片版|全文|公开版|修订版?)[)）]", "", s)
    s = s.strip("_-—|·：:")
    if len(s) >= 2 and _AGENCY_TAIL.search(s):
        return s
    return None


def year_from_title(title: str) -> int | None:
    ys = years_in(title)
    return ys[0] if ys else None


def identify(paragraphs: list[str], meta: dict[str, str], meta_title: str | None) -> Identity:
    title = find_title(paragraphs, meta.get("ArticleTitle") or meta_title)
    agency = agency_from_title(title) if title else None
    year = year_from_title(title) if title else None
    if year is None:
        joined = "\n".join(paragraphs[:40])
        m = STATS_PERIOD.search(nfkc(joined))
        if m:
            year = int(m.group(1))
    if agency is None:
        agency = _agency_from_body(paragraphs)
    return Identity(title=title, agency=agency, year=year)


_COMPILED_BY = re.compile(r"由([\u4e00-\u9fff（）()]{2,30}?(?:局|委员会|委|办公室|办|政府|中心|院|厅|街道办事处|街道|镇|乡))负责编制")


def _agency_from_body(paragraphs: list[str]) -> str | None:
    for p in paragraphs[:30]:
        m = _COMPILED_BY.search(compact(p))
        if m:
            return m.group(1)
    return None
