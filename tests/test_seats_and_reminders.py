"""Seats are never overbooked; reminders go out once, across restarts."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import uuid

import pytest
from sqlalchemy import select, text, update

from bot.app import App, create_app
from bot.console import ConsoleSender
from bot.notifier import Notifier
from storage.models import Outbox, Signup, User, utcnow
from tests.catalogue import course, load
from tests.chat import Chat
from tests.conftest import make_settings

PEOPLE, SEATS = 200, 20


async def ready_to_confirm(app: App, user: str, course_id: int) -> str:
    """Onboard and fill the form; returns the data of the "Confirm sign-up" button."""
    me = Chat(app.dispatcher, user, "en")
    await me.say(f"/start course_{course_id}")  # a poster's link: straight to the card
    full = not any("Sign up" in label for label in me.labels)
    await me.tap("Join the waiting list" if full else "Sign up")
    await me.tap("I agree")  # the privacy notice, at the first personal question
    for answer in ("李秀梅", "13800138000", "茂南", "38"):
        await me.say(answer)
    if "rural women" in " ".join(me.labels):  # a course with a fee asks who trains free
        await me.tap("rural women")
    return me.button("Confirm sign-up").data


async def race(apps: list[App], course_id: int) -> list[str]:
    users = [f"tg:{900_000 + n}" for n in range(PEOPLE)]
    buttons = [
        await ready_to_confirm(apps[n % len(apps)], u, course_id) for n, u in enumerate(users)
    ]
    from handlers.events import Event

    await asyncio.gather(
        *(
            apps[n % len(apps)].dispatcher.handle(Event(u, data=b, update_id=f"race-{n}"))
            for n, (u, b) in enumerate(zip(users, buttons, strict=True))
        )
    )
    return users


async def outcome(app: App, course_id: int) -> list[tuple[str, str]]:
    async with app.db.sessions() as s:
        rows = await s.execute(
            select(User.key, Signup.status)
            .join(User, User.id == Signup.user_id)
            .where(Signup.course_id == course_id)
            .order_by(Signup.queued_at, Signup.id)
        )
        return [(key, status) for key, status in rows]


async def test_200_people_confirm_at_once_for_the_last_20_seats(app):
    ids = await load(app, [course("race", "最后二十个名额", "月嫂/母婴护理", seats=SEATS)])
    users = await race([app], ids["race"])
    rows = await outcome(app, ids["race"])
    assert [s for _u, s in rows].count("confirmed") == SEATS
    assert [s for _u, s in rows].count("waitlisted") == PEOPLE - SEATS
    # in the order they confirmed: the first 20 hold the seats, the rest queue behind
    assert [u for u, s in rows if s == "confirmed"] == users[:SEATS]
    assert [u for u, s in rows if s == "waitlisted"] == users[SEATS:]
    async with app.db.sessions() as s:
        taken = await s.scalar(text("select seats_taken from courses where code = 'race'"))
    assert taken == SEATS


async def test_two_instances_on_one_database_never_overbook(db_path):
    first = await create_app(make_settings(db_path))
    second = await create_app(make_settings(db_path))
    try:
        ids = await load(first, [course("race2", "两个实例抢名额", "月嫂/母婴护理", seats=SEATS)])
        await race([first, second], ids["race2"])
        statuses = [s for _u, s in await outcome(first, ids["race2"])]
        assert statuses.count("confirmed") == SEATS
        assert statuses.count("waitlisted") == PEOPLE - SEATS
    finally:
        await first.close()
        await second.close()


POSTGRES = os.environ.get(
    "HAOXIN_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
async def postgres_app():
    """A throwaway database on the PostgreSQL server CI provides (skipped without one)."""
    import asyncpg

    name = f"haoxin_{uuid.uuid4().hex[:12]}"
    admin_dsn = POSTGRES.replace("postgresql+asyncpg", "postgresql")
    try:
        admin = await asyncpg.connect(admin_dsn, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"no PostgreSQL at {POSTGRES}: {type(exc).__name__}")
    await admin.execute(f"create database {name}")
    app = await create_app(
        make_settings(None, database_url=POSTGRES.rsplit("/", 1)[0] + "/" + name)
    )
    try:
        yield app
    finally:
        await app.close()
        await admin.execute(f"drop database {name}")
        await admin.close()


async def test_the_race_on_postgresql(postgres_app):
    ids = await load(postgres_app, [course("racepg", "PG 名额", "月嫂/母婴护理", seats=SEATS)])
    users = await race([postgres_app], ids["racepg"])
    rows = await outcome(postgres_app, ids["racepg"])
    assert [u for u, s in rows if s == "confirmed"] == users[:SEATS]
    assert [s for _u, s in rows].count("waitlisted") == PEOPLE - SEATS


async def test_a_reminder_goes_out_once_across_a_restart(db_path):
    app = await create_app(make_settings(db_path))
    ids = await load(app, [course("rem", "提醒测试班", "月嫂/母婴护理", seats=5, starts=3)])
    me = Chat(app.dispatcher, "console:mei", "en")
    confirm = await ready_to_confirm(app, "console:mei", ids["rem"])
    await me.press(confirm)
    async with app.db.sessions() as s:
        (reminder,) = list(await s.scalars(select(Outbox).where(Outbox.user_key == "console:mei")))
    assert reminder.due_at > utcnow()  # not yet
    out = io.StringIO()
    assert await Notifier(app.db, ConsoleSender(out), user="console:mei").run_once() == 0
    async with app.db.sessions() as s, s.begin():  # the day before has come
        await s.execute(update(Outbox).values(due_at=dt.datetime(2000, 1, 1)))
    await app.close()  # a restart before it is due: the reminder is stored, not lost

    app = await create_app(make_settings(db_path))
    out = io.StringIO()
    notifier = Notifier(app.db, ConsoleSender(out), user="console:mei")
    assert await notifier.run_once() == 1
    assert "Reminder: your course “提醒测试班” starts tomorrow" in out.getvalue()
    await app.close()

    app = await create_app(make_settings(db_path))  # and again: nothing goes out twice
    again = io.StringIO()
    assert await Notifier(app.db, ConsoleSender(again), user="console:mei").run_once() == 0
    assert again.getvalue() == ""
    async with app.db.sessions() as s:
        (sent,) = list(await s.scalars(select(Outbox)))
    assert sent.status == "sent" and sent.attempts == 1
    await app.close()
