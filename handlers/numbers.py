"""Programme numbers (issue 12): what the office reports upward, on the staff's phone.

    ADMIN_MENU, STAFF_MENU ─"📊 Programme numbers"─▶ NUMBERS: this week, this month,
        all time (one message each: sign-ups per kind of work and per course, fair
        registrations, worker profiles by vetting state, household requests,
        interviews, hires, placements by destination), then
        ├─ 🖼 Chart (12 weeks) ──────────▶ a PNG: sign-ups and placements per week
        ├─ 📊 As a spreadsheet (XLSX) ───▶ the same numbers and the weekly series
        └─ ◀ Main menu
    (the chart and the file come with the same buttons: the screen stays NUMBERS)

The numbers are `storage.statistics` (counted in SQL, local dates); the chart is
`handlers.numbers_chart`, the file `numbers_workbook` (cells through
`storage.spreadsheets.safe_cell`: a course titled `=HYPERLINK(…)` stays text). Chat
lists the courses with most sign-ups first, at most `COURSE_LINES` a period; the
spreadsheet has them all. A staff member's chart and file replace her earlier ones
(`FileRepo`).

Who: programme admins see every base; a training base's staff (`handlers.staff`) see
their own base's course numbers (sign-ups, attendance, completion, and the chart's
sign-ups), the rest being the programme's, and are told so. The state is declared
`staff` (the core checks it on every event) and every prompt and action asks again
(`staff_only`), reading the base from her row each time (`numbers_base`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from handlers import typed
from handlers.context import Ctx
from handlers.lists import short
from handlers.numbers_chart import weekly_chart
from handlers.replies import MAX_TEXT, Button, Reply
from handlers.router import Invalid, Replies, Router
from handlers.staff import is_staff, staff_base
from handlers.vetting import staff_only, status_name
from storage.files import FileRejected
from storage.spreadsheets import workbook
from storage.statistics import (
    Counts,
    CourseCounts,
    Numbers,
    Period,
    programme_numbers,
    weekly_series,
)
from storage.vocab import CITIES, GREATER_BAY_AREA, KINDS_OF_WORK

log = logging.getLogger(__name__)

router = Router(__name__)

NUMBERS = router.state("NUMBERS", staff=True)

typed.no_search(NUMBERS)

#: weeks on the chart and in the spreadsheet's weekly sheet
WEEKS = 12
#: courses listed per period in chat (the spreadsheet lists every one)
COURSE_LINES = 10
#: room for a period's message (a line of news may go with it)
TEXT_ROOM = MAX_TEXT - 300


def numbers_label(ctx: Ctx) -> str:
    """The staff menu's entry."""
    return ctx._("📊 Programme numbers")


def numbers_base(ctx: Ctx) -> int | None:
    """The training base whose courses' numbers she sees: None (every base) for a
    programme admin, her base for a base's staff (`handlers.staff.staff_base`); the
    screen, the chart and the spreadsheet all follow it. Raises `Invalid` for anyone
    not staff (not reached: every entry is `staff_only`)."""
    if not is_staff(ctx):
        raise Invalid(ctx._("That part is for programme staff only."))
    return staff_base(ctx)


async def base_note(ctx: Ctx, base_id: int | None) -> str:
    """For a base's staff: whose course numbers these are; "" for every base."""
    if base_id is None:
        return ""
    base = await ctx.repos.staff.base(base_id)
    name = ctx._.text(base.name, base.name_en) if base is not None else "—"
    return ctx._("Course numbers are {base}'s only; the rest is the whole programme's.", base=name)


async def _numbers(ctx: Ctx) -> Numbers:
    return await programme_numbers(
        ctx.repos.session,
        today=ctx.today(),
        base_id=numbers_base(ctx),
        timezone=ctx.options.timezone,
    )


async def _series(ctx: Ctx) -> list[tuple[Any, int, int]]:
    return await weekly_series(
        ctx.repos.session,
        today=ctx.today(),
        weeks=WEEKS,
        base_id=numbers_base(ctx),
        timezone=ctx.options.timezone,
    )


def _actions(ctx: Ctx) -> list[list[Button]]:
    _ = ctx._
    return [
        [ctx.button(_("🖼 Chart ({weeks} weeks)", weeks=WEEKS), "chart")],
        [ctx.button(_("📊 As a spreadsheet (XLSX)"), "xlsx")],
        [ctx.button(_("◀ Main menu"), "home")],
    ]


# --- the screen --------------------------------------------------------------------------
@router.prompt(NUMBERS)
@staff_only
async def show_numbers(ctx: Ctx) -> Replies:
    _ = ctx._
    numbers = await _numbers(ctx)
    head = _("{title}, as of {date}.", title=numbers_label(ctx), date=_.date(numbers.today))
    if note := await base_note(ctx, numbers.base_id):
        head += "\n" + note
    replies = []
    for n, period in enumerate(numbers.periods):
        text = period_text(ctx, period)
        replies.append(ctx.reply(f"{head}\n\n{text}" if n == 0 else text))
    replies[-1].buttons.extend(_actions(ctx))
    return replies


def period_name(ctx: Ctx, period: Period) -> str:
    _ = ctx._
    names = {"week": _("This week"), "month": _("This month"), "all": _("All time")}
    return names.get(period.name, period.name)


def _heading(ctx: Ctx, period: Period) -> str:
    _ = ctx._
    last = _.short_date(period.last_day)
    if period.first_day is None:
        return "🗓 " + _("{period}, to {last}", period=period_name(ctx, period), last=last)
    first = _.short_date(period.first_day)
    if first == last:  # a Monday, the 1st: one day so far
        return "🗓 " + _("{period}, {day}", period=period_name(ctx, period), day=last)
    return "🗓 " + _(
        "{period}, {first} to {last}", period=period_name(ctx, period), first=first, last=last
    )


def counts_words(ctx: Ctx, counts: Counts) -> str:
    """`12 — confirmed 8 · waiting 3 · cancelled 1 · attended 5 · completed 2`."""
    return ctx._(
        "{total} — confirmed {confirmed} · waiting {waiting} · cancelled {cancelled} · "
        "attended {attended} · completed {completed}",
        total=counts.signups,
        confirmed=counts.confirmed,
        waiting=counts.waiting,
        cancelled=counts.cancelled,
        attended=counts.attended,
        completed=counts.completed,
    )


def kind_name(ctx: Ctx, track: str) -> str:
    """A kind of work (`KINDS_OF_WORK` id, or a course's track as written) in words."""
    return ctx._.term(KINDS_OF_WORK, track) or "—"


def course_name(ctx: Ctx, course: CourseCounts) -> str:
    return ctx._.text(course.title, course.title_en) or course.code


def city_name(ctx: Ctx, place: str) -> str:
    return ctx._("Elsewhere") if place == "elsewhere" else ctx._.term(CITIES, place)


def placements_words(ctx: Ctx, placements: dict[str, int]) -> str:
    """`Maoming 1 · Greater Bay Area 3 (Guangzhou 2, Shenzhen 1) · Elsewhere 0`: the
    Greater Bay Area's cities with a placement named (the spreadsheet has each)."""
    _ = ctx._
    bay = {p: n for p, n in placements.items() if p in GREATER_BAY_AREA}
    named = _.join(f"{city_name(ctx, p)} {n}" for p, n in bay.items() if n)
    area = _("Greater Bay Area") + f" {sum(bay.values())}"
    parts = [
        f"{city_name(ctx, 'maoming')} {placements.get('maoming', 0)}",
        _("{area} ({cities})", area=area, cities=named) if named else area,
        f"{city_name(ctx, 'elsewhere')} {placements.get('elsewhere', 0)}",
    ]
    return " · ".join(parts)


def period_text(ctx: Ctx, period: Period) -> str:
    """One period's numbers as a message, within `TEXT_ROOM` (courses beyond it, or
    beyond `COURSE_LINES`, are counted, not listed)."""
    _ = ctx._
    top = [
        _heading(ctx, period),
        "📝 " + _("Course sign-ups: {counts}", counts=counts_words(ctx, period.total)),
    ]
    if period.tracks:
        top.append(_("By kind of work:"))
        for track, counts in period.tracks.items():
            words = counts_words(ctx, counts)
            top.append(_("· {name}: {counts}", name=kind_name(ctx, track), counts=words))
    workers = sum(period.workers.values())
    states = " · ".join(f"{status_name(ctx, s)} {n}" for s, n in period.workers.items() if n)
    rest = [
        "🤝 " + _("Job fair registrations: {n}", n=period.fair_registrations),
        "🪪 " + _("Worker profiles started: {n}", n=workers) + (f" — {states}" if states else ""),
        "🏠 " + _("Household requests: {n}", n=period.requests),
        "💬 " + _("Interviews asked: {n}", n=period.interviews),
        "✅ " + _("Hires confirmed: {n}", n=period.hires),
        "📍 " + _("Placements: {places}", places=placements_words(ctx, period.placements)),
    ]
    courses = sorted(period.courses, key=lambda c: -c.counts.signups)
    listed: list[str] = []
    room = TEXT_ROOM - len("\n".join([*top, *rest])) - 200
    for course in courses[:COURSE_LINES]:
        name = short(course_name(ctx, course), 30)
        line = _("· {name}: {counts}", name=name, counts=counts_words(ctx, course.counts))
        if len(line) + 1 > room:
            break
        listed.append(line)
        room -= len(line) + 1
    lines = list(top)
    if listed:
        lines += [_("By course, most sign-ups first:"), *listed]
    if len(courses) > len(listed):
        more = len(courses) - len(listed)
        lines.append(
            _.ngettext(
                "… and {n} more course (every course is in the spreadsheet).",
                "… and {n} more courses (every course is in the spreadsheet).",
                more,
            )
        )
    return "\n".join([*lines, *rest])


# --- the chart -------------------------------------------------------------------------------
def chart_labels(ctx: Ctx, series: list[tuple[Any, int, int]]) -> dict[str, str]:
    """The chart's words in her language (`handlers.numbers_chart.LABEL_KEYS`)."""
    _ = ctx._
    first = series[0][0] if series else ctx.today()
    return {
        "title": _("Course sign-ups and placements per week"),
        "subtitle": _(
            "The last {weeks} weeks, {first} to {last}",
            weeks=len(series),
            first=_.date(first),
            last=_.date(ctx.today()),
        ),
        "signups": _("Course sign-ups"),
        "placements": _("Placements"),
        "week": _("Week starting (Monday)"),
    }


@router.button(NUMBERS, "chart")
@staff_only
async def send_chart(ctx: Ctx, _arg: str) -> Replies:
    _ = ctx._
    series = await _series(ctx)
    png = await asyncio.to_thread(weekly_chart, series, chart_labels(ctx, series), _.lang)
    try:
        name = await ctx.repos.files.keep_png(ctx.user, "numbers-chart", png, replace=True)
    except FileRejected as rejected:  # not expected: the picture is ours
        log.error("numbers chart not kept: %s", rejected.reason)
        raise Invalid(_("The chart could not be made just now. Please try again later.")) from None
    signups, placed = sum(s for _d, s, _p in series), sum(p for _d, _s, p in series)
    text = "🖼 " + _(
        "Course sign-ups and placements per week, the last {weeks} weeks: {signups} sign-ups, "
        "{placed} placements.",
        weeks=len(series),
        signups=signups,
        placed=placed,
    )
    return [ctx.reply(text, *_actions(ctx), photo=name)]


# --- the spreadsheet ---------------------------------------------------------------------------
def _count_cells(counts: Counts) -> list[int]:
    c = counts
    return [c.signups, c.confirmed, c.waiting, c.cancelled, c.attended, c.completed]


def numbers_workbook(
    ctx: Ctx, numbers: Numbers, series: list[tuple[Any, int, int]], note: str = ""
) -> bytes:
    """The numbers as an .xlsx in her language: a summary (a row per measure, a column
    per period; `note`, whose course numbers they are, under them), sign-ups by kind of
    work and by course (a row per period), and the weekly series."""
    _ = ctx._
    periods = numbers.periods
    names = [period_name(ctx, p) for p in periods]
    counted = [
        _("Course sign-ups"),
        _("Confirmed"),
        _("Waiting list"),
        _("Cancelled"),
        _("Attended"),
        _("Completed"),
    ]
    summary: list[list[Any]] = [
        [_("Measure"), *names],
        [_("From"), *[p.first_day for p in periods]],
        [_("To"), *[p.last_day for p in periods]],
    ]
    totals = [_count_cells(p.total) for p in periods]
    summary += [[label, *[t[i] for t in totals]] for i, label in enumerate(counted)]
    summary.append([_("Job fair registrations"), *[p.fair_registrations for p in periods]])
    started = _("Worker profiles started")
    for state in periods[-1].workers:
        label = f"{started}: {status_name(ctx, state)}"
        summary.append([label, *[p.workers.get(state, 0) for p in periods]])
    summary += [
        [_("Household requests"), *[p.requests for p in periods]],
        [_("Interviews asked"), *[p.interviews for p in periods]],
        [_("Hires confirmed"), *[p.hires for p in periods]],
    ]
    placements = _("Placements")
    for place in periods[-1].placements:
        label = f"{placements}: {city_name(ctx, place)}"
        summary.append([label, *[p.placements.get(place, 0) for p in periods]])
    if note:
        summary += [[], [note]]

    kinds: list[list[Any]] = [[_("Kind of work"), _("Period"), *counted]]
    courses: list[list[Any]] = [
        [_("Course code"), _("Course"), _("Kind of work"), _("Starts on"), _("Period"), *counted]
    ]
    for period, name in zip(periods, names, strict=True):
        for track, counts in period.tracks.items():
            kinds.append([kind_name(ctx, track), name, *_count_cells(counts)])
        for c in period.courses:
            head = [c.code, course_name(ctx, c), kind_name(ctx, c.track), c.starts_on, name]
            courses.append([*head, *_count_cells(c.counts)])
    weekly: list[list[Any]] = [[_("Week starting (Monday)"), _("Course sign-ups"), _("Placements")]]
    weekly += [[monday, signups, placed] for monday, signups, placed in series]
    return workbook(
        [
            (_("Summary"), summary),
            (_("By kind of work"), kinds),
            (_("By course"), courses),
            (_("Per week"), weekly),
        ],
        widths=(36, 30, 16, 14, 14, 12, 12, 12, 12, 12, 12),
    )


@router.button(NUMBERS, "xlsx")
@staff_only
async def send_spreadsheet(ctx: Ctx, _arg: str) -> Replies:
    _ = ctx._
    numbers, series = await _numbers(ctx), await _series(ctx)
    note = await base_note(ctx, numbers.base_id)
    data = await asyncio.to_thread(numbers_workbook, ctx, numbers, series, note)
    try:
        name = await ctx.repos.files.keep_document(ctx.user, "numbers", data)
    except FileRejected as rejected:  # not expected: the file is ours
        log.error("numbers spreadsheet not kept: %s", rejected.reason)
        raise Invalid(
            _("The spreadsheet could not be made just now. Please try again later.")
        ) from None
    log.info("staff user %s took the programme's numbers as a spreadsheet", ctx.user.id)
    shown = _("Haoxin-numbers-{date}.xlsx", date=numbers.today.strftime("%Y%m%d"))
    text = "📊 " + _("The programme's numbers as a spreadsheet: {name}", name=shown)
    return [Reply(text, buttons=_actions(ctx), document=name, document_name=shown)]
