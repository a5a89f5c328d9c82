"""Queries for the staff's attendance screens that `storage.workers` has not: the
courses to mark (running and just ended first) and a course's people with their marks.
Marks themselves are written by `WorkerRepo.mark_training` (audited)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage.models import Course, Profile, Signup, Training


@dataclass(frozen=True)
class Attendee:
    """One person on a course: a confirmed seat, or marked before (`Training`)."""

    user_id: int
    name: str
    attended: bool
    completed_on: dt.date | None


class AttendanceQueries:
    """Read-only queries for marking attendance and completion."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def courses(
        self, today: dt.date, offset: int, limit: int, *, base_id: int | None = None
    ) -> tuple[list[Course], dict[int, int], int]:
        """Courses not cancelled (of one training base, with `base_id`): those running on
        `today` first (latest start first), then those ended (most recent first), then
        those to come (soonest first). Returns the page, the confirmed seats of each
        course on it, and how many in all."""
        running = and_(Course.starts_on <= today, Course.ends_on >= today)
        ended = Course.ends_on < today
        rank = case((running, 0), (ended, 1), else_=2)
        live = Course.status != "cancelled"
        if base_id is not None:
            live = and_(live, Course.base_id == base_id)
        rows = await self.session.scalars(
            select(Course)
            .options(joinedload(Course.base))
            .where(live)
            .order_by(
                rank,
                case((running, Course.starts_on)).desc(),
                case((ended, Course.ends_on)).desc(),
                case((~running & ~ended, Course.starts_on)).asc(),
                Course.id,
            )
            .offset(offset)
            .limit(limit)
        )
        page = list(rows)
        total = await self.session.scalar(select(func.count(Course.id)).where(live)) or 0
        seats: dict[int, int] = {}
        if page:
            counted = await self.session.execute(
                select(Signup.course_id, func.count(Signup.id))
                .where(Signup.course_id.in_([c.id for c in page]), Signup.status == "confirmed")
                .group_by(Signup.course_id)
            )
            seats = {course_id: n for course_id, n in counted}
        return page, seats, total

    async def roster(self, course_id: int) -> list[Attendee]:
        """The course's confirmed seats (as they signed up), then anyone else marked on
        it before (a seat given up since, an import), each with her marks."""
        rows = await self.session.execute(
            select(Signup.user_id, Signup.name, Training.attended, Training.completed_on)
            .outerjoin(
                Training,
                and_(Training.user_id == Signup.user_id, Training.course_id == course_id),
            )
            .where(Signup.course_id == course_id, Signup.status == "confirmed")
            .order_by(Signup.queued_at, Signup.id)
        )
        people = [
            Attendee(user_id, name, bool(attended), completed_on)
            for user_id, name, attended, completed_on in rows
        ]
        seated = {p.user_id for p in people}
        marked = await self.session.execute(
            select(Training.user_id, Profile.name, Training.attended, Training.completed_on)
            .outerjoin(Profile, Profile.user_id == Training.user_id)
            .where(Training.course_id == course_id)
            .order_by(Training.id)
        )
        people += [
            Attendee(user_id, name or f"#{user_id}", bool(attended), completed_on)
            for user_id, name, attended, completed_on in marked
            if user_id not in seated
        ]
        return people
