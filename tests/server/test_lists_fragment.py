"""Lists over the real server: a fragment reruns alone (AppTest reruns whole scripts)."""

from __future__ import annotations

from portal import accounts, config


def test_choosing_another_record_reruns_only_the_record_panel(demo_db):
    """Over the real server (AppTest reruns whole scripts): the browser sends the fragment's id and
    only the record panel runs — the filters, the count and the list are not sent again."""
    import asyncio

    from portal import sessions
    from tests import live
    from tests.stclient import Tab

    _, claim = sessions.start(demo_db, accounts.find_user(demo_db, "10010001").id)
    cookie = f"{config.SESSION_COOKIE}={sessions.claim(demo_db, claim)}"
    with live.serve(config.db_path()) as url:

        async def pick_another():
            tab = Tab(url, cookie, "activities")
            first = await tab.open()
            record = tab.widgets["查看记录"]
            assert "制度" in first.widgets and record.fragment_id
            tab.set("查看记录", record.options[1])
            return await tab.rerun()

        run = asyncio.run(pick_another())
    assert run.exception is None and "查看记录" in run.widgets
    assert "制度" not in run.widgets  # the filters (and the list below them) did not run again
