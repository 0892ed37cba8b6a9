"""Engines, sessions and schema migrations.

The Alembic scripts are located through this package's path, so nothing here
depends on the current working directory.
"""

from __future__ import annotations

import functools

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"



T = TypeVar("T")

IN_CHUNK = 500  # values per IN (...) list: well under SQLite's bound-variable limit on every build


def in_chunks(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """`values` in slices small enough for one `IN (...)` each."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _json_dumps(value: Any) -> str:
    # Readable Chinese in the JSON columns; NaN/Infinity are not JSON and PostgreSQL refuses them.
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL lets the bot read while a check run writes; ":memory:" databases stay in "memory" mode.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Statement journals, sorts and temporary tables in memory, not in temporary files: a
        # statement that must be able to undo itself (a report_figure row with its foreign keys and
        # covering indexes, an agency update its trigger carries to report_figure) journals more
        # than the 64 KiB SQLite keeps in memory by default, and each spill to a file costs
        # ~0.1 ms (revision 0009).
        cursor.execute("PRAGMA temp_store=MEMORY")
    finally:
        cursor.close()


def _password(url: object) -> str | None:
    """The password in a database URL string (also one SQLAlchemy cannot parse), if any."""
    import re

    m = re.match(r"[A-Za-z][\w+.-]*://[^:/?#@]*:([^@]*)@", url) if isinstance(url, str) else None
    return m.group(1) if m else None


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url` (e.g. Settings.database_url). SQLite gets foreign keys ON, WAL, and its
    temporary files (statement journals, sorts) in memory."""
    kwargs.setdefault("json_serializer", _json_dumps)
    try:
        engine = create_engine(url, **kwargs)
    except Exception as exc:
        password = _password(url)
        if password and password in str(exc):  # older SQLAlchemy quotes an unparsable URL whole
            from sqlalchemy.exc import ArgumentError

            raise ArgumentError(str(exc).replace(password, "***")) from None
        raise
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config() -> Config:
    """A programmatic Alembic config pointing at this package's migration scripts."""
    config = Config()
    # ConfigParser interpolation: a literal "%" in the path must be doubled.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return config


def upgrade(url_or_engine: str | Engine, revision: str = "head") -> None:
    """`alembic upgrade head` on the given database. Idempotent, and cheap when there is nothing
    to do: the migration connection (and SQLite's whole-database foreign key check after it,
    seconds on a national store) is only used when a migration runs."""
    if revision == "head" and current_revision(url_or_engine) == head_revision():
        return
    _run_migration(url_or_engine, lambda config: command.upgrade(config, revision))
    engine, owned = _engine_for(url_or_engine)
    try:
        analyze(engine)
    finally:
        if owned:
            engine.dispose()


def analyze(engine: Engine) -> None:
    """Refresh SQLite's table statistics (sampled: fast on a national store), so that its planner
    picks the region index for a province's question instead of scanning a whole year. Run after
    a migration, a crawl and a sweep. PostgreSQL's autovacuum keeps its own statistics."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA analysis_limit=1000")
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


@functools.cache
def head_revision() -> str | None:
    """The newest revision of this package's migrations."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def downgrade(url_or_engine: str | Engine, revision: str) -> None:
    """`alembic downgrade <revision>` ("base" removes every table)."""
    _run_migration(url_or_engine, lambda config: command.downgrade(config, revision))


def current_revision(url_or_engine: str | Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    from alembic.migration import MigrationContext

    engine, owned = _engine_for(url_or_engine)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if owned:
            engine.dispose()


def _engine_for(url_or_engine: str | Engine) -> tuple[Engine, bool]:
    if isinstance(url_or_engine, Engine):
        return url_or_engine, False
    return make_engine(url_or_engine), True


def _run_migration(url_or_engine: str | Engine, run: Callable[[Config], None]) -> None:
    engine, owned = _engine_for(url_or_engine)
    try:
        with migration_connection(engine) as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            run(config)
    finally:
        if owned:
            engine.dispose()


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection to run migrations on; committed at the end of the block.

    On SQLite, batch migrations rebuild tables (copy, drop, rename), and with foreign
    keys ON the drop would cascade into the referencing tables. Foreign keys are
    therefore OFF during the block (the pragma only works outside a transaction) and
    checked with ``PRAGMA foreign_key_check`` before they are switched back on.
    """
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            yield connection
            connection.commit()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left dangling foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


@contextmanager
def session(engine: Engine) -> Iterator[Session]:
    """A session that commits when the block ends normally and rolls back on an exception.

    Objects stay usable after the commit (expire_on_commit=False).
    """
    with Session(engine, expire_on_commit=False) as s:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
