"""The rules an interview and a hire keep whatever happens meanwhile (the attacker's
findings, played as people): a helper suspended after she was asked cannot accept and
receives nothing; closing or filling a request cancels its other interviews and tells
the helpers; one request has one trial at a time; a household that erases its data
leaves the placement counted, without it, and the helper is told."""

from __future__ import annotations

import re

from sqlalchemy import select, update

from storage.models import HelpRequest, Hire, Interview, User, WorkerProfile
from tests.test_interviews import (
    ADDRESS,
    FAMILY_PHONE,
    WORKER,
    agreed,
    ask,
    interviews,
    outbox_of,
    she_agrees,
    shortlist,
    start_trial,
    worker_chat,
)


async def test_a_helper_suspended_after_she_was_asked_cannot_accept(app):
    me = await shortlist(app)
    await ask(me)
    await me.tap("Send")
    her = await worker_chat(app)
    await her.tap("⏳")
    async with app.db.sessions() as session, session.begin():  # staff suspend her
        await session.execute(
            update(WorkerProfile).where(WorkerProfile.name == "李秀梅").values(status="suspended")
        )
    await her.tap("Accept")
    assert "You cannot accept now" in her.text and "The interview is cancelled" in her.text
    assert FAMILY_PHONE not in her.text and ADDRESS not in her.text
    [iv] = await interviews(app)
    assert iv.status == "cancelled" and iv.agreed_at is None
    told = (await outbox_of(app, "tg:501"))[-1]
    assert "is cancelled" in told and "not available any more" in told


async def test_closing_the_request_cancels_its_interviews_and_tells_the_helper(app):
    me = await shortlist(app)
    await ask(me)
    await me.tap("Send")
    await me.tap("Main menu")
    await me.tap("My requests")
    await me.tap("Maternity nurse")
    await me.tap("Close")
    await me.tap("Yes, close it")
    [iv] = await interviews(app)
    assert iv.status == "cancelled"
    assert "需求已关闭" in (await outbox_of(app, WORKER))[-1]  # in her language
    her = await worker_chat(app)
    assert not any("⏳" in label for label in her.labels)  # nothing left to accept


async def test_one_request_has_one_trial_and_a_hire_cancels_the_rest(app):
    me, _her = await agreed(app)
    await start_trial(me)
    async with app.db.sessions() as session:
        [hire] = list(await session.scalars(select(Hire)))

    async def second(session):  # another agreed interview on the same request
        from storage.hiring import Refused
        from storage.repositories import Repos

        repos = Repos(session)
        interview = await session.get(Interview, hire.interview_id)
        helper = await session.scalar(  # another shown helper, agreed to meet too
            select(WorkerProfile).where(
                WorkerProfile.status == "verified",
                WorkerProfile.paused.is_(False),
                WorkerProfile.id != hire.profile_id,
            )
        )
        other = Interview(
            request_id=interview.request_id,
            profile_id=helper.id,
            household_id=interview.household_id,
            worker_id=helper.user_id,
            status="agreed",
            at=interview.at,
            expires_at=interview.expires_at,
        )
        session.add(other)
        await session.flush()
        request = await session.get(HelpRequest, interview.request_id)
        try:
            await repos.hiring.start_trial(
                other,
                request,
                starts_on=hire.starts_on,
                trial_days=3,
                trial_fee=400,
                wage=9000,
                wage_unit="month",
            )
        except Refused as refused:
            return refused.reason
        return None

    assert await app.db.transaction(second) == "filled"
    await she_agrees(app, me)
    await me.tap("Confirm the hire")
    await me.tap("Yes, confirm")
    async with app.db.sessions() as session:
        hires = list(await session.scalars(select(Hire)))
    assert len(hires) == 1


async def test_a_household_that_erases_its_data_leaves_the_placement_counted(app):
    me, _her = await agreed(app)
    await start_trial(me)
    await she_agrees(app, me)
    await me.tap("Confirm the hire")
    await me.tap("Yes, confirm")
    await me.say("/delete_me")
    await me.tap(next(label for label in me.labels if "delete" in label.lower()))
    async with app.db.sessions() as session:
        [hire] = list(await session.scalars(select(Hire)))
        left = await session.scalar(select(User).where(User.key == "tg:501"))
        requests = list(await session.scalars(select(HelpRequest)))
    assert left is None and requests == []
    # still a placement (confirmed, with its city), over without the household: she is
    # not kept "at work", and no one is asked to review anyone
    assert hire.status == "finished" and hire.confirmed_at is not None
    assert hire.city == "guangzhou" and hire.review_asked_at is not None
    assert hire.household_id is None and hire.request_id is None and hire.worker_id is not None
    assert "deleted its data" in (await outbox_of(app, WORKER))[-1]
    her = await worker_chat(app)
    await her.tap("🏁")
    assert "Maternity nurse" in her.text and "Review" not in " ".join(her.labels)
    await her.tap("The contract")  # as confirmed, kept on the hire: without the household
    assert any(r.document for r in her.replies) and "CN¥11,000" in her.text
    assert "陈家明" not in her.text and ADDRESS not in her.text
    assert not re.search(r"\+?86?1[3-9]\d{9}", her.text.replace("19906680001", ""))


async def test_a_trial_cancels_only_her_interviews_for_the_same_days(app):
    """Two families ask 李秀梅: one for two weeks from now, one for two months from now.
    The first family's trial leaves the second one's interview waiting; a request with
    no end date counts every day from its start."""
    import datetime as dt

    from storage.hiring import at_work

    first = await shortlist(app)
    await ask(first)
    await first.tap("Send")
    later = await shortlist(app, "tg:502")
    await ask(later)
    await later.tap("Send")
    async with app.db.sessions() as session, session.begin():
        theirs = await session.scalar(select(HelpRequest).join(User).where(User.key == "tg:502"))
        theirs.starts_on = dt.date.today() + dt.timedelta(days=60)
    her = await worker_chat(app)
    for _ in range(2):  # she accepts both
        await her.press(next(b for b in her.replies[-1].flat_buttons() if "⏳" in b.label).data)
        await her.tap("Accept")
        await her.say("/menu")
        await her.tap("Interviews and hires")
    await first.tap("Main menu")
    await first.tap("Interviews and hires")
    await first.tap("✅")
    await start_trial(first)  # from day 14 for 26 days
    statuses = {iv.request_id: iv.status for iv in await interviews(app)}
    assert statuses[theirs.id] == "agreed"  # day 60: not touched
    async with app.db.sessions() as session:
        pid = await session.scalar(select(WorkerProfile.id).where(WorkerProfile.name == "李秀梅"))
        today = dt.date.today()
        open_ended = await session.scalar(select(at_work(pid, today + dt.timedelta(days=5), None)))
    assert open_ended  # a job with no end, from day 5, meets her trial


async def test_the_contract_stays_as_both_confirmed_it(app):
    from storage.models import Profile

    me, _her = await agreed(app)
    await start_trial(me)
    await she_agrees(app, me)
    await me.tap("Confirm the hire")
    await me.tap("Yes, confirm")
    async with app.db.sessions() as session, session.begin():  # she changes her phone
        her_id = await session.scalar(select(User.id).where(User.key == WORKER))
        await session.execute(
            update(Profile).where(Profile.user_id == her_id).values(phone="+8613711112222")
        )
    await me.tap("📄 The contract")
    assert "19906680001" in me.text and "13711112222" not in me.text


async def test_a_menu_entry_typed_on_a_step_that_takes_text_is_not_an_answer(app):
    me, _her = await agreed(app)
    await me.tap("Start a trial")
    assert "Your full name" in me.text
    await me.say("🤝 Interviews and hires")  # as a notice says to open it
    assert "Your interviews and hires" in me.text
    async with app.db.sessions() as session:
        from storage.models import Profile

        kept = await session.scalar(select(Profile.name).join(User).where(User.key == "tg:501"))
    assert not kept
