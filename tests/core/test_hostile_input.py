"""Hostile input: every item of the corpus gets a clear Chinese error and leaves the database
file byte-for-byte as it was. Later features add their services to TARGETS' callers below."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest

from portal import accounts, activities, activity_recording, case_actions, case_opening, dates, imports, org
from portal.accounts import Role
from portal.errors import PortalError
from portal.reception import bookings
from tests import hostile

CJK = re.compile(r"[\u4e00-\u9fff]")


def fingerprint(db) -> str:
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path = db.execute("PRAGMA database_list").fetchone()[2]
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def assert_refused(db, action, *args, **kwargs):
    before = fingerprint(db)
    with pytest.raises(PortalError) as exc:
        action(*args, **kwargs)
    text = exc.value.report() if hasattr(exc.value, "report") else exc.value.message
    assert CJK.search(text), f"not a Chinese message: {text!r}"
    assert fingerprint(db) == before, "the database changed"


@pytest.fixture
def org_db(demo_db):
    return demo_db


def unit_id(db, name="教务处"):
    return org.unit_by_name(db, name).id


@pytest.mark.parametrize("value", hostile.BAD_NAMES, ids=range(len(hostile.BAD_NAMES)))
def test_bad_names_everywhere(org_db, value):
    assert_refused(org_db, org.save_unit, org_db, value, "college")
    assert_refused(org_db, org.save_person, org_db, "10099999", value)
    assert_refused(org_db, org.save_post, org_db, 1, unit_id(org_db), value, "正处", [])
    assert_refused(
        org_db, accounts.create_user, org_db, "newuser1", value, "Secret123", [Role(role="visitor")]
    )
    if value.encode("utf-8", "ignore").decode() == value:  # a lone surrogate cannot be in a file at all
        cell = '"' + value.replace('"', '""') + '"'
        assert_refused(
            org_db,
            imports.run_import,
            org_db,
            "units",
            "u.csv",
            hostile.csv_bytes("单位名称,单位类型", f"{cell},学院"),
        )


@pytest.mark.parametrize("value", hostile.BAD_CODES, ids=range(len(hostile.BAD_CODES)))
def test_bad_codes_everywhere(org_db, value):
    assert_refused(org_db, org.save_person, org_db, value, "张三")
    assert_refused(org_db, accounts.create_user, org_db, value, "张三", "Secret123", [Role(role="visitor")])
    body = hostile.csv_bytes(
        "工号,姓名,单位,职务,级别", f'"{value.replace(chr(34), chr(34) * 2)}",张三,教务处,副处长,副处'
    )
    assert_refused(org_db, imports.run_import, org_db, "cadres", "c.csv", body)


@pytest.mark.parametrize("value", hostile.BAD_DATES, ids=range(len(hostile.BAD_DATES)))
def test_bad_dates(org_db, value):
    assert_refused(org_db, dates.parse_date, value, "日期")
    body = hostile.csv_bytes("工号,姓名,单位,职务,级别,任职开始", f"10099998,张三,教务处,副处长,副处,{value}")
    assert_refused(org_db, imports.run_import, org_db, "cadres", "c.csv", body)


@pytest.mark.parametrize("value", hostile.BAD_PHONES, ids=range(len(hostile.BAD_PHONES)))
def test_bad_phones(org_db, value):
    assert_refused(org_db, org.save_person, org_db, "10099997", "张三", phone=value)
    body = hostile.csv_bytes("工号,姓名,角色,手机号", f"s99001,张三,师生,{value}")
    assert_refused(org_db, imports.run_import, org_db, "accounts", "a.csv", body)


@pytest.mark.parametrize(
    "name,data", hostile.malformed_files(), ids=[n for n, _ in hostile.malformed_files()]
)
def test_malformed_files(org_db, name, data):
    for kind in imports.IMPORTERS:
        assert_refused(org_db, imports.run_import, org_db, kind, name, data)


def test_bad_enumerations_and_duplicates(org_db):
    bad_rows = [
        ("units", "单位名称,单位类型", "新学院,大学"),
        ("units", "单位名称,单位类型", "新学院,学院\n新学院,学院"),
        ("cadres", "工号,姓名,单位,职务,级别", "10099996,张三,教务处,副处长,厅级"),
        ("cadres", "工号,姓名,单位,职务,级别,标签", "10099996,张三,教务处,副处长,副处,superuser"),
        ("cadres", "工号,姓名,单位,职务,级别,标签", "10099996,张三,教务处,副处长,副处,school_leader"),
        ("cadres", "工号,姓名,单位,职务,级别,中共党员", "10099996,张三,教务处,副处长,副处,maybe"),
        ("cadres", "工号,姓名,单位,职务,级别,分管单位", "10099996,张三,教务处,副处长,副处,火星学院"),
        (
            "cadres",
            "工号,姓名,单位,职务,级别,任职开始,任职结束",
            "10099996,张三,教务处,副处长,副处,2026-01-01,2025-01-01",
        ),
        (
            "cadres",
            "工号,姓名,单位,职务,级别",
            "10099996,张三,教务处,副处长,副处\n10099996,李四,教务处,处长,正处",
        ),
        ("accounts", "工号,姓名,角色", "s99002,张三,国王"),
        ("accounts", "工号,姓名,角色,部门", "s99002,张三,部门,食堂"),
        ("accounts", "工号,姓名,角色,人员类别", "s99002,张三,师生,外星人"),
        ("accounts", "工号,姓名,角色,单位", "s99002,张三,师生,火星学院"),
    ]
    for kind, header, rows in bad_rows:
        assert_refused(org_db, imports.run_import, org_db, kind, "x.csv", hostile.csv_bytes(header, rows))


def test_bad_passwords(org_db):
    for password in ["", "short1", "a" * 20, "12345678", "x" * 200 + "1"]:
        assert_refused(
            org_db, accounts.create_user, org_db, "newuser2", "张三", password, [Role(role="visitor")]
        )


def test_corpus_is_large_enough():
    total = (
        len(hostile.BAD_NAMES)
        + len(hostile.BAD_CODES)
        + len(hostile.BAD_DATES)
        + len(hostile.BAD_PHONES)
        + len(hostile.BAD_FREE_TEXT)
        + len(hostile.malformed_files())
    )
    assert total >= 100


def test_accepted_text_is_kept_exactly(org_db):
    """The other side of the coin: legitimate names with · and Latin letters, and free text with emoji
    and markup, are accepted and stored as typed."""
    from portal import text

    assert text.name("阿卜杜·热合曼") == "阿卜杜·热合曼"
    assert text.name("John O'Brien") == "John O'Brien"
    assert text.free_text("第一行\n<b>第二行</b> & 😀", "说明") == "第一行\n<b>第二行</b> & 😀"
    person, _ = org.save_person(org_db, "10099990", "阿卜杜·热合曼")
    assert org.get_person(org_db, person.id).name == "阿卜杜·热合曼"
    for bad in hostile.BAD_FREE_TEXT:
        with pytest.raises(PortalError):
            text.free_text(bad, "说明")


# --- the feature services ------------------------------------------------------------------


@pytest.fixture
def people(demo_db):
    cadre = accounts.find_user(demo_db, "10010001")
    student = accounts.find_user(demo_db, "2023000004")
    open_day = demo_db.execute(
        "SELECT date FROM duty_days WHERE status = 'scheduled' AND date > '2026-11-25' ORDER BY date LIMIT 1"
    ).fetchone()[0]
    return {
        "cadre": cadre,
        "student": student,
        "day": dt.date.fromisoformat(open_day),
        "dangban": accounts.find_user(demo_db, "dangban"),
    }


def _activity(people, **changes):
    base = dict(
        cadre_id=people["cadre"].person_id,
        system="听课",
        subtype="听课",
        date=dt.date(2026, 11, 20),
        place="教学楼",
        content="随堂听课",
    )
    return activities.ActivityInput(**{**base, **changes})


def _booking(people, **changes):
    base = dict(
        date=people["day"], slot="08:30", category="教学", subject="教室投影仪故障", phone="13800138000"
    )
    return bookings.BookingInput(**{**base, **changes})


BAD_ACTIVITIES = [
    *({"content": v} for v in hostile.BAD_FREE_TEXT),
    *({"place": v} for v in hostile.BAD_FREE_TEXT[:5]),
    *({"opinions": [v]} for v in hostile.BAD_FREE_TEXT[:5]),
    {"date": dt.date(2026, 11, 25)},  # tomorrow: no dates in the future
    {"date": dt.date(1900, 1, 1)},
    {"system": "喝茶"},
    {"subtype": "打牌"},
    {"system": "讲思政课", "subtype": "思政课授课", "hours": 0},
    {"system": "讲思政课", "subtype": "思政课授课", "hours": 9},
    {"system": "讲思政课", "subtype": "思政课授课", "hours": -1},
    {"system": "联系高层次人才", "subtype": "走访", "target_codes": ["NOT-MY-TALENT"]},
    {"system": "谈心谈话", "subtype": "谈心谈话", "target_codes": ["99999999"]},
    {"opinions": ["好"] * 100},
]


@pytest.mark.parametrize("changes", BAD_ACTIVITIES, ids=range(len(BAD_ACTIVITIES)))
def test_bad_activities(demo_db, people, changes):
    assert_refused(
        demo_db, activity_recording.log_activity, demo_db, _activity(people, **changes), people["cadre"]
    )


BAD_BOOKINGS = [
    *({"subject": v} for v in [*hostile.BAD_FREE_TEXT, "", "   "]),
    *({"description": v} for v in hostile.BAD_FREE_TEXT[:5]),
    *({"phone": v} for v in hostile.BAD_PHONES),
    {"date": dt.date(2026, 12, 3)},  # a Thursday: no reception
    {"date": dt.date(2026, 10, 7)},  # National Day week: no reception
    {"date": dt.date(2020, 1, 1)},
    {"slot": "25:00"},
    {"slot": "08:31"},
    {"slot": "<script>"},
    {"category": "私事"},
    {"group_size": 0},
    {"group_size": 4},
    {"group_size": -3},
]


@pytest.mark.parametrize("changes", BAD_BOOKINGS, ids=range(len(BAD_BOOKINGS)))
def test_bad_bookings(demo_db, people, changes):
    now = dt.datetime.combine(people["day"] - dt.timedelta(days=3), dt.time(10), tzinfo=dates.TZ)
    assert_refused(demo_db, bookings.book, demo_db, people["student"], _booking(people, **changes), now=now)


@pytest.mark.parametrize(
    "value", [*hostile.BAD_FREE_TEXT, "", "  "], ids=range(len(hostile.BAD_FREE_TEXT) + 2)
)
def test_bad_case_text(demo_db, people, value):
    assert_refused(
        demo_db,
        case_opening.open_case,
        demo_db,
        source="other",
        content=value,
        responsible_dept="党办",
        contact_date=dt.date(2026, 11, 20),
    )
    open_case = demo_db.execute(
        "SELECT id FROM cases WHERE responsible_dept = '党办' AND state IN ('registered', 'referred', 'in_progress') "
        "LIMIT 1"
    ).fetchone()[0]
    assert_refused(demo_db, case_actions.answer, demo_db, open_case, value, people["dangban"])


def test_bad_case_fields(demo_db):
    for kwargs in [
        {"responsible_dept": "食堂"},
        {"source": "gossip"},
    ]:
        base = dict(
            source="other", content="意见", responsible_dept="党办", contact_date=dt.date(2026, 11, 20)
        )
        assert_refused(demo_db, case_opening.open_case, demo_db, **{**base, **kwargs})
