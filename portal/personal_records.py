"""What each feature holds about one account, as a ``Section`` of the copy of a person's own data
(``personal_data.collect``, PIPL Art. 45): notification settings, bookings, the waiting list, no-show
restrictions, the cases raised with every answer and rating, the consents to publish an answer, the
activities and contact assignments that name the person, a cadre's own activities, the messages sent.
Only the records' own fields go in; free text about other people stays out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlite_utils import Database

from . import dates, states
from .notify.outbox import CHANNELS
from .notify.outbox import STATE_LABELS as MESSAGE_STATES
from .policy import RATING_LABELS
from .ratings import METHOD_LABELS

_VIA = {"raiser": "本人评价", "followup": "回访"}


@dataclass
class Section:
    """One kind of record: a JSON file ``<key>.json`` and a sheet ``title``."""

    key: str
    title: str
    columns: list[tuple[str, str]]  # (field, Chinese label), in order
    rows: list[dict] = field(default_factory=list)
    note: str = ""  # what the section holds, and what it leaves out (README, sheet subtitle)


def query_rows(db: Database, sql: str, params: list) -> list[dict]:
    return [dict(r) for r in db.query(sql, params)]


def yes(value: object) -> str:
    return "是" if value else "否"


def stamp(value: str | None) -> str:
    return dates.format_stamp(value) if value else ""


def notify_prefs(db: Database, user_id: int) -> Section:
    row = db.execute(
        "SELECT channel, email, wecom_userid, webhook, webhook_secret != '', opt_out, opt_in, updated_at "
        "FROM notify_prefs WHERE user_id = ?",
        [user_id],
    ).fetchone()
    rows = []
    if row:
        rows.append(
            {
                "channel": CHANNELS.get(row[0], row[0]),
                "email": row[1],
                "wecom_userid": row[2],
                "webhook": row[3],
                "webhook_secret": "已设置" if row[4] else "",
                "opt_out": "、".join(json.loads(row[5] or "[]")),
                "opt_in": "、".join(json.loads(row[6] or "[]")),
                "updated_at": stamp(row[7]),
            }
        )
    return Section(
        "notify",
        "消息通知设置",
        [
            ("channel", "接收方式"),
            ("email", "电子邮件"),
            ("wecom_userid", "企业微信账号"),
            ("webhook", "群机器人地址"),
            ("webhook_secret", "加签密钥"),
            ("opt_out", "不接收的消息"),
            ("opt_in", "订阅的提醒"),
            ("updated_at", "修改时间"),
        ],
        rows,
        "加签密钥不导出，只说明是否已设置。",
    )


def bookings(db: Database, user_id: int) -> Section:
    rows = []
    for r in query_rows(
        db,
        "SELECT b.code, b.date, b.slot, b.category, b.subject, b.description, b.phone, b.group_size, "
        "b.status, b.checked_in_at, b.created_at, b.cancelled_at, b.cancel_reason, b.outcome, b.answer, "
        "p.name AS leader FROM bookings b JOIN duty_days d ON d.date = b.date JOIN people p ON p.id = d.leader_id "
        "WHERE b.user_id = ? ORDER BY b.date, b.slot",
        [user_id],
    ):
        rows.append(
            {
                **{k: r[k] for k in ("code", "date", "slot", "category", "subject", "description")},
                "phone": r["phone"],
                "group_size": r["group_size"],
                "leader": r["leader"],
                "status": states.booking_label(r["status"], bool(r["checked_in_at"])),
                "created_at": stamp(r["created_at"]),
                "cancelled_at": stamp(r["cancelled_at"]),
                "cancel_reason": r["cancel_reason"],
                "outcome": {"answered": "当场答复", "handed": "转交办理"}.get(r["outcome"] or "", ""),
                "answer": r["answer"],
            }
        )
    return Section(
        "bookings",
        "接待日预约",
        [
            ("code", "预约编号"),
            ("date", "日期"),
            ("slot", "时段"),
            ("category", "类别"),
            ("subject", "反映事项"),
            ("description", "具体情况"),
            ("phone", "联系电话"),
            ("group_size", "来访人数"),
            ("leader", "值班校领导"),
            ("status", "状态"),
            ("created_at", "预约时间"),
            ("cancelled_at", "取消时间"),
            ("cancel_reason", "取消原因"),
            ("outcome", "接待结果"),
            ("answer", "当面答复或说明"),
        ],
        rows,
    )


def waitlist(db: Database, user_id: int) -> Section:
    labels = states.WAITLIST_STATE_LABELS
    rows = [
        {**r, "slot": r["slot"] or "任一时段", "state": labels.get(r["state"], r["state"])}
        for r in query_rows(
            db,
            "SELECT date, slot, category, subject, description, phone, group_size, state, created_at, "
            "ended_at, end_reason FROM waitlist WHERE user_id = ? ORDER BY id",
            [user_id],
        )
    ]
    for r in rows:
        r["created_at"], r["ended_at"] = stamp(r["created_at"]), stamp(r["ended_at"])
    return Section(
        "waitlist",
        "候补登记",
        [
            ("date", "日期"),
            ("slot", "时段"),
            ("category", "类别"),
            ("subject", "反映事项"),
            ("description", "具体情况"),
            ("phone", "联系电话"),
            ("group_size", "来访人数"),
            ("state", "状态"),
            ("created_at", "登记时间"),
            ("ended_at", "结束时间"),
            ("end_reason", "结束原因"),
        ],
        rows,
    )


def bans(db: Database, user_id: int) -> Section:
    rows = [
        {**r, "created_at": stamp(r["created_at"]), "lifted_at": stamp(r["lifted_at"])}
        for r in query_rows(
            db,
            "SELECT starts, until, reason, created_at, lifted_at, lift_reason FROM booking_bans "
            "WHERE user_id = ? ORDER BY id",
            [user_id],
        )
    ]
    return Section(
        "bans",
        "预约限制",
        [
            ("starts", "起始"),
            ("until", "可再次预约"),
            ("reason", "原因"),
            ("created_at", "记录时间"),
            ("lifted_at", "解除时间"),
            ("lift_reason", "解除原因"),
        ],
        rows,
    )


def cases(db: Database, user_id: int) -> list[Section]:
    raised = query_rows(
        db,
        "SELECT id, number, source, contact_date, content, responsible_dept, state, due_date, answered_at, "
        "closed_at, created_at FROM cases WHERE raised_by = ? ORDER BY id",
        [user_id],
    )
    numbers = {r["id"]: r["number"] for r in raised}
    ids = list(numbers) or [0]
    marks = ",".join("?" * len(ids))
    sources = {"reception": "接待日", "symposium": "座谈", "other": "其他联系"}
    cases = Section(
        "cases",
        "我提出的意见建议",
        [
            ("number", "编号"),
            ("source", "来源"),
            ("contact_date", "反映日期"),
            ("content", "反映的问题"),
            ("responsible_dept", "办理部门"),
            ("state", "状态"),
            ("due_date", "答复期限"),
            ("answered_at", "答复时间"),
            ("closed_at", "办结时间"),
        ],
        [
            {
                "number": r["number"],
                "source": sources.get(r["source"], r["source"]),
                "contact_date": r["contact_date"],
                "content": r["content"],
                "responsible_dept": r["responsible_dept"],
                "state": states.CASE_STATE_LABELS.get(r["state"], r["state"]),
                "due_date": r["due_date"],
                "answered_at": stamp(r["answered_at"]),
                "closed_at": stamp(r["closed_at"]),
            }
            for r in raised
        ],
    )
    answers = Section(
        "answers",
        "意见建议的答复",
        [("number", "编号"), ("seq", "第几次答复"), ("at", "答复时间"), ("body", "答复内容")],
        [
            {"number": numbers[r["case_id"]], "seq": r["seq"], "at": stamp(r["at"]), "body": r["body"]}
            for r in query_rows(
                db,
                f"SELECT case_id, seq, at, body FROM case_answers WHERE case_id IN ({marks}) ORDER BY case_id, seq",
                ids,
            )
        ],
    )
    ratings = Section(
        "ratings",
        "评价与回访",
        [
            ("number", "编号"),
            ("rating", "评价"),
            ("comment", "意见"),
            ("via", "方式"),
            ("method", "回访方式"),
            ("at", "时间"),
        ],
        [
            {
                "number": numbers[r["case_id"]],
                "rating": RATING_LABELS.get(r["rating"], r["rating"]),
                "comment": r["comment"],
                "via": _VIA.get(r["via"], r["via"]),
                "method": METHOD_LABELS.get(r["method"] or "", ""),
                "at": stamp(r["at"]),
            }
            for r in query_rows(
                db,
                f"SELECT case_id, rating, comment, via, method, at FROM case_ratings WHERE case_id IN ({marks}) "
                "ORDER BY id",
                ids,
            )
        ],
        "您对答复的评价，以及办理部门对您的回访记录。",
    )
    return [cases, answers, ratings]


def consents(db: Database, user_id: int) -> Section:
    rows = [
        {
            "what": r["what"],
            "given": "同意" if r["given"] else "撤回",
            "at": stamp(r["at"]),
            "wording": r["wording"],
        }
        for r in query_rows(
            db,
            "SELECT COALESCE(c.number, '预约 ' || b.code) AS what, pc.given, pc.at, pc.wording "
            "FROM publish_consents pc LEFT JOIN cases c ON c.id = pc.case_id "
            "LEFT JOIN bookings b ON b.id = pc.booking_id WHERE pc.user_id = ? ORDER BY pc.id",
            [user_id],
        )
    ]
    return Section(
        "consents",
        "答复公开的同意",
        [("what", "意见建议或预约"), ("given", "同意或撤回"), ("at", "时间"), ("wording", "当时看到的说明")],
        rows,
        "您对“隐去姓名后公开答复”的每一次同意和撤回。",
    )


def activities(db: Database, person_id: int | None, staff_no: str | None) -> list[Section]:
    found = []
    named: list[dict] = []
    assigned: list[dict] = []
    if staff_no:
        named = query_rows(
            db,
            "SELECT a.date, a.system, a.subtype, p.name AS cadre, a.place, "
            "CASE WHEN a.voided_at IS NULL THEN '有效' ELSE '已作废' END AS state "
            "FROM activity_targets t JOIN activities a ON a.id = t.activity_id JOIN people p ON p.id = a.cadre_id "
            "WHERE t.target_code = ? ORDER BY a.date",
            [staff_no],
        )
        assigned = query_rows(
            db,
            "SELECT a.kind, p.name AS cadre, a.start_date AS start, COALESCE(a.end_date, '') AS end "
            "FROM assignments a JOIN people p ON p.id = a.cadre_id WHERE a.target_code = ? ORDER BY a.start_date",
            [staff_no],
        )
    found.append(
        Section(
            "activities_named",
            "列为联系对象的联系活动",
            [
                ("date", "日期"),
                ("system", "制度"),
                ("subtype", "类别"),
                ("cadre", "领导干部"),
                ("place", "地点"),
                ("state", "状态"),
            ],
            named,
            "以您的工号/学号列为联系对象的联系活动。活动的正文（开展情况、意见建议、落实情况）往往同时涉及他人，"
            "不在副本中；您在接待日反映的事项见“接待日预约”和“我提出的意见建议”。",
        )
    )
    found.append(
        Section(
            "assignments",
            "联系关系",
            [("kind", "联系类型"), ("cadre", "联系您的领导干部"), ("start", "开始"), ("end", "结束")],
            assigned,
        )
    )
    if person_id is not None:
        own = query_rows(
            db,
            "SELECT date, system, subtype, place, counterpart_text, participants, content, opinions, followup, "
            "CASE WHEN voided_at IS NULL THEN '有效' ELSE '已作废' END AS state "
            "FROM activities WHERE cadre_id = ? ORDER BY date",
            [person_id],
        )
        if own:
            found.append(
                Section(
                    "activities_own",
                    "本人的联系活动记录",
                    [
                        ("date", "日期"),
                        ("system", "制度"),
                        ("subtype", "类别"),
                        ("place", "地点"),
                        ("counterpart_text", "联系对象"),
                        ("participants", "参加人员"),
                        ("content", "开展情况"),
                        ("opinions", "意见建议"),
                        ("followup", "落实情况"),
                        ("state", "状态"),
                    ],
                    own,
                    "您作为领导干部的联系活动记录（与“联系活动记录”页面所见相同）。",
                )
            )
    return found


def messages(db: Database, user_id: int) -> Section:
    rows = []
    for r in query_rows(
        db,
        "SELECT created_at, event, channel, state, sent_at, payload FROM notify_outbox WHERE user_id = ? ORDER BY id",
        [user_id],
    ):
        body = json.loads(r["payload"] or "{}")
        rows.append(
            {
                "created_at": stamp(r["created_at"]),
                "channel": CHANNELS.get(r["channel"], r["channel"]),
                "state": MESSAGE_STATES.get(r["state"], r["state"]),
                "sent_at": stamp(r["sent_at"]),
                "subject": body.get("subject", ""),
                "text": body.get("text", ""),
                "url": body.get("url", ""),
            }
        )
    return Section(
        "messages",
        "发给您的消息",
        [
            ("created_at", "生成时间"),
            ("channel", "发送方式"),
            ("state", "状态"),
            ("sent_at", "发送时间"),
            ("subject", "标题"),
            ("text", "内容"),
            ("url", "链接"),
        ],
        rows,
        "平台发给您的通知（电子邮件、企业微信、钉钉），在保存期限内的。",
    )
