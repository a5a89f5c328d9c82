"""Telegram, shared by both frameworks: update → Event, Reply → Bot API calls.

The aiogram and python-telegram-bot adapters (`telegram_aiogram.py`, `telegram_ptb.py`)
only receive updates and perform one raw Bot API call; everything else is here, so the
same bot behaves the same through either framework.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from bot.dispatcher import Dispatcher, Handled
from bot.notifier import Delivery, Notifier
from handlers.events import Contact, Event, Location
from handlers.replies import Reply
from locales import translator
from storage.db import Database
from storage.repositories import Repos

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
MAX_RETRIES = 5
COMMANDS = ("start", "menu", "help", "cancel", "language", "privacy", "delete_me")
MEDIA = ("photo", "voice", "audio", "video", "video_note", "document", "sticker", "animation")


class RetryAfter(Exception):
    """Flood control: Telegram asks to wait `seconds` before calling again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class Blocked(Exception):
    """403 Forbidden: the person blocked the bot (or deleted their account)."""


Call = Callable[[str, dict[str, Any]], Awaitable[Any]]


def user_key(telegram_id: int | str) -> str:
    return f"tg:{telegram_id}"


def to_event(update: dict[str, Any]) -> Event | None:
    """The Haoxin event for a Telegram update (as JSON); None for what we do not handle."""
    update_id = str(update["update_id"])
    if query := update.get("callback_query"):
        sender = query["from"]
        message = query.get("message") or {}
        ref = f"{message['chat']['id']}:{message['message_id']}" if message else None
        return Event(
            user_key(sender["id"]),
            data=query.get("data") or "",
            update_id=update_id,
            lang_hint=sender.get("language_code"),
            message_ref=ref,
        )
    message = update.get("message")
    if not message or message.get("chat", {}).get("type") != "private":
        return None  # groups and channels are not for Haoxin
    sender = message.get("from") or {"id": message["chat"]["id"]}
    common = {"update_id": update_id, "lang_hint": sender.get("language_code")}
    user = user_key(sender["id"])
    if contact := message.get("contact"):
        owner = user_key(contact["user_id"]) if contact.get("user_id") else None
        return Event(user, contact=Contact(contact["phone_number"], owner), **common)
    if location := message.get("location"):
        return Event(user, location=Location(location["latitude"], location["longitude"]), **common)
    if "text" in message:
        return Event(user, text=message["text"], **common)
    media = next((kind for kind in MEDIA if kind in message), "other")
    return Event(user, media=media, **common)


def _markup(reply: Reply) -> dict[str, Any] | None:
    """Inline buttons; or, when a contact or location is asked for, a one-time keyboard
    whose other buttons send their labels (which the core maps back to the buttons)."""
    if reply.request_contact or reply.request_location:
        first = (
            {"text": reply.request_contact, "request_contact": True}
            if reply.request_contact
            else {"text": reply.request_location, "request_location": True}
        )
        rows = [[first]] + [[{"text": b.label} for b in row] for row in reply.buttons]
        return {"keyboard": rows, "one_time_keyboard": True, "resize_keyboard": True}
    if reply.buttons:
        return {
            "inline_keyboard": [
                [{"text": b.label, "callback_data": b.data} for b in row] for row in reply.buttons
            ]
        }
    return None


def api_calls(chat_id: int | str, replies: list[Reply], message_ref: str | None = None) -> list:
    """The Bot API calls that show these replies in the chat, in order."""
    calls: list[tuple[str, dict[str, Any]]] = []
    for reply in replies:
        if reply.pin:
            p = reply.pin
            venue = {"latitude": p.latitude, "longitude": p.longitude, "title": p.title}
            calls.append(("sendVenue", {"chat_id": chat_id, **venue, "address": p.address or " "}))
        params: dict[str, Any] = {"chat_id": chat_id, "text": reply.text}
        markup = _markup(reply)
        if markup is not None:
            params["reply_markup"] = markup
        if reply.replace and message_ref and "keyboard" not in (markup or {}):
            params["message_id"] = int(message_ref.split(":", 1)[1])
            calls.append(("editMessageText", params))
            message_ref = None  # only the first reply replaces the pressed message
        else:
            calls.append(("sendMessage", params))
        if reply.qr:
            calls.append(
                ("sendPhoto", {"chat_id": chat_id, "photo": reply.qr_png(), "caption": reply.qr})
            )
    return calls


class Telegram:
    """The Telegram transport, whatever framework receives updates and calls the API."""

    platforms = ("tg",)

    def __init__(self, dispatcher: Dispatcher, db: Database, call: Call) -> None:
        self.dispatcher = dispatcher
        self.db = db
        self._call = call

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        """One Bot API call; a 429 is waited out and retried, never dropped silently."""
        for attempt in range(MAX_RETRIES + 1):
            try:
                return await self._call(method, params)
            except RetryAfter as flood:
                if attempt == MAX_RETRIES:
                    raise
                log.warning("flood control: waiting %.1f s before %s", flood.seconds, method)
                await asyncio.sleep(flood.seconds)
        raise AssertionError("unreachable")

    async def on_update(self, update: dict[str, Any]) -> None:
        if member := update.get("my_chat_member"):
            blocked = member["new_chat_member"]["status"] in ("kicked", "left")
            await self.set_reachable(user_key(member["from"]["id"]), not blocked)
            return
        event = to_event(update)
        if event is None:
            return
        query_id = (update.get("callback_query") or {}).get("id")

        async def deliver(handled: Handled) -> None:
            if query_id:  # stop the spinner on the person's phone
                await self._quietly("answerCallbackQuery", {"callback_query_id": query_id})
            if not handled.repeat:
                await self.show(event.user, handled.replies, event.message_ref)

        await self.dispatcher.handle(event, deliver)

    async def show(self, user: str, replies: list[Reply], message_ref: str | None = None) -> None:
        """Send the replies to an event. A failure is logged, never raised into the
        framework: the state is already saved, and the person can ask again."""
        try:
            if await self.send(user, replies, message_ref) is Delivery.UNREACHABLE:
                await self.set_reachable(user, False)
        except Exception as exc:
            log.error("replying on Telegram failed: %s", type(exc).__name__)

    async def send(
        self, user: str, replies: list[Reply], message_ref: str | None = None
    ) -> Delivery:
        """Deliver replies; the notifier uses this for messages sent later too."""
        chat_id = int(user.split(":", 1)[1])
        try:
            for method, params in api_calls(chat_id, replies, message_ref):
                await self._edit_or_send(method, params)
        except Blocked:
            return Delivery.UNREACHABLE
        return Delivery.SENT

    async def _edit_or_send(self, method: str, params: dict[str, Any]) -> None:
        if method != "editMessageText":
            await self.call(method, params)
            return
        try:
            await self.call(method, params)
        except (Blocked, RetryAfter):
            raise
        except Exception as exc:  # too old to edit, or "message is not modified"
            if "not modified" in str(exc):
                return
            log.info("editing failed (%s); sending a new message", type(exc).__name__)
            await self.call("sendMessage", {k: v for k, v in params.items() if k != "message_id"})

    async def set_reachable(self, user: str, reachable: bool) -> None:
        async with self.db.sessions() as session, session.begin():
            await Repos(session).users.set_reachable(user, reachable)

    async def setup(self, webhook_url: str | None = None, secret: str = "") -> None:
        """The command menu per language; the webhook set, or removed for polling."""
        for lang, code in (("zh", "zh"), ("en", "en"), ("zh", None)):
            commands = [{"command": c, "description": describe(c, lang)} for c in COMMANDS]
            params: dict[str, Any] = {"commands": commands}
            if code:
                params["language_code"] = code
            await self.call("setMyCommands", params)
        if webhook_url:
            await self.call(
                "setWebhook",
                {"url": webhook_url, "secret_token": secret, "allowed_updates": ALLOWED_UPDATES},
            )
        else:
            await self.call("deleteWebhook", {"drop_pending_updates": False})

    @asynccontextmanager
    async def running(self, webhook_url: str | None, secret: str) -> AsyncIterator[None]:
        """Set up the bot, and deliver the outbox while it runs."""
        await self.setup(webhook_url, secret)
        notifier = asyncio.create_task(Notifier(self.db, self).run_forever())
        try:
            yield
        finally:
            notifier.cancel()
            await asyncio.gather(notifier, return_exceptions=True)

    async def _quietly(self, method: str, params: dict[str, Any]) -> None:
        try:
            await self.call(method, params)
        except Exception as exc:  # an old callback cannot be answered: not worth failing
            log.info("%s failed: %s", method, type(exc).__name__)


def describe(command: str, lang: str) -> str:
    _ = translator(lang)
    return {
        "start": _("Start again"),
        "menu": _("Main menu"),
        "help": _("How to use Haoxin"),
        "cancel": _("Stop filling in a form"),
        "language": _("Change the language"),
        "privacy": _("What we keep about you"),
        "delete_me": _("Delete your data"),
    }[command]
