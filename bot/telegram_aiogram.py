"""Telegram through aiogram 3: receives updates, performs raw Bot API calls.

Imported only when this framework is chosen (a cold `import aiogram` takes seconds).
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from aiogram import Bot, Dispatcher, methods
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from aiogram.methods.base import Response, TelegramMethod
from aiogram.types import BufferedInputFile, TelegramObject, Update

from bot.app import App, warm_up
from bot.telegram import (
    ALLOWED_UPDATES,
    FETCH_WITHIN,
    Blocked,
    RetryAfter,
    Telegram,
    Wiring,
    read_capped,
    upload_name,
)
from bot.webhook import run_webhook

# The Bot API methods Haoxin calls. aiogram reads each answer as `Response[<result>]`, a
# parametrised pydantic generic, and pydantic caches those weakly: once a garbage
# collection frees one, the next answer builds its schema again (3-5 ms, measured in
# bench/transports.py, and most of that path's time). Holding them keeps them built.
CALLED = (
    "answerCallbackQuery",
    "deleteWebhook",
    "editMessageText",
    "getFile",
    "getMe",
    "sendDocument",
    "sendMessage",
    "sendPhoto",
    "sendVenue",
    "setMyCommands",
    "setWebhook",
)
_BLANK: dict[str, TelegramMethod[Any]] = {
    name: getattr(methods, name[0].upper() + name[1:]).model_construct() for name in CALLED
}
_RESPONSES = {
    name: Response[getattr(methods, name[0].upper() + name[1:]).__returning__]  # type: ignore[name-defined]
    for name in CALLED
}


def wire(app: App, session: BaseSession | None = None) -> Wiring:
    """aiogram wired to the core; `session` replaces the network (bench/transports.py)."""
    return _wire(app, session)[0]


def _wire(app: App, session: BaseSession | None) -> tuple[Wiring, Bot, Dispatcher]:
    s = app.settings
    if session is None:
        api = TelegramAPIServer.from_base(s.telegram_api_url) if s.telegram_api_url else None
        session = AiohttpSession(api=api) if api else AiohttpSession()
    bot = Bot(s.telegram_token, session=session)
    dp = Dispatcher(disable_fsm=True)  # conversation state lives in the database, not aiogram

    async def call(name: str, params: dict[str, Any]) -> Any:
        files = {
            k: BufferedInputFile(v, upload_name(k, v))
            for k, v in params.items()
            if isinstance(v, bytes)
        }
        # built by bot.telegram.api_calls to the Bot API's own shapes: a copy of the
        # method with its defaults, not validated field by field again (aiogram still
        # serialises it for the request; pydantic's model_construct would deep-copy
        # every default on each call)
        method = _BLANK[name].model_copy(update={**params, **files})
        try:
            return await bot(method)
        except TelegramRetryAfter as flood:
            raise RetryAfter(flood.retry_after) from flood
        except TelegramForbiddenError as blocked:
            raise Blocked() from blocked

    async def download(path: str, limit: int) -> bytes:
        """A file from the Bot API's file URL, through aiogram's own HTTP session."""
        url = bot.session.api.file_url(bot.token, quote(path, safe="/"))
        chunks = bot.session.stream_content(url, timeout=int(FETCH_WITHIN))
        return await read_capped(chunks, limit)

    telegram = Telegram(app.dispatcher, app.db, call, download)

    # the checked JSON of each update `parse` read, by the parsed object's id while it is
    # fed: the core gets the JSON Telegram sent instead of aiogram's model dumped back
    # (about a quarter of a millisecond an update)
    sent: dict[int, dict[str, Any]] = {}

    async def on_any(_event: TelegramObject, event_update: Update) -> None:
        update = sent.get(id(event_update))
        if update is None:  # polling: aiogram read this one itself
            update = event_update.model_dump(mode="json", exclude_none=True, by_alias=True)
        await telegram.on_update(update)

    for observer in (dp.message, dp.callback_query, dp.my_chat_member):
        observer.register(on_any)

    def parse(update: dict[str, Any]) -> Update:
        parsed = Update.model_validate(update, context={"bot": bot})
        sent[id(parsed)] = update  # `feed`, which always follows, forgets it
        return parsed

    async def feed(update: Update) -> None:
        try:
            await dp.feed_update(bot, update)
        finally:
            sent.pop(id(update), None)

    return Wiring(telegram, parse, feed, telegram.running), bot, dp


async def run(app: App, webhook_url: str | None, listen: str, ready: asyncio.Event) -> None:
    s = app.settings
    wiring, bot, dp = _wire(app, None)
    await warm_up(app)
    try:
        async with wiring.started(webhook_url, s.telegram_webhook_secret):
            if webhook_url:
                await run_webhook(
                    webhook_url, listen, s.telegram_webhook_secret, wiring.parse, wiring.feed, ready
                )
            else:
                ready.set()
                await _poll(dp, bot)
    finally:
        await bot.session.close()


async def _poll(dp: Dispatcher, bot: Bot) -> None:
    """Poll until cancelled, then stop aiogram's polling task too: cancelling
    `start_polling` itself leaves that task fetching updates (and logging failures)."""
    polling = asyncio.ensure_future(
        dp.start_polling(
            bot, handle_signals=False, allowed_updates=ALLOWED_UPDATES, polling_timeout=10
        )
    )
    try:
        await asyncio.shield(polling)
    except asyncio.CancelledError:
        try:
            await dp.stop_polling()
        except RuntimeError:  # not started yet: nothing of it runs
            polling.cancel()
        await asyncio.gather(polling, return_exceptions=True)
        raise
