"""The five real seed reports give exactly their expected canonical data and findings."""

from __future__ import annotations

import json
import subprocess
import sys

from checks.check import check_document
from checks.readers.text import read_text
from conftest import SEEDS, assert_matches, expected_for


def _check(seed):
    return check_document(read_text(seed.read_text(encoding="utf-8"), str(seed)))


def test_seed_data_matches_expected(seed):
    expected = expected_for(seed)
    got = _check(seed).to_json()
    data = {k: v for k, v in expected.items() if not k.startswith("findings")}
    assert_matches(data, got)


def test_seed_findings(seed):
    expected = expected_for(seed)
    rules = {f.rule for f in _check(seed).findings}
    assert set(expected["findings_required"]) <= rules
    assert not set(expected["findings_forbidden"]) & rules


def test_seed_findings_say_where():
    report = _check(SEEDS[2])  # 002: "00" in the 总计 column of two rows
    suspicious = [f for f in report.findings if f.rule == "suspicious_value"]
    assert {f.row for f in suspicious} == {"withheld_security_stability", "withheld_third_party"}
    assert all(f.column == "total" and "总计列" in f.where and "00" in f.message for f in suspicious)


def test_cli_json_all_seeds_in_one_call():
    out = subprocess.run(
        [sys.executable, "-m", "xxgk.cli", "check", "--json", *map(str, SEEDS)],
        capture_output=True, text=True, check=True,
    )
    lines = out.stdout.strip().splitlines()
    assert len(lines) == len(SEEDS)
    for seed, line in zip(SEEDS, lines):
        got = json.loads(line)
        expected = expected_for(seed)
        assert_matches({k: v for k, v in expected.items() if not k.startswith("findings")}, got)
        assert got["source"] == str(seed)
        assert set(expected["findings_required"]) <= {f["rule"] for f in got["findings"]}
