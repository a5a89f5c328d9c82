"""Signing up for a course: a short guided form, a summary, then a seat or the waiting list.

    COURSE_CARD ─sign up─▶ (PRIVACY, the first time) ▶ ASK_NAME ▶ ASK_PHONE ▶ ASK_COUNTY
        ▶ ASK_AGE ▶ ASK_FREE (only where it changes what she pays) ▶ CONFIRM_SIGNUP
        ─confirm─▶ seat | waiting list

Only what the training base needs is asked (PIPL art. 6, the minimum): her name, a phone
number to call her, her county and her age (courses are for ages 16 to 70), and, only
for a course with a fee that some groups train free, whether she is in one of them. A
course free to everyone never asks it; one without free groups shows its fee on the
summary. Answers she gave before (her profile) are filled in and not asked again, so a
second course is "Sign up", then "Confirm". Every step has ◀ Back and ✖ Cancel; the
summary can change any one answer and come straight back. Nothing is booked before she
confirms the summary.
"""

from __future__ import annotations

from typing import Any

from handlers import reminders
from handlers.context import Ctx
from handlers.courses import COURSE_CARD, base_name, free_for_names, title
from handlers.events import Contact
from handlers.phone import phone_question
from handlers.replies import Button
from handlers.router import Invalid, Replies, Router
from handlers.validate import age, checked_name, checked_phone
from storage.courses import AlreadyBooked, is_open
from storage.models import Course, Signup
from storage.vocab import CITIES, COUNTIES, Term, plain

router = Router(__name__)

ASK_NAME = router.state("ASK_NAME", personal=True)
ASK_PHONE = router.state("ASK_PHONE", personal=True)
ASK_COUNTY = router.state("ASK_COUNTY", personal=True)
ASK_AGE = router.state("ASK_AGE", numeric=True, personal=True)
ASK_FREE = router.state("ASK_FREE", personal=True)
CONFIRM_SIGNUP = router.state("CONFIRM_SIGNUP", personal=True)
CONFIRM_OVERLAP = router.state("CONFIRM_OVERLAP")

# each step: its state and the answer it fills in
STEPS = [
    (ASK_NAME, "name"),
    (ASK_PHONE, "phone"),
    (ASK_COUNTY, "county"),
    (ASK_AGE, "age"),
    (ASK_FREE, "free"),
]
KEY = dict(STEPS)
NONE = "none"  # in none of the groups that train free


def answers(ctx: Ctx) -> dict[str, Any]:
    return dict(ctx.form.get("signup") or {})


def _set(ctx: Ctx, **values: Any) -> None:
    ctx.remember(signup={**answers(ctx), **values})


def free_groups(course: Course) -> list[str]:
    """The groups that train free on this course, when that changes what she pays: a
    course with a fee and free groups; none for a free course or one without them."""
    return list(course.free_for or []) if course.fee_fen else []


def _steps(ctx: Ctx) -> list[tuple[str, str]]:
    """The steps this sign-up asks (the free-training one only where it matters)."""
    groups = answers(ctx).get("groups") or []
    return [(s, k) for s, k in STEPS if s != ASK_FREE or groups]


def _numbered(ctx: Ctx, state: str) -> dict[str, int]:
    steps = [s for s, _k in _steps(ctx)]
    return {"n": steps.index(state) + 1 if state in steps else 1, "total": len(steps)}


# --- starting and moving between steps -------------------------------------------------
@router.button(COURSE_CARD, "signup")
async def start(ctx: Ctx, arg: str) -> Replies:
    course = await ctx.repos.courses.get(int(ctx.form.get("course") or 0))
    if course is None or str(course.id) != arg:
        raise Invalid(ctx._("I don't recognise that button."))
    if not is_open(course, ctx.today()):
        raise Invalid(ctx._("Sorry, sign-up for this course has closed."))
    mine = await ctx.repos.signups.mine(course.id, ctx.user.id) if ctx.user.id else None
    if mine is not None and mine.status != "cancelled":
        raise Invalid(ctx._("You already have a place on this course."))
    clash = await _overlapping(ctx, course)
    if clash is not None and ctx.user.state != CONFIRM_OVERLAP:
        ctx.remember(overlap={"course": course.id, "with": clash.course_id})
        return await ctx.goto(CONFIRM_OVERLAP)
    groups = free_groups(course)
    profile = await ctx.repos.profiles.of(ctx.user) if ctx.user.id else None
    known: dict[str, Any] = {}
    if profile is not None:
        saved = (
            ("name", profile.name),
            ("phone", profile.phone),
            ("county", profile.county),
            ("age", profile.age),
            # her group is kept only where this course asks about one of them
            ("free", profile.free_reason if profile.free_reason in [*groups, NONE] else ""),
        )
        known = {k: v for k, v in saved if v}
    ctx.remember(signup={"course": course.id, "groups": groups, **known})
    return await _next(ctx, after=None)


async def _overlapping(ctx: Ctx, course: Course) -> Signup | None:
    """A seat or waiting-list place of hers on another course whose days overlap this
    one's (both ends included), or None."""
    if not ctx.user.id:
        return None
    for held in await ctx.repos.signups.of_user(ctx.user.id):
        other = held.course
        if other.id != course.id and (
            other.starts_on <= course.ends_on and course.starts_on <= other.ends_on
        ):
            return held
    return None


@router.prompt(CONFIRM_OVERLAP)
async def ask_overlap(ctx: Ctx) -> Replies:
    _ = ctx._
    overlap = ctx.form.get("overlap") or {}
    other = await ctx.repos.courses.get(int(overlap.get("with") or 0))
    if other is None:  # that place is gone: nothing overlaps any more
        return await ctx.goto(COURSE_CARD)
    text = _(
        "You already have a place on “{title}” ({first} – {last}), whose days overlap "
        "this course's. Sign up for this one as well?",
        title=title(ctx, other),
        first=_.date(other.starts_on),
        last=_.date(other.ends_on),
    )
    return [
        ctx.reply(
            text,
            [ctx.button(_("✍ Yes, sign up as well"), "signup", overlap.get("course") or 0)],
            [ctx.button(_("◀ No, back to the course"), "back_card")],
        )
    ]


@router.button(CONFIRM_OVERLAP, "signup")
async def sign_up_as_well(ctx: Ctx, arg: str) -> Replies:
    if str((ctx.form.get("overlap") or {}).get("course")) != arg:
        raise Invalid(ctx._("I don't recognise that button."))
    ctx.user.form = {k: v for k, v in ctx.form.items() if k != "overlap"}
    return await start(ctx, arg)


router.goes("back_card", COURSE_CARD, CONFIRM_OVERLAP)


async def _next(ctx: Ctx, after: str | None) -> Replies:
    """The next unanswered step after `after` (or the summary)."""
    done = answers(ctx)
    if done.get("editing"):
        return await ctx.goto(CONFIRM_SIGNUP)
    steps = _steps(ctx)
    states = [s for s, _k in steps]
    start_at = states.index(after) + 1 if after in states else 0
    for state, key in steps[start_at:]:
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
    states = [s for s, _k in _steps(ctx)]
    i = states.index(ctx.user.state) if ctx.user.state in states else 0
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
    text = ctx._("✍ Sign-up, step {n} of {total}: what is your name?", **_numbered(ctx, ASK_NAME))
    return [ctx.reply(text, *_step_buttons(ctx, ASK_NAME))]


@router.text(ASK_NAME)
async def got_name(ctx: Ctx, text: str) -> Replies:
    return await _answer(ctx, ASK_NAME, checked_name(ctx._, text))


@router.prompt(ASK_PHONE)
async def ask_phone(ctx: Ctx) -> Replies:
    _ = ctx._
    text = _(
        "Step {n} of {total}: your mobile phone number, so the training base can call you.",
        **_numbered(ctx, ASK_PHONE),
    )
    return [phone_question(ctx, text, *_step_buttons(ctx, ASK_PHONE))]


@router.text(ASK_PHONE)
async def got_phone(ctx: Ctx, text: str) -> Replies:
    return await _answer(ctx, ASK_PHONE, checked_phone(ctx._, text))


@router.contact(ASK_PHONE)
async def got_contact(ctx: Ctx, contact: Contact) -> Replies:
    return await _answer(ctx, ASK_PHONE, checked_phone(ctx._, contact.phone))


def county_name(ctx: Ctx, county: str) -> str:
    """Her county (or city) as she reads it: by its label in her language."""
    term = COUNTIES.of_name(county) or CITIES.of_name(county)
    return ctx._(term.label) if term else ctx._.text(county)


@router.prompt(ASK_COUNTY)
async def ask_county(ctx: Ctx) -> Replies:
    buttons = [ctx.button(ctx._(t.label), "county", t.id) for t in COUNTIES]
    rows = [buttons[:3], buttons[3:]]
    text = ctx._(
        "Step {n} of {total}: which county do you live in? Tap it, or type another place.",
        **_numbered(ctx, ASK_COUNTY),
    )
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
    """A county of the list (or a city people come from), however written: 化州,
    化州市, huazhou, 電白, or inside a sentence (我住在化州). Anything else is asked
    again: the training base must know where she lives."""
    term = named_place(text)
    if term is None:
        raise Invalid(
            ctx._(
                "Please tap your county, or type its name ({counties}).",
                counties=ctx._.join(ctx._(t.label) for t in COUNTIES),
            )
        )
    return await _answer(ctx, ASK_COUNTY, term.name)


def named_place(text: str) -> Term | None:
    """The county or city `text` names, as a whole or inside a sentence, or None."""
    for vocabulary in (COUNTIES, CITIES):
        if (term := vocabulary.of_name(text)) is not None:
            return term
    plain_text = plain(text)
    for vocabulary in (COUNTIES, CITIES):
        for term in vocabulary:
            said = [*term.names, *(w for w in (term.id, term.label, *term.typed) if len(w) >= 4)]
            if any(len(plain(n)) >= 2 and plain(n) in plain_text for n in said):
                return term
    return None


@router.prompt(ASK_AGE)
async def ask_age(ctx: Ctx) -> Replies:
    text = ctx._(
        "Step {n} of {total}: how old are you? Type a number, like 38.", **_numbered(ctx, ASK_AGE)
    )
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
    return {**free_for_names(ctx), NONE: ctx._("none of these")}


@router.prompt(ASK_FREE)
async def ask_free(ctx: Ctx) -> Replies:
    _ = ctx._
    names = free_reason_names(ctx)
    groups = [g for g in answers(ctx).get("groups") or [] if g in names]
    rows = [[ctx.button(names[g], "free", g)] for g in [*groups, NONE]]
    current = answers(ctx).get("free")
    text = _(
        "Step {n} of {total}: this course is free for {groups}. Are you one of them? "
        "(Staff check this at the first class.)",
        groups=_.join(names[g] for g in groups),
        **_numbered(ctx, ASK_FREE),
    )
    return [ctx.reply(text, *rows, *_step_buttons(ctx, ASK_FREE, names.get(current or "", "")))]


@router.button(ASK_FREE, "free")
async def got_free(ctx: Ctx, arg: str) -> Replies:
    if arg not in [*(answers(ctx).get("groups") or []), NONE]:
        raise Invalid(ctx._("I don't recognise that button."))
    return await _answer(ctx, ASK_FREE, arg)


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
            _("Lives in: {county}", county=county_name(ctx, a.get("county", ""))),
            _("Age: {value}", value=a.get("age", "")),
            _fee_line(ctx, course, a),
        ]
    )
    if await ctx.repos.courses.seats_left(course.id) <= 0:
        text += "\n⏳ " + _("This course is full: confirming puts you on the waiting list.")
    edit = _("✏ Change")
    labels = {
        "name": _("name"),
        "phone": _("phone"),
        "county": _("county"),
        "age": _("age"),
        "free": _("free training"),
    }
    changes = [
        ctx.button(f"{edit} {labels[key]}", "change", i)
        for i, (_state, key) in enumerate(STEPS)
        if (_state, key) in _steps(ctx)
    ]
    return [
        ctx.reply(
            text,
            [ctx.button(_("✅ Confirm sign-up"), "confirm", course.id)],
            *[changes[i : i + 2] for i in range(0, len(changes), 2)],
            [ctx.button(_("✖ Cancel"), "cancel_form")],
        )
    ]


def _fee_line(ctx: Ctx, course: Course, a: dict[str, Any]) -> str:
    """What she will pay: free for everyone, free as one of the groups she named, or
    the fee (when she is in none of them, or the course has no free groups)."""
    _ = ctx._
    if not course.fee_fen:
        return _("Fee: {fee}", fee=_("free"))
    free = a.get("free") or NONE
    if free != NONE:
        return _("Free training as: {value}", value=free_reason_names(ctx).get(free, ""))
    return _("Fee: {fee}", fee=_.money(course.fee_fen))


@router.button(CONFIRM_SIGNUP, "change")
async def change(ctx: Ctx, arg: str) -> Replies:
    if not arg.isdecimal() or int(arg) >= len(STEPS) or STEPS[int(arg)] not in _steps(ctx):
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
    saved = {"name": a["name"], "phone": a["phone"], "county": a["county"], "age": a["age"]}
    if a.get("free"):
        saved["free_reason"] = a["free"]
    await ctx.repos.profiles.save(ctx.user, **saved)
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
            age=a["age"],
            free_reason=a.get("free") or "",
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
