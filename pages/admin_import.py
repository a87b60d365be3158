import pandas as pd
import streamlit as st

from pages import account_files, common, state
from portal import config, imports, sheets, submissions
from portal.errors import ImportRejected, PortalError
from portal.tabular import write_xlsx_template

admin = common.require(__file__)

st.title("数据导入")
st.caption(
    "上传 CSV（UTF-8、GBK/GB18030 或 Excel 的“Unicode 文本”）或 Excel（.xlsx，读取第一个工作表）。"
    "整表导入：任何一行有错误，整表不导入；有“提示”的行照常导入。重复导入同一文件不会产生重复数据。"
)

kind = st.selectbox("导入内容", list(imports.IMPORTERS), format_func=lambda k: imports.IMPORTERS[k].label)
importer = imports.IMPORTERS[kind]


def table_bytes(rows: list[dict]) -> bytes:
    """Errors or warnings as an .xlsx the admin can hand back to whoever keeps the sheet."""
    wb, ws = sheets.workbook_sheet("导入问题", "导入问题清单", [("行", 8), ("列", 14), ("原因", 80)])
    for r in rows:
        ws.append(sheets.safe_row([r["行"], r["列"], r["原因"]]))
    return sheets.to_bytes(wb)


def show_rows(title: str, found, key: str) -> None:
    rows = [{"行": e.row, "列": e.column, "原因": e.reason} for e in found]
    st.dataframe(rows, hide_index=True, width="stretch", key=f"{key}_table")
    st.download_button(
        f"下载{title}（.xlsx）",
        common.owned(admin, table_bytes(rows)),
        file_name=f"{importer.label}导入{title}.xlsx",
        key=f"{key}_download",
        icon=":material/download:",
    )


def show_decoded(found: imports.Decoded | None) -> None:
    """The rows as the import read them, before anything is written: a wrong encoding (garbled
    names) or a column in the wrong place shows here."""
    if found is None or not found.header:
        return
    shown_first = min(imports.PREVIEW_FIRST, found.total)
    st.markdown("**文件内容预览（尚未写入）**")
    st.caption(
        f"按 {found.encoding} 读取，共 {found.total:,} 行数据。下表是前 {shown_first} 行"
        + (
            f"和全部 {found.flagged:,} 行有错误或提示的行"
            if found.flagged == found.flagged_shown and found.flagged
            else ""
        )
        + (
            f"和有错误或提示的行中的前 {found.flagged_shown} 行（共 {found.flagged:,} 行，见下方清单）"
            if found.flagged > found.flagged_shown
            else ""
        )
        + "。请核对各列内容和文字是否正确：文字乱码说明编码不对，内容错位说明列不对。"
    )
    columns = [h or f"（第 {i + 1} 列，无表头）" for i, h in enumerate(found.header)]
    columns = [f"{c}（文件中的列）" if c in ("行", "问题") else c for c in columns]
    frame = pd.DataFrame(
        [
            {"行": r.row, **dict(zip(columns, r.cells, strict=False)), "问题": "；".join(r.problems)}
            for r in found.rows
        ]
    )
    colours = ["background-color: #fde2e1" if any(p.startswith("错误") for p in r.problems)
               else "background-color: #fff4ce" if r.problems else "" for r in found.rows]  # fmt: skip

    def colour(table: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({c: colours for c in table.columns}, index=table.index)

    st.dataframe(frame.style.apply(colour, axis=None), hide_index=True, width="stretch", key="import_decoded")


def forget_preview() -> None:
    """Drop the preview held for this session, and the parsed rows it parked on disk."""
    held = state.IMPORT_PREPARED.pop()
    if held is not None and held[1] is not None:
        held[1].discard()


# the result of the last confirm stays on the page; the preview it came from is gone
done = state.IMPORT_DONE.get()
if done is not None and done[0] == kind:
    report: imports.ImportReport = done[1]
    if report.repeated:
        st.info("该文件已经导入，本次没有重复导入。")
    st.success(report.summary())
    for note in report.notes:
        st.info(note)
    if report.warnings:
        st.warning(f"以下 {len(report.warnings)} 行已导入，但有提示：")
        show_rows("提示清单", report.warnings, "result_warnings")
    if report.opened:  # their initial passwords as files, each downloaded once; none on screen
        account_files.offer(admin, report.opened, key=f"import_{state.IMPORT_ROUND.get(0)}")
        st.dataframe(
            [{"账号": a.username, "姓名": a.name, "角色": a.roles} for a in report.opened],
            hide_index=True,
            width="stretch",
        )
    if st.button("导入另一个文件", icon=":material/upload_file:"):
        state.IMPORT_DONE.pop()
        forget_preview()
        state.IMPORT_ROUND.set(state.IMPORT_ROUND.get(0) + 1)
        st.rerun()
    st.stop()

round_ = state.IMPORT_ROUND.get(0)
upload = st.file_uploader("选择文件", type=["csv", "txt", "xlsx"], key=f"upload_{kind}_{round_}")
if upload is not None:
    data = upload.getvalue()
    if len(data) > config.settings().max_upload_bytes:
        st.error(f"文件过大（上限 {config.settings().max_upload_bytes // 1024 // 1024} MB）")
        st.stop()
    digest = imports.file_digest(kind, data)
    # (file digest, the parked preview, or the refusal, and the confirm form's token)
    cached: tuple[str, imports.Prepared | None, ImportRejected | None, str | None] | None
    cached = state.IMPORT_PREPARED.get()
    if cached is None or cached[0] != digest:
        forget_preview()
        # computed once per uploaded file (not on every rerun); reads only, locks nothing; the parsed
        # rows wait on disk, not in the session, until 确认导入
        try:
            with common.database() as db:
                parked = imports.prepare(db, kind, upload.name, data).park()
                cached = (digest, parked, None, submissions.new_token())
        except ImportRejected as exc:
            cached = (digest, None, exc, None)
        except PortalError as exc:
            common.show_error(exc)
            st.stop()
        state.IMPORT_PREPARED.set(cached)
    _, prepared, rejected, token = cached
    if rejected is not None:
        st.error(rejected.message)
        show_rows("错误清单", rejected.errors, "errors")
        if rejected.warnings:
            st.warning(f"另有 {len(rejected.warnings)} 行有提示（改正错误后这些行会照常导入）：")
            show_rows("提示清单", rejected.warnings, "warnings")
        show_decoded(getattr(rejected, "decoded", None))
        st.stop()
    assert prepared is not None  # the cache holds the refusal or the preview
    show_decoded(prepared.decoded)
    preview = prepared.preview()
    if preview.warnings:
        st.warning(f"{len(preview.warnings)} 行有提示：这些行会照常导入。")
        show_rows("提示清单", preview.warnings, "warnings")
    st.info(preview.summary())
    if st.button("确认导入", type="primary", icon=":material/check:"):
        try:
            with common.database() as db:
                # one token per preview: a second click on the same preview imports nothing again
                report = imports.commit(db, prepared, actor_id=admin.id, token=token)
        except PortalError as exc:
            common.show_error(exc)
        else:
            state.IMPORT_DONE.set((kind, report))
            forget_preview()
            st.rerun()

with st.expander(f"{importer.label}表的格式", expanded=upload is None):
    st.table([{"列名": c.name, "必填": "是" if c.required else "", "说明": c.note} for c in importer.columns])
    st.download_button(
        "下载模板（表头和一行示例）",
        common.owned(admin, write_xlsx_template([c.name for c in importer.columns], importer.example)),
        file_name=f"{importer.label}导入模板.xlsx",
        icon=":material/download:",
    )
    st.caption("各列的详细说明、可接受的写法和示例见项目文档 `docs/formats.md`。")
