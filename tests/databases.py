"""Which database the tests run on: SQLite files by default, or a real PostgreSQL server when
XXGK_TEST_DATABASE_URL names one (`.ci/run` starts one and runs the suite a second time with it).

On PostgreSQL every test that asks for a store gets a database of its own, copied from a template
that the migrations built once per run (CREATE DATABASE … TEMPLATE: tens of milliseconds), and
dropped at the end of the test. The server URL may name any database on it; only its host, port
and credentials are used.
"""

from __future__ import annotations

import itertools
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url

from db.engine import make_engine, upgrade

SERVER_URL = os.environ.get("XXGK_TEST_DATABASE_URL") or None
ON_POSTGRES = SERVER_URL is not None

_template: str | None = None
_lock = threading.Lock()
_counter = itertools.count()
_run = uuid.uuid4().hex[:8]


def _url(database: str) -> URL:
    assert SERVER_URL is not None
    url = make_url(SERVER_URL)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.set(database=database)


def _admin(statement: str) -> None:
    engine = create_engine(_url("postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def _template_database() -> str:
    """The migrated template, built once per test run (per process)."""
    global _template
    with _lock:
        if _template is None:
            name = f"xxgk_template_{_run}"
            _admin(f'CREATE DATABASE "{name}"')
            upgrade(_url(name).render_as_string(hide_password=False))
            _template = name
        return _template


def new_database_url(tmp_path: Path, name: str = "xxgk.db", *, migrated: bool = True) -> str:
    """The URL of a fresh, empty store for one test: an SQLite file under tmp_path (created by
    the first connection, not migrated), or a new PostgreSQL database, migrated unless `migrated`
    is False (drop it with drop_database when the test ends). Migrating is cheap and idempotent:
    callers that need a schema still call db.engine.upgrade."""
    if not ON_POSTGRES:
        return f"sqlite:///{tmp_path / name}"
    database = f"xxgk_test_{_run}_{next(_counter)}"
    if not migrated:
        _admin(f'CREATE DATABASE "{database}"')
        return _url(database).render_as_string(hide_password=False)
    template = _template_database()
    _admin(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
    return _url(database).render_as_string(hide_password=False)


def copy_database(url: str, tmp_path: Path, name: str = "xxgk.db") -> str:
    """A copy of the store at `url` for one test (drop it with drop_database). Nothing may be
    connected to the original: dispose of its engines first."""
    if not url.startswith("postgresql"):
        source = Path(make_url(url).database or "")
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the file itself
        finally:
            engine.dispose()
        (tmp_path / name).write_bytes(source.read_bytes())
        return f"sqlite:///{tmp_path / name}"
    database = f"xxgk_test_{_run}_{next(_counter)}"
    _admin(f'CREATE DATABASE "{database}" TEMPLATE "{make_url(url).database}"')
    return _url(database).render_as_string(hide_password=False)


@contextmanager
def built_store(tmp_path: Path, build: Callable[[Engine], object]) -> Iterator[str]:
    """A migrated store filled by `build(engine)`, for a module's tests to copy (store_copy);
    dropped afterwards."""
    url = new_database_url(tmp_path)
    upgrade(url)
    engine = make_engine(url)
    try:
        build(engine)
    finally:
        engine.dispose()
    yield url
    drop_database(url)


@contextmanager
def store_copy(template: str, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a copy of the store at `template` for one test; dropped afterwards."""
    url = copy_database(template, tmp_path)
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        drop_database(url)


def drop_database(url: str) -> None:
    """Drop a database new_database_url made (nothing to do for SQLite: tmp_path goes away)."""
    if not ON_POSTGRES or not url.startswith("postgresql"):
        return
    _admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def drop_template() -> None:
    global _template
    if _template is not None:
        _admin(f'DROP DATABASE IF EXISTS "{_template}" WITH (FORCE)')
        _template = None
