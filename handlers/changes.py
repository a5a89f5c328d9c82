"""When staff change a course or a fair (a new date or room, or a cancellation), everyone
holding a place hears about it in her own language, and her reminder moves with it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from handlers import fairs, reminders
from handlers.context import Ctx, Options, outside
from handlers.replies import Reply
from storage.models import FairRegistration, Signup
from storage.repositories import Repos


async def announce(repos: Repos, options: Options, changes: list[tuple[str, int, set[str]]]) -> int:
    """Tell each person concerned; returns how many notices were queued."""
    sent = 0
    for table, ident, fields in changes:
        if table == "courses":
            if fields - {"seats"}:
                sent += await _course_changed(repos, options, ident)
            sent += await _seats_added(repos, options, ident)
        elif table == "job_fairs":
            sent += await _fair_changed(repos, options, ident)
    return sent


async def _tell_each(
    repos: Repos,
    options: Options,
    holders: Sequence[Signup | FairRegistration],
    tell: Callable[[Ctx, Any], Awaitable[str]],
) -> int:
    """For each person holding a place: `tell` updates her place and reminder and says
    what changed; the notice goes to her outbox. Returns how many were told."""
    sent = 0
    for holder in holders:
        user = await repos.users.by_id(holder.user_id)
        if user is None:
            continue
        ctx = outside(repos, user, options)
        ctx.notify(user.key, [Reply(await tell(ctx, holder))])
        sent += 1
    return sent


async def _course_changed(repos: Repos, options: Options, course_id: int) -> int:
    course = await repos.courses.get(course_id)
    if course is None:
        return 0

    async def tell(ctx: Ctx, signup: Signup) -> str:
        _ = ctx._
        await reminders.withdraw_reminder(ctx, ctx.user, course)
        if course.status == "cancelled":
            signup.status = "cancelled"
            return _(
                "⛔ Sorry: the course “{title}” has been cancelled. Your place is released; "
                "look for another course in the menu.",
                title=_.text(course.title, course.title_en),
            )
        if signup.status == "confirmed":
            reminders.remind(ctx, ctx.user, course)
        return _(
            "📢 Change to your course “{title}”: it now runs {start} to {end}, {hours}, "
            "at {place}.",
            title=_.text(course.title, course.title_en),
            start=_.date(course.starts_on),
            end=_.date(course.ends_on),
            hours=course.daily_hours,
            place=_.text(course.base.name, course.base.name_en)
            + (f" {_.text(course.room)}" if course.room else ""),
        )

    told = await _tell_each(repos, options, await repos.signups.of_course(course.id), tell)
    if course.status == "cancelled":
        await repos.signups.recount(course.id)  # the released seats are free again
    return told


async def _seats_added(repos: Repos, options: Options, course_id: int) -> int:
    """Seats free on an open course (staff added seats, or a change freed some) go to
    the people waiting, first come first served; each is told. Returns how many."""
    course = await repos.courses.get(course_id)
    if course is None or course.status != "open":
        return 0
    told = 0
    while (promoted := await repos.signups.promote_next(course.id)) is not None:
        user = await repos.users.by_id(promoted.user_id)
        if user is not None:
            await reminders.seat_freed(outside(repos, user, options), promoted, course)
            told += 1
    return told


async def _fair_changed(repos: Repos, options: Options, fair_id: int) -> int:
    fair = await repos.fairs.get(fair_id)
    if fair is None:
        return 0

    async def tell(ctx: Ctx, registration: FairRegistration) -> str:
        _ = ctx._
        await ctx.repos.outbox.withdraw(ctx.user.key, fairs.topic(fair))
        if fair.status == "cancelled":
            registration.status = "cancelled"
            return _(
                "⛔ Sorry: the job fair “{title}” has been cancelled.", title=fairs.title(_, fair)
            )
        fairs.remind(ctx, ctx.user, fair)
        return _(
            "📢 Change to the job fair “{title}”: now {day} at {time}, at {venue}.",
            title=fairs.title(_, fair),
            day=_.date(fair.starts_at.date()),
            time=_.time(fair.starts_at),
            venue=fairs.venue(_, fair),
        )

    return await _tell_each(repos, options, await repos.fairs.registered(fair.id), tell)
