"""The alert channels of compliance/channels.py beyond console and webhook: Apprise (企业微信, 钉钉,
飞书 group robots, e-mail, any Apprise URL) and Telegram — against real servers on 127.0.0.1 run
by this file (an aiohttp HTTP server that also plays the robots' APIs and a minimal Telegram Bot
API, and a minimal SMTP server), never the internet."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import json
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlmodel import select

from compliance.alerts import AlertContext, create_alerts, deliver, render_alert, render_digest
from compliance.channels import (
    APPRISE_CHANNELS,
    TELEGRAM_LIMIT,
    AppriseChannel,
    DeliveryError,
    OutgoingMessage,
    TelegramChannel,
    apprise_url,
    channel_for,
    channel_names,
    check_target,
    display_target,
    html_to_plain,
    split_telegram_html,
    split_text,
    telegram_html_ok,
    use_settings,
)
from db.engine import session
from db.models import Agency, AlertDelivery, Document, Report, Subscriber, TrackedFinding
from xxgk.config import Settings

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
TOKEN = "123456789:AAH3fake-TOKEN_for_tests_only_xyz0123"
DING_TOKEN = "d1n9t0k3n5ecret0123456789abcdef"
WECOM_KEY = "0b1e2c3d-4e5f-6a7b-8c9d-wecomsecret42"
FEISHU_TOKEN = "f3i5hu-t0k3n-5ecret-0123456789"
REPO = Path(__file__).resolve().parent.parent


# ---- a local HTTP server: the robots' APIs, a JSON receiver, a Telegram Bot API -----------------


class LocalServer:
    """An aiohttp server on 127.0.0.1 in its own thread. Every request is recorded (method path,
    query, body) and answered by `reply(record)` → (status, JSON), by default a success in the
    style of the API the path imitates."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.reply: Callable[[dict[str, Any]], tuple[int, Any] | None] = lambda record: None
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0
        self._message_id = 0

    def __enter__(self) -> LocalServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: Any) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        body: Any
        if request.content_type == "application/json":
            body = json.loads(raw or b"null")
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            body = dict(await request.post())
        else:
            body = raw.decode("utf-8", "replace")
        record = {"method": request.method, "path": request.path, "query": dict(request.query), "body": body,
                  "headers": dict(request.headers)}
        with self._lock:
            self.requests.append(record)
        answer = self.reply(record)
        if answer is None:
            answer = self._default(record)
        status, payload = answer
        return web.json_response(payload, status=status)

    def _default(self, record: dict[str, Any]) -> tuple[int, Any]:
        path = record["path"]
        if path.startswith("/bot"):
            method = path.rsplit("/", 1)[-1]
            if method == "getMe":
                return 200, {"ok": True, "result": {"id": 42, "is_bot": True, "first_name": "政务公开督查",
                                                    "username": "xxgk_test_bot"}}
            if method == "sendMessage":
                with self._lock:
                    self._message_id += 1
                    mid = self._message_id
                chat = record["body"].get("chat_id")
                return 200, {"ok": True, "result": {
                    "message_id": mid, "date": 1700000000, "text": record["body"].get("text", ""),
                    "chat": {"id": int(chat) if str(chat).lstrip("-").isdigit() else -1, "type": "group",
                             "title": "督查群"}}}
            return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
        if path.startswith(("/robot/send", "/cgi-bin/")):
            return 200, {"errcode": 0, "errmsg": "ok"}
        if path.startswith("/open-apis/"):
            return 200, {"code": 0, "msg": "success", "data": {}}
        return 200, {"ok": True}

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def calls(self, prefix: str = "") -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["path"].startswith(prefix)]

    def telegram(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [r["body"] for r in self.calls("/bot") if r["path"].endswith("/" + method)]


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch) -> None:
    """Loopback requests must not go to a proxy configured on the machine."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as s:
        yield s


@pytest.fixture
def robots(server, monkeypatch) -> LocalServer:
    """Apprise's 钉钉, 企业微信 and 飞书 plugins have their API host built in: point them at the
    local server (the rest of each plugin — payload, signing, error handling — runs as is)."""
    from apprise.plugins.dingtalk import NotifyDingTalk
    from apprise.plugins.feishu import NotifyFeishu
    from apprise.plugins.lark import NotifyLark
    from apprise.plugins.wecombot import NotifyWeComBot

    monkeypatch.setattr(NotifyDingTalk, "notify_url", server.url("/robot/send?access_token={token}"))
    monkeypatch.setattr(NotifyWeComBot, "notify_url", server.url("/cgi-bin/webhook/send?key={key}"))
    monkeypatch.setattr(NotifyFeishu, "notify_url", server.url("/open-apis/bot/v2/hook/{token}/"))
    monkeypatch.setattr(NotifyLark, "notify_url", server.url("/open-apis/bot/v2/hook/"))
    return server


def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again: nothing listens there


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# ---- messages built by the product's own renderers ---------------------------------------------


def subscriber(channel: str, target: str, name: str = "督查") -> Subscriber:
    return Subscriber(id=1, name=name, channel=channel, target=target, created_at=NOW)


def context(n: int = 1, *, agency_name: str = "宁波市镇海区<人力>&社保局", region: str = "330211",
            url: str = "https://www.zh.gov.cn/art/2024/3/1/art_1.html?a=1&b=2") -> AlertContext:
    agency = Agency(id=n, name=agency_name, region_code=region, level="department", registered=True)
    finding = TrackedFinding(id=100 + n, key=f"k{n}", agency_id=n, year=2023, rule="late", severity="error",
                             where="发布日期", message=f"2023年度报告于2024年3月1日发布，逾期 {n} 天 <b>不是标签</b>",
                             source="report", state="open", opened_at=NOW, last_seen_at=NOW)
    return AlertContext(delivery_id=n, alert_id=n, finding=finding, agency=agency, region_name="宁波市镇海区",
                        report_url=url, report_title=f"镇海区人社局2023年政府信息公开工作年度报告 #{n}")


def alert(sub: Subscriber) -> OutgoingMessage:
    return render_alert(context(), sub)


def digest(sub: Subscriber, n: int) -> OutgoingMessage:
    regions = ["330211", "330206", "330106", "320102"]
    return render_digest([context(i, agency_name=f"某某市某某区第{i}局", region=regions[i % 4]) for i in range(1, n + 1)],
                         sub, NOW)


def strip_part_marks(parts: list[str]) -> list[str]:
    assert all(re.match(r"（政务公开告警 \d+/\d+）\n", p) for p in parts), parts[0][:40]
    return [p.split("\n", 1)[1] for p in parts]


# ---- registry and targets ---------------------------------------------------------------------


def test_new_channels_are_registered_with_target_checks():
    assert {"apprise", "wecom", "dingtalk", "feishu", "email", "telegram", "console", "webhook"} <= set(channel_names())
    ok = {
        "wecom": [f"wecombot://{WECOM_KEY}", f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}"],
        "dingtalk": [f"dingtalk://{DING_TOKEN}/", f"dingtalk://SEC0123abcd@{DING_TOKEN}/",
                     f"https://oapi.dingtalk.com/robot/send?access_token={DING_TOKEN}"],
        "feishu": [f"feishu://{FEISHU_TOKEN}/", f"https://open.feishu.cn/open-apis/bot/v2/hook/{FEISHU_TOKEN}"],
        "email": ["mailtos://user:pa55word@smtp.example.gov.cn?to=duban@example.gov.cn"],
        "apprise": ["json://127.0.0.1:8080/hook", f"dingtalk://{DING_TOKEN}/", "mailto://u:p@example.gov.cn"],
        "telegram": ["123456789", "-1001234567890", "@xxgk_alerts"],
    }
    for channel, targets in ok.items():
        for target in targets:
            assert check_target(channel, target) is None, (channel, target)
    assert apprise_url(f"https://oapi.dingtalk.com/robot/send?access_token={DING_TOKEN}") == f"dingtalk://{DING_TOKEN}/"
    assert apprise_url(f"https://open.feishu.cn/open-apis/bot/v2/hook/{FEISHU_TOKEN}") == f"feishu://{FEISHU_TOKEN}/"
    bad = [
        ("wecom", f"dingtalk://{DING_TOKEN}/", "wecom 渠道的目标应为 wecombot://"),
        ("dingtalk", "", "dingtalk 渠道需要目标地址"),
        ("email", f"feishu://{FEISHU_TOKEN}/", "而不是 feishu:// 地址"),
        ("apprise", f"nosuchservice://{DING_TOKEN}", "无法识别的nosuchservice:// 地址"),
        ("telegram", "", "telegram 渠道需要聊天编号"),
        ("telegram", "督查群", "Telegram 聊天编号无效"),
    ]
    for channel, target, message in bad:
        problem = check_target(channel, target)
        assert problem and message in problem, (channel, problem)
        assert DING_TOKEN not in problem and FEISHU_TOKEN not in problem
    # Listings and confirmations show targets with their secrets masked.
    for channel, target, secret in [("dingtalk", f"https://oapi.dingtalk.com/robot/send?access_token={DING_TOKEN}",
                                     DING_TOKEN),
                                    ("wecom", f"wecombot://{WECOM_KEY}", WECOM_KEY),
                                    ("email", "mailtos://user:pa55word@smtp.example.gov.cn?to=d@example.gov.cn",
                                     "pa55word")]:
        shown = display_target(channel, target)
        assert secret not in shown and shown.split("://")[0] in ("dingtalk", "wecombot", "mailtos"), shown
    assert display_target("webhook", "http://example.org/hook") == "http://example.org/hook"
    assert display_target("telegram", "-100123") == "-100123"


# ---- Apprise -------------------------------------------------------------------------------------


def test_apprise_json_to_a_local_receiver(server):
    sub = subscriber("apprise", f"json://127.0.0.1:{server.port}/notify/zh")
    message = alert(sub)
    run(channel_for("apprise").send(message))
    (call,) = server.calls("/notify/zh")
    assert call["method"] == "POST"
    assert call["body"]["title"] == message.title
    assert call["body"]["message"] == message.text
    assert "https://www.zh.gov.cn/art/2024/3/1/art_1.html?a=1&b=2" in call["body"]["message"]


def test_dingtalk_wecom_and_feishu_robots_get_the_plain_text(robots):
    ding = subscriber("dingtalk", f"https://oapi.dingtalk.com/robot/send?access_token={DING_TOKEN}")
    signed = subscriber("dingtalk", f"dingtalk://SEC0123abcdef@{DING_TOKEN}/")
    wecom = subscriber("wecom", f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}")
    feishu = subscriber("feishu", f"feishu://{FEISHU_TOKEN}/")
    for sub in (ding, signed, wecom, feishu):
        run(channel_for(sub.channel).send(alert(sub)))
    text = alert(ding).text
    d1, d2 = robots.calls("/robot/send")
    assert d1["query"]["access_token"] == DING_TOKEN and "sign" not in d1["query"]
    assert d1["body"]["msgtype"] == "text" and d1["body"]["text"]["content"] == text  # no title line added
    assert d2["query"]["access_token"] == DING_TOKEN and d2["query"]["sign"] and d2["query"]["timestamp"]  # 加签
    (w,) = robots.calls("/cgi-bin/webhook/send")
    assert w["query"]["key"] == WECOM_KEY and w["body"] == {"msgtype": "text", "text": {"content": text}}
    (f,) = robots.calls("/open-apis/bot/v2/hook/")
    assert f["path"] == f"/open-apis/bot/v2/hook/{FEISHU_TOKEN}/"
    assert f["body"] == {"msg_type": "text", "content": {"text": text}}
    assert text.startswith("【政务公开告警·错误】逾期发布") and "宁波市镇海区<人力>&社保局" in text


def test_a_long_digest_to_wecom_goes_in_parts_under_its_byte_limit(robots):
    sub = subscriber("wecom", f"wecombot://{WECOM_KEY}")
    message = digest(sub, 20)
    assert len(message.text.encode()) > 3 * 2048
    run(AppriseChannel(allowed=("wecombot",), min_interval=0).send(message))  # no 5.5 s between parts
    contents = [c["body"]["text"]["content"] for c in robots.calls("/cgi-bin/webhook/send")]
    assert len(contents) >= 4
    assert all(len(c.encode("utf-8")) <= 2048 for c in contents)
    assert contents[0].startswith(f"（政务公开告警 1/{len(contents)}）\n【政务公开告警汇总】")
    assert all("政务公开告警" in c for c in contents)  # a robot's keyword is in every part
    # Split at line ends: nothing lost, nothing cut.
    assert "\n".join(strip_part_marks(contents)) == message.text
    # 钉钉 takes it in one message.
    ding = subscriber("dingtalk", f"dingtalk://{DING_TOKEN}/")
    run(channel_for("dingtalk").send(digest(ding, 20)))
    (one,) = robots.calls("/robot/send")
    assert one["body"]["text"]["content"] == digest(ding, 20).text


def test_apprise_failures_are_delivery_errors_without_secrets(server, robots):
    port = dead_port()
    cases = [
        (f"json://duban:S3cretPassw0rd@127.0.0.1:{port}/hook", "S3cretPassw0rd", "无法连接"),
    ]
    for target, secret, reason in cases:
        with pytest.raises(DeliveryError) as exc:
            run(AppriseChannel().send(alert(subscriber("apprise", target))))
        text = str(exc.value)
        assert secret not in text and reason in text and "127.0.0.1" in text, text
        assert not exc.value.maybe_delivered

    server.reply = lambda record: (500, {"errcode": 500}) if record["path"].startswith("/robot/") else None
    with pytest.raises(DeliveryError) as exc:
        run(channel_for("dingtalk").send(alert(subscriber("dingtalk", f"dingtalk://{DING_TOKEN}/"))))
    text = str(exc.value)
    assert text.startswith("钉钉群机器人发送失败（dingtalk://") and "HTTP 500" in text
    assert DING_TOKEN not in text

    server.reply = lambda record: (403, {}) if record["path"].startswith("/cgi-bin/") else None
    with pytest.raises(DeliveryError) as exc:
        run(channel_for("wecom").send(alert(subscriber("wecom", f"wecombot://{WECOM_KEY}"))))
    assert "企业微信群机器人发送失败" in str(exc.value) and "HTTP 403" in str(exc.value)
    assert WECOM_KEY not in str(exc.value)

    # A target the channel does not take, or none Apprise knows.
    with pytest.raises(DeliveryError) as exc:
        run(channel_for("wecom").send(alert(subscriber("wecom", f"dingtalk://{DING_TOKEN}/"))))
    assert "不适用" in str(exc.value) and DING_TOKEN not in str(exc.value)
    with pytest.raises(DeliveryError) as exc:
        run(channel_for("apprise").send(alert(subscriber("apprise", f"nosuch://{DING_TOKEN}"))))
    assert "无法识别" in str(exc.value) and DING_TOKEN not in str(exc.value)


def test_a_part_failing_after_earlier_parts_went_out_may_be_a_repeat(robots):
    seen: list[int] = []

    def second_fails(record):
        if record["path"].startswith("/cgi-bin/"):
            seen.append(1)
            if len(seen) == 2:
                return 502, {}
        return None

    robots.reply = second_fails
    with pytest.raises(DeliveryError) as exc:
        run(AppriseChannel(min_interval=0).send(digest(subscriber("wecom", f"wecombot://{WECOM_KEY}"), 20)))
    assert exc.value.maybe_delivered and "此前的分段已发出" in str(exc.value)


# ---- robots that answer HTTP 200 with an error code in the body -------------------------------------

# (channel, target, path prefix of its API, the robot's error answer, the secret in the target)
ROBOT_ERRORS = [
    ("wecom", f"wecombot://{WECOM_KEY}", "/cgi-bin/", {"errcode": 93000, "errmsg": "invalid webhook url"},
     WECOM_KEY),
    ("dingtalk", f"dingtalk://{DING_TOKEN}/", "/robot/",
     {"errcode": 310000, "errmsg": "keywords not in content"}, DING_TOKEN),
    ("feishu", f"feishu://{FEISHU_TOKEN}/", "/open-apis/",
     {"code": 19001, "msg": "param invalid: incoming webhook access token invalid", "data": {}},
     FEISHU_TOKEN),
    ("feishu", f"lark://{FEISHU_TOKEN}/", "/open-apis/", {"code": 19024, "msg": "Key Words Not Found"},
     FEISHU_TOKEN),
]
ROBOT_IDS = ["wecom", "dingtalk", "feishu", "lark"]


@pytest.mark.parametrize(("channel", "target", "prefix", "error", "secret"), ROBOT_ERRORS, ids=ROBOT_IDS)
def test_apprise_alone_counts_a_robot_error_body_as_sent(robots, channel, target, prefix, error, secret):
    """What Apprise itself does (2.2): HTTP 200 is a success, whatever the robot answered. This is
    why the channel checks the answer; should Apprise learn to, this test says so."""
    import apprise

    robots.reply = lambda record: (200, error) if record["path"].startswith(prefix) else None
    plugin = apprise.Apprise.instantiate(target)
    plugin.request_rate_per_sec = 0  # Apprise's Lark plugin throttles twice per message otherwise
    notifier = apprise.Apprise()
    assert notifier.add(plugin)
    assert bool(notifier.notify(body="政务公开告警 测试", title="")) is True  # counted as sent …
    (call,) = robots.calls(prefix)  # … though the robot refused it
    assert call["method"] == "POST"


@pytest.mark.parametrize(("channel", "target", "prefix", "error", "secret"), ROBOT_ERRORS, ids=ROBOT_IDS)
def test_a_robot_error_body_is_a_delivery_error(robots, channel, target, prefix, error, secret):
    sub = subscriber(channel, target)
    robots.reply = lambda record: (200, error) if record["path"].startswith(prefix) else None
    with pytest.raises(DeliveryError) as exc:
        run(AppriseChannel(allowed=APPRISE_CHANNELS[channel], min_interval=0).send(alert(sub)))
    text = str(exc.value)
    code = str(error.get("errcode", error.get("code")))
    assert f"机器人拒收，错误码 {code}" in text and "发送失败" in text, text
    assert secret not in text
    assert not exc.value.maybe_delivered  # the robot said no: certainly not delivered
    assert len(robots.calls(prefix)) == 1

    # The same robot answering success: sent.
    robots.reply = lambda record: None
    run(AppriseChannel(allowed=APPRISE_CHANNELS[channel], min_interval=0).send(alert(sub)))
    assert len(robots.calls(prefix)) == 2


def test_robot_success_answers_in_every_known_form(robots):
    sub = subscriber("feishu", f"feishu://{FEISHU_TOKEN}/")
    for answer in ({"code": 0, "msg": "success", "data": {}}, {"StatusCode": 0, "StatusMessage": "success"},
                   {"code": "0"}):
        robots.reply = lambda record, answer=answer: (200, answer)
        run(channel_for("feishu").send(alert(sub)))
    robots.reply = lambda record: (200, {"errcode": 0, "errmsg": "ok"})
    for channel, target in (("wecom", f"wecombot://{WECOM_KEY}"),
                            ("dingtalk", f"dingtalk://SEC0123@{DING_TOKEN}/")):
        run(channel_for(channel).send(alert(subscriber(channel, target))))
    assert len(robots.requests) == 5


def test_a_robot_answer_that_says_nothing_may_have_been_delivered(robots):
    robots.reply = lambda record: (200, {"ok": True})  # no errcode: not what a 钉钉 robot answers
    with pytest.raises(DeliveryError) as exc:
        run(channel_for("dingtalk").send(alert(subscriber("dingtalk", f"dingtalk://{DING_TOKEN}/"))))
    assert "不能确认已送达" in str(exc.value) and exc.value.maybe_delivered
    assert DING_TOKEN not in str(exc.value)


def test_a_robot_refusing_the_second_part_keeps_the_first_as_sent(robots):
    seen: list[int] = []

    def second_refused(record):
        if record["path"].startswith("/cgi-bin/"):
            seen.append(1)
            if len(seen) == 2:
                return 200, {"errcode": 45009, "errmsg": "api freq out of limit"}
        return None

    robots.reply = second_refused
    with pytest.raises(DeliveryError) as exc:
        run(AppriseChannel(min_interval=0).send(digest(subscriber("wecom", f"wecombot://{WECOM_KEY}"), 20)))
    assert "错误码 45009（超过机器人的发送频率限制）" in str(exc.value)
    assert "此前的分段已发出" in str(exc.value) and exc.value.maybe_delivered


def test_a_robot_error_body_keeps_the_alert_waiting(engine, robots):
    """deliver(): a refused alert is not marked sent; it is retried on the next run and sent once the
    robot takes it."""
    with session(engine) as s:
        agency = Agency(name="宁波市镇海区民政局", region_code="330211", level="department", registered=True)
        s.add(agency)
        s.flush()
        for name, channel, target in [("企业微信", "wecom", f"wecombot://{WECOM_KEY}"),
                                      ("钉钉", "dingtalk", f"dingtalk://{DING_TOKEN}/"),
                                      ("飞书", "feishu", f"feishu://{FEISHU_TOKEN}/")]:
            s.add(Subscriber(name=name, channel=channel, target=target, created_at=NOW, min_severity="info"))
        finding = TrackedFinding(key="k", agency_id=agency.id, year=2023, rule="late", severity="error",
                                 message="逾期 5 天", source="compliance", state="open", opened_at=NOW,
                                 last_seen_at=NOW)
        s.add(finding)
        s.flush()
        create_alerts(s, [finding], NOW)

    def refuse(record):
        if record["path"].startswith(("/cgi-bin/", "/robot/")):
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
        return 200, {"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}

    robots.reply = refuse
    result = run(deliver(engine, now=NOW))
    assert result.sent == [] and sorted(o.subscriber for o in result.errors) == ["企业微信", "钉钉", "飞书"]
    with session(engine) as s:
        rows = s.exec(select(AlertDelivery)).all()
    assert {(d.state, d.attempts, d.sent_at) for d in rows} == {("pending", 1, None)}
    assert all("机器人拒收" in d.last_error for d in rows)
    assert not any(secret in d.last_error for d in rows for secret in (WECOM_KEY, DING_TOKEN, FEISHU_TOKEN))

    robots.reply = lambda record: None  # the robots take messages again
    result = run(deliver(engine, now=NOW))
    assert sorted(o.subscriber for o in result.sent) == ["企业微信", "钉钉", "飞书"] and not result.errors
    with session(engine) as s:
        rows = s.exec(select(AlertDelivery)).all()
    assert {(d.state, d.attempts, d.possible_repeat) for d in rows} == {("sent", 2, False)}


# ---- e-mail through a local SMTP server ---------------------------------------------------------


class SMTPServer:
    """Just enough SMTP (EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT) on 127.0.0.1 to receive mail."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.logins: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0

    def __enter__(self) -> SMTPServer:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._session, "127.0.0.1", 0), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")

        say("220 localhost ESMTP test")
        sender, recipients = None, []
        try:
            while line := (await reader.readline()).decode().rstrip("\r\n"):
                verb = line.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    writer.write(b"250-localhost\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n")
                elif verb == "AUTH":
                    self.logins.append(base64.b64decode(line.split()[-1]).decode().split("\0")[1])
                    say("235 2.7.0 Authentication successful")
                elif verb == "MAIL":
                    sender = line
                    say("250 OK")
                elif verb == "RCPT":
                    recipients.append(re.search(r"<(.*)>", line).group(1))
                    say("250 OK")
                elif verb == "DATA":
                    say("354 End data with <CR><LF>.<CR><LF>")
                    data = await reader.readuntil(b"\r\n.\r\n")
                    self.messages.append({"from": sender, "to": recipients,
                                          "message": email.message_from_bytes(data[:-5], policy=email.policy.default)})
                    say("250 OK queued")
                elif verb == "QUIT":
                    say("221 Bye")
                    await writer.drain()
                    break
                else:
                    say("250 OK")
                await writer.drain()
        finally:
            writer.close()


def test_email_gets_a_subject_and_an_html_body_with_the_report_link():
    with SMTPServer() as smtp:
        target = (f"mailto://duban:S3cretPassw0rd@127.0.0.1:{smtp.port}"
                  "?mode=insecure&from=alerts@example.gov.cn&to=zhenhai@example.gov.cn")
        sub = subscriber("email", target)
        message = alert(sub)
        run(channel_for("email").send(message))
    (mail,) = smtp.messages
    assert smtp.logins == ["duban"] and mail["to"] == ["zhenhai@example.gov.cn"]
    msg = mail["message"]
    assert msg["Subject"] == message.title
    html_part = msg.get_body(("html",)).get_content()
    assert '<a href="https://www.zh.gov.cn/art/2024/3/1/art_1.html?a=1&amp;b=2">' in html_part
    assert "宁波市镇海区&lt;人力&gt;&amp;社保局" in html_part and "<人力>" not in html_part
    plain = msg.get_body(("plain",)).get_content()
    assert "逾期发布" in plain


def test_email_failure_hides_the_password():
    target = (f"mailto://duban:S3cretPassw0rd@127.0.0.1:{dead_port()}"
              "?mode=insecure&from=alerts@example.gov.cn&to=z@example.gov.cn")
    with pytest.raises(DeliveryError) as exc:
        run(channel_for("email").send(alert(subscriber("email", target))))
    assert "电子邮件发送失败" in str(exc.value) and "S3cretPassw0rd" not in str(exc.value)


# ---- Telegram against a fake Bot API ----------------------------------------------------------


def telegram(server: LocalServer, **kwargs: Any) -> TelegramChannel:
    return TelegramChannel(TOKEN, base_url=server.url("/bot"), **kwargs)


def test_telegram_sends_escaped_html_with_the_report_link(server):
    sub = subscriber("telegram", "-1001234567890")
    message = alert(sub)
    channel = telegram(server)

    async def go():
        try:
            await channel.send(message)
            await channel.send(message)
        finally:
            await channel.aclose()

    run(go())
    assert len(server.telegram("getMe")) == 1  # one Bot for the channel's life
    first, second = server.telegram()
    assert all(r["path"].startswith(f"/bot{TOKEN}/") for r in server.calls("/bot"))
    assert first == second
    assert first["chat_id"] == "-1001234567890" and first["parse_mode"] == "HTML"
    assert json.loads(first["link_preview_options"]) == {"is_disabled": True}
    text = first["text"]
    assert text == message.html and telegram_html_ok(text)
    assert "宁波市镇海区&lt;人力&gt;&amp;社保局" in text and "<人力>" not in text
    assert "&lt;b&gt;不是标签&lt;/b&gt;" in text  # store text that looks like markup stays text
    assert '<a href="https://www.zh.gov.cn/art/2024/3/1/art_1.html?a=1&amp;b=2">' in text


def test_telegram_escapes_plain_text_when_the_html_is_not_telegram_html(server):
    sub = subscriber("telegram", "@xxgk_alerts")
    bad = OutgoingMessage(subscriber=sub, title="t", text="a < b & <script>x</script>\nhttps://e.gov.cn/?a=1&b=2",
                          html="<div>not telegram html</div>")
    run(_send_and_close(telegram(server), bad))
    (call,) = server.telegram()
    assert call["chat_id"] == "@xxgk_alerts"
    assert call["text"] == "a &lt; b &amp; &lt;script&gt;x&lt;/script&gt;\nhttps://e.gov.cn/?a=1&amp;b=2"


async def _send_and_close(channel: TelegramChannel, message: OutgoingMessage) -> None:
    try:
        await channel.send(message)
    finally:
        await channel.aclose()


def test_a_long_telegram_digest_is_split_at_line_ends(server):
    sub = subscriber("telegram", "123456789")
    message = digest(sub, 40)
    assert len(message.html) > 2 * TELEGRAM_LIMIT
    run(_send_and_close(telegram(server), message))
    texts = [c["text"] for c in server.telegram()]
    assert len(texts) >= 3
    assert all(len(t.encode("utf-16-le")) // 2 <= TELEGRAM_LIMIT for t in texts)
    assert all(telegram_html_ok(t) for t in texts)
    assert "\n".join(strip_part_marks(texts)) == message.html


def test_a_single_huge_line_is_sent_whole_as_escaped_text(server):
    sub = subscriber("telegram", "123456789")
    line = "<b>" + "数据&amp;" * 1500 + "</b>"
    message = OutgoingMessage(subscriber=sub, title="t", text="x", html="<b>标题</b>\n" + line + "\n<i>尾</i>")
    run(_send_and_close(telegram(server), message))
    texts = strip_part_marks([c["text"] for c in server.telegram()])
    assert all(len(t) <= TELEGRAM_LIMIT for t in texts)
    assert texts[0] == "<b>标题</b>" and texts[-1] == "<i>尾</i>"
    assert "".join(html_to_plain(t) for t in texts[1:-1]) == "数据&" * 1500


def test_split_helpers_never_lose_text():
    text = "\n".join(f"第{i}行" + "字" * (i % 50) for i in range(400))
    parts = split_text(text, 300)
    assert all(len(p) <= 300 for p in parts) and "\n".join(parts) == text
    assert split_text("a" * 1000, 300) == ["a" * 300] * 3 + ["a" * 100]
    assert split_telegram_html("<b>a\nb</b>\nc", 11) == ["<b>a\nb</b>", "c"]  # no split inside <b>
    assert split_telegram_html("<b>a\nb</b>\nc", 7) == ["a\nb", "c"]  # too long for a part: as plain text


def test_telegram_error_answers_are_delivery_errors(server):
    sub = subscriber("telegram", "-100999")
    replies = {
        "chat": (400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}),
        "blocked": (403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
        "flood": (429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 30",
                        "parameters": {"retry_after": 30}}),
    }
    expected = {"chat": "Telegram 找不到聊天 -100999", "blocked": "Telegram 不允许发送到聊天 -100999",
                "flood": "Telegram 限流：30 秒后才能再发送到聊天 -100999"}
    for key, answer in replies.items():
        server.reply = lambda record, answer=answer: answer if record["path"].endswith("/sendMessage") else None
        with pytest.raises(DeliveryError) as exc:
            run(_send_and_close(telegram(server), alert(sub)))
        assert expected[key] in str(exc.value), str(exc.value)
        assert TOKEN not in str(exc.value) and TOKEN.split(":")[1] not in str(exc.value)
        assert not exc.value.maybe_delivered


def test_telegram_waits_out_a_short_flood_control_once(server):
    answers = iter([(429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                           "parameters": {"retry_after": 1}})])
    server.reply = lambda record: next(answers, None) if record["path"].endswith("/sendMessage") else None
    run(_send_and_close(telegram(server), alert(subscriber("telegram", "-100999"))))
    assert len(server.telegram()) == 2  # the refused one and the retry


def test_telegram_bad_token_unreachable_server_and_no_token(server):
    server.reply = lambda record: (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    with pytest.raises(DeliveryError) as exc:
        run(_send_and_close(telegram(server), alert(subscriber("telegram", "1"))))
    assert "令牌" in str(exc.value) and TOKEN not in str(exc.value) and TOKEN.split(":")[1] not in str(exc.value)

    dead = TelegramChannel(TOKEN, base_url=f"http://127.0.0.1:{dead_port()}/bot", timeout=5)
    with pytest.raises(DeliveryError) as exc:
        run(_send_and_close(dead, alert(subscriber("telegram", "1"))))
    assert "无法连接 Telegram" in str(exc.value) and TOKEN.split(":")[1] not in str(exc.value)
    assert not exc.value.maybe_delivered

    with pytest.raises(DeliveryError) as exc:
        run(TelegramChannel(None).send(alert(subscriber("telegram", "1"))))
    assert "XXGK_BOT__TOKEN" in str(exc.value)


def test_telegram_channel_from_settings(server, monkeypatch):
    settings = Settings(bot={"token": TOKEN, "base_url": server.url("/bot")})
    use_settings(settings)
    try:
        channel = channel_for("telegram")
    finally:
        use_settings(None)
    run(_send_and_close(channel, alert(subscriber("telegram", "77"))))
    assert [c["chat_id"] for c in server.telegram()] == ["77"]
    # Without use_settings: the environment, as load_settings reads it.
    monkeypatch.setenv("XXGK_BOT__TOKEN", TOKEN)
    monkeypatch.setenv("XXGK_BOT__BASE_URL", server.url("/bot"))
    monkeypatch.delenv("XXGK_CONFIG", raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no xxgk.toml here
    run(_send_and_close(channel_for("telegram"), alert(subscriber("telegram", "78"))))
    assert [c["chat_id"] for c in server.telegram()] == ["77", "78"]


# ---- the whole path: create_alerts → deliver → channel → receiver --------------------------------


def test_deliver_to_apprise_and_telegram_subscribers(engine, server, robots, monkeypatch):
    port = dead_port()
    with session(engine) as s:
        agency = Agency(name="宁波市镇海区民政局", region_code="330211", level="department", registered=True)
        s.add(agency)
        s.flush()
        doc = Document(url="https://www.zh.gov.cn/art/2024/1/1/art_9.html", content_hash="0" * 64, size=1,
                       format="html", fetched_at=NOW, title="镇海区民政局2023年度报告")
        s.add(doc)
        s.flush()
        report = Report(agency_id=agency.id, year=2023, template="2021", title=doc.title, document_id=doc.id,
                        sections=[], data={}, created_at=NOW, updated_at=NOW)
        s.add(report)
        s.flush()
        for name, channel, target in [
            ("json", "apprise", f"json://127.0.0.1:{server.port}/notify/sub"),
            ("钉钉", "dingtalk", f"https://oapi.dingtalk.com/robot/send?access_token={DING_TOKEN}"),
            ("tg", "telegram", "-1001"),
            ("broken", "wecom", f"wecombot://{WECOM_KEY}"),
        ]:
            s.add(Subscriber(name=name, channel=channel, target=target, created_at=NOW, min_severity="info"))
        finding = TrackedFinding(key="k", agency_id=agency.id, year=2023, rule="balance", severity="error",
                                 where="三、总计列", message="总计列：一+二 ≠ 三+四", source="report",
                                 report_id=report.id, state="open", opened_at=NOW, last_seen_at=NOW)
        s.add(finding)
        s.flush()
        create_alerts(s, [finding], NOW)

    from apprise.plugins.wecombot import NotifyWeComBot

    monkeypatch.setattr(NotifyWeComBot, "notify_url", f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key={{key}}")
    use_settings(Settings(bot={"token": TOKEN, "base_url": server.url("/bot")}))
    try:
        result = run(deliver(engine, now=NOW))
    finally:
        use_settings(None)
    assert sorted(o.subscriber for o in result.sent) == ["json", "tg", "钉钉"]
    (failed,) = result.errors
    assert failed.subscriber == "broken" and "企业微信群机器人发送失败" in failed.error and WECOM_KEY not in failed.error

    (received,) = server.calls("/notify/sub")
    assert received["body"]["title"] == "勾稽关系不平：宁波市镇海区民政局 2023 年度"
    assert "报告：镇海区民政局2023年度报告  https://www.zh.gov.cn/art/2024/1/1/art_9.html" in received["body"]["message"]
    (ding,) = robots.calls("/robot/send")
    assert ding["body"]["text"]["content"] == received["body"]["message"]
    (tg,) = server.telegram()
    assert tg["chat_id"] == "-1001" and '<a href="https://www.zh.gov.cn/art/2024/1/1/art_9.html">' in tg["text"]
    with session(engine) as s:
        rows = {sub.name: d for d, sub in s.exec(
            select(AlertDelivery, Subscriber).join(Subscriber, Subscriber.id == AlertDelivery.subscriber_id)).all()}
    assert {n: d.state for n, d in rows.items()} == {"json": "sent", "钉钉": "sent", "tg": "sent", "broken": "pending"}
    assert WECOM_KEY not in rows["broken"].last_error and "企业微信" in rows["broken"].last_error


# ---- the command line ----------------------------------------------------------------------------


def test_cli_subscribes_to_the_new_channels_and_masks_their_secrets(db_url, engine, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("XXGK_") and "proxy" not in k.lower()}
    env["XXGK_DATABASE_URL"] = db_url

    def xxgk(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "xxgk.cli", "alerts", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)

    native = f"https://oapi.dingtalk.com/robot/send?access_token={DING_TOKEN}"
    ok = xxgk("subscribe", "钉钉群", "--channel", "dingtalk", "--target", native)
    assert ok.returncode == 0, ok.stderr
    assert "已添加订阅者「钉钉群」：dingtalk → dingtalk://" in ok.stdout and DING_TOKEN not in ok.stdout
    assert xxgk("subscribe", "邮件", "--channel", "email", "--target",
                "mailtos://u:pa55word@smtp.example.gov.cn?to=d@example.gov.cn").returncode == 0
    listing = xxgk("subscribers")
    assert listing.returncode == 0 and "钉钉群" in listing.stdout and "mailtos://u:****@" in listing.stdout
    assert DING_TOKEN not in listing.stdout and "pa55word" not in listing.stdout
    bad = xxgk("subscribe", "x", "--channel", "wecom", "--target", native)
    assert bad.returncode == 2 and "wecom 渠道的目标应为" in bad.stderr and DING_TOKEN not in bad.stderr
    with session(engine) as s:
        stored = {x.name: x.target for x in s.exec(select(Subscriber)).all()}
    assert stored["钉钉群"] == native  # stored as given, shown masked


def test_cli_help_names_the_channels():
    from typer.testing import CliRunner

    from xxgk.commands.alerts import app

    result = CliRunner().invoke(app, ["subscribe", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name in ("telegram", "wecom", "dingtalk", "feishu", "email", "apprise"):
        assert name in result.output
