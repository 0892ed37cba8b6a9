"""/start and /help: what the bot does, its commands (from the command table, bot.commands) and
example questions; and a hint for a command it does not know."""

from __future__ import annotations


from telegram import Update
from telegram.ext import ContextTypes

from bot.handlers.common import is_private
from bot.services import services
from bot.text import escaped as escape

EXAMPLES = (
    "2021年哪些单位收到了申请",
    "镇海区人社局2021年收到多少申请",
    "去年哪些局逾期发布",
    "浙江省2021年共收到多少申请",
    "2021年申请最多的前10个单位",
    "临淄区人社局历年申请数",
)


def help_html(is_admin: bool) -> str:
    from bot.commands import COMMANDS

    lines = ["<b>政府信息公开工作年度报告督查助手</b>",
             "按已收录的年度报告回答问题。直接用中文提问即可，例如："]
    lines += [f"• {escape(e)}" for e in EXAMPLES]
    lines += ["", "<b>命令</b>"]
    lines += [f"{escape(c.usage)} — {escape(c.description)}" for c in COMMANDS if not c.admin]
    if is_admin:
        lines += ["", "<b>管理员命令</b>"]
        lines += [f"{escape(c.usage)} — {escape(c.description)}" for c in COMMANDS if c.admin]
    lines += ["", "年份可写 2021、2021年、今年、去年；地区可写名称或代码；层级：部门、政府、乡镇。",
              "长的回答分页显示，用「上一页」「下一页」翻页。"]
    return "\n".join(lines)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: the commands and example questions."""
    user = update.effective_user
    is_admin = user is not None and user.id in services(context).admins
    await update.effective_message.reply_text(help_html(is_admin))  # type: ignore[union-attr]


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: a greeting and the help."""
    user = update.effective_user
    name = escape(user.first_name) if user is not None else ""
    is_admin = user is not None and user.id in services(context).admins
    await update.effective_message.reply_text(  # type: ignore[union-attr]
        f"你好，{name}！\n\n{help_html(is_admin)}")


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not have (in a private chat; in groups it may be another bot's)."""
    message = update.effective_message
    if message is None or not is_private(message):
        return
    await message.reply_text("没有这个命令。发送 /help 查看可用的命令，或直接用中文提问。")
