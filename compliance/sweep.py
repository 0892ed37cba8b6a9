"""The sweep: for one report year, load the facts from the store, run every verdict, and track the
results (and the checker's per-report findings) as findings with a life; alert on what opened.

Run after each crawl and, for missing reports, the day after each deadline (the service's
scheduler does both); `xxgk findings sweep` runs it by hand.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from checks.model import CST
from compliance import verdicts as v
from compliance.alerts import cancel_stale, create_alerts
from compliance.deadlines import deadline
from compliance.lifecycle import SyncResult, sync
from db.engine import in_chunks, session
from db.models import Agency, CrawlRun, Document, DocumentVersion, Finding, Report, TrackedFinding
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


def _reports(s, years: Sequence[int]) -> list[v.ReportFacts]:
    r, d = Report.__table__, Document.__table__
    rows = s.connection().execute(
        sa.select(r.c.id, r.c.agency_id, r.c.year, r.c.data, r.c.text_sketch, d.c.url, d.c.site, d.c.published_at,
                  d.c.published_source)
        .join(d, d.c.id == r.c.document_id)
        .where(r.c.year.in_(list(years)))
    )
    out = []
    for row in rows:
        data = row.data or {}
        out.append(v.ReportFacts(
            id=row.id, agency_id=row.agency_id, year=row.year,
            applications=data.get("applications") or {}, proactive=data.get("proactive") or {},
            review_litigation=data.get("review_litigation") or {},
            published_at=row.published_at, published_source=row.published_source, url=row.url, site=row.site,
            sketch=row.text_sketch or (),
        ))
    return out


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


def _copies(s, agency_ids: set[int], year: int) -> dict[int, list[v.Copy]]:
    """Per agency: the documents holding its report on `year` (their current version's data)."""
    d, dv = Document.__table__, DocumentVersion.__table__
    several = (sa.select(d.c.agency_id).where(d.c.agency_id.is_not(None))
               .group_by(d.c.agency_id).having(sa.func.count() > 1))
    out: dict[int, list[v.Copy]] = defaultdict(list)
    rows = s.connection().execute(
        sa.select(d.c.id, d.c.url, d.c.site, d.c.agency_id, dv.c.data)
        .join(dv, sa.and_(dv.c.document_id == d.c.id, dv.c.content_hash == d.c.content_hash))
        .where(d.c.agency_id.in_(several))
    )
    for row in rows:
        data = row.data or {}
        if row.agency_id in agency_ids and data.get("year") == year:
            out[row.agency_id].append(v.Copy(row.id, row.url, row.site, data))
    return out


def evaluate(year: int, today: date, agencies: dict[int, v.AgencyFacts], registered: set[int],
             reports: list[v.ReportFacts], runs: dict[str, list[_Run]], copies: dict[int, list[v.Copy]],
             cfg: DeadlinesConfig) -> list[v.Verdict]:
    """Every cross-report verdict on `year` (pure)."""
    this_year = {r.agency_id: r for r in reports if r.year == year}
    last_year = {r.agency_id: r for r in reports if r.year == year - 1}
    out: list[v.Verdict] = []
    for agency_id, report in this_year.items():
        agency = agencies[agency_id]
        due = deadline(year, agency.level, agency.region_code, cfg)
        if (verdict := v.late(report, due)) is not None:
            out.append(verdict)
        if (previous := last_year.get(agency_id)) is not None:
            if (verdict := v.carryover(report, previous)) is not None:
                out.append(verdict)
            out += v.jumps(report, previous)
        out += v.conflicting_copies(report, copies.get(agency_id, []))
    for agency_id in registered - this_year.keys():
        agency = agencies[agency_id]
        due = deadline(year, agency.level, agency.region_code, cfg)
        after = datetime.combine(due + timedelta(days=1), time(0), tzinfo=CST)
        crawls = _crawls_after(runs.get(agency.site, []), after) if agency.site else None
        if (verdict := v.missing(agency, year, due, today, crawls)) is not None:
            out.append(verdict)
    # Copied text: this year's reports against each other and against last year's.
    common = v.common_hashes(r.sketch for r in this_year.values())
    names = {i: a.name for i, a in agencies.items()}
    out += [d for d in v.duplicates(reports, names, common=common) if d.year == year]
    return out


def sweep(engine: Engine, year: int, *, today: date, now: datetime, deadlines: DeadlinesConfig,
          alert: bool = True) -> SweepResult:
    """Sweep one report year, in one transaction: verdicts, tracked findings, alerts."""
    result = SweepResult(year, today)
    with session(engine) as s:
        agencies, registered = _agencies(s)
        reports = _reports(s, (year, year - 1))
        current = {r.id: r for r in reports if r.year == year}
        result.reports, result.registered = len(current), len(registered)
        runs = _runs(s, datetime(year + 1, 1, 1, tzinfo=CST))
        copies = _copies(s, {r.agency_id for r in current.values()}, year)
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
    created = 0
    for chunk in in_chunks(finding_ids):
        findings = s.exec(select(TrackedFinding).where(col(TrackedFinding.id).in_(chunk))).all()
        created += len(create_alerts(s, findings, now))
    return created
