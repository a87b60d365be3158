import streamlit as st

from pages import common
from portal import accounts
from portal.errors import PortalError

user = common.require(__file__)

st.title("我的账号")
st.text(f"账号：{user.username}")
st.text(f"姓名：{user.display_name}")
st.text(f"角色：{'、'.join(r.label for r in user.roles) or '无'}")

st.subheader("修改密码")
with st.form("change_password", clear_on_submit=True):
    old = st.text_input("原密码", type="password")
    new = st.text_input("新密码（至少 8 位，含字母和数字）", type="password")
    again = st.text_input("再次输入新密码", type="password")
    if st.form_submit_button("修改密码", type="primary"):
        if new != again:
            st.error("两次输入的新密码不一致")
        else:
            try:
                with common.database() as db:
                    accounts.change_password(
                        db, user.id, old, new, keep_session=st.session_state.get("session_id")
                    )
                st.success("密码已修改，您在其他设备或窗口的登录已退出。")
            except PortalError as exc:
                common.show_error(exc)
