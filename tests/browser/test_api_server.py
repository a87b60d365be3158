"""The API and feeds on the real `portal serve` (st.App): our routes answer before the app
shell, so an unknown path under /api/ is a real 404, not Streamlit's page."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from portal import api_tokens, feeds
from portal.accounts import find_user
from portal.db import open_db


def _get(url: str, token: str | None = None) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=20) as r:
            return r.status, r.headers.get("content-type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read()


def test_api_and_feeds_on_the_real_server(server):
    base = server["url"]
    with open_db(server["db"]) as db:
        _, token = api_tokens.issue(db, "接待前台", ["roster"], 30, None)
        feed_token = feeds.token_for(db, find_user(db, "2023000001").id)
    status, kind, body = _get(base + "/api/v1/roster?from=2026-11-01&to=2026-12-31", token)
    assert status == 200 and kind.startswith("application/json") and json.loads(body)
    for path in ("/api/v1/nothing", "/api/v1/roster/x", "/api/v9/roster"):
        status, kind, _ = _get(base + path, token)
        assert status == 404 and kind.startswith("application/json"), path
    assert _get(base + "/api/v1/roster")[0] == 401
    assert _get(base + "/api/v1/openapi.json")[0] == 200
    status, kind, body = _get(f"{base}/feeds/{feed_token}/roster.ics")
    assert status == 200 and kind.startswith("text/calendar") and body.startswith(b"BEGIN:VCALENDAR")
    assert _get(f"{base}/feeds/1-forged/roster.ics")[0] == 404
