"""Crawl throughput, re-crawl savings and peak memory against 1,000 simulated sites on loopback.

    python bench/bench_crawl.py              # 1,000 sites
    python bench/bench_crawl.py --sites 200  # a smoke run

The demo server (`python -m xxgk.demo --many N`) runs in its own process, each site on its own
127.x address. A second process runs the real crawler (scraper.crawl.Crawler: polite client,
list parsing, article parsing, checks, SQLite storage) twice with no per-host delay, and reports
pages fetched, bytes and time for each crawl, and its own peak RSS (VmHWM).

The crawl is CPU-bound on a small machine, so each crawl's line also gives the crawler's CPU: its
own process and its check workers, per page fetched (Linux: the workers' time is read from the
fork server that reaps them). That figure hardly moves when something else runs on the machine,
unlike pages/s; the machine's busy cores during the crawl (/proc/stat) tell whether it did.

Targets (issue 3): first crawl ≥ 200 pages/s end to end including checks and storage; an
unchanged re-crawl ≥ 5× faster than the first and transferring < 5% of its bytes; peak memory
< 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CRAWL = r"""
import asyncio, json, os, re, sys, time, tomllib
sys.path.insert(0, sys.argv[3])
from db.engine import make_engine, upgrade
from scraper.crawl import Crawler
from xxgk.config import CrawlerConfig, SiteConfig

sites = [SiteConfig(**s) for s in tomllib.load(open(sys.argv[1], "rb"))["sites"]]
engine = make_engine("sqlite:///" + sys.argv[2])
upgrade(engine)
cfg = CrawlerConfig(per_host_delay_s=0, concurrency=int(sys.argv[4]), timeout_s=30, retries=1,
                    allow_private_addresses=True)  # the demo sites are on 127.x
def busy():  # core-seconds the machine has been busy (all but idle and iowait), None off Linux
    try:
        fields = [int(v) for v in open("/proc/stat").readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def crawler_cpu():
    # CPU seconds of this process and of the check workers that have exited (the fork server
    # reaps them, so their time is in its children's time); None where that cannot be read.
    t = os.times()
    own = t.user + t.system
    try:
        from multiprocessing import forkserver
        pid = forkserver._forkserver._forkserver_pid
        if pid is None:
            return own
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return own + sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    except Exception:
        return None


out = []
for _ in range(2):
    b0, c0, t0 = busy(), crawler_cpu(), time.perf_counter()
    results = asyncio.run(Crawler(cfg, engine).run(sites))
    seconds, b1, c1 = time.perf_counter() - t0, busy(), crawler_cpu()
    out.append({
        "seconds": seconds,
        "busy": None if b0 is None or b1 is None else b1 - b0,
        "cpu": None if c0 is None or c1 is None else c1 - c0,
        "pages": sum(r.pages_fetched for r in results),
        "bytes": sum(r.bytes_received for r in results),
        "reports_new": sum(r.reports_new for r in results),
        "reports_found": sum(r.reports_found for r in results),
        "errors": sum(len(r.errors) for r in results),
        "failed_sites": sum(r.status != "ok" for r in results),
    })
hwm = int(re.search(r"VmHWM:\s+(\d+)", open("/proc/self/status").read()).group(1))
print(json.dumps({"crawls": out, "peak_kb": hwm}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=32)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp, "sites.toml")
        server = subprocess.Popen(
            [sys.executable, "-m", "xxgk.demo", "--many", str(args.sites), "--config", str(config)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        try:
            assert server.stderr is not None
            line = server.stderr.readline()  # "serving N sites on port P" once it listens
            if "serving" not in line:
                raise SystemExit(f"demo server did not start: {line}{server.stderr.read()}")
            started = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-c", CRAWL, str(config), str(Path(tmp, "bench.db")), str(ROOT),
                 str(args.concurrency)],
                capture_output=True, text=True, check=True, cwd=ROOT,
            )
            total = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(timeout=30)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    first, second = result["crawls"]
    first_rate = first["pages"] / first["seconds"]
    speedup = first["seconds"] / second["seconds"]
    byte_share = second["bytes"] / first["bytes"] if first["bytes"] else 0.0
    peak_mb = result["peak_kb"] / 1024

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.sites} sites, concurrency {args.concurrency}, no per-host delay")
    print()
    print("| crawl | pages | reports new / found | errors | seconds | pages/s | bytes | crawler CPU | machine busy |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, c in (("first", first), ("unchanged re-crawl", second)):
        cpu = "n/a" if c["cpu"] is None else f"{c['cpu']:.1f} s = {1000 * c['cpu'] / c['pages']:.1f} ms/page"
        busy = "n/a" if c["busy"] is None else f"{c['busy'] / c['seconds']:.2f} cores"
        print(f"| {name} | {c['pages']} | {c['reports_new']} / {c['reports_found']} | {c['errors']} | "
              f"{c['seconds']:.1f} | {c['pages'] / c['seconds']:.0f} | {c['bytes'] / 1024:.0f} KB | {cpu} | {busy} |")
    print()
    checks = [
        (f"first crawl {first_rate:.0f} pages/s", first_rate >= 200, "≥ 200"),
        (f"re-crawl {speedup:.1f}× faster", speedup >= 5, "≥ 5×"),
        (f"re-crawl bytes {byte_share:.2%} of the first", byte_share < 0.05, "< 5%"),
        (f"peak memory {peak_mb:.0f} MB", peak_mb < 300, "< 300 MB"),
    ]
    for text, ok, target in checks:
        print(f"- {text} (target {target}) {'✓' if ok else '✗'}")
    print(f"(wall time with process start-up: {total:.1f} s; measured {time.strftime('%Y-%m-%d')})")
    sys.exit(0 if all(ok for _, ok, _ in checks) else 1)


if __name__ == "__main__":
    main()
