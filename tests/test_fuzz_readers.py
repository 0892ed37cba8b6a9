"""Fuzzing the report readers (issue 7): whatever the bytes, reading ends with a Document or a
clear ReadError, and checking a Document ends with a Report or NotAReport.

The inputs are the real seed reports (both text layouts) and the project's own renderings of
them (CMS and Word HTML, .docx, PDF), mutated by hypothesis: text edits that keep the encoding
valid, structural edits of the .docx XML, byte edits of every format, and random bytes behind
each format's magic number. A reader's crash that `read_bytes` had to catch ("解析出错"), a
MemoryError or a timeout counts as a failure: each is a bug to fix in checks/.

Sized for CI: about 70 s on a 2-core machine (2.5 min when it is four times oversubscribed),
derandomized so every run tries the same inputs. `XXGK_FUZZ_EXAMPLES=600` multiplies the
examples by 6 (600 per 100) with a random seed, for longer local runs. Inputs that once failed
are kept as files in tests/fuzz_regressions/ and read by test_regression_files.
"""

from __future__ import annotations

import io
import json
import os
import zipfile

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from checks.check import check_document
from checks.document import Document, Paragraph, ReadError, Table
from checks.parse import NotAReport
from checks.readers import read_bytes, sniff
from fuzz_regressions.builders import regression_files, rendered, seed_texts

_EXTRA = int(os.environ.get("XXGK_FUZZ_EXAMPLES", "0"))
settings.register_profile(
    "xxgk-fuzz",
    deadline=None,  # hangs are caught by the reader's own time limit below, not by wall-clock flakiness
    derandomize=not _EXTRA,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
_PROFILE = settings.get_profile("xxgk-fuzz")


def examples(ci: int) -> settings:
    """`ci` examples in CI; XXGK_FUZZ_EXAMPLES scales every test to that many per 100."""
    return settings(_PROFILE, max_examples=max(ci, ci * _EXTRA // 100) if _EXTRA else ci)


NO_SOFFICE = "/nonexistent/soffice"  # legacy formats end at "LibreOffice is missing", never convert
HANG_S = 30.0  # far above any honest read (< 1 s): reaching it is a hang
_FORBIDDEN = ("解析出错", "内存不足", "超时")


def assert_reads_cleanly(data: bytes, name: str, content_type: str | None = None) -> None:
    """The property: a Document whose parts are what the parser expects, or a clear ReadError;
    then a Report that serialises, or NotAReport."""
    try:
        doc = read_bytes(data, name, soffice=NO_SOFFICE, timeout=HANG_S, content_type=content_type)
    except ReadError as exc:
        assert exc.reason and "\n" not in exc.reason, repr(exc.reason)
        assert not any(word in exc.reason for word in _FORBIDDEN), exc.reason
        return
    assert isinstance(doc, Document) and doc.blocks
    for block in doc.blocks:
        assert isinstance(block, (Paragraph, Table))
        if isinstance(block, Table):
            assert all(isinstance(c.text, str) and c.rowspan >= 1 and c.colspan >= 1 for r in block.rows for c in r)
        else:
            assert isinstance(block.text, str)
    try:
        report = check_document(doc, time_limit_s=HANG_S)
    except NotAReport as exc:
        assert str(exc)
        return
    json.dumps(report.to_json(), ensure_ascii=False)
    assert all(f.message and f.rule for f in report.findings)


# ---------------------------------------------------------------- mutations

_TOKENS = ["\t", "\n", "\t\t", "\n\n", "\r\n", " ", "\u3000", "\x00", "\ufeff", "（七）总计", "一、", "三、",
           "本年新收政府信息公开申请数量", "自然人", "总计", "0", "00", "-1", "12345678901234567890", "１２",
           "/", "无", "年", "2021年", "国办发〔2019〕", "（具体网址）", "\ue000", "[image: x]", "<", "&nbsp;"]
_ENCODINGS = ["utf-8", "gb18030", "utf-16", "utf-16-le", "utf-8-sig"]


@st.composite
def edited_text(draw, base: str) -> str:
    """Up to 12 edits of `base`: insert a token, delete or duplicate a span, swap two lines."""
    text = base
    for _ in range(draw(st.integers(0, 12))):
        op = draw(st.sampled_from(["insert", "delete", "duplicate", "swap", "char"]))
        i = draw(st.integers(0, len(text)))
        if op == "insert":
            text = text[:i] + draw(st.sampled_from(_TOKENS)) + text[i:]
        elif op == "char":
            text = text[:i] + draw(st.characters(codec="utf-8")) + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 400)):]
        elif op == "duplicate":
            text = text[:i] + text[i:i + draw(st.integers(1, 400))] * draw(st.integers(2, 5)) + text[i:]
        else:
            lines = text.split("\n")
            a, b = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[a], lines[b] = lines[b], lines[a]
            text = "\n".join(lines)
    return text


@st.composite
def edited_bytes(draw, base: bytes, max_edits: int = 8) -> bytes:
    """Up to `max_edits` byte edits: overwrite, delete, insert random bytes, truncate."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, max_edits))):
        op = draw(st.sampled_from(["set", "delete", "insert", "truncate"]))
        i = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "set" and data:
            data[i] = draw(st.integers(0, 255))
        elif op == "delete":
            del data[i:i + draw(st.integers(1, 64))]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=16))
        elif op == "truncate" and len(data) > 16:
            del data[i:]
    return bytes(data)


def encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace" if "gb" in encoding else "surrogatepass")


# ---------------------------------------------------------------- plain text


@examples(400)
@given(data=st.data(), seed_no=st.integers(0, 4), encoding=st.sampled_from(_ENCODINGS))
def test_seed_text_edits(data, seed_no, encoding):
    text = data.draw(edited_text(seed_texts()[seed_no]))
    assert_reads_cleanly(encode(text, encoding), f"seed{seed_no}.txt")


@examples(100)
@given(data=st.data(), seed_no=st.integers(0, 4))
def test_seed_text_byte_edits(data, seed_no):
    base = seed_texts()[seed_no].encode("utf-8")
    assert_reads_cleanly(data.draw(edited_bytes(base)), f"seed{seed_no}.txt")


@examples(150)
@given(text=st.text(alphabet=st.sampled_from(["\t", "\n", " ", "1", "0", "总", "计", "（", "）", "一", "、", "a"]),
                     max_size=400))
def test_tab_grids(text):
    """Texts of nothing but TABs, line breaks, numbers and label pieces: the table layouts' corner cases."""
    assert_reads_cleanly(text.encode("utf-8"), "grid.txt")


# ---------------------------------------------------------------- HTML


@examples(200)
@given(data=st.data(), fmt=st.sampled_from(["cms_html", "word_html"]), seed_no=st.integers(0, 1))
def test_html_edits(data, fmt, seed_no):
    base = rendered(fmt, seed_no).decode("utf-8")
    tags = ["<table>", "</table>", "<tr>", "</tr>", '<td rowspan="999999999">', '<td colspan="-3">', "</td>",
            "<br>", "<p>", "<div id=zoom>", '<meta charset="gbk">', "<!--", "-->", "<![if !supportMisc]>",
            '<span style="display:none">', "<script>", "</body>", "<?xml version='1.0'?>", "<pre>", "&#0;"]
    text = base
    for _ in range(data.draw(st.integers(1, 10))):
        i = data.draw(st.integers(0, len(text)))
        if data.draw(st.booleans()):
            text = text[:i] + data.draw(st.sampled_from(tags + _TOKENS)) + text[i:]
        else:
            text = text[:i] + text[i + data.draw(st.integers(1, 2000)):]
    encoding = data.draw(st.sampled_from(["utf-8", "gb18030"]))
    content_type = data.draw(st.sampled_from([None, "text/html", "text/html; charset=gbk", "text/plain"]))
    assert_reads_cleanly(encode(text, encoding), f"r.{'htm' if fmt == 'word_html' else 'html'}", content_type)


@examples(60)
@given(data=st.data())
def test_html_byte_edits(data):
    assert_reads_cleanly(data.draw(edited_bytes(rendered("cms_html"))), "r.html")


@examples(40)
@given(depth=st.integers(200, 3000), tag=st.sampled_from(["div", "span", "td", "table", "font", "p"]))
def test_html_nesting(depth, tag):
    html = ("<html><body><h1>2021年政府信息公开工作年度报告</h1>" + f"<{tag}>" * depth + "一、总体情况"
            + f"</{tag}>" * depth + "</body></html>")
    assert_reads_cleanly(html.encode(), "deep.html")


# ---------------------------------------------------------------- .docx


def _docx_parts() -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(rendered("docx"))) as zf:
        return [(info.filename, zf.read(info)) for info in zf.infolist()]


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_VALUES = ["0", "-1", "2", "1000000000", "99999999999999999999", "restart", "continue", "", "x", "%1.%2",
           "chineseCounting", "decimal", "bullet", "9", "-2147483648"]


@st.composite
def mutated_docx(draw) -> bytes:
    """The seed .docx with its XML edited as trees (so it still parses): attribute values
    replaced (gridSpan, vMerge, numbering levels…), elements removed, duplicated or moved."""
    parts = []
    for name, blob in _docx_parts():
        if name in ("word/document.xml", "word/numbering.xml", "word/styles.xml") and draw(st.booleans()):
            root = etree.fromstring(blob)
            elements = list(root.iter())
            for _ in range(draw(st.integers(1, 12))):
                el = elements[draw(st.integers(0, len(elements) - 1))]
                op = draw(st.sampled_from(["attr", "remove", "duplicate", "move", "text"]))
                parent = el.getparent()
                if op == "attr" and el.attrib:
                    key = draw(st.sampled_from(sorted(el.attrib)))
                    el.set(key, draw(st.sampled_from(_VALUES)))
                elif op == "remove" and parent is not None:
                    parent.remove(el)
                elif op == "duplicate" and parent is not None:
                    for _ in range(draw(st.integers(1, 5))):
                        parent.insert(parent.index(el), etree.fromstring(etree.tostring(el)))
                elif op == "move" and parent is not None:
                    target = elements[draw(st.integers(0, len(elements) - 1))]
                    if el is not root and target is not el and el not in target.iterancestors():
                        target.append(el)
                elif op == "text" and el.tag == _W + "t":
                    el.text = draw(st.sampled_from(_TOKENS))
                elements = list(root.iter())
            blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
        parts.append((name, blob))
    if draw(st.booleans()):
        parts = [p for p in parts if draw(st.integers(0, 9))]  # drop a few parts
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, blob in parts:
            zf.writestr(name, blob)
    return buf.getvalue()


@examples(120)
@given(data=mutated_docx())
def test_docx_structure_edits(data):
    assert_reads_cleanly(data, "r.docx")


@examples(60)
@given(data=st.data(), name=st.sampled_from(["r.docx", "r.wps", "r.zip"]))
def test_docx_byte_edits(data, name):
    assert_reads_cleanly(data.draw(edited_bytes(rendered("docx"), max_edits=3)), name)


# ---------------------------------------------------------------- PDF


@examples(60)
@given(data=st.data(), seed_no=st.integers(0, 1))
def test_pdf_byte_edits(data, seed_no):
    assert_reads_cleanly(data.draw(edited_bytes(rendered("pdf", seed_no), max_edits=4)), "r.pdf")


_PDF_TOKENS = [b"BT", b"ET", b"Tj", b"TJ", b"Tf", b"Td", b"re", b"m", b"l", b"S", b"q", b"Q", b"cm", b"Do",
               b"(2021)", b"<FEFF>", b"[", b"]", b"<<", b">>", b"/F1", b"1e308", b"-99999999", b"0", b"12",
               b"/X0", b"BI", b"ID", b"EI", b"%", b"\\", b"(", b")"]


@examples(250)
@given(tokens=st.lists(st.sampled_from(_PDF_TOKENS), max_size=80))
def test_pdf_content_streams(tokens):
    """A page whose (uncompressed) content stream is a random sequence of operators and operands."""
    from fuzz_regressions.builders import pdf_with_pages

    content = b"BT /F1 12 Tf 72 720 Td (2021) Tj ET\n" + b" ".join(tokens)
    assert_reads_cleanly(pdf_with_pages(1, content), "r.pdf")


# ---------------------------------------------------------------- sniffing, random bytes


_MAGICS = [b"", b"%PDF-1.7\n", b"PK\x03\x04", b"PK\x05\x06", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"{\\rtf1",
           b"<html>", b"<!DOCTYPE html>", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf", b"MZ", b"\x89PNG\r\n\x1a\n",
           b"\x1f\x8b", b"<?xml version='1.0'?>"]


@examples(600)
@given(magic=st.sampled_from(_MAGICS), body=st.binary(max_size=3000),
       name=st.sampled_from(["x", "r.pdf", "r.docx", "r.doc", "r.wps", "r.html", "r.txt", "r.exe"]),
       content_type=st.sampled_from([None, "text/html", "application/pdf", "text/plain; charset=gbk"]))
def test_random_bytes(magic, body, name, content_type):
    data = magic + body
    if data:
        try:
            kind = sniff(data, os.path.splitext(name)[1], content_type=content_type)
        except ReadError as exc:
            assert exc.reason and "\n" not in exc.reason
        else:
            assert kind in ("pdf", "docx", "doc", "wps", "rtf", "html", "text")
    assert_reads_cleanly(data, name, content_type)


@examples(100)
@given(body=st.binary(min_size=0, max_size=4000), suffix=st.sampled_from([".doc", ".wps", ".docx", ""]),
       streams=st.lists(st.sampled_from(["WordDocument", "Workbook", "PowerPoint Document", "Book"]), max_size=2))
def test_ole2_sniffing(body, suffix, streams):
    """Legacy .doc/.wps detection on OLE2 files: the kind is decided, without converting."""
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + body + b"".join(s.encode("utf-16-le") + b"\0\0" for s in streams)
    try:
        kind = sniff(data, suffix)
    except ReadError as exc:
        assert "Excel" in exc.reason or "PowerPoint" in exc.reason
        return
    assert kind == ("wps" if suffix == ".wps" else "doc")


# ---------------------------------------------------------------- kept regressions


@pytest.mark.parametrize("path", regression_files(), ids=lambda p: p.name)
def test_regression_files(path):
    assert_reads_cleanly(path.read_bytes(), path.name)
