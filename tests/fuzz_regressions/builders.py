"""Documents built to hurt, and the real seed documents the fuzzers mutate.

Shared by tests/test_fuzz_readers.py, tests/test_hostile_docs.py and fuzz/readers_atheris.py.
Everything is built in memory from the shared corpus and the project's own renderers.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from functools import cache
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
REGRESSIONS = Path(__file__).resolve().parent

# ---------------------------------------------------------------- seeds


@cache
def seed_texts() -> tuple[str, ...]:
    """The five real seed reports (one-cell-per-line and tab-separated text)."""
    from conftest import SEEDS

    return tuple(seed.read_text(encoding="utf-8") for seed in SEEDS)


@cache
def rendered(fmt: str, seed_no: int = 0) -> bytes:
    """Seed `seed_no` rendered by xxgk.render in `fmt` (cms_html, word_html, docx, pdf, flat_text, tsv)."""
    from conftest import SEEDS, expected_for
    from xxgk.demo.content import seed_body
    from xxgk.render import render, spec_from_expected

    seed = SEEDS[seed_no]
    spec = spec_from_expected(expected_for(seed), seed_body(seed.read_text(encoding="utf-8"), str(seed)))
    return render(spec, fmt)


def regression_files() -> list[Path]:
    """Inputs that once crashed or hung a reader, kept as files (name.ext as found)."""
    return sorted(p for p in REGRESSIONS.iterdir() if p.is_file() and p.suffix not in (".py", ".pyc", ".md"))


# ---------------------------------------------------------------- raw PDFs


def raw_pdf(objects: list[bytes], root: int = 1) -> bytes:
    """A PDF of the given object bodies (object i+1 is objects[i]) with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    return bytes(out)


def pdf_stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


TEXT_CONTENT = b"BT /F1 12 Tf 72 720 Td (2021 Annual Report) Tj ET"


def pdf_with_pages(n_pages: int, content: bytes = TEXT_CONTENT, stream_attrs: bytes = b"",
                   extra_objects: list[bytes] | None = None, resources: bytes = b"") -> bytes:
    """`n_pages` pages that all draw one content stream (object 4): a small file, however many
    pages. Objects: 1 catalog, 2 page tree, 3 Helvetica, 4 the content, then extra_objects,
    then the pages."""
    extra = extra_objects or []
    first_page = 5 + len(extra)
    kids = b" ".join(b"%d 0 R" % (first_page + i) for i in range(n_pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n_pages),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        pdf_stream(content, stream_attrs),
        *extra,
    ]
    page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> %s >> /Contents 4 0 R >>" % resources)
    objects += [page] * n_pages
    return raw_pdf(objects)


def dense_page_content(rows: int = 40) -> bytes:
    """A ruled table of `rows` rows of numbers: what makes pdfplumber work hardest per page."""
    parts = []
    for r in range(rows):
        y = 700 - r * 16
        parts.append(b"72 %d m 540 %d l S" % (y, y))
        parts.append(b"BT /F1 9 Tf 74 %d Td (row %d 1 2 3 4 5 6 7 8 9 10 11 12 13) Tj ET" % (y - 12, r))
    for c in range(10):
        x = 72 + c * 52
        parts.append(b"%d 700 m %d 60 l S" % (x, x))
    return b"\n".join(parts)


def slow_pdf(pages: int = 1500) -> bytes:
    """A 240 KB PDF that takes pdfplumber minutes: 1,500 pages (under the page limit), each
    a dense ruled table (the pages share one content stream)."""
    return pdf_with_pages(pages, dense_page_content())


def _raw_deflated_zeros(size: int) -> tuple[bytes, int, int]:
    """Raw deflate of `size` zero bytes (a multiple of 1 MB), its CRC-32 and Adler-32, built in a
    second: one fully flushed 1 MB block (independent of what came before) repeated."""
    mb = 1 << 20
    chunk = b"\0" * mb
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    crc, adler = 0, 1
    for _ in range(size // mb):
        crc = zlib.crc32(chunk, crc)
        adler = zlib.adler32(chunk, adler)
    return block * (size // mb) + c.flush(), crc, adler


def deflated_zeros(size: int) -> bytes:
    """`size` zero bytes (a multiple of 1 MB) in zlib format: about size/1000 bytes."""
    raw, _, adler = _raw_deflated_zeros(size)
    return b"\x78\xda" + raw + adler.to_bytes(4, "big")


def pdf_deflate_bomb(size: int = 1 << 30) -> bytes:
    """A page whose content stream inflates to `size` bytes (1 GB from 1 MB)."""
    return pdf_with_pages(1, deflated_zeros(size), b"/Filter /FlateDecode")


def pdf_object_stream_bomb(size: int = 1 << 30) -> bytes:
    """The page tree lives in an object stream (/Type /ObjStm, PDF 1.5) that inflates to `size`
    bytes; the cross-reference stream points into it, so reading the catalog's /Pages inflates it."""
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    offsets[1] = len(out)
    out += b"1 0 obj\n<< /Type /Catalog /Pages 3 0 R >>\nendobj\n"
    offsets[2] = len(out)
    out += b"2 0 obj\n" + pdf_stream(deflated_zeros(size), b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode") \
        + b"\nendobj\n"
    xref_at = len(out)
    # Rows (type, field 2, field 3) with widths 1, 4, 2: free 0, objects 1 and 2 at offsets,
    # object 3 the first in object stream 2, object 4 this xref stream.
    rows = [(0, 0, 0xFFFF), (1, offsets[1], 0), (1, offsets[2], 0), (2, 2, 0), (1, xref_at, 0)]
    table = b"".join(t.to_bytes(1, "big") + a.to_bytes(4, "big") + b.to_bytes(2, "big") for t, a, b in rows)
    out += b"4 0 obj\n" + pdf_stream(table, b"/Type /XRef /Size 5 /W [1 4 2] /Root 1 0 R") + b"\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def pdf_corrupted_checksum(size: int = 4 << 20) -> bytes:
    """A page whose deflated content stream (`size` bytes of hex in a comment, barely
    compressible) has a wrong Adler-32: pdfminer's byte-by-byte fallback takes minutes."""
    import random

    noise = random.Random(7).randbytes(size // 2).hex().encode()
    data = zlib.compress(TEXT_CONTENT + b"\n%" + noise + b"\n")
    return pdf_with_pages(1, data[:-4] + bytes(4), b"/Filter /FlateDecode")


def pdf_text_flood(lines: int = 300_000) -> bytes:
    """A 30 KB PDF whose one page draws 300,000 text runs (10 MB of content, deflated)."""
    content = zlib.compress(b"BT /F1 12 Tf 72 720 Td (x) Tj ET\n" * lines)
    return pdf_with_pages(1, content, b"/Filter /FlateDecode")


def pdf_form_bomb(depth: int = 6, fanout: int = 10) -> bytes:
    """Form XObjects drawing each other `fanout` times, `depth` levels deep: a few KB that draw
    fanout**depth characters (a million)."""
    # Objects 5.. are forms; form i draws form i+1 fanout times; the last draws one character.
    forms = []
    n = depth
    for level in range(n):
        if level == n - 1:
            body = TEXT_CONTENT
            res = b"/Resources << /Font << /F1 3 0 R >> >>"
        else:
            body = b" ".join([b"/X%d Do" % (level + 1)] * fanout)
            res = b"/Resources << /XObject << /X%d %d 0 R >> /Font << /F1 3 0 R >> >>" % (level + 1, 6 + level)
        forms.append(pdf_stream(body, b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] " + res))
    return pdf_with_pages(1, b"/X0 Do", extra_objects=forms, resources=b"/XObject << /X0 5 0 R >>")


# ---------------------------------------------------------------- ZIP packages


def zip_of(entries: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


_CONTENT_TYPES = (b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                  b'<Default Extension="xml" ContentType="application/xml"/></Types>')


def zip_with_raw(entries: list[tuple[str, bytes, int, int]]) -> bytes:
    """A ZIP of (name, raw deflate data, CRC-32, uncompressed size) entries, written by hand so
    that gigabyte entries need not be compressed first."""
    out = bytearray()
    central = bytearray()
    for name, raw, crc, size in entries:
        encoded = name.encode()
        header = (b"PK\x03\x04" + (20).to_bytes(2, "little") + b"\0\0" + (8).to_bytes(2, "little") + b"\0\0\0\0"
                  + crc.to_bytes(4, "little") + len(raw).to_bytes(4, "little") + size.to_bytes(4, "little")
                  + len(encoded).to_bytes(2, "little") + b"\0\0")
        central += (b"PK\x01\x02" + (20).to_bytes(2, "little") + header[4:30] + b"\0\0" * 3 + b"\0" * 4
                    + len(out).to_bytes(4, "little") + encoded)
        out += header + encoded + raw
    start = len(out)
    out += central
    out += (b"PK\x05\x06" + b"\0" * 4 + len(entries).to_bytes(2, "little") * 2 + len(central).to_bytes(4, "little")
            + start.to_bytes(4, "little") + b"\0\0")
    return bytes(out)


def _deflated_entry(name: str, data: bytes) -> tuple[str, bytes, int, int]:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return name, c.compress(data) + c.flush(), zlib.crc32(data), len(data)


def _report_parts_but(name: str) -> list[tuple[str, bytes, int, int]]:
    with zipfile.ZipFile(io.BytesIO(rendered("docx"))) as zf:
        return [_deflated_entry(info.filename, zf.read(info)) for info in zf.infolist() if info.filename != name]


def docx_declared_bomb(size: int = 1 << 30) -> bytes:
    """The seed .docx whose word/document.xml is declared (honestly) as `size` zero bytes: 1 GB in 1 MB."""
    raw, crc, _ = _raw_deflated_zeros(size)
    return zip_with_raw(_report_parts_but("word/document.xml") + [("word/document.xml", raw, crc, size)])


def docx_undeclared_bomb(real_size: int = 1 << 30) -> bytes:
    """The seed .docx whose word/document.xml declares 2 KB (and a CRC) but inflates to `real_size`."""
    raw, crc, _ = _raw_deflated_zeros(real_size)
    return zip_with_raw(_report_parts_but("word/document.xml") + [("word/document.xml", raw, crc, 2048)])


def docx_many_entries(n: int = 200_000) -> bytes:
    """A package of `n` empty entries (a ZipInfo each when listed): about 100 bytes per entry."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("word/document.xml", b"<w:document/>")
        for i in range(n):
            zf.writestr(f"word/media/{i}", b"")
    return buf.getvalue()


def docx_nested_bomb(levels: int = 3, fanout: int = 8, leaf: int = 64 << 20) -> bytes:
    """42.zip-style: a .docx whose parts are zips of zips of `leaf`-byte bombs. Each level is
    small; fully unpacked it is fanout**levels * leaf bytes (32 GB)."""
    inner = zip_of([("zeros.bin", b"\0" * leaf)])
    for _ in range(levels - 1):
        inner = zip_of([(f"{i}.zip", inner) for i in range(fanout)])
    report = rendered("docx")
    with zipfile.ZipFile(io.BytesIO(report)) as zf:
        parts = [(info.filename, zf.read(info)) for info in zf.infolist()]
    return zip_of(parts + [(f"word/embeddings/{i}.zip", inner) for i in range(fanout)])


def docx_billion_laughs() -> bytes:
    """word/document.xml with nested entity definitions (an XML bomb)."""
    lol = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                      for i in range(1, 10))
           + b']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
             b"<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>")
    report = rendered("docx")
    with zipfile.ZipFile(io.BytesIO(report)) as zf:
        parts = [(info.filename, lol if info.filename == "word/document.xml" else zf.read(info))
                 for info in zf.infolist()]
    return zip_of(parts)


def deep_html(depth: int = 100_000, tag: str = "div") -> bytes:
    return ("<html><body>" + f"<{tag}>" * depth + "2021年政府信息公开工作年度报告" + f"</{tag}>" * depth
            + "</body></html>").encode()


def ole2_exe_like(size: int = 4096) -> bytes:
    """A Windows executable's bytes (MZ header, PE signature) — renamed .doc by the tests."""
    head = bytearray(b"MZ" + b"\x90\x00" + b"\x00" * 56)
    head[0x3C:0x40] = (64).to_bytes(4, "little")
    return bytes(head) + b"PE\x00\x00" + bytes(range(256)) * (size // 256)
