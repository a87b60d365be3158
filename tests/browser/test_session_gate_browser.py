"""Downloads are their owner's: a record form's link (Streamlit's /media/… file) works in the
browser of the person it was built for, and not for a plain request without that session
cookie, nor for another person logged in, nor after logout. /_stcore/metrics answers an
administrator's session only."""

from tests.browser.conftest import login, settle, wait_for_session
from tests.live import http


def _cookie(page) -> str:
    cookie = next(c for c in page.context.cookies() if c["name"] == "portal_session")
    return f"portal_session={cookie['value']}"


def test_a_record_forms_link_needs_the_owners_session(server, browser, page):
    base = server["url"]
    # someone else, logged in with a session of his own, who will learn the link
    other = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    try:
        stranger = other.new_page()
        login(stranger, base, "10000002")
        theirs = _cookie(stranger)
    finally:
        other.close()

    login(page, base, "10000001")
    page.goto(base + "/activities", wait_until="networkidle")
    page.get_by_role("heading", name="联系活动记录").first.wait_for()
    settle(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="下载记录表（Word）").first.click()
    url = download.value.url
    assert "/media/" in url and url.endswith(".docx"), url
    cookie = _cookie(page)

    status, _, form = http("GET", url, {"Cookie": cookie, "Accept-Encoding": "gzip"})
    assert status == 200 and form[:2] == b"PK"  # the owner's session: the form, as built
    for method in ("GET", "HEAD"):
        status, headers, body = http(method, url, {"Cookie": theirs})
        assert status == 403 and body[:2] != b"PK", (method, status)
        assert "filename" not in str(headers).lower()  # not even the form's name
    status, _, body = http("GET", url)  # the same link, copied elsewhere
    assert status == 403 and body[:2] != b"PK"
    status, _, body = http("GET", url, {"Cookie": "portal_session=forged.value.sig"})
    assert status == 403 and body[:2] != b"PK"
    status, _, body = http("GET", url, {"Cookie": cookie, "Range": "bytes=0-9"})
    assert status == 200 and body == form  # whole: whose it is needs all of it
    status, _, body = http("HEAD", url, {"Cookie": cookie})
    assert status == 200 and body == b""

    page.get_by_role("button", name="退出登录").click()
    page.get_by_role("button", name="登录").wait_for()
    wait_for_session(page, present=False)  # the hidden logout frame has cleared the cookie
    status, _, body = http("GET", url, {"Cookie": cookie})  # the old cookie after logout
    assert status == 403 and body[:2] != b"PK"


def test_metrics_answer_an_administrator_only(server, page):
    base = server["url"]
    assert http("GET", base + "/_stcore/metrics")[0] == 403
    login(page, base, "2023000001")
    assert http("GET", base + "/_stcore/metrics", {"Cookie": _cookie(page)})[0] == 403  # a student
    page.context.clear_cookies()
    login(page, base, "admin")
    status, _, body = http("GET", base + "/_stcore/metrics", {"Cookie": _cookie(page)})
    assert status == 200 and b"session" in body
