"""Accounts: ``portal user …`` (add, reset a password, link a campus identity) and ``portal provisioning``
(whether single sign-on opens accounts by itself)."""

from __future__ import annotations

import click

from .. import accounts, provisioning
from ..db import open_db
from ..errors import PortalError
from .common import fail


@click.group()
def user() -> None:
    """Accounts."""


@user.command("add")
@click.argument("username")
@click.option("--name", "display_name", help="姓名（默认同账号）")
@click.option("--admin", is_flag=True, help="管理员")
@click.option("--role", "roles", multiple=True, type=click.Choice(["visitor", "cadre", "department"]))
@click.option("--department", default="", help="部门角色所属的责任部门")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def user_add(
    username: str,
    display_name: str | None,
    admin: bool,
    roles: tuple[str, ...],
    department: str,
    password: str,
) -> None:
    """Create an account (the first administrator: portal user add admin --admin)."""
    role_list = [accounts.Role(role=r, department=department if r == "department" else "") for r in roles]
    if admin:
        role_list.append(accounts.Role(role="admin"))
    try:
        # linked to the person with this 工号, and named after him or her when --name is absent
        with open_db() as db:
            # an initial password, as an administrator's: changed at the first login
            created = accounts.create_user(db, username, display_name, password, role_list, must_change=True)
    except PortalError as exc:
        fail(exc.message)
    click.echo(f"已建立账号 {created.username}（{'、'.join(r.label for r in created.roles) or '无角色'}）")


@user.command("reset-password")
@click.argument("username")
@click.option("--password", help="新密码（不给则随机生成并显示）")
def user_reset(username: str, password: str | None) -> None:
    """Set a new password, unlock the account and end its sessions."""
    try:
        with open_db() as db:
            new = accounts.reset_password(db, username, password)
    except PortalError as exc:
        fail(exc.message)
    click.echo(f"账号 {username} 的密码已重置。" + ("" if password else f"新密码：{new}"))


@user.command("link")
@click.argument("username")
@click.argument("identity")
def user_link(username: str, identity: str) -> None:
    """Let the campus identity IDENTITY (工号/学号) log into USERNAME: the only way to an administrator's
    or a department's account by single sign-on (audited)."""
    try:
        with open_db() as db:
            provisioning.link(db, username, identity)
    except PortalError as exc:
        fail(exc.message)
    click.echo(f"已关联：统一身份认证账号 {identity} 可登录账号 {username}")


@user.command("unlink")
@click.argument("identity")
def user_unlink(identity: str) -> None:
    """Remove the link of the campus identity IDENTITY (audited; the sessions it opened end)."""
    try:
        with open_db() as db:
            provisioning.unlink(db, identity)
    except PortalError as exc:
        fail(exc.message)
    click.echo(f"已解除统一身份认证账号 {identity} 的关联")


@user.command("links")
@click.argument("username", required=False)
def user_links(username: str | None) -> None:
    """List the campus identities linked to accounts (all, or USERNAME's)."""
    with open_db() as db:
        found = accounts.find_user(db, username) if username else None
        if username and found is None:
            fail(f"账号“{username}”不存在")
        for item in provisioning.links(db, found.id if found else None):
            click.echo(f"{item.staff_no}\t{item.username}\t{item.linked_at}\t{item.linked_by or '命令行'}")


@click.command("provisioning")
@click.argument("state", type=click.Choice(["on", "off", "status"]), default="status")
def provisioning_command(state: str) -> None:
    """自动开通师生账号: whether single sign-on opens a 师生 account for an unknown person."""
    with open_db() as db:
        if state != "status":
            provisioning.set_enabled(db, state == "on", None)
        on = provisioning.enabled(db)
    click.echo("自动开通师生账号：" + ("已开启" if on else "已关闭"))
