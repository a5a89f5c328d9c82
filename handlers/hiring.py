"""After an agreed interview: a trial (试工), then the hire confirmed (a contract) or the
trial ended (a replacement); at the end of the job, reviews.

    IV_VIEW ─▶ Start a trial ─▶ (HR_NAME, HR_ADDRESS: once) ─▶ HR_WAGE ─▶ HR_TRIAL_DAYS
        ─▶ HR_TRIAL_FEE ─▶ HR_START ─▶ HR_TRIAL_OK ─▶ Start the trial: she is told the
        terms; her interviews with others for those days are cancelled ▶ HR_VIEW
    (one trial or hire, after it starts: `handlers.hire_view`)

The household sets the trial up; she agrees to its terms or declines it (`hire_view`).
Starting it is checked again in its transaction (`HiringRepo.start_trial`).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from handlers.context import Ctx
from handlers.hire_view import HR_VIEW, tell_worker, terms_lines
from handlers.hires import JOBS
from handlers.interview_answers import IV_VIEW, open_interview, tell_cancelled
from handlers.interviews import checked_address, first_name
from handlers.request_form import money
from handlers.router import Invalid, Replies, Router
from handlers.typed_values import number_in, pay_range
from handlers.validate import checked_name
from handlers.worker_form import typed_date
from storage.hiring import MAX_TRIAL_DAYS, TRIAL_DAYS, Moved, Refused
from storage.models import Interview, WorkerProfile

log = logging.getLogger(__name__)

router = Router(__name__)

HR_NAME = router.state("HR_NAME", personal=True)
HR_ADDRESS = router.state("HR_ADDRESS", personal=True)
HR_WAGE = router.state("HR_WAGE", numeric=True, personal=True)
HR_TRIAL_DAYS = router.state("HR_TRIAL_DAYS", numeric=True, personal=True)
HR_TRIAL_FEE = router.state("HR_TRIAL_FEE", numeric=True, personal=True)
HR_START = router.state("HR_START", personal=True)
HR_TRIAL_OK = router.state("HR_TRIAL_OK", personal=True)

#: a month's wage the programme accepts, yuan (a 月嫂 in Guangzhou earns up to ~20,000)
MONTH_WAGE = (1000, 50000)
#: an hour's wage, yuan
HOUR_WAGE = (10, 500)
#: a trial day's fee, yuan
DAY_FEE = (50, 2000)
#: working days in a month, to suggest a trial day's fee from a month's wage
DAYS_A_MONTH = 26
#: hours in a working day, to suggest it from an hour's wage
HOURS_A_DAY = 8
TRIAL_CHOICES = (1, 2, 3, 5, 7)


# --- her form ---------------------------------------------------------------------------
def _hf(ctx: Ctx) -> dict[str, Any]:
    return dict(ctx.form.get("hire") or {})


def _set(ctx: Ctx, **values: Any) -> None:
    ctx.remember(hire={**_hf(ctx), **values})


async def _agreed(ctx: Ctx) -> Interview:
    """The agreed interview a trial is being set up for: hers as the household."""
    interview = await ctx.repos.hiring.interview(ctx.user, _hf(ctx).get("interview"))
    if interview is None or interview.household_id != ctx.user.id:
        ctx.remember(hire={})
        raise Invalid(ctx._("That interview is gone."))
    return interview


def _unit(ctx: Ctx) -> str:
    return "hour" if _hf(ctx).get("unit") == "hour" else "month"


# --- setting up the trial ---------------------------------------------------------------
@router.button(IV_VIEW, "trial")
async def start_setup(ctx: Ctx, _arg: str) -> Replies:
    interview = await ctx.repos.hiring.interview(ctx.user, ctx.form.get("iv_open"))
    if interview is None or interview.household_id != ctx.user.id:
        raise Invalid(ctx._("I don't recognise that button."))
    if interview.status != "agreed" or await ctx.repos.hiring.hire_of(interview) is not None:
        raise Invalid(ctx._("I don't recognise that button."))
    request = await ctx.repos.requests.by_id(interview.request_id)
    unit = "hour" if request is not None and request.budget_unit == "hour" else "month"
    ctx.remember(hire={"interview": interview.id, "unit": unit, "days": TRIAL_DAYS})
    return await _next_missing(ctx)


async def _next_missing(ctx: Ctx) -> Replies:
    """What the contract needs and she has not given yet: her name, the address (a
    video-call interview never asked it); then the wage."""
    mine = await ctx.repos.profiles.of(ctx.user)
    if mine is None or not mine.name:  # the contract names both parties
        return await ctx.goto(HR_NAME)
    interview = await _agreed(ctx)
    request = await ctx.repos.requests.by_id(interview.request_id)
    if request is not None and not request.address:
        return await ctx.goto(HR_ADDRESS)
    return await ctx.goto(HR_WAGE)


@router.prompt(HR_ADDRESS)
async def ask_address(ctx: Ctx) -> Replies:
    _ = ctx._
    text = _(
        "🏠 The address where she will work (street, building, flat), for the contract "
        "summary. Only she and the programme see it."
    )
    return [ctx.reply(text, [ctx.button(_("◀ Back"), "to_interview")])]


@router.text(HR_ADDRESS)
async def address_typed(ctx: Ctx, text: str) -> Replies:
    address = checked_address(ctx, text)
    interview = await _agreed(ctx)
    request = await ctx.repos.requests.by_id(interview.request_id)
    if request is not None:
        await ctx.repos.requests.set_address(request, address)
    return await _next_missing(ctx)


@router.prompt(HR_NAME)
async def ask_name(ctx: Ctx) -> Replies:
    _ = ctx._
    text = _(
        "👤 Your full name, as the employer on the contract summary (the helper sees it there):"
    )
    return [ctx.reply(text, [ctx.button(_("◀ Back"), "to_interview")])]


@router.text(HR_NAME)
async def name_typed(ctx: Ctx, text: str) -> Replies:
    await ctx.repos.profiles.save(ctx.user, name=checked_name(ctx._, text))
    return await _next_missing(ctx)


@router.prompt(HR_WAGE)
async def ask_wage(ctx: Ctx) -> Replies:
    _ = ctx._
    interview = await _agreed(ctx)
    request = await ctx.repos.requests.by_id(interview.request_id)
    if _unit(ctx) == "hour":
        question = _("💰 The wage you agreed with her, in yuan an hour (type a number):")
    else:
        question = _("💰 The wage you agreed with her, in yuan a month (type a number):")
    amounts = []
    if request is not None and request.budget_min:
        amounts = sorted({request.budget_min, request.budget_max or request.budget_min})
    buttons = [ctx.button(money(ctx, _unit(ctx), a, a), "wage", a) for a in amounts]
    return [ctx.reply(question, buttons, [ctx.button(_("◀ Back"), "to_interview")])]


def _check_wage(ctx: Ctx, amount: int) -> int:
    low, high = HOUR_WAGE if _unit(ctx) == "hour" else MONTH_WAGE
    if not low <= amount <= high:
        raise Invalid(
            ctx._(
                "Please type a wage between {low} and {high}.",
                low=money(ctx, _unit(ctx), low, low),
                high=money(ctx, _unit(ctx), high, high),
            )
        )
    return amount


@router.button(HR_WAGE, "wage")
async def wage_tapped(ctx: Ctx, arg: str) -> Replies:
    if not arg.isdigit():
        raise Invalid(ctx._("I don't recognise that button."))
    _set(ctx, wage=_check_wage(ctx, int(arg)))
    return await ctx.goto(HR_TRIAL_DAYS)


@router.text(HR_WAGE)
async def wage_typed(ctx: Ctx, text: str) -> Replies:
    found = pay_range(text)
    if found is None or found[0] != found[1]:
        raise Invalid(ctx._("Please type one amount, like 6500."))
    _set(ctx, wage=_check_wage(ctx, found[0]))
    return await ctx.goto(HR_TRIAL_DAYS)


@router.prompt(HR_TRIAL_DAYS)
async def ask_trial_days(ctx: Ctx) -> Replies:
    _ = ctx._
    question = _(
        "🧪 How many days of trial (试工)? Usually {n}. Tap or type a number.", n=TRIAL_DAYS
    )
    buttons = [ctx.button(_.ngettext("{n} day", "{n} days", n), "days", n) for n in TRIAL_CHOICES]
    return [ctx.reply(question, buttons[:3], buttons[3:], [ctx.button(_("◀ Back"), "to_wage")])]


async def _days_chosen(ctx: Ctx, days: int | None) -> Replies:
    if days is None or not 1 <= days <= MAX_TRIAL_DAYS:
        raise Invalid(ctx._("Please choose 1 to {n} days.", n=MAX_TRIAL_DAYS))
    _set(ctx, days=days)
    return await ctx.goto(HR_TRIAL_FEE)


@router.button(HR_TRIAL_DAYS, "days")
async def days_tapped(ctx: Ctx, arg: str) -> Replies:
    if not arg.isdigit() or int(arg) not in TRIAL_CHOICES:
        raise Invalid(ctx._("I don't recognise that button."))
    return await _days_chosen(ctx, int(arg))


@router.text(HR_TRIAL_DAYS)
async def days_typed(ctx: Ctx, text: str) -> Replies:
    return await _days_chosen(ctx, number_in(text.replace("天", "").replace("days", "")))


def _suggested_fee(ctx: Ctx) -> int:
    wage = int(_hf(ctx).get("wage") or 0)
    fee = wage * HOURS_A_DAY if _unit(ctx) == "hour" else round(wage / DAYS_A_MONTH / 10) * 10
    return min(max(fee, DAY_FEE[0]), DAY_FEE[1])


@router.prompt(HR_TRIAL_FEE)
async def ask_trial_fee(ctx: Ctx) -> Replies:
    _ = ctx._
    fee = _suggested_fee(ctx)
    question = _(
        "💴 The trial is paid by the day. How much a day, in yuan? A day of the wage is "
        "about {fee}. Tap it or type an amount.",
        fee=_.money(fee * 100),
    )
    rows = [
        [ctx.button(_("{money} a day", money=_.money(fee * 100)), "fee", fee)],
        [ctx.button(_("◀ Back"), "to_days")],
    ]
    return [ctx.reply(question, *rows)]


async def _fee_chosen(ctx: Ctx, fee: int | None) -> Replies:
    if fee is None or not DAY_FEE[0] <= fee <= DAY_FEE[1]:
        raise Invalid(
            ctx._(
                "Please type a day's fee between {low} and {high}.",
                low=ctx._.money(DAY_FEE[0] * 100),
                high=ctx._.money(DAY_FEE[1] * 100),
            )
        )
    _set(ctx, fee=fee)
    return await ctx.goto(HR_START)


@router.button(HR_TRIAL_FEE, "fee")
async def fee_tapped(ctx: Ctx, arg: str) -> Replies:
    if arg != str(_suggested_fee(ctx)):
        raise Invalid(ctx._("I don't recognise that button."))
    return await _fee_chosen(ctx, int(arg))


@router.text(HR_TRIAL_FEE)
async def fee_typed(ctx: Ctx, text: str) -> Replies:
    found = pay_range(text)
    return await _fee_chosen(ctx, found[0] if found and found[0] == found[1] else None)


@router.prompt(HR_START)
async def ask_start(ctx: Ctx) -> Replies:
    _ = ctx._
    interview = await _agreed(ctx)
    request = await ctx.repos.requests.by_id(interview.request_id)
    profile = await ctx.repos.workers.get(interview.profile_id)
    # the first day it may start: after the interview, once she is available
    first = max(
        ctx.today() + dt.timedelta(days=1),
        ctx.options.local(interview.at).date(),
        (profile.available_from if profile else None) or dt.date.min,
    )
    days = [first]
    if request is not None and request.starts_on and request.starts_on > first:
        days.append(request.starts_on)
    buttons = [ctx.button(_.weekday_date(d), "start", d.isoformat()) for d in days]
    question = _("📅 Which day does the trial start? Tap a day or type a date.")
    return [ctx.reply(question, buttons, [ctx.button(_("◀ Back"), "to_fee")])]


async def _check_start(ctx: Ctx, day: dt.date) -> dt.date:
    """A trial's first day: from today and the interview's day, when she is available,
    within a year."""
    _ = ctx._
    today = ctx.today()
    if day < today:
        raise Invalid(_("That day has passed. Please choose a day from today on."))
    if day > today + dt.timedelta(days=366):
        raise Invalid(_("That is more than a year away. Please choose an earlier day."))
    interview = await _agreed(ctx)
    met = ctx.options.local(interview.at).date()
    if day < met:
        raise Invalid(
            _(
                "The trial starts after the interview. Please choose {date} or later.",
                date=_.date(met),
            )
        )
    profile = await ctx.repos.workers.get(interview.profile_id)
    if profile is not None and profile.available_from and day < profile.available_from:
        raise Invalid(
            _(
                "She is available from {date}. Please choose that day or later.",
                date=_.date(profile.available_from),
            )
        )
    return day


@router.button(HR_START, "start")
async def start_tapped(ctx: Ctx, arg: str) -> Replies:
    try:
        day = dt.date.fromisoformat(arg)
    except ValueError:
        raise Invalid(ctx._("I don't recognise that button.")) from None
    _set(ctx, start=(await _check_start(ctx, day)).isoformat())
    return await ctx.goto(HR_TRIAL_OK)


@router.text(HR_START)
async def start_typed(ctx: Ctx, text: str) -> Replies:
    _set(ctx, start=(await _check_start(ctx, typed_date(ctx, text, ahead=True))).isoformat())
    return await ctx.goto(HR_TRIAL_OK)


async def _planned_end(ctx: Ctx, interview: Interview, start: dt.date) -> dt.date | None:
    request = await ctx.repos.requests.by_id(interview.request_id)
    if request is None or not request.days:
        return None
    return start + dt.timedelta(days=request.days - 1)


@router.prompt(HR_TRIAL_OK)
async def ask_trial_ok(ctx: Ctx) -> Replies:
    _ = ctx._
    interview = await _agreed(ctx)
    form = _hf(ctx)
    if not all(form.get(k) for k in ("wage", "days", "fee", "start")):
        return await ctx.goto(HR_WAGE)
    profile = await ctx.repos.workers.get(interview.profile_id)
    start = dt.date.fromisoformat(form["start"])
    lines = [
        _("🧪 A trial with {name}:", name=first_name(profile)),
        *terms_lines(
            ctx,
            wage=int(form["wage"]),
            unit=_unit(ctx),
            days=int(form["days"]),
            fee=int(form["fee"]),
            start=start,
            end=await _planned_end(ctx, interview, start),
        ),
        "",
        _(
            "After the trial, confirm the hire (you both get the contract) or end it and "
            "we find you another helper."
        ),
    ]
    rows = [
        [ctx.button(_("▶ Start the trial"), "begin")],
        [ctx.button(_("✏ Change"), "to_wage"), ctx.button(_("◀ Back"), "to_interview")],
    ]
    return [ctx.reply("\n".join(lines), *rows)]


@router.button(HR_TRIAL_OK, "begin")
async def begin_trial(ctx: Ctx, _arg: str) -> Replies:
    _ = ctx._
    interview = await _agreed(ctx)
    request = await ctx.repos.requests.by_id(interview.request_id)
    form = _hf(ctx)
    if request is None or not all(form.get(k) for k in ("wage", "days", "fee", "start")):
        raise Invalid(_("That interview is gone."))
    start = await _check_start(ctx, dt.date.fromisoformat(form["start"]))
    profile = await ctx.repos.workers.get(interview.profile_id)
    try:
        hire = await ctx.repos.hiring.start_trial(
            interview,
            request,
            starts_on=start,
            trial_days=int(form["days"]),
            trial_fee=int(form["fee"]),
            wage=int(form["wage"]),
            wage_unit=_unit(ctx),
            ends_on=await _planned_end(ctx, interview, start),
            today=ctx.today(),
        )
    except Refused as refused:
        return await _trial_refused(ctx, refused.reason, profile)
    except Moved:
        ctx.remember(hire={})
        text = _("Not done: this interview changed meanwhile (a trial may have started).")
        return [ctx.reply(text), *await ctx.goto(JOBS)]
    log.info("a trial started: hire %s", hire.id)
    await tell_worker(ctx, hire, "trial")
    # she is at work now: her other households' interviews cannot go on
    others = await ctx.repos.hiring.cancel_live(
        profile_id=hire.profile_id,
        keep=interview.id,
        during=(hire.starts_on, hire.ends_on),
        today=ctx.today(),
    )
    for other in others:
        await tell_cancelled(ctx, other, "busy", to="household")
    ctx.remember(hire={}, hire_open=hire.id)
    return [ctx.reply(_("🧪 The trial is set. She is told the terms.")), *await ctx.goto(HR_VIEW)]


async def _trial_refused(ctx: Ctx, reason: str, profile: WorkerProfile | None) -> Replies:
    """The trial cannot start: why, and where she can go on."""
    _ = ctx._
    name = first_name(profile)
    if reason == "health":
        until = profile.health_valid_until if profile is not None else None
        text = _(
            "{name}'s health check runs out on {date}, before the trial would start. "
            "Choose an earlier start, or ask her to renew it first.",
            name=name,
            date=_.date(until) if until else "—",
        )
        return [ctx.reply(text), *await ctx.goto(HR_START)]
    if reason == "busy":  # on some of these days: another start may suit
        text = _(
            "{name} is at work with another household on some of these days. Choose "
            "another start, or another helper.",
            name=name,
        )
        return [ctx.reply(text), *await ctx.goto(HR_START)]
    ctx.remember(hire={})
    if reason == "filled":
        text = _("This request has a trial or a hire already: end it before starting another.")
    elif reason in ("closed", "paused"):
        text = _("This request is paused or closed. Resume it to start a trial.")
    else:
        text = _(
            "{name} is not available any more: her profile is paused or being checked again.",
            name=name,
        )
    return [ctx.reply(text), *await ctx.goto(JOBS)]


router.goes("to_wage", HR_WAGE, HR_TRIAL_DAYS, HR_TRIAL_OK)
router.goes("to_days", HR_TRIAL_DAYS, HR_TRIAL_FEE)
router.goes("to_fee", HR_TRIAL_FEE, HR_START)


async def _back_to_interview(ctx: Ctx, _arg: str) -> Replies:
    interview_id = _hf(ctx).get("interview")
    ctx.remember(hire={})
    return await open_interview(ctx, interview_id or "")


for _state in (HR_NAME, HR_ADDRESS, HR_WAGE, HR_TRIAL_OK):
    router.button(_state, "to_interview")(_back_to_interview)
