"""The terminal chat: Haoxin on standard input and output.

Buttons are numbered; the person types a number, a button's label or any text. Where
another platform would show a share button, the terminal says what to type instead:
`/phone 13800138000` shares her number, `/location 21.66 110.93` a place. `/photo PATH`
sends a picture from a file, `/file PATH` any file (as a photo or a document sent on
Telegram); a picture Haoxin shows is printed as `[picture: /its/path]`, a document as
`[document: /its/path (its name)]`. When standard
input is not a terminal, every line is one input and the chat ends, with exit status 0,
at the end of the input.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from bot.broadcaster import Broadcaster
from bot.dispatcher import Dispatcher, Handled
from bot.notifier import Delivery, Notifier
from handlers.events import MAX_FILE_BYTES, Attachment, Contact, Event, Location
from handlers.replies import Reply
from storage.files import FileStore

log = logging.getLogger(__name__)

PHONE_PREFIX = "/phone "
LOCATION_PREFIX = "/location "  # /location 21.66 110.93: latitude and longitude
#: `/photo PATH` sends a picture, `/file PATH` a file: the kind of attachment each makes
FILE_COMMANDS = {"/photo": "photo", "/file": "document"}
HELP = "Haoxin 好心 — /help, /photo PATH or /file PATH to send a picture or a file, Ctrl-D to quit"


class NoFile(ValueError):
    """`/photo PATH` or `/file PATH` named nothing that can be read; the message says
    what, in one line."""


QR_FOLDER = Path("haoxin-qr")


def save_qr(reply: Reply) -> Path:
    """Write the reply's QR code as a PNG in ./haoxin-qr/ and return its path."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", (reply.qr or "").rsplit("=", 1)[-1]).strip("_")
    QR_FOLDER.mkdir(exist_ok=True)
    path = QR_FOLDER / f"{name or 'qr'}.png"
    path.write_bytes(reply.qr_png())
    return path


def render(reply: Reply, files: FileStore | None = None, first: int = 1) -> str:
    """A reply as terminal text: the message, then its buttons numbered from `first`
    (1, 2, 3...: the numbers go on across the replies of one answer, as a typed number
    presses that button of the whole screen).
    A stored picture (`Reply.photo`, found in `files`) is a line with its path, and so
    is a stored document (`Reply.document`), with the name the reader would see."""
    lines = [reply.text]
    if reply.photo and files is not None:
        try:
            picture = files.path(reply.photo)
            if not picture.is_file():
                raise FileNotFoundError(reply.photo)
        except (KeyError, OSError) as exc:
            log.warning("a picture to show is missing (%s)", type(exc).__name__)
        else:
            lines.append(f"[picture: {picture.absolute()}]")
    if reply.document and files is not None:
        try:
            document = files.path(reply.document)
            if not document.is_file():
                raise FileNotFoundError(reply.document)
        except (KeyError, OSError) as exc:
            log.warning("a document to show is missing (%s)", type(exc).__name__)
        else:
            lines.append(f"[document: {document.absolute()} ({reply.document_name})]")
    if reply.qr:
        lines.append(f"🖼 QR: {save_qr(reply)}")
    if reply.pin:
        p = reply.pin
        lines.append(f"📍 {p.title} {p.address} ({p.latitude:.5f}, {p.longitude:.5f})")
    n = first - 1
    for row in reply.buttons:
        cells = []
        for button in row:
            n += 1
            cells.append(f"[{reply.mark(n)}] {button.label}")
        lines.append("   ".join(cells))
    # the labels carry their own emoji (📱, 📍); the terminal shows what to type instead
    if reply.request_contact:
        lines.append(f"{reply.request_contact} → {PHONE_PREFIX.strip()} 13800000000")
    if reply.request_location:
        lines.append(f"{reply.request_location} → {LOCATION_PREFIX.strip()} 21.66 110.93")
    return "\n".join(lines)


def to_event(line: str, user: str, lang_hint: str | None) -> Event:
    """The event for one typed line. Raises `NoFile` when `/photo PATH` or `/file PATH`
    names no readable file."""
    text = line.rstrip("\r\n")
    command, _, rest = text.strip().partition(" ")
    if command in FILE_COMMANDS:
        where = rest.strip().strip("\"'")
        if not where:
            raise NoFile(f"which file? {command} PATH")
        attachment = read_attachment(Path(where).expanduser(), FILE_COMMANDS[command])
        return Event(user, attachment=attachment, lang_hint=lang_hint)
    if text.startswith(PHONE_PREFIX):
        phone = text[len(PHONE_PREFIX) :].strip()
        return Event(user, contact=Contact(phone, user), lang_hint=lang_hint)
    if text.startswith(LOCATION_PREFIX):
        numbers = re.findall(r"-?\d+(?:\.\d+)?", text[len(LOCATION_PREFIX) :])
        if len(numbers) == 2:
            lat, lon = (float(x) for x in numbers)
            return Event(user, location=Location(lat, lon), lang_hint=lang_hint)
    return Event(user, text=text, lang_hint=lang_hint)


def read_attachment(path: Path, kind: str) -> Attachment:
    """A local file as an attachment of `kind` (`photo` or `document`): no more than
    `MAX_FILE_BYTES` + 1 bytes are read; a larger file comes without its bytes, as on
    the other platforms. Raises `NoFile` for a path that is missing or not a regular
    file (a folder, a device, a pipe), or that cannot be read."""
    if not path.exists():
        raise NoFile(f"no such file: {path}")
    if not path.is_file():
        raise NoFile(f"not a file: {path}")
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
            size = os.fstat(f.fileno()).st_size
    except OSError as exc:
        raise NoFile(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    if len(data) > MAX_FILE_BYTES:
        return Attachment(kind, None, max(len(data), size), path.name)
    return Attachment(kind, data, len(data), path.name)


class ConsoleSender:
    """Messages sent later (reminders, notices) to the person at this terminal."""

    platforms = ("console",)

    def __init__(self, stdout: TextIO, files: FileStore | None = None) -> None:
        self.stdout = stdout
        self.files = files

    async def send(self, user: str, replies: list[Reply]) -> Delivery:
        for reply in replies:
            self.stdout.write("🔔 " + render(reply, self.files) + "\n\n")
        self.stdout.flush()
        return Delivery.SENT


async def chat(
    dispatcher: Dispatcher,
    user: str,
    *,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    lang_hint: str | None = None,
) -> None:
    """Run the chat until the input ends (or Ctrl-D / Ctrl-C at a terminal)."""
    lang_hint = lang_hint or os.environ.get("LANG", "").split(".")[0] or None

    async def show(handled: Handled) -> None:
        first = 1
        for reply in handled.replies:
            stdout.write(render(reply, dispatcher.files, first) + "\n\n")
            first += len(reply.flat_buttons())
        stdout.flush()

    sender = ConsoleSender(stdout, dispatcher.files)
    notifier = Notifier(dispatcher.db, sender, user=user)
    later = asyncio.create_task(notifier.run_forever())
    rate = dispatcher.settings.broadcast_rate
    notices = asyncio.create_task(
        Broadcaster(
            dispatcher.db, sender, rate=rate, user=user, options=dispatcher.settings.options()
        ).run_forever()
    )
    try:
        await _converse(dispatcher, user, stdin, stdout, lang_hint, show)
    finally:
        later.cancel()
        notices.cancel()
        await asyncio.gather(later, notices, return_exceptions=True)


async def _converse(
    dispatcher: Dispatcher,
    user: str,
    stdin: TextIO,
    stdout: TextIO,
    lang_hint: str | None,
    show: Callable[[Handled], Awaitable[None]],
) -> None:
    interactive = stdin.isatty()
    if interactive:
        stdout.write(HELP + "\n\n")
        await dispatcher.handle(Event(user, text="/start", lang_hint=lang_hint), show)
    loop = asyncio.get_running_loop()
    while True:
        if interactive:
            stdout.write("> ")
            stdout.flush()
        line = await loop.run_in_executor(None, stdin.readline)
        if not line:
            break
        if not interactive:
            stdout.write(f"> {line.rstrip()}\n")
        try:
            event = to_event(line, user, lang_hint)
        except NoFile as missing:
            stdout.write(f"{missing}\n\n")
            stdout.flush()
            continue
        await dispatcher.handle(event, show)
