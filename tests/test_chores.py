"""Chores done by the clock (handlers/chores.py), as people meet them: an interview
request nobody answered expires after 24 hours and both sides are told once; the worker
accepting as it expires on another instance gets a clear answer and nothing is done
twice; a job past its end date asks both sides for a review once; a newly verified
helper who fits an open request is offered to that household (at most one message a
day per request, also with two instances); a helper at work elsewhere is never
shortlisted, and one whose trial the household ended is never shown again for that
request. Time passes by giving each pass its own `now`."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App, create_app, warm_up
from handlers.context import Options
from storage.hiring import Moved
from storage.matching import MatchQuery, fits, shortlist
from storage.models import HelpRequest, Hire, Interview, Outbox, User, utcnow
from storage.repositories import Repos
from tests.chat import Chat
from tests.conftest import make_settings
from tests.test_household_request import household

TODAY = Options().now().date()  # the programme's local date, as the chores use it
START = TODAY + dt.timedelta(days=20)
STAFF = "console:admin"
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)

#: a 月嫂 in Guangzhou, live-in, ¥8,000-10,000 a month: she fits `request_for`'s request
HELPER: dict[str, Any] = {
    "kinds": ["maternity"],
    "skills": [],
    "years": 5,
    "jobs": [{"what": "maternity", "where": "guangzhou", "years": 5}],
    "places": ["guangzhou"],
    "pay": {"live_in": [8000, 10000]},
    "languages": ["mandarin", "cantonese"],
    "intro": "做事细心，会做月子餐",
}


# --- people and their things, through the real repositories -------------------------------
async def helper(app: App, key: str, name: str, *, shown: bool = True, **fields: Any) -> int:
    """A worker verified by staff now (and sharing her profile unless `shown` is
    False): her profile id."""

    async def work(session: AsyncSession) -> int:
        repos = Repos(session)
        user = repos.users.new(key, "en")
        user.consented_at = utcnow()
        workers = repos.workers
        profile = await workers.start(user)
        await workers.edit(profile, **{**HELPER, "name": name, **fields})
        await workers.submit(profile)
        for kind in ("identity", "health", "criminal"):
            profile = await workers.record_check(
                profile.id, profile.version, STAFF, kind, "", "passed", TODAY
            )
        profile = await workers.decide(profile.id, profile.version, STAFF, "approve", today=TODAY)
        if shown:
            await workers.set_shared(profile, True)
        return profile.id

    return await app.db.transaction(work)


async def request_for(app: App, key: str, **fields: Any) -> int:
    """Her open request for a live-in 月嫂 in Guangzhou from `START`: its id."""

    async def work(session: AsyncSession) -> int:
        repos = Repos(session)
        user = await repos.users.get(key)
        assert user is not None
        request = await repos.requests.start(user)
        values: dict[str, Any] = {
            "kind": "maternity",
            "mode": "live_in",
            "place": "guangzhou",
            "starts_on": START,
            "days": 26,
            "budget_min": 8000,
            "budget_max": 12000,
            "budget_unit": "month",
        }
        await repos.requests.edit(request, **{**values, **fields})
        await repos.requests.set_status(request, "open")
        return request.id

    return await app.db.transaction(work)


async def set_status(app: App, request_id: int, status: str) -> None:
    async def work(session: AsyncSession) -> None:
        request = await session.get(HelpRequest, request_id)
        assert request is not None
        await Repos(session).requests.set_status(request, status)

    await app.db.transaction(work)


async def ask(app: App, request_id: int, profile_id: int, now: dt.datetime) -> int:
    """The household asks her for a video interview two days on, at `now`."""

    async def work(session: AsyncSession) -> int:
        repos = Repos(session)
        request = await session.get(HelpRequest, request_id)
        profile = await repos.workers.get(profile_id)
        assert request is not None and profile is not None
        interview = await repos.hiring.ask(
            request,
            profile,
            at=now + 2 * DAY,
            how="video",
            summary="月嫂 26天",
            today=TODAY,
            now=now,
        )
        return interview.id

    return await app.db.transaction(work)


async def on_interview(app: App, interview_id: int, act: str, now: dt.datetime) -> str:
    """Her answer (`accept`, `propose`) at `now`: the interview's status after it, or
    `refused: <its status>` when another change came first (`Moved`)."""

    async def work(session: AsyncSession) -> str:
        hiring = Repos(session).hiring
        interview = await session.get(Interview, interview_id)
        assert interview is not None
        try:
            if act == "propose":
                return (await hiring.propose(interview, now + 3 * DAY, now=now)).status
            return (await hiring.accept(interview, now=now)).status
        except Moved as moved:
            assert moved.current is not None
            return f"refused: {moved.current.status}"

    return await app.db.transaction(work)


async def trial(
    app: App, request_id: int, profile_id: int, now: dt.datetime, *, hired: bool, ends_on: dt.date
) -> int:
    """Asked, accepted and on a trial (then `hired`, confirmed): the hire's id."""
    interview_id = await ask(app, request_id, profile_id, now)
    assert await on_interview(app, interview_id, "accept", now + HOUR) == "agreed"

    async def work(session: AsyncSession) -> int:
        hiring = Repos(session).hiring
        interview = await session.get(Interview, interview_id)
        request = await session.get(HelpRequest, request_id)
        assert interview is not None and request is not None
        hire = await hiring.start_trial(
            interview,
            request,
            starts_on=TODAY - 10 * DAY,
            trial_days=3,
            trial_fee=200,
            wage=9000,
            wage_unit="month",
            ends_on=ends_on,
        )
        if hired:
            hire = await hiring.confirm(await hiring.agree_terms(hire))
        return hire.id

    return await app.db.transaction(work)


async def end_trial(app: App, hire_id: int) -> None:
    async def work(session: AsyncSession) -> None:
        hire = await session.get(Hire, hire_id)
        assert hire is not None
        await Repos(session).hiring.end_trial(hire, "not_a_fit")

    await app.db.transaction(work)


async def outbox_of(app: App, key: str) -> list[str]:
    """The messages waiting for her, oldest first, each as its text."""
    async with app.db.sessions() as session:
        rows = await session.scalars(
            select(Outbox).where(Outbox.user_key == key).order_by(Outbox.id)
        )
        return ["\n".join(r["text"] for r in row.replies) for row in rows]


async def expiries(app: App, key: str) -> int:
    """How many notices of an expired interview request she was sent."""
    return sum("⌛" in text for text in await outbox_of(app, key))


async def load(app: App, model: Any, ident: int) -> Any:
    async with app.db.sessions() as session:
        return await session.get(model, ident)


async def her_shortlist(me: Chat) -> str:
    """From her main menu: 📋 My requests → the request → 🔎 Find helpers."""
    await me.say("/menu")
    await me.tap("My requests")
    await me.tap("Maternity nurse")
    await me.tap("Find helpers")
    return me.text


# --- interview requests nobody answered ---------------------------------------------------
async def test_an_unanswered_interview_expires_after_24_hours_and_both_are_told_once(app):
    await household(app, "tg:501")
    mei = await helper(app, "tg:701", "陈美玲")
    request = await request_for(app, "tg:501")
    asked_at = utcnow()
    interview = await ask(app, request, mei, asked_at)

    counts = await app.dispatcher.run_chores(asked_at + 23 * HOUR)
    assert counts["expired"] == 0
    assert (await load(app, Interview, interview)).status == "asked"
    before = len(await outbox_of(app, "tg:701"))

    counts = await app.dispatcher.run_chores(asked_at + 24 * HOUR + dt.timedelta(minutes=1))
    assert counts["expired"] == 1
    assert (await load(app, Interview, interview)).status == "expired"
    [told] = await outbox_of(app, "tg:501")
    assert "Your interview request to 陈美玲" in told and "no answer within 24 hours" in told
    assert "Find helpers" in told and "Interviews and hires" in told
    hers = await outbox_of(app, "tg:701")
    assert len(hers) == before + 1 and "has expired" in hers[-1]

    # the next pass finds nothing to do: no second notice
    assert (await app.dispatcher.run_chores(asked_at + 25 * HOUR))["expired"] == 0
    assert len(await outbox_of(app, "tg:501")) == 1
    assert len(await outbox_of(app, "tg:701")) == before + 1

    # her accepting now is refused with the interview as it is
    answer = await on_interview(app, interview, "accept", asked_at + 25 * HOUR)
    assert answer == "refused: expired"
    assert (await load(app, Interview, interview)).status == "expired"


async def test_a_proposed_time_the_household_left_unanswered_expires_and_says_whose_it_was(app):
    await household(app, "tg:502")
    mei = await helper(app, "tg:702", "陈美玲")
    request = await request_for(app, "tg:502")
    asked_at = utcnow()
    interview = await ask(app, request, mei, asked_at)
    # she proposes another time: the household has 24 hours from then
    assert await on_interview(app, interview, "propose", asked_at + 2 * HOUR) == "moved"

    assert (await app.dispatcher.run_chores(asked_at + 25 * HOUR))["expired"] == 0
    assert (await app.dispatcher.run_chores(asked_at + 27 * HOUR))["expired"] == 1
    told = (await outbox_of(app, "tg:502"))[-1]
    assert "You did not answer the time 陈美玲 proposed" in told
    assert "did not answer the time you proposed" in (await outbox_of(app, "tg:702"))[-1]


async def test_two_instances_running_chores_at_once_expire_it_once_and_tell_once(db_path):
    first = await create_app(make_settings(db_path))
    second = await create_app(make_settings(db_path))
    try:
        await household(first, "tg:503")
        mei = await helper(first, "tg:703", "陈美玲")
        request = await request_for(first, "tg:503")
        asked_at = utcnow()
        interview = await ask(first, request, mei, asked_at)
        before = len(await outbox_of(first, "tg:703"))
        later = asked_at + 30 * HOUR
        counts = await asyncio.gather(
            first.dispatcher.run_chores(later), second.dispatcher.run_chores(later)
        )
        assert sorted(c["expired"] for c in counts) == [0, 1]
        assert (await load(first, Interview, interview)).status == "expired"
        assert len(await outbox_of(first, "tg:503")) == 1
        assert len(await outbox_of(first, "tg:703")) == before + 1
    finally:
        await first.close()
        await second.close()


async def test_accepting_on_one_instance_as_it_expires_on_another_one_wins(db_path):
    first = await create_app(make_settings(db_path))
    second = await create_app(make_settings(db_path))
    try:
        await household(first, "tg:504")
        outcomes = set()
        for trial in range(6):
            mei = await helper(first, f"tg:{710 + trial}", f"陈美玲{trial}")
            request = await request_for(first, "tg:504")
            asked_at = utcnow()
            interview = await ask(first, request, mei, asked_at)
            household_before = await expiries(first, "tg:504")
            worker_before = await expiries(first, f"tg:{710 + trial}")
            expire = first.dispatcher.run_chores(asked_at + 24 * HOUR + dt.timedelta(seconds=1))
            accept = on_interview(
                second, interview, "accept", asked_at + 24 * HOUR - dt.timedelta(seconds=1)
            )
            if trial % 2:  # each of them first, in turn
                answer, chores = await asyncio.gather(accept, expire)
            else:
                chores, answer = await asyncio.gather(expire, accept)
            assert isinstance(chores, dict), chores
            status = (await load(first, Interview, interview)).status
            told = await expiries(first, "tg:504") - household_before
            told_her = await expiries(first, f"tg:{710 + trial}") - worker_before
            if status == "agreed":  # her answer came first: nothing expired, no one told so
                assert answer == "agreed" and chores["expired"] == 0
                assert told == 0 and told_her == 0
            else:  # the expiry came first: her answer is refused, each told once
                assert status == "expired" and answer == "refused: expired", answer
                assert chores["expired"] == 1 and told == 1 and told_her == 1
            outcomes.add(status)
        assert outcomes == {"agreed", "expired"}  # both orders were played
    finally:
        await first.close()
        await second.close()


# --- jobs that ended ------------------------------------------------------------------------
async def test_a_job_past_its_end_date_finishes_and_both_are_asked_for_a_review_once(app):
    await household(app, "tg:505")
    mei = await helper(app, "tg:705", "陈美玲")
    request = await request_for(app, "tg:505")
    now = utcnow()
    hire = await trial(app, request, mei, now, hired=True, ends_on=TODAY)
    household_before = len(await outbox_of(app, "tg:505"))
    worker_before = len(await outbox_of(app, "tg:705"))

    # its last day is today: not over yet
    assert (await app.dispatcher.run_chores(now))["finished"] == 0
    assert (await load(app, Hire, hire)).status == "hired"

    counts = await app.dispatcher.run_chores(now + DAY)
    assert counts["finished"] == 1
    done = await load(app, Hire, hire)
    assert done.status == "finished" and done.review_asked_at is not None
    told = await outbox_of(app, "tg:505")
    assert len(told) == household_before + 1
    assert "The job with 陈美玲 ended" in told[-1] and "Review" in told[-1]
    assert "Interviews and hires" in told[-1]
    hers = await outbox_of(app, "tg:705")
    assert len(hers) == worker_before + 1 and "review the household" in hers[-1]

    assert (await app.dispatcher.run_chores(now + 2 * DAY))["finished"] == 0
    assert len(await outbox_of(app, "tg:505")) == household_before + 1
    assert len(await outbox_of(app, "tg:705")) == worker_before + 1


# --- newly verified helpers offered to open requests ----------------------------------------
async def test_a_newly_verified_helper_who_fits_is_offered_once_a_day(app):
    me = await household(app, "tg:506")
    known = await helper(app, "tg:720", "王老师")  # verified before the request: not new
    request = await request_for(app, "tg:506")
    now = utcnow()
    assert (await app.dispatcher.run_chores(now))["offered"] == 0
    assert await outbox_of(app, "tg:506") == []

    mei = await helper(app, "tg:721", "陈美玲")
    assert (await app.dispatcher.run_chores(now))["offered"] == 1
    [offer] = await outbox_of(app, "tg:506")
    assert "A newly verified helper fits your request" in offer
    assert "陈美玲" in offer and "王老师" not in offer
    assert "works in Guangzhou" in offer and "Valid: verified by the programme" in offer
    assert "My requests → your request → 🔎 Find helpers" in offer
    kept = await load(app, HelpRequest, request)
    assert kept.offered_on == TODAY and mei in kept.shown and known not in kept.shown

    # the same day: no second message, not even for another newly verified helper
    assert (await app.dispatcher.run_chores(now + HOUR))["offered"] == 0
    lan = await helper(app, "tg:722", "林小兰")
    assert (await app.dispatcher.run_chores(now + 2 * HOUR))["offered"] == 0
    assert len(await outbox_of(app, "tg:506")) == 1

    # the next day she is offered, and only she
    assert (await app.dispatcher.run_chores(now + DAY))["offered"] == 1
    second = (await outbox_of(app, "tg:506"))[-1]
    assert "林小兰" in second and "陈美玲" not in second
    assert (await app.dispatcher.run_chores(now + DAY + HOUR))["offered"] == 0
    assert (await app.dispatcher.run_chores(now + 2 * DAY))["offered"] == 0
    assert len(await outbox_of(app, "tg:506")) == 2
    assert lan in (await load(app, HelpRequest, request)).shown

    # where the message sends her, the new helpers are there to ask for an interview
    text = await her_shortlist(me)
    assert "陈美玲" in text and "林小兰" in text
    assert any("Ask 陈美玲 for an interview" in label for label in me.labels)


async def test_no_offer_to_a_paused_or_closed_request_nor_of_a_helper_who_does_not_fit(app):
    await household(app, "tg:507")
    paused = await request_for(app, "tg:507")
    closed = await request_for(app, "tg:507")
    elsewhere = await request_for(app, "tg:507", place="shenzhen")
    later = await request_for(app, "tg:507", starts_on=TODAY + dt.timedelta(days=200))
    await set_status(app, paused, "paused")
    await set_status(app, closed, "closed")
    now = utcnow()
    await helper(app, "tg:730", "陈美玲", available_until=TODAY + dt.timedelta(days=90))
    await helper(app, "tg:731", "林小兰", shown=False)  # verified, not sharing her profile
    await helper(app, "tg:732", "王芳", kinds=["elder"], jobs=[])  # another kind of work

    assert (await app.dispatcher.run_chores(now))["offered"] == 0
    assert await outbox_of(app, "tg:507") == []
    for ident in (paused, closed, elsewhere, later):
        kept = await load(app, HelpRequest, ident)
        assert kept.offered_on is None and kept.shown == []

    # resumed, the paused one is offered the helper who fits it
    await set_status(app, paused, "open")
    assert (await app.dispatcher.run_chores(now + HOUR))["offered"] == 1
    [offer] = await outbox_of(app, "tg:507")
    assert "陈美玲" in offer and "林小兰" not in offer and "王芳" not in offer
    assert (await load(app, HelpRequest, paused)).offered_on == TODAY


async def test_two_instances_offer_a_new_helper_once(db_path):
    first = await create_app(make_settings(db_path))
    second = await create_app(make_settings(db_path))
    try:
        await household(first, "tg:508")
        await request_for(first, "tg:508")
        await helper(first, "tg:740", "陈美玲")
        now = utcnow()
        counts = await asyncio.gather(
            first.dispatcher.run_chores(now), second.dispatcher.run_chores(now)
        )
        assert sorted(c["offered"] for c in counts) == [0, 1]
        assert len(await outbox_of(first, "tg:508")) == 1
    finally:
        await first.close()
        await second.close()


# --- who is never shown ----------------------------------------------------------------------
async def test_a_helper_at_work_elsewhere_is_neither_shortlisted_nor_offered(app):
    await household(app, "tg:509")
    other = await request_for(app, "tg:509")
    me = await household(app, "tg:510")
    mine = await request_for(app, "tg:510")
    busy = await helper(app, "tg:750", "陈美玲")
    free = await helper(app, "tg:751", "林小兰")
    now = utcnow()
    await trial(app, other, busy, now, hired=False, ends_on=TODAY + 30 * DAY)

    async with app.db.sessions() as session:
        query = MatchQuery.from_request(await session.get(HelpRequest, mine))
        found = await shortlist(session, query, TODAY, record=False)
        assert [m.profile.id for m in found] == [free]
        assert not await fits(session, query, busy, TODAY)
        assert await fits(session, query, free, TODAY)

    assert (await app.dispatcher.run_chores(now))["offered"] >= 1
    offer = (await outbox_of(app, "tg:510"))[-1]
    assert "林小兰" in offer and "陈美玲" not in offer
    text = await her_shortlist(me)
    assert "林小兰" in text and "陈美玲" not in text


async def test_a_helper_whose_trial_she_ended_is_never_shown_again_for_that_request(app):
    me = await household(app, "tg:511")
    request = await request_for(app, "tg:511")
    mei = await helper(app, "tg:760", "陈美玲")
    lan = await helper(app, "tg:761", "林小兰")
    hire = await trial(app, request, mei, utcnow(), hired=False, ends_on=TODAY + 30 * DAY)
    await end_trial(app, hire)
    kept = await load(app, HelpRequest, request)
    assert kept.excluded == [mei]

    text = await her_shortlist(me)
    assert "林小兰" in text and "陈美玲" not in text
    shown = (await load(app, HelpRequest, request)).shown
    assert lan in shown and mei not in shown
    # free again, she is shown for another request, of this household or another
    other = await request_for(app, "tg:511")
    async with app.db.sessions() as session:
        query = MatchQuery.from_request(await session.get(HelpRequest, other))
        assert mei in [m.profile.id for m in await shortlist(session, query, TODAY, record=False)]

    # nor offered again for it, however many passes and days
    later = utcnow()
    for day in range(3):
        await app.dispatcher.run_chores(later + day * DAY)
    assert not any("陈美玲" in offer for offer in await outbox_of(app, "tg:511"))
    kept = await load(app, HelpRequest, request)
    assert kept.excluded == [mei] and mei not in kept.shown


# --- the dispatcher runs them by itself ------------------------------------------------------
async def test_the_dispatcher_runs_the_chores_by_itself(app, monkeypatch):
    import bot.dispatcher

    monkeypatch.setattr(bot.dispatcher, "PRUNE_EVERY", 0.01)
    monkeypatch.setattr(bot.dispatcher, "CHORES_EVERY", 0.01)
    await household(app, "tg:512")
    mei = await helper(app, "tg:770", "陈美玲")
    request = await request_for(app, "tg:512")
    interview = await ask(app, request, mei, utcnow() - 25 * HOUR)  # overdue already
    await warm_up(app)  # a transport starts serving: no one has written since
    for _ in range(500):
        if (await load(app, Interview, interview)).status == "expired":
            break
        await asyncio.sleep(0.01)
    assert (await load(app, Interview, interview)).status == "expired"
    assert any("no answer within 24 hours" in t for t in await outbox_of(app, "tg:512"))


# --- in her language (needs the merged catalogs) ----------------------------------------------
async def test_the_notices_are_in_each_ones_language(app):
    await household(app, "tg:513")
    async with app.db.sessions() as session, session.begin():  # she reads Chinese
        await session.execute(update(User).where(User.key == "tg:513").values(lang="zh"))
    mei = await helper(app, "tg:780", "陈美玲")
    request = await request_for(app, "tg:513")
    asked_at = utcnow()
    await ask(app, request, mei, asked_at)
    await app.dispatcher.run_chores(asked_at + 25 * HOUR)
    [told] = await outbox_of(app, "tg:513")
    assert "陈美玲" in told and "24 小时" in told and "面试" in told
    hers = (await outbox_of(app, "tg:780"))[-1]  # she reads English
    assert "has expired" in hers


async def test_haoxin_chores_runs_one_pass_from_the_command_line(db_path):
    app = await create_app(make_settings(db_path))
    try:
        await household(app, "tg:514")
        mei = await helper(app, "tg:790", "陈美玲")
        request = await request_for(app, "tg:514")
        interview = await ask(app, request, mei, utcnow() - 25 * HOUR)  # overdue already
    finally:
        await app.close()
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot.cli", "chores"],
        capture_output=True,
        text=True,
        env={**os.environ, "HAOXIN_DATABASE_URL": f"sqlite+aiosqlite:///{db_path}"},
        cwd=db_path.parent,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "expired: 1, finished: 0, offered: 0"
    app = await create_app(make_settings(db_path))
    try:
        assert (await load(app, Interview, interview)).status == "expired"
        assert any("no answer within 24 hours" in t for t in await outbox_of(app, "tg:514"))
    finally:
        await app.close()


async def test_an_offered_helper_is_first_on_her_next_shortlist_among_many(app):
    """Six better-placed helpers were verified before the request: the one offered to it
    still comes first when she opens Find helpers, as the message says."""
    me = await household(app, "tg:507")
    for n in range(6):
        await helper(app, f"tg:73{n}", f"早到{n}号", years=9)
    await request_for(app, "tg:507")
    newcomer = await helper(app, "tg:740", "新来的", years=0)
    assert (await app.dispatcher.run_chores(utcnow()))["offered"] == 1
    text = await her_shortlist(me)
    assert "新来的" in text
    assert me.labels.index(next(lb for lb in me.labels if "新来的" in lb)) == 0
    assert newcomer not in (await load_request_of(app, "tg:507")).offered  # seen now


async def load_request_of(app: App, key: str) -> HelpRequest:
    async with app.db.sessions() as session:
        return await session.scalar(
            select(HelpRequest).join(User).where(User.key == key).order_by(HelpRequest.id)
        )
