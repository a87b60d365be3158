import datetime as dt
import hashlib
import math
import os
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from pages import common, state
from portal import (
    activities,
    activity_export,
    activity_recording,
    builds,
    case_opening,
    config,
    dates,
    links,
    org,
    record_form,
    states,
    submissions,
)
from portal.errors import PortalError

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PAGE_SIZE = 100
EXPORT_LIMIT = 20_000  # rows in one Excel export of the list; beyond, narrow the filter


def _form_docx(activity_id: int) -> bytes:
    with common.database() as db:
        return record_form.render_record_form(db, activity_id, user)


def _export_forms(params: tuple, progress: builds.Progress) -> Path:
    """The zip of the record forms the filters name, written to a private temporary file (the
    build keeps its path, and removes the file when it is forgotten)."""
    cadre_id, unit_id, system, since, until, with_pdf = params
    handle, zip_path = tempfile.mkstemp(prefix="portal-forms-", suffix=".zip")
    os.close(handle)
    try:
        with common.database() as db:  # the build's own connection, on its own thread
            record_form.export_forms(
                db,
                user,
                zip_path,
                cadre=cadre_id,
                unit_id=unit_id,
                system=system,
                since=since,
                until=until,
                pdf=with_pdf,
                progress=progress,
                max_forms=config.settings().max_export_forms,
            )
    except BaseException:
        Path(zip_path).unlink(missing_ok=True)
        raise
    return Path(zip_path)


user = common.require(__file__)

st.title("联系活动记录")
linked = common.linked(
    "id",
    "联系活动记录",
    lambda db, i: activities.get_activity(db, links.parse_id(i), user),
    select=state.ACTIVITY,
)
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
    since = cols[-2].date_input("起始日期", value=today - dt.timedelta(days=365), key="f_since")
    until = cols[-1].date_input("截止日期", value=today, key="f_until")
    voided = st.checkbox("包括已作废的记录", key="f_voided")
    filters = activities.ActivityFilter(
        cadre_id=cadre_id,
        system=None if system == "全部" else system,
        unit_id=unit_id,
        since=since,
        until=until,
        include_voided=voided,
    )
    # counted and paged in SQL: one page of plain rows, never the whole window as models;
    # a change of filter starts again at page 1 (the page number's key follows the filters)
    page_key = "f_page_" + hashlib.sha1(repr(filters).encode()).hexdigest()[:12]
    page_no = int(st.session_state.get(page_key, 1))
    try:
        listing = activities.page_activities(
            db, user, offset=(page_no - 1) * PAGE_SIZE, limit=PAGE_SIZE, **filters
        )
    except PortalError as exc:
        common.show_error(exc)
        st.stop()

pages = max(1, math.ceil(listing.total / PAGE_SIZE))
st.caption(f"共 {listing.total:,} 条，第 {min(page_no, pages)}/{pages} 页（每页 {PAGE_SIZE} 条，最新的在前）")
table = pd.DataFrame(listing.rows, columns=list(activities.ActivityPage.COLUMNS))
table["日期"] = pd.to_datetime(table["日期"]).dt.date
st.dataframe(table, column_config={"日期": common.date_column("日期")}, hide_index=True, width="stretch")
if pages > 1:
    st.number_input("页码", min_value=1, max_value=pages, step=1, key=page_key)


def _export_listed() -> bytes:
    with common.database() as db:
        found = activities.list_activities(db, user, limit=EXPORT_LIMIT, **filters)
    return activity_export.export_xlsx(found)


if listing.total > EXPORT_LIMIT:
    st.caption(f"符合条件的记录超过 {EXPORT_LIMIT:,} 条，请缩小筛选范围后再导出 Excel。")
elif listing.total:
    st.download_button(
        "导出 Excel",
        data=common.owned(  # built when clicked, not on every rerun; audited then
            user, common.audited(user, "activity.export", f"联系活动记录 {listing.total} 条", _export_listed)
        ),
        file_name=f"联系活动记录_{today.isoformat()}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:",
        key="list_export",
    )

# --- batch export --------------------------------------------------------------------------
with st.expander("批量导出记录表（按上面的筛选条件）", icon=":material/folder_zip:"):
    too_many = listing.total > config.settings().max_export_forms
    if too_many:
        st.warning(record_form.too_many_forms(listing.total, config.settings().max_export_forms))
    with_pdf = False
    if record_form.soffice():
        with_pdf = st.checkbox("同时生成 PDF（较慢）", key="export_pdf")
    params = (cadre_id, unit_id, filters["system"], since, until, with_pdf)
    common.built_file(
        user,
        "forms",
        params,
        lambda progress: _export_forms(params, progress),  # in the background: ≈ 20 ms a form
        build_label="生成压缩包",
        download_label="下载压缩包",
        file_name=f"联系师生工作记录表_{today.isoformat()}.zip",
        mime="application/zip",
        disabled=too_many,
    )

# --- one record ----------------------------------------------------------------------------
rows = list(listing.rows)
if linked is not None and linked.id not in {
    r[0] for r in rows
}:  # a link opens its record whatever the filters say
    rows.insert(0, (linked.id, linked.date.isoformat(), linked.cadre_name, linked.system, linked.subtype))
if not rows:
    st.stop()


@common.page_fragment(user, __file__)
def record_panel(rows: list[tuple]) -> None:
    """One record: choosing another reruns this panel only, not the list and its count."""
    if notice := state.ACTIVITY_NOTICE.pop():
        st.success(notice)
    labels = {r[0]: f"{r[0]}｜{dates.format_date(r[1], weekday=False)}｜{r[2]}｜{r[3]}—{r[4]}" for r in rows}
    chosen = st.selectbox("查看记录", list(labels), format_func=labels.__getitem__, key=state.ACTIVITY.name)
    with common.database() as db:
        try:
            activity = activities.get_activity(db, chosen, user)
            entries = activities.history(db, chosen, user)
        except PortalError as exc:
            common.show_error(exc)
            st.stop()

    st.subheader(f"{activity.system}—{activity.subtype}（编号 {activity.id}）")
    if activity.voided:
        st.error(f"{states.activity_label(True)}：{common.md(activity.void_reason)}")
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
        data=common.owned(user, lambda: _form_docx(chosen)),  # rendered when clicked, not on every rerun
        file_name=record_form.form_filename(activity),
        mime=DOCX_MIME,
        icon=":material/download:",
        key="download_form",
    )
    if record_form.soffice() and c2.button("生成 PDF", icon=":material/picture_as_pdf:", key="make_pdf"):
        try:
            with common.database() as db:
                state.ACTIVITY_PDF.set((chosen, record_form.record_form_pdf(db, chosen, user)))
        except PortalError as exc:
            common.show_error(exc)
    if (made := state.ACTIVITY_PDF.get()) is not None and made[0] == chosen:
        c2.download_button(
            "下载记录表（PDF）",
            common.owned(user, made[1]),
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

    errors = common.FieldErrors()  # a refused edit shows every problem at once, each under its field
    with st.expander("修改", icon=":material/edit:"), st.form(f"edit_form_{chosen}"):
        day = st.date_input("日期", value=activity.date, max_value=today, key=f"e_date_{chosen}")
        errors.under("date")
        place = st.text_input("地点", value=activity.place, key=f"e_place_{chosen}")
        errors.under("place")
        counterpart = st.text_input(
            "联系对象", value=activity.counterpart_text, key=f"e_counterpart_{chosen}"
        )
        errors.under("counterpart_text", "target_codes")
        hours = activity.hours
        if (activity.system, activity.subtype) == activities.HOURS_SUBTYPE:
            hours = st.number_input(
                "课时", 0.5, 8.0, value=max(activity.hours, 0.5), step=0.5, key=f"e_hours_{chosen}"
            )
            errors.under("hours")
        participants = st.text_input("参加人员", value=activity.participants, key=f"e_participants_{chosen}")
        errors.under("participants")
        content = st.text_area("联系工作开展情况", value=activity.content, key=f"e_content_{chosen}")
        errors.under("content")
        opinions = st.text_area(
            "联系对象反映的意见和建议（每行一条；新增的将转办，删除的将撤销或提醒责任部门）",
            value="\n".join(activity.opinions),
            key=f"e_opinions_{chosen}",
        )
        errors.under("opinions")
        followup = st.text_area("落实情况", value=activity.followup, key=f"e_followup_{chosen}")
        errors.under("followup")
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
                with common.database() as db:  # the same edit sent twice is one edit (one history entry)
                    submissions.once(
                        db,
                        common.form_token_for(f"edit_{chosen}", sorted(changes.items())),
                        "activity_edit",
                        lambda: activity_recording.update_activity(db, chosen, changes, user).id,
                        user_id=user.id,
                    )
            except PortalError as exc:
                errors.show(exc)
            else:
                # the whole page again (the list above shows the change), with the message
                state.ACTIVITY_NOTICE.set("已保存修改，原内容保留在修改记录中。")
                st.rerun()

    with st.expander("作废", icon=":material/block:"):
        reason = st.text_input("作废原因", key=f"void_reason_{chosen}")
        if st.button("作废此记录", key=f"void_{chosen}"):
            if not reason.strip():
                st.error("请填写作废原因")
            else:
                common.ask("void", activity_id=chosen, reason=reason)

    if (asked := common.pending("void")) and asked["activity_id"] == chosen:
        with common.database() as db:
            withdrawn, flagged = case_opening.withdrawal_preview(db, chosen)
        lines = [
            f"作废：{dates.format_date(activity.date)} {activity.system}—{activity.subtype}（编号 {chosen}）",
            f"作废原因：{asked['reason']}",
            "记录仍保留在修改记录中，不再计入完成情况。",
        ]
        if withdrawn:
            lines.append(f"尚无部门办理的意见建议 {withdrawn} 件将撤销。")
        if flagged:
            lines.append(f"已在办理的意见建议 {flagged} 件将提醒责任部门核实。")
        if common.confirmed("void", "确认作废联系活动记录", lines, ok="确认作废"):
            try:
                with common.database() as db:
                    activity_recording.void_activity(db, chosen, asked["reason"], user)
            except PortalError as exc:
                common.show_error(exc)
            else:
                st.session_state.pop(f"void_reason_{chosen}", None)
                state.ACTIVITY_NOTICE.set("已作废。记录仍保留，不再计入完成情况。")
                st.rerun()


record_panel(rows)
