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

from bot.broadcaster import Broadcaster
from bot.dispatcher import Dispatcher, Handled
from bot.limits import TELEGRAM_CAPTION, TELEGRAM_TEXT, split_text, utf16_units
from bot.logs import log_failure
from bot.notifier import SETTLE_TRIES, Delivery, Notifier, SendError
from handlers.events import MAX_FILE_BYTES, Attachment, Contact, Event, Location
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
FETCH_WITHIN = 30.0  # seconds getFile and the download of a photo or file may take
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
#: fetches a file by the `file_path` getFile gave, reading at most `limit` bytes (the
#: rest is never read); raises on any failure. Each framework supplies its own.
Download = Callable[[str, int], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class FileRef:
    """A photo or file in a message, before it is fetched: `kind` (`photo` or
    `document`), Telegram's `file_id`, the size Telegram reported (0 when it did not)
    and the name she gave it (documents only)."""

    kind: str
    file_id: str
    size: int
    name: str = ""


def file_of(message: dict[str, Any]) -> FileRef | None:
    """The photo (its largest size) or document in a message; None when it has none."""
    if isinstance(photo := message.get("photo"), list):
        sizes = [p for p in photo if isinstance(p, dict) and isinstance(p.get("file_id"), str)]
        if sizes:
            best = max(
                sizes,
                key=lambda p: (
                    _int(p.get("width")) * _int(p.get("height")),
                    _int(p.get("file_size")),
                ),
            )
            return FileRef("photo", best["file_id"], _int(best.get("file_size")))
    document = message.get("document")
    if isinstance(document, dict) and isinstance(document.get("file_id"), str):
        name = document.get("file_name")
        name = name[:255] if isinstance(name, str) else ""
        return FileRef("document", document["file_id"], _int(document.get("file_size")), name)
    return None


def _int(value: Any) -> int:
    return value if _is_id(value) and value > 0 else 0


def unfetched(ref: FileRef) -> Attachment:
    """The attachment as far as the message tells: over the size limit (never
    fetched), or not fetched (`failed`) until `Telegram.fetch` gets its bytes."""
    if ref.size > MAX_FILE_BYTES:
        return Attachment(ref.kind, None, ref.size, ref.name)
    return Attachment(ref.kind, None, ref.size, ref.name, failed=True)


async def read_capped(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """The chunks joined, but no more than `limit` bytes: the rest is never read (the
    stream is closed)."""
    out = bytearray()
    try:
        async for chunk in chunks:
            out += chunk[: limit - len(out)]
            if len(out) >= limit:
                break
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()
    return bytes(out)


async def download_capped(url: str, limit: int) -> bytes:
    """GET `url`, reading at most `limit` bytes. Raises aiohttp's errors (an HTTP error
    status too), whose text may hold the URL: log their type only."""
    import aiohttp

    within = aiohttp.ClientTimeout(total=FETCH_WITHIN)
    async with aiohttp.ClientSession(timeout=within) as http, http.get(url) as response:
        response.raise_for_status()
        return await read_capped(response.content.iter_chunked(65536), limit)


class Named(bytes):
    """A file's bytes with the name the reader sees (a document's: `合同.docx`), for
    uploading: `upload_name` gives it."""

    filename: str

    def __new__(cls, data: bytes, filename: str) -> Named:
        named = super().__new__(cls, data)
        named.filename = filename
        return named


def upload_name(field: str, data: bytes) -> str:
    """A file name for uploading `data` (multipart): a document's own (`Named`), else
    its field and `.jpg` or `.png`."""
    if isinstance(data, Named) and data.filename:
        return data.filename
    return f"{field}.jpg" if data.startswith(b"\xff\xd8") else f"{field}.png"


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
    which are status, not something she said, and are dropped without an answer.

    A photo or document becomes an `Attachment` without its bytes (`unfetched`): over
    `MAX_FILE_BYTES` by the reported size, else `failed` until `Telegram` fetches it."""
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
    if (ref := file_of(message)) is not None:  # its bytes are fetched by `Telegram.fetch`
        return Event(user, attachment=unfetched(ref), **common)
    media = next((kind for kind in MEDIA if kind in message), None)
    if media is None:
        return None  # a service message: nothing she said
    return Event(user, media=media, **common)


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _field(result: Any, name: str) -> Any:
    """A field of an API result: a dict (python-telegram-bot) or a model (aiogram)."""
    return result.get(name) if isinstance(result, dict) else getattr(result, name, None)


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


def api_calls(
    chat_id: int | str,
    replies: list[Reply],
    message_ref: str | None = None,
    picture: Callable[[str], bytes | None] | None = None,
) -> list:
    """The Bot API calls that show these replies in the chat, in order. A text over
    4,096 UTF-16 code units becomes several messages (split at line breaks, never cut),
    the buttons under the last; a page that replaces the pressed message edits it with
    the first piece.

    A reply's `photo` is sent with sendPhoto (the bytes `picture(name)` gives, uploaded):
    with the text as its caption, and the buttons under it, when the text fits a caption
    (1,024 UTF-16 code units); else the photo first, then the text as above. Without
    `picture`, or when it gives None (the file is gone), the text goes alone. A reply's
    `document` goes the same way with sendDocument (uploaded under `document_name`),
    after the photo when a reply has both."""
    calls: list[tuple[str, dict[str, Any]]] = []
    for reply in replies:
        if reply.pin:
            p = reply.pin
            venue = {"latitude": p.latitude, "longitude": p.longitude, "title": p.title}
            calls.append(("sendVenue", {"chat_id": chat_id, **venue, "address": p.address or " "}))
        markup = _markup(reply)
        photo = picture(reply.photo) if reply.photo and picture is not None else None
        raw = picture(reply.document) if reply.document and picture is not None else None
        document = Named(raw, reply.document_name or "document.docx") if raw else None
        captioned = utf16_units(reply.text) <= TELEGRAM_CAPTION
        first = ("photo", photo) if photo is not None else ("document", document)
        if first[1] is not None:
            method = "sendPhoto" if first[0] == "photo" else "sendDocument"
            params: dict[str, Any] = {"chat_id": chat_id, first[0]: first[1]}
            if captioned and reply.text:
                params["caption"] = reply.text
            if captioned and markup is not None:
                params["reply_markup"] = markup
            calls.append((method, params))
        if first[1] is None or not captioned:
            message_ref = _text_calls(calls, chat_id, reply, markup, message_ref)
        if photo is not None and document is not None:
            calls.append(("sendDocument", {"chat_id": chat_id, "document": document}))
        if reply.qr:
            caption = reply.qr if utf16_units(reply.qr) <= TELEGRAM_CAPTION else ""
            calls.append(
                ("sendPhoto", {"chat_id": chat_id, "photo": reply.qr_png(), "caption": caption})
            )
            if not caption:
                for piece in split_text(reply.qr, TELEGRAM_TEXT, utf16_units):
                    calls.append(("sendMessage", {"chat_id": chat_id, "text": piece}))
    return calls


def _text_calls(
    calls: list[tuple[str, dict[str, Any]]],
    chat_id: int | str,
    reply: Reply,
    markup: dict[str, Any] | None,
    message_ref: str | None,
) -> str | None:
    """Append the calls that show the reply's text; returns the message a later reply
    may still replace (None once one did)."""
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
    return message_ref


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
        _check_files(body)
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


def _check_files(message: dict[str, Any]) -> None:
    """A message's photo (a list of sizes) and document, as Haoxin and both frameworks
    read them; raises ValueError naming the field."""
    if "photo" in message:
        sizes = message["photo"]
        if not isinstance(sizes, list) or not sizes:
            raise ValueError("photo")
        for size in sizes:
            _need(size, file_id=str, file_unique_id=str, width=int, height=int)
            if "file_size" in size:
                _need(size, file_size=int)
    if "document" in message:
        _need(message["document"], file_id=str, file_unique_id=str)
        for field, kind in (("file_name", str), ("mime_type", str), ("file_size", int)):
            if field in message["document"]:
                _need(message["document"], **{field: kind})


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

    def __init__(
        self, dispatcher: Dispatcher, db: Database, call: Call, download: Download | None = None
    ) -> None:
        """`call` performs one Bot API call; `download` fetches a file by its `file_path`
        (without it, photos and files she sends arrive as not fetched)."""
        self.dispatcher = dispatcher
        self.db = db
        self._call = call
        self._download = download
        self._background: set[asyncio.Future[None]] = set()
        self._turns: dict[str, tuple[asyncio.Lock, int]] = {}

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
        user = event.user

        async def deliver(handled: Handled) -> None:
            if query_id:  # stop the spinner on her phone, without holding up the reply
                self._in_background(
                    self._best_effort("answerCallbackQuery", {"callback_query_id": query_id})
                )
            if not handled.repeat:
                await self.show(user, handled.replies, event.message_ref)

        # her updates reach the core in the order they came, though a photo is fetched
        # first (the dispatcher keeps that order from there on)
        async with self._turn(user):
            attachment = event.attachment
            if attachment is not None and attachment.failed:
                ref = file_of(update["message"])
                assert ref is not None
                event = replace(event, attachment=await self.fetch(ref))
            await self.dispatcher.handle(event, deliver)

    async def fetch(self, ref: FileRef) -> Attachment:
        """The photo or file's bytes: getFile, then a download of at most
        `MAX_FILE_BYTES` + 1 bytes. Over the limit (as reported, or as read: a size
        Telegram did not report or that was wrong) it comes without bytes; a failure
        (an error, `FETCH_WITHIN` seconds passed) comes `failed`. Never raises."""
        if ref.size > MAX_FILE_BYTES:
            return unfetched(ref)
        if self._download is None:
            log.warning("no way to download files: a photo or file arrives unfetched")
            return unfetched(ref)
        try:
            async with asyncio.timeout(FETCH_WITHIN):
                info = await self.call("getFile", {"file_id": ref.file_id})
                path, size = _field(info, "file_path"), _int(_field(info, "file_size"))
                if size > MAX_FILE_BYTES:
                    return Attachment(ref.kind, None, size, ref.name)
                if not isinstance(path, str) or not path:
                    raise ValueError("getFile gave no file_path")
                data = await self._download(path, MAX_FILE_BYTES + 1)
        except Exception as exc:  # its text may hold the URL, with the bot's token
            log.warning("fetching a file from Telegram failed: %s", type(exc).__name__)
            return unfetched(ref)
        if len(data) > MAX_FILE_BYTES:
            return Attachment(ref.kind, None, len(data), ref.name)
        return Attachment(ref.kind, data, len(data), ref.name)

    @asynccontextmanager
    async def _turn(self, user: str) -> AsyncIterator[None]:
        lock, waiting = self._turns.get(user) or (asyncio.Lock(), 0)
        self._turns[user] = (lock, waiting + 1)
        try:
            async with lock:
                yield
        finally:
            lock, waiting = self._turns[user]
            if waiting <= 1:
                del self._turns[user]
            else:
                self._turns[user] = (lock, waiting - 1)

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
            calls = api_calls(chat_id, [reply], message_ref, self._picture)
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

    async def send_notice(self, user: str, replies: list[Reply]) -> Delivery:
        """Deliver a broadcast's message (`bot.broadcaster`): each call made once, with
        flood control raised as `SendError(429, retry_after=seconds)`, never waited out
        here nor deferred to the outbox: the broadcaster stops every send until then
        and sends this one again. A person who blocked the bot is `UNREACHABLE`."""
        chat_id = int(user.split(":", 1)[1])
        try:
            for method, params in api_calls(chat_id, replies, None, self._picture):
                await self._call(method, params)
        except Blocked:
            return Delivery.UNREACHABLE
        except RetryAfter as flood:
            raise SendError(429, retry_after=float(flood.seconds)) from None
        return Delivery.SENT

    def _picture(self, name: str) -> bytes | None:
        """A stored picture's (or document's) bytes; None (logged, without the name)
        when it is gone."""
        try:
            return self.dispatcher.files.read(name)
        except (KeyError, OSError) as exc:
            log.warning(
                "a picture or document to send is missing (%s): the text goes alone",
                type(exc).__name__,
            )
            return None

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
        """Set up the bot, and deliver the outbox and broadcasts while it runs."""
        await self.setup(webhook_url, secret)
        notifier = asyncio.create_task(Notifier(self.db, self).run_forever())
        rate = self.dispatcher.settings.broadcast_rate
        options = self.dispatcher.settings.options()
        sending = Broadcaster(self.db, self, rate=rate, options=options)
        broadcaster = asyncio.create_task(sending.run_forever())
        try:
            yield
        finally:
            notifier.cancel()
            broadcaster.cancel()
            await asyncio.gather(notifier, broadcaster, return_exceptions=True)

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
