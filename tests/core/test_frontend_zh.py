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


def test_what_a_screen_reader_or_a_pointer_meets_is_chinese_too():
    """Tooltips, menus and the labels a screen reader speaks, as the tour found them in English."""
    files = frontend_zh.patched()

    def source(name: str) -> str:
        return "\n".join(body.decode("utf-8") for n, body in files.items() if n.startswith(name + "."))

    english = {
        "index": ["`Skip to main content`", '"aria-label":`Expand sidebar`', '"aria-label":`Collapse sidebar`',
                  '"aria-label":`Close`', '"aria-label":`App pages`', '"aria-label":`Sidebar`'],
        "DataFrame": ["label:`Show/hide columns`", "label:`Search`", "`Close Search`"],
        "Toolbar": ["label:`Fullscreen`", "`Close fullscreen`"],
        "ArrowVegaLiteChart": ["`Show data`", "`Download as PNG`", "`Copy Vega-Lite spec`"],
        "NumberInput": ['"aria-label":`Increment`', '"aria-label":`Decrement`'],
        "DateInput": ["`Choose date`", "locale:`en-US`", "`Use arrow keys to navigate dates."],
        "Selectbox": ['"aria-label":`Open`', "locale:`en-US`"],  # react-aria: "3 options available"
        "Multiselect": ['"aria-label":`Open`', "locale:`en-US`", "`Select all`"],
        "TextInput": ["`Show password`", "`Hide password`"],
        "StreamlitMarkdown": ["`Link to heading`"],
        "utils": ["`${e.toFixed(n)}${t.toUpperCase()}`"],  # the uploader's 206.0B
    }  # fmt: skip
    for name, strings in english.items():
        text = source(name)
        assert text, name
        for s in strings:
            assert s not in text, f"{name}: {s}"
    assert "跳到主要内容" in source("index") and "显示/隐藏列" in source("DataFrame")
    assert "`年月日`" in source("ReorderedSegments")  # a date field reads 2026年12月6日


def test_the_sidebar_menu_is_a_set_of_lists_a_screen_reader_can_count():
    index = next(body.decode() for n, body in frontend_zh.patched().items() if n.startswith("index."))
    assert 'role:`none`,"data-testid":`stSidebarNavItems`' in index
    assert 'role:`list`,"aria-label":e||void 0' in index


def _served(app, path: str, headers: list | None = None) -> tuple[dict, bytes]:
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "headers": headers or [], "query_string": b""}
    asyncio.run(app(scope, None, send))
    return sent[0], b"".join(m.get("body", b"") for m in sent[1:])


def test_the_shell_is_served_in_chinese_with_the_portals_stylesheet():
    from portal import shell

    shell_page = (frontend_zh.JS_DIR.parent.parent / "index.html").read_text(encoding="utf-8")
    asked: list[dict] = []

    async def streamlit(scope, receive, send):
        asked.append(dict(scope["headers"]))
        body = shell_page.encode() if scope["path"] != "/api/v1/x" else b"{}"
        kind = b"text/html; charset=utf-8" if scope["path"] != "/api/v1/x" else b"application/json"
        headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode()), (b"etag", b'"1"')]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    app = server.ChineseFrontend(streamlit)
    browser = [(b"accept", b"text/html,application/xhtml+xml"), (b"accept-encoding", b"gzip")]
    start, body = _served(app, "/cases", browser)
    page = body.decode()
    assert '<html lang="zh-CN">' in page and "<title>联系师生服务平台</title>" in page
    assert "Streamlit</title>" not in page and "You need to enable JavaScript" not in page
    assert f'<link rel="stylesheet" href="{shell.stylesheet_path()}">' in page
    assert dict(start["headers"])[b"content-length"] == str(len(body)).encode()
    assert b"accept-encoding" not in asked[0]  # asked uncompressed, to be read
    start, body = _served(app, shell.stylesheet_path())
    assert start["status"] == 200 and dict(start["headers"])[b"content-type"].startswith(b"text/css")
    assert b"min-height: 44px" in body
    _, body = _served(app, "/api/v1/x", browser)  # not the shell: passed as it came
    assert body == b"{}"
