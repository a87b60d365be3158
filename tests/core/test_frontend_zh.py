"""Streamlit's hard-coded English is served in Chinese (portal/frontend_zh.py)."""

from __future__ import annotations

import asyncio
import re

from portal import frontend_zh, server


def test_every_replacement_matches_the_installed_streamlit():
    assert frontend_zh.check() == []  # an upgrade that moved a string shows up here


def test_the_translated_files_hold_no_english_defaults():
    files = frontend_zh.patched()
    assert {re.sub(r"\..*", "", name) for name in files} == {r.file for r in frontend_zh.REPLACEMENTS}
    text = "\n".join(body.decode("utf-8") for body in files.values())
    for english in ("Drag and drop", "per file`", "`Upload`", "displayData:`empty`", "children:`empty`", "Choose an option", "View less",
                    "Page not found", "Press Enter to", "`No results`", "label:`Select all`", "matches`", "`Add: "):  # fmt: skip
        assert english not in text, english
    for chinese in (
        "选择文件",
        "每个文件不超过",
        "（无数据）",
        "请选择",
        "收起",
        "页面不存在",
        "按回车键",
        "全选",
    ):
        assert chinese in text, chinese


def test_the_server_serves_them_in_front_of_streamlits_own():
    name = next(n for n in frontend_zh.patched() if n.startswith("FileUploader."))
    sent: list[dict] = []
    passed: list[str] = []

    async def streamlit(scope, receive, send):
        passed.append(scope["path"])

    async def send(message):
        sent.append(message)

    app = server.ChineseFrontend(streamlit)
    for path in (f"/static/js/{name}", "/static/js/other.js", "/admin_users"):
        asyncio.run(app({"type": "http", "method": "GET", "path": path, "headers": []}, None, send))
    assert passed == ["/static/js/other.js", "/admin_users"]
    start, body = sent
    assert start["status"] == 200 and (b"content-type", b"text/javascript; charset=utf-8") in start["headers"]
    assert "选择文件" in body["body"].decode() and "`Upload`" not in body["body"].decode()


def test_the_pages_own_fonts_load_before_login_while_downloads_need_a_session():
    """/static/media/ holds Streamlit's fonts (icons and text): a login page without them shows icon
    names as words. /media/ holds downloads: those need a session (portal.server.SessionGate)."""
    answers: dict[str, int] = {}

    async def streamlit(scope, receive, send):
        answers[scope["path"]] = 200

    def send_for(path):
        async def send(message):
            if message["type"] == "http.response.start":
                answers[path] = message["status"]

        return send

    gate = server.SessionGate(streamlit)
    for path in ("/static/media/MaterialSymbolsRounded.woff2", "/media/abc.docx"):
        scope = {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""}
        asyncio.run(gate(scope, None, send_for(path)))
    assert answers == {"/static/media/MaterialSymbolsRounded.woff2": 200, "/media/abc.docx": 403}
