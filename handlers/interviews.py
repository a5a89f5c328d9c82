"""Asking for an interview: a household picks a helper from its shortlist, a day, a
time, at home or by video; her address and phone number are asked once. The day and
time screens also serve the helper proposing another time (`handlers.interview_answers`).

    RQ_SHORTLIST ─📅 Ask for an interview─▶ IV_DAY ─a day─▶ IV_TIME ─a time─▶ IV_HOW
        ─🏠 at my home─▶ (IV_ADDRESS, the first time) ─▶ (IV_PHONE, the first time)
        ─📹 video call─▶ (IV_PHONE) ─▶ IV_CONFIRM ─📨 Send─▶ asked: she is told ▶ JOBS

Sending checks, in its transaction, that she may still be shown, is not at work
elsewhere and has no live interview for this request (`HiringRepo.ask`).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from handlers.context import Ctx, outside
from handlers.hires import JOBS, jobs_notice
from handlers.phone import phone_question
from handlers.request_form import (
    RQ_SHORTLIST,
    her_form,
    her_request,
    request_lines,
    set_in_form,
)
from handlers.router import Invalid, Replies, Router
from handlers.typed_values import read_time
from handlers.validate import checked_phone
from handlers.worker_form import no_id_number, typed_date
from storage.hiring import Refused
from storage.models import HelpRequest, Interview, User, WorkerProfile

log = logging.getLogger(__name__)

router = Router(__name__)

IV_DAY = router.state("IV_DAY", personal=True)
IV_TIME = router.state("IV_TIME", personal=True)
IV_HOW = router.state("IV_HOW", personal=True)
IV_ADDRESS = router.state("IV_ADDRESS", personal=True)
IV_PHONE = router.state("IV_PHONE", personal=True)
IV_CONFIRM = router.state("IV_CONFIRM", personal=True)

#: an interview is asked for at most this many days ahead
MAX_DAYS_AHEAD = 60
#: the days offered as buttons (from tomorrow)
DAYS_SHOWN = 7
#: the times offered as buttons (local)
TIMES = ("09:00", "10:00", "11:00", "14:00", "15:00", "16:00", "19:00")
MIN_ADDRESS, MAX_ADDRESS = 4, 200
#: an interview is at least this far in the future when asked for
MIN_NOTICE = dt.timedelta(hours=1)


# --- her form ---------------------------------------------------------------------------
def iv_form(ctx: Ctx) -> dict[str, Any]:
    return dict(ctx.form.get("iv") or {})


def _set(ctx: Ctx, **values: Any) -> None:
    ctx.remember(iv={**iv_form(ctx), **values})


def _when(ctx: Ctx) -> dt.datetime | None:
    """The chosen day and time as naive UTC, when both are chosen."""
    form = iv_form(ctx)
    if not form.get("day") or not form.get("time"):
        return None
    day = dt.date.fromisoformat(form["day"])
    return ctx.options.utc(day, dt.time.fromisoformat(form["time"]))


def when_words(ctx: Ctx, at: dt.datetime) -> str:
    """`Tue 1 Dec, 15:00` in her language and the programme's time zone."""
    local = ctx.options.local(at)
    return f"{ctx._.weekday_date(local.date())} {ctx._.time(local)}"


def how_words(ctx: Ctx, interview_how: str) -> str:
    _ = ctx._
    return _("a video call") if interview_how == "video" else _("at the household's home")


def first_name(profile: WorkerProfile | None) -> str:
    """How a household names her: the name on her credential (no surname rule applied:
    the programme shows the name she gave)."""
    return (profile.name if profile else "") or "—"


# --- asking: from the shortlist ----------------------------------------------------------
@router.button(RQ_SHORTLIST, "interview")
async def ask_for_interview(ctx: Ctx, arg: str) -> Replies:
    """A candidate's "📅 Ask for an interview": only one shown on her shortlist."""
    shown = {str(pid) for pid, _reasons in her_form(ctx).get("shortlist") or []}
    if arg not in shown:
        raise Invalid(ctx._("I don't recognise that button."))
    request = await her_request(ctx)
    profile = await ctx.repos.workers.get(int(arg))
    if profile is None:
        raise Invalid(ctx._("That helper is no longer available. Choose another one."))
    ctx.remember(iv={"request": request.id, "profile": profile.id})
    return await ctx.goto(IV_DAY)


async def _asking(ctx: Ctx) -> tuple[HelpRequest, WorkerProfile]:
    """The request and the helper being asked (hers; still there), or `Invalid`."""
    form = iv_form(ctx)
    request = await ctx.repos.requests.get(ctx.user, form.get("request"))
    profile = await ctx.repos.workers.get(int(form.get("profile") or 0))
    if request is None or request.status == "closed" or profile is None:
        ctx.remember(iv={})
        raise Invalid(ctx._("That request or helper is gone. Here are your interviews and hires."))
    return request, profile


async def _proposing(ctx: Ctx) -> Interview | None:
    """The interview she is proposing another time for (her side), if that is what
    the day and time screens are for."""
    interview_id = iv_form(ctx).get("propose")
    if interview_id is None:
        return None
    interview = await ctx.repos.hiring.interview(ctx.user, interview_id)
    if interview is None or interview.worker_id != ctx.user.id:
        ctx.remember(iv={})
        raise Invalid(ctx._("That interview is gone."))
    return interview


async def _back_from_times(ctx: Ctx, _arg: str) -> Replies:
    from handlers.interview_answers import IV_VIEW

    if iv_form(ctx).get("propose") is not None:
        return await ctx.goto(IV_VIEW)
    return await ctx.goto(RQ_SHORTLIST)


# --- the day ----------------------------------------------------------------------------
@router.prompt(IV_DAY)
async def ask_day(ctx: Ctx) -> Replies:
    _ = ctx._
    if await _proposing(ctx) is not None:
        question = _("Which day would suit you instead? Tap a day or type a date.")
    else:
        _request, profile = await _asking(ctx)
        question = _(
            "📅 When would you like to meet {name}? Tap a day or type a date (like 12月9日).",
            name=first_name(profile),
        )
    today = ctx.today()
    days = [today + dt.timedelta(days=n) for n in range(1, DAYS_SHOWN + 1)]
    buttons = [ctx.button(_.weekday_date(d), "day", d.isoformat()) for d in days]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return [ctx.reply(question, *rows, [ctx.button(_("◀ Back"), "back")])]


def _check_day(ctx: Ctx, day: dt.date) -> dt.date:
    today = ctx.today()
    if day < today:
        raise Invalid(ctx._("That day has passed. Please choose a day from today on."))
    if day > today + dt.timedelta(days=MAX_DAYS_AHEAD):
        raise Invalid(
            ctx._(
                "That is more than {n} days away. Please choose a day within {n} days.",
                n=MAX_DAYS_AHEAD,
            )
        )
    return day


@router.button(IV_DAY, "day")
async def day_tapped(ctx: Ctx, arg: str) -> Replies:
    try:
        day = dt.date.fromisoformat(arg)
    except ValueError:
        raise Invalid(ctx._("I don't recognise that button.")) from None
    _set(ctx, day=_check_day(ctx, day).isoformat())
    return await ctx.goto(IV_TIME)


@router.text(IV_DAY)
async def day_typed(ctx: Ctx, text: str) -> Replies:
    day = _check_day(ctx, typed_date(ctx, text, ahead=True))
    _set(ctx, day=day.isoformat())
    return await ctx.goto(IV_TIME)


router.button(IV_DAY, "back")(_back_from_times)


# --- the time ---------------------------------------------------------------------------
@router.prompt(IV_TIME)
async def ask_time(ctx: Ctx) -> Replies:
    _ = ctx._
    day = dt.date.fromisoformat(iv_form(ctx)["day"]) if iv_form(ctx).get("day") else None
    if day is None:
        return await ctx.goto(IV_DAY)
    question = _(
        "🕒 What time on {day}? Tap a time or type one (like 15:30 or 下午3点).",
        day=_.weekday_date(day),
    )
    buttons = [ctx.button(t, "time", t) for t in TIMES]
    rows = [buttons[i : i + 4] for i in range(0, len(buttons), 4)]
    return [ctx.reply(question, *rows, [ctx.button(_("◀ Another day"), "another_day")])]


async def _time_chosen(ctx: Ctx, at: dt.time) -> Replies:
    _set(ctx, time=at.strftime("%H:%M"))
    when = _when(ctx)
    assert when is not None
    if when - now_utc(ctx) < MIN_NOTICE:
        _set(ctx, time=None)
        raise Invalid(ctx._("That time has passed or is too soon. Please choose a later time."))
    interview = await _proposing(ctx)
    if interview is not None:
        from handlers.interview_answers import propose

        return await propose(ctx, interview, when)
    return await ctx.goto(IV_HOW)


def now_utc(ctx: Ctx) -> dt.datetime:
    return ctx.options.now().astimezone(dt.UTC).replace(tzinfo=None)


@router.button(IV_TIME, "time")
async def time_tapped(ctx: Ctx, arg: str) -> Replies:
    if arg not in TIMES:
        raise Invalid(ctx._("I don't recognise that button."))
    return await _time_chosen(ctx, dt.time.fromisoformat(arg))


@router.text(IV_TIME)
async def time_typed(ctx: Ctx, text: str) -> Replies:
    at = read_time(text)
    if at is None:
        raise Invalid(ctx._("Please type a time like 15:30 or 下午3点, or tap one."))
    return await _time_chosen(ctx, at)


router.goes("another_day", IV_DAY, IV_TIME)


# --- where ------------------------------------------------------------------------------
@router.prompt(IV_HOW)
async def ask_how(ctx: Ctx) -> Replies:
    _ = ctx._
    text = _("Where would you like to meet?")
    rows = [
        [ctx.button(_("🏠 At my home"), "how", "home")],
        [ctx.button(_("📹 A video call"), "how", "video")],
        [ctx.button(_("◀ Another time"), "another_time")],
    ]
    return [ctx.reply(text, *rows)]


@router.button(IV_HOW, "how")
async def how_chosen(ctx: Ctx, arg: str) -> Replies:
    if arg not in ("home", "video"):
        raise Invalid(ctx._("I don't recognise that button."))
    _set(ctx, how=arg)
    return await _next_missing(ctx)


router.goes("another_time", IV_TIME, IV_HOW)


async def _next_missing(ctx: Ctx) -> Replies:
    """The address (for a meeting at home) and her phone number, if not known yet; then
    the summary to send."""
    request, _profile = await _asking(ctx)
    if iv_form(ctx).get("how") == "home" and not request.address:
        return await ctx.goto(IV_ADDRESS)
    profile = await ctx.repos.profiles.of(ctx.user)
    if profile is None or not profile.phone:
        return await ctx.goto(IV_PHONE)
    return await ctx.goto(IV_CONFIRM)


@router.prompt(IV_ADDRESS)
async def ask_address(ctx: Ctx) -> Replies:
    _ = ctx._
    text = _(
        "🏠 Your address, for the interview and the job (street, building, flat). The "
        "helper gets it only after you have both agreed to the interview."
    )
    return [ctx.reply(text, [ctx.button(_("◀ Back"), "to_how")])]


def checked_address(ctx: Ctx, text: str) -> str:
    """A typed address, on one line (it is printed as one on the contract), or
    `Invalid` saying what is wrong."""
    text = " ".join(text.split())
    no_id_number(ctx, text)
    if not MIN_ADDRESS <= len(text) <= MAX_ADDRESS:
        raise Invalid(
            ctx._(
                "Please type the address in {low} to {high} characters.",
                low=MIN_ADDRESS,
                high=MAX_ADDRESS,
            )
        )
    return text


@router.text(IV_ADDRESS)
async def address_typed(ctx: Ctx, text: str) -> Replies:
    address = checked_address(ctx, text)
    request, _profile = await _asking(ctx)
    await ctx.repos.requests.set_address(request, address)
    return await _next_missing(ctx)


router.goes("to_how", IV_HOW, IV_ADDRESS, IV_PHONE)


@router.prompt(IV_PHONE)
async def ask_phone(ctx: Ctx) -> Replies:
    _ = ctx._
    question = _(
        "📞 Your phone number, so that the helper can reach you. She gets it only after "
        "you have both agreed to the interview."
    )
    return [phone_question(ctx, question, [ctx.button(_("◀ Back"), "to_how")])]


@router.text(IV_PHONE)
async def phone_typed(ctx: Ctx, text: str) -> Replies:
    phone = checked_phone(ctx._, text)
    await ctx.repos.profiles.save(ctx.user, phone=phone)
    return await _next_missing(ctx)


@router.contact(IV_PHONE)
async def phone_shared(ctx: Ctx, contact: Any) -> Replies:
    return await phone_typed(ctx, contact.phone)


# --- the summary, and sending ------------------------------------------------------------
@router.prompt(IV_CONFIRM)
async def confirm(ctx: Ctx) -> Replies:
    _ = ctx._
    request, profile = await _asking(ctx)
    when = _when(ctx)
    if when is None:
        return await ctx.goto(IV_DAY)
    how = iv_form(ctx).get("how") or "home"
    lines = [
        _("📨 Ask {name} for an interview:", name=first_name(profile)),
        "📅 " + when_words(ctx, when),
        "📍 " + how_words(ctx, how),
        "",
        _("She will see your request, without your address:"),
        *request_lines(ctx, request),
        "",
        _(
            "She has 24 hours to answer. Your phone number (and address) reach her only "
            "once you have both agreed."
        ),
    ]
    rows = [
        [ctx.button(_("📨 Send"), "send")],
        [ctx.button(_("🕒 Another time"), "another_day"), ctx.button(_("◀ Back"), "to_list")],
    ]
    return [ctx.reply("\n".join(lines), *rows)]


router.goes("another_day", IV_DAY, IV_CONFIRM)
router.goes("to_list", RQ_SHORTLIST, IV_CONFIRM)


@router.button(IV_CONFIRM, "send")
async def send(ctx: Ctx, _arg: str) -> Replies:
    _ = ctx._
    request, profile = await _asking(ctx)
    when = _when(ctx)
    if when is None or when - now_utc(ctx) < MIN_NOTICE:
        _set(ctx, time=None)
        raise Invalid(_("That time has passed or is too soon. Please choose a later time."))
    name = first_name(profile)
    try:
        interview = await ctx.repos.hiring.ask(
            request,
            profile,
            at=when,
            how=iv_form(ctx).get("how") or "home",
            summary=request.note or "",
            today=ctx.today(),
        )
    except Refused as refused:
        return await _refused(ctx, refused.reason, name, profile.id)
    log.info("an interview was asked for: interview %s", interview.id)
    await _tell_worker_asked(ctx, interview, request)
    ctx.remember(iv={})
    text = _(
        "📨 Sent. {name} has 24 hours to answer; we will tell you here. You can see it "
        "under “🤝 Interviews and hires”.",
        name=name,
    )
    return [ctx.reply(text), *await ctx.goto(JOBS)]


async def _refused(ctx: Ctx, reason: str, name: str, profile_id: int) -> Replies:
    _ = ctx._
    texts = {
        "hidden": _(
            "{name} cannot be asked now: she has paused her profile or it is being "
            "checked again. Please choose another helper.",
            name=name,
        ),
        "busy": _(
            "{name} has just started work with another household. Please choose another helper.",
            name=name,
        ),
        "twice": _(
            "You have already asked {name} for an interview for this request. See "
            "“🤝 Interviews and hires”.",
            name=name,
        ),
        "closed": _("This request is paused or closed. Resume it to ask for interviews."),
    }
    ctx.remember(iv={})
    if reason == "twice":
        return [ctx.reply(texts[reason]), *await ctx.goto(JOBS)]
    # she cannot be asked now: her card leaves the shortlist shown again below
    shortlist = [c for c in her_form(ctx).get("shortlist") or [] if c[0] != profile_id]
    set_in_form(ctx, shortlist=shortlist)
    return [ctx.reply(texts.get(reason, texts["hidden"])), *await ctx.goto(RQ_SHORTLIST)]


async def party(ctx: Ctx, user_id: int) -> tuple[User, Ctx] | None:
    """The other party's row and a context in her language, for a notice."""
    other = await ctx.repos.users.by_id(user_id)
    if other is None:
        return None
    return other, outside(ctx.repos, other, ctx.options)


async def _tell_worker_asked(ctx: Ctx, interview: Interview, request: HelpRequest) -> None:
    found = await party(ctx, interview.worker_id)
    if found is None:
        return
    her, hers = found
    _ = hers._
    lines = [
        _(
            "📅 A household asks you for an interview on {when}, {how}. Please answer "
            "within 24 hours.",
            when=when_words(hers, interview.at),
            how=how_words(hers, interview.how),
        ),
        *request_lines(hers, request),
    ]
    ctx.notify(her.key, [jobs_notice(hers, "\n".join(lines))], topic=f"interview:{interview.id}")
