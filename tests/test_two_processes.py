"""Two instances on one SQLite file (two engines, as two processes would have): every
check-then-act is one transaction under the write lock, so the same tap delivered to
both is accepted once, and a freed seat goes to exactly one person."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.app import App, create_app
from handlers.events import Event
from storage.models import Course, Signup, User
from tests.catalogue import course, load
from tests.chat import Chat
from tests.conftest import make_settings
from tests.test_seats_and_reminders import ready_to_confirm

TRIALS = 8


async def two_instances(db_path) -> tuple[App, App]:
    return await create_app(make_settings(db_path)), await create_app(make_settings(db_path))


async def statuses(app: App, course_id: int) -> tuple[dict[str, str], int]:
    async with app.db.sessions() as s:
        rows = await s.execute(
            select(User.key, Signup.status)
            .join(User, User.id == Signup.user_id)
            .where(Signup.course_id == course_id)
        )
        taken = await s.scalar(select(Course.seats_taken).where(Course.id == course_id))
    return dict(rows.all()), taken or 0


async def test_a_cancel_tapped_on_two_instances_frees_one_seat_for_one_person(db_path):
    first, second = await two_instances(db_path)
    try:
        for trial in range(TRIALS):
            ids = await load(
                first, [course(f"one{trial}", f"一个名额班{trial}", "月嫂/母婴护理", seats=1)]
            )
            course_id = ids[f"one{trial}"]
            people = [f"tg:{5000 + trial * 10 + n}" for n in range(4)]
            for n, person in enumerate(people):  # one seated, three waiting
                confirm = await ready_to_confirm(first, person, course_id)
                await first.dispatcher.handle(Event(person, data=confirm, update_id=f"c{trial}{n}"))
            seated = Chat(first.dispatcher, people[0], "en")
            await seated.say("/menu")
            await seated.tap("My sign-ups")
            await seated.tap(f"一个名额班{trial}")
            await seated.tap("Cancel my place")
            yes = seated.button("Yes, cancel my place").data
            await asyncio.gather(  # her tap reaches both instances
                first.dispatcher.handle(Event(people[0], data=yes, update_id=f"y{trial}a")),
                second.dispatcher.handle(Event(people[0], data=yes, update_id=f"y{trial}b")),
            )
            status, taken = await statuses(first, course_id)
            assert status[people[0]] == "cancelled"
            assert [status[p] for p in people[1:]] == ["confirmed", "waitlisted", "waitlisted"]
            assert taken == 1
    finally:
        await first.close()
        await second.close()


async def test_the_same_button_on_two_instances_is_accepted_once(db_path, monkeypatch):
    import bot.dispatcher

    real = bot.dispatcher.converse

    async def slow(ctx):  # a handler that takes a moment after reading her screen
        replies = await real(ctx)
        await asyncio.sleep(0.05)
        return replies

    monkeypatch.setattr(bot.dispatcher, "converse", slow)
    first, second = await two_instances(db_path)
    try:
        ids = await load(first, [course("twice", "点两次班", "月嫂/母婴护理", seats=5)])
        for trial in range(TRIALS):
            person = f"tg:{6000 + trial}"
            confirm = await ready_to_confirm(first, person, ids["twice"])
            results = await asyncio.gather(
                first.dispatcher.handle(Event(person, data=confirm, update_id=f"t{trial}a")),
                second.dispatcher.handle(Event(person, data=confirm, update_id=f"t{trial}b")),
            )
            accepted = [r for r in results if "earlier message" not in r.replies[0].text]
            assert len(accepted) == 1, [r.replies[0].text for r in results]
            async with first.db.sessions() as s:
                user = await s.scalar(select(User).where(User.key == person))
            assert user.refused_presses == 1
    finally:
        await first.close()
        await second.close()
