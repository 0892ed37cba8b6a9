"""Several processes on one store: crawl workers sharing the crawl through leases (db.leases),
and a second `xxgk serve` on standby that takes the scheduler over when the first stops.

Run on SQLite and, in CI's second pass, on PostgreSQL (where claims use FOR UPDATE SKIP LOCKED
and the scheduler's lock is an advisory lock). The worker tests run real `xxgk worker`
subprocesses against the demo sites on loopback and kill one with SIGKILL mid-crawl."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from db import leases
from db.engine import make_engine
from db.models import CrawlLease, Document, Report
from scraper.groups import host_groups
from test_serve import _env, _logged, events, serving, wait_until
from xxgk.config import SiteConfig
from xxgk.demo import DemoServer, sites_config
from xxgk.demo.plain import many_sites

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def _site(name: str, *urls: str, hosts: tuple[str, ...] = ()) -> SiteConfig:
    return SiteConfig(name=name, agency=name, list_urls=list(urls), allowed_hosts=list(hosts))


# ---- host groups (pure) -----------------------------------------------------------------------


def test_sites_sharing_a_host_directly_or_through_another_are_one_group() -> None:
    sites = [
        _site("portal-a", "http://www.zh.gov.cn/col/col1/index.html"),
        _site("portal-b", "http://WWW.ZH.gov.cn/col/col2/index.html"),  # the same host, any case
        _site("files", "http://files.zh.gov.cn/list.html", hosts=("cdn.zh.gov.cn",)),
        _site("bridge", "http://other.zh.gov.cn/", hosts=("cdn.zh.gov.cn", "www.zh.gov.cn")),
        _site("alone", "http://www.js.gov.cn/nb/"),
    ]
    groups = host_groups(sites)
    assert {k: [s.name for s in v] for k, v in groups.items()} == {
        "cdn.zh.gov.cn": ["portal-a", "portal-b", "files", "bridge"],  # the smallest host names the group
        "www.js.gov.cn": ["alone"],
    }
    # Without the bridge, the zh sites split in two.
    assert sorted(host_groups([s for s in sites if s.name != "bridge"])) == [
        "cdn.zh.gov.cn", "www.js.gov.cn", "www.zh.gov.cn"]


# ---- leases ------------------------------------------------------------------------------------


def _rows(engine) -> dict[str, dict]:  # noqa: ANN001
    return {r["key"]: r for r in leases.pending(engine)}


def test_a_group_is_claimed_by_one_worker_renewed_and_taken_over_after_expiry(engine) -> None:  # noqa: ANN001
    assert leases.request(engine, ["a", "b"], T0) == 2
    assert leases.request(engine, ["a"], T0 + timedelta(seconds=5)) == 0  # already due: keeps its time
    (first,) = leases.claim(engine, "w1", T0, 60)
    (second,) = leases.claim(engine, "w2", T0, 60)
    assert {first.key, second.key} == {"a", "b"}
    assert leases.claim(engine, "w3", T0 + timedelta(seconds=30), 60, limit=5) == []  # both held
    renewed = leases.renew(engine, first, T0 + timedelta(seconds=50), 60)
    assert renewed is not None and renewed.expires_at == T0 + timedelta(seconds=110)
    # w2 stops renewing; after its lease w3 takes the group over, and w2 can no longer renew or finish.
    (taken,) = leases.claim(engine, "w3", T0 + timedelta(seconds=61), 60, limit=5)
    assert taken.key == second.key and taken.holder == "w3"
    assert leases.renew(engine, second, T0 + timedelta(seconds=62), 60) is None
    assert leases.finish(engine, second, T0 + timedelta(seconds=62), completed=True) is False
    assert _rows(engine)[second.key]["due_at"] is not None  # w2's late finish did not clear the request
    # A request made during w1's crawl stays due after it: the crawl may have missed what it asks for.
    leases.finish(engine, taken, T0 + timedelta(seconds=70), completed=True)
    with engine.begin() as conn:
        t = CrawlLease.__table__
        conn.execute(sa.update(t).where(t.c.key == first.key).values(due_at=T0 + timedelta(seconds=80)))
    assert leases.finish(engine, renewed, T0 + timedelta(seconds=90), completed=True)
    rows = _rows(engine)
    assert rows[first.key]["holder"] is None and rows[first.key]["due_at"] is not None
    assert rows[taken.key]["due_at"] is None and rows[taken.key]["finished_at"] is not None
    # An unfinished crawl gives the group back still due.
    (again,) = leases.claim(engine, "w1", T0 + timedelta(seconds=91), 60)
    assert again.key == first.key
    assert leases.finish(engine, again, T0 + timedelta(seconds=95), completed=False)
    assert _rows(engine)[first.key]["due_at"] is not None and leases.any_due(engine)


def test_workers_claiming_at_once_never_share_a_group(engine) -> None:  # noqa: ANN001
    keys = [f"host-{i:02d}" for i in range(24)]
    leases.request(engine, keys, T0)
    got: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        try:
            while True:
                batch = leases.claim(engine, f"w{n}", T0, 60, limit=n % 3 + 1)
                if not batch:
                    return
                with lock:
                    got.extend(lease.key for lease in batch)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sorted(got) == keys  # every group once, none twice


# ---- worker processes --------------------------------------------------------------------------


def _config(path: Path, db_url: str, srv: DemoServer, *, delay: float, lease_s: float, batch: int = 1) -> Path:
    lines = [f"database_url = {json.dumps(db_url)}", "[crawler]", f"per_host_delay_s = {delay}",
             "timeout_s = 10", "backoff_s = 0.05", "check_workers = 0", "allow_private_addresses = true", "[schedule]",
             f"lease_s = {lease_s}", "crawl_by_workers = true", f"worker_batch = {batch}", ""]
    for entry in sites_config(srv):
        lines.append("[[sites]]")
        lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in entry.items()
                  if v is not None and k != "hints"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _worker(tmp_path: Path, name: str, config: Path, *args: str) -> subprocess.Popen[str]:
    err = (tmp_path / f"{name}.err").open("w")
    process = subprocess.Popen([sys.executable, "-m", "xxgk.cli", "worker", "--config", str(config),
                                "--name", name, "--poll", "0.2", *args],
                               stdout=subprocess.DEVNULL, stderr=err, text=True, cwd=tmp_path, env=_env())
    process.err = tmp_path / f"{name}.err"  # type: ignore[attr-defined]
    return process


def _stored(engine) -> tuple[list[tuple[str, int]], int]:  # noqa: ANN001
    with engine.connect() as conn:
        reports = conn.execute(sa.text(
            "SELECT a.name, r.year FROM report r JOIN agency a ON a.id = r.agency_id")).all()
        documents = conn.execute(sa.select(sa.func.count()).select_from(Document.__table__)).scalar_one()
    return sorted((name, year) for name, year in reports), documents


def test_workers_share_the_crawl_and_a_killed_worker_loses_nothing(tmp_path: Path, db_url: str) -> None:
    sites = many_sites(6, seed=7)
    expected = sorted({(r.agency, r.year) for s in sites for r in s.reports})
    with DemoServer(sites, warm=False) as srv:
        config = _config(tmp_path / "xxgk.toml", db_url, srv, delay=0.4, lease_s=5)
        queued = subprocess.run([sys.executable, "-m", "xxgk.cli", "crawl", "--queue", "--config", str(config)],
                                capture_output=True, text=True, cwd=tmp_path, env=_env(), timeout=120)
        assert queued.returncode == 0, queued.stderr
        assert "已排入 6 个站点组" in queued.stdout
        engine = make_engine(db_url)

        # Worker A claims a group and is killed in the middle of its crawl.
        doomed = _worker(tmp_path, "doomed", config)
        claimed = wait_until(lambda: [e for e in events(doomed.err) if e.get("event") == "worker.claimed"],
                             60, "the first claim")
        group = claimed[0]["groups"]
        (site,) = claimed[0]["sites"].split(",")
        wait_until(lambda: len(srv.requests_to(site)) >= 2, 30, "the crawl to be under way")  # robots, list …
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(30)
        held = _rows_by_key(engine)[group]
        assert held["holder"] == "doomed" and held["due_at"] is not None  # still claimed by the dead worker

        # Two workers take the rest; the dead worker's group comes back to them when its lease expires.
        b, c = _worker(tmp_path, "b", config, "--once"), _worker(tmp_path, "c", config, "--once")
        assert b.wait(120) == 0 and c.wait(120) == 0, (b.err.read_text(), c.err.read_text())
        done = {n: [g for e in events(p.err) if e.get("event") == "worker.done" for g in e["groups"].split(",")]
                for n, p in (("b", b), ("c", c))}
        assert sorted(done["b"] + done["c"]) == sorted(host_groups(
            [SiteConfig(**e) for e in sites_config(srv)]))  # every group crawled once to the end
        assert done["b"] and done["c"]  # shared, not one worker doing everything
        assert group in done["b"] + done["c"]

        reports, documents = _stored(engine)
        assert reports == expected  # every report stored, none twice
        assert documents == len(expected)
        rows = _rows_by_key(engine)
        assert all(r["holder"] is None and r["due_at"] is None and r["finished_at"] is not None
                   for r in rows.values())
        # A second queue and crawl finds nothing new.
        subprocess.run([sys.executable, "-m", "xxgk.cli", "crawl", "--queue", "--config", str(config)],
                       capture_output=True, text=True, cwd=tmp_path, env=_env(), timeout=120, check=True)
        again = _worker(tmp_path, "again", config, "--once")
        assert again.wait(120) == 0
        assert sum(int(e["new"]) for e in events(again.err) if e.get("event") == "worker.done") == 0
        assert _stored(engine) == (reports, documents)
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(Report.__table__)).scalar_one() == len(expected)
        engine.dispose()


def _rows_by_key(engine) -> dict[str, dict]:  # noqa: ANN001
    return {r["key"]: r for r in leases.pending(engine)}


def test_sigterm_gives_the_group_back_for_another_worker(tmp_path: Path, db_url: str, engine) -> None:  # noqa: ANN001
    from xxgk.service.work import queue_crawl

    with DemoServer(many_sites(1, seed=3), warm=False) as srv:
        config = _config(tmp_path / "xxgk.toml", db_url, srv, delay=1.0, lease_s=60)

        queue_crawl(engine, [SiteConfig(**e) for e in sites_config(srv)])
        first = _worker(tmp_path, "first", config)
        wait_until(lambda: [e for e in events(first.err) if e.get("event") == "worker.claimed"], 60, "a claim")
        first.send_signal(signal.SIGTERM)
        assert first.wait(60) == 0
        (row,) = leases.pending(engine)
        assert row["holder"] is None and row["due_at"] is not None  # given back, still wanted: no wait for expiry
        second = _worker(tmp_path, "second", config, "--once")
        assert second.wait(120) == 0
        (row,) = leases.pending(engine)
        assert row["due_at"] is None and row["finished_at"] is not None


# ---- the scheduler: one process at a time ------------------------------------------------------


def _standby_config(tmp_path: Path, db_url: str) -> Path:
    config = tmp_path / "xxgk.toml"
    config.write_text(f"database_url = {json.dumps(db_url)}\n[schedule]\nstandby_poll_s = 0.3\n", encoding="utf-8")
    return config


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_a_second_serve_waits_on_standby_and_takes_over(tmp_path: Path, db_url: str, how: int) -> None:
    config, env = _standby_config(tmp_path, db_url), _env()
    with serving(tmp_path, "leader", config, env, "--no-bot") as leader:
        wait_until(_logged(leader, "service.started"), 60, "the leader's start")
        with serving(tmp_path, "standby", config, env, "--no-bot") as standby:
            wait_until(_logged(standby, "service.standby"), 60, "the standby")
            assert not _logged(standby, "service.started")()
            leader.send_signal(how)
            code = leader.wait(60)
            assert code == (0 if how == signal.SIGTERM else -signal.SIGKILL)
            wait_until(_logged(standby, "service.takeover"), 30, "the takeover")
            wait_until(_logged(standby, "service.started"), 30, "the scheduler's start in the standby")
            standby.send_signal(signal.SIGTERM)
            assert standby.wait(60) == 0
