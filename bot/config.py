"""Configuration: environment variables prefixed HAOXIN_, or a `.env` file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

from handlers.context import Options
from storage.files import FileStore


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
    #: the folder for files people send (certificate photos) and pictures Haoxin draws;
    #: empty means a folder `haoxin-files` beside the SQLite database file (or
    #: `./haoxin-files` for other databases). Only Haoxin's user can read it (0700).
    files_dir: str = ""
    #: the key of the hash that finds an ID number on two profiles (any long random
    #: text); empty: a random key kept in the files folder (`id-hash.key`). Instances on
    #: several machines must share one.
    id_hash_key: str = ""

    #: broadcasts (programme notices to many people): at most this many messages a
    #: second on each platform, counted across every instance sharing the database
    #: (Telegram allows about 30; the rest is left for conversations)
    broadcast_rate: float = 25.0

    #: the programme's time zone: dates and reminder times are local to it
    timezone: str = "Asia/Shanghai"
    #: when the day-before reminders go out (local time, HH:MM)
    reminder_time: dt.time = dt.time(18, 0)

    #: the programme office's phone number, printed on contracts as the emergency
    #: contact and shown when people need a person (empty: not shown)
    office_phone: str = ""
    #: when someone is on duty at the help desk (issue 13), local time: days and hours,
    #: `mon-fri 08:30-17:30; sat 09:00-12:00` (`handlers.office.parse_hours`); outside
    #: them a question for a person is told when to expect an answer and the emergency line
    office_hours: str = "mon-fri 08:30-17:30"
    #: the line to call in an emergency, shown when no one is on duty (mainland police: 110)
    emergency_phone: str = "110"
    #: a public https base URL this instance's web server is reached at (the WeChat
    #: webhook's host), for links to documents on platforms that cannot send files
    public_url: str = ""

    #: Telegram: the bot's username, for deep links (t.me/<username>?start=course_3)
    telegram_bot: str = ""
    #: Telegram: the bot's token from @BotFather
    telegram_token: str = ""
    #: Telegram: a self-hosted Bot API server (or a test double), e.g. http://127.0.0.1:8081
    telegram_api_url: str = ""
    #: Telegram: the secret Telegram sends with every webhook request
    telegram_webhook_secret: str = ""

    #: WeChat Official Account: the server token, AppID, AppSecret and EncodingAESKey
    wechat_token: str = ""
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_aes_key: str = ""
    #: WeChat: the API base for sending later (tests point it at a double)
    wechat_api_url: str = "https://api.weixin.qq.com"
    #: WeChat: the message mode set in the account's console (消息加解密方式): `plain`
    #: (明文), `compatible` (兼容) or `safe` (安全); empty means safe when an AES key is set,
    #: else plain. Taken from here, never from the request.
    wechat_mode: Literal["", "plain", "compatible", "safe"] = ""

    @property
    def wechat_message_mode(self) -> str:
        """The WeChat message mode in force: the configured one, or safe with a key."""
        return self.wechat_mode or ("safe" if self.wechat_aes_key else "plain")

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    def is_admin(self, user_key: str) -> bool:
        return user_key in self.admin_ids

    def file_store(self) -> FileStore:
        """Where stored files are kept on disk (`files_dir`, or beside the database)."""
        if self.files_dir:
            return FileStore(Path(self.files_dir), self.id_hash_key)
        try:
            url = make_url(self.database_url)
        except Exception:  # the database itself will say what is wrong with its URL
            return FileStore(Path("haoxin-files"), self.id_hash_key)
        database = url.database or ""
        if url.get_backend_name() == "sqlite" and database and database != ":memory:":
            if not database.startswith("file:"):
                return FileStore(Path(database).parent / "haoxin-files", self.id_hash_key)
        return FileStore(Path("haoxin-files"), self.id_hash_key)

    def options(self) -> Options:
        """What the flows need to know of the settings."""
        return Options(
            self.timezone,
            self.reminder_time,
            self.telegram_bot,
            admins=tuple(sorted(self.admin_ids)),
            office_phone=self.office_phone,
            broadcast_rate=self.broadcast_rate,
            office_hours=self.office_hours,
            emergency_phone=self.emergency_phone,
        )
