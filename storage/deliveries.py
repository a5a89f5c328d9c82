"""Broadcast deliveries: writing them, leasing them to a broadcaster, recording how
sending went, and the pace shared by every instance (issue 12; `storage.broadcasts` is
the staff's side: drafts, the audience, confirming, progress).

- **Writing** (`take_due`, `hold`, `enqueue`, `start`: the broadcaster, when a
  confirmed broadcast comes due, under a lease on it): one row per person; who turned
  notices off is written `skipped`, who blocked the bot `unreachable` (neither is sent
  anything), each added to the broadcast's counts in the same transaction.
- **Sending** (`claim`, `settle`, `release`): due rows are leased to one broadcaster
  with a token, like the outbox (`OutboxRepo.claim`); a crash frees them when the lease
  runs out. A person is never claimed while another message of hers is being sent or
  went out less than a second ago (`PER_CHAT`). Each settle updates the broadcast's
  counts in the same transaction, so they always equal its rows.
- **Pace**: `take_slots` hands out send times from the platform's `SendGate` row, one
  every 1/rate seconds, to every instance alike; `hold_gate` moves it past a platform's
  flood-control wait.

Every method is a few statements of the caller's short transaction: nothing here waits
on a platform, and no lock is held while a message is sent.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import Broadcast, BroadcastDelivery, SendGate, User, utcnow

#: the platforms a broadcast can reach (a demo worker's `demo:` key is nobody's chat)
PLATFORMS = ("tg", "wx", "console")
#: a person gets at most one broadcast message a second (Telegram: one a second per chat)
PER_CHAT = dt.timedelta(seconds=1)
#: rows written by one statement when a broadcast's deliveries are written
ENQUEUE_BATCH = 500
#: delivery statuses that are final, and the broadcast's count each adds to
COUNTED = {
    "sent": "sent",
    "failed": "failed",
    "unreachable": "unreachable",
    "outside_window": "not_reachable_wechat",
    "skipped": "skipped_opted_out",
}
#: delivery statuses still to send
LEFT = ("pending", "sending")


@dataclass
class Claimed:
    """A delivery leased to one broadcaster: send `broadcast`'s text to `user` (None:
    she erased her data meanwhile), then `settle` it with the claim's token."""

    id: int
    broadcast_id: int
    user_key: str
    attempts: int
    broadcast: Broadcast
    user: User | None


class DeliveryRepo:
    """A broadcast's deliveries, as the broadcaster writes and sends them. Every method
    works in the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, broadcast: Broadcast | int) -> Broadcast | None:
        return await self.session.get(Broadcast, id_of(broadcast), populate_existing=True)

    # --- writing the deliveries -----------------------------------------------------------
    async def take_due(
        self, lease: dt.timedelta, now: dt.datetime | None = None
    ) -> Broadcast | None:
        """A queued broadcast that is due (its `send_at` passed) and whose deliveries no
        one is writing, leased to the caller for `lease` under a new `claim` token (read
        it from the row). None when there is none."""
        now = now or utcnow()
        due = (
            select(Broadcast.id)
            .where(
                Broadcast.status == "queued",
                or_(Broadcast.send_at.is_(None), Broadcast.send_at <= now),
                or_(Broadcast.lease_until.is_(None), Broadcast.lease_until <= now),
            )
            .order_by(Broadcast.id)
            .limit(1)
        )
        found = await self.session.scalar(due)
        if found is None:
            return None
        token = secrets.token_hex(8)
        taken = await self.session.execute(
            update(Broadcast)
            .where(
                Broadcast.id == found,
                Broadcast.status == "queued",
                or_(Broadcast.lease_until.is_(None), Broadcast.lease_until <= now),
            )
            .values(claim=token, lease_until=now + lease)
            .execution_options(synchronize_session=False)
        )
        return await self.get(found) if taken.rowcount == 1 else None

    async def hold(self, broadcast: Broadcast | int, token: str, lease: dt.timedelta) -> bool:
        """Renew the lease on writing a queued broadcast's deliveries; False when it was
        lost (it ran out and another took it, or staff cancelled): then stop."""
        result = await self.session.execute(
            update(Broadcast)
            .where(
                Broadcast.id == id_of(broadcast),
                Broadcast.claim == token,
                Broadcast.status == "queued",
            )
            .values(lease_until=utcnow() + lease)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    async def enqueue(self, broadcast: Broadcast | int, recipients: Iterable[str]) -> int:
        """Write a delivery for each of these platform keys not written yet (in
        statements of `ENQUEUE_BATCH` rows), and add them to the broadcast's counts: to
        be sent (`pending`), or, sent nothing, `skipped` (she turned notices off) or
        `unreachable` (she blocked the bot). Keys of nobody (erased meanwhile) and of
        platforms no broadcast reaches are left out. Returns how many were written.
        Call it with up to a few thousand keys per transaction."""
        broadcast_id = id_of(broadcast)
        keys = list(dict.fromkeys(k for k in recipients if k.split(":", 1)[0] in PLATFORMS))
        written = 0
        counts = {"total": 0, "skipped_opted_out": 0, "unreachable": 0}
        now = utcnow()
        for start in range(0, len(keys), ENQUEUE_BATCH):
            chunk = keys[start : start + ENQUEUE_BATCH]
            people = {
                key: (off, reachable)
                for key, off, reachable in await self.session.execute(
                    select(User.key, User.notices_off, User.reachable).where(User.key.in_(chunk))
                )
            }
            there = set(
                await self.session.scalars(
                    select(BroadcastDelivery.user_key).where(
                        BroadcastDelivery.broadcast_id == broadcast_id,
                        BroadcastDelivery.user_key.in_(chunk),
                    )
                )
            )
            rows = []
            for key in chunk:
                if key in there or key not in people:
                    continue
                off, reachable = people[key]
                status = "skipped" if off else "pending" if reachable else "unreachable"
                rows.append(
                    {
                        "broadcast_id": broadcast_id,
                        "user_key": key,
                        "platform": key.split(":", 1)[0],
                        "status": status,
                        "attempts": 0,
                        "next_at": now,
                        "error": "blocked" if status == "unreachable" else "",
                    }
                )
                if status == "skipped":
                    counts["skipped_opted_out"] += 1
                else:
                    counts["total"] += 1
                    if status == "unreachable":
                        counts["unreachable"] += 1
            if rows:
                await self.session.execute(insert(BroadcastDelivery), rows)
                written += len(rows)
        if written:
            await self.session.execute(
                update(Broadcast)
                .where(Broadcast.id == broadcast_id)
                .values(
                    {getattr(Broadcast, k): getattr(Broadcast, k) + n for k, n in counts.items()}
                )
                .execution_options(synchronize_session=False)
            )
        return written

    async def start(self, broadcast: Broadcast | int, token: str) -> bool:
        """Its deliveries are written: start sending (`sending`), if the caller still
        holds it; False otherwise (cancelled meanwhile, or taken over)."""
        result = await self.session.execute(
            update(Broadcast)
            .where(
                Broadcast.id == id_of(broadcast),
                Broadcast.claim == token,
                Broadcast.status == "queued",
            )
            .values(status="sending", started_at=utcnow(), claim=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    async def finish(self) -> list[int]:
        """Mark `done` every sending broadcast with nothing left to send; returns their
        ids."""
        left = (
            select(BroadcastDelivery.id)
            .where(
                BroadcastDelivery.broadcast_id == Broadcast.id,
                BroadcastDelivery.status.in_(LEFT),
            )
            .exists()
        )
        done = list(
            await self.session.scalars(
                select(Broadcast.id).where(Broadcast.status == "sending", ~left)
            )
        )
        if done:
            await self.session.execute(
                update(Broadcast)
                .where(Broadcast.id.in_(done), Broadcast.status == "sending")
                .values(status="done", finished_at=utcnow())
                .execution_options(synchronize_session=False)
            )
        return done

    # --- sending -----------------------------------------------------------------------------
    async def claim(
        self,
        platforms: Iterable[str],
        limit: int,
        lease: dt.timedelta,
        now: dt.datetime | None = None,
        *,
        user: str | None = None,
    ) -> tuple[str, list[Claimed]]:
        """Due deliveries of sending broadcasts on these platforms, at most `limit` and
        at most one per person, leased to the caller for `lease`: `(token, claimed)`,
        oldest first. Due: pending with `next_at` passed, or being sent under a lease
        that ran out (its broadcaster died). A person is skipped while another delivery
        of hers is being sent or was sent less than `PER_CHAT` ago. `user`: only hers
        (the terminal chat is one person).

        One conditional UPDATE writes the token; only rows carrying it are read back,
        so two broadcasters never hold the same row."""
        now = now or utcnow()
        platforms = list(platforms)
        token = secrets.token_hex(8)
        d = BroadcastDelivery
        other = aliased(BroadcastDelivery)
        busy = (
            select(other.id)
            .where(
                other.user_key == d.user_key,
                other.id != d.id,
                or_(
                    and_(other.status == "sending", other.lease_until > now),
                    other.sent_at > now - PER_CHAT,
                ),
            )
            .exists()
        )
        live = (
            select(Broadcast.id)
            .where(Broadcast.id == d.broadcast_id, Broadcast.status == "sending")
            .exists()
        )
        lapsed = select(d.id, d.user_key).where(
            d.status == "sending", d.lease_until <= now, d.platform.in_(platforms), live, ~busy
        )
        due = select(d.id, d.user_key).where(
            d.status == "pending", d.platform.in_(platforms), d.next_at <= now, live, ~busy
        )
        if user is not None:
            lapsed, due = lapsed.where(d.user_key == user), due.where(d.user_key == user)
        found = list(await self.session.execute(lapsed.order_by(d.id).limit(limit)))
        if len(found) < limit:
            found += list(
                await self.session.execute(due.order_by(d.next_at, d.id).limit(limit * 2))
            )
        ids, people = [], set()
        for delivery_id, key in found:
            if key not in people and len(ids) < limit:
                people.add(key)
                ids.append(delivery_id)
        if not ids:
            return token, []
        await self.session.execute(
            update(d)
            .where(
                d.id.in_(ids),
                or_(
                    and_(d.status == "pending", d.next_at <= now),
                    and_(d.status == "sending", d.lease_until <= now),
                ),
            )
            .values(status="sending", claim=token, lease_until=now + lease, attempts=d.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        rows = await self.session.execute(
            select(d.id, d.broadcast_id, d.user_key, d.attempts, Broadcast, User)
            .join(Broadcast, Broadcast.id == d.broadcast_id)
            .outerjoin(User, User.key == d.user_key)
            .where(d.claim == token)
            .order_by(d.next_at, d.id)
            .execution_options(populate_existing=True)
        )
        return token, [Claimed(*row) for row in rows]

    async def settle(
        self,
        delivery: int,
        broadcast: Broadcast | int,
        token: str,
        status: str,
        error: str = "",
        *,
        retry_at: dt.datetime | None = None,
    ) -> bool:
        """Record how sending went, if the caller still holds the claim: `status` one
        of `COUNTED` (`sent`, `failed`, `unreachable`, `outside_window`, `skipped`),
        added to the broadcast's counts in this same statement's transaction; or, with
        `retry_at`, due again then (a failure worth another try: nothing is counted).
        False when the claim was lost (the lease ran out and another took it)."""
        if retry_at is None and status not in COUNTED:
            raise ValueError(f"not a final status: {status}")
        d = BroadcastDelivery
        values: dict[str, Any] = {"claim": None, "error": error[:40]}
        if retry_at is not None:
            values.update(status="pending", next_at=retry_at)
        else:
            values["status"] = status
            if status == "sent":
                values["sent_at"] = utcnow()
        result = await self.session.execute(
            update(d)
            .where(d.id == delivery, d.claim == token, d.status == "sending")
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            return False
        if retry_at is None:
            column = COUNTED[status]
            change: dict[Any, Any] = {getattr(Broadcast, column): getattr(Broadcast, column) + 1}
            if status == "skipped":  # counted to be sent when written: no longer
                change[Broadcast.total] = Broadcast.total - 1
            await self.session.execute(
                update(Broadcast)
                .where(Broadcast.id == id_of(broadcast))
                .values(change)
                .execution_options(synchronize_session=False)
            )
        return True

    async def release(self, deliveries: Iterable[int], token: str, next_at: dt.datetime) -> int:
        """Give claimed deliveries back unsent, due at `next_at` (a platform asked to
        wait; the broadcaster stops), as if never tried. Returns how many."""
        d = BroadcastDelivery
        return await self._unclaim(
            deliveries, token, status="pending", next_at=next_at, attempts=d.attempts - 1
        )

    async def drop(self, deliveries: Iterable[int], token: str) -> int:
        """Claimed deliveries of a broadcast cancelled meanwhile, never sent: marked
        `cancelled` like its pending ones (nothing is counted). Returns how many."""
        return await self._unclaim(deliveries, token, status="cancelled")

    async def _unclaim(self, deliveries: Iterable[int], token: str, **values: Any) -> int:
        """Deliveries still claimed by `token` and not sent: their claim dropped and
        `values` set, in one UPDATE. Returns how many."""
        ids = list(deliveries)
        if not ids:
            return 0
        d = BroadcastDelivery
        result = await self.session.execute(
            update(d)
            .where(d.id.in_(ids), d.claim == token, d.status == "sending")
            .values(claim=None, **values)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount or 0

    async def status_of(self, broadcast: Broadcast | int) -> str | None:
        """The broadcast's status as stored now (None: no such broadcast)."""
        return await self.session.scalar(
            select(Broadcast.status).where(Broadcast.id == id_of(broadcast))
        )

    async def forget(self, user_key: str) -> int:
        """Delete a person's deliveries (she erased her data), taking them out of their
        broadcasts' counts. Returns how many."""
        d = BroadcastDelivery
        rows = list(
            await self.session.execute(
                select(d.broadcast_id, d.status).where(d.user_key == user_key)
            )
        )
        for broadcast_id, status in rows:
            change: dict[Any, Any] = {}
            if status != "skipped":
                change[Broadcast.total] = Broadcast.total - 1
            if status in COUNTED:
                column = getattr(Broadcast, COUNTED[status])
                change[column] = column - 1
            await self.session.execute(
                update(Broadcast)
                .where(Broadcast.id == broadcast_id)
                .values(change)
                .execution_options(synchronize_session=False)
            )
        await self.session.execute(delete(d).where(d.user_key == user_key))
        return len(rows)


def id_of(broadcast: Broadcast | int) -> int:
    """A broadcast's id, given it or its row."""
    return broadcast if isinstance(broadcast, int) else broadcast.id


# --- the pace, shared by every instance -------------------------------------------------
async def take_slots(
    session: AsyncSession, gate: str, wanted: int, rate: float, now: float, ahead: float
) -> float | None:
    """Reserve `wanted` send times on the platform's gate, `1/rate` seconds apart, for
    this caller: returns the first (seconds since the epoch; the others follow at
    1/rate), or None when the gate is already given out more than `ahead` seconds past
    `now` (wait, then ask again). Read and written in the caller's transaction, which
    on SQLite holds the write lock (BEGIN IMMEDIATE) and on PostgreSQL is serializable:
    two instances never get the same times."""
    if wanted <= 0:
        return now
    row = await session.get(SendGate, gate, populate_existing=True)
    if row is None:
        row = SendGate(name=gate, next_at=0.0)
        session.add(row)
        await session.flush()
    if row.next_at > now + ahead:
        return None
    first = max(row.next_at, now)
    row.next_at = first + wanted / rate
    await session.flush()
    return first


async def gate_opens(session: AsyncSession, gate: str) -> float:
    """When the gate's next free time is (seconds since the epoch; 0 for a new gate)."""
    row = await session.get(SendGate, gate, populate_existing=True)
    return row.next_at if row is not None else 0.0


async def hold_gate(session: AsyncSession, gate: str, until: float) -> None:
    """Give no send time before `until` (seconds since the epoch) to anyone: a platform
    asked to wait (Telegram's 429 `retry_after`)."""
    row = await session.get(SendGate, gate, populate_existing=True)
    if row is None:
        session.add(SendGate(name=gate, next_at=until))
    elif row.next_at < until:
        row.next_at = until
    await session.flush()


def slots_needed(rate: float, seconds: float) -> int:
    """How many messages fill `seconds` at `rate` a second (at least one)."""
    return max(1, math.ceil(rate * seconds))
