"""Saving checked reports, and the queries the bot needs.

Nothing here commits: use ``db.engine.session()`` (or commit yourself).
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import Enum
from itertools import chain
from pathlib import Path, PurePosixPath
from typing import Any, Final, Literal
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col, select

from checks import model as cm
from checks.fingerprint import text_sketch
from db.models import (
    CELL_SECTIONS,
    FIGURE_KEYS,
    Agency,
    Document,
    DocumentVersion,
    Finding,
    Report,
    figure_column,
    report_figure,
)

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


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A document row as stored, and how many of its contents are kept (DocumentVersion rows)."""

    id: int
    content_hash: str
    size: int
    format: str
    fetched_at: datetime  # when the stored content was first fetched
    published_at: datetime | None
    title: str | None
    agency_id: int | None
    site: str | None
    source_url: str | None
    published_source: str | None
    versions: int


class _LookUp(Enum):
    """The type of _LOOK_UP (typing spells a sentinel as a one-member Enum)."""

    LOOK_UP = "look up"


_LOOK_UP: Final = _LookUp.LOOK_UP


def save_report(
    session: Session | Connection,
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
    stored: StoredDocument | None | Literal[_LookUp.LOOK_UP] = _LOOK_UP,
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

    Rows are written with plain SQL statements: ORM objects that `session` already holds are not
    refreshed. `session` may as well be a Connection, cheaper for a caller with no ORM objects.
    `stored` is what stored_document(session, url) returned in this transaction, for a caller
    that needed it first; by default the document is looked up here.

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
    data = _data_json(report)
    sketch = text_sketch(report)
    figures = report_figures(report)
    findings = [_finding_key(f) for f in report.findings]

    # Plain SQL statements: the ORM's unit of work (identity map, flush ordering, one object per
    # row) cost several times more than the statements themselves.
    conn = _connection(session)
    agency_id, new_agency, scope = _agency_id(conn, report.agency)
    if stored is _LOOK_UP:
        stored = _stored_document(conn, url)
    document_id, document_status, new_content = _upsert_document(
        conn,
        stored,
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
    if new_content:
        conn.execute(_INSERT_VERSION, {"document_id": document_id, "content_hash": content_hash, "size": size,
                                       "fetched_at": fetched_at, "data_json": data})

    if agency_id is None or report.year is None:
        return SaveResult("unidentified", document_id, document_status, agency_id=agency_id)

    # An agency created just now has no report yet: no other transaction sees its row.
    existing = None if new_agency else conn.execute(
        _SELECT_REPORT, {"agency_id": agency_id, "year": report.year}
    ).first()
    now = datetime.now(UTC)
    if existing is None:
        report_id: int = conn.execute(_INSERT_REPORT, {
            "agency_id": agency_id, "year": report.year, "template": report.template, "title": report.title,
            "document_id": document_id, "sections": list(report.sections), "data_json": data,
            "text_sketch": sketch or None, "created_at": now, "updated_at": now,
        }).scalar_one()
        _insert_figures(conn, report_id, agency_id, report.year, figures, scope)
        _insert_findings(conn, report_id, findings)
        return SaveResult(
            "created",
            document_id,
            document_status,
            report_id=report_id,
            agency_id=agency_id,
            cells_replaced=True,
            findings_replaced=True,
        )
    report_id = existing.id

    if existing.document_id != document_id and not new_content:
        skipped: SaveStatus = "unchanged" if document_status == "unchanged" else "updated"
        return SaveResult(skipped, document_id, document_status, report_id, agency_id, superseded=True)

    changes = _changes(
        existing,
        template=report.template,
        title=report.title,
        document_id=document_id,
        sections=list(report.sections),
        text_sketch=sketch or None,
    )
    # The stored data comes back parsed: compare it with the new data parsed the same way.
    if existing.data != json.loads(data):
        changes["data"] = _JSONText(sa.literal(data, sa.Text))
    cells_replaced = _stored_figures(conn, report_id) != figures
    if cells_replaced:
        conn.execute(_DELETE_FIGURES, {"report_id": report_id})
        _insert_figures(conn, report_id, agency_id, report.year, figures, scope)
    findings_replaced = _stored_findings(conn, report_id) != findings
    if findings_replaced:
        conn.execute(sa.delete(_FINDINGS).where(_FINDINGS.c.report_id == report_id))
        _insert_findings(conn, report_id, findings)

    report_changed = bool(changes) or cells_replaced or findings_replaced
    if report_changed:
        changes["updated_at"] = now
        conn.execute(sa.update(_REPORTS).where(_REPORTS.c.id == report_id).values(changes))
    status: SaveStatus = "updated" if report_changed or document_status != "unchanged" else "unchanged"
    return SaveResult(
        status,
        document_id,
        document_status,
        report_id=report_id,
        agency_id=agency_id,
        cells_replaced=cells_replaced,
        findings_replaced=findings_replaced,
    )


def file_uri(path: str | Path) -> str:
    """The document key of a local file: the ``file://`` URI of its absolute path."""
    return Path(path).resolve().as_uri()


def stored_document(session: Session | Connection, url: str) -> StoredDocument | None:
    """The document stored at `url`, with its number of versions, or None."""
    return _stored_document(_connection(session), url)


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
    f = report_figure
    stmt = (
        sa.select(_AGENCIES.c.name, f.c.app_new_total)
        .join(_AGENCIES, _AGENCIES.c.id == f.c.agency_id)
        .where(f.c.year == year, f.c.app_new_total > 0)
    )
    rows = [(name, float(value)) for name, value in session.connection().execute(stmt).all()]
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
    return json.loads(_data_json(report))  # type: ignore[no-any-return]


def _data_json(report: cm.Report) -> str:
    """The report's canonical JSON text without findings, as written to the data columns."""
    out = report.to_json()
    out.pop("findings", None)
    try:
        return json.dumps(out, ensure_ascii=False, allow_nan=False)
    except ValueError as exc:
        raise ValueError(f"report data is not valid JSON ({exc}): {report.source}") from None


def report_figures(report: cm.Report) -> dict[str, float | None]:
    """The report's row of report_figure: every template cell by its column (db.models.figure_column);
    a cell the report lacks, or that is not a number, is None."""
    tables = {section: getattr(report, section) for section in CELL_SECTIONS}
    figures: dict[str, float | None] = {}
    for column, (section, row, key) in _FIGURE_CELLS:
        columns = tables[section].get(row)
        value = columns.get(key) if isinstance(columns, Mapping) else None
        # Most cells are plain ints: no function call for them.
        figures[column] = float(value) if type(value) is int else _number(value)
    return figures


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

_AGENCIES: sa.Table = Agency.__table__  # type: ignore[attr-defined]
_DOCUMENTS: sa.Table = Document.__table__  # type: ignore[attr-defined]
_VERSIONS: sa.Table = DocumentVersion.__table__  # type: ignore[attr-defined]
_REPORTS: sa.Table = Report.__table__  # type: ignore[attr-defined]
_FINDINGS: sa.Table = Finding.__table__  # type: ignore[attr-defined]


class _JSONText(FunctionElement[Any]):
    """A JSON column's value given as text that is already JSON.

    A report's data is serialised once (which also validates it) and written to two columns;
    binding the dict would serialise it again for each. SQLite keeps JSON as text as it is;
    PostgreSQL needs the text cast to json.
    """

    type = sa.JSON()
    inherit_cache = True
    name = "json_text"


@compiles(_JSONText)
def _cast_json_text(element: _JSONText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS JSON)"


@compiles(_JSONText, "sqlite")
def _sqlite_json_text(element: _JSONText, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


# Built once: SQLAlchemy then finds their compiled form in its cache at every execution.
_SELECT_AGENCY = sa.select(_AGENCIES.c.id, _AGENCIES.c.region_code, _AGENCIES.c.level).where(
    _AGENCIES.c.name == sa.bindparam("name"))
_INSERT_AGENCY = sa.insert(_AGENCIES).returning(_AGENCIES.c.id)
_VERSION_COUNT = (
    sa.select(sa.func.count()).where(_VERSIONS.c.document_id == _DOCUMENTS.c.id).scalar_subquery()
)
# StoredDocument's fields: the document's columns and its number of versions.
_SELECT_DOCUMENT = sa.select(
    *(_DOCUMENTS.c[f.name] for f in fields(StoredDocument) if f.name != "versions"),
    _VERSION_COUNT.label("versions"),
).where(_DOCUMENTS.c.url == sa.bindparam("url"))
_INSERT_DOCUMENT = sa.insert(_DOCUMENTS).returning(_DOCUMENTS.c.id)
_INSERT_VERSION = sa.insert(_VERSIONS).values(data=_JSONText(sa.bindparam("data_json", type_=sa.Text)))
_SELECT_REPORT = sa.select(
    _REPORTS.c.id, _REPORTS.c.document_id, _REPORTS.c.template, _REPORTS.c.title, _REPORTS.c.sections,
    _REPORTS.c.data, _REPORTS.c.text_sketch,
).where(_REPORTS.c.agency_id == sa.bindparam("agency_id"), _REPORTS.c.year == sa.bindparam("year"))
_INSERT_REPORT = sa.insert(_REPORTS).values(
    data=_JSONText(sa.bindparam("data_json", type_=sa.Text))
).returning(_REPORTS.c.id)
_SELECT_FINDINGS = (
    sa.select(_FINDINGS.c.rule, _FINDINGS.c.severity, _FINDINGS.c.message, _FINDINGS.c.where,
              _FINDINGS.c.section, _FINDINGS.c.row, _FINDINGS.c.column)
    .where(_FINDINGS.c.report_id == sa.bindparam("report_id"))
    .order_by(_FINDINGS.c.id)
)
_FIGURE_CELLS: tuple[tuple[str, CellKey], ...] = tuple(
    (figure_column(key), tuple(key.split(".")))  # type: ignore[misc]
    for key in FIGURE_KEYS
)
# The agency's region_code and level go last, copied onto the row (revision 0009).
_FIGURE_COLUMNS = ("report_id", "agency_id", "year", *(column for column, _ in _FIGURE_CELLS),
                   "region_code", "level")
_SELECT_FIGURES = sa.select(*(report_figure.c[column] for column, _ in _FIGURE_CELLS)).where(
    report_figure.c.report_id == sa.bindparam("report_id")
)
_DELETE_FIGURES = sa.delete(report_figure).where(report_figure.c.report_id == sa.bindparam("report_id"))
_FINDING_COLUMNS = ("report_id", "rule", "severity", "message", "where", "section", "row", "column")


def _connection(db: Session | Connection) -> Connection:
    """The connection to run statements on. A session's pending ORM changes are flushed first,
    as autoflush would before a query."""
    if isinstance(db, Connection):
        return db
    db.flush()
    return db.connection()


def _agency_id(conn: Connection, name: str | None) -> tuple[int | None, bool, tuple[str | None, str | None]]:
    """The agency's id (None without a name), whether it was created just now, and its
    (region_code, level), which its report_figure rows carry."""
    name = (name or "").strip()
    if not name:
        return None, False, (None, None)
    row = conn.execute(_SELECT_AGENCY, {"name": name}).first()
    if row is not None:
        return row.id, False, (row.region_code, row.level)
    return conn.execute(_INSERT_AGENCY, {"name": name}).scalar_one(), True, (None, None)


def _stored_document(conn: Connection, url: str) -> StoredDocument | None:
    row = conn.execute(_SELECT_DOCUMENT, {"url": url}).first()
    return None if row is None else StoredDocument(**row._mapping)


def _upsert_document(
    conn: Connection,
    stored: StoredDocument | None,
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
) -> tuple[int, RowStatus, bool]:
    """The document's id, what happened to it, and whether its content is new (created or rehashed)."""
    fmt = _document_format(reported_format, url)
    if stored is None:
        document_id: int = conn.execute(_INSERT_DOCUMENT, {
            "url": url, "content_hash": content_hash, "size": size, "format": fmt, "fetched_at": fetched_at,
            "published_at": published_at, "title": title, "agency_id": agency_id, **provenance,
        }).scalar_one()
        return document_id, "created", True

    new_content = stored.content_hash != content_hash
    values: dict[str, Any] = {}
    if new_content:
        values.update(content_hash=content_hash, size=size, format=fmt, fetched_at=fetched_at)
    # Facts learnt about the document: fill in or correct, never erase.
    if reported_format:
        values["format"] = fmt
    if published_at is not None:
        values["published_at"] = published_at
    if title is not None:
        values["title"] = title
    if agency_id is not None:
        values["agency_id"] = agency_id
    values.update({k: v for k, v in provenance.items() if v is not None})
    changes = _changes(stored, **values)
    if changes:
        conn.execute(sa.update(_DOCUMENTS).where(_DOCUMENTS.c.id == stored.id).values(changes))
    return stored.id, "updated" if changes else "unchanged", new_content


def _stored_figures(conn: Connection, report_id: int) -> dict[str, float | None] | None:
    row = conn.execute(_SELECT_FIGURES, {"report_id": report_id}).first()
    return None if row is None else dict(row._mapping)


def _stored_findings(conn: Connection, report_id: int) -> list[FindingKey]:
    rows = conn.execute(_SELECT_FINDINGS, {"report_id": report_id}).all()
    return [(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]


def _insert_figures(conn: Connection, report_id: int, agency_id: int, year: int,
                    figures: Mapping[str, float | None], scope: tuple[str | None, str | None]) -> None:
    """The report's row of report_figure, with its agency's (region_code, level) `scope`."""
    _insert_rows(conn, report_figure, _FIGURE_COLUMNS,
                 [(report_id, agency_id, year, *figures.values(), *scope)])


def _insert_findings(conn: Connection, report_id: int, findings: list[FindingKey]) -> None:
    # Rows are inserted in list order, so ids follow the checker's order.
    _insert_rows(conn, _FINDINGS, _FINDING_COLUMNS, [(report_id, *f) for f in findings])


def _insert_rows(
    conn: Connection, table: sa.Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """Insert rows of plain values (no type conversion needed), in order, many rows per statement.

    A report has about 200 cells. SQLAlchemy's executemany (even Core's) processes every
    parameter of every row in Python, and a DBAPI executemany still runs the statement once per
    row; one INSERT … VALUES (…), (…), … costs about half as much as the latter.
    """
    if not rows:
        return
    quote = conn.dialect.identifier_preparer.quote
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) VALUES "
    row_marks = f"({', '.join([mark] * len(columns))})"
    per_statement = max(1, _max_parameters(conn) // len(columns))
    for start in range(0, len(rows), per_statement):
        chunk = rows[start:start + per_statement]
        conn.exec_driver_sql(head + ", ".join([row_marks] * len(chunk)), tuple(chain.from_iterable(chunk)))


def _max_parameters(conn: Connection) -> int:
    """How many parameters one statement may have."""
    if conn.dialect.name != "sqlite":
        return 65535  # PostgreSQL: the wire protocol counts them in 16 bits
    driver = conn.connection.driver_connection
    if isinstance(driver, sqlite3.Connection):
        return driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)  # 32766 since SQLite 3.32
    return 999  # the least any SQLite allows


def _changes(row: object, **values: Any) -> dict[str, Any]:
    """The values that differ from the row's."""
    return {name: value for name, value in values.items() if getattr(row, name) != value}


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
