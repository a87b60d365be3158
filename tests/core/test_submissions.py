"""Exactly-once submissions: the same form token creates once, whatever the clicks and the races."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from portal import submissions
from portal.db import open_db, write
from portal.errors import Conflict


def _create(db, name: str) -> int:
    with write(db):
        return db.execute(
            "INSERT INTO audit_log (at, action, detail) VALUES ('x', 'test', ?)", [name]
        ).lastrowid


def test_a_resubmitted_token_returns_what_it_created(db):
    token = submissions.new_token()
    first = submissions.once(db, token, "note", lambda: _create(db, "a"))
    again = submissions.once(db, token, "note", lambda: _create(db, "b"))
    assert first.created and not again.created
    assert again.object_id == first.object_id
    assert db.execute("SELECT count(*) FROM audit_log WHERE action = 'test'").fetchone()[0] == 1


def test_a_result_is_kept_with_the_token(db):
    token = submissions.new_token()
    submissions.once(db, token, "import", lambda: (None, {"新增": 3}))
    assert submissions.once(db, token, "import", lambda: (None, {"新增": 9})).result == {"新增": 3}


def test_a_failed_create_leaves_the_token_free(db):
    token = submissions.new_token()

    def boom():
        _create(db, "half")
        raise ValueError("bad input")

    with pytest.raises(ValueError):
        submissions.once(db, token, "note", boom)
    assert db.execute("SELECT count(*) FROM audit_log WHERE action = 'test'").fetchone()[0] == 0
    assert submissions.once(db, token, "note", lambda: _create(db, "ok")).created


def test_a_token_of_another_form_is_refused(db):
    token = submissions.new_token()
    submissions.once(db, token, "note", lambda: _create(db, "a"))
    with pytest.raises(Conflict, match="表单已失效"):
        submissions.once(db, token, "booking", lambda: _create(db, "b"))


def test_racing_submits_with_one_token_create_once(tmp_path):
    path = tmp_path / "portal.sqlite3"
    with open_db(path):
        pass
    token = submissions.new_token()
    start = threading.Barrier(16)
    outcomes = []

    def submit():
        with open_db(path) as db:
            start.wait()
            outcomes.append(submissions.once(db, token, "note", lambda: _create(db, "race")))

    threads = [threading.Thread(target=submit) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(o.created for o in outcomes) == 1
    assert len({o.object_id for o in outcomes}) == 1
    with open_db(path) as db:
        assert db.execute("SELECT count(*) FROM audit_log WHERE action = 'test'").fetchone()[0] == 1


def test_old_tokens_are_purged(db):
    token = submissions.new_token()
    submissions.once(db, token, "note", lambda: _create(db, "a"))
    assert submissions.purge(db, now=dt.datetime.now() + dt.timedelta(days=31)) == 1


def test_a_case_action_is_the_same_submission_until_its_text_or_round_changes():
    """The case panel's token (``case_action_token``): a double click of 记录进展 with the same text
    is one submission; another text, or the same text after the case was reopened, is a new one."""
    rendering = submissions.new_token()
    first = submissions.case_action_token(rendering, 0, "已联系后勤处")
    assert submissions.case_action_token(rendering, 0, " 已联系后勤处\n") == first
    assert submissions.case_action_token(rendering, 0, "已联系后勤处，本周维修") != first
    assert submissions.case_action_token(rendering, 1, "已联系后勤处") != first
    assert submissions.case_action_token(submissions.new_token(), 0, "已联系后勤处") != first
    assert first == submissions.token_for(rendering, 0, "已联系后勤处")  # the form pages' one way
