"""Answering an interview: she accepts, proposes another time or declines; the
household accepts or declines her time, or calls it off. Only once both have agreed
does each side see the other's phone number (and she the address).

    JOBS ─an interview─▶ IV_VIEW
        her side, asked:      ✅ Accept ─▶ (IV_MY_PHONE) ─▶ agreed: both told, phones given
                              🕒 Another time ─▶ IV_DAY ▶ IV_TIME ─▶ moved: the household told
                              ✖ Decline ─▶ declined: the household told
        its side, moved:      ✅ Accept the new time ─▶ agreed │ ✖ Decline ─▶ withdrawn
        its side, agreed:     ▶ Start a trial (`handlers.hiring`) │ ✖ Not this helper
        either side:          ⚠ Report a problem (`handlers.problems`)

Who may do what is checked on every press against the interview as it is now
(`HiringRepo`): only its two parties see it, only the side it waits for answers, and
an answer that lost a race (she accepts as it expires on another instance) is told
what happened instead (`Moved`).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from handlers.context import Ctx
from handlers.hires import jobs_notice
from handlers.interviews import (
    IV_DAY,
    first_name,
    how_words,
    iv_form,
    now_utc,
    party,
    when_words,
)
from handlers.phone import phone_question
from handlers.request_form import request_lines
from handlers.router import Invalid, Replies, Router
from handlers.validate import checked_phone
from storage.hiring import WAITING, Moved, Refused
from storage.models import HelpRequest, Interview

log = logging.getLogger(__name__)

router = Router(__name__)

IV_VIEW = router.state("IV_VIEW")
IV_MY_PHONE = router.state("IV_MY_PHONE", personal=True)


# --- one interview ----------------------------------------------------------------------
async def open_interview(ctx: Ctx, interview_id: int | str) -> Replies:
    """Show one of her interviews (from her list)."""
    interview = await ctx.repos.hiring.interview(ctx.user, interview_id)
    if interview is None:
        raise Invalid(ctx._("That interview is gone."))
    ctx.remember(iv_open=interview.id, iv={})
    return await ctx.goto(IV_VIEW)


async def _viewed(ctx: Ctx) -> Interview:
    interview = await ctx.repos.hiring.interview(ctx.user, ctx.form.get("iv_open"))
    if interview is None:
        raise Invalid(ctx._("That interview is gone."))
    return interview


STATUS_WORDS = {
    "asked": "⏳",
    "moved": "🕒",
    "agreed": "✅",
    "declined": "✖",
    "withdrawn": "✖",
    "expired": "⌛",
    "cancelled": "✖",
}


def status_of(ctx: Ctx, interview: Interview) -> str:
    """Its status as people should see it: one waiting past its 24 hours is expired,
    even before the sweep (`handlers.chores`) has marked it so."""
    if interview.status in WAITING and interview.expires_at <= now_utc(ctx):
        return "expired"
    return interview.status


def status_words(ctx: Ctx, interview: Interview, mine: bool) -> str:
    """Where the interview stands, from her side (`mine`: she is the worker)."""
    _ = ctx._
    s = status_of(ctx, interview)
    if s == "asked":
        return _("Waiting for your answer.") if mine else _("Waiting for her answer.")
    if s == "moved":
        return _("Waiting for the household's answer.") if mine else _("She proposed this time.")
    return {
        "agreed": _("Agreed by both."),
        "declined": _("Declined by the helper."),
        "withdrawn": _("Called off by the household."),
        "expired": _("Expired: no answer within 24 hours."),
        "cancelled": _("Cancelled."),
    }.get(s, s)


async def interview_title(ctx: Ctx, interview: Interview) -> str:
    """One line naming an interview in her list."""
    when = when_words(ctx, interview.at)
    mark = STATUS_WORDS.get(status_of(ctx, interview), "")
    if interview.worker_id == ctx.user.id:
        request = await ctx.repos.requests.by_id(interview.request_id)
        what = _job_words(ctx, request)
        return f"{mark} {what} · {when}"
    profile = await ctx.repos.workers.get(interview.profile_id)
    return f"{mark} {first_name(profile)} · {when}"


def _job_words(ctx: Ctx, request: HelpRequest | None) -> str:
    from handlers.request_form import title

    return title(ctx, request) if request is not None else ctx._("A household")


@router.prompt(IV_VIEW)
async def show_interview(ctx: Ctx) -> Replies:
    _ = ctx._
    interview = await _viewed(ctx)
    mine = interview.worker_id == ctx.user.id
    status = status_of(ctx, interview)
    request = await ctx.repos.requests.by_id(interview.request_id)
    profile = await ctx.repos.workers.get(interview.profile_id)
    lines = [
        "📅 "
        + _(
            "Interview: {when}, {how}",
            when=when_words(ctx, interview.at),
            how=how_words(ctx, interview.how),
        ),
        STATUS_WORDS.get(status, "") + " " + status_words(ctx, interview, mine),
    ]
    if status in WAITING:
        by = when_words(ctx, interview.expires_at)
        waits_on_me = (status == "asked") == mine
        lines.append(
            _("Answer by {when}.", when=by)
            if waits_on_me
            else _("The other side answers by {when}.", when=by)
        )
    if mine and request is not None:
        lines += ["", *request_lines(ctx, request)]
    elif not mine:
        lines.append("👤 " + _("Helper: {name}", name=first_name(profile)))
    if interview.status == "agreed":
        lines += ["", *await contact_lines(ctx, interview, request)]
    rows = []
    if mine and status == "asked":
        rows.append([ctx.button(_("✅ Accept"), "iv_accept")])
        rows.append(
            [ctx.button(_("🕒 Another time"), "iv_other"), ctx.button(_("✖ Decline"), "iv_decline")]
        )
    elif not mine and status == "moved":
        rows.append([ctx.button(_("✅ Accept this time"), "iv_accept")])
        rows.append([ctx.button(_("✖ Decline"), "iv_decline")])
    elif not mine and status == "asked":
        rows.append([ctx.button(_("✖ Call it off"), "iv_withdraw")])
    elif not mine and status == "agreed":
        hire = await ctx.repos.hiring.hire_of(interview)
        if hire is None:
            rows.append([ctx.button(_("▶ Start a trial"), "trial")])
            rows.append([ctx.button(_("✖ Not this helper"), "iv_withdraw")])
        else:
            rows.append([ctx.button(_("📋 The trial or hire"), "hire", hire.id)])
    rows.append([ctx.button(_("⚠ Report a problem"), "iv_report")])
    rows.append(
        [ctx.button(_("◀ Interviews and hires"), "jobs"), ctx.button(_("◀ Main menu"), "home")]
    )
    return [ctx.reply("\n".join(lines), *rows)]


async def contact_lines(ctx: Ctx, interview: Interview, request: HelpRequest | None) -> list[str]:
    """The other side's phone number (and, for her, the address): only once both have
    agreed (`agreed_at` set); nothing otherwise."""
    _ = ctx._
    if interview.agreed_at is None:
        return []
    mine = interview.worker_id == ctx.user.id
    other = await ctx.repos.users.by_id(interview.household_id if mine else interview.worker_id)
    found = await ctx.repos.profiles.of(other) if other is not None else None
    phone = found.phone if found is not None and found.phone else "—"
    if mine:
        lines = ["📞 " + _("The household's phone: {phone}", phone=phone)]
        if request is not None and request.address:
            lines.append("🏠 " + _("Address: {address}", address=request.address))
        return lines
    return ["📞 " + _("Her phone: {phone}", phone=phone)]


async def _moved(ctx: Ctx, moved: Moved) -> Replies:
    """Another answer came first, or it expired: say so, show it as it is now."""
    _ = ctx._
    current = moved.current
    if current is None:
        raise Invalid(_("That interview is gone."))
    mine = isinstance(current, Interview) and current.worker_id == ctx.user.id
    text = _(
        "Not done: this interview changed meanwhile. It is now: {status}",
        status=status_words(ctx, current, mine),
    )  # type: ignore[arg-type]
    return [ctx.reply(text), *await ctx.goto(IV_VIEW)]


@router.button(IV_VIEW, "iv_accept")
async def accept(ctx: Ctx, _arg: str) -> Replies:
    interview = await _viewed(ctx)
    mine = interview.worker_id == ctx.user.id
    if (mine and interview.status != "asked") or (not mine and interview.status != "moved"):
        return await _moved(ctx, Moved(interview))  # the button was issued: it changed since
    if mine and not await _has_phone(ctx):
        ctx.remember(iv={"then": "accept"})
        return await ctx.goto(IV_MY_PHONE)
    try:
        interview = await ctx.repos.hiring.accept(interview, ctx.today())
    except Moved as moved:
        return await _moved(ctx, moved)
    except Refused as refused:  # checked again as when it was asked
        if mine and refused.reason in ("hidden", "busy"):  # the household waits on her
            await tell_cancelled(ctx, interview, refused.reason, to="household")
        text = refusal_text(ctx, refused.reason, mine, await _name_of(ctx, interview))
        return [ctx.reply(text), *await ctx.goto(IV_VIEW)]
    log.info("an interview was agreed: interview %s", interview.id)
    await _tell_agreed(ctx, interview)
    text = ctx._("✅ Agreed. Here are the details:")
    return [ctx.reply(text), *await ctx.goto(IV_VIEW)]


async def _name_of(ctx: Ctx, interview: Interview) -> str:
    return first_name(await ctx.repos.workers.get(interview.profile_id))


def refusal_text(ctx: Ctx, reason: str, mine: bool, name: str) -> str:
    """Why an interview cannot go on, to the side that tried (`mine`: the helper)."""
    _ = ctx._
    if reason == "paused":
        if mine:
            return _("The household has paused this request for now. Please try again later.")
        return _("This request is paused. Resume it first.")
    if mine:
        return (
            {
                "closed": _("The household has stopped looking: its request is closed."),
                "hidden": _(
                    "You cannot accept now: your profile is paused or being checked again, or "
                    "your health check has run out."
                ),
                "busy": _("You are on a trial or at work with a household now."),
            }.get(reason, _("This interview cannot go on."))
            + " "
            + _("The interview is cancelled.")
        )
    return (
        {
            "closed": _("This request is closed."),
            "hidden": _(
                "{name} is not available any more: her profile is paused or being checked again.",
                name=name,
            ),
            "busy": _("{name} has just started work with another household.", name=name),
        }.get(reason, _("This interview cannot go on."))
        + " "
        + _("The interview is cancelled.")
    )


async def tell_cancelled(ctx: Ctx, interview: Interview, reason: str, *, to: str) -> None:
    """Tell one side of `interview` (`to`: `household` or `worker`) that it is
    cancelled, and why in a word (`reason`: `closed`, `filled`, `busy`, `hidden`,
    `erased`)."""
    found = await party(ctx, interview.household_id if to == "household" else interview.worker_id)
    if found is None:
        return
    other, theirs = found
    _ = theirs._
    when = when_words(theirs, interview.at)
    if to == "worker":
        why = {
            "closed": _("the household's request is closed"),
            "filled": _("the household has hired another helper"),
            "erased": _("the household has deleted its data"),
        }.get(reason, _("the household called it off"))
    else:
        name = await _name_of(ctx, interview)
        why = {
            "busy": _("{name} has started work with another household", name=name),
            "erased": _("{name} has deleted her data", name=name),
        }.get(reason, _("{name} is not available any more", name=name))
    text = _("The interview on {when} is cancelled: {why}.", when=when, why=why)
    ctx.notify(other.key, [jobs_notice(theirs, text)], topic=f"interview:{interview.id}")


async def _tell_agreed(ctx: Ctx, interview: Interview) -> None:
    """Tell the other side: the interview is agreed, with the contact details."""
    mine = interview.worker_id == ctx.user.id
    found = await party(ctx, interview.household_id if mine else interview.worker_id)
    if found is None:
        return
    other, theirs = found
    _ = theirs._
    request = await ctx.repos.requests.by_id(interview.request_id)
    lines = [
        _(
            "✅ The interview on {when}, {how}, is agreed.",
            when=when_words(theirs, interview.at),
            how=how_words(theirs, interview.how),
        ),
        *await contact_lines(theirs, interview, request),
    ]
    ctx.notify(
        other.key, [jobs_notice(theirs, "\n".join(lines))], topic=f"interview:{interview.id}"
    )


async def _has_phone(ctx: Ctx) -> bool:
    found = await ctx.repos.profiles.of(ctx.user)
    return found is not None and bool(found.phone)


@router.prompt(IV_MY_PHONE)
async def ask_my_phone(ctx: Ctx) -> Replies:
    _ = ctx._
    question = _(
        "📞 Your phone number, so that the household can reach you. They get it only "
        "once you have both agreed."
    )
    return [phone_question(ctx, question, [ctx.button(_("◀ Back"), "to_view")])]


@router.text(IV_MY_PHONE)
async def my_phone_typed(ctx: Ctx, text: str) -> Replies:
    phone = checked_phone(ctx._, text)
    await ctx.repos.profiles.save(ctx.user, phone=phone)
    then = iv_form(ctx).get("then")
    ctx.remember(iv={})
    ctx.user.state = IV_VIEW
    if then == "propose":
        return await other_time(ctx, "")
    return await accept(ctx, "")


@router.contact(IV_MY_PHONE)
async def my_phone_shared(ctx: Ctx, contact: Any) -> Replies:
    return await my_phone_typed(ctx, contact.phone)


router.goes("to_view", IV_VIEW, IV_MY_PHONE)


@router.button(IV_VIEW, "iv_decline")
async def decline(ctx: Ctx, _arg: str) -> Replies:
    interview = await _viewed(ctx)
    mine = interview.worker_id == ctx.user.id
    if (mine and interview.status != "asked") or (not mine and interview.status != "moved"):
        return await _moved(ctx, Moved(interview))  # the button was issued: it changed since
    try:
        interview = await ctx.repos.hiring.decline(interview)
    except Moved as moved:
        return await _moved(ctx, moved)
    await _tell_ended(ctx, interview)
    return [ctx.reply(ctx._("Declined. The other side is told.")), *await ctx.goto(IV_VIEW)]


@router.button(IV_VIEW, "iv_withdraw")
async def withdraw(ctx: Ctx, _arg: str) -> Replies:
    interview = await _viewed(ctx)
    if interview.household_id != ctx.user.id:
        raise Invalid(ctx._("I don't recognise that button."))
    if interview.status not in ("asked", "agreed") or await ctx.repos.hiring.hire_of(interview):
        return await _moved(ctx, Moved(interview))
    try:
        interview = await ctx.repos.hiring.withdraw(interview)
    except Moved as moved:
        return await _moved(ctx, moved)
    await _tell_ended(ctx, interview)
    return [ctx.reply(ctx._("Called off. She is told.")), *await ctx.goto(IV_VIEW)]


async def _tell_ended(ctx: Ctx, interview: Interview) -> None:
    mine = interview.worker_id == ctx.user.id
    found = await party(ctx, interview.household_id if mine else interview.worker_id)
    if found is None:
        return
    other, theirs = found
    _ = theirs._
    when = when_words(theirs, interview.at)
    if mine:
        text = _(
            "{name} cannot come to the interview on {when}. Find other helpers from your request.",
            name=await _name_of(ctx, interview),
            when=when,
        )
    else:
        text = _("The household called off the interview on {when}.", when=when)
    ctx.notify(other.key, [jobs_notice(theirs, text)], topic=f"interview:{interview.id}")


# --- she proposes another time --------------------------------------------------------
@router.button(IV_VIEW, "iv_other")
async def other_time(ctx: Ctx, _arg: str) -> Replies:
    interview = await _viewed(ctx)
    if interview.worker_id != ctx.user.id:
        raise Invalid(ctx._("I don't recognise that button."))
    if interview.status != "asked":
        return await _moved(ctx, Moved(interview))
    if not await _has_phone(ctx):  # the household gets it if it agrees to her time
        ctx.remember(iv={"then": "propose"})
        return await ctx.goto(IV_MY_PHONE)
    ctx.remember(iv={"propose": interview.id})
    return await ctx.goto(IV_DAY)


async def propose(ctx: Ctx, interview: Interview, when: dt.datetime) -> Replies:
    try:
        interview = await ctx.repos.hiring.propose(interview, when)
    except Moved as moved:
        ctx.remember(iv={})
        ctx.user.state = IV_VIEW
        return await _moved(ctx, moved)
    ctx.remember(iv={})
    found = await party(ctx, interview.household_id)
    if found is not None:
        other, theirs = found
        text = theirs._(
            "🕒 {name} proposes another time for the interview: {when}. Please accept "
            "or decline within 24 hours.",
            name=await _name_of(ctx, interview),
            when=when_words(theirs, interview.at),
        )
        ctx.notify(other.key, [jobs_notice(theirs, text)], topic=f"interview:{interview.id}")
    text = ctx._("🕒 Sent: the household has 24 hours to answer.")
    return [ctx.reply(text), *await ctx.goto(IV_VIEW)]


# --- a problem ---------------------------------------------------------------------------
@router.button(IV_VIEW, "iv_report")
async def report(ctx: Ctx, _arg: str) -> Replies:
    from handlers.problems import start_report

    interview = await _viewed(ctx)
    return await start_report(
        ctx, back=IV_VIEW, request_id=interview.request_id, interview_id=interview.id
    )
