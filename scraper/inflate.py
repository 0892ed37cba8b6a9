"""A response body decoded in bounded steps.

httpx decodes a compressed body one network read at a time (64 KiB) and inflates each read
whole: a gzip bomb inflates about 1,000-fold, so one read of 64 KiB can become 64 MB in memory
before the crawler's size cap sees any of it, and each concurrent fetch may hold one. Here the
raw body is read in small pieces and inflated with zlib's `max_length`, at most STEP bytes at a
time, so the cap is checked every STEP bytes and memory past the cap stays within one step.

The crawler asks for "gzip, deflate" only; a body in any other coding (or in several) is left to
httpx's own decoders.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator

import httpx

RAW_PIECE = 16 * 1024  # compressed bytes fed to zlib at a time
STEP = 1024 * 1024  # decoded bytes produced at a time, at most

_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


def _coding(resp: httpx.Response) -> str | None:
    """"gzip" / "deflate" / "" (none); None for codings left to httpx."""
    values = [v.strip().lower() for v in resp.headers.get_list("content-encoding", split_commas=True)]
    values = [v for v in values if v and v != "identity"]
    if not values:
        return ""
    if len(values) == 1 and values[0] in _WBITS:
        return values[0]
    return None


async def body_pieces(resp: httpx.Response) -> AsyncIterator[bytes]:
    """The decoded body of `resp` (opened as a stream), in pieces of at most STEP bytes when the
    body is gzip- or deflate-coded or not coded at all."""
    coding = _coding(resp)
    if coding is None:
        async for chunk in resp.aiter_bytes():
            yield chunk
        return
    if coding == "":
        async for chunk in resp.aiter_raw(RAW_PIECE):
            yield chunk
        return
    wbits = _WBITS[coding]
    inflater = zlib.decompressobj(wbits)
    first = True  # nothing inflated yet (an empty body stays empty)
    async for raw in resp.aiter_raw(RAW_PIECE):
        data = raw
        while data:
            try:
                out = inflater.decompress(data, STEP)
            except zlib.error as exc:
                if first and coding == "deflate" and wbits > 0:
                    # "deflate" as many servers send it: a raw stream without the zlib header.
                    wbits = -zlib.MAX_WBITS
                    inflater = zlib.decompressobj(wbits)
                    continue
                raise httpx.DecodingError(str(exc)) from exc
            first = False
            data = inflater.unconsumed_tail
            if out:
                yield out
            if inflater.eof:
                return  # trailing bytes after the stream are ignored, as httpx does
    try:
        tail = inflater.flush()
    except zlib.error as exc:
        raise httpx.DecodingError(str(exc)) from exc
    if tail:
        yield tail
    if not first and not inflater.eof:  # the compressed stream was cut short: half a document is no document
        raise httpx.DecodingError("compressed body ends before its end of stream")
