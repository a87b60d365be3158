import streamlit as st

from pages import case_widgets, common, state
from pages.reception_widgets import (
    ask_to_cancel,
    booking_card,
    cancel_dialog,
    ics_button,
    leave_dialog,
    offer_box,
    waiting_card,
)
from portal import dates, links, publication, reception, states
from portal.errors import PortalError
from portal.reception import actions, bookings, waitlist

user = common.require(__file__)


def _mine(booking: bookings.Booking) -> bookings.Booking:
    if booking.user_id != user.id:
        raise ValueError("not this user's booking")
    return booking


st.title("我的预约")

if notice := (state.NOTICE.pop() or state.OFFER_NOTICE.pop() or state.CONSENT_NOTICE.pop()):
    st.success(notice)


def reminder_link(token: str) -> None:
    """A one-tap link of the day-before reminder (确认前往 acts on opening; 取消预约 asks here first)."""
    try:
        with common.database() as db:
            pending = actions.read(db, user, token)
            if pending.action == "confirm" and pending.used_at is None:
                pending = actions.use(db, user, token)
                st.success(
                    f"已确认前往：{dates.format_date(pending.booking.date)} {pending.booking.slot_label}，"
                    f"请按时到达，出示签到二维码签到（预约编号 {pending.booking.code}）。",
                    icon=":material/task_alt:",
                )
                return
    except PortalError as exc:
        common.show_error(exc)
        return
    b = pending.booking
    if pending.used_at:
        st.info(f"提醒中的“{pending.label}”链接已于 {dates.format_stamp(pending.used_at)} 使用过。")
        return
    with st.container(border=True, key="reminder_cancel"):
        st.markdown("**取消这个预约吗？**")
        st.text(f"{dates.format_date(b.date)} {b.slot_label}　预约编号 {b.code}")
        st.caption("取消后该时段会让给候补的师生；如需再来，请重新预约。")
        reason = st.text_input("取消原因（选填）", max_chars=200, key="reminder_cancel_reason")
        if st.button("确认取消预约", type="primary", key="reminder_cancel_confirm"):
            try:
                with common.database() as db:
                    actions.use(db, user, token, reason=reason)
            except PortalError as exc:
                common.show_error(exc)
                return
            state.NOTICE.set(f"预约 {b.code} 已取消，名额已让给候补的师生。")
            st.rerun()


if token := st.query_params.get("act"):
    reminder_link(token)

linked = common.linked("code", "您的预约", lambda db, code: _mine(bookings.find_by_code(db, user, code)))
with common.database() as db:
    if common.arrived():  # offers not confirmed in time pass on, closed lists end (cheap when none)
        waitlist.sweep(db)
    entries = waitlist.my_entries(db, user)
    mine = reception.my_bookings(db, user)
    cancellable = {b.id for b in mine if bookings.can_cancel(db, user, b)}
    closes = {b.id: bookings.window(db, b.date).closes for b in mine if b.status == "booked"}
    ics = {b.id for b in mine if b.date >= dates.today()}
    consented = {b.id for b in mine if publication.booking_consent(db, b.id)}

waiting = [e for e in entries if e.waiting]
if waiting:
    st.subheader(f"候补中（{len(waiting)}）")
    for e in waiting:
        waiting_card(e)


def left(e: waitlist.Entry) -> None:
    state.NOTICE.set(f"已退出 {dates.format_date(e.date)} 的候补。")


leave_dialog(user, left)
ended = [e for e in entries if not e.waiting]
if ended:
    with st.expander(f"候补记录（{len(ended)}）"):
        for e in ended:
            waiting_card(e)

if not mine:
    st.info("您还没有预约接待。")
    common.page_link("pages/reception_book.py", label="预约接待", icon=":material/event_available:")
    st.stop()


def card(b: bookings.Booking) -> None:
    """One booking, its state first; everything on screen (no table to scroll sideways)."""
    with st.container(border=True, key=f"booking_{b.id}"):
        booking_card(b)
        offer_box(user, b)
        if b.status == "received":
            st.text(f"接待结果：{b.outcome_label}" + (f"\n{b.answer}" if b.answer else ""))
        for case in b.cases:
            st.markdown("**所反映问题的办理情况**")
            st.text(
                f"办理编号 {case.number}：{case.state_label}（{case.responsible_dept}负责，"
                f"应于 {dates.format_date(case.due_date)} 前反馈）"
            )
            if case.answer:
                st.text(f"答复：{case.answer}")
            link = links.case(case.number, raiser=True)
            common.page_link(
                link.page,
                label=f"查看 {case.number} 的办理情况",
                icon=":material/link:",
                query_params=link.params,
            )
        if b.status != "cancelled" and not b.cases:  # once a case exists, its consent is on 我的诉求
            case_widgets.publish_consent(user, b.id in consented, booking_id=b.id)
        if b.id in cancellable:
            ask_to_cancel(b)
        elif b.status == "booked" and b.id in closes:
            moment = closes[b.id]
            st.caption(
                f"取消截止时间（{dates.format_date(moment.date())} {moment:%H:%M}）已过，如需取消请联系党办或校办。"
            )
        if b.id in ics and b.status == "booked":
            ics_button(user, b, key=f"ics_{b.id}")


today = dates.today()
if linked is not None:  # a link opens its booking first, on its own
    st.subheader(f"预约 {linked.code}")
    card(next(b for b in mine if b.id == linked.id))
    mine = [b for b in mine if b.id != linked.id]
heads = bookings.sorted_mine(mine, today)
if heads.coming:
    st.subheader(f"即将到来（{len(heads.coming)}）")
    for b in heads.coming:
        card(b)
else:
    st.info("您没有即将到来的预约。")
    common.page_link("pages/reception_book.py", label="预约接待", icon=":material/event_available:")
# cancelled and past bookings under their own headings, folded while something is coming
for title, group in ((states.booking_label("cancelled"), heads.cancelled), ("以往的预约", heads.past)):
    if group:
        with st.expander(f"{title}（{len(group)}）", expanded=not heads.coming):
            for b in group:
                card(b)


def cancelled(b: bookings.Booking) -> None:
    common.fresh_form(f"booking_{b.date.isoformat()}")
    state.NOTICE.set(f"预约 {b.code} 已取消。")


cancel_dialog(user, cancelled)
