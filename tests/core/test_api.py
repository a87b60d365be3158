"""The read-only JSON API: tokens an administrator issues (scope, expiry, revocation, stored
hashed, every use audited), wrong tokens rate-limited, unknown paths a real 404."""

from __future__ import annotations

import datetime as dt

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.testclient import TestClient

from portal import accounts, api, api_tokens, dates, server
from portal import quota as quota_engine
from portal.errors import ValidationError
from portal.request_log import RequestLog


@pytest.fixture
def client(demo_db, monkeypatch):
    monkeypatch.setattr(api, "limiter", api.WrongTokenLimiter(limit=5, window=60))
    # as portal serve builds it, called from nginx on this host (a trusted proxy)
    app = Starlette(routes=server.routes(), middleware=[Middleware(RequestLog)])
    return TestClient(app, client=("127.0.0.1", 50000))


def _admin(db):
    return accounts.find_user(db, "admin")


def _issue(db, scopes, days=30):
    return api_tokens.issue(db, "接待前台", scopes, days, _admin(db).id)[1]


def _auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_token_is_stored_hashed_and_shown_once(demo_db):
    record, token = api_tokens.issue(demo_db, "一站式服务大厅", ["roster"], 30, _admin(demo_db).id)
    assert token.startswith("cpt_") and len(token) > 40
    stored = demo_db.execute("SELECT token_hash FROM api_tokens WHERE id = ?", [record.id]).fetchone()[0]
    assert token not in stored and len(stored) == 64
    assert "token" not in record.model_dump()
    with pytest.raises(ValidationError):
        api_tokens.issue(demo_db, "x", ["everything"], 30, None)
    with pytest.raises(ValidationError):
        api_tokens.issue(demo_db, "x", ["roster"], 0, None)


def test_scope_decides_what_a_token_reads(client, demo_db):
    token = _issue(demo_db, ["roster"])
    r = client.get("/api/v1/roster?from=2026-11-01&to=2026-12-31", headers=_auth(token))
    assert r.status_code == 200
    days = r.json()
    assert days and {"date", "staff_no", "name", "place", "status", "bookings"} <= set(days[0])
    r = client.get("/api/v1/cases", headers=_auth(token))
    assert r.status_code == 403 and "无权" in r.json()["error"]


def test_every_endpoint_answers_with_its_scope(client, demo_db):
    token = _issue(demo_db, list(api_tokens.SCOPES))
    day = demo_db.execute(
        "SELECT date FROM bookings GROUP BY date ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    booked = client.get(f"/api/v1/bookings?date={day}", headers=_auth(token)).json()
    assert booked and booked[0]["date"] == day and "*" in booked[0]["phone"]
    quota = client.get("/api/v1/quota/cadres/10010001", headers=_auth(token)).json()
    assert (
        quota and {"cadre", "rule", "period", "status"} <= set(quota[0]) and quota[0]["cadre"] == "10010001"
    )
    unit = demo_db.execute(
        "SELECT u.name FROM cadre_posts p JOIN people pe ON pe.id = p.person_id JOIN units u ON u.id = p.unit_id "
        "WHERE pe.staff_no = '10010001'"
    ).fetchone()[0]
    summary = client.get(f"/api/v1/quota/units/{unit}", headers=_auth(token)).json()
    assert summary["unit"] == unit and summary["cadres"] >= 1 and summary["rules"]
    whole = [r for r in quota_engine.compute(demo_db) if r.unit == unit]  # the university's report, filtered
    assert sum(row["cadres"] for row in summary["rules"]) == len(whole)
    assert sum(row["met"] for row in summary["rules"]) == sum(r.status == "met" for r in whole)
    cases = client.get("/api/v1/cases?department=党办", headers=_auth(token)).json()
    assert all(c["responsible_dept"] == "党办" and c["state"] != "closed" for c in cases)
    assert client.get("/api/v1/quota/cadres/99999999", headers=_auth(token)).status_code == 404
    assert client.get("/api/v1/quota/units/没有这个单位", headers=_auth(token)).status_code == 404
    bad = client.get("/api/v1/bookings?date=next-week", headers=_auth(token))
    assert bad.status_code == 400 and bad.json()["error"]


def test_expired_and_revoked_tokens_are_refused(client, demo_db, monkeypatch):
    token = _issue(demo_db, ["roster"], days=1)
    assert client.get("/api/v1/roster", headers=_auth(token)).status_code == 200
    later = dates.now() + dt.timedelta(days=2)
    with monkeypatch.context() as m:
        m.setattr(dates, "now", lambda: later)
        r = client.get("/api/v1/roster", headers=_auth(token))
        assert r.status_code == 401 and "过期" in r.json()["error"]
    other = _issue(demo_db, ["roster"])
    record = api_tokens.list_tokens(demo_db)[0]
    api_tokens.revoke(demo_db, record.id, _admin(demo_db).id)
    r = client.get("/api/v1/roster", headers=_auth(other))
    assert r.status_code == 401 and "撤销" in r.json()["error"]


def test_every_use_and_refusal_is_audited(client, demo_db):
    token = _issue(demo_db, ["roster"])
    client.get("/api/v1/roster", headers=_auth(token))
    client.get("/api/v1/cases", headers=_auth(token))
    client.get("/api/v1/roster", headers=_auth("cpt_wrong"))
    actions = [
        r[0] for r in demo_db.execute("SELECT action FROM audit_log WHERE action LIKE 'api.%' ORDER BY id")
    ]
    assert actions == ["api.issue", "api.use", "api.refused", "api.refused"]


def test_wrong_tokens_are_rate_limited(client, demo_db):
    good = _issue(demo_db, ["roster"])
    codes = [client.get("/api/v1/roster", headers=_auth(f"cpt_guess{i}")).status_code for i in range(7)]
    assert codes == [401] * 5 + [429] * 2
    # the address is blocked for the rest of the window, even with a right token
    assert client.get("/api/v1/roster", headers=_auth(good)).status_code == 429


def test_unknown_api_paths_are_a_real_404(client, demo_db):
    token = _issue(demo_db, list(api_tokens.SCOPES))
    for path in ("/api/v1/nothing", "/api/v2/roster", "/api/v1/roster/extra", "/api/"):
        r = client.get(path, headers=_auth(token))
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/json"), path


def test_openapi_description_lists_the_endpoints(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.") and "/api/v1/bookings" in spec["paths"]


def test_behind_the_proxy_each_caller_is_limited_alone(client, demo_db, monkeypatch):
    good = _issue(demo_db, ["roster"])
    for i in range(6):
        client.get(
            "/api/v1/roster", headers={**_auth(f"cpt_guess{i}"), "X-Forwarded-For": "1.2.3.4, 10.0.0.9"}
        )
    blocked = {**_auth(good), "X-Forwarded-For": "10.0.0.9"}
    assert client.get("/api/v1/roster", headers=blocked).status_code == 429
    spoofed = {**_auth(good), "X-Forwarded-For": "10.0.0.9, 10.0.0.7"}  # what nginx appends is what counts
    assert client.get("/api/v1/roster", headers=spoofed).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/kpis?period=9999",
        "/api/v1/kpis?period=9999-12",
        "/api/v1/kpis?period=9998-9999-2",
        "/api/v1/kpis?period=0001-01",
        "/api/v1/quota/cadres/10000001?period=9999-12",
        "/api/v1/quota/cadres/10000001?period=0001-01",
    ],
)
def test_a_period_outside_the_calendars_years_is_a_400_in_chinese(client, demo_db, path):
    """A period key the calendar cannot hold (a year past 9999 at the month's end, the deadline table
    after 31 Dec 9999) was a 500 with a traceback in the log; like a date, it answers 400 in Chinese."""
    token = _issue(demo_db, ["kpis", "quota"])
    r = client.get(path, headers=_auth(token))
    assert r.status_code == 400, r.text
    assert "1900–2999" in r.json()["error"]
