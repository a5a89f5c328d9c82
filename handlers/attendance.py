"""Attendance and completion: staff mark, per course, who attended and who completed it.
A completed course shows on her credential as training verified by the programme.

    ADMIN_MENU ─"🎓 Attendance and completion"─▶ ATTENDANCE: courses (running and just
        ended first, then those to come; 5 a page)
        ─tap one─▶ ATTEND_COURSE: its people with their marks; "Mark everyone attended"
        ─tap a person─▶ ATTEND_PERSON: attended yes/no, completed today (or type a date),
                        not completed

Marks go through `WorkerRepo.mark_training` (one row per person and course, audited with
who and when). Nothing is marked on a course that has not started; a completion date
is never in the future nor before the course began. Every screen and action asks
`handlers.vetting.is_staff`.
"""

from __future__ import annotations

import datetime as dt
import logging

from handlers import typed
from handlers.context import Ctx
from handlers.courses import list_line, title
from handlers.lists import PAGE_SIZE, page_number, page_reply, short
from handlers.router import Invalid, Replies, Router
from handlers.staff import staff_base
from handlers.vetting import staff_only, typed_date
from storage.models import Course
from storage.vetting_queries import AttendanceQueries, Attendee

log = logging.getLogger(__name__)

router = Router(__name__)

ATTENDANCE = router.state("ATTENDANCE", staff=True)
ATTEND_COURSE = router.state("ATTEND_COURSE", staff=True)
ATTEND_PERSON = router.state("ATTEND_PERSON", staff=True)

typed.no_search(ATTENDANCE, ATTEND_COURSE)

#: people on one page of a course's list
ROSTER_PAGE = 10


def _queries(ctx: Ctx) -> AttendanceQueries:
    return AttendanceQueries(ctx.repos.session)


def _number(value: object) -> int | None:
    return value if isinstance(value, int) else None


# --- the courses ----------------------------------------------------------------------
@router.prompt(ATTENDANCE)
@staff_only
async def courses(ctx: Ctx, *, replace: bool = False) -> Replies:
    _ = ctx._
    page = _number(ctx.form.get("att_page")) or 0
    today = ctx.today()
    found, seats, total = await _queries(ctx).courses(
        today, page * PAGE_SIZE, PAGE_SIZE, base_id=staff_base(ctx)
    )
    if not found and page:
        ctx.remember(att_page=0)
        return await courses(ctx, replace=replace)
    home = [[ctx.button(_("◀ Main menu"), "home")]]
    if not found:
        return [ctx.reply(_("There are no courses yet."), *home)]
    items = []
    for course in found:
        if course.starts_on > today:
            when = "⏳"
        elif course.ends_on >= today:
            when = "▶"
        else:
            when = "✔"
        line = f"{when} {list_line(ctx, course)} · 👤{seats.get(course.id, 0)}"
        items.append((line, "course", course.id))
    text = _(
        "🎓 Attendance and completion. Pick a course (▶ running, ✔ ended, ⏳ to come; "
        "👤 confirmed seats):"
    )
    return [page_reply(ctx, text, items, page, total, replace=replace, extra=home)]


@router.button(ATTENDANCE, "page")
@staff_only
async def courses_page(ctx: Ctx, arg: str) -> Replies:
    ctx.remember(att_page=page_number(arg))
    return await courses(ctx, replace=True)


@router.button(ATTENDANCE, "course")
@staff_only
async def course_chosen(ctx: Ctx, arg: str) -> Replies:
    course = await _course(ctx, arg)
    ctx.remember(att_course=course.id, att_roster_page=0)
    return await ctx.goto(ATTEND_COURSE)


async def _course(ctx: Ctx, arg: str | int | None = None) -> Course:
    """The course of this screen (or the one `arg` names), as it is now."""
    ident = arg if arg is not None else ctx.form.get("att_course")
    course = None
    if isinstance(ident, int) or (isinstance(ident, str) and ident.isdecimal() and len(ident) < 10):
        course = await ctx.repos.courses.get(int(ident))
    if course is None or course.status == "cancelled":
        ctx.user.state = ATTENDANCE
        raise Invalid(ctx._("That course is no longer there."))
    base = staff_base(ctx)
    if base is not None and course.base_id != base:  # another base's: not hers to mark
        ctx.user.state = ATTENDANCE
        raise Invalid(ctx._("That course belongs to another training base."))
    return course


def _not_started(ctx: Ctx, course: Course) -> str | None:
    """Why nothing can be marked yet (translated), or None once it has started."""
    if course.starts_on <= ctx.today():
        return None
    return ctx._(
        "This course starts on {date}: attendance and completion can be marked once it "
        "has started.",
        date=ctx._.date(course.starts_on),
    )


def _marks(ctx: Ctx, person: Attendee) -> str:
    _ = ctx._
    if person.completed_on:
        return "🎓 " + _("completed {date}", date=_.short_date(person.completed_on))
    if person.attended:
        return "✅ " + _("attended")
    return "▫ " + _("not marked")


# --- one course's people --------------------------------------------------------------
@router.prompt(ATTEND_COURSE)
@staff_only
async def roster(ctx: Ctx, *, replace: bool = False) -> Replies:
    _ = ctx._
    course = await _course(ctx)
    people = await _queries(ctx).roster(course.id)
    page = _number(ctx.form.get("att_roster_page")) or 0
    if page * ROSTER_PAGE >= len(people):
        page = 0
    attended = sum(p.attended for p in people)
    completed = sum(p.completed_on is not None for p in people)
    lines = [
        f"📚 {title(ctx, course)}",
        f"📅 {_.date(course.starts_on)} – {_.date(course.ends_on)}",
        _(
            "{n} with a seat · {attended} attended · {completed} completed",
            n=len(people),
            attended=attended,
            completed=completed,
        ),
    ]
    waiting = _not_started(ctx, course)
    if waiting:
        lines.append("⏳ " + waiting)
    if not people:
        lines.append(_("No one has a confirmed seat on this course."))
    else:
        lines.append(_("Tap a person to mark her:"))
    shown = people[page * ROSTER_PAGE : (page + 1) * ROSTER_PAGE]
    rows = [
        [ctx.button(f"{short(p.name, 20)} · {_marks(ctx, p)}", "person", p.user_id)] for p in shown
    ]
    pager = []
    if page > 0:
        pager.append(ctx.button(_("◀ Earlier"), "rpage", page - 1))
    if (page + 1) * ROSTER_PAGE < len(people):
        pager.append(ctx.button(_("Later ▶"), "rpage", page + 1))
    if len(people) > ROSTER_PAGE:
        pages = -(-len(people) // ROSTER_PAGE)
        lines.append(_("Page {page} of {pages}", page=page + 1, pages=pages))
    rows.append(pager)
    if not waiting and any(not p.attended for p in people):
        rows.append([ctx.button(_("✅ Mark everyone attended"), "all_attended", course.id)])
    rows.append([ctx.button(_("◀ Courses"), "courses"), ctx.button(_("◀ Main menu"), "home")])
    return [ctx.reply("\n".join(lines), *rows, replace=replace)]


@router.button(ATTEND_COURSE, "rpage")
@staff_only
async def roster_page(ctx: Ctx, arg: str) -> Replies:
    ctx.remember(att_roster_page=page_number(arg))
    return await roster(ctx, replace=True)


@staff_only
async def back_to_courses(ctx: Ctx, _arg: str) -> Replies:
    ctx.user.form = {k: v for k, v in ctx.form.items() if k not in ("att_course", "att_user")}
    return await ctx.goto(ATTENDANCE)


router.button(ATTEND_COURSE, "courses")(back_to_courses)


@router.button(ATTEND_COURSE, "all_attended")
@staff_only
async def everyone_attended(ctx: Ctx, arg: str) -> Replies:
    course = await _course(ctx)
    if str(course.id) != arg:
        raise Invalid(ctx._("I don't recognise that button."))
    waiting = _not_started(ctx, course)
    if waiting:
        raise Invalid(waiting)
    marked = 0
    for person in await _queries(ctx).roster(course.id):
        if not person.attended:
            await ctx.repos.workers.mark_training(
                person.user_id, course.id, ctx.user.key, attended=True
            )
            marked += 1
    log.info("staff %s marked %s attended on course %s", ctx.user.id, marked, course.id)
    text = ctx._.ngettext(
        "{n} person marked as attended.", "{n} people marked as attended.", marked
    )
    return [ctx.reply(text), *await ctx.ask()]


@router.button(ATTEND_COURSE, "person")
@staff_only
async def person_chosen(ctx: Ctx, arg: str) -> Replies:
    course = await _course(ctx)
    person = await _person(ctx, course, arg)
    ctx.remember(att_user=person.user_id)
    return await ctx.goto(ATTEND_PERSON)


async def _person(ctx: Ctx, course: Course, arg: str | int | None = None) -> Attendee:
    ident = arg if arg is not None else ctx.form.get("att_user")
    for person in await _queries(ctx).roster(course.id):
        if str(person.user_id) == str(ident):
            return person
    ctx.user.state = ATTEND_COURSE
    raise Invalid(ctx._("That person is no longer on this course."))


# --- one person -----------------------------------------------------------------------
@router.prompt(ATTEND_PERSON)
@staff_only
async def person(ctx: Ctx) -> Replies:
    _ = ctx._
    course = await _course(ctx)
    who = await _person(ctx, course)
    lines = [
        f"👤 {who.name} · {title(ctx, course)}",
        _("Attended: {answer}", answer=_("yes") if who.attended else _("no")),
        _(
            "Completed: {answer}",
            answer=_.date(who.completed_on) if who.completed_on else _("not yet"),
        ),
    ]
    rows = []
    waiting = _not_started(ctx, course)
    if waiting:
        lines.append("⏳ " + waiting)
    else:
        if who.attended:
            rows.append([ctx.button(_("↩ Not attended"), "attended", 0)])
        else:
            rows.append([ctx.button(_("✅ Attended"), "attended", 1)])
        if who.completed_on:
            rows.append([ctx.button(_("↩ Not completed"), "uncomplete")])
        else:
            rows.append([ctx.button(_("🎓 Completed today"), "complete")])
            lines.append(
                _(
                    "Completed on another day? Type the date, like {example}.",
                    example=ctx.today().isoformat(),
                )
            )
    rows.append([ctx.button(_("◀ Back to the list"), "back_roster")])
    return [ctx.reply("\n".join(lines), *rows)]


@router.button(ATTEND_PERSON, "back_roster")
@staff_only
async def back_roster(ctx: Ctx, _arg: str) -> Replies:
    ctx.user.form = {k: v for k, v in ctx.form.items() if k != "att_user"}
    return await ctx.goto(ATTEND_COURSE)


async def _mark(
    ctx: Ctx,
    *,
    attended: bool | None = None,
    completed_on: dt.date | None = None,
    uncomplete: bool = False,
) -> Replies:
    """Mark the person on screen: attended or not, completed on a day, or not."""
    course = await _course(ctx)
    who = await _person(ctx, course)
    waiting = _not_started(ctx, course)
    if waiting:
        raise Invalid(waiting)
    await ctx.repos.workers.mark_training(
        who.user_id,
        course.id,
        ctx.user.key,
        attended=attended,
        completed_on=completed_on,
        uncomplete=uncomplete,
    )
    log.info("staff %s marked user %s on course %s", ctx.user.id, who.user_id, course.id)
    return [ctx.reply(ctx._("Saved.")), *await ctx.ask()]


@router.button(ATTEND_PERSON, "attended")
@staff_only
async def attended(ctx: Ctx, arg: str) -> Replies:
    if arg not in ("0", "1"):
        raise Invalid(ctx._("I don't recognise that button."))
    if arg == "0":  # not there: not completed either
        return await _mark(ctx, attended=False, uncomplete=True)
    return await _mark(ctx, attended=True)


@router.button(ATTEND_PERSON, "complete")
@staff_only
async def completed_today(ctx: Ctx, _arg: str) -> Replies:
    return await _completed(ctx, ctx.today())


@router.button(ATTEND_PERSON, "uncomplete")
@staff_only
async def not_completed(ctx: Ctx, _arg: str) -> Replies:
    return await _mark(ctx, uncomplete=True)


@router.text(ATTEND_PERSON)
@staff_only
async def completion_date_typed(ctx: Ctx, text: str) -> Replies:
    day = typed_date(text, ctx.today())
    if day is None:
        raise Invalid(
            ctx._(
                "Please tap a button, or type the date she completed the course, like {example}.",
                example=ctx.today().isoformat(),
            )
        )
    return await _completed(ctx, day)


async def _completed(ctx: Ctx, day: dt.date) -> Replies:
    _ = ctx._
    course = await _course(ctx)
    waiting = _not_started(ctx, course)
    if waiting:
        raise Invalid(waiting)
    if day > ctx.today():
        raise Invalid(_("That date is in the future. Please type the day she completed it."))
    if day < course.starts_on:
        raise Invalid(
            _(
                "That is before the course began ({date}). Please check the date.",
                date=_.date(course.starts_on),
            )
        )
    return await _mark(ctx, completed_on=day)
