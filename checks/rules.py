"""Validation rules that need only one report. Each rule is a pure function Report → findings.

Blank cells are None ("not reported"): an arithmetic rule skips a sum it cannot complete
rather than treating the blank as 0.
"""

from __future__ import annotations

import re
from functools import lru_cache
from collections.abc import Callable, Iterable

from checks.identity import STATS_PERIOD, years_in
from checks.model import Finding, Number, Report
from checks.normalize import compact, nfkc, show_number
from checks.template import (
    APPLICANT_COLUMNS,
    APPLICANT_PARTS,
    APPLICATION_ROWS,
    COLUMN_LABELS,
    RESULT_ROWS,
    REVIEW_COLUMNS,
    REVIEW_ROW_LABELS,
    ROW_LABELS,
    SECTION_NUMERALS,
    SECTION_TITLES,
    TEMPLATE_2019,
    TEMPLATE_2021,
    TEMPLATE_NOTICE,
)

Rule = Callable[[Report], Iterable[Finding]]


def _fmt(n: Number | None) -> str:
    return show_number(n, blank="空")


def _sum(values: Iterable[Number | None]) -> Number | None:
    total: Number = 0
    for v in values:
        if v is None:
            return None
        total += v
    return total


def _app(report: Report, row: str, col: str) -> Number | None:
    return report.applications.get(row, {}).get(col)


# ---- arithmetic -----------------------------------------------------------------------------


def balance(report: Report) -> Iterable[Finding]:
    """一 + 二 = （七）总计 + 四, per column (the table's printed 勾稽关系)."""
    if not report.applications:
        return
    for col in APPLICANT_COLUMNS:
        new, carried = _app(report, "new", col), _app(report, "carried_over", col)
        handled, forward = _app(report, "handled_total", col), _app(report, "carried_forward", col)
        left, right = _sum([new, carried]), _sum([handled, forward])
        if left is None or right is None or left == right:
            continue
        yield Finding(
            "balance", "error",
            f"勾稽关系不成立：本年新收（{_fmt(new)}）+上年结转（{_fmt(carried)}）={_fmt(left)}，"
            f"但办理结果总计（{_fmt(handled)}）+结转下年度（{_fmt(forward)}）={_fmt(right)}",
            f"三、申请情况表 · {COLUMN_LABELS[col]}列", "三", None, col)


def row_total(report: Report) -> Iterable[Finding]:
    """Each row's 总计 = the sum of its six applicant columns; a blank 总计 beside filled cells."""
    for row, cells in report.applications.items():
        total = cells.get("total")
        parts = [cells.get(c) for c in APPLICANT_PARTS]
        s = _sum(parts)
        where = f"三、申请情况表 · {ROW_LABELS.get(row, row)} · 总计列"
        if total is None:
            if any(p is not None for p in parts) and any(p for p in parts):
                yield Finding("blank_total", "warning",
                              f"总计栏空着，但本行其他栏填了数（合计 {_fmt(_sum(p or 0 for p in parts))}）",
                              where, "三", row, "total")
            continue
        if s is not None and s != total:
            yield Finding("row_total", "error",
                          f"总计（{_fmt(total)}）不等于六类申请人之和（{_fmt(s)}）", where, "三", row, "total")


def handled_total(report: Report) -> Iterable[Finding]:
    """（七）总计 = the sum of all result rows (（一）…（六）), per column."""
    if "handled_total" not in report.applications:
        return
    rows = RESULT_ROWS[report.template if report.template in RESULT_ROWS else TEMPLATE_2021]
    for col in APPLICANT_COLUMNS:
        stated = _app(report, "handled_total", col)
        s = _sum(_app(report, r, col) for r in rows)
        if stated is None or s is None or s == stated:
            continue
        yield Finding("handled_total", "error",
                      f"办理结果（七）总计填的是 {_fmt(stated)}，但（一）至（六）各项相加为 {_fmt(s)}",
                      f"三、申请情况表 · （七）总计 · {COLUMN_LABELS[col]}列", "三", "handled_total", col)


def review_total(report: Report) -> Iterable[Finding]:
    """Section 四: each 总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结."""
    for row, cells in report.review_litigation.items():
        total = cells.get("total")
        s = _sum(cells.get(c) for c in REVIEW_COLUMNS[:-1])
        if total is None or s is None or s == total:
            continue
        yield Finding("review_total", "error",
                      f"{REVIEW_ROW_LABELS[row]}总计填的是 {_fmt(total)}，但维持、纠正、其他、尚未审结相加为 {_fmt(s)}",
                      f"四、{REVIEW_ROW_LABELS[row]} · 总计", "四", row, "total")


# ---- prose against tables -----------------------------------------------------------------

_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}
_N = r"(\d+|[零〇一二两三四五六七八九十百千]+)"
_UNIT = r"(?:件|条|个|起|宗|份|次|项)"
_SENTENCE = re.compile(r"[^。；;！!？?\n]+")
_RECEIVE = r"(?:新收|收到|受理|接到|接收|收悉)"
_APPLY = r"(?:政府|政务)?信息公开(?:的)?申请"
_APPLICATION_PATTERNS = [
    re.compile(_RECEIVE + r"(?:了|的)?(?:各类|各种)?" + _APPLY + r"(?:数量|事项)?(?:共计|共|合计|总计|为)?" + _N + _UNIT),
    re.compile(_RECEIVE + r"(?:了|的)?(?:各类|各种)?(?:共计|共|合计)?" + _N + _UNIT + r"(?:的)?" + _APPLY),
    re.compile(_RECEIVE + r"(?:了|的)?依申请公开(?:政府信息)?(?:事项|申请|件)?(?:共计|共|合计|为)?" + _N + _UNIT),
]
_NO_APPLICATIONS = re.compile(r"(?:未|没有|无|零)" + _RECEIVE + r"[^，,]{0,10}?(?:申请|依申请)")


def _number(token: str) -> int:
    """"12", "一", "两", "十二", "二十", "一百零五" → int."""
    if token.isdigit():
        return int(token)
    if not any(ch in _CN_UNIT for ch in token):
        return int("".join(str(_CN_DIGIT[ch]) for ch in token))  # 二〇 → 20
    total = digit = 0
    for ch in token:
        if ch in _CN_UNIT:
            total += (digit or 1) * _CN_UNIT[ch]
            digit = 0
        else:
            digit = _CN_DIGIT[ch]
    return total + digit


class Sentence(str):
    """A sentence in compact form (for matching) that remembers how it was written (for quoting)."""

    shown: str

    def __new__(cls, original: str) -> Sentence:
        self = super().__new__(cls, compact(original))
        lines = [line.strip() for line in original.split("\n") if line.strip()]
        # A heading line glued in front of the sentence ("（二）依申请公开情况" + newline) is not quoted.
        while len(lines) > 1 and len(lines[0]) <= 25 and not re.search(r"[，,]", lines[0]):
            lines.pop(0)
        self.shown = "".join(lines)
        return self


_SENTENCE_ORIGINAL = re.compile(r"[^。；;！!？?]+")


@lru_cache(maxsize=8)
def _sentences(text: str) -> tuple[Sentence, ...]:
    """The text's sentences, split once per report (several rules read them)."""
    return tuple(sent for m in _SENTENCE_ORIGINAL.finditer(text) if (sent := Sentence(m.group(0))))


def stated_applications(text: str) -> list[tuple[int, str]]:
    """Numbers of applications received that the prose states, with the sentence."""
    out: list[tuple[int, str]] = []
    for sent in _sentences(text):
        if "结转" in sent and "上年" in sent and not re.search(_RECEIVE, sent):
            continue
        for pattern in _APPLICATION_PATTERNS:
            m = pattern.search(sent)
            if m:
                out.append((_number(m.group(1)), sent))
                break
        else:
            if _NO_APPLICATIONS.search(sent):
                out.append((0, sent))
    return out


_REVIEW_COUNT = re.compile(r"(?:行政复议|复议)(?:案件|申请)?(?:共计|共|合计)?" + _N + _UNIT)
_REVIEW_COUNT2 = re.compile(_N + _UNIT + r"(?:政府信息公开)?(?:行政)?复议")
_LITIGATION_COUNT = re.compile(r"(?:行政诉讼|诉讼)(?:案件)?(?:共计|共|合计)?" + _N + _UNIT)
_LITIGATION_COUNT2 = re.compile(_N + _UNIT + r"(?:政府信息公开)?(?:行政)?诉讼")
# "未发生…复议", "无…诉讼"; not 未经 (without), 尚未 (not yet) or 无法 (unable), which table
# headers and row labels are full of (未经复议直接起诉, 尚未审结, 无法提供).
_NEGATION = re.compile(r"(?:(?<!尚)未(?!经)|没有|无(?!法)|零)")
_NEGATION_REACH = 30  # characters between the negation and 复议/诉讼


def _negated(clause: str, word: str) -> bool:
    at = clause.find(word)
    return at > 0 and _NEGATION.search(clause, max(0, at - _NEGATION_REACH), at) is not None


def stated_review(text: str) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(review counts, litigation counts) stated in sentences about disclosure (含“公开”)."""
    review: list[tuple[int, str]] = []
    litigation: list[tuple[int, str]] = []
    for sent in _sentences(text):
        if "公开" not in sent or ("复议" not in sent and "诉讼" not in sent):
            continue
        for clause in re.split(r"[，,]", sent):
            m = _REVIEW_COUNT.search(clause) or _REVIEW_COUNT2.search(clause)
            if m:
                review.append((_number(m.group(1)), sent))
            elif _negated(clause, "复议"):
                review.append((0, sent))
            m = _LITIGATION_COUNT.search(clause) or _LITIGATION_COUNT2.search(clause)
            if m:
                litigation.append((_number(m.group(1)), sent))
            elif _negated(clause, "诉讼"):
                litigation.append((0, sent))
    return review, litigation


_ISSUE = r"(?:制发|出台|印发|制定|发布)(?:了)?"
_NORMATIVE = [
    re.compile(_ISSUE + r"(?:行政)?规范性文件(?:共计|共)?" + _N + r"(?:件|个|份)"),
    re.compile(_ISSUE + r"(?:共计|共)?" + _N + r"(?:件|个|份)(?:行政)?规范性文件"),
]
_LICENSING = re.compile(r"(?:作出|办理|办结)(?:了)?行政许可(?:决定|事项|案件)?(?:共计|共)?" + _N + r"件")
_PUNISHMENT = re.compile(r"(?:作出|办理|办结|实施)(?:了)?行政处罚(?:决定|案件)?(?:共计|共)?" + _N + r"(?:件|起|宗)")


def text_table_mismatch(report: Report) -> Iterable[Finding]:
    text = report.text
    new = _app(report, "new", "total")
    carried = _app(report, "carried_over", "total")
    if new is not None:
        accepted = {new} | ({new + carried} if carried is not None else set())
        for n, sent in stated_applications(text):
            if n not in accepted:
                yield Finding(
                    "text_table_mismatch", "error",
                    f"正文说收到申请 {n} 件（“{_clip(sent)}”），但申请情况表本年新收总计为 {_fmt(new)}",
                    "正文 / 三、本年新收 · 总计列", None, "new", "total")
    rl = report.review_litigation
    review_total_ = rl.get("review", {}).get("total")
    lit = _sum([rl.get("litigation_direct", {}).get("total"), rl.get("litigation_after_review", {}).get("total")])
    reviews, litigations = stated_review(text)
    for stated, table, what, row in ((reviews, review_total_, "行政复议", "review"),
                                     (litigations, lit, "行政诉讼", "litigation_direct")):
        wrong = next(((n, sent) for n, sent in stated if table is not None and n != table), None)
        if wrong is not None:
            yield Finding("text_table_mismatch", "error",
                          f"正文说{what} {wrong[0]} 件（“{_clip(wrong[1])}”），但表四{what}总计为 {_fmt(table)}",
                          f"正文 / 四、{what} · 总计", None, row, "total")
    yield from _proactive_mismatch(report)


def _proactive_mismatch(report: Report) -> Iterable[Finding]:
    pro = report.proactive
    issued_col = "made" if report.template == TEMPLATE_2019 else "issued"
    checks = [
        (_NORMATIVE, "normative_documents", issued_col, "制发规范性文件", "二、第二十条第（一）项 · 行政规范性文件"),
        ([_LICENSING], "licensing", "decisions", "行政许可决定", "二、第二十条第（五）项 · 行政许可"),
        ([_PUNISHMENT], "punishment", "decisions", "行政处罚决定", "二、第二十条第（六）项 · 行政处罚"),
    ]
    for patterns, row, col, what, where in checks:
        table = pro.get(row, {}).get(col)
        if table is None:
            continue
        for sent in _sentences(report.text):
            m = next((m for p in patterns if (m := p.search(sent))), None)
            if m and _number(m.group(1)) != table:
                yield Finding("text_table_mismatch", "error",
                              f"正文说{what} {_number(m.group(1))} 件（“{_clip(sent)}”），但主动公开表填的是 {_fmt(table)}",
                              f"正文 / {where}", "二", row, col)
                break


def _clip(sentence: str, n: int = 40) -> str:
    shown = getattr(sentence, "shown", sentence)
    return shown if len(shown) <= n else shown[:n] + "…"


# ---- structure --------------------------------------------------------------------------------


def missing_section(report: Report) -> Iterable[Finding]:
    for numeral in SECTION_NUMERALS:
        if numeral not in report.sections:
            yield Finding("missing_section", "error",
                          f"报告缺少第{numeral}部分“{numeral}、{SECTION_TITLES[numeral]}”（模板规定的六个部分缺一不可）",
                          f"{numeral}、{SECTION_TITLES[numeral]}", numeral)


def missing_table(report: Report) -> Iterable[Finding]:
    """A section whose heading is there but whose table could not be read at all."""
    tables = {"二": report.proactive, "三": report.applications, "四": report.review_litigation}
    for numeral, data in tables.items():
        if numeral in report.headings and not data:
            yield Finding("missing_table", "error",
                          f"第{numeral}部分没有可读取的统计表（可能漏填，或表格以图片形式发布）",
                          f"{numeral}、{SECTION_TITLES[numeral]}", numeral)


def template_outdated(report: Report) -> Iterable[Finding]:
    if report.year is not None and report.year >= 2021 and report.template == TEMPLATE_2019:
        yield Finding("template_outdated", "warning",
                      f"{report.year}年度报告仍使用2019年旧格式（{TEMPLATE_NOTICE[TEMPLATE_2019]}），"
                      f"2021年度起应使用新格式（{TEMPLATE_NOTICE[TEMPLATE_2021]}）",
                      "二、三（表格格式）")


# ---- wording --------------------------------------------------------------------------------

_PLAN = re.compile(r"(?:将|计划|拟|力争|打算|准备|要)")


def stale_text(report: Report) -> Iterable[Finding]:
    """Improvement plans for the report's own year or earlier (copied from last year's report),
    and a statistics period naming another year."""
    if report.year is None:
        return
    plan_text = report.section_text.get("五", "")
    for sent in _sentences(plan_text):
        for m in re.finditer(r"((?:19|20)\d{2})年(?!度报告)", sent):
            year = int(m.group(1))
            after = sent[m.end(): m.end() + 20]
            if year <= report.year and _PLAN.search(after):
                yield Finding("stale_text", "warning",
                              f"改进计划写的是{year}年（“{_clip(sent)}”），而本报告是{report.year}年度的，"
                              f"应写{report.year + 1}年的打算，疑似照搬往年报告",
                              "五、存在的主要问题及改进情况", "五")
                return
    m = STATS_PERIOD.search(nfkc(compact(report.text)))
    if m and int(m.group(1)) != report.year:
        yield Finding("stale_text", "warning",
                      f"统计期限写的是{m.group(1)}年，而本报告是{report.year}年度的，疑似照搬往年报告",
                      "正文（统计期限）")


# ---- rules a supervisor adds -------------------------------------------------------------------

_COUNTY = re.compile(r"(?:^|市|州|盟)[\u4e00-\u9fff]{1,6}?(?:县|区|旗)(?!政府办|委员会$)")
_TOWNSHIP = re.compile(r"(?:镇|乡|街道)(?:人民政府|办事处|党委|$)")
_NOT_COUNTY = ("自治区", "开发区", "实验区", "新区", "高新区", "保税区", "示范区")


def agency_level(agency: str | None) -> str | None:
    """"township", "county" or None (city/province or unknown) from the agency's name."""
    if not agency:
        return None
    name = compact(agency)
    if _TOWNSHIP.search(name):
        return "township"
    if any(w in name for w in _NOT_COUNTY):
        return None
    if _COUNTY.search(name):
        return "county"
    return None


def regulations_not_applicable(report: Report) -> Iterable[Finding]:
    """规章 can be made only by provincial / 设区的市 governments and State Council departments."""
    level = agency_level(report.agency)
    if level is None:
        return
    values = report.proactive.get("regulations", {})
    filled = {k: v for k, v in values.items() if v}
    if filled:
        who = "乡镇（街道）" if level == "township" else "县级单位"
        shown = "、".join(f"{k}={_fmt(v)}" for k, v in filled.items())
        yield Finding("regulations_not_applicable", "warning",
                      f"{who}无权制定规章，但“规章”一栏填了非零数（{shown}），可能把规范性文件填进了规章栏",
                      "二、第二十条第（一）项 · 规章", "二", "regulations")


_BRACKETS = str.maketrans({"[": "〔", "]": "〕", "【": "〔", "】": "〕", "(": "〔", ")": "〕", "（": "〔",
                           "）": "〕", "〈": "〔", "〉": "〕", "［": "〔", "］": "〕"})
_DOC_NUMBER = re.compile(r"(国办[\u4e00-\u9fff]{0,6})〔(\d{4})〕(\d+)号")
_KNOWN_NOTICES = {("国办公开办函", "2021", "30"), ("国办公开办函", "2019", "60")}


def wrong_document_number(report: Report) -> Iterable[Finding]:
    text = compact(report.text).translate(_BRACKETS)
    seen: set[str] = set()
    for m in _DOC_NUMBER.finditer(text):
        prefix, year, num = m.groups()
        cited = m.group(0)
        if cited in seen:
            continue
        seen.add(cited)
        context = text[max(0, m.start() - 60): m.end() + 10]
        about_format = "年度报告格式" in context or "年报格式" in context
        if (prefix, year, num) in _KNOWN_NOTICES:
            if year == "2019" and report.year is not None and report.year >= 2021 and about_format:
                yield Finding("wrong_document_number", "warning",
                              f"引用的是2019年旧格式通知（{cited}），{report.year}年度报告应依据{TEMPLATE_NOTICE[TEMPLATE_2021]}",
                              "正文（格式依据）")
            continue
        if (year, num) in (("2021", "30"), ("2019", "60")) or (prefix == "国办公开办函" and about_format):
            right = TEMPLATE_NOTICE[TEMPLATE_2019 if year == "2019" else TEMPLATE_2021]
            yield Finding("wrong_document_number", "warning",
                          f"年度报告格式通知的文号写成了“{cited}”，正确的是“{right}”",
                          "正文（格式依据）")


_PLACEHOLDERS = [
    re.compile(r"[(（]\s*(?:具体网址|网址|链接地址|单位名称|机关名称|填写[^)）]{0,12}|请填写[^)）]{0,12}|文字描述[^)）]{0,30})\s*[)）]"),
    re.compile(r"[XＸ×xｘ]{2,}(?:局|委|办|市|县|区|镇|乡|街道|年|月|日|件|条|号|网)"),
    re.compile(r"【[^】]{0,10}(?:填写|名称|网址)[^】]{0,10}】"),
    re.compile(r"此处(?:填写|插入|补充)"),
]


def placeholder_text(report: Report) -> Iterable[Finding]:
    for pattern in _PLACEHOLDERS:
        m = pattern.search(report.text)
        if m:
            yield Finding("placeholder_text", "warning",
                          f"正文留有未填写的模板占位内容“{m.group(0)}”", "正文")


_MOJIBAKE = re.compile(r"[\ufffd\ue000-\uf8ff\u0080-\u009f]|锟斤拷|烫烫|屯屯|[ÃÂâåæçèéêëìíîïð][\u0080-\u00ff]")


def garbled_title(report: Report) -> Iterable[Finding]:
    title = report.title
    if not title:
        yield Finding("garbled_title", "warning", "找不到报告标题（应为“××单位××年度政府信息公开工作年度报告”）", "标题")
        return
    if _MOJIBAKE.search(title) or not re.search(r"[\u4e00-\u9fff]{4}", title):
        yield Finding("garbled_title", "warning", f"标题是乱码：“{_clip(title)}”", "标题")
        return
    if not years_in(title):
        yield Finding("garbled_title", "warning", f"标题没有写明报告年度：“{_clip(title)}”", "标题")
    if report.agency is None:
        yield Finding("garbled_title", "warning", f"标题和正文开头都没有写明发布单位：“{_clip(title)}”", "标题")


RULES: tuple[Rule, ...] = (
    balance,
    row_total,
    handled_total,
    review_total,
    text_table_mismatch,
    missing_section,
    missing_table,
    template_outdated,
    stale_text,
    regulations_not_applicable,
    wrong_document_number,
    placeholder_text,
    garbled_title,
)


def validate(report: Report) -> list[Finding]:
    findings: list[Finding] = []
    for rule in RULES:
        findings.extend(rule(report))
    return findings


__all__ = ["validate", "RULES", "agency_level", "stated_applications", "stated_review", "APPLICATION_ROWS"]
