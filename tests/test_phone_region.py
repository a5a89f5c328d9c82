"""Eight digits without a country code are asked about (Hong Kong or Macau), never
turned into +852 silently; the step that asked gets the number with its code."""

from __future__ import annotations

from sqlalchemy import select

from handlers.validate import local_number, phone_number
from storage.models import JobFair
from tests.catalogue import course, load
from tests.conftest import load_user
from tests.test_fairs import FAIRS
from tests.test_taps import Counted


def test_eight_digits_alone_are_no_number_until_she_says_where():
    assert phone_number("9123 4567") is None and local_number("9123 4567") == "91234567"
    assert phone_number("+852 9123 4567") == "+85291234567"
    assert phone_number("+853 6612 3456") == "+85366123456"
    assert local_number("13800138000") is None  # a mainland mobile is no local number


async def test_the_sign_up_asks_hong_kong_or_macau_and_goes_on(app):
    ids = await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
    me = Counted(app.dispatcher, "tg:1601", "en")
    await me.say(f"/start course_{ids['ys1']}")
    await me.tap("Sign up")
    await me.tap("I agree")
    await me.say("Mary Chan")
    await me.say("9123 4567")
    assert "Is 91234567 a Hong Kong or a Macau number?" in me.text
    assert "Hong Kong +852" in me.labels and "Macau +853" in me.labels
    await me.tap("◀ Back")  # she would rather type it again
    assert "mobile phone number" in me.text
    await me.say("9123 4567")
    await me.tap("Hong Kong +852")
    assert "which county" in me.text  # on to the next step
    user = await load_user(app, "tg:1601")
    assert user.form["signup"]["phone"] == "+85291234567"
    assert "phone_region" not in user.form


async def test_a_fair_registration_asks_too_and_a_macau_number_keeps_its_code(app):
    await load(app, [], FAIRS)
    async with app.db.sessions() as s:
        gba = await s.scalar(select(JobFair.id).where(JobFair.code == "gba"))
    me = Counted(app.dispatcher, "tg:1602", "en")
    await me.onboard()
    await me.say(f"/start fair_{gba}")
    await me.tap("Register to attend")
    await me.say("Ana Lei")
    await me.say("66123456")
    await me.tap("Macau +853")
    assert "+85366123456" in me.text  # the confirmation shows the number as stored
