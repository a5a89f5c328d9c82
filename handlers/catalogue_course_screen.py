"""A course's screen for staff, and its changes (issue 12), on the course form's router.

    CATALOGUE ─a course─▶ CAT_COURSE: its details, seats and the people holding a place
        ├─ 📅 Reschedule ─▶ CAT_C_START ▶ CAT_C_END ▶ CAT_C_MOVE ─yes─▶ saved, told
        ├─ 🚪 Change room ─▶ CAT_C_ROOM ─────────────────────────────▶ saved, told
        ├─ ✏ Edit ─▶ CAT_C_EDIT: title, English title, kind, hours, seats, sign-up
        │            closes ─▶ that step ─▶ saved (more seats: the first waiting get them)
        └─ ✖ Cancel the course ─▶ CAT_C_CANCEL ─yes─▶ cancelled, everyone told: CATALOGUE

The screen keeps what it showed (`cat_seen`, `storage.catalogue.seen_course`); every
change is conditional on it: if another staff member (or an import) changed the course
meanwhile, nothing is saved and she sees it as it is now. A change of dates, room or
hours, or a cancellation, tells everyone holding a place in her own language and moves
her reminder (`handlers.changes.announce`, in the same transaction). Seats never go
below the people seated. Every prompt and action is `staff_only`, and the course is
read again each time, hers only for a base's staff (`handlers.catalogue.course_for`).
"""

from __future__ import annotations

import logging

from handlers import typed
from handlers.catalogue import CATALOGUE, catalogue, changed_meanwhile, course_for, told
from handlers.catalogue_answers import show_day
from handlers.catalogue_course import CAT_C_SUMMARY, FORM, router
from handlers.catalogue_form import Run, drop_run
from handlers.changes import announce
from handlers.context import Ctx
from handlers.courses import base_name, county, title
from handlers.router import Invalid, Replies
from handlers.staff import staff_base
from handlers.vetting import staff_only
from storage.catalogue import (
    COURSE_EDITABLE,
    FewerSeats,
    NotYourBase,
    Stale,
    seen_course,
)
from storage.models import Course
from storage.vocab import KINDS_OF_WORK

log = logging.getLogger(__name__)

CAT_COURSE = router.state("CAT_COURSE", staff=True)
CAT_C_EDIT = router.state("CAT_C_EDIT", staff=True)
CAT_C_MOVE = router.state("CAT_C_MOVE", staff=True)
CAT_C_CANCEL = router.state("CAT_C_CANCEL", staff=True)

typed.no_search(CAT_COURSE, CAT_C_EDIT, CAT_C_MOVE, CAT_C_CANCEL, CAT_C_SUMMARY)

#: what "✏ Edit" offers, in this order
EDITABLE = ("title", "title_en", "track", "daily_hours", "seats", "signup_closes_on")


async def _this(ctx: Ctx, arg: str | None = None) -> Course:
    """The course on her screen, as it is now (and the one the button names)."""
    course = await course_for(ctx, ctx.form.get("cat_course"))
    if arg is not None and arg != str(course.id):
        raise Invalid(ctx._("I don't recognise that button."))
    return course


async def _open(ctx: Ctx, arg: str | None = None) -> Course:
    """As `_this`, for a change: not for a cancelled course."""
    course = await _this(ctx, arg)
    if course.status == "cancelled":
        ctx.user.state = CAT_COURSE
        raise Invalid(ctx._("This course has been cancelled."))
    return course


@router.button(CATALOGUE, "course")
@staff_only
async def open_course(ctx: Ctx, arg: str) -> Replies:
    course = await course_for(ctx, arg)
    drop_run(ctx)
    ctx.remember(cat_course=course.id)
    return await ctx.goto(CAT_COURSE)


# --- the screen ------------------------------------------------------------------------------
async def course_text(ctx: Ctx, course: Course) -> str:
    """The course as staff see it: what people see, and its seats and code."""
    _ = ctx._
    seated, waiting = await catalogue(ctx).holders(course.id)
    place = base_name(ctx, course.base)
    if course.base.county:
        place = _("{place} ({county})", place=place, county=county(ctx, course))
    closes = course.signup_closes_on
    lines = [
        f"📚 {title(ctx, course)}",
        " · ".join(x for x in (_.term(KINDS_OF_WORK, course.track), f"🏫 {place}") if x),
        "📅 "
        + _(
            "{start} to {end}, {hours}",
            start=_.date(course.starts_on),
            end=_.date(course.ends_on),
            hours=course.daily_hours or "—",
        ),
        "🚪 " + _("Room: {room}", room=_.text(course.room) or "—"),
        "🪑 "
        + _(
            "{seats} seats: {seated} seated, {waiting} waiting",
            seats=course.seats,
            seated=seated,
            waiting=waiting,
        ),
        "⏰ "
        + (_("Sign up by {day}", day=_.date(closes)) if closes else _("Sign-up until it starts")),
        "🏷 " + _("Code: {code}", code=course.code),
    ]
    if course.title_en and _.lang != "en":
        lines.insert(1, f"🔤 {course.title_en}")
    if course.status == "cancelled":
        lines.append("⛔ " + _("This course has been cancelled."))
    return "\n".join(lines)


@router.prompt(CAT_COURSE)
@staff_only
async def show_course(ctx: Ctx) -> Replies:
    _ = ctx._
    course = await _this(ctx)
    ctx.remember(cat_seen=seen_course(course))  # what every change is conditional on
    rows = []
    if course.status != "cancelled":
        rows += [
            [ctx.button(_("📅 Reschedule"), "reschedule", course.id)],
            [ctx.button(_("🚪 Change room"), "room", course.id)],
            [ctx.button(_("✏ Edit (title / seats / hours …)"), "edit", course.id)],
            [ctx.button(_("✖ Cancel the course"), "cancel_course", course.id)],
        ]
    rows.append([ctx.button(_("◀ Courses"), "cat_list"), ctx.button(_("◀ Main menu"), "home")])
    return [ctx.reply(await course_text(ctx, course), *rows)]


@router.button(CAT_COURSE, "cat_list")
@staff_only
async def back_to_list(ctx: Ctx, _arg: str) -> Replies:
    ctx.user.form = {k: v for k, v in ctx.form.items() if k not in ("cat_course", "cat_seen")}
    return await ctx.goto(CATALOGUE)


def _answers(ctx: Ctx) -> dict:
    """The form's answers as the course was shown (what "Keep" keeps)."""
    seen = ctx.form.get("cat_seen") or {}
    return {k: v for k, v in seen.items() if k in COURSE_EDITABLE}


@router.button(CAT_COURSE, "reschedule")
@staff_only
async def reschedule(ctx: Ctx, arg: str) -> Replies:
    course = await _open(ctx, arg)
    return await FORM.start_edit(
        ctx, course.id, _answers(ctx), ["starts_on", "ends_on"], "course:reschedule"
    )


@router.button(CAT_COURSE, "room")
@staff_only
async def change_room(ctx: Ctx, arg: str) -> Replies:
    course = await _open(ctx, arg)
    return await FORM.start_edit(ctx, course.id, _answers(ctx), ["room"], "course:room")


@router.button(CAT_COURSE, "edit")
@staff_only
async def edit(ctx: Ctx, arg: str) -> Replies:
    await _open(ctx, arg)
    return await ctx.goto(CAT_C_EDIT)


@router.prompt(CAT_C_EDIT)
@staff_only
async def what_to_edit(ctx: Ctx) -> Replies:
    _ = ctx._
    course = await _open(ctx)
    names = [FORM.by_key[key] for key in EDITABLE]
    rows = [[ctx.button("✏ " + ctx._(step.name), "field", step.key)] for step in names]
    rows.append([ctx.button(_("◀ Back"), "back_course")])
    text = _("📚 {title}: what would you like to change?", title=title(ctx, course))
    return [ctx.reply(text, *rows)]


@router.button(CAT_C_EDIT, "field")
@staff_only
async def edit_field(ctx: Ctx, arg: str) -> Replies:
    course = await _open(ctx)
    if arg not in EDITABLE:
        raise Invalid(ctx._("I don't recognise that button."))
    return await FORM.start_edit(ctx, course.id, _answers(ctx), [arg], "course:edit")


router.goes("back_course", CAT_COURSE, CAT_C_EDIT, CAT_C_MOVE, CAT_C_CANCEL)


# --- saving a change ----------------------------------------------------------------------------
async def edited(ctx: Ctx, run: Run) -> Replies:
    """The steps of a change are answered: the dates are confirmed first (CAT_C_MOVE),
    anything else is saved now."""
    if run["action"] == "course:reschedule" and _values(run):
        return await ctx.goto(CAT_C_MOVE)
    return await _save(ctx, run)


def _values(run: Run) -> dict:
    """What the answers change (JSON forms)."""
    was = run.get("was") or {}
    return {k: v for k, v in run["answers"].items() if k in COURSE_EDITABLE and v != was.get(k, v)}


async def _save(ctx: Ctx, run: Run, values: dict | None = None) -> Replies:
    """Save `values` (else what the run's answers change) as the screen showed the
    course; tell everyone holding a place; back to its screen."""
    _ = ctx._
    values = _values(run) if values is None else values
    course_id = int(run.get("id") or ctx.form.get("cat_course") or 0)
    if not values:
        drop_run(ctx)
        return [ctx.reply(_("Nothing changed.")), *await ctx.goto(CAT_COURSE)]
    try:
        saved = await catalogue(ctx).update_course(
            course_id,
            ctx.form.get("cat_seen") or {},
            values,
            ctx.user.key,
            action=run.get("action") or "course:edit",
            base_id=staff_base(ctx),
        )
    except Stale:
        text = changed_meanwhile(ctx)
        if yours := await FORM.given(ctx, run):
            text += "\n" + _("Not saved: {answers}", answers=yours)
        drop_run(ctx)
        return [ctx.reply(text), *await ctx.goto(CAT_COURSE)]
    except FewerSeats as few:
        raise Invalid(
            _(
                "{taken} people already have a seat: keep at least {taken} seats, or cancel "
                "their places first.",
                taken=few.taken,
            )
        ) from None
    except NotYourBase:
        ctx.user.state = CATALOGUE
        raise Invalid(_("That course belongs to another training base.")) from None
    except ValueError:
        log.warning("a change to course %s was refused by the storage's checks", course_id)
        raise Invalid(_("That cannot be saved as it is. Please check the answers.")) from None
    n = await announce(ctx.repos, ctx.options, saved.changes)
    log.info("staff user %s changed course %s (%s)", ctx.user.id, course_id, sorted(values))
    drop_run(ctx)
    if values.get("status") == "cancelled":  # nothing more to change: back to the list
        ctx.user.form = {k: v for k, v in ctx.form.items() if k not in ("cat_course", "cat_seen")}
        done, where = _("✅ The course is cancelled."), CATALOGUE
    else:
        done, where = _("✅ Saved."), CAT_COURSE
    return [ctx.reply(" ".join(x for x in (done, told(ctx, n)) if x)), *await ctx.goto(where)]


@router.prompt(CAT_C_MOVE)
@staff_only
async def confirm_move(ctx: Ctx) -> Replies:
    _ = ctx._
    course = await _open(ctx)
    run = FORM.run_of(ctx)
    seated, waiting = await catalogue(ctx).holders(course.id)
    was, now = run["was"], run["answers"]
    lines = [
        _(
            "Move “{title}” from {first} – {last} to {start} – {end}?",
            title=title(ctx, course),
            first=show_day(ctx, was.get("starts_on")),
            last=show_day(ctx, was.get("ends_on")),
            start=show_day(ctx, now.get("starts_on")),
            end=show_day(ctx, now.get("ends_on")),
        ),
        _.ngettext(
            "{n} person holding a place will be told.",
            "{n} people holding a place will be told.",
            seated + waiting,
        ),
    ]
    if now.get("signup_closes_on") != was.get("signup_closes_on"):
        day = show_day(ctx, now.get("signup_closes_on"))
        lines.append(_("Sign-up then closes on {day}, the day it starts.", day=day))
    rows = [
        [ctx.button(_("✅ Yes, reschedule"), "move_yes")],
        [ctx.button(_("◀ Back"), "back_course")],
    ]
    return [ctx.reply("\n".join(lines), *rows)]


@router.button(CAT_C_MOVE, "move_yes")
@staff_only
async def move(ctx: Ctx, _arg: str) -> Replies:
    await _open(ctx)
    return await _save(ctx, FORM.run_of(ctx))


@router.button(CAT_COURSE, "cancel_course")
@staff_only
async def ask_cancel(ctx: Ctx, arg: str) -> Replies:
    await _open(ctx, arg)
    return await ctx.goto(CAT_C_CANCEL)


@router.prompt(CAT_C_CANCEL)
@staff_only
async def confirm_cancel(ctx: Ctx) -> Replies:
    _ = ctx._
    course = await _open(ctx)
    seated, waiting = await catalogue(ctx).holders(course.id)
    text = _.sentences(
        [
            _(
                "Cancel “{title}” ({start} – {end})?",
                title=title(ctx, course),
                start=_.date(course.starts_on),
                end=_.date(course.ends_on),
            ),
            _.ngettext(
                "{n} person holding a place (a seat or the waiting list) will be told, and "
                "the place released.",
                "{n} people holding a place (a seat or the waiting list) will be told, and "
                "their places released.",
                seated + waiting,
            ),
            _("This cannot be undone."),
        ]
    )
    rows = [
        [ctx.button(_("✖ Yes, cancel the course"), "cancel_yes")],
        [ctx.button(_("◀ No, keep it"), "back_course")],
    ]
    return [ctx.reply(text, *rows)]


@router.button(CAT_C_CANCEL, "cancel_yes")
@staff_only
async def cancel(ctx: Ctx, _arg: str) -> Replies:
    course = await _open(ctx)
    run: Run = {"id": course.id, "action": "course:cancel", "answers": {}}
    return await _save(ctx, run, {"status": "cancelled"})
