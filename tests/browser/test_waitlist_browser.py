"""In Chromium on phones, on a reception day (Wednesday 25 November, 09:00): a staff member scans a
visitor's QR code and checks him in with one tap; a student waits for a full day and sees, as the
promoted person, the place handed to her and confirms it."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import urlsplit

import pytest

from portal import accounts, reception
from portal.db import open_db
from portal.reception import bookings, waitlist
from tests.browser.conftest import PHONE, choose, open_page, phone_login, settle
from tests.browser.serving import running_server

DAY = dt.date(2026, 11, 25)
FULL = dt.date(2026, 12, 2)
NOW = "2026-11-25T09:00:00"


@pytest.fixture(scope="module")
def wednesday(tmp_path_factory):
    """A server of its own whose clock says 25 November 09:00 (the shared one is on the Tuesday)."""
    with running_server(tmp_path_factory.mktemp("wednesday"), extra_env={"PORTAL_TODAY": NOW}) as running:
        yield running


@pytest.fixture
def staff_phone(browser):
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


def read_qr(png: bytes) -> str:
    import zxingcpp
    from PIL import Image

    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(found) == 1, found
    return found[0].text


def test_staff_scan_the_visitors_qr_code_and_check_him_in_with_one_tap(wednesday, phone, staff_phone):
    base = wednesday["url"]
    with open_db(wednesday["db"]) as db:
        b = next(x for x in bookings.day_bookings(db, DAY) if x.status == "booked" and not x.checked_in_at)
        visitor = accounts.get_user(db, b.user_id).username
        later = next(x for x in bookings.day_bookings(db, FULL) if x.status == "booked")
    phone_login(phone, base, visitor)
    open_page(phone, base, "my_bookings", "我的预约")
    code_image = phone.locator("[data-testid=stImage] img").first
    code_image.wait_for()
    link = read_qr(code_image.screenshot())  # what the staff member's camera reads from the visitor's screen
    assert urlsplit(link).path == "/checkin" and urlsplit(link).query == f"code={b.code}"
    scanned = base + "/checkin?" + urlsplit(link).query

    phone_login(staff_phone, base, "dangban")
    staff_phone.goto(scanned, wait_until="networkidle")
    staff_phone.get_by_role("heading", name="签到").wait_for()
    settle(staff_phone)
    staff_phone.get_by_text(f"预约编号：{b.code}").wait_for()
    staff_phone.get_by_role("button", name="签到").click()
    staff_phone.get_by_text("已签到", exact=False).first.wait_for()
    with open_db(wednesday["db"]) as db:
        assert reception.get_booking(db, accounts.find_user(db, "dangban"), b.id).checked_in_at
    staff_phone.goto(scanned, wait_until="networkidle")  # scanned twice: refused, with why
    staff_phone.get_by_text("无需重复签到", exact=False).wait_for()
    staff_phone.goto(f"{base}/checkin?code={later.code}", wait_until="networkidle")  # another day's code
    staff_phone.get_by_text("不是今天", exact=False).wait_for()
    assert staff_phone.get_by_role("button", name="签到").count() == 0

    phone.goto(scanned, wait_until="networkidle")  # the visitor opening it sees his booking, no check-in
    phone.get_by_role("heading", name="签到").wait_for()
    settle(phone)
    phone.get_by_text(f"预约编号：{b.code}").wait_for()
    assert phone.get_by_role("button", name="签到").count() == 0


def test_the_promoted_person_sees_the_place_handed_to_her_and_confirms_it(wednesday, phone):
    base = wednesday["url"]
    with open_db(wednesday["db"]) as db:
        free = [s.slot for s in reception.slots(db, FULL) for _ in range(s.free)]
        rows = db.execute(
            "SELECT u.username FROM users u JOIN people p ON p.id = u.person_id WHERE p.kind = '学生' "
            "AND u.id NOT IN (SELECT user_id FROM bookings UNION SELECT user_id FROM waitlist "
            "UNION SELECT user_id FROM booking_bans) ORDER BY u.id DESC LIMIT ?",
            [len(free) + 1],
        ).fetchall()
        student, crowd = rows[0][0], [r[0] for r in rows[1:]]
        for name, slot in zip(crowd, free, strict=True):
            reception.book(
                db,
                accounts.find_user(db, name),
                bookings.BookingInput(
                    date=FULL, slot=slot, category="其他", subject="占满", phone="13800138000"
                ),
            )
    phone_login(phone, base, student)
    open_page(phone, base, "reception_book", "预约接待")
    phone.get_by_text("2026年12月2日（星期三）").first.click()
    settle(phone)
    phone.get_by_text("该接待日已约满", exact=False).wait_for()
    choose(phone, "反映事项类别", "后勤保障")
    phone.get_by_label("反映事项（简要）").fill("南区宿舍热水供应时间短")
    settle(phone)
    phone.get_by_role("button", name="加入候补").click()
    phone.get_by_text("当前排在第 1 位", exact=False).first.wait_for()

    with open_db(wednesday["db"]) as db:  # someone gives up a place: it is handed on at once
        me = accounts.find_user(db, student)
        gone = next(
            x for x in bookings.day_bookings(db, FULL) if x.status == "booked" and x.subject == "占满"
        )
        reception.cancel(db, accounts.get_user(db, gone.user_id), gone.id)
        offered = reception.mine_on(db, me, FULL)
        assert offered is not None and offered.awaiting_confirmation
    open_page(phone, base, "my_bookings", "我的预约")
    phone.get_by_text("待确认", exact=True).first.wait_for()
    phone.get_by_text("请于 2026年12月1日（星期二） 12:00 前确认前往", exact=False).wait_for()
    phone.get_by_text(f"预约编号：{offered.code}").wait_for()
    phone.get_by_role("button", name="确认前往").click()
    phone.get_by_text(f"已确认前往（预约编号 {offered.code}）", exact=False).wait_for()
    with open_db(wednesday["db"]) as db:
        assert not reception.mine_on(db, accounts.find_user(db, student), FULL).awaiting_confirmation
        assert waitlist.my_entries(db, accounts.find_user(db, student))[0].state == "promoted"
