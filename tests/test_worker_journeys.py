"""A worker's whole journey over the real transports, as the issue's "Done when" asks.

Over real HTTP against the fake Telegram Bot API (aiogram and python-telegram-bot): she
builds her profile by tapping and typing, sends her certificate as a Telegram photo (kept
without its EXIF), and sends it for checking; staff vet it check by check, ask for
changes, she answers, edits and sends it again, staff approve; her credential comes as a
PNG; strangers check her code in Chinese, Cantonese and English and see nothing private;
she erases herself and her files go from disk.

Over signed WeChat requests: a stranger checks a code in Chinese, and a certificate
photo sent as an image message is fetched from the media API and kept without its EXIF.

At the terminal: she sends her certificate with `/photo PATH`, staff at another
terminal approve her, and her card prints as `[picture: ...]`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import queue
import re
from pathlib import Path
from typing import Any, Protocol

import pytest
from PIL import Image
from sqlalchemy import select

from bot.app import App
from bot.console import chat
from handlers.context import Options
from locales import translator
from storage.models import StoredFile, User, WorkerProfile
from storage.repositories import Repos
from storage.workers import id_digest, show_code
from tests.conftest import ADMIN, load_user
from tests.fake_telegram import FakeTelegram
from tests.telegram_player import TelegramPlayer, running_bot
from tests.wechat_player import WeChatPlayer, message_xml, running_wechat

FRAMEWORKS = ["aiogram", "ptb"]
WORKER, STAFF = 701, 900  # tg:900 is an admin (tests.conftest.make_settings)
#: strangers who never used Haoxin, by the language their Telegram app reports
STRANGERS = {"zh": (801, "zh-hans"), "yue": (802, "zh-hk"), "en": (803, "en")}

NAME = "李秀梅"
ID_NUMBER = "11010519491231002X"  # a valid test number (GB 11643 check digit X)
PHONE = "13800138000"
CERT_NUMBER = "MN-2024-0031"
ISSUER = "茂名市人社局"
TODAY = Options().now().date()  # the programme's local date, as the screens use it
EXAMINED = TODAY - dt.timedelta(days=40)  # her health examination
REASON = "请在介绍里写上会不会做月子餐"
ANSWER = "已经写上了"
GPS_IFD = 0x8825


def phone_photo() -> bytes:
    """A photo as a phone takes it: a JPEG whose EXIF says where it was taken."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (21.0, 39.0, 30.0), 3: "E", 4: (110.0, 55.0, 12.0)})
    out = io.BytesIO()
    Image.effect_noise((320, 240), 40).convert("RGB").save(out, "JPEG", exif=exif.tobytes())
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the place is in it
    return data


def assert_no_exif(stored: bytes) -> None:
    """A kept photo: a JPEG with no EXIF (so no GPS position, no phone maker) left."""
    assert stored.startswith(b"\xff\xd8")
    assert b"Exif" not in stored and b"PhoneMaker" not in stored
    image = Image.open(io.BytesIO(stored))
    assert not image.getexif() and "exif" not in image.info


def nothing_private(text: str) -> None:
    """No phone, no ID digits, no certificate number or issuer on a public answer."""
    for secret in (PHONE, ID_NUMBER, ID_NUMBER[-4:], CERT_NUMBER, ISSUER):
        assert secret not in text, secret
    assert not re.search(r"\d{11}", text)  # no phone number of anyone's


# --- what a person does, on any transport ------------------------------------------------
class Person(Protocol):
    """Someone typing and tapping: `TelegramPlayer`, `ConsolePlayer`."""

    @property
    def text(self) -> str: ...

    async def say(self, text: str) -> Any: ...

    async def tap(self, label: str) -> Any: ...


async def build_profile(me: Person, send_photo: Any) -> None:
    """From “✍ Make my worker profile” through every part to the preview, tapping and
    typing (English labels); `send_photo()` sends the certificate's photo."""
    await me.tap("Make my worker profile")
    assert "Your name as on your ID card? Please type it." in me.text
    await me.say(NAME)
    await me.tap("Maternity nurse (yuesao)")
    await me.tap("Done")
    await me.tap("Lactation consultant")
    await me.tap("Done")
    await me.say("5")  # years in home services
    await me.tap("No more")  # no past jobs
    await me.tap("Maonan")
    await me.tap("Shenzhen")
    await me.tap("Done")
    await me.tap("Live-in")
    await me.tap("Done")
    await me.tap("7,000–10,000")
    await me.tap("Mandarin")
    await me.tap("Cantonese")
    await me.tap("Done")
    await me.tap("From now")
    await me.tap("No end date")
    await me.say("做月嫂五年。")
    await me.tap("Add a certificate")
    await me.tap("Maternity nurse certificate")
    await me.say(CERT_NUMBER)
    await me.say(ISSUER)
    await me.say("2024-05-20")
    assert "Send a photo of the certificate" in me.text
    await send_photo()
    assert "Certificate added." in me.text
    await me.tap("Done")
    await me.say(ID_NUMBER)
    assert "only the last four characters are kept" in me.text
    await me.tap("I agree: keep the date I passed")
    await me.say(EXAMINED.isoformat())
    assert "This is how households will see your profile:" in me.text
    assert NAME in me.text and "Live-in: CN¥7,000–10,000 a month" in me.text
    assert ID_NUMBER not in me.text and "002X" not in me.text


async def record(staff: Person, check: str, *, on: dt.date | None = None, note: str = "") -> None:
    """Staff record a check as passed: for a health check the examination's date, then
    a note or “No note”."""
    await staff.tap(f"✅ {check} passed")
    if on is not None:
        assert "on what date was the examination?" in staff.text
        await staff.say(on.isoformat())
    if note:
        await staff.say(note)
    else:
        await staff.tap("No note")
    assert f"Recorded: {check} passed" in staff.text, staff.text
    shown = (f"✅ {check}: verified", f"✅ {check}: passed on")  # health: passed on, until
    assert any(x in staff.text for x in shown)  # the screen shows it, as it is now


# --- the database, read to check what the screens did --------------------------------------
async def profile_of(app: App, key: str) -> WorkerProfile:
    user = await load_user(app, key)
    assert user is not None
    async with app.db.sessions() as s:
        profile = await Repos(s).workers.of_user(user)
    assert profile is not None
    return profile


async def files_of(app: App, key: str) -> dict[str, str]:
    """Her stored files: name → purpose."""
    async with app.db.sessions() as s:
        rows = await s.execute(
            select(StoredFile.name, StoredFile.purpose)
            .join(User, User.id == StoredFile.user_id)
            .where(User.key == key)
        )
        return {name: purpose for name, purpose in rows}


async def gave_her_phone(app: App, key: str) -> None:
    """Her phone number, as a course sign-up keeps it: on file, never on her credential."""
    async with app.db.sessions() as s, s.begin():
        repos = Repos(s)
        user = await repos.users.get(key)
        assert user is not None
        await repos.profiles.save(user, phone=PHONE)


async def approved_in_db(app: App, key: str) -> str:
    """A worker made and approved straight through the repositories; her code."""
    async with app.db.sessions() as s, s.begin():
        repos = Repos(s, app.dispatcher.files)
        user = repos.users.new(key, "zh")
        workers = repos.workers
        profile = await workers.start(user)
        await workers.edit(
            profile,
            name=NAME,
            kinds=["maternity"],
            places=["maonan"],
            pay={"live_in": [7000, 10000]},
            id_last4=ID_NUMBER[-4:],
            id_hash=id_digest(ID_NUMBER, await workers.id_key()),
            health_passed_on=EXAMINED,
        )
        await workers.add_certificate(profile, "maternity_nurse", CERT_NUMBER, ISSUER, None)
        await repos.profiles.save(user, phone=PHONE)
        await workers.submit(profile)
        for kind in ("identity", "health", "criminal"):
            on = EXAMINED if kind == "health" else TODAY
            profile = await workers.record_check(
                profile.id, profile.version, ADMIN, kind, "", "passed", on
            )
        profile = await workers.decide(profile.id, profile.version, ADMIN, "approve", today=TODAY)
        assert profile.code
        return profile.code


# --- Telegram ------------------------------------------------------------------------------
def said(messages: list[tuple[str, dict[str, Any]]]) -> str:
    """What the messages say: texts and photos' captions."""
    return "\n".join(p.get("text") or p.get("caption") or "" for _m, p in messages)


async def send_photo(me: TelegramPlayer, data: bytes) -> None:
    """She sends a photo from her phone's gallery (Telegram's sizes, `data` the largest)."""
    before = len(me.fake.sent_to(me.user_id))
    await me.fake.send_photo(me.user_id, data)
    me.messages = await me.fake.settle(me.user_id, before)
    me.seen += me.messages


async def notice_to(fake: FakeTelegram, user_id: int, words: str) -> str:
    """A message sent to her later, through the outbox, that holds `words`."""

    def found() -> list[str]:
        return [p.get("text", "") for _m, p in fake.sent_to(user_id) if words in p.get("text", "")]

    await fake.wait_for(lambda: bool(found()), within=20)
    return found()[-1]


async def open_my_profile(me: TelegramPlayer) -> None:
    await me.say("/menu")
    await me.tap("My worker profile")
    assert "Your worker profile" in me.text


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_over_telegram_a_worker_is_vetted_and_anyone_can_check_her_credential(
    db_path, framework
):
    async with running_bot(db_path, framework) as (fake, app, _):
        store = app.dispatcher.files

        # she starts, opens her worker profile, agrees to the privacy notice on the way
        mei = TelegramPlayer(fake, WORKER, "en")
        await mei.say("/start")
        await mei.tap("Continue")
        await mei.tap("My worker profile")
        assert "Your privacy" in mei.text
        await mei.tap("I agree")
        assert "A worker profile is your page in the programme" in mei.text

        # she builds it, her certificate sent as a Telegram photo, and sends it
        photo = phone_photo()
        await build_profile(mei, lambda: send_photo(mei, photo))
        (file_id,) = [p["file_id"] for m, p in fake.calls if m == "getFile"]
        assert fake.files[file_id] == photo  # the largest size was fetched, not the thumbnail
        await mei.tap("Send for checking")
        assert "Sent. Programme staff will check your profile" in mei.text
        profile = await profile_of(app, f"tg:{WORKER}")
        assert profile.status == "submitted" and profile.id_last4 == "002X"
        [cert] = profile.certificates
        assert cert.number == CERT_NUMBER and cert.photo
        stored = store.read(cert.photo)  # on disk, re-encoded: no EXIF, no GPS
        assert_no_exif(stored)

        # staff open the queue and see her profile and her certificate's photo
        staff = TelegramPlayer(fake, STAFF, "en")
        await staff.say("/start")  # staff go straight to their menu
        assert "Programme staff menu." in staff.text
        await staff.tap("Vet workers")
        assert f"Profile #{profile.id}: Waiting for vetting" in staff.text
        assert "ID number ends in: 002X" in staff.text and CERT_NUMBER in staff.text
        assert ID_NUMBER not in staff.text
        await staff.tap("Photo of Maternity nurse certificate")
        (picture,) = [p for m, p in staff.messages if m == "sendPhoto"]
        assert picture["photo"] == stored

        # ...record identity (the profile's screen stays above the photo), health with its
        # date, and criminal record, one by one
        await staff.tap_old("✅ Identity passed")
        await staff.tap("No note")
        assert "Recorded: Identity passed" in staff.text and "✅ Identity: verified" in staff.text
        await record(staff, "Health examination", on=EXAMINED)
        await record(staff, "Criminal-record check", note="公安机关证明已核对")
        assert "公安机关证明已核对" in staff.text

        # ...and ask for changes, with the reason she will read
        await staff.tap("Ask for changes")
        await staff.say(REASON)
        assert f"Done: profile #{profile.id} is now “Changes asked”." in staff.text
        assert "No profile waits for vetting." in staff.text

        # the notice reaches her later, through the outbox
        notice = await notice_to(fake, WORKER, REASON)
        assert "Programme staff ask you to change your worker profile" in notice

        # she answers, changes her introduction and sends it again
        await open_my_profile(mei)
        assert f"Status: staff asked for changes. Their reason: “{REASON}”" in mei.text
        await mei.tap("Answer the staff")
        assert f"Staff asked: “{REASON}”" in mei.text
        await mei.say(ANSWER)
        assert "Your answer is saved" in mei.text and ANSWER in mei.text
        await mei.tap("Edit")
        await mei.tap("My introduction")
        await mei.say("做月嫂五年。会做月子餐。")
        assert "Your worker profile" in mei.text
        await mei.tap("Send for checking")
        assert "Sent." in mei.text

        # staff see what changed and her answer, check the certificate and approve
        await staff.say("/menu")
        await staff.tap("Vet workers")
        assert "Changed since the last look: introduction." in staff.text
        assert f"Staff asked for changes: “{REASON}”" in staff.text
        assert f"Her answer: “{ANSWER}”" in staff.text
        assert "✅ Identity: verified" in staff.text  # checks made before stay made
        await record(staff, "Maternity nurse certificate")
        await staff.tap("Approve")
        assert f"Done: profile #{profile.id} is now “Verified”." in staff.text
        profile = await profile_of(app, f"tg:{WORKER}")
        assert profile.status == "verified" and profile.code
        code = show_code(profile.code)

        # she is told, with her code, and her credential comes as a picture
        notice = await notice_to(fake, WORKER, "approved your worker profile")
        assert code in notice
        await open_my_profile(mei)
        assert "Status: verified by the programme." in mei.text
        await mei.tap("My credential")
        (card,) = [p for m, p in mei.messages if m == "sendPhoto"]
        assert card["photo"].startswith(b"\x89PNG")
        assert NAME in said(mei.messages) and code in said(mei.messages)
        nothing_private(said(mei.messages))
        kept = await files_of(app, f"tg:{WORKER}")
        assert sorted(kept.values()) == ["card", "certificate"]
        (card_name,) = [name for name, purpose in kept.items() if purpose == "card"]
        assert store.read(card_name) == card["photo"]

        # strangers check her code, each in her own language: valid, each check with its
        # date, nothing private (her phone is on file from a sign-up)
        await gave_her_phone(app, f"tg:{WORKER}")
        for lang, (user_id, hint) in STRANGERS.items():
            _ = translator(lang)
            stranger = TelegramPlayer(fake, user_id, hint)
            await stranger.say(f"/verify {code}")
            text = stranger.text
            assert _("Valid: verified by the programme.") in text, text
            assert NAME in text and _("Maternity nurse (yuesao)") in text
            for check in ("Identity", "Criminal-record check", "Maternity nurse certificate"):
                assert _("{check}: verified {date}", check=_(check), date=_.date(TODAY)) in text
            health = _(
                "{check}: passed on {date}, valid until {until}",
                check=_("Health examination"),
                date=_.date(EXAMINED),
                until=_.date(EXAMINED + dt.timedelta(days=365)),
            )
            assert health in text
            assert _("Verification code: {code}", code=code) in text
            nothing_private(text)
            if lang != "en":
                assert "Valid" not in text and "verified" not in text.replace("/verify", "")

        # she erases herself: her certificate photo and her card go from disk
        await mei.say("/delete_me")
        assert "Delete all your data?" in mei.text
        await mei.tap("Yes, delete everything")
        assert "Done: your data has been deleted." in mei.text
        for name in kept:
            assert not store.path(name).exists(), kept[name]
        assert await files_of(app, f"tg:{WORKER}") == {}
        assert await load_user(app, f"tg:{WORKER}") is None

        # and her code finds no one any more
        stranger = TelegramPlayer(fake, STRANGERS["en"][0], "en")
        await stranger.say(f"/verify {code}")
        assert "No credential has this code." in stranger.text


# --- WeChat --------------------------------------------------------------------------------
async def test_over_wechat_a_stranger_checks_a_code_in_chinese(db_path):
    async with running_wechat(db_path, "safe") as (url, app, _api):
        code = show_code(await approved_in_db(app, "wx:oMEI"))
        zh = translator("zh")
        stranger = WeChatPlayer(url, "oSTRANGER", mode="aes")
        await stranger.say(f"/verify {code}")
        text = stranger.text
        assert zh("Valid: verified by the programme.") in text, text
        assert NAME in text and zh("Maternity nurse (yuesao)") in text
        assert zh("{check}: verified {date}", check=zh("Identity"), date=zh.date(TODAY)) in text
        health = zh(
            "{check}: passed on {date}, valid until {until}",
            check=zh("Health examination"),
            date=zh.date(EXAMINED),
            until=zh.date(EXAMINED + dt.timedelta(days=365)),
        )
        assert health in text
        assert zh("Verification code: {code}", code=code) in text
        nothing_private(text)
        assert "Valid" not in text and "verified" not in text.replace("/verify", "")


async def test_over_wechat_a_certificate_photo_is_fetched_and_kept_without_exif(db_path):
    _ = translator("zh")
    async with running_wechat(db_path, "safe") as (url, app, api):
        mei = WeChatPlayer(url, "oPHOTO", mode="aes")
        await mei.say("你好")
        await mei.tap(_("Continue ▶"))
        await mei.tap(_("🪪 My worker profile"))
        await mei.tap(_("✅ I agree"))
        await mei.tap(_("✍ Make my worker profile"))
        for _part in range(8):  # name … introduction: to her certificates
            await mei.say(_("⏭ Skip this part"))  # typed: on the years screen digits are years
        await mei.tap(_("➕ Add a certificate"))
        await mei.tap(_("Maternity nurse certificate"))
        await mei.say(CERT_NUMBER)
        await mei.say(ISSUER)
        await mei.say("2024年5月20日")
        asked = _(
            "Send a photo of the certificate (take a picture of it). Only you and programme "
            "staff will see it. No photo? Tap “Skip the photo”."
        )
        assert asked in mei.text

        photo = phone_photo()
        api.media["MEDIA_CERT"] = photo
        await mei.send(
            message_xml(
                "oPHOTO",
                "image",
                90_000_000_001,
                PicUrl="http://mmbiz.qpic.cn/cert",
                MediaId="MEDIA_CERT",
            )
        )
        assert _("📄 Certificate added.") in mei.text, mei.text
        assert api.media_gets == ["MEDIA_CERT"]
        [cert] = (await profile_of(app, "wx:oPHOTO")).certificates
        assert (cert.number, cert.issuer, cert.issued_on) == (
            CERT_NUMBER,
            ISSUER,
            dt.date(2024, 5, 20),
        )
        assert cert.photo
        assert_no_exif(app.dispatcher.files.read(cert.photo))
        assert await files_of(app, "wx:oPHOTO") == {cert.photo: "certificate"}


# --- the terminal --------------------------------------------------------------------------
class ConsolePlayer:
    """A person at `haoxin chat`: one terminal session (`bot.console.chat`) kept open and
    fed a line at a time. Each line's answer is what the terminal printed for it (the
    echoed `> line`, the replies, any notice that arrived meanwhile); `transcript` is
    everything. Buttons are tapped by typing the number the terminal shows."""

    def __init__(self, app: App, user: str, lang: str = "en") -> None:
        self.app, self.user, self.lang = app, user, lang
        self.out = io.StringIO()
        self.text = ""
        self.screens: list[str] = []  # what earlier lines printed
        self._lines: queue.Queue[str] = queue.Queue()
        self._asked = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._task: asyncio.Task[None] | None = None

    # the terminal's standard input: read in a worker thread by `chat`
    def isatty(self) -> bool:
        return False

    def readline(self) -> str:
        self._loop.call_soon_threadsafe(self._asked.set)  # the last line is answered
        try:
            return self._lines.get(timeout=60)
        except queue.Empty:
            return ""  # the end of the input

    async def __aenter__(self) -> ConsolePlayer:
        stdin: Any = self  # what `chat` reads from: `isatty` and `readline`
        run = chat(
            self.app.dispatcher, self.user, stdin=stdin, stdout=self.out, lang_hint=self.lang
        )
        self._task = asyncio.create_task(run)
        await asyncio.wait_for(self._asked.wait(), 30)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._lines.put("")  # Ctrl-D
        assert self._task is not None
        await asyncio.wait_for(self._task, 30)

    @property
    def transcript(self) -> str:
        return self.out.getvalue()

    async def say(self, line: str) -> str:
        start = len(self.transcript)
        self._asked.clear()
        self._lines.put(line + "\n")
        await asyncio.wait_for(self._asked.wait(), 30)
        self.screens.append(self.text)
        self.text = self.transcript[start:]
        return self.text

    @staticmethod
    def buttons(printed: str) -> list[tuple[str, str]]:
        """(number or letter, label) of the buttons in `printed`."""
        found = []
        for line in printed.splitlines():
            # numbered, or lettered where a typed number is the answer (Reply.letters)
            found += re.findall(r"\[(\d+|[A-Z])\] (.+?)(?=   \[(?:\d+|[A-Z])\] |$)", line)
        return found

    async def tap(self, label: str, printed: str | None = None) -> str:
        """Type the number of the button labelled `label` (for the last line, or in
        `printed`)."""
        shown = self.buttons(self.text if printed is None else printed)
        matches = [(n, text) for n, text in shown if label in text]
        assert len(matches) == 1, f"{label!r} is not one button of {shown}"
        return await self.say(matches[0][0])

    async def tap_old(self, label: str) -> str:
        """Type the number a button has on the screen before the last line's."""
        return await self.tap(label, self.screens[-1])

    async def until(self, words: str) -> None:
        """Wait until `words` are printed (a notice the terminal shows when it comes)."""
        for _ in range(400):
            if words in self.transcript:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{words!r} never printed: {self.transcript[-600:]}")


async def test_at_the_terminal_a_photo_by_path_then_approval_then_the_card_as_a_picture(
    app, tmp_path
):
    picture = tmp_path / "IMG_0001.jpg"
    picture.write_bytes(phone_photo())
    store = app.dispatcher.files

    async with ConsolePlayer(app, "console:mei") as mei:
        await mei.say("/start")
        await mei.tap("Continue")
        await mei.tap("My worker profile")
        await mei.tap("I agree")
        await build_profile(mei, lambda: mei.say(f"/photo {picture}"))
        await mei.tap("Send for checking")
        assert "Sent. Programme staff will check your profile" in mei.text
        [cert] = (await profile_of(app, "console:mei")).certificates
        assert cert.photo
        assert_no_exif(store.read(cert.photo))

        # staff, at another terminal on the same database
        async with ConsolePlayer(app, ADMIN) as staff:
            await staff.say("/start")
            await staff.tap("Vet workers")
            assert "Waiting for vetting" in staff.text and NAME in staff.text
            await staff.tap("Photo of Maternity nurse certificate")
            assert f"[picture: {store.path(cert.photo).absolute()}]" in staff.text
            await staff.tap_old("✅ Identity passed")  # the profile's screen, above the photo
            await staff.tap("No note")
            assert "Recorded: Identity passed" in staff.text
            await record(staff, "Health examination", on=EXAMINED)
            await record(staff, "Criminal-record check", note="已核对")
            await staff.tap("Approve")
            assert "is now “Verified”" in staff.text

        # her terminal shows the notice when it comes, then her card as a picture
        await mei.until("🔔 ✅ The programme has approved your worker profile")
        code = show_code((await profile_of(app, "console:mei")).code or "")
        await mei.say("/menu")
        await mei.tap("My worker profile")
        await mei.tap("My credential")
        assert code in mei.text and NAME in mei.text
        nothing_private(re.sub(r"\[picture: .*\]", "", mei.text))  # a random file name
        shown = Path(mei.text.split("[picture: ", 1)[1].split("]", 1)[0])
        kept = await files_of(app, "console:mei")
        (card,) = [name for name, purpose in kept.items() if purpose == "card"]
        assert shown.is_absolute() and shown == store.path(card).absolute()
        assert store.read(card).startswith(b"\x89PNG")
