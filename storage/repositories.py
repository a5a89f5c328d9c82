"""Repositories: the only place that talks to the database. One per aggregate.

Handlers get a `Repos` on their context (`ctx.repos.users.erase(user)`); the dispatcher
uses the same repositories to load users and record handled events in batches.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, delete, event, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from storage.broadcasts import BroadcastRepo
from storage.courses import CourseRepo, SignupRepo
from storage.fairs import FairRepo
from storage.faq import FaqRepo
from storage.files import FileRepo, FileStore
from storage.help_desk import DeskRepo
from storage.hiring import HiringRepo
from storage.models import (
    Course,
    JobFair,
    Outbox,
    ProblemReport,
    ProcessedEvent,
    Profile,
    SignedRequest,
    StoredFile,
    Ticket,
    TrainingBase,
    User,
    utcnow,
)
from storage.requests import RequestRepo
from storage.reviews import ReportRepo, ReviewRepo
from storage.search import SearchRepo
from storage.staff import StaffRepo
from storage.tickets import TicketRepo
from storage.workers import WorkerRepo

# The statements every batch or every sign-up sends, built once (building one costs
# more than running it on a local SQLite file)
_USERS = select(User).where(User.key.in_(bindparam("keys", expanding=True)))
# three IN lists, not one IN of (platform, user, update) rows: SQLite reads row values
# by scanning the whole table (a day of records), IN lists by searching its primary key;
# the few pairings asked for by neither event are dropped afterwards
_ANSWERED = select(
    ProcessedEvent.platform,
    ProcessedEvent.user_key,
    ProcessedEvent.update_id,
    ProcessedEvent.replies,
    ProcessedEvent.handled_at,
).where(
    ProcessedEvent.platform.in_(bindparam("platforms", expanding=True)),
    ProcessedEvent.user_key.in_(bindparam("users", expanding=True)),
    ProcessedEvent.update_id.in_(bindparam("updates", expanding=True)),
)


@cache
def _profile_upsert(dialect: str, columns: tuple[str, ...]) -> Any:
    """INSERT ... ON CONFLICT (user_id) DO UPDATE of these columns, for this dialect."""
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    values = {name: bindparam(name) for name in columns}
    return (
        insert(Profile)
        .values(user_id=bindparam("user_id"), **values)
        .on_conflict_do_update(index_elements=[Profile.user_id], set_=values)
        .execution_options(synchronize_session=False)
    )


class UserRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_keys(self, keys: Iterable[str]) -> dict[str, User]:
        """The users with these platform keys, in one query."""
        keys = list(set(keys))
        if not keys:
            return {}
        rows = await self.session.scalars(_USERS, {"keys": keys})
        return {u.key: u for u in rows}

    async def by_id(self, user_id: int | None) -> User | None:
        """A person by row id; None for no id (a side of a hire who erased her data)."""
        if user_id is None:
            return None
        return await self.session.get(User, user_id)

    async def get(self, key: str) -> User | None:
        return (await self.by_keys([key])).get(key)

    def new(self, key: str, lang: str) -> User:
        user = User(key=key, lang=lang, state="", form={}, screen_nonce=0, screen_buttons=[])
        self.session.add(user)
        return user

    async def set_reachable(self, key: str, reachable: bool) -> bool:
        """Record that the person blocked the bot (or came back). False if unknown."""
        user = await self.get(key)
        if user is None:
            return False
        user.reachable = reachable
        return True

    async def _unsent_about(self, user: User) -> None:
        """Drop the messages not yet sent to staff that quote her words: notices of her
        help-desk tickets (`ticket:<id>…`) and of her problem reports (`report:<id>`)."""
        if user.id is None:
            return
        tickets = await self.session.scalars(select(Ticket.id).where(Ticket.asker_id == user.id))
        reports = await self.session.scalars(
            select(ProblemReport.id).where(ProblemReport.reporter_id == user.id)
        )
        topics = [f"ticket:{n}" for n in tickets] + [f"report:{n}" for n in reports]
        for topic in topics:
            await self.session.execute(
                delete(Outbox).where(
                    Outbox.sent_at.is_(None),
                    or_(Outbox.topic == topic, Outbox.topic.like(f"{topic}:%")),
                )
            )

    async def erase(self, user: User) -> None:
        """Delete everything Haoxin holds about this person (PIPL art. 47; WeChat unfollow).

        The records of her handled updates stay until they are pruned (a day), with
        their replies cleared: without them a repeat or a replay of one of her earlier
        messages would be taken for a new person's first message and start a new
        conversation. They hold her platform key and update ids, nothing she said.

        Her stored files (certificate photos, cards) go with her row, and from disk once
        its deletion is flushed (`storage.files`).
        """
        names: list[str] = []
        if user.id is not None:
            found = await self.session.scalars(
                select(StoredFile.name).where(StoredFile.user_id == user.id)
            )
            names = list(found)
        await self.session.execute(
            update(ProcessedEvent)
            .where(ProcessedEvent.platform == user.platform, ProcessedEvent.user_key == user.key)
            .values(replies=None)
        )
        await self.session.run_sync(_write_queued)  # her messages of this transaction too
        await self.session.execute(delete(Outbox).where(Outbox.user_key == user.key))
        await self._unsent_about(user)
        await BroadcastRepo(self.session).forget(user.key)  # her deliveries, out of the counts
        rated = await ReviewRepo(self.session).rated_by(user)  # her reviews go with her
        await self.session.delete(user)
        await self.session.flush()
        await ReviewRepo(self.session).recount(rated)  # so the workers' ratings follow
        store: FileStore = getattr(self, "file_store", None) or FileStore.default()
        store.delete(names)


class EventRepo:
    """Which platform updates were handled, for whom, and what they were answered."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def answered(
        self, ids: Iterable[tuple[str, str, str]], replies_kept: dt.timedelta
    ) -> dict[tuple[str, str, str], list[Any]]:
        """The (platform, user key, update id) triples already handled, with their stored
        replies; replies older than `replies_kept` come back empty (a platform that still
        repeats the update then is answered with nothing, and nothing is handled twice)."""
        ids = list(set(ids))
        if not ids:
            return {}
        rows = await self.session.execute(
            _ANSWERED,
            {
                "platforms": list({p for p, _k, _u in ids}),
                "users": list({k for _p, k, _u in ids}),
                "updates": list({u for _p, _k, u in ids}),
            },
        )
        asked, oldest = set(ids), utcnow() - replies_kept
        return {
            (p, k, u): (r or []) if at >= oldest else []
            for p, k, u, r, at in rows
            if (p, k, u) in asked
        }

    async def record(self, handled: Iterable[tuple[str, str, str, list[Any] | None]]) -> None:
        """Note updates as handled, in one executemany: (platform, user key, update id,
        replies), replies only when the platform needs them again, else None (SQL NULL:
        the column is `JSON(none_as_null=True)`)."""
        now = utcnow()
        rows = [
            {"platform": p, "user_key": k, "update_id": u, "replies": r, "handled_at": now}
            for p, k, u, r in handled
        ]
        if rows:
            await self.session.execute(insert(ProcessedEvent), rows)

    async def prune(self, replies_kept: dt.timedelta, kept: dt.timedelta) -> int:
        """Clear replies older than `replies_kept`, delete records older than `kept`
        (wall-clock UTC); returns how many records were deleted."""
        now = utcnow()
        await self.session.execute(
            update(ProcessedEvent)
            .where(
                ProcessedEvent.handled_at < now - replies_kept, ProcessedEvent.replies.is_not(None)
            )
            .values(replies=None)
        )
        result = await self.session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.handled_at < now - kept)
        )
        return result.rowcount or 0


class SignedRequestRepo:
    """Signed platform requests (WeChat's timestamp and nonce), each accepted once."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_seen(
        self, platform: str, timestamp: str, nonce: str, digest: str
    ) -> bool | None:
        """True the first time this (timestamp, nonce) is seen; False when it was seen
        with the same `digest` (the platform retrying); None when it was seen with another
        digest (a replay with a new body: refuse it). Atomic across processes: the insert
        and the unique key decide, not a read before it."""
        inserted = await self.session.execute(
            _insert_ignore(self.session, SignedRequest).values(
                platform=platform, timestamp=timestamp, nonce=nonce, digest=digest, seen_at=utcnow()
            )
        )
        if inserted.rowcount:
            return True
        seen = await self.session.scalar(
            select(SignedRequest.digest).where(
                SignedRequest.platform == platform,
                SignedRequest.timestamp == timestamp,
                SignedRequest.nonce == nonce,
            )
        )
        return False if seen == digest else None

    async def prune(self, older_than: dt.timedelta) -> int:
        result = await self.session.execute(
            delete(SignedRequest).where(SignedRequest.seen_at < utcnow() - older_than)
        )
        return result.rowcount or 0


def _insert_ignore(session: AsyncSession, model: type) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING, in the dialect of the session's database."""
    if session.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(model).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(model).on_conflict_do_nothing()


_QUEUED = "haoxin.outbox_queued"  # Session.info key: messages to write at commit


@event.listens_for(Session, "before_commit")
def _write_queued(session: Session) -> None:
    """Write the messages queued in this transaction, in one executemany."""
    rows = session.info.pop(_QUEUED, None)
    if rows:
        session.connection().execute(insert(Outbox.__table__), rows)


@event.listens_for(Session, "after_transaction_end")
def _drop_queued(session: Session, transaction: Any) -> None:
    """A transaction rolled back takes its queued messages with it."""
    if transaction.parent is None:
        session.info.pop(_QUEUED, None)


class OutboxRepo:
    """Messages to send later, and how sending them went."""

    LEASE = dt.timedelta(minutes=5)

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def queued_since(self, topics: Iterable[str], since: dt.datetime) -> bool:
        """Whether a message of one of `topics` was queued at or after `since` (naive
        UTC), by any instance (an urgent alert already on its way)."""
        wanted = list(topics)
        if not wanted:
            return False
        found = await self.session.scalar(
            select(Outbox.id).where(Outbox.topic.in_(wanted), Outbox.created_at >= since).limit(1)
        )
        return found is not None

    def add(
        self,
        user_key: str,
        replies: list[Any],
        due_at: dt.datetime | None = None,
        *,
        topic: str | None = None,
    ) -> None:
        """Queue a message. It is written with the transaction's other messages in one
        executemany at commit (`_write_queued`), or before any statement that reads or
        changes the outbox: people confirming together share one INSERT (the ORM would
        insert them one by one, to learn each new id, which nothing here needs)."""
        self.session.info.setdefault(_QUEUED, []).append(
            {
                "user_key": user_key,
                "platform": user_key.split(":", 1)[0],
                "replies": replies,
                "due_at": due_at or utcnow(),
                "topic": topic,
            }
        )

    async def write_queued(self) -> None:
        """Write the messages queued in this transaction now."""
        await self.session.run_sync(_write_queued)

    async def withdraw(self, user_key: str, topic: str) -> int:
        """Drop messages about `topic` not yet sent to this person (a reminder for a
        course she cancelled, or one that moved)."""
        await self.write_queued()
        result = await self.session.execute(
            delete(Outbox).where(
                Outbox.user_key == user_key, Outbox.topic == topic, Outbox.status == "pending"
            )
        )
        return result.rowcount or 0

    async def claim(
        self, platforms: Iterable[str], limit: int = 50, user: str | None = None
    ) -> tuple[str, list[Outbox]]:
        """Due messages for these platforms, leased to the caller for `LEASE`, with the
        claim token that marks them as the caller's: `(token, rows)`, rows in the order
        to send them.

        One conditional UPDATE writes the token (atomic on SQLite and PostgreSQL alike;
        `SKIP LOCKED` does nothing on SQLite), then only rows carrying it are read. A
        person's messages go out in the order they were written: a message is not
        claimed while an earlier one of hers is being sent, is due, or waits for a
        retry. A lease that runs out (the sender died) makes the message due again;
        a sender renews its lease (`renew`) right before each send, so a message it
        delivered is not sent again by another."""
        await self.write_queued()
        now = utcnow()
        token = secrets.token_hex(8)
        earlier = aliased(Outbox)
        due_now = or_(
            and_(Outbox.status == "pending", Outbox.due_at <= now),
            and_(Outbox.status == "sending", Outbox.due_at <= now),
        )
        held_back = (
            select(earlier.id)
            .where(
                earlier.user_key == Outbox.user_key,
                earlier.id < Outbox.id,
                or_(
                    earlier.status == "sending",
                    and_(
                        earlier.status == "pending",
                        or_(earlier.due_at <= now, earlier.attempts > 0),
                    ),
                ),
            )
            .exists()
        )
        due = (
            select(Outbox.id)
            .where(Outbox.platform.in_(list(platforms)), due_now, ~held_back)
            .order_by(Outbox.due_at, Outbox.id)
            .limit(limit)
        )
        if user is not None:
            due = due.where(Outbox.user_key == user)
        ids = list(await self.session.scalars(due))
        if not ids:
            return token, []
        await self.session.execute(
            update(Outbox)
            .where(Outbox.id.in_(ids), due_now)
            .values(
                status="sending",
                claim=token,
                attempts=Outbox.attempts + 1,
                due_at=now + self.LEASE,
            )
            .execution_options(synchronize_session=False)
        )
        rows = await self.session.scalars(
            select(Outbox)
            .where(Outbox.claim == token)
            .order_by(Outbox.id)
            .execution_options(populate_existing=True)
        )
        return token, list(rows)

    async def renew(self, message_id: int, token: str) -> bool:
        """Extend the lease right before sending; False when the claim was lost (the
        lease ran out and another notifier took the message): then do not send it."""
        result = await self.session.execute(
            update(Outbox)
            .where(Outbox.id == message_id, Outbox.claim == token, Outbox.status == "sending")
            .values(due_at=utcnow() + self.LEASE)
        )
        return result.rowcount == 1

    async def release(self, message_id: int, token: str) -> None:
        """Give a claimed message back unsent (an earlier one of hers failed first)."""
        await self.session.execute(
            update(Outbox)
            .where(Outbox.id == message_id, Outbox.claim == token, Outbox.status == "sending")
            .values(status="pending", claim=None, due_at=utcnow(), attempts=Outbox.attempts - 1)
        )

    async def settle(
        self,
        message_id: int,
        token: str,
        status: str,
        error: str = "",
        retry_in: dt.timedelta | None = None,
    ) -> None:
        """Record how sending went, if the caller still holds the claim."""
        row = await self.session.get(Outbox, message_id)
        if row is None or row.claim != token:  # erased meanwhile, or another took it
            return
        row.error = error[:120]
        row.claim = None
        if retry_in is not None:
            row.status, row.due_at = "pending", utcnow() + retry_in
            return
        row.status = status
        if status == "sent":
            row.sent_at = utcnow()

    async def by_user(self, user_key: str) -> list[Outbox]:
        await self.write_queued()
        return list(
            await self.session.scalars(
                select(Outbox).where(Outbox.user_key == user_key).order_by(Outbox.id)
            )
        )


class ProfileRepo:
    """What a person told us at sign-up, to fill in her next form."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of(self, user: User) -> Profile | None:
        if user.id is None:  # a newcomer whose row is not written yet: nothing kept
            return None
        return await self.session.get(Profile, user.id)

    async def save(self, user: User, **values: Any) -> None:
        """Keep these answers (column name → value) for her next form: one statement,
        inserted or updated (`INSERT ... ON CONFLICT DO UPDATE`, SQLite and PostgreSQL)."""
        dialect = self.session.bind.dialect.name if self.session.bind else "sqlite"
        await self.session.execute(
            _profile_upsert(dialect, tuple(sorted(values))), {"user_id": user.id, **values}
        )
        if (kept := self.session.identity_map.get(identity_key(Profile, user.id))) is not None:
            for name, value in values.items():  # a copy loaded earlier in this transaction
                set_committed_value(kept, name, value)


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

    def __init__(self, session: AsyncSession, files: FileStore | None = None) -> None:
        """`files`: where stored files are on disk (`Settings.file_store`; else
        `FileStore.default`)."""
        self.session = session
        store = files or FileStore.default()
        self.files = FileRepo(session, store)
        self.users = UserRepo(session)
        self.users.file_store = store  # type: ignore[attr-defined]  # erasing deletes her files
        self.events = EventRepo(session)
        self.signed = SignedRequestRepo(session)
        self.catalog = CatalogRepo(session)
        self.outbox = OutboxRepo(session)
        self.profiles = ProfileRepo(session)
        self.courses = CourseRepo(session)
        self.signups = SignupRepo(session)
        self.search = SearchRepo(session)
        self.fairs = FairRepo(session)
        self.workers = WorkerRepo(session, store)
        self.requests = RequestRepo(session)
        self.hiring = HiringRepo(session)
        self.staff = StaffRepo(session)
        self.broadcasts = BroadcastRepo(session)
        self.reviews = ReviewRepo(session)
        self.reports = ReportRepo(session)
        self.faq = FaqRepo(session)
        self.tickets = TicketRepo(session)
        self.desk = DeskRepo(session)
