"""Repositories: the only place that talks to the database. One per aggregate.

Handlers get a `Repos` on their context (`ctx.repos.users.erase(user)`); the dispatcher
uses the same repositories to load users and record handled events in batches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Course, JobFair, ProcessedEvent, TrainingBase, User, utcnow


class UserRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_keys(self, keys: Iterable[str]) -> dict[str, User]:
        """The users with these platform keys, in one query."""
        keys = list(set(keys))
        if not keys:
            return {}
        rows = await self.session.scalars(select(User).where(User.key.in_(keys)))
        return {u.key: u for u in rows}

    async def get(self, key: str) -> User | None:
        return (await self.by_keys([key])).get(key)

    def new(self, key: str, lang: str) -> User:
        user = User(key=key, lang=lang, state="", form={}, screen_nonce=0, screen_buttons=[])
        self.session.add(user)
        return user

    async def erase(self, user: User, *, keep_event: str | None = None) -> None:
        """Delete everything Haoxin holds about this person (PIPL art. 47; WeChat unfollow).

        The record of the event that asked for it is kept (without personal data) so a
        repeat of that same event is not mistaken for a new person's first message.
        """
        events = delete(ProcessedEvent).where(ProcessedEvent.user_key == user.key)
        if keep_event is not None:
            events = events.where(ProcessedEvent.update_id != keep_event)
        await self.session.execute(events)
        await self.session.delete(user)
        await self.session.flush()


class EventRepo:
    """Which platform updates were handled, and what they were answered."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def answered(self, ids: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[Any]]:
        """Stored replies of the (platform, update id) pairs already handled."""
        ids = list(set(ids))
        if not ids:
            return {}
        pk = tuple_(ProcessedEvent.platform, ProcessedEvent.update_id)
        rows = await self.session.execute(
            select(ProcessedEvent.platform, ProcessedEvent.update_id, ProcessedEvent.replies).where(
                pk.in_(ids)
            )
        )
        return {(p, u): r for p, u, r in rows}

    def record(self, platform: str, update_id: str, user_key: str, replies: list[Any]) -> None:
        self.session.add(
            ProcessedEvent(
                platform=platform, update_id=update_id, user_key=user_key, replies=replies
            )
        )

    async def prune(self, older_than: dt.timedelta = dt.timedelta(days=1)) -> int:
        result = await self.session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.handled_at < utcnow() - older_than)
        )
        return result.rowcount or 0


class CatalogRepo:
    """Training bases, courses and job fairs."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def counts(self) -> dict[str, int]:
        out = {}
        for name, model in (("bases", TrainingBase), ("courses", Course), ("fairs", JobFair)):
            out[name] = (await self.session.scalar(select(func.count(model.id)))) or 0
        return out


class Repos:
    """Every repository, sharing one session (one transaction)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.users = UserRepo(session)
        self.events = EventRepo(session)
        self.catalog = CatalogRepo(session)
