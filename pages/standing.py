import streamlit as st

from pages import common
from portal import dates, org, standing

user = common.require(__file__)

st.title("干部任务总览")
st.caption(
    "在任干部对照本月、本学期、本学年、本年度各项任务的完成情况，落后最多的排在前面。"
    "点击“工作台”查看该干部的详细情况。右侧为本年度该干部联系活动中师生所提意见建议的件数、按期办结率和满意率。"
)
with common.database() as db:
    units = {u.id: u.name for u in org.list_units(db)}

with st.container(horizontal=True):
    unit_id = st.selectbox(
        "单位",
        [None, *units],
        format_func=lambda u: "全部单位" if u is None else units[u],
        key="standing_unit",
    )
    level = st.selectbox(
        "级别", ["", *standing.LEVELS], format_func=lambda v: v or "全部级别", key="standing_level"
    )
    state = st.selectbox(
        "状态",
        list(standing.STATE_FILTERS),
        format_func=standing.STATE_FILTERS.__getitem__,
        key="standing_state",
    )

with common.database() as db, st.spinner("正在计算……"):
    result = standing.standing(db, user, on=dates.today(), unit_id=unit_id, level=level or None, state=state)

if result.systems is not None:
    st.caption("按部门职责，仅显示本部门负责的制度：" + "、".join(result.systems))
if not result.rows:
    st.info("没有符合条件的干部。")
    st.stop()

behind = sum(1 for r in result.rows if r.behind)
missed = sum(1 for r in result.rows if r.missed)
common.figures({"干部": len(result.rows), "有进度滞后的": behind, "有未完成任务的": missed})

table = [
    {
        "工号": row.staff_no,
        "姓名": row.name,
        "单位": row.units,
        "滞后": row.behind,
        "未完成": row.missed,
        "工作台": f"/dashboard?cadre={row.person_id}",
        **{c: row.cells[c].text if c in row.cells else "—" for c in result.columns},
        **dict(zip(standing.KPI_LABELS, standing.kpi_cells(row), strict=True)),
    }
    for row in result.rows
]
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={"工作台": st.column_config.LinkColumn("工作台", display_text="查看")},
)
st.download_button(
    "导出 Excel",
    data=common.owned(user, lambda: standing.workbook(result)),
    file_name=f"干部任务总览_{dates.today().isoformat()}.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    icon=":material/download:",
    on_click="ignore",
)
