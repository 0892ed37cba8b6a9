"""Fixture disclosure sites served on loopback: the crawler's tests and `xxgk demo`.

    from xxgk.demo import DemoServer, default_sites, sites_config

    with DemoServer(default_sites()) as srv:
        config = sites_config(srv)     # [[sites]] entries for the running server
        ...

Five realistic sites (TRS, Hanweb jcms, gkmlpt, plain, a TRS "动静结合" column) with several years of reports, their
ground truth (`Site.reports`: URL, agency, year, publication date, format, data) and the
hazards a crawler must survive (`Site.fault_urls`); `many_sites(n)` for the benchmark.

The sites are on loopback (127.x) addresses, which the crawler refuses by default: a crawl of
them needs `CRAWLER_SETTINGS` (`[crawler] allow_private_addresses = true`), as `xxgk demo` sets.
"""

from __future__ import annotations

from .model import CST, FailTimes, Huge, ListEntry, Page, RateLimited, Redirect, ReportTruth, Site, Slow
from .server import DemoServer, LoggedRequest, check_loopback, loopback_addresses
from .sites import default_sites, gkmlpt_site, jcms_site, many_sites, plain_site, trs_search_site, trs_site


# What a crawl of the demo sites needs in `[crawler]`: they are served on loopback addresses.
CRAWLER_SETTINGS: dict[str, object] = {"allow_private_addresses": True}


def sites_config(srv: DemoServer, sites: list[Site] | None = None) -> list[dict]:
    """The `[[sites]]` config entries (name, agency or "portal", region_code, region_name,
    level, list_urls, and hints for a site that needs them) for the sites of a running server."""
    out = []
    for site in sites if sites is not None else srv.sites:
        base = srv.base_url(site.name)
        entry = {
            "name": site.name,
            "agency": site.agency,
            "region_code": site.region_code,
            "region_name": site.region_name,
            "level": site.level,
            "list_urls": [base + path for path in site.list_paths],
        }  # fmt: skip
        if site.hints:
            entry["hints"] = dict(site.hints)
        out.append(entry)
    return out


__all__ = [
    "CST",
    "DemoServer",
    "FailTimes",
    "Huge",
    "ListEntry",
    "LoggedRequest",
    "Page",
    "RateLimited",
    "Redirect",
    "ReportTruth",
    "Site",
    "Slow",
    "check_loopback",
    "default_sites",
    "gkmlpt_site",
    "jcms_site",
    "loopback_addresses",
    "many_sites",
    "plain_site",
    "sites_config",
    "trs_search_site",
    "trs_site",
]
