"""Query latency on the national-scale store: every question of the query layer, p50/p95/max.

    python bench/national.py                 # build /tmp/xxgk-national.db once (150,000 agencies x 5 years)
    python bench/bench_query.py              # 40 samples per kind of query
    python bench/bench_query.py --db PATH --samples 100
    python bench/bench_query.py --cold       # the store's pages evicted from the OS cache before every run
    python bench/bench_query.py --only national   # only the kinds whose label contains "national"

Each kind of query runs with parameters drawn with a fixed seed (years, provinces, cities,
counties, figures, agencies) on one connection, as the bot's process would; the first run of each
kind is a warm-up and is not counted. Target: p95 under 200 ms for every kind (issue 4), warm and
cold. Cold (`--cold`): before every timed run the store file's pages are dropped from the operating
system's page cache (posix_fadvise DONTNEED, which needs no privileges), so that each question reads
what it needs from the disk, as the first question after the bot sat idle while other work filled
the memory; SQLite's own cache of the connection (2 MB) is left as it is.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from db.engine import make_engine  # noqa: E402
from db.models import Agency, AgencyAlias, Region  # noqa: E402
from query import api  # noqa: E402
from query.api import Scope  # noqa: E402
from query.fields import FIGURES  # noqa: E402
from query.scope import RegionRef, agency_by_id, find_agencies, find_region  # noqa: E402

TARGET_MS = 200.0
DEFAULT_DB = Path("/tmp/xxgk-national.db")


def evict(db: Path) -> None:
    """Drop the store's pages (and its WAL's) from the operating system's page cache."""
    for path in (db, Path(f"{db}-wal")):
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help="the national store (bench/national.py)")
    parser.add_argument("--samples", type=int, default=40, help="timed runs per kind of query")
    parser.add_argument("--cold", action="store_true",
                        help="drop the store from the OS page cache before every timed run")
    parser.add_argument("--only", action="append", default=[], metavar="TEXT",
                        help="only the kinds whose label contains TEXT (repeatable)")
    args = parser.parse_args()
    if not args.db.exists():
        print(f"no store at {args.db}: build it first with python bench/national.py", file=sys.stderr)
        return 2
    engine = make_engine(f"sqlite:///{args.db}")
    rng = random.Random(20261123)
    with engine.connect() as conn:
        a, reg, al = Agency.__table__, Region.__table__, AgencyAlias.__table__
        years = sorted(conn.execute(sa.text("SELECT DISTINCT year FROM report_figure")).scalars())
        agencies = conn.execute(sa.select(sa.func.count()).select_from(a)).scalar_one()
        reports = conn.execute(sa.text("SELECT count(*) FROM report_figure")).scalar_one()
        regions = {level: [RegionRef(c, n) for c, n in conn.execute(
            sa.select(reg.c.code, reg.c.name).where(reg.c.level == level))] for level in ("province", "city", "county")}
        ids = list(conn.execute(sa.select(a.c.id).where(a.c.registered)).scalars())
        sample_ids = rng.sample(ids, min(len(ids), 2000))
        names = [conn.execute(sa.select(a.c.name).where(a.c.id == i)).scalar_one() for i in sample_ids[:200]]
        aliases = list(conn.execute(sa.select(al.c.alias).limit(5000)).scalars())
        alias_sample = rng.sample(aliases, min(len(aliases), 200))
        region_names = [r.name for level in regions.values() for r in level]
        figures = [f.key for f in FIGURES]
        # Figures a supervisor asks about most, weighted over the rest.
        common = ["applications.new.total", "proactive.punishment.decisions", "proactive.licensing.decisions",
                  "review_litigation.review.total", "litigation.total", "proactive.fees.amount_wan_yuan"]

        def year() -> int:
            return rng.choice(years)

        def figure() -> str:
            return rng.choice(common) if rng.random() < 0.7 else rng.choice(figures)

        def scope(*levels: str) -> Scope:
            return Scope(rng.choice(regions[rng.choice(levels)]))

        kinds: dict[str, Callable[[], object]] = {
            "received, national, page of 50": lambda: api.received(conn, year()),
            "received, one province": lambda: api.received(conn, year(), scope("province")),
            "received, one city or county": lambda: api.received(conn, year(), scope("city", "county")),
            "top 10 by a figure, national": lambda: api.ranking(conn, figure(), year(), limit=10),
            "top 10 by a figure, one province": lambda: api.ranking(conn, figure(), year(), scope("province"), limit=10),
            "top 10, national, departments": lambda: api.ranking(conn, figure(), year(), Scope(level="department"),
                                                                limit=10),
            "totals by province, national": lambda: api.totals(conn, figure(), year()),
            "totals by city, one province": lambda: api.totals(conn, figure(), year(), scope("province")),
            "totals by level, one province": lambda: api.totals(conn, figure(), year(), scope("province"), by="level"),
            "one agency, all years": lambda: api.agency_figures(conn, agency_by_id(conn, rng.choice(sample_ids))),
            "agency compliance history": lambda: api.agency_history(conn, agency_by_id(conn, rng.choice(sample_ids))),
            "late reports, one province": lambda: api.findings(conn, year(), scope("province"), kinds=("late",)),
            "missing reports, one province": lambda: api.findings(conn, year(), scope("province"), kinds=("missing",)),
            "late reports, national, page": lambda: api.findings(conn, year(), kinds=("late",)),
            "inconsistent agencies, national": lambda: api.inconsistent_agencies(conn, year()),
            "inconsistent agencies, one city": lambda: api.inconsistent_agencies(conn, year(), scope("city")),
            "find agency by full name": lambda: find_agencies(conn, rng.choice(names)),
            "find agency by alias": lambda: find_agencies(conn, rng.choice(alias_sample)),
            "find region by name": lambda: find_region(conn, rng.choice(region_names)),
        }
        print(f"store: {args.db} ({args.db.stat().st_size / 2**30:.2f} GiB), {agencies:,} agencies, "
              f"{reports:,} reports, years {years[0]}–{years[-1]}")
        if args.only:
            kinds = {k: v for k, v in kinds.items() if any(t in k for t in args.only)}
        print(f"python {platform.python_version()}, {platform.machine()}, samples per kind: {args.samples}, "
              f"{'cold (page cache dropped before every run)' if args.cold else 'warm'}, "
              f"load average {os.getloadavg()[0]:.2f}")
        print(f"{'query':40} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        worst = 0.0
        for label, run in kinds.items():
            try:
                run()  # warm-up
            except Exception as exc:  # noqa: BLE001 - an ambiguous name in the sample is not a bench failure
                if type(exc).__name__ != "ScopeError":
                    raise
            times = []
            for _ in range(args.samples):
                if args.cold:
                    evict(args.db)
                start = time.perf_counter()
                try:
                    run()
                except Exception as exc:  # noqa: BLE001
                    if type(exc).__name__ != "ScopeError":
                        raise
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            p95 = times[max(0, round(0.95 * len(times)) - 1)]
            worst = max(worst, p95)
            flag = "" if p95 < TARGET_MS else "  <-- over target"
            print(f"{label:40} {statistics.median(times):8.1f} {p95:8.1f} {times[-1]:8.1f}{flag}")
        print(f"worst p95: {worst:.1f} ms (target < {TARGET_MS:.0f} ms); "
              f"load average {os.getloadavg()[0]:.2f}")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
