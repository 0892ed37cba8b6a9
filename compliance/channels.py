"""Alert delivery channels: where a rendered alert goes — a console, a webhook, a Telegram chat,
or (through Apprise) a 企业微信, 钉钉 or 飞书 group robot or an e-mail address.

A channel has one coroutine, ``send(message)``: it returns once the message was delivered and
raises :class:`DeliveryError` when it was not. compliance.alerts calls it outside any database
transaction and records the delivery as sent only after it returned. Channels are looked up by
the name stored in ``Subscriber.channel`` through a small registry (:func:`register_channel`).

Telegram is not reachable from most government networks in mainland China, so a subscriber may
choose a domestic channel instead: ``wecom`` (企业微信群机器人), ``dingtalk`` (钉钉), ``feishu``
(飞书), ``email``, or ``apprise`` for any Apprise URL. Their targets hold secrets (robot keys,
SMTP passwords): error texts and listings show them redacted (:func:`display_target`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import html
import re
import sys
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any, Protocol, TextIO, runtime_checkable
from urllib.parse import parse_qs, quote, unquote, urlsplit

import httpx

from db.models import Subscriber

if TYPE_CHECKING:
    from xxgk.config import Settings

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


# ---- long messages --------------------------------------------------------------------------


def split_text(text: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """`text` in parts of at most `limit` (as `measure`d; it must add up over characters), broken at
    line ends; a single line longer than a part is broken between characters. Nothing is dropped
    or cut off; parts holding only blank lines are left out."""
    newline = measure("\n")
    parts: list[str] = []
    lines: list[str] = []
    size = 0
    for line in text.split("\n"):
        n = measure(line)
        if lines and size + newline + n <= limit:
            lines.append(line)
            size += newline + n
            continue
        if lines:
            parts.append("\n".join(lines))
            lines, size = [], 0
        if n <= limit:
            lines, size = [line], n
            continue
        piece: list[str] = []
        piece_size = 0
        for ch in line:
            m = measure(ch)
            if piece and piece_size + m > limit:
                parts.append("".join(piece))
                piece, piece_size = [], 0
            piece.append(ch)
            piece_size += m
        lines, size = ["".join(piece)], piece_size
    if lines:
        parts.append("\n".join(lines))
    return [p for p in parts if p.strip()]


# Every part names the product: a 钉钉 or 飞书 robot secured by a keyword (自定义关键词「政务公开告警」,
# which every alert's and digest's first line also holds) accepts each part.
PART_MARK = "（政务公开告警 {i}/{n}）\n"
_PART_RESERVE = PART_MARK.format(i=999, n=999)


def number_parts(parts: list[str]) -> list[str]:
    """「（政务公开告警 2/3）」 on a line before each part of a message sent in several."""
    if len(parts) < 2:
        return parts
    return [PART_MARK.format(i=i, n=len(parts)) + part for i, part in enumerate(parts, 1)]


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _json_escaped(text: str) -> int:
    """Length in a JSON body written with ASCII escapes (Apprise's json.dumps): 「政」 is \\u653f."""
    escaped = text.count('"') + text.count("\\") + text.count("\n")  # one more character each
    return sum(1 if ord(c) < 128 else (6 if ord(c) < 0x10000 else 12) for c in text) + escaped


class _Redactor:
    """Replaces the secrets of a target (robot keys, passwords, tokens) in a text by 「****」."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= 4:
                forms |= {secret, quote(secret, safe=""), quote(secret)}
        self._forms = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, "****")
        return text


_URL_PARTS = re.compile(r"[/:@?&=#,+;\s]+")


def _url_tokens(url: str) -> set[str]:
    tokens: set[str] = set()
    for form in (url, unquote(url)):
        tokens.update(t for t in _URL_PARTS.split(form) if t)
    return tokens


# ---- Apprise: 企业微信、钉钉、飞书群机器人，电子邮件 -------------------------------------------------

# Channel name → the Apprise schemas its targets may use (``apprise`` takes any).
APPRISE_CHANNELS: dict[str, tuple[str, ...]] = {
    "wecom": ("wecombot",),
    "dingtalk": ("dingtalk",),
    "feishu": ("feishu", "lark"),
    "email": ("mailto", "mailtos"),
}
SERVICE_NAMES: dict[str, str] = {
    "wecombot": "企业微信群机器人", "dingtalk": "钉钉群机器人", "feishu": "飞书群机器人", "lark": "Lark 群机器人",
    "mailto": "电子邮件", "mailtos": "电子邮件",
}
_TARGET_EXAMPLES: dict[str, str] = {
    "wecom": "wecombot://<key>，或群机器人的 Webhook 地址 https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…",
    "dingtalk": "dingtalk://<access_token>/（加签：dingtalk://<secret>@<access_token>/），"
                "或 https://oapi.dingtalk.com/robot/send?access_token=…",
    "feishu": "feishu://<token>/，或 https://open.feishu.cn/open-apis/bot/v2/hook/<token>",
    "email": "mailtos://用户名:密码@smtp.example.gov.cn?to=收件人@example.gov.cn",
    "apprise": "Apprise 地址，如 wecombot://…、dingtalk://…、feishu://…、mailtos://…",
}
# Chat robots: the text's first line is already its title (no separate title field), and a body
# limit the service enforces itself (by refusing the message in its answer: see the strict robots below).
CHAT_SCHEMAS = frozenset({"wecombot", "dingtalk", "feishu", "lark"})
EMAIL_SCHEMAS = frozenset({"mailto", "mailtos"})
BODY_LIMITS: dict[str, tuple[int, Callable[[str], int]]] = {
    "wecombot": (2000, _utf8),  # 企业微信: text content at most 2048 bytes of UTF-8
    "dingtalk": (18000, _utf8),  # 钉钉: content at most 20,000 bytes
    "feishu": (18000, _json_escaped),  # 飞书: request body at most 20 KB
    "lark": (18000, _json_escaped),
}


def _scheme(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else ""


def apprise_url(target: str) -> str:
    """The Apprise URL for `target`: as given, or the robot Webhook address that 企业微信, 钉钉 and
    飞书 show in a group's robot settings turned into one (wecombot://, dingtalk://, feishu://)."""
    target = target.strip()
    try:
        parts = urlsplit(target)
    except ValueError:
        return target
    if parts.scheme not in ("http", "https"):
        return target
    host = (parts.hostname or "").lower()
    path = parts.path.rstrip("/")
    query = parse_qs(parts.query)
    if host == "qyapi.weixin.qq.com" and path == "/cgi-bin/webhook/send" and query.get("key"):
        return f"wecombot://{quote(query['key'][0], safe='')}/"
    if host == "oapi.dingtalk.com" and path == "/robot/send" and query.get("access_token"):
        secret = f"{quote(query['secret'][0], safe='')}@" if query.get("secret") else ""
        return f"dingtalk://{secret}{quote(query['access_token'][0], safe='')}/"
    hook = re.fullmatch(r"/open-apis/bot/v2/hook/([\w-]+)", path)
    if hook and host == "open.feishu.cn":
        return f"feishu://{hook.group(1)}/"
    if hook and host == "open.larksuite.com":
        return f"lark://{hook.group(1)}/"
    return target


_APPRISE_LOGGING_QUIET = False


def _apprise() -> Any:
    """The apprise module (imported on first use: it is slow to import). Its logger gets a
    NullHandler so that its warnings, which may quote a robot key, are not printed to stderr by
    logging's last-resort handler; the channel reports failures itself, redacted."""
    global _APPRISE_LOGGING_QUIET
    import apprise

    if not _APPRISE_LOGGING_QUIET:
        import logging

        logging.getLogger("apprise").addHandler(logging.NullHandler())
        _APPRISE_LOGGING_QUIET = True
    return apprise


def _apprise_asset() -> Any:
    apprise = _apprise()
    return apprise.AppriseAsset(storage_mode="memory", app_id="xxgk-monitor", app_desc="政务公开告警")


# ---- robots that answer HTTP 200 with an error in the body ------------------------------------
#
# 企业微信, 钉钉 and 飞书 group robots answer HTTP 200 to every request they can parse and say in the
# JSON body whether they took the message: {"errcode": 0, "errmsg": "ok"} (企业微信, 钉钉),
# {"code": 0, "msg": "success"} (飞书, Lark; older robots: {"StatusCode": 0, …}). A wrong or revoked
# key, a message without the robot's keyword, a bad signature, an IP not on the robot's list or
# its rate limit come back as HTTP 200 with another code ({"errcode": 93000, …}, {"code": 19001,
# …}). Apprise (2.2) looks at the HTTP status only and counts such a send as a success: checked
# against a fake robot on loopback (tests/test_channels.py). So the robots are sent through
# subclasses of Apprise's own plugins (its URL parsing, payloads, signing, throttling and logging
# unchanged) that also read the answer's code and report a refusal as a failed notification.

# The answer's code and message fields, by robot: the first field present is read.
_ROBOT_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "wecombot": (("errcode",), ("errmsg",)),
    "dingtalk": (("errcode",), ("errmsg",)),
    "feishu": (("code", "StatusCode"), ("msg", "StatusMessage")),
    "lark": (("code", "StatusCode"), ("msg", "StatusMessage")),
}
# What a refusal means, for the error text: the codes the robots' documentation names, by robot.
_FEISHU_HINTS = {
    "19001": "Webhook 地址或参数无效",
    "19021": "签名校验失败",
    "19022": "IP 地址不在机器人的白名单内",
    "19024": "消息不含机器人设置的关键词",
    "9499": "请求格式有误",
    "11232": "超过机器人的发送频率限制",
}
ROBOT_CODE_HINTS: dict[str, dict[str, str]] = {
    "wecombot": {
        "93000": "机器人 Webhook 地址无效或机器人已被移除",
        "45009": "超过机器人的发送频率限制",
        "45002": "消息太长",
        "40008": "消息类型无效",
    },
    "dingtalk": {
        "310000": "未通过机器人的安全设置（关键词、加签或 IP 地址）",
        "300001": "access_token 无效",
        "130101": "发送太快，超过机器人的频率限制",
        "410100": "发送太快，已被限流",
    },
    "feishu": _FEISHU_HINTS,
    "lark": _FEISHU_HINTS,
}
# The failure a strict robot logs (apprise's logger: the result's logs, read by AppriseChannel).
_REFUSED = re.compile(r"refused the notification: code=(?P<code>[^,]*), message=(?P<message>.*?)\.?$")
_UNCONFIRMED = "did not confirm the notification"

_robot_responses: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar(
    "xxgk_robot_responses", default=None)


class _RecordingRequests:
    """Stands in for the `requests` module inside an Apprise robot plugin's module: every attribute
    is requests' own, and post() also keeps its response for a strict robot's send() that is
    collecting them (in a context variable: any other caller, in any thread, is unaffected)."""

    def __init__(self, module: Any) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def post(self, *args: Any, **kwargs: Any) -> Any:
        response = self._module.post(*args, **kwargs)
        collected = _robot_responses.get()
        if collected is not None:
            collected.append(response)
        return response


def robot_refusal(scheme: str, response: Any) -> tuple[str, str] | None:
    """(code, message) when a robot's HTTP 200 answer says it did not take the message, ("", why)
    when the answer says nothing recognisable, None when it took it."""
    fields = _ROBOT_FIELDS.get(scheme)
    if fields is None:
        return None
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        text = (getattr(response, "text", "") or "")[:200]
        return "", f"answer is not a JSON object: {text!r}"
    code = next((body[k] for k in fields[0] if k in body), None)
    message = next((body[k] for k in fields[1] if k in body), "")
    if code is None:
        return "", f"answer has no {'/'.join(fields[0])}: {str(body)[:200]}"
    if str(code).strip() == "0":
        return None
    return str(code), str(message)


_STRICT_ROBOTS: dict[type, type] = {}


def _strict_robot_class(plugin_class: type, scheme: str) -> type:
    """A subclass of an Apprise robot plugin whose send() also checks the robot's answer."""
    if plugin_class in _STRICT_ROBOTS:
        return _STRICT_ROBOTS[plugin_class]
    module = sys.modules[plugin_class.__module__]
    if not isinstance(getattr(module, "requests", None), _RecordingRequests):
        module.requests = _RecordingRequests(module.requests)  # type: ignore[attr-defined]

    def send(self: Any, *args: Any, **kwargs: Any) -> bool:
        collected: list[Any] = []
        token = _robot_responses.set(collected)
        try:
            sent = super(strict, self).send(*args, **kwargs)
        finally:
            _robot_responses.reset(token)
        if not sent or not collected:
            return bool(sent)
        refusal = robot_refusal(scheme, collected[-1])
        if refusal is None:
            return True
        code, message = refusal
        if code:
            self.logger.warning("%s refused the notification: code=%s, message=%s.", self.service_name, code,
                                message)
        else:
            self.logger.warning("%s %s: %s.", self.service_name, _UNCONFIRMED, message)
        return False

    strict = type(f"Strict{plugin_class.__name__}", (plugin_class,), {
        "send": send, "__module__": __name__,
        "__doc__": f"{plugin_class.__name__}, failing when the robot answers HTTP 200 with an error code."})
    _STRICT_ROBOTS[plugin_class] = strict
    return strict


def _strict_robot(plugin: Any, url: str, asset: Any) -> Any:
    """The same robot as `plugin` (built by Apprise from `url`), as its strict subclass."""
    from apprise.plugins import url_to_dict

    scheme = _scheme(url)
    results = url_to_dict(url, secure_logging=True)
    if not results or scheme not in _ROBOT_FIELDS:
        return plugin
    strict = _strict_robot_class(type(plugin), scheme)
    results["asset"] = asset
    return strict(**results)


@dataclass
class _AppriseTarget:
    url: str  # the Apprise URL
    scheme: str
    plugin: Any  # the apprise plugin instance (NotifyBase)
    service: str  # Chinese name of the service
    shown: str  # the URL with its secrets masked, for messages
    redact: _Redactor


def _apprise_target(target: str | None) -> _AppriseTarget | None:
    """The subscriber's target as an Apprise service, or None if it is none."""
    url = apprise_url(target or "")
    scheme = _scheme(url)
    if not scheme:
        return None
    apprise = _apprise()
    try:
        asset = _apprise_asset()
        plugin = apprise.Apprise.instantiate(url, asset=asset, suppress_exceptions=True)
        if plugin is not None and scheme in CHAT_SCHEMAS:
            plugin = _strict_robot(plugin, url, asset)
    except Exception:  # noqa: BLE001 - an unparseable URL is no target, whatever apprise raised
        plugin = None
    if plugin is None:
        return None
    try:
        private = str(plugin.url(privacy=True))
    except Exception:  # noqa: BLE001 - a plugin that cannot print itself: show its scheme only
        private = f"{scheme}://****"
    redact = _Redactor(_url_tokens(url) - _url_tokens(private) - {scheme})
    shown = re.sub(r"/{2,}$", "/", redact(private.split("?", 1)[0]))
    service = SERVICE_NAMES.get(scheme) or str(getattr(plugin, "service_name", "") or scheme)
    return _AppriseTarget(url, scheme, plugin, service, shown, redact)


def _apprise_problem(channel: str, target: str | None) -> str | None:
    """Why `target` is no target of the Apprise channel `channel` (Chinese), or None."""
    example = _TARGET_EXAMPLES.get(channel, _TARGET_EXAMPLES["apprise"])
    if not target or not target.strip():
        return f"{channel} 渠道需要目标地址（--target {example}）"
    scheme = _scheme(apprise_url(target))
    parsed = _apprise_target(target)
    if parsed is None:
        what = f"{scheme}:// 地址" if scheme else "地址"
        return f"无法识别的{what}（内容未显示，以免泄露密钥）；应为 {example}"
    allowed = APPRISE_CHANNELS.get(channel)
    if allowed is not None and parsed.scheme not in allowed:
        return f"{channel} 渠道的目标应为 {example}，而不是 {parsed.scheme}:// 地址（任意 Apprise 地址请用 --channel apprise）"
    return None


def _apprise_checker(channel: str) -> Callable[[str | None], str | None]:
    return lambda target: _apprise_problem(channel, target)


def _email_html(message: OutgoingMessage) -> str:
    """The message's Telegram-style HTML (escaped text, <b>, <i>, <a>) as an e-mail body, its
    lines and their indentation kept."""
    source = message.html if message.html and telegram_html_ok(message.html) else html.escape(message.text)
    lines = []
    for line in source.split("\n"):
        stripped = line.lstrip(" ")
        lines.append("&nbsp;" * (len(line) - len(stripped)) + stripped)
    return ('<div style="font-family: sans-serif; font-size: 14px; line-height: 1.6">\n'
            + "<br>\n".join(lines) + "\n</div>")


_HTTP_STATUS = re.compile(r"error=(\d{3})")


class AppriseChannel:
    """Sends through Apprise to the subscriber's target: a 企业微信 (wecombot://), 钉钉
    (dingtalk://), 飞书 (feishu://) group robot, an e-mail address (mailto://, mailtos://) or any
    other Apprise URL. A robot's Webhook address copied from the group settings works too.

    Chat robots get the plain text (its first line is the title; links stay clickable), split at
    line ends into several messages (「（政务公开告警 1/2）」…) where the service limits a
    message's size (a robot secured by a keyword should use 「政务公开告警」);
    e-mail gets the title as subject and the HTML body with the report link. A notification
    Apprise reports as failed is a DeliveryError whose text names the service and the reason
    with every secret of the target masked; so is a robot's HTTP 200 answer with an error code
    (the strict robots above), so that the alert is retried and not recorded as sent.
    """

    def __init__(self, *, timeout: float = 30.0, allowed: tuple[str, ...] | None = None,
                 min_interval: float | None = None) -> None:
        self.timeout = timeout
        self.allowed = allowed  # the schemas this channel accepts (None: any)
        # Seconds between two requests to one target (None: Apprise's default for the service,
        # 5.5 s for the robots, under their limit of 20 messages a minute).
        self.min_interval = min_interval
        self._targets: dict[str, _AppriseTarget | None] = {}

    def _target(self, target: str | None) -> _AppriseTarget | None:
        """The parsed target, kept for the channel's life: Apprise spaces out the requests of one
        service instance, so the alerts of one run to one robot respect its rate limit."""
        key = (target or "").strip()
        if key not in self._targets:
            parsed = _apprise_target(key)
            if parsed is not None and self.min_interval is not None:
                parsed.plugin.request_rate_per_sec = self.min_interval
            self._targets[key] = parsed
        return self._targets[key]

    def _messages(self, message: OutgoingMessage, target: _AppriseTarget) -> list[tuple[str, str, str]]:
        """(title, body, body format) of each notification to send."""
        if target.scheme in EMAIL_SCHEMAS:
            return [(message.title, _email_html(message), "html")]
        if target.scheme in CHAT_SCHEMAS:
            limit, measure = BODY_LIMITS[target.scheme]
            parts = split_text(message.text, limit - measure(_PART_RESERVE), measure) or [message.text]
            return [("", part, "text") for part in number_parts(parts)]
        maxlen = int(getattr(target.plugin, "body_maxlen", 0) or 0)
        if maxlen and len(message.text) > maxlen:
            parts = number_parts(split_text(message.text, maxlen - len(_PART_RESERVE)))
        else:
            parts = [message.text]
        return [(message.title, part, "text") for part in parts]

    async def send(self, message: OutgoingMessage) -> None:
        target = self._target(message.subscriber.target)
        if target is None:
            problem = _apprise_problem("apprise", message.subscriber.target)
            raise DeliveryError(problem or "无法识别的通知地址")
        if self.allowed is not None and target.scheme not in self.allowed:
            raise DeliveryError(f"{target.service} 地址不适用于该渠道：{target.shown}")
        apprise = _apprise()
        notifier = apprise.Apprise(asset=_apprise_asset())
        notifier.add(target.plugin)
        for index, (title, body, body_format) in enumerate(self._messages(message, target)):
            try:
                result = await notifier.async_notify(body=body, title=title, body_format=body_format,
                                                     timeout=self.timeout)
            except Exception as exc:  # noqa: BLE001 - apprise itself failed: unknown outcome
                raise DeliveryError(
                    f"{target.service}发送出错（{target.shown}）：{target.redact(f'{type(exc).__name__}: {exc}')}",
                    maybe_delivered=True) from None
            if result:
                continue
            raise self._failure(result, target, earlier_parts=index > 0)

    def _failure(self, result: Any, target: _AppriseTarget, *, earlier_parts: bool) -> DeliveryError:
        status = getattr(getattr(result, "status", None), "name", "")
        logs: list[str] = []
        if hasattr(result, "logs"):
            logs = [entry.message for entry in result.logs()
                    if getattr(entry, "level", "") in ("WARNING", "ERROR", "CRITICAL")]
        detail = target.redact("；".join(dict.fromkeys(m.strip() for m in logs if m.strip())))[:500]
        code = _HTTP_STATUS.search(detail)
        refused = next((m for m in map(_REFUSED.search, logs) if m), None)
        unconfirmed = any(_UNCONFIRMED in m for m in logs)
        if status == "TIMEOUT":
            reason = f"超过 {self.timeout:g} 秒仍未完成"
        elif refused:
            robot_code = refused.group("code")
            hint = ROBOT_CODE_HINTS.get(target.scheme, {}).get(robot_code)
            reason = f"机器人拒收，错误码 {robot_code}" + (f"（{hint}）" if hint else "")
        elif unconfirmed:
            reason = "机器人的应答无法识别，不能确认已送达"
        elif code:
            reason = f"对方返回 HTTP {code.group(1)}"
        elif "connection error" in detail.lower():
            reason = "无法连接（网络不通、地址有误或响应超时）"
        else:
            reason = "发送失败"
        text = f"{target.service}发送失败（{target.shown}）：{reason}"
        if detail:
            text += f"（{detail}）"
        if earlier_parts:
            text += "；此前的分段已发出"
        # Apprise does not say whether a connection error happened before or after the request
        # went out; a timeout or a partly sent message may have reached the receiver.
        # A robot's refusal (an error code in its answer) is certain; an answer that cannot be read
        # may come after the robot took the message.
        return DeliveryError(text, maybe_delivered=status == "TIMEOUT" or earlier_parts or unconfirmed)


# ---- Telegram -------------------------------------------------------------------------------

TELEGRAM_LIMIT = 4096  # characters (UTF-16 code units) of one message
TELEGRAM_TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
                           "code", "pre", "blockquote", "tg-emoji"})
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)(\s[^<>]*)?>")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
_BOT_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")
_CHAT_ID = re.compile(r"-?\d{1,20}")
_CHANNEL_NAME = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")


def telegram_html_ok(text: str) -> bool:
    """Whether `text` is what Telegram's HTML parse mode accepts: only its tags, properly nested,
    and no bare <, > or & outside tags and entities."""
    stack: list[str] = []
    for match in _TAG.finditer(text):
        closing, name = match.group(1), match.group(2).lower()
        if name not in TELEGRAM_TAGS:
            return False
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    if stack:
        return False
    rest = _ENTITY.sub("", _TAG.sub("", text))
    return not any(c in rest for c in "<>&")


def _balanced_blocks(text: str) -> list[str]:
    """Runs of lines at whose end no tag is open: where a Telegram HTML message may be split."""
    blocks: list[str] = []
    current: list[str] = []
    stack: list[str] = []
    for line in text.split("\n"):
        current.append(line)
        for match in _TAG.finditer(line):
            if match.group(1):
                if stack:
                    stack.pop()
            else:
                stack.append(match.group(2).lower())
        if not stack:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    return blocks


class _PlainText(HTMLParser):
    """An HTML fragment's text; a link becomes 「text（address）」."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._hrefs: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._hrefs.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._hrefs:
            href = self._hrefs.pop()
            if href:
                self.out.append(f"（{href}）")

    def handle_data(self, data: str) -> None:
        self.out.append(data)


def html_to_plain(fragment: str) -> str:
    parser = _PlainText()
    parser.feed(fragment)
    parser.close()
    return "".join(parser.out)


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def split_telegram_html(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Telegram HTML `text` in messages of at most `limit` characters each, split at line ends
    where no tag is open. A block too long for one message (a single huge line) goes as escaped
    plain text, split between characters. Nothing is cut off."""
    parts: list[str] = []
    lines: list[str] = []
    size = 0
    for block in _balanced_blocks(text):
        n = _utf16(block)
        if lines and size + 1 + n <= limit:
            lines.append(block)
            size += 1 + n
            continue
        if lines:
            parts.append("\n".join(lines))
            lines, size = [], 0
        if n <= limit:
            lines, size = [block], n
            continue
        plain = split_text(html_to_plain(block), limit, lambda s: _utf16(_escape(s)))
        parts.extend(_escape(p) for p in plain)
    if lines:
        parts.append("\n".join(lines))
    return [p for p in parts if p.strip()]


def check_telegram_target(target: str | None) -> str | None:
    """Why `target` is no Telegram chat (Chinese), or None."""
    example = "--target 123456789（用户或群的聊天编号，群为负数，如 -1001234567890）或 --target @频道用户名"
    if not target or not target.strip():
        return f"telegram 渠道需要聊天编号（{example}）"
    target = target.strip()
    if _CHAT_ID.fullmatch(target) or _CHANNEL_NAME.fullmatch(target):
        return None
    return f"Telegram 聊天编号无效：{target}（{example}）"


_SETTINGS: Settings | None = None


def use_settings(settings: Settings | None) -> None:
    """The settings channels read (the Telegram token and Bot API server) when the registry
    creates them; without this, they come from load_settings() ($XXGK_CONFIG, ./xxgk.toml, env)."""
    global _SETTINGS
    _SETTINGS = settings


def current_settings() -> Settings | None:
    """The settings given to use_settings, if any (deliver() syncs their [[subscribers]])."""
    return _SETTINGS


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramChannel:
    """Sends to a Telegram chat (the subscriber's target: a chat id, or @channel) with
    python-telegram-bot's Bot, in HTML parse mode: the message's HTML (escaped text, the report
    as a link) when Telegram accepts it, else its escaped plain text. A message longer than
    Telegram's 4,096 characters goes in several, split at line ends (「（政务公开告警 1/2）」…).

    `token` and `base_url` (a self-hosted Bot API server, or a test's) come from settings.bot;
    `bot`: an already running Bot to reuse (the bot process), which this channel does not shut
    down. A flood-control answer (429) waits `max_retry_after` seconds at most, once; longer is
    a DeliveryError, as is any other error answer. Texts never contain the token.
    """

    def __init__(self, token: str | None = None, *, base_url: str | None = None, bot: Any | None = None,
                 timeout: float = 20.0, max_retry_after: float = 5.0, config_error: str | None = None) -> None:
        self._token = token
        self._base_url = base_url
        self._bot = bot
        self._owned = bot is None
        self.timeout = timeout
        self.max_retry_after = max_retry_after
        self._config_error = config_error
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kwargs: Any) -> TelegramChannel:
        config_error = None
        if settings is None:
            settings = _SETTINGS
        if settings is None:
            from xxgk.config import ConfigError, load_settings

            try:
                settings = load_settings()
            except ConfigError as exc:
                config_error = str(exc)
        bot = settings.bot if settings is not None else None
        token = bot.token.get_secret_value() if bot is not None and bot.token is not None else None
        return cls(token, base_url=bot.base_url if bot is not None else None, config_error=config_error, **kwargs)

    def _redact(self, text: str) -> str:
        if self._token:
            text = text.replace(self._token, "****")
        return _BOT_TOKEN.sub("****", text)

    async def _get_bot(self) -> Any:
        async with self._lock:
            if self._bot is not None:
                return self._bot
            if not self._token:
                raise DeliveryError(self._config_error or
                                    "未配置 Telegram 机器人令牌：请在环境变量 XXGK_BOT__TOKEN 中设置（配置项 [bot] token）")
            from telegram import Bot
            from telegram.request import HTTPXRequest

            request = HTTPXRequest(connection_pool_size=4, connect_timeout=self.timeout, read_timeout=self.timeout,
                                   write_timeout=self.timeout, pool_timeout=self.timeout)
            kwargs: dict[str, Any] = {"request": request}
            if self._base_url:
                kwargs["base_url"] = self._base_url
            bot = Bot(self._token, **kwargs)
            try:
                await bot.initialize()  # getMe: checks the token
            except Exception as exc:  # noqa: BLE001 - every failure becomes a DeliveryError
                await _quietly(bot.shutdown())
                raise self._error(exc, None, sent_before=False) from None
            self._bot = bot
            return bot

    def _error(self, exc: BaseException, chat: str | None, *, sent_before: bool) -> DeliveryError:
        from telegram import error as tg

        where = f"聊天 {chat}" if chat else "Telegram"
        detail = self._redact(str(getattr(exc, "message", None) or exc))
        if isinstance(exc, DeliveryError):
            return exc
        if isinstance(exc, tg.InvalidToken):
            return DeliveryError("Telegram 拒绝了机器人令牌（令牌无效或已被撤销）：请检查 XXGK_BOT__TOKEN")
        if isinstance(exc, tg.RetryAfter):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                wait = _seconds(exc.retry_after)
            return DeliveryError(f"Telegram 限流：{wait:g} 秒后才能再发送到{where}", maybe_delivered=sent_before)
        if isinstance(exc, tg.Forbidden):
            return DeliveryError(f"Telegram 不允许发送到{where}（机器人被屏蔽、被移出群或没有发言权限）：{detail}",
                                 maybe_delivered=sent_before)
        if isinstance(exc, tg.BadRequest):
            if "chat not found" in detail.lower():
                return DeliveryError(f"Telegram 找不到{where}（编号是否正确？用户须先向机器人发过消息，群须已加入机器人）",
                                     maybe_delivered=sent_before)
            return DeliveryError(f"Telegram 拒绝了发送到{where}的消息：{detail}", maybe_delivered=sent_before)
        if isinstance(exc, tg.TimedOut):
            return DeliveryError(f"Telegram 响应超时（{self.timeout:g} 秒）：{where}", maybe_delivered=True)
        if isinstance(exc, tg.NetworkError):
            import httpx

            cause = exc.__cause__ or exc.__context__
            refused = isinstance(cause, httpx.ConnectError)
            return DeliveryError(f"无法连接 Telegram 服务器（{detail}）", maybe_delivered=sent_before or not refused)
        if isinstance(exc, tg.TelegramError):
            return DeliveryError(f"Telegram 出错（{where}）：{detail}", maybe_delivered=True)
        return DeliveryError(f"Telegram 发送出错（{where}）：{type(exc).__name__}: {self._redact(str(exc))}",
                             maybe_delivered=True)

    @staticmethod
    def body(message: OutgoingMessage) -> str:
        """The message as Telegram HTML: its own HTML when valid, else its escaped plain text."""
        if message.html and telegram_html_ok(message.html):
            return message.html
        return _escape(message.text)

    async def send(self, message: OutgoingMessage) -> None:
        chat = (message.subscriber.target or "").strip()
        problem = check_telegram_target(chat)
        if problem:
            raise DeliveryError(problem)
        chat_id: int | str = int(chat) if _CHAT_ID.fullmatch(chat) else chat
        bot = await self._get_bot()
        from telegram import LinkPreviewOptions
        from telegram import error as tg
        from telegram.constants import ParseMode

        parts = number_parts(split_telegram_html(self.body(message), TELEGRAM_LIMIT - len(_PART_RESERVE)))
        if not parts:
            raise DeliveryError("告警消息为空，未发送")
        for index, part in enumerate(parts):
            for attempt in (1, 2):
                try:
                    await bot.send_message(chat_id=chat_id, text=part, parse_mode=ParseMode.HTML,
                                           link_preview_options=LinkPreviewOptions(is_disabled=True))
                    break
                except tg.RetryAfter as exc:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        wait = _seconds(exc.retry_after)
                    if attempt == 1 and wait <= self.max_retry_after:
                        await asyncio.sleep(wait)
                        continue
                    raise self._error(exc, chat, sent_before=index > 0) from None
                except tg.BadRequest as exc:
                    if attempt == 1 and "can't parse entities" in str(exc.message).lower():
                        part = _escape(html_to_plain(part))  # never lose a message to markup
                        continue
                    raise self._error(exc, chat, sent_before=index > 0) from None
                except Exception as exc:  # noqa: BLE001 - every failure becomes a DeliveryError
                    raise self._error(exc, chat, sent_before=index > 0) from None

    async def aclose(self) -> None:
        if self._bot is not None and self._owned:
            bot, self._bot = self._bot, None
            await _quietly(bot.shutdown())


async def _quietly(awaitable: Any) -> None:
    with contextlib.suppress(Exception):  # closing a client must not hide the error being reported
        await awaitable


def display_target(channel: str, target: str | None) -> str:
    """A subscriber's target as it may be shown (listings, confirmations): with the secrets of an
    Apprise URL (robot keys, passwords) masked."""
    if not target:
        return ""
    if channel == "apprise" or channel in APPRISE_CHANNELS:
        parsed = _apprise_target(target)
        return parsed.shown if parsed is not None else f"{_scheme(apprise_url(target)) or '?'}://****"
    return target


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
register_channel("telegram", TelegramChannel.from_settings, check_target=check_telegram_target,
                 description="发送到 Telegram 聊天（目标：聊天编号或 @频道）")
register_channel("apprise", AppriseChannel, check_target=_apprise_checker("apprise"),
                 description="经 Apprise 发送（目标：任意 Apprise 地址）")
register_channel("wecom", lambda: AppriseChannel(allowed=APPRISE_CHANNELS["wecom"]),
                 check_target=_apprise_checker("wecom"), description="企业微信群机器人（wecombot://…）")
register_channel("dingtalk", lambda: AppriseChannel(allowed=APPRISE_CHANNELS["dingtalk"]),
                 check_target=_apprise_checker("dingtalk"), description="钉钉群机器人（dingtalk://…）")
register_channel("feishu", lambda: AppriseChannel(allowed=APPRISE_CHANNELS["feishu"]),
                 check_target=_apprise_checker("feishu"), description="飞书群机器人（feishu://…）")
register_channel("email", lambda: AppriseChannel(allowed=APPRISE_CHANNELS["email"]),
                 check_target=_apprise_checker("email"), description="电子邮件（mailtos://…）")
