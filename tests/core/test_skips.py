"""CI runs every test: a skip fails there unless the test is marked allow_skip (tests/skips.py)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

SKIPPING = """
import shutil
import pytest

@pytest.mark.skipif(shutil.which("no-such-tool") is None, reason="no-such-tool is not installed")
def test_needs_a_tool():
    pass

def test_skips_inside():
    pytest.skip("the server did not start")

@pytest.mark.allow_skip(reason="only on a machine with two screens")
def test_may_skip():
    pytest.skip("one screen")

@pytest.mark.xfail(reason="known")
def test_expected_failure():
    assert False

def test_runs():
    pass
"""


@pytest.fixture
def suite(pytester):
    pytester.makeini("[pytest]\nmarkers =\n    allow_skip(reason): may skip in CI\n")
    pytester.makepyfile(test_tools=SKIPPING)
    return pytester


@pytest.mark.parametrize("value", ["true", "1"])
def test_in_ci_a_skip_fails_with_its_reason(suite, monkeypatch, value):
    monkeypatch.setenv("CI", value)
    result = suite.runpytest("-p", "tests.skips", "-rA")
    # a skip decided at set-up (skipif) fails as an error of its set-up, one in the test as a failure
    result.assert_outcomes(passed=1, errors=1, failed=1, skipped=1, xfailed=1)
    result.stdout.fnmatch_lines(["*skipped in CI: no-such-tool is not installed*"])
    result.stdout.fnmatch_lines(["*skipped in CI: the server did not start*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.parametrize("value", [None, "", "false"])
def test_outside_ci_a_skip_stays_a_skip(suite, monkeypatch, value):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    result = suite.runpytest("-p", "tests.skips")
    result.assert_outcomes(passed=1, skipped=3, xfailed=1)
    assert result.ret == pytest.ExitCode.OK


def test_in_ci_a_module_skipped_at_import_fails(pytester, monkeypatch):
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile(test_module='import pytest\npytest.importorskip("no_such_module")\n')
    result = pytester.runpytest("-p", "tests.skips")
    assert result.ret != pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*skipped in CI*no_such_module*"])


def test_allow_skip_without_a_reason_is_refused(pytester, monkeypatch):
    monkeypatch.setenv("CI", "true")
    pytester.makeini("[pytest]\nmarkers =\n    allow_skip(reason): may skip in CI\n")
    pytester.makepyfile(
        test_bare="import pytest\n\n@pytest.mark.allow_skip\ndef test_x():\n    pytest.skip('why not')\n"
    )
    result = pytester.runpytest("-p", "tests.skips")
    assert result.ret != pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*allow_skip needs its reason*"])


def test_ci_installs_what_the_tests_need():
    """What a test skips without is installed by .ci/run, and CI runs with CI set."""
    from tests.conftest import ROOT

    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for package in ("chromium", "fonts-noto-cjk", "libreoffice-writer-nogui", "poppler-utils"):
        assert f"need+=({package})" in ci, package
    assert 'export CI="${CI:-true}"' in ci
