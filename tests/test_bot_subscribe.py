"""The bot's /subscribe and /subscriptions, end to end on the fake Bot API server
(tests/fake_telegram.py) with the real Application and the store of tests/test_bot.py: the buttons,
typed names and quiet hours, the Subscriber rows they make, the alerts those rows then receive
(compliance.alerts.deliver through the Telegram channel, to the same fake server), access control
and forged buttons."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select

import test_bot
from bot.callbacks import CallbackSigner
from compliance.alerts import create_alerts, deliver
from compliance.channels import TelegramChannel
from db.engine import session
from db.models import Agency, AlertDelivery, Subscriber, TrackedFinding
from fake_telegram import TOKEN, Call, FakeTelegram
from test_bot import ALICE, BOB, GROUP, JIASHAN_FINANCE, STRANGER, Harness, finding_id, run

# test_bot's store: built once for this module, a copy per test.
template = test_bot.template
store = test_bot.store

STALE = "按钮已失效，请重新发送 /subscribe"
OLD = "这个按钮已过期，请使用最新的那条消息"


def labels(bot: Harness, sent: Call) -> list[str]:
    """The buttons under a message the bot sent, as it is now."""
    return list(bot.fake.buttons(sent))


def subscribers(engine: Engine) -> list[Subscriber]:
    with session(engine) as s:
        return list(s.exec(select(Subscriber).order_by(Subscriber.id)).all())


def agency_id(engine: Engine, name: str) -> int:
    with session(engine) as s:
        return s.exec(select(Agency.id).where(Agency.name == name)).one()


async def through(bot: Harness, sender: dict[str, Any], sent: Call, *presses: str) -> Call:
    """Press `presses` in turn under `sent` (edited in place); the last edit."""
    edit = None
    for label in presses:
        answered, edit = await bot.press(sender, sent, label)
        assert edit is not None and edit.ok, (label, answered.params, labels(bot, sent))
    assert edit is not None
    return edit


# ---- subscribing -------------------------------------------------------------------------------


def test_subscribe_by_drilling_down_then_the_chat_gets_the_alerts(store: Engine) -> None:
    async def scenario(bot: Harness) -> None:
        first = await bot.say(ALICE, "/subscribe")
        assert first.ok and first.text.startswith("<b>订阅告警</b>（第 1/6 步：地区）")
        assert labels(bot, first) == ["全部地区", "北京市", "吉林省", "浙江省", "福建省", "输入地区名称", "取消"]

        zhejiang = await through(bot, ALICE, first, "浙江省")
        assert "浙江省：订阅整个地区，或选择下级地区" in zhejiang.text
        assert labels(bot, first) == ["订阅整个浙江省", "宁波市", "嘉兴市", "返回上一级", "输入地区名称", "取消"]
        await through(bot, ALICE, first, "嘉兴市")
        assert labels(bot, first)[:2] == ["订阅整个浙江省嘉兴市", "嘉善县"]
        back = await through(bot, ALICE, first, "返回上一级")  # and down again
        assert "浙江省：订阅整个地区" in back.text
        level = await through(bot, ALICE, first, "嘉兴市", "订阅整个浙江省嘉兴市")
        assert "（第 2/6 步：层级）" in level.text
        assert "已选 地区：浙江省嘉兴市（330400）及下辖" in level.text
        assert labels(bot, first) == ["部门", "人民政府", "乡镇（街道）", "不限", "上一步", "取消"]

        confirm = await through(bot, ALICE, first, "部门", "不限（范围内全部单位）", "仅错误", "每日汇总（每天一条）",
                                "22:00–07:00")
        assert confirm.text.startswith("<b>订阅告警：请确认</b>")
        for line in ("地区：浙江省嘉兴市（330400）及下辖", "层级：部门", "单位：不限", "最低级别：仅错误",
                     "接收方式：每日汇总", "免打扰时段：22:00–07:00（北京时间）"):
            assert line in confirm.text, line
        assert labels(bot, first) == ["确认订阅", "上一步", "取消"]
        assert subscribers(store) == []  # nothing stored before 确认订阅

        done = await through(bot, ALICE, first, "确认订阅")
        (sub,) = subscribers(store)
        assert done.text.startswith(f"<b>已订阅（编号 {sub.id}）</b>") and labels(bot, first) == []
        assert (sub.channel, sub.target, sub.region_code, sub.level, sub.agency_id) == (
            "telegram", str(ALICE["id"]), "330400", "department", None)
        assert (sub.min_severity, sub.mode, sub.quiet_from, sub.quiet_until, sub.active) == (
            "error", "digest", time(22, 0), time(7, 0), True)
        assert sub.name.endswith(f"（Telegram {ALICE['id']} #1）")

        # The row is a subscriber like any: 嘉善县财政局's late report reaches this chat, in its digest,
        # after its quiet hours.
        with session(store) as s:
            findings = s.exec(select(TrackedFinding).order_by(TrackedFinding.id)).all()
            create_alerts(s, list(findings), datetime(2022, 6, 1, 14, tzinfo=UTC))
        channel = TelegramChannel(TOKEN, base_url=bot.fake.base_url)
        try:
            night = await deliver(store, now=datetime(2022, 6, 1, 15, tzinfo=UTC), digest=True,  # 23:00 北京
                                  channels={"telegram": channel})
            assert night.sent == [] and night.quiet == 1
            mark = bot.fake.mark()
            morning = await deliver(store, now=datetime(2022, 6, 2, 0, 30, tzinfo=UTC), digest=True,  # 08:30
                                    channels={"telegram": channel})
        finally:
            await channel.aclose()
        assert [o.subscriber for o in morning.sent] == [sub.name] and morning.sent_count == 1
        (sent,) = bot.fake.find("sendMessage", mark)
        assert sent.ok and sent.params["chat_id"] == ALICE["id"]
        assert "政务公开告警汇总" in sent.text and JIASHAN_FINANCE in sent.text and "逾期发布" in sent.text

    run(store, scenario)


def test_typed_names_ambiguous_names_and_typed_quiet_hours(store: Engine) -> None:
    async def scenario(bot: Harness) -> None:
        first = await bot.say(ALICE, "/subscribe")
        prompt = await through(bot, ALICE, first, "输入地区名称")
        assert "请输入地区名称或代码" in prompt.text and labels(bot, first) == ["返回", "取消"]

        unknown = await bot.say(ALICE, "火星")  # the typed name, not a question
        assert "找不到地区：火星。请重新输入：" in unknown.text and "请输入地区名称或代码" in unknown.text
        await bot.settle()
        assert labels(bot, first) == []  # the step moved to the new message
        hostile = await bot.say(ALICE, '<i>火星"&')  # escaped: Telegram (the stricter fake) took it
        assert hostile.ok and "找不到地区：&lt;i&gt;火星&quot;&amp;。请重新输入：" in hostile.text
        several = await bot.say(ALICE, "朝阳区")
        assert "「朝阳区」对应多个地区，请选择：" in several.text
        assert labels(bot, several) == ["北京市朝阳区", "吉林省长春市朝阳区", "重新输入", "返回", "取消"]
        changchun = await through(bot, ALICE, several, "吉林省长春市朝阳区")
        assert "已选 地区：吉林省长春市朝阳区（220104）及下辖" in changchun.text
        await through(bot, ALICE, several, "上一步", "全部地区", "不限", "输入单位名称")

        # 嘉善县财政局 is not in 长春市朝阳区; with 全部地区 the short name means two agencies.
        agencies = await bot.say(ALICE, "县财政局")
        assert "「县财政局」对应多个单位，请选择：" in agencies.text
        assert labels(bot, agencies) == [f"{JIASHAN_FINANCE}（浙江省嘉兴市嘉善县）", "连江县财政局（福建省福州市连江县）",
                                         "重新输入", "不限（范围内全部单位）", "上一步", "取消"]
        await through(bot, ALICE, agencies, f"{JIASHAN_FINANCE}（浙江省嘉兴市嘉善县）", "警告及以上",
                      "即时推送（每条告警一条消息）", "输入时段")
        bad = await bot.say(ALICE, "25:00-07:00")
        assert "免打扰时段中的时间无效" in bad.text and "请重新输入" in bad.text
        confirm = await bot.say(ALICE, "23:30 - 06:00")
        assert "免打扰时段：23:30–06:00（北京时间）" in confirm.text and f"单位：{JIASHAN_FINANCE}" in confirm.text
        await through(bot, ALICE, confirm, "确认订阅")
        (sub,) = subscribers(store)
        assert (sub.region_code, sub.level, sub.agency_id, sub.min_severity, sub.mode) == (
            None, None, agency_id(store, JIASHAN_FINANCE), "warning", "immediate")
        assert (sub.quiet_from, sub.quiet_until, sub.target) == (time(23, 30), time(6, 0), str(ALICE["id"]))

        # The same again: refused, not stored twice.
        again = await bot.say(ALICE, "/subscribe")
        await through(bot, ALICE, again, "全部地区", "不限", "输入单位名称")
        chosen = await bot.say(ALICE, "嘉善县财政局")  # one agency: chosen at once
        assert "（第 4/6 步：最低级别）" in chosen.text
        await through(bot, ALICE, chosen, "警告及以上", "即时推送（每条告警一条消息）", "输入时段")
        twice = await bot.say(ALICE, "23:30-06:00")
        refused = await through(bot, ALICE, twice, "确认订阅")
        assert refused.text.startswith("本聊天已有相同的订阅") and len(subscribers(store)) == 1

        # An agency outside the region chosen is refused with the reason.
        other = await bot.say(ALICE, "/subscribe")
        await through(bot, ALICE, other, "输入地区名称")
        lianjiang = await bot.say(ALICE, "连江县")
        await through(bot, ALICE, lianjiang, "部门", "输入单位名称")
        outside = await bot.say(ALICE, JIASHAN_FINANCE)
        assert f"「{JIASHAN_FINANCE}」不在所选地区（福建省福州市连江县（350122）及下辖）内" in outside.text
        cancelled = await through(bot, ALICE, outside, "返回", "取消")
        assert cancelled.text.startswith("已取消订阅设置") and len(subscribers(store)) == 1

        # No input is awaited any more: a question is a question again.
        answer = await bot.say(ALICE, "镇海区人社局2021年收到多少申请")
        assert "2021年度本年新收申请：12 件" in answer.text

    run(store, scenario)


@pytest.fixture
def force_reply(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake server as Telegram for a message sent with ForceReply: a Message's reply_markup is
    only ever an inline keyboard, so the ForceReply is not part of the message sent back (the fake
    server would return it, and PTB could not read it)."""
    store_message = FakeTelegram._store

    def _store(self: FakeTelegram, chat: dict[str, Any], text: str,
               markup: dict[str, Any] | None) -> dict[str, Any]:
        inline = markup if markup is None or "inline_keyboard" in markup else None
        return store_message(self, chat, text, inline)

    monkeypatch.setattr(FakeTelegram, "_store", _store)


def test_in_a_group_typed_input_is_a_reply_to_the_prompt(store: Engine, force_reply: None) -> None:
    async def scenario(bot: Harness) -> None:
        first = await bot.say(ALICE, "/subscribe", chat=GROUP)
        await through(bot, ALICE, first, "全部地区", "人民政府", "不限（范围内全部单位）", "全部（含提示）",
                      "即时推送（每条告警一条消息）")
        mark = bot.fake.mark()
        await through(bot, ALICE, first, "输入时段")
        prompt = await bot.fake.wait_for("sendMessage", since=mark)
        assert prompt.params["chat_id"] == GROUP["id"]
        assert prompt.params["reply_markup"]["force_reply"] is True
        assert prompt.params["reply_markup"]["selective"] is True and "请输入免打扰时段" in prompt.text

        # Chatter that is not a reply to the prompt is left alone; so is another member's reply.
        mark = bot.fake.mark()
        bot.fake.send(ALICE, "22:00-07:00", chat=GROUP)
        await bot.settle()
        assert bot.fake.find("sendMessage", mark, where=lambda c: c.params["chat_id"] == GROUP["id"]) == []
        prompt_message = bot.fake.message(GROUP["id"], prompt.result["message_id"])
        mark = bot.fake.mark()
        bot.fake.send(BOB, "21:00-08:00", chat=GROUP, reply_to=prompt_message)
        await bot.settle()
        in_group = bot.fake.find("sendMessage", mark, where=lambda c: c.params["chat_id"] == GROUP["id"])
        assert all("<b>订阅告警" not in c.text for c in in_group)

        confirm = await bot.say(ALICE, "22:30-07:30", chat=GROUP, reply_to=prompt_message)
        assert "免打扰时段：22:30–07:30（北京时间）" in confirm.text
        await through(bot, ALICE, confirm, "确认订阅")
        (sub,) = subscribers(store)
        assert (sub.target, sub.level, sub.min_severity, sub.quiet_from, sub.quiet_until) == (
            str(GROUP["id"]), "government", "info", time(22, 30), time(7, 30))

    run(store, scenario)


# ---- access and forged buttons ---------------------------------------------------------------------


def test_unapproved_users_and_forged_buttons_cannot_subscribe(store: Engine) -> None:
    async def scenario(bot: Harness) -> None:
        refused = await bot.say(STRANGER, "/subscribe")
        assert "还没有获得授权" in refused.text and "订阅告警" not in refused.text

        first = await bot.say(ALICE, "/subscribe")
        data = bot.fake.buttons(first)
        action, key, number, tag = data["浙江省"].split(".")
        version = int(number) // 100
        forged = [
            f"{action}.{key}.{int(number) + 1}.{tag}",  # another option, the old tag
            f"{action}.{key}.{number}.{'A' * 12}",  # a made-up tag
            f"r.{key}.{number}.{tag}",  # another action
            CallbackSigner("another-token").sign("u", key, int(number)),  # signed with another key
            CallbackSigner(TOKEN).sign("u", "AAAAAAAA", int(number)),  # well signed, no such draft
            "u.x'; DROP TABLE subscriber; --",
        ]
        for bad in forged:
            answered = await bot.callback(ALICE, first, bad)
            assert answered.params["text"] in (STALE, "按钮已失效，请重新发送 /subscriptions"), bad
        stale_version = CallbackSigner(TOKEN).sign("u", key, (version + 7) * 100)  # signed, another version
        assert (await bot.callback(ALICE, first, stale_version)).params["text"] == OLD

        # An unapproved user pressing an approved user's button: refused by the gate.
        answered = await bot.callback(STRANGER, first, data["浙江省"])
        assert answered.params["show_alert"] is True and "还没有获得使用这个机器人的授权" in answered.params["text"]
        assert bot.fake.find("editMessageText") == []

        # In a group: another approved member may not press someone else's /subscribe; a button of the
        # group's message pressed under a message of another chat is stale.
        in_group = await bot.say(ALICE, "/subscribe", chat=GROUP)
        group_data = bot.fake.buttons(in_group)["全部地区"]
        answered = await bot.callback(BOB, in_group, group_data)
        assert answered.params["show_alert"] is True and "其他人正在进行的订阅设置" in answered.params["text"]
        assert (await bot.callback(ALICE, first, group_data)).params["text"] == STALE
        assert bot.fake.find("editMessageText") == []

        # The real buttons work; an older button of a message that moved on is refused.
        await through(bot, ALICE, first, "浙江省")
        assert (await bot.callback(ALICE, first, data["全部地区"])).params["text"] == OLD
        await through(bot, ALICE, first, "订阅整个浙江省", "不限", "不限（范围内全部单位）", "警告及以上",
                      "即时推送（每条告警一条消息）", "不设免打扰", "确认订阅")
        (sub,) = subscribers(store)
        assert (sub.target, sub.region_code, sub.quiet_from) == (str(ALICE["id"]), "330000", None)
        # A finished /subscribe's buttons are stale.
        assert (await bot.callback(ALICE, first, data["浙江省"])).params["text"] == STALE
        assert len(subscribers(store)) == 1

    run(store, scenario)


# ---- /subscriptions -------------------------------------------------------------------------------


def add(engine: Engine, name: str, target: int | str, channel: str = "telegram", **values: Any) -> int:
    with session(engine) as s:
        sub = Subscriber(name=name, channel=channel, target=str(target),
                         created_at=datetime(2022, 5, 1, tzinfo=UTC), **values)
        s.add(sub)
        s.flush()
        return sub.id  # type: ignore[return-value]


def test_subscriptions_lists_this_chats_own_and_removes_them(store: Engine) -> None:
    jiashan_finance = agency_id(store, JIASHAN_FINANCE)
    alice_zhejiang = add(store, "A1", ALICE["id"], region_code="330000", min_severity="info",
                         quiet_from=time(22, 0), quiet_until=time(7, 0))
    alice_agency = add(store, "A2", ALICE["id"], agency_id=jiashan_finance, mode="digest")
    add(store, "A-webhook", ALICE["id"], channel="webhook", region_code="350000")  # not a chat of this bot
    add(store, "A-old", ALICE["id"], region_code="110000", active=False)  # removed before
    bob = add(store, "B1", BOB["id"], region_code="350000", min_severity="info")
    group = add(store, "G1", GROUP["id"], level="township")
    with session(store) as s:  # waiting alerts: 嘉善县财政局's late report, for A1, A2 and B1? (B1: 福建 only)
        create_alerts(s, [s.get(TrackedFinding, finding_id(store, JIASHAN_FINANCE, "late"))],
                      datetime(2022, 6, 1, tzinfo=UTC))

    async def scenario(bot: Harness) -> None:
        listing = await bot.say(ALICE, "/subscriptions")
        assert listing.text.startswith("<b>本聊天的告警订阅（2 个）</b>")
        assert f"1. 范围：浙江省（330000）及下辖（编号 {alice_zhejiang}）" in listing.text
        assert "最低级别：全部（含提示）；方式：即时推送；免打扰：22:00–07:00（北京时间）" in listing.text
        assert f"2. 范围：全部地区、{JIASHAN_FINANCE}（编号 {alice_agency}）" in listing.text
        assert "方式：每日汇总；免打扰：不设" in listing.text
        assert "福建省" not in listing.text and "北京市" not in listing.text  # not the webhook's, not the old one
        assert labels(bot, listing) == ["取消订阅 1", "取消订阅 2"]
        old_data = bot.fake.buttons(listing)

        bobs = await bot.say(BOB, "/subscriptions")
        assert "（1 个）" in bobs.text and "福建省（350000）及下辖" in bobs.text and "浙江" not in bobs.text
        in_group = await bot.say(ALICE, "/subscriptions", chat=GROUP)
        assert "（1 个）" in in_group.text and "全部地区、乡镇（街道）" in in_group.text
        refused = await bot.say(STRANGER, "/subscriptions")
        assert "还没有获得授权" in refused.text

        # ALICE's button pressed under BOB's list (another chat), and forged ones: refused.
        stale = "按钮已失效，请重新发送 /subscriptions"
        answered = await bot.callback(BOB, bobs, old_data["取消订阅 1"])
        assert answered.params["text"] == stale
        _, key, _, tag = old_data["取消订阅 2"].split(".")
        for bad in (f"r.{key}.0.{tag}", f"r.{key}.5.{tag}", CallbackSigner(TOKEN).sign("r", key, 7),
                    CallbackSigner("x").sign("r", key, 0)):
            assert (await bot.callback(ALICE, listing, bad)).params["text"] == stale, bad
        assert {s.name: s.active for s in subscribers(store)} == {
            "A1": True, "A2": True, "A-webhook": True, "A-old": False, "B1": True, "G1": True}

        answered, edited = await bot.press(ALICE, listing, "取消订阅 1")
        assert answered.params["text"] == "已取消订阅 1"
        assert edited is not None and edited.text.startswith("<b>本聊天的告警订阅（1 个）</b>")
        assert "浙江省（330000）" not in edited.text and f"1. 范围：全部地区、{JIASHAN_FINANCE}" in edited.text
        assert labels(bot, listing) == ["取消订阅 1"]
        # The old button of the removed one: nothing more to do.
        again = await bot.callback(ALICE, listing, old_data["取消订阅 1"])
        assert again.params["text"] == "这个订阅已经取消了"

        _, emptied = await bot.press(ALICE, in_group, "取消订阅 1")
        assert emptied is not None and emptied.text == "本聊天还没有订阅告警。发送 /subscribe 订阅。"

    run(store, scenario)
    states = {s.name: s.active for s in subscribers(store)}
    assert states == {"A1": False, "A2": True, "A-webhook": True, "A-old": False, "B1": True, "G1": False}
    with session(store) as s:
        rows = s.exec(sa.select(AlertDelivery.subscriber_id, AlertDelivery.state)).all()
        deliveries = dict(rows)
    assert deliveries[alice_zhejiang] == "cancelled"  # its waiting alert went with it
    assert deliveries[alice_agency] == "pending" and bob not in deliveries and group not in deliveries


def test_help_and_menu_name_the_subscription_commands(store: Engine) -> None:
    async def scenario(bot: Harness) -> None:
        menu = [c["command"] for c in bot.fake.commands]
        assert "subscribe" in menu and "subscriptions" in menu
        reply = await bot.say(ALICE, "/help")
        assert "/subscribe — 订阅告警" in reply.text and "/subscriptions — 查看和取消本聊天的告警订阅" in reply.text

    run(store, scenario)


def test_typed_input_is_awaited_for_a_while_only() -> None:
    from bot.conversations import SubscriptionDraft
    from bot.handlers.subscribe import INPUT_TIMEOUT_S, SubscribeState

    now = [0.0]
    st = SubscribeState(clock=lambda: now[0])
    draft = SubscriptionDraft(chat_id=1, user_id=1, awaiting="region")
    key = st.drafts.put(draft)
    st.awaiting[(1, 1)] = (key, now[0])
    assert st.waiting_draft(1, 1) == (key, draft) and st.waiting_draft(1, 2) is None
    now[0] = INPUT_TIMEOUT_S + 1  # forgotten: the next text is a question again
    assert st.waiting_draft(1, 1) is None and (1, 1) not in st.awaiting
