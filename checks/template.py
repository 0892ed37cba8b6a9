"""The two State Council templates as data: section names, row keys, column keys and labels.

Keys follow ../shared/spec/report-json.md and never change; labels follow
../shared/spec/template-labels.md.
"""

from __future__ import annotations

from dataclasses import dataclass

TEMPLATE_2019 = "2019"
TEMPLATE_2021 = "2021"
TEMPLATE_UNKNOWN = "unknown"

# The notices that fix each template, as they should be cited.
TEMPLATE_NOTICE = {
    TEMPLATE_2019: "国办公开办函〔2019〕60号",
    TEMPLATE_2021: "国办公开办函〔2021〕30号",
}

SECTION_NUMERALS = ("一", "二", "三", "四", "五", "六")

SECTION_TITLES = {
    "一": "总体情况",
    "二": "主动公开政府信息情况",
    "三": "收到和处理政府信息公开申请情况",
    "四": "政府信息公开行政复议、行政诉讼情况",
    "五": "存在的主要问题及改进情况",
    "六": "其他需要报告的事项",
}

# ---- Section 三: applications --------------------------------------------------------

APPLICANT_COLUMNS = ("natural", "commercial", "research", "nonprofit", "legal_service", "other_org", "total")
APPLICANT_PARTS = APPLICANT_COLUMNS[:-1]

COLUMN_LABELS = {
    "natural": "自然人",
    "commercial": "商业企业",
    "research": "科研机构",
    "nonprofit": "社会公益组织",
    "legal_service": "法律服务机构",
    "other_org": "其他",
    "total": "总计",
}


@dataclass(frozen=True, slots=True)
class RowSpec:
    key: str
    label: str  # the template's label, group prefix included, as a supervisor would name the row
    core: str  # the distinctive words used to recognise the row
    group: str | None = None  # （三）（四）（五）（六） for sub-rows


_COMMON_HEAD = (
    RowSpec("new", "一、本年新收政府信息公开申请数量", "本年新收政府信息公开申请数量"),
    RowSpec("carried_over", "二、上年结转政府信息公开申请数量", "上年结转政府信息公开申请数量"),
    RowSpec("disclosed", "（一）予以公开", "予以公开"),
    RowSpec("partially_disclosed", "（二）部分公开", "部分公开"),
    RowSpec("withheld_state_secret", "（三）1.属于国家秘密", "属于国家秘密", "三"),
    RowSpec("withheld_prohibited_by_law", "（三）2.其他法律行政法规禁止公开", "其他法律行政法规禁止公开", "三"),
    RowSpec("withheld_security_stability", "（三）3.危及“三安全一稳定”", "危及三安全一稳定", "三"),
    RowSpec("withheld_third_party", "（三）4.保护第三方合法权益", "保护第三方合法权益", "三"),
    RowSpec("withheld_internal_affairs", "（三）5.属于三类内部事务信息", "属于三类内部事务信息", "三"),
    RowSpec("withheld_process_info", "（三）6.属于四类过程性信息", "属于四类过程性信息", "三"),
    RowSpec("withheld_enforcement_file", "（三）7.属于行政执法案卷", "属于行政执法案卷", "三"),
    RowSpec("withheld_query_item", "（三）8.属于行政查询事项", "属于行政查询事项", "三"),
    RowSpec("unavailable_not_held", "（四）1.本机关不掌握相关政府信息", "本机关不掌握相关政府信息", "四"),
    RowSpec("unavailable_needs_creation", "（四）2.没有现成信息需要另行制作", "没有现成信息需要另行制作", "四"),
    RowSpec("unavailable_unclear", "（四）3.补正后申请内容仍不明确", "补正后申请内容仍不明确", "四"),
    RowSpec("rejected_petition", "（五）1.信访举报投诉类申请", "信访举报投诉类申请", "五"),
    RowSpec("rejected_duplicate", "（五）2.重复申请", "重复申请", "五"),
    RowSpec("rejected_publication", "（五）3.要求提供公开出版物", "要求提供公开出版物", "五"),
    RowSpec("rejected_excessive", "（五）4.无正当理由大量反复申请", "无正当理由大量反复申请", "五"),
    RowSpec(
        "rejected_confirmation",
        "（五）5.要求行政机关确认或重新出具已获取信息",
        "要求行政机关确认或重新出具已获取信息",
        "五",
    ),
)

_OTHER_2021 = (
    RowSpec(
        "other_overdue_correction",
        "（六）1.申请人无正当理由逾期不补正",
        "申请人无正当理由逾期不补正行政机关不再处理其政府信息公开申请",
        "六",
    ),
    RowSpec(
        "other_overdue_fee",
        "（六）2.申请人逾期未按收费通知要求缴纳费用",
        "申请人逾期未按收费通知要求缴纳费用行政机关不再处理其政府信息公开申请",
        "六",
    ),
    RowSpec("other_misc", "（六）3.其他", "其他", "六"),
)

_OTHER_2019 = (RowSpec("other_processing", "（六）其他处理", "其他处理"),)

_COMMON_TAIL = (
    RowSpec("handled_total", "（七）总计", "总计"),
    RowSpec("carried_forward", "四、结转下年度继续办理", "结转下年度继续办理"),
)

APPLICATION_ROWS = {
    TEMPLATE_2021: _COMMON_HEAD + _OTHER_2021 + _COMMON_TAIL,
    TEMPLATE_2019: _COMMON_HEAD + _OTHER_2019 + _COMMON_TAIL,
}

# Rows whose sum is （七）总计.
RESULT_ROWS = {
    t: tuple(r.key for r in rows if r.key not in ("new", "carried_over", "handled_total", "carried_forward"))
    for t, rows in APPLICATION_ROWS.items()
}

ROW_LABELS = {r.key: r.label for rows in APPLICATION_ROWS.values() for r in rows}

# ---- Section 四: review and litigation ------------------------------------------------

REVIEW_ROWS = ("review", "litigation_direct", "litigation_after_review")
REVIEW_COLUMNS = ("upheld", "corrected", "other", "pending", "total")
REVIEW_ROW_LABELS = {
    "review": "行政复议",
    "litigation_direct": "行政诉讼（未经复议直接起诉）",
    "litigation_after_review": "行政诉讼（复议后起诉）",
}
REVIEW_COLUMN_LABELS = {
    "upheld": "结果维持",
    "corrected": "结果纠正",
    "other": "其他结果",
    "pending": "尚未审结",
    "total": "总计",
}

# ---- Section 二: proactive disclosure ------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProactiveRowSpec:
    key: str
    label: str  # the row label
    item: str  # 第二十条第（N）项
    columns: tuple[str, ...]


PROACTIVE_ROWS = {
    TEMPLATE_2021: (
        ProactiveRowSpec("regulations", "规章", "（一）", ("issued", "repealed", "in_force")),
        ProactiveRowSpec("normative_documents", "行政规范性文件", "（一）", ("issued", "repealed", "in_force")),
        ProactiveRowSpec("licensing", "行政许可", "（五）", ("decisions",)),
        ProactiveRowSpec("punishment", "行政处罚", "（六）", ("decisions",)),
        ProactiveRowSpec("enforcement", "行政强制", "（六）", ("decisions",)),
        ProactiveRowSpec("fees", "行政事业性收费", "（八）", ("amount_wan_yuan",)),
    ),
    TEMPLATE_2019: (
        ProactiveRowSpec("regulations", "规章", "（一）", ("made", "published", "total_published")),
        ProactiveRowSpec("normative_documents", "规范性文件", "（一）", ("made", "published", "total_published")),
        ProactiveRowSpec("licensing", "行政许可", "（五）", ("items_last_year", "items_change", "decisions")),
        ProactiveRowSpec(
            "other_services", "其他对外管理服务事项", "（五）", ("items_last_year", "items_change", "decisions")
        ),
        ProactiveRowSpec("punishment", "行政处罚", "（六）", ("items_last_year", "items_change", "decisions")),
        ProactiveRowSpec("enforcement", "行政强制", "（六）", ("items_last_year", "items_change", "decisions")),
        ProactiveRowSpec("fees", "行政事业性收费", "（八）", ("items_last_year", "items_change")),
        ProactiveRowSpec("procurement", "政府集中采购", "（九）", ("items", "amount_wan_yuan")),
    ),
}

PROACTIVE_COLUMN_LABELS = {
    "issued": "本年制发件数",
    "repealed": "本年废止件数",
    "in_force": "现行有效件数",
    "decisions": "本年处理决定数量",
    "amount_wan_yuan": "本年收费金额（万元）",
    "made": "本年新制作数量",
    "published": "本年新公开数量",
    "total_published": "对外公开总数量",
    "items_last_year": "上一年项目数量",
    "items_change": "本年增/减",
    "items": "采购项目数量",
}

# Header words that identify the template from the tables (template-labels.md, "Template detection").
TEMPLATE_2021_MARKERS = ("本年制发件数", "本年废止件数", "现行有效件数", "本年收费金额")
TEMPLATE_2019_MARKERS = ("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "政府集中采购")
