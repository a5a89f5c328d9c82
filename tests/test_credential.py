"""A credential anyone can check: by /verify, the household menu or the card's QR code,
in every language, never showing anything private, and never open to guessing; and
the worker's own card, as text and as a picture she can forward."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from PIL import Image, ImageChops, ImageDraw
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App, create_app
from handlers.context import Options
from handlers.credential_image import font
from locales import translator
from storage.models import LookupFailure, StoredFile, User
from storage.repositories import Repos
from storage.workers import LOOKUP_WINDOW, WorkerRepo, show_code
from tests.chat import Chat
from tests.conftest import ADMIN, make_settings

PHONE = "13800138000"
ID_LAST4 = "123X"
CERT_NUMBER = "MN-2024-889977"
ISSUER = "茂名市人力资源和社会保障局"
T = TypeVar("T")


async def _repos_do(app: App, work: Callable[[Repos], Awaitable[T]]) -> T:
    """`work` with the repositories, in one transaction (as staff screens run)."""

    async def run(session: AsyncSession) -> T:
        return await work(Repos(session, app.dispatcher.files))

    return await app.db.transaction(run)


async def verified_worker(
    app: App,
    key: str = "tg:500",
    *,
    expired: bool = False,
    decision: str = "approve",
    lang: str = "zh",
) -> tuple[int, str]:
    """A worker onboarded in the chat, then vetted by staff through `WorkerRepo`:
    identity, health (examined 20 days ago; `expired`: then one over a year old
    recorded), criminal record and her
    certificate checked, approved. Returns (profile id, code)."""
    me = Chat(app.dispatcher, key, "en")
    await me.onboard()
    today = Options().now().date()

    async def work(repos: Repos) -> tuple[int, str]:
        user = await repos.users.get(key)
        assert user is not None
        user.lang = lang  # she reads in Chinese
        await repos.profiles.save(user, name="李秀梅", phone=PHONE, county="茂南")
        workers = repos.workers
        profile = await workers.start(user)
        await workers.edit(
            profile,
            name="李秀梅",
            kinds=["maternity", "infant"],
            id_last4=ID_LAST4,
            health_passed_on=today - dt.timedelta(days=20),
        )
        cert = await workers.add_certificate(
            profile, "maternity_nurse", CERT_NUMBER, ISSUER, today - dt.timedelta(days=400)
        )
        await workers.set_shared(profile, True)
        await workers.submit(profile)
        checks = [
            ("identity", "", 10),
            ("health", "", 20),
            ("criminal", "", 9),
            ("certificate", str(cert.id), 8),
        ]
        for kind, subject, days in checks:
            profile = await workers.record_check(
                profile.id,
                profile.version,
                ADMIN,
                kind,
                subject,
                "passed",
                today - dt.timedelta(days=days),
            )
        profile = await workers.decide(profile.id, profile.version, ADMIN, "approve")
        if expired:  # a year on: the check recorded is older than a year
            profile = await workers.record_check(
                profile.id,
                profile.version,
                ADMIN,
                "health",
                "",
                "passed",
                today - dt.timedelta(days=370),
            )
        if decision != "approve":
            profile = await workers.decide(
                profile.id, profile.version, ADMIN, decision, "complaint being looked into"
            )
        assert profile.code
        return profile.id, profile.code

    return await _repos_do(app, work)


def private_absent(text: str) -> None:
    for secret in (PHONE, ID_LAST4, CERT_NUMBER, ISSUER):
        assert secret not in text


# --- a stranger checks a code -------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "yue", "en"])
async def test_a_stranger_checks_a_code_in_her_language_and_sees_nothing_private(app, lang):
    _pid, code = await verified_worker(app)
    stranger = Chat(app.dispatcher, "tg:77", lang)  # never onboarded
    await stranger.say(f"/verify {show_code(code)}")
    _ = translator(lang)
    text = stranger.text
    assert _("Valid: verified by the programme.") in text
    assert "李秀梅" in text
    assert _("Maternity nurse (yuesao)") in text  # kinds of work, in her language
    today = Options().now().date()
    for days in (10, 20, 9):  # identity, health, criminal: each with its date
        assert _.date(today - dt.timedelta(days=days)) in text
    assert _.date(today - dt.timedelta(days=20) + dt.timedelta(days=365)) in text  # valid until
    assert show_code(code) in text
    private_absent(text)
    if lang != "en":
        assert "Valid" not in text and "verified" not in text.replace("/verify", "")
    # the greeting follows (she is new here); nothing about her was asked
    assert "Haoxin" in text or "好心" in text


async def test_the_qr_codes_deep_link_opens_the_check_on_first_contact(app):
    _pid, code = await verified_worker(app)
    stranger = Chat(app.dispatcher, "tg:78", "en")
    await stranger.say(f"/start verify_{code}")
    assert "Valid: verified by the programme." in stranger.text
    assert show_code(code) in stranger.text
    private_absent(stranger.text)
    # another code can be typed at once, and Main menu leads on
    await stranger.say(code.lower())
    assert "Valid: verified by the programme." in stranger.text
    await stranger.tap("Main menu")
    assert "Main menu" in stranger.text


async def test_a_household_checks_a_code_from_her_menu_typed_any_way(app):
    _pid, code = await verified_worker(app)
    household = Chat(app.dispatcher, "tg:79", "en")
    await household.onboard("I need a helper at home")
    await household.tap("Check a credential")
    assert "Type the code" in household.text
    dashed = f"{code[:4].lower()}-{code[4:8]} {code[8:].lower()}"
    await household.say(dashed)
    assert "Valid: verified by the programme." in household.text
    assert "Identity: verified" in household.text
    private_absent(household.text)
    # O for 0 and I for 1, as people misread them
    misread = code.replace("0", "O").replace("1", "I")
    await household.say(misread)
    assert "Valid: verified by the programme." in household.text
    await household.tap("Main menu")
    assert "Main menu: help at home" in household.text


async def test_suspended_and_never_verified_workers(app):
    _pid, code = await verified_worker(app, "tg:501", decision="suspend")
    me = Chat(app.dispatcher, "tg:80", "en")
    await me.say(f"/verify {code}")
    assert "Suspended by the programme: not valid now." in me.text
    assert "Valid: verified" not in me.text

    # a draft has no code: nothing can find it, and looking for it costs a try
    draft = Chat(app.dispatcher, "tg:502", "en")
    await draft.onboard()

    async def start(repos: Repos) -> str | None:
        user = await repos.users.get("tg:502")
        profile = await repos.workers.start(user)
        return profile.code

    assert await _repos_do(app, start) is None


async def test_an_expired_health_check_shows_expired(app):
    _pid, code = await verified_worker(app, expired=True)
    me = Chat(app.dispatcher, "tg:81", "en")
    await me.say(f"/verify {code}")
    assert "Health check expired: not valid until a new check is recorded." in me.text


def who(app, key: str) -> str:
    """How look-ups keep a person: a keyed hash of her platform key, not the key."""
    return WorkerRepo(None, app.settings.file_store())._who(key)  # type: ignore[arg-type]


async def test_a_wrong_code_says_so_and_a_typo_of_shape_costs_no_try(app):
    _pid, code = await verified_worker(app)
    me = Chat(app.dispatcher, "tg:82", "en")
    await me.say("/verify 1234")  # not a code's shape
    assert "not a credential code" in me.text
    await me.say("/verify 13800138000")
    assert "not a credential code" in me.text
    await me.say("/verify ZZZZ-ZZZZ-ZZZZ")
    assert "No credential has this code. Check it and try again." in me.text
    async with app.db.sessions() as s:
        failures = list(
            await s.scalars(select(LookupFailure).where(LookupFailure.who == who(app, "tg:82")))
        )
    assert len(failures) == 1  # only the well-formed code that is no one's
    await me.say(f"/verify {code}")  # tries are left: the right code is found
    assert "Valid: verified by the programme." in me.text


async def test_six_wrong_codes_lock_even_the_right_code_until_the_hour_has_passed(app):
    _pid, code = await verified_worker(app)
    me = Chat(app.dispatcher, "tg:83", "en")
    await me.onboard("I need a helper at home")
    await me.tap("Check a credential")
    wrong = [f"ZZZZ-ZZZZ-ZZZ{c}" for c in "23456"]
    for guess in wrong:
        await me.say(guess)
        assert "No credential has this code" in me.text
    await me.say("ZZZZ-ZZZZ-ZZZ7")  # the sixth
    assert "Too many wrong codes. Please try again after" in me.text
    async with app.db.sessions() as s:
        first = await s.scalar(
            select(LookupFailure.at).where(LookupFailure.who == who(app, "tg:83"))
        )
    until = Options().local(first + LOOKUP_WINDOW).strftime("%H:%M")
    assert f"after {until}" in me.text
    # even the right code is refused now, by every way in
    await me.say(code)
    assert "Too many wrong codes" in me.text and "Valid" not in me.text
    await me.say(f"/verify {code}")
    assert "Too many wrong codes" in me.text and "Valid" not in me.text
    await me.say(f"/start verify_{code}")
    assert "Too many wrong codes" in me.text and "Valid" not in me.text
    # someone else is not locked out
    other = Chat(app.dispatcher, "tg:84", "en")
    await other.say(f"/verify {code}")
    assert "Valid: verified by the programme." in other.text

    # an hour later the tries are back
    async with app.db.sessions() as s, s.begin():
        await s.execute(
            update(LookupFailure)
            .where(LookupFailure.who == who(app, "tg:83"))
            .values(at=LookupFailure.at - LOOKUP_WINDOW - dt.timedelta(minutes=1))
        )
    await me.say(f"/verify {code}")
    assert "Valid: verified by the programme." in me.text


async def test_bare_verify_asks_for_the_code_and_main_menu_leaves_even_before_onboarding(app):
    me = Chat(app.dispatcher, "tg:85", "en")
    await me.say("/verify")
    assert "Type the code" in me.text
    await me.say("")  # empty: asked again
    assert "Type the code" in me.text
    await me.tap("Main menu")  # never onboarded: the greeting
    assert "Continue" in " ".join(me.labels)


# --- her own card -------------------------------------------------------------------
@pytest.fixture
async def named_app(db_path):
    app = await create_app(make_settings(db_path, telegram_bot="haoxin_bot"))
    yield app
    await app.close()


async def _open_my_credential(app: App, key: str) -> Chat:
    me = Chat(app.dispatcher, key, "zh")
    await me.say("/menu")
    await me.tap("🪪")  # the seeker menu's "My worker profile"
    await me.tap("🪪")  # her profile's "My credential"
    return me


async def _stored(app: App, name: str) -> tuple[StoredFile, bytes]:
    async with app.db.sessions() as s:
        row = await s.get(StoredFile, name)
    assert row is not None and row.purpose == "card"
    return row, app.dispatcher.files.read(name)


async def test_my_credential_is_text_and_a_png_card_she_can_forward(named_app):
    app = named_app
    _pid, code = await verified_worker(app, "tg:510")
    me = await _open_my_credential(app, "tg:510")
    [card] = [r for r in me.replies if r.photo]
    assert "李秀梅" in card.text and show_code(code) in card.text
    private_absent(card.text)
    row, png = await _stored(app, card.photo)
    assert png.startswith(b"\x89PNG")
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG" and image.width == 1080 and image.height > image.width
    async with app.db.sessions() as s:
        owner = await s.scalar(select(User.id).where(User.key == "tg:510"))
    assert row.user_id == owner
    assert "◀" in " ".join(me.labels)

    # asked again with nothing changed: the same picture
    await me.tap("◀")
    await me.tap("🪪")
    [again] = [r for r in me.replies if r.photo]
    assert again.photo == card.photo

    # in another language: a new picture replaces the old one, which is gone
    await me.say("/language")
    await me.tap("English")
    await me.say("/menu")
    await me.tap("worker profile")
    await me.tap("credential")
    [english] = [r for r in me.replies if r.photo]
    assert english.photo != card.photo
    async with app.db.sessions() as s:
        assert await s.get(StoredFile, card.photo) is None
    assert not app.dispatcher.files.path(card.photo).exists()


async def test_the_card_qr_code_opens_the_verification(named_app):
    """The picture's QR code holds the Telegram deep link (decoded back from the card
    by comparing with a rendering of the link: no QR decoder is a dependency)."""
    from handlers.credential_image import _qr_image

    app = named_app
    _pid, code = await verified_worker(app, "tg:511")
    me = await _open_my_credential(app, "tg:511")
    [card] = [r for r in me.replies if r.photo]
    _row, png = await _stored(app, card.photo)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    qr = _qr_image(f"https://t.me/haoxin_bot?start=verify_{code}", 360)
    found = _find(image, qr)
    assert found, "the card carries the QR code of its deep link"


def _find(image: Image.Image, part: Image.Image) -> bool:
    """Whether `part` is pasted somewhere in `image`, centred horizontally."""
    left = (image.width - part.width) // 2
    for top in range(0, image.height - part.height):
        window = image.crop((left, top, left + part.width, top + part.height))
        if ImageChops.difference(window, part).getbbox() is None:
            return True
    return False


async def test_a_worker_not_yet_verified_has_no_credential_to_show(app):
    me = Chat(app.dispatcher, "tg:512", "en")
    await me.onboard()

    async def start(repos: Repos) -> None:
        await repos.workers.start(await repos.users.get("tg:512"))

    await _repos_do(app, start)
    await me.tap("My worker profile")
    assert not [label for label in me.labels if "My credential" in label]
    await me.press(me.button("Edit").data.split("|")[0] + "|credential")  # forged
    assert "I don't recognise that button." in me.text
    assert not [r for r in me.replies if r.photo]


@pytest.mark.parametrize("lang", ["zh", "yue"])
def test_chinese_is_drawn_with_real_glyphs_not_empty_boxes(lang):
    """A label drawn in the card's font differs from a character the font has not got
    (an unassigned code point: the font's empty box), and is not blank."""
    typeface = font(lang, 48)

    def drawn(text: str) -> Image.Image:
        image = Image.new("L", (64 * len(text), 72), 255)
        ImageDraw.Draw(image).text((4, 4), text, font=typeface, fill=0)
        return image

    missing = drawn("\U0003fffd")  # unassigned: the font's .notdef box
    for label in ("核验码", "驗證碼", "健康体检"):
        for ch in label:
            glyph = drawn(ch)
            assert ImageChops.invert(glyph).getbbox() is not None, f"{ch} is blank"
            assert ImageChops.difference(glyph, missing).getbbox() is not None, f"{ch} is a box"


async def test_on_wechat_her_card_also_offers_the_accounts_own_qr_code(app):
    _pid, code = await verified_worker(app, "wx:o513", lang="zh")
    me = await _open_my_credential(app, "wx:o513")
    assert [r for r in me.replies if r.photo]
    [poster] = [r for r in me.replies if r.poster]
    assert poster.poster == f"verify_{code}"
    # without a Telegram bot, the picture's QR code holds the command to send
    [card] = [r for r in me.replies if r.photo]
    _row, png = await _stored(app, card.photo)
    from handlers.credential_image import _qr_image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert _find(image, _qr_image(f"/verify {show_code(code)}", 360))


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("zh", "健康体检：2026年11月10日已核验，有效期至2027年11月10日。" * 3),
        ("yue", "扫二维码，或者向好心发送 /verify 7K2M-9QPD-XW3A，查核呢張服務證。" * 2),
        ("en", "Scan the QR code, or send /verify 7K2M-9QPD-XW3A to Haoxin. " * 3),
        ("en", "A" * 200),
    ],
)
def test_text_wraps_within_the_card_by_the_width_of_each_character(lang, text):
    from handlers.credential_image import wrap

    typeface, width = font(lang, 32), 600
    lines = wrap(text, typeface, width)
    assert len(lines) > 1
    slack = typeface.getlength("，")  # closing punctuation may hang past the edge
    assert all(typeface.getlength(line) <= width + slack for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")  # nothing lost
    assert not any(line.startswith(("，", "。", "、")) for line in lines)
