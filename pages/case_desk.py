"""The department's desk on 意见建议办理: the list whose rows open a case, 内部备注, 常用答复 and 合并
(portal/case_notes.py, portal/answer_templates.py, portal/case_merge.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pandas as pd
import streamlit as st

from pages import common, state
from portal import answer_templates, case_merge, case_notes, cases, dates, links
from portal.accounts import User
from portal.errors import PortalError
from portal.policy import policy

ROW_HEIGHT = 72  # px: over 4rem, so a cell's text wraps (Streamlit allows it then): three lines of it
ROWS_SHOWN = 7  # the list's height in rows; it scrolls beyond
ROW_STYLE = {"overdue": "color: #b00020; background-color: #fde2e1", "risk": "background-color: #fff4ce"}


def _picked(selection) -> int | None:
    """The row a table's selection names: a click on a cell selects that cell, one on the row's box the
    row; None when nothing is selected (a second click on what was selected unselects it)."""
    rows = [cell[0] for cell in selection.get("cells", [])] or list(selection.get("rows", []))
    return rows[0] if rows else None


def _open_row(key: str, ids: list[int]) -> None:
    """A row clicked: its case goes on screen. ``ids`` are the rows as that rendering showed them,
    so a list changed meanwhile (another clerk's answer) never opens the case now in that row."""
    row = _picked(st.session_state[key]["selection"])
    if row is not None and 0 <= row < len(ids):
        state.CASE.set(ids[row])


def case_table(shown: list[cases.Case], key: str, *, departments: bool, on_screen: int | None = None) -> None:
    """The list: each case's words readable in it (wrapped over three lines), its number a link that
    opens it (in a new tab), and a click on a row opens it below. ``departments``: the viewer sees
    several departments' cases, so the table names each one's. ``on_screen``: the case shown below.

    A click anywhere in a row opens its case (a cell's click selects the cell; only the row's box
    selected the row, and a click on its words did nothing). No cell stays selected from an
    earlier click: a case opened another way (its number, a link, 打开 after a merge) left the row
    clicked earlier selected, and a click on it only unselected it. The table is a widget of its own for
    each list of rows and case on screen (``key`` with them), so a click made on a list since replaced
    acts on that list's rows, or on nothing, never on the row now at that place."""
    alerts = any(c.alert for c in shown)  # 来源变动 gets its column when a row has one
    rows = []
    for c in shown:
        row = {
            "编号": links.case(c.number).path,
            "意见建议": c.content,
            "状态": c.state_label,
            "办理期限": c.due_date,
            "提醒": "；".join(filter(None, [c.flag, "已合并" if c.merged_into else ""])),
            "承办单位": c.handling_unit_name,
            "干部": c.cadre_name,
        }
        if alerts:
            row["来源变动"] = c.alert
        if departments:
            row["责任部门"] = c.responsible_dept
        rows.append(row)
    table = pd.DataFrame(rows)
    ids = [c.id for c in shown]
    # a widget of its own for each list of rows and each case on screen: the browser keeps a table's
    # selection itself (one set from here is not shown), so a cell left selected from an earlier click
    # would make the next click on it an unselect that opens nothing
    key = f"{key}_{hashlib.blake2b(repr((ids, on_screen)).encode(), digest_size=6).hexdigest()}"
    styles = [ROW_STYLE.get("overdue" if c.overdue else "risk" if c.at_risk else "", "") for c in shown]

    def colour(frame: pd.DataFrame) -> pd.DataFrame:
        """All rows' styles at once (one call, not one per row)."""
        return pd.DataFrame({col: styles for col in frame.columns}, index=frame.index)

    st.dataframe(
        table.style.apply(colour, axis=None),
        hide_index=True,
        width="stretch",
        height=min(len(shown), ROWS_SHOWN) * ROW_HEIGHT + 38,
        row_height=ROW_HEIGHT,
        column_config={
            "编号": st.column_config.LinkColumn("编号", display_text=r"no=(.*)$", width=92),
            "意见建议": st.column_config.TextColumn("意见建议", width=290),
            "状态": st.column_config.TextColumn("状态", width=72),
            "办理期限": common.date_column("办理期限", width=112),
            "提醒": st.column_config.TextColumn("提醒", width=120),  # 逾期 176 个工作日 on two lines
            "承办单位": st.column_config.TextColumn("承办单位", width="small"),
            "干部": st.column_config.TextColumn("干部", width=64),
        },
        key=key,
        on_select=lambda: _open_row(key, ids),
        selection_mode="single-cell",
    )
    st.caption(
        "点击一行，在下方查看和办理；点击编号，在新标签页中打开。键盘：Tab 到“查看和办理”，输入编号后按回车。"
    )


Act = Callable[..., None]  # pages/cases.py's ``_act``: a case action once per form rendering


def merged_link(db, number: str, viewer: User) -> cases.Case:
    """The case a link names; a duplicate merged into another opens that one (said once above it)."""
    found = cases.find_by_number(db, number, viewer)
    lead = case_merge.lead_of(db, found, viewer) if cases.can_handle(viewer, found) else None
    if lead is None:
        return found
    if state.MERGED_TOLD.get() != found.number:  # said once, not on every rerun of the link
        state.MERGED_TOLD.set(found.number)
        state.MERGED_NOTICE.set(f"{found.number} 已合并至 {lead.number} 办理，已为您打开 {lead.number}。")
    return lead


def answer_box(case: cases.Case, user: User) -> str:
    """常用答复 to fill in, then the answer's text box; returns the text typed."""
    key = f"answer_{case.id}"
    with common.database() as db:
        templates = {t.id: t for t in answer_templates.list_templates(db, case.responsible_dept)}

    def fill() -> None:  # a template chosen: its text goes into the answer, after what is typed
        chosen = st.session_state.get(f"template_{case.id}")
        if chosen in templates:
            text = answer_templates.fill(templates[chosen], case)
            typed = st.session_state.get(key, "").rstrip()
            st.session_state[key] = f"{typed}\n{text}" if typed else text
        st.session_state[f"template_{case.id}"] = None  # the same template may be chosen again

    if templates:
        st.selectbox(
            "常用答复（选择后填入答复内容，可再修改）",
            list(templates),
            format_func=lambda i: templates[i].title,
            key=f"template_{case.id}",
            on_change=fill,
            **common.TARGET,
        )
    with common.database() as db:
        followers = [c for c in case_merge.merged_cases(db, case.id, user) if c.is_open]
    if followers:
        st.caption(
            f"本件合并了 {len(followers)} 件（{'、'.join(c.number for c in followers)}），答复同时送达各件的提出人；"
            f"答复中的“{case.number}”和提出人姓名，在各件中换成该件自己的编号和提出人姓名。"
        )
    return st.text_area("答复内容（将同时送达干部和提出人）", key=key, height=140)


def note_form(case: cases.Case, user: User, act: Act) -> None:
    """内部备注: the department's own notes on the case, kept in its history, never shown to the raiser."""
    with common.database() as db:
        found = case_notes.notes(db, case.id, user)
    with st.expander(
        f"内部备注（{len(found)}）：仅本部门和管理员可见", icon=":material/lock:", expanded=bool(found)
    ):
        for note in found:
            st.caption(f"{dates.format_stamp(note.at)}　{note.user_name or '系统'}")
            st.text(note.note)
        common.form_token(f"note_{case.id}")  # this rendering's (see _act)
        text = st.text_area("添加内部备注", key=f"note_{case.id}", max_chars=case_notes.NOTE_MAX, height=80)
        if st.button("保存内部备注", icon=":material/lock:", key=f"note_btn_{case.id}"):
            act(
                lambda db, i: case_notes.add_note(db, i, text, user),
                done="已添加内部备注（仅本部门和管理员可见）。",
                form="note",
                content=text,
                clear=f"note_{case.id}",
            )


def merge_form(case: cases.Case, user: User, act: Act) -> None:
    """合并: this open case raises what another does; it is merged into that one after a confirmation."""
    with st.expander("合并到另一件（重复反映的同一事项）", icon=":material/merge:"):
        st.caption(
            "合并后，本件随那一件办理，不再单独出现在待办列表中；那一件答复时，本件的提出人同时收到答复。"
            "本件编号仍可检索，打开时进入那一件。"
        )
        into = st.text_input(
            "合并到（编号）", placeholder="如 2026-0051", max_chars=20, key=f"merge_into_{case.id}"
        )
        why = st.text_input("合并说明（可选）", key=f"merge_note_{case.id}")
        if st.button("合并", icon=":material/merge:", key=f"merge_{case.id}"):
            try:
                with common.database() as db:
                    target = cases.find_by_number(db, into, user) if into.strip() else None
            except PortalError as exc:
                common.show_error(exc)
                return
            if target is None:
                st.error("请填写要合并到的件的编号")
                return
            common.ask("merge", case_id=case.id, into=target.number, note=why, target=target.content[:80])
    asked = common.pending("merge")
    if asked is None or asked["case_id"] != case.id:
        return
    lines = [
        f"本件：{case.number}（{case.raiser_name or '提出人未记名'}）{case.content[:80]}",
        f"合并到：{asked['into']}　{asked['target']}",
        f"合并后 {case.number} 随 {asked['into']} 办理；{asked['into']} 答复时，{case.number} 的提出人同时收到同一答复。",
    ]

    def merge(db, case_id: int) -> cases.Case:
        merged = case_merge.merge(db, case_id, asked["into"], user, asked["note"])
        state.NEXT_CASE.set(merged.merged_into)  # the case it went into comes on screen
        return merged

    if common.confirmed("merge", "确认合并", lines, ok="确认合并"):
        act(
            merge,
            done=f"{case.number} 已合并至 {asked['into']}。",
            form="merge",
            content=f"{asked['into']}:{asked['note']}",
        )


def merged_panel(case: cases.Case, user: User, act: Act) -> None:
    """What merging means on screen: a duplicate says where it went; a case lists what went into it."""
    with common.database() as db:
        lead = case_merge.lead_of(db, case, user)
        followers = case_merge.merged_cases(db, case.id, user)
    if lead is not None:
        st.info(
            f"本件已合并至 {lead.number} 办理：{lead.number} 答复时，本件的提出人同时收到答复。",
            icon=":material/merge:",
        )
        if st.button(f"打开 {lead.number}", key=f"open_lead_{case.id}", on_click=_show, args=(lead.id,)):
            st.rerun()
    if followers:
        with st.expander(f"已合并到本件的件（{len(followers)}）", icon=":material/merge:", expanded=True):
            for dup in followers:
                st.text(
                    f"{dup.number}　{dup.raiser_name or '提出人未记名'}　{dup.state_label}\n{dup.content}"
                )
                common.form_token(f"unmerge_{dup.id}_{case.id}")
                if (
                    cases.can_handle(user, case)
                    and dup.is_open
                    and st.button("撤销合并", key=f"unmerge_{dup.id}", icon=":material/call_split:")
                ):
                    act(
                        lambda db, i, dup_id=dup.id: case_merge.unmerge(db, dup_id, user),
                        done=f"{dup.number} 已撤销合并，单独办理。",
                        form=f"unmerge_{dup.id}",
                    )


def _show(case_id: int) -> None:
    state.CASE.set(case_id)


def templates_manager(user: User) -> None:
    """常用答复: the user's departments' templates (any department's for an administrator), to add,
    change and remove."""
    mine = list(policy().departments) if user.has("admin") else list(user.departments)
    if not mine:
        return
    with st.expander("常用答复管理", icon=":material/edit_note:"):
        dept = mine[0] if len(mine) == 1 else st.selectbox("部门", mine, key="tpl_dept")
        with common.database() as db:
            held = {t.id: t for t in answer_templates.list_templates(db, dept)}
        st.caption(
            f"{dept}共有 {len(held)} 条常用答复。写入 {{编号}}、{{提出人}} 的地方，填入时换成该件的编号和提出人姓名。"
        )
        options = [0, *held]
        pick = st.selectbox(
            "编辑", options, format_func=lambda i: held[i].title if i else "新建一条", key=f"tpl_pick_{dept}"
        )
        current = held.get(pick)
        errors = common.FieldErrors()
        with st.form(f"tpl_form_{dept}_{pick}"):
            title = st.text_input(
                "标题", value=current.title if current else "", max_chars=answer_templates.TITLE_MAX
            )
            errors.under("title")
            body = st.text_area("答复内容", value=current.body if current else "", height=120)
            errors.under("body")
            if st.form_submit_button("保存", icon=":material/save:"):
                try:
                    with common.database() as db:
                        answer_templates.save_template(
                            db, user, dept, title, body, current.id if current else None
                        )
                except PortalError as exc:
                    errors.show(exc)
                else:
                    state.CASE_NOTICE.set(f"常用答复“{title.strip()}”已保存。")
                    st.rerun()
        if current is not None and st.button(
            "删除这一条", icon=":material/delete:", key=f"tpl_delete_{pick}"
        ):
            with common.database() as db:
                answer_templates.delete_template(db, user, current.id)
            st.session_state.pop(f"tpl_pick_{dept}", None)
            state.CASE_NOTICE.set(f"常用答复“{current.title}”已删除。")
            st.rerun()
