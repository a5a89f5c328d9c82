"""Start a platform's transport; each library is imported only when its platform runs."""

from __future__ import annotations

import asyncio
import importlib
import sys

from bot.app import App


async def run_platform(
    app: App,
    platform: str,
    framework: str = "aiogram",
    webhook_url: str | None = None,
    listen: str = "127.0.0.1:8080",
    ready: asyncio.Event | None = None,
) -> int:
    """Serve until cancelled. Returns a non-zero exit status when settings are missing."""
    ready = ready or asyncio.Event()
    s = app.settings
    if platform == "telegram":
        if not s.telegram_token:
            print("HAOXIN_TELEGRAM_TOKEN is not set", file=sys.stderr)
            return 2
        if webhook_url and not s.telegram_webhook_secret:
            print("a webhook needs HAOXIN_TELEGRAM_WEBHOOK_SECRET", file=sys.stderr)
            return 2
        module = importlib.import_module(f"bot.telegram_{framework}")
        await module.run(app, webhook_url, listen, ready)
        return 0
    if not s.wechat_token:
        print("HAOXIN_WECHAT_TOKEN is not set", file=sys.stderr)
        return 2
    if s.wechat_message_mode != "plain" and not s.wechat_aes_key:
        print(f"HAOXIN_WECHAT_MODE={s.wechat_mode} needs HAOXIN_WECHAT_AES_KEY", file=sys.stderr)
        return 2
    from bot.wechat import run

    await run(app, listen, ready)
    return 0
