"""After the job: each side reviews the other (issue 11).

    a finished hire's screen ─start_review(ctx, hire, back)─▶ RV_QUALITY ▶ RV_COMMUNICATION
        ▶ RV_RELIABILITY (each 1-5: ⭐ buttons, or a typed digit) ▶ RV_COMMENT (typed, or
        ⏭ No comment) ▶ RV_SUMMARY ─✅ Send─▶ saved (`ReviewRepo.add`), thanks ─▶ `back`
                                   └─✏ Change─▶ RV_QUALITY … (her answers kept: ✔ Keep)
    ◀ Back: the step before; ✖ Cancel on any step: nothing saved ─▶ `back`

A household reviews the worker (quality of her work, communication, reliability); the
worker reviews the household (the job as described and its conditions, communication,
keeping to what was agreed). Her answers wait in her form (`review`), so a restart, or
opening the same review again, goes on where she was; nothing is saved before "Send",
and "Send" checks again that the hire is hers, finished, and not reviewed by her side
(the repository's unique constraint decides between two at once). A button from an
earlier screen, or one never shown, is refused by the core and records nothing.

A household's review that puts the worker in the staff's review queue (her last five
average below 4.0) tells every admin; she is not hidden.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from handlers import typed
from handlers.context import Ctx
from handlers.problems import job_words, tell_staff
from handlers.replies import Button
from handlers.router import Invalid, Replies, Router
from locales import Translator
from storage.models import Hire
from storage.reviews import (
    FLAG_BELOW,
    HIGHEST,
    LOWEST,
    MAX_COMMENT,
    RECENT,
    AlreadyReviewed,
    BadReview,
    side_of,
)
from storage.workers import holds_contact, holds_id_number, show_code

router = Router(__name__)

RV_QUALITY = router.state("RV_QUALITY", numeric=True, personal=True)
RV_COMMUNICATION = router.state("RV_COMMUNICATION", numeric=True, personal=True)
RV_RELIABILITY = router.state("RV_RELIABILITY", numeric=True, personal=True)
RV_COMMENT = router.state("RV_COMMENT", personal=True)
RV_SUMMARY = router.state("RV_SUMMARY", personal=True)

typed.no_search(RV_SUMMARY)

#: the marks, in order: (state, the form's key)
MARKS = [
    (RV_QUALITY, "quality"),
    (RV_COMMUNICATION, "communication"),
    (RV_RELIABILITY, "reliability"),
]
STEPS = [state for state, _key in MARKS] + [RV_COMMENT]
_KEY = dict(MARKS)
#: a mark typed in words or stars: 五, 五星, ⭐⭐⭐, 4分
_NUMERALS = {"一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5}
_STARS = re.compile(r"[⭐★☆*]")


def stars(n: int) -> str:
    """A mark as stars and its number: `⭐⭐⭐⭐ 4`."""
    return "⭐" * n + f" {n}"


# --- her form ---------------------------------------------------------------------------
def _form(ctx: Ctx) -> dict[str, Any]:
    found = ctx.form.get("review")
    return dict(found) if isinstance(found, dict) else {}


def _set(ctx: Ctx, **values: Any) -> None:
    ctx.remember(review={**_form(ctx), **values})


def _next_step(form: dict[str, Any]) -> str:
    """The first step she has not answered (the summary when all are)."""
    for state, key in MARKS:
        if key not in form:
            return state
    return RV_COMMENT if "comment" not in form else RV_SUMMARY


async def _leave(ctx: Ctx, *notes: str) -> Replies:
    """Back to where she opened the review, its form dropped."""
    back = _form(ctx).get("back") or ""
    ctx.user.form = {k: v for k, v in ctx.form.items() if k != "review"}
    if back not in ctx.flows.states:
        from handlers.menus import home_state

        back = home_state(ctx)
    return [*(ctx.reply(n) for n in notes if n), *await ctx.goto(back)]


def _refusal(ctx: Ctx, hire: Hire | None, reviewed: bool) -> str | None:
    """Why she cannot review `hire` (None: she can)."""
    _ = ctx._
    if hire is None or side_of(hire, ctx.user) is None:
        return _("I can't find that job among yours.")
    if hire.status != "finished":
        return _("You can review a job once it has finished.")
    if reviewed:
        return _("You have already reviewed this job. Thank you!")
    return None


async def _her_hire(ctx: Ctx, hire_id: object) -> tuple[Hire | None, bool]:
    """The hire as it is now if it is hers, and whether her side reviewed it already."""
    hire = await ctx.repos.hiring.hire(ctx.user, hire_id)  # type: ignore[arg-type]
    if hire is None:
        return None, False
    side = side_of(hire, ctx.user)
    return hire, side in await ctx.repos.reviews.of_hire(hire)


async def start_review(ctx: Ctx, hire: Hire, back: str) -> Replies:
    """Open her review of a finished hire (either side), coming back to the state
    `back` when sent or cancelled. Raises `Invalid` (her screen is asked again) when it
    is not her hire, not finished, or her side reviewed it already. A review of the
    same hire begun before goes on where she stopped."""
    found, reviewed = await _her_hire(ctx, hire.id)
    refusal = _refusal(ctx, found, reviewed)
    if refusal is not None or found is None:
        raise Invalid(refusal or "")
    side = side_of(found, ctx.user)
    form = _form(ctx)
    if form.get("hire") != found.id or form.get("side") != side:
        form = {"hire": found.id, "side": side}
    form["back"] = back
    form.pop("changing", None)
    ctx.remember(review=form)
    return await ctx.goto(_next_step(form))


async def _current(ctx: Ctx) -> Hire | None:
    """The hire being reviewed, when she may still review it; else None."""
    hire, reviewed = await _her_hire(ctx, _form(ctx).get("hire"))
    return hire if _refusal(ctx, hire, reviewed) is None else None


# --- words ----------------------------------------------------------------------------------
async def _heading(ctx: Ctx, hire: Hire) -> str:
    """`⭐ Your review of 李秀英 (月嫂 · …)` / `… of the household (…)`."""
    _ = ctx._
    job = job_words(_, hire.kind, hire.mode, hire.starts_on, hire.ends_on)
    if side_of(hire, ctx.user) == "household":
        profile = await ctx.repos.workers.get(hire.profile_id)
        who = profile.name if profile is not None and profile.name else _("the worker")
        return "⭐ " + _("Your review of {name} ({job})", name=who, job=job)
    return "⭐ " + _("Your review of the household ({job})", job=job)


def _question(_: Translator, side: str, key: str) -> str:
    if side == "household":
        questions = {
            "quality": _("How good was her work?"),
            "communication": _("How well did she communicate with you?"),
            "reliability": _("How reliable was she: on time, doing what was agreed?"),
        }
    else:
        questions = {
            "quality": _("How was the job: as described, with fair conditions?"),
            "communication": _("How well did the household communicate with you?"),
            "reliability": _("Did the household keep to what was agreed: pay, hours, rest?"),
        }
    return questions[key]


def _axis(_: Translator, key: str) -> str:
    names = {
        "quality": _("Quality"),
        "communication": _("Communication"),
        "reliability": _("Reliability"),
    }
    return names[key]


def _nav(ctx: Ctx, state: str) -> list[list[Button]]:
    _ = ctx._
    row = [ctx.button(_("◀ Back"), "back_step")] if state != RV_QUALITY else []
    return [[*row, ctx.button(_("✖ Cancel"), "cancel")]]


# --- the three marks -----------------------------------------------------------------------
async def ask_mark(ctx: Ctx) -> Replies:
    _ = ctx._
    hire = await _current(ctx)
    if hire is None:
        return await _leave(ctx, _("That review can no longer be written."))
    form, state = _form(ctx), ctx.user.state
    key = _KEY[state]
    step = STEPS.index(state) + 1
    lines = [
        await _heading(ctx, hire),
        _.sentences(
            [_("Step {n} of {total}.", n=step, total=len(STEPS)), _question(_, form["side"], key)]
        ),
        _("Tap 1 (poor) to 5 (excellent), or type a number."),
    ]
    rows = [
        [ctx.button(stars(n), "mark", n) for n in range(LOWEST, 4)],
        [ctx.button(stars(n), "mark", n) for n in range(4, HIGHEST + 1)],
    ]
    if key in form:
        lines.append(_("Now: {mark}", mark=stars(int(form[key]))))
        rows.append([ctx.button(_("✔ Keep {mark}", mark=stars(int(form[key]))), "keep")])
    return [ctx.reply("\n".join(lines), *rows, *_nav(ctx, state))]


def _typed_mark(text: str) -> int | None:
    """A mark as typed: `4`, `４`, `四`, `4分`, `五星`, `⭐⭐⭐`; None when it is none."""
    plain = unicodedata.normalize("NFKC", text).strip()
    if plain and not _STARS.sub("", plain).strip():
        n = len(_STARS.findall(plain))
        return n if LOWEST <= n <= HIGHEST else None
    plain = re.sub(r"\s*(分|星|颗星|顆星|stars?|points?)$", "", plain, flags=re.IGNORECASE)
    if plain.isdecimal() and len(plain) == 1:
        n = int(plain)
    elif plain in _NUMERALS:
        n = _NUMERALS[plain]
    else:
        return None
    return n if LOWEST <= n <= HIGHEST else None


async def _marked(ctx: Ctx, n: int) -> Replies:
    state = ctx.user.state
    _set(ctx, **{_KEY[state]: n})
    return await _after(ctx, state)


async def _after(ctx: Ctx, state: str) -> Replies:
    """The step after `state`: the next one, or the summary once every one is answered
    (changing her answers, each step is walked through again)."""
    later = STEPS[STEPS.index(state) + 1 :]
    form = _form(ctx)
    if later and (form.get("changing") or _next_step(form) != RV_SUMMARY):
        return await ctx.goto(later[0])
    _set(ctx, changing=False)
    return await ctx.goto(_next_step(_form(ctx)))


async def mark_tapped(ctx: Ctx, arg: str) -> Replies:
    n = int(arg) if arg.isdecimal() else 0
    if not LOWEST <= n <= HIGHEST:
        raise Invalid(ctx._("I don't recognise that button."))
    return await _marked(ctx, n)


async def mark_typed(ctx: Ctx, text: str) -> Replies:
    n = _typed_mark(text)
    if n is None:
        raise Invalid(ctx._("Please tap 1 to 5 stars, or type a number from 1 to 5."))
    return await _marked(ctx, n)


async def keep(ctx: Ctx, _arg: str) -> Replies:
    state = ctx.user.state
    if state != RV_COMMENT and _KEY[state] not in _form(ctx):
        raise Invalid(ctx._("I don't recognise that button."))
    return await _after(ctx, state)


async def back_step(ctx: Ctx, _arg: str) -> Replies:
    state = ctx.user.state
    index = STEPS.index(state) if state in STEPS else 0
    _set(ctx, changing=True)  # walking back: forward again step by step
    return await ctx.goto(STEPS[max(0, index - 1)])


async def cancel(ctx: Ctx, _arg: str) -> Replies:
    return await _leave(ctx, ctx._("Your review was not sent. You can write it later."))


for _state, _key in MARKS:
    router.prompt(_state)(ask_mark)
    router.text(_state)(mark_typed)
    router.button(_state, "mark")(mark_tapped)
    router.button(_state, "keep")(keep)
for _state in STEPS:
    router.button(_state, "back_step")(back_step)
for _state in (*STEPS, RV_SUMMARY):
    router.button(_state, "cancel")(cancel)


# --- the comment ----------------------------------------------------------------------------
@router.prompt(RV_COMMENT)
async def ask_comment(ctx: Ctx) -> Replies:
    _ = ctx._
    hire = await _current(ctx)
    if hire is None:
        return await _leave(ctx, _("That review can no longer be written."))
    lines = [
        await _heading(ctx, hire),
        _.sentences(
            [
                _("Step {n} of {total}.", n=len(STEPS), total=len(STEPS)),
                _(
                    "Anything to add? Type a short comment (at most {most} characters), or "
                    "tap “No comment”. No phone numbers or ID numbers, please.",
                    most=MAX_COMMENT,
                ),
            ]
        ),
    ]
    rows = []
    comment = _form(ctx).get("comment")
    if comment:
        lines.append(_("Now: “{comment}”", comment=comment))
        rows.append([ctx.button(_("✔ Keep my comment"), "keep")])
    rows.append([ctx.button(_("⏭ No comment"), "skip")])
    return [ctx.reply("\n".join(lines), *rows, *_nav(ctx, RV_COMMENT))]


@router.text(RV_COMMENT)
async def comment_typed(ctx: Ctx, text: str) -> Replies:
    _ = ctx._
    comment = " ".join(text.split())
    if holds_id_number(comment):
        raise Invalid(_("That looks like an ID card number. Please don't put it in your comment."))
    if holds_contact(comment):
        raise Invalid(_("Please don't write a phone number or a WeChat ID in your comment."))
    if len(comment) > MAX_COMMENT:
        raise Invalid(
            _(
                "That is {n} characters; please keep it to {most}. (What you wrote is still "
                "above: copy it and shorten it.)",
                n=len(comment),
                most=MAX_COMMENT,
            )
        )
    _set(ctx, comment=comment, changing=False)
    return await ctx.goto(RV_SUMMARY)


@router.button(RV_COMMENT, "skip")
async def no_comment(ctx: Ctx, _arg: str) -> Replies:
    _set(ctx, comment="", changing=False)
    return await ctx.goto(RV_SUMMARY)


router.button(RV_COMMENT, "keep")(keep)


# --- the summary, and sending it ------------------------------------------------------------
@router.prompt(RV_SUMMARY)
async def ask_summary(ctx: Ctx) -> Replies:
    _ = ctx._
    hire = await _current(ctx)
    if hire is None:
        return await _leave(ctx, _("That review can no longer be written."))
    form = _form(ctx)
    missing = _next_step(form)
    if missing != RV_SUMMARY:
        return await ctx.goto(missing)
    lines = [await _heading(ctx, hire), ""]
    lines += [f"{_axis(_, key)}: {stars(int(form[key]))}" for _s, key in MARKS]
    comment = form.get("comment")
    lines.append(_("Comment: “{comment}”", comment=comment) if comment else _("No comment."))
    lines.append("")
    if form.get("side") == "household":
        lines.append(
            _(
                "Programme staff read every review. Her average shows on her credential "
                "once she has three reviews."
            )
        )
    else:
        lines.append(_("Programme staff read every review."))
    lines.append(_("Once sent, a review cannot be changed. Send it?"))
    return [
        ctx.reply(
            "\n".join(lines),
            [ctx.button(_("✅ Send my review"), "send")],
            [ctx.button(_("✏ Change"), "change"), ctx.button(_("✖ Cancel"), "cancel")],
        )
    ]


@router.button(RV_SUMMARY, "change")
async def change(ctx: Ctx, _arg: str) -> Replies:
    _set(ctx, changing=True)
    return await ctx.goto(RV_QUALITY)


@router.button(RV_SUMMARY, "send")
async def send(ctx: Ctx, _arg: str) -> Replies:
    _ = ctx._
    form = _form(ctx)
    hire, reviewed = await _her_hire(ctx, form.get("hire"))
    refusal = _refusal(ctx, hire, reviewed)
    if refusal is not None or hire is None:
        return await _leave(ctx, refusal or "")
    side = side_of(hire, ctx.user)
    if side != form.get("side") or _next_step(form) != RV_SUMMARY:
        raise Invalid(_("I don't recognise that button."))
    profile = await ctx.repos.workers.get(hire.profile_id)
    flagged_before = profile.review_flagged_at if profile is not None else None
    try:
        await ctx.repos.reviews.add(
            hire,
            side,
            ctx.user,
            int(form["quality"]),
            int(form["communication"]),
            int(form["reliability"]),
            str(form.get("comment") or ""),
        )
    except AlreadyReviewed:
        return await _leave(ctx, _("You have already reviewed this job. Thank you!"))
    except BadReview:
        return await _leave(ctx, _("That review can no longer be written."))
    if profile is not None and flagged_before is None and profile.review_flagged_at is not None:
        await _tell_staff_of_flag(ctx, profile.id)
    return await _leave(ctx, "⭐ " + _("Thank you! Your review is saved."))


async def _tell_staff_of_flag(ctx: Ctx, profile_id: int) -> None:
    """Every admin: this worker is in the review queue now."""
    profile = await ctx.repos.workers.get(profile_id)
    if profile is None:
        return
    recent = await ctx.repos.reviews.recent(profile_id, RECENT)
    marks = [r.quality + r.communication + r.reliability for r in recent]
    average = f"{sum(marks) / (3 * len(marks)) if marks else 0.0:.1f}"
    floor = f"{FLAG_BELOW:.1f}"

    def notice(_: Translator) -> str:  # in each admin's language
        return "⚠ " + _(
            "{name} (credential {code}) is in the review queue: her average over her last "
            "{n} reviews is {average}, below {floor}. She is still shown to households. "
            "Open “⚠ Reports and ratings” in the staff menu.",
            name=profile.name or "—",
            code=show_code(profile.code) if profile.code else "—",
            n=len(marks),
            average=average,
            floor=floor,
        )

    await tell_staff(ctx, notice, topic=f"review_queue:{profile_id}")
