"""A household's requests for help: finding a helper, her requests, each request's
summary, pausing, resuming and closing it, and the shortlist.

    HOUSEHOLD_MENU ─🔎 Find a helper─▶ (PRIVACY, the first time) ▶ RQ_FIND ─a kind─▶ the
        parts, one after another (`handlers.request_form`) ▶ RQ_SUMMARY
    HOUSEHOLD_MENU ─📋 My requests─▶ RQ_LIST ─a request─▶ RQ_SUMMARY
    RQ_SUMMARY ─┬─ ✏ a part ─▶ that part's screens ▶ RQ_SUMMARY
                ├─ 💾 save (a draft: open)
                ├─ 🔎 find helpers ─▶ RQ_SHORTLIST (saved first, when a draft)
                ├─ ⏸ pause │ ▶ resume
                └─ ✖ close ─▶ RQ_CLOSE ─yes─▶ closed (the sensitive details deleted) ▶ RQ_LIST

Only her own requests are ever loaded (`RequestRepo.get(user, id)`): the id waits in her
form, and a request button's id is checked as hers.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from handlers import request_form
from handlers.context import Ctx
from handlers.request_form import (
    PARTS,
    RQ_CLOSE,
    RQ_FIND,
    RQ_LIST,
    RQ_SHORTLIST,
    RQ_SUMMARY,
    STATUS_MARKS,
    current,
    enter,
    her_form,
    her_request,
    missing,
    missing_parts,
    money,
    need_words,
    open_part,
    request_lines,
    set_in_form,
    status_words,
    title,
)
from handlers.router import Invalid, Replies
from storage.models import HelpRequest
from storage.vocab import CITIES, COUNTIES, KINDS_OF_WORK, LANGUAGES

log = logging.getLogger(__name__)

router = request_form.router  # one flow: the form's parts in `handlers.request_form`

#: the most requests her list shows
MAX_LISTED = 20


def part_labels(ctx: Ctx) -> dict[str, str]:
    """Each part by its name on the summary's edit buttons."""
    _ = ctx._
    return {
        "kind": _("✏ Kind of help"),
        "mode": _("✏ How she works"),
        "place": _("✏ Where"),
        "dates": _("✏ Dates"),
        "budget": _("✏ Budget"),
        "languages": _("✏ Language"),
        "age": _("✏ Age"),
        "experience": _("✏ Experience"),
        "needs": _("✏ Special needs"),
        "note": _("✏ Note"),
    }


# --- the summary ------------------------------------------------------------------------
@router.prompt(RQ_SUMMARY)
async def show_summary(ctx: Ctx) -> Replies:
    _ = ctx._
    request = await current(ctx)
    if request is None:
        return await ctx.goto(RQ_LIST)
    lines = [
        "📋 " + _("Your request"),
        status_words(ctx, request),
        "",
        *request_lines(ctx, request),
    ]
    todo = missing(ctx, request)
    if todo and request.status != "closed":
        lines += ["", "✏ " + _("Still to answer: {what}", what=_.join(todo))]
    rows = []
    if request.status != "closed":
        labels = part_labels(ctx)
        edits = [ctx.button(labels[p], "edit", p) for p, _state in PARTS]
        rows += [edits[i : i + 2] for i in range(0, len(edits), 2)]
    if todo and request.status != "closed":
        rows.append([ctx.button(_("▶ Answer the rest"), "fill")])
    elif request.status == "draft":
        rows.append([ctx.button(_("💾 Save"), "save"), ctx.button(_("🔎 Find helpers"), "match")])
    elif request.status == "open":
        rows.append([ctx.button(_("🔎 Find helpers"), "match")])
        rows.append([ctx.button(_("⏸ Pause"), "pause"), ctx.button(_("✖ Close"), "close")])
    elif request.status == "paused":
        rows.append([ctx.button(_("▶ Resume"), "resume"), ctx.button(_("✖ Close"), "close")])
    rows.append([ctx.button(_("📋 My requests"), "list"), ctx.button(_("◀ Main menu"), "home")])
    return [ctx.reply("\n".join(lines), *rows)]


@router.button(RQ_SUMMARY, "edit")
async def edit_part(ctx: Ctx, part: str) -> Replies:
    if part not in dict(PARTS):
        raise Invalid(ctx._("I don't recognise that button."))
    await her_request(ctx)
    return await open_part(ctx, part)


@router.button(RQ_SUMMARY, "fill")
async def fill(ctx: Ctx, _arg: str) -> Replies:
    """Walk through the parts still unanswered, then back to the summary."""
    request = await her_request(ctx)
    todo = missing_parts(request)
    if not todo:
        raise Invalid(ctx._("I don't recognise that button."))
    set_in_form(ctx, walk=todo, asked=False, full=False)
    return await enter(ctx, todo[0])


def _complete(ctx: Ctx, request: HelpRequest) -> None:
    todo = missing(ctx, request)
    if todo:
        raise Invalid(
            ctx._("Please answer these first: {what}. Tap ✏ to answer.", what=ctx._.join(todo))
        )


@router.button(RQ_SUMMARY, "save")
async def save(ctx: Ctx, _arg: str) -> Replies:
    request = await her_request(ctx)
    _complete(ctx, request)
    if request.status == "draft":
        await ctx.repos.requests.set_status(request, "open")
        log.info("a help request was saved: request %s", request.id)
    text = ctx._("Saved. Tap “🔎 Find helpers” to see helpers for it.")
    return [ctx.reply(text), *await ctx.ask()]


async def _set(ctx: Ctx, was: str, status: str, text: str) -> Replies:
    request = await her_request(ctx)
    if request.status != was:
        raise Invalid(ctx._("I don't recognise that button."))
    if status == "open":
        _complete(ctx, request)
    await ctx.repos.requests.set_status(request, status)
    return [ctx.reply(text), *await ctx.ask()]


@router.button(RQ_SUMMARY, "pause")
async def pause(ctx: Ctx, _arg: str) -> Replies:
    text = ctx._("Paused: no helpers are found for it until you resume it.")
    return await _set(ctx, "open", "paused", text)


@router.button(RQ_SUMMARY, "resume")
async def resume(ctx: Ctx, _arg: str) -> Replies:
    text = ctx._("Resumed: it is open again.")
    return await _set(ctx, "paused", "open", text)


router.goes("close", RQ_CLOSE, RQ_SUMMARY)
router.goes("list", RQ_LIST, RQ_SUMMARY, RQ_SHORTLIST)


# --- closing ----------------------------------------------------------------------------
@router.prompt(RQ_CLOSE)
async def ask_close(ctx: Ctx) -> Replies:
    _ = ctx._
    request = await her_request(ctx)
    text = _(
        "Close this request ({request})? No more helpers are found for it, and any "
        "details about a child or a patient are deleted. You cannot open it again.",
        request=title(ctx, request),
    )
    rows = [
        [ctx.button(_("✖ Yes, close it"), "close_yes")],
        [ctx.button(_("◀ No, keep it"), "to_summary")],
    ]
    return [ctx.reply(text, *rows)]


@router.button(RQ_CLOSE, "close_yes")
async def close(ctx: Ctx, _arg: str) -> Replies:
    from handlers.interview_answers import tell_cancelled

    request = await her_request(ctx)
    await ctx.repos.requests.set_status(request, "closed")
    for interview in await ctx.repos.hiring.cancel_live(request_id=request.id):
        await tell_cancelled(ctx, interview, "closed", to="worker")
    log.info("a help request was closed: request %s", request.id)
    ctx.remember(request={})
    return [ctx.reply(ctx._("Closed.")), *await ctx.goto(RQ_LIST)]


# --- her requests -----------------------------------------------------------------------
@router.prompt(RQ_LIST)
async def list_requests(ctx: Ctx) -> Replies:
    _ = ctx._
    found = (await ctx.repos.requests.mine(ctx.user))[:MAX_LISTED]
    home = [ctx.button(_("🔎 Find a helper"), "find_new"), ctx.button(_("◀ Main menu"), "home")]
    if not found:
        return [ctx.reply(_("📋 You have no requests yet."), home)]
    rows = [[ctx.button(f"{STATUS_MARKS[r.status]} {title(ctx, r)}", "open", r.id)] for r in found]
    text = _("📋 Your requests. Tap one to see it, change it, pause it or close it.")
    return [ctx.reply(text, *rows, home)]


@router.button(RQ_LIST, "open")
async def open_request(ctx: Ctx, arg: str) -> Replies:
    request = await ctx.repos.requests.get(ctx.user, arg)
    if request is None:
        raise Invalid(ctx._("That request is closed or gone. Here are your requests."))
    ctx.remember(request={"id": request.id, "walk": []})
    return await ctx.goto(RQ_SUMMARY)


router.goes("find_new", RQ_FIND, RQ_LIST)


# --- the shortlist ----------------------------------------------------------------------
def _matching() -> Any:
    """`storage.matching` once it is there (it is written separately), else None."""
    try:
        from storage import matching
    except ImportError:
        return None
    return matching


@router.button(RQ_SUMMARY, "match")
async def find_helpers(ctx: Ctx, _arg: str) -> Replies:
    request = await her_request(ctx)
    _complete(ctx, request)
    notes = []
    if request.status == "draft":
        await ctx.repos.requests.set_status(request, "open")
        notes.append(ctx.reply(ctx._("Saved.")))
    if request.status == "paused":
        raise Invalid(ctx._("This request is paused. Tap “▶ Resume” first."))
    matching = _matching()
    shown: list[list[Any]] = []
    if matching is not None:
        query = matching.MatchQuery.from_request(request)
        session, today, excluded = ctx.repos.session, ctx.today(), list(request.excluded or [])
        # those just offered to her come first while they still fit; a helper whose
        # trial she ended is never shown for this request again
        offered = [pid for pid in request.offered or [] if pid not in excluded]
        found = await matching.rank(session, query, today, offered) if offered else []
        found += await matching.shortlist(
            session,
            query,
            today,
            limit=5 - len(found),
            exclude=[*excluded, *(m.profile.id for m in found)],
        )
        shown = [[m.profile.id, [[r, _json_safe(p)] for r, p in m.reasons]] for m in found]
        # shown once: a newly verified helper among them is not offered to her again
        await ctx.repos.requests.note_shown(request, [m.profile.id for m in found])
    set_in_form(ctx, shortlist=shown, matched=matching is not None)
    return notes + await ctx.goto(RQ_SHORTLIST)


def _json_safe(params: dict[str, Any]) -> dict[str, Any]:
    """A reason's params as her form keeps them (dates as ISO text)."""
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in params.items()}


def reason_text(ctx: Ctx, reason: str, params: dict[str, Any]) -> str:
    """One reason a candidate was shown (`storage.matching.Match.reasons`), in words; one
    this screen does not know is left out."""
    _ = ctx._
    where = str(params.get("place") or "")
    place = COUNTIES.get(where) or CITIES.get(where)
    if reason in ("place", "county") and place:
        return _("works in {place}", place=_(place.label))
    if reason == "maoming":
        return _("works anywhere in Maoming")
    if reason == "language" and params.get("language"):
        return _("speaks {language}", language=_.term(LANGUAGES, params["language"]))
    if reason == "years" and params.get("n"):
        kind = KINDS_OF_WORK.get(str(params.get("kind") or ""))
        return _.ngettext(
            "{n} year as {kind}",
            "{n} years as {kind}",
            int(params["n"]),
            kind=_(kind.label) if kind else "—",
        )
    if reason == "experience" and params.get("n"):
        return _.ngettext("{n} year of experience", "{n} years of experience", int(params["n"]))
    if reason == "budget" and params.get("low"):
        unit = "hour" if params.get("unit") == "hour" else "month"
        pay = money(ctx, unit, int(params["low"]), int(params.get("high") or 0))
        return _("asks {pay}", pay=pay)
    if reason == "need" and params.get("need") in need_words(ctx):
        return _("can help with: {need}", need=need_words(ctx)[params["need"]])
    if reason == "note" and params.get("words"):
        return _("as in your note: {words}", words=_.join(str(w) for w in params["words"][:3]))
    if reason == "rating" and params.get("count"):
        average = "{:.1f}".format(float(params.get("average") or 0))
        return _.ngettext(
            "rated {average} by {n} household",
            "rated {average} by {n} households",
            int(params["count"]),
            average=average,
        )
    if reason == "health" and params.get("month"):
        month = dt.date.fromisoformat(str(params["month"])[:10])
        return _("health check verified {month}", month=_.month(month))
    return ""


@router.prompt(RQ_SHORTLIST)
async def show_shortlist(ctx: Ctx) -> Replies:
    from handlers.worker_card import credential_lines, load_card

    _ = ctx._
    request = await her_request(ctx)
    back = [
        ctx.button(_("◀ Back to my request"), "to_summary"),
        ctx.button(_("◀ Main menu"), "home"),
    ]
    form = her_form(ctx)
    if not form.get("matched"):
        text = _(
            "🔎 Your request is saved. The shortlist of helpers is coming next: we will "
            "show you up to five checked helpers for it very soon."
        )
        return [ctx.reply(text, back)]
    replies = []
    for profile_id, reasons in form.get("shortlist") or []:
        profile = await ctx.repos.workers.get(int(profile_id))
        if profile is None:
            continue
        card = await load_card(ctx, profile)
        lines = credential_lines(ctx, card, code=False)
        why = [reason_text(ctx, r, p or {}) for r, p in reasons]
        if any(why):
            lines.append("💡 " + " · ".join(w for w in why if w))
        ask = ctx.button(
            _("📅 Ask {name} for an interview", name=profile.name or "—"), "interview", profile.id
        )
        replies.append(ctx.reply("\n".join(lines), [ask]))
    if not replies:
        text = _(
            "No helper fits this request yet ({request}). We keep looking: change the "
            "budget, the dates or the place to see more.",
            request=title(ctx, request),
        )
        return [ctx.reply(text, back)]
    head = ctx.reply(_("🔎 Helpers for your request ({request}):", request=title(ctx, request)))
    replies[-1].buttons.append(back)
    return [head, *replies]
