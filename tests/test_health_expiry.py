"""A health check runs out a year after the examination: she is reminded 30 days before
and told when it ran out, in her own language; a newer check replaces both; once it has
run out households do not see her and her credential says so, until a new check."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.app import App
from handlers.context import Options, outside
from handlers.health import health_topic, plan_health_reminders
from locales import translator
from storage.models import Outbox, WorkerProfile, utcnow
from storage.repositories import Repos
from storage.workers import HEALTH_REMIND_DAYS, HEALTH_VALID_DAYS, is_visible, visible
from tests.chat import Chat
from tests.conftest import ADMIN
from tests.test_credential import _repos_do, verified_worker

OPTIONS = Options()


async def record_health(app: App, profile_id: int, days_ago: int) -> dt.date:
    """Staff record a passed health examination of `days_ago` days ago and plan her
    reminders, as the vetting screen does; returns the last day it is valid."""
    staff = Chat(app.dispatcher, ADMIN, "en")
    await staff.say("/start")  # staff read in English: her messages are in hers

    async def work(repos: Repos) -> dt.date:
        workers = repos.workers
        profile = await workers.get(profile_id)
        assert profile is not None
        profile = await workers.record_check(
            profile.id,
            profile.version,
            ADMIN,
            "health",
            "",
            "passed",
            OPTIONS.now().date() - dt.timedelta(days=days_ago),
        )
        ctx = outside(repos, await repos.users.get(ADMIN), OPTIONS)
        await plan_health_reminders(ctx, profile)
        assert profile.health_valid_until is not None
        return profile.health_valid_until

    return await _repos_do(app, work)


async def planned(app: App, key: str, profile_id: int) -> list[Outbox]:
    async with app.db.sessions() as s:
        rows = await s.scalars(
            select(Outbox)
            .where(Outbox.user_key == key, Outbox.topic == f"health:{profile_id}")
            .order_by(Outbox.due_at)
        )
        return list(rows)


async def test_a_check_of_eleven_months_ago_plans_the_reminder_and_the_notice_in_her_language(
    app,
):
    pid, _code = await verified_worker(app, "tg:600", lang="zh")
    until = await record_health(app, pid, days_ago=HEALTH_VALID_DAYS - 35)  # 11 months
    today = OPTIONS.now().date()
    assert until == today + dt.timedelta(days=35)

    reminder, notice = await planned(app, "tg:600", pid)
    assert reminder.topic == notice.topic == f"health:{pid}"
    assert reminder.status == notice.status == "pending"
    remind_on = until - dt.timedelta(days=HEALTH_REMIND_DAYS)
    assert reminder.due_at == OPTIONS.utc(remind_on, OPTIONS.reminder_time)
    assert OPTIONS.local(reminder.due_at).date() == today + dt.timedelta(days=5)
    assert notice.due_at == OPTIONS.utc(until + dt.timedelta(days=1), OPTIONS.reminder_time)

    _ = translator("zh")  # hers, not the staff member's English
    text = reminder.replies[0]["text"]
    assert _.date(until) in text
    assert text == _(
        "⏰ Your health check runs out on {date}. Please get a new examination and tell "
        "the programme, or households will stop seeing your profile.",
        date=_.date(until),
    )
    assert "Your health check" not in text  # in Chinese
    assert notice.replies[0]["text"] == _(
        "⚠ Your health check ran out today; households do not see your profile until a "
        "new check is recorded."
    )
    assert "households" not in notice.replies[0]["text"]


async def test_a_newer_check_replaces_both_messages_not_adds_to_them(app):
    pid, _code = await verified_worker(app, "tg:601", lang="yue")
    await record_health(app, pid, days_ago=HEALTH_VALID_DAYS - 35)
    until = await record_health(app, pid, days_ago=3)
    rows = await planned(app, "tg:601", pid)
    assert len(rows) == 2  # the first two were withdrawn
    reminder, notice = rows
    assert reminder.due_at == OPTIONS.utc(
        until - dt.timedelta(days=HEALTH_REMIND_DAYS), OPTIONS.reminder_time
    )
    assert notice.due_at == OPTIONS.utc(until + dt.timedelta(days=1), OPTIONS.reminder_time)
    assert translator("yue").date(until) in reminder.replies[0]["text"]


async def test_a_reminder_whose_day_has_passed_goes_out_now(app):
    pid, _code = await verified_worker(app, "tg:602", lang="en")
    before = utcnow()
    until = await record_health(app, pid, days_ago=HEALTH_VALID_DAYS - 10)
    reminder, notice = await planned(app, "tg:602", pid)
    assert before <= reminder.due_at <= utcnow()  # due at once
    assert "Your health check runs out on" in reminder.replies[0]["text"]
    assert notice.due_at == OPTIONS.utc(until + dt.timedelta(days=1), OPTIONS.reminder_time)


async def test_an_expired_check_hides_her_and_her_credential_says_so_until_a_new_check(app):
    pid, code = await verified_worker(app, "tg:603", lang="en")
    household = Chat(app.dispatcher, "tg:604", "en")
    today = OPTIONS.now().date()

    async def shown() -> bool:
        async with app.db.sessions() as s:
            profile = await s.get(WorkerProfile, pid)
            assert profile is not None
            count = await s.scalar(
                select(func.count(WorkerProfile.id)).where(WorkerProfile.id == pid, visible(today))
            )
            assert bool(count) == is_visible(profile, today)
            return bool(count)

    assert await shown()
    await household.say(f"/verify {code}")
    assert "Valid: verified by the programme." in household.text

    await record_health(app, pid, days_ago=HEALTH_VALID_DAYS + 5)  # over a year old
    assert not await shown()
    await household.say(f"/verify {code}")
    assert "Health check expired: not valid until a new check is recorded." in household.text
    assert not await planned(app, "tg:603", pid)  # nothing to remind her of: it ran out

    await record_health(app, pid, days_ago=1)  # a new examination
    assert await shown()
    await household.say(f"/verify {code}")
    assert "Valid: verified by the programme." in household.text
    assert len(await planned(app, "tg:603", pid)) == 2


def test_the_topic_names_the_profile():
    assert health_topic(WorkerProfile(id=12)) == "health:12"
