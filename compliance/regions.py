"""Administrative division codes (GB/T 2260 and the statistics office's 9/12-digit township codes).

The hierarchy is in the code itself: 330000 浙江省 ⊃ 330200 宁波市 ⊃ 330211 镇海区 ⊃ 330211001 (a
township). A region's subtree is every code that starts with its prefix, so scoping a query or a
subscription to a region is a prefix match, with no tree walk.
"""

from __future__ import annotations

_BOUNDARIES = (2, 4, 6, 9, 12)  # province, city, county, township, village
_LEVELS = {2: "province", 4: "city", 6: "county", 9: "township", 12: "township"}


def is_region_code(code: str | None) -> bool:
    return bool(code) and code.isdigit() and len(code) in (2, 4, 6, 9, 12)  # type: ignore[union-attr]


def code_prefix(code: str) -> str:
    """The prefix every code in the region's subtree starts with: 330000 → 33, 330200 → 3302,
    330211 → 330211, 330211001000 → 330211001."""
    code = code.strip()
    for b in _BOUNDARIES:
        if b >= len(code) or not code[b:].strip("0"):
            return code[:b] if b < len(code) else code
    return code


def region_level(code: str) -> str:
    """province, city, county or township, from the code's shape."""
    return _LEVELS.get(len(code_prefix(code)), "township")


def parent_code(code: str) -> str | None:
    """The code of the enclosing region (330211 → 330200, 330211001 → 330211), or None at the
    top. Province, city and county codes have six digits; township codes keep their own width."""
    prefix = code_prefix(code)
    for b in reversed(_BOUNDARIES):
        if b < len(prefix):
            return prefix[:b].ljust(6 if b <= 6 else len(code), "0")
    return None


def in_region(code: str | None, scope: str | None) -> bool:
    """Whether `code` lies in the subtree of `scope` (None: everywhere)."""
    if scope is None:
        return True
    return code is not None and code.startswith(code_prefix(scope))
