"""Run Haoxin's WeChat server and play a follower: signed (and encrypted) XML over HTTP."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.app import App, create_app
from bot.platforms import run_platform
from bot.wechat import parse
from bot.wechat_crypto import WeChatCrypto, signature
from tests.conftest import make_settings
from tests.telegram_player import free_port

TOKEN = "haoxinToken"
APP_ID = "wx1234567890abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters
ACCOUNT = "gh_haoxin"
_msg_ids = itertools.count(10_000_000_000)
_nonces = itertools.count(1)


class FakeWeChatApi:
    """The token, customer-service, QR code and media endpoints of api.weixin.qq.com.

    `media` holds the pictures people sent (media_id → bytes), served by media/get
    (each fetch recorded in `media_gets`); media/upload keeps what the bot uploaded in
    `uploads` and answers with a new media_id."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.token_calls = 0
        self.errcodes: list[int] = []  # answers for the next sends, then 0
        self.qrcodes: list[dict[str, Any]] = []  # qrcode/create requests
        self.qrcode_errcodes: list[int] = []  # answers for the next qrcode/create, then 0
        self.media: dict[str, bytes] = {}
        self.media_gets: list[str] = []
        self.uploads: list[dict[str, Any]] = []
        self.runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._send)
        app.router.add_post("/cgi-bin/qrcode/create", self._qrcode)
        app.router.add_get("/cgi-bin/media/get", self._media_get)
        app.router.add_post("/cgi-bin/media/upload", self._media_upload)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore

    async def _token(self, request: web.Request) -> web.Response:
        assert request.query["appid"] == APP_ID
        self.token_calls += 1
        return web.json_response({"access_token": f"T{self.token_calls}", "expires_in": 7200})

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        code = self.errcodes.pop(0) if self.errcodes else 0
        if code == 0:
            self.sent.append({"token": request.query["access_token"], **body})
        return web.json_response({"errcode": code, "errmsg": "ok" if code == 0 else "no"})

    async def _qrcode(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.qrcodes.append(body)
        code = self.qrcode_errcodes.pop(0) if self.qrcode_errcodes else 0
        if code:
            return web.json_response({"errcode": code, "errmsg": "no"})
        scene = body["action_info"]["scene"]["scene_str"]
        return web.json_response(
            {"ticket": f"gQ+{scene}/=", "url": f"http://weixin.qq.com/q/{scene}"}
        )

    async def _media_get(self, request: web.Request) -> web.Response:
        media_id = request.query.get("media_id", "")
        self.media_gets.append(media_id)
        if not request.query.get("access_token", "").startswith("T"):
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        if media_id not in self.media:
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        return web.Response(body=self.media[media_id], content_type="image/jpeg")

    async def _media_upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        media = form["media"]
        assert not isinstance(media, str), "media/upload takes a file (multipart)"
        media_id = f"UP{len(self.uploads) + 1}"
        self.uploads.append(
            {
                "type": request.query.get("type"),
                "token": request.query.get("access_token"),
                "filename": media.filename,
                "content_type": media.content_type,
                "data": media.file.read(),
                "media_id": media_id,
            }
        )
        return web.json_response(
            {"type": "image", "media_id": media_id, "created_at": int(time.time())}
        )

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()


@asynccontextmanager
async def running_wechat(
    db_path: Path, mode: str = "plain", **settings: Any
) -> AsyncIterator[tuple[str, App, FakeWeChatApi]]:
    """The WeChat server on a free port, in `mode` (HAOXIN_WECHAT_MODE): plain by
    default (plaintext requests); compatible and safe take encrypted ones only."""
    api = FakeWeChatApi()
    api_url = await api.start()
    app = await create_app(
        make_settings(
            db_path,
            wechat_token=TOKEN,
            wechat_app_id=APP_ID,
            wechat_app_secret="wechat-app-secret-value",
            wechat_aes_key=AES_KEY,
            wechat_api_url=api_url,
            wechat_mode=mode,
            **settings,
        )
    )
    listen = f"127.0.0.1:{free_port()}"
    ready = asyncio.Event()
    task = asyncio.create_task(run_platform(app, "wechat", listen=listen, ready=ready))
    try:
        await asyncio.wait_for(ready.wait(), 30)
        yield f"http://{listen}/wechat", app, api
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await app.close()
        await api.stop()


def message_xml(openid: str, msg_type: str, msg_id: int | None = None, **fields: Any) -> str:
    inner = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    msg_id_xml = f"<MsgId>{msg_id}</MsgId>" if msg_id is not None else ""
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>"
        f"{inner}{msg_id_xml}</xml>"
    )


async def post(
    url: str,
    xml: str | bytes,
    *,
    mode: str = "raw",
    good_signature: bool = True,
    nonce: str | None = None,
    timestamp: str | None = None,
) -> tuple[int, str]:
    """POST a message as WeChat would (a fresh timestamp and a new nonce unless given);
    returns the status and the (decrypted) reply."""
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or f"n{next(_nonces)}"
    params = {"timestamp": timestamp, "nonce": nonce, "openid": "x"}
    params["signature"] = signature(TOKEN, timestamp, nonce) if good_signature else "0" * 40
    body = xml if isinstance(xml, bytes) else xml.encode()
    crypto = WeChatCrypto(AES_KEY, APP_ID)
    if mode in ("aes", "compatible"):
        encrypt = crypto.encrypt(xml if isinstance(xml, str) else xml.decode())
        params["encrypt_type"] = "aes"
        params["msg_signature"] = signature(TOKEN, timestamp, nonce, encrypt)
        if not good_signature:
            params["msg_signature"] = "0" * 40
        plain = xml[5:-6] if (mode == "compatible" and isinstance(xml, str)) else ""
        body = f"<xml><ToUserName>{ACCOUNT}</ToUserName>{plain}<Encrypt>{encrypt}</Encrypt></xml>"
        body = body.encode()
    async with aiohttp.ClientSession() as http, http.post(url, params=params, data=body) as r:
        text = await r.text()
        status = r.status
    if status == 200 and params.get("encrypt_type") == "aes" and text.startswith("<xml>"):
        outer = parse(text)
        expected = signature(TOKEN, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
        assert outer["MsgSignature"] == expected, "the reply's signature is wrong"
        text = crypto.decrypt(outer["Encrypt"])
    return status, text


class WeChatPlayer:
    """A follower: types text (and numbers for buttons), reads the passive replies."""

    def __init__(self, url: str, openid: str, mode: str = "raw") -> None:
        self.url, self.openid, self.mode = url, openid, mode
        self.text = ""
        self.screens: list[str] = []

    async def send(self, xml: str) -> str:
        status, body = await post(self.url, xml, mode=self.mode)
        assert status == 200, (status, body)
        self.text = parse(body)["Content"] if body.startswith("<xml>") else ""
        self.screens.append(self.text)
        return self.text

    async def say(self, text: str) -> str:
        return await self.send(message_xml(self.openid, "text", next(_msg_ids), Content=text))

    def number_of(self, label: str, screen: str | None = None) -> str:
        for line in (screen or self.text).splitlines():
            number, dot, rest = line.partition(". ")
            if dot and number.isdigit() and label in rest:
                return number
        raise AssertionError(f"no button {label!r} in {screen or self.text!r}")

    async def tap(self, label: str) -> str:
        return await self.say(self.number_of(label))

    async def tap_old(self, label: str) -> str:
        """Type the number a button had on an earlier screen."""
        for screen in reversed(self.screens[:-1]):
            try:
                return await self.say(self.number_of(label, screen))
            except AssertionError:
                continue
        raise AssertionError(f"no earlier button {label!r}")

    @property
    def labels(self) -> list[str]:
        out = []
        for line in self.text.splitlines():
            number, dot, rest = line.partition(". ")
            if dot and number.isdigit():
                out.append(rest)
        return out
