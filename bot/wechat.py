"""WeChat Official Account: the callback server and sending later.

    GET  ?signature&timestamp&nonce&echostr      → echostr, when the signature is right
    POST ?signature&timestamp&nonce[&encrypt_type=aes&msg_signature]  XML in, XML out

Every request must be authentic, fresh and seen once:
- The message mode comes from configuration (`HAOXIN_WECHAT_MODE`), never from the
  request. In safe mode only an encrypted body (checked by `msg_signature`, which covers
  the ciphertext) is accepted. In plain mode, and for a plaintext request in compatible
  mode, the signature covers only the token, timestamp and nonce, not the body: such an
  event is marked unverified and never acts with staff rights.
- A timestamp more than `FRESH_FOR` seconds from now, either way, is refused.
- Each (timestamp, nonce) pair is accepted once, in the database, so across instances:
  seen again with the same body it is WeChat retrying (the dispatcher answers from the
  stored replies); with another body, or after the GET server verification used it,
  it is a replay and is refused.
- Unfollowing erases the person's data only on an authentic, fresh, first-seen request.

Text replies have no buttons on WeChat, so buttons become a numbered list; the core takes
a typed number or label as the button. A reply over WeChat's 2,048 UTF-8 bytes is split
at line breaks: the first piece is the passive reply, the rest go through the outbox
(customer-service API). The passive reply must come within 5 seconds: if handling takes
longer, WeChat gets an empty answer and every piece follows through the outbox.

A picture she sends (MsgType `image`) is fetched from the media API (`media/get`, by
its MediaId) before it is handled, within the same 5 seconds: a slow download lets the
reply follow through the outbox. A picture Haoxin shows (`Reply.photo`) is uploaded
(`media/upload`) and sent as an image message through the outbox, after the text: the
passive reply is always text.

A document (`Reply.document`, a contract summary) cannot travel as a customer-service
message: with `HAOXIN_PUBLIC_URL` set, the text gets a link to it,
`<public_url>/files/<token>`, served by this server for `DOCUMENT_DAYS` days; the token
is the file's name, the link's expiry and an HMAC of both (keyed from the file store's
secret), so a link cannot be made, altered or prolonged by anyone else. Without a public
URL, the text says to ask the programme office for the file.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

import aiohttp
from aiohttp import web
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App, warm_up
from bot.broadcaster import Broadcaster
from bot.dispatcher import Dispatcher, Handled
from bot.limits import WECHAT_TEXT, split_text, utf8_bytes
from bot.logs import log_failure
from bot.notifier import Delivery, Notifier, SendError
from bot.telegram import read_capped
from bot.wechat_crypto import CryptoError, WeChatCrypto, signature, signature_ok
from handlers.events import MAX_FILE_BYTES, Attachment, Event, Location
from handlers.replies import Reply
from locales import DEFAULT, Translator, translator
from storage.files import DOCUMENT_EXTENSIONS, FileRepo, FileStore, for_staff_only
from storage.repositories import Repos

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
REPLY_WITHIN = 4.5  # WeChat waits 5 s for a passive reply
FRESH_FOR = 300  # seconds a signed request's timestamp may be from now, either way
UNREACHABLE = {43004, 40003}  # not following / unknown openid
OUTSIDE_WINDOW = 45015  # no message from her in 48 hours: none may be sent until she writes
TOKEN_EXPIRED = {40001, 40014, 42001}
SHOW_QR = "https://mp.weixin.qq.com/cgi-bin/showqrcode"  # a code's picture, by its ticket
# one call to api.weixin.qq.com, at most: far inside the outbox's 5-minute lease, which
# is renewed before each message, so a message is never still being sent when it ends
# (aiohttp's default is 300 s, the lease itself)
API_TIMEOUT = aiohttp.ClientTimeout(total=30)
MEDIA_WITHIN = 20.0  # seconds fetching a picture she sent may take (the reply then goes later)
DOCUMENT_DAYS = 7  # days a link to a document works


class BadRequest(Exception):
    pass


def render(replies: list[Reply]) -> str:
    """All replies as one text; buttons numbered in order across the replies. A reply
    that is only a picture (no text, no buttons) adds no text."""
    parts, n = [], 0
    for reply in replies:
        lines = [reply.text]
        if reply.pin:
            lines.append(f"📍 {reply.pin.title} {reply.pin.address}".rstrip())
        for button in reply.flat_buttons():
            n += 1
            lines.append(f"{reply.mark(n)}. {button.label}")
        # WeChat has no contact or location buttons: the prompts say to type the number,
        # or to send a location message (＋ → Location)
        if reply.photo and lines == [""]:
            continue
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def pieces(replies: list[Reply]) -> list[str]:
    """The replies as WeChat text messages, each at most 2,048 UTF-8 bytes; none when
    they are only pictures."""
    if all(r.photo and not r.text and not r.buttons and not r.pin for r in replies) and replies:
        return []
    return split_text(render(replies), WECHAT_TEXT, utf8_bytes)


def pictures(replies: list[Reply]) -> list[str]:
    """The stored pictures the replies show (`Reply.photo`), in order."""
    return [r.photo for r in replies if r.photo]


class LinkExpired(Exception):
    """A document link whose signature is right, but whose time is over."""


def _link_key(store: FileStore) -> bytes:
    """The key that signs document links: derived from the file store's secret (never
    the secret itself, which keys ID-number hashes)."""
    secret = store.id_hash_key().encode()
    return hmac.new(secret, b"haoxin document links v1", hashlib.sha256).digest()


def _link_mac(store: FileStore, name: str, expires: int) -> str:
    signed = f"{name}\n{expires}".encode()
    return hmac.new(_link_key(store), signed, hashlib.sha256).hexdigest()[:32]


def document_link(public_url: str, store: FileStore, name: str, now: float | None = None) -> str:
    """A link to the stored document `name` (`<32 hex>.docx`, `.xlsx` or `.csv`),
    working `DOCUMENT_DAYS` days from `now` (seconds since the epoch):
    `<public_url>/files/<stem>.<expiry>.<mac>` for a Word document (the form links have
    always had, so those sent before keep working), `<stem>.<extension>.<expiry>.<mac>`
    for the others. Raises KeyError for a name that is not a stored document's."""
    stem, _dot, extension = name.rpartition(".")
    if extension not in DOCUMENT_EXTENSIONS:
        raise KeyError("not a stored document's name")
    store.path(name)  # KeyError for anything but a stored file's name
    expires = int(time.time() if now is None else now) + DOCUMENT_DAYS * 86400
    named = stem if extension == "docx" else f"{stem}.{extension}"
    return f"{public_url.rstrip('/')}/files/{named}.{expires}.{_link_mac(store, name, expires)}"


def document_of(store: FileStore, token: str, now: float | None = None) -> str:
    """The stored document's name a link's token names (`document_link`). Raises
    LookupError when the token is malformed, forged or altered (another file, another
    extension, a later expiry), or names anything but a document; `LinkExpired` when
    its time is over."""
    parts = token.split(".")
    if len(parts) == 3:  # a Word document's link
        stem, expiry, mac = parts
        extension = "docx"
    elif len(parts) == 4:
        stem, extension, expiry, mac = parts
    else:
        raise LookupError("not a link")
    if extension not in DOCUMENT_EXTENSIONS:  # a photo, a card: never through a link
        raise LookupError("not a link")
    if not (expiry.isascii() and expiry.isdigit() and len(expiry) <= 12):
        raise LookupError("not a link")
    if len(mac) != 32 or not set(mac) <= set("0123456789abcdef"):
        raise LookupError("not a link")
    name = f"{stem}.{extension}"
    store.path(name)  # KeyError (a LookupError) for anything but a stored file's name
    if not hmac.compare_digest(_link_mac(store, name, int(expiry)), mac):
        raise LookupError("not a link")
    if int(expiry) < (time.time() if now is None else now):
        raise LinkExpired(name)
    return name


def parse(xml: bytes | str) -> dict[str, str]:
    """A WeChat XML message as a dict; DOCTYPE and entities are refused."""
    try:
        root = ElementTree.fromstring(xml, forbid_dtd=True)
    except (DefusedXmlException, ElementTree.ParseError, ValueError) as exc:
        raise BadRequest(type(exc).__name__) from exc
    return {child.tag: (child.text or "") for child in root}


def _update_id(msg: dict[str, str]) -> str:
    """What identifies this message among the person's: MsgId (a 64-bit number, unique
    within the account only, so the record of handled updates is keyed by the person
    too), or for events, which have none, the time, the event and its key."""
    if "MsgId" in msg:
        msg_id = msg["MsgId"].strip()
        if not (msg_id.isascii() and msg_id.isdigit() and len(msg_id) <= 20):
            raise BadRequest("MsgId")
        return msg_id
    key = f"{msg.get('CreateTime', '')}:{msg.get('Event', '')}:{msg.get('EventKey', '')}"
    return key if len(key) <= 64 else "h:" + hashlib.sha256(key.encode()).hexdigest()[:40]


def to_event(msg: dict[str, str], verified: bool = True) -> Event | None:
    """The Haoxin event for a WeChat message; None for what needs no answer.
    `verified`: whether the signature covered the body (see the module's docstring).
    A picture becomes an `Attachment` not yet fetched (`failed`, until `WeChat.fetch`
    gets its bytes); other media (voice, video, a link...) stay `media`."""
    openid = msg.get("FromUserName", "")
    if not openid or len(openid) > 64:
        raise BadRequest("no sender")
    user = f"wx:{openid}"
    kind = msg.get("MsgType", "")
    common: dict[str, Any] = {"update_id": _update_id(msg), "verified": verified, "replayed": True}
    if kind == "text":
        return Event(user, text=msg.get("Content", ""), **common)
    if kind == "location":
        lat, lon = float(msg.get("Location_X", 0)), float(msg.get("Location_Y", 0))
        return Event(user, location=Location(lat, lon), **common)
    if kind == "voice" and msg.get("Recognition"):  # WeChat's own speech-to-text
        return Event(user, text=msg["Recognition"], **common)
    if kind == "image":  # its bytes are fetched by `WeChat.fetch` (media/get)
        return Event(user, attachment=Attachment("photo", None, 0, failed=True), **common)
    if kind == "event":
        name = msg.get("Event", "").lower()
        key = msg.get("EventKey", "")
        if name == "subscribe":  # following, maybe by a parameter QR code (qrscene_...)
            return Event(user, text=f"/start {key.removeprefix('qrscene_')}".strip(), **common)
        if name == "scan":
            return Event(user, text=f"/start {key}".strip(), **common)
        if name == "click":  # the account's menu: its keys are commands (/menu, /help)
            return Event(user, text=key, **common)
        return None
    return Event(user, media=kind or "other", **common)


def _canonical(msg: dict[str, str]) -> bytes:
    """A message's fields in a fixed order, as bytes: the same message however encoded."""
    return "\x00".join(f"{k}={v}" for k, v in sorted(msg.items())).encode()


def _nonce_ok(nonce: str) -> bool:
    """WeChat's nonces are short digit strings; anything empty or long is not one."""
    return 0 < len(nonce) <= 64 and nonce.isascii() and nonce.isalnum()


def fresh(timestamp: str, now: float | None = None) -> bool:
    """Whether a signed request's timestamp (seconds since the epoch, as WeChat sends
    it) is within `FRESH_FOR` seconds of now, either way."""
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return False
    return abs((time.time() if now is None else now) - int(timestamp)) <= FRESH_FOR


def reply_xml(to: str, account: str, content: str) -> str:
    safe = escape(content)
    return (
        f"<xml><ToUserName>{escape(to)}</ToUserName><FromUserName>{escape(account)}"
        f"</FromUserName><CreateTime>{int(time.time())}</CreateTime><MsgType>text</MsgType>"
        f"<Content>{safe}</Content></xml>"
    )


class WeChat:
    """The WeChat transport: the callback handler and the customer-service sender."""

    platforms = ("wx",)

    def __init__(self, app: App) -> None:
        s = app.settings
        self.dispatcher: Dispatcher = app.dispatcher
        self.db = app.db
        self.token = s.wechat_token
        self.app_id = s.wechat_app_id
        self.app_secret = s.wechat_app_secret
        self.api = s.wechat_api_url.rstrip("/")
        self.mode = s.wechat_message_mode
        self.public_url = s.public_url
        self.crypto = WeChatCrypto(s.wechat_aes_key, s.wechat_app_id) if s.wechat_aes_key else None
        self._access: tuple[str, float] = ("", 0.0)
        self._http: aiohttp.ClientSession | None = None
        self._late: set[asyncio.Task[Any]] = set()
        self._refused: dict[str, tuple[float, int]] = {}
        self._posters: dict[str, str] = {}  # scene -> its code's picture link

    # --- the callback URL ---------------------------------------------------------------
    async def verify(self, request: web.Request) -> web.Response:
        """WeChat's server verification (GET): echo `echostr` for a fresh, signed request
        seen for the first time. Its (timestamp, nonce) is then used up, so its
        signature cannot sign a POST, nor the same URL echo anything again."""
        q = request.query
        timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
        if not signature_ok(q.get("signature", ""), self.token, timestamp, nonce):
            return self._refuse("bad signature (is HAOXIN_WECHAT_TOKEN right?)")
        if not fresh(timestamp) or not _nonce_ok(nonce):
            return self._refuse("stale request (is this server's clock right?)")
        if not await self._first_seen(timestamp, nonce, b"GET"):
            return self._refuse("replayed request")
        return web.Response(text=q.get("echostr", ""))

    def _refuse(self, why: str) -> web.Response:
        """403, logged with the reason only (never the sender or the content), at most
        once a minute for each reason, so refused requests cannot flood the log."""
        now = time.monotonic()
        last, count = self._refused.get(why, (0.0, 0))
        if now - last >= 60:
            more = f" (and {count} more in the last minute)" if count else ""
            log.warning("refused a WeChat request: %s%s", why, more)
            self._refused[why] = (now, 0)
        else:
            self._refused[why] = (last, count + 1)
        return web.Response(status=403, text=why.split(" (", 1)[0])

    async def receive(self, request: web.Request) -> web.Response:
        """A message or event from WeChat. Never raises into aiohttp, whose error log
        would quote the request: a failure is logged by its type and answered 500 (so
        WeChat retries)."""
        try:
            return await self._receive(request)
        except web.HTTPException:  # 413 for a body over MAX_BODY, and the like
            raise
        except Exception as exc:
            log_failure("handling a WeChat request failed", exc, log)
            return web.Response(status=500, text="try again")

    async def _receive(self, request: web.Request) -> web.Response:
        q = request.query
        timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
        body = await request.read()
        try:
            outer = parse(body)
            if self.mode == "plain":
                if not signature_ok(q.get("signature", ""), self.token, timestamp, nonce):
                    return self._refuse("bad signature (is HAOXIN_WECHAT_TOKEN right?)")
                msg, encrypted = outer, False
            elif "Encrypt" not in outer:  # in compatible mode too, WeChat always encrypts
                return self._refuse(
                    f"{self.mode} mode takes encrypted messages only (is HAOXIN_WECHAT_MODE right?)"
                )
            else:
                assert self.crypto is not None
                if not signature_ok(
                    q.get("msg_signature", ""), self.token, timestamp, nonce, outer["Encrypt"]
                ):
                    return self._refuse("bad signature (is HAOXIN_WECHAT_TOKEN right?)")
                msg, encrypted = parse(self.crypto.decrypt(outer["Encrypt"])), True
            event = to_event(msg, verified=encrypted)
        except CryptoError:
            return self._refuse("cannot decrypt (is HAOXIN_WECHAT_AES_KEY right?)")
        except (BadRequest, ValueError):
            return web.Response(status=400, text="bad message")
        if not fresh(timestamp) or not _nonce_ok(nonce):
            return self._refuse("stale request (is this server's clock right?)")
        # the message itself, not its encryption: WeChat may encrypt a retry afresh
        digest = hashlib.sha256(b"POST" + _canonical(msg)).hexdigest()

        if msg.get("MsgType") == "event" and msg.get("Event", "").lower() == "unsubscribe":
            # the pair is recorded in the erasure's own transaction: if erasing fails,
            # WeChat's retry finds the pair unused and erases; a retry or a replay of
            # a request that did erase finds it used and erases nothing
            first = await self.dispatcher.forget(
                f"wx:{msg['FromUserName']}", guard=self._guard(timestamp, nonce, digest)
            )
            if first is None:
                return self._refuse("replayed request")
            return web.Response(text="success")
        first = await self._seen(timestamp, nonce, digest)
        if first is None:
            return self._refuse("replayed request")
        if event is None:
            return web.Response(text="success")

        media_id = msg.get("MediaId", "") if event.attachment is not None else None
        handled = await self._within_deadline(event, media_id)
        if handled is None or not handled.replies:
            return web.Response(text="success")
        replies = await self.with_documents(event.user, await self.with_posters(handled.replies))
        texts = pieces(replies)
        if (texts[1:] or pictures(replies)) and not handled.repeat:
            await self._send_later(event.user, texts[1:], pictures(replies))
        if not texts:
            return web.Response(text="success")
        xml = reply_xml(msg["FromUserName"], msg.get("ToUserName", ""), texts[0])
        if encrypted:
            xml = self._encrypted_reply(xml, nonce)
        return web.Response(text=xml, content_type="application/xml")

    @staticmethod
    def _guard(
        timestamp: str, nonce: str, digest: str
    ) -> Callable[[Repos], Awaitable[bool | None]]:
        async def first_seen(repos: Repos) -> bool | None:
            return await repos.signed.first_seen("wx", timestamp, nonce, digest)

        return first_seen

    async def _seen(self, timestamp: str, nonce: str, digest: str) -> bool | None:
        """True the first time this signed (timestamp, nonce) arrives, False for the same
        request again, None for the pair with anything else (a replay)."""
        guard = self._guard(timestamp, nonce, digest)

        async def check(session: AsyncSession) -> bool | None:
            return await guard(Repos(session))

        return await self.db.transaction(check)

    async def _first_seen(self, timestamp: str, nonce: str, what: bytes) -> bool:
        return await self._seen(timestamp, nonce, hashlib.sha256(what).hexdigest()) is True

    async def _send_later(
        self, user: str, texts: Sequence[str], photos: Sequence[str] = ()
    ) -> None:
        """Queue texts, then pictures (stored files' names), for the customer-service
        API, in order, through the outbox (sent once, retried, and recorded as sent or
        unreachable). A conflict with another process runs it again: the rest of a
        reply is never lost."""

        async def queue(session: AsyncSession) -> None:
            outbox = Repos(session).outbox
            for text in texts:
                outbox.add(user, [Reply(text).to_dict()])
            for name in photos:
                outbox.add(user, [Reply("", photo=name).to_dict()])

        await self.db.transaction(queue)

    async def _within_deadline(self, event: Event, media_id: str | None = None) -> Handled | None:
        """The replies, if ready in time; otherwise they follow through the outbox.
        `media_id`: the picture she sent, fetched first (within the same time)."""
        task = asyncio.ensure_future(self._fetch_and_handle(event, media_id))
        try:
            return await asyncio.wait_for(asyncio.shield(task), REPLY_WITHIN)
        except TimeoutError:

            async def later() -> None:
                handled = await task
                if not handled.repeat and handled.replies:
                    replies = await self.with_posters(handled.replies)
                    replies = await self.with_documents(event.user, replies)
                    await self._send_later(event.user, pieces(replies), pictures(replies))

            late = asyncio.create_task(later())
            self._late.add(late)
            late.add_done_callback(self._late.discard)
            return None

    async def _fetch_and_handle(self, event: Event, media_id: str | None) -> Handled:
        if media_id is not None:
            event = dataclasses.replace(event, attachment=await self.fetch(media_id))
        return await self.dispatcher.handle(event)

    # --- pictures she sends: the media API ------------------------------------------------
    async def fetch(self, media_id: str) -> Attachment:
        """The picture WeChat holds under `media_id` (temporary media, kept 3 days), at
        most `MAX_FILE_BYTES` + 1 bytes read: over the limit it comes without bytes; a
        failure (WeChat's error, `MEDIA_WITHIN` seconds passed) comes `failed`. Never
        raises; logs the error's type only."""
        if not media_id or len(media_id) > 256:
            return Attachment("photo", None, 0, failed=True)
        try:
            async with asyncio.timeout(MEDIA_WITHIN):
                data = await self._media(media_id)
        except Exception as exc:
            log.warning("WeChat: fetching a picture failed (%s)", type(exc).__name__)
            return Attachment("photo", None, 0, failed=True)
        if len(data) > MAX_FILE_BYTES:
            return Attachment("photo", None, len(data))
        return Attachment("photo", data, len(data))

    async def _media(self, media_id: str) -> bytes:
        """GET media/get; once more with a fresh token when WeChat says it expired.
        Raises SendError for WeChat's error answer (JSON instead of the picture)."""
        http = self._client()
        for refresh in (False, True):
            token = await self._access_token(refresh)
            params = {"access_token": token, "media_id": media_id}
            async with http.get(f"{self.api}/cgi-bin/media/get", params=params) as r:
                r.raise_for_status()
                data = await read_capped(r.content.iter_chunked(65536), MAX_FILE_BYTES + 1)
                is_picture = r.content_type.startswith("image/")
            if is_picture or not data.lstrip().startswith(b"{"):
                return data
            try:
                code = int(json.loads(data).get("errcode", 0))
            except (ValueError, AttributeError):
                code = -1
            if code not in TOKEN_EXPIRED or refresh:
                raise SendError(f"media/get {code}")
        raise AssertionError("unreachable")

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=API_TIMEOUT)
        return self._http

    def _encrypted_reply(self, xml: str, nonce: str) -> str:
        assert self.crypto is not None  # only encrypted requests get encrypted replies
        encrypt = self.crypto.encrypt(xml)
        timestamp = str(int(time.time()))
        sig = signature(self.token, timestamp, nonce, encrypt)
        return (
            f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt><MsgSignature>{sig}</MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        )

    # --- poster codes: permanent parameter QR codes --------------------------------------
    async def with_posters(self, replies: list[Reply]) -> list[Reply]:
        """The replies, each asking for a poster code (`Reply.poster`) followed by the
        link to its picture; left as they are when WeChat gives none (their text says
        how to make one by hand)."""
        out = []
        for reply in replies:
            if reply.poster and (link := await self._poster(reply.poster)):
                reply = dataclasses.replace(reply, text=f"{reply.text}\n{link}", poster=None)
            out.append(reply)
        return out

    async def _poster(self, scene: str) -> str | None:
        """The picture link of the permanent parameter QR code for `scene` (`course_3`),
        made once per scene by qrcode/create (QR_LIMIT_STR_SCENE: scene_str of 1-64
        characters, at most 100,000 codes per account, which never expire; following
        by it sends `subscribe` with EventKey `qrscene_<scene>`, scanning when already
        following sends `SCAN` with EventKey `<scene>`). None when WeChat refuses."""
        if scene in self._posters:
            return self._posters[scene]
        body = {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": scene}}}
        try:
            data = await self._call("/cgi-bin/qrcode/create", body)
        except (aiohttp.ClientError, TimeoutError, SendError, ValueError) as exc:
            log.warning("WeChat: no poster code (%s)", type(exc).__name__)
            return None
        if int(data.get("errcode", 0)) or not data.get("ticket"):
            log.warning("WeChat: no poster code (errcode %s)", data.get("errcode"))
            return None
        link = f"{SHOW_QR}?ticket={quote(str(data['ticket']), safe='')}"
        self._posters[scene] = link
        return link

    async def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST `body` to an API method with the access token; once more with a fresh
        token when WeChat says the token expired. Returns WeChat's answer (its
        `errcode` is 0 or missing on success)."""
        self._client()
        assert self._http is not None
        data: dict[str, Any] = {}
        for refresh in (False, True):
            token = await self._access_token(refresh)
            url = f"{self.api}{path}"
            async with self._http.post(url, params={"access_token": token}, json=body) as r:
                data = await r.json(content_type=None)
            if int(data.get("errcode", 0)) not in TOKEN_EXPIRED:
                break
        return data

    # --- documents: a link, or where to ask -------------------------------------------
    async def with_documents(self, user: str, replies: list[Reply]) -> list[Reply]:
        """The replies, each giving a document (`Reply.document`) followed by a line in
        her language: the link to it (with a public URL), or to ask the programme
        office for it. A document whose file is gone adds nothing (logged)."""
        if not any(r.document for r in replies):
            return replies
        _ = translator(await self._language(user))
        out = []
        for reply in replies:
            if reply.document:
                line = self._document_line(_, reply.document)
                text = f"{reply.text}\n{line}" if reply.text and line else reply.text or line
                reply = dataclasses.replace(reply, text=text, document=None, document_name="")
            out.append(reply)
        return out

    def _document_line(self, _: Translator, name: str) -> str:
        store = self.dispatcher.files
        try:
            if not store.path(name).is_file():
                raise FileNotFoundError(name)
        except (KeyError, OSError) as exc:
            log.warning("WeChat: a document to link is missing (%s)", type(exc).__name__)
            return ""
        link = ""
        if self.public_url:
            try:
                link = document_link(self.public_url, store, name)
            except (KeyError, OSError) as exc:  # not a document; the secret is unreadable
                log.warning("WeChat: no link to a document (%s)", type(exc).__name__)
        if link:
            return _(
                "Open or save the document here (the link works for {days} days): {link}",
                days=DOCUMENT_DAYS,
                link=link,
            )
        if phone := self.dispatcher.options.office_phone:
            return _(
                "This chat cannot carry the file itself: ask the programme office ({phone}) "
                "for a copy.",
                phone=phone,
            )
        return _("This chat cannot carry the file itself: ask the programme office for a copy.")

    async def _language(self, user: str) -> str:
        async def read(session: AsyncSession) -> str:
            found = await Repos(session, self.dispatcher.files).users.get(user)
            return found.lang if found is not None else DEFAULT

        return await self.db.transaction(read)

    async def document(self, request: web.Request) -> web.Response:
        """GET /files/<token>: the document a link names (`document_of`), with its type
        and extension (`haoxin-document.xlsx`): 404 for a token that is malformed,
        forged or altered, or a file that is gone; 410 once the link's time is over."""
        store = self.dispatcher.files
        try:
            name = document_of(store, request.match_info.get("token", ""))
            if not await self._still_theirs(name):
                raise LookupError(name)
            data = await asyncio.to_thread(store.read, name)
        except LinkExpired:
            return web.Response(status=410, text="this link has expired")
        except (LookupError, OSError):
            return web.Response(status=404, text="not found")
        extension = name.rpartition(".")[2]  # one of DOCUMENT_EXTENSIONS: plain ASCII
        headers = {
            "Content-Type": FileStore.content_type(name),
            "Content-Disposition": f'attachment; filename="haoxin-document.{extension}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        }
        return web.Response(body=data, headers=headers)

    async def _still_theirs(self, name: str) -> bool:
        """Whether the document may still be served: a staff-only file (a list of
        people, the numbers: `storage.files.for_staff_only`) only while its holder is
        still staff (an admin, or a base's staff: revoked, her links stop at once)."""
        async with self.dispatcher.db.sessions() as session:
            held = await FileRepo(session, self.dispatcher.files).holder(name)
        if held is None:
            return False
        user, purpose = held
        if not for_staff_only(purpose):
            return True
        return user.staff_base_id is not None or self.dispatcher.settings.is_admin(user.key)

    # --- sending later: the customer-service message API --------------------------------
    async def _access_token(self, refresh: bool = False) -> str:
        token, expires = self._access
        if token and not refresh and time.monotonic() < expires:
            return token
        assert self._http is not None
        params = {
            "grant_type": "client_credential",
            "appid": self.app_id,
            "secret": self.app_secret,
        }
        async with self._http.get(f"{self.api}/cgi-bin/token", params=params) as r:
            data = await r.json(content_type=None)
        if "access_token" not in data:
            raise SendError(f"token {data.get('errcode')}")  # 40164: this IP is not whitelisted
        lifetime = float(data.get("expires_in", 7200))
        self._access = (data["access_token"], time.monotonic() + max(60.0, lifetime - 300))
        return self._access[0]

    def messages_in(self, replies: list[Reply]) -> int:
        """How many customer-service messages `replies` take (text parts of 2,048
        bytes, then pictures): the broadcaster counts each against its rate."""
        return len(pieces(replies)) + len(pictures(replies))

    async def send(self, user: str, replies: list[Reply]) -> Delivery:
        """Deliver replies through the customer-service API: the text split to WeChat's
        limit, then each picture (`Reply.photo`) as an image message. A picture whose
        file is gone is left out (logged); the text still goes."""
        self._client()
        replies = await self.with_documents(user, await self.with_posters(replies))
        for text in pieces(replies):
            outcome = await self._send_text(user, text)
            if outcome is not Delivery.SENT:
                return outcome
        for name in pictures(replies):
            outcome = await self._send_image(user, name)
            if outcome is not Delivery.SENT:
                return outcome
        return Delivery.SENT

    async def _send_text(self, user: str, text: str) -> Delivery:
        body = {"touser": user.split(":", 1)[1], "msgtype": "text", "text": {"content": text}}
        return await self._custom_send(body)

    async def _send_image(self, user: str, name: str) -> Delivery:
        """Upload a stored picture as temporary media, then send it as an image message."""
        try:
            data = self.dispatcher.files.read(name)
        except (KeyError, OSError) as exc:
            log.warning("WeChat: a picture to send is missing (%s)", type(exc).__name__)
            return Delivery.SENT
        media_id = await self._upload_image(data, name)
        body = {
            "touser": user.split(":", 1)[1],
            "msgtype": "image",
            "image": {"media_id": media_id},
        }
        return await self._custom_send(body)

    async def _upload_image(self, data: bytes, name: str) -> str:
        """media/upload?type=image (multipart, field `media`) → its media_id; once more
        with a fresh token when WeChat says it expired. Raises SendError otherwise."""
        http = self._client()
        answer: dict[str, Any] = {}
        for refresh in (False, True):
            token = await self._access_token(refresh)
            form = aiohttp.FormData()
            form.add_field("media", data, filename=name, content_type=FileStore.content_type(name))
            params = {"access_token": token, "type": "image"}
            async with http.post(f"{self.api}/cgi-bin/media/upload", params=params, data=form) as r:
                answer = await r.json(content_type=None)
            if int(answer.get("errcode", 0)) not in TOKEN_EXPIRED:
                break
        if int(answer.get("errcode", 0)) or not answer.get("media_id"):
            raise SendError(f"media/upload {answer.get('errcode')}")
        return str(answer["media_id"])

    async def _custom_send(self, body: dict[str, Any]) -> Delivery:
        code = int((await self._call("/cgi-bin/message/custom/send", body)).get("errcode", 0))
        if code == 0:
            return Delivery.SENT
        if code in UNREACHABLE:
            return Delivery.UNREACHABLE
        if code == OUTSIDE_WINDOW:
            return Delivery.OUTSIDE_WINDOW
        raise SendError(code)  # e.g. 48001: the account may not use the customer-service API

    async def close(self) -> None:
        for task in list(self._late):
            task.cancel()
        if self._http is not None:
            await self._http.close()


def wechat_app(wechat: WeChat) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    for path in ("/", "/wechat"):
        app.router.add_get(path, wechat.verify)
        app.router.add_post(path, wechat.receive)
    if wechat.public_url:  # links to documents point here
        app.router.add_get("/files/{token}", wechat.document)
    return app


async def run(app: App, listen: str, ready: asyncio.Event) -> None:
    """Serve the callback URL and deliver the outbox until cancelled."""
    from bot.webhook import serve

    wechat = WeChat(app)
    wechat._http = aiohttp.ClientSession(timeout=API_TIMEOUT)
    await warm_up(app)
    runner = await serve(wechat_app(wechat), listen)
    log.info("WeChat: serving %s in %s mode", listen, wechat.mode)
    if wechat.mode != "safe" and any(a.startswith("wx:") for a in app.settings.admin_ids):
        log.warning(
            "WeChat is in %s mode: plaintext messages cannot be trusted, so the staff in "
            "HAOXIN_ADMIN_IDS get no staff rights from them; use safe mode",
            wechat.mode,
        )
    notifier = asyncio.create_task(Notifier(app.db, wechat).run_forever())
    broadcaster = asyncio.create_task(
        Broadcaster(
            app.db, wechat, rate=app.settings.broadcast_rate, options=app.settings.options()
        ).run_forever()
    )
    ready.set()
    try:
        await asyncio.Event().wait()
    finally:
        notifier.cancel()
        broadcaster.cancel()
        await asyncio.gather(notifier, broadcaster, return_exceptions=True)
        await runner.cleanup()
        await wechat.close()
