"""Parts 6–10 of a household's request: language, the helper's age and experience, the
separate consent for a child's or a patient's details, special needs and a note. The
walk itself is `handlers.request_form`.

    RQ_LANGUAGES ▶ RQ_AGE ▶ RQ_YEARS ▶ (RQ_CONSENT ▶) RQ_NEEDS ▶ RQ_NOTE ▶ RQ_SUMMARY

Privacy (PIPL art. 28-29): RQ_CONSENT says what is asked, why, who sees it (only the
helpers she chooses to interview) and that it is deleted with the request. Declined or
withdrawn, nothing of it is kept (`RequestRepo.sensitive_consent`) and she goes on.
"""

from __future__ import annotations

from handlers import typed
from handlers.context import Ctx
from handlers.replies import Button
from handlers.request_form import (
    AGES,
    MAX_NOTE,
    RQ_AGE,
    RQ_CONSENT,
    RQ_DUE,
    RQ_LANGUAGES,
    RQ_NEEDS,
    RQ_NOTE,
    RQ_START,
    RQ_YEARS,
    YEARS,
    age_key,
    age_words,
    checked_note,
    finish,
    heading,
    her_form,
    her_request,
    nav,
    need_words,
    router,
    set_in_form,
    years_words,
)
from handlers.router import Invalid, Replies
from handlers.typed_values import number_in, terms_in
from storage.requests import SENSITIVE_NEEDS, asks_sensitive, needs_for
from storage.vocab import LANGUAGES

typed.no_search(RQ_CONSENT, RQ_NEEDS, RQ_AGE, RQ_YEARS)


def _picked(ctx: Ctx, allowed: list[str]) -> list[str]:
    return [p for p in her_form(ctx).get("pick") or [] if p in allowed]


def _toggles(ctx: Ctx, items: list[tuple[str, str]], per_row: int = 2) -> list[list[Button]]:
    """One button per (id, label), ✅ when chosen (the worker profile's toggles' look)."""
    chosen = set(her_form(ctx).get("pick") or [])
    buttons = [
        ctx.button(("✅ " if key in chosen else "⬜ ") + label, "pick", key) for key, label in items
    ]
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


def _toggle(ctx: Ctx, key: str, allowed: list[str]) -> None:
    if key not in allowed:
        raise Invalid(ctx._("I don't recognise that button."))
    chosen = _picked(ctx, allowed)
    set_in_form(ctx, pick=[c for c in chosen if c != key] if key in chosen else [*chosen, key])


# --- 6. language ------------------------------------------------------------------------
@router.prompt(RQ_LANGUAGES)
async def ask_languages(ctx: Ctx) -> Replies:
    _ = ctx._
    text = _(
        "Which language or dialect should the helper speak? Tap one or more, then “✔ Done”, "
        "or tap “Any”."
    )
    rows = _toggles(ctx, [(t.id, _(t.label)) for t in LANGUAGES])
    last = [ctx.button(_("Any language"), "any_language")]
    if her_form(ctx).get("pick"):
        last.append(ctx.button(_("✔ Done"), "done"))
    return [ctx.reply(heading(ctx, RQ_LANGUAGES, text), *rows, last, *nav(ctx))]


@router.button(RQ_LANGUAGES, "pick")
async def language_tapped(ctx: Ctx, key: str) -> Replies:
    _toggle(ctx, key, [t.id for t in LANGUAGES])
    return await ctx.ask()


@router.text(RQ_LANGUAGES)
async def language_typed(ctx: Ctx, text: str) -> Replies:
    found = terms_in(LANGUAGES, list(LANGUAGES), text)
    if not found:
        raise Invalid(ctx._("I don't know that one. Please tap the ones you want, then “✔ Done”."))
    chosen = _picked(ctx, [t.id for t in LANGUAGES])
    set_in_form(ctx, pick=[*chosen, *(t.id for t in found if t.id not in chosen)])
    return await ctx.ask()


async def _got_languages(ctx: Ctx, chosen: list[str]) -> Replies:
    request = await her_request(ctx)
    await ctx.repos.requests.edit(request, languages=[t.id for t in LANGUAGES if t.id in chosen])
    return await finish(ctx, "languages")


@router.button(RQ_LANGUAGES, "done")
async def languages_done(ctx: Ctx, _arg: str) -> Replies:
    chosen = _picked(ctx, [t.id for t in LANGUAGES])
    if not chosen:
        raise Invalid(ctx._("Please tap at least one, then “✔ Done”."))
    return await _got_languages(ctx, chosen)


@router.button(RQ_LANGUAGES, "any_language")
async def any_language(ctx: Ctx, _arg: str) -> Replies:
    return await _got_languages(ctx, [])


# --- 7–8. age and experience -------------------------------------------------------------
@router.prompt(RQ_AGE)
async def ask_age(ctx: Ctx) -> Replies:
    request = await her_request(ctx)
    text = ctx._("Do you prefer a helper of a certain age?")
    now = age_key(request)
    buttons = [
        ctx.button(("✅ " if key == now else "") + age_words(ctx, key), "age", key) for key in AGES
    ]
    return [ctx.reply(heading(ctx, RQ_AGE, text), buttons[:2], buttons[2:], *nav(ctx))]


@router.button(RQ_AGE, "age")
async def age_tapped(ctx: Ctx, key: str) -> Replies:
    if key not in AGES:
        raise Invalid(ctx._("I don't recognise that button."))
    low, high = AGES[key]
    request = await her_request(ctx)
    await ctx.repos.requests.edit(request, age_min=low, age_max=high)
    return await finish(ctx, "age")


@router.prompt(RQ_YEARS)
async def ask_years(ctx: Ctx) -> Replies:
    request = await her_request(ctx)
    text = ctx._("How much experience should she have?")
    now = next((k for k, v in YEARS.items() if v == request.min_years), "any")
    buttons = [
        ctx.button(("✅ " if key == now else "") + years_words(ctx, key), "years", key)
        for key in YEARS
    ]
    return [ctx.reply(heading(ctx, RQ_YEARS, text), buttons[:2], buttons[2:], *nav(ctx))]


@router.text(RQ_YEARS)
async def years_typed(ctx: Ctx, text: str) -> Replies:
    """Typed years (`5`, `5年`, `三年`): at least that many, read as the nearest choice
    not above it (4 → 3+ years); 0 is any. Its buttons are lettered (a numeric state)."""
    n = number_in(text)
    if n is None or n > 60:
        raise Invalid(ctx._("Please tap one of the choices, or type a number of years."))
    key = max(
        (k for k, v in YEARS.items() if v is not None and v <= n),
        default="any",
        key=lambda k: YEARS[k] or 0,
    )
    return await years_tapped(ctx, key)


@router.button(RQ_YEARS, "years")
async def years_tapped(ctx: Ctx, key: str) -> Replies:
    if key not in YEARS:
        raise Invalid(ctx._("I don't recognise that button."))
    request = await her_request(ctx)
    await ctx.repos.requests.edit(request, min_years=YEARS[key])
    return await finish(ctx, "experience")


# --- 9. the separate consent, and special needs -----------------------------------------
def _about_child(kind: str) -> bool:
    return kind in ("maternity", "infant")


@router.prompt(RQ_CONSENT)
async def ask_consent(ctx: Ctx) -> Replies:
    _ = ctx._
    request = await her_request(ctx)
    if request.kind == "maternity":
        what = _("the baby's due date, and whether it is twins or a premature baby")
        why = _("to find a maternity nurse who can do this job, and to set the start at the birth")
    elif _about_child(request.kind):
        what = _("whether the child is a twin or was born premature")
        why = _("to find a helper who can care for this child")
    else:
        what = _("whether the person has dementia or is bedridden")
        why = _("to find a helper who can care for this person")
    text = _(
        "🔒 A separate question. Details about a child or a patient are sensitive, so I "
        "ask you first.\n"
        "• What: {what}.\n"
        "• Why: {why}.\n"
        "• Who sees it: only the helpers you choose to interview.\n"
        "• How long: it is deleted when you close this request, or at once if you say "
        "no later.\n"
        "You may say no: you can still find a helper without these details.",
        what=what,
        why=why,
    )
    if request.sensitive_consent_at is not None:
        rows = [
            [ctx.button(_("▶ Go on"), "consent_next")],
            [ctx.button(_("✖ Withdraw: delete these details"), "consent_no")],
        ]
    else:
        rows = [
            [ctx.button(_("✅ I agree"), "consent_yes")],
            [ctx.button(_("✖ No, go on without them"), "consent_no")],
        ]
    return [ctx.reply(text, *rows, *nav(ctx))]


async def _after_consent(ctx: Ctx) -> Replies:
    request = await her_request(ctx)
    nxt = her_form(ctx).get("consent_next")
    set_in_form(ctx, asked=True)
    if nxt == "dates" and request.kind == "maternity":
        return await ctx.goto(RQ_DUE if request.sensitive_consent_at else RQ_START)
    set_in_form(ctx, pick=list(request.needs or []))
    return await ctx.goto(RQ_NEEDS)


@router.button(RQ_CONSENT, "consent_yes")
async def consent_yes(ctx: Ctx, _arg: str) -> Replies:
    request = await her_request(ctx)
    await ctx.repos.requests.sensitive_consent(request, True)
    return await _after_consent(ctx)


@router.button(RQ_CONSENT, "consent_no")
async def consent_no(ctx: Ctx, _arg: str) -> Replies:
    request = await her_request(ctx)
    await ctx.repos.requests.sensitive_consent(request, False)
    note = ctx._("Noted: no details about a child or a patient are kept. Let's go on.")
    return [ctx.reply(note), *await _after_consent(ctx)]


@router.button(RQ_CONSENT, "consent_next")
async def consent_next(ctx: Ctx, _arg: str) -> Replies:
    return await _after_consent(ctx)


def _needs_here(kind: str, consented: bool) -> list[str]:
    return [n for n in needs_for(kind) if consented or n not in SENSITIVE_NEEDS]


@router.prompt(RQ_NEEDS)
async def ask_needs(ctx: Ctx) -> Replies:
    _ = ctx._
    request = await her_request(ctx)
    allowed = _needs_here(request.kind, request.sensitive_consent_at is not None)
    names = need_words(ctx)
    text = _("Any special needs? Tap every one that applies, then “✔ Done”.")
    rows = _toggles(ctx, [(n, names[n]) for n in allowed])
    if asks_sensitive(request.kind) and request.sensitive_consent_at is None:
        if _about_child(request.kind):
            label = _("🔒 Add the child's details")
        else:
            label = _("🔒 Add the patient's details")
        rows.append([ctx.button(label, "add_details")])
    elif asks_sensitive(request.kind):
        rows.append([ctx.button(_("🔒 About these details (consent)"), "add_details")])
    rows.append([ctx.button(_("✔ Done"), "done")])
    return [ctx.reply(heading(ctx, RQ_NEEDS, text), *rows, *nav(ctx))]


@router.button(RQ_NEEDS, "pick")
async def need_tapped(ctx: Ctx, key: str) -> Replies:
    request = await her_request(ctx)
    _toggle(ctx, key, _needs_here(request.kind, request.sensitive_consent_at is not None))
    return await ctx.ask()


@router.button(RQ_NEEDS, "add_details")
async def add_details(ctx: Ctx, _arg: str) -> Replies:
    set_in_form(ctx, consent_next="needs")
    return await ctx.goto(RQ_CONSENT)


@router.button(RQ_NEEDS, "done")
async def needs_done(ctx: Ctx, _arg: str) -> Replies:
    request = await her_request(ctx)
    allowed = _needs_here(request.kind, request.sensitive_consent_at is not None)
    chosen = _picked(ctx, allowed)
    await ctx.repos.requests.edit(request, needs=[n for n in allowed if n in chosen])
    return await finish(ctx, "needs")


# --- 10. a note -------------------------------------------------------------------------
@router.prompt(RQ_NOTE)
async def ask_note(ctx: Ctx) -> Replies:
    _ = ctx._
    request = await her_request(ctx)
    text = _(
        "Anything else the helper should know? Type a short note (at most {most} "
        "characters), like “we live on the 5th floor, no lift”. No phone numbers here.",
        most=MAX_NOTE,
    )
    if request.note:
        text += "\n" + _("Now: “{note}”", note=request.note)
        rows = [
            [ctx.button(_("✔ Keep my note"), "no_note")],
            [ctx.button(_("🗑 Remove my note"), "clear_note")],
        ]
    else:
        rows = [[ctx.button(_("⏭ No note"), "no_note")]]
    return [ctx.reply(heading(ctx, RQ_NOTE, text), *rows, *nav(ctx))]


@router.text(RQ_NOTE)
async def note_typed(ctx: Ctx, text: str) -> Replies:
    note = checked_note(ctx, text)
    request = await her_request(ctx)
    await ctx.repos.requests.edit(request, note=note)
    return await finish(ctx, "note")


@router.button(RQ_NOTE, "no_note")
async def no_note(ctx: Ctx, _arg: str) -> Replies:
    return await finish(ctx, "note")


@router.button(RQ_NOTE, "clear_note")
async def clear_note(ctx: Ctx, _arg: str) -> Replies:
    request = await her_request(ctx)
    await ctx.repos.requests.edit(request, note="")
    return await finish(ctx, "note")
