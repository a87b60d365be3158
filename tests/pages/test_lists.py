"""Lists load only what is shown: counted and paged in SQL, exports to a file with a size limit."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest

from portal import accounts, activities, record_form
from tests.conftest import goto, login, texts


def _no_full_list(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("the page loaded every row as a model")

    monkeypatch.setattr(activities, "list_activities", refuse)


def test_the_activity_list_is_counted_and_paged_in_sql(demo_db, monkeypatch):
    admin = accounts.find_user(demo_db, "admin")
    since = dt.date(2026, 11, 24) - dt.timedelta(days=365)
    total = demo_db.execute(
        "SELECT count(*) FROM activities WHERE voided_at IS NULL AND date >= ?", [since.isoformat()]
    ).fetchone()[0]
    assert total > 100  # more than one page in the demo
    _no_full_list(monkeypatch)
    at = login("admin")
    goto(at, "pages/activities.py").run()
    assert not at.exception, at.exception
    assert f"共 {total:,} 条，第 1/" in texts(at)
    first = list(at.dataframe[0].value["编号"])
    assert len(first) == 100
    at.number_input[0].set_value(2).run()
    second = list(at.dataframe[0].value["编号"])
    assert second and not set(first) & set(second)
    page = activities.page_activities(demo_db, admin, offset=100, limit=100, since=since)
    assert [r[0] for r in page.rows] == second and page.total == total
    # a new filter starts again at page 1
    at.selectbox(key="f_system").select("听课").run()
    assert "第 1/" in texts(at)


def test_page_activities_keeps_the_viewers_scope(demo_db):
    me = accounts.find_user(demo_db, "10010001")
    page = activities.page_activities(demo_db, me, limit=1000)
    mine = {a.id for a in activities.list_activities(demo_db, me)}
    assert page.total == len(mine) and {r[0] for r in page.rows} == mine


def test_the_page_and_the_list_share_one_filter(demo_db):
    """``page_activities`` pages exactly what ``list_activities`` lists for one ``ActivityFilter``;
    a misspelt filter is refused rather than silently ignored (the list would widen)."""
    admin = accounts.find_user(demo_db, "admin")
    some = activities.list_activities(demo_db, admin, limit=1)[0]
    chosen = activities.ActivityFilter(
        cadre_id=some.cadre_id,
        system=some.system,
        since=dt.date(2025, 1, 1),
        until=dt.date(2026, 11, 24),
        include_voided=True,
    )
    listed = [a.id for a in activities.list_activities(demo_db, admin, **chosen)]
    page = activities.page_activities(demo_db, admin, limit=10_000, **chosen)
    assert some.id in listed and [r[0] for r in page.rows] == listed and page.total == len(listed)
    with pytest.raises(TypeError):
        activities.list_activities(demo_db, admin, sytem="听课")


def test_a_too_large_export_asks_to_narrow_the_filter(demo_db, monkeypatch):
    monkeypatch.setenv("PORTAL_MAX_EXPORT_FORMS", "5")
    at = login("admin")
    goto(at, "pages/activities.py").run()
    assert any("请缩小筛选范围" in w.value for w in at.warning)
    assert next(b for b in at.button if b.label == "生成压缩包").disabled
    admin = accounts.find_user(demo_db, "admin")
    from portal.errors import ValidationError

    with pytest.raises(ValidationError, match="请缩小筛选范围"):
        record_form.export_forms(demo_db, admin, None, max_forms=5)


def test_the_export_zip_is_a_temporary_file_not_session_bytes(demo_db):
    from tests.pages.test_long_exports import finish, of

    at = login("10010001")
    goto(at, "pages/activities.py").run()
    next(b for b in at.button if b.label == "生成压缩包").click().run()
    assert not at.exception, at.exception
    finish("10010001", "forms")
    at.run()
    built = of("10010001", "forms")[-1]
    path = built.result  # a file: no bytes kept in the session or the build
    assert isinstance(path, Path) and "export_zip" not in at.session_state
    names = zipfile.ZipFile(path).namelist()
    assert names and all(n.endswith(".docx") for n in names)
    assert any(b.label == "下载压缩包" for b in at.get("download_button"))
    next(b for b in at.button if b.label == "生成压缩包").click().run()  # a new one replaces it
    finish("10010001", "forms")
    again = of("10010001", "forms")[-1]
    assert not path.exists() and again.result.exists()


def _more_accounts(db, n: int) -> None:
    from portal.db import write

    with write(db):
        db.conn.executemany(
            "INSERT INTO users (username, display_name, created_at) VALUES (?, ?, '2026-11-01T00:00:00')",
            [(f"z{i:05d}", f"测试用户{i}") for i in range(n)],
        )


def test_account_management_shows_every_account_a_page_at_a_time(demo_db):
    _more_accounts(demo_db, 600)
    total = demo_db.execute("SELECT count(*) FROM users").fetchone()[0]
    assert total > 500
    at = login("admin")
    goto(at, "pages/admin_users.py").run()
    assert not at.exception, at.exception
    pages = -(-total // 100)
    assert f"共 {total:,} 个账号，第 1/{pages} 页" in texts(at)
    at.number_input[0].set_value(pages).run()
    shown = list(at.dataframe[0].value["账号"])
    assert (
        shown[-1] == max(r[0] for r in demo_db.execute("SELECT username FROM users"))
        and len(shown) == total - (pages - 1) * 100
    )
    at.text_input(key="user_search").input("测试用户59").run()
    assert "共 11 个账号，第 1/1 页" in texts(at)


def test_a_page_of_accounts_costs_four_queries_not_two_per_user(demo_db):
    _more_accounts(demo_db, 150)
    statements = []
    demo_db.conn.set_trace_callback(statements.append)
    total, users = accounts.page_users(demo_db, "", offset=0, limit=100)
    demo_db.conn.set_trace_callback(None)
    assert len(users) == 100 and total > 150
    assert (
        len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 4
    )  # count, page, roles, posts
    # the same roles as one account read alone
    for u in users[:30]:
        assert u == accounts.get_user(demo_db, u.id)


def test_the_activity_page_reads_an_index_not_the_table(demo_db):
    admin = accounts.find_user(demo_db, "admin")
    statements = []
    demo_db.conn.set_trace_callback(statements.append)
    activities.page_activities(demo_db, admin, since=dt.date(2025, 11, 24), until=dt.date(2026, 11, 24))
    demo_db.conn.set_trace_callback(None)
    for sql in statements:
        plan = " ".join(str(r[3]) for r in demo_db.execute("EXPLAIN QUERY PLAN " + sql))
        assert "SCAN a " not in plan + " " and "USE TEMP B-TREE FOR ORDER BY" not in plan, (sql, plan)


def test_the_record_form_is_rendered_only_when_downloaded(demo_db, monkeypatch):
    rendered = []
    real = record_form.render_record_form
    monkeypatch.setattr(
        record_form, "render_record_form", lambda *a, **k: rendered.append(1) or real(*a, **k)
    )
    at = login("10010001")
    goto(at, "pages/activities.py").run()
    at.selectbox(key="chosen").set_value(
        activities.page_activities(demo_db, accounts.find_user(demo_db, "10010001")).rows[1][0]
    ).run()
    assert not at.exception and any(b.label == "下载记录表（Word）" for b in at.get("download_button"))
    assert rendered == []


def test_the_supervision_list_shows_a_page_of_cases_and_keeps_the_overdue_red(demo_db):
    from portal import case_opening
    from portal.db import write

    with write(demo_db):
        for i in range(260):
            case_opening.open_case(
                demo_db,
                source="other",
                content=f"第 {i} 条建议",
                responsible_dept="党办",
                contact_date=dt.date(2026, 9, 1) + dt.timedelta(days=i % 60),
            )
    at = login("admin")
    goto(at, "pages/cases.py").run()
    assert not at.exception, at.exception
    listed = int(at.metric[0].value)
    assert listed > 200
    assert len(at.dataframe[0].value) == 200
    assert f"第 1/{-(-listed // 200)} 页" in texts(at)
    at.number_input[0].set_value(2).run()
    assert not at.exception and len(at.dataframe[0].value) == listed - 200
    assert "fde2e1" in str(
        at.dataframe[0].proto
    )  # overdue rows keep their red (the styles travel with the table)


def test_ledger_tabs_show_the_latest_rows_and_point_to_the_workbook(demo_db):
    from portal.db import write

    cadre = demo_db.execute("SELECT person_id FROM cadre_posts LIMIT 1").fetchone()[0]
    stamp = "2026-11-01T00:00:00+08:00"
    with write(demo_db):
        demo_db.conn.executemany(
            "INSERT INTO activities (cadre_id, system, subtype, date, content, created_at, updated_at) "
            "VALUES (?, '听课', '随堂听课', ?, '批量', ?, ?)",
            [
                (cadre, (dt.date(2026, 9, 1) + dt.timedelta(days=i % 80)).isoformat(), stamp, stamp)
                for i in range(600)
            ],
        )
    at = login("admin")
    goto(at, "pages/ledger.py").run()
    assert not at.exception, at.exception
    assert all(len(df.value) <= 500 for df in at.dataframe)
    assert any("显示最近 500 条；完整台账请导出 Excel" in c.value for c in at.caption)
