"""Reading and showing the answers of the catalogue's guided forms
(`handlers.catalogue_form`), shared by the course and the fair forms: typed texts, dates
and times, the code, and whether an answer changes what is there now.

Each function gets the conversation (`ctx`) and, where the answer depends on others,
the form's run (`Run`: its `answers`, and `was`, the course or fair as it is, in an
edit); a wrong answer raises `Invalid` with what to type instead.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from handlers.catalogue import catalogue
from handlers.catalogue_form import Run
from handlers.context import Ctx
from handlers.router import Invalid
from handlers.typed_values import AmbiguousDate, read_date, read_time
from storage.catalogue import CODE
from storage.importer import LAST_DAY

Picked = list[tuple[str, Any]]
#: how far ahead a course or fair may be planned, years
YEARS_AHEAD = 3


def changed(run: Run, key: str, value: Any) -> bool:
    """Whether `value` is new: always in a new one, else unlike the course or fair now."""
    return run["mode"] == "new" or run.get("was", {}).get(key) != value


def show_text(_ctx: Ctx, value: Any) -> str:
    return str(value) if value else "—"


def text_reader(limit: int):  # type: ignore[no-untyped-def]
    """A step's `read` for a text of at most `limit` characters."""

    async def read(ctx: Ctx, _run: Run, text: str) -> str:
        return typed_text(ctx, text, limit)

    return read


async def no_english(ctx: Ctx, _run: Run) -> Picked:
    return [(ctx._("⏭ No English title"), "")]


async def made_code(ctx: Ctx, _run: Run) -> Picked:
    return [(ctx._("🎲 Make one for me"), None)]


async def read_code(ctx: Ctx, _run: Run, text: str) -> str:
    """A code she gives: its form, and no other course or fair has it."""
    code = text.strip()
    if not CODE.fullmatch(code):
        raise Invalid(ctx._("A code has 2 to 40 letters, digits, - or _, like ys-2026-12."))
    if not await catalogue(ctx).code_free(code):
        raise Invalid(ctx._("The code {code} is taken. Please choose another.", code=code))
    return code


def show_code(ctx: Ctx, value: Any) -> str:
    return str(value) if value else ctx._("made when saved")


# --- reading typed answers ------------------------------------------------------------
def typed_text(ctx: Ctx, text: str, limit: int) -> str:
    """A typed text of at most `limit` characters, on one line (a title, a room, a
    venue: line breaks and runs of spaces become one space; the core has already taken
    out control and invisible characters)."""
    text = " ".join(text.split())
    if not text:
        raise Invalid(ctx._("I received an empty message. Please type an answer or tap a button."))
    if len(text) > limit:
        raise Invalid(
            ctx._("That message is too long. Please keep it under {limit} characters.", limit=limit)
        )
    return text


def typed_day(ctx: Ctx, text: str) -> dt.date:
    """A typed date (`2026-12-09`, `12月9日`, `9 Dec`: the next such day), or `Invalid`."""
    try:
        day = read_date(text, ctx.today(), ahead=True)
    except AmbiguousDate:
        day = None
    if day is None:
        raise Invalid(ctx._("Please type a date like 2026-12-09 or 12月9日."))
    if day > min(LAST_DAY, ctx.today() + dt.timedelta(days=YEARS_AHEAD * 366)):
        raise Invalid(ctx._("Please check the year of that date."))
    return day


def typed_clock(ctx: Ctx, text: str) -> str:
    """A typed time of day as `HH:MM` (`9:30`, `下午3点`), or `Invalid`."""
    at = read_time(text)
    if at is None:
        raise Invalid(ctx._("Please type a time like 15:30 or 下午3点, or tap one."))
    return at.strftime("%H:%M")


def day_of(value: Any) -> dt.date | None:
    """A date kept in a form (`2026-12-09`), or None."""
    return dt.date.fromisoformat(value) if isinstance(value, str) and value else None


def show_day(ctx: Ctx, value: Any) -> str:
    day = day_of(value)
    return ctx._.date(day) if day else "—"


def day_pick(ctx: Ctx, day: dt.date, note: str = "") -> tuple[str, str]:
    """A date to tap: `Mon, 14 Dec` (and a note), kept as `2026-12-14`."""
    label = ctx._.weekday_date(day)
    return (f"{label} ({note})" if note else label), day.isoformat()


def future_day(ctx: Ctx, day: dt.date) -> None:
    """Refuse a day that has passed (`Invalid`)."""
    if day < ctx.today():
        raise Invalid(ctx._("That date has passed. Please give a later one."))
