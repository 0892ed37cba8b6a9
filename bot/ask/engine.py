"""The question engine: a question in, an :class:`Answer` out, by way of the query layer.

`ask(conn, question, today=…)` parses the question (bot.ask.parse), resolves its region or agency
against the store (query.scope: full names, short names, aliases, fuzzy; several matches come back
as choices), fixes the year (今年 is `today`'s, a Beijing date; no year: the latest report year),
calls query.api and writes the answer's lines. Lists are paged: `offset` and `limit` select the
page, the answer reports the list's total, and with `max_chars` a page holds no more lines than fit
in one message (Telegram: 4096 characters), so nothing is ever cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.engine import Connection

from bot.ask.answer import Answer, Choice, Status
from bot.ask.parse import AGENCY_SUFFIX, APPLICATIONS, Intent, parse
from bot.ask.suggest import suggest
from query import api
from query.api import COMPLIANCE_KINDS, KEY_FIGURES, KIND_NAMES, Column, Scope, Table, rule_name
from query.fields import Figure, figure
from query.render import cell_text
from query.scope import (
    LEVEL_NAMES,
    AgencyRef,
    RegionRef,
    ScopeError,
    agency_by_id,
    find_agencies,
    find_region,
)

PAGE_SIZE = 10
TELEGRAM_LIMIT = 4096

# What an overview of a region shows, and an agency's year-by-year lines.
OVERVIEW_FIGURES: tuple[str, ...] = (
    "applications.new.total", "applications.handled_total.total", "review_litigation.review.total",
    "litigation.total", "proactive.licensing.decisions", "proactive.punishment.decisions",
    "proactive.fees.amount_wan_yuan",
)
YEAR_LINE_FIGURES: tuple[str, ...] = (
    "applications.new.total", "review_litigation.review.total", "litigation.total",
    "proactive.punishment.decisions",
)
# Late: it was late even once published or resolved; missing: until it is published.
_STATES = {"late": ("open", "acknowledged", "resolved"), "missing": ("open", "acknowledged"),
           "inconsistent": ("open",), "findings": ("open",)}


def ask(conn: Connection, question: str, *, today: date, offset: int = 0, limit: int = PAGE_SIZE,
        agency_id: int | None = None, region_code: str | None = None, max_chars: int | None = None) -> Answer:
    """Answer `question` on the store behind `conn`, as of `today` (the Beijing date).

    `offset`/`limit`: the page of a long list. `agency_id` / `region_code`: the choice made after an
    answer with choices (the name is then not looked up again). `max_chars`: the most characters the
    HTML of the answer may have (the bot passes Telegram's limit); lines beyond it move to the next
    page."""
    intent = parse(question)
    ctx = _Context(conn, intent, today, max(0, offset), max(1, limit))
    try:
        answer = _answer(ctx, agency_id, region_code)
    except ScopeError as exc:  # a region or agency id that does not exist
        answer = Answer("not_found", question, str(exc), intent=intent,
                        suggestions=_suggestions(ctx))
    if max_chars is not None:
        answer = fit(answer, max_chars)
    return answer


@dataclass(slots=True)
class _Context:
    conn: Connection
    intent: Intent
    today: date
    offset: int
    limit: int
    notes: list[str] = field(default_factory=list)
    year: int | None = None

    def answer(self, title: str, *, summary: Sequence[str] = (), items: Sequence[str] = (),
               total: int | None = None, basis: str | None = None, table: Table | None = None,
               status: Status = "ok", paged: bool = True) -> Answer:
        return Answer(status, self.intent.text, title, list(summary), list(items), basis, list(self.notes),
                      self.offset if paged else 0, self.limit if paged else None,
                      len(items) if total is None else total, intent=self.intent, table=table, year=self.year)

    def page(self, lines: Sequence[Any]) -> list[Any]:
        """This page of a list held whole."""
        return list(lines[self.offset:self.offset + self.limit])


# ---- resolving ----------------------------------------------------------------------------------


Subject = AgencyRef | RegionRef | None


def _answer(ctx: _Context, agency_id: int | None, region_code: str | None) -> Answer:
    intent = ctx.intent
    if intent.kind == "unknown":
        return _not_understood(ctx)
    subject: Subject = None
    if agency_id is not None:
        subject = agency_by_id(ctx.conn, agency_id)
    elif region_code is not None:
        subject = find_region(ctx.conn, region_code)
    elif intent.subject:
        found = _resolve(ctx.conn, intent.subject)
        if isinstance(found, list):
            return _choose(ctx, found)
        if found is None:
            if intent.kind == "overview" and not intent.has_year and not intent.all_years:
                return _not_understood(ctx)  # nothing but an unknown name: 「你好」
            return Answer("not_found", intent.text, f"没有找到「{intent.subject}」对应的单位或地区。", intent=intent,
                          suggestions=_suggestions(ctx, known=None))
        subject = found
    if isinstance(subject, AgencyRef):
        return _agency(ctx, subject)
    return _scope(ctx, Scope(subject, intent.level))


def _resolve(conn: Connection, text: str) -> AgencyRef | RegionRef | list[Choice] | None:
    """The agency or region a name means; choices when it means several; None when nothing. A name
    that ends like an agency (局, 政府, 办 …) is looked up as an agency first, others as a region."""
    def as_region() -> RegionRef | list[Choice] | None:
        try:
            return find_region(conn, text)
        except ScopeError as exc:
            if "多个地区" not in str(exc):
                return None
            from bot.ask.queries import region_candidates

            return [Choice(label, region_code=code) for code, label in region_candidates(conn, text)] or None

    def as_agency() -> AgencyRef | list[Choice] | None:
        found = find_agencies(conn, text)
        if len(found) > 1:
            return [Choice(_agency_label(a), agency_id=a.id) for a in found]
        return found[0] if found else None

    order = (as_agency, as_region) if AGENCY_SUFFIX.search(text) else (as_region, as_agency)
    for lookup in order:
        found = lookup()
        if found is not None:
            return found
    return None


def _agency_label(a: AgencyRef) -> str:
    return f"{a.name}（{a.region_name}）" if a.region_name else a.name


def _choose(ctx: _Context, choices: list[Choice]) -> Answer:
    what = "单位" if choices[0].agency_id is not None else "地区"
    answer = Answer("choose", ctx.intent.text, f"「{ctx.intent.subject}」对应多个{what}，请选择：", intent=ctx.intent)
    answer.choices = choices
    return answer


def _not_understood(ctx: _Context) -> Answer:
    return Answer("not_understood", ctx.intent.text, "抱歉，没有看懂这个问题。可以这样问：", intent=ctx.intent,
                  suggestions=_suggestions(ctx))


_UNRESOLVED: Any = object()


def _suggestions(ctx: _Context, known: Any = _UNRESOLVED) -> list[str]:
    """Three example questions close to the question, with its own agency or region in them when the
    store knows it, else names the store holds. `known`: what the subject resolved to, when the
    caller already looked it up (None: nothing)."""
    from bot.ask.queries import latest_year, sample_names

    year = latest_year(ctx.conn, ctx.today)
    names = sample_names(ctx.conn, year)
    if year is not None:
        names["year"] = f"{year}年"
    intent = ctx.intent
    if known is _UNRESOLVED:
        known = _resolve(ctx.conn, intent.subject) if intent.subject else None
    if isinstance(known, AgencyRef):
        names["agency"] = intent.subject or known.name
    elif isinstance(known, RegionRef):
        names["region"] = known.name
    else:  # a name that matched nothing says nothing about what was asked
        intent = intent.with_(subject=None)
        if intent.kind == "overview" and not intent.has_year:
            intent = intent.with_(kind="unknown")
    return suggest(ctx.intent.text, intent, names=names)


def _year(ctx: _Context) -> int | None:
    """The asked year, or the latest report year (and a note saying so)."""
    year = ctx.intent.year_for(ctx.today)
    if year is None:
        from bot.ask.queries import latest_year

        year = latest_year(ctx.conn, ctx.today)
        if year is not None:
            ctx.notes.append(f"未指明年度，按 {year} 年度统计")
    ctx.year = year
    return year


# ---- formatting --------------------------------------------------------------------------------


def amount(f: Figure, value: Any) -> str:
    """「1,234 件」「1.5 万元」, or 「未填报」 for a blank."""
    if value is None:
        return "未填报"
    return f"{cell_text(Column('v', '', 'number' if f.unit == '万元' else 'int'), value)} {f.unit}"


def count(n: int) -> str:
    return f"{n:,}"


def where(name: str, region: str | None) -> str:
    """An agency with its region, unless its name already says where it is."""
    if not region:
        return name
    place = region[-3:]
    core = place[:-1] if len(place) == 3 and place[-1] in "省市县区旗州" else place
    return name if core and core in name else f"{name}（{region}）"


def _no_reports(ctx: _Context, what: str) -> Answer:
    return ctx.answer(f"没有收录{what}的报告。", status="no_data", basis="按已收录的 0 份报告统计", paged=False)


# ---- a region, a level or everywhere -----------------------------------------------------------


def _scope(ctx: _Context, scope: Scope) -> Answer:
    kind = ctx.intent.kind
    if kind == "history":
        return _scope_history(ctx, scope)
    year = _year(ctx)
    if year is None:
        return ctx.answer("还没有收录任何报告。", status="no_data", paged=False)
    handlers = {"received": _received, "ranking": _ranking, "total": _total, "overview": _overview,
                "late": _late_or_missing, "missing": _late_or_missing, "inconsistent": _inconsistent,
                "findings": _findings, "reports": _reports}
    return handlers[kind](ctx, scope, year)


def _place(scope: Scope) -> str:
    return scope.region.name if scope.region else "全部地区"


def _unit(scope: Scope) -> str:
    """What the agencies of a scope are called: 单位, or its level (部门, 人民政府, 乡镇（街道）)."""
    return LEVEL_NAMES.get(scope.level, "单位") if scope.level else "单位"


def _figure(ctx: _Context) -> Figure:
    return figure(ctx.intent.figure or APPLICATIONS)


def _received(ctx: _Context, scope: Scope, year: int) -> Answer:
    f = _figure(ctx)
    if ctx.intent.negated:
        from bot.ask.queries import none_received

        t = none_received(ctx.conn, f.key, year, scope, limit=ctx.limit, offset=ctx.offset)
        items = [f"{ctx.offset + i + 1}. {where(r['agency'], r['region'])}" for i, r in enumerate(t.dicts())]
        summary = [f"共 {count(t.total)} 个{_unit(scope)}{f.label}为零"]
        return ctx.answer(t.title, summary=summary, items=items, total=t.total, basis=t.basis, table=t)
    t = api.ranking(ctx.conn, f.key, year, scope, positive=True, limit=ctx.limit, offset=ctx.offset)
    items = [f"{r['rank']}. {where(r['agency'], r['region'])}：{amount(f, r['value'])}" for r in t.dicts()]
    verb = "收到了申请" if f.key == APPLICATIONS else f"有{f.label}"
    title = f"{year}年度{_place(scope)}{'收到申请' if f.key == APPLICATIONS else f'有{f.label}'}的{_unit(scope)}"
    summary = [f"共 {count(t.total)} 个{_unit(scope)}{verb}" if t.total else f"没有{_unit(scope)}{verb}"]
    return ctx.answer(title, summary=summary, items=items, total=t.total, basis=t.basis, table=t)


def _ranking(ctx: _Context, scope: Scope, year: int) -> Answer:
    f = _figure(ctx)
    top = ctx.intent.limit
    limit = min(ctx.limit, top - ctx.offset) if top else ctx.limit
    t = api.ranking(ctx.conn, f.key, year, scope, ascending=ctx.intent.ascending, limit=max(limit, 0),
                    offset=ctx.offset)
    rows = t.dicts() if limit > 0 else []
    total = min(top, t.total) if top else t.total
    items = [f"{r['rank']}. {where(r['agency'], r['region'])}：{amount(f, r['value'])}" for r in rows]
    order = "最少" if ctx.intent.ascending else "最多"
    head = f"前 {top} 个" if top and top > 1 else ""
    unit = _unit(scope)
    if top is None and not ctx.intent.ascending and "最" not in ctx.intent.text:
        title = f"{year}年度{_place(scope)}各{unit}{f.label}"  # 各部门申请数
    else:
        title = f"{year}年度{_place(scope)}{f.label}{order}的{head}{unit}"
    summary = [] if total else [f"没有{f.label}有数据的{unit}"]
    return ctx.answer(title, summary=summary, items=items, total=total, basis=t.basis, table=t)


def _total(ctx: _Context, scope: Scope, year: int) -> Answer:
    f = _figure(ctx)
    t = api.totals(ctx.conn, f.key, year, scope, by=ctx.intent.by)
    if not t.reports:
        return _no_reports(ctx, f"{scope.label()}{year}年度")
    rows = t.dicts()
    overall, parts = rows[-1], rows[:-1]
    line = f"{scope.label()}{year}年度{f.label}合计：{amount(f, overall['total'])}"
    if overall["filled"] < overall["reports"]:
        line += f"（{count(overall['reports'])} 份报告中 {count(overall['filled'])} 份填报此项）"
    single = len(parts) == 1 and parts[0]["group"] == scope.label()
    items = [] if single else [
        f"{p['group']}：{amount(f, p['total'])}（{count(p['reports'])} 份报告）" for p in ctx.page(parts)]
    return ctx.answer(t.title, summary=[line], items=items, total=0 if single else len(parts), basis=t.basis,
                      table=t)


def _overview(ctx: _Context, scope: Scope, year: int) -> Answer:
    lines = []
    reports = 0
    for key in OVERVIEW_FIGURES:
        f = figure(key)
        t = api.totals(ctx.conn, key, year, scope, by=None)
        reports = t.reports or 0
        if not reports:
            return _no_reports(ctx, f"{scope.label()}{year}年度")
        lines.append(f"{f.label}：{amount(f, t.rows[0][3] if t.rows else None)}")
    return ctx.answer(f"{year}年度{scope.label()}主要数据（合计）", summary=lines,
                      basis=f"按已收录的 {reports:,} 份报告统计", paged=False)


def _scope_history(ctx: _Context, scope: Scope) -> Answer:
    from bot.ask.queries import report_years

    f = _figure(ctx)
    years = report_years(ctx.conn, scope)
    if not years:
        return _no_reports(ctx, scope.label())
    items = []
    reports = 0
    for y in years:
        t = api.totals(ctx.conn, f.key, y, scope, by=None)
        reports += t.reports or 0
        items.append(f"{y} 年度：{amount(f, t.rows[0][3] if t.rows else None)}（{count(t.reports or 0)} 份报告）")
    return ctx.answer(f"{scope.label()}历年{f.label}合计", items=ctx.page(items), total=len(items),
                      basis=f"按已收录的 {reports:,} 份报告统计")


def _late_or_missing(ctx: _Context, scope: Scope, year: int) -> Answer:
    kind = ctx.intent.kind
    t = api.findings(ctx.conn, year, scope, kinds=(kind,), states=_STATES[kind], limit=ctx.limit,
                     offset=ctx.offset)
    items = []
    for i, r in enumerate(t.dicts()):
        what = f"逾期 {count(r['days_late'])} 天" if r["days_late"] else r["rule"]
        if r["state"] not in ("待处理",):
            what += f"（{r['state']}）"
        items.append(f"{ctx.offset + i + 1}. {where(r['agency'], r['region'])}：{what}")
    summary = [f"共 {count(t.total)} 个{KIND_NAMES[kind]}的报告" if kind == "late"
               else f"共 {count(t.total)} 个单位未发布报告或站点无法访问"] if t.total else \
        [f"没有{KIND_NAMES[kind]}的记录"]
    return ctx.answer(t.title, summary=summary, items=items, total=t.total, basis=t.basis, table=t)


def _inconsistent(ctx: _Context, scope: Scope, year: int) -> Answer:
    t = api.inconsistent_agencies(ctx.conn, year, scope, limit=ctx.limit, offset=ctx.offset)
    items = [f"{ctx.offset + i + 1}. {where(r['agency'], r['region'])}："
             f"{count(r['count'])} 个问题，如{r['example']}" for i, r in enumerate(t.dicts())]
    summary = [f"共 {count(t.total)} 个单位的报告数据不一致（待处理）"] if t.total else ["没有数据不一致的待处理问题"]
    return ctx.answer(t.title, summary=summary, items=items, total=t.total, basis=t.basis, table=t)


def _findings(ctx: _Context, scope: Scope, year: int) -> Answer:
    t = api.findings(ctx.conn, year, scope, states=_STATES["findings"], limit=ctx.limit, offset=ctx.offset)
    items = [f"{ctx.offset + i + 1}. {where(r['agency'], r['region'])}：{r['rule']}（{r['severity']}）"
             for i, r in enumerate(t.dicts())]
    summary = [f"共 {count(t.total)} 个待处理问题"] if t.total else ["没有待处理的问题"]
    return ctx.answer(t.title, summary=summary, items=items, total=t.total, basis=t.basis, table=t)


def _reports(ctx: _Context, scope: Scope, year: int) -> Answer:
    t = api.report_figures(ctx.conn, year, scope, figures=(APPLICATIONS,))
    rows = t.dicts()
    items = [f"{ctx.offset + i + 1}. {where(r['agency'], r['region'])}："
             f"{r['published'].isoformat() + ' 发布' if r['published'] else '发布日期未知'}"
             for i, r in enumerate(ctx.page(rows))]
    summary = [f"{scope.label()}{year}年度共收录 {count(len(rows))} 份报告"]
    return ctx.answer(f"{year}年度{scope.label()}已收录的报告", summary=summary, items=items, total=len(rows),
                      basis=t.basis, table=t)


# ---- one agency -------------------------------------------------------------------------------


def _agency(ctx: _Context, agency: AgencyRef) -> Answer:
    kind = ctx.intent.kind
    if kind in ("late", "missing", "inconsistent", "findings"):
        return _agency_findings(ctx, agency)
    year = ctx.year = None if kind == "history" else ctx.intent.year_for(ctx.today)
    if kind == "overview" or (kind == "history" and not ctx.intent.figure):
        keys: tuple[str, ...] = KEY_FIGURES if year is not None else YEAR_LINE_FIGURES
    else:
        keys = (_figure(ctx).key,)
    t = api.agency_figures(ctx.conn, agency, [year] if year is not None else None, keys)
    span = f"{year}年度" if year is not None else ""
    if not t.rows:
        answer = _no_reports(ctx, f"{agency.name}{span}")
        answer.summary = _known_missing(ctx, agency, year)
        return answer
    rows = t.dicts()
    fs = [figure(k) for k in keys]
    if len(keys) == 1 and year is not None:
        r = rows[0]
        line = f"{agency.name}{year}年度{fs[0].label}：{amount(fs[0], r[keys[0]])}"
        notes = [f"报告发布日期：{r['published'].isoformat()}"] if r["published"] else []
        return ctx.answer(line, summary=notes, basis=t.basis, table=t, paged=False)
    if year is not None:  # one year, the key figures
        r = rows[0]
        lines = [f"{f.label}：{amount(f, r[f.key])}" for f in fs]
        if r["published"]:
            lines.append(f"报告发布日期：{r['published'].isoformat()}")
        lines.append(f"待处理问题：{count(r['open_findings'])} 个")
        return ctx.answer(t.title, summary=lines, basis=t.basis, table=t, paged=False)
    # Every year: one line a year, newest first.
    items = []
    for r in reversed(rows):
        values = ("；".join(f"{f.label} {amount(f, r[f.key])}" for f in fs) if len(fs) > 1
                  else amount(fs[0], r[fs[0].key]))
        published = f"（{r['published'].isoformat()} 发布）" if r["published"] and len(fs) > 1 else ""
        items.append(f"{r['year']} 年度{published}：{values}")
    title = f"{agency.name}历年{fs[0].label}" if len(fs) == 1 else t.title
    return ctx.answer(title, items=ctx.page(items), total=len(items), basis=t.basis, table=t)


def _known_missing(ctx: _Context, agency: AgencyRef, year: int | None) -> list[str]:
    """What the compliance sweep found about an agency's report that is not stored: 未发布年度报告 …"""
    wanted = {rule_name(r) for r in COMPLIANCE_KINDS["missing"]}
    rows = [r for r in api.agency_history(ctx.conn, agency).dicts()
            if r["rule"] in wanted and (year is None or r["year"] == year)]
    return [f"{r['year']} 年度：{r['rule']}（{r['state']}）" for r in rows]


def _agency_findings(ctx: _Context, agency: AgencyRef) -> Answer:
    kind = ctx.intent.kind
    year = ctx.year = ctx.intent.year_for(ctx.today)
    t = api.agency_history(ctx.conn, agency)
    wanted = None if kind == "findings" else {rule_name(r) for r in COMPLIANCE_KINDS[kind]}
    rows = [r for r in t.dicts()
            if (year is None or r["year"] == year) and (wanted is None or r["rule"] in wanted)]
    what = "合规问题" if kind == "findings" else KIND_NAMES[kind]
    span = f"{year}年度" if year is not None else "历年"
    title = f"{agency.name}{span}{what}"
    if not rows:
        return ctx.answer(title, summary=[f"没有{what}的记录"], basis=t.basis, table=t, paged=False)
    items = [f"{r['year']} 年度 {r['rule']}（{r['state']}）：{r['message']}" for r in ctx.page(rows)]
    return ctx.answer(title, summary=[f"共 {count(len(rows))} 条记录"], items=items, total=len(rows),
                      basis=t.basis, table=t)


# ---- fitting a page into one message ------------------------------------------------------------


def fit(answer: Answer, max_chars: int) -> Answer:
    """The answer with no more of its lines than fit in `max_chars` characters of HTML: the others
    move to the next page (next_offset follows). A single line longer than a message on its own is
    shortened, the only case where anything is left out. Characters count as Telegram counts them,
    in UTF-16 code units (an emoji or a character of CJK Extension B is two)."""
    from bot.ask.render import to_html

    def size(a: Answer) -> int:
        return len(to_html(a).encode("utf-16-le", "surrogatepass")) // 2

    while len(answer.items) > 1 and size(answer) > max_chars:
        answer.items = answer.items[:-1]
    while size(answer) > max_chars:
        texts = answer.items + answer.summary + [answer.title]
        target = max(texts, key=len)
        if len(target) <= 1:
            break
        excess = size(answer) - max_chars
        short = target[: max(1, len(target) - max(excess, 1) - 1)] + "…"
        if target in answer.items:
            answer.items[answer.items.index(target)] = short
        elif target in answer.summary:
            answer.summary[answer.summary.index(target)] = short
        else:
            answer.title = short
    return answer
