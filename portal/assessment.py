"""Annual assessment (年度考核, 第五、三十三条): for a year, every applicable rule of every cadre
over that year's periods, met or not, rolled up per cadre and per unit.

* The periods of year Y are those that **end** in Y (months, the semesters and academic year
  ending in it, the year itself), so that each period is assessed once. They are judged by
  ``portal.quota.compute`` as of 31 December of Y, or today while Y is running (a period not
  over yet is then 进行中, and counts as not yet met).
* A result ``not_assessed`` (post held under half the period) is listed but not scored.
* Completion rate = met / assessed. Units are the units of the posts that make each rule apply
  (a cadre with posts in two units counts in both for the rules of each).
* The heatmap is units × systems, the same rate per cell; units are ranked by rate, then by
  rules met (ties share a rank).
* Beside the quotas, how what teachers and students raised was handled (portal/kpis.py, cases raised
  in the year): each unit as undertaking unit (承办单位) and, for the units that are responsible
  departments, as such; each cadre over the cases raised in his or her contacts. Shown, not ranked.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.utils import get_column_letter
from sqlite_utils import Database

from . import branding, dates, kpis, quota, sheets, unit_names
from .accounts import User
from .errors import PermissionDenied, ValidationError
from .policy import policy

ASSESSORS = ("组织部",)  # besides administrators (第三十三条: 组织部 keeps the assessment)
STATUS_LABELS = quota.STATUS_LABELS


@dataclass
class Tally:
    met: int = 0
    missed: int = 0
    in_progress: int = 0
    not_assessed: int = 0

    def add(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)

    @property
    def assessed(self) -> int:
        return self.met + self.missed + self.in_progress

    @property
    def rate(self) -> float | None:
        return self.met / self.assessed if self.assessed else None

    @property
    def rate_text(self) -> str:
        return "—" if self.rate is None else f"{self.rate:.0%}"


@dataclass
class CadreScore:
    person_id: int
    staff_no: str
    name: str
    unit: str
    tally: Tally
    results: list[quota.QuotaResult] = field(default_factory=list)
    rank: int = 0
    contacts: kpis.Figures | None = None  # the cases raised in his or her contacts this year

    @property
    def missed(self) -> list[quota.QuotaResult]:
        return [r for r in self.results if r.status == "missed"]


@dataclass
class UnitScore:
    unit: str
    cadres: int
    tally: Tally
    rank: int = 0
    handled: kpis.Figures | None = None  # the cases it undertook (承办单位) raised this year
    responsible: kpis.Figures | None = None  # those it answers for as a responsible department


@dataclass
class Assessment:
    year: int
    on: dt.date
    systems: list[str]
    cadres: list[CadreScore]
    units: list[UnitScore]
    heat: dict[tuple[str, str], Tally]  # (unit, system)
    total: Tally
    departments: kpis.Report | None = None  # the responsible departments' KPIs for the year

    def unit(self, name: str) -> UnitScore:
        for u in self.units:
            if u.unit == name:
                return u
        raise KeyError(name)

    def cadres_of(self, unit: str) -> list[CadreScore]:
        return [c for c in self.cadres if any(r.unit == unit for r in c.results)]


def check_viewer(viewer: User) -> None:
    if not (viewer.has("admin") or set(viewer.departments) & set(ASSESSORS)):
        raise PermissionDenied("只有系统管理员和组织部可以查看年度考核")


def _rank(items: list, key) -> None:
    """Competition ranking (1, 2, 2, 4) by ``key`` descending; items are sorted in place."""
    items.sort(key=key, reverse=True)
    previous, rank = None, 0
    for i, item in enumerate(items, start=1):
        k = key(item)
        if k != previous:
            rank, previous = i, k
        item.rank = rank


def assess(db: Database, year: int, *, on: dt.date | None = None) -> Assessment:
    today = on or dates.today()
    if year > today.year:
        raise ValidationError(f"{year} 年尚未开始，不能考核")
    if year < 2000:
        raise ValidationError("年份不正确")
    as_of = min(dt.date(year, 12, 31), today)
    results = [r for r in quota.compute(db, since=dt.date(year, 1, 1), on=as_of) if r.end.year == year]
    by_cadre: dict[int, list[quota.QuotaResult]] = defaultdict(list)
    for r in results:
        by_cadre[r.person_id].append(r)
    cadres = []
    unit_tally: dict[str, Tally] = defaultdict(Tally)
    unit_people: dict[str, set[int]] = defaultdict(set)
    heat: dict[tuple[str, str], Tally] = defaultdict(Tally)
    total = Tally()
    for person_id, found in by_cadre.items():
        tally = Tally()
        for r in found:
            tally.add(r.status)
            total.add(r.status)
            unit_tally[r.unit].add(r.status)
            unit_people[r.unit].add(person_id)
            heat[(r.unit, r.system)].add(r.status)
        unit = Counter(r.unit for r in found).most_common(1)[0][0]
        cadres.append(CadreScore(person_id, found[0].staff_no, found[0].name, unit, tally, found))
    _rank(cadres, lambda c: (c.tally.rate or 0.0, c.tally.met))
    units = [UnitScore(u, len(unit_people[u]), t) for u, t in unit_tally.items()]
    _rank(units, lambda u: (u.tally.rate or 0.0, u.tally.met))
    systems = [s for s in policy().system_names if any(k[1] == s for k in heat)]
    result = Assessment(year, as_of, systems, cadres, units, dict(heat), total)
    _add_kpis(db, result)
    return result


def _add_kpis(db: Database, a: Assessment) -> None:
    """The year's KPIs beside the quotas: each unit as 承办单位 and as responsible department, each cadre."""
    since, until = dt.date(a.year, 1, 1), a.on
    year = kpis.reports(db, ("unit", "cadre", "department"), since=since, until=until)
    by_unit = {r.label: r for r in year["unit"].rows if r.key}
    by_cadre = {r.key: r for r in year["cadre"].rows}
    a.departments = year["department"]
    carried = {m.unit_name: m.policy_name for m in unit_names.resolve(db).values() if m.unit_id}
    for u in a.units:
        u.handled = by_unit.get(u.unit)
        if u.unit in carried:
            u.responsible = a.departments.row(carried[u.unit])
    for c in a.cadres:
        c.contacts = by_cadre.get(c.person_id)


def assess_for(db: Database, viewer: User, year: int, *, on: dt.date | None = None) -> Assessment:
    check_viewer(viewer)
    return assess(db, year, on=on)


def heat_rows(a: Assessment) -> list[dict]:
    """Long form for a chart: one row per (unit, system) with its rate (0–1) and counts."""
    return [
        {"单位": unit, "制度": system, "完成率": t.rate, "已完成": t.met, "考核项": t.assessed}
        for (unit, system), t in sorted(a.heat.items())
        if t.assessed
    ]


# --- the workbook -----------------------------------------------------------------------------


def _pct(t: Tally) -> float | None:
    return None if t.rate is None else round(t.rate, 4)


def export_xlsx(a: Assessment) -> bytes:
    wb = sheets.new_workbook()
    sub = f"统计截至 {dates.format_date(a.on, weekday=False)}；完成率 = 已完成 ÷ 考核项（进行中的期间计为尚未完成）"
    ws = sheets.add_sheet(
        wb,
        "单位排名",
        f"{a.year}年度领导干部联系师生工作考核·单位排名",
        [
            ("名次", 6),
            ("单位", 26),
            ("干部人数", 9),
            ("考核项", 9),
            ("已完成", 9),
            ("未完成", 9),
            ("进行中", 9),
            ("完成率", 9),
            *_kpi_columns("承办意见建议"),
        ],
        sub,
    )
    for u in a.units:
        t = u.tally
        ws.append(
            [
                u.rank,
                u.unit,
                u.cadres,
                t.assessed,
                t.met,
                t.missed,
                t.in_progress,
                _pct(t),
                *_kpi_cells(u.handled),
            ],
            formats={8: "0%", **_kpi_formats(9)},
        )

    ws = sheets.add_sheet(
        wb,
        "热力图",
        f"{a.year}年度各单位各项制度完成率",
        [("单位", 26), *((s, max(9, len(s) * 2.2)) for s in a.systems), ("合计", 9)],
        sub,
    )
    first = ws.first_data_row
    percent = dict.fromkeys(range(2, len(a.systems) + 3), "0%")
    for u in a.units:
        cells = [_pct(a.heat[(u.unit, s)]) if (u.unit, s) in a.heat else None for s in a.systems]
        ws.append([u.unit, *cells, _pct(u.tally)], formats=percent)
    if a.units:
        last = get_column_letter(len(a.systems) + 2)
        ws.ws.conditional_formatting.add(
            f"B{first}:{last}{first + len(a.units) - 1}",
            ColorScaleRule(
                start_type="num",
                start_value=0,
                start_color="F8696B",
                mid_type="num",
                mid_value=0.5,
                mid_color="FFEB84",
                end_type="num",
                end_value=1,
                end_color="63BE7B",
            ),
        )

    ws = sheets.add_sheet(
        wb,
        "干部汇总",
        f"{a.year}年度领导干部联系师生工作考核·干部",
        [
            ("名次", 6),
            ("工号", 11),
            ("姓名", 10),
            ("单位", 26),
            ("考核项", 9),
            ("已完成", 9),
            ("未完成", 9),
            ("进行中", 9),
            ("完成率", 9),
            ("未完成的制度", 60),
            *_kpi_columns("联系中反映的意见建议"),
        ],
        sub,
    )
    for c in a.cadres:
        t = c.tally
        missed = "；".join(f"{r.title}（{r.period_label}）" for r in c.missed)
        ws.append(
            [
                c.rank,
                c.staff_no,
                c.name,
                c.unit,
                t.assessed,
                t.met,
                t.missed,
                t.in_progress,
                _pct(t),
                missed,
                *_kpi_cells(c.contacts),
            ],
            formats={9: "0%", **_kpi_formats(11)},
        )

    ws = sheets.add_sheet(
        wb,
        "明细",
        f"{a.year}年度考核明细（每位干部 × 每项制度 × 每个期间）",
        [
            ("工号", 11),
            ("姓名", 10),
            ("单位", 26),
            ("规则", 26),
            ("条款", 10),
            ("制度", 14),
            ("内容", 40),
            ("期间", 22),
            ("要求", 8),
            ("完成", 8),
            ("结果", 8),
        ],
        sub,
    )
    for c in sorted(a.cadres, key=lambda c: c.staff_no):
        for r in c.results:
            ws.append(
                [
                    c.staff_no,
                    c.name,
                    r.unit,
                    r.rule,
                    r.article,
                    r.system,
                    r.title,
                    r.period_label,
                    _num(r.required),
                    _num(r.done),
                    STATUS_LABELS[r.status],
                ]
            )
    if a.departments is not None:
        kpis.add_sheet(
            wb,
            a.departments,
            "意见建议办理",
            f"{a.year}年度各责任部门意见建议办理指标（三率、回访率）",
            f"{a.year}年反映的意见建议，办理和评价统计到 {dates.format_date(a.on, weekday=False)}",
        )
    return sheets.to_bytes(wb)


def _kpi_columns(count: str) -> list[tuple[str, float]]:
    """The KPI columns beside a unit's (as 承办单位) and a cadre's (his or her contacts' cases) figures."""
    return [(count, 10), ("办结率", 8), ("按期办结率", 9), ("满意率", 8)]


def _kpi_cells(f: kpis.Figures | None) -> list[object]:
    if f is None:
        return [0, None, None, None]
    return [f.cases, f.rate("resolve").value, f.rate("on_time").value, f.rate("satisfaction").value]


def _kpi_formats(first: int) -> dict[int, str]:
    return {first + 1: "0.0%", first + 2: "0.0%", first + 3: "0.0%"}


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


# --- the Word report per unit -------------------------------------------------------------------


def _font(run_or_style, size: float | None = None, bold: bool | None = None) -> None:
    font = run_or_style.font
    font.name = "宋体"
    rpr = run_or_style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), "宋体")
    if size:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold


def _table(doc, header: list[str], rows: list[list[object]]) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.font.bold = True
    for values in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            cell.text = "" if value is None else str(value)


def _kpi_sentence(a: Assessment, score: UnitScore) -> str:
    """How the unit handled what was raised in the year, in one paragraph (its counts behind each rate)."""
    f = score.handled
    if f is None or not f.cases:
        text = f"{a.year}年本单位没有承办意见建议。"
    else:
        text = (
            f"{a.year}年本单位承办意见建议 {f.cases} 件，办结率 {f.rate('resolve').text}，"
            f"按期办结率 {f.rate('on_time').text}；答复评价 {f.rated} 次（满意 {f.satisfied}、基本满意 {f.basic}、"
            f"不满意 {f.unsatisfied}），满意率 {f.rate('satisfaction').text}，未评价 {f.unrated} 次。"
        )
    if score.responsible is not None:
        text += (
            f"本单位作为责任部门负责办理的 {score.responsible.cases} 件意见建议的各项指标见下表"
            "（按期响应率、办结率、按期办结率、满意率、回访率）。"
        )
    return text + "下表为本单位领导干部联系活动中师生所提意见建议的办理情况。"


def unit_report_docx(a: Assessment, unit: str) -> bytes:
    """《年度联系师生工作考核情况》 for one unit: its figures, rank, cadres, and what was missed.
    python-docx writes text as XML text nodes, so user text needs no escaping."""
    score = a.unit(unit)
    people = sorted(a.cadres_of(unit), key=lambda c: (c.rank, c.staff_no))
    doc = Document()
    _font(doc.styles["Normal"], 11)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(title.add_run(branding.brand().headed(f"{a.year}年度领导干部联系师生工作考核情况")), 16, True)
    sub = doc.add_paragraph()
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(sub.add_run(unit), 13, True)
    t = score.tally
    doc.add_paragraph(
        f"统计截至{dates.format_date(a.on, weekday=False)}。本单位参加考核的领导干部 {score.cadres} 人，"
        f"考核项 {t.assessed} 项，已完成 {t.met} 项，未完成 {t.missed} 项，进行中 {t.in_progress} 项，"
        f"完成率 {t.rate_text}，在 {len(a.units)} 个单位中排名第 {score.rank}。"
    )
    doc.add_paragraph("一、各项制度完成情况")
    _table(
        doc,
        ["制度", "考核项", "已完成", "完成率"],
        [
            [s, a.heat[(unit, s)].assessed, a.heat[(unit, s)].met, a.heat[(unit, s)].rate_text]
            for s in a.systems
            if (unit, s) in a.heat and a.heat[(unit, s)].assessed
        ],
    )
    doc.add_paragraph("二、领导干部完成情况")
    _table(
        doc,
        ["工号", "姓名", "考核项", "已完成", "未完成", "完成率", "全校名次"],
        [
            [c.staff_no, c.name, c.tally.assessed, c.tally.met, c.tally.missed, c.tally.rate_text, c.rank]
            for c in people
        ],
    )
    missed = [(c, r) for c in people for r in c.missed if r.unit == unit]
    doc.add_paragraph("三、未完成事项")
    if missed:
        _table(
            doc,
            ["姓名", "制度要求", "期间", "要求", "完成"],
            [
                [c.name, f"{r.title}（{r.article}）", r.period_label, _num(r.required), _num(r.done)]
                for c, r in missed
            ],
        )
    else:
        doc.add_paragraph("无。")
    doc.add_paragraph("四、意见建议办理情况")
    doc.add_paragraph(_kpi_sentence(a, score))
    if score.responsible is not None:
        _table(
            doc,
            ["指标", "比率", "计算"],
            [
                [kpis.RATE_LABELS[n], r.percent, f"{r.done}/{r.due}"]
                for n, r in score.responsible.rates.items()
            ],
        )
    _table(
        doc,
        ["姓名", "联系中反映的意见建议", "办结率", "按期办结率", "满意率"],
        [
            [
                c.name,
                c.contacts.cases if c.contacts else 0,
                c.contacts.rate("resolve").percent if c.contacts else "—",
                c.contacts.rate("on_time").percent if c.contacts else "—",
                c.contacts.rate("satisfaction").percent if c.contacts else "—",
            ]
            for c in people
        ],
    )
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
