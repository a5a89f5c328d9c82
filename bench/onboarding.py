"""Benchmark: many simulated people through onboarding on a SQLite file.

Prints events per second and p50/p95/p99 handling latency (from handing the event to
the dispatcher until its replies are back), beside a bare aiogram dispatcher with an
echo handler fed the same number of updates in the same run: the ceiling of what a
Telegram framework does with no database at all. Our rate is printed as a ratio of it.

    python bench/onboarding.py [--users 2000] [--concurrency 1 16 64] [--batch-size 64]

Each person plays: /start, Continue (her menu), /privacy, I agree, then a coming-soon
entry (5 events, every one a database transaction shared with whoever else is waiting).
Closed loop: each simulated person waits for the answer before the next tap.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from stats import pct

from bot.app import create_app
from bot.config import Settings
from handlers.events import Event


async def run_haoxin(
    users: int, concurrency: int, batch: int, path: Path
) -> tuple[float, list[float]]:
    settings = Settings(
        _env_file=None, database_url=f"sqlite+aiosqlite:///{path}", batch_size=batch
    )  # type: ignore[call-arg]
    app = await create_app(settings)
    latencies: list[float] = []
    ids = iter(range(10**9))
    gate = asyncio.Semaphore(concurrency)

    async def person(n: int) -> None:
        async with gate:
            user = f"tg:{n}"
            for text in ("/start", "1", "/privacy", "1", "4"):
                ev = Event(user, text=text, update_id=str(next(ids)), lang_hint="zh-hans")
                t0 = time.perf_counter()
                handled = await app.dispatcher.handle(ev)
                latencies.append(time.perf_counter() - t0)
                assert handled.replies and "went wrong" not in handled.replies[0].text

    gc.collect()
    t0 = time.perf_counter()
    await asyncio.gather(*(person(n) for n in range(users)))
    elapsed = time.perf_counter() - t0
    await app.close()
    return len(latencies) / elapsed, latencies


async def run_aiogram(updates: int) -> float:
    from aiogram import Bot, Dispatcher
    from aiogram.types import Message, Update

    dp = Dispatcher()
    seen = 0

    async def is_text(message: Message) -> bool:
        return message.text is not None

    @dp.message(is_text)
    async def echo(message: Message) -> None:
        nonlocal seen
        seen += 1  # replying is stubbed out: the ceiling without any I/O

    bot = Bot("42:BENCH")
    parsed = [
        Update.model_validate(
            {
                "update_id": i,
                "message": {
                    "message_id": i,
                    "date": 0,
                    "chat": {"id": i % 1000, "type": "private"},
                    "from": {"id": i % 1000, "is_bot": False, "first_name": "x"},
                    "text": "hello",
                },
            }
        )
        for i in range(updates)
    ]
    t0 = time.perf_counter()
    for update in parsed:
        await dp.feed_update(bot, update)
    elapsed = time.perf_counter() - t0
    await bot.session.close()
    assert seen == updates
    return updates / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()

    print(f"{args.users} people x 5 onboarding events, SQLite WAL, batch <= {args.batch_size}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for c in args.concurrency:
            rate, lat = await run_haoxin(args.users, c, args.batch_size, Path(tmp) / f"b{c}.db")
            rows.append((c, rate, lat))
    ceiling = await run_aiogram(args.users * 5)
    print(f"aiogram bare dispatcher, echo handler, pre-parsed updates: {ceiling:8.0f} updates/s")
    head = ("concurrent", "events/s", "p50 ms", "p95 ms", "p99 ms", "x aiogram")
    print("{:>10} {:>9} {:>7} {:>7} {:>7} {:>9}".format(*head))
    for c, rate, lat in rows:
        ms = [x * 1000 for x in lat]
        print(
            f"{c:>10} {rate:>9.0f} {statistics.median(ms):>7.2f} {pct(ms, 95):>7.2f} "
            f"{pct(ms, 99):>7.2f} {rate / ceiling:>9.2f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
