"""The Telegram bot: a python-telegram-bot `Application` answering supervisors' questions from the
store.

    build_application(settings, engine) -> Application      run by `xxgk bot` (polling)

One handler per command (bot.commands, bot/handlers/), an access gate in front of them (approved
users only), an error handler, AIORateLimiter for Telegram's flood limits on what the bot sends and
a per-user limit on questions (bot.user_rate_per_minute). `settings.bot.base_url` points the bot at
another Bot API server (a self-hosted one, or the tests' fake).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date

from sqlalchemy.engine import Engine
from telegram import BotCommand, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, Defaults

from bot.callbacks import CallbackSigner
from bot.conversations import ConversationStore
from bot.ratelimit import UserRateLimiter
from bot.services import KEY, BotServices, beijing_today
from xxgk.config import Settings

log = logging.getLogger(__name__)

CONCURRENT_UPDATES = 8  # updates handled at once: a slow national query does not hold up the others


class NoToken(ValueError):
    """bot.token is not configured."""


def file_url(base_url: str) -> str | None:
    """The file URL of a Bot API server whose method URL is `base_url` (https://host/bot →
    https://host/file/bot), or None when it cannot be told."""
    base = base_url.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("/bot")] + "/file/bot"
    return None


def build_application(
    settings: Settings, engine: Engine, *, today: date | Callable[[], date] | None = None,
    concurrent_updates: int | bool = CONCURRENT_UPDATES,
) -> Application:  # type: ignore[type-arg]
    """The bot, ready to run (`run_polling`, or initialize/start/updater.start_polling).

    `today`: the Beijing date questions are answered as of (今年, 去年, the default year): a date,
    a function giving it, or None for the real one."""
    config = settings.bot
    token = config.token.get_secret_value().strip() if config.token is not None else ""
    if not token:
        raise NoToken("bot.token is not configured (XXGK_BOT__TOKEN)")
    builder = (
        ApplicationBuilder()
        .token(token)
        .defaults(Defaults(parse_mode=ParseMode.HTML,
                           link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .rate_limiter(AIORateLimiter(max_retries=2))
        .concurrent_updates(concurrent_updates)
        .post_init(_post_init)
    )
    if config.base_url:
        builder = builder.base_url(config.base_url)
        if (files := file_url(config.base_url)) is not None:
            builder = builder.base_file_url(files)
    application = builder.build()

    if today is None:
        clock: Callable[[], date] = beijing_today
    elif isinstance(today, date):
        clock = lambda: today  # noqa: E731
    else:
        clock = today
    application.bot_data[KEY] = BotServices(
        config=config, engine=engine, signer=CallbackSigner(token), today=clock,
        conversations=ConversationStore(), limiter=UserRateLimiter(config.user_rate_per_minute),
        settings=settings,
    )
    from bot.handlers import register, subscribe

    subscribe.install(application)  # /subscribe's typed input, ahead of the questions
    register(application)
    return application


def menu() -> list[BotCommand]:
    """The commands Telegram shows in its menu (not the admins' ones)."""
    from bot.commands import COMMANDS

    return [BotCommand(c.name, c.description) for c in COMMANDS if c.menu and not c.admin]


async def _post_init(application: Application) -> None:  # type: ignore[type-arg]
    """After the bot is initialised and before polling: publish the command menu, and build the
    registry's name matcher in a thread (about 15 s over 150,000 agencies; a question that needs it
    meanwhile waits for that build instead of starting its own)."""
    services: BotServices = application.bot_data[KEY]
    # A plain task (the Application is not running yet, so not its create_task); kept referenced.
    application.bot_data[_WARM_UP] = asyncio.create_task(asyncio.to_thread(_warm_up, services.engine),
                                                         name="warm-up")
    try:
        await application.bot.set_my_commands(menu())
    except TelegramError as exc:  # the menu is a convenience: the bot works without it
        log.warning("could not set the command menu: %s", exc)


_WARM_UP = "warm_up_task"


def _warm_up(engine: Engine) -> None:
    from query.scope import warm_up

    try:
        warm_up(engine)
    except Exception:  # noqa: BLE001 - the first question builds it then, or reports the store's error
        log.warning("could not build the name matcher at start", exc_info=True)
