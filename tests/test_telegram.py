"""Telegram end to end: both frameworks against a fake Bot API server over real HTTP."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import select

from bot.notifier import Delivery
from bot.telegram import Telegram, api_calls
from handlers.replies import Button, Pin, Reply
from storage.models import Outbox
from storage.repositories import Repos
from tests.conftest import load_user
from tests.fake_telegram import post_webhook
from tests.telegram_player import SECRET, TelegramPlayer, running_bot

FRAMEWORKS = ["aiogram", "ptb"]


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_onboarding_by_polling(db_path, framework):
    async with running_bot(db_path, framework) as (fake, app, _):
        commands = [p for m, p in fake.calls if m == "setMyCommands"]
        assert {p.get("language_code") for p in commands} == {"zh", "en", None}
        zh = next(p for p in commands if p.get("language_code") == "zh")
        assert {"command": "delete_me", "description": "删除你的资料"} in zh["commands"]

        mei = TelegramPlayer(fake, 501, "zh-hans")
        await mei.say("/start")
        assert "你好！我是好心家政" in mei.text and "English" in mei.labels
        await mei.tap("继续")
        answered = [p for m, p in fake.calls if m == "answerCallbackQuery"]
        assert answered, "a button press is answered so the phone stops spinning"
        assert "主菜单：培训和工作" in mei.text and "你的隐私" not in mei.text
        user = await load_user(app, "tg:501")
        assert user.state == "SEEKER_MENU" and user.lang == "zh" and user.consented_at is None
        await mei.say("/privacy")  # she may agree before any form asks her to
        assert "你的隐私" in mei.text
        await mei.tap("我同意")
        assert "主菜单：培训和工作" in mei.text
        user = await load_user(app, "tg:501")
        assert user.state == "SEEKER_MENU" and user.consented_at is not None


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_deep_link_contact_location_and_media(db_path, framework):
    from tests.catalogue import course, load

    async with running_bot(db_path, framework) as (fake, app, _):
        ids = await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
        me = TelegramPlayer(fake, 502)
        await me.say(f"/start course_{ids['ys1']}")  # first contact: straight to the card
        assert "好心月嫂初级班" in me.text
        assert (await load_user(app, "tg:502")).state == "COURSE_CARD"
        before = len(fake.sent_to(502))
        await fake.share_contact(502, "+85291234567", owner=999)
        replies = await fake.settle(502, before)
        assert "your own phone number" in replies[0][1]["text"]
        before = len(fake.sent_to(502))
        await fake.share_location(502, 21.66, 110.92)
        assert "don't need a location" in (await fake.settle(502, before))[0][1]["text"]
        before = len(fake.sent_to(502))
        await fake.push(
            fake.message(
                502, "en", photo=[{"file_id": "x", "file_unique_id": "y", "width": 1, "height": 1}]
            )
        )
        assert "don't need a photo" in (await fake.settle(502, before))[0][1]["text"]
        assert (await load_user(app, "tg:502")).state == "COURSE_CARD"


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_flood_control_is_waited_out_and_blocking_is_recorded(db_path, framework):
    async with running_bot(db_path, framework) as (fake, app, _):
        me = TelegramPlayer(fake, 503)
        fake.flood_next("sendMessage", retry_after=1)
        t0 = time.monotonic()
        await me.say("/start")
        assert "Hello! I am Haoxin" in me.text  # delivered after waiting
        assert time.monotonic() - t0 >= 0.9
        assert [m for m, _ in fake.calls if m.endswith("sendMessage")][:2] == [
            "!sendMessage",
            "sendMessage",
        ]

        await fake.block(503)  # a my_chat_member update: the person blocked the bot
        await eventually(app, "tg:503", reachable=False)
        await me.say("/start")  # back again
        assert (await load_user(app, "tg:503")).reachable

        fake.blocked_next("sendMessage")  # 403 Forbidden when sending
        await fake.say(503, "/help")
        await eventually(app, "tg:503", reachable=False)


async def eventually(app, key: str, **expected) -> None:
    for _ in range(100):
        user = await load_user(app, key)
        if all(getattr(user, k) == v for k, v in expected.items()):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{key} never had {expected}")


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_messages_sent_later_go_through_the_outbox(db_path, framework):
    async with running_bot(db_path, framework) as (fake, app, _):
        me = TelegramPlayer(fake, 504)
        await me.say("/start")
        async with app.db.sessions() as s, s.begin():
            Repos(s).outbox.add(
                "tg:504", [Reply("Reminder: your course starts tomorrow").to_dict()]
            )
            Repos(s).outbox.add("tg:505", [Reply("Nobody home").to_dict()])
        fake.blocked_next("sendMessage")  # the first one out finds the person gone
        await fake.wait_for(
            lambda: (
                any("Reminder" in p.get("text", "") for _m, p in fake.sent_to(504))
                or any(p.get("text") == "Nobody home" for _m, p in fake.sent_to(505))
            ),
            within=20,
        )
        for _ in range(100):
            async with app.db.sessions() as s:
                rows = list(await s.scalars(select(Outbox).order_by(Outbox.id)))
            if all(r.status in ("sent", "unreachable") for r in rows):
                break
            await asyncio.sleep(0.05)
        assert sorted(r.status for r in rows) == ["sent", "unreachable"]
        assert all(r.attempts == 1 for r in rows)


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_webhook_needs_the_secret(db_path, framework):
    async with running_bot(db_path, framework, webhook=True) as (fake, app, hook):
        (params,) = [p for m, p in fake.calls if m == "setWebhook"]
        assert params["url"] == hook and params["secret_token"] == SECRET
        update = {"update_id": 1, **fake.message(506, "en", text="/start")}
        assert await post_webhook(hook, update, None) == 403
        assert await post_webhook(hook, update, "wrong-secret") == 403
        assert await load_user(app, "tg:506") is None  # never reached the core
        assert await post_webhook(hook, update, SECRET) == 200
        replies = await fake.settle(506, 0)
        assert "Hello! I am Haoxin" in replies[0][1]["text"]
        assert await post_webhook(hook, update, SECRET) == 200  # Telegram retries
        await asyncio.sleep(0.05)
        assert len(fake.sent_to(506)) == len(replies)  # handled once


async def test_a_page_that_cannot_be_edited_is_sent_anew(app):
    """Telegram refuses to edit old messages: the page arrives as a new message instead."""
    sent = []

    async def bot_api(method, params):  # stands in for the framework's HTTP call
        sent.append(method)
        if method == "editMessageText":
            raise RuntimeError("Bad Request: message can't be edited")

    telegram = Telegram(app.dispatcher, app.db, bot_api)
    result = await telegram.send("tg:507", [Reply("Page 2", replace=True)], "507:1")
    assert result is Delivery.SENT and sent == ["editMessageText", "sendMessage"]

    sent.clear()

    async def not_modified(method, params):
        sent.append(method)
        raise RuntimeError("Bad Request: message is not modified")

    telegram = Telegram(app.dispatcher, app.db, not_modified)
    assert await telegram.send("tg:507", [Reply("Page 2", replace=True)], "507:1") is Delivery.SENT
    assert sent == ["editMessageText"]  # the same page again: nothing to send


def test_replies_become_bot_api_calls():
    pin = Reply("Here", pin=Pin(21.66, 110.92, "茂名培训基地", "油城五路"))
    ask = Reply("Your phone?", [[Button("◀ Back", "a1|back")]], request_contact="📱 Share")
    page = Reply("Page 2", [[Button("Next", "a1|next")]], replace=True)
    calls = api_calls(7, [pin, ask, page], message_ref="7:99")
    assert [m for m, _ in calls] == ["sendVenue", "sendMessage", "sendMessage", "editMessageText"]
    assert calls[0][1]["title"] == "茂名培训基地"
    keyboard = calls[2][1]["reply_markup"]
    assert keyboard["keyboard"][0][0] == {"text": "📱 Share", "request_contact": True}
    assert keyboard["keyboard"][1] == [{"text": "◀ Back"}] and keyboard["one_time_keyboard"]
    assert calls[3][1]["message_id"] == 99
    assert calls[3][1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a1|next"


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_the_phone_is_shared_with_the_contact_button(db_path, framework):
    from tests.catalogue import course, load

    async with running_bot(db_path, framework) as (fake, app, _):
        await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
        me = TelegramPlayer(fake, 508)
        await me.say("/start course_1")
        for label in ("Sign up", "I agree"):  # the card, then the privacy question
            await me.tap(label)
        await me.say("李秀梅")
        markup = me.messages[-1][1]["reply_markup"]
        assert markup["keyboard"][0][0] == {
            "text": "📱 Share my phone number",
            "request_contact": True,
        }
        assert {"text": "◀ Back"} in markup["keyboard"][1]  # typing a label works too
        before = len(fake.sent_to(508))
        await fake.share_contact(508, "+86 139 0013 9000")
        me.messages = await fake.settle(508, before)
        assert "which county" in me.text
        form = (await load_user(app, "tg:508")).form["signup"]
        assert form["phone"] == "+8613900139000"


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_stopping_the_bot_stops_polling(db_path, framework):
    """Cancelling the transport leaves nothing fetching updates behind (aiogram's own
    polling task outlived a cancelled `start_polling`, logging a failure every second)."""
    before = set(asyncio.all_tasks())
    async with running_bot(db_path, framework) as (fake, _app, _hook):
        await TelegramPlayer(fake, 1, "en").say("/start")
    await asyncio.sleep(0.2)
    left = [t for t in asyncio.all_tasks() - before if not t.done()]
    assert left == [], [t.get_coro() for t in left]
