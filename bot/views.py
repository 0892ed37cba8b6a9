"""What the bot shows, one page at a time: a view turns a request (the command's arguments, the
page, a choice made) into an :class:`~bot.ask.answer.Answer`, rendered by bot.ask.render.to_html.

    ask      a plain Chinese question                     bot.ask.engine.ask
    report   /report 单位 [年份]: key figures + findings     query.api.agency_figures, agency_history
    stats    /stats [年份] [地区] [层级]                     query.api.totals, findings
    late     /late [年份] [地区] [层级]                      query.api.findings
    missing  /missing [年份] [地区] [层级]
    issues   /issues [年份] [地区] [层级] [严重程度]
    top      /top 指标 [年份] [地区] [层级]                  query.api.ranking

Views are synchronous reads over a Connection (the bot runs them in a worker thread). A name that
means several agencies or regions comes back as choices (buttons); the chosen id comes back in
`Request.agency_id` / `region_code`. Every list is paged by `offset`/`limit` and fitted into one
Telegram message (bot.ask.engine.fit): lines that do not fit move to the next page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.engine import Connection

from bot.ask import TELEGRAM_LIMIT, Answer, Choice, ask
from bot.ask.engine import OVERVIEW_FIGURES, amount, count, fit, where
from query import api
from query.api import ALL, KEY_FIGURES, KIND_NAMES, SEVERITY_NAMES, Scope
from query.fields import figure
from query.scope import (
    LEVEL_NAMES,
    AgencyRef,
    RegionRef,
    ScopeError,
    agency_by_id,
    find_agencies,
    find_region,
)

# Which states each list shows: late stays late once published or resolved; missing until published.
LIST_STATES: dict[str, tuple[str, ...]] = {
    "late": ("open", "acknowledged", "resolved"),
    "missing": ("open", "acknowledged"),
    "issues": ("open",),
}
ACK_HINT = "用 /ack 编号 确认问题，/dismiss 编号 理由 标记误报"


@dataclass(frozen=True, slots=True)
class Request:
    """One page of a view. `args`: the view's arguments as the command handler parsed them."""

    args: tuple[str | int | None, ...]
    today: date
    offset: int = 0
    limit: int = 10
    agency_id: int | None = None
    region_code: str | None = None
    max_chars: int = TELEGRAM_LIMIT
    text: str = ""  # the command or question as typed


View = Callable[[Connection, Request], Answer]


def run(view: str, conn: Connection, request: Request) -> Answer:
    """The page `request` asks of `view`, fitted into one message."""
    try:
        answer = VIEWS[view](conn, request)
    except ScopeError as exc:  # a chosen agency or region that is gone since
        answer = _answer(request, str(exc), status="not_found", paged=False)
    return fit(answer, request.max_chars)


# ---- a plain question ------------------------------------------------------------------------


def ask_view(conn: Connection, req: Request) -> Answer:
    (question,) = req.args
    return ask(conn, str(question), today=req.today, offset=req.offset, limit=req.limit,
               agency_id=req.agency_id, region_code=req.region_code, max_chars=req.max_chars)


# ---- shared pieces ---------------------------------------------------------------------------


def _answer(req: Request, title: str, *, summary: Sequence[str] = (), items: Sequence[str] = (),
            total: int | None = None, basis: str | None = None, notes: Sequence[str] = (),
            year: int | None = None, paged: bool = True, status: str = "ok") -> Answer:
    return Answer(status, req.text, title, list(summary), list(items),  # type: ignore[arg-type]
                  basis, list(notes), req.offset if paged else 0, req.limit if paged else None,
                  len(items) if total is None else total, year=year)


def _year(conn: Connection, req: Request, year: int | None, notes: list[str]) -> int | None:
    """The year asked, or the latest report year (with a note saying so)."""
    if year is not None:
        return year
    from bot.ask.queries import latest_year

    latest = latest_year(conn, req.today)
    if latest is not None:
        notes.append(f"未指明年度，按 {latest} 年度统计")
    return latest


def _scope(conn: Connection, req: Request, region: str | None, level: str | None) -> Scope | Answer:
    """The scope of a list: the chosen region, the region named, or everywhere. A name of several
    regions comes back as an Answer with choices, an unknown one as an Answer saying so."""
    if req.region_code is not None:  # a choice among several: named in full (北京市朝阳区)
        chosen = find_region(conn, req.region_code)
        return Scope(RegionRef(chosen.code, _full_name(conn, chosen.code) or chosen.name), level)
    if not region:
        return Scope(None, level) if level else ALL
    try:
        return Scope(find_region(conn, region), level)
    except ScopeError as exc:
        if "多个地区" in str(exc):
            from bot.ask.queries import region_candidates

            candidates = region_candidates(conn, region)
            if candidates:
                answer = _answer(req, f"「{region}」对应多个地区，请选择：", status="choose", paged=False)
                answer.choices = [Choice(label, region_code=code) for code, label in candidates]
                return answer
        return _answer(req, str(exc), status="not_found", paged=False,
                       notes=["地区可写名称（浙江省、宁波市、镇海区）或代码（330211）"])


def _full_name(conn: Connection, code: str) -> str | None:
    """浙江省宁波市镇海区 for 330211, from the region table."""
    import sqlalchemy as sa

    from compliance.regions import parent_code
    from db.models import Region

    regions: sa.Table = Region.__table__  # type: ignore[attr-defined]
    parts: list[str] = []
    current: str | None = code
    while current:
        name = conn.execute(sa.select(regions.c.name).where(regions.c.code == current)).scalar()
        if name and not name.isdigit():  # a placeholder region is named by its code
            parts.append(name)
        current = parent_code(current)
    return "".join(reversed(parts)) or None


def _no_year(req: Request) -> Answer:
    return _answer(req, "还没有收录任何报告。", status="no_data", paged=False)


def _state(state: str) -> str:
    """「已确认，」 for a finding no longer open, nothing for an open one."""
    return "" if state == "待处理" else f"{state}，"


# ---- /report ---------------------------------------------------------------------------------


def _agency(conn: Connection, req: Request, name: str) -> AgencyRef | Answer:
    if req.agency_id is not None:
        return agency_by_id(conn, req.agency_id)
    found = find_agencies(conn, name)
    if not found:
        return _answer(req, f"没有找到单位「{name}」。", status="not_found", paged=False,
                       notes=["单位可写全称、简称或别名，如：镇海区人社局"])
    if len(found) > 1:
        answer = _answer(req, f"「{name}」对应多个单位，请选择：", status="choose", paged=False)
        answer.choices = [Choice(f"{a.name}（{a.region_name}）" if a.region_name else a.name, agency_id=a.id)
                          for a in found]
        return answer
    return found[0]


def report_view(conn: Connection, req: Request) -> Answer:
    """An agency's report on a year (its latest stored one by default): the key figures, the
    publication date and link, and every finding of that year with its 编号 (for /ack)."""
    name = str(req.args[0])
    year = int(req.args[1]) if req.args[1] is not None else None
    agency = _agency(conn, req, name)
    if isinstance(agency, Answer):
        return agency
    rows = api.agency_figures(conn, agency, None, KEY_FIGURES).dicts()
    if year is None and rows:
        year = int(rows[-1]["year"])
    row = next((r for r in rows if r["year"] == year), None)
    history = [r for r in api.agency_history(conn, agency).dicts() if year is None or r["year"] == year]
    span = f"{year}年度" if year is not None else ""
    summary: list[str] = []
    if row is not None:
        summary += [f"{f.label}：{amount(f, row[f.key])}" for f in map(figure, KEY_FIGURES)]
        summary.append(f"报告发布日期：{row['published'].isoformat()}" if row["published"] else "报告发布日期：未知")
        if row["url"]:
            summary.append(f"报告链接：{row['url']}")
    else:
        summary.append(f"没有收录{agency.name}{span}的报告。")
    open_count = sum(1 for r in history if r["state"] == "待处理")
    summary.append(f"问题：{count(len(history))} 个（待处理 {count(open_count)} 个）" if history else "问题：无")
    page = history[req.offset:req.offset + req.limit]
    items = [f"{req.offset + i + 1}. {r['rule']}（{r['severity']}，{_state(r['state'])}编号 {r['id']}）"
             + (f"— {r['message']}" if r["message"] else "") for i, r in enumerate(page)]
    notes = [ACK_HINT] if open_count else []
    return _answer(req, f"{agency.name}{span}报告", summary=summary, items=items, total=len(history),
                   basis="按已收录的 1 份报告统计" if row is not None else None, notes=notes, year=year)


# ---- /stats ----------------------------------------------------------------------------------


def stats_view(conn: Connection, req: Request) -> Answer:
    """A year's totals over a region (or everywhere): the main figures and how many reports were
    late, missing or inconsistent."""
    year, region, level = req.args[0], req.args[1], req.args[2]
    notes: list[str] = []
    year = _year(conn, req, year if isinstance(year, int) else None, notes)
    if year is None:
        return _no_year(req)
    scope = _scope(conn, req, str(region) if region else None, str(level) if level else None)
    if isinstance(scope, Answer):
        return scope
    summary = []
    reports = 0
    for key in OVERVIEW_FIGURES:
        f = figure(key)
        t = api.totals(conn, key, year, scope, by=None)
        reports = t.reports or 0
        if not reports:
            return _answer(req, f"没有收录{scope.label()}{year}年度的报告。", status="no_data", paged=False,
                           basis="按已收录的 0 份报告统计", notes=notes, year=year)
        summary.append(f"{f.label}：{amount(f, t.rows[0][3] if t.rows else None)}")
    late = api.findings(conn, year, scope, kinds=("late",), states=LIST_STATES["late"], limit=0).total
    missing = api.findings(conn, year, scope, kinds=("missing",), states=LIST_STATES["missing"],
                           limit=0).total
    inconsistent = api.inconsistent_agencies(conn, year, scope, limit=0).total
    open_findings = api.findings(conn, year, scope, states=("open",), limit=0).total
    summary += [f"{KIND_NAMES['late']}：{count(late)} 个单位",
                f"未发布报告或站点无法访问：{count(missing)} 个单位",
                f"{KIND_NAMES['inconsistent']}（待处理）：{count(inconsistent)} 个单位",
                f"待处理问题：{count(open_findings)} 个"]
    return _answer(req, f"{year}年度{scope.label()}主要数据（合计）", summary=summary,
                   basis=f"按已收录的 {reports:,} 份报告统计", notes=notes, year=year, paged=False)


# ---- /late, /missing, /issues ------------------------------------------------------------------


def _findings_view(kind: str) -> View:
    def view(conn: Connection, req: Request) -> Answer:
        year, region, level, severity = req.args[0], req.args[1], req.args[2], req.args[3]
        notes: list[str] = []
        year = _year(conn, req, year if isinstance(year, int) else None, notes)
        if year is None:
            return _no_year(req)
        scope = _scope(conn, req, str(region) if region else None, str(level) if level else None)
        if isinstance(scope, Answer):
            return scope
        kinds = () if kind == "issues" else (kind,)
        t = api.findings(conn, year, scope, kinds=kinds, states=LIST_STATES[kind],
                         min_severity=str(severity) if severity else None, limit=req.limit, offset=req.offset)
        items = []
        for i, r in enumerate(t.dicts()):
            place = where(r["agency"], r["region"])
            if kind == "late":
                what = f"逾期 {count(r['days_late'])} 天" if r["days_late"] else r["rule"]
                items.append(f"{req.offset + i + 1}. {place}：{what}（{_state(r['state'])}编号 {r['id']}）")
            elif kind == "missing":
                items.append(f"{req.offset + i + 1}. {place}：{r['rule']}（{_state(r['state'])}编号 {r['id']}）")
            else:
                items.append(f"{req.offset + i + 1}. {place}：{r['rule']}（{r['severity']}，编号 {r['id']}）"
                             + (f"— {r['message']}" if r["message"] else ""))
        if kind == "issues":
            at_least = f"（{SEVERITY_NAMES[str(severity)]}及以上）" if severity else ""
            title = f"{year}年度{scope.label()}待处理问题{at_least}"
            summary = [f"共 {count(t.total)} 个待处理问题"] if t.total else ["没有待处理的问题"]
        elif kind == "late":
            title = f"{year}年度{scope.label()}逾期发布的报告"
            summary = [f"共 {count(t.total)} 个逾期发布的报告"] if t.total else ["没有逾期发布的记录"]
        else:
            title = f"{year}年度{scope.label()}未发布报告的单位"
            summary = ([f"共 {count(t.total)} 个单位未发布报告或站点无法访问"] if t.total
                       else ["没有未发布报告的记录"])
        if t.total:
            notes.append(ACK_HINT)
        return _answer(req, title, summary=summary, items=items, total=t.total, basis=t.basis, notes=notes,
                       year=year)

    view.__name__ = f"{kind}_view"
    view.__doc__ = {"late": "Late reports, with their 编号.", "missing": "Reports not published.",
                    "issues": "Open findings, at least of a severity."}[kind]
    return view


# ---- /top ------------------------------------------------------------------------------------


def top_view(conn: Connection, req: Request) -> Answer:
    """The agencies by one figure, largest first."""
    key, year, region, level = str(req.args[0]), req.args[1], req.args[2], req.args[3]
    f = figure(key)
    notes: list[str] = []
    year = _year(conn, req, year if isinstance(year, int) else None, notes)
    if year is None:
        return _no_year(req)
    scope = _scope(conn, req, str(region) if region else None, str(level) if level else None)
    if isinstance(scope, Answer):
        return scope
    t = api.ranking(conn, key, year, scope, limit=req.limit, offset=req.offset)
    items = [f"{r['rank']}. {where(r['agency'], r['region'])}：{amount(f, r['value'])}" for r in t.dicts()]
    unit = LEVEL_NAMES.get(scope.level, "单位") if scope.level else "单位"
    summary = [] if t.total else [f"没有{f.label}有数据的{unit}"]
    region_label = scope.region.name if scope.region else "全部地区"
    return _answer(req, f"{year}年度{region_label}{f.label}最多的{unit}", summary=summary, items=items,
                   total=t.total, basis=t.basis, notes=notes, year=year)


VIEWS: dict[str, View] = {
    "ask": ask_view,
    "report": report_view,
    "stats": stats_view,
    "late": _findings_view("late"),
    "missing": _findings_view("missing"),
    "issues": _findings_view("issues"),
    "top": top_view,
}


# ---- regions for /subscribe ---------------------------------------------------------------------


def region_full_name(conn: Connection, code: str) -> str:
    """浙江省宁波市镇海区 for 330211 (the code itself when the region table does not name it)."""
    return _full_name(conn, code) or code


def sub_regions(conn: Connection, code: str | None) -> list[tuple[str, str]]:
    """(code, name) of the regions directly under `code` (None: the provinces), by code. A region
    the table names only by its code (a placeholder) is shown by its code."""
    import sqlalchemy as sa

    from db.models import Region

    regions: sa.Table = Region.__table__  # type: ignore[attr-defined]
    parent = regions.c.parent_code.is_(None) if code is None else regions.c.parent_code == code
    stmt = sa.select(regions.c.code, regions.c.name).where(parent).order_by(regions.c.code)
    rows = conn.execute(stmt).all()
    return [(c, n if n and not n.isdigit() else f"地区 {c}") for c, n in rows]
