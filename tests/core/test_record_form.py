"""The official record form: the template's layout, values (hostile text included), batch export."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from click.testing import CliRunner
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm

from portal import accounts, activities, activity_recording, org, record_form, record_template
from portal.activities import ActivityInput
from portal.cli import cli

HOSTILE = {
    "place": '会议室 <script>alert("x")</script> & 101',
    "content": "第一行：a < b && c > d\n第二行 \"引号\" '单引号' {{ name }} {% if %}\n\t缩进一格",
    "opinions": ["希望 <b>加粗</b> & 改进", "第二条\n换行"],
    "followup": "]]><!-- 注释 --> &amp; 原样",
    "counterpart_text": "学生代表 <12 人>",
}


def docx_of(data: bytes):
    return Document(io.BytesIO(data))


def cells(doc):
    table = doc.tables[0]
    return [[c.text for c in row.cells] for row in table.rows]


def test_committed_template_matches_the_script():
    built = zipfile.ZipFile(io.BytesIO(record_template.build_template()))
    committed = zipfile.ZipFile(record_template.TEMPLATE_PATH)
    assert sorted(built.namelist()) == sorted(committed.namelist())
    for name in built.namelist():
        assert built.read(name) == committed.read(name), f"{name} differs: run `portal forms template`"


def test_template_is_the_attachment_on_a4_with_east_asian_fonts():
    doc = Document(record_template.TEMPLATE_PATH)
    section = doc.sections[0]
    assert (round(section.page_width / Cm(1), 1), round(section.page_height / Cm(1), 1)) == (21.0, 29.7)
    assert doc.paragraphs[0].text == "领导干部联系师生工作记录表"
    normal_fonts = doc.styles["Normal"].element.rPr.rFonts
    assert normal_fonts.get(qn("w:eastAsia")) == "宋体"
    for paragraph in [
        doc.paragraphs[0],
        *[p for row in doc.tables[0].rows for c in row.cells for p in c.paragraphs],
    ]:
        for run in paragraph.runs:
            assert run._element.rPr.rFonts.get(qn("w:eastAsia")), run.text
    table = doc.tables[0]
    assert table.style.name == "Table Grid"  # bordered
    assert cells(doc) == [
        ["领导干部姓名", "{{ name }}", "职  务", "{{ post }}"],
        ["时  间", "{{ date }}", "地  点", "{{ place }}"],
        ["联系对象", *["{{ counterpart }}"] * 3],
        ["联系工作\n开展情况", *["{{ content }}"] * 3],
        ["联系对象反映的意见和建议", *["{{ opinions }}"] * 3],
        ["落实情况", *["{{ followup }}"] * 3],
    ]
    heights = [row.height for row in table.rows]
    assert all(h >= Cm(4) for h in heights[3:]) and heights[0] < Cm(2)  # the tall rows are tall


def hostile_activity(db):
    leader = accounts.find_user(db, "10000001")
    data = ActivityInput(
        cadre_id=leader.person_id,
        system="座谈",
        subtype="学生座谈",
        date=dt.date(2026, 11, 20),
        participants="宣传部 张三 & 学工部",
        **HOSTILE,
    )
    return activity_recording.log_activity(db, data, leader)


def test_form_shows_each_value_exactly_hostile_text_included(demo_db):
    saved = hostile_activity(demo_db)
    doc = docx_of(record_form.render_record_form(demo_db, saved.id))
    post = org.get_cadre(demo_db, saved.cadre_id).title_on(saved.date)
    assert post == "党委书记"
    assert cells(doc)[:2] == [
        ["领导干部姓名", saved.cadre_name, "职  务", "党委书记"],
        ["时  间", "2026年11月20日", "地  点", HOSTILE["place"]],
    ]
    rows = cells(doc)[2:]
    assert [r[0] for r in rows] == ["联系对象", "联系工作\n开展情况", "联系对象反映的意见和建议", "落实情况"]
    assert rows[0][1] == HOSTILE["counterpart_text"] + "\n参加人员：宣传部 张三 & 学工部"
    assert rows[1][1] == HOSTILE["content"]
    assert rows[2][1] == "1. 希望 <b>加粗</b> & 改进\n2. 第二条\n换行"
    assert rows[3][1] == HOSTILE["followup"]
    assert "记录人：" + saved.entered_by_name in doc.paragraphs[-1].text


def test_fast_rendering_has_the_same_content_as_a_fresh_docxtemplate(demo_db):
    saved = hostile_activity(demo_db)
    context = record_form.form_context(demo_db, activities.load_activity(demo_db, saved.id))
    fast = zipfile.ZipFile(io.BytesIO(record_form.FormRenderer().render(context)))
    fresh = zipfile.ZipFile(io.BytesIO(record_form.render_fresh(context)))
    assert fast.namelist() == fresh.namelist()
    for name in fresh.namelist():
        assert fast.read(name) == fresh.read(name), name


def test_batch_export_to_a_folder_and_a_zip_with_progress_and_scope(demo_db, tmp_path):
    jiaowu = accounts.find_user(demo_db, "jiaowu")
    seen = []
    result = record_form.export_forms(
        demo_db,
        jiaowu,
        tmp_path / "out",
        cadre="10010001",
        period="2025-2026",
        progress=lambda done, total: seen.append((done, total)),
    )
    expected = [
        a
        for a in activities.list_activities(
            demo_db, jiaowu, cadre_id=org.person_by_staff_no(demo_db, "10010001").id
        )
        if dt.date(2025, 9, 1) <= a.date <= dt.date(2026, 8, 31)
    ]
    assert result.count == len(expected) > 0
    assert seen[-1] == (result.count, result.count) and len(seen) == result.count
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == sorted(record_form.form_filename(a) for a in expected)
    first = expected[0]
    assert record_form.form_filename(first).startswith(
        f"{first.date.isoformat()}_{first.cadre_name}_{first.system}-"
    )
    assert {a.system for a in expected} <= {"听课", "讲思政课"}  # 教务处's systems only
    doc = Document(tmp_path / "out" / record_form.form_filename(first))
    assert cells(doc)[0][1] == first.cadre_name
    in_memory = record_form.export_forms(demo_db, jiaowu, None, system="听课", period="2026-11")
    names = zipfile.ZipFile(io.BytesIO(in_memory.data)).namelist()
    assert len(names) == in_memory.count > 0 and all(
        "_听课-" in n and n.startswith("2026-11-") for n in names
    )


def test_cli_export_writes_one_form_per_activity(demo_db, tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        cli, ["forms", "export", "--out", str(tmp_path / "f"), "--cadre", "10000001", "--system", "听课"]
    )
    assert result.exit_code == 0, result.output
    files = list((tmp_path / "f").glob("*.docx"))
    count = demo_db.execute(
        "SELECT count(*) FROM activities a JOIN people p ON p.id = a.cadre_id "
        "WHERE p.staff_no = '10000001' AND a.system = '听课' AND a.voided_at IS NULL"
    ).fetchone()[0]
    assert len(files) == count > 0 and f"{count} 份" in result.output
    bad = runner.invoke(cli, ["forms", "export", "--out", str(tmp_path / "g"), "--period", "2026-13"])
    assert bad.exit_code == 1 and "无法识别" in bad.output
