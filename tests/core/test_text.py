"""One definition of acceptable text (portal/text.py), used by every service that takes free text."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from portal import assignments, rulesets, tabular, text, workdays
from portal.assignments import TargetInput
from portal.errors import RowError, ValidationError
from portal.policy import POLICY_FILE
from portal.reception import template
from tests.conftest import ROOT

# a control (Cc), a zero-width space (Cf), a private-use character (Co), an unassigned one (Cn)
INVISIBLE = ["\x07", "\u200b", "\ue000", "\U000e0080"]


@pytest.mark.parametrize("bad", INVISIBLE)
def test_one_definition_of_a_control_character(bad):
    assert text.control_character(f"甲{bad}乙") == bad
    with pytest.raises(ValidationError, match="控制字符"):
        text.free_text(f"甲{bad}乙", "说明")
    with pytest.raises(ValidationError, match="控制字符"):
        text.name(f"甲{bad}乙")


def test_line_breaks_are_text_only_where_lines_are():
    assert text.free_text("第一行\n第二行", "说明") == "第一行\n第二行"
    assert text.free_text("家庭👨‍👩‍👧", "说明") == "家庭👨‍👩‍👧"  # an emoji's joiners are part of it
    with pytest.raises(ValidationError, match="控制字符"):
        text.free_text("第一行\n第二行", "说明", multiline=False)


@pytest.mark.parametrize("bad", INVISIBLE)
def test_every_service_refuses_the_same_characters(db, bad):
    refusals = [
        lambda: workdays.set_override(db, dt.date(2026, 12, 2), False, f"校庆{bad}"),
        lambda: rulesets.save_rule_set(
            db, rulesets.parse_rule_file(POLICY_FILE.read_bytes()), dt.date(2027, 9, 1), f"修订{bad}"
        ),
        lambda: assignments.save_target(
            db, TargetInput(kind="高层次人才", code="T-1", name=f"钱{bad}教授"), None
        ),
        lambda: template.save_template(db, {"place": f"接待室{bad}"}),
    ]
    for refuse in refusals:
        with pytest.raises(ValidationError, match="控制字符"):
            refuse()
    errors: list[RowError] = []
    tabular.check_text(f"第二食堂{bad}", "地点", 2, errors)
    assert errors and "控制字符" in errors[0].reason


def test_no_module_defines_control_characters_but_text():
    pattern = re.compile(r"ord\(\w+\)\s*[<>]=?\s*(32|127)|\\x1f\]|\\x00-|unicodedata")
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "portal").rglob("*.py"))
        if path.name != "text.py" and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
