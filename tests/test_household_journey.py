"""One household's whole way, played through the real screens with 李秀梅 (a verified
demo 月嫂) on the other side: a request, the shortlist, an interview she first answers
with another time, agreed; a trial, the hire confirmed and its contract; the job over,
both review; her credential and the programme's placement count say so."""

from __future__ import annotations

import datetime as dt

from docx import Document
from sqlalchemy import select, update

from storage.models import Hire, Interview, Review, WorkerProfile
from tests.test_interviews import (
    ADDRESS,
    FAMILY_PHONE,
    WORKER_PHONE,
    ask,
    outbox_of,
    she_agrees,
    shortlist,
    start_trial,
    worker_chat,
)


async def test_from_a_request_to_both_reviews(app):
    me = await shortlist(app)
    await ask(me)
    await me.tap("Send")
    her = await worker_chat(app)
    await her.tap("⏳")
    await her.tap("Another time")
    await her.press(her.replies[-1].buttons[0][1].data)
    await her.say("10:30")
    await me.tap("Main menu")
    await me.tap("Interviews and hires")
    await me.tap("🕒")
    assert WORKER_PHONE not in me.text
    await me.tap("Accept this time")
    assert WORKER_PHONE in me.text and "10:30" in me.text
    assert FAMILY_PHONE in (await outbox_of(app, "demo:worker-1"))[-1]

    await start_trial(me)
    await she_agrees(app, me)
    await me.tap("Confirm the hire")
    await me.tap("Yes, confirm")
    await me.tap("📄 The contract")
    [doc] = [r for r in me.replies if r.document]
    text = "\n".join(
        p.text for p in Document(str(app.dispatcher.files.path(doc.document))).paragraphs
    )
    assert "李秀梅" in text and ADDRESS in text and "Trial" in text

    await me.tap("The job has ended")
    assert "The job has not started yet" in me.text  # nothing to review before it starts
    async with app.db.sessions() as session, session.begin():  # weeks later: it ran
        await session.execute(
            update(Hire).values(starts_on=dt.date.today() - dt.timedelta(days=27))
        )
    await me.tap("Interviews and hires")
    await me.tap("🤝")
    await me.tap("The job has ended")
    assert "Has the job with 李秀梅 ended" in me.text
    await me.tap("Yes, it has ended")
    assert "Step 1 of 4" in me.text  # her review of 李秀梅
    for n in (5, 5, 4):
        await me.say(str(n))
    await me.say("很细心，宝宝照顾得很好")
    await me.tap("Send my review")
    assert "Thank you! Your review is saved." in me.text
    assert "job has ended" in (await outbox_of(app, "demo:worker-1"))[-1]

    await her.say("/menu")
    await her.tap("Interviews and hires")
    await her.tap("🏁")
    await her.tap("Review")
    for n in (4, 5, 5):
        await her.say(str(n))
    await her.tap("No comment")
    await her.tap("Send my review")
    async with app.db.sessions() as session:
        [interview] = list(await session.scalars(select(Interview)))
        [hire] = list(await session.scalars(select(Hire)))
        reviews = list(await session.scalars(select(Review)))
        profile = await session.get(WorkerProfile, hire.profile_id)
    assert interview.status == "agreed" and hire.status == "finished" and hire.city == "guangzhou"
    assert {r.side for r in reviews} == {"household", "worker"}
    assert profile.reviews_count == 1 and round(profile.reviews_average, 2) == 4.67
