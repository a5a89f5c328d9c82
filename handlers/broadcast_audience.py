"""A notice's button and who receives it (issue 12), on `broadcast_compose.router`.

    BC_BUTTON ─📚 A course─▶ BC_COURSES (`bc_pick` button) ─┐
              ─🎪 A job fair (admins)─▶ BC_FAIRS (button) ───┼─▶ the preview when she is
              ─➖ No button─────────────────────────────────┘   changing it, else BC_WHO
    BC_WHO ─everyone, job seekers, households────────────────────────▶ BC_NARROW
           ─workers─▶ BC_WORKERS (tick kinds of work, vetting states) ─▶ BC_NARROW
           ─a course's people─▶ BC_COURSES (`bc_pick` audience) ─────▶ BC_NARROW
           ─a fair's people (admins)─▶ BC_FAIRS (audience) ────────────▶ BC_NARROW
    BC_NARROW (tick counties, languages) ─Continue─▶ kept in the draft, BC_PREVIEW

A training base's staff skips BC_WHO: her base's courses at once; no fairs. Her base is
asked again on every pick and on the preview (`allowed`): another base's course, by a
forged button or a screen from before, is refused.

The audience being chosen is kept in her form (`bc_aud`, the shape `check_audience`
takes) and written to the draft when she goes on to the preview. The vocabularies are
`storage.vocab`'s: kinds of work and counties by term id, vetting states as
`storage.workers.STATES`. A county is kept as its id and every spelling of it, because
`Profile.county` holds the county as she gave it (sign-up keeps `茂南`, not `maonan`) and
`check_audience`'s filter compares the values as they are.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from handlers.broadcast_compose import (
    BC_BUTTON,
    BC_COURSES,
    BC_FAIRS,
    BC_MODE,
    BC_NARROW,
    BC_PREVIEW,
    BC_WHO,
    BC_WORKERS,
    back_to_preview,
    draft,
    revise,
    router,
    staff_goes,
    stop_button,
)
from handlers.context import Ctx
from handlers.courses import list_line
from handlers.lists import PAGE_SIZE, page_number, page_reply, short
from handlers.replies import Button
from handlers.router import Invalid, Replies
from handlers.staff import staff_base
from handlers.vetting import staff_only, status_name
from locales import language_name
from storage.broadcasts import LANGUAGES, audience_counts
from storage.deliveries import PLATFORMS
from storage.fairs import FairFilter
from storage.models import Broadcast, Course, JobFair
from storage.vetting_queries import AttendanceQueries
from storage.vocab import COUNTIES, KINDS_OF_WORK
from storage.workers import STATES


# --- what an audience and a button say ------------------------------------------------------
def county_ids(values: list[str]) -> list[str]:
    """The counties' term ids, once each, in the vocabulary's order."""
    found = {t.id for v in values if (t := COUNTIES.of_name(v)) is not None}
    return [t.id for t in COUNTIES if t.id in found]


def county_values(ids: list[str]) -> list[str]:
    """What the audience keeps for these counties: each id and its spellings."""
    values = [v for i in ids if (t := COUNTIES.get(i)) is not None for v in (t.id, *t.names)]
    return list(dict.fromkeys(values))


def _ident(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def _course(ctx: Ctx, ident: Any) -> Course | None:
    ident = _ident(ident)
    return await ctx.repos.courses.get(ident) if ident else None


async def _fair(ctx: Ctx, ident: Any) -> JobFair | None:
    ident = _ident(ident)
    return await ctx.repos.fairs.get(ident) if ident else None


async def audience_words(ctx: Ctx, audience: dict[str, Any]) -> str:
    """Who the audience names, in words: `Workers: Elder care; Verified; in Maonan`."""
    _ = ctx._
    who = audience.get("who", "everyone")
    if who == "workers":
        words = _("Workers")
        kinds = [_(t.label) for t in KINDS_OF_WORK if t.id in audience.get("kinds", [])]
        states = [status_name(ctx, s) for s in STATES if s in audience.get("vetting", [])]
        if kinds:
            words += " — " + _("kinds of work: {kinds}", kinds=_.join(kinds))
        if states:
            words += " — " + _("vetting: {states}", states=_.join(states))
    elif who == "course":
        course = await _course(ctx, audience.get("course_id"))
        name = _.text(course.title, course.title_en) if course else "—"
        words = _("People with a place on the course “{course}”", course=name)
    elif who == "fair":
        fair = await _fair(ctx, audience.get("fair_id"))
        name = _.text(fair.title, fair.title_en) if fair else "—"
        words = _("People registered for the job fair “{fair}”", fair=name)
    else:
        words = {
            "seekers": _("Job seekers"),
            "households": _("Households"),
        }.get(who, _("Everyone"))
    if counties := county_ids(audience.get("counties", [])):
        places = _.join(_(t.label) for t in COUNTIES if t.id in counties)
        words += " — " + _("living in {places}", places=places)
    if langs := [lang for lang in LANGUAGES if lang in audience.get("langs", [])]:
        words += " — " + _("reading {languages}", languages=_.join(map(language_name, langs)))
    return words


async def button_words(ctx: Ctx, button: dict[str, Any] | None) -> str:
    _ = ctx._
    if not button:
        return _("No button.")
    if button.get("kind") == "course":
        course = await _course(ctx, button.get("id"))
        name = _.text(course.title, course.title_en) if course else "—"
        return _("A button that opens the course “{course}”.", course=name)
    fair = await _fair(ctx, button.get("id"))
    name = _.text(fair.title, fair.title_en) if fair else "—"
    return _("A button that opens the job fair “{fair}”.", fair=name)


async def allowed(ctx: Ctx, audience: dict[str, Any]) -> bool:
    """Whether she may send to this audience: an admin anyone; a training base's staff
    the people holding a place on a course of her base."""
    base = staff_base(ctx)
    if base is None:
        return True
    course = await _course(ctx, audience.get("course_id"))
    return audience.get("who") == "course" and course is not None and course.base_id == base


def platform_name(ctx: Ctx, platform: str) -> str:
    _ = ctx._
    return {"tg": _("Telegram"), "wx": _("WeChat"), "console": _("terminal")}.get(
        platform, platform
    )


def recipients_words(ctx: Ctx, counts: dict[str, int]) -> list[str]:
    """`Telegram 3 · WeChat 1 · terminal 0 (4 in all)`, and who is sent nothing."""
    _ = ctx._
    platforms = [
        *PLATFORMS,
        *(p for p in counts if p not in (*PLATFORMS, "opted_out", "unreachable")),
    ]
    reach = sum(counts.get(p, 0) for p in platforms)
    each = " · ".join(f"{platform_name(ctx, p)} {counts.get(p, 0)}" for p in platforms)
    lines = [
        "📨 "
        + _.ngettext(
            "Goes to {n} person: {platforms}",
            "Goes to {n} people: {platforms}",
            reach,
            platforms=each,
        )
    ]
    if counts.get("opted_out") or counts.get("unreachable"):
        lines.append(
            "🚫 "
            + _(
                "Sent nothing: {off} turned notices off, {gone} cannot be reached (blocked "
                "the bot).",
                off=counts.get("opted_out", 0),
                gone=counts.get("unreachable", 0),
            )
        )
    if counts.get("wx"):
        lines.append(
            _(
                "On WeChat it reaches only those who wrote to us in the last 48 hours; the "
                "others are counted apart."
            )
        )
    return lines


# --- moving between the steps --------------------------------------------------------------------
def audience_state(ctx: Ctx, row: Broadcast | None) -> str:
    """Start choosing who receives it (from the draft's audience): the state to go to."""
    current = dict(row.audience) if row is not None else {"who": "everyone"}
    current["counties"] = county_ids(current.get("counties", []))
    ctx.remember(bc_aud=current)
    if staff_base(ctx) is not None:
        ctx.remember(bc_pick="audience", bc_page=0)
        return BC_COURSES
    return BC_WHO


async def start_audience(ctx: Ctx) -> Replies:
    return await ctx.goto(audience_state(ctx, await draft(ctx)))


async def after_texts(ctx: Ctx) -> Replies:
    return await ctx.goto(BC_PREVIEW if ctx.form.get("bc_edit") else BC_BUTTON)


async def _after_button(ctx: Ctx) -> Replies:
    return await ctx.goto(BC_PREVIEW) if ctx.form.get("bc_edit") else await start_audience(ctx)


async def _written(ctx: Ctx) -> Broadcast:
    row = await draft(ctx)
    if row is None:
        ctx.user.state = BC_MODE
        raise Invalid(ctx._("A notice needs at least one text. Please type it."))
    return row


def _audience(ctx: Ctx) -> dict[str, Any]:
    """The audience being chosen (`bc_aud`); `Invalid` (choose again) when it is gone."""
    aud = ctx.form.get("bc_aud")
    if not isinstance(aud, dict):
        ctx.user.state = audience_state(ctx, None)
        raise Invalid(ctx._("Please choose again who receives it."))
    return aud


def _tick(ctx: Ctx, aud: dict[str, Any], key: str, value: str, label: str) -> Button:
    """A box to tick: `value` in the audience's list `key` (`TICKS`), or not."""
    on = value in (aud.get(key) or [])
    return ctx.button(f"{'✅' if on else '▫'} {label}", "tick", f"{key}.{value}")


def _pairs(buttons: list[Button]) -> list[list[Button]]:
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def _toggled(values: Any, value: str) -> list[str]:
    values = [v for v in values if isinstance(v, str)] if isinstance(values, list) else []
    return [v for v in values if v != value] if value in values else [*values, value]


# --- the button --------------------------------------------------------------------------------
@router.prompt(BC_BUTTON)
@staff_only
async def ask_button(ctx: Ctx) -> Replies:
    _ = ctx._
    row = await _written(ctx)
    text = "\n".join(
        [
            _(
                "Add a button that opens a course or a job fair? On Telegram it is a button "
                "under the notice; elsewhere the notice says what to send to open it."
            ),
            _("Now: {button}", button=await button_words(ctx, row.button)),
        ]
    )
    rows = [[ctx.button(_("📚 A course"), "btn", "course")]]
    if staff_base(ctx) is None:
        rows.append([ctx.button(_("🎪 A job fair"), "btn", "fair")])
    rows.append([ctx.button(_("➖ No button"), "btn", "none")])
    return [ctx.reply(text, *rows, back_to_preview(ctx), stop_button(ctx))]


@router.button(BC_BUTTON, "btn")
@staff_only
async def button_chosen(ctx: Ctx, arg: str) -> Replies:
    if arg == "none":
        await revise(ctx, await _written(ctx), lambda r: {"clear_button": True})
        return await _after_button(ctx)
    if arg not in ("course", "fair") or (arg == "fair" and staff_base(ctx) is not None):
        raise Invalid(ctx._("I don't recognise that button."))
    ctx.remember(bc_pick="button", bc_page=0)
    return await ctx.goto(BC_COURSES if arg == "course" else BC_FAIRS)


def _picking_button(ctx: Ctx) -> bool:
    return ctx.form.get("bc_pick") == "button"


def _back_from_pick(ctx: Ctx) -> list[Button]:
    if _picking_button(ctx):
        return [ctx.button(ctx._("◀ Back"), "back_button")]
    if staff_base(ctx) is None:
        return [ctx.button(ctx._("◀ Back"), "back_who")]
    return back_to_preview(ctx)


# --- choosing a course ----------------------------------------------------------------------------
@router.prompt(BC_COURSES)
@staff_only
async def ask_course(ctx: Ctx, *, replace: bool = False) -> Replies:
    _ = ctx._
    await _written(ctx)
    page = page_number(str(ctx.form.get("bc_page", 0)))
    found, seats, total = await AttendanceQueries(ctx.repos.session).courses(
        ctx.today(), page * PAGE_SIZE, PAGE_SIZE, base_id=staff_base(ctx)
    )
    if not found and page:
        ctx.remember(bc_page=0)
        return await ask_course(ctx, replace=replace)
    extra = [_back_from_pick(ctx), stop_button(ctx)]
    if not found:
        return [ctx.reply(_("There are no courses yet."), *extra)]
    if _picking_button(ctx):
        text = _("Which course should the notice's button open?")
    else:
        text = _(
            "The notice goes to the people holding a place on which course (a seat or on "
            "the waiting list)? 👤: seats taken."
        )
    items = [(f"{list_line(ctx, c)} · 👤{seats.get(c.id, 0)}", "pick", c.id) for c in found]
    return [page_reply(ctx, text, items, page, total, replace=replace, extra=extra)]


@router.button(BC_COURSES, "page")
@staff_only
async def course_page(ctx: Ctx, arg: str) -> Replies:
    ctx.remember(bc_page=page_number(arg))
    return await ask_course(ctx, replace=True)


@router.button(BC_COURSES, "pick")
@staff_only
async def course_picked(ctx: Ctx, arg: str) -> Replies:
    _ = ctx._
    course = await _course(ctx, int(arg)) if arg.isdecimal() and len(arg) < 10 else None
    if course is None or course.status == "cancelled":
        raise Invalid(_("That course is no longer there."))
    base = staff_base(ctx)
    if base is not None and course.base_id != base:
        raise Invalid(_("That course belongs to another training base."))
    if _picking_button(ctx):
        button = {"kind": "course", "id": course.id}
        await revise(ctx, await _written(ctx), lambda r: {"button": button})
        return await _after_button(ctx)
    aud = _audience(ctx)
    ctx.remember(bc_aud={**_narrowing(aud), "who": "course", "course_id": course.id})
    return await ctx.goto(BC_NARROW)


# --- choosing a job fair ----------------------------------------------------------------------
def _admins_only(ctx: Ctx) -> None:
    if staff_base(ctx) is not None:
        ctx.user.state = BC_COURSES if not _picking_button(ctx) else BC_BUTTON
        raise Invalid(ctx._("Notices about job fairs are sent by the programme office."))


@router.prompt(BC_FAIRS)
@staff_only
async def ask_fair(ctx: Ctx, *, replace: bool = False) -> Replies:
    _ = ctx._
    _admins_only(ctx)
    await _written(ctx)
    page = page_number(str(ctx.form.get("bc_page", 0)))
    since = dt.datetime.combine(ctx.today(), dt.time())  # fairs keep local wall-clock times
    total = await ctx.repos.fairs.count(since, FairFilter())
    found = await ctx.repos.fairs.listed(since, FairFilter(), page * PAGE_SIZE, PAGE_SIZE)
    if not found and page:
        ctx.remember(bc_page=0)
        return await ask_fair(ctx, replace=replace)
    extra = [_back_from_pick(ctx), stop_button(ctx)]
    if not found:
        return [ctx.reply(_("There are no job fairs to come."), *extra)]
    if _picking_button(ctx):
        text = _("Which job fair should the notice's button open?")
    else:
        text = _("The notice goes to the people registered for which job fair?")
    items = [
        (
            f"{short(_.text(f.title, f.title_en), 40)} · {_.short_date(f.starts_at.date())}",
            "pick",
            f.id,
        )
        for f in found
    ]
    return [page_reply(ctx, text, items, page, total, replace=replace, extra=extra)]


@router.button(BC_FAIRS, "page")
@staff_only
async def fair_page(ctx: Ctx, arg: str) -> Replies:
    _admins_only(ctx)
    ctx.remember(bc_page=page_number(arg))
    return await ask_fair(ctx, replace=True)


@router.button(BC_FAIRS, "pick")
@staff_only
async def fair_picked(ctx: Ctx, arg: str) -> Replies:
    _admins_only(ctx)
    fair = await _fair(ctx, int(arg)) if arg.isdecimal() and len(arg) < 10 else None
    if fair is None or fair.status != "open":
        raise Invalid(ctx._("That job fair is no longer there."))
    if _picking_button(ctx):
        button = {"kind": "fair", "id": fair.id}
        await revise(ctx, await _written(ctx), lambda r: {"button": button})
        return await _after_button(ctx)
    aud = _audience(ctx)
    ctx.remember(bc_aud={**_narrowing(aud), "who": "fair", "fair_id": fair.id})
    return await ctx.goto(BC_NARROW)


staff_goes("back_button", BC_BUTTON, BC_COURSES, BC_FAIRS)
staff_goes("back_who", BC_WHO, BC_COURSES, BC_FAIRS, BC_WORKERS)


# --- who --------------------------------------------------------------------------------------
def _narrowing(aud: dict[str, Any]) -> dict[str, Any]:
    """What narrows any audience (counties, languages), kept when the group changes."""
    return {k: aud[k] for k in ("counties", "langs") if aud.get(k)}


@router.prompt(BC_WHO)
@staff_only
async def ask_who(ctx: Ctx) -> Replies:
    _ = ctx._
    await _written(ctx)
    if staff_base(ctx) is not None:
        ctx.user.state = audience_state(ctx, await draft(ctx))
        return await ctx.ask()
    groups = [
        ("everyone", _("👥 Everyone")),
        ("seekers", _("🔎 Job seekers")),
        ("households", _("🏠 Households")),
        ("workers", _("🧹 Workers (by kind of work, vetting state)")),
        ("course", _("📚 People signed up for a course")),
        ("fair", _("🎪 People registered for a job fair")),
    ]
    rows = [[ctx.button(label, "who", who)] for who, label in groups]
    text = _("Who should receive it? (Then you can narrow it by county and language.)")
    return [ctx.reply(text, *rows, back_to_preview(ctx), stop_button(ctx))]


@router.button(BC_WHO, "who")
@staff_only
async def who_chosen(ctx: Ctx, arg: str) -> Replies:
    aud = _narrowing(ctx.form.get("bc_aud") or {})
    if arg in ("everyone", "seekers", "households"):
        ctx.remember(bc_aud={**aud, "who": arg})
        return await ctx.goto(BC_NARROW)
    if arg == "workers":
        ctx.remember(bc_aud={**aud, "who": "workers"})
        return await ctx.goto(BC_WORKERS)
    if arg in ("course", "fair"):
        ctx.remember(bc_aud={**aud, "who": arg}, bc_pick="audience", bc_page=0)
        return await ctx.goto(BC_COURSES if arg == "course" else BC_FAIRS)
    raise Invalid(ctx._("I don't recognise that button."))


@router.prompt(BC_WORKERS)
@staff_only
async def ask_workers(ctx: Ctx, *, replace: bool = False) -> Replies:
    _ = ctx._
    aud = _audience(ctx)
    text = "\n".join(
        [
            _(
                "Which workers? Tap kinds of work and vetting states to tick them (none "
                "ticked: any), then continue."
            ),
            _("Now: {audience}", audience=await audience_words(ctx, aud)),
        ]
    )
    kinds = [_tick(ctx, aud, "kinds", t.id, _(t.label)) for t in KINDS_OF_WORK]
    states = [_tick(ctx, aud, "vetting", s, status_name(ctx, s)) for s in STATES]
    rows = [*_pairs(kinds), *_pairs(states), [ctx.button(_("Continue ▶"), "next")]]
    back = [ctx.button(_("◀ Back"), "back_who")]
    return [ctx.reply(text, *rows, back, stop_button(ctx), replace=replace)]


@router.button(BC_WORKERS, "next")
@staff_only
async def workers_done(ctx: Ctx, _arg: str) -> Replies:
    _audience(ctx)
    return await ctx.goto(BC_NARROW)


# --- narrowing: counties and languages --------------------------------------------------------
def kept(aud: dict[str, Any]) -> dict[str, Any]:
    """The audience as the draft keeps it (`check_audience`): only what it names."""
    who = aud.get("who", "everyone")
    out: dict[str, Any] = {"who": who}
    if who == "workers":
        out |= {k: list(aud[k]) for k in ("kinds", "vetting") if aud.get(k)}
    if who in ("course", "fair"):
        out[f"{who}_id"] = aud.get(f"{who}_id")
    if aud.get("counties"):
        out["counties"] = county_values(aud["counties"])
    if aud.get("langs"):
        out["langs"] = [lang for lang in LANGUAGES if lang in aud["langs"]]
    return out


@router.prompt(BC_NARROW)
@staff_only
async def ask_narrow(ctx: Ctx, *, replace: bool = False) -> Replies:
    _ = ctx._
    aud = _audience(ctx)
    counts = await audience_counts(ctx.repos.session, kept(aud))
    reach = sum(n for p, n in counts.items() if p not in ("opted_out", "unreachable"))
    text = "\n".join(
        [
            _(
                "Narrow it down? Tap counties and languages to send only to those (none "
                "ticked: all), then continue to the preview."
            ),
            _("Now: {audience}", audience=await audience_words(ctx, kept(aud))),
            _.ngettext("That is {n} person to send to.", "That is {n} people to send to.", reach),
        ]
    )
    counties = [_tick(ctx, aud, "counties", t.id, _(t.label)) for t in COUNTIES]
    langs = [_tick(ctx, aud, "langs", lang, language_name(lang)) for lang in LANGUAGES]
    rows = [*_pairs(counties), langs, [ctx.button(_("Continue to the preview ▶"), "next")]]
    return [ctx.reply(text, *rows, stop_button(ctx), replace=replace)]


#: the lists a box ticks (`_tick`: button data `<list>.<value>`) and what each may hold
TICKS = {
    "kinds": frozenset(t.id for t in KINDS_OF_WORK),
    "vetting": frozenset(STATES),
    "counties": frozenset(t.id for t in COUNTIES),
    "langs": frozenset(LANGUAGES),
}


async def ticked(ctx: Ctx, arg: str) -> Replies:
    """A box ticked or unticked: the same screen, edited in place."""
    key, _sep, value = arg.partition(".")
    if value not in TICKS.get(key, ()):
        raise Invalid(ctx._("I don't recognise that button."))
    aud = _audience(ctx)
    ctx.remember(bc_aud={**aud, key: _toggled(aud.get(key), value)})
    redraw = ask_workers if ctx.user.state == BC_WORKERS else ask_narrow
    return await redraw(ctx, replace=True)


for _screen in (BC_WORKERS, BC_NARROW):
    router.button(_screen, "tick")(staff_only(ticked))


@router.button(BC_NARROW, "next")
@staff_only
async def narrow_done(ctx: Ctx, _arg: str) -> Replies:
    audience = kept(_audience(ctx))
    if not await allowed(ctx, audience):
        ctx.user.state = audience_state(ctx, None)
        raise Invalid(ctx._("That course belongs to another training base."))
    await revise(ctx, await _written(ctx), lambda r: {"audience": audience})
    ctx.remember(bc_aud=None)
    return await ctx.goto(BC_PREVIEW)
