"""The question engine (issue 5, 「提问」): plain Chinese questions answered from the query layer.

    parse(question) -> Intent                      bot.ask.parse   (pure)
    ask(conn, question, today=…) -> Answer         bot.ask.engine  (query layer calls)
    to_text(answer) / to_html(answer)              bot.ask.render  (terminal / Telegram HTML)
    suggest(question) -> three example questions  bot.ask.suggest (pure)

Used by `xxgk ask` and by the Telegram bot.
"""

from bot.ask.answer import Answer, Choice
from bot.ask.engine import PAGE_SIZE, TELEGRAM_LIMIT, ask
from bot.ask.parse import Intent, parse
from bot.ask.render import to_html, to_text
from bot.ask.suggest import suggest

__all__ = ["PAGE_SIZE", "TELEGRAM_LIMIT", "Answer", "Choice", "Intent", "ask", "parse", "suggest", "to_html",
           "to_text"]
