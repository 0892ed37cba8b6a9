"""bench/bench_bot_load.py in its --quick mode: the real bot in a process of its own on a small
store built on the fly, five users asking 200 questions through the fake Bot API server. Checks
that every question got its answer and that the report has its fields; timings are not checked
(the machine is shared)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_quick_run_answers_every_question() -> None:
    done = subprocess.run([sys.executable, str(REPO / "bench" / "bench_bot_load.py"), "--quick", "--json"],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])

    assert report["users"] == 5
    assert report["questions"] == 200
    assert report["asked"] == report["answered"] == 200
    assert report["missing"] == 0
    assert report["unsolicited"] == 0  # no answer without a question, none twice
    assert report["errors"] == 0  # never the error handler's reply
    assert report["mismatched"] == 0  # an answer about the year asked
    assert sum(report["statuses"].values()) == 200
    assert report["statuses"].get("ok", 0) > 100
    for name in ("latency_s", "user_seen_s"):
        assert set(report[name]) == {"p50", "p95", "p99", "max"}
        assert 0 < report[name]["p50"] <= report[name]["p95"] <= report[name]["p99"] <= report[name]["max"]
    assert report["view_s"]["n"] >= 150  # the view ran in the bot for (nearly) every question
    assert set(report["throttled"]) == {"questions", "refusals", "waited_s"}
    rss = report["rss_mb"]
    assert rss["samples"] >= 2 and rss["start"] > 0 and rss["peak"] >= rss["end"] > 0
    assert isinstance(rss["slope_last_half_per_1000"], float)
    assert report["questions_per_s"] > 0 and report["seconds"] > 0
    assert report["by_kind"]
    assert all({"n", "p50_s", "p95_s", "max_s"} <= set(k) for k in report["by_kind"].values())


def test_quick_run_in_rounds_answers_every_question() -> None:
    """--burst: the users ask in rounds, all at once; a user with one question fewer than the others
    still passes every round's barrier, so the run ends (23 questions for 5 users: 5 rounds, the
    last one of 3 questions)."""
    done = subprocess.run([sys.executable, str(REPO / "bench" / "bench_bot_load.py"), "--quick", "--json",
                           "--questions", "23", "--burst", "0.05"],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["burst"] == 0.05
    assert report["asked"] == report["answered"] == 23
    assert report["missing"] == report["unsolicited"] == report["errors"] == 0


def test_burst_and_think_are_refused_together() -> None:
    done = subprocess.run([sys.executable, str(REPO / "bench" / "bench_bot_load.py"), "--quick",
                           "--burst", "1", "--think", "2"], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 2
    assert "--burst" in done.stderr
