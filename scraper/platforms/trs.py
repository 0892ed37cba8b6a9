"""TRS WCM list pages: a static `index.htm` whose later pages are `index_1.htm`, `index_2.htm` …

The page count is written into a script call the TRS template emits:

    createPageHTML(20, 0, "index", "htm");                     // pages, current, prefix, suffix
    createPageHTML('pageBar', 5, 0, 'index', 'html', 68);      // newer: element id first, records last

Page 0 is `<prefix>.<suffix>`, page n is `<prefix>_<n>.<suffix>`, in the list page's directory.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

__all__ = ["is_trs", "page_urls", "page_count"]

_CALL = re.compile(r"createPageHTML\s*\(([^)]{0,300})\)")
_ARG = re.compile(r"""\s*(?:"([^"]*)"|'([^']*)'|(\d+)|([A-Za-z_$][\w$.]*))\s*""")
_SUFFIXES = {"htm", "html", "shtml", "jhtml", "jsp", "php", "asp", "aspx"}
_MARKERS = re.compile(r"createPageHTML\s*\(|/t\d{8}_\d+\.s?html?|TRS_Editor|trsapi", re.IGNORECASE)


def is_trs(text: str) -> bool:
    return _MARKERS.search(text) is not None


def _args(call: str) -> list[str | int]:
    out: list[str | int] = []
    for part in call.split(","):
        m = _ARG.fullmatch(part)
        if not m:
            return []
        if m.group(3) is not None:
            out.append(int(m.group(3)))
        else:
            out.append(m.group(1) if m.group(1) is not None else m.group(2) or m.group(4) or "")
    return out


def page_count(text: str) -> tuple[int, int, str, str] | None:
    """(pages, current page, prefix, suffix) from the createPageHTML call, or None."""
    for m in _CALL.finditer(text):
        args = _args(m.group(1))
        ints = [a for a in args if isinstance(a, int)]
        strings = [a for a in args if isinstance(a, str)]
        suffix_at = next((i for i, s in enumerate(strings) if s.lower().lstrip(".") in _SUFFIXES), None)
        if len(ints) < 2 or suffix_at is None or suffix_at == 0:
            continue
        prefix = strings[suffix_at - 1] or "index"
        suffix = strings[suffix_at].lstrip(".")
        return ints[0], ints[1], prefix, suffix
    return None


def page_urls(text: str, page_url: str) -> list[str]:
    """The URLs of the list's other pages (1 … pages-1, page 0 included only if this page is
    not it), resolved against this page's URL."""
    found = page_count(text)
    if found is None:
        return []
    pages, current, prefix, suffix = found
    pages = min(max(pages, 0), 10_000)
    urls = []
    for n in range(pages):
        if n == current:
            continue
        name = f"{prefix}.{suffix}" if n == 0 else f"{prefix}_{n}.{suffix}"
        urls.append(urljoin(page_url, name))
    return urls
