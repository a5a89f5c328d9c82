"""SQLite for SQLAlchemy's asyncio engine, run on the event loop's own thread.

aiosqlite runs every call in a thread of its own and hands each one over and back: a
statement through SQLAlchemy is four hand-offs (cursor, execute, fetch, close), 150 µs
on a 2-core machine where the statement itself takes 1-15 µs (`bench/sqlite_driver.py`
measures both). Haoxin's statements touch a handful of indexed rows of a local file,
so it runs them where it stands: the same `sqlite3` module, the same SQL, no thread.

The one wait that can be long is another process's write lock (`haoxin import` while
the bot runs, a second instance): every transaction begins with BEGIN IMMEDIATE, which
is tried without waiting and, while the lock is held elsewhere, tried again after an
*asyncio* sleep, up to `storage.db.BUSY_TIMEOUT_MS` in all, so the event loop
keeps serving everyone else meanwhile. Then "database is locked" is raised, as
aiosqlite would after its busy timeout (`Database.retryable` knows it). Statements
inside a transaction that holds the write lock do not wait on other writers (WAL
mode), so they run directly; the rare one that meets a lock (a reader meeting another
process's checkpoint) fails at once and its transaction runs again.

SQLAlchemy is given the connection through `create_async_engine(async_creator=...)`
and wraps it in its own aiosqlite adapter; what it calls is implemented here with the
same names (aiosqlite's `Connection` and `Cursor`).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

#: the busy timeout of each statement (ms): none, the event loop is never held by a
#: lock another process holds; BEGIN waits with asyncio sleeps, and the rare other
#: statement that meets a lock fails as "database is locked" and its transaction runs
#: again (`Database.retryable`)
STATEMENT_BUSY_MS = 0
_LONGEST_PAUSE = 0.05  # seconds between tries of BEGIN while another process writes


class Cursor:
    """aiosqlite's `Cursor`, inline."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._cursor = connection._live.cursor()

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor:
        args = (sql,) if parameters is None else (sql, parameters)
        if sql[:5].upper() == "BEGIN":
            await self._connection._begin(lambda: self._cursor.execute(*args))
        else:
            self._cursor.execute(*args)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Cursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def setinputsizes(self, *_sizes: Any) -> None:
        pass

    async def nextset(self) -> None:
        return None


class _RunHere:
    """Stands in for aiosqlite's queue to its thread (SQLAlchemy's adapter puts the
    isolation-level change there): runs the call now and settles its future."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # handed to whoever awaits the future
            if future is not None:
                future.set_exception(exc)
            return
        if future is not None:
            future.set_result(result)


class Connection:
    """aiosqlite's `Connection`, inline. `busy_ms` is the longest wait for another
    process's write lock when a transaction begins."""

    def __init__(self, conn: sqlite3.Connection, busy_ms: int) -> None:
        self._conn: sqlite3.Connection | None = conn
        self._busy = busy_ms / 1000
        self._tx = _RunHere()

    @property
    def _connection(self) -> sqlite3.Connection | None:
        return self._conn  # SQLAlchemy's adapter checks it before commit and rollback

    @property
    def isolation_level(self) -> str | None:
        return self._live.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._live.isolation_level = value

    @property
    def _live(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError("Connection closed")
        return self._conn

    def cursor(self) -> Cursor:
        return Cursor(self)

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor:
        cursor = self.cursor()
        return await cursor.execute(sql, parameters)

    async def _begin(self, begin: Callable[[], Any]) -> None:
        """Run BEGIN; while another process holds the write lock, try again after an
        asyncio sleep (doubling, at most `_LONGEST_PAUSE`), for `busy_ms` in all."""
        deadline, pause = time.monotonic() + self._busy, 0.001
        while True:
            try:
                begin()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE)

    async def commit(self) -> None:
        self._live.commit()

    async def rollback(self) -> None:
        self._live.rollback()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._live.create_function(*args, **kwargs)


def connector(database: str, busy_ms: int) -> Callable[[], Any]:
    """The `async_creator` for `create_async_engine`: opens `database` (a file path, or
    `:memory:`) in autocommit mode (Haoxin begins each transaction itself)."""

    async def connect() -> Connection:
        conn = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={STATEMENT_BUSY_MS}")
        return Connection(conn, busy_ms)

    return connect
