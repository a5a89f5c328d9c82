"""Courses and sign-ups: browsing what is open, booking seats, the waiting list.

Seats are never overbooked, whatever runs at the same moment (one process or several,
SQLite or PostgreSQL): a seat is taken only by one atomic
`UPDATE courses SET seats_taken = seats_taken + 1 WHERE id = ? AND seats_taken < seats`.
Whoever's update finds no seat left goes on the waiting list, in the order of arrival.
`seats_taken` is a stored count of the confirmed sign-ups: whenever a sign-up leaves
"confirmed" (cancelled by her, by staff, by erasure), it is counted again from the
sign-ups themselves (`recount`), so it never drifts from what it counts.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, event, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, contains_eager, joinedload, selectinload

from storage.models import Course, Signup, TrainingBase, utcnow

ACTIVE = ("confirmed", "waitlisted")
_POSITIONS = "haoxin.waiting_positions"  # Session.info key: positions counted this transaction
_COURSES = "haoxin.courses"  # Session.info key: courses read this transaction, by id


@event.listens_for(Session, "after_flush")
def _forget_positions(session: Session, _context: Any) -> None:
    """Waiting positions counted before a write may have changed: count them again."""
    session.info.pop(_POSITIONS, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_courses(session: Session, _transaction: Any) -> None:
    """Courses read in a transaction are not kept into the next one."""
    session.info.pop(_COURSES, None)


@event.listens_for(Session, "do_orm_execute")
def _forget_positions_on_write(state: ORMExecuteState) -> None:
    if not state.is_select:
        state.session.info.pop(_POSITIONS, None)


class AlreadyBooked(Exception):
    """She already holds a seat or a waiting-list place on this course."""

    def __init__(self, signup: Signup) -> None:
        super().__init__(signup.id)
        self.signup = signup


def open_on(today: dt.date):  # type: ignore[no-untyped-def]
    """The SQL condition: a course still taking sign-ups on `today`."""
    return and_(
        Course.status == "open",
        Course.starts_on > today,
        or_(Course.signup_closes_on.is_(None), Course.signup_closes_on >= today),
    )


def is_open(course: Course, today: dt.date) -> bool:
    closes = course.signup_closes_on
    return (
        course.status == "open" and course.starts_on > today and (closes is None or closes >= today)
    )


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


# The statements of the busiest paths, built once: building one is most of what a
# statement costs on a local SQLite file (bench/signup.py spent a third of a
# confirmation in SQLAlchemy's expression constructors)
_COURSE = select(Course).options(joinedload(Course.base)).where(Course.id == bindparam("course_id"))
_TAKE_SEAT = (
    update(Course)
    .where(Course.id == bindparam("course_id"), Course.seats_taken < Course.seats)
    .values(seats_taken=Course.seats_taken + 1)
    .execution_options(synchronize_session=False)
)
_MINE = select(Signup).where(
    Signup.course_id == bindparam("course_id"), Signup.user_id == bindparam("user_id")
)
_AHEAD = select(func.count()).where(
    Signup.course_id == bindparam("course_id"),
    Signup.status == "waitlisted",
    # typed, so that the time is bound as stored (`...:05.000000`, not `...:05`): an
    # untyped time was compared as text in another form and two sign-ups of one whole
    # second could both be first
    tuple_(Signup.queued_at, Signup.id)
    < tuple_(
        bindparam("queued_at", type_=Signup.__table__.c.queued_at.type),
        bindparam("id", type_=Signup.__table__.c.id.type),
    ),
)
_OF_USER = (
    select(Signup)
    .join(Signup.course)
    .options(contains_eager(Signup.course).joinedload(Course.base))
    .where(
        Signup.user_id == bindparam("user_id"),
        Signup.status.in_(bindparam("statuses", expanding=True)),
    )
    .order_by(Course.starts_on, Signup.id)
)


_OPEN = open_on(bindparam("today"))
_OPEN_TRACKS = (
    select(Course.track, func.count())
    .where(_OPEN)
    .group_by(Course.track)
    .order_by(func.count().desc(), Course.track)
)
_OPEN_COUNTIES = (
    select(TrainingBase.county, func.count())
    .join(Course.base)
    .where(_OPEN)
    .group_by(TrainingBase.county)
    .order_by(TrainingBase.county)
)


@cache
def _signup_upsert(dialect: str, answers: tuple[str, ...]) -> Any:
    """Her sign-up for a course, written in one statement returning it: inserted, or a
    cancelled one of hers revived (`ON CONFLICT (course_id, user_id) DO UPDATE ...
    WHERE status = 'cancelled'`); nothing comes back when she already holds a seat or
    a waiting-list place. SQLite >= 3.35 and PostgreSQL."""
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    changed = {name: bindparam(name) for name in ("status", "queued_at", *answers)}
    return (
        insert(Signup)
        .values(course_id=bindparam("course_id"), user_id=bindparam("user_id"), **changed)
        .on_conflict_do_update(
            index_elements=[Signup.course_id, Signup.user_id],
            set_=changed,
            where=Signup.status == "cancelled",
        )
        .returning(Signup)
    )


@cache
def _open_page(by_track: bool, by_county: bool) -> tuple[Any, Any]:
    """The count and the page of open courses, by kind of work and/or county (each one
    or more of the names data files write it with: `月嫂`, `月嫂/母婴护理`)."""
    where = [_OPEN]
    if by_track:
        where.append(Course.track.in_(bindparam("track", expanding=True)))
    if by_county:
        where.append(TrainingBase.county.in_(bindparam("county", expanding=True)))
    count = select(func.count(Course.id)).join(Course.base).where(*where)
    page = (
        select(Course)
        .join(Course.base)
        .where(*where)
        .options(joinedload(Course.base))
        .order_by(Course.starts_on, Course.id)
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
    )
    return count, page


class CourseRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, course_id: int) -> Course | None:
        """The course with its training base, read once per transaction: a batch of
        people confirming one course reads it once (`Session.info` keeps it; the
        identity map alone holds it only while someone refers to it). Its `seats_taken`
        may lag this transaction's seat updates, which is why seats are counted by
        `seats_left`, never read from the object."""
        kept = self.session.info.setdefault(_COURSES, {})
        if course_id not in kept:
            kept[course_id] = await self.session.scalar(_COURSE, {"course_id": course_id})
        return kept[course_id]

    async def by_ids(self, ids: Sequence[int]) -> list[Course]:
        """These courses, in the order given (missing ones left out), in one query."""
        rows = await self.session.scalars(
            select(Course).options(joinedload(Course.base)).where(Course.id.in_(list(ids)))
        )
        found = {c.id: c for c in rows}
        return [found[i] for i in ids if i in found]

    async def open_page(
        self,
        today: dt.date,
        *,
        track: str | Sequence[str] | None = None,
        county: str | Sequence[str] | None = None,
        offset: int = 0,
        limit: int = 5,
    ) -> tuple[list[Course], int]:
        """One page of the courses open for sign-up, soonest first, and how many in all.
        `track` and `county` are a name or several (the spellings of one term)."""
        tracks = [track] if isinstance(track, str) else list(track or [])
        counties = [county] if isinstance(county, str) else list(county or [])
        count, page = _open_page(bool(tracks), bool(counties))
        params = {"today": today, "track": tracks, "county": counties}
        total = await self.session.scalar(count, params)
        rows = await self.session.scalars(page, {**params, "offset": offset, "limit": limit})
        return list(rows), total or 0

    async def open_tracks(self, today: dt.date) -> list[tuple[str, int]]:
        rows = await self.session.execute(_OPEN_TRACKS, {"today": today})
        return [(track, n) for track, n in rows]

    async def open_counties(self, today: dt.date) -> list[tuple[str, int]]:
        rows = await self.session.execute(_OPEN_COUNTIES, {"today": today})
        return [(county, n) for county, n in rows]

    async def nearest(
        self, today: dt.date, lat: float, lon: float, limit: int = 5
    ) -> list[tuple[Course, float]]:
        """Open courses nearest a place, with their distance in km."""
        rows = await self.session.scalars(
            select(Course)
            .join(Course.base)
            .options(joinedload(Course.base))
            .where(open_on(today), TrainingBase.latitude.is_not(None))
        )
        ranked = [
            (c, distance_km(lat, lon, c.base.latitude, c.base.longitude))  # type: ignore[arg-type]
            for c in rows
        ]
        return sorted(ranked, key=lambda pair: (pair[1], pair[0].starts_on))[:limit]

    async def place_named(self, text: str) -> tuple[float, float] | None:
        """The map position (latitude, longitude) of a training base whose address or
        name holds `text` (a township or street she typed: 水东镇), or None."""
        words = f"%{text.replace('%', '').replace('_', '')}%"
        row = (
            await self.session.execute(
                select(TrainingBase.latitude, TrainingBase.longitude)
                .where(
                    or_(TrainingBase.address.like(words), TrainingBase.name.like(words)),
                    TrainingBase.latitude.is_not(None),
                )
                .order_by(TrainingBase.id)
                .limit(1)
            )
        ).first()
        return (row[0], row[1]) if row else None

    async def seats_left(self, course_id: int) -> int:
        row = (
            await self.session.execute(
                select(Course.seats, Course.seats_taken).where(Course.id == course_id)
            )
        ).one()
        return max(0, row.seats - row.seats_taken)


class SignupRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _take_seat(self, course_id: int) -> bool:
        result = await self.session.execute(_TAKE_SEAT, {"course_id": course_id})
        return result.rowcount == 1

    async def recount(self, course_id: int) -> None:
        """Set the course's `seats_taken` to its confirmed sign-ups, counted (changes
        not yet written are written first)."""
        await self.session.flush()
        confirmed = (
            select(func.count())
            .where(Signup.course_id == course_id, Signup.status == "confirmed")
            .scalar_subquery()
        )
        await self.session.execute(
            update(Course)
            .where(Course.id == course_id)
            .values(seats_taken=confirmed)
            .execution_options(synchronize_session=False)
        )

    async def mine(self, course_id: int, user_id: int) -> Signup | None:
        return await self.session.scalar(_MINE, {"course_id": course_id, "user_id": user_id})

    async def book(self, course_id: int, user_id: int, **answers: object) -> Signup:
        """A seat if one is left, else a place on the waiting list, in two statements:
        the seat is taken first (`_TAKE_SEAT`), then her sign-up is written in one
        upsert that also revives a sign-up she cancelled before (`_signup_upsert`).

        Raises AlreadyBooked when she already holds a seat or a waiting-list place:
        the upsert changes nothing then, and a seat taken for her is given back
        (`recount`); all within the transaction, so no one else ever sees it."""
        seated = await self._take_seat(course_id)
        dialect = self.session.bind.dialect.name if self.session.bind else "sqlite"
        signup = await self.session.scalar(
            _signup_upsert(dialect, tuple(sorted(answers))),
            {
                "course_id": course_id,
                "user_id": user_id,
                "status": "confirmed" if seated else "waitlisted",
                "queued_at": utcnow(),
                **answers,
            },
            execution_options={"populate_existing": True},
        )
        if signup is None:
            if seated:
                await self.recount(course_id)
            mine = await self.mine(course_id, user_id)
            assert mine is not None  # the upsert found her active sign-up
            raise AlreadyBooked(mine)
        return signup

    async def position(self, signup: Signup) -> int:
        """Her place on the waiting list: 1 is next. Asked again within a transaction
        (the confirmation's text, then My sign-ups) it is counted once, until something
        is written (`_forget_positions`)."""
        memo = self.session.info.setdefault(_POSITIONS, {})
        if signup.id in memo:
            return memo[signup.id]
        ahead = await self.session.scalar(
            _AHEAD,
            {"course_id": signup.course_id, "queued_at": signup.queued_at, "id": signup.id},
        )
        memo[signup.id] = (ahead or 0) + 1
        return memo[signup.id]

    async def cancel(self, signup: Signup) -> Signup | None:
        """Cancel; a freed seat goes to the first on the waiting list, who is returned."""
        was_seated = signup.status == "confirmed"
        signup.status = "cancelled"
        await self.session.flush()
        if not was_seated:
            return None
        await self.recount(signup.course_id)
        return await self.promote_next(signup.course_id)

    async def promote_next(self, course_id: int) -> Signup | None:
        first = await self.session.scalar(
            select(Signup)
            .where(Signup.course_id == course_id, Signup.status == "waitlisted")
            .order_by(Signup.queued_at, Signup.id)
            .limit(1)
            .with_for_update()
        )
        if first is None or not await self._take_seat(course_id):
            return None
        first.status = "confirmed"
        await self.session.flush()
        return first

    async def of_user(self, user_id: int, statuses: Sequence[str] = ACTIVE) -> list[Signup]:
        rows = await self.session.scalars(
            _OF_USER, {"user_id": user_id, "statuses": list(statuses)}
        )
        return list(rows)

    async def get(self, signup_id: int, user_id: int) -> Signup | None:
        """Her own sign-up by id (never someone else's)."""
        return await self.session.scalar(
            select(Signup)
            .options(selectinload(Signup.course).joinedload(Course.base))
            .where(Signup.id == signup_id, Signup.user_id == user_id)
        )

    async def of_course(self, course_id: int) -> list[Signup]:
        rows = await self.session.scalars(
            select(Signup)
            .where(Signup.course_id == course_id, Signup.status.in_(ACTIVE))
            .order_by(Signup.queued_at, Signup.id)
        )
        return list(rows)
