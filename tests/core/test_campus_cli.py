"""What a campus sets can be set without the web UI: API tokens and auto-provisioning from the command
line, each change audited as the command line's."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from portal import api_tokens, audit, provisioning
from portal.cli import cli


def test_tokens_are_issued_listed_and_revoked_from_the_command_line(db):
    issued = CliRunner().invoke(
        cli, ["token", "issue", "接待前台", "--scope", "roster", "--scope", "bookings"]
    )
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip()
    assert token.startswith("cpt_") and len(token.splitlines()) == 1  # the token alone on stdout
    record = api_tokens.check(db, token, "bookings", "test")
    assert record.name == "接待前台" and record.scopes == ["bookings", "roster"]

    listed = CliRunner().invoke(cli, ["token", "list"])
    assert f"{record.id}\t接待前台\tbookings,roster\t有效" in listed.stdout and token not in listed.output

    assert CliRunner().invoke(cli, ["token", "revoke", str(record.id)]).exit_code == 0
    with pytest.raises(api_tokens.Refused, match="已撤销"):
        api_tokens.check(db, token, "bookings", "test")
    actions = [(e.action, e.actor) for e in audit.search(db, category="api.").entries]
    assert ("api.issue", actions[-1][1]) in actions and actions[-1][1].startswith("命令行（")
    assert ("api.revoke", actions[-1][1]) in actions


def test_a_bad_token_request_is_refused_with_a_chinese_reason(db):
    result = CliRunner().invoke(cli, ["token", "issue", "x", "--scope", "roster", "--days", "9999"])
    assert result.exit_code == 1 and "有效期须为" in result.output
    assert CliRunner().invoke(cli, ["token", "revoke", "42"]).exit_code == 1


def test_auto_provisioning_is_switched_from_the_command_line(db):
    assert "已关闭" in CliRunner().invoke(cli, ["provisioning"]).output
    assert "已开启" in CliRunner().invoke(cli, ["provisioning", "on"]).output
    assert provisioning.enabled(db)
    assert "已关闭" in CliRunner().invoke(cli, ["provisioning", "off"]).output
    assert not provisioning.enabled(db)
    entries = audit.search(db, category="sso.").entries
    assert [e.detail for e in entries] == ["off", "on"] and entries[0].actor.startswith("命令行（")
