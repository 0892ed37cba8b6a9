"""Crawl throughput with 1, 2 and 4 `xxgk worker` processes sharing the crawl on PostgreSQL (the
scheduler's crawl tick at national scale: bench/bench_tick.py).

    python bench/bench_workers.py                       # 1,000 sites; starts its own PostgreSQL
    python bench/bench_workers.py --sites 200 --workers 1 2
    XXGK_BENCH_DATABASE_URL=postgresql://… python bench/bench_workers.py   # an existing server

The demo server (`python -m xxgk.demo --many N`) serves the sites on 127.x addresses in its own
process. For each worker count: a new database, `xxgk crawl --queue` (every site is its own host
group), then that many `xxgk worker --once` processes, timed from their start until the last
one exits (the queue is empty). Each worker checks documents in its own process
(check_workers = 0): one process per worker, so that the worker count is the parallelism.
Pages are counted from crawl_run.

Target (issue 6): on a 2-core machine, 2 workers at least 1.6 times the throughput of one.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _server_url(tmp: Path) -> tuple[str, Path | None]:
    url = os.environ.get("XXGK_BENCH_DATABASE_URL")
    if url:
        return url, None
    pgdir = tmp / "pg"
    out = subprocess.run(["bash", str(ROOT / ".ci" / "postgres.sh"), "start", str(pgdir)], capture_output=True,
                         text=True, check=True)
    return out.stdout.strip(), pgdir


def _admin(server: str, statement: str) -> str:
    """Run a CREATE/DROP DATABASE on the server; the server's URL for psycopg."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(server)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(statement))
    admin.dispose()
    return url.render_as_string(hide_password=False)


def _database(server: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    url = _admin(server, f'CREATE DATABASE "{name}"')
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _drop(server: str, name: str) -> None:
    _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _config(sites_toml: Path, db_url: str, out: Path) -> Path:
    text = sites_toml.read_text(encoding="utf-8")
    head = (f'database_url = "{db_url}"\n[crawler]\nper_host_delay_s = 0\ncheck_workers = 0\nconcurrency = 16\n'
            "timeout_s = 30\nretries = 1\nallow_private_addresses = true\n")
    out.write_text(head + "\n" + text + "\n", encoding="utf-8")  # the demo's file holds [[sites]] only
    return out


def run_workers(sites_toml: Path, server: str, workers: int, tmp: Path) -> dict[str, float]:
    import sqlalchemy as sa

    from db.engine import make_engine, upgrade
    from db.models import CrawlRun

    name = f"bench_workers_{workers}_{uuid.uuid4().hex[:6]}"
    db_url = _database(server, name)
    try:
        upgrade(db_url)
        config = _config(sites_toml, db_url, tmp / f"w{workers}.toml")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-m", "xxgk.cli", "crawl", "--queue", "--config", str(config)],
                       check=True, capture_output=True, text=True, env=env, cwd=tmp)
        started = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-m", "xxgk.cli", "worker", "--once", "--poll", "0.2",
                                   "--config", str(config), "--name", f"w{i}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=tmp)
                 for i in range(workers)]
        for p in procs:
            if p.wait() != 0:
                raise SystemExit(f"worker exited {p.returncode}")
        seconds = time.perf_counter() - started
        engine = make_engine(db_url)
        runs = CrawlRun.__table__
        with engine.connect() as conn:
            pages, reports, sites = conn.execute(sa.select(
                sa.func.sum(runs.c.pages_fetched), sa.func.sum(runs.c.reports_new), sa.func.count())).one()
        engine.dispose()
        return {"workers": workers, "seconds": seconds, "pages": int(pages or 0), "reports": int(reports or 0),
                "sites": int(sites)}
    finally:
        _drop(server, name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        server_url, pgdir = _server_url(tmp)
        sites_toml = tmp / "sites.toml"
        demo = subprocess.Popen([sys.executable, "-m", "xxgk.demo", "--many", str(args.sites), "--config",
                                 str(sites_toml)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        results = []
        try:
            assert demo.stderr is not None
            line = demo.stderr.readline()
            if "serving" not in line:
                raise SystemExit(f"demo server did not start: {line}{demo.stderr.read()}")
            for n in args.workers:
                results.append(run_workers(sites_toml, server_url, n, tmp))
                print(f"  {n} worker(s): {results[-1]}", file=sys.stderr)
        finally:
            demo.terminate()
            demo.wait(timeout=30)
            if pgdir is not None:
                subprocess.run(["bash", str(ROOT / ".ci" / "postgres.sh"), "stop", str(pgdir)], check=False)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.sites} sites on PostgreSQL, no per-host delay, checks in each worker's process")
    print()
    print("| workers | sites | pages | reports new | seconds | pages/s | vs 1 worker |")
    print("|---|---|---|---|---|---|---|")
    base = None
    for r in results:
        rate = r["pages"] / r["seconds"]
        base = base or (rate if r["workers"] == 1 else None)
        ratio = f"{rate / base:.2f}×" if base else "–"
        print(f"| {r['workers']} | {r['sites']} | {r['pages']} | {r['reports']} | {r['seconds']:.1f} | "
              f"{rate:.0f} | {ratio} |")


if __name__ == "__main__":
    main()
