"""A readable Chinese summary of one checked report (what `xxgk check` prints without --json)."""

from __future__ import annotations

from checks.model import Number, Report
from checks.normalize import show_number
from checks.template import TEMPLATE_2019, TEMPLATE_2021

_SEVERITY = {"error": "错误", "warning": "警告", "info": "提示"}
_TEMPLATE = {TEMPLATE_2021: "2021年版（国办公开办函〔2021〕30号）", TEMPLATE_2019: "2019年版（国办公开办函〔2019〕60号）"}


def _n(v: Number | None) -> str:
    return show_number(v, blank="未填")


def summarize(report: Report) -> str:
    lines = [
        f"单位：{report.agency or '未识别'}",
        f"年度：{report.year or '未识别'}　格式：{_TEMPLATE.get(report.template, '无法判断')}　"
        f"章节：{' '.join(report.sections) or '无'}",
    ]
    app = report.applications
    if app:
        total = lambda row: _n(app.get(row, {}).get("total"))  # noqa: E731
        lines.append(
            f"依申请公开：本年新收 {total('new')} 件，上年结转 {total('carried_over')} 件，"
            f"办理结果总计 {total('handled_total')} 件（予以公开 {total('disclosed')}），结转下年度 {total('carried_forward')} 件"
        )
    rl = report.review_litigation
    if rl:
        lit = [rl.get(k, {}).get("total") for k in ("litigation_direct", "litigation_after_review")]
        lit_total = None if None in lit else sum(v for v in lit if v is not None)
        lines.append(f"复议诉讼：行政复议 {_n(rl.get('review', {}).get('total'))} 件，行政诉讼 {_n(lit_total)} 件")
    pro = report.proactive
    if pro:
        parts = []
        for key, name in (("licensing", "行政许可"), ("punishment", "行政处罚"), ("enforcement", "行政强制")):
            if key in pro and "decisions" in pro[key]:
                parts.append(f"{name} {_n(pro[key]['decisions'])}")
        fees = pro.get("fees", {}).get("amount_wan_yuan")
        if "fees" in pro and "amount_wan_yuan" in pro["fees"]:
            parts.append(f"收费 {_n(fees)} 万元")
        if parts:
            lines.append("主动公开（处理决定数）：" + "，".join(parts))
    errors = sum(1 for f in report.findings if f.severity == "error")
    warnings = sum(1 for f in report.findings if f.severity == "warning")
    if report.findings:
        lines.append(f"发现问题 {len(report.findings)} 个（错误 {errors}，警告 {warnings}）：")
        for f in report.findings:
            lines.append(f"  [{_SEVERITY.get(f.severity, f.severity)}] {f.where}：{f.message}（{f.rule}）")
    else:
        lines.append("未发现问题。")
    return "\n".join(lines)
