"""Parse + validate throughput and peak memory of `checks`, on one core.

    python bench/bench_checks.py            # all formats, prints a Markdown table
    python bench/bench_checks.py --quick    # fewer reports, for a smoke run

Reports are synthetic (xxgk.render.synthetic_spec), rendered once up front, so only reading,
parsing and validating are timed: `checks.readers.read_bytes` + `checks.check.check_document`,
exactly what `xxgk check` does per file. Throughput is measured in this process pinned to one
CPU. Peak memory is measured in a child process that checks a batch of 1,000 report files from
disk one by one with `checks.files.check_file` (the CLI's path) and reports its max RSS.

Targets (issue 2): ≥200 reports/s for text and CMS HTML (10–30 KB), ≥20/s for Word-exported HTML
(~300 KB), peak memory < 200 MB for a batch of 1,000 reports.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checks.check import check_document  # noqa: E402
from checks.readers import read_bytes  # noqa: E402
from xxgk.render import RENDERERS, render, synthetic_spec  # noqa: E402

TARGETS = {"flat_text": 200, "tsv": 200, "cms_html": 200, "word_html": 20}


def corpus(fmt: str, n: int) -> list[tuple[bytes, str]]:
    ext = RENDERERS[fmt][1]
    out = []
    for i in range(n):
        spec = synthetic_spec(i, template="2021" if i % 4 else "2019", year=2021 if i % 4 else 2020)
        out.append((render(spec, fmt), f"r{i}{ext}"))
    return out


def throughput(docs: list[tuple[bytes, str]], min_seconds: float) -> tuple[float, float]:
    """(reports per second, median ms per report) over repeated passes of at least min_seconds."""
    for data, name in docs[:3]:
        check_document(read_bytes(data, name))  # warm caches and imports
    times: list[float] = []
    start = time.perf_counter()
    while time.perf_counter() - start < min_seconds:
        for data, name in docs:
            t0 = time.perf_counter()
            check_document(read_bytes(data, name))
            times.append(time.perf_counter() - t0)
    total = sum(times)
    return len(times) / total, statistics.median(times) * 1000


def peak_memory_batch(n: int) -> float:
    """Peak RSS (MB) of a fresh process checking n report files, mixed formats, one by one."""
    with tempfile.TemporaryDirectory() as tmp:
        formats = ["flat_text", "cms_html", "word_html", "tsv"]
        for i in range(n):
            fmt = formats[i % len(formats)]
            spec = synthetic_spec(10_000 + i, template="2021", year=2021)
            Path(tmp, f"r{i:04d}{RENDERERS[fmt][1]}").write_bytes(render(spec, fmt))
        # VmHWM belongs to the child's own address space; ru_maxrss would carry the parent's
        # peak across fork+exec on Linux.
        code = (
            "import sys, pathlib, re\n"
            "from checks.files import check_file\n"
            "ok = 0\n"
            "for p in sorted(pathlib.Path(sys.argv[1]).iterdir()):\n"
            "    ok += check_file(p, max_bytes=50 * 2**20).ok\n"
            "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
            "print(ok, hwm)\n"
        )
        out = subprocess.run([sys.executable, "-c", code, tmp], capture_output=True, text=True,
                             check=True, cwd=ROOT).stdout.split()
        if int(out[0]) != n:
            raise SystemExit(f"only {out[0]} of {n} reports were read in the memory run")
        return int(out[1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer reports and shorter runs")
    ap.add_argument("--formats", nargs="*", default=["flat_text", "tsv", "cms_html", "word_html", "docx", "pdf"])
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    n = 20 if args.quick else 60
    seconds = 1.0 if args.quick else 4.0

    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, one core")
    print()
    print("| format | size (KB, median) | reports/s | ms/report (median) | target |")
    print("|---|---|---|---|---|")
    failed = False
    for fmt in args.formats:
        docs = corpus(fmt, n if fmt not in ("pdf", "docx") else max(5, n // 6))
        size = statistics.median(len(d) for d, _ in docs) / 1024
        rate, ms = throughput(docs, seconds)
        target = TARGETS.get(fmt)
        verdict = "" if target is None else (f"≥{target}/s ✓" if rate >= target else f"≥{target}/s ✗")
        failed |= target is not None and rate < target
        print(f"| {fmt} | {size:.0f} | {rate:.0f} | {ms:.2f} | {verdict} |")
    batch = 200 if args.quick else 1000
    peak = peak_memory_batch(batch)
    failed |= peak >= 200
    print()
    print(f"peak memory, batch of {batch} reports checked from disk: {peak:.0f} MB (target < 200 MB)")
    print(f"(measured {time.strftime('%Y-%m-%d')}, max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB in this process)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
