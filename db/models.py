"""The database schema: agencies, fetched documents, reports, their cells and findings.

Portable across SQLite and PostgreSQL: generic SQLAlchemy types only, JSON via
``sqlalchemy.JSON``, datetimes via :class:`db.types.UTCDateTime`, every constraint
named by the naming convention below so that Alembic can alter it later (SQLite
batch mode needs the names).

Any change here needs a new revision in ``db/migrations/versions`` —
``tests/test_db.py`` fails while the two disagree.
"""

# No `from __future__ import annotations`: SQLModel resolves relationship annotations at class creation.

from datetime import date, datetime, time
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
    # From the registry, or from the configured site of the crawler that found the report.
    region_code: str | None = Field(default=None, sa_type=sa.String(32), index=True)
    region_name: str | None = Field(default=None, sa_type=sa.Text)
    level: AgencyLevel | None = Field(default=None, sa_type=sa.String(16))
    # Revision 0003: registered agencies come from `xxgk agencies import`; the others were created
    # from a report's name that matched no registered agency, and wait for a person to assign them.
    registered: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    site: str | None = Field(default=None, sa_type=sa.Text)  # the configured site it publishes on


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
    # Revision 0003: checks.fingerprint.text_sketch of the prose, to find copied reports (内容雷同).
    text_sketch: list[int] | None = Field(default=None, sa_type=sa.JSON)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)

    agency: Agency = Relationship()
    document: Document = Relationship()


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

CRAWL_STATUSES: tuple[str, ...] = ("running", "ok", "partial", "failed", "interrupted")


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


class RobotsTxt(SQLModel, table=True):
    """A host's robots.txt as last read (revision 0003), reused by later crawls for up to
    `crawler.robots_cache_hours` (RFC 9309 allows a day). Only usable answers are kept: a file, or
    none at all (`body` None: everything allowed); a server error is never cached."""

    __tablename__ = "robots_txt"

    host: str = Field(sa_type=sa.Text, primary_key=True)  # scraper.http.host_key
    fetched_at: datetime = Field(sa_type=UTCDateTime)
    body: str | None = Field(default=None, sa_type=sa.Text)


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


# ---- registry, finding lifecycle and alerts (revision 0003) ---------------------------------

class CrawlLease(SQLModel, table=True):
    """A host group's place in the crawl shared by `xxgk worker` processes (db.leases): a crawl is
    wanted since `due_at`; `holder` crawls it while its lease holds (until `expires_at`)."""

    __tablename__ = "crawl_lease"

    key: str = Field(primary_key=True, sa_type=sa.String(255))  # the group's smallest host name
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    holder: str | None = Field(default=None, sa_type=sa.String(128))
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


REGION_LEVELS: tuple[str, ...] = ("province", "city", "county", "township")
FINDING_STATES: tuple[str, ...] = ("open", "resolved", "acknowledged", "false_positive")
DELIVERY_STATES: tuple[str, ...] = ("pending", "sending", "sent", "failed", "cancelled")
DELIVERY_MODES: tuple[str, ...] = ("immediate", "digest")


class Region(SQLModel, table=True):
    """An administrative division, keyed by its code (330211 镇海区; 330200 宁波市; 330000 浙江省).
    The hierarchy follows the code: a region's subtree is every code that starts with its prefix
    (db.regions.code_prefix)."""

    __tablename__ = "region"
    __table_args__ = (sa.CheckConstraint(_one_of("level", REGION_LEVELS), name="level"),)

    code: str = Field(sa_type=sa.String(32), primary_key=True)
    name: str = Field(sa_type=sa.Text)
    parent_code: str | None = Field(default=None, sa_type=sa.String(32), index=True)
    level: str | None = Field(default=None, sa_type=sa.String(16))


class AgencyAlias(SQLModel, table=True):
    """Another name a report may give an agency (「区人力社保局」 for 宁波市镇海区人力资源和社会保障局).
    `key` is the normalised form the matcher compares (checks.normalize.compact)."""

    __tablename__ = "agency_alias"
    __table_args__ = (sa.UniqueConstraint("agency_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True, ondelete="CASCADE")
    alias: str = Field(sa_type=sa.Text)
    key: str = Field(sa_type=sa.Text, index=True)


class TrackedFinding(SQLModel, table=True):
    """A finding with a life: opened when first seen, open while it holds, resolved when a later
    report or sweep no longer shows it; a supervisor may acknowledge it or mark it a false
    positive, which stops its alerts. `key` is its stable identity: agency, year, rule, where."""

    __tablename__ = "tracked_finding"
    __table_args__ = (
        sa.UniqueConstraint("key"),
        sa.CheckConstraint(_one_of("state", FINDING_STATES), name="state"),
        sa.CheckConstraint(_one_of("severity", SEVERITIES), name="severity"),
        sa.Index("ix_tracked_finding_year_state", "year", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_type=sa.Text)
    agency_id: int = Field(foreign_key="agency.id", index=True, ondelete="CASCADE")
    year: int
    rule: str = Field(sa_type=sa.String(64), index=True)
    severity: str = Field(sa_type=sa.String(16))
    where: str = Field(default="", sa_type=sa.Text)
    message: str = Field(sa_type=sa.Text)
    source: str = Field(sa_type=sa.String(16))  # "report" (the checker's) or "sweep" (across reports)
    report_id: int | None = Field(default=None, foreign_key="report.id", index=True, ondelete="SET NULL")
    evidence: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    state: str = Field(default="open", sa_type=sa.String(16))
    opened_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    note: str | None = Field(default=None, sa_type=sa.Text)  # the supervisor's reason


class FindingEvent(SQLModel, table=True):
    """The history of a tracked finding: every state change, by whom and why."""

    __tablename__ = "finding_event"

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="tracked_finding.id", index=True, ondelete="CASCADE")
    at: datetime = Field(sa_type=UTCDateTime)
    state: str = Field(sa_type=sa.String(16))  # the state entered
    actor: str = Field(sa_type=sa.Text)  # "system" or the supervisor
    reason: str | None = Field(default=None, sa_type=sa.Text)


class Subscriber(SQLModel, table=True):
    """Who receives alerts, where, for what scope (region subtree, level, agency, minimum
    severity) and how (each alert at once, or a daily digest)."""

    __tablename__ = "subscriber"
    __table_args__ = (
        sa.UniqueConstraint("name"),
        sa.CheckConstraint(_one_of("mode", DELIVERY_MODES), name="mode"),
        sa.CheckConstraint(_one_of("min_severity", SEVERITIES), name="min_severity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=sa.Text)
    channel: str = Field(sa_type=sa.String(32))  # "console", "webhook", "telegram" …
    target: str = Field(default="", sa_type=sa.Text)  # a URL, a chat id …
    region_code: str | None = Field(default=None, sa_type=sa.String(32))  # the subtree; None: everywhere
    level: str | None = Field(default=None, sa_type=sa.String(16))
    agency_id: int | None = Field(default=None, foreign_key="agency.id", ondelete="CASCADE")
    min_severity: str = Field(default="warning", sa_type=sa.String(16))
    mode: str = Field(default="immediate", sa_type=sa.String(16))
    active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime)
    # Quiet hours, Beijing time (the span may cross midnight): immediate alerts wait until it ends.
    quiet_from: time | None = Field(default=None, sa_type=sa.Time)
    quiet_until: time | None = Field(default=None, sa_type=sa.Time)


class Alert(SQLModel, table=True):
    """One alert per opened finding (late and missing verdicts are findings too)."""

    __tablename__ = "alert"
    __table_args__ = (sa.UniqueConstraint("finding_id"),)

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="tracked_finding.id", ondelete="CASCADE")
    created_at: datetime = Field(sa_type=UTCDateTime)


class AlertDelivery(SQLModel, table=True):
    """An alert for one subscriber. pending → sending (recorded before the channel is called) →
    sent (recorded after it succeeded). A delivery found in `sending` was interrupted by a crash:
    it is sent again, marked as a possible repeat."""

    __tablename__ = "alert_delivery"
    __table_args__ = (
        sa.UniqueConstraint("alert_id", "subscriber_id"),
        sa.CheckConstraint(_one_of("state", DELIVERY_STATES), name="state"),
        sa.Index("ix_alert_delivery_state_subscriber_id", "state", "subscriber_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True, ondelete="CASCADE")
    subscriber_id: int = Field(foreign_key="subscriber.id", ondelete="CASCADE")
    state: str = Field(default="pending", sa_type=sa.String(16))
    attempts: int = 0
    possible_repeat: bool = False
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# ---- key figures (revision 0004) ------------------------------------------------------------


def _figure_keys() -> tuple[str, ...]:
    """Every cell of the three tables of both templates, as "section.row.column"."""
    from checks.template import APPLICANT_COLUMNS, APPLICATION_ROWS, PROACTIVE_ROWS, REVIEW_COLUMNS, REVIEW_ROWS

    rows = dict.fromkeys(r.key for rows in APPLICATION_ROWS.values() for r in rows)
    keys = [f"applications.{row}.{col}" for row in rows for col in APPLICANT_COLUMNS]
    keys += [f"review_litigation.{row}.{col}" for row in REVIEW_ROWS for col in REVIEW_COLUMNS]
    keys += [f"proactive.{spec.key}.{col}" for template in ("2021", "2019") for spec in PROACTIVE_ROWS[template]
             for col in spec.columns]
    return tuple(dict.fromkeys(keys))


FIGURE_KEYS: tuple[str, ...] = _figure_keys()
_FIGURE_PREFIX = {"applications": "app", "review_litigation": "rev", "proactive": "pro"}


def figure_column(key: str) -> str:
    """report_figure's column for a figure key: applications.new.total → app_new_total."""
    section, row, col = key.split(".")
    return f"{_FIGURE_PREFIX[section]}_{row}_{col}"


# Revision 0009: the figure columns in groups of 26, in column order, each group the tail of a
# covering index on (year, level, region_code, agency_id, ...) (PostgreSQL allows 32 columns).
FIGURE_INDEX_GROUPS: tuple[tuple[str, ...], ...] = tuple(
    tuple(figure_column(k) for k in FIGURE_KEYS[i:i + 26]) for i in range(0, len(FIGURE_KEYS), 26))

HOT_FIGURE_COLUMNS: tuple[str, ...] = (
    "app_new_total", "pro_punishment_decisions", "pro_licensing_decisions", "rev_review_total",
    "pro_fees_amount_wan_yuan",
)

# One row per report with every table cell as a column (the template is fixed, so is this table):
# what the query layer reads. A year's ranking over every agency of the country is one scan of one
# row per report, where a row per cell would be ~230. report.data stays the complete record (a key
# a real report needed beyond the template lives there only); this table is derived from it and
# written by db.store.save_report with the report. Revision 0004 replaced report_cell with it.
#
# Revision 0009: each row also carries its agency's region_code and level (copies of the agency's),
# so that a national question by level or by province reads this table (its indexes) alone. A new
# row gets them from its writer (db.store.save_report); after that the database keeps them equal to
# the agency's, whoever writes (triggers of revision 0009, SQLite and PostgreSQL): a row moved to
# another agency takes that agency's, and an agency's new region or level goes to its rows.
report_figure = sa.Table(
    "report_figure",
    SQLModel.metadata,
    sa.Column("report_id", sa.Integer, sa.ForeignKey("report.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("agency_id", sa.Integer, sa.ForeignKey("agency.id", ondelete="CASCADE"), nullable=False),
    sa.Column("year", sa.Integer, nullable=False),
    *(sa.Column(figure_column(k), sa.Float, nullable=True) for k in FIGURE_KEYS),
    sa.Column("region_code", sa.String(32), nullable=True),  # revision 0009: agency.region_code
    sa.Column("level", sa.String(16), nullable=True),  # revision 0009: agency.level
    sa.Index("ix_report_figure_year_agency_id", "year", "agency_id"),
    sa.Index("ix_report_figure_agency_id_year", "agency_id", "year"),  # revision 0006
    # Revision 0006: the figures asked about most, for national rankings and counts that read an
    # index instead of a year of wide rows.
    *(sa.Index(f"ix_report_figure_year_{c}", "year", c, "agency_id") for c in HOT_FIGURE_COLUMNS),
    # Revision 0009: every figure in one of nine covering indexes, with the scope of each row, so
    # that any figure's national ranking, count or totals (by level, by province) read one narrow
    # index instead of a year of wide rows, where reading a figure far along a row costs most.
    *(sa.Index(f"ix_report_figure_figures_{n}", "year", "level", "region_code", "agency_id", *group)
      for n, group in enumerate(FIGURE_INDEX_GROUPS, 1)),
)


# ---- the Telegram bot's users (revision 0005) -----------------------------------------------


class BotUser(SQLModel, table=True):
    """A Telegram user an admin approved to use the bot (`/approve`); revoking (`/revoke`) keeps
    the row with `revoked_at` set, so that who had access, and who granted it, stays on record.
    The admins themselves come from the configuration (bot.admins), not from this table."""

    __tablename__ = "bot_user"

    # Telegram user ids need more than 32 bits; given by Telegram, never generated here.
    user_id: int = Field(sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    name: str | None = Field(default=None, sa_type=sa.Text)  # as the admin named them, or their Telegram name
    approved_by: int | None = Field(default=None, sa_type=sa.BigInteger)  # the admin's Telegram user id
    approved_at: datetime = Field(sa_type=UTCDateTime)
    revoked_by: int | None = Field(default=None, sa_type=sa.BigInteger)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # None: approved
