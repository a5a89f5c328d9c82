"""Photos and files over real HTTP: in from Telegram (both frameworks), WeChat and the
terminal, fetched before the core sees them; pictures out through sendPhoto, WeChat's
media upload and the terminal's path line."""

from __future__ import annotations

import asyncio
import io
import itertools
import logging
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.console import chat
from bot.telegram import Telegram, api_calls, check_update, to_event
from handlers import FLOWS
from handlers.context import Ctx
from handlers.events import MAX_FILE_BYTES, Attachment
from handlers.replies import Button, Reply
from handlers.router import Flows, Replies, Router
from storage.files import FileRejected
from tests.fake_telegram import FakeTelegram
from tests.telegram_player import TelegramPlayer, running_bot
from tests.wechat_player import WeChatPlayer, message_xml, running_wechat

FRAMEWORKS = ["aiogram", "ptb"]
BIG = 6 * 1024 * 1024
_msg_ids = itertools.count(70_000_000_000)


def photo_bytes() -> bytes:
    """A phone's photo, with the place it was taken in its EXIF."""
    exif = Image.Exif()
    exif.get_ifd(0x8825)[1] = "N"
    image = Image.effect_noise((320, 240), 40).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def file_flows() -> tuple[Flows, list[Attachment]]:
    """Haoxin's flows and one more state that takes a photo: what it got is recorded,
    a photo is kept (`FileRepo.keep_image`) and shown back with the reply."""
    router = Router("test_files")
    take = router.state("TEST_TAKE_FILE")
    got: list[Attachment] = []

    @router.prompt(take)
    async def ask(ctx: Ctx) -> Replies:
        return [ctx.reply("Send me a photo of your certificate.")]

    @router.file(take)
    async def keep(ctx: Ctx, attachment: Attachment) -> Replies:
        got.append(attachment)
        if attachment.data is None:
            return [ctx.reply(f"not fetched: {attachment.size} bytes, failed={attachment.failed}")]
        try:
            name = await ctx.repos.files.keep_image(ctx.user, "certificate", attachment.data)
        except FileRejected as refused:
            return [ctx.reply(f"refused: {refused.reason} {refused.found}")]
        menu = [ctx.button("Main menu", "home")]
        return [ctx.reply(f"Kept your photo ({len(attachment.data)} bytes).", menu, photo=name)]

    @router.command("test_photo")
    async def open_it(ctx: Ctx, _arg: str) -> Replies:
        return await ctx.goto(take)

    mine, flows = Flows([router]), Flows([])
    for attr in ("states", "commands", "actions", "deep_links"):
        setattr(flows, attr, {**getattr(FLOWS, attr), **getattr(mine, attr)})
    return flows, got


async def settle(fake: FakeTelegram, user_id: int, push: Any) -> list[tuple[str, dict]]:
    before = len(fake.sent_to(user_id))
    await push
    return await fake.settle(user_id, before)


# --- Telegram ----------------------------------------------------------------------------


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_telegram_photo_reaches_the_state_and_comes_back_as_a_photo(db_path, framework):
    flows, got = file_flows()
    photo = photo_bytes()
    async with running_bot(db_path, framework) as (fake, app, _):
        app.dispatcher.flows = flows
        me = TelegramPlayer(fake, 701)
        await me.say("/test_photo")
        assert "Send me a photo" in me.text

        sent = await settle(fake, 701, fake.send_photo(701, photo))
        assert got[-1] == Attachment("photo", photo, len(photo))  # the exact bytes
        (file_id,) = [p["file_id"] for m, p in fake.calls if m == "getFile"]
        assert fake.files[file_id] == photo  # the largest size, not the thumbnail
        assert fake.downloads == [f"documents/{file_id}.bin"]

        (method, params), *_rest = sent
        assert method == "sendPhoto" and not _rest  # the text fits: the photo's caption
        store = app.dispatcher.files
        (name,) = [p.name for p in store.root.iterdir()]
        assert params["photo"] == store.read(name) and params["photo"].startswith(b"\xff\xd8")
        assert b"Exif" not in params["photo"]
        assert params["caption"] == f"Kept your photo ({len(photo)} bytes)."
        assert params["reply_markup"]["inline_keyboard"][0][0]["text"] == "Main menu"


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_telegram_file_over_5_mb_is_never_downloaded(db_path, framework):
    flows, got = file_flows()
    async with running_bot(db_path, framework) as (fake, app, _):
        app.dispatcher.flows = flows
        await TelegramPlayer(fake, 702).say("/test_photo")
        big = b"%PDF-1.7\n" + b"0" * BIG

        sent = await settle(fake, 702, fake.send_document(702, big, "scan.pdf"))
        assert f"not fetched: {len(big)} bytes, failed=False" in sent[0][1]["text"]
        assert got[-1].too_big and got[-1].data is None and got[-1].name == "scan.pdf"
        assert not [m for m, _p in fake.calls if m == "getFile"] and not fake.downloads

        # a size not reported, or wrong, still never brings more than the limit + 1 byte
        for reported in (None, 1000):
            sent = await settle(fake, 702, fake.send_document(702, big, reported=reported))
            assert got[-1].data is None and got[-1].size == MAX_FILE_BYTES + 1
            assert f"not fetched: {MAX_FILE_BYTES + 1} bytes" in sent[0][1]["text"]
        assert len(fake.downloads) == 2

        # a small document is fetched, and the store reads what it is from its content
        sent = await settle(fake, 702, fake.send_document(702, b"%PDF-1.4 a scan", "a.jpg"))
        assert got[-1] == Attachment("document", b"%PDF-1.4 a scan", 15, "a.jpg")
        assert sent[0][1]["text"] == "refused: not_image pdf"


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_telegram_file_that_cannot_be_fetched_arrives_failed(db_path, framework, caplog):
    flows, got = file_flows()
    async with running_bot(db_path, framework) as (fake, app, _):
        app.dispatcher.flows = flows
        await TelegramPlayer(fake, 703).say("/test_photo")
        caplog.set_level(logging.INFO)
        gone = {"file_id": "gone", "file_unique_id": "g", "width": 10, "height": 10}
        sent = await settle(fake, 703, fake.push(fake.message(703, "en", photo=[gone])))
        assert got[-1] == Attachment("photo", None, 0, failed=True)
        assert "failed=True" in sent[0][1]["text"]
        assert not any("TEST-TOKEN" in r.getMessage() for r in caplog.records)


def test_telegram_updates_with_files_are_checked_and_read():
    fake = FakeTelegram()
    size = {"file_id": "A", "file_unique_id": "a", "width": 10, "height": 10, "file_size": 99}
    good = {"update_id": 1, **fake.message(5, "en", photo=[size])}
    assert check_update(good) is good
    for broken in ([{"file_id": "A"}], [], "x", [{**size, "file_size": "99"}]):
        with pytest.raises(ValueError, match=r"photo|file_unique_id|width|file_size"):
            check_update({"update_id": 2, **fake.message(5, "en", photo=broken)})
    with pytest.raises(ValueError):
        check_update({"update_id": 3, **fake.message(5, "en", document={"file_id": 1})})

    document = {"file_id": "D", "file_unique_id": "d", "file_name": "x.pdf", "file_size": BIG}
    event = to_event({"update_id": 4, **fake.message(5, "en", document=document)})
    assert event.attachment == Attachment("document", None, BIG, "x.pdf")  # too big: kept so
    event = to_event({"update_id": 5, **fake.message(5, "en", photo=[size])})
    assert event.attachment == Attachment("photo", None, 99, failed=True)  # until fetched
    sticker = {"file_id": "S", "file_unique_id": "s", "width": 1, "height": 1, "type": "regular"}
    assert to_event({"update_id": 6, **fake.message(5, "en", sticker=sticker)}).media == "sticker"


def test_a_long_text_goes_after_its_photo_with_the_buttons():
    picture = b"\xff\xd8\xff picture"
    buttons = [[Button("Main menu", "x|home")]]
    short = api_calls(9, [Reply("Your card", buttons, photo="p")], picture=lambda _n: picture)
    assert [m for m, _p in short] == ["sendPhoto"]
    assert short[0][1]["caption"] == "Your card" and "reply_markup" in short[0][1]

    text = "证" * 1500  # over the caption's 1,024 UTF-16 code units
    long = api_calls(9, [Reply(text, buttons, photo="p")], picture=lambda _n: picture)
    assert [m for m, _p in long] == ["sendPhoto", "sendMessage"]
    assert long[0][1] == {"chat_id": 9, "photo": picture}
    assert long[1][1]["text"] == text and "reply_markup" in long[1][1]

    gone = api_calls(9, [Reply("Your card", buttons, photo="p")], picture=lambda _n: None)
    assert [m for m, _p in gone] == ["sendMessage"]


async def test_a_missing_picture_sends_the_text_alone(app, caplog):
    calls: list[tuple[str, dict[str, Any]]] = []

    async def call(method: str, params: dict[str, Any]) -> Any:
        calls.append((method, params))
        return {"message_id": 1}

    telegram = Telegram(app.dispatcher, app.db, call)
    missing = "0" * 32 + ".jpg"
    await telegram.send("tg:704", [Reply("Your certificate", photo=missing)])
    assert calls == [("sendMessage", {"chat_id": 704, "text": "Your certificate"})]
    assert "missing" in caplog.text and missing not in caplog.text


# --- WeChat ------------------------------------------------------------------------------


async def test_a_wechat_picture_is_fetched_and_a_picture_goes_back(db_path):
    flows, got = file_flows()
    photo = photo_bytes()
    async with running_wechat(db_path, "safe") as (url, app, api):
        app.dispatcher.flows = flows
        me = WeChatPlayer(url, "oPIC", mode="aes")
        await me.say("/test_photo")
        assert "Send me a photo" in me.text
        api.media["MEDIA_1"] = photo
        image = message_xml(
            "oPIC", "image", next(_msg_ids), PicUrl="http://mmbiz.qpic.cn/x", MediaId="MEDIA_1"
        )
        await me.send(image)
        assert me.text.startswith(f"Kept your photo ({len(photo)} bytes).")  # the passive reply
        assert api.media_gets == ["MEDIA_1"] and got[-1] == Attachment("photo", photo, len(photo))

        # the picture follows through the outbox: uploaded, then sent as an image message
        for _ in range(200):
            if any(m["msgtype"] == "image" for m in api.sent):
                break
            await asyncio.sleep(0.05)
        (upload,) = api.uploads
        (name,) = [p.name for p in app.dispatcher.files.root.iterdir()]
        assert upload["type"] == "image" and upload["filename"] == name
        assert upload["data"] == app.dispatcher.files.read(name)
        (sent,) = [m for m in api.sent if m["msgtype"] == "image"]
        assert sent["touser"] == "oPIC" and sent["image"] == {"media_id": upload["media_id"]}
        assert not [m for m in api.sent if m["msgtype"] == "text"]  # the text went passively

        await me.send(message_xml("oPIC", "image", next(_msg_ids), MediaId="NO_SUCH_MEDIA"))
        assert got[-1] == Attachment("photo", None, 0, failed=True)
        assert "failed=True" in me.text


async def test_wechat_voice_and_video_stay_media(db_path):
    from bot.wechat import to_event as wechat_event

    video = {"FromUserName": "o1", "MsgType": "video", "MediaId": "v", "MsgId": "1"}
    assert wechat_event(video).media == "video" and wechat_event(video).attachment is None
    image = {"FromUserName": "o1", "MsgType": "image", "MediaId": "m", "MsgId": "2"}
    assert wechat_event(image).attachment == Attachment("photo", None, 0, failed=True)


# --- the terminal ------------------------------------------------------------------------


async def test_the_terminal_sends_photos_and_shows_pictures(app, tmp_path):
    flows, got = file_flows()
    app.dispatcher.flows = flows
    picture = tmp_path / "my certificate.jpg"
    picture.write_bytes(photo_bytes())
    big = tmp_path / "big.pdf"
    with big.open("wb") as f:
        f.truncate(BIG)  # 6 MB on paper, never read whole
    lines = [
        "/test_photo",
        f"/photo {picture}",
        f"/photo {tmp_path / 'nothing.jpg'}",
        f"/file {big}",
        f"/file {tmp_path}",
        "/photo",
    ]
    out = io.StringIO()
    await chat(
        app.dispatcher, "console:mei", stdin=io.StringIO("\n".join(lines) + "\n"), stdout=out
    )
    text = out.getvalue()
    assert got[0] == Attachment("photo", picture.read_bytes(), picture.stat().st_size, picture.name)
    (name,) = [p.name for p in app.dispatcher.files.root.iterdir()]
    shown = Path(text.split("[picture: ", 1)[1].split("]", 1)[0])
    assert shown.is_absolute() and shown == app.dispatcher.files.path(name).absolute()
    assert f"no such file: {tmp_path / 'nothing.jpg'}" in text
    assert got[1] == Attachment("document", None, BIG, "big.pdf")
    assert f"not fetched: {BIG} bytes, failed=False" in text
    assert f"not a file: {tmp_path}" in text
    assert "which file? /photo PATH" in text
    assert len(got) == 2  # a missing file or a folder never reached the core
