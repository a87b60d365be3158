import streamlit as st

from pages import common, state
from portal import config, dates, feeds, personal_data, provisioning
from portal.errors import PortalError
from portal.notify import outbox

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
    if common.password_form(user):
        st.success("密码已修改，您在其他设备或窗口的登录已退出。")


st.subheader("日历订阅")
st.caption(
    "把下面的地址添加到手机或电脑日历（“订阅日历”“添加日历 → 从网址”），接待日的安排和变更会自动同步；"
    "个别日历程序只认 https:// 开头的地址，把 webcal:// 换成 https:// 即可。"
    "地址相当于密码，请勿转发；如已泄露，点“重置订阅地址”，旧地址立即失效。"
    f"为保护个人信息，订阅地址已不含账号编号：如日历中出现“{feeds.RESUBSCRIBE}”，请复制下面的新地址重新订阅，并删除旧的订阅。"
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
    st.code(feed_urls[name], language=None, wrap_lines=True)  # no sideways scroll on a phone

st.subheader("我的数据")
st.caption(
    "本平台保存的与您有关的全部信息——账号和登录记录、预约和候补、提出的意见建议及其答复和评价、"
    "列为联系对象的联系活动、发给您的消息——可以下载一份副本（.zip：可阅读的 Excel 工作簿和 JSON 文件）。"
    "副本只提供给您本人，每次生成都记入操作日志。发现信息有误，请联系管理员更正。"
)
if common.arrived():  # a copy made on an earlier visit is not offered again
    state.MY_DATA.pop()
if st.button("生成我的数据副本", icon=":material/folder_zip:", key="my_data_make"):
    with common.database() as db:
        state.MY_DATA.set(personal_data.export(db, user))
if copy := state.MY_DATA.get():
    st.download_button(
        "下载我的数据（.zip）",
        data=common.owned(user, copy),
        file_name=f"我的数据-{user.username}-{dates.today().isoformat()}.zip",
        mime="application/zip",
        icon=":material/download:",
        key="my_data_download",
    )

st.subheader("消息通知")
quiet = config.settings().quiet_hours_text
st.caption(
    "预约确认和变动、接待日前一天的提醒、值班安排、意见建议的交办和答复等消息，可以发到您常用的地方。"
    + (f"每天 {quiet} 只发送紧急消息（如当天或次日的接待日取消），其余消息顺延到之后发送。" if quiet else "")
)
with common.database() as db:
    prefs = outbox.get_prefs(db, user.id)
channels = list(outbox.CHANNELS)
channel = st.radio(
    "接收方式",
    channels,
    index=channels.index(prefs.channel),
    format_func=outbox.CHANNELS.get,
    horizontal=True,
    key="notify_channel",
)
email = wecom = webhook = secret = ""
if channel == "email":
    email = st.text_input("电子邮件地址", value=prefs.email, max_chars=200, key="notify_email")
elif channel == "wecom":
    wecom = st.text_input(
        "企业微信账号（留空则使用您的工号或学号）", value=prefs.wecom_userid, max_chars=64, key="notify_wecom"
    )
elif channel in ("wecom_robot", "dingtalk"):
    webhook = st.text_input(
        "群机器人的 Webhook 地址", value=prefs.webhook, max_chars=500, key="notify_webhook"
    )
    if channel == "dingtalk":
        secret = st.text_input(
            "加签密钥（SEC 开头）" + ("：已设置，留空则不变" if prefs.webhook_secret else ""),
            type="password",  # never sent back to the browser
            max_chars=200,
            key="notify_secret",
        )
wanted = {
    topic: st.checkbox(label, value=topic not in prefs.opt_out, key=f"notify_topic_{topic}")
    for topic, label in outbox.TOPICS.items()
}
opted_in = []
if user.has("cadre"):
    opted_in = [
        topic
        for topic, label in outbox.OPT_IN_TOPICS.items()
        if st.checkbox(label, value=topic in prefs.opt_in, key=f"notify_optin_{topic}")
    ]
if st.button("保存通知设置", type="primary", key="notify_save"):
    try:
        with common.database() as db:
            outbox.save_prefs(
                db,
                user.id,
                outbox.Prefs(
                    channel=channel,
                    email=email or prefs.email,
                    wecom_userid=wecom if channel == "wecom" else prefs.wecom_userid,
                    webhook=webhook or (prefs.webhook if channel not in ("wecom_robot", "dingtalk") else ""),
                    webhook_secret=secret or prefs.webhook_secret,
                    opt_out=[t for t, on in wanted.items() if not on],
                    opt_in=opted_in,
                ),
            )
    except PortalError as exc:
        common.show_error(exc)
    else:
        st.success("通知设置已保存。")
