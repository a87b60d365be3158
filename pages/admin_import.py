import streamlit as st

from pages import common
from portal import config, imports
from portal.errors import ImportRejected, PortalError
from portal.tabular import write_xlsx_header_only

admin = common.require(__file__)

st.title("数据导入")
st.caption(
    "上传 CSV（UTF-8）或 Excel（.xlsx，读取第一个工作表）。整表导入：任何一行有错，整表不导入；重复导入同一文件不会产生重复数据。"
)

kind = st.selectbox("导入内容", list(imports.IMPORTERS), format_func=lambda k: imports.IMPORTERS[k].label)
importer = imports.IMPORTERS[kind]
st.table([{"列名": c.name, "必填": "是" if c.required else "", "说明": c.note} for c in importer.columns])
st.download_button(
    "下载空白模板",
    write_xlsx_header_only([c.name for c in importer.columns]),
    file_name=f"{importer.label}导入模板.xlsx",
    icon=":material/download:",
)

upload = st.file_uploader("选择文件", type=["csv", "xlsx"], key=f"upload_{kind}")
if upload is not None:
    data = upload.getvalue()
    if len(data) > config.MAX_UPLOAD_BYTES:
        st.error(f"文件过大（上限 {config.MAX_UPLOAD_BYTES // 1024 // 1024} MB）")
        st.stop()
    try:
        with common.database() as db:
            preview = imports.run_import(db, kind, upload.name, data, dry_run=True, actor_id=admin.id)
    except ImportRejected as exc:
        st.error(exc.message)
        st.dataframe(
            [{"行": e.row, "列": e.column, "原因": e.reason} for e in exc.errors],
            hide_index=True,
            width="stretch",
        )
        st.stop()
    except PortalError as exc:
        common.show_error(exc)
        st.stop()
    st.info(preview.summary())
    if st.button("确认导入", type="primary", icon=":material/check:"):
        try:
            with common.database() as db:
                report = imports.run_import(db, kind, upload.name, data, actor_id=admin.id)
        except PortalError as exc:
            common.show_error(exc)
        else:
            st.success(report.summary())
            for note in report.notes:
                st.info(note)
            if report.secrets:
                st.dataframe([{"账号": u, "初始密码": p} for u, p in report.secrets], hide_index=True)
