"""A fake Telegram Bot API server (aiohttp, real HTTP on 127.0.0.1) for end-to-end tests.

It answers what aiogram and python-telegram-bot call, lets a test play a user (text, a
button press, a contact, a location, a photo or a document, /start with a payload,
blocking the bot), records everything the bot sent (an uploaded file as its bytes),
serves getFile and file downloads (recording each download), and can answer a call
with 429 (flood control) or 403 (blocked).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

import aiohttp
from aiohttp import web

TRUE_SIZE = -1  # a file's size as Telegram reports it: the true one
BOT = {"id": 4242, "is_bot": True, "first_name": "Haoxin", "username": "haoxin_test_bot"}


def _value(raw: str) -> Any:
    if raw[:1] in "[{":
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


class FakeTelegram:
    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failures: list[tuple[str, int, dict[str, Any]]] = []
        self._changed = asyncio.Condition()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._query_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self.files: dict[str, bytes] = {}  # file_id -> the bytes behind it
        self.reported: dict[str, int | None] = {}  # file_id -> getFile's file_size
        self.downloads: list[str] = []  # file paths the bot downloaded
        self.runner: web.AppRunner | None = None
        self.url = ""

    # --- the server ---------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return await request.json()
        form = await request.post()
        params = {k: _value(v) if isinstance(v, str) else v.file.read() for k, v in form.items()}
        for key, value in list(params.items()):  # aiogram: "photo": "attach://<part>"
            if isinstance(value, str) and value.startswith("attach://"):
                params[key] = params.pop(value.removeprefix("attach://"), value)
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        for i, (name, status, extra) in enumerate(self.failures):
            if name == method:
                del self.failures[i]
                self.calls.append((f"!{method}", params))
                body = {"ok": False, "error_code": status, "description": extra.pop("text")}
                return web.json_response({**body, **extra}, status=status)
        if method == "getUpdates":
            return web.json_response({"ok": True, "result": await self._get_updates(params)})
        if method == "getFile" and str(params.get("file_id")) not in self.files:
            self.calls.append((method, params))
            body = {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}
            return web.json_response(body, status=400)
        result = self._result(method, params)
        if isinstance(result, dict) and "message_id" in result:
            params["_message_id"] = result["message_id"]
        async with self._changed:
            self.calls.append((method, params))
            self._changed.notify_all()
        return web.json_response({"ok": True, "result": result})

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT
        if method in ("sendMessage", "editMessageText", "sendVenue", "sendLocation", "sendPhoto"):
            chat_id = int(params["chat_id"])
            message_id = int(params.get("message_id") or next(self._message_ids))
            return {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT,
                "text": params.get("text", ""),
                **({"caption": params["caption"]} if params.get("caption") else {}),
            }
        if method == "getFile":
            file_id = str(params["file_id"])
            result: dict[str, Any] = {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_path": f"documents/{file_id}.bin",
            }
            size = self.reported.get(file_id, len(self.files[file_id]))
            if size is not None:
                result["file_size"] = size
            return result
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        return True

    async def _download(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        file_id = path.removeprefix("documents/").removesuffix(".bin")
        if file_id not in self.files:
            return web.Response(status=404)
        self.downloads.append(path)
        data = self.files[file_id]
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await response.prepare(request)
        try:  # in pieces, as a large file comes: the bot may stop reading at its limit
            for start in range(0, len(data), 256 * 1024):
                await response.write(data[start : start + 256 * 1024])
            await response.write_eof()
        except (ConnectionError, RuntimeError):
            pass
        return response

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 2.0)
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                ready = [u for u in self.updates if u["update_id"] >= offset]
                left = deadline - time.monotonic()
                if ready or left <= 0:
                    return ready
                try:
                    await asyncio.wait_for(self._changed.wait(), left)
                except TimeoutError:
                    pass

    # --- failures -----------------------------------------------------------------------
    def flood_next(self, method: str = "sendMessage", retry_after: int = 1) -> None:
        self.failures.append(
            (
                method,
                429,
                {
                    "text": f"Too Many Requests: retry after {retry_after}",
                    "parameters": {"retry_after": retry_after},
                },
            )
        )

    def blocked_next(self, method: str = "sendMessage") -> None:
        self.failures.append((method, 403, {"text": "Forbidden: bot was blocked by the user"}))

    # --- playing a user -----------------------------------------------------------------
    async def push(self, update: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **update}
        async with self._changed:
            self.updates.append(update)
            self._changed.notify_all()
        return update

    @staticmethod
    def person(user_id: int, lang: str = "en") -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": "Mei", "language_code": lang}

    def message(self, user_id: int, lang: str, **content: Any) -> dict[str, Any]:
        return {
            "message": {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private"},
                "from": self.person(user_id, lang),
                **content,
            }
        }

    async def say(self, user_id: int, text: str, lang: str = "en") -> dict[str, Any]:
        return await self.push(self.message(user_id, lang, text=text))

    async def share_contact(self, user_id: int, phone: str, owner: int | None = None) -> None:
        contact = {"phone_number": phone, "first_name": "Mei", "user_id": owner or user_id}
        await self.push(self.message(user_id, "en", contact=contact))

    async def share_location(self, user_id: int, lat: float, lon: float) -> None:
        await self.push(self.message(user_id, "en", location={"latitude": lat, "longitude": lon}))

    def add_file(self, data: bytes, reported: int | None = TRUE_SIZE) -> str:
        """A file Telegram holds; returns its file_id. `reported`: the size getFile (and
        the message) say it has: its true size by default, another number (a lie), or
        None (not said)."""
        file_id = f"F{next(self._file_ids)}"
        self.files[file_id] = data
        self.reported[file_id] = len(data) if reported == TRUE_SIZE else reported
        return file_id

    def _sized(self, file_id: str, **fields: Any) -> dict[str, Any]:
        out = {"file_id": file_id, "file_unique_id": f"u{file_id}", **fields}
        if self.reported.get(file_id) is not None:
            out["file_size"] = self.reported[file_id]
        return out

    async def send_photo(
        self, user_id: int, data: bytes, reported: int | None = TRUE_SIZE
    ) -> dict[str, Any]:
        """She sends a photo: Telegram's sizes, a thumbnail first, `data` the largest."""
        small = self.add_file(b"a thumbnail, not the photo")
        large = self.add_file(data, reported)
        sizes = [
            self._sized(small, width=90, height=67),
            self._sized(large, width=1280, height=960),
        ]
        return await self.push(self.message(user_id, "en", photo=sizes))

    async def send_document(
        self,
        user_id: int,
        data: bytes,
        name: str = "certificate.pdf",
        reported: int | None = TRUE_SIZE,
    ) -> dict[str, Any]:
        """She sends a file (a document), named `name`."""
        file_id = self.add_file(data, reported)
        document = self._sized(file_id, file_name=name, mime_type="application/octet-stream")
        return await self.push(self.message(user_id, "en", document=document))

    async def tap(self, user_id: int, data: str, message_id: int, lang: str = "en") -> str:
        query_id = f"q{next(self._query_ids)}"
        await self.push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.person(user_id, lang),
                    "chat_instance": "1",
                    "data": data,
                    "message": {
                        "message_id": message_id,
                        "date": int(time.time()),
                        "chat": {"id": user_id, "type": "private"},
                        "from": BOT,
                        "text": "…",
                    },
                }
            }
        )
        return query_id

    async def block(self, user_id: int, status: str = "kicked") -> None:
        await self.push(
            {
                "my_chat_member": {
                    "chat": {"id": user_id, "type": "private"},
                    "from": self.person(user_id),
                    "date": int(time.time()),
                    "old_chat_member": {"status": "member", "user": BOT},
                    "new_chat_member": {"status": status, "user": BOT, "until_date": 0},
                }
            }
        )

    # --- what the bot did ---------------------------------------------------------------
    def sent_to(self, user_id: int) -> list[tuple[str, dict[str, Any]]]:
        return [
            (m, p)
            for m, p in self.calls
            if m in ("sendMessage", "editMessageText", "sendVenue", "sendPhoto")
            and int(p["chat_id"]) == user_id
        ]

    async def wait_for(self, predicate: Any, within: float = 15.0) -> None:
        deadline = time.monotonic() + within
        async with self._changed:
            while not predicate():
                left = deadline - time.monotonic()
                assert left > 0, f"timed out; calls: {[m for m, _ in self.calls][-10:]}"
                try:
                    await asyncio.wait_for(self._changed.wait(), left)
                except TimeoutError:
                    pass

    async def settle(
        self, user_id: int, before: int, quiet: float = 0.25
    ) -> list[tuple[str, dict]]:
        """The messages sent to a user after `before`, once the bot has gone quiet."""
        await self.wait_for(lambda: len(self.sent_to(user_id)) > before)
        while True:
            n = len(self.calls)
            await asyncio.sleep(quiet)
            if len(self.calls) == n:
                return self.sent_to(user_id)[before:]


async def post_webhook(url: str, update: dict[str, Any], secret: str | None) -> int:
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with aiohttp.ClientSession() as http, http.post(url, json=update, headers=headers) as r:
        return r.status
