"""The terminal chat: Haoxin on standard input and output.

Buttons are numbered; the person types a number, a button's label or any text. Where
another platform would show a share button, the terminal says what to type instead:
`/phone 13800138000` shares her number, `/location 21.66 110.93` a place. When
standard input is not a terminal, every line is one input and the chat ends, with exit
status 0, at the end of the input.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from bot.dispatcher import Dispatcher, Handled
from bot.notifier import Delivery, Notifier
from handlers.events import Contact, Event, Location
from handlers.replies import Reply

PHONE_PREFIX = "/phone "
LOCATION_PREFIX = "/location "  # /location 21.66 110.93: latitude and longitude


QR_FOLDER = Path("haoxin-qr")


def save_qr(reply: Reply) -> Path:
    """Write the reply's QR code as a PNG in ./haoxin-qr/ and return its path."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", (reply.qr or "").rsplit("=", 1)[-1]).strip("_")
    QR_FOLDER.mkdir(exist_ok=True)
    path = QR_FOLDER / f"{name or 'qr'}.png"
    path.write_bytes(reply.qr_png())
    return path


def render(reply: Reply) -> str:
    """A reply as terminal text: the message, then its buttons numbered 1, 2, 3..."""
    lines = [reply.text]
    if reply.qr:
        lines.append(f"🖼 QR: {save_qr(reply)}")
    if reply.pin:
        p = reply.pin
        lines.append(f"📍 {p.title} {p.address} ({p.latitude:.5f}, {p.longitude:.5f})")
    n = 0
    for row in reply.buttons:
        cells = []
        for button in row:
            n += 1
            cells.append(f"[{n}] {button.label}")
        lines.append("   ".join(cells))
    # the labels carry their own emoji (📱, 📍); the terminal shows what to type instead
    if reply.request_contact:
        lines.append(f"{reply.request_contact} → {PHONE_PREFIX.strip()} 13800000000")
    if reply.request_location:
        lines.append(f"{reply.request_location} → {LOCATION_PREFIX.strip()} 21.66 110.93")
    return "\n".join(lines)


def to_event(line: str, user: str, lang_hint: str | None) -> Event:
    text = line.rstrip("\r\n")
    if text.startswith(PHONE_PREFIX):
        phone = text[len(PHONE_PREFIX) :].strip()
        return Event(user, contact=Contact(phone, user), lang_hint=lang_hint)
    if text.startswith(LOCATION_PREFIX):
        numbers = re.findall(r"-?\d+(?:\.\d+)?", text[len(LOCATION_PREFIX) :])
        if len(numbers) == 2:
            lat, lon = (float(x) for x in numbers)
            return Event(user, location=Location(lat, lon), lang_hint=lang_hint)
    return Event(user, text=text, lang_hint=lang_hint)


class ConsoleSender:
    """Messages sent later (reminders, notices) to the person at this terminal."""

    platforms = ("console",)

    def __init__(self, stdout: TextIO) -> None:
        self.stdout = stdout

    async def send(self, user: str, replies: list[Reply]) -> Delivery:
        for reply in replies:
            self.stdout.write("🔔 " + render(reply) + "\n\n")
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
        for reply in handled.replies:
            stdout.write(render(reply) + "\n\n")
        stdout.flush()

    notifier = Notifier(dispatcher.db, ConsoleSender(stdout), user=user)
    later = asyncio.create_task(notifier.run_forever())
    try:
        await _converse(dispatcher, user, stdin, stdout, lang_hint, show)
    finally:
        later.cancel()
        await asyncio.gather(later, return_exceptions=True)


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
        stdout.write("Haoxin 好心 — /help, Ctrl-D to quit\n\n")
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
        await dispatcher.handle(to_event(line, user, lang_hint), show)
