"""Backing the store up to one file and restoring it, on SQLite and on PostgreSQL.

A backup is the database's own format, made by the database's own tools:

- **SQLite**: the online backup API (``sqlite3.Connection.backup``) copies the pages of one read
  snapshot, held as a read transaction for the whole copy, so a backup taken while the service
  writes is consistent (WAL: the writers are not blocked). The copy is written beside the target
  under a temporary name, switched to a rollback journal (one self-contained file), synced and
  renamed into place: an interrupted backup never leaves a half-written FILE.
- **PostgreSQL**: ``pg_dump --format=custom`` (itself one consistent snapshot). The connection
  comes from the database URL through libpq's environment (PGHOST, PGPORT, PGUSER, PGDATABASE and
  PGPASSWORD …): the password never appears on a command line, where any user could see it.

Restoring never leaves a half-restored database behind, and never overwrites data unless asked:

- the file's kind is recognised from its first bytes (an SQLite backup into PostgreSQL, a
  pg_dump archive into SQLite, anything else: a clear error), and its schema revision must be one
  this program knows (a backup made by a newer version is refused);
- the backup is restored into a scratch copy first (SQLite: a temporary file beside the target;
  PostgreSQL: a temporary database on the same server), checked, and migrated forward to this
  program's schema if it is older;
- only then does it replace the target, in one step: SQLite copies the scratch file into the
  target with the backup API in a single transaction (readers see the old or the new database,
  a crash leaves the old one); PostgreSQL renames the old database away and the new one into its
  place in one transaction, then drops the old one. A PostgreSQL restore therefore needs the
  right to create databases and to rename the target (its owner), and no other connection to the
  target (stop `xxgk serve` and `xxgk worker` first). The restored objects belong to the user of
  the database URL (``pg_restore --no-owner --no-acl``), as if its migrations had created them.

Cross-database restores (an SQLite backup into PostgreSQL) are not supported.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from glob import glob
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from db.engine import head_revision, make_engine, upgrade

Kind = Literal["sqlite", "postgresql"]
Progress = Callable[[int, int], None]  # (done, total); total 0: not known yet

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
KIND_NAMES: dict[str, str] = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# Tables whose rows do not make a store "non-empty": the schema's revision, and the scheduler's
# jobs (`xxgk serve` writes them at its first start, before there is any data).
BOOKKEEPING_TABLES = frozenset({"alembic_version", "apscheduler_jobs"})
SQLITE_STEP_PAGES = 4096  # pages copied per step of the SQLite backup (16 MB at 4 KB pages)
TOOLS_TIMEOUT_S = 60.0  # `pg_restore --list`, `--version`: small, quick reads


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is in Chinese, for the user."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    kind: Kind
    revision: str
    size: int  # bytes of the backup file
    seconds: float


@dataclass(frozen=True, slots=True)
class RestoreResult:
    kind: Kind
    backup_revision: str  # the schema revision of the backup
    revision: str  # the schema revision of the restored database (head: migrated forward)
    replaced: bool  # the target held data before (--force)
    seconds: float

    @property
    def migrated(self) -> bool:
        return self.backup_revision != self.revision


# ---- shared ----------------------------------------------------------------------------------


def database_kind(url: str) -> Kind:
    name = make_url(url).get_backend_name()
    if name == "sqlite":
        return "sqlite"
    if name == "postgresql":
        return "postgresql"
    raise BackupError(f"不支持备份这种数据库：{name}（只支持 SQLite 和 PostgreSQL）")


def shown_url(url: str) -> str:
    """The URL as it may be shown: the password masked."""
    return make_url(url).render_as_string(hide_password=True)


def backup_kind(path: Path) -> Kind:
    """The kind of backup `path` holds, from its first bytes; BackupError for a missing, empty or
    unknown file."""
    if not path.exists():
        raise BackupError(f"备份文件不存在：{path}")
    if path.is_dir():
        raise BackupError(f"{path} 是目录，不是备份文件")
    try:
        with path.open("rb") as f:
            head = f.read(64)
    except OSError as exc:
        raise BackupError(f"无法读取备份文件 {path}：{exc.strerror or exc}") from None
    if not head:
        raise BackupError(f"备份文件是空的：{path}")
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    if head.lstrip().startswith(b"--"):
        raise BackupError(f"{path} 是纯文本 SQL 备份（pg_dump 的默认格式），xxgk restore 只接受 xxgk backup "
                          "生成的文件（pg_dump -Fc 格式）；纯文本备份可以用 psql 恢复")
    raise BackupError(f"{path} 不是 xxgk 的备份文件（既不是 SQLite 数据库，也不是 pg_dump -Fc 格式的备份）")


def known_revisions() -> set[str]:
    """Every revision of this program's migrations."""
    from alembic.script import ScriptDirectory

    from db.engine import alembic_config

    return {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def _check_revision(revision: str | None, where: str) -> str:
    if revision is None:
        raise BackupError(f"{where}没有结构版本（alembic_version），不是 xxgk 数据库的备份")
    if revision not in known_revisions():
        raise BackupError(f"{where}的结构版本 {revision} 本程序不认识（本程序最新为 {head_revision()}）："
                          "它可能来自更新版本的 xxgk，请先升级 xxgk 再恢复")
    return revision


def content_tables(engine: Engine) -> list[str]:
    """The tables of the store that hold at least one row (bookkeeping tables aside)."""
    inspector = sa.inspect(engine)
    names = [n for n in inspector.get_table_names() if n not in BOOKKEEPING_TABLES]
    with engine.connect() as conn:
        return [name for name in names
                if conn.execute(sa.select(sa.literal(1)).select_from(sa.table(name)).limit(1)).first()]


def _refuse_nonempty(engine: Engine, url: str, force: bool) -> bool:
    """Whether the target holds data; BackupError if it does and `force` is not given."""
    try:
        full = content_tables(engine)
    finally:
        engine.dispose()
    if full and not force:
        listed = "、".join(full[:5]) + ("等" if len(full) > 5 else "")
        raise BackupError(f"目标数据库 {shown_url(url)} 不是空的（{listed}表中有数据）；"
                          "确认要用备份覆盖它，请加 --force")
    return bool(full)


@contextmanager
def _database_errors(url: str) -> Iterator[None]:
    """A database error not handled on the way (no such file, no right to create a database …) as
    a BackupError: the driver's first line, which never holds the password."""
    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        raise BackupError(f"数据库 {shown_url(url)} 出错：{_first_line(exc)}") from None


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(tmp: Path, out: Path) -> None:
    """Move the finished `tmp` to `out` durably (its data, then the rename)."""
    _fsync(tmp)
    os.replace(tmp, out)
    with suppress(OSError):  # not every file system lets a directory be synced
        _fsync(out.parent)


def _check_output(out: Path, overwrite: bool) -> None:
    if out.is_dir():
        raise BackupError(f"{out} 是目录，请给出备份文件的路径")
    if not out.parent.is_dir():
        raise BackupError(f"目录不存在：{out.parent}")
    if not os.access(out.parent, os.W_OK):
        raise BackupError(f"没有写入权限：{out.parent}")
    if out.exists() and not overwrite:
        raise BackupError(f"备份文件已存在：{out}（要覆盖它，请加 --force）")


def _remove(*paths: Path) -> None:
    for path in paths:
        with suppress(FileNotFoundError):
            path.unlink()


def backup(url: str, out: Path, *, overwrite: bool = False, pg_bin: Path | None = None,
           progress: Progress | None = None) -> BackupResult:
    """Back the store at `url` up to `out` (see the module docstring)."""
    kind = database_kind(url)
    out = out.absolute()
    _check_output(out, overwrite)
    started = time.monotonic()
    with _database_errors(url):
        if kind == "sqlite":
            revision = _sqlite_backup(_sqlite_path(url), out, progress)
        else:
            revision = _pg_backup(url, out, pg_bin, progress)
    return BackupResult(out, kind, revision, out.stat().st_size, time.monotonic() - started)


def restore(url: str, path: Path, *, force: bool = False, pg_bin: Path | None = None,
            progress: Progress | None = None) -> RestoreResult:
    """Replace the store at `url` by the backup at `path` (see the module docstring)."""
    kind = database_kind(url)
    path = path.absolute()
    found = backup_kind(path)
    if found != kind:
        raise BackupError(f"{path} 是 {KIND_NAMES[found]} 数据库的备份，当前数据库是 {KIND_NAMES[kind]}"
                          f"（{shown_url(url)}）：只能恢复到同一种数据库")
    started = time.monotonic()
    with _database_errors(url):
        if kind == "sqlite":
            backup_revision, replaced = _sqlite_restore(url, path, force, progress)
        else:
            backup_revision, replaced = _pg_restore(url, path, force, pg_bin, progress)
    return RestoreResult(kind, backup_revision, head_revision() or backup_revision, replaced,
                         time.monotonic() - started)


# ---- SQLite ----------------------------------------------------------------------------------


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"无法备份或恢复这个 SQLite 数据库：{url}（需要一个数据库文件）")
    return Path(database).absolute()


def _sqlite_revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:  # no such table
        return None
    return None if row is None else str(row[0])


def _pages_progress(progress: Progress | None) -> Callable[[int, int, int], None] | None:
    if progress is None:
        return None
    return lambda _status, remaining, total: progress(total - remaining, total)


def _sqlite_backup(source: Path, out: Path, progress: Progress | None) -> str:
    if not source.exists():
        raise BackupError(f"数据库文件不存在：{source}")
    if out == source:
        raise BackupError("备份文件不能是数据库文件本身")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.partial")
    src = sqlite3.connect(source, timeout=60, isolation_level=None)
    try:
        # One read transaction for the whole copy: every page comes from the same snapshot, while
        # writers go on (WAL) and the copy is never restarted by their commits.
        src.execute("BEGIN")
        revision = _sqlite_revision(src)
        if revision is None:
            raise BackupError(f"数据库 {source} 没有结构版本（alembic_version）：不是 xxgk 的数据库，或尚未建立结构")
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst, pages=SQLITE_STEP_PAGES, progress=_pages_progress(progress))
            dst.execute("PRAGMA journal_mode=DELETE")  # the copy is WAL like its source: one file instead
        finally:
            dst.close()
        src.execute("COMMIT")
        _publish(tmp, out)
    except sqlite3.Error as exc:
        raise BackupError(f"备份失败：{exc}") from None
    finally:
        src.close()
        _remove(tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm"))
    return revision


def _sqlite_restore(url: str, path: Path, force: bool, progress: Progress | None) -> tuple[str, bool]:
    target = _sqlite_path(url)
    if not target.parent.is_dir():
        raise BackupError(f"目录不存在：{target.parent}")
    if target.exists() and path.exists() and target.samefile(path):
        raise BackupError("备份文件就是目标数据库本身")
    replaced = target.exists() and _refuse_nonempty(make_engine(url), url, force)

    # One name per target: a restore that was killed left its scratch file, and the next one removes it.
    scratch = target.with_name(f".{target.name}.xxgk-restore")
    scratch_files = (scratch, Path(f"{scratch}-wal"), Path(f"{scratch}-shm"), Path(f"{scratch}-journal"))
    _remove(*scratch_files)
    try:
        # 1. The backup into a scratch file beside the target (the backup file is only read:
        #    immutable, so not even a -shm file is made next to it).
        try:
            src = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
            try:
                dst = sqlite3.connect(scratch)
                try:
                    src.backup(dst, pages=SQLITE_STEP_PAGES, progress=_pages_progress(progress))
                    # The full check: quick_check would miss an index that no longer matches its table.
                    problems = [row[0] for row in dst.execute("PRAGMA integrity_check").fetchall()]
                    if problems != ["ok"]:
                        raise BackupError(f"备份文件已损坏：{path}（{'；'.join(problems[:3])}）")
                    revision = _check_revision(_sqlite_revision(dst), "备份文件")
                finally:
                    dst.close()
            finally:
                src.close()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"备份文件已损坏或无法读取：{path}（{exc}）") from None

        # 2. Forward to this program's schema, and the foreign keys checked, still in the scratch file.
        scratch_url = URL.create("sqlite", database=str(scratch)).render_as_string()
        try:
            upgrade(scratch_url)
        except Exception as exc:  # noqa: BLE001 - any migration failure: the target is untouched
            raise BackupError(f"备份的结构版本 {revision} 无法升级到 {head_revision()}：{exc}") from None
        check = sqlite3.connect(scratch)
        try:
            broken = check.execute("PRAGMA foreign_key_check").fetchall()
        finally:
            check.close()
        if broken:
            raise BackupError(f"备份文件中的数据不一致（外键指向不存在的行，如 {broken[0][0]} 表）：{path}")

        # 3. Into the target in one write transaction: all of it or (after a crash) none of it.
        src = sqlite3.connect(scratch)
        try:
            dst = sqlite3.connect(target, timeout=60)
            try:
                src.backup(dst)
            finally:
                dst.close()
        except sqlite3.Error as exc:
            raise BackupError(f"无法写入目标数据库 {target}：{exc}（数据库未改动）") from None
        finally:
            src.close()
    finally:
        _remove(*scratch_files)
    return revision, replaced


# ---- PostgreSQL ------------------------------------------------------------------------------

# libpq's connection parameters and the environment variables that carry them to its tools.
_LIBPQ_ENV = {
    "host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "dbname": "PGDATABASE", "user": "PGUSER",
    "password": "PGPASSWORD", "passfile": "PGPASSFILE", "service": "PGSERVICE", "options": "PGOPTIONS",
    "application_name": "PGAPPNAME", "sslmode": "PGSSLMODE", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
    "sslrootcert": "PGSSLROOTCERT", "sslcrl": "PGSSLCRL", "connect_timeout": "PGCONNECT_TIMEOUT",
    "gssencmode": "PGGSSENCMODE", "channel_binding": "PGCHANNELBINDING",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}
_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")
_DUMPED_BY = re.compile(r"Dumped by pg_dump version:\s*(\d+)")
_PG_NAME_MAX = 63
# pg_restore --verbose: one line per archive entry it restores (the progress).
_RESTORE_STEPS = ("pg_restore: creating", "pg_restore: processing", "pg_restore: executing")


def _pg_url(url: str, database: str | None = None) -> str:
    """The URL for SQLAlchemy (psycopg driver), of `database` on the same server if given; with its
    password (str() of a URL masks it)."""
    u = make_url(url)
    if u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    if database is not None:
        u = u.set(database=database)
    return u.render_as_string(hide_password=False)


def pg_environment(url: str, database: str | None = None) -> dict[str, str]:
    """The environment for pg_dump/pg_restore to reach the database of `url` (or `database` on its
    server): the process's environment with libpq's variables set from the URL."""
    u = make_url(url)
    env = dict(os.environ)
    params: dict[str, str | None] = {"host": u.host, "port": str(u.port) if u.port else None,
                                     "user": u.username, "password": u.password,
                                     "dbname": database or u.database}
    for key, value in u.query.items():
        if key in _LIBPQ_ENV and key not in ("dbname",) and not params.get(key):
            params[key] = value if isinstance(value, str) else value[-1]
    for key, value in params.items():
        if value:
            env[_LIBPQ_ENV[key]] = str(value)
    return env


@dataclass(frozen=True, slots=True)
class Tool:
    path: str
    major: int


def _tool_version(path: str) -> int | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=TOOLS_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError):
        return None
    found = _VERSION.search(out.stdout)
    return int(found.group(1)) if found else None


def _tool_candidates(name: str, pg_bin: Path | None) -> list[str]:
    if pg_bin is not None:
        return [str(pg_bin / name)] if (pg_bin / name).is_file() else []
    found = [shutil.which(name)]
    found += sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)  # Debian, Ubuntu
    found += sorted(glob(f"/usr/pgsql-*/bin/{name}"), reverse=True)  # RHEL (PGDG)
    out: list[str] = []
    for path in found:
        if path and path not in out and os.access(path, os.X_OK):
            out.append(path)
    return out


def find_tool(name: str, server_major: int, pg_bin: Path | None = None) -> Tool:
    """pg_dump or pg_restore, of the server's major version or newer (the nearest such version:
    an older one cannot dump a newer server). Looked for in `pg_bin` only when given, else on
    PATH and in the usual installation directories."""
    versions = [(path, _tool_version(path)) for path in _tool_candidates(name, pg_bin)]
    usable = [Tool(path, major) for path, major in versions if major is not None and major >= server_major]
    if usable:
        return min(usable, key=lambda tool: tool.major)  # the first found among equals
    where = f"目录 {pg_bin} 中" if pg_bin is not None else ""
    install = (f"请安装 PostgreSQL {server_major} 或更新版本的客户端工具（Debian/Ubuntu："
               f"apt-get install postgresql-client-{server_major}）")
    if pg_bin is None:
        install += "，或用 --pg-bin 指定它们所在的目录"
    found = [f"{path}（{major}）" for path, major in versions if major is not None]
    if found:
        raise BackupError(f"{name} 版本过旧：{where}找到 {'、'.join(found)}，数据库服务器是 PostgreSQL "
                          f"{server_major}；{install}")
    raise BackupError(f"{where}找不到 {name}：PostgreSQL 数据库的备份和恢复需要它；{install}")


def _server_major(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10000


def _connect_error(url: str, exc: Exception) -> BackupError:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return BackupError(f"无法连接数据库 {shown_url(url)}：{reason}")


def _run_tool(args: Sequence[str], env: dict[str, str],
              on_line: Callable[[str], bool] | None = None) -> tuple[int, list[str]]:
    """Run a PostgreSQL tool, reading its stderr line by line: `on_line` sees each line (its
    --verbose lines drive the progress) and says whether it was only progress. The exit status
    and the other lines."""
    process = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, errors="replace")
    messages: list[str] = []
    try:
        assert process.stderr is not None
        for line in process.stderr:
            line = line.rstrip("\n")
            if on_line is not None and on_line(line):
                continue
            if line.strip():
                messages.append(line)
        return process.wait(), messages
    except BaseException:
        process.kill()
        process.wait()
        raise


def _tool_problem(messages: list[str]) -> str:
    """The tool's error lines (its own words: table names, server messages), shortened."""
    errors = [m for m in messages if "error" in m or "FATAL" in m or "fatal" in m] or messages
    return "；".join(m.strip() for m in errors[-3:]) or "原因不明"


def _pg_backup(url: str, out: Path, pg_bin: Path | None, progress: Progress | None) -> str:
    engine = make_engine(_pg_url(url))
    try:
        try:
            major = _server_major(engine)
            with engine.connect() as conn:
                tables = len(sa.inspect(conn).get_table_names())
                has_version = sa.inspect(conn).has_table("alembic_version")
                revision = (conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
                            if has_version else None)
        except sa.exc.SQLAlchemyError as exc:
            raise _connect_error(url, exc) from None
    finally:
        engine.dispose()
    if revision is None:
        raise BackupError(f"数据库 {shown_url(url)} 没有结构版本（alembic_version）：不是 xxgk 的数据库，或尚未建立结构")
    tool = find_tool("pg_dump", major, pg_bin)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.partial")
    done = 0

    def on_line(line: str) -> bool:
        nonlocal done
        if "dumping contents of table" in line:
            done += 1
            if progress is not None:
                progress(min(done, tables), tables)
        return line.startswith("pg_dump: ") and "error" not in line

    try:
        code, messages = _run_tool([tool.path, "--format=custom", "--verbose", f"--file={tmp}"],
                                   pg_environment(url), on_line)
        if code != 0:
            raise BackupError(f"pg_dump 失败（退出状态 {code}）：{_tool_problem(messages)}")
        if progress is not None:
            progress(tables, tables)
        _publish(tmp, out)
    finally:
        _remove(tmp)
    return str(revision)


def _archive_info(tool: Tool, path: Path, env: dict[str, str]) -> tuple[int, int | None, str | None]:
    """(number of entries, major version of the pg_dump that made it, schema revision) of a
    pg_dump archive; BackupError when it cannot be read."""
    listing = subprocess.run([tool.path, "--list", str(path)], capture_output=True, text=True, env=env,
                             errors="replace", timeout=TOOLS_TIMEOUT_S)
    if listing.returncode != 0:
        problem = listing.stderr.strip().splitlines()[-1:] or [f"pg_restore 异常退出，状态 {listing.returncode}"]
        if "unsupported version" in listing.stderr:
            raise BackupError(f"这个备份由更新版本的 pg_dump 生成，{tool.path}（PostgreSQL {tool.major}）读不了："
                              f"请安装更新版本的 PostgreSQL 客户端工具，或用 --pg-bin 指定（{problem[0]}）")
        raise BackupError(f"备份文件已损坏或无法读取：{path}（{problem[0]}）")
    entries = sum(1 for line in listing.stdout.splitlines() if line.strip() and not line.startswith(";"))
    found = _DUMPED_BY.search(listing.stdout)
    dumped_by = int(found.group(1)) if found else None
    data = subprocess.run([tool.path, "--data-only", "--table=alembic_version", "--file=-", str(path)],
                          capture_output=True, text=True, env=env, errors="replace", timeout=TOOLS_TIMEOUT_S)
    if data.returncode != 0:
        problem = data.stderr.strip().splitlines()[-1:] or [f"pg_restore 异常退出，状态 {data.returncode}"]
        raise BackupError(f"备份文件已损坏或无法读取：{path}（{problem[0]}）")
    lines = data.stdout.splitlines()
    revision = None
    for i, line in enumerate(lines):
        copy = line.startswith("COPY ") and "alembic_version" in line
        if copy and i + 1 < len(lines) and lines[i + 1] != "\\.":
            revision = lines[i + 1].strip()
    return entries, dumped_by, revision


def _scratch_name(target: str, suffix: str) -> str:
    return target.encode()[: _PG_NAME_MAX - len(suffix)].decode(errors="ignore") + suffix


@contextmanager
def _admin(url: str) -> Iterator[sa.Connection]:
    """An autocommit connection to the server's maintenance database (postgres, else template1),
    for CREATE/ALTER/DROP DATABASE."""
    last: Exception | None = None
    for name in ("postgres", "template1"):
        engine = make_engine(_pg_url(url, name), isolation_level="AUTOCOMMIT")
        try:
            conn = engine.connect()
        except sa.exc.OperationalError as exc:
            engine.dispose()
            last = exc
            continue
        try:
            yield conn
        finally:
            conn.close()
            engine.dispose()
        return
    raise _connect_error(url, last or RuntimeError("postgres"))


def _drop(admin: sa.Connection, name: str, major: int) -> None:
    """Drop a database of ours (a scratch copy, the replaced store), its sessions with it (13+)."""
    force = " WITH (FORCE)" if major >= 13 else ""
    admin.exec_driver_sql(f"DROP DATABASE IF EXISTS {_quote(name)}{force}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _pg_restore(url: str, path: Path, force: bool, pg_bin: Path | None,
                progress: Progress | None) -> tuple[str, bool]:
    target = make_url(url).database
    if not target:
        raise BackupError(f"数据库地址中没有数据库名：{shown_url(url)}")
    scratch, old = _scratch_name(target, "__xxgk_restore"), _scratch_name(target, "__xxgk_old")
    with _admin(url) as admin:
        major = int(admin.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10000
        row = admin.execute(sa.text("SELECT pg_encoding_to_char(encoding) FROM pg_database "
                                    "WHERE datname = :n"), {"n": target}).first()
        exists, encoding = row is not None, (row[0] if row is not None else "UTF8")
        # Left by a restore that was killed: never the target itself.
        for leftover in (scratch, old):
            _drop(admin, leftover, major)
    tool = find_tool("pg_restore", major, pg_bin)
    env = pg_environment(url, scratch)
    entries, dumped_by, revision = _archive_info(tool, path, env)
    revision = _check_revision(revision, "备份文件")
    if dumped_by is not None and dumped_by > tool.major:
        raise BackupError(f"这个备份由 pg_dump {dumped_by} 生成，{tool.path} 是 PostgreSQL {tool.major} 的版本："
                          f"请安装 PostgreSQL {dumped_by} 或更新版本的客户端工具，或用 --pg-bin 指定")
    replaced = False
    if exists:
        try:
            replaced = _refuse_nonempty(make_engine(_pg_url(url)), url, force)
        except sa.exc.SQLAlchemyError as exc:
            raise _connect_error(url, exc) from None

    with _admin(url) as admin:
        try:
            admin.exec_driver_sql(
                f"CREATE DATABASE {_quote(scratch)} TEMPLATE template0 ENCODING '{encoding}'")
        except sa.exc.DBAPIError as exc:
            raise BackupError(f"无法建立临时数据库 {scratch}（恢复需要建库权限 CREATEDB）：{_first_line(exc)}") from None
        try:
            done = 0

            def on_line(line: str) -> bool:
                nonlocal done
                if not line.startswith(_RESTORE_STEPS):
                    return line.startswith("pg_restore: ") and "error" not in line and "warning" not in line
                done += 1
                if progress is not None:
                    progress(min(done, entries), entries)
                return True

            code, messages = _run_tool(
                [tool.path, "--no-owner", "--no-acl", "--exit-on-error", "--verbose",
                 f"--dbname={_conninfo_db(scratch)}", str(path)], env, on_line)
            if code != 0:
                raise BackupError(f"恢复失败，备份文件可能已损坏（数据库未改动）：{_tool_problem(messages)}")
            scratch_url = _pg_url(url, scratch)
            try:
                upgrade(scratch_url)
                scratch_engine = make_engine(scratch_url, isolation_level="AUTOCOMMIT")
                try:
                    with scratch_engine.connect() as conn:
                        conn.exec_driver_sql("ANALYZE")  # pg_restore brings no planner statistics
                finally:
                    scratch_engine.dispose()
            except sa.exc.SQLAlchemyError as exc:
                raise BackupError(f"备份的结构版本 {revision} 无法升级到 {head_revision()}：{_first_line(exc)}"
                                  "（数据库未改动）") from None
            if progress is not None:
                progress(entries, entries)
            _swap(admin, target, scratch, old, exists)
        except BaseException:
            with suppress(sa.exc.SQLAlchemyError):
                _drop(admin, scratch, major)
            raise
        with suppress(sa.exc.SQLAlchemyError):  # kept only if it cannot be dropped now: the next restore does
            _drop(admin, old, major)
    return revision, replaced


def _conninfo_db(name: str) -> str:
    """A libpq connection string naming only the database (the rest comes from the environment):
    pg_restore's --dbname reads a bare name containing '=' as a connection string."""
    return "dbname='" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _swap(admin: sa.Connection, target: str, scratch: str, old: str, exists: bool) -> None:
    """The restored database takes the target's name, in one transaction."""
    if exists:
        others = admin.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = :n"),
                               {"n": target}).scalar_one()
        if others:
            raise BackupError(f"数据库 {target} 还有 {others} 个连接（xxgk serve、xxgk worker 或其他程序）："
                              "请先停止它们再恢复（数据库未改动）")
    # The admin connection autocommits (CREATE/DROP DATABASE need that): the transaction is explicit.
    try:
        admin.exec_driver_sql("BEGIN")
        try:
            if exists:
                admin.exec_driver_sql(f"ALTER DATABASE {_quote(target)} RENAME TO {_quote(old)}")
            admin.exec_driver_sql(f"ALTER DATABASE {_quote(scratch)} RENAME TO {_quote(target)}")
        except BaseException:
            admin.exec_driver_sql("ROLLBACK")
            raise
        admin.exec_driver_sql("COMMIT")
    except sa.exc.DBAPIError as exc:
        raise BackupError(f"无法用恢复的数据库替换 {target}（需要是该数据库的所有者，且没有其他连接）："
                          f"{_first_line(exc)}（数据库未改动）") from None
