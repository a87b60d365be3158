"""`portal serve` on the seed-1 demo university in a folder of its own, for the browser tests and
the screenshot tour (tests/browser/tour.py)."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from portal import demo
from portal.db import open_db
from tests import live
from tests.live import free_port  # noqa: F401 (the browser tests take it from here)

TODAY = "2026-11-24T10:00:00"  # the clock of the tests (tests/conftest.NOW): date and time of day


def build_demo(db_path: Path) -> None:
    previous = {k: os.environ.get(k) for k in ("PORTAL_DB", "PORTAL_TODAY")}
    os.environ.update({"PORTAL_DB": str(db_path), "PORTAL_TODAY": TODAY})
    try:
        with open_db(db_path) as db:
            demo.build(db, seed=1)
    finally:
        for k, v in previous.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def running_server(
    folder: Path,
    extra_env: dict[str, str] | None = None,
    prepare: Callable[[Path, str], None] | None = None,
    cwd: Path | None = None,
) -> Iterator[dict]:
    """The production server on a fresh demo database in ``folder``; stopped on exit.

    ``extra_env`` adds settings; ``prepare(db_path, base_url)`` runs before the server starts;
    ``cwd`` is the server's working folder (its ``.streamlit/`` is read), else the project's."""
    db_path = folder / "portal.sqlite3"
    build_demo(db_path)
    port = free_port()
    if prepare is not None:
        prepare(db_path, f"http://127.0.0.1:{port}")
    # the portal's public address, as docs/deployment.md sets it (CAS refuses to run without one)
    env = {"PORTAL_TODAY": TODAY, "PORTAL_PUBLIC_URL": f"http://127.0.0.1:{port}", **(extra_env or {})}
    with live.serve(db_path, port=port, cwd=cwd, **env) as base:
        yield {"url": base, "db": db_path}


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def settle(page) -> None:
    """Wait until Streamlit has finished the rerun in flight (typing during one can be lost).

    The page shows nothing between a widget's message leaving and the server's answer starting
    (the app's state stays "notRunning" until the server says it runs): the short pause covers
    that round trip on 127.0.0.1, and the wait below is for the run itself."""
    page.wait_for_timeout(150)
    page.wait_for_function(
        "() => { const app = document.querySelector('[data-testid=stApp]');"
        " return app && app.getAttribute('data-test-script-state') !== 'running'; }"
    )


def session_cookie(page) -> dict | None:
    return next((c for c in page.context.cookies() if c["name"] == "portal_session"), None)


def wait_for_session(page, present: bool = True, seconds: float = 30) -> None:
    """Wait until the browser holds the session cookie (``present``) or no longer does: after a
    login or a logout the page has run, and a hidden frame then sets or clears the HttpOnly cookie
    that downloads and pages opened by URL need (portal/browser.py)."""
    deadline = time.monotonic() + seconds
    while (session_cookie(page) is not None) != present:
        assert time.monotonic() < deadline, f"the session cookie was {'never set' if present else 'kept'}"
        time.sleep(0.05)


def login(page, base: str, username: str, password: str = demo.DEMO_PASSWORD) -> None:
    """Log in through the form; returns once the app shows the user in and holds the session cookie."""
    page.goto(base + "/", wait_until="networkidle")
    page.get_by_label("账号（工号或学号）").fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("button", name="退出登录").wait_for()
    settle(page)
    wait_for_session(page)
