"""The only scripts the portal asks the browser to run, kept in one place so that the
Content-Security-Policy (``portal.server``) allows exactly them, by hash, and no other inline
script: sending the whole window to one of our own single-sign-on routes. Setting and
clearing the session cookie needs no script (a hidden frame loads the route)."""

from __future__ import annotations

import base64
import hashlib
import json

# The only places the browser is sent to by script: routes of our own server. The logins carry the
# address the person opened (``?next=``), to land there afterwards; the CAS logout is a same-origin
# POST (the route refuses anything else: a cross-site link must not log anyone out).
LOGINS = ("/auth/cas/login",)
POSTS = ("/auth/cas/logout",)
# Streamlit's own OIDC logout: it ends its identity cookie and sends the browser to the provider's
# end_session_endpoint (portal.server refuses it from other sites).
LINKS = ("/auth/logout",)
NAVIGATION_TARGETS = (*LOGINS, *POSTS, *LINKS)


def navigation_script(path: str) -> str:
    """A link (or, for a POST, a form) made in the app's own document and followed there (the frame
    may not navigate the top)."""
    if path not in NAVIGATION_TARGETS:
        raise ValueError(path)
    start = "const w = window.parent; const d = w.document;"
    if path in POSTS:
        return start + (
            f"const f = d.createElement('form'); f.method = 'post'; f.action = {json.dumps(path)};"
            " d.body.appendChild(f); f.submit();"
        )
    keep = (
        " + '?next=' + encodeURIComponent(w.location.pathname + w.location.search)" if path in LOGINS else ""
    )
    return start + (
        f"const a = d.createElement('a'); a.href = {json.dumps(path)}{keep}; d.body.appendChild(a); a.click();"
    )


def script_hashes() -> list[str]:
    """CSP hash sources of every script above."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(navigation_script(p).encode()).digest()).decode() + "'"
        for p in NAVIGATION_TARGETS
    ]
