"""Telegram: only a person's own private messages speak for her; webhook updates are
checked before any framework sees them; courtesy calls never hold up a reply; texts
over 4,096 UTF-16 code units are split, never cut. Both frameworks, real HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

import pytest

from bot.limits import TELEGRAM_TEXT, utf16_units
from bot.telegram import api_calls
from handlers.replies import Button, Reply
from tests.conftest import load_user
from tests.fake_telegram import BOT, post_webhook
from tests.telegram_player import SECRET, TelegramPlayer, running_bot

FRAMEWORKS = ["aiogram", "ptb"]


def service(fake, user_id: int, **content) -> dict:
    message = fake.message(user_id, "en", **content)
    return message


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_service_messages_are_not_input(db_path, framework):
    async with running_bot(db_path, framework) as (fake, _app, _):
        me = TelegramPlayer(fake, 601)
        await me.say("/start")
        before = len(fake.sent_to(601))
        for content in (
            {"message_auto_delete_timer_changed": {"message_auto_delete_time": 86400}},
            {
                "pinned_message": {
                    "message_id": 5,
                    "date": 0,
                    "chat": {"id": 601, "type": "private"},
                }
            },
            {"write_access_allowed": {"from_request": True}},
        ):
            await fake.push(service(fake, 601, **content))
        await fake.say(601, "/help")
        replies = await fake.settle(601, before)
        assert "How to use Haoxin" in replies[0][1]["text"]  # the first answer is to /help
        assert not any("only read text" in p.get("text", "") for _m, p in replies)


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_contact_card_without_her_user_id_is_not_her_phone(db_path, framework):
    from tests.catalogue import course, load

    async with running_bot(db_path, framework) as (fake, app, _):
        await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
        me = TelegramPlayer(fake, 602)
        await me.say("/start course_1")
        for label in ("Sign up", "I agree"):  # the card, then the privacy question
            await me.tap(label)
        await me.say("李秀梅")
        for card in (
            {"phone_number": "+8613900139000", "first_name": "Typed"},  # typed in by hand
            {"phone_number": "+8613700137000", "first_name": "Her", "user_id": 777},  # another's
        ):
            before = len(fake.sent_to(602))
            await fake.push(fake.message(602, "en", contact=card))
            answer = (await fake.settle(602, before))[0][1]["text"]
            assert "not your own" in answer and "type your own phone number" in answer
        form = (await load_user(app, "tg:602")).form["signup"]
        assert "phone" not in form and form["name"] == "李秀梅"


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_updates_from_outside_her_private_chat_change_nothing(db_path, framework):
    async with running_bot(db_path, framework) as (fake, app, _):
        me = TelegramPlayer(fake, 603)
        await me.say("/start")
        group = {"id": -100500, "type": "group", "title": "家政群"}
        # she writes in a group the bot is in, presses a button under a group message,
        # and someone removes the bot from the group
        msg = fake.message(603, "en", text="/delete_me")
        msg["message"]["chat"] = group
        await fake.push(msg)
        await fake.push(
            {
                "callback_query": {
                    "id": "gq1",
                    "from": fake.person(603),
                    "chat_instance": "g",
                    "data": me.button("Continue")[0],
                    "message": {"message_id": 1, "date": int(time.time()), "chat": group},
                }
            }
        )
        await fake.push(
            {
                "my_chat_member": {
                    "chat": group,
                    "from": fake.person(603),
                    "date": int(time.time()),
                    "old_chat_member": {"status": "member", "user": BOT},
                    "new_chat_member": {"status": "left", "user": BOT},
                }
            }
        )
        # a message in her chat that another bot sent on her behalf is not hers either
        bot_msg = fake.message(603, "en", text="/delete_me")
        bot_msg["message"]["from"] = {"id": 603, "is_bot": True, "first_name": "x"}
        await fake.push(bot_msg)
        before = len(fake.sent_to(603))
        await me.say("/help")  # her own message, after all of them
        assert "How to use Haoxin" in fake.sent_to(603)[before][1]["text"]
        user = await load_user(app, "tg:603")
        assert user.state == "GREETING" and user.reachable
        assert not any(int(p["chat_id"]) == -100500 for _m, p in fake.calls if "chat_id" in p)


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_flood_control_on_answering_a_button_never_delays_the_reply(db_path, framework):
    async with running_bot(db_path, framework) as (fake, _app, _):
        me = TelegramPlayer(fake, 604)
        await me.say("/start")
        fake.flood_next("answerCallbackQuery", retry_after=60)  # public reports: hundreds
        await me.tap("Continue")  # settle() waits 15 s at most: a 60 s wait would fail it
        assert "Main menu: training and work" in me.text
        methods = [m for m, _ in fake.calls]
        assert "!answerCallbackQuery" in methods
        assert methods.count("answerCallbackQuery") == 0  # a courtesy call is not retried
        await me.tap("Find a free course")  # and the next press is answered normally
        assert "answerCallbackQuery" in [m for m, _ in fake.calls]


BAD_UPDATE_IDS = ["abc", {"x": 1}, 10**80, True, -5, 1.5, None]


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_malformed_webhook_updates_are_refused_unread(db_path, framework, caplog):
    async with running_bot(db_path, framework, webhook=True) as (fake, app, hook):
        caplog.set_level(logging.DEBUG)
        secret_words = "李秀梅的私事"
        for bad in BAD_UPDATE_IDS:
            update = {"update_id": bad, **fake.message(605, "en", text=secret_words)}
            assert await post_webhook(hook, update, SECRET) == 400, bad
        broken = [
            {"update_id": 7, "message": {"text": secret_words}},  # no chat, no date
            {"update_id": 8, "message": "hello"},
            {"update_id": 9, "callback_query": {"id": "q", "data": secret_words}},
            {"update_id": 10, **fake.message(605, "en", text=123)},
            [1, 2, 3],
        ]
        for update in broken:
            assert await post_webhook(hook, update, SECRET) == 400
        if framework == "aiogram":  # passes our check, fails the framework's own parser
            photo = {"update_id": 11, **fake.message(605, "en", text=secret_words, photo="x")}
            assert await post_webhook(hook, photo, SECRET) == 400
        assert await load_user(app, "tg:605") is None
        for kind in ("foo", "edited_message", "channel_post"):  # kinds not asked for
            odd = {"update_id": 20, kind: {"text": secret_words, "x": {"y": secret_words}}}
            assert await post_webhook(hook, odd, SECRET) == 200  # dropped unread
        good = {"update_id": 12, **fake.message(605, "en", text="/start")}
        assert await post_webhook(hook, good, SECRET) == 200
        await fake.settle(605, 0)
        assert not any(secret_words in r.getMessage() for r in caplog.records)
        assert not any(secret_words in (r.exc_text or "") for r in caplog.records)


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_card_over_4096_utf16_units_arrives_whole_in_several_messages(db_path, framework):
    """A job fair with 45 employers, names in Chinese, English and emoji (each emoji is
    two UTF-16 code units): every message fits, the buttons come last, nothing is cut."""
    from tests.catalogue import load
    from tests.test_fairs import fair

    firms = [
        (
            f"好心家政第{n}分公司 Maoming Good Heart Domestic Services Ltd, Home Care {n} 👩‍🍼🍼",
            "月嫂",
            "深圳",
            9000,
            15000,
            True,
        )
        for n in range(1, 46)
    ]
    async with running_bot(db_path, framework) as (fake, app, _):
        await load(app, [], [fair("big", "大湾区家政招聘大会", 5, "茂南", firms)])
        me = TelegramPlayer(fake, 606)
        await me.say("/start fair_1")  # first contact: a hello, then the card
        texts = [p["text"] for m, p in me.messages if m in ("sendMessage", "editMessageText")]
        assert len(texts) >= 2 and all(utf16_units(t) <= TELEGRAM_TEXT for t in texts)
        whole = "\n".join(texts)
        for n in range(1, 46):
            assert f"Home Care {n} 👩‍🍼🍼" in whole
        marked = [p for _m, p in me.messages if p.get("reply_markup")]
        assert len(marked) == 1 and marked[0] is me.messages[-1][1]


def test_splitting_counts_in_each_platforms_unit():
    text = "\n".join(["😀" * 1000, "好" * 3000, "word " * 900])
    calls = api_calls(1, [Reply(text, [[Button("Next", "abcde|next")]])])
    sent = [p["text"] for _m, p in calls]
    # 2,000 units of emoji, 3,000 of Chinese, 4,500 of English: the last line is broken
    # at a space
    assert all(utf16_units(t) <= TELEGRAM_TEXT for t in sent) and len(sent) == 4
    assert "".join(sent).replace("\n", "") == text.replace("\n", "")
    assert "reply_markup" in calls[-1][1] and "reply_markup" not in calls[0][1]
    # a page that replaces the pressed message edits it with the first piece
    paged = api_calls(1, [Reply(text, replace=True)], message_ref="1:99")
    assert paged[0][0] == "editMessageText" and [m for m, _ in paged[1:]] == ["sendMessage"] * 3


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_staff_links_use_the_bots_own_username(db_path, framework):
    """Without HAOXIN_TELEGRAM_BOT the poster link still opens the bot: its username
    comes from getMe."""
    from tests.catalogue import course, load

    async with running_bot(db_path, framework) as (fake, app, _):
        await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
        staff = TelegramPlayer(fake, 900)  # tg:900 is an admin in the test settings
        await staff.say("/start course_1")  # staff: the card at once
        await staff.tap("Link and QR code")
        assert "https://t.me/haoxin_test_bot?start=course_1" in staff.text


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_long_flood_wait_sends_the_reply_later_and_frees_her_turn(db_path, framework):
    """A 429 asking for a minute is not waited out while she waits: the reply goes to
    the outbox, due when Telegram allows, and her next message is answered at once."""
    from sqlalchemy import select

    from storage.models import Outbox, utcnow

    async with running_bot(db_path, framework) as (fake, app, _):
        me = TelegramPlayer(fake, 607)
        fake.flood_next("sendMessage", retry_after=60)
        await fake.say(607, "/start")
        for _ in range(200):  # the refused call is recorded without a notification
            if any(m == "!sendMessage" for m, _ in fake.calls):
                break
            await asyncio.sleep(0.05)
        await me.say("/help")  # settle() waits 15 s at most: a 60 s wait would fail it
        assert "How to use Haoxin" in me.text
        async with app.db.sessions() as s:
            (later,) = list(await s.scalars(select(Outbox).where(Outbox.user_key == "tg:607")))
        assert "Hello! I am Haoxin" in later.replies[0]["text"]
        assert later.status == "pending" and later.due_at > utcnow() + dt.timedelta(seconds=40)


def test_a_long_line_is_broken_between_grapheme_clusters_only():
    import regex

    from bot.limits import WECHAT_TEXT, split_text, utf8_bytes

    line = "🇨🇳🇭🇰" * 300 + "1️⃣#️⃣" * 200 + "👩🏽‍⚕️" * 150 + "한국어" * 300 + "é" * 500
    for limit, measure in ((TELEGRAM_TEXT, utf16_units), (WECHAT_TEXT, utf8_bytes)):
        pieces = split_text(line, limit, measure)
        assert len(pieces) > 1 and all(measure(p) <= limit for p in pieces)
        clusters = [c for p in pieces for c in regex.findall(r"\X", p)]
        assert clusters == regex.findall(r"\X", line)  # no cluster split across pieces
