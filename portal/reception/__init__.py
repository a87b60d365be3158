"""The reception day (接待日, 第十一、十二条): duty roster, slot booking, and the day itself.

* ``template`` — the day's template as data (place, sessions and slots, group size, booking window, rotation).
* ``roster`` — which school leader is on duty on which Wednesday; swaps, substitutions, cancellations; .ics.
* ``bookings`` — booking a slot (never twice: ``BEGIN IMMEDIATE`` + unique indexes), cancelling, my bookings.
* ``confirmation`` — what the visitor is told and given: the confirmation, the check-in QR code, the .ics.
* ``day`` — the day's list, check-in, no-shows, recording receptions, the leader's 接待日 activity.
* ``waitlist`` — the waiting list (候补): joining, leaving, places handed on in the transaction that
  freed them, offers confirmed or lapsed.
* ``bans`` — the no-show rule (未到): restrictions made when a day is completed, lifted with a reason.
* ``access`` — who may do what.
"""

from .access import can_book, can_manage
from .bookings import (
    CATEGORIES,
    STATUS_LABELS,
    Booking,
    BookingInput,
    book,
    bookable_days,
    cancel,
    get_booking,
    mine_on,
    my_bookings,
    slots,
)
from .confirmation import booking_ics
from .day import ReceptionRecord, can_run_day, check_in, day_list, finish_day, mark_no_show, record_reception
from .roster import (
    DutyDay,
    cancel_day,
    leader_ics,
    list_roster,
    plan,
    plan_semester,
    restore_day,
    school_leaders,
    substitute,
    swap,
)
from .template import DayTemplate, load_template
from .waitlist import save_template

__all__ = [
    "CATEGORIES",
    "STATUS_LABELS",
    "Booking",
    "BookingInput",
    "DayTemplate",
    "DutyDay",
    "ReceptionRecord",
    "book",
    "bookable_days",
    "booking_ics",
    "can_book",
    "can_manage",
    "can_run_day",
    "cancel",
    "cancel_day",
    "check_in",
    "day_list",
    "finish_day",
    "get_booking",
    "leader_ics",
    "list_roster",
    "load_template",
    "mark_no_show",
    "mine_on",
    "my_bookings",
    "plan",
    "plan_semester",
    "record_reception",
    "restore_day",
    "save_template",
    "school_leaders",
    "slots",
    "substitute",
    "swap",
]
