import streamlit as st

from pages import common
from portal import assignments, dates, org
from portal.errors import PortalError

user = common.require(__file__)

st.title("联系对象")
today = dates.today()
kinds = assignments.managed_kinds(user)


def assignment_rows(items: list[assignments.Assignment]) -> list[dict]:
    return [
        {
            "工号": a.cadre_staff_no,
            "领导干部": a.cadre_name,
            "对象类型": a.kind,
            "对象编号": a.target_code,
            "对象名称": a.target_name,
            "开始日期": a.start_date,
            "结束日期": a.end_date,
            "状态": "在联系" if a.active_on(today) else "已结束",
        }
        for a in items
    ]


DATE_COLUMNS = {"开始日期": common.date_column("开始日期"), "结束日期": common.date_column("结束日期")}


def warning_rows(items: list[assignments.BoundWarning]) -> list[dict]:
    return [
        {"工号": w.cadre_staff_no, "领导干部": w.cadre_name, "条款": w.article, "提醒": w.message}
        for w in items
    ]


if not kinds:  # a cadre: his or her own, read-only
    with common.database() as db:
        mine = assignments.list_assignments(db, user, cadre_id=user.person_id)
        notes = assignments.warnings(db, user)
    st.caption("本人的联系对象由党办、校办、组织部、统战部、老干部工作处维护；如有出入请联系相应部门。")
    st.dataframe(assignment_rows(mine), column_config=DATE_COLUMNS, hide_index=True, width="stretch")
    if notes:
        st.subheader("与实施办法不一致之处")
        st.dataframe(warning_rows(notes), hide_index=True, width="stretch")
    st.stop()

st.caption(f"您可以维护：{'、'.join(kinds)}。提醒依据实施办法的条款列出，仅作提示，不阻止保存。")
tab_list, tab_edit, tab_targets, tab_warn = st.tabs(["联系对象", "设置联系对象", "名单", "提醒"])

with common.database() as db:
    cadres = org.list_cadres(db, on=today)
    names = {c.person_id: f"{c.name}（{c.staff_no}）{c.title_on(today)}" for c in cadres}

with tab_list:
    c1, c2, c3 = st.columns(3)
    kind = c1.selectbox("对象类型", ["全部", *kinds], key="l_kind")
    who = c2.selectbox(
        "领导干部", [None, *names], format_func=lambda k: "全部" if k is None else names[k], key="l_cadre"
    )
    active = c3.checkbox("只看在联系的", value=True, key="l_active")
    with common.database() as db:
        shown = assignments.list_assignments(
            db, user, cadre_id=who, kind=None if kind == "全部" else kind, active_on=today if active else None
        )
    st.caption(f"共 {len(shown)} 条")
    st.dataframe(assignment_rows(shown), column_config=DATE_COLUMNS, hide_index=True, width="stretch")
    ending = {a.id: f"{a.cadre_name}｜{a.kind}｜{a.target_name}" for a in shown if a.active_on(today)}
    if ending:
        with st.form("end_form"):
            end_id = st.selectbox(
                "结束联系", list(ending), format_func=ending.__getitem__, key="end_id", **common.TARGET
            )
            end_day = st.date_input("结束日期", value=today, key="end_date")
            if st.form_submit_button("结束联系") and common.chosen(end_id, "要结束的联系"):
                try:
                    with common.database() as db:
                        assignments.end_assignment(db, end_id, end_day, user)
                except PortalError as exc:
                    common.show_error(exc)
                else:
                    st.success("已结束联系（记录保留）。")

with tab_edit:
    kind = st.selectbox("对象类型", kinds, key="a_kind")
    with common.database() as db:
        if kind == "联系学院":
            options = {u.name: u.name for u in org.list_units(db) if u.kind == "college"}
        elif kind in assignments.LIST_KINDS:
            options = {
                t.code: f"{t.name}（{t.code}）{t.note}"
                for t in assignments.list_targets(db, kind, active_only=True)
            }
        else:
            options = {}
    with st.form("assign_form"):
        cadre_id = st.selectbox("领导干部", list(names), format_func=names.__getitem__, key="a_cadre")
        if options:
            code = st.selectbox("对象", list(options), format_func=options.__getitem__, key="a_code")
            name = ""
        else:
            code = st.text_input("对象编号（固定编号，如班级代码）", key="a_code_text")
            name = st.text_input("对象名称（打印在记录表上，如 计算机2023级1班）", key="a_name")
        start = st.date_input("开始日期", value=today, key="a_start")
        if st.form_submit_button("保存", type="primary"):
            try:
                with common.database() as db:
                    saved, outcome = assignments.save_assignment(
                        db,
                        assignments.AssignmentInput(
                            cadre_id=cadre_id,
                            kind=kind,
                            target_code=code or "",
                            target_name=name,
                            start_date=start,
                        ),
                        user,
                    )
                    notes = assignments.warnings(db, user, cadre_id=cadre_id)
            except PortalError as exc:
                common.show_error(exc)
            else:
                st.success(
                    {"created": "已添加", "updated": "已更新", "unchanged": "没有变化"}[outcome]
                    + f"：{saved.target_name}"
                )
                for w in notes:
                    st.warning(w.message)

with tab_targets:
    list_kinds = [k for k in kinds if k in assignments.LIST_KINDS]
    if not list_kinds:
        st.info("您维护的对象类型没有名单。")
    else:
        kind = st.selectbox("名单", list_kinds, key="t_kind")
        with common.database() as db:
            listed = assignments.list_targets(db, kind)
            units = {u.id: u.name for u in org.list_units(db)}
        st.dataframe(
            [
                {
                    "编号": t.code,
                    "名称": t.name,
                    "单位": t.unit_name or "",
                    "备注": t.note,
                    "状态": "有效" if t.active else "停用",
                }
                for t in listed
            ],
            hide_index=True,
            width="stretch",
        )
        with st.form("target_form"):
            st.caption("新增或修改（按编号）；人员填工号")
            t_code = st.text_input("编号", key="t_code")
            t_name = st.text_input("名称", key="t_name")
            t_unit = st.selectbox(
                "单位", [None, *units], format_func=lambda k: "" if k is None else units[k], key="t_unit"
            )
            t_note = st.text_input("备注（如 太行学者、民盟）", key="t_note")
            t_active = st.checkbox("有效", value=True, key="t_active")
            if st.form_submit_button("保存"):
                try:
                    with common.database() as db:
                        _, outcome = assignments.save_target(
                            db,
                            assignments.TargetInput(
                                kind=kind,
                                code=t_code,
                                name=t_name,
                                unit_id=t_unit,
                                note=t_note,
                                active=t_active,
                            ),
                            user,
                        )
                except PortalError as exc:
                    common.show_error(exc)
                else:
                    st.success({"created": "已添加", "updated": "已更新", "unchanged": "没有变化"}[outcome])

with tab_warn:
    with common.database() as db:
        notes = assignments.warnings(db, user)
    st.caption(f"共 {len(notes)} 条提醒")
    st.dataframe(warning_rows(notes), hide_index=True, width="stretch")
