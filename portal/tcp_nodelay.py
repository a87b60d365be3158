"""Every answer of ``portal serve`` leaves at once: TCP_NODELAY on each connection it accepts.

A page run answers with dozens of small WebSocket frames. asyncio switches Nagle's algorithm off
for the connections it accepts only when the socket says it is TCP by its protocol number, and the
listening socket Streamlit binds says 0 (``socket.socket(family)``), as does every connection
accepted from it (CPython 3.11 ``base_events._set_nodelay``). Nagle then held every frame after the
first until the browser acknowledged that one, and browsers acknowledge late (Linux waits 40 ms):
each click waited ≈ 40 ms for nothing, measured as 48 ms per 预约接待 rerun where the script ran
6 ms (``bench/rush_bench.py`` prints the wall time of one tab's rerun).
"""

from __future__ import annotations

import socket
from asyncio import base_events


def _set_nodelay(sock: socket.socket) -> None:
    """asyncio's own helper, reading the socket's type instead of its protocol number."""
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def install() -> bool:
    """Make asyncio set TCP_NODELAY on every TCP connection from now on, whatever the listening
    socket's protocol number; False where asyncio has no such helper (then nothing changes)."""
    if not hasattr(socket, "TCP_NODELAY") or not callable(getattr(base_events, "_set_nodelay", None)):
        return False
    # looked up at each accept (selector_events); not in typeshed, being private
    base_events._set_nodelay = _set_nodelay  # type: ignore[attr-defined]
    return True
