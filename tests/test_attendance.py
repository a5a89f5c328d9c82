"""Staff marking attendance and completion per course, played on SQLite; a completed
course then shows on her credential as verified training."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.app import App
from handlers.attendance import ATTENDANCE
from handlers.context import outside
from handlers.worker_card import credential_lines, load_card
from storage.models import AuditEntry, Training
from storage.repositories import Repos
from tests.catalogue import course, load
from tests.chat import Chat
from tests.conftest import ADMIN, load_user
from tests.test_vetting import person, with_repos

TODAY = dt.date.today()
COURSES = [
    course("now", "好心月嫂初级班", "月嫂/母婴护理", starts=-3),  # running
    course("past", "好心护理·养老护理员", "养老护理员", starts=-30),  # ended
    course("soon", "好心保姆·家政服务员", "家政服务员/保姆", starts=10),  # to come
]
PEOPLE = {"tg:11": "李秀梅", "tg:12": "陈玉兰", "tg:13": "黄丽娟"}


async def seated(app: App, ids: dict[str, int]) -> None:
    """Three women with a confirmed seat on every course (booked straight through the
    repository: sign-up has closed on courses that started)."""
    for key in PEOPLE:
        await person(app, key)

    async def book(repos: Repos) -> None:
        for key, name in PEOPLE.items():
            user = await repos.users.get(key)
            assert user is not None
            for course_id in ids.values():
                await repos.signups.book(
                    course_id, user.id, name=name, phone="+8613800138000", county="茂南", age=38
                )

    await with_repos(app, book)


async def staff(app: App) -> Chat:
    me = Chat(app.dispatcher, ADMIN, "en")
    await me.say("/start")
    await me.say("/menu")
    await me.tap("Attendance and completion")
    return me


async def training(app: App, key: str, course_id: int) -> Training | None:
    user = await load_user(app, key)
    assert user is not None
    async with app.db.sessions() as session:
        return await session.scalar(
            select(Training).where(Training.user_id == user.id, Training.course_id == course_id)
        )


async def test_marking_attendance_and_completion_shows_on_her_credential(app):
    ids = await load(app, COURSES)
    await seated(app, ids)
    me = await staff(app)
    assert "Pick a course" in me.text
    # running first, then ended, then to come
    assert [label[0] for label in me.labels[:3]] == ["▶", "✔", "⏳"]
    await me.tap("好心月嫂初级班")
    assert "3 with a seat · 0 attended · 0 completed" in me.text
    assert all(name in " ".join(me.labels) for name in PEOPLE.values())

    await me.tap("李秀梅")
    assert "Attended: no" in me.text
    await me.tap("✅ Attended")
    assert "Saved." in me.text and "Attended: yes" in me.text
    assert (row := await training(app, "tg:11", ids["now"])) and row.attended
    assert row.completed_on is None and row.marked_by == ADMIN
    await me.tap("Completed today")
    assert (row := await training(app, "tg:11", ids["now"])) and row.completed_on == TODAY
    await me.tap("Not completed")
    assert (row := await training(app, "tg:11", ids["now"])) and row.completed_on is None
    await me.tap("Completed today")

    await me.tap("Back to the list")
    assert "1 attended · 1 completed" in me.text
    await me.tap("Mark everyone attended")
    assert "2 people marked as attended." in me.text
    assert "3 attended · 1 completed" in me.text
    assert "Mark everyone attended" not in " ".join(me.labels)

    async with app.db.sessions() as session:
        entries = list(
            await session.scalars(select(AuditEntry).where(AuditEntry.subject.like("training:%")))
        )
    assert len(entries) == 6 and all(e.actor == ADMIN and e.action == "training" for e in entries)
    assert entries[1].after == {"attended": True, "completed_on": TODAY.isoformat()}

    # on her credential: verified training
    async def credential(repos: Repos) -> str:
        user = await repos.users.get("tg:11")
        assert user is not None
        profile = await repos.workers.start(user)
        ctx = outside(repos, user, app.dispatcher.options)
        return "\n".join(credential_lines(ctx, await load_card(ctx, profile)))

    card = await with_repos(app, credential)
    assert "好心月嫂初级班" in card and "✅" in card
    lines = [line for line in card.splitlines() if "好心月嫂初级班" in line]
    assert lines and lines[0].startswith("✅")


async def test_a_typed_completion_date_is_checked(app):
    ids = await load(app, COURSES)
    await seated(app, ids)
    me = await staff(app)
    await me.tap("好心护理")  # the course that ended
    await me.tap("陈玉兰")
    await me.say((TODAY + dt.timedelta(days=2)).isoformat())
    assert "That date is in the future." in me.text
    await me.say((TODAY - dt.timedelta(days=60)).isoformat())
    assert "before the course began" in me.text
    await me.say("hello")
    assert "type the date she completed the course" in me.text
    day = TODAY - dt.timedelta(days=21)
    await me.say(day.isoformat())
    assert "Saved." in me.text
    row = await training(app, "tg:12", ids["past"])
    assert row and row.completed_on == day and row.attended


async def test_nothing_is_marked_on_a_course_that_has_not_started(app):
    ids = await load(app, COURSES)
    await seated(app, ids)
    me = await staff(app)
    await me.tap("⏳")
    assert "attendance and completion can be marked once it has started" in me.text
    assert "Mark everyone attended" not in " ".join(me.labels)
    await me.tap("黄丽娟")
    assert not any("Attended" in label or "Completed" in label for label in me.labels), me.labels
    await me.say(TODAY.isoformat())
    assert "once it has started" in me.text
    assert await training(app, "tg:13", ids["soon"]) is None


async def test_courses_are_paged_and_bad_presses_are_refused(app):
    many = [course(f"c{n}", f"课程{n:02d}", "月嫂/母婴护理", starts=-n) for n in range(1, 8)]
    await load(app, many)
    me = await staff(app)
    assert "Page 1 of 2" in me.text and "Later ▶" in me.labels
    await me.tap("Later ▶")
    assert "Page 2 of 2" in me.text
    seeker = await person(app, "tg:77", "en")
    nonce = seeker.button("Language").data.split("|")[0]
    await seeker.press(f"{nonce}|course:1")
    assert "I don't recognise that button" in seeker.text
    user = await load_user(app, "tg:77")
    assert user is not None and user.state != ATTENDANCE
