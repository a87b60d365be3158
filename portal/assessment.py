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
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlite_utils import Database

from . import dates, quota, sheets
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

    @property
    def missed(self) -> list[quota.QuotaResult]:
        return [r for r in self.results if r.status == "missed"]


@dataclass
class UnitScore:
    unit: str
    cadres: int
    tally: Tally
    rank: int = 0


@dataclass
class Assessment:
    year: int
    on: dt.date
    systems: list[str]
    cadres: list[CadreScore]
    units: list[UnitScore]
    heat: dict[tuple[str, str], Tally]  # (unit, system)
    total: Tally

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
    return Assessment(year, as_of, systems, cadres, units, dict(heat), total)


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
    from openpyxl.formatting.rule import ColorScaleRule
    from openpyxl.utils import get_column_letter

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
        ],
        sub,
    )
    for u in a.units:
        t = u.tally
        ws.append(
            [u.rank, u.unit, u.cadres, t.assessed, t.met, t.missed, t.in_progress, _pct(t)], formats={8: "0%"}
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
        ],
        sub,
    )
    for c in a.cadres:
        t = c.tally
        missed = "；".join(f"{r.title}（{r.period_label}）" for r in c.missed)
        ws.append(
            [c.rank, c.staff_no, c.name, c.unit, t.assessed, t.met, t.missed, t.in_progress, _pct(t), missed],
            formats={9: "0%"},
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
    return sheets.to_bytes(wb)


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


# --- the Word report per unit -------------------------------------------------------------------


def _font(run_or_style, size: float | None = None, bold: bool | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

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


def unit_report_docx(a: Assessment, unit: str) -> bytes:
    """《年度联系师生工作考核情况》 for one unit: its figures, rank, cadres, and what was missed.
    python-docx writes text as XML text nodes, so user text needs no escaping."""
    from docx import Document

    score = a.unit(unit)
    people = sorted(a.cadres_of(unit), key=lambda c: (c.rank, c.staff_no))
    doc = Document()
    _font(doc.styles["Normal"], 11)
    title = doc.add_paragraph()
    title.alignment = 1
    _font(title.add_run(f"{a.year}年度领导干部联系师生工作考核情况"), 16, True)
    sub = doc.add_paragraph()
    sub.alignment = 1
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
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
