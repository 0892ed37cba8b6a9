"""Hostile XML from a jcms `dataproxy.jsp` (issue 7): external entities (file:///etc/passwd, an
http:// URL on loopback) and entity expansion ("billion laughs") are neither resolved, fetched nor
expanded, and reading them takes bounded memory and time.

No XML parser reads these answers: scraper.platforms.jcms takes the `<record>`s and
`<totalrecord>` with regular expressions and hands the records' CDATA fragments to lxml's HTML
parser (no network, no DTD processing). These tests pin that down, directly and through a crawl of
a real jcms-like site on 127.0.0.1 whose entities point at a second server that counts every hit.
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc

from aiohttp import web
from sqlmodel import select

from db.engine import session
from db.models import HttpState
from scraper.crawl import Crawler
from scraper.listing import parse_list_page
from scraper.platforms import jcms
from scraper.platforms.common import parse_html, text_of
from xxgk.config import CrawlerConfig, SiteConfig

LAUGHS = "".join(
    f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, 10)
)  # &lol9; = 10^9 "lol"


def hostile_answer(canary: str, *, base: str = "") -> str:
    """A dataproxy answer with every entity trick, records included."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE datastore [
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
  <!ENTITY remote SYSTEM "{canary}/remote-entity">
  <!ENTITY % param SYSTEM "{canary}/parameter-entity"> %param;
  <!ENTITY lol "lol">{LAUGHS}
]>
<datastore><totalrecord>2</totalrecord><recordset>
<record><![CDATA[<li><a href="{base}/art/2023/1/5/art_114_2.html">某局2021年政府信息公开工作年度报告&xxe;&remote;&lol9;</a><span>2022-01-20</span></li>]]></record>
<record>&lt;li&gt;&lt;a href="{base}/art/2023/1/6/art_114_3.html"&gt;某局2020年政府信息公开工作年度报告&amp;xxe;&xxe;&remote;&lol9;&lt;/a&gt;&lt;/li&gt;</record>
<record><![CDATA[<!DOCTYPE x [<!ENTITY inner SYSTEM "file:///etc/passwd"><!ENTITY big "&lol9;">]><li><a href="{base}/art/2023/1/7/art_114_4.html">某局2019年政府信息公开工作年度报告&inner;&big;</a></li>]]></record>
</recordset></datastore>"""


def test_entities_are_not_expanded_nor_fetched_and_memory_stays_bounded():
    text = hostile_answer("http://127.0.0.1:9")  # port 9 (discard): nothing may even try
    tracemalloc.start()
    started = time.monotonic()
    entries, total = jcms.parse_dataproxy(text, "http://site.example/col/col114/index.html")
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert total == 2 and [e.url.rsplit("/", 1)[1] for e in entries] == [
        "art_114_2.html", "art_114_3.html", "art_114_4.html"]
    for entry in entries:
        assert "root:" not in entry.title and "lollol" not in entry.title  # not the file, not an expansion
        assert "&xxe;" in entry.title or "&inner;" in entry.title  # the references stay as written text
    assert peak < 5 * 1024 * 1024 and elapsed < 10  # 10^9 "lol" would be gigabytes


def test_html_parsing_of_pages_and_fragments_resolves_no_entity():
    page = ('<!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY lol "lol">' + LAUGHS + ']>'
            '<html><body><p id="p">&xxe;&lol9;</p><a href="/art/1.html">某局2021年政府信息公开工作年度报告&xxe;</a>'
            '</body></html>')
    root = parse_html(page)
    text = text_of(root)
    assert "root:" not in text and "lollol" not in text
    entries = parse_list_page(page, "http://site.example/list.html")
    assert entries and all("root:" not in e.title for e in entries)


async def _serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


def test_a_crawl_of_a_hostile_jcms_site_fetches_nothing_it_names(engine):
    canary_hits: list[str] = []
    site_hits: list[str] = []

    async def canary(request: web.Request) -> web.Response:
        canary_hits.append(request.path_qs)
        return web.Response(text="<!ENTITY leaked 'LEAKED'>root:x:0:0:root:/root:/bin/bash")

    async def main():
        canary_app = web.Application()
        canary_app.router.add_route("*", "/{tail:.*}", canary)
        canary_runner, canary_port = await _serve(canary_app)
        canary_url = f"http://127.0.0.1:{canary_port}"

        async def column(request: web.Request) -> web.Response:
            site_hits.append(request.path)
            body = f"""<html><head><meta name="ColumnName" content="政府信息公开年报"></head><body>
<div id="1737"><script type="text/xml">{hostile_answer(canary_url).split("?>", 1)[1]}</script></div>
<script>var param_1737 = {{col:1, appid:1, webid:1, path:'/', columnid:114, sourceContentType:1,
unitid:'1737', webname:'某局', permissiontype:0}};
$('#1737').jpage({{dataproxy:'/module/web/jpage/dataproxy.jsp', perPage:15, outPage:3, totalRecord:50}});</script>
</body></html>"""
            return web.Response(text=body, content_type="text/html")

        async def dataproxy(request: web.Request) -> web.Response:
            site_hits.append(request.path_qs)
            return web.Response(text=hostile_answer(canary_url), content_type="text/xml")

        async def article(request: web.Request) -> web.Response:
            site_hits.append(request.path)
            return web.Response(text="<html><body><p>正文</p></body></html>", content_type="text/html")

        app = web.Application()
        app.router.add_get("/col/col114/index.html", column)
        app.router.add_post("/module/web/jpage/dataproxy.jsp", dataproxy)
        app.router.add_get("/art/{tail:.*}", article)
        runner, port = await _serve(app)
        try:
            cfg = CrawlerConfig(per_host_delay_s=0, timeout_s=5, retries=0, respect_robots=False, check_workers=0,
                                allow_private_addresses=True)  # both servers on loopback: the setting cannot protect
            site = SiteConfig(name="jcms-hostile", agency="某局",
                              list_urls=[f"http://127.0.0.1:{port}/col/col114/index.html"])
            return (await Crawler(cfg, engine).run([site]))[0]
        finally:
            await runner.cleanup()
            await canary_runner.cleanup()

    result = asyncio.run(main())
    assert canary_hits == []  # no entity was fetched, whatever the parser
    assert any(h.startswith("/module/web/jpage/dataproxy.jsp") for h in site_hits)  # the hostile answer was read
    assert {"/art/2023/1/5/art_114_2.html", "/art/2023/1/6/art_114_3.html"} <= set(site_hits)
    assert result.status in ("ok", "partial")
    with session(engine) as s:
        titles = [h.title or "" for h in s.exec(select(HttpState)).all()]
    assert titles and not [t for t in titles if "root:" in t or "LEAKED" in t or "lollol" in t]
