import datetime as dt

import streamlit as st

from pages import common
from portal import activities, cases, dates, navigation, search
from portal.errors import PortalError
from portal.policy import policy

user = common.require(__file__)

st.title("检索")
st.caption(
    "在您有权查看的联系活动记录和意见建议中检索：内容、答复、开展情况、意见建议、落实情况、姓名、工号、编号。多个词用空格分开，须同时出现。"
)

query = st.text_input(
    "检索词", placeholder="例如：食堂　或　2026-0221　或　张三 听课", key="search_query", max_chars=100
)
sees_activities = not activities.scope_of(user).empty
with st.expander("筛选", icon=":material/filter_list:"):
    span = st.date_input(
        "日期范围（活动日期 / 反映日期）",
        value=[],  # a range, none chosen
        max_value=dates.today(),
        key="search_span",
    )
    system = st.selectbox(
        "制度", ["", *policy().system_names], format_func=lambda s: s or "全部", key="search_system"
    )
    states = st.multiselect(
        "意见建议办理状态",
        list(cases.STATES),
        format_func=cases.STATE_LABELS.__getitem__,
        key="search_states",
        select_all=True,
    )
    include_voided = sees_activities and st.checkbox("包括已作废的活动记录", key="search_voided")

if not query.strip():
    st.info("输入检索词后按回车。")
    st.stop()

since, until = (span[0], span[-1]) if isinstance(span, tuple) and span else (None, None)
try:
    with common.database() as db:
        if search.pending(db) > search.BATCH:  # after an upgrade or a large import
            with st.spinner("正在更新检索索引，首次检索大量新数据需要稍等片刻……"):
                search.refresh(db)
        found = search.search(
            db,
            user,
            query,
            since=since,
            until=until,
            system=system or None,
            case_states=states or None,
            include_voided=bool(include_voided),
        )
except PortalError as exc:
    common.show_error(exc)
    st.stop()


def highlighted(hit: search.Hit) -> str:
    """The snippet as markdown: every piece escaped (user text is never markup), the matches bold."""
    return "".join(
        f":orange-background[**{common.md(piece)}**]" if match else common.md(piece)
        for piece, match in hit.marks
    )


def show(hits: list[search.Hit], total: int, what: str) -> None:
    """Each result a card: what it is and its state, a link that opens it, the words around the
    match with the match in bold, and a line of context."""
    if not hits:
        st.info(f"没有找到包含“{common.md(found.query)}”的{what}。")
        return
    more = f"，显示最新的 {len(hits)} 条，请增加检索词或筛选条件" if total > len(hits) else ""
    st.caption(f"共 {total} 条{more}。")
    for h in hits:
        with st.container(border=True, key=f"hit_{h.kind}_{h.id}"):
            with st.container(horizontal=True, gap="small"):
                st.badge(h.kind_label, color="blue" if h.kind == "case" else "violet")
                st.badge(h.state, color="gray")
                st.caption(dates.format_date(dt.date.fromisoformat(h.date[:10])))
            if navigation.can_open(user, h.link.page):
                common.page_link(h.link.page, label=h.title, query_params=h.link.params)
            else:
                st.text(h.title)
            if h.marks:
                st.markdown((f"{h.where}：" if h.where else "") + highlighted(h))
            if h.about:
                st.caption(common.md(h.about))


labels = [f"意见建议（{found.case_total}）"]
if sees_activities:
    labels.append(f"联系活动（{found.activity_total}）")
tabs = st.tabs(labels)
with tabs[0]:
    show(found.cases, found.case_total, "意见建议")
if sees_activities:
    with tabs[1]:
        show(found.activities, found.activity_total, "联系活动记录")
