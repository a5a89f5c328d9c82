"""The dispatcher: carries events from transports to the conversation core.

- Events from one user are handled one at a time and in order (a lock per user, held
  until the transport has delivered the replies); different users go in parallel.
- Events waiting at the same moment share one database transaction (group commit): one
  query loads their users, one checks for repeats, one statement records them, one
  writes their rows, one commit saves them all. Alone, an event is not held back to wait
  for company; with many waiting, a batch takes as many as fit in `BATCH_BUDGET` at the
  recent time per event, so no one waits long on a big batch's commit.
- A user's state, form and the record that the event was handled are written in the
  same transaction as the handler's changes: a crash loses nothing half-done.
- A repeated (platform, person, update id) is not handled again; a platform that needs
  the same replies again (`Event.replayed`: WeChat's passive reply to a retried
  message) gets the replies stored the first time; others get none, so nothing is
  stored for them.
  Stored replies are kept for `REPLIES_KEPT` (WeChat retries for 15 s), the record of
  the update for a day; both are pruned by wall-clock time.
- Staff actions need a verified sender (`Event.verified`): a WeChat plaintext request,
  whose signature does not cover the body, never acts as an admin.
- Each screen's buttons carry a fresh random nonce; the issued data is kept with the
  person's state, and the core accepts only presses of exactly that data.
- Every transaction reads and writes one consistent snapshot (SQLite: BEGIN IMMEDIATE;
  PostgreSQL: SERIALIZABLE, run again on a serialization failure), so two processes on
  one database never act on stale reads.
- Chores done by the clock (`handlers.chores`: interviews that went unanswered expire,
  jobs past their end date ask for reviews, newly verified workers are offered to open
  requests) run every `CHORES_EVERY` seconds beside the pruning, in a transaction of
  their own; one that fails is logged (without anyone's data) and tried at the next
  turn, and people's events never wait for it beyond its own short transaction.
- A spreadsheet sent as a file (a staff import) is read before its event joins a
  transaction, one at a time (`read_spreadsheet`): reading a 5 MB workbook takes
  seconds, which no one else's conversation waits for.
- If one event's handling fails, the rest of its batch runs again together and that
  event alone, so one bad event cannot take others down (nor slow them: a person
  typing something a handler trips on costs one extra transaction, not one per
  person); an event that still fails gets an apology in its language, and the user's
  state stays as it was.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.logs import log_failure as _log_failure
from handlers import FLOWS
from handlers.chores import run_chores
from handlers.context import NONCE_SPACE, Ctx
from handlers.conversation import converse
from handlers.events import Event
from handlers.my_signups import erase_person
from handlers.replies import Reply
from handlers.router import Flows
from locales import detect_language, translator
from storage.db import Database
from storage.models import User, utcnow
from storage.repositories import Repos
from storage.tabular import MAX_BYTES, TableError, read_bytes

log = logging.getLogger(__name__)

TRIES = 3  # runs of a transaction that conflicted with another process's
ERASE_TRIES = 10  # an unfollow is not repeated by anyone if it is lost: more runs
PRUNE_EVERY = 10.0  # seconds between prunes, busy or idle
REPLIES_KEPT = dt.timedelta(seconds=30)  # WeChat retries within 15 s; a margin on top
RECORDS_KEPT = dt.timedelta(days=1)  # Telegram re-delivers unacknowledged updates for a day
SIGNED_REQUESTS_KEPT = dt.timedelta(minutes=15)  # beyond the freshness window (bot.wechat)
BATCH_BUDGET = 0.016  # seconds of handling one transaction's batch aims at (see _batch_limit)
LAST_SEEN_EVERY = dt.timedelta(hours=1)  # `last_seen_at` is kept to the hour, not written per event
CHORES_EVERY = 60.0  # seconds between chores passes (`handlers.chores`)


@dataclass(slots=True)
class Handled:
    """What became of an event: its replies, and whether it was a repeat."""

    replies: list[Reply]
    repeat: bool = False


Deliver = Callable[[Handled], Awaitable[None]]


@dataclass(slots=True)
class _Job:
    event: Event
    future: asyncio.Future[Handled]
    lang: str = field(default="")


class Dispatcher:
    """One per process. `await dispatcher.handle(event, deliver)` from any transport."""

    def __init__(self, db: Database, settings: Settings, flows: Flows = FLOWS) -> None:
        self.db = db
        self.settings = settings
        self.flows = flows
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._janitor: asyncio.Task[None] | None = None
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._pruned_at = 0.0
        # when the last chores pass started (time.time()): the first comes a full
        # `CHORES_EVERY` after the first event, not at once
        self._chores_at = time.time()
        self._per_event = 0.0  # seconds, a moving average of the handling time per event
        self.options = settings.options()
        self.files = settings.file_store()  # where stored files are (`storage.files`)
        self._reading = asyncio.Semaphore(1)  # spreadsheets sent as files, one at a time

    # --- the transports' side -----------------------------------------------------------
    async def handle(self, event: Event, deliver: Deliver | None = None) -> Handled:
        """Handle one event; `deliver` sends the replies before the user's next event runs."""
        async with self._user_turn(event.user):
            event = await read_spreadsheet(event, self._reading)
            future: asyncio.Future[Handled] = asyncio.get_running_loop().create_future()
            self._ensure_writer()
            self._queue.put_nowait(_Job(event, future))
            handled = await future
            if deliver is not None:
                await deliver(handled)
            return handled

    async def forget(
        self, user: str, guard: Callable[[Repos], Awaitable[bool | None]] | None = None
    ) -> bool | None:
        """Erase a person's data outside a conversation (WeChat unfollow), in turn with
        her events. `guard` runs first in the same transaction (WeChat records the
        request's signed nonce there): True goes on, False (the same request again)
        erases nothing, None (a replay) too and is returned as None. Otherwise returns
        whether Haoxin held anything about her. A conflict with another process runs it
        again (`Database.transaction`)."""

        async def erase(session: AsyncSession) -> bool | None:
            repos = Repos(session, self.files)
            if guard is not None:
                verdict = await guard(repos)
                if not verdict:
                    return verdict
            person = await repos.users.get(user)
            if person is None:
                return False
            await erase_person(repos, person, self.options)
            return True

        # run again on a conflict with another process, as every handling transaction
        # is: an unfollow must not be lost because someone else was writing
        async with self._user_turn(user):
            erased = await self.db.transaction(erase, tries=ERASE_TRIES)
        if erased:
            self.db.erased()
        return erased

    def start(self) -> None:
        """Start the background work (the writer, pruning and chores) now, not at the
        first event: after a restart, unanswered interviews expire and offers go out
        even before anyone writes. Each transport calls it once it serves
        (`bot.app.warm_up`)."""
        self._ensure_writer()

    async def run_chores(self, now: dt.datetime | None = None) -> dict[str, int]:
        """One chores pass now (`handlers.chores.run_chores`), in a transaction of its
        own, run again on a conflict with another process: how many interviews expired,
        hires finished and requests were offered a newly verified worker. `now`: naive
        UTC, the clock by default. Raises what the pass raised."""

        async def chores(session: AsyncSession) -> dict[str, int]:
            return await run_chores(Repos(session, self.files), self.options, now)

        return await self.db.transaction(chores, tries=TRIES)

    async def close(self) -> None:
        for task in (self._writer, self._janitor):
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        self._writer = self._janitor = None

    @asynccontextmanager
    async def _user_turn(self, user: str):  # type: ignore[no-untyped-def]
        lock, users = self._locks.get(user) or (asyncio.Lock(), 0)
        self._locks[user] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[user]
            if users <= 1:
                del self._locks[user]
            else:
                self._locks[user] = (lock, users - 1)

    # --- the writer: one transaction per batch of waiting events --------------------
    def _ensure_writer(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_forever(), name="haoxin-writer")
        if self._janitor is None or self._janitor.done():
            self._janitor = asyncio.create_task(self._prune_forever(), name="haoxin-janitor")

    async def _prune_forever(self) -> None:
        """Prune while idle too: stored replies must not outlive their use. Chores
        (`_chores`) every `CHORES_EVERY` seconds, busy or idle."""
        while True:
            await asyncio.sleep(PRUNE_EVERY)
            if abs(time.time() - self._pruned_at) >= PRUNE_EVERY:
                await self._prune()
            if abs(time.time() - self._chores_at) >= CHORES_EVERY:
                await self._chores()

    async def _write_forever(self) -> None:
        while True:
            batch = [await self._queue.get()]
            limit = self._batch_limit()
            while len(batch) < limit and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            started = time.perf_counter()
            try:
                await self._run(batch)
            except Exception as exc:  # never leave a transport waiting for an answer
                _log_failure(f"the writer failed on a batch of {len(batch)} events", exc)
                for job in batch:
                    if not job.future.done():
                        job.future.set_result(Handled([]))
            each = (time.perf_counter() - started) / len(batch)
            self._per_event += (each - self._per_event) * 0.2
            if abs(time.time() - self._pruned_at) > PRUNE_EVERY:
                await self._prune()

    def _batch_limit(self) -> int:
        """How many waiting events the next transaction takes: as many as fit in
        `BATCH_BUDGET` at the recent time per event, between 1 and `batch_size`. Everyone
        in a batch waits for its one commit, so a batch is kept short: a bigger one adds
        little throughput but makes each of them wait longer."""
        fits = int(BATCH_BUDGET / max(self._per_event, 1e-6))
        return max(1, min(self.settings.batch_size, fits))

    async def _run(self, batch: list[_Job]) -> None:
        """Handle the batch in one transaction. When one event's handling fails, the
        others run again together without it, and it runs alone (an apology if it fails
        again); a failure that is no one event's (the database) has each event run
        alone."""
        outcome: dict[int, Handled] = {}
        pending = list(batch)
        while pending:
            try:
                outcome.update(zip(map(id, pending), await self._retrying(pending), strict=True))
                break
            except _EventFailed as failed:
                pending.remove(failed.job)
                outcome[id(failed.job)] = await self._alone(failed.job)
            except Exception as exc:
                _log_failure(f"a batch of {len(pending)} events failed; retrying one by one", exc)
                for job in pending:
                    outcome[id(job)] = await self._alone(job)
                break
        for job in batch:
            if not job.future.done():
                job.future.set_result(outcome[id(job)])

    async def _alone(self, job: _Job) -> Handled:
        """One event in a transaction of its own; if it fails again, an apology in her
        language, and her state as it was."""
        try:
            return (await self._retrying([job]))[0]
        except Exception as exc:
            cause = exc.__cause__ if isinstance(exc, _EventFailed) else exc
            _log_failure("an event failed; the user's state is kept", cause or exc)
            return Handled([_apology(job)])

    async def _retrying(self, batch: list[_Job]) -> list[Handled]:
        """The batch's transaction, run again (up to `TRIES` times) when the database
        says it conflicted with another process's (PostgreSQL's serialization failure,
        SQLite's busy timeout): nothing of a failed try was kept, so it is safe."""

        async def handle(session: AsyncSession) -> tuple[list[Handled], bool]:
            return await self._transaction(session, batch)

        results, erased = await self.db.transaction(handle, tries=TRIES)
        if erased:
            self.db.erased()
        return results

    async def _transaction(
        self, session: AsyncSession, batch: list[_Job]
    ) -> tuple[list[Handled], bool]:
        """The batch handled in `session`'s transaction: the replies of each event, and
        whether someone's data was erased."""
        erased = False
        repos = Repos(session, self.files)
        ids = [_record_key(j.event) for j in batch if j.event.update_id]
        answered = await repos.events.answered(ids, REPLIES_KEPT)
        users = await repos.users.by_keys(j.event.user for j in batch)
        results: list[Handled] = []
        records: list[tuple[str, str, str, list[Any] | None]] = []
        for job in batch:
            ev = job.event
            key = _record_key(ev)
            if ev.update_id and key in answered:
                results.append(Handled([Reply.from_dict(r) for r in answered[key]], True))
                continue
            user = users.get(ev.user) or repos.users.new(ev.user, detect_language(ev.lang_hint))
            users[ev.user] = user
            job.lang = user.lang
            try:
                replies, deleted = await self._converse(ev, user, repos)
            except Exception as exc:
                if self.db.retryable(exc):  # the database, not her event: run again
                    raise
                raise _EventFailed(job) from exc
            if deleted:
                del users[ev.user]
                erased = True
            if ev.update_id:
                stored = [r.to_dict() for r in replies] if ev.replayed else None
                records.append((ev.platform, ev.user, ev.update_id, stored))
                answered[key] = stored or []
            results.append(Handled(replies))
        await repos.events.record(records)
        return results, erased

    async def _converse(self, ev: Event, user: User, repos: Repos) -> tuple[list[Reply], bool]:
        ctx = Ctx(
            event=ev,
            user=user,
            _=translator(user.lang),
            repos=repos,
            flows=self.flows,
            is_admin=ev.verified and self.settings.is_admin(ev.user),
            options=self.options,
            nonce=_fresh_nonce(user.screen_nonce),
        )
        state_before = user.state
        replies = await converse(ctx)
        if ctx.deleted:
            return replies, True
        buttons = [[b.label, b.data] for r in replies for b in r.flat_buttons()]
        if buttons or user.state != state_before:
            user.screen_nonce = ctx.nonce
            user.screen_buttons = buttons
        now = utcnow()
        if user.last_seen_at is None or now - user.last_seen_at >= LAST_SEEN_EVERY:
            user.last_seen_at = now
        if not user.reachable:
            user.reachable = True
        return replies, False

    async def _prune(self) -> None:
        self._pruned_at = time.time()
        try:
            async with self.db.sessions() as session, session.begin():
                repos = Repos(session, self.files)
                await repos.events.prune(REPLIES_KEPT, RECORDS_KEPT)
                await repos.signed.prune(SIGNED_REQUESTS_KEPT)
        except Exception as exc:
            _log_failure("pruning handled events failed", exc)

    async def _chores(self) -> None:
        """A chores pass; a failure is logged without its text (it may quote a person's
        data) and the next pass tries again."""
        self._chores_at = time.time()
        try:
            counts = await self.run_chores()
        except Exception as exc:
            _log_failure("a chores pass failed", exc)
            return
        if any(counts.values()):
            log.info("chores: %s", ", ".join(f"{k} {n}" for k, n in counts.items()))


class _EventFailed(Exception):
    """Handling this job's event raised (the cause): the transaction is rolled back."""

    def __init__(self, job: _Job) -> None:
        super().__init__()
        self.job = job


def _record_key(ev: Event) -> tuple[str, str, str]:
    """What identifies one message of one person on one platform."""
    return (ev.platform, ev.user, ev.update_id or "")


def _fresh_nonce(previous: int) -> int:
    """A random nonce for the next screen's buttons, never the previous one again."""
    while (nonce := secrets.randbelow(NONCE_SPACE)) == previous:
        pass
    return nonce


def _apology(job: _Job) -> Reply:
    _ = translator(job.lang or detect_language(job.event.lang_hint))
    return Reply(_("Sorry, something went wrong on our side. Please try again in a moment."))


async def read_spreadsheet(event: Event, one_at_a_time: asyncio.Semaphore) -> Event:
    """The event, with its attachment's `table` read if it is a spreadsheet document
    (named .csv or .xlsx, or a zip archive, within `storage.tabular.MAX_BYTES`): a
    `Table`, or the `TableError` reading it raised. Anything else is returned as it is
    (the handler reads it, or refuses it). Read in a thread, holding `one_at_a_time`
    (each takes up to a few seconds of CPU)."""
    att = event.attachment
    if att is None or att.kind != "document" or not att.data or att.table is not None:
        return event
    if len(att.data) > MAX_BYTES:
        return event
    name = att.name or "file"
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in ("csv", "xlsx"):
        if not att.data.startswith(b"PK\x03\x04"):
            return event
        name += ".xlsx"
    async with one_at_a_time:
        try:
            table: Any = await asyncio.to_thread(read_bytes, att.data, name)
        except TableError as err:
            table = err
    return dataclasses.replace(event, attachment=dataclasses.replace(att, table=table))
