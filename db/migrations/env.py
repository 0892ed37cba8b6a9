"""Alembic environment for the xxgk monitor database.

The database comes from, in order: a connection handed over by db.engine
(``config.attributes["connection"]``), ``-x url=...`` on the alembic command
line, ``sqlalchemy.url`` in the ini file, then xxgk's settings
(``XXGK_DATABASE_URL`` / xxgk.toml / default ``sqlite:///xxgk.db``).
"""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from db.types import UTCDateTime

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from xxgk.config import load_settings

    return load_settings().database_url


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Autogenerate writes the portable base type, so revisions never import application code.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# Tables that live in the store but are not the project's schema: APScheduler's job store
# (`xxgk serve` creates it). Autogenerate must not propose dropping them.
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})


def _include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if type_ == "table" and reflected and compare_to is None and name in FOREIGN_TABLES:
        return False
    table = getattr(obj, "table", None)
    return not (reflected and table is not None and table.name in FOREIGN_TABLES)


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds the table
        compare_type=True,
        render_item=_render_item,
        include_object=_include_object,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # handed over by db.engine.upgrade()/downgrade()
        _run_on(connection)
        return
    from db.engine import make_engine, migration_connection

    engine = make_engine(_url())
    try:
        with migration_connection(engine) as own_connection:
            _run_on(own_connection)
    finally:
        engine.dispose()


if config.config_file_name is not None and config.attributes.get("connection") is None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
