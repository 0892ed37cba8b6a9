"""Helpers shared by the renderers."""

from __future__ import annotations

import re
import zlib

from .spec import ReportSpec, TableSlot
from .tables import GridTable, build_table

Block = str | GridTable

_SECTION_HEADING = re.compile(r"^[一二三四五六七八九十]+、")
_SUB_HEADING = re.compile(r"^[（(][一二三四五六七八九十]+[）)]")
_MAX_HEADING_CHARS = 30
_ADMIN_PREFIX = re.compile(
    r"^((?:[^省市县区]{2,6}省)?(?:[^省市县区]{1,6}市)?(?:[^省市县区]{1,6}[县区])?)"
)


def blocks(spec: ReportSpec) -> list[Block]:
    """The body with each `TableSlot` replaced by its table."""
    return [build_table(spec, item.kind) if isinstance(item, TableSlot) else item for item in spec.body]


def heading_level(text: str) -> int | None:
    """1 for "一、总体情况", 2 for "（一）主动公开情况", None for prose."""
    stripped = text.strip()
    if len(stripped) > _MAX_HEADING_CHARS or stripped.endswith(("。", "；")):
        return None
    if _SECTION_HEADING.match(stripped):
        return 1
    if _SUB_HEADING.match(stripped):
        return 2
    return None


def title_lines(spec: ReportSpec) -> list[str]:
    """The title as printed at the top: agency on one line and the rest on the next, as
    most reports do, or the whole title on one line when it does not start with the agency."""
    title = spec.title or ""
    if title.startswith(spec.agency) and len(title) > len(spec.agency):
        return [spec.agency, title[len(spec.agency) :]]
    return [title]


def site_name(agency: str) -> str:
    """The portal a department's report is published on: its area's people's government."""
    match = _ADMIN_PREFIX.match(agency)
    prefix = match.group(1) if match else ""
    return f"{prefix}人民政府" if prefix else "政府信息公开平台"


def stable_int(*parts: object) -> int:
    """A deterministic number from the inputs (for ids and variation that must not change
    between runs)."""
    return zlib.crc32("|".join(str(p) for p in parts).encode("utf-8"))


def is_number_text(text: str) -> bool:
    return bool(re.fullmatch(r"-?\d+(\.\d+)?", text))
