"""/ack 编号 [理由] and /dismiss 编号 理由: a supervisor acknowledges a finding or marks it a false
positive (compliance.lifecycle.set_state); the Telegram user is recorded as the actor. The 编号 is
shown by /report, /late, /missing and /issues."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from telegram import Update, User
from telegram.ext import ContextTypes

from bot import users
from bot.handlers.common import command_args
from bot.services import BotServices, services
from bot.text import escaped as escape  # store and user text: invisible characters dropped, escaped

ACK_USAGE = "/ack 编号 [理由]，例如 /ack 12 已电话督促"
DISMISS_USAGE = "/dismiss 编号 理由，例如 /dismiss 12 报告附件中已有该表"
_ID = re.compile(r"^(?:#|编号)?(?P<id>[1-9][0-9]{0,17})$")
MAX_REASON = 500
MAX_MESSAGE = 1000  # characters of the finding's message repeated in the reply (one message in all)
STATE_TEXT = {"acknowledged": "已确认", "false_positive": "已标记为误报"}


def _parse(args: list[str]) -> tuple[int, str | None] | None:
    if not args:
        return None
    m = _ID.match(args[0])
    if m is None:
        return None
    reason = " ".join(args[1:]).strip() or None
    return int(m.group("id")), reason


def _set(svc: BotServices, finding_id: int, state: str, actor: str, reason: str | None) -> str:
    """The finding's message after the change; raises FindingStateError."""
    from compliance.lifecycle import set_state
    from db.engine import session

    with session(svc.engine) as s:
        return set_state(s, finding_id, state, actor=actor, reason=reason, now=datetime.now(UTC)).message


async def _actor(svc: BotServices, user: User) -> str:
    """Who did it, as the finding's history records it: the name the admin gave, else the
    Telegram name; and the Telegram user id."""
    name = await svc.db(users.user_name, svc.engine, user.id) or user.full_name
    return f"{name}（Telegram {user.id}）"


async def _change(update: Update, context: ContextTypes.DEFAULT_TYPE, state: str, usage: str) -> None:
    from compliance.lifecycle import FindingStateError

    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    parsed = _parse(command_args(context))
    if parsed is None or (state == "false_positive" and not parsed[1]):
        problem = "标记误报时请说明理由。" if parsed is not None else None
        await message.reply_text(escape(f"{problem}\n用法：{usage}" if problem else f"用法：{usage}"))
        return
    finding_id, reason = parsed
    if reason is not None and len(reason) > MAX_REASON:
        await message.reply_text(escape(f"理由太长了，请精简到 {MAX_REASON} 字以内。"))
        return
    svc = services(context)
    actor = await _actor(svc, user)
    try:
        text = await svc.db(_set, svc, finding_id, state, actor, reason)
    except FindingStateError as exc:
        await message.reply_text(escape(f"无法处理：{exc}"))
        return
    if len(text) > MAX_MESSAGE:  # a message from the store, of any length
        text = text[: MAX_MESSAGE - 1] + "…"
    lines = [f"问题 {finding_id} {STATE_TEXT[state]}：{text}"]
    if reason:
        lines.append(f"理由：{reason}")
    lines.append("此后不再就它告警。")
    await message.reply_text(escape("\n".join(lines)))


async def ack(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ack 编号 [理由]: acknowledged (known, followed up); its alerts stop."""
    await _change(update, context, "acknowledged", ACK_USAGE)


async def dismiss(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/dismiss 编号 理由: a false positive; a reason is required."""
    await _change(update, context, "false_positive", DISMISS_USAGE)
