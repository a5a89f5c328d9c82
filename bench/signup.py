"""Benchmark: sign-up under contention: many people confirm at once for a few seats.

Each simulated person is brought to the sign-up summary first (not timed); then all
press "Confirm" at the same moment. Prints confirmations per second, p50/p99 latency,
and checks that exactly `seats` were seated, with one instance and with two instances
sharing the SQLite file.

    python bench/signup.py [--people 1000] [--seats 20]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import func, select
from stats import pct

from bot.app import App, create_app
from bot.config import Settings
from handlers.events import Event
from storage.importer import DataFile, import_data
from storage.models import Signup

STEPS = [
    "/start course_1",  # a poster's link: the card
    "1",  # Sign up
    "1",  # I agree (the privacy notice, at the first personal question)
    "李秀梅",
    "13800138000",
    "1",  # her county
    "38",
]


async def ready(app: App, user: str) -> None:
    """From a poster's link: the card's "Sign up", the privacy notice, the form (typed
    numbers and answers), to the summary."""
    for n, text in enumerate(STEPS):
        await app.dispatcher.handle(Event(user, text=text, update_id=f"{user}-{n}", lang_hint="en"))


async def run(
    people: int, seats: int, instances: int, folder: str
) -> tuple[float, list[float], int]:
    url = f"sqlite+aiosqlite:///{folder}/signup-{instances}.db"
    apps = [await create_app(Settings(_env_file=None, database_url=url)) for _ in range(instances)]  # type: ignore[call-arg]
    today = dt.date.today()
    data = DataFile.model_validate(
        {
            "training_bases": [{"code": "b", "name": "茂名培训基地", "county": "茂南"}],
            "courses": [
                {
                    "code": "c",
                    "title": "月嫂班",
                    "track": "月嫂",
                    "base": "b",
                    "starts_on": today + dt.timedelta(days=10),
                    "ends_on": today + dt.timedelta(days=20),
                    "seats": seats,
                }
            ],
        }
    )
    async with apps[0].db.sessions() as s, s.begin():
        await import_data(s, data)
    users = [f"tg:{n}" for n in range(people)]
    for n, user in enumerate(users):
        await ready(apps[n % instances], user)
    latencies: list[float] = []

    async def confirm(n: int, user: str) -> None:
        t0 = time.perf_counter()
        await apps[n % instances].dispatcher.handle(Event(user, text="1", update_id=f"c-{n}"))
        latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(confirm(n, u) for n, u in enumerate(users)))
    elapsed = time.perf_counter() - t0
    async with apps[0].db.sessions() as s:
        seated = await s.scalar(select(func.count()).where(Signup.status == "confirmed"))
    for app in apps:
        await app.close()
    return people / elapsed, latencies, seated or 0


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--seats", type=int, default=20)
    args = parser.parse_args()
    print(f"{args.people} people confirm at once for {args.seats} seats (SQLite WAL)")
    with tempfile.TemporaryDirectory() as folder:
        for instances in (1, 2):
            rate, lat, seated = await run(args.people, args.seats, instances, folder)
            ms = [x * 1000 for x in lat]
            print(
                f"{instances} instance(s): {rate:7.0f} confirmations/s, p50 "
                f"{statistics.median(ms):6.1f} ms, p99 {pct(ms, 99):6.1f} ms, seated {seated}"
                f" {'(correct)' if seated == args.seats else '(WRONG)'}"
                f"; {rate / 1000:.2f} of the aim of 1,000/s"
            )


if __name__ == "__main__":
    asyncio.run(main())
