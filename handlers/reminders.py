"""Reminders and notices about courses, in each recipient's own language.

A reminder is an outbox message due the day before the course starts (at the
configured local time), with the topic `course:<id>`, so that a cancellation or a change
can withdraw or replace it. It survives restarts and goes out once.
"""

from __future__ import annotations

import datetime as dt

from handlers.context import Ctx
from handlers.replies import Reply
from locales import translator
from storage.models import Course, Signup, User, utcnow


def topic(course: Course) -> str:
    return f"course:{course.id}"


def remind(ctx: Ctx, user: User, course: Course) -> None:
    """(Re)schedule her day-before reminder for `course`."""
    at = ctx.options.utc(course.starts_on - dt.timedelta(days=1), ctx.options.reminder_time)
    if at <= utcnow():
        return  # it starts too soon for a day-before reminder; the confirmation said when
    _ = translator(user.lang)
    base = course.base
    text = _(
        "⏰ Reminder: your course “{title}” starts tomorrow, {day}, {hours}, at {place} "
        "({address}).",
        title=_.text(course.title, course.title_en),
        day=_.date(course.starts_on),
        hours=course.daily_hours or "",
        place=_.text(base.name, base.name_en),
        address=_.text(base.address, base.address_en)
        + (f" {_.text(course.room)}" if course.room else ""),
    )
    ctx.notify(user.key, [Reply(text)], at=at, topic=topic(course))


async def withdraw_reminder(ctx: Ctx, user: User, course: Course) -> None:
    await ctx.repos.outbox.withdraw(user.key, topic(course))


async def seat_freed(ctx: Ctx, promoted: Signup, course: Course) -> None:
    """Tell the first on the waiting list she has a seat now, and remind her later."""
    user = await ctx.repos.users.by_id(promoted.user_id)
    if user is None:
        return
    _ = translator(user.lang)
    text = _(
        "🎉 Good news: a seat freed up on “{title}” ({day}). Your place is confirmed.",
        title=_.text(course.title, course.title_en),
        day=_.date(course.starts_on),
    )
    ctx.notify(user.key, [Reply(text)])
    remind(ctx, user, course)
