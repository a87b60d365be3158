import streamlit as st

from pages import common, state
from portal import branding, sso
from portal.errors import AuthError

brand = branding.brand()
if brand.logo:
    st.image(brand.logo, width=72, alt=f"{brand.school or branding.SITE}标志")
if brand.school:
    st.markdown(f"**{common.md(brand.school)}**")
st.title(branding.SITE)
st.write(branding.PURPOSE)

notice = state.NOTICE.pop()
if notice:
    st.info(notice)
if warning := common.demo_warning():
    st.warning(warning, icon=":material/warning:")

cas = sso.cas_settings() is not None
try:
    oidc = "auth" in st.secrets
except FileNotFoundError:
    oidc = False
# the campus sign-in first, as the way in for everyone who has a campus account
if cas or oidc:
    st.caption("校内师生、干部请用统一身份认证（学校统一的账号和密码）登录。")
if cas and st.button("统一身份认证登录", icon=":material/badge:", type="primary", key="cas_login"):
    common.start_cas_login()
if oidc and st.button(
    "统一身份认证登录（OIDC）" if cas else "统一身份认证登录",
    icon=":material/badge:",
    type="secondary" if cas else "primary",
    key="oidc_login",
):
    st.login()  # the page it was started from is kept (portal/oidc_routes.py)


def password_form() -> None:
    with st.form("login", width=480):  # a form of two fields need not cross a desktop screen
        username = st.text_input("账号（工号或学号）", max_chars=64)
        password = st.text_input("密码", type="password", max_chars=128)
        submitted = st.form_submit_button("登录", type="primary" if not (cas or oidc) else "secondary")
    if submitted:
        try:
            common.login(username, password)
        except AuthError as exc:
            st.error(exc.message)
        else:
            st.rerun()


if sso.password_login_enabled() or not (cas or oidc):
    if cas or oidc:
        st.divider()
    password_form()
else:
    with st.expander("管理员账号密码登录"):
        password_form()
