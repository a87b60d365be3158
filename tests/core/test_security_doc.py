"""docs/security.md maps each 等保2.0 control and PIPL duty to the module that does it and the test that
proves it: every path it names exists, every test it names is defined there, every setting is a setting."""

from __future__ import annotations

import re

from portal import config

DOC = config.ROOT / "docs" / "security.md"
_CODE = re.compile(r"`([^`]+)`")


def _named() -> list[str]:
    return _CODE.findall(DOC.read_text(encoding="utf-8"))


def test_every_path_and_test_named_exists():
    checked = 0
    for token in _named():
        path, _, test = token.partition("::")
        if not re.fullmatch(r"(portal|pages|tests|docs|bench)/[\w/.]+|requirements\.lock", path):
            continue
        file = config.ROOT / path
        assert file.exists(), token
        if test:
            assert re.search(rf"^def {re.escape(test)}\(", file.read_text(encoding="utf-8"), re.M), token
        checked += 1
    assert checked > 50


def test_every_setting_named_is_a_setting():
    names = set(config.environment_names())
    found = {t for t in _named() if t.startswith("PORTAL_")}
    assert found and found <= names, found - names
