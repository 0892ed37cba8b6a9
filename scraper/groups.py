"""Host groups: configured sites that share a host (directly or through another site) belong to
one group, the unit that one worker crawls at a time (db.leases), so that the politeness limits
per host hold across worker processes. Pure: sites in, groups out."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from xxgk.config import SiteConfig


def site_hosts(site: SiteConfig) -> set[str]:
    """The hosts a site's crawl talks to: its list URLs' hosts and its extra official hosts."""
    hosts = {(urlsplit(u).hostname or "").lower() for u in site.list_urls}
    hosts |= {h.lower() for h in site.allowed_hosts}
    return {h for h in hosts if h}


def host_groups(sites: Iterable[SiteConfig]) -> dict[str, list[SiteConfig]]:
    """{group key: its sites, in configuration order}. The key is the group's smallest host name
    (stable while the group's hosts stay the same)."""
    sites = list(sites)
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    own: list[str] = []
    for site in sites:
        hosts = sorted(site_hosts(site)) or [f"site:{site.name}"]
        for h in hosts[1:]:
            union(hosts[0], h)
        own.append(hosts[0])
    groups: dict[str, list[SiteConfig]] = {}
    for site, host in zip(sites, own):
        groups.setdefault(find(host), []).append(site)
    return groups
