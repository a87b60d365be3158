import streamlit as st

from pages import common
from portal import dates, org
from portal.policy import policy

user = common.require(__file__)

st.title("组织与干部")
with common.database() as db:
    units = org.list_units(db)
    cadres = org.list_cadres(db, on=dates.today())

tab_units, tab_cadres = st.tabs([f"单位（{len(units)}）", f"在任干部（{len(cadres)}）"])
with tab_units:
    st.dataframe(
        [{"单位": u.name, "类型": u.kind_label, "政策中的名称": u.policy_name or ""} for u in units],
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
                "任职开始": p.start_date.isoformat(),
            }
            if not text or any(text in str(v) for v in row.values()):
                rows.append(row)
    st.dataframe(rows, hide_index=True, width="stretch")
