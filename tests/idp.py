"""Real identity providers for the tests, started on 127.0.0.1.

* A CAS 3.0 server: ``django-cas-server`` in its own virtual environment (test-only: it is
  never a dependency of the product). The environment is built once and kept under
  ``.cache/`` in the project folder (git-ignored); a fresh CI machine builds it with pip.
  Its users live in a JSON file the tests write; every attribute goes to every service
  under our own ``/auth/cas/callback``, and single logout is on.
* An OIDC provider: ``oidc-provider-mock`` (in the ``test`` extra), run in a thread.
"""

from __future__ import annotations

import fcntl
import html
import http.cookiejar
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CAS_VENV = ROOT / ".cache" / "cas-server-venv"
CAS_REQUIREMENT = "django-cas-server==3.1.0"

SETTINGS = """
SECRET_KEY = %(key)r
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
                  "django.contrib.messages", "django.contrib.staticfiles", "cas_server"]
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware",
              "django.middleware.common.CommonMiddleware", "django.middleware.csrf.CsrfViewMiddleware",
              "django.contrib.auth.middleware.AuthenticationMiddleware",
              "django.contrib.messages.middleware.MessageMiddleware"]
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
              "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                                 "django.contrib.auth.context_processors.auth",
                                                 "django.contrib.messages.context_processors.messages"]}}]
ROOT_URLCONF = "cas_urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": %(db)r}}
USE_TZ = True
STATIC_URL = "/static/"
CAS_AUTH_CLASS = "campus_auth.CampusUser"
CAS_NEW_VERSION_HTML_WARNING = False
CAS_NEW_VERSION_EMAIL_WARNING = False
CAS_SLO_TIMEOUT = 5
"""

URLS = """
from django.urls import include, re_path
urlpatterns = [re_path(r"^cas/", include("cas_server.urls", namespace="cas_server"))]
"""

AUTH = """
import json, os
from cas_server.auth import AuthUser

def _users():
    with open(os.environ["CAS_TEST_USERS"], encoding="utf-8") as f:
        return json.load(f)

class CampusUser(AuthUser):
    def test_password(self, password):
        user = _users().get(self.username)
        return user is not None and user["password"] == password

    def attributs(self):
        return dict(_users().get(self.username, {}).get("attributes", {}))
"""

SETUP = """
from cas_server.models import ServicePattern, ReplaceAttributName
pattern, _ = ServicePattern.objects.get_or_create(
    name="portal", defaults=dict(pos=1, pattern=r"^https?://127\\.0\\.0\\.1(:\\d+)?/.*", single_log_out=True))
ReplaceAttributName.objects.get_or_create(name="*", replace="", service_pattern=pattern)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cas_python() -> Path:
    """The CAS server's interpreter, building its virtual environment on first use.

    Test processes run side by side (pytest-xdist): the first builds it under a file lock, the
    others wait for it and then use it."""
    python = CAS_VENV / "bin" / "python"
    marker = CAS_VENV / ".installed"
    CAS_VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(CAS_VENV.parent / "cas-server-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (marker.exists() and marker.read_text() == CAS_REQUIREMENT):
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(CAS_VENV)], check=True)
            subprocess.run(
                [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", CAS_REQUIREMENT],
                check=True,
            )
            marker.write_text(CAS_REQUIREMENT)
    return python


def wait_for(url: str, proc: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # answering at all is enough
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError(log.read_text(errors="replace")) from None
            time.sleep(0.3)


class CasServer:
    """django-cas-server in a subprocess; ``users`` maps a login name to password and attributes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.users_file = folder / "users.json"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/cas/"
        self.proc: subprocess.Popen | None = None

    def set_users(self, users: dict[str, dict]) -> None:
        self.users_file.write_text(json.dumps(users, ensure_ascii=False), encoding="utf-8")

    def _run(self, *args: str, **kwargs) -> subprocess.Popen | subprocess.CompletedProcess:
        env = {
            **os.environ,
            "PYTHONPATH": str(self.folder),
            "DJANGO_SETTINGS_MODULE": "cas_settings",
            "CAS_TEST_USERS": str(self.users_file),
        }
        command = [str(cas_python()), "-m", "django", *args]
        if kwargs.pop("background", False):
            return subprocess.Popen(command, env=env, cwd=self.folder, **kwargs)
        return subprocess.run(command, env=env, cwd=self.folder, check=True, capture_output=True, **kwargs)

    def start(self) -> CasServer:
        (self.folder / "cas_settings.py").write_text(
            SETTINGS % {"db": str(self.folder / "cas.sqlite3"), "key": secrets.token_urlsafe(32)}
        )
        (self.folder / "cas_urls.py").write_text(URLS)
        (self.folder / "campus_auth.py").write_text(AUTH)
        if not self.users_file.exists():
            self.set_users({})
        self._run("migrate", "--noinput")
        self._run("shell", "-c", SETUP)
        log_path = self.folder / "cas.log"
        log = open(log_path, "wb")  # noqa: SIM115 - open as long as the server runs
        self.proc = self._run(
            "runserver",
            f"127.0.0.1:{self.port}",
            "--noreload",
            "--insecure",
            background=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for(self.url + "login", self.proc, log_path)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def cas_ticket_redirect(login_url: str, username: str, password: str, cookies=None) -> str:
    """``username`` logs in at the CAS server's ``login_url`` (it names the service) in a client of
    its own: the address the CAS server sends back to, ticket included, never followed."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(cookies or http.cookiejar.CookieJar()), _NoRedirect
    )

    def send(data: dict | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with opener.open(login_url, data=body, timeout=20) as r:
                return r.status, r.headers, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode()

    status, headers, page = send()
    if status != 302:
        fields = {k: html.unescape(v) for k, v in re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', page)}
        status, headers, _ = send({**fields, "username": username, "password": password})
    assert status == 302, f"the CAS server did not log {username} in"
    return headers["location"]
