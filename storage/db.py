"""The database: engine, sessions and bringing the schema up to date.

SQLite-only tuning lives here and nowhere else: WAL journal, synchronous=NORMAL (safe
with WAL: a power cut may lose the last commits but never corrupts), a busy timeout,
foreign keys on, and `secure_delete` on, so deleted rows are overwritten with zeros
instead of lingering in free space (some SQLite builds turn it on by default; we do not
rely on that). After a person's data is erased, `erased()` checkpoints the WAL and
truncates it in the background, so her bytes are gone from every file. Any SQLAlchemy
async URL works (`postgresql+asyncpg://...`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from storage.sqlite_inline import STATEMENT_BUSY_MS, connector
from storage.sqlite_inline import Connection as InlineConnection

log = logging.getLogger(__name__)
T = TypeVar("T")

MIGRATIONS = Path(__file__).parent / "migrations"
CHECKPOINT_PAUSE = 5.0  # seconds, the longest pause between tries of a WAL checkpoint
BUSY_TIMEOUT_MS = 5000


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={_statement_busy_ms(dbapi_connection)}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()
    # the driver would begin a transaction only at the first write, so the reads before
    # it would see other connections' commits: Haoxin begins every transaction itself
    dbapi_connection.isolation_level = None


def _statement_busy_ms(dbapi_connection: Any) -> int:
    """How long one statement may wait for a lock: briefly when it runs on the event
    loop's thread (BEGIN then waits asynchronously, `storage.sqlite_inline`), the whole
    `BUSY_TIMEOUT_MS` in aiosqlite's thread."""
    driver = getattr(dbapi_connection, "_connection", dbapi_connection)  # SQLAlchemy's adapter
    return STATEMENT_BUSY_MS if isinstance(driver, InlineConnection) else BUSY_TIMEOUT_MS


def _begin_immediate(conn: Any) -> None:
    """Every SQLite transaction takes the write lock when it begins (BEGIN IMMEDIATE):
    what it reads and what it writes are one consistent snapshot, so a check-then-act
    ("is she seated? free the seat, promote the next") cannot run on stale reads when
    two processes share the file. Other writers wait (busy_timeout), readers never do
    (WAL)."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class HeldSession(Session):
    """A session whose autoflush leaves changes to rows of a `flush_at_commit` model
    (the person's own row: her state, form and screen change on nearly every event)
    for the flush at commit, as long as nothing else is pending: a query in between
    does not write her row again, and a batch writes each row once. Anything else
    pending (a new row, a changed sign-up, a deletion) is flushed as usual, her row with
    it, so what every query sees is unchanged except that one row (which no flow reads
    back within its own event: `UserRepo.by_keys` runs before any change)."""

    def _autoflush(self) -> None:
        if self.new or self.deleted:
            super()._autoflush()
            return
        for obj in self.dirty:
            if not getattr(type(obj), "flush_at_commit", False):
                super()._autoflush()
                return


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        options: dict[str, Any] = {}
        if make_url(url).get_backend_name() == "postgresql":
            # one consistent snapshot per transaction; conflicts raise and are retried
            # (`retryable`) instead of acting on stale reads
            options["isolation_level"] = "SERIALIZABLE"
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and not parsed.query:
            # statements run on the event loop's thread, not aiosqlite's (storage.sqlite_inline)
            options["async_creator"] = connector(parsed.database or ":memory:", BUSY_TIMEOUT_MS)
        self.engine: AsyncEngine = create_async_engine(url, echo=echo, **options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _tune_sqlite)
            event.listen(self.engine.sync_engine, "begin", _begin_immediate)
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False, autoflush=True, sync_session_class=HeldSession
        )
        self._checkpoint_wanted = False
        self._checkpointing: asyncio.Task[None] | None = None

    @staticmethod
    def retryable(exc: BaseException) -> bool:
        """Whether a failed transaction may simply run again: PostgreSQL's serialization
        failure (40001) or deadlock (40P01), or SQLite's busy timeout."""
        orig = getattr(exc, "orig", None)
        code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if code in ("40001", "40P01"):
            return True
        return "database is locked" in str(orig or "").lower()

    async def transaction(
        self, work: Callable[[AsyncSession], Awaitable[T]], *, tries: int = 5
    ) -> T:
        """`await work(session)` in one transaction; when the database says it conflicted
        with another process (`retryable`: another writer held the lock past the busy
        timeout, or PostgreSQL's serialization failure), nothing of it was kept, and it
        runs again after a growing pause (0.05 s doubling, at most 2 s), up to `tries`
        times in all; then the last error is raised."""
        for attempt in range(tries):
            try:
                async with self.sessions() as session, session.begin():
                    return await work(session)
            except Exception as exc:
                if attempt == tries - 1 or not self.retryable(exc):
                    raise
                await asyncio.sleep(min(0.05 * 2**attempt, 2.0))
        raise AssertionError("unreachable")

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.url).get_backend_name() == "sqlite"

    async def upgrade(self) -> None:
        """Apply every Alembic migration not yet applied (a no-op when up to date)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade_sync)

    def erased(self) -> None:
        """A person's data was just erased: make it final on disk, in the background.

        On SQLite the WAL still holds the pages as they were before; `secure_delete` has
        zeroed the deleted rows in the new pages. A checkpoint copies the new pages into
        the database file and truncates the WAL to zero bytes, so her bytes exist
        nowhere. A reader in another connection (a staff import, a second instance) can
        hold the checkpoint back; it is tried again, never blocking the bot (each try
        waits for no lock), with a growing pause up to `CHECKPOINT_PAUSE` seconds, until
        it completes. A no-op elsewhere."""
        if not self.is_sqlite:
            return
        self._checkpoint_wanted = True
        if self._checkpointing is None or self._checkpointing.done():
            self._checkpointing = asyncio.create_task(self._checkpoint_until_done())

    async def wal_truncated(self) -> None:
        """Wait until the WAL checkpoint asked for by `erased()` has completed."""
        while self._checkpointing is not None and not self._checkpointing.done():
            await asyncio.shield(self._checkpointing)

    async def _checkpoint_until_done(self) -> None:
        pause = 0.02
        while self._checkpoint_wanted:
            self._checkpoint_wanted = False
            if await self._truncate_wal():
                continue
            self._checkpoint_wanted = True
            if pause < CHECKPOINT_PAUSE <= pause * 2:
                log.warning("the WAL is not truncated after an erasure yet: a reader holds it")
            await asyncio.sleep(pause)
            pause = min(pause * 2, CHECKPOINT_PAUSE)

    async def _truncate_wal(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                # on the driver's connection itself: SQLAlchemy would BEGIN IMMEDIATE
                # first, and no checkpoint can run inside a transaction
                driver = (await conn.get_raw_connection()).driver_connection
                await driver.execute("PRAGMA busy_timeout=0")
                try:
                    cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    busy, _log, _done = await cursor.fetchone()
                finally:
                    wait_ms = _statement_busy_ms(driver)
                    await driver.execute(f"PRAGMA busy_timeout={wait_ms}")
        except Exception as exc:  # "database is locked": another writer, try again soon
            log.info("a WAL checkpoint could not run: %s", type(exc).__name__)
            return False
        return not busy

    async def close(self) -> None:
        if self._checkpointing is not None:
            self._checkpointing.cancel()
            await asyncio.gather(self._checkpointing, return_exceptions=True)
        await self.engine.dispose()


def _alembic_config(connection: Any = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def _upgrade_sync(connection: Any) -> None:
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(connection)
    head = ScriptDirectory.from_config(cfg).get_current_head()
    if MigrationContext.configure(connection).get_current_revision() == head:
        return
    command.upgrade(cfg, "head")


async def open_database(url: str, *, echo: bool = False) -> Database:
    """Open the database at `url` and bring its schema up to date."""
    db = Database(url, echo=echo)
    await db.upgrade()
    return db
