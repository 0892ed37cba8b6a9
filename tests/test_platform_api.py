"""Platform APIs the static pages do not show: a TRS "动静结合" list's document search and the
Hanweb jcms annual-report module.

The parsers are pure (scraper.platforms.trs / jcms); the crawl is tested against the demo sites
served on loopback (xxgk.demo: `trs_search_site`, `jcms_site`), whose ground truth says which
reports only the API or the module shows."""

from __future__ import annotations

import asyncio
import datetime as dt
from datetime import timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

from db.engine import make_engine, session, upgrade
from db.models import Agency, Document, Report
from scraper.crawl import MODULE_FIRST_YEAR, Crawler
from scraper.platforms import jcms, trs
from xxgk.config import CrawlerConfig, SiteConfig, SiteHints
from xxgk.demo import DemoServer, jcms_site, sites_config, trs_search_site
from xxgk.demo import jcms as J
from xxgk.demo import trs as T

CST = timezone(timedelta(hours=8))
LATEST = dt.datetime.now(CST).year - 1  # the last report year the module is asked for

# ---- the 平潭 list page, as archived (changwu/pingtan-gov-zwgk-archive, _lists/index.html), cut down

PINGTAN_URL = "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/index.htm"
PINGTAN = """
<div class="rules_tabs_01 rules_tabs_no_bg" ms-visible="showStatic">
  <dl>
    <dd class="trt-col-sm-24 slb-trt-col-24 text_align_left">
      <a href="./202603/t20260313_105587.htm" target="_blank" title="平潭综合实验区2025年度政府信息公开工作年度报告">平潭综合实验区2025年度政府信息公开工作年度报告</a>
    </dd>
    <dd class="trt-col-4 trt-col-sm-24 slb-trt-col-24 text_align_left">
      2026-03-10
    </dd>
  </dl>
</div>
<dl ms-if="list.length>0" ms-repeat="list" ms-if-loop="$index<10">
  <dd><a ms-attr-href="el.chnldocurl" ms-attr-title="el.doctitle" ms-text="el.doctitle|html" target="_blank"></a></dd>
  <dd ms-text="el.docreltime|date('yyyy-MM-dd')"></dd>
</dl>
<script>
var SiteInfo = {
    //was4doc: 290792,  //文档检索的was频道号
    itpSiteId: 21,    //互动站点ID
    searchId: 200210, //默认的文档检索频道的ID
    defaultPgTemp: "pgBar_pt.html",  //本站点默认的分页模板名
};
</script>
<script>
    require(["list2.trsapi", "tools"], function(listModel, tools) {
        listModel({
            quickMode: "动静结合",
            maxStaticIndex: 1,
            listArgs: {
                channelid: SiteInfo.searchId,
                classsql: "" || "chnlid=1813",
                sortfield: "-docorderpri,-docreltime"
            },
            pagebar: {
                prepage: 10,
                recordCount: '20',
                pgTemp: "pgBar_xxgk.html",
                pgCountMode: "recordCount",
                displayNum: 2
            },
            callToPage: function(p) {
                $("html,body").animate({ scrollTop: $(".content_bg_02").offset().top }, 800);
            }
        });
    });
</script>
"""


# ---- TRS: pure parsing ----------------------------------------------------------------------------


def test_trs_list_api_of_the_pingtan_page():
    q = trs.parse_list_api(PINGTAN, PINGTAN_URL)
    assert q is not None
    assert q.endpoint == "https://www.pingtan.gov.cn/fjdzapp/search"
    assert q.form == {"channelid": "200210", "classsql": "chnlid=1813", "sortfield": "-docorderpri,-docreltime"}
    assert (q.prepage, q.static_pages, q.record_count, q.mode) == (10, 1, 20, "动静结合")
    assert (q.page_count, q.first_api_page) == (2, 2)
    assert trs.api_request(q, 2) == ("https://www.pingtan.gov.cn/fjdzapp/search",
                                     {**q.form, "page": "2", "prepage": "10"})


def test_trs_list_api_variants():
    # a literal channel, several static pages, a number for recordCount, single quotes
    page = ("<script>listModel({quickMode:'动静结合',maxStaticIndex:7,listArgs:{channelid:229105,"
            "classsql:'chnlid=4910',sortfield:'-docreltime'},pagebar:{prepage:10,recordCount:213}})</script>")
    q = trs.parse_list_api(page, "http://yjj.scjgj.fujian.gov.cn/ylqx/gstg/")
    assert q is not None and q.form["channelid"] == "229105" and q.form["classsql"] == "chnlid=4910"
    assert (q.static_pages, q.first_api_page, q.page_count) == (7, 8, 22)
    assert q.endpoint == "http://yjj.scjgj.fujian.gov.cn/fjdzapp/search"
    # no list2.trsapi: a createPageHTML list; a channel that cannot be resolved: no query
    assert trs.parse_list_api('createPageHTML(3, 0, "index", "htm");', PINGTAN_URL) is None
    assert trs.parse_list_api(PINGTAN.replace("searchId: 200210,", ""), PINGTAN_URL) is None
    assert trs.parse_list_api(PINGTAN.replace("listArgs", "listArguments"), PINGTAN_URL) is None


def test_trs_search_answer():
    base = "https://www.pingtan.gov.cn/fjdzapp/search"
    answer = """{"data": [
      {"doctitle": "<font color=red>平潭</font>综合实验区2015年度政府信息公开工作年度报告",
       "chnldocurl": "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/201601/t20160120_80445.htm",
       "docpuburl": "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/201601/t20160120_80445.htm",
       "docreltime": "2016-01-20 10:00:00", "pubdate": "2016-01-21"},
      {"doctitle": "平潭综合实验区2014年度政府信息公开工作年度报告", "docpuburl": "/zwgk/a/t20150105_1.htm",
       "docreltime": 1420423200000},
      {"doctitle": "", "chnldocurl": "https://www.pingtan.gov.cn/x.htm"},
      {"doctitle": "无链接"}
    ], "pageCount": "2"}"""
    entries, pages = trs.parse_api(answer, base)
    assert pages == 2
    assert [(e.title, e.url, e.date) for e in entries] == [
        ("平潭综合实验区2015年度政府信息公开工作年度报告",
         "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/201601/t20160120_80445.htm", dt.date(2016, 1, 20)),
        ("平潭综合实验区2014年度政府信息公开工作年度报告", "https://www.pingtan.gov.cn/zwgk/a/t20150105_1.htm",
         dt.date(2015, 1, 5)),  # epoch milliseconds, Beijing time
    ]
    # the older was5 docs.jsp answer (single-quoted values: not JSON as written)
    was5 = ('{"count":"1","pagenum":"1","py":\'###pypy###\',"docs":[{"title":"任免工作人员","url":'
            '"http://fujian.chinatax.gov.cn/a/t20260507_634732.htm","chnldocurl":'
            '"http://fujian.chinatax.gov.cn/b/t20260507_634732.htm","time":"2026-05-07"}]}')
    entries, pages = trs.parse_api(was5, "http://fujian.chinatax.gov.cn/was5/web/search")
    assert [(e.url, e.date) for e in entries] == [("http://fujian.chinatax.gov.cn/b/t20260507_634732.htm",
                                                   dt.date(2026, 5, 7))] and pages is None
    for junk in ("<html>502 Bad Gateway</html>", "[]", '{"data": "none"}', ""):
        assert trs.parse_api(junk, base) == ([], None)


# ---- jcms: pure parsing -------------------------------------------------------------------------


def test_jcms_unit_codes_from_links():
    page = """
    <a href="/col/col42829/index.html?vc_xxgkarea=113706000042603877-1&amp;jh=263">政府信息公开</a>
    <iframe src="/module/xxgk/tree.jsp?standardXxgk=1&amp;area=11220100MB1507524C&amp;divid=div4"></iframe>
    <a href="http://drc.jiangxi.gov.cn/col/col14651/index.html?vc_xxgkarea=014500858%23div&uid=376208">x</a>
    <a href="/module/xxgk/subjectinfo.jsp?area=014000335">y</a>
    <a href="/module/xxgk/xxgkAnnualReport.jsp?area=11370826004323472M&fbtime=2023">年报</a>
    <a href="/col/col1/index.html?vc_xxgkarea=113706000042603877-1">again</a>
    <a href="/search.do?area=330211">not the xxgk module</a>
    """
    assert jcms.unit_codes(page) == ["11220100MB1507524C", "014000335", "11370826004323472M",
                                     "113706000042603877-1", "014500858"]
    assert jcms.unit_codes("<p>no codes</p>") == []


def test_jcms_module_urls():
    url = jcms.annual_report_url("http://www.weishan.gov.cn", "11370826004323472M", 2023)
    assert url == "http://www.weishan.gov.cn/module/xxgk/xxgkAnnualReport.jsp?area=11370826004323472M&fbtime=2023"
    assert jcms.module_year(url) == ("11370826004323472M", 2023)
    assert jcms.module_year("http://a.gov.cn/module/xxgk/search.jsp?area=1137&fbtime=2023") is None
    assert jcms.module_year("http://a.gov.cn/art/2023/1/4/art_1_2.html") is None


def test_jcms_module_answers():
    site = jcms_site()
    base = "http://www.zh.gov.cn"
    # the report itself: its tables, its title, its 发布时间
    report = site.report(2021, "宁波市镇海区住房和城乡建设局")
    got = jcms.parse_annual_report(site.pages[report.url].data().decode(), base + report.url, 2021)
    assert got.report and got.title == report.title and got.published == dt.date(2022, 1, 19) and not got.links
    # a page linking to the report (an article)
    linked = site.report(2023, "宁波市镇海区招宝山街道办事处")
    url = f"{base}{J.MODULE}?area={J.ZBS_CODE}&fbtime=2023"
    got = jcms.parse_annual_report(site.pages[site.fault_urls["module_links_report"]].data().decode(), url, 2023)
    assert not got.report and [(e.title, e.url) for e in got.links] == [(linked.title, base + linked.url)]
    # no report for the year
    none = ('<html><head><title>政府信息公开工作年度报告</title></head><body><div class="nbnr">'
            "<p>未查询到该单位该年度的政府信息公开工作年度报告。</p></div></body></html>")
    got = jcms.parse_annual_report(none, url, 2019)
    assert not got.report and not got.links and got.title == "2019年度政府信息公开工作年度报告"
    assert not jcms.parse_annual_report("", url, 2019).report
    # the report as an attachment of the module page
    attached = ('<html><body><div class="nbbt">某局2022年度政府信息公开工作年度报告</div>'
                "<p>发布时间：2023-01-20</p><p>附件：<a href='/module/download/downfile.jsp?classid=0&filename=a.pdf'>"
                "某局2022年度政府信息公开工作年度报告.pdf</a></p></body></html>")
    got = jcms.parse_annual_report(attached, url, 2022)
    assert got.report and got.title == "某局2022年度政府信息公开工作年度报告" and got.published == dt.date(2023, 1, 20)


def test_unit_codes_hint():
    assert SiteHints(unit_codes=[" 11370826004323472M", "11370826004323472M", "014500858"]).unit_codes == [
        "11370826004323472M", "014500858"]
    for bad in ("", "1137 0826", "单位代码", "x" * 41):
        with pytest.raises(ValueError):
            SiteHints(unit_codes=[bad])


# ---- against the loopback demo sites -------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    sites = [trs_search_site(), jcms_site()]
    calls: list[dict[str, str]] = []  # the search's POSTed forms
    search = sites[0].dynamic[T.SEARCH_PATH]

    def recording(method, query, form, base):
        calls.append({**query, **form})
        return search(method, query, form, base)

    sites[0].dynamic[T.SEARCH_PATH] = recording
    with DemoServer(sites, slow_delay=0.3) as srv:
        srv.wait_warm(180)
        srv.search_calls = calls  # type: ignore[attr-defined]
        yield srv


def _engine(tmp_path, name="api.db"):
    engine = make_engine(f"sqlite:///{tmp_path / name}")
    upgrade(engine)
    return engine


def _config(srv, name: str, **changes) -> SiteConfig:
    entry = next(e for e in sites_config(srv) if e["name"] == name)
    return SiteConfig(**{**entry, **changes})


def _crawl(srv, engine, site: SiteConfig, *, since=None, max_list_pages=30):
    cfg = CrawlerConfig(per_host_delay_s=0.0, timeout_s=10, backoff_s=0.05, retries=1, check_workers=0,
                        max_list_pages=max_list_pages, allow_private_addresses=True)
    srv.reset_log()
    return asyncio.run(Crawler(cfg, engine).run([site], since=since))[0]


def _stored(engine):
    with session(engine) as s:
        rows = s.exec(select(Report, Agency, Document).join(Agency, Report.agency_id == Agency.id)
                      .join(Document, Report.document_id == Document.id)).all()
        return {(a.name, r.year): (d.url, d.published_at.astimezone(CST)) for r, a, d in rows}


def test_trs_reports_only_the_search_shows_are_found(server, tmp_path):
    site = server.site("lianjiang-fgj-trs")
    engine = _engine(tmp_path)
    server.search_calls.clear()
    result = _crawl(server, engine, _config(server, site.name))
    assert result.status == "ok" and result.errors == []
    stored = _stored(engine)
    assert set(stored) == {(r.agency, r.year) for r in site.reports}
    base = server.base_url(site.name)
    static = server.site(site.name).pages[T.FGJ_COLUMN + "index.htm"].data().decode()
    only_search = [r for r in site.reports if r.url.rsplit("/", 1)[-1] not in static]
    assert sorted(r.year for r in only_search) == [2019, 2020, 2021, 2022]
    for r in site.reports:
        url, published = stored[(r.agency, r.year)]
        assert url == base + r.url
        assert published.replace(tzinfo=None) == r.published  # the 时间 line, not the URL's t20210129
    # pages 2 and 3 asked, with the page's own search arguments; the static page 1 is not asked again
    assert [(c["page"], c["prepage"], c["channelid"], c["classsql"], c["sortfield"]) for c in server.search_calls] == [
        ("2", "10", T.SEARCH_ID, f"chnlid={T.FGJ_CHANNEL}", "-docorderpri,-docreltime"),
        ("3", "10", T.SEARCH_ID, f"chnlid={T.FGJ_CHANNEL}", "-docorderpri,-docreltime")]
    assert [q.method for q in server.requests if q.path == T.SEARCH_PATH] == ["POST", "POST"]

    # again: the static page answers 304, so the search is not asked; nothing new
    server.search_calls.clear()
    again = _crawl(server, engine, _config(server, site.name))
    assert (again.reports_new, again.reports_changed, again.reports_found) == (0, 0, 5)
    assert server.search_calls == [] and _stored(engine) == stored
    assert [(q.path, q.status) for q in server.requests] == [(T.FGJ_COLUMN + "index.htm", 304)]


def test_trs_search_stays_within_max_list_pages(server, tmp_path):
    site = server.site("lianjiang-fgj-trs")
    engine = _engine(tmp_path)
    server.search_calls.clear()
    result = _crawl(server, engine, _config(server, site.name), max_list_pages=2)  # the static page + one
    assert [c["page"] for c in server.search_calls] == ["2"]
    assert {year for _, year in _stored(engine)} == {2021, 2022, 2023}  # 2019, 2020 are on page 3
    assert result.status == "ok"


def test_trs_search_failure_is_reported(server, tmp_path):
    site = server.site("lianjiang-fgj-trs")
    saved = site.dynamic[T.SEARCH_PATH]
    site.dynamic[T.SEARCH_PATH] = lambda method, query, form, base: None  # 404
    try:
        result = _crawl(server, _engine(tmp_path), _config(server, site.name))
    finally:
        site.dynamic[T.SEARCH_PATH] = saved
    assert result.status == "partial" and result.reports_new == 1  # the static page's report
    assert any("/fjdzapp/search" in e and "列表接口请求失败" in e for e in result.errors)


def _module_requests(srv) -> list[tuple[str, int, int]]:
    out = []
    for q in srv.requests:
        parts = urlsplit(q.path)
        if parts.path == J.MODULE:
            args = parse_qs(parts.query)
            out.append((args["area"][0], int(args["fbtime"][0]), q.status))
    return out


def test_module_reports_are_found_with_year_and_date(server, tmp_path):
    site = server.site("zhenhai-jcms")
    engine = _engine(tmp_path)
    result = _crawl(server, engine, _config(server, site.name))
    assert result.status == "ok" and result.errors == []
    stored = _stored(engine)
    assert set(stored) == {(r.agency, r.year) for r in site.reports}
    base = server.base_url(site.name)
    unlisted = [r for r in site.reports if r.list_date is None]
    assert len(unlisted) == 5  # four module pages and the article one of them links to
    for r in unlisted:
        url, published = stored[(r.agency, r.year)]
        assert url == base + r.document and published.date() == r.published_date, r.title
    # each unit (three linked from the column page, one hinted) for each year up to last year, once;
    # the two 2022 module pages the column lists are fetched as its articles
    asked = _module_requests(server)
    codes = (J.ZJJ_CODE, J.EDU_CODE, J.ZBS_CODE, J.LT_CODE)
    expected = {(c, y) for c in codes for y in range(MODULE_FIRST_YEAR, LATEST + 1)}
    assert sorted((a, y) for a, y, _ in asked) == sorted(expected)
    assert all(status == 200 for _, _, status in asked)

    # again: only last year's pages are asked (conditionally: 304), even though the column page is
    # unchanged (304) and names no codes this time; nothing new, the same reports found
    again = _crawl(server, engine, _config(server, site.name))
    assert (again.reports_new, again.reports_changed, again.reports_found) == (0, 0, result.reports_found)
    assert sorted(_module_requests(server)) == sorted((c, LATEST, 304) for c in codes)
    assert all(q.status == 304 for q in server.requests)
    assert _stored(engine) == stored


def test_module_without_the_hint(server, tmp_path):
    site = server.site("zhenhai-jcms")
    engine = _engine(tmp_path)
    result = _crawl(server, engine, _config(server, site.name, hints={}))
    assert result.status == "ok"
    assert J.LT_CODE not in {a for a, _, _ in _module_requests(server)}
    stored = _stored(engine)
    assert {(r.agency, r.year) for r in site.reports} - set(stored) == {
        ("宁波市镇海区骆驼街道办事处", 2022), ("宁波市镇海区骆驼街道办事处", 2023)}


def test_module_respects_since(server, tmp_path):
    site = server.site("zhenhai-jcms")
    engine = _engine(tmp_path)
    _crawl(server, engine, _config(server, site.name), since=2023)
    asked = _module_requests(server)
    assert asked and min(y for _, y, _ in asked) == 2023
    assert {(a, y) for a, y, _ in asked} == {(c, y) for c in (J.ZJJ_CODE, J.EDU_CODE, J.ZBS_CODE, J.LT_CODE)
                                             for y in range(2023, LATEST + 1)}
    stored = _stored(engine)
    assert {year for _, year in stored} == {2023}
    assert {agency for agency, _ in stored} >= {"宁波市镇海区住房和城乡建设局", "宁波市镇海区骆驼街道办事处",
                                                "宁波市镇海区招宝山街道办事处"}


def test_module_not_found_is_no_error_and_not_asked_again(server, tmp_path):
    site = server.site("zhenhai-jcms")
    saved = site.dynamic[J.MODULE]
    site.dynamic[J.MODULE] = lambda method, query, form, base: None  # 404 unless the page exists
    try:
        engine = _engine(tmp_path)
        first = _crawl(server, engine, _config(server, site.name))
        assert first.status == "ok" and first.errors == []
        assert {(a, y) for a, y, status in _module_requests(server) if status == 404} >= {
            (J.EDU_CODE, y) for y in range(MODULE_FIRST_YEAR, LATEST + 1)}
        assert set(_stored(engine)) == {(r.agency, r.year) for r in site.reports}  # the pages that exist
        again = _crawl(server, engine, _config(server, site.name))
        assert again.status == "ok" and again.errors == [] and again.reports_new == 0
        # an older year that had no report is not asked again; last year is, until its report is there
        assert sorted((a, y) for a, y, _ in _module_requests(server)) == sorted(
            (c, LATEST) for c in (J.ZJJ_CODE, J.EDU_CODE, J.ZBS_CODE, J.LT_CODE))
    finally:
        site.dynamic[J.MODULE] = saved


def test_module_units_from_the_lists_module_links(server, tmp_path, monkeypatch):
    """With no unit named in the page's links (nor remembered), the codes of the module pages the
    column lists (住建局 2022, 招宝山街道 2022) still lead to their other years."""
    monkeypatch.setattr(jcms, "unit_codes", lambda text: [])
    site = server.site("zhenhai-jcms")
    engine = _engine(tmp_path)
    _crawl(server, engine, _config(server, site.name, hints={}))
    assert {a for a, _, _ in _module_requests(server)} == {J.ZJJ_CODE, J.ZBS_CODE}
    stored = _stored(engine)
    assert {("宁波市镇海区住房和城乡建设局", 2021), ("宁波市镇海区住房和城乡建设局", 2023),
            ("宁波市镇海区招宝山街道办事处", 2023)} <= set(stored)
