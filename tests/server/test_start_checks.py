"""Settings are checked when a command starts, in a real process: a bad value stops it with the
variable's name and why (Chinese and English), before it touches anything."""

from __future__ import annotations

import os
import subprocess
import sys


def test_a_malformed_quiet_hours_stops_the_dispatcher_with_its_name_and_why(tmp_path):
    """Before, `portal notify run` crashed in the middle of a run with a ValueError traceback."""
    env = {"PORTAL_QUIET_HOURS": "22-7", "PORTAL_DB": str(tmp_path / "portal.sqlite3")}
    done = subprocess.run(
        [sys.executable, "-m", "portal", "notify", "run", "--once"],
        env={**_base_env(), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "PORTAL_QUIET_HOURS" in done.stderr and "“22-7”" in done.stderr
    assert "应为 HH:MM-HH:MM" in done.stderr and "must be HH:MM-HH:MM" in done.stderr
    assert not (tmp_path / "portal.sqlite3").exists()  # refused before it touched anything


def test_serve_refuses_to_start_with_a_bad_value(tmp_path):
    env = {"PORTAL_SESSION_IDLE": "half an hour", "PORTAL_DB": str(tmp_path / "portal.sqlite3")}
    done = subprocess.run(
        [sys.executable, "-m", "portal", "serve", "--port", "0"],
        env={**_base_env(), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "PORTAL_SESSION_IDLE = “half an hour”：应为整数 / must be a whole number" in done.stderr


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
