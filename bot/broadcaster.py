"""Broadcasts: sends programme notices through a transport, within the platform's limits.

One `Broadcaster(db, sender, rate=settings.broadcast_rate)` runs beside each transport's
`Notifier` (Telegram, WeChat, the terminal). Round by round, in one short transaction:

1. a queued broadcast that has come due gets its deliveries written (`take_due`, then
   `enqueue` in batches of `ENQUEUE_CHUNK` rows, each its own transaction, then
   `start`), under a lease, so a crash half-way lets another instance do it again;
2. else the next deliveries are claimed (`BroadcastRepo.claim`: a token and a lease)
   together with their send times (`take_slots`: one every 1/rate seconds from the
   platform's gate row, shared by every instance), never more than `ahead` seconds of
   them;
3. each is sent at its time, beside the others (a slow answer does not hold up the
   next one), and recorded right after its send returns (`settle`, which also counts
   it in the broadcast, in the same transaction). Messages whose time passed while the
   process was held up (a garbage collection, a busy database) catch up at most 10%
   faster than the rate (`CATCH_UP`), never in a burst.

Limits and failures:
- `rate` messages a second on the platform across every instance (the gate), and at
  most one a second to one person (`PER_CHAT`, in the claim).
- A 429 (`SendError.retry_after`, from `Telegram.send_notice`) stops every send of
  this broadcaster until then; the gate is moved past it, so other instances stop once
  their already given times run out (at most `ahead` seconds of them); the message and
  every one not yet sent are given back (`release`) and sent after the wait.
- A person who blocked the bot is `unreachable`: never retried, and `User.reachable`
  is cleared. A WeChat follower outside the 48-hour window is `outside_window` (not
  reachable, not failed). Other errors are tried again after 2, 4... seconds, then
  recorded `failed` after `max_attempts` tries.
- A crash leaves the claimed deliveries `sending`; once their lease runs out another
  broadcaster (or this one restarted) sends them. What was sent is marked sent right
  after the send returns, so only the messages in flight at the crash (sent, not yet
  recorded) can arrive twice.

Broadcasts never delay people's conversations: every transaction is a few statements
(one claim, one settle), and none is open while a message is sent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.notifier import SETTLE_TRIES, Delivery, Sender, SendError, describe
from handlers.broadcast_progress import report_done
from handlers.context import Options
from handlers.notices import notice_replies
from handlers.replies import Reply
from storage.broadcasts import BroadcastRepo, audience_keys
from storage.db import Database
from storage.deliveries import gate_opens, hold_gate, slots_needed, take_slots
from storage.models import utcnow
from storage.repositories import Repos

log = logging.getLogger(__name__)

LEASE = 60.0  # seconds a claimed delivery (or a broadcast being written) is held
AHEAD = 1.0  # seconds of send times a broadcaster reserves before it sends them
BATCH_SECONDS = 0.5  # seconds of messages claimed at once (at the rate)
ENQUEUE_CHUNK = 1000  # deliveries written per transaction
MAX_ATTEMPTS = 3  # tries of a message that fails for another reason than the person
#: seconds a broadcast's status is trusted before it is read again (a cancel stops
#: the messages booked ahead within this)
STATUS_EVERY = 0.2
GRACE = 5.0  # seconds sends in flight may finish in when the broadcaster stops
#: messages late for their time (the process was held up) catch up at most this much
#: closer together than 1/rate: 10% faster, within Telegram's 30 a second at 25
CATCH_UP = 0.9

STATUS = {
    Delivery.SENT: "sent",
    Delivery.UNREACHABLE: "unreachable",
    Delivery.OUTSIDE_WINDOW: "outside_window",
}


@dataclass
class _Job:
    """A claimed delivery, rendered: send `replies` to `user_key` at `at` (seconds
    since the epoch), unless the lease is nearly over (`deadline`, monotonic)."""

    id: int
    broadcast_id: int
    user_key: str
    attempts: int
    replies: list[Reply]
    token: str
    at: float
    deadline: float


def _utc(epoch: float) -> dt.datetime:
    """Seconds since the epoch as the database keeps times: naive UTC."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).replace(tzinfo=None)


class Broadcaster:
    def __init__(
        self,
        db: Database,
        sender: Sender,
        *,
        rate: float = 25.0,
        lease: float = LEASE,
        every: float = 1.0,
        ahead: float = AHEAD,
        max_attempts: int = MAX_ATTEMPTS,
        user: str | None = None,
        options: Options | None = None,
    ) -> None:
        """`rate`: messages a second on this platform, across instances (`gate`);
        `lease`: seconds a claim holds; `every`: seconds between looks when there is
        nothing to send; `ahead`: seconds of send times reserved at most (at most half
        the lease); `user`: send only this person's (the terminal chat is one person);
        `options`: the flows' options (the time zone of the writer's final report)."""
        if rate <= 0:
            raise ValueError("the broadcast rate must be above 0")
        self.db = db
        self.sender = sender
        self.platforms = tuple(sender.platforms)
        self.gate = "+".join(self.platforms)
        self.rate = rate
        self.lease = lease
        self.every = every
        # a message is sent within its lease: its time is never further out than half
        # of it (the last quarter of a lease is never used: `_Job.deadline`)
        self.ahead = min(ahead, lease / 2)
        self.max_attempts = max_attempts
        self.user = user
        self.options = options or Options(broadcast_rate=rate)
        notice: Callable[[str, list[Reply]], Awaitable[Delivery]] | None
        notice = getattr(sender, "send_notice", None)
        self._send = notice or sender.send
        #: how many platform messages a notice takes (WeChat splits at 2,048 bytes):
        #: each counts against the rate; one a reply where the sender does not say
        self._messages_in: Callable[[list[Reply]], int] = getattr(sender, "messages_in", len)
        self._paused_until = 0.0  # seconds since the epoch
        self._pace = asyncio.Lock()  # messages leave one after the other, in their order
        self._last_send = 0.0
        self._status: dict[int, tuple[str, float]] = {}  # broadcast: (status, when read)
        self._waiting: dict[int, tuple[_Job, asyncio.Task[None]]] = {}
        self._sending: set[asyncio.Task[None]] = set()

    # --- the loop -------------------------------------------------------------------------
    async def run_forever(self) -> None:
        """Send broadcasts until cancelled; then give back what was claimed and not yet
        sent, and let the sends in flight finish (`GRACE` seconds at most)."""
        try:
            while True:
                try:
                    pause = await self.step()
                except Exception as exc:
                    log.error("the broadcaster failed: %s", describe(exc))
                    pause = self.every
                if pause > 0:
                    await asyncio.sleep(pause)
        finally:
            await asyncio.shield(self._stop())

    async def step(self) -> float:
        """One round: write a due broadcast's deliveries, or claim and schedule the next
        messages. Returns the seconds to wait before the next round (0: go on)."""
        now = time.time()
        if self._paused_until > now:
            return self._paused_until - now
        kind, found = await self.db.transaction(self._round)
        if kind == "write":
            await self._write(*found)
            return 0.0
        if kind == "wait":  # a little later at random: instances take turns
            return max(0.01, found) + random.uniform(0.0, min(0.05, 1 / self.rate))
        if kind == "idle":
            return self.every
        for job in found:
            task = asyncio.create_task(self._deliver(job))
            self._waiting[job.id] = (job, task)
        return 0.0

    async def _round(self, session: AsyncSession) -> tuple[str, Any]:
        repo = BroadcastRepo(session)
        lease = dt.timedelta(seconds=self.lease)
        due = await repo.take_due(lease)  # whichever instance sees it first writes it
        if due is not None:
            return "write", (due.id, due.claim, due.audience)
        now = time.time()
        opens = await gate_opens(session, self.gate)
        if opens > now + self.ahead:
            return "wait", opens - self.ahead - now
        limit = slots_needed(self.rate, min(BATCH_SECONDS, self.ahead))
        token, claimed = await repo.claim(self.platforms, limit, lease, user=self.user)
        if not claimed:
            for done in (finished := await repo.finish()):
                log.info("broadcast %d is done", done)
            await report_done(Repos(session), self.options, finished)  # the creator's report
            return "idle", None
        ready = []
        for row in claimed:
            user = row.user
            if user is None or not user.reachable or user.notices_off:
                status = "skipped" if user is not None and user.notices_off else "unreachable"
                error = "" if status == "skipped" else "gone" if user is None else "blocked"
                await repo.settle(row.id, row.broadcast_id, token, status, error)
                continue
            ready.append((row, notice_replies(user, row.broadcast)))
        # each platform message takes a slot: a notice WeChat sends in two parts, two
        weights = [max(1, self._messages_in(replies)) for _row, replies in ready]
        first = await take_slots(session, self.gate, sum(weights), self.rate, now, self.ahead)
        first = now if first is None else first
        deadline = time.monotonic() + self.lease - min(5.0, self.lease / 4)
        jobs, slot = [], 0
        for (row, replies), weight in zip(ready, weights, strict=True):
            at = first + slot / self.rate
            ids = (row.id, row.broadcast_id, row.user_key, row.attempts)
            jobs.append(_Job(*ids, replies, token, at, deadline))
            slot += weight
        return "send", jobs

    async def _write(self, broadcast_id: int, token: str, audience: dict[str, Any]) -> None:
        """Write a due broadcast's deliveries, `ENQUEUE_CHUNK` a transaction, each
        renewing the lease first; then start it. Stops when the lease was lost."""
        lease = dt.timedelta(seconds=self.lease)

        async def everyone(session: AsyncSession) -> list[str]:
            return await audience_keys(session, audience)

        keys = await self.db.transaction(everyone)
        for start in range(0, len(keys), ENQUEUE_CHUNK):
            chunk = keys[start : start + ENQUEUE_CHUNK]

            async def write(session: AsyncSession, chunk: list[str] = chunk) -> bool:
                repo = BroadcastRepo(session)
                if not await repo.hold(broadcast_id, token, lease):
                    return False
                await repo.enqueue(broadcast_id, chunk)
                return True

            if not await self.db.transaction(write):
                return

        async def start(session: AsyncSession) -> bool:
            return await BroadcastRepo(session).start(broadcast_id, token)

        if await self.db.transaction(start):
            log.info("broadcast %d: sending to %d people", broadcast_id, len(keys))

    # --- one message ----------------------------------------------------------------------
    async def _deliver(self, job: _Job) -> None:
        """Send one message at its time. Never raises: a failure to record it is logged
        (the lease then runs out, and it is sent again)."""
        await asyncio.sleep(max(0.0, job.at - time.time()))
        async with self._pace:  # woken late (the process was held up): no burst
            gap = CATCH_UP / self.rate
            await asyncio.sleep(max(0.0, self._last_send + gap - time.time()))
            self._last_send = time.time()
        self._waiting.pop(job.id, None)
        task = asyncio.current_task()
        assert task is not None
        self._sending.add(task)
        try:
            if self._paused_until > time.time() or time.monotonic() > job.deadline:
                await self._release([job], max(self._paused_until, time.time()))
            elif await self._cancelled(job.broadcast_id):
                await self._drop(job)
            else:
                await self._send_one(job)
        except Exception as exc:
            log.error("a broadcast message was not recorded: %s", describe(exc))
        finally:
            self._sending.discard(task)

    async def _send_one(self, job: _Job) -> None:
        retry_at: dt.datetime | None = None
        try:
            outcome = await self._send(job.user_key, job.replies)
            error = ""
        except SendError as exc:
            if exc.retry_after is not None:
                await self._pause(job, time.time() + max(exc.retry_after, 0.0))
                return
            outcome, error = Delivery.FAILED, describe(exc)
        except Exception as exc:
            outcome, error = Delivery.FAILED, describe(exc)
        if outcome is Delivery.FAILED:
            log.warning("a broadcast message failed: %s", error)
            if job.attempts < self.max_attempts:
                retry_at = utcnow() + dt.timedelta(seconds=2**job.attempts)
        status = STATUS.get(outcome, "failed")

        async def settle(session: AsyncSession) -> None:
            repo = BroadcastRepo(session)
            settled = await repo.settle(
                job.id, job.broadcast_id, job.token, status, error, retry_at=retry_at
            )
            if settled and outcome is Delivery.UNREACHABLE:
                await Repos(session).users.set_reachable(job.user_key, False)

        # it has happened: recorded even while another process keeps the database busy
        await self.db.transaction(settle, tries=SETTLE_TRIES)

    async def _cancelled(self, broadcast_id: int) -> bool:
        """Whether staff cancelled the broadcast since its messages were claimed: asked
        of the database at most every `STATUS_EVERY` seconds a broadcast, so that
        "Stopped" stops what is booked ahead too."""
        now = time.monotonic()
        status, seen = self._status.get(broadcast_id, ("", 0.0))
        if now - seen > STATUS_EVERY:
            async with self.db.sessions() as session:
                status = await BroadcastRepo(session).status_of(broadcast_id) or "cancelled"
            self._status[broadcast_id] = (status, now)
        return status == "cancelled"

    async def _drop(self, job: _Job) -> None:
        async def drop(session: AsyncSession) -> None:
            await BroadcastRepo(session).drop([job.id], job.token)

        await self.db.transaction(drop, tries=SETTLE_TRIES)

    async def _pause(self, job: _Job, until: float) -> None:
        """Flood control: no more sends until `until`; this message and every one not
        yet sent go back, due then; the gate is held until then for every instance."""
        self._paused_until = max(self._paused_until, until)
        log.warning("flood control: broadcasts wait %.1f s", until - time.time())
        held = [job]
        for other, task in list(self._waiting.values()):
            task.cancel()
            held.append(other)
        self._waiting.clear()
        await self._release(held, self._paused_until, hold=True)

    async def _release(self, jobs: list[_Job], when: float, *, hold: bool = False) -> None:
        async def give_back(session: AsyncSession) -> None:
            repo = BroadcastRepo(session)
            for token in {j.token for j in jobs}:
                await repo.release([j.id for j in jobs if j.token == token], token, _utc(when))
            if hold:
                await hold_gate(session, self.gate, when)

        await self.db.transaction(give_back, tries=SETTLE_TRIES)

    async def _stop(self) -> None:
        waiting = list(self._waiting.values())
        self._waiting.clear()
        for _job, task in waiting:
            task.cancel()
        if waiting:
            try:
                await self._release([job for job, _task in waiting], time.time())
            except Exception as exc:  # their lease runs out: sent after it then
                log.warning("claimed broadcast messages not given back: %s", describe(exc))
        if self._sending:
            _done, late = await asyncio.wait(set(self._sending), timeout=GRACE)
            for task in late:
                task.cancel()
