import streamlit as st

from pages import charts, common
from portal import assessment, cache, dates, kpis
from portal.errors import PortalError

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _kpis(count: str, figures: kpis.Figures | None) -> dict[str, object]:
    """A unit's (as 承办单位) or a cadre's (his or her contacts') KPI columns."""
    if figures is None:
        return {count: 0, "办结率": "—", "按期办结率": "—", "满意率": "—"}
    return {
        count: figures.cases,
        "办结率": figures.rate("resolve").percent,
        "按期办结率": figures.rate("on_time").percent,
        "满意率": figures.rate("satisfaction").percent,
    }


user = common.require(__file__)

st.title("年度考核")
today = dates.today()
year = st.selectbox("考核年度", list(range(today.year, today.year - 5, -1)), key="a_year")

with common.database() as db:
    try:
        assessment.check_viewer(user)  # the cached result holds no user: rights first
        # computed once per (year, today, data stamp) for every session; any write recomputes it
        result = cache.memo(db, ("assessment", year), lambda: assessment.assess(db, year))
    except PortalError as exc:
        common.show_error(exc)
        st.stop()

t = result.total
st.caption(
    f"统计截至 {dates.format_date(result.on)}。考核期间为该年度内结束的月、学期、学年和年度；"
    "完成率 = 已完成 ÷ 考核项，进行中的期间计为尚未完成，任职不足半个期间的不考核。"
)
common.figures(
    {
        "参加考核干部": len(result.cadres),
        "考核项": t.assessed,
        "已完成": t.met,
        "未完成": t.missed,
        "完成率": t.rate_text,
    }
)

if not result.cadres:
    st.info("该年度没有可考核的数据。")
    st.stop()

cols = st.columns(2)
cols[0].download_button(
    "导出 Excel（排名、热力图、干部、明细）",
    data=common.owned(
        user,
        common.audited(user, "assessment.export", f"{year}年度考核", lambda: assessment.export_xlsx(result)),
    ),
    file_name=f"{year}年度考核.xlsx",
    mime=XLSX_MIME,
    icon=":material/download:",
    key="a_xlsx",
)


@common.page_fragment(user, __file__)
def unit_report() -> None:
    """Choosing a unit reruns this panel only; the report is built when the button is clicked."""
    unit = st.selectbox("单位报告", [u.unit for u in result.units], key="a_unit")
    st.download_button(
        "下载该单位 Word 报告",
        data=common.owned(user, lambda: assessment.unit_report_docx(result, unit)),
        file_name=f"{year}年度考核-{unit}.docx",
        mime=DOCX_MIME,
        icon=":material/description:",
        key="a_docx",
    )


with cols[1]:
    unit_report()

tabs = st.tabs(["热力图", "单位排名", "干部排名", "意见建议办理"])
with tabs[0]:
    order = [u.unit for u in result.units]
    heat = assessment.heat_rows(result)
    with common.desktop_only("heat"):
        st.vega_lite_chart(charts.heatmap_spec(heat, order, result.systems), width="stretch", key="heat")
    with common.phone_only("heat"):
        # a phone holds no 11-column heatmap: one unit at a time, its systems as rows
        unit = st.selectbox("单位（按完成率排名）", order, key="a_heat_unit")
        st.dataframe(
            [
                {"制度": r["制度"], "完成率": r["完成率"], "完成": f"{r['已完成']}/{r['考核项']}"}
                for system in result.systems
                for r in heat
                if r["单位"] == unit and r["制度"] == system
            ],
            column_config={
                # red below half, green above, as the heatmap
                "完成率": st.column_config.ProgressColumn(
                    "完成率", format="percent", min_value=0, max_value=1, color="auto"
                )
            },
            hide_index=True,
            width="stretch",
            key="heat_phone",
        )
with tabs[1]:
    st.dataframe(
        [
            {
                "名次": u.rank,
                "单位": u.unit,
                "干部人数": u.cadres,
                "考核项": u.tally.assessed,
                "已完成": u.tally.met,
                "未完成": u.tally.missed,
                "进行中": u.tally.in_progress,
                "完成率": u.tally.rate_text,
                **_kpis("承办意见建议", u.handled),
            }
            for u in result.units
        ],
        hide_index=True,
        width="stretch",
    )
with tabs[2]:
    st.dataframe(
        [
            {
                "名次": c.rank,
                "工号": c.staff_no,
                "姓名": c.name,
                "单位": c.unit,
                "考核项": c.tally.assessed,
                "已完成": c.tally.met,
                "未完成": c.tally.missed,
                "进行中": c.tally.in_progress,
                "完成率": c.tally.rate_text,
                **_kpis("联系中反映的意见建议", c.contacts),
            }
            for c in result.cadres
        ],
        hide_index=True,
        width="stretch",
    )
with tabs[3]:
    st.caption(
        f"{year}年反映的意见建议，办理和评价统计到今天（不计入完成率和排名）。单位排名、干部排名中另列各单位承办、"
        "各干部联系中反映的意见建议的办结率、按期办结率和满意率。"
    )
    if result.departments is not None:
        st.dataframe(
            [
                {
                    "责任部门": r.label,
                    "受理": r.cases,
                    **{kpis.RATE_LABELS[name]: rate.text for name, rate in r.rates.items()},
                }
                for r in [*result.departments.rows, result.departments.total]
            ],
            hide_index=True,
            width="stretch",
        )
