"""Benchmark: a broadcast to 10,000 people against a Bot API that enforces its limits.

The fake Bot API (`FakeBotApi`, real HTTP on 127.0.0.1) answers 429 with `retry_after`
when more than `--limit` messages (30) arrived in the last second, or a second one to
the same chat within a second. The broadcaster runs in a subprocess (`--worker`), as a
transport runs it (`bot.broadcaster.Broadcaster` over `bot.telegram.Telegram` through
aiogram), against a SQLite file.

1. One broadcast to `--recipients` people: the achieved rate (first to last message)
   as a ratio of the configured one (`HAOXIN_BROADCAST_RATE`, aim >= 0.95), the 429s
   provoked (aim 0), and that every person got exactly one message.
2. Another one, with the broadcaster killed (SIGKILL) half-way, while a message is in
   flight (the API has taken it and not answered yet), and started again: how many
   people got it twice, beside how many messages were in flight at the kill (taken by
   the API, not recorded as sent): at most those.

    python bench/broadcast.py [--recipients 10000] [--rate 25] [--limit 30] [--lease 5]
    python bench/broadcast.py --recipients 500        # quickly
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import ClientSession, ClientTimeout, web

TOKEN = "123456:BENCH-TOKEN"
BOT = {"id": 4242, "is_bot": True, "first_name": "Haoxin", "username": "haoxin_bench_bot"}
FIRST_CHAT = 100_000


class FakeBotApi:
    """A Bot API that enforces Telegram's broadcast limits and records what it took.

    - At most `limit` messages in any second (a sliding window), and one a `per_chat`
      seconds to one chat: beyond that, 429 with `parameters.retry_after` (whole
      seconds, as Telegram gives them), counted in `floods`.
    - A chat in `blocked` answers 403 (the person blocked the bot).
    - `flood_next(n, retry_after)`: the next n messages are answered 429 whatever the
      pace (Telegram sometimes asks to wait without warning).
    - `sent`: every message taken, as (monotonic time it arrived, chat id, text);
      `refused`: every refusal, as (time, chat id, status); `tokens`: messages taken
      per bot token (two clients with two tokens tell their shares apart).
    """

    def __init__(self, limit: int = 30, per_chat: float = 1.0, retry_after: int = 1) -> None:
        self.limit = limit
        self.per_chat = per_chat
        self.retry_after = retry_after
        self.blocked: set[int] = set()
        self.sent: list[tuple[float, int, str]] = []
        self.refused: list[tuple[float, int, int]] = []
        self.floods = 0
        self.tokens: collections.Counter[str] = collections.Counter()
        #: called with the number of messages taken, as each is taken (before answering)
        self.on_message: Callable[[int], None] | None = None
        self._forced: list[int] = []
        self._window: collections.deque[float] = collections.deque()
        self._last: dict[int, float] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    def flood_next(self, n: int = 1, retry_after: int = 1) -> None:
        self._forced += [retry_after] * n

    def per_chat_counts(self) -> collections.Counter[int]:
        return collections.Counter(chat for _t, chat, _text in self.sent)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            params = await request.json()
        else:
            params = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        if method == "getMe":
            return web.json_response({"ok": True, "result": BOT})
        if method != "sendMessage":
            return web.json_response({"ok": True, "result": True})
        now = time.monotonic()
        chat = int(params["chat_id"])
        while self._window and self._window[0] <= now - 1.0:
            self._window.popleft()
        if chat in self.blocked:
            self.refused.append((now, chat, 403))
            body = {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked"}
            return web.json_response(body, status=403)
        too_fast = len(self._window) >= self.limit
        too_soon = now - self._last.get(chat, -1e9) < self.per_chat
        if self._forced or too_fast or too_soon:
            wait = self._forced.pop(0) if self._forced else self.retry_after
            self.floods += 1
            self.refused.append((now, chat, 429))
            body = {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {wait}",
                "parameters": {"retry_after": wait},
            }
            return web.json_response(body, status=429)
        self._window.append(now)
        self._last[chat] = now
        self.sent.append((now, chat, str(params.get("text", ""))))
        self.tokens[request.match_info["token"]] += 1
        if self.on_message is not None:  # before the answer: the sender has not seen it
            self.on_message(len(self.sent))
        message = {
            "message_id": len(self.sent),
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private"},
            "from": BOT,
            "text": str(params.get("text", "")),
        }
        return web.json_response({"ok": True, "result": message})


def raw_bot_api(url: str, token: str) -> tuple[Callable[..., Awaitable[Any]], Callable]:
    """A Bot API client without a framework: `call(method, params)` as the frameworks'
    adapters give it to `bot.telegram.Telegram` (flood control raised as `RetryAfter`,
    a blocked chat as `Blocked`), and `close()`."""
    from bot.telegram import Blocked, RetryAfter

    http: ClientSession | None = None

    async def call(method: str, params: dict[str, Any]) -> Any:
        nonlocal http
        if http is None:
            http = ClientSession(timeout=ClientTimeout(total=30))
        async with http.post(f"{url}/bot{token}/{method}", json=params) as response:
            answer = await response.json()
        if answer.get("ok"):
            return answer["result"]
        if answer.get("error_code") == 429:
            raise RetryAfter(float(answer.get("parameters", {}).get("retry_after", 1)))
        if answer.get("error_code") == 403:
            raise Blocked()
        raise RuntimeError(f"Bot API error {answer.get('error_code')}")

    async def close() -> None:
        if http is not None:
            await http.close()

    return call, close


# --- the broadcaster, in its own process ---------------------------------------------------
async def worker(db_path: str, api: str, rate: float, lease: float, framework: str) -> None:
    """Run a broadcaster for Telegram until killed."""
    from bot.app import create_app, settle_memory
    from bot.broadcaster import Broadcaster
    from bot.config import Settings
    from bot.telegram import Telegram

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{db_path}",
        telegram_token=TOKEN,
        telegram_api_url=api,
        broadcast_rate=rate,
        files_dir=str(Path(db_path).parent / "files"),
    )
    app = await create_app(settings)
    if framework == "aiogram":
        from bot.telegram_aiogram import wire

        telegram = wire(app).telegram
    else:
        call, _close = raw_bot_api(api, TOKEN)
        telegram = Telegram(app.dispatcher, app.db, call)
    settle_memory()  # as a transport does before serving (`bot.app.warm_up`)
    await Broadcaster(app.db, telegram, rate=rate, lease=lease).run_forever()


# --- the benchmark ------------------------------------------------------------------------
async def seed(db_path: Path, recipients: int) -> None:
    """`recipients` job seekers on Telegram, in the three languages."""
    from sqlalchemy import insert

    from storage.db import open_database
    from storage.models import User

    db = await open_database(f"sqlite+aiosqlite:///{db_path}")
    langs = ("zh", "yue", "en")
    rows = [
        {"key": f"tg:{FIRST_CHAT + n}", "lang": langs[n % 3], "role": "seeker", "state": ""}
        for n in range(recipients)
    ]
    async with db.sessions() as session, session.begin():
        await session.execute(insert(User), rows)
    await db.close()


async def broadcast(db: Any, title: str) -> int:
    """A notice to every job seeker, confirmed; returns its id."""
    from storage.broadcasts import BroadcastRepo

    texts = {
        "zh": f"{title}：新的月嫂课程",
        "yue": f"{title}：新嘅月嫂課程",
        "en": f"{title}: a new course",
    }
    async with db.sessions() as session, session.begin():
        repo = BroadcastRepo(session)
        made = await repo.create("console:admin", texts, {"who": "seekers"})
        assert await repo.confirm(made.id, made.version)
        return made.id


async def state_of(db: Any, broadcast_id: int) -> tuple[str, dict[str, int]]:
    """The broadcast's status and its deliveries per status."""
    from sqlalchemy import func, select

    from storage.models import Broadcast, BroadcastDelivery

    async with db.sessions() as session:
        status = await session.scalar(select(Broadcast.status).where(Broadcast.id == broadcast_id))
        rows = await session.execute(
            select(BroadcastDelivery.status, func.count())
            .where(BroadcastDelivery.broadcast_id == broadcast_id)
            .group_by(BroadcastDelivery.status)
        )
        return status or "", dict(rows.all())


def busiest_second(times: list[float]) -> int:
    """The most messages that arrived within any one second."""
    times, most, first = sorted(times), 0, 0
    for last, t in enumerate(times):
        while times[first] <= t - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def start_worker(args: argparse.Namespace, db_path: Path, api: str) -> subprocess.Popen:
    command = [sys.executable, __file__, "--worker", "--db", str(db_path), "--api", api]
    command += ["--rate", str(args.rate), "--lease", str(args.lease)]
    command += ["--framework", args.framework]
    return subprocess.Popen(command, cwd=Path(__file__).resolve().parent.parent)


async def until(check: Callable[[], Awaitable[bool]], every: float = 0.5) -> None:
    while True:
        if await check():
            return
        await asyncio.sleep(every)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Both rounds; what they measured. While the broadcaster sends, this process (which
    serves the fake Bot API) only counts in memory: the database is read before and after."""
    from storage.db import open_database

    folder = Path(tempfile.mkdtemp(prefix="haoxin-broadcast-"))
    db_path = folder / "bench.db"
    await seed(db_path, args.recipients)
    db = await open_database(f"sqlite+aiosqlite:///{db_path}")
    out: dict[str, Any] = {"recipients": args.recipients, "rate": args.rate, "limit": args.limit}

    # 1. the whole broadcast, undisturbed
    fake = FakeBotApi(limit=args.limit)
    api = await fake.start()
    first = await broadcast(db, "Notice 1")
    proc = start_worker(args, db_path, api)
    try:
        await until(lambda: _reached(fake, args.recipients, distinct=True), every=0.2)
        await until(lambda: _done(db, first), every=1.0)
    finally:
        proc.kill()
        proc.wait()
    times = [t for t, _chat, _text in fake.sent]
    achieved = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    counts = fake.per_chat_counts()
    out["achieved_rate"] = round(achieved, 2)
    out["rate_ratio"] = round(achieved / args.rate, 3)
    out["busiest_second"] = busiest_second(times)
    out["floods_429"] = fake.floods
    out["exactly_once"] = len(counts) == args.recipients and set(counts.values()) == {1}
    await fake.stop()

    # 2. killed half-way, started again
    fake = FakeBotApi(limit=args.limit)
    api = await fake.start()
    second = await broadcast(db, "Notice 2")
    proc = start_worker(args, db_path, api)
    half = args.recipients // 2

    def kill(taken: int, pid: int = proc.pid) -> None:
        """Killed while message `half` is in flight: taken here, not yet answered."""
        if taken == half:
            os.kill(pid, signal.SIGKILL)

    fake.on_message = kill
    await until(lambda: _reached(fake, half), every=0.01)
    proc.wait()
    fake.on_message = None
    await asyncio.sleep(0.5)  # what was on its way to the API when it died arrives
    _status, by_status = await state_of(db, second)
    out["killed_after"] = len(fake.sent)
    out["in_flight_at_kill"] = len(fake.per_chat_counts()) - by_status.get("sent", 0)
    proc = start_worker(args, db_path, api)
    try:
        await until(lambda: _reached(fake, args.recipients, distinct=True), every=0.2)
        await until(lambda: _done(db, second), every=1.0)
    finally:
        proc.kill()
        proc.wait()
    counts = fake.per_chat_counts()
    out["sent_twice"] = sum(1 for n in counts.values() if n > 1)
    out["missed"] = args.recipients - len(counts)
    out["floods_429_with_kill"] = fake.floods
    await fake.stop()
    await db.close()
    return out


async def _done(db: Any, broadcast_id: int) -> bool:
    return (await state_of(db, broadcast_id))[0] == "done"


async def _reached(fake: FakeBotApi, n: int, *, distinct: bool = False) -> bool:
    return len(fake.per_chat_counts() if distinct else fake.sent) >= n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000, help="people (10000)")
    parser.add_argument("--rate", type=float, default=25.0, help="HAOXIN_BROADCAST_RATE (25)")
    parser.add_argument("--limit", type=int, default=30, help="the API's messages a second (30)")
    parser.add_argument("--lease", type=float, default=5.0, help="seconds a claim holds (5)")
    parser.add_argument("--framework", choices=("aiogram", "raw"), default="aiogram")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        asyncio.run(worker(args.db, args.api, args.rate, args.lease, args.framework))
        return
    result = asyncio.run(run(args))
    print(json.dumps(result, indent=2))
    print(
        f"rate: {result['achieved_rate']}/s of {args.rate}/s configured "
        f"(ratio {result['rate_ratio']}, aim >= 0.95; busiest second "
        f"{result['busiest_second']}); 429s: {result['floods_429']} (aim 0); "
        f"every person exactly once: {result['exactly_once']}"
    )
    print(
        f"killed after {result['killed_after']} messages, {result['in_flight_at_kill']} in "
        f"flight: sent twice {result['sent_twice']} (at most those), missed {result['missed']}"
    )


if __name__ == "__main__":
    main()
