"""Parts 4–5 of a household's request: the dates and the budget. The walk itself is
`handlers.request_form`.

    a 月嫂: (RQ_CONSENT ▶) RQ_DUE ▶ RQ_LENGTH (26 or 42 days, from the due date)
    others: RQ_START ▶ RQ_LENGTH (months; days for hourly help)
    ▶ RQ_BUDGET (a month, or an hour for hourly help)
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from handlers.context import Ctx
from handlers.request_form import (
    MAX_DUE_DAYS,
    MAX_START_DAYS,
    RQ_BUDGET,
    RQ_CONSENT,
    RQ_DUE,
    RQ_LENGTH,
    RQ_START,
    finish,
    heading,
    her_form,
    her_request,
    money,
    nav,
    router,
    set_in_form,
    typed_date,
)
from handlers.router import Invalid, Replies
from handlers.typed_values import chinese_number, pay_range
from handlers.worker_offer import MAX_HOURLY, MAX_MONTHLY, MIN_MONTHLY, typical


# --- 4. dates ---------------------------------------------------------------------------
@router.prompt(RQ_DUE)
async def ask_due(ctx: Ctx) -> Replies:
    _ = ctx._
    request = await her_request(ctx)
    text = _(
        "When is the baby due (预产期)? Type the date, like 2026-12-09. A maternity nurse "
        "usually starts at the birth."
    )
    if request.due_on:
        text += "\n" + _("Now: {date}", date=_.date(request.due_on))
    rows = [[ctx.button(_("📅 Give a start date instead"), "start_instead")]]
    if request.due_on:
        rows.insert(0, [ctx.button(_("✔ Keep this date"), "keep_due")])
    return [ctx.reply(heading(ctx, RQ_DUE, text), *rows, *nav(ctx))]


@router.text(RQ_DUE)
async def due_typed(ctx: Ctx, text: str) -> Replies:
    _ = ctx._
    day = typed_date(ctx, text)
    today = ctx.today()
    if day < today:
        raise Invalid(
            _("That day has passed. If the baby is born already, tap “Give a start date instead”.")
        )
    if day > today + dt.timedelta(days=MAX_DUE_DAYS):
        raise Invalid(
            _(
                "That is more than nine and a half months away. Please check the due date "
                "and type it again."
            )
        )
    request = await her_request(ctx)
    await ctx.repos.requests.edit(request, due_on=day, starts_on=day)
    return await ctx.goto(RQ_LENGTH)


@router.button(RQ_DUE, "keep_due")
async def keep_due(ctx: Ctx, _arg: str) -> Replies:
    request = await her_request(ctx)
    if request.due_on is None:
        raise Invalid(ctx._("I don't recognise that button."))
    return await ctx.goto(RQ_LENGTH)


router.goes("start_instead", RQ_START, RQ_DUE)


#: start dates offered as buttons: days from today
_SOON = {"0": 0, "7": 7, "14": 14, "30": 30}


@router.prompt(RQ_START)
async def ask_start(ctx: Ctx) -> Replies:
    _ = ctx._
    request = await her_request(ctx)
    text = _("When should the helper start? Tap, or type the date, like 2026-12-09.")
    if request.starts_on:
        text += "\n" + _("Now: {date}", date=_.date(request.starts_on))
    names = {
        "0": _("As soon as possible"),
        "7": _("In a week"),
        "14": _("In two weeks"),
        "30": _("In a month"),
    }
    buttons = [ctx.button(label, "soon", key) for key, label in names.items()]
    rows = [buttons[:2], buttons[2:]]
    if request.kind == "maternity":
        rows.append([ctx.button(_("👶 Give the baby's due date instead"), "due_instead")])
    return [ctx.reply(heading(ctx, RQ_START, text), *rows, *nav(ctx))]


async def _got_start(ctx: Ctx, day: dt.date) -> Replies:
    request = await her_request(ctx)
    await ctx.repos.requests.edit(request, starts_on=day, due_on=None)
    return await ctx.goto(RQ_LENGTH)


@router.button(RQ_START, "soon")
async def start_soon(ctx: Ctx, key: str) -> Replies:
    if key not in _SOON:
        raise Invalid(ctx._("I don't recognise that button."))
    return await _got_start(ctx, ctx.today() + dt.timedelta(days=_SOON[key]))


@router.text(RQ_START)
async def start_typed(ctx: Ctx, text: str) -> Replies:
    _ = ctx._
    day = typed_date(ctx, text)
    if day < ctx.today():
        raise Invalid(_("That day has passed. Please type today's date or a later one."))
    if day > ctx.today() + dt.timedelta(days=MAX_START_DAYS):
        raise Invalid(_("That is more than a year away. Please type a nearer start date."))
    return await _got_start(ctx, day)


@router.button(RQ_START, "due_instead")
async def due_instead(ctx: Ctx, _arg: str) -> Replies:
    request = await her_request(ctx)
    if request.kind != "maternity":
        raise Invalid(ctx._("I don't recognise that button."))
    if request.sensitive_consent_at is not None:
        return await ctx.goto(RQ_DUE)
    set_in_form(ctx, consent_next="dates")
    return await ctx.goto(RQ_CONSENT)


def _lengths(ctx: Ctx, kind: str, mode: str) -> list[tuple[int, str]]:
    """The lengths offered (days, label); 0 is longer, with no fixed end."""
    _ = ctx._
    if kind == "maternity":
        return [(26, _("26 days")), (42, _("42 days"))]
    if mode == "hourly":
        return [(1, _("1 day")), (7, _("1 week")), (30, _("1 month")), (0, _("Longer"))]
    return [
        (30, _("1 month")),
        (90, _("3 months")),
        (180, _("6 months")),
        (0, _("Longer")),
    ]


@router.prompt(RQ_LENGTH)
async def ask_length(ctx: Ctx) -> Replies:
    _ = ctx._
    request = await her_request(ctx)
    start = _.date(request.starts_on) if request.starts_on else "—"
    if request.kind == "maternity":
        text = _(
            "The job starts on {date}. How long? A maternity nurse's job is usually 26 or 42 days.",
            date=start,
        )
    elif request.mode == "hourly":
        text = _("The help starts on {date}. For how many days? Tap, or type a number.", date=start)
    else:
        text = _(
            "The help starts on {date}. For how long? Tap, or type a number of months.", date=start
        )
    choices = _lengths(ctx, request.kind, request.mode)
    buttons = [ctx.button(label, "length", days) for days, label in choices]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([ctx.button(_("◀ Change the date"), "back_dates")])
    return [ctx.reply(heading(ctx, RQ_LENGTH, text), *rows, *nav(ctx))]


async def _got_length(ctx: Ctx, days: int) -> Replies:
    request = await her_request(ctx)
    await ctx.repos.requests.edit(request, days=days or None)
    alone = "length" in (her_form(ctx).get("walk") or [])  # another way of working
    return await finish(ctx, "length" if alone else "dates")


@router.button(RQ_LENGTH, "length")
async def length_tapped(ctx: Ctx, arg: str) -> Replies:
    request = await her_request(ctx)
    offered = {d for d, _label in _lengths(ctx, request.kind, request.mode)}
    if not arg.isdecimal() or int(arg) not in offered:
        raise Invalid(ctx._("I don't recognise that button."))
    return await _got_length(ctx, int(arg))


_LENGTH = re.compile(
    r"(\d{1,3}|[零〇一二两兩三四五六七八九十百]+)\s*(天|日|days?|个月|個月|月|months?)?"
)


@router.text(RQ_LENGTH)
async def length_typed(ctx: Ctx, text: str) -> Replies:
    _ = ctx._
    request = await her_request(ctx)
    m = _LENGTH.fullmatch(unicodedata.normalize("NFKC", text).strip().casefold())
    number = None
    if m:
        number = int(m.group(1)) if m.group(1).isdigit() else chinese_number(m.group(1))
    if not number:
        raise Invalid(_("Please tap how long, or type a number, like 3."))
    unit = m.group(2) if m else None
    in_days = request.kind == "maternity" or request.mode == "hourly"
    if unit:
        in_days = unit in ("天", "日", "day", "days")
    days = number if in_days else number * 30
    if days > 3 * 365:
        raise Invalid(_("That is more than three years. Please tap “Longer” instead."))
    return await _got_length(ctx, days)


router.goes("back_dates", RQ_START, RQ_LENGTH)


# --- 5. budget --------------------------------------------------------------------------
@router.prompt(RQ_BUDGET)
async def ask_budget(ctx: Ctx) -> Replies:
    _ = ctx._
    request = await her_request(ctx)
    mode = request.mode or "live_in"
    unit = request.budget_unit
    if unit == "hour":
        text = _("Your budget, in yuan an hour? Tap a range, or type one like 40-60.")
    else:
        text = _("Your budget, in yuan a month? Tap a range, or type one like 6000-8000.")
    ranges = typical(mode, [request.kind])
    rows = [[ctx.button(money(ctx, unit, lo, hi), "range", i)] for i, (lo, hi) in enumerate(ranges)]
    if request.budget_min:
        now = money(ctx, unit, request.budget_min, request.budget_max or 0)
        rows.append([ctx.button(_("Keep: {answer}", answer=now), "keep_budget")])
    return [ctx.reply(heading(ctx, RQ_BUDGET, text), *rows, *nav(ctx))]


async def _got_budget(ctx: Ctx, low: int, high: int) -> Replies:
    request = await her_request(ctx)
    await ctx.repos.requests.edit(request, budget_min=low, budget_max=high)
    return await finish(ctx, "budget")


@router.button(RQ_BUDGET, "range")
async def budget_tapped(ctx: Ctx, arg: str) -> Replies:
    request = await her_request(ctx)
    ranges = typical(request.mode or "live_in", [request.kind])
    if not arg.isdecimal() or int(arg) >= len(ranges):
        raise Invalid(ctx._("I don't recognise that button."))
    return await _got_budget(ctx, *ranges[int(arg)])


@router.button(RQ_BUDGET, "keep_budget")
async def keep_budget(ctx: Ctx, _arg: str) -> Replies:
    request = await her_request(ctx)
    if not request.budget_min:
        raise Invalid(ctx._("I don't recognise that button."))
    return await finish(ctx, "budget")


@router.text(RQ_BUDGET)
async def budget_typed(ctx: Ctx, text: str) -> Replies:
    _ = ctx._
    request = await her_request(ctx)
    hourly = request.budget_unit == "hour"
    found = pay_range(text)
    if found is None:
        if hourly:
            raise Invalid(_("Please type the budget as numbers, like 40-60 (yuan an hour)."))
        raise Invalid(_("Please type the budget as numbers, like 6000-8000 (yuan a month)."))
    low, high = found
    if low <= 0 or high <= 0:
        raise Invalid(_("The budget cannot be zero. Please type what you can pay, like 6000-8000."))
    if low > high:
        raise Invalid(
            _(
                "The first amount is more than the second. Please put the lower amount "
                "first, like 6000-8000."
            )
        )
    most = MAX_HOURLY if hourly else MAX_MONTHLY
    if high > most:
        if hourly:
            message = _(
                "That is more than {most} an hour. Please check the amount.",
                most=_.money(most * 100),
            )
        else:
            message = _(
                "That is more than {most} a month. Please check the amount.",
                most=_.money(most * 100),
            )
        raise Invalid(message)
    if not hourly and low < MIN_MONTHLY:
        raise Invalid(
            _(
                "That is very little for a whole month. Please type the budget for a month "
                "in yuan, like 6000-8000."
            )
        )
    return await _got_budget(ctx, low, high)
