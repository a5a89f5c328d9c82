"""Configuration: environment variables prefixed HAOXIN_, or a `.env` file."""

from __future__ import annotations

from typing import Annotated

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HAOXIN_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    #: any SQLAlchemy async URL; SQLite (a file in the working directory) by default
    database_url: str = "sqlite+aiosqlite:///haoxin.db"
    #: who is an admin: platform keys, comma-separated (`tg:123,console:admin`)
    admin_ids: Annotated[frozenset[str], NoDecode] = frozenset()
    #: how many queued events one database transaction may take at most
    batch_size: int = 64
    #: log level for Haoxin's own log (never personal data)
    log_level: str = "WARNING"

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    def is_admin(self, user_key: str) -> bool:
        return user_key in self.admin_ids
