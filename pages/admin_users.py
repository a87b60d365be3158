import math

import streamlit as st

from pages import common
from portal import accounts, api_tokens, provisioning, submissions
from portal.accounts import ROLE_LABELS, Role
from portal.errors import NotFound, PermissionDenied, PortalError
from portal.policy import policy

PAGE_SIZE = 100

admin = common.require(__file__)

st.title("账号管理")

with st.expander("新建账号", icon=":material/person_add:"), st.form("create_user", clear_on_submit=True):
    username = st.text_input("账号（工号或学号）")
    name = st.text_input("姓名")
    roles = st.multiselect("角色", list(ROLE_LABELS), format_func=ROLE_LABELS.get, default=["visitor"])
    department = st.selectbox("责任部门（部门角色必选）", ["", *policy().departments])
    if st.form_submit_button("新建", type="primary"):
        # exactly once per form and inputs: a double click must not turn into "账号已存在" and lose the
        # password; the password stays in this browser session only (never stored in clear)
        token = common.form_token_for("create_user", username.strip())
        try:
            with common.database() as db:
                role_list = [Role(role=r, department=department if r == "department" else "") for r in roles]
                password = st.session_state.get(f"_password_{token}") or accounts.generate_password()
                submissions.once(
                    db,
                    token,
                    "account",
                    lambda: (
                        accounts.create_user(db, username, name, password, role_list, actor_id=admin.id).id
                    ),
                    user_id=admin.id,
                )
            st.session_state[f"_password_{token}"] = password
            st.success(f"账号 {common.md(username.strip())} 已建立。初始密码（仅显示这一次）：")
            st.code(password, language=None)
        except PortalError as exc:
            common.show_error(exc)

search = st.text_input("查找账号（账号或姓名）", key="user_search")
# every account, a page at a time (counted and paged in SQL); a new search starts at page 1
page_key = f"user_page_{search.strip()}"
page_no = int(st.session_state.get(page_key, 1))
with common.database() as db:
    total, users = accounts.page_users(db, search, offset=(page_no - 1) * PAGE_SIZE, limit=PAGE_SIZE)
pages = max(1, math.ceil(total / PAGE_SIZE))
st.caption(f"共 {total:,} 个账号，第 {min(page_no, pages)}/{pages} 页（每页 {PAGE_SIZE} 个，按账号排序）")
st.dataframe(
    [
        {
            "账号": u.username,
            "姓名": u.display_name,
            "角色": "、".join(r.label for r in u.roles),
            "状态": "正常" if u.is_active else "已停用",
        }
        for u in users
    ],
    hide_index=True,
    width="stretch",
)

if pages > 1:
    st.number_input("页码", min_value=1, max_value=pages, step=1, key=page_key)

st.subheader("修改账号")
chosen = st.selectbox("账号", [u.username for u in users], index=None, placeholder="选择一个账号")
target = next((u for u in users if u.username == chosen), None)
if target:
    explicit = [r for r in target.roles if r.role != "cadre" or r.department]
    with st.form("edit_roles"):
        roles = st.multiselect(
            "角色", list(ROLE_LABELS), format_func=ROLE_LABELS.get, default=sorted({r.role for r in explicit})
        )
        depts = st.multiselect(
            "责任部门（部门角色）",
            policy().departments,
            default=[r.department for r in explicit if r.role == "department"],
        )
        if st.form_submit_button("保存角色"):
            role_list = [Role(role=r) for r in roles if r != "department"]
            if "department" in roles:
                role_list += [Role(role="department", department=d) for d in depts] or [
                    Role(role="department")
                ]
            try:
                with common.database() as db:
                    accounts.set_roles(db, target.id, role_list, admin.id)
                st.success("角色已保存。担任干部职务者自动具有“干部”角色。")
            except PortalError as exc:
                common.show_error(exc)
    c1, c2 = st.columns(2)
    if c1.button("重置密码", icon=":material/lock_reset:"):
        common.ask("reset_password", username=target.username)
    if target.id != admin.id and c2.button("停用账号" if target.is_active else "启用账号"):
        if target.is_active:
            common.ask("disable_account", username=target.username)  # asks first (reruns)
        with common.database() as db:
            accounts.set_active(db, target.id, True, admin.id)  # enabling harms nobody: at once
        st.rerun()

# destructive actions ask first (pages/common.py: ask / confirmed)
if asked := common.pending("reset_password"):
    lines = [
        f"账号：{asked['username']}",
        "将生成新的初始密码（仅显示一次），原密码失效，该账号所有已登录的会话随即退出。",
    ]
    if common.confirmed("reset_password", "确认重置密码", lines, ok="确认重置"):
        try:
            with common.database() as db:
                password = accounts.reset_password(db, asked["username"], actor_id=admin.id)
            st.success(
                f"账号 {common.md(asked['username'])} 的密码已重置，账号已解锁，原有登录已失效。"
                "新密码（仅显示这一次）："
            )
            st.code(password, language=None)
        except PortalError as exc:
            common.show_error(exc)
if asked := common.pending("disable_account"):
    lines = [f"账号：{asked['username']}", "停用后该账号不能登录，所有已登录的会话随即退出；可随时重新启用。"]
    if common.confirmed("disable_account", "确认停用账号", lines, ok="确认停用"):
        try:
            with common.database() as db:
                account = accounts.find_user(db, asked["username"])
                if account is None:
                    raise NotFound(f"账号“{asked['username']}”不存在")
                if account.id == admin.id:
                    raise PermissionDenied("不能停用自己的账号")
                accounts.set_active(db, account.id, False, admin.id)
            st.success(f"账号 {common.md(asked['username'])} 已停用。")
        except PortalError as exc:
            common.show_error(exc)

st.divider()
st.subheader("统一身份认证")
with common.database() as db:
    provisioning_on = provisioning.enabled(db)
st.caption(
    "开启后，统一身份认证（CAS 或 OIDC）确认身份、但本平台还没有账号的人首次登录时，自动开通“师生”账号并关联人员"
    "（人员不存在时按认证信息中的姓名、人员类别新建）。干部、部门仍以数据导入为准；已停用的账号始终不能登录。"
)
wanted = st.toggle("自动开通师生账号", value=provisioning_on, key="auto_provision")
if wanted != provisioning_on:
    with common.database() as db:
        provisioning.set_enabled(db, wanted, admin.id)
    st.success("已开启自动开通。" if wanted else "已关闭自动开通。")

st.subheader("接口令牌（API）")
st.caption(
    "供校内其他系统只读调用 `/api/v1/` 接口，用法见 `docs/api.md`。令牌只在签发时显示一次，平台只保存其摘要；每次调用都记入审计日志。"
)
with st.form("issue_token", clear_on_submit=True):
    token_name = st.text_input("用途（调用方）", max_chars=60, placeholder="如：一站式服务大厅、接待前台")
    scopes = st.multiselect(
        "权限范围", list(api_tokens.SCOPES), format_func=lambda s: f"{s}：{api_tokens.SCOPES[s]}"
    )
    days = st.number_input("有效期（天）", min_value=1, max_value=api_tokens.MAX_DAYS, value=180)
    if st.form_submit_button("签发令牌", type="primary"):
        try:
            with common.database() as db:
                record, token = api_tokens.issue(db, token_name, scopes, int(days), admin.id)
            st.success(f"令牌 #{record.id} 已签发。请立即复制保存（仅显示这一次）：")
            st.code(token, language=None, wrap_lines=True)
        except PortalError as exc:
            common.show_error(exc)
with common.database() as db:
    tokens = api_tokens.list_tokens(db)
if tokens:
    st.dataframe(
        [
            {
                "编号": t.id,
                "用途": t.name,
                "权限范围": "、".join(t.scopes),
                "签发时间": t.created_at[:16].replace("T", " "),
                "到期时间": t.expires_at[:16].replace("T", " "),
                "最近使用": (t.last_used_at or "")[:16].replace("T", " "),
                "状态": t.state_label,
            }
            for t in tokens
        ],
        hide_index=True,
        width="stretch",
    )
    live = [t for t in tokens if t.state_label == "有效"]
    revoke_id = st.selectbox(
        "撤销令牌",
        [t.id for t in live],
        index=None,
        placeholder="选择要撤销的令牌",
        format_func=lambda i: f"#{i} {next(t.name for t in live if t.id == i)}",
    )
    if revoke_id is not None and st.button("撤销", icon=":material/block:"):
        with common.database() as db:
            api_tokens.revoke(db, revoke_id, admin.id)
        st.success(f"令牌 #{revoke_id} 已撤销。")
        st.rerun()
