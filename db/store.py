"""Saving checked reports, and the queries the bot needs.

Nothing here commits: use ``db.engine.session()`` (or commit yourself).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from sqlalchemy import delete, insert
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from checks import model as cm
from db.models import CELL_SECTIONS, Agency, Document, DocumentVersion, Finding, Report, ReportCell

SaveStatus = Literal["created", "updated", "unchanged", "unidentified"]
RowStatus = Literal["created", "updated", "unchanged"]

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_FORMAT_MAX = 16  # Document.format's length

CellKey = tuple[str, str, str]  # (section, row, column)
FindingKey = tuple[str, str, str, str, str | None, str | None, str | None]


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What save_report did.

    status: "created" (new report), "updated" (something was written), "unchanged"
    (nothing was written) or "unidentified" (agency or year unknown: only the document
    was stored; see document_status for what happened to it).
    """

    status: SaveStatus
    document_id: int
    document_status: RowStatus
    report_id: int | None = None
    agency_id: int | None = None
    cells_replaced: bool = False
    findings_replaced: bool = False
    # The agency's report for that year comes from another, more recently changed document;
    # this (unchanged) document was not applied to it.
    superseded: bool = False

    @property
    def changed(self) -> bool:
        return self.status in ("created", "updated") or self.document_status != "unchanged"


def save_report(
    session: Session,
    report: cm.Report,
    *,
    url: str,
    content_hash: str,
    size: int,
    fetched_at: datetime,
    published_at: datetime | None = None,
    site: str | None = None,
    source_url: str | None = None,
    published_source: str | None = None,
) -> SaveResult:
    """Store a checked report and the document it was read from; write only what differs.

    `site`, `source_url` (the article page an attachment was linked from) and
    `published_source` (the evidence for published_at) record where a crawled document came
    from. Every new content of a document is also kept as a DocumentVersion.

    - The document is keyed by `url` (``file://`` URI of the absolute path for local files).
      Same `content_hash` as stored: its content fields and `fetched_at` stay as they are;
      a changed hash overwrites them.
    - The report is keyed by (agency, year). Its row, cells and findings are rewritten only
      where they differ from what is stored, so saving the same file twice writes nothing.
    - A document whose content is not new (same hash as stored) does not take the report over
      from another document, e.g. a mirror of the same report on another site: the most recently
      changed content wins, and repeated runs over the same files stay stable (`superseded`).
    - Without agency or year, only the document is stored (status "unidentified").

    Raises ValueError for a URL without a scheme (use file_uri() for local files), a malformed
    hash, a naive datetime, or a non-finite number in the data.
    """
    _require_absolute_url(url)
    content_hash = _valid_hash(content_hash)
    _require_aware("fetched_at", fetched_at)
    if published_at is not None:
        _require_aware("published_at", published_at)
    if size < 0:
        raise ValueError(f"size must not be negative: {size}")
    # Everything that can fail on bad input is computed before the first write.
    data = canonical_data(report)
    cells = report_cells(report)
    findings = [_finding_key(f) for f in report.findings]

    agency = _agency(session, report.agency)
    agency_id = agency.id if agency is not None else None
    document, document_status, new_content = _upsert_document(
        session,
        url=url,
        content_hash=content_hash,
        size=size,
        fetched_at=fetched_at,
        published_at=published_at,
        title=report.title,
        reported_format=report.format,
        agency_id=agency_id,
        provenance={"site": site, "source_url": source_url, "published_source": published_source},
    )
    assert document.id is not None
    if new_content:
        session.add(DocumentVersion(document_id=document.id, content_hash=content_hash, size=size,
                                    fetched_at=fetched_at, data=data))
        session.flush()

    if agency is None or report.year is None:
        return SaveResult("unidentified", document.id, document_status, agency_id=agency_id)
    assert agency_id is not None

    row = session.exec(
        select(Report).where(Report.agency_id == agency_id, Report.year == report.year)
    ).first()
    now = datetime.now(UTC)
    if row is None:
        row = Report(
            agency_id=agency_id,
            year=report.year,
            template=report.template,
            title=report.title,
            document_id=document.id,
            sections=list(report.sections),
            data=data,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        _insert_cells(session, row.id, cells)
        _insert_findings(session, row.id, findings)
        return SaveResult(
            "created",
            document.id,
            document_status,
            report_id=row.id,
            agency_id=agency_id,
            cells_replaced=True,
            findings_replaced=True,
        )
    assert row.id is not None

    if row.document_id != document.id and not new_content:
        skipped: SaveStatus = "unchanged" if document_status == "unchanged" else "updated"
        return SaveResult(skipped, document.id, document_status, row.id, agency_id, superseded=True)

    row_changed = _assign(
        row,
        template=report.template,
        title=report.title,
        document_id=document.id,
        sections=list(report.sections),
        data=data,
    )
    cells_replaced = _stored_cells(session, row.id) != cells
    if cells_replaced:
        session.execute(delete(ReportCell).where(col(ReportCell.report_id) == row.id))
        _insert_cells(session, row.id, cells)
    findings_replaced = _stored_findings(session, row.id) != findings
    if findings_replaced:
        session.execute(delete(Finding).where(col(Finding.report_id) == row.id))
        _insert_findings(session, row.id, findings)

    report_changed = row_changed or cells_replaced or findings_replaced
    if report_changed:
        row.updated_at = now
    session.flush()
    status: SaveStatus = "updated" if report_changed or document_status != "unchanged" else "unchanged"
    return SaveResult(
        status,
        document.id,
        document_status,
        report_id=row.id,
        agency_id=agency_id,
        cells_replaced=cells_replaced,
        findings_replaced=findings_replaced,
    )


def file_uri(path: str | Path) -> str:
    """The document key of a local file: the ``file://`` URI of its absolute path."""
    return Path(path).resolve().as_uri()


def known_document(session: Session, url: str, content_hash: str) -> bool:
    """True if `url` is stored with this content: the caller may skip reading the file again."""
    stored = session.exec(select(Document.content_hash).where(Document.url == url)).first()
    return stored == content_hash.lower()


# ---- Queries ---------------------------------------------------------------------------

_WITH_AGENCY_AND_DOCUMENT = (
    selectinload(Report.agency),  # type: ignore[arg-type]  # sqlmodel types relationships as the target
    selectinload(Report.document),  # type: ignore[arg-type]
)


def get_report(session: Session, agency: str, year: int) -> Report | None:
    """The stored report of `agency` (exact name) on `year`, or None."""
    stmt = (
        select(Report)
        .join(Agency, col(Report.agency_id) == col(Agency.id))
        .where(Agency.name == agency.strip(), Report.year == year)
        .options(*_WITH_AGENCY_AND_DOCUMENT)
    )
    return session.exec(stmt).first()


def reports_for_year(session: Session, year: int) -> list[Report]:
    """Every stored report on `year`, agency and document loaded, ordered by agency name.

    Sorted in Python (code-point order) so that the order is the same on every database.
    """
    stmt = select(Report).where(Report.year == year).options(*_WITH_AGENCY_AND_DOCUMENT)
    return sorted(session.exec(stmt).all(), key=lambda r: (r.agency.name, r.id or 0))


def agencies_with_applications(session: Session, year: int) -> list[tuple[str, float]]:
    """(agency name, 本年新收申请 total) for every report on `year` that received applications.

    Largest total first, then by name.
    """
    stmt = (
        select(Agency.name, ReportCell.value)
        .join(Report, col(Report.agency_id) == col(Agency.id))
        .join(ReportCell, col(ReportCell.report_id) == col(Report.id))
        .where(
            Report.year == year,
            ReportCell.section == "applications",
            ReportCell.row == "new",
            ReportCell.column == "total",
            col(ReportCell.value) > 0,
        )
    )
    rows = [(name, float(value)) for name, value in session.exec(stmt).all() if value is not None]
    return sorted(rows, key=lambda item: (-item[1], item[0]))


def findings_for_report(session: Session, report_id: int) -> list[Finding]:
    """The report's findings in the checker's order."""
    stmt = select(Finding).where(Finding.report_id == report_id).order_by(col(Finding.id))
    return list(session.exec(stmt).all())


def as_check_finding(row: Finding) -> cm.Finding:
    """A stored finding as checks.model.Finding (for the renderers)."""
    return cm.Finding(
        rule=row.rule,
        severity=row.severity,  # type: ignore[arg-type]
        message=row.message,
        where=row.where,
        section=row.section,
        row=row.row,
        column=row.column,
    )


# ---- Conversions -----------------------------------------------------------------------


def canonical_data(report: cm.Report) -> dict[str, Any]:
    """The report's canonical JSON without findings, exactly as the database returns it."""
    out = report.to_json()
    out.pop("findings", None)
    try:
        text = json.dumps(out, ensure_ascii=False, allow_nan=False)
    except ValueError as exc:
        raise ValueError(f"report data is not valid JSON ({exc}): {report.source}") from None
    return json.loads(text)  # type: ignore[no-any-return]


def report_cells(report: cm.Report) -> dict[CellKey, float | None]:
    """Every cell of the three tables; a value that is not a number is stored as None."""
    cells: dict[CellKey, float | None] = {}
    for section in CELL_SECTIONS:
        table: Mapping[str, Any] = getattr(report, section)
        for row_key, columns in table.items():
            if not isinstance(columns, Mapping):
                continue
            for column_key, value in columns.items():
                cells[(section, str(row_key), str(column_key))] = _number(value)
    return cells


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    return number


def _finding_key(f: cm.Finding) -> FindingKey:
    return (f.rule, f.severity, f.message, f.where, f.section, f.row, f.column)


# ---- Rows ------------------------------------------------------------------------------


def _agency(session: Session, name: str | None) -> Agency | None:
    name = (name or "").strip()
    if not name:
        return None
    agency = session.exec(select(Agency).where(Agency.name == name)).first()
    if agency is None:
        agency = Agency(name=name)
        session.add(agency)
        session.flush()
    return agency


def _upsert_document(
    session: Session,
    *,
    url: str,
    content_hash: str,
    size: int,
    fetched_at: datetime,
    published_at: datetime | None,
    title: str | None,
    reported_format: str | None,
    agency_id: int | None,
    provenance: Mapping[str, str | None],
) -> tuple[Document, RowStatus, bool]:
    """The document row, what happened to it, and whether its content is new (created or rehashed)."""
    document = session.exec(select(Document).where(Document.url == url)).first()
    if document is None:
        document = Document(
            url=url,
            content_hash=content_hash,
            size=size,
            format=_document_format(reported_format, url),
            fetched_at=fetched_at,
            published_at=published_at,
            title=title,
            agency_id=agency_id,
            **{k: v for k, v in provenance.items() if v is not None},
        )
        session.add(document)
        session.flush()
        return document, "created", True

    new_content = document.content_hash != content_hash
    if new_content:
        _assign(
            document,
            content_hash=content_hash,
            size=size,
            format=_document_format(reported_format, url),
            fetched_at=fetched_at,
        )
    # Facts learnt about the document: fill in or correct, never erase.
    learnt: dict[str, Any] = {}
    if reported_format:
        learnt["format"] = _document_format(reported_format, url)
    if published_at is not None:
        learnt["published_at"] = published_at
    if title is not None:
        learnt["title"] = title
    if agency_id is not None:
        learnt["agency_id"] = agency_id
    learnt.update({k: v for k, v in provenance.items() if v is not None})
    changed = _assign(document, **learnt) or new_content
    if changed:
        session.flush()
    return document, "updated" if changed else "unchanged", new_content


def _stored_cells(session: Session, report_id: int) -> dict[CellKey, float | None]:
    stmt = select(ReportCell.section, ReportCell.row, ReportCell.column, ReportCell.value).where(
        ReportCell.report_id == report_id
    )
    return {(s, r, c): v for s, r, c, v in session.exec(stmt).all()}


def _stored_findings(session: Session, report_id: int) -> list[FindingKey]:
    # sqlalchemy's select: sqlmodel's is typed for at most four columns.
    stmt = (
        sa.select(
            col(Finding.rule),
            col(Finding.severity),
            col(Finding.message),
            col(Finding.where),
            col(Finding.section),
            col(Finding.row),
            col(Finding.column),
        )
        .where(col(Finding.report_id) == report_id)
        .order_by(col(Finding.id))
    )
    return [(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in session.execute(stmt).all()]


def _insert_cells(session: Session, report_id: int, cells: Mapping[CellKey, float | None]) -> None:
    # ~230 rows per report: a DBAPI executemany of plain tuples. SQLAlchemy's own executemany
    # (even Core) processes every parameter of every row in Python and costs several times more.
    if not cells:
        return
    conn = session.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(
        f'INSERT INTO report_cell (report_id, section, "row", "column", value) '
        f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark})",
        [(report_id, s, r, c, v) for (s, r, c), v in cells.items()],
    )


def _insert_findings(session: Session, report_id: int, findings: list[FindingKey]) -> None:
    # executemany inserts in list order, so ids follow the checker's order.
    if findings:
        session.connection().execute(
            insert(Finding.__table__),  # type: ignore[attr-defined]
            [
                {"report_id": report_id, "rule": rule, "severity": severity, "message": message,
                 "where": where, "section": section, "row": row, "column": column}
                for rule, severity, message, where, section, row, column in findings
            ],
        )


def _assign(obj: object, **values: Any) -> bool:
    """Set the attributes that differ; True if any did."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


# ---- Validation ------------------------------------------------------------------------


def _require_absolute_url(url: str) -> None:
    parts = urlsplit(url)
    if not parts.scheme or not (parts.netloc or parts.path.startswith("/")):
        raise ValueError(f"url must be absolute (file:///… for local files), got {url!r}")


def _valid_hash(content_hash: str) -> str:
    normalised = content_hash.strip().lower()
    if not _SHA256_HEX.fullmatch(normalised):
        raise ValueError(f"content_hash must be a sha256 hex digest, got {content_hash!r}")
    return normalised


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")


def _document_format(reported: str | None, url: str) -> str:
    """The checker's format, else the URL's file extension, else "unknown"."""
    fmt = (reported or "").strip().lower().lstrip(".")
    if not fmt:
        fmt = PurePosixPath(unquote(urlsplit(url).path)).suffix.lower().lstrip(".")
    return (fmt or "unknown")[:_FORMAT_MAX]
