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

A download built ``once`` (new accounts with their initial passwords) is served one time, and the
same bytes are refused afterwards, to its owner too. One time is one click: Streamlit's download
button fetches the file twice (a check of the link, then the download itself), so the file is served
for ``ONCE_GRACE_S`` seconds after its first delivery and never again.
"""

from __future__ import annotations

import hashlib
import threading
import time

TTL_S = 3600  # a page left open for an hour still downloads what it shows
LIMIT = 50_000  # entries: ≈ 6 MB at most
ONCE_GRACE_S = 5  # a single-time download: the button's check and its download start within milliseconds

_lock = threading.Lock()
_built: dict[tuple[int, bytes], float] = {}  # (user id, SHA-256 of the bytes) → when built
_once: dict[tuple[int, bytes], float | None] = {}  # single-time ones → when first delivered
_spent: set[tuple[int, bytes]] = set()  # single-time downloads already served (never built again)


def digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def built(user_id: int, data: bytes, *, once: bool = False) -> bytes:
    """Note that the page gave ``user_id`` these bytes to download; return them unchanged. ``once``:
    they are served a single time (a rerun of the page that built them does not renew them)."""
    key, now = (user_id, digest(data)), time.monotonic()
    with _lock:
        if key in _spent:
            return data  # served already: it stays refused
        _built.pop(key, None)  # re-inserted last: the dict stays in the order entries were built
        _built[key] = now
        if once:
            _once.setdefault(key, None)
        if len(_built) > LIMIT:
            _prune(now)
    return data


def may_fetch(user_id: int, data: bytes, *, serving: bool = True) -> bool:
    """Whether ``user_id`` was given exactly these bytes within the last ``TTL_S`` seconds. A
    single-time download is spent by the answer that delivers it (``serving``; a HEAD is not)."""
    key, now = (user_id, digest(data)), time.monotonic()
    with _lock:
        at = _built.get(key)
        allowed = at is not None and now - at < TTL_S
        if allowed and key in _once:
            first = _once[key]
            if first is not None and now - first >= ONCE_GRACE_S:  # served already: spent
                del _built[key]
                del _once[key]
                _spent.add(key)
                return False
            if serving and first is None:
                _once[key] = now
    return allowed


def delivered(user_id: int, data: bytes) -> bool:
    """Whether a single-time download of ``user_id`` has been delivered (it may be in its grace)."""
    key = (user_id, digest(data))
    with _lock:
        return key in _spent or _once.get(key) is not None


def spent(user_id: int, data: bytes) -> bool:
    """Whether these bytes were a single-time download of ``user_id`` that was served already."""
    with _lock:
        return (user_id, digest(data)) in _spent


def _prune(now: float) -> None:
    """Drop what has expired and, if that is not enough, the oldest entries (caller holds the lock)."""
    for key in [k for k, at in _built.items() if now - at >= TTL_S]:
        del _built[key]
        _once.pop(key, None)
    excess = len(_built) - LIMIT
    for key in list(_built)[: max(0, excess)]:
        del _built[key]
        _once.pop(key, None)
    if len(_spent) > LIMIT:  # a spent file's bytes hold random passwords: never built twice anyway
        _spent.clear()
