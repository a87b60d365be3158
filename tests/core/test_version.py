"""One version: pyproject.toml's, which CHANGELOG.md's newest entry names and ``portal --version`` prints
(the installed package's metadata: reinstall after pyproject.toml changes)."""

from __future__ import annotations

import re
import tomllib

from click.testing import CliRunner
from packaging.version import Version

import portal
from portal.cli import cli
from tests.conftest import ROOT

UPGRADE_FIRST = "### Breaking changes and upgrade steps"


def _pyproject_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def _releases() -> list[tuple[str, str]]:
    """(version, its section's text) in the order CHANGELOG.md lists them."""
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    parts = re.split(r"^## ", text, flags=re.M)[1:]
    out = []
    for part in parts:
        head, _, body = part.partition("\n")
        found = re.match(r"(\d+\.\d+\.\d+) \((unreleased|\d{4}-\d{2}-\d{2})\)$", head.strip())
        assert found, f"a release heading is '## X.Y.Z (YYYY-MM-DD)' or '(unreleased)': {head!r}"
        out.append((found[1], body))
    return out


def test_the_changelog_names_the_version_in_pyproject_first():
    releases = _releases()
    assert releases[0][0] == _pyproject_version()
    versions = [Version(v) for v, _ in releases]
    assert versions == sorted(versions, reverse=True) and len(set(versions)) == len(versions)


def test_each_release_after_the_first_says_how_to_upgrade_before_anything_else():
    for version, body in _releases()[:-1]:
        first = next((line for line in body.splitlines() if line.startswith("### ")), "")
        assert first == UPGRADE_FIRST, f"{version}: its first section is {first!r}"


def test_portal_version_prints_the_installed_version():
    expected = _pyproject_version()
    assert portal.__version__ == expected, (
        f"the installed package is {portal.__version__}, pyproject.toml says {expected}: "
        "reinstall (pip install -e '.[test]' -c requirements.lock)"
    )
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"portal, version {expected}"
