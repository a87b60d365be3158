import datetime as dt

import streamlit as st

from pages import common
from portal import activities, dates, org, record_form
from portal.errors import PortalError

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

user = common.require(__file__)

st.title("联系活动记录")
linked = common.linked("id", "联系活动记录", lambda db, i: activities.get_activity(db, int(i), user), select="chosen")
today = dates.today()
staff = activities.can_log_for_others(user)

# --- filters -------------------------------------------------------------------------------
with common.database() as db:
    cols = st.columns(5 if staff else 3)
    cadre_id = None
    unit_id = None
    if staff:
        cadres = org.list_cadres(db, on=today)
        names = {c.person_id: f"{c.name}（{c.staff_no}）" for c in cadres}
        cadre_id = cols[0].selectbox(
            "领导干部", [None, *names], format_func=lambda k: "全部" if k is None else names[k], key="f_cadre"
        )
        units = {u.id: u.name for u in org.list_units(db)}
        unit_id = cols[1].selectbox(
            "单位", [None, *units], format_func=lambda k: "全部" if k is None else units[k], key="f_unit"
        )
    system = cols[-3].selectbox("制度", ["全部", *activities.systems_for(user)], key="f_system")
    since = cols[-2].date_input(
        "起始日期", value=today - dt.timedelta(days=365), format="YYYY-MM-DD", key="f_since"
    )
    until = cols[-1].date_input("截止日期", value=today, format="YYYY-MM-DD", key="f_until")
    voided = st.checkbox("包括已作废的记录", key="f_voided")
    filters = dict(
        cadre_id=cadre_id,
        system=None if system == "全部" else system,
        unit_id=unit_id,
        since=since,
        until=until,
    )
    try:
        found = activities.list_activities(db, user, include_voided=voided, **filters)
    except PortalError as exc:
        common.show_error(exc)
        st.stop()

st.caption(f"共 {len(found)} 条")
st.dataframe(
    [
        {
            "编号": a.id,
            "日期": a.date.isoformat(),
            "领导干部": a.cadre_name,
            "制度": a.system,
            "类别": a.subtype,
            "联系对象": a.counterpart_text,
            "地点": a.place,
            "意见建议": len(a.opinions),
            "录入人": a.entered_by_name,
            "状态": "已作废" if a.voided else "",
        }
        for a in found
    ],
    hide_index=True,
    width="stretch",
)

# --- batch export --------------------------------------------------------------------------
with st.expander("批量导出记录表（按上面的筛选条件）", icon=":material/folder_zip:"):
    with_pdf = False
    if record_form.soffice():
        with_pdf = st.checkbox("同时生成 PDF（较慢）", key="export_pdf")
    if st.button("生成压缩包", icon=":material/archive:", key="export"):
        bar = st.progress(0.0, text="正在生成记录表…")

        def advance(done: int, total: int) -> None:
            bar.progress(done / total, text=f"正在生成记录表：{done}/{total}")

        try:
            with common.database() as db:
                result = record_form.export_forms(
                    db,
                    user,
                    None,
                    cadre=cadre_id,
                    unit_id=unit_id,
                    system=filters["system"],
                    since=since,
                    until=until,
                    pdf=with_pdf,
                    progress=advance,
                )
        except PortalError as exc:
            common.show_error(exc)
        else:
            bar.progress(1.0, text=f"已生成 {result.count} 份")
            st.session_state["export_zip"] = result.data
    if st.session_state.get("export_zip"):
        st.download_button(
            "下载压缩包",
            st.session_state["export_zip"],
            file_name=f"联系师生工作记录表_{today.isoformat()}.zip",
            mime="application/zip",
            icon=":material/download:",
            key="export_download",
        )

# --- one record ----------------------------------------------------------------------------
if linked is not None and linked.id not in {a.id for a in found[:1000]}:
    found.insert(0, linked)  # a link opens its record whatever the filters say
if not found:
    st.stop()
labels = {a.id: f"{a.id}｜{a.date.isoformat()}｜{a.cadre_name}｜{a.system}—{a.subtype}" for a in found[:1000]}
chosen = st.selectbox("查看记录", list(labels), format_func=labels.get, key="chosen")
with common.database() as db:
    try:
        activity = activities.get_activity(db, chosen, user)
        docx = record_form.render_record_form(db, chosen, user)
        entries = activities.history(db, chosen, user)
    except PortalError as exc:
        common.show_error(exc)
        st.stop()

st.subheader(f"{activity.system}—{activity.subtype}（编号 {activity.id}）")
if activity.voided:
    st.error(f"已作废：{common.md(activity.void_reason)}")
fields = [
    ("领导干部", f"{activity.cadre_name}（{activity.cadre_staff_no}）"),
    ("日期", dates.format_date(activity.date)),
    ("地点", activity.place),
    ("联系对象", activity.counterpart_text),
    ("对象编号", "；".join(activity.target_codes)),
    ("课时", f"{activity.hours:g}" if activity.hours else ""),
    ("参加人员", activity.participants),
    ("联系工作开展情况", activity.content),
    ("联系对象反映的意见和建议", activity.opinions_text),
    ("落实情况", activity.followup),
    ("录入人", f"{activity.entered_by_name} {dates.format_stamp(activity.created_at)}"),
]
for label, value in fields:
    if value:
        st.caption(label)
        st.text(value)  # user text: never markdown, never HTML

c1, c2 = st.columns(2)
c1.download_button(
    "下载记录表（Word）",
    docx,
    file_name=record_form.form_filename(activity),
    mime=DOCX_MIME,
    icon=":material/download:",
    key="download_form",
)
if record_form.soffice() and c2.button("生成 PDF", icon=":material/picture_as_pdf:", key="make_pdf"):
    try:
        with common.database() as db:
            st.session_state["pdf"] = (chosen, record_form.record_form_pdf(db, chosen, user))
    except PortalError as exc:
        common.show_error(exc)
if st.session_state.get("pdf", (None,))[0] == chosen:
    c2.download_button(
        "下载记录表（PDF）",
        st.session_state["pdf"][1],
        file_name=record_form.form_filename(activity, "pdf"),
        mime="application/pdf",
        key="download_pdf",
    )

with st.expander(f"修改记录（{len(entries)} 个版本）", icon=":material/history:"):
    st.dataframe(
        [
            {
                "时间": dates.format_stamp(h.at),
                "操作人": h.user_name,
                "操作": {"created": "新建", "edited": "修改", "voided": "作废"}.get(h.action, h.action),
            }
            for h in entries
        ],
        hide_index=True,
        width="stretch",
    )

if activity.voided:
    st.stop()

with st.expander("修改", icon=":material/edit:"), st.form(f"edit_form_{chosen}"):
    day = st.date_input(
        "日期", value=activity.date, max_value=today, format="YYYY-MM-DD", key=f"e_date_{chosen}"
    )
    place = st.text_input("地点", value=activity.place, key=f"e_place_{chosen}")
    counterpart = st.text_input("联系对象", value=activity.counterpart_text, key=f"e_counterpart_{chosen}")
    hours = activity.hours
    if (activity.system, activity.subtype) == activities.HOURS_SUBTYPE:
        hours = st.number_input(
            "课时", 0.5, 8.0, value=max(activity.hours, 0.5), step=0.5, key=f"e_hours_{chosen}"
        )
    participants = st.text_input("参加人员", value=activity.participants, key=f"e_participants_{chosen}")
    content = st.text_area("联系工作开展情况", value=activity.content, key=f"e_content_{chosen}")
    opinions = st.text_area(
        "联系对象反映的意见和建议（每行一条；已转办的不能删除，新增的将转办）",
        value="\n".join(activity.opinions),
        key=f"e_opinions_{chosen}",
    )
    followup = st.text_area("落实情况", value=activity.followup, key=f"e_followup_{chosen}")
    if st.form_submit_button("保存修改", icon=":material/save:"):
        changes = {
            "date": day,
            "place": place,
            "counterpart_text": counterpart,
            "hours": hours,
            "participants": participants,
            "content": content,
            "opinions": [line for line in opinions.splitlines() if line.strip()],
            "followup": followup,
        }
        try:
            with common.database() as db:
                activities.update_activity(db, chosen, changes, user)
        except PortalError as exc:
            common.show_error(exc)
        else:
            st.success("已保存修改，原内容保留在修改记录中。")

with st.expander("作废", icon=":material/block:"):
    reason = st.text_input("作废原因", key=f"void_reason_{chosen}")
    if st.button("作废此记录", key="void"):
        try:
            with common.database() as db:
                activities.void_activity(db, chosen, reason, user)
        except PortalError as exc:
            common.show_error(exc)
        else:
            st.success("已作废。记录仍保留，不再计入完成情况。")
