"""Flows register their states, prompts, button actions and commands on a Router.

A state is what the bot is waiting for (`CHOOSE_ROLE`, `CONFIRM_DELETE`). Each state has a
prompt (how to ask again: after bad input, a stale button, /help or a restart) and the
handlers for what may come: text, a button action, a contact, a location. Button data is
`<nonce>|<action>[:<arg>]`; the nonce ties it to the screen it was shown on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from handlers.context import Ctx
    from handlers.replies import Reply

Replies = list["Reply"]
Prompt = Callable[["Ctx"], Awaitable[Replies]]
Handler = Callable[..., Awaitable[Replies]]


class Invalid(Exception):
    """Raised by a handler for input it cannot take; the message is already translated.

    The conversation answers with the message, then asks the current question again:
    the state and everything entered so far are kept.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class State:
    name: str
    admin: bool = False
    staff: bool = False
    numeric: bool = False
    personal: bool = False
    #: the longest typed text this state takes, in characters (0: `MAX_INPUT`)
    max_input: int = 0
    prompt: Prompt | None = None
    on_text: Handler | None = None
    on_contact: Handler | None = None
    on_location: Handler | None = None
    on_file: Handler | None = None
    buttons: dict[str, Handler] = field(default_factory=dict)


class Router:
    """One flow's states, actions and commands. Collected by `handlers.FLOWS`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.states: dict[str, State] = {}
        self.commands: dict[str, Handler] = {}
        self.actions: dict[str, Handler] = {}
        self.deep_links: dict[str, Handler] = {}
        self.foreign: list[tuple[str, str, Handler]] = []

    def state(
        self,
        name: str,
        *,
        admin: bool = False,
        staff: bool = False,
        numeric: bool = False,
        personal: bool = False,
        max_input: int = 0,
    ) -> str:
        """Declare a state. `admin`: only programme admins may be in it. `staff`: admins
        and training-base staff (`handlers.vetting.is_staff`; what a base's staff see is
        limited to their base by the screen itself). `numeric`: typed digits are
        an answer (an age), not the number of a button. `personal`: it asks for personal
        data, so the privacy notice is asked first if she has not agreed to it yet
        (`Ctx.goto`); everything public (lists, cards, menus) is open before that.
        `max_input`: the longest text it takes, in characters, where that is more than
        the core's `MAX_INPUT` (a programme notice)."""
        self.states[name] = State(
            name,
            admin=admin,
            staff=staff,
            numeric=numeric,
            personal=personal,
            max_input=max_input,
        )
        return name

    def prompt(self, state: str) -> Callable[[Prompt], Prompt]:
        def register(fn: Prompt) -> Prompt:
            self.states[state].prompt = fn
            return fn

        return register

    def text(self, state: str) -> Callable[[Handler], Handler]:
        return self._set(state, "on_text")

    def contact(self, state: str) -> Callable[[Handler], Handler]:
        return self._set(state, "on_contact")

    def location(self, state: str) -> Callable[[Handler], Handler]:
        return self._set(state, "on_location")

    def file(self, state: str) -> Callable[[Handler], Handler]:
        """The state takes a photo or file (`handlers.events.Attachment`)."""
        return self._set(state, "on_file")

    def button(self, state: str, action: str) -> Callable[[Handler], Handler]:
        """A button action accepted while in `state`; the handler gets (ctx, arg).

        `state` may belong to another flow (a course card's "Sign up" opens the sign-up
        flow): it is attached when the flows are collected."""

        def register(fn: Handler) -> Handler:
            if state in self.states:
                self.states[state].buttons[action] = fn
            else:
                self.foreign.append((state, action, fn))
            return fn

        return register

    def goes(self, action: str, target: str, *states: str) -> None:
        """Tapping `action` in any of `states` simply moves to `target` (◀ Back, menus)."""

        async def move(ctx: Ctx, _arg: str) -> Replies:
            return await ctx.goto(target)

        for state in states:
            self.button(state, action)(move)

    def action(self, action: str) -> Callable[[Handler], Handler]:
        """A button action accepted in any state (language, back, privacy)."""

        def register(fn: Handler) -> Handler:
            self.actions[action] = fn
            return fn

        return register

    def command(self, *names: str) -> Callable[[Handler], Handler]:
        """A /command that works from any state; the handler gets (ctx, argument)."""

        def register(fn: Handler) -> Handler:
            for name in names:
                self.commands[name] = fn
            return fn

        return register

    def deep_link(self, prefix: str) -> Callable[[Handler], Handler]:
        """Opens `/start <prefix>_<id>` once the person is onboarded; gets (ctx, id)."""

        def register(fn: Handler) -> Handler:
            self.deep_links[prefix] = fn
            return fn

        return register

    def _set(self, state: str, attr: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            setattr(self.states[state], attr, fn)
            return fn

        return register


class Flows:
    """Every router's registrations merged; names must not clash."""

    def __init__(self, routers: list[Router]) -> None:
        self.states: dict[str, State] = {}
        self.commands: dict[str, Handler] = {}
        self.actions: dict[str, Handler] = {}
        self.deep_links: dict[str, Handler] = {}
        for router in routers:
            for attr in ("states", "commands", "actions", "deep_links"):
                mine: dict[str, Any] = getattr(self, attr)
                theirs: dict[str, Any] = getattr(router, attr)
                clash = mine.keys() & theirs.keys()
                if clash:
                    raise ValueError(f"{router.name}: {attr} defined twice: {sorted(clash)}")
                mine.update(theirs)
        for router in routers:
            for state, action, fn in router.foreign:
                if action in self.states[state].buttons:
                    raise ValueError(f"{router.name}: {state} has the action {action} already")
                self.states[state].buttons[action] = fn
        missing = [s.name for s in self.states.values() if s.prompt is None]
        if missing:
            raise ValueError(f"states without a prompt: {missing}")
