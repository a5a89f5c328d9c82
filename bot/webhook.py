"""A small aiohttp server for Telegram's webhook, shared by both frameworks.

The secret Telegram sends (`X-Telegram-Bot-Api-Secret-Token`) is compared in constant
time; a request without the right secret is refused with 403 and never reaches the
core. The update is handed on in the background so Telegram gets its 200 at once.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_app(
    path: str, secret: str, feed: Callable[[dict[str, Any]], Awaitable[None]]
) -> web.Application:
    tasks: set[asyncio.Task[None]] = set()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403, text="forbidden")
        try:
            update = json.loads(await request.read())
            assert isinstance(update, dict) and "update_id" in update
        except (ValueError, AssertionError):
            return web.Response(status=400, text="bad update")
        task = asyncio.create_task(feed(update))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return web.Response(text="ok")

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(path, receive)
    return app


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
    feed: Callable[[dict[str, Any]], Awaitable[None]],
    ready: asyncio.Event,
) -> None:
    """Serve Telegram's webhook at the path of `url` on `listen` until cancelled."""
    path = "/" + url.split("://", 1)[-1].partition("/")[2]
    runner = await serve(webhook_app(path, secret, feed), listen)
    ready.set()
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
