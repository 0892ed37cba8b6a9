"""The Telegram bot (bot/), end to end: the real python-telegram-bot Application, built by
bot.app.build_application with its base_url pointing at a fake Bot API server on 127.0.0.1
(tests/fake_telegram.py), polls it for updates that the tests queue as users would send them, and
every call it makes is recorded there. The store is a real SQLite file built through the product's
own paths (the registry import, save_report, the compliance sweep), as in tests/test_ask.py."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from telegram.ext import Application

from bot.app import build_application, file_url
from bot.callbacks import CallbackSigner
from bot.conversations import Conversation, ConversationStore
from bot.ratelimit import UserRateLimiter, Verdict
from checks.model import CST
from compliance.registry import import_registry, parse_registry_csv
from compliance.sweep import sweep
from databases import built_store, store_copy
from db.engine import session
from db.models import BotUser, FindingEvent, TrackedFinding
from fake_telegram import BOT_USER, TOKEN, Call, FakeTelegram, group, html_to_text, user
from store_builders import BALANCE, crawled, report, save
from xxgk.config import BotConfig, DeadlinesConfig, Settings

TODAY = date(2022, 6, 1)  # 今年 2022, 去年 2021

HRSS = "宁波市镇海区人力资源和社会保障局"
ZHENHAI = "宁波市镇海区人民政府"
JIASHAN = "嘉善县人民政府"
JIASHAN_FINANCE = "嘉善县财政局"
LIANJIANG = "连江县人民政府"
LIANJIANG_FINANCE = "连江县财政局"
HOSTILE = "嘉善县<b>数据&管理局"

REGISTRY = (
    "name,aliases,region_code,region_name,level,site,province_name,city_name\n"
    f"{HRSS},区人力社保局,330211,浙江省宁波市镇海区,部门,zhenhai,浙江省,宁波市\n"
    f"{ZHENHAI},区政府,330211,浙江省宁波市镇海区,人民政府,zhenhai,浙江省,宁波市\n"
    f"{JIASHAN},,330421,浙江省嘉兴市嘉善县,人民政府,jiashan,浙江省,嘉兴市\n"
    f"{JIASHAN_FINANCE},县财政局,330421,浙江省嘉兴市嘉善县,部门,jiashan,浙江省,嘉兴市\n"
    f"{HOSTILE},,330421,浙江省嘉兴市嘉善县,部门,jiashan,浙江省,嘉兴市\n"
    f"{LIANJIANG},,350122,福建省福州市连江县,人民政府,lianjiang,福建省,福州市\n"
    f"{LIANJIANG_FINANCE},县财政局,350122,福建省福州市连江县,部门,lianjiang,福建省,福州市\n"
    "北京市朝阳区人民政府,,110105,北京市朝阳区,人民政府,,北京市,\n"
    "长春市朝阳区人民政府,,220104,吉林省长春市朝阳区,人民政府,,吉林省,长春市\n"
)

ADMIN = user(1001, "王", "管理员")
ALICE = user(2002, "李", "督查员")  # approved in the store
BOB = user(3003, "赵", "督查员")  # approved in the store
STRANGER = user(5005, "陌生人")
GROUP = group(-100777, "督查工作群")


def build_store(engine: Engine) -> Engine:
    """Nine agencies; reports on 2020–2021; 2021 swept on 2022-06-01: 镇海区人民政府 5 days late,
    嘉善县财政局 12 days late, 连江县财政局 missing, 嘉善县人民政府 inconsistent. ALICE and BOB
    approved."""
    with session(engine) as s:
        import_registry(s, parse_registry_csv(REGISTRY))
    save(engine, report(HRSS, 2020, 7), datetime(2021, 1, 20, tzinfo=CST), "zhenhai")
    save(engine, report(HRSS, 2021, 12, litigation=(1, 2), punishment=19), datetime(2022, 1, 20, tzinfo=CST),
         "zhenhai")
    save(engine, report(ZHENHAI, 2021, 0, punishment=None), datetime(2022, 4, 5, 10, tzinfo=CST), "zhenhai")
    save(engine, report(JIASHAN, 2021, 106, punishment=1598, review=4, findings=[BALANCE]),
         datetime(2022, 3, 1, tzinfo=CST), "jiashan")
    save(engine, report(JIASHAN_FINANCE, 2021, 8, punishment=3), datetime(2022, 4, 12, tzinfo=CST), "jiashan")
    save(engine, report(HOSTILE, 2021, 2), datetime(2022, 1, 26, tzinfo=CST), "jiashan")
    save(engine, report(LIANJIANG, 2021, 40, punishment=2459), datetime(2022, 2, 1, tzinfo=CST), "lianjiang")
    crawled(engine, ("zhenhai", "jiashan", "lianjiang"))  # after the deadlines: a report not found is missing
    with session(engine) as s:
        for u in (ALICE, BOB):
            s.add(BotUser(user_id=u["id"], name=u["first_name"] + u["last_name"], approved_by=ADMIN["id"],
                          approved_at=datetime(2022, 5, 1, tzinfo=UTC)))
    sweep(engine, 2021, today=TODAY, now=datetime(2022, 6, 1, tzinfo=UTC), deadlines=DeadlinesConfig(),
          alert=False)
    return engine


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The store, built once for the module."""
    with built_store(tmp_path_factory.mktemp("bot-store"), build_store) as url:
        yield url


@pytest.fixture
def store(template: str, tmp_path: Path) -> Iterator[Engine]:
    """A copy of the store per test: some tests approve users and acknowledge findings."""
    with store_copy(template, tmp_path) as engine:
        yield engine


def settings(engine: Engine, **bot: Any) -> Settings:
    config = {"token": TOKEN, "admins": [ADMIN["id"]], "page_size": 2, "user_rate_per_minute": 20, **bot}
    return Settings(database_url=engine.url.render_as_string(hide_password=False), bot=BotConfig(**config))


# ---- the harness ---------------------------------------------------------------------------------


@dataclass
class Harness:
    fake: FakeTelegram
    app: Application  # type: ignore[type-arg]

    async def say(self, sender: dict[str, Any], text: str, *, chat: dict[str, Any] | None = None,
                  reply_to: dict[str, Any] | None = None) -> Call:
        """`sender` writes `text`; the bot's reply (its next sendMessage to that chat)."""
        chat_id = (chat or {"id": sender["id"]})["id"]
        mark = self.fake.mark()
        self.fake.send(sender, text, chat=chat, reply_to=reply_to)
        return await self.fake.wait_for("sendMessage", since=mark,
                                        where=lambda c: c.params["chat_id"] == chat_id)

    async def press(self, sender: dict[str, Any], sent: Call, label: str) -> tuple[Call, Call | None]:
        """`sender` presses `label`: (the answerCallbackQuery, the editMessageText if any)."""
        mark = self.fake.mark()
        self.fake.press(sender, sent, label)
        answered = await self.fake.wait_for("answerCallbackQuery", since=mark)
        await self.settle()
        edits = self.fake.find("editMessageText", mark)
        return answered, edits[0] if edits else None

    async def callback(self, sender: dict[str, Any], sent: Call, data: str) -> Call:
        mark = self.fake.mark()
        message = self.fake.message(sent.result["chat"]["id"], sent.result["message_id"])
        self.fake.callback(sender, message, data)
        answered = await self.fake.wait_for("answerCallbackQuery", since=mark)
        await self.settle()
        return answered

    async def settle(self) -> None:
        """Wait until every queued update has been handled: a /help from the admin goes through
        the same queue (updates are handled in order in these tests), and its answer comes last."""
        mark = self.fake.mark()
        self.fake.send(ADMIN, "/help")
        await self.fake.wait_for("sendMessage", since=mark,
                                 where=lambda c: c.params["chat_id"] == ADMIN["id"])


@asynccontextmanager
async def running(engine: Engine, **bot: Any) -> AsyncIterator[Harness]:
    """The real Application on the fake server: initialize, post_init (as run_polling does), start,
    poll; stopped and shut down at the end."""
    fake = FakeTelegram()
    base_url = await fake.start()
    app = build_application(settings(engine, base_url=base_url, **bot), engine, today=TODAY,
                            concurrent_updates=False)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield Harness(fake, app)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        await fake.stop()


def run(engine: Engine, scenario: Callable[[Harness], Awaitable[None]], **bot: Any) -> None:
    async def main() -> None:
        async with running(engine, **bot) as harness:
            await asyncio.wait_for(scenario(harness), 60)

    asyncio.run(main())


def finding_id(engine: Engine, agency: str, rule: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT f.id FROM tracked_finding f JOIN agency a ON a.id = f.agency_id"
            " WHERE a.name = :a AND f.rule = :r"), {"a": agency, "r": rule}).scalar_one()


def finding(engine: Engine, fid: int) -> tuple[str, list[tuple[str, str, str | None]]]:
    with session(engine) as s:
        f = s.get(TrackedFinding, fid)
        assert f is not None
        events = s.exec(sa.select(FindingEvent)  # type: ignore[call-overload]
                        .where(FindingEvent.finding_id == fid).order_by(FindingEvent.id)).scalars().all()
        return f.state, [(e.state, e.actor, e.reason) for e in events]


# ---- help, the menu, the polling itself ---------------------------------------------------------


def test_help_lists_the_commands_and_the_menu_is_set(store: Engine) -> None:
    async def scenario(bot: Harness) -> None:
        assert [c.method for c in bot.fake.calls[:3]] == ["getMe", "setMyCommands", "deleteWebhook"]
        menu = [c["command"] for c in bot.fake.commands]
        assert menu[:3] == ["help", "ask", "report"] and "approve" not in menu and "start" not in menu
        for command in ("stats", "late", "missing", "issues", "top", "ack", "dismiss"):
            assert command in menu

        reply = await bot.say(ALICE, "/help")
        assert reply.params["parse_mode"] == "HTML" and reply.ok
        for line in ("/report 单位 [年份] — 单位年度报告的主要数据和问题", "/stats [年份] [地区] [层级]",
                     "/late [年份] [地区] [层级]", "/missing [年份] [地区] [层级]",
                     "/issues [年份] [地区] [层级] [严重程度]", "/top 指标 [年份] [地区] [层级]",
                     "/ack 编号 [理由]", "/dismiss 编号 理由", "2021年哪些单位收到了申请"):
            assert line in reply.text, line
        assert "/approve" not in reply.text  # admin commands only for admins
        admin = await bot.say(ADMIN, "/help")
        assert "/approve 用户编号 [名字]" in admin.text and "/revoke 用户编号" in admin.text

        start = await bot.say(ALICE, "/start")
        assert start.text.startswith("你好，李！")
        unknown = await bot.say(ALICE, "/weather 北京")  # not a command
        assert unknown.text == "没有这个命令。发送 /help 查看可用的命令，或直接用中文提问。"

    run(store, scenario)


# ---- questions -------------------------------------------------------------------------------


def test_a_question_is_answered_with_the_right_numbers(store: Engine) -> None:
    async def scenario(bot: Harness) -> None:
        one = await bot.say(ALICE, "镇海区人社局2021年收到多少申请")
        assert one.text.startswith(f"<b>{HRSS}2021年度本年新收申请：12 件</b>\n报告发布日期：2022-01-20")
        assert "<i>按已收录的 1 份报告统计</i>" in one.text and "reply_markup" not in one.params

        province = await bot.say(ALICE, "浙江省2021年共收到多少申请")
        lines = province.text.split("\n")
        assert lines[1] == "浙江省2021年度本年新收申请合计：128 件"
        assert lines[2:4] == ["嘉兴市：116 件（3 份报告）", "宁波市：12 件（2 份报告）"]

        late = await bot.say(ALICE, "去年哪些局逾期发布")  # 去年 is 2021 on TODAY
        assert f"1. {JIASHAN_FINANCE}：逾期 71 天" in late.text

        not_understood = await bot.say(ALICE, "你好")
        assert not_understood.text.startswith("<b>抱歉，没有看懂这个问题。可以这样问：</b>")
        assert len(not_understood.buttons) == 3  # the example questions, as buttons
        example = not_understood.buttons[0]
        mark = bot.fake.mark()
        bot.fake.press(ALICE, not_understood, example)
        asked = await bot.fake.wait_for("sendMessage", since=mark)
        assert asked.ok and "抱歉" not in asked.text  # the example answers

    run(store, scenario)


def test_long_answers_are_paged_with_buttons(store: Engine) -> None:
    async def scenario(bot: Harness) -> None:
        first = await bot.say(ALICE, "2021年哪些单位收到了申请")  # 5 agencies, 2 a page
        assert f"1. {JIASHAN}：106 件\n2. {LIANJIANG}：40 件" in first.text
        assert "第 1–2 条，共 5 条" in first.text and first.buttons == ["下一页"]

        answered, page2 = await bot.press(ALICE, first, "下一页")
        assert answered.params.get("text") is None and page2 is not None  # answered without a notice
        assert f"3. {HRSS}：12 件\n4. {JIASHAN_FINANCE}：8 件" in page2.text
        assert "第 3–4 条，共 5 条" in page2.text and page2.buttons == ["上一页", "下一页"]
        assert page2.params["message_id"] == first.result["message_id"]  # the same message, edited

        _, page3 = await bot.press(ALICE, first, "下一页")
        assert page3 is not None and "5. 嘉善县&lt;b&gt;数据&amp;管理局：2 件" in page3.text
        assert page3.buttons == ["上一页"]

        _, back = await bot.press(ALICE, first, "上一页")
        assert back is not None and "第 3–4 条，共 5 条" in back.text

        # Another member of the chat may turn the pages of an answer in a group.
        in_group = await bot.say(ALICE, "/ask 2021年哪些单位收到了申请", chat=GROUP)
        _, other = await bot.press(BOB, in_group, "下一页")
        assert other is not None and "第 3–4 条" in other.text

    run(store, scenario)


def test_ambiguous_names_offer_buttons(store: Engine) -> None:
    async def scenario(bot: Harness) -> None:
        ambiguous = await bot.say(ALICE, "县财政局2021年收到多少申请")
        assert ambiguous.text.startswith("<b>「县财政局」对应多个单位，请选择：</b>")
        labels = [f"{JIASHAN_FINANCE}（浙江省嘉兴市嘉善县）", f"{LIANJIANG_FINANCE}（福建省福州市连江县）"]
        assert sorted(ambiguous.buttons) == sorted(labels)
        _, chosen = await bot.press(ALICE, ambiguous, labels[0])
        assert chosen is not None and chosen.text.startswith(f"<b>{JIASHAN_FINANCE}2021年度本年新收申请：8 件</b>")
        assert chosen.buttons == []

        regions = await bot.say(ALICE, "/late 2021 朝阳区")
        assert regions.buttons == ["北京市朝阳区", "吉林省长春市朝阳区"]
        _, picked = await bot.press(ALICE, regions, "北京市朝阳区")
        assert picked is not None and "2021年度北京市朝阳区逾期发布的报告" in picked.text

        report = await bot.say(ALICE, "/report 县财政局 2021")
        _, chosen_report = await bot.press(ALICE, report, labels[1])
        assert chosen_report is not None and f"{LIANJIANG_FINANCE}2021年度报告" in chosen_report.text
        assert "未发布年度报告（错误" in chosen_report.text or "未发布年度报告" in chosen_report.text

    run(store, scenario)


def test_tampered_and_stale_buttons_are_refused(store: Engine) -> None:
    async def scenario(bot: Harness) -> None:
        first = await bot.say(ALICE, "2021年哪些单位收到了申请")
        data = bot.fake.buttons(first)["下一页"]
        action, key, number, tag = data.split(".")
        forged = [
            f"{action}.{key}.4.{tag}",  # another offset, the old tag
            f"{action}.{key}.{number}.{'A' * 12}",  # a made-up tag
            f"c.{key}.{number}.{tag}",  # another action
            "p.x'; DROP TABLE agency; --",
            "",
            "下一页",
            CallbackSigner("another-token").sign("p", key, 2),  # signed with another key
            CallbackSigner(TOKEN).sign("p", "AAAAAAAA", 2),  # well signed, no such conversation (a restart)
            CallbackSigner(TOKEN).sign("c", key, 0),  # well signed, no such choice
        ]
        for bad in forged:
            answered = await bot.callback(ALICE, first, bad)
            assert answered.params["text"] == "按钮已失效，请重新提问", bad
        assert bot.fake.find("editMessageText") == []
        with store.connect() as conn:  # nothing was dropped
            assert conn.execute(sa.text("SELECT count(*) FROM agency")).scalar_one() == 9

        # A button of another chat's answer, pressed from this chat: stale too.
        in_group = await bot.say(ALICE, "/ask 2021年哪些单位收到了申请", chat=GROUP)
        group_data = bot.fake.buttons(in_group)["下一页"]
        answered = await bot.callback(ALICE, first, group_data)
        assert answered.params["text"] == "按钮已失效，请重新提问"
        # The real button still works.
        _, page2 = await bot.press(ALICE, first, "下一页")
        assert page2 is not None and "第 3–4 条" in page2.text

    run(store, scenario)


def test_html_in_questions_and_names_is_escaped(store: Engine) -> None:
    async def scenario(bot: Harness) -> None:
        listing = await bot.say(ALICE, "2021年哪些单位收到了申请")
        _, page3 = await bot.press(ALICE, listing, "下一页")
        _, page3 = await bot.press(ALICE, listing, "下一页")
        assert page3 is not None and page3.ok
        assert "嘉善县&lt;b&gt;数据&amp;管理局" in page3.text and "<b>数据" not in page3.text

        hostile = '<a href="https://evil.example">点我</a><script>alert(1)</script>&局2021年收到多少申请'
        reply = await bot.say(ALICE, hostile)
        assert reply.ok  # Telegram (the fake, stricter) accepted it as HTML
        assert "<a" not in reply.text and "<script" not in reply.text and "&amp;局" in reply.text
        assert "&局" in html_to_text(reply.text)  # what the user sees: the text as typed
        region = await bot.say(ALICE, '/stats 2021 <i>火星"&')
        assert region.ok and "找不到地区：&lt;i&gt;火星&quot;&amp;" in region.text
        assert '找不到地区：<i>火星"&' in html_to_text(region.text)

        injected = await bot.say(ALICE, "/report <b>局 2021")
        assert injected.ok and "没有找到单位「&lt;b&gt;局」" in injected.text
        # Every message the bot sent was valid HTML for Telegram.
        assert all(c.ok for c in bot.fake.calls if c.method in ("sendMessage", "editMessageText"))

    run(store, scenario)


# ---- the commands ------------------------------------------------------------------------------


def test_report_stats_late_missing_issues_top(store: Engine) -> None:
    balance = finding_id(store, JIASHAN, "balance")
    late = finding_id(store, JIASHAN_FINANCE, "late")
    missing = finding_id(store, LIANJIANG_FINANCE, "missing_report")

    async def scenario(bot: Harness) -> None:
        report = await bot.say(ALICE, "/report 嘉善县人民政府 2021")
        assert report.text.startswith(f"<b>{JIASHAN}2021年度报告</b>\n本年新收申请：106 件\n")
        assert "行政处罚：1,598 件" in report.text and "报告发布日期：2022-03-01" in report.text
        assert f"1. 勾稽关系不平（错误，编号 {balance}）— 总计列：一+二 ≠ 三+四" in report.text
        assert "用 /ack 编号 确认问题" in report.text
        latest = await bot.say(ALICE, "/report 镇海区人社局")  # no year: its latest report
        assert f"<b>{HRSS}2021年度报告</b>" in latest.text

        stats = await bot.say(ALICE, "/stats 2021 浙江省")
        assert stats.text.startswith("<b>2021年度浙江省主要数据（合计）</b>\n本年新收申请：128 件")
        assert "逾期发布：2 个单位" in stats.text and "数据不一致（待处理）：1 个单位" in stats.text
        assert "<i>按已收录的 5 份报告统计</i>" in stats.text
        everywhere = await bot.say(ALICE, "/stats 去年")
        assert "<b>2021年度全部地区主要数据（合计）</b>\n本年新收申请：168 件" in everywhere.text
        assert "未发布报告或站点无法访问：1 个单位" in everywhere.text

        lates = await bot.say(ALICE, "/late 2021 浙江省")
        assert f"1. {ZHENHAI}：逾期 5 天（编号 {finding_id(store, ZHENHAI, 'late')}）\n" \
               f"2. {JIASHAN_FINANCE}：逾期 71 天（编号 {late}）" in lates.text
        assert "共 2 个逾期发布的报告" in lates.text and lates.buttons == []
        departments = await bot.say(ALICE, "/late 2021 部门")
        assert "共 1 个逾期发布的报告" in departments.text

        missings = await bot.say(ALICE, "/missing")  # no year: the latest report year, said so
        assert f"1. {LIANJIANG_FINANCE}：未发布年度报告（编号 {missing}）" in missings.text
        assert "未指明年度，按 2021 年度统计" in missings.text

        issues = await bot.say(ALICE, "/issues 2021 嘉兴市 错误")
        assert "2021年度嘉兴市待处理问题（错误及以上）" in issues.text
        assert f"（错误，编号 {balance}）— 总计列" in issues.text
        nowhere = await bot.say(ALICE, "/issues 2021 火星市")
        assert "找不到地区：火星市" in nowhere.text

        top = await bot.say(ALICE, "/top 行政处罚 2021")
        assert top.text.startswith("<b>2021年度全部地区行政处罚最多的单位</b>")
        assert f"1. {LIANJIANG}：2,459 件\n2. {JIASHAN}：1,598 件" in top.text and top.buttons == ["下一页"]
        unknown = await bot.say(ALICE, "/top 天气 2021")
        assert unknown.text.startswith("未知的指标：天气") and "用法：/top 指标" in unknown.text
        usage = await bot.say(ALICE, "/report")
        assert usage.text.startswith("用法：/report 单位 [年份]")

    run(store, scenario)


def test_ack_and_dismiss(store: Engine) -> None:
    late = finding_id(store, JIASHAN_FINANCE, "late")
    balance = finding_id(store, JIASHAN, "balance")

    async def scenario(bot: Harness) -> None:
        refused = await bot.say(STRANGER, f"/ack {late}")
        assert "还没有获得授权" in refused.text
        assert finding(store, late)[0] == "open"

        acked = await bot.say(BOB, f"/ack {late} 已电话督促")  # a normal approved user, not an admin
        assert acked.text.startswith(f"问题 {late} 已确认：") and "理由：已电话督促" in acked.text
        state, events = finding(store, late)
        assert state == "acknowledged"
        assert events[-1] == ("acknowledged", "赵督查员（Telegram 3003）", "已电话督促")

        no_reason = await bot.say(BOB, f"/dismiss {balance}")
        assert no_reason.text.startswith("标记误报时请说明理由。\n用法：/dismiss 编号 理由")
        dismissed = await bot.say(ALICE, f"/dismiss {balance} 附表中已更正")
        assert dismissed.text.startswith(f"问题 {balance} 已标记为误报")
        assert finding(store, balance)[0] == "false_positive"

        unknown = await bot.say(ALICE, "/ack 999999")
        assert unknown.text == "无法处理：没有编号为 999999 的问题"
        bad = await bot.say(ALICE, "/ack 1;DROP")
        assert bad.text.startswith("用法：/ack 编号 [理由]")

    run(store, scenario)


# ---- access --------------------------------------------------------------------------------------


def test_unapproved_users_are_refused_and_told_whom_to_ask(store: Engine) -> None:
    async def scenario(bot: Harness) -> None:
        refused = await bot.say(STRANGER, "2021年哪些单位收到了申请")
        assert "你的用户编号是 <code>5005</code>" in refused.text
        assert f'<a href="tg://user?id={ADMIN["id"]}">' in refused.text and "/approve 5005" in refused.text
        assert "收到申请" not in refused.text
        start = await bot.say(STRANGER, "/start")
        assert "还没有获得授权" in start.text

        # A user revoked while a paged answer is open: the next page is refused.
        first = await bot.say(ALICE, "2021年哪些单位收到了申请")
        revoked = await bot.say(ADMIN, f"/revoke {ALICE['id']}")
        assert revoked.text == f"已撤销 {ALICE['id']} 的授权。"
        answered, edit = await bot.press(ALICE, first, "下一页")
        assert edit is None and answered.params["show_alert"] is True
        assert "还没有获得使用这个机器人的授权" in answered.params["text"]
        again = await bot.say(ALICE, "/help")
        assert "还没有获得授权" in again.text
        twice = await bot.say(ADMIN, f"/revoke {ALICE['id']}")
        assert twice.text == f"{ALICE['id']} 本来就没有授权。"
        with store.connect() as conn:
            table = BotUser.__table__  # type: ignore[attr-defined]
            row = conn.execute(sa.select(table).where(table.c.user_id == ALICE["id"])).one()
        assert row.revoked_at is not None and row.revoked_by == ADMIN["id"]

    run(store, scenario)


def test_admin_approves_then_the_user_asks(store: Engine) -> None:
    async def scenario(bot: Harness) -> None:
        refused = await bot.say(STRANGER, "镇海区人社局2021年收到多少申请")
        assert "还没有获得授权" in refused.text
        not_admin = await bot.say(ALICE, "/approve 5005 张三")
        assert not_admin.text == "只有管理员可以使用这个命令。"

        mark = bot.fake.mark()
        approved = await bot.say(ADMIN, "/approve 5005 张三")
        assert approved.text == "已授权 张三（5005） 使用本机器人。"
        told = await bot.fake.wait_for("sendMessage", since=mark, where=lambda c: c.params["chat_id"] == 5005)
        assert told.text.startswith("你已获准使用本机器人")

        answer = await bot.say(STRANGER, "镇海区人社局2021年收到多少申请")
        assert answer.text.startswith(f"<b>{HRSS}2021年度本年新收申请：12 件</b>")
        users = await bot.say(ADMIN, "/users")
        assert "5005 张三" in users.text and "2002 李督查员" in users.text

        # Approving someone who never wrote to the bot: Telegram refuses the notice; that is fine.
        silent = await bot.say(ADMIN, "/approve 6006")
        assert silent.text == "已授权 6006 使用本机器人。"
        failed = await bot.fake.wait_for("sendMessage", where=lambda c: c.params["chat_id"] == 6006)
        assert not failed.ok and "Forbidden" in (failed.error or "")
        usage = await bot.say(ADMIN, "/approve 张三")
        assert usage.text.startswith("用法：/approve 用户编号 [名字]")

        # In a group: the admin replies /approve to a refused newcomer's message.
        newcomer = user(7007, "钱", "新同事")
        mark = bot.fake.mark()
        asked = bot.fake.send(newcomer, "/stats 2021", chat=GROUP)
        await bot.fake.wait_for("sendMessage", since=mark, where=lambda c: "还没有获得授权" in c.text)
        by_reply = await bot.say(ADMIN, "/approve", chat=GROUP, reply_to=asked)
        assert by_reply.text == "已授权 钱 新同事（7007） 使用本机器人。"
        stats = await bot.say(newcomer, "/stats 2021", chat=GROUP)
        assert "2021年度全部地区主要数据（合计）" in stats.text

    run(store, scenario)


def test_group_chats_answer_approved_members_only(store: Engine) -> None:
    async def scenario(bot: Harness) -> None:
        stats = await bot.say(ALICE, "/stats@xxgk_test_bot 2021 浙江省", chat=GROUP)
        assert "2021年度浙江省主要数据（合计）" in stats.text

        refused = await bot.say(STRANGER, "/stats 2021", chat=GROUP)
        assert refused.params["chat_id"] == GROUP["id"]
        assert refused.text.startswith("抱歉，陌生人，这个机器人只向经过授权的用户开放")
        assert "<code>5005</code>" in refused.text

        # Chatter in the group is not for the bot, from anyone; a mention or a reply to the bot is.
        mark = bot.fake.mark()
        bot.fake.send(STRANGER, "大家好", chat=GROUP)
        bot.fake.send(ALICE, "今天开会", chat=GROUP)
        bot.fake.send(STRANGER, "/help@another_bot", chat=GROUP)
        await bot.settle()
        assert bot.fake.find("sendMessage", mark, where=lambda c: c.params["chat_id"] == GROUP["id"]) == []
        mentioned = await bot.say(ALICE, "@xxgk_test_bot 镇海区人社局2021年收到多少申请", chat=GROUP)
        assert f"{HRSS}2021年度本年新收申请：12 件" in mentioned.text
        replied = await bot.say(BOB, "浙江省2021年共收到多少申请", chat=GROUP,
                                reply_to=bot.fake.message(GROUP["id"], stats.result["message_id"]))
        assert "浙江省2021年度本年新收申请合计：128 件" in replied.text
        # A stranger's press on a member's answer: refused with an alert.
        listing = await bot.say(ALICE, "/ask 2021年哪些单位收到了申请", chat=GROUP)
        answered, edit = await bot.press(STRANGER, listing, "下一页")
        assert edit is None and "还没有获得使用这个机器人的授权" in answered.params["text"]

    run(store, scenario)


# ---- limits and errors --------------------------------------------------------------------------


def test_per_user_rate_limit(store: Engine) -> None:
    async def scenario(bot: Harness) -> None:
        mark = bot.fake.mark()
        for _ in range(5):
            bot.fake.send(ALICE, "镇海区人社局2021年收到多少申请")
        await bot.settle()
        replies = [c.text for c in bot.fake.find("sendMessage", mark,
                                                 where=lambda c: c.params["chat_id"] == ALICE["id"])]
        assert len(replies) == 4  # three answers, one notice, the fifth dropped silently
        assert sum(HRSS in r for r in replies) == 3
        assert replies[3].startswith("提问太频繁了：每人每分钟最多 3 个问题，请") and replies[3].endswith("秒后再试。")
        other = await bot.say(BOB, "镇海区人社局2021年收到多少申请")  # the limit is per user
        assert HRSS in other.text
        help_ = await bot.say(ALICE, "/help")  # only questions count
        assert "/report" in help_.text

    run(store, scenario, user_rate_per_minute=3)


def test_the_error_handler_answers_politely(store: Engine) -> None:
    async def scenario(bot: Harness) -> None:
        with store.begin() as conn:  # the store breaks under the bot
            conn.exec_driver_sql("DROP TABLE report_figure")
        reply = await bot.say(ALICE, "2021年哪些单位收到了申请")
        assert reply.text == "抱歉，处理这个请求时出错了，已记录下来。请稍后再试，或换个问法。"
        assert "report_figure" not in reply.text
        still = await bot.say(ALICE, "/help")  # the bot goes on
        assert "/report" in still.text

    run(store, scenario)


def test_the_fake_server_takes_photos_and_documents(store: Engine) -> None:
    """For the commands that send files (/chart, /export): multipart uploads are recorded."""
    async def scenario(bot: Harness) -> None:
        await bot.say(ALICE, "/help")  # Telegram lets the bot write to ALICE now
        photo = await bot.app.bot.send_photo(ALICE["id"], photo=b"\x89PNG\r\n\x1a\n" + b"0" * 100,
                                             caption="<b>历年申请数</b>")
        assert photo.photo and photo.caption == "历年申请数"
        document = await bot.app.bot.send_document(ALICE["id"], document=b"a,b\n1,2\n", filename="数据.csv")
        assert document.document is not None and document.document.file_name == "数据.csv"
        sent = bot.fake.find("sendPhoto")[0]
        assert sent.params["photo"]["size"] == 108 and sent.params["caption"] == "<b>历年申请数</b>"

    run(store, scenario)


# ---- the pieces on their own ------------------------------------------------------------------


def test_callback_data_is_compact_and_signed() -> None:
    signer = CallbackSigner(TOKEN)
    data = signer.sign("p", "Ab3dEf9x", 120)
    assert len(data.encode()) <= 64 and data.startswith("p.Ab3dEf9x.120.")
    button = signer.verify(data)
    assert button is not None and (button.action, button.key, button.number) == ("p", "Ab3dEf9x", 120)
    assert signer.verify(data.replace(".120.", ".121.")) is None
    assert signer.verify(data + "x") is None and signer.verify(None) is None
    assert signer.verify("p.1.2.3") is None
    assert CallbackSigner("other").verify(data) is None
    with pytest.raises(ValueError):
        signer.sign("x", "Ab3dEf9x", 1)


def test_rate_limiter_and_conversation_store_on_a_clock() -> None:
    now = [0.0]
    limiter = UserRateLimiter(2, clock=lambda: now[0])
    verdicts = [limiter.check(1)[0] for _ in range(4)]
    assert verdicts == [Verdict.ALLOW, Verdict.ALLOW, Verdict.REFUSE, Verdict.DROP]
    assert limiter.check(2)[0] is Verdict.ALLOW
    now[0] = 30.0
    verdict, wait = limiter.check(1)
    assert verdict is Verdict.DROP and wait == pytest.approx(30.0)
    now[0] = 60.0
    assert limiter.check(1)[0] is Verdict.ALLOW

    store = ConversationStore(capacity=2, max_age_s=100, clock=lambda: now[0])
    conversation = Conversation("ask", ("问题",), chat_id=1, user_id=1)
    first, second = store.put(conversation), store.put(conversation)
    assert store.get(first) == conversation
    third = store.put(conversation)  # the least recently used (second) goes
    assert store.get(second) is None and store.get(first) and store.get(third)
    now[0] = 200.0
    assert store.get(first) is None  # too old


def test_file_url_of_a_self_hosted_server() -> None:
    assert file_url("https://tg.example.org/bot") == "https://tg.example.org/file/bot"
    assert file_url("https://tg.example.org/custom/") is None


# ---- xxgk bot -----------------------------------------------------------------------------------


def _xxgk(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "xxgk.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XXGK_")}
    repo = Path(__file__).resolve().parent.parent
    env.update(XXGK_DATABASE_URL=f"sqlite:///{tmp_path / 'xxgk.db'}", PYTHONPATH=str(repo), **extra)
    return env


def test_xxgk_bot_without_a_token_says_so(tmp_path: Path) -> None:
    process = _xxgk("bot", env=_env(tmp_path), cwd=tmp_path)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "没有配置 Telegram 机器人令牌" in err and "XXGK_BOT__TOKEN" in err


def test_xxgk_bot_polls_until_ctrl_c(tmp_path: Path) -> None:
    with FakeTelegram.in_thread() as fake:
        env = _env(tmp_path, XXGK_BOT__TOKEN=TOKEN, XXGK_BOT__BASE_URL=fake.base_url,
                   XXGK_BOT__ADMINS=f"[{ADMIN['id']}]")
        process = _xxgk("bot", env=env, cwd=tmp_path)
        try:
            fake.wait_for_sync("deleteWebhook", timeout=60)
            mark = fake.mark()
            fake.send(ADMIN, "/help")
            reply = fake.wait_for_sync("sendMessage", since=mark, timeout=30)
            assert "/approve" in reply.text
            time.sleep(0.2)
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 0, err
        assert "机器人已启动" in err and "机器人已停止" in err
        assert TOKEN not in out + err and TOKEN.split(":")[1] not in out + err

        bad = _xxgk("bot", env={**env, "XXGK_BOT__TOKEN": "654321:wrong"}, cwd=tmp_path)
        out, err = bad.communicate(timeout=60)
        assert bad.returncode == 2 and "令牌" in err and "wrong" not in out + err
    assert BOT_USER["username"] == "xxgk_test_bot"


# ---- the registry's name matcher: built at start, once -----------------------------------------


def test_the_bot_builds_the_name_matcher_at_start_and_concurrent_lookups_build_it_once(store, monkeypatch) -> None:
    """A cold start on the national store takes ~15 s to build the matcher: post_init builds it in
    a thread, and lookups arriving meanwhile wait for that build instead of each starting one."""
    import threading

    from compliance import registry
    from query import scope

    builds: list[int] = []
    gate = threading.Event()
    real = registry.AgencyMatcher.from_session.__func__

    def slow_build(cls, s):  # noqa: ANN001, ANN202
        builds.append(1)
        gate.wait(10)  # hold the build until the lookups below are waiting on it
        return real(cls, s)

    monkeypatch.setattr(registry.AgencyMatcher, "from_session", classmethod(slow_build))
    monkeypatch.setattr(scope, "_MATCHERS", {})
    monkeypatch.setattr(scope, "_CHECKED", {})

    async def scenario(h: Harness) -> None:
        for _ in range(100):  # the warm-up thread has started building
            if builds:
                break
            await asyncio.sleep(0.02)
        assert builds == [1]

        def lookup() -> list:
            with store.connect() as conn:
                return scope.find_agencies(conn, "镇海区人力社保局")  # no exact name: the matcher

        lookups = [asyncio.create_task(asyncio.to_thread(lookup)) for _ in range(4)]
        await asyncio.sleep(0.3)
        gate.set()
        found = await asyncio.gather(*lookups)
        assert all(found) and builds == [1]

    run(store, scenario)
