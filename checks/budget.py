"""A time limit on reading and checking one document.

A hostile or broken document (a PDF whose corrupted streams pdfminer decompresses byte by byte,
a page tree of a hundred thousand pages, a regular expression that backtracks) can keep a
reader busy for hours. `time_limit(seconds, reason)` ends the work inside it with
`ReadError(reason)` once the time is up.

The limit is a POSIX interval timer (SIGALRM) whose handler raises an exception in the code
being run: no thread and no process per document. It interrupts pure-Python code (pdfminer,
python-docx's walk, the parser) and `re` matching; a single C call (lxml parsing, zlib) is
interrupted when it returns, and those are bounded by the input's size. The exception
derives from BaseException, so the readers' and libraries' `except Exception` do not swallow
it; should something swallow it all the same, the timer fires again every second until the
limit's block is left.

Signal handlers can only be set in the main thread: elsewhere `time_limit` runs the block
without a limit (the CLI and the crawler's worker processes run documents in their main thread).
Limits nest: an inner limit never outlives the one around it.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from checks.document import ReadError

__all__ = ["DEFAULT_CHECK_SECONDS", "time_limit", "timeout_reason"]

# Parsing and validating a Document takes milliseconds; this is for a pathological one.
DEFAULT_CHECK_SECONDS = 60.0
_REFIRE_S = 1.0  # the timer repeats until the block is left, in case the exception was swallowed


@dataclass(eq=False, slots=True)
class _Limit:
    deadline: float  # time.monotonic()
    reason: str


class _Expired(BaseException):
    """Raised by the timer into the code under a limit; turned into ReadError by its owner."""

    def __init__(self, limit: _Limit):
        super().__init__(limit.reason)
        self.limit = limit


_stack: list[_Limit] = []  # the limits in force, outermost first (main thread only)


def timeout_reason(seconds: float, what: str = "文件") -> str:
    return f"{what}读取或检查超时（超过 {seconds:g} 秒），文件可能已损坏或结构异常，已停止处理"


def _on_alarm(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
    now = time.monotonic()
    for limit in _stack:  # the outermost expired limit wins: its owner is furthest up
        if limit.deadline <= now:
            raise _Expired(limit)
    _arm()  # fired early (clock granularity): wait for the rest


def _arm() -> None:
    if not _stack:
        signal.setitimer(signal.ITIMER_REAL, 0)
        return
    remaining = min(limit.deadline for limit in _stack) - time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, max(remaining, 0.001), _REFIRE_S)


@contextmanager
def time_limit(seconds: float | None, reason: str | None = None) -> Iterator[None]:
    """Run the block for at most `seconds`, then raise ReadError(reason). None or a value
    <= 0 means no limit, and so does running outside the main thread or while another
    SIGALRM timer (not ours) is running."""
    if seconds is None or seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return
    if not _stack and signal.getitimer(signal.ITIMER_REAL)[0] > 0:
        yield  # someone else's timer is running: do not take it over
        return
    limit = _Limit(time.monotonic() + seconds, reason or timeout_reason(seconds))
    try:
        try:
            _enter(limit)
            yield
        finally:
            _leave(limit)
    except _Expired as exc:
        if exc.limit is not limit and exc.limit in _stack:
            raise  # an enclosing limit expired: its owner reports it
        # Retryable: on a machine this busy, the same document may read in time later.
        raise ReadError(limit.reason, retryable=True) from None


_previous_handler: object = None


def _enter(limit: _Limit) -> None:
    global _previous_handler
    if not _stack:
        _previous_handler = signal.signal(signal.SIGALRM, _on_alarm)
    _stack.append(limit)
    _arm()


def _leave(limit: _Limit) -> None:
    """Take the limit off and re-arm for the enclosing one (or disarm), with SIGALRM blocked so
    that no alarm interrupts the bookkeeping half-way."""
    while True:
        try:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            break
        except _Expired:
            pass  # fired just before the block: the interval timer fires again for whoever needs it
    try:
        if limit in _stack:
            _stack.remove(limit)
        _arm()
        if not _stack:
            if signal.SIGALRM in signal.sigpending():
                signal.sigtimedwait({signal.SIGALRM}, 0)  # consume it: the default action would end the process
            signal.signal(signal.SIGALRM, _previous_handler if _previous_handler is not None else signal.SIG_DFL)
    finally:
        # A pending alarm of an enclosing limit is delivered here, after the bookkeeping.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})
