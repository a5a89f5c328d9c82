"""Wiring: settings → database (migrated) → dispatcher. Every transport starts here."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.logs import configure_logging, quiet_loop_errors
from storage.db import Database, open_database
from storage.importer import DEMO_FILE, DataFile, import_data, read_file
from storage.models import TrainingBase, User
from storage.repositories import Repos
from storage.training_import import TrainingCounts, apply_trainings, read_trainings


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
    one's first search waits for it, then `settle_memory`, then the dispatcher's
    background work (`Dispatcher.start`: pruning and chores run from now on, not from
    the first event). Each transport's `run` calls it once its framework is loaded."""
    async with app.db.sessions() as session, session.begin():
        await Repos(session).search.index()
    settle_memory()
    app.dispatcher.start()


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


async def import_file(
    db: Database, path: Path, settings: Settings | None = None, *, demo: bool = False
) -> dict[str, int]:
    """Import a data file (YAML or JSON) in one transaction. People holding a place on a
    course or fair whose date, place or status changed are told (in the same transaction).

    The file's `worker_profiles` (fictional, vetted workers) are created only for the
    demo (`demo`, `seed_demo`); otherwise they are left out, counted as
    `worker_profiles_skipped`."""
    from handlers.changes import announce

    data = read_file(path)
    settings = settings or Settings()

    async def write(session: AsyncSession) -> dict[str, int]:
        changes: list[tuple[str, int, set[str]]] = []
        counts = await import_data(session, data, changes)
        counts["notices"] = await announce(Repos(session), settings.options(), changes)
        if demo:
            repos = Repos(session, settings.file_store())  # its key of ID-number hashes
            counts["worker_profiles"] = await _demo_workers(repos, data)
        elif data.worker_profiles:
            counts["worker_profiles_skipped"] = len(data.worker_profiles)
        return counts

    # the bot writes all the time: on a conflict with it (PostgreSQL's serialization
    # failure, SQLite's lock held past the busy timeout) the whole import runs again
    return await db.transaction(write, tries=IMPORT_TRIES)


async def _demo_workers(repos: Repos, data: DataFile) -> int:
    from handlers.onboarding import PRIVACY_VERSION, SEEKER
    from storage.demo_workers import load_demo_workers

    return await load_demo_workers(
        repos,
        data.worker_profiles,
        consent_version=PRIVACY_VERSION,
        role=SEEKER,
        source=data.source,
    )


async def seed_demo(db: Database, settings: Settings | None = None) -> dict[str, int] | None:
    """Import the demo data unless the catalogue already holds something. A database
    seeded by an earlier demo (its training bases there) that lacks the demo's workers
    gets them (and the courses they trained on); None when nothing was needed."""
    async with db.sessions() as session:
        counts = await Repos(session).catalog.counts()
        if any(counts.values()):
            from storage.demo_workers import demo_key

            data = read_file(DEMO_FILE)
            codes = [row.code for row in data.training_bases]
            demo_bases = await session.scalar(
                select(func.count(TrainingBase.id)).where(TrainingBase.code.in_(codes))
            )
            keys = [demo_key(row.code) for row in data.worker_profiles]
            workers = await session.scalar(select(func.count(User.id)).where(User.key.in_(keys)))
            if demo_bases != len(codes) or workers == len(keys):
                return None
    return await import_file(db, DEMO_FILE, settings, demo=True)


async def import_trainings(db: Database, path: Path) -> TrainingCounts:
    """Mark attendance and completion of courses from a file (`haoxin import trainings`),
    all or nothing, in one transaction run again on a conflict with the bot's writes."""
    rows = read_trainings(path)
    today = dt.date.today()

    async def write(session: AsyncSession) -> TrainingCounts:
        return await apply_trainings(Repos(session), rows, today)

    return await db.transaction(write, tries=IMPORT_TRIES)
