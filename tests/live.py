"""A real `portal serve` and plain HTTP requests, for tests that talk to the running server the
way an attacker's script does, without a browser."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Server:
    """A running ``portal serve``: its base URL, its process id (for CPU and memory figures) and
    the file it prints to."""

    base: str
    pid: int
    log: Path


@contextmanager
def server(
    db_path: Path, *, port: int | None = None, cwd: Path | None = None, **env: str
) -> Iterator[Server]:
    """`python -m portal serve` on ``port`` (a free one by default) over ``db_path``, until the block
    ends. ``cwd``: the server's working folder (its ``.streamlit/`` is read), else the project's."""
    port = port or free_port()
    log_path = db_path.parent / f"server-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "portal", "serve", "--port", str(port), "--address", "127.0.0.1"],
            env={**os.environ, "PORTAL_DB": str(db_path), **env},
            cwd=cwd or ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 90
            while True:
                try:
                    with urllib.request.urlopen(base + "/_stcore/health", timeout=2):
                        break
                except OSError:
                    if proc.poll() is not None or time.time() > deadline:
                        raise RuntimeError(log_path.read_text(errors="replace")) from None
                    time.sleep(0.3)
            yield Server(base, proc.pid, log_path)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextmanager
def serve(db_path: Path, *, port: int | None = None, cwd: Path | None = None, **env: str) -> Iterator[str]:
    """``server`` for a test that needs only the base URL."""
    with server(db_path, port=port, cwd=cwd, **env) as running:
        yield running.base


def http(method: str, url: str, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    """(status, lower-cased headers, body) of one plain HTTP request; errors are answers too."""
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()
