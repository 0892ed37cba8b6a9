"""A TRS site (福建 集约化 style, like 平潭): a static first list page `index.htm` with
rows of title + date, further pages `index_1.htm`, `index_2.htm` announced by the TRS
pagination call `createPageHTML(3, 0, "index", "htm")`, and articles at
`/zwgk/zfxxgk/zfxxgknb/YYYYMM/tYYYYMMDD_<docid>.htm` carrying the 政府网站发展指引 meta tags
and a visible `来源：… 时间：YYYY-MM-DD HH:MM` line.

Every page is GBK-encoded: most declare `charset=gb2312` in a meta tag (while using
characters only GBK has), one list page also says `charset=GBK` in the HTTP header, and the
2021 report page declares nothing at all.

`trs_search_site()` is a department column of the same portal (县发改局) on the newer 福建
集约化 template, a "动静结合" list as on 平潭's site: the static `index.htm` shows only the first
page (`maxStaticIndex: 1`, 10 rows); the page's `list2.trsapi` script pages the rest through the
site's document search, `POST /fjdzapp/search` (channelid = `SiteInfo.searchId`,
classsql = `chnlid=<column>`, sortfield, page, prepage) answering JSON
`{"data": [{"doctitle", "chnldocurl", "docpuburl", "docreltime", …}], "pageCount": N}`. Its
2019–2022 reports are reachable only through the search. (The search's path and answer follow
public crawlers of 福建 sites; the module's own request is not documented, see
scraper.platforms.trs.)
"""

from __future__ import annotations

import datetime as dt
import json
import math

from xxgk.render import ReportSpec, synthetic_spec

from ._base import Builder, Item
from .content import cms_fragment, encode_page, esc, notice_paragraphs, word_fragment
from .model import Page, Site, fingerprint

COLUMN = "/zwgk/zfxxgk/zfxxgknb/"
PER_PAGE = 10
SITE_NAME = "连江县人民政府"
DOMAIN = "www.lianjiang.gov.cn"
SITE_CODE = "3501220001"
CHANNEL = "4213"
COLUMN_NAME = "政府信息公开年报"
AGENCY = "连江县人民政府"
SOURCE = "连江县人民政府办公室"

_GB2312_META = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />'

# The pagination helper as TRS templates inline it (our own rendition).
_PAGER_JS = """<script type="text/javascript">
function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt) {
    if (_nPageCount == null || _nPageCount <= 1) { return; }
    var first = _sPageName + "." + _sPageExt;
    var prev = _nCurrIndex <= 1 ? first : _sPageName + "_" + (_nCurrIndex - 1) + "." + _sPageExt;
    var next = _sPageName + "_" + (_nCurrIndex + 1) + "." + _sPageExt;
    var last = _sPageName + "_" + (_nPageCount - 1) + "." + _sPageExt;
    var html = "共" + _nPageCount + "页 ";
    html += _nCurrIndex == 0 ? "<span>首页</span> <span>上一页</span> " : "<a href=\\"" + first + "\\">首页</a> <a href=\\"" + prev + "\\">上一页</a> ";
    html += _nCurrIndex >= _nPageCount - 1 ? "<span>下一页</span> <span>尾页</span>" : "<a href=\\"" + next + "\\">下一页</a> <a href=\\"" + last + "\\">尾页</a>";
    document.write(html);
}
</script>"""


def _header() -> str:
    nav = "".join(
        f'<li><a href="{href}">{name}</a></li>'
        for name, href in (("首页", "/"), ("政务公开", "/zwgk/"), ("政务服务", "/zwfw/"), ("互动交流", "/hdjl/"),
                           ("走进连江", "/zjlj/"))
    )
    return (
        '<div class="header"><div class="w1200"><div class="logo"><a href="/">'
        f'<img src="/images/logo.png" alt="{SITE_NAME}"/></a></div>'
        '<form class="search" action="/was5/web/search" method="get"><input type="text" name="searchword"/>'
        '<input type="submit" value="搜索"/></form></div>'
        f'<div class="nav"><ul class="w1200">{nav}</ul></div></div>'
    )


def _footer() -> str:
    return (
        '<div class="footer"><div class="w1200">'
        '<p><a href="/gywm/">关于我们</a> | <a href="/wzdt/">网站地图</a> | <a href="/lxwm/">联系我们</a></p>'
        f"<p>主办单位：{SOURCE}　地址：连江县凤城镇818路</p>"
        f"<p>网站标识码：{SITE_CODE}　闽ICP备05012345号　闽公网安备 35012202000123号</p>"
        "</div></div>"
    )


def _site_meta(column_name: str = COLUMN_NAME) -> str:
    tags = {
        "SiteName": SITE_NAME,
        "SiteDomain": DOMAIN,
        "SiteIDCode": SITE_CODE,
        "ColumnName": column_name,
        "ColumnDescription": "",
        "ColumnKeywords": "",
        "ColumnType": column_name,
    }
    return "\n".join(f'<meta name="{k}" content="{esc(v)}"/>' for k, v in tags.items())


class TrsBuilder(Builder):
    platform = "trs"
    charset = None  # TRS sends a bare text/html; the pages say gb2312 (or nothing)
    # The column and who publishes in it (the county government's own column by default).
    column = COLUMN
    column_name = COLUMN_NAME
    channel = CHANNEL
    source = SOURCE  # the 来源 line
    author = "县政府办"  # the Author meta
    encoding = "gbk"

    def new_url(self, site: Site, published: dt.datetime) -> str:
        return f"{self.column}{published:%Y%m}/t{published:%Y%m%d}_{self.next_id(90000)}.htm"

    # ---- list pages ----

    def list_pages(self, site: Site) -> dict[str, Page]:
        rows = self.ordered(site)
        count = max(1, math.ceil(len(rows) / PER_PAGE))
        pages: dict[str, Page] = {}
        for index in range(count):
            chunk = rows[index * PER_PAGE : (index + 1) * PER_PAGE]
            items = "\n".join(
                f'<li><a href="{esc(self._relative(e.href))}" target="_blank" title="{esc(e.title)}">'
                f"{esc(e.title)}</a><span>{e.date:%Y-%m-%d}</span></li>"
                for e in chunk
            )
            html = f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
{_GB2312_META}
<meta http-equiv="X-UA-Compatible" content="IE=edge" />
{_site_meta()}
<title>{COLUMN_NAME}_{SITE_NAME}</title>
<link href="/images/common.css" rel="stylesheet" type="text/css" />
{_PAGER_JS}
</head>
<body>
{_header()}
<div class="main w1200">
<div class="position">当前位置：<a href="../../../">首页</a> &gt; <a href="../../">政务公开</a> &gt; <a href="../">政府信息公开</a> &gt; <span>{COLUMN_NAME}</span></div>
<div class="xxgk_list">
<div class="list_head"><span class="bt">标题</span><span class="rq">发布日期</span></div>
<ul class="list">
{items}
</ul>
<div class="page"><script type="text/javascript">createPageHTML({count}, {index}, "index", "htm");</script></div>
</div>
</div>
{_footer()}
</body>
</html>
"""
            name = "index.htm" if index == 0 else f"index_{index}.htm"
            newest = max((e.date for e in chunk), default=dt.date(2020, 1, 1))
            page = Page(
                encode_page(html, "gbk"),
                charset="GBK" if index == 2 else None,
                last_modified=dt.datetime.combine(max(newest, self._newest(site)), dt.time(18, 0)),
            )
            pages[COLUMN + name] = page
            if index == 0:
                pages[COLUMN] = page  # the column directory serves its index
        return pages

    def _newest(self, site: Site) -> dt.date:
        return max((e.date for e in site.entries), default=dt.date(2020, 1, 1))

    def _relative(self, href: str) -> str:
        return "./" + href[len(self.column) :] if href.startswith(self.column) else href

    # ---- articles ----

    def article_bytes(self, site: Site, item: Item) -> bytes:
        docid = item.url.rsplit("_", 1)[-1].split(".")[0]
        stamp = item.published.strftime("%Y-%m-%d %H:%M")
        if item.kind == "notice":
            content = f'<div class="TRS_Editor">{notice_paragraphs(item.title, self.source, item.published.date())}</div>'
            style = ""
        elif item.fmt == "word_html":
            assert item.spec is not None
            style, body = word_fragment(item.spec)
            content = f'<div class="TRS_Editor">{body}</div>'
        else:
            assert item.spec is not None
            content = cms_fragment(item.spec)
            style = ""
        meta = {
            "SiteName": SITE_NAME, "SiteDomain": DOMAIN, "SiteIDCode": SITE_CODE, "ColumnName": self.column_name,
            "ColumnType": self.column_name, "ArticleTitle": item.title, "PubDate": stamp, "ContentSource": "",
            "KeyWords": "", "Author": self.author, "Desctiption": "", "Image": "",
            "Url": f"https://{DOMAIN}{item.url}", "Pics": "", "DocId": docid, "ChnlId": self.channel, "SiteId": "28",
        }  # fmt: skip
        metas = "\n".join(f'<meta name="{k}" content="{esc(v)}"/>' for k, v in meta.items())
        declare = "" if item.opts.get("no_charset") else self._declare()
        html = f"""<!DOCTYPE html>
<html>
<head>
{declare}
{metas}
<title>{esc(item.title)}_{self.column_name}_{SITE_NAME}</title>
<link href="/images/common.css" rel="stylesheet" type="text/css" />
{style}
</head>
<body>
{_header()}
<div class="main w1200">
<div class="position">当前位置： <a href="../../../../">首页</a> &gt; <a href="../../../">政务公开</a> &gt; <a href="../../">政府信息公开</a> &gt; <a href="../">{self.column_name}</a></div>
<div class="article_component">
<div class="article_title text_align_center">{esc(item.title)}</div>
<div class="article_info text_align_center"><span>来源：{self.source}</span> <span>时间：{stamp}</span> <span>浏览量：<em id="visits"></em></span></div>
<div class="article_content" id="zoom">
{content}
</div>
<div class="article_attachment" id="file_xmb"><ul id="file_ul_fj"></ul></div>
<div class="article_tools"><a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a></div>
</div>
</div>
{_footer()}
</body>
</html>
"""
        return encode_page(html, self.encoding)

    def _declare(self) -> str:
        return _GB2312_META


_NOTICES: tuple[tuple[str, dt.date, bool], ...] = (
    ("连江县人民政府信息公开指南", dt.date(2021, 3, 2), True),
    ("关于林堃等同志职务任免的通知", dt.date(2024, 3, 12), False),
    ("连江县2024年政务公开工作要点", dt.date(2024, 2, 27), False),
    ("连江县人民政府关于公布2024年县级行政许可事项清单的通知", dt.date(2024, 2, 1), False),
    ("连江县2023年政务公开工作要点", dt.date(2023, 4, 18), False),
    ("连江县人民政府办公室关于开展2023年政务公开培训的通知", dt.date(2023, 6, 9), False),
    ("连江县人民政府关于调整县政务公开工作领导小组成员的通知", dt.date(2023, 3, 3), False),
    ("连江县2022年政务公开工作要点", dt.date(2022, 5, 6), False),
    ("连江县人民政府办公室关于印发政府信息依申请公开工作规程的通知", dt.date(2022, 9, 14), False),
    ("连江县人民政府关于2022年度县级预算执行情况的公告", dt.date(2022, 8, 30), False),
    ("连江县2021年政务公开工作要点", dt.date(2021, 5, 11), False),
    ("关于公布连江县第二批非物质文化遗产代表性项目名录的通知", dt.date(2021, 7, 20), False),
    ("连江县人民政府关于开展第七次全国人口普查的通告", dt.date(2020, 10, 28), False),
    ("连江县2020年政务公开工作要点", dt.date(2020, 6, 2), False),
    ("连江县人民政府办公室关于做好政府信息主动公开工作的通知", dt.date(2020, 4, 16), False),
    ("连江县2019年政务公开工作要点", dt.date(2019, 6, 3), False),
    ("连江县人民政府关于调整部分行政权力事项的通知", dt.date(2019, 9, 25), False),
)
# Its title names a report and a year, but it asks for reports: not a report.
_DECOY = ("关于做好2023年度政府信息公开工作年度报告编制和发布工作的通知", dt.datetime(2024, 1, 5, 9, 0))

# year -> (template, format, published, URL date if it differs, options)
_REPORTS: tuple[tuple[int, str, str, dt.datetime, dt.date | None, dict], ...] = (
    (2019, "2019", "word_html", dt.datetime(2020, 1, 20, 9, 48), None, {}),
    (2020, "2019", "word_html", dt.datetime(2021, 1, 27, 15, 20), None, {}),
    (2021, "2021", "cms_html", dt.datetime(2022, 1, 21, 10, 5), None, {"no_charset": True}),
    (2022, "2021", "cms_html", dt.datetime(2023, 1, 13, 16, 34), dt.date(2023, 1, 16), {}),
    (2023, "2021", "cms_html", dt.datetime(2024, 1, 19, 10, 12), None, {}),
)


def trs_site(name: str = "lianjiang-trs") -> Site:
    """连江县人民政府 on TRS: five years of its own reports (2019–2023; 2019 and 2020 as Word
    HTML on the 2019 template), 17 notices, one decoy notice, three list pages."""
    site = Site(
        name=name, platform="trs", agency=AGENCY, region_code="350122", region_name="福建省福州市连江县",
        level="government", list_paths=[COLUMN + "index.htm"], site_name=SITE_NAME,
    )  # fmt: skip
    builder = TrsBuilder()
    site.builder = builder
    for n, (title, day, pinned) in enumerate(_NOTICES):
        when = dt.datetime.combine(day, dt.time(9 + n % 8, 10 + n))
        url = f"{COLUMN}{when:%Y%m}/t{when:%Y%m%d}_{50210 + n * 1301}.htm"
        builder.publish(site, Item(title=title, url=url, published=when, kind="notice"), pinned=pinned)
    title, when = _DECOY
    decoy_url = f"{COLUMN}{when:%Y%m}/t{when:%Y%m%d}_86311.htm"
    builder.publish(site, Item(title=title, url=decoy_url, published=when, kind="notice"), entry_kind="decoy")
    site.decoys.append(decoy_url)
    series: dict[int, ReportSpec] = {}  # by year: each report follows the one before
    for year, template, fmt, published, url_day, opts in _REPORTS:
        spec: ReportSpec = synthetic_spec(3501 + year, template=template, year=year, agency=AGENCY,
                                           previous=series.get(year - 1))
        series[year] = spec
        day = url_day or published.date()
        docid = 60000 + (year - 2018) * 6151
        url = f"{COLUMN}{day:%Y%m}/t{day:%Y%m%d}_{docid}.htm"
        notes = []
        if url_day:
            notes.append(f"URL date {url_day:%Y-%m-%d} differs from 时间 {published:%Y-%m-%d}")
        if opts.get("no_charset"):
            notes.append("GBK page declaring no charset (no meta, no header)")
        if fmt == "word_html":
            notes.append("Word-exported HTML inside the article")
        builder.publish(
            site,
            Item(title=spec.title or "", url=url, published=published, fmt=fmt, spec=spec, opts=opts),
            truth={"notes": "; ".join(notes)},
        )
    site.fault_urls["url_date_differs"] = next(r.url for r in site.reports if r.year == 2022)
    site.fault_urls["gbk_no_charset"] = next(r.url for r in site.reports if r.year == 2021)
    builder.rebuild_lists(site)
    return site


# ---- a "动静结合" column: static first page, the rest through the document search ------------

SEARCH_PATH = "/fjdzapp/search"
SEARCH_ID = "200210"  # SiteInfo.searchId: the site's document search channel
FGJ_COLUMN = "/zwgk/zfxxgk/bmxxgk/xfgj/"
FGJ_CHANNEL = "4231"
FGJ_AGENCY = "连江县发展和改革局"
STATIC_PAGES = 1  # maxStaticIndex

_SITE_INFO = """<script>
    var SiteInfo = {
        itpSiteId: 21,    //互动站点ID
        itp4advice: 41,  //意见征集栏目ID
        searchId: %s, //默认的文档检索频道的ID
        defaultPgTemp: "pgBar_lj.html",  //本站点默认的分页模板名
        siteMsgType: "govSite",
        initWindowRoot: false,
        initPageview: true
    };
</script>
<script src="/images/model.min.js"></script>"""


class TrsSearchBuilder(TrsBuilder):
    """A 福建 集约化 column: UTF-8 pages, a static first page and the document search."""

    column = FGJ_COLUMN
    column_name = "县发改局"
    channel = FGJ_CHANNEL
    source = FGJ_AGENCY
    author = "县发改局"
    encoding = "utf-8"

    def _declare(self) -> str:
        return '<meta charset="utf-8" />'

    def list_pages(self, site: Site) -> dict[str, Page]:
        rows = self.ordered(site)
        static = rows[: PER_PAGE * STATIC_PAGES]
        items = "\n".join(
            f"""<dl>
<dd class="trt-col-sm-24 slb-trt-col-24 text_align_left">
<a href="{esc(self._relative(e.href))}" target="_blank" title="{esc(e.title)}">{esc(e.title)}</a>
</dd>
<dd class="trt-col-4 trt-col-sm-24 slb-trt-col-24 text_align_left">
{e.date:%Y-%m-%d}
</dd>
</dl>"""
            for e in static
        )
        html = f"""<!DOCTYPE html>
<html ms-controller="windowRoot">
<head>
<meta charset="utf-8" name="viewport" content="width=device-width, initial-scale=1.0, maximum-scale=1.0">
<meta http-equiv="x-UA-Compatible" content="IE=Edge,Chrome=1" />
{_site_meta(self.column_name)}
<meta name="ChnlId" content="{self.channel}">
<meta name="SiteId" content="28"/>
<title>{self.column_name}_{SITE_NAME}</title>
<link rel="stylesheet" type="text/css" href="/images/trt_ui_v2.css">
</head>
<body>
{_header()}
<div class="main w1200">
<div class="position">当前位置：<a href="../../../../">首页</a> &gt; <a href="../../../">政务公开</a> &gt; <a href="../../">政府信息公开</a> &gt; <a href="../">部门信息公开</a> &gt; <span>{self.column_name}</span></div>
<div class="tabs info_tabs" ms-controller="list">
<div class="tabs_header"><ul><li class="on"><a class="cur_def" href="javascript:;">{self.column_name}</a></li></ul></div>
<div class="rules_tabs_01 none_sm slb_none rules_tabs_no_bg"><dl><dt class="trt-col-sm-24 slb-trt-col-24">标题</dt><dt class="trt-col-4 trt-col-sm-24 slb-trt-col-24 text_align_left">发布日期</dt></dl></div>
<div class="rules_tabs_01 rules_tabs_no_bg" ms-visible="showStatic">
{items}
</div>
<div class="rules_tabs_01 rules_tabs_no_bg" ms-visible="!showStatic" style="display: none">
<div ms-if="list.length==0"><div ms-if="!error" class="loading"></div><div ms-if="error" ms-text="error|html"></div></div>
<dl ms-if="list.length>0" ms-repeat="list" ms-if-loop="$index<{PER_PAGE}">
<dd class="trt-col-sm-24 slb-trt-col-24 text_align_left"><a ms-attr-href="el.chnldocurl" ms-attr-title="el.doctitle" ms-text="el.doctitle|html" target="_blank"></a></dd>
<dd class="trt-col-4 trt-col-sm-24 slb-trt-col-24 text_align_left" ms-text="el.docreltime|date('yyyy-MM-dd')"></dd>
</dl>
</div>
<div class="page_base mar_t_base" ms-controller="list_pagebar" ms-include-src="pgTemp" ms-if="pageCount>0"></div>
</div>
</div>
{_footer()}
{_SITE_INFO % SEARCH_ID}
<script>
    require(["list2.trsapi", "tools"], function(listModel, tools) {{
        listModel({{
            quickMode: "动静结合",
            maxStaticIndex: {STATIC_PAGES},
            listArgs: {{
                channelid: SiteInfo.searchId,
                classsql: "" || "chnlid={self.channel}",
                sortfield: "-docorderpri,-docreltime"
            }},
            pagebar: {{
                prepage: {PER_PAGE},
                recordCount: '{len(rows)}',
                pgTemp: "pgBar_xxgk.html",
                pgCountMode: "recordCount",
                displayNum: 2
            }}
        }});
    }});
</script>
</body>
</html>
"""
        newest = max((e.date for e in site.entries), default=dt.date(2020, 1, 1))
        page = Page(html.encode("utf-8"), last_modified=dt.datetime.combine(newest, dt.time(18, 0)))
        return {self.column + "index.htm": page, self.column: page}

    def search(self, site: Site):
        """The document search: the column's rows, pinned first then newest, one page of
        `prepage` records per request; another channel or column gives no rows."""

        def answer(method: str, query: dict[str, str], form: dict[str, str], base: str) -> Page | None:
            params = {**query, **form}
            ok = (params.get("channelid") == SEARCH_ID
                  and params.get("classsql", "").replace(" ", "") == f"chnlid={self.channel}")  # fmt: skip
            rows = self.ordered(site) if ok else []
            prepage = max(1, min(_int(params.get("prepage"), PER_PAGE), 500))
            page = max(1, _int(params.get("page"), 1))
            chosen = rows[(page - 1) * prepage : page * prepage]
            data = []
            for e in chosen:
                item = self.items.get(e.href)
                when = item.published if item is not None else dt.datetime.combine(e.date, dt.time(9, 0))
                when = dt.datetime.combine(e.date, when.time())  # docreltime: the list's date
                url = base + e.href
                docid = e.href.rsplit("_", 1)[-1].split(".")[0]
                data.append({
                    "docid": int(docid) if docid.isdigit() else 0, "doctitle": e.title, "chnldocurl": url,
                    "docpuburl": url, "docreltime": f"{when:%Y-%m-%d %H:%M:%S}", "chnlid": int(self.channel),
                    "docsourcename": self.source, "fileno": "", "idxid": "",
                })  # fmt: skip
            body = {"data": data, "pageCount": math.ceil(len(rows) / prepage), "page": page, "prepage": prepage}
            newest = max((e.date for e in site.entries), default=dt.date(2020, 1, 1))
            encoded = json.dumps(body, ensure_ascii=False).encode("utf-8")
            return Page(encoded, content_type="application/json", charset="UTF-8",
                        last_modified=dt.datetime.combine(newest, dt.time(18, 0)),
                        key=fingerprint("search", encoded))

        return answer


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default


# (title, list date, pinned): the department's notices around its reports
_FGJ_NOTICES: tuple[tuple[str, dt.date, bool], ...] = (
    ("连江县发展和改革局政府信息公开指南", dt.date(2021, 3, 2), True),
    ("连江县2024年第二季度重要民生商品价格监测情况", dt.date(2024, 6, 18), False),
    ("连江县发展和改革局关于2024年县级重点项目前期工作经费安排的公示", dt.date(2024, 5, 20), False),
    ("连江县发展和改革局关于开展2024年粮食安全宣传周活动的通知", dt.date(2024, 4, 11), False),
    ("连江县2024年第一季度重要民生商品价格监测情况", dt.date(2024, 3, 15), False),
    ("连江县发展和改革局2024年政务公开工作要点", dt.date(2024, 2, 27), False),
    ("连江县发展和改革局关于公布2023年度县级重点项目完成情况的公告", dt.date(2023, 11, 9), False),
    ("连江县发展和改革局关于调整部分行政事业性收费标准的公示", dt.date(2023, 8, 22), False),
    ("连江县2023年第一季度重要民生商品价格监测情况", dt.date(2023, 5, 16), False),
    ("连江县发展和改革局2023年政务公开工作要点", dt.date(2023, 3, 2), False),
    ("连江县发展和改革局关于2022年县级重点项目前期工作经费安排的公示", dt.date(2022, 10, 13), False),
    ("连江县2022年第二季度重要民生商品价格监测情况", dt.date(2022, 7, 5), False),
    ("连江县发展和改革局2022年政务公开工作要点", dt.date(2022, 4, 19), False),
    ("连江县发展和改革局关于开展2021年节能宣传周活动的通知", dt.date(2021, 9, 14), False),
    ("连江县2021年第一季度重要民生商品价格监测情况", dt.date(2021, 6, 8), False),
    ("连江县发展和改革局2021年政务公开工作要点", dt.date(2021, 3, 23), False),
    ("连江县发展和改革局关于2020年县级重点项目前期工作经费安排的公示", dt.date(2020, 8, 18), False),
    ("连江县发展和改革局2020年政务公开工作要点", dt.date(2020, 4, 7), False),
    ("连江县发展和改革局关于开展2019年节能宣传周活动的通知", dt.date(2019, 10, 15), False),
)
_FGJ_DECOY = ("关于做好2022年度政府信息公开工作年度报告编制和发布工作的通知", dt.datetime(2022, 12, 20, 9, 30))
# year -> (template, published (时间 line and list date), URL date if it differs)
_FGJ_REPORTS: tuple[tuple[int, str, dt.datetime, dt.date | None], ...] = (
    (2019, "2019", dt.datetime(2020, 1, 21, 16, 5), None),
    (2020, "2019", dt.datetime(2021, 1, 26, 9, 40), dt.date(2021, 1, 29)),
    (2021, "2021", dt.datetime(2022, 1, 24, 10, 30), None),
    (2022, "2021", dt.datetime(2023, 1, 28, 15, 12), None),
    (2023, "2021", dt.datetime(2024, 1, 24, 11, 0), None),
)


def trs_search_site(name: str = "lianjiang-fgj-trs") -> Site:
    """连江县发展和改革局's column on the 连江 portal, a "动静结合" list: five years of reports
    (2019–2023), 19 notices (one pinned) and a decoy; the static page shows 10 of the 25 rows,
    the document search pages all of them (3 pages of 10). The 2019–2022 reports are only in
    the search's answers; the 2020 one's URL date (t20210129) is not its 时间 (2021-01-26)."""
    site = Site(
        name=name, platform="trs", agency=FGJ_AGENCY, region_code="350122", region_name="福建省福州市连江县",
        level="department", list_paths=[FGJ_COLUMN + "index.htm"], site_name=SITE_NAME,
    )  # fmt: skip
    builder = TrsSearchBuilder()
    site.builder = builder
    for n, (title, day, pinned) in enumerate(_FGJ_NOTICES):
        when = dt.datetime.combine(day, dt.time(9 + n % 8, 5 + n))
        url = f"{FGJ_COLUMN}{when:%Y%m}/t{when:%Y%m%d}_{71020 + n * 977}.htm"
        builder.publish(site, Item(title=title, url=url, published=when, kind="notice"), pinned=pinned)
    title, when = _FGJ_DECOY
    decoy_url = f"{FGJ_COLUMN}{when:%Y%m}/t{when:%Y%m%d}_85530.htm"
    builder.publish(site, Item(title=title, url=decoy_url, published=when, kind="notice"), entry_kind="decoy")
    site.decoys.append(decoy_url)
    series: dict[int, ReportSpec] = {}
    for year, template, published, url_day in _FGJ_REPORTS:
        spec: ReportSpec = synthetic_spec(3502 + year, template=template, year=year, agency=FGJ_AGENCY,
                                           previous=series.get(year - 1))
        series[year] = spec
        day = url_day or published.date()
        url = f"{FGJ_COLUMN}{day:%Y%m}/t{day:%Y%m%d}_{62000 + (year - 2018) * 5237}.htm"
        notes = ["static list page" if year >= 2023 else "only through the document search (/fjdzapp/search)"]
        if url_day:
            notes.append(f"URL date {url_day:%Y-%m-%d} differs from 时间 {published:%Y-%m-%d}")
        builder.publish(site, Item(title=spec.title or "", url=url, published=published, spec=spec),
                        truth={"notes": "; ".join(notes)})
    site.fault_urls["search_only"] = next(r.url for r in site.reports if r.year == 2019)
    site.fault_urls["url_date_differs"] = next(r.url for r in site.reports if r.year == 2020)
    site.dynamic[SEARCH_PATH] = builder.search(site)
    builder.rebuild_lists(site)
    return site
