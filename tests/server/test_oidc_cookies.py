"""Behind HTTPS the cookies of an OIDC login (``st.login``) are ``__Host-`` cookies, as the portal's
session cookie and the CAS state cookie are, against a real `portal serve` and a real OIDC provider.

Streamlit names them itself: ``_streamlit_user`` (the signed identity that opens a portal session),
``_streamlit_user_tokens`` and ``_streamlit_session`` (Authlib's login state), all without ``Secure``;
the portal's ``portal_oidc_next`` keeps the page a login started from. Any host of the campus domain
could set cookies of those names for the whole domain: an identity cookie copied from the attacker's
own login put a visitor in the attacker's account (login CSRF by cookie tossing), a planted login
state let the attacker's authorisation code log the visitor in as the attacker, a planted deep link
chose where the visitor landed. ``portal.cookies.HostOnlyCookies`` renames them on the way out and
reads only the ``__Host-`` ones on the way in."""

from __future__ import annotations

import http.client
import secrets
import shutil
import urllib.parse

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from portal.cookies import HostOnlyCookies
from tests import live
from tests.live import ROOT, free_port

PUBLIC = "https://portal.example.edu.cn"


@pytest.fixture(scope="module")
def oidc_portal(tmp_path_factory, _demo_template):
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread(port=free_port()) as provider:
        folder = tmp_path_factory.mktemp("oidc-https")
        path = folder / "portal.sqlite3"
        shutil.copy(_demo_template, path)
        streamlit = folder / ".streamlit"
        streamlit.mkdir()
        shutil.copy(ROOT / ".streamlit" / "config.toml", streamlit / "config.toml")
        auth = {
            "redirect_uri": f"{PUBLIC}/oauth2callback",
            "cookie_secret": secrets.token_urlsafe(24),
            "client_id": "contact-portal",
            "client_secret": secrets.token_urlsafe(12),
            "server_metadata_url": f"http://localhost:{provider.server_port}/.well-known/openid-configuration",
        }
        (streamlit / "secrets.toml").write_text(
            "[auth]\n" + "".join(f'{k} = "{v}"\n' for k, v in auth.items())
        )
        with live.serve(path, cwd=folder, PORTAL_TODAY="2026-11-24", PORTAL_PUBLIC_URL=PUBLIC) as base:
            yield base


def _set_cookies(base: str, path: str, headers: dict[str, str]) -> list[str]:
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        answer = conn.getresponse()
        answer.read()
        assert answer.status in (302, 303, 307), answer.status
        return [v for k, v in answer.getheaders() if k.lower() == "set-cookie"]
    finally:
        conn.close()


def test_an_oidc_login_behind_https_sets_a_host_only_secure_deep_link_cookie(oidc_portal):
    """Starting an OIDC login from a page: the deep link comes back as a ``__Host-`` cookie (Secure,
    Path=/, no Domain) through the whole stack of the real server; before, a plain name without
    ``Secure`` any sibling host could set. (Streamlit's own cookies pass the same middleware: below.)"""
    cookies = _set_cookies(
        oidc_portal,
        "/auth/login?provider=default",
        {
            "Referer": f"{PUBLIC}/cases?no=2026-0001",
            "Sec-Fetch-Site": "same-origin",
            "Host": "portal.example.edu.cn",
        },
    )
    assert [c.split("=", 1)[0] for c in cookies] == ["__Host-portal_oidc_next"], cookies
    attributes = [a.strip().lower() for a in cookies[0].split(";")[1:]]
    assert "secure" in attributes and "path=/" in attributes, cookies
    assert not any(a.startswith("domain=") for a in attributes), cookies


def _echo(request: Request) -> JSONResponse:
    answer = JSONResponse(dict(request.cookies))
    answer.set_cookie("_streamlit_user", "signed-identity", path="/", httponly=True, samesite="lax")
    answer.set_cookie("_streamlit_user_tokens", "signed-tokens", path="/", httponly=True, samesite="lax")
    answer.set_cookie("portal_oidc_next", "signed-path", path="/", domain="example.edu.cn")
    return answer


def test_behind_https_only_host_only_login_cookies_reach_the_app(monkeypatch):
    """What the app (Streamlit's routes and WebSocket, our pages) reads: a planted plain
    ``_streamlit_user`` never, the ``__Host-`` one under the name Streamlit knows. Over plain http
    nothing changes."""
    monkeypatch.setenv("PORTAL_PUBLIC_URL", PUBLIC)
    client = TestClient(HostOnlyCookies(Starlette(routes=[Route("/", _echo)])))
    sent = "_streamlit_user=planted; __Host-_streamlit_user=own; portal_session=x; _streamlit_xsrf=t"
    answer = client.get("/", headers={"Cookie": sent})
    assert answer.json() == {"_streamlit_user": "own", "portal_session": "x", "_streamlit_xsrf": "t"}
    answer = client.get("/", headers={"Cookie": "_streamlit_user=planted; _streamlit_session=planted"})
    assert answer.json() == {}
    made = answer.headers.get_list("set-cookie")
    assert [c.split("=", 1)[0] for c in made] == [
        "__Host-_streamlit_user",
        "__Host-_streamlit_user_tokens",
        "__Host-portal_oidc_next",
    ]
    assert all("Secure" in c and "Path=/" in c and "Domain" not in c for c in made), made
    monkeypatch.setenv("PORTAL_PUBLIC_URL", "http://portal.example.edu.cn")
    answer = client.get("/", headers={"Cookie": "_streamlit_user=own"})
    assert answer.json() == {"_streamlit_user": "own"}
    assert answer.headers.get_list("set-cookie")[0].startswith("_streamlit_user=signed-identity")
