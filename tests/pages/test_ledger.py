"""Department ledgers (台账) on the demo university, checked against counts made here in SQL."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from portal import accounts, activity_recording, ledger
from portal.demo import DEPARTMENT_ACCOUNTS
from portal.errors import PermissionDenied
from portal.policy import policy

SINCE, UNTIL = dt.date(2025, 11, 24), dt.date(2026, 11, 24)


def _user(db, dept):
    return accounts.find_user(db, DEPARTMENT_ACCOUNTS[dept])


def _sql_counts(db, systems, group="a.system"):
    marks = ",".join("?" * len(systems))
    return dict(
        db.execute(
            f"SELECT {group}, count(*) FROM activities a JOIN people p ON p.id = a.cadre_id "
            f"WHERE a.voided_at IS NULL AND a.system IN ({marks}) AND a.date BETWEEN ? AND ? GROUP BY 1",
            [*systems, SINCE.isoformat(), UNTIL.isoformat()],
        ).fetchall()
    )


@pytest.mark.parametrize("dept", ["党办", "教务处", "组织部", "统战部"])
def test_each_department_counts_its_systems(demo_db, dept):
    systems = policy().systems_of_department(dept)
    book = ledger.build(demo_db, _user(demo_db, dept), department=dept, since=SINCE, until=UNTIL)
    assert book.systems == systems
    per_system = {s: n for s, n in book.sizes.items() if n}
    assert per_system == _sql_counts(demo_db, systems)
    assert {s: len(list(ledger.iter_rows(demo_db, book, s))) for s in per_system} == per_system
    by_cadre = {k: sum(c.values()) for k, c in book.counts("cadre").items()}
    expected = _sql_counts(demo_db, systems, group="p.name || '（' || p.staff_no || '）'")
    assert by_cadre == expected
    for key in ("unit", "month", "semester"):
        assert sum(sum(c.values()) for c in book.counts(key).values()) == book.total
    assert {m for m in book.counts("month")} <= {f"{d.year}-{d.month:02d}" for d in (SINCE, UNTIL)} | {
        f"{y}-{m:02d}" for y in (2025, 2026) for m in range(1, 13)
    }


def test_voided_activities_are_left_out(demo_db):
    clerk = _user(demo_db, "教务处")
    before = ledger.build(demo_db, clerk, department="教务处", since=SINCE, until=UNTIL)
    victim = ledger.latest_rows(demo_db, before, "听课", 1)[0]
    activity_recording.void_activity(
        demo_db, victim.activity_id, "重复录入", accounts.find_user(demo_db, "admin")
    )
    after = ledger.build(demo_db, clerk, department="教务处", since=SINCE, until=UNTIL)
    assert after.total == before.total - 1 and after.sizes["听课"] == before.sizes["听课"] - 1
    assert victim.activity_id not in {r.activity_id for r in ledger.iter_rows(demo_db, after, "听课")}
    assert victim.activity_id not in {r.activity_id for r in ledger.latest_rows(demo_db, after, "听课", 500)}


def test_units_are_the_posts_held_that_day(demo_db):
    from portal import org

    # a cadre who moved to another unit on 2026-03-02: his records before count for the old unit
    busy = demo_db.execute(
        "SELECT cadre_id FROM activities WHERE voided_at IS NULL AND date BETWEEN '2025-12-01' AND '2026-02-28' "
        "AND cadre_id IN (SELECT cadre_id FROM activities WHERE date BETWEEN '2026-03-02' AND '2026-11-24') "
        "GROUP BY cadre_id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    old = org.posts_of(demo_db, busy)[0]
    org.save_post(
        demo_db, busy, old.unit_id, old.title, old.level, old.tags, old.start_date, dt.date(2026, 3, 1)
    )
    other = next(u for u in org.list_units(demo_db) if u.id != old.unit_id and u.kind == old.unit_kind)
    org.save_post(demo_db, busy, other.id, "院长", old.level, old.tags, dt.date(2026, 3, 2))
    book = ledger.build(
        demo_db, accounts.find_user(demo_db, "admin"), department="", since=SINCE, until=UNTIL
    )
    rows = [r for s in book.systems for r in ledger.latest_rows(demo_db, book, s, 20)]
    assert len(rows) > 100
    for r in rows:
        row = demo_db.execute(
            "SELECT u.name, cp.title FROM cadre_posts cp JOIN units u ON u.id = cp.unit_id "
            "JOIN people p ON p.id = cp.person_id WHERE p.staff_no = ? AND cp.start_date <= ? "
            "AND (cp.end_date IS NULL OR cp.end_date >= ?) ORDER BY cp.start_date, cp.id LIMIT 1",
            [r.staff_no, r.date.isoformat(), r.date.isoformat()],
        ).fetchone()
        assert (r.unit, r.title) == (row[0], row[1])
    # the summary by unit (counted from an index, the moved cadre day by day) agrees with the rows
    # read one by one, and the moved cadre's records are split between his two units
    staff_no = demo_db.execute("SELECT staff_no FROM people WHERE id = ?", [busy]).fetchone()[0]
    per_row, his = {}, set()
    for s in book.systems:
        for r in ledger.iter_rows(demo_db, book, s):
            per_row[r.unit] = per_row.get(r.unit, 0) + 1
            if r.staff_no == staff_no:
                his.add(r.unit)
    assert {k: sum(c.values()) for k, c in book.counts("unit").items()} == per_row
    assert his == {old.unit_name, other.name}


def test_who_may_open_which_ledger(demo_db):
    assert ledger.departments_for(_user(demo_db, "教务处")) == ["教务处"]
    with pytest.raises(PermissionDenied):
        ledger.build(demo_db, _user(demo_db, "教务处"), department="党办", since=SINCE, until=UNTIL)
    with pytest.raises(PermissionDenied):
        ledger.build(demo_db, _user(demo_db, "教务处"), department="", since=SINCE, until=UNTIL)
    with pytest.raises(PermissionDenied):
        ledger.departments_for(accounts.find_user(demo_db, "30000001"))
    everything = ledger.build(demo_db, accounts.find_user(demo_db, "admin"), since=SINCE, until=UNTIL)
    assert everything.systems == policy().system_names
    assert everything.total == sum(_sql_counts(demo_db, policy().system_names).values())


def test_institutional_duties_on_the_ledgers(demo_db):
    dangban = ledger.build(demo_db, _user(demo_db, "党办"), department="党办", since=SINCE, until=UNTIL)
    reception = [d for d in dangban.duties if d.rule == "reception.duty"]
    assert reception, "党办 keeps the reception-day duty"
    current = reception[-1]  # the semester running on 2026-11-24
    held = demo_db.execute(
        "SELECT count(DISTINCT a.date) FROM activities a JOIN duty_days d ON d.date = a.date "
        "WHERE a.system = '接待日' AND a.voided_at IS NULL AND a.date BETWEEN '2026-09-01' AND ?",
        [UNTIL.isoformat()],
    ).fetchone()[0]
    assert current.done == held
    assert {d.rule for d in dangban.duties} >= {"reception.duty", "grassroots.no_overlap"}
    tongzhan = ledger.build(demo_db, _user(demo_db, "统战部"), department="统战部", since=SINCE, until=UNTIL)
    assert "nonparty.symposium" in {d.rule for d in tongzhan.duties}
    zuzhi = ledger.build(demo_db, _user(demo_db, "组织部"), department="组织部", since=SINCE, until=UNTIL)
    coverage = next(d for d in zuzhi.duties if d.rule == "branch.coverage")
    branches = demo_db.execute(
        "SELECT count(*) FROM contact_targets WHERE kind = '党支部' AND active = 1"
    ).fetchone()[0]
    assert coverage.required == branches
    assert coverage.required - coverage.done == len(coverage.details)


def test_the_workbook_reads_back_like_a_ledger(demo_db):
    book = ledger.build(demo_db, _user(demo_db, "党办"), department="党办", since=SINCE, until=UNTIL)
    wb = load_workbook(io.BytesIO(ledger.export_xlsx(demo_db, book)))
    assert wb.sheetnames == [
        *book.systems,
        "按单位汇总",
        "按领导干部汇总",
        "按学期汇总",
        "按月份汇总",
        "学校层面制度落实",
        "三率按责任部门",
        "三率按承办单位",
        "三率按干部",
        "三率按月趋势",
    ]
    for system in book.systems:
        rows = list(ledger.iter_rows(demo_db, book, system))
        ws = wb[system]
        assert ws["A1"].value == f"领导干部联系师生工作台账（{system}）"
        assert "党办" in ws["A2"].value
        assert [c.value for c in ws[3]][:4] == ["序号", "日期", "工号", "领导干部"]
        assert ws.freeze_panes == "A4"
        assert ws["A3"].font.bold and ws.column_dimensions["K"].width == 48
        data = list(ws.iter_rows(min_row=4, values_only=True))
        assert len(data) == len(rows)
        assert [r[2] for r in data] == [r.staff_no for r in rows]
    units = wb["按单位汇总"]
    last = [c.value for c in units[units.max_row]]
    assert last[0] == "合计" and last[-1] == book.total
    for key, sheet in (
        ("unit", "按单位汇总"),
        ("cadre", "按领导干部汇总"),
        ("semester", "按学期汇总"),
        ("month", "按月份汇总"),
    ):
        ws = wb[sheet]
        table = {r[0]: r[-1] for r in ws.iter_rows(min_row=4, values_only=True) if r[0] != "合计"}
        assert table == {k: sum(c.values()) for k, c in book.counts(key).items()}
    duties = wb["学校层面制度落实"]
    assert duties.max_row - 3 == len(book.duties)


def test_cli_writes_a_departments_ledger(demo_db, tmp_path):
    from click.testing import CliRunner

    from portal.cli import cli

    path = demo_db.execute("PRAGMA database_list").fetchone()[2]
    out = tmp_path / "ledger.xlsx"
    result = CliRunner().invoke(
        cli,
        [
            "--db",
            path,
            "ledger",
            "--dept",
            "教务处",
            "--from",
            "2025-11-24",
            "--to",
            "2026-11-24",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    wb = load_workbook(out)
    expected = _sql_counts(demo_db, ["讲思政课", "听课"])
    assert {s: wb[s].max_row - 3 for s in ("讲思政课", "听课")} == {
        s: expected.get(s, 0) for s in ("讲思政课", "听课")
    }
    bad = CliRunner().invoke(
        cli, ["--db", path, "ledger", "--dept", "保卫处", "--from", "2026-01-01", "--out", str(out)]
    )
    assert bad.exit_code == 1


def test_each_department_opens_on_its_own_systems(demo_db):
    jiaowu = accounts.find_user(demo_db, "jiaowu")
    book = ledger.build(
        demo_db, jiaowu, department="教务处", since=dt.date(2026, 9, 1), until=dt.date(2026, 11, 24)
    )
    assert book.opening_tab in ("听课", "讲思政课") and book.sizes[book.opening_tab]
    admin = accounts.find_user(demo_db, "admin")
    whole = ledger.build(demo_db, admin, since=dt.date(2026, 9, 1), until=dt.date(2026, 11, 24))
    assert whole.opening_tab == ledger.SUMMARY_TAB


def test_the_ledger_page_opens_a_department_on_its_systems(demo_db):
    from tests.conftest import goto, login

    at = login(DEPARTMENT_ACCOUNTS["教务处"])
    goto(at, "pages/ledger.py").run()
    assert not at.exception, at.exception
    containers = [
        block.proto.tab_container
        for block in _blocks(at._tree)
        if getattr(block, "type", "") == "tab_container"
    ]
    assert len(containers) == 1
    assert [t.label for t in at.tabs][containers[0].default_tab_index] == "听课"


def _blocks(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _blocks(child)
