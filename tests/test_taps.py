"""Taps and typed answers from the first message to a confirmed seat, counted by playing
them (README's tap counts come from here). The course is the longest case: it has a
fee, and free training for some groups, so the free-training question is asked."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.replies import Reply
from storage.models import Signup
from tests.catalogue import course, load
from tests.chat import Chat
from tests.conftest import load_user

PAID = {"fee_yuan": 1800, "free_for": ["rural_women", "unemployed"]}
BY_MENUS = 12  # the aims of issue 9: by menus in every language, from a poster's link,
FROM_A_LINK = 9  # and for a second course from its card once her answers are saved
SECOND_COURSE = 2


class Counted(Chat):
    """A chat that counts her inputs: every tap and every typed answer."""

    inputs = 0

    async def send(self, event) -> list[Reply]:  # type: ignore[no-untyped-def]
        self.inputs += 1
        return await super().send(event)

    async def first(self) -> list[Reply]:
        """Tap the first button of the last message (the one her eye lands on)."""
        return await self.press(self.replies[-1].buttons[0][0].data)


async def _form(me: Counted) -> None:
    await me.first()  # Sign up
    await me.first()  # ✅ I agree (the privacy notice, at the first personal question)
    await me.say("李秀梅")
    await me.say("13800138000")
    await me.first()  # her county
    await me.say("38")
    await me.first()  # free training as: the first group
    await me.first()  # ✅ Confirm sign-up


async def _seated(app, user: str) -> int:  # type: ignore[no-untyped-def]
    person = await load_user(app, user)
    async with app.db.sessions() as s:
        rows = await s.scalars(
            select(Signup).where(Signup.user_id == person.id, Signup.status == "confirmed")
        )
        return len(rows.all())


@pytest.mark.parametrize(("hint", "language"), [("zh", "▶"), ("yue", "廣東話"), ("en", "English")])
async def test_by_menus_a_first_seat_takes_at_most_twelve_inputs(app, hint, language):
    await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理", **PAID)])
    me = Counted(app.dispatcher, f"tg:13{len(hint)}", None)
    await me.say("/start")
    await me.tap(language)  # Continue, or the language she reads: on to her menu
    await me.first()  # the kind of work, on her main menu
    await me.first()  # the course in that list
    await _form(me)
    assert await _seated(app, me.user) == 1
    assert (await load_user(app, me.user)).lang == {"▶": "zh"}.get(language, hint)
    assert me.inputs <= BY_MENUS, me.inputs


async def test_from_a_posters_link_a_first_seat_takes_at_most_nine_inputs(app):
    ids = await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理", **PAID)])
    me = Counted(app.dispatcher, "tg:1310", "zh")
    await me.say(f"/start course_{ids['ys1']}")
    await _form(me)
    assert await _seated(app, me.user) == 1
    assert me.inputs <= FROM_A_LINK, me.inputs


async def test_a_second_course_from_its_card_takes_two_inputs(app):
    two = [
        course("ys1", "好心月嫂初级班", "月嫂/母婴护理", **PAID),
        course("ys2", "好心月嫂中级班", "月嫂/母婴护理", starts=30, **PAID),
    ]
    ids = await load(app, two)
    me = Counted(app.dispatcher, "tg:1311", "zh")
    await me.say(f"/start course_{ids['ys1']}")
    await _form(me)
    await me.say(f"/start course_{ids['ys2']}")  # the second poster, or the card in a list
    me.inputs = 0
    await me.first()  # Sign up: every answer is known, straight to the summary
    await me.first()  # ✅ Confirm sign-up
    assert await _seated(app, me.user) == 2
    assert me.inputs == SECOND_COURSE
