"""What the bot remembers of an answer it sent with buttons: which view answered which arguments
in which chat, and the choices or example questions it offered; and the /subscribe drafts. Kept in
memory, bounded in size and age; a button whose conversation is gone (a restart, too old, too many
since) is stale and the user is asked to ask again."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time as clock_time
from typing import Generic, TypeVar

from bot.ask.answer import Choice

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Conversation:
    """A question and how it was narrowed: `view` (bot.views.VIEWS) answers `args`; `agency_id` /
    `region_code` hold a choice made among several matches."""

    view: str
    args: tuple[str | int | None, ...]
    chat_id: int
    user_id: int
    agency_id: int | None = None
    region_code: str | None = None
    choices: tuple[Choice, ...] = ()
    suggestions: tuple[str, ...] = ()


@dataclass(slots=True)
class SubscriptionDraft:
    """A /subscribe in progress (bot.handlers.subscribe): the choices made so far, the step shown,
    and the options its buttons stand for. Changed in place as the user goes; `version` changes
    with every message shown, so that a button of an older message is refused rather than taken
    for the option now at its index."""

    chat_id: int
    user_id: int
    step: str = "region"  # region, level, agency, severity, mode, quiet, confirm
    region_code: str | None = None
    region_label: str = "全部地区"
    browse: str | None = None  # the region whose sub-regions are listed (None: the provinces)
    offset: int = 0  # the page of a long list
    level: str | None = None
    agency_id: int | None = None
    agency_label: str | None = None
    min_severity: str = "warning"
    mode: str = "immediate"
    quiet_from: clock_time | None = None
    quiet_until: clock_time | None = None
    awaiting: str | None = None  # "region", "agency" or "quiet": the user's next text is typed input
    notice: str | None = None  # a line shown above the step (what went wrong with the last input)
    options: tuple[tuple[str, str], ...] = ()  # (label, token) of the buttons shown, by index
    candidates: tuple[tuple[str, str], ...] = ()  # (token, label) offered for a typed name
    version: int = 0
    message_id: int | None = None  # the message showing the current step
    prompt_id: int | None = None  # in a group: the message asking for typed input (replies go there)
    done: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(slots=True)
class ConversationStore(Generic[T]):
    """Conversations by an unguessable 8-character key, least recently used dropped first."""

    capacity: int = 5000
    max_age_s: float = 2 * 24 * 3600
    clock: Callable[[], float] = time.monotonic
    _items: OrderedDict[str, tuple[float, T]] = field(default_factory=OrderedDict)

    def put(self, conversation: T) -> str:
        key = secrets.token_urlsafe(6)  # 8 characters of [A-Za-z0-9_-]
        while key in self._items:
            key = secrets.token_urlsafe(6)
        self._items[key] = (self.clock(), conversation)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
        return key

    def get(self, key: str) -> T | None:
        item = self._items.get(key)
        if item is None:
            return None
        created, conversation = item
        if self.clock() - created > self.max_age_s:
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return conversation

    def forget(self, which: Callable[[T], bool]) -> int:
        """Drop every conversation `which` is true of; how many."""
        keys = [key for key, (_, conversation) in self._items.items() if which(conversation)]
        for key in keys:
            del self._items[key]
        return len(keys)

    def __len__(self) -> int:
        return len(self._items)
