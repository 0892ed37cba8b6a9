"""The agency registry: who must publish, under which names, where.

- `parse_registry_csv` reads the registry a supervisor keeps in Excel (pure; every bad row is
  reported, with its line number, in one `RegistryError`).
- `import_registry` writes it: agencies (registered), their aliases and the regions with their
  parents. Idempotent; an agency the crawler created from a report's name becomes registered.
- `AgencyMatcher` finds the registered agency a report names: exact normalised name, then
  alias, then the name without its places within the site's region, then fuzzy (rapidfuzz).
  The region of the crawled site breaks ties, and a name that names no place (「区人力社保局」)
  only ever matches inside that region.
- `assign` lets a person attach an unmatched agency to a registered one; `unmatched` lists them.

Names are compared in the form `agency_key` gives them: NFKC, no spaces, brackets or quotes, no
「中华人民共和国」, and the common abbreviations expanded (人社局 → 人力资源和社会保障局).
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein
from sqlmodel import Session

from checks.normalize import nfkc
from compliance.regions import code_prefix, is_region_code, parent_code, region_level
from db.engine import in_chunks
from db.models import Agency, AgencyAlias, AgencyLevel, Document, Region, Report, report_figure

MatchedBy = Literal["exact", "alias", "fuzzy"]

LEVEL_NAMES: dict[str, str] = {"department": "部门", "government": "人民政府", "township": "乡镇（街道）"}


class RegistryError(ValueError):
    """Bad registry input or a refused assignment. `problems` are one-line Chinese messages."""

    def __init__(self, problems: str | Sequence[str]):
        self.problems: tuple[str, ...] = (problems,) if isinstance(problems, str) else tuple(problems)
        super().__init__("\n".join(self.problems))


# ---- names ---------------------------------------------------------------------------------

# Spaces, quotes, brackets and punctuation never tell two agencies apart.
_NOISE = re.compile(r"[\s\u200b\ufeff\"'“”‘’「」『』《》〈〉()\[\]【】〔〕{}<>·・•,，、.。:：;；!！?？\-—–_/|｜]+")
_PREFIX_NOISE = re.compile(r"中华人民共和国")
_TRAILING_NOTE = re.compile(r"\s*[(\[【〔][^()\[\]【】〔〕]*[)\]】〕]\s*$")

# Abbreviations and spelling variants → one form. Each pattern lists the canonical form first, so
# text already in that form is left as it is (the scan goes left to right, first alternative wins).
_EXPANSIONS: tuple[tuple[str, str], ...] = (
    (r"人力资源(?:和|与|及)?社会保障|人力社保|人社", "人力资源和社会保障"),
    (r"发展(?:和|与)?改革|发改", "发展和改革"),
    (r"市场监督管理|市场监管|市监(?=局|所)", "市场监督管理"),
    (r"住房(?:和|与)?城乡建设|住建", "住房和城乡建设"),
    (r"自然资源(?:和|与)?规划|自规(?=局)|资规(?=局)", "自然资源和规划"),
    (r"卫生健康|卫健", "卫生健康"),
    (r"卫生(?:和|与)?计划生育|卫计", "卫生和计划生育"),
    (r"经济(?:和|与)?信息化|经信", "经济和信息化"),
    (r"文化(?:和)?广电(?:和)?旅游|文广旅", "文化广电旅游"),
    (r"科学技术|科技(?=局)", "科学技术"),
    (r"医疗保障|医保(?=局)", "医疗保障"),
    (r"退役军人事务|退役军人(?=局)", "退役军人事务"),
    (r"综合行政执法|综合执法(?=局)", "综合行政执法"),
    (r"应急管理|应急(?=局)", "应急管理"),
    (r"农业(?:和)?农村", "农业农村"),
    (r"交通运输|交通(?=局)", "交通运输"),
    (r"城市管理|城管(?=局)", "城市管理"),
    (r"教育(?:和|与)?体育|教体(?=局)", "教育体育"),
    (r"生态环境|生态环保", "生态环境"),
    (r"(?<!人民)政府", "人民政府"),
    (r"管委会", "管理委员会"),
    (r"委$", "委员会"),
    (r"街道(?:办事处|办)?$", "街道办事处"),
)
# All of them in one pass: a named group per expansion.
_EXPAND = re.compile("|".join(f"(?P<x{i}>{pattern})" for i, (pattern, _) in enumerate(_EXPANSIONS)))
_CANONICAL = {f"x{i}": canonical for i, (_, canonical) in enumerate(_EXPANSIONS)}


def clean_name(name: str) -> str:
    """NFKC, without spaces, quotes, brackets, punctuation and 「中华人民共和国」, and without a
    trailing note in brackets (「（本级）」, 「（区政府研究室）」: a second name or a qualifier)."""
    s = nfkc(name).strip()
    stripped = _TRAILING_NOTE.sub("", s)
    if _NOISE.sub("", stripped):
        s = stripped
    return _PREFIX_NOISE.sub("", _NOISE.sub("", s))


@lru_cache(maxsize=262144)
def agency_key(name: str) -> str:
    """The form names are compared in: `clean_name` with the abbreviations expanded
    (「区人力社保局」 → 「区人力资源和社会保障局」, 「发改委」 → 「发展和改革委员会」)."""
    return _EXPAND.sub(lambda m: _CANONICAL[m.lastgroup or ""], clean_name(name))


# A leading level word names the region the site is in (「区人社局」 on a district's portal).
_LEVEL_WORDS: tuple[tuple[str, str], ...] = (("本区", "county"), ("本县", "county"), ("本市", "city"),
                                             ("区", "county"), ("县", "county"), ("旗", "county"),
                                             ("市", "city"), ("省", "province"))
# Agency names that start with a level word's character without naming a level.
_BODY_STARTS = ("市场", "市政", "市容", "市民", "区域", "县域", "省级")


def local_form(residual: str) -> tuple[str, str | None]:
    """A name without its places, less a leading level word: (「人力资源和社会保障局」, "county")
    for 「区人力资源和社会保障局」. The level is None when there is no level word."""
    if not residual.startswith(_BODY_STARTS):
        for word, level in _LEVEL_WORDS:
            if residual.startswith(word) and len(residual) > len(word) + 1:
                return residual[len(word):], level
    return residual, None


_PLACE_SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "街道", "地区", "林区", "新区",
                   "省", "市", "区", "县", "旗", "盟", "州", "镇", "乡")


def place_tokens(region_name: str) -> tuple[str, str | None]:
    """A region's own name as found in agency names, and its short form if it has one:
    (「镇海区」, 「镇海」), (「宁波市」, 「宁波」), (「城区」, None)."""
    full = clean_name(region_name)
    for suffix in _PLACE_SUFFIXES:
        if full.endswith(suffix) and len(full) - len(suffix) >= 2:
            return full, full[: -len(suffix)]
    return full, None


_PATH = re.compile(
    r"^(?P<province>.+?(?:省|自治区|特别行政区)|北京市|天津市|上海市|重庆市)?"
    r"(?P<city>.+?(?:市|自治州|地区|盟))?"
    r"(?P<county>.+?(?:区|县|市|旗|林区|特区))?"
    r"(?P<township>.+)?$"
)


def split_region_name(code: str, name: str) -> dict[str, str]:
    """Names of the region `code` and of its parents, from a path such as 「浙江省宁波市镇海区」:
    {"330211": "镇海区", "330200": "宁波市", "330000": "浙江省"}. Best effort: what cannot be
    placed is left out, and the region itself always gets the last part (or the whole name)."""
    return dict(_split_region_name(code, name))


@lru_cache(maxsize=65536)
def _split_region_name(code: str, name: str) -> tuple[tuple[str, str], ...]:
    return tuple(_split(code, name).items())


def _split(code: str, name: str) -> dict[str, str]:
    name = clean_name(name)
    level = region_level(code)
    m = _PATH.match(name)
    parts = {k: v for k, v in (m.groupdict() if m else {}).items() if v}
    chain = _chain(code)  # own code first
    by_level = {region_level(c): c for c in chain}
    out: dict[str, str] = {}
    order = ["province", "city", "county", "township"]
    own_index = order.index(level)
    found = [(k, parts[k]) for k in order if k in parts]
    if not found:
        return {code: name} if name else {}
    # The last part is the region itself, whatever its shape (a county-level city ends in 市).
    *parents, (_, own) = found
    out[code] = own
    for k, part in parents:
        if order.index(k) < own_index and k in by_level:
            out[by_level[k]] = part
    return out


@lru_cache(maxsize=65536)
def _chain(code: str) -> tuple[str, ...]:
    """The code and its parents' codes, own code first."""
    out = [code]
    parent = parent_code(code)
    while parent is not None and len(out) < 6:
        out.append(parent)
        parent = parent_code(parent)
    return tuple(out)


def normalise_code(code: str) -> str:
    """A region code as stored: 2- and 4-digit prefixes padded to six digits (33 → 330000)."""
    code = nfkc(code).strip()
    return code.ljust(6, "0") if len(code) in (2, 4) else code


_LEVELS: dict[str, AgencyLevel] = {
    "department": "department", "部门": "department", "工作部门": "department",
    "government": "government", "政府": "government", "人民政府": "government",
    "township": "township", "乡镇": "township", "乡镇街道": "township", "乡镇（街道）": "township",
    "乡镇(街道)": "township", "街道": "township", "乡": "township", "镇": "township", "街道办事处": "township",
}  # fmt: skip


def parse_level(text: str) -> AgencyLevel | None:
    """department/government/township from English or Chinese (部门、政府、人民政府、乡镇、街道)."""
    return _LEVELS.get(nfkc(text).strip().lower()) or _LEVELS.get(nfkc(text).replace(" ", "").strip())


# ---- the CSV -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegistryRow:
    """One agency of the registry file. `line` is its line number in the file."""

    line: int
    name: str
    aliases: tuple[str, ...]
    region_code: str
    region_name: str | None
    level: AgencyLevel
    site: str | None = None
    province_name: str | None = None
    city_name: str | None = None


_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name", "名称", "单位名称", "单位", "机关名称"),
    "aliases": ("aliases", "alias", "别名", "简称"),
    "region_code": ("region_code", "地区代码", "区划代码", "行政区划代码", "地区编码"),
    "region_name": ("region_name", "地区", "地区名称", "行政区划", "所在地区"),
    "level": ("level", "级别", "层级"),
    "site": ("site", "站点", "网站"),
    "province_name": ("province_name", "省", "省份", "省名称"),
    "city_name": ("city_name", "市", "城市", "市名称", "地市"),
}
_REQUIRED = {"name": "名称", "region_code": "地区代码", "level": "级别"}
_ALIAS_SEPARATORS = re.compile(r"[｜|;；]")


def _header_field(cell: str) -> str | None:
    label = nfkc(cell).strip().strip("\ufeff").lower().replace(" ", "_")
    for column, names in _COLUMNS.items():
        if label in names:
            return column
    return None


def decode_registry(data: bytes) -> str:
    """A registry file's text: UTF-8 with or without BOM, GBK/GB18030 (Excel's "CSV" in China)."""
    from checks.document import ReadError
    from checks.readers.decode import decode

    try:
        return decode(data).text
    except ReadError as exc:
        raise RegistryError(str(exc)) from None


def load_registry(path: Path) -> list[RegistryRow]:
    """Read, decode and parse a registry file. Raises RegistryError (Chinese, one line per problem)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RegistryError(f"文件不存在：{path}") from None
    except OSError as exc:
        raise RegistryError(f"无法读取 {path}：{exc.strerror or exc}") from None
    return parse_registry_csv(decode_registry(data))


def parse_registry_csv(text: str) -> list[RegistryRow]:
    """The rows of a registry CSV (header: name, aliases, region_code, region_name, level, site,
    province_name, city_name; Chinese headers too). Comma- or tab-separated. Blank lines are
    skipped. Raises RegistryError listing every bad row as 「第 N 行：…」."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise RegistryError("文件为空（没有表头）")
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _parse_rows(reader)
    except csv.Error as exc:
        raise RegistryError(f"第 {reader.line_num} 行：不是有效的 CSV（{exc}）") from None


def _parse_rows(reader) -> list[RegistryRow]:  # reader: a csv.reader
    header = next(reader)
    fields = [_header_field(cell) for cell in header]
    missing = [f"{column}（{label}）" for column, label in _REQUIRED.items() if column not in fields]
    if missing:
        raise RegistryError(f"第 1 行：表头缺少必需的列：{'、'.join(missing)}")
    duplicated = sorted({f for f in fields if f is not None and fields.count(f) > 1})
    if duplicated:
        raise RegistryError(f"第 1 行：表头中的列重复：{'、'.join(duplicated)}")

    rows: list[RegistryRow] = []
    problems: list[str] = []
    seen_names: dict[str, tuple[int, str]] = {}
    region_names: dict[str, tuple[int, str]] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        values = {f: cells[i].strip() for i, f in enumerate(fields) if f is not None and i < len(cells)}
        row, row_problems = _parse_row(line, values)
        problems.extend(f"第 {line} 行：{p}" for p in row_problems)
        if row is None:
            continue
        key = agency_key(row.name)
        if key in seen_names:
            other_line, other_name = seen_names[key]
            same = "重复" if other_name == row.name else f"的“{other_name}”重复（规范化后名称相同）"
            problems.append(f"第 {line} 行：单位“{row.name}”与第 {other_line} 行{same}")
            continue
        seen_names[key] = (line, row.name)
        for code, own in _row_region_names(row).items():
            if code in region_names and region_names[code][1] != own:
                other_line, other = region_names[code]
                problems.append(f"第 {line} 行：地区 {code} 的名称“{own}”与第 {other_line} 行的“{other}”不一致")
            region_names.setdefault(code, (line, own))
        rows.append(row)
    if problems:
        raise RegistryError(problems)
    if not rows:
        raise RegistryError("文件中没有任何单位（只有表头）")
    return rows


def _parse_row(line: int, values: Mapping[str, str]) -> tuple[RegistryRow | None, list[str]]:
    problems: list[str] = []
    name = nfkc(values.get("name", "")).strip()
    name = re.sub(r"\s+", "", name) if re.search(r"[\u4e00-\u9fff]\s+[\u4e00-\u9fff]", name) else name
    if not name:
        problems.append("缺少单位名称")
    code_text = values.get("region_code", "")
    code = normalise_code(code_text)
    if not code:
        problems.append("缺少地区代码")
    elif not is_region_code(code):
        hint = "（Excel 可能把代码改成了数字格式，请把该列设为文本）" if re.search(r"[.Ee+]", code) else ""
        problems.append(f"地区代码“{code_text}”无效（应为 6 位行政区划代码，或 9/12 位乡镇代码）{hint}")
    level_text = values.get("level", "")
    level = parse_level(level_text) if level_text else None
    if not level_text:
        problems.append("缺少级别")
    elif level is None:
        problems.append(f"级别“{level_text}”无法识别（应为 部门/政府/乡镇 或 department/government/township）")
    if problems or level is None:
        return None, problems
    aliases: list[str] = []
    keys = {agency_key(name)}
    for alias in _ALIAS_SEPARATORS.split(values.get("aliases", "")):
        alias = nfkc(alias).strip()
        if alias and agency_key(alias) not in keys:
            keys.add(agency_key(alias))
            aliases.append(alias)
    return RegistryRow(
        line=line,
        name=name,
        aliases=tuple(aliases),
        region_code=code,
        region_name=values.get("region_name") or None,
        level=level,
        site=values.get("site") or None,
        province_name=values.get("province_name") or None,
        city_name=values.get("city_name") or None,
    ), []


def _row_region_names(row: RegistryRow) -> dict[str, str]:
    """The region names a row gives, by code: its region's and, where it says, its parents'."""
    names = split_region_name(row.region_code, row.region_name) if row.region_name else {}
    chain = _chain(row.region_code)
    by_level = {region_level(c): c for c in chain}
    if row.city_name and "city" in by_level and by_level["city"] != row.region_code:
        names[by_level["city"]] = clean_name(row.city_name)
    if row.province_name and "province" in by_level and by_level["province"] != row.region_code:
        names[by_level["province"]] = clean_name(row.province_name)
    return names


# ---- import --------------------------------------------------------------------------------

_AGENCIES: sa.Table = Agency.__table__  # type: ignore[attr-defined]
_ALIASES: sa.Table = AgencyAlias.__table__  # type: ignore[attr-defined]
_REGIONS: sa.Table = Region.__table__  # type: ignore[attr-defined]
_REPORTS: sa.Table = Report.__table__  # type: ignore[attr-defined]
_DOCUMENTS: sa.Table = Document.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What import_registry did. created/updated/unchanged count agencies; `registered` names the
    agencies that the crawler had created and that are now registered (with their reports)."""

    created: int
    updated: int
    unchanged: int
    aliases_added: int = 0
    regions_written: int = 0
    registered: tuple[str, ...] = ()


def import_registry(session: Session, rows: Sequence[RegistryRow]) -> ImportResult:
    """Upsert the rows: agencies by exact name (registered), their aliases (added, never removed:
    `assign` adds some too), and the regions of the rows with their parents. Importing the same
    rows again writes nothing. Does not commit."""
    session.flush()
    conn = session.connection()
    regions_written, region_names = _write_regions(conn, rows)

    existing: dict[str, sa.Row] = {}
    names = [r.name for r in rows]
    for chunk in in_chunks(names):
        stmt = sa.select(_AGENCIES).where(_AGENCIES.c.name.in_(chunk))
        existing.update({row.name: row for row in conn.execute(stmt)})

    inserts: list[dict] = []
    updates: list[dict] = []
    registered: list[str] = []
    for row in rows:
        values = {
            "region_code": row.region_code,
            "region_name": _full_region_name(row, region_names),
            "level": row.level,
            "registered": True,
            "site": row.site,
        }
        old = existing.get(row.name)
        if old is None:
            inserts.append({"name": row.name, **values})
        elif any(getattr(old, k) != v for k, v in values.items()):
            if not old.registered:
                registered.append(row.name)
            updates.append({"_id": old.id, **values})
    if inserts:
        conn.execute(sa.insert(_AGENCIES), inserts)
    if updates:
        # A new region or level goes on to the agency's report_figure rows by a trigger (revision 0009).
        stmt = sa.update(_AGENCIES).where(_AGENCIES.c.id == sa.bindparam("_id"))
        conn.execute(stmt.values({k: sa.bindparam(k) for k in updates[0] if k != "_id"}), updates)

    ids: dict[str, int] = {name: row.id for name, row in existing.items()}
    new_names = [r["name"] for r in inserts]
    for chunk in in_chunks(new_names):
        stmt = sa.select(_AGENCIES.c.name, _AGENCIES.c.id).where(_AGENCIES.c.name.in_(chunk))
        ids.update({name: agency_id for name, agency_id in conn.execute(stmt)})

    alias_keys: dict[int, set[str]] = defaultdict(set)
    old_ids = [row.id for row in existing.values()]
    for chunk_ids in in_chunks(old_ids):
        stmt = sa.select(_ALIASES.c.agency_id, _ALIASES.c.key).where(_ALIASES.c.agency_id.in_(chunk_ids))
        for agency_id, key in conn.execute(stmt):
            alias_keys[agency_id].add(key)
    new_aliases: list[dict] = []
    alias_changed: set[int] = set()
    for row in rows:
        agency_id = ids[row.name]
        for alias in row.aliases:
            key = agency_key(alias)
            if key not in alias_keys[agency_id]:
                alias_keys[agency_id].add(key)
                new_aliases.append({"agency_id": agency_id, "alias": alias, "key": key})
                alias_changed.add(agency_id)
    if new_aliases:
        conn.execute(sa.insert(_ALIASES), new_aliases)

    existing_ids = {row.id for row in existing.values()}
    created = len(inserts)
    updated = len({u["_id"] for u in updates} | (alias_changed & existing_ids))
    return ImportResult(
        created=created,
        updated=updated,
        unchanged=len(rows) - created - updated,
        aliases_added=len(new_aliases),
        regions_written=regions_written,
        registered=tuple(registered),
    )


def _write_regions(conn: sa.Connection, rows: Sequence[RegistryRow]) -> tuple[int, dict[str, str]]:
    """Insert or update the rows' regions and their parents. Returns (rows written, every known
    region name by code, stored names included)."""
    known: dict[str, str] = {}
    codes: set[str] = set()
    for row in rows:
        codes.update(_chain(row.region_code))
        known.update(_row_region_names(row))
    stored: dict[str, sa.Row] = {}
    ordered = sorted(codes)
    for chunk in in_chunks(ordered):
        stored.update({r.code: r for r in conn.execute(
            sa.select(_REGIONS).where(_REGIONS.c.code.in_(chunk)))})
    inserts: list[dict] = []
    updates: list[dict] = []
    final: dict[str, dict] = {}
    for code in sorted(codes):
        old = stored.get(code)
        name = known.get(code)
        if name is None and old is not None and old.name != code:
            name = old.name  # a name from an earlier import; this file does not know it
        # A region whose name nobody gave is stored under its code, until a file names it.
        values = {"name": name or code, "parent_code": parent_code(code), "level": region_level(code)}
        final[code] = values
        if old is None:
            inserts.append({"code": code, **values})
        elif any(getattr(old, k) != v for k, v in values.items()):
            updates.append({"_code": code, **values})
    if inserts:
        conn.execute(sa.insert(_REGIONS), inserts)
    if updates:
        stmt = sa.update(_REGIONS).where(_REGIONS.c.code == sa.bindparam("_code")).values(
            name=sa.bindparam("name"), parent_code=sa.bindparam("parent_code"), level=sa.bindparam("level"))
        conn.execute(stmt, updates)
    names = {code: values["name"] for code, values in final.items() if values["name"] != code}
    return len(inserts) + len(updates), names


def _full_region_name(row: RegistryRow, names: Mapping[str, str]) -> str | None:
    """「浙江省宁波市镇海区」: the names of the row's region and its parents, top down."""
    parts = [names[c] for c in reversed(_chain(row.region_code)) if c in names]
    return "".join(parts) or row.region_name


# ---- matching ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegisteredAgency:
    """What the matcher knows of a registered agency."""

    id: int
    name: str
    region_code: str | None
    region_name: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Match:
    """A registered agency for a name. `by`: exact (the normalised name, with or without its
    places), alias, or fuzzy; `score` 0–100. When several agencies match equally, `agency_id` is
    None and `ambiguous` lists them: a person must decide."""

    agency_id: int | None
    by: MatchedBy
    score: float
    ambiguous: tuple[int, ...] = ()

    @property
    def ok(self) -> bool:
        return self.agency_id is not None


@dataclass(frozen=True, slots=True)
class _Located:
    """A name with its leading places read: the regions they (and the site) point to."""

    local: str  # the name without its places and level word
    scopes: tuple[str, ...]  # region prefixes to look in (their subtrees); empty: no region known
    exact: bool  # the scopes are the very regions meant (a level word: 「区人社局」 on a district's site)
    level: str | None  # the region level a level word names, when no single region could be found
    placed: bool  # the name itself names a place
    foreign: bool  # the name starts with a place outside the site's region (「北仑区…」 on 镇海区's site)
    level_word: bool  # a level word was read off the name


class AgencyMatcher:
    """Matches the names reports give to registered agencies. Build once (from_session, or from
    RegisteredAgency entries), then `match` costs dictionary lookups, plus one rapidfuzz pass over
    the agencies of one region for the names that need it."""

    def __init__(self, agencies: Iterable[RegisteredAgency], region_names: Mapping[str, str] | None = None,
                 *, cutoff: float = 85.0) -> None:
        self.cutoff = cutoff
        entries = list(agencies)
        self._names: dict[int, str] = {}
        self._prefix: dict[int, str] = {}  # agency id -> code_prefix of its region ("" if none)
        self._by_name: dict[str, list[int]] = defaultdict(list)
        # Registered names that name no place of their region (「区档案馆」): matched like aliases.
        self._unplaced: set[int] = set()
        # region prefix -> alias key -> agency ids: 「区人力社保局」 is an alias in every district.
        self._by_alias: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        # region prefix -> local key -> [(agency id, by)]; and the fuzzy choices of each region.
        self._local: dict[str, dict[str, list[tuple[int, MatchedBy]]]] = defaultdict(
            lambda: defaultdict(list))
        self._choices: dict[str, tuple[list[str], list[tuple[int, MatchedBy]]]] = {}
        below: dict[str, set[str]] = defaultdict(set)
        self._pool_cache: dict[str, tuple[list[str], list[tuple[int, MatchedBy]]]] = {}

        names = {normalise_code(c): n for c, n in (region_names or {}).items() if n and n != c}
        paths = sorted({(a.region_code, a.region_name) for a in entries if a.region_code and a.region_name})
        for region_code, region_name in paths:
            for code, name in _split_region_name(normalise_code(region_code), region_name):
                names.setdefault(code, name)
        self._region_names = names
        # Place names as they start agency names: full names everywhere, short forms (镇海 for
        # 镇海区) only where the region is already known, as they are also ordinary words.
        self._full_places: dict[str, list[str]] = defaultdict(list)
        self._short_places: dict[str, list[str]] = defaultdict(list)
        self._place_tokens: dict[str, tuple[str, ...]] = {}
        for code, name in names.items():
            full, short = place_tokens(name)
            prefix = code_prefix(code)
            if len(full) >= 2:
                self._full_places[full].append(prefix)
            if short:
                self._short_places[short].append(prefix)
            self._place_tokens[prefix] = tuple(t for t in (full, short) if t)
        self._max_place = max((len(t) for t in [*self._full_places, *self._short_places]), default=0)

        by_region: dict[str | None, tuple[str, list[str]]] = {}  # region code -> (prefix, its places)
        for a in entries:
            region = by_region.get(a.region_code)
            if region is None:
                code = normalise_code(a.region_code) if a.region_code else ""
                prefix = code_prefix(code) if is_region_code(code) else ""
                chain = _chain(code) if prefix else ()
                tokens = {t for c in chain for t in self._place_tokens.get(code_prefix(c), ())}
                region = by_region[a.region_code] = (prefix, sorted(tokens, key=len, reverse=True))
            prefix, chain_tokens = region
            self._names[a.id] = a.name
            self._prefix[a.id] = prefix
            for text, by in [(a.name, "exact"), *((alias, "alias") for alias in a.aliases)]:
                key = agency_key(text)
                if not key:
                    continue
                if by == "exact":
                    self._by_name[key].append(a.id)
                    if chain_tokens and not any(t in key for t in chain_tokens):
                        self._unplaced.add(a.id)
                else:
                    self._by_alias[prefix][key].append(a.id)
                if prefix:
                    local, _ = local_form(_strip_places(key, chain_tokens))
                    self._local[prefix][local].append((a.id, by))  # type: ignore[arg-type]
        for prefix, locals_ in self._local.items():
            choices: list[str] = []
            targets: list[tuple[int, MatchedBy]] = []
            for local, hits in locals_.items():
                for hit in dict.fromkeys(hits):
                    choices.append(local)
                    targets.append(hit)
            self._choices[prefix] = (choices, targets)
            p: str | None = prefix
            while p:
                below[p].add(prefix)
                parent = parent_code(p.ljust(6, "0") if len(p) < 6 else p)
                p = code_prefix(parent) if parent else None
        # prefix -> the prefixes in use strictly below it, in code order
        self._below: dict[str, tuple[str, ...]] = {p: tuple(sorted(ps - {p})) for p, ps in below.items()}
        # Plain dicts from here on: the matcher pickles (to hand it to worker processes).
        self._by_name = dict(self._by_name)
        self._by_alias = {p: dict(keys) for p, keys in self._by_alias.items()}
        self._local = {p: dict(keys) for p, keys in self._local.items()}
        self._full_places = dict(self._full_places)
        self._short_places = dict(self._short_places)

    # -- building from the database

    @classmethod
    def from_session(cls, session: Session, *, cutoff: float = 85.0) -> AgencyMatcher:
        """The matcher over every registered agency in the database."""
        conn = session.connection()
        aliases: dict[int, list[str]] = defaultdict(list)
        stmt = (sa.select(_ALIASES.c.agency_id, _ALIASES.c.alias)
                .join(_AGENCIES, _AGENCIES.c.id == _ALIASES.c.agency_id).where(_AGENCIES.c.registered))
        for agency_id, alias in conn.execute(stmt):
            aliases[agency_id].append(alias)
        stmt = sa.select(_AGENCIES.c.id, _AGENCIES.c.name, _AGENCIES.c.region_code,
                         _AGENCIES.c.region_name).where(_AGENCIES.c.registered)
        agencies = [RegisteredAgency(i, n, c, rn, tuple(aliases.get(i, ())))
                    for i, n, c, rn in conn.execute(stmt)]
        regions = {code: name for code, name in conn.execute(sa.select(_REGIONS.c.code, _REGIONS.c.name))}
        return cls(agencies, regions, cutoff=cutoff)

    def __len__(self) -> int:
        return len(self._names)

    def name(self, agency_id: int) -> str:
        """The registered name of a matched agency."""
        return self._names[agency_id]

    # -- matching

    def match(self, name: str, region_code: str | None = None, *,
              cutoff: float | None = None) -> Match | None:
        """The registered agency `name` means, seen on a site of region `region_code` (None:
        unknown). None when nothing matches; a Match with `ambiguous` when several match equally.

        Tiers, first hit wins: (1) the exact normalised name, anywhere, the site's region
        preferred; (2) an alias, or the name without its places and level word (「区人社局」),
        inside the region the name names or else the site's; (3) fuzzy inside that region:
        rapidfuzz ratio ≥ `cutoff` (default the matcher's, 85) or one typo in a longer name. A name
        that names no place never matches outside the site's region; without a region it only
        matches by its exact name or by the places it names."""
        key = agency_key(name)
        if not key:
            return None
        region = normalise_code(region_code) if region_code else ""
        site = code_prefix(region) if is_region_code(region) else None
        located = self._locate(key, site)

        hits = self._by_name.get(key)
        if hits and self._unplaced:
            hits = [i for i in hits if i not in self._unplaced or self._within((i,), located)]
        if hits:
            ids = list(dict.fromkeys(hits))
            if len(ids) > 1:  # the same name in several regions (names are unique, keys may not be)
                ids = self._within(ids, located) or ids
            if len(ids) > 1 and located.scopes:
                ids = [i for i in ids if self._prefix[i] in located.scopes] or ids
            if len(ids) == 1:
                return Match(ids[0], "exact", 100.0)
            return Match(None, "exact", 100.0, tuple(sorted(ids)))
        cutoff = self.cutoff if cutoff is None else cutoff
        found = self._match_in_region(key, located, cutoff)
        if found is None and located.level_word:
            # 「市务监督管理局」: a typo after 市, not 市 the level word; try the name as it is.
            found = self._match_in_region(key, self._locate(key, site, level_words=False), cutoff)
        return found

    def _match_in_region(self, key: str, located: _Located, cutoff: float) -> Match | None:
        if not located.scopes:
            return None  # no region, no place: a short name means nothing on its own
        # An alias, and the name without its places, tried together: 「区人社局」 on a city's site
        # is any of its districts' bureaus, not just the one that registered it as an alias.
        prefixes = self._prefixes(located)
        hits_by: list[tuple[int, MatchedBy]] = [
            (i, "alias") for p in prefixes for i in self._by_alias.get(p, {}).get(key, ())]
        hits_by += [hit for p in prefixes for hit in self._local.get(p, {}).get(located.local, ())]
        found = self._decide(hits_by, located, 100.0)
        if found or located.foreign:
            return found
        return self._fuzzy(located, cutoff)

    def _locate(self, key: str, site: str | None, *, level_words: bool = True) -> _Located:
        """Read the places a name starts with, narrowing the site's region to the one named."""
        scopes: list[str] = [site] if site else []
        residual = key
        placed = foreign = False
        while True:
            token, prefixes, short = self._leading_place(residual, scopes)
            if token is None or len(token) >= len(residual):
                break
            narrowed = _narrow(scopes, prefixes)
            if not narrowed:
                foreign = not short  # a short form elsewhere is an ordinary word here
                break
            scopes, placed, residual = narrowed, True, residual[len(token):]
        local, level = local_form(residual) if level_words else (residual, None)
        level_word = level is not None
        # A name that names no region means the site's own: 「机关事务中心」 on a city's portal is
        # the city's, never a district's that happens to use the name.
        exact = bool(scopes) and not placed and level is None
        if level and scopes:
            # A level word names the nearest enclosing region of that level: 「区人社局」 on a
            # district's site is that district's, 「市人社局」 its city's.
            named = [self._enclosing(s, level) for s in scopes]
            if all(named):
                scopes, exact, level = list(dict.fromkeys(n for n in named if n)), True, None
        return _Located(local, tuple(scopes), exact, level, placed, foreign, level_word)

    def _leading_place(self, text: str, scopes: Sequence[str]) -> tuple[str | None, list[str], bool]:
        for n in range(min(self._max_place, len(text)), 1, -1):
            head = text[:n]
            if head in self._full_places:
                return head, self._full_places[head], False
            if head in self._short_places:
                near = [p for p in self._short_places[head]
                        if not scopes or any(p.startswith(s) or s.startswith(p) for s in scopes)]
                if near:
                    return head, near, True
        return None, [], False

    def _enclosing(self, prefix: str, level: str) -> str | None:
        """The region of `level` that is `prefix` or encloses it (a county-level city counts as
        市), or None when there is none (a city's site and 「区…」)."""
        p: str | None = prefix
        while p:
            code = p.ljust(6, "0") if len(p) < 6 else p
            lvl = region_level(code)
            if lvl == level or (level == "city" and lvl == "county"
                                and self._region_names.get(code, "").endswith("市")):
                return p
            parent = parent_code(code)
            p = code_prefix(parent) if parent else None
        return None

    def _prefixes(self, located: _Located) -> list[str]:
        """Region prefixes whose agencies are candidates, each scope's own region first."""
        if located.exact:
            return list(located.scopes)
        out: list[str] = []
        for scope in located.scopes:
            out.append(scope)
            out.extend(self._below.get(scope, ()))
        return out

    def _within(self, ids: Sequence[int], located: _Located) -> list[int]:
        """The agencies among `ids` inside the located regions (none when no region is known)."""
        if located.exact:
            return [i for i in ids if self._prefix[i] in located.scopes]
        return [i for i in ids if any(self._prefix[i].startswith(s) for s in located.scopes if s)]

    def _decide(self, hits: Sequence[tuple[int, MatchedBy]], located: _Located, score: float) -> Match | None:
        """One agency, or the tie: a level word filters by region level, and an agency of the
        region itself wins over those below it (a district's office over its townships')."""
        best: dict[int, MatchedBy] = {}
        for agency_id, by in hits:
            best.setdefault(agency_id, by)  # the first way an agency was found names it
        ids = list(best)
        if located.level:
            ids = [i for i in ids if self._level_fits(i, located.level)]
        if len(ids) > 1 and located.scopes:
            ids = [i for i in ids if self._prefix[i] in located.scopes] or ids
        if not ids:
            return None
        if len(ids) == 1:
            return Match(ids[0], best[ids[0]], score)
        return Match(None, best[ids[0]], score, tuple(sorted(ids)))

    def _level_fits(self, agency_id: int, level: str) -> bool:
        prefix = self._prefix[agency_id]
        if not prefix:
            return False
        lvl = region_level(prefix.ljust(6, "0") if len(prefix) < 6 else prefix)
        return lvl == level or (level == "city" and lvl == "county")

    def _fuzzy(self, located: _Located, cutoff: float) -> Match | None:
        query = located.local
        if len(query) < 3:
            return None
        for prefixes in self._fuzzy_pools(located):
            choices, targets = self._pool(prefixes)
            if not choices:
                continue
            found = process.extract(query, choices, scorer=fuzz.ratio, score_cutoff=min(cutoff, 75.0),
                                    limit=8)
            scores: dict[int, float] = {}
            for choice, score, index in found:
                agency_id, _by = targets[index]
                if not _close_enough(query, choice, score, cutoff):
                    continue
                if located.level and not self._level_fits(agency_id, located.level):
                    continue
                scores[agency_id] = max(score, scores.get(agency_id, 0.0))
            if not scores:
                continue
            top = max(scores.values())
            tied = sorted(i for i, s in scores.items() if s >= top - 1.0)
            if len(tied) == 1:
                return Match(tied[0], "fuzzy", round(top, 1))
            return Match(None, "fuzzy", round(top, 1), tuple(tied))
        return None

    def _fuzzy_pools(self, located: _Located) -> list[tuple[str, ...]]:
        """The regions to search, nearest first: the scopes themselves, then their subtrees
        (a province's subtree only if it is not too large to scan quickly)."""
        own = tuple(located.scopes)
        if located.exact:
            return [own]
        below = tuple(p for s in located.scopes for p in self._below.get(s, ()))
        pools = [own]
        if below and sum(len(self._choices.get(p, ((), ()))[0]) for p in below) <= 20000:
            pools.append(below)
        return pools

    def _pool(self, prefixes: tuple[str, ...]) -> tuple[list[str], list[tuple[int, MatchedBy]]]:
        if len(prefixes) == 1:
            return self._choices.get(prefixes[0], ([], []))
        cache_key = "|".join(prefixes)
        pool = self._pool_cache.get(cache_key)
        if pool is None:
            choices: list[str] = []
            targets: list[tuple[int, MatchedBy]] = []
            for p in prefixes:
                c, t = self._choices.get(p, ([], []))
                choices.extend(c)
                targets.extend(t)
            pool = (choices, targets)
            if len(self._pool_cache) > 256:
                self._pool_cache.clear()
            self._pool_cache[cache_key] = pool
        return pool


# The last character says what kind of body it is: a 局 is never a 委员会 or a 中心.
_BODY_KINDS = frozenset("局厅委办院所馆站队室会处心社部")


def _close_enough(query: str, choice: str, score: float, cutoff: float) -> bool:
    """A fuzzy hit counts if its ratio reaches `cutoff`, or if it is one typo away in a name of
    five or more characters (ratio 80–83: 「农业农务局」 for 「农业农村局」); never across body kinds,
    unless the cutoff is below 80, which asks for suggestions a person will check."""
    if query[-1] != choice[-1] and query[-1] in _BODY_KINDS and choice[-1] in _BODY_KINDS and cutoff >= 80:
        return False
    if score >= cutoff:
        return True
    return min(len(query), len(choice)) >= 5 and Levenshtein.distance(query, choice, score_cutoff=1) <= 1


def _strip_places(key: str, tokens: Sequence[str]) -> str:
    """`key` without the leading place names in `tokens` (longest first), never down to nothing."""
    residual = key
    stripped = True
    while stripped:
        stripped = False
        for token in tokens:
            if residual.startswith(token) and len(residual) > len(token):
                residual = residual[len(token):]
                stripped = True
                break
    return residual


def _narrow(scopes: Sequence[str], prefixes: Sequence[str]) -> list[str]:
    """The scopes after a name named one of the regions `prefixes`: a region inside a scope
    narrows it, an enclosing one replaces it (「宁波市…」 on a district's site means the city)."""
    if not scopes:
        return list(dict.fromkeys(prefixes))
    out = [p for s in scopes for p in prefixes if p.startswith(s) or s.startswith(p)]
    return list(dict.fromkeys(out))


# ---- unmatched agencies and assignment -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnmatchedAgency:
    """An agency the crawler created from a report's name that matched no registered agency."""

    id: int
    name: str
    reports: int
    years: tuple[int, ...]
    sites: tuple[str, ...]
    region_code: str | None
    region_name: str | None
    suggestion: str | None = None  # a registered agency the matcher proposes, for the person to confirm


def unmatched(session: Session, matcher: AgencyMatcher | None = None, *,
              suggest_cutoff: float = 70.0) -> list[UnmatchedAgency]:
    """Unregistered agencies that have reports, by name, with their report count, years and the
    sites the reports came from; with a suggestion when `matcher` is given."""
    conn = session.connection()
    stmt = (
        sa.select(_AGENCIES.c.id, _AGENCIES.c.name, _AGENCIES.c.region_code, _AGENCIES.c.region_name,
                  _REPORTS.c.year, _DOCUMENTS.c.site)
        .join(_REPORTS, _REPORTS.c.agency_id == _AGENCIES.c.id)
        .join(_DOCUMENTS, _DOCUMENTS.c.id == _REPORTS.c.document_id)
        .where(sa.not_(_AGENCIES.c.registered))
    )
    found: dict[int, dict] = {}
    for agency_id, name, code, region_name, year, site in conn.execute(stmt):
        entry = found.setdefault(agency_id, {"name": name, "code": code, "region_name": region_name,
                                             "years": [], "sites": set()})
        entry["years"].append(year)
        if site:
            entry["sites"].add(site)
    site_regions = _site_regions(conn) if matcher is not None else {}
    out = []
    for agency_id, e in found.items():
        suggestion = None
        if matcher is not None:
            # A report found on a portal has no region of its own: the site's registered agencies tell it.
            region = e["code"] or next(
                (site_regions[s] for s in sorted(e["sites"]) if site_regions.get(s)), None)
            m = matcher.match(e["name"], region, cutoff=suggest_cutoff)
            if m is not None:
                ids = (m.agency_id,) if m.agency_id is not None else m.ambiguous
                suggestion = " 或 ".join(matcher.name(i) for i in ids)
        out.append(UnmatchedAgency(agency_id, e["name"], len(e["years"]), tuple(sorted(e["years"])),
                                   tuple(sorted(e["sites"])), e["code"], e["region_name"], suggestion))
    return sorted(out, key=lambda u: u.name)


def _site_regions(conn: sa.Connection) -> dict[str, str | None]:
    """site -> the region of the registered agencies that publish there (None if they disagree)."""
    out: dict[str, str | None] = {}
    stmt = (sa.select(_AGENCIES.c.site, _AGENCIES.c.region_code).distinct()
            .where(_AGENCIES.c.registered, _AGENCIES.c.site.is_not(None),
                   _AGENCIES.c.region_code.is_not(None)))
    for site, code in conn.execute(stmt):
        out[site] = code if site not in out else None
    return out


@dataclass(frozen=True, slots=True)
class AssignResult:
    """What assign did. `kept_years`: years the registered agency already had a report for; those
    reports stayed on the unmatched agency (which then is not deleted) for a person to compare."""

    unmatched: str
    registered: str
    registered_id: int
    reports_moved: int
    documents_moved: int
    kept_years: tuple[int, ...]
    alias_added: bool
    deleted: bool


def assign(session: Session, unmatched_agency: int | str, registered_agency: int | str) -> AssignResult:
    """Attach an unmatched (unregistered) agency to a registered one: its reports and documents
    move over, its name becomes an alias, and its row is deleted once empty. Raises RegistryError
    (Chinese) for unknown, ambiguous or wrongly registered agencies. Does not commit."""
    session.flush()
    conn = session.connection()
    source = _find_agency(conn, unmatched_agency, registered=False)
    target = _find_agency(conn, registered_agency, registered=True)
    if source.id == target.id:
        raise RegistryError(f"“{source.name}”与“{target.name}”是同一个单位")

    stmt = sa.select(_REPORTS.c.year).where(_REPORTS.c.agency_id == target.id)
    target_years = set(conn.execute(stmt).scalars())
    moved: list[int] = []
    kept: list[tuple[int, int]] = []  # (year, document id)
    stmt = sa.select(_REPORTS.c.id, _REPORTS.c.year, _REPORTS.c.document_id).where(
        _REPORTS.c.agency_id == source.id)
    for report_id, year, document_id in conn.execute(stmt):
        if year in target_years:
            kept.append((year, document_id))
        else:
            moved.append(report_id)
    if moved:
        conn.execute(sa.update(_REPORTS).where(_REPORTS.c.id.in_(moved)).values(agency_id=target.id))
        # Their figures take the target's region and level (revision 0009; a trigger would correct
        # them too, with a second write).
        conn.execute(sa.update(report_figure).where(report_figure.c.report_id.in_(moved))
                     .values(agency_id=target.id, region_code=target.region_code, level=target.level))
    kept_documents = [d for _, d in kept]
    stmt = sa.update(_DOCUMENTS).where(_DOCUMENTS.c.agency_id == source.id)
    if kept_documents:
        stmt = stmt.where(_DOCUMENTS.c.id.not_in(kept_documents))
    documents_moved = conn.execute(stmt.values(agency_id=target.id)).rowcount or 0

    key = agency_key(source.name)
    alias_added = False
    has_alias = conn.execute(sa.select(_ALIASES.c.id).where(
        _ALIASES.c.agency_id == target.id, _ALIASES.c.key == key)).first() is not None
    if key != agency_key(target.name) and not has_alias:
        conn.execute(sa.insert(_ALIASES).values(agency_id=target.id, alias=source.name, key=key))
        alias_added = True

    deleted = False
    if not kept:
        stmt = sa.select(_DOCUMENTS.c.id).where(_DOCUMENTS.c.agency_id == source.id).limit(1)
        left = conn.execute(stmt).first()
        if left is None:
            conn.execute(sa.delete(_AGENCIES).where(_AGENCIES.c.id == source.id))
            deleted = True
    session.expire_all()  # ORM objects the caller holds must see the moves
    return AssignResult(source.name, target.name, target.id, len(moved), documents_moved,
                        tuple(sorted(y for y, _ in kept)), alias_added, deleted)


def _find_agency(conn: sa.Connection, ref: int | str, *, registered: bool) -> sa.Row:
    """An agency by id or name (exact, else the unique agency with the same normalised name)."""
    columns = (_AGENCIES.c.id, _AGENCIES.c.name, _AGENCIES.c.registered, _AGENCIES.c.region_code,
               _AGENCIES.c.level)
    what = "已登记的单位" if registered else "未匹配的单位"
    if isinstance(ref, int):
        row = conn.execute(sa.select(*columns).where(_AGENCIES.c.id == ref)).first()
        label = f"编号 {ref}"
    else:
        label = f"“{ref.strip()}”"
        row = conn.execute(sa.select(*columns).where(_AGENCIES.c.name == ref.strip())).first()
        if row is None:
            key = agency_key(ref)
            same = [r for r in conn.execute(sa.select(*columns).where(_AGENCIES.c.registered == registered))
                    if agency_key(r.name) == key]
            if not same and registered:  # a registered agency by one of its aliases
                stmt = (sa.select(*columns).distinct().join(_ALIASES, _ALIASES.c.agency_id == _AGENCIES.c.id)
                        .where(_AGENCIES.c.registered, _ALIASES.c.key == key))
                same = list(conn.execute(stmt))
            if len(same) > 1:
                raise RegistryError(f"{label}对应多个{what}：{'、'.join(r.name for r in same)}，请写全称")
            row = same[0] if same else None
    if row is None:
        raise RegistryError(f"找不到{what}{label}")
    if registered and not row.registered:
        raise RegistryError(f"“{row.name}”尚未登记（不在单位名录中），请先用 xxgk agencies import 导入名录")
    if not registered and row.registered:
        raise RegistryError(f"“{row.name}”是名录中已登记的单位，不能归入其他单位")
    return row


# ---- listing -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgencyListing:
    id: int
    name: str
    aliases: tuple[str, ...]
    region_code: str | None
    region_name: str | None
    level: str | None
    site: str | None
    registered: bool
    reports: int


def list_agencies(session: Session, *, region: str | None = None, level: str | None = None,
                  registered: bool = True, limit: int | None = None, offset: int = 0) -> list[AgencyListing]:
    """Registered (or unregistered) agencies, optionally in a region's subtree and of one level,
    with their aliases and how many reports are stored; by region code, then name; `limit` and
    `offset` page through them (count_agencies gives the total)."""
    conn = session.connection()
    counts = (sa.select(_REPORTS.c.agency_id, sa.func.count().label("n"))
              .group_by(_REPORTS.c.agency_id).subquery())
    stmt = (
        sa.select(_AGENCIES, sa.func.coalesce(counts.c.n, 0).label("reports"))
        .outerjoin(counts, counts.c.agency_id == _AGENCIES.c.id)
        .where(*_listing_filter(region, level, registered))
        .order_by(_AGENCIES.c.region_code, _AGENCIES.c.name, _AGENCIES.c.id)
        .limit(limit).offset(offset)
    )
    rows = list(conn.execute(stmt))
    aliases: dict[int, list[str]] = defaultdict(list)
    ids = [r.id for r in rows]
    for chunk in in_chunks(ids):
        q = (sa.select(_ALIASES.c.agency_id, _ALIASES.c.alias)
             .where(_ALIASES.c.agency_id.in_(chunk)).order_by(_ALIASES.c.id))
        for agency_id, alias in conn.execute(q):
            aliases[agency_id].append(alias)
    return [AgencyListing(r.id, r.name, tuple(aliases.get(r.id, ())), r.region_code, r.region_name, r.level,
                          r.site, bool(r.registered), int(r.reports)) for r in rows]


def count_agencies(session: Session, *, region: str | None = None, level: str | None = None,
                   registered: bool = True) -> int:
    """How many agencies list_agencies would list without a limit."""
    stmt = sa.select(sa.func.count()).select_from(_AGENCIES).where(*_listing_filter(region, level, registered))
    return int(session.connection().execute(stmt).scalar_one())


def _listing_filter(region: str | None, level: str | None, registered: bool) -> list[Any]:
    conditions = [_AGENCIES.c.registered == registered]
    if region:
        prefix = code_prefix(normalise_code(region))
        conditions.append(_AGENCIES.c.region_code.startswith(prefix, autoescape=True))
    if level:
        conditions.append(_AGENCIES.c.level == level)
    return conditions



def registry_stamp(session: Session) -> str:
    """A cheap fingerprint of the registry (counts and highest ids of registered agencies and
    aliases): a worker process rebuilds its cached matcher only when it changes."""
    conn = session.connection()
    agencies = conn.execute(sa.select(sa.func.count(), sa.func.max(_AGENCIES.c.id))
                            .where(_AGENCIES.c.registered)).one()
    aliases = conn.execute(sa.select(sa.func.count(), sa.func.max(_ALIASES.c.id))).one()
    return f"{agencies[0]}:{agencies[1]}:{aliases[0]}:{aliases[1]}"
