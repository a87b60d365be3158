"""满意度 and 回访 (第十二、三十二条: answered and reported back): each answer of a case is rated once.

* The person who raised the case rates the latest answer — 满意 / 基本满意 / 不满意, with a comment
  (required for 不满意: the department must know what to do again) — within
  ``satisfaction.rate_within`` working days of it, never past the start of the 回访 (``rate``), on
  我的诉求 or from the answer's message.
* An answer left unrated ``satisfaction.followup_after`` working days (at once when the raiser has no
  account) awaits the responsible department's 回访 (``follow_up``: 电话 / 面谈 / 其他, the person's view
  as a rating, who made it and when), which counts as the rating. Never earlier: a department does not
  rate its own answer while the person may still do so.
* 满意 and 基本满意 close the case (已办结). A 不满意 does what the policy's rule for the case's n-th
  不满意 says (``satisfaction.on_unsatisfied``): reopen it with the comment, reopen it under the
  supervision (督办) of 党办/校办 (``supervisor``), or close it as it stands.
* An unrated answer is 待评价 until its window ends and 未评价 afterwards, never 满意 (portal/kpis.py).

Ratings are append-only (``case_ratings``, one per answer: a reopened case's next answer is rated
again), and each one is a step of the case's history. Working days are those of the deadlines.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import BaseModel
from sqlite_utils import Database

from . import audit, case_actions, case_history, cases, dates, text, workdays
from .accounts import User
from .db import inserted_id, write
from .errors import Conflict, PermissionDenied, ValidationError
from .policy import RATING_LABELS, RATINGS, UNSATISFIED_ACTION_LABELS, policy

METHODS = ("phone", "meeting", "other")
METHOD_LABELS = {"phone": "电话", "meeting": "面谈", "other": "其他"}
VIA_LABELS = {"raiser": "提出人评价", "followup": "回访"}
OUTCOME_LABELS = {"closed": "已办结", "reopened": "退回重新办理", "supervised": "转督办"}
COMMENT_MAX = 500
CALLER_MAX = 40


class Rating(BaseModel):
    id: int
    case_id: int
    answer_id: int
    rating: str
    comment: str = ""
    via: str
    method: str | None = None
    caller: str = ""
    held_at: str | None = None
    outcome: str
    user_id: int | None = None
    user_name: str = ""
    at: str

    @property
    def label(self) -> str:
        return RATING_LABELS[self.rating]

    @property
    def via_label(self) -> str:
        return VIA_LABELS[self.via]

    @property
    def method_label(self) -> str:
        return METHOD_LABELS.get(self.method or "", "")

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS[self.outcome]

    @property
    def summary(self) -> str:
        """满意（回访，电话，张三，2026年11月24日）"""
        if self.via == "followup":
            how = "，".join(
                filter(
                    None,
                    [
                        "回访",
                        self.method_label,
                        self.caller,
                        dates.format_date(self.held_at[:10], weekday=False) if self.held_at else "",
                    ],
                )
            )
        else:
            how = f"提出人评价，{dates.format_stamp(self.at)}"
        return f"{self.label}（{how}）"


# --- reading --------------------------------------------------------------------------------


def of_case(db: Database, case_id: int, viewer: User) -> dict[int, Rating]:
    """The ratings of the case's answers, by answer id (whoever may see the case)."""
    cases.get_case(db, case_id, viewer)  # visibility
    return {
        r["answer_id"]: Rating(**r)
        for r in db.query(
            "SELECT r.*, COALESCE(u.display_name, '') AS user_name FROM case_ratings r "
            "LEFT JOIN users u ON u.id = r.user_id WHERE r.case_id = ? ORDER BY r.id",
            [case_id],
        )
    }


def _answer_day(case: cases.Case) -> dt.date | None:
    return dt.date.fromisoformat(case.answered_at[:10]) if case.answered_at else None


def rating_days() -> int:
    """The raiser's own window, in working days after the answer: ``rate_within``, but never past the day
    the 回访 begins (``followup_after``) — a department must not rate its own answer (and so its own
    满意率) while the person may still do so, nor take the rating out of his or her hands."""
    sat = policy().satisfaction
    return min(sat.rate_within, sat.followup_after)


def rate_by(db: Database, case: cases.Case) -> dt.date | None:
    """The last day the raiser may rate the latest answer (None: not answered)."""
    day = _answer_day(case)
    return None if day is None else workdays.due_date(db, day, rating_days())


def followup_from(db: Database, case: cases.Case) -> dt.date | None:
    """The first day the latest answer awaits a 回访 if still unrated (None: not answered): the day
    after ``followup_after`` working days, or the answer's own day when the raiser has no account."""
    day = _answer_day(case)
    if day is None:
        return None
    if case.raised_by is None:
        return day
    return workdays.due_date(db, day, policy().satisfaction.followup_after) + dt.timedelta(days=1)


def followup_cutoff(db: Database, on: dt.date | None = None) -> dt.date:
    """The latest answer day whose 回访 window has ended by ``on``: answers given on or before it and
    still unrated await a 回访 (``cases.CaseFilter.followup_cutoff``)."""
    on = on or dates.today()
    n = policy().satisfaction.followup_after
    cal = workdays.calendar(db, on - dt.timedelta(days=n * 3 + 60), on)
    day = on - dt.timedelta(days=1)
    while cal.due(day, n) >= on:
        day -= dt.timedelta(days=1)
    return day


def awaiting_followup(db: Database, viewer: User, on: dt.date | None = None) -> list[cases.Case]:
    """Answered cases of the viewer's departments whose latest answer awaits a 回访."""
    return cases.list_cases(db, viewer, scope="handle", followup_cutoff=followup_cutoff(db, on), on=on)


@dataclass(frozen=True)
class Standing:
    """Where the latest answer of a case stands as to its rating, for the page that shows it."""

    answer: cases.Answer | None  # the latest answer
    rating: Rating | None  # its rating
    standing_answer: bool  # the case is answered or closed (not reopened since)
    rate_by: dt.date | None  # the raiser's last day to rate
    followup_from: dt.date | None  # from this day the office may record a 回访

    @property
    def unrated(self) -> bool:
        return self.answer is not None and self.standing_answer and self.rating is None

    def raiser_may_rate(self, on: dt.date | None = None) -> bool:
        return self.unrated and self.rate_by is not None and (on or dates.today()) <= self.rate_by

    def followup_due(self, on: dt.date | None = None) -> bool:
        return self.unrated and self.followup_from is not None and (on or dates.today()) >= self.followup_from


def standing(db: Database, case: cases.Case, viewer: User) -> Standing:
    """The latest answer of ``case`` and its rating, and the rating windows."""
    given = cases.answers(db, case.id, viewer)
    latest = given[-1] if given else None
    answered = latest is not None and case.state in ("answered", "closed")
    return Standing(
        latest,
        of_case(db, case.id, viewer).get(latest.id) if latest else None,
        answered,
        rate_by(db, case) if answered else None,
        followup_from(db, case) if answered else None,
    )


def what_happened(rating: Rating, case: cases.Case) -> str:
    """What the rating did, in the words the person who raised the case reads (``case`` as it is now)."""
    if rating.outcome == "supervised":
        return (
            f"已转{case.supervisor or '督办部门'}督办，由{case.responsible_dept}重新办理，"
            f"应于 {dates.format_date(case.due_date)} 前再次答复。"
        )
    if rating.outcome == "reopened":
        return f"已退回{case.responsible_dept}重新办理，应于 {dates.format_date(case.due_date)} 前再次答复。"
    if rating.rating == "unsatisfied":
        return "您的意见已记录；此件已多次重新办理，按规定办结。"
    return "此件已办结，感谢您的评价。"


@dataclass(frozen=True)
class ContactRating:
    """One answered case raised in a cadre's contact, as his or her 我的工作台 lists it."""

    case: cases.Case
    rating: Rating | None  # the rating of its latest answer
    answers: int  # how many answers it was given
    state: str  # 满意 / 基本满意 / 不满意 / 待评价 / 未评价 / 重新办理中

    @property
    def when(self) -> str:
        if self.rating is None:
            return ""
        return dates.format_date((self.rating.held_at or self.rating.at)[:10], weekday=False)


def of_contacts(
    db: Database, viewer: User, person_id: int, *, since: dt.date, until: dt.date
) -> list[ContactRating]:
    """The answered cases raised in ``person_id``'s contacts (the activity's cadre: the leader on duty
    for a reception) in [since, until], each with the rating of its latest answer, the latest answered
    first, as ``viewer`` may see them: the cadre himself and administrators every one, a department
    those it handles or supervises."""
    scope = "cadre" if viewer.person_id == person_id and not viewer.has("admin") else "handle"
    found = [
        c
        for c in cases.list_cases(db, viewer, scope=scope, cadre_id=person_id, since=since, until=until)
        if c.answered_at is not None
    ]
    latest: dict[int, tuple[int, int]] = {}  # case -> (latest answer id, answers given)
    rated: dict[int, Rating] = {}  # answer -> its rating
    ids = [c.id for c in found]
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        marks = ",".join("?" * len(part))
        for case_id, answer_id, n in db.execute(
            f"SELECT case_id, max(id), count(*) FROM case_answers WHERE case_id IN ({marks}) GROUP BY case_id",
            part,
        ):
            latest[case_id] = (answer_id, n)
        for r in db.query(
            f"SELECT r.*, '' AS user_name FROM case_ratings r WHERE r.case_id IN ({marks})", part
        ):
            rated[r["answer_id"]] = Rating(**r)
    cutoff = followup_cutoff(db).isoformat()
    out = []
    for c in found:
        answer_id, n = latest.get(c.id, (0, 0))
        rating = rated.get(answer_id)
        if rating is not None:
            state = rating.label
        elif c.state not in ("answered", "closed"):
            state = "重新办理中"
        else:
            state = "未评价" if c.raised_by is None or (c.answered_at or "")[:10] <= cutoff else "待评价"
        out.append(ContactRating(c, rating, n, state))
    out.sort(key=lambda r: (r.case.answered_at or "", r.case.number), reverse=True)
    return out


# --- rating ---------------------------------------------------------------------------------


def _rating(value: str) -> str:
    if value not in RATINGS:
        raise ValidationError("请选择满意、基本满意或不满意")
    return value


def _comment(value: str, rating: str, what: str) -> str:
    comment = text.free_text(value, what, max_len=COMMENT_MAX)
    if rating == "unsatisfied" and not comment:
        raise ValidationError(f"不满意时请填写{what}，办理部门据此重新办理")
    return comment


def rate(db: Database, case_id: int, rating: str, actor: User, comment: str = "") -> Rating:
    """The raiser rates the latest answer, within ``satisfaction.rate_within`` working days of it."""
    rating = _rating(rating)
    comment = _comment(comment, rating, "意见")
    with write(db):
        row = cases.row_for_change(db, case_id, actor)
        if row["raised_by"] != actor.id:
            raise PermissionDenied("只有提出人本人可以评价答复")
        case = cases.get_case(db, case_id, actor)
        found = standing(db, case, actor)
        answer = _require_unrated(found)
        rate_by = found.rate_by
        assert rate_by is not None  # an answer standing unrated has its window
        if dates.today() > rate_by:
            raise Conflict(
                f"答复后 {rating_days()} 个工作日内（至 "
                f"{dates.format_date(rate_by, weekday=False)}）可以评价，现已超过期限；办理部门会回访您"
            )
        return _record(db, row, answer, rating, comment, actor.id, via="raiser")


def follow_up(
    db: Database,
    case_id: int,
    rating: str,
    actor: User,
    *,
    method: str,
    caller: str = "",
    held_on: dt.date | None = None,
    comment: str = "",
) -> Rating:
    """The responsible department records its 回访 of the latest answer: how (电话/面谈/其他), the
    person's view as a rating, who made it (default: the actor) and on what day (default: today; not
    before the answer, not in the future). Only once the raiser's own window has given way to it."""
    rating = _rating(rating)
    if method not in METHODS:
        raise ValidationError("请选择回访方式：电话、面谈或其他")
    comment = _comment(comment, rating, "回访情况")
    caller = text.line(caller, "回访人", max_len=CALLER_MAX, required=False) or actor.display_name
    held_on = held_on or dates.today()
    with write(db):
        row = cases.row_for_change(db, case_id, actor)
        if not cases.can_handle(actor, row):
            raise PermissionDenied(f"只有{row['responsible_dept']}的工作人员或系统管理员可以记录回访")
        case = cases.get_case(db, case_id, actor)
        found = standing(db, case, actor)
        answer = _require_unrated(found)
        if not found.followup_due():
            raise Conflict(
                f"提出人可在答复后 {policy().satisfaction.followup_after} 个工作日内自行评价，"
                f"{dates.format_date(found.followup_from, weekday=False)} 起仍未评价的再回访"
            )
        if held_on > dates.today() or held_on.isoformat() < answer.at[:10]:
            raise ValidationError("回访日期须在答复之后、今天或以前")
        # 操作日志 names the case and the outcome; the person's words stay in the case's history
        audit.record(
            db,
            actor.id,
            "case.followup",
            f"{row['number']}：{METHOD_LABELS[method]}回访，{RATING_LABELS[rating]}",
        )
        return _record(
            db,
            row,
            answer,
            rating,
            comment,
            actor.id,
            via="followup",
            method=method,
            caller=caller,
            held_at=held_on.isoformat(),
        )


def _require_unrated(found: Standing) -> cases.Answer:
    """The latest answer, if it stands unrated (else Conflict, saying why)."""
    if found.answer is None:
        raise Conflict("此件还没有答复，答复后才能评价")
    if found.rating is not None:
        raise Conflict(f"此次答复已评价：{found.rating.summary}")
    if not found.standing_answer:
        raise Conflict("此件正在重新办理，再次答复后才能评价")
    return found.answer


def _record(
    db: Database,
    row: dict,
    answer: cases.Answer,
    rating: str,
    comment: str,
    actor_id: int,
    *,
    via: str,
    method: str | None = None,
    caller: str = "",
    held_at: str | None = None,
    at: str | None = None,
) -> Rating:
    """Write the rating of ``answer`` and do what it says to the case (inside ``write``)."""
    at = at or dates.stamp()
    case_id = row["id"]
    step = "rated" if via == "raiser" else "followed_up"
    words = RATING_LABELS[rating] + (f"：{comment}" if comment else "")
    if via == "followup" and method is not None:  # follow_up checked the method
        words = (
            f"{METHOD_LABELS[method]}回访（{caller}，{dates.format_date(held_at, weekday=False)}）：{words}"
        )
    if rating != "unsatisfied":
        outcome = "closed"
        if row["state"] == "answered":
            case_history.set_fields(db, case_id, state="closed", closed_at=at)
        case_history.record_history(db, case_id, step, row["state"], "closed", at, actor_id, words)
    else:
        times = (
            1
            + db.execute(
                "SELECT count(*) FROM case_ratings WHERE case_id = ? AND rating = 'unsatisfied'", [case_id]
            ).fetchone()[0]
        )
        action = policy().satisfaction.on(times)
        to_state = "closed" if action == "close" else "in_progress"
        case_history.record_history(db, case_id, step, row["state"], row["state"], at, actor_id, words)
        if action == "close":
            outcome = "closed"
            if row["state"] == "answered":
                case_history.set_fields(db, case_id, state="closed", closed_at=at)
            case_history.record_history(
                db,
                case_id,
                "closed",
                row["state"],
                to_state,
                at,
                actor_id,
                f"第 {times} 次不满意，按规定{UNSATISFIED_ACTION_LABELS['close']}，不再重新办理",
            )
        else:
            who = "提出人" if via == "raiser" else "回访"
            case_actions.reopen_row(db, row, actor_id, f"{who}不满意（第 {times} 次）：{comment}", at)
            outcome = "reopened"
            if action == "supervise":
                supervisor = policy().satisfaction.supervisor_for(row["responsible_dept"])
                case_history.set_fields(db, case_id, supervisor=supervisor)
                case_history.record_history(
                    db,
                    case_id,
                    "supervised",
                    "in_progress",
                    "in_progress",
                    at,
                    actor_id,
                    f"第 {times} 次不满意，转{supervisor}督办，{row['responsible_dept']}重新办理",
                )
                outcome = "supervised"
    rid = inserted_id(
        db.execute(
            "INSERT INTO case_ratings (case_id, answer_id, rating, comment, via, method, caller, held_at, outcome, "
            "user_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [case_id, answer.id, rating, comment, via, method, caller, held_at, outcome, actor_id, at],
        )
    )
    found = next(db.query("SELECT *, '' AS user_name FROM case_ratings WHERE id = ?", [rid]))
    return Rating(**found)


def record(
    db: Database,
    case_id: int,
    rating: str,
    at: str,
    actor_id: int,
    *,
    comment: str = "",
    method: str | None = None,
    caller: str = "",
) -> Rating:
    """A past rating of the latest answer, dated ``at``, as the services would have recorded it then
    (the demo's backdated cases): a raiser's when ``method`` is None, else a 回访 held that day; what
    follows (closed, reopened, 督办) is dated ``at`` too. It checks the vocabulary, not the windows."""
    rating = _rating(rating)
    if method is not None and method not in METHODS:
        raise ValidationError("未知的回访方式")
    with write(db):
        row = dict(next(db.query("SELECT * FROM cases WHERE id = ?", [case_id])))
        answer = db.execute(
            "SELECT id, seq, body, at FROM case_answers WHERE case_id = ? ORDER BY seq DESC LIMIT 1",
            [case_id],
        ).fetchone()
        if answer is None:
            raise Conflict("此件还没有答复")
        latest = cases.Answer(id=answer[0], case_id=case_id, seq=answer[1], body=answer[2], at=answer[3])
        return _record(
            db,
            row,
            latest,
            rating,
            comment,
            actor_id,
            via="raiser" if method is None else "followup",
            method=method,
            caller=caller,
            held_at=at[:10] if method else None,
            at=at,
        )


# --- supervision ------------------------------------------------------------------------------


def urge(db: Database, case_id: int, note: str, actor: User) -> cases.Case:
    """The supervising department (督办) adds its 督办意见 to a case it supervises; the responsible
    department sees it in the history (and is told)."""
    note = text.free_text(note, "督办意见", max_len=cases.NOTE_MAX, required=True)
    with write(db):
        row = cases.row_for_change(db, case_id, actor)
        if not (cases.supervises(actor, row) or (actor.has("admin") and row["supervisor"])):
            raise PermissionDenied("只有督办部门的工作人员可以填写督办意见")
        case_history.record_history(
            db, case_id, "urged", row["state"], row["state"], dates.stamp(), actor.id, note
        )
        audit.record(db, actor.id, "case.urge", str(row["number"]))  # the opinion itself: in the history
    return cases.get_case(db, case_id, actor)
