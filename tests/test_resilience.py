"""Restarts, repeated updates, ordering, and every kind of bad input."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.app import create_app
from handlers.events import Event
from storage.models import ProcessedEvent
from tests.chat import Chat
from tests.conftest import load_user, make_settings


async def test_restart_in_the_middle_of_onboarding_resumes_where_the_user_was(db_path):
    app = await create_app(make_settings(db_path))
    me = Chat(app.dispatcher, "tg:201", "en")
    await me.say("/start")
    cont = me.button("Continue").data  # the button on the phone's screen
    await app.close()  # the process is killed

    app = await create_app(make_settings(db_path))  # and started again
    me = Chat(app.dispatcher, "tg:201", "en")
    await me.press(cont)  # the person taps the button still on their screen
    assert "Main menu: training and work" in me.text
    user = await load_user(app, "tg:201")
    assert user.state == "SEEKER_MENU" and user.role == "seeker"
    await me.say("change what im here for")  # a label, typed
    assert "What would you like to do?" in me.text
    await me.say("1")  # the number of a button works too
    assert "Main menu: training and work" in me.text
    await me.say("/start")
    await me.say("change what im here for")
    assert "What would you like to do?" in me.text
    await me.say("我想参加培训或找工作")  # a label of another language is no button
    assert "tap one of the buttons" in me.text
    await me.say("I need a helper at home")
    assert "Main menu: help at home" in me.text
    await app.close()


async def test_a_repeated_update_is_answered_the_same_and_handled_once(app, chat):
    me = chat("wx:oDUP", "en")
    await me.say("/start")
    await me.tap("Continue")
    first = me.last
    again = await me.repeat()
    assert again.repeat and not first.repeat
    assert [r.text for r in again.replies] == [r.text for r in first.replies]
    assert [b.data for r in again.replies for b in r.flat_buttons()] == [
        b.data for r in first.replies for b in r.flat_buttons()
    ]
    user = await load_user(app, "wx:oDUP")
    assert user.state == "SEEKER_MENU"
    async with app.db.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(ProcessedEvent)) == 2


async def test_replies_are_stored_only_for_a_platform_that_replays_them(app, chat):
    """Telegram never shows a repeat's replies again: nothing is stored for it, and a
    repeat is still handled once; WeChat's passive reply needs them (above)."""
    me = chat("tg:203", "en")
    await me.say("/start")
    await me.tap("Continue")
    again = await me.repeat()
    assert again.repeat and again.replies == []
    assert (await load_user(app, "tg:203")).state == "SEEKER_MENU"
    async with app.db.sessions() as s:
        stored = (await s.scalars(select(ProcessedEvent.replies))).all()
    assert stored == [None, None]


async def test_repeats_inside_one_batch_are_handled_once(app):
    for user, replayed in (("tg:202", False), ("wx:o202", True)):
        ev = Event(user, text="/start", update_id="777", lang_hint="en", replayed=replayed)
        results = await asyncio.gather(*(app.dispatcher.handle(ev) for _ in range(5)))
        assert sum(not r.repeat for r in results) == 1
        first = next(r for r in results if not r.repeat)
        for r in results:
            assert [x.text for x in r.replies] == (
                [x.text for x in first.replies] if replayed or r is first else []
            )


async def test_one_users_events_run_in_order_while_many_users_run_together(app):
    async def person(n: int) -> list[str]:
        user = f"tg:3{n:03d}"
        # greet, continue, "Change what I'm here for" (5th on a menu without courses),
        # "training or work"
        steps = ["/start", "1", "5", "1"]
        handled = await asyncio.gather(
            *(
                app.dispatcher.handle(Event(user, text=s, update_id=f"{n}-{i}", lang_hint="en"))
                for i, s in enumerate(steps)
            )
        )
        return [h.replies[-1].text for h in handled]

    transcripts = await asyncio.gather(*(person(n) for n in range(60)))
    for texts in transcripts:
        assert "Hello! I am Haoxin" in texts[0]
        assert "Main menu: training and work" in texts[1]
        assert "What would you like to do?" in texts[2]
        assert "Main menu: training and work" in texts[3]
    for n in range(60):
        assert (await load_user(app, f"tg:3{n:03d}")).state == "SEEKER_MENU"


BAD_INPUTS = {
    "empty": "",
    "blank": "   \n\t ",
    "huge": "好" * 10_000,
    "emoji": "🙂👍🏽👩‍👩‍👧",
    "control": "\x00\x07\x1b[31mred\x1b[0m\u202e",
    "garbage command": "/start@@@###",
    "unknown command": "/frobnicate now please",
    "command with junk": "/help \x00\x00 zzz",
    "big number": "99999999999999999999",
    "sql": "'; DROP TABLE users; --",
}


@pytest.mark.parametrize("kind", BAD_INPUTS)
async def test_bad_text_gets_a_clear_answer_and_keeps_the_state(app, chat, kind):
    me = chat("tg:204", "en")
    await me.onboard()
    me_user = await load_user(app, "tg:204")
    await me.say(BAD_INPUTS[kind])
    assert me.replies, "no answer"
    assert "went wrong" not in me.text
    assert all(len(r.text) <= 4096 for r in me.replies)
    after = await load_user(app, "tg:204")
    if kind != "garbage command":  # /start@@@ is /start: back to the (same) menu
        assert any(
            phrase in me.text
            for phrase in (
                "empty message",
                "too long",
                "tap one of the buttons",
                "don't know the command",
                "How to use Haoxin",
                "ready answer",  # odd text read as a question: a person is offered
            )
        ) or me.text.startswith("❓"), me.text  # ...or the question it reads most like
    assert after.state == me_user.state == "SEEKER_MENU"
    assert after.role == "seeker"


async def test_bad_text_in_the_chinese_interface_is_answered_in_chinese(app, chat):
    me = chat("tg:205", "zh-CN")
    await me.say("/start")
    await me.say("随便说点什么")  # typed on the greeting: searched, found nothing
    assert "没有找到" in me.text and "主菜单" in me.text  # in Chinese, and her menu


async def test_a_button_from_an_earlier_message_is_refused_politely(app, chat):
    me = chat("tg:206", "en")
    await me.say("/start")
    old_continue = me.button("Continue").data
    await me.tap("Continue")
    await me.press(old_continue)
    assert "belongs to an earlier message" in me.text
    assert "Main menu: training and work" in me.text  # and her screen again
    assert "📚 Find a free course" in me.labels
    assert (await load_user(app, "tg:206")).state == "SEEKER_MENU"


@pytest.mark.parametrize(
    "data", ["", "|", "zz", "00|", "00|nope", "x" * 64, "\x00|continue", "好|好", "99|lang:xx"]
)
async def test_button_data_that_was_never_issued(app, chat, data):
    me = chat("tg:207", "en")
    await me.say("/start")
    await me.press(data)
    assert "don't recognise that button" in me.text or "earlier message" in me.text
    assert "Continue ▶" in me.labels
    assert (await load_user(app, "tg:207")).state == "GREETING"


async def test_forged_arguments_on_a_real_button_are_refused(app, chat):
    me = chat("tg:208", "en")
    await me.say("/start")
    nonce = me.button("English").data.split("|")[0]
    await me.press(f"{nonce}|lang:klingon")
    assert "don't recognise that button" in me.text
    assert (await load_user(app, "tg:208")).lang == "en"


async def test_contact_or_location_where_none_is_asked(app, chat):
    me = chat("tg:209", "en")
    await me.onboard()
    await me.share_contact("+8613800138000")
    assert "don't need a phone number" in me.text
    await me.share_location(21.66, 110.92)
    assert "don't need a location" in me.text
    assert (await load_user(app, "tg:209")).state == "SEEKER_MENU"


async def test_a_handler_crash_is_contained_and_the_state_kept(app, chat, monkeypatch, caplog):
    from handlers import onboarding

    me = chat("tg:210", "en")
    await me.say("/start")

    async def broken(ctx, arg):
        ctx.user.role = "seeker"  # a half-done change that must not be saved
        ctx.user.state = "SEEKER_MENU"
        raise RuntimeError("phone 13800138000")  # errors may quote personal data

    greeting = app.dispatcher.flows.states["GREETING"].buttons
    monkeypatch.setitem(greeting, "continue", broken)
    await me.tap("Continue")
    assert "Sorry, something went wrong" in me.text
    user = await load_user(app, "tg:210")
    assert user.state == "GREETING" and user.role is None
    assert "RuntimeError" in caplog.text and "13800138000" not in caplog.text
    monkeypatch.setitem(greeting, "continue", onboarding.carry_on)
    other = chat("tg:211", "en")
    await other.say("/start")  # the dispatcher still works for everyone
    assert "Hello! I am Haoxin" in other.text
