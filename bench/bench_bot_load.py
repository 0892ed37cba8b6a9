"""The bot under load: 50 supervisors asking at once against the national-scale store.

    python bench/national.py                          # build /tmp/xxgk-national.db once
    python bench/bench_bot_load.py                    # 50 users, 10,000 questions on it
    python bench/bench_bot_load.py --users 20 --questions 2000 --store PATH
    python bench/bench_bot_load.py --think 3          # each user reads an answer for 3 s on average
    python bench/bench_bot_load.py --burst 3          # all 50 ask at the same moment, 3 s between rounds
    python bench/bench_bot_load.py --rate 100000      # the per-user limit lifted: the work alone
    python bench/bench_bot_load.py --quick            # 5 users, 200 questions, a small store built here
    python bench/bench_bot_load.py --quick --json     # the report as one JSON object (tests)
    python bench/bench_bot_load.py --concurrent-updates 32 --cold-start   # other bot settings

Two processes, as in production where Telegram is elsewhere:

- the bot: the real python-telegram-bot Application from `bot.app.build_application` (its handlers,
  access gate, AIORateLimiter, per-user question limit, `concurrent_updates`), long-polling, in a
  process of its own (`--bot-process`, started by the bench) whose memory is sampled (psutil);
- this process: the fake Bot API server of the tests (tests/fake_telegram.py, with a wake-up
  instead of its 10 ms polling sleep and a hook that hands each answer to the user waiting for it)
  and the users, each in a private chat, in a closed loop: a question, wait for its answer (and,
  with --think, read it for a while), the next.

The users are approved the way the project does (`bot.users.approve`, what /approve writes). A store
the bench builds (`--quick`, or `--build`) is approved in place. A store given with `--store` is
never written: the bot opens it read-only (SQLite `mode=ro`) and the approvals live in a small file
beside the run, attached to every connection, with a TEMP view `bot_user` over it (SQLite resolves
TEMP names before the main database's), so `bot.users.is_approved` reads them unchanged.

The questions are drawn with a fixed seed from a mix of what /help and bot/ask support, with names
taken from the store: received (哪些单位收到了申请, negated too), top-N (national, by region, by
level, ascending), totals (a region, by province, by level), an agency (its figure, its key
figures, by alias, its history, its compliance record), a region's history and overview, late,
missing, inconsistent, findings, reports, relative years (去年), typos and questions it cannot
read, and the commands /stats /top /late /report /help. A user presses 「下一页」 after a long list
now and then, and picks the first candidate when a name means several (each press is a question).

Measured, from this process's clock:
- every question answered: one answer per question in the user's chat, none missing, none extra,
  none the error reply; answers naming a year name the year asked;
- latency: from the update being offered (queued at the Bot API server) to the answer being sent
  (the bot's sendMessage/editMessageText reaching it), p50/p95/p99/max; target p95 < 1 s;
- the per-user limit (bot.user_rate_per_minute, 20 by default): a user told 「提问太频繁了……请 N 秒
  后再试」 waits N seconds and asks again, as a person would. Those refusals are counted, and the
  latency a user sees (first ask → answer, the waiting included) is shown beside the bot's own;
- in the bot process: the time spent in the view (the store's work: bot.views.run) per question,
  and how long each answer waited in AIORateLimiter (Telegram's flood limit, 30 messages a second)
  before it went out;
- memory: the bot's RSS sampled twice a second, and its slope over the last half of the questions
  (MB per 1,000 questions, least squares); target: flat (< 2 MB per 1,000). (In --quick's 200
  questions the bot is still warming up: its slope means nothing there.)

What bounds the latency (measured 2026-11-23): the bot sends at most 30 messages a second
(AIORateLimiter, Telegram's flood limit), a refusal being a message too. 50 users who ask again the
moment they are answered therefore wait 50 / 30 ≈ 1.7 s at best while the per-user limit lets them
ask: with the limit lifted (--rate 100000) the bot answers exactly 30.0 questions/s, p50 1.66 s,
most of it in the limiter's bucket, whatever concurrent_updates is; 10 such users wait p95 0.5–0.6 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _p in (str(ROOT), str(HERE), str(ROOT / "tests")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

DEFAULT_STORE = Path("/tmp/xxgk-national.db")
TARGET_P95_S = 1.0
TARGET_SLOPE_MB = 2.0  # per 1,000 questions, over the last half
ADMIN_ID = 1001
FIRST_USER_ID = 710_000_001
ANSWER_TIMEOUT_S = 120.0
QUICK_RATE = 10_000
THROTTLED = re.compile(r"提问太频繁了.*?请 (\d+) 秒后再试")
ERROR_TEXT = "抱歉，处理这个请求时出错了"


# ---- the question mix -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Names:
    """What the questions name, read from the store."""

    years: list[int]
    provinces: list[str]
    cities: list[str]
    counties: list[str]
    agencies: list[str]
    aliases: list[str]


FIGURE_WORDS = (("申请", 5), ("行政处罚", 3), ("行政许可", 3), ("行政复议", 2), ("行政诉讼", 2), ("收费金额", 1),
                ("规范性文件", 1), ("不予公开", 1))
TYPOS = (("申请", "申情"), ("单位", "单为"), ("逾期", "逾其"), ("哪些", "那些"), ("多少", "多小"), ("收到", "收倒"))
NONSENSE = ("你好", "怎么查年报", "这个机器人能做什么", "帮我看看", "处罚的规定是什么", "谢谢", "？？", "asdf")

# (weight, kind, template): {y} a year, {p} a province, {c} a city, {k} a county, {a} an agency,
# {al} an alias, {f} a figure's words.
MIX: tuple[tuple[int, str, str], ...] = (
    (4, "received", "{y}年哪些单位收到了申请"),
    (3, "received", "{y}年{p}哪些单位收到了申请"),
    (3, "received", "{c}{y}年哪些部门有{f}"),
    (2, "received", "{y}年{k}哪些单位没有收到申请"),
    (4, "top", "{y}年申请最多的前10个单位"),
    (3, "top", "{y}年{f}最多的前5个单位"),
    (2, "top", "{y}年全国{f}最多的10个局"),
    (5, "top", "{y}年{p}{f}最多的前10个单位"),
    (2, "top", "{y}年{c}{f}最少的5个局"),
    (5, "total", "{p}{y}年共收到多少申请"),
    (3, "total", "{c}{y}年{f}合计多少"),
    (2, "total", "{y}年各省{f}合计"),
    (1, "total", "{p}{y}年各层级申请合计"),
    (8, "agency", "{a}{y}年收到多少申请"),
    (4, "agency", "{al}{y}年{f}多少件"),
    (3, "agency", "{a}{y}年的情况"),
    (3, "agency history", "{a}历年申请数"),
    (2, "agency findings", "{a}历年合规情况"),
    (2, "region history", "{k}历年申请数"),
    (3, "overview", "{k}{y}年的情况"),
    (1, "overview", "{p}{y}年的情况"),
    (3, "late", "{y}年哪些局逾期发布"),
    (3, "late", "{y}年{p}哪些单位逾期发布"),
    (2, "missing", "{y}年{c}哪些单位未发布年报"),
    (2, "inconsistent", "{y}年哪些单位数据不一致"),
    (1, "inconsistent", "{y}年{p}哪些单位数据不一致"),
    (2, "findings", "{c}{y}年有哪些问题"),
    (2, "reports", "{k}{y}年收录了多少份报告"),
    (1, "relative year", "去年哪些局逾期发布"),
    (1, "relative year", "前年{p}共收到多少申请"),
    (3, "typo", "typo"),
    (2, "not understood", "nonsense"),
    (2, "/stats", "/stats {y} {p}"),
    (2, "/top", "/top {f} {y} {p}"),
    (1, "/late", "/late {y} {c}"),
    (2, "/report", "/report {a} {y}"),
    (1, "/help", "/help"),
)
NEXT_PAGE_P = 0.15  # after a list with 「下一页」, the user turns the page
CHOOSE_P = 0.8  # after 「对应多个单位，请选择」, the user picks the first


@dataclass(frozen=True, slots=True)
class Question:
    kind: str
    text: str
    year: int | None  # the absolute year named, checked against the answer


def draw_question(rng: random.Random, names: Names) -> Question:
    weights = [w for w, _, _ in MIX]
    _, kind, template = rng.choices(MIX, weights)[0]
    if template == "typo":
        while True:
            base = draw_question(rng, names)
            hits = [(a, b) for a, b in TYPOS if a in base.text and not base.text.startswith("/")]
            if hits:
                a, b = rng.choice(hits)
                return Question(kind, base.text.replace(a, b, 1), None)
    if template == "nonsense":
        return Question(kind, rng.choice(NONSENSE), None)
    year = rng.choice(names.years)
    fill = {"y": str(year), "p": rng.choice(names.provinces), "c": rng.choice(names.cities),
            "k": rng.choice(names.counties), "a": rng.choice(names.agencies), "al": rng.choice(names.aliases),
            "f": rng.choices([w for w, _ in FIGURE_WORDS], [n for _, n in FIGURE_WORDS])[0]}
    text = template.format(**fill)
    return Question(kind, text, year if "{y}" in template else None)


def read_names(store: Path, rng: random.Random, sample: int = 400) -> Names:
    """Years, regions and agency names from the store (read-only)."""
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as conn:
        years = [y for (y,) in conn.execute("SELECT DISTINCT year FROM report_figure ORDER BY year")]
        regions: dict[str, list[str]] = {"province": [], "city": [], "county": []}
        for name, level in conn.execute("SELECT name, level FROM region ORDER BY code"):
            if level in regions and name and not name.isdigit():
                regions[level].append(name)
        agencies = [n for (n,) in conn.execute("SELECT name FROM agency WHERE registered ORDER BY id")]
        aliases = [n for (n,) in conn.execute("SELECT alias FROM agency_alias ORDER BY id LIMIT 20000")]
    if not years or not agencies:
        raise SystemExit(f"{store}: no reports or agencies to ask about")

    def some(values: list[str]) -> list[str]:
        return rng.sample(values, min(len(values), sample)) if values else ["浙江省"]

    return Names(years, some(regions["province"]), some(regions["city"]), some(regions["county"]),
                 some(agencies), some(aliases or agencies))


# ---- the store and its approved users ----------------------------------------------------------


def build_small_store(db: Path, agencies: int = 300, years: Sequence[int] = (2021, 2022, 2023)) -> None:
    import national

    national.generate(db, agencies, list(years), log=lambda line: None)


def store_today(store: Path) -> date:
    """The day the store stands at (bench/national.py's as_of), or after the newest year's deadlines."""
    try:
        recorded = json.loads(Path(f"{store}.params.json").read_text())
        return date.fromisoformat(recorded["stats"]["as_of"])
    except (OSError, KeyError, ValueError):
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as conn:
            newest = conn.execute("SELECT max(year) FROM report_figure").fetchone()[0]
        return date(int(newest) + 1, 4, 10)


def approve_users(url: str, user_ids: Sequence[int]) -> None:
    """Approve the users as /approve does (bot.users.approve), in the store at `url`; the bot_user
    table is created when the file has none (the side file of a read-only store)."""
    from bot import users
    from db.engine import make_engine
    from db.models import BotUser

    engine = make_engine(url)
    try:
        BotUser.__table__.create(engine, checkfirst=True)  # type: ignore[attr-defined]
        now = datetime.now(UTC)
        for uid in user_ids:
            users.approve(engine, uid, name=f"督查员{uid - FIRST_USER_ID + 1}", by=ADMIN_ID, now=now)
    finally:
        engine.dispose()


# ---- the bot process ---------------------------------------------------------------------------


def bot_process(spec: dict[str, Any]) -> int:
    """The bot: build_application on the store, long-polling the fake server until stdin closes.
    Prints "ready", then at the end one JSON line of what it measured inside."""
    import logging

    import sqlalchemy as sa
    from telegram import Update

    import bot.services
    from bot.app import build_application
    from db.engine import make_engine
    from fake_telegram import TOKEN
    from xxgk.config import BotConfig, Settings

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    store = spec["store"]
    if spec["approvals"]:  # a store not to be written: read-only, approvals attached
        engine = make_engine(f"sqlite:///file:{store}?mode=ro&uri=true")
        approvals = spec["approvals"]

        @sa.event.listens_for(engine, "connect")
        def _attach(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"ATTACH DATABASE 'file:{approvals}?mode=ro' AS approvals")
            cursor.execute("CREATE TEMP VIEW bot_user AS SELECT * FROM approvals.bot_user")
            cursor.close()
    else:
        engine = make_engine(f"sqlite:///{store}")
    config = {"token": TOKEN, "admins": [ADMIN_ID], "base_url": spec["base_url"]}
    if spec.get("rate"):
        config["user_rate_per_minute"] = spec["rate"]
    settings = Settings(database_url=f"sqlite:///{store}", bot=BotConfig(**config))

    # What the view costs (the store's work), per question, measured where the bot calls it.
    view_s: list[float] = []
    run = bot.services.run

    def timed_run(view: str, conn: Any, request: Any) -> Any:
        start = time.perf_counter()
        try:
            return run(view, conn, request)
        finally:
            view_s.append(time.perf_counter() - start)

    bot.services.run = timed_run  # type: ignore[assignment]

    # How long each message waited in AIORateLimiter (Telegram's flood limit, 30 messages a second
    # to private chats) before it was sent: deliberate throttling, not work.
    from telegram.ext import AIORateLimiter

    flood_s: list[float] = []
    process_request = AIORateLimiter.process_request

    async def timed_request(self: Any, callback: Any, args: Any, kwargs: Any, endpoint: str, data: Any,
                            rate_limit_args: Any) -> Any:
        entered = time.perf_counter()

        async def call(*a: Any, **k: Any) -> Any:
            if endpoint in ("sendMessage", "editMessageText"):
                flood_s.append(time.perf_counter() - entered)
            return await callback(*a, **k)

        return await process_request(self, call, args, kwargs, endpoint, data, rate_limit_args)

    AIORateLimiter.process_request = timed_request  # type: ignore[method-assign]

    # Of that, the time in the limiter's bucket itself (the rest is the event loop getting round to it).
    from aiolimiter import AsyncLimiter

    bucket_s: list[float] = []
    acquire = AsyncLimiter.acquire

    async def timed_acquire(self: Any, amount: float = 1) -> None:
        entered = time.perf_counter()
        await acquire(self, amount)
        bucket_s.append(time.perf_counter() - entered)

    AsyncLimiter.acquire = timed_acquire  # type: ignore[method-assign]

    if spec.get("warm"):  # as a bot that has answered for a while: the registry's matcher built
        from query.scope import find_agencies

        with engine.connect() as conn:
            find_agencies(conn, "某某县不存在局")

    async def main() -> None:
        concurrent = {"concurrent_updates": spec["concurrent_updates"]} if spec.get("concurrent_updates") \
            else {}
        app = build_application(settings, engine, today=date.fromisoformat(spec["today"]), **concurrent)
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.read)  # until the bench closes our stdin
        await app.updater.stop()
        await app.stop()
        await app.shutdown()

    cpu0 = time.process_time()
    asyncio.run(main())
    engine.dispose()
    import resource

    print(json.dumps({"view_s": view_s, "flood_s": flood_s, "bucket_s": bucket_s,
                      "cpu_s": time.process_time() - cpu0,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
    return 0


# ---- the fake server, the users ----------------------------------------------------------------


def _fake_class() -> type:
    from fake_telegram import FakeTelegram

    class LoadFake(FakeTelegram):
        """tests/fake_telegram.FakeTelegram with a wake-up for getUpdates (not a 10 ms sleep loop),
        each answer handed to the user waiting in that chat, and no record of the calls."""

        def __init__(self) -> None:
            super().__init__()
            self.waiting: dict[int, asyncio.Future[Reply]] = {}
            self.query_chat: dict[str, int] = {}
            self.unsolicited: list[tuple[str, str]] = []
            self._arrived = asyncio.Event()

        def _push(self, update: dict[str, Any]) -> None:
            super()._push(update)
            self._arrived.set()

        async def _handle(self, request: Any) -> Any:
            response = await super()._handle(request)
            self.calls.clear()  # 20,000 calls and their texts are not worth keeping here
            return response

        async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
            offset = int(params.get("offset") or 0)
            limit = int(params.get("limit") or 100)
            deadline = time.monotonic() + float(params.get("timeout") or 0)
            if offset:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and not self._stopping:
                self._arrived.clear()
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    await asyncio.wait_for(self._arrived.wait(), left)
                except TimeoutError:
                    break
            return self._updates[:limit]

        def _deliver(self, chat_id: int, method: str, text: str, message: dict[str, Any] | None) -> None:
            sent = time.monotonic()
            future = self.waiting.pop(chat_id, None)
            if future is None or future.done():
                self.unsolicited.append((method, text[:80]))
                return
            future.set_result(Reply(method, text, sent, message))

        async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
            result = await super()._api_sendMessage(params)
            self._deliver(params["chat_id"], "sendMessage", result["text"], result)
            return result

        async def _api_editMessageText(self, params: dict[str, Any]) -> Any:
            result = await super()._api_editMessageText(params)
            self._deliver(params["chat_id"], "editMessageText", result["text"], result)
            return result

        async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
            result = await super()._api_answerCallbackQuery(params)
            text = str(params.get("text") or "")
            chat_id = self.query_chat.pop(str(params.get("callback_query_id")), None)
            if text and chat_id is not None:  # refused (too many questions) or stale: the press's answer
                self._deliver(chat_id, "answerCallbackQuery", text, None)
            return result

        def expect(self, chat_id: int) -> asyncio.Future[Reply]:
            future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
            self.waiting[chat_id] = future
            return future

    return LoadFake


@dataclass(slots=True)
class Reply:
    method: str
    text: str
    sent: float  # monotonic, when the bot's call reached the server
    message: dict[str, Any] | None


@dataclass
class Outcome:
    """One question, as the user lived it."""

    kind: str
    latency_s: float  # offered → answered, the attempt that was answered
    seen_s: float  # first asked → answered, waits after 「提问太频繁了」 included
    refusals: int
    waited_s: float
    status: str  # ok, choose, not_understood, not_found, no_data, stale, error, missing, mismatch
    asked: str = ""  # the question's text, or the button pressed


def classify(text: str, question: Question | None) -> str:
    if ERROR_TEXT in text:
        return "error"
    if "按钮已失效" in text:
        return "stale"
    if "没有看懂" in text:
        return "not_understood"
    if "对应多个" in text or "请选择" in text:
        return "choose"
    if "没有找到" in text:
        return "not_found"
    if "没有收录" in text:
        return "no_data"
    if question is not None and question.year is not None and str(question.year) not in text \
            and not question.text.startswith("/help"):
        return "mismatch"
    return "ok"


@dataclass
class Run:
    users: int
    questions: int
    outcomes: list[Outcome] = field(default_factory=list)
    done: int = 0


@dataclass
class Rounds:
    """--burst: every user asks at the same moment, round after round. A round begins when every
    user has had the answer of the round before and then waited `gap` seconds (the users pass
    `barrier` once per round, those with one question fewer too, so no one waits forever)."""

    barrier: asyncio.Barrier
    count: int
    gap: float


async def user_loop(fake: Any, u: dict[str, Any], plan: list[Question], seed: int, run: Run,
                    think: float = 0.0, rounds: Rounds | None = None) -> None:
    """One user: each question in turn, waiting for its answer (and then `think` seconds on
    average, exponentially distributed, reading it); now and then a press instead. With `rounds`,
    each question waits for the round to begin instead."""
    from fake_telegram import private

    rng = random.Random(seed)
    chat = private(u)
    last: Reply | None = None
    for question in plan:
        if rounds is not None:
            await rounds.barrier.wait()
        press: str | None = None
        if last is not None and last.message is not None:
            buttons = fake.buttons(last.message) if last.message.get("reply_markup") else {}
            if "下一页" in buttons and rng.random() < NEXT_PAGE_P:
                press = "下一页"
            elif any(t for t in buttons if t not in ("上一页", "下一页")) and "对应多个" in last.text \
                    and rng.random() < CHOOSE_P:
                press = next(iter(buttons))
        kind = ("press 下一页" if press == "下一页" else "press a choice") if press else question.kind
        asked = f"[{press}]" if press else question.text
        first = time.monotonic()
        refusals, waited = 0, 0.0
        while True:
            future = fake.expect(chat["id"])
            offered = time.monotonic()
            if press is not None:
                assert last is not None and last.message is not None
                query_id = fake.press(u, last.message, press)
                fake.query_chat[query_id] = chat["id"]
            else:
                fake.send(u, question.text, chat=chat)
            try:
                reply = await asyncio.wait_for(future, ANSWER_TIMEOUT_S)
            except TimeoutError:
                fake.waiting.pop(chat["id"], None)
                run.outcomes.append(Outcome(kind, ANSWER_TIMEOUT_S, time.monotonic() - first, refusals,
                                            waited, "missing", asked))
                reply = None
                break
            throttled = THROTTLED.search(reply.text)
            if throttled:
                refusals += 1
                pause = int(throttled.group(1)) + 0.05
                waited += pause
                await asyncio.sleep(pause)
                continue
            run.outcomes.append(Outcome(kind, reply.sent - offered, reply.sent - first, refusals, waited,
                                        classify(reply.text, None if press else question), asked))
            break
        run.done += 1
        if reply is not None and reply.message is not None:
            last = reply
        elif reply is None:
            last = None
        if think > 0:
            await asyncio.sleep(rng.expovariate(1 / think))
        if rounds is not None:
            await asyncio.sleep(rounds.gap)
    if rounds is not None:
        for _ in range(rounds.count - len(plan)):
            await rounds.barrier.wait()


# ---- the report ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def slope_per_1000(samples: Sequence[tuple[int, float]]) -> float:
    """Least-squares slope of RSS (MB) against questions answered, per 1,000 questions."""
    if len(samples) < 2:
        return 0.0
    xs = [x for x, _ in samples]
    ys = [y for _, y in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    if var == 0:
        return 0.0
    return 1000 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var


def report(run: Run, rss: list[tuple[int, float]], inside: dict[str, Any], unsolicited: int, seconds: float,
           extra: dict[str, Any]) -> dict[str, Any]:
    out = run.outcomes
    answered = [o for o in out if o.status != "missing"]
    lat = [o.latency_s for o in answered]
    seen = [o.seen_s for o in answered]
    statuses = Counter(o.status for o in out)
    last_half = [(n, mb) for n, mb in rss if n >= run.questions / 2]
    view = inside.get("view_s") or []
    flood = inside.get("flood_s") or []
    bucket = inside.get("bucket_s") or []
    by_kind: dict[str, dict[str, float]] = {}
    for kind in sorted({o.kind for o in answered}):
        ls = [o.latency_s for o in answered if o.kind == kind]
        by_kind[kind] = {"n": len(ls), "p50_s": percentile(ls, 50), "p95_s": percentile(ls, 95),
                         "max_s": max(ls)}
    rss_mb = [mb for _, mb in rss]
    return {
        **extra,
        "users": run.users, "questions": run.questions, "asked": len(out),
        "answered": len(answered), "missing": statuses.get("missing", 0), "unsolicited": unsolicited,
        "errors": statuses.get("error", 0), "mismatched": statuses.get("mismatch", 0),
        "statuses": dict(statuses),
        "seconds": seconds, "questions_per_s": len(answered) / seconds if seconds else 0.0,
        "latency_s": {"p50": percentile(lat, 50), "p95": percentile(lat, 95), "p99": percentile(lat, 99),
                      "max": max(lat, default=float("nan"))},
        "user_seen_s": {"p50": percentile(seen, 50), "p95": percentile(seen, 95), "p99": percentile(seen, 99),
                        "max": max(seen, default=float("nan"))},
        "throttled": {"questions": sum(1 for o in answered if o.refusals),
                      "refusals": sum(o.refusals for o in out), "waited_s": sum(o.waited_s for o in out)},
        "view_s": {"n": len(view), "p50": percentile(view, 50), "p95": percentile(view, 95),
                   "p99": percentile(view, 99), "max": max(view, default=float("nan")), "sum": sum(view)},
        "flood_wait_s": {"n": len(flood), "p50": percentile(flood, 50), "p95": percentile(flood, 95),
                         "p99": percentile(flood, 99), "max": max(flood, default=float("nan"))},
        "flood_bucket_s": {"n": len(bucket), "p50": percentile(bucket, 50), "p95": percentile(bucket, 95),
                           "p99": percentile(bucket, 99), "max": max(bucket, default=float("nan"))},
        "bot_cpu_s": inside.get("cpu_s"),
        "rss_mb": {"start": rss_mb[0] if rss_mb else None, "end": rss_mb[-1] if rss_mb else None,
                   "peak": max(rss_mb, default=None), "samples": len(rss),
                   "slope_last_half_per_1000": slope_per_1000(last_half)},
        "by_kind": by_kind,
        "slowest": [{"latency_s": o.latency_s, "kind": o.kind, "asked": o.asked}
                    for o in sorted(answered, key=lambda o: -o.latency_s)[:8]],
    }


def print_table(r: dict[str, Any]) -> None:
    lat, seen, view, rss, thr = r["latency_s"], r["user_seen_s"], r["view_s"], r["rss_mb"], r["throttled"]
    ms = lambda s: f"{s * 1000:8.0f}"  # noqa: E731
    print(f"store: {r['store']} ({r['store_gb']:.2f} GiB), today {r['today']}, {r['users']} users, "
          f"{r['questions']:,} questions, user_rate_per_minute {r['rate']}, concurrent_updates "
          f"{r['concurrent_updates']}, "
          + (f"in rounds, gap {r['burst']:g} s" if r.get("burst") is not None else f"think {r.get('think', 0):g} s"))
    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores, load average "
          f"before {r['load_before']:.2f}, after {r['load_after']:.2f}")
    print(f"answered {r['answered']:,}/{r['questions']:,} (missing {r['missing']}, extra {r['unsolicited']}, "
          f"errors {r['errors']}, year mismatches {r['mismatched']}) in {r['seconds']:.1f} s, "
          f"{r['questions_per_s']:.1f} questions/s; bot CPU {r['bot_cpu_s'] or 0:.1f} s")
    print("answers: " + ", ".join(f"{k} {v:,}" for k, v in sorted(r["statuses"].items())))
    print(f"{'':34} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    print(f"{'offered → answer sent':34} {ms(lat['p50'])} {ms(lat['p95'])} {ms(lat['p99'])} {ms(lat['max'])}"
          f"   target p95 < {TARGET_P95_S * 1000:.0f}")
    print(f"{'  of which the view (store work)':34} {ms(view['p50'])} {ms(view['p95'])} {ms(view['p99'])} "
          f"{ms(view['max'])}")
    flood = r.get("flood_wait_s")
    if flood:
        print(f"{'  of which sending (flood limiter)':34} {ms(flood['p50'])} {ms(flood['p95'])} "
              f"{ms(flood['p99'])} {ms(flood['max'])}")
    bucket = r.get("flood_bucket_s")
    if bucket:
        print(f"{'    in the 30/s bucket itself':34} {ms(bucket['p50'])} {ms(bucket['p95'])} "
              f"{ms(bucket['p99'])} {ms(bucket['max'])}")
    print(f"{'as the user saw it (throttle incl.)':34} {ms(seen['p50'])} {ms(seen['p95'])} {ms(seen['p99'])} "
          f"{ms(seen['max'])}")
    print(f"throttled (提问太频繁了): {thr['questions']:,} questions, {thr['refusals']:,} refusals, "
          f"users waited {thr['waited_s']:.0f} s in all")
    print(f"bot RSS: start {rss['start']:.0f} MB, end {rss['end']:.0f} MB, peak {rss['peak']:.0f} MB; "
          f"slope over the last half {rss['slope_last_half_per_1000']:+.2f} MB per 1,000 questions "
          f"(target < {TARGET_SLOPE_MB:.0f})")
    print(f"{'by kind':26} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for kind, k in sorted(r["by_kind"].items(), key=lambda kv: -kv[1]["p95_s"]):
        print(f"{kind:26} {k['n']:6} {ms(k['p50_s'])} {ms(k['p95_s'])} {ms(k['max_s'])}")
    print("slowest: " + "; ".join(f"{o['asked']} ({o['kind']}) {o['latency_s'] * 1000:.0f} ms" for o in r["slowest"]))


# ---- running it --------------------------------------------------------------------------------


async def drive(args: argparse.Namespace, store: Path, approvals: Path | None, today: date,
                names: Names) -> dict[str, Any]:
    import psutil

    from fake_telegram import user

    fake = _fake_class()()
    base_url = await fake.start()
    spec = {"store": str(store), "approvals": str(approvals) if approvals else None, "base_url": base_url,
            "today": today.isoformat(), "rate": args.rate, "warm": not args.cold_start,
            "concurrent_updates": args.concurrent_updates}
    command = [sys.executable, str(Path(__file__).resolve()), "--bot-process", json.dumps(spec)]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert child.stdout is not None and child.stdin is not None
        line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), 120)
        if line.strip() != "ready":
            raise RuntimeError(f"the bot process did not start: {line!r}")
        proc = psutil.Process(child.pid)
        rng = random.Random(args.seed)
        users = [user(FIRST_USER_ID + i, f"督查员{i + 1}") for i in range(args.users)]
        plans: list[list[Question]] = [[] for _ in users]
        for i in range(args.questions):
            plans[i % len(users)].append(draw_question(rng, names))
        run = Run(args.users, args.questions)
        rss: list[tuple[int, float]] = []
        load_before = os.getloadavg()[0]

        async def sample() -> None:
            while True:
                rss.append((run.done, proc.memory_info().rss / 2**20))
                await asyncio.sleep(0.5)

        sampler = asyncio.create_task(sample())
        start = time.monotonic()
        rounds = None
        if args.burst is not None:
            rounds = Rounds(asyncio.Barrier(len(users)), max(len(p) for p in plans), args.burst)
        await asyncio.gather(*(user_loop(fake, u, plan, args.seed + i, run, args.think, rounds)
                               for i, (u, plan) in enumerate(zip(users, plans, strict=True))))
        seconds = time.monotonic() - start
        sampler.cancel()
        rss.append((run.done, proc.memory_info().rss / 2**20))
        await asyncio.sleep(1.0)  # anything sent after the last answer is extra
        child.stdin.close()
        tail = await asyncio.wait_for(asyncio.to_thread(child.stdout.read), 60)
        inside = json.loads(tail.strip().splitlines()[-1]) if tail.strip() else {}
        await asyncio.to_thread(child.wait, 30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        await fake.stop()
    from bot.app import CONCURRENT_UPDATES
    from xxgk.config import BotConfig

    extra = {"store": str(store), "store_gb": store.stat().st_size / 2**30, "today": today.isoformat(),
             "rate": args.rate or BotConfig.model_fields["user_rate_per_minute"].default,
             "concurrent_updates": args.concurrent_updates or CONCURRENT_UPDATES,
             "load_before": load_before, "think": args.think, "burst": args.burst,
             "load_after": os.getloadavg()[0], "seed": args.seed, "warm": not args.cold_start}
    return report(run, rss, inside, len(fake.unsolicited), seconds, extra)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--store", type=Path, default=None,
                        help=f"the store to ask (default {DEFAULT_STORE}); opened read-only, never written")
    parser.add_argument("--quick", action="store_true",
                        help="5 users, 200 questions, on a small store built in a temporary directory")
    parser.add_argument("--build", type=int, metavar="AGENCIES",
                        help="build a store of this many agencies in a temporary directory and ask it")
    parser.add_argument("--rate", type=int, default=None,
                        help="bot.user_rate_per_minute (default: the configuration's default, 20)")
    parser.add_argument("--concurrent-updates", type=int, default=None,
                        help="updates the bot handles at once (default: bot.app.CONCURRENT_UPDATES, 8)")
    parser.add_argument("--think", type=float, default=0.0, metavar="SECONDS",
                        help="mean pause of a user between an answer and the next question (0: asks again at once)")
    parser.add_argument("--burst", type=float, default=None, metavar="GAP",
                        help="users ask in rounds, all at the same moment; the next round begins GAP "
                             "seconds after the last answer of the one before")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--cold-start", action="store_true",
                        help="do not build the registry's name matcher before the first question (a bot "
                             "just started: the first fuzzy name lookup builds it, ~15 s nationally)")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.add_argument("--bot-process", metavar="SPEC", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bot_process:
        return bot_process(json.loads(args.bot_process))
    if args.quick:  # a test's run: seconds, so the per-user limit is lifted unless --rate says otherwise
        args.users = 5 if args.users == 50 else args.users
        args.questions = 200 if args.questions == 10_000 else args.questions
        args.build = args.build or 300
        args.rate = args.rate or QUICK_RATE
    if args.users < 1 or args.questions < 1:
        parser.error("--users and --questions must be positive")
    if args.burst is not None and (args.burst < 0 or args.think):
        parser.error("--burst takes a gap of zero seconds or more, and not with --think")
    with tempfile.TemporaryDirectory(prefix="bench-bot-load-") as tmp:
        approvals: Path | None
        user_ids = [FIRST_USER_ID + i for i in range(args.users)]
        if args.build:
            store = Path(tmp) / "store.db"
            build_small_store(store, args.build)
            approve_users(f"sqlite:///{store}", user_ids)  # a throwaway store: approved in place
            approvals = None
        else:
            store = args.store or DEFAULT_STORE
            if not store.exists():
                print(f"no store at {store}: build it with python bench/national.py, or use --quick",
                      file=sys.stderr)
                return 2
            approvals = Path(tmp) / "approvals.db"
            approve_users(f"sqlite:///{approvals}", user_ids)
        today = store_today(store)
        names = read_names(store, random.Random(args.seed))
        result = asyncio.run(drive(args, store, approvals, today, names))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print_table(result)
    ok = (result["answered"] == args.questions and not result["errors"] and not result["unsolicited"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
