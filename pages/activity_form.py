import streamlit as st

from pages import common
from portal import (
    activities,
    activity_recording,
    assignments,
    cases,
    dates,
    navigation,
    org,
    record_form,
    submissions,
)
from portal.errors import PortalError
from portal.policy import policy

FORM_KEYS = (
    "place",
    "targets",
    "counterparts",
    "extra_codes",
    "counterpart",
    "hours",
    "participants",
    "content",
    "opinions",
    "followup",
)

user = common.require(__file__)

st.title("记录联系活动")
st.caption("按 11 项联系师生制度记录已开展的联系活动；联系对象反映的每条意见建议都会转交责任部门办理。")

FORM = "activity"
token = common.form_token(FORM)
with common.database() as db:
    done = submissions.recorded(db, token, FORM)


def _show_result(activity_id: int) -> None:
    """What this form created, in place of the form: a resubmit or a reload shows it again."""
    try:
        with common.database() as db:
            saved = activities.get_activity(db, activity_id, user)
            opened = cases.of_activity(db, activity_id)
            data = record_form.render_record_form(db, activity_id, user)
    except PortalError as exc:
        common.show_error(exc)
        return
    st.success(
        f"已保存：{dates.format_date(saved.date)} {saved.system}—{saved.subtype}（编号 {saved.id}）",
        icon=":material/check_circle:",
    )
    if opened:
        st.markdown(f"**意见建议 {len(opened)} 条已转交{common.md(opened[0].responsible_dept)}办理**")
        st.text("\n".join(f"{c.number}　{c.state_label}　{c.content}" for c in opened))
    st.download_button(
        "下载记录表（Word）",
        common.owned(user, data),
        file_name=record_form.form_filename(saved),
        mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        icon=":material/download:",
        key="download_last",
    )
    if saved.cadre_id == user.person_id and navigation.can_open(user, "pages/dashboard.py"):
        common.page_link("pages/dashboard.py", label="查看我的工作台（已计入）", icon=":material/dashboard:")


if done is not None:
    _show_result(done.made_id)
    if st.button("记录下一条", type="primary", icon=":material/add:", key="next_activity"):
        common.fresh_form(FORM)
        for key in FORM_KEYS:  # an empty form for the next record
            st.session_state.pop(key, None)
        st.rerun()
    st.stop()

today = dates.today()
with common.database() as db:
    systems = activities.systems_for(user)
    cadre_id: int | None
    if activities.can_log_for_others(user):
        cadres = org.list_cadres(db, on=today)
        own = [c for c in cadres if c.person_id == user.person_id]
        choices = {c.person_id: f"{c.name}（{c.staff_no}）{c.title_on(today)}" for c in [*own, *cadres]}
        cadre_id = st.selectbox("领导干部", list(choices), format_func=choices.__getitem__, key="cadre")
        st.caption(f"代为记录时，系统会记下录入人：{common.md(user.display_name)}")
    else:
        cadre_id = user.person_id
    if cadre_id is None or not systems:
        st.info("您的账号没有可以记录的联系活动。")
        st.stop()

    system = st.selectbox("制度", systems, key="system")
    subtype = st.selectbox("类别", policy().system(system).subtypes, key="subtype")
    kind = activities.TARGET_KINDS.get((system, subtype))
    held = assignments.list_assignments(db, cadre_id=cadre_id, kind=kind) if kind else []
    colleagues: dict[str, str] = {}
    if system in activities.COUNTERPART_SYSTEMS:
        cadre = org.get_cadre(db, cadre_id)
        units = {p.unit_id for p in cadre.posts_on(today)}
        for c in org.list_cadres(db, on=today):
            if c.person_id != cadre_id and (
                any(p.unit_id in units or p.level == "校级" for p in c.posts_on(today))
            ):
                colleagues[c.staff_no] = f"{c.name}（{c.staff_no}）{c.title_on(today)}"

if kind and not held:
    st.warning(f"该干部还没有{kind}，请先请责任部门在“联系对象”中设置。")

errors = common.FieldErrors()  # a refused save shows every problem at once, each under its field
with st.form("activity_form", clear_on_submit=False):
    day = st.date_input("日期", value=today, max_value=today, key="date")
    errors.under("date")
    place = st.text_input("地点", max_chars=activities.LIMITS["place"], key="place")
    errors.under("place")
    codes: list[str] = []
    names: dict[str, str] = {}
    if kind:
        labels = {
            a.target_code: f"{a.target_name}（{a.start_date} 起{'，至 ' + str(a.end_date) if a.end_date else ''}）"
            for a in held
        }
        names = labels
        codes = st.multiselect(
            f"{kind}", list(labels), format_func=labels.__getitem__, key="targets", select_all=False
        )
    elif colleagues:
        names = colleagues
        codes = st.multiselect(
            "谈话对象",
            list(colleagues),
            format_func=colleagues.__getitem__,
            key="counterparts",
            select_all=False,
        )
        extra = st.text_input("其他谈话对象的工号（多个以 ; 分隔）", key="extra_codes")
        codes += [c.strip() for c in extra.replace("；", ";").split(";") if c.strip()]
    errors.under("target_codes")
    counterpart = st.text_input(
        "联系对象（打印在记录表上；不填则用所选对象的名称）",
        max_chars=activities.LIMITS["counterpart_text"],
        key="counterpart",
    )
    errors.under("counterpart_text")
    hours = 0.0
    if (system, subtype) == activities.HOURS_SUBTYPE:
        hours = st.number_input(
            "课时",
            min_value=activities.MIN_HOURS,
            max_value=activities.MAX_HOURS,
            value=2.0,
            step=0.5,
            key="hours",
        )
        errors.under("hours")
    participants = st.text_input("参加人员", max_chars=activities.LIMITS["participants"], key="participants")
    errors.under("participants")
    content = st.text_area("联系工作开展情况", max_chars=activities.LIMITS["content"], key="content")
    errors.under("content")
    opinions = st.text_area(
        "联系对象反映的意见和建议（每行一条，每条转交责任部门办理）", height=120, key="opinions"
    )
    errors.under("opinions")
    followup = st.text_area("落实情况（当场答复的写明答复内容）", key="followup")
    errors.under("followup")
    submitted = st.form_submit_button("保存", type="primary", icon=":material/save:")


def save(data: activities.ActivityInput) -> None:
    """Save the form once (its token); the result then replaces the form."""
    try:
        with common.database() as db:
            submissions.once(
                db, token, FORM, lambda: activity_recording.log_activity(db, data, user).id, user_id=user.id
            )
    except PortalError as exc:
        errors.show(exc)
    else:
        st.rerun()


if submitted:
    data = activities.ActivityInput(
        cadre_id=cadre_id,
        system=system,
        subtype=subtype,
        date=day,
        place=place,
        counterpart_text=counterpart,
        target_codes=codes,
        hours=hours,
        participants=participants,
        content=content,
        opinions=[line for line in opinions.splitlines() if line.strip()],
        followup=followup,
    )
    if len(codes) > activities.MANY_TARGETS:  # an official record naming many targets: asked first
        common.ask("many_targets", data=data.model_dump(mode="json"), names=[names.get(c, c) for c in codes])
    else:
        save(data)

if asked := common.pending("many_targets"):
    lines = [
        f"本次记录将列出以下 {len(asked['names'])} 个联系对象，并打印在记录表上：",
        *(f"· {name}" for name in asked["names"]),
        "请确认每一个都参加了本次联系活动；如有误，请取消后修改选择。",
    ]
    if details := common.confirmed("many_targets", "确认联系对象", lines, ok="确认保存"):
        save(activities.ActivityInput.model_validate(details["data"]))
