import streamlit as st

from pages import common
from portal.errors import AuthError

st.title("联系师生服务平台")
st.caption("领导干部联系师生 · 接待日预约 · 意见建议办理")

notice = st.session_state.pop("notice", None)
if notice:
    st.info(notice)

with st.form("login"):
    username = st.text_input("账号（工号或学号）", max_chars=64)
    password = st.text_input("密码", type="password", max_chars=128)
    submitted = st.form_submit_button("登录", type="primary")

if submitted:
    try:
        common.login(username, password)
    except AuthError as exc:
        st.error(exc.message)
    else:
        st.rerun()

try:
    sso_configured = "auth" in st.secrets
except FileNotFoundError:
    sso_configured = False
if sso_configured:
    st.divider()
    if st.button("统一身份认证登录", icon=":material/badge:"):
        st.login()
