"""One rule for telephone numbers (issue 10 item 4): a mainland mobile number or a campus extension,
the same for bookings, people (accounts' 手机号) and the accounts import."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import accounts, dates, imports, org, phone, reception
from portal.errors import ImportRejected, ValidationError


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13800138000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("86 19912345678", "19912345678"),
        ("138 0013 8000", "13800138000"),
        ("8123", "8123"),
        ("39801", "39801"),
    ],
)
def test_mobile_numbers_and_extensions_are_accepted_and_stored_plainly(typed, stored):
    assert phone.normalize(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "12000000000",
        "10086100861",
        "02112345678",
        "123",
        "12345678",
        "1380013800",
        "１３８００１３８０００",
        "1３８００１３８０００",
        "+1 555 0100",
    ],
)
def test_anything_else_is_refused_in_chinese(typed):
    with pytest.raises(ValidationError, match="11 位手机号.*校内分机号"):
        phone.normalize(typed)


def test_the_extension_rule_is_configurable(monkeypatch):
    with pytest.raises(ValidationError):
        phone.normalize("0391-3987654")
    monkeypatch.setenv("PORTAL_PHONE_EXTENSION", r"\d{4,5}|0391\d{7}")
    assert phone.normalize("0391-3987654") == "03913987654"
    assert phone.normalize("8123") == "8123"


def test_a_very_long_value_is_refused_before_any_pattern_runs(monkeypatch):
    monkeypatch.setenv("PORTAL_PHONE_EXTENSION", r"(\d+)+x")  # a pattern that backtracks badly
    with pytest.raises(ValidationError, match="过长"):
        phone.normalize("1" * 5000)


def test_masking_hides_the_middle_and_short_extensions():
    assert phone.mask("13800138000") == "138****8000"
    assert phone.mask("8123") == "**23"


@pytest.mark.parametrize(
    "number",
    ["3987654", "39876543", "039139876", "0391398765"],  # local landlines, with and without area code
)
def test_a_campus_that_accepts_landlines_gets_them_masked_too(monkeypatch, number):
    """PORTAL_PHONE_EXTENSION may let 7- or 8-digit numbers in (docs/configuration.md): the mask kept the
    first three and the last four digits whatever the length, so a 7-digit number was shown whole
    and an 8-digit one but for a digit, in every list, export and message."""
    monkeypatch.setenv("PORTAL_PHONE_EXTENSION", r"\d{4,5}|\d{7,10}")
    stored = phone.normalize(number)
    shown = phone.mask(stored)
    assert len(shown) == len(stored) and sum(ch.isdigit() for ch in shown) <= 2, shown
    assert phone.mask(shown) == shown  # masking twice changes nothing


def test_bookings_people_and_the_accounts_import_share_the_rule(demo_db):
    bad = "12000000000"  # eleven digits, but no mainland mobile number starts with 12
    visitor = accounts.find_user(demo_db, "2023000002")
    day = dt.date(2026, 12, 2)
    slot = next(s.slot for s in reception.slots(demo_db, day) if s.free)
    data = reception.BookingInput(date=day, slot=slot, category="教学", subject="选课", phone=bad)
    now = dt.datetime(2026, 11, 24, 10, tzinfo=dates.TZ)
    with pytest.raises(ValidationError, match="校内分机号"):
        reception.book(demo_db, visitor, data, now=now)
    made = reception.book(demo_db, visitor, data.model_copy(update={"phone": "+86 139-1234-5678"}), now=now)
    stored = demo_db.execute("SELECT phone FROM bookings WHERE id = ?", [made.id]).fetchone()[0]
    assert stored == "13912345678" and made.phone == "139****5678"  # stored whole, read masked
    with pytest.raises(ValidationError, match="手机号"):
        org.save_person(demo_db, "30099999", "张三", phone=bad)
    assert org.save_person(demo_db, "30099999", "张三", phone="8123")[0].phone == "8123"
    sheet = "工号,姓名,角色,部门,单位,人员类别,手机号\ns2099001,学生乙,师生,,,学生,12000000000\n"
    with pytest.raises(ImportRejected) as refused:
        imports.run_import(demo_db, "accounts", "a.csv", sheet.encode("utf-8-sig"))
    assert "手机号" in str(refused.value.report())
