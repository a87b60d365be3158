"""The product documents its own formats and rules (issue 11 item 6): docs/formats.md lists exactly the columns
the importers read, docs/rules.md exactly the rules of the rule file, and nothing points outside the repository."""

import re
import subprocess

from portal import imports, workdays
from portal.policy import policy
from tests.conftest import ROOT

FORMATS = (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")
RULES = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")


def documented_columns() -> dict[str, list[tuple[str, bool]]]:
    found = {}
    for kind, body in re.findall(r"<!-- columns: (\w+) -->\n(.*?)<!-- /columns -->", FORMATS, re.S):
        rows = [line.split("|")[1:-1] for line in body.strip().splitlines()[2:]]
        found[kind] = [(cells[0].strip(), cells[1].strip() == "是") for cells in rows]
    return found


def test_formats_list_exactly_the_importers_columns():
    documented = documented_columns()
    for kind, importer in imports.IMPORTERS.items():
        assert documented.get(kind) == [(c.name, c.required) for c in importer.columns], kind
    assert [name for name, _ in documented["calendar"]] == list(workdays.COLUMNS)
    assert set(documented) == {*imports.IMPORTERS, "calendar"}


def test_rules_page_lists_exactly_the_rule_files_rules():
    pol = policy()
    documented = set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|", RULES, re.M))
    assert documented == {r.id for r in pol.rules} | {r.id for r in pol.institutional}


def test_nothing_points_to_documents_outside_the_repository():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in tracked:
        path = ROOT / name
        if (
            path.suffix not in (".py", ".md", ".toml")
            or not path.exists()
            or name.startswith("tests/core/test_docs")
        ):
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?<![\w/])(FORMATS|RULES)\.md", text), name
        assert "/work/shared" not in text and "shared/policy" not in text, name
