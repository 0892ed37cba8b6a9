"""scraper.inflate: a gzip or deflate body is inflated in bounded steps, exactly as httpx would
decode it, and a broken one is a decoding error."""

from __future__ import annotations

import asyncio
import gzip
import zlib

import httpx
import pytest

from scraper.inflate import STEP, body_pieces

PAGE = ("<html><body>" + "政府信息公开工作年度报告 " * 20_000 + "</body></html>").encode()


class Chunks(httpx.AsyncByteStream):
    def __init__(self, data: bytes, size: int = 65_536) -> None:
        self.data, self.size = data, size

    async def __aiter__(self):
        for start in range(0, len(self.data), self.size):
            yield self.data[start:start + self.size]


def pieces(data: bytes, coding: str | None) -> list[bytes]:
    headers = {"content-encoding": coding} if coding else {}
    resp = httpx.Response(200, headers=headers, stream=Chunks(data))

    async def read() -> list[bytes]:
        return [p async for p in body_pieces(resp)]

    return asyncio.run(read())


def raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


@pytest.mark.parametrize("coding,encode", [
    (None, lambda d: d), ("identity", lambda d: d), ("gzip", gzip.compress), ("x-gzip", gzip.compress),
    ("GZIP", gzip.compress), ("deflate", zlib.compress), ("deflate", raw_deflate),
])
def test_the_body_is_what_httpx_would_decode(coding, encode):
    encoded = encode(PAGE)
    got = pieces(encoded, coding)
    assert b"".join(got) == PAGE
    if coding != "x-gzip":  # httpx leaves x-gzip (RFC 9110's alias of gzip) undecoded
        assert httpx.Response(200, headers={"content-encoding": coding} if coding else {},
                              content=encoded).content == PAGE
    assert max(len(p) for p in got) <= max(STEP, 65_536)


def test_a_bomb_comes_in_steps():
    """200 MB of zeros, 200 KB compressed: read in pieces of at most STEP (httpx inflates a whole
    64 KiB read at once: 64 MB). The reader can stop after the first piece."""
    bomb = gzip.compress(b"\0" * (200 * 2**20), compresslevel=9)
    assert len(bomb) < 300_000
    resp = httpx.Response(200, headers={"content-encoding": "gzip"}, stream=Chunks(bomb))

    async def first_pieces() -> list[int]:
        sizes = []
        async for piece in body_pieces(resp):
            sizes.append(len(piece))
            if len(sizes) == 3:
                break
        return sizes

    sizes = asyncio.run(first_pieces())
    assert sizes == [STEP, STEP, STEP]
    assert sum(len(p) for p in pieces(bomb, "gzip")) == 200 * 2**20


def test_broken_and_other_codings():
    with pytest.raises(httpx.DecodingError):
        pieces(b"this is not gzip at all" * 100, "gzip")
    with pytest.raises(httpx.DecodingError):
        pieces(gzip.compress(PAGE)[:-8], "gzip")  # without its trailer
    assert pieces(b"", "gzip") == []  # an empty body said to be gzip-coded: empty, as httpx reads it
    # Two codings, or one the crawler never asks for: left to httpx as it is.
    twice = gzip.compress(gzip.compress(PAGE))
    assert b"".join(pieces(twice, "gzip, gzip")) == PAGE
    assert b"".join(pieces(PAGE, "br-unknown")) == PAGE
