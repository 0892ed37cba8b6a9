"""The demo disclosure sites answer as real TRS, jcms, gkmlpt and plain sites do, their
faults behave as documented, and their ground-truth reports read back through the checks
with the right agency, year and data."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
import re
import socket
import xml.etree.ElementTree as ET

import httpx
import pytest

from checks.check import check_document
from checks.parse import NotAReport
from checks.readers import read_bytes
from conftest import assert_matches
from xxgk.demo import (
    DemoServer,
    check_loopback,
    default_sites,
    gkmlpt_site,
    jcms_site,
    loopback_addresses,
    many_sites,
    plain_site,
    sites_config,
    trs_site,
)
from xxgk.demo import content as demo_content
from xxgk.demo import gkmlpt as G
from xxgk.demo import jcms as J
from xxgk.demo import trs as T

SLOW = 0.6


@pytest.fixture(scope="module")
def srv():
    server = DemoServer(default_sites(), slow_delay=SLOW).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client():
    with httpx.Client(timeout=30) as c:
        yield c


def site_of(srv, platform: str):
    return next(s for s in srv.sites if s.platform == platform)


def get(srv, client, site, path: str, **kw) -> httpx.Response:
    return client.get(srv.url(site.name, path), **kw)


# ---- ground truth ------------------------------------------------------------------------


def test_ground_truth_covers_years_templates_and_formats():
    sites = default_sites()
    assert [s.platform for s in sites] == ["trs", "jcms", "gkmlpt", "plain", "trs"]
    for site in sites:
        years = {r.year for r in site.reports}
        assert len(years) >= 3, site.name
        assert years <= set(range(2019, 2025))
        for r in site.reports:
            assert r.template == ("2019" if r.year <= 2020 else "2021"), (site.name, r.year)
            assert r.published.year == r.year + 1
            assert r.url in site.pages or any(r.url.startswith(p) for p in site.dynamic)
            assert r.document in site.pages
            assert r.expected["agency"] == r.agency and r.expected["year"] == r.year
            if site.agency != "portal":
                assert r.agency == site.agency
    jcms = sites[1]
    formats = {r.fmt for r in jcms.reports if r.kind == "attachment"}
    assert {"docx", "pdf"} <= formats
    assert ("doc" in formats) == (demo_content.soffice_path() is not None) or jcms.notes
    dup = [r for r in jcms.reports if r.duplicates]
    assert len(dup) == 1 and dup[0].kind == "inline" and dup[0].duplicates[0].endswith(".pdf")
    assert {r.source for r in sites[1].reports + sites[3].reports if r.source != "synthetic"} <= {
        "seed:000_8b514d37f90b3802", "seed:003_ea529112bc721654", "seed:004_b1b7a26bec250306"}
    assert set(sites[3].fault_urls) == {
        "huge", "slow", "rate_limited", "fail_500x2", "robots_forbidden", "redirect_loop", "not_found", "offsite"}


def test_config_as_toml(srv):
    import tomllib

    from xxgk.demo.__main__ import to_toml

    assert tomllib.loads(to_toml(sites_config(srv)))["sites"] == sites_config(srv)


def test_sites_config_entries(srv):
    entries = sites_config(srv)
    assert [e["name"] for e in entries] == [s.name for s in srv.sites]
    for entry, site in zip(entries, srv.sites):
        keys = {"name", "agency", "region_code", "region_name", "level", "list_urls"}
        assert set(entry) == (keys | {"hints"} if site.hints else keys)
        assert entry["list_urls"][0].startswith(srv.base_url(site.name))
    assert [e["hints"] for e in entries if "hints" in e] == [{"unit_codes": [J.LT_CODE]}]  # jcms: a unit no page names
    try:
        from xxgk.config import SiteConfig
    except ImportError:  # the config model is someone else's work in progress
        return
    for entry in entries:
        SiteConfig(**entry)


# ---- TRS ------------------------------------------------------------------------------------


def test_trs_lists_paginate_and_are_gbk(srv, client):
    site = site_of(srv, "trs")
    first = get(srv, client, site, T.COLUMN + "index.htm")
    assert first.status_code == 200 and "charset" not in first.headers["content-type"]
    with pytest.raises(UnicodeDecodeError):
        first.content.decode("utf-8")
    text = first.content.decode("gb18030")
    assert 'charset=gb2312' in text and "林堃" in text  # a GBK-only character on a "gb2312" page
    assert 'createPageHTML(3, 0, "index", "htm")' in text
    rows = re.findall(r'<li><a href="(\./[^"]+)"[^>]*title="([^"]+)">[^<]*</a><span>(\d{4}-\d{2}-\d{2})</span>', text)
    assert len(rows) == 10
    assert any("通知" in t for _, t, _ in rows) and any("年度报告" in t for _, t, _ in rows)
    second = get(srv, client, site, T.COLUMN + "index_1.htm").content.decode("gb18030")
    third = get(srv, client, site, T.COLUMN + "index_2.htm")
    assert 'createPageHTML(3, 1, "index", "htm")' in second
    assert third.headers["content-type"] == "text/html; charset=GBK"
    assert get(srv, client, site, T.COLUMN + "index_3.htm").status_code == 404
    listed = {t for page in (text, second, third.content.decode("gb18030"))
              for t in re.findall(r'title="([^"]+)"', page)}  # fmt: skip
    assert {r.title for r in site.reports} <= listed
    assert len(listed) >= 21


def test_trs_articles_dates_and_charsets(srv, client):
    site = site_of(srv, "trs")
    moved = site.report(2022)
    assert "t20230116_" in moved.url and moved.published_date == dt.date(2023, 1, 13)
    page = get(srv, client, site, moved.url).content.decode("gb18030")
    assert '<meta name="PubDate" content="2023-01-13 16:34"/>' in page
    assert "时间：2023-01-13 16:34" in page and '<meta name="ArticleTitle"' in page
    bare = get(srv, client, site, site.report(2021).url)
    assert "charset" not in bare.headers["content-type"]
    assert b"charset" not in bare.content.lower()
    with pytest.raises(UnicodeDecodeError):
        bare.content.decode("utf-8")
    assert site.report(2021).title in bare.content.decode("gbk")
    decoy = get(srv, client, site, site.decoys[0])
    with pytest.raises(NotAReport):
        check_document(read_bytes(decoy.content, site.decoys[0]))


# ---- TRS "动静结合": static first page, the rest through the document search ----------------


def _search(srv, client, site, page: int, **override) -> dict:
    form = {"channelid": T.SEARCH_ID, "classsql": f"chnlid={T.FGJ_CHANNEL}", "sortfield": "-docorderpri,-docreltime",
            "page": str(page), "prepage": "10", **override}  # fmt: skip
    r = client.post(srv.url(site.name, T.SEARCH_PATH), data=form)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    return r.json()


def test_trs_search_site_static_page_declares_the_search(srv, client):
    site = srv.site("lianjiang-fgj-trs")
    assert site.list_paths == [T.FGJ_COLUMN + "index.htm"]
    page = get(srv, client, site, T.FGJ_COLUMN + "index.htm")
    text = page.content.decode("utf-8")
    assert '<meta charset="utf-8"' in text and "createPageHTML" not in text
    assert 'require(["list2.trsapi", "tools"]' in text and 'quickMode: "动静结合"' in text
    assert "maxStaticIndex: 1," in text and f"searchId: {T.SEARCH_ID}," in text
    assert "channelid: SiteInfo.searchId," in text and f'classsql: "" || "chnlid={T.FGJ_CHANNEL}",' in text
    assert "recordCount: '25'," in text and "prepage: 10," in text
    rows = re.findall(r'<a href="(\./[^"]+)" target="_blank" title="([^"]+)">', text)
    assert len(rows) == 10
    static = {T.FGJ_COLUMN + href[2:] for href, _ in rows}
    assert {r.url for r in site.reports} & static == {site.report(2023).url}  # 2019–2022: only the search
    assert 'ms-attr-href="el.chnldocurl"' in text  # the template the script fills, no href to follow


def test_trs_search_pages_json(srv, client):
    site = srv.site("lianjiang-fgj-trs")
    pages = [_search(srv, client, site, n) for n in (1, 2, 3, 4)]
    assert [len(p["data"]) for p in pages] == [10, 10, 5, 0] and {p["pageCount"] for p in pages} == {3}
    rows = [row for p in pages for row in p["data"]]
    base = srv.base_url(site.name)
    urls = [row["chnldocurl"] for row in rows]
    assert len(set(urls)) == 25 and all(u.startswith(base + T.FGJ_COLUMN) for u in urls)
    assert rows[0]["doctitle"].endswith("政府信息公开指南")  # pinned (docorderpri) first, then newest first
    days = [row["docreltime"][:10] for row in rows[1:]]
    assert days == sorted(days, reverse=True)
    for r in site.reports:
        row = next(row for row in rows if row["chnldocurl"] == base + r.url)
        assert row["doctitle"] == r.title and row["docreltime"].startswith(f"{r.published:%Y-%m-%d %H:%M}")
    moved = site.report(2020)
    assert "t20210129_" in moved.url and moved.published_date == dt.date(2021, 1, 26)
    # the page size follows prepage; another channel or column finds nothing; GET works as well
    assert len(_search(srv, client, site, 1, prepage="25")["data"]) == 25
    assert _search(srv, client, site, 1, channelid="1")["data"] == []
    assert _search(srv, client, site, 1, classsql="chnlid=1813")["data"] == []
    got = client.get(srv.url(site.name, T.SEARCH_PATH), params={"channelid": T.SEARCH_ID, "page": "3",
                                                                "classsql": f"chnlid={T.FGJ_CHANNEL}"}).json()
    assert [row["chnldocurl"] for row in got["data"]] == urls[20:]
    article = get(srv, client, site, moved.url).content.decode("utf-8")
    assert "时间：2021-01-26 09:40" in article and "来源：连江县发展和改革局" in article


# ---- jcms -----------------------------------------------------------------------------------

FORM = {"col": "1", "appid": "1", "webid": J.WEBID, "path": "/", "columnid": J.COLUMN_ID, "sourceContentType": "1",
        "unitid": J.UNIT_ID, "webname": J.SITE_NAME, "permissiontype": "0"}  # fmt: skip


def _records(xml_bytes: bytes) -> tuple[int, list[tuple[str, str, str]]]:
    root = ET.fromstring(xml_bytes)
    total = int(root.findtext("totalrecord"))
    rows = []
    for rec in root.iter("record"):
        m = re.search(r'<a href="([^"]+)" title="([^"]+)"[^>]*>.*?<span>(\d{4}-\d{2}-\d{2})</span>', rec.text)
        assert m, rec.text
        href, title, day = m.groups()
        rows.append((html.unescape(href), html.unescape(title), day))
    return total, rows


def test_jcms_column_page_embeds_the_dataproxy_call(srv, client):
    site = site_of(srv, "jcms")
    page = get(srv, client, site, J.COLUMN).text
    assert '<meta name="ColumnName" content="政府信息公开年报">' in page
    assert "/module/web/jpage/dataproxy.jsp" in page
    assert (f"col: 1, appid: 1, webid: {J.WEBID}, path: '/', columnid: {J.COLUMN_ID}, sourceContentType: 1, "
            f"unitid: {J.UNIT_ID}, webname: '{J.SITE_NAME}', permissiontype: 0") in page  # fmt: skip
    assert page.count("<record><![CDATA[") == 15


def test_jcms_dataproxy_pages_records(srv, client):
    site = site_of(srv, "jcms")
    url = srv.url(site.name, J.DATAPROXY)
    one = client.post(url + "?startrecord=1&endrecord=45&perpage=15", data=FORM)
    assert one.status_code == 200 and "xml" in one.headers["content-type"]
    total, first = _records(one.content)
    assert total >= 50 and len(first) == 45
    total2, rest = _records(client.post(url + "?startrecord=46&endrecord=90&perpage=15", data=FORM).content)
    assert total2 == total and len(rest) == total - 45
    hrefs = [h for h, _, _ in first + rest]
    assert len(set(hrefs)) == total
    listed = {r.url for r in site.reports if r.list_date is not None}
    assert listed <= set(hrefs)
    assert not {r.url for r in site.reports if r.list_date is None} & set(hrefs)  # module-only: in no list
    assert listed - {h for h, _, _ in first}, "some report must need the second request"
    assert all(re.fullmatch(r"/art/\d{4}/[1-9]\d?/[1-9]\d?/art_\d+_\d+\.html", h) or h.startswith(J.MODULE)
               for h in hrefs)  # fmt: skip
    dates = [d for _, _, d in first + rest]
    assert dates == sorted(dates, reverse=True)
    # parameters in the query string work as well (GET), and a partial range
    qs = "&".join(f"{k}={v}" for k, v in FORM.items())
    _, some = _records(client.get(url + f"?startrecord=16&endrecord=30&perpage=15&{qs}").content)
    assert [h for h, _, _ in some] == hrefs[15:30]


@pytest.mark.parametrize("field", ["unitid", "columnid", "webid"])
def test_jcms_dataproxy_wrong_ids_give_nothing(srv, client, field):
    site = site_of(srv, "jcms")
    form = {**FORM, field: "1"}
    total, rows = _records(client.post(srv.url(site.name, J.DATAPROXY) + "?startrecord=1&endrecord=45&perpage=15",
                                       data=form).content)  # fmt: skip
    assert total == 0 and rows == []


def test_jcms_articles_attachments_and_module(srv, client):
    site = site_of(srv, "jcms")
    inline = site.report(2023, "宁波市镇海区人民政府")
    page = get(srv, client, site, inline.url).text
    assert "发布日期:2024-01-22 15:06" in page and "成文日期</td><td>2024-01-17" in page
    assert '<meta name="PubDate" content="2024-01-24 08:50">' in page  # disagrees; the 发布日期 line wins
    assert inline.published == dt.datetime(2024, 1, 22, 15, 6)
    assert "索 引 号" in page and "发布机构" in page
    magic = {"docx": b"PK\x03\x04", "pdf": b"%PDF", "doc": b"\xd0\xcf\x11\xe0"}
    attached = [r for r in site.reports if r.kind == "attachment"]
    assert attached
    for r in attached:
        article = get(srv, client, site, r.url).text
        assert r.document in article.replace("&amp;", "&")
        with pytest.raises(NotAReport):
            check_document(read_bytes(article.encode(), r.url))
        if r.fmt == "doc":
            continue  # rendered by LibreOffice in the background; read back in the slow test
        head = client.head(srv.url(site.name, r.document))
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) > 1000
        assert "attachment" in head.headers["content-disposition"]
        assert get(srv, client, site, r.document).content.startswith(magic[r.fmt])
    module = [r for r in site.reports if r.url.startswith(J.MODULE)]
    zjj, zbs, lt = "宁波市镇海区住房和城乡建设局", "宁波市镇海区招宝山街道办事处", "宁波市镇海区骆驼街道办事处"
    assert sorted((r.agency, r.year, r.list_date is not None) for r in module) == sorted([
        (zjj, 2021, False), (zjj, 2022, True), (zjj, 2023, False), (zbs, 2022, True), (lt, 2022, False),
        (lt, 2023, False)])
    area = re.search(r"area=(\w+)", module[0].url).group(1)
    swapped = get(srv, client, site, f"{J.MODULE}?fbtime=2022&area={area}").text
    assert module[0].title in swapped and "发布时间：2023-01-16" in swapped
    assert "未查询到" in get(srv, client, site, f"{J.MODULE}?area={area}&fbtime=2019").text


def test_jcms_module_units_links_and_hints(srv, client):
    site = site_of(srv, "jcms")
    column = get(srv, client, site, J.COLUMN).text
    # the column page names the units' codes the way jcms portals do; the hinted one it does not
    for code in (J.ZJJ_CODE, J.ZBS_CODE, J.EDU_CODE):
        assert f"/index.html?vc_xxgkarea={code}" in column
    assert J.LT_CODE not in column and site.hints == {"unit_codes": [J.LT_CODE]}
    hinted = get(srv, client, site, f"{J.MODULE}?area={J.LT_CODE}&fbtime=2023")
    assert hinted.status_code == 200 and "骆驼街道办事处2023年度" in hinted.text
    assert hinted.headers["etag"] and hinted.headers["last-modified"]
    # 招宝山街道 2023: the module links to the report, an article no list shows
    report = site.report(2023, "宁波市镇海区招宝山街道办事处")
    linking = get(srv, client, site, f"{J.MODULE}?area={J.ZBS_CODE}&fbtime=2023").text
    assert f'href="{report.url}"' in linking and "<table" not in linking
    assert report.url.startswith("/art/") and report.list_date is None
    # no report for the year: the "not found" page, conditional like any page
    none = get(srv, client, site, f"{J.MODULE}?area={J.EDU_CODE}&fbtime=2023")
    assert "未查询到" in none.text
    again = get(srv, client, site, f"{J.MODULE}?area={J.EDU_CODE}&fbtime=2023",
                headers={"If-None-Match": none.headers["etag"]})
    assert again.status_code == 304


# ---- gkmlpt ---------------------------------------------------------------------------------


def test_gkmlpt_index_and_json_paging(srv, client):
    site = site_of(srv, "gkmlpt")
    assert site.list_paths == [f"/gkmlpt/index#{G.COLUMN_ID}"]
    index = get(srv, client, site, G.INDEX).text
    assert f"SID: '{G.SID}'" in index and f'"id": {G.COLUMN_ID}' in index
    articles, total = [], None
    for n in (1, 2, 3):
        r = get(srv, client, site, f"{G.API}?page={n}&sid={G.SID}")
        assert r.headers["content-type"].startswith("application/json")
        body = r.json()
        total = body["total"]
        assert len(body["articles"]) == (5 if n < 3 else total - 10)
        articles += body["articles"]
    assert total == len(site.entries) == 12
    assert get(srv, client, site, f"{G.API}?page=4&sid={G.SID}").json()["articles"] == []
    wrong = get(srv, client, site, f"{G.API}?page=1&sid=1").json()
    assert wrong["articles"] == [] and wrong["total"] == 0
    by_url = {a["url"]: a for a in articles}
    base = srv.base_url(site.name)
    for r in site.reports:
        a = by_url[base + r.url]
        assert a["title"] == r.title
        assert dt.datetime.fromtimestamp(a["first_publish_time"], G.CST).replace(tzinfo=None) == r.published
    titles = {r.title for r in site.reports}
    assert any("工作" not in t for t in titles) and any(t.endswith("年度政府信息公开工作报告") for t in titles)


def test_gkmlpt_article_embeds_detail(srv, client):
    site = site_of(srv, "gkmlpt")
    r = site.report(2021)
    page = get(srv, client, site, r.url).text
    assert "DETAIL: {" in page and "TREE:" in page
    detail = json.loads(re.search(r"DETAIL: (\{.*\}),\n    TREE:", page).group(1))
    assert detail["title"] == r.title and "<table" in detail["content"]
    assert "发布日期:2022-01-26" in page and "成文日期：</label><span>2022-01-19" in page


# ---- plain site and faults ------------------------------------------------------------------


def test_plain_pagination_robots_and_links(srv, client):
    site = site_of(srv, "plain")
    first = get(srv, client, site, "/xxgk/ndbg/index.html").text
    assert ">下一页</a>" in first and ">尾页</a>" in first and 'href="index.html?page=3"' in first
    assert get(srv, client, site, "/xxgk/ndbg/index.html?page=2").text != first
    pages = [get(srv, client, site, f"/xxgk/ndbg/index.html?page={n}").text for n in (1, 2, 3)]
    assert pages[0] == first and "<span>下一页</span>" in pages[2]
    joined = "".join(pages)
    assert site.fault_urls["offsite"] in joined and "866tx.com" in site.fault_urls["offsite"]
    assert all(r.url in joined for r in site.reports)
    assert ">政府信息公开工作年度报告</a>" in joined  # the generic title
    robots = get(srv, client, site, "/robots.txt")
    assert robots.status_code == 200 and "Disallow: /private/" in robots.text
    assert get(srv, client, site, site.fault_urls["robots_forbidden"]).status_code == 200  # exists, but forbidden
    assert get(srv, client, site, site.fault_urls["not_found"]).status_code == 404
    assert get(srv, client, site_of(srv, "trs"), "/robots.txt").status_code == 404


def test_fail_twice_then_ok(srv, client):
    site = site_of(srv, "plain")
    srv.reset_faults()
    path = site.fault_urls["fail_500x2"]
    assert [get(srv, client, site, path).status_code for _ in range(4)] == [500, 500, 200, 200]
    srv.reset_faults()
    assert get(srv, client, site, path).status_code == 500


def test_rate_limited_then_ok(srv, client):
    site = site_of(srv, "plain")
    srv.reset_faults()
    path = site.fault_urls["rate_limited"]
    first = get(srv, client, site, path)
    assert first.status_code == 429 and first.headers["retry-after"] == "1"
    assert get(srv, client, site, path).status_code == 200


def test_redirect_loop(srv, client):
    site = site_of(srv, "plain")
    r = get(srv, client, site, "/loop/a")
    assert r.status_code == 302 and r.headers["location"] == "/loop/b"
    assert get(srv, client, site, "/loop/b").headers["location"] == "/loop/a"
    with pytest.raises(httpx.TooManyRedirects):
        get(srv, client, site, site.fault_urls["redirect_loop"], follow_redirects=True)


def test_slow_page_times_out_with_short_timeout(srv, client):
    site = site_of(srv, "plain")
    url = srv.url(site.name, site.fault_urls["slow"])
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(url, timeout=SLOW / 4)
    assert httpx.get(url, timeout=10).status_code == 200


def test_huge_attachment_is_streamed(srv):
    site = site_of(srv, "plain")
    url = srv.url(site.name, site.fault_urls["huge"])
    head = httpx.head(url)
    assert int(head.headers["content-length"]) >= 60 * 1024 * 1024
    with httpx.stream("GET", url) as r:  # read 1 MB, then hang up (a size cap)
        got = 0
        for chunk in r.iter_bytes():
            got += len(chunk)
            if got >= 1024 * 1024:
                break
        assert r.headers["content-type"] == "application/pdf"
    assert get(srv, httpx.Client(), site, "/robots.txt").status_code == 200  # still serving


# ---- HTTP semantics -------------------------------------------------------------------------


def test_conditional_get_and_head(srv, client):
    site = site_of(srv, "jcms")
    path = site.reports[0].url
    r = get(srv, client, site, path)
    etag, modified = r.headers["etag"], r.headers["last-modified"]
    srv.reset_log()
    again = get(srv, client, site, path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    since = get(srv, client, site, path, headers={"If-Modified-Since": modified})
    assert since.status_code == 304 and since.content == b""
    older = get(srv, client, site, path, headers={"If-Modified-Since": "Mon, 01 Jan 2018 00:00:00 GMT"})
    assert older.status_code == 200 and older.content == r.content
    head = client.head(srv.url(site.name, path))
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) == len(r.content)
    log = srv.requests_to(site.name, path)
    assert [(e.method, e.status) for e in log] == [("GET", 304), ("GET", 304), ("GET", 200), ("HEAD", 200)]
    assert [e.bytes for e in log] == [0, 0, len(r.content), 0]
    assert log[0].conditional and not log[3].conditional
    assert srv.bytes_sent == len(r.content)


def test_every_page_has_validators(srv, client):
    for site in srv.sites:
        for path in list(site.pages)[:12]:
            if site.pages[path].faults:
                continue
            r = client.head(srv.url(site.name, path))
            assert r.status_code == 200, (site.name, path)
            assert r.headers["etag"].startswith('"') and r.headers["last-modified"].endswith("GMT")


# ---- reports read back through the checks ---------------------------------------------------


def _page_text(resp: httpx.Response) -> str:
    return resp.content.decode("gb18030" if b"gb2312" in resp.content[:400] or resp.request.url.path.startswith(T.COLUMN)
                               else "utf-8")  # fmt: skip


def _get_through_faults(srv, client, site, path) -> httpx.Response:
    """GET, again after a 500 or 429 (the demo's counters do not need the wait)."""
    for _ in range(4):
        resp = get(srv, client, site, path)
        if resp.status_code not in (429, 500):
            break
    assert resp.status_code == 200, (path, resp.status_code)
    return resp


def _check(srv, client, report):
    site = srv.site(report.site)
    resp = _get_through_faults(srv, client, site, report.document)
    got = check_document(read_bytes(resp.content, str(resp.url), content_type=resp.headers.get("content-type")))
    assert got.agency == report.agency and got.year == report.year and got.template == report.template
    assert_matches({k: v for k, v in report.expected.items()}, got.to_json())
    assert set(report.findings_required) <= {f.rule for f in got.findings}
    # the publication date is printed on the page the list links to (or, if its line is empty, in the list)
    page = _page_text(_get_through_faults(srv, client, site, report.url))
    d = report.published_date
    shown = (f"{d:%Y-%m-%d}", f"{d:%Y/%m/%d}", f"{d.year}年{d.month}月{d.day}日")
    if report.date_source == "page":
        assert any(s in page for s in shown), report.url
    else:
        assert not any(s in page for s in shown) and re.search(r"发布时间：\s*<", page)
        assert report.list_date == d


def _readback_cases():
    return [(s.name, r.year, r.agency) for s in default_sites() for r in s.reports if r.fmt != "doc"]


@pytest.mark.parametrize("name,year,agency", _readback_cases())
def test_report_reads_back(srv, client, name, year, agency):
    srv.reset_faults()
    srv.slow_delay = 0.01
    try:
        _check(srv, client, srv.site(name).report(year, agency))
    finally:
        srv.slow_delay = SLOW
        srv.reset_faults()


@pytest.mark.slow
def test_doc_attachment_reads_back(srv, client):
    if demo_content.soffice_path() is None:
        pytest.skip("LibreOffice not installed")
    report = next(r for r in site_of(srv, "jcms").reports if r.fmt == "doc")
    assert srv.wait_warm(300)
    _check(srv, client, report)


# ---- runtime changes ------------------------------------------------------------------------


def test_change_report_content_after_publication():
    with DemoServer([plain_site()], warm=False) as srv, httpx.Client() as c:
        site = srv.sites[0]
        report = site.report(2023)
        url = srv.url(site.name, report.url)
        before = c.get(url)

        def bump(spec):
            spec.applications["new"]["natural"] += 1
            spec.applications["new"]["total"] += 1

        srv.change_report(site.name, report.url, bump)
        assert report.version == 2
        after = c.get(url, headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200 and after.content != before.content
        assert after.headers["etag"] != before.headers["etag"]
        assert after.headers["last-modified"] != before.headers["last-modified"]
        got = check_document(read_bytes(after.content, url))
        assert got.applications["new"]["total"] == report.spec.applications["new"]["total"]
        assert report.published == site.report(2023).published


def test_add_report_appears_first_in_list():
    from xxgk.render import synthetic_spec

    with DemoServer([jcms_site(), gkmlpt_site(), trs_site()], warm=False) as srv, httpx.Client() as c:
        for site in srv.sites:
            spec = synthetic_spec(99, template="2021", year=2024, agency="宁波市镇海区教育局")
            new = srv.add_report(site.name, spec, published=dt.datetime(2025, 1, 20, 10, 0))
            assert new in site.reports and new.year == 2024
            page = c.get(srv.url(site.name, new.url))
            assert page.status_code == 200
            assert check_document(read_bytes(page.content, new.url)).agency == "宁波市镇海区教育局"
        jcms, gk, trs = srv.sites
        _, rows = _records(c.post(srv.url(jcms.name, J.DATAPROXY) + "?startrecord=1&endrecord=45", data=FORM).content)
        assert rows[0][0] == jcms.reports[-1].url
        api = c.get(srv.url(gk.name, f"{G.API}?page=1&sid={G.SID}")).json()
        assert api["articles"][0]["title"] == gk.reports[-1].title and api["total"] == 13
        index = c.get(srv.url(trs.name, T.COLUMN + "index.htm")).content.decode("gbk")
        assert index.index(trs.reports[-1].title) < index.index(trs.report(2023).title)


# ---- hosts and addresses --------------------------------------------------------------------


def test_many_sites_on_distinct_hosts():
    sites = many_sites(1000)
    assert len({s.agency for s in sites}) == 1000
    assert all(1 <= len(s.reports) <= 3 and len(s.entries) == len(s.reports) for s in sites)
    assert many_sites(3, seed=1)[0].agency == many_sites(3, seed=1)[0].agency
    srv = DemoServer(sites, warm=False).start()
    try:
        assert len({srv.address(s.name) for s in sites}) == 1000
        assert len({srv.base_url(s.name).rsplit(":", 1)[1] for s in sites}) == 1

        async def fetch_all() -> list[int]:
            sem = asyncio.Semaphore(50)
            async with httpx.AsyncClient(limits=httpx.Limits(max_connections=50)) as c:
                async def one(site):
                    async with sem:
                        return (await c.get(srv.url(site.name, "/robots.txt"))).status_code

                return await asyncio.gather(*(one(s) for s in sites))

        assert asyncio.run(fetch_all()) == [200] * 1000
        assert {r.host for r in srv.requests} == {srv.address(s.name) for s in sites}
        assert {r.site for r in srv.requests} == {s.name for s in sites}
        s0 = sites[0]
        r = httpx.get(srv.url(s0.name, s0.list_paths[0]))
        assert all(rep.title in r.text for rep in s0.reports)
        check = check_document(read_bytes(httpx.get(srv.url(s0.name, s0.reports[0].url)).content, "x.html"))
        assert check.agency == s0.agency and check.year == s0.reports[0].year
    finally:
        srv.stop()


@pytest.mark.parametrize("address", ["0.0.0.0", "192.168.1.10", "10.0.0.1", "::1", "localhost", "8.8.8.8", ""])
def test_refuses_non_loopback_addresses(address):
    with pytest.raises(ValueError):
        check_loopback(address)
    with pytest.raises(ValueError):
        DemoServer([plain_site()], addresses=[address])


def test_binds_only_loopback():
    assert check_loopback("127.0.3.7") == "127.0.3.7"
    addrs = loopback_addresses(600)
    assert len(set(addrs)) == 600 and all(a.startswith("127.0.") and not a.endswith(".0") for a in addrs)
    assert "127.0.0.1" not in addrs
    srv = DemoServer([plain_site(), trs_site()], addresses=["127.0.9.1", "127.0.9.2"], warm=False).start()
    try:
        bound = [s.getsockname() for s in srv._sockets]
        assert bound == [("127.0.9.1", srv.port), ("127.0.9.2", srv.port)]
        assert httpx.get(srv.url(srv.sites[1].name, "/zwgk/zfxxgk/zfxxgknb/")).status_code == 200
        # nothing listens on the port elsewhere
        with socket.socket() as s:
            s.settimeout(1)
            assert s.connect_ex(("127.0.0.1", srv.port)) != 0
    finally:
        srv.stop()


def test_async_context_manager():
    async def run() -> tuple[int, int]:
        async with DemoServer([gkmlpt_site()], warm=False) as srv:
            async with httpx.AsyncClient() as c:
                site = srv.sites[0]
                r = await c.get(srv.url(site.name, f"{G.API}?page=1&sid={G.SID}"))
                return r.status_code, len(srv.requests)

    assert asyncio.run(run()) == (200, 1)


def test_sites_build_without_the_shared_corpus(monkeypatch, tmp_path):
    monkeypatch.setenv("XXGK_SHARED", str(tmp_path / "missing"))
    monkeypatch.setattr(demo_content, "_SEEDS", None)
    sites = default_sites()
    assert all(r.source == "synthetic" for s in sites for r in s.reports)
    assert {r.agency for r in sites[1].reports} >= {"宁波市镇海区人力资源和社会保障局", "宁波市镇海区机关事务管理局"}
    r = sites[3].report(2021, "嘉善县人力资源和社会保障局")
    got = check_document(read_bytes(sites[3].pages[r.document].data(), r.document))
    assert got.agency == r.agency and got.year == 2021
    monkeypatch.setattr(demo_content, "_SEEDS", None)  # forget the fallback for the tests that follow
