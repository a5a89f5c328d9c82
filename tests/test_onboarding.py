"""Onboarding played as a person, in each language, against a real SQLite file.

The greeting leads straight to a home menu; the privacy notice is asked at the first
personal question (a sign-up, a fair registration) and leads on to that question."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import create_app
from storage.models import Profile
from tests.catalogue import course, load
from tests.chat import Chat
from tests.conftest import ADMIN, load_user, make_settings
from tests.test_fairs import FAIRS

# what a person of each language sees and taps
LANGS = {
    "zh-hans": dict(
        lang="zh",
        hello="你好！我是好心家政",
        cont="继续",
        privacy="你的隐私",
        ask="你同意吗？",
        agree="我同意",
        work="我想参加培训或找工作",
        home="我家需要请家政",
        change="换个身份",
        menu="主菜单：培训和工作",
        home_menu="主菜单：找家政服务",
        soon="即将推出",
        kind="月嫂/母婴护理 (1)",
        sign="报名",
        name="第 1 步（共 4 步）：你叫什么名字？",
        title="好心月嫂初级班",
    ),
    "zh-hk": dict(
        lang="yue",
        hello="你好！我係好心家政",
        cont="繼續",
        privacy="你嘅私隱",
        ask="你同唔同意？",
        agree="我同意",
        work="我想參加培訓或者搵工",
        home="我屋企要請家務助理",
        change="轉身份",
        menu="主選單：培訓同搵工",
        home_menu="主選單：搵家務助理",
        soon="即將推出",
        kind="月嫂／母嬰護理 (1)",
        sign="報名",
        name="第 1 步（共 4 步）：你叫咩名？",
        title="好心月嫂初級班",  # titles in Traditional characters
    ),
    "en-US": dict(
        lang="en",
        hello="Hello! I am Haoxin",
        cont="Continue",
        privacy="Your privacy",
        ask="Do you agree?",
        agree="I agree",
        work="I want training or work",
        home="I need a helper at home",
        change="Change what I'm here for",
        menu="Main menu: training and work",
        home_menu="Main menu: help at home",
        soon="coming soon",
        kind="Maternity nurse (yuesao) (1)",
        sign="Sign up",
        name="step 1 of 4: what is your name?",
        title="好心月嫂初级班",  # no English title in the data: as written
    ),
}

COURSE = course("ys1", "好心月嫂初级班", "月嫂/母婴护理")  # free: four steps


def role_buttons(me: Chat, t: dict) -> list[str]:
    return [x for x in me.labels if t["work"] in x or t["home"] in x]


@pytest.mark.parametrize("hint", LANGS)
async def test_job_seeker_onboarding_in_each_language(app, chat, hint):
    t = LANGS[hint]
    me = chat("tg:101", hint)

    await me.say("/start")
    assert t["hello"] in me.text
    assert {"简体中文", "廣東話（繁體）", "English"} <= set(me.labels)
    assert any(t["cont"] in x for x in me.labels)
    user = await load_user(app, "tg:101")
    assert user.lang == t["lang"] and user.consented_at is None

    await me.tap(t["cont"])  # straight to the job seeker's menu
    assert t["menu"] in me.text
    assert t["privacy"] not in me.text and role_buttons(me, t) == []  # nothing asked
    assert t["soon"] not in me.labels[0]  # finding a course works
    assert not any(t["soon"] in x for x in me.labels)  # every entry of hers works now
    assert any(t["change"] in x for x in me.labels)  # a household switches from here
    user = await load_user(app, "tg:101")
    assert user.role == "seeker" and user.state == "SEEKER_MENU"
    assert user.consented_at is None and user.consent_version is None  # not asked yet
    async with app.db.sessions() as s:
        assert await s.get(Profile, user.id) is None  # nothing personal is kept


@pytest.mark.parametrize("hint", LANGS)
async def test_consent_is_asked_at_the_first_personal_question(app, chat, hint):
    t = LANGS[hint]
    await load(app, [COURSE])
    me = chat("tg:111", hint)
    await me.say("/start")
    await me.tap(t["cont"])
    await me.tap(t["kind"])  # the menu's kinds of work with open courses
    await me.tap("好心")  # the one course of that kind
    assert (await load_user(app, "tg:111")).consented_at is None  # courses are public

    await me.tap(t["sign"])  # the first personal question: the privacy notice first
    assert t["privacy"] in me.text and "/delete_me" in me.text and t["ask"] in me.text
    user = await load_user(app, "tg:111")
    assert user.state == "PRIVACY" and user.consented_at is None

    await me.tap(t["agree"])  # on to the question that needed it
    assert t["name"] in me.text and t["privacy"] not in me.text
    user = await load_user(app, "tg:111")
    assert user.state == "ASK_NAME" and user.role == "seeker"
    assert user.consented_at is not None and user.consent_version == 1
    assert "after_consent" not in user.form


async def test_consent_is_asked_before_registering_for_a_fair(app, chat):
    await load(app, [], [FAIRS[0]])  # registration required
    me = chat("tg:112", "en")
    await me.say("/start")
    await me.tap("Continue")
    await me.tap("Job fairs")
    await me.tap("大湾区家政对接会")
    await me.tap("Register to attend")
    assert "Your privacy" in me.text and "Do you agree?" in me.text
    assert (await load_user(app, "tg:112")).consented_at is None
    await me.tap("I agree")
    assert "To register, what is your name?" in me.text
    user = await load_user(app, "tg:112")
    assert user.state == "FAIR_ASK_NAME" and user.consented_at is not None


async def test_consent_given_earlier_is_not_asked_again(app, chat):
    await load(app, [COURSE])
    me = chat("tg:113", "en")
    await me.onboard()  # agreed from /privacy, back on the menu
    assert "Main menu: training and work" in me.text
    await me.say("/privacy")
    assert not any("I agree" in x for x in me.labels)  # already agreed
    await me.say("/menu")
    await me.tap("Maternity nurse (yuesao) (1)")
    await me.tap("好心月嫂初级班")
    await me.tap("Sign up")
    assert "step 1 of 4: what is your name?" in me.text and "Do you agree?" not in me.text


@pytest.mark.parametrize(
    ("button", "menu", "lang"),
    [
        ("简体中文", "主菜单：培训和工作", "zh"),
        ("廣東話", "主選單：培訓同搵工", "yue"),
        ("English", "Main menu: training and work", "en"),
    ],
)
async def test_a_language_on_the_greeting_moves_on_in_it(app, chat, button, menu, lang):
    me = chat("tg:102", "zh-CN" if lang == "en" else "en")
    await me.say("/start")
    await me.tap(button)
    assert menu in me.text  # the menu, in that language
    assert "Hello! I am Haoxin" not in me.text and "你好！我是好心家政" not in me.text
    user = await load_user(app, "tg:102")
    assert user.lang == lang and user.state == "SEEKER_MENU" and user.role == "seeker"
    assert user.consented_at is None


async def test_the_language_can_be_changed_any_time(app, chat):
    me = chat("tg:109", "zh-CN")
    await me.say("/start")
    await me.tap("English")
    await me.say("/language")
    await me.tap("廣東話")
    assert "語言：廣東話（繁體）" in me.text and "主選單：培訓同搵工" in me.text
    assert (await load_user(app, "tg:109")).lang == "yue"


@pytest.mark.parametrize("hint", LANGS)
async def test_household_onboarding_and_its_menu(app, chat, hint):
    t = LANGS[hint]
    me = chat("wx:oHOUSE", hint)
    await me.say("hi")  # any first message greets
    assert t["hello"] in me.text
    await me.tap(t["cont"])
    await me.tap(t["change"])  # "Change what I'm here for"
    assert len(role_buttons(me, t)) == 2
    await me.tap(t["home"])
    assert t["home_menu"] in me.text
    assert not any(t["soon"] in x for x in me.labels)  # every household entry is live
    user = await load_user(app, "wx:oHOUSE")
    assert user.state == "HOUSEHOLD_MENU" and user.role == "household"
    assert user.consented_at is None  # nothing personal asked on the way


async def test_nothing_is_stored_without_consent(app, chat):
    ids = await load(app, [COURSE])
    me = chat("tg:103", "en")
    await me.say(f"/start course_{ids['ys1']}")  # a poster's link: the course's card
    user = await load_user(app, "tg:103")
    assert user.consented_at is None and user.form == {"course": ids["ys1"]}
    await me.tap("Sign up")  # nothing personal is asked before "I agree"
    assert "Do you agree?" in me.text and "what is your name?" not in me.text
    await me.tap("No, thank you")  # declining erases her row entirely
    assert "kept nothing about you" in me.text and "send /start" in me.text
    assert await load_user(app, "tg:103") is None  # not even her chat account or language
    async with app.db.sessions() as s:
        assert await s.scalar(select(Profile)) is None
    await me.say("/menu")  # as a newcomer: the welcome again
    assert "Hello! I am Haoxin" in me.text


@pytest.mark.parametrize("hint", LANGS)
async def test_a_deep_link_on_first_contact_opens_the_card(app, chat, hint):
    t = LANGS[hint]
    ids = await load(app, [COURSE])
    me = chat("tg:105", hint)
    await me.say(f"/start course_{ids['ys1']}")
    assert len(me.replies) == 2  # a one-line hello, then the card: nothing in between
    assert t["hello"] in me.replies[0].text and "\n" not in me.replies[0].text
    assert t["title"] in me.replies[1].text
    assert any(t["sign"] in x for x in me.labels)
    assert t["privacy"] not in me.text and role_buttons(me, t) == []
    user = await load_user(app, "tg:105")
    assert user.role == "seeker" and user.state == "COURSE_CARD"
    assert user.start_payload is None and user.consented_at is None

    await me.tap(t["sign"])  # and signing up asks consent, then her name
    await me.tap(t["agree"])
    assert t["name"] in me.text


async def test_a_deep_link_to_a_fair_that_is_gone_lands_on_the_menu(app, chat):
    me = chat("tg:114", "en")
    await me.say("/start fair_12")
    # there is no fair 12: the person is told, lands on the menu, and the payload is used up
    assert "can't find that job fair" in me.text and "Main menu" in me.text
    user = await load_user(app, "tg:114")
    assert user.start_payload is None and user.role == "seeker"


async def test_a_deep_link_later_opens_the_card_too(app, chat):
    ids = await load(app, [COURSE])
    me = chat("tg:115", "en")
    await me.onboard()
    await me.say(f"/start course_{ids['ys1']}")
    assert "好心月嫂初级班" in me.text and "Hello! I am Haoxin" not in me.text
    assert (await load_user(app, "tg:115")).state == "COURSE_CARD"


async def test_bad_deep_link_payload_gets_the_normal_greeting(app, chat):
    me = chat("tg:106", "en")
    await me.say("/start <script>alert(1)</script>")
    assert "Hello! I am Haoxin" in me.text
    assert (await load_user(app, "tg:106")).start_payload is None


async def test_admin_is_recognised_from_configuration(app, chat):
    admin = chat(ADMIN, "en")
    await admin.say("/start")  # the staff menu at once: no privacy or role question
    assert "Programme staff menu" in admin.text and "Your privacy" not in admin.text
    assert any("Vet workers" in label for label in admin.labels)
    user = await load_user(app, ADMIN)
    assert user.state == "ADMIN_MENU" and user.role is None and user.consented_at is None


async def test_admin_role_is_checked_on_every_event(db_path):
    app = await create_app(make_settings(db_path))
    admin = Chat(app.dispatcher, ADMIN, "en")
    await admin.say("/start")
    vet = admin.button("Vet workers").data
    await app.close()

    # the same person, after being removed from HAOXIN_ADMIN_IDS, taps the old admin button
    app = await create_app(make_settings(db_path, admin_ids=frozenset()))
    former = Chat(app.dispatcher, ADMIN, "en")
    await former.press(vet)
    assert "for programme staff only" in former.text
    assert any("I want training or work" in x for x in former.labels)
    assert (await load_user(app, ADMIN)).state == "CHOOSE_ROLE"
    await app.close()


async def test_forged_admin_button_from_a_job_seeker_is_refused(app, chat):
    me = chat("tg:104", "en")
    await me.onboard()
    nonce = me.button("Find a free course").data.split("|")[0]
    await me.press(f"{nonce}|soon:vetting")
    assert "don't recognise that button" in me.text
    await me.press(f"{nonce}|go:vetting")
    assert "don't recognise that button" in me.text
    assert (await load_user(app, "tg:104")).state == "SEEKER_MENU"


async def test_delete_me_erases_everything_after_confirmation(app, chat):
    me = chat("tg:107", "en")
    await me.onboard()

    await me.say("/delete_me")
    assert "Delete all your data?" in me.text
    await me.tap("No, keep my data")
    assert "Your data is kept" in me.text and "Main menu" in me.text
    assert "back_to" not in (await load_user(app, "tg:107")).form

    await me.tap("Privacy & my data")
    await me.tap("Delete my data")
    await me.tap("Yes, delete everything")
    assert "your data has been deleted" in me.text
    assert await load_user(app, "tg:107") is None
    from storage.models import ProcessedEvent

    async with app.db.sessions() as s:
        kept = list(
            await s.scalars(
                select(ProcessedEvent.replies).where(ProcessedEvent.user_key == "tg:107")
            )
        )
    # the records of her updates stay (so a repeat is not a new first message), but
    # every reply that could quote her is gone; the deleting event's own reply is kept
    assert len(kept) > 1 and all(r is None or "deleted" in r[0]["text"] for r in kept), kept

    await me.say("/start")  # a new beginning
    assert "Hello! I am Haoxin" in me.text
    assert (await load_user(app, "tg:107")).consented_at is None


async def test_cancel_and_help_keep_the_conversation_going(app, chat):
    ids = await load(app, [COURSE])
    me = chat("tg:108", "en")
    await me.say("/start")
    await me.say("/cancel")
    assert "nothing to cancel" in me.text and "Continue ▶" in me.labels
    await me.say(f"/start course_{ids['ys1']}")
    await me.tap("Sign up")
    await me.say("/help")
    assert "/delete_me" in me.text and "✅ I agree" in me.labels  # help, then the question again
    await me.tap("I agree")
    assert "what is your name?" in me.text
    await me.say("/cancel")
    assert "Cancelled" in me.text and "Main menu" in me.text
    assert "signup" not in (await load_user(app, "tg:108")).form
