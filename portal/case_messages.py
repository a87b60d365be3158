"""What a case's steps say, and to whom: written to the outbox inside the transaction of the step
(``portal.notify.outbox``), so a message exists exactly when the step does.

* ``case_event(db, case_id, action)`` — after a row of ``case_events``: a case opened, transferred or
  reopened goes to its department's staff, an answer to the person who raised it (else the cadre), with
  the link where he rates it; a case sent to 督办 to the supervising department, its 督办意见 back to
  the responsible one;
* ``due`` / ``overdue`` — the reminders the dispatcher's scan (``portal.notify.scan``) queues for a
  case due tomorrow (its department) or past its deadline (its department and the administrators);
* ``digests`` — the older e-mail digest of ``portal cases --remind``: each department's overdue and
  at-risk cases in one e-mail.

Messages never carry what someone raised (the opinion): they leave the portal. They carry the number
and a link, and the link opens the rest after login. Rows are read with SQL: ``portal.case_history`` calls
this module inside the cases' transactions, so this module imports no module of the cases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from email.message import EmailMessage
from typing import Protocol

from sqlite_utils import Database

from . import dates, links
from .notify.digest import SmtpConfig, new_message
from .notify.outbox import admin_users, department_users, emit, message, person_users

SOURCE_LABELS = {"reception": "接待日", "symposium": "座谈", "other": "其他联系"}


def case_event(db: Database, case_id: int, action: str) -> None:
    """After ``case_history.add_step``: the case row is already as the change left it."""
    if action not in ("opened", "transferred", "reopened", "answered", "supervised", "urged"):
        return
    rows = list(
        db.query(
            "SELECT c.id, c.number, c.source, c.responsible_dept, c.supervisor, c.due_date, c.raised_by, c.cadre_id, "
            "(SELECT max(id) FROM case_events e WHERE e.case_id = c.id) AS event_id FROM cases c WHERE c.id = ?",
            [case_id],
        )
    )
    if not rows:
        return
    c = rows[0]
    key = f"case.{action}:{c['event_id']}"
    due = dates.format_date(c["due_date"])
    # a deadline already past is said so, never "请于 <a past day> 前答复"
    late = dt.date.fromisoformat(str(c["due_date"])[:10]) < dates.today()
    by = f"答复期限 {due} 已过，请尽快" if late else f"请于 {due} 前"
    if action == "supervised":  # after repeated 不满意: the supervising department is told
        emit(
            db,
            "case.assigned",
            department_users(db, c["supervisor"]),
            message(
                f"【意见建议督办】{c['number']}",
                f"提出人对意见建议（编号 {c['number']}）的答复多次不满意，已转{c['supervisor']}督办，"
                f"由{c['responsible_dept']}"
                + (f"尽快重新答复（答复期限 {due} 已过）。" if late else f"于 {due} 前重新答复。"),
                links.case(c["number"]),
            ),
            key=key,
        )
        return
    if action == "urged":
        emit(
            db,
            "case.assigned",
            department_users(db, c["responsible_dept"]),
            message(
                f"【意见建议督办】{c['number']}",
                f"{c['supervisor'] or '督办部门'}对意见建议（编号 {c['number']}）提出了督办意见，请登录查看。",
                links.case(c["number"]),
            ),
            key=key,
        )
        return
    if action in ("opened", "transferred", "reopened"):
        text = (
            f"意见建议（编号 {c['number']}）需重新办理，{by}再次答复。"
            if action == "reopened"
            else f"有一件来自{SOURCE_LABELS.get(c['source'], '联系活动')}的意见建议（编号 {c['number']}）交由"
            f"{c['responsible_dept']}办理，{by}答复。"
        )
        emit(
            db,
            "case.assigned",
            department_users(db, c["responsible_dept"]),
            message(f"【意见建议交办】{c['number']}", text, links.case(c["number"])),
            key=key,
        )
        return
    raiser = [c["raised_by"]] if c["raised_by"] else []
    whose = "您反映的" if raiser else "您联系活动中师生反映的"
    emit(
        db,
        "case.answered",
        raiser or person_users(db, c["cadre_id"]),
        message(
            f"【意见建议答复】{c['number']} 已答复",
            f"{whose}意见建议（编号 {c['number']}）已由{c['responsible_dept']}答复，请登录查看答复内容"
            + ("，并评价是否满意。" if raiser else "。"),
            links.case(c["number"], raiser=bool(raiser)),
        ),
        key=key,
    )


class Due(Protocol):
    """What the reminders read of a case (``portal.cases.Case``)."""

    @property
    def id(self) -> int: ...
    @property
    def number(self) -> str: ...
    @property
    def responsible_dept(self) -> str: ...
    @property
    def due_date(self) -> dt.date: ...
    @property
    def flag(self) -> str: ...


def due(db: Database, case: Due) -> int:
    """A case due tomorrow (one working day left): its department's staff."""
    return emit(
        db,
        "case.due",
        department_users(db, case.responsible_dept),
        message(
            f"【意见建议临期】{case.number} 明天到期",
            f"意见建议（编号 {case.number}）应于 {dates.format_date(case.due_date)} 前答复，还剩 1 个工作日。",
            links.case(case.number),
        ),
        key=f"case.due:{case.id}:{case.due_date.isoformat()}",
    )


def overdue(db: Database, case: Due) -> int:
    """A case past its deadline: its department's staff and 督办 (the administrators), once per deadline."""
    return emit(
        db,
        "case.overdue",
        department_users(db, case.responsible_dept) + admin_users(db),
        message(
            f"【督办提醒】{case.number} 已逾期",
            f"意见建议（编号 {case.number}，{case.responsible_dept}负责）的办理期限 "
            f"{dates.format_date(case.due_date)} 已过，{case.flag}，请尽快答复。",
            links.case(case.number),
        ),
        key=f"case.overdue:{case.id}:{case.due_date.isoformat()}",
    )


class Listed(Due, Protocol):
    """What the department's digest reads of a case (``portal.cases.Case``)."""

    @property
    def is_open(self) -> bool: ...
    @property
    def overdue(self) -> bool: ...
    @property
    def at_risk(self) -> bool: ...
    @property
    def state_label(self) -> str: ...
    @property
    def handling_unit_name(self) -> str | None: ...


def digests(cfg: SmtpConfig, cases: Iterable[Listed]) -> list[EmailMessage]:
    """``portal cases --remind``: one e-mail per department with overdue or at-risk cases (and someone to
    send it to), listing them."""
    by_dept: dict[str, list[Listed]] = {}
    for c in cases:
        if c.is_open and (c.overdue or c.at_risk):
            by_dept.setdefault(c.responsible_dept, []).append(c)
    messages = []
    for dept, found in sorted(by_dept.items()):
        to = cfg.recipients(dept)
        if not to:
            continue
        overdue = [c for c in found if c.overdue]
        lines = [
            f"{dept}：截至 {dates.format_date(dates.today())}，有 {len(overdue)} 件意见建议逾期未答复，"
            f"{len(found) - len(overdue)} 件即将到期。请登录联系师生服务平台“意见建议办理”页面办理。",
            "",
        ]
        for c in sorted(found, key=lambda c: (c.due_date, c.number)):
            unit = f"，承办单位：{c.handling_unit_name}" if c.handling_unit_name else ""
            lines.append(f"{c.number}  {c.state_label}  期限 {c.due_date.isoformat()}  {c.flag}{unit}")
        msg = new_message(
            cfg,
            ", ".join(to),
            f"【督办提醒】{dept}：逾期 {len(overdue)} 件，临期 {len(found) - len(overdue)} 件",
        )
        msg.set_content("\n".join(lines))
        messages.append(msg)
    return messages
