"""A small catalogue for course and fair tests, imported the way admins import data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update

from bot.app import App
from storage.importer import DataFile, import_data
from storage.models import Course


def course(
    code: str, title: str, track: str, seats: int = 20, starts: int = 10, **extra: Any
) -> dict[str, Any]:
    today = dt.date.today()
    return {
        "code": code,
        "title": title,
        "track": track,
        "brand": extra.pop("brand", "好心月嫂"),
        "base": extra.pop("base", "mm"),
        "starts_on": today + dt.timedelta(days=starts),
        "ends_on": today + dt.timedelta(days=starts + 10),
        "daily_hours": "09:00-17:00",
        "seats": seats,
        "fee_yuan": extra.pop("fee_yuan", 0),
        "free_for": ["rural_women"],
        "certificate": "母婴护理员证书",
        "teaching_language": "普通话",
        **extra,
    }


BASES = [
    {
        "code": "mm",
        "name": "茂名好心家政培训学校",
        "address": "油城五路 88 号",
        "county": "茂南",
        "latitude": 21.6629,
        "longitude": 110.9253,
        "phone": "0668-2880001",
    },
    {
        "code": "xy",
        "name": "信宜乡村家政培训站",
        "address": "城南路 45 号",
        "county": "信宜",
        "latitude": 22.3544,
        "longitude": 110.9466,
    },
]


async def load(app: App, courses: list[dict[str, Any]], fairs: list[dict] | None = None) -> dict:
    data = DataFile.model_validate(
        {"training_bases": BASES, "courses": courses, "job_fairs": fairs or []}
    )
    async with app.db.sessions() as s, s.begin():
        await import_data(s, data)
        rows = await s.execute(select(Course.code, Course.id))
        return {code: ident for code, ident in rows}


async def set_course(app: App, course_id: int, **values: Any) -> None:
    async with app.db.sessions() as s, s.begin():
        await s.execute(update(Course).where(Course.id == course_id).values(**values))
