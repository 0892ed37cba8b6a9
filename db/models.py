"""The database schema: agencies, fetched documents, reports, their cells and findings.

Portable across SQLite and PostgreSQL: generic SQLAlchemy types only, JSON via
``sqlalchemy.JSON``, datetimes via :class:`db.types.UTCDateTime`, every constraint
named by the naming convention below so that Alembic can alter it later (SQLite
batch mode needs the names).

Any change here needs a new revision in ``db/migrations/versions`` —
``tests/test_db.py`` fails while the two disagree.
"""

# No `from __future__ import annotations`: SQLModel resolves relationship annotations at class creation.

from datetime import date, datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from db.types import UTCDateTime

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# Must be set before the first table is declared: names are resolved when a constraint is attached.
SQLModel.metadata.naming_convention = NAMING_CONVENTION

AgencyLevel = Literal["department", "government", "township"]
AGENCY_LEVELS: tuple[str, ...] = ("department", "government", "township")

CellSection = Literal["proactive", "applications", "review_litigation"]
CELL_SECTIONS: tuple[str, ...] = ("proactive", "applications", "review_litigation")

SEVERITIES: tuple[str, ...] = ("error", "warning", "info")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL text of a CHECK that `column` holds one of `values` (NULL passes, as in SQL)."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Agency(SQLModel, table=True):
    """A body that must publish a report: a department, a people's government, a township."""

    __tablename__ = "agency"
    __table_args__ = (
        sa.UniqueConstraint("name"),
        sa.CheckConstraint(_one_of("level", AGENCY_LEVELS), name="level"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=sa.Text)
    # Filled by the crawler later.
    region_code: str | None = Field(default=None, sa_type=sa.String(32))
    region_name: str | None = Field(default=None, sa_type=sa.Text)
    level: AgencyLevel | None = Field(default=None, sa_type=sa.String(16))


class Document(SQLModel, table=True):
    """A fetched file, keyed by its URL (``file://`` URI of the absolute path for local files)."""

    __tablename__ = "document"
    __table_args__ = (sa.UniqueConstraint("url"),)

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_type=sa.Text)
    content_hash: str = Field(sa_type=sa.String(64), index=True)  # sha256, lowercase hex
    size: int = Field(sa_type=sa.BigInteger)  # bytes
    format: str = Field(sa_type=sa.String(16))  # "pdf", "docx", "html" … or "unknown"
    fetched_at: datetime = Field(sa_type=UTCDateTime)  # when this content was first fetched
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    title: str | None = Field(default=None, sa_type=sa.Text)
    agency_id: int | None = Field(default=None, foreign_key="agency.id", index=True)
    # Crawled documents (revision 0002): the configured site, the article page an attachment was
    # linked from, and which evidence gave published_at ("发布日期", "PubDate", "list", "first_seen", "url").
    site: str | None = Field(default=None, sa_type=sa.Text, index=True)
    source_url: str | None = Field(default=None, sa_type=sa.Text)
    published_source: str | None = Field(default=None, sa_type=sa.String(32))


class Report(SQLModel, table=True):
    """One agency's report on one year: the canonical JSON (findings excluded) plus its origin."""

    __tablename__ = "report"
    __table_args__ = (sa.UniqueConstraint("agency_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id")  # indexed by the unique constraint
    year: int = Field(index=True)
    template: str = Field(sa_type=sa.String(16))  # "2021", "2019", "unknown"
    title: str | None = Field(default=None, sa_type=sa.Text)
    document_id: int = Field(foreign_key="document.id", index=True)
    sections: list[str] = Field(sa_type=sa.JSON)
    data: dict[str, Any] = Field(sa_type=sa.JSON)  # checks.model.Report.to_json() minus "findings"
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)

    agency: Agency = Relationship()
    document: Document = Relationship()


class ReportCell(SQLModel, table=True):
    """One table cell of a report, so that figures can be queried with plain SQL on any database."""

    __tablename__ = "report_cell"
    # No index on (section, row, column): every report writes the same ~230 keys, so such an index
    # takes a page write per cell on every save. Queries go report (by year) -> primary key.
    __table_args__ = (sa.CheckConstraint(_one_of("section", CELL_SECTIONS), name="section"),)

    report_id: int = Field(foreign_key="report.id", primary_key=True, ondelete="CASCADE")
    section: CellSection = Field(sa_type=sa.String(32), primary_key=True)
    row: str = Field(sa_type=sa.String(64), primary_key=True)
    column: str = Field(sa_type=sa.String(64), primary_key=True)
    value: float | None = Field(default=None, sa_type=sa.Float)  # None: blank, "/", "-" or unreadable


class Finding(SQLModel, table=True):
    """A rule a report breaks, as checks.model.Finding. Stored in the checker's order (by id)."""

    __tablename__ = "finding"
    __table_args__ = (sa.CheckConstraint(_one_of("severity", SEVERITIES), name="severity"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True, ondelete="CASCADE")
    rule: str = Field(sa_type=sa.String(64), index=True)
    severity: str = Field(sa_type=sa.String(16))
    message: str = Field(sa_type=sa.Text)
    where: str = Field(sa_type=sa.Text)
    section: str | None = Field(default=None, sa_type=sa.String(8))  # 一 … 六
    row: str | None = Field(default=None, sa_type=sa.String(64))
    column: str | None = Field(default=None, sa_type=sa.String(64))


# ---- crawl state (revision 0002) ------------------------------------------------------------

CRAWL_STATUSES: tuple[str, ...] = ("running", "ok", "partial", "failed")


class DocumentVersion(SQLModel, table=True):
    """Every distinct content ever fetched at a document's URL: a report changed after
    publication keeps both versions."""

    __tablename__ = "document_version"
    __table_args__ = (sa.UniqueConstraint("document_id", "content_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True, ondelete="CASCADE")
    content_hash: str = Field(sa_type=sa.String(64))
    size: int = Field(sa_type=sa.BigInteger)
    fetched_at: datetime = Field(sa_type=UTCDateTime)  # when this version was first seen
    data: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)  # canonical data of this version


class HttpState(SQLModel, table=True):
    """What the crawler knows of one URL (list pages, articles, attachments): validators for
    conditional GET, the hash of the last content, and when it was first and last seen."""

    __tablename__ = "http_state"

    url: str = Field(sa_type=sa.Text, primary_key=True)
    site: str | None = Field(default=None, sa_type=sa.Text, index=True)
    kind: str | None = Field(default=None, sa_type=sa.String(16))  # "list", "article", "attachment", "robots"
    title: str | None = Field(default=None, sa_type=sa.Text)  # an article's title on its list page
    list_date: date | None = Field(default=None, sa_type=sa.Date)  # and the date the list showed
    etag: str | None = Field(default=None, sa_type=sa.Text)
    last_modified: str | None = Field(default=None, sa_type=sa.Text)
    content_hash: str | None = Field(default=None, sa_type=sa.String(64))
    status: int | None = None
    first_seen_at: datetime = Field(sa_type=UTCDateTime)
    checked_at: datetime = Field(sa_type=UTCDateTime)


class CrawlRun(SQLModel, table=True):
    """One crawl of one site: what it found and what went wrong."""

    __tablename__ = "crawl_run"
    __table_args__ = (sa.CheckConstraint(_one_of("status", CRAWL_STATUSES), name="status"),)

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(sa_type=sa.Text, index=True)
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default="running", sa_type=sa.String(16))
    pages_fetched: int = 0
    not_modified: int = 0
    bytes_received: int = Field(default=0, sa_type=sa.BigInteger)
    reports_found: int = 0
    reports_new: int = 0
    reports_changed: int = 0
    errors: list[str] = Field(default_factory=list, sa_type=sa.JSON)
