"""The one vocabulary of states: what a case or a booking can be, and its Chinese label.

Every page and every service names states through this module, so the same case reads the same
on 意见建议办理, 我的诉求, 我的预约 and in every export (a test forbids labels written into pages).

Cases::

    registered 已登记 → referred 已转办 → in_progress 办理中 → answered 已答复 → closed 已办结
    registered (nobody acted yet) → withdrawn 已撤销 (its activity was voided or the opinion removed)

Activities: 有效, or 已作废 (kept with the reason, no longer counted).

Bookings::

    booked 待接待 (已签到 once checked in) → received 已接待 | no_show 未到;  booked → cancelled 已取消
    a place offered from the waiting list is booked 待确认 until its holder confirms (确认前往)

The waiting list (候补)::

    waiting 候补中 → promoted 已递补 (a booking) | left 已退出候补 | expired 未能递补 | day_cancelled
"""

from __future__ import annotations

CASE_STATES = ("registered", "referred", "in_progress", "answered", "closed", "withdrawn")
CASE_OPEN_STATES = ("registered", "referred", "in_progress")
# what departments count and supervise: everything but a withdrawn case
CASE_LIVE_STATES = ("registered", "referred", "in_progress", "answered", "closed")
CASE_STATE_LABELS = {
    "registered": "已登记",
    "referred": "已转办",
    "in_progress": "办理中",
    "answered": "已答复",
    "closed": "已办结",
    "withdrawn": "已撤销",
}

BOOKING_STATUSES = ("booked", "received", "cancelled", "no_show")
BOOKING_STATUS_LABELS = {"booked": "待接待", "received": "已接待", "cancelled": "已取消", "no_show": "未到"}
AWAITING_LABEL = "待确认"  # a place offered from the waiting list, not confirmed yet: not a stored status
CHECKED_IN = "checked_in"  # a booked visitor who has signed in: not a stored status, a label
CHECKED_IN_LABEL = "已签到"
# the order the reception day counts them in
BOOKING_DAY_LABELS = (
    AWAITING_LABEL,
    BOOKING_STATUS_LABELS["booked"],
    CHECKED_IN_LABEL,
    BOOKING_STATUS_LABELS["received"],
    BOOKING_STATUS_LABELS["no_show"],
    BOOKING_STATUS_LABELS["cancelled"],
)

# a reception day on the roster
DAY_STATUSES = ("scheduled", "cancelled")
DAY_STATUS_LABELS = {"scheduled": "正常", "cancelled": "已取消"}

# a contact activity: in force, or voided (kept, no longer counted)
ACTIVITY_STATE_LABELS = {"valid": "有效", "voided": "已作废"}


def activity_label(voided: bool) -> str:
    return ACTIVITY_STATE_LABELS["voided" if voided else "valid"]


def case_label(state: str) -> str:
    return CASE_STATE_LABELS.get(state, state)


# the waiting list (候补): waiting → promoted (a booking) | left | expired (booking closed) | day_cancelled
WAITLIST_STATES = ("waiting", "promoted", "left", "expired", "day_cancelled")
WAITLIST_STATE_LABELS = {
    "waiting": "候补中",
    "promoted": "已递补",
    "left": "已退出候补",
    "expired": "未能递补",
    "day_cancelled": "接待日已取消",
}


def booking_label(status: str, checked_in: bool = False, awaiting: bool = False) -> str:
    if status == "booked" and checked_in:
        return CHECKED_IN_LABEL
    if status == "booked" and awaiting:
        return AWAITING_LABEL
    return BOOKING_STATUS_LABELS.get(status, status)
