"""CPU cost of storing a checked report: the database half of a crawl's per-document job.

    python bench/bench_save.py                        # 2,000 reports, best of 3 rounds
    python bench/bench_save.py --n 200 --rounds 1     # a smoke run

A few synthetic reports (xxgk.render.synthetic_spec, rendered as CMS HTML) are checked once up
front; N jobs are made from them with distinct URLs, contents and agency names (two years per
agency, as a site publishes one report a year; every other report carries three findings, which
the consistent synthetic reports lack). Only `scraper.store_job.store_checked` is timed
(crawl-state lookups, save_report, describe_agency, commit) in three passes over the same jobs,
into a fresh SQLite file each round:

- new:       first crawl, nothing stored yet (new agency every other report, new document,
             version, report, cells and findings);
- unchanged: the same bytes again (writes nothing);
- changed:   every document edited after publication (new hash: document updated, a second
             version, and the changed_after_publication finding replaces the findings).

Each pass reports its best round: other processes only ever make a round slower.
Target: new ≤ 1.5 ms CPU per report, one core.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import hashlib
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checks.check import check_document  # noqa: E402
from checks.model import Finding, Report  # noqa: E402
from checks.readers import read_bytes  # noqa: E402
from db.engine import make_engine, upgrade  # noqa: E402
from scraper.store_job import DocumentJob, JobOutcome, store_checked  # noqa: E402
from xxgk.render import render, synthetic_spec  # noqa: E402

TARGET_NEW_MS = 1.5
FETCHED = datetime(2022, 2, 1, 8, 0, tzinfo=UTC)
FINDINGS = [
    Finding("text_table_mismatch", "error", "正文称本年新收政府信息公开申请13件，表格为12件",
            "三、本年新收政府信息公开申请数量 · 总计列", section="三", row="new", column="total"),
    Finding("stale_text", "warning", "改进情况写的是上一年的工作计划，似为沿用上年报告",
            "五、存在的主要问题及改进情况", section="五"),
    Finding("late", "error", "逾期发布：1月31日后发布", "发布日期"),
]


def checked_reports(distinct: int) -> list[tuple[bytes, Report]]:
    """(page, report) for `distinct` synthetic CMS pages, each read and checked once."""
    out = []
    for i in range(distinct):
        spec = synthetic_spec(i, template="2021" if i % 4 else "2019", year=2021 if i % 4 else 2020)
        page = render(spec, "cms_html")
        report = check_document(read_bytes(page, f"r{i}.html"))
        if report.agency is None or report.year is None:
            raise SystemExit(f"synthetic report {i} was not identified: {report.agency!r} {report.year!r}")
        out.append((page, report))
    return out


def jobs(n: int, distinct: int) -> list[tuple[DocumentJob, Report]]:
    """N jobs with distinct URLs and contents; report i belongs to agency i // 2, year 2020 + i % 2."""
    base = checked_reports(min(n, distinct))
    out = []
    for i in range(n):
        page, checked = base[i % len(base)]
        report = copy.copy(checked)
        report.agency = f"{base[i // 2 % len(base)][1].agency}（{i // 2}）"
        report.year = 2020 + i % 2
        report.findings = [] if i % 2 else list(FINDINGS)
        content = page + f"<!-- {i} -->".encode()
        job = DocumentJob(
            url=f"http://127.0.0.{1 + i // 500}/xxgk/{i}/art_{i}.html", content=content,
            content_hash=hashlib.sha256(content).hexdigest(), content_type="text/html; charset=utf-8",
            source_url=None, site=f"site{i // 2}", site_agency=report.agency, region_code="330211",
            region_name="镇海区", level="department", list_title=report.title or "", list_year=report.year,
            published=FETCHED - timedelta(days=30), published_source="发布日期", fetched_at=FETCHED,
            database_url="",  # unused: store_checked is given the engine
        )
        out.append((job, report))
    return out


def edited(job: DocumentJob) -> DocumentJob:
    """The same document with new bytes, fetched a day later."""
    content = job.content + b"<!-- edited -->"
    return dataclasses.replace(job, content=content, content_hash=hashlib.sha256(content).hexdigest(),
                               fetched_at=job.fetched_at + timedelta(days=1))


def timed_pass(work: list[tuple[DocumentJob, Report]], database_url: str, expect: str) -> tuple[float, float]:
    """(wall ms, CPU ms) per report of store_checked over `work`; every outcome must be `expect`.

    CPU time (user + system of this process) leaves out waiting for the disk and for other
    processes on a busy machine; wall time includes both.
    """
    engine = make_engine(database_url)
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        for job, report in work:
            outcome: JobOutcome = store_checked(job, report, engine)
            if outcome.status != expect:
                raise SystemExit(f"{job.url}: expected {expect!r}, got {outcome}")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        engine.dispose()
    return wall / len(work) * 1000, cpu / len(work) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000, help="reports to store")
    ap.add_argument("--distinct", type=int, default=40, help="synthetic reports rendered and checked")
    ap.add_argument("--rounds", type=int, default=3, help="rounds, each into a fresh database")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    work = jobs(args.n, args.distinct)
    passes = {
        "new": (work, "new"),
        "unchanged": (work, "unchanged"),
        "changed": ([(edited(job), report) for job, report in work], "changed"),
    }
    best = {name: (float("inf"), float("inf")) for name in passes}
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            database_url = f"sqlite:///{Path(tmp, 'bench.db')}"
            upgrade(database_url)
            for name, (pass_work, expect) in passes.items():
                wall, cpu = timed_pass(pass_work, database_url, expect)
                best[name] = (min(best[name][0], wall), min(best[name][1], cpu))

    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"one core; {args.n} reports, SQLite file, best of {args.rounds} rounds")
    print()
    print("| pass | ms/report (wall) | ms/report (CPU) |")
    print("|---|---|---|")
    for name, (wall, cpu) in best.items():
        print(f"| {name} | {wall:.2f} | {cpu:.2f} |")
    new_cpu = best["new"][1]
    ok = new_cpu <= TARGET_NEW_MS
    print()
    print(f"- new reports {new_cpu:.2f} ms CPU each (target ≤ {TARGET_NEW_MS} ms) {'✓' if ok else '✗'}")
    print(f"(measured {time.strftime('%Y-%m-%d')})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
