"""Sending later: delivers the outbox through a transport, and records how it went.

Every transport implements `Sender.send(user, replies)`; reminders, notices and match
news all go through `ctx.notify(...)` → outbox → here. A person who blocked the bot, or
whom WeChat will not let us reach outside its 48-hour window, is recorded as
`unreachable` for that message, not retried forever; other failures are retried with a
growing pause, then recorded as `failed`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import logging
from typing import Protocol

from handlers.replies import Reply
from storage.db import Database
from storage.repositories import Repos

log = logging.getLogger(__name__)


class Delivery(enum.Enum):
    SENT = "sent"
    UNREACHABLE = "unreachable"
    FAILED = "failed"


class Sender(Protocol):
    platforms: tuple[str, ...]

    async def send(self, user: str, replies: list[Reply]) -> Delivery: ...


class Notifier:
    def __init__(
        self,
        db: Database,
        sender: Sender,
        *,
        every: float = 1.0,
        max_attempts: int = 5,
        user: str | None = None,
    ) -> None:
        """`user`: deliver only this person's messages (the terminal chat is one person)."""
        self.db = db
        self.user = user
        self.sender = sender
        self.every = every
        self.max_attempts = max_attempts

    async def run_once(self) -> int:
        """Send what is due now; returns how many messages were tried."""
        async with self.db.sessions() as session, session.begin():
            due = await Repos(session).outbox.claim(self.sender.platforms, user=self.user)
            jobs = [(m.id, m.user_key, m.replies, m.attempts) for m in due]
        for message_id, user, replies, attempts in jobs:
            retry_in = None
            try:
                outcome = await self.sender.send(user, [Reply.from_dict(r) for r in replies])
                error = ""
            except Exception as exc:
                log.warning("sending message %d failed: %s", message_id, type(exc).__name__)
                outcome, error = Delivery.FAILED, type(exc).__name__
                if attempts < self.max_attempts:
                    retry_in = dt.timedelta(seconds=2**attempts)
            async with self.db.sessions() as session, session.begin():
                repos = Repos(session)
                await repos.outbox.settle(message_id, outcome.value, error, retry_in)
                if outcome is Delivery.UNREACHABLE:
                    await repos.users.set_reachable(user, False)
        return len(jobs)

    async def run_forever(self) -> None:
        while True:
            try:
                if await self.run_once():
                    continue
            except Exception as exc:
                log.error("the notifier failed: %s", type(exc).__name__)
            await asyncio.sleep(self.every)
