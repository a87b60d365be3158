import math

import streamlit as st

from pages import case_desk, case_widgets, common, state
from portal import (
    activities,
    cache,
    case_actions,
    case_export,
    cases,
    dates,
    links,
    navigation,
    org,
    ratings,
    submissions,
)
from portal.errors import PortalError
from portal.policy import policy

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TABLE_PAGE = 200

user = common.require(__file__)

st.title("意见建议办理")
linked = common.linked(
    "no", "意见建议", lambda db, no: case_desk.merged_link(db, no, user), select=state.CASE
)
if linked is not None and state.CASE_SCOPE_LINK.get() != linked.number:
    state.CASE_SCOPE_LINK.set(linked.number)  # once: then the user's choice of view wins
    if not cases.can_handle(user, linked) and user.has("cadre"):
        st.session_state["c_scope"] = "我的联系活动中提出的"
if notice := state.CASE_NOTICE.pop():
    st.success(notice)
if merged := state.MERGED_NOTICE.pop():  # a link to a merged duplicate
    st.info(merged, icon=":material/merge:")
handler = user.has("admin") or bool(user.departments)
scope = "handle"
if (
    not handler
    or user.has("cadre")
    and (
        st.radio("查看", ["本部门办理", "我的联系活动中提出的"], horizontal=True, key="c_scope")
        != "本部门办理"
    )
):
    scope = "cadre"
if scope == "cadre":
    st.caption("您联系活动中师生提出的意见建议及办理情况（只读）。")
    with common.database() as db:
        fresh = [c for c in cases.unread_answers(db, user) if c.cadre_id == user.person_id]
    if fresh:
        st.info(
            f"有 {len(fresh)} 件收到了新的答复：{'、'.join(c.number for c in fresh[:10])}",
            icon=":material/mark_email_unread:",
        )
else:
    st.caption(
        "督办：按办理期限排序，逾期的件标红。"
        + ("" if user.has("admin") else f"本页显示{'、'.join(user.departments)}负责办理的件。")
    )

# --- filters -------------------------------------------------------------------------------
with common.database() as db:
    units = {u.id: u.name for u in org.list_units(db)}
# every state a chip of its own, all in sight (a multiselect's chips were cut off beside the others)
state_pick = st.pills(
    "状态",
    list(cases.STATES),
    selection_mode="multi",
    default=list(cases.OPEN_STATES) if scope == "handle" else list(cases.STATES),
    format_func=cases.STATE_LABELS.__getitem__,
    key=f"c_states_{scope}",
)
cols = st.columns(4)
# "all" and 0 rather than None: AppTest cannot serialise a selectbox whose value is None
source = cols[0].selectbox(
    "来源", ["all", *cases.SOURCES], format_func=lambda s: cases.SOURCE_LABELS.get(s, "全部"), key="c_src"
)
unit_id = cols[1].selectbox("承办单位", [0, *units], format_func=lambda k: units.get(k, "全部"), key="c_unit")
overdue_only = cols[2].checkbox("只看逾期", key="c_overdue")
# answered, not rated by the raiser in time: the department's 回访 is due (portal/ratings.py)
followup_only = scope == "handle" and cols[3].checkbox("只看待回访", key="c_followup")

with common.database() as db:
    try:
        # kept between reruns until the next write (any session's): clicking through the list or
        # opening a case does not read every case again. The key holds the viewer: rows are his.
        found = list(  # a copy: the page adds a linked case to it
            cache.memo(
                db,
                ("cases", user.id, scope, tuple(state_pick), source, unit_id, overdue_only, followup_only),
                lambda: cases.list_cases(
                    db,
                    user,
                    scope=scope,
                    states=None if followup_only else state_pick or None,
                    source=None if source == "all" else source,
                    handling_unit_id=unit_id or None,
                    overdue_only=overdue_only,
                    followup_cutoff=ratings.followup_cutoff(db) if followup_only else None,
                ),
            )
        )
    except PortalError as exc:
        common.show_error(exc)
        st.stop()

if linked is not None and linked.id not in {c.id for c in found}:
    found.insert(0, linked)  # a link opens its case whatever the filters say
tally = cases.counts(found)
common.figures(
    {
        "列表中": len(found),
        "未答复": tally["open"],
        "逾期": tally["overdue"],
        "临期": tally["at_risk"],
        "逾期答复": tally["answered_late"],
    }
)

# the case on screen stays on screen when an action (here or in another tab) takes it out of the
# unchanged filter (answered, transferred); a new filter shows what it selects
filters = (scope, tuple(state_pick), source, unit_id, overdue_only, followup_only)
same_filters = state.CASE_FILTERS.get() == filters
state.CASE_FILTERS.set(filters)
kept: list = []
if (following := state.NEXT_CASE.pop()) is not None:  # e.g. the case merged into
    state.CASE.set(following)
on_screen = state.CASE.get()
if same_filters and on_screen and on_screen not in {c.id for c in found}:
    try:
        with common.database() as db:
            kept = [cases.get_case(db, on_screen, user)]
    except PortalError:
        state.CASE.pop()

if not found and not kept:
    st.info("没有符合条件的意见建议。")
    st.stop()

# a page of the list at a time: styling every cell of thousands of rows cost a second a rerun
pages = max(1, math.ceil(len(found) / TABLE_PAGE))
page_key = f"c_page_{scope}_{len(found)}"
page_no = min(int(st.session_state.get(page_key, 1)), pages)
shown = found[(page_no - 1) * TABLE_PAGE : page_no * TABLE_PAGE]
# the case the panel below shows: the one chosen, else (a filter left it out) the first of the list
choosable = [c.id for c in [*kept, *found]]
showing = on_screen if on_screen in choosable else choosable[0]
case_desk.case_table(
    shown,
    f"c_table_{scope}",
    departments=user.has("admin") or len(user.departments) > 1,
    on_screen=showing,
)
if pages > 1:
    st.caption(f"第 {page_no}/{pages} 页，每页 {TABLE_PAGE} 件（按办理期限排序）")
    st.number_input("页码", min_value=1, max_value=pages, step=1, key=page_key)
st.download_button(
    "导出 Excel",
    data=common.owned(  # built when clicked, not on every rerun; audited then
        user,
        common.audited(
            user, "case.export", f"意见建议台账 {len(found)} 件", lambda: case_export.export_xlsx(found)
        ),
    ),
    file_name=f"意见建议督办-{dates.today().isoformat()}.xlsx",
    mime=XLSX_MIME,
    icon=":material/download:",
    key="c_export",
)

# --- one case ----------------------------------------------------------------------------
shown = [*kept, *found]
# a case by its number and words, not its state (tests/core/test_house.py: a label a tap changes makes
# the second tap fall back to another case); the state heads the panel below and the table above
labels = {c.id: f"{c.number}　{c.content[:30]}" for c in shown}
chosen = st.selectbox("查看和办理", list(labels), format_func=labels.__getitem__, key=state.CASE.name)
case = next(c for c in shown if c.id == chosen)
if cleared := state.CASE_NOTE_CLEARED.pop():  # a note just recorded: its box starts empty (_act)
    st.session_state.pop(cleared, None)


def _act(func, *args, done: str, form: str, content: str = "", clear: str = "") -> None:
    """Run one case action exactly once per form rendering (portal/submissions.py): a double click or
    a resubmit of the same text finds what the first did instead of acting again or failing."""
    token = submissions.case_action_token(common.form_token(f"{form}_{case.id}"), case.reopen_count, content)
    try:
        with common.database() as db:
            submissions.once(db, token, form, lambda: func(db, case.id, *args).id, user_id=user.id)
    except PortalError as exc:
        common.show_error(exc)
        return
    state.CASE_NOTICE.set(done)
    if clear:  # the text box of the note just recorded starts empty
        state.CASE_NOTE_CLEARED.set(clear)
    st.rerun()


@common.page_fragment(user, __file__)
def case_panel(case: cases.Case) -> None:
    """The case on screen: typing in its boxes reruns this panel only, not the list above it; an
    action reruns the whole page (``_act``), since the list and its counts change."""
    with st.container(border=True):
        st.subheader(f"{case.number}　{case.state_label}")
        if case.alert:
            st.warning("来源有变动", icon=":material/report:")
            st.text(case.alert)
            if (
                scope == "handle"
                and cases.can_handle(user, case)
                and st.button("已核实，继续办理", icon=":material/fact_check:", key=f"ack_{case.id}")
            ):
                _act(
                    lambda db, i: case_actions.acknowledge(db, i, user),
                    done=f"{case.number} 已核实。",
                    form="ack",
                )
        if case.state == "withdrawn":
            st.info(f"{case.state_label}（{dates.format_stamp(case.withdrawn_at)}）", icon=":material/block:")
            st.text(case.withdraw_reason)
        if case.overdue:
            st.error(
                f"已逾期：办理期限 {dates.format_date(case.due_date)}，{case.flag}", icon=":material/alarm:"
            )
        elif case.at_risk:
            st.warning(f"临期：办理期限 {dates.format_date(case.due_date)}", icon=":material/schedule:")
        st.text(
            "\n".join(
                [
                    f"来源：{case.source_label}{('（' + case.system + '）') if case.system else ''}",
                    f"联系日期：{dates.format_date(case.contact_date)}",
                    f"干部：{case.cadre_name or '—'}　提出人：{case.raiser_name or '—'}",
                    f"责任部门：{case.responsible_dept}　承办单位：{case.handling_unit_name or '未转办'}"
                    + (f"　督办：{case.supervisor}" if case.supervisor else ""),
                    f"办理期限：{dates.format_date(case.due_date)}（{case.deadline_days} 个工作日）"
                    + (f"　重新办理 {case.reopen_count} 次" if case.reopen_count else ""),
                ]
            )
        )
        if case.activity_id and navigation.can_open(user, "pages/activities.py"):
            try:
                with common.database() as db:
                    activities.get_activity(db, case.activity_id, user)  # only a link the user may follow
            except PortalError:
                pass
            else:
                link = links.activity(case.activity_id)
                common.page_link(
                    link.page, label="查看来源联系活动", icon=":material/link:", query_params=link.params
                )
        st.markdown("**意见建议**")
        st.text(case.content)
        case_desk.merged_panel(case, user, _act)  # merged into another, or others into this one
        case_widgets.answers(case, user)  # every answer in order, with its rating
        if scope == "handle":
            case_widgets.followup_form(case, user, state.CASE_NOTICE)
            case_widgets.urge_form(case, user, state.CASE_NOTICE)

        with common.database() as db:
            history = cases.events(db, case.id, user)
            may_handle = cases.can_handle(user, case)
            reopenable = case.state in ("answered", "closed") and case_actions.can_reopen(db, case)
        with st.expander(f"办理记录（{len(history)}）", icon=":material/history:"):
            st.dataframe(
                [
                    {
                        "时间": dates.format_stamp(e.at),
                        "操作": e.action_label,
                        "状态": cases.STATE_LABELS.get(e.to_state or "", ""),
                        "操作人": e.user_name or "系统",
                        "说明": dates.in_words(e.note),  # older notes wrote ISO dates
                    }
                    for e in history
                ],
                hide_index=True,
                width="stretch",
            )

        if may_handle and scope == "handle":
            for form in ("refer", "start", "progress", "transfer", "answer", "close", "reopen"):
                common.form_token(f"{form}_{case.id}")  # this rendering's tokens (see _act)
            if case.is_open:
                # the answer first: from the list to a sent answer in a few keys (Tab, type, Tab, Enter)
                reply = case_desk.answer_box(case, user)
                if st.button("提交答复", type="primary", icon=":material/send:", key=f"answer_btn_{case.id}"):
                    _act(
                        lambda db, i: case_actions.answer(db, i, reply, user),
                        done=f"{case.number} 已答复。",
                        form="answer",
                    )
                c1, c2 = st.columns(2)
                with c1:
                    choices = [0, *units]
                    target = st.selectbox(
                        "承办单位",
                        choices,
                        index=choices.index(case.handling_unit_id) if case.handling_unit_id in units else 0,
                        format_func=lambda k: units.get(k, "请选择承办单位"),
                        key=f"refer_unit_{case.id}",
                    )
                    note = st.text_input("转办说明（可选）", key=f"refer_note_{case.id}")
                    if st.button("转办", icon=":material/forward:", key=f"refer_{case.id}"):
                        if not target:
                            st.error("请选择承办单位")
                        else:
                            _act(
                                lambda db, i: case_actions.refer(db, i, target, user, note),
                                done="已转办。",
                                form="refer",
                                content=f"{target}:{note}",
                                clear=f"refer_note_{case.id}",
                            )
                with c2:
                    if case.state == "referred" and st.button(
                        "承办单位已开始办理", icon=":material/play_arrow:", key=f"start_{case.id}"
                    ):
                        _act(
                            lambda db, i: case_actions.start(db, i, user),
                            done="已标记为办理中。",
                            form="start",
                        )
                    progress = st.text_input("办理进展", key=f"progress_{case.id}")
                    if st.button("记录进展", icon=":material/add_comment:", key=f"progress_btn_{case.id}"):
                        _act(
                            lambda db, i: case_actions.add_progress(db, i, progress, user),
                            done="已记录办理进展。",
                            form="progress",
                            content=progress,
                            clear=f"progress_{case.id}",
                        )
                with st.expander("移交其他责任部门", icon=":material/swap_horiz:"):
                    others = [d for d in policy().departments if d != case.responsible_dept]
                    dept = st.selectbox("移交给", others, key=f"transfer_dept_{case.id}")
                    why = st.text_input("移交说明", key=f"transfer_note_{case.id}")
                    if st.button("移交", key=f"transfer_{case.id}"):
                        _act(
                            lambda db, i: case_actions.transfer(db, i, dept, user, why),
                            done=f"{case.number} 已移交{dept}。",
                            form="transfer",
                            content=f"{dept}:{why}",
                            clear=f"transfer_note_{case.id}",
                        )
            elif case.state == "answered" and st.button(
                "办结", icon=":material/task_alt:", key=f"close_{case.id}"
            ):
                _act(
                    lambda db, i: case_actions.close(db, i, user),
                    done=f"{case.number} 已办结。",
                    form="close",
                )
            if reopenable:
                reason = st.text_input("重新办理原因", key=f"reopen_reason_{case.id}")
                if st.button("重新办理", icon=":material/replay:", key=f"reopen_{case.id}"):
                    _act(
                        lambda db, i: case_actions.reopen(db, i, reason, user),
                        done=f"{case.number} 已重新办理。",
                        form="reopen",
                        content=reason,
                        clear=f"reopen_reason_{case.id}",
                    )
            case_desk.note_form(case, user, _act)
            if case.is_open and case.merged_into is None:
                case_desk.merge_form(case, user, _act)
        elif scope == "cadre" and case.answer:
            with common.database() as db:
                case_actions.mark_read(db, case.id, user)


case_panel(case)
if scope == "handle":
    case_desk.templates_manager(user)
