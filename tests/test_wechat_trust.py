"""WeChat requests are authentic, fresh and seen once; a repeat is one person's repeat.

Every test posts signed (and, in safe mode, encrypted) XML over real HTTP to the running
server, as an attacker with a captured request would, and checks the status, the reply
and the database.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.wechat_crypto import WeChatCrypto, signature
from storage.models import Outbox, ProcessedEvent, SignedRequest
from tests.conftest import load_user
from tests.wechat_player import (
    ACCOUNT,
    AES_KEY,
    APP_ID,
    TOKEN,
    WeChatPlayer,
    message_xml,
    post,
    running_wechat,
)

ADMIN_OPENID = "oADMIN01"
STAFF = {"admin_ids": frozenset({f"wx:{ADMIN_OPENID}"})}


async def raw_post(url: str, params: dict[str, str], body: str | bytes) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.post(url, params=params, data=body) as r:
        return r.status, await r.text()


def captured_safe_mode_query(xml: str, timestamp: str, nonce: str) -> tuple[dict, str]:
    """What an eavesdropper sees of one safe-mode request: its query and its body."""
    encrypt = WeChatCrypto(AES_KEY, APP_ID).encrypt(xml)
    params = {
        "timestamp": timestamp,
        "nonce": nonce,
        "signature": signature(TOKEN, timestamp, nonce),
        "encrypt_type": "aes",
        "msg_signature": signature(TOKEN, timestamp, nonce, encrypt),
    }
    body = f"<xml><ToUserName>{ACCOUNT}</ToUserName><Encrypt>{encrypt}</Encrypt></xml>"
    return params, body


async def test_safe_mode_refuses_a_plaintext_body_under_a_captured_query(db_path):
    async with running_wechat(db_path, mode="safe", **STAFF) as (url, app, _api):
        now = str(int(time.time()))
        params, body = captured_safe_mode_query(
            message_xml("oSOMEONE", "text", 1, Content="/start"), now, "cap1"
        )
        assert (await raw_post(url, params, body))[0] == 200  # WeChat's own request
        # the attacker strips the encryption parameters and posts plaintext as the admin
        forged = {k: v for k, v in params.items() if k not in ("encrypt_type", "msg_signature")}
        for nonce_params in (forged, {**forged, "nonce": "cap2"}):
            status, reply = await raw_post(
                url, nonce_params, message_xml(ADMIN_OPENID, "text", 2, Content="/menu")
            )
            assert status == 403 and "Content" not in reply
        assert await load_user(app, f"wx:{ADMIN_OPENID}") is None
        # in safe mode even a correctly signed plaintext request is refused
        status, _ = await post(url, message_xml("oPLAIN", "text", 3, Content="/start"))
        assert status == 403
        assert await load_user(app, "wx:oPLAIN") is None


async def test_a_plaintext_request_never_acts_as_staff(db_path):
    async with running_wechat(db_path, mode="plain", **STAFF) as (url, app, _api):
        admin = WeChatPlayer(url, ADMIN_OPENID, "raw")
        await admin.say("/start")  # greeted as anyone: staff would get their menu at once
        assert "你好！我是好心家政" in admin.text
        await admin.tap("继续")
        assert "管理" not in admin.text and "主菜单：培训和工作" in admin.text
        await admin.say("/menu")
        assert "管理员菜单" not in admin.text
        assert (await load_user(app, f"wx:{ADMIN_OPENID}")).state != "ADMIN_MENU"


async def test_compatible_mode_reads_the_encrypted_copy_only(db_path):
    """In compatible mode WeChat sends every message both plain and encrypted: the
    encrypted copy is read, and a plaintext-only body (never sent by WeChat in this mode:
    a forgery under a signed URL) is refused, so it can neither act as staff nor erase."""
    async with running_wechat(db_path, mode="compatible", **STAFF) as (url, app, _api):
        admin = WeChatPlayer(url, ADMIN_OPENID, "compatible")
        await admin.say("/start")  # staff: their menu at once
        assert (await load_user(app, f"wx:{ADMIN_OPENID}")).state == "ADMIN_MENU"
        bye = message_xml(ADMIN_OPENID, "event", Event="unsubscribe")
        assert (await post(url, bye))[0] == 403  # plaintext only: refused
        assert (await post(url, message_xml(ADMIN_OPENID, "text", 9, Content="/menu")))[0] == 403
        assert await load_user(app, f"wx:{ADMIN_OPENID}") is not None


@pytest.mark.parametrize("age", [-3 * 24 * 3600, -330, 330, 10 * 60])  # the limit: 300
@pytest.mark.parametrize(("server", "mode"), [("plain", "raw"), ("safe", "aes")])
async def test_requests_older_or_newer_than_five_minutes_are_refused(db_path, age, server, mode):
    async with running_wechat(db_path, mode=server) as (url, app, _api):
        when = str(int(time.time()) + age)
        status, _ = await post(
            url, message_xml("oSTALE", "text", 1, Content="/start"), mode=mode, timestamp=when
        )
        assert status == 403
        assert await load_user(app, "wx:oSTALE") is None
        # a GET verification URL that old is refused too
        params = {"timestamp": when, "nonce": "g", "echostr": "e"}
        params["signature"] = signature(TOKEN, when, "g")
        async with aiohttp.ClientSession() as http, http.get(url, params=params) as r:
            assert r.status == 403


async def test_a_stale_signed_unsubscribe_erases_nothing(db_path):
    async with running_wechat(db_path) as (url, app, _api):
        me = WeChatPlayer(url, "oKEEP")
        await me.say("/start")
        old = str(int(time.time()) - 3 * 24 * 3600)
        bye = message_xml("oKEEP", "event", Event="unsubscribe")
        assert (await post(url, bye, timestamp=old))[0] == 403
        assert await load_user(app, "wx:oKEEP") is not None


@pytest.mark.parametrize(("server", "mode"), [("plain", "raw"), ("safe", "aes")])
async def test_a_nonce_is_used_once(db_path, server, mode):
    async with running_wechat(db_path, mode=server) as (url, app, _api):
        now = str(int(time.time()))
        hello = message_xml("oONCE", "text", 11, Content="/start")
        first = await post(url, hello, mode=mode, timestamp=now, nonce="same")
        again = await post(url, hello, mode=mode, timestamp=now, nonce="same")  # WeChat retrying
        assert first[0] == again[0] == 200
        assert "你好！我是好心家政" in again[1]
        strip = lambda body: body.split("<MsgType>")[1]  # noqa: E731 - CreateTime may differ
        assert strip(first[1]) == strip(again[1])
        # the same signed pair with another body is a replay: refused, not handled
        other = message_xml("oOTHER", "text", 12, Content="/start")
        assert (await post(url, other, mode=mode, timestamp=now, nonce="same"))[0] == 403
        assert await load_user(app, "wx:oOTHER") is None
        forget = message_xml("oONCE", "text", 14, Content="/delete_me")
        assert (await post(url, forget, mode=mode, timestamp=now, nonce="same"))[0] == 403
        async with app.db.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(SignedRequest)) == 1
            handled = await s.scalar(select(func.count()).select_from(ProcessedEvent))
        assert handled == 1
        assert (await load_user(app, "wx:oONCE")).state == "GREETING"


async def test_the_server_verification_signature_does_not_sign_a_post(db_path):
    async with running_wechat(db_path, mode="plain") as (url, app, _api):
        now = str(int(time.time()))
        query = {
            "timestamp": now,
            "nonce": "verify1",
            "signature": signature(TOKEN, now, "verify1"),
        }
        async with aiohttp.ClientSession() as http:
            async with http.get(url, params={**query, "echostr": "e1"}) as r:
                assert r.status == 200 and await r.text() == "e1"
            async with http.get(url, params={**query, "echostr": "anything"}) as r:
                assert r.status == 403  # used up: the URL cannot echo again
        status, _ = await raw_post(url, query, message_xml("oVERI", "text", 1, Content="/start"))
        assert status == 403
        assert await load_user(app, "wx:oVERI") is None


async def test_unfollowing_erases_once_and_a_replay_cannot_erase_again(db_path):
    async with running_wechat(db_path) as (url, app, _api):
        me = WeChatPlayer(url, "oBYE")
        await me.say("/start")
        now = str(int(time.time()))
        bye = message_xml("oBYE", "event", Event="unsubscribe")
        assert await post(url, bye, timestamp=now, nonce="bye") == (200, "success")
        assert await load_user(app, "wx:oBYE") is None
        await me.say("/start")  # she follows again and starts over
        await me.tap("继续")
        assert await post(url, bye, timestamp=now, nonce="bye") == (200, "success")  # replayed
        assert (await load_user(app, "wx:oBYE")).state == "SEEKER_MENU"  # nothing erased


async def test_a_replay_after_unfollowing_does_not_bring_her_back(db_path):
    async with running_wechat(db_path) as (url, app, _api):
        now = str(int(time.time()))
        hello = message_xml("oGONE", "text", 77, Content="/start")
        assert (await post(url, hello, timestamp=now, nonce="hello"))[0] == 200
        bye = message_xml("oGONE", "event", Event="unsubscribe")
        assert await post(url, bye) == (200, "success")
        assert await load_user(app, "wx:oGONE") is None
        # the captured request, sent again within its five minutes, starts nothing
        status, body = await post(url, hello, timestamp=now, nonce="hello")
        assert status == 200 and "你好" not in body
        status, body = await post(url, hello)  # or under a new signed URL
        assert status == 200 and "你好" not in body
        assert await load_user(app, "wx:oGONE") is None


async def test_an_unfollow_that_failed_is_erased_by_wechats_retry(db_path, monkeypatch):
    async with running_wechat(db_path) as (url, app, _api):
        me = WeChatPlayer(url, "oRETRYBYE")
        await me.say("/start")
        import bot.dispatcher

        real = bot.dispatcher.erase_person
        calls = []

        async def fails_once(*args, **kwargs):
            calls.append(1)
            if len(calls) == 1:
                raise RuntimeError("the disk is full")
            return await real(*args, **kwargs)

        monkeypatch.setattr(bot.dispatcher, "erase_person", fails_once)
        now = str(int(time.time()))
        bye = message_xml("oRETRYBYE", "event", Event="unsubscribe")
        assert (await post(url, bye, timestamp=now, nonce="bye1"))[0] == 500
        assert await post(url, bye, timestamp=now, nonce="bye1") == (200, "success")
        assert await load_user(app, "wx:oRETRYBYE") is None


async def test_wechat_retries_of_one_msgid_get_the_same_reply(db_path):
    """WeChat retries a message up to three times within 15 s, each a new signed request
    with the same MsgId: the reply is the same and the message is handled once."""
    async with running_wechat(db_path, mode="safe") as (url, app, _api):
        await post(url, message_xml("oRETRY", "text", 500, Content="/start"), mode="aes")
        tap = message_xml("oRETRY", "text", 501, Content="1")
        replies = [(await post(url, tap, mode="aes"))[1] for _ in range(3)]
        assert "主菜单：培训和工作" in replies[0]
        assert len({r.split("<MsgType>")[1] for r in replies}) == 1
        assert (await load_user(app, "wx:oRETRY")).state == "SEEKER_MENU"


async def test_the_same_msgid_from_two_followers_is_two_messages(db_path):
    async with running_wechat(db_path) as (url, app, _api):
        a, b = WeChatPlayer(url, "oFOLLOWER_A"), WeChatPlayer(url, "oFOLLOWER_B")
        await a.send(message_xml("oFOLLOWER_A", "text", 1, Content="/help"))
        assert "/delete_me" in a.text
        await b.send(message_xml("oFOLLOWER_B", "text", 1, Content="/start"))
        assert "你好！我是好心家政" in b.text and "/delete_me" not in b.text
        assert (await load_user(app, "wx:oFOLLOWER_B")).state == "GREETING"
        # events (no MsgId) at the same second from two followers are two events too
        for who in (a, b):
            await who.send(message_xml(who.openid, "event", Event="CLICK", EventKey="/help"))
            assert "/delete_me" in who.text
        # and two menu clicks of one person within one second are two events
        await a.send(message_xml(a.openid, "event", Event="CLICK", EventKey="/privacy"))
        assert "你的隐私" in a.text  # the privacy notice, not /help's answer again


async def test_a_long_reply_is_split_within_wechats_2048_bytes(db_path):
    """A job fair with 20 employers: the passive reply carries what fits in 2,048 UTF-8
    bytes, the rest follows through the customer-service API, in order even when a send
    fails and is retried; nothing is cut."""
    from tests.catalogue import load
    from tests.test_fairs import fair

    firms = [
        (
            f"茂名好心家政服务有限公司第{n}分公司🌸 Maoming Home Care Branch {n}",
            "月嫂",
            "深圳",
            9000 + n,
            15000 + n,
            True,
        )
        for n in range(1, 21)
    ]
    async with running_wechat(db_path) as (url, app, api):
        await load(app, [], [fair("big", "大湾区家政招聘大会", 5, "茂南", firms)])
        me = WeChatPlayer(url, "oLONG")
        api.errcodes = [-1]  # the first customer-service send fails: the rest must wait
        await me.say("/start fair_1")  # first contact: a hello, then the long card
        passive = me.text
        assert len(passive.encode()) <= 2048
        for _ in range(200):
            async with app.db.sessions() as s:
                pending = await s.scalar(
                    select(func.count()).select_from(Outbox).where(Outbox.status != "sent")
                )
            if api.sent and not pending:  # a retry comes after 2 s
                break
            await asyncio.sleep(0.05)
        later = [m["text"]["content"] for m in api.sent if m["touser"] == "oLONG"]
        assert later and all(len(t.encode()) <= 2048 for t in later)
        whole = "\n".join([passive, *later])
        where = [whole.find(f"Maoming Home Care Branch {n}：月嫂") for n in range(1, 21)]
        assert -1 not in where and where == sorted(where)  # all there, in order
        assert whole.count("🌸") == 20
