"""QR check-in and the reminder's one-tap links: the confirmation's QR code (screen, .ics) reads back as
the check-in link; the link checks in today's booking once, for staff only; a typed code does the same;
确认前往 and 取消预约 are signed, single-use and their owner's, and a cancellation hands the place on."""

from __future__ import annotations

import base64
import datetime as dt
import io

import pytest
from icalendar import Calendar

from portal import links, qr, reception
from portal.errors import NotFound, PermissionDenied, ValidationError
from portal.reception import actions, bookings, confirmation, waitlist
from portal.reception import day as reception_day
from tests.core.test_waitlist import NEXT, NOW, at, fill_the_day, holder, user, visitors, wish

COMING = dt.date(2026, 11, 25)


def read_qr(png: bytes) -> str:
    """What a phone's camera reads from a QR code image (zxing-cpp)."""
    import zxingcpp
    from PIL import Image

    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(found) == 1, found
    return found[0].text


def coming_booking(db) -> bookings.Booking:
    return next(b for b in bookings.day_bookings(db, COMING) if b.status == "booked" and not b.checked_in_at)


def test_the_confirmation_carries_a_qr_code_of_its_check_in_link(demo_db):
    b = coming_booking(demo_db)
    url = confirmation.checkin_url(b)
    assert url == links.checkin(b.code).url and url.endswith(f"/checkin?code={b.code}")
    assert read_qr(qr.png(url)) == url
    assert confirmation.checkin_qr(b).lstrip().startswith("<svg")
    event = next(
        c for c in Calendar.from_ical(reception.booking_ics(demo_db, holder(demo_db, b), b.id)).walk("VEVENT")
    )
    assert str(event["URL"]) == url and url in str(event["DESCRIPTION"])
    attached = event["ATTACH"]
    image = attached if isinstance(attached, bytes) else base64.b64decode(attached.to_ical())
    assert read_qr(image) == url


def test_the_link_checks_in_todays_booking_once_and_refuses_another_days(demo_db, monkeypatch):
    monkeypatch.setenv("PORTAL_TODAY", "2026-11-25T09:00:00")
    dangban = user(demo_db, "dangban")
    b = coming_booking(demo_db)
    visitor = holder(demo_db, b)
    assert reception_day.find_for_checkin(demo_db, visitor, b.code) == (b, False)  # sees his own
    with pytest.raises(NotFound):
        reception_day.find_for_checkin(demo_db, visitors(demo_db, 1)[0], b.code)  # another learns nothing
    with pytest.raises(PermissionDenied):
        reception_day.check_in_code(demo_db, visitor, b.code)
    done = reception_day.check_in_code(demo_db, dangban, b.code.lower() + " ")
    assert done.checked_in_at and done.status_label == "已签到"
    with pytest.raises(ValidationError, match="已于 09:00 签到，无需重复签到"):
        reception_day.check_in_code(demo_db, dangban, b.code)
    later = next(x for x in bookings.day_bookings(demo_db, NEXT) if x.status == "booked")
    with pytest.raises(ValidationError, match="预约的是2026年12月2日（星期三）的接待日，不是今天"):
        reception_day.check_in_code(demo_db, dangban, later.code)
    with pytest.raises(NotFound, match="不存在"):
        reception_day.check_in_code(demo_db, dangban, "ZZZZZZ")
    leader = user(demo_db, reception.roster.get_day(demo_db, COMING).leader_staff_no)
    other = next(
        x for x in bookings.day_bookings(demo_db, COMING) if x.status == "booked" and not x.checked_in_at
    )
    assert reception_day.check_in_code(demo_db, leader, other.code).checked_in_at  # the leader on duty may


def test_the_reminders_links_are_signed_single_use_and_their_owners(demo_db):
    b = next(x for x in bookings.day_bookings(demo_db, NEXT) if x.status == "booked")
    owner, stranger = holder(demo_db, b), visitors(demo_db, 1)[0]
    confirm = actions.token_for(demo_db, b.id, "confirm")
    assert actions.token_for(demo_db, b.id, "confirm") == confirm  # the same link each time it is sent
    with pytest.raises(PermissionDenied, match="另一位预约人"):
        actions.read(demo_db, stranger, confirm)
    forged = confirm[:-3] + ("AAA" if not confirm.endswith("AAA") else "BBB")
    with pytest.raises(ValidationError, match="链接无效"):
        actions.read(demo_db, owner, forged)
    assert actions.use(demo_db, owner, confirm, now=NOW).used_at
    assert reception.get_booking(demo_db, owner, b.id).confirmed_at
    with pytest.raises(ValidationError, match="使用过"):
        actions.use(demo_db, owner, confirm, now=NOW)


def test_cancelling_from_the_reminder_hands_the_place_to_the_waiting_list(demo_db):
    held = fill_the_day(demo_db)
    waiting = visitors(demo_db, 1)[0]
    waitlist.join(demo_db, waiting, wish(), now=NOW)
    b = held["11:00"]
    token = actions.token_for(demo_db, b.id, "cancel")
    assert actions.read(demo_db, holder(demo_db, b), token).booking.status == "booked"  # opening asks first
    actions.use(demo_db, holder(demo_db, b), token, now=at("2026-12-01", "08:00"))
    assert reception.get_booking(demo_db, holder(demo_db, b), b.id).cancel_reason == "通过提醒中的链接取消"
    assert reception.mine_on(demo_db, waiting, NEXT).slot == "11:00"
    with pytest.raises(ValidationError, match="使用过"):
        actions.use(demo_db, holder(demo_db, b), token, now=at("2026-12-01", "08:05"))


def test_a_visitor_checked_in_is_never_cancelled_afterwards_as_an_unconfirmed_offer(demo_db, monkeypatch):
    """An offered place its holder never confirmed, but who came on the day and was checked in (the QR
    code opens 签到 directly, which does not run the clock): the clock running later must not cancel a
    visitor already at the desk — the 接待记录 could then no longer be written (该预约已取消)."""
    held = fill_the_day(demo_db)
    came = visitors(demo_db, 1)[0]
    waitlist.join(demo_db, came, wish(), now=NOW)
    reception.cancel(demo_db, holder(demo_db, held["08:30"]), held["08:30"].id, now=NOW)
    offered = reception.mine_on(demo_db, came, NEXT)
    assert offered.awaiting_confirmation
    monkeypatch.setenv("PORTAL_TODAY", f"{NEXT.isoformat()}T08:40:00")
    reception_day.check_in(demo_db, user(demo_db, "dangban"), offered.id)
    waitlist.sweep(demo_db, now=at(NEXT.isoformat(), "08:45"))
    kept = reception.get_booking(demo_db, came, offered.id)
    assert (kept.status, bool(kept.checked_in_at), kept.awaiting_confirmation) == ("booked", True, False)
    record = reception_day.ReceptionRecord(outcome="answered", answer="当面答复")
    assert (
        reception_day.record_reception(demo_db, user(demo_db, "dangban"), offered.id, record).status
        == "received"
    )
