"""Findings with a life: opened when first seen, open while they hold, resolved (with the date)
when the report or sweep that produced them no longer does; acknowledged or marked a false
positive by a supervisor, which stops their alerts. Every change is a FindingEvent.

A finding's identity is (agency, year, rule, where): `finding_key`. `sync` compares what a source
says now with what is tracked, in bulk (a national sweep tracks hundreds of thousands).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from compliance.verdicts import Verdict
from db.engine import in_chunks
from db.models import FindingEvent, TrackedFinding

SYSTEM = "system"
SUPERVISOR_STATES = ("acknowledged", "false_positive")


def finding_key(agency_id: int, year: int, rule: str, where: str) -> str:
    return f"{agency_id}|{year}|{rule}|{where}"


@dataclass(slots=True)
class SyncResult:
    opened: list[int] = field(default_factory=list)  # tracked finding ids, newly opened
    reopened: list[int] = field(default_factory=list)  # resolved before, holding again
    resolved: list[int] = field(default_factory=list)
    held: int = 0  # still holding (open, acknowledged or false positive)

    def __iadd__(self, other: SyncResult) -> SyncResult:
        self.opened += other.opened
        self.reopened += other.reopened
        self.resolved += other.resolved
        self.held += other.held
        return self


def sync(
    session: Session,
    verdicts: Iterable[Verdict],
    *,
    source: str,
    years: Collection[int],
    now: datetime,
    agency_ids: Collection[int] | None = None,
) -> SyncResult:
    """Make the tracked findings of `source` on `years` (and `agency_ids`, if given) match
    `verdicts`: open the new ones, refresh those that hold, resolve those that no longer do.
    A finding a supervisor acknowledged or dismissed keeps that state while it holds."""
    wanted: dict[str, Verdict] = {}
    for v in verdicts:
        wanted.setdefault(finding_key(v.agency_id, v.year, v.rule, v.where), v)

    tf = TrackedFinding.__table__
    scope = sa.and_(tf.c.source == source, tf.c.year.in_(list(years)))
    if agency_ids is not None:
        scope = sa.and_(scope, tf.c.agency_id.in_(list(agency_ids)))
    existing = session.connection().execute(
        sa.select(tf.c.id, tf.c.key, tf.c.state, tf.c.message, tf.c.severity, tf.c.report_id).where(scope)
    ).all()

    result = SyncResult()
    events: list[dict] = []
    changed: list[dict] = []
    seen: list[int] = []
    for row in existing:
        v = wanted.pop(row.key, None)
        if v is None:
            if row.state != "resolved":
                result.resolved.append(row.id)
                events.append({"finding_id": row.id, "at": now, "state": "resolved", "actor": SYSTEM,
                               "reason": "问题已不再出现"})
            continue
        if row.state == "resolved":
            result.reopened.append(row.id)
            events.append({"finding_id": row.id, "at": now, "state": "open", "actor": SYSTEM, "reason": "问题再次出现"})
            changed.append(_refresh(row.id, v, now, state="open"))
        else:
            result.held += 1
            if (row.message, row.severity, row.report_id) != (v.message, v.severity, v.report_id):
                changed.append(_refresh(row.id, v, now, state=row.state))
            else:
                seen.append(row.id)

    if result.resolved:
        for ids in in_chunks(result.resolved):
            session.connection().execute(sa.update(tf).where(tf.c.id.in_(ids)).values(state="resolved", resolved_at=now))
    if changed:
        session.connection().execute(
            sa.update(tf).where(tf.c.id == sa.bindparam("_id")).values(
                state=sa.bindparam("p_state"), message=sa.bindparam("p_message"),
                severity=sa.bindparam("p_severity"), report_id=sa.bindparam("p_report_id"),
                evidence=sa.bindparam("p_evidence", type_=tf.c.evidence.type),
                last_seen_at=sa.bindparam("p_seen", type_=tf.c.last_seen_at.type), resolved_at=None),
            changed,
        )
    for ids in in_chunks(seen):
        session.connection().execute(sa.update(tf).where(tf.c.id.in_(ids)).values(last_seen_at=now))

    if wanted:
        rows = [
            {"key": key, "agency_id": v.agency_id, "year": v.year, "rule": v.rule, "severity": v.severity,
             "where": v.where, "message": v.message, "source": source, "report_id": v.report_id,
             "evidence": v.evidence or None, "state": "open", "opened_at": now, "last_seen_at": now}
            for key, v in wanted.items()
        ]
        # Many rows per INSERT … RETURNING: the ids come back with their keys, in no set order
        # (sort_by_parameter_order would make SQLite insert them one statement per row).
        ids = dict((key, i) for i, key in session.connection().execute(
            sa.insert(tf).returning(tf.c.id, tf.c.key), rows))
        result.opened = [ids[key] for key in wanted]
        events += [{"finding_id": i, "at": now, "state": "open", "actor": SYSTEM, "reason": None}
                   for i in result.opened]
    if events:
        session.connection().execute(sa.insert(FindingEvent.__table__), events)
    return result


def _refresh(finding_id: int, v: Verdict, now: datetime, *, state: str) -> dict:
    return {"_id": finding_id, "p_state": state, "p_message": v.message, "p_severity": v.severity,
            "p_report_id": v.report_id, "p_evidence": v.evidence or None, "p_seen": now}


class FindingStateError(ValueError):
    """A state change that is not allowed (unknown finding, a resolved finding acknowledged …)."""


def set_state(session: Session, finding_id: int, state: str, *, actor: str, reason: str | None,
              now: datetime) -> TrackedFinding:
    """A supervisor acknowledges a finding, marks it a false positive (a reason is required), or
    opens it again. Its alerts stop while it is not open."""
    if state not in (*SUPERVISOR_STATES, "open"):
        raise FindingStateError(f"无法设置为此状态：{state}")
    finding = session.get(TrackedFinding, finding_id)
    if finding is None:
        raise FindingStateError(f"没有编号为 {finding_id} 的问题")
    if finding.state == "resolved":
        raise FindingStateError(f"问题 {finding_id} 已于 {finding.resolved_at:%Y-%m-%d} 自动解决，无需处理")
    if state == "false_positive" and not (reason and reason.strip()):
        raise FindingStateError("标记为误报时请说明理由")
    if finding.state == state:
        return finding
    finding.state = state
    finding.note = reason.strip() if reason else finding.note
    session.add(finding)
    session.add(FindingEvent(finding_id=finding_id, at=now, state=state, actor=actor, reason=reason))
    session.flush()
    if state != "open":
        from compliance.alerts import cancel_stale  # its waiting alerts stop now, not at the next send

        cancel_stale(session, [finding_id])
    return finding


def history(session: Session, finding_id: int) -> list[FindingEvent]:
    return list(session.exec(
        select(FindingEvent).where(FindingEvent.finding_id == finding_id).order_by(col(FindingEvent.id))
    ).all())
