"""Text that crosses the bot's edges: what users type, and what the store (crawled from the web)
holds that the bot repeats back.

    clean(text)          a user's input: control characters, zero-width and bidirectional
                         formatting characters dropped, whitespace runs as one space
    shown(text)          store or user text about to be shown: the same characters dropped, line
                         breaks kept (a right-to-left override in an agency's name would make a
                         line read backwards, and 编号 12 look like 21)
    escaped(text)        shown() and escaped for parse mode HTML
    alert(text)          a button's answer (answerCallbackQuery): at most 200 characters
    utf16_len(text)      the length Telegram measures (4096 per message)

Every message the bot sends is HTML (parse mode HTML, bot.app): markup is only ever the bot's own
(<b>, <i>, <code>, <a href="tg://user?id=…">); everything else goes through html.escape. Markdown
means nothing in parse mode HTML, so `*` `_` `[` `]` arrive as typed.
"""

from __future__ import annotations

import unicodedata
from html import escape

ALERT_LIMIT = 200  # characters of an answerCallbackQuery text
_DROPPED = frozenset({"Cc", "Cf", "Cs"})  # control, format (zero-width, bidi, BOM), lone surrogates


def _keep(char: str, newlines: bool) -> bool:
    if char == "\n":
        return newlines
    if char.isascii():
        return char.isprintable()
    return unicodedata.category(char) not in _DROPPED


def clean(text: str) -> str:
    """A user's input as one line: whitespace (tabs, line breaks, U+2028, ideographic spaces) runs
    become one space, control and invisible formatting characters are dropped, the ends trimmed."""
    words = text.split()
    return " ".join(w for w in ("".join(c for c in word if _keep(c, False)) for word in words) if w)


def shown(text: str) -> str:
    """`text` without control and invisible formatting characters; line breaks kept."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(c for c in text if _keep(c, True))


def escaped(text: object) -> str:
    """`text` for a message in parse mode HTML: shown() and escaped (quotes too)."""
    return escape(shown(str(text)))


def alert(text: str) -> str:
    """A button's answer, cut to Telegram's 200 characters."""
    text = shown(text)
    return text if len(text) <= ALERT_LIMIT else text[: ALERT_LIMIT - 1] + "…"


def utf16_len(text: str) -> int:
    """The length of `text` as Telegram counts it (UTF-16 code units: an emoji or a rare
    character of CJK Extension B counts two)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2
