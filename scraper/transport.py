"""An httpx transport with one small connection pool per origin, on plain asyncio streams.

httpx's default pool keeps every origin's connections in one list and rescans all of them (quadratically
in places) for every request it queues. A crawl talks to hundreds of hosts, one request at a time per
host: with the default pool that bookkeeping cost more CPU than parsing the pages. Here each origin gets
its own `httpcore.AsyncConnectionPool` (one connection, kept alive), the https ones sharing one TLS
context, and the least recently used idle pools are closed once there are more than `max_pools`.

The pools do their network I/O on asyncio streams (`AsyncioBackend`), not through anyio, httpcore's
default, which wraps every read and write in cancel scopes and task bookkeeping of its own: those
reads and writes are most of what a crawl's event loop does. Timeouts and TLS work as before, and
httpcore's errors are raised as httpx's, as `httpx.AsyncHTTPTransport` raises them.

The backend resolves names itself and checks every address of the answer before connecting
(scraper.addresses: private, loopback, link-local, reserved, multicast and unspecified addresses
are refused unless `allow_private_addresses`), then connects to the checked address, never
looking the name up a second time: a DNS answer that changes between the check and the connection
(DNS rebinding) cannot slip through. A refused address raises `ForbiddenAddress`; a failed TLS
handshake (an untrusted certificate, a plain-HTTP server spoken to over https) raises `TLSError`.
"""

from __future__ import annotations

import asyncio
import select
import socket
import ssl
import typing
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

import httpcore
import httpx

from scraper.addresses import parse_ip, refusal

PRIVATE_HINT = "如确需抓取内网站点，请在配置中设置 [crawler] allow_private_addresses = true"


class _ForbiddenAddress(httpcore.ConnectError):
    """The backend's refusal of an address (raised as ForbiddenAddress)."""


class _TLSFailure(httpcore.ConnectError):
    """The backend's failed TLS handshake (raised as TLSError)."""


class ForbiddenAddress(httpx.ConnectError):
    """The host resolves to an address the crawler may not connect to; nothing was sent. The
    message is one line of Chinese naming the host, the address and its kind."""


class TLSError(httpx.ConnectError):
    """The TLS handshake failed: the certificate could not be verified, or the server does not
    speak TLS. The message is one line of Chinese."""


# httpcore's errors and the httpx errors they are raised as, the most specific first.
_ERRORS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (_ForbiddenAddress, ForbiddenAddress),
    (_TLSFailure, TLSError),
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


def _as_httpx(exc: Exception) -> httpx.HTTPError | None:
    """The httpx error for an httpcore error; None for anything else."""
    for core, mapped in _ERRORS:
        if isinstance(exc, core):
            return mapped(str(exc))
    return None


_Origin = tuple[bytes, bytes, int | None]  # scheme, host, port


class PerOriginTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, max_pools: int = 64, connections_per_origin: int = 2,
                 keepalive_expiry: float = 30.0, verify: ssl.SSLContext | bool = True,
                 allow_private_addresses: bool = False, resolver: Resolver | None = None) -> None:
        """`allow_private_addresses`: connect to hosts resolving to non-public addresses too (see
        the module docstring). `resolver`: (host, port) → [(family, address)], the system's by default."""
        self._verify = verify
        self._ssl: ssl.SSLContext | None = verify if isinstance(verify, ssl.SSLContext) else None
        self._connections = connections_per_origin
        self._keepalive_expiry = keepalive_expiry
        self._backend = AsyncioBackend(allow_private_addresses=allow_private_addresses, resolver=resolver)
        self._max_pools = max_pools
        self._pools: OrderedDict[_Origin, httpcore.AsyncConnectionPool] = OrderedDict()
        self._in_flight: dict[_Origin, int] = {}

    def _pool_for(self, key: _Origin) -> httpcore.AsyncConnectionPool:
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = httpcore.AsyncConnectionPool(
                ssl_context=self._ssl_context() if key[0] == b"https" else None,
                max_connections=self._connections, max_keepalive_connections=1,
                keepalive_expiry=self._keepalive_expiry, network_backend=self._backend)
        else:
            self._pools.move_to_end(key)
        return pool

    def _ssl_context(self) -> ssl.SSLContext:
        """The TLS context all https origins share, made when the first one is met (loading the CA
        certificates is no small cost for a crawl of plain-http sites)."""
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context(verify=self._verify)
        return self._ssl

    async def _evict(self) -> None:
        """Close least recently used pools with nothing in flight until at most max_pools remain."""
        excess = len(self._pools) - self._max_pools
        if excess <= 0:
            return
        for key in list(self._pools):
            if excess <= 0:
                break
            if self._in_flight.get(key):
                continue
            pool = self._pools.pop(key)
            excess -= 1
            await pool.aclose()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key = (url.raw_scheme, url.raw_host, url.port)
        pool = self._pool_for(key)
        self._in_flight[key] = self._in_flight.get(key, 0) + 1
        try:
            await self._evict()
            response = await pool.handle_async_request(httpcore.Request(
                method=request.method,
                url=httpcore.URL(scheme=key[0], host=key[1], port=key[2], target=url.raw_path),
                headers=request.headers.raw,
                content=request.stream,  # type: ignore[arg-type]
                extensions=request.extensions,
            ))
        except BaseException as exc:
            self._release(key)
            mapped = _as_httpx(exc) if isinstance(exc, Exception) else None
            if mapped is None:
                raise
            raise mapped from exc
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream, lambda: self._release(key)),  # type: ignore[arg-type]
            extensions=response.extensions,
        )

    def _release(self, key: _Origin) -> None:
        left = self._in_flight.get(key, 1) - 1
        if left > 0:
            self._in_flight[key] = left
        else:
            self._in_flight.pop(key, None)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.aclose()


class _ResponseStream(httpx.AsyncByteStream):
    """The response body, with httpcore's errors raised as httpx's; tells the transport when
    the request is over (the body closed)."""

    def __init__(self, stream: typing.AsyncIterable[bytes], on_close: Callable[[], None]) -> None:
        self._stream = stream
        self._on_close = on_close
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
                yield chunk
        except Exception as exc:
            mapped = _as_httpx(exc)
            if mapped is None:
                raise
            raise mapped from exc

    async def aclose(self) -> None:
        try:
            aclose = getattr(self._stream, "aclose", None)
            if aclose is not None:
                await aclose()
        except Exception as exc:
            mapped = _as_httpx(exc)
            if mapped is None:
                raise
            raise mapped from exc
        finally:
            if not self._closed:
                self._closed = True
                self._on_close()


# ------------------------------------------------------------------------------------ network I/O


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One TCP (or TLS) connection as an asyncio StreamReader/StreamWriter pair."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)  # b"" at the end of the stream
        except TimeoutError:
            raise httpcore.ReadTimeout("timed out reading") from None
        except OSError as exc:
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            self._writer.write(buffer)
            async with asyncio.timeout(timeout):
                await self._writer.drain()
        except TimeoutError:
            raise httpcore.WriteTimeout("timed out writing") from None
        except OSError as exc:
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        self._writer.transport.abort()  # as anyio closes: at once, nothing left to send

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except TimeoutError:
            self._writer.transport.abort()
            raise httpcore.ConnectTimeout("timed out in the TLS handshake") from None
        except ssl.SSLCertVerificationError as exc:
            self._writer.transport.abort()
            raise _TLSFailure(f"证书验证失败（{exc.verify_message or exc.reason or exc}）") from exc
        except ssl.SSLError as exc:
            self._writer.transport.abort()
            raise _TLSFailure(f"TLS 握手失败，服务器可能不支持 HTTPS（{exc.reason or exc}）") from exc
        except OSError as exc:
            self._writer.transport.abort()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return self

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        if info == "socket":
            return self._writer.get_extra_info("socket")
        if info == "is_readable":  # an idle kept-alive connection the server has closed
            return _readable(self._writer.get_extra_info("socket"))
        return None


def _readable(sock: typing.Any) -> bool:
    """True if the socket is closed, at its end or has data waiting."""
    fd = sock.fileno() if sock is not None else -1
    if fd == -1:
        return True
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([fd], [], [], 0)[0])


Resolver = Callable[[str, int], Awaitable[list[tuple[int, str]]]]


async def system_resolver(host: str, port: int) -> list[tuple[int, str]]:
    """(family, address) of every address `host` resolves to, in the system's order, each once.
    An address literal in canonical notation is its own answer (no lookup)."""
    ip = parse_ip(host)
    if ip is not None and "%" not in host:
        return [(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, str(ip))]
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    out: list[tuple[int, str]] = []
    for family, _, _, _, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6) and (family, sockaddr[0]) not in out:
            out.append((family, str(sockaddr[0])))
    return out


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, *, allow_private_addresses: bool = False, resolver: Resolver | None = None) -> None:
        self.allow_private_addresses = allow_private_addresses
        self._resolve = resolver or system_resolver

    async def addresses(self, host: str, port: int) -> list[tuple[int, str]]:
        """The addresses to connect to for `host`, every one checked (see the module docstring)."""
        try:
            found = await self._resolve(host, port)
        except OSError as exc:  # socket.gaierror
            raise httpcore.ConnectError(f"域名解析失败：{host}（{exc.strerror or exc}）") from exc
        if not found:
            raise httpcore.ConnectError(f"域名解析失败：{host}（没有地址）")
        if not self.allow_private_addresses:
            for _, address in found:
                ip = parse_ip(address)
                why = "无法识别的地址" if ip is None else refusal(ip)
                if why is not None:
                    subject = f"{host} 是{why}" if parse_ip(host) == ip else f"{host} 解析到{why} {address}"
                    raise _ForbiddenAddress(f"{subject}，不允许抓取（{PRIVATE_HINT}）")
        return found

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[tuple[int, int, int | bytes]] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                found = await self.addresses(host, port)
                failure: OSError | None = None
                for family, address in found:  # each checked address in turn; the name is not looked up again
                    try:
                        reader, writer = await asyncio.open_connection(
                            address, port, family=family, flags=socket.AI_NUMERICHOST,
                            local_addr=(local_address, 0) if local_address else None)
                        break
                    except OSError as exc:
                        failure = exc
                else:
                    assert failure is not None
                    raise failure
        except TimeoutError:
            raise httpcore.ConnectTimeout("timed out connecting") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        sock = writer.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return AsyncioStream(reader, writer)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
