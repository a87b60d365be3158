"""Which account a campus identity opens (portal/provisioning.py): local administrator and
department accounts only through a link an administrator made, and matching by exact 工号."""

from __future__ import annotations

import pytest

from portal import accounts, provisioning, sessions, sso
from portal.accounts import Role
from portal.errors import AuthError, ValidationError


def identity(staff_no: str) -> sso.Identity:
    return sso.Identity(source="oidc", staff_no=staff_no, name="某人", kinds=["教职工"])


def test_an_identity_named_like_a_local_account_does_not_open_it(demo_db):
    """Issue 19 §1.2: an identity whose id is admin, dangban, jiaowu (any case) logged into that account."""
    provisioning.set_enabled(demo_db, True, None)
    for name in ("admin", "dangban", "jiaowu", "ADMIN", "JiaoWu"):
        with pytest.raises(AuthError, match="关联"):
            provisioning.account_for(demo_db, identity(name))
    assert accounts.find_user(demo_db, "ADMIN").username == "admin"  # nothing new was provisioned
    assert (
        demo_db.execute("SELECT count(*) FROM users WHERE username = 'JiaoWu' COLLATE BINARY").fetchone()[0]
        == 0
    )


def test_a_persons_own_account_holding_a_local_role_needs_a_link_too(demo_db):
    staff = accounts.find_user(demo_db, "30000001")
    assert provisioning.account_for(demo_db, identity("30000001")).id == staff.id
    accounts.set_roles(demo_db, staff.id, [Role(role="visitor"), Role(role="admin")])
    with pytest.raises(AuthError, match="关联"):
        provisioning.account_for(demo_db, identity("30000001"))
    provisioning.link(demo_db, "30000001", "30000001")
    assert provisioning.account_for(demo_db, identity("30000001")).id == staff.id


def test_matching_by_name_is_exact(db):
    accounts.create_user(db, "t.wang", "王老师", roles=[Role(role="visitor")])
    assert provisioning.account_for(db, identity("t.wang")).username == "t.wang"
    provisioning.set_enabled(db, True, None)
    with pytest.raises(AuthError, match="大小写不同"):
        provisioning.account_for(db, identity("T.Wang"))


def test_an_administrator_links_an_identity_audited_and_unlinks_it(demo_db):
    admin = accounts.find_user(demo_db, "admin")
    link = provisioning.link(demo_db, "admin", "it-zhang", actor_id=admin.id)
    assert (link.username, link.staff_no, link.linked_by) == ("admin", "it-zhang", "admin")
    assert provisioning.account_for(demo_db, identity("it-zhang")).id == admin.id
    assert [x.staff_no for x in provisioning.links(demo_db, admin.id)] == ["it-zhang"]
    with pytest.raises(ValidationError, match="已关联到账号“admin”"):
        provisioning.link(demo_db, "jiaowu", "it-zhang", actor_id=admin.id)
    # a session the link opened ends when the link goes; a password session of the account stays
    by_link = sessions.for_identity(demo_db, admin.id, "oidc:" + "a" * 64)
    by_password, _ = sessions.start(demo_db, admin.id)
    provisioning.unlink(demo_db, "it-zhang", actor_id=admin.id)
    assert sessions.resume(demo_db, by_link) is None and sessions.resume(demo_db, by_password) is not None
    with pytest.raises(AuthError, match="关联"):
        provisioning.account_for(demo_db, identity("admin"))
    with pytest.raises(AuthError, match="没有与该工号对应"):
        provisioning.account_for(demo_db, identity("it-zhang"))
    logged = demo_db.execute(
        "SELECT action, detail FROM audit_log WHERE action LIKE 'user.sso_%' ORDER BY id"
    ).fetchall()
    assert logged == [("user.sso_link", "admin ← it-zhang"), ("user.sso_unlink", "admin ← it-zhang")]


def test_a_linked_identity_to_a_disabled_account_stays_out(demo_db):
    provisioning.link(demo_db, "jiaowu", "jw-li")
    accounts.set_active(demo_db, accounts.find_user(demo_db, "jiaowu").id, False)
    with pytest.raises(AuthError, match="停用"):
        provisioning.account_for(demo_db, identity("jw-li"))
