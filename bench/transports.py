"""Benchmark: Haoxin through the real Telegram transports, beside the bare frameworks.

Both frameworks talk to an in-memory Bot API that still does the work a real one makes
the client do: each call is built as the framework would send it (form fields or JSON)
and each answer is a JSON document the framework parses. Updates are fed the way the
webhook feeds them: the framework parses the update's dict, then processes it.

Rows, in one run so the ratios compare like with like:
- bare aiogram / bare python-telegram-bot: an echo handler that replies;
- Haoxin through `bot.telegram_aiogram` / `bot.telegram_ptb`: each simulated person
  onboards by tapping (/start, Continue, Privacy, I agree, Find a free course), in a
  SQLite file.
Each person waits for each answer before the next input (closed loop), 64 at a time.

    python bench/transports.py [--people 1280] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from stats import pct

ONBOARDING = ["/start", "Continue", "Privacy & my data", "I agree", "Find a free course"]


class MemoryBotAPI:
    """Answers Bot API calls in memory, and remembers each chat's last inline keyboard
    (what a person would tap next)."""

    def __init__(self) -> None:
        self.calls = 0
        self.keyboards: dict[int, list[dict[str, Any]]] = {}
        self._ids = itertools.count(1)

    def respond(self, method: str, params: dict[str, Any]) -> Any:
        self.calls += 1
        if method == "getMe":
            return {"id": 42, "is_bot": True, "first_name": "Haoxin", "username": "haoxin_bot"}
        if method in ("sendMessage", "editMessageText", "sendPhoto", "sendLocation"):
            chat_id = int(params["chat_id"])
            markup = params.get("reply_markup")
            if isinstance(markup, str):
                markup = json.loads(markup)
            if markup and "inline_keyboard" in markup:
                self.keyboards[chat_id] = [b for row in markup["inline_keyboard"] for b in row]
            message = {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "x"},
                "text": str(params.get("text") or params.get("caption") or "x"),
            }
            return message
        return True


def message(update_id: int, chat_id: int, text: str) -> dict[str, Any]:
    person = {"id": chat_id, "is_bot": False, "first_name": "x", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "x"},
            "from": person,
            "text": text,
        },
    }


def tap(update_id: int, chat_id: int, data: str) -> dict[str, Any]:
    person = {"id": chat_id, "is_bot": False, "first_name": "x", "language_code": "en"}
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(update_id),
            "from": person,
            "chat_instance": "1",
            "data": data,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "x"},
                "text": "x",
            },
        },
    }


def aiogram_session(api: MemoryBotAPI) -> Any:
    from aiogram.client.session.base import BaseSession

    class MemorySession(BaseSession):
        """aiogram's session, with the network replaced by `api`."""

        async def make_request(self, bot: Any, method: Any, timeout: int | None = None) -> Any:  # noqa: ASYNC109
            fields: dict[str, Any] = {}
            for key, value in method.model_dump(warnings=False).items():
                value = self.prepare_value(value, bot=bot, files={})
                if value is not None:
                    fields[key] = value
            result = api.respond(method.__api_method__, fields)
            content = json.dumps({"ok": True, "result": result})
            return self.check_response(bot, method, 200, content).result

        async def stream_content(self, *args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError

        async def close(self) -> None:
            pass

    return MemorySession()


def ptb_request(api: MemoryBotAPI) -> Any:
    from telegram.request import BaseRequest

    class MemoryRequest(BaseRequest):
        """python-telegram-bot's request, with the network replaced by `api`."""

        async def initialize(self) -> None:
            pass

        async def shutdown(self) -> None:
            pass

        @property
        def read_timeout(self) -> float:
            return 5.0

        async def do_request(  # type: ignore[override]
            self, url: str, method: str, request_data: Any = None, **_timeouts: Any
        ) -> tuple[int, bytes]:
            params = request_data.json_parameters if request_data is not None else {}
            result = api.respond(url.rsplit("/", 1)[-1], params)
            return 200, json.dumps({"ok": True, "result": result}).encode()

    return MemoryRequest()


async def closed_loop(
    people: int, concurrency: int, steps: int, send: Any
) -> tuple[float, list[float]]:
    """`send(person, step)` for each person's steps in order, `concurrency` people at a
    time. Returns events/s and each event's latency in seconds."""
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def one(person: int) -> None:
        async with gate:
            for step in range(steps):
                t0 = time.perf_counter()
                await send(person, step)
                latencies.append(time.perf_counter() - t0)

    gc.collect()
    t0 = time.perf_counter()
    await asyncio.gather(*(one(p) for p in range(people)))
    return len(latencies) / (time.perf_counter() - t0), latencies


async def bare_aiogram(events: int, concurrency: int) -> tuple[float, list[float]]:
    """aiogram's dispatcher with an echo handler that replies: the framework's ceiling."""
    from aiogram import Bot, Dispatcher
    from aiogram.types import Message, Update

    api, dp = MemoryBotAPI(), Dispatcher()
    bot = Bot("42:BENCH", session=aiogram_session(api))

    @dp.message()
    async def echo(msg: Message) -> None:
        await msg.answer(msg.text or "")

    ids = itertools.count(1)
    steps = 5

    async def send(person: int, _step: int) -> None:
        raw = message(next(ids), 1000 + person, "hello")
        await dp.feed_update(bot, Update.model_validate(raw, context={"bot": bot}))

    rate, lat = await closed_loop(max(1, events // steps), concurrency, steps, send)
    assert api.calls >= len(lat)
    return rate, lat


async def bare_ptb(events: int, concurrency: int) -> tuple[float, list[float]]:
    """python-telegram-bot's application with an echo handler that replies."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, MessageHandler, filters

    api = MemoryBotAPI()
    application = (
        ApplicationBuilder()
        .token("42:BENCH")
        .request(ptb_request(api))
        .get_updates_request(ptb_request(api))
        .concurrent_updates(True)
        .build()
    )

    async def echo(update: Update, _context: Any) -> None:
        assert update.message is not None
        await update.message.reply_text(update.message.text or "")

    application.add_handler(MessageHandler(filters.TEXT, echo))
    ids, steps = itertools.count(1), 5

    async def send(person: int, _step: int) -> None:
        raw = message(next(ids), 1000 + person, "hello")
        await application.process_update(Update.de_json(raw, application.bot))

    async with application:
        rate, lat = await closed_loop(max(1, events // steps), concurrency, steps, send)
    return rate, lat


async def haoxin(
    framework: str, people: int, concurrency: int, path: Path
) -> tuple[float, list[float]]:
    """Haoxin through one framework's transport, people onboarding by tapping."""
    from bot.app import create_app, warm_up
    from bot.config import Settings

    settings = Settings(
        _env_file=None, database_url=f"sqlite+aiosqlite:///{path}", telegram_token="42:BENCH"
    )  # type: ignore[call-arg]
    app = await create_app(settings)
    api = MemoryBotAPI()
    if framework == "aiogram":
        from bot import telegram_aiogram

        wired = telegram_aiogram.wire(app, aiogram_session(api))
    else:
        from bot import telegram_ptb

        wired = telegram_ptb.wire(app, ptb_request(api))
    await warm_up(app)  # as each transport's `run` does once its framework is loaded
    ids = itertools.count(1)

    async def send(person: int, step: int) -> None:
        chat_id, label = 1000 + person, ONBOARDING[step]
        if step == 0:
            raw = message(next(ids), chat_id, label)
        else:
            button = next(b for b in api.keyboards[chat_id] if label in b["text"])
            raw = tap(next(ids), chat_id, button["callback_data"])
        await wired.feed(wired.parse(raw))

    async with wired.started(None, ""):
        rate, lat = await closed_loop(people, concurrency, len(ONBOARDING), send)
    await app.close()
    return rate, lat


def row(name: str, rate: float, lat: list[float], base: float | None = None) -> str:
    ms = [x * 1000 for x in lat]
    ratio = f"{rate / base:>9.2f}" if base else f"{'':>9}"
    return (
        f"{name:<34} {rate:>9.0f} {statistics.median(ms):>7.2f} {pct(ms, 95):>7.2f} "
        f"{pct(ms, 99):>7.2f} {ratio}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1280)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    events = args.people * len(ONBOARDING)
    with tempfile.TemporaryDirectory() as tmp:
        a_rate, a_lat = await bare_aiogram(events, args.concurrency)
        p_rate, p_lat = await bare_ptb(events, args.concurrency)
        ha = await haoxin("aiogram", args.people, args.concurrency, Path(tmp) / "a.db")
        hp = await haoxin("ptb", args.people, args.concurrency, Path(tmp) / "p.db")
    print(f"{events} events each, {args.concurrency} people at a time, in-memory Bot API")
    head = ("path", "events/s", "p50 ms", "p95 ms", "p99 ms", "x bare")
    print("{:<34} {:>9} {:>7} {:>7} {:>7} {:>9}".format(*head))
    print(row("bare aiogram, echo that replies", a_rate, a_lat))
    print(row("bare python-telegram-bot, echo", p_rate, p_lat))
    print(row("Haoxin through telegram_aiogram", *ha, a_rate))
    print(row("Haoxin through telegram_ptb", *hp, p_rate))
    print("aim: x bare >= 0.5 and p99 < 50 ms for both transports")


if __name__ == "__main__":
    asyncio.run(main())
