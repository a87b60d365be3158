"""A booking storm worker for tests/server/test_faults.py (run as a separate process, then SIGKILLed).

Usage: python tests/server/storm_worker.py DB WORKER WORKERS DAY[,DAY…]
Books as many (day, slot) seats as it can with its share of the visitors, printing
``OK <code>`` after each booking is committed — those are the bookings a user saw confirmed.
"""

import datetime as dt
import os
import sys

from portal import accounts, dates
from portal.db import open_db
from portal.errors import PortalError
from portal.reception import bookings


def main() -> None:
    path, worker, workers, days = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split(",")
    os.environ["PORTAL_DB"] = path
    with open_db(path) as db:
        ids = [
            r[0] for r in db.execute("SELECT user_id FROM user_roles WHERE role = 'visitor' ORDER BY user_id")
        ]
        users = [accounts.get_user(db, i) for i in ids[worker::workers][:60]]
        for day_text in days:
            day = dt.date.fromisoformat(day_text)
            now = dt.datetime.combine(day - dt.timedelta(days=3), dt.time(10, 0), tzinfo=dates.TZ)
            for slot in bookings.slots(db, day):
                for user in users:
                    try:
                        made = bookings.book(
                            db,
                            user,
                            bookings.BookingInput(
                                date=day,
                                slot=slot.slot,
                                category="教学",
                                subject="压力测试",
                                phone="13800138000",
                            ),
                            now=now,
                        )
                    except PortalError:
                        continue
                    print("OK", made.code, flush=True)


if __name__ == "__main__":
    main()
