""".ci/audit.py, the CI's dependency audit: it must fail on a vulnerability and must not report
an audit that did not happen. pip-audit's vulnerability services are not reachable from CI's
network, so a stand-in `pip_audit` module (first on PYTHONPATH) writes the JSON report that
pip-audit 2.x writes with `--format json --output FILE`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

AUDIT = REPO / ".ci" / "audit.py"

_FAKE = """
import json, sys
args = sys.argv[1:]
out = args[args.index("--output") + 1]
json.dump(json.load(open({report!r})), open(out, "w"))
"""


def _run(tmp_path: Path, deps: list[dict], strict: bool = False) -> subprocess.CompletedProcess:
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"dependencies": deps, "fixes": []}), encoding="utf-8")
    fake = tmp_path / "fake" / "pip_audit"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text(_FAKE.format(report=str(report)))
    lock = tmp_path / "requirements.lock"
    lock.write_text("".join(f"{d['name']}=={d['version']}\n" for d in deps))
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "fake"), "XXGK_AUDIT_STRICT": "1" if strict else "0"}
    return subprocess.run([sys.executable, str(AUDIT), str(lock)], capture_output=True, text=True, env=env,
                          timeout=60)


def _dep(name: str, vulns: list[dict] | None = None, skip: str | None = None) -> dict:
    d = {"name": name, "version": "1.0"}
    if skip:
        d["skip_reason"] = skip
    else:
        d["vulns"] = vulns or []
    return d


def test_a_vulnerable_locked_version_fails_and_is_named(tmp_path: Path) -> None:
    proc = _run(tmp_path, [_dep("httpx"), _dep("jinja2", [{"id": "GHSA-xxxx", "fix_versions": ["3.1.6"]}])])
    assert proc.returncode == 1
    assert "VULNERABLE jinja2==1.0: GHSA-xxxx (fixed in 3.1.6)" in proc.stderr


def test_a_clean_audit_passes_and_says_how_many_were_audited(tmp_path: Path) -> None:
    proc = _run(tmp_path, [_dep("httpx"), _dep("jinja2"), _dep("odd", skip="not on PyPI")])
    assert proc.returncode == 0
    assert "no known vulnerabilities in 2 locked dependencies; 1 could not be audited" in proc.stdout


@pytest.mark.parametrize("strict", [False, True])
def test_an_audit_that_could_not_reach_the_service_says_so(tmp_path: Path, strict: bool) -> None:
    reason = "Dependency not found on PyPI and could not be audited: httpx (1.0)"
    proc = _run(tmp_path, [_dep("httpx", skip=reason), _dep("jinja2", skip=reason)], strict=strict)
    assert "No audit took place" in proc.stderr and "no known vulnerabilities" not in proc.stdout
    assert proc.returncode == (1 if strict else 0)
