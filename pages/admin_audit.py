import datetime as dt

import streamlit as st

from pages import common, state
from portal import audit, dates

admin = common.require(__file__)

st.title("操作日志")
st.caption(
    "系统记录的每一次登录、退出和管理操作（只读，不可更改）：时间、操作人、来源地址和结果。"
    "按操作人、类别、地址、日期和内容筛选，最新的在前。"
)

with st.container(horizontal=True):
    actor = st.text_input("操作人（账号或姓名）", key="audit_actor")
    category = st.selectbox(
        "类别",
        ["", *audit.CATEGORIES],
        format_func=lambda c: audit.CATEGORIES.get(c, "全部"),
        key="audit_category",
    )
    span = st.date_input(
        "日期范围",
        value=(dates.today() - dt.timedelta(days=30), dates.today()),
        max_value=dates.today(),
        key="audit_span",
    )
    address = st.text_input("来源地址（开头相同即可，如 10.1.）", max_chars=64, key="audit_address")
    outcome = st.selectbox(
        "结果",
        ["", *audit.OUTCOMES],
        format_func=lambda o: audit.OUTCOMES.get(o, "全部"),
        key="audit_outcome",
    )
    text = st.text_input("内容包含", key="audit_text")

since, until = (span[0], span[-1]) if isinstance(span, tuple) and span else (None, None)
filters = (actor, category, address, outcome, since, until, text)
if state.AUDIT_FILTERS.get() != filters:  # a new filter starts at the first page
    state.AUDIT_FILTERS.set(filters)
    state.AUDIT_PAGE.set(0)
page_no = state.AUDIT_PAGE.get(0)

with common.database() as db:
    page = audit.search(
        db,
        actor=actor,
        category=category,
        since=since,
        until=until,
        text=text,
        address=address,
        outcome=outcome,
        offset=page_no * audit.PAGE_SIZE,
    )

if not page.total:
    st.info("没有符合条件的操作记录。")
    st.stop()

last_page = (page.total - 1) // audit.PAGE_SIZE
st.caption(
    f"共 {page.total} 条，第 {page_no + 1}/{last_page + 1} 页"
    f"（第 {page.offset + 1}–{page.offset + len(page.entries)} 条）"
)
st.dataframe(
    [
        {
            "时间": dates.format_stamp(e.at),
            "操作人": e.actor,
            "来源地址": e.address or "—",
            "操作": e.label,
            "结果": e.outcome_label,
            "内容": dates.in_words(e.detail),
        }
        for e in page.entries
    ],
    hide_index=True,
    width="stretch",
)
with st.container(horizontal=True):
    if st.button("上一页", disabled=page_no == 0, key="audit_prev", icon=":material/chevron_left:"):
        state.AUDIT_PAGE.set(page_no - 1)
        st.rerun()
    if st.button("下一页", disabled=page_no >= last_page, key="audit_next", icon=":material/chevron_right:"):
        state.AUDIT_PAGE.set(page_no + 1)
        st.rerun()
