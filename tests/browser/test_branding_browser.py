"""The school's name, logo and colour as a browser shows them (PORTAL_SCHOOL_*): the browser's
title before and after the app runs, the logo on the login page, the accent colour of its button."""

from __future__ import annotations

import base64

from tests.browser import a11y
from tests.browser.conftest import _tab, login, running_server, settle
from tests.core.test_branding import png

SCHOOL = {"PORTAL_SCHOOL_NAME": "河南理工大学", "PORTAL_SCHOOL_COLOR": "#A61B29"}


def test_the_login_page_is_the_schools(browser, request, tmp_path):
    env = {**SCHOOL, "PORTAL_SCHOOL_LOGO": str(png(tmp_path / "logo.png"))}
    with running_server(tmp_path, extra_env=env) as server:
        page = next(
            _tab(browser, request, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        )
        response = page.goto(server["url"] + "/", wait_until="commit")
        shell = response.text()
        assert "<title>河南理工大学联系师生服务平台</title>" in shell  # before the app has run
        assert '<link rel="shortcut icon" href="data:image/svg+xml;base64,' in shell  # not Streamlit's
        page.get_by_role("button", name="登录").wait_for()
        settle(page)
        assert "河南理工大学联系师生服务平台" in page.title()
        icon = page.evaluate("() => document.querySelector('link[rel~=icon]').href")
        assert 'fill="#A61B29"' in base64.b64decode(icon.split(",", 1)[1]).decode()  # the tab's icon
        logo = page.get_by_role("img", name="河南理工大学标志")
        assert logo.is_visible() and logo.bounding_box()["y"] < 200  # at the top, above the form
        colour = page.get_by_role("button", name="登录").evaluate(
            "(b) => getComputedStyle(b).backgroundColor"
        )
        assert colour == "rgb(166, 27, 41)", colour
        page.context.close()

        # after login: the logo at the top of the menu, named in Chinese (Streamlit's alt is "Logo")
        desktop = next(_tab(browser, request, viewport={"width": 1366, "height": 900}))
        login(desktop, server["url"], "2023000001")
        sidebar = desktop.get_by_test_id("stSidebar")
        sidebar.get_by_text("河南理工大学联系师生服务平台").wait_for()
        settle(desktop)
        logo = desktop.locator("img.stLogo, [data-testid=stSidebarLogo] img, [data-testid=stLogo]").first
        assert logo.is_visible() and logo.get_attribute("src").startswith("data:image/png")
        assert not a11y.english_strings(desktop), a11y.english_strings(desktop)
        desktop.context.close()
