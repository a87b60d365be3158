"""Calendar subscription feeds: an unguessable per-user token, three feeds that parse with the
``icalendar`` package, and a SEQUENCE that grows when an event changes."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal import accounts, feeds, server
from portal.db import open_db
from portal.reception import bookings, confirmation, ical, roster


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
    assert client.get(f"/feeds/{other.id}-{token}/bookings.ics").status_code == 404
    assert client.get(f"/feeds/{token[:-1]}x/bookings.ics").status_code == 404
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
    uid = ical.uid(demo_db, "roster", day.date.isoformat())
    before = _parse(client.get(_path(demo_db, user, "roster")).content)[uid]
    assert before["STATUS"] == "CONFIRMED" and str(before["LOCATION"]) == day.place
    roster.change_place(demo_db, day.date, "行政楼 201 会议室", accounts.find_user(demo_db, "dangban"))
    after = _parse(client.get(_path(demo_db, user, "roster")).content)[uid]
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert str(after["LOCATION"]) == "行政楼 201 会议室"


def test_a_leaders_duty_feed_follows_a_substitution(client, demo_db):
    day = _future_day(demo_db)
    leader = accounts.find_user(demo_db, day.leader_staff_no)
    uid = ical.uid(demo_db, "duty", f"{day.date.isoformat()}-{leader.person_id}")
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
    uid = ical.uid(demo_db, "booking", booking.code)
    before = _parse(client.get(_path(demo_db, owner, "bookings")).content)[uid]
    assert before["STATUS"] == "CONFIRMED"
    bookings.cancel(demo_db, owner, booking.id, now=dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC))
    after = _parse(client.get(_path(demo_db, owner, "bookings")).content)[uid]
    assert after["STATUS"] == "CANCELLED" and int(after["SEQUENCE"]) > int(before["SEQUENCE"])


# --- minimisation (issue 19 item 22) ------------------------------------------------------------


def test_a_feed_token_does_not_carry_the_internal_user_id(client, demo_db):
    """The address of a feed says nothing about whose it is: no user id in front (before, ``<id>-<mac>``
    let anyone holding an address, or reading a proxy log, see whose account it was and count accounts)."""
    user = accounts.find_user(demo_db, "2023000001")
    token = feeds.token_for(demo_db, user.id)
    assert not token.startswith(f"{user.id}-") and str(user.id) not in token.split("-")
    assert len(token) >= 32 and token.replace("-", "").replace("_", "").isalnum()
    path = _path(demo_db, user, "bookings")
    assert f"/feeds/{token}/" in path and client.get(path).status_code == 200
    # another user's token is another string, and each opens its own feed only
    other = accounts.find_user(demo_db, "2023000002")
    assert feeds.token_for(demo_db, other.id) != token
    assert feeds.user_for_token(demo_db, token).id == user.id


def test_an_old_address_is_refused_with_a_calendar_that_says_to_subscribe_again(client, demo_db):
    """Addresses of the old form (``<user id>-<HMAC>``) no longer open the user's calendar: a genuine old
    address gets a calendar with one notice, the way a calendar app shows it, and none of the events;
    a forged one gets 404."""
    user = accounts.find_user(demo_db, "2023000001")
    old = feeds.legacy_token(demo_db, user.id)
    assert old.startswith(f"{user.id}-")
    response = client.get(f"/feeds/{old}/bookings.ics")
    assert response.status_code == 200
    events = list(icalendar.Calendar.from_ical(response.content).walk("VEVENT"))
    assert len(events) == 1
    assert "重新订阅" in str(events[0]["SUMMARY"]) and "我的账号" in str(events[0]["DESCRIPTION"])
    assert not any(b.code in response.text for b in bookings.my_bookings(demo_db, user))
    assert client.get(f"/feeds/{user.id}-forged/bookings.ics").status_code == 404
    assert client.get(f"/feeds/{user.id + 1}-{old.split('-', 1)[1]}/bookings.ics").status_code == 404


def test_the_bookings_feed_and_the_ics_download_carry_no_subject_of_the_visit(client, demo_db):
    """A calendar event leaves the portal (a phone's cloud calendar, a shared calendar): what the visitor
    came about stays inside; the event names the reception, its time, place and the booking code."""
    owner = accounts.find_user(demo_db, "2023000001")
    day = _future_day(demo_db)
    free = next(s.slot for s in bookings.slots(demo_db, day.date) if s.free)
    made = bookings.book(
        demo_db,
        owner,
        bookings.BookingInput(
            date=day.date, slot=free, category="后勤保障", subject="宿舍漏水三周无人修", phone="13912345678"
        ),
        now=dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC),
    )
    feed = client.get(_path(demo_db, owner, "bookings")).content
    download = confirmation.booking_ics(demo_db, owner, made.id)
    for body in (feed, download):
        text = icalendar.Calendar.from_ical(body).to_ical().decode()
        assert made.code in text
        assert "宿舍漏水" not in text and "后勤保障" not in text and "13912345678" not in text
        assert "反映事项" not in text


def test_calendar_uids_are_unique_per_installation(tmp_path, demo_db):
    """Two installations (two universities, or a test copy beside production) never give the same event the
    same UID: a calendar app subscribed to both would otherwise merge their events. A backup restored is the
    same installation, and keeps its UIDs."""
    with open_db(tmp_path / "other.sqlite3") as other:
        mine, theirs = ical.uid(demo_db, "roster", "2026-12-02"), ical.uid(other, "roster", "2026-12-02")
        assert mine != theirs
        assert ical.uid(other, "roster", "2026-12-02") == theirs  # stable
    assert mine.startswith("roster-2026-12-02@") and "contact-portal" in mine
    user = accounts.find_user(demo_db, "2023000001")
    body = feeds.render(demo_db, user, "roster")
    uids = set(_parse(body))
    assert uids and all(u.endswith(mine.split("@", 1)[1]) for u in uids)


def test_a_password_reset_by_an_administrator_stops_the_old_feed_links(client, demo_db):
    """A reset password means the account was (or may have been) in other hands: whoever held it could
    copy the calendar addresses from 我的账号, and they kept working after the reset (personal data:
    the account's bookings and duty days)."""
    user = accounts.find_user(demo_db, "2023000001")
    admin = accounts.find_user(demo_db, "admin")
    old = _path(demo_db, user, "bookings")
    assert client.get(old).status_code == 200
    accounts.reset_password(demo_db, user.username, actor_id=admin.id)
    assert client.get(old).status_code == 404
    assert client.get(_path(demo_db, user, "bookings")).status_code == 200  # the new address works
    # set by an administrator's command (portal reset-password NAME --password ...): the same
    old = _path(demo_db, user, "roster")
    accounts.reset_password(demo_db, user.username, "Xq7#pL2v!mZ9rT4w")
    assert client.get(old).status_code == 404
