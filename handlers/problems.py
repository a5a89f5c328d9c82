"""Reporting a problem, from either side, at any time (issue 11).

    an interview's or a hire's screen ─start_report(ctx, back=…, hire_id=…)─▶ PR_TEXT:
        what happened, typed ─▶ PR_CONFIRM ─✅ Send─▶ stored with its reference
        (`R-7K3QM`), every admin told in the outbox, she is told the reference and
        what happens next ─▶ `back`
                              ├─✏ Change─▶ PR_TEXT (what she wrote is kept)
    ✖ Cancel on either ─▶ nothing stored ─▶ `back`

The request, interview or hire it is about must be hers (`HiringRepo.hire` and
`interview`, `RequestRepo.get`, or an interview of hers for that request): a report
never names someone else's. Staff read it in "⚠ Reports and ratings"
(`handlers.staff_reports`); a text that mentions danger or violence (`urgent`) is marked
urgent in their notice and on their screen, and she is told to call the police if anyone
is in danger now.

This module also holds what the review flow and the staff screen say alike: a job in
words (`job_words`, `about_words`) and notices to every admin (`tell_staff`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from handlers import typed
from handlers.context import Ctx, Options, outside
from handlers.danger import urgent
from handlers.onboarding import HOUSEHOLD
from handlers.questions import free_text
from handlers.replies import Reply
from handlers.router import Invalid, Replies, Router
from locales import Translator, translator
from storage.models import ProblemReport
from storage.reviews import MAX_REPORT, Context, side_of
from storage.vocab import KINDS_OF_WORK, MODES
from storage.workers import holds_id_number

router = Router(__name__)

PR_TEXT = router.state("PR_TEXT", personal=True)
PR_CONFIRM = router.state("PR_CONFIRM", personal=True)

typed.no_search(PR_CONFIRM)
free_text(PR_TEXT)  # what happened, in her words: never taken for a question

#: the shortest report, characters (`打人` is a report)
MIN_REPORT = 2
#: how much of the text the staff's notice quotes
NOTICE_EXCERPT = 200
#: the police in mainland China (Hong Kong and Macau: 999)
POLICE = "110"


# --- words shared with the reviews and the staff screen -----------------------------------
def job_words(
    _: Translator,
    kind: str,
    mode: str = "",
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> str:
    """A job in words: `月嫂/母婴护理 · 住家 · 2026年10月1日 – 2026年11月1日`."""
    parts = []
    if term := KINDS_OF_WORK.get(kind):
        parts.append(_(term.label))
    if term := MODES.get(mode):
        parts.append(_(term.label))
    if starts_on and ends_on:
        parts.append(f"{_.date(starts_on)} – {_.date(ends_on)}")
    elif starts_on:
        parts.append(_("from {date}", date=_.date(starts_on)))
    return " · ".join(parts) or "—"


def about_words(_: Translator, context: Context, options: Options) -> str:
    """What a report is about, in a few words: `a hire (…)`, `an interview (…)`."""
    if context.what == "hire":
        job = job_words(_, context.kind, context.mode, context.starts_on, context.ends_on)
        return _("hire #{id} ({job})", id=context.ident, job=job)
    if context.what == "interview":
        job = job_words(_, context.kind, context.mode)
        if context.at is not None:
            job += " · " + _.date(options.local(context.at).date())
        return _("interview #{id} ({job})", id=context.ident, job=job)
    if context.what == "request":
        job = job_words(_, context.kind, context.mode, context.starts_on)
        return _("request #{id} ({job})", id=context.ident, job=job)
    return _("no particular job")


def side_words(_: Translator, side: str) -> str:
    return _("a household") if side == "household" else _("a worker")


async def tell_staff(ctx: Ctx, words: Callable[[Translator], str], topic: str) -> None:
    """Send `words` (made in each admin's own language; Chinese for an admin who has
    not written to Haoxin yet) to every programme admin, through the outbox."""
    for key in ctx.options.admins:
        admin = await ctx.repos.users.get(key)
        _ = outside(ctx.repos, admin, ctx.options)._ if admin is not None else translator("zh")
        ctx.notify(key, [Reply(words(_))], topic=topic)


def staff_notice(_: Translator, report: ProblemReport, context: Context, options: Options) -> str:
    """What staff are told of a new report: urgent or not, its reference, who, what
    about, the first `NOTICE_EXCERPT` characters, where to see it."""
    text = report.text
    excerpt = text if len(text) <= NOTICE_EXCERPT else text[:NOTICE_EXCERPT] + "…"
    lines = ["🚨 " + _("URGENT: it mentions danger or violence.")] if urgent(text) else []
    lines += [
        "⚠ "
        + _(
            "Problem report {reference} from {side}, about {what}:",
            reference=report.reference,
            side=side_words(_, report.side),
            what=about_words(_, context, options),
        ),
        f"“{excerpt}”",
        _("Open “⚠ Reports and ratings” in the staff menu."),
    ]
    return "\n".join(lines)


# --- what she reports about -----------------------------------------------------------------
def _form(ctx: Ctx) -> dict[str, Any]:
    found = ctx.form.get("problem")
    return dict(found) if isinstance(found, dict) else {}


def _set(ctx: Ctx, **values: Any) -> None:
    ctx.remember(problem={**_form(ctx), **values})


async def _checked_context(
    ctx: Ctx, request_id: int | None, interview_id: int | None, hire_id: int | None
) -> dict[str, Any]:
    """The ids of what she reports about, each hers, with her side: the hire's
    interview and request too, the interview's request. Raises `Invalid` for one that
    is not hers (or gone)."""
    _ = ctx._
    gone = Invalid(_("I can't find that job among yours."))
    hiring = ctx.repos.hiring
    if hire_id is not None:
        hire = await hiring.hire(ctx.user, hire_id)
        if hire is None:
            raise gone
        side = side_of(hire, ctx.user) or "worker"
        return {
            "side": side,
            "hire": hire.id,
            "interview": hire.interview_id,
            "request": hire.request_id,
        }
    if interview_id is not None:
        interview = await hiring.interview(ctx.user, interview_id)
        if interview is None:
            raise gone
        side = "household" if interview.household_id == ctx.user.id else "worker"
        return {"side": side, "interview": interview.id, "request": interview.request_id}
    if request_id is not None:
        if await ctx.repos.requests.get(ctx.user, request_id) is not None:
            return {"side": "household", "request": int(request_id)}
        asked = await hiring.interviews_of(ctx.user, limit=100)
        if any(i.request_id == int(request_id) and i.worker_id == ctx.user.id for i in asked):
            return {"side": "worker", "request": int(request_id)}
        raise gone
    return {"side": "household" if ctx.user.role == HOUSEHOLD else "worker"}


async def start_report(
    ctx: Ctx,
    *,
    back: str,
    request_id: int | None = None,
    interview_id: int | None = None,
    hire_id: int | None = None,
) -> Replies:
    """Open the report of a problem about one of her requests, interviews or hires (or
    none), and come back to the state `back` when sent or cancelled. Raises `Invalid`
    when the request, interview or hire is not hers: her screen is asked again."""
    found = await _checked_context(ctx, request_id, interview_id, hire_id)
    ctx.remember(problem={"back": back, **found})
    return await ctx.goto(PR_TEXT)


async def _context(ctx: Ctx) -> Context:
    f = _form(ctx)
    return await ctx.repos.reports.context(f.get("request"), f.get("interview"), f.get("hire"))


async def _leave(ctx: Ctx, *notes: str) -> Replies:
    """Back to where she opened the report, the report's form dropped."""
    back = _form(ctx).get("back") or ""
    ctx.user.form = {k: v for k, v in ctx.form.items() if k != "problem"}
    if back not in ctx.flows.states:
        from handlers.menus import home_state

        back = home_state(ctx)
    return [*(ctx.reply(n) for n in notes if n), *await ctx.goto(back)]


# --- what happened ----------------------------------------------------------------------------
@router.prompt(PR_TEXT)
async def ask_text(ctx: Ctx) -> Replies:
    _ = ctx._
    if not _form(ctx):
        return await _leave(ctx)
    lines = ["⚠ " + _("Report a problem")]
    context = await _context(ctx)
    if context.what is not None:
        lines.append(_("About: {what}", what=about_words(_, context, ctx.options)))
    lines += [
        "",
        _(
            "Tell us what happened, in your own words (at most {most} characters). Only "
            "programme staff read it, and they will contact you in this chat.",
            most=MAX_REPORT,
        ),
        _("If anyone is in danger right now, call the police: {police}.", police=POLICE),
    ]
    rows = []
    written = _form(ctx).get("text")
    if written:
        lines += ["", _("You wrote: “{text}”", text=written)]
        rows.append([ctx.button(_("✔ Keep what I wrote"), "keep")])
    rows.append([ctx.button(_("✖ Cancel"), "cancel")])
    return [ctx.reply("\n".join(lines), *rows)]


@router.text(PR_TEXT)
async def text_typed(ctx: Ctx, text: str) -> Replies:
    _ = ctx._
    text = text.strip()
    if len(text) < MIN_REPORT:
        raise Invalid(_("Please tell us a little more: a few words are enough."))
    if len(text) > MAX_REPORT:
        raise Invalid(
            _(
                "That is {n} characters; please keep it to {most}. (What you wrote is still "
                "above: copy it and shorten it.)",
                n=len(text),
                most=MAX_REPORT,
            )
        )
    if holds_id_number(text):
        raise Invalid(
            _(
                "That looks like an ID card number. Please don't put it here: it is asked "
                "only once, in its own part, and is never kept whole."
            )
        )
    _set(ctx, text=text)
    return await ctx.goto(PR_CONFIRM)


@router.button(PR_TEXT, "keep")
async def keep_text(ctx: Ctx, _arg: str) -> Replies:
    if not _form(ctx).get("text"):
        raise Invalid(ctx._("Please type what happened."))
    return await ctx.goto(PR_CONFIRM)


# --- sending it ------------------------------------------------------------------------------
@router.prompt(PR_CONFIRM)
async def ask_confirm(ctx: Ctx) -> Replies:
    _ = ctx._
    written = _form(ctx).get("text")
    if not written:
        return await ctx.goto(PR_TEXT) if _form(ctx) else await _leave(ctx)
    lines = [_("Send this report to programme staff?")]
    context = await _context(ctx)
    if context.what is not None:
        lines.append(_("About: {what}", what=about_words(_, context, ctx.options)))
    lines += ["", f"“{written}”"]
    return [
        ctx.reply(
            "\n".join(lines),
            [ctx.button(_("✅ Send the report"), "send")],
            [ctx.button(_("✏ Change it"), "change"), ctx.button(_("✖ Cancel"), "cancel")],
        )
    ]


@router.button(PR_CONFIRM, "send")
async def send(ctx: Ctx, _arg: str) -> Replies:
    _ = ctx._
    f = _form(ctx)
    text = str(f.get("text") or "")
    if not text:
        raise Invalid(_("Please type what happened."))
    try:  # what it was about may be gone since (erased): then it is about nothing
        found = await _checked_context(ctx, f.get("request"), f.get("interview"), f.get("hire"))
    except Invalid:
        found = await _checked_context(ctx, None, None, None)
    report = await ctx.repos.reports.open(
        ctx.user,
        found["side"],
        text,
        request_id=found.get("request"),
        interview_id=found.get("interview"),
        hire_id=found.get("hire"),
    )
    context = await ctx.repos.reports.context(
        report.request_id, report.interview_id, report.hire_id
    )
    danger = urgent(text)

    def notice(_: Translator) -> str:  # in each admin's language
        return staff_notice(_, report, context, ctx.options)

    await tell_staff(ctx, notice, topic=f"report:{report.id}")
    words = [
        _(
            "✅ Sent. Your reference number is {reference}: please keep it, and give it if "
            "you call us.",
            reference=report.reference,
        ),
        _("Programme staff will read your report and call you back."),
    ]
    if ctx.options.office_phone:
        words.append(
            _("You can also call the programme office: {phone}.", phone=ctx.options.office_phone)
        )
    if danger:
        words.append(
            _("If anyone is in danger right now, call the police: {police}.", police=POLICE)
        )
    return await _leave(ctx, "\n".join(words))


@router.button(PR_CONFIRM, "change")
async def change(ctx: Ctx, _arg: str) -> Replies:
    return await ctx.goto(PR_TEXT)


async def cancel(ctx: Ctx, _arg: str) -> Replies:
    return await _leave(ctx, ctx._("Nothing was sent."))


for _state in (PR_TEXT, PR_CONFIRM):
    router.button(_state, "cancel")(cancel)
