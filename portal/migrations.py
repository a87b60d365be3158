"""The schema: every migration, in the order it runs (sqlite-utils ``Migrations``).

``portal.db`` applies them (``migrate``) under ``BEGIN IMMEDIATE`` the first time a process opens a
file, and ``portal init`` does. Each is recorded by its function's name in ``_sqlite_migrations``: never
rename or edit an applied one; add a new one at the end, with a distinctive name (``m0NN_<what>``).
A migration that changes a table SQLite's ``ALTER TABLE`` cannot change rebuilds it through
sqlite-utils' ``transform`` (``_widen_check``), never by editing ``sqlite_master``.
"""

from __future__ import annotations

import re
import sqlite3

from sqlite_utils import Database, Migrations

from .chain import COLUMNS, GENESIS, entry_hash

migrations = Migrations("portal")


def _script(db: Database, sql: str) -> None:
    """Run several statements inside the current transaction.

    ``sqlite3.executescript`` would COMMIT first, breaking the migration's transaction,
    so statements are split with ``sqlite3.complete_statement`` (triggers included).
    """
    buf = ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                db.execute(buf)
            buf = ""
    if buf.strip():
        raise ValueError(f"incomplete SQL statement in migration: {buf!r}")


# ON DELETE actions that dropping a referenced table would run on the rows that reference it.
_CASCADING = ("CASCADE", "SET NULL", "SET DEFAULT")


def _widen_check(db: Database, table: str, old: str, new: str) -> None:
    """Replace the CHECK ``old`` of ``table`` by the wider ``new``: every stored row still passes.

    SQLite cannot change a constraint in place, so the table is rebuilt as sqlite-utils'
    ``table.transform()`` rebuilds one: a new table, the rows copied with their rowids, the old table
    dropped, the new one renamed, its indexes made again. ``transform()`` has no parameter for a CHECK;
    sqlite-utils' documented way for such a change is to run ``transform_sql()``'s statements edited
    (here the CHECK in its CREATE TABLE) and add what it leaves out: the triggers on the table (the
    search index's, the guards other features put there), which dropping the old table removes.

    ``PRAGMA foreign_keys`` cannot be turned off inside the migration's transaction. As
    ``transform()`` does there, the check of the rows that reference the table waits
    (``defer_foreign_keys``) until the rebuild is whole and ``foreign_key_check`` then finds none
    broken; a reference that would cascade (ON DELETE CASCADE, SET NULL, SET DEFAULT) is refused before
    anything changes, since dropping the old table would run it. Re-runnable."""
    target = db.table(table)
    checks = {f"CHECK ({check.check})" for check in target.checks}
    if new in checks:
        return
    if old not in checks:
        raise RuntimeError(f"{table}: the CHECK to widen is not the one the migrations created: {old}")
    if db.execute("PRAGMA foreign_keys").fetchone()[0]:
        cascading = [
            f"{other.name}.{', '.join(fk.columns)} (ON DELETE {fk.on_delete})"
            for other in db.tables
            for fk in other.foreign_keys
            if fk.other_table == table and fk.on_delete in _CASCADING
        ]
        if cascading:
            raise RuntimeError(
                f"{table}: rebuilding it would run {', '.join(cascading)} on the rows that reference it"
            )
    triggers = [trigger.sql for trigger in target.triggers]
    # transform_sql() writes a numeric default back quoted (DEFAULT '0'): given as a number it stays one
    numbers = {
        column.name: int(column.default_value)
        for column in target.columns
        if column.default_value is not None and re.fullmatch(r"-?\d+", column.default_value)
    }
    statements = target.transform_sql(defaults=numbers)
    create = statements[0]  # CREATE TABLE "<table>_new_…" (…): the rows go there, then it takes the name
    if create.count(old) != 1:
        raise RuntimeError(f"{table}: sqlite-utils wrote the CHECK to widen otherwise: {create}")
    statements[0] = create.replace(old, new)
    deferred = db.execute("PRAGMA defer_foreign_keys").fetchone()[0]
    db.execute("PRAGMA defer_foreign_keys = ON")
    try:
        for sql in [*statements, *triggers]:
            db.execute(sql)
        if db.execute("PRAGMA foreign_key_check").fetchall():
            raise sqlite3.IntegrityError(f"FOREIGN KEY constraint failed rebuilding {table}")
    finally:
        if not deferred:  # turning it off also forgets what the drop counted: the check above saw it through
            db.execute("PRAGMA defer_foreign_keys = OFF")


@migrations()
def m001_foundation(db: Database) -> None:
    _script(
        db,
        """
        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE units (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('college', 'department')),
            policy_name TEXT            -- the policy's own name (党办, 学工部 …) when it differs
        );
        CREATE TABLE people (
            id INTEGER PRIMARY KEY,
            staff_no TEXT NOT NULL UNIQUE,       -- 工号 / 学号
            name TEXT NOT NULL,
            unit_id INTEGER REFERENCES units(id),
            phone TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL DEFAULT '教职工' CHECK (kind IN ('教职工', '学生', '离退休', '其他')),
            cpc_member INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX people_unit ON people(unit_id);
        CREATE TABLE cadre_posts (
            id INTEGER PRIMARY KEY,
            person_id INTEGER NOT NULL REFERENCES people(id),
            unit_id INTEGER NOT NULL REFERENCES units(id),
            title TEXT NOT NULL,                 -- 职务 as printed on the form
            level TEXT NOT NULL CHECK (level IN ('校级', '正处', '副处')),
            tags TEXT NOT NULL DEFAULT '[]',     -- JSON list of docs/rules.md §1 tags given explicitly
            start_date TEXT NOT NULL DEFAULT '1900-01-01',
            end_date TEXT,                       -- NULL: still in post
            UNIQUE (person_id, unit_id, title),
            CHECK (end_date IS NULL OR end_date >= start_date)
        );
        CREATE INDEX cadre_posts_person ON cadre_posts(person_id);
        CREATE TABLE post_charges (             -- 分管单位 of a school leader's post
            post_id INTEGER NOT NULL REFERENCES cadre_posts(id) ON DELETE CASCADE,
            unit_id INTEGER NOT NULL REFERENCES units(id),
            PRIMARY KEY (post_id, unit_id)
        );
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE COLLATE NOCASE,
            person_id INTEGER REFERENCES people(id),
            display_name TEXT NOT NULL,
            password_hash TEXT,                  -- argon2id; NULL: single sign-on only
            is_active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            last_login_at TEXT
        );
        CREATE TABLE login_attempts (           -- keyed by the name typed, known or not,
            username TEXT PRIMARY KEY COLLATE NOCASE,  -- so lockout reveals nothing either
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until TEXT
        );
        CREATE TABLE user_roles (
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('visitor', 'cadre', 'department', 'admin')),
            department TEXT NOT NULL DEFAULT '',  -- for role 'department': 党办, 校办, 宣传部 …
            PRIMARY KEY (user_id, role, department)
        );
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,                 -- random; held only in the server's memory
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            token_hash TEXT UNIQUE,              -- sha256 of the cookie token, never the token
            claim_hash TEXT UNIQUE,              -- one-time token the browser trades for its cookie
            created_at TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            ended_at TEXT
        );
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            user_id INTEGER REFERENCES users(id),
            action TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        );
        """,
    )


@migrations()
def m002_calendar_and_rules(db: Database) -> None:
    _script(
        db,
        """
        CREATE TABLE semesters (
            key TEXT PRIMARY KEY,                -- 2026-2027-1
            academic_year TEXT NOT NULL,         -- 2026-2027
            name TEXT NOT NULL,
            start_date TEXT NOT NULL,
            end_date TEXT NOT NULL,
            teaching_start TEXT NOT NULL,
            teaching_end TEXT NOT NULL,
            CHECK (start_date <= teaching_start AND teaching_start <= teaching_end
                   AND teaching_end <= end_date)
        );
        CREATE TABLE calendar_days (            -- statutory holidays and 调休 working days
            date TEXT PRIMARY KEY,
            is_workday INTEGER NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL                 -- chinesecalendar / file
        );
        CREATE TABLE calendar_years (           -- years whose official arrangement is loaded
            year INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            loaded_at TEXT NOT NULL
        );
        CREATE TABLE calendar_overrides (       -- the university's own exceptions win over all
            date TEXT PRIMARY KEY,
            is_workday INTEGER NOT NULL,
            note TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE rule_sets (
            id INTEGER PRIMARY KEY,
            effective_from TEXT NOT NULL,
            content TEXT NOT NULL,               -- the validated rule file, as JSON
            note TEXT NOT NULL DEFAULT '',
            loaded_at TEXT NOT NULL,
            loaded_by INTEGER REFERENCES users(id)
        );
        """,
    )


@migrations()
def m003_activities(db: Database) -> None:
    _script(
        db,
        """
        CREATE TABLE contact_targets (          -- lists kept by departments: talents, representatives …
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,                  -- 对象类型 of docs/formats.md
            code TEXT NOT NULL,                  -- 对象编号 (a person's 工号)
            name TEXT NOT NULL,
            unit_id INTEGER REFERENCES units(id),
            note TEXT NOT NULL DEFAULT '',
            active INTEGER NOT NULL DEFAULT 1,
            UNIQUE (kind, code)
        );
        CREATE TABLE assignments (
            id INTEGER PRIMARY KEY,
            cadre_id INTEGER NOT NULL REFERENCES people(id),
            kind TEXT NOT NULL CHECK (kind IN ('联系学院', '联系点', '结对子', '党支部', '高层次人才',
                                               '党外代表人士', '离退休老同志')),
            target_code TEXT NOT NULL,
            target_name TEXT NOT NULL,
            start_date TEXT NOT NULL,
            end_date TEXT,
            UNIQUE (cadre_id, kind, target_code),
            CHECK (end_date IS NULL OR end_date >= start_date)
        );
        CREATE INDEX assignments_target ON assignments(kind, target_code);
        CREATE TABLE activities (
            id INTEGER PRIMARY KEY,
            cadre_id INTEGER NOT NULL REFERENCES people(id),
            system TEXT NOT NULL,                -- one of the eleven 制度
            subtype TEXT NOT NULL,               -- 类别
            date TEXT NOT NULL,
            place TEXT NOT NULL DEFAULT '',
            counterpart_text TEXT NOT NULL DEFAULT '',  -- 联系对象 as printed on the form
            hours REAL NOT NULL DEFAULT 0,       -- 课时 of 思政课授课
            participants TEXT NOT NULL DEFAULT '',
            content TEXT NOT NULL DEFAULT '',    -- 联系工作开展情况
            opinions TEXT NOT NULL DEFAULT '',   -- 联系对象反映的意见和建议
            followup TEXT NOT NULL DEFAULT '',   -- 落实情况
            source TEXT NOT NULL DEFAULT 'form', -- form / import / reception
            import_key TEXT UNIQUE,
            entered_by INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            voided_at TEXT,
            void_reason TEXT
        );
        CREATE INDEX activities_cadre_date ON activities(cadre_id, date);
        CREATE INDEX activities_system_date ON activities(system, date);
        CREATE TABLE activity_targets (         -- targets / counterparts an activity names, by code
            activity_id INTEGER NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
            target_code TEXT NOT NULL,
            PRIMARY KEY (activity_id, target_code)
        );
        CREATE INDEX activity_targets_code ON activity_targets(target_code);
        CREATE TABLE activity_history (
            id INTEGER PRIMARY KEY,
            activity_id INTEGER NOT NULL REFERENCES activities(id),
            at TEXT NOT NULL,
            user_id INTEGER REFERENCES users(id),
            action TEXT NOT NULL,                -- created / edited / voided
            snapshot TEXT NOT NULL               -- JSON of the row after the change
        );
        CREATE INDEX activity_history_activity ON activity_history(activity_id);
        """,
    )


@migrations()
def m004_reception(db: Database) -> None:
    _script(
        db,
        """
        CREATE TABLE duty_days (
            date TEXT PRIMARY KEY,               -- a Wednesday
            leader_id INTEGER NOT NULL REFERENCES people(id),
            place TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled')),
            note TEXT NOT NULL DEFAULT '',
            activity_id INTEGER REFERENCES activities(id)
        );
        CREATE TABLE duty_changes (             -- swaps, substitutions, cancellations
            id INTEGER PRIMARY KEY,
            date TEXT NOT NULL,
            at TEXT NOT NULL,
            user_id INTEGER REFERENCES users(id),
            action TEXT NOT NULL,
            old_leader_id INTEGER REFERENCES people(id),
            new_leader_id INTEGER REFERENCES people(id),
            note TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE bookings (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,           -- short code the visitor quotes
            date TEXT NOT NULL REFERENCES duty_days(date),
            slot TEXT NOT NULL,                  -- start time HH:MM
            seat INTEGER NOT NULL DEFAULT 1,
            user_id INTEGER NOT NULL REFERENCES users(id),
            category TEXT NOT NULL,
            subject TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            phone TEXT NOT NULL,
            group_size INTEGER NOT NULL DEFAULT 1 CHECK (group_size BETWEEN 1 AND 3),
            status TEXT NOT NULL DEFAULT 'booked'
                CHECK (status IN ('booked', 'received', 'cancelled', 'no_show')),
            created_at TEXT NOT NULL,
            cancelled_at TEXT,
            checked_in_at TEXT,
            outcome TEXT,                        -- answered / handed
            answer TEXT NOT NULL DEFAULT ''
        );
        -- the second line of defence behind BEGIN IMMEDIATE: a seat and a visitor-day are taken once
        CREATE UNIQUE INDEX bookings_seat_taken ON bookings(date, slot, seat) WHERE status != 'cancelled';
        CREATE UNIQUE INDEX bookings_one_per_day ON bookings(user_id, date) WHERE status != 'cancelled';
        """,
    )


@migrations()
def m005_cases(db: Database) -> None:
    _script(
        db,
        """
        CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            number TEXT NOT NULL UNIQUE,
            source TEXT NOT NULL CHECK (source IN ('reception', 'symposium', 'other')),
            activity_id INTEGER REFERENCES activities(id),
            booking_id INTEGER REFERENCES bookings(id),
            cadre_id INTEGER REFERENCES people(id),
            raised_by INTEGER REFERENCES users(id),   -- the visitor, when one raised it
            raiser_name TEXT NOT NULL DEFAULT '',
            content TEXT NOT NULL,
            system TEXT NOT NULL DEFAULT '',
            responsible_dept TEXT NOT NULL,           -- 党办, 宣传部 … (docs/rules.md §4, §5)
            handling_unit_id INTEGER REFERENCES units(id),
            state TEXT NOT NULL DEFAULT 'registered'
                CHECK (state IN ('registered', 'referred', 'in_progress', 'answered', 'closed')),
            contact_date TEXT NOT NULL,
            deadline_days INTEGER NOT NULL,
            due_date TEXT NOT NULL,
            answer TEXT NOT NULL DEFAULT '',
            answered_at TEXT,
            closed_at TEXT,
            reopen_count INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX cases_state_due ON cases(state, due_date);
        CREATE TABLE case_events (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            at TEXT NOT NULL,
            user_id INTEGER REFERENCES users(id),
            action TEXT NOT NULL,
            from_state TEXT,
            to_state TEXT,
            note TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX case_events_case ON case_events(case_id);
        CREATE TRIGGER case_events_append_only_u BEFORE UPDATE ON case_events
            BEGIN SELECT RAISE(ABORT, '办理记录只能追加，不能修改'); END;
        CREATE TRIGGER case_events_append_only_d BEFORE DELETE ON case_events
            BEGIN SELECT RAISE(ABORT, '办理记录只能追加，不能删除'); END;
        """,
    )


@migrations()
def m006_calendar_seed(db: Database) -> None:
    """The working-day index. (This migration also seeded holidays and semesters once; seeding
    now belongs to the modules that own the data, run by ``portal.seeds``: the schema module
    imports no feature. Databases that ran it hold the same rows a seed adds.)"""
    db.execute("CREATE INDEX IF NOT EXISTS calendar_days_workday ON calendar_days(is_workday, date)")


@migrations()
def m007_submissions(db: Database) -> None:
    """Exactly-once forms (portal/submissions.py): the token of each form rendering that created
    something, and what it created, so that a resubmit returns it instead of creating again."""
    _script(
        db,
        """
        CREATE TABLE submissions (
            token TEXT PRIMARY KEY,              -- random, made when the form was rendered
            kind TEXT NOT NULL,                  -- activity, booking, answer, import, roster_plan …
            object_id INTEGER,                   -- what the first submit created
            result TEXT NOT NULL DEFAULT '',     -- optional JSON summary for kinds without one id
            user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX submissions_created ON submissions(created_at);
        """,
    )


@migrations()
def m008_search(db: Database) -> None:
    """Full-text search over activities and cases (portal/search.py).

    FTS5 with the unicode61 tokenizer over text in which every Chinese character stands alone, so
    that a phrase query finds words of any length (食堂, two characters, which the trigram tokenizer
    cannot). Triggers only note what changed in ``search_queue``; portal/search.py re-reads those
    rows and indexes them before every search, so every write path (forms, imports, the CLI) is
    covered. Rowids: activity id × 2, case id × 2 + 1."""
    _script(
        db,
        """
        CREATE VIRTUAL TABLE search_index USING fts5(body, tokenize = 'unicode61');
        CREATE TABLE search_queue (doc INTEGER PRIMARY KEY);
        INSERT INTO search_queue (doc) SELECT id * 2 FROM activities;
        INSERT INTO search_queue (doc) SELECT id * 2 + 1 FROM cases;
        CREATE TRIGGER search_activity_i AFTER INSERT ON activities
            BEGIN INSERT OR IGNORE INTO search_queue (doc) VALUES (new.id * 2); END;
        CREATE TRIGGER search_activity_u AFTER UPDATE ON activities
            BEGIN INSERT OR IGNORE INTO search_queue (doc) VALUES (new.id * 2); END;
        CREATE TRIGGER search_activity_d AFTER DELETE ON activities
            BEGIN INSERT OR IGNORE INTO search_queue (doc) VALUES (old.id * 2); END;
        CREATE TRIGGER search_target_i AFTER INSERT ON activity_targets
            BEGIN INSERT OR IGNORE INTO search_queue (doc) VALUES (new.activity_id * 2); END;
        CREATE TRIGGER search_case_i AFTER INSERT ON cases
            BEGIN INSERT OR IGNORE INTO search_queue (doc) VALUES (new.id * 2 + 1); END;
        CREATE TRIGGER search_case_u AFTER UPDATE ON cases
            BEGIN INSERT OR IGNORE INTO search_queue (doc) VALUES (new.id * 2 + 1); END;
        CREATE TRIGGER search_case_d AFTER DELETE ON cases
            BEGIN INSERT OR IGNORE INTO search_queue (doc) VALUES (old.id * 2 + 1); END;
        CREATE TRIGGER search_person_u AFTER UPDATE OF name, staff_no ON people
            BEGIN
                INSERT OR IGNORE INTO search_queue (doc) SELECT id * 2 FROM activities WHERE cadre_id = new.id;
                INSERT OR IGNORE INTO search_queue (doc) SELECT id * 2 + 1 FROM cases WHERE cadre_id = new.id;
            END;
        """,
    )


@migrations()
def m009_campus_identity(db: Database) -> None:
    """Campus single sign-on and the API: a session remembers the identity that opened it
    (a CAS ticket or an OIDC login, hashed) so a reload resumes it and single logout finds it;
    API tokens (hashed) with scopes and an expiry; per-user calendar feed keys.
    Written to be re-runnable (a development database may hold it under an earlier number)."""
    if "sso_key" not in {c[1] for c in db.execute("PRAGMA table_info(sessions)")}:
        db.execute(
            "ALTER TABLE sessions ADD COLUMN sso_key TEXT"
        )  # 'cas:<sha256 of ticket>' / 'oidc:<sha256>'
    _script(
        db,
        """
        CREATE UNIQUE INDEX IF NOT EXISTS sessions_sso_key ON sessions(sso_key) WHERE sso_key IS NOT NULL;
        CREATE INDEX IF NOT EXISTS sessions_last_seen ON sessions(last_seen);
        CREATE TABLE IF NOT EXISTS api_tokens (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,                  -- who uses it: 一站式服务大厅, 接待前台 …
            token_hash TEXT NOT NULL UNIQUE,     -- sha256 of the token, never the token
            scopes TEXT NOT NULL DEFAULT '[]',   -- JSON list: roster, bookings, quota, cases
            created_by INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            revoked_at TEXT,
            last_used_at TEXT
        );
        CREATE TABLE IF NOT EXISTS feed_keys (                 -- bump generation: every old feed URL stops working
            user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
            generation INTEGER NOT NULL DEFAULT 1
        );
        """,
    )


@migrations()
def m010_booking_cancel_reason(db: Database) -> None:
    """A cancelled booking keeps why (optional, as the canceller typed it) and who cancelled it,
    so the visitor and 党办/校办 both see it."""
    _script(
        db,
        """
        ALTER TABLE bookings ADD COLUMN cancel_reason TEXT NOT NULL DEFAULT '';
        ALTER TABLE bookings ADD COLUMN cancelled_by INTEGER REFERENCES users(id);
        """,
    )


@migrations()
def m011_data_stamp(db: Database) -> None:
    """A counter every write transaction bumps (``write``): caches key on it (``portal/cache.py``)."""
    _script(
        db,
        """
        CREATE TABLE IF NOT EXISTS data_stamp (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            n INTEGER NOT NULL
        );
        INSERT OR IGNORE INTO data_stamp (id, n) VALUES (1, 0);
        """,
    )


@migrations()
def m012_case_withdrawal(db: Database) -> None:
    """Cases can be withdrawn (已撤销) when the activity that raised them is voided or loses the opinion,
    and flagged to the department when it already acted on them (portal/cases.py ``withdraw_for_activity``).

    The ``state`` CHECK gains 'withdrawn' (``_widen_check``: the table rebuilt, every existing row
    still passes).
    Re-runnable (a renumbered migration may run again on a database that has it).
    """
    _widen_check(
        db,
        "cases",
        "CHECK (state IN ('registered', 'referred', 'in_progress', 'answered', 'closed'))",
        "CHECK (state IN ('registered', 'referred', 'in_progress', 'answered', 'closed', 'withdrawn'))",
    )
    columns = {r[1] for r in db.execute("PRAGMA table_info(cases)")}
    for column, ddl in (
        ("withdrawn_at", "withdrawn_at TEXT"),
        ("withdraw_reason", "withdraw_reason TEXT NOT NULL DEFAULT ''"),
        # a change at the source the department should look at (the activity voided or edited)
        ("alert", "alert TEXT NOT NULL DEFAULT ''"),
    ):
        if column not in columns:
            db.execute(f"ALTER TABLE cases ADD COLUMN {ddl}")
    db.execute("CREATE INDEX IF NOT EXISTS cases_activity ON cases(activity_id)")


@migrations()
def m013_lookup_indexes(db: Database) -> None:
    """An index behind every foreign key (a case's activity or booking, a user's bookings and sessions,
    a unit's posts …) and behind the supervision filters (a department's open cases by due date)."""
    _script(
        db,
        """
        CREATE INDEX IF NOT EXISTS cadre_posts_unit ON cadre_posts(unit_id, person_id);
        CREATE INDEX IF NOT EXISTS post_charges_unit ON post_charges(unit_id);
        CREATE INDEX IF NOT EXISTS users_person ON users(person_id);
        CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);
        CREATE INDEX IF NOT EXISTS audit_log_user ON audit_log(user_id);
        CREATE INDEX IF NOT EXISTS rule_sets_loaded_by ON rule_sets(loaded_by);
        CREATE INDEX IF NOT EXISTS contact_targets_unit ON contact_targets(unit_id);
        CREATE INDEX IF NOT EXISTS activities_entered_by ON activities(entered_by);
        CREATE INDEX IF NOT EXISTS activity_history_user ON activity_history(user_id);
        CREATE INDEX IF NOT EXISTS duty_days_activity ON duty_days(activity_id);
        CREATE INDEX IF NOT EXISTS duty_days_leader ON duty_days(leader_id);
        CREATE INDEX IF NOT EXISTS duty_changes_date ON duty_changes(date);
        CREATE INDEX IF NOT EXISTS duty_changes_new_leader ON duty_changes(new_leader_id);
        CREATE INDEX IF NOT EXISTS duty_changes_old_leader ON duty_changes(old_leader_id);
        CREATE INDEX IF NOT EXISTS duty_changes_user ON duty_changes(user_id);
        CREATE INDEX IF NOT EXISTS bookings_user ON bookings(user_id, date);
        CREATE INDEX IF NOT EXISTS bookings_date ON bookings(date, slot);
        CREATE INDEX IF NOT EXISTS cases_dept_state_due ON cases(responsible_dept, state, due_date);
        CREATE INDEX IF NOT EXISTS cases_handling_unit ON cases(handling_unit_id, state);
        CREATE INDEX IF NOT EXISTS cases_raised_by ON cases(raised_by);
        CREATE INDEX IF NOT EXISTS cases_cadre ON cases(cadre_id, state);
        CREATE INDEX IF NOT EXISTS cases_booking ON cases(booking_id);
        CREATE INDEX IF NOT EXISTS cases_activity ON cases(activity_id);
        CREATE INDEX IF NOT EXISTS case_events_user ON case_events(user_id, action);
        CREATE INDEX IF NOT EXISTS submissions_user ON submissions(user_id);
        CREATE INDEX IF NOT EXISTS api_tokens_created_by ON api_tokens(created_by);
        CREATE INDEX IF NOT EXISTS bookings_cancelled_by ON bookings(cancelled_by);
        """,
    )


@migrations()
def m014_activity_dates(db: Database) -> None:
    """联系活动记录 filters by date and shows the newest first: the live rows by date (the count is read
    from the index, a page is the index's first rows), and every row by date when voided ones are asked."""
    _script(
        db,
        """
        CREATE INDEX IF NOT EXISTS activities_live_date ON activities(date) WHERE voided_at IS NULL;
        CREATE INDEX IF NOT EXISTS activities_date ON activities(date);
        """,
    )


@migrations()
def m015_unit_codes(db: Database) -> None:
    """Real sheets name a unit by its 单位编码 as often as by its name; the policy's short unit
    names (党办, 研工部 …) map onto the installation's units, editable by an administrator; an
    assignment remembers the 对象编号 its sheet used when that was not the unit's own name."""
    _script(
        db,
        """
        ALTER TABLE units ADD COLUMN code TEXT;     -- 单位编码 (optional, unique)
        CREATE UNIQUE INDEX units_code ON units(code) WHERE code IS NOT NULL;
        CREATE TABLE policy_unit_names (        -- the policy's short name → the unit carrying it
            policy_name TEXT PRIMARY KEY,
            unit_id INTEGER REFERENCES units(id) ON DELETE CASCADE  -- NULL: no such unit here
        );
        CREATE INDEX policy_unit_names_unit ON policy_unit_names(unit_id);
        ALTER TABLE assignments ADD COLUMN source_code TEXT;  -- 对象编号 as the sheet gave it
        """,
    )


@migrations()
def m016_notifications(db: Database) -> None:
    """Notifications (portal/notify/outbox.py): the outbox, filled in the transaction of the change that
    causes a message and emptied by ``portal notify run``; each user's channel and opt-outs."""
    _script(
        db,
        """
        CREATE TABLE notify_outbox (
            id INTEGER PRIMARY KEY,
            event TEXT NOT NULL,                 -- booking.confirmed, case.overdue …
            dedupe_key TEXT NOT NULL,            -- the occurrence: one message per occurrence, user, channel
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            channel TEXT NOT NULL CHECK (channel IN ('email', 'wecom', 'wecom_robot', 'dingtalk')),
            payload TEXT NOT NULL,               -- JSON: subject, text, url
            urgent INTEGER NOT NULL DEFAULT 0,   -- sent in quiet hours too
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            sent_at TEXT,
            UNIQUE (dedupe_key, user_id, channel)
        );
        CREATE INDEX notify_outbox_due ON notify_outbox(state, next_attempt_at);
        CREATE INDEX notify_outbox_user ON notify_outbox(user_id);
        CREATE TABLE notify_prefs (
            user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
            channel TEXT NOT NULL DEFAULT 'none'
                CHECK (channel IN ('none', 'email', 'wecom', 'wecom_robot', 'dingtalk')),
            email TEXT NOT NULL DEFAULT '',
            wecom_userid TEXT NOT NULL DEFAULT '',
            webhook TEXT NOT NULL DEFAULT '',    -- a 企业微信 or 钉钉 group robot's address
            webhook_secret TEXT NOT NULL DEFAULT '',  -- 钉钉 加签 secret
            opt_out TEXT NOT NULL DEFAULT '[]',  -- JSON list of topics the user does not want
            opt_in TEXT NOT NULL DEFAULT '[]',   -- JSON list of opt-in topics the user wants
            updated_at TEXT NOT NULL
        );
        """,
    )


@migrations()
def m017_ledger_index(db: Database) -> None:
    """工作台账 counts a whole university's year by date, system and cadre: an index holding exactly
    those of the live records answers it without reading the records' text (2.4 s → 0.3 s at 360k)."""
    _script(
        db,
        """
        CREATE INDEX IF NOT EXISTS activities_live_ledger ON activities(date, system, cadre_id)
            WHERE voided_at IS NULL;
        """,
    )


@migrations()
def m018_notify_skipped(db: Database) -> None:
    """A queued message whose recipient's account was disabled before it went out is not sent: the
    dispatcher marks it 'skipped' (已取消) with the reason (portal/notify/dispatch.py).

    The ``state`` CHECK gains 'skipped' (``_widen_check``, as m012 for ``cases``). Re-runnable.
    """
    _widen_check(
        db,
        "notify_outbox",
        "CHECK (state IN ('pending', 'sent', 'dead'))",
        "CHECK (state IN ('pending', 'sent', 'dead', 'skipped'))",
    )


@migrations()
def m019_case_answers(db: Database) -> None:
    """Every answer a case is given, whole and numbered (1, 2 … after each reopen): the case row holds
    only the latest, and the history kept the first 1,000 characters of each (issue 19 item 13).

    Filled from the history: each 答复 step is an answer; the latest is taken whole from the case row,
    earlier ones as the history kept them (``truncated`` = 1 when that was 1,000 characters, all the
    history ever held). Append-only, like the history. Re-runnable."""
    _script(
        db,
        """
        CREATE TABLE IF NOT EXISTS case_answers (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            seq INTEGER NOT NULL,                -- 1, 2 … in the order given
            body TEXT NOT NULL,
            at TEXT NOT NULL,
            user_id INTEGER REFERENCES users(id),
            truncated INTEGER NOT NULL DEFAULT 0, -- 1: only the first 1,000 characters survived (before m019)
            UNIQUE (case_id, seq)
        );
        CREATE INDEX IF NOT EXISTS case_answers_user ON case_answers(user_id);
        CREATE TRIGGER IF NOT EXISTS case_answers_append_only_u BEFORE UPDATE ON case_answers
            BEGIN SELECT RAISE(ABORT, '答复只能追加，不能修改'); END;
        CREATE TRIGGER IF NOT EXISTS case_answers_append_only_d BEFORE DELETE ON case_answers
            BEGIN SELECT RAISE(ABORT, '答复只能追加，不能删除'); END;
        """,
    )
    if db.execute("SELECT 1 FROM case_answers LIMIT 1").fetchone():
        return
    rows = db.execute(
        "SELECT e.case_id, e.at, e.user_id, e.note, c.answer, "
        "row_number() OVER (PARTITION BY e.case_id ORDER BY e.id), "
        "count(*) OVER (PARTITION BY e.case_id) "
        "FROM case_events e JOIN cases c ON c.id = e.case_id WHERE e.action = 'answered' ORDER BY e.id"
    ).fetchall()
    for case_id, at, user_id, note, latest, seq, total in rows:
        whole = seq == total and latest and latest.startswith(note)
        body = latest if whole else note
        db.execute(
            "INSERT INTO case_answers (case_id, seq, body, at, user_id, truncated) VALUES (?, ?, ?, ?, ?, ?)",
            [case_id, seq, body, at, user_id, int(not whole and len(note) >= 1000)],
        )


@migrations()
def m020_case_ratings(db: Database) -> None:
    """满意度 and 回访 (portal/ratings.py): each answer is rated once — 满意 / 基本满意 / 不满意 — by the
    person who raised the case, or through the office's 回访 (follow-up: how, whom, when); a case sent
    to 督办 names the supervising department.

    Earlier ratings are kept meaningful: a raiser's 满意 (satisfied) becomes 满意 of the answer it
    followed; a raiser's 重新办理 (提出人不满意：…) becomes 不满意 with its reason; a department's
    重新办理 for a raiser who was not satisfied (the old page's 提出人不满意时) becomes a 回访 (方式 其他)
    recording 不满意. Re-runnable."""
    _script(
        db,
        """
        CREATE TABLE IF NOT EXISTS case_ratings (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            answer_id INTEGER NOT NULL UNIQUE REFERENCES case_answers(id),  -- once per answer
            rating TEXT NOT NULL CHECK (rating IN ('satisfied', 'basic', 'unsatisfied')),
            comment TEXT NOT NULL DEFAULT '',
            via TEXT NOT NULL CHECK (via IN ('raiser', 'followup')),
            method TEXT CHECK (method IN ('phone', 'meeting', 'other')),   -- 回访: 电话 / 面谈 / 其他
            caller TEXT NOT NULL DEFAULT '',     -- 回访: who made it
            held_at TEXT,                        -- 回访: when it took place
            outcome TEXT NOT NULL CHECK (outcome IN ('closed', 'reopened', 'supervised')),
            user_id INTEGER REFERENCES users(id),  -- who recorded it: the raiser, or the office's clerk
            at TEXT NOT NULL,
            CHECK ((via = 'followup') = (method IS NOT NULL))
        );
        CREATE INDEX IF NOT EXISTS case_ratings_case ON case_ratings(case_id);
        CREATE INDEX IF NOT EXISTS case_ratings_user ON case_ratings(user_id);
        CREATE TRIGGER IF NOT EXISTS case_ratings_append_only_u BEFORE UPDATE ON case_ratings
            BEGIN SELECT RAISE(ABORT, '评价只能追加，不能修改'); END;
        CREATE TRIGGER IF NOT EXISTS case_ratings_append_only_d BEFORE DELETE ON case_ratings
            BEGIN SELECT RAISE(ABORT, '评价只能追加，不能删除'); END;
        """,
    )
    if "supervisor" not in {r[1] for r in db.execute("PRAGMA table_info(cases)")}:
        # the department that supervises (督办) a case sent there by a 不满意; '' when none
        db.execute("ALTER TABLE cases ADD COLUMN supervisor TEXT NOT NULL DEFAULT ''")
    if db.execute("SELECT 1 FROM case_ratings LIMIT 1").fetchone():
        return
    answers = {(c, seq): i for i, c, seq in db.execute("SELECT id, case_id, seq FROM case_answers")}
    given: dict[int, int] = {}  # case -> answers given so far, walking its history in order
    rated: set[int] = set()
    for case_id, action, at, user_id, note in db.execute(
        "SELECT case_id, action, at, user_id, note FROM case_events "
        "WHERE action IN ('answered', 'satisfied', 'reopened') ORDER BY case_id, id"
    ).fetchall():
        if action == "answered":
            given[case_id] = given.get(case_id, 0) + 1
            continue
        answer = answers.get((case_id, given.get(case_id, 0)))
        if answer is None or answer in rated:
            continue
        reason = note.split("（新的办理期限")[0]
        if action == "satisfied":
            row = ["satisfied", "" if note == "满意" else note, "raiser", None, "", None, "closed"]
        elif reason.startswith("提出人不满意："):
            row = ["unsatisfied", reason.removeprefix("提出人不满意："), "raiser", None, "", None, "reopened"]
        else:
            row = ["unsatisfied", reason, "followup", "other", "", at, "reopened"]
        rating, comment, via, method, caller, held_at, outcome = row
        db.execute(
            "INSERT INTO case_ratings (case_id, answer_id, rating, comment, via, method, caller, held_at, "
            "outcome, user_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [case_id, answer, rating, comment, via, method, caller, held_at, outcome, user_id, at],
        )
        rated.add(answer)


@migrations()
def m021_audit_chain(db: Database) -> None:
    """The audit log (portal/audit.py) says from where and with what outcome, and becomes
    append-only and tamper-evident:

    * ``actor`` (who, when there is no account: the name typed at a failed login, the command
      line's user, an API token), ``address`` (the client's, portal/addresses.py), ``outcome``
      (ok, failed, refused);
    * ``hash`` chains each entry to the one before (portal/chain.py); the existing rows are
      chained here, once, in id order;
    * triggers refuse every UPDATE and every DELETE but the retention purge's: ``audit_anchor``
      (one row) keeps the last purged entry's id and hash, from which the remaining chain is
      verified; it only moves forward, to an entry at least 179 days old whose hash it copies.
    """
    _script(
        db,
        """
        ALTER TABLE audit_log ADD COLUMN actor TEXT NOT NULL DEFAULT '';
        ALTER TABLE audit_log ADD COLUMN address TEXT NOT NULL DEFAULT '';
        ALTER TABLE audit_log ADD COLUMN outcome TEXT NOT NULL DEFAULT 'ok'
            CHECK (outcome IN ('ok', 'failed', 'refused'));
        ALTER TABLE audit_log ADD COLUMN hash TEXT NOT NULL DEFAULT '';
        CREATE INDEX audit_log_at ON audit_log(at);
        CREATE INDEX audit_log_address ON audit_log(address);
        CREATE TABLE audit_anchor (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            anchor_id INTEGER NOT NULL DEFAULT 0,    -- the last entry purged (0: none yet)
            anchor_hash TEXT NOT NULL,               -- its hash: the chain goes on from here
            purged_at TEXT
        );
        """,
    )
    db.execute("INSERT INTO audit_anchor (id, anchor_id, anchor_hash) VALUES (1, 0, ?)", [GENESIS])
    previous = GENESIS
    rows = db.execute(f"SELECT id, {', '.join(COLUMNS)} FROM audit_log ORDER BY id").fetchall()
    for row in rows:
        previous = entry_hash(previous, row[1:])
        db.execute("UPDATE audit_log SET hash = ? WHERE id = ?", [previous, row[0]])
    _script(
        db,
        """
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
        BEGIN
            SELECT RAISE(ABORT, 'audit_log is append-only');
        END;
        CREATE TRIGGER audit_log_purge_only BEFORE DELETE ON audit_log
        WHEN OLD.id > (SELECT anchor_id FROM audit_anchor WHERE id = 1)
        BEGIN
            SELECT RAISE(ABORT, 'audit_log entries are removed only by the retention purge');
        END;
        CREATE TRIGGER audit_anchor_forward BEFORE UPDATE ON audit_anchor
        WHEN NEW.id IS NOT 1 OR NEW.anchor_id < OLD.anchor_id
            OR NEW.anchor_hash IS NOT (SELECT hash FROM audit_log WHERE id = NEW.anchor_id)
            OR (SELECT at FROM audit_log WHERE id = NEW.anchor_id) >= date('now', '-179 days')
        BEGIN
            SELECT RAISE(ABORT, 'the audit anchor moves forward only, to an entry kept 180 days');
        END;
        CREATE TRIGGER audit_anchor_kept BEFORE DELETE ON audit_anchor
        BEGIN
            SELECT RAISE(ABORT, 'the audit anchor is kept');
        END;
        CREATE TRIGGER audit_anchor_single BEFORE INSERT ON audit_anchor
        BEGIN
            SELECT RAISE(ABORT, 'the audit anchor is one row');
        END;
        """,
    )


@migrations()
def m022_job_runs(db: Database) -> None:
    """What the scheduled jobs did (portal/jobs.py): one row per run of ``portal notify run``,
    ``portal cases --remind``, ``portal backup``, ``portal audit purge`` …, so that a failed run is
    visible to monitoring on the health route (portal/health.py), not only as an exit status once.
    The 企业微信 access token is kept here between runs, with its expiry, as WeCom asks
    (portal/notify/channels.py)."""
    _script(
        db,
        """
        CREATE TABLE job_runs (
            id INTEGER PRIMARY KEY,
            job TEXT NOT NULL,                   -- notify.run, cases.remind, backup …
            started_at TEXT NOT NULL,
            finished_at TEXT,                    -- NULL: running (or killed)
            outcome TEXT NOT NULL DEFAULT 'running' CHECK (outcome IN ('running', 'ok', 'failed')),
            summary TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX job_runs_job ON job_runs(job, started_at);
        CREATE TABLE wecom_tokens (
            key TEXT PRIMARY KEY,                -- API, corp id and agent id
            token TEXT NOT NULL,
            expires_at REAL NOT NULL             -- Unix time
        );
        """,
    )


@migrations()
def m023_reception_waitlist(db: Database) -> None:
    """The reception day's waiting list, no-show limits and the reminder's one-tap links
    (portal/reception/waitlist.py, bans.py, actions.py).

    * ``waitlist``: one person waiting for a day (``slot`` NULL: any slot), with what a booking
      needs, promoted into the first place that frees; one waiting entry per person and day.
    * ``bookings.confirm_by`` / ``confirmed_at``: a place offered from the waiting list is held
      until ``confirm_by``; ``confirmed_at`` is the holder's 确认前往 (an offer accepted, or the
      day-before reminder's link).
    * ``booking_bans``: no booking until ``until``, from the no-show rule; lifted with a reason.
    * ``booking_links``: the single-use links of the reminder (确认前往, 取消预约).
    """
    _script(
        db,
        """
        CREATE TABLE waitlist (
            id INTEGER PRIMARY KEY,              -- the order of the list
            date TEXT NOT NULL REFERENCES duty_days(date),
            slot TEXT,                           -- NULL: any slot of the day
            user_id INTEGER NOT NULL REFERENCES users(id),
            category TEXT NOT NULL,
            subject TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            phone TEXT NOT NULL,
            group_size INTEGER NOT NULL DEFAULT 1 CHECK (group_size BETWEEN 1 AND 3),
            state TEXT NOT NULL DEFAULT 'waiting'
                CHECK (state IN ('waiting', 'promoted', 'left', 'expired', 'day_cancelled')),
            created_at TEXT NOT NULL,
            ended_at TEXT,
            end_reason TEXT NOT NULL DEFAULT '',
            booking_id INTEGER REFERENCES bookings(id)
        );
        CREATE UNIQUE INDEX waitlist_one_per_day ON waitlist(user_id, date) WHERE state = 'waiting';
        CREATE INDEX waitlist_queue ON waitlist(date, id) WHERE state = 'waiting';
        CREATE INDEX waitlist_user ON waitlist(user_id, date);
        CREATE INDEX waitlist_date ON waitlist(date, state);
        CREATE INDEX waitlist_booking ON waitlist(booking_id);
        ALTER TABLE bookings ADD COLUMN confirm_by TEXT;
        ALTER TABLE bookings ADD COLUMN confirmed_at TEXT;
        CREATE INDEX bookings_offers ON bookings(confirm_by)
            WHERE confirm_by IS NOT NULL AND confirmed_at IS NULL AND status = 'booked';
        CREATE TABLE booking_bans (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            starts TEXT NOT NULL,                -- the day completed that made it
            until TEXT NOT NULL,                 -- booking again from this day
            reason TEXT NOT NULL,
            basis TEXT NOT NULL DEFAULT '[]',    -- JSON: the no-show bookings it counted
            created_at TEXT NOT NULL,
            lifted_at TEXT,
            lifted_by INTEGER REFERENCES users(id),
            lift_reason TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX booking_bans_user ON booking_bans(user_id, until);
        CREATE INDEX booking_bans_lifted_by ON booking_bans(lifted_by);
        CREATE TABLE booking_links (
            nonce TEXT PRIMARY KEY,
            booking_id INTEGER NOT NULL REFERENCES bookings(id),
            action TEXT NOT NULL CHECK (action IN ('confirm', 'cancel')),
            created_at TEXT NOT NULL,
            used_at TEXT
        );
        CREATE INDEX booking_links_booking ON booking_links(booking_id);
        """,
    )


@migrations()
def m024_sso_links(db: Database) -> None:
    """Campus identities an administrator linked to an account by hand (portal/provisioning.py): the
    only way an administrator's or a department's account is reached by single sign-on."""
    _script(
        db,
        """
        CREATE TABLE IF NOT EXISTS sso_links (
            staff_no TEXT PRIMARY KEY,           -- the identity's 工号/学号, exactly as the provider sends it
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            linked_by INTEGER REFERENCES users(id),
            linked_at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS sso_links_user ON sso_links(user_id);
        CREATE INDEX IF NOT EXISTS sso_links_linked_by ON sso_links(linked_by);
        """,
    )


@migrations()
def m025_case_kpi_indexes(db: Database) -> None:
    """The KPIs (portal/kpis.py) read a period's cases by contact date and each case's first response
    (its earliest 转办, 进展 or 答复 step) from the history: an index for each."""
    _script(
        db,
        """
        CREATE INDEX IF NOT EXISTS cases_contact_date ON cases(contact_date);
        CREATE INDEX IF NOT EXISTS case_events_case_action ON case_events(case_id, action, at);
        """,
    )


@migrations()
def m026_feed_token_digest(db: Database) -> None:
    """A calendar feed's address no longer starts with the user id (portal/feeds.py): a request
    finds its user by the SHA-256 of its token, noted here when the address is shown (never the
    token itself). Addresses of the earlier form stop; feeds.py says so to calendar apps."""
    if "token_hash" not in {c[1] for c in db.execute("PRAGMA table_info(feed_keys)")}:
        db.execute("ALTER TABLE feed_keys ADD COLUMN token_hash TEXT")
    db.execute("CREATE UNIQUE INDEX IF NOT EXISTS feed_keys_token ON feed_keys(token_hash)")


@migrations()
def m027_answer_publication(db: Database) -> None:
    """答复公开 (portal/publication.py): the raisers' consents to publish the answer to what they raised,
    with the words they saw (append-only: the evidence; the latest word about a case or its booking
    is in force), and the answers published, de-identified and edited (blanked when taken down)."""
    _script(
        db,
        """
        CREATE TABLE IF NOT EXISTS publish_consents (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            booking_id INTEGER REFERENCES bookings(id),
            case_id INTEGER REFERENCES cases(id),
            given INTEGER NOT NULL CHECK (given IN (0, 1)),     -- 1 consents, 0 withdraws
            wording TEXT NOT NULL,                               -- what the person was shown
            at TEXT NOT NULL,
            CHECK ((booking_id IS NULL) != (case_id IS NULL))
        );
        CREATE INDEX IF NOT EXISTS publish_consents_case ON publish_consents(case_id);
        CREATE INDEX IF NOT EXISTS publish_consents_booking ON publish_consents(booking_id);
        CREATE INDEX IF NOT EXISTS publish_consents_user ON publish_consents(user_id);
        CREATE TRIGGER IF NOT EXISTS publish_consents_append_only_u BEFORE UPDATE ON publish_consents
            BEGIN SELECT RAISE(ABORT, '同意记录只能追加，不能修改'); END;
        CREATE TRIGGER IF NOT EXISTS publish_consents_append_only_d BEFORE DELETE ON publish_consents
            BEGIN SELECT RAISE(ABORT, '同意记录只能追加，不能删除'); END;
        CREATE TABLE IF NOT EXISTS publications (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL UNIQUE REFERENCES cases(id),
            question TEXT NOT NULL,              -- de-identified and edited ('' once taken down)
            answer TEXT NOT NULL,
            department TEXT NOT NULL,
            source TEXT NOT NULL,
            published_by INTEGER REFERENCES users(id),
            published_at TEXT NOT NULL,
            withdrawn_at TEXT,                   -- taken down: by the raiser's withdrawal or by 党办/校办
            withdrawn_by INTEGER REFERENCES users(id),
            withdraw_reason TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX IF NOT EXISTS publications_live ON publications(published_at) WHERE withdrawn_at IS NULL;
        CREATE INDEX IF NOT EXISTS publications_published_by ON publications(published_by);
        CREATE INDEX IF NOT EXISTS publications_withdrawn_by ON publications(withdrawn_by);
        """,
    )


@migrations()
def m028_case_desk(db: Database) -> None:
    """What departments do all day (portal/case_merge.py, portal/answer_templates.py): a duplicate case
    merged into another follows it (``merged_into``: its raiser is answered with it, and its number
    still leads to it); 常用答复, each department's own answer templates. Re-runnable."""
    if "merged_into" not in {r[1] for r in db.execute("PRAGMA table_info(cases)")}:
        db.execute("ALTER TABLE cases ADD COLUMN merged_into INTEGER REFERENCES cases(id)")
    _script(
        db,
        """
        CREATE INDEX IF NOT EXISTS cases_merged_into ON cases(merged_into);
        CREATE TABLE IF NOT EXISTS answer_templates (
            id INTEGER PRIMARY KEY,
            department TEXT NOT NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            updated_by INTEGER REFERENCES users(id),
            updated_at TEXT NOT NULL,
            UNIQUE (department, title)
        );
        CREATE INDEX IF NOT EXISTS answer_templates_user ON answer_templates(updated_by);
        """,
    )


@migrations()
def m029_retention(db: Database) -> None:
    """Retention (portal/retention.py): an account remembers since when it is disabled, so the rule for
    people who left can count from then. Accounts disabled already count from this migration (never
    from an earlier, unknown day: they are kept the whole period from now)."""
    if "disabled_at" not in {c[1] for c in db.execute("PRAGMA table_info(users)")}:
        db.execute("ALTER TABLE users ADD COLUMN disabled_at TEXT")
    db.execute(
        "UPDATE users SET disabled_at = strftime('%Y-%m-%dT%H:%M:%S+08:00', 'now', '+8 hours') "
        "WHERE is_active = 0 AND disabled_at IS NULL"
    )
    db.execute("CREATE INDEX IF NOT EXISTS users_disabled ON users(disabled_at) WHERE is_active = 0")


@migrations()
def m030_session_end_reasons(db: Database) -> None:
    """Why a session ended (portal/sessions.py ENDED: logout, password_changed, password_reset,
    disabled, single_logout, unlinked; idle and expired when it ended by itself), so the login page can
    say so. Sessions ended before have none (shown as a logout)."""
    if "ended_reason" not in {c[1] for c in db.execute("PRAGMA table_info(sessions)")}:
        db.execute("ALTER TABLE sessions ADD COLUMN ended_reason TEXT")


@migrations()
def m031_password_flags(db: Database) -> None:
    """Two flags on an account's password (portal/accounts.py): ``must_change_password`` (an initial or
    reset password, set by someone else than its holder: changed at the first login) and
    ``demo_password`` (the demo's published password, set by ``portal demo``: the console and the login
    page warn while one is in use). Changing or resetting the password clears ``demo_password``."""
    found = {c[1] for c in db.execute("PRAGMA table_info(users)")}
    if "must_change_password" not in found:
        db.execute("ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0")
    if "demo_password" not in found:
        db.execute("ALTER TABLE users ADD COLUMN demo_password INTEGER NOT NULL DEFAULT 0")
    db.execute(
        "CREATE INDEX IF NOT EXISTS users_demo_password ON users(demo_password) WHERE demo_password = 1"
    )


@migrations()
def m032_login_attempt_times(db: Database) -> None:
    """When a name's last failed login was (``login_attempts.last_at``), so that ``portal purge`` deletes a
    count past its period (portal/retention.py): the names typed at failed logins — mistyped ones, e-mail
    addresses, passwords typed into the 账号 box — were kept for ever. Counts from before have none and
    go at the next purge unless a lock of theirs is still in force."""
    if "last_at" not in {c[1] for c in db.execute("PRAGMA table_info(login_attempts)")}:
        db.execute("ALTER TABLE login_attempts ADD COLUMN last_at TEXT")


# (table, its one text column the retention may de-identify, the message of a refused change)
RETENTION_TEXTS = (
    ("case_answers", "body", "答复只能追加，不能修改"),
    ("case_ratings", "comment", "评价只能追加，不能修改"),
    ("case_events", "note", "办理记录只能追加，不能修改"),
)


@migrations()
def m033_retention_pass(db: Database) -> None:
    """The append-only records of a case (its answers, ratings and 回访, its history with 内部备注) name
    the raiser as often as the question does, so the retention (portal/retention.py) must be able to
    de-identify their text past the cases' period. Each stays append-only: no column but its text may
    ever change, and the text only while ``retention_pass`` holds its row — which the retention inserts
    and deletes inside its own write transaction, so no other connection ever sees it."""
    db.execute("CREATE TABLE IF NOT EXISTS retention_pass (id INTEGER PRIMARY KEY CHECK (id = 1))")
    for table, text, message in RETENTION_TEXTS:
        others = [c[1] for c in db.execute(f"PRAGMA table_info({table})") if c[1] != text]
        _script(
            db,
            f"""
            DROP TRIGGER IF EXISTS {table}_append_only_u;
            CREATE TRIGGER {table}_append_only_u BEFORE UPDATE OF {", ".join(others)} ON {table}
                BEGIN SELECT RAISE(ABORT, '{message}'); END;
            CREATE TRIGGER IF NOT EXISTS {table}_text_only_by_retention BEFORE UPDATE OF {text} ON {table}
                WHEN NOT EXISTS (SELECT 1 FROM retention_pass)
                BEGIN SELECT RAISE(ABORT, '{message}'); END;
            """,
        )


@migrations()
def m034_login_attempts_by_address(db: Database) -> None:
    """Failed logins counted per name *and* client address (``login_attempts`` keeps the count per name
    across all addresses): five wrong passwords from one address lock the name for that address only,
    so that anyone could no longer lock any account — the administrator's among them — for everyone.
    Kept and purged like ``login_attempts`` (the addresses too: ``portal purge``)."""
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS login_attempts_by_address (
            username TEXT NOT NULL,
            address TEXT NOT NULL,
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until TEXT,
            last_at TEXT,
            PRIMARY KEY (username, address)
        )
        """
    )
