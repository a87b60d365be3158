import datetime as dt

import pandas as pd
import streamlit as st

from pages import common
from portal import builds, cache, dates, kpis, ledger, periods
from portal.errors import PortalError

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TAB_ROWS = 500


def _latest_table(rows: list[ledger.LedgerRow]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "日期": [r.date for r in rows],
            "领导干部": [r.cadre_name for r in rows],
            "职务": [r.title for r in rows],
            "单位": [r.unit for r in rows],
            "类别": [r.subtype for r in rows],
            "联系对象": [r.counterpart for r in rows],
            "地点": [r.place for r in rows],
            "课时": [r.hours or None for r in rows],
            "意见建议": [r.opinions for r in rows],
        }
    )


def _export(book: ledger.Ledger, progress: builds.Progress) -> bytes:
    with common.database() as db:  # the build's own connection, on its own thread
        return ledger.export_xlsx(db, book, progress=progress)


def _counts_table(book: ledger.Ledger, group: str) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"": k, **{s: counter.get(s, 0) for s in book.systems}, "合计": sum(counter.values())}
            for k, counter in book.counts(group).items()
        ]
    )


def _kpi_table(report: kpis.Report) -> pd.DataFrame:
    """One row per group: each rate with the counts behind it (95.2%（40/42）), then the ratings."""
    return pd.DataFrame(
        [
            {
                kpis.GROUP_LABELS[report.by]: r.label,
                "受理": r.cases,
                **{kpis.RATE_LABELS[name]: rate.text for name, rate in r.rates.items()},
                "满意": r.satisfied,
                "基本满意": r.basic,
                "不满意": r.unsatisfied,
                "待评价": r.awaiting,
                "未评价": r.unrated,
            }
            for r in [*report.rows, report.total]
        ]
    )


user = common.require(__file__)

st.title("工作台账")
today = dates.today()
try:
    choices = ledger.departments_for(user)
except PortalError as exc:
    common.show_error(exc)
    st.stop()

with common.database() as db:
    year_start = periods.academic_year_of(db, today).start
cols = st.columns(3)
department = cols[0].selectbox(
    "责任部门", choices, format_func=lambda d: d or "全校（全部制度）", key="l_dept"
)
since = cols[1].date_input("起始日期", value=year_start, key="l_since")
until = cols[2].date_input("截止日期", value=today, key="l_until")

if department not in choices:  # the cache below holds no user: rights are checked before asking it
    st.stop()
with common.database() as db:
    try:
        # one build per (department, period, today, data stamp), shared by every session; any write
        # anywhere makes the next run build afresh (portal/cache.py)
        args = (department, since, until)
        book = cache.memo(
            db,
            ("ledger", *args),
            lambda: ledger.build(db, user, department=department, since=since, until=until),
        )
        # every tab is sent to the browser on every run: its latest rows only, the whole in Excel
        system_tables = cache.memo(
            db,
            ("ledger-tables", *args),
            lambda: {s: _latest_table(rows) for s, rows in ledger.latest(db, book, TAB_ROWS).items()},
        )
    except PortalError as exc:
        common.show_error(exc)
        st.stop()

st.caption(
    f"{common.md(book.name)}负责的制度：{'、'.join(book.systems)}。"
    f"{dates.format_date(book.since)} 至 {dates.format_date(book.until)}，联系活动 {book.total:,} 条（不含已作废）。"
)
common.built_file(
    user,
    "ledger",
    (department, since, until),
    lambda progress: _export(book, progress),  # in the background: 11–18 s for a whole university
    build_label="生成 Excel 台账",
    download_label="下载 Excel 台账",
    file_name=f"工作台账-{book.name}-{book.since.isoformat()}至{book.until.isoformat()}.xlsx",
    mime=XLSX_MIME,
)

tabs = st.tabs(
    [ledger.DUTIES_TAB, ledger.SUMMARY_TAB, ledger.KPI_TAB, *book.systems], default=book.opening_tab
)
with tabs[0]:
    if not book.duties:
        st.info("所选部门没有负责的学校层面制度。")
    st.dataframe(
        [
            {
                "条款": d.article,
                "制度": d.title,
                "期间": d.period_label,
                "应完成": d.required,
                "已完成": d.done,
                "状态": d.status_label,
                "说明": "；".join(d.details[:5])
                + (f"……共 {len(d.details)} 项" if len(d.details) > 5 else ""),
            }
            for d in book.duties
        ],
        hide_index=True,
        width="stretch",
    )


@common.page_fragment(user, __file__)
def summary() -> None:
    """汇总方式 reruns this panel only, not the whole ledger."""
    group = st.radio(
        "汇总方式",
        ["unit", "cadre", "semester", "month"],
        format_func={"unit": "按单位", "cadre": "按领导干部", "semester": "按学期", "month": "按月份"}.get,
        horizontal=True,
        key="l_group",
    )
    with common.database() as db:
        table = cache.memo(db, ("ledger-counts", *args, group), lambda: _counts_table(book, group))
    st.dataframe(table, hide_index=True, width="stretch")


@common.page_fragment(user, __file__)
def kpi_panel() -> None:
    """三率 and 回访率 of the ledger's cases (portal/kpis.py): the figures, a table by department, unit or
    cadre, and the trend by month; 统计方式 reruns this panel only."""
    with common.database() as db:
        reports = cache.memo(db, ("ledger-kpis", *args), lambda: ledger.kpi_reports(db, book))
    total = reports["department"].total
    st.caption(
        f"{common.md(book.name)}办理的意见建议中，{dates.format_date(book.since)} 至 {dates.format_date(book.until)} "
        f"反映的 {total.cases} 件（不含已撤销）；办理和评价情况统计到今天。各项指标的口径见下方说明。"
    )
    common.figures({kpis.RATE_LABELS[name]: rate.text for name, rate in total.rates.items()})
    by = st.radio(
        "统计方式",
        ["department", "unit", "cadre"],
        format_func=lambda k: f"按{kpis.GROUP_LABELS[k]}",
        horizontal=True,
        key="l_kpi_by",
    )
    st.dataframe(_kpi_table(reports[by]), hide_index=True, width="stretch")
    trend = reports["month"]
    if trend.rows:
        st.markdown("**各月趋势（按反映月份）**")
        frame = pd.DataFrame(
            {kpis.RATE_LABELS[name]: [r.rate(name).value for r in trend.rows] for name in kpis.RATES},
            index=[r.key for r in trend.rows],
        )
        st.line_chart(frame * 100, x_label="月份", y_label="%")
        st.dataframe(_kpi_table(trend), hide_index=True, width="stretch")
    with st.expander("指标口径"):
        for line in kpis.definitions().values():
            st.text(line)


with tabs[1]:
    summary()
with tabs[2]:
    kpi_panel()
for tab, (system, frame) in zip(tabs[3:], system_tables.items(), strict=True):
    with tab:
        size = book.sizes[system]
        if size > TAB_ROWS:
            st.caption(f"{system}：{size:,} 条，显示最近 {TAB_ROWS} 条；完整台账请导出 Excel。")
        else:
            st.caption(f"{system}：{size} 条，最近的在前")
        st.dataframe(
            frame, column_config={"日期": common.date_column("日期")}, hide_index=True, width="stretch"
        )

if until - since > dt.timedelta(days=800):
    st.warning("所选期间超过两年，台账较大，导出可能需要一些时间。")
