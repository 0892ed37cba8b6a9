"""What a rendered report contains: its data, its prose and where the tables go.

A `ReportSpec` is the single source for every renderer (`formats.py`): the same spec
rendered as CMS HTML, Word HTML, .docx, PDF, flattened text or TSV must read back as the
same report. Table data uses the canonical keys of ../shared/spec/report-json.md.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from checks.template import TEMPLATE_2019, TEMPLATE_2021

TableKind = Literal["proactive", "applications", "review_litigation"]
TABLE_KINDS: tuple[str, ...] = get_args(TableKind)

# A cell value as it should be printed: a number, None for an empty cell, or a string
# printed verbatim (used to inject faults such as "00", "1 0", "/", "-", "x", "-3").
CellValue = int | float | str | None
TableValues = dict[str, dict[str, CellValue]]


@dataclass(frozen=True, slots=True)
class TableSlot:
    """Placeholder in `ReportSpec.body` where one of the three standard tables goes."""

    kind: TableKind

    def __post_init__(self) -> None:
        if self.kind not in TABLE_KINDS:
            raise ValueError(f"unknown table kind {self.kind!r}; expected one of {TABLE_KINDS}")


BodyItem = str | TableSlot


def default_title(agency: str, year: int) -> str:
    return f"{agency}{year}年度政府信息公开工作年度报告"


@dataclass(slots=True)
class ReportSpec:
    """A report to render.

    `body` is the document in reading order: paragraphs (headings included, e.g.
    "一、总体情况") and `TableSlot`s. `drop_cells` maps a row key to the number of value
    cells to leave out at the end of that row (a row with missing cells). Section 四 is a
    single printed row: drops given for any of its three row keys are added up and taken
    from the end of that row.
    """

    agency: str
    year: int
    template: Literal["2021", "2019"] = TEMPLATE_2021
    title: str | None = None
    body: list[BodyItem] = field(default_factory=list)
    proactive: TableValues = field(default_factory=dict)
    applications: TableValues = field(default_factory=dict)
    review_litigation: TableValues = field(default_factory=dict)
    drop_cells: dict[str, int] = field(default_factory=dict)
    # Not in the brief's list but needed by the page renderers (发布日期, PubDate meta).
    published: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.template not in (TEMPLATE_2019, TEMPLATE_2021):
            raise ValueError(f"template must be '2019' or '2021', not {self.template!r}")
        if self.title is None:
            self.title = default_title(self.agency, self.year)
        if self.published is None:
            self.published = dt.datetime(self.year + 1, 1, 18, 9, 30)
        for item in self.body:
            if not isinstance(item, (str, TableSlot)):
                raise TypeError(f"body items must be str or TableSlot, not {type(item).__name__}")

    def values(self, kind: TableKind) -> TableValues:
        return getattr(self, kind)

    def table_kinds(self) -> list[TableKind]:
        return [item.kind for item in self.body if isinstance(item, TableSlot)]

    def paragraphs(self) -> list[str]:
        return [item for item in self.body if isinstance(item, str)]

    def text(self) -> str:
        """The prose only, one paragraph per line."""
        return "\n".join(self.paragraphs())


def spec_from_expected(
    expected: dict[str, Any],
    body: list[BodyItem],
    agency: str | None = None,
    year: int | None = None,
) -> ReportSpec:
    """A spec whose tables carry a seed's expected data (rows the JSON omits print empty)."""
    template = expected.get("template") or TEMPLATE_2021
    if template not in (TEMPLATE_2019, TEMPLATE_2021):
        template = TEMPLATE_2021
    return ReportSpec(
        agency=agency or expected["agency"],
        year=int(year or expected["year"]),
        template=template,
        body=list(body),
        proactive=copy.deepcopy(expected.get("proactive") or {}),
        applications=copy.deepcopy(expected.get("applications") or {}),
        review_litigation=copy.deepcopy(expected.get("review_litigation") or {}),
    )
