"""A Guangdong gkmlpt site (政府信息公开目录平台): the catalogue page `/gkmlpt/index` (the
column is chosen by the URL fragment, `#2911`; the page carries `SID: '…'` and the column
TREE), the JSON list `/gkmlpt/api/all/<column>?page=N&sid=<sid>` (five articles a page;
times in epoch seconds, as the real API), and articles at
`/gkmlpt/content/0/508/post_508890.html` that embed `DETAIL: {...}` and print the
metadata box (索引号, 发布机构, 成文日期, 发布日期) and `发布日期:2022-01-26 浏览次数:-`.
"""

from __future__ import annotations

import datetime as dt
import json
import math

from xxgk.render import ReportSpec, synthetic_spec

from ._base import Attachment, Builder, Item
from .content import cms_fragment, esc, notice_paragraphs
from .model import CST, Page, Site

SITE_NAME = "阳江市阳东区人民政府"
AGENCY = "阳江市阳东区人民政府"
PUBLISHER = "阳江市阳东区人民政府办公室"
SID = "662115"
COLUMN_ID = 2911
COLUMN_NAME = "政府信息公开年报"
INDEX = "/gkmlpt/index"
API = f"/gkmlpt/api/all/{COLUMN_ID}"
PAGE_SIZE = 5
IDENTIFIER = "11441704007280420Y"

_TREE = [
    {"id": 2906, "name": "机构职能", "parent": 0},
    {"id": 2907, "name": "政策文件", "parent": 0},
    {"id": 2909, "name": "规划计划", "parent": 0},
    {"id": 2910, "name": "财政资金", "parent": 0},
    {"id": COLUMN_ID, "name": COLUMN_NAME, "parent": 0},
    {"id": 2912, "name": "政府信息公开指南", "parent": 0},
]


def epoch(when: dt.datetime) -> int:
    """Epoch seconds of a CST wall-clock time, as gkmlpt stores times."""
    return int(when.replace(tzinfo=CST).timestamp())


def post_url(post_id: int) -> str:
    return f"/gkmlpt/content/{post_id // 1_000_000}/{post_id // 1000}/post_{post_id}.html"


def _post_id(url: str) -> int:
    return int(url.rsplit("_", 1)[-1].split(".")[0])


class GkmlptBuilder(Builder):
    platform = "gkmlpt"

    def new_url(self, site: Site, published: dt.datetime) -> str:
        return post_url(self.next_id(531000, 17))

    def _meta(self, item: Item) -> dict:
        written: dt.date = item.opts.get("written", item.published.date() - dt.timedelta(days=7))
        post_id = _post_id(item.url)
        return {
            "id": post_id,
            "title": item.title,
            "publisher": PUBLISHER,
            "identifier": f"{IDENTIFIER}/{item.published.year}-{post_id % 100:05d}",
            "document_number": "",
            "date": epoch(dt.datetime.combine(written, dt.time(0, 0))),
            "created_at": epoch(item.published - dt.timedelta(hours=1)),
            "first_publish_time": epoch(item.published),
            "publish_time": epoch(item.last_modified),
            "display_publish_time": epoch(item.published),
            "classify_main_name": COLUMN_NAME,
            "classify_theme_name": "综合政务\\政务公开",
        }

    # ---- lists ----

    def list_pages(self, site: Site) -> dict[str, Page]:
        tree = json.dumps(_TREE, ensure_ascii=False)
        nav = "".join(f'<li><a href="{INDEX}#{c["id"]}">{esc(c["name"])}</a></li>' for c in _TREE)
        html = f"""<!DOCTYPE html>
<html>
<head>
<meta charset="UTF-8">
<title>政府信息公开目录 - {SITE_NAME}</title>
<link rel="stylesheet" href="/gkmlpt/static/css/app.css">
<script>
window._CONFIG = {{
    SID: '{SID}',
    SITE_NAME: '{SITE_NAME}',
    TREE: {tree}
}};
</script>
</head>
<body>
<div id="app">
<div class="gkml-header"><h1>{SITE_NAME}</h1><h2>政府信息公开目录</h2></div>
<div class="gkml-tree"><ul>{nav}</ul></div>
<div class="gkml-list"><noscript>请开启浏览器的JavaScript功能以浏览信息公开目录。</noscript></div>
</div>
<script src="/gkmlpt/static/js/app.js"></script>
</body>
</html>
"""
        newest = max(e.date for e in site.entries)
        return {INDEX: Page(html.encode("utf-8"), charset="utf-8",
                            last_modified=dt.datetime.combine(newest, dt.time(18, 0)))}

    def api(self, site: Site):
        def answer(method: str, query: dict[str, str], form: dict[str, str], base: str) -> Page | None:
            rows = [e for e in self.ordered(site) if e.href in self.items] if query.get("sid") == SID else []
            try:
                page = max(int(query.get("page") or 1), 1)
            except ValueError:
                page = 1
            articles = []
            for entry in rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]:
                item = self.items[entry.href]
                meta = self._meta(item)
                meta["url"] = f"{base}{item.url}"
                meta["post_url"] = meta["url"]
                meta["attachments"] = [
                    {"name": a.name, "url": f"{base}{a.path}", "type": a.fmt} for a in item.attachments
                ]
                articles.append(meta)
            body = {
                "articles": articles,
                "classify": {"id": COLUMN_ID, "name": COLUMN_NAME},
                "total": len(rows),
                "page": page,
                "page_size": PAGE_SIZE,
                "page_count": math.ceil(len(rows) / PAGE_SIZE),
            }
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            newest = max(e.date for e in site.entries)
            return Page(data, content_type="application/json", charset="utf-8",
                        last_modified=dt.datetime.combine(newest, dt.time(18, 0)))

        return answer

    # ---- articles ----

    def article_bytes(self, site: Site, item: Item) -> bytes:
        meta = self._meta(item)
        written = dt.datetime.fromtimestamp(meta["date"], CST).date()
        if item.kind == "notice":
            content = notice_paragraphs(item.title, PUBLISHER, item.published.date())
        elif item.kind == "attachment":
            content = "".join(
                f'<p><a href="{esc(a.path)}" target="_blank">{esc(a.name)}</a></p>' for a in item.attachments
            )
        else:
            assert item.spec is not None
            content = cms_fragment(item.spec)
        detail = {**meta, "content": content,
                  "attachments": [{"name": a.name, "url": a.path} for a in item.attachments]}  # fmt: skip
        detail_json = json.dumps(detail, ensure_ascii=False).replace("</", "<\\/")
        tree = json.dumps(_TREE, ensure_ascii=False)
        html = f"""<!DOCTYPE html>
<html>
<head>
<meta charset="UTF-8">
<meta name="ArticleTitle" content="{esc(item.title)}">
<meta name="PubDate" content="{item.published:%Y-%m-%d %H:%M}">
<meta name="ContentSource" content="{PUBLISHER}">
<title>{esc(item.title)}</title>
<link rel="stylesheet" href="/gkmlpt/static/css/app.css">
<script>
window._CONFIG = {{
    SID: '{SID}',
    DETAIL: {detail_json},
    TREE: {tree}
}};
</script>
</head>
<body>
<div class="content-container">
<div class="introduce">
<table>
<tr><td><label>索引号：</label><span>{esc(meta["identifier"])}</span></td><td><label>分类：</label><span>综合政务\\政务公开</span></td></tr>
<tr><td><label>发布机构：</label><span>{PUBLISHER}</span></td><td><label>成文日期：</label><span>{written:%Y-%m-%d}</span></td></tr>
<tr><td colspan="2"><label>名称：</label><span>{esc(item.title)}</span></td></tr>
<tr><td><label>文号：</label><span></span></td><td><label>发布日期：</label><span>{item.published:%Y-%m-%d}</span></td></tr>
<tr><td colspan="2"><label>主题词：</label><span></span></td></tr>
</table>
</div>
<div class="article-title"><h1>{esc(item.title)}</h1></div>
<div class="date-row"><span class="date">发布日期:{item.published:%Y-%m-%d}</span> <span>浏览次数:-</span></div>
<div class="article-content">
{content}
</div>
</div>
</body>
</html>
"""
        return html.encode("utf-8")


_NOTICES = (
    ("阳江市阳东区人民政府信息公开指南", dt.datetime(2023, 3, 1, 10, 0)),
    ("阳江市阳东区2023年政务公开工作要点", dt.datetime(2023, 5, 8, 16, 20)),
    ("阳江市阳东区人民政府办公室关于印发政府信息公开申请办理规范的通知", dt.datetime(2022, 7, 14, 11, 5)),
    ("阳江市阳东区2022年政务公开工作要点", dt.datetime(2022, 4, 22, 9, 40)),
    ("阳江市阳东区人民政府关于调整政务公开工作领导小组的通知", dt.datetime(2021, 6, 17, 15, 0)),
    ("阳江市阳东区2021年政务公开工作要点", dt.datetime(2021, 4, 9, 10, 30)),
    ("阳江市阳东区2020年政务公开工作要点", dt.datetime(2020, 5, 12, 14, 10)),
)

# (year, template, title, published, kind) – titles vary as they do on real sites.
_REPORTS = (
    (2019, "2019", "阳江市阳东区人民政府2019年政府信息公开工作年度报告", dt.datetime(2020, 1, 20, 11, 0), "inline"),
    (2020, "2019", "阳江市阳东区人民政府2020年政府信息公开年度报告", dt.datetime(2021, 1, 29, 17, 30), "inline"),
    (2021, "2021", "阳江市阳东区人民政府2021年度政府信息公开工作报告", dt.datetime(2022, 1, 26, 7, 45), "inline"),
    (2022, "2021", "阳江市阳东区人民政府2022年政府信息公开工作年度报告", dt.datetime(2023, 1, 18, 10, 20), "inline"),
    (2023, "2021", "阳江市阳东区人民政府2023年政府信息公开工作年度报告", dt.datetime(2024, 1, 22, 9, 0), "attachment"),
)


def gkmlpt_site(name: str = "yangdong-gkmlpt") -> Site:
    """阳江市阳东区人民政府 on gkmlpt: five years of its own reports (titles vary: without
    「工作」, 「年度政府信息公开工作报告」; 2023 as a .docx attachment), seven notices."""
    site = Site(
        name=name, platform="gkmlpt", agency=AGENCY, region_code="441704", region_name="广东省阳江市阳东区",
        level="government", list_paths=[f"{INDEX}#{COLUMN_ID}"], site_name=SITE_NAME,
    )  # fmt: skip
    builder = GkmlptBuilder()
    site.builder = builder
    for n, (title, when) in enumerate(_NOTICES):
        builder.publish(site, Item(title=title, url=post_url(505100 + n * 977), published=when, kind="notice"))
    series: dict[int, ReportSpec] = {}  # by year: each report follows the one before
    for n, (year, template, title, published, kind) in enumerate(_REPORTS):
        spec: ReportSpec = synthetic_spec(4417 + year, template=template, year=year, agency=AGENCY,
                                           previous=series.get(year - 1))
        series[year] = spec
        spec.title = title
        post_id = 503000 + n * 1583 + (year - 2019) * 2311
        attachments = []
        notes = []
        if kind == "attachment":
            attachments.append(Attachment(f"/attachment/0/{post_id // 1000}/{post_id}/{post_id + 13}.docx", "docx",
                                          f"{title}.docx"))
            notes.append("attachment only (.docx)")
        if published.hour < 8:
            notes.append("published before 08:00 CST: the UTC date of the epoch time is the day before")
        item = Item(title=title, url=post_url(post_id), published=published, kind=kind,  # type: ignore[arg-type]
                    fmt="docx" if kind == "attachment" else "cms_html", spec=spec, attachments=attachments)
        builder.publish(site, item, truth={"notes": "; ".join(notes)})
    site.fault_urls["before_8am_cst"] = next(r.url for r in site.reports if r.published.hour < 8)
    site.dynamic[API] = builder.api(site)
    site.pages["/robots.txt"] = Page(b"User-agent: *\nAllow: /\n", content_type="text/plain",
                                     last_modified=dt.datetime(2020, 3, 1))
    builder.rebuild_lists(site)
    return site
