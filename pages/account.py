import streamlit as st

from pages import common
from portal import accounts, feeds, provisioning
from portal.errors import PortalError

user = common.require(__file__)

st.title("我的账号")
st.text(f"账号：{user.username}")
st.text(f"姓名：{user.display_name}")
st.text(f"角色：{'、'.join(r.label for r in user.roles) or '无'}")

with common.database() as db:
    identity_only = provisioning.identity_only(db, user.id)
if identity_only:
    st.subheader("密码")
    st.caption("本账号通过统一身份认证登录，没有本平台的密码；如需密码登录，请联系管理员重置密码。")
else:
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


st.subheader("日历订阅")
st.caption(
    "把下面的地址添加到手机或电脑日历（“订阅日历”“添加日历 → 从网址”），接待日的安排和变更会自动同步；"
    "个别日历程序只认 https:// 开头的地址，把 webcal:// 换成 https:// 即可。"
    "地址相当于密码，请勿转发；如已泄露，点“重置订阅地址”，旧地址立即失效。"
)
if st.button("重置订阅地址", icon=":material/restart_alt:"):
    with common.database() as db:
        feeds.reset(db, user.id)
    st.success("订阅地址已重置，旧地址已失效。")
with common.database() as db:
    feed_urls = feeds.urls(db, user, common.public_base())
for name, label in feeds.FEEDS.items():
    if name == "duty" and "校级" not in user.cadre_levels:
        continue
    st.text(label)
    st.code(feed_urls[name], language=None)
