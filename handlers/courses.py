"""Finding a course: by track, by county, nearest first, or by typing; then its card.

    COURSES ─┬─ by track ──▶ PICK_TRACK ──┐
             ├─ by county ─▶ PICK_COUNTY ─┤
             ├─ near me ───▶ NEAR_ME (shares a location) ─┤
             └─ search ────▶ SEARCH_COURSES (types words) ─┴─▶ COURSE_LIST ─▶ COURSE_CARD
                                                                        sign up ─▶ signup.py
Only courses still open for sign-up are listed. `course_<id>` deep links open a card.
Kinds of work, counties, free-training groups and teaching languages are shown by their
vocabulary's label in her language (`storage.vocab`), counties in the one order of
`COUNTIES`; titles and places through `_.text` (Traditional for Cantonese, English where
the data gives it). Every line of a list names the course's county.
"""

from __future__ import annotations

from typing import Any

from handlers.context import Ctx
from handlers.events import Location
from handlers.lists import (
    PAGE_SIZE,
    choice_buttons,
    choices,
    chosen,
    page_number,
    page_reply,
    short,
)
from handlers.menus import SEEKER_MENU
from handlers.replies import Button, Pin
from handlers.router import Invalid, Replies, Router
from locales import simplified
from storage.courses import is_open
from storage.models import Course, TrainingBase
from storage.vocab import COUNTIES, FREE_GROUPS, KINDS_OF_WORK, LANGUAGES

router = Router(__name__)

COURSES = router.state("COURSES")
PICK_TRACK = router.state("PICK_TRACK")
PICK_COUNTY = router.state("PICK_COUNTY")
NEAR_ME = router.state("NEAR_ME", personal=True)  # her location: asked after consent
SEARCH_COURSES = router.state("SEARCH_COURSES")
COURSE_LIST = router.state("COURSE_LIST")
COURSE_CARD = router.state("COURSE_CARD")


def free_for_names(ctx: Ctx) -> dict[str, str]:
    """The free-training groups (`FREE_GROUPS`) by id, in her language."""
    return {term.id: ctx._(term.label) for term in FREE_GROUPS}


def base_name(ctx: Ctx, base: TrainingBase) -> str:
    return ctx._.text(base.name, base.name_en)


def base_address(ctx: Ctx, base: TrainingBase) -> str:
    return ctx._.text(base.address, base.address_en)


def title(ctx: Ctx, course: Course) -> str:
    return ctx._.text(course.title, course.title_en)


def county(ctx: Ctx, course: Course) -> str:
    return ctx._.term(COUNTIES, course.base.county)


def list_line(ctx: Ctx, course: Course, note: str = "") -> str:
    """A course as a list shows it: `title · county · date`, the title cut short enough
    that the county and the date always show."""
    where = county(ctx, course)
    parts = [short(title(ctx, course), 24), where, ctx._.short_date(course.starts_on)]
    return " · ".join(p for p in parts if p) + note


# --- the courses menu ----------------------------------------------------------------
@router.prompt(COURSES)
async def courses_menu(ctx: Ctx) -> Replies:
    _ = ctx._
    return [
        ctx.reply(
            _("Find a course. Most courses are free for rural women and unemployed people."),
            [ctx.button(_("📚 By kind of work"), "by_track")],
            [ctx.button(_("🗺 By county"), "by_county")],
            [ctx.button(_("📍 Nearest to me"), "near")],
            [ctx.button(_("🔎 Type what you are looking for"), "search")],
            [ctx.button(_("◀ Main menu"), "home")],
        )
    ]


router.goes("by_track", PICK_TRACK, COURSES)
router.goes("by_county", PICK_COUNTY, COURSES)
router.goes("near", NEAR_ME, COURSES)
router.goes("search", SEARCH_COURSES, COURSES)
router.goes("courses", COURSES, PICK_TRACK, PICK_COUNTY, NEAR_ME, SEARCH_COURSES, COURSE_LIST)
router.goes("courses", COURSES, COURSE_CARD)
router.goes("list", COURSE_LIST, COURSE_CARD)


# --- choosing a track or a county ----------------------------------------------------
def _no_course(ctx: Ctx) -> Replies:
    _ = ctx._
    return [
        ctx.reply(
            _("No course is open for sign-up right now. Please look again soon."),
            [ctx.button(_("◀ Back"), "courses")],
        )
    ]


async def kinds_of_work(ctx: Ctx) -> tuple[list[dict[str, Any]], list[list[Button]]]:
    """The kinds of work with open courses (most courses first, ties in the vocabulary's
    order) and a button for each (action `track`, with its count). The screen showing
    them remembers the choices, for `chose_track`."""
    found = choices(
        KINDS_OF_WORK, await ctx.repos.courses.open_tracks(ctx.today()), in_vocabulary_order=True
    )
    found.sort(key=lambda c: -c["n"])
    return found, choice_buttons(ctx, KINDS_OF_WORK, found, "track", counted=True)


@router.prompt(PICK_TRACK)
async def ask_track(ctx: Ctx) -> Replies:
    found, rows = await kinds_of_work(ctx)
    ctx.remember(choices=found)
    if not found:
        return _no_course(ctx)
    back = [ctx.button(ctx._("◀ Back"), "courses")]
    return [ctx.reply(ctx._("Which kind of work?"), *rows, back)]


@router.prompt(PICK_COUNTY)
async def ask_county(ctx: Ctx) -> Replies:
    found = choices(
        COUNTIES, await ctx.repos.courses.open_counties(ctx.today()), in_vocabulary_order=True
    )
    ctx.remember(choices=found)
    if not found:
        return _no_course(ctx)
    rows = choice_buttons(ctx, COUNTIES, found, "county", counted=True)
    back = [ctx.button(ctx._("◀ Back"), "courses")]
    return [ctx.reply(ctx._("Which county?"), *rows, back)]


def _chosen(ctx: Ctx, arg: str) -> list[str]:
    return chosen(ctx, ctx.form.get("choices") or [], arg)["names"]


@router.button(SEEKER_MENU, "track")  # her main menu lists the kinds too
@router.button(PICK_TRACK, "track")
async def chose_track(ctx: Ctx, arg: str) -> Replies:
    ctx.remember(listing={"by": "track", "value": _chosen(ctx, arg)}, page=0)
    return await ctx.goto(COURSE_LIST)


@router.button(PICK_COUNTY, "county")
async def chose_county(ctx: Ctx, arg: str) -> Replies:
    ctx.remember(listing={"by": "county", "value": _chosen(ctx, arg)}, page=0)
    return await ctx.goto(COURSE_LIST)


# --- nearest and search: the list is a fixed set of ids -------------------------------
@router.prompt(NEAR_ME)
async def ask_location(ctx: Ctx) -> Replies:
    _ = ctx._
    parts = [_("Share your location and I will list the courses nearest to you.")]
    if ctx.event.platform == "wx":
        parts.append(_("(On WeChat: ＋ → Location.)"))
    parts.append(_("Or type your county or township."))
    return [
        ctx.reply(
            _.sentences(parts),
            [ctx.button(_("◀ Back"), "courses")],
            request_location=_("📍 Share my location"),
        )
    ]


@router.location(NEAR_ME)
async def got_location(ctx: Ctx, where) -> Replies:  # type: ignore[no-untyped-def]
    if not (-90 <= where.latitude <= 90 and -180 <= where.longitude <= 180):
        raise Invalid(ctx._("That location does not look right. Please share it again."))
    found = await ctx.repos.courses.nearest(ctx.today(), where.latitude, where.longitude, 20)
    ctx.remember(
        listing={
            "by": "ids",
            "ids": [c.id for c, _km in found],
            "km": [round(km, 1) for _c, km in found],
        },
        page=0,
    )
    return await ctx.goto(COURSE_LIST)


@router.text(NEAR_ME)
async def location_typed(ctx: Ctx, text: str) -> Replies:
    """Where a location cannot be shared (the terminal, WeChat without GPS, an old
    phone): a typed county lists that county's courses; a typed township or street
    that a training base's address names is taken as that base's place."""
    from handlers.signup import named_place

    county = named_place(text)  # 化州, huazhou, 我在化州
    if county is not None and COUNTIES.get(county.id) is not None:
        ctx.remember(listing={"by": "county", "value": list(county.names)}, page=0)
        return await ctx.goto(COURSE_LIST)
    place = None
    if len(text) >= 2:  # a township or street, as typed or in Simplified (水東鎮)
        for spelling in dict.fromkeys((text, simplified(text))):
            place = place or await ctx.repos.courses.place_named(spelling)
    if place is None:
        raise Invalid(
            ctx._(
                "I don't know that place. Type your county ({counties}) or your township, "
                "or share your location.",
                counties=ctx._.join(ctx._(t.label) for t in COUNTIES),
            )
        )
    return await got_location(ctx, Location(*place))


@router.prompt(SEARCH_COURSES)
async def ask_words(ctx: Ctx) -> Replies:
    _ = ctx._
    return [
        ctx.reply(
            _(
                "Type what you are looking for, in Chinese or pinyin: for example 月嫂, "
                "yuesao, 养老 or a county."
            ),
            [ctx.button(_("◀ Back"), "courses")],
        )
    ]


@router.text(SEARCH_COURSES)
async def words_typed(ctx: Ctx, text: str) -> Replies:
    if len(text) > 40:
        raise Invalid(ctx._("Please type a few words only (at most 40 characters)."))
    ids = await ctx.repos.search.courses(text, ctx.today(), limit=5)
    if not ids:
        raise Invalid(ctx._("I found no open course for “{words}”. Try other words.", words=text))
    ctx.remember(listing={"by": "ids", "ids": ids}, page=0)  # what she typed is not kept
    return await ctx.goto(COURSE_LIST)


# --- the list ------------------------------------------------------------------------
async def _page(ctx: Ctx, page: int) -> tuple[list[Course], int, list[str]]:
    listing = ctx.form.get("listing") or {}
    today = ctx.today()
    if listing.get("by") == "ids":
        ids: list[int] = listing.get("ids", [])
        courses = [c for c in await ctx.repos.courses.by_ids(ids) if is_open(c, today)]
        notes = [""] * len(courses)
        if "km" in listing:
            km = dict(zip(ids, listing["km"], strict=False))
            notes = [f" · {km.get(c.id, '?')} km" for c in courses]
        window = slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE)
        return courses[window], len(courses), notes[window]
    kind = {listing.get("by"): listing.get("value")}
    courses, total = await ctx.repos.courses.open_page(
        today,
        track=kind.get("track"),
        county=kind.get("county"),
        offset=page * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    return courses, total, [""] * len(courses)


async def _list(ctx: Ctx, page: int, replace: bool) -> Replies:
    _ = ctx._
    courses, total, notes = await _page(ctx, page)
    if total and not courses:  # the page ran past the end (courses closed meanwhile)
        page = 0
        courses, total, notes = await _page(ctx, 0)
    ctx.remember(page=page)
    back = [[ctx.button(_("◀ Back"), "courses")]]
    if not courses:
        return [ctx.reply(_("No course is open for sign-up here right now."), *back)]
    items = [
        (list_line(ctx, c, note), "open", c.id) for c, note in zip(courses, notes, strict=True)
    ]
    head = _.ngettext(
        "{n} course open for sign-up. Tap it to see it:",
        "{n} courses open for sign-up. Tap one to see it:",
        total,
    )
    return [page_reply(ctx, head, items, page, total, replace=replace, extra=back)]


@router.prompt(COURSE_LIST)
async def show_list(ctx: Ctx) -> Replies:
    return await _list(ctx, int(ctx.form.get("page") or 0), replace=False)


@router.button(COURSE_LIST, "page")
async def turn_page(ctx: Ctx, arg: str) -> Replies:
    return await _list(ctx, page_number(arg), replace=True)


@router.button(COURSE_LIST, "open")
async def open_course(ctx: Ctx, arg: str) -> Replies:
    return await show_course(ctx, arg)


@router.deep_link("course")
async def show_course(ctx: Ctx, arg: str) -> Replies:
    course = await ctx.repos.courses.get(int(arg)) if arg.isdecimal() and len(arg) < 10 else None
    if course is None:
        raise Invalid(ctx._("I can't find that course. It may have been removed."))
    ctx.remember(course=course.id)
    return await ctx.goto(COURSE_CARD)


# --- the card ------------------------------------------------------------------------
def course_card(ctx: Ctx, course: Course, seats_left: int) -> str:
    _ = ctx._
    base = course.base
    kind = _.term(KINDS_OF_WORK, course.track)
    place = base_name(ctx, base)
    if base.county:
        place = _("{place} ({county})", place=place, county=county(ctx, course))
    lines = [
        f"📚 {title(ctx, course)}",
        " · ".join(x for x in (_.text(course.brand), kind) if x),
        f"🏫 {place}",
        f"📍 {base_address(ctx, base)}" + (f" · {_.text(course.room)}" if course.room else ""),
        "📅 "
        + _(
            "{start} to {end}, {hours}",
            start=_.date(course.starts_on),
            end=_.date(course.ends_on),
            hours=course.daily_hours or "—",
        ),
    ]
    if course.status == "cancelled":
        lines.append("⛔ " + _("This course has been cancelled."))
    elif seats_left > 0:
        left = _.ngettext(
            "{left} of {n} seat left", "{left} of {n} seats left", course.seats, left=seats_left
        )
        lines.append("🪑 " + left)
    else:
        lines.append("🪑 " + _("Full: you can join the waiting list"))
    fee = _("free") if course.fee_fen == 0 else _.money(course.fee_fen)
    lines.append("💴 " + _("Fee: {fee}", fee=fee))
    if course.fee_fen and course.free_for:
        who = _.terms(FREE_GROUPS, course.free_for)
        lines.append("🆓 " + _("Free for: {who}", who=who))
    if course.certificate:
        name = _.text(course.certificate, course.certificate_en)
        lines.append("🎓 " + _("Certificate: {name}", name=name))
    if course.teaching_language:
        languages = _.terms(LANGUAGES, course.teaching_language)
        lines.append("🗣 " + _("Taught in: {languages}", languages=languages))
    if course.lodging:
        lines.append("🛏 " + _("Lodging provided"))
    if course.childcare:
        lines.append("👶 " + _("Childcare provided during classes"))
    if base.phone:
        lines.append(f"☎ {base.phone}")
    if course.signup_closes_on:
        lines.append("⏰ " + _("Sign up by {day}", day=_.date(course.signup_closes_on)))
    return "\n".join(line for line in lines if line)


@router.prompt(COURSE_CARD)
async def card(ctx: Ctx) -> Replies:
    _ = ctx._
    course = await ctx.repos.courses.get(int(ctx.form.get("course") or 0))
    if course is None:
        return [
            ctx.reply(_("I can't find that course. It may have been removed.")),
            *await ctx.goto(COURSES),
        ]
    left = await ctx.repos.courses.seats_left(course.id)
    mine = await ctx.repos.signups.mine(course.id, ctx.user.id) if ctx.user.id else None
    rows = []
    if mine is not None and mine.status in ("confirmed", "waitlisted"):
        rows.append([ctx.button(_("📝 My sign-ups"), "my_signups")])
    elif is_open(course, ctx.today()):
        label = _("✍ Sign up") if left > 0 else _("⏳ Join the waiting list")
        rows.append([ctx.button(label, "signup", course.id)])
    rows.append([ctx.button(_("📍 Where is it?"), "where", course.id)])
    if ctx.is_admin:
        rows.append([ctx.button(_("🔗 Link and QR code"), "qr", course.id)])
    back = "list" if ctx.form.get("listing") else "courses"
    rows.append([ctx.button(_("◀ Back"), back), ctx.button(_("🏠 Main menu"), "home")])
    return [ctx.reply(course_card(ctx, course, left), *rows)]


@router.button(COURSE_CARD, "where")
async def where(ctx: Ctx, _arg: str) -> Replies:
    course = await ctx.repos.courses.get(int(ctx.form.get("course") or 0))
    if course is None or course.base.latitude is None or course.base.longitude is None:
        raise Invalid(ctx._("I don't have a map location for this place."))
    base = course.base
    name, address = base_name(ctx, base), base_address(ctx, base)
    pin = Pin(base.latitude, base.longitude, name, address)  # type: ignore[arg-type]
    return [ctx.reply(f"{name}\n{address}", pin=pin), *await ctx.ask()]
