"""One report in, canonical data and findings out: the pipeline the CLI and the crawler call."""

from __future__ import annotations

from checks.budget import DEFAULT_CHECK_SECONDS, time_limit, timeout_reason
from checks.document import Document
from checks.model import Report
from checks.parse import parse
from checks.rules import validate

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def check_document(doc: Document, *, time_limit_s: float | None = DEFAULT_CHECK_SECONDS) -> Report:
    """Parse and validate. Raises checks.parse.NotAReport for documents that are no report, and
    checks.document.ReadError if that takes longer than `time_limit_s` (None: no limit)."""
    with time_limit(time_limit_s, timeout_reason(time_limit_s or 0, "报告")):
        report = parse(doc)
        report.findings.extend(validate(report))
    report.findings.sort(key=lambda f: _SEVERITY_ORDER.get(f.severity, 3))
    return report
