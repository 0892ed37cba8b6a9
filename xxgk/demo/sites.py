"""The demo's disclosure sites: pure builders returning `Site`s with their ground truth.

| builder | platform | site | reports |
|---|---|---|---|
| `trs_site()` | TRS (福建) | 连江县人民政府 | 2019–2023, GBK pages, Word HTML, URL date ≠ 时间 |
| `jcms_site()` | Hanweb jcms (浙江) | 宁波市镇海区人民政府 (portal) | 2019–2023 of the district and departments; .docx, .pdf, .doc attachments; dataproxy XML; annual-report module |
| `gkmlpt_site()` | gkmlpt (广东) | 阳江市阳东区人民政府 | 2019–2023, varied titles, JSON API, .docx attachment |
| `plain_site()` | plain | 嘉善县人民政府 (portal) | 2019–2023 + the county 人社局 2021; every fault |
| `trs_search_site()` | TRS "动静结合" (福建 集约化) | 连江县发展和改革局 | 2019–2023; static first page, the rest (2019–2022 reports) only through `/fjdzapp/search` |

`default_sites()` returns all five; `many_sites(n)` the benchmark's small sites. Reports come
from the shared corpus's seeds when it is there (`XXGK_SHARED` or ../shared) and from
`xxgk.render.synthetic_spec`; nothing outside the package is needed at run time. Pages render
on first request (a .docx takes about a second, a .doc several: `DemoServer` renders those in
the background when it starts).
"""

from __future__ import annotations

from .gkmlpt import gkmlpt_site
from .jcms import jcms_site
from .model import (
    CST,
    Fault,
    FailTimes,
    Huge,
    ListEntry,
    Page,
    RateLimited,
    Redirect,
    ReportTruth,
    Site,
    Slow,
)
from .plain import many_sites, plain_site
from .trs import trs_search_site, trs_site


def default_sites() -> list[Site]:
    """The fixture sites (TRS, jcms, gkmlpt, plain, TRS "动静结合"), freshly built."""
    return [trs_site(), jcms_site(), gkmlpt_site(), plain_site(), trs_search_site()]


__all__ = [
    "CST",
    "FailTimes",
    "Fault",
    "Huge",
    "ListEntry",
    "Page",
    "RateLimited",
    "Redirect",
    "ReportTruth",
    "Site",
    "Slow",
    "default_sites",
    "gkmlpt_site",
    "jcms_site",
    "many_sites",
    "plain_site",
    "trs_search_site",
    "trs_site",
]
