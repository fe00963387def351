"""Structured logs: the session and job a log line belongs to, and a JSON line format.

Invariants:

* The ids come from context variables (:data:`SESSION_ID`, :data:`JOB_ID`) set
  by whoever runs work for a session or a job (a job's activities, a turn); a
  :class:`ContextFilter` on the handler copies them onto every record, so code
  that logs need not pass them.
* A JSON line holds the time, level, logger, message and those ids (and the
  exception's type and text, never a traceback's locals); it is what the
  message is — nothing is added from the environment, so no secret reaches a
  log through this module.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

SESSION_ID: ContextVar[str | None] = ContextVar("agentcore_session_id", default=None)
JOB_ID: ContextVar[str | None] = ContextVar("agentcore_job_id", default=None)
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(ids)s: %(message)s"


class ContextFilter(logging.Filter):
    """Adds ``session_id``, ``job_id`` and ``ids`` (" [job=… session=…]" or "") to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.session_id = getattr(record, "session_id", None) or SESSION_ID.get()
        record.job_id = getattr(record, "job_id", None) or JOB_ID.get()
        parts = [f"job={record.job_id}" if record.job_id else "", f"session={record.session_id}" if record.session_id else ""]
        record.ids = f" [{' '.join(p for p in parts if p)}]" if any(parts) else ""
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "session_id": getattr(record, "session_id", None),
            "job_id": getattr(record, "job_id", None),
        }
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            line["error"] = f"{type(exc).__name__}: {exc}"
        return json.dumps(line, ensure_ascii=False)


def configure(stream: TextIO, fmt: str = "text", level: int = logging.INFO) -> logging.Handler:
    """Log to ``stream`` in ``fmt`` (text or json) with the ids; returns the root handler."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    return handler
