"""Example questions: the three closest to a question the engine did not understand.

Closest means sharing what the question did name: what is asked (kind), the figure, a year, an
agency- or region-like name; the characters in common (rapidfuzz) break ties. The examples are
filled with the question's own year and figure and with names from the store, so that each one
answers. Deterministic; pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.ask.parse import AGENCY_SUFFIX, APPLICATIONS, Intent, parse


@dataclass(frozen=True, slots=True)
class Example:
    kind: str  # the parser's kind; "agency" for the agency questions
    template: str  # {year} {region} {agency} {figure}
    applications_only: bool = False  # reads well only with 申请


EXAMPLES: tuple[Example, ...] = (
    Example("received", "{year}哪些单位收到了申请", True),
    Example("received", "{year}哪些单位有{figure}"),
    Example("ranking", "{year}{figure}最多的前10个单位"),
    Example("ranking", "{year}{region}{figure}最少的5个局"),
    Example("total", "{region}{year}共收到多少申请", True),
    Example("total", "{region}{year}{figure}多少件"),
    Example("agency", "{agency}{year}收到多少申请", True),
    Example("agency", "{agency}{year}{figure}多少件"),
    Example("history", "{agency}历年{figure}数"),
    Example("late", "{year}哪些局逾期发布"),
    Example("late", "{year}{region}哪些单位逾期发布"),
    Example("missing", "{year}哪些单位未发布年报"),
    Example("inconsistent", "{year}哪些单位数据不一致"),
    Example("findings", "{agency}历年合规情况"),
    Example("reports", "{year}收录了多少份报告"),
    Example("overview", "{region}{year}的情况"),
)

DEFAULTS = {"year": "去年", "region": "浙江省", "agency": "镇海区人社局", "figure": "行政处罚"}


def suggest(question: str, intent: Intent | None = None, *, names: dict[str, str] | None = None,
            count: int = 3) -> list[str]:
    """`count` example questions closest to `question`, filled with its year and figure and with
    `names` (year, region, agency: what the store holds) for the rest. The closest first; among
    equally close ones, different kinds of question before a second of the same kind."""
    intent = intent or parse(question)
    fill = {**DEFAULTS, **{k: v for k, v in (names or {}).items() if v}}
    if intent.has_year:
        fill["year"] = f"{intent.year}年" if intent.year is not None else \
            {0: "今年", -1: "去年", -2: "前年", -3: "大前年"}.get(intent.relative_year or 0, "去年")
    figure_named = intent.figure is not None and intent.figure_words is not None
    if figure_named:
        fill["figure"] = _figure_words(intent)
    asked = intent.guess or intent.kind
    agency_like = bool(intent.subject and AGENCY_SUFFIX.search(intent.subject))
    region_like = bool(intent.subject) and not agency_like

    candidates: list[tuple[float, str, str]] = []  # (score, kind, text), in EXAMPLES order
    for index, example in enumerate(EXAMPLES):
        if example.applications_only and figure_named and intent.figure != APPLICATIONS:
            continue
        text = example.template.format(**fill)
        uses = example.template
        score = 3 - index * 0.2  # the first examples are the commonest questions
        about_agency = example.kind == "agency" and agency_like and asked in ("total", "overview")
        if asked == example.kind or about_agency:
            score += 40
        if figure_named and ("{figure}" in uses or example.applications_only):
            score += 25
        if agency_like and "{agency}" in uses:
            score += 15
        if region_like and "{region}" in uses:
            score += 15
        if intent.has_year and "{year}" in uses:
            score += 5
        if intent.which and "哪" in uses:
            score += 5
        score += fuzz.partial_ratio(question, text) / 5
        candidates.append((score, example.kind, text))
    out: list[str] = []
    kinds: list[str] = []
    while candidates and len(out) < count:
        best = max(candidates, key=lambda c: c[0] - 12 * kinds.count(c[1]))
        candidates.remove(best)
        if best[2] not in out:
            out.append(best[2])
            kinds.append(best[1])
    return out


def _figure_words(intent: Intent) -> str:
    """The figure as the question named it, or its label."""
    from query.fields import figure

    words = intent.figure_words or ""
    label = figure(intent.figure).label if intent.figure else ""
    return words if 2 <= len(words) <= 8 else label
