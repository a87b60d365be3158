"""The only page of a session whose password must be changed first (an initial or reset password,
portal/accounts.py): answered at every page's address, so a link opened meanwhile still opens after."""

import streamlit as st

from pages import common
from portal import passwords

user = common.resolve_user()
if user is None:
    st.stop()

st.title("修改密码")
st.warning("请先修改密码：您正在使用管理员设置的初始密码或重置后的密码，修改后才能使用平台的其他功能。")
st.caption(f"新密码须{passwords.password_rule()}，且不能与原密码相同。")
if common.password_form(user):
    st.rerun()
