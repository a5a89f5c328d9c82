"""A throw-away PostgreSQL database for a test, where a server answers (CI has one on
127.0.0.1:5432; `HAOXIN_TEST_POSTGRES` names another); the test is skipped otherwise."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text

from storage.db import Database

POSTGRES = os.environ.get(
    "HAOXIN_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


@asynccontextmanager
async def fresh_postgres(prefix: str) -> AsyncIterator[str]:
    """The URL of a new, empty database, dropped afterwards (even with connections
    still open); `pytest.skip` when no server answers."""
    admin = Database(POSTGRES)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        async with admin.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:
        await admin.close()
        pytest.skip("no PostgreSQL server answers")
    try:
        yield POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    finally:
        async with admin.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.close()
