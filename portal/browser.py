"""The only script the portal asks the browser to run, kept in one place so that the
Content-Security-Policy (``portal.server``) allows exactly it, by hash, and no other inline
script: sending the whole window to one of our own single-sign-on routes. Setting and
clearing the session cookie needs no script (a hidden frame loads the route)."""

from __future__ import annotations

import base64
import hashlib
import json

# The only places the browser is sent to by script: routes of our own server.
NAVIGATION_TARGETS = ("/auth/cas/login", "/auth/cas/logout")


def navigation_script(path: str) -> str:
    """A link made in the app's own document and clicked (the frame may not navigate the top).
    The CAS login carries the address the person opened (``?next=``), to land there afterwards."""
    if path not in NAVIGATION_TARGETS:
        raise ValueError(path)
    keep = " + '?next=' + encodeURIComponent(w.location.pathname + w.location.search)"
    return (
        "const w = window.parent; const d = w.document; const a = d.createElement('a');"
        f"a.href = {json.dumps(path)}{keep if path == '/auth/cas/login' else ''}; d.body.appendChild(a); a.click();"
    )


def script_hashes() -> list[str]:
    """CSP hash sources of every script above."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(navigation_script(p).encode()).digest()).decode() + "'"
        for p in NAVIGATION_TARGETS
    ]
