"""What people type into forms is checked against what it means."""

from __future__ import annotations

import pytest

from handlers.validate import person_name, phone_number
from tests.catalogue import course, load
from tests.chat import Chat
from tests.conftest import load_user
from tests.test_courses import seeker


@pytest.mark.parametrize("typed", ["A", "李", " x ", "A.", "张3", ""])
def test_an_initial_or_a_surname_alone_is_not_a_name(typed):
    assert person_name(typed) is None


@pytest.mark.parametrize("typed", ["李秀梅", "王芳", "Mary Chan", "Lo", "陳 美玲"])
def test_real_names_are_taken(typed):
    assert person_name(typed) == " ".join(typed.split())


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("１３８００１３８０００", "+8613800138000"),  # full-width digits, as some keyboards type
        ("+86 138-0013-8000", "+8613800138000"),
    ],
)
def test_phone_numbers_are_stored_in_ascii_digits(typed, stored):
    assert phone_number(typed) == stored


@pytest.mark.parametrize("typed", ["١٣٨٠٠١٣٨٠٠٠", "১৩৮০০১৩৮০০০"])  # other scripts' digits
def test_digits_of_other_scripts_are_not_a_phone_number(typed):
    assert phone_number(typed) is None


async def test_a_one_letter_name_is_refused_in_the_sign_up_form_and_asked_again(app, chat):
    ids = await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
    me = await seeker(chat, "tg:1201", "en")
    await me.say(f"/start course_{ids['ys1']}")
    await me.tap("Sign up")
    await me.say("A")
    assert "full name" in me.text and "what is your name?" in me.text
    assert "name" not in (await load_user(app, "tg:1201")).form["signup"]
    await me.say("Mary Chan")
    assert "mobile phone number" in me.text


async def test_a_typed_county_in_pinyin_or_traditional_is_that_county(app):
    ids = await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
    for n, typed in enumerate(("huazhou", "電白區", "Gaozhou")):
        me = await seeker(lambda user, hint: Chat(app.dispatcher, user, hint), f"tg:125{n}", "en")
        await me.say(f"/start course_{ids['ys1']}")
        await me.tap("Sign up")
        await me.say("李秀梅")
        await me.say("13800138000")
        await me.say(typed)
        county = (await load_user(app, f"tg:125{n}")).form["signup"]["county"]
        assert county == {"huazhou": "化州", "電白區": "电白", "Gaozhou": "高州"}[typed]


async def test_only_telegram_is_told_to_tap_a_share_button(app):
    ids = await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
    for user in ("console:pat", "wx:oPAT", "tg:1260"):
        me = await seeker(lambda u, hint: Chat(app.dispatcher, u, hint), user, "en")
        await me.say(f"/start course_{ids['ys1']}")
        await me.tap("Sign up")
        await me.say("李秀梅")
        told = "Share my phone number" in me.replies[-1].text
        assert told == user.startswith("tg:"), (user, me.text)
