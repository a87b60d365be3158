"""Demo step: 常用答复 — the answers 党办, 校办, 学工部, 教务处 and 后勤 questions get again and again, kept by
each department as its templates ({编号} and {提出人} filled in when used)."""

from __future__ import annotations

from sqlite_utils import Database

from .. import answer_templates
from .context import account
from .people import DEPARTMENT_ACCOUNTS

TEMPLATES = {
    "党办": [
        (
            "已转承办单位",
            "{提出人}您好：您反映的问题（编号 {编号}）已转承办单位办理，办理结果将及时反馈给您。",
        ),
        ("已协调解决", "{提出人}您好：经党办协调，您反映的问题已由承办单位解决。如仍有问题，欢迎再次反映。"),
        ("纳入工作计划", "您反映的问题已纳入学校下一阶段工作计划，将分步推进，感谢您的关心和支持。"),
    ],
    "校办": [
        (
            "已转承办单位",
            "{提出人}您好：您反映的问题（编号 {编号}）已转承办单位办理，办理结果将及时反馈给您。",
        ),
        ("政策解释", "您反映的事项涉及学校现行规定，相关文件可在学校信息公开网查阅；如有疑问，请联系校办。"),
    ],
    "学工部": [
        ("已联系学院", "{提出人}同学您好：学工部已联系所在学院，学院辅导员将在三个工作日内与您联系。"),
        ("宿舍报修", "宿舍设施问题已转后勤处报修，维修人员将尽快上门，请保持电话畅通。"),
    ],
    "教务处": [
        ("已反馈任课教师", "您反映的课程教学问题已反馈给任课教师和所在学院，学院将跟进整改。"),
    ],
}


def build(db: Database, ctx) -> str:
    made = 0
    for dept, templates in TEMPLATES.items():
        clerk = account(db, DEPARTMENT_ACCOUNTS[dept])
        for title, body in templates:
            answer_templates.save_template(db, clerk, dept, title, body)
            made += 1
    return f"常用答复：{len(TEMPLATES)} 个部门共 {made} 条"
