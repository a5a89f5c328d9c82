"""Her health check runs out a year after the examination: she is reminded before, and
told when it has run out.

    a health check recorded ──▶ plan_health_reminders(ctx, profile)
        ├─ withdraws the earlier messages about it (topic `health:<profile id>`)
        ├─ HEALTH_REMIND_DAYS before the last valid day, at the reminder time:
        │  "your health check runs out on DATE" (at once, when that day has passed)
        └─ the day after the last valid day, at the reminder time: "it ran out today"

Both are outbox messages in her own language: they survive restarts and go out once; a
newer check replaces them. Hiding her needs no job: `storage.workers.visible(today)`
reads `health_valid_until` (the last valid day) every time households are shown anyone.
"""

from __future__ import annotations

import datetime as dt

from handlers.context import Ctx, outside
from handlers.replies import Reply
from storage.models import WorkerProfile, utcnow
from storage.workers import HEALTH_REMIND_DAYS


def health_topic(profile: WorkerProfile) -> str:
    """The outbox topic of her health-check messages."""
    return f"health:{profile.id}"


async def plan_health_reminders(ctx: Ctx, profile: WorkerProfile) -> None:
    """(Re)plan her health-check reminder and expiry notice, replacing earlier ones:
    call it after a health check is recorded (passed or failed) in the same
    transaction. Nothing is planned for a check that has run out already, no passed
    check, or a rejected profile."""
    user = await ctx.repos.users.by_id(profile.user_id)
    if user is None:
        return
    topic = health_topic(profile)
    await ctx.repos.outbox.withdraw(user.key, topic)
    until = profile.health_valid_until
    if until is None or until < ctx.today() or profile.status == "rejected":
        return
    _ = outside(ctx.repos, user, ctx.options)._  # her language, not the staff's
    options = ctx.options
    remind_at: dt.datetime | None = options.utc(
        until - dt.timedelta(days=HEALTH_REMIND_DAYS), options.reminder_time
    )
    if remind_at is not None and remind_at <= utcnow():
        remind_at = None  # that day has passed: now
    reminder = _(
        "⏰ Your health check runs out on {date}. Please get a new examination and tell "
        "the programme, or households will stop seeing your profile.",
        date=_.date(until),
    )
    ctx.notify(user.key, [Reply(reminder)], at=remind_at, topic=topic)
    expired = _(
        "⚠ Your health check ran out today; households do not see your profile until a "
        "new check is recorded."
    )
    ran_out = options.utc(until + dt.timedelta(days=1), options.reminder_time)
    ctx.notify(user.key, [Reply(expired)], at=ran_out, topic=topic)
