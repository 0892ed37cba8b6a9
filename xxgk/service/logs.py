"""Structured logs for `xxgk serve`: one line per event on stderr, key=value (or JSON).

    ts=2026-01-05T02:00:00.120+08:00 level=info event=crawl.site site=lianjiang-trs status=ok reports=5

`event(log, "crawl.site", site=…, status=…)` logs an event with fields; records from libraries
(APScheduler, python-telegram-bot) get `logger=` and `msg=`. An exception becomes `error=` and a
one-line `traceback=`. Secrets (the bot token, the database password: xxgk.config.secret_values)
are blanked out of every line, whatever logged it, tracebacks and warnings included; httpx,
httpcore and python-telegram-bot, whose debug logs hold the token in the Bot API's URLs, only log
warnings, --verbose or not.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from checks.model import CST

_BARE = re.compile(r"[^\s\"'=\\]+")
_SECRETS_MASK = "<secret>"


def event(log: logging.Logger, name: str, /, *, level: int = logging.INFO, exc_info: Any = None,
          **fields: Any) -> None:
    """Log event `name` with `fields` (values: str, numbers, bools, lists, None)."""
    if log.isEnabledFor(level):
        log.log(level, name, exc_info=exc_info, extra={"event": name, "fields": fields})


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") or "0"
    if isinstance(value, (list, tuple, set)):
        value = ",".join(str(v) for v in value)
    text = str(value)
    if text and _BARE.fullmatch(text):
        return text
    return json.dumps(text, ensure_ascii=False)


class EventFormatter(logging.Formatter):
    def __init__(self, *, as_json: bool = False, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.as_json = as_json
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)  # longest first

    def _fields(self, record: logging.LogRecord) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, CST).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
        }
        name = getattr(record, "event", None)
        if name is not None:
            out["event"] = name
            out.update(getattr(record, "fields", {}) or {})
        else:
            out["logger"] = record.name
            out["msg"] = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            out["error"] = f"{type(exc).__name__}: {exc}"
            out["traceback"] = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        return out

    def format(self, record: logging.LogRecord) -> str:
        fields = self._fields(record)
        if self.as_json:
            line = json.dumps(fields, ensure_ascii=False, default=str)
        else:
            line = " ".join(f"{key}={_value(value)}" for key, value in fields.items() if value is not None)
        for secret in self.secrets:
            line = line.replace(secret, _SECRETS_MASK)
        return line


def setup(*, verbose: bool = False, as_json: bool = False, secrets: Iterable[str] = ()) -> None:
    """Route every log record to stderr through EventFormatter. `verbose`: the service's debug
    events and the scheduler's own lines (job submitted, executed) too."""
    handler = logging.StreamHandler()
    handler.setFormatter(EventFormatter(as_json=as_json, secrets=secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)  # warnings too go through the formatter (and its blanking)
    logging.getLogger("xxgk").setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.INFO if verbose else logging.WARNING)
    for noisy in ("telegram", "httpx", "httpcore", "aiohttp", "apprise", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
