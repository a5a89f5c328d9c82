"""Signing up for a course: a guided form, a summary, then a seat or the waiting list.

    COURSE_CARD ─sign up─▶ ASK_NAME ▶ ASK_PHONE ▶ ASK_COUNTY ▶ ASK_TOWNSHIP ▶ ASK_AGE
                            ▶ ASK_FREE ▶ ASK_WHEN ▶ CONFIRM_SIGNUP ─confirm─▶ seat | waiting list
Answers she gave before (her profile) are filled in, and only what is missing is asked.
Every step has ◀ Back and ✖ Cancel; the summary can change any one answer and come
straight back. Nothing is booked before she confirms the summary.
"""

from __future__ import annotations

from typing import Any

from handlers import reminders
from handlers.context import Ctx
from handlers.courses import COURSE_CARD, base_name, free_for_names, title
from handlers.events import Contact
from handlers.replies import Button
from handlers.router import Invalid, Replies, Router
from handlers.validate import age, checked_name, checked_phone, short_text
from storage.courses import AlreadyBooked, is_open
from storage.vocab import COUNTIES, FREE_GROUPS

router = Router(__name__)

ASK_NAME = router.state("ASK_NAME")
ASK_PHONE = router.state("ASK_PHONE")
ASK_COUNTY = router.state("ASK_COUNTY")
ASK_TOWNSHIP = router.state("ASK_TOWNSHIP")
ASK_AGE = router.state("ASK_AGE", numeric=True)
ASK_FREE = router.state("ASK_FREE")
ASK_WHEN = router.state("ASK_WHEN")
CONFIRM_SIGNUP = router.state("CONFIRM_SIGNUP")

# each step: its state and the answer it fills in
STEPS = [
    (ASK_NAME, "name"),
    (ASK_PHONE, "phone"),
    (ASK_COUNTY, "county"),
    (ASK_TOWNSHIP, "township"),
    (ASK_AGE, "age"),
    (ASK_FREE, "free"),
    (ASK_WHEN, "when"),
]
KEY = dict(STEPS)
# her county is kept as the data names it (`茂南`), shown by its label in her language
FREE_REASONS = [*(t.id for t in FREE_GROUPS), "none"]
WHEN = ["all", "weekdays", "weekends"]


def answers(ctx: Ctx) -> dict[str, Any]:
    return dict(ctx.form.get("signup") or {})


def _set(ctx: Ctx, **values: Any) -> None:
    ctx.remember(signup={**answers(ctx), **values})


# --- starting and moving between steps -------------------------------------------------
@router.button(COURSE_CARD, "signup")
async def start(ctx: Ctx, arg: str) -> Replies:
    course = await ctx.repos.courses.get(int(ctx.form.get("course") or 0))
    if course is None or str(course.id) != arg:
        raise Invalid(ctx._("I don't recognise that button."))
    if not is_open(course, ctx.today()):
        raise Invalid(ctx._("Sorry, sign-up for this course has closed."))
    mine = await ctx.repos.signups.mine(course.id, ctx.user.id)
    if mine is not None and mine.status != "cancelled":
        raise Invalid(ctx._("You already have a place on this course."))
    profile = await ctx.repos.profiles.of(ctx.user)
    known: dict[str, Any] = {}
    if profile is not None:
        known = {
            k: v
            for k, v in (
                ("name", profile.name),
                ("phone", profile.phone),
                ("county", profile.county),
                ("township", profile.township),
                ("age", profile.age),
            )
            if v
        }
    ctx.remember(signup={"course": course.id, **known})
    return await _next(ctx, after=None)


async def _next(ctx: Ctx, after: str | None) -> Replies:
    """The next unanswered step after `after` (or the summary)."""
    done = answers(ctx)
    if done.get("editing"):
        return await ctx.goto(CONFIRM_SIGNUP)
    states = [s for s, _k in STEPS]
    start_at = states.index(after) + 1 if after in states else 0
    for state, key in STEPS[start_at:]:
        if done.get(key) in (None, ""):
            return await ctx.goto(state)
    return await ctx.goto(CONFIRM_SIGNUP)


async def _answer(ctx: Ctx, state: str, value: Any) -> Replies:
    _set(ctx, **{KEY[state]: value})
    return await _next(ctx, after=state)


def _step_buttons(ctx: Ctx, state: str, shown: str | None = None) -> list[list[Button]]:
    _ = ctx._
    rows = []
    current = answers(ctx).get(KEY[state])
    if current not in (None, ""):
        rows.append([ctx.button(_("Keep: {answer}", answer=shown or current), "keep")])
    rows.append([ctx.button(_("◀ Back"), "back_step"), ctx.button(_("✖ Cancel"), "cancel_form")])
    return rows


async def keep(ctx: Ctx, _arg: str) -> Replies:
    return await _next(ctx, after=ctx.user.state)


async def back_step(ctx: Ctx, _arg: str) -> Replies:
    if answers(ctx).get("editing"):
        return await ctx.goto(CONFIRM_SIGNUP)
    states = [s for s, _k in STEPS]
    i = states.index(ctx.user.state)
    return await ctx.goto(states[i - 1] if i > 0 else COURSE_CARD)


async def cancel_form(ctx: Ctx, _arg: str) -> Replies:
    ctx.user.form = {k: v for k, v in ctx.form.items() if k != "signup"}
    return [ctx.reply(ctx._("Sign-up stopped. Nothing was booked.")), *await ctx.goto(COURSE_CARD)]


for _state, _key in STEPS:
    router.button(_state, "keep")(keep)
    router.button(_state, "back_step")(back_step)
    router.button(_state, "cancel_form")(cancel_form)


# --- the steps -------------------------------------------------------------------------
@router.prompt(ASK_NAME)
async def ask_name(ctx: Ctx) -> Replies:
    return [
        ctx.reply(
            ctx._("✍ Sign-up, step 1 of 7: what is your name?"), *_step_buttons(ctx, ASK_NAME)
        )
    ]


@router.text(ASK_NAME)
async def got_name(ctx: Ctx, text: str) -> Replies:
    return await _answer(ctx, ASK_NAME, checked_name(ctx._, text))


@router.prompt(ASK_PHONE)
async def ask_phone(ctx: Ctx) -> Replies:
    _ = ctx._
    return [
        ctx.reply(
            _(
                "Step 2 of 7: your mobile phone number, so the training base can call you. "
                "Type it here (on Telegram you can also tap “📱 Share my phone number”)."
            ),
            *_step_buttons(ctx, ASK_PHONE),
            request_contact=_("📱 Share my phone number"),
        )
    ]


@router.text(ASK_PHONE)
async def got_phone(ctx: Ctx, text: str) -> Replies:
    return await _answer(ctx, ASK_PHONE, checked_phone(ctx._, text))


@router.contact(ASK_PHONE)
async def got_contact(ctx: Ctx, contact: Contact) -> Replies:
    return await _answer(ctx, ASK_PHONE, checked_phone(ctx._, contact.phone))


def county_name(ctx: Ctx, county: str) -> str:
    """Her county as she reads it: a county of `COUNTIES` by its label, a place she
    typed as she typed it."""
    term = COUNTIES.of_name(county)
    return ctx._(term.label) if term else county


@router.prompt(ASK_COUNTY)
async def ask_county(ctx: Ctx) -> Replies:
    buttons = [ctx.button(ctx._(t.label), "county", t.id) for t in COUNTIES]
    rows = [buttons[:3], buttons[3:]]
    text = ctx._("Step 3 of 7: which county do you live in? Tap it, or type another place.")
    current = answers(ctx).get("county") or ""
    return [ctx.reply(text, *rows, *_step_buttons(ctx, ASK_COUNTY, county_name(ctx, current)))]


@router.button(ASK_COUNTY, "county")
async def county_tapped(ctx: Ctx, arg: str) -> Replies:
    term = COUNTIES.get(arg)
    if term is None:
        raise Invalid(ctx._("I don't recognise that button."))
    return await _answer(ctx, ASK_COUNTY, term.name)


@router.text(ASK_COUNTY)
async def county_typed(ctx: Ctx, text: str) -> Replies:
    place = short_text(text, 20)
    if place is None:
        raise Invalid(ctx._("Please type the county in a few words (at most 20 characters)."))
    return await _answer(ctx, ASK_COUNTY, place)


@router.prompt(ASK_TOWNSHIP)
async def ask_township(ctx: Ctx) -> Replies:
    text = ctx._("Step 4 of 7: which township or street (镇 / 街道)?")
    return [ctx.reply(text, *_step_buttons(ctx, ASK_TOWNSHIP))]


@router.text(ASK_TOWNSHIP)
async def got_township(ctx: Ctx, text: str) -> Replies:
    place = short_text(text, 20)
    if place is None:
        raise Invalid(ctx._("Please type the township in a few words (at most 20 characters)."))
    return await _answer(ctx, ASK_TOWNSHIP, place)


@router.prompt(ASK_AGE)
async def ask_age(ctx: Ctx) -> Replies:
    text = ctx._("Step 5 of 7: how old are you? Type a number, like 38.")
    return [ctx.reply(text, *_step_buttons(ctx, ASK_AGE))]


@router.text(ASK_AGE)
async def got_age(ctx: Ctx, text: str) -> Replies:
    years = age(text)
    if years is None:
        raise Invalid(ctx._("Please type your age as a number, like 38."))
    if not 16 <= years <= 70:
        raise Invalid(ctx._("Courses are for people aged 16 to 70. Please check your age."))
    return await _answer(ctx, ASK_AGE, years)


def free_reason_names(ctx: Ctx) -> dict[str, str]:
    return {**free_for_names(ctx), "none": ctx._("none of these")}


@router.prompt(ASK_FREE)
async def ask_free(ctx: Ctx) -> Replies:
    _ = ctx._
    names = free_reason_names(ctx)
    rows = [[ctx.button(names[r], "free", r)] for r in FREE_REASONS]
    current = answers(ctx).get("free")
    return [
        ctx.reply(
            _(
                "Step 6 of 7: training is free for rural women, unemployed people and registered "
                "poor households. Which are you? (Staff check this at the first class.)"
            ),
            *rows,
            *_step_buttons(ctx, ASK_FREE, names.get(current or "", "")),
        )
    ]


@router.button(ASK_FREE, "free")
async def got_free(ctx: Ctx, arg: str) -> Replies:
    if arg not in FREE_REASONS:
        raise Invalid(ctx._("I don't recognise that button."))
    return await _answer(ctx, ASK_FREE, arg)


def when_names(ctx: Ctx) -> dict[str, str]:
    _ = ctx._
    return {
        "all": _("every day of the course"),
        "weekdays": _("weekdays only"),
        "weekends": _("weekends only"),
    }


@router.prompt(ASK_WHEN)
async def ask_when(ctx: Ctx) -> Replies:
    names = when_names(ctx)
    rows = [[ctx.button(names[w], "when", w)] for w in WHEN]
    current = answers(ctx).get("when") or ""
    text = ctx._("Step 7 of 7: when can you attend? Tap one, or type it.")
    return [ctx.reply(text, *rows, *_step_buttons(ctx, ASK_WHEN, names.get(current, current)))]


@router.button(ASK_WHEN, "when")
async def when_tapped(ctx: Ctx, arg: str) -> Replies:
    if arg not in WHEN:
        raise Invalid(ctx._("I don't recognise that button."))
    return await _answer(ctx, ASK_WHEN, arg)


@router.text(ASK_WHEN)
async def when_typed(ctx: Ctx, text: str) -> Replies:
    when = short_text(text, 40)
    if when is None:
        raise Invalid(ctx._("Please say it in a few words (at most 40 characters)."))
    return await _answer(ctx, ASK_WHEN, when)


# --- the summary -----------------------------------------------------------------------
@router.prompt(CONFIRM_SIGNUP)
async def summary(ctx: Ctx) -> Replies:
    _ = ctx._
    a = answers(ctx)
    course = await ctx.repos.courses.get(int(a.get("course") or 0))
    if course is None:
        return [
            ctx.reply(_("I can't find that course. It may have been removed.")),
            *await ctx.goto(COURSE_CARD),
        ]
    _set(ctx, editing=False)
    text = "\n".join(
        [
            _(
                "Please check your sign-up for “{title}” ({day}):",
                title=title(ctx, course),
                day=_.date(course.starts_on),
            ),
            _("Name: {value}", value=a.get("name", "")),
            _("Phone: {value}", value=a.get("phone", "")),
            _(
                "Lives in: {county}, {township}",
                county=county_name(ctx, a.get("county", "")),
                township=a.get("township", ""),
            ),
            _("Age: {value}", value=a.get("age", "")),
            _("Free training as: {value}", value=free_reason_names(ctx).get(a.get("free", ""), "")),
            _(
                "Can attend: {value}",
                value=when_names(ctx).get(a.get("when", ""), a.get("when", "")),
            ),
        ]
    )
    edit = _("✏ Change")
    labels = [
        _("name"),
        _("phone"),
        _("county"),
        _("township"),
        _("age"),
        _("free training"),
        _("when"),
    ]
    changes = [ctx.button(f"{edit} {label}", "change", i) for i, label in enumerate(labels)]
    return [
        ctx.reply(
            text,
            [ctx.button(_("✅ Confirm sign-up"), "confirm", course.id)],
            changes[0:2],
            changes[2:4],
            changes[4:6],
            changes[6:7],
            [ctx.button(_("✖ Cancel"), "cancel_form")],
        )
    ]


@router.button(CONFIRM_SIGNUP, "change")
async def change(ctx: Ctx, arg: str) -> Replies:
    if not arg.isdecimal() or int(arg) >= len(STEPS):
        raise Invalid(ctx._("I don't recognise that button."))
    _set(ctx, editing=True)
    return await ctx.goto(STEPS[int(arg)][0])


router.button(CONFIRM_SIGNUP, "cancel_form")(cancel_form)


@router.button(CONFIRM_SIGNUP, "confirm")
async def confirm(ctx: Ctx, arg: str) -> Replies:
    from handlers.menus import SEEKER_MENU
    from handlers.my_signups import MY_SIGNUPS

    _ = ctx._
    a = answers(ctx)
    course = await ctx.repos.courses.get(int(a.get("course") or 0))
    if course is None or str(course.id) != arg:
        raise Invalid(_("I don't recognise that button."))
    await ctx.repos.profiles.save(
        ctx.user,
        name=a["name"],
        phone=a["phone"],
        county=a["county"],
        township=a["township"],
        age=a["age"],
    )
    if not is_open(course, ctx.today()):
        ctx.user.form = {k: v for k, v in ctx.form.items() if k != "signup"}
        return [
            ctx.reply(
                _(
                    "Sorry, sign-up for “{title}” closed while you were filling in "
                    "the form. Your answers are saved for your next sign-up.",
                    title=title(ctx, course),
                )
            ),
            *await ctx.goto(COURSE_CARD),
        ]
    try:
        signup = await ctx.repos.signups.book(
            course.id,
            ctx.user.id,
            name=a["name"],
            phone=a["phone"],
            county=a["county"],
            township=a["township"],
            age=a["age"],
            free_reason=a["free"],
            availability=a["when"],
        )
    except AlreadyBooked:
        ctx.user.form = {}
        return [
            ctx.reply(_("You already have a place on this course.")),
            *await ctx.goto(SEEKER_MENU),
        ]
    ctx.user.form = {}
    if signup.status == "confirmed":
        reminders.remind(ctx, ctx.user, course)
        text = _(
            "✅ Your seat is confirmed: “{title}”, from {day} at {place}. We will remind "
            "you the day before.",
            title=title(ctx, course),
            day=_.date(course.starts_on),
            place=base_name(ctx, course.base),
        )
    else:
        position = await ctx.repos.signups.position(signup)
        text = _(
            "This course is full. You are number {n} on the waiting list; we will tell "
            "you as soon as a seat frees up.",
            n=position,
        )
    return [ctx.reply(text), *await ctx.goto(MY_SIGNUPS)]
