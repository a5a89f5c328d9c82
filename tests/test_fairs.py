"""Job fairs: the list, filters, search, the card, registering and reminders."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from handlers.replies import Reply
from storage.models import FairRegistration, JobFair, Outbox
from tests.catalogue import course, load
from tests.chat import Chat
from tests.conftest import ADMIN, load_user
from tests.test_courses import seeker


def at(days: int, hour: int = 9) -> str:
    return (
        dt.datetime.combine(dt.date.today(), dt.time(hour)) + dt.timedelta(days=days)
    ).isoformat()


def fair(code: str, title: str, days: int, county: str, jobs: list[tuple], **extra) -> dict:
    return {
        "code": code,
        "title": title,
        "starts_at": at(days),
        "ends_at": at(days, 12),
        "venue": f"{county}人民广场",
        "address": f"{county}中心路 1 号",
        "county": county,
        "latitude": 21.5,
        "longitude": 111.0,
        "organiser": "茂名市人社局",
        "employers": [
            {
                "name": firm,
                "jobs": [
                    {
                        "category": cat,
                        "destination": dest,
                        "pay_min": lo,
                        "pay_max": hi,
                        "live_in": live,
                    }
                ],
            }
            for firm, cat, dest, lo, hi, live in jobs
        ],
        **extra,
    }


FAIRS = [
    fair(
        "gba",
        "大湾区家政对接会",
        16,
        "电白",
        [
            ("澳门好心居家", "住家保姆", "澳门", 9000, 12000, True),
            ("深圳鹏城家政", "月嫂", "深圳", 12000, 18000, True),
        ],
        registration_required=True,
    ),
    fair(
        "mn",
        "好心家政专场招聘会",
        6,
        "茂南",
        [
            ("茂名好心家政", "月嫂", "茂名", 7000, 10000, True),
            ("东莞莞家乐", "钟点工", "东莞", 35, 50, False),
        ],
    ),
    fair(
        "gz",
        "就业扶贫招聘会（高州站）",
        40,
        "高州",
        [("广州穗康", "养老护理员", "广州", 5500, 7500, True)],
    ),
    fair("past", "上个月的招聘会", -20, "茂南", [("旧公司", "保姆", "茂名", 1, 2, True)]),
]

LABELS = {
    "en": ("Job fairs", "Upcoming job fairs", "Register to attend", "You are registered for"),
    "zh-hans": ("招聘会", "近期招聘会", "登记参加", "你已登记参加"),
    "zh-hk": ("招聘會", "近期招聘會", "登記參加", "你已經登記參加"),
}


async def newcomer(chat, user: str, hint: str) -> Chat:
    """Greeting, then "Continue": a job seeker at her menu who has not agreed to the
    privacy notice yet."""
    me = chat(user, hint)
    await me.say("/start")
    await me.press(me.button("▶").data)  # continue
    return me


# titles, firms and places as each language shows them: Cantonese in Traditional
# characters, English by the vocabulary's names (the firms have no English name here)
SHOWN = {
    "en": (
        ["好心家政专场招聘会", "大湾区家政对接会", "就业扶贫招聘会（高州站）"],
        ("澳门好心居家", "CN¥9,000–12,000", "Shenzhen"),
    ),
    "zh-hans": (
        ["好心家政专场招聘会", "大湾区家政对接会", "就业扶贫招聘会（高州站）"],
        ("澳门好心居家", "¥9,000–12,000", "深圳"),
    ),
    "zh-hk": (
        ["好心家政專場招聘會", "大灣區家政對接會", "就業扶貧招聘會（高州站）"],
        ("澳門好心居家", "CN¥9,000–12,000", "深圳"),
    ),
}


@pytest.mark.parametrize("hint", LABELS)
async def test_fairs_soonest_first_and_registering_in_each_language(app, chat, hint):
    menu, heading, register, registered = LABELS[hint]
    expected, card = SHOWN[hint]
    await load(app, [], FAIRS)
    me = await newcomer(chat, "tg:701", hint)
    await me.tap(menu)
    assert heading in me.text
    titles = [label.split(" · ")[0] for label in me.labels[:3]]
    assert titles == expected
    assert not any("上个月" in label for label in me.labels)
    await me.tap(expected[1])
    assert all(x in me.text for x in card), me.text
    await me.tap(register)  # her first personal question: the privacy notice first
    assert me.replies[-1].buttons[0][0].label.startswith("✅")  # I agree
    assert (await load_user(app, "tg:701")).state == "PRIVACY"
    await me.press(me.replies[-1].buttons[0][0].data)  # agree: on to her name
    assert (await load_user(app, "tg:701")).state == "FAIR_ASK_NAME"
    await me.say("陈玉兰")
    await me.say("13912345678")
    await me.press(me.replies[-1].buttons[0][0].data)  # ✅ Register
    assert registered in me.text
    user = await load_user(app, "tg:701")
    async with app.db.sessions() as s:
        reg = await s.scalar(select(FairRegistration).where(FairRegistration.user_id == user.id))
        reminder = await s.scalar(select(Outbox).where(Outbox.topic.like("fair:%")))
    assert reg.phone == "+8613912345678" and reg.status == "registered"
    start = dt.date.today() + dt.timedelta(days=16)
    assert reminder.due_at == dt.datetime.combine(start - dt.timedelta(days=1), dt.time(10))


async def test_filters_and_search(app, chat):
    await load(app, [], FAIRS)
    me = await seeker(chat, "tg:702", "en")
    await me.tap("Job fairs")
    await me.tap("Where the jobs are")
    await me.tap("Shenzhen")
    assert [x.split(" · ")[0] for x in me.labels if "·" in x] == ["大湾区家政对接会"]
    await me.tap("Show all fairs")
    await me.tap("County")
    await me.tap("Gaozhou")
    assert any("高州站" in x for x in me.labels) and not any("大湾区" in x for x in me.labels)
    await me.tap("Show all fairs")
    await me.tap("Month")
    assert len(me.labels) >= 2  # the months with fairs, then Back
    await me.tap(me.labels[0])
    assert "Upcoming job fairs" in me.text
    for words, expected in [
        ("shenzhen", "大湾区家政对接会"),
        ("aomen", "大湾区家政对接会"),
        ("養老", "就业扶贫招聘会（高州站）"),
        ("dong guan", "好心家政专场招聘会"),
    ]:
        await me.tap("Show all fairs") if any("Show all" in x for x in me.labels) else None
        await me.tap("Search")
        await me.say(words)
        assert expected in me.labels[0], (words, me.labels)


async def test_registering_reuses_the_profile_and_can_be_cancelled(app, chat):
    ids = await load(app, [course("c1", "月嫂班", "月嫂/母婴护理")], FAIRS)
    me = await seeker(chat, "tg:703", "en")
    await me.say(f"/start course_{ids['c1']}")
    await me.tap("Sign up")
    for answer in ("黄丽娟", "13800138000", "茂南", "45"):
        await me.say(answer)
    await me.tap("Confirm sign-up")
    await me.say("/menu")
    await me.tap("Job fairs")
    await me.tap("好心家政专场招聘会")
    await me.tap("Register to attend")
    assert "as 黄丽娟, phone +8613800138000" in me.text  # nothing asked again
    await me.tap("✅ Register")
    await me.say("/menu")
    await me.tap("My sign-ups")
    assert any("好心家政专场招聘会" in x and "registered" in x for x in me.labels)
    await me.tap("好心家政专场招聘会")
    await me.tap("Cancel my registration")
    await me.tap("Yes, cancel my registration")  # asked first
    assert "Your registration is cancelled" in me.text
    async with app.db.sessions() as s:
        assert await s.scalar(select(Outbox).where(Outbox.topic.like("fair:%"))) is None


async def test_fair_deep_link_and_bad_input(app, chat):
    await load(app, [], FAIRS)
    me = chat("tg:704", "en")
    await me.say("/start fair_2")  # first contact: straight to the fair's card
    assert "好心家政专场招聘会" in me.text and "No registration needed" in me.text
    await me.tap("Register to attend")
    await me.tap("I agree")  # the privacy notice, at her first personal question
    assert "To register, what is your name?" in me.text
    await me.say("12345")  # a phone number where the name goes
    assert "no numbers" in me.text
    await me.say("李秀梅")
    await me.say("phone please")
    assert "does not look like a mobile number" in me.text
    assert (await load_user(app, "tg:704")).form["fair_form"]["name"] == "李秀梅"
    await me.say("/start fair_999")
    assert "You are filling in a form" in me.text  # asked before her answers are dropped
    await me.tap("Yes, start again")
    assert "can't find that job fair" in me.text


async def test_staff_get_a_link_and_a_qr_code(app, chat, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    named = dataclasses.replace(app.dispatcher.options, telegram_bot="haoxin_bot")
    monkeypatch.setattr(app.dispatcher, "options", named)
    ids = await load(app, [course("c1", "月嫂班", "月嫂/母婴护理")], FAIRS)
    admin = chat(ADMIN, "en")
    await admin.say("/start")  # the staff menu
    await admin.say(f"/start course_{ids['c1']}")
    await admin.tap("Link and QR code")
    assert f"https://t.me/haoxin_bot?start=course_{ids['c1']}" in admin.text
    (qr,) = [r for r in admin.replies if r.qr]
    assert qr.qr_png().startswith(b"\x89PNG")
    from bot.console import render

    assert "haoxin-qr/" in render(qr) and (tmp_path / "haoxin-qr").is_dir()

    me = await seeker(chat, "tg:705", "en")
    await me.say(f"/start course_{ids['c1']}")
    nonce = me.button("Where is it").data.split("|")[0]
    await me.press(f"{nonce}|qr:{ids['c1']}")  # forged: not staff
    assert "for programme staff only" in me.text or "don't recognise" in me.text


def test_telegram_sends_the_qr_code_as_a_photo():
    from bot.telegram import api_calls

    calls = api_calls(
        5,
        [
            Reply(
                "Link: https://t.me/haoxin_bot?start=fair_2",
                qr="https://t.me/haoxin_bot?start=fair_2",
            )
        ],
    )
    assert [m for m, _p in calls] == ["sendMessage", "sendPhoto"]
    assert calls[1][1]["photo"].startswith(b"\x89PNG")


async def test_firms_named_without_jobs_are_listed_and_a_cancelled_fair_asks_no_one_to_register(
    app, chat
):
    """A fair imported with its firms' names only (or set up in chat) lists the firms;
    a cancelled fair says so and asks no one to register."""
    only_names = fair("f1", "春季招聘会", 5, "茂南", [], registration_required=True)
    only_names["employers"] = [{"name": "茂名好心家政", "jobs": []}]
    none = fair("f2", "秋季招聘会", 6, "茂南", [], status="cancelled", registration_required=True)
    await load(app, [], [only_names, none])
    async with app.db.sessions() as session:
        ids = dict((await session.execute(select(JobFair.code, JobFair.id))).all())
    me = chat("tg:705", "en")
    await me.say(f"/start fair_{ids['f1']}")
    assert "Firms and jobs:\n• 茂名好心家政" in me.text
    assert "Registration needed" in me.text
    await me.say(f"/start fair_{ids['f2']}")
    assert "has been cancelled" in me.text
    assert "Registration needed" not in me.text and "Firms and jobs" not in me.text
