"""The canonical report data (../shared/spec/report-json.md) and findings, as typed objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta, timezone
from typing import Any, Literal

# Beijing time: the dates printed on Chinese government sites and the statutory deadlines.
CST = timezone(timedelta(hours=8))

Number = int | float
Severity = Literal["error", "warning", "info"]

# A table section: row key -> column key -> value (None = left blank / "/" / "-" / unreadable).
TableData = dict[str, dict[str, Number | None]]


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: Severity
    message: str  # Chinese, understandable without the spec
    where: str  # Chinese, e.g. "三、（七）总计 · 总计列"
    section: str | None = None  # 一 … 六
    row: str | None = None  # canonical row key
    column: str | None = None  # canonical column key

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "where": self.where,
        }
        for name in ("section", "row", "column"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass(slots=True)
class Report:
    """One annual report as data. `to_json()` gives the spec's canonical JSON."""

    source: str
    agency: str | None = None
    year: int | None = None
    template: str = "unknown"
    sections: list[str] = field(default_factory=list)
    proactive: TableData = field(default_factory=dict)
    applications: TableData = field(default_factory=dict)
    review_litigation: TableData = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    # Facts beyond the spec's keys (added, never renamed):
    title: str | None = None
    format: str | None = None
    # The prose, for rules that read it (not serialised): all of it, and per section numeral.
    text: str = field(default="", repr=False)
    section_text: dict[str, str] = field(default_factory=dict, repr=False)
    headings: dict[str, str] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "agency": self.agency,
            "year": self.year,
            "template": self.template,
            "sections": list(self.sections),
            "proactive": self.proactive,
            "applications": self.applications,
            "review_litigation": self.review_litigation,
            "findings": [f.to_json() for f in self.findings],
            "title": self.title,
            "format": self.format,
        }
