"""Who a question is about: a region subtree, a level, an agency; found by code or by name.

Region scoping is a prefix match on the agency's region code (compliance.regions), written as a
range on SQLite so that the index on agency.region_code serves it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from checks.normalize import compact
from compliance.regions import code_prefix, is_region_code, region_level
from db.models import AGENCY_LEVELS, Agency, AgencyAlias, Region

LEVEL_NAMES = {"department": "部门", "government": "人民政府", "township": "乡镇（街道）"}
LEVEL_WORDS = {
    "部门": "department", "政府部门": "department", "局": "department", "department": "department",
    "人民政府": "government", "政府": "government", "区县政府": "government", "government": "government",
    "乡镇": "township", "街道": "township", "乡镇（街道）": "township", "乡镇街道": "township",
    "township": "township",
}

_AGENCIES: sa.Table = Agency.__table__  # type: ignore[attr-defined]
_REGIONS: sa.Table = Region.__table__  # type: ignore[attr-defined]
_ALIASES: sa.Table = AgencyAlias.__table__  # type: ignore[attr-defined]


class ScopeError(ValueError):
    """A region, level or agency that cannot be found; the message is Chinese, for the user."""


@dataclass(frozen=True, slots=True)
class RegionRef:
    code: str
    name: str

    @property
    def prefix(self) -> str:
        return code_prefix(self.code)

    @property
    def level(self) -> str:
        return region_level(self.code)


@dataclass(frozen=True, slots=True)
class AgencyRef:
    id: int
    name: str
    region_code: str | None
    region_name: str | None
    level: str | None
    registered: bool


def level_of(text: str | None) -> str | None:
    """department / government / township from an English or Chinese word; None for None."""
    if text is None:
        return None
    level = LEVEL_WORDS.get(compact(text))
    if level is None or level not in AGENCY_LEVELS:
        raise ScopeError(f"未知的层级：{text}（可用：部门、人民政府、乡镇）")
    return level


def in_region(column: Any, prefix: str, dialect: str) -> Any:
    """`column` lies in the subtree with this code prefix."""
    if dialect == "sqlite":  # LIKE is case-insensitive in SQLite and cannot use the index
        return sa.and_(column >= prefix, column < prefix + ":")  # ':' sorts right after '9'
    return column.startswith(prefix, autoescape=True)


def find_region(conn: Connection, text: str) -> RegionRef:
    """A region by code (330200) or name (宁波市, 浙江省宁波市, 宁波): the registry's region table
    first, then the agencies' region names. Raises ScopeError when none or several match."""
    text = text.strip()
    if is_region_code(text):
        name = conn.execute(sa.select(_REGIONS.c.name).where(_REGIONS.c.code == text)).scalar()
        if name is None:
            name = conn.execute(sa.select(_AGENCIES.c.region_name).where(_AGENCIES.c.region_code == text)
                                .limit(1)).scalar()
        return RegionRef(text, name or text)
    key = compact(text)
    if not key:
        raise ScopeError("请给出地区名称或代码")
    rows = conn.execute(sa.select(_REGIONS.c.code, _REGIONS.c.name).where(_REGIONS.c.name == key)).all()
    if not rows:
        # A full name (浙江省宁波市镇海区) or a name without its suffix (宁波 for 宁波市).
        rows = conn.execute(sa.select(_REGIONS.c.code, _REGIONS.c.name).where(
            sa.or_(*(_REGIONS.c.name == key + suffix for suffix in ("市", "省", "县", "区", "自治区", "自治州"))))
        ).all()
    if not rows:
        code = conn.execute(sa.select(_AGENCIES.c.region_code).where(_AGENCIES.c.region_name == key)
                            .limit(1)).scalar()
        if code:
            return RegionRef(code, key)
        # The last part of a full name: 浙江省宁波市镇海区 → 镇海区, scoped by the parents it names.
        candidates = conn.execute(sa.select(_REGIONS.c.code, _REGIONS.c.name).where(
            sa.literal(key).endswith(_REGIONS.c.name), sa.func.length(_REGIONS.c.name) >= 2)).all()
        rows = [r for r in candidates if len(r.name) == max(len(c.name) for c in candidates)]
    if not rows:
        raise ScopeError(f"找不到地区：{text}")
    if len(rows) > 1:
        names = "、".join(f"{r.name}（{r.code}）" for r in rows[:5])
        raise ScopeError(f"“{text}”对应多个地区：{names}，请用地区代码")
    return RegionRef(rows[0].code, rows[0].name)


def agency_by_id(conn: Connection, agency_id: int) -> AgencyRef:
    a = _AGENCIES
    row = conn.execute(sa.select(a.c.id, a.c.name, a.c.region_code, a.c.region_name, a.c.level, a.c.registered)
                       .where(a.c.id == agency_id)).first()
    if row is None:
        raise ScopeError(f"找不到编号为 {agency_id} 的单位")
    return AgencyRef(*row)


def find_agencies(conn: Connection, text: str, region: RegionRef | None = None, *, limit: int = 5) -> list[AgencyRef]:
    """The agencies `text` may mean, best first: the exact name, an alias, then the registry's
    matcher (abbreviations, fuzzy, the region breaking ties). Several results mean the user must
    choose; none means nothing matched."""
    a = _AGENCIES
    columns = (a.c.id, a.c.name, a.c.region_code, a.c.region_name, a.c.level, a.c.registered)
    text = text.strip()
    if text.isdigit():
        return [agency_by_id(conn, int(text))]
    row = conn.execute(sa.select(*columns).where(a.c.name == text)).first()
    if row is not None:
        return [AgencyRef(*row)]
    from compliance.registry import agency_key

    key = agency_key(text)
    stmt = sa.select(*columns).join(_ALIASES, _ALIASES.c.agency_id == a.c.id).where(_ALIASES.c.key == key)
    if region is not None:
        stmt = stmt.where(in_region(a.c.region_code, region.prefix, conn.dialect.name))
    rows = conn.execute(stmt.limit(limit + 1)).all()
    if rows:
        return [AgencyRef(*r) for r in rows[:limit]]
    matcher = _matcher(conn)
    match = matcher.match(text, region.code if region else None)
    if match is None:
        return []
    ids = [match.agency_id] if match.agency_id is not None else list(match.ambiguous)[:limit]
    found = {r.id: AgencyRef(*r) for r in conn.execute(sa.select(*columns).where(a.c.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


_MATCHERS: dict[tuple[str, str], Any] = {}
# Per store: (the cheap stamp, when the full stamp was last read, the full stamp). The registry's own
# stamp counts the registered agencies (a scan: 60 ms over 150,000 agencies), so it is read again
# only when the cheap one (the highest agency and alias ids, two index reads) moves, or after
# STAMP_RECHECK_S: registering agencies or aliases shows at once, a change in place within that.
_CHECKED: dict[str, tuple[tuple[Any, ...], float, str]] = {}
_BUILDING = threading.Lock()
STAMP_RECHECK_S = 30.0


def _matcher(conn: Connection) -> Any:
    """The registry's matcher, built once per process and registry state (it takes a while over
    150,000 agencies; the bot and a long-running CLI reuse it)."""
    from sqlmodel import Session

    from compliance.registry import AgencyMatcher, registry_stamp

    url = str(conn.engine.url)
    cheap = tuple(conn.execute(sa.select(sa.select(sa.func.max(_AGENCIES.c.id)).scalar_subquery(),
                                         sa.select(sa.func.max(_ALIASES.c.id)).scalar_subquery())).one())
    now = time.monotonic()
    checked = _CHECKED.get(url)
    if checked is not None and checked[0] == cheap and now - checked[1] < STAMP_RECHECK_S:
        matcher = _MATCHERS.get((url, checked[2]))
        if matcher is not None:
            return matcher
    # One build at a time: the bot's concurrent questions on a cold start would otherwise each
    # build their own (15 s and ~100 MB apiece on the national store); they wait for the one.
    with _BUILDING, Session(bind=conn) as s:
        stamp = registry_stamp(s)
        key = (url, stamp)
        if key not in _MATCHERS:
            _MATCHERS.clear()
            _MATCHERS[key] = AgencyMatcher.from_session(s)
        if len(_CHECKED) >= 64:
            _CHECKED.clear()
        _CHECKED[url] = (cheap, now, stamp)
        return _MATCHERS[key]


def warm_up(engine: Engine) -> None:
    """Build the registry's matcher now (`xxgk bot`/`serve` at start, in a thread), so that the
    first question naming an agency does not wait for it."""
    with engine.connect() as conn:
        _matcher(conn)
