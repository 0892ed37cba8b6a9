"""Nothing lost, nothing half-written: real `xxgk crawl` and `xxgk alerts send` processes SIGKILLed
at random moments, 25 times each, on SQLite and (CI's second pass) on PostgreSQL.

- The crawl runs against loopback demo sites that keep publishing new reports and editing old ones
  between runs; it is killed (with its check worker: the whole process group, as a crashed host or
  `systemctl kill` would) a random time after its first request.
- `xxgk alerts send` (and `--digest` every fourth run) delivers to a webhook server on 127.0.0.1
  that answers after a short pause, so kills land before, during and after each send; new alerts
  arrive between runs.

After every kill the store must be consistent: no foreign key pointing nowhere (and SQLite's
integrity_check and foreign_key_check clean), and every report whole: its report_figure row
(with its agency's year, region and level), its document, and the document's version holding
its current content. After a last uncut run: every report stored exactly once with the latest
content; every alert delivered, none twice except a message in flight at a kill, and every such
repeat marked 「（可能重复）」.

The seed is printed; XXGK_KILL_SEED=<seed> replays the same delays and changes."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

import store_builders as sb
from compliance.alerts import create_alerts
from compliance.sweep import sweep
from db.engine import make_engine, session, upgrade
from db.models import Agency, Subscriber, TrackedFinding
from test_alerts import REPEAT, WebhookServer, arrivals
from xxgk.config import Settings
from xxgk.demo import DemoServer, sites_config
from xxgk.demo.plain import many_sites
from xxgk.render import synthetic_spec

KILLS = 25  # per half: crawl, then alert delivery


def _seed() -> int:
    seed = int(os.environ.get("XXGK_KILL_SEED") or random.randrange(1 << 30))
    print(f"\nseed {seed} (XXGK_KILL_SEED={seed} replays it)")
    return seed


def _env(db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XXGK_") and "proxy" not in k.lower()}
    env["XXGK_DATABASE_URL"] = db_url
    return env


def _start(args: list[str], db_url: str, cwd: Path) -> subprocess.Popen[str]:
    """`xxgk …` in a process group of its own (it and its check workers die together)."""
    return subprocess.Popen([sys.executable, "-m", "xxgk.cli", *args], cwd=cwd, env=_env(db_url),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _kill_after(proc: subprocess.Popen[str], started: Callable[[], bool], delay: float,
                limit: float = 120) -> tuple[bool, float]:
    """SIGKILL the process group `delay` seconds after `started()` first holds (its work began).
    Whether it was killed (False: it ended on its own first), and when its work began."""
    deadline = time.monotonic() + limit
    while not started():
        if proc.poll() is not None:
            return False, time.monotonic()
        if time.monotonic() > deadline:
            raise AssertionError("the process never began its work")
        time.sleep(0.005)
    began = time.monotonic()
    while time.monotonic() < began + delay:
        if proc.poll() is not None:
            return False, began
        time.sleep(0.005)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        return False, began
    return proc.wait(60) == -signal.SIGKILL, began


def _finish(proc: subprocess.Popen[str]) -> str:
    """The stderr of a process that ran to its end (or was killed)."""
    assert proc.stderr is not None
    try:
        return proc.stderr.read()
    finally:
        proc.stderr.close()
        proc.wait(60)


# ---- the checks after every kill ---------------------------------------------------------------


def _orphans(conn: sa.Connection) -> list[str]:
    """Rows whose foreign key points at no row, per constraint (every constraint of the schema)."""
    found = []
    for table in SQLModel.metadata.sorted_tables:
        for fk in table.foreign_key_constraints:
            parent = fk.referred_table
            pairs = list(zip(fk.column_keys, [e.column.name for e in fk.elements]))
            child, ref = table.alias("c"), parent.alias("p")
            join = sa.and_(*(child.c[c] == ref.c[p] for c, p in pairs))
            stmt = (sa.select(sa.func.count()).select_from(child.outerjoin(ref, join))
                    .where(sa.and_(*(child.c[c].is_not(None) for c, _ in pairs)), ref.c[pairs[0][1]].is_(None)))
            n = conn.execute(stmt).scalar_one()
            if n:
                found.append(f"{table.name}.{','.join(c for c, _ in pairs)} → {parent.name}: {n}")
    return found


# A report is stored whole, in one transaction, or not at all: its report_figure row (same agency
# and year, its agency's region and level), its document, that document's version of the content.
_INCOMPLETE_REPORTS = """
SELECT r.id FROM report r
JOIN agency a ON a.id = r.agency_id
LEFT JOIN report_figure f ON f.report_id = r.id
LEFT JOIN document d ON d.id = r.document_id
WHERE f.report_id IS NULL OR d.id IS NULL OR r.data IS NULL
   OR f.agency_id <> r.agency_id OR f.year <> r.year
   OR f.region_code IS DISTINCT FROM a.region_code OR f.level IS DISTINCT FROM a.level
   OR NOT EXISTS (SELECT 1 FROM document_version v WHERE v.document_id = d.id AND v.content_hash = d.content_hash)
"""
_UNVERSIONED_DOCUMENTS = """
SELECT d.id FROM document d
WHERE NOT EXISTS (SELECT 1 FROM document_version v WHERE v.document_id = d.id AND v.content_hash = d.content_hash)
"""
_BAD_DELIVERIES = """
SELECT id FROM alert_delivery
WHERE state NOT IN ('pending', 'sending', 'sent', 'failed', 'cancelled')
   OR (state = 'sent') <> (sent_at IS NOT NULL)
   OR (state = 'sending' AND attempts < 1)
"""


def assert_consistent(engine: sa.Engine, when: str) -> None:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalars().all() == ["ok"], when
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == [], when
        assert _orphans(conn) == [], when
        sqlite = engine.dialect.name == "sqlite"
        incomplete = _INCOMPLETE_REPORTS.replace("IS DISTINCT FROM", "IS NOT") if sqlite else _INCOMPLETE_REPORTS
        assert conn.exec_driver_sql(incomplete).scalars().all() == [], f"reports stored in part {when}"
        assert conn.exec_driver_sql(_UNVERSIONED_DOCUMENTS).scalars().all() == [], when
        assert conn.exec_driver_sql(_BAD_DELIVERIES).scalars().all() == [], when


# ---- the crawl ---------------------------------------------------------------------------------


def write_crawl_config(path: Path, db_url: str, srv: DemoServer) -> Path:
    """The crawler's config for the loopback demo sites: polite but quick, one check worker (so the
    kills also hit a worker in the middle of storing), known reports revalidated on every crawl (so
    the edits between runs are found)."""
    crawler = {
        "per_host_delay_s": 0.02, "timeout_s": 10, "backoff_s": 0.05, "retries": 1, "check_workers": 1,
        "recheck_after_days": 0,
        "allow_private_addresses": True,  # the demo sites are on 127.x
    }
    lines = [f"database_url = {json.dumps(db_url)}", "[crawler]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in crawler.items()]
    for entry in sites_config(srv):
        lines.append("[[sites]]")
        lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in entry.items() if v is not None]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _change_sites(srv: DemoServer, rng: random.Random, serial: int) -> str:
    """Publish a new report on a site (a year it lacks) or edit a published one: the crawl that
    follows has work to be killed in. What was done, for the log."""
    site = rng.choice(srv.sites)
    missing = sorted(set(range(2019, 2024)) - {r.year for r in site.reports})
    if missing and rng.random() < 0.6:
        year = rng.choice(missing)
        spec = synthetic_spec(900_000 + serial, template="2019" if year <= 2020 else "2021", year=year,
                              agency=site.agency)
        srv.add_report(site.name, spec, published=datetime(year + 1, 1, 20, 9, 30))
        return f"new {site.name} {year}"
    truth = rng.choice(site.reports)

    def edit(spec) -> None:  # noqa: ANN001 - a ReportSpec
        spec.applications["new"]["natural"] = (spec.applications["new"]["natural"] or 0) + rng.randint(1, 9)

    srv.change_report(site.name, truth, edit)
    return f"edit {site.name} {truth.year}"


def _stored(engine: sa.Engine) -> dict[str, list]:
    with engine.connect() as conn:
        return {
            "reports": sorted(tuple(r) for r in conn.exec_driver_sql(
                "SELECT a.name, r.year FROM report r JOIN agency a ON a.id = r.agency_id")),
            "documents": sorted(tuple(r) for r in conn.exec_driver_sql("SELECT url, content_hash FROM document")),
            "versions": [tuple(r) for r in conn.exec_driver_sql(
                "SELECT document_id, content_hash, count(*) FROM document_version "
                "GROUP BY document_id, content_hash HAVING count(*) > 1")],
            "finding_copies": [tuple(r) for r in conn.exec_driver_sql(
                'SELECT report_id, rule, "where", message, count(*) FROM finding '
                'GROUP BY report_id, rule, "where", message HAVING count(*) > 1')],
            "open_runs": conn.exec_driver_sql("SELECT count(*) FROM crawl_run WHERE finished_at IS NULL").scalars().all(),
        }


@pytest.mark.slow
def test_crawl_killed_at_random_moments_stores_every_report_once(db_url: str, tmp_path: Path) -> None:
    seed = _seed()
    rng = random.Random(seed)
    upgrade(db_url)
    engine = make_engine(db_url)
    started = time.monotonic()
    kills, runs, log = 0, 0, []
    with DemoServer(many_sites(10, seed=seed % 1000), warm=False) as srv:
        config = write_crawl_config(tmp_path / "xxgk.toml", db_url, srv)
        delay_cap = 2.0  # seconds after the first request: 1.2 x the longest crawl seen (from its first request)
        while kills < KILLS:
            assert runs < KILLS * 2, f"only {kills} kills in {runs} runs (seed {seed})"
            runs += 1
            if runs > 1:
                log.append(_change_sites(srv, rng, runs))
            seen = len(srv.requests)
            proc = _start(["crawl", "--config", str(config)], db_url, tmp_path)
            killed, began = _kill_after(proc, lambda: len(srv.requests) > seen, rng.uniform(0, delay_cap))
            stderr = _finish(proc)
            if killed:
                kills += 1
            else:  # ran to its end before the kill: it must have succeeded
                assert proc.returncode == 0, stderr
                delay_cap = max(delay_cap, 1.2 * (time.monotonic() - began))
            assert_consistent(engine, f"after run {runs} ({'killed' if killed else 'finished'}; seed {seed})")

        final = _start(["crawl", "--config", str(config)], db_url, tmp_path)
        assert final.wait(300) == 0, _finish(final)
        _finish(final)
        assert_consistent(engine, f"after the last crawl (seed {seed})")

        expected = sorted({(r.agency, r.year) for site in srv.sites for r in site.reports})
        current = sorted((srv.base_url(site.name) + r.document,
                          hashlib.sha256(site.pages[r.document].data()).hexdigest())
                         for site in srv.sites for r in site.reports)
    stored = _stored(engine)
    engine.dispose()
    assert stored["reports"] == expected  # every report, once
    assert stored["documents"] == current  # every document once, with the content the site serves now
    assert stored["versions"] == [] and stored["finding_copies"] == [] and stored["open_runs"] == [0]
    print(f"crawl: {kills} kills in {runs} runs, {len(expected)} reports ({', '.join(log[-3:])} …), "
          f"{time.monotonic() - started:.0f} s")


# ---- alert delivery ----------------------------------------------------------------------------


def _alert_store(db_url: str, hook: WebhookServer) -> list[int]:
    """Reports of three agencies over two years, swept (late reports, checker findings: real
    alerts), and subscribers: three immediate webhooks of different scopes and a digest one."""
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with session(engine) as s:
            for name, code in (("宁波市镇海区民政局", "330211"), ("宁波市北仑区民政局", "330206"),
                               ("南京市玄武区民政局", "320102")):
                s.add(Agency(name=name, region_code=code, level="department", registered=True))
            t0 = datetime(2022, 1, 1, tzinfo=UTC)
            s.add(Subscriber(name="all", channel="webhook", target=hook.url("all"), min_severity="info",
                             created_at=t0))
            s.add(Subscriber(name="ningbo", channel="webhook", target=hook.url("ningbo"), region_code="330200",
                             created_at=t0))
            s.add(Subscriber(name="errors", channel="webhook", target=hook.url("errors"),
                             min_severity="error", created_at=t0))
            s.add(Subscriber(name="daily", channel="webhook", target=hook.url("daily"), mode="digest",
                             min_severity="info", created_at=t0))
        for i, name in enumerate(("宁波市镇海区民政局", "宁波市北仑区民政局", "南京市玄武区民政局")):
            for year in (2021, 2022):
                late = timedelta(days=40 * (i + year % 2))
                sb.save(engine, sb.report(name, year, 10 + i, findings=[sb.BALANCE] if i != 1 else []),
                        datetime(year + 1, 1, 15, tzinfo=UTC) + late, f"site{i}")
        sb.crawled(engine, ["site0", "site1", "site2"])
        for year in (2021, 2022):
            sweep(engine, year, today=date(2023, 6, 1), now=datetime(2023, 6, 1, tzinfo=UTC),
                  deadlines=Settings().deadlines)
        with engine.connect() as conn:
            return list(conn.exec_driver_sql("SELECT id FROM agency ORDER BY id").scalars())
    finally:
        engine.dispose()


def _new_alerts(engine: sa.Engine, agencies: list[int], rng: random.Random, serial: int) -> None:
    """A few new findings opened (as a sweep would) with their alerts."""
    now = datetime.now(UTC)
    with session(engine) as s:
        found = []
        for k in range(rng.randrange(0, 4)):
            agency = rng.choice(agencies)
            rule = rng.choice(["late", "balance", "stale_text", "missing_report"])
            found.append(TrackedFinding(
                key=f"{agency}|2023|{rule}|kill-{serial}-{k}", agency_id=agency, year=2023, rule=rule,
                severity=rng.choice(["error", "warning"]), where=f"第{serial}轮", source="sweep",
                message=f"第{serial}轮新发现的问题 {k}", state="open", opened_at=now, last_seen_at=now))
        s.add_all(found)
        s.flush()
        create_alerts(s, found, now)


def _in_flight(engine: sa.Engine) -> set[tuple[str, int]]:
    """(subscriber, finding id) of the deliveries left in `sending`: a kill interrupted them."""
    with engine.connect() as conn:
        return {tuple(r) for r in conn.exec_driver_sql(
            "SELECT s.name, a.finding_id FROM alert_delivery d JOIN subscriber s ON s.id = d.subscriber_id "
            "JOIN alert a ON a.id = d.alert_id WHERE d.state = 'sending'")}


@pytest.mark.slow
def test_alert_delivery_killed_at_random_moments_loses_nothing(db_url: str, tmp_path: Path) -> None:
    seed = _seed()
    rng = random.Random(seed)
    started = time.monotonic()
    with WebhookServer() as hook:
        hook.delay = 0.03  # the channel takes a moment: kills land in it too
        agencies = _alert_store(db_url, hook)
        engine = make_engine(db_url)
        interrupted: Counter[tuple[str, int]] = Counter()  # times each was in flight at a kill
        kills, runs = 0, 0
        while kills < KILLS:
            assert runs < KILLS * 3, f"only {kills} kills in {runs} runs (seed {seed})"
            runs += 1
            if runs > 1:
                _new_alerts(engine, agencies, rng, runs)
            digest = runs % 4 == 0
            seen = len(hook.received)
            proc = _start(["alerts", "send", *(["--digest"] if digest else [])], db_url, tmp_path)
            # Mostly timed from the first message (the sending itself), sometimes from the start.
            if rng.random() < 0.8:
                killed, _ = _kill_after(proc, lambda: len(hook.received) > seen, rng.uniform(0, 0.4))
            else:
                killed, _ = _kill_after(proc, lambda: True, rng.uniform(0, 2.5))
            stderr = _finish(proc)
            if not killed:
                assert proc.returncode == 0, stderr
            else:
                kills += 1
                flying = _in_flight(engine)
                # One message in flight per immediate subscriber at most (its interrupted ones go first);
                # a digest in flight is one message of many alerts.
                names = [name for name, _ in flying if name != "daily"]
                assert len(names) == len(set(names)), flying
                interrupted.update(flying)
            assert_consistent(engine, f"after run {runs} (seed {seed})")

        for args in (["alerts", "send"], ["alerts", "send", "--digest"]):
            last = _start(args, db_url, tmp_path)
            assert last.wait(120) == 0, _finish(last)
            _finish(last)
        assert_consistent(engine, f"after the last runs (seed {seed})")

        with engine.connect() as conn:
            states = Counter(conn.exec_driver_sql("SELECT state FROM alert_delivery").scalars())
            routed = {tuple(r) for r in conn.exec_driver_sql(
                "SELECT s.name, a.finding_id FROM alert_delivery d JOIN subscriber s ON s.id = d.subscriber_id "
                "JOIN alert a ON a.id = d.alert_id")}
            marked = {tuple(r) for r in conn.exec_driver_sql(
                "SELECT s.name, a.finding_id FROM alert_delivery d JOIN subscriber s ON s.id = d.subscriber_id "
                "JOIN alert a ON a.id = d.alert_id WHERE d.possible_repeat")}
        got = arrivals(hook)
    engine.dispose()

    assert states == {"sent": len(routed)}  # every alert delivered
    arrived: Counter[tuple[str, int]] = Counter()
    for key, repeat, text in got:
        arrived[key] += 1
        if arrived[key] > 1:  # a repeat: only of a message in flight at a kill, and marked
            assert repeat and text.startswith(REPEAT), f"unmarked repeat of {key} (seed {seed})"
        elif repeat:  # marked at its first arrival: it was claimed, then the kill came before the send
            assert key in interrupted, f"{key} marked as a repeat at its first arrival (seed {seed})"
    assert set(arrived) == routed, f"lost: {routed - set(arrived)} (seed {seed})"
    for key, n in arrived.items():
        assert n - 1 <= interrupted[key], f"{key} arrived {n} times, in flight at {interrupted[key]} kills"
    repeats = sum(n - 1 for n in arrived.values())
    assert repeats <= sum(interrupted.values())
    assert {k for k, n in arrived.items() if n > 1} <= marked  # the database says so too
    print(f"alerts: {kills} kills in {runs} runs, {len(routed)} deliveries, {repeats} repeated (marked), "
          f"{time.monotonic() - started:.0f} s")
