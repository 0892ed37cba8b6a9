"""Pure parsers of the crawler: report titles, list pages of each platform, article pages.

Snippets are modelled on the real pages described in /work/shared/spec/disclosure-sites.md
(Pingtan TRS meta tags, the Zhejiang jcms metadata table, gkmlpt JSON and DETAIL, …)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from scraper.article import attachment_ext, parse_article, url_date
from scraper.listing import ListEntry, detect_platform, parse_list_page
from scraper.platforms import gkmlpt, jcms, plain, trs
from scraper.platforms.common import entries_from_tree, find_datetime, parse_html
from scraper.recognize import is_report_title, report_year

# ------------------------------------------------------------------------------------ recognize


@pytest.mark.parametrize(
    ("title", "year"),
    [
        ("平潭综合实验区2021年度政府信息公开工作年度报告", 2021),
        ("宁波市镇海区人力资源和社会保障局2021年度政府信息公开工作年度报告", 2021),
        ("来凤县2021年政府信息公开年度报告", 2021),  # without 工作
        ("孝感市教育局2020年政府信息公开年报", 2020),
        ("萧山区发改局2022年度政府信息公开工作报告", 2022),  # 年度政府信息公开工作报告
        ("二〇二一年政府信息公开工作年度报告", 2021),
        ("二○二三年度政府信息公开工作年度报告", 2023),
        ("ＸＸ县２０２１年政府信息公开工作年度报告", 2021),  # full-width digits
        ("XX局2021年度政府信息公开工作年度报告（2022年3月发布）", 2021),
        ("宿州市人民政府2019年政府信息公开工作年度报告（图片版）", 2019),
        ("XX市2021年度政府信息公开工作年度报告(PDF)", 2021),
        ("关于印发XX市2021年政府信息公开工作年度报告的通知", 2021),
    ],
)
def test_report_titles_with_year(title: str, year: int) -> None:
    assert is_report_title(title)
    assert report_year(title) == year


def test_generic_title_is_a_report_without_year() -> None:
    assert is_report_title("政府信息公开工作年度报告")
    assert report_year("政府信息公开工作年度报告") is None


@pytest.mark.parametrize(
    "title",
    [
        "关于做好2022年政府信息公开工作年度报告编制工作的通知",
        "XX区2021年政府信息公开工作年度报告的解读",
        "图解：XX市2021年政府信息公开工作年度报告",
        "关于2021年度政府信息公开工作年度报告的评估情况通报",
        "XX市2021年政府資訊公開工作年度報告",  # traditional-script mirror
        "XX機(jī)關(guān)2021年政府信息公开工作年度报告",  # pinyin inserted
        "2021年政务公开工作要点",
        "2021年度部门决算公开",
        "",
    ],
)
def test_not_report_titles(title: str) -> None:
    assert not is_report_title(title)
    assert report_year(title) is None


# ------------------------------------------------------------------------------------ dates


def test_find_datetime_formats() -> None:
    assert find_datetime("发布日期:2023-01-04 14:42") == dt.datetime(2023, 1, 4, 14, 42)
    assert find_datetime("2023/01/18 11:34:01") == dt.datetime(2023, 1, 18, 11, 34, 1)
    assert find_datetime("2023年1月4日") == dt.datetime(2023, 1, 4)
    assert find_datetime("2024年3 月 26日") == dt.datetime(2024, 3, 26)
    assert find_datetime("2023-02-30") is None
    assert find_datetime("访问次数: 12") is None


# ------------------------------------------------------------------------------------ TRS list

PINGTAN_LIST = """<!DOCTYPE html><html><head><meta charset="utf-8">
<meta name="ColumnName" content="政府信息公开年报"/><title>政府信息公开年报_平潭综合实验区党工委管委会</title></head>
<body>
<div class="nav"><a href="/">首页</a> <a href="/zwgk/">政务公开</a></div>
<div class="list_title">政府信息公开年报 标题 发布日期</div>
<ul class="list">
  <li><a href="./202603/t20260313_99001.htm" title="平潭综合实验区2025年度政府信息公开工作年度报告" target="_blank">平潭综合实验区2025年度政府信息公开工作年...</a><span>2026-03-10</span></li>
  <li><a href="./202503/t20250310_97791.htm" title="平潭综合实验区2024年度政府信息公开工作年度报告">平潭综合实验区2024年度政府信息公开工作年度报告</a><span>2025-03-10</span></li>
  <li><a href="./201701/t20170118_12345.htm">平潭综合实验区2016年度政府信息公开工作年度报告</a><span>[2017-01-18]</span></li>
</ul>
<div class="page"><script>createPageHTML(3, 0, "index", "htm");</script></div>
<script>require(["list2.trsapi", "tools"], function(listModel, tools) { listModel({ quickMode: "动静结合", maxStaticIndex: 1 }); });</script>
</body></html>"""

LIST_URL = "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/index.htm"


def test_trs_list_entries_and_pages() -> None:
    assert detect_platform(PINGTAN_LIST, LIST_URL) == "trs"
    entries = parse_list_page(PINGTAN_LIST, LIST_URL)
    reports = [e for e in entries if is_report_title(e.title)]
    assert reports == [
        ListEntry(
            "平潭综合实验区2025年度政府信息公开工作年度报告",
            "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/202603/t20260313_99001.htm",
            dt.date(2026, 3, 10),
        ),
        ListEntry(
            "平潭综合实验区2024年度政府信息公开工作年度报告",
            "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/202503/t20250310_97791.htm",
            dt.date(2025, 3, 10),
        ),
        ListEntry(
            "平潭综合实验区2016年度政府信息公开工作年度报告",
            "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/201701/t20170118_12345.htm",
            dt.date(2017, 1, 18),
        ),
    ]
    assert "首页" not in [e.title for e in entries]
    assert trs.page_urls(PINGTAN_LIST, LIST_URL) == [
        "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/index_1.htm",
        "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/index_2.htm",
    ]


def test_trs_page_call_variants() -> None:
    assert trs.page_count("createPageHTML('pageBar', 5, 2, 'index', 'shtml', 68);") == (5, 2, "index", "shtml")
    urls = trs.page_urls("createPageHTML(3, 1, \"index\", \"html\")", "http://a.gov.cn/x/index_1.html")
    assert urls == ["http://a.gov.cn/x/index.html", "http://a.gov.cn/x/index_2.html"]
    assert trs.page_urls("no pager here", "http://a.gov.cn/x/") == []


def test_link_selector_overrides_discovery() -> None:
    page = """<html><body><div class="side"><a href="/a.html">2021年政府信息公开工作年度报告汇总说明</a></div>
    <div class="nb"><a href="/b.html">XX县2021年政府信息公开工作年度报告</a> 2022-01-20</div></body></html>"""
    entries = parse_list_page(page, "http://x.gov.cn/l/", link_selector="div.nb a")
    assert entries == [ListEntry("XX县2021年政府信息公开工作年度报告", "http://x.gov.cn/b.html", dt.date(2022, 1, 20))]


def test_links_skip_javascript_and_resolve_base() -> None:
    page = """<html><head><base href="http://x.gov.cn/col/"></head><body>
    <a href="javascript:void(0)">XX县2021年政府信息公开工作年度报告</a>
    <a href="#top">回到顶部</a><a href="mailto:a@b.cn">联系我们</a>
    <a href="art_1.html">XX县2020年政府信息公开工作年度报告 2021-01-30</a></body></html>"""
    entries = entries_from_tree(parse_html(page), "http://x.gov.cn/other/")
    assert entries == [ListEntry("XX县2020年政府信息公开工作年度报告", "http://x.gov.cn/col/art_1.html", dt.date(2021, 1, 30))]


# ------------------------------------------------------------------------------------ jcms

JCMS_COLUMN = """<!DOCTYPE html><html><head><meta charset="utf-8">
<meta name="ColumnName" content="政府信息公开年度报告"></head><body>
<div id="4486186"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid=3096&path=/&columnid=1229214366&unitid=4486186&webname=%E5%AE%81%E6%B3%A2%E5%B8%82%E6%B1%9F%E5%8C%97%E5%8C%BA&permissiontype=0"></a>]]></nextgroup>
<recordset>
<record><![CDATA[<li><a href="/art/2023/1/4/art_1229214366_67985.html" title="宁波市江北区发改局2022年度政府信息公开工作年度报告" target="_blank">宁波市江北区发改局2022年度政府信息公开...</a><span>2023-01-04</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2022/1/18/art_1229214366_58001.html" title="宁波市江北区发改局2021年度政府信息公开工作年度报告">宁波市江北区发改局2021年度政府信息公开工作年度报告</a><span>2022-01-18</span></li>]]></record>
</recordset></datastore></script></div>
<script type="text/javascript">
var param_4486186 = {col:1,appid:1,webid:3096,path:'/',columnid:1229214366,sourceContentType:1,unitid:'4486186',webname:'宁波市江北区',permissiontype:0};
$(function(){ $('#4486186').jpage({ dataStore: dataStore_4486186, proxyUrl: '/module/web/jpage/dataproxy.jsp', perPage:15, outPage:3, totalRecord:47, objId:'4486186' }); });
</script></body></html>"""

JCMS_URL = "http://www.nbjiangbei.gov.cn/col/col1229214366/index.html"

JCMS_PROXY_XML = """<?xml version="1.0" encoding="UTF-8"?>
<datastore><totalrecord>47</totalrecord><totalpage>4</totalpage>
<recordset>
<record><![CDATA[
<tr><td><a href="/art/2017/2/28/art_1229214366_1001.html" title="江北区2016年度政府信息公开工作年度报告">江北区2016年度政府信息公开工作年度报告</a></td><td>2017-02-28</td></tr>
]]></record>
<record><![CDATA[<li><a href="http://www.nbjiangbei.gov.cn/art/2016/3/1/art_1229214366_901.html">江北区2015年政府信息公开年报</a><span>2016-03-01</span></li>]]></record>
</recordset></datastore>"""


def test_jcms_column_page_query() -> None:
    assert detect_platform(JCMS_COLUMN, JCMS_URL) == "jcms"
    q = jcms.parse_column_page(JCMS_COLUMN, JCMS_URL)
    assert q is not None
    assert q.proxy_url == "http://www.nbjiangbei.gov.cn/module/web/jpage/dataproxy.jsp"
    assert q.form == {
        "col": "1", "appid": "1", "webid": "3096", "path": "/", "columnid": "1229214366",
        "sourceContentType": "1", "unitid": "4486186", "webname": "宁波市江北区", "permissiontype": "0",
    }  # fmt: skip
    assert (q.perpage, q.group_pages, q.group_size, q.total) == (15, 3, 45, 47)
    url, form = jcms.request(q, 46, 90)
    assert url.endswith("/module/web/jpage/dataproxy.jsp?startrecord=46&endrecord=90&perpage=15")
    assert form["columnid"] == "1229214366"


def test_jcms_query_from_nextgroup_only() -> None:
    page = """<script type="text/xml"><datastore><nextgroup><![CDATA[<a href="/module/jpage/dataproxy.jsp?page=1&webid=49&path=/&columnid=30516&unitid=25630&webname=%E4%B8%9C%E5%8F%B0&permissiontype=0"></a>]]></nextgroup></datastore></script>"""
    q = jcms.parse_column_page(page, "http://dongtai.yancheng.gov.cn/col/col30516/index.html")
    assert q is not None
    assert q.proxy_url == "http://dongtai.yancheng.gov.cn/module/jpage/dataproxy.jsp"
    assert q.form["webid"] == "49" and q.form["unitid"] == "25630" and q.form["webname"] == "东台"
    assert q.form["col"] == "1" and q.total is None


def test_jcms_records_inline_and_dataproxy() -> None:
    inline = jcms.records(JCMS_COLUMN, JCMS_URL)
    assert inline == [
        ListEntry("宁波市江北区发改局2022年度政府信息公开工作年度报告",
                  "http://www.nbjiangbei.gov.cn/art/2023/1/4/art_1229214366_67985.html", dt.date(2023, 1, 4)),
        ListEntry("宁波市江北区发改局2021年度政府信息公开工作年度报告",
                  "http://www.nbjiangbei.gov.cn/art/2022/1/18/art_1229214366_58001.html", dt.date(2022, 1, 18)),
    ]
    entries, total = jcms.parse_dataproxy(JCMS_PROXY_XML, JCMS_URL)
    assert total == 47
    assert [(e.title, e.date) for e in entries] == [
        ("江北区2016年度政府信息公开工作年度报告", dt.date(2017, 2, 28)),
        ("江北区2015年政府信息公开年报", dt.date(2016, 3, 1)),
    ]
    # the column page's own records come first from parse_list_page
    assert parse_list_page(JCMS_COLUMN, JCMS_URL)[:2] == inline


# ------------------------------------------------------------------------------------ gkmlpt

GKMLPT_INDEX = """<html><head><title>政府信息公开目录</title></head><body><div id="app"></div>
<script>window._CONFIG = { SID: '755031', TREE: [{"id":508,"name":"政府信息公开年报","children":[]}], SERVICE_AREA_ID: 1 };</script>
</body></html>"""


def test_gkmlpt_query_and_api() -> None:
    url = "http://www.yangjiang.gov.cn/gkmlpt/index#508"
    assert detect_platform(GKMLPT_INDEX, url) == "gkmlpt"
    q = gkmlpt.query_from(url, GKMLPT_INDEX)
    assert q == gkmlpt.GkmlptQuery(root="http://www.yangjiang.gov.cn/gkmlpt", column="508", sid="755031")
    assert gkmlpt.api_url(q, 2) == "http://www.yangjiang.gov.cn/gkmlpt/api/all/508?page=2&sid=755031"
    api = gkmlpt.query_from("http://www.gd.gov.cn/gkmlpt/api/all/5?page=1&sid=2")
    assert api is not None and (api.column, api.sid) == ("5", "2")
    assert gkmlpt.query_from("http://x.gov.cn/gkmlpt/index#1", "<html>no site id</html>") is None


def test_gkmlpt_json_entries() -> None:
    ts = int(dt.datetime(2021, 2, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp())
    body = json.dumps({
        "articles": [
            {"id": 508890, "title": "阳江市2020年政府信息公开工作年度报告", "url": "http://www.yangjiang.gov.cn/gkmlpt/content/0/508/post_508890.html",
             "publisher": "阳江市人民政府办公室", "display_publish_time": ts, "date": ts - 86400 * 13, "created_at": "2021-02-01 10:00:00"},
            {"id": 1, "title": "<em>阳江市</em>2019年政府信息公开工作年度报告", "post_url": "/gkmlpt/content/0/1/post_1.html",
             "created_at": "2020-01-20 09:00:00"},
            {"id": 2, "title": "", "url": "/x"},
        ],
        "total": 2, "classify": {"post_count": 2},
    }, ensure_ascii=False)  # fmt: skip
    entries, total = gkmlpt.parse_api(body, "http://www.yangjiang.gov.cn/gkmlpt/api/all/508?page=1&sid=755031")
    assert total == 2
    assert entries == [
        ListEntry("阳江市2020年政府信息公开工作年度报告",
                  "http://www.yangjiang.gov.cn/gkmlpt/content/0/508/post_508890.html", dt.date(2021, 2, 1)),
        ListEntry("阳江市2019年政府信息公开工作年度报告",
                  "http://www.yangjiang.gov.cn/gkmlpt/content/0/1/post_1.html", dt.date(2020, 1, 20)),
    ]
    assert gkmlpt.parse_api("<html>not json</html>", "http://x/") == ([], None)


# ------------------------------------------------------------------------------------ plain

PLAIN_PAGE = """<html><body>
<ul><li><a href="/xxgk/nb/2024/i3300070.html">衡东县2023年政府信息公开工作年度报告</a> 2024-03-26</li></ul>
<div class="pages"><a href="list.html?page=1">首页</a><a href="list.html?page=1">上一页</a>
<span>2</span><a href="list.html?page=3">3</a><a href="list.html?page=4">4</a>
<a href="list.html?page=3">下一页</a><a href="list.html?page=9">尾页</a>
<a href="/other/list.html?page=2">2</a><a href="http://elsewhere.cn/list.html?page=5">下一页</a></div>
</body></html>"""


def test_plain_pagination_links() -> None:
    url = "http://www.hengdong.gov.cn/xxgk/nb/list.html?page=2"
    assert detect_platform(PLAIN_PAGE, url) == "plain"
    links = plain.page_links(parse_html(PLAIN_PAGE), url)
    urls = [u for _, u in links]
    assert urls[0] == "http://www.hengdong.gov.cn/xxgk/nb/list.html?page=1"
    assert urls.index("http://www.hengdong.gov.cn/xxgk/nb/list.html?page=3") < urls.index(
        "http://www.hengdong.gov.cn/xxgk/nb/list.html?page=9"
    )
    assert urls[-1] == "http://www.hengdong.gov.cn/xxgk/nb/list.html?page=9"  # 尾页 last
    assert not any("elsewhere.cn" in u for u in urls)
    entries = parse_list_page(PLAIN_PAGE, url)
    assert entries[0] == ListEntry("衡东县2023年政府信息公开工作年度报告",
                                   "http://www.hengdong.gov.cn/xxgk/nb/2024/i3300070.html", dt.date(2024, 3, 26))
    assert all(e.title not in ("下一页", "尾页", "3", "首页") for e in entries)


def test_plain_page_number_patterns() -> None:
    assert plain.page_number("http://a.gov.cn/x/index_3.html") == 4
    assert plain.page_number("http://a.gov.cn/x/page_3.html") == 3
    assert plain.page_number("http://a.gov.cn/col/col1/index.html?uid=2&pageNum=5") == 5
    assert plain.page_number("http://a.gov.cn/x/t20220208_80613.htm") is None


# ------------------------------------------------------------------------------------ articles

PINGTAN_ARTICLE = """<!DOCTYPE html><html><head><meta charset="utf-8"/>
<meta name="SiteName" content="平潭综合实验区党工委管委会"/>
<meta name="SiteDomain" content="www.pingtan.gov.cn"/>
<meta name="SiteIDCode" content="3590000001"/>
<meta name="ColumnName" content="政府信息公开年报"/>
<meta name="ColumnType" content="政府信息公开年报"/>
<meta name="ArticleTitle" content="平潭综合实验区2021年度政府信息公开工作年度报告"/>
<meta name="PubDate" content="2022-02-08 16:34"/>
<meta name="ContentSource" content=""/>
<meta name="KeyWords" content=""/>
<meta name="Author" content="管委会办公室"/>
<meta name="Desctiption" content=""/>
<meta name="Url" content="https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/202202/t20220208_80613.htm"/>
<meta name="DocId" content="80613"/>
<title>平潭综合实验区2021年度政府信息公开工作年度报告_政府信息公开年报_平潭综合实验区党工委管委会</title>
</head><body>
<div class="header"><a href="/">首页</a><a href="/bsfw/sqb.doc">政府信息公开申请表.doc</a></div>
<div class="crumb">当前位置： 首页 &gt; 政务公开 &gt; 政府信息公开 &gt; 政府信息公开年报</div>
<div class="article_component">
  <div class="article_title text_align_center">平潭综合实验区2021年度政府信息公开工作年度报告</div>
  <div class="article_info">来源：平潭县人民政府 时间：2022-02-08 16:34</div>
  <div class="TRS_Editor">
    <p style="text-indent: 2em;"><span>一、总体情况</span></p>
    <p>2021年，实验区认真贯彻落实《中华人民共和国政府信息公开条例》，全面推进政务公开工作。</p>
    <p style="text-indent: 2em;"><span>二、主动公开政府信息情况</span></p>
    <table border="1"><tbody>
      <tr class="firstRow"><td colspan="4"><p>第二十条第（一）项</p></td></tr>
      <tr><td><p>信息内容</p></td><td><p>本年制发件数</p></td><td><p>本年废止件数</p></td><td><p>现行有效件数</p></td></tr>
      <tr><td><p>行政规范性文件</p></td><td><p>58</p></td><td><p>45</p></td><td><p>546</p></td></tr>
    </tbody></table>
  </div>
  <div class="article_attachment" id="file_xmb"><ul id="file_ul_fj"></ul></div>
</div>
<div class="footer">网站标识码：3590000001</div>
</body></html>"""


def test_pingtan_article() -> None:
    url = "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/202202/t20220208_80613.htm"
    art = parse_article(PINGTAN_ARTICLE.encode("utf-8"), url, content_type="text/html")
    assert art.title == "平潭综合实验区2021年度政府信息公开工作年度报告"
    assert art.published == dt.datetime(2022, 2, 8, 16, 34)
    assert art.published_source == "page"  # the visible 时间： line
    assert art.agency_hint == "平潭县人民政府"  # displayed source, not the Author meta
    assert art.meta["SiteIDCode"] == "3590000001" and art.meta["Author"] == "管委会办公室"
    assert "ContentSource" not in art.meta  # empty meta dropped
    assert art.attachments == ()  # the sidebar's 申请表.doc is not the report's attachment
    assert art.has_report_tables
    assert not art.body_is_just_attachments
    assert "行政规范性文件" in art.body_text and "首页" not in art.body_text
    assert art.encoding == "utf-8"
    assert url_date(url) == dt.date(2022, 2, 8)


ZHEJIANG_ARTICLE = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<meta name="ArticleTitle" content="杭州市萧山区发展和改革局2022年度政府信息公开工作年度报告">
<meta name="PubDate" content="2023-01-05 09:00">
<title>杭州市萧山区发展和改革局2022年度政府信息公开工作年度报告</title></head><body>
<table class="xxgk_table"><tr><td>索 引 号</td><td>H002/2023-00083</td><td>成文日期</td><td>2023-01-04</td></tr>
<tr><td>发布机构</td><td>区发改局</td><td>主题分类</td><td>综合政务/政务公开</td></tr>
<tr><td>文号</td><td></td><td>公开方式</td><td>主动公开</td></tr></table>
<div class="title">杭州市萧山区发展和改革局2022年度政府信息公开工作年度报告</div>
<div class="info">发布日期:2023-01-04 14:42 访问次数: <span id="count"></span> 信息来源:区发改局 字号:[ 大 中 小 ]</div>
<div id="zoom"><p>一、总体情况</p><p>2022年，区发改局深入贯彻落实政府信息公开条例……</p>
<p>附件：<a href="/module/download/downfile.jsp?classid=0&filename=2301041442.pdf">区发改局2022年度政府信息公开工作年度报告.pdf</a></p></div>
</body></html>"""


def test_zhejiang_jcms_article_gbk() -> None:
    data = ZHEJIANG_ARTICLE.encode("gbk")
    url = "http://www.xiaoshan.gov.cn/art/2023/1/4/art_1229709821_67985.html"
    art = parse_article(data, url)  # no HTTP header: the GB2312 declaration (read as GB18030)
    assert art.encoding == "gb18030"
    assert art.title == "杭州市萧山区发展和改革局2022年度政府信息公开工作年度报告"
    assert art.published == dt.datetime(2023, 1, 4, 14, 42)  # 发布日期, not 成文日期, not PubDate
    assert art.published_source == "page"
    assert art.agency_hint == "区发改局"
    assert [(a.url, a.name, a.ext) for a in art.attachments] == [
        ("http://www.xiaoshan.gov.cn/module/download/downfile.jsp?classid=0&filename=2301041442.pdf",
         "区发改局2022年度政府信息公开工作年度报告.pdf", "pdf"),
    ]
    assert not art.has_report_tables
    assert url_date(url) == dt.date(2023, 1, 4)


def test_gbk_bytes_without_declaration() -> None:
    page = "<html><body><div id='zoom'><p>发布时间：2024年3月26日</p><p>杨林镇2023年政府信息公开工作年度报告正文。</p></div></body></html>"
    art = parse_article(page.encode("gbk"), "http://x.gov.cn/a.html")
    assert art.published == dt.datetime(2024, 3, 26)
    assert "杨林镇" in art.body_text


def test_empty_publication_line_falls_back_to_meta() -> None:
    page = """<html><head><meta name="PubDate" content="2023-02-20"></head><body>
    <div class="info">来源:兴安盟审计局 发布时间: 浏览次数:12</div>
    <div class="article-content"><p>时间：2022年1月1日至12月31日的数据见下表。</p><p>兴安盟审计局2022年政府信息公开工作年度报告……</p></div>
    </body></html>"""
    art = parse_article(page, "http://www.xam.gov.cn/sfj/2026-01/14/article_2026011415262653024.html")
    assert art.published == dt.datetime(2023, 2, 20)
    assert art.published_source == "meta"
    assert art.agency_hint == "兴安盟审计局"
    assert url_date(art.url) == dt.date(2026, 1, 14)


def test_no_date_anywhere() -> None:
    page = "<html><body><div id='zoom'><p>发布时间：</p><p>正文没有日期。正文没有日期。正文没有日期。</p></div></body></html>"
    art = parse_article(page, "http://x.gov.cn/a.html")
    assert art.published is None and art.published_source is None


def test_chengwen_date_is_not_publication_date() -> None:
    page = """<html><body><table><tr><td>成文日期：</td><td>2021-01-19</td></tr></table>
    <div id="zoom"><p>正文内容正文内容正文内容正文内容正文内容</p></div></body></html>"""
    art = parse_article(page, "http://x.gov.cn/a.html")
    assert art.published is None


GKMLPT_ARTICLE = """<html><head><title>阳江市2020年政府信息公开工作年度报告</title></head><body>
<div class="classify"><table><tr><td>索引号:</td><td>11441700007280420Y/2021-00050</td><td>分类:</td><td></td></tr>
<tr><td>发布机构:</td><td>阳江市人民政府办公室</td><td>成文日期:</td><td>2021-01-19</td></tr>
<tr><td>名称:</td><td>阳江市2020年政府信息公开工作年度报告</td></tr>
<tr><td>文号:</td><td>阳府办函〔2021〕9号</td><td>发布日期:</td><td></td></tr></table></div>
<div class="content"><p>阳江市2020年政府信息公开工作年度报告正文……阳江市2020年政府信息公开工作年度报告正文……</p>
<p><a href="/attachment/0/100/100001/508890.docx">阳江市2020年政府信息公开工作年度报告.docx</a></p></div>
<script>window._CONFIG = { SID: '755031', DETAIL: {"id":508890,"title":"阳江市2020年政府信息公开工作年度报告",
"publisher":"阳江市人民政府办公室","display_publish_time":1612144800,"date":1611014400,"content":"<p>正文 {括号} \\"引号\\"</p>"}, TREE: [] };</script>
</body></html>"""


def test_gkmlpt_article_detail() -> None:
    detail = gkmlpt.detail_json(GKMLPT_ARTICLE)
    assert detail is not None and detail["id"] == 508890
    art = parse_article(GKMLPT_ARTICLE, "http://www.yangjiang.gov.cn/gkmlpt/content/0/508/post_508890.html")
    # the visible 发布日期 is empty, no PubDate meta: DETAIL's display_publish_time (Beijing time)
    assert art.published == dt.datetime(2021, 2, 1, 10, 0)
    assert art.published_source == "gkmlpt"
    assert art.agency_hint == "阳江市人民政府办公室"
    assert art.title == "阳江市2020年政府信息公开工作年度报告"
    assert [a.ext for a in art.attachments] == ["docx"]
    assert url_date(art.url) is None


def test_body_just_attachment() -> None:
    page = """<html><head><meta name="ArticleTitle" content="XX镇2022年政府信息公开工作年度报告"></head><body>
    <div class="nav"><a href="/">首页</a> <a href="/a.html">政务公开</a></div>
    <div id="zoom"><p>XX镇2022年政府信息公开工作年度报告</p>
    <p>附件：<a href="/upload/2023/01/nb2022.pdf">XX镇2022年政府信息公开工作年度报告.pdf</a></p>
    <p><a href="/upload/2023/01/nb2022.wps" title="WPS 版">下载</a></p></div></body></html>"""
    art = parse_article(page, "http://x.gov.cn/art/2023/1/17/art_1_2.html")
    assert [a.ext for a in art.attachments] == ["pdf", "wps"]
    assert art.attachments[0].url == "http://x.gov.cn/upload/2023/01/nb2022.pdf"
    assert art.body_is_just_attachments
    assert not art.has_report_tables


def test_attachment_outside_container_and_body_selector() -> None:
    page = """<html><body><div class="main"><div class="TRS_Editor"><p>报告全文见附件。报告全文见附件。报告全文见附件。</p></div>
    <p>附件：<a href="./P020230118.xlsx">统计表.xlsx</a> <a href="./other.html">相关阅读</a></p></div>
    <div class="mine"><p>自定义正文容器里的文字自定义正文容器里的文字</p></div></body></html>"""
    art = parse_article(page, "http://x.gov.cn/zw/202301/t20230118_1.html")
    assert [(a.name, a.ext) for a in art.attachments] == [("统计表.xlsx", "xlsx")]
    assert art.body_is_just_attachments
    custom = parse_article(page, "http://x.gov.cn/zw/202301/t20230118_1.html", body_selector="div.mine")
    assert custom.body_text.startswith("自定义正文容器")


def test_largest_text_block_without_known_container() -> None:
    report = "".join(f"<p>第{i}段：本机关认真落实政府信息公开条例，主动公开政府信息。</p>" for i in range(20))
    page = f"""<html><body><div class="menu"><a href="/1">机构概况</a><a href="/2">政策文件</a><a href="/3">政务公开</a></div>
    <div class="box"><div class="wrap">{report}</div><div class="side"><p>联系我们</p></div></div></body></html>"""
    art = parse_article(page, "http://x.gov.cn/a.html")
    assert art.body_text.startswith("第0段") and "联系我们" not in art.body_text


def test_innermost_known_container_that_holds_something() -> None:
    text = "本机关依法主动公开政府信息，" * 3

    def page(body: str) -> str:
        return f"<html><body>{body}</body></html>"

    nested = page(f'<div id="zoom"><p>导语</p><div class="TRS_Editor"><p>{text}</p></div></div>')
    assert parse_article(nested, "http://x/").body_html.startswith('<div class="TRS_Editor">')
    empty_inner = page(f'<div class="article-content"><p>{text}</p><div class="TRS_Editor"> </div></div>')
    assert parse_article(empty_inner, "http://x/").body_html.startswith('<div class="article-content">')
    siblings = page(f'<div class="TRS_Editor"><p>第一篇{text}</p></div><div class="TRS_Editor"><p>{text}</p></div>')
    assert parse_article(siblings, "http://x/").body_text.startswith("第一篇")
    # Little text, but the report as an attachment: the container still holds something.
    attachment = page(f'<div class="main"><div id="zoom"><a href="/nb.pdf">年报</a></div><p>{text}</p></div>')
    art = parse_article(attachment, "http://x/")
    assert art.body_html.startswith('<div id="zoom">')
    assert [a.url for a in art.attachments] == ["http://x/nb.pdf"]


def test_blocks_after_a_stray_html_end_tag_are_not_title_or_attachments() -> None:
    page = """<html><head><title>XX县2021年政府信息公开工作年度报告_XX县</title></head><body>
    <div id="zoom"><p>本机关依法主动公开政府信息，本机关依法主动公开政府信息。</p></div></body></html>
    <div class="title">XX县2021年政府信息公开工作年度报告（补）</div><div class="fujian"><a href="/x.pdf">附件</a></div>"""
    art = parse_article(page, "http://x/")
    assert art.title == "XX县2021年政府信息公开工作年度报告"
    assert art.attachments == ()


def test_clean_text_whitespace() -> None:
    from scraper.platforms.common import clean_text

    assert clean_text(" \u3000第一行\n\t第二行\xa0\u200b第三行\ufeff \x1c") == "第一行 第二行 第三行"
    assert clean_text("a\u200cb") == "a\u200cb"  # a zero-width non-joiner is not a space
    assert clean_text(None) == clean_text("") == clean_text(" \u200b ") == ""


def test_title_fallbacks() -> None:
    page = """<html><head><title>XX县2021年政府信息公开工作年度报告_年报专栏_XX县人民政府</title></head>
    <body><div class="title">最新信息</div><div class="title">XX县2021年政府信息公开工作年度报告</div></body></html>"""
    assert parse_article(page, "http://x/").title == "XX县2021年政府信息公开工作年度报告"
    page2 = "<html><head><title>首页 - XX县2020年政府信息公开年报 - XX县</title></head><body></body></html>"
    assert parse_article(page2, "http://x/").title == "XX县2020年政府信息公开年报"


def test_other_date_line_formats() -> None:
    page = "<html><body><div>来源:市统计局发布日期:2023/01/18 11:34:01</div><div id='zoom'><p>正文正文正文正文正文正文正文正文正文正文正文</p></div></body></html>"
    art = parse_article(page, "http://x/")
    assert art.published == dt.datetime(2023, 1, 18, 11, 34, 1)
    assert art.agency_hint == "市统计局"
    anhui = """<html><body><table><tr><td>索引号</td><td>0001/2021-1</td><td>发布机构</td><td>XX县数据资源局</td></tr>
    <tr><td>发文日期</td><td>2021-10-08 15:47</td><td>发布文号</td><td></td></tr></table>
    <div class="article-content"><p>正文正文正文正文正文正文正文正文正文正文正文</p></div></body></html>"""
    art = parse_article(anhui, "http://x/")
    assert art.published == dt.datetime(2021, 10, 8, 15, 47)
    assert art.agency_hint == "XX县数据资源局"


def test_url_dates() -> None:
    assert url_date("http://www.laifeng.gov.cn/xxgk/gknb/xzbm/xzwj/202201/t20220124_1239406.shtml") == dt.date(2022, 1, 24)
    assert url_date("https://www.shanghai.gov.cn/nw12344/20240329/d7775c906c0b402a93cbebf4e979c002.html") == dt.date(2024, 3, 29)
    assert url_date("http://www.hengdong.gov.cn/zwgk/xxgkndbg/xzxxgkndbg/20240326/i3300070.html") == dt.date(2024, 3, 26)
    assert url_date("http://www.xiaogan.gov.cn/c/www/bmnb/166938.jhtml") is None
    assert url_date("http://x/art/2023/13/40/art_1_2.html") is None


def test_attachment_ext() -> None:
    assert attachment_ext("http://x/a/b.PDF") == "pdf"
    assert attachment_ext("http://x/downfile.jsp?filename=x.docx") == "docx"
    assert attachment_ext("http://x/download?id=12", "年度报告.wps") == "wps"
    assert attachment_ext("http://x/a.et") == "et"
    assert attachment_ext("http://x/a.html", "年度报告.pdf") is None
    assert attachment_ext("http://x/a.zip") is None


def test_empty_and_binary_input_do_not_crash() -> None:
    for data in (b"", b"   ", b"%PDF-1.7\n\x00\x01\x02\xff\xfe binary", "<html>", "<?xml version='1.0' encoding='utf-8'?><html/>"):
        art = parse_article(data, "http://x.gov.cn/a.pdf")
        assert art.published is None and art.attachments == ()
    assert parse_list_page("", "http://x.gov.cn/") == []


def test_gbk_list_page_bytes() -> None:
    from scraper.platforms.common import to_text

    page = ('<html><head><meta charset="gbk"></head><body><ul><li><a href="/a/1.html">'
            "XX县2022年政府信息公开工作年度报告</a><span>2023-01-30</span></li></ul></body></html>").encode("gbk")
    entries = parse_list_page(to_text(page, "text/html"), "http://x.gov.cn/l/")
    assert entries == [ListEntry("XX县2022年政府信息公开工作年度报告", "http://x.gov.cn/a/1.html", dt.date(2023, 1, 30))]


def test_day_only_line_takes_the_time_from_pubdate_of_that_day() -> None:
    page = """<html><head><meta name="PubDate" content="{meta}"></head><body>
    <div class="nbxx"><span>发布单位：宁波市镇海区住房和城乡建设局</span> <span>发布时间：2023-01-16</span></div>
    <div id="zoom"><p>本报告根据《中华人民共和国政府信息公开条例》编制，统计期限自2022年1月1日起至2022年12月31日止。</p></div>
    </body></html>"""
    same_day = parse_article(page.format(meta="2023-01-16 10:00"), "http://x/")
    assert same_day.published == dt.datetime(2023, 1, 16, 10, 0) and same_day.published_source == "page"
    assert same_day.agency_hint == "宁波市镇海区住房和城乡建设局"
    other_day = parse_article(page.format(meta="2023-01-20 10:00"), "http://x/")
    assert other_day.published == dt.datetime(2023, 1, 16) and other_day.published_source == "page"
