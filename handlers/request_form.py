"""A household's request for help, the guided form: the states, the request being
written, and walking from part to part.

    RQ_FIND ─a kind─▶ RQ_MODE ▶ RQ_PLACE ▶ dates ▶ RQ_BUDGET ▶ RQ_LANGUAGES ▶ RQ_AGE
        ▶ RQ_YEARS ▶ needs ▶ RQ_NOTE ▶ RQ_SUMMARY
    dates:  a 月嫂: RQ_CONSENT ─agree─▶ RQ_DUE ▶ RQ_LENGTH (26 or 42 days)
                               └decline─▶ RQ_START ▶ RQ_LENGTH
            others: RQ_START ▶ RQ_LENGTH (months; days for hourly help)
    needs:  (RQ_CONSENT first, for a child's or a patient's details) ▶ RQ_NEEDS
    RQ_SUMMARY ─✏ a part─▶ that part's screens ▶ RQ_SUMMARY

The first time she walks through every part ("walk" in her form: the parts still to
go); editing one part comes back to the summary, through the parts that depend on it
(another kind of help may change the dates and the needs; another way of working the
length and the budget). Every answer is saved on the request at once
(`RequestRepo.edit`): stopping anywhere loses nothing, and "🔎 Find a helper" goes on
with her unsaved request.

Everything acts on her own request, whose id waits in her form and is loaded through
`RequestRepo.get(user, id)` (never another person's); buttons carry vocabulary ids or
indexes into what the screen showed, checked.

Privacy (PIPL art. 28-29): the baby's due date and a child's or a patient's needs are
asked only after their own consent screen (`handlers.request_prefs`); she may decline
and go on without them, and they are deleted with the request.

The screens, all on this module's `router`:

    handlers.request_parts   kind, way of working, place
    handlers.request_dates   dates, budget
    handlers.request_prefs   languages, age, experience, consent, needs, note
    handlers.household_request  the start, the summary, her list, pause/resume/close,
                                the shortlist
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from handlers import worker_form
from handlers.context import Ctx
from handlers.replies import Button
from handlers.router import Invalid, Replies, Router
from storage.models import HelpRequest
from storage.requests import asks_sensitive, job_end
from storage.vocab import CITIES, COUNTIES, KINDS_OF_WORK, LANGUAGES, MODES
from storage.workers import holds_contact, holds_id_number

router = Router(__name__)

RQ_FIND = router.state("RQ_FIND", personal=True)
RQ_KIND = router.state("RQ_KIND", personal=True)
RQ_MODE = router.state("RQ_MODE", personal=True)
RQ_PLACE = router.state("RQ_PLACE", personal=True)
RQ_CONSENT = router.state("RQ_CONSENT", personal=True)
RQ_DUE = router.state("RQ_DUE", personal=True)
RQ_START = router.state("RQ_START", personal=True)
RQ_LENGTH = router.state("RQ_LENGTH", numeric=True, personal=True)
RQ_BUDGET = router.state("RQ_BUDGET", numeric=True, personal=True)
RQ_LANGUAGES = router.state("RQ_LANGUAGES", personal=True)
RQ_AGE = router.state("RQ_AGE", personal=True)
RQ_YEARS = router.state("RQ_YEARS", numeric=True, personal=True)
RQ_NEEDS = router.state("RQ_NEEDS", personal=True)
RQ_NOTE = router.state("RQ_NOTE", personal=True)
RQ_SUMMARY = router.state("RQ_SUMMARY", personal=True)
RQ_LIST = router.state("RQ_LIST", personal=True)
RQ_CLOSE = router.state("RQ_CLOSE", personal=True)
RQ_SHORTLIST = router.state("RQ_SHORTLIST", personal=True)

#: the parts of a request, in the order of the walk, and the screen each opens on
PARTS: list[tuple[str, str]] = [
    ("kind", RQ_KIND),
    ("mode", RQ_MODE),
    ("place", RQ_PLACE),
    ("dates", RQ_START),
    ("budget", RQ_BUDGET),
    ("languages", RQ_LANGUAGES),
    ("age", RQ_AGE),
    ("experience", RQ_YEARS),
    ("needs", RQ_NEEDS),
    ("note", RQ_NOTE),
]
#: and one that is not a part of its own: the length alone (another way of working)
PART_STATE = {**dict(PARTS), "length": RQ_LENGTH}
PART_OF = {
    **{state: key for key, state in PARTS},
    RQ_DUE: "dates",
    RQ_LENGTH: "dates",
    RQ_FIND: "kind",
}

#: the longest note, characters
MAX_NOTE = 300
#: how far ahead a due date can be (about 9.5 months), and a start date, days
MAX_DUE_DAYS = 290
MAX_START_DAYS = 366

#: preferred ages (button id: (lowest, highest)) and experience (button id: least years)
AGES: dict[str, tuple[int | None, int | None]] = {
    "any": (None, None),
    "u40": (None, 39),
    "40_50": (40, 50),
    "o50": (51, None),
}
YEARS = {"any": None, "1": 1, "3": 3, "5": 5}


# --- her form and her request ---------------------------------------------------------
def her_form(ctx: Ctx) -> dict[str, Any]:
    """What waits in her form: the request's id, the walk, toggles before "Done"."""
    return dict(ctx.form.get("request") or {})


def set_in_form(ctx: Ctx, **values: Any) -> None:
    ctx.remember(request={**her_form(ctx), **values})


def drop_from_form(ctx: Ctx, *keys: str) -> None:
    ctx.remember(request={k: v for k, v in her_form(ctx).items() if k not in keys})


async def her_request(ctx: Ctx) -> HelpRequest:
    """The request she is writing or looking at: hers, and not closed (unless only being
    looked at: `current`). Gone (closed or erased meanwhile): she is told, and goes to
    her list."""
    request = await current(ctx)
    if request is None or request.status == "closed":
        raise Invalid(ctx._("That request is closed or gone."))
    return request


async def current(ctx: Ctx) -> HelpRequest | None:
    return await ctx.repos.requests.get(ctx.user, her_form(ctx).get("id"))


# --- walking through the parts ----------------------------------------------------------
async def begin(ctx: Ctx, request: HelpRequest, parts: list[str]) -> Replies:
    """Walk through `parts` of `request`, one after another."""
    ctx.remember(request={"id": request.id, "walk": parts, "full": True})
    return await enter(ctx, parts[0])


async def open_part(ctx: Ctx, part: str) -> Replies:
    """Change one part (and those that depend on it), then back to the summary."""
    set_in_form(ctx, walk=[], asked=False, full=False)
    drop_from_form(ctx, "pick")
    return await enter(ctx, part)


async def enter(ctx: Ctx, part: str) -> Replies:
    """Open a part's first screen, its toggles set from the request."""
    request = await her_request(ctx)
    if part == "dates":
        if request.kind != "maternity":
            return await ctx.goto(RQ_START)
        if request.sensitive_consent_at is not None:
            return await ctx.goto(RQ_DUE)
        if walking(ctx) and not her_form(ctx).get("asked"):
            set_in_form(ctx, consent_next="dates")
            return await ctx.goto(RQ_CONSENT)
        return await ctx.goto(RQ_START)
    if part == "needs":
        set_in_form(ctx, pick=list(request.needs or []))
        if (
            asks_sensitive(request.kind)
            and request.sensitive_consent_at is None
            and walking(ctx)
            and not her_form(ctx).get("asked")
        ):
            set_in_form(ctx, consent_next="needs")
            return await ctx.goto(RQ_CONSENT)
        return await ctx.goto(RQ_NEEDS)
    if part == "languages":
        set_in_form(ctx, pick=list(request.languages or []))
    return await ctx.goto(PART_STATE[part])


async def finish(ctx: Ctx, part: str, notes: list[str] | None = None) -> Replies:
    """A part is done: on to the next part of the walk, or to the summary."""
    replies = [ctx.reply(note) for note in notes or []]
    drop_from_form(ctx, "pick")
    walk = [p for p in her_form(ctx).get("walk") or [] if p in PART_STATE]
    rest = walk[walk.index(part) + 1 :] if part in walk else []
    set_in_form(ctx, walk=rest)
    if not rest:
        return replies + await ctx.goto(RQ_SUMMARY)
    return replies + await enter(ctx, rest[0])


def walking(ctx: Ctx) -> bool:
    return bool(her_form(ctx).get("walk"))


def heading(ctx: Ctx, state: str, question: str) -> str:
    """The question, after "Step n of N" while she walks through every part."""
    w = her_form(ctx)
    walk, part, total = w.get("walk") or [], PART_OF.get(state), len(PARTS)
    if not w.get("full") or part not in walk or len(walk) > total:
        return question
    n = total - len(walk) + 1
    return ctx._("🔎 Step {n} of {total}", n=n, total=total) + "\n" + question


def nav(ctx: Ctx) -> list[list[Button]]:
    """Under a part's screen: back to the summary (what she answered is saved)."""
    _ = ctx._
    if walking(ctx):
        return [[ctx.button(_("💾 Stop here (saved)"), "stop")]]
    return [[ctx.button(_("◀ Back to my request"), "to_summary")]]


async def to_summary(ctx: Ctx, _arg: str) -> Replies:
    drop_from_form(ctx, "pick", "walk")
    return await ctx.goto(RQ_SUMMARY)


_FORM_STATES = [s for s in router.states if s not in (RQ_FIND, RQ_SUMMARY, RQ_LIST)]
for _state in _FORM_STATES:
    router.button(_state, "to_summary")(to_summary)
    router.button(_state, "stop")(to_summary)


# --- what she typed, checked -----------------------------------------------------------
def typed_date(ctx: Ctx, text: str) -> dt.date:
    """A typed date (ahead of today), or `Invalid` saying how to write one: the
    worker's form reads dates the same way (`worker_form.typed_date`)."""
    return worker_form.typed_date(ctx, text, ahead=True)


def checked_note(ctx: Ctx, text: str) -> str:
    """Her note: no phone number, messenger handle or ID number, at most `MAX_NOTE`."""
    _ = ctx._
    cleaned = " ".join(text.split())
    if holds_id_number(cleaned):
        raise Invalid(
            _(
                "That looks like an ID card number. Please don't put it in your note: "
                "workers read it."
            )
        )
    if holds_contact(cleaned):
        raise Invalid(
            _(
                "Please don't write a phone number or a WeChat ID in your note: workers "
                "read it, and you exchange numbers only when you both agree to meet."
            )
        )
    if len(cleaned) > MAX_NOTE:
        raise Invalid(
            _(
                "That is {n} characters; please keep it to {most}. (What you wrote is still "
                "above: copy it and shorten it.)",
                n=len(cleaned),
                most=MAX_NOTE,
            )
        )
    return cleaned


# --- the request in words --------------------------------------------------------------
def money(ctx: Ctx, unit: str, low: int, high: int) -> str:
    """`¥4,000–6,000 a month`, `¥30–50 an hour`."""
    _ = ctx._
    amount = _.money_range(low * 100, high * 100)
    if unit == "hour":
        return _("{money} an hour", money=amount)
    return _("{money} a month", money=amount)


def length_words(ctx: Ctx, request: HelpRequest) -> str:
    """How long: `26 days`, `3 months`, `longer, no fixed end`."""
    _ = ctx._
    days = request.days
    if not days:
        return _("longer, no fixed end")
    if request.kind != "maternity" and request.mode != "hourly" and days % 30 == 0:
        return _.ngettext("{n} month", "{n} months", days // 30)
    return _.ngettext("{n} day", "{n} days", days)


def age_words(ctx: Ctx, key: str) -> str:
    _ = ctx._
    return {
        "any": _("Any age"),
        "u40": _("Under 40"),
        "40_50": _("40 to 50"),
        "o50": _("Over 50"),
    }[key]


def age_key(request: HelpRequest) -> str:
    for key, ages in AGES.items():
        if ages == (request.age_min, request.age_max):
            return key
    return "any"


def years_words(ctx: Ctx, key: str) -> str:
    _ = ctx._
    if key == "any":
        return _("Any experience")
    return _.ngettext("{n}+ year", "{n}+ years", int(key))


def need_words(ctx: Ctx) -> dict[str, str]:
    """Each special need by its name."""
    _ = ctx._
    return {
        "twins": _("Twins"),
        "premature": _("Premature baby"),
        "dementia": _("Dementia"),
        "bedridden": _("Bedridden patient"),
        "pets": _("Pets at home"),
        "cooking": _("Cooking for the family"),
    }


def place_words(ctx: Ctx, request: HelpRequest) -> str:
    term = COUNTIES.get(request.place) or CITIES.get(request.place)
    return ctx._(term.label) if term else "—"


#: each status's mark
STATUS_MARKS = {"draft": "📝", "open": "🟢", "paused": "⏸", "closed": "✖"}


def status_words(ctx: Ctx, request: HelpRequest) -> str:
    _ = ctx._
    words = {
        "draft": _("Not saved yet"),
        "open": _("Open: looking for a helper"),
        "paused": _("Paused"),
        "closed": _("Closed"),
    }[request.status]
    return f"{STATUS_MARKS[request.status]} {words}"


def title(ctx: Ctx, request: HelpRequest) -> str:
    """One line naming a request: its kind, place and start."""
    _ = ctx._
    kind = KINDS_OF_WORK.get(request.kind)
    parts = [_(kind.label) if kind else _("Help at home"), place_words(ctx, request)]
    if request.starts_on:
        parts.append(_.short_date(request.starts_on))
    return " · ".join(p for p in parts if p and p != "—")


def request_lines(ctx: Ctx, request: HelpRequest) -> list[str]:
    """Every part of the request, one line each, in her language."""
    _ = ctx._
    kind = KINDS_OF_WORK.get(request.kind)
    mode = MODES.get(request.mode)
    lines = [
        "🧹 " + _("Help: {what}", what=_(kind.label) if kind else "—"),
        "🕘 " + _("How: {what}", what=_(mode.label) if mode else "—"),
        "📍 " + _("Where: {what}", what=place_words(ctx, request)),
    ]
    if request.due_on:
        lines.append("👶 " + _("Baby due: {date}", date=_.date(request.due_on)))
    if request.starts_on:
        end = job_end(request)
        length = length_words(ctx, request)
        if end:
            length = _("{length} (until {date})", length=length, date=_.date(end))
        lines.append(
            "📅 " + _("From {date}, {length}", date=_.date(request.starts_on), length=length)
        )
    else:
        lines.append("📅 " + _("From: —"))
    if request.budget_min:
        budget = money(ctx, request.budget_unit, request.budget_min, request.budget_max or 0)
    else:
        budget = "—"
    lines.append("💰 " + _("Budget: {what}", what=budget))
    languages = _.join(_(t.label) for t in LANGUAGES if t.id in (request.languages or []))
    lines.append("🗣 " + _("Language: {what}", what=languages or _("any")))
    years = next((k for k, v in YEARS.items() if v == request.min_years), "any")
    lines.append(
        "👤 "
        + _(
            "Helper: {age}, {experience}",
            age=age_words(ctx, age_key(request)),
            experience=years_words(ctx, years),
        )
    )
    names = need_words(ctx)
    needs = _.join(names[n] for n in names if n in (request.needs or []))
    lines.append("✨ " + _("Special needs: {what}", what=needs or _("none")))
    if request.note:
        lines.append("💬 " + _("Note: “{note}”", note=request.note))
    return lines


def missing_parts(request: HelpRequest) -> list[str]:
    """The parts the request still needs before it can be saved, in the walk's order."""
    found = {
        "kind": not request.kind,
        "mode": not request.mode,
        "place": not request.place,
        "dates": not request.starts_on,
        "budget": not request.budget_min,
    }
    return [part for part, _state in PARTS if found.get(part)]


def missing(ctx: Ctx, request: HelpRequest) -> list[str]:
    """What the request still needs before it can be saved, in words."""
    _ = ctx._
    words = {
        "kind": _("the kind of help"),
        "mode": _("how the helper works"),
        "place": _("where"),
        "dates": _("the start date"),
        "budget": _("the budget"),
    }
    return [words[part] for part in missing_parts(request)]


# the parts' screens register on `router` as they load
from handlers import request_dates, request_parts, request_prefs  # noqa: E402, F401
