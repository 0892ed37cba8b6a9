"""The query layer: every question the CLI (`xxgk query`, `xxgk export`) and the bot answer.

Pure reads over a Connection; every answer is a :class:`Table` (columns with Chinese labels, rows of
plain values) that says how many reports it counts, so a supervisor knows what it leaves out
(「按已收录的 N 份报告统计」). Figures are read from report_figure, one row per report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from checks.model import CST
from db.models import (
    SEVERITIES,
    Agency,
    Document,
    Region,
    Report,
    TrackedFinding,
    report_figure,
)
from query.fields import Figure, figure
from query.scope import LEVEL_NAMES, AgencyRef, RegionRef, in_region

ColumnKind = Literal["text", "id", "int", "number", "date"]  # id: an integer shown as is (年度, 编号)

_A: sa.Table = Agency.__table__  # type: ignore[attr-defined]
_R: sa.Table = Report.__table__  # type: ignore[attr-defined]
_D: sa.Table = Document.__table__  # type: ignore[attr-defined]
_TF: sa.Table = TrackedFinding.__table__  # type: ignore[attr-defined]
_REG: sa.Table = Region.__table__  # type: ignore[attr-defined]
_F = report_figure

# The figures a supervisor reads first: the workbook's key-figure sheet and an agency's overview.
KEY_FIGURES: tuple[str, ...] = (
    "applications.new.total", "applications.carried_over.total", "applications.disclosed.total",
    "applications.partially_disclosed.total", "withheld.total", "applications.handled_total.total",
    "applications.carried_forward.total", "review_litigation.review.total", "litigation.total",
    "proactive.licensing.decisions", "proactive.punishment.decisions", "proactive.fees.amount_wan_yuan",
)

STATE_NAMES = {"open": "待处理", "resolved": "已解决", "acknowledged": "已确认", "false_positive": "误报"}
SEVERITY_NAMES = {"error": "错误", "warning": "警告", "info": "提示"}

# What a supervisor calls late, missing and inconsistent, as rule codes.
COMPLIANCE_KINDS: dict[str, tuple[str, ...]] = {
    "late": ("late",),
    "missing": ("missing_report", "site_unreachable"),
    "inconsistent": ("balance", "row_total", "handled_total", "review_total", "text_table_mismatch",
                     "carryover_mismatch", "conflicting_copies"),
}
KIND_NAMES = {"late": "逾期发布", "missing": "未发布", "inconsistent": "数据不一致"}


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    kind: ColumnKind = "text"


@dataclass(slots=True)
class Table:
    """An answer: a title, labelled columns and rows of plain values (str, int, float, date, None).

    `total`: rows matching before `limit`/`offset`; `reports`: the stored reports the answer counts.
    """

    title: str
    columns: tuple[Column, ...]
    rows: list[tuple[Any, ...]]
    total: int
    reports: int | None = None
    notes: list[str] = field(default_factory=list)

    def dicts(self) -> list[dict[str, Any]]:
        keys = [c.key for c in self.columns]
        return [dict(zip(keys, row, strict=True)) for row in self.rows]

    @property
    def basis(self) -> str | None:
        """「按已收录的 N 份报告统计」, or None when the answer counts no reports."""
        return None if self.reports is None else f"按已收录的 {self.reports:,} 份报告统计"


@dataclass(frozen=True, slots=True)
class Scope:
    """Which agencies an answer covers: a region subtree, a level, or all (None)."""

    region: RegionRef | None = None
    level: str | None = None

    def label(self) -> str:
        parts = [self.region.name if self.region else "全部地区"]
        if self.level:
            parts.append(LEVEL_NAMES.get(self.level, self.level))
        return "".join(parts) if len(parts) == 1 else f"{parts[0]}（{parts[1]}）"

    def where(self, conn: Connection) -> list[Any]:
        conditions = []
        if self.region is not None:
            conditions.append(in_region(_A.c.region_code, self.region.prefix, conn.dialect.name))
        if self.level is not None:
            conditions.append(_A.c.level == self.level)
        return conditions


ALL = Scope()


def figure_expr(f: Figure) -> Any:
    """The SQL value of a figure on report_figure: a column, or the sum of its parts (NULL only when
    every part is blank)."""
    if f.stored:
        return _F.c[f.column]
    parts = [_F.c[figure(p).column] for p in f.parts]
    all_blank = sa.and_(*(p.is_(None) for p in parts))
    total = sum((sa.func.coalesce(p, 0) for p in parts[1:]), sa.func.coalesce(parts[0], 0))
    return sa.case((all_blank, sa.null()), else_=total)


def _kind(f: Figure) -> ColumnKind:
    return "number" if f.unit == "万元" else "int"


def _value(f: Figure, value: Any) -> int | float | None:
    if value is None:
        return None
    return float(value) if f.unit == "万元" else int(round(value))


def _count_reports(conn: Connection, year: int | None, scope: Scope) -> int:
    stmt = sa.select(sa.func.count()).select_from(_F).where(*_figure_scope(conn, scope))
    if year is not None:
        stmt = stmt.where(_in_year(year, scope))
    return int(conn.execute(stmt).scalar_one())


def _in_year(year: int, scope: Scope) -> Any:
    """report_figure rows of `year`. Within a region the year is written so that no index can use
    it (``year + 0``): SQLite's planner then starts from the region's agencies (the region index)
    and reads their rows by (agency_id, year), instead of scanning the whole country's year and
    dropping what lies outside the region, which it otherwise prefers."""
    if scope.region is not None:
        return (_F.c.year + 0) == year
    return _F.c.year == year


def _figure_scope(conn: Connection, scope: Scope) -> list[Any]:
    """report_figure rows of the scope's agencies. Everything: no condition. A region: its
    agencies first (the region index), then their rows. A level alone: the level each row carries
    (its agency's, revision 0009), which every figure's covering index holds right after the year:
    a national question by level never looks an agency up (a hot figure's ranking still walks the
    figure's own index in order, and stops at the page's end)."""
    if scope.region is not None:
        return [_F.c.agency_id.in_(sa.select(_A.c.id).where(*scope.where(conn)))]
    if scope.level is not None:
        return [_F.c.level == scope.level]
    return []


# ---- rankings ------------------------------------------------------------------------------


def ranking(conn: Connection, figure_key: str, year: int, scope: Scope = ALL, *, positive: bool = False,
            ascending: bool = False, limit: int | None = 50, offset: int = 0) -> Table:
    """The agencies of `scope` by one figure on `year`, largest first (or smallest: `ascending`),
    ties in (reverse) registry order; `positive` keeps only those above zero (which agencies received
    applications). The page is found on report_figure alone and only its rows are joined to
    their agencies."""
    f = figure(figure_key)
    value = figure_expr(f)
    conditions = [_in_year(year, scope), value > 0 if positive else value.is_not(None), *_figure_scope(conn, scope)]
    total = conn.execute(sa.select(sa.func.count()).select_from(_F).where(*conditions)).scalar_one()
    # Ties follow the value's direction, so that an index on (year, figure, agency_id) serves the
    # whole ORDER BY read forwards or backwards.
    order = (value.asc(), _F.c.agency_id.asc()) if ascending else (value.desc(), _F.c.agency_id.desc())
    page = (sa.select(_F.c.agency_id, value.label("value")).where(*conditions)
            .order_by(*order).limit(limit).offset(offset).subquery())
    page_order = ((page.c.value.asc(), page.c.agency_id.asc()) if ascending
                  else (page.c.value.desc(), page.c.agency_id.desc()))
    rows = conn.execute(
        sa.select(_A.c.id, _A.c.name, _A.c.region_name, _A.c.level, page.c.value)
        .select_from(page.join(_A, _A.c.id == page.c.agency_id)).order_by(*page_order)
    ).all()
    what = f"{f.label}（{f.unit}）"
    title = (f"{year}年度{scope.label()}{f.label}大于零的单位" if positive
             else f"{year}年度{scope.label()}{f.label}{'最少' if ascending else '最多'}的单位")
    return Table(
        title,
        (Column("rank", "排名", "int"), Column("agency", "单位"), Column("region", "地区"),
         Column("level", "层级"), Column("value", what, _kind(f)), Column("agency_id", "单位编号", "id")),
        [(offset + i + 1, r.name, r.region_name, LEVEL_NAMES.get(r.level or "", r.level), _value(f, r.value), r.id)
         for i, r in enumerate(rows)],
        total,
        reports=_count_reports(conn, year, scope),
    )


def received(conn: Connection, year: int, scope: Scope = ALL, **kwargs: Any) -> Table:
    """Which agencies received applications on `year` (本年新收申请 > 0), with their counts."""
    return ranking(conn, "applications.new.total", year, scope, positive=True, **kwargs)


# ---- totals by region and level ----------------------------------------------------------------


def _child_prefix_length(scope: Scope) -> int | None:
    """The code prefix length of the regions one level below the scope (None below a county)."""
    current = len(scope.region.prefix) if scope.region else 0
    for length in (2, 4, 6):
        if length > current:
            return length
    return None


def totals(conn: Connection, figure_key: str, year: int, scope: Scope = ALL,
           by: Literal["region", "level", None] = "region") -> Table:
    """The sum of a figure over `scope` on `year`, broken down by the regions one level below the
    scope (provinces of the country, cities of a province …; the agencies of a county) or by level;
    the last row is the total. Also the number of reports and how many left the figure blank."""
    f = figure(figure_key)
    value = figure_expr(f)
    length = _child_prefix_length(scope) if by == "region" else None
    aggregates = (sa.func.count().label("reports"), sa.func.count(value).label("filled"),
                  sa.func.sum(value).label("total"), sa.func.max(value).label("largest"))
    if scope.region is not None:
        # A region's agencies first (the region index), then their rows, grouped on the agencies'
        # columns (by name below a county).
        group = (_A.c.name if by == "region" and length is None
                 else _group(by, length, _A.c.region_code, _A.c.level))
        stmt = (sa.select(group.label("grp"), *aggregates)
                .select_from(_F.join(_A, _A.c.id == _F.c.agency_id))
                .where(_in_year(year, scope), *scope.where(conn)).group_by(group))
    else:
        # The whole country, or a level: by level and region code first, as a year's rows come in
        # the covering index that holds the figure, (year, level, region_code, agency_id, figures …):
        # no agency looked up, no sort of a year's rows; then the few groups by what was asked.
        inner = (sa.select(_F.c.level, _F.c.region_code, *aggregates)
                 .where(_in_year(year, scope), *_figure_scope(conn, scope))
                 .group_by(_F.c.level, _F.c.region_code).subquery())
        group = _group(by, length, inner.c.region_code, inner.c.level)
        stmt = (sa.select(group.label("grp"),
                          sa.cast(sa.func.sum(inner.c.reports), sa.Integer).label("reports"),
                          sa.cast(sa.func.sum(inner.c.filled), sa.Integer).label("filled"),
                          sa.func.sum(inner.c.total).label("total"),
                          sa.func.max(inner.c.largest).label("largest"))
                .group_by(group))
    rows = conn.execute(stmt).all()
    names = _region_names(conn, [r.grp for r in rows if r.grp]) if by == "region" and length else {}

    def label(grp: Any) -> str:
        if by == "level":
            return LEVEL_NAMES.get(grp or "", grp or "未知层级")
        if by == "region" and length:
            return names.get(grp, grp or "未知地区")
        return grp or scope.label()

    out = sorted(((label(r.grp), r.reports, r.filled, _value(f, r.total), _value(f, r.largest)) for r in rows),
                 key=lambda t: (-(t[3] or 0), t[0]))
    reports = sum(r.reports for r in rows)
    if by is not None:
        out.append(("合计", reports, sum(r.filled for r in rows),
                    _value(f, sum(r.total or 0 for r in rows)) if any(r.total is not None for r in rows) else None,
                    _value(f, max((r.largest for r in rows if r.largest is not None), default=None))))
    group_label = {"region": "地区" if length else "单位", "level": "层级", None: "范围"}[by]
    return Table(
        f"{year}年度{scope.label()}{f.label}合计",
        (Column("group", group_label), Column("reports", "报告数", "int"), Column("filled", "填报数", "int"),
         Column("total", f"{f.label}合计（{f.unit}）", _kind(f)), Column("largest", "单个最大值", _kind(f))),
        out, len(out), reports=reports,
    )


def _group(by: str | None, length: int | None, region_code: Any, level: Any) -> Any:
    """What totals() groups by: the code prefix of the regions one level down, the level, or nothing."""
    if by == "region":
        return sa.func.substr(region_code, 1, length)
    if by == "level":
        return level
    return sa.literal("")


def _region_names(conn: Connection, prefixes: Iterable[str]) -> dict[str, str]:
    """Names of regions by code prefix (33 → 浙江省, 3302 → 宁波市)."""
    codes = {p: p.ljust(6, "0") if len(p) < 6 else p for p in prefixes}
    found = dict(conn.execute(sa.select(_REG.c.code, _REG.c.name).where(_REG.c.code.in_(set(codes.values())))).all())
    return {p: found.get(c, c) for p, c in codes.items()}


# ---- one agency -------------------------------------------------------------------------------


def agency_figures(conn: Connection, agency: AgencyRef, years: Sequence[int] | None = None,
                   figures: Sequence[str] = KEY_FIGURES) -> Table:
    """An agency's figures by year (all its years by default), with the publication date and the
    open findings of each year."""
    fs = [figure(k) for k in figures]
    stmt = (sa.select(_F.c.year, _D.c.published_at, _D.c.url, *(figure_expr(f).label(f"f{i}") for i, f in enumerate(fs)))
            .select_from(_F.join(_R, _R.c.id == _F.c.report_id).join(_D, _D.c.id == _R.c.document_id))
            .where(_F.c.agency_id == agency.id).order_by(_F.c.year))
    if years:
        stmt = stmt.where(_F.c.year.in_(list(years)))
    rows = conn.execute(stmt).all()
    open_counts = dict(conn.execute(
        sa.select(_TF.c.year, sa.func.count()).where(_TF.c.agency_id == agency.id, _TF.c.state == "open")
        .group_by(_TF.c.year)).all())
    out = []
    for r in rows:
        published = r.published_at.astimezone(CST).date() if r.published_at else None
        out.append((r.year, *(_value(f, getattr(r, f"f{i}")) for i, f in enumerate(fs)), published,
                    open_counts.get(r.year, 0), r.url))
    span = f"{years[0]}年度" if years and len(years) == 1 else "历年"
    return Table(
        f"{agency.name}{span}主要数据",
        (Column("year", "年度", "id"), *(Column(f.key, f"{f.label}（{f.unit}）", _kind(f)) for f in fs),
         Column("published", "发布日期", "date"), Column("open_findings", "待处理问题", "int"), Column("url", "报告链接")),
        out, len(out), reports=len(out),
    )


def agency_history(conn: Connection, agency: AgencyRef) -> Table:
    """An agency's compliance history: every tracked finding of every year, with its state."""
    rows = conn.execute(
        sa.select(_TF.c.id, _TF.c.year, _TF.c.rule, _TF.c.severity, _TF.c.state, _TF.c.message, _TF.c.opened_at,
                  _TF.c.resolved_at, _TF.c.note)
        .where(_TF.c.agency_id == agency.id).order_by(_TF.c.year.desc(), _TF.c.opened_at, _TF.c.id)).all()
    reports = conn.execute(sa.select(sa.func.count()).where(_F.c.agency_id == agency.id)).scalar_one()
    return Table(
        f"{agency.name}历年合规情况",
        (Column("id", "编号", "id"), Column("year", "年度", "id"), Column("rule", "问题"),
         Column("severity", "程度"), Column("state", "状态"), Column("message", "说明"),
         Column("opened", "发现日期", "date"), Column("resolved", "解决日期", "date"), Column("note", "备注")),
        [(r.id, r.year, rule_name(r.rule), SEVERITY_NAMES.get(r.severity, r.severity), STATE_NAMES.get(r.state, r.state),
          r.message, _day(r.opened_at), _day(r.resolved_at), r.note) for r in rows],
        len(rows), reports=reports,
    )


def _day(value: datetime | None) -> date | None:
    return value.astimezone(CST).date() if value is not None else None


def rule_name(rule: str) -> str:
    from compliance.alerts import RULE_NAMES

    return RULE_NAMES.get(rule, rule)


# ---- compliance --------------------------------------------------------------------------------


def _finding_scope(conn: Connection, scope: Scope) -> list[Any]:
    """tracked_finding rows of the scope's agencies. A region: its agencies first (the region index),
    then their findings by agency (0.3 ms for a city where reading the year's findings and looking
    up each one's agency takes 90 ms on the national store). A level alone: on the joined agency."""
    if scope.region is not None:
        return [_TF.c.agency_id.in_(sa.select(_A.c.id).where(*scope.where(conn)))]
    return scope.where(conn)


def findings(conn: Connection, year: int | None, scope: Scope = ALL, *, kinds: Sequence[str] = (),
             rules: Sequence[str] = (), states: Sequence[str] = ("open",), min_severity: str | None = None,
             limit: int | None = 200, offset: int = 0) -> Table:
    """Tracked findings of `year` (None: every year) in `scope`: late, missing and inconsistent
    reports (`kinds`, see COMPLIANCE_KINDS) or any `rules`; by default only the open ones."""
    conditions = [*_finding_scope(conn, scope)]
    if year is not None:
        conditions.append(_TF.c.year == year)
    wanted = [r for k in kinds for r in COMPLIANCE_KINDS[k]] + list(rules)
    if wanted:
        conditions.append(_TF.c.rule.in_(wanted))
    if states:
        conditions.append(_TF.c.state.in_(list(states)))
    if min_severity is not None:
        conditions.append(_TF.c.severity.in_(SEVERITIES[: SEVERITIES.index(min_severity) + 1]))
    base = (sa.select(_TF.c.id, _TF.c.year, _TF.c.rule, _TF.c.severity, _TF.c.state, _TF.c.message,
                      _TF.c.opened_at, _TF.c.resolved_at, _TF.c.evidence, _A.c.name, _A.c.region_name, _A.c.level)
            .select_from(_TF.join(_A, _A.c.id == _TF.c.agency_id)).where(*conditions))
    total = conn.execute(sa.select(sa.func.count()).select_from(base.subquery())).scalar_one()
    severity_order = sa.case({s: i for i, s in enumerate(SEVERITIES)}, value=_TF.c.severity)
    rows = conn.execute(base.order_by(_TF.c.year.desc(), severity_order, _A.c.region_code, _A.c.name, _TF.c.id)
                        .limit(limit).offset(offset)).all()
    what = "、".join(KIND_NAMES[k] for k in kinds) if kinds else "问题"
    return Table(
        f"{f'{year}年度' if year else '历年'}{scope.label()}{what}",
        (Column("id", "编号", "id"), Column("agency", "单位"), Column("region", "地区"), Column("level", "层级"),
         Column("year", "年度", "id"), Column("rule", "问题"), Column("severity", "程度"), Column("state", "状态"),
         Column("days_late", "逾期天数", "int"), Column("message", "说明"), Column("opened", "发现日期", "date"),
         Column("resolved", "解决日期", "date")),
        [(r.id, r.name, r.region_name, LEVEL_NAMES.get(r.level or "", r.level), r.year, rule_name(r.rule),
          SEVERITY_NAMES.get(r.severity, r.severity), STATE_NAMES.get(r.state, r.state),
          (r.evidence or {}).get("days_late") if r.rule == "late" else None, r.message, _day(r.opened_at),
          _day(r.resolved_at)) for r in rows],
        total,
        reports=_count_reports(conn, year, scope),
    )


def inconsistent_agencies(conn: Connection, year: int, scope: Scope = ALL, *, limit: int | None = 200,
                          offset: int = 0) -> Table:
    """Which agencies' reports on `year` have open inconsistencies (哪些单位数据不一致), with how many."""
    rules = COMPLIANCE_KINDS["inconsistent"]
    # Counted and grouped on tracked_finding alone (the agency joined only for a level), then the
    # groups joined to their agencies: 48 ms instead of 79 nationally.
    conditions = [_TF.c.year == year, _TF.c.state == "open", _TF.c.rule.in_(rules),
                  *_finding_scope(conn, scope)]
    by_level = scope.region is None and scope.level is not None
    source = _TF.join(_A, _A.c.id == _TF.c.agency_id) if by_level else _TF
    total = conn.execute(sa.select(sa.func.count(sa.distinct(_TF.c.agency_id))).select_from(source)
                         .where(*conditions)).scalar_one()
    groups = (sa.select(_TF.c.agency_id, sa.func.count().label("n"), sa.func.min(_TF.c.rule).label("rule"))
              .select_from(source).where(*conditions).group_by(_TF.c.agency_id).subquery())
    rows = conn.execute(sa.select(_A.c.id, _A.c.name, _A.c.region_name, groups.c.n, groups.c.rule)
                        .select_from(groups.join(_A, _A.c.id == groups.c.agency_id))
                        .order_by(groups.c.n.desc(), _A.c.name).limit(limit).offset(offset)).all()
    return Table(
        f"{year}年度{scope.label()}数据不一致的单位",
        (Column("agency", "单位"), Column("region", "地区"), Column("count", "问题数", "int"),
         Column("example", "问题举例"), Column("agency_id", "单位编号", "id")),
        [(r.name, r.region_name, r.n, rule_name(r.rule), r.id) for r in rows],
        total, reports=_count_reports(conn, year, scope),
    )


# ---- every report of a year (the workbook's first sheet) ----------------------------------------


def report_figures(conn: Connection, year: int, scope: Scope = ALL,
                   figures: Sequence[str] = KEY_FIGURES) -> Table:
    """Every stored report on `year` in `scope` with its key figures, publication date, link and
    open findings, ordered by region and name."""
    fs = [figure(k) for k in figures]
    open_findings = (sa.select(_TF.c.agency_id, sa.func.count().label("n"))
                     .where(_TF.c.year == year, _TF.c.state == "open").group_by(_TF.c.agency_id).subquery())
    stmt = (sa.select(_A.c.name, _A.c.region_code, _A.c.region_name, _A.c.level, _R.c.template, _D.c.published_at,
                      _D.c.url, sa.func.coalesce(open_findings.c.n, 0).label("open"),
                      *(figure_expr(f).label(f"f{i}") for i, f in enumerate(fs)))
            .select_from(_F.join(_A, _A.c.id == _F.c.agency_id).join(_R, _R.c.id == _F.c.report_id)
                         .join(_D, _D.c.id == _R.c.document_id)
                         .outerjoin(open_findings, open_findings.c.agency_id == _F.c.agency_id))
            .where(_in_year(year, scope), *scope.where(conn)).order_by(_A.c.region_code.nulls_first(), _A.c.name))
    rows = []
    for r in conn.execute(stmt):
        published = r.published_at.astimezone(CST).date() if r.published_at else None
        rows.append((r.name, r.region_name, r.region_code, LEVEL_NAMES.get(r.level or "", r.level),
                     *(_value(f, getattr(r, f"f{i}")) for i, f in enumerate(fs)),
                     published, r.template, r.open, r.url))
    return Table(
        f"{year}年度{scope.label()}报告主要数据",
        (Column("agency", "单位"), Column("region", "地区"), Column("region_code", "地区代码"), Column("level", "层级"),
         *(Column(f.key, f"{f.label}（{f.unit}）", _kind(f)) for f in fs),
         Column("published", "发布日期", "date"), Column("template", "模板"),
         Column("open_findings", "待处理问题", "int"), Column("url", "报告链接")),
        rows, len(rows), reports=len(rows),
    )


# ---- late and missing reports, with their dates (the workbook's third sheet) ----------------------


def _iso_day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def late_and_missing(conn: Connection, year: int, scope: Scope = ALL, *,
                     states: Sequence[str] = ("open", "acknowledged"), limit: int | None = None,
                     offset: int = 0) -> Table:
    """The late and missing reports of `year` in `scope` (COMPLIANCE_KINDS late and missing), as
    :func:`findings` with what their evidence holds: the deadline, the publication date, the days
    late, the report's link, the agency's site. Missing (未发布, 站点无法访问) first, then late;
    each by region and name."""
    rules = (*COMPLIANCE_KINDS["missing"], *COMPLIANCE_KINDS["late"])
    conditions = [_TF.c.year == year, _TF.c.rule.in_(rules), *_finding_scope(conn, scope)]
    if states:
        conditions.append(_TF.c.state.in_(list(states)))
    base = (sa.select(_TF.c.id, _TF.c.rule, _TF.c.severity, _TF.c.state, _TF.c.message, _TF.c.opened_at,
                      _TF.c.evidence, _A.c.name, _A.c.region_name, _A.c.level, _A.c.site)
            .select_from(_TF.join(_A, _A.c.id == _TF.c.agency_id)).where(*conditions))
    total = conn.execute(sa.select(sa.func.count()).select_from(base.subquery())).scalar_one()
    rule_order = sa.case({r: i for i, r in enumerate(rules)}, value=_TF.c.rule)
    rows = conn.execute(base.order_by(rule_order, _A.c.region_code.nulls_first(), _A.c.name, _TF.c.id)
                        .limit(limit).offset(offset)).all()
    out = []
    for r in rows:
        evidence = r.evidence or {}
        out.append((r.id, r.name, r.region_name, LEVEL_NAMES.get(r.level or "", r.level), rule_name(r.rule),
                    SEVERITY_NAMES.get(r.severity, r.severity), STATE_NAMES.get(r.state, r.state),
                    _iso_day(evidence.get("deadline")), _iso_day(evidence.get("published")),
                    evidence.get("days_late") if r.rule == "late" else None, r.message, _day(r.opened_at),
                    evidence.get("site") or r.site, evidence.get("url")))
    return Table(
        f"{year}年度{scope.label()}{KIND_NAMES['late']}、{KIND_NAMES['missing']}",
        (Column("id", "编号", "int"), Column("agency", "单位"), Column("region", "地区"), Column("level", "层级"),
         Column("rule", "问题"), Column("severity", "程度"), Column("state", "状态"),
         Column("deadline", "法定期限", "date"), Column("published", "发布日期", "date"),
         Column("days_late", "逾期天数", "int"), Column("message", "说明"), Column("opened", "发现日期", "date"),
         Column("site", "站点"), Column("url", "报告链接")),
        out, total, reports=_count_reports(conn, year, scope),
    )
