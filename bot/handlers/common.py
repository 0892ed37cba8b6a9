"""Small pieces the handlers share: is a group message meant for the bot, a command's arguments
(cleaned of invisible characters, bot.text), the per-user rate limit, and the Chinese texts more
than one handler sends."""

from __future__ import annotations

import re
from html import escape

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.ratelimit import Verdict
from bot.services import services
from bot.text import alert, clean

STALE = "按钮已失效，请重新提问"
ERROR = "抱歉，处理这个请求时出错了，已记录下来。请稍后再试，或换个问法。"
ADMIN_ONLY = "只有管理员可以使用这个命令。"
MAX_QUESTION = 300  # characters: questions are short; a long text is not a question


def is_private(message: Message) -> bool:
    return message.chat.type == ChatType.PRIVATE


def addressed_to_bot(message: Message, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """In a group, a message is for the bot when it mentions the bot or replies to the bot."""
    bot = context.bot
    reply = message.reply_to_message
    if reply is not None and reply.from_user is not None and reply.from_user.id == bot.id:
        return True
    username = bot.username
    return bool(username and message.text and f"@{username}".lower() in message.text.lower())


def command_for_bot(message: Message, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """A command (/help, /help@this_bot) not meant for another bot (/help@other_bot)."""
    text = message.text or ""
    if not text.startswith("/"):
        return False
    command = text.split(maxsplit=1)[0]
    if "@" not in command:
        return True
    return command.split("@", 1)[1].lower() == (context.bot.username or "").lower()


def command_args(context: ContextTypes.DEFAULT_TYPE) -> list[str]:
    """The command's arguments, each cleaned (bot.text.clean: no control, zero-width or bidi
    characters); arguments left empty by that are dropped."""
    return [a for a in (clean(arg) for arg in context.args or []) if a]


def strip_mention(text: str, username: str | None) -> str:
    if not username:
        return text
    return re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE)


def rate_text(per_minute: int, wait: float) -> str:
    return f"提问太频繁了：每人每分钟最多 {per_minute} 个问题，请 {int(wait + 0.999)} 秒后再试。"


async def within_rate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Count a question of the update's user; when over the limit, say so once (a button press is
    always answered, so that its spinner stops) and return False."""
    svc = services(context)
    user = update.effective_user
    if user is None:
        return False
    verdict, wait = svc.limiter.check(user.id)
    if verdict is Verdict.ALLOW:
        return True
    text = rate_text(svc.limiter.per_minute, wait)
    if update.callback_query is not None:
        await update.callback_query.answer(alert(text), show_alert=verdict is Verdict.REFUSE)
    elif verdict is Verdict.REFUSE and update.effective_message is not None:
        await update.effective_message.reply_text(escape(text))
    return False
