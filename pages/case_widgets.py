"""What 我的诉求 and 意见建议办理 show of a case: every answer in order with its rating, the raiser's rating
form, the department's 回访 form and the supervising department's 督办意见 (portal/ratings.py); and what
我的工作台 shows of the ratings of a cadre's contacts."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from sqlite_utils import Database

from pages import common, state
from portal import cache, cases, dates, kpis, links, periods, publication, ratings, sessions, submissions
from portal.accounts import User
from portal.errors import PortalError
from portal.policy import RATING_LABELS, RATINGS, policy
from portal.quota import Colour

RATING_ICONS = {"satisfied": ":material/sentiment_satisfied:", "basic": ":material/sentiment_neutral:"}
RATING_COLOURS: dict[str, Colour] = {"satisfied": "green", "basic": "blue", "unsatisfied": "red"}


def answers(case: cases.Case, viewer: User) -> list[cases.Answer]:
    """Every answer of the case, whole and in order, each with its rating (issue 19 item 13)."""
    with common.database() as db:
        given = cases.answers(db, case.id, viewer)
        rated = ratings.of_case(db, case.id, viewer)
    for answer in given:
        st.markdown(f"**{answer.title}**" if len(given) > 1 or answer.seq > 1 else "**答复**")
        st.text(answer.body)
        st.caption(
            common.md(
                f"{answer.title}　{dates.format_stamp(answer.at)}"
                + (f"　{answer.user_name}" if answer.user_name else "")
                + ("　（升级前的记录只保留了前 1000 字）" if answer.truncated else "")
            )
        )
        if (found := rated.get(answer.id)) is not None:
            with st.container(horizontal=True, gap="small"):
                st.badge(f"评价：{found.label}", color=RATING_COLOURS[found.rating])
                st.badge(found.outcome_label, color="gray")
            st.caption(common.md(found.summary))  # the 回访人 as typed
            if found.comment:
                st.text(f"意见：{found.comment}")
    return given


def _run(
    kind: str,
    token: str,
    create: Callable[[Database], int],
    notice_key: state.Key[str],
    notice: Callable[[], str],
    user: User,
) -> None:
    """Run one rating, 回访 or 督办意见 exactly once per form rendering (a double tap finds what the
    first did), then rerun the page with ``notice`` said."""
    try:
        with common.database() as db:
            submissions.once(db, token, kind, lambda: create(db), user_id=user.id)
        notice_key.set(notice())
    except PortalError as exc:
        common.show_error(exc)
        return
    st.rerun()


def rating_form(case: cases.Case, user: User, notice_key: state.Key[str]) -> None:
    """The raiser's rating of the latest answer while its window is open; else what came of it."""
    with common.database() as db:
        found = ratings.standing(db, case, user)
    if found.rating is not None:
        st.info(ratings.what_happened(found.rating, case), icon=":material/info:")
        return
    answer = found.answer
    if answer is None or not found.unrated:
        return
    if not found.raiser_may_rate():
        st.caption("评价期限已过，办理部门会回访您，了解您对答复的意见。")
        return
    answer_id = answer.id
    with st.container(border=True, key=f"rate_{case.id}"):
        st.markdown("**请评价这次答复**")
        st.caption(
            f"请在 {dates.format_date(found.rate_by)} 前评价。不满意时请写明原因，办理部门会重新办理；"
            "多次不满意将转督办。"
        )
        choice = st.radio(
            "您对答复是否满意",
            list(RATINGS),
            index=None,
            format_func=RATING_LABELS.get,
            horizontal=True,
            key=f"rating_{case.id}",
        )
        comment = st.text_area(
            "意见（不满意时必填）", key=f"rating_comment_{case.id}", max_chars=ratings.COMMENT_MAX
        )
        if st.button("提交评价", type="primary", icon=":material/rate_review:", key=f"rate_btn_{case.id}"):
            if choice is None:
                st.error("请选择满意、基本满意或不满意")
                return

            def notice() -> str:
                with common.database() as db:
                    made = ratings.of_case(db, case.id, user)[answer_id]
                    return ratings.what_happened(made, cases.get_case(db, case.id, user))

            _run(
                "rating",
                common.form_token(f"rating_{case.id}_{answer_id}"),
                lambda db: ratings.rate(db, case.id, choice, user, comment).id,
                notice_key,
                notice,
                user,
            )


def followup_form(case: cases.Case, user: User, notice_key: state.Key[str]) -> None:
    """The department's 回访 of the latest answer, once it awaits one."""
    with common.database() as db:
        found = ratings.standing(db, case, user)
    answer = found.answer
    if answer is None or not found.unrated or not cases.can_handle(user, case):
        return
    if not found.followup_due():
        if found.followup_from is not None:
            st.caption(
                f"提出人可自行评价；{dates.format_date(found.followup_from)} 起仍未评价的，请回访并在此记录。"
            )
        return
    with st.expander("待回访：记录回访", icon=":material/phone_in_talk:", expanded=True):
        st.caption(
            f"答复后 {policy().satisfaction.followup_after} 个工作日提出人未评价"
            + ("" if case.raised_by else "（提出人没有平台账号）")
            + "：请电话或当面回访，记录其对答复的意见。回访结果即为本次答复的评价。"
        )
        cols = st.columns(3)
        method = cols[0].selectbox(
            "回访方式",
            list(ratings.METHODS),
            format_func=ratings.METHOD_LABELS.__getitem__,
            key=f"fu_method_{case.id}",
        )
        caller = cols[1].text_input("回访人", value=user.display_name, key=f"fu_caller_{case.id}")
        held = cols[2].date_input(
            "回访日期",
            value=dates.today(),
            min_value=dates.parse_date(answer.at[:10], "答复日期"),
            max_value=dates.today(),
            key=f"fu_day_{case.id}",
        )
        choice = st.radio(
            "提出人的评价",
            list(RATINGS),
            index=None,
            format_func=RATING_LABELS.get,
            horizontal=True,
            key=f"fu_rating_{case.id}",
        )
        comment = st.text_area("回访情况（不满意时必填）", key=f"fu_comment_{case.id}")
        if st.button("保存回访", icon=":material/save:", key=f"fu_btn_{case.id}"):
            if choice is None:
                st.error("请选择提出人的评价：满意、基本满意或不满意")
                return

            _run(
                "followup",
                common.form_token(f"followup_{case.id}_{answer.id}"),
                lambda db: (
                    ratings.follow_up(
                        db, case.id, choice, user, method=method, caller=caller, held_on=held, comment=comment
                    ).id
                ),
                notice_key,
                lambda: f"{case.number} 已记录回访：{RATING_LABELS[choice]}。",
                user,
            )


def urge_form(case: cases.Case, user: User, notice_key: state.Key[str]) -> None:
    """The supervising department's 督办意见."""
    if not cases.supervises(user, case):
        return
    st.warning(f"本件由{case.supervisor}督办（提出人多次不满意）。", icon=":material/gavel:")
    note = st.text_input("督办意见", key=f"urge_{case.id}")
    if st.button("提交督办意见", key=f"urge_btn_{case.id}"):
        _run(
            "urge",
            common.form_token_for(f"urge_{case.id}", note),
            lambda db: ratings.urge(db, case.id, note, user).id,
            notice_key,
            lambda: f"{case.number} 已提交督办意见。",
            user,
        )


def contact_ratings(viewer: User, person_id: int) -> None:
    """我的工作台: how teachers and students rated the answers to what they raised in the cadre's contacts
    (his or her activities; the receptions he or she held on duty) this academic year."""
    today = dates.today()
    own = viewer.has("admin") or viewer.person_id == person_id
    with common.database() as db:
        year = periods.academic_year_of(db, today)
        # kept until the next write (any session's): the key holds the viewer, whose rows they are
        rows, figures = cache.memo(
            db,
            ("contact-ratings", viewer.id, person_id, year.start),
            lambda: (
                ratings.of_contacts(db, viewer, person_id, since=year.start, until=today),
                kpis.compute(
                    db,
                    by="total",
                    since=year.start,
                    until=today,
                    cadre_id=person_id,
                    department=None if own else viewer.departments,
                ).total,
            ),
        )
    st.subheader("师生对答复的评价")
    st.caption(
        f"{year.label}：在联系活动（含值班接待）中师生提出的意见建议，答复后提出人的评价或办理部门回访的结果"
        + ("。" if own else f"（仅{'、'.join(viewer.departments)}办理的）。")
    )
    if not rows:
        st.info("本学年还没有已答复的意见建议。")
        return
    common.figures(
        {
            "满意率": figures.rate("satisfaction").percent,
            "满意": figures.satisfied,
            "基本满意": figures.basic,
            "不满意": figures.unsatisfied,
            "待评价": figures.awaiting,
            "未评价": figures.unrated,
        }
    )
    st.dataframe(
        [
            {
                "编号": r.case.number,
                "联系日期": r.case.contact_date,
                "意见建议": r.case.content[:40],
                "责任部门": r.case.responsible_dept,
                "办理状态": r.case.state_label,
                "答复次数": r.answers,
                "评价": r.state,
                "评价方式": r.rating.via_label + (f"（{r.rating.method_label}）" if r.rating.method else "")
                if r.rating
                else "",
                "评价日期": r.when,
                "意见": r.rating.comment if r.rating else "",
                "查看": links.case(r.case.number).path,
            }
            for r in rows[:200]
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "联系日期": common.date_column("联系日期"),
            "查看": st.column_config.LinkColumn("查看", display_text="打开"),
        },
        key="contact_ratings",
    )
    if len(rows) > 200:
        st.caption(f"共 {len(rows)} 件，显示最近答复的 200 件。")


def publish_consent(
    viewer: User,
    given: bool,
    *,
    case_id: int | None = None,
    booking_id: int | None = None,
    published: bool = False,
) -> None:
    """The raiser's own, separate and revocable word about 答复公开 (PIPL Art. 25): a box of its own,
    its full wording one tap away, acted on when the person changes it (withdrawing takes a published
    answer down).

    Only a tap on the box records a word (``on_change``); the box always shows the word in force. A
    box compared with the database instead took a tick this tab still showed for a new word: a
    consent withdrawn in another tab was given again, unasked, by this tab's next run."""
    key = f"consent_{'case' if case_id is not None else 'booking'}_{case_id or booking_id}"
    st.session_state[key] = given  # the word in force, whatever this tab showed before
    st.checkbox(
        "同意隐去个人信息后公开答复（可随时撤回）",
        key=key,
        help=publication.CONSENT_WORDING,
        on_change=_consent_changed,
        args=(viewer, key, case_id, booking_id),
    )
    if published and given:
        st.caption("本件的答复已在“答复公开”栏目公开（已隐去个人信息）；取消勾选即撤回同意，立即撤下。")


def _consent_changed(viewer: User, key: str, case_id: int | None, booking_id: int | None) -> None:
    """The person ticked or cleared the box (a callback: runs before the page, once per tap)."""
    wanted = bool(st.session_state.get(key))
    with common.database() as db:
        # the session is checked again: a callback runs before the page's own check
        who = sessions.resume(db, state.SESSION_ID.get(""))
        if who is None or who.id != viewer.id:
            return  # the page sends the person to the login
        published = case_id is not None and bool(publication.published_case_ids(db, [case_id]))
        publication.record_consent(db, viewer, given=wanted, case_id=case_id, booking_id=booking_id)
    state.CONSENT_NOTICE.set(
        "已同意：答复办结后可在隐去个人信息后公开。"
        if wanted
        else "已撤回同意" + ("，已公开的内容已撤下。" if published else "。")
    )
