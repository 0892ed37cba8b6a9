"""/subscribe and /subscriptions: an approved user subscribes the chat to the compliance engine's
alerts, and lists and removes the chat's subscriptions, with buttons.

/subscribe goes through six steps in one message, edited in place as buttons are pressed:

    1 地区    全部地区, or a province and on down its sub-regions (each with 「订阅整个…」), or a
              name typed (query.scope.find_region; several regions: buttons)
    2 层级    部门 / 人民政府 / 乡镇（街道） / 不限
    3 单位    不限, or a name typed (query.scope.find_agencies within the region; several: buttons)
    4 级别    仅错误 / 警告及以上 / 全部（含提示）
    5 方式    即时推送 / 每日汇总
    6 免打扰  不设 / 22:00–07:00 / typed as HH:MM-HH:MM (Beijing time, may cross midnight)

then 确认订阅 adds a Subscriber (channel "telegram", target the chat's id) that
compliance.alerts routes alerts to from then on. 「上一步」 and 「取消」 are on every step.

Typed input: after 「输入地区名称」 (or 单位, 时段) the user's next plain text in the chat is the
name, not a question: a message handler registered ahead of the questions (`install`, called by
bot.app) takes it. In a group only a reply to the bot's prompt is taken (the bot is asked with
ForceReply), so that other chatter is left alone. The answer to typed input comes as a new
message; the old one loses its buttons.

Buttons carry signed data (bot.callbacks, action "u": the draft's version × 100 + the option's
index; "r": the index in a /subscriptions list). Only the user who started a /subscribe can press
its buttons; a button of an older message (the version moved on), of another chat, or that is not
signed by this bot is refused. /subscriptions shows only the subscriptions whose target is this
chat; 「取消订阅」 deactivates one (its waiting alerts are cancelled), checked again against the
chat when pressed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from telegram import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.conversations import Conversation, ConversationStore, SubscriptionDraft
from bot.services import BUTTON_TEXT_LIMIT, BotServices, services
from bot.text import alert, clean
from bot.text import escaped as escape  # store and user text: invisible characters dropped, escaped
from bot.views import region_full_name, sub_regions
from compliance.regions import in_region
from db.models import AlertDelivery, Subscriber
from query.scope import (
    LEVEL_NAMES,
    AgencyRef,
    RegionRef,
    ScopeError,
    agency_by_id,
    find_agencies,
    find_region,
)
from xxgk.config import parse_quiet_hours

log = logging.getLogger(__name__)

STATE_KEY = "xxgk.subscribe"
STEPS = ("region", "level", "agency", "severity", "mode", "quiet", "confirm")
STEP_TITLES = {"region": "地区", "level": "层级", "agency": "单位", "severity": "最低级别", "mode": "接收方式",
               "quiet": "免打扰时段"}
SEVERITY_CHOICES = (("error", "仅错误"), ("warning", "警告及以上"), ("info", "全部（含提示）"))
SEVERITY_TEXT = dict(SEVERITY_CHOICES)
MODE_CHOICES = (("immediate", "即时推送（每条告警一条消息）"), ("digest", "每日汇总（每天一条）"))
MODE_TEXT = {"immediate": "即时推送", "digest": "每日汇总"}
NIGHT = "22:00-07:00"
REGIONS_PER_PAGE = 20
MAX_PER_CHAT = 20
MAX_INPUT = 100
VERSIONS = 10_000  # a button's number is version × 100 + index: under bot.callbacks.MAX_NUMBER
MAX_OPTIONS = 100  # Telegram's limit of buttons under a message
INPUT_TIMEOUT_S = 15 * 60  # after this, the user's text is a question again, not the input asked for

STALE = "按钮已失效，请重新发送 /subscribe"
OLD_BUTTON = "这个按钮已过期，请使用最新的那条消息"
NOT_YOURS = "这是其他人正在进行的订阅设置；如需订阅，请自己发送 /subscribe"
STALE_LIST = "按钮已失效，请重新发送 /subscriptions"
PROMPTS = {
    "region": "请输入地区名称或代码，如：宁波市、镇海区、330211",
    "agency": "请输入单位名称（全称、简称或别名均可），如：镇海区人社局",
    "quiet": "请输入免打扰时段（北京时间，可跨午夜），如：22:00-07:00、12:00-13:30",
}


@dataclass
class SubscribeState:
    """The drafts of /subscribe, and whose next text is typed input for which draft."""

    drafts: ConversationStore[SubscriptionDraft] = field(default_factory=ConversationStore)
    # (chat id, user id) → (draft key, when the input was asked for)
    awaiting: dict[tuple[int, int], tuple[str, float]] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic

    def waiting_draft(self, chat_id: int, user_id: int) -> tuple[str, SubscriptionDraft] | None:
        """The draft whose typed input this user's next text in this chat is, if any."""
        who = (chat_id, user_id)
        item = self.awaiting.get(who)
        if item is None:
            return None
        key, since = item
        draft = self.drafts.get(key)
        if draft is None or draft.done or draft.awaiting is None or self.clock() - since > INPUT_TIMEOUT_S:
            self.awaiting.pop(who, None)
            return None
        return key, draft


def state(context: ContextTypes.DEFAULT_TYPE | Application) -> SubscribeState:  # type: ignore[type-arg]
    data = context.bot_data
    if STATE_KEY not in data:
        data[STATE_KEY] = SubscribeState()
    return data[STATE_KEY]  # type: ignore[no-any-return]


class AwaitingInput(filters.MessageFilter):
    """A message that is typed input for a /subscribe draft: from a user the draft waits for, in
    its chat; in a group, a reply to the bot's prompt or to the draft's message."""

    def __init__(self, subscribe_state: SubscribeState) -> None:
        super().__init__(name="AwaitingSubscriptionInput")
        self.state = subscribe_state

    def filter(self, message: Message) -> bool:
        if message.from_user is None:
            return False
        found = self.state.waiting_draft(message.chat_id, message.from_user.id)
        if found is None:
            return False
        draft = found[1]
        if message.chat.type == ChatType.PRIVATE:
            return True
        reply = message.reply_to_message
        return reply is not None and reply.message_id in (draft.prompt_id, draft.message_id)


def install(application: Application) -> None:  # type: ignore[type-arg]
    """The typed-input handler, ahead of the questions: call before bot.handlers.register."""
    typed = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND & AwaitingInput(state(application))
    application.add_handler(MessageHandler(typed, on_input))


# ---- texts -----------------------------------------------------------------------------------


def quiet_text(quiet_from: Any, quiet_until: Any) -> str:
    if quiet_from is None or quiet_until is None:
        return "不设"
    return f"{quiet_from:%H:%M}–{quiet_until:%H:%M}（北京时间）"


def scope_text(region_label: str | None, level: str | None, agency_label: str | None) -> str:
    parts = [region_label or "全部地区"]
    if level:
        parts.append(LEVEL_NAMES.get(level, level))
    if agency_label:
        parts.append(agency_label)
    return "、".join(parts)


def _region_label(conn: Connection, code: str) -> str:
    return f"{region_full_name(conn, code)}（{code}）及下辖"


def _summary(draft: SubscriptionDraft, upto: int) -> list[str]:
    """The choices made in the steps before `upto` (an index into STEPS)."""
    values = {
        "region": draft.region_label,
        "level": LEVEL_NAMES.get(draft.level, draft.level) if draft.level else "不限",
        "agency": draft.agency_label or "不限",
        "severity": SEVERITY_TEXT.get(draft.min_severity, draft.min_severity),
        "mode": MODE_TEXT.get(draft.mode, draft.mode),
        "quiet": quiet_text(draft.quiet_from, draft.quiet_until),
    }
    return [f"{STEP_TITLES[step]}：{values[step]}" for step in STEPS[:upto]]


# ---- the steps -------------------------------------------------------------------------------

Rows = list[list[tuple[str, str]]]  # rows of (label, token)
NAV: list[tuple[str, str]] = [("上一步", "back"), ("取消", "cancel")]


def _pairs(options: Sequence[tuple[str, str]]) -> Rows:
    return [list(options[i:i + 2]) for i in range(0, len(options), 2)]


def render(conn: Connection, draft: SubscriptionDraft) -> tuple[str, Rows]:
    """The message of the draft's step (HTML, escaped) and its buttons."""
    index = STEPS.index(draft.step)
    if draft.step == "confirm":
        lines = ["<b>订阅告警：请确认</b>", *map(escape, _summary(draft, index)),
                 "", escape("确认后，本聊天将收到此后产生的、符合以上条件的告警。")]
        return "\n".join(lines), [[("确认订阅", "confirm")], NAV]
    lines = [f"<b>订阅告警</b>（第 {index + 1}/6 步：{STEP_TITLES[draft.step]}）"]
    done = _summary(draft, index)
    if done:
        lines += [escape("已选 " + "；".join(done))]
    lines.append("")
    if draft.notice:
        lines.append(escape(draft.notice))
    head, rows = _STEP_RENDERERS[draft.step](conn, draft)
    if head:
        lines.append(escape(head))
    return "\n".join(lines).rstrip("\n"), rows


def _typing(draft: SubscriptionDraft) -> tuple[str, Rows]:
    return PROMPTS[draft.awaiting or ""], [[("返回", "untype"), ("取消", "cancel")]]


def _candidates(draft: SubscriptionDraft, retype: str, extra: Rows) -> Rows:
    return [[(label, token)] for token, label in draft.candidates] + [[("重新输入", retype)]] + extra


def _region_step(conn: Connection, draft: SubscriptionDraft) -> tuple[str, Rows]:
    if draft.awaiting == "region":
        return _typing(draft)
    if draft.candidates:
        return "", _candidates(draft, "type:region", [[("返回", "untype"), ("取消", "cancel")]])
    children = sub_regions(conn, draft.browse)
    rows: Rows = []
    if draft.browse is None:
        head = "选择要订阅的地区（含下辖地区），或输入地区名称："
        rows.append([("全部地区", "region:*")])
    else:
        name = region_full_name(conn, draft.browse)
        head = f"{name}：订阅整个地区，或选择下级地区："
        rows.append([(f"订阅整个{name}", f"region:{draft.browse}")])
    page = children[draft.offset:draft.offset + REGIONS_PER_PAGE]
    rows += _pairs([(n, f"drill:{c}") for c, n in page])
    turn = []
    if draft.offset > 0:
        turn.append(("上一页", f"page:{max(0, draft.offset - REGIONS_PER_PAGE)}"))
    if draft.offset + REGIONS_PER_PAGE < len(children):
        turn.append(("下一页", f"page:{draft.offset + REGIONS_PER_PAGE}"))
    if turn:
        rows.append(turn)
    last = [("输入地区名称", "type:region")]
    if draft.browse is not None:
        last.insert(0, ("返回上一级", "up"))
    rows += [last, [("取消", "cancel")]]
    return head, rows


def _level_step(conn: Connection, draft: SubscriptionDraft) -> tuple[str, Rows]:
    return "只接收哪一层级单位的告警？", [
        [("部门", "level:department"), ("人民政府", "level:government")],
        [("乡镇（街道）", "level:township"), ("不限", "level:*")],
        NAV,
    ]


def _agency_step(conn: Connection, draft: SubscriptionDraft) -> tuple[str, Rows]:
    if draft.awaiting == "agency":
        return _typing(draft)
    if draft.candidates:
        return "", _candidates(draft, "type:agency", [[("不限（范围内全部单位）", "agency:*")], NAV])
    return "只接收其中某一个单位的告警吗？", [
        [("不限（范围内全部单位）", "agency:*")], [("输入单位名称", "type:agency")], NAV]


def _severity_step(conn: Connection, draft: SubscriptionDraft) -> tuple[str, Rows]:
    return "接收哪些级别的告警？", [[(label, f"sev:{key}")] for key, label in SEVERITY_CHOICES] + [NAV]


def _mode_step(conn: Connection, draft: SubscriptionDraft) -> tuple[str, Rows]:
    return "怎样接收？", [[(label, f"mode:{key}")] for key, label in MODE_CHOICES] + [NAV]


def _quiet_step(conn: Connection, draft: SubscriptionDraft) -> tuple[str, Rows]:
    if draft.awaiting == "quiet":
        return _typing(draft)
    return ("免打扰时段内不发送告警，时段结束后补发（每日汇总也推迟到结束后）。要设免打扰吗？", [
        [("不设免打扰", "quiet:none")], [("22:00–07:00", f"quiet:{NIGHT}")], [("输入时段", "type:quiet")], NAV])


_STEP_RENDERERS = {"region": _region_step, "level": _level_step, "agency": _agency_step,
                   "severity": _severity_step, "mode": _mode_step, "quiet": _quiet_step}


# ---- changing the draft ----------------------------------------------------------------------


def _advance(draft: SubscriptionDraft) -> None:
    draft.step = STEPS[STEPS.index(draft.step) + 1]
    draft.awaiting, draft.candidates, draft.notice, draft.offset = None, (), None, 0


def _misfit(draft: SubscriptionDraft, agency: AgencyRef) -> str | None:
    """Why `agency` is outside the region and level chosen, or None."""
    if draft.region_code is not None and not in_region(agency.region_code, draft.region_code):
        return f"「{agency.name}」不在所选地区（{draft.region_label}）内"
    if draft.level is not None and agency.level != draft.level:
        return f"「{agency.name}」不是所选层级（{LEVEL_NAMES.get(draft.level, draft.level)}）的单位"
    return None


def _keep_agency_in_scope(conn: Connection, draft: SubscriptionDraft) -> None:
    """After the region or level changed (going back): drop an agency chosen that no longer fits."""
    if draft.agency_id is None:
        return
    try:
        agency = agency_by_id(conn, draft.agency_id)
    except ScopeError:
        agency = None
    if agency is None or _misfit(draft, agency):
        draft.agency_id, draft.agency_label = None, None


def _choose_region(conn: Connection, draft: SubscriptionDraft, code: str | None) -> None:
    draft.region_code = code
    draft.region_label = _region_label(conn, code) if code else "全部地区"
    _keep_agency_in_scope(conn, draft)
    _advance(draft)


def _choose_agency(draft: SubscriptionDraft, agency: AgencyRef) -> None:
    draft.agency_id = agency.id
    draft.agency_label = agency.name
    _advance(draft)


def apply(conn: Connection, draft: SubscriptionDraft, token: str) -> str | None:
    """Change the draft as the button `token` says (cancel and confirm are the caller's). A short
    notice for the button's answer, or None."""
    kind, _, value = token.partition(":")
    if kind == "back":
        index = STEPS.index(draft.step)
        draft.step = STEPS[max(0, index - 1)]
        draft.awaiting, draft.candidates, draft.notice, draft.offset = None, (), None, 0
    elif kind == "untype":
        draft.awaiting, draft.candidates, draft.notice = None, (), None
    elif kind == "type" and value in PROMPTS:
        draft.awaiting, draft.candidates, draft.notice = value, (), None
    elif kind == "page":
        draft.offset = max(0, int(value))
    elif kind == "up":
        parent = None
        if draft.browse is not None:
            from db.models import Region

            regions: sa.Table = Region.__table__  # type: ignore[attr-defined]
            parent = conn.execute(sa.select(regions.c.parent_code)
                                  .where(regions.c.code == draft.browse)).scalar()
        draft.browse, draft.offset = parent, 0
    elif kind == "drill":
        if sub_regions(conn, value):
            draft.browse, draft.offset = value, 0
        else:  # nothing under it: it is the choice
            _choose_region(conn, draft, value)
    elif kind == "region":
        _choose_region(conn, draft, None if value == "*" else value)
    elif kind == "level":
        draft.level = None if value == "*" else value
        _keep_agency_in_scope(conn, draft)
        _advance(draft)
    elif kind == "agency":
        if value == "*":
            draft.agency_id, draft.agency_label = None, None
            _advance(draft)
        else:
            try:
                agency = agency_by_id(conn, int(value))
            except ScopeError as exc:
                return str(exc)
            problem = _misfit(draft, agency)
            if problem:
                draft.notice = problem
                return problem
            _choose_agency(draft, agency)
    elif kind == "sev":
        draft.min_severity = value
        _advance(draft)
    elif kind == "mode":
        draft.mode = value
        _advance(draft)
    elif kind == "quiet":
        draft.quiet_from, draft.quiet_until = (None, None) if value == "none" else parse_quiet_hours(value)
        _advance(draft)
    return None


def typed(conn: Connection, draft: SubscriptionDraft, text: str) -> None:
    """The user typed `text` for the draft's awaited input: take it, or say (draft.notice) why not
    and wait for another."""
    what = draft.awaiting
    draft.notice, draft.candidates = None, ()
    if what == "region":
        try:
            region = find_region(conn, text)
        except ScopeError as exc:
            if "多个地区" in str(exc):
                from bot.ask.queries import region_candidates

                found = region_candidates(conn, text)
                if found:
                    draft.awaiting = None
                    draft.notice = f"「{text}」对应多个地区，请选择："
                    draft.candidates = tuple((f"region:{code}", label) for code, label in found)
                    return
            draft.notice = f"{exc}。请重新输入："
            return
        _choose_region(conn, draft, region.code)
    elif what == "agency":
        scope = RegionRef(draft.region_code, draft.region_label) if draft.region_code else None
        found = find_agencies(conn, text, scope, limit=8)
        fitting = [a for a in found if _misfit(draft, a) is None]
        if not found:
            draft.notice = f"没有找到单位「{text}」。请重新输入，或返回选「不限」："
        elif not fitting:
            draft.notice = f"{_misfit(draft, found[0])}。请重新输入，或返回选「不限」："
        elif len(fitting) == 1:
            _choose_agency(draft, fitting[0])
        else:
            draft.awaiting = None
            draft.notice = f"「{text}」对应多个单位，请选择："
            draft.candidates = tuple(
                (f"agency:{a.id}", f"{a.name}（{a.region_name}）" if a.region_name else a.name)
                for a in fitting)
    elif what == "quiet":
        try:
            draft.quiet_from, draft.quiet_until = parse_quiet_hours(text)
        except ValueError as exc:
            draft.notice = f"{exc}。请重新输入："
            return
        _advance(draft)


# ---- the store -------------------------------------------------------------------------------


def create(engine: Engine, draft: SubscriptionDraft, now: datetime) -> tuple[int | None, str]:
    """The draft as a new Subscriber of the draft's chat: (its id, its name), or (None, why not)."""
    from sqlmodel import select

    from db.engine import session

    values = {"region_code": draft.region_code, "level": draft.level, "agency_id": draft.agency_id,
              "min_severity": draft.min_severity, "mode": draft.mode, "quiet_from": draft.quiet_from,
              "quiet_until": draft.quiet_until}
    target = str(draft.chat_id)
    with session(engine) as s:
        mine = s.exec(select(Subscriber).where(Subscriber.channel == "telegram", Subscriber.target == target)
                      .order_by(Subscriber.id)).all()
        active = [x for x in mine if x.active]
        same = next((x for x in active if all(getattr(x, k) == v for k, v in values.items())), None)
        if same is not None:
            return None, "本聊天已有相同的订阅，无需重复订阅。发送 /subscriptions 查看。"
        if len(active) >= MAX_PER_CHAT:
            return None, f"本聊天的订阅已达 {MAX_PER_CHAT} 个。请先用 /subscriptions 取消不需要的订阅。"
        scope = scope_text(draft.region_label if draft.region_code else None, draft.level, draft.agency_label)
        scope = scope if len(scope) <= 60 else scope[:59] + "…"
        n = len(mine) + 1
        while True:
            name = f"{scope}（Telegram {target} #{n}）"
            if s.exec(select(Subscriber.id).where(Subscriber.name == name)).first() is None:
                break
            n += 1
        sub = Subscriber(name=name, channel="telegram", target=target, active=True, created_at=now, **values)
        s.add(sub)
        s.flush()
        return sub.id, name


@dataclass(frozen=True, slots=True)
class Listed:
    id: int
    scope: str
    details: str


def chat_subscriptions(engine: Engine, chat_id: int) -> list[Listed]:
    """The chat's active subscriptions (channel telegram, target the chat), oldest first, described."""
    from db.models import Agency

    table: sa.Table = Subscriber.__table__  # type: ignore[attr-defined]
    agencies: sa.Table = Agency.__table__  # type: ignore[attr-defined]
    out = []
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table).where(
            table.c.channel == "telegram", table.c.target == str(chat_id), table.c.active == sa.true())
            .order_by(table.c.id)).all()
        for r in rows:
            region = _region_label(conn, r.region_code) if r.region_code else None
            agency = None
            if r.agency_id is not None:
                agency = conn.execute(sa.select(agencies.c.name).where(agencies.c.id == r.agency_id)).scalar()
            details = (f"最低级别：{SEVERITY_TEXT.get(r.min_severity, r.min_severity)}；"
                       f"方式：{MODE_TEXT.get(r.mode, r.mode)}；免打扰：{quiet_text(r.quiet_from, r.quiet_until)}")
            out.append(Listed(r.id, scope_text(region, r.level, agency), details))
    return out


def remove(engine: Engine, subscriber_id: int, chat_id: int) -> bool:
    """Deactivate the chat's subscription `subscriber_id` and cancel its waiting alerts. False when
    it is not an active subscription of this chat."""
    table: sa.Table = Subscriber.__table__  # type: ignore[attr-defined]
    deliveries: sa.Table = AlertDelivery.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        done = conn.execute(sa.update(table).where(
            table.c.id == subscriber_id, table.c.channel == "telegram", table.c.target == str(chat_id),
            table.c.active == sa.true()).values(active=False)).rowcount
        if done:
            conn.execute(sa.update(deliveries).where(deliveries.c.subscriber_id == subscriber_id,
                                                     deliveries.c.state.in_(("pending", "sending")))
                         .values(state="cancelled"))
    return bool(done)


def remove_chat(engine: Engine, chat_id: int) -> int:
    """Deactivate every active subscription of the chat and cancel their waiting alerts (a revoked
    user's private chat); how many."""
    table: sa.Table = Subscriber.__table__  # type: ignore[attr-defined]
    deliveries: sa.Table = AlertDelivery.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        ids = conn.execute(sa.select(table.c.id).where(
            table.c.channel == "telegram", table.c.target == str(chat_id), table.c.active == sa.true())).scalars().all()
        if ids:
            conn.execute(sa.update(table).where(table.c.id.in_(ids)).values(active=False))
            conn.execute(sa.update(deliveries).where(deliveries.c.subscriber_id.in_(ids),
                                                     deliveries.c.state.in_(("pending", "sending")))
                         .values(state="cancelled"))
    return len(ids)


def forget_user(holder: Application | ContextTypes.DEFAULT_TYPE, user_id: int) -> int:  # type: ignore[type-arg]
    """End `user_id`'s /subscribe drafts (a revoked user): their buttons and typed input are stale
    from now on, even after a new approval. How many."""
    st = state(holder)

    def mine(draft: SubscriptionDraft) -> bool:
        if draft.user_id != user_id:
            return False
        draft.done = True  # a press holding the draft's lock right now finds it done
        return True

    for who in [w for w in st.awaiting if w[1] == user_id]:
        del st.awaiting[who]
    return st.drafts.forget(mine)


# ---- the handlers ----------------------------------------------------------------------------


def _keyboard(svc: BotServices, key: str, draft: SubscriptionDraft, rows: Rows) -> InlineKeyboardMarkup:
    """The buttons of `rows`, signed with the draft's new version; the draft remembers what each
    index stands for."""
    draft.version = (draft.version + 1) % VERSIONS
    options: list[tuple[str, str]] = []
    markup: list[list[InlineKeyboardButton]] = []
    for row in rows:
        buttons = []
        for label, token in row:
            if len(options) >= MAX_OPTIONS:
                break
            buttons.append(InlineKeyboardButton(
                _label(label), callback_data=svc.signer.sign("u", key, draft.version * 100 + len(options))))
            options.append((label, token))
        if buttons:
            markup.append(buttons)
    draft.options = tuple(options)
    return InlineKeyboardMarkup(markup)


def _label(text: str) -> str:
    """A button's label (a region or agency name from the store): one line, no invisible
    characters, at most BUTTON_TEXT_LIMIT characters."""
    text = clean(text) or "?"
    return text if len(text) <= BUTTON_TEXT_LIMIT else text[: BUTTON_TEXT_LIMIT - 1] + "…"


async def _render(svc: BotServices, draft: SubscriptionDraft) -> tuple[str, Rows]:
    def read() -> tuple[str, Rows]:
        with svc.engine.connect() as conn:
            return render(conn, draft)

    return await svc.db(read)


async def _ask_for_input(context: ContextTypes.DEFAULT_TYPE, draft: SubscriptionDraft, name: str) -> None:
    """In a group: a ForceReply prompt, so that the user's reply reaches the bot (privacy mode)."""
    if draft.chat_id > 0 or draft.awaiting is None:  # a private chat: any text will do
        draft.prompt_id = None
        return
    who = f'<a href="tg://user?id={draft.user_id}">{escape(name)}</a>'
    prompt = await context.bot.send_message(
        draft.chat_id, f"{who}，{escape(PROMPTS[draft.awaiting])}（请直接回复本条消息）",
        reply_markup=ForceReply(selective=True, input_field_placeholder=PROMPTS[draft.awaiting][:64]))
    draft.prompt_id = prompt.message_id


def _track(st: SubscribeState, key: str, draft: SubscriptionDraft) -> None:
    who = (draft.chat_id, draft.user_id)
    if draft.awaiting is not None and not draft.done:
        st.awaiting[who] = (key, st.clock())
    elif st.awaiting.get(who, ("",))[0] == key:
        del st.awaiting[who]


async def subscribe_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/subscribe: choose a scope, a minimum severity, immediate or daily, and quiet hours."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    svc = services(context)
    st = state(context)
    draft = SubscriptionDraft(chat_id=message.chat_id, user_id=user.id)
    key = st.drafts.put(draft)
    old = st.awaiting.pop((draft.chat_id, draft.user_id), None)  # a new /subscribe replaces one waiting
    if old is not None and (previous := st.drafts.get(old[0])) is not None:
        previous.done = True
    async with draft.lock:
        html, rows = await _render(svc, draft)
        sent = await message.reply_text(html, reply_markup=_keyboard(svc, key, draft, rows))
        draft.message_id = sent.message_id


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button of a /subscribe message."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    svc = services(context)
    st = state(context)
    button = svc.signer.verify(query.data)
    draft = st.drafts.get(button.key) if button is not None and button.action == "u" else None
    message = query.message
    if button is None or draft is None or draft.done or message is None or message.chat.id != draft.chat_id:
        await query.answer(STALE)
        return
    if user.id != draft.user_id:
        await query.answer(NOT_YOURS, show_alert=True)
        return
    async with draft.lock:
        if draft.done:  # finished, cancelled or its user revoked while this press waited
            await query.answer(STALE)
            return
        version, index = divmod(button.number, 100)
        if version != draft.version or index >= len(draft.options) or message.message_id != draft.message_id:
            await query.answer(OLD_BUTTON)
            return
        _, token = draft.options[index]
        if token == "cancel":
            draft.done = True
            _track(st, button.key, draft)
            await query.answer()
            await _edit(query, "已取消订阅设置。需要时可再发送 /subscribe。", None)
            return
        if token == "confirm":
            await _confirm(query, svc, st, button.key, draft)
            return
        notice = await svc.db(_apply, svc.engine, draft, token)
        await query.answer(alert(notice) if notice else None)
        html, rows = await _render(svc, draft)
        await _edit(query, html, _keyboard(svc, button.key, draft, rows))
        _track(st, button.key, draft)
        await _ask_for_input(context, draft, user.full_name)


def _apply(engine: Engine, draft: SubscriptionDraft, token: str) -> str | None:
    with engine.connect() as conn:
        return apply(conn, draft, token)


async def _edit(query: Any, html: str, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await query.edit_message_text(html, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def _confirm(query: Any, svc: BotServices, st: SubscribeState, key: str,
                   draft: SubscriptionDraft) -> None:
    if not await svc.is_approved(draft.user_id):  # revoked since the press passed the gate
        draft.done = True
        _track(st, key, draft)
        await query.answer(STALE)
        return
    subscriber_id, text = await svc.db(create, svc.engine, draft, datetime.now(UTC))
    draft.done = True
    _track(st, key, draft)
    await query.answer()
    if subscriber_id is None:
        await _edit(query, escape(text), None)
        return
    lines = [f"<b>已订阅（编号 {subscriber_id}）</b>", *map(escape, _summary(draft, len(STEPS) - 1)), "",
             escape("此后产生的、符合条件的告警将发送到本聊天。发送 /subscriptions 查看或取消订阅。")]
    await _edit(query, "\n".join(lines), None)


async def on_input(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Typed input for a /subscribe draft: a region or agency name, or quiet hours."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or not message.text:
        return
    svc = services(context)
    st = state(context)
    found = st.waiting_draft(message.chat_id, user.id)
    if found is None:
        return
    key, draft = found
    text = clean(message.text)
    async with draft.lock:
        if draft.done or draft.awaiting is None:
            return
        if len(text) > MAX_INPUT:
            draft.notice = f"输入太长了（{len(text)} 字），请精简到 {MAX_INPUT} 字以内："
        else:
            await svc.db(_typed, svc.engine, draft, text)
        html, rows = await _render(svc, draft)
        sent = await message.reply_text(html, reply_markup=_keyboard(svc, key, draft, rows))
        old, draft.message_id = draft.message_id, sent.message_id
        _track(st, key, draft)
        if old is not None:  # the step moved to the new message: the old one's buttons go
            try:
                await context.bot.edit_message_reply_markup(draft.chat_id, old, reply_markup=None)
            except TelegramError as exc:
                log.debug("could not remove the buttons of message %s: %s", old, exc)
        await _ask_for_input(context, draft, user.full_name)


def _typed(engine: Engine, draft: SubscriptionDraft, text: str) -> None:
    with engine.connect() as conn:
        typed(conn, draft, text)


# ---- /subscriptions --------------------------------------------------------------------------


def _listing(svc: BotServices, listed: list[Listed], chat_id: int, user_id: int
             ) -> tuple[str, InlineKeyboardMarkup | None]:
    if not listed:
        return escape("本聊天还没有订阅告警。发送 /subscribe 订阅。"), None
    lines = [f"<b>本聊天的告警订阅（{len(listed)} 个）</b>"]
    for i, item in enumerate(listed, 1):
        lines += [escape(f"{i}. 范围：{item.scope}（编号 {item.id}）"), escape(f"   {item.details}")]
    lines += ["", escape("按下面的按钮取消对应的订阅；发送 /subscribe 添加。")]
    ids = tuple(item.id for item in listed)
    key = svc.conversations.put(Conversation("subscriptions", ids, chat_id, user_id))
    buttons = [InlineKeyboardButton(f"取消订阅 {i}", callback_data=svc.signer.sign("r", key, i - 1))
               for i in range(1, len(listed) + 1)]
    return "\n".join(lines), InlineKeyboardMarkup([buttons[i:i + 3] for i in range(0, len(buttons), 3)])


async def subscriptions_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/subscriptions: this chat's subscriptions, each with a button to remove it."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    svc = services(context)
    listed = await svc.db(chat_subscriptions, svc.engine, message.chat_id)
    html, markup = _listing(svc, listed, message.chat_id, user.id)
    await message.reply_text(html, reply_markup=markup)


async def on_remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """「取消订阅 N」 under a /subscriptions list."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    svc = services(context)
    button = svc.signer.verify(query.data)
    listing = svc.conversations.get(button.key) if button is not None and button.action == "r" else None
    chat_id = query.message.chat.id if query.message is not None else None
    if (button is None or listing is None or listing.view != "subscriptions" or listing.chat_id != chat_id
            or chat_id is None or button.number >= len(listing.args)):
        await query.answer(STALE_LIST)
        return
    subscriber_id = int(listing.args[button.number])  # type: ignore[arg-type]
    removed = await svc.db(remove, svc.engine, subscriber_id, chat_id)
    await query.answer(f"已取消订阅 {button.number + 1}" if removed else "这个订阅已经取消了")
    listed = await svc.db(chat_subscriptions, svc.engine, chat_id)
    html, markup = _listing(svc, listed, chat_id, user.id)
    await _edit(query, html, markup)
