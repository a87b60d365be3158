"""A person's own data (PIPL Art. 45–46): a copy of everything the portal holds about a user, and an
administrator's correction of a person's details.

* ``collect`` reads, for one account, every kind of record that is about the person — the account and
  the person behind it, posts, notification settings, the audit log's entries of the account (logins
  and what it did, with addresses), sessions, bookings, the waiting list, no-show restrictions, the
  cases raised with every answer and rating, the consents to publish an answer, the activities and
  contact assignments that name the person by 工号/学号, a cadre's own activities, the messages sent
  to the account — as ``Section``s (each feature's read in ``personal_records``).
* ``export`` packs them as a zip: one JSON file per section (field names with their Chinese labels),
  one workbook with a sheet per section, and a README in Chinese. Only the records' own fields go
  in; where a record also concerns other people (an activity naming several, the reception day's
  record) the copy holds its structured fields and not the free text about them. The page serves
  it to its user only (the download gate, ``pages/common.owned``); every export is audited.
* ``correct`` (``personal_corrections``) lets an administrator correct a person's name, telephone number, kind and unit, with
  a reason; the change is audited with the numbers masked (the audit log holds no full number).
"""

from __future__ import annotations

import io
import json
import zipfile

from sqlite_utils import Database

from . import audit, dates, personal_records, sheets, text
from .accounts import ROLE_LABELS, User, get_user
from .personal_records import Section, query_rows, stamp, yes


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
                    "cpc_member": yes(person[4]) if person else "",
                    "roles": "、".join(
                        ROLE_LABELS.get(r.role, r.role) + (f"（{r.department}）" if r.department else "")
                        for r in user.roles
                    ),
                    "active": "正常" if account[2] else "已停用",
                    "password": "已设置（仅存其哈希值）" if account[5] else "无（统一身份认证登录）",
                    "created_at": stamp(account[3]),
                    "last_login_at": stamp(account[4]),
                    "disabled_at": stamp(account[6]),
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
                query_rows(
                    db,
                    "SELECT u.name AS unit, cp.title, cp.level, cp.start_date AS start, "
                    "COALESCE(cp.end_date, '') AS end FROM cadre_posts cp JOIN units u ON u.id = cp.unit_id "
                    "WHERE cp.person_id = ? ORDER BY cp.start_date",
                    [user.person_id],
                ),
            )
        )
    found += [
        personal_records.notify_prefs(db, user_id),
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
                    "at": stamp(r["at"]),
                    "action": audit.action_label(r["action"]),
                    "detail": r["detail"],
                    "address": r["address"],
                    "outcome": audit.OUTCOMES.get(r["outcome"], r["outcome"]),
                }
                for r in query_rows(
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
                    "created_at": stamp(r["created_at"]),
                    "last_seen": stamp(r["last_seen"]),
                    "ended_at": stamp(r["ended_at"]),
                    "method": {"cas": "统一身份认证（CAS）", "oidc": "统一身份认证（OIDC）"}.get(
                        (r["sso_key"] or "").split(":", 1)[0], "密码登录"
                    ),
                }
                for r in query_rows(
                    db,
                    "SELECT created_at, last_seen, ended_at, sso_key FROM sessions WHERE user_id = ? "
                    "ORDER BY created_at",
                    [user_id],
                )
            ],
        ),
        personal_records.bookings(db, user_id),
        personal_records.waitlist(db, user_id),
        personal_records.bans(db, user_id),
        *personal_records.cases(db, user_id),
        personal_records.consents(db, user_id),
        *personal_records.activities(db, user.person_id, staff_no),
        personal_records.messages(db, user_id),
    ]
    return found


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
