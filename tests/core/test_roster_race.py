"""Roster changes (对调, 替班, 取消) decide on the roster as it is when they write: two managers changing
the same days at once, each from the roster as both saw it a moment before, must not both act on it.
Real threads, each with its own connection; both reach the precondition checks before either writes
when the checks stand outside the write transaction."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest

from portal import accounts
from portal.db import open_db
from portal.errors import PortalError
from portal.reception import roster

START = dt.date(2026, 11, 26)


def _together(monkeypatch) -> None:
    """Each change reads its days (``require_day``) and then waits, up to a second, for the other
    change to read them too: both read the same roster whenever the read is not inside the write lock
    (inside it, the other waits for the lock and this one goes on alone after the second)."""
    arrived = threading.Semaphore(0)
    real = roster.require_day
    local = threading.local()

    def require_day(db, day):
        found = real(db, day)
        if not getattr(local, "waited", False):
            local.waited = True
            arrived.release()
            arrived.acquire(timeout=1.0)  # the other's arrival, or a second
            arrived.release()
        return found

    monkeypatch.setattr(roster, "require_day", require_day)


def _run(path, changes) -> list[str]:
    """Run each change in a thread of its own, on its own connection; returns each one's outcome."""
    outcomes = [""] * len(changes)

    def one(i, change):
        with open_db(path) as db:
            manager = accounts.find_user(db, "dangban")
            try:
                change(db, manager)
                outcomes[i] = "done"
            except PortalError as exc:
                outcomes[i] = exc.message

    threads = [threading.Thread(target=one, args=(i, c)) for i, c in enumerate(changes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


def _days(db, n: int) -> list[roster.DutyDay]:
    days = [d for d in roster.list_roster(db, START, START + dt.timedelta(days=120)) if not d.cancelled]
    chosen: list[roster.DutyDay] = []
    for d in days:  # days of different leaders
        if all(d.leader_id != c.leader_id for c in chosen):
            chosen.append(d)
        if len(chosen) == n:
            return chosen
    pytest.skip("the demo roster has too few leaders")


def test_two_swaps_of_the_same_day_at_once_never_lose_a_leader(demo_db, monkeypatch):
    """A ⇄ B and A ⇄ C at once: both read A's leader, so B and C both got it and B's own leader left the
    roster. One after the other, each leader keeps exactly as many days as before."""
    a, b, c = _days(demo_db, 3)
    before = Counter([a.leader_id, b.leader_id, c.leader_id])
    path = demo_db.conn.execute("PRAGMA database_list").fetchone()[2]
    _together(monkeypatch)
    outcomes = _run(
        path,
        [
            lambda db, m: roster.swap(db, a.date, b.date, m, "甲"),
            lambda db, m: roster.swap(db, a.date, c.date, m, "乙"),
        ],
    )
    assert outcomes == ["done", "done"], outcomes
    after = Counter(roster.get_day(demo_db, d.date).leader_id for d in (a, b, c))
    assert after == before


def test_a_day_cancelled_twice_at_once_is_cancelled_once(demo_db, monkeypatch):
    """Two managers cancel the same day at once: both passed 该接待日已经取消 and the day was cancelled
    twice (two entries in its history, its people told twice). One of them is told it already is."""
    (day,) = _days(demo_db, 1)
    path = demo_db.conn.execute("PRAGMA database_list").fetchone()[2]
    _together(monkeypatch)
    outcomes = _run(
        path,
        [
            lambda db, m: roster.cancel_day(db, day.date, m, "学校临时活动"),
            lambda db, m: roster.cancel_day(db, day.date, m, "校领导出差"),
        ],
    )
    assert sorted(outcomes) == ["done", "该接待日已经取消"], outcomes
    cancels = [c for c in roster.changes(demo_db, day=day.date) if c.action == "cancel"]
    assert len(cancels) == 1
