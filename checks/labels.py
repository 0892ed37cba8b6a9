"""Recognising table rows by their labels, whatever the report did to them.

Labels are compared after `label_core` (full/half width folded, spaces and line breaks removed,
enumerators like 1．/1./1、/（三） and trailing notes dropped); then by prefix (truncations) and
finally by fuzzy similarity (typos, PDF text-layer losses such as 其他法律行政止公开).
"""

from __future__ import annotations

from functools import lru_cache

from rapidfuzz import fuzz, process

from checks.normalize import compact, label_core
from checks.template import APPLICATION_ROWS, PROACTIVE_ROWS

_FUZZY_CUTOFF = 80.0
_MIN_PREFIX = 4


def _application_cores() -> dict[str, str]:
    cores: dict[str, str] = {}
    for rows in APPLICATION_ROWS.values():
        for spec in rows:
            cores[spec.core] = spec.key
    # Short forms real reports use for the same rows.
    cores["新收政府信息公开申请数量"] = "new"
    cores["上年结转政府信息公开申请数量"] = "carried_over"
    cores["危及三安全一稳定"] = "withheld_security_stability"
    cores["申请人无正当理由逾期不补正"] = "other_overdue_correction"
    cores["申请人逾期未按收费通知要求缴纳费用"] = "other_overdue_fee"
    cores["结转下年度继续办理"] = "carried_forward"
    cores["合计"] = "handled_total"  # （七）合计
    return cores


def _proactive_cores() -> dict[str, str]:
    cores: dict[str, str] = {}
    for rows in PROACTIVE_ROWS.values():
        for spec in rows:
            cores[spec.label] = spec.key
    cores["其他主动公开文件"] = "other_documents"  # Hubei's provincial extra row (2019–2020)
    return cores


APPLICATION_CORES = _application_cores()
PROACTIVE_CORES = _proactive_cores()
# Labels too short to match fuzzily: only exact.
_EXACT_ONLY = {"其他", "总计", "合计", "规章", "其他处理", "重复申请"}
# Labels that name a row of section 三 only inside that table (any table may have a 合计 row).
_GENERIC = frozenset({"其他", "总计", "合计"})


def _match(core: str, table: dict[str, str], extra_words: bool = True) -> str | None:
    if not core:
        return None
    key = table.get(core)
    if key is not None:
        return key
    if len(core) < _MIN_PREFIX:
        return None
    # Truncated labels (a cell cut short) and labels with extra words.
    for known, key in table.items():
        if known in _EXACT_ONLY:
            continue
        if len(known) >= _MIN_PREFIX and (known.startswith(core) or (extra_words and core.startswith(known))):
            return key
    best = process.extractOne(
        core,
        [k for k in table if k not in _EXACT_ONLY],
        scorer=fuzz.ratio,
        score_cutoff=_FUZZY_CUTOFF,
    )
    if best is not None:
        return table[best[0]]
    return None


@lru_cache(maxsize=8192)
def match_application_row(label: str) -> str | None:
    """Row key of section 三 for one label cell, or None."""
    return _match(label_core(label), APPLICATION_CORES)


@lru_cache(maxsize=8192)
def match_proactive_row(label: str) -> str | None:
    """Row key of section 二 for one label cell, or None."""
    core = label_core(label)
    key = _match(core, PROACTIVE_CORES)
    if key is None and core.endswith("规范性文件"):
        return "normative_documents"
    return key


@lru_cache(maxsize=8192)
def joins_into_label(first: str, second: str) -> bool:
    """Are two adjacent cells one row label wrapped in two ("2.其他法律行政法规" | "禁止公开")?

    Together they must read as the label itself (or a truncation or typo of it): a known label
    followed by other words ("行政处罚" | "详见附件") is a label and a value."""
    core = label_core(first + second)
    return any(_match(core, table, extra_words=False) is not None for table in (APPLICATION_CORES, PROACTIVE_CORES))


def is_generic_label(label: str) -> bool:
    """总计 / 合计 / 其他: a row of the applications table only when read inside it."""
    return label_core(label) in _GENERIC


def contains_any(text: str, words: tuple[str, ...] | list[str]) -> bool:
    c = compact(text)
    return any(w in c for w in words)
