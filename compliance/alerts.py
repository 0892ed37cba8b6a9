"""Alerts: one per opened finding, routed to the subscribers whose scope covers it, delivered
crash-safely through a channel (compliance.channels).

Routing (:func:`create_alerts`) runs in the caller's transaction, right after the lifecycle opened
findings: it adds one Alert per open finding that has none yet (Alert.finding_id is unique) and
one pending AlertDelivery per active subscriber whose scope covers it.

Delivery (:func:`deliver`) follows a three-step protocol per message, each step its own committed
transaction, and never holds a transaction open while a channel is called:

1. claim: pending → sending (attempts + 1), after cancelling deliveries whose finding is no
   longer open;
2. call the channel;
3. record: sending → sent (sent_at).

A delivery found in ``sending`` when deliver() starts was interrupted by a crash between steps 1
and 3: its message may or may not have gone out, so it is sent again, marked as a possible repeat
(「（可能重复）」). Nothing else is ever sent twice, and nothing is lost: a delivery leaves the
pending/sending states only as sent, failed (after max_attempts channel errors) or cancelled.

Only one deliver() should run at a time against a database (the scheduler runs it): a second
concurrent run would take the first one's in-flight deliveries for interrupted ones.

Quiet hours (Subscriber.quiet_from / quiet_until, Beijing time, the span may cross midnight; both
None: none): a subscriber in its quiet hours is sent nothing. An immediate subscriber's alerts stay
pending (nothing is lost) and go out, one message each as usual, with the first deliver() after
the quiet hours end. A digest run that falls in a digest subscriber's quiet hours holds that
subscriber's digest: its deliveries stay pending, noted as held (last_error = QUIET_HELD), and
the held digest goes out as one digest with the first deliver() of either kind after the quiet
hours end (the frequent immediate runs, so it is not a day late), or with the next digest run,
whichever comes first. A digest is never sent inside quiet hours, and never dropped.

Subscribers may also come from the configuration (`[[subscribers]]`, xxgk.config.SubscriberConfig):
:func:`sync_subscribers` writes them into the table by name.
"""

from __future__ import annotations

import html
import os
import re
import signal
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from compliance.channels import Channel, DeliveryError, OutgoingMessage, UnknownChannel, channel_for
from compliance.regions import code_prefix
from db.engine import in_chunks
from db.engine import session as db_session
from db.models import (
    Agency,
    AgencyAlias,
    Alert,
    AlertDelivery,
    Document,
    Region,
    Report,
    Subscriber,
    TrackedFinding,
)

if TYPE_CHECKING:
    from xxgk.config import SubscriberConfig

CST = timezone(timedelta(hours=8))
REPEAT_MARK = "（可能重复）"
SEVERITY_RANK: dict[str, int] = {"error": 3, "warning": 2, "info": 1}
SEVERITY_NAMES: dict[str, str] = {"error": "错误", "warning": "警告", "info": "提示"}
LEVEL_NAMES: dict[str, str] = {"department": "部门", "government": "人民政府", "township": "乡镇（街道）"}
WAITING_STATES: tuple[str, ...] = ("pending", "sending")
# The note on the deliveries of a digest held by its subscriber's quiet hours (AlertDelivery.last_error).
QUIET_HELD = "免打扰时段内未发送汇总，免打扰结束后发送"

# Chinese names of the rule codes (../shared/spec/report-json.md, the checker, the crawler and the
# compliance sweeps). An unknown code is shown as itself.
RULE_NAMES: dict[str, str] = {
    "balance": "勾稽关系不平",
    "row_total": "行合计不符",
    "handled_total": "办理结果总计不符",
    "review_total": "复议诉讼总计不符",
    "text_table_mismatch": "正文与表格数据不一致",
    "incomplete_row": "表格行不完整",
    "unreadable_cell": "单元格无法识读",
    "suspicious_value": "数值疑似录入错误",
    "missing_section": "缺少规定部分",
    "missing_table": "表格缺失或无法读取",
    "blank_total": "总计未填写",
    "template_outdated": "使用旧版模板",
    "stale_text": "沿用往年文字",
    "regulations_not_applicable": "不应填报规章",
    "wrong_document_number": "模板通知文号错误",
    "placeholder_text": "模板占位文字未替换",
    "garbled_title": "标题乱码或不完整",
    "changed_after_publication": "发布后内容被修改",
    "carryover_mismatch": "上下年数据不衔接",
    "late": "逾期发布",
    "missing_report": "未发布年度报告",
    "site_unreachable": "站点无法访问",
    "list_emptied": "站点列表页为空（抓取程序可能需要更新）",
    "duplicate_content": "内容雷同",
    "implausible_change": "数据异常变动",
    "conflicting_copies": "多处发布版本不一致",
}

# What to do about it, in one sentence.
RULE_ADVICE: dict[str, str] = {
    "balance": "核对申请情况表各列，使“本年新收＋上年结转＝办理结果总计＋结转下年度继续办理”成立，更正后重新发布。",
    "row_total": "核对该行各类申请人的数字与总计列，更正后重新发布。",
    "handled_total": "核对办理结果（一）至（六）各项之和与（七）总计，更正后重新发布。",
    "review_total": "核对行政复议、行政诉讼各项（维持、纠正、其他、尚未审结）与总计。",
    "text_table_mismatch": "核对正文所述数字与表格数据，统一口径后更正。",
    "incomplete_row": "对照年度报告格式补齐该行各栏，没有数据的填 0。",
    "unreadable_cell": "该单元格应填写数字，没有数据的填 0。",
    "suspicious_value": "核实该数字是否录入有误并更正。",
    "missing_section": "按年度报告格式补齐全部六个部分。",
    "missing_table": "以文字表格发布该部分（不要使用图片），确保数据可读。",
    "blank_total": "补填总计，并核对与各项之和一致。",
    "template_outdated": "2021 年度起应使用国办公开办函〔2021〕30号印发的新格式。",
    "stale_text": "按本年度实际情况重写相关段落，不要沿用往年报告的文字。",
    "regulations_not_applicable": "县级及以下机关没有规章制定权，核实规章一栏的填报。",
    "wrong_document_number": "更正所引用的模板通知文号（国办公开办函〔2021〕30号）。",
    "placeholder_text": "删除或填写模板中的占位文字。",
    "garbled_title": "更正报告标题，写明单位名称和年度。",
    "changed_after_publication": "核实报告发布后被修改的原因；确需更正的，应公开说明更正情况。",
    "carryover_mismatch": "核对本年“上年结转”与上年度报告“结转下年度继续办理”，不一致的应更正或说明原因。",
    "late": "督促该单位说明逾期原因，今后在法定期限内发布。",
    "missing_report": "督促该单位尽快发布本年度报告；如已发布，请核实发布网址并登记。",
    "site_unreachable": "检查该单位网站能否正常访问；恢复后系统会重新核查。",
    "list_emptied": "请运维人员打开该站点的栏目页核对：网站改版后需更新站点配置（list_urls、hints）或抓取程序；恢复后系统会重新核查。",
    "duplicate_content": "核实是否照抄其他年度或其他单位的报告，按本单位本年度实际情况重写。",
    "implausible_change": "核实数据是否填写有误；确属实际情况的可标记为已确认。",
    "conflicting_copies": "核实各处发布的版本，撤下或更正错误的版本。",
}
DEFAULT_ADVICE = "请核实后处理。"

CRASH_ENV = "XXGK_ALERTS_CRASH_AT"
CRASH_POINTS: tuple[str, ...] = ("claimed", "delivered", "recorded")

_MACHINE_WHERE = re.compile(r"^[a-z_]+:\d+$")


def rule_name(rule: str) -> str:
    return RULE_NAMES.get(rule, rule)


def severity_rank(severity: str | None) -> int:
    return SEVERITY_RANK.get(severity or "", 0)



# ---- quiet hours ----------------------------------------------------------------------------


def in_quiet_hours(now: datetime, quiet_from: time | None, quiet_until: time | None) -> bool:
    """Whether `now` (an aware datetime; naive means UTC) falls in the quiet hours from `quiet_from`
    (included) to `quiet_until` (excluded), Beijing time. The span may cross midnight (22:00–07:00).
    No quiet hours when either is None or both are the same."""
    if quiet_from is None or quiet_until is None or quiet_from == quiet_until:
        return False
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    t = now.astimezone(CST).time().replace(tzinfo=None)
    start, end = quiet_from.replace(tzinfo=None), quiet_until.replace(tzinfo=None)
    if start < end:
        return start <= t < end
    return t >= start or t < end


def is_quiet(subscriber: Subscriber, now: datetime) -> bool:
    return in_quiet_hours(now, subscriber.quiet_from, subscriber.quiet_until)


# ---- subscribers from the configuration ------------------------------------------------------


@dataclass
class SyncReport:
    """What sync_subscribers did, by subscriber name; `problems`: entries left out, in Chinese."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    cancelled: int = 0  # waiting deliveries of subscribers the configuration made inactive


def _config_agency(session: Session, name: str) -> tuple[int | None, str | None]:
    """(agency id, None) for the agency a configuration names (registered name, then alias), or
    (None, problem)."""
    from compliance.registry import agency_key

    found = session.exec(select(Agency.id).where(Agency.name == name.strip())).all()
    if len(found) == 1:
        return found[0], None
    by_alias = select(AgencyAlias.agency_id).where(AgencyAlias.key == agency_key(name))
    ids = sorted(set(session.exec(by_alias).all()))
    if len(ids) == 1:
        return ids[0], None
    if ids:
        return None, f"单位名称「{name}」对应多个单位，请写全称"
    return None, f"未知单位：{name}（请用 xxgk agencies list 查看已登记的单位）"


def sync_subscribers(session: Session, configs: Sequence[SubscriberConfig], now: datetime) -> SyncReport:
    """Write the configuration's subscribers into the subscriber table, by name: a new name is
    added, an existing row of that name takes the configuration's channel, target, scope, mode,
    quiet hours and active flag. An entry whose channel, target, region or agency is not usable is
    left out and named in `problems` (its row, if any, is left as it was). Rows of names the
    configuration does not hold are left alone. Runs in the caller's transaction."""
    from compliance.channels import UnknownChannel, check_target

    report = SyncReport()
    for config in configs:
        try:
            problem = check_target(config.channel, config.target.strip() or None)
        except UnknownChannel as exc:
            problem = str(exc)
        agency_id = None
        if problem is None and config.agency:
            agency_id, problem = _config_agency(session, config.agency)
        if problem is not None:
            report.problems.append(f"订阅者「{config.name}」：{problem}")
            continue
        quiet_from, quiet_until = config.quiet_span
        values: dict[str, Any] = {
            "channel": config.channel, "target": config.target.strip(), "region_code": config.region,
            "level": config.level, "agency_id": agency_id, "min_severity": config.min_severity,
            "mode": config.mode, "active": config.active, "quiet_from": quiet_from,
            "quiet_until": quiet_until,
        }
        sub = session.exec(select(Subscriber).where(Subscriber.name == config.name)).first()
        if sub is None:
            session.add(Subscriber(name=config.name, created_at=now, **values))
            report.added.append(config.name)
            continue
        if all(getattr(sub, k) == v for k, v in values.items()):
            report.unchanged.append(config.name)
            continue
        was_active = sub.active
        for k, v in values.items():
            setattr(sub, k, v)
        session.add(sub)
        report.updated.append(config.name)
        if was_active and not sub.active:
            session.flush()
            report.cancelled += _cancel_where(session, AlertDelivery.subscriber_id == sub.id)
    session.flush()
    return report


# ---- routing --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Scope:
    """A subscriber's scope, ready to test many findings against: what `covers` checks."""

    min_rank: int
    agency_id: int | None
    level: str | None
    prefix: str | None  # of the region subtree (compliance.regions.code_prefix); None: everywhere

    @classmethod
    def of(cls, subscriber: Subscriber) -> _Scope:
        region = subscriber.region_code
        return cls(severity_rank(subscriber.min_severity), subscriber.agency_id, subscriber.level,
                   None if region is None else code_prefix(region))

    def covers(self, severity: str | None, agency_id: int, agency: Any) -> bool:
        if severity_rank(severity) < self.min_rank:
            return False
        if self.agency_id is not None and self.agency_id != agency_id:
            return False
        if self.level is not None and (agency is None or agency.level != self.level):
            return False
        if self.prefix is not None:
            code = agency.region_code if agency is not None else None
            if code is None or not code.startswith(self.prefix):  # compliance.regions.in_region
                return False
        return True


def covers(subscriber: Subscriber, finding: TrackedFinding, agency: Agency | None) -> bool:
    """Whether `subscriber`'s scope (region subtree, level, agency, minimum severity) covers `finding`."""
    return _Scope.of(subscriber).covers(finding.severity, finding.agency_id, agency)


def create_alerts(session: Session, findings: Sequence[TrackedFinding], now: datetime) -> list[Alert]:
    """One Alert per open finding that has none yet, and one pending AlertDelivery per active
    subscriber whose scope covers it. Runs in the caller's transaction (flushes, never commits).
    Idempotent: a finding already alerted gets nothing new. Returns the alerts created."""
    if any(f.id is None for f in findings):
        session.flush()
    candidates: dict[int, TrackedFinding] = {}
    for f in findings:
        if f.state == "open" and f.id is not None:
            candidates.setdefault(f.id, f)
    if not candidates:
        return []

    ids = list(candidates)
    alerted: set[int] = set()
    for chunk in in_chunks(ids):
        alerted.update(session.exec(select(Alert.finding_id).where(Alert.finding_id.in_(chunk))).all())
    new = [candidates[i] for i in ids if i not in alerted]
    if not new:
        return []

    agency_ids = sorted({f.agency_id for f in new})
    agencies: dict[int, Agency] = {}
    for chunk in in_chunks(agency_ids):
        agencies.update((a.id, a) for a in session.exec(select(Agency).where(Agency.id.in_(chunk))).all())
    subscribers = session.exec(
        select(Subscriber).where(Subscriber.active == sa.true()).order_by(Subscriber.id)
    ).all()

    alerts = [Alert(finding_id=f.id, created_at=now) for f in new]
    session.add_all(alerts)
    session.flush()
    deliveries = [
        AlertDelivery(alert_id=alert.id, subscriber_id=sub.id, created_at=now)
        for alert, f in zip(alerts, new)
        for sub in subscribers
        if covers(sub, f, agencies.get(f.agency_id))
    ]
    if deliveries:
        session.add_all(deliveries)
        session.flush()
    return alerts


def alert_findings(session: Session, finding_ids: Sequence[int], now: datetime) -> int:
    """create_alerts for findings given by id, with plain Core statements and no ORM objects: what
    the sweep uses for the tens of thousands of findings a national sweep opens. The same rows in
    the same order (alerts in the order of `finding_ids`, each alert's deliveries in subscriber
    order) by the same rule (`covers`). Returns the number of alerts created."""
    tf: sa.Table = TrackedFinding.__table__  # type: ignore[attr-defined]
    alerts: sa.Table = Alert.__table__  # type: ignore[attr-defined]
    agency_table: sa.Table = Agency.__table__  # type: ignore[attr-defined]
    conn = session.connection()  # flushes what the session holds
    ids = list(dict.fromkeys(finding_ids))
    found: dict[int, Any] = {}
    for chunk in in_chunks(ids):
        found.update((row.id, row) for row in conn.execute(
            sa.select(tf.c.id, tf.c.agency_id, tf.c.severity, tf.c.state).where(tf.c.id.in_(chunk))))
    candidates = [i for i in ids if i in found and found[i].state == "open"]
    alerted: set[int] = set()
    for chunk in in_chunks(candidates):
        alerted.update(conn.execute(
            sa.select(alerts.c.finding_id).where(alerts.c.finding_id.in_(chunk))).scalars())
    new = [found[i] for i in candidates if i not in alerted]
    if not new:
        return 0
    agencies: dict[int, Any] = {}
    for chunk in in_chunks(sorted({f.agency_id for f in new})):
        agencies.update((row.id, row) for row in conn.execute(
            sa.select(agency_table.c.id, agency_table.c.level, agency_table.c.region_code)
            .where(agency_table.c.id.in_(chunk))))
    subscribers = session.exec(
        select(Subscriber).where(Subscriber.active == sa.true()).order_by(Subscriber.id)
    ).all()
    # Many rows per INSERT … RETURNING: ids come back with their finding, in no set order.
    by_finding = dict((finding_id, i) for i, finding_id in conn.execute(
        sa.insert(alerts).returning(alerts.c.id, alerts.c.finding_id),
        [{"finding_id": f.id, "created_at": now} for f in new]))
    scopes = [(sub.id, _Scope.of(sub)) for sub in subscribers]
    deliveries = [
        {"alert_id": by_finding[f.id], "subscriber_id": sub_id, "state": "pending", "attempts": 0,
         "possible_repeat": False, "last_error": None, "created_at": now, "sent_at": None}
        for f in new
        for sub_id, scope in scopes
        if scope.covers(f.severity, f.agency_id, agencies.get(f.agency_id))
    ]
    if deliveries:
        conn.execute(sa.insert(AlertDelivery.__table__), deliveries)  # type: ignore[attr-defined]
    return len(new)


def cancel_stale(session: Session, finding_ids: Iterable[int] | None = None) -> int:
    """Cancel the waiting (pending/sending) deliveries whose finding is no longer open
    (resolved, acknowledged, false positive); only those of `finding_ids` if given.
    The lifecycle may call it when a supervisor acknowledges a finding; deliver() always does."""
    if finding_ids is None:
        return _cancel_where(session, AlertDelivery.alert_id.in_(_closed_alerts()))
    total = 0
    for chunk in in_chunks(list(finding_ids)):
        closed = _closed_alerts().where(TrackedFinding.id.in_(chunk))
        total += _cancel_where(session, AlertDelivery.alert_id.in_(closed))
    return total


def _cancel_where(session: Session, condition: Any) -> int:
    result = session.exec(
        sa.update(AlertDelivery)
        .where(AlertDelivery.state.in_(WAITING_STATES), condition)
        .values(state="cancelled")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _closed_alerts() -> Any:
    """The ids of the alerts whose finding is no longer open."""
    return (select(Alert.id).join(TrackedFinding, TrackedFinding.id == Alert.finding_id)
            .where(TrackedFinding.state != "open"))


# ---- rendering ------------------------------------------------------------------------------


@dataclass
class AlertContext:
    """Everything one delivery's message shows."""

    delivery_id: int
    alert_id: int
    finding: TrackedFinding
    agency: Agency | None
    region_name: str | None
    report_url: str | None
    report_title: str | None
    possible_repeat: bool = False

    @property
    def agency_name(self) -> str:
        return self.agency.name if self.agency else f"单位 #{self.finding.agency_id}"

    @property
    def region_code(self) -> str | None:
        return self.agency.region_code if self.agency else None

    @property
    def region_label(self) -> str:
        code = self.region_code
        name = self.region_name or (self.agency.region_name if self.agency else None)
        if name and code:
            return f"{name}（{code}）"
        return name or code or "未标注地区"


def alert_item(ctx: AlertContext) -> dict[str, Any]:
    """The JSON-able fields of one alert (webhook bodies, the bot)."""
    f = ctx.finding
    return {
        "delivery_id": ctx.delivery_id,
        "alert_id": ctx.alert_id,
        "finding_id": f.id,
        "rule": f.rule,
        "rule_name": rule_name(f.rule),
        "severity": f.severity,
        "severity_name": SEVERITY_NAMES.get(f.severity, f.severity),
        "agency": ctx.agency_name,
        "agency_id": f.agency_id,
        "level": ctx.agency.level if ctx.agency else None,
        "region_code": ctx.region_code,
        "region": ctx.region_name or (ctx.agency.region_name if ctx.agency else None),
        "year": f.year,
        "message": f.message,
        "where": f.where or None,
        "url": ctx.report_url,
        "report_title": ctx.report_title,
        "advice": RULE_ADVICE.get(f.rule, DEFAULT_ADVICE),
        "opened_at": f.opened_at.isoformat() if f.opened_at else None,
        "possible_repeat": ctx.possible_repeat,
    }


def _report_lines(ctx: AlertContext) -> tuple[str, str]:
    """(plain, html) of the line naming the report and its link."""
    if ctx.report_url:
        label = ctx.report_title or ctx.report_url
        plain = f"{ctx.report_title}  {ctx.report_url}" if ctx.report_title else ctx.report_url
        return plain, f'<a href="{html.escape(ctx.report_url, quote=True)}">{html.escape(label)}</a>'
    if ctx.finding.rule in ("missing_report", "site_unreachable"):
        return "未找到", "未找到"
    return "无链接", "无链接"


def where_text(where: str | None) -> str | None:
    """A finding's `where` as shown to people; machine keys ("report:12") are not shown."""
    if not where or _MACHINE_WHERE.match(where):
        return None
    return where


def alert_title(ctx: AlertContext) -> str:
    f = ctx.finding
    return f"{rule_name(f.rule)}：{ctx.agency_name} {f.year} 年度"


def render_alert(ctx: AlertContext, subscriber: Subscriber) -> OutgoingMessage:
    """One clear message: what, which agency/region/year, which report, why, what to do."""
    f = ctx.finding
    mark = REPEAT_MARK if ctx.possible_repeat else ""
    severity = SEVERITY_NAMES.get(f.severity, f.severity)
    level = LEVEL_NAMES.get(ctx.agency.level or "", "") if ctx.agency else ""
    region = ctx.region_label + (f" · {level}" if level else "")
    report_plain, report_html = _report_lines(ctx)
    advice = RULE_ADVICE.get(f.rule, DEFAULT_ADVICE)
    fields: list[tuple[str, str, str]] = [  # (label, plain, html)
        ("单位", ctx.agency_name, html.escape(ctx.agency_name)),
        ("地区", region, html.escape(region)),
        ("年度", f"{f.year} 年度报告", f"{f.year} 年度报告"),
        ("报告", report_plain, report_html),
        ("问题", f.message, html.escape(f.message)),
    ]
    where = where_text(f.where)
    if where:
        fields.append(("位置", where, html.escape(where)))
    fields.append(("建议", advice, html.escape(advice)))
    head = f"{mark}【政务公开告警·{severity}】{rule_name(f.rule)}"
    foot = f"告警编号 {ctx.alert_id} · 问题编号 {f.id}"
    text = "\n".join([head, *(f"{label}：{plain}" for label, plain, _ in fields), foot])
    html_text = "\n".join([
        f"{html.escape(mark)}<b>【政务公开告警·{severity}】{html.escape(rule_name(f.rule))}</b>",
        *(f"<b>{label}</b>：{h}" for label, _, h in fields),
        f"<i>{html.escape(foot)}</i>",
    ])
    return OutgoingMessage(subscriber=subscriber, title=mark + alert_title(ctx), text=text, html=html_text,
                           items=[alert_item(ctx)], possible_repeat=ctx.possible_repeat, digest=False)


def _digest_sort_key(ctx: AlertContext) -> tuple:
    f = ctx.finding
    return (ctx.region_code is None, ctx.region_code or "", ctx.agency_name, -f.year,
            -severity_rank(f.severity), f.rule, f.where or "", f.id or 0)


def render_digest(contexts: Sequence[AlertContext], subscriber: Subscriber, now: datetime) -> OutgoingMessage:
    """One message for all of a subscriber's alerts: grouped by region, then by agency."""
    ordered = sorted(contexts, key=_digest_sort_key)
    repeat = any(c.possible_repeat for c in ordered)
    mark = REPEAT_MARK if repeat else ""
    day = now.astimezone(CST)
    day_text = f"{day.year}年{day.month}月{day.day}日"
    regions: dict[str, list[AlertContext]] = defaultdict(list)
    for ctx in ordered:
        regions[ctx.region_label].append(ctx)
    n_agencies = len({c.finding.agency_id for c in ordered})
    head = (f"{mark}【政务公开告警汇总】{day_text}，共 {len(ordered)} 条，"
            f"涉及 {len(regions)} 个地区、{n_agencies} 个单位")
    plain: list[str] = [head, f"订阅：{subscriber.name}"]
    rich: list[str] = [f"{html.escape(mark)}<b>{html.escape(head[len(mark):])}</b>",
                       f"订阅：{html.escape(subscriber.name)}"]
    number = 0
    for region, items in regions.items():
        plain += ["", f"■ {region}（{len(items)} 条）"]
        rich += ["", f"<b>■ {html.escape(region)}（{len(items)} 条）</b>"]
        by_agency: dict[str, list[AlertContext]] = defaultdict(list)
        for ctx in items:
            by_agency[ctx.agency_name].append(ctx)
        for agency, agency_items in by_agency.items():
            plain.append(f"  ▶ {agency}")
            rich.append(f"  <b>▶ {html.escape(agency)}</b>")
            for ctx in agency_items:
                number += 1
                f = ctx.finding
                item_mark = REPEAT_MARK if ctx.possible_repeat else ""
                severity = SEVERITY_NAMES.get(f.severity, f.severity)
                line = f"{item_mark}{rule_name(f.rule)}（{severity}）· {f.year} 年度"
                report_plain, report_html = _report_lines(ctx)
                advice = RULE_ADVICE.get(f.rule, DEFAULT_ADVICE)
                plain.append(f"    {number}. {line}")
                rich.append(f"    {number}. <b>{html.escape(line)}</b>")
                details = [("问题", f.message, html.escape(f.message))]
                where = where_text(f.where)
                if where:
                    details.append(("位置", where, html.escape(where)))
                details += [("报告", report_plain, report_html), ("建议", advice, html.escape(advice))]
                plain += [f"       {label}：{p}" for label, p, _ in details]
                rich += [f"       {label}：{h}" for label, _, h in details]
    title = f"{mark}政务公开告警汇总：{len(ordered)} 条（{day_text}）"
    return OutgoingMessage(subscriber=subscriber, title=title, text="\n".join(plain), html="\n".join(rich),
                           items=[alert_item(c) for c in ordered], possible_repeat=repeat, digest=True)


def load_contexts(session: Session, delivery_ids: Sequence[int]) -> list[AlertContext]:
    """The alert contexts of these deliveries (in id order): finding, agency, region name, report."""
    rows: list[Any] = []
    for chunk in in_chunks(list(delivery_ids)):
        rows += session.exec(
            select(AlertDelivery.id, AlertDelivery.alert_id, AlertDelivery.possible_repeat, TrackedFinding,
                   Agency, Document.url, Report.title, Document.title)
            .join(Alert, Alert.id == AlertDelivery.alert_id)
            .join(TrackedFinding, TrackedFinding.id == Alert.finding_id)
            .outerjoin(Agency, Agency.id == TrackedFinding.agency_id)
            .outerjoin(Report, Report.id == TrackedFinding.report_id)
            .outerjoin(Document, Document.id == Report.document_id)
            .where(AlertDelivery.id.in_(chunk))
        ).all()
    codes = sorted({row[4].region_code for row in rows if row[4] is not None and row[4].region_code})
    names: dict[str, str] = {}
    for chunk in in_chunks(codes):
        names.update(session.exec(select(Region.code, Region.name).where(Region.code.in_(chunk))).all())
    contexts = []
    rows.sort(key=lambda row: row[0])
    for did, alert_id, repeat, finding, agency, url, report_title, doc_title in rows:
        evidence = finding.evidence if isinstance(finding.evidence, dict) else {}
        if url is None:
            url = evidence.get("url") or evidence.get("document_url")
        contexts.append(AlertContext(
            delivery_id=did, alert_id=alert_id, finding=finding, agency=agency,
            region_name=names.get(agency.region_code) if agency and agency.region_code else None,
            report_url=url, report_title=report_title or doc_title, possible_repeat=bool(repeat),
        ))
    return contexts


# ---- delivery -------------------------------------------------------------------------------


@dataclass
class DeliveryOutcome:
    """One message (a single alert or a digest) and what became of it."""

    subscriber: str
    channel: str
    delivery_ids: list[int]
    title: str
    possible_repeat: bool = False
    error: str | None = None
    failed: bool = False  # gave up after max_attempts (state failed); otherwise retried next run


@dataclass
class DeliveryReport:
    sent: list[DeliveryOutcome] = field(default_factory=list)
    errors: list[DeliveryOutcome] = field(default_factory=list)  # the channel failed: retry later or failed
    cancelled: int = 0  # deliveries whose finding is no longer open
    deferred: int = 0  # not tried this run because their subscriber's channel failed or is unknown
    skipped_subscribers: list[str] = field(default_factory=list)  # unknown channel
    quiet: int = 0  # deliveries waiting for the end of their subscriber's quiet hours
    quiet_subscribers: list[str] = field(default_factory=list)  # in their quiet hours now
    synced: SyncReport | None = None  # the configuration's subscribers, when deliver() synced them

    @property
    def failed(self) -> list[DeliveryOutcome]:
        return [o for o in self.errors if o.failed]

    @property
    def sent_count(self) -> int:
        return sum(len(o.delivery_ids) for o in self.sent)

    @property
    def repeats(self) -> list[DeliveryOutcome]:
        return [o for o in self.sent if o.possible_repeat]


class _CrashPoints:
    """Test hook: XXGK_ALERTS_CRASH_AT="point[:n]" makes the process SIGKILL itself the n-th time
    (default: the first) it reaches `point` (one of CRASH_POINTS) — a crash with no cleanup."""

    def __init__(self, spec: str | None) -> None:
        self.point: str | None = None
        self.n = 1
        self.seen = 0
        if spec:
            point, _, n = spec.partition(":")
            if point not in CRASH_POINTS:
                raise ValueError(f"{CRASH_ENV}: unknown point {point!r}")
            self.point, self.n = point, int(n or 1)

    def reached(self, point: str) -> None:
        if point != self.point:
            return
        self.seen += 1
        if self.seen == self.n:
            os.kill(os.getpid(), signal.SIGKILL)


async def deliver(engine: Engine, *, now: datetime, channels: Mapping[str, Channel] | None = None,
                  digest: bool = False, max_attempts: int = 5,
                  subscribers: Sequence[SubscriberConfig] | None = None) -> DeliveryReport:
    """Send what is waiting: the immediate subscribers' deliveries one message each, or with
    `digest` the digest subscribers' deliveries one message per subscriber. Deliveries left in
    `sending` by a crash are sent first, marked as possible repeats. Subscribers in their quiet
    hours get nothing now; a digest they held goes out with the first run after them (see the
    module docstring).

    `subscribers`: the configuration's subscribers, synced into the table first
    (sync_subscribers); by default those of the settings given to
    compliance.channels.use_settings (as `xxgk alerts send` does), if any."""
    crash = _CrashPoints(os.environ.get(CRASH_ENV))
    report = DeliveryReport()
    mode = "digest" if digest else "immediate"
    owned: dict[str, Channel] = {}

    if subscribers is None:
        from compliance.channels import current_settings

        settings = current_settings()
        subscribers = getattr(settings, "subscribers", None) if settings is not None else None
    if subscribers:
        with db_session(engine) as s:
            report.synced = sync_subscribers(s, subscribers, now)
    with db_session(engine) as s:
        report.cancelled += cancel_stale(s)
    with db_session(engine) as s:
        active = Subscriber.active == sa.true()
        chosen = s.exec(select(Subscriber).where(active, Subscriber.mode == mode)
                        .order_by(Subscriber.id)).all()
        if not digest:  # digests held by quiet hours go out as soon as the quiet hours are over
            held = select(AlertDelivery.subscriber_id).where(
                AlertDelivery.state == "pending", AlertDelivery.last_error == QUIET_HELD)
            chosen += s.exec(select(Subscriber).where(
                active, Subscriber.mode == "digest", Subscriber.id.in_(held)).order_by(Subscriber.id)).all()
        subs = sorted(chosen, key=lambda sub: sub.id)
        waiting: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for chunk in in_chunks([sub.id for sub in subs]):
            for did, sid, state in s.exec(
                select(AlertDelivery.id, AlertDelivery.subscriber_id, AlertDelivery.state)
                .where(AlertDelivery.state.in_(WAITING_STATES), AlertDelivery.subscriber_id.in_(chunk))
                .order_by(AlertDelivery.id)
            ).all():
                waiting[sid].append((did, state))

    try:
        for sub in subs:
            rows = waiting.get(sub.id, [])
            if not rows:
                continue
            as_digest = sub.mode == "digest"
            if is_quiet(sub, now):
                report.quiet += len(rows)
                report.quiet_subscribers.append(sub.name)
                if digest:
                    _hold_digest(engine, [did for did, state in rows if state == "pending"])
                continue
            channel = channels.get(sub.channel) if channels is not None else None
            if channel is None:
                try:
                    if sub.channel not in owned:
                        owned[sub.channel] = channel_for(sub.channel)
                    channel = owned[sub.channel]
                except UnknownChannel:
                    report.skipped_subscribers.append(sub.name)
                    report.deferred += len(rows)
                    continue
            interrupted = [did for did, state in rows if state == "sending"]
            pending = [did for did, state in rows if state == "pending"]
            if as_digest:
                batches = [(interrupted, True)] if interrupted else []
                if pending:
                    batches.append((pending, False))
            else:
                batches = [([did], True) for did in interrupted] + [([did], False) for did in pending]
            for index, (ids, recovering) in enumerate(batches):
                ok = await _deliver_batch(engine, sub, channel, ids, recovering=recovering, digest=as_digest,
                                          now=now, max_attempts=max_attempts, report=report, crash=crash)
                if not ok:  # the channel fails for this subscriber: leave the rest for the next run
                    report.deferred += sum(len(rest) for rest, _ in batches[index + 1:])
                    break
    finally:
        for channel in owned.values():
            close = getattr(channel, "aclose", None)
            if close is not None:
                await close()
    return report


def _hold_digest(engine: Engine, ids: Sequence[int]) -> None:
    """Note the pending deliveries of a digest held by quiet hours (QUIET_HELD): the first run after
    the quiet hours sends them."""
    if not ids:
        return
    with db_session(engine) as s:
        _update_deliveries(s, ids, "pending", last_error=QUIET_HELD)


def _update_deliveries(s: Session, ids: Sequence[int], from_state: str, **values: Any) -> None:
    """Move the deliveries `ids` that are still in `from_state` (one UPDATE per chunk of ids)."""
    for chunk in in_chunks(ids):
        s.exec(sa.update(AlertDelivery)
               .where(AlertDelivery.id.in_(chunk), AlertDelivery.state == from_state)
               .values(**values).execution_options(synchronize_session=False))


async def _deliver_batch(engine: Engine, sub: Subscriber, channel: Channel, ids: list[int], *,
                         recovering: bool, digest: bool, now: datetime, max_attempts: int,
                         report: DeliveryReport, crash: _CrashPoints) -> bool:
    """The protocol for one message. False if the channel failed."""
    # 1. claim, in its own transaction: cancel what is no longer open, then pending → sending
    #    (deliveries a crash left in `sending` stay there and are marked as possible repeats).
    from_state = "sending" if recovering else "pending"
    claim: dict[str, Any] = {"state": "sending", "attempts": AlertDelivery.attempts + 1}
    if recovering:
        claim["possible_repeat"] = True
    with db_session(engine) as s:
        claimed: list[int] = []
        for chunk in in_chunks(ids):
            report.cancelled += _cancel_where(
                s, sa.and_(AlertDelivery.id.in_(chunk), AlertDelivery.alert_id.in_(_closed_alerts())))
            claimed += s.exec(select(AlertDelivery.id).where(
                AlertDelivery.id.in_(chunk), AlertDelivery.state == from_state)).all()
        _update_deliveries(s, claimed, from_state, **claim)
        contexts = load_contexts(s, claimed) if claimed else []
    if not contexts:
        return True
    crash.reached("claimed")

    # 2. the channel, with no transaction (and no connection) held.
    claimed = [c.delivery_id for c in contexts]
    outcome = DeliveryOutcome(subscriber=sub.name, channel=sub.channel, delivery_ids=claimed, title="")
    error: DeliveryError | None = None
    try:
        message = render_digest(contexts, sub, now) if digest else render_alert(contexts[0], sub)
    except Exception as exc:  # noqa: BLE001 - never leave a delivery in `sending` for a rendering bug
        error = DeliveryError(f"无法生成告警消息：{type(exc).__name__}: {exc}")
    else:
        outcome.title, outcome.possible_repeat = message.title, message.possible_repeat
        try:
            await channel.send(message)
        except DeliveryError as exc:
            error = exc
        except Exception as exc:  # noqa: BLE001 - a broken channel: unknown outcome, so a possible repeat
            error = DeliveryError(f"渠道 {sub.channel} 出错：{type(exc).__name__}: {exc}", maybe_delivered=True)

    if error is not None:
        # 3'. back to pending (failed after max_attempts), in its own transaction.
        failure: dict[str, Any] = {
            "state": sa.case((AlertDelivery.attempts >= max_attempts, "failed"), else_="pending"),
            "last_error": str(error)[:2000],
        }
        if error.maybe_delivered:
            failure["possible_repeat"] = True
        with db_session(engine) as s:
            _update_deliveries(s, claimed, "sending", **failure)
            failed = sum(
                s.exec(select(sa.func.count()).select_from(AlertDelivery).where(
                    AlertDelivery.id.in_(chunk), AlertDelivery.state == "failed")).one()
                for chunk in in_chunks(claimed))
        outcome.title = outcome.title or contexts[0].finding.message
        outcome.error, outcome.failed = str(error), bool(failed)
        report.errors.append(outcome)
        return False
    crash.reached("delivered")

    # 3. record it as sent, in its own transaction.
    with db_session(engine) as s:
        _update_deliveries(s, claimed, "sending", state="sent", sent_at=now, last_error=None)
    report.sent.append(outcome)
    crash.reached("recorded")
    return True


# ---- queries for the CLI and the bot --------------------------------------------------------


def waiting_counts(session: Session) -> dict[int, dict[str, int]]:
    """Per subscriber id: how many deliveries are pending / sending (interrupted), counting only
    those whose finding is still open."""
    rows = session.exec(
        select(AlertDelivery.subscriber_id, AlertDelivery.state, sa.func.count())
        .join(Alert, Alert.id == AlertDelivery.alert_id)
        .join(TrackedFinding, TrackedFinding.id == Alert.finding_id)
        .where(AlertDelivery.state.in_(WAITING_STATES), TrackedFinding.state == "open")
        .group_by(AlertDelivery.subscriber_id, AlertDelivery.state)
    ).all()
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"pending": 0, "sending": 0})
    for sid, state, n in rows:
        counts[sid][state] = n
    return dict(counts)
