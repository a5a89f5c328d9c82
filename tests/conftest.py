from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App, create_app
from bot.config import Settings
from storage.models import User
from tests.chat import Chat

ADMIN = "console:admin"


def make_settings(path: Path | None, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": f"sqlite+aiosqlite:///{path}",
        "admin_ids": frozenset({ADMIN, "tg:900"}),
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(autouse=True)
def _files_outside_the_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Code that finds no configured file store (`FileStore.default`) writes under the
    test's own folder, never into the working directory."""
    monkeypatch.setenv("HAOXIN_FILES_DIR", str(tmp_path / "default-files"))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "haoxin-test.db"


@pytest.fixture
async def app(db_path: Path) -> AsyncIterator[App]:
    app = await create_app(make_settings(db_path))
    yield app
    await app.close()


@pytest.fixture
def chat(app: App) -> Callable[..., Chat]:
    def make(user: str = "tg:1", lang_hint: str | None = "en") -> Chat:
        return Chat(app.dispatcher, user, lang_hint)

    return make


async def load_user(app: App, key: str) -> User | None:
    async with app.db.sessions() as session:
        return await session.scalar(select(User).where(User.key == key))
