"""Onboarding played as a person, in each language, against a real SQLite file."""

from __future__ import annotations

import pytest

from bot.app import create_app
from tests.chat import Chat
from tests.conftest import ADMIN, load_user, make_settings

# what a person of each language sees and taps
LANGS = {
    "zh-hans": dict(
        lang="zh",
        hello="你好！我是好心家政",
        cont="继续",
        privacy="你的隐私",
        agree="我同意",
        work="我想参加培训或找工作",
        home="我家需要请家政",
        menu="主菜单：培训和工作",
        home_menu="主菜单：找家政服务",
        soon="即将推出",
    ),
    "zh-hk": dict(
        lang="yue",
        hello="你好！我係好心家政",
        cont="繼續",
        privacy="你嘅私隱",
        agree="我同意",
        work="我想參加培訓或者搵工",
        home="我屋企要請家務助理",
        menu="主選單：培訓同搵工",
        home_menu="主選單：搵家務助理",
        soon="即將推出",
    ),
    "en-US": dict(
        lang="en",
        hello="Hello! I am Haoxin",
        cont="Continue",
        privacy="Your privacy",
        agree="I agree",
        work="I want training or work",
        home="I need a helper at home",
        menu="Main menu: training and work",
        home_menu="Main menu: help at home",
        soon="coming soon",
    ),
}


@pytest.mark.parametrize("hint", LANGS)
async def test_job_seeker_onboarding_in_each_language(app, chat, hint):
    t = LANGS[hint]
    me = chat("tg:101", hint)

    await me.say("/start")
    assert t["hello"] in me.text
    assert {"简体中文", "廣東話（繁體）", "English"} <= set(me.labels)
    user = await load_user(app, "tg:101")
    assert user.lang == t["lang"] and user.consented_at is None

    await me.tap(t["cont"])
    assert t["privacy"] in me.text and "/delete_me" in me.text
    await me.tap(t["agree"])
    assert any(t["work"] in x for x in me.labels) and any(t["home"] in x for x in me.labels)

    await me.tap(t["work"])
    assert t["menu"] in me.text
    assert t["soon"] not in me.labels[0]  # finding a course works
    assert t["soon"] in me.labels[3]  # the worker profile is still to come
    user = await load_user(app, "tg:101")
    assert user.role == "seeker" and user.state == "SEEKER_MENU"
    assert user.consented_at is not None and user.consent_version == 1


@pytest.mark.parametrize("hint", LANGS)
async def test_household_onboarding_and_coming_soon_entries(app, chat, hint):
    t = LANGS[hint]
    me = chat("wx:oHOUSE", hint)
    await me.say("hi")  # any first message greets
    assert t["hello"] in me.text
    await me.tap(t["cont"])
    await me.tap(t["agree"])
    await me.tap(t["home"])
    assert t["home_menu"] in me.text
    first_entry = me.labels[0]
    await me.tap(first_entry)
    assert t["soon"] in me.text and t["home_menu"] in me.text  # answered, menu again
    assert (await load_user(app, "wx:oHOUSE")).state == "HOUSEHOLD_MENU"


async def test_language_switch_on_the_first_screen_and_any_time(app, chat):
    me = chat("tg:102", "zh-CN")
    await me.say("/start")
    assert "你好！我是好心家政" in me.text
    await me.tap("English")
    assert "Language: English" in me.text and "Hello! I am Haoxin" in me.text
    await me.tap("Continue")
    await me.tap("I agree")
    await me.tap("I want training or work")
    await me.say("/language")
    await me.tap("廣東話")
    assert "語言：廣東話（繁體）" in me.text and "主選單：培訓同搵工" in me.text
    assert (await load_user(app, "tg:102")).lang == "yue"


async def test_nothing_is_stored_without_consent(app, chat):
    me = chat("tg:103", "en")
    await me.say("/start course_1")  # a deep link is kept until she answers
    await me.tap("Continue")
    await me.tap("No, thank you")
    assert "kept nothing about you" in me.text and "send /start" in me.text
    assert await load_user(app, "tg:103") is None  # not even her chat account or language
    await me.say("/menu")  # as a newcomer: the welcome again
    assert "Hello! I am Haoxin" in me.text


async def test_admin_is_recognised_from_configuration(app, chat):
    admin = chat(ADMIN, "en")
    await admin.say("/start")
    await admin.tap("Continue")
    await admin.tap("I agree")
    assert "Programme staff menu" in admin.text
    assert any("Vet workers" in label for label in admin.labels)


async def test_admin_role_is_checked_on_every_event(db_path):
    app = await create_app(make_settings(db_path))
    admin = Chat(app.dispatcher, ADMIN, "en")
    await admin.say("/start")
    await admin.tap("Continue")
    await admin.tap("I agree")
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
    assert (await load_user(app, "tg:104")).state == "SEEKER_MENU"


async def test_deep_link_payload_is_kept_through_onboarding(app, chat):
    me = chat("tg:105", "en")
    await me.say("/start fair_12")
    assert (await load_user(app, "tg:105")).start_payload == "fair_12"
    await me.tap("Continue")
    await me.tap("I agree")
    assert (await load_user(app, "tg:105")).start_payload == "fair_12"
    await me.tap("I want training or work")
    # there is no fair 12: the person is told, lands on the menu, and the payload is used up
    assert "can't find that job fair" in me.text and "Main menu" in me.text
    assert (await load_user(app, "tg:105")).start_payload is None


async def test_bad_deep_link_payload_gets_the_normal_greeting(app, chat):
    me = chat("tg:106", "en")
    await me.say("/start <script>alert(1)</script>")
    assert "Hello! I am Haoxin" in me.text
    assert (await load_user(app, "tg:106")).start_payload is None


async def test_delete_me_erases_everything_after_confirmation(app, chat):
    me = chat("tg:107", "en")
    await me.onboard()

    await me.say("/delete_me")
    assert "Delete all your data?" in me.text
    await me.tap("No, keep my data")
    assert "Your data is kept" in me.text and "Main menu" in me.text
    assert (await load_user(app, "tg:107")).form == {}

    await me.tap("Privacy & my data")
    await me.tap("Delete my data")
    await me.tap("Yes, delete everything")
    assert "your data has been deleted" in me.text
    assert await load_user(app, "tg:107") is None
    from sqlalchemy import select

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
    me = chat("tg:108", "en")
    await me.say("/start")
    await me.say("/cancel")
    assert "nothing to cancel" in me.text and "Continue ▶" in me.labels
    await me.tap("Continue")
    await me.say("/help")
    assert "/delete_me" in me.text and "✅ I agree" in me.labels  # help, then the question again
    await me.tap("I agree")
    await me.tap("I want training or work")
    await me.say("/cancel")
    assert "Cancelled" in me.text and "Main menu" in me.text
