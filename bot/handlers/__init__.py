"""The bot's handlers, one small module per concern:

    access    the gate in front of everything; /approve, /revoke, /users
    ask       plain-text questions, /ask, and every button (pages, choices, example questions)
    queries   /report, /stats, /late, /missing, /issues, /top
    chart     /chart: a figure drawn as a PNG (bot.chart)
    export    /export: the year's workbook as an .xlsx file (query.export)
    crawl     /crawl (admins): the crawl in the background, one progress message
    findings  /ack, /dismiss
    start     /start, /help, unknown commands
    errors    the error handler

`register(application)` adds them in order; the commands come from bot.commands.COMMANDS.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

GATE_GROUP = -1


def register(application: Application) -> None:  # type: ignore[type-arg]
    from bot.commands import BUTTONS, COMMANDS
    from bot.handlers import access, ask, errors, start

    application.add_handler(TypeHandler(Update, access.gate), group=GATE_GROUP)
    for command in COMMANDS:
        callback = access.admin_only(command.callback) if command.admin else command.callback
        # New messages only: an edited "/dismiss 12 …" is not a second command.
        application.add_handler(CommandHandler(command.name, callback, filters=filters.UpdateType.MESSAGE))
    new_message = filters.UpdateType.MESSAGE
    application.add_handler(MessageHandler(new_message & filters.TEXT & ~filters.COMMAND, ask.on_text))
    application.add_handler(MessageHandler(new_message & filters.COMMAND, start.unknown_command))
    application.add_handler(CallbackQueryHandler(ask.on_button, pattern=r"^[pcs]\."))
    for pattern, callback in BUTTONS:
        application.add_handler(CallbackQueryHandler(callback, pattern=pattern))
    application.add_handler(CallbackQueryHandler(ask.on_stale_button))
    application.add_error_handler(errors.on_error)
