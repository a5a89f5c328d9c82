"""What a person did, whatever the platform: the one incoming event the flows see."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# A deep-link payload (`/start PAYLOAD`): Telegram's alphabet, at most 64 characters.
PAYLOAD_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Contact:
    """A phone number the person shared; `user_id` is whose contact card it is."""

    phone: str
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float


#: the largest file a person may send (a certificate photo), bytes: issue 10's limit
MAX_FILE_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Attachment:
    """A photo or file the person sent, fetched by the transport before the event is
    handled (Telegram getFile, WeChat's media API, a path at the terminal).

    `kind`: `photo` (the platform's own photo message) or `document` (a file). `data`:
    its bytes, or None when it was not fetched: larger than `MAX_FILE_BYTES` (`size`
    says how large, as the platform reported or as far as it was read), or the platform
    could not give it (`failed`). `name`: the file name she gave, never trusted (what a
    file is, is read from its content: `storage.files`).

    `table`: a spreadsheet document, already read by the dispatcher before any
    transaction (`bot.dispatcher.read_spreadsheet`: a `storage.tabular.Table`, or the
    `TableError` reading it raised), so that reading a big file never holds anyone
    else's conversation up; None for anything else.
    """

    kind: str
    data: bytes | None
    size: int
    name: str = ""
    failed: bool = False
    table: Any = None

    @property
    def too_big(self) -> bool:
        return self.size > MAX_FILE_BYTES


@dataclass(frozen=True, slots=True)
class Event:
    """One thing a person did: typed text, pressed a button, shared a contact or location,
    sent a photo or a file (`attachment`).

    `user` is the platform and its user id: `tg:123`, `wx:oXYZ`, `console:local`.
    `update_id` identifies the platform update, so a repeat is never handled twice.
    `lang_hint` is the platform's idea of the person's language (`zh-hans`, `en-US`...).
    `message_ref` is the platform's id of the message a button was pressed on (for edits).
    `verified` is False when the platform cannot vouch that the person sent this content
    (a WeChat plaintext request: its signature covers the timestamp and nonce, not the
    body); such an event never acts with staff rights.
    `replayed` is True when the platform, repeating an update, needs the very replies it
    was given the first time (WeChat's passive reply to a retried message): only then
    are the replies stored with the record of the update.
    """

    user: str
    text: str | None = None
    data: str | None = None
    contact: Contact | None = None
    location: Location | None = None
    update_id: str | None = None
    lang_hint: str | None = None
    message_ref: str | None = None
    media: str | None = None  # a voice note, sticker, video... that Haoxin cannot read
    attachment: Attachment | None = None  # a photo or file she sent (see `Attachment`)
    verified: bool = True
    replayed: bool = False

    @property
    def platform(self) -> str:
        return self.user.split(":", 1)[0]

    @property
    def command(self) -> tuple[str, str] | None:
        """`("start", "fair_12")` for `/start fair_12`; None when the text is no command."""
        text = (self.text or "").strip()
        if not text.startswith("/") or len(text) < 2:
            return None
        head, _, rest = text[1:].partition(" ")
        name = head.split("@", 1)[0].lower()
        return name, rest.strip()
