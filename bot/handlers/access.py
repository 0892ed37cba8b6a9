"""Who may use the bot.

`gate` runs before every other handler (group -1): an update from a user who is neither an admin
(bot.admins in the configuration) nor approved (the bot_user table) goes no further. In a private
chat the user is told, politely, that access must be granted and whom to ask, with their own user
id to send; in a group only their commands and messages to the bot get that answer (other chatter
is ignored), and their button presses get it as an alert.

Admins grant and take access: /approve 用户编号 [名字] (or as a reply to the user's message in a
group), /revoke 用户编号, /users. A revocation takes effect at the user's next update (the gate
reads the table every time) and ends what they had open: their answers' buttons and /subscribe
drafts go stale (a new approval does not bring them back), and the subscriptions of their private
chat are deactivated, so no more alerts reach them there. A group's subscriptions belong to the
group, not to the member who made them: they stay (any approved member, or an admin, ends them
with /subscriptions in the group), as the group's other members still need its alerts.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import users
from bot.handlers.common import ADMIN_ONLY, addressed_to_bot, command_args, command_for_bot, is_private
from bot.services import BotServices, services
from bot.text import alert, clean
from bot.text import escaped as escape  # store and user text: invisible characters dropped, escaped
from checks.model import CST

log = logging.getLogger(__name__)

APPROVE_USAGE = "/approve 用户编号 [名字]，例如 /approve 123456789 张三（也可在群里回复该用户的消息发送 /approve）"
REVOKE_USAGE = "/revoke 用户编号，例如 /revoke 123456789"
_USER_ID = re.compile(r"^[1-9][0-9]{0,15}$")


def _admins_html(svc: BotServices) -> str:
    links = [f'<a href="tg://user?id={a}">管理员 {a}</a>' for a in sorted(svc.admins)]
    return "、".join(links)


def refusal_html(svc: BotServices, user_id: int, name: str | None = None) -> str:
    who = f"{escape(name)}，" if name else ""
    lines = [f"抱歉，{who}这个机器人只向经过授权的用户开放，你还没有获得授权。",
             f"你的用户编号是 <code>{user_id}</code>。"]
    if svc.admins:
        lines.append(f"请把这个编号发给{_admins_html(svc)}，"
                     f"管理员发送 <code>/approve {user_id} 你的名字</code> 后即可使用。")
    else:
        lines.append("本机器人还没有配置管理员（配置项 bot.admins），请联系部署它的同事。")
    return "\n".join(lines)


def refusal_alert(user_id: int) -> str:
    return f"抱歉，你还没有获得使用这个机器人的授权。请把你的用户编号 {user_id} 发给管理员申请开通。"


def _wants_answer(message: Message, context: ContextTypes.DEFAULT_TYPE) -> bool:
    if is_private(message):
        return True
    return command_for_bot(message, context) or addressed_to_bot(message, context)


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Let approved users' updates through; refuse the others and stop them here."""
    user = update.effective_user
    if user is None or user.is_bot:
        raise ApplicationHandlerStop  # channel posts, other bots: nothing to answer
    svc = services(context)
    if await svc.is_approved(user.id):
        return
    log.info("refused user %s", user.id)
    if update.callback_query is not None:
        await update.callback_query.answer(alert(refusal_alert(user.id)), show_alert=True)
    elif update.message is not None and _wants_answer(update.message, context):
        name = None if is_private(update.message) else user.full_name
        await update.message.reply_text(refusal_html(svc, user.id, name))
    raise ApplicationHandlerStop


def admin_only(callback):  # noqa: ANN001, ANN201
    """The command for admins only; others are told so."""
    async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if user is None or user.id not in services(context).admins:
            if update.effective_message is not None:
                await update.effective_message.reply_text(ADMIN_ONLY)
            return
        await callback(update, context)

    wrapper.__name__ = wrapper.__qualname__ = callback.__name__
    wrapper.__doc__ = callback.__doc__
    return wrapper


async def approve(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/approve 用户编号 [名字]: let a user use the bot."""
    message = update.effective_message
    admin = update.effective_user
    if message is None or admin is None:
        return
    args = command_args(context)
    reply = message.reply_to_message
    if args and _USER_ID.match(args[0]):
        user_id, name = int(args[0]), " ".join(args[1:]).strip() or None
    elif reply is not None and reply.from_user is not None and not reply.from_user.is_bot:
        user_id, name = reply.from_user.id, " ".join(args).strip() or clean(reply.from_user.full_name) or None
    else:
        await message.reply_text(escape(f"用法：{APPROVE_USAGE}"))
        return
    if name is not None:
        name = name[: users.NAME_LIMIT]
    svc = services(context)
    if user_id in svc.admins:
        await message.reply_text(escape(f"{user_id} 是配置文件中的管理员，无需授权。"))
        return
    new = await svc.db(users.approve, svc.engine, user_id, name=name, by=admin.id, now=datetime.now(UTC))
    who = f"{name}（{user_id}）" if name else str(user_id)
    await message.reply_text(escape(f"已授权 {who} 使用本机器人。" if new else f"{who} 已有授权，名字已更新。"))
    if new:
        try:  # tell the user; fails when they never opened a chat with the bot, which is fine
            await context.bot.send_message(user_id, "你已获准使用本机器人。发送 /help 查看用法，或直接用中文提问。")
        except TelegramError as exc:
            log.info("could not tell user %s about the approval: %s", user_id, exc)


async def revoke(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/revoke 用户编号: take a user's access away (their open buttons stop working too)."""
    message = update.effective_message
    admin = update.effective_user
    if message is None or admin is None:
        return
    args = command_args(context)
    if len(args) != 1 or not _USER_ID.match(args[0]):
        await message.reply_text(escape(f"用法：{REVOKE_USAGE}"))
        return
    user_id = int(args[0])
    svc = services(context)
    if user_id in svc.admins:
        await message.reply_text(escape(f"{user_id} 是配置文件中的管理员，只能在配置（bot.admins）中移除。"))
        return
    done = await svc.db(users.revoke, svc.engine, user_id, by=admin.id, now=datetime.now(UTC))
    # What the user had open ends with the access, whether or not the table had them approved.
    from bot.handlers.subscribe import forget_user, remove_chat

    svc.forget_user(user_id)
    forget_user(context, user_id)
    removed = await svc.db(remove_chat, svc.engine, user_id)  # a private chat's id is the user's id
    lines = [f"已撤销 {user_id} 的授权。" if done else f"{user_id} 本来就没有授权。"]
    if removed:
        lines.append(f"其私聊中的 {removed} 个告警订阅已停用。")
    log.info("revoked user %s (by %s)", user_id, admin.id)
    await message.reply_text(escape("\n".join(lines)))


async def list_users(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/users: who is approved."""
    svc = services(context)
    approved = await svc.db(users.approved_users, svc.engine)
    lines = [f"<b>管理员</b>（配置文件）：{escape('、'.join(str(a) for a in sorted(svc.admins)) or '无')}",
             f"<b>已授权用户</b>：{len(approved)} 人"]
    shown = 0
    for u in approved:
        day = u.approved_at.astimezone(CST)
        line = escape(f"{u.user_id} {u.name or ''}（{day:%Y-%m-%d} 由 {u.approved_by} 授权）")
        if sum(len(x) + 1 for x in lines) + len(line) > 3900:  # one message
            lines.append(escape(f"……另有 {len(approved) - shown} 人"))
            break
        lines.append(line)
        shown += 1
    await update.effective_message.reply_text("\n".join(lines))  # type: ignore[union-attr]
