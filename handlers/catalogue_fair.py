"""A new job fair, or a change to one, as a guided conversation (issue 12; admins only:
job fairs are the programme office's).

    CAT_FAIRS ─➕ New job fair─▶ CAT_F_TITLE ▶ CAT_F_TITLE_EN ▶ CAT_F_DAY ▶ CAT_F_TIME
        ▶ CAT_F_END ▶ CAT_F_VENUE ▶ CAT_F_ADDRESS ▶ CAT_F_COUNTY ▶ CAT_F_REG
        ▶ CAT_F_SUMMARY ─✅─▶ CAT_FAIR            └─ ✏ any answer, 🏷 its code (CAT_F_CODE)

As the course form (`handlers.catalogue_form`): one question a screen, buttons for
choices (the county from `COUNTIES`, usual days and times), each answer kept as given.
A fair's times are local wall-clock times (as printed on the poster). Its firms and
jobs come with a data file (`haoxin import fairs`): a new fair starts without any.

The same steps change a fair (`handlers.catalogue_fair_screen`): the day and times,
the venue and address, a field.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from handlers.catalogue import CAT_FAIRS, catalogue, fair_for
from handlers.catalogue_answers import (
    Picked,
    changed,
    day_of,
    day_pick,
    future_day,
    made_code,
    no_english,
    read_code,
    show_code,
    show_day,
    show_text,
    text_reader,
    typed_clock,
    typed_day,
)
from handlers.catalogue_form import Form, Run, Step, drop_run, keep_run
from handlers.context import Ctx
from handlers.router import Invalid, Replies, Router
from handlers.typed_values import terms_in
from handlers.vetting import staff_only
from storage.catalogue import CodeTaken
from storage.vocab import COUNTIES, N_

log = logging.getLogger(__name__)

router = Router(__name__)

CAT_F_TITLE = router.state("CAT_F_TITLE", admin=True)
CAT_F_TITLE_EN = router.state("CAT_F_TITLE_EN", admin=True)
CAT_F_DAY = router.state("CAT_F_DAY", admin=True)
CAT_F_TIME = router.state("CAT_F_TIME", admin=True)
CAT_F_END = router.state("CAT_F_END", admin=True)
CAT_F_VENUE = router.state("CAT_F_VENUE", admin=True)
CAT_F_ADDRESS = router.state("CAT_F_ADDRESS", admin=True)
CAT_F_COUNTY = router.state("CAT_F_COUNTY", admin=True)
CAT_F_REG = router.state("CAT_F_REG", admin=True)
CAT_F_CODE = router.state("CAT_F_CODE", admin=True)
CAT_F_SUMMARY = router.state("CAT_F_SUMMARY", admin=True)

TIMES = ("09:00", "09:30", "14:00")
ENDS = ("12:00", "17:00")


def fair_answers(seen: dict[str, Any]) -> dict[str, Any]:
    """A fair as the form's answers (`storage.catalogue.seen_fair` → day, time, end)."""
    starts, ends = seen.get("starts_at") or "", seen.get("ends_at") or ""
    answers = {k: seen.get(k) for k in ("title", "title_en", "venue", "address", "county")}
    answers.update(
        day=starts[:10],
        time=starts[11:16],
        end=ends[11:16] if ends else None,
        registration_required=bool(seen.get("registration_required")),
    )
    return answers


def fair_values(answers: dict[str, Any]) -> dict[str, Any]:
    """The form's answers as a fair's fields (times local, naive, `2026-12-09T09:30`)."""
    day = answers.get("day") or ""
    values = {k: answers.get(k) for k in ("title", "title_en", "venue", "address", "county")}
    values.update(
        starts_at=f"{day}T{answers.get('time')}",
        ends_at=f"{day}T{answers['end']}" if answers.get("end") else None,
        registration_required=bool(answers.get("registration_required")),
    )
    return values


#: a new fair's usual title, to tap
USUAL_TITLE = "家政专场招聘会"


async def _title_picks(ctx: Ctx, run: Run) -> Picked:
    return [(ctx._.text(USUAL_TITLE), USUAL_TITLE)] if run["mode"] == "new" else []


async def _venue_picks(ctx: Ctx, run: Run) -> Picked:
    """The venues of the latest fairs, to tap (a new fair is often where the last was)."""
    if run["mode"] != "new":
        return []
    return [(ctx._.text(v), v) for v in await catalogue(ctx).venues()]


async def _no_address(ctx: Ctx, _run: Run) -> Picked:
    return [(ctx._("⏭ No address"), "")]


# --- the day and times -----------------------------------------------------------------------
async def _day_picks(ctx: Ctx, run: Run) -> Picked:
    now = day_of(run["answers"].get("day"))
    if run["mode"] == "edit" and now is not None:
        return [day_pick(ctx, now + dt.timedelta(days=7), ctx._("a week later"))]
    return [day_pick(ctx, ctx.today() + dt.timedelta(weeks=n)) for n in (1, 2, 3)]


async def _check_day(ctx: Ctx, run: Run, value: Any) -> None:
    day = day_of(value)
    if day is None:
        raise Invalid(ctx._("Please type a date like 2026-12-09 or 12月9日."))
    if changed(run, "day", value):
        future_day(ctx, day)


async def _read_day(ctx: Ctx, run: Run, text: str) -> str:
    value = typed_day(ctx, text).isoformat()
    await _check_day(ctx, run, value)
    return value


async def _time_picks(_ctx: Ctx, _run: Run) -> Picked:
    return [(t, t) for t in TIMES]


async def _read_time(ctx: Ctx, _run: Run, text: str) -> str:
    return typed_clock(ctx, text)


def _after_time(run: Run) -> None:
    """A new fair's end time before its new start is asked again."""
    answers = run["answers"]
    end, start = answers.get("end"), answers.get("time")
    if run["mode"] == "new" and end and start and end <= start:
        answers.pop("end")


async def _end_picks(ctx: Ctx, run: Run) -> Picked:
    start = run["answers"].get("time") or ""
    picks: Picked = [(t, t) for t in ENDS if t > start]
    picks.append((ctx._("⏭ No end time"), None))
    return picks


async def _check_end(ctx: Ctx, run: Run, value: Any) -> None:
    start = run["answers"].get("time") or ""
    if value is not None and value <= start:
        raise Invalid(
            ctx._(
                "The fair cannot end before it starts ({time}). Please give a later time.",
                time=start,
            )
        )


async def _read_end(ctx: Ctx, run: Run, text: str) -> str:
    value = typed_clock(ctx, text)
    await _check_end(ctx, run, value)
    return value


# --- where, and registration ------------------------------------------------------------------
async def _county_picks(ctx: Ctx, _run: Run) -> Picked:
    picks: Picked = [(ctx._(t.label), t.name) for t in COUNTIES]
    return [*picks, (ctx._("⏭ Outside Maoming's counties"), "")]


async def _read_county(ctx: Ctx, _run: Run, text: str) -> str:
    found = terms_in(COUNTIES, list(COUNTIES), text)
    if len(found) != 1:
        raise Invalid(ctx._("Please tap the county, or type its name, like 茂南."))
    return found[0].name


def _show_county(ctx: Ctx, value: Any) -> str:
    return ctx._.term(COUNTIES, value) if value else "—"


async def _registration_picks(ctx: Ctx, _run: Run) -> Picked:
    return [
        (ctx._("📝 Yes, people register first"), True),
        (ctx._("🚶 No, people just come"), False),
    ]


def _show_registration(ctx: Ctx, value: Any) -> str:
    return ctx._("needed") if value else ctx._("not needed")


STEPS = [
    Step(
        CAT_F_TITLE,
        "title",
        N_("Title (Chinese)"),
        N_(
            "What is the job fair called, in Chinese? Type it as the poster says, like "
            "好心家政专场招聘会."
        ),
        show_text,
        read=text_reader(160),
        picks=_title_picks,
    ),
    Step(
        CAT_F_TITLE_EN,
        "title_en",
        N_("English title"),
        N_(
            "Its title in English, for English readers? Type it, or tap “No English title” "
            "(they then see the Chinese one)."
        ),
        show_text,
        read=text_reader(160),
        picks=no_english,
    ),
    Step(
        CAT_F_DAY,
        "day",
        N_("Day"),
        N_("On what day is it? Tap one, or type the date, like 12月9日."),
        show_day,
        read=_read_day,
        picks=_day_picks,
        check=_check_day,
    ),
    Step(
        CAT_F_TIME,
        "time",
        N_("Starts at"),
        N_("At what time does it start? Tap one, or type it, like 9:30."),
        show_text,
        read=_read_time,
        picks=_time_picks,
        then=_after_time,
    ),
    Step(
        CAT_F_END,
        "end",
        N_("Ends at"),
        N_("And when does it end? Tap one, or type the time."),
        show_text,
        read=_read_end,
        picks=_end_picks,
        check=_check_end,
    ),
    Step(
        CAT_F_VENUE,
        "venue",
        N_("Venue"),
        N_("Where is it? Type the venue, like 茂南人民广场, or tap one."),
        show_text,
        read=text_reader(160),
        picks=_venue_picks,
    ),
    Step(
        CAT_F_ADDRESS,
        "address",
        N_("Address"),
        N_("Its street address? Type it, or tap “No address”."),
        show_text,
        read=text_reader(200),
        picks=_no_address,
    ),
    Step(
        CAT_F_COUNTY,
        "county",
        N_("County"),
        N_("In which county? (People filter fairs by county.)"),
        _show_county,
        read=_read_county,
        picks=_county_picks,
    ),
    Step(
        CAT_F_REG,
        "registration_required",
        N_("Registration"),
        N_("Do people register before they come?"),
        _show_registration,
        picks=_registration_picks,
    ),
    Step(
        CAT_F_CODE,
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


async def _heading(ctx: Ctx, run: Run) -> str:
    if run["mode"] == "new":
        return ctx._("➕ New job fair")
    fair = await fair_for(ctx, run.get("id"))
    return f"🤝 {ctx._.text(fair.title, fair.title_en)}"


async def _leave(ctx: Ctx, run: Run) -> Replies:
    from handlers.catalogue_fair_screen import CAT_FAIR

    return await ctx.goto(CAT_FAIRS if run["mode"] == "new" else CAT_FAIR)


async def _create(ctx: Ctx, run: Run) -> Replies:
    """Save the new fair (`CatalogueRepo.create_fair`, audited) and open its screen."""
    from handlers.catalogue_fair_screen import CAT_FAIR

    _ = ctx._
    answers = run["answers"]
    try:
        saved = await catalogue(ctx).create_fair(
            fair_values(answers), ctx.user.key, code=answers.get("code")
        )
    except CodeTaken:
        answers.pop("code", None)
        keep_run(ctx, run)
        raise Invalid(_("That code was taken meanwhile. Please choose another.")) from None
    except ValueError:
        log.warning("a new fair from chat was refused by the storage's checks")
        raise Invalid(_("That cannot be saved as it is. Please check the answers.")) from None
    fair = saved.row
    log.info("staff user %s created fair %s", ctx.user.id, fair.id)
    drop_run(ctx)
    ctx.remember(cat_fair=fair.id)
    text = _(
        "✅ Saved: the job fair is listed. Its code: {code}. Its firms and jobs come with "
        "a data file (an import of job fairs).",
        code=fair.code,
    )
    return [ctx.reply(text), *await ctx.goto(CAT_FAIR)]


async def _edited(ctx: Ctx, run: Run) -> Replies:
    from handlers.catalogue_fair_screen import edited

    return await edited(ctx, run)


FORM = Form(
    router,
    "fair",
    STEPS,
    summary=CAT_F_SUMMARY,
    save_label=N_("✅ Create the job fair"),
    heading=_heading,
    leave=_leave,
    on_create=_create,
    on_edit=_edited,
)


@router.button(CAT_FAIRS, "new_fair")
@staff_only
async def new_fair(ctx: Ctx, _arg: str) -> Replies:
    return await FORM.start_new(ctx)


from handlers import catalogue_fair_screen  # noqa: E402, F401  (its screens, on this router)
