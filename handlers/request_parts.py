"""Parts 1–3 of a household's request: the kind of help, the way of working and
where. The walk itself is `handlers.request_form`; the dates and the budget come next
(`handlers.request_dates`).

    RQ_FIND / RQ_KIND ▶ RQ_MODE ▶ RQ_PLACE
"""

from __future__ import annotations

from handlers.context import Ctx
from handlers.events import Location
from handlers.replies import Button
from handlers.request_form import (
    PARTS,
    RQ_FIND,
    RQ_KIND,
    RQ_MODE,
    RQ_PLACE,
    RQ_SUMMARY,
    begin,
    finish,
    heading,
    her_request,
    nav,
    router,
    set_in_form,
    walking,
)
from handlers.router import Invalid, Replies
from handlers.typed_values import terms_in
from handlers.worker_toggles import places_in
from storage.requests import nearest_place, needs_for
from storage.vocab import ADD_ON_SKILLS, CITIES, COUNTIES, KINDS_OF_WORK, MODES, Term

#: the kinds of help a household asks for (the add-on skills are a worker's extras)
KINDS = [t for t in KINDS_OF_WORK if t.id not in ADD_ON_SKILLS]
PLACES = [*COUNTIES, *CITIES]


def _chosen(label: str, yes: bool) -> str:
    return ("✅ " if yes else "") + label


# --- 1. the kind of help ----------------------------------------------------------------
def _kind_rows(ctx: Ctx, current: str) -> list[list[Button]]:
    buttons = [ctx.button(_chosen(ctx._(t.label), t.id == current), "kind", t.id) for t in KINDS]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


@router.prompt(RQ_FIND)
async def ask_find(ctx: Ctx) -> Replies:
    """The start: what help she needs (a tap starts the request, or goes on with her
    unsaved one)."""
    _ = ctx._
    text = _(
        "🔎 Find a helper. A few short questions, then I show you helpers checked by "
        "the programme.\nWhat help do you need? Tap one."
    )
    rows = _kind_rows(ctx, "")
    draft = await ctx.repos.requests.draft(ctx.user)
    if draft is not None and draft.kind:
        rows.append([ctx.button(_("▶ Go on with my unsaved request"), "resume_draft")])
    rows.append([ctx.button(_("◀ Main menu"), "home")])
    return [ctx.reply(text, *rows)]


@router.prompt(RQ_KIND)
async def ask_kind(ctx: Ctx) -> Replies:
    request = await her_request(ctx)
    text = ctx._("What help do you need? Tap one.")
    return [ctx.reply(heading(ctx, RQ_KIND, text), *_kind_rows(ctx, request.kind), *nav(ctx))]


def _kind_named(ctx: Ctx, text: str) -> Term:
    found = terms_in(KINDS_OF_WORK, KINDS, text)
    if len(found) > 1:
        raise Invalid(ctx._("Please choose one kind of help: tap it."))
    if not found:
        raise Invalid(ctx._("I don't know that kind of help. Please tap one of the buttons."))
    return found[0]


async def _start_with(ctx: Ctx, kind: str) -> Replies:
    if kind not in {t.id for t in KINDS}:
        raise Invalid(ctx._("I don't recognise that button."))
    request = await ctx.repos.requests.start(ctx.user)
    needs = [n for n in request.needs or [] if n in needs_for(kind)]
    await ctx.repos.requests.edit(request, kind=kind, needs=needs)
    await begin(ctx, request, [p for p, _s in PARTS])
    return await finish(ctx, "kind")


@router.button(RQ_FIND, "kind")
async def find_kind(ctx: Ctx, kind: str) -> Replies:
    return await _start_with(ctx, kind)


@router.text(RQ_FIND)
async def find_kind_typed(ctx: Ctx, text: str) -> Replies:
    return await _start_with(ctx, _kind_named(ctx, text).id)


@router.button(RQ_FIND, "resume_draft")
async def resume_draft(ctx: Ctx, _arg: str) -> Replies:
    draft = await ctx.repos.requests.draft(ctx.user)
    if draft is None:
        raise Invalid(ctx._("I don't recognise that button."))
    ctx.remember(request={"id": draft.id, "walk": []})
    return await ctx.goto(RQ_SUMMARY)


async def _got_kind(ctx: Ctx, kind: str) -> Replies:
    if kind not in {t.id for t in KINDS}:
        raise Invalid(ctx._("I don't recognise that button."))
    request = await her_request(ctx)
    before = request.kind
    needs = [n for n in request.needs or [] if n in needs_for(kind)]
    await ctx.repos.requests.edit(request, kind=kind, needs=needs)
    if not walking(ctx) and before != kind:  # what depends on the kind, asked again
        then = []
        if (before == "maternity") != (kind == "maternity"):
            then.append("dates")
        if needs_for(before) != needs_for(kind):
            then.append("needs")
        set_in_form(ctx, walk=["kind", *then])
    return await finish(ctx, "kind")


@router.button(RQ_KIND, "kind")
async def kind_tapped(ctx: Ctx, kind: str) -> Replies:
    return await _got_kind(ctx, kind)


@router.text(RQ_KIND)
async def kind_typed(ctx: Ctx, text: str) -> Replies:
    return await _got_kind(ctx, _kind_named(ctx, text).id)


# --- 2. the way of working --------------------------------------------------------------
@router.prompt(RQ_MODE)
async def ask_mode(ctx: Ctx) -> Replies:
    request = await her_request(ctx)
    text = ctx._(
        "How should the helper work? Live-in: she lives with you. Day care: she comes "
        "every day. Hourly: for some hours."
    )
    rows = [
        [ctx.button(_chosen(ctx._(m.label), m.id == request.mode), "mode", m.id)] for m in MODES
    ]
    return [ctx.reply(heading(ctx, RQ_MODE, text), *rows, *nav(ctx))]


async def _got_mode(ctx: Ctx, mode: str) -> Replies:
    if MODES.get(mode) is None:
        raise Invalid(ctx._("I don't recognise that button."))
    request = await her_request(ctx)
    unit = "hour" if mode == "hourly" else "month"
    fields: dict[str, object] = {"mode": mode, "budget_unit": unit}
    if unit != request.budget_unit:  # a monthly budget is no hourly one: asked again
        fields.update(budget_min=None, budget_max=None)
        if not walking(ctx) and request.budget_min:
            set_in_form(ctx, walk=["mode", "length", "budget"])
    await ctx.repos.requests.edit(request, **fields)
    return await finish(ctx, "mode")


@router.button(RQ_MODE, "mode")
async def mode_tapped(ctx: Ctx, mode: str) -> Replies:
    return await _got_mode(ctx, mode)


@router.text(RQ_MODE)
async def mode_typed(ctx: Ctx, text: str) -> Replies:
    found = terms_in(MODES, list(MODES), text)
    if len(found) != 1:
        raise Invalid(ctx._("Please tap one of the buttons: live-in, day care or hourly."))
    return await _got_mode(ctx, found[0].id)


# --- 3. where ---------------------------------------------------------------------------
def _outside(ctx: Ctx) -> Invalid:
    return Invalid(
        ctx._(
            "Sorry, the programme finds helpers only in Maoming, the Greater Bay Area "
            "(with Hong Kong and Macau), Nanning and Laibin. Please tap one of these places."
        )
    )


@router.prompt(RQ_PLACE)
async def ask_place(ctx: Ctx) -> Replies:
    _ = ctx._
    request = await her_request(ctx)
    text = _("Where is the job? Tap the county or city, or share your location.")
    buttons = [
        ctx.button(_chosen(_(t.label), t.id == request.place), "place", t.id) for t in PLACES
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    reply = ctx.reply(heading(ctx, RQ_PLACE, text), *rows, *nav(ctx))
    reply.request_location = _("📍 Share my location")
    return [reply]


async def _got_place(ctx: Ctx, place: str, where: tuple[float, float] | None = None) -> Replies:
    if place not in {t.id for t in PLACES}:
        raise Invalid(ctx._("I don't recognise that button."))
    request = await her_request(ctx)
    latitude, longitude = where or (None, None)
    await ctx.repos.requests.edit(request, place=place, latitude=latitude, longitude=longitude)
    return await finish(ctx, "place")


@router.button(RQ_PLACE, "place")
async def place_tapped(ctx: Ctx, place: str) -> Replies:
    return await _got_place(ctx, place)


@router.text(RQ_PLACE)
async def place_typed(ctx: Ctx, text: str) -> Replies:
    found = places_in(text)
    if len(found) > 1:
        raise Invalid(ctx._("Please choose one place: tap it."))
    if not found:
        raise _outside(ctx)
    return await _got_place(ctx, found[0].id)


@router.location(RQ_PLACE)
async def place_shared(ctx: Ctx, where: Location) -> Replies:
    term = nearest_place(where.latitude, where.longitude)
    if term is None:
        raise _outside(ctx)
    note = ctx._("Nearest place: {place}.", place=ctx._(term.label))
    replies = await _got_place(ctx, term.id, (where.latitude, where.longitude))
    return [ctx.reply(note), *replies]
