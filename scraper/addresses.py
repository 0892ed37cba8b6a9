"""Which network addresses the crawler may connect to (pure; `ipaddress` does the classifying).

A disclosure site is on the public internet. A name that resolves into the internal network
(loopback, RFC 1918, link-local such as the cloud metadata address 169.254.169.254, carrier-grade
NAT, reserved, multicast or unspecified ranges) is refused unless `crawler.allow_private_addresses`
is set: a hostile or hijacked DNS answer must not turn the crawler into a probe of the machine it
runs on. IPv6 addresses that carry an IPv4 address (IPv4-mapped `::ffff:127.0.0.1`, 6to4
`2002:7f00:1::`, Teredo) are judged by that IPv4 address too.
"""

from __future__ import annotations

import ipaddress

__all__ = ["IPAddress", "refusal", "parse_ip"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_ip(text: str) -> IPAddress | None:
    """The address written in canonical notation (an IPv6 zone `%eth0` dropped), else None."""
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def _kind(ip: IPAddress) -> str | None:
    """The Chinese name of a non-public address's range, None for a public address."""
    if ip.is_unspecified:
        return "未指定地址"
    if ip.is_loopback:
        return "本机回环地址"
    if ip.is_link_local:
        return "链路本地地址"
    if ip.is_multicast:
        return "组播地址"
    if ip.is_reserved:
        return "保留地址"
    if ip.is_private:
        return "内网地址"
    if not ip.is_global:
        return "非公网地址"
    return None


def refusal(ip: IPAddress) -> str | None:
    """Why the crawler must not connect to `ip` (Chinese, e.g. "本机回环地址"), None if it may."""
    if isinstance(ip, ipaddress.IPv6Address):  # the IPv4 address inside names the range best
        for inner in (ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())):
            if inner is not None and (inner_kind := _kind(inner)) is not None:
                return inner_kind
    return _kind(ip)
