"""A hard time limit on one job in a crawler worker process.

checks.budget's limit (SIGALRM) ends a document's reading and checking in Python code, but a
signal handler runs only between bytecodes: a single C call that never returns (a library stuck
in a loop of its own, a lock that is never released) would hold the worker, and with it a share of
the crawl, for ever. Here a watchdog thread of the standard library (faulthandler's, in C, with
no need of the interpreter) writes where the worker is stuck to stderr and ends the process once
a job has run far past every limit it has. The crawler sees its pool broken, records the document
as failed (retried next crawl) and starts new workers.

Only for worker processes: the watchdog ends the whole process.
"""

from __future__ import annotations

import faulthandler
from collections.abc import Callable
from typing import Any

from checks.budget import DEFAULT_CHECK_SECONDS

HARD_MARGIN_S = 60.0  # past the sum of a job's own limits


def hard_limit_s(job: Any) -> float:
    """How long a DocumentJob or an ArticleJob may run before its worker is ended: a conversion,
    the page and its document read (each within the read limit), a check, and a margin."""
    page = getattr(job, "page", job)
    return page.convert_timeout + 2 * page.read_limit + DEFAULT_CHECK_SECONDS + HARD_MARGIN_S


def guarded(fn: Callable[[Any], Any], job: Any, limit_s: float) -> Any:
    """fn(job), the process ended (after its stack is written to stderr) if it is still running
    after `limit_s` seconds."""
    faulthandler.dump_traceback_later(limit_s, exit=True)
    try:
        return fn(job)
    finally:
        faulthandler.cancel_dump_traceback_later()
