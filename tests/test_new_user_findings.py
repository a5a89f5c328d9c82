"""What a new user found trying issue 9, each a test."""

from __future__ import annotations

from tests.catalogue import course, load
from tests.conftest import load_user
from tests.test_seats_and_reminders import ready_to_confirm
from tests.test_taps import Counted

PAID = {"fee_yuan": 1800, "free_for": ["rural_women", "unemployed"]}


async def _at_the_free_question(app, user: str, hint: str = "zh") -> Counted:  # type: ignore[no-untyped-def]
    ids = await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理", **PAID)])
    me = Counted(app.dispatcher, user, hint)
    await me.say(f"/start course_{ids['ys1']}")
    await me.first()  # Sign up
    await me.first()  # I agree
    for answer in ("小梅", "13800138010", "化州", "35"):
        await me.say(answer)
    return me


async def test_yes_at_the_free_question_picks_no_group_and_no_is_none_of_these(app):
    me = await _at_the_free_question(app, "tg:1801")
    await me.say("是")  # 是 sounds like 失 (失业人员): no group is picked by sound
    assert "free" not in (await load_user(app, me.user)).form["signup"]
    me2 = await _at_the_free_question(app, "tg:1802")
    await me2.say("不是")  # "no": none of these, not "✖ Cancel"
    form = (await load_user(app, me2.user)).form["signup"]
    assert form["free"] == "none"


async def test_typing_on_the_greeting_searches_and_sets_her_on_her_way(app):
    await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
    me = Counted(app.dispatcher, "tg:1803", "zh")
    await me.say("/start")
    await me.say("我想学月嫂")
    assert any("好心月嫂初级班" in label for label in me.labels)
    user = await load_user(app, me.user)
    assert user.role == "seeker" and user.consented_at is None and "月嫂" not in str(user.form)


async def test_cantonese_search_results_are_in_traditional_with_their_county(app):
    await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
    me = Counted(app.dispatcher, "tg:1804", "yue")
    await me.say("/start")
    await me.tap("廣東話")
    await me.say("我想學月嫂")
    line = next(label for label in me.labels if "月嫂" in label and "班" in label)
    assert "初級班" in line and "茂南" in line  # Traditional title, and its county


async def test_a_menu_entry_of_an_older_message_works_before_she_agrees(app):
    await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
    me = Counted(app.dispatcher, "tg:1805", "en")
    await me.say("/start")
    await me.tap("Continue")
    fairs = me.button("Job fairs").data
    await me.first()  # a kind of work: a list
    await me.press(fairs)  # the main menu's entry, from the older message
    assert "earlier message" not in me.text and "job fair" in me.text.lower()


async def test_the_county_step_takes_a_county_in_a_sentence_and_refuses_nonsense(app):
    ids = await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
    me = Counted(app.dispatcher, "tg:1806", "zh")
    await me.say(f"/start course_{ids['ys1']}")
    await me.first()
    await me.first()
    await me.say("小梅")
    await me.say("13800138010")
    for nonsense in ("x", "12345"):
        await me.say(nonsense)
        assert "county" not in (await load_user(app, me.user)).form["signup"]
    await me.say("我住在化州")
    assert (await load_user(app, me.user)).form["signup"]["county"] == "化州"


async def test_nearest_takes_a_township_typed_in_traditional(app):
    await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
    me = Counted(app.dispatcher, "tg:1807", "en")
    await me.onboard()
    await me.tap("Find a free course")
    await me.tap("Nearest to me")
    assert "WeChat" not in me.text  # the WeChat hint only on WeChat
    await me.say("油城五路")
    assert any("km" in label for label in me.labels)
    await me.tap("◀ Back")
    await me.tap("Nearest to me")
    await me.say("五路 88 號")  # the address says 号: typed in Traditional
    assert any("km" in label for label in me.labels)


async def test_a_full_courses_summary_says_confirming_means_the_waiting_list(app):
    ids = await load(app, [course("one", "一座班", "月嫂/母婴护理", seats=1)])
    data = await ready_to_confirm(app, "tg:1808", ids["one"])
    first = Counted(app.dispatcher, "tg:1808", "en")
    await first.press(data)
    me = Counted(app.dispatcher, "tg:1809", "en")
    await me.say(f"/start course_{ids['one']}")
    await me.first()
    await me.first()
    for answer in ("Mary Chan", "13800138011", "Maonan", "40"):
        await me.say(answer)
    assert "confirming puts you on the waiting list" in me.text
