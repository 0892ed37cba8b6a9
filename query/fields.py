"""The figures a supervisor asks about: every total of the three tables, by key and by Chinese name.

A figure is one cell of the canonical data (``applications.new.total``) or a sum of cells
(行政诉讼 = 直接起诉 + 复议后起诉). Every cell has a column in the ``report_figure`` table (one
row per report), which is what the query layer reads.

The names are what supervisors type: the template's wording, its short forms and common synonyms
(依申请公开、申请、复议、诉讼、许可、处罚、收费 …). The bot and ``xxgk query`` resolve a field with
:func:`find_figure`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from checks.normalize import compact
from checks.template import APPLICANT_PARTS, COLUMN_LABELS, PROACTIVE_COLUMN_LABELS, PROACTIVE_ROWS
from db.models import FIGURE_KEYS, figure_column

__all__ = ["FIGURES", "Figure", "UnknownFigure", "figure", "find_figure", "stored_figures"]


@dataclass(frozen=True, slots=True)
class Figure:
    key: str  # "applications.new.total", or a derived key such as "litigation.total"
    label: str  # the short Chinese name used in headers and answers
    names: tuple[str, ...] = ()  # other names a supervisor may use
    unit: str = "件"
    parts: tuple[str, ...] = ()  # a derived figure: the sum of these stored figures' keys

    @property
    def stored(self) -> bool:
        return not self.parts

    @property
    def column(self) -> str:
        """The report_figure column of a stored figure."""
        if self.parts:
            raise ValueError(f"{self.key} is derived from {', '.join(self.parts)}: it has no column")
        return figure_column(self.key)

    @property
    def path(self) -> tuple[str, str, str]:
        """(section, row, column) in the canonical data."""
        section, row, col = self.key.split(".")
        return section, row, col

    def value(self, data: dict) -> float | None:
        """This figure's value in a report's canonical data (None: blank, or no part filled)."""
        if self.parts:
            values = [v for v in (figure(p).value(data) for p in self.parts) if v is not None]
            return sum(values) if values else None
        section, row, col = self.path
        cell = ((data.get(section) or {}).get(row) or {}).get(col)
        return float(cell) if isinstance(cell, int | float) and not isinstance(cell, bool) else None


def _apps(row: str, label: str, *names: str) -> Figure:
    return Figure(f"applications.{row}.total", label, names)


_APPLICATIONS = (
    _apps("new", "本年新收申请", "申请", "申请数", "收到申请", "新收申请", "依申请公开", "依申请公开申请",
          "政府信息公开申请", "本年新收政府信息公开申请数量", "受理申请"),
    _apps("carried_over", "上年结转申请", "上年结转", "上年结转政府信息公开申请数量"),
    _apps("disclosed", "予以公开", "公开", "同意公开"),
    _apps("partially_disclosed", "部分公开", "区分处理"),
    _apps("withheld_state_secret", "不予公开（国家秘密）", "国家秘密"),
    _apps("withheld_prohibited_by_law", "不予公开（法律法规禁止）", "法律行政法规禁止公开"),
    _apps("withheld_security_stability", "不予公开（三安全一稳定）", "三安全一稳定"),
    _apps("withheld_third_party", "不予公开（第三方权益）", "第三方合法权益"),
    _apps("withheld_internal_affairs", "不予公开（内部事务）", "内部事务信息"),
    _apps("withheld_process_info", "不予公开（过程性信息）", "过程性信息"),
    _apps("withheld_enforcement_file", "不予公开（行政执法案卷）", "行政执法案卷"),
    _apps("withheld_query_item", "不予公开（行政查询事项）", "行政查询事项"),
    _apps("unavailable_not_held", "无法提供（本机关不掌握）", "本机关不掌握", "不掌握"),
    _apps("unavailable_needs_creation", "无法提供（需另行制作）", "另行制作"),
    _apps("unavailable_unclear", "无法提供（补正后仍不明确）", "补正后仍不明确"),
    _apps("rejected_petition", "不予处理（信访举报投诉）", "信访举报投诉"),
    _apps("rejected_duplicate", "不予处理（重复申请）", "重复申请"),
    _apps("rejected_publication", "不予处理（公开出版物）", "公开出版物"),
    _apps("rejected_excessive", "不予处理（大量反复申请）", "大量反复申请"),
    _apps("rejected_confirmation", "不予处理（要求确认或重新出具）", "确认或重新出具"),
    _apps("other_overdue_correction", "其他处理（逾期不补正）", "逾期不补正"),
    _apps("other_overdue_fee", "其他处理（逾期未缴费）", "逾期未缴费", "逾期未按收费通知要求缴纳费用"),
    _apps("other_misc", "其他处理（其他）"),
    _apps("other_processing", "其他处理（2019年模板）"),
    _apps("handled_total", "办理结果总计", "办结", "已办结", "办理总计", "答复总数"),
    _apps("carried_forward", "结转下年度", "结转下年", "结转下年度继续办理", "继续办理"),
)

# 本年新收, 上年结转 and 结转下年度 by applicant: who applies, and the carry-over check per column.
_BY_APPLICANT = tuple(
    Figure(f"applications.{row}.{col}", f"{row_label}（{COLUMN_LABELS[col] if col != 'other_org' else '其他组织'}）",
           tuple(f"{COLUMN_LABELS[col]}{n}" for n in names if col != "other_org")
           + ((f"其他组织{names[0]}",) if col == "other_org" else ()))
    for row, row_label, names in (
        ("new", "本年新收申请", ("申请", "申请数")),
        ("carried_over", "上年结转申请", ("上年结转",)),
        ("carried_forward", "结转下年度", ("结转下年度",)),
    )
    for col in APPLICANT_PARTS
)

_REVIEW_NAMES = {"review": ("行政复议", "复议"), "litigation_direct": ("直接起诉", "未经复议直接起诉"),
                 "litigation_after_review": ("复议后起诉", "复议后行政诉讼")}
_OUTCOME_NAMES = {"upheld": "维持", "corrected": "纠正", "other": "其他结果", "pending": "尚未审结"}


def _review() -> tuple[Figure, ...]:
    out = []
    for row, (label, *names) in _REVIEW_NAMES.items():
        label = label if row == "review" else f"行政诉讼（{label}）"
        out.append(Figure(f"review_litigation.{row}.total", label,
                          (*_REVIEW_NAMES[row], f"{_REVIEW_NAMES[row][0]}总计", f"{_REVIEW_NAMES[row][0]}案件")))
        for col, outcome in _OUTCOME_NAMES.items():
            out.append(Figure(f"review_litigation.{row}.{col}", f"{label}{outcome}",
                              tuple(f"{n}{outcome}" for n in _REVIEW_NAMES[row])))
    return tuple(out)


_PROACTIVE = (
    Figure("proactive.regulations.issued", "规章制发", ("制发规章", "本年制发规章")),
    Figure("proactive.regulations.repealed", "规章废止", ("废止规章",)),
    Figure("proactive.regulations.in_force", "现行有效规章", ("规章", "有效规章")),
    Figure("proactive.normative_documents.issued", "规范性文件制发",
           ("制发规范性文件", "行政规范性文件", "规范性文件")),
    Figure("proactive.normative_documents.repealed", "规范性文件废止", ("废止规范性文件",)),
    Figure("proactive.normative_documents.in_force", "现行有效规范性文件", ("有效规范性文件",)),
    Figure("proactive.licensing.decisions", "行政许可", ("许可", "行政许可决定", "许可决定", "行政许可处理决定")),
    Figure("proactive.punishment.decisions", "行政处罚", ("处罚", "行政处罚决定", "处罚决定", "行政处罚处理决定")),
    Figure("proactive.enforcement.decisions", "行政强制", ("强制", "行政强制决定", "强制措施")),
    Figure("proactive.fees.amount_wan_yuan", "行政事业性收费", ("收费", "收费金额", "费用", "行政事业性收费金额"),
           unit="万元"),
)

_DERIVED = (
    Figure("litigation.total", "行政诉讼", ("诉讼", "行政诉讼总计", "行政诉讼案件"),
           parts=("review_litigation.litigation_direct.total", "review_litigation.litigation_after_review.total")),
    Figure("withheld.total", "不予公开", ("不予公开总数",),
           parts=tuple(f.key for f in _APPLICATIONS if f.key.startswith("applications.withheld_"))),
)

_NAMED = _APPLICATIONS + _BY_APPLICANT + _review() + _PROACTIVE + _DERIVED


def _unnamed() -> tuple[Figure, ...]:
    """The other cells (a result row by applicant, the 2019 template's proactive columns), named
    after their row and column."""
    named = {f.key for f in _NAMED}
    row_labels = {f.path[1]: f.label for f in _APPLICATIONS}
    out = []
    for key in FIGURE_KEYS:
        if key in named:
            continue
        section, row, col = key.split(".")
        if section == "applications":
            label = f"{row_labels[row]}（{'其他组织' if col == 'other_org' else COLUMN_LABELS[col]}）"
        else:
            spec = next(p for t in PROACTIVE_ROWS.values() for p in t if p.key == row)
            column = "采购总金额（万元）" if (row, col) == ("procurement", "amount_wan_yuan") else PROACTIVE_COLUMN_LABELS[col]
            label = f"{spec.label}（{column}）"
        out.append(Figure(key, label, unit="万元" if col == "amount_wan_yuan" else "件"))
    return tuple(out)


FIGURES: tuple[Figure, ...] = _NAMED + _unnamed()


@cache
def _by_key() -> dict[str, Figure]:
    return {f.key: f for f in FIGURES}


def stored_figures() -> tuple[Figure, ...]:
    """The figures with a report_figure column, in column order."""
    return tuple(figure(k) for k in FIGURE_KEYS)


class UnknownFigure(KeyError):
    def __init__(self, name: str, suggestions: list[Figure]) -> None:
        super().__init__(name)
        self.name = name
        self.suggestions = suggestions

    def __str__(self) -> str:
        hint = "、".join(f.label for f in self.suggestions)
        return f"未知的指标：{self.name}" + (f"（是否指：{hint}）" if hint else "")


def figure(key: str) -> Figure:
    """The figure with this exact key."""
    try:
        return _by_key()[key]
    except KeyError:
        raise UnknownFigure(key, []) from None


@dataclass(slots=True)
class _NameIndex:
    exact: dict[str, Figure] = field(default_factory=dict)


@cache
def _names() -> _NameIndex:
    index = _NameIndex()
    # Earlier figures win a name: 申请 means 本年新收申请 (the total), not 本年新收申请（自然人）.
    for f in FIGURES:
        for name in (f.key, f.label, *f.names):
            index.exact.setdefault(compact(name), f)
            index.exact.setdefault(name.lower(), f)
    return index


def find_figure(name: str) -> Figure:
    """The figure a supervisor means by `name`: a key, a label or a synonym; failing that, the
    closest name (rapidfuzz). Raises UnknownFigure with up to three suggestions."""
    from rapidfuzz import fuzz, process

    text = name.strip()
    index = _names()
    for candidate in (text, text.lower(), compact(text)):
        if candidate in index.exact:
            return index.exact[candidate]
    key = compact(text)
    if key:
        for suffix in ("数量", "数", "件数", "总数", "情况", "案件数"):
            if key.endswith(suffix) and key[: -len(suffix)] in index.exact:
                return index.exact[key[: -len(suffix)]]
    names = list(index.exact)
    matches = process.extract(key or text, names, scorer=fuzz.WRatio, limit=8)
    seen: list[Figure] = []
    for match, score, _ in matches:
        f = index.exact[match]
        if score >= 90 and len(match) >= 2 and not seen:
            return f
        if f not in seen:
            seen.append(f)
    raise UnknownFigure(name, seen[:3])
