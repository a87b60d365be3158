"""Logs: one set-up, used by every command, writing one line per event to stderr.

``PORTAL_LOG_FORMAT=json`` (the default) writes JSON lines (python-json-logger), one object per
event: ``time`` (ISO 8601, Beijing time, milliseconds), ``level``, ``logger``, ``message`` and the
event's own fields (``status``, ``path``, ``address`` …), which journald and syslog collectors
keep as they are. ``plain`` writes the same as text::

    2026-11-24T10:00:00.123+08:00 INFO portal.request: GET /cases 200 12 ms status=200 path=/cases …

Streamlit's, uvicorn's and websockets' own loggers are brought under the same handler
(``adopt``): their lines come out in the same format instead of Streamlit's banner-style text.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from . import config

TZ = dt.timezone(dt.timedelta(hours=8))  # Beijing time, as portal.dates (no import: dates is above us)
LIBRARIES = ("streamlit", "uvicorn", "websockets", "tornado", "watchdog")
_SKIP = set(RESERVED_ATTRS) | {"taskName", "color_message"}


def _stamp(record: logging.LogRecord) -> str:
    return dt.datetime.fromtimestamp(record.created, TZ).isoformat(timespec="milliseconds")


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """The event's own fields (``extra=``): what is not a standard attribute of a log record."""
    return {k: v for k, v in record.__dict__.items() if k not in _SKIP and not k.startswith("_")}


class JsonLines(JsonFormatter):
    def __init__(self) -> None:
        super().__init__(
            ["asctime", "levelname", "name", "message"],
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
            reserved_attrs=sorted(_SKIP),
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return _stamp(record)


class PlainLines(logging.Formatter):
    """``time LEVEL logger: message key=value …`` — one line per event (newlines escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"{_stamp(record)} {record.levelname} {record.name}: {record.getMessage()}"
        extra = " ".join(f"{k}={v}" for k, v in fields(record).items())
        if extra:
            text += " " + extra
        if record.exc_info:
            text += " | " + self.formatException(record.exc_info)
        return text.replace("\r", "\\r").replace("\n", "\\n")


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (a test runner swaps it per test)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # noqa: ANN201
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # noqa: ANN001
        pass


_OURS = "portal_handler"


def setup(format: str | None = None, level: str | None = None) -> logging.Handler:
    """Send every log line to stderr in the configured format (idempotent; returns the handler)."""
    found = config.settings()
    handler = _Stderr()
    handler.setFormatter(JsonLines() if (format or found.log_format) == "json" else PlainLines())
    setattr(handler, _OURS, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level or found.log_level)
    logging.getLogger("portal").setLevel(level or found.log_level)
    adopt()
    return handler


def teardown(handler: logging.Handler) -> None:
    """Remove the handler ``setup`` added (a command run inside another process, as in tests)."""
    logging.getLogger().removeHandler(handler)


_adopted = 0


def adopt() -> None:
    """Bring the libraries' own loggers (which write to stderr themselves and do not propagate)
    under our handler: their handlers go, their lines propagate. Cheap when nothing new appeared."""
    global _adopted
    known = logging.root.manager.loggerDict
    if len(known) == _adopted:
        return
    _adopted = len(known)
    for name, logger in list(known.items()):
        if not isinstance(logger, logging.Logger) or name.split(".")[0] not in LIBRARIES:
            continue
        for handler in list(logger.handlers):
            if isinstance(handler, logging.StreamHandler) and not getattr(handler, _OURS, False):
                logger.removeHandler(handler)
        logger.propagate = True


def uvicorn_config() -> dict[str, Any]:
    """A logging configuration for uvicorn that keeps its lines under our handler (its default
    one gives uvicorn a handler of its own); uvicorn's access log stays off (we log requests)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        # uvicorn sets use_colors on these two: they must exist, though nothing uses them
        "formatters": {"default": {"format": "%(message)s"}, "access": {"format": "%(message)s"}},
        "loggers": {
            "uvicorn": {"level": "INFO", "propagate": True, "handlers": []},
            "uvicorn.error": {"level": "INFO", "propagate": True, "handlers": []},
            "uvicorn.access": {"level": "WARNING", "propagate": False, "handlers": []},
        },
    }
