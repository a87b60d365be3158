import streamlit as st

from pages import common, state
from portal import dates
from portal.errors import PortalError
from portal.notify import outbox

user = common.require(__file__)

st.title("消息通知")
st.caption(
    "预约、排班、意见建议等消息经电子邮件、企业微信、钉钉发出（由服务器定时运行 `portal notify run` 发送）。"
    "多次发送失败的消息列在下面，检查地址或配置后可重新发送；收件人账号停用后不再发送的消息记为“已取消”。"
)
if notice := state.NOTIFY_NOTICE.pop():
    st.success(notice)

with common.database() as db:
    figures = outbox.counts(db)
    dead = outbox.dead_letters(db, user)
    skipped = outbox.skipped(db, user)
common.figures({label: figures[kind] for kind, label in outbox.STATE_LABELS.items()})


def table(entries: list, **last: str) -> None:
    """The messages as a table; ``last`` names the columns after 消息 and the field each shows."""
    st.dataframe(
        [
            {
                "编号": e.id,
                "时间": dates.format_stamp(e.created_at),
                "收件人": e.user_name,
                "方式": e.channel_label,
                "消息": e.message.subject,
                **{column: getattr(e, field) for column, field in last.items()},
            }
            for e in entries
        ],
        hide_index=True,
        width="stretch",
    )


if skipped:
    with st.expander(f"已取消的消息（{figures['skipped']} 条）"):
        table(skipped, 原因="last_error")

st.subheader("发送失败")
if not dead:
    st.info("没有发送失败的消息。")
    st.stop()
table(dead, 尝试次数="attempts", 失败原因="last_error")
labels = {e.id: f"{e.id}　{e.user_name}　{e.message.subject}" for e in dead}
chosen = st.multiselect(
    "选择要重新发送的消息", list(labels), format_func=labels.__getitem__, key="notify_pick", select_all=True
)
c1, c2 = st.columns(2)
again: list[int] = []
if c1.button("重新发送所选", icon=":material/replay:", key="notify_retry") and chosen:
    again = chosen
if c2.button("全部重新发送", icon=":material/send:", key="notify_retry_all"):
    again = list(labels)
if again:
    try:
        with common.database() as db:
            count = outbox.retry(db, again, user)
    except PortalError as exc:
        common.show_error(exc)
    else:
        state.NOTIFY_NOTICE.set(f"已重新排队 {count} 条，下一轮发送时送出。")
        st.rerun()
