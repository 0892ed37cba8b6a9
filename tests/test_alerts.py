"""Alerts (compliance/alerts.py, compliance/channels.py, `xxgk alerts`): routing, rendering, and
crash-safe delivery, on real SQLite files, against a real webhook server (aiohttp on 127.0.0.1,
in a thread of the test process), with deliveries run and SIGKILLed in real subprocesses."""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter, defaultdict
from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web
from sqlmodel import select

from compliance.alerts import (
    CRASH_ENV,
    QUIET_HELD,
    RULE_ADVICE,
    RULE_NAMES,
    cancel_stale,
    create_alerts,
    deliver,
    in_quiet_hours,
    load_contexts,
    render_alert,
    sync_subscribers,
    waiting_counts,
)
from compliance.channels import (
    ConsoleChannel,
    DeliveryError,
    OutgoingMessage,
    UnknownChannel,
    WebhookChannel,
    channel_for,
    channel_names,
    register_channel,
)
from db.engine import session
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

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
REPEAT = "（可能重复）"
REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("XXGK_SHARED", REPO.parent / "shared"))


# ---- database fixtures and builders -------------------------------------------------------


# db_url and engine: tests/conftest.py (tests/databases.py), SQLite or PostgreSQL.


_keys = itertools.count(1)


def add_agency(s, name: str, region_code: str | None = None, level: str | None = "department",
               region_name: str | None = None) -> Agency:
    agency = Agency(name=name, region_code=region_code, level=level, region_name=region_name, registered=True)
    s.add(agency)
    s.flush()
    return agency


def add_finding(s, agency: Agency, rule: str = "balance", severity: str = "error", *, year: int = 2023,
                state: str = "open", where: str = "", message: str | None = None,
                report_id: int | None = None, evidence: dict | None = None) -> TrackedFinding:
    finding = TrackedFinding(
        key=f"{agency.id}|{year}|{rule}|{where}|{next(_keys)}", agency_id=agency.id, year=year, rule=rule,
        severity=severity, where=where, message=message or f"{agency.name}{year}年度：{rule} 的说明",
        source="report", report_id=report_id, evidence=evidence, state=state, opened_at=NOW, last_seen_at=NOW,
    )
    s.add(finding)
    s.flush()
    return finding


def add_report(s, agency: Agency, year: int, url: str, title: str | None = None) -> Report:
    doc = Document(url=url, content_hash="0" * 64, size=100, format="html", fetched_at=NOW, title=title)
    s.add(doc)
    s.flush()
    report = Report(agency_id=agency.id, year=year, template="2021", title=title, document_id=doc.id,
                    sections=[], data={}, created_at=NOW, updated_at=NOW)
    s.add(report)
    s.flush()
    return report


def add_subscriber(s, name: str, channel: str = "webhook", target: str = "", **scope: Any) -> Subscriber:
    sub = Subscriber(name=name, channel=channel, target=target, created_at=NOW, **scope)
    s.add(sub)
    s.flush()
    return sub


def deliveries_by_subscriber(engine) -> dict[str, list[tuple[int, str]]]:
    """{subscriber name: [(finding id, state)]}"""
    with session(engine) as s:
        rows = s.exec(
            select(Subscriber.name, Alert.finding_id, AlertDelivery.state)
            .join(AlertDelivery, AlertDelivery.subscriber_id == Subscriber.id)
            .join(Alert, Alert.id == AlertDelivery.alert_id)
            .order_by(AlertDelivery.id)
        ).all()
    out: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for name, fid, state in rows:
        out[name].append((fid, state))
    return dict(out)


def states(engine) -> Counter:
    with session(engine) as s:
        return Counter(s.exec(select(AlertDelivery.state)).all())


def run(coro):
    return asyncio.run(coro)


# ---- a real webhook receiver ---------------------------------------------------------------


class WebhookServer:
    """An aiohttp server on 127.0.0.1 in its own thread. It records every POST it receives
    (before answering) and answers with `status` after `delay` seconds."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200
        self.delay = 0.0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0

    def __enter__(self) -> WebhookServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook/{name}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        status, delay = self.status, self.delay
        with self._lock:
            self.received.append({"path": request.match_info["name"], "body": body, "status": status,
                                  "headers": dict(request.headers)})
        if delay:
            await asyncio.sleep(delay)
        return web.json_response({"ok": status < 300}, status=status)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{name}"

    def accepted(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.received if r["status"] < 300]


@pytest.fixture
def hook():
    with WebhookServer() as server:
        yield server


# ---- routing --------------------------------------------------------------------------------


@pytest.fixture
def world(engine):
    """Agencies in 浙江 (宁波 镇海/北仑) and 江苏 (南京), one without a region; subscribers of every scope."""
    with session(engine) as s:
        a = {
            "zh_dept": add_agency(s, "宁波市镇海区人力资源和社会保障局", "330211", "department"),
            "zh_gov": add_agency(s, "宁波市镇海区人民政府", "330211", "government"),
            "bl_dept": add_agency(s, "宁波市北仑区民政局", "330206", "department"),
            "hz_dept": add_agency(s, "杭州市西湖区教育局", "330106", "department"),
            "nj_dept": add_agency(s, "南京市玄武区民政局", "320102", "department"),
            "town": add_agency(s, "镇海区招宝山街道办事处", "330211001", "township"),
            "nowhere": add_agency(s, "某未标注地区的单位", None, None),
        }
        subs = {
            "all": add_subscriber(s, "all", min_severity="info"),
            "warn": add_subscriber(s, "warn"),  # default: warning and up, everywhere
            "zhejiang": add_subscriber(s, "zhejiang", region_code="330000", min_severity="info"),
            "ningbo_dept": add_subscriber(s, "ningbo_dept", region_code="330200", level="department",
                                          min_severity="info"),
            "zhenhai": add_subscriber(s, "zhenhai", region_code="330211", min_severity="info"),
            "one_agency": add_subscriber(s, "one_agency", agency_id=None, min_severity="info"),
            "errors": add_subscriber(s, "errors", min_severity="error"),
            "township": add_subscriber(s, "township", level="township", min_severity="info"),
            "inactive": add_subscriber(s, "inactive", min_severity="info", active=False),
        }
        subs["one_agency"].agency_id = a["bl_dept"].id
        s.add(subs["one_agency"])
    return a, subs


def test_routing_by_region_subtree_level_agency_and_severity(engine, world):
    a, _ = world
    with session(engine) as s:
        f = {
            "zh_dept_err": add_finding(s, a["zh_dept"], "balance", "error"),
            "zh_gov_warn": add_finding(s, a["zh_gov"], "late", "warning"),
            "bl_dept_info": add_finding(s, a["bl_dept"], "implausible_change", "info"),
            "hz_dept_err": add_finding(s, a["hz_dept"], "missing_report", "error"),
            "nj_dept_warn": add_finding(s, a["nj_dept"], "stale_text", "warning"),
            "town_err": add_finding(s, a["town"], "missing_section", "error"),
            "nowhere_err": add_finding(s, a["nowhere"], "balance", "error"),
        }
        alerts = create_alerts(s, list(f.values()), NOW)
    assert len(alerts) == len(f)
    names = {v.id: k for k, v in f.items()}
    got = {sub: sorted(names[fid] for fid, _ in rows)
           for sub, rows in deliveries_by_subscriber(engine).items()}
    assert got == {
        "all": sorted(f),
        "warn": sorted(k for k in f if k != "bl_dept_info"),
        "zhejiang": sorted(["zh_dept_err", "zh_gov_warn", "bl_dept_info", "hz_dept_err", "town_err"]),
        "ningbo_dept": sorted(["zh_dept_err", "bl_dept_info"]),
        "zhenhai": sorted(["zh_dept_err", "zh_gov_warn", "town_err"]),  # 330211001 is in 330211's subtree
        "one_agency": ["bl_dept_info"],
        "errors": sorted(["zh_dept_err", "hz_dept_err", "town_err", "nowhere_err"]),
        "township": ["town_err"],
    }  # "inactive" gets nothing
    assert states(engine) == {"pending": sum(len(v) for v in got.values())}


def test_create_alerts_is_idempotent_and_skips_findings_that_are_not_open(engine, world):
    a, _ = world
    with session(engine) as s:
        open_ = add_finding(s, a["zh_dept"], "balance", "error")
        others = [add_finding(s, a["zh_dept"], "late", "error", state=st)
                  for st in ("resolved", "acknowledged", "false_positive")]
        first = create_alerts(s, [open_, *others, open_], NOW)  # the same finding twice in one call
    assert [x.finding_id for x in first] == [open_.id]
    before = states(engine)
    with session(engine) as s:
        again = create_alerts(s, [s.get(TrackedFinding, open_.id)], NOW + timedelta(days=1))
        assert again == []
        assert s.exec(select(sa.func.count()).select_from(Alert)).one() == 1
    assert states(engine) == before
    # The finding is routed once per matching subscriber, not once per call.
    assert sum(before.values()) == len([n for n, rows in deliveries_by_subscriber(engine).items() if rows])


def test_create_alerts_flushes_new_findings_and_routes_many_in_few_queries(engine, world):
    a, _ = world
    statements: list[str] = []
    with session(engine) as s:
        findings = [TrackedFinding(key=f"bulk|{i}", agency_id=a[k].id, year=2022, rule="balance",
                                   severity="error", message="m", source="report", opened_at=NOW,
                                   last_seen_at=NOW)
                    for i, k in enumerate(["zh_dept", "bl_dept", "nj_dept", "town"] * 50)]
        s.add_all(findings)  # not flushed yet: create_alerts flushes to get their ids
        listen = lambda *args: statements.append(args[2])  # noqa: E731
        sa.event.listen(engine, "before_cursor_execute", listen)
        try:
            created = create_alerts(s, findings, NOW)
        finally:
            sa.event.remove(engine, "before_cursor_execute", listen)
    assert len(created) == 200
    selects = [q for q in statements if q.lstrip().upper().startswith("SELECT")]
    assert len([q for q in selects if "FROM subscriber" in q]) == 1
    assert len([q for q in selects if "FROM agency" in q]) == 1
    with session(engine) as s:
        # subscribers per error finding: 镇海 department 6, 北仑 department 6, 南京 3, the township 6
        assert s.exec(select(sa.func.count()).select_from(AlertDelivery)).one() == 50 * (6 + 6 + 3 + 6)


def test_new_subscriber_only_gets_alerts_created_after_it(engine, world):
    a, _ = world
    with session(engine) as s:
        f1 = add_finding(s, a["zh_dept"])
        create_alerts(s, [f1], NOW)
        late = add_subscriber(s, "late_comer", min_severity="info")
        f2 = add_finding(s, a["zh_dept"], "late")
        create_alerts(s, [f2], NOW)
        rows = s.exec(select(Alert.finding_id).join(AlertDelivery)
                      .where(AlertDelivery.subscriber_id == late.id)).all()
    assert rows == [f2.id]


# ---- rendering ------------------------------------------------------------------------------


def _spec_rule_codes() -> set[str]:
    spec = (SHARED / "spec" / "report-json.md").read_text(encoding="utf-8")
    section = spec.split("## Rule codes", 1)[1]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))


def test_every_rule_code_has_a_chinese_name_and_advice():
    codes = _spec_rule_codes() | {
        "duplicate_content", "changed_after_publication", "implausible_change", "blank_total",
        "missing_table", "site_unreachable", "conflicting_copies", "placeholder_text", "garbled_title",
        "wrong_document_number", "regulations_not_applicable",
    }
    assert {"balance", "late", "missing_report", "carryover_mismatch"} <= codes
    assert not codes - set(RULE_NAMES), "rules without a Chinese name"
    assert not codes - set(RULE_ADVICE), "rules without advice"
    assert RULE_NAMES["late"] == "逾期发布"
    assert RULE_NAMES["missing_report"] == "未发布年度报告"
    assert RULE_NAMES["site_unreachable"] == "站点无法访问"
    assert RULE_NAMES["carryover_mismatch"] == "上下年数据不衔接"
    assert RULE_NAMES["balance"] == "勾稽关系不平"
    for code in codes:
        assert re.search(r"[\u4e00-\u9fff]", RULE_NAMES[code])
        assert re.search(r"[\u4e00-\u9fff]", RULE_ADVICE[code])


def test_single_alert_message_says_what_who_which_report_why_and_what_to_do(engine):
    with session(engine) as s:
        s.add(Region(code="330211", name="宁波市镇海区", parent_code="330200", level="county"))
        agency = add_agency(s, "宁波市镇海区<人力>&社保局", "330211", "department")
        report = add_report(s, agency, 2023, "https://www.zh.gov.cn/art/2024/3/1/art_1.html?a=1&b=2",
                            "镇海区人社局2023年政府信息公开工作年度报告")
        f = add_finding(s, agency, "late", "error", report_id=report.id, where="发布日期",
                        message="2023年度报告于2024年3月1日发布，晚于法定期限2024年1月31日，逾期 30 天")
        missing = add_finding(s, agency, "missing_report", "error", year=2024, message="没有找到2024年度报告")
        dup = add_finding(s, agency, "duplicate_content", "warning", where="report:77",
                          message="与2022年度报告高度雷同")
        sub = add_subscriber(s, "sup", "console")
        create_alerts(s, [f, missing, dup], NOW)
        ids = s.exec(select(AlertDelivery.id).order_by(AlertDelivery.id)).all()
        ctx_late, ctx_missing, ctx_dup = load_contexts(s, ids)
    msg = render_alert(ctx_late, sub)
    lines = msg.text.splitlines()
    assert lines[0] == "【政务公开告警·错误】逾期发布"
    assert "单位：宁波市镇海区<人力>&社保局" in lines
    assert "地区：宁波市镇海区（330211） · 部门" in lines
    assert "年度：2023 年度报告" in lines
    assert ("报告：镇海区人社局2023年政府信息公开工作年度报告  "
            "https://www.zh.gov.cn/art/2024/3/1/art_1.html?a=1&b=2") in lines
    assert "问题：2023年度报告于2024年3月1日发布，晚于法定期限2024年1月31日，逾期 30 天" in lines
    assert "位置：发布日期" in lines
    assert lines[-2] == "建议：" + RULE_ADVICE["late"]
    assert not msg.possible_repeat and REPEAT not in msg.text
    # HTML for Telegram: escaped text, the link as an anchor
    assert "宁波市镇海区&lt;人力&gt;&amp;社保局" in msg.html
    assert '<a href="https://www.zh.gov.cn/art/2024/3/1/art_1.html?a=1&amp;b=2">' in msg.html
    assert "<人力>" not in msg.html
    item = msg.items[0]
    assert item["rule"] == "late" and item["rule_name"] == "逾期发布" and item["severity"] == "error"
    assert item["agency"] == "宁波市镇海区<人力>&社保局" and item["region"] == "宁波市镇海区"
    assert item["year"] == 2023 and item["url"].startswith("https://www.zh.gov.cn/")
    assert item["finding_id"] == f.id and item["possible_repeat"] is False

    text = render_alert(ctx_missing, sub).text
    assert "未发布年度报告" in text and "报告：未找到" in text and "年度：2024 年度报告" in text
    assert "位置" not in render_alert(ctx_dup, sub).text  # a machine key ("report:77") is not shown

    ctx_late.possible_repeat = True
    repeat = render_alert(ctx_late, sub)
    assert repeat.text.startswith(REPEAT + "【政务公开告警")
    assert repeat.title.startswith(REPEAT) and repeat.possible_repeat and repeat.items[0]["possible_repeat"]


# ---- the webhook channel against a real server --------------------------------------------


def _webhook_world(engine, hook, n: int = 3, subscribers: tuple[str, ...] = ("a",), **scope) -> list[int]:
    with session(engine) as s:
        agency = add_agency(s, "宁波市镇海区人力资源和社会保障局", "330211", "department", region_name="镇海区")
        for name in subscribers:
            add_subscriber(s, name, "webhook", hook.url(name), **scope)
        findings = [add_finding(s, agency, rule, "error", year=2020 + i)
                    for i, rule in zip(range(n), itertools.cycle(["balance", "late", "missing_report"]))]
        create_alerts(s, findings, NOW)
    return [f.id for f in findings]


def test_webhook_delivers_json_and_marks_sent(engine, hook):
    fids = _webhook_world(engine, hook, n=3)
    report = run(deliver(engine, now=NOW))
    assert [len(o.delivery_ids) for o in report.sent] == [1, 1, 1] and not report.errors
    bodies = [r["body"] for r in hook.accepted()]
    assert [b["alerts"][0]["finding_id"] for b in bodies] == fids
    body = bodies[0]
    assert body["kind"] == "alert" and body["subscriber"] == "a" and body["possible_repeat"] is False
    assert body["count"] == 1 and body["text"].startswith("【政务公开告警·错误】勾稽关系不平")
    alert = body["alerts"][0]
    assert {k: alert[k] for k in ("rule", "severity", "agency", "region", "region_code", "year")} == {
        "rule": "balance", "severity": "error", "agency": "宁波市镇海区人力资源和社会保障局", "region": "镇海区",
        "region_code": "330211", "year": 2020}
    assert {"message", "where", "url", "finding_id", "possible_repeat", "rule_name"} <= set(alert)
    keys = [r["headers"]["Idempotency-Key"] for r in hook.accepted()]
    assert len(set(keys)) == 3
    with session(engine) as s:
        rows = s.exec(select(AlertDelivery)).all()
    assert {(d.state, d.attempts, d.sent_at, d.possible_repeat) for d in rows} == {("sent", 1, NOW, False)}
    # nothing left: a second run sends nothing
    assert run(deliver(engine, now=NOW)).sent == [] and len(hook.received) == 3


def test_webhook_500_is_retried_on_the_next_run_and_fails_after_max_attempts(engine, hook):
    _webhook_world(engine, hook, n=3, subscribers=("a", "b"))
    hook.status = 500
    report = run(deliver(engine, now=NOW, max_attempts=3))
    # one try per subscriber: after its first failure the subscriber's other alerts wait for the next run
    assert [o.subscriber for o in report.errors] == ["a", "b"] and not report.sent
    assert report.deferred == 4 and len(hook.received) == 2
    assert "HTTP 500" in report.errors[0].error and not report.errors[0].failed
    with session(engine) as s:
        first = s.exec(select(AlertDelivery).order_by(AlertDelivery.id)).first()
    assert (first.state, first.attempts, first.possible_repeat) == ("pending", 1, False)
    assert "HTTP 500" in first.last_error

    hook.status = 200
    report = run(deliver(engine, now=NOW))
    assert report.sent_count == 6 and not report.errors
    arrived = Counter((r["path"], r["body"]["alerts"][0]["finding_id"]) for r in hook.accepted())
    assert len(arrived) == 6 and set(arrived.values()) == {1}
    # a 500 means the receiver did not take it: the retry is no repeat
    assert not any(r["body"]["possible_repeat"] for r in hook.accepted())
    assert states(engine) == {"sent": 6}

    # Give up after max_attempts.
    _webhook_world_more(engine)
    hook.status = 503
    for _ in range(3):
        run(deliver(engine, now=NOW, max_attempts=3))
    with session(engine) as s:
        failed = s.exec(select(AlertDelivery).where(AlertDelivery.state == "failed")).all()
    assert len(failed) == 2 and all(d.attempts == 3 and "HTTP 503" in d.last_error for d in failed)
    report = run(deliver(engine, now=NOW, max_attempts=3))
    assert not report.sent and not report.errors  # failed deliveries are not retried


def _webhook_world_more(engine) -> None:
    with session(engine) as s:
        agency = s.exec(select(Agency)).first()
        create_alerts(s, [add_finding(s, agency, "stale_text", "error", year=2030)], NOW)


def test_webhook_timeout_is_retried_as_a_possible_repeat(engine, hook):
    _webhook_world(engine, hook, n=1)
    hook.delay = 2.0

    async def with_short_timeout():
        channel = WebhookChannel(timeout=0.3)
        try:
            return await deliver(engine, now=NOW, channels={"webhook": channel})
        finally:
            await channel.aclose()  # a channel passed in is the caller's to close

    report = run(with_short_timeout())
    assert len(report.errors) == 1 and "超时" in report.errors[0].error
    with session(engine) as s:
        d = s.exec(select(AlertDelivery)).one()
    assert (d.state, d.attempts, d.possible_repeat) == ("pending", 1, True)  # the receiver may have it

    hook.delay = 0.0
    report = run(deliver(engine, now=NOW))
    assert report.sent_count == 1
    first, second = hook.received
    assert first["body"]["alerts"][0]["finding_id"] == second["body"]["alerts"][0]["finding_id"]
    assert first["body"]["possible_repeat"] is False
    assert second["body"]["possible_repeat"] is True and second["body"]["text"].startswith(REPEAT)
    assert first["headers"]["Idempotency-Key"] == second["headers"]["Idempotency-Key"]


def test_webhook_unreachable_and_bad_targets_are_delivery_errors():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sub = Subscriber(name="x", channel="webhook", target=f"http://127.0.0.1:{port}/hook", created_at=NOW)
    message = OutgoingMessage(subscriber=sub, title="t", text="t", html="t")

    async def attempt(channel):
        try:
            await channel.send(message)
        finally:
            await channel.aclose()

    with pytest.raises(DeliveryError, match="无法连接") as info:
        run(attempt(WebhookChannel(timeout=2)))
    assert info.value.maybe_delivered is False
    sub.target = "ftp://example.org/x"
    with pytest.raises(DeliveryError, match="http:// 或 https://"):
        run(attempt(WebhookChannel()))


# ---- the channel registry and the console channel ------------------------------------------


def test_channel_registry_and_console_channel(engine):
    assert {"console", "webhook"} <= set(channel_names())
    assert isinstance(channel_for("webhook"), WebhookChannel)
    with pytest.raises(UnknownChannel) as info:
        channel_for("pigeon")
    assert "未知的告警渠道：pigeon" in str(info.value)

    sent: list[OutgoingMessage] = []

    class Recording:
        async def send(self, message: OutgoingMessage) -> None:
            # No transaction (no connection at all) is held while a channel is called.
            assert engine.pool.checkedout() == 0
            sent.append(message)

    register_channel("recording-test", Recording)
    stream = io.StringIO()
    with session(engine) as s:
        agency = add_agency(s, "宁波市北仑区民政局", "330206")
        add_subscriber(s, "screen", "console")
        add_subscriber(s, "plugged", "recording-test")
        create_alerts(s, [add_finding(s, agency, "carryover_mismatch", "error")], NOW)
    report = run(deliver(engine, now=NOW, channels={"console": ConsoleChannel(stream)}))
    assert report.sent_count == 2
    assert stream.getvalue().startswith("【政务公开告警·错误】上下年数据不衔接\n单位：宁波市北仑区民政局\n")
    assert [m.items[0]["rule"] for m in sent] == ["carryover_mismatch"]


def test_a_subscriber_whose_channel_is_not_available_keeps_its_alerts(engine):
    with session(engine) as s:
        agency = add_agency(s, "宁波市北仑区民政局", "330206")
        add_subscriber(s, "bot", "telegram-not-yet", "12345")
        create_alerts(s, [add_finding(s, agency)], NOW)
    report = run(deliver(engine, now=NOW))
    assert report.skipped_subscribers == ["bot"] and report.deferred == 1
    assert states(engine) == {"pending": 1}


# ---- digest and cancellation ---------------------------------------------------------------


def test_digest_groups_by_region_then_agency_and_is_sent_only_with_digest(engine, hook):
    with session(engine) as s:
        s.add(Region(code="330211", name="宁波市镇海区", parent_code="330200", level="county"))
        zh1 = add_agency(s, "宁波市镇海区人力资源和社会保障局", "330211", "department")
        zh2 = add_agency(s, "宁波市镇海区民政局", "330211", "department")
        bl = add_agency(s, "宁波市北仑区民政局", "330206", "department", region_name="北仑区")
        nj = add_agency(s, "南京市玄武区民政局", "320102", "department")
        add_subscriber(s, "daily", "webhook", hook.url("daily"), mode="digest", min_severity="info")
        add_subscriber(s, "now", "webhook", hook.url("now"), region_code="330000")
        report = add_report(s, zh2, 2023, "https://www.zh.gov.cn/r2023.html")
        findings = [
            add_finding(s, nj, "late", "error"),
            add_finding(s, zh2, "balance", "error", report_id=report.id, where="三、总计列"),
            add_finding(s, bl, "implausible_change", "info"),
            add_finding(s, zh1, "missing_report", "error", year=2024),
            add_finding(s, zh1, "stale_text", "warning"),
        ]
        create_alerts(s, findings, NOW)

    immediate = run(deliver(engine, now=NOW))
    assert {o.subscriber for o in immediate.sent} == {"now"} and immediate.sent_count == 3  # 浙江, warning+
    assert all(r["path"] == "now" for r in hook.received)

    digest = run(deliver(engine, now=NOW, digest=True))
    assert len(digest.sent) == 1 and digest.sent_count == 5
    (msg,) = [r["body"] for r in hook.accepted() if r["path"] == "daily"]
    assert msg["kind"] == "digest" and msg["count"] == 5 and msg["possible_repeat"] is False
    text = msg["text"]
    assert text.splitlines()[0] == "【政务公开告警汇总】2026年11月23日，共 5 条，涉及 3 个地区、4 个单位"
    order = [line.strip() for line in text.splitlines() if line.strip().startswith(("■", "▶"))]
    assert order == [
        "■ 320102（1 条）",
        "▶ 南京市玄武区民政局",
        "■ 北仑区（330206）（1 条）",
        "▶ 宁波市北仑区民政局",
        "■ 宁波市镇海区（330211）（3 条）",
        "▶ 宁波市镇海区人力资源和社会保障局",
        "▶ 宁波市镇海区民政局",
    ]
    zh1_block = text.split("▶ 宁波市镇海区人力资源和社会保障局", 1)[1].split("▶", 1)[0]
    assert "未发布年度报告（错误）· 2024 年度" in zh1_block and "沿用往年文字（警告）· 2023 年度" in zh1_block
    assert zh1_block.index("2024 年度") < zh1_block.index("2023 年度")
    assert "报告：https://www.zh.gov.cn/r2023.html" in text and "位置：三、总计列" in text
    assert [a["agency"] for a in msg["alerts"]] == [
        "南京市玄武区民政局", "宁波市北仑区民政局", "宁波市镇海区人力资源和社会保障局",
        "宁波市镇海区人力资源和社会保障局", "宁波市镇海区民政局"]
    assert states(engine) == {"sent": 8}
    assert run(deliver(engine, now=NOW, digest=True)).sent == []


@pytest.mark.parametrize("new_state", ["acknowledged", "false_positive", "resolved"])
def test_a_finding_that_is_no_longer_open_stops_alerting(engine, hook, new_state):
    fids = _webhook_world(engine, hook, n=3, subscribers=("a", "b"))
    with session(engine) as s:
        s.exec(sa.update(TrackedFinding).where(TrackedFinding.id == fids[1]).values(state=new_state))
    report = run(deliver(engine, now=NOW))
    assert report.cancelled == 2 and report.sent_count == 4
    assert fids[1] not in {r["body"]["alerts"][0]["finding_id"] for r in hook.received}
    with session(engine) as s:
        rows = s.exec(select(Alert.finding_id, AlertDelivery.state).join(AlertDelivery)).all()
    assert {st for fid, st in rows if fid == fids[1]} == {"cancelled"}
    assert {st for fid, st in rows if fid != fids[1]} == {"sent"}


def test_cancel_stale_for_given_findings_and_waiting_counts(engine, hook):
    fids = _webhook_world(engine, hook, n=3, subscribers=("a", "b"))
    with session(engine) as s:
        assert {v["pending"] for v in waiting_counts(s).values()} == {3}
        s.exec(sa.update(TrackedFinding).where(TrackedFinding.id.in_(fids[:2])).values(state="acknowledged"))
        assert cancel_stale(s, [fids[0]]) == 2  # only the finding named
        assert {v["pending"] for v in waiting_counts(s).values()} == {1}  # counts only open findings
        assert cancel_stale(s) == 2
        assert cancel_stale(s, []) == 0


# ---- quiet hours ------------------------------------------------------------------------------


def beijing(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment given in Beijing time (UTC+8), as the aware UTC datetime deliver() is given."""
    return datetime(2026, 11, day, hour, minute, tzinfo=timezone(timedelta(hours=8))).astimezone(UTC)


def test_quiet_hours_across_midnight_and_within_a_day():
    night = (time(22, 0), time(7, 0))
    assert not in_quiet_hours(beijing(23, 21, 59), *night)
    assert in_quiet_hours(beijing(23, 22, 0), *night)  # from: included
    assert in_quiet_hours(beijing(24, 0, 0), *night) and in_quiet_hours(beijing(24, 6, 59), *night)
    assert not in_quiet_hours(beijing(24, 7, 0), *night)  # until: excluded
    assert not in_quiet_hours(beijing(24, 12, 0), *night)
    # Beijing time, whatever the datetime's zone: 14:30 UTC is 22:30 in Beijing.
    assert in_quiet_hours(datetime(2026, 11, 23, 14, 30, tzinfo=UTC), *night)
    assert in_quiet_hours(datetime(2026, 11, 23, 14, 30), *night)  # naive: UTC
    lunch = (time(12, 0), time(13, 30))
    assert in_quiet_hours(beijing(23, 12, 0), *lunch) and in_quiet_hours(beijing(23, 13, 29), *lunch)
    assert not in_quiet_hours(beijing(23, 13, 30), *lunch) and not in_quiet_hours(beijing(23, 11, 59), *lunch)
    assert not in_quiet_hours(beijing(23, 23, 0), None, None)
    assert not in_quiet_hours(beijing(23, 23, 0), time(22, 0), None)  # half set: none
    assert not in_quiet_hours(beijing(23, 23, 0), time(8, 0), time(8, 0))  # empty span


def test_immediate_alerts_wait_out_quiet_hours_and_go_out_after(engine, hook):
    fids = _webhook_world(engine, hook, n=3, subscribers=("day",))
    with session(engine) as s:
        add_subscriber(s, "night", "webhook", hook.url("night"), quiet_from=time(22, 0),
                       quiet_until=time(7, 0))
        more = add_finding(s, s.exec(select(Agency)).first(), "late", "error", year=2030)
        create_alerts(s, [more], NOW)
    fids.append(more.id)

    evening = run(deliver(engine, now=beijing(23, 23, 30)))
    assert {o.subscriber for o in evening.sent} == {"day"} and evening.sent_count == 4
    assert evening.quiet == 1 and evening.quiet_subscribers == ["night"] and not evening.errors
    assert all(r["path"] == "day" for r in hook.received)
    assert deliveries_by_subscriber(engine)["night"] == [(more.id, "pending")]  # kept, not lost

    dawn = run(deliver(engine, now=beijing(24, 6, 59)))
    assert dawn.sent == [] and dawn.quiet == 1

    morning = run(deliver(engine, now=beijing(24, 7, 0)))
    assert [o.subscriber for o in morning.sent] == ["night"] and morning.quiet == 0
    (night,) = [r["body"] for r in hook.accepted() if r["path"] == "night"]
    assert night["kind"] == "alert" and night["alerts"][0]["finding_id"] == more.id
    assert not night["possible_repeat"]
    assert states(engine) == {"sent": 5}
    assert run(deliver(engine, now=beijing(24, 7, 5))).sent == []


def test_alerts_piled_up_in_quiet_hours_go_out_one_message_each(engine, hook):
    with session(engine) as s:
        add_subscriber(s, "night", "webhook", hook.url("night"), quiet_from=time(21, 30),
                       quiet_until=time(6, 0))
        agency = add_agency(s, "宁波市北仑区民政局", "330206")
        for i in range(3):  # three sweeps in the night, each opening a finding
            create_alerts(s, [add_finding(s, agency, "late", "error", year=2020 + i)], NOW)
    for hour in (22, 23):
        assert run(deliver(engine, now=beijing(23, hour))).sent == []
    assert run(deliver(engine, now=beijing(24, 1))).quiet == 3
    report = run(deliver(engine, now=beijing(24, 6, 0)))
    assert [len(o.delivery_ids) for o in report.sent] == [1, 1, 1]
    assert [r["body"]["alerts"][0]["year"] for r in hook.accepted()] == [2020, 2021, 2022]


def test_a_digest_in_quiet_hours_is_held_and_sent_when_they_end(engine, hook):
    with session(engine) as s:
        add_subscriber(s, "daily", "webhook", hook.url("daily"), mode="digest", min_severity="info",
                       quiet_from=time(22, 0), quiet_until=time(7, 0))
        add_subscriber(s, "daily-plain", "webhook", hook.url("plain"), mode="digest", min_severity="info")
        agency = add_agency(s, "宁波市镇海区民政局", "330211")
        create_alerts(s, [add_finding(s, agency, "late", "error", year=y) for y in (2022, 2023)], NOW)

    # The digest runs at 06:00: inside "daily"'s quiet hours.
    early = run(deliver(engine, now=beijing(24, 6, 0), digest=True))
    assert [o.subscriber for o in early.sent] == ["daily-plain"] and early.quiet == 2
    assert early.quiet_subscribers == ["daily"]
    with session(engine) as s:
        held = s.exec(select(AlertDelivery).join(Subscriber).where(Subscriber.name == "daily")).all()
    assert {(d.state, d.attempts, d.last_error) for d in held} == {("pending", 0, QUIET_HELD)}

    # An immediate run still in the quiet hours sends nothing; the first one after them sends the
    # held digest, as one digest.
    assert run(deliver(engine, now=beijing(24, 6, 45))).sent == []
    after = run(deliver(engine, now=beijing(24, 7, 5)))
    assert [(o.subscriber, len(o.delivery_ids)) for o in after.sent] == [("daily", 2)]
    (digest,) = [r["body"] for r in hook.accepted() if r["path"] == "daily"]
    assert digest["kind"] == "digest" and digest["count"] == 2
    assert digest["text"].startswith("【政务公开告警汇总】2026年11月24日，共 2 条")
    assert states(engine) == {"sent": 4}

    # A digest subscriber that was not held is still sent only by the digest run.
    with session(engine) as s:
        create_alerts(s, [add_finding(s, agency, "balance", "error", year=2024)], NOW)
    assert run(deliver(engine, now=beijing(24, 8, 0))).sent == []
    assert {o.subscriber for o in run(deliver(engine, now=beijing(24, 8, 30), digest=True)).sent} == {
        "daily", "daily-plain"}


# ---- subscribers from the configuration ----------------------------------------------------------


def test_config_subscribers_with_quiet_hours_are_synced_by_name(engine, hook, tmp_path):
    from compliance.channels import use_settings
    from xxgk.config import ConfigError, Settings, load_settings

    with session(engine) as s:
        agency = add_agency(s, "宁波市镇海区人力资源和社会保障局", "330211", "department")
        s.add(AgencyAlias(agency_id=agency.id, alias="区人力社保局", key="区人力社保局"))
        add_subscriber(s, "已有", "console", min_severity="error")
    toml = tmp_path / "xxgk.toml"
    toml.write_text(f"""
[[subscribers]]
name = "宁波夜间免打扰"
channel = "webhook"
target = "{hook.url('cfg')}"
region = "330200"
level = "department"
min_severity = "info"
quiet_hours = "22:00-07:00"

[[subscribers]]
name = "已有"
channel = "webhook"
target = "{hook.url('old')}"
agency = "宁波市镇海区人力资源和社会保障局"
mode = "digest"
quiet_hours = "12:00–13:30"
""", encoding="utf-8")
    settings = load_settings(toml)
    with session(engine) as s:
        first = sync_subscribers(s, settings.subscribers, NOW)
    assert first.added == ["宁波夜间免打扰"] and first.updated == ["已有"] and not first.problems
    with session(engine) as s:
        subs = {x.name: x for x in s.exec(select(Subscriber)).all()}
    night = subs["宁波夜间免打扰"]
    assert (night.channel, night.target, night.region_code, night.level, night.min_severity, night.mode) == (
        "webhook", hook.url("cfg"), "330200", "department", "info", "immediate")
    assert (night.quiet_from, night.quiet_until, night.active) == (time(22, 0), time(7, 0), True)
    old = subs["已有"]
    assert (old.channel, old.agency_id, old.mode, old.min_severity) == (
        "webhook", agency.id, "digest", "warning")
    assert (old.quiet_from, old.quiet_until) == (time(12, 0), time(13, 30))
    with session(engine) as s:
        again = sync_subscribers(s, settings.subscribers, NOW)
    assert again.unchanged == ["宁波夜间免打扰", "已有"] and not again.added and not again.updated

    # deliver() syncs the configuration given to use_settings, and honours its quiet hours.
    with session(engine) as s:
        create_alerts(s, [add_finding(s, agency, "late", "warning")], NOW)
    off = Settings(subscribers=[{**settings.subscribers[0].model_dump(), "quiet_hours": None},
                                settings.subscribers[1].model_dump()])
    use_settings(settings)
    try:
        quiet = run(deliver(engine, now=beijing(23, 23, 0)))
        assert quiet.synced is not None and quiet.synced.unchanged == ["宁波夜间免打扰", "已有"]
        assert quiet.sent == [] and quiet.quiet_subscribers == ["宁波夜间免打扰"]
        use_settings(off)  # the quiet hours taken out of the configuration: sent at once
        loud = run(deliver(engine, now=beijing(23, 23, 5)))
        assert loud.synced.updated == ["宁波夜间免打扰"] and [o.subscriber for o in loud.sent] == ["宁波夜间免打扰"]
    finally:
        use_settings(None)

    # Deactivated in the configuration: its waiting alerts are cancelled.
    with session(engine) as s:
        create_alerts(s, [add_finding(s, agency, "balance", "error", year=2031)], NOW)
        gone = sync_subscribers(s, [settings.subscribers[0].model_copy(update={"active": False})], NOW)
    assert gone.updated == ["宁波夜间免打扰"] and gone.cancelled == 1

    # Entries that cannot be used are named, and their rows are left alone.
    bad = Settings(subscribers=[
        {"name": "鸽子", "channel": "pigeon"},
        {"name": "已有", "channel": "webhook", "target": "ftp://x"},
        {"name": "某局", "channel": "console", "agency": "不存在的局"},
    ])
    with session(engine) as s:
        problems = sync_subscribers(s, bad.subscribers, NOW).problems
        assert s.exec(select(Subscriber).where(Subscriber.name == "已有")).one().channel == "webhook"
    assert len(problems) == 3 and problems[0].startswith("订阅者「鸽子」：未知的告警渠道：pigeon")
    assert "webhook 地址必须以 http:// 或 https:// 开头" in problems[1] and "未知单位：不存在的局" in problems[2]

    # Quiet hours that are not HH:MM-HH:MM are a configuration error, said clearly.
    for value, message in [("22:00", "免打扰时段应写成 HH:MM-HH:MM"), ("22:00-24:00", "时间无效"),
                           ("07:00-07:00", "开始和结束不能相同")]:
        toml.write_text(f'[[subscribers]]\nname = "x"\nchannel = "console"\nquiet_hours = "{value}"\n',
                        encoding="utf-8")
        with pytest.raises(ConfigError) as exc:
            load_settings(toml)
        assert "subscribers.0.quiet_hours" in str(exc.value) and message in str(exc.value), str(exc.value)
    toml.write_text('[[subscribers]]\nname = "x"\nchannel = "console"\n[[subscribers]]\nname = "x"\n'
                    'channel = "console"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="订阅者名称重复：x"):
        load_settings(toml)


# ---- crash safety: real processes, SIGKILLed at each step ----------------------------------


def _env(db_url: str, crash: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XXGK_") and "proxy" not in k.lower()}
    env["XXGK_DATABASE_URL"] = db_url
    if crash:
        env[CRASH_ENV] = crash
    return env


def xxgk_send(db_url: str, cwd: Path, crash: str | None = None, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xxgk.cli", "alerts", "send", *args], cwd=cwd,
                          env=_env(db_url, crash), capture_output=True, text=True, timeout=120)


_DELIVER_SCRIPT = """
import asyncio, sys
from datetime import UTC, datetime
from compliance.alerts import deliver
from db.engine import make_engine
report = asyncio.run(deliver(make_engine(sys.argv[1]), now=datetime.now(UTC), digest=sys.argv[2] == "1"))
print(report.sent_count, len(report.errors))
"""


def deliver_process(db_url: str, cwd: Path, crash: str | None = None, digest: bool = False):
    """deliver() in a fresh process (lighter than the CLI: no migration check)."""
    return subprocess.run([sys.executable, "-c", _DELIVER_SCRIPT, db_url, "1" if digest else "0"], cwd=cwd,
                          env=_env(db_url, crash), capture_output=True, text=True, timeout=120)


def arrivals(hook: WebhookServer) -> list[tuple[tuple[str, int], bool, str]]:
    """Per accepted message and alert: ((subscriber, finding id), possible_repeat, message text)."""
    out = []
    for r in hook.accepted():
        body = r["body"]
        for item in body["alerts"]:
            out.append(((body["subscriber"], item["finding_id"]), body["possible_repeat"], body["text"]))
    return out


def routed(engine) -> set[tuple[str, int]]:
    return {(name, fid) for name, rows in deliveries_by_subscriber(engine).items() for fid, _ in rows}


def assert_exactly_once_except(engine, hook, repeated: Counter, marked_first: set = frozenset()) -> None:
    """Every routed alert arrived; an alert arrived more than once only as many extra times as
    `repeated` says, each extra arrival marked as a possible repeat; no other arrival is marked,
    except the first arrival of the alerts in `marked_first` (a crash interrupted them before the
    channel was called, so their first arrival is flagged too)."""
    got = arrivals(hook)
    seen: Counter = Counter()
    for key, repeat, text in got:
        seen[key] += 1
        if seen[key] > 1:
            assert repeat and text.startswith(REPEAT), f"unmarked repeat of {key}"
        elif key in marked_first:
            assert repeat and text.startswith(REPEAT)
        else:
            assert not repeat and REPEAT not in text, f"{key} marked as a repeat but it is the first arrival"
    expected = routed(engine)
    assert set(seen) == expected, f"lost: {expected - set(seen)}; unexpected: {set(seen) - expected}"
    assert {k: n - 1 for k, n in seen.items() if n > 1} == {k: n for k, n in repeated.items() if n}


@pytest.mark.parametrize("point", ["claimed", "delivered", "recorded"])
def test_crash_at_each_step_of_the_protocol_loses_nothing(engine, db_url, hook, tmp_path, point):
    """`xxgk alerts send` SIGKILLed at the 3rd time it reaches a step; a second run completes."""
    fids = _webhook_world(engine, hook, n=3, subscribers=("a", "b"))  # 6 deliveries: a1 a2 a3 b1 b2 b3
    killed = xxgk_send(db_url, tmp_path, f"{point}:3")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    third = ("a", fids[2])
    before = arrivals(hook)
    with session(engine) as s:
        interrupted = s.exec(select(AlertDelivery).where(AlertDelivery.state == "sending")).all()
    if point == "claimed":  # marked sending, channel not called
        assert [k for k, _, _ in before] == [("a", fids[0]), ("a", fids[1])] and len(interrupted) == 1
    elif point == "delivered":  # the channel succeeded, not recorded yet
        assert [k for k, _, _ in before] == [("a", fids[0]), ("a", fids[1]), third] and len(interrupted) == 1
    else:  # recorded, killed before the next one
        assert [k for k, _, _ in before] == [("a", fids[0]), ("a", fids[1]), third] and not interrupted

    done = xxgk_send(db_url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert states(engine) == {"sent": 6}
    if point == "recorded":
        assert "可能重复" not in done.stdout
        assert_exactly_once_except(engine, hook, Counter())
    else:
        assert "（可能重复）" in done.stdout and "中断后重发" in done.stdout
        assert arrivals(hook)[len(before)][0] == third  # the interrupted one is sent first
        assert_exactly_once_except(engine, hook, Counter({third: 1 if point == "delivered" else 0}),
                                   marked_first={third} if point == "claimed" else set())
    with session(engine) as s:
        d = s.exec(select(AlertDelivery).join(Alert).join(Subscriber)
                   .where(Alert.finding_id == fids[2], Subscriber.name == "a")).one()
    assert d.possible_repeat is (point != "recorded") and d.attempts == (2 if point != "recorded" else 1)


def test_crash_during_the_recovery_send_keeps_the_repeat_mark(engine, db_url, hook, tmp_path):
    fids = _webhook_world(engine, hook, n=2)
    assert deliver_process(db_url, tmp_path, "delivered:1").returncode == -signal.SIGKILL
    assert deliver_process(db_url, tmp_path, "delivered:1").returncode == -signal.SIGKILL  # the resend, again
    assert deliver_process(db_url, tmp_path).returncode == 0
    assert_exactly_once_except(engine, hook, Counter({("a", fids[0]): 2}))
    assert states(engine) == {"sent": 2}


def test_crash_of_a_digest_resends_that_digest_marked_and_the_rest_unmarked(engine, db_url, hook, tmp_path):
    with session(engine) as s:
        agency = add_agency(s, "宁波市镇海区民政局", "330211")
        add_subscriber(s, "daily", "webhook", hook.url("daily"), mode="digest")
        first = [add_finding(s, agency, rule, "error") for rule in ("balance", "late", "row_total")]
        create_alerts(s, first, NOW)
    assert deliver_process(db_url, tmp_path, "delivered:1", digest=True).returncode == -signal.SIGKILL
    assert len(hook.accepted()) == 1 and hook.accepted()[0]["body"]["count"] == 3
    with session(engine) as s:  # a new alert arrives before the next digest run
        later = add_finding(s, s.get(Agency, agency.id), "stale_text", "warning")
        create_alerts(s, [later], NOW)
    assert deliver_process(db_url, tmp_path, digest=True).returncode == 0
    bodies = [r["body"] for r in hook.accepted()]
    assert [(b["count"], b["possible_repeat"], b["text"].startswith(REPEAT)) for b in bodies] == [
        (3, False, False), (3, True, True), (1, False, False)]
    assert sorted(a["finding_id"] for a in bodies[1]["alerts"]) == sorted(f.id for f in first)
    assert [a["finding_id"] for a in bodies[2]["alerts"]] == [later.id]
    assert states(engine) == {"sent": 4}


@pytest.mark.slow
def test_random_crash_points_never_lose_or_silently_repeat_an_alert(engine, db_url, hook, tmp_path):
    """20 runs, each SIGKILLed at a random step of a random delivery (seeded), with new alerts
    arriving between runs; a final run completes. Checked on what the webhook server received."""
    rng = random.Random(20261123)
    with session(engine) as s:
        agencies = [add_agency(s, f"测试县第{i}局", f"3302{i:02d}", "department") for i in range(1, 5)]
        add_subscriber(s, "a", "webhook", hook.url("a"))
        add_subscriber(s, "b", "webhook", hook.url("b"), region_code="330201")
        add_subscriber(s, "c", "webhook", hook.url("c"), min_severity="error")

    repeated: Counter = Counter()
    marked_first: set = set()
    sending: set = set()
    kills = 0
    rules = itertools.cycle(["balance", "late", "missing_report", "stale_text", "carryover_mismatch"])
    for _ in range(20):
        with session(engine) as s:
            new = [add_finding(s, s.get(Agency, rng.choice(agencies).id), next(rules),
                               rng.choice(["error", "warning"]), year=rng.randrange(2019, 2025))
                   for _ in range(rng.randrange(0, 3))]
            create_alerts(s, new, NOW)
        point = rng.choice(["claimed", "delivered", "recorded"])
        nth = rng.randrange(1, 4)
        before = len(hook.accepted())
        proc = deliver_process(db_url, tmp_path, f"{point}:{nth}")
        if proc.returncode == 0:
            continue  # fewer deliveries waiting than the kill point: ran to the end
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        kills += 1
        with session(engine) as s:
            interrupted = {tuple(row) for row in s.exec(
                select(Subscriber.name, Alert.finding_id).select_from(AlertDelivery)
                .join(Subscriber).join(Alert).where(AlertDelivery.state == "sending")).all()}
        # at most one interrupted delivery per subscriber: its own are recovered before anything else
        assert len({name for name, _ in interrupted}) == len(interrupted)
        got = arrivals(hook)
        if point == "recorded":
            assert len(hook.accepted()) == before + nth and interrupted <= sending
        elif point == "delivered":  # the server has it, the database does not know yet
            assert len(hook.accepted()) == before + nth and got[-1][0] in interrupted
            repeated[got[-1][0]] += 1
        else:  # claimed: the channel was not called for it
            assert len(hook.accepted()) == before + nth - 1
        arrived = {k for k, _, _ in got}
        marked_first |= {key for key in interrupted if key not in arrived}  # its first arrival will be marked
        sending = interrupted
    assert kills >= 10  # the seed gives a real mix of crashes
    assert deliver_process(db_url, tmp_path).returncode == 0
    assert states(engine) == {"sent": len(routed(engine))}
    assert_exactly_once_except(engine, hook, repeated, marked_first)
    assert sum(repeated.values()) >= 3


# ---- the command line ----------------------------------------------------------------------


def xxgk(db_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xxgk.cli", "alerts", *args], cwd=cwd, env=_env(db_url),
                          capture_output=True, text=True, timeout=120)


def test_cli_rejects_bad_input_in_chinese_with_status_2(db_url, engine, tmp_path):
    with session(engine) as s:
        add_agency(s, "宁波市镇海区民政局", "330211")
    cases = [
        (["subscribe", "x", "--channel", "pigeon"], "未知的告警渠道：pigeon"),
        (["subscribe", "x"], "请用 --channel 指定发送渠道"),
        (["subscribe", "x", "--channel", "webhook"], "webhook 渠道需要目标地址"),
        (["subscribe", "x", "--channel", "webhook", "--target", "example.org/hook"], "http:// 或 https://"),
        (["subscribe", "x", "--channel", "console", "--agency", "不存在的局"], "未知单位：不存在的局"),
        (["subscribe", "x", "--channel", "console", "--region", "浙江"], "地区代码无效：浙江"),
        (["subscribe", "x", "--channel", "console", "--region", "33021"], "地区代码无效：33021"),
        (["subscribe", "x", "--channel", "console", "--level", "county"], "未知层级：county"),
        (["subscribe", "x", "--channel", "console", "--min-severity", "fatal"], "未知级别：fatal"),
        (["unsubscribe", "nobody"], "未知订阅者：nobody"),
    ]
    for args, message in cases:
        proc = xxgk(db_url, tmp_path, *args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert proc.stderr.startswith("错误：") and message in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    with session(engine) as s:
        assert s.exec(select(Subscriber)).all() == []


def test_cli_subscribe_send_pending_unsubscribe(db_url, engine, hook, tmp_path):
    with session(engine) as s:
        agency = add_agency(s, "宁波市镇海区民政局", "330211", "department")
    ok = xxgk(db_url, tmp_path, "subscribe", "镇海督查", "--channel", "webhook", "--target", hook.url("zh"),
              "--region", "330200", "--level", "department", "--agency", "宁波市镇海区民政局",
              "--min-severity", "error")
    assert ok.returncode == 0, ok.stderr
    assert "已添加订阅者「镇海督查」" in ok.stdout and "330200 及下辖" in ok.stdout and "最低级别：错误" in ok.stdout
    screen = xxgk(db_url, tmp_path, "subscribe", "屏幕", "--channel", "console", "--min-severity", "info")
    assert screen.returncode == 0
    assert xxgk(db_url, tmp_path, "subscribe", "日报", "--channel", "console", "--digest").returncode == 0
    dup = xxgk(db_url, tmp_path, "subscribe", "屏幕", "--channel", "console")
    assert dup.returncode == 2 and "订阅者已存在：屏幕" in dup.stderr

    listing = xxgk(db_url, tmp_path, "subscribers")
    assert listing.returncode == 0
    assert "镇海督查" in listing.stdout and hook.url("zh") in listing.stdout and "每日汇总" in listing.stdout

    with session(engine) as s:
        agency = s.get(Agency, agency.id)
        create_alerts(s, [add_finding(s, agency, "late", "error", message="逾期 30 天"),
                          add_finding(s, agency, "stale_text", "warning")], NOW)
    pending = xxgk(db_url, tmp_path, "pending")
    assert pending.returncode == 0
    assert "镇海督查［webhook，即时］：1 条" in pending.stdout and "屏幕［console，即时］：2 条" in pending.stdout
    assert "日报［console，每日汇总］：2 条" in pending.stdout and "合计：5 条" in pending.stdout

    sent = xxgk(db_url, tmp_path, "send")
    assert sent.returncode == 0, sent.stderr
    assert "【政务公开告警·错误】逾期发布" in sent.stdout  # the console channel printed it
    assert "已发送  镇海督查［webhook］：逾期发布：宁波市镇海区民政局 2023 年度" in sent.stdout
    assert "即时告警：发送 3 条消息（3 条告警）" in sent.stdout
    assert len(hook.accepted()) == 1
    assert "日报［console，每日汇总］：2 条" in xxgk(db_url, tmp_path, "pending").stdout

    digest = xxgk(db_url, tmp_path, "send", "--digest")
    assert digest.returncode == 0 and "【政务公开告警汇总】" in digest.stdout and "▶ 宁波市镇海区民政局" in digest.stdout
    assert "没有等待发送的告警" in xxgk(db_url, tmp_path, "pending").stdout

    with session(engine) as s:
        create_alerts(s, [add_finding(s, s.get(Agency, agency.id), "balance", "error")], NOW)
    gone = xxgk(db_url, tmp_path, "unsubscribe", "屏幕")
    assert gone.returncode == 0 and "已停用订阅者「屏幕」，取消了 1 条尚未发送的告警" in gone.stdout
    again = xxgk(db_url, tmp_path, "subscribe", "屏幕", "--channel", "console", "--digest")
    assert again.returncode == 0 and "已重新启用订阅者「屏幕」" in again.stdout


def test_cli_send_reports_failures_with_status_1(db_url, engine, hook, tmp_path):
    _webhook_world(engine, hook, n=2)
    hook.status = 502
    proc = xxgk_send(db_url, tmp_path)
    assert proc.returncode == 1
    assert "发送失败  a［webhook］" in proc.stderr and "HTTP 502" in proc.stderr and "下次重试" in proc.stderr
    assert "失败 1 条" in proc.stdout and "1 条顺延到下次" in proc.stdout
    hook.status = 200
    assert xxgk_send(db_url, tmp_path).returncode == 0
    assert states(engine) == {"sent": 2}
