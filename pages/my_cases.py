import streamlit as st

from pages import common
from portal import cases, dates
from portal.errors import PortalError

user = common.require(__file__)


def _mine(case: cases.Case) -> cases.Case:
    if case.raised_by != user.id:
        raise ValueError("not raised by this user")
    return case


st.title("我的诉求")
st.caption("您在接待日、座谈等联系活动中反映的意见建议，办理进度和答复都在这里。")
if notice := st.session_state.pop("my_case_notice", None):
    st.success(notice)

common.linked("no", "您提出的意见建议", lambda db, no: _mine(cases.find_by_number(db, no, user)), select="my_case")
with common.database() as db:
    mine = cases.list_cases(db, user, scope="mine")
    unread = {c.id for c in cases.unread_answers(db, user)}

if not mine:
    st.info("您还没有提交过需要办理的意见建议。")
    st.stop()

if unread:
    st.info(f"有 {len(unread)} 件诉求收到了新的答复。", icon=":material/mark_email_unread:")

st.dataframe(
    [
        {
            "编号": c.number,
            "反映日期": c.contact_date.isoformat(),
            "内容": c.content[:40],
            "办理部门": c.responsible_dept,
            "状态": c.state_label,
            "办理期限": c.due_date.isoformat(),
            "答复": ("新答复" if c.id in unread else "已答复") if c.answer else "",
        }
        for c in sorted(mine, key=lambda c: c.number, reverse=True)
    ],
    hide_index=True,
    width="stretch",
)

ordered = sorted(mine, key=lambda c: (c.id not in unread, c.number), reverse=False)
labels = {c.id: f"{c.number}　{c.state_label}　{c.content[:30]}" for c in ordered}
chosen = st.selectbox("查看诉求", list(labels), format_func=labels.get, key="my_case")
case = next(c for c in mine if c.id == chosen)

with st.container(border=True):
    st.subheader(f"{case.number}　{case.state_label}")
    st.text(
        f"反映日期：{dates.format_date(case.contact_date)}\n"
        f"办理部门：{case.responsible_dept}\n"
        f"应于 {dates.format_date(case.due_date)} 前答复"
    )
    st.markdown("**您反映的问题**")
    st.text(case.content)
    if not case.answer:
        st.info("正在办理中，答复后会显示在这里。", icon=":material/hourglass_top:")
        st.stop()
    st.markdown("**答复**")
    st.text(case.answer)
    st.caption(f"答复时间：{dates.format_stamp(case.answered_at)}")
    with common.database() as db:
        cases.mark_read(db, case.id, user)
        last_day = cases.reopen_deadline(db, case)
        reopenable = cases.can_reopen(db, case)
        satisfied = any(e.action == "satisfied" for e in cases.events(db, case.id, user))

    if case.state in ("answered", "closed") and reopenable:
        if not satisfied:
            st.caption(f"请在 {dates.format_date(last_day)} 前告诉我们您是否满意；不满意可申请重新办理。")
        cols = st.columns(2)
        if not satisfied and cols[0].button("满意", icon=":material/thumb_up:", key=f"ok_{case.id}"):
            try:
                with common.database() as db:
                    cases.confirm(db, case.id, True, user)
            except PortalError as exc:
                common.show_error(exc)
            else:
                st.session_state["my_case_notice"] = "感谢您的反馈，此件已办结。"
                st.rerun()
        with cols[1]:
            why = st.text_input("不满意的原因", key=f"why_{case.id}")
            if st.button("不满意，申请重新办理", icon=":material/replay:", key=f"again_{case.id}"):
                try:
                    with common.database() as db:
                        cases.confirm(db, case.id, False, user, why)
                except PortalError as exc:
                    common.show_error(exc)
                else:
                    st.session_state["my_case_notice"] = "已申请重新办理，办理部门会再次答复您。"
                    st.rerun()
