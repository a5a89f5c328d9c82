"""One trial or hire, for either side: confirming it (the contract), ending the trial
(a replacement), the job over (reviews), the contract, a problem; and what happens to
it when one side erases her data.

    JOBS / IV_VIEW ─a trial or hire─▶ HR_VIEW, the household's side:
        trial:  ✅ Confirm the hire ─▶ HR_CONFIRM ─yes─▶ hired: the contract to both,
                   the request closed, the placement counted (destination city)
                ✖ End the trial ─▶ HR_END ─a reason─▶ ended: she is told; the shortlist
                   again, without her (a replacement)
        hired:  🏁 The job has ended ─▶ HR_FINISH ─yes─▶ finished: both asked to review
    HR_VIEW, her side: trial: ✅ I agree to the terms │ ✖ I cannot do this trial
    HR_VIEW, either side: 📄 The contract │ ⭐ Review (finished) │ ⚠ Report a problem

Each change is conditional on the hire as it was shown (`HiringRepo`): a second tap, or
the other side's change first, is told, never done twice.
"""

from __future__ import annotations

import datetime as dt
import logging

from handlers.context import Ctx, outside
from handlers.hires import JOBS, jobs_notice
from handlers.interview_answers import IV_VIEW, tell_cancelled
from handlers.interviews import first_name
from handlers.request_form import money
from handlers.router import Invalid, Replies, Router
from storage.hiring import Moved
from storage.models import Hire, User
from storage.vocab import KINDS_OF_WORK, N_

log = logging.getLogger(__name__)

router = Router(__name__)

HR_VIEW = router.state("HR_VIEW")
HR_CONFIRM = router.state("HR_CONFIRM", personal=True)
HR_END = router.state("HR_END", personal=True)
HR_FINISH = router.state("HR_FINISH")

END_REASONS = ("fit", "absent", "other")


def terms_lines(
    ctx: Ctx, *, wage: int, unit: str, days: int, fee: int, start: dt.date, end: dt.date | None
) -> list[str]:
    """A trial's terms, one line each, in her language."""
    _ = ctx._
    lines = [
        "💰 " + _("Wage: {money}", money=money(ctx, unit, wage, wage)),
        "🧪 "
        + _.ngettext(
            "Trial: {n} day at {fee} a day",
            "Trial: {n} days at {fee} a day",
            days,
            fee=_.money(fee * 100),
        ),
        "📅 " + _("Starts: {date}", date=_.date(start)),
    ]
    if end is not None:
        lines.append("🏁 " + _("Ends: {date}", date=_.date(end)))
    return lines


# --- one hire ---------------------------------------------------------------------------
async def open_hire(ctx: Ctx, hire_id: int | str) -> Replies:
    hire = await ctx.repos.hiring.hire(ctx.user, hire_id)
    if hire is None:
        raise Invalid(ctx._("That hire is gone."))
    ctx.remember(hire_open=hire.id, hire={})
    return await ctx.goto(HR_VIEW)


@router.button(JOBS, "hire")
async def hire_from_list(ctx: Ctx, arg: str) -> Replies:
    return await open_hire(ctx, arg)


@router.button(IV_VIEW, "hire")
async def hire_from_interview(ctx: Ctx, arg: str) -> Replies:
    return await open_hire(ctx, arg)


async def _viewed(ctx: Ctx) -> Hire:
    hire = await ctx.repos.hiring.hire(ctx.user, ctx.form.get("hire_open"))
    if hire is None:
        raise Invalid(ctx._("That hire is gone."))
    return hire


HIRE_MARKS = {"trial": "🧪", "hired": "🤝", "ended": "✖", "finished": "🏁"}


def hire_status(ctx: Ctx, hire: Hire) -> str:
    _ = ctx._
    return {
        "trial": _("On trial."),
        "hired": _("Hired: the contract holds."),
        "ended": _("The trial was ended."),
        "finished": _("The job is over."),
    }.get(hire.status, hire.status)


async def hire_title(ctx: Ctx, hire: Hire) -> str:
    """One line naming a hire in her list."""
    _ = ctx._
    mark = HIRE_MARKS.get(hire.status, "")
    kind = KINDS_OF_WORK.get(hire.kind)
    what = _(kind.label) if kind else _("Help at home")
    if hire.household_id == ctx.user.id:
        profile = await ctx.repos.workers.get(hire.profile_id)
        who = first_name(profile)
    else:
        who = _("a household")
    return f"{mark} {what} · {who} · {_.short_date(hire.starts_on)}"


@router.prompt(HR_VIEW)
async def show_hire(ctx: Ctx) -> Replies:
    _ = ctx._
    hire = await _viewed(ctx)
    household = hire.household_id == ctx.user.id
    lines = [
        await hire_title(ctx, hire),
        hire_status(ctx, hire),
        *terms_lines(
            ctx,
            wage=hire.wage,
            unit=hire.wage_unit,
            days=hire.trial_days,
            fee=hire.trial_fee,
            start=hire.starts_on,
            end=hire.ends_on,
        ),
    ]
    if hire.end_reason:
        lines.append(_("Why it ended: {reason}", reason=end_words(ctx, hire.end_reason)))
    if hire.status == "trial" and hire.worker_agreed_at is None:
        lines.append(
            "⏳ "
            + (
                _("She has not agreed to these terms yet.")
                if household
                else _("Please tell the household whether you agree to these terms.")
            )
        )
    rows = []
    if household and hire.status == "trial":
        if hire.worker_agreed_at is not None:
            rows.append([ctx.button(_("✅ Confirm the hire"), "hr_confirm")])
        rows.append([ctx.button(_("✖ End the trial"), "hr_end")])
    if not household and hire.status == "trial" and hire.worker_agreed_at is None:
        rows.append([ctx.button(_("✅ I agree to these terms"), "hr_agree")])
        rows.append([ctx.button(_("✖ I cannot do this trial"), "hr_decline")])
    if hire.confirmed_at is not None:
        rows.append([ctx.button(_("📄 The contract"), "hr_contract")])
    if household and hire.status == "hired":
        rows.append([ctx.button(_("🏁 The job has ended"), "hr_finish")])
    other = hire.worker_id if household else hire.household_id
    if hire.status == "finished" and other is not None and not await _reviewed(ctx, hire):
        rows.append([ctx.button(_("⭐ Review"), "hr_review")])
    rows.append([ctx.button(_("⚠ Report a problem"), "hr_report")])
    rows.append(
        [ctx.button(_("◀ Interviews and hires"), "jobs"), ctx.button(_("◀ Main menu"), "home")]
    )
    return [ctx.reply("\n".join(lines), *rows)]


async def _reviewed(ctx: Ctx, hire: Hire) -> bool:
    side = "household" if hire.household_id == ctx.user.id else "worker"
    return side in await ctx.repos.reviews.of_hire(hire)


async def _moved(ctx: Ctx) -> Replies:
    hire = await _viewed(ctx)
    text = ctx._(
        "Not done: this hire changed meanwhile. It is now: {status}",
        status=hire_status(ctx, hire),
    )
    return [ctx.reply(text), *await ctx.goto(HR_VIEW)]


def _household_trial(ctx: Ctx, hire: Hire) -> None:
    if hire.household_id != ctx.user.id or hire.status != "trial":
        raise Invalid(ctx._("I don't recognise that button."))


# --- her answer to the trial's terms ----------------------------------------------------------
def _her_trial(ctx: Ctx, hire: Hire) -> None:
    if hire.worker_id != ctx.user.id or hire.status != "trial":
        raise Invalid(ctx._("I don't recognise that button."))


@router.button(HR_VIEW, "hr_agree")
async def agree(ctx: Ctx, _arg: str) -> Replies:
    hire = await _viewed(ctx)
    _her_trial(ctx, hire)
    try:
        hire = await ctx.repos.hiring.agree_terms(hire)
    except Moved:
        return await _moved(ctx)
    await _tell_household(
        ctx, hire, N_("✅ {name} agrees to the trial's terms. After the trial, confirm the hire.")
    )
    return [ctx.reply(ctx._("✅ Thank you. The household is told.")), *await ctx.goto(HR_VIEW)]


@router.button(HR_VIEW, "hr_decline")
async def decline(ctx: Ctx, _arg: str) -> Replies:
    hire = await _viewed(ctx)
    _her_trial(ctx, hire)
    try:
        hire = await ctx.repos.hiring.end_trial(hire, "declined")
    except Moved:
        return await _moved(ctx)
    await _tell_household(
        ctx,
        hire,
        N_("{name} cannot do this trial. Open your request to find other helpers."),
    )
    return [
        ctx.reply(ctx._("The trial is called off. The household is told.")),
        *await ctx.goto(HR_VIEW),
    ]


async def _tell_household(ctx: Ctx, hire: Hire, message: str) -> None:
    """A notice to the household of `hire`, in its language; `message` is a msgid
    with `{name}` (hers), marked for translation (`N_`) where it is written."""
    household = await ctx.repos.users.by_id(hire.household_id)
    if household is None:
        return
    theirs = outside(ctx.repos, household, ctx.options)
    name = first_name(await ctx.repos.workers.get(hire.profile_id) if hire.profile_id else None)
    text = theirs._(message, name=name)
    ctx.notify(household.key, [jobs_notice(theirs, text)], topic=f"hire:{hire.id}")


# --- confirming ----------------------------------------------------------------------------
@router.button(HR_VIEW, "hr_confirm")
async def ask_confirm(ctx: Ctx, _arg: str) -> Replies:
    _household_trial(ctx, await _viewed(ctx))
    return await ctx.goto(HR_CONFIRM)


@router.prompt(HR_CONFIRM)
async def confirm_screen(ctx: Ctx) -> Replies:
    _ = ctx._
    hire = await _viewed(ctx)
    profile = await ctx.repos.workers.get(hire.profile_id)
    text = _(
        "Confirm the hire of {name}? You both receive the contract summary, as a message "
        "and as a document.",
        name=first_name(profile),
    )
    rows = [
        [ctx.button(_("✅ Yes, confirm"), "hr_yes")],
        [ctx.button(_("◀ Back"), "to_hire")],
    ]
    return [ctx.reply(text, *rows)]


router.goes("to_hire", HR_VIEW, HR_CONFIRM, HR_END, HR_FINISH)


@router.button(HR_CONFIRM, "hr_yes")
async def confirm(ctx: Ctx, _arg: str) -> Replies:
    from handlers.contract import send_contract

    hire = await _viewed(ctx)
    _household_trial(ctx, hire)
    try:
        hire = await ctx.repos.hiring.confirm(hire)
    except Moved:
        return await _moved(ctx)
    request = await ctx.repos.requests.by_id(hire.request_id) if hire.request_id else None
    if request is not None and request.status != "closed":
        await ctx.repos.requests.set_status(request, "closed", keep_address=True)
    if hire.request_id is not None:  # filled: the other helpers she was seeing are told
        others = await ctx.repos.hiring.cancel_live(
            request_id=hire.request_id, keep=hire.interview_id
        )
        for other in others:
            await tell_cancelled(ctx, other, "filled", to="worker")
    log.info("a hire was confirmed: hire %s", hire.id)
    try:
        await send_contract(ctx, hire)
    except LookupError:  # a side's data is gone: nothing to send to
        log.warning("a confirmed hire's contract was not sent: a party is gone")
    text = ctx._("✅ Hired. The contract summary is on its way to you both.")
    return [ctx.reply(text), *await ctx.goto(HR_VIEW)]


# --- ending the trial: a replacement ------------------------------------------------------
def end_words(ctx: Ctx, reason: str) -> str:
    _ = ctx._
    return {
        "fit": _("not a good fit"),
        "absent": _("she could not come"),
        "other": _("another reason"),
        "declined": _("she could not do the trial"),
        "erased": _("one side deleted its data"),
    }.get(reason, reason)


@router.button(HR_VIEW, "hr_end")
async def ask_end(ctx: Ctx, _arg: str) -> Replies:
    _household_trial(ctx, await _viewed(ctx))
    return await ctx.goto(HR_END)


@router.prompt(HR_END)
async def end_screen(ctx: Ctx) -> Replies:
    _ = ctx._
    text = _(
        "End the trial? Please pay her the trial fee for the days she worked. Why does it "
        "end? We then show you other helpers."
    )
    rows = [[ctx.button(end_words(ctx, r).capitalize(), "hr_why", r)] for r in END_REASONS]
    rows.append([ctx.button(_("◀ Back"), "to_hire")])
    return [ctx.reply(text, *rows)]


@router.button(HR_END, "hr_why")
async def end_trial(ctx: Ctx, reason: str) -> Replies:
    from handlers.household_request import find_helpers

    if reason not in END_REASONS:
        raise Invalid(ctx._("I don't recognise that button."))
    hire = await _viewed(ctx)
    _household_trial(ctx, hire)
    try:
        hire = await ctx.repos.hiring.end_trial(hire, reason)
    except Moved:
        return await _moved(ctx)
    log.info("a trial was ended: hire %s", hire.id)
    await tell_worker(ctx, hire, "ended")
    request = await ctx.repos.requests.by_id(hire.request_id)
    note = ctx.reply(ctx._("Ended. Here are other helpers for your request:"))
    if request is None or request.status != "open":
        return [note, *await ctx.goto(JOBS)]
    ctx.remember(request={"id": request.id, "walk": []}, hire_open=None)
    return [note, *await find_helpers(ctx, "")]


# --- the job is over ------------------------------------------------------------------------
def _household_hired(ctx: Ctx, hire: Hire) -> None:
    if hire.household_id != ctx.user.id or hire.status != "hired":
        raise Invalid(ctx._("I don't recognise that button."))


@router.button(HR_VIEW, "hr_finish")
async def ask_finish(ctx: Ctx, _arg: str) -> Replies:
    hire = await _viewed(ctx)
    _household_hired(ctx, hire)
    if ctx.today() < hire.starts_on:  # a job that has not started has nothing to review
        raise Invalid(
            ctx._(
                "The job has not started yet (it starts on {date}). If it will not "
                "happen, report a problem and the programme will help.",
                date=ctx._.date(hire.starts_on),
            )
        )
    return await ctx.goto(HR_FINISH)


@router.prompt(HR_FINISH)
async def finish_screen(ctx: Ctx) -> Replies:
    _ = ctx._
    hire = await _viewed(ctx)
    name = first_name(await ctx.repos.workers.get(hire.profile_id) if hire.profile_id else None)
    text = _(
        "Has the job with {name} ended? You are both asked for a review, and the "
        "address you gave is deleted.",
        name=name,
    )
    rows = [
        [ctx.button(_("🏁 Yes, it has ended"), "hr_over")],
        [ctx.button(_("◀ Back"), "to_hire")],
    ]
    return [ctx.reply(text, *rows)]


@router.button(HR_FINISH, "hr_over")
async def finish(ctx: Ctx, _arg: str) -> Replies:
    from handlers.reviews import start_review

    hire = await _viewed(ctx)
    _household_hired(ctx, hire)
    try:
        hire = await ctx.repos.hiring.finish(hire)
    except Moved:
        return await _moved(ctx)
    await job_over(ctx, hire)
    return await start_review(ctx, hire, back=HR_VIEW)


async def job_over(ctx: Ctx, hire: Hire) -> None:
    """The job is over: the address is no longer needed (deleted), and she is asked for
    a review. (At the end date `handlers.chores` does the same for both sides.)"""
    request = await ctx.repos.requests.by_id(hire.request_id)
    if request is not None and request.address:
        await ctx.repos.requests.set_address(request, "")
    await tell_worker(ctx, hire, "finished")


@router.button(HR_VIEW, "hr_review")
async def review(ctx: Ctx, _arg: str) -> Replies:
    from handlers.reviews import start_review

    return await start_review(ctx, await _viewed(ctx), back=HR_VIEW)


@router.button(HR_VIEW, "hr_contract")
async def contract(ctx: Ctx, _arg: str) -> Replies:
    from handlers.contract import contract_replies

    hire = await _viewed(ctx)
    if hire.confirmed_at is None:
        raise Invalid(ctx._("I don't recognise that button."))
    return [*await contract_replies(ctx, hire), *await ctx.ask()]


@router.button(HR_VIEW, "hr_report")
async def report(ctx: Ctx, _arg: str) -> Replies:
    from handlers.problems import start_report

    hire = await _viewed(ctx)
    return await start_report(
        ctx,
        back=HR_VIEW,
        request_id=hire.request_id,
        interview_id=hire.interview_id,
        hire_id=hire.id,
    )


# --- telling her ------------------------------------------------------------------------------
async def tell_worker(ctx: Ctx, hire: Hire, what: str) -> None:
    her = await ctx.repos.users.by_id(hire.worker_id)
    if her is None:
        return
    hers = outside(ctx.repos, her, ctx.options)
    _ = hers._
    if what == "trial":
        lines = [
            _("🧪 The household starts a trial with you:"),
            *terms_lines(
                hers,
                wage=hire.wage,
                unit=hire.wage_unit,
                days=hire.trial_days,
                fee=hire.trial_fee,
                start=hire.starts_on,
                end=hire.ends_on,
            ),
        ]
        text = "\n".join(lines)
    elif what == "ended":
        text = _(
            "The household ended the trial ({reason}). The trial fee of {fee} a day is due "
            "for the days you worked. If something is wrong, report a problem.",
            reason=end_words(hers, hire.end_reason),
            fee=_.money(hire.trial_fee * 100),
        )
    elif what == "erased":
        text = _(
            "The household of your hire has deleted its data on Haoxin, so it is no "
            "longer shown here. If you need help, report a problem."
        )
    else:
        text = _("🏁 The job has ended. Please review the household: tap ⭐ Review.")
    ctx.notify(her.key, [jobs_notice(hers, text)], topic=f"hire:{hire.id}")


# --- one side erases her data ------------------------------------------------------------------
async def before_erasure(ctx: Ctx, user: User) -> None:
    """Before her data is erased (`/delete_me`, a WeChat unfollow): her live interviews
    are cancelled and the other sides told; a live trial ends and a live hire is over
    (`HiringRepo.close_for_erasure`), the other side is told, and a household's address
    goes with the job. The hire itself stays, without either person, for the
    programme's placement numbers (`Hire`'s links are emptied)."""
    for interview in await ctx.repos.hiring.cancel_live(user_id=user.id):
        to = "worker" if interview.household_id == user.id else "household"
        await tell_cancelled(ctx, interview, "erased", to=to)
    for hire in await ctx.repos.hiring.hires_of(user, limit=None):
        side = "household" if hire.household_id == user.id else "worker"
        await ctx.repos.hiring.forget_party(hire, side)  # her details leave its contract
        if hire.status not in ("trial", "hired"):
            continue
        # without one side it cannot go on: a trial ends, a hire is over (no reviews),
        # so she is not kept "at work" and the household can look again
        hire = await ctx.repos.hiring.close_for_erasure(hire)
        if hire.household_id == user.id:
            await tell_worker(ctx, hire, "erased")
            continue
        request = await ctx.repos.requests.by_id(hire.request_id) if hire.request_id else None
        if request is not None and request.address and request.status == "closed":
            await ctx.repos.requests.set_address(request, "")
        household = await ctx.repos.users.by_id(hire.household_id)
        if household is not None:
            theirs = outside(ctx.repos, household, ctx.options)
            text = theirs._(
                "The helper of your hire has deleted her data on Haoxin, so it is no longer "
                "shown here. If you need help, report a problem."
            )
            ctx.notify(household.key, [jobs_notice(theirs, text)], topic=f"hire:{hire.id}")
