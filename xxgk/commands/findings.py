"""`xxgk findings`: the compliance sweep, and the supervisor's view of tracked findings."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from checks.model import CST
from xxgk.cli_common import ConfigOption, err, open_engine, settings_from

app = typer.Typer(help="问题：核查（逾期、未发布、数据衔接），查看、确认或标记误报。", no_args_is_help=True)
out = Console(highlight=False)

STATE_NAMES = {"open": "待处理", "resolved": "已解决", "acknowledged": "已确认", "false_positive": "误报"}
SEVERITY_NAMES = {"error": "错误", "warning": "警告", "info": "提示"}


def _as_of(value: str | None) -> date:
    if value is None:
        return datetime.now(CST).date()  # deadlines are Beijing dates, whatever the server's zone
    try:
        return date.fromisoformat(value)
    except ValueError:
        err.print(f"错误：日期格式应为 YYYY-MM-DD：{value}")
        raise typer.Exit(2) from None


@app.command("sweep")
def sweep_command(
    year: Annotated[int, typer.Option("--year", "-y", help="报告年度（如 2021，即 2022 年发布的报告）。", min=2008, max=2100)],
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="按这一天核查（YYYY-MM-DD，默认今天）。")] = None,
    no_alerts: Annotated[bool, typer.Option("--no-alerts", help="只更新问题，不生成告警。")] = False,
    config: ConfigOption = None,
) -> None:
    """核查一个年度：逾期发布、未发布、站点无法访问、上下年数据不衔接、内容雷同、数据异常变化，并更新问题状态、生成告警。"""
    from compliance.sweep import sweep

    settings = settings_from(config)
    today = _as_of(as_of)
    engine = open_engine(settings)
    now = datetime.now(UTC) if as_of is None else datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    result = sweep(engine, year, today=today, now=now, deadlines=settings.deadlines, alert=not no_alerts)
    from db.engine import analyze

    analyze(engine)  # the store's figures changed: keep the query planner's statistics fresh
    out.print(f"{year}年度核查（截至 {today}）：已收录报告 {result.reports} 份，名录内单位 {result.registered} 个")
    from compliance.alerts import RULE_NAMES

    for rule, count in sorted(result.verdicts.items(), key=lambda kv: -kv[1]):
        out.print(f"  {RULE_NAMES.get(rule, rule)}：{count}")
    out.print(f"问题：新增 {result.opened}，已解决 {result.resolved}；生成告警 {result.alerts} 条")


@app.command("list")
def list_command(
    year: Annotated[Optional[int], typer.Option("--year", "-y", help="报告年度。")] = None,
    region: Annotated[Optional[str], typer.Option("--region", help="地区代码（含下级，如 330200 宁波市）。")] = None,
    severity: Annotated[Optional[str], typer.Option("--severity", help="最低严重程度：error / warning / info。")] = None,
    state: Annotated[str, typer.Option("--state", help="状态：open / resolved / acknowledged / false_positive / all。")] = "open",
    rule: Annotated[Optional[str], typer.Option("--rule", help="规则代码，如 late、missing_report。")] = None,
    limit: Annotated[int, typer.Option("--limit", help="最多显示条数。", min=1)] = 200,
    config: ConfigOption = None,
) -> None:
    """列出问题（默认只列待处理的）。"""
    import sqlalchemy as sa

    from compliance.regions import code_prefix, is_region_code
    from db.engine import session
    from db.models import SEVERITIES, Agency, TrackedFinding

    if severity is not None and severity not in SEVERITIES:
        err.print(f"错误：严重程度应为 error、warning 或 info：{severity}")
        raise typer.Exit(2)
    if state != "all" and state not in STATE_NAMES:
        err.print(f"错误：未知状态：{state}")
        raise typer.Exit(2)
    if region is not None and not is_region_code(region):
        err.print(f"错误：地区代码应为 2、4、6、9 或 12 位数字：{region}")
        raise typer.Exit(2)
    engine = open_engine(settings_from(config))
    tf, a = TrackedFinding.__table__, Agency.__table__
    stmt = sa.select(tf, a.c.name.label("agency")).join(a, a.c.id == tf.c.agency_id)
    if year is not None:
        stmt = stmt.where(tf.c.year == year)
    if state != "all":
        stmt = stmt.where(tf.c.state == state)
    if rule is not None:
        stmt = stmt.where(tf.c.rule == rule)
    if severity is not None:
        stmt = stmt.where(tf.c.severity.in_(SEVERITIES[: SEVERITIES.index(severity) + 1]))
    if region is not None:
        stmt = stmt.where(a.c.region_code.startswith(code_prefix(region)))
    with session(engine) as s:
        total = s.connection().execute(sa.select(sa.func.count()).select_from(stmt.subquery())).scalar_one()
        rows = s.connection().execute(stmt.order_by(tf.c.year.desc(), a.c.name, tf.c.id).limit(limit)).all()
    if not rows:
        out.print("没有符合条件的问题。")
        return
    from compliance.alerts import RULE_NAMES

    table = Table("编号", "单位", "年度", "问题", "程度", "状态", "说明", show_lines=False)
    for r in rows:
        table.add_row(str(r.id), r.agency, str(r.year), RULE_NAMES.get(r.rule, r.rule),
                      SEVERITY_NAMES.get(r.severity, r.severity), STATE_NAMES.get(r.state, r.state), r.message)
    out.print(table)
    if total > len(rows):
        out.print(f"共 {total} 条，仅显示前 {len(rows)} 条（用 --limit 调整）。")


def _set(finding_id: int, state: str, reason: str | None, actor: str, config) -> None:  # noqa: ANN001
    from compliance.lifecycle import FindingStateError, set_state
    from db.engine import session

    engine = open_engine(settings_from(config))
    try:
        with session(engine) as s:
            finding = set_state(s, finding_id, state, actor=actor, reason=reason, now=datetime.now(UTC))
            out.print(f"问题 {finding_id} 已设为“{STATE_NAMES[state]}”：{finding.message}")
    except FindingStateError as exc:
        err.print(f"错误：{exc}")
        raise typer.Exit(2) from None


ActorOption = Annotated[str, typer.Option("--by", help="操作人（记入历史）。")]


@app.command("ack")
def ack_command(finding_id: int, reason: Annotated[Optional[str], typer.Argument(help="说明（可选）。")] = None,
                by: ActorOption = "督查人员", config: ConfigOption = None) -> None:
    """确认问题（已知悉、已督促），不再告警。"""
    _set(finding_id, "acknowledged", reason, by, config)


@app.command("dismiss")
def dismiss_command(finding_id: int, reason: Annotated[str, typer.Argument(help="误报理由（必填）。")],
                    by: ActorOption = "督查人员", config: ConfigOption = None) -> None:
    """标记为误报（需说明理由），不再告警。"""
    _set(finding_id, "false_positive", reason, by, config)


@app.command("reopen")
def reopen_command(finding_id: int, reason: Annotated[Optional[str], typer.Argument(help="说明（可选）。")] = None,
                   by: ActorOption = "督查人员", config: ConfigOption = None) -> None:
    """撤销确认或误报标记，问题重新变为待处理。"""
    _set(finding_id, "open", reason, by, config)


@app.command("history")
def history_command(finding_id: int, config: ConfigOption = None) -> None:
    """显示问题的全部状态变化。"""
    from compliance.lifecycle import history
    from db.engine import session

    engine = open_engine(settings_from(config))
    with session(engine) as s:
        events = history(s, finding_id)
    if not events:
        err.print(f"错误：没有编号为 {finding_id} 的问题")
        raise typer.Exit(2)
    for e in events:
        reason = f"：{e.reason}" if e.reason else ""
        out.print(f"{e.at.astimezone(CST):%Y-%m-%d %H:%M}  {STATE_NAMES.get(e.state, e.state)}（{e.actor}）{reason}")
