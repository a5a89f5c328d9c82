"""Job fairs and registrations to attend them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import FairRegistration, JobFair


def destinations(fair: JobFair) -> list[str]:
    """Where the fair's jobs are, in the order first mentioned."""
    seen: list[str] = []
    for employer in fair.employers:
        for job in employer.get("jobs", []):
            place = job.get("destination", "")
            if place and place not in seen:
                seen.append(place)
    return seen


class FairRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, fair_id: int) -> JobFair | None:
        return await self.session.get(JobFair, fair_id)

    async def upcoming(self, since: dt.datetime) -> list[JobFair]:
        """Fairs not yet over, soonest first (`since` is naive UTC, like the database)."""
        rows = await self.session.scalars(
            select(JobFair)
            .where(JobFair.status == "open", JobFair.starts_at >= since)
            .order_by(JobFair.starts_at, JobFair.id)
        )
        return list(rows)

    async def mine(self, fair_id: int, user_id: int) -> FairRegistration | None:
        return await self.session.scalar(
            select(FairRegistration).where(
                FairRegistration.fair_id == fair_id, FairRegistration.user_id == user_id
            )
        )

    async def register(self, fair_id: int, user_id: int, name: str, phone: str) -> FairRegistration:
        registration = await self.mine(fair_id, user_id)
        if registration is None:
            registration = FairRegistration(fair_id=fair_id, user_id=user_id, name="", phone="")
            self.session.add(registration)
        registration.name, registration.phone, registration.status = name, phone, "registered"
        await self.session.flush()
        return registration

    async def registered(self, fair_id: int) -> list[FairRegistration]:
        rows = await self.session.scalars(
            select(FairRegistration).where(
                FairRegistration.fair_id == fair_id, FairRegistration.status == "registered"
            )
        )
        return list(rows)

    async def of_user(self, user_id: int) -> list[FairRegistration]:
        rows = await self.session.scalars(
            select(FairRegistration)
            .options(selectinload(FairRegistration.fair))
            .join(FairRegistration.fair)
            .where(FairRegistration.user_id == user_id, FairRegistration.status == "registered")
            .order_by(JobFair.starts_at)
        )
        return list(rows)
