"""The few reads the question engine needs that query.api does not offer (yet): which agencies
received none of something, which years a scope has reports for, the default year, the regions a
name may mean, and names to put in example questions. Pure reads over a Connection."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from db.models import Agency, Region, report_figure
from query.api import Column, Scope, Table, figure_expr, totals
from query.fields import figure
from query.scope import LEVEL_NAMES

_A: sa.Table = Agency.__table__  # type: ignore[attr-defined]
_REG: sa.Table = Region.__table__  # type: ignore[attr-defined]
_F = report_figure


def none_received(conn: Connection, figure_key: str, year: int, scope: Scope, *, limit: int | None = 50,
                  offset: int = 0) -> Table:
    """The agencies of `scope` whose report on `year` gives zero for a figure (哪些单位没有收到申请);
    a blank figure is not zero and is left out. Ordered by region and name."""
    f = figure(figure_key)
    value = figure_expr(f)
    base = (sa.select(_A.c.id, _A.c.name, _A.c.region_name, _A.c.level)
            .select_from(_F.join(_A, _A.c.id == _F.c.agency_id))
            .where(_F.c.year == year, value == 0, *scope.where(conn)))
    total = conn.execute(sa.select(sa.func.count()).select_from(base.subquery())).scalar_one()
    rows = conn.execute(base.order_by(_A.c.region_code, _A.c.name).limit(limit).offset(offset)).all()
    reports = totals(conn, figure_key, year, scope, by=None).reports
    return Table(
        f"{year}年度{scope.label()}{f.label}为零的单位",
        (Column("agency", "单位"), Column("region", "地区"), Column("level", "层级"),
         Column("agency_id", "单位编号", "id")),
        [(r.name, r.region_name, LEVEL_NAMES.get(r.level or "", r.level), r.id) for r in rows],
        total, reports=reports,
    )


def report_years(conn: Connection, scope: Scope) -> list[int]:
    """The years `scope` has stored reports for, oldest first."""
    stmt = (sa.select(_F.c.year).select_from(_F.join(_A, _A.c.id == _F.c.agency_id))
            .where(*scope.where(conn)).distinct().order_by(_F.c.year))
    return [int(y) for y in conn.execute(stmt).scalars()]


def latest_year(conn: Connection, today: date) -> int | None:
    """The year a question without one is about: the latest report year before `today`'s (reports
    on a year are published the next spring), or failing that the latest stored."""
    before = conn.execute(sa.select(sa.func.max(_F.c.year)).where(_F.c.year < today.year)).scalar()
    if before is not None:
        return int(before)
    latest = conn.execute(sa.select(sa.func.max(_F.c.year))).scalar()
    return int(latest) if latest is not None else None


_SUFFIXES = ("市", "省", "县", "区", "自治区", "自治州", "自治县", "旗")


def region_candidates(conn: Connection, text: str, *, limit: int = 8) -> list[tuple[str, str]]:
    """(code, label) of the regions a name may mean when it means several (朝阳区: 北京市朝阳区,
    长春市朝阳区), the label naming the enclosing regions."""
    names = [text, *(text + s for s in _SUFFIXES)]
    rows = conn.execute(sa.select(_REG.c.code, _REG.c.name).where(_REG.c.name.in_(names))
                        .order_by(_REG.c.code).limit(limit)).all()
    out = []
    for code, name in rows:
        out.append((code, _region_path(conn, code) or name))
    return out


def _region_path(conn: Connection, code: str) -> str | None:
    """浙江省宁波市镇海区 for 330211, from the region table (the agencies' region names failing it)."""
    from compliance.regions import parent_code

    parts: list[str] = []
    current: str | None = code
    while current:
        name = conn.execute(sa.select(_REG.c.name).where(_REG.c.code == current)).scalar()
        if name and not name.isdigit():
            parts.append(name)
        current = parent_code(current)
    return "".join(reversed(parts)) or None


# sample_names per (store, year, stamp): its query reads every report (0.5 s on the national store)
# and every question not understood asks it; the stamp (the highest report and agency ids, two index
# reads) moves when reports or agencies are added, which is what changes its answer.
_SAMPLES: dict[tuple[str, int | None, tuple[Any, ...]], dict[str, Any]] = {}
_SAMPLES_KEPT = 64


def sample_names(conn: Connection, year: int | None) -> dict[str, Any]:
    """Names to put in example questions: the region (province) and the agency with the most reports,
    so that the examples answer on this store."""
    stamp = tuple(conn.execute(sa.select(sa.select(sa.func.max(_F.c.report_id)).scalar_subquery(),
                                         sa.select(sa.func.max(_A.c.id)).scalar_subquery())).one())
    key = (str(conn.engine.url), year, stamp)
    cached = _SAMPLES.get(key)
    if cached is None:
        cached = _sample_names(conn, year)
        if len(_SAMPLES) >= _SAMPLES_KEPT:
            _SAMPLES.clear()
        _SAMPLES[key] = cached
    return dict(cached)


def _sample_names(conn: Connection, year: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    stmt = (sa.select(_A.c.name, _A.c.region_code, sa.func.count().label("n"))
            .select_from(_F.join(_A, _A.c.id == _F.c.agency_id))
            .group_by(_A.c.id, _A.c.name, _A.c.region_code)
            .order_by(sa.desc("n"), sa.func.length(_A.c.name), _A.c.name).limit(1))
    if year is not None:
        stmt = stmt.where(_F.c.year <= year)
    row = conn.execute(stmt).first()
    if row is not None:
        out["agency"] = row.name
        if row.region_code:
            province = row.region_code[:2].ljust(6, "0")
            name = conn.execute(sa.select(_REG.c.name).where(_REG.c.code == province)).scalar()
            if name:
                out["region"] = name
    return out
