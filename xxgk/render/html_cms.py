"""A report as a CMS article page (TRS/jcms style, like the Pingtan pages).

The page carries the 政府网站发展指引 meta tags (ArticleTitle, PubDate …), a breadcrumb, a
`发布日期：YYYY-MM-DD` line and the report inside `<div class="article_component">` /
`<div id="zoom">`. Tables are editor output: `rowspan`/`colspan`, one `<p>` per cell line,
`&nbsp;` runs in some cells, empty cells as `<p>&nbsp;</p>`.
"""

from __future__ import annotations

from html import escape

from ._common import blocks, heading_level, site_name, stable_int
from .spec import ReportSpec
from .tables import GridCell, GridTable

_TD_STYLE = "border:1px solid windowtext;"
_P_CENTER = "text-indent:0em;text-align:center;"
_P_LEFT = "text-indent:0em;text-align:left;"
_BODY_P = "text-indent: 2em; line-height: 2em; margin-bottom: 0px; margin-top: 0px;"
_NBSP_RUN = " &nbsp; &nbsp;"

_BREADCRUMB = (
    '<div class="position">当前位置： <a href="../../../">首页</a> &gt; <a href="../../">政务公开</a> &gt; '
    '<a href="../">政府信息公开</a> &gt; <a href="./">政府信息公开年报</a></div>'
)
_INFO_TOOLS = (
    '<span>浏览次数：<em id="visits"></em></span><span class="font_size">字号：'
    '<a href="javascript:void(0)">大</a> <a href="javascript:void(0)">中</a> '
    '<a href="javascript:void(0)">小</a></span>'
)
_ARTICLE_TOOLS = (
    '<div class="article_tools"><a href="javascript:window.print()">【打印本页】</a> '
    '<a href="javascript:window.close()">【关闭窗口】</a></div>'
)
_NAV = ("首页", "政务公开", "政务服务", "互动交流", "走进本地", "专题专栏")
_FOOTER_LINKS = ("关于我们", "网站地图", "联系我们", "隐私声明", "使用帮助")


def _p(text: str, style: str) -> str:
    return f'<p style="{style}">{text}</p>'


def _cell_paragraphs(cell: GridCell, padded: bool) -> str:
    if cell.role == "value":
        return f"<p>{escape(cell.text) if cell.text else '&nbsp;'}</p>"
    if cell.vertical:
        # The editor output of a narrow rowspan cell: 3 characters per <p>, padded.
        chunks = [cell.text[i : i + 3] for i in range(0, len(cell.text), 3)]
        return "".join(_p(escape(c) + (_NBSP_RUN if i else ""), _P_CENTER) for i, c in enumerate(chunks))
    style = _P_LEFT if cell.role == "label" and cell.colspan == 1 and cell.rowspan == 1 else _P_CENTER
    lines = [escape(line) for line in cell.display_lines()]
    if padded:
        lines[-1] += _NBSP_RUN
    return "".join(_p(line, style) for line in lines)


def _td(cell: GridCell, padded: bool) -> str:
    attrs = ""
    if cell.rowspan > 1:
        attrs += f' rowspan="{cell.rowspan}"'
    if cell.colspan > 1:
        attrs += f' colspan="{cell.colspan}"'
    if cell.role == "value":  # value cells carry no style of their own (table border="1")
        return f'<td{attrs} align="center">{_cell_paragraphs(cell, padded)}</td>'
    return f'<td{attrs} style="{_TD_STYLE}" valign="center">{_cell_paragraphs(cell, padded)}</td>'


def _table(table: GridTable) -> str:
    rows = []
    for r, row in enumerate(table.rows):
        cls = ' style="height:19px" class="firstRow"' if r == 0 else ""
        # Some header cells come padded with &nbsp; runs (one in three, deterministically).
        cells = "".join(
            _td(cell, padded=cell.role == "header" and stable_int(table.kind, r, i) % 3 == 0)
            for i, cell in enumerate(row)
        )
        rows.append(f"<tr{cls}>{cells}</tr>")
    return (
        '<table style="border-collapse: collapse; border: none; width: 100%;" cellspacing="0" '
        f'align="center" border="1"><tbody>\n{chr(10).join(rows)}\n</tbody></table>'
    )


def _paragraph(text: str) -> str:
    level = heading_level(text)
    body = escape(text)
    if level == 1:
        return f'<p style="{_BODY_P}"><strong><span style="font-family: 黑体;">{body}</span></strong></p>'
    if level == 2:
        return f'<p style="{_BODY_P}"><strong>{body}</strong></p>'
    return f'<p style="{_BODY_P}">{body}</p>'


def _content(spec: ReportSpec) -> str:
    parts = []
    for block in blocks(spec):
        parts.append(_paragraph(block) if isinstance(block, str) else _table(block))
    return "\n".join(parts)


def _meta(spec: ReportSpec, site: str, code: str, url: str, doc_id: int) -> str:
    assert spec.published is not None
    tags = {
        "SiteName": site,
        "SiteDomain": url.split("/")[2],
        "SiteIDCode": code,
        "ColumnName": "政府信息公开年报",
        "ColumnType": "政府信息公开年报",
        "ArticleTitle": spec.title or "",
        "PubDate": spec.published.strftime("%Y-%m-%d %H:%M"),
        "ContentSource": "",
        "KeyWords": "",
        "Author": spec.agency,
        "Desctiption": "",
        "Image": "",
        "Url": url,
        "DocId": str(doc_id),
        "ChnlId": "1813",
    }
    return "\n".join(f'<meta name="{k}" content="{escape(v)}"/>' for k, v in tags.items())


def _url(spec: ReportSpec, doc_id: int, domain: str) -> str:
    assert spec.published is not None
    day = spec.published
    return f"https://{domain}/zwgk/zfxxgk/zfxxgknb/{day:%Y%m}/t{day:%Y%m%d}_{doc_id}.htm"


def _header(site: str) -> str:
    nav = "".join(f'<li><a href="../../../" target="_blank">{item}</a></li>' for item in _NAV)
    return (
        '<div class="header"><div class="header_top w1200">'
        f'<div class="logo"><a href="/"><span class="site_name">{escape(site)}</span></a></div>'
        '<div class="search"><form action="/search/" method="get" target="_blank">'
        '<input type="text" name="searchword" placeholder="请输入关键词" class="search_input"/>'
        '<input type="submit" value="搜索" class="search_btn"/></form></div></div>'
        f'<div class="nav"><ul class="w1200">{nav}</ul></div></div>'
    )


def _footer(site: str, code: str) -> str:
    links = " | ".join(f'<a href="javascript:void(0)">{item}</a>' for item in _FOOTER_LINKS)
    return (
        f'<div class="footer"><div class="w1200"><p>{links}</p>'
        f"<p>主办单位：{escape(site)}办公室　承办单位：{escape(site)}电子政务中心</p>"
        f"<p>网站标识码：{code}　ICP备案号：浙ICP备0500{code[-4:]}号</p>"
        "<p>建议使用1366×768分辨率及以上浏览本网站</p></div></div>"
    )


def to_cms_html(spec: ReportSpec) -> str:
    """A full CMS article page (UTF-8 text)."""
    assert spec.published is not None
    site = site_name(spec.agency)
    doc_id = 60000 + stable_int(spec.agency, spec.year) % 40000
    domain = f"www.xxgk{stable_int(site) % 9000 + 1000}.gov.cn"
    url = _url(spec, doc_id, domain)
    code = str(3300000000 + stable_int(site) % 99999)
    title = escape(spec.title or "")
    day = spec.published
    info = f"<span>发布日期：{day:%Y-%m-%d}</span><span>来源：{escape(spec.agency)}</span>{_INFO_TOOLS}"
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8"/>
<meta http-equiv="X-UA-Compatible" content="IE=edge"/>
{_meta(spec, site, code, url, doc_id)}
<title>{title}_政府信息公开年报_{escape(site)}</title>
<link rel="stylesheet" type="text/css" href="/images/common.css"/>
<link rel="stylesheet" type="text/css" href="/images/xxgk_article.css"/>
<script type="text/javascript" src="/images/jquery.min.js"></script>
</head>
<body>
{_header(site)}
<div class="main w1200">
{_BREADCRUMB}
<div class="article_component">
<div class="article_title text_align_center">{title}</div>
<div class="article_info text_align_center">{info}</div>
<div class="article_content" id="zoom">
{_content(spec)}
</div>
<div class="article_attachment" id="file_xmb"><ul id="file_ul_fj"></ul></div>
{_ARTICLE_TOOLS}
</div>
</div>
{_footer(site, code)}
</body>
</html>
"""
