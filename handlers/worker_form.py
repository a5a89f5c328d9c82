"""The guided worker profile: one small screen for each part, saved as she goes.

    WORKER_PROFILE ─make─▶ WP_NAME ▶ WP_KINDS ▶ WP_SKILLS ▶ WP_YEARS ▶ WP_JOBS
        (▶ WP_JOB_KIND ▶ WP_JOB_WHERE ▶ WP_JOB_YEARS)* ▶ WP_PLACES ▶ WP_MODES ▶ WP_PAY (each
        mode) ▶ WP_LANGUAGES ▶ WP_FROM (▶ WP_FROM_DATE) ▶ WP_UNTIL ▶ WP_INTRO ▶ WP_CERTS
        (▶ WP_CERT_KIND ▶ WP_CERT_NUMBER ▶ WP_CERT_ISSUER ▶ WP_CERT_DATE ▶ WP_CERT_PHOTO)*
        ▶ WP_ID ▶ WP_HEALTH (▶ WP_HEALTH_DATE) ▶ WP_PREVIEW
    WORKER_PROFILE ─edit─▶ WP_EDIT ─a part─▶ that part's screens ▶ WORKER_PROFILE

The first time she walks through every part ("walk" in her form: the parts still to
go); "Fill in what is missing" walks through those only; "Edit" opens one part and
comes back to her profile. Every answer is saved on her profile as soon as she gives
it (`WorkerRepo.edit`), so stopping anywhere loses nothing; what is half-given (the
toggles before "Done", a certificate before its photo) waits in her form, which is
kept in her row across restarts and is never touched by a refused answer.

She taps more than she types; typed answers are read too (Chinese, Traditional,
pinyin, English: the vocabularies' names). Every handler works on her own profile
(`WorkerRepo.of_user`), never on an id from a button: buttons carry vocabulary ids or
indexes into what the screen showed, checked.

Privacy (PIPL): the ID number is checked, then only its last four characters and a
keyed hash are kept; it is never put in her form, a reply or a log. The health date is
asked only after its own consent (`storage.worker_edits`).

This module holds the walk: the states, her form, and going from part to part. The
parts' screens, in the order of the walk, all on this module's `router`:

    handlers.worker_about         1–3    name, kinds of work and skills, years, past jobs
    handlers.worker_offer         4–8    places, ways of working and pay, languages,
                                         dates, introduction
    handlers.worker_certificates  9      certificates, each with its photo
    handlers.worker_private       10–11  ID number, health examination (its own consent)

`handlers.worker_toggles` runs the tap-to-choose screens of parts 2 and 4–6, and
`handlers.typed_values` reads what she types (numbers, pay, dates, vocabulary names).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from handlers import typed
from handlers.context import Ctx
from handlers.replies import Button
from handlers.router import Invalid, Replies, Router
from handlers.typed_values import AmbiguousDate, read_date
from storage.models import WorkerProfile
from storage.vocab import COUNTIES, MODES
from storage.worker_edits import WorkerEdits
from storage.workers import holds_contact, holds_id_number

router = Router(__name__)

#: the profile's home (`handlers.worker_profile`), where every part comes back to
WORKER_PROFILE = "WORKER_PROFILE"
#: her profile as a household sees it, at the end of the walk (`handlers.worker_profile`)
WP_PREVIEW = "WP_PREVIEW"
#: the list of parts to edit (`handlers.worker_profile`)
WP_EDIT = "WP_EDIT"

WP_NAME = router.state("WP_NAME", personal=True)
WP_KINDS = router.state("WP_KINDS", personal=True)
WP_SKILLS = router.state("WP_SKILLS", personal=True)
WP_YEARS = router.state("WP_YEARS", numeric=True, personal=True)
WP_JOBS = router.state("WP_JOBS", personal=True)
WP_JOB_KIND = router.state("WP_JOB_KIND", personal=True)
WP_JOB_WHERE = router.state("WP_JOB_WHERE", personal=True)
WP_JOB_YEARS = router.state("WP_JOB_YEARS", numeric=True, personal=True)
WP_PLACES = router.state("WP_PLACES", personal=True)
WP_MODES = router.state("WP_MODES", personal=True)
WP_PAY = router.state("WP_PAY", numeric=True, personal=True)
WP_LANGUAGES = router.state("WP_LANGUAGES", personal=True)
WP_FROM = router.state("WP_FROM", personal=True)
WP_FROM_DATE = router.state("WP_FROM_DATE", personal=True)
WP_UNTIL = router.state("WP_UNTIL", personal=True)
WP_INTRO = router.state("WP_INTRO", personal=True)
WP_CERTS = router.state("WP_CERTS", personal=True)
WP_CERT_SHOW = router.state("WP_CERT_SHOW", personal=True)
WP_CERT_KIND = router.state("WP_CERT_KIND", personal=True)
WP_CERT_NUMBER = router.state("WP_CERT_NUMBER", numeric=True, personal=True)
WP_CERT_ISSUER = router.state("WP_CERT_ISSUER", personal=True)
WP_CERT_DATE = router.state("WP_CERT_DATE", personal=True)
WP_CERT_PHOTO = router.state("WP_CERT_PHOTO", personal=True)
WP_ID = router.state("WP_ID", personal=True)
WP_HEALTH = router.state("WP_HEALTH", personal=True)
WP_HEALTH_DATE = router.state("WP_HEALTH_DATE", personal=True)

# typed text on a screen of buttons is never a search here: an ID number typed by
# mistake must not be echoed back in "found nothing for …"
typed.no_search(WP_JOBS, WP_CERTS, WP_CERT_SHOW, WP_CERT_PHOTO, WP_HEALTH)

#: the parts of a profile, in the order of the walk, and the screen each opens on
PARTS: list[tuple[str, str]] = [
    ("name", WP_NAME),
    ("kinds", WP_KINDS),
    ("experience", WP_YEARS),
    ("places", WP_PLACES),
    ("modes", WP_MODES),
    ("languages", WP_LANGUAGES),
    ("dates", WP_FROM),
    ("intro", WP_INTRO),
    ("certificates", WP_CERTS),
    ("id", WP_ID),
    ("health", WP_HEALTH),
]
PART_STATE = dict(PARTS)
PART_OF = {state: key for key, state in PARTS}

#: the longest answer to staff (`handlers.worker_profile`)
MAX_ANSWER = 500


# --- her form and her profile -----------------------------------------------------------
def her_form(ctx: Ctx) -> dict[str, Any]:
    """What waits in her form: the walk, toggles before "Done", a half-given job or
    certificate."""
    return dict(ctx.form.get("worker") or {})


def set_in_form(ctx: Ctx, **values: Any) -> None:
    """Keep `values` in her form, beside what is there."""
    ctx.remember(worker={**her_form(ctx), **values})


def drop_from_form(ctx: Ctx, *keys: str) -> None:
    """Forget `keys` from her form."""
    ctx.remember(worker={k: v for k, v in her_form(ctx).items() if k not in keys})


def edits(ctx: Ctx) -> WorkerEdits:
    """Her consents (health, sharing), recorded with the audit log."""
    return WorkerEdits(ctx.repos.workers)


async def mine(ctx: Ctx) -> WorkerProfile | None:
    """Her own profile: the only one any of these screens acts on."""
    return await ctx.repos.workers.of_user(ctx.user)


async def her_profile(ctx: Ctx) -> WorkerProfile:
    """Her profile, for a step that needs it; none (erased meanwhile): the home says so."""
    profile = await mine(ctx)
    if profile is None:
        raise Invalid(ctx._("You have no worker profile yet."))
    return profile


async def save(ctx: Ctx, profile: WorkerProfile, **fields: Any) -> list[str]:
    """Save fields of her profile; the notes to show for checks sent back to staff."""
    reopened = await ctx.repos.workers.edit(profile, **fields)
    return [recheck_note(ctx, kind) for kind in reopened]


def recheck_note(ctx: Ctx, check: str) -> str:
    """What she is told when an edit sends a verified part back to staff."""
    _ = ctx._
    if check == "identity":
        return "⏳ " + _(
            "Your name and ID will be checked again; the rest of your profile stays as it is."
        )
    if check == "health":
        return "⏳ " + _(
            "Your health examination will be checked again; the rest of your profile "
            "stays as it is."
        )
    return "⏳ " + _(
        "This certificate will be checked again; the rest of your profile stays as it is."
    )


def part_labels(ctx: Ctx) -> dict[str, str]:
    """Each part by its name on the edit screen."""
    _ = ctx._
    return {
        "name": _("👤 Name"),
        "kinds": _("🧹 Kinds of work and skills"),
        "experience": _("🗂 Experience and past jobs"),
        "places": _("📍 Where I will work"),
        "modes": _("🕘 Ways of working and pay"),
        "languages": _("🗣 Languages"),
        "dates": _("📅 When I am available"),
        "intro": _("💬 My introduction"),
        "certificates": _("📄 Certificates"),
        "id": _("🪪 ID number"),
        "health": _("🩺 Health examination"),
    }


async def missing(ctx: Ctx, profile: WorkerProfile) -> list[tuple[str, str]]:
    """What her profile still needs before it can be sent for checking: (part, what)."""
    _ = ctx._
    found = []
    if not profile.name:
        found.append(("name", _("your name")))
    if not profile.kinds:
        found.append(("kinds", _("at least one kind of work")))
    if not profile.places:
        found.append(("places", _("at least one place to work")))
    if not any(v for v in (profile.pay or {}).values()):
        found.append(("modes", _("a way of working, with the pay you expect")))
    if not profile.id_last4:
        found.append(("id", _("your ID number")))
    if profile.health_consent_at is not None and profile.health_passed_on is None:
        found.append(("health", _("the date you passed your health examination")))
    elif not await edits(ctx).answered(profile, "health"):
        found.append(("health", _("your answer about the health examination")))
    return found


# --- walking through the parts ----------------------------------------------------------
async def begin(ctx: Ctx, parts: Sequence[str]) -> Replies:
    """Walk through `parts` one after another (the first time: all of them)."""
    walk = [p for p in parts if p in PART_STATE] or [PARTS[0][0]]
    ctx.remember(worker={"walk": walk, "total": len(walk)})
    return await enter(ctx, walk[0])


async def open_part(ctx: Ctx, part: str) -> Replies:
    """Change one part, then back to her profile."""
    ctx.remember(worker={})
    return await enter(ctx, part)


async def enter(ctx: Ctx, part: str) -> Replies:
    """Open a part's first screen, its toggles set from her profile."""
    profile = await her_profile(ctx)
    if part == "kinds":
        set_in_form(ctx, pick=list(profile.kinds or []))
    elif part == "places":
        set_in_form(ctx, pick=list(profile.places or []) or await _home_county(ctx))
    elif part == "modes":
        set_in_form(ctx, pick=[m.id for m in MODES if m.id in (profile.pay or {})])
    elif part == "languages":
        set_in_form(ctx, pick=list(profile.languages or []))
    return await ctx.goto(PART_STATE[part])


async def _home_county(ctx: Ctx) -> list[str]:
    """Her county from sign-up, preselected as a place she will work in."""
    kept = await ctx.repos.profiles.of(ctx.user) if ctx.user.id else None
    term = COUNTIES.of_name(kept.county) if kept and kept.county else None
    return [term.id] if term else []


async def finish(ctx: Ctx, part: str, notes: Sequence[str] = ()) -> Replies:
    """A part is done: on to the next part of the walk (the preview after the last), or
    back to her profile when she was changing just this one."""
    replies = [ctx.reply(note) for note in notes]
    walk = [p for p in her_form(ctx).get("walk") or [] if p in PART_STATE]
    if not walk:
        ctx.remember(worker={})
        return replies + await ctx.goto(WORKER_PROFILE)
    rest = walk[walk.index(part) + 1 :] if part in walk else walk[1:]
    if not rest:
        ctx.remember(worker={})
        return replies + await ctx.goto(WP_PREVIEW)
    ctx.remember(worker={"walk": rest, "total": her_form(ctx).get("total") or len(walk)})
    return replies + await enter(ctx, rest[0])


def heading(ctx: Ctx, state: str, question: str) -> str:
    """The question, after "Part n of N" while she walks through the parts."""
    w = her_form(ctx)
    walk, part = w.get("walk") or [], PART_OF.get(state)
    if not walk or part not in walk:
        return question
    total = int(w.get("total") or len(walk))
    n = total - len(walk) + 1
    return ctx._("🪪 Part {n} of {total}", n=n, total=total) + "\n" + question


def nav(ctx: Ctx) -> list[list[Button]]:
    """The buttons under a part's first screen: skip it or stop (a walk); back to the
    list of parts or to her profile (changing one part). The same two actions either
    way, labelled for what they do."""
    _ = ctx._
    if her_form(ctx).get("walk"):
        skip, stop = _("⏭ Skip this part"), _("💾 Stop here (saved)")
    else:
        skip, stop = _("◀ Back"), _("◀ My profile")
    return [[ctx.button(skip, "skip"), ctx.button(stop, "stop")]]


async def skip(ctx: Ctx, _arg: str) -> Replies:
    """Walking: on to the next part, this one unchanged. Changing one part: back to the
    list of parts."""
    if not her_form(ctx).get("walk"):
        ctx.remember(worker={})
        return await ctx.goto(WP_EDIT)
    return await finish(ctx, PART_OF.get(ctx.user.state, ""))


async def stop(ctx: Ctx, _arg: str) -> Replies:
    """Back to her profile: what she answered is saved already."""
    walking = bool(her_form(ctx).get("walk"))
    ctx.remember(worker={})
    if not walking:
        return await ctx.goto(WORKER_PROFILE)
    text = ctx._("Saved. Go on any time from “🪪 My worker profile”.")
    return [ctx.reply(text), *await ctx.goto(WORKER_PROFILE)]


for _part, _state in PARTS:
    router.button(_state, "skip")(skip)
    router.button(_state, "stop")(stop)


# --- her typed answers, checked -------------------------------------------------------
def typed_date(ctx: Ctx, text: str, *, ahead: bool) -> dt.date:
    """A typed date, or `Invalid` saying how to write one."""
    _ = ctx._
    try:
        day = read_date(text, ctx.today(), ahead=ahead)
    except AmbiguousDate:
        raise Invalid(
            _(
                "Is that day/month or month/day? Please write the year first, like "
                "2026-12-09, or write it as 12月9日."
            )
        ) from None
    if day is None:
        raise Invalid(_("Please type a date like 2026-12-09 or 12月9日."))
    return day


def no_id_number(ctx: Ctx, text: str) -> None:
    """Refuse text that holds a whole ID number (typed in the wrong place), however it
    is grouped: it would be kept whole (`storage.workers.holds_id_number`)."""
    if holds_id_number(text):
        raise Invalid(
            ctx._(
                "That looks like an ID card number. Please don't put it here: it is asked "
                "only once, in its own part, and is never kept whole."
            )
        )


def no_contact(ctx: Ctx, text: str) -> None:
    """Refuse a phone number or a messenger handle in what households see (her
    introduction, a past job's place): they get her number only once both agree."""
    if holds_contact(text):
        raise Invalid(
            ctx._(
                "Please don't write a phone number or a WeChat ID here: households see "
                "this part, and they get your number only when you both agree to meet."
            )
        )


def short_text(ctx: Ctx, text: str, low: int, high: int) -> str:
    """A short typed answer (a place, a certificate's number), spaces tidied, of `low` to
    `high` characters and holding no ID number."""
    cleaned = " ".join(text.split())
    no_id_number(ctx, cleaned)
    if not low <= len(cleaned) <= high:
        raise Invalid(ctx._("Please type {low} to {high} characters.", low=low, high=high))
    return cleaned


# the parts' screens (see above) register on `router` as they load
from handlers import worker_about, worker_certificates, worker_offer, worker_private  # noqa: E402, F401
