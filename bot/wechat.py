"""WeChat Official Account: the callback server and sending later.

    GET  ?signature&timestamp&nonce&echostr      → echostr, when the signature is right
    POST ?signature&timestamp&nonce[&encrypt_type=aes&msg_signature]  XML in, XML out

Plaintext, compatible and safe mode all work with the same settings: the mode is read
from each request's `encrypt_type`. Text replies have no buttons on WeChat, so buttons
become a numbered list; the core takes a typed number or label as the button. The
passive reply must come within 5 seconds: if handling takes longer, WeChat gets an empty
answer and the replies follow through the customer-service API. A retried MsgId gets
the same reply and is handled once. Unfollowing deletes the person's data.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from xml.sax.saxutils import escape

import aiohttp
from aiohttp import web
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from bot.app import App
from bot.dispatcher import Dispatcher, Handled
from bot.notifier import Delivery, Notifier
from bot.wechat_crypto import CryptoError, WeChatCrypto, signature, signature_ok
from handlers.events import Event, Location
from handlers.replies import Reply

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
REPLY_WITHIN = 4.5  # WeChat waits 5 s for a passive reply
MAX_CONTENT = 2000  # WeChat's text messages hold about 2,048 bytes' worth of characters
UNREACHABLE = {43004, 45015, 40003}  # not following / outside 48 h / unknown openid
TOKEN_EXPIRED = {40001, 40014, 42001}


class BadRequest(Exception):
    pass


def render(replies: list[Reply]) -> str:
    """All replies as one text; buttons numbered in order across the replies."""
    parts, n = [], 0
    for reply in replies:
        lines = [reply.text]
        if reply.pin:
            lines.append(f"📍 {reply.pin.title} {reply.pin.address}".rstrip())
        for button in reply.flat_buttons():
            n += 1
            lines.append(f"{n}. {button.label}")
        # WeChat has no contact or location buttons: the prompts say to type the number,
        # or to send a location message (＋ → Location)
        parts.append("\n".join(lines))
    text = "\n\n".join(parts)
    return text if len(text) <= MAX_CONTENT else text[: MAX_CONTENT - 1] + "…"


def parse(xml: bytes | str) -> dict[str, str]:
    """A WeChat XML message as a dict; DOCTYPE and entities are refused."""
    try:
        root = ElementTree.fromstring(xml, forbid_dtd=True)
    except (DefusedXmlException, ElementTree.ParseError, ValueError) as exc:
        raise BadRequest(type(exc).__name__) from exc
    return {child.tag: (child.text or "") for child in root}


def to_event(msg: dict[str, str]) -> Event | None:
    """The Haoxin event for a WeChat message; None for what needs no answer."""
    openid = msg.get("FromUserName", "")
    if not openid:
        raise BadRequest("no sender")
    user = f"wx:{openid}"
    kind = msg.get("MsgType", "")
    update_id = msg.get("MsgId") or f"{openid}:{msg.get('CreateTime', '')}:{msg.get('Event', '')}"
    common = {"update_id": update_id[-64:]}
    if kind == "text":
        return Event(user, text=msg.get("Content", ""), **common)
    if kind == "location":
        lat, lon = float(msg.get("Location_X", 0)), float(msg.get("Location_Y", 0))
        return Event(user, location=Location(lat, lon), **common)
    if kind == "voice" and msg.get("Recognition"):  # WeChat's own speech-to-text
        return Event(user, text=msg["Recognition"], **common)
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
        self.crypto = WeChatCrypto(s.wechat_aes_key, s.wechat_app_id) if s.wechat_aes_key else None
        self._access: tuple[str, float] = ("", 0.0)
        self._http: aiohttp.ClientSession | None = None
        self._late: set[asyncio.Task[Any]] = set()

    # --- the callback URL ---------------------------------------------------------------
    async def verify(self, request: web.Request) -> web.Response:
        q = request.query
        if not signature_ok(
            q.get("signature", ""), self.token, q.get("timestamp", ""), q.get("nonce", "")
        ):
            return web.Response(status=403, text="bad signature")
        return web.Response(text=q.get("echostr", ""))

    async def receive(self, request: web.Request) -> web.Response:
        q = request.query
        timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
        body = await request.read()
        encrypted = q.get("encrypt_type", "raw").lower() == "aes"
        try:
            outer = parse(body)
            if encrypted:
                if self.crypto is None or not signature_ok(
                    q.get("msg_signature", ""),
                    self.token,
                    timestamp,
                    nonce,
                    outer.get("Encrypt", ""),
                ):
                    return web.Response(status=403, text="bad signature")
                msg = parse(self.crypto.decrypt(outer.get("Encrypt", "")))
            else:
                if not signature_ok(q.get("signature", ""), self.token, timestamp, nonce):
                    return web.Response(status=403, text="bad signature")
                msg = outer
            event = to_event(msg)
        except CryptoError:
            return web.Response(status=403, text="cannot decrypt")
        except (BadRequest, ValueError):
            return web.Response(status=400, text="bad message")

        if msg.get("MsgType") == "event" and msg.get("Event", "").lower() == "unsubscribe":
            await self.dispatcher.forget(f"wx:{msg['FromUserName']}")
            return web.Response(text="success")
        if event is None:
            return web.Response(text="success")

        handled = await self._within_deadline(event)
        if handled is None or not handled.replies:
            return web.Response(text="success")
        xml = reply_xml(msg["FromUserName"], msg.get("ToUserName", ""), render(handled.replies))
        if encrypted and self.crypto is not None:
            xml = self._encrypted_reply(xml, nonce)
        return web.Response(text=xml, content_type="application/xml")

    async def _within_deadline(self, event: Event) -> Handled | None:
        """The replies, if ready in time; otherwise they follow as a customer-service message."""
        task = asyncio.ensure_future(self.dispatcher.handle(event))
        try:
            return await asyncio.wait_for(asyncio.shield(task), REPLY_WITHIN)
        except TimeoutError:

            async def later() -> None:
                handled = await task
                if not handled.repeat:
                    await self.send(event.user, handled.replies)

            late = asyncio.create_task(later())
            self._late.add(late)
            late.add_done_callback(self._late.discard)
            return None

    def _encrypted_reply(self, xml: str, nonce: str) -> str:
        assert self.crypto is not None
        encrypt = self.crypto.encrypt(xml)
        timestamp = str(int(time.time()))
        sig = signature(self.token, timestamp, nonce, encrypt)
        return (
            f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt><MsgSignature>{sig}</MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        )

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
            raise RuntimeError(f"no access token (errcode {data.get('errcode')})")
        lifetime = float(data.get("expires_in", 7200))
        self._access = (data["access_token"], time.monotonic() + max(60.0, lifetime - 300))
        return self._access[0]

    async def send(self, user: str, replies: list[Reply]) -> Delivery:
        if self._http is None:
            self._http = aiohttp.ClientSession()
        body = {
            "touser": user.split(":", 1)[1],
            "msgtype": "text",
            "text": {"content": render(replies)},
        }
        for refresh in (False, True):
            token = await self._access_token(refresh)
            url = f"{self.api}/cgi-bin/message/custom/send"
            async with self._http.post(url, params={"access_token": token}, json=body) as r:
                data = await r.json(content_type=None)
            code = int(data.get("errcode", 0))
            if code == 0:
                return Delivery.SENT
            if code in UNREACHABLE:
                return Delivery.UNREACHABLE
            if code not in TOKEN_EXPIRED:
                break
        raise RuntimeError(f"customer-service message refused (errcode {code})")

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
    return app


async def run(app: App, listen: str, ready: asyncio.Event) -> None:
    """Serve the callback URL and deliver the outbox until cancelled."""
    from bot.webhook import serve

    wechat = WeChat(app)
    wechat._http = aiohttp.ClientSession()
    runner = await serve(wechat_app(wechat), listen)
    notifier = asyncio.create_task(Notifier(app.db, wechat).run_forever())
    ready.set()
    try:
        await asyncio.Event().wait()
    finally:
        notifier.cancel()
        await asyncio.gather(notifier, return_exceptions=True)
        await runner.cleanup()
        await wechat.close()
