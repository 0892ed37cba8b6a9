"""`xxgk backup` and `xxgk restore` (db/backup.py), run as real subprocesses on real stores: SQLite
files, and in CI's second pass databases on a real PostgreSQL server with the real pg_dump and
pg_restore. A round trip must give back every row of every table; a restore must refuse what it
cannot restore whole, and never leave a half-restored database behind (even when SIGKILLed)."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

import store_builders as sb
from compliance.registry import import_registry, load_registry
from compliance.sweep import sweep
from databases import ON_POSTGRES, drop_database, new_database_url
from db.engine import current_revision, head_revision, make_engine, session, upgrade
from db.models import Subscriber
from xxgk.config import Settings

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "Pa55-w0rd-never-shown"


# ---- helpers -----------------------------------------------------------------------------------


def xxgk(url: str, cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("XXGK_")}
    environment["XXGK_DATABASE_URL"] = url
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "xxgk.cli", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=300)


def table_rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order (all columns where there is none)."""
    engine = make_engine(url)
    try:
        meta = sa.MetaData()
        meta.reflect(engine)
        out: dict[str, list[tuple]] = {}
        with engine.connect() as conn:
            for name, table in sorted(meta.tables.items()):
                order = list(table.primary_key.columns) or list(table.columns)
                out[name] = [tuple(row) for row in conn.execute(sa.select(table).order_by(*order))]
        return out
    finally:
        engine.dispose()


def counts(rows: dict[str, list[tuple]]) -> dict[str, int]:
    return {name: len(r) for name, r in rows.items()}


@pytest.fixture
def other_url(tmp_path: Path) -> Iterator[str]:
    """A second store on the same kind of database, empty and without a schema: the restore target."""
    url = new_database_url(tmp_path, "target.db", migrated=False)
    yield url
    drop_database(url)


def build_store(url: str, *, reports: int = 6, seed: int = 1) -> None:
    """A store with content in every part: the demo registry (agencies, aliases, regions), crawled
    reports with cells and findings, crawl runs, a sweep (tracked findings, their events, alerts)
    and subscribers with deliveries, some of them sent."""
    upgrade(url)
    engine = make_engine(url)
    try:
        with session(engine) as s:
            import_registry(s, load_registry(REPO / "xxgk" / "demo" / "agencies.csv"))
            s.add(Subscriber(name=f"督查{seed}", channel="webhook", target="http://127.0.0.1:9/hook",
                             created_at=datetime(2022, 1, 1, tzinfo=UTC)))
            s.add(Subscriber(name=f"日报{seed}", channel="console", mode="digest", min_severity="info",
                             created_at=datetime(2022, 1, 1, tzinfo=UTC)))
        names = ["连江县人民政府", "宁波市镇海区人民政府", "宁波市镇海区人力资源和社会保障局"]
        for i in range(reports):
            agency = names[i % len(names)] if i < len(names) else f"测试县第{seed}{i}局"
            findings = [sb.BALANCE] if i % 2 else []
            for year in (2021, 2022):
                published = datetime(year + 1, 1, 10, tzinfo=UTC) + timedelta(days=30 * (i % 4))  # some late
                sb.save(engine, sb.report(agency, year, 3 * i + year % 7, review=i, findings=findings),
                        published, f"site{seed}-{i % 3}")
        sb.crawled(engine, [f"site{seed}-{k}" for k in range(3)])
        settings = Settings()
        for year in (2021, 2022):
            sweep(engine, year, today=date(2023, 6, 1), now=datetime(2023, 6, 1, tzinfo=UTC),
                  deadlines=settings.deadlines)
        with engine.begin() as conn:  # a few deliveries already sent, as after an `xxgk alerts send`
            conn.execute(sa.text("UPDATE alert_delivery SET state = 'sent', sent_at = :t, attempts = 1 "
                                 "WHERE id IN (SELECT id FROM alert_delivery ORDER BY id LIMIT 3)"),
                         {"t": datetime(2023, 6, 1, 1, tzinfo=UTC)})
    finally:
        engine.dispose()


def with_password(url: str) -> str:
    """`url` with a password (the test server trusts local connections, so any password works)."""
    return make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)


# ---- round trip --------------------------------------------------------------------------------


def test_backup_and_restore_give_back_every_row_of_every_table(db_url, other_url, tmp_path):
    build_store(db_url)
    original = table_rows(db_url)
    sizes = counts(original)
    for table in ("agency", "agency_alias", "region", "document", "document_version", "report",
                  "report_figure", "finding", "crawl_run", "tracked_finding", "finding_event", "alert",
                  "alert_delivery", "subscriber"):
        assert sizes[table] > 0, f"the store has no {table} rows: the round trip would prove nothing"

    made = xxgk(db_url, tmp_path, "backup", "store.backup")
    assert made.returncode == 0, made.stderr
    kind = "PostgreSQL" if ON_POSTGRES else "SQLite"
    assert made.stdout.startswith(f"已备份到 {tmp_path / 'store.backup'}（{kind}，") and "结构版本 0009" in made.stdout
    assert not list(tmp_path.glob(".store.backup*"))  # no temporary file left beside it
    if not ON_POSTGRES:  # one self-contained file: a rollback journal, no -wal beside it
        assert (tmp_path / "store.backup").read_bytes()[18:20] == b"\x01\x01"

    done = xxgk(other_url, tmp_path, "restore", "store.backup")
    assert done.returncode == 0, done.stderr
    assert "已从 store.backup 恢复到" in done.stdout and "原有数据" not in done.stdout
    assert table_rows(other_url) == original
    assert current_revision(other_url) == head_revision()

    # The restored store goes on: new rows get new ids (PostgreSQL's sequences came along).
    engine = make_engine(other_url)
    try:
        sb.save(engine, sb.report("恢复后新增的局", 2022, 5), datetime(2023, 1, 9, tzinfo=UTC), "site-new")
    finally:
        engine.dispose()
    after = counts(table_rows(other_url))
    assert after["report"] == sizes["report"] + 1 and after["report_figure"] == sizes["report_figure"] + 1
    assert table_rows(db_url) == original  # the backup changed nothing in the source


def test_an_older_backup_is_migrated_forward_on_restore(blank_db_url, other_url, tmp_path):
    upgrade(blank_db_url, "0008")
    engine = make_engine(blank_db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO agency (name, region_code, level, registered) "
                             "VALUES ('宁波市镇海区民政局', '330211', 'department', true)"))
    engine.dispose()
    assert xxgk(blank_db_url, tmp_path, "backup", "old.backup").returncode == 0

    done = xxgk(other_url, tmp_path, "restore", "old.backup")
    assert done.returncode == 0, done.stderr
    assert "备份的结构版本 0008，已升级到 0009" in done.stdout
    assert current_revision(other_url) == "0009"
    rows = table_rows(other_url)
    assert [r[1] for r in rows["agency"]] == ["宁波市镇海区民政局"]
    assert "report_figure" in rows


# ---- refusals: the target stays as it was -----------------------------------------------------


def test_a_store_with_data_is_not_overwritten_without_force(db_url, other_url, tmp_path):
    build_store(db_url, seed=1)
    assert xxgk(db_url, tmp_path, "backup", "one.backup").returncode == 0
    build_store(other_url, reports=4, seed=2)
    before = table_rows(other_url)

    refused = xxgk(other_url, tmp_path, "restore", "one.backup")
    assert refused.returncode == 1
    assert refused.stderr.startswith("错误：目标数据库") and "不是空的" in refused.stderr
    assert "请加 --force" in refused.stderr and "Traceback" not in refused.stderr
    assert table_rows(other_url) == before

    forced = xxgk(other_url, tmp_path, "restore", "--force", "one.backup")
    assert forced.returncode == 0, forced.stderr
    assert "原有数据已被替换" in forced.stdout
    assert table_rows(other_url) == table_rows(db_url)


def test_an_existing_backup_file_is_not_overwritten_without_force(db_url, tmp_path):
    build_store(db_url, reports=2)
    (tmp_path / "taken.backup").write_bytes(b"keep me")
    refused = xxgk(db_url, tmp_path, "backup", "taken.backup")
    assert refused.returncode == 1 and "备份文件已存在" in refused.stderr
    assert (tmp_path / "taken.backup").read_bytes() == b"keep me"
    assert xxgk(db_url, tmp_path, "backup", "--force", "taken.backup").returncode == 0
    assert (tmp_path / "taken.backup").read_bytes() != b"keep me"


def _sqlite_file(path: Path, revision: str | None) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('not a store')")
    if revision is not None:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES (?)", (revision,))
    conn.commit()
    conn.close()
    return path


def test_missing_empty_foreign_and_wrong_kind_files_are_refused(db_url, other_url, tmp_path):
    build_store(other_url, reports=2)
    before = table_rows(other_url)
    (tmp_path / "empty.backup").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("今天的会议记录\n", encoding="utf-8")
    (tmp_path / "plain.sql").write_text("--\n-- PostgreSQL database dump\n--\nSET x = 1;\n", encoding="utf-8")
    (tmp_path / "fake.dump").write_bytes(b"PGDMP\x01\x0e\x00" + bytes(200))
    cases = [
        ("missing.backup", "备份文件不存在"),
        ("empty.backup", "备份文件是空的"),
        ("notes.txt", "不是 xxgk 的备份文件"),
        ("plain.sql", "纯文本 SQL 备份"),
    ]
    if ON_POSTGRES:
        cases.append((_sqlite_file(tmp_path / "sqlite.backup", "0009").name,
                      "是 SQLite 数据库的备份，当前数据库是 PostgreSQL"))
    else:
        cases += [
            ("fake.dump", "是 PostgreSQL 数据库的备份，当前数据库是 SQLite"),
            (_sqlite_file(tmp_path / "other-app.db", None).name, "不是 xxgk 数据库的备份"),
            (_sqlite_file(tmp_path / "future.db", "0042").name, "结构版本 0042 本程序不认识"),
        ]
    for name, message in cases:
        proc = xxgk(other_url, tmp_path, "restore", "--force", name)
        assert proc.returncode == 1, (name, proc.stdout, proc.stderr)
        assert proc.stderr.startswith("错误：") and message in proc.stderr, (name, proc.stderr)
        assert "Traceback" not in proc.stderr
    assert table_rows(other_url) == before


def test_a_corrupt_backup_is_refused_and_the_store_is_untouched(db_url, other_url, tmp_path):
    build_store(db_url, reports=9)
    assert xxgk(db_url, tmp_path, "backup", "good.backup").returncode == 0
    source = table_rows(db_url)
    build_store(other_url, reports=2, seed=2)
    before = table_rows(other_url)
    assert xxgk(other_url, tmp_path, "backup", "before.backup").returncode == 0
    data = (tmp_path / "good.backup").read_bytes()
    # Truncated, and damaged in the middle (where the data is) at a few places.
    (tmp_path / "cut.backup").write_bytes(data[: len(data) // 2])
    damaged = []
    for k, fraction in enumerate((0.2, 0.3, 0.5, 0.7)):
        at = int(len(data) * fraction)
        path = tmp_path / f"damaged{k}.backup"
        path.write_bytes(data[:at] + bytes(range(256)) * 4 + data[at + 1024:])
        damaged.append(path.name)
    outcomes = []
    for name in ["cut.backup", *damaged]:
        proc = xxgk(other_url, tmp_path, "restore", "--force", name)
        outcomes.append((name, proc.returncode, proc.stderr.strip()))
        if proc.returncode == 0:  # the damage fell where nothing is read (free pages of a SQLite file)
            assert table_rows(other_url) == source, f"{name} restored with damaged rows"
            assert xxgk(other_url, tmp_path, "restore", "--force", "before.backup").returncode == 0
            continue
        assert proc.returncode == 1 and "损坏" in proc.stderr, (name, proc.stderr)
        assert table_rows(other_url) == before, name
    assert outcomes[0][1] == 1, outcomes  # a truncated file is always refused
    assert sum(code == 1 for _, code, _ in outcomes[1:]) >= 1, outcomes
    if ON_POSTGRES:  # some damage is only found by pg_restore half-way through: in the scratch database
        assert any("恢复失败" in message for _, _, message in outcomes), outcomes
    _assert_no_scratch_left(other_url, tmp_path)


def _assert_no_scratch_left(url: str, tmp_path: Path) -> None:
    if ON_POSTGRES:
        engine = make_engine(url)
        with engine.connect() as conn:
            names = conn.execute(sa.text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                                 {"p": make_url(url).database + "__xxgk%"}).scalars().all()
        engine.dispose()
        assert names == []
    else:
        # A killed restore may leave its scratch file; the next restore removes it.
        assert [p.name for p in tmp_path.iterdir() if "xxgk-restore" in p.name] == []


# ---- never half-restored ------------------------------------------------------------------------


def test_a_restore_killed_at_random_points_leaves_the_old_or_the_new_store(db_url, other_url, tmp_path):
    seed = int(os.environ.get("XXGK_KILL_SEED") or random.randrange(1 << 30))
    print(f"seed {seed} (XXGK_KILL_SEED={seed} replays it)")
    rng = random.Random(seed)
    build_store(db_url, reports=12, seed=1)
    assert xxgk(db_url, tmp_path, "backup", "new.backup").returncode == 0
    new = table_rows(db_url)
    build_store(other_url, reports=3, seed=2)
    old = table_rows(other_url)
    assert new != old
    assert xxgk(other_url, tmp_path, "backup", "old.backup").returncode == 0  # to put the old content back

    # Each restore is killed at a random moment of its work: from when its scratch copy appears
    # (the work before that only reads) to a little past how long that work took uncut.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("XXGK_")}
    environment["XXGK_DATABASE_URL"] = other_url
    seen = {"old": 0, "new": 0}
    work = 0.0
    for attempt in range(7):
        proc = subprocess.Popen([sys.executable, "-m", "xxgk.cli", "restore", "--force", "new.backup"], cwd=tmp_path,
                                env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        began = _wait_for_scratch(other_url, tmp_path, proc)
        if attempt == 0:  # uncut: how long the scratch copy lives (restored, checked, swapped in)
            work = _wait_for_scratch(other_url, tmp_path, proc, gone=True) - began
            assert proc.wait(300) == 0, proc.stderr.read()  # type: ignore[union-attr]
            _restore_old(other_url, tmp_path, old)
            continue
        time.sleep(rng.uniform(0, 1.3 * work))
        proc.send_signal(signal.SIGKILL)
        proc.wait(60)
        proc.stderr.close()  # type: ignore[union-attr]
        rows = table_rows(other_url)
        assert rows in (old, new), (f"half-restored after a kill at attempt {attempt} (seed {seed}): tables "
                                    f"unlike the old {_differing(rows, old)}, unlike the new {_differing(rows, new)}")
        seen["old" if rows == old else "new"] += 1
        if rows == new:
            _restore_old(other_url, tmp_path, old)
    print(f"after the kills: old store {seen['old']} times, new store {seen['new']} times; work {work:.2f} s")
    # A kill never blocks the next restore (PostgreSQL: its scratch database is dropped first).
    assert xxgk(other_url, tmp_path, "restore", "--force", "new.backup").returncode == 0
    assert table_rows(other_url) == new
    _assert_no_scratch_left(other_url, tmp_path)


def _differing(a: dict[str, list[tuple]], b: dict[str, list[tuple]]) -> list[str]:
    return sorted(name for name in a.keys() | b.keys() if a.get(name) != b.get(name))


def _wait_for_scratch(url: str, tmp_path: Path, proc: subprocess.Popen, gone: bool = False) -> float:
    """When the restore's scratch copy (file or database) appeared (with `gone`: disappeared), or
    the process ended."""
    scratch = make_url(url).database + "__xxgk_restore" if ON_POSTGRES else None
    admin = make_engine(os.environ["XXGK_TEST_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)) \
        if ON_POSTGRES else None
    try:
        while proc.poll() is None:
            if admin is not None:
                with admin.connect() as conn:
                    there = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                         {"n": scratch}).first() is not None
            else:
                there = (tmp_path / ".target.db.xxgk-restore").exists()
            if there != gone:
                break
            time.sleep(0.01)
        return time.monotonic()
    finally:
        if admin is not None:
            admin.dispose()


def _restore_old(target: str, tmp_path: Path, old: dict) -> None:
    """Put the old content back into `target` (from its backup, old.backup)."""
    done = xxgk(target, tmp_path, "restore", "--force", "old.backup")
    assert done.returncode == 0, done.stderr
    assert table_rows(target) == old


# ---- a backup while the store is written -------------------------------------------------------


def test_a_backup_taken_while_reports_are_saved_is_consistent(db_url, other_url, tmp_path):
    build_store(db_url, reports=3)
    engine = make_engine(db_url)
    stop = threading.Event()
    saved: list[int] = []

    def writer() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            sb.save(engine, sb.report(f"并发写入第{i}局", 2022, i, findings=[sb.BALANCE]),
                    datetime(2023, 1, 5, tzinfo=UTC), "busy-site")
            saved.append(i)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(saved) < 5:
            time.sleep(0.05)
        made = xxgk(db_url, tmp_path, "backup", "busy.backup")
    finally:
        stop.set()
        thread.join(60)
        engine.dispose()
    assert made.returncode == 0, made.stderr
    assert xxgk(other_url, tmp_path, "restore", "busy.backup").returncode == 0
    restored = make_engine(other_url)
    try:
        with restored.connect() as conn:
            busy = conn.execute(sa.text("SELECT count(*) FROM report r JOIN agency a ON a.id = r.agency_id "
                                        "WHERE a.name LIKE '并发写入%'")).scalar_one()
            lacking = conn.execute(sa.text(
                "SELECT count(*) FROM report r JOIN agency a ON a.id = r.agency_id WHERE a.name LIKE '并发写入%' "
                "AND (NOT EXISTS (SELECT 1 FROM report_figure f WHERE f.report_id = r.id) "
                "OR NOT EXISTS (SELECT 1 FROM finding f WHERE f.report_id = r.id AND f.rule = 'balance'))"
            )).scalar_one()
    finally:
        restored.dispose()
    assert busy >= 5 and busy <= len(saved)  # a snapshot: what was committed when it began
    assert lacking == 0  # every report whole: its figures and its findings with it


# ---- PostgreSQL: the tools, and the password -----------------------------------------------------


pg_only = pytest.mark.skipif(not ON_POSTGRES, reason="pg_dump/pg_restore: PostgreSQL only")


def _recording_tools(directory: Path, log: Path) -> Path:
    """pg_dump and pg_restore wrappers that note their command line and PGPASSWORD, then run the
    real tools (the first of the server's version found the usual way)."""
    from db.backup import find_tool

    engine = make_engine(os.environ["XXGK_TEST_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        major = int(conn.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10000
    engine.dispose()
    directory.mkdir()
    for name in ("pg_dump", "pg_restore"):
        real = find_tool(name, major).path
        script = directory / name
        script.write_text(
            "#!/usr/bin/env python3\n"
            "import json, os, sys\n"
            f"with open({str(log)!r}, 'a') as f:\n"
            "    f.write(json.dumps({'argv': sys.argv, 'pgpassword': os.environ.get('PGPASSWORD')}) + '\\n')\n"
            f"os.execv({real!r}, [{real!r}, *sys.argv[1:]])\n", encoding="utf-8")
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return directory


@pg_only
def test_the_password_goes_to_the_tools_by_environment_never_on_the_command_line(db_url, other_url, tmp_path):
    build_store(db_url, reports=2)
    tools = _recording_tools(tmp_path / "bin", tmp_path / "calls.jsonl")
    source, target = with_password(db_url), with_password(other_url)
    outputs = []
    for url, args in ((source, ("backup", "pw.backup")), (target, ("restore", "pw.backup")),
                      (target, ("restore", "pw.backup"))):  # the last one refused: the target has data now
        proc = xxgk(url, tmp_path, *args, "--pg-bin", str(tools))
        outputs.append(proc.stdout + proc.stderr)
        assert proc.returncode == (1 if len(outputs) == 3 else 0), proc.stderr
    assert "***" in outputs[2] and "不是空的" in outputs[2]  # the URL is shown, masked
    calls = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    assert {Path(c["argv"][0]).name for c in calls} >= {"pg_dump", "pg_restore"}
    work = [c for c in calls if c["argv"][1:] != ["--version"]]  # asking a tool its version needs no server
    assert work and all(c["pgpassword"] == PASSWORD for c in work)
    assert not any(PASSWORD in arg for c in calls for arg in c["argv"])
    assert not any(PASSWORD in out for out in outputs)
    assert table_rows(other_url) == table_rows(db_url)


@pg_only
def test_missing_or_too_old_tools_get_a_clear_error(db_url, other_url, tmp_path):
    build_store(db_url, reports=1)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    missing = xxgk(db_url, tmp_path, "backup", "x.backup", "--pg-bin", str(empty))
    assert missing.returncode == 1 and f"目录 {empty} 中找不到 pg_dump" in missing.stderr
    assert "postgresql-client-" in missing.stderr

    old = tmp_path / "old-bin"
    old.mkdir()
    for name in ("pg_dump", "pg_restore"):  # what a PostgreSQL 9.6 client answers
        script = old / name
        script.write_text(f"#!/bin/sh\necho '{name} (PostgreSQL) 9.6.24'\n", encoding="utf-8")
        script.chmod(0o755)
    too_old = xxgk(db_url, tmp_path, "backup", "x.backup", "--pg-bin", str(old))
    assert too_old.returncode == 1 and "pg_dump 版本过旧" in too_old.stderr and "（9）" in too_old.stderr
    assert not (tmp_path / "x.backup").exists()
    assert xxgk(db_url, tmp_path, "backup", "x.backup").returncode == 0
    refused = xxgk(other_url, tmp_path, "restore", "x.backup", "--pg-bin", str(old))
    assert refused.returncode == 1 and "pg_restore 版本过旧" in refused.stderr


def test_help_explains_both_commands(tmp_path):
    for command, words in (("backup", ("一致快照", "pg_dump", "退出状态")),
                           ("restore", ("--force", "结构版本", "原数据库不变", "退出状态"))):
        proc = subprocess.run([sys.executable, "-m", "xxgk.cli", command, "--help"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0
        assert all(w in proc.stdout for w in words), proc.stdout
