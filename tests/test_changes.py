"""Staff change a course or a fair by importing a new data file: people are told."""

from __future__ import annotations

import datetime as dt

import yaml
from sqlalchemy import select

from bot.app import import_file
from storage.models import Outbox, Signup
from tests.catalogue import BASES, course
from tests.chat import Chat
from tests.conftest import load_user
from tests.test_fairs import fair


def write(tmp_path, courses, fairs):
    path = tmp_path / "catalogue.yaml"
    data = {"training_bases": BASES, "courses": courses, "job_fairs": fairs}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, default_flow_style=False), "utf-8")
    return path


ANSWERS = {
    "ASK_NAME": "李秀梅",
    "ASK_PHONE": "13800138000",
    "ASK_COUNTY": "茂南",
    "ASK_AGE": "38",
}


async def sign_up(app, user: str, hint: str, course_id: int) -> None:
    """From the course's deep link (the card, even on first contact), the form: answers
    typed, choices tapped."""
    me = Chat(app.dispatcher, user, hint)
    await me.say(f"/start course_{course_id}")
    sign = [label for label in me.labels if label.startswith(("✍", "⏳"))]  # or wait
    await me.tap(sign[0])
    while (step := (await load_user(app, user)).state) != "CONFIRM_SIGNUP":
        if step in ANSWERS:
            await me.say(ANSWERS[step])
        else:  # the first choice: "I agree", a free group, "sign up as well"
            await me.press(me.replies[-1].buttons[0][0].data)
    await me.press(me.button("✅").data)


async def test_a_moved_course_and_a_cancelled_one_are_announced(app, tmp_path):
    courses = [course("a", "月嫂班", "月嫂/母婴护理", starts=10), course("b", "育婴班", "育婴员")]
    fairs = [fair("f", "招聘会", 12, "茂南", [("好心", "月嫂", "深圳", 1, 2, True)])]
    counts = await import_file(app.db, write(tmp_path, courses, fairs), app.settings)
    assert counts["notices"] == 0
    await sign_up(app, "tg:801", "zh-hans", 1)
    await sign_up(app, "tg:802", "en", 1)
    await sign_up(app, "tg:802", "en", 2)

    courses[0]["starts_on"] = courses[0]["starts_on"] + dt.timedelta(days=7)
    courses[0]["room"] = "302 教室"
    courses[1]["status"] = "cancelled"
    counts = await import_file(app.db, write(tmp_path, courses, fairs), app.settings)
    assert counts["notices"] == 3

    async with app.db.sessions() as s:
        notes = {(o.user_key, o.topic): o for o in await s.scalars(select(Outbox))}
        statuses = sorted(x.status for x in await s.scalars(select(Signup)))
    zh = notes[("tg:801", None)].replies[0]["text"]
    assert "有变动" in zh and "302 教室" in zh
    reminder = notes[("tg:801", "course:1")]
    new_start = dt.date.today() + dt.timedelta(days=17)
    assert reminder.due_at == dt.datetime.combine(new_start - dt.timedelta(days=1), dt.time(10))
    async with app.db.sessions() as s:
        texts = [
            o.replies[0]["text"]
            for o in await s.scalars(
                select(Outbox).where(Outbox.user_key == "tg:802", Outbox.topic.is_(None))
            )
        ]
    assert any("Change to your course" in t for t in texts)
    assert any("has been cancelled" in t for t in texts)
    assert statuses == ["cancelled", "confirmed", "confirmed"]
    assert ("tg:802", "course:2") not in notes  # no reminder for a cancelled course
    assert (await load_user(app, "tg:801")).state == "MY_SIGNUPS"


async def test_a_cancelled_and_reopened_course_counts_its_seats_right(app, tmp_path):
    """2 seated and 1 waiting, imported as cancelled: no seat is held any more; imported
    open again, a newcomer gets a seat (the count used to stay at 2, and she queued
    behind no one, forever)."""
    from storage.models import Course

    small = course("two", "两个名额班", "月嫂/母婴护理", seats=2)
    await import_file(app.db, write(tmp_path, [small], []), app.settings)
    async with app.db.sessions() as s:
        course_id = await s.scalar(select(Course.id).where(Course.code == "two"))
    for n in range(3):
        await sign_up(app, f"tg:{8100 + n}", "en", course_id)

    async def counted() -> tuple[int, list[str]]:
        async with app.db.sessions() as s:
            taken = await s.scalar(select(Course.seats_taken).where(Course.id == course_id))
            rows = await s.scalars(select(Signup.status).order_by(Signup.id))
            return taken, list(rows)

    assert await counted() == (2, ["confirmed", "confirmed", "waitlisted"])
    await import_file(app.db, write(tmp_path, [{**small, "status": "cancelled"}], []), app.settings)
    assert await counted() == (0, ["cancelled"] * 3)
    await import_file(app.db, write(tmp_path, [small], []), app.settings)
    await sign_up(app, "tg:8200", "en", course_id)
    assert await counted() == (1, ["cancelled"] * 3 + ["confirmed"])
