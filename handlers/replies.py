"""What Haoxin answers, whatever the platform: text, buttons, requests and map pins.

Transports turn these into inline keyboards (Telegram), numbered lists (WeChat, the
terminal) or whatever the platform has. Button data carries short ids, never text, and
always fits Telegram's 64 bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

MAX_TEXT = 4096
MAX_DATA = 64


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str

    def __post_init__(self) -> None:
        if len(self.data.encode()) > MAX_DATA:
            raise ValueError(f"button data over {MAX_DATA} bytes: {self.data!r}")


@dataclass(frozen=True, slots=True)
class Pin:
    """A place on the map (a training base, a fair's venue)."""

    latitude: float
    longitude: float
    title: str
    address: str = ""


@dataclass(slots=True)
class Reply:
    """One message to show.

    `buttons` are rows of buttons. `request_contact` / `request_location` are the labels
    of a one-time keyboard button that shares the person's phone number or location.
    `pin` is a place to show on a map. `replace` asks to edit the message a button was
    pressed on (paging through a list) instead of sending a new one. `qr` is text (a
    link) to show as a QR code image. `photo` is a stored picture to show. `poster`
    asks the transport for the platform's own code for a deep link (WeChat's parameter
    QR code); others ignore it.

    A text longer than a platform allows is never cut: each transport splits it into
    several messages in the platform's own unit (`bot/limits.py`). Flows still aim to
    keep one screen under `MAX_TEXT` characters, which the crawler test checks.
    """

    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    request_contact: str | None = None
    request_location: str | None = None
    pin: Pin | None = None
    replace: bool = False
    qr: str | None = None  # text to show as a QR code image (a deep link), where possible
    #: a deep-link payload (`course_3`) for the platform's own poster code: on WeChat a
    #: permanent parameter QR code (qrcode/create), whose link the transport adds
    poster: str | None = None
    #: a picture to show with the text: the name of a file in the file store
    #: (`storage.files`: a certificate photo, a credential card). Transports that can
    #: show pictures send it (Telegram sendPhoto, WeChat image message); the terminal
    #: prints where it is. Only ever set for someone allowed to see it.
    photo: str | None = None
    #: a document to give with the text (a contract summary, `.docx`): the name of a
    #: file in the file store, and `document_name` the name the reader sees
    #: (`好心家政-合同-20261201.docx`). Telegram sends the file (sendDocument); WeChat,
    #: which cannot, adds a link to it (or where to ask for it); the terminal prints
    #: where it is. Only ever set for someone allowed to read it.
    document: str | None = None
    document_name: str = ""
    #: where a platform lists buttons as text (WeChat, the terminal), letter them (A,
    #: B, C) instead of numbering them: the screen's answer is a number (an age, years
    #: of experience), so a typed number is that answer and a typed letter a button
    letters: bool = False

    def qr_png(self) -> bytes:
        """The QR code as a PNG image (for transports that can send pictures)."""
        import segno

        out = io.BytesIO()
        segno.make(self.qr or "", error="m").save(out, kind="png", scale=8, border=2)
        return out.getvalue()

    def mark(self, n: int) -> str:
        """How the `n`th button (from 1) is listed as text: `3`, or `C` when lettered."""
        return chr(ord("A") + n - 1) if self.letters and 1 <= n <= 26 else str(n)

    def flat_buttons(self) -> list[Button]:
        return [b for row in self.buttons for b in row]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text}
        if self.buttons:
            out["buttons"] = [[[b.label, b.data] for b in row] for row in self.buttons]
        if self.request_contact:
            out["request_contact"] = self.request_contact
        if self.request_location:
            out["request_location"] = self.request_location
        if self.pin:
            p = self.pin
            out["pin"] = [p.latitude, p.longitude, p.title, p.address]
        if self.replace:
            out["replace"] = True
        if self.qr:
            out["qr"] = self.qr
        if self.poster:
            out["poster"] = self.poster
        if self.photo:
            out["photo"] = self.photo
        if self.document:
            out["document"] = self.document
            out["document_name"] = self.document_name
        if self.letters:
            out["letters"] = True
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Reply:
        return cls(
            text=d["text"],
            buttons=[[Button(lbl, data) for lbl, data in row] for row in d.get("buttons", [])],
            request_contact=d.get("request_contact"),
            request_location=d.get("request_location"),
            pin=Pin(*d["pin"]) if d.get("pin") else None,
            replace=d.get("replace", False),
            qr=d.get("qr"),
            poster=d.get("poster"),
            photo=d.get("photo"),
            document=d.get("document"),
            document_name=d.get("document_name", ""),
            letters=d.get("letters", False),
        )
