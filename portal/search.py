"""Full-text search over contact activities and cases, for whoever may see them.

SQLite FTS5 with the ``unicode61`` tokenizer, over text in which every Chinese character is a
token of its own; a query term becomes a phrase of consecutive tokens, so words of any length
match — 食 as well as 食堂 or 食堂卫生 (the trigram tokenizer cannot find words shorter than three
characters). Latin words, numbers and codes (C-CS, 2026-0221, 工号) are tokens as usual.

Writes to activities and cases only note the changed rows (triggers → ``search_queue``, see the
migration in migrations.py); ``refresh`` indexes them, and ``search`` refreshes first, so results are
never stale and no write path has to remember the index.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlite_utils import Database

from . import activities, cases, links, states
from .accounts import User
from .db import write
from .errors import ValidationError
from .text import EMOJI_JOINERS, control_character

BATCH = 2000
LIMIT = 50
MAX_QUERY = 100

# CJK ideographs (BMP and the supplementary planes), kana and full-width forms: one token each.
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")


def _spaced(run: re.Match) -> str:
    return " " + " ".join(run.group()) + " "


def tokens(text: str) -> str:
    """``text`` with a space around every CJK character, as the index stores it (one call per run
    of CJK text, not per character: indexing 300,000 activities is dominated by this)."""
    return _CJK_RUN.sub(_spaced, text)


def match_expression(query: str) -> str | None:
    """An FTS5 query: every whitespace-separated term must occur, as written (a phrase)."""
    phrases = []
    for term in query.split():
        if not any(ch.isalnum() for ch in term):
            continue  # punctuation alone tokenizes to nothing
        phrases.append('"' + tokens(term).replace('"', '""') + '"')
    return " AND ".join(phrases) or None


# --- the index ------------------------------------------------------------------------------

_ACTIVITY_BODY = """
    SELECT a.id * 2, p.name, p.staff_no, a.system, a.subtype, a.place, a.counterpart_text,
           a.participants, a.content, a.opinions, a.followup,
           (SELECT group_concat(t.target_code, ' ') FROM activity_targets t WHERE t.activity_id = a.id)
    FROM activities a JOIN people p ON p.id = a.cadre_id WHERE a.id IN ({ids})
"""
_CASE_BODY = """
    SELECT c.id * 2 + 1, c.number, c.raiser_name, c.content,
           COALESCE((SELECT group_concat(a.body, ' ') FROM case_answers a WHERE a.case_id = c.id), c.answer),
           c.responsible_dept, c.system,
           COALESCE(p.name, ''), COALESCE(p.staff_no, ''), COALESCE(u.name, '')
    FROM cases c LEFT JOIN people p ON p.id = c.cadre_id LEFT JOIN units u ON u.id = c.handling_unit_id
    WHERE c.id IN ({ids})
"""


def pending(db: Database) -> int:
    return db.execute("SELECT count(*) FROM search_queue").fetchone()[0]


def refresh(db: Database, batch: int = BATCH) -> int:
    """Index every changed activity and case; returns how many documents were (re)indexed.

    Reads first and takes the write lock only when something is queued, in short batches.
    """
    done = 0
    while db.execute("SELECT 1 FROM search_queue LIMIT 1").fetchone():
        # housekeeping: the index follows data already written; no cached page changes with it
        with write(db, housekeeping=True):
            docs = [r[0] for r in db.execute("SELECT doc FROM search_queue LIMIT ?", [batch])]
            if not docs:
                break
            marks = ",".join("?" * len(docs))
            db.execute(f"DELETE FROM search_index WHERE rowid IN ({marks})", docs)
            rows = []
            for sql, ids in (
                (_ACTIVITY_BODY, [d // 2 for d in docs if d % 2 == 0]),
                (_CASE_BODY, [d // 2 for d in docs if d % 2 == 1]),
            ):
                if ids:
                    found = db.execute(sql.format(ids=",".join("?" * len(ids))), ids).fetchall()
                    rows += [(r[0], tokens(" ".join(str(v) for v in r[1:] if v))) for r in found]
            db.conn.executemany("INSERT INTO search_index (rowid, body) VALUES (?, ?)", rows)
            db.execute(f"DELETE FROM search_queue WHERE doc IN ({marks})", docs)
        done += len(docs)
    return done


def rebuild(db: Database) -> int:
    """Index everything again (after a restore from an old backup, or to repair the index)."""
    with write(db):
        db.execute("DELETE FROM search_index")
        db.execute("INSERT OR IGNORE INTO search_queue (doc) SELECT id * 2 FROM activities")
        db.execute("INSERT OR IGNORE INTO search_queue (doc) SELECT id * 2 + 1 FROM cases")
    return refresh(db)


# --- searching ------------------------------------------------------------------------------


KIND_LABELS = {"case": "意见建议", "activity": "联系活动"}
SNIPPET_WIDTH = 120  # characters around the first match: a sentence or two, not a fragment


@dataclass(frozen=True)
class Hit:
    kind: str  # activity / case
    id: int
    date: str  # the activity's date, the case's contact date
    title: str  # 2026-0221 / 听课（思政课听课）· 张三
    state: str  # 已作废 for a voided activity, the case's state label
    snippet: str  # the matching text around the first term, plain
    ref: str  # a number or an id a user can quote
    link: links.Link  # what opens it for this viewer
    marks: tuple[tuple[str, bool], ...] = ()  # ``snippet`` in pieces, True for a piece the query matched
    where: str = ""  # which part of it matched: 意见建议, 答复, 开展情况 …
    about: str = ""  # a line of context: who answers a case, whose activity it is

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass
class Results:
    query: str
    activities: list[Hit] = field(default_factory=list)
    cases: list[Hit] = field(default_factory=list)
    activity_total: int = 0
    case_total: int = 0


def _terms(query: str) -> list[str]:
    return [t for t in query.split() if any(ch.isalnum() for ch in t)]


def marked(text: str, query: str, width: int = SNIPPET_WIDTH) -> tuple[tuple[str, bool], ...]:
    """About ``width`` characters of ``text`` around the first query term found in it, in pieces:
    (text, True) for each occurrence of any term, (text, False) between them. Plain text: the page
    decides how to show a match (it escapes the pieces first)."""
    window = snippet(text, query, width)
    terms = sorted({t.lower() for t in _terms(query)}, key=len, reverse=True)
    if not terms:
        return ((window, False),) if window else ()
    found = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    pieces: list[tuple[str, bool]] = []
    at = 0
    for hit in found.finditer(window):
        if hit.start() > at:
            pieces.append((window[at : hit.start()], False))
        pieces.append((hit.group(), True))
        at = hit.end()
    if at < len(window):
        pieces.append((window[at:], False))
    return tuple(pieces)


def _best(fields: list[tuple[str, str]], query: str) -> tuple[str, str]:
    """(label, text) of the first field holding a query term; else the first that is not empty."""
    terms = [t.lower() for t in _terms(query)]
    for label, value in fields:
        if value and any(t in " ".join(value.split()).lower() for t in terms):
            return label, value
    return next(((label, value) for label, value in fields if value), ("", ""))


def snippet(text: str, query: str, width: int = SNIPPET_WIDTH) -> str:
    """About ``width`` characters of ``text`` around the first query term found in it."""
    flat = " ".join(text.split())
    lower = flat.lower()
    for term in query.split():
        at = lower.find(term.lower())
        if at >= 0:
            start = max(0, at - width // 2)
            end = min(len(flat), at + len(term) + width // 2)
            return ("…" if start else "") + flat[start:end] + ("…" if end < len(flat) else "")
    return flat[:width] + ("…" if len(flat) > width else "")


def _matches(
    db: Database,
    select: str,
    source: str,
    order: str,
    expression: str,
    where: str,
    params: list,
    limit: int,
) -> tuple[int, list[tuple]]:
    """How many rows of ``source`` match the query under ``where``, and the first ``limit``."""
    base = f"FROM {source} WHERE search_index MATCH ? AND {where}"
    args = [expression, *params]
    total = db.execute(f"SELECT count(*) {base}", args).fetchone()[0]
    rows = db.execute(f"{select} {base} ORDER BY {order} LIMIT ?", [*args, limit]).fetchall()
    return total, rows


def search(
    db: Database,
    viewer: User,
    query: str,
    *,
    kinds: tuple[str, ...] = ("activity", "case"),
    since: dt.date | None = None,
    until: dt.date | None = None,
    system: str | None = None,
    case_states: list[str] | None = None,
    include_voided: bool = False,
    limit: int = LIMIT,
) -> Results:
    """What the viewer may see that contains every term of ``query``, newest first."""
    query = " ".join(query.split())
    if len(query) > MAX_QUERY:
        raise ValidationError(f"检索词过长（最多 {MAX_QUERY} 个字符）")
    if control_character(query, allow=EMOJI_JOINERS) is not None:
        # FTS5 ends a string at a NUL byte ("unterminated string"); nothing indexed holds one anyway
        raise ValidationError("检索词含有不可见的控制字符，请删除后重试")
    results = Results(query)
    expression = match_expression(query)
    if expression is None:
        return results
    refresh(db)
    if "activity" in kinds and not activities.scope_of(viewer).empty:
        where, params = activities.filter_clause(
            viewer, system=system, since=since, until=until, include_voided=include_voided
        )
        results.activity_total, rows = _matches(
            db,
            "SELECT a.id, a.date, a.system, a.subtype, p.name, a.voided_at, a.counterpart_text, "
            "a.content, a.opinions, a.followup",
            "search_index s JOIN activities a ON a.id = s.rowid / 2 AND s.rowid % 2 = 0 "
            "JOIN people p ON p.id = a.cadre_id",
            "a.date DESC, a.id DESC",
            expression,
            where,
            params,
            limit,
        )
        results.activities = [_activity_hit(r, query) for r in rows]
    case_where: str | None = None
    case_params: list = []
    if "case" in kinds:  # every case the viewer may see, withdrawn ones too unless states are named
        case_where, case_params = cases.filter_clause(
            viewer,
            scope="all",
            states=case_states,
            include_withdrawn=True,
            system=system,
            since=since,
            until=until,
        )
    if case_where is not None:
        results.case_total, rows = _matches(
            db,
            "SELECT c.id, c.contact_date, c.number, c.responsible_dept, c.state, c.content, c.answer, "
            "c.raiser_name, c.raised_by, c.cadre_id, c.supervisor",
            "search_index s JOIN cases c ON c.id = s.rowid / 2 AND s.rowid % 2 = 1",
            "c.contact_date DESC, c.id DESC",
            expression,
            case_where,
            case_params,
            limit,
        )
        results.cases = [_case_hit(r, query, viewer) for r in rows]
    return results


def _activity_hit(r: tuple, query: str) -> Hit:
    activity_id, day, system, subtype, cadre, voided, counterpart, content, opinions, followup = r
    where, text = _best(
        [("开展情况", content), ("意见建议", opinions), ("落实情况", followup), ("联系对象", counterpart)],
        query,
    )
    marks = marked(text, query)
    return Hit(
        kind="activity",
        id=activity_id,
        date=day,
        title=f"{system}（{subtype}）· {cadre}",
        state=states.activity_label(bool(voided)),
        snippet="".join(piece for piece, _ in marks),
        ref=f"活动 #{activity_id}",
        link=links.activity(activity_id),
        marks=marks,
        where=where,
        about=f"联系对象：{counterpart}" if counterpart and where != "联系对象" else "",
    )


def _case_hit(r: tuple, query: str, viewer: User) -> Hit:
    case_id, day, number, dept, state, content, answer, raiser, raised_by, cadre_id, supervisor = r
    where, text = _best([("意见建议", content), ("答复", answer or "")], query)
    marks = marked(text, query)
    row = {"responsible_dept": dept, "supervisor": supervisor, "cadre_id": cadre_id, "raised_by": raised_by}
    handles = cases.can_handle(viewer, row) or cases.supervises(viewer, row)
    own_contact = viewer.person_id is not None and cadre_id == viewer.person_id
    # the raiser reads it on 我的诉求; whoever handles it, supervises it or whose contact raised it, on 意见建议办理
    raiser_only = raised_by == viewer.id and not (handles or own_contact)
    return Hit(
        kind="case",
        id=case_id,
        date=day,
        title=number,  # its words are the snippet below it
        state=states.case_label(state),
        snippet="".join(piece for piece, _ in marks),
        ref=number,
        link=links.case(number, raiser=raiser_only),
        marks=marks,
        where=where,
        about="　".join(filter(None, [f"{dept}负责", f"提出人：{raiser}" if raiser else ""])),
    )
