import math

import streamlit as st

from pages import common, state
from portal import publication
from portal.errors import PortalError

user = common.require(__file__)

st.title("答复公开")
st.caption(
    "师生反映的意见建议办结后，经提出人本人单独同意，隐去姓名、工号/学号、联系方式等个人信息，由党办、校办审核后在此公开。"
    "提出人可随时撤回同意，撤回后立即撤下。多个词用空格分开，须同时出现。"
)
if said := state.ANSWERS_NOTICE.pop():
    st.success(said)

query = st.text_input("检索", placeholder="例如：食堂　或　宿舍 热水", max_chars=100, key="answers_query")
page_key = f"answers_page_{query.strip()}"
page_no = int(st.session_state.get(page_key, 1))
with common.database() as db:
    found = publication.search(db, query, offset=(page_no - 1) * publication.PAGE_SIZE)
pages = max(1, math.ceil(found.total / publication.PAGE_SIZE))
st.caption(f"共 {found.total} 条" + (f"，第 {min(page_no, pages)}/{pages} 页" if pages > 1 else ""))
if not found.items:
    st.info("没有找到公开的答复。" if query.strip() else "目前还没有公开的答复。")
publisher = publication.may_publish(user)
for item in found.items:
    with st.container(border=True, key=f"published_{item.id}"):
        st.caption(f"{item.month}　{item.source_label}　答复部门：{item.department}")
        st.markdown("**反映的问题**")
        st.text(item.question)
        st.markdown("**答复**")
        st.text(item.answer)
        if publisher:
            with st.expander("撤下", icon=":material/visibility_off:"):
                reason = st.text_input("撤下原因", max_chars=200, key=f"down_reason_{item.id}")
                if st.button("确认撤下", key=f"down_{item.id}"):
                    try:
                        with common.database() as db:
                            publication.unpublish(db, user, item.id, reason)
                    except PortalError as exc:
                        common.show_error(exc)
                    else:
                        state.ANSWERS_NOTICE.set("已撤下。")
                        st.rerun()
if pages > 1:
    st.number_input("页码", min_value=1, max_value=pages, step=1, key=page_key)

if not publisher:
    st.stop()

st.divider()
st.subheader("选择公开（党办、校办）")
st.caption(
    "这里列出已答复、提出人同意公开且尚未公开的意见建议。选择一件，系统自动隐去可能识别个人的信息（姓名、工号/学号、"
    "电话、邮箱、班级宿舍、所在单位），请逐字核对、修改后再公开；公开和撤下都记入操作日志。"
)
with common.database() as db:
    waiting = publication.candidates(db, user)
if not waiting:
    st.info("没有待公开的答复。")
    st.stop()
labels = {c.case_id: c.label for c in waiting}
chosen = st.selectbox(
    "待公开的意见建议",
    list(labels),
    index=None,
    format_func=labels.__getitem__,
    placeholder="选择一件",
    key="publish_case",
)
if chosen is None:
    st.stop()
try:
    with common.database() as db:
        draft = publication.draft(db, user, chosen)
except PortalError as exc:
    common.show_error(exc)
    st.stop()
with st.expander("原文（仅工作人员可见，不公开）", icon=":material/lock:"):
    st.text(f"反映的问题：\n{draft.original_question}\n\n答复：\n{draft.original_answer}")
if draft.hidden:
    st.info(
        f"已自动隐去：{draft.hidden}。请核对是否还有可能识别个人的内容。", icon=":material/shield_person:"
    )
with st.form(f"publish_{chosen}"):
    question = st.text_area(
        "公开的问题（可修改）",
        value=draft.question,
        height=150,
        max_chars=publication.TEXT_MAX,
        key=f"pub_q_{chosen}",
    )
    answer = st.text_area(
        "公开的答复（可修改）",
        value=draft.answer,
        height=200,
        max_chars=publication.TEXT_MAX,
        key=f"pub_a_{chosen}",
    )
    keep = st.checkbox("文中保留的电话、编号或地址是单位的公开信息，与个人无关", key=f"pub_keep_{chosen}")
    if st.form_submit_button("公开", type="primary", icon=":material/campaign:"):
        try:
            with common.database() as db:
                publication.publish(db, user, chosen, question, answer, keep=keep)
        except PortalError as exc:
            common.show_error(exc)
        else:
            state.ANSWERS_NOTICE.set(f"{draft.number} 的答复已公开。")
            st.session_state.pop("publish_case", None)
            st.rerun()
