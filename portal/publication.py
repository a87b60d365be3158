"""答复公开: answers published without the raiser's name, only with his or her separate consent.

PIPL Art. 25 lets personal information be made public only with the person's separate consent; an
answer to what someone raised is his or her personal information until nothing in it points at
the person. So:

* **Consent** is asked for on its own — a box of its own on 预约接待 (never ticked in advance), and
  on 我的诉求 for every case the person raised (a reception hand-over, an opinion raised in an
  activity) — and recorded with the words the person saw (``publish_consents``, append-only: the
  evidence). The latest word about a case or the booking it came from is in force. Withdrawing it
  unpublishes the answer at once, in the same transaction, and the published text is blanked: no
  copy stays.
* **Publishing** is for 党办/校办 (the offices that coordinate what is raised): among answered cases
  whose raiser consents, they open one, get a draft of the question and the answer with what
  identifies a person hidden (``portal.scrub``), edit it, and publish. The edited text is checked
  again: a name, 工号 or number the portal knows to be the raiser's is refused; a number or address
  of another kind (an office's telephone) is kept only when the editor says it is nobody's.
* **Reading**: every logged-in user reads and searches the published answers (答复公开).

Every consent, withdrawal, publication and removal is audited.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlite_utils import Database

from . import audit, dates, links, scrub, text
from .accounts import User
from .db import write
from .errors import NotFound, PermissionDenied, ValidationError
from .notify.outbox import emit, message
from .policy import policy

CONSENT_LABEL = (
    "同意在隐去姓名、工号/学号、联系方式等个人信息后，公开本次反映事项及其答复（选填，可随时撤回）"
)
CONSENT_WORDING = (
    "我同意：本次反映的事项答复后，学校可以在隐去我的姓名、工号/学号、联系方式、所在班级宿舍等个人信息后，"
    "在平台“答复公开”栏目公开问题和答复，供全校师生查阅。是否同意不影响办理；我可以随时在“我的诉求”撤回，"
    "撤回后已公开的内容立即撤下。"
)
WITHDRAWN_BY_RAISER = "提出人撤回同意"
TEXT_MAX = 5000
PAGE_SIZE = 20
PUBLISHABLE = ("answered", "closed")
SOURCE_LABELS = {"reception": "接待日", "symposium": "座谈", "other": "其他联系"}
# the system whose departments (党办, 校办) run the reception day: they choose what is published
RECEPTION_SYSTEM = "接待日"

# the consent in force for a case: the latest word about the case or about the booking it came from
_CONSENT = (
    "(SELECT pc.given FROM publish_consents pc WHERE pc.case_id = c.id "
    "OR (c.booking_id IS NOT NULL AND pc.booking_id = c.booking_id) ORDER BY pc.id DESC LIMIT 1)"
)


class Publication(BaseModel):
    id: int
    case_id: int
    question: str
    answer: str
    department: str
    source: str
    published_at: str
    withdrawn_at: str | None = None
    withdraw_reason: str = ""

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS.get(self.source, self.source)

    @property
    def month(self) -> str:
        """2026年11月: when it was published, no finer (a day could point at a reception)."""
        return f"{self.published_at[:4]}年{int(self.published_at[5:7])}月"


class Candidate(BaseModel):
    case_id: int
    number: str
    department: str
    answered_at: str | None = None
    republish: bool = False  # published before, taken down, consent given again

    @property
    def label(self) -> str:
        when = dates.format_stamp(self.answered_at)[:11] if self.answered_at else ""
        return f"{self.number}　{self.department}　{when}答复" + ("（曾公开）" if self.republish else "")


class Draft(BaseModel):
    case_id: int
    number: str
    original_question: str
    original_answer: str
    question: str
    answer: str
    hidden: str  # what the scrubber hid, counted by kind ('' when nothing)


class Page(BaseModel):
    items: list[Publication]
    total: int
    offset: int


# --- consent ----------------------------------------------------------------------------------


def publishers() -> list[str]:
    """The departments that choose what is published: 党办 and 校办, who run the reception day and
    coordinate what is raised (the policy's departments of system 接待日)."""
    return policy().system(RECEPTION_SYSTEM).departments


def may_publish(user: User) -> bool:
    return any(d in publishers() for d in user.departments)


def _require_publisher(user: User) -> None:
    if not may_publish(user):
        raise PermissionDenied(f"只有{'、'.join(publishers())}工作人员可以公开答复")


def record_consent(
    db: Database, user: User, *, given: bool, booking_id: int | None = None, case_id: int | None = None
) -> None:
    """The person's own word about publishing the answer to what he or she raised (a booking's
    subject, or a case). Withdrawing takes down at once whatever was published of it."""
    if (booking_id is None) == (case_id is None):
        raise ValueError("a consent is about one booking or one case")
    if booking_id is not None:
        row = db.execute("SELECT user_id, code FROM bookings WHERE id = ?", [booking_id]).fetchone()
        if row is None or row[0] != user.id:
            raise NotFound("预约不存在")
        what = f"预约 {row[1]}"
    else:
        row = db.execute("SELECT raised_by, number FROM cases WHERE id = ?", [case_id]).fetchone()
        if row is None or row[0] != user.id:
            raise NotFound("意见建议不存在")
        what = f"意见建议 {row[1]}"
    with write(db):
        if _in_force(db, booking_id, case_id) == given:
            return  # said already: no second record, no second audit entry
        db.execute(
            "INSERT INTO publish_consents (user_id, booking_id, case_id, given, wording, at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [user.id, booking_id, case_id, int(given), CONSENT_WORDING, dates.stamp()],
        )
        audit.record(db, user.id, "consent.give" if given else "consent.withdraw", what)
        if not given:
            affected = (
                [case_id]
                if case_id is not None
                else [r[0] for r in db.execute("SELECT id FROM cases WHERE booking_id = ?", [booking_id])]
            )
            for cid in affected:
                _take_down(db, cid, user.id, WITHDRAWN_BY_RAISER)


def _in_force(db: Database, booking_id: int | None, case_id: int | None) -> bool:
    if case_id is not None:
        return consents(db, [case_id]).get(case_id, False)
    if booking_id is not None:
        return booking_consent(db, booking_id)
    raise ValueError("a consent is about one booking or one case")


def consents(db: Database, case_ids: list[int]) -> dict[int, bool]:
    """Whether each case's raiser consents now (cases with no word about it: False)."""
    if not case_ids:
        return {}
    marks = ",".join("?" * len(case_ids))
    return {
        r[0]: bool(r[1])
        for r in db.execute(
            f"SELECT c.id, COALESCE({_CONSENT}, 0) FROM cases c WHERE c.id IN ({marks})", case_ids
        )
    }


def booking_consent(db: Database, booking_id: int) -> bool:
    row = db.execute(
        "SELECT given FROM publish_consents WHERE booking_id = ? ORDER BY id DESC LIMIT 1", [booking_id]
    ).fetchone()
    return bool(row and row[0])


def published_case_ids(db: Database, case_ids: list[int]) -> set[int]:
    if not case_ids:
        return set()
    marks = ",".join("?" * len(case_ids))
    return {
        r[0]
        for r in db.execute(
            f"SELECT case_id FROM publications WHERE withdrawn_at IS NULL AND case_id IN ({marks})", case_ids
        )
    }


# --- choosing and drafting ----------------------------------------------------------------------


def candidates(db: Database, user: User) -> list[Candidate]:
    """Answered cases whose raiser consents and that are not published now, newest answer first."""
    _require_publisher(user)
    rows = db.execute(
        "SELECT c.id, c.number, c.responsible_dept, c.answered_at, "
        "EXISTS (SELECT 1 FROM publications p WHERE p.case_id = c.id) "
        f"FROM cases c WHERE c.state IN ('answered', 'closed') AND c.raised_by IS NOT NULL AND {_CONSENT} = 1 "
        "AND NOT EXISTS (SELECT 1 FROM publications p WHERE p.case_id = c.id AND p.withdrawn_at IS NULL) "
        "ORDER BY c.answered_at DESC, c.id DESC"
    ).fetchall()
    return [
        Candidate(case_id=r[0], number=r[1], department=r[2], answered_at=r[3], republish=bool(r[4]))
        for r in rows
    ]


def known_for(db: Database, case_id: int) -> scrub.Known:
    """What identifies the people of a case: the raiser (name, 工号/学号, account, numbers, unit), the
    visitor of its booking, its cadre and the staff who answered it; and every name the portal holds."""
    names: set[str] = set()
    numbers: set[str] = set()
    units: set[str] = set()
    row = db.execute(
        "SELECT c.raiser_name, c.raised_by, c.booking_id, c.cadre_id FROM cases c WHERE c.id = ?", [case_id]
    ).fetchone()
    if row is None:
        raise NotFound("意见建议不存在")
    raiser_name, raised_by, booking_id, cadre_id = row
    names.add(raiser_name or "")
    people = [cadre_id] if cadre_id else []
    if raised_by:
        user = db.execute(
            "SELECT username, display_name, person_id FROM users WHERE id = ?", [raised_by]
        ).fetchone()
        if user:
            numbers.add(user[0])
            names.add(user[1])
            if user[2]:
                people.append(user[2])
                unit = db.execute(
                    "SELECT u.name FROM people p JOIN units u ON u.id = p.unit_id WHERE p.id = ?", [user[2]]
                ).fetchone()
                if unit:
                    units.add(unit[0])
    if booking_id:
        phone = db.execute("SELECT phone FROM bookings WHERE id = ?", [booking_id]).fetchone()
        if phone:
            numbers.add(phone[0])
    for person in people:
        found = db.execute("SELECT name, staff_no, phone FROM people WHERE id = ?", [person]).fetchone()
        if found:
            names.add(found[0])
            numbers.update(v for v in found[1:] if v)
    for (name,) in db.execute(
        "SELECT DISTINCT u.display_name FROM users u WHERE u.id IN (SELECT user_id FROM case_answers WHERE case_id = ? "
        "UNION SELECT user_id FROM case_events WHERE case_id = ?)",
        [case_id, case_id],
    ):
        names.add(name)
    everyone = frozenset(r[0] for r in db.execute("SELECT DISTINCT name FROM people"))
    return scrub.Known(
        names=tuple(sorted(n for n in names if n)),
        numbers=tuple(sorted(n for n in numbers if n)),
        units=tuple(sorted(units)),
        everyone=everyone,
    )


def _case_texts(db: Database, case_id: int) -> tuple[str, str, str]:
    row = db.execute("SELECT number, content, answer FROM cases WHERE id = ?", [case_id]).fetchone()
    if row is None:
        raise NotFound("意见建议不存在")
    latest = db.execute(
        "SELECT body FROM case_answers WHERE case_id = ? ORDER BY seq DESC LIMIT 1", [case_id]
    ).fetchone()
    return row[0], row[1], latest[0] if latest else row[2]


def draft(db: Database, user: User, case_id: int) -> Draft:
    """The question and the latest answer of a candidate, with what identifies a person hidden."""
    _require_publisher(user)
    if case_id not in {c.case_id for c in candidates(db, user)}:
        raise NotFound("该意见建议不能公开：未答复、提出人未同意公开，或已公开")
    number, question, answer = _case_texts(db, case_id)
    known = known_for(db, case_id)
    q, a = scrub.scrub(question, known), scrub.scrub(answer, known)
    hidden = scrub.Result("", q.hits + a.hits).summary()
    return Draft(
        case_id=case_id,
        number=number,
        original_question=question,
        original_answer=answer,
        question=q.text,
        answer=a.text,
        hidden=hidden,
    )


def _describe(hits: list[scrub.Hit]) -> str:
    return "、".join(dict.fromkeys(f"{h.label}“{h.text[:20]}”" for h in hits))


def publish(
    db: Database, user: User, case_id: int, question: str, answer: str, *, keep: bool = False
) -> Publication:
    """Publish the edited question and answer of a candidate. Refused when the text still names what
    identifies the raiser or anyone the case involves; a number, address or room of another kind
    (an office's telephone) is kept only with ``keep`` (the editor says it is nobody's)."""
    _require_publisher(user)
    question = text.free_text(question, "公开的问题", TEXT_MAX, required=True)
    answer = text.free_text(answer, "公开的答复", TEXT_MAX, required=True)
    known = known_for(db, case_id)
    hits = scrub.check(question + "\n" + answer, known)
    identifying = [h for h in hits if h.kind not in scrub.MAY_KEEP or _is_known(h, known)]
    if identifying:
        raise ValidationError(
            f"公开的文本中仍有可能识别个人的信息：{_describe(identifying)}。请删改后再公开。"
        )
    if hits and not keep:
        raise ValidationError(
            f"公开的文本中有编号、电话或地址：{_describe(hits)}。如确属单位公开信息、与个人无关，请勾选确认后再公开。"
        )
    with write(db):
        if case_id not in {c.case_id for c in candidates(db, user)}:
            raise ValidationError("该意见建议不能公开：未答复、提出人未同意公开（或已撤回），或已公开")
        dept, source = db.execute(
            "SELECT responsible_dept, source FROM cases WHERE id = ?", [case_id]
        ).fetchone()
        now = dates.stamp()
        db.execute(
            "INSERT INTO publications (case_id, question, answer, department, source, published_by, published_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(case_id) DO UPDATE SET question = excluded.question, "
            "answer = excluded.answer, department = excluded.department, source = excluded.source, "
            "published_by = excluded.published_by, published_at = excluded.published_at, withdrawn_at = NULL, "
            "withdrawn_by = NULL, withdraw_reason = ''",
            [case_id, question, answer, dept, source, user.id, now],
        )
        number = db.execute("SELECT number FROM cases WHERE id = ?", [case_id]).fetchone()[0]
        kept = f"；保留（经确认与个人无关）：{_describe(hits)}" if hits else ""
        audit.record(db, user.id, "publication.publish", f"{number}{kept}"[:500])
        _tell_published(db, case_id)
    return _get(db, case_id)


def _tell_published(db: Database, case_id: int) -> None:
    """The raiser is told that the answer he or she consented to publish is public now, and where to
    withdraw the consent (which takes it down at once)."""
    row = db.execute("SELECT number, raised_by FROM cases WHERE id = ?", [case_id]).fetchone()
    if row is None or row[1] is None:
        return
    number, raiser = row
    emit(
        db,
        "case.published",
        [raiser],
        message(
            f"【答复公开】{number} 的答复已公开",
            f"按您的同意，意见建议（编号 {number}）的问题和答复已在“答复公开”栏目公开，您的姓名、编号、联系方式等"
            "个人信息已隐去。如需撤回同意，请登录在“我的诉求”取消勾选，已公开的内容会立即撤下。",
            links.case(number, raiser=True),
        ),
        key=f"case.published:{case_id}:{dates.stamp()}",
    )


def _is_known(hit: scrub.Hit, known: scrub.Known) -> bool:
    """Whether a number found is one of the case's people's own, however it was written (１３８…, 一三八…)."""
    digits = scrub.plain_digits(hit.text)
    return any(own and own in digits for own in map(scrub.plain_digits, known.numbers))


def _take_down(db: Database, case_id: int, actor_id: int | None, reason: str) -> bool:
    """Unpublish a case's answer and blank its text (inside the caller's transaction)."""
    changed = db.execute(
        "UPDATE publications SET withdrawn_at = ?, withdrawn_by = ?, withdraw_reason = ?, question = '', answer = '' "
        "WHERE case_id = ? AND withdrawn_at IS NULL",
        [dates.stamp(), actor_id, reason, case_id],
    ).rowcount
    if changed:
        number = db.execute("SELECT number FROM cases WHERE id = ?", [case_id]).fetchone()[0]
        audit.record(db, actor_id, "publication.unpublish", f"{number}：{reason}"[:500])
    return bool(changed)


def unpublish(db: Database, user: User, publication_id: int, reason: str) -> None:
    """党办/校办 take a published answer down (with a reason); its text is blanked."""
    _require_publisher(user)
    reason = text.free_text(reason, "撤下原因", 200, required=True).replace("\n", " ")
    with write(db):
        row = db.execute(
            "SELECT case_id FROM publications WHERE id = ? AND withdrawn_at IS NULL", [publication_id]
        ).fetchone()
        if row is None:
            raise NotFound("该公开内容不存在或已撤下")
        _take_down(db, row[0], user.id, reason)


# --- reading ----------------------------------------------------------------------------------

_SQL = (
    "SELECT id, case_id, question, answer, department, source, published_at, withdrawn_at, withdraw_reason "
    "FROM publications "
)


def _get(db: Database, case_id: int) -> Publication:
    rows = list(db.query(_SQL + "WHERE case_id = ?", [case_id]))
    if not rows:
        raise NotFound("该公开内容不存在")
    return Publication(**rows[0])


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(db: Database, query: str = "", *, offset: int = 0, limit: int = PAGE_SIZE) -> Page:
    """Published answers (newest first) whose question, answer or department contains every word of
    ``query``; for any logged-in user."""
    words = [w for w in "".join(ch for ch in str(query or "")[:100] if ch.isprintable()).split() if w][:5]
    where, params = ["withdrawn_at IS NULL"], []
    for w in words:
        where.append(
            "(question LIKE ? ESCAPE '\\' OR answer LIKE ? ESCAPE '\\' OR department LIKE ? ESCAPE '\\')"
        )
        params += [_like(w)] * 3
    clause = " AND ".join(where)
    total = db.execute(f"SELECT count(*) FROM publications WHERE {clause}", params).fetchone()[0]
    offset = max(0, min(int(offset), max(0, total - 1)))
    rows = db.query(
        _SQL + f"WHERE {clause} ORDER BY published_at DESC, id DESC LIMIT ? OFFSET ?",
        [*params, max(1, min(int(limit), 100)), offset],
    )
    return Page(items=[Publication(**r) for r in rows], total=total, offset=offset)
