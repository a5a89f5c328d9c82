"""What the attacker of issue 9 found, each a test: sounds are not answers, long text
costs nothing, nothing typed is kept before consent, and consent is given once."""

from __future__ import annotations

from tests.catalogue import course, load
from tests.conftest import load_user
from tests.test_fairs import FAIRS
from tests.test_taps import Counted


async def _at_the_privacy_notice(app, user: str, hint: str = "zh") -> tuple[Counted, int]:  # type: ignore[no-untyped-def]
    ids = await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
    me = Counted(app.dispatcher, user, hint)
    await me.say(f"/start course_{ids['ys1']}")
    await me.first()  # 报名 / Sign up: the privacy notice
    return me, ids["ys1"]


async def test_a_character_that_only_sounds_like_yes_or_no_answers_nothing(app):
    me, _id = await _at_the_privacy_notice(app, "tg:1701")
    for sound in ("的", "十", "西", "号", "五"):  # like 得, 是, 係, 好, 唔
        await me.say(sound)
        assert (await load_user(app, me.user)).consented_at is None, sound
    await me.say("同意")  # the word itself still answers
    assert (await load_user(app, me.user)).consented_at is not None
    await me.say("/delete_me")
    await me.say("西")  # sounds like 係 (yes): must not erase her
    assert await load_user(app, me.user) is not None
    await me.say("/delete_me")
    await me.say("係")
    assert await load_user(app, me.user) is None


async def test_a_very_long_message_is_refused_before_it_is_read(app):
    me, _id = await _at_the_privacy_notice(app, "tg:1702", "en")
    await me.say("/menu")
    await me.say("i" + "\n" * 30_000 + "x")
    assert "too long" in me.text
    await me.say("请问" + " " * 3000)  # trimmed: "请问" alone, a question with no answer
    assert "too long" in me.text or "ready answer" in me.text


async def test_search_words_and_her_location_are_not_kept_before_she_agrees(app):
    await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")], FAIRS)
    me = Counted(app.dispatcher, "tg:1703", "en")
    await me.say("/start")
    await me.tap("Continue")
    await me.tap("Find a free course")
    await me.tap("Type what you are looking for")
    await me.say("月嫂 王芳13800138000")
    await me.say("/menu")
    await me.tap("Job fairs")
    await me.tap("Search")
    await me.say("月嫂 张丽 13912345678")
    user = await load_user(app, me.user)
    assert user.consented_at is None
    assert "13800138000" not in str(user.form) and "13912345678" not in str(user.form)
    await me.say("/menu")
    await me.tap("Find a free course")
    await me.tap("Nearest to me")
    assert "Do you agree?" in me.text  # a location is asked for only after consent


async def test_start_before_consent_keeps_no_text_and_does_not_claim_a_form(app):
    me, _id = await _at_the_privacy_notice(app, "tg:1704", "en")
    await me.say("/start 王芳 13800138000 440101199001011234")
    assert "filling in a form" not in me.text
    assert "13800138000" not in str((await load_user(app, me.user)).form)


async def test_agreeing_from_privacy_on_the_notice_goes_on_and_keeps_the_first_time(app):
    me, _id = await _at_the_privacy_notice(app, "tg:1705", "en")
    await me.say("/privacy")
    await me.tap("I agree")
    assert "what is your name?" in me.text  # on to the question that waited for it
    first = (await load_user(app, me.user)).consented_at
    await me.say("/privacy")
    assert "I agree" not in " ".join(me.labels)  # agreed: not offered again
    assert (await load_user(app, me.user)).consented_at == first


async def test_eight_digits_that_are_neither_hong_kong_nor_macau_are_not_asked_about(app):
    me, _id = await _at_the_privacy_notice(app, "tg:1706", "en")
    await me.tap("I agree")
    await me.say("Mary Chan")
    await me.say("31234567")
    assert "does not look like a mobile number" in me.text
    assert "Hong Kong or a Macau" not in me.text
