"""Personal data leaves the database only as far as it must (PIPL Art. 6, 等保2.0 个人信息保护; issue 19
item 22): a telephone number in full only for the reception staff of that day, who may have to call —
masked (138****5678) in every list, export, feed, API answer and message."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal import (
    accounts,
    activities,
    activity_export,
    api_tokens,
    case_export,
    cases,
    feeds,
    phone,
    record_form,
    server,
)
from portal.errors import PermissionDenied
from portal.reception import bookings, roster
from portal.reception import day as reception_day

DAY = dt.date(2026, 11, 25)  # the demo's coming reception day (the tests' clock: 2026-11-24)


def _numbers(db) -> set[str]:
    """Every full telephone number the portal holds (people's and bookings')."""
    found = {r[0] for r in db.execute("SELECT phone FROM people WHERE phone != ''")}
    found |= {r[0] for r in db.execute("SELECT phone FROM bookings WHERE phone != ''")}
    assert len(found) > 100
    return found


def _leaks(numbers: set[str], text: str) -> set[str]:
    digits = set(re.findall(r"\d{7,}", text))
    return numbers & digits


def _office_text(data: bytes) -> str:
    """The text of an .xlsx or .docx (every XML part, tags and all: a number is found wherever it is)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))


def test_the_mask_keeps_the_first_three_and_the_last_four_digits():
    assert phone.mask("13812345678") == "138****5678"
    assert phone.mask("8123") == "**23"
    assert phone.mask(phone.mask("13812345678")) == "138****5678"  # masking twice changes nothing


def test_a_booking_read_anywhere_carries_the_masked_number(demo_db):
    full = dict(demo_db.execute("SELECT id, phone FROM bookings").fetchall())
    dangban = accounts.find_user(demo_db, "dangban")
    seen = bookings.day_bookings(demo_db, DAY)
    assert seen
    for b in seen:
        assert b.phone == phone.mask(full[b.id]) != full[b.id]
        owner = accounts.get_user(demo_db, b.user_id)
        assert bookings.get_booking(demo_db, owner, b.id).phone == phone.mask(full[b.id])
        assert bookings.get_booking(demo_db, dangban, b.id).phone == phone.mask(full[b.id])
        assert all(m.phone == phone.mask(full[m.id]) for m in bookings.my_bookings(demo_db, owner))


@pytest.mark.parametrize(
    "who, on, sees_full",
    [
        ("dangban", "2026-11-25T09:00", True),  # 党办 on the day
        ("xiaoban", "2026-11-25T09:00", True),  # 校办 on the day
        ("leader", "2026-11-25T09:00", True),  # the school leader on duty, on his day
        ("admin", "2026-11-25T09:00", False),  # an administrator does not receive visitors
        ("dangban", "2026-11-24T09:00", False),  # the day before
        ("dangban", "2026-11-26T09:00", False),  # the day after
        ("leader", "2026-11-26T09:00", False),
    ],
)
def test_full_numbers_go_only_to_the_reception_staff_of_that_day(demo_db, monkeypatch, who, on, sees_full):
    monkeypatch.setenv("PORTAL_TODAY", on)
    duty = roster.get_day(demo_db, DAY)
    username = duty.leader_staff_no if who == "leader" else who
    user = accounts.find_user(demo_db, username)
    numbers = reception_day.numbers_to_call(demo_db, user, DAY)
    held = dict(
        demo_db.execute(
            "SELECT id, phone FROM bookings WHERE date = ? AND status != 'cancelled'", [DAY.isoformat()]
        ).fetchall()
    )
    assert held
    assert numbers == (held if sees_full else {})


def test_a_leader_not_on_duty_gets_no_numbers_at_all(demo_db, monkeypatch):
    monkeypatch.setenv("PORTAL_TODAY", "2026-11-25T09:00")
    duty = roster.get_day(demo_db, DAY)
    other = next(p for p in roster.school_leaders(demo_db, DAY) if p.person_id != duty.leader_id)
    with pytest.raises(PermissionDenied):
        reception_day.numbers_to_call(demo_db, accounts.find_user(demo_db, other.staff_no), DAY)


def test_no_full_number_leaves_through_the_api_feeds_exports_forms_or_messages(demo_db):
    """Every way out that is not the reception staff's own screen: the API's answers (every endpoint, every
    day with bookings), every user's three calendar feeds, the outbox's messages, the case and activity
    workbooks, the reception days' record forms, the audit log and the search index."""
    numbers = _numbers(demo_db)
    client = TestClient(Starlette(routes=server.routes()))
    _, token = api_tokens.issue(demo_db, "前台", list(api_tokens.SCOPES), 30, None)
    auth = {"Authorization": f"Bearer {token}"}
    out: list[tuple[str, str]] = []
    days = [r[0] for r in demo_db.execute("SELECT DISTINCT date FROM bookings ORDER BY date")]
    for day in days:
        out.append((f"api bookings {day}", client.get(f"/api/v1/bookings?date={day}", headers=auth).text))
    out.append(("api roster", client.get("/api/v1/roster?from=2026-01-01&to=2027-12-31", headers=auth).text))
    out.append(("api cases", client.get("/api/v1/cases", headers=auth).text))
    holders = [r[0] for r in demo_db.execute("SELECT DISTINCT user_id FROM bookings")]
    for user_id in holders[:60]:
        user = accounts.get_user(demo_db, user_id)
        for name in feeds.FEEDS:
            out.append((f"feed {name} {user_id}", (feeds.render(demo_db, user, name) or b"").decode()))
    out += [("outbox", r[0]) for r in demo_db.execute("SELECT payload FROM notify_outbox")]
    out += [("audit", r[0]) for r in demo_db.execute("SELECT detail FROM audit_log")]
    out += [("search", r[0]) for r in demo_db.execute("SELECT body FROM search_index")]
    admin = accounts.find_user(demo_db, "admin")
    every_case = cases.list_cases(demo_db, admin)
    out.append(("cases.xlsx", _office_text(case_export.export_xlsx(every_case))))
    reception_days = activities.list_activities(demo_db, admin, system="接待日")
    out.append(("activities.xlsx", _office_text(activity_export.export_xlsx(reception_days))))
    for a in reception_days[:5]:
        out.append(
            (f"record form {a.id}", _office_text(record_form.render_record_form(demo_db, a.id, admin)))
        )
    leaks = {where: _leaks(numbers, text) for where, text in out}
    assert not {k: v for k, v in leaks.items() if v}
