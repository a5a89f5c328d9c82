"""The database: engine, sessions and bringing the schema up to date.

SQLite-only tuning lives here and nowhere else: WAL journal, synchronous=NORMAL (safe
with WAL: a power cut may lose the last commits but never corrupts), a busy timeout,
foreign keys on, and `secure_delete` on, so deleted rows are overwritten with zeros
instead of lingering in free space (some SQLite builds turn it on by default; we do not
rely on that). After a person's data is erased, `after_erasure()` checkpoints the WAL and
truncates it, so her bytes are gone from every file. Any SQLAlchemy async URL works
(`postgresql+asyncpg://...`).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
CHECKPOINT_TRIES = 20


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(url, echo=echo)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _tune_sqlite)
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False, autoflush=True
        )

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.url).get_backend_name() == "sqlite"

    async def upgrade(self) -> None:
        """Apply every Alembic migration not yet applied (a no-op when up to date)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade_sync)

    async def after_erasure(self) -> bool:
        """Make an erasure final on disk: on SQLite, copy the WAL into the database file
        (where `secure_delete` has zeroed the deleted rows) and truncate the WAL to zero
        bytes, so the old pages holding the person's data exist nowhere. A reader in
        another connection can hold the checkpoint back: it is tried again for about a
        second. Returns False if it could not complete (logged; the next erasure or
        SQLite's own checkpoints finish the work). A no-op elsewhere."""
        if not self.is_sqlite:
            return True
        for attempt in range(CHECKPOINT_TRIES):
            async with self.engine.connect() as conn:
                busy, _log, _done = (
                    await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                ).one()
            if not busy:
                return True
            await asyncio.sleep(0.05 * (attempt + 1) / 4)
        log.warning("the WAL could not be truncated after an erasure: readers kept it busy")
        return False

    async def close(self) -> None:
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
