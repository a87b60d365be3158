"""Shared fixtures: a fresh database per test, the demo university, and AppTest helpers; each
test's tier from the folder it sits in."""

from __future__ import annotations

import functools
import importlib.metadata
import shutil
from pathlib import Path

import pytest
import streamlit as st
from argon2 import PasswordHasher
from streamlit.testing.v1 import AppTest

from portal import accounts, config, demo, seeds
from portal.db import open_db

pytest_plugins = ["tests.skips"]  # in CI a skipped test fails (tests/skips.py)

ROOT = Path(__file__).resolve().parent.parent
# The tests' clock: a Tuesday morning, the day before a reception day. A date alone would take the
# real time of day, and a test that passes at 04:00 could fail at 18:00 (a booking window closed,
# a message queued after the moment a test dispatches at).
NOW = "2026-11-24T10:00:00"

# One demo account for each kind of user (README: Demo accounts): the authorization matrix and the
# screenshot tour (tests/browser/tour.py) walk the same people.
KINDS_OF_USER = {
    "student": "2023000001",
    "staff": "30000001",
    "leader": "10000001",
    "middle_cadre": "10010001",
    "dept_jiaowu": "jiaowu",
    "dept_dangban": "dangban",
    "dept_zuzhi": "zuzhi",
    "admin": "admin",
}


# The tiers, by what a test needs (README: Tests). A test's tier is the folder it sits in, applied
# as a marker: ``pytest -m "core or pages"`` runs the fast tier. Registered in pyproject.toml.
TIERS = ("core", "pages", "server", "browser")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            folder = item.path.relative_to(here).parts[0]
            if folder in TIERS:
                item.add_marker(folder)
            if folder == "browser":
                # with pytest -n … --dist loadgroup one process runs a browser file's tests one after
                # another (the browser tests come first: a process goes on to the next browser file
                # with the same server and Chromium), while the other processes run the rest
                item.add_marker(pytest.mark.xdist_group(f"browser/{item.path.stem}"))


class _ReadOnce:
    """An installed distribution whose name, metadata and file list are read from disk once."""

    def __init__(self, dist: importlib.metadata.Distribution) -> None:
        self._dist = dist

    @functools.cached_property
    def metadata(self):
        return self._dist.metadata

    @functools.cached_property
    def name(self) -> str:
        return self._dist.name

    @functools.cached_property
    def files(self):
        return self._dist.files

    def __getattr__(self, attr: str):
        return getattr(self._dist, attr)


_distributions = importlib.metadata.distributions


@functools.cache
def _installed() -> tuple[_ReadOnce, ...]:
    return tuple(_ReadOnce(d) for d in _distributions())


def _distributions_read_once(**kwargs):
    return iter(_installed()) if not kwargs else _distributions(**kwargs)


# Every AppTest looks for Streamlit components in the metadata of every installed distribution
# and the file lists of the likely ones (≈0.2 s, parsing ~100 METADATA files and Streamlit's RECORD
# of thousands of lines), and the pages tier makes some 700 AppTests. Nothing is
# installed during a test run: the list and each one's metadata are read once per process.
importlib.metadata.distributions = _distributions_read_once

# Passwords in this process are hashed with argon2id at its smallest parameters (8 KiB, one pass):
# the real hasher (accounts.HASHER, 19 MiB and tens of milliseconds a check) in every login of
# every test cost minutes. The demo built here gets such hashes too; a `portal serve` the tests
# start hashes as in production (and upgrades them on login). Tests of the real hasher's
# parameters are marked ``real_hasher``.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
accounts.use_hasher(CHEAP_HASHER)


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch, request):
    """Every test gets its own database file and a pinned clock (``NOW``)."""
    monkeypatch.setenv("PORTAL_DB", str(tmp_path / "portal.sqlite3"))
    monkeypatch.setenv("PORTAL_TODAY", NOW)
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    if request.node.get_closest_marker("real_hasher"):
        previous = accounts.use_hasher(accounts.HASHER)
        yield
        accounts.use_hasher(previous)
    else:
        yield


@pytest.fixture
def db(tmp_path):
    """An empty database as ``portal init`` leaves it: migrated and seeded (holidays, semesters)."""
    with open_db(tmp_path / "portal.sqlite3") as handle:
        seeds.seed(handle)
        yield handle


@pytest.fixture(scope="session")
def _demo_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    import os

    old = os.environ.get("PORTAL_TODAY")
    os.environ["PORTAL_TODAY"] = NOW
    try:
        with open_db(path) as handle:
            demo.build(handle, seed=1)
            handle.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        if old is None:
            os.environ.pop("PORTAL_TODAY", None)
        else:
            os.environ["PORTAL_TODAY"] = old
    return path


@pytest.fixture
def demo_db(tmp_path, _demo_template):
    """The demo university (seed 1), copied fresh for this test."""
    target = tmp_path / "portal.sqlite3"
    shutil.copy(_demo_template, target)
    with open_db(target) as handle:
        yield handle


def app() -> AppTest:
    """The whole app, from the entry script ``portal serve`` runs."""
    return AppTest.from_file(str(config.ENTRY_SCRIPT), default_timeout=60)


def goto(at: AppTest, page: str) -> AppTest:
    """Switch an AppTest to a page named by its repository path (``"pages/x.py"``).

    The one place that knows how a page's path maps onto the entry script's navigation;
    call ``.run()`` on the result as with ``switch_page``.
    """
    # switch_page resolves against the entry script's folder; an absolute path is taken whole.
    return at.switch_page(str(ROOT / page))


def login(username: str, password: str = demo.DEMO_PASSWORD) -> AppTest:
    """An AppTest logged in through the real login form."""
    at = app().run()
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert "session_id" in at.session_state, [e.value for e in at.error]
    return at.run()  # the form's st.rerun(): AppTest does not follow it by itself


def texts(at: AppTest) -> str:
    """Everything visible as text, for loose assertions."""
    parts = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "text",
        "success",
        "info",
        "warning",
        "error",
        "metric",
    ):
        for el in getattr(at, kind):
            parts.append(str(getattr(el, "value", getattr(el, "label", ""))))
    return "\n".join(parts)


INPUTS = {
    "text_input",
    "text_area",
    "number_input",
    "date_input",
    "selectbox",
    "multiselect",
    "radio",
    "button",
}


def _drawn(node) -> list:
    """The elements under ``node`` depth first, in the order the page draws them."""
    out = []
    for child in getattr(node, "children", {}).values():
        out.append(child)
        out += _drawn(child)
    return out


def errors_under(at: AppTest, key: str) -> list[str]:
    """The error messages drawn right under the input ``key``, before the next input (as typed:
    markdown escapes removed)."""
    drawn = _drawn(at.main)
    start = next(i for i, e in enumerate(drawn) if getattr(e, "key", None) == key)
    found = []
    for e in drawn[start + 1 :]:
        if e.type in INPUTS:
            break
        if e.type == "error":
            found.append(e.value.replace("\\", ""))
    return found


@pytest.fixture(scope="session")
def cas_server(tmp_path_factory):
    """A real CAS 3.0 server (django-cas-server in its own virtual environment) on 127.0.0.1."""
    from tests.idp import CasServer

    server = CasServer(tmp_path_factory.mktemp("cas")).start()
    yield server
    server.stop()
