"""What a visitor is told and given once booked: the confirmation's fields, the check-in link and
its QR code (made on the server), and the booking as an .ics file (with the code as a picture)."""

from __future__ import annotations

from sqlite_utils import Database

from .. import dates, links, qr
from ..accounts import User
from . import ical
from .bookings import Booking, get_booking
from .template import load_template


def confirmation(booking: Booking) -> list[tuple[str, str]]:
    """What the visitor is told after booking: the fields of the confirmation, in order."""
    return [
        ("预约编号", booking.code),
        ("日期", dates.format_date(booking.date)),
        ("时间", booking.slot_label),
        ("地点", booking.place),
        (
            "值班校领导",
            f"{booking.leader_name}（{booking.leader_title}）"
            if booking.leader_title
            else booking.leader_name,
        ),
        ("反映事项", f"［{booking.category}］{booking.subject}"),
        ("来访人数", f"{booking.group_size} 人"),
        ("联系电话", booking.phone_masked),
    ]


def checkin_url(booking: Booking) -> str:
    """The link of the booking's QR code: 接待当日's check-in for staff, the booking for its holder."""
    return links.checkin(booking.code).url


def checkin_qr(booking: Booking) -> str:
    """The check-in QR code as SVG (made on the server; cached per link)."""
    return qr.svg(checkin_url(booking))


def booking_ics(db: Database, user: User, booking_id: int) -> bytes:
    booking = get_booking(db, user, booking_id)
    tpl = load_template(db)
    start, end = tpl.slot_bounds(booking.date, booking.slot)
    event = ical.Event(
        uid=ical.uid(db, "booking", booking.code),
        start=start,
        end=end,
        summary=f"校领导接待日来访（{booking.leader_name}）",
        location=booking.place,
        # no subject of the visit: a calendar leaves the portal (a phone's cloud calendar, a shared one)
        description=f"预约编号 {booking.code}\n请提前 10 分钟到达，出示签到二维码或报预约编号签到。"
        f"\n签到链接：{checkin_url(booking)}",
        cancelled=booking.status == "cancelled",
        url=checkin_url(booking),
        image=b"" if booking.status == "cancelled" else qr.png(checkin_url(booking)),
    )
    return ical.calendar([event], "接待日预约", dates.now())
