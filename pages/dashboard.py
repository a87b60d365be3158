import pandas as pd
import streamlit as st

from pages import case_widgets, charts, common
from portal import cache, dates, links, quota
from portal.errors import PortalError
from portal.policy import policy

KIND_TITLES = {"month": "本月", "semester": "本学期", "academic_year": "本学年", "year": "本年度"}


def overview(results: list[quota.QuotaResult], key: str) -> None:
    """One coloured bar per task: how much of it is done."""
    rows = [
        {
            "任务": f"{r.system}：{r.title}",
            "完成度": round(100 * r.progress),
            "状态": r.state,
            "完成": f"{r.done:g} / {r.required:g} {r.unit_label}",
        }
        for r in results
    ]
    st.vega_lite_chart(pd.DataFrame(rows), charts.overview_spec(rows), width="stretch", key=f"overview-{key}")


def status_badge(result: quota.QuotaResult) -> None:
    icon = ":material/schedule:" if result.behind else None
    st.badge(result.state, color=charts.state_color(result.state), icon=icon)


def amount(result: quota.QuotaResult) -> str:
    unit = result.unit_label
    if result.max is not None:
        want = (
            f"{result.required:g}"
            if result.max == result.required
            else f"{result.required:g}～{result.max:g}"
        )
        return f"现有 {result.done:g} {unit}，应为 {want} {unit}"
    return f"完成 {result.done:g} / {result.required:g} {unit}"


def show_result(result: quota.QuotaResult, activities: dict[int, quota.CountedActivity], key: str) -> None:
    with st.container(border=True):
        left, right = st.columns([5, 1])
        left.text(f"{result.title}（{result.article}）")
        with right:
            status_badge(result)
        st.markdown(f"{charts.progress_bar(result)}　:{charts.state_color(result.state)}[{amount(result)}]")
        facts = []
        if result.status == "in_progress":
            facts.append(f"按进度此时应完成 {result.expected:g} {result.unit_label}")
            facts.append(f"截止 {dates.format_date(result.end)}")
        if result.note:
            facts.append(result.note)
        if facts:
            st.text("；".join(facts))
        if result.missing:
            st.text("尚未联系：" + "、".join(result.missing))
        counted = [activities[i] for i in result.activity_ids if i in activities]
        if counted:
            with st.expander(f"计入的联系活动（{len(counted)} 条）"):
                st.dataframe(
                    pd.DataFrame(
                        [
                            {
                                "日期": a.date,
                                "制度": a.system,
                                "类别": a.subtype,
                                "联系对象": a.counterpart_text,
                                "地点": a.place,
                                "课时": a.hours or None,
                            }
                            for a in counted
                        ]
                    ),
                    column_config={"日期": common.date_column("日期")},
                    hide_index=True,
                    width="stretch",
                    key=f"counted-{key}",
                )


user = common.require(__file__)
today = dates.today()

st.title("我的工作台")
with common.database() as db:
    choices = dict(quota.dashboard_choices(db, user, today))
    if not choices:
        st.info("您的账号不是干部，没有个人工作台。")
        st.stop()
    if len(choices) > 1:
        linked: int | None
        try:  # from 干部任务总览 or a shared link
            linked = links.parse_id(st.query_params.get("cadre", ""))
        except ValueError:
            linked = None
        if linked in choices and "dashboard_cadre" not in st.session_state:
            st.session_state["dashboard_cadre"] = linked
        person_id = st.selectbox(
            "查看干部", list(choices), format_func=choices.__getitem__, key="dashboard_cadre"
        )
    else:
        person_id = next(iter(choices))
    try:
        systems = quota.dashboard_systems(user, person_id)  # rights first: the cache holds no user
        # one computation per (cadre, systems shown, today, data stamp), shared by every session
        data = cache.memo(
            db,
            ("dashboard", person_id, tuple(systems) if systems is not None else None),
            lambda: quota.dashboard(db, person_id, on=today, systems=systems),
        )
    except PortalError as exc:
        common.show_error(exc)
        st.stop()
    ids = {i for r in data.results for i in r.activity_ids}
    counted = {a.id: a for a in quota.counted_activities(db, ids, person_id)}

st.caption(f"{common.md(data.name)}（{data.staff_no}） · 截至 {dates.format_date(data.on)}")
if quota.dashboard_systems(user, person_id) is not None:
    st.caption("按部门职责，仅显示本部门负责的制度。")
if not data.results:
    st.info("目前没有适用于该干部的联系师生任务。")
    st.stop()

# at a glance: this month, semester, academic year and year
columns = st.columns(4)
for column, (kind, period) in zip(columns, data.current.items(), strict=True):
    mine = data.of(period)
    counts = data.counts(mine)
    behind = sum(r.behind for r in mine)
    with column, st.container(border=True):
        assessed = len(mine) - counts["not_assessed"]
        st.metric(KIND_TITLES[kind], f"{counts['met']} / {assessed}" if mine else "—")
        st.caption(
            f"{period.label}：已完成 {counts['met']} 项，共 {assessed} 项"
            if mine
            else f"{period.label}：无任务"
        )
        if behind:
            st.badge(f"{behind} 项进度滞后", color="orange")
        if counts["missed"]:
            st.badge(f"{counts['missed']} 项未完成", color="red")

st.subheader("需要关注")
if data.running:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "截止": dates.format_date(r.end, weekday=False),
                    "进度": r.state,
                    "事项": f"{r.title}（{r.period_label}）",
                    "完成": r.done,
                    "要求": r.required,
                    "按进度应完成": r.expected,
                }
                for r in data.running
            ]
        ),
        hide_index=True,
        width="stretch",
        key="running",
    )
else:
    st.success("当前各期间的任务都已完成。")

tabs = st.tabs([f"{KIND_TITLES[k]}：{p.label}" for k, p in data.current.items()])
for tab, (kind, period) in zip(tabs, data.current.items(), strict=True):
    with tab:
        mine = data.of(period)
        if not mine:
            st.info("本期间没有适用的任务。")
        else:
            overview(mine, kind)
        for system in dict.fromkeys(r.system for r in mine):
            st.markdown(f"**{system}**")
            for r in (r for r in mine if r.system == system):
                show_result(r, counted, f"{kind}-{r.rule}")

st.subheader("各月联系活动")
if data.monthly:
    spec = charts.monthly_spec(data.monthly, policy().system_names)
    st.vega_lite_chart(spec, width="stretch", key="monthly")
else:
    st.info("还没有联系活动记录。")

case_widgets.contact_ratings(user, person_id)

st.subheader("以往期间")
past = data.past
if past:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "期间": r.period_label,
                    "任务": r.title,
                    "制度": r.system,
                    "要求": f"{r.required:g}" if r.max is None else f"{r.required:g}～{r.max:g}",
                    "完成": r.done,
                    "结果": r.status_label,
                }
                for r in past
            ]
        ),
        hide_index=True,
        width="stretch",
        key="past",
    )
else:
    st.info("还没有已结束的考核期间。")
