"""One scheduler at a time: the `xxgk serve` process that holds the leadership runs the scheduler
and the bot; another one started beside it (on this machine or another) waits on standby and
takes over when the leader stops or dies.

- PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) held on a connection kept
  open for the purpose. The server releases it when that connection ends, however the process
  ended, so a killed leader is replaced within one standby poll.
- SQLite (one machine by nature): an exclusive `flock` on a file beside the database, released by
  the kernel when the process ends.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

# The advisory lock's key: any 64-bit number the project does not use for something else.
LOCK_KEY = 0x78786B_5345_5256  # "xxk" "SE" "RV"


class Leadership:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._file: Any = None

    @property
    def held(self) -> bool:
        return self._conn is not None or self._file is not None

    def try_acquire(self) -> bool:
        """Take the leadership if no other process holds it; True if this process now holds it."""
        if self.held:
            return True
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.connect()
            try:
                got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar())
                conn.commit()  # the lock is the session's, not the transaction's
            except Exception:
                conn.close()
                raise
            if not got:
                conn.close()
                return False
            self._conn = conn
            return True
        path = lock_path(self.engine)
        if path is None:  # an in-memory database: nobody else can share it
            self._file = True
            return True
        import fcntl

        handle = open(path, "a+b")  # noqa: SIM115 - held open as the lock
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n".encode())
        handle.flush()
        self._file = handle
        return True

    def still_held(self) -> bool:
        """False if the lock was lost (PostgreSQL: its connection broke)."""
        if self._conn is None:
            return self.held
        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
            return True
        except Exception:  # noqa: BLE001 - a broken connection means the lock is gone
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
            return False

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
                self._conn.commit()
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        if self._file is not None:
            if self._file is not True:
                with contextlib.suppress(Exception):
                    self._file.close()
            self._file = None


def lock_path(engine: Engine) -> Path | None:
    """The lock file of an SQLite store (beside it), or None for an in-memory one."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database).with_name(Path(database).name + ".serve.lock")
