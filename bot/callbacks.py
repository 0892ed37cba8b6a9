"""Compact, signed callback data for the bot's inline buttons.

Telegram gives a button at most 64 bytes of callback data and sends it back verbatim; anyone can
send any bytes instead. A button here carries only an action, the key of a conversation the bot
keeps in memory (bot.conversations) and a small number (a page offset, a choice's index), with an
HMAC-SHA256 tag keyed by the bot's token:

    p.Xy3kQ9aB.20.3q2-7wWw0sZ1      action . key . number . tag

`verify` returns None for anything that is not exactly such a string with a valid tag; nothing
from callback data reaches the database except through the conversation it names, and the
number is an int within bounds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

ACTIONS = {
    "p": "page",  # number: the page's offset
    "c": "choice",  # number: the index of an agency or region among the answer's choices
    "s": "suggestion",  # number: the index of an example question
    "u": "subscribe",  # /subscribe: the draft's version × 100 + the index of the option pressed
    "r": "remove",  # /subscriptions: the index of the subscription in the list shown
}
MAX_NUMBER = 10**6
_TAG_LENGTH = 12  # base64url characters: 72 bits
_FORMAT = re.compile(r"^(?P<action>[pcsur])\.(?P<key>[A-Za-z0-9_-]{8})\.(?P<number>0|[1-9][0-9]{0,5})\."
                     r"(?P<tag>[A-Za-z0-9_-]{12})$")


@dataclass(frozen=True, slots=True)
class Button:
    action: str  # one of ACTIONS
    key: str  # the conversation's key
    number: int


class CallbackSigner:
    """Signs and verifies button data with a key derived from the bot's token (a new token makes
    every old button stale)."""

    def __init__(self, token: str) -> None:
        self._key = hashlib.sha256(b"xxgk-bot-callback\x00" + token.encode()).digest()

    def _tag(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:_TAG_LENGTH]

    def sign(self, action: str, key: str, number: int) -> str:
        if action not in ACTIONS or not 0 <= number < MAX_NUMBER:
            raise ValueError(f"bad button: {action} {number}")
        payload = f"{action}.{key}.{number}"
        data = f"{payload}.{self._tag(payload)}"
        if not _FORMAT.match(data):
            raise ValueError(f"bad conversation key: {key!r}")
        return data

    def verify(self, data: object) -> Button | None:
        """The button `data` stands for, or None when it is malformed or its tag is wrong."""
        if not isinstance(data, str) or len(data) > 64:
            return None
        m = _FORMAT.match(data)
        if m is None:
            return None
        payload = data[: -(_TAG_LENGTH + 1)]
        if not hmac.compare_digest(self._tag(payload), m.group("tag")):
            return None
        return Button(m.group("action"), m.group("key"), int(m.group("number")))
