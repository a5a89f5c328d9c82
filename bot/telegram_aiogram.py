"""Telegram through aiogram 3: receives updates, performs raw Bot API calls.

Imported only when this framework is chosen (a cold `import aiogram` takes seconds).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram import Bot, Dispatcher, methods
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import BufferedInputFile, TelegramObject, Update

from bot.app import App
from bot.telegram import ALLOWED_UPDATES, Blocked, RetryAfter, Telegram
from bot.webhook import run_webhook


async def run(app: App, webhook_url: str | None, listen: str, ready: asyncio.Event) -> None:
    s = app.settings
    api = TelegramAPIServer.from_base(s.telegram_api_url) if s.telegram_api_url else None
    bot = Bot(s.telegram_token, session=AiohttpSession(api=api) if api else AiohttpSession())
    dp = Dispatcher()

    async def call(name: str, params: dict[str, Any]) -> Any:
        files = {
            k: BufferedInputFile(v, f"{k}.png") for k, v in params.items() if isinstance(v, bytes)
        }
        method = getattr(methods, name[0].upper() + name[1:]).model_validate({**params, **files})
        try:
            return await bot(method)
        except TelegramRetryAfter as flood:
            raise RetryAfter(flood.retry_after) from flood
        except TelegramForbiddenError as blocked:
            raise Blocked() from blocked

    telegram = Telegram(app.dispatcher, app.db, call)

    async def on_any(_event: TelegramObject, event_update: Update) -> None:
        await telegram.on_update(
            event_update.model_dump(mode="json", exclude_none=True, by_alias=True)
        )

    for observer in (dp.message, dp.callback_query, dp.my_chat_member):
        observer.register(on_any)

    def parse(update: dict[str, Any]) -> Update:
        return Update.model_validate(update, context={"bot": bot})

    async def feed(update: Update) -> None:
        await dp.feed_update(bot, update)

    try:
        async with telegram.running(webhook_url, s.telegram_webhook_secret):
            if webhook_url:
                await run_webhook(
                    webhook_url, listen, s.telegram_webhook_secret, parse, feed, ready
                )
            else:
                ready.set()
                await dp.start_polling(
                    bot, handle_signals=False, allowed_updates=ALLOWED_UPDATES, polling_timeout=10
                )
    finally:
        await bot.session.close()
