"""PoliteClient against a real HTTP server on 127.0.0.1 (aiohttp, started in each test).

Each test runs one event loop (`asyncio.run`) holding both the server and the client; the
server records what it received (paths, headers, arrival and finish times) so politeness is
measured where it matters: at the server."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import gzip
import time
from collections import Counter
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from scraper.http import (
    ERR_OFF_HOST,
    ERR_REDIRECTS,
    ERR_ROBOTS,
    PoliteClient,
    host_key,
    parse_retry_after,
)
from xxgk.config import CrawlerConfig

ROBOTS = """User-agent: *
Disallow: /private/

User-agent: xxgk-monitor
Disallow: /private/
Disallow: /forbidden-for-us
"""


@dataclass
class Hit:
    path: str
    port: int
    start: float
    end: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


class Recorder:
    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.per_port_in_flight: Counter[int] = Counter()
        self.max_per_port = 0
        self.counters: Counter[str] = Counter()
        self.huge_sent = 0

    def paths(self, robots: bool = True) -> list[str]:
        return [h.path for h in self.hits if robots or h.path != "/robots.txt"]


def make_app(rec: Recorder, robots: str | None = ROBOTS, robots_status: int = 200) -> web.Application:
    @web.middleware
    async def record(request: web.Request, handler):
        port = request.transport.get_extra_info("sockname")[1]
        hit = Hit(request.path_qs, port, time.monotonic(), headers=dict(request.headers))
        rec.hits.append(hit)
        rec.in_flight += 1
        rec.per_port_in_flight[port] += 1
        rec.max_in_flight = max(rec.max_in_flight, rec.in_flight)
        rec.max_per_port = max(rec.max_per_port, rec.per_port_in_flight[port])
        try:
            return await handler(request)
        finally:
            rec.in_flight -= 1
            rec.per_port_in_flight[port] -= 1
            hit.end = time.monotonic()

    async def robots_txt(request: web.Request) -> web.Response:
        if robots is None:
            raise web.HTTPNotFound()
        return web.Response(text=robots, status=robots_status)

    async def page(request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.query.get("sleep", "0")))
        return web.Response(text=f"<html><body>page {request.match_info['n']}</body></html>", content_type="text/html")

    async def flaky(request: web.Request) -> web.Response:
        rec.counters["flaky"] += 1
        if rec.counters["flaky"] <= 2:
            return web.Response(status=500, text="boom")
        return web.Response(text="ok after two failures")

    async def always_503(request: web.Request) -> web.Response:
        return web.Response(status=503, text="down")

    async def limited(request: web.Request) -> web.Response:
        rec.counters["limited"] += 1
        if rec.counters["limited"] == 1:
            return web.Response(status=429, headers={"Retry-After": "1"}, text="slow down")
        return web.Response(text="thanks for waiting")

    async def limited_long(request: web.Request) -> web.Response:
        return web.Response(status=429, headers={"Retry-After": "3600"}, text="come back tomorrow")

    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404, text="no such page")

    async def conditional(request: web.Request) -> web.Response:
        etag, modified = '"v1"', "Wed, 01 Feb 2023 08:00:00 GMT"
        if request.headers.get("If-None-Match") == etag or request.headers.get("If-Modified-Since") == modified:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(text="report v1", headers={"ETag": etag, "Last-Modified": modified})

    async def loop_a(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop-b")

    async def loop_b(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop-a")

    async def chain(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        if n == 0:
            return web.Response(text="end of chain")
        raise web.HTTPFound(f"/chain/{n - 1}")

    async def offsite(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/page/moved-here")

    async def form(request: web.Request) -> web.Response:
        data = await request.post()
        return web.Response(text=f"{request.method} columnid={data.get('columnid')} webname={data.get('webname')}")

    async def huge(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/pdf"})
        await resp.prepare(request)
        chunk = b"%" * 65536
        try:
            for _ in range(3200):  # 200 MB if nobody stops us
                await resp.write(chunk)
                rec.huge_sent += len(chunk)
        except (ConnectionResetError, ConnectionError, RuntimeError):
            pass
        return resp

    async def huge_declared(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/pdf", "Content-Length": str(100 * 1024 * 1024)})
        await resp.prepare(request)
        try:
            await resp.write(b"%PDF-1.7\n")
            await asyncio.sleep(5)
        except (ConnectionResetError, ConnectionError, RuntimeError):
            pass
        return resp

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.Response(text="too late")

    async def echo(request: web.Request) -> web.Response:
        body = gzip.compress("压缩的正文".encode("utf-8"))
        return web.Response(body=body, headers={"Content-Encoding": "gzip", "Content-Type": "text/plain; charset=utf-8"})

    app = web.Application(middlewares=[record])
    app.router.add_get("/robots.txt", robots_txt)
    app.router.add_get("/page/{n}", page)
    app.router.add_get("/private/{n}", page)
    app.router.add_get("/forbidden-for-us", page)
    app.router.add_get("/flaky", flaky)
    app.router.add_get("/down", always_503)
    app.router.add_get("/limited", limited)
    app.router.add_get("/limited-long", limited_long)
    app.router.add_get("/missing", missing)
    app.router.add_get("/conditional", conditional)
    app.router.add_get("/loop-a", loop_a)
    app.router.add_get("/loop-b", loop_b)
    app.router.add_get("/chain/{n}", chain)
    app.router.add_get("/offsite", offsite)
    app.router.add_get("/moved", moved)
    app.router.add_post("/form", form)
    app.router.add_get("/huge", huge)
    app.router.add_get("/huge-declared", huge_declared)
    app.router.add_get("/slow", slow)
    app.router.add_get("/echo", echo)
    return app


@asynccontextmanager
async def serve(app: web.Application, ports: int = 1):
    """Serve `app` on `ports` loopback ports; yields the base URLs."""
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
    await runner.setup()
    for _ in range(ports):
        await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield [f"http://127.0.0.1:{addr[1]}" for addr in runner.addresses]
    finally:
        await runner.cleanup()


def cfg(**overrides) -> CrawlerConfig:
    base = dict(per_host_delay_s=0.0, timeout_s=5.0, retries=3, backoff_s=0.05, max_retry_after_s=10.0,
                allow_private_addresses=True)  # the test servers are on loopback
    base.update(overrides)
    return CrawlerConfig(**base)


def hosts(urls: list[str]) -> list[str]:
    return [u.split("//", 1)[1] for u in urls]


def run(coro):
    return asyncio.run(coro)


# ------------------------------------------------------------------------------------ robots


def test_robots_disallow_is_obeyed_without_request() -> None:
    rec = Recorder()

    async def main():
        async with serve(make_app(rec)) as (base,):
            async with PoliteClient(cfg(), hosts([base])) as client:
                blocked = await client.fetch(base + "/private/1")
                ours = await client.fetch(base + "/forbidden-for-us")
                ok = await client.fetch(base + "/page/1")
                ok2 = await client.fetch(base + "/page/2")
                return blocked, ours, ok, ok2, client.stats

    blocked, ours, ok, ok2, stats = run(main())
    assert blocked.error == ERR_ROBOTS and blocked.status is None and blocked.attempts == 0
    assert ours.error == ERR_ROBOTS  # the group for our user agent applies
    assert ok.ok and ok.content == b"<html><body>page 1</body></html>" and ok2.ok
    assert rec.paths() == ["/robots.txt", "/page/1", "/page/2"]  # robots.txt once, nothing forbidden
    assert stats.robots_blocked == 2


def test_missing_robots_allows_everything() -> None:
    rec = Recorder()

    async def main():
        async with serve(make_app(rec, robots=None)) as (base,):
            async with PoliteClient(cfg(), hosts([base])) as client:
                return await client.fetch(base + "/private/1")

    res = run(main())
    assert res.ok
    assert rec.paths() == ["/robots.txt", "/private/1"]


def test_robots_server_error_disallows_the_host() -> None:
    rec = Recorder()

    async def main():
        async with serve(make_app(rec, robots="User-agent: *\nDisallow:\n", robots_status=503)) as (base,):
            async with PoliteClient(cfg(retries=1, backoff_s=0.01), hosts([base])) as client:
                first = await client.fetch(base + "/page/1")
                second = await client.fetch(base + "/page/2")
                return first, second

    first, second = run(main())
    assert first.error == ERR_ROBOTS and second.error == ERR_ROBOTS
    assert rec.paths() == ["/robots.txt", "/robots.txt"]  # one retry, then never again this run


def test_crawl_delay_is_honoured() -> None:
    rec = Recorder()

    async def main():
        async with serve(make_app(rec, robots="User-agent: *\nCrawl-delay: 0.4\n")) as (base,):
            async with PoliteClient(cfg(per_host_delay_s=0.0), hosts([base])) as client:
                await asyncio.gather(*(client.fetch(f"{base}/page/{i}") for i in range(3)))

    run(main())
    pages = [h for h in rec.hits if h.path.startswith("/page/")]
    assert len(pages) == 3
    for prev, nxt in zip(pages, pages[1:]):
        assert nxt.start - prev.end >= 0.38


# ------------------------------------------------------------------------------------ politeness


def test_one_request_at_a_time_per_host_with_delay() -> None:
    rec = Recorder()
    delay = 0.2

    async def main():
        async with serve(make_app(rec, robots=None)) as (base,):
            async with PoliteClient(cfg(per_host_delay_s=delay, concurrency=8), hosts([base])) as client:
                results = await asyncio.gather(*(client.fetch(f"{base}/page/{i}?sleep=0.05") for i in range(5)))
                return results

    results = run(main())
    assert all(r.ok for r in results)
    assert rec.max_per_port == 1
    hits = sorted(rec.hits, key=lambda h: h.start)
    assert len(hits) == 6  # robots.txt + 5 pages
    for prev, nxt in zip(hits, hits[1:]):
        assert nxt.start >= prev.end, "requests to one host overlapped"
        assert nxt.start - prev.end >= delay - 0.01, f"gap {nxt.start - prev.end:.3f}s < {delay}s"


def test_total_concurrency_is_bounded_across_hosts() -> None:
    rec = Recorder()

    async def main():
        async with serve(make_app(rec, robots=None), ports=4) as bases:
            async with PoliteClient(cfg(concurrency=2), hosts(bases)) as client:
                jobs = [client.fetch(f"{b}/page/{i}?sleep=0.1") for b in bases for i in range(3)]
                return await asyncio.gather(*jobs)

    results = run(main())
    assert all(r.ok for r in results)
    assert rec.max_in_flight == 2  # reached, never exceeded
    assert rec.max_per_port == 1


# ------------------------------------------------------------------------------------ retries


def test_server_errors_are_retried_to_success() -> None:
    rec = Recorder()

    async def main():
        async with serve(make_app(rec, robots=None)) as (base,):
            async with PoliteClient(cfg(backoff_s=0.05), hosts([base])) as client:
                return await client.fetch(base + "/flaky"), client.stats

    res, stats = run(main())
    assert res.ok and res.status == 200 and res.content == b"ok after two failures"
    assert res.attempts == 3
    flaky = [h for h in rec.hits if h.path == "/flaky"]
    assert len(flaky) == 3
    # exponential backoff: 0.05 s then 0.1 s
    assert flaky[1].start - flaky[0].end >= 0.045
    assert flaky[2].start - flaky[1].end >= 0.095
    assert stats.status_counts[500] == 2 and stats.status_counts[200] == 1 and stats.retries == 2


def test_server_error_gives_up_after_retries() -> None:
    rec = Recorder()

    async def main():
        async with serve(make_app(rec, robots=None)) as (base,):
            async with PoliteClient(cfg(retries=2, backoff_s=0.01), hosts([base])) as client:
                return await client.fetch(base + "/down")

    res = run(main())
    assert res.status == 503 and not res.ok
    assert res.error is not None and "HTTP 503" in res.error and "已重试 2 次" in res.error
    assert rec.paths().count("/down") == 3


def test_429_retry_after_is_honoured() -> None:
    rec = Recorder()

    async def main():
        async with serve(make_app(rec, robots=None)) as (base,):
            async with PoliteClient(cfg(backoff_s=0.01), hosts([base])) as client:
                return await client.fetch(base + "/limited")

    res = run(main())
    assert res.ok and res.content == b"thanks for waiting" and res.attempts == 2
    first, second = [h for h in rec.hits if h.path == "/limited"]
    assert second.start - first.end >= 0.95  # Retry-After: 1, not the 0.01 s backoff


def test_retry_after_too_long_gives_up_at_once() -> None:
    rec = Recorder()

    async def main():
        async with serve(make_app(rec, robots=None)) as (base,):
            async with PoliteClient(cfg(max_retry_after_s=2), hosts([base])) as client:
                started = time.monotonic()
                res = await client.fetch(base + "/limited-long")
                return res, time.monotonic() - started

    res, elapsed = run(main())
    assert res.status == 429 and res.attempts == 1
    assert res.error is not None and "3600" in res.error
    assert elapsed < 1.0


def test_no_retry_on_404() -> None:
    rec = Recorder()

    async def main():
        async with serve(make_app(rec, robots=None)) as (base,):
            async with PoliteClient(cfg(), hosts([base])) as client:
                return await client.fetch(base + "/missing")

    res = run(main())
    assert res.status == 404 and res.attempts == 1
    assert res.error == "页面不存在（HTTP 404）"
    assert res.content == b"no such page"
    assert rec.paths().count("/missing") == 1


def test_network_error_is_retried_then_reported() -> None:
    async def main():
        # a port nobody listens on: bind, note the port, close
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        async with PoliteClient(cfg(retries=1, backoff_s=0.01, respect_robots=False), [f"127.0.0.1:{port}"]) as client:
            return await client.fetch(f"http://127.0.0.1:{port}/x"), client.stats

    res, stats = run(main())
    assert res.status is None and res.attempts == 2
    assert res.error is not None and "无法连接服务器" in res.error
    assert stats.network_errors == 2


# ------------------------------------------------------------------------------------ conditional GET


def test_conditional_get_304() -> None:
    rec = Recorder()

    async def main():
        async with serve(make_app(rec, robots=None)) as (base,):
            async with PoliteClient(cfg(), hosts([base])) as client:
                first = await client.fetch(base + "/conditional")
                again = await client.fetch(base + "/conditional", etag=first.etag)
                by_date = await client.fetch(base + "/conditional", last_modified=first.last_modified)
                return first, again, by_date, client.stats

    first, again, by_date, stats = run(main())
    assert first.ok and first.content == b"report v1"
    assert first.etag == '"v1"' and first.last_modified == "Wed, 01 Feb 2023 08:00:00 GMT"
    for res in (again, by_date):
        assert res.not_modified and res.status == 304 and res.content is None and res.ok and res.error is None
    sent = [h.headers for h in rec.hits if h.path == "/conditional"]
    assert sent[1].get("If-None-Match") == '"v1"'
    assert sent[2].get("If-Modified-Since") == "Wed, 01 Feb 2023 08:00:00 GMT"
    assert stats.not_modified == 2


# ------------------------------------------------------------------------------------ redirects and hosts


def test_redirect_loop_is_an_error() -> None:
    rec = Recorder()

    async def main():
        async with serve(make_app(rec, robots=None)) as (base,):
            async with PoliteClient(cfg(), hosts([base])) as client:
                return await client.fetch(base + "/loop-a")

    res = run(main())
    assert res.error is not None and res.error.startswith(ERR_REDIRECTS)
    assert rec.paths().count("/loop-a") == 1 and rec.paths().count("/loop-b") == 1


def test_too_many_redirects_and_followed_redirects() -> None:
    rec = Recorder()

    async def main():
        async with serve(make_app(rec, robots=None)) as (base,):
            async with PoliteClient(cfg(max_redirects=3), hosts([base])) as client:
                ok = await client.fetch(base + "/chain/3")
                too_many = await client.fetch(base + "/chain/4")
                moved = await client.fetch(base + "/moved#frag")
                return ok, too_many, moved, base

    ok, too_many, moved, base = run(main())
    assert ok.ok and ok.content == b"end of chain" and ok.final_url == base + "/chain/0" and ok.attempts == 4
    assert too_many.error is not None and too_many.error.startswith(ERR_REDIRECTS)
    assert moved.ok and moved.url == base + "/moved#frag" and moved.final_url == base + "/page/moved-here"


def test_off_host_redirect_and_off_host_url_are_refused() -> None:
    rec = Recorder()

    async def main():
        async with serve(make_app(rec, robots=None), ports=2) as (base, other):
            async with PoliteClient(cfg(), hosts([base])) as client:
                redirected = await client.fetch(f"{base}/offsite?to={other}/page/1")
                direct = await client.fetch(f"{other}/page/2")
                spam = await client.fetch("http://www.866tx.com/art/2023/1/17/art_1.html")
                return redirected, direct, spam, other, client.stats

    redirected, direct, spam, other, stats = run(main())
    for res in (redirected, direct, spam):
        assert res.error is not None and ERR_OFF_HOST in res.error
    assert redirected.attempts == 1 and direct.attempts == 0 and spam.attempts == 0
    other_port = int(other.rsplit(":", 1)[1])
    assert not [h for h in rec.hits if h.port == other_port]  # the other host saw nothing
    assert stats.off_host == 3


def test_post_form_and_303_semantics() -> None:
    rec = Recorder()

    async def main():
        async with serve(make_app(rec, robots=None)) as (base,):
            async with PoliteClient(cfg(), hosts([base])) as client:
                return await client.fetch(base + "/form", method="POST", data={"columnid": "1229214366", "webname": "宁波市江北区"})

    res = run(main())
    assert res.ok and res.content.decode() == "POST columnid=1229214366 webname=宁波市江北区"


# ------------------------------------------------------------------------------------ size, timeouts, headers


def test_size_cap_aborts_streamed_body_early() -> None:
    rec = Recorder()

    async def main():
        async with serve(make_app(rec, robots=None)) as (base,):
            async with PoliteClient(cfg(max_response_mb=1), hosts([base])) as client:
                started = time.monotonic()
                res = await client.fetch(base + "/huge")
                elapsed = time.monotonic() - started
                await asyncio.sleep(0.2)  # let the server notice the closed connection
                return res, elapsed

    res, elapsed = run(main())
    assert res.error is not None and res.error.startswith("响应过大")
    assert res.content is None and res.attempts == 1  # not retried
    assert res.bytes_received < 3 * 1024 * 1024
    assert rec.huge_sent < 50 * 1024 * 1024  # the server was cut off, far from its 200 MB
    assert elapsed < 5


def test_size_cap_checks_content_length_first() -> None:
    rec = Recorder()

    async def main():
        async with serve(make_app(rec, robots=None)) as (base,):
            async with PoliteClient(cfg(max_response_mb=1), hosts([base])) as client:
                started = time.monotonic()
                res = await client.fetch(base + "/huge-declared")
                return res, time.monotonic() - started

    res, elapsed = run(main())
    assert res.error is not None and res.error.startswith("响应过大") and "100.0 MB" in res.error
    assert elapsed < 2  # did not wait for the body


def test_timeout_is_reported() -> None:
    rec = Recorder()

    async def main():
        async with serve(make_app(rec, robots=None)) as (base,):
            async with PoliteClient(cfg(timeout_s=0.3, retries=1, backoff_s=0.01), hosts([base])) as client:
                started = time.monotonic()
                res = await client.fetch(base + "/slow")
                return res, time.monotonic() - started

    res, elapsed = run(main())
    assert res.status is None and res.error is not None and "超时" in res.error
    assert res.attempts == 2  # a timeout is retried
    assert elapsed < 2.5


def test_user_agent_and_gzip() -> None:
    rec = Recorder()
    config = cfg(contact_url="https://example.org/xxgk")

    async def main():
        async with serve(make_app(rec)) as (base,):
            async with PoliteClient(config, hosts([base])) as client:
                return await client.fetch(base + "/echo", accept_types=["text/plain"])

    res = run(main())
    assert res.ok and res.content == "压缩的正文".encode("utf-8")
    assert res.content_type == "text/plain; charset=utf-8" and res.headers["content-encoding"] == "gzip"
    for hit in rec.hits:  # robots.txt too
        assert hit.headers["User-Agent"] == "xxgk-monitor/0.1 (+https://example.org/xxgk)"
        assert "gzip" in hit.headers["Accept-Encoding"]
    assert rec.hits[-1].headers["Accept"] == "text/plain"


# ------------------------------------------------------------------------------------ pure helpers


def test_host_key_and_retry_after_parsing() -> None:
    assert host_key("https://WWW.Pingtan.gov.cn/zwgk/") == "www.pingtan.gov.cn"
    assert host_key("http://www.pingtan.gov.cn:80/x") == "www.pingtan.gov.cn"
    assert host_key("http://127.0.0.1:8080/x") == "127.0.0.1:8080"
    assert host_key("127.0.0.1:8080") == "127.0.0.1:8080"
    assert host_key("https://a.gov.cn:8443/") == "a.gov.cn:8443"
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" ") is None and parse_retry_after(None) is None and parse_retry_after("soon") is None
    now = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
    later = email.utils.format_datetime(now + dt.timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(later, now=now) == pytest.approx(90.0)
    assert parse_retry_after(email.utils.format_datetime(now - dt.timedelta(hours=1), usegmt=True), now=now) == 0.0


# ------------------------------------------------------------------------------------ list walks (scraper.listing)

from scraper.listing import ListingError, iter_entries  # noqa: E402
from xxgk.config import SiteHints  # noqa: E402


def _li(n: int, year: int, day: str) -> str:
    return f'<li><a href="/art/{n}.html" title="XX县{year}年度政府信息公开工作年度报告">XX县{year}年度政府信息…</a><span>{day}</span></li>'


def list_app(rec: Recorder) -> web.Application:
    app = make_app(rec, robots=None)

    # --- TRS: three static pages
    async def trs_page(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        n = {"index.htm": 0, "index_1.htm": 1, "index_2.htm": 2}.get(name)
        if n is None:
            raise web.HTTPNotFound()
        rows = _li(100 + n, 2023 - n, f"{2024 - n}-03-10")
        html = f'<html><body><ul>{rows}</ul><script>createPageHTML(3, {n}, "index", "htm");</script></body></html>'
        return web.Response(text=html, content_type="text/html")

    # --- jcms: 7 records, 2 per page, 3 pages per group; the column page embeds the first 6
    records = [f'<record><![CDATA[{_li(200 + i, 2024 - i, f"{2025 - i}-01-1{i}")}]]></record>' for i in range(7)]

    async def jcms_column(request: web.Request) -> web.Response:
        html = (
            '<html><body><div id="77"><script type="text/xml"><datastore><recordset>'
            + "".join(records[:6])
            + "</recordset></datastore></script></div><script>"
            "var param_77 = {col:1,appid:1,webid:5,path:'/',columnid:100,sourceContentType:1,unitid:'77',webname:'XX县',permissiontype:0};"
            "$('#77').jpage({proxyUrl:'/module/web/jpage/dataproxy.jsp', perPage:2, outPage:3, totalRecord:7});"
            "</script></body></html>"
        )
        return web.Response(text=html, content_type="text/html")

    async def dataproxy(request: web.Request) -> web.Response:
        form = await request.post()
        rec.counters["proxy_form:" + ",".join(f"{k}={form[k]}" for k in sorted(form))] += 1
        start, end = int(request.query["startrecord"]), int(request.query["endrecord"])
        chunk = records[max(0, start - 2) : end]  # one lookahead record, as real jcms sends
        xml = f"<datastore><totalrecord>7</totalrecord><recordset>{''.join(chunk)}</recordset></datastore>"
        return web.Response(text=xml, content_type="text/xml")

    # --- gkmlpt: catalogue page and two JSON pages
    async def gk_index(request: web.Request) -> web.Response:
        return web.Response(text="<html><script>window._CONFIG = { SID: '755031', TREE: [] };</script></html>",
                            content_type="text/html")

    async def gk_api(request: web.Request) -> web.Response:
        page = int(request.query["page"])
        assert request.match_info["col"] == "508" and request.query["sid"] == "755031"
        arts = [
            {"id": i, "title": f"阳江市{2024 - i}年政府信息公开工作年度报告", "url": f"/gkmlpt/content/0/508/post_{i}.html",
             "created_at": f"{2025 - i}-02-01 09:00:00"}
            for i in range((page - 1) * 2, min(page * 2, 3))
        ]
        return web.json_response({"articles": arts, "total": 3})

    # --- plain: ?page=1..3 with 下一页 and 尾页; ?page=4 repeats page 3 (out-of-range)
    async def plain_list(request: web.Request) -> web.Response:
        page = int(request.query.get("page", "1"))
        if page == 5:
            return web.Response(status=404, text="broken page")
        shown = min(page, 3)
        links = '<a href="list.html?page=1">首页</a>'
        if page < 4:
            links += f'<a href="list.html?page={page + 1}">下一页</a>'
        links += '<a href="list.html?page=3">尾页</a><a href="list.html?page=5">5</a>'
        rows = _li(300 + shown, 2020 + shown, f"{2021 + shown}-02-02")
        return web.Response(text=f"<html><body><ul>{rows}</ul><div>{links}</div></body></html>", content_type="text/html")

    app.router.add_get("/trs/{name}", trs_page)
    app.router.add_get("/col/col100/index.html", jcms_column)
    app.router.add_post("/module/web/jpage/dataproxy.jsp", dataproxy)
    app.router.add_get("/gkmlpt/index", gk_index)
    app.router.add_get("/gkmlpt/api/all/{col}", gk_api)
    app.router.add_get("/plain/list.html", plain_list)
    return app


async def _collect(client, url, hints=None, **kw):
    return [e async for e in iter_entries(client, url, hints or SiteHints(), **kw)]


def test_walk_trs_pages() -> None:
    rec = Recorder()

    async def main():
        async with serve(list_app(rec)) as (base,):
            async with PoliteClient(cfg(), hosts([base])) as client:
                return await _collect(client, base + "/trs/index.htm", max_pages=10), base

    entries, base = run(main())
    assert [(e.title, e.url, e.date) for e in entries] == [
        ("XX县2023年度政府信息公开工作年度报告", base + "/art/100.html", dt.date(2024, 3, 10)),
        ("XX县2022年度政府信息公开工作年度报告", base + "/art/101.html", dt.date(2023, 3, 10)),
        ("XX县2021年度政府信息公开工作年度报告", base + "/art/102.html", dt.date(2022, 3, 10)),
    ]
    assert rec.paths(robots=False) == ["/trs/index.htm", "/trs/index_1.htm", "/trs/index_2.htm"]


def test_walk_jcms_dataproxy() -> None:
    rec = Recorder()

    async def main():
        async with serve(list_app(rec)) as (base,):
            async with PoliteClient(cfg(), hosts([base])) as client:
                return await _collect(client, base + "/col/col100/index.html", max_pages=30)

    entries = run(main())
    assert [e.url.rsplit("/", 1)[1] for e in entries] == [f"{200 + i}.html" for i in range(7)]
    assert entries[6].date == dt.date(2019, 1, 16)
    assert rec.paths(robots=False) == ["/col/col100/index.html", "/module/web/jpage/dataproxy.jsp?startrecord=7&endrecord=12&perpage=2"]
    (proxy_hit,) = [h for h in rec.hits if h.path.startswith("/module/")]
    assert proxy_hit.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded")
    (form_key,) = [k for k in rec.counters if k.startswith("proxy_form:")]
    assert form_key == ("proxy_form:appid=1,col=1,columnid=100,path=/,permissiontype=0,sourceContentType=1,"
                        "unitid=77,webid=5,webname=XX县")


def test_walk_gkmlpt_json() -> None:
    rec = Recorder()

    async def main():
        async with serve(list_app(rec)) as (base,):
            async with PoliteClient(cfg(), hosts([base])) as client:
                return await _collect(client, base + "/gkmlpt/index#508", max_pages=10)

    entries = run(main())
    assert [e.title for e in entries] == [f"阳江市{2024 - i}年政府信息公开工作年度报告" for i in range(3)]
    assert entries[0].date == dt.date(2025, 2, 1)
    assert rec.paths(robots=False) == ["/gkmlpt/index", "/gkmlpt/api/all/508?page=1&sid=755031", "/gkmlpt/api/all/508?page=2&sid=755031"]


def test_walk_plain_never_loops_and_reports_broken_pages() -> None:
    rec = Recorder()

    async def main():
        async with serve(list_app(rec)) as (base,):
            async with PoliteClient(cfg(), hosts([base])) as client:
                errors: list[str] = []
                entries = await _collect(client, base + "/plain/list.html?page=1", max_pages=10, errors=errors)
                quiet = await _collect(client, base + "/plain/list.html?page=1", max_pages=10)  # no raise
                assert quiet == entries
                return entries, errors

    entries, errors = run(main())
    assert [e.url.rsplit("/", 1)[1] for e in entries] == ["301.html", "302.html", "303.html"]
    paths = rec.paths(robots=False)
    paths = paths[: len(paths) // 2]  # the first walk
    assert len(paths) == len(set(paths)), "a list page was fetched twice"
    assert paths[:3] == ["/plain/list.html?page=1", "/plain/list.html?page=2", "/plain/list.html?page=3"]
    assert len(errors) == 1 and "page=5" in errors[0] and "HTTP 404" in errors[0]


def test_walk_stops_at_max_pages_and_link_selector() -> None:
    rec = Recorder()

    async def main():
        async with serve(list_app(rec)) as (base,):
            async with PoliteClient(cfg(), hosts([base])) as client:
                two = await _collect(client, base + "/plain/list.html?page=1", max_pages=2)
                sel = await _collect(client, base + "/trs/index.htm", SiteHints(link_selector="li a"), max_pages=1)
                return two, sel

    two, sel = run(main())
    assert len(two) == 2 and len(sel) == 1
    assert [h.path for h in rec.hits if h.path.startswith("/plain")] == ["/plain/list.html?page=1", "/plain/list.html?page=2"]


def test_walk_conditional_and_failing_first_page() -> None:
    rec = Recorder()

    async def main():
        async with serve(list_app(rec)) as (base,):
            async with PoliteClient(cfg(), hosts([base])) as client:
                seen = []
                first = await _collect(client, base + "/conditional", max_pages=5, on_fetch=seen.append)
                validators = {base + "/conditional": (seen[0].etag, seen[0].last_modified)}
                second = await _collect(client, base + "/conditional", max_pages=5, validators=validators,
                                        on_fetch=seen.append)
                with pytest.raises(ListingError) as err:
                    await _collect(client, base + "/missing", max_pages=5)
                return first, second, seen, err.value

    first, second, seen, err = run(main())
    assert first == [] and second == []  # "report v1" has no links; the 304 yields nothing
    assert [r.status for r in seen] == [200, 304]
    assert "HTTP 404" in err.reason
