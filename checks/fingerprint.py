"""A small sketch of a report's own prose, to find reports whose text is (nearly) the same as
another's (内容雷同) without keeping the text.

The prose is cut into sentences; what every report shares by design is dropped first: the
template's section headings, and anything that only differs by numbers (digits become one
placeholder, so a report copied from last year with the year changed still matches). Each
remaining sentence is hashed (blake2b, 63 bits, stable across processes and machines) and the
`SKETCH_SIZE` smallest distinct hashes are kept: a bottom-k sketch. Two sketches estimate the
Jaccard similarity of the two sentence sets (compliance.verdicts.sketch_similarity).
"""

from __future__ import annotations

import hashlib
import re

from checks.model import Report
from checks.normalize import compact
from checks.template import SECTION_TITLES

SKETCH_SIZE = 64
MIN_SENTENCE = 8  # characters (after normalisation): shorter ones are headings, labels, dates

_SENTENCE_END = re.compile(r"[。！？；;!?\n]+")
_DIGITS = re.compile(r"[0-9０-９〇零一二三四五六七八九十百千万亿两]+(?:\.[0-9]+)?")
_NOISE = re.compile(r"[\s，,、：:（）()《》“”\"'‘’「」【】\[\]—\-…·.]+")
_HEADINGS = frozenset(compact(title) for title in SECTION_TITLES.values())


def sentences(text: str, agency: str | None = None) -> list[str]:
    """The normalised sentences of `text`: no spaces or punctuation, numbers replaced, the
    agency's own name replaced (another agency's copy names itself), template headings dropped."""
    out = []
    own = _NOISE.sub("", agency) if agency else None
    # No NFKC (it was most of the cost): the patterns cover full- and half-width punctuation
    # and digits, which is what a copy would differ in.
    for raw in _SENTENCE_END.split(text):
        s = _NOISE.sub("", raw)
        if own:
            s = s.replace(own, "@")
        s = _DIGITS.sub("#", s)
        if len(s) < MIN_SENTENCE or any(h in s and len(s) - len(h) < 6 for h in _HEADINGS):
            continue
        out.append(s)
    return out


def _hash(sentence: str) -> int:
    return int.from_bytes(hashlib.blake2b(sentence.encode("utf-8"), digest_size=8).digest(), "big") >> 1


def text_sketch(report: Report) -> list[int]:
    """The bottom-k sketch of the report's prose, ascending; empty when it has no prose."""
    hashes = {_hash(s) for s in sentences(report.text, report.agency)}
    return sorted(hashes)[:SKETCH_SIZE]
