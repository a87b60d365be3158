"""A person's own data (PIPL Art. 45–46): a copy of everything the portal holds about a user, and an
administrator's correction of a person's details.

* ``collect`` reads, for one account, every kind of record that is about the person — the account and
  the person behind it, posts, notification settings, the audit log's entries of the account (logins
  and what it did, with addresses), sessions, bookings, the waiting list, no-show restrictions, the
  cases raised with every answer and rating, the consents to publish an answer, the activities and
  contact assignments that name the person by 工号/学号, a cadre's own activities, the messages sent
  to the account — as ``Section``s.
* ``export`` packs them as a zip: one JSON file per section (field names with their Chinese labels),
  one workbook with a sheet per section, and a README in Chinese. Only the records' own fields go
  in; where a record also concerns other people (an activity naming several, the reception day's
  record) the copy holds its structured fields and not the free text about them. The page serves
  it to its user only (the download gate, ``pages/common.owned``); every export is audited.
* ``correct`` lets an administrator correct a person's name, telephone number, kind and unit, with
  a reason; the change is audited with the numbers masked (the audit log holds no full number).
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field

from sqlite_utils import Database

from . import audit, config, dates, sheets, states, text
from .accounts import ROLE_LABELS, User, get_user
from .db import write
from .errors import NotFound, PermissionDenied, Problems, ValidationError
from .notify.outbox import CHANNELS
from .notify.outbox import STATE_LABELS as MESSAGE_STATES
from .phone import mask
from .policy import RATING_LABELS
from .ratings import METHOD_LABELS

PERSON_KINDS = config.PERSON_KINDS
REASON_MAX = 200
_VIA = {"raiser": "本人评价", "followup": "回访"}


@dataclass
class Section:
    """One kind of record: a JSON file ``<key>.json`` and a sheet ``title``."""

    key: str
    title: str
    columns: list[tuple[str, str]]  # (field, Chinese label), in order
    rows: list[dict] = field(default_factory=list)
    note: str = ""  # what the section holds, and what it leaves out (README, sheet subtitle)


def _rows(db: Database, sql: str, params: list) -> list[dict]:
    return [dict(r) for r in db.query(sql, params)]


def _yes(value: object) -> str:
    return "是" if value else "否"


def _stamp(value: str | None) -> str:
    return dates.format_stamp(value) if value else ""


# --- collecting -------------------------------------------------------------------------------


def collect(db: Database, user_id: int) -> list[Section]:
    """Every record the portal holds about the account ``user_id`` and its person."""
    user = get_user(db, user_id)
    account = db.execute(
        "SELECT username, display_name, is_active, created_at, last_login_at, password_hash IS NOT NULL, "
        "disabled_at FROM users WHERE id = ?",
        [user_id],
    ).fetchone()
    person = None
    if user.person_id is not None:
        person = db.execute(
            "SELECT p.staff_no, p.name, p.kind, p.phone, p.cpc_member, COALESCE(u.name, '') FROM people p "
            "LEFT JOIN units u ON u.id = p.unit_id WHERE p.id = ?",
            [user.person_id],
        ).fetchone()
    staff_no = person[0] if person else None
    found = [
        Section(
            "account",
            "账号与个人信息",
            [
                ("username", "账号"),
                ("display_name", "显示姓名"),
                ("staff_no", "工号/学号"),
                ("name", "姓名"),
                ("kind", "人员类别"),
                ("unit", "单位"),
                ("phone", "手机号"),
                ("cpc_member", "中共党员"),
                ("roles", "角色"),
                ("active", "账号状态"),
                ("password", "本平台密码"),
                ("created_at", "开通时间"),
                ("last_login_at", "最近登录"),
                ("disabled_at", "停用时间"),
            ],
            [
                {
                    "username": account[0],
                    "display_name": account[1],
                    "staff_no": staff_no or "",
                    "name": person[1] if person else "",
                    "kind": person[2] if person else "",
                    "unit": person[5] if person else "",
                    "phone": person[3] if person else "",
                    "cpc_member": _yes(person[4]) if person else "",
                    "roles": "、".join(
                        ROLE_LABELS.get(r.role, r.role) + (f"（{r.department}）" if r.department else "")
                        for r in user.roles
                    ),
                    "active": "正常" if account[2] else "已停用",
                    "password": "已设置（仅存其哈希值）" if account[5] else "无（统一身份认证登录）",
                    "created_at": _stamp(account[3]),
                    "last_login_at": _stamp(account[4]),
                    "disabled_at": _stamp(account[6]),
                }
            ],
            "账号、与之对应的人员信息（手机号完整显示：这是您本人的数据）。密码只保存其哈希值，无法导出。",
        )
    ]
    if user.person_id is not None:
        found.append(
            Section(
                "posts",
                "干部职务",
                [("unit", "单位"), ("title", "职务"), ("level", "级别"), ("start", "任职"), ("end", "离任")],
                _rows(
                    db,
                    "SELECT u.name AS unit, cp.title, cp.level, cp.start_date AS start, "
                    "COALESCE(cp.end_date, '') AS end FROM cadre_posts cp JOIN units u ON u.id = cp.unit_id "
                    "WHERE cp.person_id = ? ORDER BY cp.start_date",
                    [user.person_id],
                ),
            )
        )
    found += [
        _notify_prefs(db, user_id),
        Section(
            "logins",
            "登录与操作记录",
            [
                ("at", "时间"),
                ("action", "操作"),
                ("detail", "说明"),
                ("address", "地址"),
                ("outcome", "结果"),
            ],
            [
                {
                    "at": _stamp(r["at"]),
                    "action": audit.action_label(r["action"]),
                    "detail": r["detail"],
                    "address": r["address"],
                    "outcome": audit.OUTCOMES.get(r["outcome"], r["outcome"]),
                }
                for r in _rows(
                    db,
                    "SELECT at, action, detail, address, outcome FROM audit_log WHERE user_id = ? ORDER BY id",
                    [user_id],
                )
            ],
            "操作日志中记在本账号名下的每一条：登录（含失败及原因）、退出、登录结束，以及本账号做过的操作，"
            "连同当时的网络地址。操作日志按保存期限清理。",
        ),
        Section(
            "sessions",
            "登录会话",
            [
                ("created_at", "登录时间"),
                ("last_seen", "最近活动"),
                ("ended_at", "结束时间"),
                ("method", "方式"),
            ],
            [
                {
                    "created_at": _stamp(r["created_at"]),
                    "last_seen": _stamp(r["last_seen"]),
                    "ended_at": _stamp(r["ended_at"]),
                    "method": {"cas": "统一身份认证（CAS）", "oidc": "统一身份认证（OIDC）"}.get(
                        (r["sso_key"] or "").split(":", 1)[0], "密码登录"
                    ),
                }
                for r in _rows(
                    db,
                    "SELECT created_at, last_seen, ended_at, sso_key FROM sessions WHERE user_id = ? "
                    "ORDER BY created_at",
                    [user_id],
                )
            ],
        ),
        _bookings(db, user_id),
        _waitlist(db, user_id),
        _bans(db, user_id),
        *_cases(db, user_id),
        _consents(db, user_id),
        *_activities(db, user.person_id, staff_no),
        _messages(db, user_id),
    ]
    return found


def _notify_prefs(db: Database, user_id: int) -> Section:
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
                "updated_at": _stamp(row[7]),
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


def _bookings(db: Database, user_id: int) -> Section:
    rows = []
    for r in _rows(
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
                "created_at": _stamp(r["created_at"]),
                "cancelled_at": _stamp(r["cancelled_at"]),
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


def _waitlist(db: Database, user_id: int) -> Section:
    labels = states.WAITLIST_STATE_LABELS
    rows = [
        {**r, "slot": r["slot"] or "任一时段", "state": labels.get(r["state"], r["state"])}
        for r in _rows(
            db,
            "SELECT date, slot, category, subject, description, phone, group_size, state, created_at, "
            "ended_at, end_reason FROM waitlist WHERE user_id = ? ORDER BY id",
            [user_id],
        )
    ]
    for r in rows:
        r["created_at"], r["ended_at"] = _stamp(r["created_at"]), _stamp(r["ended_at"])
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


def _bans(db: Database, user_id: int) -> Section:
    rows = [
        {**r, "created_at": _stamp(r["created_at"]), "lifted_at": _stamp(r["lifted_at"])}
        for r in _rows(
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


def _cases(db: Database, user_id: int) -> list[Section]:
    raised = _rows(
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
                "answered_at": _stamp(r["answered_at"]),
                "closed_at": _stamp(r["closed_at"]),
            }
            for r in raised
        ],
    )
    answers = Section(
        "answers",
        "意见建议的答复",
        [("number", "编号"), ("seq", "第几次答复"), ("at", "答复时间"), ("body", "答复内容")],
        [
            {"number": numbers[r["case_id"]], "seq": r["seq"], "at": _stamp(r["at"]), "body": r["body"]}
            for r in _rows(
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
                "at": _stamp(r["at"]),
            }
            for r in _rows(
                db,
                f"SELECT case_id, rating, comment, via, method, at FROM case_ratings WHERE case_id IN ({marks}) "
                "ORDER BY id",
                ids,
            )
        ],
        "您对答复的评价，以及办理部门对您的回访记录。",
    )
    return [cases, answers, ratings]


def _consents(db: Database, user_id: int) -> Section:
    rows = [
        {
            "what": r["what"],
            "given": "同意" if r["given"] else "撤回",
            "at": _stamp(r["at"]),
            "wording": r["wording"],
        }
        for r in _rows(
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


def _activities(db: Database, person_id: int | None, staff_no: str | None) -> list[Section]:
    found = []
    named: list[dict] = []
    assigned: list[dict] = []
    if staff_no:
        named = _rows(
            db,
            "SELECT a.date, a.system, a.subtype, p.name AS cadre, a.place, "
            "CASE WHEN a.voided_at IS NULL THEN '有效' ELSE '已作废' END AS state "
            "FROM activity_targets t JOIN activities a ON a.id = t.activity_id JOIN people p ON p.id = a.cadre_id "
            "WHERE t.target_code = ? ORDER BY a.date",
            [staff_no],
        )
        assigned = _rows(
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
        own = _rows(
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


def _messages(db: Database, user_id: int) -> Section:
    rows = []
    for r in _rows(
        db,
        "SELECT created_at, event, channel, state, sent_at, payload FROM notify_outbox WHERE user_id = ? ORDER BY id",
        [user_id],
    ):
        body = json.loads(r["payload"] or "{}")
        rows.append(
            {
                "created_at": _stamp(r["created_at"]),
                "channel": CHANNELS.get(r["channel"], r["channel"]),
                "state": MESSAGE_STATES.get(r["state"], r["state"]),
                "sent_at": _stamp(r["sent_at"]),
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


# --- the copy ----------------------------------------------------------------------------------


README = """联系师生服务平台：个人信息副本
==============================

账号：{username}
生成时间：{made}

这是本平台保存的与您本人有关的全部信息（《个人信息保护法》第四十五条）。同样的内容有两种格式：
· 我的数据.xlsx —— 每类信息一个工作表，便于阅读；
· json/ 文件夹 —— 每类信息一个 JSON 文件（字段名及其中文含义见各文件的 columns），便于转移到其他系统。

各类信息：
{sections}

如发现信息有误，请联系平台管理员更正（《个人信息保护法》第四十六条）；更正会记入操作日志。
各类信息的保存期限见平台的隐私与安全说明；到期后个人信息按规定删除或去标识化。
本副本含有您的个人信息，请妥善保管，勿转发他人。
"""


def export(db: Database, user: User) -> bytes:
    """The copy of ``user``'s own data as a zip (JSON + a readable .xlsx + README); audited."""
    found = collect(db, user.id)
    made = dates.now()
    wb = sheets.new_workbook()
    for s in found:
        sheet = sheets.add_sheet(
            wb, s.title, s.title, [(label, 18.0) for _, label in s.columns], subtitle=s.note or ""
        )
        for row in s.rows:
            sheet.append([text.xml_safe(str(row.get(k, ""))) for k, _ in s.columns])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        listing = "\n".join(f"· {s.title}（{len(s.rows)} 条，json/{s.key}.json）" for s in found)
        z.writestr(
            "README.txt",
            README.format(
                username=user.username, made=dates.format_stamp(made.isoformat()), sections=listing
            ),
        )
        z.writestr("我的数据.xlsx", sheets.to_bytes(wb))
        for s in found:
            body = {"title": s.title, "note": s.note, "columns": dict(s.columns), "rows": s.rows}
            z.writestr(f"json/{s.key}.json", json.dumps(body, ensure_ascii=False, indent=1))
    total = sum(len(s.rows) for s in found)
    audit.record(db, user.id, "personal_data.export", f"{len(found)} 类 {total} 条")
    return buffer.getvalue()


# --- correcting ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Details:
    """A person's details as an administrator corrects them (the telephone number only masked)."""

    user_id: int
    username: str
    person_id: int | None
    name: str
    phone_masked: str
    kind: str
    unit_id: int | None


def details(db: Database, user_id: int) -> Details:
    row = db.execute(
        "SELECT u.id, u.username, u.person_id, COALESCE(p.name, u.display_name), COALESCE(p.phone, ''), "
        "COALESCE(p.kind, ''), p.unit_id FROM users u LEFT JOIN people p ON p.id = u.person_id WHERE u.id = ?",
        [user_id],
    ).fetchone()
    if row is None:
        raise NotFound("账号不存在")
    return Details(row[0], row[1], row[2], row[3], mask(row[4]) if row[4] else "", row[5], row[6])


def correct(
    db: Database,
    actor: User,
    user_id: int,
    *,
    reason: str,
    name: str | None = None,
    phone: str | None = None,
    kind: str | None = None,
    unit_id: int | None = None,
) -> Details:
    """Correct a person's details (None: unchanged; ``phone=""`` removes the number). Administrators
    only, with a reason; audited with what changed, numbers masked. Returns the details as they are."""
    if not actor.has("admin"):
        raise PermissionDenied("只有管理员可以更正个人信息")
    current = details(db, user_id)
    found = Problems()
    changes: dict[str, object] = {}
    with found.field("reason"):
        reason = text.free_text(reason, "更正原因", REASON_MAX, required=True).replace("\n", " ")
    if name is not None:
        with found.field("name"):
            name = text.name(name, "姓名")
            if name != current.name:
                changes["name"] = name
    if current.person_id is None and any(v is not None for v in (phone, kind, unit_id)):
        found.add("name", "该账号没有对应的人员信息，只能更正显示姓名")
    if phone is not None and current.person_id is not None:
        with found.field("phone"):
            phone = text.phone(phone, "手机号", required=False)
            stored = db.execute("SELECT phone FROM people WHERE id = ?", [current.person_id]).fetchone()[0]
            if phone != stored:
                changes["phone"] = phone
    if kind is not None and current.person_id is not None:
        if kind not in PERSON_KINDS:
            found.add("kind", f"人员类别须为 {'、'.join(PERSON_KINDS)} 之一")
        elif kind != current.kind:
            changes["kind"] = kind
    if unit_id is not None and current.person_id is not None:
        if db.execute("SELECT 1 FROM units WHERE id = ?", [unit_id]).fetchone() is None:
            found.add("unit", "单位不存在")
        elif unit_id != current.unit_id:
            changes["unit_id"] = unit_id
    found.check()
    if not changes:
        raise ValidationError("没有需要更正的内容")
    said = []
    units = dict(db.execute("SELECT id, name FROM units").fetchall())
    with write(db):
        if "name" in changes:
            db.execute("UPDATE users SET display_name = ? WHERE id = ?", [changes["name"], user_id])
            said.append(f"姓名 {current.name} → {changes['name']}")
        if current.person_id is not None:
            columns = {k: v for k, v in changes.items() if k in ("name", "phone", "kind", "unit_id")}
            if columns:
                db.table("people").update(current.person_id, columns)
        if "phone" in changes:
            said.append(f"手机号 {current.phone_masked or '无'} → {mask(str(changes['phone'])) or '无'}")
        if "kind" in changes:
            said.append(f"人员类别 {current.kind} → {changes['kind']}")
        if "unit_id" in changes:
            said.append(f"单位 {units.get(current.unit_id, '无')} → {units.get(changes['unit_id'], '')}")
        audit.record(
            db,
            actor.id,
            "personal_data.correct",
            f"{current.username}：{'；'.join(said)}；原因：{reason}"[:1000],
        )
    return details(db, user_id)
