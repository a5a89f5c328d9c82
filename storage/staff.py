"""Staff roles (issue 12): programme admins come from `HAOXIN_ADMIN_IDS`; an admin makes
someone staff of one training base with a one-time invite that expires, and can revoke
it. The role lives on her row (`User.staff_base_id`), read with it on every event.

An invite's code is shown once, to the admin who made it; only its SHA-256 is kept.
Redeeming it is one conditional UPDATE (not used, not expired), so a code works once,
also when two people type it at the same moment on two instances. Every change is in
the audit log (who, when, what, before and after).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry, StaffInvite, Ticket, TrainingBase, User, utcnow
from storage.workers import new_code

#: how long an invite can be redeemed, hours
INVITE_HOURS = 48


def code_hash(code: str) -> str:
    """What is kept of an invite's code (as stored: `storage.workers.read_code`)."""
    return hashlib.sha256(f"staff-invite|{code}".encode()).hexdigest()


class InviteRefused(Exception):
    """An invite cannot be redeemed: `reason` is `unknown`, `used` or `expired`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class StaffMember:
    """One base's staff member, as the roles screen lists her."""

    user_id: int
    key: str
    base_id: int
    base_name: str


class StaffRepo:
    """Invites, redeeming them, the staff of each base, revoking; audited."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def bases(self) -> list[TrainingBase]:
        """Every training base, by name."""
        return list(await self.session.scalars(select(TrainingBase).order_by(TrainingBase.id)))

    async def base(self, base_id: int | None) -> TrainingBase | None:
        """One training base, or None."""
        return None if base_id is None else await self.session.get(TrainingBase, base_id)

    async def invite(
        self, base_id: int, admin_key: str, now: dt.datetime | None = None
    ) -> tuple[str, StaffInvite]:
        """A new invite for the base: (the code, to show once; the row). Raises
        LookupError when there is no such base."""
        now = now or utcnow()
        if await self.session.get(TrainingBase, base_id) is None:
            raise LookupError(base_id)
        code = new_code()
        row = StaffInvite(
            code_hash=code_hash(code),
            base_id=base_id,
            created_by=admin_key,
            created_at=now,
            expires_at=now + dt.timedelta(hours=INVITE_HOURS),
        )
        self.session.add(row)
        await self.session.flush()
        self._audit(admin_key, "staff:invite", f"base:{base_id}", {}, {"invite": row.id})
        return code, row

    async def redeem(self, user: User, code: str, now: dt.datetime | None = None) -> int:
        """She becomes staff of the invite's base: returns the base id. Raises
        `InviteRefused`. One conditional UPDATE: a code works once."""
        now = now or utcnow()
        row = await self.session.scalar(
            select(StaffInvite).where(StaffInvite.code_hash == code_hash(code))
        )
        if row is None:
            raise InviteRefused("unknown")
        result = await self.session.execute(
            update(StaffInvite)
            .where(
                StaffInvite.id == row.id,
                StaffInvite.used_at.is_(None),
                StaffInvite.expires_at > now,
            )
            .values(used_at=now, used_by=user.key)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise InviteRefused("used" if row.used_at is not None else "expired")
        before = {"base": user.staff_base_id}
        await self.session.flush()  # her row, if new
        if before["base"] is not None and before["base"] != row.base_id:
            await self._release_tickets(user.key)  # another base's: no longer hers to see
        user.staff_base_id = row.base_id
        self._audit(user.key, "staff:join", f"user:{user.id}", before, {"base": row.base_id})
        return row.base_id

    async def members(self, base_id: int | None = None) -> list[StaffMember]:
        """The base staff (of one base, or of all), by base then id."""
        stmt = (
            select(User.id, User.key, TrainingBase.id, TrainingBase.name)
            .join(TrainingBase, TrainingBase.id == User.staff_base_id)
            .order_by(TrainingBase.id, User.id)
        )
        if base_id is not None:
            stmt = stmt.where(User.staff_base_id == base_id)
        return [StaffMember(*row) for row in await self.session.execute(stmt)]

    async def revoke(self, user_id: int, admin_key: str) -> bool:
        """She is no longer base staff (from her next tap); the help-desk tickets she
        held are open again. False when she was not."""
        user = await self.session.get(User, user_id)
        if user is None or user.staff_base_id is None:
            return False
        before = {"base": user.staff_base_id}
        user.staff_base_id = None
        self._audit(admin_key, "staff:revoke", f"user:{user_id}", before, {"base": None})
        await self._release_tickets(user.key)
        await self.session.flush()
        return True

    async def _release_tickets(self, key: str) -> None:
        """The help-desk tickets `key` was answering go back to the open queue."""
        await self.session.execute(
            update(Ticket)
            .where(Ticket.holder == key, Ticket.status == "taken")
            .values(status="open", holder="", taken_at=None, updated_at=utcnow())
        )

    def _audit(self, actor: str, action: str, subject: str, before: dict, after: dict) -> None:
        self.session.add(
            AuditEntry(subject=subject, actor=actor, action=action, before=before, after=after)
        )
