import math
import secrets

import streamlit as st

from pages import account_files, common, state
from portal import accounts, api_tokens, org, passwords, personal_corrections, provisioning, submissions
from portal.account_notices import NewAccount
from portal.accounts import ROLE_LABELS, Role
from portal.errors import NotFound, PermissionDenied, PortalError
from portal.policy import policy
from portal.settings import PERSON_KINDS

PAGE_SIZE = 100

admin = common.require(__file__)

st.title("账号管理")

NEW_ACCOUNT = ("new_username", "new_name", "new_roles", "new_department")
if common.arrived():  # the files of accounts made on an earlier visit are not offered again
    state.OPENED.pop()
if (shown := state.NEW_ACCOUNT.pop()) is not None:  # said once, above the emptied form
    st.success(f"账号 {common.md(shown.username)} 已建立。初始密码（仅显示这一次）：")
    st.code(shown.password, language=None)
    st.caption("本人用初始密码首次登录后，须先修改密码才能使用平台。")
if opened := state.OPENED.get():  # its 账号开通通知, until downloaded or the page is left
    account_files.offer(admin, [opened[0]], key=opened[1])
errors = common.FieldErrors()
with st.expander("新建账号", icon=":material/person_add:"), st.form("create_user"):
    username = st.text_input("账号（工号或学号）", key="new_username")
    errors.under("username")
    name = st.text_input("姓名", key="new_name")
    errors.under("display_name")
    # no select-all in these lists: every role at once (管理员 included) is never what is meant
    roles = st.multiselect(
        "角色",
        list(ROLE_LABELS),
        format_func=ROLE_LABELS.__getitem__,
        default=["visitor"],
        select_all=False,
        key="new_roles",
    )
    department = st.selectbox("责任部门（部门角色必选）", ["", *policy().departments], key="new_department")
    errors.under("roles")
    if st.form_submit_button("新建", type="primary"):
        # exactly once per form and inputs: a double click must not turn into "账号已存在" and lose the
        # password; the password stays in this browser session only (never stored in clear)
        token = common.form_token_for("create_user", username.strip())
        try:
            with common.database() as db:
                role_list = [Role(role=r, department=department if r == "department" else "") for r in roles]
                password = state.PASSWORDS.of(token).get() or passwords.generate_password()
                submissions.once(
                    db,
                    token,
                    "account",
                    lambda: (
                        accounts.create_user(db, username, name, password, role_list, actor_id=admin.id).id
                    ),
                    user_id=admin.id,
                )
        except PortalError as exc:
            errors.show(exc)
        else:
            state.PASSWORDS.of(token).set(password)
            made = NewAccount(
                username.strip(), name.strip(), password, "、".join(ROLE_LABELS[r] for r in roles)
            )
            state.NEW_ACCOUNT.set(made)
            state.OPENED.set((made, f"opened_{secrets.token_hex(4)}"))
            for key in NEW_ACCOUNT:  # an empty form for the next account
                del st.session_state[key]
            st.rerun()

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
            "角色",
            list(ROLE_LABELS),
            format_func=ROLE_LABELS.__getitem__,
            default=sorted({r.role for r in explicit}),
            select_all=False,
        )
        depts = st.multiselect(
            "责任部门（部门角色）",
            policy().departments,
            default=[r.department for r in explicit if r.role == "department"],
            select_all=False,
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

    # PIPL Art. 46: a person's details corrected on request, with a reason, audited (numbers masked)
    with st.expander("更正个人信息（姓名、手机号、人员类别、单位）", icon=":material/badge:"):
        with common.database() as db:
            person = personal_corrections.details(db, target.id)
            units = org.list_units(db)
        fixes = common.FieldErrors()
        with st.form(f"correct_{target.id}"):
            new_name = st.text_input("姓名", value=person.name, max_chars=40, key=f"fix_name_{target.id}")
            fixes.under("name")
            if person.person_id is not None:
                new_phone = st.text_input(
                    "手机号（留空则不变）",
                    placeholder=f"现为 {person.phone_masked}" if person.phone_masked else "现无手机号",
                    max_chars=20,
                    key=f"fix_phone_{target.id}",
                )
                drop_phone = st.checkbox("删除手机号", key=f"fix_drop_{target.id}")
                fixes.under("phone")
                kinds = list(PERSON_KINDS)
                new_kind = st.selectbox(
                    "人员类别",
                    kinds,
                    index=kinds.index(person.kind) if person.kind in kinds else 0,
                    key=f"fix_kind_{target.id}",
                )
                fixes.under("kind")
                unit_ids = [u.id for u in units]
                new_unit = st.selectbox(
                    "单位",
                    unit_ids,
                    index=unit_ids.index(person.unit_id) if person.unit_id in unit_ids else None,
                    format_func={u.id: u.name for u in units}.__getitem__,
                    placeholder="选择单位",
                    key=f"fix_unit_{target.id}",
                )
                fixes.under("unit")
            else:
                st.caption("该账号没有对应的人员信息，只能更正显示姓名。")
            reason = st.text_input(
                "更正原因（必填，记入操作日志）",
                max_chars=personal_corrections.REASON_MAX,
                key=f"fix_reason_{target.id}",
            )
            fixes.under("reason")
            if st.form_submit_button("保存更正"):
                changes: dict = {"name": new_name}
                if person.person_id is not None:
                    changes.update(kind=new_kind, unit_id=new_unit)
                    if drop_phone:
                        changes["phone"] = ""
                    elif new_phone.strip():
                        changes["phone"] = new_phone
                try:
                    with common.database() as db:
                        personal_corrections.correct(db, admin, target.id, reason=reason, **changes)
                except PortalError as exc:
                    fixes.show(exc)
                else:
                    st.success("个人信息已更正，已记入操作日志。")

    # which campus identities reach this account: the only way to an administrator's or a
    # department's account by single sign-on (portal/provisioning.py)
    st.markdown("**统一身份认证关联**")
    st.caption(
        "普通账号按工号/学号自动对应统一身份认证，无需关联；管理员和部门账号只有在这里关联后，"
        "才能通过统一身份认证登录（同名的统一身份认证账号不会自动进入）。关联和解除都记入操作日志。"
    )
    with common.database() as db:
        target_links = provisioning.links(db, target.id)
    for item in target_links:
        l1, l2 = st.columns([3, 1])
        l1.text(
            f"{item.staff_no}（{item.linked_at[:16].replace('T', ' ')} 由 {item.linked_by or '命令行'} 关联）"
        )
        if l2.button("解除关联", key=f"unlink_{item.staff_no}"):
            try:
                with common.database() as db:
                    provisioning.unlink(db, item.staff_no, admin.id)
            except PortalError as exc:
                common.show_error(exc)
            else:
                st.rerun()
    with st.form(f"link_{target.id}", clear_on_submit=True):
        staff_no = st.text_input("统一身份认证账号（工号/学号）", max_chars=64)
        if st.form_submit_button("关联"):
            try:
                with common.database() as db:
                    provisioning.link(db, target.username, staff_no, admin.id)
            except PortalError as exc:
                common.show_error(exc)
            else:
                st.success(
                    f"已关联：统一身份认证账号 {common.md(staff_no.strip())} 可登录账号 {common.md(target.username)}。"
                )

# destructive actions ask first (pages/common.py: ask / confirmed)
if asked := common.pending("reset_password"):
    lines = [
        f"账号：{asked['username']}",
        "将生成新的初始密码（仅显示一次），原密码失效，该账号所有已登录的会话随即退出，日历订阅地址同时更换。",
    ]
    if common.confirmed("reset_password", "确认重置密码", lines, ok="确认重置"):
        try:
            with common.database() as db:
                password = accounts.reset_password(db, asked["username"], actor_id=admin.id)
                account = accounts.find_user(db, asked["username"])
            st.success(
                f"账号 {common.md(asked['username'])} 的密码已重置，账号已解锁，原有登录已失效。"
                "新密码（仅显示这一次）："
            )
            st.code(password, language=None)
            st.caption("本人用这个密码登录后，须先修改密码才能使用平台。")
            held = "、".join(r.label for r in account.roles) if account else ""
            reset = NewAccount(asked["username"], account.display_name if account else "", password, held)
            offered = (reset, f"opened_{secrets.token_hex(4)}")
            state.OPENED.set(offered)  # offered until taken
            account_files.offer(admin, [reset], key=offered[1])
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
        "权限范围",
        list(api_tokens.SCOPES),
        format_func=lambda s: f"{s}：{api_tokens.SCOPES[s]}",
        select_all=False,  # a token gets the scopes its caller needs, chosen one by one
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
