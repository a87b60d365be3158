import streamlit as st

from pages import common
from portal import branding, navigation, overview

user = common.require(__file__)

st.title(branding.brand().title)
st.write(f"{common.md(user.display_name)}，您好。")
st.caption(
    "依据《河南理工大学领导干部联系师生实施办法（修订）》：11 项联系师生制度、接待日、意见建议办理与年度考核。"
)

with common.database() as db:
    waiting = overview.reminders(db, user)
if waiting:
    st.subheader("待办")
    show = {"info": st.info, "warning": st.warning, "error": st.error}
    for item in waiting:
        with st.container(border=True):
            show[item.level](common.md(item.text))
            if navigation.can_open(user, item.page):
                common.page_link(
                    item.page,
                    label="前往处理",
                    icon=":material/arrow_forward:",
                    query_params=item.params or None,
                )

menu = navigation.pages_for(user)
for section, specs in menu.items():
    specs = [p for p in specs if p.description]
    if not specs:
        continue
    st.subheader(section or "常用")
    cols = st.columns(min(3, len(specs)))
    for i, spec in enumerate(specs):
        with cols[i % len(cols)], st.container(border=True):
            common.page_link(spec.path, label=spec.title, icon=spec.icon)
            st.caption(spec.description)
