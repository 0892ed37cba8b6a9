"""An httpx transport with one small connection pool per origin.

httpx's default pool keeps every origin's connections in one list and rescans all of them (quadratically
in places) for every request it queues. A crawl talks to hundreds of hosts, one request at a time per
host: with the default pool that bookkeeping cost more CPU than parsing the pages. Here each origin gets
its own `httpx.AsyncHTTPTransport` (one connection, kept alive), all sharing one TLS context, and the
least recently used idle pools are closed once there are more than `max_pools`.
"""

from __future__ import annotations

import ssl
from collections import OrderedDict

import httpx


class PerOriginTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, max_pools: int = 64, connections_per_origin: int = 2,
                 keepalive_expiry: float = 30.0, verify: ssl.SSLContext | bool = True) -> None:
        self._verify = httpx.create_ssl_context() if verify is True else verify
        self._limits = httpx.Limits(max_connections=connections_per_origin, max_keepalive_connections=1,
                                    keepalive_expiry=keepalive_expiry)
        self._max_pools = max_pools
        self._pools: OrderedDict[tuple[bytes, bytes, int | None], httpx.AsyncHTTPTransport] = OrderedDict()
        self._in_flight: dict[tuple[bytes, bytes, int | None], int] = {}

    def _pool_for(self, key: tuple[bytes, bytes, int | None]) -> httpx.AsyncHTTPTransport:
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = httpx.AsyncHTTPTransport(verify=self._verify, limits=self._limits)
        else:
            self._pools.move_to_end(key)
        return pool

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
            response = await pool.handle_async_request(request)
        except BaseException:
            self._release(key)
            raise
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_ReleasingStream(response.stream, lambda: self._release(key)),  # type: ignore[arg-type]
            extensions=response.extensions,
        )

    def _release(self, key: tuple[bytes, bytes, int | None]) -> None:
        left = self._in_flight.get(key, 1) - 1
        if left > 0:
            self._in_flight[key] = left
        else:
            self._in_flight.pop(key, None)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.aclose()


class _ReleasingStream(httpx.AsyncByteStream):
    """The response body; tells the transport when the request is over (the body closed)."""

    def __init__(self, stream: httpx.AsyncByteStream, on_close) -> None:  # noqa: ANN001
        self._stream = stream
        self._on_close = on_close
        self._closed = False

    async def __aiter__(self):  # noqa: ANN204
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if not self._closed:
                self._closed = True
                self._on_close()
