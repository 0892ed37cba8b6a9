"""PerOriginTransport against real servers on 127.0.0.1: one kept-alive connection per origin,
idle pools closed beyond the limit, pools with a request in flight never closed, TLS on its
asyncio streams, and network errors raised as httpx's."""

from __future__ import annotations

import asyncio
import socket
import ssl

import httpx
import pytest
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
        transport = PerOriginTransport(max_pools=8, allow_private_addresses=True)
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
        transport = PerOriginTransport(max_pools=2, allow_private_addresses=True)
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


def _self_signed_cert(tmp_path):
    """A certificate for 127.0.0.1 and its key, as PEM files, and the certificate's PEM text."""
    import datetime as dt
    import ipaddress

    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return tmp_path / "cert.pem", tmp_path / "key.pem", cert_pem.decode("ascii")


def test_https_on_asyncio_streams_keeps_one_connection_and_refuses_untrusted_certificates(tmp_path) -> None:
    cert_file, key_file, cert_pem = _self_signed_cert(tmp_path)

    async def main() -> None:
        seen: set[int] = set()

        async def page(request: web.Request) -> web.Response:
            seen.add(request.transport.get_extra_info("peername")[1])  # type: ignore[union-attr]
            return web.Response(text="正文" * 5000)  # a body of several reads

        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_ctx.load_cert_chain(cert_file, key_file)
        app = web.Application()
        app.router.add_get("/{tail:.*}", page)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ctx)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            trusting = PerOriginTransport(verify=ssl.create_default_context(cadata=cert_pem),
                                          allow_private_addresses=True)
            async with httpx.AsyncClient(transport=trusting) as client:
                for i in range(3):
                    r = await client.get(f"https://127.0.0.1:{port}/{i}")
                    assert r.status_code == 200 and r.text == "正文" * 5000
            assert len(seen) == 1  # kept alive over TLS
            async with httpx.AsyncClient(transport=PerOriginTransport(allow_private_addresses=True)) as client:  # the system's CAs
                with pytest.raises(httpx.ConnectError):
                    await client.get(f"https://127.0.0.1:{port}/")
        finally:
            await runner.cleanup()

    asyncio.run(main())


def test_network_errors_are_httpx_errors() -> None:
    async def main() -> None:
        async def hang_up(request: web.Request) -> web.StreamResponse:
            assert request.transport is not None
            request.transport.close()  # no response at all
            return web.Response()

        async def slow(request: web.Request) -> web.Response:
            await asyncio.sleep(1)
            return web.Response(text="late")

        app = web.Application()
        app.router.add_get("/hang-up", hang_up)
        app.router.add_get("/slow", slow)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        free = socket.socket()
        free.bind(("127.0.0.1", 0))
        closed_port = free.getsockname()[1]
        free.close()  # nothing listens there
        try:
            async with httpx.AsyncClient(transport=PerOriginTransport(allow_private_addresses=True), timeout=0.2) as client:
                with pytest.raises(httpx.ConnectError):
                    await client.get(f"http://127.0.0.1:{closed_port}/")
                with pytest.raises(httpx.RemoteProtocolError):
                    await client.get(f"http://127.0.0.1:{port}/hang-up")
                with pytest.raises(httpx.ReadTimeout):
                    await client.get(f"http://127.0.0.1:{port}/slow")
                assert (await client.get(f"http://127.0.0.1:{port}/missing")).status_code == 404
        finally:
            await runner.cleanup()

    asyncio.run(main())
