"""A national-scale store, generated: 150,000 registered agencies × 5 report years, as the product
holds them after crawling, checking and sweeping. Deterministic: the same parameters give the same
rows, byte for byte.

    python bench/national.py                                  # 150,000 agencies, 2020–2024
    python bench/national.py --agencies 20000 --years 2022-2024 --db /tmp/small.db
    python bench/national.py --force                          # regenerate even if the file matches

The file (default /tmp/xxgk-national.db) is reused when it was generated with the same parameters,
generator version and schema (the migrations' head), as recorded beside it in PATH.params.json,
unless --force. A file generated for an older schema, with the same parameters otherwise, is
brought to the head by the migrations, in place (seconds, where generating takes minutes; the
migrations fill in what the generator would write, so the rows are the same), and recorded so.
Otherwise a new file is built beside the old one (PATH.partial) and replaces it at the end.

What is in it, and how it gets there:

- The registry, imported with the product's `compliance.registry.import_registry`: 31 provinces ×
  10 cities × 10 counties (names made up as in bench/bench_match.py), each province and city with
  its government and 30 departments, each county with its government, 36 departments and 8
  townships (9-digit codes); regions with their parents, aliases (「区人社局」, 「安宝镇政府」).
  Plus a few unregistered agencies, as the crawler creates from names that matched nothing.
- Sites: one portal per province, city and county, and an own site for some departments; each
  crawled three times a year (crawl_run): February, April and late June. A few department sites
  die (every crawl fails from then on): their agencies' reports go missing, site_unreachable.
- Per agency and year, ~95% have a report (never-publishers, random gaps, dead sites, and reports
  that only appear after the April sweep): document, document_version, report (canonical data,
  text sketch), report_figure (with its agency's region and level, as db.store.save_report writes
  it) and the checker's findings, written with raw sqlite3 executemany in
  big transactions. Figures are drawn per agency (applications mostly 0–50, a long lognormal tail
  to thousands; carried_over usually last year's carried_forward; ×10 jumps), tables balance by
  construction, and ~10% of reports break a rule: the arithmetic findings come from the checker's
  own rules (checks.rules) run on the broken tables; the text-based ones (text_table_mismatch,
  stale_text …) are written as the checker words them, consistent with the tables.
- Publication dates: mostly before the deadline (departments 1月31日, governments and townships
  3月31日 of the next year, Beijing time), a few % late; ~1% of reports have a mirror copy on
  another site (a third of them with different figures), ~1% were edited after publication.
- Then the real sweep (compliance.sweep.sweep, alert=True, with region-scoped subscribers) for
  every year but the newest, as of 10 April after the year (after every deadline) and again on
  1 July after late reports appeared and some reports were corrected; alerts are then marked
  delivered and supervisors acknowledge or dismiss a few findings. The newest year is left
  unswept: `bench/bench_sweep.py` times its first sweep. Last, `db.engine.analyze`, as the
  service runs after every sweep and crawl.

At the default size: ~8.5 GB, ~6.5 minutes on a shared 2-core VM (bulk writing ~4 minutes, the
eight sweeps ~2.5), peak RSS ~3.5 GB.

PRAGMAs that trade safety for speed (journal off, no syncing) are set on the generator's own
connection only, and the file is left in WAL mode as `db.engine.make_engine` expects.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import random
import resource
import sqlite3
import sys
import time
import zlib
from array import array
from contextlib import closing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from math import ceil
from operator import itemgetter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _p in (str(ROOT), str(HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from bench_match import ABBREVIATIONS, DEPARTMENTS, SYLLABLES, place  # noqa: E402
from checks import rules  # noqa: E402
from checks.model import CST, Finding  # noqa: E402
from checks.model import Report as CheckedReport  # noqa: E402
from checks.template import (  # noqa: E402
    APPLICANT_COLUMNS,
    APPLICATION_ROWS,
    COLUMN_LABELS,
    PROACTIVE_ROWS,
    RESULT_ROWS,
    REVIEW_COLUMNS,
    REVIEW_ROWS,
    ROW_LABELS,
    TEMPLATE_NOTICE,
)
from compliance.deadlines import deadline  # noqa: E402
from compliance.registry import RegistryRow, import_registry  # noqa: E402
from db.engine import analyze, head_revision, make_engine, session, upgrade  # noqa: E402
from db.models import FIGURE_KEYS, figure_column  # noqa: E402
from db.store import _data_json, report_figures  # noqa: E402
from xxgk.config import DeadlinesConfig  # noqa: E402

GENERATOR_VERSION = 1
SEED = 20261124
DEFAULT_DB = "/tmp/xxgk-national.db"
DEFAULT_AGENCIES = 150_000
DEFAULT_YEARS = "2020-2024"
DEADLINES = DeadlinesConfig()

# ---- the timeline of a report year -----------------------------------------------------------


def crawl_days(year: int) -> tuple[date, ...]:
    """When every site is crawled for reports on `year`: after each deadline, and in summer."""
    return date(year + 1, 2, 3), date(year + 1, 4, 3), date(year + 1, 6, 28)


def sweep_times(year: int) -> tuple[tuple[date, datetime], tuple[date, datetime]]:
    """(today, now) of the two sweeps of `year`: 10 April (after every deadline) and 1 July
    (after late reports and corrections), 10:00 Beijing time."""
    return ((date(year + 1, 4, 10), datetime(year + 1, 4, 10, 2, 0, tzinfo=UTC)),
            (date(year + 1, 7, 1), datetime(year + 1, 7, 1, 2, 0, tzinfo=UTC)))


def first_sweep(year: int) -> tuple[date, datetime]:
    return sweep_times(year)[0]


def last_sweep(year: int) -> tuple[date, datetime]:
    return sweep_times(year)[1]


def as_of(newest: int) -> date:
    """The day the store stands at: the newest year's first sweep is due."""
    return first_sweep(newest)[0]


# ---- names ---------------------------------------------------------------------------------------

PINYIN = dict(zip(SYLLABLES, (
    "an", "bao", "chang", "de", "dong", "feng", "fu", "guang", "hai", "he", "hua", "jiang", "jin", "kang",
    "le", "lin", "long", "mao", "ning", "ping", "qing", "qing", "rui", "shan", "tai", "tian", "tong", "wen",
    "xi", "xiang", "xing", "yang", "yong", "yuan", "yun", "chang", "zhen", "zhong", "zhou", "shun"), strict=True))
PINYIN.update({"鼓": "gu", "楼": "lou"})
DEPT_SLUGS = (
    "fgj", "jyj", "kjj", "gaj", "mzj", "sfj", "czj", "rsj", "zrzyj", "sthjj", "zjj", "jtj", "slj", "nyncj",
    "swj", "wgltj", "wjj", "tyjrj", "yjglj", "sjj", "scjgj", "tjj", "ybj", "zfj", "jgswj", "xfj", "dsjj", "dag",
    "dfz", "zfb", "jxj", "lyj", "lsj", "rfb", "tzcj", "cgj", "spj", "mzzjj", "wsb", "jrb", "gxs", "cjrlh", "kx",
    "ggzy",
)
assert len(DEPT_SLUGS) == len(DEPARTMENTS)
COUNTY_DEPARTMENTS = 36
TOWNSHIPS_PER_COUNTY = 8
PER_COUNTY = 1 + COUNTY_DEPARTMENTS + TOWNSHIPS_PER_COUNTY  # 45, as bench_match's counties
UNREGISTERED_BODIES = ("政务服务中心", "融媒体中心", "疾病预防控制中心", "不动产登记中心", "住房公积金管理中心")
# Demand for applications by department: the busy ones and the quiet ones.
BUSY = {3: 1.0, 7: 0.8, 8: 1.3, 9: 0.6, 10: 1.2, 11: 0.5, 13: 0.7, 20: 0.9, 23: 0.6, 36: 0.4}
QUIET = {17: -0.6, 21: -0.8, 24: -1.0, 26: -0.8, 27: -0.7, 28: -1.2, 33: -1.0, 34: -1.0, 38: -1.2}
LICENSING = {3, 8, 10, 11, 16, 20, 36, 13, 12}
PUNISHING = {3, 9, 11, 20, 23, 18, 16, 35, 8}


def pinyin(name: str) -> str:
    return "".join(PINYIN.get(ch, "") for ch in name)


@dataclass(slots=True)
class Site:
    name: str
    host: str
    platform: str  # trs, jcms, gkmlpt, plain
    scheme: str
    column: int
    own: bool  # one department's own site, not a portal
    dies: int | None = None  # the report year from which every crawl fails
    error: str = ""


@dataclass(slots=True)
class Body:
    """An agency as generated (ids follow the list order, from 1)."""

    name: str
    region_code: str
    region_name: str
    level: str | None
    aliases: tuple[str, ...]
    site: int
    kind: int  # index into DEPARTMENTS; GOV, TOWN or OTHER
    tier: int  # 0 province, 1 city, 2 county, 3 township
    registered: bool = True


GOV, TOWN, OTHER = -1, -2, -3


def _layout(target: int) -> tuple[int, int, int]:
    """(provinces, cities per province, counties per city) holding at least `target` agencies."""
    cities, counties = 10, 10

    def per_province(k: int) -> int:
        return 31 + cities * (31 + k * PER_COUNTY)

    provinces = min(31, max(1, ceil(target / per_province(counties))))
    while provinces * per_province(counties) < target:
        counties += 1
    return provinces, cities, counties


def build_registry(target: int) -> tuple[list[Body], list[Site]]:
    """`target` registered agencies (cut from the full hierarchy, province by province) and a few
    unregistered ones, with the sites they publish on."""
    rng = random.Random(SEED)
    provinces, n_cities, n_counties = _layout(target)
    bodies: list[Body] = []
    sites: list[Site] = []
    site_names: set[str] = set()
    hosts: set[str] = set()
    names: set[str] = set()

    def new_site(name: str, host: str, own: bool) -> int:
        base, n = host, 1
        while host in hosts:
            n += 1
            head, _, rest = base.partition(".")
            host = f"{head}{n}.{rest}"
        hosts.add(host)
        assert name not in site_names, name
        site_names.add(name)
        platform = rng.choices(("trs", "jcms", "gkmlpt", "plain"), (45, 25, 20, 10))[0]
        sites.append(Site(name, host, platform, "https" if rng.random() < 0.6 else "http",
                          1229000000 + rng.randrange(1, 999999), own))
        return len(sites) - 1

    def add(name: str, code: str, region: str, level: str, kind: int, tier: int, portal: int,
            portal_host: str, own_share: float, aliases: tuple[str, ...] = ()) -> bool:
        if len(bodies) >= target:
            return False
        if name in names:  # made-up place names repeat across provinces
            name = region[:region.index("省") + 1] + name if "省" in region else region + name
        assert name not in names, name
        names.add(name)
        site = portal
        if kind >= 0 and rng.random() < own_share:
            site = new_site(name, f"{DEPT_SLUGS[kind]}.{portal_host.removeprefix('www.')}", own=True)
        bodies.append(Body(name, code, region, level, aliases, site, kind, tier))
        return True

    for p in range(provinces):
        if len(bodies) >= target:
            break
        pname = place(p * 7 + 3) + "省"
        pcode = f"{11 + p:02d}0000"
        phost = f"www.{pinyin(pname[:-1])}.gov.cn"
        portal = new_site(pname, phost, own=False)
        phost = sites[portal].host
        add(pname + "人民政府", pcode, pname, "government", GOV, 0, portal, phost, 0)
        for d, dept in enumerate(DEPARTMENTS[:30]):
            add(pname + dept.replace("分局", "厅").replace("局", "厅"), pcode, pname, "department", d, 0, portal,
                phost, 0.5)
        for c in range(1, n_cities + 1):
            cname = place(p * 131 + c * 17 + 5) + "市"
            ccode = f"{11 + p:02d}{c:02d}00"
            cregion = pname + cname
            if len(bodies) >= target:
                break
            portal = new_site(cregion, f"www.{pinyin(cname[:-1])}.gov.cn", own=False)
            chost = sites[portal].host
            add(cname + "人民政府", ccode, cregion, "government", GOV, 1, portal, chost, 0)
            for d, dept in enumerate(DEPARTMENTS[:30]):
                add(cname + dept, ccode, cregion, "department", d, 1, portal, chost, 0.35)
            for k in range(1, n_counties + 1):
                suffix = "区" if k <= 4 else "县"
                kname = "鼓楼区" if (c, k) == (1, 1) else place((p % 3) * 1000 + c * 37 + k * 11 + 2) + suffix
                kcode = f"{11 + p:02d}{c:02d}{k:02d}"
                kregion = cregion + kname
                word = kname[-1]
                if len(bodies) >= target:
                    break
                portal = new_site(kregion, f"www.{pinyin(kname[:-1])}.gov.cn", own=False)
                khost = sites[portal].host
                add(cname + kname + "人民政府", kcode, kregion, "government", GOV, 2, portal, khost, 0,
                    (f"{kname}政府", f"{word}政府"))
                for d, dept in enumerate(DEPARTMENTS[:COUNTY_DEPARTMENTS]):
                    aliases = (f"{word}{ABBREVIATIONS[dept]}",) if dept in ABBREVIATIONS else ()
                    add(cname + kname + dept, kcode, kregion, "department", d, 2, portal, khost, 0.06, aliases)
                for t in range(1, TOWNSHIPS_PER_COUNTY + 1):
                    town = place(p * 977 + c * 389 + k * 53 + t * 7 + 11)
                    kind = ("街道" if t <= (5 if k <= 4 else 1) else "乡" if t == TOWNSHIPS_PER_COUNTY else "镇")
                    tcode = f"{kcode}{t:03d}"
                    full = f"{town}{kind}"
                    body = f"{full}办事处" if kind == "街道" else f"{full}人民政府"
                    add(cname + kname + body, tcode, kregion + full, "township", TOWN, 3, portal, khost, 0,
                        (f"{full}{'办' if kind == '街道' else '政府'}",))
    # Names the crawler read that matched no registered agency: created unregistered, in the
    # region of the portal they were found on, level unknown.
    counties = [i for i, b in enumerate(bodies) if b.tier == 2 and b.kind == GOV]
    for n in range(max(2, target // 500)):
        gov = bodies[counties[(n * 7919) % len(counties)]]
        prefix = gov.name.removesuffix("人民政府")
        name = prefix + UNREGISTERED_BODIES[n % len(UNREGISTERED_BODIES)]
        if name in names:
            continue
        names.add(name)
        bodies.append(Body(name, gov.region_code, gov.region_name, None, (), gov.site, OTHER, 2, registered=False))
    # Department sites that die: from some year on, every crawl fails.
    errors = ("无法连接服务器（Connection refused）", "网站已关闭：域名无法解析", "HTTP 404：栏目页不存在",
              "连接超时（20 秒）", "证书已过期（SSL: CERTIFICATE_VERIFY_FAILED）")
    for s in sites:
        if s.own and rng.random() < 0.02:
            s.dies = rng.randrange(5)  # offset from the first year; ≥ the number of years: never
            s.error = rng.choice(errors)
    return bodies, sites


def registry_rows(bodies: Sequence[Body], sites: Sequence[Site]) -> list[RegistryRow]:
    return [RegistryRow(line=i + 2, name=b.name, aliases=b.aliases, region_code=b.region_code,
                        region_name=b.region_name, level=b.level, site=sites[b.site].name)  # type: ignore[arg-type]
            for i, b in enumerate(bodies) if b.registered]


# ---- per-agency profiles -------------------------------------------------------------------------

# Applicant columns (natural … other_org): the usual mix, a business-heavy one, a lawyers' one.
COLUMN_MIXES = (
    (0.84, 0.07, 0.01, 0.01, 0.04, 0.03),
    (0.55, 0.35, 0.01, 0.01, 0.05, 0.03),
    (0.70, 0.05, 0.01, 0.02, 0.18, 0.04),
)
RESULT_WEIGHTS = {
    "disclosed": 0.42, "partially_disclosed": 0.07, "withheld_state_secret": 0.003,
    "withheld_prohibited_by_law": 0.005, "withheld_security_stability": 0.003, "withheld_third_party": 0.01,
    "withheld_internal_affairs": 0.01, "withheld_process_info": 0.015, "withheld_enforcement_file": 0.005,
    "withheld_query_item": 0.01, "unavailable_not_held": 0.22, "unavailable_needs_creation": 0.04,
    "unavailable_unclear": 0.03, "rejected_petition": 0.04, "rejected_duplicate": 0.03,
    "rejected_publication": 0.005, "rejected_excessive": 0.01, "rejected_confirmation": 0.007,
    "other_overdue_correction": 0.03, "other_overdue_fee": 0.002, "other_misc": 0.03,
}
RESULT_WEIGHTS["other_processing"] = (RESULT_WEIGHTS["other_overdue_correction"]
                                      + RESULT_WEIGHTS["other_overdue_fee"] + RESULT_WEIGHTS["other_misc"])


def _cum(weights: Iterable[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


RESULT_CUM = {t: _cum(RESULT_WEIGHTS[r] for r in rows) for t, rows in RESULT_ROWS.items()}
MIX_CUM = [_cum(m) for m in COLUMN_MIXES]


@dataclass(slots=True)
class Profile:
    lam: float  # applications a year
    mix: int
    forward: float  # share carried forward into next year
    licensing: float
    punishment: float
    enforcement: float
    fees: float | None  # 万元 a year; None: leaves the cell blank
    normative: float  # normative documents issued a year
    in_force: int
    regulations: int  # regulations in force (provincial and city governments only)
    review: float  # reviews per application
    sentences: int  # own sentences in a report
    boiler: int  # template sentences it copies
    fmt: str
    never: bool  # never publishes
    lateness: float  # probability of a late report
    early: int  # typical days before the deadline
    old_template_until: int  # uses the 2019 template on years up to this one


def make_profiles(bodies: Sequence[Body]) -> list[Profile]:
    rng = random.Random(SEED + 1)
    out = []
    base_mu = {0: 2.6, 1: 2.0, 2: 1.1, 3: 0.2}
    gov_mu = {0: 5.0, 1: 4.2, 2: 3.0}
    for b in bodies:
        if b.kind == GOV:
            mu = gov_mu[b.tier]
        elif b.kind == TOWN:
            mu = base_mu[3]
        elif b.kind == OTHER:
            mu = 0.5
        else:
            mu = base_mu[b.tier] + BUSY.get(b.kind, 0.0) + QUIET.get(b.kind, 0.0)
        lam = min(20000.0, rng.lognormvariate(mu, 1.1))
        mix = 1 if b.kind in (20, 14, 30) else 2 if b.kind in (3, 5, 8, 10) else 0
        scale = (4.0, 2.5, 1.0, 0.3)[b.tier]
        licensing = rng.lognormvariate(5.5 if b.kind in LICENSING else 1.0, 1.2) * scale if b.kind != OTHER else 0
        punishment = rng.lognormvariate(4.5 if b.kind in PUNISHING else 0.3, 1.3) * scale if b.kind != OTHER else 0
        r = rng.random()
        fees = None if r < 0.08 else round(rng.lognormvariate(3.0, 1.5), 2) if r < 0.35 else 0.0
        gov_level = b.kind == GOV and b.tier <= 1
        fmt = rng.choices(("html", "pdf", "docx", "doc"), (55, 30, 11, 4))[0]
        r = rng.random()
        out.append(Profile(
            lam=lam, mix=mix, forward=rng.uniform(0.0, 0.12),
            licensing=licensing, punishment=punishment, enforcement=punishment * rng.uniform(0, 0.1),
            fees=fees, normative=rng.lognormvariate(1.8 if b.kind == GOV else 0.3, 0.8),
            in_force=rng.randrange(5, 150), regulations=rng.randrange(20, 300) if gov_level else 0,
            review=rng.uniform(0.005, 0.05), sentences=int(rng.uniform(*{3: (20, 50), 0: (80, 160)}.get(
                b.tier if b.kind != GOV else 0, (40, 100)))),
            boiler=rng.randrange(12, 30), fmt=fmt, never=r < 0.008,
            lateness=0.35 if r > 0.98 else 0.02, early=rng.randrange(1, 40),
            old_template_until=2022 if rng.random() < 0.01 else 2021 if rng.random() < 0.015 else 0,
        ))
    return out


# ---- one report ----------------------------------------------------------------------------------

APPLICANT_PARTS = APPLICANT_COLUMNS[:-1]
RANGE6 = range(6)
SECTIONS = ["一", "二", "三", "四", "五", "六"]
FIGURE_CELLS = tuple(tuple(key.split(".")) for key in FIGURE_KEYS)
FIGURE_COLUMNS = tuple(figure_column(key) for key in FIGURE_KEYS)
_EMPTY: dict[str, Any] = {}
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
CELL_TEXT = ("见附件", "不详", "——件", "0件（含）", "无数据")


def _split(n: int, cum: list[float], k: int, choices: Callable[..., list[int]]) -> list[int]:
    """n units over k bins by cumulative weights (exact multinomial for small n)."""
    counts = [0] * k
    if n <= 0:
        return counts
    if n <= 40:
        for i in choices(range(k), cum_weights=cum, k=n):
            counts[i] += 1
        return counts
    total = cum[-1]
    previous = 0.0
    for i, c in enumerate(cum):
        counts[i] = int(n * (c - previous) / total)
        previous = c
    for i in choices(range(k), cum_weights=cum, k=n - sum(counts)):
        counts[i] += 1
    return counts


def _count(rng: random.Random, mean: float) -> int:
    """A count around `mean` (stochastic rounding of a lognormal wobble)."""
    if mean <= 0:
        return 0
    v = mean * rng.lognormvariate(0.0, 0.3)
    n = int(v)
    return n + (rng.random() < v - n)


def _ts(dt: datetime) -> str:
    """A datetime as db.types.UTCDateTime stores it on SQLite: naive UTC text."""
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _json(value: Any) -> str:
    """As db.engine's JSON serializer (and db.store._data_json) writes it."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _sha(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, (SEED, *parts))).encode()).hexdigest()


@dataclass(slots=True)
class Doc:
    url: str
    content_hash: str
    size: int
    format: str
    fetched_at: str
    published_at: str
    title: str
    site: str
    source_url: str | None
    published_source: str
    versions: list[tuple[str, int, str, str]]  # (content_hash, size, fetched_at, data JSON), oldest first


@dataclass(slots=True)
class Payload:
    """Everything one report writes: its document (and mirrors), the report, figures, findings."""

    agency_id: int
    year: int
    template: str
    title: str
    sections: str
    data: str
    sketch: str
    created_at: str
    updated_at: str
    doc: Doc
    figures: list[Any]
    findings: list[tuple[str, str, str, str, str | None, str | None, str | None]]
    mirrors: list[Doc] = field(default_factory=list)


@dataclass(slots=True)
class Correction:
    """A report edited after the first sweep: new content for its document, its errors fixed."""

    agency_id: int
    year: int
    content_hash: str
    size: int
    fetched_at: str
    data: str
    figures: list[Any]
    findings: list[tuple[str, str, str, str, str | None, str | None, str | None]]


def _figure_plan(template: str) -> tuple[tuple[str, str, Callable[[Any], Any] | None, int], ...]:
    """How to read report_figure's columns from this template's tables: runs of consecutive
    FIGURE_KEYS of one row, each read with one itemgetter (or all None: not in this template)."""
    present: dict[tuple[str, str], tuple[str, ...]] = {}
    present.update({("applications", r.key): APPLICANT_COLUMNS for r in APPLICATION_ROWS[template]})
    present.update({("review_litigation", r): REVIEW_COLUMNS for r in REVIEW_ROWS})
    present.update({("proactive", spec.key): spec.columns for spec in PROACTIVE_ROWS[template]})
    runs: list[tuple[str, str, list[str]]] = []
    for section, row, col in FIGURE_CELLS:
        if runs and runs[-1][:2] == (section, row) and (col in present.get((section, row), ())) == (
                runs[-1][2][0] in present.get((section, row), ())):
            runs[-1][2].append(col)
        else:
            runs.append((section, row, [col]))
    plan = []
    for section, row, cols in runs:
        if cols[0] not in present.get((section, row), ()):
            plan.append((section, row, None, len(cols)))
        elif len(cols) == 1:
            plan.append((section, row, lambda d, c=cols[0]: (d[c],), 1))
        else:
            plan.append((section, row, itemgetter(*cols), len(cols)))
    return tuple(plan)


FIGURE_PLANS = {t: _figure_plan(t) for t in ("2021", "2019")}
_NONES = [(None,) * n for n in range(len(FIGURE_KEYS) + 1)]


def _figures(tables: dict[str, dict[str, dict[str, Any]]], template: str) -> list[Any]:
    """The report's row of report_figure, in FIGURE_KEYS order: what db.store.report_figures gives
    for tables that hold every row and column of their template (ints, finite floats and None;
    SQLite's REAL affinity stores an int as the float save_report passes)."""
    out: list[Any] = []
    for section, row, get, n in FIGURE_PLANS[template]:
        out.extend(_NONES[n] if get is None else get(tables[section][row]))
    return out


_ROW_TEXT: dict[tuple[Any, ...], str] = {}


def _rows_text(table: dict[str, dict[str, Any]]) -> str:
    """json.dumps of a table whose rows all have the same keys and hold only ints and None,
    row texts cached by their values (most rows are alike: all zeros)."""
    if not table:
        return "{}"
    parts = []
    cache = _ROW_TEXT
    for key, row in table.items():
        values = tuple(row.values())
        text = cache.get(values)
        if text is None:
            if len(cache) > 500_000:
                cache.clear()
            text = cache[values] = _json(row)
        parts.append(f'"{key}": {text}')
    return "{" + ", ".join(parts) + "}"


def _data_text(report: CheckedReport) -> str:
    """db.store._data_json(report), faster: the applications and review rows' texts are cached."""
    return (f'{{"source": {_json(report.source)}, "agency": {_json(report.agency)}, "year": {report.year}, '
            f'"template": {_json(report.template)}, "sections": {_json(report.sections)}, '
            f'"proactive": {_json(report.proactive)}, "applications": {_rows_text(report.applications)}, '
            f'"review_litigation": {_rows_text(report.review_litigation)}, "title": {_json(report.title)}, '
            f'"format": {_json(report.format)}}}')


def _finding_row(f: Finding) -> tuple[str, str, str, str, str | None, str | None, str | None]:
    return (f.rule, f.severity, f.message, f.where, f.section, f.row, f.column)


def _clip(sentence: str, n: int = 40) -> str:
    return sentence if len(sentence) <= n else sentence[:n] + "…"


class Generator:
    """Reports year by year, agency by agency, from one seeded RNG (so the order is the contract)."""

    def __init__(self, bodies: Sequence[Body], sites: Sequence[Site], years: Sequence[int]) -> None:
        self.bodies = bodies
        self.sites = sites
        self.years = list(years)
        self.profiles = make_profiles(bodies)
        self.rng = random.Random(SEED + 2)
        n = len(bodies) + 1
        self.prev_forward: list[list[int] | None] = [None] * n
        self.prev_own: list[array | None] = [None] * n
        self.cur_own: list[array | None] = [None] * n
        self.in_force = [p.in_force for p in self.profiles]
        self.regs = [p.regulations for p in self.profiles]
        self.boilerplate = [self.rng.getrandbits(63) for _ in range(400)]
        self.doc_serial = 0
        # Stats
        self.missing = 0
        self.late_arrivals: dict[int, list[Payload]] = {}
        self.corrections: dict[int, list[Correction]] = {}

    # -- the year --------------------------------------------------------------------------------

    def year(self, year: int, *, swept: bool) -> Iterable[Payload]:
        """The reports on `year` as crawled before its first sweep. Reports that appear later
        (late arrivals) and corrections are kept in late_arrivals / corrections when `swept`."""
        rng = self.rng
        first = self.years[0]
        last_in_group: dict[int, int] = {}
        late_list: list[Payload] = []
        corrections: list[Correction] = []
        for index, body in enumerate(self.bodies):
            agency_id = index + 1
            prof = self.profiles[index]
            site = self.sites[body.site]
            r = rng.random()
            dead = site.dies is not None and first + site.dies <= year
            if prof.never or dead or r < 0.03 or (not body.registered and r < 0.5):
                self.missing += 1
                self.prev_forward[agency_id] = None
                self.prev_own[agency_id] = None
                continue
            arrives_late = swept and r < 0.04  # published after the first sweep
            payload, correction = self.report(agency_id, body, prof, site, year, last_in_group,
                                              late_arrival=arrives_late, correctable=swept)
            if arrives_late:
                late_list.append(payload)
            else:
                yield payload
            if correction is not None:
                corrections.append(correction)
        self.prev_own, self.cur_own = self.cur_own, [None] * len(self.cur_own)
        if swept:
            self.late_arrivals[year] = late_list
            self.corrections[year] = corrections

    # -- one report ------------------------------------------------------------------------------

    def report(self, agency_id: int, body: Body, prof: Profile, site: Site, year: int,
               last_in_group: dict[int, int], *, late_arrival: bool,
               correctable: bool) -> tuple[Payload, Correction | None]:
        rng = self.rng
        random_ = rng.random
        choices = rng.choices
        template = "2019" if year <= 2020 or year <= prof.old_template_until else "2021"

        # Section 三: applications, balanced by construction.
        n_new = _count(rng, prof.lam)
        if n_new >= 8 and random_() < 0.006:
            n_new *= 10  # a ×10 year (or a typo with an extra digit)
        mix = MIX_CUM[prof.mix]
        new = _split(n_new, mix, 6, choices)
        prev = self.prev_forward[agency_id]
        if prev is not None and random_() >= 0.03:
            carried = list(prev)
        else:
            carried = _split(_count(rng, prof.lam * prof.forward), mix, 6, choices)
        forward = []
        for c in RANGE6:
            m = new[c] + carried[c]
            if m <= 40:
                f = sum(1 for _ in range(m) if random_() < prof.forward)
            else:
                f = min(m, int(m * prof.forward * rng.uniform(0.6, 1.4)))
            forward.append(f)
        result_rows = RESULT_ROWS[template]
        cum = RESULT_CUM[template]
        k = len(result_rows)
        matrix = [_split(new[c] + carried[c] - forward[c], cum, k, choices) for c in RANGE6]
        blank_zero_rows = random_() < 0.03
        apps: dict[str, dict[str, Any]] = {}
        for spec in APPLICATION_ROWS[template]:
            key = spec.key
            if key == "new":
                vals = new
            elif key == "carried_over":
                vals = carried
            elif key == "carried_forward":
                vals = forward
            elif key == "handled_total":
                vals = [new[c] + carried[c] - forward[c] for c in RANGE6]
            else:
                i = result_rows.index(key)
                vals = [matrix[c][i] for c in RANGE6]
            total = sum(vals)
            if blank_zero_rows and total == 0 and key in RESULT_WEIGHTS and RESULT_WEIGHTS[key] < 0.02:
                apps[key] = dict.fromkeys(APPLICANT_COLUMNS)
            else:
                row = dict(zip(APPLICANT_PARTS, vals))
                row["total"] = total
                apps[key] = row

        # Section 四: review and litigation.
        reviews = _count(rng, n_new * prof.review)
        review: dict[str, dict[str, Any]] = {}
        for key, share in (("review", 1.0), ("litigation_direct", 0.5), ("litigation_after_review", 0.2)):
            n = reviews if key == "review" else _count(rng, reviews * share)
            parts = _split(n, [0.7, 0.8, 0.9, 1.0], 4, choices)
            review[key] = {"upheld": parts[0], "corrected": parts[1], "other": parts[2], "pending": parts[3],
                           "total": n}

        # Section 二: proactive disclosure.
        licensing = _count(rng, prof.licensing)
        if licensing >= 8 and random_() < 0.005:
            licensing *= 10
        punishment = _count(rng, prof.punishment)
        enforcement = _count(rng, prof.enforcement)
        issued = _count(rng, prof.normative)
        repealed = min(self.in_force[agency_id - 1], _count(rng, prof.normative * 0.4))
        self.in_force[agency_id - 1] += issued - repealed
        in_force = self.in_force[agency_id - 1]
        regs_issued = regs_repealed = 0
        if self.regs[agency_id - 1]:
            regs_issued, regs_repealed = rng.randrange(0, 6), rng.randrange(0, 3)
            self.regs[agency_id - 1] += regs_issued - regs_repealed
        regs = self.regs[agency_id - 1]
        fees = None if prof.fees is None else round(prof.fees * rng.uniform(0.7, 1.3), 2) if prof.fees else 0
        if template == "2021":
            pro: dict[str, dict[str, Any]] = {
                "regulations": {"issued": regs_issued, "repealed": regs_repealed, "in_force": regs},
                "normative_documents": {"issued": issued, "repealed": repealed, "in_force": in_force},
                "licensing": {"decisions": licensing},
                "punishment": {"decisions": punishment},
                "enforcement": {"decisions": enforcement},
                "fees": {"amount_wan_yuan": fees},
            }
        else:
            items = rng.randrange(0, 40)
            pro = {
                "regulations": {"made": regs_issued, "published": regs_issued, "total_published": regs},
                "normative_documents": {"made": issued, "published": issued, "total_published": in_force},
                "licensing": {"items_last_year": items, "items_change": rng.randrange(-3, 4), "decisions": licensing},
                "other_services": {"items_last_year": rng.randrange(0, 20), "items_change": 0,
                                   "decisions": _count(rng, prof.licensing * 0.2)},
                "punishment": {"items_last_year": rng.randrange(0, 60), "items_change": rng.randrange(-2, 3),
                               "decisions": punishment},
                "enforcement": {"items_last_year": rng.randrange(0, 10), "items_change": 0,
                                "decisions": enforcement},
                "fees": {"items_last_year": rng.randrange(0, 8), "items_change": 0},
                "procurement": {"items": rng.randrange(0, 30), "amount_wan_yuan": round(rng.uniform(0, 900), 2)},
            }

        # What the report gets wrong.
        title = f"{body.name}{year}年政府信息公开工作年度报告"
        r = random_()
        if r < 0.15:
            title = f"{body.name}{year}年度政府信息公开工作年度报告"
        elif r < 0.2:
            title = f"{body.name}关于{year}年政府信息公开工作年度报告"
        sections = SECTIONS
        parse_findings: list[Finding] = []
        text_findings: list[Finding] = []
        run_rules = False
        fixable = None  # the tables before an arithmetic slip, for a later correction
        r = random_()
        if r < 0.003:
            self._unreadable(apps, parse_findings)
        elif r < 0.005:
            self._suspicious(apps, parse_findings)
        r = random_()
        if r < 0.045:
            fixable = {k: dict(v) for k, v in apps.items()}, {k: dict(v) for k, v in review.items()}
            run_rules = True
            self._slip(apps, review, r)
        if random_() < 0.008:
            sections = [s for s in SECTIONS if s != rng.choice("五六六六四")]
            run_rules = True
        if template == "2019" and year >= 2021:
            run_rules = True
        if body.tier >= 2 and body.kind != GOV and random_() < 0.008:
            pro["regulations"][("issued" if template == "2021" else "made")] = rng.randrange(1, 4)
            run_rules = True
        r = random_()
        if r < 0.003:
            title = f"{body.name}政府信息公开工作年度报告"
            run_rules = True
        text_findings += self._text_findings(year, apps, review, pro, template)

        report = CheckedReport(source="", agency=body.name, year=year, template=template, sections=list(sections),
                               proactive=pro, applications=apps, review_litigation=review, title=title)
        findings = list(parse_findings)
        if run_rules:
            for rule in rules.RULES:
                if rule is rules.text_table_mismatch:
                    findings += [f for f in text_findings if f.rule == "text_table_mismatch"]
                elif rule is rules.stale_text:
                    findings += [f for f in text_findings if f.rule == "stale_text"]
                elif rule is rules.wrong_document_number:
                    findings += [f for f in text_findings if f.rule == "wrong_document_number"]
                elif rule is rules.placeholder_text:
                    findings += [f for f in text_findings if f.rule == "placeholder_text"]
                else:
                    findings += rule(report)
        else:
            findings += text_findings
        findings.sort(key=lambda f: SEVERITY_ORDER[f.severity])

        # Publication, the document and its versions.
        due = deadline(year, body.level, body.region_code, DEADLINES)
        published = self._published(prof, due, late_arrival)
        doc, data, changed_first = self._document(agency_id, body, prof, site, year, published, title, report)
        if changed_first is not None:
            findings.append(Finding(
                "changed_after_publication", "warning",
                f"报告发布后内容被修改过：{changed_first.astimezone(CST):%Y-%m-%d} 抓取的版本与之后抓取的不同，各版本均已保存",
                "全文"))
        mirrors = []
        if random_() < 0.01:
            mirrors.append(self._mirror(agency_id, body, site, year, published, title, report))

        sketch = self._sketch(agency_id, body, prof, last_in_group)
        tables = {"applications": apps, "review_litigation": review, "proactive": pro}
        payload = Payload(
            agency_id=agency_id, year=year, template=template, title=title, sections=_json(list(sections)),
            data=data, sketch=_json(sketch), created_at=doc.versions[0][2], updated_at=doc.fetched_at, doc=doc,
            figures=_figures(tables, template),
            findings=[_finding_row(f) for f in findings], mirrors=mirrors,
        )
        forward_published = apps["carried_forward"]
        self.prev_forward[agency_id] = [forward_published[c] or 0 for c in APPLICANT_PARTS]

        correction = None
        if fixable is not None and correctable and not late_arrival and random_() < 0.4:
            correction = self._correction(agency_id, year, report, fixable, findings, doc, published)
        return payload, correction

    def _slip(self, apps: dict, review: dict, r: float) -> None:
        """An arithmetic slip: a typo in one cell (and sometimes its total)."""
        rng = self.rng
        c = rng.choice(APPLICANT_PARTS)
        d = rng.choice((1, 1, 2, 3, 10))
        if r < 0.012:  # 结转下年度 typed wrong, total too: the table no longer balances
            apps["carried_forward"][c] += d
            apps["carried_forward"]["total"] += d
        elif r < 0.024:  # one row's total wrong
            candidates = [k for k, v in apps.items() if v["total"]] or list(apps)
            row = apps[rng.choice(candidates)]
            if row["total"] is None:
                row.update(dict.fromkeys(APPLICANT_COLUMNS, 0))
            row["total"] = max(0, row["total"] + rng.choice((-1, 1)) * d)
        elif r < 0.033:  # （七）总计 does not add up
            apps["handled_total"][c] += d
            apps["handled_total"]["total"] += d
        elif r < 0.039:  # 四: a total that is not the sum
            row = review[rng.choice(REVIEW_ROWS)]
            row["total"] += d
        else:  # 本年新收 typed wrong, total too: 一+二≠七+四 in that column and the total
            row = apps["new"]
            row[c] += d
            row["total"] += d

    def _unreadable(self, apps: dict, findings: list[Finding]) -> None:
        rng = self.rng
        key = rng.choice([k for k, v in apps.items() if k in RESULT_WEIGHTS and v["natural"] == 0] or ["__none__"])
        if key == "__none__":
            return
        col = rng.choice(APPLICANT_PARTS)
        if apps[key][col] != 0:
            return
        apps[key][col] = None
        label = ROW_LABELS[key]
        findings.append(Finding("unreadable_cell", "warning",
                                f"单元格内容“{rng.choice(CELL_TEXT)}”不是数字，无法读取，按未填报处理",
                                f"三、申请情况表 · {label} · {COLUMN_LABELS[col]}列", "三", key, col))

    def _suspicious(self, apps: dict, findings: list[Finding]) -> None:
        rng = self.rng
        key = rng.choice(("new", "disclosed", "handled_total"))
        value = apps[key]["natural"]
        if value is None or value < 10:
            return
        shown = f"{str(value)[0]} {str(value)[1:]}"
        findings.append(Finding("suspicious_value", "warning", f"单元格填写为“{shown}”，按 {value} 读取，疑似笔误，请核对",
                                f"三、申请情况表 · {ROW_LABELS[key]} · 自然人列", "三", key, "natural"))

    def _text_findings(self, year: int, apps: dict, review: dict, pro: dict, template: str) -> list[Finding]:
        """Findings that read the prose, worded as checks.rules words them, consistent with the tables."""
        rng = self.rng
        out: list[Finding] = []
        r = rng.random()
        if r < 0.018:
            new = apps["new"]["total"]
            carried = apps["carried_over"]["total"] or 0
            if r < 0.011 and new is not None:
                n = rng.choice((new + 1, max(0, new - 1), new * 10, new + 2, carried))
                if n not in (new, new + carried):
                    sent = f"{year}年，本机关共收到政府信息公开申请{n}件，其中自然人申请{apps['new']['natural'] or 0}件"
                    out.append(Finding("text_table_mismatch", "error",
                                       f"正文说收到申请 {n} 件（“{_clip(sent)}”），但申请情况表本年新收总计为 {new}",
                                       "正文 / 三、本年新收 · 总计列", None, "new", "total"))
            elif r < 0.014:
                table = review["review"]["total"]
                n = table + rng.choice((1, 2))
                sent = f"全年共发生政府信息公开行政复议案件{n}件，行政诉讼案件{review['litigation_direct']['total']}件"
                out.append(Finding("text_table_mismatch", "error",
                                   f"正文说行政复议 {n} 件（“{_clip(sent)}”），但表四行政复议总计为 {table}",
                                   "正文 / 四、行政复议 · 总计", None, "review", "total"))
            else:
                table = pro["licensing"]["decisions"]
                n = table + rng.choice((-1, 1, 100)) if table else rng.randrange(1, 50)
                n = max(0, n)
                if n != table:
                    sent = f"全年共作出行政许可决定{n}件，办理时限压缩至法定时限的一半以内"
                    out.append(Finding("text_table_mismatch", "error",
                                       f"正文说行政许可决定 {n} 件（“{_clip(sent)}”），但主动公开表填的是 {table}",
                                       "正文 / 二、第二十条第（五）项 · 行政许可", "二", "licensing", "decisions"))
        r = rng.random()
        if r < 0.008:
            sent = f"{year}年，我单位将进一步加强政府信息公开工作，提升公开质量"
            out.append(Finding("stale_text", "warning",
                               f"改进计划写的是{year}年（“{_clip(sent)}”），而本报告是{year}年度的，"
                               f"应写{year + 1}年的打算，疑似照搬往年报告",
                               "五、存在的主要问题及改进情况", "五"))
        elif r < 0.012:
            out.append(Finding("stale_text", "warning",
                               f"统计期限写的是{year - 1}年，而本报告是{year}年度的，疑似照搬往年报告", "正文（统计期限）"))
        r = rng.random()
        if year >= 2021 and r < 0.006:
            if r < 0.004:
                out.append(Finding("wrong_document_number", "warning",
                                   f"引用的是2019年旧格式通知（{TEMPLATE_NOTICE['2019']}），"
                                   f"{year}年度报告应依据{TEMPLATE_NOTICE['2021']}", "正文（格式依据）"))
            else:
                out.append(Finding("wrong_document_number", "warning",
                                   f"年度报告格式通知的文号写成了“国办公开办函〔2021〕3号”，正确的是“{TEMPLATE_NOTICE['2021']}”",
                                   "正文（格式依据）"))
        if rng.random() < 0.003:
            out.append(Finding("placeholder_text", "warning",
                               f"正文留有未填写的模板占位内容“{rng.choice(('（具体网址）', 'XX局', '（单位名称）', '此处填写'))}”",
                               "正文"))
        return out

    def _published(self, prof: Profile, due: date, late_arrival: bool) -> datetime:
        rng = self.rng
        if late_arrival:  # after the first sweep (10 April), before the second (1 July)
            day = date(due.year, 4, 11) + timedelta(days=rng.randrange(0, 75))
        elif rng.random() < prof.lateness:
            day = due + timedelta(days=min(int(rng.expovariate(1 / 12)) + 1, (date(due.year, 4, 9) - due).days))
        else:
            day = due - timedelta(days=min(60, max(0, int(rng.gauss(prof.early, 6)))))
        return datetime(day.year, day.month, day.day, rng.randrange(8, 19), rng.randrange(60), tzinfo=CST)

    def _url(self, site: Site, published: datetime, ext: str) -> tuple[str, str | None]:
        """(document URL, article page URL for an attachment)."""
        self.doc_serial += 1
        n = 7_000_000 + self.doc_serial * 7
        base = f"{site.scheme}://{site.host}"
        y, m, d = published.year, published.month, published.day
        if site.platform == "gkmlpt":
            page = f"{base}/gkmlpt/content/{n // 1_000_000}/{n // 1000}/post_{n}.html"
            attachment = f"{base}/attachment/0/{n // 1000}/{n}/{hashlib.md5(str(n).encode()).hexdigest()[:12]}.{ext}"
        elif site.platform == "trs":
            page = f"{base}/art/{y}/{m}/{d}/art_{site.column}_{n}.html"
            attachment = f"{base}/module/download/downfile.jsp?classid=0&filename={n:x}.{ext}"
        elif site.platform == "jcms":
            page = f"{base}/col/col{site.column}/art/{y}/art_{n:x}.html"
            attachment = f"{base}/attach/0/{n:x}.{ext}"
        else:
            page = f"{base}/zwgk/xxgknb/{y}{m:02d}/t{y}{m:02d}{d:02d}_{n}.html"
            attachment = f"{base}/zwgk/xxgknb/{y}{m:02d}/P0{y}{m:02d}{d:02d}{n}.{ext}"
        return (page, None) if ext == "html" else (attachment, page)

    def _source(self, site: Site) -> str:
        r = self.rng.random()
        if site.platform == "gkmlpt":
            return "gkmlpt" if r < 0.9 else "page"
        return "page" if r < 0.7 else "meta" if r < 0.85 else "list" if r < 0.94 else "first_seen" if r < 0.99 \
            else "url"

    def _size(self, fmt: str) -> int:
        lo, hi = {"html": (12_000, 60_000), "pdf": (150_000, 3_000_000), "docx": (25_000, 120_000),
                  "doc": (40_000, 200_000)}[fmt]
        return self.rng.randrange(lo, hi)

    def _document(self, agency_id: int, body: Body, prof: Profile, site: Site, year: int, published: datetime,
                  title: str, report: CheckedReport) -> tuple[Doc, str, datetime | None]:
        rng = self.rng
        fmt = prof.fmt if rng.random() < 0.9 else rng.choice(("html", "pdf", "docx"))
        url, source_url = self._url(site, published, fmt)
        source = self._source(site)
        fetched = published + timedelta(hours=rng.randrange(2, 72))
        if source == "first_seen":
            published = fetched
        report.source, report.format = url, fmt
        data = _data_text(report)
        if agency_id % 499 == 0:  # the fast paths must give what the product writes
            assert data == _data_json(report), (data, _data_json(report))
            tables = {"applications": report.applications, "review_litigation": report.review_litigation,
                      "proactive": report.proactive}
            assert _figures(tables, report.template) == list(report_figures(report).values())
        size = self._size(fmt)
        versions = []
        changed_first = None
        if rng.random() < 0.012:  # edited after publication: the first version differed
            changed_first = fetched
            old = json.loads(data)
            old["proactive"]["licensing"]["decisions"] = (old["proactive"]["licensing"]["decisions"] or 0) + 1
            old_hash = _sha("v0", agency_id, year)
            versions.append((old_hash, size - rng.randrange(1, 500), _ts(fetched), _json(old)))
            fetched = fetched + timedelta(days=rng.randrange(3, 40))
        content_hash = _sha("v1", agency_id, year)
        versions.append((content_hash, size, _ts(fetched), data))
        doc = Doc(url=url, content_hash=content_hash, size=size, format=fmt, fetched_at=_ts(fetched),
                  published_at=_ts(published), title=title, site=site.name, source_url=source_url,
                  published_source=source, versions=versions)
        return doc, data, changed_first

    def _mirror(self, agency_id: int, body: Body, site: Site, year: int, published: datetime, title: str,
                report: CheckedReport) -> Doc:
        """The same report on another site: the portal above (or a neighbour's), sometimes an older draft."""
        rng = self.rng
        other = self.sites[(self.bodies[agency_id - 2].site if agency_id > 1 else body.site + 1) % len(self.sites)]
        if other.name == site.name:
            other = self.sites[(body.site + 1) % len(self.sites)]
        url, source_url = self._url(other, published, "html")
        saved = report.source, report.format, report.applications
        report.source, report.format = url, "html"
        if rng.random() < 0.35:  # an older draft: 本年新收 differs
            apps = {k: dict(v) for k, v in report.applications.items()}
            apps["new"]["natural"] = (apps["new"]["natural"] or 0) + 1
            apps["new"]["total"] = (apps["new"]["total"] or 0) + 1
            report.applications = apps
        out = report.to_json()
        out.pop("findings")
        report.source, report.format, report.applications = saved
        fetched = published + timedelta(days=rng.randrange(1, 20))
        content_hash = _sha("mirror", agency_id, year)
        size = self._size("html")
        data = _json(out)
        return Doc(url=url, content_hash=content_hash, size=size, format="html", fetched_at=_ts(fetched),
                   published_at=_ts(published), title=title, site=other.name, source_url=source_url,
                   published_source="page", versions=[(content_hash, size, _ts(fetched), data)])

    def _sketch(self, agency_id: int, body: Body, prof: Profile, last_in_group: dict[int, int]) -> list[int]:
        """A bottom-64 sketch (checks.fingerprint) of a made-up sentence set: template sentences
        every report writes, and the agency's own, partly kept from last year; a few reports copy
        last year's text or a neighbour's."""
        rng = self.rng
        getrandbits = rng.getrandbits
        prev = self.prev_own[agency_id]
        u = max(8, int(prof.sentences * rng.uniform(0.9, 1.1)))
        r = rng.random()
        peer = last_in_group.get(body.site)
        if r < 0.04:  # last year's report again, a few sentences changed
            kept = rng.sample(list(prev), int(len(prev) * 0.95)) if prev is not None else []
        elif r < 0.046 and peer is not None and self.cur_own[peer] is not None:  # a neighbour's report
            source = list(self.cur_own[peer])  # type: ignore[arg-type]
            kept = rng.sample(source, int(len(source) * 0.9))
        elif prev is not None:
            kept = rng.sample(list(prev), min(len(prev), int(u * 0.3)))
        else:
            kept = []
        own = kept + [getrandbits(63) for _ in range(max(0, u - len(kept)))]
        self.cur_own[agency_id] = array("q", own)
        last_in_group[body.site] = agency_id
        hashes = set(own)
        hashes.update(rng.sample(self.boilerplate, prof.boiler))
        return sorted(hashes)[:64]

    def _correction(self, agency_id: int, year: int, report: CheckedReport, fixable: tuple[dict, dict],
                    findings: list[Finding], doc: Doc, published: datetime) -> Correction:
        rng = self.rng
        apps, review = fixable
        fixed = CheckedReport(source=report.source, agency=report.agency, year=year, template=report.template,
                              sections=report.sections, proactive=report.proactive, applications=apps,
                              review_litigation=review, title=report.title, format=report.format)
        out = fixed.to_json()
        out.pop("findings")
        first = datetime.fromisoformat(doc.versions[0][2]).replace(tzinfo=UTC)
        arithmetic = {"balance", "row_total", "handled_total", "review_total"}
        kept = [f for f in findings if f.rule not in arithmetic and f.rule != "changed_after_publication"]
        # What the checker says of the corrected tables: nothing arithmetic, or the rules say so.
        kept = [f for f in kept] + [f for rule in (rules.balance, rules.row_total, rules.handled_total,
                                                    rules.review_total) for f in rule(fixed)]
        kept.sort(key=lambda f: SEVERITY_ORDER[f.severity])
        kept.append(Finding(
            "changed_after_publication", "warning",
            f"报告发布后内容被修改过：{first.astimezone(CST):%Y-%m-%d} 抓取的版本与之后抓取的不同，各版本均已保存", "全文"))
        fetched = datetime(year + 1, 5, 1, 3, tzinfo=UTC) + timedelta(hours=rng.randrange(0, 24 * 50))
        tables = {"applications": apps, "review_litigation": review, "proactive": report.proactive}
        return Correction(agency_id=agency_id, year=year, content_hash=_sha("v2", agency_id, year),
                          size=doc.size + rng.randrange(-300, 300), fetched_at=_ts(fetched), data=_json(out),
                          figures=_figures(tables, report.template), findings=[_finding_row(f) for f in kept])


# ---- writing -------------------------------------------------------------------------------------

_DOC_COLUMNS = ("id", "url", "content_hash", "size", "format", "fetched_at", "published_at", "title", "agency_id",
                "site", "source_url", "published_source")
_FIGURE_INSERT_COLUMNS = ("report_id", "agency_id", "year", *FIGURE_COLUMNS, "region_code", "level")
_FINDING_COLUMNS = ("report_id", "rule", "severity", "message", "where", "section", "row", "column")


def _insert(table: str, columns: Sequence[str]) -> str:
    return (f'INSERT INTO "{table}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in columns)}) '
            f'VALUES ({", ".join("?" * len(columns))})')


class Writer:
    """Buffers rows and writes them with executemany; ids are given here, in insertion order."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.next_document = (conn.execute("SELECT coalesce(max(id), 0) FROM document").fetchone()[0]) + 1
        self.next_report = (conn.execute("SELECT coalesce(max(id), 0) FROM report").fetchone()[0]) + 1
        # What report_figure copies of each agency (revision 0009), as db.store.save_report writes it.
        self.scopes: dict[int, tuple[str | None, str | None]] = {
            i: (code, level) for i, code, level in conn.execute("SELECT id, region_code, level FROM agency")}
        self.documents: list[tuple] = []
        self.versions: list[tuple] = []
        self.reports: list[tuple] = []
        self.figures: list[tuple] = []
        self.findings: list[tuple] = []
        self.counts = {"documents": 0, "reports": 0, "findings": 0}

    def _doc(self, agency_id: int, doc: Doc) -> int:
        document_id = self.next_document
        self.next_document += 1
        self.documents.append((document_id, doc.url, doc.content_hash, doc.size, doc.format, doc.fetched_at,
                               doc.published_at, doc.title, agency_id, doc.site, doc.source_url,
                               doc.published_source))
        for content_hash, size, fetched_at, data in doc.versions:
            self.versions.append((document_id, content_hash, size, fetched_at, data))
        self.counts["documents"] += 1
        return document_id

    def add(self, p: Payload) -> int:
        for mirror in p.mirrors:  # crawled on the other site first: the report keeps its own document
            self._doc(p.agency_id, mirror)
        document_id = self._doc(p.agency_id, p.doc)
        report_id = self.next_report
        self.next_report += 1
        self.reports.append((report_id, p.agency_id, p.year, p.template, p.title, document_id, p.sections, p.data,
                             p.sketch, p.created_at, p.updated_at))
        self.figures.append((report_id, p.agency_id, p.year, *p.figures, *self.scopes[p.agency_id]))
        self.findings += [(report_id, *f) for f in p.findings]
        self.counts["reports"] += 1
        self.counts["findings"] += len(p.findings)
        if len(self.reports) >= 5000:
            self.flush()
        return report_id

    def flush(self) -> None:
        c = self.conn
        c.executemany(_insert("document", _DOC_COLUMNS), self.documents)
        c.executemany(_insert("document_version", ("document_id", "content_hash", "size", "fetched_at", "data")),
                      self.versions)
        c.executemany(_insert("report", ("id", "agency_id", "year", "template", "title", "document_id", "sections",
                                         "data", "text_sketch", "created_at", "updated_at")), self.reports)
        c.executemany(_insert("report_figure", _FIGURE_INSERT_COLUMNS), self.figures)
        c.executemany(_insert("finding", _FINDING_COLUMNS), self.findings)
        c.commit()
        for rows in (self.documents, self.versions, self.reports, self.figures, self.findings):
            rows.clear()

    def correct(self, fix: Correction) -> None:
        """What save_report writes for new content of a report's document: the document's content
        fields, a new version, the report's data, figures and findings."""
        c = self.conn
        report_id, document_id = c.execute("SELECT id, document_id FROM report WHERE agency_id = ? AND year = ?",
                                           (fix.agency_id, fix.year)).fetchone()
        c.execute("UPDATE document SET content_hash = ?, size = ?, fetched_at = ? WHERE id = ?",
                  (fix.content_hash, fix.size, fix.fetched_at, document_id))
        c.execute(_insert("document_version", ("document_id", "content_hash", "size", "fetched_at", "data")),
                  (document_id, fix.content_hash, fix.size, fix.fetched_at, fix.data))
        c.execute("UPDATE report SET data = ?, updated_at = ? WHERE id = ?", (fix.data, fix.fetched_at, report_id))
        c.execute("DELETE FROM report_figure WHERE report_id = ?", (report_id,))
        c.execute(_insert("report_figure", _FIGURE_INSERT_COLUMNS),
                  (report_id, fix.agency_id, fix.year, *fix.figures, *self.scopes[fix.agency_id]))
        c.execute("DELETE FROM finding WHERE report_id = ?", (report_id,))
        c.executemany(_insert("finding", _FINDING_COLUMNS), [(report_id, *f) for f in fix.findings])


def _crawl_runs(sites: Sequence[Site], years: Sequence[int], until: date, after: date | None,
                rng_seed: int) -> list[tuple]:
    """crawl_run rows of every site for the crawl days in (after, until], in time order."""
    days = sorted({d for y in years for d in crawl_days(y)} | {as_of(years[-1]) - timedelta(days=1)})
    rows = []
    for day in days:
        if day > until or (after is not None and day <= after):
            continue
        report_year = max(y for y in years if y < day.year) if any(y < day.year for y in years) else years[0]
        for s in sites:
            rng_local = random.Random(zlib.crc32(f"{rng_seed}|{s.name}|{day}".encode()))
            start = datetime(day.year, day.month, day.day, 1, 0, tzinfo=CST) + timedelta(
                minutes=rng_local.randrange(0, 240))
            finished = start + timedelta(seconds=rng_local.randrange(20, 1800))
            dead = s.dies is not None and years[0] + s.dies <= report_year
            r = rng_local.random()
            pages = rng_local.randrange(3, 60)
            if dead or r < 0.01:
                status, errors = "failed", [s.error or "连接超时（20 秒）"]
                pages = 0
            elif r < 0.04:
                status, errors = "partial", [f"列表页第{rng_local.randrange(2, 9)}页无法抓取：HTTP 503"]
            else:
                status, errors = "ok", []
            rows.append((s.name, _ts(start), _ts(finished), status, pages, rng_local.randrange(0, pages + 1),
                         pages * rng_local.randrange(20_000, 80_000), 0, 0, 0, _json(errors)))
    return rows


def _insert_runs(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    conn.executemany(_insert("crawl_run", ("site", "started_at", "finished_at", "status", "pages_fetched",
                                          "not_modified", "bytes_received", "reports_found", "reports_new",
                                          "reports_changed", "errors")), rows)


# ---- the parameters file -------------------------------------------------------------------------


def params_path(db: Path) -> Path:
    return db.with_name(db.name + ".params.json")


def wanted_params(agencies: int, years: Sequence[int]) -> dict[str, Any]:
    """What a store is generated from: a file made from other parameters, by another generator
    version or for another schema (a new migration) is generated anew."""
    return {"generator": GENERATOR_VERSION, "seed": SEED, "agencies": agencies, "years": list(years),
            "schema": head_revision()}


def _recorded(db: Path) -> dict[str, Any] | None:
    meta = params_path(db)
    if not db.exists() or not meta.exists():
        return None
    try:
        return json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def reusable(db: Path, params: dict[str, Any]) -> dict[str, Any] | None:
    """The recorded stats of an existing file generated with these parameters, or None."""
    recorded = _recorded(db)
    if recorded is None or recorded.get("params") != params:
        return None
    return recorded


def upgradable(db: Path, params: dict[str, Any]) -> dict[str, Any] | None:
    """The recorded stats of an existing file generated with these parameters but for an older
    schema, which the migrations can bring to `params["schema"]`; else None."""
    from alembic.script import ScriptDirectory

    from db.engine import alembic_config, current_revision

    recorded = _recorded(db)
    if recorded is None:
        return None
    old = dict(recorded.get("params") or {})
    schema = old.pop("schema", None)
    if not schema or old != {k: v for k, v in params.items() if k != "schema"} or schema == params["schema"]:
        return None
    ancestors = {r.revision for r in ScriptDirectory.from_config(alembic_config())
                 .iterate_revisions(params["schema"], "base")}  # the head's, itself included
    # The file may already be further on (an upgrade that was run by hand, or interrupted).
    if schema not in ancestors or current_revision(f"sqlite:///{db}") not in ancestors:
        return None
    return recorded


def parse_years(text: str) -> list[int]:
    text = text.strip()
    if "-" in text:
        a, b = (int(x) for x in text.split("-", 1))
        years = list(range(a, b + 1))
    else:
        years = sorted({int(x) for x in text.split(",") if x.strip()})
    if not years or years[0] < 2019:
        raise ValueError(f"years must be report years from 2019 on: {text!r}")
    return years


# ---- the whole store -----------------------------------------------------------------------------

SUBSCRIBERS = (
    # name, channel, target, region (index of a province / city, or None), level, agency, min severity, mode, active
    ("国务院办公厅政务公开办", "webhook", "https://gk.example.gov.cn/hooks/xxgk", None, None, False, "error", "digest", True),
    ("{p0}政务公开办", "telegram", "-1001000000011", "p0", None, False, "warning", "immediate", True),
    ("{p1}政务公开办", "telegram", "-1001000000012", "p1", None, False, "warning", "immediate", True),
    ("{p2}政务公开办", "webhook", "https://gk.example.gov.cn/hooks/p2", "p2", None, False, "warning", "digest", True),
    ("{c0}督查室", "console", "", "c0", None, False, "error", "immediate", True),
    ("{p0}乡镇（街道）督查", "console", "", "p0", "township", False, "warning", "digest", True),
    ("{p0}人民政府办公厅自查", "console", "", None, None, True, "info", "immediate", True),
    ("停用的订阅", "console", "", "p1", None, False, "info", "immediate", False),
)


def _subscribers(conn: sqlite3.Connection, bodies: Sequence[Body], created: datetime) -> None:
    provinces = [b for b in bodies if b.tier == 0 and b.kind == GOV and b.registered]
    cities = [b for b in bodies if b.tier == 1 and b.kind == GOV and b.registered]
    scopes: dict[str, tuple[str, str]] = {}
    for i, b in enumerate(provinces[:3]):
        scopes[f"p{i}"] = (b.region_code, b.region_name)
    if cities:
        scopes["c0"] = (cities[0].region_code, cities[0].region_name)
    rows = []
    for name, channel, target, scope, level, own_agency, severity, mode, active in SUBSCRIBERS:
        if scope is not None and scope not in scopes:
            continue
        if "{" in name:
            key = name[name.index("{") + 1:name.index("}")]
            if key not in scopes:
                continue
            name = name.replace("{" + key + "}", scopes[key][1])
        agency_id = (bodies.index(provinces[0]) + 1) if own_agency and provinces else None
        rows.append((name, channel, target, scopes[scope][0] if scope else None, level, agency_id, severity, mode,
                     int(active), _ts(created)))
    conn.executemany(_insert("subscriber", ("name", "channel", "target", "region_code", "level", "agency_id",
                                            "min_severity", "mode", "active", "created_at")), rows)


def _after_sweep(conn: Any, year: int, now: datetime) -> None:
    """What happens after a sweep: its alerts go out (a few fail), supervisors acknowledge some
    findings and dismiss a few as false positives."""
    sent = _ts(now + timedelta(minutes=7))
    digest = _ts(now + timedelta(hours=22))
    conn.exec_driver_sql(
        "UPDATE alert_delivery SET state = CASE WHEN id % 997 = 13 THEN 'failed' ELSE 'sent' END, "
        "attempts = CASE WHEN id % 997 = 13 THEN 5 ELSE 1 END, "
        "last_error = CASE WHEN id % 997 = 13 THEN '渠道 webhook 出错：HTTP 502 Bad Gateway' END, "
        "sent_at = CASE WHEN id % 997 = 13 THEN NULL WHEN subscriber_id IN "
        "(SELECT id FROM subscriber WHERE mode = 'digest') THEN ? ELSE ? END "
        "WHERE state = 'pending'", (digest, sent))
    at = _ts(now + timedelta(days=3, hours=5))
    for state, condition, note in (
        ("acknowledged", "id % 31 = 7", "已督促整改，单位已说明原因"),
        ("false_positive", "id % 173 = 11 AND rule IN ('implausible_change', 'duplicate_content', 'late')",
         "经核实数据属实，不属于问题"),
    ):
        scope = f"year = {int(year)} AND state = 'open' AND {condition}"
        conn.exec_driver_sql(
            f"INSERT INTO finding_event (finding_id, at, state, actor, reason) "
            f"SELECT id, ?, ?, '督查员', ? FROM tracked_finding WHERE {scope} ORDER BY id", (at, state, note))
        conn.exec_driver_sql(f"UPDATE tracked_finding SET state = ?, note = ? WHERE {scope}", (state, note))


def generate(db: str | Path = DEFAULT_DB, agencies: int = DEFAULT_AGENCIES,
             years: Sequence[int] | str = DEFAULT_YEARS, *, force: bool = False, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Generate the store at `db` (or reuse it); returns what was recorded about it."""
    from compliance.sweep import sweep

    db = Path(db)
    years = parse_years(years) if isinstance(years, str) else list(years)
    params = wanted_params(agencies, years)
    if not force and (recorded := reusable(db, params)) is not None:
        log(f"{db}: reusing the store generated with {params} ({recorded['stats']['size_mb']:,.0f} MB)")
        return recorded
    if not force and (recorded := upgradable(db, params)) is not None:
        return _upgrade_in_place(db, params, recorded, log)

    t0 = time.perf_counter()
    # Built beside the old file, which stays usable until the new one replaces it.
    tmp = db.with_name(db.name + ".partial")
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    url = f"sqlite:///{tmp}"
    upgrade(url)
    newest = years[-1]
    bodies, sites = build_registry(agencies)
    registered = sum(b.registered for b in bodies)
    log(f"registry: {registered:,} registered agencies (+{len(bodies) - registered} unregistered), "
        f"{len(sites):,} sites")

    engine = make_engine(url)
    with session(engine) as s:
        imported = import_registry(s, registry_rows(bodies, sites))
        conn = s.connection()
        ids = dict(conn.exec_driver_sql("SELECT name, id FROM agency").all())
        assert all(ids[b.name] == i + 1 for i, b in enumerate(bodies) if b.registered), "ids follow the registry"
        unregistered = [(b.name, b.region_code, b.region_name, b.site) for b in bodies if not b.registered]
        conn.exec_driver_sql("INSERT INTO agency (name, region_code, region_name, level, registered, site) "
                             "VALUES (?, ?, ?, NULL, 0, ?)",
                             [(n, c, r, sites[si].name) for n, c, r, si in unregistered])
    engine.dispose()
    log(f"  imported with compliance.registry.import_registry: {imported.created:,} agencies, "
        f"{imported.aliases_added:,} aliases, {imported.regions_written:,} regions "
        f"({time.perf_counter() - t0:.0f} s)")

    # Bulk: every report as crawled before its year's first sweep.
    raw = sqlite3.connect(tmp, isolation_level="DEFERRED")
    for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1000000", "temp_store=MEMORY",
                   "locking_mode=EXCLUSIVE"):
        raw.execute(f"PRAGMA {pragma}")
    _subscribers(raw, bodies, datetime(years[0] + 1, 1, 5, 1, tzinfo=UTC))
    raw.commit()
    gen = Generator(bodies, sites, years)
    writer = Writer(raw)
    # Millions of long-lived objects and no reference cycles: the collector would only walk them.
    gc.collect()
    gc.disable()
    for year in years:
        t = time.perf_counter()
        before = writer.counts["reports"]
        for payload in gen.year(year, swept=year != newest):
            writer.add(payload)
        writer.flush()
        log(f"  {year}: {writer.counts['reports'] - before:,} reports written "
            f"(+{len(gen.late_arrivals.get(year, [])):,} to appear after the first sweep, "
            f"{len(gen.corrections.get(year, [])):,} to be corrected) in {time.perf_counter() - t:.0f} s")
    gc.enable()
    raw.execute("PRAGMA journal_mode=WAL")
    raw.close()
    t_bulk = time.perf_counter() - t0

    # The sweeps, year by year, as the service would have run them.
    engine = make_engine(url)
    runs_until: date | None = None
    sweeps = []
    for year in years[:-1]:
        for i, (today, now) in enumerate(sweep_times(year)):
            with closing(sqlite3.connect(tmp)) as raw:
                _insert_runs(raw, _crawl_runs(sites, years, today, runs_until, SEED + 3))
                runs_until = today
                if i == 1:  # late reports appeared, some were corrected
                    w = Writer(raw)
                    for payload in gen.late_arrivals[year]:
                        w.add(payload)
                    w.flush()
                    for fix in gen.corrections[year]:
                        w.correct(fix)
                raw.commit()
            t = time.perf_counter()
            result = sweep(engine, year, today=today, now=now, deadlines=DEADLINES, alert=True)
            elapsed = time.perf_counter() - t
            with engine.begin() as conn:
                _after_sweep(conn, year, now)
            sweeps.append({"year": year, "today": today.isoformat(), "seconds": round(elapsed, 1),
                           "opened": result.opened, "resolved": result.resolved, "alerts": result.alerts})
            log(f"  sweep {year} as of {today}: {result.reports:,} reports, opened {result.opened:,}, "
                f"resolved {result.resolved:,}, {result.alerts:,} alerts; {dict(result.verdicts)} ({elapsed:.1f} s)")
    with closing(sqlite3.connect(tmp)) as raw:
        _insert_runs(raw, _crawl_runs(sites, years, as_of(newest), runs_until, SEED + 3))
        raw.commit()
    analyze(engine)  # as after every sweep and crawl: the query planner's statistics
    with engine.connect() as conn:
        counts = {t: conn.exec_driver_sql(f'SELECT count(*) FROM "{t}"').scalar_one() for t in (
            "region", "agency", "agency_alias", "document", "document_version", "report", "report_figure",
            "finding", "crawl_run", "subscriber", "tracked_finding", "finding_event", "alert", "alert_delivery")}
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    for suffix in ("-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    params_path(db).unlink(missing_ok=True)
    os.replace(tmp, db)
    for suffix in ("-wal", "-shm", "-journal"):  # the replaced file's
        Path(str(db) + suffix).unlink(missing_ok=True)
    elapsed = time.perf_counter() - t0
    stats = {
        "seconds": round(elapsed, 1), "bulk_seconds": round(t_bulk, 1),
        "size_mb": round(db.stat().st_size / 2**20, 1),
        "rows": counts, "sweeps": sweeps,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "as_of": as_of(newest).isoformat(),
    }
    recorded = {"params": params, "stats": stats}
    params_path(db).write_text(json.dumps(recorded, ensure_ascii=False, indent=1), encoding="utf-8")
    log(f"{db}: {stats['size_mb']:,.0f} MB in {elapsed:.0f} s (bulk {t_bulk:.0f} s); "
        f"peak RSS {stats['peak_rss_mb']} MB")
    log("  " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
    return recorded


def _upgrade_in_place(db: Path, params: dict[str, Any], recorded: dict[str, Any],
                      log: Callable[[str], None]) -> dict[str, Any]:
    """Bring a store generated for an older schema to params["schema"] with the migrations."""
    old = recorded["params"]["schema"]
    log(f"{db}: generated for schema {old}; upgrading it in place to {params['schema']}")
    t = time.perf_counter()
    upgrade(f"sqlite:///{db}")  # the migrations, then db.engine.analyze
    elapsed = time.perf_counter() - t
    stats = dict(recorded["stats"])
    stats["size_mb"] = round(db.stat().st_size / 2**20, 1)
    stats["upgrades"] = [*stats.get("upgrades", []),
                         {"from": old, "to": params["schema"], "seconds": round(elapsed, 1)}]
    recorded = {"params": params, "stats": stats}
    params_path(db).write_text(json.dumps(recorded, ensure_ascii=False, indent=1), encoding="utf-8")
    log(f"{db}: upgraded from schema {old} to {params['schema']} in {elapsed:.1f} s")
    return recorded


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agencies", type=int, default=DEFAULT_AGENCIES)
    ap.add_argument("--years", default=DEFAULT_YEARS, help="first-last (2020-2024) or a comma list")
    ap.add_argument("--db", default=DEFAULT_DB)
    ap.add_argument("--force", action="store_true", help="regenerate even if the file was made with these parameters")
    args = ap.parse_args(argv)
    generate(args.db, args.agencies, parse_years(args.years), force=args.force,
             log=lambda line: print(line, flush=True))


if __name__ == "__main__":
    main()
