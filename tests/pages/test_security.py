"""Security properties that hold for the whole code base, not one feature."""

from __future__ import annotations

import ast
import re
import subprocess
import tomllib

from argon2 import PasswordHasher
from argon2.exceptions import Argon2Error

from portal.demo import DEMO_PASSWORD
from portal.server import SERVER_CONFIG
from tests.conftest import ROOT, goto, login, texts


def test_hardened_streamlit_configuration():
    assert SERVER_CONFIG["server.enableXsrfProtection"] is True
    assert SERVER_CONFIG["browser.gatherUsageStats"] is False
    assert SERVER_CONFIG["client.showErrorDetails"] == "none"
    assert SERVER_CONFIG["server.maxUploadSize"] <= 10
    toml = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert toml["server"]["enableXsrfProtection"] is True
    assert toml["browser"]["gatherUsageStats"] is False
    assert toml["client"]["showErrorDetails"] == "none"
    # CSV injection: no table toolbar download (tests/browser/test_table_export_browser.py)
    assert SERVER_CONFIG["client.disableDataExport"] is True
    assert toml["client"]["disableDataExport"] is True
    # a full collection after every page run cost ≈ 50 ms of CPU (bench/rush_bench.py)
    assert SERVER_CONFIG["runner.postScriptGC"] is False and toml["runner"]["postScriptGC"] is False


def _ui_sources():
    yield from sorted((ROOT / "pages").glob("*.py"))  # the entry script (pages/main.py) among them


def test_no_page_renders_html():
    """No unsafe_allow_html, no st.html, and st.iframe only with the constant login script of pages/common.py."""
    offenders = []
    for path in _ui_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            allowed = isinstance(getattr(node, "value", None), ast.Constant) and node.value.value is False
            if isinstance(node, ast.keyword) and node.arg == "unsafe_allow_html" and not allowed:
                offenders.append(f"{path.name}:{node.value.lineno} unsafe_allow_html")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr == "html":
                    offenders.append(f"{path.name}:{node.lineno} st.html")
                if node.func.attr == "iframe" and path.name != "common.py":
                    offenders.append(f"{path.name}:{node.lineno} st.iframe")
    assert not offenders, offenders


def test_no_secret_in_the_repository():
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    patterns = [
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
        re.compile(
            r"(?i)(secret_key|client_secret|cookie_secret|smtp_password)\s*=\s*[\"'][^\"'<…]{8,}[\"']"
        ),
    ]
    # a stored password hash, unless it is the hash of the published demo password (the database of
    # an earlier release in tests/fixtures/, whose demo accounts must still log in after an upgrade)
    password_hash = re.compile(r"\$argon2id\$v=\d+\$m=\d+(,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+)?")
    demo_hashes: dict[str, bool] = {}

    def is_demo(found: str) -> bool:
        if found not in demo_hashes:
            try:
                demo_hashes[found] = PasswordHasher().verify(found, DEMO_PASSWORD)
            except (Argon2Error, ValueError):  # a mismatch, or no whole hash
                demo_hashes[found] = False
        return demo_hashes[found]

    leaks = []
    for name in files:
        path = ROOT / name
        if not path.is_file() or path.suffix in {".docx", ".xlsx", ".png", ".pdf"}:
            continue
        body = path.read_text(encoding="utf-8", errors="ignore")
        leaks += [f"{name}: {p.pattern}" for p in patterns if p.search(body)]
        hashes = {m.group(0) for m in password_hash.finditer(body)}
        leaks += [f"{name}: a stored password hash" for h in hashes if not is_demo(h)]
    assert not leaks, leaks
    ignored = (ROOT / ".gitignore").read_text()
    assert ".streamlit/secrets.toml" in ignored and "db/*.sqlite3" in ignored


def test_uploads_are_limited_in_size_and_type(demo_db, monkeypatch):
    at = login("admin")
    goto(at, "pages/admin_import.py").run()
    monkeypatch.setenv("PORTAL_MAX_UPLOAD_BYTES", "1024")
    at.file_uploader[0].upload(
        "units.csv", ("单位名称,单位类型\n" + "甲学院,学院\n" * 200).encode(), "text/csv"
    ).run()
    assert "文件过大" in texts(at)
    assert demo_db.execute("SELECT count(*) FROM units WHERE name = '甲学院'").fetchone()[0] == 0
    source = (ROOT / "pages" / "admin_import.py").read_text(encoding="utf-8")
    assert 'type=["csv", "txt", "xlsx"]' in source  # .txt: Excel's "Unicode 文本"


def test_services_refuse_oversized_files_whatever_calls_them(demo_db, monkeypatch):
    import pytest

    from portal import imports, rulesets, workdays
    from portal.errors import PortalError

    monkeypatch.setenv("PORTAL_MAX_UPLOAD_BYTES", "1024")
    big = ("日期,类型,名称\n" + "2027-01-01,休息日,元旦\n" * 100).encode()
    with pytest.raises(PortalError, match="文件过大"):
        imports.run_import(
            demo_db, "units", "u.csv", ("单位名称,单位类型\n" + "甲学院,学院\n" * 200).encode()
        )
    with pytest.raises(PortalError, match="过大"):
        workdays.load_year(demo_db, 2027, None, filename="2027.csv", data=big)
    with pytest.raises(PortalError, match="过大"):
        rulesets.parse_rule_file(b"#" * (rulesets.MAX_FILE_BYTES + 1))


def test_user_text_in_markdown_elements_is_escaped():
    """common.md escapes every markdown character, so user text cannot become a link, an image,
    emphasis, code or a heading when shown in st.caption / st.info / st.error."""
    from pages.common import md

    hostile = "[点我](javascript:alert(1)) ![x](http://evil/x.png) **粗** <b>x</b> `code` # 标题\n第二行"
    escaped = md(hostile)
    unescaped = re.sub(r"\\.", "", escaped)  # drop every backslash-escaped character
    assert not re.search(r"[\[\]()!*`<>#_]", unescaped), unescaped
    assert escaped.replace("\\", "").replace("  \n", "\n") == hostile


USER_TEXT_FIELDS = {
    "void_reason",
    "content",
    "subject",
    "description",
    "answer",
    "note",
    "reason",
    "display_name",
    "name",
    "opinions",
    "followup",
    "participants",
    "counterpart_text",
    "raiser_name",
    "place",
    "issue",
}
MARKDOWN_ELEMENTS = {
    "markdown",
    "write",
    "caption",
    "info",
    "warning",
    "success",
    "error",
    "subheader",
    "header",
    "title",
    "toast",
    "expander",
    "tabs",
}


def test_user_text_goes_through_md_in_markdown_elements():
    """An f-string shown by an element that renders markdown must pass user-written fields through
    common.md(); st.text / st.dataframe / st.code show text as it is and need nothing."""
    offenders = []
    for path in _ui_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in ast.walk(tree):
            if not (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr in MARKDOWN_ELEMENTS
                and call.args
            ):
                continue
            for fstring in (n for n in ast.walk(call.args[0]) if isinstance(n, ast.JoinedStr)):
                for part in fstring.values:
                    if not isinstance(part, ast.FormattedValue):
                        continue
                    value = part.value
                    wrapped = isinstance(value, ast.Call) and getattr(value.func, "attr", "") == "md"
                    field = value.attr if isinstance(value, ast.Attribute) else None
                    if field in USER_TEXT_FIELDS and not wrapped:
                        offenders.append(f"{path.name}:{call.lineno} {field}")
    assert not offenders, offenders
