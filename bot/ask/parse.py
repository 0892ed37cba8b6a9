"""From a plain Chinese question to a typed :class:`Intent`: what is asked (kind), about which year,
which region or agency (as text: the store resolves it), which level, which figure, how many.

Pure: no database, no clock. Relative years (今年, 去年, 前年) are kept as an offset from the
current year, which the engine fixes with the Beijing date.

The question is read by cutting out, in turn, the parts this module recognises (years, what is
asked, levels, limits, question words, figure names), each replaced by a separator; what is left,
less filler words at its ends, is the subject: a region or an agency name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from typing import Literal

from bot.ask.numbers import NUMBER, RELATIVE_YEARS, YEAR, cn_int, year_of

Kind = Literal["received", "ranking", "total", "overview", "history", "late", "missing", "inconsistent",
               "findings", "reports", "unknown"]

KINDS: tuple[str, ...] = ("received", "ranking", "total", "overview", "history", "late", "missing",
                          "inconsistent", "findings", "reports", "unknown")

APPLICATIONS = "applications.new.total"

_SEP = "|"


@dataclass(frozen=True, slots=True)
class Intent:
    """What a question asks.

    kind: received (哪些单位收到了申请 / 有行政诉讼), ranking (申请最多的前10个单位), total (浙江省共
    收到多少申请; about an agency: its figure), overview (镇海区2021年的情况: the key figures),
    history (历年: one value per year), late / missing / inconsistent (合规), findings (有哪些问题),
    reports (收录了哪些报告), unknown.
    """

    kind: Kind
    text: str
    year: int | None = None  # an absolute report year (2021年, 二〇二一年)
    relative_year: int | None = None  # 今年 0, 去年 -1, 前年 -2, 大前年 -3
    all_years: bool = False  # 历年, 各年
    subject: str | None = None  # a region or an agency, as written
    level: str | None = None  # department / government / township (哪些局, 哪些政府, 各乡镇)
    figure: str | None = None  # a figure key (query.fields)
    figure_words: str | None = None  # the words that named it
    limit: int | None = None  # 前10个, 前十名, 十大
    ascending: bool = False  # 最少, 最低
    by: Literal["region", "level"] = "region"  # totals broken down by region or level
    negated: bool = False  # 没有收到申请
    which: bool = False  # 哪些 / 哪个: a list of agencies is wanted
    guess: Kind | None = None  # for an unknown question: what it seemed to ask (for example questions)
    leftover: tuple[str, ...] = ()  # other words not understood

    def year_for(self, today: date) -> int | None:
        """The report year asked about, 今年 being `today`'s year (a Beijing date)."""
        if self.relative_year is not None:
            return today.year + self.relative_year
        return self.year

    @property
    def has_year(self) -> bool:
        return self.year is not None or self.relative_year is not None

    def with_(self, **changes: object) -> Intent:
        return replace(self, **changes)  # type: ignore[arg-type]


# ---- vocabulary ----------------------------------------------------------------------------

_PUNCTUATION = re.compile(r"[\s?？!！。，,、；;：:“”\"'‘’「」『』《》〈〉<>…~～·]+")

# What is asked, by phrase. Order matters: the first kind whose pattern matches wins.
_LATE = re.compile(
    r"逾期(?!不补正|未缴费|未按收费)(?:发布|公开|公布|上报|报送|了)?|超期(?:发布|公开)?|迟发|(?:延迟|推迟|延后)发布"
    r"|晚发布?|(?:未|没有|没)(?:能)?按(?:时|期)(?:发布|公开|公布)?|超过(?:法定)?(?:期限|截止日期|时限)"
    r"|过了?(?:截止日期|期限)(?:才发布)?|发布(?:得)?(?:晚|迟)了?")
_MISSING = re.compile(
    r"(?:尚|还|仍)?(?:未|没有|没)(?:有)?(?:发布|公布|上传|报送|上报|公开)(?:年度报告|年报|报告)?|缺(?:失|报)(?:年度报告|年报|报告)?"
    r"|漏报|(?:网站|站点)?(?:无法|不能)访问|打不开|(?:没有|无)(?:年度报告|年报|报告)")
_INCONSISTENT = re.compile(
    r"数据(?:不一致|有误|错误|矛盾|不符|对不上|有问题)|不一致|勾稽(?:关系)?(?:不平|有误|错误|问题)?|不平衡|对不上|不相符|不符"
    r"|有矛盾|算错了?")
_FINDINGS = re.compile(r"(?:合规|违规)(?:问题|情况|记录)?|(?:什么|哪些|有)问题|问题|核查结果|整改")
_REPORTS = re.compile(r"(?:年度)?报告|年报")

# Ranking: the order and the size of the list.
_ASC = re.compile(r"最少|最低|最小|倒数|垫底|末尾")
_DESC = re.compile(r"最多|最高|最大|排名(?:靠)?前|靠前|领先|居首")
_RANK = re.compile(r"排名|排行(?:榜)?|排序|排位")
_LEVEL_WORD = (r"单位|机关|政府部门|部门|局|委办局|区县政府|县级政府|县区政府|县政府|区政府|市政府|人民政府|政府"
               r"|乡镇街道|乡镇|街道")
_LIMIT = re.compile(
    rf"(?:前|top|TOP)(?P<n>{NUMBER})(?:个|家|名|位)?(?P<lw>{_LEVEL_WORD})?"
    rf"|(?P<n2>{NUMBER})大(?P<lw2>{_LEVEL_WORD})?"
    rf"|(?<=最多的|最少的|最高的|最低的|最大的|最小的)(?P<n3>{NUMBER})(?:个|家|名|位)(?P<lw3>{_LEVEL_WORD})?")
# A level: after a marker (哪些局, 各部门, 的单位, 个政府), so that 人社局 stays a name.
_LEVEL = re.compile(
    rf"(?P<m>哪些|哪几个|哪几家|哪个|哪家|哪一个|什么|各个|各|所有|全部|的|个|家)(?P<lw>{_LEVEL_WORD})(?:们)?")
_LEVELS = {"部门": "department", "政府部门": "department", "局": "department", "委办局": "department",
           "人民政府": "government", "政府": "government", "区县政府": "government", "县级政府": "government",
           "县区政府": "government", "县政府": "government", "区政府": "government", "市政府": "government",
           "乡镇": "township", "街道": "township", "乡镇街道": "township"}
_WHICH = re.compile(r"哪些|哪几个|哪几家|哪个|哪家|哪一个|有哪|是哪|什么单位|谁")
_SINGULAR = re.compile(r"哪个|哪家|哪一个|谁")
_HISTORY = re.compile(r"历年来?|各年度?|每年|逐年|每一年|近几年|这几年|近年来?|多年来?|历史数据|历史")
_AMOUNT = re.compile(
    r"是多少|有多少|一共|总共|共计|合计|总计|总数|总量|汇总|累计|多少|几件|几个|几份|几次"
    r"|共(?=收到|受理|有|多少|几|计|发生|办理|作出|做出|收取|制发|\d)")
_BY_LEVEL = re.compile(r"(?:按|分|各)(?:层级|级别)")
_BY_REGION = re.compile(r"(?:按|分)(?:地区|地市|区县|县区|市县|省份|省)|各(?:省份|省|地市|市|县区|区县|县|区|地区|地)(?:的)?")
_NEGATION = re.compile(r"(?:没有|没|未|无|零)(?:收到|受理|发生|作出|做出|办理|过)?$")
_RECEIVED_VERB = re.compile(r"收到|受理|接到")
_QUESTION_WORDS = re.compile(r"什么|怎么|为什么|如何|怎样|咋|为啥|可不可以|能不能")
# Question tails that ask nothing more than the rest does: 「……的情况怎么样」「……逾期了吗」.
_TAILS = re.compile(r"(?:的)?(?:情况)?(?:怎么样|怎样|如何)$|有没有|是不是|是否|能否")
_NATIONWIDE = re.compile(r"全国(?:范围内|范围)?|全部地区|所有地区|全省|全市|全县|全区")

# Names that end in these are agencies; a subject without one is first tried as a region.
AGENCY_SUFFIX = re.compile(
    r"(?:局|委员会|委|办公室|办|人民政府|政府|中心|院|厅|署|馆|所|站|队|处|街道办事处|街道|镇|乡|管委会|公司|集团|会|社|部)$")

_LEADING = ("的", "请帮我查一下", "请帮我查", "帮我查一下", "帮我查查", "帮我查", "帮忙查", "查一下", "查询一下", "查询",
            "请问", "我想知道", "已收录", "收录了", "收录", "想知道", "想问一下", "想问", "问一下", "告诉我", "看看", "看一下", "在", "关于")
_TRAILING = ("范围内", "是多少", "有多少", "收到多少", "收到了", "受理了", "发生了", "作出了", "办理了", "怎么样",
             "收到", "受理", "接到", "发生", "作出", "做出", "办理", "数据", "情况", "数量", "件数", "总数",
             "年度报告", "年报", "报告", "分别", "各自", "一共", "总共", "全部", "所有", "单位", "机关",
             "的", "了", "是", "有", "都", "共", "中", "里", "内", "数", "量", "件", "个", "份", "吗", "呢", "啊",
             "呀", "么", "多", "又", "还", "度", "年", "和", "与", "及", "已收录", "收录了", "收录", "没有", "没",
             "未")
_TRAILING_SORTED = tuple(sorted(_TRAILING, key=len, reverse=True))

# Figure words a supervisor uses beyond query.fields' names; the earlier name wins a clash.
_EXTRA_NAMES: dict[str, tuple[str, ...]] = {
    APPLICATIONS: ("申请量", "申请件数", "收到的申请", "信息公开申请", "公开申请", "依申请", "新收申请数", "申请件"),
    "review_litigation.review.total": ("被复议", "被申请复议", "被申请行政复议", "复议案件", "行政复议案件"),
    "litigation.total": ("被诉", "被起诉", "起诉", "应诉", "诉讼案件", "行政诉讼案件"),
    "proactive.fees.amount_wan_yuan": ("收费金额", "收费额"),
}
# Names too common to mean a figure inside a sentence (「政府信息公开」 is not 予以公开).
_TOO_COMMON = frozenset({"公开"})


def normalize(text: str) -> str:
    """NFKC, no spaces or sentence punctuation; 年报 → 年度报告 so that 2021年报 is read as a year."""
    s = unicodedata.normalize("NFKC", text)
    s = _PUNCTUATION.sub("", s)
    return s.replace("年报", "年度报告")


@cache
def figure_names() -> tuple[tuple[str, str], ...]:
    """(name, figure key) for every name of every figure, longest first."""
    from query.fields import FIGURES

    index: dict[str, str] = {}
    for f in FIGURES:
        for name in (f.label, *f.names):
            index.setdefault(normalize(name), f.key)
    for key, names in _EXTRA_NAMES.items():
        for name in names:
            index.setdefault(normalize(name), key)
    return tuple(sorted(((n, k) for n, k in index.items() if n and n not in _TOO_COMMON),
                        key=lambda nk: (-len(nk[0]), nk[0])))


def _cut(text: str, pattern: re.Pattern[str]) -> tuple[str, list[re.Match[str]]]:
    """`text` with every match of `pattern` replaced by the separator, and the matches."""
    found: list[re.Match[str]] = []

    def sub(m: re.Match[str]) -> str:
        found.append(m)
        return _SEP

    return pattern.sub(sub, text), found


def _find_figures(text: str) -> tuple[str, list[tuple[str, str, str]]]:
    """Figure names in `text`, longest first at each place: (text with them cut out, [(key, words,
    what came before the words in their segment)]). A name followed by more of a name that ends
    like an agency (「强制隔离戒毒所」) is part of that name, not a figure."""
    names = figure_names()
    out: list[str] = []
    found: list[tuple[str, str, str]] = []
    i = 0
    segment_start = 0
    while i < len(text):
        if text[i] == _SEP:
            out.append(_SEP)
            i += 1
            segment_start = len(out)
            continue
        hit = next(((n, k) for n, k in names if text.startswith(n, i)), None)
        if hit is not None:
            name, key = hit
            rest = text[i + len(name):].split(_SEP, 1)[0]
            rest_core = _strip_trailing(rest)
            inside_name = len(rest_core) >= 2 and AGENCY_SUFFIX.search(rest_core) is not None
            if not inside_name:
                found.append((key, name, "".join(out[segment_start:])))
                out.append(_SEP)
                i += len(name)
                segment_start = len(out)
                continue
        out.append(text[i])
        i += 1
    return "".join(out), found


def _strip_trailing(s: str) -> str:
    changed = True
    while s and changed:
        changed = False
        for word in _TRAILING_SORTED:
            if s.endswith(word) and len(s) > 0:
                s = s[: -len(word)]
                changed = True
                break
    return s


def _strip(segment: str) -> str:
    """A leftover segment without filler words at its ends."""
    s = segment
    changed = True
    while s and changed:
        changed = False
        for word in _LEADING:
            if s.startswith(word) and len(s) > len(word):
                s = s[len(word):]
                changed = True
    return _strip_trailing(s)


def parse(question: str) -> Intent:
    """The intent of a question. Never raises; a question it cannot read has kind "unknown"."""
    text = _TAILS.sub(_SEP, normalize(question))
    year: int | None = None
    relative: int | None = None
    limit: int | None = None
    level: str | None = None

    # Years. The first one counts; 今年 etc. stay relative.
    text, years = _cut(text, YEAR)
    for m in years:
        if m.group("rel"):
            relative = RELATIVE_YEARS[m.group("rel")]
            break
        value = year_of(m)
        if value is not None:
            year = value
            break
    text, history = _cut(text, _HISTORY)

    # What is asked about compliance.
    kind: Kind | None = None
    for name, pattern in (("late", _LATE), ("inconsistent", _INCONSISTENT), ("missing", _MISSING)):
        text, hits = _cut(text, pattern)
        if hits and kind is None:
            kind = name  # type: ignore[assignment]
    text, findings = _cut(text, _FINDINGS)

    # Lists: limits, order, levels.
    text, limits = _cut(text, _LIMIT)
    for m in limits:
        n = cn_int(m.group("n") or m.group("n2") or m.group("n3") or "")
        if n:
            limit = n
        lw = m.group("lw") or m.group("lw2") or m.group("lw3")
        if lw:
            level = _LEVELS.get(lw, level)
    text, asc = _cut(text, _ASC)
    text, desc = _cut(text, _DESC)
    text, rank = _cut(text, _RANK)
    text, levels = _cut(text, _LEVEL)
    for m in levels:
        level = _LEVELS.get(m.group("lw"), level)
    each = any(m.group("m") in ("各", "各个", "所有", "全部") for m in levels)
    which = bool(_WHICH.search(question)) or each
    singular = bool(_SINGULAR.search(question))
    text, _ = _cut(text, _WHICH)
    text, by_level = _cut(text, _BY_LEVEL)
    text, _ = _cut(text, _BY_REGION)
    text, amount = _cut(text, _AMOUNT)
    text, _ = _cut(text, _NATIONWIDE)  # 全国: no region
    received_verb = bool(_RECEIVED_VERB.search(text))

    # Figures, then what is left: the subject.
    text, figures = _find_figures(text)
    figure = figures[0][0] if figures else None
    words = figures[0][1] if figures else None
    negated = any(_NEGATION.search(before) for _, _, before in figures)
    reports = bool(_REPORTS.search(text))
    questioning = bool(_QUESTION_WORDS.search(text))  # left after every part understood: 「怎么查」
    text = _QUESTION_WORDS.sub(_SEP, text)
    segments = [s for s in (_strip(seg) for seg in text.split(_SEP)) if s]
    subject, leftover = _subject(segments)

    if kind is None:
        if findings:
            kind = "findings"
        elif limit is not None or asc or desc or rank or (each and not amount):
            kind = "ranking"
        elif history:
            kind = "history"
        elif which and (figure or received_verb or negated):
            kind = "received"
        elif reports and not figure:
            kind = "reports"
        elif figure or amount or received_verb:
            kind = "total"
        elif subject or year is not None or relative is not None:
            kind = "overview"
        else:
            kind = "unknown"
    if kind == "ranking" and limit is None and singular:
        limit = 1
    # 申请 unless another figure is named; an agency's history without one: its key figures.
    if figure is None and (kind in ("received", "ranking", "total") or (kind == "history" and received_verb)):
        figure, words = APPLICATIONS, None
    guess = kind
    if questioning:
        kind = "unknown"  # 「处罚的规定是什么」「怎么查年报」: a question about something else
    return Intent(
        kind=kind, text=question, year=year, relative_year=relative,
        all_years=bool(history) and year is None and relative is None, subject=subject, level=level,
        figure=figure, figure_words=words,
        limit=limit, ascending=bool(asc) and not desc, by="level" if by_level else "region", negated=negated,
        which=which, leftover=tuple(leftover), guess=guess if kind == "unknown" else None,
    )


def _subject(segments: list[str]) -> tuple[str | None, list[str]]:
    """The region or agency among the leftover segments, and the others: the first of two characters
    or more, one that ends like an agency preferred; several region-like ones read as one path."""
    if not segments:
        return None, []
    named = [s for s in segments if len(s) >= 2]
    if not named:
        return None, segments
    agencies = [s for s in named if AGENCY_SUFFIX.search(s)]
    subject = (agencies or named)[0]
    if len(named) > 1 and not agencies:
        # 「宁波市」「镇海区」 in two places: read as one path (宁波市镇海区).
        subject = "".join(named)
    rest = [s for s in segments if s != subject and s not in subject]
    return subject, rest
