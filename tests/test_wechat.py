"""WeChat end to end: signed and encrypted XML over real HTTP to the running server."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.wechat_crypto import WeChatCrypto, signature
from handlers.replies import Reply
from storage.models import Outbox, ProcessedEvent
from storage.repositories import Repos
from tests.conftest import load_user
from tests.wechat_player import (
    AES_KEY,
    APP_ID,
    TOKEN,
    WeChatPlayer,
    message_xml,
    post,
    running_wechat,
)


async def test_url_verification(db_path):
    async with running_wechat(db_path) as (url, _app, _api):
        now = str(int(time.time()))
        params = {"timestamp": now, "nonce": "abc", "echostr": "hello-echo"}
        async with aiohttp.ClientSession() as http:
            good = {**params, "signature": signature(TOKEN, now, "abc")}
            async with http.get(url, params=good) as r:
                assert r.status == 200 and await r.text() == "hello-echo"
            async with http.get(url, params={**params, "signature": "f" * 40}) as r:
                assert r.status == 403


@pytest.mark.parametrize(
    ("server", "mode"), [("plain", "raw"), ("compatible", "compatible"), ("safe", "aes")]
)
async def test_onboarding_in_each_mode(db_path, server, mode):
    async with running_wechat(db_path, mode=server) as (url, app, _api):
        me = WeChatPlayer(url, "oMEI001", mode)
        await me.say("你好")
        assert "你好！我是好心家政" in me.text and "1. 继续 ▶" in me.text
        await me.tap("继续")
        assert "主菜单：培训和工作" in me.text and "我的求职资料" in me.text
        assert "你的隐私" not in me.text  # asked at her first personal question, or here:
        await me.say("/privacy")
        assert "你的隐私" in me.text
        await me.say("我同意")  # the label, typed, works like the number
        assert "主菜单：培训和工作" in me.text
        user = await load_user(app, "wx:oMEI001")
        assert user.state == "SEEKER_MENU" and user.consented_at is not None


async def test_a_retried_message_gets_the_same_reply_and_is_handled_once(db_path):
    async with running_wechat(db_path) as (url, app, _api):
        await post(url, message_xml("oDUP", "text", 1, Content="/start"))
        xml = message_xml("oDUP", "text", 2, Content="1")
        first = await post(url, xml)
        again = await asyncio.gather(post(url, xml), post(url, xml))
        assert first[0] == 200 and "Content" in first[1]
        strip = lambda body: body.split("<MsgType>")[1]  # noqa: E731 - CreateTime may differ
        assert all(strip(body) == strip(first[1]) for _status, body in again)
        assert (await load_user(app, "wx:oDUP")).state == "SEEKER_MENU"
        async with app.db.sessions() as s:
            n = await s.scalar(select(func.count()).select_from(ProcessedEvent))
        assert n == 2


async def test_events_follow_scan_click_location_image_and_unfollow(db_path):
    from tests.catalogue import course, load

    async with running_wechat(db_path) as (url, app, _api):
        ids = await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
        me = WeChatPlayer(url, "oEVT")
        scene = f"qrscene_course_{ids['ys1']}"  # a poster's code: following opens the card
        await me.send(message_xml("oEVT", "event", Event="subscribe", EventKey=scene))
        assert "你好！我是好心家政" in me.text and "好心月嫂初级班" in me.text
        user = await load_user(app, "wx:oEVT")
        assert user.state == "COURSE_CARD" and user.start_payload is None
        await me.send(message_xml("oEVT", "event", Event="CLICK", EventKey="/help"))
        assert "/delete_me" in me.text
        await me.send(
            message_xml(
                "oEVT",
                "location",
                7,
                Location_X="21.66",
                Location_Y="110.92",
                Scale="15",
                Label="茂名",
            )
        )
        assert "不需要位置" in me.text
        await me.send(message_xml("oEVT", "image", 8, PicUrl="http://x/y.jpg", MediaId="m"))
        assert "不需要照片或文件" in me.text
        await me.send(
            message_xml("oEVT", "voice", 9, MediaId="m", Format="amr", Recognition="报名")
        )  # WeChat's speech-to-text: "sign up", so the privacy question first
        assert "你的隐私" in me.text

        status, body = await post(url, message_xml("oEVT", "event", Event="unsubscribe"))
        assert status == 200 and body == "success"
        assert await load_user(app, "wx:oEVT") is None  # unfollowing deletes the data


async def test_hostile_requests_never_reach_the_core(db_path):
    async with running_wechat(db_path) as (url, app, _api):
        doctype = (
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY big "boom">]>'
            + message_xml("oBAD", "text", 1, Content="&big;")[0:]
        )
        assert (await post(url, doctype))[0] == 400
        assert (await post(url, doctype, mode="aes"))[0] == 400
        bomb = '<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><xml><a>&b;</a></xml>'
        assert (await post(url, bomb))[0] == 400
        ok = message_xml("oBAD", "text", 2, Content="/start")
        assert (await post(url, ok, good_signature=False))[0] == 403
        assert (await post(url, ok, mode="aes", good_signature=False))[0] == 403
        assert (await post(url, "<xml><unclosed>"))[0] == 400
        assert (await post(url, b"\xff\xfe not xml at all"))[0] == 400
        huge = message_xml("oBAD", "text", 3, Content="好" * 30_000)  # about 90 KB
        assert (await post(url, huge))[0] == 413
        other = WeChatCrypto("B" * 43, "wxOTHER").encrypt(ok)  # another account's message
        ts, nonce = "1700000000", "n"
        params = {
            "timestamp": ts,
            "nonce": nonce,
            "encrypt_type": "aes",
            "msg_signature": signature(TOKEN, ts, nonce, other),
        }
        async with (
            aiohttp.ClientSession() as http,
            http.post(url, params=params, data=f"<xml><Encrypt>{other}</Encrypt></xml>") as r,
        ):
            assert r.status == 403
        assert await load_user(app, "wx:oBAD") is None
        status, _body = await post(url, ok)  # the server is still fine
        assert status == 200


async def test_sending_later_uses_the_customer_service_api(db_path):
    async with running_wechat(db_path) as (url, app, api):
        me = WeChatPlayer(url, "oLATER")
        await me.say("/start")
        api.errcodes = [0, 45015]  # the second person is outside the 48-hour window
        async with app.db.sessions() as s, s.begin():
            Repos(s).outbox.add("wx:oLATER", [Reply("明天开课提醒", [[]]).to_dict()])
            Repos(s).outbox.add("wx:oGONE", [Reply("Nobody").to_dict()])
        for _ in range(100):
            async with app.db.sessions() as s:
                rows = list(await s.scalars(select(Outbox).order_by(Outbox.id)))
            if all(r.status != "pending" and r.status != "sending" for r in rows):
                break
            await asyncio.sleep(0.05)
        assert [r.status for r in rows] == ["sent", "unreachable"]
        assert api.sent == [
            {
                "token": "T1",
                "touser": "oLATER",
                "msgtype": "text",
                "text": {"content": "明天开课提醒"},
            }
        ]
        assert api.token_calls == 1  # the access token is cached


async def test_a_slow_answer_follows_through_the_customer_service_api(db_path, monkeypatch):
    monkeypatch.setattr("bot.wechat.REPLY_WITHIN", 0.0)  # as if handling took over 5 s
    async with running_wechat(db_path) as (url, _app, api):
        status, body = await post(url, message_xml("oSLOW", "text", 1, Content="/start"))
        assert status == 200 and body == "success"  # WeChat is answered in time
        for _ in range(100):
            if api.sent:
                break
            await asyncio.sleep(0.05)
        assert api.sent[0]["touser"] == "oSLOW"
        assert "你好！我是好心家政" in api.sent[0]["text"]["content"]


def test_safe_mode_crypto_round_trip_and_known_vector():
    crypto = WeChatCrypto(AES_KEY, APP_ID)
    secret = crypto.encrypt("<xml>你好</xml>", nonce=b"0123456789abcdef")
    assert crypto.decrypt(secret) == "<xml>你好</xml>"
    assert len(__import__("base64").b64decode(secret)) % 32 == 0


def test_buttons_become_a_numbered_list_and_share_buttons_are_left_out():
    from bot.wechat import render
    from handlers.replies import Button

    text = render(
        [
            Reply(
                "Your phone?",
                [[Button("◀ Back", "a|back"), Button("✖ Cancel", "a|x")]],
                request_contact="📱 Share my phone number",
            ),
            Reply("Next", [[Button("Go", "a|go")]]),
        ]
    )
    assert text == "Your phone?\n1. ◀ Back\n2. ✖ Cancel\n\nNext\n3. Go"
