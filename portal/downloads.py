"""Who may fetch a download.

Streamlit serves a download button's bytes at a ``/media/…`` URL to any request that has the URL.
The server's gate (``portal.server.SessionGate``) already asks for a live session; with this
register it also asks that the session's user is one the page built those very bytes for. So a
record form's link that leaks (a shared screen, a proxy log, another user's browser history)
opens nothing for anybody else, even someone logged in.

The register is kept in memory, per server process: the process that ran the page is the one
that serves its downloads (several servers on one host run behind sticky sessions, see
docs/deployment.md). Entries expire after ``TTL_S``, and the register never holds more than
``LIMIT`` of them.
"""

from __future__ import annotations

import hashlib
import threading
import time

TTL_S = 3600  # a page left open for an hour still downloads what it shows
LIMIT = 50_000  # entries: ≈ 6 MB at most

_lock = threading.Lock()
_built: dict[tuple[int, bytes], float] = {}  # (user id, SHA-256 of the bytes) → when built


def digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def built(user_id: int, data: bytes) -> bytes:
    """Note that the page gave ``user_id`` these bytes to download; return them unchanged."""
    key, now = (user_id, digest(data)), time.monotonic()
    with _lock:
        _built.pop(key, None)  # re-inserted last: the dict stays in the order entries were built
        _built[key] = now
        if len(_built) > LIMIT:
            _prune(now)
    return data


def may_fetch(user_id: int, data: bytes) -> bool:
    """Whether ``user_id`` was given exactly these bytes within the last ``TTL_S`` seconds."""
    key = (user_id, digest(data))
    with _lock:
        at = _built.get(key)
    return at is not None and time.monotonic() - at < TTL_S


def _prune(now: float) -> None:
    """Drop what has expired and, if that is not enough, the oldest entries (caller holds the lock)."""
    for key in [k for k, at in _built.items() if now - at >= TTL_S]:
        del _built[key]
    excess = len(_built) - LIMIT
    for key in list(_built)[: max(0, excess)]:
        del _built[key]
