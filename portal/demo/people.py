"""Demo step: the people — the leadership team with portfolios, 22 colleges and 29 departments
named as the policy names them, their 处级 cadres with tags, staff, students and retirees with
accounts, and one account per responsible department. Every demo account's password is
``DEMO_PASSWORD``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

from sqlite_utils import Database

from .. import dates
from ..db import inserted_id
from ..passwords import DEMO_PASSWORD
from .context import DemoContext

__all__ = ["DEMO_PASSWORD"]  # the demo's accounts all have it (defined in passwords: refused as anyone's own)

COLLEGES = [
    "能源科学与工程学院",
    "安全科学与工程学院",
    "资源环境学院",
    "测绘与国土信息工程学院",
    "机械与动力工程学院",
    "电气工程与自动化学院",
    "计算机科学与技术学院",
    "土木工程学院",
    "材料科学与工程学院",
    "化学化工学院",
    "数学与信息科学学院",
    "物理与电子信息学院",
    "经济管理学院",
    "文法学院",
    "外国语学院",
    "马克思主义学院",
    "建筑与艺术设计学院",
    "体育学院",
    "医学院",
    "音乐学院",
    "应急管理学院",
    "软件学院",
]
# (full name, the policy's name or None, head's title)
DEPARTMENTS = [
    ("党委办公室", "党办", "主任"),
    ("校长办公室", "校办", "主任"),
    ("党委组织部", "组织部", "部长"),
    ("党委宣传部", "宣传部", "部长"),
    ("党委统战部", "统战部", "部长"),
    ("学生工作部（处）", "学工部", "部长"),
    ("纪委办公室", "校纪委办", "主任"),
    ("教务处", None, "处长"),
    ("科学技术处", "科技处", "处长"),
    ("社会科学处", "社科处", "处长"),
    ("研究生院", None, "院长"),
    ("人事处", None, "处长"),
    ("财务处", None, "处长"),
    ("发展规划与学科建设处", None, "处长"),
    ("国际教育学院", "国教院", "院长"),
    ("招生就业处", None, "处长"),
    ("后勤处（集团）", None, "处长"),
    ("信息化建设与管理中心", "信管中心", "主任"),
    ("老干部工作处", None, "处长"),
    ("校工会", None, "常务副主席"),
    ("校团委", None, "书记"),
    ("保卫处", None, "处长"),
    ("国有资产管理处", None, "处长"),
    ("图书馆", None, "馆长"),
    ("审计处", None, "处长"),
    ("基建处", None, "处长"),
    ("实验室与设备管理处", None, "处长"),
    ("档案馆", None, "馆长"),
    ("继续教育学院", None, "院长"),
]
LEADERSHIP_UNIT = "校领导班子"
# (title, tags, departments and colleges in charge)
LEADERS = [
    ("党委书记", ["party_secretary", "principal"], ["党委办公室", "党委组织部", "党委宣传部"]),
    ("校长", ["president", "principal"], ["校长办公室", "发展规划与学科建设处", "人事处"]),
    ("党委副书记", ["charge_ideology", "charge_students"], ["学生工作部（处）", "校团委", "党委统战部"]),
    ("党委副书记、纪委书记", [], ["纪委办公室", "审计处"]),
    ("党委副书记", ["charge_marxism"], ["马克思主义学院", "老干部工作处", "校工会", "档案馆"]),
    ("副校长", ["charge_teaching"], ["教务处", "招生就业处", "国际教育学院", "继续教育学院"]),
    ("副校长", ["charge_research"], ["科学技术处", "社会科学处", "研究生院"]),
    ("副校长", ["charge_ideology"], ["后勤处（集团）", "保卫处", "国有资产管理处"]),
    ("副校长", [], ["财务处", "信息化建设与管理中心", "图书馆", "基建处", "实验室与设备管理处"]),
]
DEPARTMENT_ACCOUNTS = {
    "党办": "dangban",
    "校办": "xiaoban",
    "宣传部": "xuanchuan",
    "教务处": "jiaowu",
    "组织部": "zuzhi",
    "统战部": "tongzhan",
    "学工部": "xuegong",
    "老干部工作处": "laogan",
    "校纪委办": "jiwei",
    "马克思主义学院": "makesi",
}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰海峰雪梅晓东晨阳宇轩浩然子涵欣怡思远嘉怡梓萱俊杰文博天佑一鸣新宇立新振华卫东永强红梅丽娟春生秋实"


def _name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


def _phone(rng: random.Random) -> str:
    return "1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))


def org(db: Database, ctx: DemoContext) -> str:
    rng, ids = ctx.rng, ctx.ids
    colleges = list(COLLEGES)
    for k in range(2, ctx.scale + 1):
        colleges += [f"{c[:-2]}（{k}分院）学院" for c in COLLEGES]
    db.table("units").insert({"name": LEADERSHIP_UNIT, "kind": "department", "policy_name": None})
    for name in colleges:
        db.table("units").insert({"name": name, "kind": "college", "policy_name": None})
    for name, policy_name, _ in DEPARTMENTS:
        db.table("units").insert({"name": name, "kind": "department", "policy_name": policy_name})
    ctx.units = {r["name"]: r["id"] for r in db.query("SELECT id, name FROM units")}
    start = "2020-09-01"

    def person(kind: str, unit: str, cpc: bool, person_kind: str = "教职工") -> int:
        return inserted_id(
            db.table("people").insert(
                {
                    "staff_no": ids.take(kind),
                    "name": _name(rng),
                    "unit_id": ctx.units[unit],
                    "phone": _phone(rng),
                    "kind": person_kind,
                    "cpc_member": int(cpc),
                }
            )
        )

    def post(
        person_id: int, unit: str, title: str, level: str, tags: list[str], charges: Sequence[str] = ()
    ) -> None:
        post_id = inserted_id(
            db.table("cadre_posts").insert(
                {
                    "person_id": person_id,
                    "unit_id": ctx.units[unit],
                    "title": title,
                    "level": level,
                    "tags": json.dumps(sorted(tags)),
                    "start_date": start,
                    "end_date": None,
                }
            )
        )
        for charge in charges:
            db.table("post_charges").insert({"post_id": post_id, "unit_id": ctx.units[charge]})
        ctx.cadres.append(person_id)

    # leaders: their charge also covers some colleges, round robin
    college_share: dict[int, list[str]] = {i: [] for i in range(len(LEADERS))}
    for i, college in enumerate(colleges):
        college_share[i % len(LEADERS)].append(college)
    for i, (title, tags, charges) in enumerate(LEADERS):
        pid = person("leader", LEADERSHIP_UNIT, cpc=True)
        ctx.leaders.append(pid)
        post(pid, LEADERSHIP_UNIT, title, "校级", tags, [*charges, *college_share[i]])
    for college in colleges:
        short = college.removesuffix("学院")
        post(
            person("cadre", college, True),
            college,
            f"{short}学院党委书记",
            "正处",
            ["college_secretary", "principal"],
        )
        post(
            person("cadre", college, rng.random() < 0.85),
            college,
            f"{short}学院院长",
            "正处",
            ["dean", "principal"],
        )
        post(person("cadre", college, True), college, f"{short}学院党委副书记", "副处", [])
        if rng.random() < 0.6:
            post(person("cadre", college, True), college, f"{short}学院党委副书记", "副处", [])
        post(
            person("cadre", college, rng.random() < 0.8),
            college,
            f"{short}学院副院长",
            "副处",
            ["teaching_vice_dean"],
        )
        for _ in range(rng.choice((2, 3, 3, 4))):
            post(person("cadre", college, rng.random() < 0.8), college, f"{short}学院副院长", "副处", [])
    for name, _, head in DEPARTMENTS:
        post(person("cadre", name, True), name, f"{name}{head}", "正处", ["principal"])
        deputy = "副" + head if not head.startswith("常务") else "副主席"
        for _ in range(rng.choice((2, 3, 3, 4))):
            post(person("cadre", name, rng.random() < 0.9), name, f"{name}{deputy}", "副处", [])
    return f"单位 {len(ctx.units)} 个（学院 {len(colleges)} 个），干部 {len(ctx.cadres)} 人（校领导 {len(ctx.leaders)} 人）"


def accounts(db: Database, ctx: DemoContext) -> str:
    rng, ids = ctx.rng, ctx.ids
    now = dates.stamp()
    college_ids = [
        uid for name, uid in ctx.units.items() if name.endswith("学院") and name != LEADERSHIP_UNIT
    ]
    users: list[dict] = []

    def account(username: str, name: str, person_id: int | None) -> int:
        return inserted_id(
            db.table("users").insert(
                {
                    "username": username,
                    "person_id": person_id,
                    "display_name": name,
                    "password_hash": ctx.password_hash,
                    "demo_password": 1,  # the published demo password: warned about until changed
                    "is_active": 1,
                    "created_at": now,
                }
            )
        )

    def role(user_id: int, role_name: str, department: str = "") -> None:
        db.table("user_roles").insert({"user_id": user_id, "role": role_name, "department": department})

    role(account("admin", "系统管理员", None), "admin")
    for dept, username in DEPARTMENT_ACCOUNTS.items():
        role(account(username, f"{dept}工作人员", None), "department", dept)
    for person_id in ctx.cadres:
        p = db.execute("SELECT staff_no, name FROM people WHERE id = ?", [person_id]).fetchone()
        role(account(p[0], p[1], person_id), "visitor")  # 干部 follows from the post
    people = []
    for unit_id in college_ids:
        for _ in range(5):
            people.append(
                {
                    "staff_no": ids.take("staff"),
                    "name": _name(rng),
                    "unit_id": unit_id,
                    "phone": _phone(rng),
                    "kind": "教职工",
                    "cpc_member": int(rng.random() < 0.5),
                }
            )
        for _ in range(10):
            people.append(
                {
                    "staff_no": ids.take("student"),
                    "name": _name(rng),
                    "unit_id": unit_id,
                    "phone": _phone(rng),
                    "kind": "学生",
                    "cpc_member": int(rng.random() < 0.1),
                }
            )
    for _ in range(30 * ctx.scale):
        people.append(
            {
                "staff_no": ids.take("retiree"),
                "name": _name(rng),
                "unit_id": rng.choice(college_ids),
                "phone": _phone(rng),
                "kind": "离退休",
                "cpc_member": 1,
            }
        )
    db.table("people").insert_all(people, batch_size=500)
    rows = db.query(
        "SELECT id, staff_no, name FROM people WHERE kind IN ('教职工', '学生') "
        "AND id NOT IN (SELECT person_id FROM cadre_posts)"
    )
    for r in rows:
        users.append(
            {
                "username": r["staff_no"],
                "person_id": r["id"],
                "display_name": r["name"],
                "password_hash": ctx.password_hash,
                "demo_password": 1,
                "is_active": 1,
                "created_at": now,
            }
        )
    db.table("users").insert_all(users, batch_size=500)
    db.execute(
        "INSERT INTO user_roles (user_id, role, department) SELECT id, 'visitor', '' FROM users "
        "WHERE id NOT IN (SELECT user_id FROM user_roles)"
    )
    ctx.visitors = [
        r[0]
        for r in db.execute(
            "SELECT u.id FROM users u JOIN people p ON p.id = u.person_id WHERE p.kind IN ('教职工', '学生') "
            "AND p.id NOT IN (SELECT person_id FROM cadre_posts) ORDER BY u.id"
        )
    ]
    total = db.execute("SELECT count(*) FROM users").fetchone()[0]
    return f"账号 {total} 个（师生 {len(ctx.visitors)} 个，部门 {len(DEPARTMENT_ACCOUNTS)} 个），演示密码 {DEMO_PASSWORD}"
