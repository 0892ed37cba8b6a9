"""Questions and their buttons.

A plain-text message (in a group: one that mentions the bot or replies to it; or /ask) goes to the
question engine; every command that lists something goes through `show` too. The reply is HTML
with everything escaped (bot.ask.render.to_html), with buttons under it: the candidates when a
name means several agencies or regions, example questions when the question was not understood,
「上一页」「下一页」 when the list is longer than a page. A button press edits the message in place
(a page, a choice) or asks the example question; its data is verified (bot.callbacks) and names a
conversation the bot keeps (bot.conversations): anything else is answered 「按钮已失效，请重新提问」.
A button belongs to its chat: pressed under a message of another chat it is stale; in a group any
approved member may turn the pages of an answer.
"""

from __future__ import annotations

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.ask import to_html
from bot.conversations import Conversation
from bot.handlers.common import (
    MAX_QUESTION,
    STALE,
    addressed_to_bot,
    command_args,
    is_private,
    strip_mention,
    within_rate,
)
from bot.services import services
from bot.text import clean, escaped


async def show(update: Update, context: ContextTypes.DEFAULT_TYPE, view: str,
               args: tuple[str | int | None, ...]) -> None:
    """Answer the first page of `view` on `args` as a reply, with its buttons."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or not await within_rate(update, context):
        return
    svc = services(context)
    conversation = Conversation(view, args, chat_id=message.chat_id, user_id=user.id)
    answer = await svc.answer(conversation)
    await message.reply_text(to_html(answer), reply_markup=svc.keyboard(answer, conversation))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A plain-text question. In a group, only what is addressed to the bot."""
    message = update.effective_message
    if message is None or not message.text:
        return
    text = message.text
    if not is_private(message):
        if not addressed_to_bot(message, context):
            return
        text = strip_mention(text, context.bot.username)
    await _question(update, context, text)


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask 问题: a question as a command (handy in groups)."""
    question = " ".join(command_args(context))
    if not question:
        await update.effective_message.reply_text(  # type: ignore[union-attr]
            "用法：/ask 问题，例如 /ask 2021年哪些单位收到了申请")
        return
    await _question(update, context, question)


async def _question(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    question = clean(text)  # no control, zero-width or bidi characters: 镇海区\u200b人社局 is 镇海区人社局
    if not question:
        return
    if len(question) > MAX_QUESTION:
        await update.effective_message.reply_text(  # type: ignore[union-attr]
            escaped(f"问题太长了（{len(question)} 字），请精简到 {MAX_QUESTION} 字以内。"))
        return
    await show(update, context, "ask", (question,))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """「上一页」「下一页」, a candidate, an example question."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    svc = services(context)
    button = svc.signer.verify(query.data)
    conversation = svc.conversations.get(button.key) if button is not None else None
    chat_id = query.message.chat.id if query.message is not None else None
    if button is None or conversation is None or conversation.chat_id != chat_id:
        await query.answer(STALE)
        return
    key: str | None = None
    offset = 0
    if button.action == "p":
        key, offset = button.key, button.number
    elif button.action == "c":
        if button.number >= len(conversation.choices):
            await query.answer(STALE)
            return
        choice = conversation.choices[button.number]
        conversation = Conversation(conversation.view, conversation.args, conversation.chat_id, user.id,
                                    agency_id=choice.agency_id if choice.agency_id is not None
                                    else conversation.agency_id,
                                    region_code=choice.region_code or conversation.region_code)
    else:  # an example question: asked as a new question, in a new message
        if button.number >= len(conversation.suggestions):
            await query.answer(STALE)
            return
        conversation = Conversation("ask", (conversation.suggestions[button.number],), conversation.chat_id,
                                    user.id)
    if not await within_rate(update, context):
        return
    answer = await svc.answer(conversation, offset)
    await query.answer()
    html = to_html(answer)
    markup = svc.keyboard(answer, conversation, key)
    if button.action == "s":
        await context.bot.send_message(conversation.chat_id, html, reply_markup=markup)
        return
    try:
        await query.edit_message_text(html, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():  # the same page pressed twice
            raise


async def on_stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other callback data: not a button of this bot (tampered, or from an older version)."""
    if update.callback_query is not None:
        await update.callback_query.answer(STALE)
