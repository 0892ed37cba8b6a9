"""`xxgk alerts`: 告警：订阅者管理与告警发送。"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Optional

import typer

from xxgk.cli_common import ConfigOption, err, open_engine, settings_from

app = typer.Typer(help="告警：订阅者管理与告警发送。", no_args_is_help=True)

_LEVELS = {
    "department": "department", "部门": "department",
    "government": "government", "人民政府": "government", "政府": "government",
    "township": "township", "乡镇": "township", "街道": "township", "乡镇（街道）": "township",
}
_SEVERITIES = {"error": "error", "错误": "error", "warning": "warning", "警告": "warning",
               "info": "info", "提示": "info"}
_MODE_NAMES = {"immediate": "即时", "digest": "每日汇总"}


def _fail(message: str, status: int = 2) -> typer.Exit:
    err.print(f"错误：{message}", soft_wrap=True, markup=False)
    return typer.Exit(status)


def _scope_text(sub, agency_name: str | None, region_name: str | None) -> str:
    from compliance.alerts import LEVEL_NAMES

    parts = []
    if sub.region_code:
        parts.append(f"{region_name}（{sub.region_code}）及下辖" if region_name else f"{sub.region_code} 及下辖")
    if sub.level:
        parts.append(LEVEL_NAMES.get(sub.level, sub.level))
    if sub.agency_id is not None:
        parts.append(agency_name or f"单位 #{sub.agency_id}")
    return "、".join(parts) or "全部"


def _find_agency(session, name: str):
    """The agency called `name`, by its registered name or an alias (normalised)."""
    from sqlmodel import select

    from checks.normalize import compact
    from db.models import Agency, AgencyAlias

    agency = session.exec(select(Agency).where(Agency.name == name.strip())).first()
    if agency is not None:
        return agency
    key = compact(name)
    ids = set(session.exec(select(AgencyAlias.agency_id).where(AgencyAlias.key == key)).all())
    if len(ids) > 1:
        raise _fail(f"单位名称「{name}」对应多个单位，请写全称")
    if ids:
        return session.get(Agency, ids.pop())
    for candidate in session.exec(select(Agency)).all():  # full names differing only in spacing/width
        if compact(candidate.name) == key:
            return candidate
    raise _fail(f"未知单位：{name}（请用 xxgk agencies list 查看已登记的单位）")


@app.command()
def subscribe(
    name: Annotated[str, typer.Argument(help="订阅者名称（唯一）。")],
    channel: Annotated[Optional[str], typer.Option(
        "--channel", help="发送渠道：console、webhook、telegram、wecom（企业微信群机器人）、dingtalk（钉钉）、"
                          "feishu（飞书）、email 或 apprise（任意 Apprise 地址）。")] = None,
    target: Annotated[str, typer.Option(
        "--target", help="渠道目标：webhook 的 URL；telegram 的聊天编号；wecom/dingtalk/feishu 的群机器人 Webhook "
                         "地址或 wecombot://、dingtalk://、feishu:// 地址；email 的 mailtos:// 地址。")] = "",
    region: Annotated[Optional[str], typer.Option("--region", help="只接收该地区（含下辖）的告警，如 330200。")] = None,
    level: Annotated[
        Optional[str], typer.Option("--level", help="只接收该层级：department/government/township。")
    ] = None,
    agency: Annotated[Optional[str], typer.Option("--agency", help="只接收该单位的告警（单位名称或别名）。")] = None,
    min_severity: Annotated[str, typer.Option("--min-severity", help="最低级别：error/warning/info。")] = "warning",
    digest: Annotated[bool, typer.Option("--digest", help="每日汇总一条，而不是逐条即时发送。")] = False,
    config: ConfigOption = None,
) -> None:
    """添加订阅者：按地区、层级、单位和最低级别接收告警（只接收此后产生的告警）。"""
    from sqlmodel import select

    from compliance.channels import UnknownChannel, channel_names, check_target, display_target
    from compliance.regions import is_region_code
    from db.engine import session
    from db.models import Region, Subscriber

    name = name.strip()
    if not name:
        raise _fail("订阅者名称不能为空")
    if not channel:
        raise _fail(f"请用 --channel 指定发送渠道（{'、'.join(channel_names())}）")
    channel = channel.strip().lower()
    try:
        problem = check_target(channel, target.strip() or None)
    except UnknownChannel as exc:
        raise _fail(str(exc)) from None
    if problem:
        raise _fail(problem)
    if region is not None:
        region = region.strip()
        if not is_region_code(region):
            raise _fail(f"地区代码无效：{region}（应为 2、4、6、9 或 12 位数字的行政区划代码，如 330200）")
    if level is not None:
        if level.strip().lower() not in _LEVELS:
            raise _fail(f"未知层级：{level}（可用：department 部门、government 人民政府、township 乡镇）")
        level = _LEVELS[level.strip().lower()]
    severity = _SEVERITIES.get(min_severity.strip().lower())
    if severity is None:
        raise _fail(f"未知级别：{min_severity}（可用：error 错误、warning 警告、info 提示）")

    settings = settings_from(config)
    engine = open_engine(settings)
    now = datetime.now(UTC)
    with session(engine) as s:
        agency_row = _find_agency(s, agency) if agency is not None else None
        existing = s.exec(select(Subscriber).where(Subscriber.name == name)).first()
        if existing is not None and existing.active:
            raise _fail(f"订阅者已存在：{name}（先 xxgk alerts unsubscribe {name}，或换一个名称）")
        sub = existing or Subscriber(name=name, channel=channel, created_at=now)
        sub.channel, sub.target = channel, target.strip()
        sub.region_code, sub.level = region, level
        sub.agency_id = agency_row.id if agency_row is not None else None
        sub.min_severity, sub.mode, sub.active = severity, "digest" if digest else "immediate", True
        s.add(sub)
        region_row = s.get(Region, region) if region else None
    from compliance.alerts import SEVERITY_NAMES

    verb = "已重新启用" if existing is not None else "已添加"
    where = f" → {display_target(channel, sub.target)}" if sub.target else ""  # robot keys masked
    scope = _scope_text(sub, agency_row.name if agency_row else None, region_row.name if region_row else None)
    typer.echo(f"{verb}订阅者「{name}」：{channel}{where}；范围：{scope}"
               f"；最低级别：{SEVERITY_NAMES[severity]}；方式：{_MODE_NAMES[sub.mode]}")


@app.command("subscribers")
def list_subscribers(config: ConfigOption = None) -> None:
    """列出订阅者及其范围、渠道和待发送的告警数。"""
    from rich.console import Console
    from rich.table import Table
    from sqlmodel import select

    from compliance.alerts import SEVERITY_NAMES, waiting_counts
    from compliance.channels import display_target
    from db.engine import session
    from db.models import Agency, Region, Subscriber

    engine = open_engine(settings_from(config))
    with session(engine) as s:
        subs = s.exec(select(Subscriber).order_by(Subscriber.name)).all()
        counts = waiting_counts(s)
        agencies = {a.id: a.name for a in s.exec(select(Agency).where(
            Agency.id.in_([x.agency_id for x in subs if x.agency_id is not None]))).all()}
        regions = {r.code: r.name for r in s.exec(select(Region).where(
            Region.code.in_([x.region_code for x in subs if x.region_code]))).all()}
    if not subs:
        typer.echo("还没有订阅者（用 xxgk alerts subscribe 添加）。")
        return
    table = Table("名称", "渠道", "目标", "范围", "最低级别", "方式", "状态", "待发送")
    for sub in subs:
        waiting = counts.get(sub.id, {})
        table.add_row(sub.name, sub.channel, display_target(sub.channel, sub.target) or "-",
                      _scope_text(sub, agencies.get(sub.agency_id), regions.get(sub.region_code)),
                      SEVERITY_NAMES.get(sub.min_severity, sub.min_severity),
                      _MODE_NAMES.get(sub.mode, sub.mode),
                      "启用" if sub.active else "已停用",
                      str(waiting.get("pending", 0) + waiting.get("sending", 0)))
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=200)  # piped: never cut a URL
    console.print(table)


@app.command()
def unsubscribe(
    name: Annotated[str, typer.Argument(help="订阅者名称。")],
    config: ConfigOption = None,
) -> None:
    """停用订阅者，并取消其尚未发送的告警。"""
    import sqlalchemy as sa
    from sqlmodel import select

    from db.engine import session
    from db.models import AlertDelivery, Subscriber

    engine = open_engine(settings_from(config))
    with session(engine) as s:
        sub = s.exec(select(Subscriber).where(Subscriber.name == name.strip())).first()
        if sub is None:
            raise _fail(f"未知订阅者：{name}（用 xxgk alerts subscribers 查看）")
        was_active = sub.active
        sub.active = False
        s.add(sub)
        cancelled = s.exec(
            sa.update(AlertDelivery)
            .where(AlertDelivery.subscriber_id == sub.id, AlertDelivery.state.in_(("pending", "sending")))
            .values(state="cancelled").execution_options(synchronize_session=False)
        ).rowcount
    if not was_active and not cancelled:
        typer.echo(f"订阅者「{sub.name}」此前已停用。")
    else:
        typer.echo(f"已停用订阅者「{sub.name}」，取消了 {cancelled} 条尚未发送的告警。")


@app.command()
def send(
    digest: Annotated[bool, typer.Option("--digest", help="发送每日汇总（选择了 --digest 的订阅者）。")] = False,
    max_attempts: Annotated[int, typer.Option("--max-attempts", min=1, help="失败多少次后放弃。")] = 5,
    config: ConfigOption = None,
) -> None:
    """发送待发送的告警：即时订阅者逐条发送；加 --digest 时给汇总订阅者各发一条汇总。

    上次发送中途中断的告警会重发，并标注「（可能重复）」。退出状态：0 全部成功；1 有发送失败（下次重试）。
    """
    import asyncio

    from compliance.alerts import deliver
    from compliance.channels import use_settings

    settings = settings_from(config)
    use_settings(settings)  # the telegram channel's token and Bot API server
    engine = open_engine(settings)
    report = asyncio.run(deliver(engine, now=datetime.now(UTC), digest=digest, max_attempts=max_attempts))
    for o in report.sent:
        typer.echo(f"已发送  {o.subscriber}［{o.channel}］：{o.title}")
    for o in report.errors:
        then = "已放弃" if o.failed else "下次重试"
        err.print(f"发送失败  {o.subscriber}［{o.channel}］：{o.title}：{o.error}（{then}）",
                  soft_wrap=True, markup=False)
    for name in report.skipped_subscribers:
        err.print(f"跳过  {name}：其发送渠道在本程序中不可用", soft_wrap=True, markup=False)
    summary = f"{'汇总' if digest else '即时告警'}：发送 {len(report.sent)} 条消息（{report.sent_count} 条告警）"
    if report.errors:
        summary += f"，失败 {len(report.errors)} 条"
    if report.repeats:
        summary += f"，其中 {len(report.repeats)} 条为中断后重发（可能重复）"
    if report.cancelled:
        summary += f"，取消 {report.cancelled} 条（问题已解决或已确认）"
    if report.deferred:
        summary += f"，{report.deferred} 条顺延到下次"
    typer.echo(summary)
    if report.errors or report.skipped_subscribers:
        raise typer.Exit(1)


@app.command()
def pending(config: ConfigOption = None) -> None:
    """每个订阅者有多少条告警等待发送。"""
    from sqlmodel import select

    from compliance.alerts import waiting_counts
    from db.engine import session
    from db.models import Subscriber

    engine = open_engine(settings_from(config))
    with session(engine) as s:
        counts = waiting_counts(s)
        subs = {x.id: x for x in s.exec(select(Subscriber).where(Subscriber.id.in_(list(counts)))).all()}
    rows = sorted(((subs[sid], c) for sid, c in counts.items() if sid in subs), key=lambda r: r[0].name)
    if not rows:
        typer.echo("没有等待发送的告警。")
        return
    total = 0
    for sub, c in rows:
        n = c.get("pending", 0) + c.get("sending", 0)
        total += n
        extra = f"（其中 {c['sending']} 条上次发送中断，将标注可能重复后重发）" if c.get("sending") else ""
        state = "" if sub.active else "，已停用"
        typer.echo(f"{sub.name}［{sub.channel}，{_MODE_NAMES.get(sub.mode, sub.mode)}{state}］：{n} 条{extra}")
    typer.echo(f"合计：{total} 条")
