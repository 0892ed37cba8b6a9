"""The store: SQLModel schema, Alembic migrations, saving and querying checked reports."""

from db.engine import current_revision, downgrade, make_engine, session, upgrade
from db.store import (
    SaveResult,
    agencies_with_applications,
    file_uri,
    findings_for_report,
    get_report,
    known_document,
    reports_for_year,
    save_report,
)

__all__ = [
    "SaveResult",
    "agencies_with_applications",
    "current_revision",
    "downgrade",
    "file_uri",
    "findings_for_report",
    "get_report",
    "known_document",
    "make_engine",
    "reports_for_year",
    "save_report",
    "session",
    "upgrade",
]
