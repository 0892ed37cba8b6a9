"""Who may use the bot: the admins named in the configuration (bot.admins), and the users they
approved, kept in the bot_user table. Plain synchronous reads and writes over an Engine; the
handlers run them in a worker thread."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from db.models import BotUser

_U: sa.Table = BotUser.__table__  # type: ignore[attr-defined]

MAX_USER_ID = 2**52  # Telegram: user ids have at most 52 significant bits
NAME_LIMIT = 64


@dataclass(frozen=True, slots=True)
class ApprovedUser:
    user_id: int
    name: str | None
    approved_by: int | None
    approved_at: datetime


def is_approved(engine: Engine, user_id: int, admins: Collection[int] = ()) -> bool:
    """An admin, or a user approved and not revoked since."""
    if user_id in admins:
        return True
    with engine.connect() as conn:
        row = conn.execute(sa.select(_U.c.revoked_at).where(_U.c.user_id == user_id)).first()
    return row is not None and row.revoked_at is None


def approve(engine: Engine, user_id: int, *, name: str | None, by: int, now: datetime) -> bool:
    """Approve a user (again, after a revocation). A new `name` replaces the old one. True when
    the user was not approved before."""
    with engine.begin() as conn:
        row = conn.execute(sa.select(_U.c.revoked_at, _U.c.name).where(_U.c.user_id == user_id)).first()
        if row is None:
            conn.execute(sa.insert(_U).values(user_id=user_id, name=name, approved_by=by, approved_at=now))
            return True
        values: dict[str, object] = {"name": name or row.name}
        if row.revoked_at is not None:
            values.update(approved_by=by, approved_at=now, revoked_at=None, revoked_by=None)
        conn.execute(sa.update(_U).where(_U.c.user_id == user_id).values(**values))
        return row.revoked_at is not None


def revoke(engine: Engine, user_id: int, *, by: int, now: datetime) -> bool:
    """Revoke a user's access. True when the user was approved."""
    with engine.begin() as conn:
        result = conn.execute(sa.update(_U).where(_U.c.user_id == user_id, _U.c.revoked_at.is_(None))
                              .values(revoked_at=now, revoked_by=by))
        return bool(result.rowcount)


def approved_users(engine: Engine) -> list[ApprovedUser]:
    """Every user approved now, the most recently approved first."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(_U.c.user_id, _U.c.name, _U.c.approved_by, _U.c.approved_at)
                            .where(_U.c.revoked_at.is_(None))
                            .order_by(_U.c.approved_at.desc(), _U.c.user_id)).all()
    return [ApprovedUser(*r) for r in rows]


def user_name(engine: Engine, user_id: int) -> str | None:
    with engine.connect() as conn:
        return conn.execute(sa.select(_U.c.name).where(_U.c.user_id == user_id)).scalar()
