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

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.replies import Reply
from storage.db import Database
from storage.repositories import Repos

log = logging.getLogger(__name__)

SETTLE_TRIES = 35  # pauses of 0.05 s doubling to 2 s: about a minute of retrying


class SendError(Exception):
    """A platform refused a message; `code` is its error code (WeChat's errcode...).
    `retry_after`: seconds the platform asked to wait before any further message (a
    Telegram 429 raised by `send_notice`), else None."""

    def __init__(self, code: int | str, retry_after: float | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.retry_after = retry_after


def describe(exc: BaseException) -> str:
    """What went wrong, for the log and the outbox row: the exception's type and, for a
    platform's refusal, its error code; never the text (it may quote the message)."""
    code = getattr(exc, "code", None)
    return f"{type(exc).__name__} {code}" if isinstance(code, int | str) else type(exc).__name__


class Delivery(enum.Enum):
    SENT = "sent"
    #: she blocked the bot, unfollowed, or is unknown to the platform: not retried
    UNREACHABLE = "unreachable"
    #: WeChat: no message from her in the last 48 hours, so none may be sent to her
    #: until she writes again (recorded `unreachable` in the outbox; she is not marked
    #: unreachable, a message from her reopens the window)
    OUTSIDE_WINDOW = "outside_window"
    FAILED = "failed"


class Sender(Protocol):
    """Delivers messages sent later on its platforms. A sender may also offer
    `send_notice(user, replies) -> Delivery` for broadcasts (`bot.broadcaster`): the
    same, except that flood control is never waited out nor deferred, but raised as
    `SendError(429, retry_after=seconds)`, so the broadcaster stops every send."""

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
        """Send what is due now; returns how many messages were tried.

        Claimed with a token (`OutboxRepo.claim`); each message's lease is renewed right
        before it is sent, and one whose claim was lost is not sent. When a person's
        message fails, her later ones in this batch are given back unsent, so her
        messages never arrive out of order."""

        async def claim(session: AsyncSession) -> tuple[str, list[tuple]]:
            token, due = await Repos(session).outbox.claim(self.sender.platforms, user=self.user)
            return token, [(m.id, m.user_key, m.replies, m.attempts) for m in due]

        token, jobs = await self.db.transaction(claim)
        held: set[str] = set()
        tried = 0
        for message_id, user, replies, attempts in jobs:

            async def renew(session: AsyncSession, message_id: int = message_id) -> bool:
                return await Repos(session).outbox.renew(message_id, token)

            async def release(session: AsyncSession, message_id: int = message_id) -> None:
                await Repos(session).outbox.release(message_id, token)

            if user in held:
                await self.db.transaction(release)
                continue
            if not await self.db.transaction(renew):
                continue
            tried += 1
            retry_in = None
            try:
                outcome = await self.sender.send(user, [Reply.from_dict(r) for r in replies])
                error = ""
            except Exception as exc:
                error = describe(exc)
                log.warning("sending message %d failed: %s", message_id, error)
                outcome = Delivery.FAILED
                if attempts < self.max_attempts:
                    retry_in = dt.timedelta(seconds=2**attempts)
            if outcome is not Delivery.SENT:
                held.add(user)
            await self._settle(message_id, token, user, outcome, error, retry_in)
        return tried

    async def _settle(
        self,
        message_id: int,
        token: str,
        user: str,
        outcome: Delivery,
        error: str,
        retry_in: dt.timedelta | None,
    ) -> None:
        """Record how the sending went. It has happened: the record is tried again for
        as long as another process keeps the database busy (`SETTLE_TRIES`, about a
        minute), or the lease would run out and the message be sent a second time."""

        status = "unreachable" if outcome is Delivery.OUTSIDE_WINDOW else outcome.value

        async def settle(session: AsyncSession) -> None:
            repos = Repos(session)
            await repos.outbox.settle(message_id, token, status, error, retry_in)
            if outcome is Delivery.UNREACHABLE:
                await repos.users.set_reachable(user, False)

        await self.db.transaction(settle, tries=SETTLE_TRIES)

    async def run_forever(self) -> None:
        while True:
            try:
                if await self.run_once():
                    continue
            except Exception as exc:
                log.error("the notifier failed: %s", type(exc).__name__)
            await asyncio.sleep(self.every)
