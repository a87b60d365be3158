"""答复公开 (issue 21 item 10): answers published without the raiser's name, only with his or her
separate, revocable consent; chosen and edited by 党办/校办; read and searched by everyone logged in."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import accounts, audit, publication, reception
from portal.errors import NotFound, PermissionDenied, ValidationError


def _answered(db, *, from_booking: bool = True) -> dict:
    """An answered case raised by a visitor (a reception hand-over of the demo university)."""
    row = db.execute(
        "SELECT c.id, c.number, c.raised_by, c.booking_id, c.raiser_name, c.content FROM cases c "
        "WHERE c.state IN ('answered', 'closed') AND c.raised_by IS NOT NULL AND (c.booking_id IS NOT NULL) = ? "
        "AND NOT EXISTS (SELECT 1 FROM publish_consents pc WHERE pc.case_id = c.id OR pc.booking_id = c.booking_id) "
        "ORDER BY c.id LIMIT 1",
        [from_booking],
    ).fetchone()
    assert row is not None
    keys = ("id", "number", "raised_by", "booking_id", "raiser_name", "content")
    return dict(zip(keys, row, strict=True))


def _raiser(db, case):
    return accounts.get_user(db, case["raised_by"])


def test_no_consent_is_assumed_and_nothing_unconsented_can_be_published(demo_db):
    case = _answered(demo_db)
    dangban = accounts.find_user(demo_db, "dangban")
    assert publication.consents(demo_db, [case["id"]]) == {case["id"]: False}
    assert case["id"] not in {c.case_id for c in publication.candidates(demo_db, dangban)}
    with pytest.raises(NotFound):
        publication.draft(demo_db, dangban, case["id"])
    with pytest.raises(ValidationError, match="未同意"):
        publication.publish(demo_db, dangban, case["id"], "问题", "答复")


def test_a_booking_made_with_consent_carries_it_and_one_without_does_not(demo_db):
    student, staff = accounts.find_user(demo_db, "2023000001"), accounts.find_user(demo_db, "30000001")
    day = dt.date(2026, 12, 2)
    now = dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC)
    free = [s.slot for s in reception.slots(demo_db, day) if s.free]
    base = {"date": day, "category": "后勤保障", "subject": "宿舍热水", "phone": "13912345678"}
    with_consent = reception.book(
        demo_db, student, reception.BookingInput(slot=free[0], publish_consent=True, **base), now=now
    )
    without = reception.book(demo_db, staff, reception.BookingInput(slot=free[1], **base), now=now)
    assert publication.booking_consent(demo_db, with_consent.id)
    assert not publication.booking_consent(demo_db, without.id)
    wording = demo_db.execute("SELECT wording FROM publish_consents WHERE booking_id = ?", [with_consent.id])
    assert "隐去" in wording.fetchone()[0]  # the words the person saw, kept as evidence


def test_only_the_raiser_gives_or_withdraws_consent(demo_db):
    case = _answered(demo_db)
    someone = accounts.find_user(demo_db, "2023000001")
    assert someone.id != case["raised_by"]
    with pytest.raises(NotFound):
        publication.record_consent(demo_db, someone, given=True, case_id=case["id"])
    with pytest.raises(NotFound):
        publication.record_consent(demo_db, someone, given=True, booking_id=case["booking_id"])


def test_only_dangban_and_xiaoban_choose_what_is_published(demo_db):
    case = _answered(demo_db)
    publication.record_consent(demo_db, _raiser(demo_db, case), given=True, booking_id=case["booking_id"])
    for who in ("jiaowu", "admin", "2023000001", "10000001"):
        user = accounts.find_user(demo_db, who)
        with pytest.raises(PermissionDenied):
            publication.candidates(demo_db, user)
        with pytest.raises(PermissionDenied):
            publication.publish(demo_db, user, case["id"], "问题", "答复")
    xiaoban = accounts.find_user(demo_db, "xiaoban")
    assert case["id"] in {c.case_id for c in publication.candidates(demo_db, xiaoban)}


def test_the_draft_hides_the_raiser_and_publishing_makes_it_readable_by_everyone(demo_db, monkeypatch):
    monkeypatch.setenv("PORTAL_NOTIFY_DEFAULT_CHANNEL", "email")
    monkeypatch.setenv("PORTAL_NOTIFY_EMAIL_DOMAIN", "hpu.edu.cn")
    case = _answered(demo_db)
    raiser = _raiser(demo_db, case)
    publication.record_consent(
        demo_db, raiser, given=True, booking_id=case["booking_id"]
    )  # on the booking form
    dangban = accounts.find_user(demo_db, "dangban")
    draft = publication.draft(demo_db, dangban, case["id"])
    assert case["raiser_name"] in draft.original_question
    assert case["raiser_name"] not in draft.question and "某某" in draft.question
    assert "姓名" in draft.hidden
    unit = demo_db.execute(
        "SELECT u.name FROM users a JOIN people p ON p.id = a.person_id JOIN units u ON u.id = p.unit_id "
        "WHERE a.id = ?",
        [raiser.id],
    ).fetchone()[0]
    assert unit not in draft.question + draft.answer
    before = publication.search(demo_db, "").total  # the demo's published answers
    made = publication.publish(demo_db, dangban, case["id"], draft.question, draft.answer + "\n（已核实）")
    assert made.withdrawn_at is None and made.answer.endswith("（已核实）")
    found = publication.search(demo_db, "")
    assert found.items[0].case_id == case["id"] and found.total == before + 1
    assert [p.case_id for p in publication.search(demo_db, "已核实").items] == [case["id"]]
    word = draft.question.split("反映：", 1)[-1][:6]
    assert publication.search(demo_db, "没有这样的内容").total == 0
    assert publication.search(demo_db, "\x00%_\\").total == 0  # hostile terms are plain characters
    entries = audit.search(demo_db, category="publication.").entries
    assert entries[0].label == "公开答复" and case["number"] in entries[0].detail
    told = demo_db.execute(
        "SELECT user_id, payload FROM notify_outbox WHERE event = 'case.published' ORDER BY id DESC"
    ).fetchone()
    assert told[0] == raiser.id and case["number"] in told[1] and "我的诉求" in told[1]
    assert word not in told[1]  # the message carries no part of what was raised


def test_text_that_still_identifies_the_raiser_is_refused(demo_db):
    case = _answered(demo_db)
    raiser = _raiser(demo_db, case)
    publication.record_consent(demo_db, raiser, given=True, case_id=case["id"])  # on 我的诉求
    dangban = accounts.find_user(demo_db, "dangban")
    draft = publication.draft(demo_db, dangban, case["id"])
    with pytest.raises(ValidationError, match="姓名"):
        publication.publish(demo_db, dangban, case["id"], draft.question + case["raiser_name"], draft.answer)
    with pytest.raises(ValidationError, match="工号"):
        publication.publish(
            demo_db, dangban, case["id"], draft.question, f"请学号{raiser.username}的同学来电"
        )
    # an office's telephone number is kept only when the editor says it is nobody's
    office = draft.answer + "\n咨询电话：0391-3987654"
    with pytest.raises(ValidationError, match="勾选确认"):
        publication.publish(demo_db, dangban, case["id"], draft.question, office)
    made = publication.publish(demo_db, dangban, case["id"], draft.question, office, keep=True)
    assert "0391-3987654" in made.answer
    # the audit log names the number kept, masked as every number typed into it is (audit.record_many)
    assert "039****7654" in audit.search(demo_db, category="publication.").entries[0].detail
    assert [p.case_id for p in publication.search(demo_db, "3987654").items] == [case["id"]]


def test_withdrawing_consent_takes_the_answer_down_at_once_and_leaves_no_copy(demo_db):
    case = _answered(demo_db)
    raiser = _raiser(demo_db, case)
    publication.record_consent(demo_db, raiser, given=True, booking_id=case["booking_id"])
    dangban = accounts.find_user(demo_db, "dangban")
    draft = publication.draft(demo_db, dangban, case["id"])
    before = publication.search(demo_db).total
    publication.publish(demo_db, dangban, case["id"], draft.question, draft.answer)
    assert publication.search(demo_db).total == before + 1
    publication.record_consent(demo_db, raiser, given=False, case_id=case["id"])  # on 我的诉求
    assert publication.search(demo_db).total == before
    row = demo_db.execute(
        "SELECT question, answer, withdrawn_at, withdraw_reason FROM publications WHERE case_id = ?",
        [case["id"]],
    ).fetchone()
    assert row[0] == row[1] == "" and row[2] and row[3] == publication.WITHDRAWN_BY_RAISER
    assert case["id"] not in {c.case_id for c in publication.candidates(demo_db, dangban)}
    labels = [e.label for e in audit.search(demo_db, category="consent.").entries][:2]
    assert labels == ["撤回公开答复的同意", "同意公开答复"]
    # consent given again: a candidate again, to be published anew
    publication.record_consent(demo_db, raiser, given=True, case_id=case["id"])
    again = next(c for c in publication.candidates(demo_db, dangban) if c.case_id == case["id"])
    assert again.republish


def test_dangban_takes_an_answer_down_with_a_reason(demo_db):
    case = _answered(demo_db)
    publication.record_consent(demo_db, _raiser(demo_db, case), given=True, case_id=case["id"])
    dangban = accounts.find_user(demo_db, "dangban")
    draft = publication.draft(demo_db, dangban, case["id"])
    before = publication.search(demo_db).total
    made = publication.publish(demo_db, dangban, case["id"], draft.question, draft.answer)
    with pytest.raises(ValidationError):
        publication.unpublish(demo_db, dangban, made.id, "")
    publication.unpublish(demo_db, dangban, made.id, "内容已过时")
    assert publication.search(demo_db).total == before
    with pytest.raises(NotFound):
        publication.unpublish(demo_db, dangban, made.id, "再撤一次")


def test_the_consent_records_are_append_only(demo_db):
    case = _answered(demo_db)
    publication.record_consent(demo_db, _raiser(demo_db, case), given=True, case_id=case["id"])
    with pytest.raises(Exception, match="只能追加"):
        demo_db.execute("UPDATE publish_consents SET given = 0 WHERE case_id = ?", [case["id"]])
    with pytest.raises(Exception, match="只能追加"):
        demo_db.execute("DELETE FROM publish_consents")


@pytest.mark.parametrize(
    "spelling",
    [
        lambda n: n.translate(str.maketrans("0123456789", "０１２３４５６７８９")),  # full-width
        lambda n: n.translate(str.maketrans("0123456789", "〇一二三四五六七八九")),  # written out
        lambda n: f"{n[:3]}.{n[3:7]}.{n[7:]}",
        lambda n: f"({n[:3]}){n[3:7]}-{n[7:]}",
    ],
)
def test_the_raisers_own_number_is_refused_however_written_even_with_the_box_ticked(demo_db, spelling):
    """The box 与个人无关 lets an office's number stay; the raiser's own number never. It was recognised
    only in ASCII digits: written full-width or out in words, the raiser's telephone number counted as
    some office's, and ticking the box published it."""
    case = _answered(demo_db)
    raiser = _raiser(demo_db, case)
    number = demo_db.execute("SELECT phone FROM bookings WHERE id = ?", [case["booking_id"]]).fetchone()[0]
    assert len(number) == 11
    publication.record_consent(demo_db, raiser, given=True, case_id=case["id"])
    dangban = accounts.find_user(demo_db, "dangban")
    draft = publication.draft(demo_db, dangban, case["id"])
    with pytest.raises(ValidationError, match="可能识别个人"):
        publication.publish(
            demo_db,
            dangban,
            case["id"],
            draft.question,
            draft.answer + f"\n咨询电话：{spelling(number)}",
            keep=True,
        )
