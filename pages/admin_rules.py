import pandas as pd
import streamlit as st

from pages import common, state
from portal import dates, rulesets
from portal.errors import PortalError
from portal.policy import KIND_LABELS, PERIOD_LABELS, policy

user = common.require(__file__)
today = dates.today()

st.title("规则管理")
st.caption(
    "各项联系师生制度的考核规则（依据《实施办法》条款）。学校修订办法后，导入修订后的规则文件并设定施行日期："
    "自施行日期起开始的考核期间按新规则考核，此前的期间仍按当时有效的规则。"
)

if notice := state.RULES_NOTICE.pop():
    st.success(notice)
with common.database() as db:
    history = rulesets.history(db)
    in_force = rulesets.rule_set_on(db, today)

tags = policy().tags


def applies(rule) -> str:
    text = "；".join(c.describe(tags) for c in rule.applies_to)
    if rule.excludes:
        text += "（不含" + "、".join(c.describe(tags) for c in rule.excludes) + "）"
    return text


st.subheader("当前施行的个人考核规则")
st.dataframe(
    pd.DataFrame(
        [
            {
                "规则编号": r.id,
                "条款": r.article,
                "制度": r.system,
                "内容": r.title,
                "周期": PERIOD_LABELS[r.period],
                "要求": r.requirement,
                "计入类别": "、".join(r.subtypes) or (r.target_kind or ""),
                "规则类型": KIND_LABELS[r.kind],
                "适用对象": applies(r),
            }
            for r in in_force.rules
        ]
    ),
    hide_index=True,
    width="stretch",
    key="rules",
)

st.subheader("学校层面的制度落实（部门台账）")
st.dataframe(
    pd.DataFrame(
        [
            {
                "规则编号": r.id,
                "条款": r.article,
                "制度": r.system,
                "内容": r.title,
                "周期": PERIOD_LABELS[r.period],
                "责任部门": "、".join(r.owners),
            }
            for r in in_force.institutional
        ]
    ),
    hide_index=True,
    width="stretch",
    key="institutional",
)

st.subheader("规则版本")
st.dataframe(
    pd.DataFrame(
        [
            {
                "版本": s.label,
                "施行日期": dates.format_date(s.effective_from) if s.effective_from else "—",
                "规则数": len(s.rule_set.rules) + len(s.rule_set.institutional),
                "说明": s.note,
                "导入时间": dates.format_stamp(s.loaded_at) if s.loaded_at else "",
                "导入人": s.loaded_by,
            }
            for s in history
        ]
    ),
    hide_index=True,
    width="stretch",
    key="versions",
)

pending = {
    s.id: s.label
    for s in history
    if s.id is not None and s.effective_from is not None and s.effective_from > today
}
if pending:
    chosen = st.selectbox(
        "撤销尚未施行的修订",
        list(pending),
        format_func=pending.__getitem__,
        key="withdraw_choice",
        **common.TARGET,
    )
    if st.button("撤销此修订", key="withdraw") and common.chosen(chosen, "要撤销的修订"):
        try:
            with common.database() as db:
                rulesets.withdraw_rule_set(db, chosen, today, user.id)
        except PortalError as exc:
            common.show_error(exc)
        else:
            state.RULES_NOTICE.set(f"已撤销 {pending[chosen]}。")
            st.rerun()

st.subheader("导入修订后的规则文件")
st.caption(
    "规则文件为 UTF-8 编码的 TOML 文本，格式与系统内置的 `policy.toml` 中的 `[[rules]]`、`[[institutional]]` 部分相同。"
    "可先下载内置文件，修改后再上传。"
)
st.download_button(
    "下载内置规则文件",
    common.owned(user, rulesets.bundled_toml()),
    file_name="policy.toml",
    mime="application/toml",
    icon=":material/download:",
)
with st.form("load_rules"):
    upload = st.file_uploader("规则文件", type=["toml"], key="rules_file")
    effective = st.date_input("施行日期", value=today, key="effective_from")
    note = st.text_input("说明（如：2027年修订）", max_chars=200, key="rules_note")
    submitted = st.form_submit_button("检查并导入", type="primary")
if submitted:
    if upload is None:
        st.error("请先选择规则文件。")
    else:
        try:
            with common.database() as db:
                rule_set = rulesets.parse_rule_file(upload.getvalue())
                stored = rulesets.save_rule_set(db, rule_set, effective, note, user.id)
        except PortalError as exc:
            common.show_error(exc)
        else:
            state.RULES_NOTICE.set(
                f"已导入 {stored.label}：个人规则 {len(rule_set.rules)} 条，学校层面规则 {len(rule_set.institutional)} 条。"
            )
            st.rerun()
