"""The help desk, staff's side (issue 13): the queue, taking, replying, releasing,
closing, and a ticket made into a catalogue entry.

Who sees what: programme admins every ticket (`base` None), a training base's staff the
tickets about her base (`Ticket.base_id`). The queue lists, in one query, the tickets
she holds, then the open ones (urgent first, then the oldest first), then those other
staff hold.

Two staff, on two instances too: every change is one conditional UPDATE that names the
state it expects (`status='open'` to take; `status='taken' AND holder=me` to reply or
release; not closed to close; `faq_key=''` to make a catalogue entry), so the second of
two is refused (False, None) and changes nothing. Each change is audited
(`AuditEntry`, subject `ticket:<id>`, actions `desk:take`, `desk:reply`,
`desk:release`, `desk:close`, `desk:catalogue`), without what she wrote.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry, Ticket, TicketMessage, User, utcnow

#: ticket statuses (`Ticket.status`)
OPEN, TAKEN, CLOSED = "open", "taken", "closed"
#: who wrote a message (`TicketMessage.author`)
ASKER, STAFF = "asker", "staff"
#: what `faq_key` holds while a catalogue entry is being made (within one transaction)
_CATALOGUING = "-"


@dataclass(frozen=True)
class QueueLine:
    """One line of the queue: the ticket and where it stands for the staff member
    looking (`group`: `mine`, `open` or `others`)."""

    ticket: Ticket
    group: str


class DeskRepo:
    """Tickets as programme and training-base staff work on them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- reading ---------------------------------------------------------------------
    @staticmethod
    def _scope(base: int | None) -> Any:
        """The tickets on the queue of staff of `base`: not closed, and of her base (None:
        an admin, every base)."""
        return (
            Ticket.status != CLOSED
            if base is None
            else and_(Ticket.status != CLOSED, Ticket.base_id == base)
        )

    async def queue(
        self, staff_key: str, base: int | None, *, offset: int = 0, limit: int = 8
    ) -> list[QueueLine]:
        """Her queue, one page: the tickets she holds (the oldest first), then the open
        ones (urgent first, then the oldest first), then those other staff hold; closed
        tickets never. `base`: her training base (None: an admin, every ticket)."""
        group = case(
            (and_(Ticket.status == TAKEN, Ticket.holder == staff_key), 0),
            (Ticket.status == OPEN, 1),
            else_=2,
        )
        urgent_first = case((and_(Ticket.status == OPEN, Ticket.urgent.is_(True)), 0), else_=1)
        rows = await self.session.execute(
            select(Ticket, group)
            .where(self._scope(base))
            .order_by(group, urgent_first, Ticket.created_at, Ticket.id)
            .offset(max(offset, 0))
            .limit(limit)
        )
        names = {0: "mine", 1: "open", 2: "others"}
        return [QueueLine(ticket, names[int(rank)]) for ticket, rank in rows]

    async def counts(self, staff_key: str, base: int | None) -> dict[str, int]:
        """How many tickets of her queue are hers (`mine`), open (`open`, of which
        `urgent`) and held by other staff (`others`)."""
        mine = and_(Ticket.status == TAKEN, Ticket.holder == staff_key)
        row = (
            await self.session.execute(
                select(
                    func.count(case((mine, 1))),
                    func.count(case((Ticket.status == OPEN, 1))),
                    func.count(case((and_(Ticket.status == OPEN, Ticket.urgent.is_(True)), 1))),
                    func.count(case((and_(Ticket.status == TAKEN, Ticket.holder != staff_key), 1))),
                ).where(self._scope(base))
            )
        ).one()
        return {"mine": row[0], "open": row[1], "urgent": row[2], "others": row[3]}

    async def get(self, ticket_id: int | str | None) -> Ticket | None:
        """One ticket, as it is in the database now; None for no such ticket (or an id
        that is no number)."""
        try:
            ident = int(str(ticket_id))
        except ValueError:
            return None
        if not 0 < ident < 2**63:
            return None
        return await self.session.get(Ticket, ident, populate_existing=True)

    async def by_reference(self, reference: str, base: int | None) -> Ticket | None:
        """The ticket of this reference (`Q-7K3QM`, any case) that staff of `base` may
        see, or None."""
        found = await self.session.scalar(
            select(Ticket).where(Ticket.reference == reference.strip().upper())
        )
        return found if found is not None and self.may_see(found, base) else None

    @staticmethod
    def may_see(ticket: Ticket, base: int | None) -> bool:
        """Whether staff of `base` (None: an admin) may see this ticket."""
        return base is None or ticket.base_id == base

    async def messages(self, ticket_id: int, last: int = 12) -> list[TicketMessage]:
        """The ticket's last `last` messages, oldest first."""
        rows = await self.session.scalars(
            select(TicketMessage)
            .where(TicketMessage.ticket_id == ticket_id)
            .order_by(TicketMessage.id.desc())
            .limit(last)
        )
        return list(reversed(list(rows)))

    async def count_messages(self, ticket_id: int) -> int:
        found = await self.session.scalar(
            select(func.count(TicketMessage.id)).where(TicketMessage.ticket_id == ticket_id)
        )
        return int(found or 0)

    async def last_staff_reply(self, ticket_id: int) -> TicketMessage | None:
        """The newest message staff wrote on it, or None."""
        return await self.session.scalar(
            select(TicketMessage)
            .where(TicketMessage.ticket_id == ticket_id, TicketMessage.author == STAFF)
            .order_by(TicketMessage.id.desc())
            .limit(1)
        )

    async def asker(self, ticket: Ticket) -> User | None:
        """The person who asked (None once she erased her data)."""
        return await self.session.get(User, ticket.asker_id)

    # --- changing ----------------------------------------------------------------------
    async def _change(self, ticket_id: int, where: Any, **values: Any) -> bool:
        """One conditional UPDATE of the ticket; True when it changed (it was as
        `where` says)."""
        result = await self.session.execute(
            update(Ticket)
            .where(Ticket.id == ticket_id, where)
            .values(updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]

    async def take(self, ticket_id: int, staff_key: str, base: int | None) -> bool:
        """She takes an open ticket (of her base, for a base's staff): False when it is
        no longer open (another took it first, on any instance) or not hers to see."""
        where = Ticket.status == OPEN
        if base is not None:
            where = and_(where, Ticket.base_id == base)
        now = utcnow()
        if not await self._change(ticket_id, where, status=TAKEN, holder=staff_key, taken_at=now):
            return False
        self._audit(ticket_id, staff_key, "desk:take", {"status": OPEN}, {"status": TAKEN})
        return True

    async def take_over(self, ticket_id: int, admin_key: str, holder: str) -> bool:
        """An admin takes a ticket `holder` holds (away, or no longer staff): one
        conditional UPDATE on that holder, so a release, close or another take-over
        meanwhile wins. False then."""
        where = and_(Ticket.status == TAKEN, Ticket.holder == holder, Ticket.holder != admin_key)
        now = utcnow()
        if not await self._change(ticket_id, where, holder=admin_key, taken_at=now):
            return False
        self._audit(
            ticket_id, admin_key, "desk:take_over", {"holder": holder}, {"holder": admin_key}
        )
        return True

    async def reply(self, ticket_id: int, staff_key: str, text: str) -> TicketMessage | None:
        """A staff message on a ticket she holds: the message, or None when the ticket
        is no longer hers (released, closed or held by another meanwhile): nothing is
        written then. Raises ValueError for an empty text."""
        text = (text or "").strip()
        if not text:
            raise ValueError("text")
        where = and_(Ticket.status == TAKEN, Ticket.holder == staff_key)
        if not await self._change(ticket_id, where):
            return None
        message = TicketMessage(ticket_id=ticket_id, author=STAFF, staff_key=staff_key, text=text)
        self.session.add(message)
        await self.session.flush()
        self._audit(ticket_id, staff_key, "desk:reply", {}, {"message": message.id})
        return message

    async def release(self, ticket_id: int, staff_key: str) -> bool:
        """She gives a ticket she holds back to the open queue; False when it is not
        hers (any more)."""
        where = and_(Ticket.status == TAKEN, Ticket.holder == staff_key)
        if not await self._change(ticket_id, where, status=OPEN, holder="", taken_at=None):
            return False
        self._audit(
            ticket_id, staff_key, "desk:release", {"status": TAKEN, "holder": staff_key}, {}
        )
        return True

    async def close(self, ticket_id: int, staff_key: str, *, any_holder: bool = False) -> bool:
        """Close a ticket she holds (`any_holder`: an admin, any ticket not closed yet);
        False when it was closed already or is not hers."""
        ticket = await self.get(ticket_id)
        if ticket is None:
            return False
        before = {"status": ticket.status, "holder": ticket.holder}
        where = Ticket.status != CLOSED
        if not any_holder:
            where = and_(Ticket.status == TAKEN, Ticket.holder == staff_key)
        now = utcnow()
        if not await self._change(
            ticket_id, where, status=CLOSED, closed_at=now, closed_by=staff_key
        ):
            return False
        self._audit(ticket_id, staff_key, "desk:close", before, {"status": CLOSED})
        return True

    async def claim_catalogue(self, ticket_id: int) -> bool:
        """Mark the ticket as being made into a catalogue entry, before the entry is
        written in the same transaction: False when it was made into one already (or is
        being made, on another instance). Follow with `catalogued` or, when the entry
        could not be made, `unclaim_catalogue`."""
        return await self._change(ticket_id, Ticket.faq_key == "", faq_key=_CATALOGUING)

    async def unclaim_catalogue(self, ticket_id: int) -> None:
        """The entry could not be made: the ticket may be made into one later."""
        await self._change(ticket_id, Ticket.faq_key == _CATALOGUING, faq_key="")

    async def catalogued(self, ticket_id: int, staff_key: str, faq_key: str) -> None:
        """Record the catalogue entry made from it (`FaqEntry.key`), audited."""
        await self._change(ticket_id, Ticket.faq_key == _CATALOGUING, faq_key=faq_key)
        self._audit(ticket_id, staff_key, "desk:catalogue", {}, {"faq": faq_key})

    def _audit(
        self,
        ticket_id: int,
        actor: str,
        action: str,
        before: dict[str, Any],
        after: dict[str, Any],
        now: dt.datetime | None = None,
    ) -> None:
        self.session.add(
            AuditEntry(
                subject=f"ticket:{ticket_id}",
                actor=actor,
                action=action,
                before=before,
                after=after,
                at=now or utcnow(),
            )
        )
