"""Document → Report: find the sections, read the three tables by their row labels.

Tables are read row by row. A row is split into its label cells and the value cells that
follow the last label; the row is recognised by its most specific label (the last one), never
by its position, and its values are fitted to the template's column count. Which table a row
belongs to follows the header rows (第二十条 / 勾稽关系 / 行政复议) and the section headings, so
tables split over pages, merged into one, or missing their headings still read correctly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from checks.document import Document, Paragraph, Table
from checks.identity import identify
from checks.labels import is_generic_label, joins_into_label, match_application_row, match_proactive_row
from checks.model import Finding, Number, Report, TableData
from checks.normalize import compact, looks_like_value, read_value
from checks.template import (
    APPLICANT_COLUMNS,
    APPLICATION_ROWS,
    COLUMN_LABELS,
    PROACTIVE_COLUMN_LABELS,
    PROACTIVE_ROWS,
    REVIEW_COLUMN_LABELS,
    REVIEW_COLUMNS,
    REVIEW_ROW_LABELS,
    REVIEW_ROWS,
    ROW_LABELS,
    SECTION_NUMERALS,
    SECTION_TITLES,
    TEMPLATE_2019,
    TEMPLATE_2019_MARKERS,
    TEMPLATE_2021,
    TEMPLATE_2021_MARKERS,
    TEMPLATE_UNKNOWN,
)

PROACTIVE = "proactive"
APPLICATIONS = "applications"
REVIEW = "review_litigation"

# Words whose presence in the document marks it as an annual report at all.
_REPORT_MARKERS = ("政府信息公开", "政务公开", "信息公开")
_TABLE_MARKERS = ("勾稽关系", "本年新收", "第二十条", "行政复议", "予以公开")


class NotAReport(Exception):
    """The document has none of the marks of a 政府信息公开工作年度报告."""


# ---- section headings ---------------------------------------------------------------------

_CN_ENUM = re.compile(r"^([一二三四五六])[、.,，:：]")
_AR_ENUM = re.compile(r"^([1-6])[、.,，:：](?!\d)")
_PART_ENUM = re.compile(r"^第([一二三四五六])部分[、.,，:：]?")
_PAREN_ENUM = re.compile(r"^[(（]")
_NUMERAL_OF_DIGIT = dict(zip("123456", SECTION_NUMERALS))
# The template's own section titles: only these are recognised at the start of a longer paragraph.
_RUN_IN_TITLES = {numeral: compact(title) for numeral, title in SECTION_TITLES.items()}


def _heading_topic(rest: str) -> str | None:
    """Which of the six sections a heading text (enumerator removed) names."""
    if "总体情况" in rest or rest in ("概述", "总体概述"):
        return "一"
    if "主动公开" in rest and "依申请" not in rest:
        return "二"
    if "收到和处理" in rest or ("申请" in rest and "处理" in rest and "情况" in rest):
        return "三"
    if "复议" in rest or "诉讼" in rest:
        return "四"
    if "问题" in rest and ("改进" in rest or "整改" in rest or "措施" in rest):
        return "五"
    if "其他需要报告" in rest or ("其他" in rest and "事项" in rest):
        return "六"
    return None


def heading_of(text: str, *, strict: bool) -> str | None:
    """The section numeral a paragraph heads, or None.

    strict: only headings enumerated with Chinese numerals (一、…). Otherwise also "1、总体情况"
    and bare titles ("总体情况"). Parenthesised enumerators（一）are sub-headings, never sections."""
    s = compact(text).lstrip("#*")
    if not s or _PAREN_ENUM.match(s):
        return None
    if len(s) > 40 or s.endswith(("。", "；", ";")):
        # A run-in heading: "<strong>五、存在的主要问题及改进情况</strong>一是……" in one paragraph.
        m = _CN_ENUM.match(s)
        if m and s.startswith(_RUN_IN_TITLES[m.group(1)], m.end()):
            return m.group(1)
        return None
    m = _CN_ENUM.match(s) or _PART_ENUM.match(s)
    if m:
        return _heading_topic(s[m.end():])
    if strict:
        return None
    m = _AR_ENUM.match(s)
    if m:
        topic = _heading_topic(s[m.end():])
        return topic if topic == _NUMERAL_OF_DIGIT[m.group(1)] else None
    if len(s) <= 20:
        return _heading_topic(s)
    return None


def find_headings(paragraphs: list[tuple[int, str]]) -> dict[str, int]:
    """Section numeral → block index of its heading. Strict headings first; a looser one fills a
    gap only where it sits between its neighbours."""
    found: dict[str, int] = {}
    last = -1
    for idx, text in paragraphs:
        sec = heading_of(text, strict=True)
        if sec and sec not in found and SECTION_NUMERALS.index(sec) > last:
            found[sec] = idx
            last = SECTION_NUMERALS.index(sec)
    for idx, text in paragraphs:
        sec = heading_of(text, strict=False)
        if not sec or sec in found:
            continue
        k = SECTION_NUMERALS.index(sec)
        before = [found[s] for s in SECTION_NUMERALS[:k] if s in found]
        after = [found[s] for s in SECTION_NUMERALS[k + 1:] if s in found]
        if (not before or idx > max(before)) and (not after or idx < min(after)):
            found[sec] = idx
    return found


# ---- rows -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Row:
    labels: list[str]  # non-empty label cells, in order
    values: list[str]  # raw cells after the last label cell

    @property
    def label(self) -> str:
        return self.labels[-1] if self.labels else ""


def split_row(cells: list[str], known: Callable[[str], bool] | None = None,
              joins: Callable[[str, str], bool] | None = None) -> Row:
    """Label cells and the value cells after the last label.

    With `known`, the split is made after the last label cell that names a known row, so a
    wordy cell in a value column ("见附件") stays a (unreadable) value. With `joins`, a label
    wrapped into two adjacent cells is put back together first."""
    label_idx = [i for i, cell in enumerate(cells) if not looks_like_value(cell)]
    last_label = label_idx[-1] if label_idx else -1
    if known is not None and len(label_idx) > 1 and not known(cells[last_label]):
        prev = label_idx[-2]
        if joins is not None and prev == last_label - 1 and joins(cells[prev], cells[last_label]):
            joined = cells[prev] + cells[last_label]
            # One label wrapped into two cells ("2.其他法律行政法规" | "禁止公开").
            labels = [cells[i] for i in label_idx[:-2] if cells[i].strip()]
            return Row(labels=[*labels, joined], values=cells[last_label + 1:])
        for i in reversed(label_idx[:-1]):
            if known(cells[i]):
                after = cells[i + 1:]
                wordy = sum(1 for c in after if not looks_like_value(c))
                if wordy <= 1 and any(read_value(c).value is not None for c in after):
                    last_label = i
                break
    labels = [cells[i] for i in label_idx if i <= last_label and cells[i].strip()]
    return Row(labels=labels, values=cells[last_label + 1:])


def _is_known_row(label: str) -> bool:
    return match_application_row(label) is not None or match_proactive_row(label) is not None


def fit(values: list[str], n: int) -> list[str] | None:
    """The row's n value cells: surplus blank cells (colspan padding, line-end tabs) are dropped
    from the front, then the back; None if the row still has too few or too many cells."""
    vals = list(values)
    while len(vals) > n and not vals[0].strip():
        vals.pop(0)
    while len(vals) > n and not vals[-1].strip():
        vals.pop()
    return vals if len(vals) == n else None


def _kind_marker(text: str) -> str | None:
    if "勾稽关系" in text or "申请人情况" in text or ("自然人" in text and "法人" in text):
        return APPLICATIONS
    if "第二十条" in text or text.startswith("信息内容"):
        return PROACTIVE
    if "结果维持" in text or "行政复议" in text or "行政诉讼" in text:
        return REVIEW
    return None


# ---- the parser -----------------------------------------------------------------------------


@dataclass
class _State:
    findings: list[Finding] = field(default_factory=list)
    applications: dict[str, list[str]] = field(default_factory=dict)  # key -> 7 raw cells
    proactive: dict[str, list[str]] = field(default_factory=dict)  # key -> raw cells (any count)
    review_cells: list[str] = field(default_factory=list)
    review_rows: dict[str, list[str]] = field(default_factory=dict)  # transposed layout
    header_text: list[str] = field(default_factory=list)  # compact texts of header rows
    bad_rows: dict[str, str] = field(default_factory=dict)  # key -> reason (incomplete)
    seen_kinds: set[str] = field(default_factory=set)


def parse(doc: Document) -> Report:
    paragraphs = [(i, b.text) for i, b in enumerate(doc.blocks) if isinstance(b, Paragraph)]
    texts = [t for _, t in paragraphs]
    all_text = compact("".join(texts))
    table_text = compact("".join(c.text for t in doc.tables() for r in t.rows for c in r))
    if not any(m in all_text or m in table_text for m in _REPORT_MARKERS) or not (
        any(m in table_text or m in all_text for m in _TABLE_MARKERS)
    ):
        raise NotAReport("不是政府信息公开工作年度报告（没有找到年度报告的标题、章节或统计表）")

    ident = identify(texts, doc.meta, doc.title)
    headings = find_headings(paragraphs)
    state = _State()

    section_at = _section_index(len(doc.blocks), headings)
    kind: str | None = None
    for i, block in enumerate(doc.blocks):
        if isinstance(block, Table):
            kind = _kind_for_section(section_at[i], kind)
            for cells in block.rows:
                kind = _read_row([c.text for c in cells], kind, state)
    # PDFs without ruled tables: table rows are lines of text ("一、本年新收… 2 0 0 0 0 0 2").
    if not state.applications or not state.proactive or not (state.review_cells or state.review_rows):
        _read_lines(doc, section_at, state)

    template = _detect_template(state)
    report = Report(source=doc.source, format=doc.format, title=ident.title, agency=ident.agency,
                    year=ident.year, template=template)
    report.findings.extend(state.findings)
    report.applications = _applications(state, template, report.findings)
    report.proactive = _proactive(state, template, report.findings)
    report.review_litigation = _review(state, report.findings)

    present = set(headings)
    if state.proactive:
        present.add("二")
    if state.applications:
        present.add("三")
    if state.review_cells or state.review_rows:
        present.add("四")
    report.sections = [s for s in SECTION_NUMERALS if s in present]
    report.section_text = _section_texts(doc, section_at)
    report.text = "\n".join(texts)
    report.headings = {s: doc.blocks[i].text for s, i in headings.items()}  # type: ignore[union-attr]
    return report


def _section_index(n: int, headings: dict[str, int]) -> list[str | None]:
    """For every block, the section it lies in (by the last heading before it)."""
    marks = sorted((idx, sec) for sec, idx in headings.items())
    out: list[str | None] = [None] * n
    current: str | None = None
    j = 0
    for i in range(n):
        while j < len(marks) and marks[j][0] <= i:
            current = marks[j][1]
            j += 1
        out[i] = current
    return out


def _kind_for_section(section: str | None, previous: str | None) -> str | None:
    return {"二": PROACTIVE, "三": APPLICATIONS, "四": REVIEW}.get(section or "", previous)


def _read_row(cells: list[str], kind: str | None, state: _State) -> str | None:
    """Read one table row into `state`; return the table kind in force after it."""
    row = split_row(cells, _is_known_row, joins_into_label)
    label_text = compact("".join(row.labels))
    has_values = any(v.strip() for v in row.values)
    marker = _kind_marker(label_text) if label_text else None
    if marker and not has_values:
        state.header_text.append(label_text)
        state.seen_kinds.add(marker)
        return marker
    if not row.labels and not has_values:
        return kind
    if row.labels and not has_values:
        state.header_text.append(label_text)  # headers such as 本年制发件数 / 信息内容
        return kind

    app_key = match_application_row(row.label) if row.labels else None
    if app_key and kind != APPLICATIONS and is_generic_label(row.label):
        app_key = None  # a 合计 / 其他 row of another table
    pro_key = match_proactive_row(row.label) if row.labels else None
    if kind == PROACTIVE and pro_key:
        _store(state.proactive, pro_key, row.values, state)
        return kind
    if app_key and kind != REVIEW:
        _store(state.applications, app_key, row.values, state, n=len(APPLICANT_COLUMNS))
        return APPLICATIONS
    if pro_key and kind in (None, PROACTIVE):
        _store(state.proactive, pro_key, row.values, state)
        return PROACTIVE
    if kind == REVIEW or marker == REVIEW:
        review_key = _review_row_key(label_text)
        if review_key and fit(row.values, len(REVIEW_COLUMNS)) is not None:
            state.review_rows.setdefault(review_key, fit(row.values, len(REVIEW_COLUMNS)) or [])
        elif not row.labels or not review_key:
            state.review_cells.extend(v for v in row.values)
        return REVIEW
    return kind


def _review_row_key(label_text: str) -> str | None:
    if "复议后" in label_text:
        return "litigation_after_review"
    if "直接起诉" in label_text or "未经复议" in label_text:
        return "litigation_direct"
    if label_text.startswith("行政复议") and "诉讼" not in label_text:
        return "review"
    return None


def _store(target: dict[str, list[str]], key: str, values: list[str], state: _State, n: int | None = None) -> None:
    if key in target:
        return  # a repeated row (e.g. a header repeated on the next page): keep the first
    if n is not None:
        fitted = fit(values, n)
        if fitted is None:
            state.bad_rows[key] = "、".join(v.strip() or "（空）" for v in values)
            target[key] = []
            return
        target[key] = fitted
    else:
        target[key] = values


def _read_lines(doc: Document, section_at: list[str | None], state: _State) -> None:
    """Fallback for flattened PDF text: each line in sections 二–四 split on whitespace."""
    kind: str | None = None
    need_app = not state.applications
    need_pro = not state.proactive
    need_rev = not (state.review_cells or state.review_rows)
    scratch = _State()
    for i, block in enumerate(doc.blocks):
        if not isinstance(block, Paragraph):
            continue
        if section_at[i] not in (None, "二", "三", "四"):
            continue
        kind = _kind_for_section(section_at[i], kind) if section_at[i] else kind
        kind = _read_row(block.text.split(), kind, scratch)
    if need_app:
        state.applications = scratch.applications
        state.bad_rows.update(scratch.bad_rows)
    if need_pro:
        state.proactive = scratch.proactive
    if need_rev:
        state.review_cells = scratch.review_cells
        state.review_rows = scratch.review_rows
    state.header_text.extend(scratch.header_text)


def _detect_template(state: _State) -> str:
    headers = "".join(state.header_text)
    v2021 = sum(1 for m in TEMPLATE_2021_MARKERS if m in headers)
    v2019 = sum(1 for m in TEMPLATE_2019_MARKERS if m in headers)
    if any(k in state.applications for k in ("other_overdue_correction", "other_overdue_fee", "other_misc")):
        v2021 += 2
    if "other_processing" in state.applications:
        v2019 += 2
    if "other_services" in state.proactive or "procurement" in state.proactive:
        v2019 += 1
    if v2021 > v2019:
        return TEMPLATE_2021
    if v2019 > v2021:
        return TEMPLATE_2019
    return TEMPLATE_UNKNOWN


# ---- assembling the canonical data, with cell findings ------------------------------------


def _cell(raw: str, where: str, section: str, row: str, column: str, findings: list[Finding],
          *, negative_ok: bool = False) -> Number | None:
    cv = read_value(raw)
    shown = raw.strip()
    if cv.problem == "unreadable":
        findings.append(Finding("unreadable_cell", "warning",
                                f"单元格内容“{shown}”不是数字，无法读取，按未填报处理", where, section, row, column))
        return None
    if cv.problem == "suspicious":
        findings.append(Finding("suspicious_value", "warning",
                                f"单元格填写为“{shown}”，按 {cv.value} 读取，疑似笔误，请核对", where, section, row, column))
    elif cv.problem == "negative" and not negative_ok:
        findings.append(Finding("suspicious_value", "warning",
                                f"单元格填写为负数“{shown}”，件数不应为负，请核对", where, section, row, column))
    value = cv.value
    if value is not None and cv.unit == "元" and column == "amount_wan_yuan":
        value = round(value / 10000, 6)
    return value


def _applications(state: _State, template: str, findings: list[Finding]) -> TableData:
    if not state.applications:
        return {}
    rows = APPLICATION_ROWS[template if template != TEMPLATE_UNKNOWN else TEMPLATE_2021]
    out: TableData = {}
    for spec in rows:
        where_row = f"三、申请情况表 · {spec.label}"
        raw = state.applications.get(spec.key)
        if raw is None:
            out[spec.key] = {c: None for c in APPLICANT_COLUMNS}
            findings.append(Finding("incomplete_row", "warning", f"申请情况表缺少“{spec.label}”这一行",
                                    where_row, "三", spec.key))
            continue
        if not raw:
            out[spec.key] = {c: None for c in APPLICANT_COLUMNS}
            findings.append(Finding(
                "incomplete_row", "warning",
                f"这一行读到的单元格（{state.bad_rows.get(spec.key, '')}）与模板的7列对不上，无法确定缺了哪一列，整行按未填报处理",
                where_row, "三", spec.key))
            continue
        out[spec.key] = {
            col: _cell(val, f"{where_row} · {COLUMN_LABELS[col]}列", "三", spec.key, col, findings)
            for col, val in zip(APPLICANT_COLUMNS, raw)
        }
    return out


def _proactive(state: _State, template: str, findings: list[Finding]) -> TableData:
    if not state.proactive:
        return {}
    specs = {s.key: s for s in PROACTIVE_ROWS[template if template != TEMPLATE_UNKNOWN else TEMPLATE_2021]}
    out: TableData = {}
    for key, spec in specs.items():
        where_row = f"二、第二十条第{spec.item}项 · {spec.label}"
        raw = state.proactive.get(key)
        if raw is None:
            out[key] = {c: None for c in spec.columns}
            continue
        fitted = fit(raw, len(spec.columns))
        if fitted is None:
            out[key] = {c: None for c in spec.columns}
            cells = "、".join(v.strip() or "（空）" for v in raw)
            findings.append(Finding(
                "incomplete_row", "warning",
                f"这一行读到的单元格（{cells}）与模板的{len(spec.columns)}列对不上，整行按未填报处理",
                where_row, "二", key))
            continue
        out[key] = {
            col: _cell(val, f"{where_row} · {PROACTIVE_COLUMN_LABELS[col]}", "二", key, col, findings,
                       negative_ok=(col == "items_change"))
            for col, val in zip(spec.columns, fitted)
        }
    if "other_documents" in state.proactive and template == TEMPLATE_2019:
        raw = fit(state.proactive["other_documents"], 3)
        if raw:
            out["other_documents"] = {
                col: _cell(v, f"二、第二十条第（一）项 · 其他主动公开文件 · {PROACTIVE_COLUMN_LABELS[col]}", "二",
                           "other_documents", col, findings)
                for col, v in zip(("made", "published", "total_published"), raw)
            }
    return out


def _review(state: _State, findings: list[Finding]) -> TableData:
    n = len(REVIEW_ROWS) * len(REVIEW_COLUMNS)
    cells: list[str] | None = None
    if state.review_rows and len(state.review_rows) == len(REVIEW_ROWS):
        cells = [v for key in REVIEW_ROWS for v in state.review_rows[key]]
    elif state.review_cells:
        cells = fit(state.review_cells, n)
        if cells is None:
            shown = "、".join(v.strip() or "（空）" for v in state.review_cells)
            findings.append(Finding(
                "incomplete_row", "warning",
                f"行政复议、行政诉讼表应有{n}个数，读到 {len([v for v in state.review_cells if v.strip()])} 个（{shown}），无法对应到各栏，按未填报处理",
                "四、行政复议、行政诉讼情况表", "四"))
    if cells is None:
        if not state.review_cells and not state.review_rows:
            return {}
        return {r: {c: None for c in REVIEW_COLUMNS} for r in REVIEW_ROWS}
    out: TableData = {}
    it = iter(cells)
    for r in REVIEW_ROWS:
        out[r] = {}
        for c in REVIEW_COLUMNS:
            out[r][c] = _cell(next(it), f"四、{REVIEW_ROW_LABELS[r]} · {REVIEW_COLUMN_LABELS[c]}", "四", r, c, findings)
    return out


def _section_texts(doc: Document, section_at: list[str | None]) -> dict[str, str]:
    parts: dict[str, list[str]] = {}
    for i, block in enumerate(doc.blocks):
        if isinstance(block, Paragraph):
            parts.setdefault(section_at[i] or "", []).append(block.text)
    return {k: "\n".join(v) for k, v in parts.items()}


__all__ = ["parse", "NotAReport", "heading_of", "find_headings", "split_row", "fit", "ROW_LABELS"]
