"""Sending later: two notifiers on one database file never send a message twice, a
person's messages go out in the order they were written, and a lost claim is not sent."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys

from sqlalchemy import select, update

from bot.notifier import Delivery, Notifier, SendError
from handlers.replies import Reply
from storage.db import open_database
from storage.models import Outbox, utcnow
from storage.repositories import Repos


class Recorder:
    """A platform that records what it was asked to send, slowly, and can refuse."""

    platforms = ("tg",)

    def __init__(self, sent: list[tuple[str, str]], refuse: set[str] | None = None) -> None:
        self.sent = sent
        self.refuse = refuse or set()

    async def send(self, user: str, replies: list[Reply]) -> Delivery:
        text = replies[0].text
        await asyncio.sleep(0)  # let the other notifier run in between
        if text in self.refuse:
            self.refuse.discard(text)
            raise SendError(-1)
        self.sent.append((user, text))
        return Delivery.SENT


async def queue(db, messages: list[tuple[str, str]]) -> None:
    async with db.sessions() as s, s.begin():
        for user, text in messages:
            Repos(s).outbox.add(user, [Reply(text).to_dict()])


async def drain(*notifiers: Notifier) -> None:
    async def run(n: Notifier) -> None:
        for _ in range(400):
            if not await n.run_once():
                await asyncio.sleep(0.01)
                if not await n.run_once():
                    return

    await asyncio.gather(*(run(n) for n in notifiers))


async def test_two_notifiers_on_one_file_send_each_message_once_and_in_order(db_path):
    first = await open_database(f"sqlite+aiosqlite:///{db_path}")
    second = await open_database(f"sqlite+aiosqlite:///{db_path}")
    try:
        messages = [(f"tg:{n % 25}", f"message {n}") for n in range(500)]
        await queue(first, messages)
        sent: list[tuple[str, str]] = []
        await drain(
            Notifier(first, Recorder(sent), every=0.01),
            Notifier(second, Recorder(sent), every=0.01),
        )
        assert sorted(sent) == sorted(messages)  # every message once: none twice, none lost
        for person in {u for u, _ in messages}:
            mine = [t for u, t in sent if u == person]
            assert mine == [t for u, t in messages if u == person]  # in the order written
        async with first.sessions() as s:
            rows = list(await s.scalars(select(Outbox)))
        assert all(r.status == "sent" and r.attempts == 1 and r.claim is None for r in rows)
    finally:
        await first.close()
        await second.close()


async def test_a_failed_message_holds_back_her_later_ones(app):
    await queue(app.db, [("tg:1", "part 1"), ("tg:1", "part 2"), ("tg:2", "other")])
    sent: list[tuple[str, str]] = []
    notifier = Notifier(app.db, Recorder(sent, refuse={"part 1"}), every=0.01)
    await notifier.run_once()
    assert ("tg:1", "part 2") not in sent  # not before part 1
    async with app.db.sessions() as s:
        failed = await s.scalar(select(Outbox).order_by(Outbox.id))
    assert failed.error == "SendError -1"  # the platform's code is kept, for the operator
    async with app.db.sessions() as s, s.begin():  # the retry is due now
        await s.execute(update(Outbox).where(Outbox.status == "pending").values(due_at=utcnow()))
    await drain(notifier)
    assert [t for u, t in sent if u == "tg:1"] == ["part 1", "part 2"]


async def test_a_message_whose_lease_ran_out_and_was_taken_is_not_sent_again(app):
    await queue(app.db, [("tg:1", "reminder")])
    async with app.db.sessions() as s, s.begin():
        token, rows = await Repos(s).outbox.claim(["tg"])
    assert len(rows) == 1
    async with app.db.sessions() as s, s.begin():  # the lease runs out; another takes it
        await s.execute(update(Outbox).values(due_at=utcnow() - dt.timedelta(seconds=1)))
        other, taken = await Repos(s).outbox.claim(["tg"])
    assert len(taken) == 1 and other != token
    async with app.db.sessions() as s, s.begin():
        assert not await Repos(s).outbox.renew(rows[0].id, token)  # so the first must not send
        await Repos(s).outbox.settle(rows[0].id, token, "sent")  # and cannot settle it
    async with app.db.sessions() as s:
        row = await s.scalar(select(Outbox))
    assert row.status == "sending" and row.claim == other


def test_a_failing_command_prints_one_line_without_a_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "HAOXIN_LOG_LEVEL": "VERBOSE",
            "HAOXIN_TELEGRAM_TOKEN": "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "VERBOSE" in lines[0]
