"""The error handler: whatever a handler raises is logged with its traceback, and the user gets a
polite Chinese reply instead of silence (never the error's text: it may name tables or paths)."""

from __future__ import annotations

import logging
from contextlib import suppress

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.handlers.common import ERROR

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return  # polling errors and the like: nobody to answer
    if update.callback_query is not None:
        try:
            await update.callback_query.answer(ERROR, show_alert=True)
            return
        except TelegramError:  # answered already (the failure came after): say it in the chat
            pass
    with suppress(TelegramError):
        if update.effective_message is not None:
            await update.effective_message.reply_text(ERROR)
        elif update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, ERROR)
