"""The conversation core: from (where the user is, what they did) to the replies.

    event ─┬─ /command ............ the command's handler (any state)
           ├─ button data ......... checked: issued on the current screen? allowed here?
           ├─ typed number/label .. pressed the matching button of the current screen
           ├─ contact / location .. the state's handler, if it takes one
           └─ text ................ the state's text handler, or "please choose"

Bad input never raises out of here: a handler's `Invalid` becomes its message followed
by the current question, and the state and form stay as they were.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from handlers.context import Ctx, nonce_code
from handlers.router import Invalid, Replies, State

log = logging.getLogger(__name__)

MAX_INPUT = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")


def clean_text(text: str) -> str:
    """Drop control and invisible characters, normalise width forms, trim the ends."""
    return unicodedata.normalize("NFKC", _CONTROL.sub("", text)).strip()


async def converse(ctx: Ctx) -> Replies:
    """Handle one event for one user; the caller owns the transaction."""
    from handlers.onboarding import GREETING, begin

    ev = ctx.event
    if not ctx.user.state:
        ctx.user.state = GREETING
        command = ev.command
        if command is None or command[0] == "start":
            return await begin(ctx, command[1] if command else "")
    try:
        return await _route(ctx)
    except Invalid as bad:
        try:
            return [ctx.reply(bad.message), *await ctx.ask()]
        except Invalid as gone:  # what her screen showed is gone (staff cancelled it)
            from handlers.onboarding import open_home

            return [ctx.reply(gone.message), *await open_home(ctx)]


async def _route(ctx: Ctx) -> Replies:
    ev = ctx.event
    _ = ctx._
    state = ctx.flows.states.get(ctx.user.state)
    if state is None:  # a state from an older version of Haoxin
        return [ctx.reply(_("Let's pick up from the start.")), *await ctx.goto("")]
    if state.admin and not ctx.is_admin:
        return await _not_allowed(ctx)

    command = ev.command
    if command is not None:
        name, arg = command
        handler = ctx.flows.commands.get(name)
        if handler is None:
            raise Invalid(
                _(
                    "I don't know the command /{name}. Send /help to see what I can do.",
                    name=name[:20],
                )
            )
        return await handler(ctx, arg)

    if ev.data is not None:
        return await press(ctx, state, ev.data)
    if ev.contact is not None:
        if ev.contact.user_id != ev.user:  # a card typed in by hand, or someone else's
            raise Invalid(
                _("That contact card is not your own. Please type your own phone number.")
            )
        if state.on_contact is None:
            raise Invalid(_("Thank you, but I don't need a phone number here."))
        return await state.on_contact(ctx, ev.contact)
    if ev.location is not None:
        if state.on_location is None:
            raise Invalid(_("Thank you, but I don't need a location here."))
        return await state.on_location(ctx, ev.location)

    if ev.media is not None:
        raise Invalid(_("I can only read text and buttons, not pictures, voice or files."))
    text = clean_text(ev.text or "")
    if not text:
        raise Invalid(_("I received an empty message. Please type an answer or tap a button."))
    data = _typed_button(ctx, state, text)
    if data is not None:
        return await press(ctx, state, data)
    if state.on_text is None:
        raise Invalid(_("Please tap one of the buttons (or type its number)."))
    if len(text) > MAX_INPUT:
        raise Invalid(
            _("That message is too long. Please keep it under {limit} characters.", limit=MAX_INPUT)
        )
    return await state.on_text(ctx, text)


async def press(ctx: Ctx, state: State, data: str) -> Replies:
    """A button press: accepted only when this exact data was issued to this person on
    the screen she is on (`users.screen_buttons`), and the action is allowed in the
    current state. Anything else (a button from an older message, data never issued,
    a guess) is refused, counted in `users.refused_presses`, and the question asked again.
    """
    _ = ctx._
    nonce, sep, action_arg = data.partition("|")
    action, _sep, arg = action_arg.partition(":")
    issued = any(d == data for _label, d in ctx.user.screen_buttons or [])
    if not issued:
        ctx.user.refused_presses = (ctx.user.refused_presses or 0) + 1
        log.info("refused a button press that was not issued on the current screen")
        if sep and action and nonce != nonce_code(ctx.user.screen_nonce):
            raise Invalid(_("That button belongs to an earlier message. Here is where we are now:"))
        raise Invalid(_("I don't recognise that button."))
    handler = state.buttons.get(action) or ctx.flows.actions.get(action)
    if handler is None:
        raise Invalid(_("I don't recognise that button."))
    return await handler(ctx, arg)


def _typed_button(ctx: Ctx, state: State, text: str) -> str | None:
    """The data of the current screen's button the person typed the number or label of."""
    buttons = ctx.user.screen_buttons or []
    if not buttons:
        return None
    if text.isdecimal() and not state.numeric:  # isdigit() also takes ², ፩: int() fails
        n = int(text)
        if 1 <= n <= len(buttons):
            return buttons[n - 1][1]
        return None
    wanted = _plain(text)
    for label, data in buttons:
        if wanted and _plain(label) == wanted:
            return data
    return None


def _plain(label: str) -> str:
    """A label as a person would type it: no emoji, arrows, punctuation or spaces."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", label).casefold() if ch.isalnum())


async def _not_allowed(ctx: Ctx) -> Replies:
    from handlers.onboarding import CHOOSE_ROLE

    _ = ctx._
    return [ctx.reply(_("That part is for programme staff only.")), *await ctx.goto(CHOOSE_ROLE)]
