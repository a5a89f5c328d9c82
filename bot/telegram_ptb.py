"""Telegram through python-telegram-bot 22: receives updates, performs raw API calls.

Imported only when this framework is chosen.
"""

from __future__ import annotations

import asyncio
import os
import warnings
from typing import Any

os.environ.setdefault("PTB_TIMEDELTA", "1")  # RetryAfter.retry_after as a timedelta

from telegram import InputFile, Update
from telegram.error import Forbidden
from telegram.error import RetryAfter as PtbRetryAfter
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.warnings import PTBUserWarning

from bot.app import App
from bot.telegram import ALLOWED_UPDATES, Blocked, RetryAfter, Telegram
from bot.webhook import run_webhook

# Raw calls are how both frameworks share one renderer (bot/telegram.py): not a mistake.
warnings.filterwarnings("ignore", message="Please use 'Bot.", category=PTBUserWarning)


def _seconds(flood: PtbRetryAfter) -> float:
    wait = flood.retry_after
    return wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)


async def run(app: App, webhook_url: str | None, listen: str, ready: asyncio.Event) -> None:
    s = app.settings
    builder = ApplicationBuilder().token(s.telegram_token).concurrent_updates(True)
    if s.telegram_api_url:
        base = s.telegram_api_url.rstrip("/")
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    application: Application = builder.build()

    async def call(name: str, params: dict[str, Any]) -> Any:
        files = {
            k: InputFile(v, filename=f"{k}.png") for k, v in params.items() if isinstance(v, bytes)
        }
        try:
            return await application.bot.do_api_request(name, api_kwargs={**params, **files})
        except PtbRetryAfter as flood:
            raise RetryAfter(_seconds(flood)) from flood
        except Forbidden as blocked:
            raise Blocked() from blocked

    telegram = Telegram(app.dispatcher, app.db, call)

    async def on_any(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        await telegram.on_update(update.to_dict())

    application.add_handler(TypeHandler(Update, on_any))

    def parse(update: dict[str, Any]) -> Update:
        return Update.de_json(update, application.bot)

    async def feed(update: Update) -> None:
        await application.process_update(update)

    async with application:
        async with telegram.running(webhook_url, s.telegram_webhook_secret):
            await application.start()
            try:
                if webhook_url:
                    await run_webhook(
                        webhook_url, listen, s.telegram_webhook_secret, parse, feed, ready
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
            finally:
                await application.stop()
