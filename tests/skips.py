"""CI runs every test: a test that skips there (a tool not installed, a server that cannot start)
fails instead, with its reason, so a feature is never left untested where it matters. A skip that is
right even in CI says so with ``@pytest.mark.allow_skip(reason=...)``. Outside CI (the environment
variable ``CI`` unset) a skip stays a skip: a developer's machine may lack LibreOffice.

Loaded by tests/conftest.py as a plugin."""

from __future__ import annotations

import os

import pytest


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def _reason(report) -> str:
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    return reason.removeprefix("Skipped: ")


def _allowed(item) -> bool:
    marker = item.get_closest_marker("allow_skip")
    if marker is None:
        return False
    if not (marker.kwargs.get("reason") or marker.args):
        raise pytest.UsageError(f"{item.nodeid}: allow_skip needs its reason")
    return True


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not (report.skipped and _in_ci()) or hasattr(report, "wasxfail") or _allowed(item):
        return
    report.outcome = "failed"
    report.longrepr = (
        f"skipped in CI: {_reason(report)}\n"
        "CI must run every test: install what it needs in .ci/run, or mark it "
        "@pytest.mark.allow_skip(reason=...) if skipping is right even there."
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """A whole module skipped at import (``pytest.importorskip``) fails the same way."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and _in_ci():
        report.outcome = "failed"
        report.longrepr = (
            f"skipped in CI: {_reason(report)}\nCI must run every test: install what it needs in .ci/run."
        )
