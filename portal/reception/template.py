"""The reception day's template, kept as data in the ``settings`` table (key ``reception.template``).

Where the day is held, its sessions cut into slots, how many visits a slot takes, how big a
group may be, when booking opens and when it closes (the cut-off), and the rotation order of
the school leaders. 党办/校办 or an administrator change it; nothing here is hard-coded policy.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from sqlite_utils import Database

from .. import audit, dates, text
from ..db import get_setting, set_setting, write
from ..errors import ValidationError

SETTING_KEY = "reception.template"
WEDNESDAY = 2  # 第十一条: 每周三全天
MAX_GROUP_LIMIT = 3  # the schema's CHECK (group_size BETWEEN 1 AND 3)
CATEGORIES = ["教学", "科研", "人事", "学生事务", "后勤保障", "其他"]  # what a visitor comes about
NO_SHOW_PERIODS = {"semester": "一个学期", "academic_year": "一个学年", "year": "一个自然年"}
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class DayTemplate(BaseModel):
    place: str = Field("行政办公楼一楼校领导接待室", min_length=1, max_length=100)
    sessions: list[tuple[str, str]] = [("08:30", "11:30"), ("14:30", "17:30")]
    slot_minutes: int = Field(30, ge=10, le=240)
    visits_per_slot: int = Field(1, ge=1, le=10)
    max_group: int = Field(3, ge=1, le=MAX_GROUP_LIMIT)
    open_days_before: int = Field(14, ge=1, le=90)  # booking opens at 00:00 this many days before
    cutoff_days_before: int = Field(1, ge=0, le=14)  # and closes that many days before …
    cutoff_time: str = "17:00"  # … at this time (default: the Tuesday before at 17:00)
    rotation: list[str] = []  # school leaders' 工号 in rotation order; others follow by 工号
    # the waiting list (候补): a place offered before this moment must be confirmed by it (default:
    # 12:00 the day before); one offered later is booked outright. The list itself runs until the cut-off.
    confirm_days_before: int = Field(1, ge=0, le=14)
    confirm_time: str = "12:00"
    # the no-show rule (未到): ``no_show_limit`` no-shows within a ``no_show_period`` (applied when a
    # day is completed) → no booking for ``no_show_weeks`` weeks; 0 switches the rule off
    no_show_limit: int = Field(3, ge=0, le=20)
    no_show_period: Literal["semester", "academic_year", "year"] = "semester"
    no_show_weeks: int = Field(4, ge=1, le=52)

    @field_validator("place")
    @classmethod
    def _place(cls, value: str) -> str:
        try:
            return text.name(value, "接待地点", 100)
        except ValidationError as exc:
            raise ValueError(exc.message) from None

    @field_validator("cutoff_time", "confirm_time")
    @classmethod
    def _time(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError("截止时间应为 HH:MM")
        return value

    @field_validator("sessions")
    @classmethod
    def _sessions(cls, value: list[tuple[str, str]]) -> list[tuple[str, str]]:
        if not value:
            raise ValueError("至少需要一个接待时段")
        last = -1
        for start, end in value:
            if not (_HHMM.match(start) and _HHMM.match(end)):
                raise ValueError("时段应为 HH:MM")
            if _minutes(start) >= _minutes(end) or _minutes(start) < last:
                raise ValueError("时段须按时间先后排列，且开始早于结束、互不重叠")
            last = _minutes(end)
        return value

    @model_validator(mode="after")
    def _has_slots(self) -> DayTemplate:
        if not self.slots:
            raise ValueError("时段长度不足一个预约时段")
        if self.cutoff_days_before >= self.open_days_before:
            raise ValueError("预约开放时间须早于截止时间")
        sample = dt.date(2026, 1, 7)
        if self.confirm_by(sample) > self.closes_at(sample):
            raise ValueError("候补确认截止时间不能晚于预约截止时间")
        return self

    # --- what the template means ---------------------------------------------------------

    @property
    def slots(self) -> list[str]:
        """Start times of the slots, e.g. 08:30, 09:00, … 11:00, 14:30, … 17:00."""
        out = []
        for start, end in self.sessions:
            t = _minutes(start)
            while t + self.slot_minutes <= _minutes(end):
                out.append(_hhmm(t))
                t += self.slot_minutes
        return out

    def slot_end(self, slot: str) -> str:
        return _hhmm(_minutes(slot) + self.slot_minutes)

    def slot_label(self, slot: str) -> str:
        return f"{slot}–{self.slot_end(slot)}"

    def opens_at(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day - dt.timedelta(days=self.open_days_before), dt.time(0, 0), dates.TZ)

    def closes_at(self, day: dt.date) -> dt.datetime:
        """The cut-off: no booking or cancelling by the visitor after it."""
        h, m = _minutes(self.cutoff_time) // 60, _minutes(self.cutoff_time) % 60
        return dt.datetime.combine(day - dt.timedelta(days=self.cutoff_days_before), dt.time(h, m), dates.TZ)

    def confirm_by(self, day: dt.date) -> dt.datetime:
        """Until when a place offered from the waiting list is held unconfirmed (the day before, 12:00)."""
        h, m = _minutes(self.confirm_time) // 60, _minutes(self.confirm_time) % 60
        return dt.datetime.combine(day - dt.timedelta(days=self.confirm_days_before), dt.time(h, m), dates.TZ)

    def day_bounds(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        start = _minutes(self.sessions[0][0])
        end = _minutes(self.sessions[-1][1])
        return (
            dt.datetime.combine(day, dt.time(start // 60, start % 60), dates.TZ),
            dt.datetime.combine(day, dt.time(end // 60, end % 60), dates.TZ),
        )

    def slot_bounds(self, day: dt.date, slot: str) -> tuple[dt.datetime, dt.datetime]:
        start, end = _minutes(slot), _minutes(slot) + self.slot_minutes
        return (
            dt.datetime.combine(day, dt.time(start // 60, start % 60), dates.TZ),
            dt.datetime.combine(day, dt.time(end // 60, end % 60), dates.TZ),
        )

    def describe(self) -> str:
        sessions = "、".join(f"{a}–{b}" for a, b in self.sessions)
        return (
            f"{sessions}，每 {self.slot_minutes} 分钟一个时段，每个时段接待 {self.visits_per_slot} 批，"
            f"每批最多 {self.max_group} 人；提前 {self.open_days_before} 天开放预约，"
            f"接待日前 {self.cutoff_days_before} 天 {self.cutoff_time} 截止；"
            f"候补递补须在接待日前 {self.confirm_days_before} 天 {self.confirm_time} 前确认"
            + (
                f"；{NO_SHOW_PERIODS[self.no_show_period]}内未到 {self.no_show_limit} 次，"
                f"{self.no_show_weeks} 周内不能预约"
                if self.no_show_limit
                else "；未到不限制预约"
            )
        )


def load_template(db: Database) -> DayTemplate:
    """The template as stored (one indexed read; parsed and validated once per stored value)."""
    return _parsed(get_setting(db, SETTING_KEY))


@lru_cache(maxsize=8)
def _parsed(raw: str | None) -> DayTemplate:
    # shared by every caller: never changed in place (``model_copy`` makes a changed one)
    return DayTemplate.model_validate_json(raw) if raw else DayTemplate()


def save_template(db: Database, template: DayTemplate | dict, actor_id: int | None = None) -> DayTemplate:
    """Validate and store the template (an invalid one leaves the old in place)."""
    try:
        tpl = template if isinstance(template, DayTemplate) else DayTemplate.model_validate(template)
        tpl = DayTemplate.model_validate(tpl.model_dump())
    except ValueError as exc:
        raise ValidationError(f"接待日设置无效：{_first_error(exc)}") from None
    for staff_no in tpl.rotation:
        if not db.execute(
            "SELECT 1 FROM cadre_posts cp JOIN people p ON p.id = cp.person_id WHERE p.staff_no = ? AND cp.level = '校级'",
            [staff_no],
        ).fetchone():
            raise ValidationError(f"轮值顺序中的工号“{staff_no[:20]}”不是校领导")
    if len(set(tpl.rotation)) != len(tpl.rotation):
        raise ValidationError("轮值顺序中有重复的工号")
    with write(db):
        set_setting(db, SETTING_KEY, tpl.model_dump_json())
        audit.record(db, actor_id, "reception.template", json.dumps(tpl.model_dump(), ensure_ascii=False))
    return tpl


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return str(first.get("msg", exc)).removeprefix("Value error, ")
    return str(exc)
