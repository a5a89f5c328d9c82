"""Screens that say what is true before she acts."""

from __future__ import annotations

from tests.catalogue import course, load
from tests.test_seats_and_reminders import ready_to_confirm
from tests.test_taps import Counted


async def test_a_full_course_says_waiting_list_on_its_button_before_the_form(app):
    ids = await load(app, [course("one", "一座班", "月嫂/母婴护理", seats=1)])
    data = await ready_to_confirm(app, "tg:1401", ids["one"])
    first = Counted(app.dispatcher, "tg:1401", "en")
    await first.press(data)  # the one seat is hers
    me = Counted(app.dispatcher, "tg:1402", "en")
    await me.say(f"/start course_{ids['one']}")
    assert "waiting list" in me.text
    assert "⏳ Join the waiting list" in me.labels and not [
        label for label in me.labels if "Sign up" in label
    ]
    await me.tap("Join the waiting list")
    assert "I agree" in " ".join(me.labels)  # the form begins (after the privacy notice)


async def test_signing_up_for_a_course_whose_days_overlap_one_she_holds_asks_first(app):
    ids = await load(
        app,
        [
            course("a", "月嫂班甲", "月嫂/母婴护理", starts=10),  # days 10 to 20
            course("b", "育婴班乙", "育婴员", starts=15),  # days 15 to 25: overlaps
            course("c", "育婴班丙", "育婴员", starts=40),  # days 40 to 50: does not
        ],
    )
    data = await ready_to_confirm(app, "tg:1403", ids["a"])
    me = Counted(app.dispatcher, "tg:1403", "en")
    await me.press(data)
    await me.say(f"/start course_{ids['c']}")
    await me.tap("Sign up")
    assert "Please check your sign-up" in me.text  # no overlap: no question
    await me.say(f"/start course_{ids['b']}")
    assert "You are filling in a form" in me.text
    await me.tap("Yes, start again")
    await me.tap("Sign up")
    assert "overlap" in me.text and "月嫂班甲" in me.text
    await me.tap("No, back to the course")
    assert me.button("Sign up")  # the card again, nothing started
    await me.tap("Sign up")
    await me.tap("Yes, sign up as well")
    assert "Please check your sign-up" in me.text and "育婴班乙" in me.text


async def test_a_registered_fair_is_marked_its_card_says_so_once_and_cancelling_asks(app):
    from sqlalchemy import select

    from storage.models import FairRegistration, JobFair
    from tests.test_fairs import FAIRS

    await load(app, [], FAIRS)
    async with app.db.sessions() as s:
        gba = await s.scalar(select(JobFair.id).where(JobFair.code == "gba"))
    me = Counted(app.dispatcher, "tg:1404", "en")
    await me.onboard()
    await me.say(f"/start fair_{gba}")
    assert "please register below" in me.text and "You are registered" not in me.text
    await me.tap("Register to attend")
    await me.say("李秀梅")
    await me.say("13800138000")
    await me.tap("Register")
    await me.say("/menu")
    await me.tap("Job fairs")
    marked = [label for label in me.labels if label.startswith("✅ ")]
    assert len(marked) == 1 and "大湾区家政对接会" in marked[0]
    await me.tap("大湾区家政对接会")
    assert "You are registered" in me.text and "please register below" not in me.text
    await me.tap("Cancel my registration")
    assert "Cancel your registration" in me.text  # asked, not done
    await me.tap("No, keep it")
    await me.tap("Cancel my registration")
    await me.tap("Yes, cancel my registration")
    assert "Your registration is cancelled" in me.text
    async with app.db.sessions() as s:
        rows = (await s.scalars(select(FairRegistration))).all()
    assert [r.status for r in rows] == ["cancelled"]


async def test_nearest_to_me_takes_a_typed_county_or_township(app):
    await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
    me = Counted(app.dispatcher, "tg:1405", "en")
    await me.onboard()
    await me.tap("Find a free course")
    await me.tap("Nearest to me")
    await me.say("maonan")  # a county, in pinyin
    assert "好心月嫂初级班" in " ".join(me.labels)
    await me.tap("◀ Back")
    await me.tap("Nearest to me")
    await me.say("油城五路")  # a street a training base's address names
    assert "好心月嫂初级班" in " ".join(me.labels) and "km" in " ".join(me.labels)
    await me.tap("◀ Back")
    await me.tap("Nearest to me")
    await me.say("Atlantis")
    assert "I don't know that place" in me.text and "Maonan" in me.text
