"""Cases, ledgers and assessment benchmark: ``python bench/cases_bench.py [--scale 3] [--cases 5000]``.

Builds the demo university at a scale, opens extra cases (a busy year's worth), then times:

* opening one case (deadline on the working-day calendar, number, history) — target < 5 ms;
* the supervision list of every open case with overdue/at-risk flags — target < 0.5 s;
* ``recompute_due_dates`` after a calendar change — target < 2 s;
* the supervision workbook of every case;
* the whole-university ledger for a year (build, then the workbook);
* the annual assessment (build, workbook, one unit's Word report).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PORTAL_TODAY", "2026-11-24")

from portal import (  # noqa: E402
    accounts,
    assessment,
    case_actions,
    case_export,
    case_opening,
    cases,
    demo,
    ledger,
    workdays,
)
from portal.db import open_db, write  # noqa: E402
from portal.policy import policy  # noqa: E402


def timed(label: str, func, *args, **kwargs):
    start = time.perf_counter()
    value = func(*args, **kwargs)
    took = time.perf_counter() - start
    print(f"{label:<48} {took * 1000:9.1f} ms")
    return value, took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=3)
    parser.add_argument("--cases", type=int, default=5000)
    args = parser.parse_args()
    path = Path(tempfile.mkdtemp()) / "bench.sqlite3"
    with open_db(path) as db:
        _, took = timed(f"demo at scale {args.scale}", demo.build, db, seed=1, scale=args.scale)
        rng = random.Random(7)
        cadres = [r[0] for r in db.execute("SELECT person_id FROM cadre_posts")]
        depts = policy().departments
        start = time.perf_counter()
        with write(db):
            for _ in range(args.cases):
                case_opening.open_case(
                    db,
                    source=rng.choice(cases.SOURCES),
                    content="食堂、宿舍、实验室条件改善的建议" * rng.randint(1, 4),
                    responsible_dept=rng.choice(depts),
                    contact_date=dt.date(2026, 1, 5) + dt.timedelta(days=rng.randint(0, 320)),
                    cadre_id=rng.choice(cadres),
                )
        per = (time.perf_counter() - start) / args.cases
        print(f"{'open_case (mean of ' + str(args.cases) + ')':<48} {per * 1000:9.2f} ms")
        total = db.execute("SELECT count(*) FROM cases").fetchone()[0]
        print(f"cases in the database: {total}")
        admin = accounts.find_user(db, "admin")
        listed, t_list = timed(
            "supervision list (open, with flags)", cases.list_cases, db, admin, states=list(cases.OPEN_STATES)
        )
        print(
            f"  open {len(listed)}, overdue {sum(c.overdue for c in listed)}, at risk {sum(c.at_risk for c in listed)}"
        )
        every = cases.list_cases(db, admin)
        timed(f"supervision workbook ({len(every)} cases)", case_export.export_xlsx, every)
        db.execute(
            "INSERT INTO calendar_overrides (date, is_workday, note) VALUES ('2026-11-25', 0, 'bench')"
        )
        changed, t_re = timed(
            "recompute_due_dates after a calendar change", case_actions.recompute_due_dates, db
        )
        print(f"  due dates changed: {changed}")
        workdays.remove_override(db, dt.date(2026, 11, 25))
        book, _ = timed(
            "ledger, whole university, one year (build)",
            ledger.build,
            db,
            admin,
            since=dt.date(2025, 11, 24),
            until=dt.date(2026, 11, 24),
        )
        print(f"  activities: {book.total}")
        timed("ledger workbook", ledger.export_xlsx, db, book)
        result, _ = timed("assessment 2026 (build)", assessment.assess, db, 2026)
        print(f"  cadres {len(result.cadres)}, units {len(result.units)}, items {result.total.assessed}")
        timed("assessment workbook", assessment.export_xlsx, result)
        timed("assessment Word report, one unit", assessment.unit_report_docx, result, result.units[0].unit)
    targets = {"list < 0.5 s": t_list < 0.5, "recompute < 2 s": t_re < 2, "open_case < 5 ms": per < 0.005}
    print("targets:", ", ".join(f"{k}: {'ok' if v else 'MISSED'}" for k, v in targets.items()))


if __name__ == "__main__":
    main()
