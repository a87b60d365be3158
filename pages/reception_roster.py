import datetime as dt

import streamlit as st

from pages import common, state
from pages.reception_widgets import change_card, duty_day_card
from portal import dates, periods, reception, submissions
from portal.accounts import User
from portal.errors import PortalError, ValidationError
from portal.reception import bans, roster
from portal.reception.template import NO_SHOW_PERIODS

CHANGE_CARDS = 30  # 变更记录 as cards: the latest; the whole in the table view

user = common.require(__file__)


def _none() -> roster.DutyDay:
    raise ValueError("no such duty day")


today = dates.today()

st.title("接待日安排")
st.caption("校领导按统一安排，轮流在每周三全天接待学校师生员工来访（第十一条）。节假日的周三不安排接待。")

notice = state.ROSTER_NOTICE.pop()
if notice:
    st.success(notice)

linked = common.linked(
    "date", "接待日", lambda db, v: roster.get_day(db, dt.date.fromisoformat(v)) or _none()
)
if linked is not None:
    with st.container(border=True):
        st.subheader(f"{dates.format_date(linked.date)}　{linked.status_label}")
        st.text(f"值班校领导：{linked.leader_name}（{linked.leader_title}）\n地点：{linked.place}")
        if linked.cancelled:
            st.text(f"取消原因：{linked.note}")

with common.database() as db:
    semester = periods.semester_containing(db, today)
cols = st.columns(2)
start = cols[0].date_input(
    "从", value=max(semester.teaching_start, today - dt.timedelta(days=28)), key="from"
)
end = cols[1].date_input("到", value=max(semester.teaching_end, today + dt.timedelta(days=28)), key="to")
with common.database() as db:
    days = roster.list_roster(db, start, end)
    warnings = roster.calendar_warnings(db, start, end, user)  # admin-only messages to admins only
for w in warnings:
    st.warning(w)
if not days:
    st.info("这段时间还没有接待日安排。")
for d in days:  # cards: a phone shows them whole (the table's columns are cut off at 390 px)
    duty_day_card(d)
with st.expander("表格视图", icon=":material/table:"):
    st.dataframe(
        [
            {
                # the day, its leader, its state first, as on the cards
                "日期": dates.format_date(d.date),
                "值班校领导": d.leader_name,
                "状态": d.status_label + (f"（{d.note}）" if d.cancelled and d.note else ""),
                "职务": d.leader_title,
                "地点": d.place,
                "预约": d.booked,
            }
            for d in days
        ],
        hide_index=True,
        width="stretch",
    )

if user.person_id is not None:
    with common.database() as db:
        mine = roster.list_roster(
            db, today - dt.timedelta(days=180), today + dt.timedelta(days=366), leader_id=user.person_id
        )
        ics = roster.leader_ics(db, user.person_id) if mine else b""
    if mine:
        st.download_button(
            f"下载我的值班日历（{len(mine)} 天，.ics）",
            data=common.owned(user, ics),
            file_name="接待日值班.ics",
            mime="text/calendar",
            icon=":material/calendar_add_on:",
        )

if not reception.can_manage(user):
    st.stop()

st.divider()
st.subheader("管理接待日")


def act(fn, *args, done: str, form: str) -> None:
    """One roster change, exactly once per form rendering and inputs (a double click on 对调 must
    not swap the two days back)."""
    try:
        inputs = [a for a in args if not isinstance(a, User)]
        with common.database() as db:

            def change() -> None:
                fn(db, *args)

            submissions.once(
                db, common.form_token_for(form, *inputs), f"roster_{form}", change, user_id=user.id
            )
        state.ROSTER_NOTICE.set(done)
        st.rerun()
    except PortalError as exc:
        common.show_error(exc)


with common.database() as db:
    coming = [d for d in roster.list_roster(db, today, today + dt.timedelta(days=400))]
scheduled = {
    d.date.isoformat(): f"{dates.format_date(d.date)}　{d.leader_name}" for d in coming if not d.cancelled
}
cancelled = {
    d.date.isoformat(): f"{dates.format_date(d.date)}　{d.leader_name}（{d.note}）"
    for d in coming
    if d.cancelled
}

tab_plan, tab_swap, tab_sub, tab_cancel, tab_place, tab_history, tab_bans, tab_settings = st.tabs(
    ["排班", "对调", "替班", "取消与恢复", "更改地点", "变更记录", "预约限制", "接待日设置"]
)

with tab_plan:
    st.caption("为学期教学周内每个是工作日的周三安排值班校领导；已排的日期保持不变（可能已有预约）。")
    keys = [semester.key]
    first = int(semester.key[:4])
    keys += [f"{first}-{first + 1}-2" if semester.key.endswith("-1") else f"{first + 1}-{first + 2}-1"]
    with st.form("plan"):
        key = st.selectbox("学期", keys, key="plan_semester")
        place = st.text_input("接待地点（不填则用接待日设置中的地点）", key="plan_place")
        if st.form_submit_button("生成排班", type="primary"):
            try:
                with common.database() as db:
                    # the plan of this form rendering and inputs is made once; sent again, it is shown again
                    outcome = submissions.once(
                        db,
                        common.form_token_for("plan", key, place),
                        "roster_plan",
                        lambda: (
                            None,
                            roster.plan_semester(db, key, user, place or None).model_dump(mode="json"),
                        ),
                        user_id=user.id,
                    )
                result = roster.PlanResult.model_validate(outcome.result)
                st.success(f"新排 {len(result.created)} 天，保留已有 {len(result.kept)} 天。")
                for w in result.warnings:
                    st.warning(w)
                for day, why in result.skipped:
                    st.text(f"{dates.format_date(day)}：{why}，不安排接待")
            except PortalError as exc:
                common.show_error(exc)

with tab_swap, st.form("swap"):
    a = st.selectbox(
        "接待日", list(scheduled), format_func=scheduled.__getitem__, key="swap_a", **common.TARGET
    )
    b = st.selectbox(
        "与此接待日对调", list(scheduled), format_func=scheduled.__getitem__, key="swap_b", **common.TARGET
    )
    note = st.text_input("说明", max_chars=200, key="swap_note")
    pair = (a, b) if a and b else None
    if st.form_submit_button("对调值班校领导") and common.chosen(pair, "要对调的两个接待日"):
        act(
            roster.swap,
            dt.date.fromisoformat(pair[0]),
            dt.date.fromisoformat(pair[1]),
            user,
            note,
            done="已对调。",
            form="swap",
        )

with tab_sub:
    day_key = st.selectbox(
        "接待日", list(scheduled), format_func=scheduled.__getitem__, key="sub_day", **common.TARGET
    )
    if day_key:
        with common.database() as db:
            leaders = roster.school_leaders(db, dt.date.fromisoformat(day_key))
        names = {x.person_id: f"{x.name}（{x.title}）" for x in leaders}
        with st.form("substitute"):
            leader = st.selectbox("替班校领导", list(names), format_func=names.__getitem__, key="sub_leader")
            note = st.text_input("说明（如：原值班校领导出差）", max_chars=200, key="sub_note")
            if st.form_submit_button("替班"):
                act(
                    roster.substitute,
                    dt.date.fromisoformat(day_key),
                    leader,
                    user,
                    note,
                    done="已安排替班。",
                    form="substitute",
                )

with tab_cancel:
    with st.form("cancel_day"):
        day_key = st.selectbox(
            "取消接待日",
            list(scheduled),
            format_func=scheduled.__getitem__,
            key="cancel_day",
            **common.TARGET,
        )
        reason = st.text_input("取消原因（预约人会看到）", max_chars=200, key="cancel_reason")
        if st.form_submit_button("取消该接待日") and common.chosen(day_key, "接待日"):
            if not reason.strip():
                st.error("请填写取消原因")
            else:
                common.ask("cancel_day", day=day_key, reason=reason)  # asks first (reruns)
    if asked := common.pending("cancel_day"):
        gone = next((d for d in days if d.date.isoformat() == asked["day"]), None)
        lines = [
            f"取消 {dates.format_date(dt.date.fromisoformat(asked['day']))} 的接待日"
            + (f"（值班校领导 {gone.leader_name}）" if gone else ""),
            f"取消原因：{asked['reason']}",
            f"已有的 {gone.booked if gone else 0} 个预约将随之取消，预约人会在“我的预约”中看到取消原因。",
        ]
        if common.confirmed("cancel_day", "确认取消接待日", lines, ok="确认取消"):
            try:
                with common.database() as db:
                    n = roster.cancel_day(db, dt.date.fromisoformat(asked["day"]), user, asked["reason"])
                state.ROSTER_NOTICE.set(f"已取消，{n} 个预约随之取消，预约人可在“我的预约”中看到。")
                st.rerun()
            except PortalError as exc:
                common.show_error(exc)
    if cancelled:
        with st.form("restore_day"):
            day_key = st.selectbox(
                "恢复接待日",
                list(cancelled),
                format_func=cancelled.__getitem__,
                key="restore_day",
                **common.TARGET,
            )
            if st.form_submit_button("恢复") and common.chosen(day_key, "要恢复的接待日"):
                act(
                    roster.restore_day,
                    dt.date.fromisoformat(day_key),
                    user,
                    done="已恢复（原预约仍为已取消）。",
                    form="restore",
                )

with tab_place, st.form("place"):
    day_key = st.selectbox(
        "接待日", list(scheduled), format_func=scheduled.__getitem__, key="place_day", **common.TARGET
    )
    new_place = st.text_input("新的接待地点（预约人会看到变动）", max_chars=100, key="place_new")
    if st.form_submit_button("更改地点") and common.chosen(day_key, "接待日"):
        act(
            roster.change_place,
            dt.date.fromisoformat(day_key),
            new_place,
            user,
            done="接待地点已更改。",
            form="place",
        )

with tab_history:
    with common.database() as db:
        history = roster.changes(db)
    if not history:
        st.info("暂无变更记录。")
    for i, c in enumerate(history[:CHANGE_CARDS]):  # cards, as the days above: whole on a phone
        change_card(c, f"roster_change_{i}")
    if len(history) > CHANGE_CARDS:
        st.caption(f"显示最近 {CHANGE_CARDS} 条，共 {len(history)} 条；全部见下方表格视图。")
    with st.expander("表格视图", icon=":material/table:"):
        st.dataframe(
            [
                {
                    "接待日": dates.format_date(c.date),
                    "操作": c.action_label,
                    "原值班": c.old_leader,
                    "新值班": c.new_leader,
                    "说明": c.note,
                    "操作人": c.user_name,
                    "时间": dates.format_stamp(c.at),
                }
                for c in history
            ],
            hide_index=True,
            width="stretch",
        )

with tab_bans:  # the no-show rule's restrictions; 党办/校办 lift one with a reason (audited)
    with common.database() as db:
        rule = bans.rule_text(reception.load_template(db))
        in_force = bans.list_bans(db, user)
    st.caption(f"未到规则：{rule}在“完成本日接待”时计算；本人在“预约接待”页看到原因和期限。")
    if not in_force:
        st.info("目前没有预约受限的师生。")
    for ban in in_force:
        with st.container(border=True, key=f"ban_{ban.id}"):
            st.markdown(f"**{common.md(ban.user_name)}（{common.md(ban.staff_no)}）**")
            st.text(f"原因：{ban.reason}\n限制至：{dates.format_date(ban.last_day)}（含）")
    if in_force:
        choices = {b.id: f"{b.user_name}（{b.staff_no}）" for b in in_force}
        with st.form("lift_ban"):
            ban_id = st.selectbox(
                "解除谁的限制",
                list(choices),
                format_func=choices.__getitem__,
                key="lift_ban",
                **common.TARGET,
            )
            why = st.text_input("解除原因（记入操作日志）", max_chars=200, key="lift_reason")
            if st.form_submit_button("解除限制") and common.chosen(ban_id, "要解除的预约限制"):
                try:
                    with common.database() as db:
                        lifted = bans.lift(db, user, ban_id, why)
                    state.ROSTER_NOTICE.set(f"已解除 {lifted.user_name} 的预约限制。")
                    st.rerun()
                except PortalError as exc:
                    common.show_error(exc)

with tab_settings:
    with common.database() as db:
        tpl = reception.load_template(db)
    st.caption(f"当前：{tpl.describe()}")
    with st.form("template"):
        place = st.text_input("默认接待地点", value=tpl.place, key="tpl_place")
        sessions = st.text_input(
            "接待时段（以逗号分隔）", value="，".join(f"{a}-{b}" for a, b in tpl.sessions), key="tpl_sessions"
        )
        c1, c2, c3 = st.columns(3)
        slot_minutes = c1.number_input("每个时段（分钟）", 10, 240, tpl.slot_minutes, key="tpl_slot")
        visits = c2.number_input("每个时段接待批数", 1, 10, tpl.visits_per_slot, key="tpl_visits")
        max_group = c3.number_input("每批最多人数", 1, 3, tpl.max_group, key="tpl_group")
        c1, c2, c3 = st.columns(3)
        open_days = c1.number_input("提前几天开放预约", 1, 90, tpl.open_days_before, key="tpl_open")
        cutoff_days = c2.number_input(
            "接待日前几天截止", 0, 14, tpl.cutoff_days_before, key="tpl_cutoff_days"
        )
        cutoff_time = c3.text_input("截止时间", value=tpl.cutoff_time, key="tpl_cutoff_time")
        c1, c2 = st.columns(2)
        confirm_days = c1.number_input(
            "候补递补：接待日前几天须确认", 0, 14, tpl.confirm_days_before, key="tpl_confirm_days"
        )
        confirm_time = c2.text_input("确认截止时间", value=tpl.confirm_time, key="tpl_confirm_time")
        c1, c2, c3 = st.columns(3)
        no_show_period = c1.selectbox(
            "未到规则：统计期间",
            list(NO_SHOW_PERIODS),
            index=list(NO_SHOW_PERIODS).index(tpl.no_show_period),
            format_func=NO_SHOW_PERIODS.__getitem__,
            key="tpl_no_show_period",
        )
        no_show_limit = c2.number_input(
            "未到几次受限（0：不限制）", 0, 20, tpl.no_show_limit, key="tpl_no_show"
        )
        no_show_weeks = c3.number_input("受限几周", 1, 52, tpl.no_show_weeks, key="tpl_no_show_weeks")
        rotation = st.text_input(
            "轮值顺序（校领导工号，以逗号分隔；未列出的按工号排在后面）",
            value="，".join(tpl.rotation),
            key="tpl_rotation",
        )
        if st.form_submit_button("保存设置"):
            try:
                pairs = [p.strip() for p in sessions.replace("，", ",").split(",") if p.strip()]
                spans = [tuple(x.strip() for x in p.replace("–", "-").split("-", 1)) for p in pairs]
                if any(len(s) != 2 for s in spans):
                    raise ValidationError("接待时段应写成 08:30-11:30，多个以逗号分隔")
                data = {
                    "place": place,
                    "sessions": spans,
                    "slot_minutes": int(slot_minutes),
                    "visits_per_slot": int(visits),
                    "max_group": int(max_group),
                    "open_days_before": int(open_days),
                    "cutoff_days_before": int(cutoff_days),
                    "cutoff_time": cutoff_time.strip(),
                    "rotation": [r.strip() for r in rotation.replace("，", ",").split(",") if r.strip()],
                    "confirm_days_before": int(confirm_days),
                    "confirm_time": confirm_time.strip(),
                    "no_show_limit": int(no_show_limit),
                    "no_show_period": no_show_period,
                    "no_show_weeks": int(no_show_weeks),
                }
                with common.database() as db:
                    reception.save_template(db, data, user.id)
                state.ROSTER_NOTICE.set("接待日设置已保存。")
                st.rerun()
            except PortalError as exc:
                common.show_error(exc)
