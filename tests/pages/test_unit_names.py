"""The policy's unit names on the installation's units (issue 11 item 5): 研工部 → 研究生院 when merged."""

from portal import accounts, imports, org, overview, quota, unit_names
from tests.conftest import goto, login

UNITS = "单位名称,单位类型\n校领导班子,部门\n研究生院,部门\n党委办公室,部门\n学生处,部门\n"
CADRES = (
    "工号,姓名,单位,职务,级别,标签,任职开始\n"
    "10010001,孙院长,研究生院,研究生院院长,正处,principal,2020-01-01\n"
)


def load(db, kind, text):
    return imports.run_import(db, kind, f"{kind}.csv", text.encode())


def rules_of(db, staff_no):
    import datetime as dt

    person = org.person_by_staff_no(db, staff_no)
    return {r.id for r in quota.applicable_rules(db, dt.date(2026, 11, 24))[person.id]}


def test_graduate_work_resolves_to_the_graduate_school_when_no_such_department(db):
    load(db, "units", UNITS)
    load(db, "cadres", CADRES)
    mapping = unit_names.resolve(db)
    assert mapping["研工部"].unit_name == "研究生院" and mapping["研工部"].how == "fallback"
    assert mapping["党办"].unit_name == "党委办公室" and mapping["学工部"].unit_name == "学生处"
    # the 研究生院 principal carries 研工部's duty: a student symposium each semester (第十九条)
    assert "symposium.students_base" in rules_of(db, "10010001")


def test_a_real_graduate_work_department_takes_the_name(db):
    load(db, "units", UNITS + "研究生工作部,部门\n")
    load(db, "cadres", CADRES)
    assert unit_names.resolve(db)["研工部"].unit_name == "研究生工作部"
    assert "symposium.students_base" not in rules_of(db, "10010001")


def test_admin_mapping_and_the_home_page_check(db):
    load(db, "units", UNITS)
    load(db, "cadres", CADRES)
    admin = accounts.create_user(db, "root", "管理员", "Admin12345", [accounts.Role(role="admin")])
    missing = unit_names.unmapped(db)
    assert "研工部" not in missing and "宣传部" in missing
    reminder = next(r for r in overview.reminders(db, admin) if "单位名称" in r.text)
    assert "宣传部" in reminder.text and reminder.page == "pages/org_people.py"
    # the administrator says where 宣传部 is, or that there is none here
    xuan = org.save_unit(db, "党委宣传部（新闻中心）", "department")[0]
    unit_names.set_mapping(db, "宣传部", xuan.id, admin.id)
    assert unit_names.resolve(db)["宣传部"].unit_name == "党委宣传部（新闻中心）"
    for name in unit_names.unmapped(db):
        unit_names.set_mapping(db, name, None, admin.id)
    assert unit_names.unmapped(db) == []
    assert not [r for r in overview.reminders(db, admin) if "单位名称" in r.text]
    unit_names.clear_mapping(db, "宣传部", admin.id)
    assert unit_names.resolve(db)["宣传部"].how == "missing"


def test_the_mapping_is_visible_and_editable_on_the_org_page(demo_db):
    at = login("admin")
    goto(at, "pages/org_people.py").run()
    assert not at.exception
    assert any("政策单位名称" in t.label for t in at.tabs)
    table = next(d.value for d in at.dataframe if "对应方式" in d.value.columns)
    assert "研工部" in list(table["政策中的名称"])
    at.selectbox(key="policy_name_choice").select("研工部")
    unit = next(u for u in org.list_units(demo_db) if u.name == "研究生院")
    at.selectbox(key="policy_name_unit").select(unit.id)
    next(b for b in at.button if b.label == "保存对应").click().run()
    assert not at.exception
    assert unit_names.resolve(demo_db)["研工部"].how == "admin"
