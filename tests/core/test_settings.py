"""One settings object: every PORTAL_* variable read, typed and checked in portal/config.py, refused at
start with its name and why, and documented in docs/configuration.md from the same list."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from portal import config, links
from portal.cli import cli
from portal.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_checks_the_settings_first(name, monkeypatch):
    monkeypatch.setenv("PORTAL_NOTIFY_MAX_ATTEMPTS", "0")
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 2, result.output
    assert "PORTAL_NOTIFY_MAX_ATTEMPTS = “0”：不能小于 1 / must be at least 1" in result.output


def test_secrets_are_never_echoed_in_a_refusal(monkeypatch):
    monkeypatch.setenv("PORTAL_SECRET_KEY", "tooshort")
    with pytest.raises(SettingsError) as refused:
        config.settings()
    assert "tooshort" not in refused.value.message and "PORTAL_SECRET_KEY" in refused.value.message


def test_settings_follow_the_environment_of_each_test(monkeypatch):
    first = config.settings()
    assert config.settings() is first  # nothing changed: the same object
    monkeypatch.setenv("PORTAL_LOCKOUT_THRESHOLD", "9")
    assert config.settings().lockout_threshold == 9
    monkeypatch.delenv("PORTAL_LOCKOUT_THRESHOLD")
    assert config.settings().lockout_threshold == 5


def test_the_old_name_of_the_public_address_still_works_and_is_reported(monkeypatch):
    monkeypatch.delenv("PORTAL_PUBLIC_URL", raising=False)
    monkeypatch.setenv("PORTAL_BASE_URL", "https://portal.hpu.edu.cn/")
    assert links.booking("AB23CD").url == "https://portal.hpu.edu.cn/my_bookings?code=AB23CD"
    result = CliRunner().invoke(cli, ["config"])
    assert result.exit_code == 0 and "PORTAL_BASE_URL → PORTAL_PUBLIC_URL" in result.output
    assert "PORTAL_PUBLIC_URL=https://portal.hpu.edu.cn\t# environment" in result.output
    monkeypatch.setenv("PORTAL_PUBLIC_URL", "https://other.hpu.edu.cn")
    with pytest.raises(SettingsError, match="PORTAL_PUBLIC_URL 和 PORTAL_BASE_URL 不一致"):
        config.settings()


def test_a_misspelt_name_is_reported(monkeypatch):
    monkeypatch.setenv("PORTAL_QUIET_HOUR", "23:00-07:00")
    result = CliRunner().invoke(cli, ["config"])
    assert "未知的设置 PORTAL_QUIET_HOUR" in result.output and result.exit_code == 0


def test_portal_config_shows_where_each_value_came_from_and_hides_secrets(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(
        '[cas]\nserver_url = "https://cas.example.edu.cn/cas"\n', encoding="utf-8"
    )
    monkeypatch.setenv("PORTAL_SMTP_PASSWORD", "hunter2-hunter2")
    result = CliRunner().invoke(cli, ["config"])
    assert result.exit_code == 0, result.output
    assert (
        "PORTAL_CAS_SERVER_URL=https://cas.example.edu.cn/cas/\t# secrets.toml [cas] server_url"
        in result.output
    )
    assert "PORTAL_SMTP_PASSWORD=******\t# environment" in result.output
    assert "hunter2" not in result.output
    assert "PORTAL_QUIET_HOURS=22:00-07:30\t# default" in result.output


def test_values_are_typed():
    found = config.read(
        {
            "PORTAL_QUIET_HOURS": "off",
            "PORTAL_SMTP_STARTTLS": "yes",
            "PORTAL_NOTIFY_DEPARTMENTS": "党办=a@x.edu.cn, b@x.edu.cn;校办=c@x.edu.cn",
            "PORTAL_WEBHOOK_HOSTS": "QYAPI.weixin.qq.com, ",
        },
        {},
    )
    assert found.quiet_hours is None and found.smtp_starttls is True
    assert found.notify_departments == {"党办": ["a@x.edu.cn", "b@x.edu.cn"], "校办": ["c@x.edu.cn"]}
    assert found.webhook_hosts == ["qyapi.weixin.qq.com"]


# --- the code reads settings in one place ---------------------------------------------------------


def test_no_module_but_config_reads_the_environment():
    offenders = []
    for folder in ("portal", "pages"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == ROOT / "portal" / "config.py":
                continue
            source = path.read_text(encoding="utf-8")
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
                if isinstance(node, ast.keyword) and node.arg == "envvar":  # click's own reading
                    offenders.append(f"{path.relative_to(ROOT)}:{node.value.lineno}")
    assert offenders == []


# --- the docs list the same settings ---------------------------------------------------------------


def _documented() -> dict[str, str]:
    """Each variable named in the first column of a docs table, with its default column's text."""
    found: dict[str, str] = {}
    header: list[str] = []
    for line in DOCS.splitlines():
        if not line.startswith("|"):
            header = []
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if not header:
            header = cells
            continue
        if set(line) <= set("|- "):
            continue
        if header[0] != "variable":
            continue
        for name in re.findall(r"`(PORTAL_[A-Z0-9_]+)`", cells[0]):
            assert name not in found, f"{name} is documented twice"
            found[name] = cells[header.index("default")]
    return found


def test_the_docs_list_every_setting_and_no_other():
    documented = _documented()
    assert set(documented) == set(config.environment_names()) | set(config.DEPRECATED)


def test_the_docs_give_each_settings_default():
    documented = _documented()
    for name, field in Settings.model_fields.items():
        env = field.json_schema_extra["env"]
        cell = documented[env]
        default = config.shown(getattr(config.read({}, {}), name))
        if env == "PORTAL_DB":
            assert default == str(config.ROOT / cell.split("`")[1])
        elif cell.startswith("—"):
            assert default == "", (env, default)
        else:
            assert cell.split("`")[1] == default, (env, cell, default)


@pytest.mark.parametrize("everyone", ["0.0.0.0/0", "::/0", "127.0.0.1/32, 0.0.0.0/0", "128.0.0.0/1"])
def test_trusting_every_address_as_a_proxy_is_refused_at_start(everyone, monkeypatch):
    """A proxy network that holds the whole Internet lets any client write the address the audit log,
    the API's limiter and /health believe: refused by every command, named, with why."""
    monkeypatch.setenv("PORTAL_TRUSTED_PROXIES", everyone)
    with pytest.raises(SettingsError) as refused:
        config.settings()
    assert "PORTAL_TRUSTED_PROXIES" in refused.value.message
    assert "任何客户端都能伪造自己的地址" in refused.value.message
    result = CliRunner().invoke(cli, ["config"])
    assert result.exit_code == 2 and "PORTAL_TRUSTED_PROXIES" in result.output


def test_a_very_wide_proxy_network_is_warned_about_at_start(monkeypatch):
    monkeypatch.setenv("PORTAL_TRUSTED_PROXIES", "127.0.0.1/32,10.0.0.0/8,2001:db8::/32")
    assert [str(n) for n in config.settings().trusted_proxies][1:] == ["10.0.0.0/8", "2001:db8::/32"]
    result = CliRunner().invoke(cli, ["config"])
    assert result.exit_code == 0, result.output
    assert "PORTAL_TRUSTED_PROXIES 中的 10.0.0.0/8 含 16,777,216 个地址" in result.output
    assert "2001:db8::/32" in result.output
    monkeypatch.setenv("PORTAL_TRUSTED_PROXIES", "127.0.0.1/32,::1/128,10.0.8.0/29")
    result = CliRunner().invoke(cli, ["config"])
    assert result.exit_code == 0 and "PORTAL_TRUSTED_PROXIES 中的" not in result.output


def test_a_page_run_holds_one_set_of_settings(monkeypatch, tmp_path):
    """pages/main.py holds the settings for a whole page run (``config.held``): a change of the
    environment or of secrets.toml half-way through does not mix two configurations in one page,
    nor costs a look at both on every ask; the next run sees the change. Other threads are not held."""
    import threading

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PORTAL_SCHOOL_NAME", "甲大学")
    with config.held() as held:
        assert held.school_name == "甲大学"
        monkeypatch.setenv("PORTAL_SCHOOL_NAME", "乙大学")
        (tmp_path / ".streamlit").mkdir()
        (tmp_path / ".streamlit" / "secrets.toml").write_text(
            '[cas]\npublic_url = "https://p.example.edu.cn"\n'
        )
        assert config.settings() is held
        with config.held() as inner:  # nested: the outer block's
            assert inner is held
        assert config.settings() is held
        elsewhere: list[str] = []
        worker = threading.Thread(target=lambda: elsewhere.append(config.settings().school_name))
        worker.start()
        worker.join()
        assert elsewhere == ["乙大学"]
    after = config.settings()
    assert after.school_name == "乙大学"
    assert after.public_url == "https://p.example.edu.cn"
