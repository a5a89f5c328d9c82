"""Job fairs: upcoming fairs soonest first, filters, search, the card, registering.

    FAIRS ─┬─ filter by county / month / destination ─▶ FAIR_FILTER ─▶ FAIRS (filtered)
           ├─ search ─▶ SEARCH_FAIRS ─▶ FAIRS (found)
           └─ tap a fair ─▶ FAIR_CARD ─register─▶ (FAIR_ASK_NAME ▶ FAIR_ASK_PHONE) ▶ FAIR_CONFIRM
Name and phone come from her profile when she has one. `fair_<id>` deep links open a card.
Counties, kinds of work and where the jobs are show by their vocabulary's label in her
language (`storage.vocab`), counties in the one order of `COUNTIES`; titles, places and
firms through `_.text` (Traditional for Cantonese, English where the data gives it). A
filtered list's heading names its filter.
"""

from __future__ import annotations

import datetime as dt

from handlers.context import Ctx
from handlers.events import Contact
from handlers.lists import (
    PAGE_SIZE,
    choice_buttons,
    choices,
    chosen,
    page_number,
    page_reply,
    short,
)
from handlers.phone import phone_question
from handlers.replies import Pin, Reply
from handlers.router import Invalid, Replies, Router
from handlers.validate import checked_name, checked_phone
from locales import Translator, translator
from storage.fairs import FairFilter, FairLine
from storage.models import JobFair, User, utcnow
from storage.vocab import CITIES, COUNTIES, KINDS_OF_WORK, Vocabulary

router = Router(__name__)

FAIRS = router.state("FAIRS")
FAIR_FILTER = router.state("FAIR_FILTER")
SEARCH_FAIRS = router.state("SEARCH_FAIRS")
FAIR_CARD = router.state("FAIR_CARD")
FAIR_ASK_NAME = router.state("FAIR_ASK_NAME", personal=True)
FAIR_ASK_PHONE = router.state("FAIR_ASK_PHONE", personal=True)
FAIR_CONFIRM = router.state("FAIR_CONFIRM", personal=True)
CONFIRM_UNREGISTER = router.state("CONFIRM_UNREGISTER")


def _since(ctx: Ctx) -> dt.datetime:
    return dt.datetime.combine(ctx.today(), dt.time())  # fairs keep local wall-clock times


def title(_: Translator, fair: JobFair) -> str:
    return _.text(fair.title, fair.title_en)


def venue(_: Translator, fair: JobFair) -> str:
    """Where it is: the venue and its address."""
    return " ".join(x for x in (_.text(fair.venue, fair.venue_en), address(_, fair)) if x)


def address(_: Translator, fair: JobFair) -> str:
    return _.text(fair.address, fair.address_en)


def _names(value: object) -> tuple[str, ...]:
    """A county or destination of her filter: the names of one term (a form saved
    before terms were grouped holds one name)."""
    if isinstance(value, str):
        return (value,) if value else ()
    return tuple(v for v in value or () if isinstance(v, str))


def _filter(ctx: Ctx) -> FairFilter:
    """Her filter, from her form: `{"county": [names]}`, `{"month": "2026-12"}` (of the
    local wall-clock start), `{"destination": [names]}` or a search's `{"ids": [...]}`."""
    f = ctx.form.get("fair_filter") or {}
    if f.get("ids") is not None:
        return FairFilter(ids=tuple(f["ids"]))
    return FairFilter(
        county=_names(f.get("county")),
        month=f.get("month") or "",
        destination=_names(f.get("destination")),
    )


def _heading(ctx: Ctx, total: int) -> str:
    """The list's heading, naming her filter: in Dianbai, in December 2026, with jobs in
    Hong Kong, found for “yuesao”."""
    _ = ctx._
    f = ctx.form.get("fair_filter") or {}
    if f.get("ids") is not None:
        if words := f.get("words"):
            return _("Job fairs found for “{words}”, soonest first ({n}):", words=words, n=total)
        return _("Job fairs found, soonest first ({n}):", n=total)
    if county := _names(f.get("county")):
        where = _.term(COUNTIES, county[0])
        return _("Upcoming job fairs in {county}, soonest first ({n}):", county=where, n=total)
    if f.get("month"):
        month = _.month(dt.date.fromisoformat(f["month"] + "-01"))
        return _("Upcoming job fairs in {month}, soonest first ({n}):", month=month, n=total)
    if place := _names(f.get("destination")):
        where = _.term(CITIES, place[0])
        return _(
            "Upcoming job fairs with jobs in {place}, soonest first ({n}):", place=where, n=total
        )
    return _("Upcoming job fairs, soonest first ({n}):", n=total)


async def _filtered(ctx: Ctx, page: int) -> tuple[list[FairLine], int, int]:
    """Page `page` (from 0; the first when it is past the end) of the upcoming fairs her
    filter keeps, soonest first or in the search's order: (the page's fairs, how many
    fairs in all, the page shown). Counted and paged in the database."""
    since, flt = _since(ctx), _filter(ctx)
    total = await ctx.repos.fairs.count(since, flt)
    if page * PAGE_SIZE >= max(total, 1):
        page = 0
    shown = await ctx.repos.fairs.listed(since, flt, page * PAGE_SIZE, PAGE_SIZE) if total else []
    return shown, total, page


# --- the list -------------------------------------------------------------------------
async def _list(ctx: Ctx, page: int, replace: bool) -> Replies:
    _ = ctx._
    shown, total, page = await _filtered(ctx, page)
    ctx.remember(fair_page=page)
    mine = {r.fair_id for r in await ctx.repos.fairs.of_user(ctx.user.id)} if ctx.user.id else set()
    items = [
        (
            ("✅ " if f.id in mine else "")  # registered: marked in the list
            + f"{short(_.text(f.title, f.title_en), 30)} · {_.short_date(f.starts_at.date())}",
            "fair",
            f.id,
        )
        for f in shown
    ]
    filters = [
        [
            ctx.button(_("🗺 County"), "filter", "county"),
            ctx.button(_("📅 Month"), "filter", "month"),
        ],
        [
            ctx.button(_("🏙 Where the jobs are"), "filter", "destination"),
            ctx.button(_("🔎 Search"), "search"),
        ],
    ]
    if ctx.form.get("fair_filter"):
        filters.append([ctx.button(_("✖ Show all fairs"), "all")])
    filters.append([ctx.button(_("◀ Main menu"), "home")])
    if not total:
        return [ctx.reply(_("No upcoming job fair matches. Try another filter."), *filters)]
    head = _heading(ctx, total)
    return [page_reply(ctx, head, items, page, total, replace=replace, extra=filters)]


@router.prompt(FAIRS)
async def fairs_list(ctx: Ctx) -> Replies:
    return await _list(ctx, int(ctx.form.get("fair_page") or 0), replace=False)


@router.button(FAIRS, "page")
async def turn_page(ctx: Ctx, arg: str) -> Replies:
    return await _list(ctx, page_number(arg), replace=True)


@router.button(FAIRS, "all")
async def show_all(ctx: Ctx, _arg: str) -> Replies:
    ctx.remember(fair_filter=None, fair_page=0)
    return await ctx.goto(FAIRS)


@router.button(FAIRS, "filter")
async def choose_filter(ctx: Ctx, kind: str) -> Replies:
    if kind not in ("county", "month", "destination"):
        raise Invalid(ctx._("I don't recognise that button."))
    ctx.remember(filter_kind=kind)
    return await ctx.goto(FAIR_FILTER)


VOCABULARY: dict[str, Vocabulary] = {"county": COUNTIES, "destination": CITIES}


@router.prompt(FAIR_FILTER)
async def ask_filter(ctx: Ctx) -> Replies:
    _ = ctx._
    kind = ctx.form.get("filter_kind") or "county"
    # the counties, months or destinations of the upcoming fairs, as the list meets them;
    # counties in the one order of every screen, each term once however it is spelt
    values = await ctx.repos.fairs.choices(_since(ctx), kind)
    vocabulary = VOCABULARY.get(kind)
    if vocabulary is None:  # months: `YYYY-MM`, in order
        found = [{"id": v, "names": [v], "n": 0} for v in values]
        rows = [[ctx.button(_.month(dt.date.fromisoformat(v + "-01")), "value", v)] for v in values]
    else:
        found = choices(vocabulary, [(v, 0) for v in values], in_vocabulary_order=kind == "county")
        rows = choice_buttons(ctx, vocabulary, found, "value", counted=False)
    ctx.remember(filter_values=found)
    return [ctx.reply(_("Choose one:"), *rows, [ctx.button(_("◀ Back"), "fairs")])]


@router.button(FAIR_FILTER, "value")
async def filter_chosen(ctx: Ctx, arg: str) -> Replies:
    picked = chosen(ctx, ctx.form.get("filter_values") or [], arg)
    kind = ctx.form.get("filter_kind") or "county"
    value = picked["names"][0] if kind == "month" else picked["names"]
    ctx.remember(fair_filter={kind: value}, fair_page=0)
    return await ctx.goto(FAIRS)


router.goes("search", SEARCH_FAIRS, FAIRS)
router.goes("fairs", FAIRS, FAIR_FILTER, SEARCH_FAIRS, FAIR_CARD)


@router.prompt(SEARCH_FAIRS)
async def ask_words(ctx: Ctx) -> Replies:
    text = ctx._(
        "Type what you are looking for: a kind of work, a city, a firm (for example "
        "月嫂, shenzhen, 香港)."
    )
    return [ctx.reply(text, [ctx.button(ctx._("◀ Back"), "fairs")])]


@router.text(SEARCH_FAIRS)
async def words_typed(ctx: Ctx, text: str) -> Replies:
    if len(text) > 40:
        raise Invalid(ctx._("Please type a few words only (at most 40 characters)."))
    ids = await ctx.repos.search.fairs(text, ctx.today(), limit=5)
    if not ids:
        raise Invalid(
            ctx._("I found no upcoming job fair for “{words}”. Try other words.", words=text)
        )
    found: dict = {"ids": ids}
    if ctx.user.consented_at is not None:  # what she typed is kept only after consent
        found["words"] = text
    ctx.remember(fair_filter=found, fair_page=0)
    return await ctx.goto(FAIRS)


# --- the card -------------------------------------------------------------------------
@router.button(FAIRS, "fair")
async def open_fair(ctx: Ctx, arg: str) -> Replies:
    return await show_fair(ctx, arg)


@router.deep_link("fair")
async def show_fair(ctx: Ctx, arg: str) -> Replies:
    fair = await ctx.repos.fairs.get(int(arg)) if arg.isdecimal() and len(arg) < 10 else None
    if fair is None:
        raise Invalid(ctx._("I can't find that job fair. It may have been removed."))
    ctx.remember(fair=fair.id)
    return await ctx.goto(FAIR_CARD)


def pay(ctx: Ctx, job: dict) -> str:
    """Its pay in yuan, as every screen of her language writes money: a month, or (under
    300) an hour."""
    low, high = job.get("pay_min") or 0, job.get("pay_max") or 0
    amount = ctx._.money_range(low * 100, high * 100)
    return (
        ctx._("{amount} an hour", amount=amount)
        if (high or low) < 300
        else ctx._("{amount} a month", amount=amount)
    )


def fair_card(ctx: Ctx, fair: JobFair, registered: bool = False) -> str:
    _ = ctx._
    when = _.date(fair.starts_at.date()) + " " + _.time(fair.starts_at)
    if fair.ends_at:
        when += "–" + _.time(fair.ends_at)
    where = _.text(fair.venue, fair.venue_en)
    if fair.address:
        where = (
            _("{venue}, {address}", venue=where, address=address(_, fair))
            if where
            else address(_, fair)
        )
    if fair.county:
        where = _("{place} ({county})", place=where, county=_.term(COUNTIES, fair.county))
    lines = [f"🤝 {title(_, fair)}", f"📅 {when}", f"📍 {where}"]
    if fair.status == "cancelled":
        lines.append("⛔ " + _("This job fair has been cancelled."))
    if fair.organiser:
        who = _.text(fair.organiser, fair.organiser_en)
        lines.append("🏛 " + _("Organised by {who}", who=who))
    if fair.employers:  # a fair set up in chat, or imported with firms' names only
        lines.append(_("Firms and jobs:"))
    for employer in fair.employers:
        firm = _.text(employer.get("name", ""), employer.get("name_en", ""))
        if not employer.get("jobs"):  # a firm named without its jobs
            lines.append("• " + firm)
        for job in employer.get("jobs", []):
            live = _("live-in") if job.get("live_in") else _("lives out")
            parts = (
                _.term(KINDS_OF_WORK, job.get("category", "")),
                _.term(CITIES, job.get("destination", "")),
                pay(ctx, job),
                live,
            )
            offer = " · ".join(p for p in parts if p)
            lines.append("• " + _("{firm}: {jobs}", firm=firm, jobs=offer))
    if fair.status == "cancelled":
        pass  # nothing to register for
    elif registered:
        lines.append("✅ " + _("You are registered."))
    elif fair.registration_required:
        lines.append(_("Registration needed: please register below."))
    else:
        lines.append(_("No registration needed: just come. You can still ask for a reminder."))
    return "\n".join(lines)


@router.prompt(FAIR_CARD)
async def card(ctx: Ctx) -> Replies:
    _ = ctx._
    fair = await ctx.repos.fairs.get(int(ctx.form.get("fair") or 0))
    if fair is None:
        return [
            ctx.reply(_("I can't find that job fair. It may have been removed.")),
            *await ctx.goto(FAIRS),
        ]
    mine = await ctx.repos.fairs.mine(fair.id, ctx.user.id) if ctx.user.id else None
    rows = []
    if mine is not None and mine.status == "registered":
        rows.append([ctx.button(_("✖ Cancel my registration"), "unregister", fair.id)])
    elif fair.status == "open" and fair.starts_at.date() >= ctx.today():
        rows.append([ctx.button(_("📝 Register to attend"), "register", fair.id)])
    if fair.latitude is not None:
        rows.append([ctx.button(_("📍 Where is it?"), "where", fair.id)])
    if ctx.is_admin:
        rows.append([ctx.button(_("🔗 Link and QR code"), "qr", fair.id)])
    rows.append([ctx.button(_("◀ Back"), "fairs"), ctx.button(_("🏠 Main menu"), "home")])
    registered = mine is not None and mine.status == "registered"
    return [ctx.reply(fair_card(ctx, fair, registered), *rows)]


@router.button(FAIR_CARD, "where")
async def where(ctx: Ctx, _arg: str) -> Replies:
    fair = await ctx.repos.fairs.get(int(ctx.form.get("fair") or 0))
    if fair is None or fair.latitude is None or fair.longitude is None:
        raise Invalid(ctx._("I don't have a map location for this place."))
    name, where = ctx._.text(fair.venue, fair.venue_en), address(ctx._, fair)
    pin = Pin(fair.latitude, fair.longitude, name, where)
    return [ctx.reply(f"{name}\n{where}", pin=pin), *await ctx.ask()]


async def _this_fair(ctx: Ctx, arg: str) -> JobFair:
    fair = await ctx.repos.fairs.get(int(ctx.form.get("fair") or 0))
    if fair is None or str(fair.id) != arg:
        raise Invalid(ctx._("I don't recognise that button."))
    return fair


# --- registering ----------------------------------------------------------------------
@router.button(FAIR_CARD, "register")
async def register(ctx: Ctx, arg: str) -> Replies:
    fair = await _this_fair(ctx, arg)
    if fair.status != "open" or fair.starts_at.date() < ctx.today():
        raise Invalid(ctx._("Sorry, this job fair is over or was cancelled."))
    profile = await ctx.repos.profiles.of(ctx.user)
    ctx.remember(
        fair_form={
            "name": profile.name if profile else "",
            "phone": profile.phone if profile else "",
        }
    )
    if profile and profile.name and profile.phone:
        return await ctx.goto(FAIR_CONFIRM)
    return await ctx.goto(FAIR_ASK_NAME)


def _fair_form(ctx: Ctx) -> dict:
    return dict(ctx.form.get("fair_form") or {})


def _back_and_cancel(ctx: Ctx) -> list:
    return [ctx.button(ctx._("◀ Back"), "back_fair"), ctx.button(ctx._("✖ Cancel"), "fair_card")]


@router.prompt(FAIR_ASK_NAME)
async def ask_name(ctx: Ctx) -> Replies:
    return [ctx.reply(ctx._("To register, what is your name?"), _back_and_cancel(ctx))]


@router.text(FAIR_ASK_NAME)
async def got_name(ctx: Ctx, text: str) -> Replies:
    name = checked_name(ctx._, text)
    ctx.remember(fair_form={**_fair_form(ctx), "name": name})
    return await ctx.goto(FAIR_CONFIRM if _fair_form(ctx).get("phone") else FAIR_ASK_PHONE)


@router.prompt(FAIR_ASK_PHONE)
async def ask_phone(ctx: Ctx) -> Replies:
    _ = ctx._
    return [phone_question(ctx, _("And your mobile phone number?"), _back_and_cancel(ctx))]


async def _phone(ctx: Ctx, text: str) -> Replies:
    phone = checked_phone(ctx._, text)
    ctx.remember(fair_form={**_fair_form(ctx), "phone": phone})
    return await ctx.goto(FAIR_CONFIRM)


@router.text(FAIR_ASK_PHONE)
async def got_phone(ctx: Ctx, text: str) -> Replies:
    return await _phone(ctx, text)


@router.contact(FAIR_ASK_PHONE)
async def got_contact(ctx: Ctx, contact: Contact) -> Replies:
    return await _phone(ctx, contact.phone)


@router.prompt(FAIR_CONFIRM)
async def confirm_prompt(ctx: Ctx) -> Replies:
    _ = ctx._
    fair = await ctx.repos.fairs.get(int(ctx.form.get("fair") or 0))
    form = _fair_form(ctx)
    if fair is None:
        return await ctx.goto(FAIRS)
    text = _(
        "Register for “{title}” as {name}, phone {phone}?",
        title=title(_, fair),
        name=form.get("name", ""),
        phone=form.get("phone", ""),
    )
    return [
        ctx.reply(
            text,
            [ctx.button(_("✅ Register"), "confirm_fair", fair.id)],
            [
                ctx.button(_("✏ Change name"), "fair_name"),
                ctx.button(_("✏ Change phone"), "fair_phone"),
            ],
            [ctx.button(_("✖ Cancel"), "fair_card")],
        )
    ]


router.goes("fair_name", FAIR_ASK_NAME, FAIR_CONFIRM)


@router.button(FAIR_CONFIRM, "fair_phone")
async def change_phone(ctx: Ctx, _arg: str) -> Replies:
    ctx.remember(fair_form={**_fair_form(ctx), "phone": ""})
    return await ctx.goto(FAIR_ASK_PHONE)


@router.button(FAIR_CONFIRM, "confirm_fair")
async def confirm(ctx: Ctx, arg: str) -> Replies:
    _ = ctx._
    fair = await _this_fair(ctx, arg)
    form = _fair_form(ctx)
    if fair.status != "open" or fair.starts_at.date() < ctx.today():
        raise Invalid(_("Sorry, this job fair is over or was cancelled."))
    await ctx.repos.fairs.register(fair.id, ctx.user.id, form["name"], form["phone"])
    await ctx.repos.profiles.save(ctx.user, name=form["name"], phone=form["phone"])
    remind(ctx, ctx.user, fair)
    ctx.remember(fair_form=None)
    text = _(
        "✅ You are registered for “{title}” on {day}. We will remind you the day before.",
        title=title(_, fair),
        day=_.date(fair.starts_at.date()),
    )
    return [ctx.reply(text), *await ctx.goto(FAIR_CARD)]


@router.button(FAIR_CARD, "unregister")
async def ask_unregister(ctx: Ctx, arg: str) -> Replies:
    """Cancelling a registration asks first, as cancelling a seat does."""
    fair = await _this_fair(ctx, arg)
    mine = await ctx.repos.fairs.mine(fair.id, ctx.user.id)
    if mine is None or mine.status != "registered":
        raise Invalid(ctx._("You are not registered for this job fair."))
    return await ctx.goto(CONFIRM_UNREGISTER)


@router.prompt(CONFIRM_UNREGISTER)
async def confirm_unregister(ctx: Ctx) -> Replies:
    _ = ctx._
    fair = await ctx.repos.fairs.get(int(ctx.form.get("fair") or 0))
    if fair is None:
        return await ctx.goto(FAIRS)
    text = _("Cancel your registration for “{title}”?", title=title(_, fair))
    return [
        ctx.reply(
            text,
            [ctx.button(_("✖ Yes, cancel my registration"), "unregister", fair.id)],
            [ctx.button(_("◀ No, keep it"), "keep_registration")],
        )
    ]


@router.button(CONFIRM_UNREGISTER, "unregister")
async def unregister(ctx: Ctx, arg: str) -> Replies:
    fair = await _this_fair(ctx, arg)
    mine = await ctx.repos.fairs.mine(fair.id, ctx.user.id)
    if mine is None or mine.status != "registered":
        raise Invalid(ctx._("You are not registered for this job fair."))
    mine.status = "cancelled"
    await ctx.repos.outbox.withdraw(ctx.user.key, topic(fair))
    return [ctx.reply(ctx._("Your registration is cancelled.")), *await ctx.goto(FAIR_CARD)]


router.goes("keep_registration", FAIR_CARD, CONFIRM_UNREGISTER)


def topic(fair: JobFair) -> str:
    return f"fair:{fair.id}"


def remind(ctx: Ctx, user: User, fair: JobFair) -> None:
    """Her day-before reminder (replacing an earlier one for the same fair)."""
    at = ctx.options.utc(fair.starts_at.date() - dt.timedelta(days=1), ctx.options.reminder_time)
    if at <= utcnow():
        return
    _ = translator(user.lang)
    text = _(
        "⏰ Reminder: the job fair “{title}” is tomorrow, {day} at {time}, at {venue}.",
        title=title(_, fair),
        day=_.date(fair.starts_at.date()),
        time=_.time(fair.starts_at),
        venue=venue(_, fair),
    )
    ctx.notify(user.key, [Reply(text)], at=at, topic=topic(fair))


# --- moving around --------------------------------------------------------------------
async def to_card(ctx: Ctx, _arg: str) -> Replies:
    ctx.remember(fair_form=None)
    return await ctx.goto(FAIR_CARD)


async def back_fair(ctx: Ctx, _arg: str) -> Replies:
    step = {FAIR_ASK_PHONE: FAIR_ASK_NAME}.get(ctx.user.state, FAIR_CARD)
    return await ctx.goto(step)


for _state in (FAIR_ASK_NAME, FAIR_ASK_PHONE, FAIR_CONFIRM):
    router.button(_state, "fair_card")(to_card)
for _state in (FAIR_ASK_NAME, FAIR_ASK_PHONE):
    router.button(_state, "back_fair")(back_fair)
