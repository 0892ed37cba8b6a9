"""PoliteClient sends its requests straight to its transport, without httpx.AsyncClient: what the
client did for it must still happen (headers, cookies, the error for an unreadable redirect)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from scraper.http import PoliteClient
from xxgk.config import CrawlerConfig


async def _serve(app: web.Application, address: str = "127.0.0.1") -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, address, 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"{address}:{port}"


def test_headers_and_cookies_as_httpx_client_sent_them() -> None:
    seen: list[tuple[str, list[tuple[str, str]]]] = []

    async def page(request: web.Request) -> web.Response:
        seen.append((request.path, [(k.decode(), v.decode()) for k, v in request.raw_headers]))
        response = web.Response(text="<html><body>ok</body></html>", content_type="text/html")
        if request.path == "/login":
            response.set_cookie("JSESSIONID", "abc123", path="/")
        return response

    async def main() -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", page)
        runner, host = await _serve(app)
        runner2, host2 = await _serve(app, "127.0.0.2")  # another host (cookies ignore the port)
        cfg = CrawlerConfig(per_host_delay_s=0, respect_robots=False, allow_private_addresses=True)
        try:
            async with PoliteClient(cfg, [host, host2]) as client:
                assert (await client.fetch(f"http://{host}/first", etag='"v1"')).ok
                assert (await client.fetch(f"http://{host}/login")).ok
                assert (await client.fetch(f"http://{host}/after")).ok
                assert (await client.fetch(f"http://{host2}/elsewhere")).ok
                fields = {"a": "1", "b": "政务"}
                assert (await client.fetch(f"http://{host}/form", method="POST", data=fields)).ok
        finally:
            await runner.cleanup()
            await runner2.cleanup()

        headers = dict(seen)
        ua = cfg.user_agent_header
        assert headers["/first"] == [
            ("Host", host), ("Connection", "keep-alive"), ("User-Agent", ua),
            ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            ("Accept-Encoding", "gzip, deflate"), ("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.5"),
            ("If-None-Match", '"v1"'),
        ]
        assert ("Cookie", "JSESSIONID=abc123") in headers["/after"]  # the jar keeps what a site set
        assert not any(k == "Cookie" for k, _ in headers["/login"])
        assert not any(k == "Cookie" for k, _ in headers["/elsewhere"])  # and only for that site
        form = dict(headers["/form"])
        assert form["Content-Type"] == "application/x-www-form-urlencoded"
        assert form["Cookie"] == "JSESSIONID=abc123"

    asyncio.run(main())


def test_a_redirect_to_an_unreadable_location_is_a_protocol_error_retried() -> None:
    async def bad(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "http://[::1"})

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/bad", bad)
        runner, host = await _serve(app)
        cfg = CrawlerConfig(per_host_delay_s=0, backoff_s=0.01, retries=2, respect_robots=False,
                            allow_private_addresses=True)
        try:
            async with PoliteClient(cfg, [host]) as client:
                res = await client.fetch(f"http://{host}/bad")
        finally:
            await runner.cleanup()
        assert res.status is None and res.content is None
        assert res.error == "服务器提前断开连接（已重试 2 次）"
        assert res.attempts == 3

    asyncio.run(main())
