"""Realistic inputs for tests/test_readers.py, built inline (no files checked in).

The HTML builders imitate the two markup families seen on the disclosure sites
(spec/disclosure-sites.md §4): CMS editor output (Pingtan 2025: `<p>`s inside cells, runs of
`&nbsp;`, `rowspan="22"`) and Word "save as web page" output (MsoNormal, mso styles,
`<o:p>`, conditional comments, numbers split across `<span>`s).
"""

from __future__ import annotations

import io

# Section 三 row labels of the 2021 format, as (group label or None, row label).
SECTION3_RESULT_ROWS: list[tuple[str | None, str]] = [
    (None, "（一）予以公开"),
    (None, "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    ("（三）不予公开", "1.属于国家秘密"),
    ("（三）不予公开", "2.其他法律行政法规禁止公开"),
    ("（三）不予公开", "3.危及“三安全一稳定”"),
    ("（三）不予公开", "4.保护第三方合法权益"),
    ("（三）不予公开", "5.属于三类内部事务信息"),
    ("（三）不予公开", "6.属于四类过程性信息"),
    ("（三）不予公开", "7.属于行政执法案卷"),
    ("（三）不予公开", "8.属于行政查询事项"),
    ("（四）无法提供", "1.本机关不掌握相关政府信息"),
    ("（四）无法提供", "2.没有现成信息需要另行制作"),
    ("（四）无法提供", "3.补正后申请内容仍不明确"),
    ("（五）不予处理", "1.信访举报投诉类申请"),
    ("（五）不予处理", "2.重复申请"),
    ("（五）不予处理", "3.要求提供公开出版物"),
    ("（五）不予处理", "4.无正当理由大量反复申请"),
    ("（五）不予处理", "5.要求行政机关确认或重新出具已获取信息"),
    ("（六）其他处理", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
    ("（六）其他处理", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
    ("（六）其他处理", "3.其他"),
    (None, "（七）总计"),
]

_CMS_TD = (
    'style="border-width: 1px; border-style: solid; border-color: windowtext; padding: 0px 7px; '
    'word-break: break-all;" valign="center"'
)
_CMS_P = 'style="text-indent: 0em; text-align: center; line-height: 1.5em;"'


def _cms_cell(text: str, *, rowspan: int = 1, colspan: int = 1, paras: list[str] | None = None) -> str:
    attrs = ""
    if rowspan > 1:
        attrs += f' rowspan="{rowspan}"'
    if colspan > 1:
        attrs += f' colspan="{colspan}"'
    inner = "".join(f"<p {_CMS_P}>{p}</p>" for p in (paras or [text]))
    return f"<td{attrs} {_CMS_TD}>{inner}</td>"


def cms_section3_table() -> str:
    """The 2021-format applications table as a CMS editor writes it."""
    rows = [
        '<tr class="firstRow">'
        + _cms_cell(
            "",
            rowspan=3,
            colspan=3,
            paras=["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"],
        )
        + _cms_cell("申请人情况", colspan=7)
        + "</tr>",
        "<tr>"
        + _cms_cell("自然人", rowspan=2)
        + _cms_cell("法人或其他组织", colspan=5)
        + _cms_cell("总计", rowspan=2)
        + "</tr>",
        "<tr>"
        + "".join(
            _cms_cell(t) for t in ["商业<br/>企业", "科研<br/>机构", "社会公益组织", "法律服务机构", "其他"]
        )
        + "</tr>",
        "<tr>"
        + _cms_cell("一、本年新收政府信息公开申请数量", colspan=3)
        + "".join(_cms_cell(v) for v in ["1", "2", "0", "0", "0", "0", "3"])
        + "</tr>",
        "<tr>"
        + _cms_cell("二、上年结转政府信息公开申请数量", colspan=3)
        + "".join(_cms_cell(v) for v in ["0"] * 7)
        + "</tr>",
    ]
    seen_groups: set[str] = set()
    for i, (group, label) in enumerate(SECTION3_RESULT_ROWS):
        cells = ""
        if i == 0:
            cells += _cms_cell(
                "", rowspan=22, paras=["三、本", "年度办&nbsp; &nbsp; &nbsp;", "理结果&nbsp; &nbsp;"]
            )
        if group is None:
            cells += _cms_cell(label, colspan=2)
        else:
            if group not in seen_groups:
                seen_groups.add(group)
                size = sum(1 for g, _ in SECTION3_RESULT_ROWS if g == group)
                cells += _cms_cell(group, rowspan=size)
            cells += _cms_cell(label)
        values = ["1", "0", "0", "0", "0", "0", "1"] if i == 0 else ["0"] * 7
        if label == "（七）总计":
            values = ["1", "2", "0", "0", "0", "0", "3"]
        cells += "".join(_cms_cell(v) for v in values)
        rows.append(f"<tr>{cells}</tr>")
    rows.append(
        "<tr>"
        + _cms_cell("四、结转下年度继续办理", colspan=3)
        + "".join(_cms_cell("&nbsp;") for _ in range(7))
        + "</tr>"
    )
    return (
        '<table style="border-collapse: collapse; border: none;" cellspacing="0" align="center" '
        'border="1"><tbody>' + "".join(rows) + "</tbody></table>"
    )


def cms_report_html(*, charset_meta: str | None = "utf-8") -> str:
    """A CMS article page (site chrome, article container #zoom, headings in <strong>)."""
    meta = f'<meta charset="{charset_meta}">' if charset_meta else ""
    nav = "".join(f'<li><a href="/col/{i}/">栏目{i}</a></li>' for i in range(30))
    intro = (
        "根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和《国务院办公厅政府信息与政务公开办公室"
        "关于印发〈中华人民共和国政府信息公开工作年度报告格式〉的通知》要求，编制本报告。"
    )
    body_paras = "".join(
        f'<p style="text-indent: 2em; line-height: 1.75em;"><span style="font-family: 仿宋_GB2312; '
        f'font-size: 16px;">{intro}本年度第{i}项工作稳步推进。</span></p>'
        for i in range(12)
    )
    section2 = (
        '<table style="border-collapse: collapse; border: none;" cellspacing="0" align="center" border="1"><tbody>'
        '<tr style="height:19px" class="firstRow">' + _cms_cell("第二十条第（一）项", colspan=4) + "</tr>"
        "<tr>"
        + "".join(_cms_cell(t) for t in ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"])
        + "</tr>"
        "<tr>" + "".join(_cms_cell(t) for t in ["规章", "0", "0", "0"]) + "</tr>"
        "<tr>" + "".join(_cms_cell(t) for t in ["行政规范性文件", "58", "45", "546"]) + "</tr>"
        "</tbody></table>"
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head>{meta}
<title>平潭综合实验区2025年政府信息公开工作年度报告_年度报告_平潭综合实验区管理委员会</title>
<meta name="SiteName" content="平潭综合实验区管理委员会">
<meta name="ColumnName" content="政府信息公开年报">
<meta name="ArticleTitle" content="平潭综合实验区2025年政府信息公开工作年度报告">
<meta name="PubDate" content="2026-01-20 10:00">
<style>.nav li {{ float: left; }}</style>
<script>var _hmt = _hmt || []; document.write("<p>广告</p>");</script>
</head><body>
<div class="header"><ul class="nav">{nav}</ul><div class="search">搜索</div></div>
<div class="main"><div class="position">当前位置：首页 &gt; 政府信息公开 &gt; 年度报告</div>
<div id="zoom" class="article-content">
<p style="text-align: center;"><strong><span style="font-size: 22px;">平潭综合实验区2025年政府信息公开工作年度报告</span></strong></p>
<p style="text-indent: 2em;"><strong><span style="font-family: 黑体;">一、总体情况</span></strong></p>
{body_paras}
<p style="text-indent: 2em;"><span style="text-indent: 2em;">二、主动公开政府信息情况</span></p>
{section2}
<p style="text-indent: 2em;"><span style="font-family: 黑体;">三、收到和处理政府信息公开申请情况</span></p>
{cms_section3_table()}
<p style="text-indent: 2em;">&nbsp;</p>
<p style="text-indent: 2em;"><strong>四、政府信息公开行政复议、行政诉讼情况</strong></p>
<p style="text-indent: 2em;">本年度共收到申请<span>1</span><span>2</span>件，<br/>其中当面申请<span style="color:red">3</span>件。</p>
</div></div>
<div class="footer"><p>主办单位：平潭综合实验区管理委员会</p><p>闽ICP备12345678号</p></div>
<div style="display: none">隐藏的统计代码</div>
</body></html>"""


_MSO_SPAN = (
    'style=\'font-size:16.0pt;font-family:仿宋_GB2312;mso-hansi-font-family:"Times New Roman";'
    'mso-bidi-font-family:"Times New Roman";color:black;mso-font-kerning:0pt\''
)
_MSO_TD = (
    "style='border:solid windowtext 1.0pt;border-top:none;mso-border-top-alt:solid windowtext .5pt;"
    "mso-border-alt:solid windowtext .5pt;padding:0cm 5.4pt 0cm 5.4pt;height:19.85pt'"
)


def _word_p(text: str, *, cls: str = "MsoNormal", split: bool = False) -> str:
    if split and len(text) > 1:
        pieces = "".join(f"<span lang=EN-US {_MSO_SPAN}>{ch}</span>" for ch in text)
    else:
        # Word wraps long source lines, also in the middle of CJK text.
        half = len(text) // 2
        pieces = f"<span {_MSO_SPAN}>{text[:half]}\r\n{text[half:]}</span>"
    return f"<p class={cls} style='text-indent:32.0pt;line-height:28.0pt;mso-line-height-rule:exactly'>{pieces}<span lang=EN-US {_MSO_SPAN}><o:p>&nbsp;</o:p></span></p>\r\n"


def _word_cell(text: str, *, rowspan: int = 1, colspan: int = 1, split: bool = False) -> str:
    attrs = f" width=60 valign=top {_MSO_TD}"
    if rowspan > 1:
        attrs = f" rowspan={rowspan}" + attrs
    if colspan > 1:
        attrs = f" colspan={colspan}" + attrs
    return f"<td{attrs}>\r\n{_word_p(text, split=split)}</td>\r\n"


def word_report_html(*, target_kb: int = 300) -> str:
    """Word "save as web page" output for a 4-page report, padded to about target_kb."""
    head = """<html xmlns:v="urn:schemas-microsoft-com:vml"
xmlns:o="urn:schemas-microsoft-com:office:office"
xmlns:w="urn:schemas-microsoft-com:office:word"
xmlns="http://www.w3.org/TR/REC-html40">
<head>
<meta http-equiv=Content-Type content="text/html; charset=utf-8">
<meta name=ProgId content=Word.Document>
<meta name=Generator content="Microsoft Word 15">
<title>福建省某县2020年政府信息公开工作年度报告</title>
<!--[if gte mso 9]><xml>
 <o:DocumentProperties>
  <o:Author>admin</o:Author>
  <o:Pages>4</o:Pages>
 </o:DocumentProperties>
</xml><![endif]-->
<style>
<!--
 p.MsoNormal, li.MsoNormal, div.MsoNormal
	{mso-style-unhide:no;margin:0cm;text-align:justify;font-size:10.5pt;font-family:"Times New Roman",serif;}
@page WordSection1 {size:595.3pt 841.9pt;margin:72.0pt 90.0pt 72.0pt 90.0pt;}
-->
</style>
</head>
<body lang=ZH-CN style='tab-interval:21.0pt;text-justify-trim:punctuation'>
<div class=WordSection1 style='layout-grid:15.6pt'>
"""
    parts = [head]
    parts.append(_word_p("福建省某县2020年政府信息公开工作年度报告", cls="MsoTitle"))
    parts.append(
        "<p class=MsoListParagraph style='margin-left:32.0pt;text-indent:-32.0pt;mso-list:l0 level1 lfo1'>"
        "<![if !supportLists]><span style='font-family:黑体'>一、<span style='font:7.0pt \"Times New Roman\"'>"
        "&nbsp;&nbsp;&nbsp; </span></span><![endif]><span style='font-family:黑体'>总体情况</span><o:p></o:p></p>\r\n"
    )
    body = "本县严格落实《中华人民共和国政府信息公开条例》，主动公开政府信息，依法办理依申请公开。" * 2
    table = [
        "<table class=MsoNormalTable border=1 cellspacing=0 cellpadding=0 style='border-collapse:collapse;border:none;mso-border-alt:solid windowtext .5pt'>\r\n"
    ]
    table.append(
        "<tr style='height:19.85pt'>"
        + _word_cell("信息内容")
        + "".join(_word_cell(t) for t in ["本年新制作数量", "本年新公开数量", "对外公开总数量"])
        + "</tr>\r\n"
    )
    table.append(
        "<tr>"
        + _word_cell("规章")
        + "".join(_word_cell(v, split=True) for v in ["0", "0", "0"])
        + "</tr>\r\n"
    )
    table.append(
        "<tr>"
        + _word_cell("规范性文件")
        + "".join(_word_cell(v, split=True) for v in ["12", "12", "73802895.90"])
        + "</tr>\r\n"
    )
    table.append(
        "<tr>"
        + _word_cell("三、本年度办理结果", rowspan=2)
        + _word_cell("（一）予以公开", colspan=2)
        + _word_cell("35", split=True)
        + "</tr>\r\n"
    )
    table.append("<tr>" + _word_cell("（二）部分公开", colspan=2) + _word_cell("4", split=True) + "</tr>\r\n")
    table.append(
        "<![if !supportMisalignedColumns]><tr height=0>"
        + "<td width=60 style='border:none'></td>" * 4
        + "</tr><![endif]></table>\r\n"
    )
    parts.append("".join(table))
    i = 0
    size = sum(len(p) for p in parts)
    while size < target_kb * 1024 - 200:
        chunk = _word_p(f"（{i}）{body}", split=(i % 3 == 0))
        parts.append(chunk)
        size += len(chunk)
        i += 1
    parts.append("</div>\r\n</body>\r\n</html>\r\n")
    return "".join(parts)


# ---------------------------------------------------------------- binary formats


def make_docx_bytes() -> bytes:
    """A .docx with a title, split runs, a table merged horizontally and vertically, a cell
    with two paragraphs, and an auto-numbered list paragraph."""
    import docx

    d = docx.Document()
    d.core_properties.title = "某某局2021年政府信息公开工作年度报告"
    d.add_paragraph("一、总体情况")
    p = d.add_paragraph()
    for piece in ["本年度共收到申请", "1", "2", "件。"]:
        p.add_run(piece)
    t = d.add_table(rows=5, cols=4)
    t.style = "Table Grid"
    t.cell(0, 0).merge(t.cell(0, 1)).text = "项目"
    t.cell(0, 2).text = "自然人"
    t.cell(0, 3).text = "总计"
    t.cell(1, 0).merge(t.cell(3, 0)).text = "三、本年度办理结果"
    for r, (label, n) in enumerate(
        [("（一）予以公开", "5"), ("（二）部分公开", "1"), ("（七）总计", "6")], start=1
    ):
        t.cell(r, 1).text = label
        t.cell(r, 2).text = n
        t.cell(r, 3).text = n
    t.cell(4, 0).merge(t.cell(4, 1)).text = "四、结转下年度继续办理"
    c = t.cell(4, 2)
    c.text = "商业"
    c.add_paragraph("企业")
    d.add_paragraph("二、主动公开政府信息情况")
    d.add_paragraph("加强平台建设", style="List Number")
    d.add_paragraph("完善监督保障", style="List Number")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _register_cid_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def make_pdf_bytes(*, encrypt: str | None = None) -> bytes:
    """A one-page report PDF: headings, a paragraph, and a ruled table with a colspan-2 header,
    a colspan-2 label and a rowspan-2 label."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _register_cid_font()
    style = ParagraphStyle("zh", fontName=font, fontSize=11, leading=16)
    data = [
        ["项目", "", "自然人", "法人或其他组织", "总计"],
        ["一、本年新收政府信息公开申请数量", "", "2", "0", "2"],
        ["三、本年度办理结果", "（一）予以公开", "1", "0", "1"],
        ["", "（二）部分公开", "1", "0", "1"],
    ]
    table = Table(data)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, 9),
                ("GRID", (0, 0), (-1, -1), 0.5, "black"),
                ("SPAN", (0, 0), (1, 0)),
                ("SPAN", (0, 1), (1, 1)),
                ("SPAN", (0, 2), (0, 3)),
            ]
        )
    )
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, title="某某区2021年政府信息公开工作年度报告", author="某某区人民政府办公室", encrypt=encrypt
    )
    doc.build(
        [
            Paragraph("一、总体情况", style),
            Paragraph("本机关2021年主动公开政府信息1234条。", style),
            Spacer(1, 12),
            Paragraph("三、收到和处理政府信息公开申请情况", style),
            table,
            Spacer(1, 12),
            Paragraph("四、政府信息公开行政复议、行政诉讼情况", style),
        ]
    )
    return buf.getvalue()


def make_image_only_pdf_bytes() -> bytes:
    """A scanned-looking PDF: one page holding only an image."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    img = Image.new("RGB", (400, 200), "white")
    ImageDraw.Draw(img).rectangle((20, 20, 380, 180), outline="black")
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawImage(ImageReader(img), 50, 500, 400, 200)
    c.showPage()
    c.save()
    return buf.getvalue()
