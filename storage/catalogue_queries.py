"""What staff's screens of the catalogue read (`storage.catalogue` writes): courses and
fairs as they are now (never a copy kept from earlier in the transaction), the pages of
the staff's lists, the people holding a place, venues to choose from, free codes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage.courses import ACTIVE
from storage.models import Course, FairRegistration, JobFair, Signup


class CatalogueQueries:
    """Read-only queries of the staff's catalogue screens."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def course(self, course_id: int) -> Course | None:
        """The course with its base, read again from the database (never a stale copy)."""
        return await self.session.scalar(
            select(Course)
            .options(joinedload(Course.base))
            .where(Course.id == course_id)
            .execution_options(populate_existing=True)
        )

    async def fair(self, fair_id: int) -> JobFair | None:
        """The fair, read again from the database."""
        return await self.session.scalar(
            select(JobFair).where(JobFair.id == fair_id).execution_options(populate_existing=True)
        )

    async def courses_page(
        self, today: dt.date, offset: int, limit: int, *, base_id: int | None = None
    ) -> tuple[list[Course], dict[int, int], int]:
        """Courses (of one base, with `base_id`), those not ended first (soonest start
        first), then those ended (latest first), then the cancelled ones. Returns the
        page, the people holding a place on each (a seat or the waiting list) and the
        total."""
        where = [Course.base_id == base_id] if base_id is not None else []
        ended = Course.ends_on < today
        rows = await self.session.scalars(
            select(Course)
            .options(joinedload(Course.base))
            .where(*where)
            .order_by(
                case((Course.status == "cancelled", 2), (ended, 1), else_=0),
                case((~ended, Course.starts_on)).asc(),
                case((ended, Course.ends_on)).desc(),
                Course.id,
            )
            .offset(offset)
            .limit(limit)
        )
        page = list(rows)
        total = await self.session.scalar(select(func.count(Course.id)).where(*where)) or 0
        held: dict[int, int] = {}
        if page:
            counted = await self.session.execute(
                select(Signup.course_id, func.count(Signup.id))
                .where(Signup.course_id.in_([c.id for c in page]), Signup.status.in_(ACTIVE))
                .group_by(Signup.course_id)
            )
            held = {ident: n for ident, n in counted}
        return page, held, total

    async def fairs_page(
        self, since: dt.datetime, offset: int, limit: int
    ) -> tuple[list[JobFair], dict[int, int], int]:
        """Fairs from `since` on (naive local time) first, soonest first, then earlier
        ones, latest first, then the cancelled ones. Returns the page, how many are
        registered for each, and the total."""
        past = JobFair.starts_at < since
        rows = await self.session.scalars(
            select(JobFair)
            .order_by(
                case((JobFair.status == "cancelled", 2), (past, 1), else_=0),
                case((~past, JobFair.starts_at)).asc(),
                case((past, JobFair.starts_at)).desc(),
                JobFair.id,
            )
            .offset(offset)
            .limit(limit)
        )
        page = list(rows)
        total = await self.session.scalar(select(func.count(JobFair.id))) or 0
        held: dict[int, int] = {}
        if page:
            counted = await self.session.execute(
                select(FairRegistration.fair_id, func.count(FairRegistration.id))
                .where(
                    FairRegistration.fair_id.in_([f.id for f in page]),
                    FairRegistration.status == "registered",
                )
                .group_by(FairRegistration.fair_id)
            )
            held = {ident: n for ident, n in counted}
        return page, held, total

    async def holders(self, course_id: int) -> tuple[int, int]:
        """People holding a place on the course: (seated, waiting)."""
        rows = await self.session.execute(
            select(Signup.status, func.count(Signup.id))
            .where(Signup.course_id == course_id, Signup.status.in_(ACTIVE))
            .group_by(Signup.status)
        )
        counts = {status: n for status, n in rows}
        return counts.get("confirmed", 0), counts.get("waitlisted", 0)

    async def registered(self, fair_id: int) -> int:
        """People registered for the fair."""
        found = await self.session.scalar(
            select(func.count(FairRegistration.id)).where(
                FairRegistration.fair_id == fair_id, FairRegistration.status == "registered"
            )
        )
        return found or 0

    async def venues(self, limit: int = 3) -> list[str]:
        """The venues of the latest fairs (each once, the latest first): to choose from."""
        rows = await self.session.execute(
            select(JobFair.venue, func.max(JobFair.starts_at))
            .where(JobFair.venue != "")
            .group_by(JobFair.venue)
            .order_by(func.max(JobFair.starts_at).desc(), JobFair.venue)
            .limit(limit)
        )
        return [venue for venue, _at in rows]

    async def code_free(self, code: str) -> bool:
        """Whether no course and no fair has this code (compared as written)."""
        for model in (Course, JobFair):
            if await self.session.scalar(select(model.id).where(model.code == code)):
                return False
        return True
