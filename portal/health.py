"""``GET /health``: whether the portal can serve, and what a monitoring system should know.

Everyone gets ``{"status": "ok"}`` (503 and ``"unavailable"`` when the database cannot be read).
Callers from ``PORTAL_MONITOR_ADDRESSES`` (default: this host) also get the counts that need a
person: messages that could not be sent (dead letters), messages overdue in the outbox, each
scheduled job's last run and its failures in the last 24 hours — and ``status`` becomes
``"warning"`` while any of them is not zero. docs/operations.md shows a check for it.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlite_utils import Database
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import addresses, dates, jobs
from .db import open_db

log = logging.getLogger("portal.health")

STUCK_MINUTES = 30  # a pending message this late means no dispatcher is running


def details(db: Database) -> dict[str, Any]:
    """The counts a monitoring system watches."""
    stuck_before = (dates.now() - dt.timedelta(minutes=STUCK_MINUTES)).isoformat(timespec="seconds")
    dead, stuck = db.execute(
        "SELECT count(*) FILTER (WHERE state = 'dead'), "
        "count(*) FILTER (WHERE state = 'pending' AND next_attempt_at < ?) FROM notify_outbox",
        [stuck_before],
    ).fetchone()
    runs = jobs.states(db)
    return {
        "notify": {"dead_letters": dead, "overdue": stuck},
        "jobs": {
            r.job: {
                "last_run": r.last_started,
                "last_outcome": r.last_outcome,
                "last_summary": r.last_summary,
                "failed_24h": r.failed_24h,
            }
            for r in runs
        },
        "failed_jobs": sum(1 for r in runs if r.last_outcome == "failed"),
    }


def route(request: Request) -> Response:
    headers = {"cache-control": "no-store"}
    try:
        with open_db() as db:
            db.execute("SELECT 1 FROM _sqlite_migrations LIMIT 1").fetchone()
            extra = (
                details(db) if addresses.is_monitor(request.client.host if request.client else "") else None
            )
    except Exception:  # noqa: BLE001 - the answer is "unavailable", the cause goes to the log
        log.exception("health check: the database cannot be read")
        return JSONResponse({"status": "unavailable"}, status_code=503, headers=headers)
    if extra is None:
        return JSONResponse({"status": "ok"}, headers=headers)
    warning = extra["notify"]["dead_letters"] or extra["notify"]["overdue"] or extra["failed_jobs"]
    return JSONResponse({"status": "warning" if warning else "ok", **extra}, headers=headers)
