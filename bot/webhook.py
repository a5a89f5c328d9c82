"""A small aiohttp server for Telegram's webhook, shared by both frameworks.

The secret Telegram sends (`X-Telegram-Bot-Api-Secret-Token`) is compared in constant
time; a request without the right secret is refused with 403 and never reaches the
core. A malformed update (not JSON, `update_id` not an integer, a message without its
chat...) is refused with 400 before any framework parses it, so no framework logs its
contents; the framework's own parser runs next, also before the answer. A kind of update
Haoxin did not ask for (`allowed_updates`) is answered 200 and dropped unread (aiogram
would warn with its whole text). The update is then handed on in the background so
Telegram gets its 200 at once.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.logs import log_failure
from bot.telegram import ALLOWED_UPDATES, check_update, update_kind

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_app(
    path: str,
    secret: str,
    parse: Callable[[dict[str, Any]], Any],
    feed: Callable[[Any], Awaitable[None]],
) -> web.Application:
    """`parse` turns a checked update into the framework's object (raising on anything
    it cannot take); `feed` processes that object."""
    tasks: set[asyncio.Task[None]] = set()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403, text="forbidden")
        try:
            update = check_update(json.loads(await request.read()))
            if update_kind(update) not in ALLOWED_UPDATES:
                return web.Response(text="ok")  # not asked for: dropped unread
            parsed = parse(update)
        except Exception:  # whatever it was, its text may quote the update: not logged
            return web.Response(status=400, text="bad update")
        task = asyncio.create_task(_quietly(feed(parsed)))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return web.Response(text="ok")

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(path, receive)
    return app


async def _quietly(work: Awaitable[None]) -> None:
    try:
        await work
    except Exception as exc:
        log_failure("processing a webhook update failed", exc)


async def serve(app: web.Application, listen: str) -> web.AppRunner:
    host, _, port = listen.rpartition(":")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host or "127.0.0.1", int(port)).start()
    return runner


async def run_webhook(
    url: str,
    listen: str,
    secret: str,
    parse: Callable[[dict[str, Any]], Any],
    feed: Callable[[Any], Awaitable[None]],
    ready: asyncio.Event,
) -> None:
    """Serve Telegram's webhook at the path of `url` on `listen` until cancelled."""
    path = "/" + url.split("://", 1)[-1].partition("/")[2]
    runner = await serve(webhook_app(path, secret, parse, feed), listen)
    ready.set()
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
