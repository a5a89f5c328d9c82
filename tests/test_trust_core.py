"""Trust in the core: only issued buttons are accepted, handled-update records belong to
one person and are pruned by the clock, and an erasure leaves no byte of her behind."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import time

from sqlalchemy import func, select

from bot.dispatcher import REPLIES_KEPT
from handlers.context import NONCE_SPACE, nonce_code
from handlers.events import Event
from storage.models import ProcessedEvent, Signup, User, utcnow
from tests.catalogue import course, load
from tests.conftest import load_user
from tests.test_courses import fill_form


async def test_only_the_exact_buttons_issued_on_her_screen_are_accepted(app, chat):
    ids = await load(
        app,
        [
            course("ys1", "好心月嫂初级班", "月嫂/母婴护理"),
            course("ys2", "月嫂高级班", "月嫂/母婴护理"),
        ],
    )
    me = chat("tg:701", "en")
    await me.onboard()  # she has agreed: "Sign up" goes straight to her name
    await me.say(f"/start course_{ids['ys1']}")
    # with the nonce of the screen she is on: an action of this screen with an argument
    # never shown, a staff action, an action of another screen, and malformed data
    forged = [
        lambda data, nonce: data.replace(f":{ids['ys1']}", f":{ids['ys2']}"),
        lambda data, nonce: f"{nonce}|qr:{ids['ys1']}",
        lambda data, nonce: f"{nonce}|home:",
        lambda data, nonce: f"{nonce}|",
        lambda data, nonce: "no-separator",
        lambda data, nonce: "",
    ]
    for forge in forged:
        sign_up = me.button("Sign up").data
        data = forge(sign_up, sign_up.split("|")[0])
        await me.press(data)
        assert "recognise that button" in me.text, data
    user = await load_user(app, "tg:701")
    assert user.state == "COURSE_CARD" and user.refused_presses == len(forged)
    assert not user.form.get("signup")
    await me.tap("Sign up")  # the real button, on the screen shown again, still works
    assert "what is your name?" in me.text


async def test_a_blind_guesser_finds_nothing_and_is_counted(app, chat):
    me = chat("tg:702", "en")
    await me.onboard()
    real = me.button("My sign-ups").data
    action = real.split("|", 1)[1]
    tries = 500
    for n in range(tries):
        guess = f"{nonce_code((n * 7919) % NONCE_SPACE)}|{action}"
        if guess == real:
            continue
        await me.press(guess)
        assert "Your sign-ups" not in me.text and "not signed up" not in me.text
    user = await load_user(app, "tg:702")
    assert user.refused_presses >= tries - 1 and user.state == "SEEKER_MENU"


async def test_a_button_issued_to_one_person_does_nothing_for_another(app, chat):
    mei, lan = chat("tg:703", "en"), chat("tg:704", "en")
    await mei.onboard()
    await lan.onboard()
    await lan.press(mei.button("My sign-ups").data)
    assert "earlier message" in lan.text or "recognise" in lan.text
    assert (await load_user(app, "tg:704")).refused_presses == 1


async def test_nonces_are_random_not_counting_up(app, chat):
    me = chat("tg:705", "en")
    await me.onboard()
    seen = []
    for _ in range(6):
        await me.tap("Language")
        seen.append(me.button("English").data.split("|")[0])
        await me.tap("English")
    steps = {int(b, 36) - int(a, 36) for a, b in itertools.pairwise(seen)}
    assert len(set(seen)) == len(seen) and steps != {1} and steps != {2}
    assert all(len(n) == 5 for n in seen)


async def test_stored_replies_expire_and_records_are_pruned_by_the_clock(app, monkeypatch):
    monkeypatch.setattr(time, "monotonic", lambda: 42.0)  # a host booted a minute ago
    async with app.db.sessions() as s, s.begin():
        s.add_all(
            [
                ProcessedEvent(
                    platform="wx",
                    user_key="wx:oOLD",
                    update_id="1",
                    replies=[{"text": "李秀梅 +8613800138000"}],
                    handled_at=utcnow() - dt.timedelta(days=2),
                ),
                ProcessedEvent(
                    platform="wx",
                    user_key="wx:oRECENT",
                    update_id="2",
                    replies=[{"text": "你的电话 +8613800138000"}],
                    handled_at=utcnow() - REPLIES_KEPT - dt.timedelta(seconds=5),
                ),
            ]
        )
    # a WeChat retry after the replies' time is answered with nothing, not handled again
    again = await app.dispatcher.handle(Event("wx:oRECENT", text="/start", update_id="2"))
    assert again.repeat and again.replies == []
    async with app.db.sessions() as s:
        rows = {r.user_key: r for r in await s.scalars(select(ProcessedEvent))}
    assert "wx:oOLD" not in rows  # pruned on the first batch, whatever the uptime
    assert rows["wx:oRECENT"].replies is None  # kept as a record, replies cleared


async def test_the_same_update_id_from_two_people_is_two_updates(app):
    a = await app.dispatcher.handle(Event("wx:oA", text="/help", update_id="1", lang_hint="en"))
    b = await app.dispatcher.handle(Event("wx:oB", text="/start", update_id="1", lang_hint="en"))
    assert not a.repeat and not b.repeat
    assert "How to use Haoxin" in a.replies[0].text
    assert "Hello! I am Haoxin" in b.replies[0].text
    async with app.db.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(ProcessedEvent)) == 2


async def test_erasure_leaves_no_byte_of_her_in_the_database_files(app, chat, db_path):
    ids = await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
    me = chat("tg:706", "en")
    await me.say(f"/start course_{ids['ys1']}")  # a poster's link: the card
    await me.tap("Sign up")
    await me.tap("I agree")
    await fill_form(me)
    await me.tap("Confirm sign-up")
    async with app.db.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Signup)) == 1
    secrets = ["李秀梅".encode(), b"13800138000"]
    files = [db_path, db_path.with_name(db_path.name + "-wal")]
    assert any(s in p.read_bytes() for p in files if p.exists() for s in secrets)

    await me.say("/delete_me")
    await me.tap("Yes, delete everything")
    assert "deleted" in me.text
    async with app.db.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 0
        assert await s.scalar(select(func.count()).select_from(Signup)) == 0
    await asyncio.wait_for(app.db.wal_truncated(), 30)
    wal = db_path.with_name(db_path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # checkpointed and truncated
    for path in db_path.parent.glob(db_path.name + "*"):
        raw = path.read_bytes()
        for secret in secrets:
            assert secret not in raw, (path.name, secret)


async def test_stored_replies_are_cleared_while_the_bot_is_idle(app, monkeypatch):
    import bot.dispatcher

    monkeypatch.setattr(bot.dispatcher, "PRUNE_EVERY", 0.05)
    await app.dispatcher.handle(Event("tg:708", text="/start", update_id="1", lang_hint="en"))
    async with app.db.sessions() as s, s.begin():
        s.add(
            ProcessedEvent(
                platform="wx",
                user_key="wx:oIDLE",
                update_id="9",
                replies=[{"text": "李秀梅 +8613800138000"}],
                handled_at=utcnow() - REPLIES_KEPT - dt.timedelta(seconds=1),
            )
        )
    for _ in range(100):  # no event arrives meanwhile
        async with app.db.sessions() as s:
            row = await s.scalar(select(ProcessedEvent).where(ProcessedEvent.update_id == "9"))
        if row.replies is None:
            break
        await asyncio.sleep(0.05)
    assert row.replies is None


async def test_only_a_deep_link_is_kept_before_she_agrees(app, chat):
    ids = await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
    me = chat("tg:709", "en")
    await me.say("/start Ouyang_Cuihua_44090219900101123X")  # personal: not a deep link
    assert "Hello! I am Haoxin" in me.text  # the greeting, and nothing of it kept
    user = await load_user(app, "tg:709")
    assert user.start_payload is None and "44090219900101123X" not in str(user.form)
    await me.say(f"/start course_{ids['ys1']}")  # a deep link: what it points to opens
    assert "好心月嫂初级班" in me.text
    user = await load_user(app, "tg:709")
    assert user.form == {"course": ids["ys1"]} and user.start_payload is None
    assert user.consented_at is None
