import streamlit as st

from pages import common, state
from portal import dates, org, unit_names
from portal.errors import PortalError
from portal.policy import policy

user = common.require(__file__)

st.title("组织与干部")
with common.database() as db:
    units = org.list_units(db)
    cadres = org.list_cadres(db, on=dates.today())
    mapping = unit_names.resolve(db)
if notice := state.ORG_NOTICE.pop():
    st.success(notice)

missing = [m.policy_name for m in mapping.values() if m.how == "missing"]
tab_units, tab_cadres, tab_names = st.tabs(
    [f"单位（{len(units)}）", f"在任干部（{len(cadres)}）", f"政策单位名称（{len(missing)} 个未对应）"]
)
with tab_units:
    st.dataframe(
        [
            {
                "单位": u.name,
                "单位编码": u.code or "",
                "类型": u.kind_label,
                "政策中的名称": u.policy_name or "",
            }
            for u in units
        ],
        hide_index=True,
        width="stretch",
    )
with tab_cadres:
    text = st.text_input("查找（姓名、工号、单位或职务）")
    tag_names = policy().tags
    rows = []
    for c in cadres:
        for p in c.posts:
            row = {
                "工号": c.staff_no,
                "姓名": c.name,
                "单位": p.unit_name,
                "职务": p.title,
                "级别": p.level,
                "标签": "、".join(tag_names.get(t, t) for t in sorted(p.all_tags)),
                "分管单位": "、".join(p.charges),
                "任职开始": p.start_date,
            }
            if not text or any(text in str(v) for v in row.values()):
                rows.append(row)
    st.dataframe(
        rows, column_config={"任职开始": common.date_column("任职开始")}, hide_index=True, width="stretch"
    )
with tab_names:
    st.caption(
        "《实施办法》用简称指称单位（党办、校办、学工部、研工部……）。下表是这些名称对应的本校单位；"
        "考核规则中“某单位的干部”按此对应。研工部与研究生院合署时，由研究生院承担研工部的职责（第十九条）。"
    )
    st.dataframe(
        [
            {"政策中的名称": m.policy_name, "本校单位": m.unit_name or "—", "对应方式": m.how_label}
            for m in mapping.values()
        ],
        hide_index=True,
        width="stretch",
        key="policy_names",
    )
    if user.has("admin"):
        with st.form("policy_name_form"):
            name = st.selectbox("政策中的名称", list(mapping), key="policy_name_choice")
            choices: dict[int | None, str] = {
                None: "本校没有此单位",
                **{u.id: u.name for u in units},
                -1: "恢复自动对应",
            }
            unit_id = st.selectbox(
                "对应的本校单位", list(choices), format_func=choices.__getitem__, key="policy_name_unit"
            )
            save = st.form_submit_button("保存对应", type="primary")
        if save:
            try:
                with common.database() as db:
                    if unit_id == -1:
                        unit_names.clear_mapping(db, name, user.id)
                    else:
                        unit_names.set_mapping(db, name, unit_id, user.id)
            except PortalError as exc:
                common.show_error(exc)
            else:
                state.ORG_NOTICE.set(f"已保存“{name}”的对应。")
                st.rerun()
