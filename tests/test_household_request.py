"""A household's request for help, played as she would: a family in Guangzhou asks for a
月嫂 by tapping (the due date after its own consent), saves it, edits the budget,
pauses, resumes and closes it; declining the consent goes on without the child's
details; every bad answer gets a clear reply and loses nothing; the screens read in
Chinese, Cantonese and English; the database holds ids, dates and yuan."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from bot.app import App, seed_demo
from handlers.context import Options
from storage.models import HelpRequest
from storage.requests import nearest_place
from tests.chat import Chat
from tests.conftest import load_user

TODAY = Options().now().date()  # the programme's local date, as the screens use it
DUE = TODAY + dt.timedelta(days=60)
NOTE = "我们住5楼，没有电梯"


async def household(app: App, user: str = "tg:501", hint: str = "en") -> Chat:
    """A household that agreed to the privacy notice, on her main menu."""
    me = Chat(app.dispatcher, user, hint)
    await me.onboard("I need a helper at home")
    return me


async def requests_of(app: App, user: str) -> list[HelpRequest]:
    person = await load_user(app, user)
    assert person is not None
    async with app.db.sessions() as session:
        found = await session.scalars(
            select(HelpRequest).where(HelpRequest.user_id == person.id).order_by(HelpRequest.id)
        )
        return list(found)


async def only_request(app: App, user: str) -> HelpRequest:
    found = await requests_of(app, user)
    assert len(found) == 1, found
    return found[0]


async def state_of(app: App, user: str) -> str:
    person = await load_user(app, user)
    assert person is not None
    return person.state


async def to_place(me: Chat, kind: str = "Maternity nurse", mode: str = "Live-in") -> None:
    await me.tap("Find a helper")
    await me.tap(kind)
    await me.tap(mode)


async def maternity_until_budget(me: Chat) -> None:
    """Guangzhou, the consent agreed, the due date, 26 days: on the budget screen."""
    await to_place(me)
    await me.tap("Guangzhou")
    assert "only the helpers you choose to interview" in me.text
    await me.tap("I agree")
    assert "When is the baby due" in me.text
    await me.say(DUE.isoformat())
    assert "26 or 42 days" in me.text
    await me.tap("26 days")
    assert "Your budget, in yuan a month" in me.text


# --- the whole request, by tapping --------------------------------------------------------
async def test_a_family_in_guangzhou_asks_for_a_yuesao_saves_edits_pauses_and_closes(app):
    me = await household(app)
    assert "🔎 Find a helper" in me.labels and "📋 My requests" in me.labels
    await me.tap("Find a helper")
    assert "What help do you need" in me.text
    assert "Lactation consultant" not in me.labels  # an add-on skill, not a kind of help
    await me.tap("Maternity nurse")
    assert "How should the helper work" in me.text and "Step 2 of 10" in me.text
    await me.tap("Live-in")
    assert "Where is the job" in me.text
    assert me.replies[0].request_location  # share a location, where the platform can
    await me.tap("Guangzhou")
    # the separate consent, before anything about the baby
    assert "A separate question" in me.text
    assert "Who sees it: only the helpers you choose to interview" in me.text
    assert "deleted when you close this request" in me.text
    assert (await only_request(app, "tg:501")).due_on is None
    await me.tap("I agree")
    await me.say(DUE.isoformat())
    assert "The job starts on" in me.text  # the start proposed at the due date
    assert me.labels[:2] == ["26 days", "42 days"]
    await me.tap("26 days")
    await me.tap("¥10,000–15,000 a month")
    assert "Which language" in me.text
    await me.tap("Cantonese")
    assert "✅ Cantonese" in me.labels
    await me.tap("Done")
    await me.tap("Any age")
    await me.tap("3+ years")
    assert "Any special needs" in me.text
    assert "⬜ Twins" in me.labels and "⬜ Dementia" not in me.labels  # a baby's, not a patient's
    await me.tap("Twins")
    await me.tap("Pets at home")
    await me.tap("Done")
    assert "Anything else the helper should know" in me.text
    await me.say(NOTE)
    assert "Your request" in me.text and "Not saved yet" in me.text
    assert "Guangzhou" in me.text and "26 days" in me.text and "Cantonese" in me.text
    assert NOTE in me.text and "Twins" in me.text

    kept = await only_request(app, "tg:501")
    assert kept.status == "draft"
    assert (kept.kind, kept.mode, kept.place) == ("maternity", "live_in", "guangzhou")
    assert kept.due_on == DUE and kept.starts_on == DUE and kept.days == 26
    assert (kept.budget_min, kept.budget_max, kept.budget_unit) == (10000, 15000, "month")
    assert kept.languages == ["cantonese"]
    assert (kept.age_min, kept.age_max, kept.min_years) == (None, None, 3)
    assert kept.needs == ["twins", "pets"]
    assert kept.note == NOTE and kept.sensitive_consent_at is not None

    await me.tap("Save")
    assert "Saved" in me.text and "Open: looking for a helper" in me.text
    assert (await only_request(app, "tg:501")).status == "open"

    # the budget changed, the rest kept
    await me.tap("✏ Budget")
    assert "Keep: CN¥10,000–15,000 a month" in me.labels
    await me.say("1.5万-1.8万")
    assert "Your request" in me.text and "CN¥15,000–18,000 a month" in me.text
    kept = await only_request(app, "tg:501")
    assert (kept.budget_min, kept.budget_max) == (15000, 18000)
    assert kept.status == "open" and kept.needs == ["twins", "pets"]

    await me.tap("Pause")
    assert "Paused" in me.text and "▶ Resume" in me.labels
    assert (await only_request(app, "tg:501")).status == "paused"
    await me.tap("Resume")
    assert (await only_request(app, "tg:501")).status == "open"

    # her list, and the request opened from it
    await me.tap("My requests")
    assert any("Maternity nurse (yuesao) · Guangzhou" in label for label in me.labels)
    await me.tap("Guangzhou")
    assert "Your request" in me.text

    await me.tap("✖ Close")
    assert "You cannot open it again" in me.text
    await me.tap("No, keep it")
    assert (await only_request(app, "tg:501")).status == "open"
    await me.tap("✖ Close")
    await me.tap("Yes, close it")
    assert "Closed." in me.text and await state_of(app, "tg:501") == "RQ_LIST"
    kept = await only_request(app, "tg:501")
    assert kept.status == "closed"
    # its purpose done, the baby's details are deleted with it
    assert kept.due_on is None and kept.sensitive_consent_at is None and kept.needs == ["pets"]


async def test_find_helpers_saves_the_request_and_opens_the_shortlist(app):
    me = await household(app)
    await maternity_until_budget(me)
    await me.tap("¥7,000–10,000 a month")
    await me.tap("Any language")
    await me.tap("Any age")
    await me.tap("Any experience")
    await me.tap("Done")
    await me.tap("No note")
    await me.tap("Find helpers")
    assert "Saved." in me.text
    assert await state_of(app, "tg:501") == "RQ_SHORTLIST"
    assert (await only_request(app, "tg:501")).status == "open"
    assert "Back to my request" in " ".join(me.labels)


async def test_the_shortlist_shows_checked_helpers_with_their_reasons_and_nothing_private(app):
    await seed_demo(app.db)  # 李秀梅: a verified 月嫂, live-in, in Guangzhou among others
    me = await household(app)
    await to_place(me)
    await me.tap("Guangzhou")
    await me.tap("No, go on without them")
    await me.tap("In two weeks")
    await me.tap("26 days")
    await me.tap("CN¥10,000–15,000 a month")
    await me.tap("Any language")
    await me.tap("Any age")
    await me.tap("Any experience")
    await me.tap("Done")
    await me.say("会做月子餐")
    await me.tap("Find helpers")
    assert await state_of(app, "tg:501") == "RQ_SHORTLIST"
    assert "Helpers for your request" in me.text
    assert "李秀梅" in me.text and "Haoxin home-services credential" in me.text
    assert "💡" in me.text and "works in Guangzhou" in me.text
    assert "health check verified" in me.text
    assert len(me.replies) <= 6  # a heading and at most five helpers
    assert "Verification code" not in me.text  # a short card: no code
    assert not re.search(r"1[3-9]\d{9}", me.text)  # no phone number
    await me.say("/help")  # asked again: the same helpers, not counted as shown twice
    assert "李秀梅" in me.text
    await me.tap("Back to my request")
    assert "Open: looking for a helper" in me.text


async def test_declining_the_consent_goes_on_without_the_childs_details(app):
    me = await household(app)
    await to_place(me)
    await me.tap("Guangzhou")
    await me.tap("No, go on without them")
    assert "no details about a child or a patient are kept" in me.text
    assert "When should the helper start" in me.text
    assert "Give the baby's due date instead" in " ".join(me.labels)
    await me.tap("In a month")
    await me.tap("42 days")
    await me.say("8000-12000")
    await me.tap("Mandarin")
    await me.tap("Done")
    await me.tap("Under 40")
    await me.tap("1+ year")
    # asked once in this walk: straight to the needs, without the baby's ones
    assert "Any special needs" in me.text
    assert not any("Twins" in label or "Premature" in label for label in me.labels)
    assert "🔒 Add the child's details" in me.labels
    await me.tap("Cooking for the family")
    await me.tap("Done")
    await me.tap("No note")
    kept = await only_request(app, "tg:501")
    assert kept.sensitive_consent_at is None and kept.due_on is None
    assert kept.needs == ["cooking"]
    assert kept.starts_on == TODAY + dt.timedelta(days=30) and kept.days == 42
    assert (kept.age_min, kept.age_max, kept.min_years) == (None, 39, 1)
    assert kept.languages == ["mandarin"]
    # a forged "twins" toggle is refused: it was never offered
    await me.tap("✏ Special needs")
    nonce = me.button("Done").data.split("|")[0]
    await me.press(f"{nonce}|pick:twins")
    assert "I don't recognise that button" in me.text
    await me.tap("Done")
    assert (await only_request(app, "tg:501")).needs == ["cooking"]


async def test_a_patients_details_come_after_their_consent_and_can_be_withdrawn(app):
    me = await household(app)
    await to_place(me, "Patient companion", "Day care")
    await me.say("茂南")
    assert "When should the helper start" in me.text  # no consent before the dates
    await me.tap("As soon as possible")
    await me.tap("3 months")
    await me.tap("CN¥3,000–5,000 a month")
    await me.tap("Any language")
    await me.tap("Over 50")
    await me.tap("5+ years")
    assert "whether the person has dementia or is bedridden" in me.text
    await me.tap("I agree")
    assert "⬜ Dementia" in me.labels and "⬜ Twins" not in me.labels
    await me.tap("Bedridden patient")
    await me.tap("Done")
    await me.tap("No note")
    kept = await only_request(app, "tg:501")
    assert kept.needs == ["bedridden"] and kept.place == "maonan" and kept.days == 90
    assert kept.starts_on == TODAY and kept.sensitive_consent_at is not None
    assert (kept.age_min, kept.age_max, kept.min_years) == (51, None, 5)
    await me.tap("Save")
    # withdrawn: deleted at once, and she goes on without them
    await me.tap("✏ Special needs")
    assert "✅ Bedridden patient" in me.labels
    await me.tap("About these details")
    await me.tap("Withdraw")
    assert "no details about a child or a patient are kept" in me.text
    assert not any("Bedridden" in label for label in me.labels)
    kept = await only_request(app, "tg:501")
    assert kept.needs == [] and kept.sensitive_consent_at is None and kept.status == "open"


async def test_edits_keep_what_she_gave_and_ask_again_what_depends_on_them(app):
    me = await household(app)
    await maternity_until_budget(me)
    await me.tap("Stop here")
    assert "Your request" in me.text and "Still to answer: the budget" in me.text
    await me.tap("✏ Dates")
    assert "When is the baby due" in me.text  # agreed already: no second consent
    await me.tap("Keep this date")
    await me.tap("42 days")
    assert "Your request" in me.text and "42 days" in me.text
    await me.tap("✏ Special needs")
    assert "A separate question" not in me.text
    await me.tap("Twins")
    await me.tap("Done")
    assert (await only_request(app, "tg:501")).needs == ["twins"]
    # the due date and the baby's needs go when she withdraws
    await me.tap("✏ Special needs")
    await me.tap("About these details")
    await me.tap("Withdraw")
    kept = await only_request(app, "tg:501")
    assert kept.due_on is None and kept.needs == [] and kept.starts_on == DUE
    await me.tap("Done")
    # another kind of help: the dates and the needs are asked again, the rest kept
    await me.tap("✏ Kind of help")
    await me.tap("Elder carer")
    assert "When should the helper start" in me.text
    await me.tap("In two weeks")
    await me.tap("6 months")
    assert "A separate question" in me.text and "dementia" in me.text
    await me.tap("No, go on without them")
    await me.tap("Pets at home")
    await me.tap("Done")
    assert "Your request" in me.text
    kept = await only_request(app, "tg:501")
    assert (kept.kind, kept.days, kept.needs, kept.place) == ("elder", 180, ["pets"], "guangzhou")
    # another way of working: a monthly budget is no hourly one
    await me.tap("✏ Budget")
    await me.say("5000-7000")
    await me.tap("✏ How she works")
    await me.tap("Hourly")
    assert "For how many days" in me.text
    await me.tap("1 week")
    assert "Your budget, in yuan an hour" in me.text
    await me.say("35")
    kept = await only_request(app, "tg:501")
    assert (kept.mode, kept.days, kept.budget_min, kept.budget_max, kept.budget_unit) == (
        "hourly",
        7,
        35,
        35,
        "hour",
    )


# --- typed answers ------------------------------------------------------------------------
async def test_typed_answers_in_pinyin_traditional_and_english(app):
    me = await household(app)
    await me.tap("Find a helper")
    await me.say("yuesao")
    assert "How should the helper work" in me.text
    await me.say("住家")
    assert "Where is the job" in me.text
    await me.say("廣州")
    await me.tap("I agree")
    await me.say(f"{DUE.month}月{DUE.day}日")
    await me.say("42天")
    await me.say("一万到一万五")
    await me.say("粵語")
    assert "✅ Cantonese" in me.labels
    await me.say("english")
    await me.tap("Done")
    kept = await only_request(app, "tg:501")
    assert (kept.kind, kept.mode, kept.place) == ("maternity", "live_in", "guangzhou")
    assert kept.due_on == DUE and kept.days == 42
    assert (kept.budget_min, kept.budget_max) == (10000, 15000)
    assert kept.languages == ["cantonese", "english"]


async def test_an_hourly_request_asks_per_hour_and_in_days(app):
    me = await household(app)
    await to_place(me, "Hourly cleaner", "Hourly")
    await me.share_location(22.55, 114.05)
    assert "Nearest place: Shenzhen" in me.text
    await me.tap("In a week")
    assert "For how many days" in me.text
    await me.say("10")
    assert "Your budget, in yuan an hour" in me.text
    await me.say("600")
    assert "more than CN¥500 an hour" in me.text
    await me.say("40-60")
    kept = await only_request(app, "tg:501")
    assert kept.place == "shenzhen" and kept.latitude == 22.55
    assert kept.days == 10 and (kept.budget_min, kept.budget_max, kept.budget_unit) == (
        40,
        60,
        "hour",
    )
    assert kept.starts_on == TODAY + dt.timedelta(days=7)


# --- bad input: a clear answer, nothing lost ------------------------------------------------
async def test_every_bad_answer_is_refused_clearly_and_nothing_is_lost(app):
    me = await household(app)
    await to_place(me)
    # a place outside the service area, typed or shared
    await me.say("北京")
    assert "only in Maoming, the Greater Bay Area" in me.text
    assert "Where is the job" in me.text and await state_of(app, "tg:501") == "RQ_PLACE"
    await me.share_location(39.9, 116.4)  # Beijing
    assert "only in Maoming, the Greater Bay Area" in me.text
    assert (await only_request(app, "tg:501")).place == ""
    await me.tap("Guangzhou")
    await me.tap("I agree")
    # a due date ten months away, one in the past, one unreadable
    await me.say((TODAY + dt.timedelta(days=305)).isoformat())
    assert "more than nine and a half months away" in me.text
    await me.say((TODAY - dt.timedelta(days=3)).isoformat())
    assert "That day has passed" in me.text
    await me.say("soon")
    assert "Please type a date like 2026-12-09" in me.text
    await me.say("9/12")
    assert "day/month or month/day" in me.text
    assert (await only_request(app, "tg:501")).due_on is None
    assert await state_of(app, "tg:501") == "RQ_DUE"
    # a start date in the past
    await me.tap("Give a start date instead")
    await me.say((TODAY - dt.timedelta(days=1)).isoformat())
    assert "That day has passed" in me.text
    await me.say((TODAY + dt.timedelta(days=400)).isoformat())
    assert "more than a year away" in me.text
    await me.tap("Give the baby's due date instead")
    assert "When is the baby due" in me.text  # agreed already
    await me.say(DUE.isoformat())
    await me.tap("26 days")
    # a budget of zero, absurd, upside down, unreadable, or an hourly rate for a month
    for typed, answer in [
        ("0", "The budget cannot be zero"),
        ("999999", "more than CN¥100,000 a month"),
        ("9000-6000", "Please put the lower amount first"),
        ("a lot", "Please type the budget as numbers"),
        ("50", "very little for a whole month"),
    ]:
        await me.say(typed)
        assert answer in me.text, (typed, me.text)
        assert "Your budget, in yuan a month" in me.text
    kept = await only_request(app, "tg:501")
    assert kept.budget_min is None and kept.due_on == DUE and kept.place == "guangzhou"
    await me.say("12000-15000")
    await me.tap("Any language")
    await me.tap("Any age")
    await me.tap("Any experience")
    await me.tap("Done")
    # a note with a phone number, an ID number, or too long
    await me.say("请打我电话 138 0013 8000")
    assert "Please don't write a phone number" in me.text
    await me.say("我的身份证 11010519491231002X")
    assert "ID card number" in me.text and "11010519491231002X" not in me.text
    await me.say("好" * 301)
    assert "That is 301 characters; please keep it to 300" in me.text
    kept = await only_request(app, "tg:501")
    assert kept.note == "" and (kept.budget_min, kept.budget_max) == (12000, 15000)
    assert await state_of(app, "tg:501") == "RQ_NOTE"
    await me.say(NOTE)
    assert (await only_request(app, "tg:501")).note == NOTE


async def test_a_request_cannot_be_saved_half_answered_and_the_draft_waits(app):
    me = await household(app)
    await to_place(me)
    await me.tap("Stop here")
    assert "Still to answer: where, the start date and the budget" in me.text
    assert "💾 Save" not in me.labels and "🔎 Find helpers" not in me.labels
    nonce = me.button("Answer the rest").data.split("|")[0]
    await me.press(f"{nonce}|save")  # a forged "Save": refused, nothing saved
    assert (await only_request(app, "tg:501")).status == "draft"
    await me.tap("Answer the rest")
    assert "Where is the job" in me.text
    await me.tap("Dianbai")
    assert "A separate question" in me.text
    await me.tap("Stop here")
    assert "Still to answer: the start date and the budget" in me.text
    await me.tap("Main menu")
    await me.tap("Find a helper")
    await me.tap("Go on with my unsaved request")
    assert "Your request" in me.text and "Live-in" in me.text
    await me.say("/menu")
    await me.tap("Find a helper")
    await me.tap("Elder carer")  # the same draft, another kind: nothing lost
    kept = await only_request(app, "tg:501")
    assert kept.kind == "elder" and kept.mode == "live_in"


async def test_someone_elses_request_cannot_be_opened(app):
    other = await household(app, "tg:502")
    await maternity_until_budget(other)
    theirs = await only_request(app, "tg:502")
    me = await household(app)
    await me.tap("My requests")
    assert "You have no requests yet" in me.text
    nonce = me.button("Find a helper").data.split("|")[0]
    await me.press(f"{nonce}|open:{theirs.id}")
    assert "I don't recognise that button" in me.text
    assert "When is the baby due" not in me.text and DUE.isoformat() not in me.text


# --- languages --------------------------------------------------------------------------
async def act(me: Chat, action: str) -> None:
    """Tap the button that runs `action` (`kind:maternity`), whatever its label says."""
    found = [b for r in me.replies for b in r.flat_buttons() if b.data.split("|")[1] == action]
    assert found, (action, me.labels)
    await me.press(found[0].data)


LANGUAGE_WORDS = {
    "zh-hans": {
        "find": "你需要什么服务",
        "consent": "只有你选择面试的阿姨",
        "length": "月嫂一般做 26 天或 42 天",
        "summary": ["你的需求", "月嫂", "广州", "26 天（到", "粤语", "双胞胎"],
    },
    "zh-hk": {
        "find": "你需要咩服務",
        "consent": "只有你揀咗面試嘅家務助理",
        "length": "月嫂一般做 26 日或者 42 日",
        "summary": ["你嘅需求", "月嫂", "廣州", "26 日（到", "廣東話", "孖仔"],
    },
    "en": {
        "find": "What help do you need",
        "consent": "only the helpers you choose to interview",
        "length": "usually 26 or 42 days",
        "summary": ["Your request", "Maternity nurse", "Guangzhou", "26 days", "Cantonese"],
    },
}


async def test_the_key_screens_in_chinese_cantonese_and_english(app):
    for n, (hint, words) in enumerate(LANGUAGE_WORDS.items()):
        user = f"tg:51{n}"
        me = Chat(app.dispatcher, user, hint)
        await me.say("/start")
        await act(me, "continue")
        await act(me, "switch_role")
        await act(me, "role:household")
        await act(me, "go:find")
        await act(me, "agree")
        assert words["find"] in me.text, (hint, me.text)
        await act(me, "kind:maternity")
        await act(me, "mode:live_in")
        await act(me, "place:guangzhou")
        assert words["consent"] in me.text, (hint, me.text)
        await act(me, "consent_yes")
        await me.say(DUE.isoformat())
        assert words["length"] in me.text, (hint, me.text)
        await act(me, "length:26")
        await act(me, "range:1")
        await act(me, "pick:cantonese")
        await act(me, "done")
        await act(me, "age:any")
        await act(me, "years:any")
        await act(me, "pick:twins")
        await act(me, "done")
        await act(me, "no_note")
        for word in words["summary"]:
            assert word in me.text, (hint, word, me.text)
        kept = await only_request(app, user)
        assert (kept.kind, kept.place, kept.days, kept.languages, kept.needs) == (
            "maternity",
            "guangzhou",
            26,
            ["cantonese"],
            ["twins"],
        )


def test_the_nearest_place_of_a_shared_location():
    assert nearest_place(23.13, 113.26).id == "guangzhou"
    assert nearest_place(21.52, 111.0).id == "dianbai"
    assert nearest_place(22.3, 114.17).id == "hong_kong"
    assert nearest_place(39.9, 116.4) is None  # Beijing: outside the service area


async def test_typed_years_of_experience_are_the_answer_not_a_button(app):
    me = await household(app)
    await maternity_until_budget(me)
    await me.tap("¥7,000–10,000 a month")
    await me.tap("Any language")
    await me.tap("Any age")
    assert "How much experience" in me.text
    await me.say("5")  # five years, not the fifth button
    assert (await only_request(app, "tg:501")).min_years == 5
    assert "Any special needs" in me.text
    await me.tap("Done") if "Done" in " ".join(me.labels) else None
    await me.say("/menu")
    await me.tap("My requests")
    await me.tap("Maternity nurse")
    await me.tap("Experience")
    await me.say("4年")  # at least 4: the nearest choice not above it
    assert (await only_request(app, "tg:501")).min_years == 3
