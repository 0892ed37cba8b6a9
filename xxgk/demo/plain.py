"""A plain site (a small CMS with no platform API): a list page with 「首页 上一页 下一页 尾页」
links to `index.html?page=N`, article pages without meta tags whose date line varies
(`发布时间：2024-01-23 09:15`, `发布日期：2023/01/19 11:34:01`, `发布时间：2022年1月28日` …) and
every hazard a crawler must survive:

| fault name | what |
|---|---|
| `fail_500x2` | a report page answering 500 twice, then 200 |
| `rate_limited` | a report page answering 429 with `Retry-After: 1` once, then 200 |
| `slow` | a report page answering after the server's `slow_delay` (2 s by default) |
| `redirect_loop` | `/loop/a` → `/loop/b` → `/loop/a` … (listed as a 2017 report) |
| `huge` | a ~60 MB attachment, generated while it is sent (linked from the 2023 report) |
| `not_found` | a listed 2016 report whose link is dead (404) |
| `robots_forbidden` | a real 2018 report under `/private/`, which robots.txt disallows |
| `offsite` | a spam mirror's copy at http://www.866tx.com/… (never to be fetched) |

`many_sites` builds the benchmark's small sites with the same builder.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import random

from xxgk.render import AGENCIES, ReportSpec, synthetic_spec

from ._base import Attachment, Builder, Item
from .content import cms_fragment, esc, load_seeds, notice_paragraphs, with_published
from .model import FailTimes, Huge, ListEntry, Page, RateLimited, Redirect, Site, Slow

LIST = "/xxgk/ndbg/index.html"
PER_PAGE = 6
OFFSITE = "http://www.866tx.com/art/2023/1/17/art_1229000123_4827391.html"


def _header(site_name: str) -> str:
    return (
        f'<div class="header"><div class="site-name"><a href="/">{esc(site_name)}</a></div>'
        '<ul class="menu"><li><a href="/">首页</a></li><li><a href="/xxgk/">政府信息公开</a></li>'
        '<li><a href="/hdjl/">互动交流</a></li></ul></div>'
    )


def _footer(site_name: str) -> str:
    return f'<div class="footer"><p>主办单位：{esc(site_name)}办公室</p><p>版权所有 © {esc(site_name)}</p></div>'


class PlainBuilder(Builder):
    platform = "plain"

    def __init__(self, site_name: str, *, per_page: int = PER_PAGE, list_path: str = LIST) -> None:
        super().__init__()
        self.site_name = site_name
        self.per_page = per_page
        self.list_path = list_path

    def new_url(self, site: Site, published: dt.datetime) -> str:
        return f"/xxgk/ndbg/content/post_{self.next_id(5990000, 131)}.html"

    def list_pages(self, site: Site) -> dict[str, Page]:
        rows = self.ordered(site)
        count = max(1, math.ceil(len(rows) / self.per_page))
        name = self.list_path.rsplit("/", 1)[-1]
        pages: dict[str, Page] = {}
        newest = max((e.date for e in rows), default=dt.date(2020, 1, 1))
        for n in range(1, count + 1):
            chunk = rows[(n - 1) * self.per_page : n * self.per_page]
            items = "\n".join(
                f'<li><span class="date">{e.date:%Y-%m-%d}</span><a href="{esc(e.href)}" target="_blank" '
                f'title="{esc(e.title)}">{esc(e.title)}</a></li>'
                for e in chunk
            )
            pager = ""
            if count > 1:
                prev = f"{name}?page={n - 1}" if n > 1 else name
                pager = (
                    f'<div class="pagination"><a href="{name}">首页</a> '
                    + (f'<a href="{prev}">上一页</a> ' if n > 1 else "<span>上一页</span> ")
                    + f'<span class="current">{n}</span> '
                    + (f'<a href="{name}?page={n + 1}">下一页</a> ' if n < count else "<span>下一页</span> ")
                    + f'<a href="{name}?page={count}">尾页</a> <span>共{count}页 {len(rows)}条</span></div>'
                )
            html = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>政府信息公开年度报告 - {esc(self.site_name)}</title>
</head>
<body>
{_header(self.site_name)}
<div class="crumb">您的位置：<a href="/">首页</a> &gt; <a href="/xxgk/">政府信息公开</a> &gt; 政府信息公开年度报告</div>
<div class="news-list">
<ul>
{items}
</ul>
{pager}
</div>
{_footer(self.site_name)}
</body>
</html>
"""
            page = Page(html.encode("utf-8"), charset="utf-8",
                        last_modified=dt.datetime.combine(newest, dt.time(18, 0)))
            pages[f"{self.list_path}?page={n}"] = page
            if n == 1:
                pages[self.list_path] = page
        return pages

    def article_bytes(self, site: Site, item: Item) -> bytes:
        date_line = item.opts.get("date_line") or f"发布日期：{item.published:%Y-%m-%d}"
        if item.kind == "notice":
            content = notice_paragraphs(item.title, self.site_name, item.published.date())
        else:
            assert item.spec is not None
            content = cms_fragment(item.spec)
        links = "".join(
            f'<li><a href="{esc(a.path)}">{esc(a.name)}</a></li>' for a in item.opts.get("links", ())
        )
        files = f'<div class="attachments"><p>附件：</p><ul>{links}</ul></div>' if links else ""
        html = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{esc(item.title)} - {esc(self.site_name)}</title>
</head>
<body>
{_header(self.site_name)}
<div class="article">
<h1 class="article-title">{esc(item.title)}</h1>
<div class="article-meta">{esc(date_line)}</div>
<div class="article-content">
{content}
</div>
{files}
</div>
{_footer(self.site_name)}
</body>
</html>
"""
        return html.encode("utf-8")


AGENCY_GOV = "嘉善县人民政府"
SITE_NAME = "嘉善县人民政府"


@functools.cache
def _gov_spec(year: int, template: str) -> ReportSpec:
    """The county government's report on `year`, following its report of the year before (from
    2018), so that carried-over applications match across the series."""
    previous = _gov_spec(year - 1, "2019" if year - 1 < 2021 else "2021") if year > 2018 else None
    return synthetic_spec(330421 + year, template=template, year=year, agency=AGENCY_GOV, previous=previous)


def plain_site(name: str = "jiashan-plain", *, slow_delay: float | None = None) -> Site:
    """嘉善县人民政府 portal as a plain CMS: the county government's reports 2019–2023 (2022 with
    the generic title 「政府信息公开工作年度报告」), the county 人社局's 2021 report (seed 003
    when the shared corpus is there), notices and every fault (see the module doc).
    `slow_delay` fixes the slow page's delay; None leaves it to the server."""
    site = Site(
        name=name, platform="plain", agency="portal", region_code="330421", region_name="浙江省嘉兴市嘉善县",
        level="government", list_paths=[LIST], site_name=SITE_NAME,
    )  # fmt: skip
    builder = PlainBuilder(SITE_NAME)
    site.builder = builder
    for n, (title, when) in enumerate((
        ("嘉善县人民政府办公室关于印发2024年嘉善县政务公开工作要点的通知", dt.datetime(2024, 4, 2, 10, 0)),
        ("嘉善县政府信息公开指南", dt.datetime(2023, 9, 1, 9, 0)),
        ("嘉善县2023年政务公开工作要点", dt.datetime(2023, 4, 11, 15, 30)),
        ("嘉善县人民政府关于调整县政务公开工作领导小组成员的通知", dt.datetime(2022, 6, 20, 11, 0)),
        ("嘉善县2021年政务公开工作要点", dt.datetime(2021, 4, 15, 16, 0)),
    )):  # fmt: skip
        builder.publish(site, Item(title=title, url=f"/xxgk/ndbg/content/post_{4120331 + n * 7919}.html",
                                   published=when, kind="notice"))

    def report(spec: ReportSpec, published: dt.datetime, post: int, date_line: str, *, title: str | None = None,
               faults: tuple = (), fault_names: tuple[str, ...] = (), links: tuple[Attachment, ...] = (),
               source: str = "synthetic", findings: tuple[str, ...] = (), notes: str = "",
               agency: str | None = None, date_source: str = "page") -> str:
        url = f"/xxgk/ndbg/content/post_{post}.html"
        item = Item(title=title or spec.title or "", url=url, published=published, spec=spec, faults=faults,
                    opts={"date_line": date_line, "links": links})
        builder.publish(site, item, truth={"agency": agency or spec.agency, "faults": fault_names,
                                           "source": source, "findings_required": findings, "notes": notes,
                                           "date_source": date_source})
        return url

    huge = Attachment("/uploads/2024/01/jiashan_2023_nb_scan.pdf", "pdf", "嘉善县人民政府2023年度政府信息公开工作年度报告（扫描件）.pdf")
    report(_gov_spec(2023, "2021"), dt.datetime(2024, 1, 23, 9, 15), 5963127, "发布时间：2024-01-23 09:15",
           links=(huge,), notes="links a ~60 MB scanned PDF (the huge fault)")
    site.pages[huge.path] = Page(b"", content_type="application/pdf", last_modified=dt.datetime(2024, 1, 23, 9, 15),
                                 faults=(Huge(),))
    site.fault_urls["huge"] = huge.path

    generic = _gov_spec(2022, "2021")
    generic.title = "政府信息公开工作年度报告"
    generic.body.insert(0, f"本报告由{AGENCY_GOV}负责编制。")
    report(generic, dt.datetime(2023, 1, 19, 11, 34, 1), 5702291, "发布日期：2023/01/19 11:34:01",
           findings=("garbled_title",), notes="generic title: the agency and year are only in the body")

    seed = load_seeds().get("003")
    if seed is not None and seed.spec.agency == "嘉善县人力资源和社会保障局":
        spec, source, findings = seed.spec, f"seed:{seed.stem}", seed.findings_required
    else:
        spec = synthetic_spec(33042103, template="2021", year=2021, agency="嘉善县人力资源和社会保障局")
        source, findings = "synthetic", ()
    report(spec, dt.datetime(2022, 1, 21, 16, 2), 5401733, "来源：嘉善县人力资源和社会保障局　发布时间：2022-01-21 16:02",
           source=source, findings=findings)

    url = report(_gov_spec(2021, "2021"), dt.datetime(2022, 1, 28, 10, 0), 5412877, "发布时间：2022年1月28日",
                 faults=(Slow(slow_delay),), fault_names=("slow",), notes="slow page; Chinese date line")
    site.fault_urls["slow"] = url
    url = report(_gov_spec(2020, "2019"), dt.datetime(2021, 1, 25, 14, 30), 5100265, "来源：县政府办　发布时间：",
                 faults=(RateLimited(times=1, retry_after=1),), fault_names=("rate_limited",), date_source="list",
                 notes="empty 发布时间: on the page; the list row's date is the publication date")
    site.fault_urls["rate_limited"] = url
    url = report(_gov_spec(2019, "2019"), dt.datetime(2020, 1, 17, 10, 20), 4801517, "发布日期：2020-01-17 10:20",
                 faults=(FailTimes(500, 2),), fault_names=("fail_500x2",))
    site.fault_urls["fail_500x2"] = url

    # Links a crawler must not follow, or must survive. The forbidden one is a real report.
    forbidden = "/private/nb2018.html"
    hidden_at = dt.datetime(2019, 1, 30, 9, 0)
    hidden = Item(title="嘉善县人民政府2018年度政府信息公开工作年度报告", url=forbidden, published=hidden_at,
                  spec=with_published(_gov_spec(2018, "2019"), hidden_at), opts={"date_line": "发布日期：2019-01-30"})
    builder.items[forbidden] = hidden
    site.pages.update(builder.pages_for(site, hidden))
    hazards = (
        ("robots_forbidden", "嘉善县人民政府2018年度政府信息公开工作年度报告", forbidden, dt.date(2019, 1, 30), "forbidden"),
        ("redirect_loop", "嘉善县人民政府2017年度政府信息公开工作年度报告", "/loop/a", dt.date(2018, 1, 26), "loop"),
        ("not_found", "嘉善县人民政府2016年度政府信息公开工作年度报告", "/xxgk/ndbg/content/post_3901121.html",
         dt.date(2017, 1, 20), "broken"),
        ("offsite", "嘉善县人民政府2022年度政府信息公开工作年度报告", OFFSITE, dt.date(2023, 1, 17), "offsite"),
    )  # fmt: skip
    for fault, title, href, day, kind in hazards:
        site.entries.append(ListEntry(title, href, day, kind))  # type: ignore[arg-type]
        site.fault_urls[fault] = href
    site.pages["/loop/a"] = Page(b"", last_modified=dt.datetime(2018, 1, 26), faults=(Redirect("/loop/b"),))
    site.pages["/loop/b"] = Page(b"", last_modified=dt.datetime(2018, 1, 26), faults=(Redirect("/loop/a"),))
    site.pages["/robots.txt"] = Page(b"User-agent: *\nDisallow: /private/\n", content_type="text/plain",
                                     last_modified=dt.datetime(2019, 1, 1))
    builder.rebuild_lists(site)
    return site


# ---- the benchmark's many small sites -------------------------------------------------------

_COUNTIES = (
    "杭州市临平区", "杭州市富阳区", "宁波市北仑区", "宁波市鄞州区", "温州市瓯海区", "温州市龙湾区", "嘉兴市南湖区",
    "嘉兴市秀洲区", "湖州市南浔区", "绍兴市上虞区", "金华市金东区", "衢州市衢江区", "舟山市定海区", "台州市椒江区",
    "台州市黄岩区", "丽水市松阳县", "苍南县", "平阳县", "永嘉县", "文成县", "泰顺县", "海盐县", "桐乡市", "长兴县",
    "新昌县", "嵊州市", "诸暨市", "浦江县", "武义县", "磐安县", "常山县", "开化县", "龙游县", "岱山县", "嵊泗县",
    "三门县", "天台县", "仙居县", "缙云县", "遂昌县",
)  # fmt: skip
_DEPARTMENTS = (
    "人民政府", "发展和改革局", "教育局", "科学技术局", "民政局", "司法局", "财政局", "人力资源和社会保障局",
    "自然资源和规划局", "生态环境分局", "住房和城乡建设局", "交通运输局", "水利局", "农业农村局", "商务局",
    "文化和广电旅游体育局", "卫生健康局", "退役军人事务局", "应急管理局", "审计局", "市场监督管理局", "统计局",
    "医疗保障局", "综合行政执法局", "机关事务管理局",
)  # fmt: skip


def many_sites(n: int, *, seed: int = 0) -> list[Site]:
    """`n` small plain sites for the benchmark: each one list page linking one to three
    inline CMS-HTML reports of one agency (distinct agencies up to 1,000 sites), no faults,
    an allow-all robots.txt. Reports render on first request."""
    rng = random.Random(seed)
    combos = [(c, d) for d in _DEPARTMENTS for c in _COUNTIES]
    rng.shuffle(combos)
    sites = []
    for i in range(n):
        county, dept = combos[i % len(combos)]
        agency = county + dept if i < len(combos) else f"{AGENCIES[i % len(AGENCIES)][:-1]}{i}局"
        level = "government" if dept == "人民政府" else "department"
        site = Site(name=f"bench-{i:04d}", platform="plain", agency=agency, region_code=f"9{i:05d}",
                    region_name=county, level=level, list_paths=[LIST], site_name=agency)  # type: ignore[arg-type]
        builder = PlainBuilder(agency, per_page=10)
        site.builder = builder
        years = sorted(rng.sample(range(2019, 2024), rng.randint(1, 3)))
        for k, year in enumerate(years):
            template = "2019" if year <= 2020 else "2021"
            spec = synthetic_spec(seed * 100_000 + i * 10 + k, template=template, year=year, agency=agency)
            published = dt.datetime(year + 1, 1, rng.randint(5, 28), rng.randint(8, 17), rng.randint(0, 59))
            item = Item(title=spec.title or "", url=f"/xxgk/ndbg/content/post_{1000 + k}.html", published=published,
                        spec=spec, opts={"date_line": f"发布日期：{published:%Y-%m-%d %H:%M}"})
            builder.publish(site, item, truth={})
        site.pages["/robots.txt"] = Page(b"User-agent: *\nAllow: /\n", content_type="text/plain",
                                         last_modified=dt.datetime(2020, 1, 1))
        builder.rebuild_lists(site)
        sites.append(site)
    return sites
