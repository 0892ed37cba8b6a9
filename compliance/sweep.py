"""The sweep: for one report year, load the facts from the store, run every verdict, and track the
results (and the checker's per-report findings) as findings with a life; alert on what opened.

Run after each crawl and, for missing reports, the day after each deadline (the service's
scheduler does both); `xxgk findings sweep` runs it by hand.
"""

from __future__ import annotations

import gc
import json
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from checks.model import CST
from compliance import verdicts as v
from compliance.alerts import alert_findings, cancel_stale
from compliance.deadlines import deadline
from compliance.lifecycle import SyncResult, sync
from db.crawlstate import is_list_emptied
from db.engine import in_chunks, session
from db.models import (Agency, CrawlRun, Document, DocumentVersion, Finding, Report, figure_column,
                       report_figure)
from xxgk.config import DeadlinesConfig


@dataclass(slots=True)
class SweepResult:
    year: int
    as_of: date
    reports: int = 0
    registered: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    report_findings: SyncResult = field(default_factory=SyncResult)
    sweep_findings: SyncResult = field(default_factory=SyncResult)
    alerts: int = 0

    @property
    def opened(self) -> int:
        return len(self.report_findings.opened) + len(self.sweep_findings.opened)

    @property
    def resolved(self) -> int:
        return len(self.report_findings.resolved) + len(self.sweep_findings.resolved)


@dataclass(frozen=True, slots=True)
class _Run:
    finished_at: datetime
    status: str
    error: str | None


def _agencies(s) -> tuple[dict[int, v.AgencyFacts], set[int]]:
    a = Agency.__table__
    agencies, registered = {}, set()
    for row in s.connection().execute(sa.select(a.c.id, a.c.name, a.c.level, a.c.region_code, a.c.site, a.c.registered)):
        agencies[row.id] = v.AgencyFacts(row.id, row.name, row.level, row.region_code, row.site)
        if row.registered:
            registered.add(row.id)
    return agencies, registered


def _tables(data: dict | None) -> dict[str, dict]:
    data = data or {}
    return {name: data.get(name) or {} for name in ("applications", "proactive", "review_litigation")}


def _figure_groups() -> tuple[tuple[str, str, tuple[str, ...], int, int], ...]:
    """v.FIGURES_READ grouped by table row: (section, row, columns, first, last) of the row's figures
    in a _reports row."""
    groups: list[tuple[str, str, list[str]]] = []
    for section, row, column in v.FIGURES_READ:
        if groups and groups[-1][:2] == (section, row):
            groups[-1][2].append(column)
        else:
            groups.append((section, row, [column]))
    out, at = [], _FIRST_FIGURE
    for section, row, columns in groups:
        out.append((section, row, tuple(columns), at, at + len(columns)))
        at += len(columns)
    return tuple(out)


_FIRST_FIGURE = 9  # the position of the first figure in a _reports row


def _utc(value: datetime | str | None) -> datetime | None:
    """A UTCDateTime column's value, as db.types.UTCDateTime hands it back (read as it is stored)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _reports(s, years: Sequence[int]) -> list[v.ReportFacts]:
    """The reports on `years` with what the verdicts read: the figures of v.FIGURES_READ from
    report_figure (one narrow row per report; parsing every report's data was most of a national
    sweep), the document's publication facts and the text sketch. Figures are floats, as
    report_figure holds them (the verdicts write integral ones as ints). A report without a
    report_figure row (the store always writes one; a hand-made row may lack it) gets its tables
    from its data."""
    r, d, f = Report.__table__, Document.__table__, report_figure
    columns = [f.c[figure_column(".".join(cell))] for cell in v.FIGURES_READ]
    rows = s.connection().execute(
        sa.select(r.c.id, r.c.agency_id, r.c.year, sa.type_coerce(r.c.text_sketch, sa.Text), d.c.url,
                  d.c.site, sa.type_coerce(d.c.published_at, sa.Text), d.c.published_source, f.c.report_id,
                  *columns)
        .select_from(r.join(d, d.c.id == r.c.document_id).outerjoin(f, f.c.report_id == r.c.id))
        .where(r.c.year.in_(list(years)))
        .order_by(r.c.year, r.c.id)  # the year index's order: the facts' order decides the findings' ids
    )
    groups = _figure_groups()
    out = []
    without: list[int] = []
    loads = json.loads
    # Table rows with the same figures share one (read-only) dict: most are alike (all zeros).
    shared: dict[tuple, dict] = {}
    for row in rows:
        rid, agency_id, year, sketch, url, site, published, source, has_figures = row[:_FIRST_FIGURE]
        tables: dict[str, dict[str, dict]] = {"applications": {}, "proactive": {}, "review_litigation": {}}
        if has_figures is None:
            without.append(len(out))
        else:
            for section, key, cols, first, last in groups:
                values = row[first:last]
                cells = shared.get((cols, values))
                if cells is None:
                    cells = shared[(cols, values)] = dict(zip(cols, values))
                tables[section][key] = cells
        if isinstance(sketch, str):  # SQLite hands back JSON text; a PostgreSQL driver the list
            sketch = loads(sketch)
        out.append(v.ReportFacts(
            rid, agency_id, year, tables["applications"], tables["proactive"], tables["review_litigation"],
            _utc(published), source, url, site, () if sketch is None else sketch,
        ))
    if without:
        full = _report_data(s, [out[i].id for i in without])
        for i in without:
            out[i] = replace(out[i], **_tables(full.get(out[i].id)))
    return out


def _report_data(s, report_ids: Sequence[int]) -> dict[int, dict]:
    r = Report.__table__
    data: dict[int, dict] = {}
    for chunk in in_chunks(list(report_ids)):
        data.update(s.connection().execute(sa.select(r.c.id, r.c.data).where(r.c.id.in_(chunk))).all())
    return data


def _checker_findings(s, reports: dict[int, v.ReportFacts]) -> list[v.Verdict]:
    """The checker's findings of these reports, as verdicts to track (source "report")."""
    f = Finding.__table__
    out = []
    for chunk in in_chunks(list(reports)):
        for row in s.connection().execute(sa.select(f.c.report_id, f.c.rule, f.c.severity, f.c.message, f.c.where)
                             .where(f.c.report_id.in_(chunk)).order_by(f.c.id)):
            rep = reports[row.report_id]
            out.append(v.Verdict(rep.agency_id, rep.year, row.rule, row.severity, row.message,
                                 where=row.where, report_id=row.report_id))
    return out


def _runs(s, since: datetime) -> dict[str, list[_Run]]:
    c = CrawlRun.__table__
    runs: dict[str, list[_Run]] = defaultdict(list)
    for row in s.connection().execute(sa.select(c.c.site, c.c.finished_at, c.c.status, c.c.errors)
                         .where(c.c.finished_at.is_not(None), c.c.finished_at >= since)):
        errors = row.errors or []
        runs[row.site].append(_Run(row.finished_at, row.status, errors[0] if errors else None))
    return runs


def _crawls_after(runs: list[_Run], after: datetime) -> v.SiteCrawls | None:
    recent = [r for r in runs if r.finished_at >= after]
    if not recent:
        return None
    failed = [r for r in recent if r.status == "failed"]
    last_error = max(failed, key=lambda r: r.finished_at).error if failed else None
    return v.SiteCrawls(succeeded=any(r.status in ("ok", "partial") for r in recent), failed=bool(failed),
                        last_error=last_error)


def _emptied_sites(runs: dict[str, list[_Run]]) -> dict[str, str]:
    """Sites whose latest crawl found their lists emptied (db.crawlstate.LIST_EMPTIED_MARK): site → error."""
    out = {}
    for site, site_runs in runs.items():
        latest = max(site_runs, key=lambda r: r.finished_at)
        if latest.error is not None and is_list_emptied(latest.status, [latest.error]):
            out[site] = latest.error
    return out


def _copies(s, agency_ids: set[int], year: int) -> dict[int, list[v.Copy]]:
    """Per agency with several documents: the documents holding its report on `year` (their
    current version's data).

    A document a report holds is that report's, and holds that report's year, unless its content
    changed since (several versions): the new content may be another year's report. So the data
    read is that of the documents no report holds (a mirror on another site, a draft superseded)
    and of the changed ones whose data says `year` (a national sweep: a few thousand, not every
    document of the country)."""
    d, dv, r = Document.__table__, DocumentVersion.__table__, Report.__table__
    conn = s.connection()
    several = set(conn.execute(
        sa.select(d.c.agency_id).where(d.c.agency_id.is_not(None)).group_by(d.c.agency_id)
        .having(sa.func.count() > 1)).scalars())
    held = sa.select(r.c.id).where(r.c.document_id == d.c.id).exists()
    versions = sa.select(sa.func.count()).where(dv.c.document_id == d.c.id).scalar_subquery()
    unheld: list[int] = []
    changed: list[int] = []
    for doc_id, is_held in conn.execute(
            sa.select(d.c.id, held).where(d.c.agency_id.is_not(None), sa.or_(~held, versions > 1))):
        (changed if is_held else unheld).append(doc_id)
    current = (sa.select(d.c.id, d.c.url, d.c.site, d.c.agency_id, dv.c.data)
               .join(dv, sa.and_(dv.c.document_id == d.c.id, dv.c.content_hash == d.c.content_hash)))
    rows = []
    for ids, stmt in ((unheld, current), (changed, current.where(dv.c.data["year"].as_float() == year))):
        for chunk in in_chunks(ids):
            rows += conn.execute(stmt.where(d.c.id.in_(chunk))).all()
    out: dict[int, list[v.Copy]] = defaultdict(list)
    for row in sorted(rows, key=lambda row: (row.agency_id, row.id)):
        data = row.data or {}
        if row.agency_id in several and row.agency_id in agency_ids and data.get("year") == year:
            out[row.agency_id].append(v.Copy(row.id, row.url, row.site, data))
    return out


def evaluate(year: int, today: date, agencies: dict[int, v.AgencyFacts], registered: set[int],
             reports: list[v.ReportFacts], runs: dict[str, list[_Run]], copies: dict[int, list[v.Copy]],
             cfg: DeadlinesConfig) -> list[v.Verdict]:
    """Every cross-report verdict on `year` (pure)."""
    this_year = {r.agency_id: r for r in reports if r.year == year}
    last_year = {r.agency_id: r for r in reports if r.year == year - 1}
    out: list[v.Verdict] = []
    due_by: dict[tuple[str | None, str | None], date] = {}

    def due_date(agency: v.AgencyFacts) -> date:
        # Without regional overrides the deadline depends on the level alone.
        key = (agency.level, agency.region_code if cfg.overrides else None)
        due = due_by.get(key)
        if due is None:
            due = due_by[key] = deadline(year, agency.level, agency.region_code, cfg)
        return due

    for agency_id, report in this_year.items():
        agency = agencies[agency_id]
        due = due_date(agency)
        if (verdict := v.late(report, due)) is not None:
            out.append(verdict)
        if (previous := last_year.get(agency_id)) is not None:
            if (verdict := v.carryover(report, previous)) is not None:
                out.append(verdict)
            out += v.jumps(report, previous)
        out += v.conflicting_copies(report, copies.get(agency_id, []))
    for agency_id in registered - this_year.keys():
        agency = agencies[agency_id]
        due = due_date(agency)
        after = datetime.combine(due + timedelta(days=1), time(0), tzinfo=CST)
        crawls = _crawls_after(runs.get(agency.site, []), after) if agency.site else None
        if (verdict := v.missing(agency, year, due, today, crawls)) is not None:
            out.append(verdict)
    if year == today.year - 1:  # once, with the latest report year (the sweep after each crawl sweeps it)
        emptied = _emptied_sites(runs)
        for agency_id in sorted(registered):
            agency = agencies[agency_id]
            if agency.site in emptied:
                out.append(v.list_emptied(agency, year, emptied[agency.site]))
    # Copied text: this year's reports against each other and against last year's.
    common = v.common_hashes(r.sketch for r in this_year.values())
    names = {i: a.name for i, a in agencies.items()}
    out += [d for d in v.duplicates(reports, names, common=common) if d.year == year]
    return out


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A national sweep holds a million objects and allocates a million more, none of them in
    reference cycles worth collecting mid-sweep: the cyclic collector would walk them all, over
    and over (a third of the sweep's time). It runs again, as before, when the sweep is done."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def sweep(engine: Engine, year: int, *, today: date, now: datetime, deadlines: DeadlinesConfig,
          alert: bool = True) -> SweepResult:
    """Sweep one report year, in one transaction: verdicts, tracked findings, alerts."""
    result = SweepResult(year, today)
    with _collector_paused(), session(engine) as s:
        agencies, registered = _agencies(s)
        reports = _reports(s, (year, year - 1))
        current = {r.id: r for r in reports if r.year == year}
        result.reports, result.registered = len(current), len(registered)
        runs = _runs(s, datetime(year + 1, 1, 1, tzinfo=CST))
        copies = _copies(s, {r.agency_id for r in current.values()}, year)
        if copies:  # conflicting_copies compares whole tables: the reports that have copies need them
            having = [i for i, r in enumerate(reports) if r.year == year and r.agency_id in copies]
            full = _report_data(s, [reports[i].id for i in having])
            for i in having:
                reports[i] = replace(reports[i], **_tables(full.get(reports[i].id)))
            current = {r.id: r for r in reports if r.year == year}
        found = evaluate(year, today, agencies, registered, reports, runs, copies, deadlines)
        result.verdicts = Counter(x.rule for x in found)
        result.sweep_findings = sync(s, found, source="sweep", years=[year], now=now)
        result.report_findings = sync(s, _checker_findings(s, current), source="report", years=[year], now=now)
        if alert:
            result.alerts = _alert(s, result.sweep_findings.opened + result.report_findings.opened, now)
        resolved = result.sweep_findings.resolved + result.report_findings.resolved
        if resolved:
            cancel_stale(s, resolved)  # a finding that no longer holds is not announced
    return result


def _alert(s, finding_ids: list[int], now: datetime) -> int:
    return alert_findings(s, finding_ids, now)
