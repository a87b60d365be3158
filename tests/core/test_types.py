"""The type hints are checked: mypy finds nothing in portal/ and pages/ (pyproject.toml's [tool.mypy]:
``check_untyped_defs``, every ``# type: ignore`` naming its error), and the package ships them.

Run through the README's test command, so CI fails on a type error as it does on a lint error."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib

import pytest

from tests.conftest import ROOT


def test_mypy_finds_no_error():
    if importlib.util.find_spec("mypy") is None:
        pytest.fail(
            "mypy is not installed: it is in the test extras (pip install -e '.[test]' -c requirements.lock)"
        )
    result = subprocess.run(
        [sys.executable, "-m", "mypy"],  # files and settings: pyproject.toml
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, "mypy (README: Types):\n" + result.stdout + result.stderr


def test_mypy_checks_what_we_say_it_checks():
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert sorted(mypy["files"]) == ["pages", "portal"]
    assert mypy["check_untyped_defs"] is True
    assert "ignore-without-code" in mypy["enable_error_code"]
    assert mypy.get("ignore_missing_imports") is not True, "only per module, for untyped libraries"
    assert not mypy.get("ignore_errors") and mypy.get("follow_imports") != "skip"


def test_every_type_ignore_says_why():
    """A ``# type: ignore[code]`` only where mypy cannot know better, with the reason beside it
    (on its line or in a comment just above)."""
    bare = []
    for path in [*(ROOT / "portal").rglob("*.py"), *(ROOT / "pages").rglob("*.py")]:
        lines = path.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines):
            if "# type: ignore" not in line:
                continue
            after = line.split("# type: ignore", 1)[1].split("]", 1)[-1]
            above = lines[n - 1].strip() if n else ""
            if "#" not in after and not above.startswith("#"):
                bare.append(f"{path.relative_to(ROOT)}:{n + 1}: {line.strip()}")
    assert not bare, "\n".join(bare)


def test_the_package_ships_its_type_hints():
    """PEP 561: ``py.typed`` beside the modules and in the package data, so a tool or a plug-in
    importing ``portal`` is checked against its hints."""
    assert (ROOT / "portal" / "py.typed").is_file()
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert "py.typed" in setuptools["package-data"]["portal"]
