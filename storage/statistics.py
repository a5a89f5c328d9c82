"""The programme's numbers (issue 12): what the office reports upward, for this week
(Monday to today), this month (the 1st to today) and all time (to today), in the
programme's local dates.

    programme_numbers ─▶ Numbers: week, month, all_time ─▶ Period, each:
        sign-ups per course and per kind of work: confirmed, waiting, cancelled (by when
            she signed up), attended (by when staff last marked her), completed (by the
            day she completed); `base_id` keeps only that training base's courses
        fair registrations (still registered, by when she registered)
        worker profiles by vetting state (started in the period, in their state now)
        household requests (not drafts), interviews (asked), by when they were made
        hires (confirmed, by when) and the same as placements by destination:
            Maoming, each Greater Bay Area city, elsewhere
    weekly_series ─▶ [(Monday, sign-ups, placements)], the last `weeks` weeks

Every count is one GROUP BY query whose periods are conditional sums
(`SUM(CASE WHEN at >= :week_start ...)`): the local days' bounds are worked out here
as naive UTC times (how the database keeps them), so nothing dialect-specific runs in
SQL and a day is the programme's day, not UTC's. Plain SQL, the same on SQLite and
PostgreSQL; no table is read row by row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.hiring import destination_group
from storage.models import (
    Course,
    FairRegistration,
    HelpRequest,
    Hire,
    Interview,
    Signup,
    Training,
    WorkerProfile,
)
from storage.vocab import CITIES, GREATER_BAY_AREA, KINDS_OF_WORK

TIMEZONE = "Asia/Shanghai"
#: the periods, in the order screens and spreadsheets show them
PERIODS = ("week", "month", "all")
#: a worker profile's vetting states, in the order they happen
WORKER_STATES = ("draft", "submitted", "changes", "verified", "rejected", "suspended")
#: where placements go: Maoming, each Greater Bay Area city (`CITIES` order), elsewhere
DESTINATIONS = (
    "maoming",
    *[t.id for t in CITIES if t.id in GREATER_BAY_AREA],
    *sorted(GREATER_BAY_AREA - {t.id for t in CITIES}),
    "elsewhere",
)
#: a sign-up's status → its field in `Counts`
_SIGNUP_FIELDS = {"confirmed": "confirmed", "waitlisted": "waiting", "cancelled": "cancelled"}
_CHUNK = 500  # ids in one IN (...)


@dataclass
class Counts:
    """Places on courses: sign-ups made (`confirmed`, `waiting` on the list, since
    `cancelled`), and `attended`, `completed` as staff marked them."""

    confirmed: int = 0
    waiting: int = 0
    cancelled: int = 0
    attended: int = 0
    completed: int = 0

    @property
    def signups(self) -> int:
        """Every sign-up made, whatever became of it."""
        return self.confirmed + self.waiting + self.cancelled

    def add(self, other: Counts) -> None:
        for name in ("confirmed", "waiting", "cancelled", "attended", "completed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def __bool__(self) -> bool:
        return bool(self.signups or self.attended or self.completed)


@dataclass
class CourseCounts:
    """One course's counts in a period. `track`: its kind of work (`KINDS_OF_WORK` id,
    or the data's name when the vocabulary does not know it)."""

    course_id: int
    code: str
    title: str
    title_en: str
    track: str
    base_id: int
    starts_on: dt.date
    counts: Counts


@dataclass
class Period:
    """The numbers of one period: `first_day` to `last_day` (local dates; `first_day`
    None for all time)."""

    name: str
    first_day: dt.date | None
    last_day: dt.date
    total: Counts = field(default_factory=Counts)
    #: kind of work → counts, in `KINDS_OF_WORK` order (then unknown names); only kinds
    #: with something in the period
    tracks: dict[str, Counts] = field(default_factory=dict)
    #: courses with something in the period, the latest start first
    courses: list[CourseCounts] = field(default_factory=list)
    fair_registrations: int = 0
    #: every `WORKER_STATES` state (0 when none), then any other found
    workers: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    interviews: int = 0
    hires: int = 0
    #: every `DESTINATIONS` entry (0 when none)
    placements: dict[str, int] = field(default_factory=dict)


@dataclass
class Numbers:
    """The programme's numbers as of `today`; `base_id`: the training base the course
    numbers are kept to (None: every base)."""

    today: dt.date
    base_id: int | None
    week: Period
    month: Period
    all_time: Period

    @property
    def periods(self) -> tuple[Period, Period, Period]:
        return (self.week, self.month, self.all_time)


# --- days and their bounds -------------------------------------------------------------
def week_start(day: dt.date) -> dt.date:
    """The Monday of `day`'s week."""
    return day - dt.timedelta(days=day.weekday())


def utc_start(day: dt.date, timezone: str = TIMEZONE) -> dt.datetime:
    """The local midnight that starts `day`, as naive UTC (how the database keeps times)."""
    local = dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(timezone))
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def track_key(track: str) -> str:
    """A course's track as its kind of work's id (`月嫂/母婴护理` → `maternity`), or as
    written when the vocabulary does not know it."""
    term = KINDS_OF_WORK.of_name(track)
    return term.id if term is not None else track


def destination(city: str) -> str:
    """Where a placement counts: `maoming`, its Greater Bay Area city, or `elsewhere`."""
    group = destination_group(city)
    return city if group == "gba" else group


@dataclass(frozen=True)
class _Bounds:
    week: Any  # a datetime, or a date for date columns
    month: Any
    end: Any


def _sums(column: Any, bounds: _Bounds, *extra: Any) -> list[Any]:
    """This week's, this month's and all time's counts of rows (meeting `extra` too)."""

    def since(start: Any) -> Any:
        return func.sum(case((and_(column >= start, *extra), 1), else_=0))

    every = func.sum(case((and_(*extra), 1), else_=0)) if extra else func.count()
    return [since(bounds.week), since(bounds.month), every]


def _triple(row: Any, offset: int) -> tuple[int, int, int]:
    return tuple(int(row[offset + i] or 0) for i in range(3))  # type: ignore[return-value]


# --- the numbers -------------------------------------------------------------------------
async def programme_numbers(
    session: AsyncSession,
    *,
    today: dt.date,
    base_id: int | None = None,
    timezone: str = TIMEZONE,
) -> Numbers:
    """The programme's numbers for this week, this month and all time, up to the end of
    `today` (a local date in `timezone`). `base_id` keeps the course numbers (sign-ups,
    attendance, completion) to that training base's courses; the others are the
    programme's. Read-only: a dozen GROUP BY queries."""
    first_week, first_month = week_start(today), today.replace(day=1)
    after = today + dt.timedelta(days=1)
    at = _Bounds(*(utc_start(day, timezone) for day in (first_week, first_month, after)))
    on = _Bounds(first_week, first_month, today)
    periods = [
        Period("week", first_week, today),
        Period("month", first_month, today),
        Period("all", None, today),
    ]
    await _course_numbers(session, periods, at, on, base_id)
    counts = [
        await _count(
            session, FairRegistration.created_at, at, FairRegistration.status == "registered"
        ),
        await _count(session, HelpRequest.created_at, at, HelpRequest.status != "draft"),
        await _count(session, Interview.created_at, at),
    ]
    for i, period in enumerate(periods):
        period.fair_registrations, period.requests, period.interviews = (c[i] for c in counts)
        period.workers = dict.fromkeys(WORKER_STATES, 0)
        period.placements = dict.fromkeys(DESTINATIONS, 0)
    workers = await session.execute(
        select(WorkerProfile.status, *_sums(WorkerProfile.created_at, at))
        .where(WorkerProfile.created_at < at.end)
        .group_by(WorkerProfile.status)
    )
    for row in workers:
        for period, n in zip(periods, _triple(row, 1), strict=True):
            period.workers[row[0]] = period.workers.get(row[0], 0) + n
    confirmed = Hire.confirmed_at
    hires = await session.execute(
        select(Hire.city, *_sums(confirmed, at))
        .where(confirmed.is_not(None), confirmed < at.end)
        .group_by(Hire.city)
    )
    for row in hires:
        for period, n in zip(periods, _triple(row, 1), strict=True):
            period.placements[destination(row[0] or "")] += n
            period.hires += n
    return Numbers(today, base_id, *periods)


async def _count(session: AsyncSession, column: Any, at: _Bounds, *where: Any) -> list[int]:
    row = (await session.execute(select(*_sums(column, at)).where(column < at.end, *where))).one()
    return list(_triple(row, 0))


async def _course_numbers(
    session: AsyncSession, periods: list[Period], at: _Bounds, on: _Bounds, base_id: int | None
) -> None:
    """Sign-ups, attendance and completion per course into `periods`, and their sums per
    kind of work and in all."""
    per_course: list[dict[int, Counts]] = [{} for _ in periods]
    kept = [Course.base_id == base_id] if base_id is not None else []

    signups = await session.execute(
        select(Signup.course_id, Signup.status, *_sums(Signup.created_at, at))
        .join(Course, Course.id == Signup.course_id)
        .where(Signup.created_at < at.end, *kept)
        .group_by(Signup.course_id, Signup.status)
    )
    for row in signups:
        name = _SIGNUP_FIELDS.get(row[1])
        if name is None:
            continue
        for mine, n in zip(per_course, _triple(row, 2), strict=True):
            counts = mine.setdefault(row[0], Counts())
            setattr(counts, name, getattr(counts, name) + n)

    attended = Training.attended.is_(True)
    done = Training.completed_on
    marks = await session.execute(
        select(
            Training.course_id,
            *_sums(Training.marked_at, at, attended, Training.marked_at < at.end),
            *_sums(done, on, done.is_not(None), done <= on.end),
        )
        .join(Course, Course.id == Training.course_id)
        .where(or_(attended, done.is_not(None)), *kept)
        .group_by(Training.course_id)
    )
    for row in marks:
        trio = zip(per_course, _triple(row, 1), _triple(row, 4), strict=True)
        for mine, present, completed in trio:
            if present or completed:
                counts = mine.setdefault(row[0], Counts())
                counts.attended += present
                counts.completed += completed

    courses = await _courses(session, {i for mine in per_course for i in mine})
    order = {t.id: n for n, t in enumerate(KINDS_OF_WORK)}
    for period, mine in zip(periods, per_course, strict=True):
        lines = []
        for course_id, counts in mine.items():
            if not counts or course_id not in courses:
                continue
            course = courses[course_id]
            lines.append(CourseCounts(course_id, *course, counts=counts))
            period.total.add(counts)
            period.tracks.setdefault(course[3], Counts()).add(counts)
        period.courses = sorted(lines, key=lambda c: (c.starts_on, c.course_id), reverse=True)
        period.tracks = dict(
            sorted(period.tracks.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
        )


async def _courses(
    session: AsyncSession, ids: set[int]
) -> dict[int, tuple[str, str, str, str, int, dt.date]]:
    """Courses by id: (code, title, title_en, track key, base id, starts on)."""
    found: dict[int, tuple[str, str, str, str, int, dt.date]] = {}
    wanted = sorted(ids)
    for start in range(0, len(wanted), _CHUNK):
        rows = await session.execute(
            select(
                Course.id,
                Course.code,
                Course.title,
                Course.title_en,
                Course.track,
                Course.base_id,
                Course.starts_on,
            ).where(Course.id.in_(wanted[start : start + _CHUNK]))
        )
        for cid, code, title, title_en, track, base, starts in rows:
            found[cid] = (code, title, title_en or "", track_key(track), base, starts)
    return found


# --- week by week --------------------------------------------------------------------------
async def weekly_series(
    session: AsyncSession,
    *,
    today: dt.date,
    weeks: int = 12,
    base_id: int | None = None,
    timezone: str = TIMEZONE,
) -> list[tuple[dt.date, int, int]]:
    """Sign-ups made and placements confirmed per week (Monday to Sunday, local dates)
    over the last `weeks` weeks, the oldest first, this week (to the end of `today`)
    last: [(Monday, sign-ups, placements)]. `base_id` keeps the sign-ups to that
    training base's courses (placements are the programme's). Raises ValueError when
    `weeks` is not 1 to 520."""
    if not 1 <= weeks <= 520:
        raise ValueError("weeks: 1 to 520")
    last = week_start(today)
    mondays = [last - dt.timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    starts = [utc_start(day, timezone) for day in mondays]
    end = utc_start(today + dt.timedelta(days=1), timezone)
    kept = [Course.base_id == base_id] if base_id is not None else []
    signups = await _per_week(
        session,
        Signup.created_at,
        starts,
        end,
        *kept,
        join=(Course, Course.id == Signup.course_id) if kept else None,
    )
    placed = await _per_week(session, Hire.confirmed_at, starts, end)
    return [(day, signups[i], placed[i]) for i, day in enumerate(mondays)]


async def _per_week(
    session: AsyncSession,
    column: Any,
    starts: list[dt.datetime],
    end: dt.datetime,
    *where: Any,
    join: tuple[Any, Any] | None = None,
) -> list[int]:
    """How many rows have `column` in each week beginning at `starts` (the last week
    ends at `end`). The week is a CASE in a subquery, grouped outside it: PostgreSQL
    cannot tell that a CASE with bound values in GROUP BY is the one in SELECT."""
    week = case(
        *[(column >= start, i) for i, start in reversed(list(enumerate(starts)))],
        else_=-1,
    ).label("week")
    inner = select(week).where(column >= starts[0], column < end, *where)
    if join is not None:
        inner = inner.join(*join)
    sub = inner.subquery()
    rows = await session.execute(select(sub.c.week, func.count()).group_by(sub.c.week))
    counts = [0] * len(starts)
    for index, n in rows:
        if 0 <= index < len(starts):
            counts[index] = int(n)
    return counts
