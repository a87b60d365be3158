"""`portal serve` on the seed-1 demo university in a folder of its own, for the browser tests and
the screenshot tour (tests/browser/tour.py)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from portal import demo
from portal.db import open_db

TODAY = "2026-11-24"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    ``cwd`` is the server's working folder (its ``.streamlit/`` is read), else this process's."""
    db_path = folder / "portal.sqlite3"
    build_demo(db_path)
    env = {**os.environ, "PORTAL_DB": str(db_path), "PORTAL_TODAY": TODAY, **(extra_env or {})}
    port = free_port()
    if prepare is not None:
        prepare(db_path, f"http://127.0.0.1:{port}")
    with open(folder / "server.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "portal", "serve", "--port", str(port), "--address", "127.0.0.1"],
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(base + "/_stcore/health", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    proc.kill()
                    raise RuntimeError((folder / "server.log").read_text(errors="replace")) from None
                time.sleep(0.3)
        try:
            yield {"url": base, "db": db_path, "proc": proc}
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


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
    """Wait until Streamlit has finished the rerun in flight (typing during one can be lost)."""
    page.wait_for_timeout(150)
    page.wait_for_function(
        "() => { const app = document.querySelector('[data-testid=stApp]');"
        " return app && app.getAttribute('data-test-script-state') !== 'running'; }"
    )


def login(page, base: str, username: str, password: str = demo.DEMO_PASSWORD) -> None:
    page.goto(base + "/", wait_until="networkidle")
    page.get_by_label("账号（工号或学号）").fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("button", name="退出登录").wait_for()
    settle(page)
