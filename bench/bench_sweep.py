"""The deadline sweep over every agency of the country for one report year, on the national store
(bench/national.py): seconds and peak memory.

    python bench/bench_sweep.py                     # generates /tmp/xxgk-national.db first if needed
    python bench/bench_sweep.py --rounds 3
    python bench/bench_sweep.py --db /tmp/small.db --agencies 20000 --years 2022-2024

Two sweeps, each in a fresh child process (so that its peak RSS is its own), `--rounds` times:

- rerun: the year before the newest, swept again exactly as the generator last swept it (same
  day, same clock): every verdict and checker finding already tracked, so it reads everything,
  refreshes every tracked finding and opens nothing. It writes the same values again, so the
  store is unchanged.
- first:  the newest year's first sweep, as of 10 April after it (every deadline passed): every
  finding opens, with its event, alert and deliveries. Afterwards the year's tracked findings are
  deleted (their events, alerts and deliveries with them), which puts the store back as it was.

Target (issue 4): under 30 s per sweep. Timings on a shared machine are noisy: the best round
is the one to quote, and the spread is printed with it.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _p in (str(ROOT), str(HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import national  # noqa: E402

TARGET_S = 30.0


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(db: Path, mode: str, year: int) -> dict:
    """One sweep in this process; returns its figures."""
    from compliance.sweep import sweep
    from db.engine import make_engine

    engine = make_engine(f"sqlite:///{db}")
    today, now = national.last_sweep(year) if mode == "rerun" else national.first_sweep(year)
    if mode == "first":  # a run interrupted before its clean-up left the year swept: put it back
        with engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM tracked_finding WHERE year = ?", (year,))
    with engine.connect() as conn:  # open the file and warm nothing else: the sweep reads it all
        conn.exec_driver_sql("SELECT 1").all()
    baseline = _rss_mb()
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    result = sweep(engine, year, today=today, now=now, deadlines=national.DEADLINES, alert=True)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    peak = _rss_mb()
    undo = None
    if mode == "first":
        t1 = time.perf_counter()
        with engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM tracked_finding WHERE year = ?", (year,))
        undo = time.perf_counter() - t1
    engine.dispose()
    return {
        "mode": mode, "year": year, "today": today.isoformat(), "seconds": seconds, "cpu_seconds": cpu,
        "peak_rss_mb": peak, "baseline_rss_mb": baseline, "reports": result.reports,
        "registered": result.registered, "opened": result.opened, "resolved": result.resolved,
        "held": result.sweep_findings.held + result.report_findings.held, "alerts": result.alerts,
        "verdicts": dict(result.verdicts), "undo_seconds": undo,
    }


def _counts(db: Path) -> dict[str, int]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("tracked_finding", "finding_event", "alert", "alert_delivery")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default=national.DEFAULT_DB)
    ap.add_argument("--agencies", type=int, default=national.DEFAULT_AGENCIES)
    ap.add_argument("--years", default=national.DEFAULT_YEARS)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--only", choices=("rerun", "first"), help="run one of the two sweeps")
    ap.add_argument("--child", choices=("rerun", "first"), help=argparse.SUPPRESS)
    ap.add_argument("--year", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    db = Path(args.db)
    if args.child:
        print(json.dumps(child(db, args.child, args.year)))
        return

    years = national.parse_years(args.years)
    recorded = national.generate(db, args.agencies, years, log=lambda line: print(line, flush=True))
    stats = recorded["stats"]
    print(f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}; "
          f"store {db} ({stats['size_mb']:,.0f} MB, {stats['rows']['agency']:,} agencies, "
          f"{stats['rows']['report']:,} reports, generated in {stats['seconds']:,.0f} s)\n")
    before = _counts(db)
    modes = [args.only] if args.only else ["rerun", "first"]
    results: dict[str, list[dict]] = {m: [] for m in modes}
    for r in range(args.rounds):
        for mode in modes:
            year = years[-1] if mode == "first" else years[-2]
            out = subprocess.run([sys.executable, __file__, "--db", str(db), "--child", mode, "--year", str(year)],
                                 check=True, capture_output=True, text=True)
            res = json.loads(out.stdout.strip().splitlines()[-1])
            results[mode].append(res)
            print(f"round {r + 1}, {mode} {year}: {res['seconds']:.1f} s ({res['cpu_seconds']:.1f} s CPU), "
                  f"peak RSS {res['peak_rss_mb']:,.0f} MB; {res['reports']:,} reports, "
                  f"{res['registered']:,} registered agencies; opened {res['opened']:,}, held {res['held']:,}, "
                  f"resolved {res['resolved']:,}, alerts {res['alerts']:,}", flush=True)
    after = _counts(db)
    print()
    print("| sweep | year | best s | all rounds s | CPU s | peak RSS MB | opened | held | alerts | target |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for mode, rs in results.items():
        times = [x["seconds"] for x in rs]
        best = min(rs, key=lambda x: x["seconds"])
        print(f"| {mode} | {best['year']} | {best['seconds']:.1f} | {' / '.join(f'{t:.1f}' for t in times)} | "
              f"{best['cpu_seconds']:.1f} | {max(x['peak_rss_mb'] for x in rs):,.0f} | {best['opened']:,} | "
              f"{best['held']:,} | {best['alerts']:,} | {'ok' if best['seconds'] < TARGET_S else 'SLOW'} "
              f"(< {TARGET_S:.0f} s) |")
    if len(results.get("first", [])) > 1:
        print(f"\nmedian of first-sweep rounds: {statistics.median(x['seconds'] for x in results['first']):.1f} s")
    print(f"verdicts of the first sweep: {results.get('first', results.get('rerun'))[0]['verdicts']}")
    if before != after:
        print(f"WARNING: the store changed: {before} -> {after}")


if __name__ == "__main__":
    main()
