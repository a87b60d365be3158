import streamlit as st

from pages import case_widgets, common, state
from portal import case_actions, cases, dates, publication, states
from portal.quota import Colour

user = common.require(__file__)


def _mine(case: cases.Case) -> cases.Case:
    if case.raised_by != user.id:
        raise ValueError("not raised by this user")
    return case


st.title("我的诉求")
st.caption("您在接待日、座谈等联系活动中反映的意见建议，办理进度和答复都在这里。")
if notice := state.MY_CASE_NOTICE.pop() or state.CONSENT_NOTICE.pop():
    st.success(notice)

linked = common.linked("no", "您提出的意见建议", lambda db, no: _mine(cases.find_by_number(db, no, user)))
with common.database() as db:
    mine = cases.list_cases(db, user, scope="mine")
    unread = {c.id for c in cases.unread_answers(db, user)}
    consented = publication.consents(db, [c.id for c in mine])
    published = publication.published_case_ids(db, [c.id for c in mine])

if not mine:
    st.info("您还没有提交过需要办理的意见建议。")
    st.stop()

if unread:
    st.info(f"有 {len(unread)} 件诉求收到了新的答复。", icon=":material/mark_email_unread:")

OPEN = set(states.CASE_OPEN_STATES)
COLOURS: dict[str, Colour] = {"answered": "green", "closed": "gray"}


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
        if case.supervisor:
            st.caption(f"本件由{case.supervisor}督办。")
        if case.state != "withdrawn":
            case_widgets.publish_consent(
                user, consented.get(case.id, False), case_id=case.id, published=case.id in published
            )
        with common.database() as db:
            if case.id in unread:
                case_actions.mark_read(db, case.id, user)
        if not case_widgets.answers(case, user):
            st.caption("正在办理中，答复后会显示在这里。")
            return
        case_widgets.rating_form(case, user, state.MY_CASE_NOTICE)


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
