"""The scheduler's crawl tick with 150,000 agencies registered, each publishing on its own
configured site, on SQLite and PostgreSQL: what the one scheduler process pays when a crawl job
fires with `[schedule] crawl_by_workers = true` (the sites go to `xxgk worker` processes).

    python bench/bench_tick.py                         # 150,000 agencies; starts its own PostgreSQL
    python bench/bench_tick.py --agencies 20000 --sqlite-only
    XXGK_BENCH_DATABASE_URL=postgresql://… python bench/bench_tick.py

Measured, each in its own step (seconds, and the scheduler process's peak RSS at the end):

- start: reading and validating a config file with one [[sites]] table per agency
  (load_settings), and the job plan (xxgk.service.plan.plan);
- tick, first: the crawl job's work (plan.crawl_groups, the host groups of scraper.groups, and
  db.leases.request: every group's lease row created and made due);
- tick, all due: the same job firing again while no worker has taken anything (nothing changes);
- tick, all done: the job firing after the workers finished every group (every group due again).

The store holds the agencies (registered, each with its site), as `xxgk agencies import` leaves
them. Sites share hosts two by two (a portal and a department column), so there are half as many
host groups as sites.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_workers import _database, _drop, _server_url  # noqa: E402


def write_config(path: Path, db_url: str, n: int) -> None:
    lines = [f'database_url = "{db_url}"', "[schedule]", "crawl_by_workers = true", ""]
    for i in range(n):
        host = f"xxgk{i // 2}.gov.cn"
        lines += ["[[sites]]", f'name = "site{i}"', f'agency = "单位{i}"', 'level = "department"',
                  f'list_urls = ["http://{host}/col/col{i}/index.html"]', ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def register_agencies(db_url: str, n: int) -> None:
    import sqlalchemy as sa

    from db.engine import make_engine
    from db.models import Agency

    engine = make_engine(db_url)
    table = Agency.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        for start in range(0, n, 10_000):
            conn.execute(sa.insert(table), [
                {"name": f"单位{i}", "region_code": f"{330000 + i % 1000:06d}", "level": "department",
                 "registered": True, "site": f"site{i}"} for i in range(start, min(n, start + 10_000))])
    engine.dispose()


def measure(db_url: str, n: int, tmp: Path) -> dict[str, float]:
    import sqlalchemy as sa

    from db.engine import make_engine, upgrade
    from db.models import CrawlLease
    from scraper.groups import host_groups
    from xxgk.config import load_settings
    from xxgk.service import plan
    from xxgk.service.work import queue_crawl

    upgrade(db_url)
    register_agencies(db_url, n)
    cfg = tmp / f"tick-{uuid.uuid4().hex[:6]}.toml"
    write_config(cfg, db_url, n)
    out: dict[str, float] = {"agencies": n}

    t0 = time.perf_counter()
    settings = load_settings(cfg)
    out["load_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    plan.plan(settings)
    out["plan_s"] = time.perf_counter() - t0
    engine = make_engine(db_url)
    by_name = {s.name: s for s in settings.sites}

    def tick() -> tuple[float, int]:
        started = time.perf_counter()
        names = plan.crawl_groups(settings)[plan.CRAWL][1]
        due = queue_crawl(engine, [by_name[name] for name in names])
        return time.perf_counter() - started, due

    out["groups"] = len(host_groups(settings.sites))
    out["first_s"], out["first_due"] = tick()
    out["again_s"], out["again_due"] = tick()
    leases = CrawlLease.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:  # what the workers leave behind
        conn.execute(sa.update(leases).values(due_at=None, finished_at=datetime.now(UTC) - timedelta(minutes=1)))
    out["done_s"], out["done_due"] = tick()
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agencies", type=int, default=150_000)
    ap.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    args = ap.parse_args()

    results: list[tuple[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        results.append(("SQLite", _in_child(f"sqlite:///{tmp}/tick.db", args.agencies, tmp)))
        if not args.sqlite_only:
            server, pgdir = _server_url(tmp)
            name = f"xxgk_tick_{uuid.uuid4().hex[:8]}"
            try:
                results.append(("PostgreSQL", _in_child(_database(server, name), args.agencies, tmp)))
            finally:
                _drop(server, name)
                if pgdir is not None:
                    subprocess.run(["bash", str(ROOT / ".ci" / "postgres.sh"), "stop", str(pgdir)], check=False)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.agencies:,} agencies registered, one site each")
    print()
    print("| store | load config | plan | host groups | tick, first | tick, all due | tick, all done | peak RSS |")
    print("|---|---|---|---|---|---|---|---|")
    for store, r in results:
        print(f"| {store} | {r['load_s']:.2f} s | {1000 * r['plan_s']:.0f} ms | {int(r['groups']):,} | "
              f"{r['first_s']:.2f} s ({int(r['first_due']):,} due) | {r['again_s']:.2f} s ({int(r['again_due'])} due) "
              f"| {r['done_s']:.2f} s ({int(r['done_due']):,} due) | {r['rss_mb']:.0f} MB |")


def _in_child(db_url: str, n: int, tmp: Path) -> dict[str, float]:
    """measure() in a fresh process, so that its peak RSS is its own."""
    import json

    code = ("import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
            "from bench.bench_tick import measure; "
            "print(json.dumps(measure(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))))")
    out = subprocess.run([sys.executable, "-c", code, str(ROOT), db_url, str(n), str(tmp)], capture_output=True,
                         text=True)
    if out.returncode != 0:
        raise SystemExit(f"tick bench failed on {db_url.split(':')[0]}:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
