"""The booking benchmarks' crowd (booking_bench, rush_bench, import_load_bench): the seed-1 demo
university with room for a rush, and the people in it who hold no booking yet."""

from __future__ import annotations

from sqlite_utils import Database

from portal import demo, reception


def crowded_university(db: Database, visits: int = 10) -> None:
    """The seed-1 demo with ``visits`` visits per slot (10: 120 places on a day of 12 slots), so
    most of a crowd's submits write a booking instead of being refused as full."""
    demo.build(db, seed=1)
    tpl = reception.load_template(db)
    reception.save_template(db, tpl.model_copy(update={"visits_per_slot": visits}))


def without_booking(db: Database, kinds: tuple[str, ...] = ("学生", "教职工"), limit: int = -1) -> list[int]:
    """Account ids of people of these kinds who hold no booking, in id order (``limit`` −1: all)."""
    marks = ", ".join("?" for _ in kinds)
    return [
        r[0]
        for r in db.execute(
            "SELECT u.id FROM users u JOIN people p ON p.id = u.person_id "
            f"WHERE p.kind IN ({marks}) AND u.id NOT IN (SELECT user_id FROM bookings) ORDER BY u.id LIMIT ?",
            [*kinds, limit],
        )
    ]
