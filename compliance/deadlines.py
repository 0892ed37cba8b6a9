"""When a report is due (政府信息公开条例 2019, 第四十九条、第五十条), per level and region.

Departments of county-level and higher governments publish their report on year Y by 1月31日 of
Y+1, people's governments by 3月31日; townships by a date local rules set. The table comes from
the `[deadlines]` config: a default per level, and overrides for a region subtree (optionally for
one level), the most specific region winning.
"""

from __future__ import annotations

from datetime import date

from compliance.regions import code_prefix
from xxgk.config import DeadlinesConfig

# An agency whose level is unknown gets the latest of the national dates, so that it is never
# called late on a guess.
_FALLBACK_LEVEL = "government"


def _parse(month_day: str, year: int) -> date:
    month, day = (int(part) for part in month_day.split("-"))
    return date(year, month, day)


def deadline(report_year: int, level: str | None, region_code: str | None, cfg: DeadlinesConfig) -> date:
    """The last day on which the report on `report_year` is on time."""
    due = getattr(cfg, level or _FALLBACK_LEVEL, None) or getattr(cfg, _FALLBACK_LEVEL)
    best: tuple[int, int] | None = None  # (prefix length, level-specific) of the override applied
    if region_code:
        for rule in cfg.overrides:
            prefix = code_prefix(rule.region)
            if not region_code.startswith(prefix) or (rule.level is not None and rule.level != level):
                continue
            rank = (len(prefix), rule.level is not None)
            if best is None or rank > best:
                best, due = rank, rule.date
    return _parse(due, report_year + 1)
