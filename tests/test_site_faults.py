"""Hostile or broken sites (issue 7), each against a real server on 127.0.0.1.

A minimal HTTP/1.1 server written on asyncio streams serves each fault exactly as a broken site
sends it (a reset in the middle of a body, a body shorter than its Content-Length, no answer at
all, an endless chunked body, a trickle, 2 GB with and without a Content-Length, a 200 that is
an error page or a firewall's JavaScript challenge). What is checked: the fetch ends with a
Chinese reason, nothing is stored, the crawl goes on with the site's other pages and with the
other sites; the 2 GB bodies are streamed and refused with the crawler's memory flat (its peak
RSS, measured in a process of its own); a list page that suddenly names no report fails the
crawl with a reason, alerts through the sweep and makes no report missing.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import json
import socket
import ssl
import struct
import sys
import time
import zlib
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiohttp import web
from sqlmodel import col, select

from db import crawlstate
from db.engine import session
from db.models import Agency, Alert, CrawlRun, Document, HttpState, Subscriber, TrackedFinding
from scraper.crawl import Crawler
from scraper.http import PoliteClient
from scraper.soft_errors import error_page
from xxgk.config import CrawlerConfig, DeadlinesConfig, SiteConfig

REPO = Path(__file__).resolve().parent.parent
SAMPLE = (REPO / "samples" / "2021_东城区人社局_cms.html").read_bytes()
OTHER_SAMPLE = (REPO / "samples" / "2021_示例县政府_word.htm").read_bytes()
AGENCY = "示例市东城区人力资源和社会保障局"  # what SAMPLE names itself

GB2 = 2 * 1024 * 1024 * 1024
_BLOCK = b"\0" * (1024 * 1024)

NOT_FOUND_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>提示信息</title></head>
<body><div class="header">示例市人民政府门户网站</div><div class="main"><img src="/img/404.png">
<p>抱歉，您访问的页面不存在或已被删除！</p><a href="/">返回首页</a></div>
<div class="footer">主办：示例市人民政府办公室 ICP备案号：京ICP备00000000号</div></body></html>""".encode()
TITLE_404_PAGE = "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>".encode()
# A JavaScript cookie challenge as the anti-bot firewalls in front of many government sites send it.
CHALLENGE_PAGE = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body>
<script>document.cookie=('__jsl_clearance_s')+'='+(1700000000.123+'|0|'+'abc')+';max-age=3600;path=/';
location.href=location.pathname+location.search</script></body></html>""".encode()
GENERIC_CHALLENGE = b"""<html><body><script>var _0x1=['cookie','reload'];
document.cookie='wafcheck=' + (7*191) + '; path=/'; setTimeout(function(){location.reload()}, 500);
</script><noscript>Please enable JavaScript</noscript></body></html>"""
MAINTENANCE_PAGE = "<html><body><h2>系统正在维护，请稍后访问</h2></body></html>".encode()


# ---------------------------------------------------------------------------- the fault server


class Faults:
    """What the server sent: bytes per path, requests per path."""

    def __init__(self) -> None:
        self.sent: dict[str, int] = {}
        self.hits: list[str] = []
        self.pages: dict[str, bytes] = {}  # path -> a 200 text/html page (a list, a report)


@functools.cache
def _bomb() -> bytes:
    """A gzip bomb: 512 MB of zeros in about half a megabyte."""
    out = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return b"".join([*(out.compress(_BLOCK) for _ in range(512)), out.flush()])


def _head(status: str = "200 OK", **headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}"] + [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _fault(path: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, f: Faults) -> bool:
    """Serve one request; False when the connection is done."""
    name = path.split("?", 1)[0].rsplit("/", 1)[-1]
    sent = 0

    async def send(data: bytes) -> None:
        nonlocal sent
        writer.write(data)
        await writer.drain()
        sent += len(data)
        f.sent[path] = sent

    if name in ("reset.html", "reset.pdf"):  # a body cut by a TCP reset in the middle
        await send(_head(Content_Type="text/html; charset=utf-8", Content_Length="100000") + SAMPLE[:3000])
        await asyncio.sleep(0.05)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
        return False
    if name == "short.html":  # fewer bytes than Content-Length, then a clean close
        await send(_head(Content_Type="text/html; charset=utf-8", Content_Length=str(len(SAMPLE))) + SAMPLE[:2000])
        writer.close()
        return False
    if name == "hang.html":  # reads the request, never answers
        await asyncio.sleep(3600)
        return False
    if name in ("endless.html", "trickle.html"):  # an endless chunked body, fast or one byte at a time
        await send(_head(Content_Type="text/html; charset=utf-8", Transfer_Encoding="chunked"))
        block = b"<p>" + b"x" * 65530 + b"</p>" if name == "endless.html" else b"x"
        chunk = b"%x\r\n%s\r\n" % (len(block), block)
        while True:
            await send(chunk)
            if name == "trickle.html":
                await asyncio.sleep(0.05)
    if name in ("declared-2gb.pdf", "undeclared-2gb.pdf", "chunked-2gb.pdf"):
        if name == "declared-2gb.pdf":
            await send(_head(Content_Type="application/pdf", Content_Length=str(GB2)))
        elif name == "undeclared-2gb.pdf":  # no length: the body ends when the connection does
            await send(_head(Content_Type="application/pdf", Connection="close"))
        else:
            await send(_head(Content_Type="application/pdf", Transfer_Encoding="chunked"))
        block = _BLOCK if name != "chunked-2gb.pdf" else b"%x\r\n%s\r\n" % (len(_BLOCK), _BLOCK)
        for _ in range(GB2 // len(_BLOCK)):
            await send(block)
        return False
    if name in ("bomb.html", "gzipped.html", "broken-gzip.html"):  # Content-Encoding: gzip
        body = {"bomb.html": _bomb(), "gzipped.html": gzip.compress(SAMPLE),
                "broken-gzip.html": gzip.compress(SAMPLE)[:-8] + b"\0" * 8}[name]
        await send(_head(Content_Type="text/html; charset=utf-8", Content_Encoding="gzip",
                         Content_Length=str(len(body))) + body)
        return True
    soft = {"notfound.html": NOT_FOUND_PAGE, "title404.html": TITLE_404_PAGE, "challenge.html": CHALLENGE_PAGE,
            "generic-challenge.html": GENERIC_CHALLENGE, "maintenance.html": MAINTENANCE_PAGE}
    body = soft.get(name) or f.pages.get(path.split("?", 1)[0])
    if body is None:
        await send(_head("404 Not Found", Content_Length="0"))
        return True
    await send(_head(Content_Type="text/html; charset=utf-8", Content_Length=str(len(body))) + body)
    return True


@asynccontextmanager
async def fault_server(f: Faults, *, ssl_context: ssl.SSLContext | None = None):
    tasks: set[asyncio.Task] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tasks.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b"\r\n", 1)[0].split(b" ")[1].decode()
                f.hits.append(path)
                if not await _fault(path, reader, writer, f):
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError, OSError):
            pass
        finally:
            writer.transport.abort()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ssl_context)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def cfg(**overrides) -> CrawlerConfig:
    base = dict(per_host_delay_s=0, timeout_s=1.0, retries=0, backoff_s=0.01, respect_robots=False,
                allow_private_addresses=True, check_workers=0, max_response_mb=1, max_response_s=3)
    base.update(overrides)
    return CrawlerConfig(**base)


async def fetch_all(config: CrawlerConfig, paths: list[str], f: Faults | None = None):
    f = f or Faults()
    async with fault_server(f) as port:
        async with PoliteClient(config, [f"127.0.0.1:{port}"]) as client:
            out = {}
            for path in paths:
                started = time.monotonic()
                out[path] = (await client.fetch(f"http://127.0.0.1:{port}{path}"), time.monotonic() - started)
            return out, f


# ---------------------------------------------------------------------------- the client


def test_broken_bodies_end_with_a_reason_and_no_content():
    out, f = asyncio.run(fetch_all(cfg(retries=1), ["/reset.html", "/short.html", "/hang.html"]))
    reset, _ = out["/reset.html"]
    assert reset.content is None and reset.status is None
    assert reset.error is not None and ("连接中断" in reset.error or "提前断开" in reset.error), reset.error
    short, _ = out["/short.html"]
    assert short.content is None and short.error is not None and "服务器提前断开连接" in short.error
    hang, elapsed = out["/hang.html"]
    assert hang.content is None and hang.error is not None and "请求超时" in hang.error
    assert elapsed < 30  # the timeout fired (1 s, twice): no hang
    for res, _ in out.values():  # network trouble is retried once, as configured
        assert res.attempts == 2 and "已重试 1 次" in res.error


def test_gzip_bodies_are_inflated_in_steps_and_a_bomb_is_cut_at_the_size_cap():
    """A gzip bomb (512 MB in half a megabyte) is refused at the cap (1 MB here) after a few
    compressed kilobytes; a gzip-coded page reads as itself; a corrupted one is an error."""
    assert len(_bomb()) < 1024 * 1024  # built before the server is asked for it
    out, f = asyncio.run(fetch_all(cfg(), ["/bomb.html", "/gzipped.html", "/broken-gzip.html"]))
    bomb, _ = out["/bomb.html"]
    assert bomb.content is None and bomb.error is not None and bomb.error.startswith("响应过大（超过上限 1.0 MB")
    assert bomb.bytes_received < 256 * 1024  # compressed bytes read before the cap: a few network reads
    page, _ = out["/gzipped.html"]
    assert page.error is None and page.content == SAMPLE
    broken, _ = out["/broken-gzip.html"]
    assert broken.content is None and broken.error == "响应无法读取：DecodingError"


def test_endless_chunked_body_is_cut_at_the_size_cap_and_a_trickle_at_the_time_limit():
    out, f = asyncio.run(fetch_all(cfg(), ["/endless.html", "/trickle.html"]))
    endless, _ = out["/endless.html"]
    assert endless.content is None and endless.error is not None and endless.error.startswith("响应过大")
    assert f.sent["/endless.html"] < 20 * 1024 * 1024  # the server was stopped early
    trickle, elapsed = out["/trickle.html"]
    # every read gets a byte well within timeout_s: only the total limit (max_response_s) ends it
    assert trickle.content is None and trickle.error is not None and "下载超时" in trickle.error and "3 秒" in trickle.error
    assert 2.5 < elapsed < 30


async def _secret(request: web.Request) -> web.Response:
    return web.Response(text="secret")


def test_server_that_never_answers_over_tls_and_tls_errors(tmp_path):
    from tests.test_transport import _self_signed_cert

    cert_file, key_file, _ = _self_signed_cert(tmp_path)

    async def main():
        results = {}
        async def silent(reader, writer):  # accepts, never speaks (not even TLS)
            await asyncio.sleep(3600)

        silent_server = await asyncio.start_server(silent, "127.0.0.1", 0)
        silent_port = silent_server.sockets[0].getsockname()[1]
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_ctx.load_cert_chain(cert_file, key_file)
        app = web.Application()
        app.router.add_get("/{tail:.*}", _secret)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        tls = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ctx)
        plain = web.TCPSite(runner, "127.0.0.1", 0)
        await tls.start()
        await plain.start()
        tls_port, plain_port = (s._server.sockets[0].getsockname()[1] for s in (tls, plain))  # type: ignore[union-attr]
        try:
            hosts = [f"127.0.0.1:{p}" for p in (silent_port, tls_port, plain_port)]
            async with PoliteClient(cfg(retries=2, timeout_s=0.5), hosts) as client:
                for name, url in (("silent", f"https://127.0.0.1:{silent_port}/"),
                                  ("self_signed", f"https://127.0.0.1:{tls_port}/"),
                                  ("plain_as_tls", f"https://127.0.0.1:{plain_port}/")):
                    started = time.monotonic()
                    results[name] = (await client.fetch(url), time.monotonic() - started)
        finally:
            silent_server.close()
            await runner.cleanup()
        return results

    results = asyncio.run(main())
    silent, elapsed = results["silent"]
    assert silent.error is not None and "请求超时" in silent.error and elapsed < 30
    signed, _ = results["self_signed"]
    assert signed.content is None and signed.error is not None and signed.error.startswith("HTTPS 连接失败：证书验证失败")
    assert signed.attempts == 1  # a certificate does not get better in a second
    plain, _ = results["plain_as_tls"]
    assert plain.content is None and plain.error is not None and plain.error.startswith("HTTPS 连接失败：TLS 握手失败")
    assert plain.attempts == 1


CLIENT = r"""
import asyncio, json, sys, threading, time
import psutil
sys.path.insert(0, sys.argv[1])
from scraper.http import PoliteClient
from xxgk.config import CrawlerConfig

base = sys.argv[2]
cfg = CrawlerConfig(per_host_delay_s=0, timeout_s=20, retries=0, respect_robots=False, allow_private_addresses=True)
me = psutil.Process()
peak = [0]
def sample():  # the process's resident memory every 5 ms: its peak while a response streams in
    while True:
        peak[0] = max(peak[0], me.memory_info().rss)
        time.sleep(0.005)
threading.Thread(target=sample, daemon=True).start()

async def main():
    async with PoliteClient(cfg, [base.split("//", 1)[1]]) as client:
        warm = await client.fetch(base + "/page.html")
        assert warm.ok, warm.error
        out = {"results": {}}
        for path in sys.argv[3:]:
            time.sleep(0.05)
            before = peak[0] = me.memory_info().rss
            res = await client.fetch(base + path)
            time.sleep(0.05)
            out["results"][path] = {"error": res.error, "bytes": res.bytes_received, "before": before,
                                    "peak": peak[0], "content": res.content is not None}
    print(json.dumps(out))

asyncio.run(main())
"""


def test_two_gigabyte_responses_are_refused_with_memory_flat():
    """The crawler (default max_response_mb = 50) in a process of its own, its resident memory
    sampled every 5 ms while each 2 GB response streams in: declared (refused at the header), undeclared and
    chunked (streamed, cut at the cap)."""
    f = Faults()
    f.pages["/page.html"] = b"<html><body>ok</body></html>"
    paths = ["/declared-2gb.pdf", "/undeclared-2gb.pdf", "/chunked-2gb.pdf"]

    async def main():
        async with fault_server(f) as port:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", CLIENT, str(REPO), f"http://127.0.0.1:{port}", *paths,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await asyncio.wait_for(proc.communicate(), 300)
            assert proc.returncode == 0, err.decode()
            return json.loads(out)

    measured = asyncio.run(main())
    mb = 1024 * 1024
    report = {p: (r["error"], r["bytes"] // mb, r["before"] // mb, (r["peak"] - r["before"]) // mb)
              for p, r in measured["results"].items()}
    print(f"\nper response (error, MB received, RSS before MB, peak RSS growth MB): {report}")
    declared = measured["results"]["/declared-2gb.pdf"]
    assert declared["error"].startswith("响应过大（声明 2048.0 MB") and declared["bytes"] < mb
    for path in ("/undeclared-2gb.pdf", "/chunked-2gb.pdf"):
        r = measured["results"][path]
        assert r["error"].startswith("响应过大（超过上限 50.0 MB") and not r["content"]
        assert r["bytes"] < 60 * mb
        assert f.sent[path] < GB2 // 4  # the server was stopped far from its 2 GB
    # Memory: the body is held up to the cap (50 MB) and no more; 2 GB would be 2048.
    assert max(r["peak"] - r["before"] for r in measured["results"].values()) < 160 * mb


# ---------------------------------------------------------------------------- error pages


def test_error_pages_and_challenges_are_recognised_but_reports_are_not():
    for body in (NOT_FOUND_PAGE, TITLE_404_PAGE):
        assert "页面不存在" in error_page(body, "text/html")
    for body in (CHALLENGE_PAGE, GENERIC_CHALLENGE):
        assert "验证页面" in error_page(body, "text/html")
    assert "维护页面" in error_page(MAINTENANCE_PAGE, "text/html")
    assert error_page("<html><body>请开启JavaScript后访问本站</body></html>") is not None
    # Real content is never an error page, a report with "404" in its tables included.
    for sample in (REPO / "samples").iterdir():
        assert error_page(sample.read_bytes()) is None, sample.name
    with_404 = SAMPLE.replace(b"</body>", b"<p>404 Not Found 404</p></body>")
    assert error_page(with_404, "text/html") is None
    link_only = """<html><head><title>某局2021年政府信息公开工作年度报告</title></head><body>
    <h1>某局2021年政府信息公开工作年度报告</h1><p>发布时间：2022-01-20</p>
    <p>附件：<a href="/a.pdf">某局2021年政府信息公开工作年度报告.pdf</a></p></body></html>"""
    assert error_page(link_only) is None
    assert error_page(b"%PDF-1.7 \xff 404 Not Found") is None and error_page(b'{"articles": [], "total": 0}') is None


# ---------------------------------------------------------------------------- the crawler


TITLES = {
    "/good.html": "示例市东城区人力资源和社会保障局2021年度政府信息公开工作年度报告",
    "/reset.html": "示例市东城区人力资源和社会保障局2020年度政府信息公开工作年度报告",
    "/short.html": "示例市东城区人力资源和社会保障局2019年度政府信息公开工作年度报告",
    "/hang.html": "示例市东城区人力资源和社会保障局2018年度政府信息公开工作年度报告",
    "/notfound.html": "示例市东城区人力资源和社会保障局2017年度政府信息公开工作年度报告",
    "/challenge.html": "示例市东城区人力资源和社会保障局2016年度政府信息公开工作年度报告",
    "/endless.html": "示例市东城区人力资源和社会保障局2015年度政府信息公开工作年度报告",
    "/trickle.html": "示例市东城区人力资源和社会保障局2014年度政府信息公开工作年度报告",
    "/reset.pdf": "示例市东城区人力资源和社会保障局2013年度政府信息公开工作年度报告（附件）",
}


def list_page(titles: dict[str, str]) -> bytes:
    rows = "".join(f'<li><a href="{p}">{t}</a><span>2022-01-{10 + i:02d}</span></li>' for i, (p, t) in enumerate(titles.items()))
    return (f'<html><head><meta charset="utf-8"><title>政府信息公开年报</title></head><body>'
            f'<div class="nav"><a href="/about.html">关于我们</a></div>'
            f'<ul class="list">{rows}</ul></body></html>').encode()


def _documents(engine) -> dict[str, str]:
    with session(engine) as s:
        return {d.url: d.site for d in s.exec(select(Document)).all()}


def test_crawl_survives_every_fault_stores_only_real_reports_and_goes_on(engine):
    faulty, fine = Faults(), Faults()
    faulty.pages["/list.html"] = list_page(TITLES)
    faulty.pages["/good.html"] = SAMPLE
    fine.pages["/list.html"] = list_page({"/good.html": "示例县人民政府2021年度政府信息公开工作年度报告"})
    fine.pages["/good.html"] = OTHER_SAMPLE

    async def main():
        async with fault_server(faulty) as port_a, fault_server(fine) as port_b:
            sites = [SiteConfig(name="faulty", agency=AGENCY, list_urls=[f"http://127.0.0.1:{port_a}/list.html"]),
                     SiteConfig(name="fine", agency="示例县人民政府", list_urls=[f"http://127.0.0.1:{port_b}/list.html"])]
            first = await Crawler(cfg(), engine).run(sites)
            second = await Crawler(cfg(), engine).run(sites)
            return port_a, port_b, first, second

    started = time.monotonic()
    port_a, port_b, first, second = asyncio.run(main())
    assert time.monotonic() - started < 120
    a, b = first
    assert b.status == "ok" and b.reports_new == 1 and not b.errors
    assert a.status == "partial" and a.reports_new == 1
    errors = {e.split("：", 1)[0]: e for e in a.errors}
    base = f"http://127.0.0.1:{port_a}"
    expected = {
        "/reset.html": ("连接中断", "提前断开"), "/short.html": ("服务器提前断开连接",), "/hang.html": ("请求超时",),
        "/notfound.html": ("页面不存在", "未入库"), "/challenge.html": ("验证页面", "未入库"),
        "/endless.html": ("响应过大",), "/trickle.html": ("下载超时",), "/reset.pdf": ("连接中断", "提前断开"),
    }
    for path, words in expected.items():
        error = errors.get(base + path)
        assert error is not None and any(w in error for w in words), (path, a.errors)
    assert len(a.errors) == len(expected)
    # Only the two real reports are stored; the faulty pages are forgotten and fetched again.
    assert sorted(_documents(engine)) == sorted([f"{base}/good.html", f"http://127.0.0.1:{port_b}/good.html"])
    with session(engine) as s:
        states = {h.url: h for h in s.exec(select(HttpState)).all()}
        runs = s.exec(select(CrawlRun).order_by(CrawlRun.id)).all()
    for path in ("/notfound.html", "/challenge.html", "/short.html"):
        assert states[base + path].content_hash is None and states[base + path].etag is None
    assert faulty.hits.count("/notfound.html") == 2 and faulty.hits.count("/challenge.html") == 2
    assert [r.status for r in runs] == ["partial", "ok", "partial", "ok"]
    a2, b2 = second
    assert a2.reports_new == 0 and b2.reports_new == 0 and len(_documents(engine)) == 2


def test_a_list_page_that_is_a_challenge_fails_the_site_with_its_reason(engine):
    f = Faults()

    async def main():
        async with fault_server(f) as port:
            site = SiteConfig(name="waf", agency=AGENCY, list_urls=[f"http://127.0.0.1:{port}/challenge.html"])
            return (await Crawler(cfg(), engine).run([site]))[0]

    result = asyncio.run(main())
    assert result.status == "failed" and any("验证页面" in e for e in result.errors), result.errors
    with session(engine) as s:
        state = s.exec(select(HttpState)).all()
    assert all(h.etag is None and h.content_hash is None for h in state)


# ---------------------------------------------------------------------------- an emptied list


REDESIGNED = ('<html><head><meta charset="utf-8"><title>政府信息公开年报</title></head><body>'
              '<div class="nav"><a href="/about.html">关于我们</a></div>'
              '<div id="app"></div><script src="/static/js/app.3f2a.js"></script></body></html>').encode()


def test_an_emptied_list_alerts_and_makes_no_report_missing(engine):
    from compliance.sweep import sweep

    f = Faults()
    f.pages["/list.html"] = list_page({"/good.html": TITLES["/good.html"]})
    f.pages["/good.html"] = SAMPLE
    now = datetime.now(UTC)
    with session(engine) as s:  # the registry: the agency that publishes, and one that never has
        for name in (AGENCY, "示例市东城区从不发布局"):
            s.add(Agency(name=name, region_code="110101", region_name="示例市东城区", level="department",
                         registered=True, site="dongcheng"))
        s.add(Subscriber(name="运维", channel="console", created_at=now))

    async def crawl(port: int):
        site = SiteConfig(name="dongcheng", agency=AGENCY, list_urls=[f"http://127.0.0.1:{port}/list.html"])
        return (await Crawler(cfg(), engine).run([site]))[0]

    async def main():
        async with fault_server(f) as port:
            first = await crawl(port)
            f.pages["/list.html"] = REDESIGNED  # the site is redesigned: its list comes from a script now
            f.hits.clear()
            emptied = await crawl(port)
            hits = list(f.hits)
            again = await crawl(port)  # its validators were dropped: read anew, still emptied
            return first, emptied, hits, again

    first, emptied, hits, again = asyncio.run(main())
    assert first.status == "ok" and first.reports_new == 1
    for result in (emptied, again):
        assert result.status == "failed" and result.errors[0].startswith(crawlstate.LIST_EMPTIED_MARK)
        assert "此前列出 1 篇报告" in result.errors[0] and "抓取程序可能需要更新" in result.errors[0]
    assert hits == ["/list.html"]  # nothing else of the site was fetched

    # The first crawl happened before the 2021 reports' deadline; every crawl since found the list emptied.
    with session(engine) as s:
        runs = s.exec(select(CrawlRun).order_by(CrawlRun.id)).all()
        assert [r.status for r in runs] == ["ok", "failed", "failed"]
        assert crawlstate.is_list_emptied(runs[-1].status, runs[-1].errors)
        s.connection().execute(sa.update(CrawlRun.__table__).where(CrawlRun.__table__.c.id == runs[0].id)
                               .values(finished_at=datetime(2022, 1, 10, tzinfo=UTC)))
    result = sweep(engine, 2021, today=date(2022, 12, 31), now=now, deadlines=DeadlinesConfig())
    assert result.verdicts["missing_report"] == 0  # the emptied list proves nothing missing
    assert result.verdicts["site_unreachable"] == 1  # the agency that never published: cannot be judged
    assert result.verdicts["list_emptied"] == 2  # one per registered agency of the site
    with session(engine) as s:
        findings = s.exec(select(TrackedFinding).where(TrackedFinding.rule == "list_emptied")).all()
        alerts = s.exec(select(Alert).where(col(Alert.finding_id).in_([x.id for x in findings]))).all()
    assert all("站点“dongcheng”的列表页没有返回任何条目" in x.message and "抓取程序可能需要更新" in x.message
               for x in findings)
    assert len(alerts) == 2  # the alerts go to the subscribers, as every finding's do

    # The list is back: the next crawl succeeds and the sweep resolves the alert's finding.
    async def restored():
        async with fault_server(f) as port:
            f.pages["/list.html"] = list_page({"/good.html": TITLES["/good.html"]})
            return await crawl(port)

    assert asyncio.run(restored()).status == "ok"
    sweep(engine, 2021, today=date(2022, 12, 31), now=datetime.now(UTC), deadlines=DeadlinesConfig())
    with session(engine) as s:
        states = {x.state for x in s.exec(select(TrackedFinding).where(TrackedFinding.rule == "list_emptied")).all()}
    assert states == {"resolved"}
