"""The bot's command table: every command, its usage and one-line description (for /help and the
Telegram command menu) and its handler. Adding a command is one entry here and its handler in a
module under bot/handlers/ (for example bot/handlers/chart.py for /chart):

    Command("chart", "/chart 指标 [年份] [地区] [层级]", "把指标画成图：…", chart.chart_command),

A command with inline buttons of its own adds `(pattern, callback)` to BUTTONS (registered before
the catch-all that answers 「按钮已失效」); its callback data must not start with "p.", "c." or "s."
(the question buttons, bot.callbacks), and has an action of its own in bot.callbacks.ACTIONS ("u."
and "r." are /subscribe's and /subscriptions'). Every update passes the access gate first, so a handler
only ever sees approved users; `admin=True` limits a command to the admins of the configuration.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.handlers import access, ask, chart, crawl, export, findings, queries, start, subscribe

Callback = Callable[[Any, Any], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # without the slash: lowercase letters, digits, underscores
    usage: str  # 「/late [年份] [地区]」
    description: str  # one line, Chinese: /help and the menu
    callback: Callback
    admin: bool = False  # admins only (bot.admins)
    menu: bool = True  # listed in Telegram's command menu (setMyCommands)


COMMANDS: tuple[Command, ...] = (
    Command("start", "/start", "开始使用", start.start, menu=False),
    Command("help", "/help", "全部命令和提问示例", start.help_command),
    Command("ask", "/ask 问题", "提问（群聊中用；私聊直接发问题即可）", ask.ask_command),
    Command("report", "/report 单位 [年份]", "单位年度报告的主要数据和问题", queries.report),
    Command("stats", "/stats [年份] [地区] [层级]", "某年度地区合计和合规概况", queries.stats),
    Command("late", "/late [年份] [地区] [层级]", "逾期发布的报告", queries.late),
    Command("missing", "/missing [年份] [地区] [层级]", "未发布报告的单位", queries.missing),
    Command("issues", "/issues [年份] [地区] [层级] [严重程度]", "待处理的问题（严重程度：错误、警告、提示）",
            queries.issues),
    Command("top", "/top 指标 [年份] [地区] [层级]", "按指标给单位排名", queries.top),
    Command("chart", "/chart 指标 [年份] [地区] [层级]", "把指标画成图：各地区、各单位对比，或历年变化",
            chart.chart_command),
    Command("export", "/export 年份 [地区] [层级]", "导出年度核查工作簿（Excel 文件）", export.export_command),
    Command("ack", "/ack 编号 [理由]", "确认问题（已知悉、已督促），不再告警", findings.ack),
    Command("dismiss", "/dismiss 编号 理由", "标记为误报（须说明理由），不再告警", findings.dismiss),
    Command("subscribe", "/subscribe", "订阅告警：按地区、层级、单位和级别，即时或每日汇总，可设免打扰",
            subscribe.subscribe_command),
    Command("subscriptions", "/subscriptions", "查看和取消本聊天的告警订阅", subscribe.subscriptions_command),
    Command("approve", "/approve 用户编号 [名字]", "授权用户使用本机器人", access.approve, admin=True),
    Command("revoke", "/revoke 用户编号", "撤销用户的授权", access.revoke, admin=True),
    Command("users", "/users", "查看已授权的用户", access.list_users, admin=True),
    Command("crawl", "/crawl [站点…]", "在后台抓取配置中的站点（全部或指定的），并报告结果", crawl.crawl_command,
            admin=True),
)

# Inline buttons of other commands: (callback data pattern, callback).
BUTTONS: tuple[tuple[str, Callback], ...] = (
    (r"^u\.", subscribe.on_button),
    (r"^r\.", subscribe.on_remove),
)
