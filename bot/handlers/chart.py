"""/chart 指标 [年份] [地区] [层级]: a figure drawn as a PNG (bot.chart), sent as a photo.

What is drawn follows from the arguments:

- a county, or 「按单位」: the agencies with the largest values (bars);
- everywhere, a province or a city, or 「按地区」: the sums by the regions one level below (bars);
- 「按层级」: the sums by level (bars);
- 「历年」, or an agency instead of a region: the figure across the years (a line), the agency's
  own or the sum over the region.

The year, level and region are read as /top reads them (bot.handlers.queries.read_filters); the
query and the drawing run in a worker thread. Also here: `resolve_place`, which /export shares.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection, Engine
from telegram import Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.handlers.common import command_args, within_rate
from bot.handlers.queries import MAX_ARGS, read_filters, year_of
from bot.services import services
from bot.text import escaped as escape  # store and user text: invisible characters dropped, escaped
from query.api import ALL, Scope
from query.scope import AgencyRef, RegionRef, ScopeError

CHART_USAGE = ("/chart 指标 [年份] [地区] [层级]，例如 /chart 申请 2021 浙江省；"
               "画历年变化：/chart 申请 历年 镇海区人社局（也可加「按单位」「按地区」「按层级」）")
COUNTY_PREFIX = 6  # the code prefix of a county (330211); a province's is 33, a city's 3302
CAPTION_LIMIT = 1024  # Telegram's limit on a photo's caption

YEARS_WORDS = frozenset({"历年", "历年变化", "各年", "各年度", "逐年", "趋势", "变化"})
KIND_WORDS = {"按单位": "agencies", "按部门": "agencies", "按地区": "regions", "按层级": "levels"}


class Problem(Exception):
    """What to tell the user instead of a chart or a file; the message is Chinese, plain text."""


@dataclass(frozen=True, slots=True)
class ChartRequest:
    figure: str  # the figure's key
    year: int | None
    place: str | None  # a region or an agency, as typed
    level: str | None
    kind: str | None  # agencies | regions | levels | years; None: from the place


def resolve_place(conn: Connection, text: str, *, agencies: bool = False) -> RegionRef | AgencyRef:
    """The region `text` names (a name or a code) or, with `agencies`, the agency. Raises Problem
    when nothing or several match (naming the candidates: their codes or full names work)."""
    from query.scope import find_agencies, find_region

    try:
        return find_region(conn, text)
    except ScopeError as exc:
        if "多个地区" in str(exc):
            from bot.ask.queries import region_candidates

            candidates = region_candidates(conn, text)
            if candidates:
                names = "、".join(f"{label}（{code}）" for code, label in candidates)
                raise Problem(f"「{text}」对应多个地区：{names}。请写全称或地区代码。") from None
            raise Problem(str(exc)) from None
        if not agencies:
            raise Problem(f"{exc}（地区可写名称或代码，如：浙江省、宁波市、330211）") from None
    found = find_agencies(conn, text)
    if not found:
        raise Problem(f"找不到地区或单位：{text}（地区可写名称或代码，单位可写全称或简称）")
    if len(found) > 1:
        names = "、".join(f"{a.name}（{a.region_name}）" if a.region_name else a.name for a in found)
        raise Problem(f"「{text}」对应多个单位：{names}。请写单位全称。")
    return found[0]


def parse(args: list[str], this_year: int) -> ChartRequest:
    """The figure (the first word that is no year and no chart word), the kind words and the
    filters /top reads. Raises Problem (no figure) or UnknownFigure."""
    from query.fields import find_figure

    kind: str | None = None
    figure_word: str | None = None
    rest: list[str] = []
    for token in args:
        if token in YEARS_WORDS and kind is None:
            kind = "years"
        elif token in KIND_WORDS and kind is None:
            kind = KIND_WORDS[token]
        elif figure_word is None and year_of(token, this_year) is None:
            figure_word = token
        else:
            rest.append(token)
    if figure_word is None:
        raise Problem("请给出指标。")
    key = find_figure(figure_word).key
    f = read_filters(rest, this_year)
    return ChartRequest(key, f.year, f.region, f.level, kind)


def has_subregions(scope: Scope) -> bool:
    """Everywhere, a province or a city: sums by the regions below; a county: its agencies."""
    return scope.region is None or len(scope.region.prefix) < COUNTY_PREFIX


def draw(engine: Engine, request: ChartRequest):  # noqa: ANN201 - a bot.chart.Chart
    """Run the query and draw it (synchronous: the handler calls it in a worker thread)."""
    from bot.chart import ChartError, FontMissing, chart_for

    with engine.connect() as conn:
        scope: Scope = Scope(None, request.level) if request.level else ALL
        agency: AgencyRef | None = None
        if request.place:
            place = resolve_place(conn, request.place, agencies=True)
            if isinstance(place, AgencyRef):
                agency = place
            else:
                scope = Scope(place, request.level)
        if agency is not None:
            kind = "years"
        elif request.kind is not None:
            kind = request.kind
        else:
            kind = "regions" if has_subregions(scope) else "agencies"
        try:
            return chart_for(conn, request.figure, request.year, scope, kind,  # type: ignore[arg-type]
                             agency=agency)
        except (ChartError, FontMissing, ScopeError) as exc:  # NoData is a ChartError
            raise Problem(str(exc)) from None


async def usage(update: Update, text: str, problem: str | None = None) -> None:
    message = f"{problem}\n用法：{text}" if problem else f"用法：{text}"
    await update.effective_message.reply_text(escape(message))  # type: ignore[union-attr]


async def chart_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/chart 指标 [年份] [地区] [层级]: a bar or line chart, as a photo."""
    from query.fields import UnknownFigure

    message = update.effective_message
    if message is None:
        return
    args = command_args(context)
    if not args or sum(len(a) for a in args) > MAX_ARGS:
        await usage(update, CHART_USAGE, "参数太长了。" if args else None)
        return
    svc = services(context)
    try:
        request = parse(args, svc.today().year)
    except UnknownFigure as exc:
        await usage(update, CHART_USAGE, f"{exc}。")
        return
    except Problem as exc:
        await usage(update, CHART_USAGE, str(exc))
        return
    if not await within_rate(update, context):
        return
    try:
        await message.chat.send_action(ChatAction.UPLOAD_PHOTO)
    except TelegramError:
        pass  # only a courtesy
    try:
        chart = await svc.db(draw, svc.engine, request)
    except Problem as exc:
        await message.reply_text(escape(str(exc)))
        return
    caption = chart.caption
    if len(caption) > CAPTION_LIMIT:
        caption = caption[: CAPTION_LIMIT - 1] + "…"
    await message.reply_photo(chart.png, caption=escape(caption), filename="chart.png")
