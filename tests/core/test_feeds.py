"""Calendar subscription feeds: an unguessable per-user token, three feeds that parse with the
``icalendar`` package, and a SEQUENCE that grows when an event changes."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal import accounts, feeds, server
from portal.reception import bookings, roster


@pytest.fixture
def client(demo_db):
    return TestClient(Starlette(routes=server.routes()))


def _parse(body: bytes) -> dict[str, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(body)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def _path(db, user, name):
    return feeds.urls(db, user, "http://portal.example.edu.cn")[name].split("portal.example.edu.cn", 1)[1]


def _future_day(db):
    return roster.next_duty_day(db, dt.date(2026, 11, 26))


def test_feed_urls_are_webcal_and_unguessable(client, demo_db):
    user = accounts.find_user(demo_db, "2023000001")
    urls = feeds.urls(demo_db, user, "https://portal.example.edu.cn")
    assert set(urls) == {"duty", "roster", "bookings"}
    assert all(u.startswith("webcal://portal.example.edu.cn/feeds/") for u in urls.values())
    assert client.get(_path(demo_db, user, "roster")).status_code == 200
    token = feeds.token_for(demo_db, user.id)
    other = accounts.find_user(demo_db, "2023000002")
    forged = f"{other.id}-{token.split('-', 1)[1]}"
    assert client.get(f"/feeds/{forged}/bookings.ics").status_code == 404
    assert client.get(f"/feeds/{token}/secret.ics").status_code == 404


def test_reset_and_disabling_stop_the_old_links(client, demo_db):
    user = accounts.find_user(demo_db, "2023000001")
    old = _path(demo_db, user, "bookings")
    feeds.reset(demo_db, user.id)
    assert client.get(old).status_code == 404
    new = _path(demo_db, user, "bookings")
    assert client.get(new).status_code == 200
    accounts.set_active(demo_db, user.id, False)
    assert client.get(new).status_code == 404


def test_roster_feed_parses_and_sequence_grows_on_a_change(client, demo_db):
    user = accounts.find_user(demo_db, "2023000001")
    day = _future_day(demo_db)
    uid = f"roster-{day.date.isoformat()}@contact-portal"
    before = _parse(client.get(_path(demo_db, user, "roster")).content)[uid]
    assert before["STATUS"] == "CONFIRMED" and str(before["LOCATION"]) == day.place
    roster.change_place(demo_db, day.date, "行政楼 201 会议室", accounts.find_user(demo_db, "dangban"))
    after = _parse(client.get(_path(demo_db, user, "roster")).content)[uid]
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert str(after["LOCATION"]) == "行政楼 201 会议室"


def test_a_leaders_duty_feed_follows_a_substitution(client, demo_db):
    day = _future_day(demo_db)
    leader = accounts.find_user(demo_db, day.leader_staff_no)
    uid = f"duty-{day.date.isoformat()}-{leader.person_id}@contact-portal"
    before = _parse(client.get(_path(demo_db, leader, "duty")).content)[uid]
    assert before["STATUS"] == "CONFIRMED"
    other = next(p for p in roster.school_leaders(demo_db, day.date) if p.person_id != leader.person_id)
    roster.substitute(demo_db, day.date, other.person_id, accounts.find_user(demo_db, "dangban"), "出差")
    after = _parse(client.get(_path(demo_db, leader, "duty")).content)[uid]
    assert after["STATUS"] == "CANCELLED" and int(after["SEQUENCE"]) > int(before["SEQUENCE"])


def test_own_bookings_feed_marks_a_cancellation_with_a_new_sequence(client, demo_db):
    booking = next(
        b
        for (uid,) in demo_db.execute(
            "SELECT DISTINCT user_id FROM bookings WHERE status = 'booked' AND date > '2026-11-25'"
        )
        for b in bookings.my_bookings(demo_db, accounts.get_user(demo_db, uid))
        if b.status == "booked" and b.date > dt.date(2026, 11, 25)
    )
    owner = accounts.get_user(demo_db, booking.user_id)
    uid = f"booking-{booking.code}@contact-portal"
    before = _parse(client.get(_path(demo_db, owner, "bookings")).content)[uid]
    assert before["STATUS"] == "CONFIRMED"
    bookings.cancel(demo_db, owner, booking.id, now=dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC))
    after = _parse(client.get(_path(demo_db, owner, "bookings")).content)[uid]
    assert after["STATUS"] == "CANCELLED" and int(after["SEQUENCE"]) > int(before["SEQUENCE"])
