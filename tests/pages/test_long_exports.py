"""Long work shows its progress: the whole university's 工作台账 and the zip of record forms are
built behind 生成 in the background, with a progress bar and the time left, and then offered for
download; a second 生成 while one builds starts no second build (AppTest: the page as it runs)."""

from __future__ import annotations

import threading
import time

import pytest

from portal import builds, ledger, record_form
from tests.conftest import goto, login


@pytest.fixture
def slowed(monkeypatch):
    """The real build, held at its first progress report until ``release`` is set; counts builds."""
    release = threading.Event()
    started: list[str] = []

    def hold(real, name):
        def slowed_down(*args, progress=None, **kwargs):
            started.append(name)

            def report(done, total):
                if progress:
                    progress(done, total)
                release.wait(30)

            return real(*args, progress=report, **kwargs)

        return slowed_down

    monkeypatch.setattr(ledger, "export_xlsx", hold(ledger.export_xlsx, "ledger"))
    monkeypatch.setattr(record_form, "export_forms", hold(record_form.export_forms, "forms"))
    yield release, started
    release.set()


def of(username: str, name: str) -> list[builds.Build]:
    from portal import accounts
    from portal.db import open_db

    with open_db() as db:
        owner = accounts.find_user(db, username).id
    return [b for b in builds.of(owner) if b.key[0] == name]


def running(username: str, name: str) -> list[builds.Build]:
    return [b for b in of(username, name) if b.running]


def finish(username: str, name: str) -> None:
    deadline = time.monotonic() + 60
    while running(username, name) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(username, name)


def progress_text(at, username: str, name: str) -> str:
    """The progress bar's text once the build has reported how far it is (the page, run again, as
    its fragment does every second)."""
    deadline = time.monotonic() + 30
    while not any(b.total for b in running(username, name)) and time.monotonic() < deadline:
        time.sleep(0.05)
    at.run()
    return " ".join(p.proto.text for p in at.get("progress"))


def test_the_whole_universitys_ledger_builds_behind_a_progress_bar_once(demo_db, slowed):
    release, started = slowed
    at = login("admin")
    goto(at, "pages/ledger.py").run()
    assert not at.selectbox(key="l_dept").value  # 全校（全部制度）
    assert not at.get("download_button")  # nothing built on a page view
    other_tab = goto(login("admin"), "pages/ledger.py").run()  # shown before the build started
    at.button(key="build_ledger").click().run()
    assert not at.exception, at.exception
    text = progress_text(at, "admin", "ledger")
    assert "正在生成：已完成" in text and "/" in text, text  # a bar and what is done, not a spinner
    assert at.button(key="build_ledger").disabled  # no second build from here …
    other_tab.button(key="build_ledger").click().run()  # … nor from a tab that showed it enabled
    assert not other_tab.exception, other_tab.exception
    assert "正在生成" in " ".join(p.proto.text for p in other_tab.get("progress"))  # the same build
    assert started == ["ledger"] and len(running("admin", "ledger")) == 1
    release.set()
    finish("admin", "ledger")
    at.run()
    assert not at.get("progress")
    download = at.get("download_button")
    assert [d.proto.label for d in download] == ["下载 Excel 台账"]
    assert not at.button(key="build_ledger").disabled


def test_the_record_forms_zip_builds_behind_a_progress_bar_once(demo_db, slowed):
    release, started = slowed
    at = login("jiaowu")
    goto(at, "pages/activities.py").run()
    at.date_input(key="f_since").set_value(at.date_input(key="f_until").value).run()  # today's only
    other_tab = goto(login("jiaowu"), "pages/activities.py").run()
    other_tab.date_input(key="f_since").set_value(other_tab.date_input(key="f_until").value).run()
    at.button(key="build_forms").click().run()
    assert not at.exception, at.exception
    text = progress_text(at, "jiaowu", "forms")
    assert "正在生成：已完成" in text and "/" in text and "约还需" in text, text
    other_tab.button(key="build_forms").click().run()
    at.checkbox(key="f_voided").check().run()  # working elsewhere on the page does not stop it
    assert started == ["forms"] and len(running("jiaowu", "forms")) == 1
    release.set()
    finish("jiaowu", "forms")
    at.run()
    assert [d.proto.label for d in at.get("download_button") if "压缩包" in d.proto.label] == ["下载压缩包"]


def test_what_the_build_made_is_the_real_workbook(demo_db):
    at = login("jiaowu")
    goto(at, "pages/ledger.py").run()
    at.button(key="build_ledger").click().run()
    finish("jiaowu", "ledger")
    at.run()
    built = of("jiaowu", "ledger")[-1]
    assert built.error is None and built.read()[:2] == b"PK"  # the workbook, as the old button gave it
    assert built.done == built.total > 0


def test_a_background_export_is_audited_when_it_is_asked_for(demo_db):
    """The 工作台账 and the record forms name the people contacted: asking for either is in 操作日志
    (who, which file), as every other export of personal data is."""
    from portal import audit

    at = login("jiaowu")
    goto(at, "pages/ledger.py").run()
    at.button(key="build_ledger").click().run()
    finish("jiaowu", "ledger")
    entries = [e for e in audit.search(demo_db, limit=20).entries if e.action == "ledger.export"]
    assert len(entries) == 1 and entries[0].actor.startswith("jiaowu"), entries
    assert entries[0].detail.startswith("工作台账-") and entries[0].detail.endswith(".xlsx")
    assert entries[0].label == "导出工作台账"
