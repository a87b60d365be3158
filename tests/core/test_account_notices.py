"""账号开通通知 (issue 20 item 9): new accounts and their initial passwords as files for the administrator
who opened them — a list (.xlsx) and a printable notice per person (.docx, PDF with LibreOffice) — and
initial passwords without the characters people confuse on paper."""

from __future__ import annotations

import io

import pytest
from docx import Document
from openpyxl import load_workbook

from portal import account_notices, accounts, imports, passwords, record_form
from portal.account_notices import NewAccount

OPENED = [
    NewAccount("2026000001", "王小明", "Ab3dEf5hJk7m", "师生"),
    NewAccount("2026000002", '=HYPERLINK("http://evil")<李>&', "Xy2zQw3eRt4y", "部门（教务处）"),
]


def test_generated_passwords_avoid_ambiguous_characters():
    made = [passwords.generate_password() for _ in range(2000)]
    assert not set("".join(made)) & set("0Oo1Il")
    assert all(len(p) == 12 for p in made)
    for p in made[:50]:
        passwords.check_password_strength(p)  # letters and digits: the rule holds


def test_the_list_holds_every_account_and_password_as_text():
    book = load_workbook(io.BytesIO(account_notices.workbook(OPENED, "系统管理员")))
    rows = [
        [c.value for c in row]
        for row in book.active.iter_rows()
        if row[0].value in {a.username for a in OPENED}
    ]
    assert [r[3] for r in rows] == [a.password for a in OPENED]
    cell = next(row[1] for row in book.active.iter_rows() if row[0].value == "2026000002")
    assert cell.data_type == "s"  # a name that looks like a formula stays text


def test_a_notice_per_person_one_page_each_with_user_text_as_text():
    document = Document(io.BytesIO(account_notices.notices(OPENED)))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    assert text.count(account_notices.TITLE) == 2 and len(document.tables) == 2
    assert "王小明：" in text and '=HYPERLINK("http://evil")<李>&：' in text  # shown as typed
    assert all(a.password in cells and a.username in cells for a in OPENED)
    breaks = document.element.body.xml.count('w:type="page"')
    assert breaks == 1  # one page each


@pytest.mark.skipif(record_form.soffice() is None, reason="LibreOffice is not installed")
def test_the_notices_as_pdf_with_libreoffice():
    pdf = account_notices.notices_pdf(account_notices.notices(OPENED[:1]))
    assert pdf is not None and pdf.startswith(b"%PDF")


def test_an_account_import_names_what_it_opened(db):
    imports.run_import(db, "units", "u.csv", "单位名称,单位类型\n教务处,部门\n".encode())
    report = imports.run_import(
        db, "accounts", "a.csv", "工号,姓名,角色,部门\ns1,甲同学,师生,\nd1,乙老师,部门,教务处\n".encode()
    )
    assert [(a.username, a.name, a.roles) for a in report.opened] == [
        ("s1", "甲同学", "师生"),
        ("d1", "乙老师", "部门（教务处）"),
    ]
    assert all(accounts.authenticate(db, a.username, a.password) for a in report.opened)
    assert report.secrets == [(a.username, a.password) for a in report.opened]
