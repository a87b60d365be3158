"""联系师生服务平台 — the Streamlit entry script: who is this, and which pages may he or she see.

It lives inside ``pages/`` on purpose: Streamlit treats a ``pages/`` folder *beside* the entry
script as a legacy multipage app (every file a page, reachable by URL before ``st.navigation``
runs). Here no such folder exists, so routing is ``st.navigation``'s alone. Page paths in
``portal.navigation`` are relative to the project root and are handed to ``st.Page`` whole.
"""

import os
import sys
from pathlib import Path

# every run executes this file again: os.path, not Path.resolve() (an lstat per folder of the path)
ROOT = Path(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from pages import common, state  # noqa: E402
from portal import branding, config, navigation  # noqa: E402
from portal.accounts import User  # noqa: E402


def menu_for(user: User) -> dict[str, list[st.Page]]:
    """The user's menu, by section, and the pages refused to him or her (hidden, each saying why).

    Built once per session and user, not on every run: each ``st.Page`` resolves its file's path
    (≈ 7 % of a booking rush's CPU when 70 were built per run). Streamlit marks the page it runs
    on the object, so the objects are this session's own and never shared with another."""
    allowed = navigation.pages_for(user)
    key = (user.id, *((section, *(p.path for p in specs)) for section, specs in allowed.items()))
    kept = state.MENU.get()
    if kept is not None and kept[0] == key:
        return kept[1]
    menu = {
        section: [
            st.Page(
                ROOT / p.path,
                title=p.title,
                icon=p.icon,
                url_path=p.url_path,
                default=p.path == "pages/home.py",
                visibility="hidden" if p.hidden else "visible",
            )
            for p in specs
        ]
        for section, specs in allowed.items()
    }
    menu[""] = [*menu.get("", []), *common.refused_pages(user)]
    state.MENU.set((key, menu))
    return menu


def main() -> None:
    brand = branding.brand()
    st.set_page_config(page_title=brand.title, page_icon=brand.favicon, layout="wide")

    user = common.resolve_user()
    common.send_pending_browser_actions()

    if user is None:
        # The login form answers at every page's address too, so that a link (/cases?no=2026-0221) opened
        # logged out keeps its address and query: after logging in, the same rerun opens the linked page.
        login_pages = [st.Page(ROOT / "pages/login.py", title="登录", icon=":material/login:", default=True)]
        login_pages += [
            st.Page(ROOT / "pages/login.py", title="登录", url_path=p.url_path, visibility="hidden")
            for p in navigation.PAGES
            if p.path != "pages/home.py"
        ]
        page = st.navigation(login_pages)
        page.run()
        st.stop()

    if common.must_change_password(user):
        # an initial or reset password: the change page at every address, nothing else (a link opened
        # meanwhile opens once the password is changed)
        change = [
            st.Page(
                ROOT / "pages/change_password.py", title="修改密码", icon=":material/password:", default=True
            )
        ]
        change += [
            st.Page(
                ROOT / "pages/change_password.py", title="修改密码", url_path=p.url_path, visibility="hidden"
            )
            for p in navigation.PAGES
            if p.path != "pages/home.py"
        ]
        with st.sidebar:
            if st.button("退出登录", icon=":material/logout:", key="logout"):
                common.logout()
                st.rerun()
        st.navigation(change).run()
        st.stop()

    menu = menu_for(user)
    with st.sidebar:
        if brand.logo:
            st.logo(brand.logo, size="large")
        st.markdown(f"**{common.md(brand.title)}**")
        st.caption(f"{common.md(user.display_name)}（{'、'.join(r.label for r in user.roles) or '无角色'}）")
        if st.button("退出登录", icon=":material/logout:", key="logout"):
            common.logout()
            st.rerun()
    page = st.navigation(menu, expanded=True)  # every section open: no English “View 6 more”
    common.follow_deep_link(user)  # once, after an OIDC login started on another page
    common.entering(page.url_path)
    page.run()


with config.held():  # the settings as they are now, for this whole run (portal.config.held)
    try:
        main()
    finally:
        common.end_run()
