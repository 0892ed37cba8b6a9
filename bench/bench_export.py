"""Time `xxgk export` of one province's year on the national store. Target: under 10 s.

    python bench/national.py                        # the national store, /tmp/xxgk-national.db
    python bench/bench_export.py                    # the province with the most reports, latest swept year
    python bench/bench_export.py --db PATH --region 330000 --year 2021 --rounds 3 --cli

Each round opens a connection and runs query.export.write_workbook as `xxgk export` does: the three
queries (query.api.report_figures, findings, late_and_missing), then the workbook written with
openpyxl into a temporary directory. The time is split into reading (until the first sheet is
written) and writing, wall clock and CPU, and the best round counts (other processes only ever
make a round slower; the machine is shared). The target applies to that export.

--cli also times the command once, in a subprocess: start-up, imports and the migration check
every command runs (db.engine.upgrade, timed on its own too: on SQLite it ends with PRAGMA
foreign_key_check, a scan of the whole store even when there is nothing to migrate).

The store is only read, except that with --cli the migration check upgrades a store that is behind,
as `xxgk export` would.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from db.engine import make_engine, upgrade  # noqa: E402
from query.api import Scope  # noqa: E402
from query.export import write_workbook  # noqa: E402
from query.scope import find_region  # noqa: E402

TARGET_S = 10.0
DEFAULT_DB = Path("/tmp/xxgk-national.db")


def largest_province(conn: sa.Connection, year: int) -> str | None:
    """The province code (330000) with the most reports on `year`."""
    row = conn.exec_driver_sql(
        "SELECT substr(a.region_code, 1, 2) AS p, count(*) AS n FROM report_figure f"
        " JOIN agency a ON a.id = f.agency_id WHERE f.year = ? AND a.region_code IS NOT NULL"
        " GROUP BY p ORDER BY n DESC LIMIT 1", (year,)).first()
    return None if row is None else f"{row[0]}0000"


def one_round(engine: sa.Engine, year: int, scope: Scope, out: Path) -> dict:
    marks: list[tuple[str, float]] = []
    wall, cpu = time.perf_counter(), time.process_time()
    with engine.connect() as conn:
        summary = write_workbook(conn, year, scope, out,
                                 progress=lambda message: marks.append((message, time.perf_counter())))
    total, total_cpu = time.perf_counter() - wall, time.process_time() - cpu
    first_write = next((t for m, t in marks if m.startswith("写入")), wall)
    read = first_write - wall
    return {"read": read, "write": total - read, "wall": total, "cpu": total_cpu, "summary": summary,
            "size": out.stat().st_size}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, default=DEFAULT_DB,
                    help=f"the national SQLite store (default {DEFAULT_DB})")
    ap.add_argument("--region", help="region code or name (default: the province with the most reports)")
    ap.add_argument("--year", type=int, help="report year (default: the latest swept one in the store)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cli", action="store_true", help="also time `xxgk export` once, in a subprocess")
    args = ap.parse_args()

    if not args.db.is_file():
        sys.exit(f"error: no national store at {args.db}: generate it with `python bench/national.py` "
                 f"or pass --db PATH")
    engine = make_engine(f"sqlite:///{args.db}")
    with engine.connect() as conn:
        try:
            # The latest swept year (its findings tracked), else the latest with reports.
            year = (args.year or conn.exec_driver_sql("SELECT max(year) FROM tracked_finding").scalar()
                    or conn.exec_driver_sql("SELECT max(year) FROM report_figure").scalar())
            stored = conn.exec_driver_sql("SELECT count(*) FROM report_figure").scalar()
            agencies = conn.exec_driver_sql("SELECT count(*) FROM agency").scalar()
        except sa.exc.OperationalError as exc:
            sys.exit(f"error: {args.db} is not an xxgk store at the current revision ({exc.orig})")
        if year is None:
            sys.exit(f"error: {args.db} holds no reports")
        code = args.region or largest_province(conn, year)
        if code is None:
            sys.exit(f"error: no report of {year} has a region in {args.db}")
        region = find_region(conn, code)
    scope = Scope(region)

    print(f"store: {args.db} ({args.db.stat().st_size / 2**20:,.0f} MiB; {agencies:,} agencies, "
          f"{stored:,} reports)")
    print(f"export: {year}, {region.name} ({region.code})")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}")
    print()
    print("| round | read (s) | write (s) | total wall (s) | total CPU (s) |")
    print("|---|---|---|---|---|")
    results = []
    with tempfile.TemporaryDirectory(prefix="xxgk-bench-export-") as tmp:
        for n in range(1, args.rounds + 1):
            r = one_round(engine, year, scope, Path(tmp) / "export.xlsx")
            results.append(r)
            print(f"| {n} | {r['read']:.2f} | {r['write']:.2f} | {r['wall']:.2f} | {r['cpu']:.2f} |")
        cli_wall = upgrade_wall = None
        if args.cli:
            started = time.perf_counter()
            upgrade(engine)
            upgrade_wall = time.perf_counter() - started
        engine.dispose()
        if args.cli:
            out = Path(tmp) / "cli.xlsx"
            env = {**os.environ, "XXGK_DATABASE_URL": f"sqlite:///{args.db.resolve()}"}
            env.pop("XXGK_CONFIG", None)
            started = time.perf_counter()
            command = ["-m", "xxgk.cli", "export", "-y", str(year), "-r", region.code, str(out)]
            done = subprocess.run([sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True)
            cli_wall = time.perf_counter() - started
            if done.returncode != 0:
                sys.exit(f"error: xxgk export failed ({done.returncode}): {done.stderr.strip()}")

    best = min(results, key=lambda r: r["wall"])
    summary = best["summary"]
    rows = "; ".join(f"{name} {count:,}" for name, count in summary.sheets.items())
    print()
    print(f"- rows: {rows}; file {best['size'] / 2**20:.1f} MiB")
    print(f"- best round: {best['wall']:.2f} s wall ({best['read']:.2f} s reading, "
          f"{best['write']:.2f} s writing), {best['cpu']:.2f} s CPU")
    if cli_wall is not None:
        print(f"- `xxgk export` in a subprocess: {cli_wall:.2f} s wall, of which the migration check "
              f"(db.engine.upgrade, timed alone just before) takes about {upgrade_wall:.2f} s")
    ok = best["wall"] <= TARGET_S
    print(f"- target ≤ {TARGET_S:.0f} s: {'✓' if ok else '✗'} (measured {time.strftime('%Y-%m-%d')})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
