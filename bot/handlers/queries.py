"""The commands that list or sum: /report, /stats, /late, /missing, /issues, /top.

Their arguments are read here (a year: 2021, 2021年, 今年, 去年, 前年; a level: 部门, 政府, 乡镇; a
severity: 错误, 警告, 提示; whatever is left is the region, or the agency of /report) and answered by
a view (bot.views) through bot.handlers.ask.show: paged, with buttons when a name means several.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import Update
from telegram.ext import ContextTypes

from bot.handlers.ask import show
from bot.handlers.common import command_args
from bot.services import services
from bot.text import escaped as escape
from query.scope import LEVEL_WORDS

_YEAR = re.compile(r"^(?P<year>(?:19|20)\d{2})(?:年度?)?$")
_RELATIVE = {"今年": 0, "今年度": 0, "去年": -1, "去年度": -1, "前年": -2, "前年度": -2}
SEVERITY_WORDS = {"错误": "error", "error": "error", "严重": "error", "警告": "warning", "warning": "warning",
                  "提示": "info", "info": "info"}
MAX_ARGS = 100  # characters of arguments


@dataclass(frozen=True, slots=True)
class Filters:
    year: int | None = None
    region: str | None = None
    level: str | None = None
    severity: str | None = None


def year_of(token: str, this_year: int) -> int | None:
    m = _YEAR.match(token)
    if m:
        return int(m.group("year"))
    if token in _RELATIVE:
        return this_year + _RELATIVE[token]
    return None


def read_filters(args: list[str], this_year: int, *, severity: bool = False, level: bool = True) -> Filters:
    """The year, level and severity among `args`, in any order; the other words, joined, are the
    region (浙江省 宁波市 → 浙江省宁波市)."""
    year = found_level = found_severity = None
    rest: list[str] = []
    for token in args:
        y = year_of(token, this_year)
        if y is not None and year is None:
            year = y
        elif level and token in LEVEL_WORDS and found_level is None:
            found_level = LEVEL_WORDS[token]
        elif severity and token.lower() in SEVERITY_WORDS and found_severity is None:
            found_severity = SEVERITY_WORDS[token.lower()]
        else:
            rest.append(token)
    return Filters(year, "".join(rest) or None, found_level, found_severity)


async def _usage(update: Update, usage: str, problem: str | None = None) -> None:
    text = f"{problem}\n用法：{usage}" if problem else f"用法：{usage}"
    await update.effective_message.reply_text(escape(text))  # type: ignore[union-attr]


def _args(context: ContextTypes.DEFAULT_TYPE) -> list[str] | None:
    args = command_args(context)
    return args if sum(len(a) for a in args) <= MAX_ARGS else None


def _this_year(context: ContextTypes.DEFAULT_TYPE) -> int:
    return services(context).today().year


REPORT_USAGE = "/report 单位 [年份]，例如 /report 镇海区人社局 2021"
STATS_USAGE = "/stats [年份] [地区] [层级]，例如 /stats 2021 浙江省"
LATE_USAGE = "/late [年份] [地区] [层级]，例如 /late 2021 宁波市 部门"
MISSING_USAGE = "/missing [年份] [地区] [层级]，例如 /missing 2021 浙江省"
ISSUES_USAGE = "/issues [年份] [地区] [层级] [严重程度]，例如 /issues 2021 嘉兴市 错误"
TOP_USAGE = "/top 指标 [年份] [地区] [层级]，例如 /top 申请 2021 浙江省（指标：申请、予以公开、行政复议、行政诉讼、行政许可、行政处罚、收费等）"


async def report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/report 单位 [年份]: an agency's report: key figures, publication, findings with their 编号."""
    args = _args(context)
    if args is None:
        await _usage(update, REPORT_USAGE, "参数太长了。")
        return
    f = read_filters(args, _this_year(context), level=False)
    if not f.region:
        await _usage(update, REPORT_USAGE)
        return
    await show(update, context, "report", (f.region, f.year))


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats [年份] [地区] [层级]: a year's totals and compliance counts."""
    args = _args(context)
    if args is None:
        await _usage(update, STATS_USAGE, "参数太长了。")
        return
    f = read_filters(args, _this_year(context))
    await show(update, context, "stats", (f.year, f.region, f.level))


def _findings_command(view: str, usage: str, *, severity: bool = False):  # noqa: ANN202
    async def command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        args = _args(context)
        if args is None:
            await _usage(update, usage, "参数太长了。")
            return
        f = read_filters(args, _this_year(context), severity=severity)
        await show(update, context, view, (f.year, f.region, f.level, f.severity))

    command.__name__ = command.__qualname__ = view
    command.__doc__ = f"{usage.split('，')[0]}"
    return command


late = _findings_command("late", LATE_USAGE)
missing = _findings_command("missing", MISSING_USAGE)
issues = _findings_command("issues", ISSUES_USAGE, severity=True)


async def top(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/top 指标 [年份] [地区] [层级]: the agencies by one figure."""
    from query.fields import UnknownFigure, find_figure

    args = _args(context)
    if not args:
        await _usage(update, TOP_USAGE, "参数太长了。" if args is None else None)
        return
    try:
        key = find_figure(args[0]).key
    except UnknownFigure as exc:
        await _usage(update, TOP_USAGE, f"{exc}。")
        return
    f = read_filters(args[1:], _this_year(context))
    await show(update, context, "top", (key, f.year, f.region, f.level))
