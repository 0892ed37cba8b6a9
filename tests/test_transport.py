"""PerOriginTransport against real servers on 127.0.0.1: one kept-alive connection per origin,
idle pools closed beyond the limit, pools with a request in flight never closed."""

from __future__ import annotations

import asyncio

import httpx
from aiohttp import web

from scraper.transport import PerOriginTransport


async def _servers(n: int) -> tuple[list[web.AppRunner], list[str], list[set[int]]]:
    """n servers; for each, the set of client ports (connections) it saw."""
    runners, bases, peers = [], [], []
    for _ in range(n):
        seen: set[int] = set()

        async def page(request: web.Request, seen: set[int] = seen) -> web.Response:
            seen.add(request.transport.get_extra_info("peername")[1])  # type: ignore[union-attr]
            if request.path == "/slow":
                await asyncio.sleep(0.3)
            return web.Response(text="正文" * 100)

        app = web.Application()
        app.router.add_get("/{tail:.*}", page)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        runners.append(runner)
        bases.append(f"http://127.0.0.1:{port}")
        peers.append(seen)
    return runners, bases, peers


def test_one_connection_per_origin_reused() -> None:
    async def main() -> None:
        runners, bases, peers = await _servers(3)
        transport = PerOriginTransport(max_pools=8)
        try:
            async with httpx.AsyncClient(transport=transport) as client:
                for _ in range(5):
                    for base in bases:
                        r = await client.get(base + "/a")
                        assert r.text.startswith("正文")
                assert len(transport._pools) == 3
            assert [len(p) for p in peers] == [1, 1, 1]  # keep-alive: one connection each
            assert not transport._pools  # closing the client closed every pool
        finally:
            for runner in runners:
                await runner.cleanup()

    asyncio.run(main())


def test_idle_pools_closed_beyond_limit_but_not_busy_ones() -> None:
    async def main() -> None:
        runners, bases, peers = await _servers(4)
        transport = PerOriginTransport(max_pools=2)
        try:
            async with httpx.AsyncClient(transport=transport) as client:
                slow = asyncio.create_task(client.get(bases[0] + "/slow"))
                await asyncio.sleep(0.05)  # the slow request is in flight on pool 0
                for base in bases[1:]:
                    assert (await client.get(base + "/a")).status_code == 200
                assert len(transport._pools) <= 3  # limit 2, plus the busy pool that must not close
                assert (await slow).status_code == 200  # its pool was not closed under it
                for base in bases[1:]:
                    await client.get(base + "/b")
                assert len(transport._pools) <= 3
                assert transport._in_flight == {}
            # Re-visiting evicted origins opened new connections: eviction really closed them.
            assert sum(len(p) for p in peers[1:]) > 3
        finally:
            for runner in runners:
                await runner.cleanup()

    asyncio.run(main())
