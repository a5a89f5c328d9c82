"""Finding a course and signing up, played as a person in each language."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from storage.importer import DataFile, import_data
from storage.models import Outbox, Profile, Signup
from tests.catalogue import BASES, course, load, set_course
from tests.chat import Chat
from tests.conftest import load_user

COURSES = [
    course("ys1", "好心月嫂初级班", "月嫂/母婴护理", seats=20),
    course("hl1", "好心护理·养老护理员", "养老护理员", brand="好心护理", base="xy", starts=15),
    course("bm1", "好心保姆·家政服务员", "家政服务员/保姆", brand="好心保姆", fee_yuan=900),
    course("old", "已开班的月嫂班", "月嫂/母婴护理", starts=-1),
]

T = {
    "en": dict(
        courses="Find a free course",
        track="By kind of work",
        sign="Sign up",
        confirm="Confirm sign-up",
        seat="Your seat is confirmed",
        full="This course is full",
        mine="Your sign-ups",
        cancel="Cancel my place",
        yes="Yes, cancel my place",
        kind="Maternity nurse (yuesao)",
        title="好心月嫂初级班",  # no English title in the data: as written
        base="茂名好心家政培训学校",
        county="Lives in: Maonan",
    ),
    "zh-hans": dict(
        courses="找免费培训课程",
        track="按工种找",
        sign="报名",
        confirm="确认报名",
        seat="你的名额已确认",
        full="这个班已报满",
        mine="你的报名",
        cancel="取消我的名额",
        yes="确定取消",
        kind="月嫂/母婴护理",
        title="好心月嫂初级班",
        base="茂名好心家政培训学校",
        county="住址：茂南",
    ),
    "zh-hk": dict(
        courses="搵免費培訓課程",
        track="按工種搵",
        sign="報名",
        confirm="確認報名",
        seat="你嘅名額已經確認",
        full="呢個班已經報滿",
        mine="你嘅報名",
        cancel="取消我嘅名額",
        yes="確定取消",
        kind="月嫂／母嬰護理",
        title="好心月嫂初級班",  # titles and bases in Traditional characters
        base="茂名好心家政培訓學校",
        county="住址：茂南",
    ),
}


async def seeker(chat, user: str, hint: str) -> Chat:
    """A job seeker at her main menu who has agreed to the privacy notice (from /privacy),
    in the language of `hint`."""
    me = chat(user, hint)
    await me.say("/start")
    await me.press(me.button("▶").data)  # continue
    await me.say("/privacy")
    await me.press(me.replies[0].buttons[0][0].data)  # agree
    return me


async def fill_form(me: Chat) -> None:
    """Name, phone, county, age and, where the course asks, the free-training group
    (the first one offered): valid answers, ending on the summary."""
    await me.say("李秀梅")
    await me.say("138 0013 8000")
    await me.press(me.replies[0].buttons[0][0].data)  # 茂南
    await me.say("38")
    if not any(label.startswith("✅") for label in me.labels):  # not the summary yet
        await me.press(me.replies[0].buttons[0][0].data)  # rural women


@pytest.mark.parametrize("hint", T)
async def test_browse_sign_up_and_cancel_in_each_language(app, chat, hint):
    t = T[hint]
    ids = await load(app, COURSES)
    me = await seeker(chat, "tg:601", hint)
    await me.tap(t["courses"])
    await me.tap(t["track"])
    assert any(f"{t['kind']} (1)" in label for label in me.labels)  # the closed one is not
    await me.tap(t["kind"])
    await me.tap(t["title"])
    assert t["title"] in me.text and "20" in me.text and t["base"] in me.text
    await me.tap(t["sign"])
    await fill_form(me)
    assert "李秀梅" in me.text and "+8613800138000" in me.text and t["county"] in me.text
    await me.tap(t["confirm"])
    assert t["seat"] in me.text and t["mine"] in me.text
    user = await load_user(app, "tg:601")
    async with app.db.sessions() as s:
        signup = await s.scalar(select(Signup).where(Signup.user_id == user.id))
        profile = await s.get(Profile, user.id)
        reminder = await s.scalar(select(Outbox).where(Outbox.user_key == "tg:601"))
    assert signup.status == "confirmed" and signup.course_id == ids["ys1"]
    assert profile.phone == "+8613800138000" and profile.age == 38
    assert reminder.topic == f"course:{ids['ys1']}" and reminder.status == "pending"
    start = dt.date.today() + dt.timedelta(days=10)
    assert reminder.due_at == dt.datetime.combine(start - dt.timedelta(days=1), dt.time(10, 0))
    assert user.form == {}

    await me.tap(t["title"])
    await me.tap(t["cancel"])
    await me.tap(t["yes"])
    async with app.db.sessions() as s:
        assert (await s.get(Signup, signup.id)).status == "cancelled"
        assert await s.scalar(select(Outbox).where(Outbox.user_key == "tg:601")) is None


async def test_the_form_goes_back_changes_and_keeps_answers(app, chat):
    ids = await load(app, COURSES)
    me = await seeker(chat, "tg:602", "en")
    await me.say(f"/start course_{ids['bm1']}")  # a fee, free for rural women: 5 steps
    await me.tap("Sign up")
    await me.say("李秀梅")
    await me.tap("Back")
    assert "what is your name?" in me.text and "Keep: 李秀梅" in me.labels
    await me.tap("Keep: 李秀梅")
    await me.say("12345")
    assert "does not look like a mobile number" in me.text and "step 2 of 5" in me.text.lower()
    await me.say("+852 9123 4567")  # Hong Kong
    await me.say("Guangzhou Tianhe")  # a city of the list, typed in a few words
    for bad in ("5", "500", "old enough"):
        await me.say(bad)
        assert "aged 16 to 70" in me.text or "as a number" in me.text
        assert (await load_user(app, "tg:602")).state == "ASK_AGE"
    await me.say("45岁")
    assert "step 5 of 5" in me.text.lower() and "none of these" in " ".join(me.labels)
    await me.tap("none of these")
    assert "+85291234567" in me.text and "Guangzhou" in me.text and "45" in me.text
    assert "CN¥900" in me.text  # in none of the free groups: the fee
    await me.tap("Change phone")
    await me.share_contact("+8613900139000")  # shared with the button
    assert "Please check your sign-up" in me.text and "+8613900139000" in me.text
    form = (await load_user(app, "tg:602")).form["signup"]
    assert form["name"] == "李秀梅" and form["county"] == "广州"
    assert form["age"] == 45 and form["free"] == "none"
    await me.tap("Cancel")
    assert "Nothing was booked" in me.text
    assert "signup" not in (await load_user(app, "tg:602")).form


async def test_a_second_form_is_filled_from_the_profile(app, chat):
    later = course("late", "好心护理·养老护理员二期", "养老护理员", base="xy", starts=40)
    ids = await load(app, [*COURSES, later])  # after the first course's days
    me = await seeker(chat, "tg:603", "en")
    await me.say(f"/start course_{ids['ys1']}")
    await me.tap("Sign up")
    await fill_form(me)
    await me.tap("Confirm sign-up")
    await me.say(f"/start course_{ids['late']}")
    await me.tap("Sign up")  # name, phone, county and age known: the summary at once
    assert "Please check your sign-up" in me.text and "李秀梅" in me.text
    await me.tap("Confirm sign-up")
    async with app.db.sessions() as s:
        user = await load_user(app, "tg:603")
        rows = list(await s.scalars(select(Signup).where(Signup.user_id == user.id)))
    assert sorted(r.status for r in rows) == ["confirmed", "confirmed"]


async def test_one_person_one_place_and_a_double_confirm(app, chat):
    await load(app, COURSES)
    me = await seeker(chat, "tg:604", "en")
    await me.say("/start course_1")
    await me.tap("Sign up")
    await fill_form(me)
    confirm = me.button("Confirm sign-up").data
    await me.press(confirm)
    await me.press(confirm)  # pressed twice
    assert "earlier message" in me.text
    await me.say("/start course_1")
    assert "📝 My sign-ups" in me.labels and not any("✍" in x for x in me.labels)
    async with app.db.sessions() as s:
        assert len(list(await s.scalars(select(Signup)))) == 1


async def test_a_course_that_closed_or_was_cancelled_during_the_form(app, chat):
    ids = await load(app, COURSES)
    me = await seeker(chat, "tg:605", "en")
    await me.say(f"/start course_{ids['ys1']}")
    sign_up = me.button("Sign up").data
    await me.tap("Sign up")
    await fill_form(me)
    await set_course(app, ids["ys1"], signup_closes_on=dt.date.today() - dt.timedelta(days=1))
    await me.tap("Confirm sign-up")
    assert "closed while you were filling in" in me.text
    async with app.db.sessions() as s:
        assert (await s.get(Profile, (await load_user(app, "tg:605")).id)).name == "李秀梅"
        assert list(await s.scalars(select(Signup))) == []
    await set_course(app, ids["ys1"], signup_closes_on=None, status="cancelled")
    await me.press(sign_up)  # a button from before the course was cancelled
    assert "earlier message" in me.text or "has closed" in me.text
    await me.say(f"/start course_{ids['ys1']}")
    assert "cancelled" in me.text and not any("Sign up" in x for x in me.labels)


async def test_waiting_list_and_promotion(app, chat):
    ids = await load(app, [course("tiny", "小班催乳师", "催乳师", seats=1)])
    people = []
    for n in range(3):
        me = await seeker(chat, f"tg:61{n}", "en")
        await me.say(f"/start course_{ids['tiny']}")
        await me.tap("Sign up" if n == 0 else "Join the waiting list")  # full after the first
        await fill_form(me)
        await me.tap("Confirm sign-up")
        people.append(me)
    assert "Your seat is confirmed" in people[0].text
    assert "number 1 on the waiting list" in people[1].text
    assert "number 2 on the waiting list" in people[2].text

    first = people[0]
    await first.tap("小班催乳师")
    await first.tap("Cancel my place")
    await first.tap("Yes, cancel my place")
    async with app.db.sessions() as s:
        rows = {r.user_id: r.status for r in await s.scalars(select(Signup))}
        notes = list(await s.scalars(select(Outbox).where(Outbox.user_key == "tg:611")))
    second = await load_user(app, "tg:611")
    assert rows[second.id] == "confirmed"
    assert any("seat freed up" in n.replies[0]["text"] for n in notes)  # told at once
    assert any(n.topic == f"course:{ids['tiny']}" for n in notes)  # and reminded later
    await people[2].say("/menu")
    await people[2].tap("My sign-ups")
    assert any("number 1 on the waiting list" in label for label in people[2].labels)


async def test_search_forgives_typos_pinyin_and_traditional_characters(app, chat):
    await load(app, COURSES)
    me = await seeker(chat, "tg:620", "en")
    await me.tap("Find a free course")
    for words, expected in [
        ("yuesao", "好心月嫂初级班"),
        ("yue sao", "好心月嫂初级班"),
        ("月艘", "好心月嫂初级班"),
        ("yuè sǎo", "好心月嫂初级班"),
        ("護理", "好心护理·养老护理员"),
        ("yanglao", "好心护理·养老护理员"),
        ("nanny", "好心保姆·家政服务员"),
        ("信宜", "好心护理·养老护理员"),
    ]:
        await me.tap("Type what you are looking for")
        await me.say(words)
        assert expected in me.labels[0], (words, me.labels)
        assert not any("已开班" in x for x in me.labels)  # closed courses are never found
        await me.tap("Back")
    await me.tap("Type what you are looking for")
    await me.say("zzzzqqq")
    assert "found no open course" in me.text


async def test_nearest_courses_after_sharing_a_location(app, chat):
    await load(app, COURSES)
    me = await seeker(chat, "tg:621", "en")
    await me.tap("Find a free course")
    await me.tap("Nearest to me")
    assert me.replies[0].request_location
    await me.say("near the market")
    assert "I don't know that place" in me.text and "share your location" in me.text
    await me.share_location(22.35, 110.95)  # in Xinyi
    assert "好心护理·养老护理员" in me.labels[0] and "km" in me.labels[0]


async def test_deep_link_on_first_contact_opens_the_course(app, chat):
    ids = await load(app, COURSES)
    me = chat("tg:622", "en")
    await me.say(f"/start course_{ids['hl1']}")  # straight to the card: no greeting
    assert "好心护理·养老护理员" in me.text and "Sign up" in " ".join(me.labels)
    assert "Continue ▶" not in me.labels
    await me.say("/start course_99999")
    assert "can't find that course" in me.text


JOURNEY = {
    "en": dict(
        search="Type what you are looking for",
        sign="Sign up",
        join="Join the waiting list",
        confirm="Confirm sign-up",
        waiting="number 1 on the waiting list",
        cancel="Cancel my place",
        yes="Yes, cancel my place",
        freed="seat freed up",
        title="好心月嫂单人班",
    ),
    "zh-hans": dict(
        search="输入关键词搜索",
        sign="报名",
        join="排候补名单",
        confirm="确认报名",
        waiting="候补第 1 位",
        cancel="取消我的名额",
        yes="确定取消",
        freed="空出了一个名额",
        title="好心月嫂单人班",
    ),
    "zh-hk": dict(
        search="打字搜尋",
        sign="報名",
        join="排後補名單",
        confirm="確認報名",
        waiting="候補第 1 位",
        cancel="取消我嘅名額",
        yes="確定取消",
        freed="有人讓出名額",
        title="好心月嫂單人班",  # in Traditional characters
    ),
}


@pytest.mark.parametrize("hint", JOURNEY)
async def test_search_waitlist_promotion_and_deep_link_in_each_language(app, chat, hint):
    t = JOURNEY[hint]
    ids = await load(app, [course("one", "好心月嫂单人班", "月嫂/母婴护理", seats=1), *COURSES[1:]])
    first = await seeker(chat, "tg:631", hint)
    await first.say(f"/start course_{ids['one']}")  # the poster's deep link
    await first.tap(t["sign"])
    await fill_form(first)
    await first.tap(t["confirm"])

    second = await seeker(chat, "tg:632", hint)
    await second.tap(T[hint]["courses"])  # find a course
    for words in ("yue sao", "月艘"):  # pinyin, and a typo
        await second.tap(t["search"])
        await second.say(words)
        assert t["title"] in second.labels[0], (words, second.labels)
        await second.press(second.button("◀").data)
    await second.tap(t["search"])
    await second.say("yuesao")
    await second.tap(t["title"])
    await second.tap(t["join"])  # the one seat is taken
    await fill_form(second)
    await second.tap(t["confirm"])
    assert any(t["waiting"] in x for x in [second.text, *second.labels])

    await first.tap(t["title"])
    await first.tap(t["cancel"])
    await first.tap(t["yes"])
    async with app.db.sessions() as s:
        told = [
            o.replies[0]["text"]
            for o in await s.scalars(
                select(Outbox).where(Outbox.user_key == "tg:632", Outbox.topic.is_(None))
            )
        ]
    assert any(t["freed"] in text for text in told), told  # in her own language


async def test_a_renamed_training_base_is_found_by_its_new_name_at_once(app, chat):
    """Search finds a course by its base's name and county: renaming the base by import
    re-reads its courses into the running index (their `updated_at` moves)."""
    await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理", base="xy")])
    me = await seeker(chat, "tg:622", "en")
    await me.tap("Find a free course")
    await me.tap("Type what you are looking for")
    await me.say("乡村家政培训站")
    assert "好心月嫂初级班" in me.labels[0]
    renamed = {**BASES[1], "name": "Qwzkx 实训中心"}  # a word nothing else is near
    await me.tap("Back")
    await me.tap("Type what you are looking for")
    await me.say("qwzkx")
    assert "found no open course" in me.text  # the index holds the old name
    async with app.db.sessions() as s, s.begin():
        await import_data(s, DataFile.model_validate({"training_bases": [renamed]}))
    await me.tap("Back")
    await me.tap("Type what you are looking for")
    await me.say("qwzkx")
    assert "好心月嫂初级班" in me.labels[0], me.labels
