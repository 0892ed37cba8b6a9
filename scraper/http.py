"""A polite HTTP client for crawling government sites: the only module of `scraper` that does I/O.

One transport for the whole crawl (scraper.transport: a small keep-alive pool per origin), and
around it:

- a bound on requests in flight across all hosts (`concurrency`) and **one request at a time
  per host**, with `per_host_delay_s` from the end of one request to the start of the next
  (robots.txt `Crawl-delay`/`Request-rate` win when larger, up to `max_retry_after_s`);
- robots.txt fetched once per host through the same politeness and obeyed for our user agent
  (protego): a missing robots.txt (4xx) allows everything; one that cannot be read (5xx,
  network error, timeout) forbids the host for this run, as Google does;
- retries (tenacity) on 5xx, 429 and network errors, with exponential backoff from
  `backoff_s`, or the server's `Retry-After` (seconds or HTTP date) when it sends one; a
  `Retry-After` over `max_retry_after_s` ends the fetch; a 429/503 with `Retry-After` also
  pauses the whole host;
- conditional GET (If-None-Match / If-Modified-Since); 304 → `not_modified`;
- only allowed hosts and http(s), on every redirect hop (redirects are followed here, at most
  `max_redirects`, loops refused);
- only public addresses unless `allow_private_addresses`: the transport checks every address a
  name resolves to and connects to the checked one (scraper.transport); a host refused once is
  refused for the rest of the run without another attempt;
- bodies streamed and cut off at `max_response_mb` (Content-Length checked first);
- timeouts: `timeout_s` for connecting and for each read, and a whole attempt may take at
  most `max_response_s` (default `5 × timeout_s`: a server trickling bytes cannot hold a slot
  forever);
- TLS: certificates verified; a failed handshake is an error of its own, not retried.

`fetch` never raises for network or HTTP trouble: the `FetchResult` carries a one-line
Chinese `error` instead.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from protego import Protego
from tenacity import AsyncRetrying, RetryCallState, retry_if_result

from checks.normalize import human_size
from scraper.inflate import body_pieces
from scraper.transport import ForbiddenAddress, PerOriginTransport, TLSError
from xxgk.config import CrawlerConfig

__all__ = [
    "FetchResult",
    "ClientStats",
    "PoliteClient",
    "host_key",
    "parse_retry_after",
    "ERR_ROBOTS",
    "ERR_OFF_HOST",
    "ERR_REDIRECTS",
    "ERR_SCHEME",
]

ERR_ROBOTS = "robots.txt 禁止抓取"
ERR_OFF_HOST = "不在允许抓取的站点范围内"
ERR_REDIRECTS = "重定向次数过多"
ERR_SCHEME = "无法抓取的网址（只抓取 http/https）"

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_ROBOTS_MAX_BYTES = 500 * 1024  # Google reads the first 500 KiB
_DEFAULT_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
_MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str  # as requested
    final_url: str  # after redirects
    status: int | None  # None when no response arrived
    content: bytes | None  # None on 304 and on errors without a body
    content_type: str | None
    headers: dict[str, str]  # lower-case names
    etag: str | None
    last_modified: str | None
    not_modified: bool = False
    error: str | None = None  # one line, Chinese
    bytes_received: int = 0  # on the wire (compressed), all hops and attempts
    attempts: int = 0  # HTTP requests made for this fetch (retries and redirect hops included)

    @property
    def ok(self) -> bool:
        """A 2xx answer with a body, or a 304."""
        return self.error is None and self.status is not None and (200 <= self.status < 300 or self.not_modified)


@dataclass
class ClientStats:
    requests: int = 0  # HTTP requests sent (robots.txt, retries and redirect hops included)
    bytes_received: int = 0
    status_counts: Counter[int] = field(default_factory=Counter)
    network_errors: int = 0  # attempts that ended without a response (timeouts included)
    retries: int = 0
    robots_blocked: int = 0  # fetches refused because of robots.txt (no request made)
    off_host: int = 0  # fetches refused because the host is not allowed (no request made)
    not_modified: int = 0
    blocked_addresses: int = 0  # fetches refused: the host resolves to a non-public address

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "bytes_received": self.bytes_received,
            "status_counts": dict(self.status_counts),
            "network_errors": self.network_errors,
            "retries": self.retries,
            "robots_blocked": self.robots_blocked,
            "off_host": self.off_host,
            "not_modified": self.not_modified,
            "blocked_addresses": self.blocked_addresses,
        }


def host_key(url_or_host: str) -> str | None:
    """`host[:port]`, lower-case, default port dropped: the unit of politeness and of the
    allowed-hosts check. Accepts a URL or a bare `host[:port]`."""
    text = url_or_host.strip()
    if "://" not in text:
        text = "//" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS.get(parts.scheme):
        return host
    return f"{host}:{port}"


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), None if absent
    or unreadable. Dates in the past give 0."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN check
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    now = now or dt.datetime.now(dt.timezone.utc)
    return max(0.0, (when - now).total_seconds())


# ------------------------------------------------------------------------------------ internals


@dataclass(slots=True)
class _Attempt:
    """The outcome of one HTTP request (no redirect handling, no retries)."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    error: str | None = None
    retryable: bool = False
    retry_after: float | None = None
    bytes: int = 0


@dataclass(slots=True)
class _Host:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    robots_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    ready_at: float = 0.0  # monotonic time before which no request may start
    delay: float = 0.0
    robots: Protego | bool | None = None  # None: not read yet; True: allow all; False: deny all
    blocked: str | None = None  # why the host may not be fetched (its address), once found out


_ALLOW_ALL, _DENY_ALL = True, False


class _TooLarge(Exception):
    pass


class PoliteClient:
    """See the module docstring. Use as `async with PoliteClient(cfg, hosts) as client:`."""

    def __init__(self, cfg: CrawlerConfig, allowed_hosts: Iterable[str], *,
                 robots_cache: Mapping[str, str | None] | None = None) -> None:
        """`robots_cache`: host key → robots.txt text (None: the host has none) read recently by an
        earlier crawl; those hosts' robots.txt is not fetched again. What this client reads is
        in `robots_read`, for the caller to keep."""
        self.cfg = cfg
        self._robots_cache = dict(robots_cache or {})
        self.robots_read: dict[str, str | None] = {}
        self.user_agent = cfg.user_agent_header
        self.allowed_hosts: frozenset[str] = frozenset(
            k for k in (host_key(h) for h in allowed_hosts if h and h.strip()) if k
        )
        self.stats = ClientStats()
        self._max_bytes = int(cfg.max_response_mb * _MB)
        self._sem = asyncio.Semaphore(cfg.concurrency)
        self._hosts: dict[str, _Host] = {}
        # Requests go straight to the transport: redirects, retries and politeness are handled
        # here, so httpx.AsyncClient's layers (auth, redirect and hook plumbing, a cookie pass on
        # every response) would only cost CPU. No proxies from the environment: requests go
        # where the URL says. What the client did that matters is kept: its headers, its
        # timeouts and its cookie jar.
        self._transport = PerOriginTransport(max_pools=2 * cfg.concurrency + 2,
                                             allow_private_addresses=cfg.allow_private_addresses)
        self._headers = httpx.Headers({
            "Connection": "keep-alive",
            "User-Agent": self.user_agent,
            "Accept": _DEFAULT_ACCEPT,
            "Accept-Encoding": "gzip, deflate",
            "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5",
        })
        self._timeout = httpx.Timeout(cfg.timeout_s).as_dict()
        self._cookies = httpx.Cookies()

    # ---------------------------------------------------------------- lifecycle

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def __aenter__(self) -> PoliteClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def allow_host(self, host: str) -> None:
        """Add a host (`host[:port]` or URL) to the allowed set."""
        key = host_key(host)
        if key:
            self.allowed_hosts = self.allowed_hosts | {key}

    def is_allowed(self, url: str) -> bool:
        key = host_key(url)
        return key is not None and key in self.allowed_hosts

    # ---------------------------------------------------------------- public API

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        method: str = "GET",
        data: Mapping[str, str] | None = None,
        accept_types: Iterable[str] | None = None,
    ) -> FetchResult:
        """Fetch `url` politely; never raises for network or HTTP trouble."""
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept_types:
            headers["Accept"] = ", ".join(accept_types)
        return await self._fetch(url, method=method.upper(), data=data, headers=headers,
                                 check_robots=self.cfg.respect_robots, max_bytes=self._max_bytes)

    async def robots_allows(self, url: str) -> bool:
        """Whether robots.txt lets us fetch `url` (reads robots.txt if not read yet)."""
        if not self.cfg.respect_robots:
            return True
        key = host_key(url)
        if key is None:
            return False
        return await self._robots_allows(url, key)

    # ---------------------------------------------------------------- redirects, hosts, robots

    async def _fetch(
        self,
        url: str,
        *,
        method: str,
        data: Mapping[str, str] | None,
        headers: dict[str, str],
        check_robots: bool,
        max_bytes: int,
        truncate: bool = False,
    ) -> FetchResult:
        current = _strip_fragment(url)
        seen = {current}
        attempts = 0
        received = 0

        def failed(error: str, status: int | None = None) -> FetchResult:
            return FetchResult(url=url, final_url=current, status=status, content=None, content_type=None,
                               headers={}, etag=None, last_modified=None, error=error,
                               bytes_received=received, attempts=attempts)

        for hop in range(self.cfg.max_redirects + 1):
            try:
                scheme = urlsplit(current).scheme.lower()
            except ValueError:
                scheme = ""
            key = host_key(current)
            if scheme not in ("http", "https") or key is None:
                where = "重定向目标：" if hop else ""
                return failed(f"{ERR_SCHEME}：{where}{current[:200]}")
            if key not in self.allowed_hosts:
                self.stats.off_host += 1
                where = f"重定向目标 {key} " if hop else f"{key} "
                return failed(where + ERR_OFF_HOST)
            host = self._hosts.get(key)
            if host is not None and host.blocked is not None:
                self.stats.blocked_addresses += 1
                return failed(host.blocked)
            if check_robots and not await self._robots_allows(current, key):
                blocked = self._host(key).blocked
                if blocked is not None:  # found out fetching robots.txt
                    return failed(blocked)
                self.stats.robots_blocked += 1
                return failed(ERR_ROBOTS)

            att, n = await self._with_retries(key, method, current, headers, data, max_bytes, truncate)
            attempts += n
            received += att.bytes

            if att.status in _REDIRECTS and att.headers.get("location"):
                nxt = _strip_fragment(urljoin(current, att.headers["location"].strip()))
                if nxt in seen or hop == self.cfg.max_redirects:
                    return failed(f"{ERR_REDIRECTS}（超过 {self.cfg.max_redirects} 次或出现循环）", att.status)
                seen.add(nxt)
                if att.status == 303 or (att.status in (301, 302) and method == "POST"):
                    method, data = "GET", None
                current = nxt
                continue
            return self._result(url, current, att, attempts, received)
        return failed(ERR_REDIRECTS)

    def _result(self, url: str, final_url: str, att: _Attempt, attempts: int, received: int) -> FetchResult:
        h = att.headers
        not_modified = att.status == 304
        if not_modified:
            self.stats.not_modified += 1
        error = att.error
        if error is None and att.status is not None and att.status >= 400:
            error = _status_error(att.status, attempts)
        elif error is None and att.status in _REDIRECTS:
            error = f"重定向缺少目标地址（HTTP {att.status}）"
        return FetchResult(
            url=url,
            final_url=final_url,
            status=att.status,
            content=None if not_modified else att.content,
            content_type=h.get("content-type"),
            headers=h,
            etag=h.get("etag"),
            last_modified=h.get("last-modified"),
            not_modified=not_modified,
            error=error,
            bytes_received=received,
            attempts=attempts,
        )

    def _host(self, key: str) -> _Host:
        st = self._hosts.get(key)
        if st is None:
            st = self._hosts[key] = _Host(delay=self.cfg.per_host_delay_s)
        return st

    async def _robots_allows(self, url: str, key: str) -> bool:
        st = self._host(key)
        if st.robots is None:
            async with st.robots_lock:
                if st.robots is None:
                    st.robots = await self._load_robots(url, key, st)
        if st.robots is _ALLOW_ALL:
            return True
        if st.robots is _DENY_ALL:
            return False
        assert isinstance(st.robots, Protego)
        return st.robots.can_fetch(url, self.user_agent)

    async def _load_robots(self, url: str, key: str, st: _Host) -> Protego | bool:
        if key in self._robots_cache:
            cached = self._robots_cache[key]
            return _ALLOW_ALL if cached is None else self._parse_robots(cached, st)
        parts = urlsplit(url)
        robots_url = urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))
        res = await self._fetch(robots_url, method="GET", data=None, headers={"Accept": "text/plain,*/*;q=0.5"},
                                check_robots=False, max_bytes=_ROBOTS_MAX_BYTES, truncate=True)
        if res.status is not None and 200 <= res.status < 300 and res.content is not None:
            text = res.content.decode("utf-8", errors="replace")
            self.robots_read[key] = text
            return self._parse_robots(text, st)
        if res.status is not None and (res.status >= 500 or res.status == 429):
            return _DENY_ALL  # unreadable: behave as if everything were disallowed, for this run
        if res.status is None and res.error and ERR_OFF_HOST not in res.error and ERR_REDIRECTS not in res.error:
            return _DENY_ALL  # network error or timeout
        self.robots_read[key] = None
        return _ALLOW_ALL  # 4xx, redirected away or too many redirects: no usable robots.txt

    def _parse_robots(self, text: str, st: _Host) -> Protego | bool:
        """Rules for this client, and the host's delay raised to its Crawl-delay / Request-rate."""
        try:
            rp = Protego.parse(text)
        except Exception:  # protego is lenient; a crash means a broken file: allow, like a 404
            return _ALLOW_ALL
        delays = [st.delay]
        crawl_delay = rp.crawl_delay(self.user_agent)
        if crawl_delay:
            delays.append(float(crawl_delay))
        rate = rp.request_rate(self.user_agent)
        if rate and rate.requests:
            delays.append(rate.seconds / rate.requests)
        st.delay = min(max(delays), max(self.cfg.max_retry_after_s, st.delay))
        return rp

    # ---------------------------------------------------------------- politeness, retries

    @asynccontextmanager
    async def _slot(self, key: str) -> AsyncIterator[_Host]:
        """One request at a time per host, `delay` between them, `concurrency` overall."""
        st = self._host(key)
        async with st.lock:
            wait = st.ready_at - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            async with self._sem:
                try:
                    yield st
                finally:
                    st.ready_at = max(st.ready_at, time.monotonic() + st.delay)

    async def _with_retries(
        self,
        key: str,
        method: str,
        url: str,
        headers: dict[str, str],
        data: Mapping[str, str] | None,
        max_bytes: int,
        truncate: bool,
    ) -> tuple[_Attempt, int]:
        cfg = self.cfg
        count = 0

        async def attempt() -> _Attempt:
            nonlocal count
            count += 1
            if count > 1:
                self.stats.retries += 1
            return await self._attempt(key, method, url, headers, data, max_bytes, truncate)

        def stop(state: RetryCallState) -> bool:
            att = state.outcome.result() if state.outcome else None  # type: ignore[union-attr]
            if att is not None and att.retry_after is not None and att.retry_after > cfg.max_retry_after_s:
                return True
            return state.attempt_number > cfg.retries

        def wait(state: RetryCallState) -> float:
            att = state.outcome.result() if state.outcome else None  # type: ignore[union-attr]
            if att is not None and att.retry_after is not None:
                return att.retry_after
            return min(cfg.backoff_s * (2 ** (state.attempt_number - 1)), max(cfg.max_retry_after_s, cfg.backoff_s))

        att = await attempt()
        if att.retryable:
            # Only now the retry machinery (most requests succeed at once, and building it per
            # request was a measurable share of the crawl). Its first call replays this attempt,
            # so stop and wait see exactly the sequence they would have seen from the start.
            replay = [att]

            async def again() -> _Attempt:
                return replay.pop() if replay else await attempt()

            retrying = AsyncRetrying(
                stop=stop,
                wait=wait,
                retry=retry_if_result(lambda a: a.retryable),
                retry_error_callback=lambda state: state.outcome.result(),  # type: ignore[union-attr]
                reraise=False,
            )
            att = await retrying(again)
        if att.retry_after is not None and att.retry_after > cfg.max_retry_after_s and att.retryable:
            att.error = (f"服务器要求 {att.retry_after:.0f} 秒后重试（HTTP {att.status}），"
                         f"超过上限 {cfg.max_retry_after_s:.0f} 秒，放弃")
        elif att.retryable and att.error is not None and count > 1:
            att.error = f"{att.error}（已重试 {count - 1} 次）"
        return att, count

    async def _attempt(
        self,
        key: str,
        method: str,
        url: str,
        headers: dict[str, str],
        data: Mapping[str, str] | None,
        max_bytes: int,
        truncate: bool,
    ) -> _Attempt:
        cfg = self.cfg
        async with self._slot(key) as st:
            self.stats.requests += 1
            att = _Attempt()
            resp: httpx.Response | None = None
            try:
                async with asyncio.timeout(cfg.response_time_limit_s):
                    async with self._send(method, url, headers, data) as resp:
                        att.status = resp.status_code
                        att.headers = {k.lower(): v for k, v in resp.headers.items()}
                        self.stats.status_counts[resp.status_code] += 1
                        if resp.status_code in _REDIRECTS or resp.status_code == 304:
                            pass  # no body wanted
                        elif resp.status_code >= 500 or resp.status_code == 429:
                            att.retryable = True
                            att.retry_after = parse_retry_after(resp.headers.get("retry-after"))
                            if att.retry_after is not None:  # the whole host waits, not only this URL
                                pause = min(att.retry_after, cfg.max_retry_after_s)
                                st.ready_at = max(st.ready_at, time.monotonic() + pause)
                        else:
                            att.content = await self._read_body(resp, max_bytes, truncate)
                        att.bytes = resp.num_bytes_downloaded
            except _TooLarge as exc:
                att.error, att.content = str(exc), None
                att.bytes = resp.num_bytes_downloaded if resp is not None else 0
            except httpx.TimeoutException:
                self.stats.network_errors += 1
                att.error, att.retryable = f"请求超时（超过 {cfg.timeout_s:g} 秒）", True
                att.status, att.content = None, None
                att.bytes = resp.num_bytes_downloaded if resp is not None else 0
            except TimeoutError:  # the whole response took too long: a trickle, an endless body
                self.stats.network_errors += 1
                att.error = f"下载超时（整个响应超过 {cfg.response_time_limit_s:g} 秒仍未传完），已中止"
                att.retryable, att.status, att.content = True, None, None
                att.bytes = resp.num_bytes_downloaded if resp is not None else 0
            except ForbiddenAddress as exc:  # nothing was sent: the address is not public
                self.stats.requests -= 1
                self.stats.blocked_addresses += 1
                st.blocked = str(exc)
                att.error, att.status, att.content = str(exc), None, None
            except TLSError as exc:  # an untrusted certificate, a server not speaking TLS: not retried
                self.stats.network_errors += 1
                att.error, att.status, att.content = f"HTTPS 连接失败：{exc}", None, None
            except httpx.TransportError as exc:
                self.stats.network_errors += 1
                att.error, att.retryable = _network_error(exc), True
                att.status, att.content = None, None
                att.bytes = resp.num_bytes_downloaded if resp is not None else 0
            except httpx.InvalidURL:
                att.error, att.content = f"网址无效：{url[:200]}", None
            except httpx.HTTPError as exc:  # decoding errors and the like: not worth retrying
                att.error, att.content = f"响应无法读取：{type(exc).__name__}", None
            self.stats.bytes_received += att.bytes
            return att

    @asynccontextmanager
    async def _send(self, method: str, url: str, headers: dict[str, str],
                    data: Mapping[str, str] | None) -> AsyncIterator[httpx.Response]:
        """One request, its response open (body unread) inside the block."""
        if headers:
            merged = self._headers.copy()
            merged.update(headers)
        else:
            merged = self._headers
        request = httpx.Request(method, url, headers=merged, cookies=self._cookies or None, data=data,
                                extensions={"timeout": self._timeout})
        resp = await self._transport.handle_async_request(request)
        try:
            resp.request = request
            if "set-cookie" in resp.headers:
                self._cookies.extract_cookies(resp)
            if resp.status_code in _REDIRECTS and "location" in resp.headers:
                # httpx.AsyncClient refused a Location it cannot parse as a URL, as a protocol error.
                try:
                    httpx.URL(resp.headers["location"])
                except httpx.InvalidURL as exc:
                    raise httpx.RemoteProtocolError(f"Invalid URL in location header: {exc}.") from None
            yield resp
        finally:
            await resp.aclose()

    async def _read_body(self, resp: httpx.Response, max_bytes: int, truncate: bool) -> bytes:
        declared = resp.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes and not truncate:
            raise _TooLarge(f"响应过大（声明 {human_size(int(declared))}，上限 {human_size(max_bytes)}），已放弃下载")
        chunks: list[bytes] = []
        total = 0
        async for chunk in body_pieces(resp):  # inflated in bounded steps: a gzip bomb meets the cap early
            total += len(chunk)
            if total > max_bytes:
                if truncate:
                    chunks.append(chunk[: len(chunk) - (total - max_bytes)])
                    break
                raise _TooLarge(f"响应过大（超过上限 {human_size(max_bytes)}），已中止下载")
            chunks.append(chunk)
        return b"".join(chunks)


def _strip_fragment(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def _network_error(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "无法连接服务器"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "服务器提前断开连接"
    if isinstance(exc, httpx.ReadError):
        return "读取响应时连接中断（连接被服务器重置或关闭）"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "不支持的网址协议"
    return f"网络错误（{type(exc).__name__}）"


def _status_error(status: int, attempts: int) -> str:
    named = {
        400: "请求无效", 401: "需要登录", 403: "禁止访问", 404: "页面不存在", 405: "请求方法不被允许",
        410: "页面已删除", 429: "请求过于频繁", 451: "因法律原因不可访问",
    }.get(status)  # fmt: skip
    if named is None:
        named = "服务器错误" if status >= 500 else "请求失败"
    tail = f"，已重试 {attempts - 1} 次" if (status >= 500 or status == 429) and attempts > 1 else ""
    return f"{named}（HTTP {status}{tail}）"
