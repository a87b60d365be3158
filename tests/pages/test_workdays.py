"""The working-day calendar: official holidays and 调休 days, overrides, unloaded years, the CLI."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from portal import hooks, workdays
from portal.cli import cli
from portal.errors import ImportRejected

D = dt.date


def test_a_new_database_knows_the_official_years(db):
    years = [info.year for info in workdays.loaded_years(db)]
    assert years[0] == 2004 and years[-1] == 2026
    assert workdays.unloaded_years(db, D(2026, 1, 1), D(2026, 12, 31)) == []
    # seeding again changes nothing
    assert workdays.seed_from_package(db) == []


def test_spring_festival_2026_and_its_make_up_days(db):
    # 02-15 … 02-23 off; Saturdays 02-14 and 02-28 are worked
    assert workdays.is_working_day(db, D(2026, 2, 14))
    assert not any(workdays.is_working_day(db, D(2026, 2, d)) for d in range(15, 24))
    assert workdays.is_working_day(db, D(2026, 2, 28))
    # contact Thursday 02-12: 13 (Fri), 14 (Sat, 调休), then 24, 25, 26
    assert workdays.due_date(db, D(2026, 2, 12), 5) == D(2026, 2, 26)
    # 10 working days from the Friday before the break: 14, 24–27, 28 (Sat, 调休), 03-02 … 03-05
    assert workdays.due_date(db, D(2026, 2, 13), 10) == D(2026, 3, 5)


def test_national_day_2026_and_its_make_up_days(db):
    assert workdays.is_working_day(db, D(2026, 9, 20))  # Sunday worked
    assert not workdays.is_working_day(db, D(2026, 9, 25))  # Mid-autumn, a Friday
    assert workdays.is_working_day(db, D(2026, 10, 10))  # Saturday worked
    # contact Wednesday 09-30: 10-01 … 10-07 off; 08, 09, 10 (Sat), 12, 13
    assert workdays.due_date(db, D(2026, 9, 30), 5) == D(2026, 10, 13)
    # the contact day never counts, even when it is a working day
    assert workdays.due_date(db, D(2026, 11, 25), 1) == D(2026, 11, 26)
    # a contact on a Saturday: Monday is the first working day
    assert workdays.due_date(db, D(2026, 11, 28), 1) == D(2026, 11, 30)


def test_working_days_left(db):
    due = D(2026, 10, 13)
    assert workdays.working_days_left(db, due, due) == 0
    assert workdays.working_days_left(db, D(2026, 9, 30), due) == 5
    assert workdays.working_days_left(db, D(2026, 10, 14), due) == -1
    assert workdays.working_days_left(db, D(2026, 10, 16), due) == -3
    # due on a Friday, asked on Saturday: overdue, not "due today"
    assert workdays.working_days_left(db, D(2026, 11, 28), D(2026, 11, 27)) == -1


def test_a_year_not_loaded_falls_back_to_monday_to_friday_and_says_so(db):
    assert workdays.unloaded_years(db, D(2026, 12, 20), D(2027, 1, 20)) == [2027]
    assert workdays.is_working_day(db, D(2027, 1, 1))  # a Friday: a guess, not known to be 元旦
    assert not workdays.is_working_day(db, D(2027, 1, 2))
    assert workdays.due_date(db, D(2026, 12, 30), 5) == D(2027, 1, 6)
    warning = workdays.calendar_warning(db, D(2026, 12, 30), D(2027, 1, 6))
    assert warning and "2027 年" in warning and "周一至周五" in warning
    assert workdays.calendar_warning(db, D(2026, 1, 1), D(2026, 12, 31)) is None


def test_loading_a_year_replaces_the_guess(db):
    rows = [
        {"日期": "2027-01-01", "类型": "休息日", "名称": "元旦"},
        {"日期": D(2027, 2, 6), "类型": "工作日", "名称": "春节调休上班"},
        {"日期": "2027-02-08", "类型": "休息日", "名称": "春节"},
    ]
    result = workdays.load_year(db, None, rows)
    assert (result.year, result.holidays, result.workdays) == (2027, 2, 1)
    assert workdays.unloaded_years(db, D(2027, 1, 1), D(2027, 12, 31)) == []
    assert not workdays.is_working_day(db, D(2027, 1, 1))
    assert workdays.is_working_day(db, D(2027, 2, 6))  # a Saturday
    assert workdays.due_date(db, D(2026, 12, 31), 1) == D(2027, 1, 4)
    # loading again replaces the year
    workdays.load_year(db, 2027, rows[:1])
    assert not workdays.is_working_day(db, D(2027, 2, 6))


def test_a_bad_file_is_rejected_row_by_row_and_changes_nothing(db, tmp_path):
    before = db.execute("SELECT count(*) FROM calendar_days").fetchone()[0]
    path = tmp_path / "2027.csv"
    path.write_text(
        "日期,类型,名称\n2027-01-01,休息日,元旦\n2027-13-01,休息日,坏日期\n2027-02-06,上班,春节\n"
        "2028-01-01,休息日,元旦\n2027-01-01,休息日,重复\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRejected) as caught:
        workdays.load_year(db, None, path)
    report = caught.value.report()
    assert "第 3 行" in report and "第 4 行" in report and "第 5 行" in report and "第 6 行" in report
    assert "不在 2027 年内" in report and "重复" in report and "休息日" in report
    assert db.execute("SELECT count(*) FROM calendar_days").fetchone()[0] == before
    assert workdays.unloaded_years(db, D(2027, 1, 1), D(2027, 1, 1)) == [2027]


def test_loading_tells_the_features_that_listen_to_calendar_changes(db, monkeypatch):
    calls = []
    monkeypatch.setattr(hooks, "_calendar_hooks", [lambda handle: calls.append(handle) or 3])
    result = workdays.load_year(db, 2027, [{"日期": "2027-01-01", "类型": "休息日", "名称": "元旦"}])
    assert calls == [db] and result.recomputed == 3
    assert "3 件" in result.summary()
    workdays.set_override(db, D(2027, 1, 4), False, "校庆日放假")
    workdays.remove_override(db, D(2027, 1, 4))
    assert calls == [db, db, db]


def test_the_cases_feature_listens_to_calendar_changes():
    from portal import case_actions

    assert case_actions.recompute_due_dates in hooks._calendar_hooks


def test_the_universitys_override_wins(db):
    assert workdays.is_working_day(db, D(2026, 11, 25))
    workdays.set_override(db, D(2026, 11, 25), False, "校庆日放假")
    assert not workdays.is_working_day(db, D(2026, 11, 25))
    assert workdays.due_date(db, D(2026, 11, 24), 1) == D(2026, 11, 26)
    # an override beats an official 调休 day too
    workdays.set_override(db, D(2026, 10, 10), False, "")
    assert not workdays.is_working_day(db, D(2026, 10, 10))
    assert [o.date for o in workdays.overrides(db, 2026)] == [D(2026, 10, 10), D(2026, 11, 25)]
    assert workdays.remove_override(db, D(2026, 11, 25))
    assert workdays.is_working_day(db, D(2026, 11, 25))


def test_cli_due_prints_the_date_alone_on_the_last_line(tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "cli.sqlite3")
    result = runner.invoke(cli, ["--db", db, "calendar", "due", "2026-09-30", "--days", "5"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == "2026-10-13"
    assert result.stderr == ""


def test_cli_due_warns_on_stderr_for_an_unloaded_year(tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "cli.sqlite3")
    result = runner.invoke(cli, ["--db", db, "calendar", "due", "2026-12-30", "--days", "5"])
    assert result.exit_code == 0
    assert result.stdout.strip().splitlines()[-1] == "2027-01-06"
    assert "2027 年" in result.stderr and "周一至周五" in result.stderr
    bad = runner.invoke(cli, ["--db", db, "calendar", "due", "2026-02-30", "--days", "5"])
    assert bad.exit_code == 1 and "不是有效日期" in bad.stderr


def test_cli_load(tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "cli.sqlite3")
    path = tmp_path / "2027.csv"
    path.write_text("日期,类型,名称\n2027-01-01,休息日,元旦\n", encoding="utf-8-sig")
    result = runner.invoke(cli, ["--db", db, "calendar", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert "2027 年" in result.stdout
    due = runner.invoke(cli, ["--db", db, "calendar", "due", "2026-12-31", "--days", "1"])
    assert due.stdout.strip().splitlines()[-1] == "2027-01-04" and due.stderr == ""


def test_the_calendar_page_warns_loads_a_year_and_keeps_overrides(db):
    from portal import accounts
    from tests.conftest import goto, login, texts

    accounts.create_user(db, "boss", "管理员", "Demo-1234", [accounts.Role(role="admin")])
    db.conn.commit()
    at = login("boss", "Demo-1234")
    goto(at, "pages/admin_calendar.py").run()
    assert not at.exception, at.exception
    assert any("2027 年" in w.value and "周一至周五" in w.value for w in at.warning)
    assert "2026-2027-1" in set(
        next(f.value for f in at.dataframe if "学期编号" in f.value.columns)["学期编号"]
    )
    at.file_uploader(key="holiday_file").upload(
        "2027.csv", "日期,类型,名称\n2027-01-01,休息日,元旦\n".encode(), "text/csv"
    )
    at.button(key="FormSubmitter:holiday_form-导入").click().run()
    assert any("已导入 2027 年" in s.value for s in at.success)
    assert not any("2027 年" in w.value for w in at.warning)
    assert workdays.unloaded_years(db, D(2027, 1, 1), D(2027, 12, 31)) == []
    at.date_input(key="override_day").set_value(D(2026, 12, 2))
    at.radio(key="override_kind").set_value("休息日")
    at.text_input(key="override_note").input("校庆日")
    at.button(key="FormSubmitter:override_form-保存调整").click().run()
    assert not workdays.is_working_day(db, D(2026, 12, 2))
    assert "校庆日" in set(next(f.value for f in at.dataframe if "说明" in f.value.columns)["说明"])
    # a bad file is refused with the row and the reason, and changes nothing
    at.file_uploader(key="holiday_file").upload(
        "bad.csv", "日期,类型,名称\n2028-01-01,放假,元旦\n".encode(), "text/csv"
    )
    at.button(key="FormSubmitter:holiday_form-导入").click().run()
    assert at.error and "第 2 行" in texts(at)
    assert workdays.unloaded_years(db, D(2028, 1, 1), D(2028, 1, 1)) == [2028]


def test_removing_an_override_needs_a_choice_and_never_falls_back_to_the_first(db):
    """撤销 acts on the override chosen, and on nothing when none is: the list had a default, so a
    choice that had just left the list (the first tap of a double tap removed it) fell back to the
    first override, which the second tap removed."""
    from portal import accounts
    from tests.conftest import goto, login, texts

    accounts.create_user(db, "boss", "管理员", "Demo-1234", [accounts.Role(role="admin")])
    workdays.set_override(db, D(2026, 12, 2), False, "校庆日")
    workdays.set_override(db, D(2026, 12, 9), False, "运动会")
    db.conn.commit()
    at = login("boss", "Demo-1234")
    goto(at, "pages/admin_calendar.py").run()
    assert at.selectbox(key="override_remove").value is None
    at.button(key="override_remove_button").click().run()
    assert "请选择要撤销的调整" in texts(at)
    assert [o.date for o in workdays.overrides(db)] == [D(2026, 12, 2), D(2026, 12, 9)]
    at.selectbox(key="override_remove").set_value(D(2026, 12, 9)).run()
    at.button(key="override_remove_button").click().run()
    assert not at.exception, at.exception
    assert [o.date for o in workdays.overrides(db)] == [D(2026, 12, 2)]
    assert at.selectbox(key="override_remove").value is None  # the next removal is chosen afresh
