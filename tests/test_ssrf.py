"""Only configured hosts, only http(s), only public addresses (issue 7).

Against a real HTTP server on 127.0.0.1 that counts the connections it accepts: with
`allow_private_addresses` off, no name or address form that reaches loopback gets a connection
(`localhost`, 127.0.0.1, IPv4-mapped IPv6, the decimal and hex forms httpx accepts and the
system's resolver turns into 127.0.0.1, 0.0.0.0); with it on, the same URLs are fetched. A
redirect to another host, a private address or another scheme is not followed. The transport
resolves a name once and connects to the address it checked."""

from __future__ import annotations

import asyncio
import socket
from contextlib import asynccontextmanager
from urllib.parse import unquote

import pytest

from scraper import transport as transport_mod
from scraper.addresses import parse_ip, refusal
from scraper.crawl import Crawler
from scraper.http import ERR_OFF_HOST, ERR_SCHEME, PoliteClient
from scraper.transport import PerOriginTransport
from xxgk.config import CrawlerConfig, SiteConfig


def cfg(allow: bool, **overrides) -> CrawlerConfig:
    return CrawlerConfig(per_host_delay_s=0, timeout_s=5, retries=1, backoff_s=0.01,
                         allow_private_addresses=allow, **overrides)


@asynccontextmanager
async def counting_server():
    """A minimal HTTP/1.1 server on 127.0.0.1 (keep-alive; `/redirect?to=URL` answers 302 to URL,
    anything else a page) that counts the connections it accepts; yields (port, connections, paths)."""
    connections: list[int] = []
    paths: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode()
                paths.append(target)
                if target.startswith("/redirect?to="):
                    location = unquote(target.split("=", 1)[1])
                    writer.write(f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode())
                else:
                    body = "<html><body>公开页面</body></html>".encode()
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], connections, paths
    finally:
        server.close()
        await server.wait_closed()


def test_address_classes():
    refused = {
        "127.0.0.1": "本机回环地址", "127.8.9.10": "本机回环地址", "::1": "本机回环地址",
        "10.1.2.3": "内网地址", "172.16.0.1": "内网地址", "192.168.1.1": "内网地址", "fc00::1": "内网地址",
        "169.254.169.254": "链路本地地址", "fe80::1": "链路本地地址",
        "224.0.0.1": "组播地址", "ff02::1": "组播地址",
        "0.0.0.0": "未指定地址", "::": "未指定地址",
        "240.0.0.1": "保留地址", "100.64.0.1": "非公网地址",
        "::ffff:127.0.0.1": "本机回环地址", "::ffff:10.0.0.1": "内网地址",  # IPv4-mapped
        "2002:7f00:1::": "本机回环地址", "2002:a9fe:a9fe::": "链路本地地址",  # 6to4 around a private IPv4
        "64:ff9b::7f00:1": "保留地址",  # NAT64
    }
    for text, kind in refused.items():
        ip = parse_ip(text)
        assert ip is not None and refusal(ip) == kind, text
    for text in ("1.1.1.1", "202.108.22.5", "2400:da00::6666", "2001:4860:4860::8888"):
        ip = parse_ip(text)
        assert ip is not None and refusal(ip) is None, text
    assert parse_ip("2130706433") is None and parse_ip("localhost") is None  # names: resolved, then judged


# Every way of writing a loopback host that httpx accepts; the system's resolver turns the
# decimal, hex and short forms into 127.0.0.1 (inet_aton), so only the resolved address tells.
LOOPBACK_FORMS = ["localhost", "LOCALHOST", "127.0.0.1", "127.1", "2130706433", "0x7f000001", "0x7f.0.0.1",
                  "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "0.0.0.0"]


def test_loopback_in_any_form_is_refused_without_a_connection():
    async def main():
        async with counting_server() as (port, connections, paths):
            hosts = [f"{h}:{port}" for h in LOOPBACK_FORMS]
            async with PoliteClient(cfg(False), hosts) as client:
                results = {h: await client.fetch(f"http://{h}:{port}/report.html") for h in LOOPBACK_FORMS}
                again = await client.fetch(f"http://localhost:{port}/other.html")
                stats = client.stats
            return results, again, stats, list(connections), list(paths)

    results, again, stats, connections, paths = asyncio.run(main())
    for host, res in results.items():
        assert res.status is None and res.content is None, host
        assert res.error is not None and "不允许抓取" in res.error and "allow_private_addresses" in res.error, host
        kind = "未指定地址" if host == "0.0.0.0" else "本机回环地址"
        assert kind in res.error, (host, res.error)
    assert "127.0.0.1 是本机回环地址" in results["127.0.0.1"].error
    assert "2130706433 解析到本机回环地址 127.0.0.1" in results["2130706433"].error
    assert "localhost 解析到本机回环地址" in results["localhost"].error
    # a host refused once is refused again at once (robots.txt, then the page: no retries either)
    assert again.error == results["localhost"].error
    assert stats.blocked_addresses >= len(LOOPBACK_FORMS) and stats.requests == 0
    assert connections == [] and paths == []  # the server never saw a connection


def test_the_setting_allows_the_same_hosts():
    async def main():
        async with counting_server() as (port, connections, paths):
            forms = ["localhost", "127.0.0.1", "2130706433", "[::ffff:127.0.0.1]"]
            async with PoliteClient(cfg(True, respect_robots=False), [f"{h}:{port}" for h in forms]) as client:
                results = [await client.fetch(f"http://{h}:{port}/r{i}.html") for i, h in enumerate(forms)]
            return results, paths

    results, paths = asyncio.run(main())
    assert all(r.ok and "公开页面" in r.content.decode() for r in results), [r.error for r in results]
    assert paths == ["/r0.html", "/r1.html", "/r2.html", "/r3.html"]


def test_redirects_to_other_hosts_private_addresses_and_schemes_are_not_followed():
    async def main():
        async with counting_server() as (port, connections, paths):
            base = f"http://127.0.0.1:{port}"
            targets = {
                "other_host": f"http://localhost:{port}/secret",  # same server, but not a configured host
                "mapped": f"http://[::ffff:127.0.0.1]:{port}/secret",
                "metadata": "http://169.254.169.254/latest/meta-data/",
                "file": "file:///etc/passwd",
                "ftp": f"ftp://127.0.0.1:{port}/secret",
                "gopher": f"gopher://127.0.0.1:{port}/_secret",
                "javascript": "javascript:alert(1)",
            }
            async with PoliteClient(cfg(True, respect_robots=False), [f"127.0.0.1:{port}"]) as client:
                out = {}
                for name, to in targets.items():
                    out[name] = await client.fetch(f"{base}/redirect?to={to}")
            return out, paths

    out, paths = asyncio.run(main())
    for name in ("other_host", "mapped", "metadata"):
        assert out[name].error is not None and ERR_OFF_HOST in out[name].error and "重定向目标" in out[name].error, name
    for name in ("file", "ftp", "gopher", "javascript"):
        assert out[name].error is not None and out[name].error.startswith(ERR_SCHEME), (name, out[name].error)
        assert out[name].content is None
    assert len(paths) == len(out) and all(p.startswith("/redirect?") for p in paths)  # no target was served


def test_a_configured_host_on_a_private_address_is_refused_at_every_hop():
    """Both hosts configured, the setting off: refused before the first request (the address is
    checked on every hop, the first one included)."""

    async def main():
        async with counting_server() as (port, connections, paths):
            async with PoliteClient(cfg(False, respect_robots=False), [f"127.0.0.1:{port}", f"localhost:{port}"]) as c:
                direct = await c.fetch(f"http://127.0.0.1:{port}/redirect?to=http://localhost:{port}/x")
            return direct, paths

    direct, paths = asyncio.run(main())
    assert direct.error is not None and "本机回环地址" in direct.error and paths == []


def test_one_lookup_and_the_connection_goes_to_the_checked_address(monkeypatch):
    """DNS rebinding: the name is resolved once, by the transport, and the connection is made to
    the address that was checked; the system resolver never sees the name again."""
    asked: list[str] = []
    system_lookups: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def spying_getaddrinfo(host, *args, **kwargs):
        system_lookups.append(host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", spying_getaddrinfo)

    async def resolver(host: str, port: int) -> list[tuple[int, str]]:
        asked.append(host)
        # A rebinding resolver would answer differently the next time; there is no next time.
        return [(socket.AF_INET, "127.0.0.1")] if len(asked) == 1 else [(socket.AF_INET, "10.9.9.9")]

    async def main():
        async with counting_server() as (port, connections, paths):
            import httpx

            async with httpx.AsyncClient(transport=PerOriginTransport(allow_private_addresses=True,
                                                                      resolver=resolver)) as client:
                for i in range(3):  # kept alive: one connection, one lookup
                    r = await client.get(f"http://rebind.invalid:{port}/p{i}")
                    assert r.status_code == 200
            return paths, list(connections)

    paths, connections = asyncio.run(main())
    assert asked == ["rebind.invalid"] and paths == ["/p0", "/p1", "/p2"] and len(connections) == 1
    assert "rebind.invalid" not in system_lookups


def test_every_address_of_an_answer_is_checked(monkeypatch):
    """A public address first and a private one after it (a classic bypass) is refused before any
    connection is attempted."""
    opened: list[tuple] = []

    async def no_connect(*args, **kwargs):
        opened.append(args)
        raise AssertionError("no connection may be attempted")

    monkeypatch.setattr(transport_mod.asyncio, "open_connection", no_connect)

    async def resolver(host: str, port: int) -> list[tuple[int, str]]:
        return [(socket.AF_INET, "93.184.216.34"), (socket.AF_INET, "127.0.0.1")]

    async def main():
        import httpx

        async with httpx.AsyncClient(transport=PerOriginTransport(resolver=resolver)) as client:
            with pytest.raises(transport_mod.ForbiddenAddress) as info:
                await client.get("http://mixed.invalid/")
            return str(info.value)

    message = asyncio.run(main())
    assert "mixed.invalid 解析到本机回环地址 127.0.0.1" in message and opened == []


def test_a_site_on_loopback_fails_with_a_reason_when_not_allowed(engine):
    from sqlmodel import select

    from db.engine import session
    from db.models import CrawlRun, Document

    async def main():
        async with counting_server() as (port, connections, paths):
            site = SiteConfig(name="本机站点", agency="某局", list_urls=[f"http://localhost:{port}/list.html"])
            results = await Crawler(cfg(False, check_workers=0), engine).run([site])
            return results, paths, connections

    (result,), paths, connections = asyncio.run(main())
    assert result.status == "failed" and paths == [] and connections == []
    assert any("本机回环地址" in e and "不允许抓取" in e for e in result.errors), result.errors
    with session(engine) as s:
        run = s.exec(select(CrawlRun)).one()
        assert run.status == "failed" and any("本机回环地址" in e for e in run.errors)
        assert s.exec(select(Document)).all() == []
