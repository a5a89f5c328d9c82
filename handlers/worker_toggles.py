"""The worker profile's tap-to-choose screens: kinds of work, add-on skills, places,
ways of working, languages. Each term is a button, ✅ when chosen; typed names choose
too (never un-choose). What is chosen waits in her form (`pick`) until the part's own
"✔ Done" (`handlers.worker_about`, `handlers.worker_offer`) saves it.
"""

from __future__ import annotations

from handlers.context import Ctx
from handlers.replies import Button
from handlers.router import Invalid, Replies
from handlers.signup import named_place
from handlers.typed_values import terms_in
from handlers.worker_form import (
    WP_KINDS,
    WP_LANGUAGES,
    WP_MODES,
    WP_PLACES,
    WP_SKILLS,
    her_form,
    router,
    set_in_form,
)
from storage.vocab import ADD_ON_SKILLS, CITIES, COUNTIES, KINDS_OF_WORK, LANGUAGES, MODES, Term

#: what the toggles of each screen choose from
TOGGLES: dict[str, list[Term]] = {
    WP_KINDS: [t for t in KINDS_OF_WORK if t.id not in ADD_ON_SKILLS],
    WP_SKILLS: [t for t in KINDS_OF_WORK if t.id in ADD_ON_SKILLS],
    WP_PLACES: [*COUNTIES, *CITIES],
    WP_MODES: list(MODES),
    WP_LANGUAGES: list(LANGUAGES),
}


def picked(ctx: Ctx, state: str) -> list[str]:
    allowed = {t.id for t in TOGGLES[state]}
    return [p for p in her_form(ctx).get("pick") or [] if p in allowed]


def toggle_rows(ctx: Ctx, state: str, per_row: int = 2) -> list[list[Button]]:
    """One button for each term of the screen, ✅ when chosen."""
    chosen = set(picked(ctx, state))
    buttons = [
        ctx.button(("✅ " if t.id in chosen else "⬜ ") + ctx._(t.label), "pick", t.id)
        for t in TOGGLES[state]
    ]
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


async def pick(ctx: Ctx, arg: str) -> Replies:
    """A toggle tapped: chosen, or not any more."""
    state = ctx.user.state
    if arg not in {t.id for t in TOGGLES[state]}:
        raise Invalid(ctx._("I don't recognise that button."))
    chosen = picked(ctx, state)
    chosen = [c for c in chosen if c != arg] if arg in chosen else [*chosen, arg]
    set_in_form(ctx, pick=chosen)
    return await ctx.ask()


async def pick_typed(ctx: Ctx, text: str) -> Replies:
    """Typed names of the screen's terms: chosen (never un-chosen by typing)."""
    state = ctx.user.state
    vocabulary = {
        WP_KINDS: KINDS_OF_WORK,
        WP_SKILLS: KINDS_OF_WORK,
        WP_MODES: MODES,
        WP_LANGUAGES: LANGUAGES,
    }.get(state)
    if vocabulary is None:  # places: counties and cities
        found = [t for t in places_in(text) if t in TOGGLES[state]]
    else:
        found = terms_in(vocabulary, TOGGLES[state], text)
    if not found:
        raise Invalid(ctx._("I don't know that one. Please tap the ones you want, then “✔ Done”."))
    chosen = picked(ctx, state)
    set_in_form(ctx, pick=[*chosen, *(t.id for t in found if t.id not in chosen)])
    return await ctx.ask()


def places_in(text: str) -> list[Term]:
    found = terms_in(COUNTIES, list(COUNTIES), text) + terms_in(CITIES, list(CITIES), text)
    if not found and (term := named_place(text)) is not None:
        found = [term]
    return found


for _state in TOGGLES:
    router.button(_state, "pick")(pick)
    router.text(_state)(pick_typed)


def done_button(ctx: Ctx, state: str | None = None) -> list[Button]:
    """ "✔ Done" (on a screen that needs one chosen: once one is)."""
    if state is not None and not picked(ctx, state):
        return []
    return [ctx.button(ctx._("✔ Done"), "done")]


def need_one(ctx: Ctx, state: str) -> list[str]:
    chosen = picked(ctx, state)
    if not chosen:
        raise Invalid(ctx._("Please tap at least one, then “✔ Done”."))
    return chosen
