"""What an attacker found in the reworked data path, each kind kept fixed by a test.

- a typed "digit" that is no decimal digit (፩, ²) crashed a screen's typed-button match;
- one event that fails made its whole batch run again one event at a time;
- a screen whose subject staff removed answered every message with an apology;
- a delivered outbox message whose "sent" could not be recorded (another process held
  the database) was sent again when its lease ran out;
- staff could import fewer seats than people already seated;
- cleared replies were stored as JSON `null`, which the janitor kept rewriting.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

import storage.db
from bot.app import App, create_app, import_file
from bot.dispatcher import REPLIES_KEPT
from bot.notifier import Delivery, Notifier
from handlers.events import Event
from handlers.replies import Reply
from storage.importer import DataFileError
from storage.models import Course, Outbox, ProcessedEvent, Signup
from storage.repositories import Repos
from tests.catalogue import course, load
from tests.chat import Chat
from tests.conftest import load_user, make_settings
from tests.test_seats_and_reminders import ready_to_confirm
from tests.test_statements import statements


@pytest.mark.parametrize("typed", ["፩", "²", "١"])
async def test_a_typed_number_in_another_script_is_answered_not_crashed(chat, typed):
    me = chat("tg:801", "en")
    await me.say("/start")
    await me.say(typed)
    assert "went wrong" not in me.text
    assert me.labels  # still on a screen with its buttons


async def test_one_failing_event_does_not_make_its_batch_run_one_by_one(app, monkeypatch):
    from handlers import conversation

    people = [f"tg:{810 + n}" for n in range(12)]
    starts = [Event(p, text="/start", update_id="1", lang_hint="en") for p in people]
    await asyncio.gather(*(app.dispatcher.handle(ev) for ev in starts))
    real = conversation._route

    async def trips_on_one(ctx):  # a handler bug that only her event meets
        if ctx.event.user == people[3]:
            raise RuntimeError("a bug")
        return await real(ctx)

    monkeypatch.setattr(conversation, "_route", trips_on_one)
    again = [Event(p, text="hello", update_id="2", lang_hint="en") for p in people]
    with statements(app) as seen:
        handled = await asyncio.gather(*(app.dispatcher.handle(ev) for ev in again))
    assert "went wrong" in handled[3].replies[0].text
    assert all("went wrong" not in h.replies[0].text for i, h in enumerate(handled) if i != 3)
    # the failed batch, the others together, her alone: never one transaction each
    assert seen.count("BEGIN IMMEDIATE") <= 4, seen.count("BEGIN IMMEDIATE")


async def test_a_screen_whose_subject_staff_removed_goes_home_instead_of_apologising(app, tmp_path):
    ids = await load(app, [course("k", "开课班", "月嫂/母婴护理", seats=2)])
    confirm = await ready_to_confirm(app, "tg:820", ids["k"])
    me = Chat(app.dispatcher, "tg:820", "en")
    await me.press(confirm)
    await me.tap("开课班")
    await me.tap("Cancel my place")  # she is asked "Cancel my place?"
    row = course("k", "开课班", "月嫂/母婴护理", seats=2, status="cancelled")
    data = {"courses": [{k: str(v) if isinstance(v, dt.date) else v for k, v in row.items()}]}
    (tmp_path / "cancel.json").write_text(json.dumps(data, ensure_ascii=False))
    await import_file(app.db, tmp_path / "cancel.json")
    for typed in ("hello", "/help"):
        await me.say(typed)
        assert "went wrong" not in me.text, me.text
    assert (await load_user(app, "tg:820")).state != "CONFIRM_CANCEL_SIGNUP"


async def test_an_import_may_not_leave_fewer_seats_than_people_seated(app, tmp_path):
    ids = await load(app, [course("k", "开课班", "月嫂/母婴护理", seats=3)])
    for n in range(3):
        me = Chat(app.dispatcher, f"tg:83{n}", "en")
        await me.press(await ready_to_confirm(app, f"tg:83{n}", ids["k"]))
    row = course("k", "开课班 (新)", "月嫂/母婴护理", seats=2)
    data = {"courses": [{k: str(v) if isinstance(v, dt.date) else v for k, v in row.items()}]}
    (tmp_path / "fewer.json").write_text(json.dumps(data, ensure_ascii=False))
    with pytest.raises(DataFileError) as refused:
        await import_file(app.db, tmp_path / "fewer.json")
    assert "seats" in str(refused.value) and "3 people already seated" in str(refused.value)
    async with app.db.sessions() as s:
        kept = await s.get(Course, ids["k"])
        seated = await s.scalar(
            select(func.count()).where(Signup.course_id == ids["k"], Signup.status == "confirmed")
        )
    assert (kept.seats, kept.seats_taken, kept.title, seated) == (3, 3, "开课班", 3)


async def test_cleared_replies_are_sql_null_and_pruned_once(app, chat):
    me = chat("wx:o840", "en")
    await me.say("/start")
    async with app.db.sessions() as s, s.begin():
        old = dt.datetime.now(dt.UTC).replace(tzinfo=None) - 2 * REPLIES_KEPT
        await s.execute(text("UPDATE processed_events SET handled_at = :old"), {"old": old})
    await app.dispatcher._prune()
    async with app.db.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(ProcessedEvent)) == 1
        raw = await s.scalar(text("SELECT count(*) FROM processed_events WHERE replies IS NULL"))
    assert raw == 1  # SQL NULL: no longer matched by the janitor's partial index


class _Sender:
    platforms = ("tg",)

    def __init__(self, db_file: Path, hold: float) -> None:
        self.sent: list[str] = []
        self.db_file, self.hold = db_file, hold

    async def send(self, user: str, replies: list[Reply]) -> Delivery:
        self.sent.append(user)
        started = threading.Event()

        def hold_the_lock() -> None:  # another process writing as the message goes out
            conn = sqlite3.connect(self.db_file, isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
            started.set()
            threading.Event().wait(self.hold)
            conn.execute("COMMIT")
            conn.close()

        threading.Thread(target=hold_the_lock, daemon=True).start()
        started.wait()
        return Delivery.SENT


async def test_a_delivered_message_is_recorded_sent_even_past_a_busy_database(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(storage.db, "BUSY_TIMEOUT_MS", 150)  # waits shorter than the lock
    db_file = tmp_path / "busy.db"
    app: App = await create_app(make_settings(db_file))
    try:
        async with app.db.sessions() as s, s.begin():
            Repos(s).outbox.add("tg:850", [Reply("reminder").to_dict()])
        sender = _Sender(db_file, hold=1.0)
        notifier = Notifier(app.db, sender)
        assert await notifier.run_once() == 1
        async with app.db.sessions() as s:
            row = await s.scalar(select(Outbox))
        assert row.status == "sent" and sender.sent == ["tg:850"]
        assert await notifier.run_once() == 0  # nothing left to send again
    finally:
        await app.close()


def _hold_the_write_lock(db_file: Path, seconds: float) -> threading.Event:
    """Another process's writer holding the lock for `seconds`; set once it holds it."""
    holding = threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(db_file, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        holding.set()
        threading.Event().wait(seconds)
        conn.execute("COMMIT")
        conn.close()

    threading.Thread(target=hold, daemon=True).start()
    holding.wait()
    return holding


async def test_an_unfollow_is_not_lost_while_another_process_writes(tmp_path, monkeypatch):
    """WeChat's unfollow erases outside a conversation: a busy database runs it again
    (`Database.transaction`), as every handling transaction is, instead of failing."""
    monkeypatch.setattr(storage.db, "BUSY_TIMEOUT_MS", 150)  # waits shorter than the lock
    db_file = tmp_path / "unfollow.db"
    app: App = await create_app(make_settings(db_file))
    try:
        me = Chat(app.dispatcher, "wx:oGONE", "en")
        await me.onboard()
        _hold_the_write_lock(db_file, 0.6)
        assert await app.dispatcher.forget("wx:oGONE") is True
        assert await load_user(app, "wx:oGONE") is None
    finally:
        await app.close()


async def test_the_rest_of_a_long_reply_is_queued_past_a_busy_database(tmp_path, monkeypatch):
    from bot.telegram import Telegram

    monkeypatch.setattr(storage.db, "BUSY_TIMEOUT_MS", 150)
    db_file = tmp_path / "later.db"
    app: App = await create_app(make_settings(db_file))
    try:
        telegram = Telegram.__new__(Telegram)
        telegram.db = app.db
        _hold_the_write_lock(db_file, 0.6)
        await telegram._send_later("tg:851", [Reply("the rest")], 30)
        async with app.db.sessions() as s:
            queued = (await s.scalars(select(Outbox))).all()
        assert [(q.user_key, q.replies[0]["text"]) for q in queued] == [("tg:851", "the rest")]
    finally:
        await app.close()


async def test_two_waiting_in_the_same_second_have_two_places(app, chat):
    """Waiting positions compare times as stored: two sign-ups queued in one whole
    second (microseconds 0) are 1 and 2, not both first."""
    ids = await load(app, [course("one", "一座班", "月嫂/母婴护理", seats=1)])
    for n in range(3):
        data = await ready_to_confirm(app, f"tg:86{n}", ids["one"])
        await app.dispatcher.handle(Event(f"tg:86{n}", data=data, update_id="confirm"))
    same = dt.datetime(2026, 11, 29, 12, 0, 5)
    async with app.db.sessions() as s, s.begin():
        waiting = (await s.scalars(select(Signup).where(Signup.status == "waitlisted"))).all()
        for signup in waiting:
            signup.queued_at = same
    async with app.db.sessions() as s:
        waiting = (
            await s.scalars(select(Signup).where(Signup.status == "waitlisted").order_by(Signup.id))
        ).all()
        assert [await Repos(s).signups.position(w) for w in waiting] == [1, 2]
