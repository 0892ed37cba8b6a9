"""Format readers: real inputs built inline (HTML strings, python-docx, reportlab, soffice)."""

from __future__ import annotations

import io
import os
import random
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from readers_fixtures import (
    SECTION3_RESULT_ROWS,
    cms_report_html,
    make_docx_bytes,
    make_image_only_pdf_bytes,
    make_pdf_bytes,
    word_report_html,
)

from checks.document import Cell, Document, Paragraph, ReadError, Table, expand_grid
from checks.readers import read_bytes, read_path, sniff
from checks.readers.decode import decode, html_declared_charset
from checks.readers.docx import format_number
from checks.readers.html import read_html
from checks.readers.legacy import MISSING_SOFFICE

MB = 2**20


def _texts(doc: Document) -> list[str]:
    return [b.text for b in doc.blocks if isinstance(b, Paragraph)]


def _row_texts(table: Table) -> list[list[str]]:
    return [[c.text for c in row] for row in table.rows]


def _read_error(fn, *args, **kwargs) -> str:
    with pytest.raises(ReadError) as info:
        fn(*args, **kwargs)
    reason = info.value.reason
    assert "\n" not in reason and reason.strip() == reason
    assert any("\u4e00" <= ch <= "\u9fff" for ch in reason), reason
    return reason


# ---------------------------------------------------------------- HTML: CMS page


@pytest.fixture(scope="module")
def cms_doc() -> Document:
    return read_bytes(cms_report_html().encode("utf-8"), "https://www.pingtan.gov.cn/2025/art_1.html")


def test_cms_title_and_meta(cms_doc: Document) -> None:
    assert cms_doc.format == "html"
    assert cms_doc.title == "平潭综合实验区2025年政府信息公开工作年度报告"
    assert cms_doc.meta["SiteName"] == "平潭综合实验区管理委员会"
    assert cms_doc.meta["ColumnName"] == "政府信息公开年报"
    assert cms_doc.meta["PubDate"] == "2026-01-20 10:00"


def test_cms_article_container_drops_chrome_script_and_hidden(cms_doc: Document) -> None:
    texts = _texts(cms_doc)
    assert texts[0] == "平潭综合实验区2025年政府信息公开工作年度报告"
    assert texts[1] == "一、总体情况"
    joined = "\n".join(texts)
    for chrome in (
        "栏目0",
        "搜索",
        "当前位置",
        "主办单位",
        "闽ICP备",
        "隐藏的统计代码",
        "广告",
        "_hmt",
        "float",
    ):
        assert chrome not in joined


def test_cms_headings_and_inline_spans(cms_doc: Document) -> None:
    texts = _texts(cms_doc)
    assert "二、主动公开政府信息情况" in texts
    assert "三、收到和处理政府信息公开申请情况" in texts
    assert "四、政府信息公开行政复议、行政诉讼情况" in texts
    # numbers split across <span>s are joined; <br> in body text starts a new paragraph
    i = texts.index("本年度共收到申请12件，")
    assert texts[i + 1] == "其中当面申请3件。"
    # the empty <p>&nbsp;</p> leaves no paragraph
    assert "" not in texts


def test_cms_block_order(cms_doc: Document) -> None:
    kinds = [
        "T" if isinstance(b, Table) else b.text
        for b in cms_doc.blocks
        if isinstance(b, Table) or b.text[:2] in ("二、", "三、", "四、")
    ]
    assert kinds == [
        "二、主动公开政府信息情况",
        "T",
        "三、收到和处理政府信息公开申请情况",
        "T",
        "四、政府信息公开行政复议、行政诉讼情况",
    ]


def test_cms_section2_table(cms_doc: Document) -> None:
    table = cms_doc.tables()[0]
    assert table.rows[0] == [Cell("第二十条第（一）项", 1, 4)]
    assert _row_texts(table)[1:] == [
        ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
        ["规章", "0", "0", "0"],
        ["行政规范性文件", "58", "45", "546"],
    ]


def test_cms_section3_table_spans_as_published(cms_doc: Document) -> None:
    table = cms_doc.tables()[1]
    assert len(table.rows) == 3 + 2 + len(SECTION3_RESULT_ROWS) + 1
    assert table.rows[0] == [
        Cell("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", 3, 3),
        Cell("申请人情况", 1, 7),
    ]
    assert table.rows[1] == [Cell("自然人", 2, 1), Cell("法人或其他组织", 1, 5), Cell("总计", 2, 1)]
    assert _row_texts(table)[2] == ["商业\n企业", "科研\n机构", "社会公益组织", "法律服务机构", "其他"]
    assert table.rows[3][0] == Cell("一、本年新收政府信息公开申请数量", 1, 3)
    assert _row_texts(table)[3][1:] == ["1", "2", "0", "0", "0", "0", "3"]
    # the multi-<p> vertical label padded with &nbsp; runs: one "\n" per <p>, spaces stripped at ends
    first_result = table.rows[5]
    assert first_result[0] == Cell("三、本\n年度办\n理结果", 22, 1)
    assert first_result[1] == Cell("（一）予以公开", 1, 2)
    group_row = table.rows[7]
    assert group_row[0] == Cell("（三）不予公开", 8, 1)
    assert group_row[1].text == "1.属于国家秘密"
    last = table.rows[-1]
    assert last[0] == Cell("四、结转下年度继续办理", 1, 3)
    assert [c.text for c in last[1:]] == [""] * 7  # cells holding only &nbsp;
    grid = expand_grid(table)
    assert all(len(r) == 10 for r in grid)
    assert grid[26][0].text.startswith("三、本")  # covered by the rowspan=22 cell


# ---------------------------------------------------------------- HTML: Word export


@pytest.fixture(scope="module")
def word_doc() -> Document:
    return read_bytes(word_report_html(target_kb=60).encode("utf-8"), "report.htm")


def test_word_html_title_and_generator_meta(word_doc: Document) -> None:
    assert word_doc.title == "福建省某县2020年政府信息公开工作年度报告"
    assert word_doc.meta["Generator"] == "Microsoft Word 15"


def test_word_html_drops_conditional_comments_and_o_p(word_doc: Document) -> None:
    joined = "\n".join(_texts(word_doc))
    assert "DocumentProperties" not in joined and "admin" not in joined
    assert "mso-" not in joined and "MsoNormal" not in joined
    texts = _texts(word_doc)
    # source line wrapped inside CJK text by Word is joined without a space
    assert texts[0] == "福建省某县2020年政府信息公开工作年度报告"
    # the <![if !supportLists]> list label is kept, its &nbsp; padding becomes spaces
    assert texts[1].startswith("一、") and texts[1].endswith("总体情况")
    assert texts[1].replace(" ", "") == "一、总体情况"
    assert texts[2].startswith("（0）本县严格落实《中华人民共和国政府信息公开条例》")


def test_word_html_table_split_spans_and_trailing_width_row(word_doc: Document) -> None:
    table = word_doc.tables()[0]
    assert _row_texts(table) == [
        ["信息内容", "本年新制作数量", "本年新公开数量", "对外公开总数量"],
        ["规章", "0", "0", "0"],
        ["规范性文件", "12", "12", "73802895.90"],
        ["三、本年度办理结果", "（一）予以公开", "35"],
        ["（二）部分公开", "4"],
    ]
    assert table.rows[3][0] == Cell("三、本年度办理结果", 2, 1)
    assert table.rows[3][1].colspan == 2


# ---------------------------------------------------------------- HTML: structure details


def test_layout_tables_are_descended_and_single_cell_frames_too() -> None:
    html = """<html><head><title>首页 | 某县2022年度政府信息公开工作年度报告 | 某县</title></head><body>
    <table width="100%"><tr><td>网站首页</td><td>
      <table><tr><td><p>一、总体情况</p><p>本年度工作概述。</p></td></tr></table>
      <table border="1"><tr><th>信息内容</th><th>本年制发件数</th></tr>
             <tr><td>规章</td><td>3</td></tr></table>
    </td></tr></table></body></html>"""
    doc = read_html(html, "x.html")
    assert doc.title == "某县2022年度政府信息公开工作年度报告"
    assert _texts(doc) == ["网站首页", "一、总体情况", "本年度工作概述。"]
    assert len(doc.tables()) == 1
    assert _row_texts(doc.tables()[0]) == [["信息内容", "本年制发件数"], ["规章", "3"]]
    assert isinstance(doc.blocks[-1], Table)


def test_cell_breaks_paragraphs_and_spans_inside_cells() -> None:
    html = """<table><tr><td rowspan=" 2 ">商业<br>企业</td><td colspan="x"><p>第一段</p>
    <p>第二段&nbsp;&nbsp;续</p></td></tr><tr><td><span>1</span><span>2</span><b>3</b></td></tr></table>"""
    table = read_html(html, "x").tables()[0]
    assert table.rows == [
        [Cell("商业\n企业", 2, 1), Cell("第一段\n第二段  续", 1, 1)],
        [Cell("123", 1, 1)],
    ]


def test_hidden_cells_repeated_values_and_padding() -> None:
    html = """<table><tr><td><p style="display:none">9</p></td><td><span style="display: none">7</span></td>
    <td><p>本年处理决定数量 &nbsp; &nbsp;</p></td><td><p>0</p></td><td><p>0</p></td></tr>
    <tr><td><div style="visibility:hidden">9</div></td><td>  <p> 5 </p> </td><td><p>A</p>B</td><td></td>
    <td>0</td></tr></table>"""
    rows = read_html(html, "x").tables()[0].rows
    # A hidden block is dropped; a hidden inline element is read, as in running text.
    assert _row_texts(Table(rows)) == [
        ["", "7", "本年处理决定数量", "0", "0"],
        ["", "5", "A\nB", "", "0"],
    ]
    assert rows[0][3] == rows[0][4] == rows[1][4] == Cell("0", 1, 1)


def test_line_breaks_in_source_text() -> None:
    html = "<p>政府信息\n公开工作</p><p>abc\ndef</p><p>中文\n abc</p><p>第一行\r\n  第二行</p>"
    assert _texts(read_html(html, "x")) == ["政府信息公开工作", "abc def", "中文 abc", "第一行第二行"]


def test_title_fallback_first_segment_and_u3000_kept() -> None:
    html = "<title>关于印发通知的通知 - 某市人民政府</title><body><p>正文\u3000第一行</p></body>"
    doc = read_html(html, "x")
    assert doc.title == "关于印发通知的通知"
    assert _texts(doc) == ["正文\u3000第一行"]


def test_container_not_used_when_tables_are_outside_it() -> None:
    intro = "本机关依法公开政府信息。" * 20
    html = f"""<body><div class="nav">首页</div><div class="TRS_Editor"><p>{intro}</p></div>
    <table border=1><tr><td>规章</td><td>0</td></tr></table></body>"""
    doc = read_html(html, "x")
    assert _texts(doc) == ["首页", intro]
    assert len(doc.tables()) == 1


def test_html_without_text_is_an_error() -> None:
    assert "OCR" in _read_error(read_html, '<html><body><img src="report.jpg"></body></html>', "x")
    assert (
        _read_error(read_html, "<html><body><script>x()</script></body></html>", "x") == "网页中没有文字内容"
    )


# ---------------------------------------------------------------- encodings


_GBK_PAGE = (
    "<html><head>{meta}<title>某区2021年政府信息公开工作年度报告</title></head><body>"
    "<p>一、总体情况</p><table><tr><td>自然人</td><td>法人或其他组织</td></tr></table></body></html>"
)


@pytest.mark.parametrize(
    "meta",
    [
        "",  # no declaration at all
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">',  # wrong declaration
        '<meta charset="gb2312">',  # right (GB2312 is read as GB18030)
    ],
)
def test_gbk_html_decoded_whatever_is_declared(meta: str) -> None:
    data = _GBK_PAGE.format(meta=meta).encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    doc = read_bytes(data, "page.html")
    assert doc.title == "某区2021年政府信息公开工作年度报告"
    assert _texts(doc) == ["一、总体情况"]
    assert _row_texts(doc.tables()[0]) == [["自然人", "法人或其他组织"]]


def test_http_content_type_charset_and_html_hint() -> None:
    text = "一、总体情况<br>本年度主动公开信息<b>128</b>条。"
    doc = read_bytes(
        text.encode("gb18030"), "https://example.gov.cn/x", content_type="text/html; charset=GBK"
    )
    assert doc.format == "html"
    assert _texts(doc) == ["一、总体情况", "本年度主动公开信息128条。"]


def test_gbk_text_file(tmp_path: Path) -> None:
    report = "某县2021年政府信息公开工作年度报告\n\n一、总体情况\n本年度共收到申请12件。\n"
    path = tmp_path / "report.txt"
    path.write_bytes(report.encode("gbk"))
    doc = read_path(path, max_bytes=50 * MB)
    assert doc.format == "text"
    assert "一、总体情况" in _texts(doc)
    assert "本年度共收到申请12件。" in _texts(doc)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-8-sig"])
def test_bom_text_files(codec: str) -> None:
    report = "二、主动公开政府信息情况\n行政许可 1234\n"
    data = report.encode(codec)
    if codec == "utf-16-be":
        data = b"\xfe\xff" + data
    doc = read_bytes(data, "report.txt")
    assert doc.format == "text"
    assert _texts(doc)[:2] == ["二、主动公开政府信息情况", "行政许可 1234"]


def test_utf16_without_bom_is_still_text() -> None:
    doc = read_bytes("一、总体情况 2021\r\n共 12 件\r\n".encode("utf-16-le"), "r.txt")
    assert _texts(doc)[:2] == ["一、总体情况 2021", "共 12 件"]


def test_decode_rules() -> None:
    utf8 = "政府信息公开".encode()
    assert decode(utf8, declared="gbk").encoding == "utf-8"  # valid UTF-8 wins over a GBK declaration
    assert decode("政府信息公开".encode("gbk"), declared="utf-8").text == "政府信息公开"
    # GB18030-only character (outside GBK)
    assert decode("镕€𠀀政务".encode("gb18030")).text == "镕€𠀀政务"
    # a UTF-8 file cut in the middle of its last character is still UTF-8
    cut = ("年度报告" * 600).encode()[:-1]
    assert decode(cut).text.startswith("年度报告年度报告")
    assert decode(cut).encoding == "utf-8"
    assert (
        html_declared_charset(b'<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />')
        == "gb2312"
    )
    assert html_declared_charset(b"<meta charset='GBK'>") == "GBK"


# ---------------------------------------------------------------- docx


def test_docx_paragraphs_tables_and_merges(tmp_path: Path) -> None:
    path = tmp_path / "report.docx"
    path.write_bytes(make_docx_bytes())
    doc = read_path(path, max_bytes=50 * MB)
    assert doc.format == "docx"
    assert doc.title == "某某局2021年政府信息公开工作年度报告"
    assert _texts(doc) == [
        "一、总体情况",
        "本年度共收到申请12件。",  # runs joined without separators
        "二、主动公开政府信息情况",
        "1. 加强平台建设",  # automatic numbering rendered
        "2. 完善监督保障",
    ]
    assert isinstance(doc.blocks[2], Table)  # table between paragraphs, in body order
    table = doc.tables()[0]
    assert table.rows[0] == [Cell("项目", 1, 2), Cell("自然人"), Cell("总计")]
    assert table.rows[1] == [Cell("三、本年度办理结果", 3, 1), Cell("（一）予以公开"), Cell("5"), Cell("5")]
    assert _row_texts(table)[2:] == [
        ["（二）部分公开", "1", "1"],
        ["（七）总计", "6", "6"],
        ["四、结转下年度继续办理", "商业\n企业", ""],
    ]
    assert table.rows[4][0].colspan == 2
    assert all(len(r) == 4 for r in expand_grid(table))


def test_docx_nested_table_flattened_and_chinese_numbering() -> None:
    import docx
    from docx.oxml import parse_xml

    d = docx.Document()
    numbering = d.part.numbering_part.element
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    numbering.insert(
        0,
        parse_xml(
            f'<w:abstractNum xmlns:w="{w}" w:abstractNumId="90"><w:lvl w:ilvl="0"><w:start w:val="1"/>'
            '<w:numFmt w:val="chineseCounting"/><w:lvlText w:val="%1、"/><w:suff w:val="nothing"/></w:lvl>'
            '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/>'
            '<w:lvlText w:val="（%2）"/><w:suff w:val="nothing"/></w:lvl></w:abstractNum>'
        ),
    )
    numbering.append(parse_xml(f'<w:num xmlns:w="{w}" w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))

    def numbered(text: str, level: int) -> None:
        p = d.add_paragraph(text)
        p._p.get_or_add_pPr().append(
            parse_xml(f'<w:numPr xmlns:w="{w}"><w:ilvl w:val="{level}"/><w:numId w:val="90"/></w:numPr>')
        )

    numbered("总体情况", 0)
    numbered("主动公开情况", 1)
    numbered("依申请公开情况", 1)
    numbered("主动公开政府信息情况", 0)
    numbered("规章", 1)
    outer = d.add_table(rows=1, cols=2)
    outer.cell(0, 0).text = "外层"
    inner = outer.cell(0, 1).add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "自然人", (0, 1): "2", (1, 0): "法人", (1, 1): "0"}.items():
        inner.cell(r, c).text = text
    buf = io.BytesIO()
    d.save(buf)
    doc = read_bytes(buf.getvalue(), "n.docx")
    assert _texts(doc) == [
        "一、总体情况",
        "（一）主动公开情况",
        "（二）依申请公开情况",
        "二、主动公开政府信息情况",
        "（一）规章",
    ]
    assert _row_texts(doc.tables()[0]) == [["外层", "自然人 2\n法人 0"]]


def test_format_number() -> None:
    assert [format_number(n, "chineseCounting") for n in (1, 10, 11, 20, 21, 105, 110)] == [
        "一", "十", "十一", "二十", "二十一", "一百零五", "一百一十",
    ]  # fmt: skip
    assert format_number(3, "decimalEnclosedCircle") == "③"
    assert format_number(2, "ideographTraditional") == "乙"
    assert format_number(4, "upperRoman") == "IV"


def test_corrupt_docx() -> None:
    data = make_docx_bytes()
    reason = _read_error(read_bytes, data[: len(data) // 2], "broken.docx")
    assert reason.startswith("Word 文件（.docx）已损坏")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/styles.xml", "<x/>")
    assert "word/document.xml" in _read_error(read_bytes, buf.getvalue(), "empty.docx")


def test_other_zip_files() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    assert "Excel" in _read_error(read_bytes, buf.getvalue(), "table.xlsx")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("report.pdf", "x")
    assert "ZIP 压缩包" in _read_error(read_bytes, buf.getvalue(), "attachments.zip")
    # a truncated Office file is recognised from its first entry even without a .docx name
    data = make_docx_bytes()
    assert _read_error(read_bytes, data[: len(data) // 3], "download").startswith(
        "Office 文档（如 .docx）已损坏"
    )


def test_other_ole_files() -> None:
    xls = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "Workbook".encode("utf-16-le") + b"\x00" * 512
    assert "Excel" in _read_error(read_bytes, xls, "report.doc")


# ---------------------------------------------------------------- PDF


@pytest.fixture(scope="module")
def pdf_bytes() -> bytes:
    return make_pdf_bytes()


def test_pdf_lines_and_ruled_table_with_spans(pdf_bytes: bytes) -> None:
    doc = read_bytes(pdf_bytes, "report.pdf")
    assert doc.format == "pdf"
    assert doc.title == "某某区2021年政府信息公开工作年度报告"
    assert doc.meta["Author"] == "某某区人民政府办公室"
    kinds = ["T" if isinstance(b, Table) else b.text for b in doc.blocks]
    assert kinds == [
        "一、总体情况",
        "本机关2021年主动公开政府信息1234条。",
        "三、收到和处理政府信息公开申请情况",
        "T",
        "四、政府信息公开行政复议、行政诉讼情况",
    ]
    table = doc.tables()[0]
    assert table.rows == [
        [Cell("项目", 1, 2), Cell("自然人"), Cell("法人或其他组织"), Cell("总计")],
        [Cell("一、本年新收政府信息公开申请数量", 1, 2), Cell("2"), Cell("0"), Cell("2")],
        [Cell("三、本年度办理结果", 2, 1), Cell("（一）予以公开"), Cell("1"), Cell("0"), Cell("1")],
        [Cell("（二）部分公开"), Cell("1"), Cell("0"), Cell("1")],
    ]


def test_pdf_without_rulings_gives_one_paragraph_per_line() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("STSong-Light", 10)
    c.drawString(72, 760, "一、本年新收政府信息公开申请数量")
    c.drawString(72, 740, "2 0 0 0 0 0 2")
    c.showPage()
    c.save()
    assert _texts(read_bytes(buf.getvalue(), "flat.pdf")) == [
        "一、本年新收政府信息公开申请数量",
        "2 0 0 0 0 0 2",
    ]


def test_encrypted_pdf() -> None:
    assert (
        _read_error(read_bytes, make_pdf_bytes(encrypt="secret"), "locked.pdf") == "PDF 有密码保护，无法读取"
    )


def test_image_only_pdf() -> None:
    reason = _read_error(read_bytes, make_image_only_pdf_bytes(), "scan.pdf")
    assert reason == "PDF 没有文字层（可能是扫描件/图片），需要先做 OCR 识别"


def test_truncated_and_corrupt_pdf(pdf_bytes: bytes) -> None:
    for cut in (len(pdf_bytes) // 2, len(pdf_bytes) - 10, 200):
        assert _read_error(read_bytes, pdf_bytes[:cut], "cut.pdf").startswith("PDF 文件不完整或已损坏")
    garbage = b"%PDF-1.4\n" + bytes(random.Random(1).randbytes(3000)) + b"\n%%EOF\n"
    assert _read_error(read_bytes, garbage, "bad.pdf").startswith("PDF 文件不完整或已损坏")


# ---------------------------------------------------------------- .doc / .wps via LibreOffice


def test_missing_soffice(tmp_path: Path) -> None:
    ole = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 504
        + "WordDocument".encode("utf-16-le")
        + b"\x00" * 512
    )
    path = tmp_path / "report.doc"
    path.write_bytes(ole)
    reason = _read_error(read_path, path, max_bytes=50 * MB, soffice="/nonexistent/soffice")
    assert reason == MISSING_SOFFICE
    assert reason == (
        "读取 .doc/.wps 文件需要 LibreOffice（未找到 soffice 命令）；请安装 LibreOffice，"
        "或把文件另存为 .docx/.pdf 后再检查"
    )
    assert sniff(ole, ".wps") == "wps"
    assert sniff(ole, ".doc") == "doc"


@pytest.fixture(scope="module")
def soffice() -> str:
    found = shutil.which("soffice")
    if found is None:
        if os.environ.get("XXGK_REQUIRE_SOFFICE"):
            pytest.fail("XXGK_REQUIRE_SOFFICE is set but LibreOffice (soffice) is not installed")
        pytest.skip("LibreOffice (soffice) is not installed")
    return found


@pytest.fixture(scope="module")
def doc_bytes(soffice: str, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    work = tmp_path_factory.mktemp("doc")
    (work / "report.docx").write_bytes(make_docx_bytes())
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            "doc",
            "--outdir",
            str(work),
            str(work / "report.docx"),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return (work / "report.doc").read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("name,fmt", [("report.doc", "doc"), ("report.wps", "wps")])
def test_doc_and_wps_via_libreoffice(doc_bytes: bytes, tmp_path: Path, name: str, fmt: str) -> None:
    assert doc_bytes.startswith(b"\xd0\xcf\x11\xe0")
    path = tmp_path / name
    path.write_bytes(doc_bytes)
    doc = read_path(path, max_bytes=50 * MB, timeout=180)
    assert doc.format == fmt
    assert doc.title == "某某局2021年政府信息公开工作年度报告"
    assert _texts(doc)[:3] == ["一、总体情况", "本年度共收到申请12件。", "二、主动公开政府信息情况"]
    table = doc.tables()[0]
    assert table.rows[0] == [Cell("项目", 1, 2), Cell("自然人"), Cell("总计")]
    assert table.rows[1][0] == Cell("三、本年度办理结果", 3, 1)
    assert table.rows[4][1] == Cell("商业\n企业")
    assert not list(Path(path.parent).glob("input*"))  # nothing left next to the input


@pytest.mark.slow
def test_rtf_saved_as_doc(soffice: str) -> None:
    # Many ".doc" attachments are really RTF; they are converted by LibreOffice too.
    rtf = rb"{\rtf1\ansi\deff0{\fonttbl{\f0 SimSun;}}\uc1 \u19968?\u12289?\u24635?\u20307?\u24773?\u20917?\par 2021\par}"
    assert sniff(rtf, ".doc") == "rtf"
    doc = read_bytes(rtf, "report.doc")
    assert doc.format == "doc"
    assert _texts(doc) == ["一、总体情况", "2021"]


@pytest.mark.slow
def test_soffice_timeout_is_a_clean_error(doc_bytes: bytes) -> None:
    started = time.monotonic()
    reason = _read_error(read_bytes, doc_bytes, "slow.doc", timeout=0.5)
    assert "超时" in reason
    assert time.monotonic() - started < 30


# ---------------------------------------------------------------- bad input, size limit, dispatch


def test_size_limit_checked_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.pdf"
    with path.open("wb") as f:
        f.truncate(200 * MB)  # sparse: nothing is written
    started = time.monotonic()
    reason = _read_error(read_path, path, max_bytes=50 * MB)
    assert reason == "文件过大（200.0 MB），超过上限 50 MB"
    assert time.monotonic() - started < 1.0


def test_empty_missing_and_whitespace_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    assert _read_error(read_path, empty, max_bytes=MB) == "文件为空"
    assert _read_error(read_bytes, b"", "x.pdf") == "文件为空"
    assert _read_error(read_path, tmp_path / "nope.pdf", max_bytes=MB) == "文件不存在"
    assert _read_error(read_path, tmp_path, max_bytes=MB).startswith("不是普通文件")
    assert _read_error(read_bytes, b" \r\n\t \n", "blank.txt").startswith("文件为空")


def test_binary_junk() -> None:
    junk = random.Random(42).randbytes(64 * 1024)
    assert _read_error(read_bytes, junk, "mystery.bin").startswith("无法识别的文件格式")
    no_nul = bytes(b for b in random.Random(7).randbytes(8192) if b)  # control bytes without NULs
    assert _read_error(read_bytes, no_nul, "mystery.txt").startswith("无法识别的文件格式")


def test_images_and_archives_named() -> None:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (10, 10), "white").save(buf, format="PNG")
    assert "PNG 图片" in _read_error(read_bytes, buf.getvalue(), "report.pdf")
    assert "RAR" in _read_error(read_bytes, b"Rar!\x1a\x07\x00" + b"\x01" * 100, "a.rar")


def test_sniff_by_content_not_extension(pdf_bytes: bytes) -> None:
    html = "<html><body><p>一、总体情况</p></body></html>".encode()
    assert sniff(html, ".doc") == "html"  # Word "save as web page" renamed to .doc
    doc = read_bytes(html, "report.doc")
    assert doc.format == "html" and _texts(doc) == ["一、总体情况"]
    assert sniff(pdf_bytes, ".html") == "pdf"
    assert sniff(make_docx_bytes(), ".doc") == "docx"
    assert sniff("一、总体情况\n共 3 件".encode(), ".html") == "text"


def test_read_path_and_read_bytes_agree(tmp_path: Path) -> None:
    data = cms_report_html(charset_meta=None).encode("gbk")
    path = tmp_path / "page.html"
    path.write_bytes(data)
    a = read_path(path, max_bytes=MB)
    b = read_bytes(data, str(path))
    assert a == b
    assert a.source == str(path)


# ---------------------------------------------------------------- speed (loose bounds; figures in the report)


def _best_ms(fn, number: int) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number * 1000)
    return best


def test_html_reader_speed() -> None:
    cms = cms_report_html()
    word = word_report_html(target_kb=300)
    cms_ms = _best_ms(lambda: read_html(cms, "x"), 50)
    word_ms = _best_ms(lambda: read_html(word, "x"), 5)
    # The targets are < 2 ms and < 20 ms; the bounds here leave room for a loaded test machine.
    assert cms_ms < 8, cms_ms
    assert word_ms < 40, word_ms


def test_zip_bomb_docx_is_refused_before_unpacking(tmp_path):
    import io as _io
    import zipfile as _zipfile

    buf = _io.BytesIO()
    with _zipfile.ZipFile(buf, "w", _zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"<w:document>" + b" " * (300 * 2**20) + b"</w:document>")
    data = buf.getvalue()
    assert len(data) < 2 * 2**20  # small on disk …
    with pytest.raises(ReadError, match="解压后过大"):  # … refused, not unpacked into 300 MB
        read_bytes(data, "bomb.docx")
