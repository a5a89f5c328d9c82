"""What each kind of event costs the database, counted in SQL statements (never timed).

README's table of statements per event comes from `bench/mixed.py`; these tests hold the
mechanisms behind it: a person's row is written once per event, not once per query; a
batch of people shares one transaction and one statement per kind of write; replies are
stored only for a platform that replays them; the waiting position is counted once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select, update

from bot.app import App
from handlers.events import Event
from storage.courses import AlreadyBooked
from storage.models import Course, Outbox, Profile, User
from storage.repositories import Repos
from tests.catalogue import course, load
from tests.chat import Chat
from tests.conftest import load_user
from tests.test_courses import fill_form, seeker


def _kind(sql: str) -> str:
    """`INSERT users`, `UPDATE users`, `SELECT count(*)`, `BEGIN IMMEDIATE`..."""
    words = sql.split()
    if words[0] in ("INSERT", "DELETE"):
        return f"{words[0]} {words[2]}"
    return f"{words[0]} {words[1]}"


@contextmanager
def statements(app: App) -> Iterator[list[str]]:
    """The SQL statements sent while inside (BEGIN and COMMIT included)."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(_kind(statement))

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


async def test_a_batch_of_people_moving_on_shares_one_statement_per_kind_of_write(app):
    """64 people tapping Continue at once: their rows and the records of their updates
    are one statement each, whatever the number of people."""
    people = [f"tg:{1000 + n}" for n in range(64)]  # job seekers (tg:900 is staff)
    await asyncio.gather(
        *(
            app.dispatcher.handle(Event(p, text="/start", update_id="1", lang_hint="en"))
            for p in people
        )
    )
    async with app.db.sessions() as s:
        greeted = (await s.scalars(select(User).where(User.key.in_(people)))).all()
    taps = [
        Event(
            u.key,
            data=next(d for label, d in u.screen_buttons if "Continue" in label),
            update_id="2",
        )
        for u in greeted
    ]
    # how many a batch takes follows the recent time per event (`_batch_limit`): on a
    # loaded machine it is one, whatever this test checks; start from a quiet one
    app.dispatcher._per_event = 0.0
    with statements(app) as seen:
        handled = await asyncio.gather(*(app.dispatcher.handle(ev) for ev in taps))
    assert all("Main menu: training and work" in h.replies[0].text for h in handled)
    writes = [s for s in seen if s.startswith(("UPDATE", "INSERT"))]
    # one batch, or a few if the writer was busy when the taps arrived: never per person
    assert seen.count("BEGIN IMMEDIATE") <= 3
    assert len(writes) <= 2 * seen.count("BEGIN IMMEDIATE"), seen
    for key in people:
        assert (await load_user(app, key)).state == "SEEKER_MENU"


async def test_her_row_is_written_once_per_event_however_many_queries_it_makes(app, chat):
    await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
    me = await seeker(chat, "tg:910", "en")
    await me.tap("Find a free course")
    with statements(app) as seen:
        await me.tap("By kind of work")  # a query for the kinds, her state and screen
    assert seen.count("UPDATE users") == 1
    assert any(s.startswith("SELECT") and "courses" in s for s in seen)
    with statements(app) as seen:
        await me.tap("Maternity nurse")  # two queries (the count and the page), one write
    assert seen.count("UPDATE users") == 1


async def test_a_typed_form_answer_costs_the_fixed_six_statements_alone(app, chat):
    """Alone, an event that only moves her form on is BEGIN, the repeat check, her row,
    the record of the update, her row written, COMMIT: nothing the answer itself adds."""
    await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
    me = await seeker(chat, "tg:911", "en")
    await me.tap("Find a free course")
    await me.tap("By kind of work")
    await me.tap("Maternity nurse")
    await me.tap("好心月嫂初级班")
    await me.tap("Sign up")
    with statements(app) as seen:
        await me.say("李秀梅")
    assert "Step 2 of 4" in me.text
    assert seen == [
        "BEGIN IMMEDIATE",
        "SELECT processed_events.platform,",
        "SELECT users.id,",
        "INSERT processed_events",
        "UPDATE users",
        "COMMIT",
    ]


async def test_a_confirmation_counts_the_waiting_position_once_and_writes_the_profile_once(
    app, chat
):
    ids = await load(app, [course("one", "好心月嫂初级班", "月嫂/母婴护理", seats=1)])
    for n, user in enumerate(("tg:920", "tg:921")):
        me: Chat = await seeker(chat, user, "en")
        await me.say(f"/start course_{ids['one']}")
        await me.tap("Sign up" if n == 0 else "Join the waiting list")  # one seat
        await fill_form(me)
        with statements(app) as seen:
            await me.tap("Confirm sign-up")
        if n == 1:
            assert "You are number 1 on the waiting list" in me.text
            assert "number 1 on the waiting list" in me.labels[0]  # My sign-ups, same count
            positions = [s for s in seen if s == "SELECT count(*)"]
            assert len(positions) == 1, seen
        assert [s for s in seen if "profiles" in s] == ["INSERT profiles"]  # an upsert
    async with app.db.sessions() as s:
        profile = await s.get(Profile, (await load_user(app, "tg:921")).id)
    assert profile.name == "李秀梅" and profile.phone == "+8613800138000"


async def test_the_profile_upsert_replaces_what_she_changed(app, chat):
    courses = [
        course("a", "月嫂班甲", "月嫂/母婴护理"),
        course("b", "月嫂班乙", "月嫂/母婴护理", starts=30),  # after the first one's days
    ]
    ids = await load(app, courses)
    me = await seeker(chat, "tg:930", "en")
    await me.say(f"/start course_{ids['a']}")
    await me.tap("Sign up")
    await fill_form(me)
    await me.tap("Confirm sign-up")
    await me.say(f"/start course_{ids['b']}")
    await me.tap("Sign up")
    # what her profile holds is not asked again: the summary at once
    assert "Please check your sign-up" in me.text and "李秀梅" in me.text
    for change, typed in (("Change name", "王芳"), ("Change phone", "13900139000")):
        await me.tap(change)
        await me.say(typed)
    await me.tap("Change age")
    await me.say("41")
    await me.tap("Confirm sign-up")
    assert "Your seat is confirmed" in me.text
    async with app.db.sessions() as s:
        profile = await s.get(Profile, (await load_user(app, "tg:930")).id)
    assert (profile.name, profile.phone, profile.age) == ("王芳", "+8613900139000", 41)


async def test_last_seen_is_kept_to_the_hour_not_written_on_every_event(app, chat):
    me = await seeker(chat, "tg:940", "en")
    first = (await load_user(app, "tg:940")).last_seen_at
    await me.tap("Find a free course")
    assert (await load_user(app, "tg:940")).last_seen_at == first
    earlier = first - dt.timedelta(hours=2)
    async with app.db.sessions() as s, s.begin():
        await s.execute(update(User).where(User.key == "tg:940").values(last_seen_at=earlier))
    await me.tap("◀ Main menu")
    assert (await load_user(app, "tg:940")).last_seen_at > earlier + dt.timedelta(hours=1)


async def test_a_confirmation_writes_her_row_once_and_a_batch_writes_its_reminders_together(
    app, chat
):
    """Her reminder is held for the flush at commit with her row: a confirmation does not
    write her row early to make room for it, and people confirming at the same moment
    share one INSERT of their reminders."""
    ids = await load(app, [course("one", "好心月嫂初级班", "月嫂/母婴护理", seats=20)])
    crowd: list[Chat] = []
    for n in range(9):
        me = await seeker(chat, f"tg:95{n}", "en")
        await me.say(f"/start course_{ids['one']}")
        await me.tap("Sign up")
        await fill_form(me)
        crowd.append(me)
    alone = crowd.pop()
    with statements(app) as seen:
        await alone.tap("Confirm sign-up")
    assert "Your seat is confirmed" in alone.text
    assert seen.count("UPDATE users") == 1 and seen.count("INSERT outbox") == 1, seen
    taps = [
        Event(
            me.user,
            data=next(d for label, d in u.screen_buttons if "Confirm" in label),
            update_id=f"together-{n}",
        )
        for n, me in enumerate(crowd)
        for u in [await load_user(app, me.user)]
    ]
    # how many a batch takes follows the recent time per event (`_batch_limit`): on a
    # loaded machine it is one, whatever this test checks; start from a quiet one
    app.dispatcher._per_event = 0.0
    with statements(app) as seen:
        handled = await asyncio.gather(*(app.dispatcher.handle(ev) for ev in taps))
    assert all("Your seat is confirmed" in h.replies[0].text for h in handled)
    batches = seen.count("BEGIN IMMEDIATE")
    assert seen.count("INSERT outbox") == batches and seen.count("UPDATE users") == batches, seen
    assert batches < len(crowd)
    async with app.db.sessions() as s:
        reminders = (await s.scalars(select(Outbox).where(Outbox.topic.is_not(None)))).all()
    assert sorted(r.user_key for r in reminders) == sorted(me.user for me in [*crowd, alone])


async def test_signing_up_again_while_booked_gives_the_seat_back_at_once(app, chat):
    """The seat is taken before her sign-up is written; when the write finds her already
    booked, the seat is given back in the same transaction."""
    ids = await load(app, [course("one", "好心月嫂初级班", "月嫂/母婴护理", seats=3)])
    me = await seeker(chat, "tg:960", "en")
    await me.say(f"/start course_{ids['one']}")
    await me.tap("Sign up")
    await fill_form(me)
    await me.tap("Confirm sign-up")
    user = await load_user(app, "tg:960")
    async with app.db.sessions() as s, s.begin():
        with pytest.raises(AlreadyBooked):
            await Repos(s).signups.book(ids["one"], user.id, name="李秀梅", phone="+86138")
        assert await Repos(s).courses.seats_left(ids["one"]) == 2
    async with app.db.sessions() as s:
        assert (await s.get(Course, ids["one"])).seats_taken == 1
