import streamlit as st

from pages import common
from portal import cases, dates, states
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

linked = common.linked("no", "您提出的意见建议", lambda db, no: _mine(cases.find_by_number(db, no, user)))
with common.database() as db:
    mine = cases.list_cases(db, user, scope="mine")
    unread = {c.id for c in cases.unread_answers(db, user)}

if not mine:
    st.info("您还没有提交过需要办理的意见建议。")
    st.stop()

if unread:
    st.info(f"有 {len(unread)} 件诉求收到了新的答复。", icon=":material/mark_email_unread:")

OPEN = set(states.CASE_OPEN_STATES)
COLOURS = {"answered": "green", "closed": "gray"}


def act(fn, *args, done: str) -> None:
    try:
        with common.database() as db:
            fn(db, *args)
    except PortalError as exc:
        common.show_error(exc)
    else:
        st.session_state["my_case_notice"] = done
        st.rerun()


def card(case: cases.Case) -> None:
    """One case as a card, its state first (no table to clip at phone width)."""
    with st.container(border=True, key=f"case_{case.id}"):
        with st.container(horizontal=True, gap="small"):
            st.badge(case.state_label, color=COLOURS.get(case.state, "blue"))
            if case.id in unread:
                st.badge("新答复", color="red", icon=":material/mark_email_unread:")
        st.markdown(f"**{common.md(case.number)}**")
        st.text(
            f"反映日期：{dates.format_date(case.contact_date)}\n"
            f"办理部门：{case.responsible_dept}\n"
            f"应于 {dates.format_date(case.due_date)} 前答复"
        )
        st.markdown("**您反映的问题**")
        st.text(case.content)
        if not case.answer:
            st.caption("正在办理中，答复后会显示在这里。")
            return
        st.markdown("**答复**")
        st.text(case.answer)
        st.caption(f"答复时间：{dates.format_stamp(case.answered_at)}")
        with common.database() as db:
            if case.id in unread:
                cases.mark_read(db, case.id, user)
            last_day = cases.reopen_deadline(db, case)
            reopenable = cases.can_reopen(db, case)
            satisfied = any(e.action == "satisfied" for e in cases.events(db, case.id, user))
        if case.state not in ("answered", "closed") or not reopenable:
            return
        if not satisfied:
            st.caption(f"请在 {dates.format_date(last_day)} 前告诉我们您是否满意；不满意可申请重新办理。")
            if st.button("满意", icon=":material/thumb_up:", key=f"ok_{case.id}"):
                act(cases.confirm, case.id, True, user, done="感谢您的反馈，此件已办结。")
        why = st.text_input("不满意的原因", key=f"why_{case.id}")
        if st.button("不满意，申请重新办理", icon=":material/replay:", key=f"again_{case.id}"):
            act(cases.confirm, case.id, False, user, why, done="已申请重新办理，办理部门会再次答复您。")


# new answers first, then open cases, then the rest; newest first within each
ordered = sorted(mine, key=lambda c: c.number, reverse=True)
ordered = sorted(ordered, key=lambda c: (c.id not in unread, c.state not in OPEN))
if linked is not None:  # a link opens its case first, on its own
    st.subheader(f"诉求 {linked.number}")
    card(next(c for c in mine if c.id == linked.id))
    ordered = [c for c in ordered if c.id != linked.id]
    if ordered:
        st.subheader("其他诉求")
for c in ordered:
    card(c)
