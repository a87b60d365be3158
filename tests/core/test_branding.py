"""The school's name, logo and colour are configuration (portal/branding.py, docs/configuration.md):
neutral when unset, checked when set, and at the head of the portal's own exported documents."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from portal import branding, config, server, sheets
from portal.settings import LOGO_MAX_BYTES, LOGO_MAX_SIDE, NEUTRAL_COLOR, SettingsError, contrast


def png(path: Path, size: int = 64) -> Path:
    from PIL import Image

    Image.new("RGB", (size, size), (166, 27, 41)).save(path, "PNG")
    return path


def test_unset_it_is_neutral():
    brand = branding.brand()
    assert brand.school == "" and brand.logo is None
    assert brand.title == "联系师生服务平台"
    assert brand.color == NEUTRAL_COLOR and contrast(brand.color, "#FFFFFF") >= 4.5
    assert brand.headed("2026年度考核") == "2026年度考核"
    assert server.theme() == {"theme.primaryColor": NEUTRAL_COLOR}


def test_set_it_names_the_school_everywhere(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_SCHOOL_NAME", " 河南理工大学 ")
    monkeypatch.setenv("PORTAL_SCHOOL_LOGO", str(png(tmp_path / "logo.png")))
    monkeypatch.setenv("PORTAL_SCHOOL_COLOR", "#a61b29")
    brand = branding.brand()
    assert brand.title == "河南理工大学联系师生服务平台" == server.site_title()
    assert brand.headed("工作台账") == "河南理工大学工作台账" == brand.headed("河南理工大学工作台账")
    assert brand.logo and brand.logo.startswith("data:image/png;base64,")  # no /media/ before login
    assert brand.color == "#A61B29" and server.theme()["theme.primaryColor"] == "#A61B29"
    assert "A61B29" in __import__("base64").b64decode(brand.favicon.split(",", 1)[1]).decode()


def test_the_first_page_a_browser_loads_has_the_schools_title_and_icon(monkeypatch):
    """Streamlit's shell says "Streamlit" with Streamlit's logo until the app has run."""
    from portal import shell

    monkeypatch.setenv("PORTAL_SCHOOL_NAME", "河南理工大学")
    monkeypatch.setenv("PORTAL_SCHOOL_COLOR", "#A61B29")
    streamlit_shell = (
        '<html lang="en"><head><title>Streamlit</title><link rel="shortcut icon" href="./favicon.png" />'
        '</head><body><noscript>You need to enable JavaScript</noscript><div id="root"></div></body></html>'
    )
    page = shell.patch(streamlit_shell, server.site_title(), server.site_icon())
    assert "<title>河南理工大学联系师生服务平台</title>" in page
    assert f'<link rel="shortcut icon" href="{branding.brand().favicon}" />' in page
    assert "favicon.png" not in page


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("PORTAL_SCHOOL_COLOR", "#FFD700", "对比度只有 1.4:1"),  # gold on white: unreadable
        ("PORTAL_SCHOOL_COLOR", "red", "#RRGGBB"),
        ("PORTAL_SCHOOL_NAME", "河南理工大学<script>", "一行文字"),
        ("PORTAL_SCHOOL_LOGO", "/no/such/logo.png", "读不到"),
    ],
)
def test_a_bad_value_is_refused_and_says_why(monkeypatch, variable, value, says):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as refused:
        config.settings()
    assert variable in refused.value.message and says in refused.value.message, refused.value.message


def test_a_logo_must_be_a_small_picture_without_script(monkeypatch, tmp_path):
    for name, body, says in [
        ("big.png", b"\x89PNG\r\n\x1a\n" + b"0" * (LOGO_MAX_BYTES + 1), "超过 256 KB"),
        ("logo.gif", b"GIF89a" + b"0" * 100, "PNG、JPEG 或 SVG"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "不能含脚本"),
        ("logo2.svg", b'<svg><foreignObject><iframe src="https://x"/></foreignObject></svg>', "不能含脚本"),
        # a web page that merely mentions <svg> is not a picture
        ("logo.html", b"<html><body><svg></svg><img src=x></body></html>", "PNG、JPEG 或 SVG"),
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 200, "已损坏"),
    ]:
        (tmp_path / name).write_bytes(body)
        monkeypatch.setenv("PORTAL_SCHOOL_LOGO", str(tmp_path / name))
        with pytest.raises(SettingsError, match=says):
            config.settings()
    monkeypatch.setenv("PORTAL_SCHOOL_LOGO", str(png(tmp_path / "huge.png", size=LOGO_MAX_SIDE + 1)))
    with pytest.raises(SettingsError, match="每边至多 2048 像素"):
        config.settings()
    for not_a_file in ("/dev/zero", str(tmp_path)):  # never read whole, never a hang at start
        monkeypatch.setenv("PORTAL_SCHOOL_LOGO", not_a_file)
        with pytest.raises(SettingsError, match="读不到"):
            config.settings()
    (tmp_path / "ok.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>')
    monkeypatch.setenv("PORTAL_SCHOOL_LOGO", str(tmp_path / "ok.svg"))
    assert branding.brand().logo.startswith("data:image/svg+xml;base64,")


def test_exported_workbooks_and_reports_are_headed_with_the_school(monkeypatch, demo_db):
    from docx import Document
    from openpyxl import load_workbook

    from portal import account_notices, assessment

    monkeypatch.setenv("PORTAL_SCHOOL_NAME", "河南理工大学")
    wb = sheets.new_workbook()
    ws = sheets.add_sheet(
        wb, "听课", "领导干部联系师生工作台账（听课）", [("日期", 12)], "2026年9月1日 至 2026年11月24日"
    )
    ws.append(["2026-11-24"])
    title = load_workbook(io.BytesIO(sheets.to_bytes(wb))).active["A1"].value
    assert title == "河南理工大学领导干部联系师生工作台账（听课）"

    result = assessment.assess(demo_db, 2026)
    report = Document(io.BytesIO(assessment.unit_report_docx(result, result.units[0].unit)))
    assert report.paragraphs[0].text == "河南理工大学2026年度领导干部联系师生工作考核情况"

    notice = Document(
        io.BytesIO(
            account_notices.notices([account_notices.NewAccount("30009999", "张三", "Abcd2345", "师生")])
        )
    )
    assert notice.paragraphs[0].text == "河南理工大学账号开通通知"
    assert any("河南理工大学联系师生服务平台" in p.text for p in notice.paragraphs)
