"""Telegram through python-telegram-bot 22: receives updates, performs raw API calls.

Imported only when this framework is chosen.
"""

from __future__ import annotations

import asyncio
import os
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

os.environ.setdefault("PTB_TIMEDELTA", "1")  # RetryAfter.retry_after as a timedelta

from telegram import InputFile, Update
from telegram.error import Forbidden
from telegram.error import RetryAfter as PtbRetryAfter
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.request import BaseRequest
from telegram.warnings import PTBUserWarning

from bot.app import App, warm_up
from bot.telegram import (
    ALLOWED_UPDATES,
    Blocked,
    RetryAfter,
    Telegram,
    Wiring,
    download_capped,
    upload_name,
)
from bot.webhook import run_webhook

# Raw calls are how both frameworks share one renderer (bot/telegram.py): not a mistake.
warnings.filterwarnings("ignore", message="Please use 'Bot.", category=PTBUserWarning)


def _seconds(flood: PtbRetryAfter) -> float:
    wait = flood.retry_after
    return wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)


def wire(app: App, request: BaseRequest | None = None) -> Wiring:
    """python-telegram-bot wired to the core; `request` replaces the network
    (bench/transports.py). `started` also starts the application."""
    return _wire(app, request)[0]


def _wire(app: App, request: BaseRequest | None) -> tuple[Wiring, Application]:
    s = app.settings
    builder = ApplicationBuilder().token(s.telegram_token).concurrent_updates(True)
    if s.telegram_api_url:
        base = s.telegram_api_url.rstrip("/")
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application: Application = builder.build()

    async def call(name: str, params: dict[str, Any]) -> Any:
        files = {
            k: InputFile(v, filename=upload_name(k, v))
            for k, v in params.items()
            if isinstance(v, bytes)
        }
        try:
            return await application.bot.do_api_request(name, api_kwargs={**params, **files})
        except PtbRetryAfter as flood:
            raise RetryAfter(_seconds(flood)) from flood
        except Forbidden as blocked:
            raise Blocked() from blocked

    async def download(path: str, limit: int) -> bytes:
        """A file from the Bot API's file URL (python-telegram-bot's request objects
        read a whole body: this reads no more than `limit` bytes)."""
        return await download_capped(
            f"{application.bot.base_file_url}/{quote(path, safe='/')}", limit
        )

    telegram = Telegram(app.dispatcher, app.db, call, download)

    # the checked JSON of each update `parse` read, by the parsed object's id while it is
    # fed: the core gets the JSON Telegram sent instead of PTB's object turned back
    sent: dict[int, dict[str, Any]] = {}

    async def on_any(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        await telegram.on_update(sent.get(id(update)) or update.to_dict())

    application.add_handler(TypeHandler(Update, on_any))

    def parse(update: dict[str, Any]) -> Update:
        parsed = Update.de_json(update, application.bot)
        sent[id(parsed)] = update  # `feed`, which always follows, forgets it
        return parsed

    async def feed(update: Update) -> None:
        try:
            await application.process_update(update)
        finally:
            sent.pop(id(update), None)

    @asynccontextmanager
    async def started(webhook_url: str | None, secret: str) -> AsyncIterator[None]:
        async with application, telegram.running(webhook_url, secret):
            await application.start()
            try:
                yield
            finally:
                await application.stop()

    return Wiring(telegram, parse, feed, started), application


async def run(app: App, webhook_url: str | None, listen: str, ready: asyncio.Event) -> None:
    s = app.settings
    wiring, application = _wire(app, None)
    await warm_up(app)
    async with wiring.started(webhook_url, s.telegram_webhook_secret):
        if webhook_url:
            await run_webhook(
                webhook_url, listen, s.telegram_webhook_secret, wiring.parse, wiring.feed, ready
            )
        else:
            assert application.updater is not None
            await application.updater.start_polling(
                allowed_updates=ALLOWED_UPDATES, timeout=10, drop_pending_updates=False
            )
            ready.set()
            try:
                await asyncio.Event().wait()
            finally:
                await application.updater.stop()
