"""A Hanweb jcms site (浙江 style): the column page `/col/col<id>/index.html` embeds the first
15 records and the jpage call whose parameters (col, appid, webid, path, columnid,
sourceContentType, unitid, webname, permissiontype) a crawler POSTs to
`/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=45&perpage=15`; the answer is XML
with `<totalrecord>` and one `<record><![CDATA[<li>…</li>]]></record>` per row.

Articles live at `/art/Y/M/D/art_<columnId>_<id>.html` (month and day not zero-padded) with
the jcms metadata table (索引号, 发布机构, 成文日期 – which is NOT the publication date) and a
`发布日期:2023-01-04 14:42` line. Some reports are attachments only (the article body is just
a link to a .docx, .pdf or .doc); one is inline and also attached as PDF (one report).

Department and township reports are also published through the annual-report module
`/module/xxgk/xxgkAnnualReport.jsp?area=<unit code>&fbtime=<year>`: two (2022) are rows of the
column; the rest only the module shows. The column page's 部门信息公开 box links the units'
信息公开 columns with their codes (`/col/col…/index.html?vc_xxgkarea=<code>`), as jcms portals
do; one township's code is linked nowhere (`Site.hints["unit_codes"]` names it). For a unit and
year the module shows the report page, a page linking to the report (招宝山街道 2023), or a
"未查询到" page. (What the real module answers is not documented: see scraper.platforms.jcms.)
"""

from __future__ import annotations

import datetime as dt
import hashlib
from urllib.parse import quote

from xxgk.render import ReportSpec, synthetic_spec

from ._base import Attachment, Builder, Item
from .content import cms_fragment, esc, load_seeds, notice_paragraphs, soffice_path
from .model import Page, Site

SITE_NAME = "宁波市镇海区人民政府"
DOMAIN = "www.zh.gov.cn"
SITE_CODE = "3302110001"
WEBID = "2961"
COLUMN_ID = "1229565123"
UNIT_ID = "7342215"
COLUMN_NAME = "政府信息公开年报"
COLUMN = f"/col/col{COLUMN_ID}/index.html"
DATAPROXY = "/module/web/jpage/dataproxy.jsp"
MODULE = "/module/xxgk/xxgkAnnualReport.jsp"
PER_PAGE = 15
GROUP = 3  # pages per dataproxy request (45 records)
REGION_CODE = "330211"
DISTRICT = "宁波市镇海区人民政府"

# xxgk unit codes (统一社会信用代码) of the units the module knows
ZJJ_CODE = "11330211002948311B"  # 区住建局: linked from the column page
ZBS_CODE = "11330211MB1890456K"  # 招宝山街道: linked
EDU_CODE = "11330211002948167Y"  # 区教育局: linked, publishes nothing through the module
LT_CODE = "11330211MB1890503X"  # 骆驼街道: linked nowhere, a site hint
# The column page's 部门信息公开 box: (name, column id, unit code)
_UNIT_LINKS = (("区住建局", "1229565301", ZJJ_CODE), ("区教育局", "1229565302", EDU_CODE),
               ("招宝山街道", "1229565311", ZBS_CODE))  # fmt: skip

# Short names as the 发布机构 field prints them.
_SHORT = {
    "宁波市镇海区人力资源和社会保障局": "区人力社保局",
    "宁波市镇海区机关事务管理局": "区机关事务局",
    "宁波市镇海区人民政府": "区政府办",
    "宁波市镇海区住房和城乡建设局": "区住建局",
    "宁波市镇海区招宝山街道办事处": "招宝山街道",
}


def art_url(day: dt.date, art_id: int, column: str = COLUMN_ID) -> str:
    return f"/art/{day.year}/{day.month}/{day.day}/art_{column}_{art_id}.html"


def _record(title: str, href: str, day: dt.date) -> str:
    return f'<li><a href="{esc(href)}" title="{esc(title)}" target="_blank">{esc(title)}</a><span>{day:%Y-%m-%d}</span></li>'


def _cdata(fragment: str) -> str:
    return f"<record><![CDATA[{fragment}]]></record>"


def _param_string() -> str:
    return (f"webid={WEBID}&path=/&columnid={COLUMN_ID}&unitid={UNIT_ID}&webname={quote(SITE_NAME)}"
            "&permissiontype=0")  # fmt: skip


def _header() -> str:
    nav = "".join(
        f'<li><a href="/col/col{cid}/index.html">{name}</a></li>'
        for name, cid in (("首页", "1229564000"), ("政务公开", "1229564301"), ("政务服务", "1229564302"),
                          ("政民互动", "1229564303"), ("走进镇海", "1229564304"))
    )
    return (
        f'<div class="top"><div class="w1200"><a class="logo" href="/">{SITE_NAME}</a>'
        '<form action="/jrobot/search.do" method="get"><input name="q" type="text"/><input type="submit" value="搜索"/>'
        f'</form></div><ul class="nav">{nav}</ul></div>'
    )


def _footer() -> str:
    return (
        '<div class="bottom"><p><a href="/col/col1229564399/index.html">网站地图</a> | 联系我们</p>'
        f"<p>主办：宁波市镇海区人民政府办公室　网站标识码：{SITE_CODE}　浙ICP备05004861号</p></div>"
    )


def _unit_box() -> str:
    links = "".join(
        f'<li><a href="/col/col{cid}/index.html?vc_xxgkarea={code}" target="_blank">{name}</a></li>'
        for name, cid, code in _UNIT_LINKS
    )
    return f'<div class="bmxxgk"><h3>部门信息公开</h3><ul>{links}</ul></div>'


class JcmsBuilder(Builder):
    platform = "jcms"

    def __init__(self) -> None:
        super().__init__()
        self.module_pages: dict[tuple[str, str], str] = {}  # (area, fbtime) -> page key

    def new_url(self, site: Site, published: dt.datetime) -> str:
        return art_url(published.date(), self.next_id(70000, 13))

    # ---- lists ----

    def records(self, site: Site) -> list[str]:
        return [_record(e.title, e.href, e.date) for e in self.ordered(site)]

    def list_pages(self, site: Site) -> dict[str, Page]:
        records = self.records(site)
        first = "\n".join(_cdata(r) for r in records[:PER_PAGE])
        newest = max(e.date for e in site.entries)
        html = f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="SiteName" content="{SITE_NAME}">
<meta name="SiteDomain" content="{DOMAIN}">
<meta name="SiteIDCode" content="{SITE_CODE}">
<meta name="ColumnName" content="{COLUMN_NAME}">
<meta name="ColumnDescription" content="镇海区各部门、各街道（镇）政府信息公开工作年度报告">
<meta name="ColumnKeywords" content="年报,政府信息公开">
<meta name="ColumnType" content="{COLUMN_NAME}">
<title>{COLUMN_NAME} - {SITE_NAME}</title>
<link rel="stylesheet" href="/images/1229564000/css/style.css">
<script type="text/javascript" src="/module/jslib/jquery/jquery.js"></script>
<script type="text/javascript" src="/module/web/jpage/jquery.page.min.js"></script>
</head>
<body>
{_header()}
<div class="w1200 main">
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/col/col1229564301/index.html">政务公开</a> &gt; <span>{COLUMN_NAME}</span></div>
{_unit_box()}
<div class="xxgk_list">
<div id="{UNIT_ID}"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="{DATAPROXY}?page=1&{_param_string()}"></a>]]></nextgroup>
<recordset>
{first}
</recordset>
</datastore></script></div>
<script type="text/javascript">
$(function () {{
    var ajaxParam = {{col: 1, appid: 1, webid: {WEBID}, path: '/', columnid: {COLUMN_ID}, sourceContentType: 1, unitid: {UNIT_ID}, webname: '{SITE_NAME}', permissiontype: 0}};
    $('#{UNIT_ID}').jpage({{
        proxyUrl: '{DATAPROXY}',
        ajaxParam: ajaxParam,
        perPage: {PER_PAGE},
        groupSize: {GROUP},
        totalRecord: {len(records)},
        dataBefore: '<ul class="list">',
        dataAfter: '</ul>',
        barPosition: 'bottom',
        showMode: 'full'
    }});
}});
</script>
</div>
</div>
{_footer()}
</body>
</html>
"""
        return {COLUMN: Page(html.encode("utf-8"), charset="utf-8",
                             last_modified=dt.datetime.combine(newest, dt.time(18, 0)))}

    def dataproxy(self, site: Site):
        """The dataproxy endpoint: parameters may come in the query or the POSTed form."""

        def answer(method: str, query: dict[str, str], form: dict[str, str], base: str) -> Page | None:
            params = {**query, **form}
            ok = (params.get("columnid") == COLUMN_ID and params.get("unitid") == UNIT_ID
                  and params.get("webid") == WEBID)  # fmt: skip
            records = self.records(site) if ok else []
            start = _int(params.get("startrecord"), 1)
            end = _int(params.get("endrecord"), start + PER_PAGE * GROUP - 1)
            chosen = records[max(start, 1) - 1 : max(end, 0)]
            rows = "\n".join(_cdata(r) for r in chosen)
            xml = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<datastore>\n'
                f"<nextgroup><![CDATA[<a href=\"{DATAPROXY}?page={(end // PER_PAGE) + 1}&{_param_string()}\"></a>]]></nextgroup>\n"
                f"<totalrecord>{len(records)}</totalrecord>\n<totalpage>{-(-len(records) // PER_PAGE)}</totalpage>\n"
                f"<recordset>\n{rows}\n</recordset>\n</datastore>\n"
            )
            newest = max(e.date for e in site.entries)
            return Page(xml.encode("utf-8"), content_type="text/xml", charset="UTF-8",
                        last_modified=dt.datetime.combine(newest, dt.time(18, 0)))

        return answer

    def module(self, site: Site):
        """The annual-report module: a known (area, fbtime) shows that unit's report; any
        other combination shows the module's "no report" page."""

        def answer(method: str, query: dict[str, str], form: dict[str, str], base: str) -> Page | None:
            key = self.module_pages.get((query.get("area", ""), query.get("fbtime", "")))
            if key is not None:
                return site.pages[key]
            html = (
                '<!DOCTYPE html><html><head><meta charset="utf-8"><title>政府信息公开工作年度报告</title></head>'
                '<body><div class="nbnr"><p>未查询到该单位该年度的政府信息公开工作年度报告。</p></div></body></html>'
            )
            return Page(html.encode("utf-8"), charset="utf-8", last_modified=dt.datetime(2023, 1, 1))

        return answer

    # ---- articles ----

    def article_bytes(self, site: Site, item: Item) -> bytes:
        if item.opts.get("module"):
            return self._module_page(item)
        publisher = item.opts.get("publisher", "区政府办")
        written: dt.date = item.opts.get("written", item.published.date() - dt.timedelta(days=3))
        index_no = item.opts.get("index_no", f"11330211002948271T/{item.published.year}-{item.published.toordinal() % 900:05d}")
        stamp = item.published.strftime("%Y-%m-%d %H:%M")
        if item.kind == "notice":
            content = notice_paragraphs(item.title, publisher, item.published.date())
        elif item.kind == "attachment":
            content = "".join(
                f'<p>附件：<a href="{esc(a.path)}" target="_blank">{esc(a.name)}</a></p>' for a in item.attachments
            )
        else:
            assert item.spec is not None
            content = cms_fragment(item.spec)
        files = ""
        if item.kind == "inline" and item.attachments:
            links = "".join(
                f'<li><a href="{esc(a.path)}" target="_blank">{esc(a.name)}</a></li>' for a in item.attachments
            )
            files = f'<div class="fujian"><span>相关附件：</span><ul>{links}</ul></div>'
        meta_time: dt.datetime = item.opts.get("pubdate_meta", item.published)
        pubdate = "" if item.opts.get("no_pubdate_meta") else f'<meta name="PubDate" content="{meta_time:%Y-%m-%d %H:%M}">\n'
        html = f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="SiteName" content="{SITE_NAME}">
<meta name="SiteDomain" content="{DOMAIN}">
<meta name="SiteIDCode" content="{SITE_CODE}">
<meta name="ColumnName" content="{COLUMN_NAME}">
<meta name="ColumnType" content="{COLUMN_NAME}">
<meta name="ArticleTitle" content="{esc(item.title)}">
{pubdate}<meta name="ContentSource" content="{esc(publisher)}">
<meta name="Keywords" content="">
<meta name="Author" content="{esc(publisher)}">
<meta name="Description" content="">
<meta name="Url" content="http://{DOMAIN}{item.url}">
<title>{esc(item.title)}</title>
<link rel="stylesheet" href="/images/1229564000/css/style.css">
</head>
<body>
{_header()}
<div class="w1200 main">
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="{COLUMN}">{COLUMN_NAME}</a></div>
<table class="xxgk_table" width="100%" cellspacing="0" cellpadding="0">
<tr><td class="t">索 引 号</td><td>{esc(index_no)}</td><td class="t">成文日期</td><td>{written:%Y-%m-%d}</td></tr>
<tr><td class="t">发布机构</td><td>{esc(publisher)}</td><td class="t">主题分类</td><td>综合政务/政务公开</td></tr>
<tr><td class="t">文　　号</td><td></td><td class="t">公开方式</td><td>主动公开</td></tr>
</table>
<div class="article">
<h1 class="title">{esc(item.title)}</h1>
<div class="info"><span>发布日期:{stamp}</span> <span>访问次数:<script src="/module/visitcount/visit.jsp?type=3&i_webid={WEBID}"></script></span> <span>信息来源:{esc(publisher)}</span> <span>字号:[ <a href="javascript:doZoom(18)">大</a> <a href="javascript:doZoom(16)">中</a> <a href="javascript:doZoom(14)">小</a> ]</span></div>
<div class="article-content" id="zoom">
{content}
</div>
{files}
</div>
</div>
{_footer()}
</body>
</html>
"""
        return html.encode("utf-8")

    def module_link_page(self, title: str, agency: str, day: dt.date, href: str) -> Page:
        """The module's answer when the report is an article of the site: a page linking to it."""
        html = f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>{esc(title)}</title>
<link rel="stylesheet" href="/module/xxgk/css/annualreport.css">
</head>
<body>
<div class="nb_main">
<div class="nbbt">{esc(title)}</div>
<div class="nbxx"><span>发布单位：{esc(agency)}</span>　<span>发布时间：{day:%Y-%m-%d}</span></div>
<div class="nbnr">
<p>本单位{day.year - 1}年度政府信息公开工作年度报告全文请点击查看：</p>
<ul><li><a href="{esc(href)}" target="_blank" title="{esc(title)}">{esc(title)}</a></li></ul>
</div>
</div>
</body>
</html>
"""
        return Page(html.encode("utf-8"), charset="utf-8", last_modified=dt.datetime.combine(day, dt.time(9, 0)))

    def _module_page(self, item: Item) -> bytes:
        assert item.spec is not None
        html = f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>{esc(item.title)}</title>
<link rel="stylesheet" href="/module/xxgk/css/annualreport.css">
</head>
<body>
<div class="nb_main">
<div class="nbbt">{esc(item.title)}</div>
<div class="nbxx"><span>发布单位：{esc(item.spec.agency)}</span>　<span>发布时间：{item.published:%Y-%m-%d}</span></div>
<div class="nbnr" id="zoom">
{cms_fragment(item.spec)}
</div>
</div>
</body>
</html>
"""
        return html.encode("utf-8")


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default


def _file_stamp(when: dt.datetime, salt: str) -> str:
    """A jcms upload file name: the upload time plus three digits."""
    digits = int(hashlib.sha1(salt.encode()).hexdigest()[:6], 16) % 1000
    return f"{when:%y%m%d%H%M%S}{digits:03d}"


_NOTICE_KINDS = (
    "{dept}{year}年政务公开工作要点",
    "{dept}关于调整政务公开工作领导小组成员的通知",
    "{dept}政府信息公开指南（{year}年修订）",
    "{dept}{year}年第{q}季度政务公开工作情况通报",
    "{dept}{year}年法治政府建设情况报告",
    "{dept}关于公布{year}年度部门预算的公告",
)
_DEPTS = ("宁波市镇海区发展和改革局", "宁波市镇海区教育局", "宁波市镇海区民政局", "宁波市镇海区财政局",
          "宁波市镇海区卫生健康局", "宁波市镇海区市场监督管理局", "宁波市镇海区蛟川街道办事处", "宁波市镇海区骆驼街道办事处")  # fmt: skip


def _notices(count: int) -> list[tuple[str, dt.datetime]]:
    """`count` ordinary notices spread from 2020-02 to 2024-05 (about one a month)."""
    out = []
    start = dt.datetime(2020, 2, 10, 9, 30)
    span = (dt.datetime(2024, 5, 20) - start).days
    for n in range(count):
        when = start + dt.timedelta(days=span * n // max(count - 1, 1), hours=n % 7)
        title = _NOTICE_KINDS[n % len(_NOTICE_KINDS)].format(
            dept=_DEPTS[n % len(_DEPTS)], year=when.year, q=(when.month - 1) // 3 + 1
        )
        out.append((title, when))
    return out


def _spec(seed_no: str, agency: str, year: int, template: str, salt: int) -> tuple[ReportSpec, str, tuple[str, ...]]:
    seed = load_seeds().get(seed_no) if seed_no else None
    if seed is not None and seed.spec.agency == agency and seed.spec.year == year:
        return seed.spec, f"seed:{seed.stem}", seed.findings_required
    return synthetic_spec(salt, template=template, year=year, agency=agency), "synthetic", ()


def jcms_site(name: str = "zhenhai-jcms") -> Site:
    """宁波市镇海区人民政府 portal on Hanweb jcms: reports of the district government and its
    departments (seeds 000 and 004 when the shared corpus is there), 2019–2023, in every
    attachment format, 47 notices, ≥50 records in all."""
    site = Site(
        name=name, platform="jcms", agency="portal", region_code=REGION_CODE, region_name="浙江省宁波市镇海区",
        level="government", list_paths=[COLUMN], site_name=SITE_NAME,
    )  # fmt: skip
    builder = JcmsBuilder()
    site.builder = builder
    for n, (title, when) in enumerate(_notices(47)):
        url = art_url(when.date(), 58000 + n * 211)
        builder.publish(site, Item(title=title, url=url, published=when, kind="notice",
                                   opts={"publisher": "区政府办"}))

    def report(agency: str, year: int, template: str, published: dt.datetime, *, seed_no: str = "",
               kind: str = "inline", attach: str = "", written: dt.date | None = None,
               notes: str = "", art_id: int, opts: dict | None = None) -> None:
        spec, source, findings = _spec(seed_no, agency, year, template, 3302 + year * 7 + len(agency))
        title = spec.title or ""
        url = art_url(published.date(), art_id)
        attachments = []
        if attach:
            stamp = _file_stamp(published, f"{agency}{year}")
            path = (f"/module/download/downfile.jsp?classid=0&filename={stamp}.{attach}" if attach != "pdf"
                    else f"/picture/0/{stamp}.pdf")  # fmt: skip
            attachments.append(Attachment(path, attach, f"{title}.{attach}"))
        item = Item(
            title=title, url=url, published=published, kind=kind,  # type: ignore[arg-type]
            fmt=attach if kind == "attachment" else "cms_html", spec=spec, attachments=attachments,
            opts={"publisher": _SHORT.get(agency, agency), "written": written or (published.date() - dt.timedelta(days=4)),
                  **(opts or {})},
        )  # fmt: skip
        builder.publish(site, item, truth={"agency": agency, "findings_required": findings, "source": source,
                                           "notes": notes})

    report("宁波市镇海区人民政府", 2023, "2021", dt.datetime(2024, 1, 22, 15, 6), art_id=68820,
           written=dt.date(2024, 1, 17), opts={"pubdate_meta": dt.datetime(2024, 1, 24, 8, 50)},
           notes="inline; 成文日期 2024-01-17 and the PubDate meta 2024-01-24 (a re-publication) both differ "
                 "from the 发布日期 line, which wins")
    report("宁波市镇海区人民政府", 2022, "2021", dt.datetime(2023, 1, 4, 14, 42), art_id=67985, attach="pdf",
           written=dt.date(2022, 12, 30),
           notes="inline and the same report attached as PDF: one report")
    report("宁波市镇海区人力资源和社会保障局", 2021, "2021", dt.datetime(2022, 1, 20, 15, 6), seed_no="000",
           art_id=63341, notes="inline")
    report("宁波市镇海区机关事务管理局", 2021, "2021", dt.datetime(2022, 1, 25, 9, 12), seed_no="004",
           kind="attachment", attach="docx", art_id=63502, opts={"no_pubdate_meta": True},
           notes="attachment only (.docx via downfile.jsp); no PubDate meta")
    report("宁波市镇海区人民政府", 2020, "2019", dt.datetime(2021, 1, 28, 10, 15), kind="attachment", attach="pdf",
           art_id=60417, notes="attachment only (.pdf under /picture/)")
    if soffice_path() is not None:
        report("宁波市镇海区人民政府", 2019, "2019", dt.datetime(2020, 1, 21, 16, 40), kind="attachment",
               attach="doc", art_id=57733, notes="attachment only (.doc converted by LibreOffice)")
    else:
        site.notes.append("LibreOffice (soffice) not found: the 2019 .doc report of 宁波市镇海区人民政府 is left out")

    # Department and township reports through the annual-report module: two are rows of the
    # column, the others only the module shows.
    for agency, area, year, when, listed in (
        ("宁波市镇海区住房和城乡建设局", ZJJ_CODE, 2022, dt.datetime(2023, 1, 16, 10, 0), True),
        ("宁波市镇海区招宝山街道办事处", ZBS_CODE, 2022, dt.datetime(2023, 1, 17, 8, 45), True),
        ("宁波市镇海区住房和城乡建设局", ZJJ_CODE, 2021, dt.datetime(2022, 1, 19, 10, 20), False),
        ("宁波市镇海区住房和城乡建设局", ZJJ_CODE, 2023, dt.datetime(2024, 1, 18, 9, 30), False),
        ("宁波市镇海区骆驼街道办事处", LT_CODE, 2022, dt.datetime(2023, 1, 13, 9, 0), False),
        ("宁波市镇海区骆驼街道办事处", LT_CODE, 2023, dt.datetime(2024, 1, 16, 14, 20), False),
    ):
        salt = 3302 + len(agency) * 11 + (year - 2022) * 101
        spec, source, findings = _spec("", agency, year, "2021", salt)
        url = f"{MODULE}?area={area}&fbtime={year}"
        builder.module_pages[(area, str(year))] = url
        item = Item(title=spec.title or "", url=url, published=when, spec=spec, opts={"module": True})
        how = "a row of the column" if listed else ("only the module shows it; the unit's code is a site hint"
                                                    if area == LT_CODE else "only the module shows it")
        builder.publish(site, item, listed=listed,
                        truth={"agency": agency, "source": source,
                               "notes": f"annual-report module page (发布时间 line); {how}"})
    # 招宝山街道 2023: the module links to the report, an article of the site no list shows.
    agency = "宁波市镇海区招宝山街道办事处"
    when = dt.datetime(2024, 1, 19, 15, 40)
    spec, source, findings = _spec("", agency, 2023, "2021", 3302 + len(agency) * 11 + 101)
    linked = art_url(when.date(), 69012)
    builder.publish(site, Item(title=spec.title or "", url=linked, published=when, spec=spec,
                               opts={"publisher": _SHORT[agency]}), listed=False,
                    truth={"agency": agency, "source": source,
                           "notes": "article no list shows; the annual-report module links to it"})
    url = f"{MODULE}?area={ZBS_CODE}&fbtime=2023"
    site.pages[url] = builder.module_link_page(spec.title or "", agency, when.date(), linked)
    builder.module_pages[(ZBS_CODE, "2023")] = url
    site.fault_urls["module_only"] = f"{MODULE}?area={ZJJ_CODE}&fbtime=2021"
    site.fault_urls["module_hint_only"] = f"{MODULE}?area={LT_CODE}&fbtime=2022"
    site.fault_urls["module_links_report"] = url
    site.hints["unit_codes"] = [LT_CODE]
    site.fault_urls["pubdate_meta_differs"] = art_url(dt.date(2024, 1, 22), 68820)
    site.fault_urls["inline_and_pdf_duplicate"] = art_url(dt.date(2023, 1, 4), 67985)
    site.fault_urls["no_pubdate_meta"] = art_url(dt.date(2022, 1, 25), 63502)
    site.dynamic[DATAPROXY] = builder.dataproxy(site)
    site.dynamic[MODULE] = builder.module(site)
    site.pages["/robots.txt"] = Page(b"User-agent: *\nDisallow: /jcms/\n", content_type="text/plain",
                                     last_modified=dt.datetime(2019, 6, 1))
    builder.rebuild_lists(site)
    return site
