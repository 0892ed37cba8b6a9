"""Audit the locked dependencies (requirements.lock) for known vulnerabilities with pip-audit.

Fails (exit 1) when pip-audit reports a vulnerability in a locked version. When the vulnerability
service cannot be reached (every dependency skipped: behind a registry mirror without PyPI's JSON
API, or offline), it says so loudly and exits 0, unless XXGK_AUDIT_STRICT=1, because then no audit
took place and a green line would be a lie; pip-audit alone prints "No known vulnerabilities
found" in that case.

    python .ci/audit.py [requirements.lock]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    lock = Path(sys.argv[1] if len(sys.argv) > 1 else "requirements.lock")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        proc = subprocess.run(
            [sys.executable, "-m", "pip_audit", "-r", str(lock), "--no-deps", "--disable-pip",
             "--progress-spinner", "off", "--format", "json", "--output", str(out)],
            capture_output=True, text=True)
        if not out.exists():
            print(f"pip-audit failed to run (exit {proc.returncode}):\n{proc.stderr[-2000:]}", file=sys.stderr)
            return 1
        report = json.loads(out.read_text(encoding="utf-8"))
    deps = report.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    skipped = [d for d in deps if d.get("skip_reason")]
    for d in vulnerable:
        ids = ", ".join(f"{v['id']} (fixed in {', '.join(v.get('fix_versions') or ['?'])})" for v in d["vulns"])
        print(f"VULNERABLE {d['name']}=={d['version']}: {ids}", file=sys.stderr)
    if vulnerable:
        return 1
    audited = len(deps) - len(skipped)
    if deps and not audited:
        print(f"WARNING: pip-audit could not audit any of the {len(deps)} locked dependencies "
              f"(the vulnerability service is unreachable from here: {skipped[0]['skip_reason']}). "
              "No audit took place.", file=sys.stderr)
        return 1 if os.environ.get("XXGK_AUDIT_STRICT") == "1" else 0
    note = f"; {len(skipped)} could not be audited" if skipped else ""
    print(f"pip-audit: no known vulnerabilities in {audited} locked dependencies{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
