"""Demo step: contact assignments, the departments' lists, and a year of contact activities.

Deterministic from ``ctx.rng``. Most cadres are on track, some behind, a few have logged
nothing; a few assignments are deliberately outside the policy's bounds (a leader with four
contact colleges, one with two pairs, a contact point shared, one kept under a year) so the
warnings have something to show. Activities run over the year up to today (never after),
with Chinese texts and opinions on some; opinions open cases.
The reception day's activities come from the reception step.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlite_utils import Database

from .. import activities, case_opening, dates
from ..errors import PortalError

START = "2025-09-01"
PLACES = {
    "调查研究": [
        "实验楼 A301",
        "第二食堂",
        "学生公寓 12 号楼",
        "图书馆",
        "行政服务大厅",
        "后勤保障中心",
        "信息化建设与管理中心机房",
    ],
    "联系基层": ["学院会议室", "学院党员活动室", "学生公寓", "学生活动中心"],
    "讲思政课": ["综合楼 201 报告厅", "理科楼 105", "马克思主义学院会议室", "图书馆报告厅"],
    "听课": ["理科楼 302", "综合楼 408", "工科楼 210", "文科楼 115", "马克思主义学院 101"],
    "座谈": ["行政楼第一会议室", "学生活动中心 203", "学院会议室"],
    "谈心谈话": ["办公室", "行政楼小会议室"],
    "联系师生党支部": ["学院党员活动室", "红色教育基地", "学生公寓党员工作站"],
    "联系高层次人才": ["实验室", "专家办公室", "重点实验室会议室"],
    "联系党外代表人士": ["统战之家", "行政楼小会议室"],
    "联系离退休老同志": ["老同志家中", "老年活动中心", "离退休工作处活动室"],
}
CONTENT = {
    ("调查研究", "科研一线"): [
        "到{place}实地调研科研平台建设和重大项目进展，听取团队汇报，现场协调仪器共享问题。"
    ],
    ("调查研究", "实地调研"): [
        "到{place}实地调研，检查服务保障情况，与师生交流，了解存在的困难。",
        "深入{place}走访，查看设施运行和安全管理，听取一线工作人员意见。",
    ],
    ("调查研究", "现场办公会"): ["在马克思主义学院召开现场办公会，研究思政课教师队伍建设和教学条件保障。"],
    ("联系基层", "联系学院"): ["到{target}听取学院年度工作汇报，指导学科建设和人才培养工作。"],
    ("联系基层", "联系点"): ["到联系点{target}了解教学科研情况，与教师座谈交流，指导工作。"],
    ("联系基层", "结对子"): ["到结对的{target}参加班级活动，了解学生学习生活情况。"],
    ("讲思政课", "思政课授课"): [
        "为本科生讲授“形势与政策”专题课：“{topic}”。",
        "为学生讲授思想政治理论课“{topic}”专题。",
    ],
    ("讲思政课", "辅导报告"): ["为教职工作形势政策辅导报告：“{topic}”。"],
    ("讲思政课", "集体备课"): ["参加思政课教师集体备课，围绕“{topic}”研讨教学设计。"],
    ("听课", "听课"): ["随机听课《{course}》，课后与任课教师交流教学方法。"],
    ("听课", "思政课听课"): ["随机听思政课《{course}》，课后向教务处反馈听课意见。"],
    ("座谈", "教师座谈"): ["与分管单位青年教师座谈，了解教师思想、工作和生活状况。"],
    ("座谈", "辅导员等集体座谈"): ["与辅导员、班主任代表集体座谈，听取学生工作意见建议。"],
    ("座谈", "学生座谈"): ["与学生代表座谈，围绕学风建设、就业和后勤服务听取意见。"],
    ("谈心谈话", "谈心谈话"): ["与{target}谈心谈话，交流思想和工作，提醒落实“一岗双责”。"],
    ("联系师生党支部", "组织生活"): ["参加{target}组织生活会，听取支部工作汇报，指导标准化规范化建设。"],
    ("联系师生党支部", "主题党日"): ["参加{target}主题党日活动，与党员交流学习体会。"],
    ("联系高层次人才", "走访"): ["走访{target}，了解科研进展和团队建设需要，协调解决实际困难。"],
    ("联系党外代表人士", "交流谈心"): ["与{target}交流谈心，通报学校重点工作，听取意见建议。"],
    ("联系离退休老同志", "走访"): ["走访看望{target}，通报学校发展情况，听取意见建议。"],
    ("联系离退休老同志", "通报工作"): ["向本单位离退休老同志通报年度工作，听取意见建议。"],
}
TOPICS = [
    "中国式现代化的理论与实践",
    "新时代青年的责任与担当",
    "坚定理想信念",
    "总体国家安全观",
    "高质量发展",
]
COURSES = [
    "高等数学",
    "大学物理",
    "采矿学",
    "安全系统工程",
    "数据结构",
    "思想道德与法治",
    "中国近现代史纲要",
    "工程力学",
]
OPINIONS = {
    "调查研究": [
        "实验室通风设备老化，希望尽快更换。",
        "食堂晚餐窗口开放时间偏短。",
        "服务大厅办事流程仍需简化。",
    ],
    "联系基层": ["希望学校加大对学院实验平台建设的支持。", "青年教师周转房紧张。"],
    "座谈": [
        "图书馆自习座位不足，期末期间尤为紧张。",
        "希望增加就业指导讲座和企业实习机会。",
        "学生公寓热水供应不稳定。",
        "青年教师科研启动经费报销周期较长。",
    ],
    "联系高层次人才": ["团队博士后招聘指标不足。", "大型仪器共享平台预约不便。"],
    "联系党外代表人士": ["建议定期通报学校重大决策的进展。"],
    "联系离退休老同志": ["希望老年活动中心增加健身器材。", "医疗报销手续希望能够代办。"],
    "听课": ["教室投影设备亮度不足，影响教学效果。"],
}
FOLLOWUP = ["已当面答复。", "已交相关部门办理。", "已协调解决。", ""]


@dataclass
class _Cadre:
    person_id: int
    staff_no: str
    name: str
    unit_id: int
    unit_name: str
    tags: set[str]
    college: bool
    user_id: int | None
    pace: float  # share of duties done: 1.0 on track, 0.5 behind, 0 nothing


def _cadres(db: Database, ctx) -> list[_Cadre]:
    rows = db.query(
        "SELECT p.id, p.staff_no, p.name, p.cpc_member, cp.unit_id, un.name AS unit_name, un.kind, cp.level, cp.tags, "
        "(SELECT u.id FROM users u WHERE u.person_id = p.id) AS user_id "
        "FROM cadre_posts cp JOIN people p ON p.id = cp.person_id JOIN units un ON un.id = cp.unit_id ORDER BY p.id"
    )
    out = []
    for r in rows:
        tags = set(json.loads(r["tags"])) | {"school_leader" if r["level"] == "校级" else "middle_cadre"}
        if r["cpc_member"]:
            tags.add("cpc_member")
        roll = ctx.rng.random()
        pace = 0.0 if roll < 0.08 else 0.5 if roll < 0.33 else 1.0
        out.append(
            _Cadre(
                r["id"],
                r["staff_no"],
                r["name"],
                r["unit_id"],
                r["unit_name"],
                tags,
                r["kind"] == "college",
                r["user_id"],
                pace,
            )
        )
    for i, c in enumerate(c for c in out if "school_leader" in c.tags):
        c.pace = 0.5 if i == 5 else 1.0  # one school leader behind
    return out


def build(db: Database, ctx) -> str:
    """The demo step (``portal.demo.STEPS``): lists, assignments, activities; returns its summary."""
    rng = ctx.rng
    today = dates.today()
    first = dt.date(today.year - (today.month < 12), today.month % 12 + 1, 1)  # about a year: 2025-12-01
    cadres = _cadres(db, ctx)
    leaders = [c for c in cadres if "school_leader" in c.tags]
    colleges = [r for r in db.query("SELECT id, name FROM units WHERE kind = 'college' ORDER BY id")]
    dept_users = {r[0]: r[1] for r in db.execute("SELECT username, id FROM users WHERE person_id IS NULL")}

    # --- the departments' lists ---------------------------------------------------------
    targets: list[dict] = []
    staff_by_unit: dict[int, list[dict]] = {}
    for r in db.query(
        "SELECT id, staff_no, name, unit_id, cpc_member FROM people WHERE kind = '教职工' "
        "AND id NOT IN (SELECT person_id FROM cadre_posts) ORDER BY id"
    ):
        staff_by_unit.setdefault(r["unit_id"], []).append(r)
    talents: dict[int, list[dict]] = {}
    reps: list[dict] = []
    branches: dict[int, list[tuple[str, str]]] = {}
    for college in colleges:
        short = college["name"].removesuffix("学院")
        staff = staff_by_unit.get(college["id"], [])
        for person in staff[:2]:
            title = rng.choice(
                ["教授、博导", "太行学者", "省特聘教授", "省级教学名师", "国家级人才计划入选者"]
            )
            targets.append(
                {
                    "kind": "高层次人才",
                    "code": person["staff_no"],
                    "name": person["name"],
                    "unit_id": college["id"],
                    "note": title,
                }
            )
            talents.setdefault(college["id"], []).append(person)
        reps += [p for p in staff[2:] if not p["cpc_member"]][:1]
        for n, (label, prefix) in enumerate((("学生第一党支部", "S"), ("教工党支部", "T")), start=1):
            code = f"DZB-{college['id']:03d}-{prefix}{n}"
            targets.append(
                {
                    "kind": "党支部",
                    "code": code,
                    "name": f"{short}学院{label}",
                    "unit_id": college["id"],
                    "note": "",
                }
            )
            branches.setdefault(college["id"], []).append((code, f"{short}学院{label}"))
    for person in reps:
        party = rng.choice(["民盟", "九三学社", "民进", "农工党", "无党派人士"])
        targets.append(
            {
                "kind": "党外代表人士",
                "code": person["staff_no"],
                "name": person["name"],
                "unit_id": person["unit_id"],
                "note": party,
            }
        )
    retirees = list(
        db.query("SELECT id, staff_no, name, unit_id FROM people WHERE kind = '离退休' ORDER BY id")
    )
    for i, person in enumerate(retirees):
        note = "原校级领导干部" if i < len(leaders) else ""
        targets.append(
            {
                "kind": "离退休老同志",
                "code": person["staff_no"],
                "name": person["name"],
                "unit_id": person["unit_id"],
                "note": note,
            }
        )
    db.table("contact_targets").insert_all(targets, batch_size=500)

    # --- assignments --------------------------------------------------------------------
    assignments: list[dict] = []

    def assign(
        c: _Cadre, kind: str, code: str, name: str, start: str = START, end: str | None = None
    ) -> None:
        assignments.append(
            {
                "cadre_id": c.person_id,
                "kind": kind,
                "target_code": code,
                "target_name": name,
                "start_date": start,
                "end_date": end,
            }
        )

    charge = {
        r[0]: r[1].split("\x1f")
        for r in db.execute(
            "SELECT cp.person_id, group_concat(u.name, char(31)) FROM post_charges pc JOIN cadre_posts cp ON cp.id = pc.post_id "
            "JOIN units u ON u.id = pc.unit_id WHERE u.kind = 'college' GROUP BY cp.person_id"
        )
    }
    charged_units: dict[int, list[int]] = {}
    for person_id, unit_id in db.execute(
        "SELECT cp.person_id, pc.unit_id FROM post_charges pc JOIN cadre_posts cp ON cp.id = pc.post_id ORDER BY 1, 2"
    ):
        charged_units.setdefault(person_id, []).append(unit_id)
    by_unit: dict[int, list[_Cadre]] = {}
    for c in cadres:
        if "school_leader" not in c.tags:
            by_unit.setdefault(c.unit_id, []).append(c)
    all_branches = [b for bs in branches.values() for b in bs]
    all_talents = [t for ts in talents.values() for t in ts]
    for i, c in enumerate(leaders):
        mine = charge.get(c.person_id, [])
        count = 4 if i == 2 else min(len(mine), rng.choice((2, 2, 3)))  # leader 3: one too many (第八条)
        for college in (mine or [colleges[i % len(colleges)]["name"]])[: max(count, 1)]:
            assign(c, "联系学院", college, college)
        if i == 2 and len(mine) < 4:
            for extra in colleges[: 4 - len(mine)]:
                assign(c, "联系学院", extra["name"], extra["name"])
        grade = 2023 + i % 3
        assign(
            c,
            "结对子",
            f"BJ-{c.staff_no}",
            f"{(mine or ['计算机科学与技术学院'])[0].removesuffix('学院')}{grade}级{i + 1}班",
        )
        if i == 4:  # two pairs: the policy says exactly one (第八条)
            assign(c, "结对子", f"ST-{c.staff_no}", "大学生科技创新协会")
        if "cpc_member" in c.tags:
            code, name = all_branches[(i * 5) % len(all_branches)]
            assign(c, "党支部", code, name)
        for t in all_talents[i * 2 : i * 2 + rng.choice((1, 2))]:
            assign(c, "高层次人才", t["staff_no"], t["name"])
        if i != 6 and reps:  # leader 7 has no non-party representative yet (第二十八条)
            rep = reps[i % len(reps)]
            assign(c, "党外代表人士", rep["staff_no"], rep["name"])
        if i < len(retirees):
            assign(c, "离退休老同志", retirees[i]["staff_no"], retirees[i]["name"])
    point_no = 0
    middle = [c for c in cadres if "school_leader" not in c.tags]
    for j, c in enumerate(middle):
        if c.college:
            short = c.unit_name.removesuffix("学院")
            n_points = 0 if j % 17 == 3 else rng.choice((1, 2))
            for k in range(n_points):
                point_no += 1
                label = rng.choice(
                    [f"{short}{2023 + k}级{point_no % 6 + 1}班", f"{short}学院第{k + 1}教研室"]
                )
                if j % 23 == 5 and k == 0:  # kept only half a year (第十条), then a new one
                    assign(c, "联系点", f"LXD-{point_no:04d}", label, START, "2026-02-28")
                    point_no += 1
                    assign(c, "联系点", f"LXD-{point_no:04d}", label + "（新）", "2026-03-01")
                else:
                    assign(c, "联系点", f"LXD-{point_no:04d}", label)
            if j == 7:  # a contact point shared with the previous cadre (第十条)
                prev = [a for a in assignments if a["kind"] == "联系点" and a["cadre_id"] != c.person_id]
                if prev:
                    assign(c, "联系点", prev[-1]["target_code"], prev[-1]["target_name"])
            pool = talents.get(c.unit_id) or all_talents
            t = pool[j % len(pool)]
            assign(c, "高层次人才", t["staff_no"], t["name"])
        local = [r for r in retirees[len(leaders) :] if r["unit_id"] == c.unit_id] or retirees[len(leaders) :]
        if local and j % 11 != 4:
            r = local[j % len(local)]
            assign(c, "离退休老同志", r["staff_no"], r["name"])
    seen = set()
    unique = []
    for a in assignments:
        key = (a["cadre_id"], a["kind"], a["target_code"])
        if key not in seen:
            seen.add(key)
            unique.append(a)
    db.table("assignments").insert_all(unique, batch_size=500)
    by_cadre: dict[int, list[dict]] = {}
    for a in unique:
        by_cadre.setdefault(a["cadre_id"], []).append(a)

    # --- a year of activities -------------------------------------------------------------
    rows: list[dict] = []
    targets_rows: list[tuple[int, str]] = []
    opinions_for: list[int] = []
    leader_nos = [c.staff_no for c in leaders]
    people_names = {r[0]: r[1] for r in db.execute("SELECT staff_no, name FROM people")}
    jiaowu = dept_users.get("jiaowu")

    def day_between(lo: dt.date, hi: dt.date) -> dt.date:
        lo, hi = max(lo, first), min(hi, today)
        d = lo + dt.timedelta(days=rng.randrange(max((hi - lo).days, 0) + 1))
        while d.weekday() >= 5 and d < hi:  # a weekday where possible
            d += dt.timedelta(days=1)
        return min(d, today)

    def log(
        c: _Cadre, system: str, subtype: str, day: dt.date, codes: Sequence[str] = (), hours: float = 0
    ) -> None:
        kind = activities.TARGET_KINDS.get((system, subtype))
        names = []
        for code in codes:
            if kind:
                names += [
                    a["target_name"]
                    for a in by_cadre.get(c.person_id, [])
                    if a["kind"] == kind and a["target_code"] == code
                ]
            else:
                names.append(people_names.get(code, code))
        target = "、".join(names)
        text = rng.choice(CONTENT[(system, subtype)]).format(
            place=rng.choice(PLACES[system]),
            target=target or "师生代表",
            topic=rng.choice(TOPICS),
            course=rng.choice(COURSES),
        )
        items = (
            rng.sample(OPINIONS[system], k=min(len(OPINIONS[system]), rng.choice((1, 1, 2))))
            if system in OPINIONS and rng.random() < 0.06
            else []
        )
        entered = c.user_id
        if system == "听课" and jiaowu and rng.random() < 0.3:
            entered = jiaowu  # 教务处 logs some on the cadre's behalf
        stamp = f"{day.isoformat()}T18:{rng.randrange(60):02d}:00+08:00"
        rows.append(
            {
                "id": len(rows) + 1 + base_id,
                "cadre_id": c.person_id,
                "system": system,
                "subtype": subtype,
                "date": day.isoformat(),
                "place": rng.choice(PLACES[system]),
                "counterpart_text": target or ("学生代表 12 人" if system == "座谈" else ""),
                "hours": hours,
                "participants": "",
                "content": text,
                "opinions": activities.join_opinions(items),
                "followup": rng.choice(FOLLOWUP) if items else "",
                "source": "form",
                "import_key": None,
                "entered_by": entered,
                "created_at": stamp,
                "updated_at": stamp,
                "voided_at": None,
                "void_reason": None,
            }
        )
        for code in codes:
            targets_rows.append((rows[-1]["id"], code))
        if items:
            opinions_for.append(len(rows) - 1)

    base_id = db.execute("SELECT coalesce(max(id), 0) FROM activities").fetchone()[0]
    months = []
    m = dt.date(first.year, first.month, 1)
    while m <= today:
        nxt = dt.date(m.year + (m.month == 12), m.month % 12 + 1, 1)
        months.append((m, nxt - dt.timedelta(days=1)))
        m = nxt
    semesters = [
        (dt.date(2025, 9, 1), dt.date(2026, 1, 31)),
        (dt.date(2026, 2, 1), dt.date(2026, 8, 31)),
        (dt.date(2026, 9, 1), dt.date(2027, 1, 31)),
    ]
    year = (first, today)

    def times(c: _Cadre, n: int) -> int:
        """How many of n a cadre of this pace did."""
        return sum(rng.random() < c.pace for _ in range(n))

    for c in cadres:
        if c.pace == 0:
            continue
        mine = by_cadre.get(c.person_id, [])

        def of(kind: str, mine: list[dict] = mine) -> list[str]:
            return [a["target_code"] for a in mine if a["kind"] == kind]

        if "school_leader" in c.tags:
            for lo, hi in months:
                if rng.random() < c.pace:
                    log(c, "调查研究", "实地调研", day_between(lo, hi))
                if {"president", "charge_research"} & c.tags and rng.random() < c.pace:
                    log(c, "调查研究", "科研一线", day_between(lo, hi))
            if {"party_secretary", "president"} & c.tags:
                log(c, "调查研究", "现场办公会", day_between(dt.date(2026, 9, 1), today))
            for kind, subtype in (("联系学院", "联系学院"), ("结对子", "结对子")):
                for code in of(kind):
                    for _ in range(times(c, 2)):
                        log(c, "联系基层", subtype, day_between(*year), [code])
            for lo, hi in semesters:
                hours_needed = 4 if {"party_secretary", "president"} & c.tags else 2
                for _ in range(times(c, hours_needed // 2)):
                    log(c, "讲思政课", "思政课授课", day_between(lo, hi), hours=2)
                if rng.random() < c.pace:
                    log(c, "讲思政课", "辅导报告", day_between(lo, hi))
                if rng.random() < c.pace:
                    log(c, "座谈", "学生座谈", day_between(lo, hi))
                for code in of("党支部")[:1]:
                    if rng.random() < c.pace:
                        log(
                            c,
                            "联系师生党支部",
                            rng.choice(("组织生活", "主题党日")),
                            day_between(lo, hi),
                            [code],
                        )
                for _ in range(times(c, 2)):
                    log(c, "听课", rng.choice(("听课", "听课", "思政课听课")), day_between(lo, hi))
            if {"party_secretary", "president", "charge_ideology"} & c.tags:
                log(c, "讲思政课", "集体备课", day_between(*year))
                log(c, "座谈", "辅导员等集体座谈", day_between(*year))
            log(c, "座谈", "教师座谈", day_between(*year))
            others = [n for n in leader_nos if n != c.staff_no]
            for code in others[: times(c, len(others))]:
                log(c, "谈心谈话", "谈心谈话", day_between(*year), [code])
            for unit_id in charged_units.get(c.person_id, []):  # 第二十一条: members of units in charge
                members = [m.staff_no for m in by_unit.get(unit_id, [])]
                if members and rng.random() < c.pace:
                    log(c, "谈心谈话", "谈心谈话", day_between(*year), members)
            for kind, system, subtype in (
                ("高层次人才", "联系高层次人才", "走访"),
                ("党外代表人士", "联系党外代表人士", "交流谈心"),
                ("离退休老同志", "联系离退休老同志", "走访"),
            ):
                for code in of(kind):
                    if rng.random() < c.pace:
                        log(c, system, subtype, day_between(*year), [code])
            continue
        # middle cadres
        for _ in range(times(c, 4)):
            log(c, "听课", "听课", day_between(*year))
        if {"dean", "teaching_vice_dean"} & c.tags or c.unit_name == "教务处":
            for lo, hi in semesters:
                for _ in range(times(c, 8)):
                    log(c, "听课", "听课", day_between(lo, hi))
        if c.college:
            for lo, hi in semesters:
                for _ in range(times(c, 2)):
                    log(c, "座谈", "学生座谈", day_between(lo, hi))
                if {"college_secretary", "dean"} & c.tags and rng.random() < c.pace:
                    log(c, "讲思政课", "思政课授课", day_between(lo, hi), hours=2)
            for a in mine:
                if a["kind"] == "联系点" and rng.random() < c.pace:
                    lo = max(dt.date.fromisoformat(a["start_date"]), first)
                    hi = dt.date.fromisoformat(a["end_date"]) if a["end_date"] else today
                    if lo <= hi:
                        log(c, "联系基层", "联系点", day_between(lo, hi), [a["target_code"]])
            for code in of("高层次人才"):
                if rng.random() < c.pace:
                    log(c, "联系高层次人才", "走访", day_between(*year), [code])
        for code in of("离退休老同志"):
            if rng.random() < c.pace:
                log(c, "联系离退休老同志", "走访", day_between(*year), [code])
        if "principal" in c.tags and rng.random() < c.pace:
            log(c, "联系离退休老同志", "通报工作", day_between(*year))
        if "principal" in c.tags:  # 第二十一条: the head talks with each other member of the team
            team = [m.staff_no for m in by_unit.get(c.unit_id, []) if m.person_id != c.person_id]
            for i in range(0, len(team), 3):
                if rng.random() < c.pace:
                    log(c, "谈心谈话", "谈心谈话", day_between(*year), team[i : i + 3])
    db.table("activities").insert_all(rows, batch_size=1000)
    db.conn.executemany("INSERT INTO activity_targets (activity_id, target_code) VALUES (?, ?)", targets_rows)
    codes_of: dict[int, list[str]] = {}
    for activity_id, code in targets_rows:
        codes_of.setdefault(activity_id, []).append(code)
    db.conn.executemany(
        "INSERT INTO activity_history (activity_id, at, user_id, action, snapshot) VALUES (?, ?, ?, 'created', ?)",
        [
            (
                r["id"],
                r["created_at"],
                r["entered_by"],
                json.dumps({**r, "target_codes": codes_of.get(r["id"], [])}, ensure_ascii=False),
            )
            for r in rows
        ],
    )
    cases = _open_cases(db, [rows[i] for i in opinions_for])
    behind = sum(c.pace == 0.5 for c in cadres)
    idle = sum(c.pace == 0 for c in cadres)
    return (
        f"联系对象 {len(unique)} 条（名单 {len(targets)} 人/个），联系活动 {len(rows)} 条"
        f"（进度滞后 {behind} 人，未记录 {idle} 人），意见建议转办 {cases} 件"
    )


def _open_cases(db: Database, rows: list[dict]) -> int:
    """Opinions raised open cases as they do when logged through the form."""
    opened = 0
    for r in rows:
        for item in activities.split_opinions(r["opinions"]):
            try:
                opened += len(case_opening.open_for_activity(db, r["id"], [item], r["entered_by"]))
            except PortalError:
                continue
    return opened
