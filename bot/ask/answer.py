"""What the engine answers: plain data that the renderers (bot.ask.render) turn into terminal text
or Telegram HTML. Every string here is plain text, unescaped: store and user text included."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.ask.parse import Intent
from query.api import Table

Status = Literal["ok", "choose", "not_understood", "not_found", "no_data"]


@dataclass(frozen=True, slots=True)
class Choice:
    """One candidate when a name matches several agencies or regions: a button in the bot. Answer
    again with its `agency_id` or `region_code`."""

    label: str
    agency_id: int | None = None
    region_code: str | None = None


@dataclass(slots=True)
class Answer:
    """An answer to one question, one page of it.

    `summary`: the headline lines shown on every page (「浙江省2021年度本年新收申请合计 118 件」);
    `items`: this page's lines of the list, from `offset`; `total`: the list's length over every
    page; `basis`: 「按已收录的 N 份报告统计」. For an ambiguous name `choices`; for a question not
    understood `suggestions` (three example questions close to it). `table`: the query layer's table
    behind the page (for --json).
    """

    status: Status
    question: str
    title: str
    summary: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    basis: str | None = None
    notes: list[str] = field(default_factory=list)
    offset: int = 0
    limit: int | None = None
    total: int = 0
    choices: list[Choice] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    intent: Intent | None = None
    table: Table | None = None
    year: int | None = None  # the report year answered (今年/去年 resolved, or the default one)

    @property
    def next_offset(self) -> int | None:
        """Where the next page starts, or None on the last page."""
        end = self.offset + len(self.items)
        return end if end < self.total and self.items else None

    @property
    def prev_offset(self) -> int | None:
        """Where the previous page starts (with this page's size), or None on the first page."""
        if self.offset <= 0:
            return None
        return max(0, self.offset - (self.limit or len(self.items) or 1))

    @property
    def paged(self) -> bool:
        return self.total > len(self.items) or self.offset > 0

    def to_dict(self) -> dict[str, Any]:
        from query.render import to_json

        return {
            "status": self.status,
            "question": self.question,
            "year": self.year,
            "title": self.title,
            "summary": self.summary,
            "items": self.items,
            "basis": self.basis,
            "notes": self.notes,
            "offset": self.offset,
            "limit": self.limit,
            "total": self.total,
            "next_offset": self.next_offset,
            "choices": [{"label": c.label, "agency_id": c.agency_id, "region_code": c.region_code}
                        for c in self.choices],
            "suggestions": self.suggestions,
            "intent": _intent_dict(self.intent),
            "table": json.loads(to_json(self.table)) if self.table is not None else None,
        }


def _intent_dict(intent: Intent | None) -> dict[str, Any] | None:
    if intent is None:
        return None
    return {k: (list(v) if isinstance(v, tuple) else v) for k in intent.__slots__
            if (v := getattr(intent, k)) is not None}
