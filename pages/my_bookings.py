import streamlit as st

from pages import common
from portal import dates, links, reception
from portal.errors import PortalError
from portal.reception import bookings

user = common.require(__file__)


def _mine(booking: bookings.Booking) -> bookings.Booking:
    if booking.user_id != user.id:
        raise ValueError("not this user's booking")
    return booking


st.title("我的预约")

notice = st.session_state.pop("notice", None)
if notice:
    st.success(notice)

common.linked("code", "您的预约", lambda db, code: _mine(bookings.find_by_code(db, user, code)), select="booking")
with common.database() as db:
    mine = reception.my_bookings(db, user)
    cancellable = {b.id for b in mine if bookings.can_cancel(db, user, b)}

if not mine:
    st.info("您还没有预约接待。")
    common.page_link("pages/reception_book.py", label="预约接待", icon=":material/event_available:")
    st.stop()

st.dataframe(
    [
        {
            "预约编号": b.code,
            "日期": dates.format_date(b.date),
            "时间": b.slot_label,
            "值班校领导": b.leader_name,
            "事项": b.subject,
            "联系电话": b.phone_masked,
            "状态": b.status_label,
            "变动": "有" if b.notices else "",
            "办理": "、".join(c.state_label for c in b.cases),
        }
        for b in mine
    ],
    hide_index=True,
    width="stretch",
)

labels = {b.id: f"{b.code}　{dates.format_date(b.date)} {b.slot_label}　{b.status_label}" for b in mine}
chosen = st.selectbox("查看预约详情", list(labels), format_func=labels.get, key="booking")
b = next(x for x in mine if x.id == chosen)

with st.container(border=True):
    st.subheader(f"预约 {b.code}：{b.status_label}")
    st.text("\n".join(f"{k}：{v}" for k, v in bookings.confirmation(b)))
    if b.description:
        st.text(f"具体情况：{b.description}")
    for notice in b.notices:
        st.warning("接待日安排有变动", icon=":material/info:")
        st.text(notice)
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
        common.page_link(link.page, label=f"查看 {case.number} 的办理情况", icon=":material/link:", query_params=link.params)

    cols = st.columns(2)
    with common.database() as db:
        ics = reception.booking_ics(db, user, b.id)
    cols[0].download_button(
        "下载日历文件（.ics）",
        data=ics,
        file_name=f"接待日预约-{b.code}.ics",
        mime="text/calendar",
        icon=":material/calendar_add_on:",
        key=f"ics_{b.id}",
    )
    if b.id in cancellable:
        if cols[1].button("取消预约", icon=":material/event_busy:", key=f"cancel_{b.id}"):
            try:
                with common.database() as db:
                    reception.cancel(db, user, b.id)
                st.session_state["notice"] = f"预约 {b.code} 已取消。"
                st.rerun()
            except PortalError as exc:
                common.show_error(exc)
    elif b.status == "booked":
        with common.database() as db:
            closes = bookings.window(db, b.date).closes
        cols[1].caption(
            f"取消截止时间（{dates.format_date(closes.date())} {closes:%H:%M}）已过，如需取消请联系党办或校办。"
        )
