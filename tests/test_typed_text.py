"""Typing what she wants, anywhere (issue 9): typed text names a button by a clear part
of its label, ambiguous text offers the candidates, and text that a screen does not
expect searches courses and job fairs without losing her place. Menu entries of her
earlier messages take her there; buttons that act stay tied to their screen."""

from __future__ import annotations

import pytest

from handlers.context import NONCE_SPACE, nonce_code
from handlers.replies import MAX_DATA, MAX_TEXT
from tests.catalogue import load
from tests.chat import Chat
from tests.conftest import load_user
from tests.test_courses import COURSES, fill_form
from tests.test_courses import seeker as courses_seeker
from tests.test_fairs import FAIRS

BACK = "Back to where I was"
FOUND = "Courses and job fairs for"


async def seeker(chat, user: str, hint: str = "en") -> Chat:
    """A job seeker at her main menu who has agreed to the privacy notice."""
    return await courses_seeker(chat, user, hint)


def within_limits(me: Chat) -> None:
    for reply in me.replies:
        assert 0 < len(reply.text) <= MAX_TEXT
        assert all(len(b.data.encode()) <= MAX_DATA for b in reply.flat_buttons())


# --- text a screen does not expect: a search that keeps her place ----------------------
# (a kind of work alone, such as 月嫂 or yuesao, names the menu's button for it: below)
@pytest.mark.parametrize("words", ["好心月嫂", "月嫂招聘", "我想学月嫂"])
async def test_typing_at_the_main_menu_searches_courses_and_fairs(app, chat, words):
    await load(app, COURSES, FAIRS)
    me = await seeker(chat, "tg:901")
    await me.say(words)
    assert "tap one of the buttons" not in me.text
    assert FOUND in me.text and words in me.text
    assert any("好心月嫂初级班" in x for x in me.labels)  # a course
    assert any("好心家政专场招聘会" in x for x in me.labels)  # and a job fair
    assert not any("已开班" in x or "上个月" in x for x in me.labels)  # nothing closed or past
    assert me.labels[-1] == f"◀ {BACK}"
    within_limits(me)
    assert (await load_user(app, "tg:901")).state == "SEEKER_MENU"  # her place is kept
    await me.tap(BACK)
    assert "Main menu: training and work" in me.text


@pytest.mark.parametrize("words", ["好心月嫂", "月嫂招聘", "我想学月嫂"])
async def test_typing_at_the_chinese_main_menu_searches_too(app, chat, words):
    await load(app, COURSES, FAIRS)
    me = await seeker(chat, "tg:902", "zh-hans")
    menu = list(me.labels)
    await me.say(words)
    assert "请点一个按钮" not in me.text
    assert any("好心月嫂初级班" in x for x in me.labels)
    assert any("大湾区家政对接会" in x for x in me.labels)
    assert (await load_user(app, "tg:902")).state == "SEEKER_MENU"
    await me.press(me.replies[-1].buttons[-1][0].data)  # back to where she was
    assert me.labels == menu


@pytest.mark.parametrize(("hint", "words"), [("en", "yuesao"), ("zh-hans", "月嫂")])
async def test_a_kind_of_work_typed_at_the_main_menu_opens_its_courses(app, chat, hint, words):
    await load(app, COURSES, FAIRS)
    me = await seeker(chat, "tg:909", hint)
    await me.say(words)  # names the menu's "Maternity nurse (yuesao) (1)"
    assert FOUND not in me.text and any("好心月嫂初级班" in x for x in me.labels)
    user = await load_user(app, "tg:909")
    assert user.state == "COURSE_LIST" and listed(user) == "月嫂/母婴护理"


async def test_back_returns_to_the_exact_screen_with_her_form(app, chat):
    await load(app, COURSES, FAIRS)
    me = await seeker(chat, "tg:903")
    await me.say("/start course_1")
    await me.tap("Sign up")
    await fill_form(me)  # on the summary, which takes no text
    before = await load_user(app, "tg:903")
    summary = me.text
    await me.say("养老")
    assert FOUND in me.text and any("好心护理·养老护理员" in x for x in me.labels)
    after = await load_user(app, "tg:903")
    assert after.state == before.state == "CONFIRM_SIGNUP" and after.form == before.form
    await me.tap(BACK)
    assert me.text == summary  # the very screen, answers and all
    await me.tap("Confirm sign-up")
    assert "Your seat is confirmed" in me.text


async def test_typing_on_a_results_list_searches_again(app, chat):
    await load(app, COURSES, FAIRS)
    me = await seeker(chat, "tg:904")
    await me.tap("Job fairs")
    fairs = me.text
    await me.say("月嫂")
    await me.say("养老")  # on the results: a new search, still from the fairs list
    assert "“养老”" in me.text and any("好心护理·养老护理员" in x for x in me.labels)
    await me.say("大湾区")  # part of a result's title is a search, not a tap
    assert "“大湾区”" in me.text
    await me.tap(BACK)
    assert me.text == fairs
    assert (await load_user(app, "tg:904")).state == "FAIRS"


async def test_typing_on_a_course_list_searches_but_a_whole_title_opens_it(app, chat):
    await load(app, COURSES, FAIRS)
    me = await seeker(chat, "tg:905")
    await me.tap("Find a free course")
    await me.tap("By kind of work")
    await me.tap("yuesao")
    assert "COURSE_LIST" == (await load_user(app, "tg:905")).state
    await me.say("初级")  # a piece of the title
    assert FOUND in me.text
    await me.tap(BACK)
    assert (await load_user(app, "tg:905")).state == "COURSE_LIST"
    await me.say("好心月嫂初级班")  # the title without its date
    assert (
        "📚 好心月嫂初级班" in me.text and (await load_user(app, "tg:905")).state == "COURSE_CARD"
    )


async def test_a_result_opens_its_card(app, chat):
    await load(app, COURSES, FAIRS)
    me = await seeker(chat, "tg:906")
    await me.say("月嫂招聘")
    await me.tap("好心月嫂初级班")
    assert "茂名好心家政培训学校" in me.text and any("Sign up" in x for x in me.labels)
    await me.say("/menu")
    await me.say("月嫂招聘")
    await me.tap("好心家政专场招聘会")
    assert "Firms and jobs" in me.text
    assert (await load_user(app, "tg:906")).state == "FAIR_CARD"


async def test_nothing_found_too_long_or_a_number_keeps_her_screen(app, chat):
    await load(app, COURSES, FAIRS)
    me = await seeker(chat, "tg:907")
    menu = list(me.labels)
    await me.say("zzzzqqq")  # nothing found, no question matched: a person is offered
    assert "I don't have a ready answer for “zzzzqqq”" in me.text
    assert [x for x in me.labels if not x.startswith("◀")] == ["👤 Ask a person"]
    await me.tap(BACK)
    assert me.labels == menu
    await me.say("月嫂" * 21)  # too long to search: read as a question, her place kept
    assert FOUND not in me.text and (await load_user(app, "tg:907")).state == "SEEKER_MENU"
    await me.tap(BACK)
    assert me.labels == menu
    await me.say("🙂👍🏽")
    assert "tap one of the buttons" in me.text and me.labels == menu
    await me.say("99")  # no button 99: not a search for "99"
    assert "tap one of the buttons" in me.text and me.labels == menu
    assert (await load_user(app, "tg:907")).state == "SEEKER_MENU"


async def test_a_form_step_that_takes_text_gets_answers_never_a_search(app, chat):
    await load(app, COURSES, FAIRS)
    me = await seeker(chat, "tg:908")
    await me.say("/start course_1")
    await me.tap("Sign up")
    await me.say("李秀梅")
    await me.say("13800138000")
    await me.say("yuesao")  # not a county: asked again, never a search
    assert FOUND not in me.text and "county" in me.text
    assert (await load_user(app, "tg:908")).state == "ASK_COUNTY"
    await me.say("maonan")  # a county, typed in pinyin
    user = await load_user(app, "tg:908")
    assert user.state == "ASK_AGE" and user.form["signup"]["county"] == "茂南"
    await me.say("2")  # a number in a numeric state is her age, not button 2
    assert "aged 16 to 70" in me.text or "as a number" in me.text
    assert (await load_user(app, "tg:908")).state == "ASK_AGE"
    await me.say("38")
    assert (await load_user(app, "tg:908")).form["signup"]["age"] == 38


# --- a typed answer names a button --------------------------------------------------
async def at_the_privacy_question(app, chat, user: str, hint: str) -> Chat:
    """A newcomer from a poster's link who tapped "Sign up": the privacy question."""
    await load(app, COURSES)
    me = chat(user, hint)
    await me.say("/start course_1")
    await me.press(me.button("✍").data)  # sign up
    assert (await load_user(app, user)).state == "PRIVACY"
    return me


@pytest.mark.parametrize(("hint", "words"), [("zh-hans", "同意"), ("zh-hk", "同意")])
async def test_part_of_a_label_presses_it_not_its_negation(app, chat, hint, words):
    me = await at_the_privacy_question(app, chat, "tg:910", hint)
    assert any("不同意" in x or "唔同意" in x for x in me.labels)
    await me.say(words)
    user = await load_user(app, "tg:910")
    assert user.state == "ASK_NAME" and user.consented_at is not None


@pytest.mark.parametrize("words", ["yes", "agree", "Agree", "i agree", "YES"])
async def test_yes_and_agree_in_english(app, chat, words):
    me = await at_the_privacy_question(app, chat, "tg:911", "en")
    await me.say(words)
    assert "what is your name?" in me.text
    assert (await load_user(app, "tg:911")).consented_at is not None


async def test_no_declines_and_stores_nothing(app, chat):
    me = await at_the_privacy_question(app, chat, "tg:912", "en")
    await me.say("no")
    assert "kept nothing about you" in me.text  # she did not agree
    assert await load_user(app, "tg:912") is None  # declining forgets her row


def listed(user) -> str:
    """The kind of work her course list shows."""
    value = user.form["listing"]["value"]
    return value[0] if isinstance(value, list) else value


async def kinds_of_work(chat, user: str, hint: str) -> Chat:
    """At "Which kind of work?" (labels such as `月嫂/母婴护理 (1)`, with a count)."""
    me = await seeker(chat, user, hint)
    await me.press(me.button("📚").data)  # find a course (after the menu's kinds of work)
    await me.press(me.replies[-1].buttons[0][0].data)  # by kind of work
    assert all("(1)" in x for x in me.labels[:-1]), me.labels
    return me


@pytest.mark.parametrize(
    ("hint", "words", "track"),
    [
        ("zh-hans", "月嫂", "月嫂/母婴护理"),
        ("zh-hans", "yuesao", "月嫂/母婴护理"),
        ("zh-hans", "yue sao", "月嫂/母婴护理"),
        ("zh-hans", "保姆", "家政服务员/保姆"),
        ("zh-hk", "母婴护理", "月嫂/母婴护理"),  # Simplified typed, Traditional shown
        ("zh-hk", "月嫂", "月嫂/母婴护理"),
        ("en", "yuesao", "月嫂/母婴护理"),
        ("en", "月嫂", "月嫂/母婴护理"),
    ],
)
async def test_a_kind_of_work_is_named_by_part_of_its_label(app, chat, hint, words, track):
    await load(app, COURSES)
    me = await kinds_of_work(chat, "tg:913", hint)
    await me.say(words)
    user = await load_user(app, "tg:913")
    assert user.state == "COURSE_LIST" and listed(user) == track
    assert user.refused_presses == 0


async def test_ambiguous_text_offers_the_candidates(app, chat):
    await load(app, COURSES)
    me = await kinds_of_work(chat, "tg:915", "zh-hans")
    await me.say("护理")  # in 月嫂/母婴护理 and in 养老护理员
    assert me.labels[:2] == ["月嫂/母婴护理 (1)", "养老护理员 (1)"] and len(me.labels) == 3
    assert "◀" in me.labels[2]  # and: show all the choices again
    assert (await load_user(app, "tg:915")).state == "PICK_TRACK"
    await me.press(me.replies[-1].buttons[-1][0].data)
    assert len(me.labels) == 4  # three kinds of work and Back
    await me.say("护理")
    await me.tap("养老护理员")
    user = await load_user(app, "tg:915")
    assert user.state == "COURSE_LIST" and listed(user) == "养老护理员"
    assert user.refused_presses == 0


async def test_ambiguous_text_in_english(app, chat):
    await load(app, COURSES)
    me = await kinds_of_work(chat, "tg:918", "en")
    labels = list(me.labels)
    await me.say("carer")  # "Elder carer", and any other carer
    carers = [x for x in labels if "carer" in x.lower().split()]
    if len(carers) > 1:
        assert "Which one do you mean?" in me.text and me.labels[:-1] == carers
    await me.tap("Back")  # "◀ Show all choices", or the course list's Back
    assert (await load_user(app, "tg:918")).state in ("PICK_TRACK", "COURSES")


async def test_yes_and_no_on_a_confirmation(app, chat):
    await load(app, COURSES)
    me = await seeker(chat, "tg:916")
    await me.say("/start course_1")
    await me.tap("Sign up")
    await fill_form(me)
    await me.say("confirm")
    assert "Your seat is confirmed" in me.text
    await me.say("/menu")
    await me.tap("My sign-ups")
    await me.tap("好心月嫂初级班")
    await me.tap("Cancel my place")
    await me.say("no")  # "◀ No, keep it", not "✖ Yes, cancel my place"
    assert (await load_user(app, "tg:916")).state == "MY_SIGNUPS"
    await me.tap("好心月嫂初级班")
    await me.tap("Cancel my place")
    await me.say("yes")
    assert "cancelled" in me.text.lower()


# --- before she agrees, what she types is searched but never kept ------------------------
@pytest.mark.parametrize("words", ["我想学月嫂", "李秀梅 13800138000"])
async def test_before_consent_typed_text_is_searched_but_never_kept(app, chat, words):
    await load(app, COURSES, FAIRS)
    me = chat("tg:917", "en")
    await me.say("/start")
    await me.say(words)  # on the greeting: she is on her way, and it is a search
    assert FOUND in me.text or "found no course" in me.text
    if FOUND in me.text:
        await me.tap("Back to where I was")
    await me.say(words)  # on her menu, before she has agreed: a search too
    assert FOUND in me.text or "found no course" in me.text
    await me.say("/start course_1")
    await me.tap("Sign up")  # the privacy question takes taps, not searches
    await me.say(words)
    assert "tap one of the buttons" in me.text and "✅ I agree" in me.labels
    user = await load_user(app, "tg:917")
    assert user.consented_at is None and user.start_payload is None
    assert user.state == "PRIVACY" and words not in str(user.form)


# --- menu entries of earlier messages ----------------------------------------------------
async def test_a_menu_entry_of_an_earlier_message_takes_her_there(app, chat):
    await load(app, COURSES, FAIRS)
    me = await seeker(chat, "tg:920")
    fairs, courses = me.button("Job fairs").data, me.button("Find a free course").data
    signups = me.button("My sign-ups").data
    await me.tap("Find a free course")
    await me.tap("By kind of work")
    await me.press(fairs)  # from the menu two messages up
    assert "Upcoming job fairs" in me.text
    assert (await load_user(app, "tg:920")).state == "FAIRS"
    await me.tap("大湾区家政对接会")
    await me.tap("Register to attend")  # in a form step
    await me.press(courses)
    assert (await load_user(app, "tg:920")).state == "COURSES"
    await me.say("/start course_1")
    main_menu = me.button("Main menu").data
    await me.tap("Sign up")
    await me.press(signups)
    assert "You have not signed up" in me.text
    await me.press(main_menu)  # "🏠 Main menu" of an earlier course card
    assert "Main menu: training and work" in me.text
    user = await load_user(app, "tg:920")
    assert user.refused_presses == 0 and user.state == "SEEKER_MENU"


async def test_buttons_that_act_stay_tied_to_their_screen(app, chat):
    await load(app, COURSES, FAIRS)
    me = await seeker(chat, "tg:921")
    await me.say("/start course_1")
    sign_up = me.button("Sign up").data
    await me.tap("Sign up")
    await fill_form(me)
    confirm = me.button("Confirm sign-up").data
    change = me.button("Change phone").data
    await me.say("/menu")
    for old in (sign_up, confirm, change):
        await me.press(old)
        assert "belongs to an earlier message" in me.text
    user = await load_user(app, "tg:921")
    assert user.state == "SEEKER_MENU" and user.refused_presses == 3
    assert "signup" not in user.form


async def test_forged_or_foreign_menu_entries_are_refused(app, chat):
    await load(app, COURSES, FAIRS)
    mei, lan = await seeker(chat, "tg:922"), await seeker(chat, "tg:923")
    hers = mei.button("Job fairs").data
    tag, action = hers.split("|")
    await lan.press(hers)  # another person's menu entry
    assert "earlier message" in lan.text or "recognise" in lan.text
    assert (await load_user(app, "tg:923")).state == "SEEKER_MENU"
    await mei.tap("Find a free course")
    for forged in (
        f"{tag}|go:vetting",  # her tag, an entry her menu does not have
        f"{tag}|soon:vetting",  # her tag, an action that is no navigation
        f"{tag}|confirm:1",
        f"{tag}|go:fairs:x",
        f"{tag.upper()}|{action}",
        f"好好好好好|{action}",
    ):
        await mei.press(forged)
        assert "recognise" in mei.text or "earlier message" in mei.text, forged
        assert (await load_user(app, "tg:922")).state == "COURSES", forged
    tries = 300
    for n in range(tries):  # a blind guesser of the menu's tag
        guess = f"{nonce_code((n * 7919 + 13) % NONCE_SPACE)}|{action}"
        if guess != hers:
            await mei.press(guess)
    user = await load_user(app, "tg:922")
    assert user.state == "COURSES" and user.refused_presses >= tries + 5
    assert (await load_user(app, "tg:923")).refused_presses == 1


async def test_a_menu_that_is_no_longer_hers_is_refused(app, chat):
    await load(app, COURSES, FAIRS)
    me = await seeker(chat, "tg:924")
    courses = me.button("Find a free course").data
    await me.tap("Change what I'm here for")
    await me.tap("I need a helper at home")
    await me.press(courses)  # the job seeker's menu, now that she is a household
    assert "recognise" in me.text
    assert (await load_user(app, "tg:924")).state == "HOUSEHOLD_MENU"


async def test_menu_entries_keep_their_data_on_every_visit(app, chat):
    """A menu entry's data is the same each time the menu is shown (so an old one
    still works), while the screen's other buttons get a new nonce each time."""
    me = await seeker(chat, "tg:925")
    first = (me.button("Job fairs").data, me.button("Change what I").data)
    await me.tap("Find a free course")
    await me.tap("Main menu")
    second = (me.button("Job fairs").data, me.button("Change what I").data)
    assert first[0] == second[0] and first[1] != second[1]
    other = await seeker(chat, "tg:926")
    assert other.button("Job fairs").data != first[0]


async def test_getting_started_screens_take_taps_not_searches(app, chat):
    await load(app, COURSES, FAIRS)
    me = await seeker(chat, "tg:927")
    await me.tap("Change what I'm here for")
    await me.say("月嫂")  # she is saying who she is, not looking for anything
    assert "tap one of the buttons" in me.text and FOUND not in me.text
    await me.say("helper")  # a clear piece of "🏠 I need a helper at home"
    assert "Main menu: help at home" in me.text


async def test_a_household_searches_from_her_menu_too(app, chat):
    await load(app, COURSES, FAIRS)
    me = chat("tg:928", "en")
    await me.onboard("I need a helper at home")
    await me.say("yuesao")
    assert FOUND in me.text and any("好心月嫂初级班" in x for x in me.labels)
    await me.tap(BACK)
    assert "Main menu: help at home" in me.text


@pytest.mark.parametrize("words", ["'; DROP TABLE users; --", "\x1b[31mred\x1b[0m", "¯\\_(ツ)_/¯"])
async def test_odd_text_at_a_menu_is_answered_and_keeps_her_place(app, chat, words):
    me = await seeker(chat, "tg:929")
    await me.say(words)  # no question and nothing found: a person is offered, calmly
    assert "went wrong" not in me.text and "👤 Ask a person" in me.labels
    within_limits(me)
    assert (await load_user(app, "tg:929")).state == "SEEKER_MENU"


async def test_an_earlier_language_entry_keeps_her_screen(app, chat):
    await load(app, COURSES, FAIRS)
    me = await seeker(chat, "tg:930")
    language = me.button("Language").data
    await me.say("/start course_1")
    card = me.text
    await me.press(language)  # from the menu, now out of sight
    await me.tap("English")
    assert card in me.text  # the choice made, the card again
    user = await load_user(app, "tg:930")
    assert user.state == "COURSE_CARD" and user.refused_presses == 0
