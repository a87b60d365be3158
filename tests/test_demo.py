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

    assert fingerprint(tmp_path / "a.sqlite3", 7) == fingerprint(tmp_path / "b.sqlite3", 7)
    assert fingerprint(tmp_path / "c.sqlite3", 8) != fingerprint(tmp_path / "d.sqlite3", 7)
