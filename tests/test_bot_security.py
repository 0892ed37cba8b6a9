"""The bot under hostile input, end to end (issue 7): the real python-telegram-bot Application on
the fake Bot API server (tests/fake_telegram.py), on a copy of tests/test_bot.py's store with
agencies, a region and findings whose names and texts carry HTML, Markdown, bidi overrides and
overlong text, as a crawled site could.

- What the bot repeats back (agency and region names, finding texts, the question itself) arrives
  shown literally: every message sent in parse mode HTML passes a strict checker (html.parser) that
  allows only the markup the bot itself emits, and the injected markup is in the visible text.
- Control, zero-width and bidi characters are dropped from questions and from what is shown.
- Overlong questions are refused; overlong answers are paged, never over Telegram's 4096 UTF-16
  code units (the fake server refuses what Telegram refuses).
- Whatever a user types reaches SQL only as a bound parameter (a before_cursor_execute listener
  sees every statement), and the store is intact afterwards.
- Who gets in: strangers (private and groups) get the refusal and no data; a user revoked while a
  /subscribe or a paged answer is open cannot finish it, not even after a new approval; admin
  commands from a normal user are refused; forged, replayed, foreign and expired buttons are
  refused and change nothing.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

import test_bot
from bot.callbacks import CallbackSigner
from bot.handlers import subscribe
from bot.services import KEY
from bot.text import clean, escaped, shown, utf16_len
from checks import model as cm
from checks.model import CST
from compliance.registry import import_registry, parse_registry_csv
from compliance.sweep import sweep
from databases import built_store, store_copy
from db.engine import session
from db.models import Subscriber
from fake_telegram import TOKEN, Call, FakeTelegram, group, user
from store_builders import report, save
from test_bot import ADMIN, ALICE, BOB, GROUP, HRSS, STRANGER, TODAY, Harness, finding_id, run
from xxgk.config import DeadlinesConfig

# ---- the hostile store ------------------------------------------------------------------------------

SCRIPT = "<script>x</script>某局&amp;"  # HTML, and an entity that must not be decoded
MARKDOWN = "*粗*_斜_[链](tg://user?id=1)`码`局"  # Markdown means nothing in parse mode HTML
CLOSER = '</code></b><a href="tg://user?id=1">点</a>某办'  # closes the bot's tags, opens a link
BIDI = "海盐县\u202e局政财\u202c\u200b"  # a right-to-left override and a zero-width space
ASTRAL = "\U00020000" * 2100 + "局"  # 2,101 characters, 4,201 UTF-16 code units: over a message alone
MATH = "数学$\\notacommand{x}$局"  # matplotlib's mathtext, in a chart's labels
HOSTILE_AGENCIES = (SCRIPT, MARKDOWN, CLOSER, BIDI, ASTRAL, MATH)
HAIYAN = "330424"
FINDING_TEXT = '占位符 <b>（具体网址）</b></code>&lt;i&gt; *粗* [链](tg://user?id=1) &amp;'
LONG_FINDING = FINDING_TEXT + "长" * 5000
INJECTED_FINDING = cm.Finding(rule="placeholder_text", severity="warning", message=FINDING_TEXT,
                              where="五、存在的主要问题")
LONG = cm.Finding(rule="stale_text", severity="warning", message=LONG_FINDING, where="六、其他需要报告的事项")

KNOWN_USERS = {ADMIN["id"], ALICE["id"], BOB["id"], STRANGER["id"]}  # the only tg://user links the bot makes
STALE = "按钮已失效，请重新提问"
STALE_SUBSCRIBE = "按钮已失效，请重新发送 /subscribe"
STALE_LIST = "按钮已失效，请重新发送 /subscriptions"
NOT_APPROVED = "还没有获得使用这个机器人的授权"


def build(engine: Engine) -> None:
    """tests/test_bot.py's store, plus five hostile agencies in 海盐县 (its region name, as the
    registry keeps it, is hostile too), each with a 2021 report carrying an injected finding, and
    the 2021 sweep run again so that the findings are tracked (/report, /issues, /ack)."""
    test_bot.build_store(engine)
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["name", "aliases", "region_code", "region_name", "level", "site", "province_name", "city_name"])
    for name in HOSTILE_AGENCIES:
        writer.writerow([name, "", HAIYAN, "浙江省嘉兴市海盐县<i>&amp;", "部门", "haiyan", "浙江省", "嘉兴市"])
    with session(engine) as s:
        import_registry(s, parse_registry_csv(rows.getvalue()))
    for name in HOSTILE_AGENCIES:
        findings = [INJECTED_FINDING, LONG] if name == SCRIPT else [INJECTED_FINDING]
        save(engine, report(name, 2021, 3, findings=findings), datetime(2022, 1, 20, tzinfo=CST), "haiyan")
    sweep(engine, 2021, today=TODAY, now=datetime(2022, 6, 1, 1, tzinfo=UTC), deadlines=DeadlinesConfig(),
          alert=False)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with built_store(tmp_path_factory.mktemp("bot-security"), build) as url:
        yield url


@pytest.fixture
def store(template: str, tmp_path: Path) -> Iterator[Engine]:
    with store_copy(template, tmp_path) as engine:
        yield engine


def stored_name(engine: Engine, name: str) -> str:
    """An agency's name as the store keeps it."""
    with engine.connect() as conn:
        names = conn.execute(sa.text("SELECT name FROM agency WHERE region_code = :code"), {"code": HAIYAN})
        return next(n for (n,) in names if n == name)


def region_name(engine: Engine) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT name FROM region WHERE code = :code"), {"code": HAIYAN}).scalar_one()


# ---- a strict checker of Telegram HTML ----------------------------------------------------------------


class StrictHTML(HTMLParser):
    """Telegram's HTML subset, narrowed to what this bot emits: <b>, <i>, <code> without
    attributes and <a href="tg://user?id=N"> for a known user; the entities &lt; &gt; &amp; &quot;
    and numeric references; nothing else (a bare < > or &, a comment, another tag or attribute).
    `text` is what the user sees; `problems` what is wrong."""

    SIMPLE = frozenset({"b", "i", "code"})
    _USER_LINK = re.compile(r"^tg://user\?id=(?P<id>[0-9]+)$")

    def __init__(self, users: set[int]) -> None:
        super().__init__(convert_charrefs=False)
        self.users = users
        self.stack: list[str] = []
        self.out: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raw = self.get_starttag_text() or ""
        if tag in self.SIMPLE and not attrs and raw == f"<{tag}>":
            pass
        elif tag == "a" and len(attrs) == 1 and attrs[0][0] == "href":
            m = self._USER_LINK.match(attrs[0][1] or "")
            if m is None or int(m.group("id")) not in self.users:
                self.problems.append(f"link to {attrs[0][1]!r}")
        else:
            self.problems.append(f"tag {raw!r}")
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"self-closing tag <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"unmatched </{tag}> (open: {self.stack})")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        for char in "<>&":
            if char in data:
                self.problems.append(f"bare {char!r} in {data[:40]!r}")
        self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in ("lt", "gt", "amp", "quot"):
            self.problems.append(f"entity &{name};")
        self.out.append({"lt": "<", "gt": ">", "amp": "&", "quot": '"'}.get(name, ""))

    def handle_charref(self, name: str) -> None:
        try:
            self.out.append(chr(int(name[1:], 16) if name[:1] in "xX" else int(name)))
        except ValueError:
            self.problems.append(f"character reference &#{name};")

    def handle_comment(self, data: str) -> None:
        self.problems.append("comment")

    def handle_decl(self, decl: str) -> None:
        self.problems.append("declaration")

    def handle_pi(self, data: str) -> None:
        self.problems.append("processing instruction")

    def unknown_decl(self, data: str) -> None:
        self.problems.append("unknown declaration")

    @property
    def text(self) -> str:
        return "".join(self.out)


def visible(html_text: str, users: set[int] = KNOWN_USERS) -> str:
    """What Telegram shows for `html_text`; AssertionError when it is not the bot's strict HTML."""
    parser = StrictHTML(users)
    parser.feed(html_text)
    parser.close()
    if parser.rawdata:  # HTMLParser keeps an unfinished construct (a lone "<x") back
        parser.problems.append(f"unparsed {parser.rawdata[:40]!r}")
    if parser.stack:
        parser.problems.append(f"unclosed {parser.stack}")
    assert not parser.problems, (parser.problems, html_text[:300])
    return parser.text


def check_everything_sent(fake: FakeTelegram) -> list[str]:
    """Every text and caption the bot sent or edited: in parse mode HTML, strict, within Telegram's
    limits (4096 code units, 200 for a button's answer, invisible characters dropped); what the
    users saw."""
    seen = []
    for call in fake.calls:
        if call.method == "answerCallbackQuery":
            text = str(call.params.get("text") or "")
            assert "parse_mode" not in call.params and len(text) <= 200, call.params
            assert shown(text) == text
            continue
        for name in ("text", "caption"):
            if name not in call.params:
                continue
            assert call.params.get("parse_mode") == "HTML", (call.method, call.params)
            text = visible(str(call.params[name]))
            assert utf16_len(text) <= 4096 and text.strip(), (call.method, len(text))
            assert shown(text) == text, f"invisible characters in {text[:80]!r}"
            seen.append(text)
        for row in (call.params.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                assert len(button["text"]) <= 60 and clean(button["text"]) == button["text"], button
    refused = [(c.method, c.error) for c in fake.calls if not c.ok]
    # Telegram refuses only the approval notice to a user who never wrote to the bot (that is fine).
    assert all(error and error.startswith("Forbidden: bot can't initiate") for _, error in refused), refused
    return seen


def test_the_strict_checker_refuses_what_the_bot_never_sends() -> None:
    assert visible('<b>标题</b>\n<i>按已收录的 1 份报告统计</i> <code>5005</code> &lt;&amp;&gt;&quot;&#x27;') == \
        "标题\n按已收录的 1 份报告统计 5005 <&>\"'"
    assert visible(f'<a href="tg://user?id={ADMIN["id"]}">管理员</a>') == "管理员"
    for bad in ("<b>未闭合", "</b>", "<u>x</u>", '<b class="x">x</b>', '<a href="https://evil.example">x</a>',
                '<a href="tg://user?id=1">x</a>', "a & b", "a > b", "&nbsp;", "<!-- x -->", "<script>x</script>",
                "<b><i>x</b></i>", "<br/>"):
        with pytest.raises(AssertionError):
            visible(bad)


def test_text_helpers() -> None:
    assert clean(" 镇海区\u200b人社局\u202e 2021年\x07收到\r\n多少\u3000申请\ufeff ") == "镇海区人社局 2021年收到 多少 申请"
    assert shown("第一行\n\u202e第二行\x00") == "第一行\n第二行"
    assert escaped('<a href="x">&\u202e') == "&lt;a href=&quot;x&quot;&gt;&amp;"
    assert utf16_len("\U00020000局") == 3


# ---- input: markup, invisible characters, length --------------------------------------------------------


async def all_pages(bot: Harness, sender: dict[str, Any], sent: Call) -> list[Call]:
    """The answer `sent` and every further page, 「下一页」 pressed until there is none."""
    pages = [sent]
    while "下一页" in bot.fake.buttons(sent):
        _, page = await bot.press(sender, sent, "下一页")
        assert page is not None and page.ok, page
        pages.append(page)
    return pages


async def say_for(bot: Harness, method: str, sender: dict[str, Any], text: str) -> Call:
    """`sender` writes `text`; the bot's next `method` call (a photo, a document)."""
    mark = bot.fake.mark()
    bot.fake.send(sender, text)
    return await bot.fake.wait_for(method, since=mark, timeout=30)


def test_markup_from_the_store_and_from_users_arrives_escaped(store: Engine) -> None:
    script, markdown, closer = (stored_name(store, n) for n in (SCRIPT, MARKDOWN, CLOSER))
    region = region_name(store)
    assert "&amp" in region  # the registry keeps some of the hostile region name

    async def scenario(bot: Harness) -> None:
        listing = await bot.say(ALICE, "2021年哪些单位收到了申请")
        shown_text = "\n".join(visible(p.text) for p in await all_pages(bot, ALICE, listing))
        for name in (script, markdown, closer):
            assert name in shown_text, name  # as stored: tags, entities and Markdown shown literally
        assert region in shown_text
        html_sent = [c.text for c in bot.fake.calls if c.method in ("sendMessage", "editMessageText")]
        assert not any("<script>" in t for t in html_sent)
        assert any("&lt;script&gt;x&lt;/script&gt;某局&amp;amp;" in t for t in html_sent)

        report_ = await bot.say(ALICE, f"/report {script} 2021")
        assert report_.ok and visible(report_.text).startswith(f"{script}2021年度报告")
        assert FINDING_TEXT in visible(report_.text)
        issues = await bot.say(ALICE, f"/issues 2021 {HAIYAN} 警告")
        assert FINDING_TEXT in visible(issues.text) and closer in visible(issues.text)
        stats = await bot.say(ALICE, f"/stats 2021 {HAIYAN}")
        assert f"2021年度{region}主要数据" in visible(stats.text)
        # /chart's caption and /export's caption and file name carry the region name too
        chart = await say_for(bot, "sendPhoto", ALICE, f"/chart 申请 2021 {HAIYAN}")
        assert region in visible(chart.params["caption"])
        exported = await say_for(bot, "sendDocument", ALICE, f"/export 2021 {HAIYAN}")
        assert region in visible(exported.params["caption"])
        assert "<" not in exported.params["document"]["filename"]

        # What users type, repeated back.
        typed = '<a href="tg://user?id=1">点我</a></code>&lt;b&gt;*粗*[链](tg://user?id=1)'
        for text, echo in (
            (f"{typed}局2021年收到多少申请", "点我/a/code&ltb&gt*粗*[链](tg//userid=1)局"),  # the name it read
            (f"/stats 2021 {typed}", typed.replace(" ", "")),
            (f"/report {typed}", typed.replace(" ", "")),
            (f"/top {typed}", "未知的指标：<a（"),
            (f"/ack 99999 {typed}", "没有编号为 99999 的问题"),
        ):
            reply = await bot.say(ALICE, text)
            assert reply.ok and echo in visible(reply.text), (text, reply.text)
        await bot.say(ALICE, "/subscribe")
        prompt = bot.fake.find("sendMessage", where=lambda c: c.text.startswith("<b>订阅告警</b>"))[-1]
        await bot.press(ALICE, prompt, "输入地区名称")
        notice = await bot.say(ALICE, typed)
        assert f"找不到地区：{typed.replace(' ', '')}" in visible(notice.text) or typed in visible(notice.text)

        # In a group the refusal names the stranger; a hostile name is escaped there too.
        hostile = user(6060, '<b>x</b><a href="tg://user?id=1">&amp;', "*y*")
        refused = await bot.say(hostile, "/stats 2021", chat=GROUP)
        assert visible(refused.text).startswith('抱歉，<b>x</b><a href="tg://user?id=1">&amp; *y*，')
        check_everything_sent(bot.fake)

    run(store, scenario, page_size=50)


def test_invisible_characters_are_dropped(store: Engine) -> None:
    async def scenario(bot: Harness) -> None:
        plain = await bot.say(ALICE, "镇海区人社局2021年收到多少申请")
        assert visible(plain.text).startswith(f"{HRSS}2021年度本年新收申请：12 件")
        garbled = await bot.say(ALICE, "镇海区\u200b人社局\u202e2021年\x07收到\ufeff多少\u2066申请\u00ad")
        assert garbled.text == plain.text  # the same question
        stats = await bot.say(ALICE, "/stats 2021\u200b 浙江\u200d省\u202e")
        assert "2021年度浙江省主要数据（合计）" in visible(stats.text)

        # An override in a stored name never reaches the user: the line reads as stored, left to right.
        listing = await bot.say(ALICE, "2021年哪些单位收到了申请")
        pages = await all_pages(bot, ALICE, listing)
        assert any("海盐县局政财（" in visible(p.text) for p in pages)
        assert not any("\u202e" in p.text for p in pages)
        check_everything_sent(bot.fake)

    run(store, scenario, page_size=50)


def test_overlong_questions_and_answers(store: Engine) -> None:
    script = stored_name(store, SCRIPT)
    long_id = finding_id(store, script, "stale_text")

    async def scenario(bot: Harness) -> None:
        too_long = await bot.say(ALICE, "浙" * 4096)
        assert visible(too_long.text) == "问题太长了（4096 字），请精简到 300 字以内。"
        markup = await bot.say(ALICE, "<b>" * 1000)  # 3,000 characters that would escape to 4,000
        assert markup.ok and "问题太长了（3000 字）" in markup.text
        args = await bot.say(ALICE, "/report " + "局" * 500)
        assert visible(args.text).startswith("参数太长了。")

        # A list with a name of 4,201 UTF-16 code units: paged, every page within Telegram's limit.
        listing = await bot.say(ALICE, "2021年哪些单位收到了申请")
        pages = await all_pages(bot, ALICE, listing)
        assert len(pages) >= 2 and any("\U00020000" * 100 in p.text for p in pages)
        assert all(utf16_len(visible(p.text)) <= 4096 for p in pages)

        # A finding text of 5,000 characters: /report fits it into one message; /ack repeats it cut.
        report_ = await bot.say(ALICE, f"/report {script} 2021")
        assert any("长长长" in p.text for p in await all_pages(bot, ALICE, report_))
        acked = await bot.say(ALICE, f"/ack {long_id} {'理' * 500}")
        assert acked.ok and visible(acked.text).startswith(f"问题 {long_id} 已确认：") and "理由：" in acked.text
        too_long_reason = await bot.say(ALICE, f"/ack {long_id} {'理' * 501}")
        assert "理由太长了" in too_long_reason.text
        check_everything_sent(bot.fake)

    run(store, scenario, page_size=50)


# ---- SQL ----------------------------------------------------------------------------------------------

METAS = ("'; DROP TABLE agency; --", "%", "_", "\\", '" OR 1=1 --', "%' OR '1'='1", "`; DELETE FROM bot_user")


def snapshot(engine: Engine) -> dict[str, Any]:
    """What must not change behind the bot's back: the tables, the agencies, the users, the
    findings' states, the subscriptions."""
    with engine.connect() as conn:
        return {
            "tables": sorted(sa.inspect(conn).get_table_names()),
            "agencies": conn.execute(sa.text("SELECT id, name FROM agency ORDER BY id")).all(),
            "users": conn.execute(sa.text("SELECT user_id, name, revoked_at FROM bot_user ORDER BY user_id")).all(),
            "findings": conn.execute(sa.text("SELECT id, state FROM tracked_finding ORDER BY id")).all(),
            "subscribers": conn.execute(sa.text("SELECT id, target, active FROM subscriber ORDER BY id")).all(),
            "events": conn.execute(sa.text("SELECT count(*) FROM finding_event")).scalar_one(),
        }


def test_what_users_type_reaches_sql_only_as_bound_parameters(store: Engine) -> None:
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        statements.append((statement, parameters))

    before = snapshot(store)
    late = finding_id(store, test_bot.JIASHAN_FINANCE, "late")
    balance = finding_id(store, test_bot.JIASHAN, "balance")
    markers = [f"QZX{i}MARK{meta}" for i, meta in enumerate(METAS)]

    async def scenario(bot: Harness) -> None:
        event.listen(store, "before_cursor_execute", record)
        try:
            for m in markers:
                for text in (f"{m}局2021年收到多少申请", f"浙江省{m}2021年共收到多少申请", f"{m}历年申请数",
                             f"/report {m} 2021", f"/stats 2021 {m}", f"/late 2021 {m} 部门",
                             f"/issues 2021 {m} 错误", f"/top 申请 2021 {m}", f"/chart 申请 2021 {m}",
                             f"/export 2021 {m}"):
                    reply = await bot.say(ALICE, text)
                    assert reply.ok, (text, reply.error)
                approved = await bot.say(ADMIN, f"/approve 8008 {m}")
                assert approved.ok and m in visible(approved.text)
            wildcard = await bot.say(ALICE, "/report % 2021")  # a LIKE wildcard is a character, not "any"
            assert "没有找到单位「%」" in visible(wildcard.text)
            underscore = await bot.say(ALICE, "/stats 2021 ___")
            assert "找不到地区：___" in visible(underscore.text)

            reason = " ".join(markers)
            acked = await bot.say(ALICE, f"/ack {late} {reason}")
            assert "已确认" in acked.text
            dismissed = await bot.say(ALICE, f"/dismiss {balance} {markers[0]}")
            assert "已标记为误报" in dismissed.text

            first = await bot.say(ALICE, "/subscribe")
            await bot.press(ALICE, first, "输入地区名称")
            region = await bot.say(ALICE, markers[0])
            assert "找不到地区" in visible(region.text)
            for label in ("返回", "全部地区", "不限", "输入单位名称"):
                _, edit = await bot.press(ALICE, region, label)
            agency = await bot.say(ALICE, markers[1])
            assert "没有找到单位" in visible(agency.text)
        finally:
            event.remove(store, "before_cursor_execute", record)
        check_everything_sent(bot.fake)

    run(store, scenario, user_rate_per_minute=1000)

    texts = [s for s, _ in statements]
    assert texts and not [s for s in texts if "QZX" in s or "MARK" in s]
    with_marker = [s for s, p in statements if "QZX" in repr(p)]
    assert len(with_marker) >= 50, len(with_marker)  # the inputs did reach the store, as parameters
    for m in markers:
        assert any(m in repr(p) or m.replace("\\", "\\\\") in repr(p) for _, p in statements), m

    after = snapshot(store)
    assert after["tables"] == before["tables"] and after["agencies"] == before["agencies"]
    assert after["subscribers"] == before["subscribers"]
    assert dict(after["findings"])[late] == "acknowledged" and dict(after["findings"])[balance] == "false_positive"
    with store.connect() as conn:
        reasons = conn.execute(sa.text("SELECT reason FROM finding_event WHERE finding_id IN (:a, :b) "
                                       "AND reason IS NOT NULL ORDER BY id"), {"a": late, "b": balance}).scalars().all()
        name = conn.execute(sa.text("SELECT name FROM bot_user WHERE user_id = 8008")).scalar_one()
    assert reasons == [" ".join(markers), markers[0]]  # stored exactly as typed
    assert name == markers[-1]


# ---- who gets in -----------------------------------------------------------------------------------------

ALL_COMMANDS = ("2021年哪些单位收到了申请", f"/report {HRSS}", "/stats 2021", "/late 2021", "/missing 2021",
                "/issues 2021", "/top 申请 2021", "/chart 申请 2021", "/export 2021", "/ack 1 知道了",
                "/dismiss 1 误报", "/subscribe", "/subscriptions", "/users", "/approve 5005 自己", "/revoke 2002",
                "/crawl", "/help", "/start", "/ask 2021年哪些单位收到了申请", "/nosuchcommand")


def test_strangers_get_the_refusal_and_no_data(store: Engine) -> None:
    before = snapshot(store)
    other_group = group(-100888, "另一个群")

    async def scenario(bot: Harness) -> None:
        mark = bot.fake.mark()
        for text in ALL_COMMANDS:
            refused = await bot.say(STRANGER, text)
            assert visible(refused.text).startswith("抱歉，这个机器人只向经过授权的用户开放"), text
        for chat in (GROUP, other_group):
            for text in ALL_COMMANDS:
                if not text.startswith("/"):
                    text = f"@xxgk_test_bot {text}"
                refused = await bot.say(STRANGER, text, chat=chat)
                assert visible(refused.text).startswith("抱歉，陌生人，这个机器人只向经过授权的用户开放"), text
        # Chatter in a group and commands for another bot get nothing at all.
        quiet = bot.fake.mark()
        for text in ("2021年哪些单位收到了申请", "/stats@another_bot 2021"):
            bot.fake.send(STRANGER, text, chat=GROUP)
        await bot.settle()
        assert bot.fake.find("sendMessage", quiet, where=lambda c: c.params["chat_id"] == GROUP["id"]) == []

        # A member's answer in the group: the stranger's presses are refused with an alert.
        listing = await bot.say(ALICE, "/ask 2021年哪些单位收到了申请", chat=GROUP)
        for label in ("下一页",):
            answered, edit = await bot.press(STRANGER, listing, label)
            assert edit is None and NOT_APPROVED in answered.params["text"] and answered.params["show_alert"]

        sent = [c for c in bot.fake.calls[mark:] if c.params.get("chat_id") in (STRANGER["id"], GROUP["id"],
                                                                                 other_group["id"])]
        refusals = [c for c in sent if c.method == "sendMessage" and "还没有获得授权" in c.text]
        assert len(refusals) == 3 * len(ALL_COMMANDS)
        leaked = [c for c in sent if c not in refusals and c.params.get("chat_id") != GROUP["id"]]
        assert leaked == [] and not bot.fake.find("sendDocument", mark) and not bot.fake.find("sendPhoto", mark)
        assert all(HRSS not in c.text and "件" not in c.text for c in refusals)
        check_everything_sent(bot.fake)

    run(store, scenario)
    assert snapshot(store) == before


def test_admin_commands_from_a_normal_user_are_refused(store: Engine) -> None:
    before = snapshot(store)

    async def scenario(bot: Harness) -> None:
        for text in ("/approve 5005 张三", "/revoke 3003", "/users", "/crawl", "/approve", "/revoke"):
            for chat in (None, GROUP):
                reply = await bot.say(ALICE, text, chat=chat)
                assert reply.text == "只有管理员可以使用这个命令。", text
        still = await bot.say(STRANGER, "/help")
        assert "还没有获得授权" in still.text
        bob = await bot.say(BOB, "/help")
        assert "/report" in bob.text and "管理员命令" not in bob.text
        check_everything_sent(bot.fake)

    run(store, scenario)
    assert snapshot(store) == before


async def to_confirm(bot: Harness, sender: dict[str, Any]) -> Call:
    first = await bot.say(sender, "/subscribe")
    for label in ("浙江省", "订阅整个浙江省", "不限", "不限（范围内全部单位）", "警告及以上", "即时推送（每条告警一条消息）",
                  "不设免打扰"):
        answered, edit = await bot.press(sender, first, label)
        assert edit is not None and edit.ok, (label, answered.params)
    assert "确认订阅" in bot.fake.buttons(first)
    return first


def test_a_revoked_user_cannot_finish_what_was_open(store: Engine) -> None:
    with session(store) as s:  # ALICE's private chat and the group are subscribed already
        for target in (ALICE["id"], GROUP["id"]):
            s.add(Subscriber(name=f"订阅 {target}", channel="telegram", target=str(target),
                             created_at=datetime(2022, 5, 1, tzinfo=UTC)))

    async def scenario(bot: Harness) -> None:
        confirm = await to_confirm(bot, ALICE)
        listing = await bot.say(ALICE, "2021年哪些单位收到了申请")
        subscriptions = await bot.say(ALICE, "/subscriptions")
        typing = await bot.say(BOB, "/subscribe")
        await bot.press(BOB, typing, "输入地区名称")

        revoked = await bot.say(ADMIN, f"/revoke {ALICE['id']}")
        assert visible(revoked.text) == f"已撤销 {ALICE['id']} 的授权。\n其私聊中的 1 个告警订阅已停用。"
        await bot.say(ADMIN, f"/revoke {BOB['id']}")

        # While revoked: every press and every typed input is refused at the gate.
        for sent, label in ((confirm, "确认订阅"), (listing, "下一页"), (subscriptions, "取消订阅 1")):
            answered, edit = await bot.press(ALICE, sent, label)
            assert edit is None and NOT_APPROVED in answered.params["text"], label
        typed = await bot.say(BOB, "宁波市")
        assert "还没有获得授权" in typed.text

        # Approved again: what was open before stays closed.
        await bot.say(ADMIN, f"/approve {ALICE['id']}")
        await bot.say(ADMIN, f"/approve {BOB['id']}")
        mark = bot.fake.mark()
        for sent, label, stale in ((confirm, "确认订阅", STALE_SUBSCRIBE), (listing, "下一页", STALE),
                                   (subscriptions, "取消订阅 1", STALE_LIST)):
            answered, edit = await bot.press(ALICE, sent, label)
            assert edit is None and answered.params["text"] == stale, label
        question = await bot.say(BOB, "宁波市")  # a question now, not the region /subscribe asked for
        assert "订阅告警" not in question.text
        assert bot.fake.find("editMessageText", mark) == []
        check_everything_sent(bot.fake)

    run(store, scenario)
    with store.connect() as conn:
        rows = conn.execute(sa.text("SELECT target, active FROM subscriber ORDER BY id")).all()
    assert [(t, bool(a)) for t, a in rows] == [(str(ALICE["id"]), False), (str(GROUP["id"]), True)]  # none added


def test_a_press_racing_a_revocation_stores_nothing(store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The gate let 确认订阅 through; the user is revoked before it is handled: nothing is stored."""
    from bot import users

    real = users.is_approved
    checks: list[int] = []

    def revoked_after_the_gate(engine: Engine, user_id: int, admins: Any = ()) -> bool:
        checks.append(user_id)
        return len(checks) == 1 and real(engine, user_id, admins)  # the gate's check passes, no later one

    async def scenario(bot: Harness) -> None:
        confirm = await to_confirm(bot, ALICE)
        monkeypatch.setattr(users, "is_approved", revoked_after_the_gate)
        answered, edit = await bot.press(ALICE, confirm, "确认订阅")
        monkeypatch.setattr(users, "is_approved", real)
        assert edit is None and answered.params["text"] == STALE_SUBSCRIBE and len(checks) >= 2

    run(store, scenario)
    with store.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM subscriber")).scalar_one() == 0


def test_forged_replayed_foreign_and_expired_buttons_change_nothing(store: Engine) -> None:
    async def scenario(bot: Harness) -> None:
        before = snapshot(store)
        listing = await bot.say(ALICE, "2021年哪些单位收到了申请")
        page = bot.fake.buttons(listing)["下一页"]
        action, key, number, tag = page.split(".")
        bobs = await bot.say(BOB, "浙江省2021年共收到多少申请")
        mark = bot.fake.mark()
        flipped = tag[:-1] + ("A" if tag[-1] != "A" else "B")
        for sender, under, data, expected in (
            (ALICE, listing, f"{action}.{key}.{number}.{flipped}", STALE),  # a bad signature
            (ALICE, listing, CallbackSigner(TOKEN + "x").sign("p", key, int(number)), STALE),  # another key
            (BOB, bobs, page, STALE),  # ALICE's button replayed in BOB's chat
            (ALICE, listing, "p." + key + ".2", STALE),  # no signature
            (ALICE, listing, page + "\x00", STALE),
        ):
            answered = await bot.callback(sender, under, data)
            assert answered.params["text"] == expected, data
        assert bot.fake.find("editMessageText", mark) == []

        # /subscriptions: another chat's replay, and a replay of the old list's button once the list
        # moved on (its index now stands for another subscription in the new list).
        with session(store) as s:
            for name in ("订阅甲", "订阅乙"):
                s.add(Subscriber(name=name, channel="telegram", target=str(ALICE["id"]),
                                 created_at=datetime(2022, 5, 1, tzinfo=UTC)))
        listed = await bot.say(ALICE, "/subscriptions")
        remove = bot.fake.buttons(listed)["取消订阅 1"]
        assert (await bot.callback(BOB, bobs, remove)).params["text"] == STALE_LIST
        answered, _ = await bot.press(ALICE, listed, "取消订阅 1")
        assert answered.params["text"] == "已取消订阅 1"
        assert (await bot.callback(ALICE, listed, remove)).params["text"] == "这个订阅已经取消了"
        with store.connect() as conn:
            rows = conn.execute(sa.text("SELECT name, active FROM subscriber ORDER BY id")).all()
        assert [(n, bool(a)) for n, a in rows] == [("订阅甲", False), ("订阅乙", True)]

        # Expired: two days and more later, a page and a /subscribe draft are stale.
        draft = await bot.say(ALICE, "/subscribe")
        services = bot.app.bot_data[KEY]
        state = subscribe.state(bot.app)
        later = time.monotonic() + 3 * 24 * 3600
        services.conversations.clock = state.drafts.clock = lambda: later
        answered, edit = await bot.press(ALICE, listing, "下一页")
        assert edit is None and answered.params["text"] == STALE
        answered, edit = await bot.press(ALICE, draft, "浙江省")
        assert edit is None and answered.params["text"] == STALE_SUBSCRIBE
        after = snapshot(store)
        assert after["findings"] == before["findings"] and after["users"] == before["users"]
        check_everything_sent(bot.fake)

    run(store, scenario)
