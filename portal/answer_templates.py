"""常用答复: each department's own answer templates, filled into an answer and edited before it is sent.

A department writes the same answers again and again (转后勤处维修, 已纳入下学期计划 …). Its staff keep
them here, by a short title; administrators may keep those of any department. ``{编号}`` and
``{提出人}`` in a template become the case's number and the name of whoever raised it when it is
filled in (``fill``); the answer is still the department's to read over and send.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlite_utils import Database

from . import audit, dates, text
from .accounts import User
from .cases import ANSWER_MAX, Case
from .db import inserted_id, write
from .errors import NotFound, PermissionDenied, Problems, ValidationError
from .policy import policy

TITLE_MAX = 30
PER_DEPARTMENT = 100  # a list to pick from, not an archive


class AnswerTemplate(BaseModel):
    id: int
    department: str
    title: str
    body: str
    updated_by: int | None = None
    updated_at: str


def may_edit(user: User, department: str) -> bool:
    return user.has("admin") or department in user.departments


def list_templates(db: Database, department: str) -> list[AnswerTemplate]:
    """The department's templates by title (any user who handles its cases may read them)."""
    return [
        AnswerTemplate(**r)
        for r in db.query("SELECT * FROM answer_templates WHERE department = ? ORDER BY title", [department])
    ]


def save_template(
    db: Database, actor: User, department: str, title: str, body: str, template_id: int | None = None
) -> AnswerTemplate:
    """Add a template to the department's (``template_id`` None) or change one of them."""
    if department not in policy().departments:
        raise ValidationError(f"责任部门“{department[:20]}”不在部门列表中")
    if not may_edit(actor, department):
        raise PermissionDenied(f"只有{department}的工作人员或系统管理员可以编辑{department}的常用答复")
    found = Problems()
    with found.field("title"):
        title = text.name(title, "标题", TITLE_MAX)
    with found.field("body"):
        body = text.free_text(body, "答复内容", ANSWER_MAX, required=True)
    found.check()
    with write(db):
        clash = db.execute(
            "SELECT id FROM answer_templates WHERE department = ? AND title = ?", [department, title]
        ).fetchone()
        if clash and clash[0] != template_id:
            raise ValidationError(f"{department}已有标题为“{title}”的常用答复")
        now = dates.stamp()
        if template_id is None:
            held = db.execute(
                "SELECT count(*) FROM answer_templates WHERE department = ?", [department]
            ).fetchone()[0]
            if held >= PER_DEPARTMENT:
                raise ValidationError(f"每个部门最多 {PER_DEPARTMENT} 条常用答复，请先删除不再使用的")
            template_id = inserted_id(
                db.execute(
                    "INSERT INTO answer_templates (department, title, body, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)",
                    [department, title, body, actor.id, now],
                )
            )
        else:
            _get(db, template_id, department)
            db.execute(
                "UPDATE answer_templates SET title = ?, body = ?, updated_by = ?, updated_at = ? WHERE id = ?",
                [title, body, actor.id, now, template_id],
            )
        audit.record(db, actor.id, "case.template", f"{department}：{title}")
    return _get(db, template_id, department)


def delete_template(db: Database, actor: User, template_id: int) -> None:
    row = db.execute("SELECT department, title FROM answer_templates WHERE id = ?", [template_id]).fetchone()
    if row is None:
        raise NotFound("常用答复不存在")
    department, title = row
    if not may_edit(actor, department):
        raise PermissionDenied(f"只有{department}的工作人员或系统管理员可以编辑{department}的常用答复")
    with write(db):
        db.execute("DELETE FROM answer_templates WHERE id = ?", [template_id])
        audit.record(db, actor.id, "case.template_deleted", f"{department}：{title}")


def _get(db: Database, template_id: int, department: str) -> AnswerTemplate:
    rows = list(
        db.query("SELECT * FROM answer_templates WHERE id = ? AND department = ?", [template_id, department])
    )
    if not rows:
        raise NotFound("常用答复不存在")
    return AnswerTemplate(**rows[0])


def fill(template: AnswerTemplate, case: Case) -> str:
    """The template's text for this case: ``{编号}`` and ``{提出人}`` filled in."""
    return template.body.replace("{编号}", case.number).replace("{提出人}", case.raiser_name)
