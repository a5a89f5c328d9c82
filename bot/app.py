"""Wiring: settings → database (migrated) → dispatcher. Every transport starts here."""

from __future__ import annotations

import asyncio
import gc
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.logs import configure_logging, quiet_loop_errors
from storage.db import Database, open_database
from storage.importer import DEMO_FILE, import_data, read_file
from storage.repositories import Repos


@dataclass
class App:
    settings: Settings
    db: Database
    dispatcher: Dispatcher

    async def close(self) -> None:
        await self.dispatcher.close()
        await self.db.close()


async def create_app(settings: Settings | None = None) -> App:
    """Open (and migrate) the database and build the dispatcher."""
    settings = settings or Settings()
    configure_logging(settings)
    quiet_loop_errors(asyncio.get_running_loop())
    db = await open_database(settings.database_url)
    return App(settings, db, Dispatcher(db, settings))


async def warm_up(app: App) -> None:
    """Before serving: build the search index (6.7 s at 100,000 courses and fairs, on
    the event loop's thread, where SQLite runs: `storage.sqlite_inline`), so that no
    one's first search waits for it, then `settle_memory`. Each transport's `run` calls
    it once its framework is loaded."""
    async with app.db.sessions() as session, session.begin():
        await Repos(session).search.index()
    settle_memory()


def settle_memory() -> None:
    """Put what is alive now (the libraries, pypinyin's dictionaries, a framework's
    models) out of the garbage collector's sight (`gc.freeze`): a full collection
    otherwise walks all of it, 50-200 ms on a 2-core machine with pypinyin and a
    framework loaded, and every person waiting holds on that long (issue 8 measured the
    aiogram path's p99 at 271 ms before, 53 ms after). Called by `warm_up` (not by
    `create_app`: tests make hundreds of apps, and frozen objects are never
    collected)."""
    gc.collect()
    gc.freeze()


IMPORT_TRIES = 10  # runs of an import that conflicted with the bot's writes


async def import_file(db: Database, path: Path, settings: Settings | None = None) -> dict[str, int]:
    """Import a data file (YAML or JSON) in one transaction. People holding a place on a
    course or fair whose date, place or status changed are told (in the same transaction)."""
    from handlers.changes import announce

    data = read_file(path)
    settings = settings or Settings()

    async def write(session: AsyncSession) -> dict[str, int]:
        changes: list[tuple[str, int, set[str]]] = []
        counts = await import_data(session, data, changes)
        counts["notices"] = await announce(Repos(session), settings.options(), changes)
        return counts

    # the bot writes all the time: on a conflict with it (PostgreSQL's serialization
    # failure, SQLite's lock held past the busy timeout) the whole import runs again
    return await db.transaction(write, tries=IMPORT_TRIES)


async def seed_demo(db: Database) -> dict[str, int] | None:
    """Import the demo data unless the catalogue already holds something."""
    async with db.sessions() as session:
        counts = await Repos(session).catalog.counts()
    if any(counts.values()):
        return None
    return await import_file(db, DEMO_FILE)
