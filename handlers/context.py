"""What a handler gets: the event, the user, a translator and the repositories."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from handlers.replies import Button, Reply

if TYPE_CHECKING:
    from handlers.events import Event
    from handlers.router import Flows, Replies
    from locales import Translator
    from storage.models import User
    from storage.repositories import Repos

NONCE_DIGITS = 5
NONCE_SPACE = 36**NONCE_DIGITS  # about 60 million: a blind guess of a screen's nonce fails


@lru_cache(maxsize=1024)
def nonce_code(nonce: int) -> str:
    """The nonce as five base-36 characters: short enough to leave button data room for
    ids within Telegram's 64 bytes."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    for _ in range(NONCE_DIGITS):
        nonce, d = divmod(nonce, 36)
        out = digits[d] + out
    return out


@dataclass(frozen=True)
class Options:
    """Settings a flow needs: the programme's time zone, when reminders go out, the
    Telegram bot's username for deep links, the programme admins' platform keys (to
    tell staff of a problem report) and the office's phone number."""

    timezone: str = "Asia/Shanghai"
    reminder_time: dt.time = dt.time(18, 0)
    telegram_bot: str = ""
    admins: tuple[str, ...] = ()
    office_phone: str = ""
    #: programme notices a second on each platform (`HAOXIN_BROADCAST_RATE`)
    broadcast_rate: float = 25.0
    #: the help desk's hours, local (`HAOXIN_OFFICE_HOURS`, `handlers.office.parse_hours`)
    office_hours: str = "mon-fri 08:30-17:30"
    #: the emergency line shown when no one is on duty (`HAOXIN_EMERGENCY_PHONE`)
    emergency_phone: str = "110"

    def now(self) -> dt.datetime:
        return dt.datetime.now(ZoneInfo(self.timezone))

    def utc(self, day: dt.date, at: dt.time) -> dt.datetime:
        """A local date and time as naive UTC (how the database keeps times)."""
        local = dt.datetime.combine(day, at, tzinfo=ZoneInfo(self.timezone))
        return local.astimezone(dt.UTC).replace(tzinfo=None)

    def local(self, utc: dt.datetime) -> dt.datetime:
        return utc.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(self.timezone))


@dataclass
class Ctx:
    """One event being handled. Handlers read it top to bottom like the conversation."""

    event: Event
    user: User
    _: Translator
    repos: Repos
    flows: Flows
    is_admin: bool = False
    options: Options = field(default_factory=Options)
    nonce: int = 0
    deleted: bool = False

    # --- building replies -------------------------------------------------------------
    def button(self, label: str, action: str, arg: str | int = "") -> Button:
        """A button that runs `action` (with `arg`, an id) when pressed on this screen."""
        data = f"{nonce_code(self.nonce)}|{action}"
        if arg != "":
            data += f":{arg}"
        return Button(label, data)

    def reply(self, text: str, *rows: list[Button], **extra: Any) -> Reply:
        return Reply(text, buttons=[row for row in rows if row], **extra)

    # --- moving through the conversation ----------------------------------------------
    async def goto(self, state: str) -> Replies:
        """Move to `state` and ask its question. A state that asks for personal data is
        reached through the privacy notice while she has not agreed to it: her answer
        there leads on to `state` (PIPL art. 13-14: consent before personal data is
        collected, after being told what, why and who)."""
        spec = self.flows.states.get(state)
        if spec is not None and spec.personal and self.user.consented_at is None:
            from handlers.onboarding import PRIVACY

            self.remember(after_consent=state)
            state = PRIVACY
        self.user.state = state
        return await self.ask()

    async def ask(self) -> Replies:
        """Ask the current state's question (again)."""
        spec = self.flows.states.get(self.user.state)
        if spec is None or spec.prompt is None:
            from handlers.onboarding import GREETING

            self.user.state = GREETING
            spec = self.flows.states[GREETING]
        assert spec.prompt is not None
        return await spec.prompt(self)

    def today(self) -> dt.date:
        return self.options.now().date()

    def notify(
        self,
        user_key: str,
        replies: list[Reply],
        *,
        at: dt.datetime | None = None,
        topic: str | None = None,
    ) -> None:
        """Send `replies` to a person outside this conversation (a reminder, a notice,
        match news), now or `at` (naive UTC). Saved with this event's changes; a
        notifier delivers it. `topic` lets a later change replace or withdraw it."""
        self.repos.outbox.add(user_key, [r.to_dict() for r in replies], at, topic=topic)

    # --- the form being filled in -----------------------------------------------------
    @property
    def form(self) -> dict[str, Any]:
        return self.user.form or {}

    def remember(self, **values: Any) -> None:
        """Keep answers in the user's form (saved with the state, in one transaction)."""
        self.user.form = {**self.form, **values}

    def forget_form(self) -> None:
        self.user.form = {}


def outside(repos: Repos, user: User, options: Options) -> Ctx:
    """A context for work on a person's behalf outside her conversation (staff changing
    a course, WeChat's unfollow): replies go nowhere, notices go to the outbox."""
    from handlers import FLOWS
    from handlers.events import Event
    from locales import translator

    return Ctx(Event(user.key), user, translator(user.lang), repos, FLOWS, options=options)
