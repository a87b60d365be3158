"""Holding the booking rush: page views never write, a locked database means 系统繁忙，请稍后重试.

Concurrency is real: another connection holds the write lock (BEGIN IMMEDIATE) while the
service or the page runs, as a second server process or a long import would."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading

import pytest

from portal import accounts, config, dates, reception, sessions
from portal import db as dbmod
from portal.errors import Busy
from tests.conftest import goto, login, texts

NEXT = dt.date(2026, 12, 2)


@pytest.fixture
def held_lock(monkeypatch):
    """Another connection holding the write lock; writes give up after a short deadline."""
    monkeypatch.setattr(dbmod, "WRITE_DEADLINE_S", 0.5)
    conn = sqlite3.connect(str(config.db_path()), isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    yield conn
    conn.execute("ROLLBACK")
    conn.close()


def _booking(slot: str) -> reception.BookingInput:
    return reception.BookingInput(
        date=NEXT, slot=slot, category="其他", subject="校园班车", phone="13800001111"
    )


def _free_slot(db) -> str:
    return next(s.slot for s in reception.slots(db, NEXT) if s.free)


def test_book_under_a_held_write_lock_asks_to_try_again(demo_db, held_lock):
    visitor = accounts.find_user(demo_db, "30000001")
    slot = _free_slot(demo_db)
    with pytest.raises(Busy) as caught:
        reception.book(demo_db, visitor, _booking(slot), now=dt.datetime(2026, 11, 24, 10, tzinfo=dates.TZ))
    assert "系统繁忙，请稍后重试" in caught.value.message
    held_lock.execute("ROLLBACK")
    held_lock.execute("BEGIN IMMEDIATE")  # the fixture's teardown rolls this one back
    assert not [b for b in reception.my_bookings(demo_db, visitor) if b.date == NEXT]


def test_the_write_waits_for_a_lock_released_within_the_deadline(demo_db, monkeypatch):
    monkeypatch.setattr(dbmod, "WRITE_DEADLINE_S", 5.0)
    other = sqlite3.connect(str(config.db_path()), isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    threading.Timer(0.3, lambda: other.execute("COMMIT")).start()
    visitor = accounts.find_user(demo_db, "30000001")
    made = reception.book(demo_db, visitor, _booking(_free_slot(demo_db)))
    assert made.code
    other.close()


def test_the_booking_page_says_try_again_when_the_database_stays_locked(demo_db, monkeypatch):
    at = login("2023000002")
    goto(at, "pages/reception_book.py").run()
    at.radio(key="day").set_value(NEXT.isoformat()).run()
    at.button(key=f"slot_{_free_slot(demo_db)}").click().run()
    at.selectbox(key="category").select("教学")
    at.text_input(key="subject").input("选课系统高峰期无法登录")
    at.text_input(key=f"phone_{NEXT.isoformat()}").input("13912345678")
    monkeypatch.setattr(dbmod, "WRITE_DEADLINE_S", 0.5)
    other = sqlite3.connect(str(config.db_path()), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        next(b for b in at.button if b.label == "提交预约").click().run()
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert not at.exception, at.exception
    assert any("系统繁忙，请稍后重试" in e.value for e in at.error)


def test_an_unexpected_locked_database_shows_try_again_not_the_generic_error(demo_db):
    from streamlit.testing.v1 import AppTest

    def script():
        import sqlite3

        import streamlit as st

        from portal.server import show_script_error

        show_script_error(sqlite3.OperationalError("database is locked"))
        st.divider()
        from portal.errors import Busy

        show_script_error(Busy())

    at = AppTest.from_function(script).run()
    shown = [e.value for e in at.error]
    assert len(shown) == 2 and all("系统繁忙，请稍后重试" in s for s in shown)
    assert not any("系统出现意外错误" in s for s in shown)


def test_a_page_view_performs_no_write(demo_db, monkeypatch):
    at = login("2023000002")
    # a session last seen long ago would be touched: the page view itself still must not write
    demo_db.execute(
        "UPDATE sessions SET last_seen = ?", [(dates.now() - dt.timedelta(minutes=5)).isoformat()]
    )
    demo_db.conn.commit()
    watcher = sqlite3.connect(str(config.db_path()), isolation_level=None)
    before = watcher.execute("PRAGMA data_version").fetchone()[0]
    monkeypatch.setattr(dbmod, "WRITE_DEADLINE_S", 0.5)
    watcher.execute("BEGIN IMMEDIATE")  # any write the page tried would now fail
    try:
        for page in ("pages/home.py", "pages/reception_book.py", "pages/my_bookings.py"):
            goto(at, page).run()
            assert not at.exception, (page, at.exception)
            assert "系统繁忙" not in texts(at)
    finally:
        watcher.execute("ROLLBACK")
    assert watcher.execute("PRAGMA data_version").fetchone()[0] == before
    # last-seen is kept off the page's path and written later, in one batch
    sessions.flush_last_seen()
    assert watcher.execute("PRAGMA data_version").fetchone()[0] != before
    seen = demo_db.execute("SELECT max(last_seen) FROM sessions").fetchone()[0]
    assert dt.datetime.fromisoformat(seen) > dates.now() - dt.timedelta(minutes=1)
    watcher.close()


def test_a_failed_last_seen_update_never_fails_anything(demo_db, monkeypatch):
    at = login("2023000002")
    demo_db.execute(
        "UPDATE sessions SET last_seen = ?", [(dates.now() - dt.timedelta(minutes=5)).isoformat()]
    )
    demo_db.conn.commit()
    goto(at, "pages/home.py").run()
    monkeypatch.setattr(dbmod, "WRITE_DEADLINE_S", 0.2)
    other = sqlite3.connect(str(config.db_path()), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        assert sessions.flush_last_seen() == 0  # kept for the next round, nothing raised
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert sessions.flush_last_seen() == 1
