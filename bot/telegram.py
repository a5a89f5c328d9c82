"""Telegram, shared by both frameworks: update → Event, Reply → Bot API calls.

The aiogram and python-telegram-bot adapters (`telegram_aiogram.py`, `telegram_ptb.py`)
only receive updates and perform one raw Bot API call; everything else is here, so the
same bot behaves the same through either framework.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.dispatcher import Dispatcher, Handled
from bot.limits import TELEGRAM_CAPTION, TELEGRAM_TEXT, split_text, utf16_units
from bot.logs import log_failure
from bot.notifier import SETTLE_TRIES, Delivery, Notifier
from handlers.events import Contact, Event, Location
from handlers.replies import Reply
from locales import translator
from storage.db import Database
from storage.models import utcnow
from storage.repositories import Repos

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
MAX_RETRIES = 5
WAIT_INLINE = 10.0  # seconds of flood control waited out while she waits for the reply
BEST_EFFORT_WITHIN = 10.0  # seconds a courtesy call (answerCallbackQuery) may take
COMMANDS = ("start", "menu", "help", "cancel", "language", "privacy", "delete_me")
# what a person can send that Haoxin cannot read: answered "I can only read text..."
MEDIA = (
    "photo",
    "voice",
    "audio",
    "video",
    "video_note",
    "document",
    "sticker",
    "animation",
    "poll",
    "dice",
    "story",
    "paid_media",
    "game",
)


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


def _private_sender(chat: Any, sender: Any) -> int | None:
    """The person's id when `chat` is her private chat with the bot and she sent it;
    None for groups, channels, bots and anything not shaped like that."""
    if not isinstance(chat, dict) or not isinstance(sender, dict):
        return None
    if chat.get("type") != "private" or sender.get("is_bot"):
        return None
    person = sender.get("id")
    if not _is_id(person) or chat.get("id") != person:
        return None
    return person


def to_event(update: dict[str, Any]) -> Event | None:
    """The Haoxin event for a Telegram update (as JSON); None for what is not a person's
    own input in her private chat with the bot: groups and channels, other bots, and
    service messages (a pinned message, an auto-delete timer, "allowed to write"...),
    which are status, not something she said, and are dropped without an answer."""
    update_id = str(update["update_id"])
    if query := update.get("callback_query"):
        sender = query.get("from") or {}
        message = query.get("message")
        person = _private_sender((message or {}).get("chat"), sender) if message else None
        if person is None:  # inline-mode or group messages: not Haoxin's screens
            return None
        return Event(
            user_key(person),
            data=query.get("data") or "",
            update_id=update_id,
            lang_hint=sender.get("language_code"),
            message_ref=f"{person}:{message['message_id']}",
        )
    message = update.get("message")
    if not isinstance(message, dict):
        return None
    sender = message.get("from") or {}
    person = _private_sender(message.get("chat"), sender)
    if person is None:
        return None
    common = {"update_id": update_id, "lang_hint": sender.get("language_code")}
    user = user_key(person)
    if contact := message.get("contact"):
        # hers only when the card carries her own user id: a card typed in by hand has
        # none, and someone else's carries theirs (the core refuses both)
        owner = user_key(contact["user_id"]) if _is_id(contact.get("user_id")) else None
        return Event(user, contact=Contact(contact["phone_number"], owner), **common)
    if location := message.get("location"):
        return Event(user, location=Location(location["latitude"], location["longitude"]), **common)
    if "text" in message:
        return Event(user, text=message["text"], **common)
    media = next((kind for kind in MEDIA if kind in message), None)
    if media is None:
        return None  # a service message: nothing she said
    return Event(user, media=media, **common)


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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
    """The Bot API calls that show these replies in the chat, in order. A text over
    4,096 UTF-16 code units becomes several messages (split at line breaks, never cut),
    the buttons under the last; a page that replaces the pressed message edits it with
    the first piece."""
    calls: list[tuple[str, dict[str, Any]]] = []
    for reply in replies:
        if reply.pin:
            p = reply.pin
            venue = {"latitude": p.latitude, "longitude": p.longitude, "title": p.title}
            calls.append(("sendVenue", {"chat_id": chat_id, **venue, "address": p.address or " "}))
        markup = _markup(reply)
        pieces = split_text(reply.text, TELEGRAM_TEXT, utf16_units)
        for n, piece in enumerate(pieces):
            params: dict[str, Any] = {"chat_id": chat_id, "text": piece}
            if markup is not None and n == len(pieces) - 1:
                params["reply_markup"] = markup
            if n == 0 and reply.replace and message_ref and "keyboard" not in (markup or {}):
                params["message_id"] = int(message_ref.split(":", 1)[1])
                calls.append(("editMessageText", params))
                message_ref = None  # only the first reply replaces the pressed message
            else:
                calls.append(("sendMessage", params))
        if reply.qr:
            caption = reply.qr if utf16_units(reply.qr) <= TELEGRAM_CAPTION else ""
            calls.append(
                ("sendPhoto", {"chat_id": chat_id, "photo": reply.qr_png(), "caption": caption})
            )
            if not caption:
                for piece in split_text(reply.qr, TELEGRAM_TEXT, utf16_units):
                    calls.append(("sendMessage", {"chat_id": chat_id, "text": piece}))
    return calls


def update_kind(update: dict[str, Any]) -> str:
    """`message`, `callback_query`... the kind of a checked update."""
    return next(k for k in update if k != "update_id")


def check_update(update: Any) -> dict[str, Any]:
    """A webhook update, checked before any framework parses (and might log) it.

    Returns the update; raises ValueError when it is not a JSON object with an integer
    `update_id` (0 to 2**53, as the Bot API's Integer) or when a message, callback query
    or chat-member update lacks the fields Haoxin and both frameworks rely on. The
    message names the field, never a value.
    """
    if not isinstance(update, dict):
        raise ValueError("not an object")
    update_id = update.get("update_id")
    if not _is_id(update_id) or not 0 <= update_id < 2**53:
        raise ValueError("update_id")
    kinds = [k for k in update if k != "update_id"]
    if len(kinds) != 1:
        raise ValueError("one kind of update expected")
    body = update[kinds[0]]
    if not isinstance(body, dict):
        raise ValueError(kinds[0])
    if kinds[0] == "message":
        _need(body, message_id=int, date=int, chat=dict)
        _need(body["chat"], id=int, type=str)
        if "from" in body:
            _need(body["from"], id=int, is_bot=bool, first_name=str)
        for field, kind in (("text", str), ("contact", dict), ("location", dict)):
            if field in body and not isinstance(body[field], kind):
                raise ValueError(field)
        if "contact" in body:
            _need(body["contact"], phone_number=str, first_name=str)
            if "user_id" in body["contact"]:
                _need(body["contact"], user_id=int)
        if "location" in body:
            _need(body["location"], latitude=(int, float), longitude=(int, float))
    elif kinds[0] == "callback_query":
        _need(body, id=str, chat_instance=str)
        _need(body.get("from"), id=int, is_bot=bool, first_name=str)
        if "data" in body and not isinstance(body["data"], str):
            raise ValueError("data")
        if "message" in body:
            _need(body["message"], message_id=int, date=int, chat=dict)
            _need(body["message"]["chat"], id=int, type=str)
    elif kinds[0] == "my_chat_member":
        _need(body, chat=dict, date=int, old_chat_member=dict, new_chat_member=dict)
        _need(body["chat"], id=int, type=str)
        _need(body.get("from"), id=int, is_bot=bool, first_name=str)
        _need(body["new_chat_member"], status=str, user=dict)
        _need(body["old_chat_member"], status=str, user=dict)
    return update


def _need(obj: Any, **fields: type | tuple[type, ...]) -> None:
    if not isinstance(obj, dict):
        raise ValueError("object expected")
    for name, kind in fields.items():
        value = obj.get(name)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValueError(name)


@dataclass(frozen=True, slots=True)
class Wiring:
    """One framework wired to the core. `parse` turns an update's dict into the
    framework's object (raising on what it cannot take); `feed` processes that object
    and returns once the replies are sent; `started(webhook_url, secret)` sets the bot
    up and delivers the outbox while inside. The webhook, polling and `bench/` use it."""

    telegram: Telegram
    parse: Callable[[dict[str, Any]], Any]
    feed: Callable[[Any], Awaitable[None]]
    started: Callable[[str | None, str], AbstractAsyncContextManager[None]]


class Telegram:
    """The Telegram transport, whatever framework receives updates and calls the API."""

    platforms = ("tg",)

    def __init__(self, dispatcher: Dispatcher, db: Database, call: Call) -> None:
        self.dispatcher = dispatcher
        self.db = db
        self._call = call
        self._background: set[asyncio.Future[None]] = set()

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        """One Bot API call; a short 429 (up to `WAIT_INLINE` seconds) is waited out and
        retried. A longer one is raised: her turn must not be held that long, and
        `send` hands the rest of the replies to the outbox."""
        for attempt in range(MAX_RETRIES + 1):
            try:
                return await self._call(method, params)
            except RetryAfter as flood:
                if attempt == MAX_RETRIES or flood.seconds > WAIT_INLINE:
                    raise
                log.warning("flood control: waiting %.1f s before %s", flood.seconds, method)
                await asyncio.sleep(flood.seconds)
        raise AssertionError("unreachable")

    async def on_update(self, update: dict[str, Any]) -> None:
        """Handle one update. Never raises into the framework (which would log the
        update's contents): a failure is logged by its type only."""
        try:
            await self._on_update(update)
        except Exception as exc:
            log_failure("handling a Telegram update failed", exc)

    async def _on_update(self, update: dict[str, Any]) -> None:
        if member := update.get("my_chat_member"):
            person = _private_sender(member.get("chat"), member.get("from"))
            if person is not None:  # her own private chat: she blocked or restarted the bot
                blocked = member["new_chat_member"]["status"] in ("kicked", "left")
                await self.set_reachable(user_key(person), not blocked)
            return
        event = to_event(update)
        if event is None:
            return
        query_id = (update.get("callback_query") or {}).get("id")

        async def deliver(handled: Handled) -> None:
            if query_id:  # stop the spinner on her phone, without holding up the reply
                self._in_background(
                    self._best_effort("answerCallbackQuery", {"callback_query_id": query_id})
                )
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
        """Deliver replies; the notifier uses this for messages sent later too. When
        flood control asks for a long wait, the replies not yet shown are written to
        the outbox, due when Telegram allows: sent then, in order, never dropped."""
        chat_id = int(user.split(":", 1)[1])
        for n, reply in enumerate(replies):
            calls = api_calls(chat_id, [reply], message_ref)
            try:
                for method, params in calls:
                    await self._edit_or_send(method, params)
            except Blocked:
                return Delivery.UNREACHABLE
            except RetryAfter as flood:
                log.warning("flood control: %.0f s; the rest goes later", flood.seconds)
                await self._send_later(user, replies[n:], flood.seconds)
                return Delivery.SENT
            if any(method == "editMessageText" for method, _ in calls):
                message_ref = None  # only the first page replaces the pressed message
        return Delivery.SENT

    async def _send_later(self, user: str, replies: list[Reply], seconds: float) -> None:
        due = utcnow() + dt.timedelta(seconds=seconds)

        async def queue(session: AsyncSession) -> None:
            Repos(session).outbox.add(user, [r.to_dict() for r in replies], due)

        await self.db.transaction(queue, tries=SETTLE_TRIES)  # never lose the rest of a reply

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
        async def note(session: AsyncSession) -> None:
            await Repos(session).users.set_reachable(user, reachable)

        await self.db.transaction(note)

    async def setup(self, webhook_url: str | None = None, secret: str = "") -> None:
        """The bot's username for deep links (unless HAOXIN_TELEGRAM_BOT names it), the
        command menu per language; the webhook set, or removed for polling."""
        if not self.dispatcher.options.telegram_bot:
            me = await self.call("getMe", {})
            username = me.get("username") if isinstance(me, dict) else getattr(me, "username", "")
            if username:
                self.dispatcher.options = replace(self.dispatcher.options, telegram_bot=username)
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

    async def _best_effort(self, method: str, params: dict[str, Any]) -> None:
        """One try, never waited out: flood control on a courtesy call (public reports
        show `retry_after` of hundreds of seconds) must not delay anything."""
        try:
            await asyncio.wait_for(self._call(method, params), BEST_EFFORT_WITHIN)
        except Exception as exc:  # an old callback cannot be answered: not worth failing
            log.info("%s failed: %s", method, type(exc).__name__)

    def _in_background(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


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
