from portal import demo, org
from portal.db import open_db


def test_demo_is_believable(demo_db):
    cadres = org.list_cadres(demo_db)
    leaders = [c for c in cadres if any(p.level == "校级" for p in c.posts)]
    assert 250 <= len(cadres) <= 400
    titles = {p.title for c in leaders for p in c.posts}
    assert {"党委书记", "校长", "副校长", "党委副书记"} <= titles
    tags = set().union(*(p.all_tags for c in cadres for p in c.posts))
    assert {
        "party_secretary",
        "president",
        "charge_teaching",
        "charge_research",
        "dean",
        "college_secretary",
        "teaching_vice_dean",
        "principal",
        "cpc_member",
    } <= tags
    units = {u.name: u for u in org.list_units(demo_db)}
    assert sum(u.kind == "college" for u in units.values()) >= 20
    assert units["党委办公室"].policy_name == "党办"
    assert (
        demo_db.execute(
            "SELECT count(*) FROM users u JOIN user_roles r ON r.user_id = u.id WHERE r.role = 'department'"
        ).fetchone()[0]
        == 10
    )


def test_demo_is_deterministic_for_a_seed(tmp_path):
    def fingerprint(path, seed):
        with open_db(path) as db:
            demo.build(db, seed=seed)
            return list(db.execute("SELECT staff_no, name, phone FROM people ORDER BY id"))

    seven = fingerprint(tmp_path / "a.sqlite3", 7)
    assert fingerprint(tmp_path / "b.sqlite3", 7) == seven
    assert fingerprint(tmp_path / "c.sqlite3", 8) != seven


def test_demo_uses_only_the_cores_public_api():
    """The demo generator is a client of the core like any page: no ``_private`` names from portal."""
    import ast
    from pathlib import Path

    import portal.demo

    found = []
    for path in sorted(Path(portal.demo.__file__).parent.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        local = {  # the demo's own modules may share helpers among themselves
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is None
            for alias in node.names
        }
        core = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            and (node.level == 2 or (node.module or "").startswith("portal"))
            for alias in node.names
        } - local
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level != 1:
                found += [f"{path.name}: import {a.name}" for a in node.names if a.name.startswith("_")]
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name)
                and node.value.id in core
            ):
                found.append(f"{path.name}: {node.value.id}.{node.attr}")
    assert found == []
