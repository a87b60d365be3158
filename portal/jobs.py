"""What the scheduled jobs did: each run of a job is a row of ``job_runs`` (started, finished,
outcome, a one-line summary) and a log line, so that a run that failed shows on the health route
(``portal.health``) until a later run succeeds, not only as an exit status once.

    with jobs.run("notify.run") as job:
        report = dispatch.run_once(db)
        job.summary = report.describe()

A run that raises is recorded as failed (with the exception's text) and the exception goes on.
Runs are kept ``KEEP_DAYS`` days.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlite_utils import Database

from . import dates
from .db import inserted_id, open_db, write

log = logging.getLogger("portal.jobs")

KEEP_DAYS = 30


@dataclass
class Run:
    job: str
    id: int
    summary: str = ""
    failed: bool = False  # a run may end normally and still count as failed (nothing could be sent)


@contextmanager
def run(job: str) -> Iterator[Run]:
    """Record one run of ``job`` around the block (a connection of its own: what the block does
    in its own transactions is not undone by the record, nor the record by a failing block)."""
    with open_db() as db, write(db, housekeeping=True):
        cursor = db.execute("INSERT INTO job_runs (job, started_at) VALUES (?, ?)", [job, dates.stamp()])
    current = Run(job, inserted_id(cursor))
    log.info("%s started", job, extra={"job": job})
    try:
        yield current
    except BaseException as exc:
        _finish(current, "failed", f"{type(exc).__name__}: {exc}"[:500])
        log.error("%s failed", job, exc_info=exc, extra={"job": job})
        raise
    outcome = "failed" if current.failed else "ok"
    _finish(current, outcome, current.summary[:500])
    (log.error if current.failed else log.info)(
        "%s %s: %s", job, outcome, current.summary, extra={"job": job, "outcome": outcome}
    )


def _finish(current: Run, outcome: str, summary: str) -> None:
    with open_db() as db, write(db, housekeeping=True):
        db.execute(
            "UPDATE job_runs SET finished_at = ?, outcome = ?, summary = ? WHERE id = ?",
            [dates.stamp(), outcome, summary, current.id],
        )
        cutoff = (dates.now() - dt.timedelta(days=KEEP_DAYS)).isoformat(timespec="seconds")
        db.execute("DELETE FROM job_runs WHERE started_at < ?", [cutoff])


@dataclass(frozen=True)
class JobState:
    job: str
    last_started: str
    last_outcome: str  # ok, failed, running
    last_summary: str
    failed_24h: int


def states(db: Database) -> list[JobState]:
    """Each job's last run and how many of its runs failed in the last 24 hours."""
    since = (dates.now() - dt.timedelta(hours=24)).isoformat(timespec="seconds")
    rows = db.execute(
        "SELECT j.job, j.started_at, j.outcome, j.summary, "
        "(SELECT count(*) FROM job_runs f WHERE f.job = j.job AND f.outcome = 'failed' AND f.started_at >= ?) "
        "FROM job_runs j WHERE j.id = (SELECT max(id) FROM job_runs k WHERE k.job = j.job) ORDER BY j.job",
        [since],
    ).fetchall()
    return [JobState(*row) for row in rows]
