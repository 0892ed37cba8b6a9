"""Pages that answer 200 but are not the content asked for (pure).

Government sites often answer a missing page with a 200 and their "页面不存在" template, and
the anti-bot firewalls common on them (知道创宇/加速乐 `__jsl_clearance`, 网站卫士 WZWS, 瑞数 `$_ts`,
云锁, 安全狗) answer a crawler with a JavaScript cookie challenge instead of the page. Neither
may be taken for a report, nor for an empty list: `error_page` says why a body is one of them,
with a one-line Chinese reason, or None for a real page.

The markers are read from the raw markup (a challenge is in its scripts) and from the visible
text, and only short pages count as error pages by their wording: a real annual report is
thousands of characters long and may well contain "404" in a table.
"""

from __future__ import annotations

import html
import re

from scraper.platforms.common import to_text

__all__ = ["error_page"]

_MAX_BYTES = 512 * 1024  # error and challenge pages are small; a larger body is content
_SHORT = 1500  # visible characters of a page that may be an error page by its wording
_TINY = 300  # visible characters of a page that is only a script (a challenge)

_BINARY = (b"%PDF", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"{\\rtf")
_STRIP = re.compile(r"<(script|style|noscript|template)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)

# Known anti-bot products, by what their challenge pages carry.
_CHALLENGE_MARKERS = re.compile(
    r"__jsl_clearance|wzws(?:challenge|question|method|confirm|_cid|rid)|\$_ts\s*=\s*window\["
    r"|yunsuo_session_verify|security_verify_(?:data|img)|safedog|_waf_bd8ce2ce37|cdn_sec_tc"
    r"|acw_sc__v2|g_wafjs|ddos-guard|cf-chl-|challenge-platform|__cf_chl_",
    re.IGNORECASE,
)
# A page that sets a cookie in script and reloads itself: the generic JavaScript cookie challenge.
_SETS_COOKIE = re.compile(r"document\.cookie\s*=", re.IGNORECASE)
_RELOADS = re.compile(
    r"location\.(?:reload|replace|assign)\s*\(|location(?:\.href)?\s*=|setTimeout\s*\(|eval\s*\(", re.IGNORECASE)
_CHALLENGE_WORDS = re.compile(
    r"安全验证|人机验证|访问验证|滑动验证|请完成验证|正在验证|浏览器安全检查|安全检查中|请稍候.{0,10}跳转"
    r"|您的(?:访问|请求)(?:已)?被(?:拦截|阻断|拒绝)|访问被拒绝|拒绝访问|请求被拒绝|非法请求|网站防火墙|应用防火墙"
    r"|请(?:开启|启用|打开|允许)(?:浏览器的?)?\s*(?:JavaScript|JS|Cookie)"
    r"|Access Denied|Request Rejected|The requested URL was rejected|enable JavaScript|Checking your browser",
    re.IGNORECASE,
)
_NOT_FOUND_WORDS = re.compile(
    r"页面不存在|网页不存在|页面未找到|页面找不到|找不到(?:您|你)?(?:要|所)?(?:访问|请求|查找|浏览)?的?(?:页面|网页)"
    r"|(?:您|你)(?:所|要)?(?:访问|请求|查找|浏览)的(?:页面|网页|内容|信息|文章|栏目)"
    r"(?:不存在|已(?:被)?删除|已(?:过期|失效|下线)|找不到|无法(?:找到|显示|访问))"
    r"|(?:信息|文章|内容|稿件|网页|文档|栏目)(?:不存在|已(?:被)?删除|已撤(?:销|稿|下))"
    r"|\b404\b[^\n]{0,20}(?:not found|错误|页面|error)|(?:错误|error)[^\n]{0,10}\b404\b|not found|HTTP\s*404",
    re.IGNORECASE,
)
_TITLE_NOT_FOUND = re.compile(
    r"(?<!\d)404(?!\d)|not found|页面不存在|网页不存在|找不到|错误页|页面出错|出错了|信息不存在|文章不存在", re.IGNORECASE)
_SERVER_WORDS = re.compile(
    r"系统(?:正在)?维护|网站(?:正在)?维护|服务器(?:繁忙|错误|内部错误)|服务暂(?:时)?不可用|Service (?:Temporarily )?Unavailable"
    r"|Bad Gateway|Gateway Time-?out|Internal Server Error|(?<!\d)50[234](?!\d)[^\n]{0,20}(?:错误|error)",
    re.IGNORECASE,
)


def _visible(markup: str) -> str:
    text = _TAG.sub(" ", _STRIP.sub(" ", markup))
    return _SPACE.sub(" ", html.unescape(text)).strip()


def _quote(match: re.Match[str]) -> str:
    return _SPACE.sub(" ", match.group(0)).strip()[:40]


def error_page(content: bytes | str, content_type: str | None = None) -> str | None:
    """Why `content` (a 200 answer) is an error or challenge page and not the page asked for,
    in one line of Chinese; None when it is (or may be) real content."""
    if isinstance(content, bytes):
        if len(content) > _MAX_BYTES or content.lstrip()[:8].startswith(_BINARY):
            return None
    elif len(content) > _MAX_BYTES:
        return None
    markup = to_text(content, content_type)
    head = markup.lstrip()[:1]
    if head and head not in "<{[" and "<html" not in markup[:2000].lower():
        return None  # plain text, not a page
    text = _visible(markup)
    if len(text) <= _SHORT:
        if (m := _CHALLENGE_MARKERS.search(markup)) is not None or (m := _CHALLENGE_WORDS.search(text)) is not None:
            return f"返回的是网站防火墙或反爬虫的验证页面（“{_quote(m)}”），不是真实内容"
        if len(text) <= _TINY and _SETS_COOKIE.search(markup) and _RELOADS.search(markup):
            return "返回的是网站防火墙或反爬虫的验证页面（用 JavaScript 设置 Cookie 后重新载入），不是真实内容"
    title_match = _TITLE.search(markup)
    title = _visible(title_match.group(1)) if title_match else ""
    if len(text) <= 5 * _SHORT and title and len(title) <= 60 and (m := _TITLE_NOT_FOUND.search(title)):
        return f"返回的是“页面不存在”一类的错误提示页面（标题：“{title[:40]}”），HTTP 状态码却是 200"
    if len(text) <= _SHORT:
        if (m := _NOT_FOUND_WORDS.search(text)) is not None:
            return f"返回的是“页面不存在”一类的错误提示页面（“{_quote(m)}”），HTTP 状态码却是 200"
        if (m := _SERVER_WORDS.search(text)) is not None:
            return f"返回的是服务器错误或维护页面（“{_quote(m)}”），HTTP 状态码却是 200"
    return None
