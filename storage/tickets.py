"""Help-desk tickets, the asker's side (issue 13): opening one, her tickets, her messages.

A ticket is a question for a person at the programme office (`Ticket`), with its
conversation (`TicketMessage`, oldest first; the question itself is the first `asker`
message). References look like `Q-7K3QM`: `REFERENCE_LENGTH` characters of
`storage.reviews.REFERENCE_ALPHABET` (no look-alikes), at random, unique (drawn again
when taken).

Everything here is about one person's own tickets: every read and write names her
(`asker`), so another person's ticket id finds nothing. Her messages are added only
while the ticket is not closed, decided by one conditional UPDATE: staff closing it on
another instance at the same moment wins cleanly (her message is then not added, and
she is told). Her tickets go with her row (`tickets.asker_id` and
`ticket_messages.ticket_id` cascade on delete).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import reviews
from storage.models import Course, Signup, Ticket, TicketMessage, User, utcnow

#: the longest question or message she may send, characters
MAX_QUESTION = 1000
#: statuses: waiting for staff, held by one of them (`Ticket.holder`), done
OPEN, TAKEN, CLOSED = "open", "taken", "closed"
#: a ticket still going on: a new question of hers joins it
GOING_ON = (OPEN, TAKEN)
_REFERENCE_TRIES = 8


def new_reference() -> str:
    """A fresh ticket reference, `Q-` and random characters (`storage.reviews`)."""
    return reviews.new_reference("Q-")


def _checked(text: str) -> str:
    text = (text or "").strip()
    if not text or len(text) > MAX_QUESTION:
        raise ValueError("text")
    return text


class TicketRepo:
    """Tickets as the person who asked sees them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open(
        self,
        asker: User,
        question: str,
        context: dict[str, Any],
        *,
        base_id: int | None = None,
        urgent: bool = False,
    ) -> Ticket:
        """A new `open` ticket with a fresh reference and the question as its first
        message. `context` is kept as given (the shape in `handlers.ask`). Raises
        `ValueError` for a question that is empty or longer than `MAX_QUESTION`.
        The caller checks first that she has no ticket going on (`current`)."""
        question = _checked(question)
        for _ in range(_REFERENCE_TRIES):
            reference = new_reference()
            if await self.session.scalar(select(exists().where(Ticket.reference == reference))):
                continue
            now = utcnow()
            ticket = Ticket(
                reference=reference,
                asker_id=asker.id,
                base_id=base_id,
                question=question,
                context=context,
                urgent=urgent,
                status=OPEN,
                created_at=now,
                updated_at=now,
            )
            try:
                async with self.session.begin_nested():  # another took it meanwhile
                    self.session.add(ticket)
                    await self.session.flush()
            except IntegrityError:
                continue
            self.session.add(
                TicketMessage(ticket_id=ticket.id, author="asker", text=question, created_at=now)
            )
            await self.session.flush()
            return ticket
        raise RuntimeError("no free ticket reference")  # pragma: no cover

    async def mine(self, asker: User, limit: int = 20) -> list[Ticket]:
        """Her tickets, newest first, at most `limit`."""
        found = await self.session.scalars(
            select(Ticket)
            .where(Ticket.asker_id == asker.id)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(limit)
            .execution_options(populate_existing=True)
        )
        return list(found)

    async def get(self, asker: User, ticket_id: int | str | None) -> Ticket | None:
        """One of her tickets by id; None when it is not hers, gone, or the id is not a
        number (a forged button)."""
        try:
            wanted = int(str(ticket_id))
        except ValueError:
            return None
        if not 0 < wanted < 2**63:  # no row has it (and SQLite takes no larger number)
            return None
        return await self.session.scalar(
            select(Ticket)
            .where(Ticket.id == wanted, Ticket.asker_id == asker.id)
            .execution_options(populate_existing=True)
        )

    async def current(self, asker: User) -> Ticket | None:
        """Her ticket going on (`open` or `taken`), the newest if somehow several."""
        return await self.session.scalar(
            select(Ticket)
            .where(Ticket.asker_id == asker.id, Ticket.status.in_(GOING_ON))
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(1)
            .execution_options(populate_existing=True)
        )

    async def messages(self, ticket: Ticket) -> list[TicketMessage]:
        """The ticket's conversation, oldest first (hers and staff's)."""
        found = await self.session.scalars(
            select(TicketMessage)
            .where(TicketMessage.ticket_id == ticket.id)
            .order_by(TicketMessage.created_at, TicketMessage.id)
        )
        return list(found)

    async def add_message(
        self, asker: User, ticket_id: int, text: str, *, urgent: bool = False
    ) -> Ticket | None:
        """Add her message to her ticket while it is not closed: one conditional UPDATE
        decides (a close by staff on another instance wins cleanly), then the message
        is written. `urgent` marks the ticket urgent too (never unmarks it) and the programme
        office's (`base_id` None). Returns the
        ticket as it is now, or None when it is closed, not hers or gone (nothing is
        written). Raises `ValueError` for an empty or too long text."""
        text = _checked(text)
        now = utcnow()
        values: dict[str, Any] = {"updated_at": now}
        if urgent:  # a safety report: the programme office's, no longer a base's
            values["urgent"] = True
            values["base_id"] = None
            # a base's staff member holding it can no longer see it: back to the queue,
            # where admins see it first
            await self.session.execute(
                update(Ticket)
                .where(
                    Ticket.id == ticket_id,
                    Ticket.asker_id == asker.id,
                    Ticket.status == TAKEN,
                    Ticket.base_id.is_not(None),
                )
                .values(status=OPEN, holder="", taken_at=None)
            )
        result = await self.session.execute(
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.asker_id == asker.id, Ticket.status != CLOSED)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        self.session.add(
            TicketMessage(ticket_id=ticket_id, author="asker", text=text, created_at=now)
        )
        await self.session.flush()
        return await self.get(asker, ticket_id)

    async def close(self, asker: User, ticket_id: int) -> Ticket | None:
        """She closes her own ticket (it is answered): one conditional UPDATE. Returns
        the ticket as it is now (`holder` is kept: who held it, to tell them), or None
        when it was closed already, not hers or gone."""
        now = utcnow()
        result = await self.session.execute(
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.asker_id == asker.id, Ticket.status != CLOSED)
            .values(status=CLOSED, closed_at=now, closed_by=asker.key, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return await self.get(asker, ticket_id)

    # --- counts for the flood limits ------------------------------------------------------
    async def opened_since(self, asker: User, since: dt.datetime) -> int:
        """How many tickets she opened since `since` (naive UTC)."""
        found = await self.session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.asker_id == asker.id, Ticket.created_at >= since)
        )
        return int(found or 0)

    async def messages_since(self, asker: User, since: dt.datetime) -> int:
        """How many messages she sent the office since `since` (naive UTC): the
        questions that opened tickets and everything she added."""
        found = await self.session.scalar(
            select(func.count())
            .select_from(TicketMessage)
            .join(Ticket, Ticket.id == TicketMessage.ticket_id)
            .where(
                Ticket.asker_id == asker.id,
                TicketMessage.author == "asker",
                TicketMessage.created_at >= since,
            )
        )
        return int(found or 0)

    # --- context --------------------------------------------------------------------------
    async def latest_base(self, asker: User) -> int | None:
        """The training base of the course of her latest sign-up (any status), or None
        when she never signed up: a question is about that base, its staff may see it."""
        return await self.session.scalar(
            select(Course.base_id)
            .join(Signup, Signup.course_id == Course.id)
            .where(Signup.user_id == asker.id)
            .order_by(Signup.created_at.desc(), Signup.id.desc())
            .limit(1)
        )
