"""Guangdong's 政府信息公开目录平台 (gkmlpt).

- The catalogue page `/gkmlpt/index#<columnId>` sets `window._CONFIG = { SID: '755031', TREE: [...], … }`.
- Lists are JSON: `/gkmlpt/api/all/<columnId>?page=<n>&sid=<SID>` (pages from 1, 100 articles per
  page) → `{"articles": [{"id", "title", "url", "post_url", "publisher", "display_publish_time":
  <epoch s>, "created_at": "YYYY-MM-DD HH:MM:SS", "date": <epoch s of 成文日期>, …}], "total": N,
  "classify": {"post_count": N}}`.
- Article pages (`/gkmlpt/content/0/508/post_508890.html`) embed the same record as
  `DETAIL: {...}` inside `window._CONFIG`, followed by `TREE:`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from scraper.platforms.common import ListEntry, absolute_url, clean_title, find_datetime

__all__ = [
    "GkmlptQuery",
    "is_gkmlpt",
    "query_from",
    "api_url",
    "parse_api",
    "detail_json",
    "detail_published",
    "epoch_to_china",
]

_CHINA = dt.timezone(dt.timedelta(hours=8))
_SID_PAGE = re.compile(r"""\bSID\s*[:=]\s*['"]?(\d+)""")
_API_PATH = re.compile(r"/gkmlpt/api/all/(\d+)")
_TAGS = re.compile(r"<[^>]+>")
_DETAIL = re.compile(r"""["']?DETAIL["']?\s*:\s*\{""")
_DECODER = json.JSONDecoder()


@dataclass(frozen=True, slots=True)
class GkmlptQuery:
    root: str  # "http://host/…/gkmlpt" (everything before /api/)
    column: str
    sid: str


def is_gkmlpt(url: str, text: str = "") -> bool:
    return "/gkmlpt/" in url or ("window._CONFIG" in text and _SID_PAGE.search(text) is not None)


def query_from(url: str, text: str = "") -> GkmlptQuery | None:
    """Column and site id from an API URL, or from a catalogue page URL (`#<columnId>`) and the
    page's `SID`. None when the site id cannot be found."""
    parts = urlsplit(url)
    prefix, sep, _ = parts.path.partition("/gkmlpt/")
    root = f"{parts.scheme}://{parts.netloc}{prefix}/gkmlpt" if sep else f"{parts.scheme}://{parts.netloc}/gkmlpt"
    query = parse_qs(parts.query)
    sid = (query.get("sid") or [None])[0]
    if sid is None and text:
        m = _SID_PAGE.search(text)
        sid = m.group(1) if m else None
    if not sid:
        return None
    m = _API_PATH.search(parts.path)
    if m:
        column = m.group(1)
    elif parts.fragment.strip("/").isdigit():
        column = parts.fragment.strip("/")
    else:
        column = (query.get("columnId") or query.get("column") or ["0"])[0]
    return GkmlptQuery(root=root, column=column, sid=sid)


def api_url(q: GkmlptQuery, page: int) -> str:
    return f"{q.root}/api/all/{q.column}?page={page}&sid={q.sid}"


def epoch_to_china(value: object) -> dt.datetime | None:
    """Epoch seconds (or milliseconds) → naive Beijing time."""
    try:
        ts = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if ts <= 0:
        return None
    if ts > 1e11:  # milliseconds
        ts /= 1000
    try:
        return dt.datetime.fromtimestamp(ts, _CHINA).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return None


def _published(record: dict) -> dt.datetime | None:
    """Publication time of a gkmlpt record. `date` is the 成文日期 and is not used."""
    for key in ("display_publish_time", "publish_time", "first_publish_time", "visible_publish_time"):
        value = record.get(key)
        if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
            got = epoch_to_china(value)
        elif isinstance(value, str):
            got = find_datetime(value)
        else:
            got = None
        if got is not None:
            return got
    for key in ("created_at", "create_time"):
        value = record.get(key)
        got = epoch_to_china(value) if isinstance(value, (int, float)) else find_datetime(str(value or ""))
        if got is not None:
            return got
    return None


def parse_api(text: str, base_url: str) -> tuple[list[ListEntry], int | None]:
    """(entries, total) of one JSON list page; ([], None) if it is not JSON."""
    try:
        data = json.loads(text)
    except ValueError:
        return [], None
    if not isinstance(data, dict):
        return [], None
    entries = []
    for art in data.get("articles") or []:
        if not isinstance(art, dict):
            continue
        url = absolute_url(base_url, art.get("url") or art.get("post_url"))
        title = clean_title(_TAGS.sub("", str(art.get("title") or "")))
        if not url or not title:
            continue
        published = _published(art)
        entries.append(ListEntry(title=title, url=url, date=published.date() if published else None))
    total = data.get("total")
    if not isinstance(total, int):
        classify = data.get("classify")
        total = classify.get("post_count") if isinstance(classify, dict) else None
    return entries, total if isinstance(total, int) else None


def _balanced_object(text: str, start: int) -> str | None:
    """The JSON/JS object literal starting at text[start] == '{' (strings respected)."""
    depth = 0
    in_str: str | None = None
    escaped = False
    for i in range(start, min(len(text), start + 5_000_000)):
        ch = text[i]
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == in_str:
                in_str = None
        elif ch in "\"'":
            in_str = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
    return None


def detail_json(text: str) -> dict | None:
    """The `DETAIL: {...}` record an article page embeds, or None."""
    m = _DETAIL.search(text)
    if m is None:
        return None
    try:  # the record is JSON written by the platform: decode it in place (C speed)
        data, _ = _DECODER.raw_decode(text, m.end() - 1)
    except ValueError:
        obj = _balanced_object(text, m.end() - 1)  # JS-ish object: cut it out, then try again
        if obj is None:
            return None
        try:
            data = json.loads(obj)
        except ValueError:
            return None
    return data if isinstance(data, dict) else None


def detail_published(detail: dict) -> dt.datetime | None:
    return _published(detail)
