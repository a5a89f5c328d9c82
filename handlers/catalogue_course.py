"""A new course, or a change to one, as a guided conversation (issue 12).

    CATALOGUE ─➕ New course─▶ CAT_C_KIND ▶ CAT_C_BASE (admins; a base's staff: hers)
        ▶ CAT_C_TITLE ▶ CAT_C_TITLE_EN ▶ CAT_C_START ▶ CAT_C_END ▶ CAT_C_HOURS
        ▶ CAT_C_SEATS ▶ CAT_C_ROOM ▶ CAT_C_CLOSES ▶ CAT_C_SUMMARY ─✅─▶ CAT_COURSE
                                                    └─ ✏ any answer, 🏷 its code (CAT_C_CODE)

One question a screen, buttons where the answer is a choice (the kind of work from
`KINDS_OF_WORK`, the base, usual dates, hours and seats), typed where it is text; each
answer is kept in her form as she gives it (`handlers.catalogue_form`). The code is made
from the kind of work and the start (`maternity-20261209`) unless she gives one; it is
unique. A base's staff always create a course of her own base.

The same steps change a course (`handlers.catalogue_course_screen`): its screen starts
an edit of some of them (the dates, the room, a field), with "Keep: …" on each.
Answers are checked as the import checks a course (dates in order, sign-up closing by
the start, texts as long as their columns); the storage checks again when saving.
"""

from __future__ import annotations

import logging

from handlers import catalogue_course_answers as answer
from handlers.catalogue import CATALOGUE, catalogue, course_for
from handlers.catalogue_answers import (
    made_code,
    no_english,
    read_code,
    show_code,
    show_day,
    show_text,
)
from handlers.catalogue_form import Form, Run, Step, drop_run, keep_run
from handlers.context import Ctx
from handlers.router import Invalid, Replies, Router
from handlers.staff import staff_base
from handlers.vetting import staff_only
from storage.catalogue import CodeTaken
from storage.vocab import KINDS_OF_WORK, N_

log = logging.getLogger(__name__)

router = Router(__name__)

CAT_C_KIND = router.state("CAT_C_KIND", staff=True)
CAT_C_BASE = router.state("CAT_C_BASE", staff=True)
CAT_C_TITLE = router.state("CAT_C_TITLE", staff=True)
CAT_C_TITLE_EN = router.state("CAT_C_TITLE_EN", staff=True)
CAT_C_START = router.state("CAT_C_START", staff=True)
CAT_C_END = router.state("CAT_C_END", staff=True)
CAT_C_HOURS = router.state("CAT_C_HOURS", staff=True)
CAT_C_SEATS = router.state("CAT_C_SEATS", staff=True, numeric=True)
CAT_C_ROOM = router.state("CAT_C_ROOM", staff=True)
CAT_C_CLOSES = router.state("CAT_C_CLOSES", staff=True)
CAT_C_CODE = router.state("CAT_C_CODE", staff=True)
CAT_C_SUMMARY = router.state("CAT_C_SUMMARY", staff=True)

STEPS = [
    Step(
        CAT_C_KIND,
        "track",
        N_("Kind of work"),
        N_("Which kind of work does the course train for?"),
        lambda ctx, v: ctx._.term(KINDS_OF_WORK, v) or "—",
        read=answer.read_kind,
        picks=answer.kind_picks,
    ),
    Step(
        CAT_C_BASE,
        "base_id",
        N_("Training base"),
        N_("Which training base teaches it?"),
        answer.show_base,
        picks=answer.base_picks,
        check=answer.check_base,
        when=lambda ctx: staff_base(ctx) is None,
    ),
    Step(
        CAT_C_TITLE,
        "title",
        N_("Title (Chinese)"),
        N_(
            "What is the course called, in Chinese? Type the title people will see, like "
            "茂名月嫂培训班（12月）."
        ),
        show_text,
        read=answer.read_title,
        picks=answer.title_picks,
    ),
    Step(
        CAT_C_TITLE_EN,
        "title_en",
        N_("English title"),
        N_(
            "Its title in English, for English readers? Type it, or tap “No English title” "
            "(they then see the Chinese one)."
        ),
        show_text,
        read=answer.read_title,
        picks=no_english,
    ),
    Step(
        CAT_C_START,
        "starts_on",
        N_("Starts on"),
        N_("On what day does it start? Tap one, or type the date, like 12月9日."),
        show_day,
        read=answer.read_start,
        picks=answer.start_picks,
        check=answer.check_start,
        then=answer.after_start,
    ),
    Step(
        CAT_C_END,
        "ends_on",
        N_("Ends on"),
        N_("And its last day? Tap one, or type the date."),
        show_day,
        read=answer.read_end,
        picks=answer.end_picks,
        check=answer.check_end,
    ),
    Step(
        CAT_C_HOURS,
        "daily_hours",
        N_("Daily hours"),
        N_("Its daily hours? Tap them, or type them, like 09:00-17:00."),
        show_text,
        read=answer.read_hours,
        picks=answer.hours_picks,
    ),
    Step(
        CAT_C_SEATS,
        "seats",
        N_("Seats"),
        N_("How many seats? Type the number, like 30, or tap one."),
        lambda ctx, v: str(v) if v is not None else "—",
        read=answer.read_seats,
        picks=answer.seat_picks,
        check=answer.check_seats,
    ),
    Step(
        CAT_C_ROOM,
        "room",
        N_("Room"),
        N_("Which room at the base? Type it, like 302 教室, or tap “No room yet”."),
        show_text,
        read=answer.read_room,
        picks=answer.no_room,
    ),
    Step(
        CAT_C_CLOSES,
        "signup_closes_on",
        N_("Sign-up closes"),
        N_(
            "Until when can people sign up? Tap one, or type the date (the day it starts "
            "at the latest)."
        ),
        answer.show_closes,
        read=answer.read_closes,
        picks=answer.closes_picks,
        check=answer.check_closes,
    ),
    Step(
        CAT_C_CODE,
        "code",
        N_("Code"),
        N_(
            "Its code, for data files and spreadsheets: letters, digits, - and _, like "
            "ys-2026-12. Or tap “Make one for me”."
        ),
        show_code,
        read=read_code,
        picks=made_code,
        first=False,
    ),
]


# --- the form ------------------------------------------------------------------------------
async def _heading(ctx: Ctx, run: Run) -> str:
    if run["mode"] == "new":
        return ctx._("➕ New course")
    course = await course_for(ctx, run.get("id"))  # hers still? (asked on every step)
    return f"📚 {ctx._.text(course.title, course.title_en)}"


async def _leave(ctx: Ctx, run: Run) -> Replies:
    from handlers.catalogue_course_screen import CAT_COURSE

    return await ctx.goto(CATALOGUE if run["mode"] == "new" else CAT_COURSE)


async def _create(ctx: Ctx, run: Run) -> Replies:
    """Save the new course (`CatalogueRepo.create_course`, audited) and open its screen."""
    from handlers.catalogue_course_screen import CAT_COURSE

    _ = ctx._
    answers = run["answers"]
    values = {k: answers.get(k) for k in (s.key for s in STEPS) if k != "code"}
    values["base_id"] = staff_base(ctx) or answers.get("base_id")
    try:
        saved = await catalogue(ctx).create_course(values, ctx.user.key, code=answers.get("code"))
    except CodeTaken:
        answers.pop("code", None)
        keep_run(ctx, run)
        raise Invalid(_("That code was taken meanwhile. Please choose another.")) from None
    except ValueError:
        log.warning("a new course from chat was refused by the storage's checks")
        raise Invalid(_("That cannot be saved as it is. Please check the answers.")) from None
    course = saved.row
    log.info("staff user %s created course %s", ctx.user.id, course.id)
    drop_run(ctx)
    ctx.remember(cat_course=course.id)
    text = _("✅ Saved: the course is open for sign-up. Its code: {code}.", code=course.code)
    return [ctx.reply(text), *await ctx.goto(CAT_COURSE)]


async def _edited(ctx: Ctx, run: Run) -> Replies:
    from handlers.catalogue_course_screen import edited

    return await edited(ctx, run)


FORM = Form(
    router,
    "course",
    STEPS,
    summary=CAT_C_SUMMARY,
    save_label=N_("✅ Create the course"),
    heading=_heading,
    leave=_leave,
    on_create=_create,
    on_edit=_edited,
)


@router.button(CATALOGUE, "new_course")
@staff_only
async def new_course(ctx: Ctx, _arg: str) -> Replies:
    base = staff_base(ctx)
    return await FORM.start_new(ctx, {"base_id": base} if base is not None else {})


from handlers import catalogue_course_screen  # noqa: E402, F401  (its screens, on this router)
