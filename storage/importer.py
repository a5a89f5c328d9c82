"""Import programme data from a readable file (YAML or JSON): bases, courses, fairs...

The demo data (`storage/demo.yaml`) and admins' data files go through the same importer.
Rows are matched by their `code`: importing again updates them instead of duplicating.
Dates may be ISO (`2026-12-03`, `2026-12-03T09:30`) or relative to today (`today+14`,
`today+14 09:30`), which keeps demo data in the future.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Course, DemoHousehold, DemoWorker, JobFair, TrainingBase

DEMO_FILE = Path(__file__).parent / "demo.yaml"
_RELATIVE = re.compile(r"^today\s*([+-]\s*\d+)?(?:\s+(\d{1,2}):(\d{2}))?$")


def _when(value: Any, today: dt.date) -> Any:
    if isinstance(value, str):
        m = _RELATIVE.match(value.strip())
        if m:
            day = today + dt.timedelta(days=int((m.group(1) or "0").replace(" ", "")))
            if m.group(2):
                return dt.datetime.combine(day, dt.time(int(m.group(2)), int(m.group(3))))
            return day
    return value


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str = Field(min_length=1, max_length=40)


class BaseRow(_Row):
    name: str
    address: str = ""
    county: str = ""
    latitude: float | None = None
    longitude: float | None = None
    phone: str = ""


class CourseRow(_Row):
    title: str
    track: str
    brand: str = ""
    base: str
    starts_on: dt.date
    ends_on: dt.date
    daily_hours: str = ""
    seats: int = Field(ge=0)
    fee_yuan: float = Field(default=0, ge=0)
    free_for: list[str] = []
    certificate: str = ""
    teaching_language: str = ""
    lodging: bool = False
    childcare: bool = False
    signup_closes_on: dt.date | None = None
    room: str = ""
    status: str = Field(default="open", pattern="^(open|cancelled)$")


class FairRow(_Row):
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None = None
    venue: str = ""
    address: str = ""
    county: str = ""
    latitude: float | None = None
    longitude: float | None = None
    organiser: str = ""
    registration_required: bool = False
    employers: list[dict[str, Any]] = []
    status: str = Field(default="open", pattern="^(open|cancelled)$")


class WorkerRow(_Row):
    name: str
    categories: list[str] = []
    county: str = ""
    birth_year: int | None = None
    years_experience: int = 0
    dialects: list[str] = []
    certificates: list[str] = []
    about: str = ""


class HouseholdRow(_Row):
    name: str
    city: str = ""
    need: dict[str, Any] = {}


class DataFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    training_bases: list[BaseRow] = []
    courses: list[CourseRow] = []
    job_fairs: list[FairRow] = []
    workers: list[WorkerRow] = []
    households: list[HouseholdRow] = []

    @field_validator("courses", "job_fairs", mode="before")
    @classmethod
    def _relative_dates(cls, rows: Any) -> Any:
        today = dt.date.today()
        if isinstance(rows, list):
            return [
                {k: _when(v, today) for k, v in r.items()} if isinstance(r, dict) else r
                for r in rows
            ]
        return rows


def read_file(path: Path) -> DataFile:
    """Parse and check a data file; raises pydantic's ValidationError naming the bad row."""
    text = path.read_text(encoding="utf-8")
    raw = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    return DataFile.model_validate(raw or {})


# what a person holding a place must hear about when it changes
WATCHED = {
    "courses": {"starts_on", "ends_on", "daily_hours", "room", "status", "base_id"},
    "job_fairs": {"starts_at", "ends_at", "venue", "address", "status"},
}


async def _upsert(
    session: AsyncSession,
    model: type,
    rows: list[dict[str, Any]],
    changes: list[tuple[str, int, set[str]]] | None = None,
) -> int:
    """Insert new rows, update existing ones (by code); note watched fields that changed."""
    if not rows:
        return 0
    watched = WATCHED.get(model.__tablename__, set())
    existing = {
        obj.code: obj
        for obj in await session.scalars(
            select(model).where(model.code.in_([r["code"] for r in rows]))
        )
    }
    for row in rows:
        obj = existing.get(row["code"])
        if obj is None:
            session.add(model(**row))
        else:
            changed = {n for n, v in row.items() if n in watched and getattr(obj, n) != v}
            for name, value in row.items():
                setattr(obj, name, value)
            if changed and changes is not None:
                changes.append((model.__tablename__, obj.id, changed))
    await session.flush()
    return len(rows)


async def import_data(
    session: AsyncSession,
    data: DataFile,
    changes: list[tuple[str, int, set[str]]] | None = None,
) -> dict[str, int]:
    """Insert or update every row of `data`; returns how many of each kind. `changes`
    collects (table, id, fields) for courses and fairs whose date, place or status moved."""
    counts = {"training_bases": await _upsert(session, TrainingBase, _dump(data.training_bases))}
    base_ids = {
        code: id_ for code, id_ in await session.execute(select(TrainingBase.code, TrainingBase.id))
    }
    courses = []
    for row in data.courses:
        values = row.model_dump()
        base = values.pop("base")
        if base not in base_ids:
            raise ValueError(f"course {row.code}: unknown training base {base!r}")
        values["base_id"] = base_ids[base]
        values["fee_fen"] = round(values.pop("fee_yuan") * 100)
        courses.append(values)
    counts["courses"] = await _upsert(session, Course, courses, changes)
    counts["job_fairs"] = await _upsert(session, JobFair, _dump(data.job_fairs), changes)
    counts["workers"] = await _upsert(session, DemoWorker, _dump(data.workers))
    counts["households"] = await _upsert(session, DemoHousehold, _dump(data.households))
    return counts


def _dump(rows: list[BaseModel]) -> list[dict[str, Any]]:
    return [r.model_dump() for r in rows]
