import streamlit as st

from pages import common
from portal import dates, org, reception
from portal.errors import PortalError
from portal.reception import bookings

user = common.require(__file__)

st.title("预约接待")
st.caption(
    "校领导每周三全天轮流接待师生来访（第十一条）：听取意见建议，以及工作、学习、生活中需要学校协调帮助的事项。"
    "能答复的当面答复，不能当即答复的交党办或校办协调，5 个工作日内反馈落实情况（第十二条）。"
)

with common.database() as db:
    tpl = reception.load_template(db)
    open_days = reception.bookable_days(db)
    upcoming = bookings.upcoming_days(db)
    phone = org.get_person(db, user.person_id).phone if user.person_id else ""
    windows = {d.date: bookings.window(db, d.date, tpl) for d in upcoming}

st.caption(f"接待安排：{common.md(tpl.describe())}。每人每个接待日限预约一次。")

if not open_days:
    st.info("目前没有开放预约的接待日。")
    for d in upcoming:
        if not d.cancelled:
            st.text(f"{dates.format_date(d.date)}  {d.leader_name}：{windows[d.date].describe()}")
    st.stop()

labels = {
    d.date.isoformat(): f"{dates.format_date(d.date)}　值班校领导：{d.leader_name}（{d.leader_title}）"
    for d in open_days
}
chosen = st.selectbox("接待日", list(labels), format_func=labels.get, key="day")
day = next(d for d in open_days if d.date.isoformat() == chosen)
st.text(f"地点：{day.place}\n{windows[day.date].describe()}")

with common.database() as db:
    day_slots = reception.slots(db, day.date)
free = [s for s in day_slots if s.free]
st.caption(
    "时段余量：" + "　".join(f"{s.label} {'已满' if not s.free else f'余 {s.free}'}" for s in day_slots)
)
if not free:
    st.warning("该接待日已约满，请选择其他接待日。")
    st.stop()

slot_labels = {s.slot: s.label for s in free}
with st.form("booking"):
    slot = st.selectbox("时段", list(slot_labels), format_func=slot_labels.get, key="slot")
    category = st.selectbox("反映事项类别", reception.CATEGORIES, key="category")
    subject = st.text_input("反映事项（简要）", max_chars=100, key="subject")
    description = st.text_area("具体情况（选填）", max_chars=2000, key="description")
    phone_in = st.text_input("联系电话", value=phone, max_chars=20, key="phone")
    group = st.number_input(
        f"来访人数（集体反映请推选不超过 {tpl.max_group} 名代表）",
        min_value=1,
        max_value=tpl.max_group,
        value=1,
        step=1,
        key="group",
    )
    submitted = st.form_submit_button("提交预约", type="primary", icon=":material/event_available:")

if submitted:
    data = reception.BookingInput(
        date=day.date,
        slot=slot,
        category=category,
        subject=subject,
        description=description,
        phone=phone_in,
        group_size=int(group),
    )
    try:
        with common.database() as db:
            made = reception.book(db, user, data)
        st.session_state["booked_id"] = made.id
    except PortalError as exc:
        common.show_error(exc)

booked_id = st.session_state.get("booked_id")
if booked_id:
    try:
        with common.database() as db:
            made = reception.get_booking(db, user, booked_id)
            ics = reception.booking_ics(db, user, booked_id)
    except PortalError:
        st.session_state.pop("booked_id", None)
    else:
        st.success(f"预约成功，预约编号 {made.code}。请按时到达，凭预约编号签到。")
        with st.container(border=True):
            st.text("\n".join(f"{k}：{v}" for k, v in bookings.confirmation(made)))
        st.download_button(
            "下载日历文件（.ics）",
            data=ics,
            file_name=f"接待日预约-{made.code}.ics",
            mime="text/calendar",
            icon=":material/calendar_add_on:",
        )
        common.page_link("pages/my_bookings.py", label="查看我的预约", icon=":material/event_note:")
