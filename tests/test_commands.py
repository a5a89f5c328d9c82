"""Commands from anywhere: /help lists them all, /language can be left, /start asks
before dropping a form she is filling in."""

from __future__ import annotations

from handlers import FLOWS
from tests.catalogue import course, load
from tests.chat import Chat
from tests.conftest import ADMIN, load_user
from tests.test_courses import seeker


async def test_help_lists_every_command(app, chat):
    me = await seeker(chat, "tg:1101", "en")
    await me.say("/help")
    words = me.replies[0].text.split()
    listed = {w[1:] for w in words if w.startswith("/") and len(w) > 1}
    assert listed == set(FLOWS.commands) - STAFF_COMMANDS, listed ^ set(FLOWS.commands)
    # staff see their own commands too
    admin = Chat(app.dispatcher, ADMIN, "en")
    await admin.say("/start")
    await admin.say("/help")
    words = admin.replies[0].text.split()
    listed = {w[1:] for w in words if w.startswith("/") and len(w) > 1}
    assert listed == set(FLOWS.commands), listed ^ set(FLOWS.commands)


#: commands for staff only: /help lists them to staff
STAFF_COMMANDS = {"broadcast"}


async def test_the_language_menu_has_back_to_where_she_was(app, chat):
    me = await seeker(chat, "tg:1102", "en")
    await me.tap("Find a free course")
    await me.say("/language")
    assert "Choose your language" in me.text
    await me.tap("◀ Back")
    assert me.button("By kind of work")  # the courses menu again, language unchanged
    assert (await load_user(app, "tg:1102")).lang == "en"


async def test_start_in_the_middle_of_a_form_asks_and_going_on_keeps_every_answer(app, chat):
    ids = await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
    me = await seeker(chat, "tg:1103", "en")
    await me.say(f"/start course_{ids['ys1']}")
    await me.tap("Sign up")
    await me.say("李秀梅")
    await me.say("13800138000")
    step = (await load_user(app, "tg:1103")).state
    await me.say("/start")
    assert "You are filling in a form" in me.text
    await me.tap("No, go on with the form")
    user = await load_user(app, "tg:1103")
    assert user.state == step and "Step 3 of 4" in me.text
    assert user.form["signup"]["name"] == "李秀梅" and user.form["signup"]["phone"]


async def test_start_in_the_middle_of_a_form_drops_it_only_when_she_says_so(app, chat):
    ids = await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
    me = await seeker(chat, "tg:1104", "en")
    await me.say(f"/start course_{ids['ys1']}")
    await me.tap("Sign up")
    await me.say("李秀梅")
    await me.say(f"/start course_{ids['ys1']}")
    await me.tap("Yes, start again")
    user = await load_user(app, "tg:1104")
    assert "signup" not in user.form
    assert me.button("Sign up")  # the deep link she sent opened the course again
