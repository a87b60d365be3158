"""The login form at a desktop's and a phone's width: readable, never the whole width of a wide screen,
the whole width of a phone and no wider."""

import pytest

from tests.browser.conftest import settle


@pytest.mark.parametrize(("width", "height"), [(1366, 900), (390, 844)])
def test_the_login_form_fits_the_screen(server, page, width, height):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(server["url"] + "/", wait_until="networkidle")
    page.get_by_label("账号（工号或学号）").wait_for()
    settle(page)
    box = page.get_by_test_id("stForm").bounding_box()
    assert box is not None
    if width > 1000:
        assert box["width"] <= 500, box  # not 1,200 px of two text boxes
    else:
        assert box["width"] >= width - 80, box  # a phone's whole width, less the page's margins
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing to scroll sideways
