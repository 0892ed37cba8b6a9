"""A fake Telegram Bot API server on 127.0.0.1 (aiohttp), for testing the real bot end to end.

The bot under test is the real python-telegram-bot Application, its base_url pointing here
(`base_url` → http://127.0.0.1:PORT/bot; PTB calls base_url + token + "/" + method). The server
speaks the Bot API's HTTP protocol: form-encoded or multipart POSTs, JSON answers
{"ok": true, "result": …} or {"ok": false, "error_code": …, "description": …}.

Tests play the users: `send` queues an incoming message (with the bot_command entity Telegram adds),
`press` a button press on a message the bot sent; the bot fetches them with getUpdates (long
polling, honouring offset and timeout). Every call the bot makes is recorded (`calls`), with its
decoded parameters (an uploaded file as {"filename", "size", "data"}: its name, length and bytes)
and the answer, except getUpdates (made continually; counted in `polls`); `wait_for` waits for
the next call of a method.

What it implements: getMe, getUpdates, deleteWebhook, setWebhook (refused), sendMessage,
editMessageText, editMessageReplyMarkup, answerCallbackQuery, sendChatAction, sendPhoto,
sendDocument, setMyCommands, getMyCommands, deleteMyCommands, close/logOut; an unknown method is a
404 as on Telegram. Like Telegram it refuses a wrong token (401), text that is not valid HTML in
parse mode HTML (400 can't parse entities), messages over 4096 characters, callback data over 64
bytes, editing a message with the same content (400 message is not modified), answering a callback
query twice, and writing first to a user who never wrote to the bot (403). Its HTML check is
stricter than Telegram's: a bare «&» or «>» is refused too, so that unescaped text cannot pass.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-token_for-the-fake-server"
BOT_USER = {"id": 900001, "is_bot": True, "first_name": "督查助手", "username": "xxgk_test_bot",
            "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

JSON_PARAMS = {"reply_markup", "link_preview_options", "reply_parameters", "commands", "scope",
               "allowed_updates", "entities", "caption_entities"}
INT_PARAMS = {"chat_id", "message_id", "offset", "limit", "timeout", "reply_to_message_id", "cache_time"}
BOOL_PARAMS = {"show_alert", "drop_pending_updates", "disable_notification"}
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code",
                "pre", "blockquote", "tg-emoji"}
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_TAG_NAME = re.compile(r"^/?\s*([a-zA-Z][a-zA-Z0-9-]*)")
MESSAGE_LIMIT = 4096


class ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _unparsable(problem: str) -> ApiError:
    return ApiError(400, f"Bad Request: can't parse entities: {problem}")


def html_to_text(text: str) -> str:
    """The text Telegram shows for `text` in parse mode HTML; ApiError(400) when it is not valid."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "<":
            j = text.find(">", i)
            if j < 0:
                raise _unparsable(f"Unclosed start tag at byte offset {i}")
            m = _TAG_NAME.match(text[i + 1:j])
            if m is None:
                raise _unparsable(f"Empty tag name at byte offset {i}")
            name = m.group(1).lower()
            if text[i + 1:j].lstrip().startswith("/"):
                if not stack or stack[-1] != name:
                    expected = stack[-1] if stack else ""
                    raise _unparsable(f'Unmatched end tag at byte offset {i}, expected "</{expected}>", '
                                      f'found "</{name}>"')
                stack.pop()
            else:
                if name not in ALLOWED_TAGS:
                    raise _unparsable(f'Unsupported start tag "{name}" at byte offset {i}')
                stack.append(name)
            i = j + 1
        elif c == "&":
            m = _ENTITY.match(text, i)
            if m is None:
                raise _unparsable(f"Character entity expected at byte offset {i}")
            out.append(html.unescape(m.group()))
            i = m.end()
        elif c == ">":
            raise _unparsable(f"Unescaped '>' at byte offset {i}")
        else:
            out.append(c)
            i += 1
    if stack:
        raise _unparsable(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def user(user_id: int, first_name: str, last_name: str | None = None) -> dict[str, Any]:
    u: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "zh-hans"}
    if last_name:
        u["last_name"] = last_name
    return u


def group(chat_id: int, title: str) -> dict[str, Any]:
    return {"id": chat_id, "type": "supergroup", "title": title}


def private(u: dict[str, Any]) -> dict[str, Any]:
    return {"id": u["id"], "type": "private", "first_name": u["first_name"]}


@dataclass
class Call:
    """One request the bot made: the method, its decoded parameters, and what it got back."""

    method: str
    params: dict[str, Any]
    ok: bool = True
    result: Any = None
    error: str | None = None

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def buttons(self) -> list[str]:
        markup = self.params.get("reply_markup") or {}
        return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


@dataclass
class FakeTelegram:
    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    _chats: dict[int, dict[str, Any]] = field(default_factory=dict)
    _open_queries: set[str] = field(default_factory=set)
    _next_update: int = 1
    _next_message: int = 1
    _next_query: int = 1
    _runner: web.AppRunner | None = None
    _stopping: bool = False
    port: int = 0
    polls: int = 0

    # ---- running ------------------------------------------------------------------------------

    async def start(self) -> str:
        """Start serving on a free port of 127.0.0.1; the bot's base_url."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.base_url

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def stop(self) -> None:
        self._stopping = True
        if self._runner is not None:
            await self._runner.cleanup()

    @classmethod
    @contextmanager
    def in_thread(cls, **kwargs: Any) -> Iterator[FakeTelegram]:
        """The server in a thread of its own (for a bot running in another process)."""
        fake = cls(**kwargs)
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        try:
            asyncio.run_coroutine_threadsafe(fake.start(), loop).result(10)
            yield fake
        finally:
            asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()

    # ---- the users' side -----------------------------------------------------------------------

    def send(self, sender: dict[str, Any], text: str, *, chat: dict[str, Any] | None = None,
             reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        """A message from `sender` (in their private chat unless `chat` is given), queued for the
        bot; the message."""
        chat = chat or private(sender)
        self._chats[chat["id"]] = chat
        message: dict[str, Any] = {"message_id": self._message_id(), "date": int(time.time()), "chat": chat,
                                   "from": sender, "text": text}
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        self._push({"message": message})
        return message

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """A message the bot sent, as it is now (after edits)."""
        return self._messages[(chat_id, message_id)]

    def press(self, sender: dict[str, Any], sent: Call | dict[str, Any], label: str) -> str:
        """`sender` presses the button `label` under a message the bot sent; the query's id."""
        message = sent.result if isinstance(sent, Call) else sent
        current = self.message(message["chat"]["id"], message["message_id"])
        markup = current.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if button["text"] == label:
                    return self.callback(sender, current, button["callback_data"])
        raise AssertionError(f"no button {label!r} under the message; buttons: {markup}")

    def buttons(self, sent: Call | dict[str, Any]) -> dict[str, str]:
        """The buttons under a message the bot sent: label → callback data."""
        message = sent.result if isinstance(sent, Call) else sent
        current = self.message(message["chat"]["id"], message["message_id"])
        markup = current.get("reply_markup") or {}
        rows = markup.get("inline_keyboard", [])
        return {b["text"]: b.get("callback_data", "") for row in rows for b in row}

    def callback(self, sender: dict[str, Any], message: dict[str, Any], data: str) -> str:
        """A callback query with any `data` (a tampered button)."""
        query_id = f"q{self._next_query}"
        self._next_query += 1
        self._open_queries.add(query_id)
        self._push({"callback_query": {"id": query_id, "from": sender, "chat_instance": "ci-1",
                                       "message": message, "data": data}})
        return query_id

    def _push(self, update: dict[str, Any]) -> None:
        update["update_id"] = self._next_update
        self._next_update += 1
        self._updates.append(update)

    def _message_id(self) -> int:
        n = self._next_message
        self._next_message += 1
        return n

    # ---- waiting for the bot ----------------------------------------------------------------

    def mark(self) -> int:
        """The number of calls so far: `wait_for(…, since=mark)` looks only at later ones."""
        return len(self.calls)

    def find(self, method: str, since: int = 0, where: Callable[[Call], bool] | None = None) -> list[Call]:
        return [c for c in self.calls[since:] if c.method == method and (where is None or where(c))]

    async def wait_for(self, method: str, *, since: int = 0, where: Callable[[Call], bool] | None = None,
                       timeout: float = 10.0) -> Call:
        """The first call of `method` after `since` (matching `where`), waiting for it."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.find(method, since, where)
            if found:
                return found[0]
            if time.monotonic() > deadline:
                seen = [(c.method, c.params.get("text") or c.params.get("data")) for c in self.calls[since:]]
                raise AssertionError(f"no {method} within {timeout} s; calls since: {seen}")
            await asyncio.sleep(0.01)

    def wait_for_sync(self, method: str, *, since: int = 0, where: Callable[[Call], bool] | None = None,
                      timeout: float = 30.0) -> Call:
        deadline = time.monotonic() + timeout
        while True:
            found = self.find(method, since, where)
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no {method} within {timeout} s")
            time.sleep(0.02)

    # ---- the Bot API -------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"},
                                     status=401)
        params = await self._params(request)
        call = Call(method, params)
        if method == "getUpdates":
            self.polls += 1
        else:
            self.calls.append(call)
        handler = getattr(self, f"_api_{method}", None)
        try:
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            call.result = await handler(params)
        except ApiError as exc:
            call.ok, call.error = False, exc.description
            return web.json_response({"ok": False, "error_code": exc.code, "description": exc.description},
                                     status=exc.code)
        return web.json_response({"ok": True, "result": call.result})

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        form = await request.post()
        params: dict[str, Any] = {}
        for name, value in form.items():
            if not isinstance(value, str):  # an uploaded file: its name, size and bytes
                data = value.file.read()
                params[name] = {"filename": value.filename, "size": len(data), "data": data}
            elif name in JSON_PARAMS:
                params[name] = json.loads(value)
            elif name in INT_PARAMS and re.fullmatch(r"-?\d+", value):
                params[name] = int(value)
            elif name in BOOL_PARAMS:
                params[name] = value.lower() == "true"
            else:
                params[name] = value
        return params

    async def _api_getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_setWebhook(self, params: dict[str, Any]) -> Any:
        raise ApiError(400, "Bad Request: bad webhook: the fake server only polls")

    async def _api_close(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_logOut(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while not self._updates and time.monotonic() < deadline and not self._stopping:
            await asyncio.sleep(0.01)
        return self._updates[:limit]

    async def _api_setMyCommands(self, params: dict[str, Any]) -> Any:
        commands = params.get("commands") or []
        for c in commands:
            if (not re.fullmatch(r"[a-z0-9_]{1,32}", c.get("command", ""))
                    or not 1 <= len(c.get("description", "")) <= 256):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        self.commands = commands
        return True

    async def _api_getMyCommands(self, params: dict[str, Any]) -> Any:
        return self.commands

    async def _api_deleteMyCommands(self, params: dict[str, Any]) -> Any:
        self.commands = []
        return True

    async def _api_sendChatAction(self, params: dict[str, Any]) -> Any:
        self._chat(params)
        return True

    def _chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise ApiError(400, "Bad Request: chat not found")
        chat = self._chats.get(chat_id)
        if chat is None:
            if chat_id > 0:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    @staticmethod
    def _text(params: dict[str, Any], name: str = "text") -> str:
        raw = str(params.get(name) or "")
        text = html_to_text(raw) if str(params.get("parse_mode", "")).upper() == "HTML" else raw
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if _utf16_len(text) > MESSAGE_LIMIT:
            raise ApiError(400, "Bad Request: message is too long")
        return text

    @staticmethod
    def _markup(params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
        return markup

    def _store(self, chat: dict[str, Any], text: str, markup: dict[str, Any] | None) -> dict[str, Any]:
        message: dict[str, Any] = {"message_id": self._message_id(), "date": int(time.time()), "chat": chat,
                                   "from": BOT_USER, "text": text}
        if markup is not None:
            message["reply_markup"] = markup
        self._messages[(chat["id"], message["message_id"])] = message
        return message

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        return dict(self._store(chat, self._text(params), self._markup(params)))

    async def _api_sendPhoto(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        message = self._store(chat, "", self._markup(params))
        message.pop("text")
        message["photo"] = [{"file_id": f"photo{message['message_id']}", "file_unique_id": "u", "width": 800,
                             "height": 600}]
        if params.get("caption"):
            message["caption"] = self._text(params, "caption")
        return dict(message)

    async def _api_sendDocument(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        message = self._store(chat, "", self._markup(params))
        message.pop("text")
        message["document"] = {"file_id": f"doc{message['message_id']}", "file_unique_id": "u",
                               "file_name": (params.get("document") or {}).get("filename", "file")}
        if params.get("caption"):
            message["caption"] = self._text(params, "caption")
        return dict(message)

    def _stored(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, message_id = params.get("chat_id"), params.get("message_id")
        message = self._messages.get((chat_id, message_id))  # type: ignore[arg-type]
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        return message

    async def _api_editMessageText(self, params: dict[str, Any]) -> Any:
        message = self._stored(params)
        text, markup = self._text(params), self._markup(params)
        if text == message.get("text") and markup == message.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and "
                                "reply markup are exactly the same as a current content and reply markup of "
                                "the message")
        message["text"] = text
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return dict(message)

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        message = self._stored(params)
        markup = self._markup(params)
        if markup == message.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified")
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        return dict(message)

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        query_id = params.get("callback_query_id")
        if query_id not in self._open_queries:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is "
                                "invalid")
        self._open_queries.discard(query_id)  # type: ignore[arg-type]
        if len(str(params.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True
