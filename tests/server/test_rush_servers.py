"""Holding the booking rush across processes: two ``portal serve`` on one database file."""

from __future__ import annotations

import asyncio

from portal import config, reception, sessions
from tests import live
from tests.pages.test_rush import NEXT, _free_slot
from tests.stclient import Tab


def test_two_servers_on_one_database_book_one_slot_exactly_once(demo_db):
    """Two ``portal serve`` processes on one file (as behind nginx), six people, one place."""
    tpl = reception.load_template(demo_db)
    reception.save_template(demo_db, tpl.model_copy(update={"visits_per_slot": 1}))
    slot = _free_slot(demo_db)
    label = next(s.label for s in reception.slots(demo_db, NEXT) if s.slot == slot)
    people = [
        r[0]
        for r in demo_db.execute(
            "SELECT u.id FROM users u JOIN people p ON p.id = u.person_id WHERE p.kind = '学生' "
            "AND u.id NOT IN (SELECT user_id FROM bookings) ORDER BY u.id LIMIT 6"
        )
    ]
    cookies = []
    for uid in people:
        _, claim = sessions.start(demo_db, uid)
        cookies.append(f"{config.SESSION_COOKIE}={sessions.claim(demo_db, claim)}")
    with live.server(config.db_path()) as one, live.server(config.db_path()) as two:
        tabs = [Tab((one, two)[i % 2].base, c, "reception_book") for i, c in enumerate(cookies)]

        async def rush():
            for tab in tabs:
                await tab.open()
                tab.set(
                    "接待日", next(o for o in tab.widgets["接待日"].options if o.startswith("2026年12月2日"))
                )
                await tab.rerun()
                await tab.click(label)  # the slot's button
                tab.set("反映事项类别", "后勤保障")
                tab.set("反映事项（简要）", "宿舍热水")
                tab.set("联系电话（手机号或校内分机）", "13800001111")
            return await asyncio.gather(*(t.click("提交预约") for t in tabs))

        runs = asyncio.run(rush())
    assert not any(r.exception for r in runs)
    won = [r for r in runs if any("预约成功" in s for s in r.successes)]
    lost = [r for r in runs if any("约满" in m for m in r.errors + r.warnings)]
    assert len(won) == 1 and len(lost) == 5, [(r.successes, r.errors, r.warnings) for r in runs]
    # each submit ran the page once, booked or refused (no second run to show it: half the work in a rush)
    assert [r.starts for r in runs] == [1] * 6
    rows = demo_db.execute(
        "SELECT count(*) FROM bookings WHERE date = ? AND slot = ? AND status != 'cancelled'",
        [NEXT.isoformat(), slot],
    ).fetchone()[0]
    assert rows == 1
