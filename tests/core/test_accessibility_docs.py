"""docs/accessibility.md and the browser tests' accessibility check agree: every violation the
check leaves out (tests/browser/a11y.KNOWN) is listed there with its rule and upstream issue, and
the document's tables name test files that exist."""

from __future__ import annotations

import re
from pathlib import Path

from tests.browser import a11y

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "accessibility.md").read_text(encoding="utf-8")


def test_every_violation_left_out_is_listed_with_its_upstream_issue():
    for known in a11y.KNOWN:
        assert known.rule in DOC and known.upstream in DOC, known
    assert ("list is **empty**" in DOC) == (not a11y.KNOWN)


def test_the_document_names_tests_that_exist():
    named = set(re.findall(r"`(tests/[\w/]+\.py)`", DOC))
    assert named, "the document names the tests that check it"
    assert not [n for n in named if not (ROOT / n).exists()]


def test_the_check_covers_wcag_2_2_aa():
    assert set(a11y.WCAG) == {"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}
    assert a11y.SERIOUS == ("serious", "critical")
