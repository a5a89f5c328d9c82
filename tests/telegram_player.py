"""Run Haoxin's Telegram transport against the fake Bot API server, and play a user."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.app import App, create_app
from bot.platforms import run_platform
from tests.conftest import make_settings
from tests.fake_telegram import FakeTelegram

TOKEN = "123456:TEST-TOKEN"
SECRET = "s3cret-Token_value"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def running_bot(
    db_path: Path, framework: str, webhook: bool = False
) -> AsyncIterator[tuple[FakeTelegram, App, str | None]]:
    fake = FakeTelegram()
    url = await fake.start()
    app = await create_app(
        make_settings(
            db_path, telegram_token=TOKEN, telegram_api_url=url, telegram_webhook_secret=SECRET
        )
    )
    hook = f"http://127.0.0.1:{free_port()}/tg/hook" if webhook else None
    listen = hook.split("//")[1].split("/")[0] if hook else "127.0.0.1:0"
    ready = asyncio.Event()
    task = asyncio.create_task(run_platform(app, "telegram", framework, hook, listen, ready))
    try:
        await asyncio.wait_for(ready.wait(), 60)
        await fake.wait_for(
            lambda: any(m == ("setWebhook" if hook else "deleteWebhook") for m, _ in fake.calls)
        )
        yield fake, app, hook
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await app.close()
        await fake.stop()


class TelegramPlayer:
    """A person on Telegram: types, taps inline buttons by label, reads what arrived."""

    def __init__(self, fake: FakeTelegram, user_id: int, lang: str = "en") -> None:
        self.fake = fake
        self.user_id = user_id
        self.lang = lang
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self.seen: list[tuple[str, dict[str, Any]]] = []

    async def _await_replies(self, push: Any) -> list[tuple[str, dict[str, Any]]]:
        before = len(self.fake.sent_to(self.user_id))
        await push
        self.messages = await self.fake.settle(self.user_id, before)
        self.seen += self.messages
        return self.messages

    async def say(self, text: str) -> list[tuple[str, dict[str, Any]]]:
        return await self._await_replies(self.fake.say(self.user_id, text, self.lang))

    def button(self, label: str, messages: list | None = None) -> tuple[str, int]:
        for _method, params in reversed(messages or self.messages):
            for row in (params.get("reply_markup") or {}).get("inline_keyboard", []):
                for b in row:
                    if label in b["text"]:
                        return b["callback_data"], params["_message_id"]
        raise AssertionError(f"no button {label!r} in {self.labels}")

    async def tap(self, label: str) -> list[tuple[str, dict[str, Any]]]:
        data, message_id = self.button(label)
        return await self.press(data, message_id)

    async def press(self, data: str, message_id: int) -> list[tuple[str, dict[str, Any]]]:
        return await self._await_replies(self.fake.tap(self.user_id, data, message_id, self.lang))

    async def tap_old(self, label: str) -> list[tuple[str, dict[str, Any]]]:
        """Tap a button on an earlier message still visible up the chat."""
        data, message_id = self.button(label, self.seen)
        return await self.press(data, message_id)

    @property
    def text(self) -> str:
        return "\n".join(p.get("text", "") for _m, p in self.messages)

    @property
    def labels(self) -> list[str]:
        markup = [(p.get("reply_markup") or {}) for _m, p in self.messages]
        rows = [r for m in markup for r in m.get("inline_keyboard", []) + m.get("keyboard", [])]
        return [b["text"] for row in rows for b in row]
