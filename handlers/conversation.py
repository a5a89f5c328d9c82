"""The conversation core: from (where the user is, what they did) to the replies.

    event ─┬─ /command ............ the command's handler (any state)
           ├─ button data ......... checked: issued on the current screen? allowed here?
           │                        (or a navigation entry of an earlier screen of hers)
           ├─ typed number/label .. pressed the button of the current screen it names;
           │                        several named equally: those shown to choose from
           ├─ a main-menu entry ... typed out whole: that entry (`menus.entry_named`)
           ├─ contact / location .. the state's handler, if it takes one
           ├─ photo / file ........ the state's file handler, if it takes one
           └─ text ................ the state's text handler (a question asked there is
                                    answered first: `questions.maybe_question`), or else
                                    an answer or a search that keeps her place
                                    (`handlers.questions.answer_typed`)

Bad input never raises out of here: a handler's `Invalid` becomes its message followed
by the current question, and the state and form stay as they were.

Navigation entries (the main menu's entries, "Main menu", "Find a course", "My
sign-ups", "Job fairs", language, privacy: `NAVIGATION`) are honoured from an earlier
message of hers, not only from the screen she is on. Their data carries, instead of the
screen's random nonce, a tag of the state that showed them: an HMAC of the state's name
keyed by her own row (id, key, when it was created and when she agreed), so it is the
same on every screen of that state, differs for every person, and cannot be worked out
from what she is shown. An earlier press of such data runs the entry as that state would
(a menu only while it is still her home menu; staff states only for staff), leaving
the form she was filling in as the main menu does; anything that acts (confirm,
cancel, a form step, delete) stays tied to its own screen. Before she agrees to the
privacy notice no button is tagged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import unicodedata

from handlers import questions, typed
from handlers.context import NONCE_DIGITS, NONCE_SPACE, Ctx, nonce_code
from handlers.danger import urgent
from handlers.replies import Button
from handlers.router import Invalid, Replies, State
from handlers.staff import is_staff
from handlers.validate import RegionNeeded
from storage.models import User
from storage.workers import holds_id_number

log = logging.getLogger(__name__)

MAX_INPUT = 2000

#: actions that only take her somewhere: honoured from an earlier message of hers
NAVIGATION: set[str] = {
    "go",  # a main menu's entries
    "home",  # "Main menu"
    "find",  # "Find a course" (My sign-ups)
    "courses",  # the courses menu
    "fairs",  # the job fairs list
    "my_signups",  # "My sign-ups" (a course card)
    "language",  # the language choice
    "privacy",  # the privacy notice
    "jobs",  # "Interviews and hires" (a notice of an interview, a hire, a review)
}


def navigation(*actions: str) -> None:
    """Declare button actions that only move her to a screen (a menu entry), so that
    they work from an earlier message too. Never an action that changes anything."""
    NAVIGATION.update(actions)


# control characters, and the invisible ones that change how text reads without being
# seen: zero-width marks, direction marks, embeddings, overrides and isolates (a name or
# an introduction shown to staff and households must read as it looks), the soft hyphen,
# word joiners and invisible operators, tag characters
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u034f\u061c\u115f\u1160\u180b-\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb"
    "\U0001d173-\U0001d17a\U000e0000-\U000e007f]"
)


# Chinese is written with full-width punctuation: what she types is kept with it (an
# introduction reads `带过双胞胎，会煮月子餐`, not `带过双胞胎,会煮月子餐`); everything else
# is normalised (full-width digits and letters, compatibility forms)
_KEPT_PUNCTUATION = "，：；！？（）"
_NORMALISED = re.compile(f"[^{_KEPT_PUNCTUATION}]+")


def clean_text(text: str) -> str:
    """Drop control and invisible characters, normalise width forms (NFKC) except
    Chinese full-width punctuation, trim the ends."""
    text = _CONTROL.sub("", text)
    if text.isascii():
        return text.strip()
    return _NORMALISED.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text).strip()


async def converse(ctx: Ctx) -> Replies:
    """Handle one event for one user; the caller owns the transaction."""
    replies = await _converse(ctx)
    if not ctx.deleted:
        _tag_navigation(ctx, replies)
        spec = ctx.flows.states.get(ctx.user.state)
        if spec is not None and spec.numeric:  # a typed number answers: letter the buttons
            for reply in replies:
                reply.letters = bool(reply.buttons)
    return replies


async def _converse(ctx: Ctx) -> Replies:
    from handlers.onboarding import GREETING, begin

    ev = ctx.event
    if not ctx.user.state:
        ctx.user.state = GREETING
        command = ev.command
        if command is None or command[0] == "start":
            greeting = await begin(ctx, command[1] if command else "")
            text = clean_text(ev.text or "") if command is None else ""
            if text and urgent(text):  # her very first words say she is in danger
                ctx.user.asked = text[: questions.MAX_ASKED]  # to protect her: art. 13(4)
                return [questions.safety_reply(ctx, text), *greeting]
            return greeting
    try:
        return await _route(ctx)
    except RegionNeeded as local:  # eight digits: Hong Kong or Macau? she says which
        from handlers.phone import ask_region

        return await ask_region(ctx, local.digits)
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
    if (state.admin and not ctx.is_admin) or (state.staff and not is_staff(ctx)):
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

    if ev.attachment is not None:
        if state.on_file is None:
            raise Invalid(_("Thank you, but I don't need a photo or a file here."))
        return await state.on_file(ctx, ev.attachment)
    if ev.media is not None:
        raise Invalid(_("I can only read text and buttons, not pictures, voice or files."))
    text = clean_text(ev.text or "")
    if not text:
        raise Invalid(_("I received an empty message. Please type an answer or tap a button."))
    limit = state.max_input or MAX_INPUT
    if len(text) > limit:
        raise Invalid(
            _("That message is too long. Please keep it under {limit} characters.", limit=limit)
        )
    chosen = _typed_buttons(ctx, state, text)
    if len(chosen) == 1:
        return await press(ctx, state, chosen[0][1])
    if chosen:
        return typed.ask_which(ctx, chosen)
    questions.remember_typed(ctx, state, text)  # a ticket's context (issue 13): her words
    entry = _menu_entry(ctx, text)
    if entry is not None:  # "🤝 面试和雇用" typed out, as a notice says: never an answer
        ctx.forget_form()  # she leaves what she was doing, as from the main menu
        return await ctx.goto(entry)
    if state.on_text is None:
        if text.isdecimal():  # a number that no button has
            raise Invalid(_("Please tap one of the buttons (or type its number)."))
        if holds_id_number(text):  # never searched, so never repeated back or kept
            raise Invalid(
                _(
                    "That looks like an ID card number. Please don't put it here: it is "
                    "asked only once, in its own part, and is never kept whole."
                )
            )
        return await questions.answer_typed(ctx, text)  # a question, or a search
    answered = await questions.maybe_question(ctx, state, text)
    if answered is not None:  # a question asked on a step that takes text
        return answered
    return await state.on_text(ctx, text)


def _menu_entry(ctx: Ctx, text: str) -> str | None:
    """The state an entry of her main menu opens, when `text` is that entry's label
    typed out whole (`handlers.menus.entry_named`); None before she is onboarded."""
    from handlers.menus import entry_named
    from handlers.onboarding import onboarded

    return entry_named(ctx, text) if onboarded(ctx) else None


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
        origin = _navigation_origin(ctx, nonce, action) if sep else None
        if origin is not None:
            return await _navigate(ctx, origin, action, arg)
        ctx.user.refused_presses = (ctx.user.refused_presses or 0) + 1
        log.info("refused a button press that was not issued on the current screen")
        here = (nonce_code(ctx.user.screen_nonce), _state_tag(ctx, ctx.user.state))
        if sep and action and nonce not in here:
            raise Invalid(_("That button belongs to an earlier message. Here is where we are now:"))
        raise Invalid(_("I don't recognise that button."))
    handler = state.buttons.get(action) or ctx.flows.actions.get(action)
    handler = handler or typed.ACTIONS.get(action)  # a search result (issued: checked)
    if handler is None:
        raise Invalid(_("I don't recognise that button."))
    return await handler(ctx, arg)


def _typed_buttons(ctx: Ctx, state: State, text: str) -> list[list[str]]:
    """The current screen's buttons (label, data) that typed `text` names: by number,
    or by label (`handlers.typed.pick`). One: she pressed it. Several: she chooses.

    On a screen that takes text (a name, an age) only a whole label counts, and digits
    in a numeric state are her answer, not a button's number: its buttons are lettered
    there (`Reply.letters`), and a typed letter presses one."""
    buttons = ctx.user.screen_buttons or []
    if not buttons:
        return []
    if state.numeric and len(text) == 1 and text.isascii() and text.isalpha():
        n = ord(text.upper()) - ord("A") + 1  # a lettered button (`Reply.letters`)
        return [buttons[n - 1]] if n <= len(buttons) else []
    if text.isdecimal():  # isdigit() also takes ², ፩: int() fails
        if state.numeric:
            return []
        n = int(text)
        return [buttons[n - 1]] if 1 <= n <= len(buttons) else []
    wanted = _plain(text)
    for label, data in buttons:  # the label as it reads: no doubt about it
        if wanted and _plain(label) == wanted:
            return [[label, data]]
    if len(text) > typed.MAX_WORDS:
        return []
    found = typed.pick(text, buttons, loose=state.on_text is None)
    if state.on_text is not None:
        found = found[:1]
    return [buttons[n] for n in found]


def _plain(label: str) -> str:
    """A label as a person would type it: no emoji, arrows, punctuation or spaces."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", label).casefold() if ch.isalnum())


# --- navigation entries from earlier messages -------------------------------------------
def _state_tag(ctx: Ctx, state: str) -> str | None:
    """The nonce of `state`'s navigation entries for this person (None before her row
    exists). Agreeing to the privacy notice changes it: entries shown before then are
    refused after."""
    return state_tag(ctx.user, state)


def state_tag(user: User, state: str) -> str | None:
    """`_state_tag` for a person's row, outside her conversation."""
    if user.created_at is None or user.id is None:
        return None
    agreed = user.consented_at.isoformat() if user.consented_at else "-"
    key = f"{user.id}|{user.key}|{user.created_at.isoformat()}|{agreed}"
    digest = hmac.new(key.encode(), state.encode(), hashlib.sha256).digest()
    return nonce_code(int.from_bytes(digest[:8], "big") % NONCE_SPACE)


def later_entry(user: User, state: str, label: str, action: str) -> Button | None:
    """A navigation entry (`action` must be in `NAVIGATION` and handled in `state`) for
    a message sent to her later through the outbox (a notice of an interview): tagged
    for `state`, so it works from that message as from a screen of that state. None
    before her row exists or she agreed to the privacy notice."""
    if user.consented_at is None:
        return None
    tag = state_tag(user, state)
    return None if tag is None else Button(label, f"{tag}|{action}")


def _handles(ctx: Ctx, state: str, action: str) -> bool:
    spec = ctx.flows.states.get(state)
    return spec is not None and (action in spec.buttons or action in ctx.flows.actions)


def _tag_navigation(ctx: Ctx, replies: Replies) -> None:
    """Give the navigation entries of this screen their state's tag for a nonce."""
    state = ctx.user.state
    stamp = nonce_code(ctx.nonce)
    tag: str | None = None
    for reply in replies:
        for row in reply.buttons:
            for n, button in enumerate(row):
                nonce, _sep, action_arg = button.data.partition("|")
                action = action_arg.partition(":")[0]
                if nonce != stamp or action not in NAVIGATION or not _handles(ctx, state, action):
                    continue
                tag = tag or _state_tag(ctx, state)
                if tag is None:
                    return
                row[n] = Button(button.label, f"{tag}|{action_arg}")


def _navigation_origin(ctx: Ctx, nonce: str, action: str) -> str | None:
    """The state whose navigation entry `<nonce>|<action>` is, if it is one of hers."""
    if action not in NAVIGATION or len(nonce) != NONCE_DIGITS or not nonce.isascii():
        return None
    for state in ctx.flows.states:
        tag = _state_tag(ctx, state) if _handles(ctx, state, action) else None
        if tag is not None and hmac.compare_digest(tag, nonce):
            return state
    return None


async def _navigate(ctx: Ctx, origin: str, action: str, arg: str) -> Replies:
    """A navigation entry tapped on an earlier message: run it as `origin` would, if
    `origin` is still hers to use (a menu only while it is her home menu)."""
    from handlers.menus import MENU_KEYS, home_state

    spec = ctx.flows.states[origin]
    refused = (spec.admin and not ctx.is_admin) or (spec.staff and not is_staff(ctx))
    if refused or (origin in MENU_KEYS and origin != home_state(ctx)):
        ctx.user.refused_presses = (ctx.user.refused_presses or 0) + 1
        raise Invalid(ctx._("I don't recognise that button."))
    handler = spec.buttons.get(action)
    if handler is None:  # an action of every state (language, privacy, main menu)
        return await ctx.flows.actions[action](ctx, arg)
    where, form = ctx.user.state, ctx.user.form
    ctx.forget_form()  # she leaves what she was doing, as from the main menu
    ctx.user.state = origin
    try:
        return await handler(ctx, arg)
    except Invalid:
        ctx.user.state, ctx.user.form = where, form
        ctx.user.refused_presses = (ctx.user.refused_presses or 0) + 1
        raise


async def _not_allowed(ctx: Ctx) -> Replies:
    from handlers.onboarding import CHOOSE_ROLE

    _ = ctx._
    return [ctx.reply(_("That part is for programme staff only.")), *await ctx.goto(CHOOSE_ROLE)]
