"""我的账号 → 我的数据 (a copy of one's own data, served to oneself only) and 账号管理 → 更正个人信息
(issue 19 item 24), through the pages."""

from __future__ import annotations

import io
import json
import zipfile

from portal import accounts, downloads
from tests.conftest import goto, login, texts

RAISER = "2023000016"


def test_a_student_downloads_a_copy_of_his_own_data_which_only_he_may_fetch(demo_db):
    at = goto(login(RAISER), "pages/account.py").run()
    assert "我的数据" in texts(at) and not [b for b in at.get("download_button")]
    next(b for b in at.button if b.label == "生成我的数据副本").click().run()
    assert not at.exception, at.exception
    assert [b.proto.label for b in at.get("download_button")] == ["下载我的数据（.zip）"]
    data = at.session_state["my_data"]
    user, other = accounts.find_user(demo_db, RAISER), accounts.find_user(demo_db, "2023000001")
    assert downloads.may_fetch(user.id, data) and not downloads.may_fetch(other.id, data)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        account = json.loads(z.read("json/account.json"))
    assert account["rows"][0]["username"] == RAISER
    assert (
        demo_db.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'personal_data.export' AND user_id = ?", [user.id]
        ).fetchone()[0]
        == 1
    )


def _correcting(username: str):
    at = goto(login("admin"), "pages/admin_users.py").run()
    at.text_input(key="user_search").input(username).run()
    next(s for s in at.selectbox if s.label == "账号").select(username).run()
    assert not at.exception, at.exception
    return at


def test_an_administrator_corrects_a_persons_details_on_the_accounts_page(demo_db):
    user = accounts.find_user(demo_db, RAISER)
    at = _correcting(RAISER)
    box = at.text_input(key=f"fix_phone_{user.id}")
    assert box.value == "" and "****" in (box.placeholder or "")  # the number only masked, even here
    box.input("13912345678")
    at.text_input(key=f"fix_name_{user.id}").input("张晓明")
    next(b for b in at.button if b.label == "保存更正").click().run()
    assert not at.exception, at.exception
    assert "更正原因不能为空" in texts(at)  # nothing saved without a reason
    assert demo_db.execute("SELECT name FROM people WHERE id = ?", [user.person_id]).fetchone()[0] != "张晓明"
    at.text_input(key=f"fix_reason_{user.id}").input("本人来电申请更正")
    next(b for b in at.button if b.label == "保存更正").click().run()
    assert "个人信息已更正" in texts(at)
    row = demo_db.execute("SELECT name, phone FROM people WHERE id = ?", [user.person_id]).fetchone()
    assert tuple(row) == ("张晓明", "13912345678")
    detail = demo_db.execute(
        "SELECT detail FROM audit_log WHERE action = 'personal_data.correct' ORDER BY id DESC"
    ).fetchone()[0]
    assert "139****5678" in detail and "13912345678" not in detail and "本人来电申请更正" in detail
