"""Interviews, played as people would: a household asks 李秀梅 (a verified demo 月嫂)
from its shortlist; she accepts, proposes another time or declines; phone numbers and
the address reach the other side only once both have agreed (every message before
that is scanned); every refusal and race gets a clear answer and does nothing twice."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select, update

from bot.app import App, seed_demo
from storage.models import Interview, Outbox, User, WorkerProfile
from tests.chat import Chat
from tests.test_household_request import household

WORKER = "demo:worker-1"  # 李秀梅, phone 19906680001
WORKER_PHONE = "19906680001"
FAMILY_PHONE = "13800138000"
ADDRESS = "天河区体育西路123号5楼"
PHONE_RE = re.compile(r"1[3-9]\d{9}")


async def shortlist(app: App, user: str = "tg:501", hint: str = "en") -> Chat:
    """A family in Guangzhou with a 月嫂 request, on its shortlist."""
    await seed_demo(app.db)
    me = await household(app, user, hint)
    await me.tap("Find a helper")
    await me.tap("Maternity nurse")
    await me.tap("Live-in")
    await me.tap("Guangzhou")
    await me.tap("No, go on without them")
    await me.tap("In two weeks")
    await me.tap("26 days")
    await me.tap("CN¥10,000–15,000 a month")
    await me.tap("Any language")
    await me.tap("Any age")
    await me.tap("Any experience")
    await me.tap("Done")
    await me.tap("No note")
    await me.tap("Find helpers")
    assert "李秀梅" in me.text
    return me


async def ask(me: Chat, *, first: bool = True) -> None:
    """From the shortlist: 李秀梅, the first day offered, 15:00, at home."""
    await me.tap("Ask 李秀梅 for an interview")
    assert "When would you like to meet 李秀梅" in me.text
    await me.press(me.replies[-1].buttons[0][0].data)  # tomorrow
    assert "What time" in me.text
    await me.tap("15:00")
    await me.tap("At my home")
    if first:
        assert "Your address" in me.text
        await me.say(ADDRESS)
        assert "Your phone number" in me.text
        await me.say(FAMILY_PHONE)
    assert "Ask 李秀梅 for an interview:" in me.text
    assert ADDRESS not in me.text.split("without your address")[1]


async def interviews(app: App) -> list[Interview]:
    async with app.db.sessions() as session:
        return list(await session.scalars(select(Interview).order_by(Interview.id)))


async def outbox_of(app: App, key: str) -> list[str]:
    async with app.db.sessions() as session:
        rows = await session.scalars(
            select(Outbox).where(Outbox.user_key == key).order_by(Outbox.id)
        )
        return ["\n".join(r["text"] for r in row.replies) for row in rows]


async def notice_button(app: App, key: str) -> str:
    """The data of the button on her latest notice."""
    async with app.db.sessions() as session:
        row = await session.scalar(
            select(Outbox).where(Outbox.user_key == key).order_by(Outbox.id.desc()).limit(1)
        )
    assert row is not None and row.replies[0].get("buttons"), row
    return row.replies[0]["buttons"][0][0][1]


async def worker_chat(app: App, lang: str = "en") -> Chat:
    """李秀梅 (a demo worker: Chinese by default), reading in `lang`, on her list."""
    async with app.db.sessions() as session, session.begin():
        await session.execute(update(User).where(User.key == WORKER).values(lang=lang))
    her = Chat(app.dispatcher, WORKER, lang)
    await her.say("/start")
    await her.tap("Interviews and hires")
    return her


async def test_asked_accepted_phones_exchanged_only_after_both_agree(app):
    me = await shortlist(app)
    await ask(me)
    await me.tap("Send")
    assert "Sent. 李秀梅 has 24 hours to answer" in me.text
    [iv] = await interviews(app)
    assert iv.status == "asked" and iv.how == "home"
    her = await worker_chat(app)
    assert any("⏳" in label for label in her.labels)
    await her.tap("⏳")
    assert "Waiting for your answer" in her.text and "Maternity nurse" in her.text
    # before she accepts: nothing either side got holds the other's phone or the address
    before = [*(r.text for r in me.history), *(r.text for r in her.history)]
    before += await outbox_of(app, WORKER) + await outbox_of(app, "tg:501")
    for text in before:
        assert WORKER_PHONE not in text and ADDRESS not in text, text
    assert not any(
        FAMILY_PHONE in t for t in [*(r.text for r in her.history), *await outbox_of(app, WORKER)]
    )
    await her.tap("Accept")
    assert "Agreed" in her.text
    assert FAMILY_PHONE in her.text and ADDRESS in her.text
    [iv] = await interviews(app)
    assert iv.status == "agreed" and iv.agreed_at is not None
    told = (await outbox_of(app, "tg:501"))[-1]
    assert "is agreed" in told and WORKER_PHONE in told and ADDRESS not in told
    await her.tap("Accept") if "✅ Accept" in her.labels else None  # no second accept offered
    assert "✅ Accept" not in her.labels


async def test_she_proposes_another_time_and_the_household_accepts_it(app):
    me = await shortlist(app)
    await ask(me)
    await me.tap("Send")
    her = await worker_chat(app)
    await her.tap("⏳")
    await her.tap("Another time")
    await her.press(her.replies[-1].buttons[1][0].data)  # the third day offered
    await her.say("下午4点半")
    assert "Sent: the household has 24 hours" in her.text
    [iv] = await interviews(app)
    assert iv.status == "moved"
    assert "proposes another time" in (await outbox_of(app, "tg:501"))[-1]
    # on Telegram the notice's own button opens her list, from that message
    await me.tap("Main menu")
    await me.press(await notice_button(app, "tg:501"))
    assert "Your interviews and hires" in me.text
    await me.tap("🕒")
    assert "She proposed this time" in me.text and "16:30" in me.text
    await me.tap("Accept this time")
    assert WORKER_PHONE in me.text
    assert FAMILY_PHONE in (await outbox_of(app, WORKER))[-1]


async def test_she_declines_and_the_household_is_told(app):
    me = await shortlist(app)
    await ask(me)
    await me.tap("Send")
    her = await worker_chat(app)
    await her.tap("⏳")
    await her.tap("Decline")
    assert "Declined" in her.text
    [iv] = await interviews(app)
    assert iv.status == "declined"
    assert "cannot come to the interview" in (await outbox_of(app, "tg:501"))[-1]
    for text in await outbox_of(app, "tg:501"):
        assert WORKER_PHONE not in text


async def test_a_second_request_for_the_same_worker_is_refused(app):
    me = await shortlist(app)
    await ask(me)
    await me.tap("Send")
    await me.say("/start")
    await me.tap("My requests")
    await me.tap("Maternity nurse")
    await me.tap("Find helpers")
    await ask(me, first=False)
    await me.tap("Send")
    assert "already asked 李秀梅" in me.text
    assert len(await interviews(app)) == 1


async def test_a_worker_paused_meanwhile_cannot_be_asked(app):
    me = await shortlist(app)
    await ask(me)
    async with app.db.sessions() as session, session.begin():
        await session.execute(
            update(WorkerProfile).where(WorkerProfile.name == "李秀梅").values(paused=True)
        )
    await me.tap("Send")
    assert "cannot be asked now" in me.text
    assert await interviews(app) == []


async def test_accepting_as_it_expires_on_another_instance_does_one_thing(app):
    me = await shortlist(app)
    await ask(me)
    await me.tap("Send")
    her = await worker_chat(app)
    await her.tap("⏳")
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=25)

    async def expire(session):
        from storage.repositories import Repos

        return await Repos(session).hiring.expire_due(later)

    expired = await app.db.transaction(expire)
    assert len(expired) == 1
    await her.tap("Accept")
    assert "changed meanwhile" in her.text and "Expired" in her.text
    [iv] = await interviews(app)
    assert iv.status == "expired" and iv.agreed_at is None
    assert not any(FAMILY_PHONE in r.text for r in her.history)
    assert await app.db.transaction(expire) == []  # expired once
