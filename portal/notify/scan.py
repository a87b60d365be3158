"""Events that no click causes, found each time the dispatcher runs (each queued once per occurrence):

* the day before a reception day: each visitor who booked, and the leader on duty;
* a case due tomorrow (one working day left): its department's staff;
* a case overdue: its department's staff and 督办 (the administrators, who see every case), once per deadline;
* a rule behind pace once 80 % of its period has gone: the cadre, if he or she opted in;
* the waiting list's clock (``waitlist.sweep``, on every run, not only every scan): places offered
  and not confirmed in time pass to the next person waiting, and lists whose booking has closed end.

This module finds what is due; each feature says it (``portal.reception.reminders``,
``portal.case_messages``, ``portal.quota.reminders``). It reads the features; none of them imports it.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlite_utils import Database

from .. import case_messages, cases, config, dates
from ..accounts import Role, User
from ..db import get_setting, set_setting
from ..quota import reminders as quota_reminders
from ..reception import reminders as reception_reminders
from ..reception import waitlist

log = logging.getLogger("portal.notify")

_SYSTEM = User(id=0, username="system", display_name="系统", roles=[Role(role="admin")])


def case_deadlines(db: Database, today: dt.date) -> int:
    added = 0
    for c in cases.list_cases(db, _SYSTEM, scope="handle", states=list(cases.OPEN_STATES), on=today):
        if c.days_left == 1:
            added += case_messages.due(db, c)
        elif c.overdue:
            added += case_messages.overdue(db, c)
    return added


def scan_every() -> dt.timedelta:
    return dt.timedelta(minutes=config.settings().notify_scan_minutes)


def enqueue_due(db: Database, now: dt.datetime | None = None) -> int:
    """Queue every scheduled event due today; returns how many rows were added.

    The scan reads every open case (and the quota of cadres who opted in), so a dispatcher run every
    minute scans at most every ``PORTAL_NOTIFY_SCAN_MINUTES`` (default 60); each occurrence is queued once.
    """
    now = now or dates.now()
    before = db.execute("SELECT count(*) FROM notify_outbox").fetchone()[0]
    waitlist.sweep(db, now)  # its messages count as queued
    swept = db.execute("SELECT count(*) FROM notify_outbox").fetchone()[0] - before
    last = get_setting(db, "notify.last_scan")
    if last is not None and now - dt.datetime.fromisoformat(last) < scan_every():
        return swept
    set_setting(db, "notify.last_scan", now.isoformat(timespec="seconds"))
    today = now.astimezone(dates.TZ).date()
    found = {
        "reception_reminders": reception_reminders.day_before(db, today),
        "case_deadlines": case_deadlines(db, today),
        "behind_pace": quota_reminders.behind_pace(db, today),
        "waitlist": swept,
    }
    log.info("scheduled events queued: %d", sum(found.values()), extra=found)
    return sum(found.values())
