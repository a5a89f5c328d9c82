"""The worker's own profile, played as she would: built by tapping from her menu, her
certificate photo kept without its EXIF, sent for checking, paused, shown to households
and hidden again; every refusal keeps what she entered; the whole ID number is never
stored or shown; staff's questions answered and the profile sent again."""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Iterable

import pytest
from PIL import Image
from sqlalchemy import select

from bot.app import App, create_app
from handlers.typed_values import chinese_number, pay_range, read_date
from locales import translator
from storage.models import Base, WorkerProfile
from storage.workers import WorkerRepo, visible
from tests.catalogue import course, load
from tests.chat import Chat
from tests.conftest import ADMIN, load_user, make_settings
from tests.test_seats_and_reminders import ready_to_confirm

ID_NUMBER = "11010519491231002X"  # a valid test number (GB 11643 check digit X)
TODAY = dt.date.today()
WHAT_A_PROFILE_IS = (
    "A worker profile is your page in the programme: the work you do, your experience "
    "and your certificates, checked by programme staff. Households looking for help see "
    "it only when you agree, and only after it is checked."
)
WHY_THE_ID = (
    "Your ID card number (18 characters). Why: so the programme can check that it is "
    "really you. Only the last four characters are kept, with a secret code that shows "
    "if the same card is used twice; the whole number is never kept or shown."
)


def jpeg_with_gps() -> bytes:
    """A photo as a phone takes it: a JPEG whose EXIF records where it was taken."""
    image = Image.new("RGB", (64, 48), (200, 180, 160))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (21.0, 39.0, 30.0), 3: "E", 4: (110.0, 55.0, 12.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the GPS is there
    return data


async def signed_up(app: App, user: str) -> Chat:
    """A job seeker who signed up for a course (name 李秀梅, county 茂南), on her menu."""
    ids = await load(app, [course(f"c{user[-3:]}", "好心月嫂初级班", "月嫂/母婴护理")])
    me = Chat(app.dispatcher, user, "en")
    await me.press(await ready_to_confirm(app, user, ids[f"c{user[-3:]}"]))
    assert "Your seat is confirmed" in me.text
    await me.say("/menu")
    return me


async def profile_of(app: App, user: str) -> WorkerProfile:
    person = await load_user(app, user)
    async with app.db.sessions() as s:
        profile = await WorkerRepo(s).of_user(person)
    assert profile is not None
    return profile


async def form_of(app: App, user: str) -> dict:
    person = await load_user(app, user)
    return dict((person.form or {}).get("worker") or {})


async def build(me: Chat, photo: bytes | None = None) -> None:
    """Tap through every part from her menu, to the preview."""
    await me.tap("My worker profile")
    await me.tap("Make my worker profile")
    assert "李秀梅" in me.text  # her name from sign-up, to confirm with a tap
    await me.tap("Yes, that is my name")
    await me.tap("Maternity")
    await me.tap("Done")
    await me.tap("Lactation")
    await me.tap("Done")
    await me.say("5")
    await me.tap("Add a past job")
    await me.tap("Nanny")
    await me.tap("Guangzhou")
    await me.say("2")
    await me.tap("No more")
    assert "✅ Maonan" in me.labels  # her county from sign-up, already chosen
    await me.tap("Shenzhen")
    await me.tap("Done")
    await me.tap("Live-in")
    await me.tap("Done")
    await me.tap("7,000–10,000")  # a maternity nurse's range
    await me.tap("Mandarin")
    await me.say("粵語")  # typed, in Traditional characters
    await me.tap("Done")
    await me.tap("From now")
    await me.tap("No end date")
    await me.say("做月嫂五年，会带新生儿。")
    await me.tap("Add a certificate")
    await me.tap("Maternity nurse certificate")
    await me.say("MN-2024-0031")
    await me.say("茂名市人社局")
    await me.say("2024-05-20")
    if photo is None:
        await me.tap("Skip the photo")
    else:
        await me.send_file(photo, "photo", "IMG_0001.jpg")
    assert "Certificate added" in me.text
    await me.tap("Done")
    await me.say(ID_NUMBER)
    await me.tap("I agree")
    await me.say((TODAY - dt.timedelta(days=40)).isoformat())


async def test_a_seeker_builds_her_profile_by_tapping_with_a_photo_and_sends_it(app):
    me = await signed_up(app, "tg:7001")
    await build(me, photo=jpeg_with_gps())
    # the preview: as a household will see it
    assert "This is how households will see your profile" in me.text
    assert "李秀梅" in me.text and "Maternity nurse (yuesao)" in me.text
    assert "Live-in: CN¥7,000–10,000 a month" in me.text
    assert "做月嫂五年" in me.text and "Works in: Maonan and Shenzhen" in me.text
    assert "Mandarin and Cantonese" in me.text
    assert "1105" not in me.text and "002X" not in me.text  # no ID digits on the card
    p = await profile_of(app, "tg:7001")
    assert (p.status, p.name, p.kinds, p.skills, p.years) == (
        "draft",
        "李秀梅",
        ["maternity"],
        ["lactation"],
        5,
    )
    assert p.jobs == [{"what": "housekeeping", "where": "guangzhou", "years": 2}]
    assert p.places == ["maonan", "shenzhen"] and p.pay == {"live_in": [7000, 10000]}
    assert p.languages == ["mandarin", "cantonese"] and p.available_from is None
    assert p.id_last4 == "002X" and len(p.id_hash) == 64
    assert p.health_consent_at is not None
    assert p.health_passed_on == TODAY - dt.timedelta(days=40)
    [cert] = p.certificates
    assert (cert.kind, cert.number, cert.issuer, cert.issued_on) == (
        "maternity_nurse",
        "MN-2024-0031",
        "茂名市人社局",
        dt.date(2024, 5, 20),
    )
    # the photo on disk: re-encoded, no EXIF (no GPS) left in it
    stored = app.dispatcher.files.read(cert.photo)
    assert b"Exif" not in stored and b"PhoneMaker" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()

    # she sees her own certificate photo from the edit screen
    await me.tap("Edit")
    await me.tap("Certificates")
    await me.tap("1. Maternity nurse certificate")
    assert me.replies[-1].photo == cert.photo and "MN-2024-0031" in me.text
    await me.tap("Back")
    await me.tap("Done")
    await me.tap("See it as a household does")
    assert "Checked by the programme" in me.text
    await me.tap("Send for checking")
    assert "Sent. Programme staff will check your profile" in me.text
    assert "sent for checking, waiting for programme staff" in me.text
    p = await profile_of(app, "tg:7001")
    assert p.status == "submitted" and p.queued_at is not None


async def test_her_form_survives_a_restart_in_the_middle_of_a_certificate(db_path):
    first = await create_app(make_settings(db_path))
    me = await signed_up(first, "tg:7002")
    await me.tap("My worker profile")
    await me.tap("Make my worker profile")
    for _ in range(8):
        await me.tap("Skip this part")
    await me.tap("Add a certificate")
    await me.tap("Infant carer certificate")
    await me.say("YY-778899")
    await me.say("高州市职业培训学校")
    await first.close()

    again = await create_app(make_settings(db_path))
    try:
        me = Chat(again.dispatcher, "tg:7002", "en")
        await me.say("2023年6月1日")  # the issuer step's answer was kept: this is the date
        await me.send_file(jpeg_with_gps(), "document", "cert.jpg")
        assert "Certificate added" in me.text
        p = await profile_of(again, "tg:7002")
        [cert] = p.certificates
        assert (cert.number, cert.issuer, cert.issued_on) == (
            "YY-778899",
            "高州市职业培训学校",
            dt.date(2023, 6, 1),
        )
    finally:
        await again.close()


async def test_every_refusal_says_why_and_keeps_what_she_entered(app):
    me = await signed_up(app, "tg:7003")
    await me.tap("My worker profile")
    await me.tap("Make my worker profile")
    for _ in range(4):
        await me.tap("Skip this part")
    # pay: the higher amount first, zero, too much: asked again, nothing saved
    await me.tap("Hourly")
    await me.tap("Done")
    for typed, why in [
        ("80-50", "The first amount is more than the second"),
        ("0", "The pay cannot be zero"),
        ("0-0", "The pay cannot be zero"),
        ("600", "more than CN¥500 an hour"),
        ("a lot", "Please type the pay as numbers"),
    ]:
        await me.say(typed)
        assert why in me.text and "Hourly: what pay do you expect" in me.text
        assert (await form_of(app, "tg:7003"))["pay_todo"] == ["hourly"]
    assert (await profile_of(app, "tg:7003")).pay == {}
    await me.say("40到60")
    assert (await profile_of(app, "tg:7003")).pay == {"hourly": [40, 60]}
    for _ in range(3):
        await me.tap("Skip this part")

    # a certificate: a date in the future, then three photos that are refused
    await me.tap("Add a certificate")
    await me.tap("Health certificate")
    await me.say("JK-20250301")
    await me.say("茂南区疾控中心")
    await me.say((TODAY + dt.timedelta(days=30)).isoformat())
    assert "a certificate dated in the future" in me.text
    await me.say("2025-03-01")
    kept = {"kind": "health", "number": "JK-20250301", "issuer": "茂南区疾控中心"}
    photo_refusals = [
        (dict(data=b"", kind="photo", name="big.jpg", size=6 * 1024 * 1024), "over 5 MB"),
        (
            dict(data=b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", kind="document", name="c.pdf"),
            "That is a PDF, not a photo. Please send a photo",
        ),
        (
            dict(data=b"\xff\xd8\xff\xe0 this is no picture at all", kind="document", name="c.jpg"),
            "I can't open that picture",
        ),
        (dict(data=b"GIF87a not really", kind="document", name="c.jpg"), "I can't open"),
    ]
    for sent, why in photo_refusals:
        await me.send_file(**sent)
        assert why in me.text, me.text
        assert "Send a photo of the certificate" in me.text  # asked again
        cert = (await form_of(app, "tg:7003"))["cert"]
        assert {k: cert[k] for k in kept} == kept and cert["issued_on"] == "2025-03-01"
    assert not (await profile_of(app, "tg:7003")).certificates
    await me.send_file(jpeg_with_gps())
    assert "Certificate added" in me.text
    await me.tap("Done")

    # the ID number: wrong shape, wrong check digit, impossible birth date
    for typed, why in [
        ("1101051949123100", "An ID card number has 18 characters"),
        ("110105194912310021", "That number does not add up"),
        ("110105194913310025", "The date of birth in that number"),
    ]:
        await me.say(typed)
        assert why in me.text and "Your ID card number (18 characters)" in me.text
        assert typed not in me.text
    assert (await profile_of(app, "tg:7003")).id_last4 == ""
    await me.say(ID_NUMBER)
    # health: in the future, older than a year
    await me.tap("I agree")
    await me.say((TODAY + dt.timedelta(days=3)).isoformat())
    assert "That date is in the future" in me.text
    await me.say((TODAY - dt.timedelta(days=400)).isoformat())
    assert "that check has expired" in me.text.lower()
    await me.say("9/3")
    assert "write the year first" in me.text
    await me.say((TODAY - dt.timedelta(days=2)).isoformat())
    assert "This is how households will see your profile" in me.text
    p = await profile_of(app, "tg:7003")
    assert p.id_last4 == "002X" and p.health_passed_on == TODAY - dt.timedelta(days=2)
    assert len(p.certificates) == 1 and p.certificates[0].photo
    # sending with parts missing lists them
    await me.tap("Send for checking")
    assert "Before it can be sent, please add" in me.text
    assert "at least one kind of work" in me.text and "your ID number" not in me.text
    assert (await profile_of(app, "tg:7003")).status == "draft"


async def test_the_whole_id_number_is_never_stored_nor_shown(app, caplog):
    caplog.set_level(logging.DEBUG)
    me = await signed_up(app, "tg:7004")
    await build(me)
    # typed by mistake elsewhere: refused, never echoed
    await me.tap("Edit")
    await me.tap("My introduction")
    await me.say(f"我的身份证是 {ID_NUMBER}")
    assert "That looks like an ID card number" in me.text
    await me.tap("Back")
    await me.say(ID_NUMBER)  # on a screen of buttons: not a search that repeats it
    assert "That looks like an ID card number" in me.text
    for reply in me.history:
        assert ID_NUMBER not in reply.text and ID_NUMBER.lower() not in reply.text
        assert all(ID_NUMBER not in b.label for b in reply.flat_buttons())
    assert list(await text_cells_with(app, [ID_NUMBER, ID_NUMBER.lower()])) == []
    p = await profile_of(app, "tg:7004")
    assert p.id_last4 == "002X"
    assert ID_NUMBER not in caplog.text and ID_NUMBER[:17] not in caplog.text


async def text_cells_with(app: App, needles: Iterable[str]) -> list[str]:
    """Every text (or JSON) cell of every table that holds one of `needles`."""
    found = []
    async with app.db.sessions() as s:
        for table in Base.metadata.sorted_tables:
            for row in (await s.execute(select(table))).all():
                for column, value in zip(table.columns, row, strict=True):
                    if isinstance(value, str | dict | list) and any(
                        n in str(value) for n in needles
                    ):
                        found.append(f"{table.name}.{column.name}")
    return found


async def test_a_forged_button_for_another_profile_changes_nothing(app):
    other = await signed_up(app, "tg:7005")
    await build(other)
    await other.tap("Send for checking")
    theirs = await profile_of(app, "tg:7005")
    me = await signed_up(app, "tg:7006")
    await me.tap("My worker profile")
    await me.tap("Make my worker profile")
    nonce = me.button("Stop here").data.split("|")[0]
    for data in (
        f"{nonce}|submit:{theirs.id}",
        f"{nonce}|pause:{theirs.id}",
        f"{nonce}|unshare:{theirs.id}",
        f"{nonce}|cert:{theirs.certificates[0].id}",
        f"{nonce}|part:99",
        f"{theirs.id}|name_ok",
    ):
        await me.press(data)
        assert "I don't recognise that button" in me.text or "earlier message" in me.text
    after = await profile_of(app, "tg:7005")
    assert (after.version, after.status, after.paused, after.shared_at) == (
        theirs.version,
        theirs.status,
        theirs.paused,
        theirs.shared_at,
    )
    mine = await profile_of(app, "tg:7006")
    assert mine.status == "draft" and mine.id != theirs.id


async def verify(app: App, user: str) -> WorkerProfile:
    """Staff record the three required checks and approve (as `console:admin`)."""
    person = await load_user(app, user)
    checked = TODAY - dt.timedelta(days=10)
    async with app.db.sessions() as s, s.begin():
        repo = WorkerRepo(s)
        p = await repo.of_user(person)
        assert p is not None
        for kind in ("identity", "health", "criminal"):
            p = await repo.record_check(p.id, p.version, ADMIN, kind, "", "passed", checked)
        return await repo.decide(p.id, p.version, ADMIN, "approve")


async def visible_ids(app: App) -> set[int]:
    async with app.db.sessions() as s:
        return set(await s.scalars(select(WorkerProfile.id).where(visible(TODAY))))


async def test_pause_resume_and_sharing_show_and_hide_her_at_once(app):
    me = await signed_up(app, "tg:7007")
    await build(me)
    await me.tap("Send for checking")
    p = await verify(app, "tg:7007")
    await me.say("/menu")
    await me.tap("My worker profile")
    assert "Status: verified by the programme" in me.text
    assert "Not shown to households" in me.text
    assert p.id not in await visible_ids(app)
    await me.tap("Show to households")
    assert "Who receives it: households looking for help" in me.text
    assert "Why:" in me.text and "never your phone number, your ID number" in me.text
    await me.tap("Yes, show it to households")
    assert "Households looking for help can see your profile" in me.text
    assert p.id in await visible_ids(app)
    await me.tap("Pause")
    assert "Paused" in me.text and p.id not in await visible_ids(app)
    assert (await profile_of(app, "tg:7007")).paused
    await me.tap("Resume")
    assert p.id in await visible_ids(app)
    await me.tap("Stop showing to households")
    assert "Hidden: households no longer see your profile" in me.text
    assert p.id not in await visible_ids(app)
    assert (await profile_of(app, "tg:7007")).shared_at is None
    # the credential: a button once verified (its screen is `handlers.credential`'s)
    assert "🪪 My credential" in me.labels


async def test_editing_the_name_of_a_verified_profile_rechecks_identity_only(app):
    me = await signed_up(app, "tg:7008")
    await build(me)
    await me.tap("Send for checking")
    await verify(app, "tg:7008")
    await me.say("/menu")
    await me.tap("My worker profile")
    await me.tap("Edit")
    await me.tap("Name")
    await me.say("李秀美")
    assert "Your name and ID will be checked again" in me.text
    assert "the rest of your profile stays as it is" in me.text
    assert "Some changes are being checked by staff" in me.text
    p = await profile_of(app, "tg:7008")
    assert (p.status, p.name) == ("verified", "李秀美") and p.queued_at is not None
    async with app.db.sessions() as s:
        checks = await WorkerRepo(s).checks(p)
    assert checks[("identity", "")].result == "recheck"
    assert checks[("health", "")].result == "passed"


async def test_staff_ask_for_changes_she_answers_and_sends_again(app):
    me = await signed_up(app, "tg:7009")
    await build(me)
    await me.tap("Send for checking")
    person = await load_user(app, "tg:7009")
    async with app.db.sessions() as s, s.begin():
        repo = WorkerRepo(s)
        p = await repo.of_user(person)
        await repo.decide(p.id, p.version, ADMIN, "changes", "请补一张清楚的证书照片")
    await me.say("/menu")
    await me.tap("My worker profile")
    assert "staff asked for changes" in me.text and "请补一张清楚的证书照片" in me.text
    await me.tap("Answer the staff")
    assert "Staff asked: “请补一张清楚的证书照片”" in me.text
    await me.say("好的，我明天拍一张新的。")
    assert "Your answer is saved" in me.text and "我明天拍一张新的" in me.text
    await me.tap("Edit")
    await me.tap("Certificates")
    await me.tap("1. Maternity nurse certificate")
    await me.tap("Add a photo")
    await me.send_file(jpeg_with_gps())
    assert "Photo saved" in me.text
    await me.tap("Back")
    await me.tap("Done")
    await me.tap("Send for checking")
    assert "Sent." in me.text
    p = await profile_of(app, "tg:7009")
    assert p.status == "submitted" and p.answer == "好的，我明天拍一张新的。"
    assert p.certificates[0].photo


async def test_saying_no_to_the_health_question_keeps_a_draft_that_can_be_sent(app):
    me = await signed_up(app, "tg:7010")
    await me.tap("My worker profile")
    await me.tap("Make my worker profile")
    for _ in range(10):
        await me.tap("Skip this part")
    await me.tap("No, not now")
    assert "Households cannot be shown your profile without a valid health check" in me.text
    await me.tap("My profile")
    assert "your answer about the health examination" not in me.text
    p = await profile_of(app, "tg:7010")
    assert p.health_consent_at is None and p.health_passed_on is None


async def test_withdrawing_the_health_consent_deletes_the_date_and_hides_her(app):
    me = await signed_up(app, "tg:7011")
    await build(me)
    await me.tap("Send for checking")
    p = await verify(app, "tg:7011")
    await me.say("/menu")
    await me.tap("My worker profile")
    await me.tap("Show to households")
    await me.tap("Yes, show it to households")
    assert p.id in await visible_ids(app)
    await me.tap("Edit")
    await me.tap("Health examination")
    assert "You agreed" in me.text
    await me.tap("Withdraw: delete the date")
    assert "no health information is kept" in me.text
    p = await profile_of(app, "tg:7011")
    assert (p.health_consent_at, p.health_passed_on, p.health_valid_until) == (None, None, None)
    assert p.id not in await visible_ids(app)
    async with app.db.sessions() as s:
        assert ("health", "") not in await WorkerRepo(s).checks(p)


@pytest.mark.parametrize("hint", ["zh", "yue", "en"])
async def test_the_profile_screens_in_every_language(app, hint):
    t = translator({"zh": "zh", "yue": "yue", "en": "en"}[hint])
    me = Chat(app.dispatcher, f"tg:71-{hint}", hint)
    await me.say("/start")
    await me.tap(t("Continue ▶"))
    await me.say("/privacy")
    await me.tap(t("✅ I agree"))
    await me.tap(t("🪪 My worker profile"))
    assert t(WHAT_A_PROFILE_IS) in me.text
    await me.tap(t("✍ Make my worker profile"))
    assert t("Your name as on your ID card? Please type it.") in me.text
    await me.say("李秀梅")
    assert t("What work do you do? Tap every kind you do, then “✔ Done”.") in me.text
    await me.tap(t("Maternity nurse (yuesao)"))
    await me.tap(t("✔ Done"))
    await me.tap(t("✖ None"))
    await me.say("3")
    await me.tap(t("✔ No more"))
    await me.tap(t("Maoming"))
    await me.tap(t("✔ Done"))
    await me.tap(t("Day care"))
    await me.tap(t("✔ Done"))
    assert t("Day care") in me.text
    await me.say("6000-9000")
    await me.tap(t("Cantonese"))
    await me.tap(t("✔ Done"))
    await me.tap(t("▶ From now"))
    await me.tap(t("♾ No end date"))
    await me.tap(t("⏭ Skip this part"))
    await me.tap(t("⏭ Skip this part"))
    assert t(WHY_THE_ID) in me.text
    await me.say("110105194912310021")
    assert (
        t(
            "That number does not add up: one character may be wrong. Please check it against "
            "your card and type it again."
        )
        in me.text
    )
    await me.say(ID_NUMBER)
    await me.tap(t("✅ I agree: keep the date I passed"))
    await me.say((TODAY - dt.timedelta(days=5)).isoformat())
    assert t("This is how households will see your profile:") in me.text
    await me.tap(t("📤 Send for checking"))
    assert t("Status: sent for checking, waiting for programme staff.") in me.text
    p = await profile_of(app, me.user)
    assert p.status == "submitted" and p.pay == {"day": [6000, 9000]}


def test_typed_pay_dates_and_numbers_are_read_the_way_people_write_them():
    assert pay_range("5000-7000") == (5000, 7000)
    assert pay_range("5000到7000元") == (5000, 7000)
    assert pay_range("5k~7k") == (5000, 7000)
    assert pay_range("¥5,000 - 7,000 a month") == (5000, 7000)
    assert pay_range("五千") == (5000, 5000)
    assert pay_range("八千到一万二") == (8000, 12000)
    assert pay_range("1.2万") == (12000, 12000)
    assert pay_range("lots") is None and pay_range("5000-") is None
    assert chinese_number("五千五") == 5500 and chinese_number("三十五") == 35
    today = dt.date(2026, 6, 15)
    assert read_date("2026-12-09", today, ahead=True) == dt.date(2026, 12, 9)
    assert read_date("2026/12/9", today, ahead=True) == dt.date(2026, 12, 9)
    assert read_date("2026年12月9日", today, ahead=True) == dt.date(2026, 12, 9)
    assert read_date("12月9日", today, ahead=True) == dt.date(2026, 12, 9)
    assert read_date("3月1日", today, ahead=True) == dt.date(2027, 3, 1)
    assert read_date("3月1日", today, ahead=False) == dt.date(2026, 3, 1)
    assert read_date("12月9号", today, ahead=False) == dt.date(2025, 12, 9)
    assert read_date("2026-02-30", today, ahead=True) is None
    with pytest.raises(ValueError):
        read_date("9/12", today, ahead=True)
