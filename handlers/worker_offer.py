"""Parts 4–8 of the worker profile: what she offers households.

    WP_PLACES ▶ WP_MODES ▶ WP_PAY (each way of working) ▶ WP_LANGUAGES ▶ WP_FROM
        (▶ WP_FROM_DATE) ▶ WP_UNTIL ▶ WP_INTRO

Where she will work, how (live-in, by the day, by the hour) and the pay she expects
for each, the languages she speaks (toggles, `handlers.worker_toggles`), when she is
available, and a few words about herself. The walk itself is `handlers.worker_form`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from handlers.context import Ctx
from handlers.router import Invalid, Replies
from handlers.typed_values import pay_range
from handlers.worker_form import (
    WP_FROM,
    WP_FROM_DATE,
    WP_INTRO,
    WP_LANGUAGES,
    WP_MODES,
    WP_PAY,
    WP_PLACES,
    WP_UNTIL,
    drop_from_form,
    finish,
    heading,
    her_form,
    her_profile,
    nav,
    no_contact,
    no_id_number,
    router,
    save,
    set_in_form,
    typed_date,
)
from handlers.worker_toggles import TOGGLES, done_button, need_one, toggle_rows
from storage.vocab import LANGUAGES, MODES

MAX_INTRO = 300
#: the most a pay range may ask, yuan: a month, an hour (more is a typing mistake)
MAX_MONTHLY, MAX_HOURLY = 100_000, 500
MIN_MONTHLY = 500  # less, for a whole month, is an hourly rate or a slip

#: typical pay ranges offered as buttons (../shared/domain.md), yuan
TYPICAL = {
    "live_in": [(4000, 6000), (6000, 8000), (8000, 10000)],
    "day": [(3000, 5000), (5000, 7000), (7000, 9000)],
    "hourly": [(30, 50), (50, 80)],
}
TYPICAL_MATERNITY = {  # a 月嫂 earns more (¥7–10k a job in smaller cities, ¥12–25k in tier 1)
    "live_in": [(7000, 10000), (10000, 15000), (15000, 20000)],
    "day": [(6000, 9000), (9000, 12000)],
}


# --- 4. places --------------------------------------------------------------------------
@router.prompt(WP_PLACES)
async def ask_places(ctx: Ctx) -> Replies:
    text = ctx._("Where will you work? Tap every place (Maoming's counties first), then “✔ Done”.")
    rows = toggle_rows(ctx, WP_PLACES, per_row=3)
    return [ctx.reply(heading(ctx, WP_PLACES, text), *rows, done_button(ctx, WP_PLACES), *nav(ctx))]


@router.button(WP_PLACES, "done")
async def places_done(ctx: Ctx, _arg: str) -> Replies:
    chosen = need_one(ctx, WP_PLACES)
    profile = await her_profile(ctx)
    await save(ctx, profile, places=[t.id for t in TOGGLES[WP_PLACES] if t.id in chosen])
    drop_from_form(ctx, "pick")
    return await finish(ctx, "places")


# --- 5. ways of working and pay ---------------------------------------------------------
@router.prompt(WP_MODES)
async def ask_modes(ctx: Ctx) -> Replies:
    text = ctx._(
        "How will you work? Tap every way you will work, then “✔ Done”. Next you say the "
        "pay you expect for each."
    )
    rows = toggle_rows(ctx, WP_MODES, per_row=1)
    return [ctx.reply(heading(ctx, WP_MODES, text), *rows, done_button(ctx, WP_MODES), *nav(ctx))]


@router.button(WP_MODES, "done")
async def modes_done(ctx: Ctx, _arg: str) -> Replies:
    chosen = [m.id for m in MODES if m.id in need_one(ctx, WP_MODES)]
    profile = await her_profile(ctx)
    kept = {m: v for m, v in (profile.pay or {}).items() if m in chosen and v}
    await save(ctx, profile, pay=kept)
    drop_from_form(ctx, "pick")
    set_in_form(ctx, pay_todo=chosen)
    return await ctx.goto(WP_PAY)


def _pay_mode(ctx: Ctx) -> str | None:
    todo = [m for m in her_form(ctx).get("pay_todo") or [] if MODES.get(m)]
    return todo[0] if todo else None


def typical(mode: str, kinds: Sequence[str]) -> list[tuple[int, int]]:
    """The pay ranges offered as buttons: a maternity nurse's are higher."""
    if "maternity" in kinds and mode in TYPICAL_MATERNITY:
        return TYPICAL_MATERNITY[mode]
    return TYPICAL[mode]


def money(ctx: Ctx, mode: str, low: int, high: int) -> str:
    """`¥4,000–6,000 a month`, `¥30–50 an hour`."""
    _ = ctx._
    amount = _.money_range(low * 100, high * 100)
    if mode == "hourly":
        return _("{money} an hour", money=amount)
    return _("{money} a month", money=amount)


@router.prompt(WP_PAY)
async def ask_pay(ctx: Ctx) -> Replies:
    _ = ctx._
    mode = _pay_mode(ctx)
    if mode is None:
        return await finish(ctx, "modes")
    profile = await her_profile(ctx)
    term = MODES.get(mode)
    assert term is not None
    if mode == "hourly":
        text = _(
            "{mode}: what pay do you expect, in yuan an hour? Tap a range, or type one like 40-60.",
            mode=_(term.label),
        )
    else:
        text = _(
            "{mode}: what pay do you expect, in yuan a month? Tap a range, or type one "
            "like 5000-7000.",
            mode=_(term.label),
        )
    ranges = typical(mode, profile.kinds or [])
    rows = [[ctx.button(money(ctx, mode, lo, hi), "range", i)] for i, (lo, hi) in enumerate(ranges)]
    current = (profile.pay or {}).get(mode)
    if current:
        rows.append([ctx.button(_("Keep: {answer}", answer=money(ctx, mode, *current)), "keep")])
    rows.append([ctx.button(_("◀ Back"), "back_modes")])
    return [ctx.reply(text, *rows)]


async def _got_pay(ctx: Ctx, mode: str, low: int, high: int) -> Replies:
    profile = await her_profile(ctx)
    await save(ctx, profile, pay={**(profile.pay or {}), mode: [low, high]})
    return await _next_pay(ctx)


async def _next_pay(ctx: Ctx) -> Replies:
    todo = [m for m in her_form(ctx).get("pay_todo") or [] if MODES.get(m)][1:]
    set_in_form(ctx, pay_todo=todo)
    if todo:
        return await ctx.goto(WP_PAY)
    drop_from_form(ctx, "pay_todo")
    return await finish(ctx, "modes")


@router.button(WP_PAY, "range")
async def pay_tapped(ctx: Ctx, arg: str) -> Replies:
    mode = _pay_mode(ctx)
    profile = await her_profile(ctx)
    ranges = typical(mode, profile.kinds or []) if mode else []
    if not arg.isdecimal() or int(arg) >= len(ranges) or mode is None:
        raise Invalid(ctx._("I don't recognise that button."))
    return await _got_pay(ctx, mode, *ranges[int(arg)])


@router.button(WP_PAY, "keep")
async def pay_kept(ctx: Ctx, _arg: str) -> Replies:
    mode = _pay_mode(ctx)
    profile = await her_profile(ctx)
    if mode is None or not (profile.pay or {}).get(mode):
        raise Invalid(ctx._("I don't recognise that button."))
    return await _next_pay(ctx)


@router.text(WP_PAY)
async def pay_typed(ctx: Ctx, text: str) -> Replies:
    _ = ctx._
    mode = _pay_mode(ctx)
    if mode is None:
        return await finish(ctx, "modes")
    found = pay_range(text)  # a typed number is pay: the buttons are lettered here
    hourly = mode == "hourly"
    if found is None:
        if hourly:
            raise Invalid(_("Please type the pay as numbers, like 40-60 (yuan an hour)."))
        raise Invalid(_("Please type the pay as numbers, like 5000-7000 (yuan a month)."))
    low, high = found
    if low <= 0 or high <= 0:
        raise Invalid(_("The pay cannot be zero. Please type what you expect, like 5000-7000."))
    if low > high:
        raise Invalid(
            _(
                "The first amount is more than the second. Please put the lower amount "
                "first, like 5000-7000."
            )
        )
    if hourly and high > MAX_HOURLY:
        raise Invalid(
            _(
                "That is more than {most} an hour. Please check the amount.",
                most=_.money(MAX_HOURLY * 100),
            )
        )
    if not hourly and high > MAX_MONTHLY:
        raise Invalid(
            _(
                "That is more than {most} a month. Please check the amount.",
                most=_.money(MAX_MONTHLY * 100),
            )
        )
    if not hourly and low < MIN_MONTHLY:
        raise Invalid(
            _(
                "That is very little for a whole month. Please type the pay for a month in "
                "yuan, like 5000-7000."
            )
        )
    return await _got_pay(ctx, mode, low, high)


@router.button(WP_PAY, "back_modes")
async def back_modes(ctx: Ctx, _arg: str) -> Replies:
    profile = await her_profile(ctx)
    drop_from_form(ctx, "pay_todo")
    set_in_form(ctx, pick=[m.id for m in MODES if m.id in (profile.pay or {})])
    return await ctx.goto(WP_MODES)


# --- 6. languages -----------------------------------------------------------------------
@router.prompt(WP_LANGUAGES)
async def ask_languages(ctx: Ctx) -> Replies:
    text = ctx._("Which languages and dialects do you speak? Tap them, then “✔ Done”.")
    rows = toggle_rows(ctx, WP_LANGUAGES)
    return [
        ctx.reply(
            heading(ctx, WP_LANGUAGES, text), *rows, done_button(ctx, WP_LANGUAGES), *nav(ctx)
        )
    ]


@router.button(WP_LANGUAGES, "done")
async def languages_done(ctx: Ctx, _arg: str) -> Replies:
    chosen = need_one(ctx, WP_LANGUAGES)
    profile = await her_profile(ctx)
    await save(ctx, profile, languages=[t.id for t in LANGUAGES if t.id in chosen])
    drop_from_form(ctx, "pick")
    return await finish(ctx, "languages")


# --- 7. dates available -----------------------------------------------------------------
@router.prompt(WP_FROM)
async def ask_from(ctx: Ctx) -> Replies:
    _ = ctx._
    text = _("When can you start work? Tap “From now”, or type the date, like 2026-12-09.")
    rows = [
        [ctx.button(_("▶ From now"), "now"), ctx.button(_("📅 From a date"), "from_date")],
    ]
    return [ctx.reply(heading(ctx, WP_FROM, text), *rows, *nav(ctx))]


async def _got_from(ctx: Ctx, day: dt.date | None) -> Replies:
    profile = await her_profile(ctx)
    fields: dict[str, Any] = {"available_from": day}
    if day and profile.available_until and profile.available_until < day:
        fields["available_until"] = None
    await save(ctx, profile, **fields)
    return await ctx.goto(WP_UNTIL)


@router.button(WP_FROM, "now")
async def from_now(ctx: Ctx, _arg: str) -> Replies:
    return await _got_from(ctx, None)


router.goes("from_date", WP_FROM_DATE, WP_FROM)
router.goes("back_from", WP_FROM, WP_FROM_DATE, WP_UNTIL)


def _start_date(ctx: Ctx, text: str) -> dt.date | None:
    day = typed_date(ctx, text, ahead=True)
    if day < ctx.today():
        raise Invalid(ctx._("That day has passed. Please type today's date or a later one."))
    return None if day == ctx.today() else day


@router.text(WP_FROM)
async def from_typed(ctx: Ctx, text: str) -> Replies:
    return await _got_from(ctx, _start_date(ctx, text))


@router.prompt(WP_FROM_DATE)
async def ask_from_date(ctx: Ctx) -> Replies:
    _ = ctx._
    text = _("From which day can you work? Type the date, like 2026-12-09 or 12月9日.")
    return [ctx.reply(text, [ctx.button(_("◀ Back"), "back_from")])]


@router.text(WP_FROM_DATE)
async def from_date_typed(ctx: Ctx, text: str) -> Replies:
    return await _got_from(ctx, _start_date(ctx, text))


@router.prompt(WP_UNTIL)
async def ask_until(ctx: Ctx) -> Replies:
    _ = ctx._
    text = _("Until when can you work? Tap “No end date”, or type the last day, like 2027-06-30.")
    rows = [[ctx.button(_("♾ No end date"), "no_end")], [ctx.button(_("◀ Back"), "back_from")]]
    return [ctx.reply(text, *rows)]


@router.button(WP_UNTIL, "no_end")
async def no_end(ctx: Ctx, _arg: str) -> Replies:
    profile = await her_profile(ctx)
    return await finish(ctx, "dates", await save(ctx, profile, available_until=None))


@router.text(WP_UNTIL)
async def until_typed(ctx: Ctx, text: str) -> Replies:
    day = typed_date(ctx, text, ahead=True)
    profile = await her_profile(ctx)
    start = profile.available_from or ctx.today()
    if day < start:
        raise Invalid(
            ctx._(
                "That is before the day you can start ({start}). Please type a later date.",
                start=ctx._.date(start),
            )
        )
    return await finish(ctx, "dates", await save(ctx, profile, available_until=day))


# --- 8. introduction --------------------------------------------------------------------
@router.prompt(WP_INTRO)
async def ask_intro(ctx: Ctx) -> Replies:
    _ = ctx._
    profile = await her_profile(ctx)
    text = _(
        "A few words about yourself for households, in your own words (at most {most} "
        "characters): your experience, what you are good at.",
        most=MAX_INTRO,
    )
    rows = []
    if profile.intro:
        text += "\n" + _("Now: “{intro}”", intro=profile.intro)
        rows.append([ctx.button(_("🗑 Remove my introduction"), "clear_intro")])
    return [ctx.reply(heading(ctx, WP_INTRO, text), *rows, *nav(ctx))]


@router.text(WP_INTRO)
async def got_intro(ctx: Ctx, text: str) -> Replies:
    cleaned = " ".join(text.split())
    no_id_number(ctx, cleaned)
    no_contact(ctx, cleaned)
    if len(cleaned) > MAX_INTRO:
        raise Invalid(
            ctx._(
                "That is {n} characters; please keep it to {most}. (What you wrote is still "
                "above: copy it and shorten it.)",
                n=len(cleaned),
                most=MAX_INTRO,
            )
        )
    profile = await her_profile(ctx)
    return await finish(ctx, "intro", await save(ctx, profile, intro=cleaned))


@router.button(WP_INTRO, "clear_intro")
async def clear_intro(ctx: Ctx, _arg: str) -> Replies:
    profile = await her_profile(ctx)
    return await finish(ctx, "intro", await save(ctx, profile, intro=""))
