"""Cached pages and their invalidation: results are kept per (arguments, today, data stamp), and every
write through ``db.write`` changes the stamp, so a cached page shows another session's write on its
next rerun."""

from __future__ import annotations

import re

import pytest

from portal import (
    accounts,
    activities,
    activity_recording,
    assessment,
    cache,
    case_actions,
    cases,
    ledger,
    quota,
    reception,
)
from portal.db import data_stamp, write
from portal.demo import DEPARTMENT_ACCOUNTS
from tests.conftest import goto, login


def _counting(monkeypatch, module, name: str) -> list[dict]:
    """``module.name`` still works but notes each call (its keyword arguments): how often the
    pages really computed it rather than taking it from the cache."""
    calls: list[dict] = []
    real = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def _page(username: str, page: str):
    """``page`` as ``username`` sees it, run once without an exception."""
    at = login(username)
    goto(at, page).run()
    assert not at.exception, at.exception
    return at


def _ledger_count(at) -> int:
    caption = next(c.value for c in at.caption if "联系活动" in c.value)
    return int(re.search(r"联系活动 ([\d,]+) 条", caption).group(1).replace(",", ""))


def test_every_write_changes_the_data_stamp(db):
    before = data_stamp(db)
    with write(db):
        db.execute("INSERT INTO settings (key, value) VALUES ('x', '1')")
    assert data_stamp(db) != before
    same = data_stamp(db)
    try:
        with write(db):
            db.execute("INSERT INTO settings (key, value) VALUES ('y', '1')")
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    assert data_stamp(db) == same  # nothing written, nothing to invalidate


def test_memo_keeps_a_result_until_the_next_write(db):
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert cache.memo(db, ("k", 1), compute) == 1
    assert cache.memo(db, ("k", 1), compute) == 1
    assert cache.memo(db, ("k", 2), compute) == 2  # other arguments, other entry
    with write(db):
        db.execute("INSERT INTO settings (key, value) VALUES ('x', '1')")
    assert cache.memo(db, ("k", 1), compute) == 3


def test_the_cached_ledger_shows_another_sessions_write_on_its_next_rerun(demo_db, monkeypatch):
    built = _counting(monkeypatch, ledger, "build")
    at = _page("admin", "pages/ledger.py")
    shown = _ledger_count(at)
    at.radio(key="l_group").set_value("month").run()  # a widget change: no recomputation
    assert len(built) == 1 and _ledger_count(at) == shown
    # another session voids one of the activities in the ledger
    admin = accounts.find_user(demo_db, "admin")
    since = at.date_input(key="l_since").value
    victim = demo_db.execute(
        "SELECT id FROM activities WHERE voided_at IS NULL AND date >= ? ORDER BY date DESC LIMIT 1",
        [since.isoformat()],
    ).fetchone()[0]
    activity_recording.void_activity(demo_db, victim, "重复录入", admin)
    at.run()
    assert _ledger_count(at) == shown - 1
    assert len(built) == 2


def test_the_cached_assessment_is_shared_and_still_checks_the_viewer(demo_db, monkeypatch):
    computed = _counting(monkeypatch, assessment, "assess")
    for username in ("admin", "zuzhi"):
        at = _page(username, "pages/assessment.py")
        at.selectbox(key="a_unit").select(at.selectbox(key="a_unit").options[1]).run()
    assert len(computed) == 1  # two users, two reruns each: computed once
    at = login("2023000002")
    with pytest.raises(ValueError):
        goto(at, "pages/assessment.py")


def test_the_cached_dashboard_follows_a_new_activity_and_keeps_department_scope(demo_db, monkeypatch):
    computed = _counting(monkeypatch, quota, "dashboard")
    at = _page("10010001", "pages/dashboard.py")
    at.run()
    assert not at.exception, at.exception
    assert len(computed) == 1  # the second run came from the cache
    me = accounts.find_user(demo_db, "10010001")
    victim = activities.page_activities(demo_db, me, limit=1).rows[0][0]
    activity_recording.void_activity(demo_db, victim, "重复录入", me)  # a write by another session
    at.run()
    assert len(computed) == 2
    # a department sees only its systems: another cache entry, not the cadre's
    _page("jiaowu", "pages/dashboard.py")
    systems = computed[-1].get("systems")
    assert systems is not None and set(systems) <= {"讲思政课", "听课"}


def test_recent_keeps_a_result_a_few_seconds_whatever_is_written(db, monkeypatch):
    import time

    calls = []
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    compute = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert cache.recent(db, ("days",), compute, seconds=5) == 1
    with write(db):
        db.execute("INSERT INTO settings (key, value) VALUES ('x', '1')")
    clock[0] += 4
    assert cache.recent(db, ("days",), compute, seconds=5) == 1  # a booking does not recompute it
    clock[0] += 2
    assert cache.recent(db, ("days",), compute, seconds=5) == 2


def test_the_booking_page_reads_the_days_once_between_two_bookers(demo_db, monkeypatch):
    read = _counting(monkeypatch, reception, "bookable_days")
    for username in ("2023000002", "2023000003"):
        _page(username, "pages/reception_book.py")
    assert len(read) == 1


def test_only_a_few_large_results_of_a_kind_are_kept(db):
    for year in range(10):
        cache.memo(db, ("ledger", year), lambda: object())
    kept = [k for k in cache._entries if k[1][0] == "ledger"]
    assert len(kept) == cache.KIND_LIMITS["ledger"]
    assert {k[1][1] for k in kept} == {6, 7, 8, 9}  # the most recent


def test_a_ledgers_tables_and_summaries_do_not_push_the_ledger_out(demo_db, monkeypatch):
    built = _counting(monkeypatch, ledger, "build")
    at = _page("admin", "pages/ledger.py")
    for group in ("cadre", "semester", "month", "unit", "cadre"):
        at.radio(key="l_group").set_value(group).run()
    at.run()
    assert not at.exception and len(built) == 1


def test_the_cached_supervision_list_shows_another_sessions_answer_on_its_next_rerun(demo_db, monkeypatch):
    real = cases.list_cases
    listed = _counting(monkeypatch, cases, "list_cases")
    at = _page(DEPARTMENT_ACCOUNTS["党办"], "pages/cases.py")
    before = {m.label: m.value for m in at.metric}["未答复"]
    read = len(listed)  # the home page's 待办 read some too
    at.run()  # a rerun without a write: the list is not read again
    assert len(listed) == read
    # another session (the admin) answers one of 党办's open cases
    admin = accounts.find_user(demo_db, "admin")
    victim = next(c for c in real(demo_db, admin, department="党办") if c.is_open)
    case_actions.answer(demo_db, victim.id, "已协调解决。", admin)
    at.run()
    assert {m.label: m.value for m in at.metric}["未答复"] == str(int(before) - 1)
    assert len(listed) == read + 1
