"""Benchmark: what job seekers really do, many at once, through the dispatcher alone.

Each simulated person (closed loop: she waits for each answer before her next input)
plays, in English, tapping buttons by their label and typing where people type:

    onboard (2)         /start, Continue
    browse (4)          Find a free course, By kind of work, a kind, Later ▶ (a page)
    card (1)            a course on that page
    search (4)          Main menu, Find a free course, Type what..., "yuesao" typed
    form (7)            a result's card, Sign up, I agree (privacy), the four answers
    confirm (1)         Confirm sign-up (the reply shows My sign-ups)
    my sign-ups (2)     Main menu, My sign-ups
    fairs (3)           Main menu, Job fairs, a fair's card

24 events a person, against 600 courses and 300 fairs in a SQLite file. Prints
events/s and p50/p95/p99 per kind of step and overall, beside a bare aiogram dispatcher
with an echo handler that replies (through an in-memory Bot API) in the same run, and
the ratio of the two. And the SQL statements per event of each kind of step (BEGIN and
COMMIT included): for one person alone, and for 64 people taking the step at the same
moment (sharing transactions). `tests/test_statements.py` holds the mechanisms.

    python bench/mixed.py [--people 640] [--concurrency 64] [--lockstep]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import event
from stats import pct
from transports import bare_aiogram

from bot.app import App, create_app, warm_up
from bot.config import Settings
from handlers.events import Event
from handlers.replies import Reply
from storage.importer import DataFile, import_data

TRACKS = ["月嫂/母婴护理", "育婴员", "家政服务员/保姆", "养老护理员", "病患陪护", "催乳师"]
COUNTIES = ["茂南", "电白", "高州", "化州", "信宜"]
PLACES = ["茂名", "广州", "深圳", "东莞", "佛山", "香港", "澳门", "珠海"]

# (kind of step, what she does): "tap" a label, "say" a text, "pick" the first item,
# "act" the button of an action
JOURNEY: list[tuple[str, str, str]] = [
    ("onboard", "say", "/start"),
    ("onboard", "tap", "Continue"),
    ("browse", "tap", "Find a free course"),
    ("browse", "tap", "By kind of work"),
    ("browse", "tap", "Maternity nurse"),
    ("browse", "tap", "Later ▶"),
    ("card", "pick", ""),
    ("search", "tap", "◀ Back"),
    ("search", "tap", "◀ Back"),
    ("search", "tap", "Type what you are looking for"),
    ("search", "say", "yuesao"),
    ("form", "pick", ""),
    ("form", "act", "signup"),  # "Sign up", or "Join the waiting list" once it is full
    ("form", "tap", "I agree"),  # the privacy notice, at the first personal question
    ("form", "say", "李秀梅"),
    ("form", "say", "138 0013 8000"),
    ("form", "tap", "Maonan"),
    ("form", "say", "38"),
    ("confirm", "tap", "Confirm sign-up"),
    ("my sign-ups", "tap", "Main menu"),
    ("my sign-ups", "tap", "My sign-ups"),
    ("fairs", "tap", "Main menu"),
    ("fairs", "tap", "Job fairs"),
    ("fairs", "pick", ""),
]


def catalogue(courses: int = 600, fairs: int = 300) -> DataFile:
    """Courses over every kind and county, a few weeks out; fairs with employers."""
    today = dt.date.today()
    bases = [
        {"code": f"b{n}", "name": f"{c}家政培训基地", "county": c} for n, c in enumerate(COUNTIES)
    ]
    rows = []
    for n in range(courses):
        start = today + dt.timedelta(days=5 + n % 60)
        rows.append(
            {
                "code": f"c{n}",
                "title": f"{TRACKS[n % 6].split('/')[0]}培训班第{n}期",
                "track": TRACKS[n % 6],
                "base": f"b{n % 5}",
                "starts_on": start,
                "ends_on": start + dt.timedelta(days=14),
                "seats": 40,
            }
        )
    fair_rows = []
    for n in range(fairs):
        day = today + dt.timedelta(days=2 + n % 45)
        jobs = [
            {"category": TRACKS[(n + k) % 6].split("/")[0], "destination": PLACES[(n + k) % 8]}
            for k in range(3)
        ]
        fair_rows.append(
            {
                "code": f"f{n}",
                "title": f"{COUNTIES[n % 5]}家政招聘会第{n}场",
                "starts_at": dt.datetime.combine(day, dt.time(9)),
                "venue": "人力资源市场",
                "county": COUNTIES[n % 5],
                "employers": [{"name": f"家政公司{n}", "jobs": jobs}],
            }
        )
    return DataFile.model_validate(
        {"training_bases": bases, "courses": rows, "job_fairs": fair_rows}
    )


class Person:
    """One simulated person: her last screen, to tap its buttons by their label."""

    def __init__(self, app: App, user: str) -> None:
        self.app, self.user, self.replies = app, user, list[Reply]()
        self.n = 0

    def event(self, how: str, what: str) -> Event:
        self.n += 1
        update_id = f"{self.user}-{self.n}"
        if how == "say":
            return Event(self.user, text=what, update_id=update_id, lang_hint="en")
        buttons = [b for r in self.replies for b in r.flat_buttons()]
        if how == "pick":
            chosen = buttons[0]
        elif how == "act":  # the button of this action, whatever its label says
            chosen = next(b for b in buttons if b.data.split("|")[1].split(":")[0] == what)
        else:
            chosen = next((b for b in buttons if what in b.label), None)
            if chosen is None:
                raise AssertionError(f"{self.user}: no {what!r} in {[b.label for b in buttons]}")
        return Event(self.user, data=chosen.data, update_id=update_id, lang_hint="en")

    async def play(self, latencies: dict[str, list[float]]) -> None:
        for kind, how, what in JOURNEY:
            ev = self.event(how, what)
            t0 = time.perf_counter()
            handled = await self.app.dispatcher.handle(ev)
            latencies[kind].append(time.perf_counter() - t0)
            self.replies = handled.replies
            if not handled.replies or "went wrong" in handled.replies[0].text:
                raise AssertionError(f"{self.user} at {what!r}: {handled.replies}")


async def build(path: Path, batch: int = 64) -> App:
    settings = Settings(
        _env_file=None, database_url=f"sqlite+aiosqlite:///{path}", batch_size=batch
    )  # type: ignore[call-arg]
    app = await create_app(settings)
    async with app.db.sessions() as s, s.begin():
        await import_data(s, catalogue())
    return app


async def run(
    people: int, concurrency: int, path: Path, lockstep: bool = False
) -> tuple[float, dict[str, list[float]]]:
    """Events/s and the latencies (seconds) of each kind of step. Unless `lockstep`, the
    first `concurrency` people arrive spread over about one journey's time (25 ms an
    event), as people do: started together, identical journeys stay in step for the
    whole run, all confirming at once, then all reading the onboarding together."""
    stagger = random.Random(8)
    app = await build(path)
    latencies: dict[str, list[float]] = defaultdict(list)
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        async with gate:
            if n < concurrency and not lockstep:  # the first ones arrive spread out
                await asyncio.sleep(stagger.uniform(0, len(JOURNEY) * 0.025))
            await Person(app, f"tg:{n}").play(latencies)

    await Person(app, "tg:warm").play(defaultdict(list))  # the search index, imports
    await warm_up(app)  # as each transport's `run` does at start-up
    t0 = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(people)))
    elapsed = time.perf_counter() - t0
    await app.close()
    return sum(map(len, latencies.values())) / elapsed, latencies


@contextmanager
def counting(app: App) -> Iterator[list[str]]:
    """The SQL statements the app sends while inside (BEGIN and COMMIT included)."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    def commit(_conn: Any) -> None:
        seen.append("COMMIT")

    engine = app.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    event.listen(engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)
        event.remove(engine, "commit", commit)


async def statements(path: Path) -> dict[str, list[int]]:
    """Statements per event of each kind of step, for one person alone (batch of 1)."""
    app = await build(path, batch=1)
    await Person(app, "tg:warm").play(defaultdict(list))
    person, out = Person(app, "tg:counted"), defaultdict(list)
    for kind, how, what in JOURNEY:
        ev = person.event(how, what)
        with counting(app) as seen:
            person.replies = (await app.dispatcher.handle(ev)).replies
        out[kind].append(len(seen))
    await app.close()
    return out


async def statements_together(path: Path, people: int = 64) -> dict[str, list[float]]:
    """Statements per event of each kind of step when `people` take it at the same
    moment (one shared transaction, or a few): what a busy hour costs the database."""
    app = await build(path, batch=people)
    await Person(app, "tg:warm").play(defaultdict(list))
    crowd, out = [Person(app, f"tg:c{n}") for n in range(people)], defaultdict(list)
    for kind, how, what in JOURNEY:
        events = [p.event(how, what) for p in crowd]
        with counting(app) as seen:
            handled = await asyncio.gather(*(app.dispatcher.handle(ev) for ev in events))
        for person, h in zip(crowd, handled, strict=True):
            person.replies = h.replies
        out[kind].append(len(seen) / people)
    await app.close()
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=640)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--lockstep", action="store_true", help="everyone starts at once")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        counted = await statements(Path(tmp) / "count.db")
        together = await statements_together(Path(tmp) / "together.db")
        rate, lat = await run(args.people, args.concurrency, Path(tmp) / "mixed.db", args.lockstep)
    bare, bare_lat = await bare_aiogram(args.people * len(JOURNEY), args.concurrency)
    start = "all starting at once" if args.lockstep else "arriving spread over a journey"
    print(
        f"{args.people} people x {len(JOURNEY)} events, {args.concurrency} at a time "
        f"({start}), SQLite WAL, 600 courses, 300 fairs"
    )
    head = ("step", "events", "p50 ms", "p95 ms", "p99 ms", "SQL alone", "SQL in 64")
    print("{:<12} {:>7} {:>7} {:>7} {:>7} {:>10} {:>10}".format(*head))
    everything: list[float] = []
    for kind in dict.fromkeys(k for k, _, _ in JOURNEY):
        ms = [x * 1000 for x in lat[kind]]
        everything += ms
        sql, shared = counted[kind], together[kind]
        print(
            f"{kind:<12} {len(ms):>7} {statistics.median(ms):>7.2f} {pct(ms, 95):>7.2f} "
            f"{pct(ms, 99):>7.2f} {sum(sql) / len(sql):>10.1f} {sum(shared) / len(shared):>10.2f}"
        )
    print(
        f"{'all':<12} {len(everything):>7} {statistics.median(everything):>7.2f} "
        f"{pct(everything, 95):>7.2f} {pct(everything, 99):>7.2f}"
    )
    print(
        "SQL alone / SQL in 64: SQL statements per event (BEGIN and COMMIT included), for"
        " one person alone, and for 64 people taking the step at the same moment"
    )
    bare_ms = [x * 1000 for x in bare_lat]
    print(f"Haoxin mixed, dispatcher alone: {rate:8.0f} events/s, p99 {pct(everything, 99):.1f} ms")
    print(f"bare aiogram echo that replies: {bare:8.0f} events/s, p99 {pct(bare_ms, 99):.1f} ms")
    print(f"ratio to bare aiogram: {rate / bare:.2f}  (aim: >= 2,000 events/s, p99 < 50 ms)")


if __name__ == "__main__":
    asyncio.run(main())
