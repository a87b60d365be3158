import datetime as dt

import streamlit as st

from pages import common, state
from pages.reception_widgets import ask_to_cancel, cancel_dialog, visit_card
from portal import dates, reception, states
from portal.errors import PortalError
from portal.reception import bookings, waitlist
from portal.reception import day as reception_day

user = common.require(__file__)
today = dates.today()

st.title("接待当日")

notice = state.DAY_NOTICE.pop()
if notice:
    st.success(notice)

with common.database() as db:
    days = reception_day.days_for(db, user)
if not days:
    st.info("您近期没有值班的接待日。")
    st.stop()


def _runs(day: str) -> str:
    if day not in labels:
        raise ValueError("not a day this user runs")
    return day


# a choice's label names the thing only: Streamlit sends a choice back as the label the user saw, and
# a label holding a state (待接待 → 已签到) changes under the second tap of a double tap, which then
# falls back to the first option (see pages/reception_book.py, day_label)
labels = {d.date.isoformat(): f"{dates.format_date(d.date)}　{d.leader_name}" for d in days}
past_or_today = [d.date.isoformat() for d in days if d.date <= today]
default = past_or_today[-1] if past_or_today else days[0].date.isoformat()
link = common.linked("date", "接待日", lambda db, v: _runs(dt.date.fromisoformat(v).isoformat()))
if link is not None and state.DAY_LINK.get() != link:
    state.DAY_LINK.set(link)  # the first time: open the linked day, then the user's choice wins
    st.session_state.pop("day", None)
if link is not None and "day" not in st.session_state:
    default = link
chosen = st.selectbox(
    "接待日", list(labels), index=list(labels).index(default), format_func=labels.__getitem__, key="day"
)
day = dt.date.fromisoformat(chosen)
duty = next(d for d in days if d.date == day)

try:
    with common.database() as db:
        if common.arrived():  # offers not confirmed in time pass on, closed lists end (cheap when none)
            waitlist.sweep(db)
        items = reception.day_list(db, user, day)
        queue = waitlist.day_entries(db, day)
        # full numbers only for the reception staff of that day (who may have to call), masked otherwise
        numbers = reception_day.numbers_to_call(db, user, day)
except PortalError as exc:
    common.show_error(exc)
    st.stop()

st.text(f"值班校领导：{duty.leader_name}（{duty.leader_title}）\n地点：{duty.place}")
if duty.cancelled:
    st.warning("该接待日已取消。")
    st.text(duty.note)

counts = {label: sum(b.status_label == label for b in items) for label in states.BOOKING_DAY_LABELS}
common.figures(counts)

for b in items:  # cards: a phone shows them whole (the table's columns are cut off at 390 px)
    visit_card(b)
with st.expander("表格视图（全部字段）", icon=":material/table:"):
    st.dataframe(
        [
            {
                "时间": b.slot_label,
                "预约编号": b.code,
                "来访人": b.visitor_name,
                "工号/学号": b.visitor_staff_no,
                "单位": b.visitor_unit,
                "类别": b.category,
                "事项": b.subject,
                "人数": b.group_size,
                "联系电话": b.phone_masked,
                "状态": b.status_label,
                "处理": b.outcome_label,
                "备注": b.cancel_note,  # who cancelled and why
            }
            for b in items
        ],
        hide_index=True,
        width="stretch",
    )

if queue:  # the day's waiting list: who waits (in order) and what became of those who did
    waiting_now = [e for e in queue if e.waiting]
    with st.expander(f"候补名单（候补中 {len(waiting_now)} 人）", icon=":material/hourglass_top:"):
        st.dataframe(
            [
                {
                    "名次": str(e.position) if e.position else "",
                    "候补人": e.visitor_name,
                    "时段": e.wish,
                    "人数": e.group_size,
                    "事项": f"［{e.category}］{e.subject}",
                    "登记时间": dates.format_stamp(e.created_at),
                    "状态": e.state_label,
                    "结果": e.end_reason + (f"（{e.booking_code}）" if e.booking_code else ""),
                }
                for e in queue
            ],
            hide_index=True,
            width="stretch",
        )


def run(fn, *args, done: str) -> None:
    try:
        with common.database() as db:
            fn(db, user, *args)
        state.DAY_NOTICE.set(done)
        st.rerun()
    except PortalError as exc:
        common.show_error(exc)


open_items = [b for b in items if b.status in ("booked", "no_show")]
if duty.cancelled or day > today:
    if day > today:
        st.info("接待日当天可在此签到、记录接待情况。")
    st.stop()


def cancelled(b: bookings.Booking) -> None:
    state.DAY_NOTICE.set(f"已取消 {b.visitor_name} 的预约（{b.code}）。")


if day == today:  # the visitor's QR code opens 签到 on a phone; the 6-character code can be typed too
    with st.form("checkin_by_code", clear_on_submit=True, border=False):
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        typed = c1.text_input(
            "按预约编号签到", max_chars=6, placeholder="6 位预约编号，如 AB23CD", key="checkin_code"
        )
        if c2.form_submit_button("确定", icon=":material/how_to_reg:"):  # not 签到: the visitor's button is
            try:
                with common.database() as db:
                    done = reception_day.check_in_code(db, user, typed)
                state.DAY_NOTICE.set(f"{done.visitor_name} 已签到（{done.slot_label}，{done.code}）。")
                st.rerun()
            except PortalError as exc:
                common.show_error(exc)


if open_items:
    st.subheader("办理来访")
    choice = {b.id: f"{b.slot_label}　{b.visitor_name}　{b.subject}" for b in open_items}
    booking_id = st.selectbox("来访人", list(choice), format_func=choice.__getitem__, key="visitor")
    b = next(x for x in open_items if x.id == booking_id)
    with st.container(border=True):
        st.text(
            f"状态：{b.status_label}\n预约编号：{b.code}\n来访人：{b.visitor_name}（{b.visitor_staff_no}，{b.visitor_unit}），{b.group_size} 人\n"
            f"联系电话：{numbers.get(b.id, b.phone)}\n反映事项：［{b.category}］{b.subject}"
            + (f"\n具体情况：{b.description}" if b.description else "")
        )
        if b.id not in numbers:
            st.caption("完整的联系电话只在接待日当天向党办、校办工作人员和值班校领导显示。")
        c1, c2 = st.columns(2)
        waiting = b.status == "booked" and not b.checked_in_at
        if (waiting or b.status == "no_show") and c1.button(
            "签到", icon=":material/how_to_reg:", key=f"checkin_{b.id}"
        ):
            run(reception.check_in, b.id, done=f"{b.visitor_name} 已签到。")
        with common.database() as db:
            over = reception_day.slot_ended(db, b)
        if waiting and c2.button(
            "标记未到",
            icon=":material/person_off:",
            key=f"noshow_{b.id}",
            disabled=not over,
            help=None if over else f"时段（{b.slot_label}）结束后才能标记未到",
        ):
            run(reception.mark_no_show, b.id, done=f"{b.visitor_name} 已标记为未到。")
        with common.database() as db:
            cancellable = bookings.can_cancel(db, user, b)
        if cancellable:  # e.g. the visitor phoned to say he cannot come: asks first, reason optional
            ask_to_cancel(b)
    cancel_dialog(user, cancelled)

    # the buttons and the form belong to this visitor: a tap drawn for one can never act on another,
    # and what is typed for one never shows in another's form
    with st.form(f"record_{b.id}"):
        st.markdown("**记录接待情况**")
        outcome = st.radio(
            "处理方式",
            ["answered", "handed"],
            format_func={"answered": "当面答复", "handed": "不能当即答复，转交党办/校办协调办理"}.get,
            key=f"outcome_{b.id}",
        )
        answer = st.text_area(
            "答复内容（当面答复时必填；转交时写明向来访人说明的情况）", max_chars=2000, key=f"answer_{b.id}"
        )
        issue = st.text_area(
            "转交办理的事项（转交时填写，默认取预约时反映的事项）",
            value=reception_day.default_issue(b),
            max_chars=1900,
            key=f"issue_{b.id}",
        )
        dept = st.selectbox("转交部门", reception_day.managing_departments(), key=f"dept_{b.id}")
        if st.form_submit_button("保存接待记录", type="primary", icon=":material/save:"):
            record = reception.ReceptionRecord(outcome=outcome, answer=answer, issue=issue, department=dept)
            said = (
                "已记录：当面答复。"
                if outcome == "answered"
                else f"已记录并转交{dept}办理，5 个工作日内反馈。"
            )
            run(reception.record_reception, b.id, record, done=said)

st.subheader("本日接待记录")
st.caption(
    "每条接待记录都会写入值班校领导当天的“接待日”联系活动（来访师生、开展情况、转交的意见建议），可生成记录表。"
)


@st.dialog("完成本日接待", on_dismiss=state.FINISHING.drop)
def confirm_finish(plan: reception_day.FinishPlan) -> None:
    st.markdown("**确认后将：**")
    for line in plan.describe():
        st.text("· " + line)
    if plan.unrecorded:
        st.error(
            f"还有 {len(plan.unrecorded)} 位已签到的来访人未记录接待情况，请先记录："
            + "、".join(common.md(b.visitor_name) for b in plan.unrecorded)
        )
    left, right = st.columns(2)
    if left.button("确认完成", type="primary", disabled=bool(plan.unrecorded), key="finish_confirm"):
        state.FINISHING.pop()
        done = "本日接待已完成，接待日记录已生成。"
        if plan.later:
            done += f"时段尚未结束的 {len(plan.later)} 个预约仍可接待。"
        run(reception.finish_day, day, done=done)
    if right.button("返回", key="finish_back"):
        state.FINISHING.pop()
        st.rerun()


if st.button(
    "完成本日接待…", key="finish", help="时段已结束、未签到的预约标记为未到，生成接待日记录；先确认再执行"
):
    state.FINISHING.set(day.isoformat())
if state.FINISHING.get() == day.isoformat():
    with common.database() as db:
        confirm_finish(reception_day.finish_plan(db, user, day))

with common.database() as db:
    fresh = reception.roster.get_day(db, day)
if fresh and fresh.activity_id:
    st.caption(f"接待日记录已生成（联系活动编号 {fresh.activity_id}）。")
    try:
        from portal import record_form

        with common.database() as db:
            docx = record_form.render_record_form(db, fresh.activity_id, user)
        st.download_button(
            "下载《领导干部联系师生工作记录表》",
            data=common.owned(user, docx),
            file_name=f"接待日记录表-{day.isoformat()}.docx",
            mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            icon=":material/description:",
        )
    except PortalError as exc:
        common.show_error(exc)
