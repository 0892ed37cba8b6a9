"""How many questions one user may ask per minute (bot.user_rate_per_minute): a sliding window of
the last minute's questions per user. A user over the limit is told once when to try again; the
further questions of that minute are dropped without a reply, so that a flood of questions does
not become a flood of answers."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

WINDOW_S = 60.0


class Verdict(Enum):
    ALLOW = "allow"
    REFUSE = "refuse"  # over the limit: say so
    DROP = "drop"  # over the limit, already told


@dataclass(slots=True)
class UserRateLimiter:
    per_minute: int
    clock: Callable[[], float] = time.monotonic
    _hits: dict[int, deque[float]] = field(default_factory=dict)
    _told: set[int] = field(default_factory=set)

    def check(self, user_id: int) -> tuple[Verdict, float]:
        """Count a question of `user_id`: whether to answer it, and (when not) the seconds until
        the user may ask again."""
        if len(self._hits) > 1000:
            self.forget_idle()
        now = self.clock()
        hits = self._hits.setdefault(user_id, deque())
        while hits and now - hits[0] >= WINDOW_S:
            hits.popleft()
        if len(hits) < self.per_minute:
            hits.append(now)
            self._told.discard(user_id)
            return Verdict.ALLOW, 0.0
        wait = max(1.0, WINDOW_S - (now - hits[0]))
        if user_id in self._told:
            return Verdict.DROP, wait
        self._told.add(user_id)
        return Verdict.REFUSE, wait

    def forget_idle(self) -> None:
        """Drop the users with no question in the last minute (keeps the table small)."""
        now = self.clock()
        for user_id in [u for u, hits in self._hits.items() if not hits or now - hits[-1] >= WINDOW_S]:
            del self._hits[user_id]
            self._told.discard(user_id)
