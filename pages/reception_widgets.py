"""What 预约接待 and 我的预约 both show: a booking as a card (state first, complete on screen — WeChat's
browser often cannot download files) and the cancel dialog (confirm, optional reason); the cards of
接待当日 and 接待日安排 (its days and its 变更记录), which a leader on duty reads on a phone (a table's columns are cut off at
390 px; a card's lines wrap).

Not a page: pages import it. User text is shown with ``st.text`` or through ``common.md``.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from pages import common, state
from portal import dates, reception
from portal.accounts import User
from portal.errors import PortalError
from portal.quota import Colour
from portal.reception import bookings, confirmation, roster, waitlist

STATE_COLOURS: dict[str, Colour] = {
    "awaiting": "orange",
    "booked": "blue",
    "received": "green",
    "cancelled": "gray",
    "no_show": "orange",
}
DAY_COLOURS: dict[str, Colour] = {"scheduled": "green", "cancelled": "gray"}


def booking_card(b: bookings.Booking, *, details: bool = True) -> None:
    """The booking, its state first, every field of the confirmation as text."""
    colour = STATE_COLOURS["awaiting"] if b.awaiting_confirmation else STATE_COLOURS.get(b.status, "gray")
    st.badge(b.status_label, color=colour)
    st.markdown(f"**{common.md(dates.format_date(b.date))}　{common.md(b.slot_label)}**")
    lines = [f"{k}：{v}" for k, v in confirmation.confirmation(b)]
    if details and b.status == "booked":
        lines.append(f"请提前 10 分钟到达{b.place}，凭预约编号 {b.code} 签到。")
    st.text("\n".join(lines))
    if details and b.description:
        st.text(f"具体情况：{b.description}")
    if details and b.status == "booked" and not b.checked_in_at:
        checkin_code(b)
    if b.cancel_note:
        st.text(f"取消：{b.cancel_note}")
    if b.confirmed_at and b.status == "booked":
        st.caption(f"已于 {dates.format_stamp(b.confirmed_at)} 确认前往")
    for notice in b.notices:
        st.warning("接待日安排有变动", icon=":material/info:")
        st.text(notice)


def ics_button(user: User, b: bookings.Booking, key: str | None = None) -> None:
    """下载日历文件: the booking's .ics, built when the button is tapped (it carries the QR code as a
    PNG: too much work for every rerun of a page in a booking rush), served to ``user`` only."""

    def build() -> bytes:
        with common.database() as db:
            return reception.booking_ics(db, user, b.id)

    st.download_button(
        "下载日历文件（.ics，可选）",
        data=common.owned(user, build),
        file_name=f"接待日预约-{b.code}.ics",
        mime="text/calendar",
        icon=":material/calendar_add_on:",
        type="tertiary",
        key=key,
    )


def checkin_code(b: bookings.Booking) -> None:
    """The booking's check-in QR code (made on the server): staff scan it with a phone's camera."""
    st.image(
        confirmation.checkin_qr(b),
        caption=f"签到二维码（预约编号 {b.code}）：到达后出示给工作人员扫码",
        width=180,
        alt=f"预约 {b.code} 的签到二维码",  # a screen reader says what the picture is
    )


def visit_card(b: bookings.Booking) -> None:
    """One visitor of 接待当日: time and name first, the state beside them, then what he or she comes
    about, who, how many, the masked phone; the outcome or who cancelled."""
    with st.container(border=True, key=f"day_booking_{b.id}"):
        with st.container(horizontal=True, gap="small"):
            st.markdown(f"**{common.md(b.slot_label)}　{common.md(b.visitor_name)}**")
            checked_in = b.status == "booked" and b.checked_in_at
            st.badge(b.status_label, color="violet" if checked_in else STATE_COLOURS.get(b.status, "gray"))
        who = "，".join(x for x in (b.visitor_unit, b.visitor_staff_no) if x)
        lines = [
            f"［{b.category}］{b.subject}",
            (f"{who}，" if who else "") + f"{b.group_size} 人，电话 {b.phone_masked}",
            f"预约编号：{b.code}",
        ]
        if b.outcome_label:
            lines.append(f"处理：{b.outcome_label}")
        if b.cancel_note:
            lines.append(f"取消：{b.cancel_note}")
        st.text("\n".join(lines))


def duty_day_card(d: roster.DutyDay) -> None:
    """One day of 接待日安排: the date and the leader on duty first, the state beside them."""
    with st.container(border=True, key=f"roster_day_{d.date.isoformat()}"):
        with st.container(horizontal=True, gap="small"):
            st.markdown(f"**{common.md(dates.format_date(d.date))}　{common.md(d.leader_name)}**")
            st.badge(d.status_label, color=DAY_COLOURS.get(d.status, "gray"))
        lines = [f"{d.leader_title}", f"地点：{d.place}", f"已有预约：{d.booked} 个"]
        if d.cancelled and d.note:
            lines.append(f"取消原因：{d.note}")
        st.text("\n".join(lines))


def change_card(c: roster.DutyChange, key: str) -> None:
    """One entry of 变更记录: the day and what was done first, then what changed, who and when."""
    with st.container(border=True, key=key):
        with st.container(horizontal=True, gap="small"):
            st.markdown(f"**{common.md(dates.format_date(c.date))}**")
            st.badge(c.action_label, color="blue")
        lines = [c.describe()]
        if c.note:
            lines.append(f"说明：{c.note}")
        lines.append(f"{c.user_name}　{dates.format_stamp(c.at)}")
        st.text("\n".join(lines))


def ask_to_cancel(b: bookings.Booking) -> None:
    """The 取消预约 button; the dialog opens on the next runs until confirmed or dismissed."""
    if st.button("取消预约", icon=":material/event_busy:", key=f"cancel_{b.id}"):
        state.CANCELLING.set(b.id)


def cancel_dialog(user: User, on_done: Callable[[bookings.Booking], None]) -> None:
    """Show the confirmation while the session names a booking to cancel (kept in session state so
    the dialog's own buttons survive the rerun they cause)."""
    booking_id = state.CANCELLING.get()
    if booking_id is None:
        return
    try:
        with common.database() as db:
            b = reception.get_booking(db, user, booking_id)
    except PortalError:
        state.CANCELLING.pop()
        return
    _dialog(user, b, on_done)


def _dismissed() -> None:
    state.CANCELLING.pop()


@st.dialog("取消预约", on_dismiss=_dismissed)
def _dialog(user: User, b: bookings.Booking, on_done: Callable[[bookings.Booking], None]) -> None:
    st.text(f"确定取消这个预约吗？\n预约编号：{b.code}\n{dates.format_date(b.date)} {b.slot_label}")
    st.caption("取消后该时段会释放给其他师生；如需再来，请重新预约。")
    reason = st.text_input("取消原因（选填）", max_chars=200, key=f"cancel_reason_{b.id}")
    left, right = st.columns(2)
    if left.button("确认取消", type="primary", key=f"cancel_confirm_{b.id}"):
        try:
            with common.database() as db:
                done = reception.cancel(db, user, b.id, reason=reason)
        except PortalError as exc:
            common.show_error(exc)
            return
        state.CANCELLING.pop()
        on_done(done)
        st.rerun()
    if right.button("不取消了", key=f"cancel_back_{b.id}"):
        state.CANCELLING.pop()
        st.rerun()


# --- the waiting list (候补) -------------------------------------------------------------------

LEAVE_KEY = "leave_waitlist"


def waiting_card(e: waitlist.Entry) -> None:
    """One waiting entry: its state first; the position while it waits, how it ended otherwise."""
    with st.container(border=True, key=f"waitlist_{e.id}"):
        st.badge(e.state_label, color="violet" if e.waiting else "gray")
        st.markdown(f"**{common.md(dates.format_date(e.date))}　候补：{common.md(e.wish)}**")
        lines = [f"反映事项：［{e.category}］{e.subject}", f"登记时间：{dates.format_stamp(e.created_at)}"]
        if e.waiting:
            lines.insert(
                0, f"当前排在候补名单第 {e.position} 位。有人取消时按登记先后递补，递补后会通知您确认。"
            )
        else:
            lines.append(
                f"结果：{e.end_reason}" + (f"（预约编号 {e.booking_code}）" if e.booking_code else "")
            )
        st.text("\n".join(lines))
        if e.waiting and st.button("退出候补", icon=":material/logout:", key=f"leave_{e.id}"):
            common.ask(LEAVE_KEY, entry_id=e.id, day=e.date.isoformat(), wish=e.wish)


def leave_dialog(user: User, on_done: Callable[[waitlist.Entry], None]) -> None:
    """The confirmation of 退出候补; leaves once confirmed."""
    asked = common.pending(LEAVE_KEY)
    lines = [
        f"确定退出 {dates.format_date(asked['day'])}（{asked['wish']}）的候补吗？" if asked else "",
        "退出后名次不再保留；再次候补将排在名单末尾。",
    ]
    details = common.confirmed(LEAVE_KEY, "退出候补", lines, ok="确认退出")
    if details is None:
        return
    try:
        with common.database() as db:
            done = waitlist.leave(db, user, details["entry_id"])
    except PortalError as exc:
        common.show_error(exc)
        return
    on_done(done)
    st.rerun()


def offer_box(user: User, b: bookings.Booking) -> None:
    """A place offered from the waiting list: until when it is held, and 确认前往 (one tap)."""
    if not b.awaiting_confirmation:
        return
    st.warning(
        f"候补递补：已为您保留该时段，请于 {b.confirm_deadline} 前确认前往；逾期未确认，名额将让给下一位候补。",
        icon=":material/schedule:",
    )
    if st.button("确认前往", type="primary", icon=":material/task_alt:", key=f"confirm_{b.id}"):
        try:
            with common.database() as db:
                waitlist.confirm(db, user, b.id)
        except PortalError as exc:
            common.show_error(exc)
            return
        state.OFFER_NOTICE.set(f"已确认前往（预约编号 {b.code}），请按时到达。")
        st.rerun()
