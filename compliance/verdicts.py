"""Verdicts that no single report can give: late, missing, site unreachable, a site's list emptied,
carryover mismatch, copied text, implausible year-on-year changes, conflicting copies. Pure: facts in, verdicts out.

The sweep (compliance.sweep) loads the facts from the store and tracks what comes out
(compliance.lifecycle).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain, compress, filterfalse, islice, repeat
from typing import Any

from checks.model import CST
from checks.normalize import show_number
from checks.template import APPLICANT_COLUMNS, COLUMN_LABELS

# Evidence for a publication date, in Chinese, for messages.
SOURCE_NAMES = {
    "page": "页面上的发布日期", "meta": "页面 PubDate 元数据", "gkmlpt": "页面内嵌的发布信息",
    "article": "页面上的发布日期", "list": "栏目列表页上的日期", "first_seen": "首次发现时间",
    "url": "网址中的日期",
}  # fmt: skip
# Dates that only bound the publication date from above: lateness measured on them is a warning.
UNCERTAIN_SOURCES = frozenset({"first_seen", "url"})


@dataclass(frozen=True, slots=True)
class Verdict:
    """A finding about an agency's year, before it is tracked. `where` makes it unique within
    (agency, year, rule)."""

    agency_id: int
    year: int
    rule: str
    severity: str
    message: str
    where: str = ""
    report_id: int | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AgencyFacts:
    id: int
    name: str
    level: str | None
    region_code: str | None
    site: str | None


@dataclass(frozen=True, slots=True)
class ReportFacts:
    id: int
    agency_id: int
    year: int
    applications: Mapping[str, Mapping[str, float | None]]
    proactive: Mapping[str, Mapping[str, float | None]] = field(default_factory=dict)
    review_litigation: Mapping[str, Mapping[str, float | None]] = field(default_factory=dict)
    published_at: datetime | None = None
    published_source: str | None = None
    url: str | None = None
    site: str | None = None
    sketch: Sequence[int] = ()


@dataclass(frozen=True, slots=True)
class SiteCrawls:
    """What the crawl runs of a site since a date say."""

    succeeded: bool  # a crawl finished ok or partial
    failed: bool  # a crawl failed outright
    last_error: str | None = None


def _n(value: float | None) -> str:
    return show_number(value, blank="空")


def _plain(value: float | None) -> float | None:
    """A figure as evidence: the sweep reads figures from report_figure, as floats; a count is
    written as the int the report's data holds (3, not 3.0)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


# ---- late, missing, unreachable ------------------------------------------------------------


def late(report: ReportFacts, deadline: date) -> Verdict | None:
    """Published after the deadline: an error with the days late and the evidence; a warning when
    the only date is when the crawler first saw it or the URL's (the report may be older)."""
    if report.published_at is None:
        return None
    published = report.published_at.astimezone(CST).date()
    if published <= deadline:
        return None
    days = (published - deadline).days
    source = report.published_source or "first_seen"
    uncertain = source in UNCERTAIN_SOURCES
    message = (f"{report.year}年度报告于{_day(published)}发布，晚于法定期限{_day(deadline)}，逾期 {days} 天"
               f"（依据：{SOURCE_NAMES.get(source, source)}）")
    if uncertain:
        message += "；页面未标明发布日期，实际发布可能更早，请人工核实"
    return Verdict(
        report.agency_id, report.year, "late", "warning" if uncertain else "error", message,
        report_id=report.id,
        evidence={"published": published.isoformat(), "source": source, "deadline": deadline.isoformat(),
                  "days_late": days, "url": report.url},
    )


def missing(agency: AgencyFacts, year: int, deadline: date, today: date, crawls: SiteCrawls | None) -> Verdict | None:
    """For an agency without a report on `year`: missing_report once the deadline has passed and a
    crawl of its site has succeeded since; site_unreachable when crawls since then only failed;
    nothing while it cannot be known (before the deadline, site never crawled since, no site)."""
    if today <= deadline or crawls is None:
        return None
    evidence = {"deadline": deadline.isoformat(), "site": agency.site}
    if crawls.succeeded:
        return Verdict(agency.id, year, "missing_report", "error",
                       f"法定期限{_day(deadline)}已过，在{agency.site or '其公开'}站点未找到{year}年度报告",
                       evidence=evidence)
    if crawls.failed:
        reason = f"（{crawls.last_error}）" if crawls.last_error else ""
        return Verdict(agency.id, year, "site_unreachable", "warning",
                       f"站点“{agency.site}”自{_day(deadline)}以来无法抓取{reason}，无法判断{year}年度报告是否已发布",
                       where=agency.site or "", evidence={**evidence, "error": crawls.last_error})
    return None


def list_emptied(agency: AgencyFacts, year: int, error: str) -> Verdict:
    """The latest crawl of the agency's site read its lists, and they named no report where earlier
    crawls listed some (db.crawlstate.LIST_EMPTIED_MARK): the site was redesigned and the crawler
    may need updating. A warning for whoever runs the crawler, routed like any finding; such a
    crawl counts as failed, so the agency's reports are not called missing meanwhile."""
    return Verdict(agency.id, year, "list_emptied", "warning",
                   f"站点“{agency.site}”的列表页没有返回任何条目，网站可能已改版，抓取程序可能需要更新"
                   f"（{error}）",
                   where=agency.site or "", evidence={"site": agency.site, "error": error})


# ---- across years -------------------------------------------------------------------------


def carryover(this: ReportFacts, last: ReportFacts) -> Verdict | None:
    """This year's 上年结转 must equal last year's 结转下年度继续办理, column by column (blank cells
    are not compared)."""
    now = this.applications.get("carried_over") or {}
    before = last.applications.get("carried_forward") or {}
    diffs = []
    for col in APPLICANT_COLUMNS:
        a, b = now.get(col), before.get(col)
        if a is not None and b is not None and a != b:
            diffs.append((col, a, b))
    if not diffs:
        return None
    detail = "；".join(f"{COLUMN_LABELS.get(c, c)}：本年上年结转 {_n(a)}，上年结转下年度 {_n(b)}"
                      for c, a, b in diffs)
    return Verdict(
        this.agency_id, this.year, "carryover_mismatch", "error",
        f"{this.year}年度报告的“上年结转政府信息公开申请数量”与{last.year}年度报告的“结转下年度继续办理”不一致：{detail}",
        where="三、二、上年结转", report_id=this.id,
        evidence={"previous_report_id": last.id, "columns": {c: [_plain(a), _plain(b)] for c, a, b in diffs}},
    )


# Figures compared year on year: (section, row, column, Chinese name).
JUMP_FIGURES = (
    ("applications", "new", "total", "本年新收政府信息公开申请数量"),
    ("review_litigation", "review", "total", "行政复议总计"),
    ("review_litigation", "litigation_direct", "total", "未经复议直接起诉总计"),
    ("proactive", "licensing", "decisions", "行政许可处理决定数量"),
    ("proactive", "punishment", "decisions", "行政处罚处理决定数量"),
)
JUMP_RATIO = 10.0
# Every table cell that carryover and jumps read, as (section, row, column): what the sweep loads
# of each report (conflicting_copies compares whole tables, loaded only where there are copies).
FIGURES_READ: tuple[tuple[str, str, str], ...] = tuple(dict.fromkeys(
    [("applications", "carried_over", c) for c in APPLICANT_COLUMNS]
    + [("applications", "carried_forward", c) for c in APPLICANT_COLUMNS]
    + [(section, row, col) for section, row, col, _ in JUMP_FIGURES]))
JUMP_MIN_DIFFERENCE = 50  # 1 → 10 is not worth a note; 30 → 300 is


def jumps(this: ReportFacts, last: ReportFacts) -> list[Verdict]:
    """Implausible changes (×10 or ÷10 and at least 50 apart) as info: often a typo, sometimes real."""
    out = []
    for section, row, col, name in JUMP_FIGURES:
        a = (getattr(this, section).get(row) or {}).get(col)
        b = (getattr(last, section).get(row) or {}).get(col)
        if a is None or b is None or abs(a - b) < JUMP_MIN_DIFFERENCE:
            continue
        low, high = min(a, b), max(a, b)
        if low == 0 or high / low >= JUMP_RATIO:
            out.append(Verdict(
                this.agency_id, this.year, "implausible_change", "info",
                f"{name}由{last.year}年度的 {_n(b)} 变为 {_n(a)}，变化异常，请核实是否填报有误",
                where=f"{section}.{row}.{col}", report_id=this.id,
                evidence={"previous_report_id": last.id, "previous": _plain(b), "current": _plain(a)},
            ))
    return out


# ---- copied text --------------------------------------------------------------------------

DUPLICATE_SIMILARITY = 0.8  # estimated Jaccard similarity of the two reports' sentence sets
MIN_SENTENCES = 8  # sketches smaller than this (after common sentences are dropped) say too little
_CANDIDATE_KEYS = 8  # the smallest hashes of each sketch index it for candidate pairs
COMMON_SHARE = 0.02  # a sentence in more than this share of the year's reports is boilerplate


def sketch_similarity(a: Sequence[int], b: Sequence[int], k: int) -> float:
    """Jaccard similarity estimated from two bottom-k sketches (Broder): of the k smallest hashes
    of the union, the share present in both."""
    sa, sb = set(a), set(b)
    union = sorted(sa | sb)[:k]
    if not union:
        return 0.0
    return len((sa & sb).intersection(union)) / len(union)


# Below this many sketches, common_hashes counts in one pass; above, in blocks (see there).
_BLOCKS_FROM = 20_000
_BLOCKS = 32


def common_hashes(sketches: Iterable[Sequence[int]], share: float = COMMON_SHARE, floor: int = 3) -> set[int]:
    """Sentence hashes that occur in many reports: the boilerplate every report writes.

    A year of the whole country is ~10 million hashes, nearly all of them unique. They are counted
    block by block (small tables, C loops): a hash that occurs more than `limit` times in all
    occurs at least ceil((limit + 1) / blocks) times in some block, so only those candidates are
    then counted exactly over every sketch."""
    sketches = sketches if isinstance(sketches, list) else list(sketches)
    n = len(sketches)
    limit = max(floor, int(n * share))
    if n < _BLOCKS_FROM:
        counts = Counter(chain.from_iterable(sketches))
        return {h for h, c in counts.items() if c > limit}
    need = -(-(limit + 1) // _BLOCKS)
    size = -(-n // _BLOCKS)
    candidates: set[int] = set()
    for start in range(0, n, size):
        block = Counter(chain.from_iterable(sketches[start:start + size]))
        candidates.update(compress(block, map(need.__le__, block.values())))  # c >= need, in C loops
    counts = Counter(filter(candidates.__contains__, chain.from_iterable(sketches)))
    return {h for h, c in counts.items() if c > limit}


def duplicates(reports: Sequence[ReportFacts], names: Mapping[int, str], *, common: set[int] | None = None,
               k: int = 64) -> list[Verdict]:
    """Reports whose prose is (nearly) the same as another report's: another year of the same
    agency, or another agency's. One verdict per report and other report; common sentences
    (boilerplate, `common`) are ignored. Candidates come from shared small hashes, so this is
    near-linear in the number of reports."""
    common = common or set()
    is_common = common.__contains__
    by_id = {r.id: r for r in reports}
    # Only the first _CANDIDATE_KEYS hashes left after dropping the common ones index a report (and
    # tell whether it has MIN_SENTENCES); the whole trimmed sketch is only needed for candidates.
    # Nearly every hash heads one report: those go into `first` in one C call per report, and only
    # a head that meets another report's gets a list (`shared`).
    first: dict[int, int] = {}
    first_keys = first.keys()
    shared: dict[int, list[int]] = {}
    want = max(_CANDIDATE_KEYS, MIN_SENTENCES)
    for rid, r in by_id.items():
        head = list(islice(filterfalse(is_common, r.sketch), want))
        if len(head) < MIN_SENTENCES:
            continue
        del head[_CANDIDATE_KEYS:]
        if first_keys.isdisjoint(head):
            first.update(zip(head, repeat(rid)))
            continue
        for h in head:
            other = first.setdefault(h, rid)
            if other != rid:
                ids = shared.get(h)
                if ids is None:
                    shared[h] = [other, rid]
                else:
                    ids.append(rid)
    pairs: set[tuple[int, int]] = set()
    for ids in shared.values():
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                pairs.add((min(a, b), max(a, b)))
    out = []
    for a, b in sorted(pairs):
        ra, rb = by_id[a], by_id[b]
        if ra.agency_id == rb.agency_id and ra.year == rb.year:
            continue
        # Most candidates share a few sentences, far from enough. The hashes of the k smallest of
        # the union present in both are at most all hashes present in both: below the threshold
        # with those, below it with these, and no need to sort the union.
        sa, sb = set(ra.sketch) - common, set(rb.sketch) - common  # what the trimmed sketches hold
        both = len(sa & sb)
        if not both or both / min(k, len(sa) + len(sb) - both) < DUPLICATE_SIMILARITY:
            continue
        similarity = sketch_similarity([h for h in ra.sketch if h not in common],
                                       [h for h in rb.sketch if h not in common], k)
        if similarity < DUPLICATE_SIMILARITY:
            continue
        for this, other in ((ra, rb), (rb, ra)):
            same_agency = this.agency_id == other.agency_id
            whom = f"本单位{other.year}年度报告" if same_agency else f"{names.get(other.agency_id, '另一单位')}{other.year}年度报告"
            out.append(Verdict(
                this.agency_id, this.year, "duplicate_content", "warning",
                f"报告正文与{whom}高度雷同（相似度约 {similarity:.0%}，已忽略模板固定文字和数字），请核实是否照抄",
                where=f"report:{other.id}", report_id=this.id,
                evidence={"other_report_id": other.id, "other_agency_id": other.agency_id,
                          "other_year": other.year, "similarity": round(similarity, 3)},
            ))
    return out


# ---- copies on several sites --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Copy:
    """A document holding the agency's report on the year, as read from one URL."""

    document_id: int
    url: str
    site: str | None
    tables: Mapping[str, Any]  # applications, proactive, review_litigation


def conflicting_copies(report: ReportFacts, copies: Sequence[Copy]) -> list[Verdict]:
    """Copies of the same report (same agency and year) whose tables differ from the stored one."""
    mine = {"applications": report.applications, "proactive": report.proactive,
            "review_litigation": report.review_litigation}
    out = []
    for copy in copies:
        if copy.url == report.url:
            continue
        differing = [name for name, table in mine.items() if (copy.tables.get(name) or {}) != (table or {})]
        if differing:
            out.append(Verdict(
                report.agency_id, report.year, "conflicting_copies", "warning",
                f"同一年度报告在{copy.site or '另一网址'}上的版本与已收录版本数据不同（{copy.url}），请核实以哪个为准",
                where=copy.url, report_id=report.id,
                evidence={"document_id": copy.document_id, "url": copy.url, "differing": differing},
            ))
    return out
