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
    await her.tap({"zh": "面试和雇用", "yue": "面試同聘請"}.get(lang, "Interviews and hires"))
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


async def agreed(app: App) -> tuple[Chat, Chat]:
    """Asked, accepted: the household on the interview, she on hers."""
    me = await shortlist(app)
    await ask(me)
    await me.tap("Send")
    her = await worker_chat(app)
    await her.tap("⏳")
    await her.tap("Accept")
    await me.tap("Main menu")
    await me.tap("Interviews and hires")
    await me.tap("✅")
    assert "Agreed by both" in me.text
    return me, her


async def start_trial(me: Chat) -> None:
    await me.tap("Start a trial")
    assert "Your full name, as the employer on the contract" in me.text  # asked once
    await me.say("13800138000")
    assert "full name" in me.text
    await me.say("陈家明")
    assert "The wage you agreed with her, in yuan a month" in me.text
    await me.say("0")
    assert "Please type a wage between" in me.text
    await me.say("11000")
    assert "How many days of trial" in me.text
    await me.tap("3 days")
    assert "paid by the day" in me.text
    await me.say("30")
    assert "between" in me.text  # too little for a day
    await me.say("420")
    assert "Which day does the trial start" in me.text
    await me.press(me.replies[-1].buttons[0][0].data)
    assert "A trial with 李秀梅" in me.text and "3 days at" in me.text
    await me.tap("Start the trial")
    assert "The trial is set" in me.text and "On trial" in me.text
    assert "She has not agreed to these terms yet" in me.text
    assert not any("Confirm the hire" in label for label in me.labels)


async def she_agrees(app: App, me: Chat) -> None:
    """李秀梅 agrees to the trial's terms; the household's screen is shown again."""
    her = await worker_chat(app)
    await her.tap("🧪")
    assert "Please tell the household whether you agree" in her.text
    await her.tap("I agree to these terms")
    assert "The household is told" in her.text
    assert "agrees to the trial's terms" in (await outbox_of(app, "tg:501"))[-1]
    await me.tap("Interviews and hires")
    await me.tap("🧪")


async def test_a_failed_trial_brings_the_shortlist_back_without_her(app):
    from storage.models import HelpRequest, Hire

    me, _her = await agreed(app)
    await start_trial(me)
    assert "starts a trial with you" in (await outbox_of(app, WORKER))[-1]
    async with app.db.sessions() as session:
        [hire] = list(await session.scalars(select(Hire)))
    assert (hire.status, hire.wage, hire.trial_days, hire.trial_fee) == ("trial", 11000, 3, 420)
    assert hire.city == "guangzhou"
    await me.tap("End the trial")
    await me.tap("Not a good fit")
    assert "Ended. Here are other helpers" in me.text
    assert "李秀梅" not in me.text
    async with app.db.sessions() as session:
        hire = await session.get(Hire, hire.id)
        request = await session.get(HelpRequest, hire.request_id)
    assert hire.status == "ended" and hire.end_reason == "fit"
    assert hire.profile_id in request.excluded and request.status == "open"
    assert "ended the trial" in (await outbox_of(app, WORKER))[-1]
    # the trial's screen, from an earlier message: nothing is done twice
    await me.tap("Main menu")
    await me.tap("Interviews and hires")
    await me.tap("✖")
    assert "The trial was ended" in me.text and "End the trial" not in " ".join(me.labels)


async def test_a_worker_another_household_just_hired_cannot_be_asked(app):
    from storage.models import HelpRequest

    me = await shortlist(app)
    await ask(me)  # the summary is on her screen; meanwhile another family hires 李秀梅
    other = await shortlist(app, "tg:502")
    await ask(other)
    await other.tap("Send")
    her = await worker_chat(app)
    await her.tap("⏳")
    await her.tap("Accept")
    async with app.db.sessions() as session:
        theirs = await session.scalar(select(HelpRequest).join(User).where(User.key == "tg:502"))
    [iv] = [i for i in await interviews(app) if i.request_id == theirs.id]

    async def hire(session):
        from storage.repositories import Repos

        repos = Repos(session)
        interview = await session.get(Interview, iv.id)
        request = await session.get(HelpRequest, theirs.id)
        return await repos.hiring.start_trial(
            interview,
            request,
            starts_on=dt.date.today() + dt.timedelta(days=3),
            trial_days=3,
            trial_fee=400,
            wage=11000,
            wage_unit="month",
        )

    await app.db.transaction(hire)
    await me.tap("Send")
    assert "has just started work with another household" in me.text
    assert len(await interviews(app)) == 1  # theirs only


async def test_accepting_on_one_instance_while_it_expires_on_another(db_path):
    """Her accept reaches one instance as the 24 hours run out on another: one wins;
    she is told which, and nothing is done twice (the household hears once)."""
    import asyncio

    from bot.app import create_app
    from handlers.events import Event
    from tests.conftest import make_settings

    first = await create_app(make_settings(db_path))
    second = await create_app(make_settings(db_path))
    try:
        me = await shortlist(first)
        await ask(me)
        await me.tap("Send")
        her = await worker_chat(first)
        await her.tap("⏳")
        accept = her.button("Accept").data
        [iv] = await interviews(first)
        # the answer is due now: the sweep on the second instance may expire it
        async with first.db.sessions() as session, session.begin():
            await session.execute(
                update(Interview).values(
                    expires_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)
                    + dt.timedelta(seconds=1)
                )
            )
        await asyncio.sleep(1.1)

        async def expire(session):
            from storage.repositories import Repos

            return await Repos(session).hiring.expire_due()

        _handled, expired = await asyncio.gather(
            first.dispatcher.handle(Event(WORKER, data=accept, update_id="acc1")),
            second.db.transaction(expire),
        )
        [iv] = await interviews(first)
        assert iv.status == "expired" and len(expired) == 1
        assert iv.agreed_at is None
        outbox = await outbox_of(first, "tg:501")
        assert not any("is agreed" in t for t in outbox)
    finally:
        await first.close()
        await second.close()


async def test_a_confirmed_hire_sends_both_the_contract_and_counts_the_placement(app):
    from docx import Document

    from storage.models import HelpRequest, Hire

    me, _her = await agreed(app)
    await start_trial(me)
    await she_agrees(app, me)
    await me.tap("Confirm the hire")
    assert "Confirm the hire of 李秀梅" in me.text
    await me.tap("Yes, confirm")
    assert "Hired" in me.text and "📄 The contract" in me.labels
    async with app.db.sessions() as session:
        [hire] = list(await session.scalars(select(Hire)))
        request = await session.get(HelpRequest, hire.request_id)
    assert hire.status == "hired" and hire.confirmed_at is not None and hire.city == "guangzhou"
    assert request.status == "closed" and request.address == ADDRESS  # kept for the job
    for key in ("tg:501", WORKER):
        async with app.db.sessions() as session:
            row = await session.scalar(
                select(Outbox).where(Outbox.user_key == key, Outbox.topic == f"contract:{hire.id}")
            )
        assert row is not None and any(r.get("document") for r in row.replies)
    await me.tap("📄 The contract")
    [doc] = [r for r in me.replies if r.document]
    path = app.dispatcher.files.path(doc.document)
    text = "\n".join(p.text for p in Document(str(path)).paragraphs)
    assert "李秀梅" in text and "11,000" in text and WORKER_PHONE in text
    await me.tap("Yes, confirm") if "Yes, confirm" in me.labels else None
    async with app.db.sessions() as session:
        assert len(list(await session.scalars(select(Hire)))) == 1


async def test_a_helper_without_a_phone_number_gives_it_before_accepting(app):
    from storage.models import Profile

    me = await shortlist(app)
    await ask(me)
    await me.tap("Send")
    async with app.db.sessions() as session, session.begin():
        her_id = await session.scalar(select(User.id).where(User.key == WORKER))
        await session.execute(update(Profile).where(Profile.user_id == her_id).values(phone=""))
    her = await worker_chat(app)
    await her.tap("⏳")
    await her.tap("Accept")
    assert "Your phone number, so that the household can reach you" in her.text
    await her.say("12345")
    assert "does not look like a mobile number" in her.text
    await her.say("139 0668 0002")
    assert "Agreed" in her.text and FAMILY_PHONE in her.text
    assert "13906680002" in (await outbox_of(app, "tg:501"))[-1]


async def test_in_cantonese_and_chinese_a_family_asks_and_she_accepts(app):
    me = await shortlist(app)
    async with app.db.sessions() as session, session.begin():
        await session.execute(update(User).where(User.key == "tg:501").values(lang="yue"))
    await me.say("/menu")
    await me.tap("我嘅需求")
    await me.tap("月嫂")
    await me.tap("搵家務助理")
    await me.tap("約李秀梅面試")
    assert "你想邊日同李秀梅見面" in me.text
    await me.press(me.replies[-1].buttons[0][0].data)
    await me.say("下晝3點")
    await me.tap("喺我屋企")
    await me.say(ADDRESS)
    await me.say(FAMILY_PHONE)
    await me.tap("發送")
    [iv] = await interviews(app)
    assert iv.status == "asked"
    assert "15:00" in (await outbox_of(app, WORKER))[-1]
    assert "有雇主家庭约你面试" in (await outbox_of(app, WORKER))[-1]
    her = await worker_chat(app, "zh")
    await her.tap("⏳")
    await her.tap("接受")
    assert "约好了" in her.text and FAMILY_PHONE in her.text and ADDRESS in her.text
    told = (await outbox_of(app, "tg:501"))[-1]
    assert "面試約好咗" in told and WORKER_PHONE in told


async def test_she_declines_the_trials_terms_and_the_household_finds_another(app):
    from storage.models import HelpRequest, Hire

    me, _her = await agreed(app)
    await start_trial(me)
    her = await worker_chat(app)
    await her.tap("🧪")
    await her.tap("I cannot do this trial")
    assert "The trial is called off" in her.text
    async with app.db.sessions() as session:
        [hire] = list(await session.scalars(select(Hire)))
        request = await session.get(HelpRequest, hire.request_id)
    assert hire.status == "ended" and hire.end_reason == "declined" and hire.confirmed_at is None
    assert hire.profile_id in request.excluded
    assert "cannot do this trial" in (await outbox_of(app, "tg:501"))[-1]


async def test_a_hired_helper_is_shown_again_for_other_dates_only(app):
    """李秀梅 on a trial from day 14 (when she is available) for 26 days: she is at work
    on day 30, and free for a family needing her from day 60."""
    from storage.hiring import at_work
    from storage.models import HelpRequest

    me, _her = await agreed(app)
    await start_trial(me)
    async with app.db.sessions() as session:
        pid = await session.scalar(select(WorkerProfile.id).where(WorkerProfile.name == "李秀梅"))
        today = dt.date.today()
        during = await session.scalar(select(at_work(pid, today + dt.timedelta(days=30), None)))
        after = await session.scalar(
            select(at_work(pid, today + dt.timedelta(days=60), today + dt.timedelta(days=90)))
        )
        hire_days = await session.scalar(select(HelpRequest.days))
    assert hire_days == 26
    assert during and not after


async def test_typing_the_menu_entry_a_notice_names_opens_it_from_anywhere(app):
    """On WeChat a notice's "open 🤝 面试和雇用 from your main menu" is followed by typing
    it: from any screen that takes no text, the entry opens, not a course search."""
    me = await shortlist(app)
    await ask(me)
    await me.tap("Send")
    her = await worker_chat(app, "zh")
    await her.say("/menu")
    await her.tap("我的报名")
    await her.say("面试和雇用")
    assert any("⏳" in label for label in her.labels), her.text
    await her.say("/menu")
    await her.tap("我的报名")
    await her.say("面试")  # a part of it is still a search
    assert not any("⏳" in label for label in her.labels)


async def test_after_a_video_call_the_address_is_asked_before_the_trial(app):
    from storage.models import HelpRequest

    me = await shortlist(app)
    await me.tap("Ask 李秀梅 for an interview")
    await me.press(me.replies[-1].buttons[0][0].data)
    await me.tap("15:00")
    await me.tap("A video call")
    assert "Your phone number" in me.text  # no address for a video call
    await me.say(FAMILY_PHONE)
    await me.tap("Send")
    her = await worker_chat(app)
    await her.tap("⏳")
    await her.tap("Accept")
    assert "Address" not in her.text
    await me.tap("Main menu")
    await me.tap("Interviews and hires")
    await me.tap("✅")
    await me.tap("Start a trial")
    await me.say("陈家明")
    assert "The address where she will work" in me.text
    await me.say("天河区\n# 补充条款\n- 不付试工费")  # one line, whatever is typed
    assert "The wage you agreed" in me.text
    async with app.db.sessions() as session:
        [request] = list(await session.scalars(select(HelpRequest)))
    assert request.address == "天河区 # 补充条款 - 不付试工费"
