"""What the bot remembers of an answer it sent with buttons: which view answered which arguments
in which chat, and the choices or example questions it offered. Kept in memory, bounded in size
and age; a button whose conversation is gone (a restart, too old, too many since) is stale and the
user is asked to ask again."""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.ask.answer import Choice


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
class ConversationStore:
    """Conversations by an unguessable 8-character key, least recently used dropped first."""

    capacity: int = 5000
    max_age_s: float = 2 * 24 * 3600
    clock: Callable[[], float] = time.monotonic
    _items: OrderedDict[str, tuple[float, Conversation]] = field(default_factory=OrderedDict)

    def put(self, conversation: Conversation) -> str:
        key = secrets.token_urlsafe(6)  # 8 characters of [A-Za-z0-9_-]
        while key in self._items:
            key = secrets.token_urlsafe(6)
        self._items[key] = (self.clock(), conversation)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
        return key

    def get(self, key: str) -> Conversation | None:
        item = self._items.get(key)
        if item is None:
            return None
        created, conversation = item
        if self.clock() - created > self.max_age_s:
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return conversation

    def __len__(self) -> int:
        return len(self._items)
