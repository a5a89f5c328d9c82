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
    assert hire.status == "hired" and hire.city == "guangzhou"
    assert hire.household_id is None and hire.request_id is None and hire.worker_id is not None
    assert "deleted its data" in (await outbox_of(app, WORKER))[-1]
    her = await worker_chat(app)
    await her.tap("🤝")
    assert "Maternity nurse" in her.text
    assert not re.search(r"\+?86?1[3-9]\d{9}", her.text.replace("19906680001", ""))
