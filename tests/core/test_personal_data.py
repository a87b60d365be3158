"""A person's own data (PIPL Art. 45–46; issue 19 item 24): a copy of everything the portal holds
about the user — and nobody else's — as JSON and a readable workbook; an administrator corrects a
person's details with a reason, audited without full numbers."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import openpyxl
import pytest

from portal import accounts, audit, personal_corrections, personal_data
from portal.errors import PermissionDenied, ValidationError

RAISER = "2023000016"  # a student of the demo university with two bookings and a case he raised


def _unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def _section(files: dict[str, bytes], key: str) -> dict:
    return json.loads(files[f"json/{key}.json"])


def _all_text(files: dict[str, bytes]) -> str:
    parts = [files["README.txt"].decode()] + [v.decode() for k, v in files.items() if k.endswith(".json")]
    wb = openpyxl.load_workbook(io.BytesIO(files["我的数据.xlsx"]), read_only=True)
    for ws in wb.worksheets:
        parts += [str(c) for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    return "\n".join(parts)


def test_the_copy_holds_every_kind_of_record_about_the_user(demo_db):
    user = accounts.find_user(demo_db, RAISER)
    accounts.authenticate(demo_db, RAISER, "demo1234")  # a login, audited
    files = _unzip(personal_data.export(demo_db, user))
    assert {"README.txt", "我的数据.xlsx"} <= set(files)
    phone = demo_db.execute("SELECT phone FROM people WHERE id = ?", [user.person_id]).fetchone()[0]
    account = _section(files, "account")
    assert account["columns"]["phone"] == "手机号"
    assert account["rows"][0]["phone"] == phone and account["rows"][0]["staff_no"] == RAISER  # whole: his own
    held = demo_db.execute("SELECT code, phone FROM bookings WHERE user_id = ?", [user.id]).fetchall()
    assert {(r["code"], r["phone"]) for r in _section(files, "bookings")["rows"]} == set(held)
    numbers = [r[0] for r in demo_db.execute("SELECT number FROM cases WHERE raised_by = ?", [user.id])]
    assert numbers and [r["number"] for r in _section(files, "cases")["rows"]] == numbers
    answers = demo_db.execute(
        "SELECT body FROM case_answers a JOIN cases c ON c.id = a.case_id WHERE c.raised_by = ?", [user.id]
    ).fetchall()
    assert [r["body"] for r in _section(files, "answers")["rows"]] == [a[0] for a in answers]
    logins = _section(files, "logins")["rows"]
    assert any(r["action"] == "密码登录" and r["outcome"] == "成功" for r in logins)
    wb = openpyxl.load_workbook(io.BytesIO(files["我的数据.xlsx"]), read_only=True)
    assert {"账号与个人信息", "接待日预约", "我提出的意见建议", "登录与操作记录", "发给您的消息"} <= set(
        wb.sheetnames
    )
    readme = files["README.txt"].decode()
    assert RAISER in readme and "个人信息保护法" in readme and "接待日预约（2 条" in readme


def test_the_copy_holds_nothing_about_anyone_else(demo_db):
    """Not the other visitors of the same reception day (their names sit in the duty leader's record of
    the day), not their bookings, not their numbers."""
    user = accounts.find_user(demo_db, RAISER)
    text = _all_text(_unzip(personal_data.export(demo_db, user)))
    days = [r[0] for r in demo_db.execute("SELECT date FROM bookings WHERE user_id = ?", [user.id])]
    marks = ",".join("?" * len(days))
    others = demo_db.execute(
        f"SELECT b.code, b.phone, p.name FROM bookings b JOIN users u ON u.id = b.user_id "
        f"JOIN people p ON p.id = u.person_id WHERE b.date IN ({marks}) AND b.user_id != ?",
        [*days, user.id],
    ).fetchall()
    assert others
    for code, phone, name in others:
        assert code not in text and phone not in text and name not in text


def test_every_export_is_audited(demo_db):
    user = accounts.find_user(demo_db, RAISER)
    personal_data.export(demo_db, user)
    found = audit.search(demo_db, category="personal_data.").entries
    assert found and found[0].actor.startswith(RAISER) and found[0].label == "导出本人数据"


def test_an_administrator_corrects_a_persons_details_with_the_change_audited(demo_db):
    admin = accounts.find_user(demo_db, "admin")
    user = accounts.find_user(demo_db, RAISER)
    before = personal_corrections.details(demo_db, user.id)
    unit = demo_db.execute("SELECT id, name FROM units WHERE id != ? LIMIT 1", [before.unit_id]).fetchone()
    after = personal_corrections.correct(
        demo_db,
        admin,
        user.id,
        name="张晓明",
        phone="139 1234 5678",
        kind="教职工",
        unit_id=unit[0],
        reason="本人申请：转为教职工",
    )
    assert (after.name, after.phone_masked, after.kind, after.unit_id) == (
        "张晓明",
        "139****5678",
        "教职工",
        unit[0],
    )
    assert accounts.get_user(demo_db, user.id).display_name == "张晓明"
    stored = demo_db.execute("SELECT name, phone FROM people WHERE id = ?", [user.person_id]).fetchone()
    assert tuple(stored) == ("张晓明", "13912345678")
    entry = audit.search(demo_db, category="personal_data.").entries[0]
    assert entry.label == "更正个人信息" and entry.actor.startswith("admin")
    assert f"姓名 {before.name} → 张晓明" in entry.detail and "139****5678" in entry.detail
    assert "13912345678" not in entry.detail and "本人申请" in entry.detail and unit[1] in entry.detail


def test_a_correction_needs_an_administrator_a_reason_and_valid_values(demo_db):
    admin = accounts.find_user(demo_db, "admin")
    user = accounts.find_user(demo_db, RAISER)
    before = personal_corrections.details(demo_db, user.id)
    with pytest.raises(PermissionDenied):
        personal_corrections.correct(
            demo_db, accounts.find_user(demo_db, "dangban"), user.id, name="某", reason="x"
        )
    with pytest.raises(ValidationError) as refused:
        personal_corrections.correct(demo_db, admin, user.id, phone="12000000000", kind="校友", reason="")
    fields = {p.field for p in refused.value.problems}
    assert {"phone", "kind", "reason"} <= fields
    with pytest.raises(ValidationError, match="没有需要更正"):
        personal_corrections.correct(demo_db, admin, user.id, name=before.name, reason="核对")
    assert personal_corrections.details(demo_db, user.id) == before
    assert not audit.search(demo_db, category="personal_data.").entries


def test_docs_formats_lists_exactly_the_kinds_of_record_of_the_copy(demo_db):
    import re

    from portal import config

    doc = (config.ROOT / "docs" / "formats.md").read_text(encoding="utf-8")
    table = doc.split("<!-- personal-data -->", 1)[1].split("<!-- /personal-data -->", 1)[0]
    documented = re.findall(r"^\| `json/(\w+)\.json` \| (\S+) \|", table, re.M)
    cadre = accounts.find_user(demo_db, "10000001")  # a cadre: every kind, his own activities included
    made = [(s.key, s.title) for s in personal_data.collect(demo_db, cadre.id)]
    assert documented == made


def test_telephone_numbers_typed_into_reasons_are_masked_in_the_audit_log(demo_db):
    """A reason is free text: 更正原因 "本人来电 139 1234 5678 申请", 取消原因 "请回电 +86 138-0013-8000",
    "联系电话：0391-3987654". The audit log is kept for years and read by auditors: it held those
    numbers whole, where every list and export shows 139****5678."""
    from portal.reception import roster

    admin = accounts.find_user(demo_db, "admin")
    user = accounts.find_user(demo_db, RAISER)
    personal_corrections.correct(
        demo_db, admin, user.id, name="张晓明", reason="本人来电 139 1234 5678 申请，座机 0391-3987654"
    )
    day = roster.next_duty_day(demo_db, dt.date(2026, 11, 26))
    dangban = accounts.find_user(demo_db, "dangban")
    roster.cancel_day(
        demo_db,
        day.date,
        dangban,
        "校领导出差，有疑问请回电 +86 138-0013-8000 或 手机 一三七一二三四五六七八",
    )
    details = [e.detail for e in audit.search(demo_db, limit=20).entries]
    corrected = next(d for d in details if "申请" in d)
    cancelled = next(d for d in details if "出差" in d)
    assert "139****5678" in corrected and "0391" not in corrected.replace("***", ""), corrected
    assert "12345678" not in corrected.replace(" ", "") and "3987654" not in corrected, corrected
    assert "138****8000" in cancelled and "00138" not in cancelled.replace("-", ""), cancelled
    assert "一三七一二三四五六七八" not in cancelled and "137****5678" in cancelled, cancelled
    assert audit.verify(demo_db).broken_at is None  # the chain holds what was stored
