import csv
import datetime as dt
import io

import pandas as pd
import streamlit as st

from pages import common, state
from portal import case_actions, dates, periods, workdays  # noqa: F401 - case_actions listens to calendar changes
from portal.errors import PortalError, ValidationError

user = common.require(__file__)
today = dates.today()

st.title("校历与工作日")
st.caption(
    "学期与教学周决定学期考核的起止和接待日（教学周的周三）；工作日 = 周一至周五，去掉国家法定节假日，"
    "加上调休上班日，再以学校自定的调整为准。意见建议的办理期限按工作日计算。"
)

with common.database() as db:
    warning = workdays.calendar_warning(db, dt.date(today.year, 1, 1), dt.date(today.year + 1, 12, 31))
    sems = periods.semesters(db)
    years = workdays.loaded_years(db)
    overrides = workdays.overrides(db)
if warning:
    st.warning(warning, icon=":material/warning:")
if notice := state.CALENDAR_NOTICE.pop():
    st.success(notice)


def done(message: str) -> None:
    """Show the change on a fresh run, so the tables above include it."""
    state.CALENDAR_NOTICE.set(message)
    st.rerun()


# --- semesters ------------------------------------------------------------------------------
st.subheader("学期与教学周")
st.dataframe(
    pd.DataFrame(
        [
            {
                "学期编号": s.key,
                "名称": s.name,
                "学期开始": s.start_date,
                "学期结束": s.end_date,
                "教学开始": s.teaching_start,
                "教学结束": s.teaching_end,
                "教学周数": len(s.teaching_weeks),
                "假期": "；".join(
                    f"{name} {dates.format_date(a, weekday=False)}～{dates.format_date(b, weekday=False)}"
                    for name, a, b in s.vacations
                ),
            }
            for s in sems
        ]
    ),
    column_config={k: common.date_column(k) for k in ("学期开始", "学期结束", "教学开始", "教学结束")},
    hide_index=True,
    width="stretch",
    key="semesters",
)
keys = [s.key for s in sems]
with common.database() as db:
    default_key = periods.semester_containing(db, today).key
choice = st.selectbox(
    "编辑学期（或选“新增学期”）",
    [*keys, "新增学期"],
    index=keys.index(default_key) if default_key in keys else 0,
    key="semester_choice",
)
with common.database() as db:
    base = periods.get_semester(db, choice) if choice != "新增学期" else None
with st.form("semester_form"):
    if base is None:
        new_key = st.text_input("学期编号（如 2028-2029-1）", key="semester_key")
    c1, c2 = st.columns(2)
    start = c1.date_input("学期开始", value=base.start_date if base else None, key="sem_start")
    end = c2.date_input("学期结束", value=base.end_date if base else None, key="sem_end")
    t_start = c1.date_input(
        "教学开始（第 1 教学周）",
        value=base.teaching_start if base else None,
        key="sem_tstart",
    )
    t_end = c2.date_input("教学结束", value=base.teaching_end if base else None, key="sem_tend")
    save = st.form_submit_button("保存学期", type="primary")
if save:
    key = choice if base is not None else new_key.strip()
    try:
        if not all((start, end, t_start, t_end)):
            raise ValidationError("请填写全部四个日期")
        sem = periods.default_semester(key).model_copy(
            update={"start_date": start, "end_date": end, "teaching_start": t_start, "teaching_end": t_end}
        )
        with common.database() as db:
            periods.save_semester(db, sem)
    except PortalError as exc:
        common.show_error(exc)
    else:
        done(f"已保存 {sem.name}：教学周 {len(sem.teaching_weeks)} 周。")

# --- official holidays ----------------------------------------------------------------------
st.subheader("国家法定节假日和调休")
st.dataframe(
    pd.DataFrame(
        [
            {
                "年份": y.year,
                "来源": "chinesecalendar 数据包"
                if y.source == workdays.PACKAGE_SOURCE
                else y.source.removeprefix("file:"),
                "休息日（天）": y.holidays,
                "调休上班（天）": y.workdays,
                "导入时间": dates.format_stamp(y.loaded_at),
            }
            for y in reversed(years)
        ]
    ),
    hide_index=True,
    width="stretch",
    key="years",
)
st.caption(
    "国务院办公厅每年秋冬公布下一年的放假安排。文件为 CSV（UTF-8）或 .xlsx，表头：日期、类型、名称；"
    "类型为“休息日”（工作日放假）或“工作日”（周末调休上班），每行一天，只能包含同一年的日期。导入后重新计算未办结意见建议的期限。"
)
sample = io.StringIO()
writer = csv.DictWriter(sample, fieldnames=list(workdays.COLUMNS))
writer.writeheader()
writer.writerows(workdays.template_rows(max(y.year for y in years) if years else today.year))
st.download_button(
    "下载示例文件（已载入的最近一年）",
    common.owned(user, sample.getvalue().encode("utf-8-sig")),
    file_name="节假日安排示例.csv",
    mime="text/csv",
    icon=":material/download:",
)
with st.form("holiday_form"):
    upload = st.file_uploader("节假日安排文件", type=["csv", "xlsx"], key="holiday_file")
    save_year = st.form_submit_button("导入", type="primary")
if save_year:
    if upload is None:
        st.error("请先选择文件。")
    else:
        try:
            with common.database() as db:
                result = workdays.load_year(
                    db, None, [], filename=upload.name, data=upload.getvalue(), actor_id=user.id
                )
        except PortalError as exc:
            common.show_error(exc)
        else:
            done(result.summary())

# --- the university's own overrides ------------------------------------------------------------
st.subheader("学校自定的工作日调整")
st.caption("如校庆日放假、学校统一安排的补班。学校调整优先于国家安排。")
if overrides:
    st.dataframe(
        pd.DataFrame(
            [{"日期": dates.format_date(o.date), "类型": o.type_label, "说明": o.note} for o in overrides]
        ),
        hide_index=True,
        width="stretch",
        key="overrides",
    )
with st.form("override_form"):
    c1, c2 = st.columns(2)
    day = c1.date_input("日期", value=today, key="override_day")
    kind = c2.radio("类型", list(workdays.TYPES), horizontal=True, key="override_kind")
    note = st.text_input("说明", max_chars=100, key="override_note")
    add = st.form_submit_button("保存调整", type="primary")
if add:
    try:
        with common.database() as db:
            workdays.set_override(db, day, workdays.TYPES[kind] == 1, note, user.id)
    except PortalError as exc:
        common.show_error(exc)
    else:
        done(f"已将 {dates.format_date(day)} 设为{kind}。")
if overrides:
    labels = {o.date: f"{dates.format_date(o.date)} {o.type_label}" for o in overrides}
    # no default: what an action removes is chosen, never fallen back to (common.TARGET)
    gone = st.selectbox(
        "撤销调整", list(labels), format_func=labels.__getitem__, key="override_remove", **common.TARGET
    )
    if st.button("撤销", key="override_remove_button") and common.chosen(gone, "要撤销的调整"):
        with common.database() as db:
            workdays.remove_override(db, gone, user.id)
        done(f"已撤销 {labels[gone]}。")
