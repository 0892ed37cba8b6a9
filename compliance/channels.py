"""Alert delivery channels: where a rendered alert goes (a console, a webhook, later Telegram).

A channel has one coroutine, ``send(message)``: it returns once the message was delivered and
raises :class:`DeliveryError` when it was not. compliance.alerts calls it outside any database
transaction and records the delivery as sent only after it returned. Channels are looked up by
the name stored in ``Subscriber.channel`` through a small registry, so a later channel (the
Telegram bot) plugs in with :func:`register_channel` and nothing else changes.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO, runtime_checkable

import httpx

from db.models import Subscriber

USER_AGENT = "xxgk-monitor/0.1 (alerts)"


class DeliveryError(Exception):
    """A message was not delivered. The text is Chinese and is kept as the delivery's last_error.

    `maybe_delivered` is True when the request may have reached the receiver before the failure
    (a read timeout, a dropped connection after the request went out): the next attempt is then
    marked as a possible repeat.
    """

    def __init__(self, message: str, *, maybe_delivered: bool = False) -> None:
        super().__init__(message)
        self.maybe_delivered = maybe_delivered


class UnknownChannel(KeyError):
    """No channel of that name is registered."""

    def __str__(self) -> str:
        return f"未知的告警渠道：{self.args[0]}（可用：{'、'.join(channel_names())}）"


@dataclass
class OutgoingMessage:
    """One message to one subscriber: a single alert, or a digest of several.

    `text` is plain Chinese text (console, e-mail-like channels); `html` is the same content
    escaped for Telegram's HTML mode; `items` holds one JSON-able dict per alert (webhooks).
    `possible_repeat`: a crash interrupted an earlier attempt after the channel may have
    delivered it, so the receiver may already have it (the text then starts with 「（可能重复）」).
    """

    subscriber: Subscriber
    title: str
    text: str
    html: str
    items: list[dict[str, Any]] = field(default_factory=list)
    possible_repeat: bool = False
    digest: bool = False

    @property
    def delivery_ids(self) -> list[int]:
        return [item["delivery_id"] for item in self.items if item.get("delivery_id") is not None]

    @property
    def idempotency_key(self) -> str:
        """The same for every attempt at the same deliveries: lets a receiver drop repeats."""
        ids = ",".join(str(i) for i in sorted(self.delivery_ids))
        return "xxgk-" + hashlib.sha256(ids.encode()).hexdigest()[:32]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "digest" if self.digest else "alert",
            "subscriber": self.subscriber.name,
            "title": self.title,
            "text": self.text,
            "possible_repeat": self.possible_repeat,
            "count": len(self.items),
            "alerts": self.items,
        }


@runtime_checkable
class Channel(Protocol):
    async def send(self, message: OutgoingMessage) -> None:
        """Deliver `message` or raise DeliveryError."""
        ...


class ConsoleChannel:
    """Prints each message's text to a stream (stdout by default), followed by a blank line."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def send(self, message: OutgoingMessage) -> None:
        stream = self._stream if self._stream is not None else sys.stdout
        try:
            stream.write(message.text.rstrip("\n") + "\n\n")
            stream.flush()
        except (OSError, ValueError) as exc:  # a closed pipe or file
            raise DeliveryError(f"无法输出到控制台：{exc}") from exc


class WebhookChannel:
    """POSTs the message as JSON (:meth:`OutgoingMessage.to_json`) to the subscriber's target URL.

    A 2xx answer is a delivery; any other status, a timeout or a network error is a DeliveryError.
    The request carries an ``Idempotency-Key`` header that stays the same across attempts.
    """

    def __init__(self, *, timeout: float = 10.0, client: httpx.AsyncClient | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.timeout = timeout
        self._client = client
        self._owned = client is None
        self._headers = {"User-Agent": USER_AGENT, **(headers or {})}

    def _get_client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        return self._client

    async def send(self, message: OutgoingMessage) -> None:
        url = (message.subscriber.target or "").strip()
        problem = check_webhook_target(url)
        if problem:
            raise DeliveryError(problem)
        headers = {**self._headers, "Idempotency-Key": message.idempotency_key}
        try:
            response = await self._get_client().post(url, json=message.to_json(), headers=headers,
                                                     timeout=self.timeout)
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise DeliveryError(f"webhook 连接超时（{self.timeout:g} 秒）：{url}") from exc
        except httpx.TimeoutException as exc:
            # The request went out; the receiver may have processed it before we gave up.
            raise DeliveryError(f"webhook 响应超时（{self.timeout:g} 秒）：{url}", maybe_delivered=True) from exc
        except httpx.ConnectError as exc:
            raise DeliveryError(f"webhook 无法连接：{url}（{exc}）") from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook 请求失败：{url}（{type(exc).__name__}: {exc}）",
                                maybe_delivered=True) from exc
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"webhook 返回 HTTP {response.status_code}：{url}")

    async def aclose(self) -> None:
        if self._client is not None and self._owned:
            await self._client.aclose()
            self._client = None


def check_webhook_target(target: str | None) -> str | None:
    """A Chinese reason why `target` is no usable webhook URL, or None if it is one."""
    if not target:
        return "webhook 渠道需要目标地址（--target http(s)://…）"
    try:
        url = httpx.URL(target)
    except (httpx.InvalidURL, TypeError, ValueError):
        return f"webhook 地址无效：{target}"
    if url.scheme not in ("http", "https") or not url.host:
        return f"webhook 地址必须以 http:// 或 https:// 开头：{target}"
    return None


# ---- registry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    factory: Callable[[], Channel]
    check_target: Callable[[str | None], str | None] | None = None  # a Chinese problem, or None
    description: str = ""


_REGISTRY: dict[str, ChannelSpec] = {}


def register_channel(name: str, factory: Callable[[], Channel], *,
                     check_target: Callable[[str | None], str | None] | None = None,
                     description: str = "") -> None:
    """Make channel `name` available (e.g. the Telegram bot registers "telegram")."""
    _REGISTRY[name] = ChannelSpec(name, factory, check_target, description)


def channel_names() -> list[str]:
    return sorted(_REGISTRY)


def channel_spec(name: str) -> ChannelSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownChannel(name) from None


def channel_for(name: str) -> Channel:
    """A new channel instance for `name`; raises UnknownChannel."""
    return channel_spec(name).factory()


def check_target(channel: str, target: str | None) -> str | None:
    """Why `target` is not valid for `channel` (Chinese), or None. Raises UnknownChannel."""
    spec = channel_spec(channel)
    return spec.check_target(target) if spec.check_target else None


register_channel("console", ConsoleChannel, description="输出到控制台（标准输出）")
register_channel("webhook", WebhookChannel, check_target=check_webhook_target,
                 description="以 JSON POST 到目标 URL")
