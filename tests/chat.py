"""Play Haoxin as a person would: type text, tap buttons by their label, read replies."""

from __future__ import annotations

import itertools

from bot.dispatcher import Dispatcher, Handled
from handlers.events import MAX_FILE_BYTES, Attachment, Contact, Event, Location
from handlers.replies import Button, Reply

_update_ids = itertools.count(1)


class Chat:
    """One person's chat with the bot. Keeps the last screen to tap its buttons."""

    def __init__(self, dispatcher: Dispatcher, user: str, lang_hint: str | None = None) -> None:
        self.dispatcher = dispatcher
        self.user = user
        self.lang_hint = lang_hint
        self.replies: list[Reply] = []
        self.history: list[Reply] = []
        self.last_event: Event | None = None
        self.last: Handled | None = None

    async def send(self, event: Event) -> list[Reply]:
        self.last_event = event
        self.last = await self.dispatcher.handle(event)
        self.replies = self.last.replies
        self.history += self.replies
        return self.replies

    def _event(self, **kw: object) -> Event:
        """Her next event, as her platform's transport builds it (WeChat's ask for the
        same replies when they repeat an update: `bot.wechat.to_event`)."""
        kw.setdefault("replayed", self.user.startswith("wx:"))
        return Event(self.user, update_id=str(next(_update_ids)), lang_hint=self.lang_hint, **kw)

    async def say(self, text: str) -> list[Reply]:
        return await self.send(self._event(text=text))

    async def press(self, data: str) -> list[Reply]:
        return await self.send(self._event(data=data))

    async def tap(self, label: str) -> list[Reply]:
        """Tap the button on the last screen whose label contains `label`."""
        return await self.press(self.button(label).data)

    async def share_contact(self, phone: str, owner: str | None = None) -> list[Reply]:
        return await self.send(self._event(contact=Contact(phone, owner or self.user)))

    async def share_location(self, lat: float, lon: float) -> list[Reply]:
        return await self.send(self._event(location=Location(lat, lon)))

    async def send_file(
        self, data: bytes, kind: str = "photo", name: str = "", size: int | None = None
    ) -> list[Reply]:
        """Send a photo (`kind="photo"`) or a file (`"document"`), as a transport hands
        it over: the bytes, or none when it is over the limit."""
        size = len(data) if size is None else size
        attachment = Attachment(kind, data if size <= MAX_FILE_BYTES else None, size, name)
        return await self.send(self._event(attachment=attachment))

    async def repeat(self) -> Handled:
        """Send the very same update again (a platform retry)."""
        assert self.last_event is not None
        return await self.dispatcher.handle(self.last_event)

    async def onboard(self, role: str = "I want training or work") -> list[Reply]:
        """Greeting, then the main menu (a job seeker's; another role through "Change
        what I'm here for"), and agreeing to the privacy notice from /privacy, as
        someone who reads it first does (English labels). Ends on the main menu."""
        await self.say("/start")
        await self.tap("Continue")
        if role != "I want training or work":
            await self.tap("Change what I'm here for")
            await self.tap(role)
        await self.say("/privacy")
        return await self.tap("I agree")

    def button(self, label: str) -> Button:
        matches = [b for r in self.replies for b in r.flat_buttons() if label in b.label]
        assert matches, f"no button {label!r} in {self.labels}"
        assert len(matches) == 1, f"{label!r} matches several buttons: {self.labels}"
        return matches[0]

    @property
    def labels(self) -> list[str]:
        return [b.label for r in self.replies for b in r.flat_buttons()]

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)
