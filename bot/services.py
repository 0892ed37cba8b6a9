"""What every handler shares, kept in `application.bot_data` (PTB's place for it): the store, the
bot's configuration (and the whole one, for /crawl's sites), the date, the callback signer, the
conversations behind buttons and the per-user rate limiter. `services(context)` hands it to a
handler."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import Application, ContextTypes

from bot import users
from bot.ask import Answer
from bot.callbacks import CallbackSigner
from bot.conversations import Conversation, ConversationStore
from bot.ratelimit import UserRateLimiter
from bot.text import shown
from bot.views import Request, run
from checks.model import CST
from xxgk.config import BotConfig, Settings

KEY = "xxgk"
BUTTON_TEXT_LIMIT = 60
T = TypeVar("T")


def beijing_today() -> date:
    return datetime.now(CST).date()


@dataclass(slots=True)
class BotServices:
    config: BotConfig
    engine: Engine
    signer: CallbackSigner
    today: Callable[[], date] = beijing_today
    conversations: ConversationStore = field(default_factory=ConversationStore)
    limiter: UserRateLimiter = field(default_factory=lambda: UserRateLimiter(20))
    settings: Settings | None = None  # the whole configuration: /crawl's sites, crawler and checks

    @property
    def admins(self) -> frozenset[int]:
        return frozenset(self.config.admins)

    async def db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` in a worker thread: the store is read synchronously."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def is_approved(self, user_id: int) -> bool:
        if user_id in self.admins:
            return True
        return await self.db(users.is_approved, self.engine, user_id)

    async def answer(self, conversation: Conversation, offset: int = 0) -> Answer:
        """A page of the conversation's view, as of today."""
        request = Request(conversation.args, self.today(), offset=offset, limit=self.config.page_size,
                          agency_id=conversation.agency_id, region_code=conversation.region_code,
                          text=str(conversation.args[0]) if conversation.view == "ask" else conversation.view)

        def read() -> Answer:
            with self.engine.connect() as conn:
                return _shown(run(conversation.view, conn, request))

        return await self.db(read)

    def forget_user(self, user_id: int) -> int:
        """Drop the conversations behind `user_id`'s buttons (a revoked user's answers and lists):
        pressed later, even after a new approval, they are stale. How many were dropped."""
        return self.conversations.forget(lambda c: getattr(c, "user_id", None) == user_id)

    def keyboard(self, answer: Answer, conversation: Conversation, key: str | None = None
                 ) -> InlineKeyboardMarkup | None:
        """The buttons under an answer: its choices, its example questions, or 「上一页」「下一页」.
        `key`: the conversation's key when it is already stored (turning pages)."""
        sign = self.signer.sign
        rows: list[list[InlineKeyboardButton]] = []
        if answer.choices:
            key = self.conversations.put(replace(conversation, choices=tuple(answer.choices), suggestions=()))
            rows = [[InlineKeyboardButton(_short(c.label), callback_data=sign("c", key, i))]
                    for i, c in enumerate(answer.choices)]
        elif answer.suggestions:
            key = self.conversations.put(
                replace(conversation, choices=(), suggestions=tuple(answer.suggestions)))
            rows = [[InlineKeyboardButton(_short(s), callback_data=sign("s", key, i))]
                    for i, s in enumerate(answer.suggestions)]
        elif answer.prev_offset is not None or answer.next_offset is not None:
            if key is None:
                key = self.conversations.put(replace(conversation, choices=(), suggestions=()))
            row = []
            if answer.prev_offset is not None:
                row.append(InlineKeyboardButton("上一页", callback_data=sign("p", key, answer.prev_offset)))
            if answer.next_offset is not None:
                row.append(InlineKeyboardButton("下一页", callback_data=sign("p", key, answer.next_offset)))
            rows = [row]
        return InlineKeyboardMarkup(rows) if rows else None


def _shown(answer: Answer) -> Answer:
    """The answer without control, zero-width or bidi characters in what it repeats from the store
    and the question (bot.text.shown): an override in a crawled agency name must not turn a line
    around. Only ever shorter, so it still fits its message."""
    answer.title = shown(answer.title)
    answer.summary = [shown(s) for s in answer.summary]
    answer.items = [shown(s) for s in answer.items]
    answer.notes = [shown(s) for s in answer.notes]
    answer.basis = shown(answer.basis) if answer.basis is not None else None
    answer.suggestions = [shown(s) for s in answer.suggestions]
    answer.choices = [replace(c, label=shown(c.label)) for c in answer.choices]
    return answer


def _short(text: str) -> str:
    return text if len(text) <= BUTTON_TEXT_LIMIT else text[: BUTTON_TEXT_LIMIT - 1] + "…"


def services(context: ContextTypes.DEFAULT_TYPE | Application) -> BotServices:  # type: ignore[type-arg]
    data = context.bot_data
    return data[KEY]  # type: ignore[no-any-return]
