"""JSON log lines with redaction, and who the request being served is (its id, its user)."""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(slots=True)
class RequestInfo:
    """What the access log needs to know about the request being served.

    Mutable on purpose: a dependency run in a copied context (a thread, a task) still
    reaches the same object through the context variable.
    """

    request_id: str
    user_id: str | None = None
    # The client's address: the connection's peer, or behind a trusted proxy the address its
    # X-Forwarded-For names (peerview.proxies).
    client: str | None = None


current: ContextVar[RequestInfo | None] = ContextVar("peerview_request", default=None)


def current_request_id() -> str | None:
    """The id of the request being served, or None outside a request."""
    info = current.get()
    return info.request_id if info is not None else None


def note_user(user_id: str) -> None:
    """Name the authenticated caller of the current request in its access-log line."""
    info = current.get()
    if info is not None:
        info.user_id = user_id


_EXTRA_FIELDS = ("method", "route", "status", "duration_ms", "user_id", "client")
# Defence in depth for free-text messages (exceptions especially): nothing below is ever
# logged on purpose, but a library's message might quote it.
_REDACTIONS = (
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[token]"),
    (re.compile(r"(?i)\bbearer\s+\S+"), "Bearer [token]"),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"), "[email]"),
    (re.compile(r"(?i)(\"?password\"?\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|\S+)"), r"\1[redacted]"),
)


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and access fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id is not None:
            payload["request_id"] = request_id
        for name in _EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                payload[name] = value
        if record.exc_info:
            payload["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            payload["exception"] = redact(record.exc_text)
        return json.dumps(payload, default=str)


def logging_config(level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` dict: JSON lines on stderr for every logger.

    The server's own access log is silenced; `peerview.access` replaces it without the query
    string (where tokens could travel).
    """
    level = level.upper()
    quiet = {"handlers": [], "propagate": False, "level": "WARNING"}
    passed_on = {"handlers": [], "propagate": True, "level": level}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            # granian's supervisor and workers (its Rust side logs as `_granian.*`).
            "_granian": passed_on,
            "granian.access": quiet,
        },
    }
