"""New accounts' initial passwords, handed to the administrator who made them as files he downloads
once (portal/account_notices.py): 账号清单 (.xlsx) and 账号开通通知 (one page per person, Word, and PDF
when LibreOffice is installed)."""

from __future__ import annotations

import functools

import streamlit as st

from pages import common, state
from portal import account_notices, dates, downloads, record_form
from portal.account_notices import NewAccount
from portal.accounts import User

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def offer(admin: User, opened: list[NewAccount], key: str) -> None:
    """The download buttons, each usable once: the server serves each file a single time, to
    ``admin`` only, and the page says which were taken. ``key`` names this batch of accounts."""
    if not opened:
        return
    st.info(
        f"新开通 {len(opened)} 个账号。初始密码只在这里提供一次：每个文件只能下载一次，"
        "请转交本人后删除；遗失的请在“账号管理”中重置密码。",
        icon=":material/key:",
    )
    day = dates.today().isoformat()
    files = [
        ("list", "账号清单（Excel）", f"新开通账号-{day}.xlsx", XLSX,
         lambda: account_notices.workbook(opened, admin.display_name)),
        ("notices", "账号开通通知（Word，每人一页）", f"账号开通通知-{day}.docx", DOCX,
         lambda: account_notices.notices(opened)),
    ]  # fmt: skip
    if record_form.soffice():
        files.append(
            ("pdf", "账号开通通知（PDF）", f"账号开通通知-{day}.pdf", "application/pdf",
             lambda: account_notices.notices_pdf(account_notices.notices(opened)) or b"")
        )  # fmt: skip
    # built when first clicked (a thousand notices take a while), then the same bytes: a second click
    # asks for a file already served, which the server refuses
    made: dict[str, bytes] = state.FILES.of(key).setdefault({})

    def once(name: str, build) -> bytes:
        if name not in made:
            made[name] = build()
        return made[name]

    files = [  # each file's build is in the audit log: who took the initial passwords, from where
        (
            name,
            label,
            file_name,
            mime,
            common.audited(admin, "user.account_files", f"{label}：{len(opened)} 个账号", build),
        )
        for name, label, file_name, mime, build in files
    ]

    with st.container(horizontal=True, gap="small"):
        for name, label, file_name, mime, build in files:
            # no rerun on the click (it would cancel the download it starts); the next run sees the
            # file delivered and offers it no more
            taken = name in made and downloads.delivered(admin.id, made[name])
            st.download_button(
                f"{label}：已下载" if taken else label,
                disabled=taken,
                data=common.owned(admin, functools.partial(once, name, build), once=True),
                file_name=file_name,
                mime=mime,
                icon=":material/download:",
                key=f"_file_{key}_{name}",
                on_click="ignore",
            )
