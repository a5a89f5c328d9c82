"""The answers of the course form (`handlers.catalogue_course`): the kind of work and
the base as choices, the titles, the dates (in order, sign-up closing by the start),
the daily hours, the seats (never fewer than the people seated) and the room. Each
`*_picks` gives the buttons of a step, each `read_*` reads what she typed, each
`check_*` checks a tapped or typed answer (`Invalid` with what to do instead).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from handlers.catalogue import catalogue
from handlers.catalogue_answers import (
    Picked,
    changed,
    day_of,
    day_pick,
    future_day,
    show_day,
    typed_day,
    typed_text,
)
from handlers.catalogue_form import Run
from handlers.context import Ctx
from handlers.router import Invalid
from handlers.typed_values import chinese_number, terms_in
from storage.vocab import KINDS_OF_WORK

#: the most seats a course may have (as the import allows)
MOST_SEATS = 100_000
HOURS = ("09:00-17:00", "08:30-17:30", "09:00-12:00", "14:00-17:30")


# --- kind of work, base, titles ------------------------------------------------------------
async def kind_picks(ctx: Ctx, _run: Run) -> Picked:
    return [(ctx._(term.label), term.name) for term in KINDS_OF_WORK]


async def read_kind(ctx: Ctx, _run: Run, text: str) -> str:
    found = terms_in(KINDS_OF_WORK, list(KINDS_OF_WORK), text)
    if len(found) != 1:
        raise Invalid(ctx._("Please tap the kind of work, or type its name, like 月嫂."))
    return found[0].name


async def base_picks(ctx: Ctx, _run: Run) -> Picked:
    return [(ctx._.text(b.name, b.name_en), b.id) for b in await ctx.repos.staff.bases()]


async def check_base(ctx: Ctx, _run: Run, value: Any) -> None:
    if not isinstance(value, int) or await ctx.repos.staff.base(value) is None:
        raise Invalid(ctx._("That training base is no longer there."))


async def show_base(ctx: Ctx, value: Any) -> str:
    base = await ctx.repos.staff.base(value) if isinstance(value, int) else None
    return ctx._.text(base.name, base.name_en) if base is not None else "—"


async def title_picks(ctx: Ctx, run: Run) -> Picked:
    """A new course's usual title for its kind of work (`月嫂培训班`), to tap."""
    kind = KINDS_OF_WORK.of_name(run["answers"].get("track"))
    if run["mode"] != "new" or kind is None:
        return []
    usual = f"{kind.name.split('/')[0]}培训班"
    return [(ctx._.text(usual), usual)]


async def read_title(ctx: Ctx, _run: Run, text: str) -> str:
    return typed_text(ctx, text, 120)


# --- dates ---------------------------------------------------------------------------------
async def start_picks(ctx: Ctx, run: Run) -> Picked:
    now = day_of(run["answers"].get("starts_on"))
    if run["mode"] == "edit" and now is not None:
        return [day_pick(ctx, now + dt.timedelta(days=7), ctx._("a week later"))]
    monday = ctx.today() + dt.timedelta(days=7 - ctx.today().weekday())
    return [day_pick(ctx, monday + dt.timedelta(weeks=n)) for n in range(3)]


async def check_start(ctx: Ctx, run: Run, value: Any) -> None:
    day = day_of(value)
    if day is None:
        raise Invalid(ctx._("Please type a date like 2026-12-09 or 12月9日."))
    if changed(run, "starts_on", value) and day <= ctx.today():
        raise Invalid(
            ctx._(
                "A course starts after today, so that people can sign up. Please give a later date."
            )
        )


async def read_start(ctx: Ctx, run: Run, text: str) -> str:
    value = typed_day(ctx, text).isoformat()
    await check_start(ctx, run, value)
    return value


def after_start(run: Run) -> None:
    """A new start: a new course's later answers that no longer fit are asked again; a
    moved course's sign-up closes by its new start at the latest."""
    answers = run["answers"]
    start = day_of(answers.get("starts_on"))
    closes = day_of(answers.get("signup_closes_on"))
    if start is None:
        return
    if run["mode"] == "new":
        end = day_of(answers.get("ends_on"))
        if end is not None and end < start:
            answers.pop("ends_on")
        if closes is not None and closes > start:
            answers.pop("signup_closes_on")
    elif closes is not None and closes > start:
        answers["signup_closes_on"] = start.isoformat()


async def end_picks(ctx: Ctx, run: Run) -> Picked:
    answers = run["answers"]
    start = day_of(answers.get("starts_on")) or ctx.today()
    picks = []
    was = run.get("was", {})
    first, last = day_of(was.get("starts_on")), day_of(was.get("ends_on"))
    if run["mode"] == "edit" and first and last and start != first:
        picks.append(day_pick(ctx, start + (last - first), ctx._("as long as before")))
    for days in (5, 14, 26):
        note = ctx._.ngettext("{n} day", "{n} days", days)
        picks.append(day_pick(ctx, start + dt.timedelta(days=days - 1), note))
    return picks


async def check_end(ctx: Ctx, run: Run, value: Any) -> None:
    day, start = day_of(value), day_of(run["answers"].get("starts_on"))
    if day is None:
        raise Invalid(ctx._("Please type a date like 2026-12-09 or 12月9日."))
    if start is not None and day < start:
        raise Invalid(
            ctx._(
                "The course cannot end before it starts ({date}). Please give a later date.",
                date=ctx._.date(start),
            )
        )
    if changed(run, "ends_on", value):
        future_day(ctx, day)


async def read_end(ctx: Ctx, run: Run, text: str) -> str:
    value = typed_day(ctx, text).isoformat()
    await check_end(ctx, run, value)
    return value


async def closes_picks(ctx: Ctx, run: Run) -> Picked:
    start = day_of(run["answers"].get("starts_on"))
    picks: Picked = []
    if start is not None and start - dt.timedelta(days=1) >= ctx.today():
        eve = start - dt.timedelta(days=1)
        picks.append(
            (ctx._("The day before it starts ({date})", date=ctx._.date(eve)), eve.isoformat())
        )
    picks.append((ctx._("Until it starts"), None))
    return picks


async def check_closes(ctx: Ctx, run: Run, value: Any) -> None:
    day, start = day_of(value), day_of(run["answers"].get("starts_on"))
    if day is None:
        return  # until it starts
    if start is not None and day > start:
        raise Invalid(
            ctx._(
                "Sign-up must close by the day the course starts ({date}). Please give an "
                "earlier date.",
                date=ctx._.date(start),
            )
        )
    if changed(run, "signup_closes_on", value):
        future_day(ctx, day)


async def read_closes(ctx: Ctx, run: Run, text: str) -> str:
    value = typed_day(ctx, text).isoformat()
    await check_closes(ctx, run, value)
    return value


def show_closes(ctx: Ctx, value: Any) -> str:
    return show_day(ctx, value) if value else ctx._("until it starts")


# --- hours, seats, room, code ----------------------------------------------------------------
async def hours_picks(_ctx: Ctx, _run: Run) -> Picked:
    return [(hours, hours) for hours in HOURS]


async def read_hours(ctx: Ctx, _run: Run, text: str) -> str:
    return typed_text(ctx, text, 40)


async def seat_picks(_ctx: Ctx, _run: Run) -> Picked:
    return [(str(n), n) for n in (20, 30, 40, 50)]


async def check_seats(ctx: Ctx, run: Run, value: Any) -> None:
    if not isinstance(value, int) or not 1 <= value <= MOST_SEATS:
        raise Invalid(
            ctx._(
                "Please type the number of seats, from 1 to {most}.", most=ctx._.number(MOST_SEATS)
            )
        )
    if run["mode"] == "edit":
        course = await catalogue(ctx).course(int(run["id"]))
        taken = course.seats_taken if course is not None else 0
        if value < taken:
            raise Invalid(
                ctx._(
                    "{taken} people already have a seat: keep at least {taken} seats, or "
                    "cancel their places first.",
                    taken=taken,
                )
            )


async def read_seats(ctx: Ctx, run: Run, text: str) -> int:
    t = text.strip().replace(",", "")
    for word in ("个", "個", "人", "名", "seats", "seat"):
        t = t.removesuffix(word).strip()
    value = int(t) if t.isascii() and t.isdigit() and len(t) <= 6 else chinese_number(t)
    if value is None:
        value = -1
    await check_seats(ctx, run, value)
    return value


async def no_room(ctx: Ctx, _run: Run) -> Picked:
    return [(ctx._("⏭ No room yet"), "")]


async def read_room(ctx: Ctx, _run: Run, text: str) -> str:
    return typed_text(ctx, text, 80)
