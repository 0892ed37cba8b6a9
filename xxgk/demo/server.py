"""Serve demo `Site`s over real HTTP on loopback addresses only.

Each site gets its own address in 127.0.0.0/8 (127.0.0.2, 127.0.0.3, … – Linux routes the
whole block to the loopback interface), all on one port, so sites are distinct hosts for
per-host politeness. The server answers GET, HEAD and POST (the jcms dataproxy reads its
form), conditional GETs (If-None-Match / If-Modified-Since → 304 without a body), the
faults the pages carry (with per-URL counters, resettable), and logs every request with the
bytes of body sent.

    srv = DemoServer(default_sites()).start()     # background thread, for sync tests
    ...
    srv.stop()

    async with DemoServer(sites) as srv:          # in the running event loop
        ...
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import email.utils
import ipaddress
import logging
import resource
import socket
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from aiohttp import web

from xxgk.render import ReportSpec

from .model import CST, FailTimes, Huge, Page, RateLimited, Redirect, ReportTruth, Site, Slow

log = logging.getLogger(__name__)

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    time: float
    method: str
    site: str  # the site's name ("" for an address no site owns)
    host: str  # the address the request came in on
    path: str  # path and query as sent
    status: int
    bytes: int  # body bytes sent
    user_agent: str
    conditional: bool  # the request carried If-None-Match or If-Modified-Since


def check_loopback(address: str) -> str:
    """The address if it is an IPv4 literal in 127.0.0.0/8; ValueError otherwise (host
    names, 0.0.0.0, other interfaces and IPv6 included)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise ValueError(f"not an IP address: {address!r} (the demo server binds 127.x.y.z only)") from None
    if ip.version != 4 or ip not in LOOPBACK:
        raise ValueError(f"refusing to bind {address}: the demo server binds loopback addresses (127.x.y.z) only")
    return str(ip)


def loopback_addresses(n: int) -> list[str]:
    """n distinct addresses 127.0.0.2, 127.0.0.3, … 127.0.0.255, 127.0.1.1, … (y never 0)."""
    if n > 255 * 255:
        raise ValueError(f"at most {255 * 255} sites")
    out = []
    for i in range(n):
        k = i + 1  # 127.0.0.1 stays free for whatever else runs on the machine
        out.append(f"127.0.{k // 255}.{k % 255 + 1}")
    return out


def raise_fd_limit(needed: int) -> int:
    """Raise the soft RLIMIT_NOFILE to at least `needed` (up to the hard limit); the new
    soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            log.warning("could not raise the open-file limit from %s to %s", soft, target)
    return soft


def _canonical_query(raw: str) -> str:
    return urlencode(sorted(parse_qsl(raw, keep_blank_values=True)), safe="/")


class DemoServer:
    """Serves `sites`, one loopback address each, on one port.

    `addresses` (default 127.0.0.2 …) must all be in 127.0.0.0/8; `port` 0 picks a free one.
    `slow_delay` is how long pages with a `Slow()` fault wait (changeable at run time).
    With `warm`, the expensive attachments (.docx, .pdf, .doc) render in the background as
    soon as the server starts (`wait_warm()` waits for them)."""

    def __init__(
        self,
        sites: Iterable[Site],
        *,
        addresses: list[str] | None = None,
        port: int = 0,
        slow_delay: float = 2.0,
        warm: bool = True,
        backlog: int = 128,
    ) -> None:
        self.sites: list[Site] = list(sites)
        names = [s.name for s in self.sites]
        if len(set(names)) != len(names):
            raise ValueError("site names must be unique")
        if addresses is None:
            addresses = loopback_addresses(len(self.sites))
        if len(addresses) != len(self.sites):
            raise ValueError(f"{len(addresses)} addresses for {len(self.sites)} sites")
        self.addresses = [check_loopback(a) for a in addresses]
        if len(set(self.addresses)) != len(self.addresses):
            raise ValueError("addresses must be distinct")
        self._by_name = {s.name: s for s in self.sites}
        self._by_addr = dict(zip(self.addresses, self.sites))
        self._addr_of = dict(zip(names, self.addresses))
        self.port = port
        self.slow_delay = slow_delay
        self.warm_on_start = warm
        self.backlog = backlog
        self.requests: list[LoggedRequest] = []
        self._counters: dict[tuple[str, str], int] = {}
        self._runner: web.AppRunner | None = None
        self._sockets: list[socket.socket] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._warmed = threading.Event()
        self._warmed.set()

    # ---- addresses ----

    def site(self, name: str) -> Site:
        return self._by_name[name]

    def address(self, name: str) -> str:
        return self._addr_of[name]

    def base_url(self, name: str) -> str:
        """"http://127.0.x.y:PORT" of a site (the server must be started)."""
        if not self.port:
            raise RuntimeError("the server is not started")
        return f"http://{self._addr_of[name]}:{self.port}"

    def url(self, name: str, path: str) -> str:
        """The absolute URL of a path (or path?query) on a site."""
        return self.base_url(name) + path

    # ---- the log ----

    @property
    def bytes_sent(self) -> int:
        return sum(r.bytes for r in self.requests)

    def reset_log(self) -> None:
        self.requests.clear()

    def reset_faults(self) -> None:
        """Start every fault's request counter afresh (500-500-200 and 429-200 again)."""
        self._counters.clear()

    def requests_to(self, name: str, path: str | None = None) -> list[LoggedRequest]:
        return [r for r in self.requests if r.site == name and (path is None or r.path == path)]

    # ---- changes at run time ----

    def _on_loop(self, fn: Callable, *args, **kwargs):
        loop = self._loop
        if loop is None or not loop.is_running() or self._thread is None or threading.current_thread() is self._thread:
            return fn(*args, **kwargs)

        async def call():
            return fn(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(call(), loop).result(60)

    def add_report(
        self, name: str, spec: ReportSpec, *, published: dt.datetime | None = None, title: str | None = None
    ) -> ReportTruth:
        """Publish a new inline report on a site (article page + first row of its list)."""
        return self._on_loop(self.site(name).add_report, spec, published=published, title=title)

    def change_report(
        self,
        name: str,
        report: ReportTruth | str,
        change: ReportSpec | Callable[[ReportSpec], None],
        *,
        modified: dt.datetime | None = None,
    ) -> ReportTruth:
        """Change a published report's content: `change` is the new spec, or a function that
        edits a copy of the current one. Same URL and publication date; new bytes, ETag and
        Last-Modified (now, unless `modified` is given)."""
        site = self.site(name)
        truth = report if isinstance(report, ReportTruth) else site.report_at(report)
        if isinstance(change, ReportSpec):
            spec = change
        else:
            spec = copy.deepcopy(truth.spec)
            change(spec)
        return self._on_loop(site.change_report, truth, spec, modified=modified)

    # ---- lifecycle ----

    def _bind(self) -> list[socket.socket]:
        raise_fd_limit(len(self.addresses) + 4096)
        for _attempt in range(10):
            socks: list[socket.socket] = []
            port = self.port
            try:
                for addr in self.addresses:
                    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    socks.append(s)
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    s.bind((addr, port))
                    port = s.getsockname()[1]
                    s.listen(self.backlog)
                    s.setblocking(False)
                self.port = port
                return socks
            except OSError:
                for s in socks:
                    s.close()
                if self.port:  # a fixed port that is taken: give up
                    raise
        raise OSError("could not find a port free on every address")

    async def _astart(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="xxgk-demo-render")
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        self._sockets = self._bind()
        for sock in self._sockets:
            await web.SockSite(self._runner, sock, backlog=self.backlog).start()
        if self.warm_on_start:
            self._warmed.clear()
            threading.Thread(target=self._warm_all, name="xxgk-demo-warm", daemon=True).start()

    async def _astop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for sock in self._sockets:
            sock.close()
        self._sockets = []
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def _warm_all(self) -> None:
        try:
            pages = [p for s in self.sites for p in list(s.pages.values()) if p.expensive and not p.ready]
            with ThreadPoolExecutor(max_workers=3, thread_name_prefix="xxgk-demo-warm") as pool:
                for future in [pool.submit(p.data) for p in pages]:
                    try:
                        future.result()
                    except Exception:  # the request that needs it will report the error
                        log.warning("pre-rendering a demo attachment failed", exc_info=True)
        finally:
            self._warmed.set()

    def prerender(self) -> int:
        """Render every lazily rendered page now (blocking), e.g. before a benchmark's timed
        part; the number of pages rendered. Costs memory: ~25 KB per report page."""
        pages = [p for s in self.sites for p in list(s.pages.values()) if not p.ready]
        with ThreadPoolExecutor(max_workers=3, thread_name_prefix="xxgk-demo-prerender") as pool:
            list(pool.map(Page.data, pages))
        return len(pages)

    def wait_warm(self, timeout: float | None = None) -> bool:
        """Wait until the background rendering of attachments is done; False on timeout."""
        return self._warmed.wait(timeout)

    def start(self) -> DemoServer:
        """Start serving in a background thread with its own event loop."""
        if self._thread is not None:
            raise RuntimeError("already started")
        loop = asyncio.new_event_loop()
        self._loop = loop
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(started.set)
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="xxgk-demo-server", daemon=True)
        self._thread.start()
        started.wait()
        try:
            asyncio.run_coroutine_threadsafe(self._astart(), loop).result(120)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._astop(), loop).result(60)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(30)
            loop.close()
            self._loop = None
            self._thread = None

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    async def __aenter__(self) -> DemoServer:
        self._loop = asyncio.get_running_loop()
        await self._astart()
        return self

    async def __aexit__(self, *exc) -> None:
        await self._astop()
        self._loop = None

    # ---- serving ----

    def _lookup(self, site: Site, path: str, raw_query: str, method: str, query: dict, form: dict, base: str
                ) -> tuple[str, Page | None]:  # fmt: skip
        key = f"{path}?{raw_query}" if raw_query else path
        page = site.pages.get(key)
        if page is None and raw_query:
            canonical = f"{path}?{_canonical_query(raw_query)}"
            page = site.pages.get(canonical)
            if page is not None:
                key = canonical
        if page is None and path in site.dynamic:
            return key, site.dynamic[path](method, query, form, base)
        if page is None and raw_query:
            page = site.pages.get(path)
            key = path
        return key, page

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        started = time.time()
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        addr = sockname[0] if sockname else ""
        site = self._by_addr.get(addr)
        rel = request.rel_url
        shown = rel.raw_path + (f"?{rel.raw_query_string}" if rel.raw_query_string else "")
        conditional = "If-None-Match" in request.headers or "If-Modified-Since" in request.headers
        status, sent = 500, 0
        try:
            response = await self._respond(request, site, addr)
            status = response.status
            sent = _body_bytes(request, response)
            return response
        except (ConnectionResetError, asyncio.CancelledError):
            status = 499  # the client went away
            raise
        finally:
            self.requests.append(LoggedRequest(
                started, request.method, site.name if site else "", addr, shown, status, sent,
                request.headers.get("User-Agent", ""), conditional,
            ))  # fmt: skip

    async def _respond(self, request: web.Request, site: Site | None, addr: str) -> web.StreamResponse:
        if site is None:
            return web.Response(status=421, text="Misdirected Request")
        method = request.method
        if method not in ("GET", "HEAD", "POST"):
            return web.Response(status=405, headers={"Allow": "GET, HEAD, POST"})
        rel = request.rel_url
        query = {k: v for k, v in rel.query.items()}
        form: dict[str, str] = {}
        if method == "POST":
            posted = await request.post()
            form = {k: v for k, v in posted.items() if isinstance(v, str)}
        base = f"http://{addr}:{self.port}"
        key, page = self._lookup(site, rel.path, rel.raw_query_string, method, query, form, base)
        if page is None:
            return _error(404, "404 Not Found", "您访问的页面不存在或已被删除。")
        if method == "POST" and rel.path not in site.dynamic:
            return web.Response(status=405, headers={"Allow": "GET, HEAD"})

        count = self._counters.get((site.name, key), 0) + 1
        self._counters[(site.name, key)] = count
        for fault in page.faults:
            if isinstance(fault, Redirect):
                return web.Response(status=fault.status, headers={"Location": fault.location})
            if isinstance(fault, FailTimes) and count <= fault.times:
                return _error(fault.status, f"{fault.status} Internal Server Error", "服务器内部错误。")
            if isinstance(fault, RateLimited) and count <= fault.times:
                response = _error(429, "429 Too Many Requests", "访问过于频繁，请稍后再试。")
                response.headers["Retry-After"] = str(fault.retry_after)
                return response
            if isinstance(fault, Slow):
                await asyncio.sleep(self.slow_delay if fault.delay is None else fault.delay)

        headers = {"ETag": page.etag, "Last-Modified": page.last_modified_header, **page.headers}
        if method in ("GET", "HEAD") and _not_modified(request, page):
            return web.Response(status=304, headers=headers)
        huge = page.fault(Huge)
        if huge is not None:
            return await self._stream_huge(request, huge, page, headers)
        if page.ready or not page.expensive:  # HTML renders in a few ms: no thread hop
            data = page.data()
        else:  # .docx/.pdf/.doc take up to seconds: off the loop
            data = await asyncio.get_running_loop().run_in_executor(self._executor, page.data)
        headers["Content-Type"] = page.content_type_header
        return web.Response(body=data, headers=headers)

    async def _stream_huge(self, request: web.Request, huge: Huge, page: Page, headers: dict) -> web.StreamResponse:
        response = web.StreamResponse(headers={**headers, "Content-Type": page.content_type_header})
        response.content_length = huge.size
        await response.prepare(request)
        response.bytes_streamed = 0  # type: ignore[attr-defined]
        if request.method == "HEAD":
            await response.write_eof()
            return response
        filler = (b"% scanned page data " + b"0123456789abcdef" * 4 + b"\n") * (_CHUNK // 85 + 1)
        sent = 0
        try:
            head = huge.head[: huge.size]
            await response.write(head)
            sent = len(head)
            while sent < huge.size:
                chunk = filler[: min(_CHUNK, huge.size - sent)]
                await response.write(chunk)
                sent += len(chunk)
            await response.write_eof()
        except (ConnectionError, RuntimeError):
            pass  # the client stopped reading (a size cap): fine
        response.bytes_streamed = sent  # type: ignore[attr-defined]
        return response


def _not_modified(request: web.Request, page: Page) -> bool:
    inm = request.headers.get("If-None-Match")
    if inm is not None:
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or page.etag in tags
    ims = request.headers.get("If-Modified-Since")
    if ims:
        try:
            since = email.utils.parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.timezone.utc)
        modified = page.last_modified.replace(tzinfo=CST)
        return modified <= since
    return False


_ERROR_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>'
    '<body><h1>{title}</h1><p>{text}</p></body></html>'
)


def _error(status: int, title: str, text: str) -> web.Response:
    return web.Response(status=status, body=_ERROR_PAGE.format(title=title, text=text).encode("utf-8"),
                        content_type="text/html", charset="utf-8")


def _body_bytes(request: web.Request, response: web.StreamResponse) -> int:
    """Body bytes sent: none for HEAD and 304, the streamed count for streams."""
    if request.method == "HEAD" or response.status == 304:
        return 0
    if isinstance(response, web.Response):
        body = response.body
        return len(body) if isinstance(body, (bytes, bytearray)) else 0
    return getattr(response, "bytes_streamed", 0)
