"""Questions (issue 13): instant answers from the catalogue wherever she is, with her
place kept; a weaker match offers three questions; no match offers a search or a person;
staff extend the catalogue by import; a flood is limited."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.app import create_app
from bot.cli import main
from handlers.replies import MAX_DATA, MAX_TEXT
from storage.faq import shipped
from storage.faq_match import Matcher
from storage.models import FaqEntry, Outbox, Ticket
from tests.catalogue import load
from tests.chat import Chat
from tests.conftest import ADMIN, load_user, make_settings
from tests.test_courses import COURSES, seeker
from tests.test_fairs import FAIRS

BACK = "Back to where I was"
FREE = shipped().by_key["fees-free"]


def within_limits(me: Chat) -> None:
    for reply in me.replies:
        assert 0 < len(reply.text) <= MAX_TEXT
        assert all(len(b.data.encode()) <= MAX_DATA for b in reply.flat_buttons())


async def at_the_county_step(chat, key: str, hint: str) -> Chat:
    """A job seeker half-way through signing up for a course: name and phone typed,
    the county asked."""
    me = await seeker(chat, key, hint)
    await me.say("/start course_1")
    await me.press(me.replies[-1].buttons[0][0].data)  # sign up
    await me.say("李秀梅")
    await me.say("138 0013 8000")
    return me


# --- asking in each language, on a half-filled form ---------------------------------------
@pytest.mark.parametrize(
    ("hint", "lang", "question", "kind"),
    [
        ("zh-hans", "zh", "培训要钱麻？", "a typo (麻 for 吗)"),
        ("zh-hans", "zh", "peixun yao qian ma?", "pinyin"),
        ("zh-hk", "yue", "培訓使唔使俾錢？", "Cantonese"),
        ("en", "en", "is the trainng free?", "English with a typo"),
    ],
)
async def test_a_question_on_her_form_is_answered_and_back_keeps_what_she_entered(
    app, chat, hint, lang, question, kind
):
    await load(app, COURSES)
    me = await at_the_county_step(chat, f"tg:71{len(kind)}", hint)
    county_screen = list(me.labels)
    await me.say(question)
    assert FREE.answer(lang)[:40] in me.text.replace("\n", "\n"), kind
    assert FREE.title(lang) in me.text
    labels = me.labels
    assert any("✖" in x for x in labels)  # that's not it
    assert any("👤" in x for x in labels)  # ask a person
    assert any("✍" in x for x in labels)  # it was my answer after all
    assert labels[-1].startswith("◀")
    within_limits(me)
    user = await load_user(app, me.user)
    assert user.state == "ASK_COUNTY" and user.form["signup"]["name"] == "李秀梅"
    await me.press(me.replies[-1].buttons[-1][0].data)  # ◀ back to where I was
    assert me.labels == county_screen
    await me.press(me.replies[-1].buttons[0][0].data)  # 茂南
    await me.say("38")
    if not any(label.startswith("✅") for label in me.labels):
        await me.press(me.replies[-1].buttons[0][0].data)
    assert "李秀梅" in me.text and "+8613800138000" in me.text  # nothing she entered lost


async def test_a_question_typed_on_a_text_step_can_still_be_her_answer(app, chat):
    await load(app, COURSES)
    me = await seeker(chat, "tg:720", "en")
    await me.say("/start course_1")
    await me.press(me.replies[-1].buttons[0][0].data)  # sign up: her name is asked
    await me.say("is the training free?")
    assert FREE.answer("en")[:40] in me.text
    assert (await load_user(app, "tg:720")).state == "ASK_NAME"
    await me.tap("as my answer")  # ✍ Use “…” as my answer: taken as her name
    user = await load_user(app, "tg:720")
    assert user.state != "ASK_NAME" or "name" in me.text.lower()
    await me.say("李秀梅")  # a name is never read as a question
    assert (await load_user(app, "tg:720")).form["signup"].get("name") == "李秀梅"


# --- at a menu: answers, three choices, search results, a person ---------------------------
async def test_at_the_menu_a_confident_match_answers_and_thats_not_it_offers_others(app, chat):
    me = await seeker(chat, "tg:721", "zh-hans")
    await me.say("培训要钱吗？")
    assert FREE.answer("zh")[:30] in me.text
    await me.tap("不是这个")
    assert "❓" in "".join(me.labels) and FREE.title("zh") not in " ".join(me.labels)
    assert any("👤" in x for x in me.labels)
    user = await load_user(app, "tg:721")
    assert user.state == "SEEKER_MENU" and user.asked == "培训要钱吗？"


async def test_a_weaker_match_offers_three_questions_to_choose_from(app, chat):
    words = "我想问一下证书的事"
    found = Matcher(shipped()).match(words)
    assert found.weak and not found.confident  # the case under test
    me = await seeker(chat, "tg:722", "zh-hans")
    await me.say(words)
    offered = [x for x in me.labels if x.startswith("❓")]
    assert offered == ["❓ " + e.title("zh") for e in found.top(3)]
    assert any("👤" in x for x in me.labels) and me.labels[-1].startswith("◀")
    await me.tap(offered[0])
    assert found.top(3)[0].answer("zh")[:30] in me.text
    assert (await load_user(app, "tg:722")).state == "SEEKER_MENU"


async def test_no_match_offers_search_results_if_any_else_a_person(app, chat):
    await load(app, COURSES, FAIRS)
    me = await seeker(chat, "tg:723", "en")
    menu = list(me.labels)
    await me.say("月嫂招聘")  # courses and fairs
    assert "Courses and job fairs for" in me.text
    assert any("好心月嫂初级班" in x for x in me.labels)
    await me.tap(BACK)
    assert me.labels == menu
    await me.say("zzzzqqq")  # nothing at all
    assert "ready answer" in me.text
    assert [x for x in me.labels if not x.startswith("◀")] == ["👤 Ask a person"]
    await me.tap(BACK)
    assert me.labels == menu


async def test_ask_a_person_from_a_failed_answer_carries_her_question(app, chat):
    me = await seeker(chat, "tg:724", "en")
    await me.say("zzzz qqqq wxyz")
    await me.tap("Ask a person")
    assert "zzzz qqqq wxyz" in me.text  # her question, to send or change
    await me.tap("Send")
    assert "Q-" in me.text
    async with app.db.sessions() as s:
        ticket = await s.scalar(select(Ticket))
    assert ticket.question == "zzzz qqqq wxyz" and ticket.context["role"] == "seeker"
    assert ticket.context["state"] == "SEEKER_MENU"
    assert (await load_user(app, "tg:724")).state == "SEEKER_MENU"


# --- bad input ----------------------------------------------------------------------------------
async def test_an_enormous_question_is_not_matched_but_can_go_to_a_person_whole(app, chat):
    me = await seeker(chat, "tg:725", "en")
    long = "My question is about the training fees and lodging. " * 10
    await me.say(long)
    assert "long for a question" in me.text
    await me.tap("Ask a person")
    assert long.strip()[:100] in me.text


async def test_a_flood_of_questions_is_limited_with_a_clear_word(app, chat):
    me = await seeker(chat, "tg:726", "en")
    for _n in range(30):
        await me.say("is the training free?")
        assert FREE.answer("en")[:40] in me.text
        await me.tap(BACK)
    await me.say("is the training free?")
    assert "many questions" in me.text and FREE.answer("en")[:40] not in me.text
    assert any("👤" in x for x in me.labels)  # a person is still there
    user = await load_user(app, "tg:726")
    assert user.asked_count == 31 and user.asked == "is the training free?"


# --- ❓ Questions and help, /ask ------------------------------------------------------------------
async def test_the_menu_entry_browses_topics_and_questions(app, chat):
    me = await seeker(chat, "tg:727", "zh-hk")
    await me.tap("問題同幫助")
    topic = shipped().topics["fees"]["yue"]
    await me.tap(topic)
    await me.tap(FREE.title("yue"))
    assert FREE.answer("yue")[:20] in me.text
    await me.tap("返回")
    assert (await load_user(app, "tg:727")).state == "QUESTIONS_TOPIC"


async def test_slash_ask_answers_where_she_is(app, chat):
    me = await seeker(chat, "tg:728", "en")
    await me.say("/ask is the training free")
    assert FREE.answer("en")[:40] in me.text
    assert (await load_user(app, "tg:728")).state == "SEEKER_MENU"


async def test_before_she_agrees_a_question_is_answered_and_nothing_is_kept(app, chat):
    me = chat("tg:729", "zh-hans")
    await me.say("/start")
    await me.say("培训要钱吗？")
    assert FREE.answer("zh")[:30] in me.text
    user = await load_user(app, "tg:729")
    assert user.consented_at is None and not user.asked and not user.recent


# --- staff extend the catalogue by import ---------------------------------------------
async def test_an_imported_entry_is_answered_by_a_running_instance(tmp_path, monkeypatch, capsys):
    """`haoxin import faq` in another process (here: another thread with its own event
    loop and engine) while the bot runs: the bot answers from it at the next question."""
    import asyncio

    db = tmp_path / "h.db"
    monkeypatch.setenv("HAOXIN_DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    monkeypatch.chdir(tmp_path)
    app = await create_app(make_settings(db))
    try:
        me = await seeker(lambda key, hint: Chat(app.dispatcher, key, hint), "tg:730", "en")
        await me.say("can I bring my pet parrot to class?")
        assert "Pets cannot come" not in me.text
        entry = {
            "key": "pets-at-class",
            "topic": "courses",
            "q": {
                "zh": ["上课可以带宠物吗？"],
                "yue": ["上堂可唔可以帶寵物？"],
                "en": ["Can I bring my pet to class?", "pet parrot at the course"],
            },
            "a": {
                "zh": "不可以带宠物。",
                "yue": "唔可以帶寵物。",
                "en": "Pets cannot come to class.",
            },
        }
        (tmp_path / "more.yaml").write_text(
            yaml.safe_dump({"entries": [entry]}, allow_unicode=True), encoding="utf-8"
        )
        assert await asyncio.to_thread(main, ["import", "faq", "more.yaml"]) == 0
        assert "1 new" in capsys.readouterr().out
        await me.tap(BACK)
        await me.say("can I bring my pet parrot to class?")
        assert "Pets cannot come to class." in me.text
        async with app.db.sessions() as s:
            row = await s.scalar(select(FaqEntry))
        assert row.key == "pets-at-class" and row.source == "import"
    finally:
        await app.close()


def test_a_wrong_catalogue_file_imports_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HAOXIN_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/h.db")
    monkeypatch.chdir(tmp_path)
    bad = [
        {"key": "ok-one", "q": {"en": ["fine?"]}, "a": {"en": "Fine."}},
        {"key": "Bad Key!", "q": {"en": ["x?"]}, "a": {"en": "{secret}"}},
    ]
    Path(tmp_path / "bad.yaml").write_text(yaml.safe_dump({"entries": bad}), encoding="utf-8")
    assert main(["import", "faq", "bad.yaml"]) == 1
    err = capsys.readouterr().err
    assert "key must be" in err and "unknown placeholder {secret}" in err
    assert "nothing was imported" in err
    csv = "key,topic,question_en,answer_en\nlate-pay,pay,my pay is late?,Tell the office.\n"
    (tmp_path / "more.csv").write_text(csv, encoding="utf-8")
    assert main(["import", "faq", "more.csv"]) == 0
    assert "1 new" in capsys.readouterr().out


# --- danger, typed anywhere ------------------------------------------------------------------
@pytest.mark.parametrize(
    "words",
    [
        "雇主打我",
        "我被老板打了",
        "老闆打咗我",
        "我不想活了",
        "老板不让我走，把我关在屋里",
        "he slapped me",
        "僱主唔俾我走",
    ],
)
async def test_danger_typed_at_the_menu_gives_the_emergency_line_and_a_person_at_once(
    app, chat, words
):
    await load(app, COURSES, FAIRS)
    me = await seeker(chat, "tg:740", "en")
    await me.say(words)
    assert "call the police: 110" in me.text and "999" in me.text
    assert "Courses and job fairs" not in me.text
    await me.tap("Tell the programme office now")
    assert words in me.text  # her words, to send
    await me.tap("Send")
    async with app.db.sessions() as s:
        ticket = await s.scalar(select(Ticket))
        alerts = list(await s.scalars(select(Outbox).where(Outbox.user_key == ADMIN)))
    assert ticket.urgent and ticket.base_id is None and ticket.question == words
    assert len(alerts) == 1 and "🚨" in alerts[0].replies[0]["text"]


async def test_danger_typed_on_a_form_step_is_answered_and_can_still_be_her_answer(app, chat):
    await load(app, COURSES)
    me = await at_the_county_step(chat, "tg:741", "en")
    await me.say("救命")
    assert "call the police" in me.text and (await load_user(app, "tg:741")).state == "ASK_COUNTY"
    assert any("as my answer" in x for x in me.labels)


async def test_back_to_where_i_was_stays_on_a_screen_with_its_own_back(app, chat):
    me = await seeker(chat, "tg:742", "en")
    await me.tap("Questions and help")
    await me.tap("My questions to the office")  # a screen whose ◀ Back leads elsewhere
    state = (await load_user(app, "tg:742")).state
    screen = me.text
    await me.say("is the training free?")
    assert FREE.answer("en")[:40] in me.text
    await me.tap(BACK)
    assert (await load_user(app, "tg:742")).state == state and me.text == screen


# --- importing the catalogue: what a file may not do ----------------------------------------
def test_an_import_hides_an_entry_and_refuses_aliases_and_unknown_topics(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("HAOXIN_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/h.db")
    monkeypatch.chdir(tmp_path)
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\nentries:\n  - {key: x, topic: *b}\n"
    (tmp_path / "bomb.yaml").write_text(bomb, encoding="utf-8")
    assert main(["import", "faq", "bomb.yaml"]) == 1
    assert "anchors and aliases" in capsys.readouterr().err
    odd = {"entries": [{"key": "odd", "topic": "cooking", "q": {"en": ["x?"]}, "a": {"en": "y"}}]}
    (tmp_path / "odd.yaml").write_text(yaml.safe_dump(odd), encoding="utf-8")
    assert main(["import", "faq", "odd.yaml"]) == 1
    assert "topic must be one of" in capsys.readouterr().err
    (tmp_path / "hide.yaml").write_text("entries:\n  - {key: fees-free, active: false}\n")
    assert main(["import", "faq", "hide.yaml"]) == 0
    assert "1 hidden" in capsys.readouterr().out

    async def asked() -> str:
        app = await create_app(make_settings(tmp_path / "h.db"))
        try:
            me = await seeker(lambda key, hint: Chat(app.dispatcher, key, hint), "tg:743", "en")
            await me.say("is the training free?")
            return me.text
        finally:
            await app.close()

    import asyncio

    assert FREE.answer("en")[:40] not in asyncio.run(asked())


async def test_danger_before_she_agreed_still_makes_an_urgent_ticket(app, chat):
    me = chat("tg:744", "zh-hans")
    await me.say("/start")
    await me.press(me.button("▶").data)  # continue: her menu, not agreed yet
    await me.say("救命")
    assert "110" in me.text
    await me.tap("马上告诉项目办公室")  # the privacy notice comes first
    await me.press(me.replies[-1].buttons[0][0].data)  # agree
    assert "救命" in me.text  # her words, kept to protect her
    await me.tap("发给项目办公室")
    async with app.db.sessions() as s:
        ticket = await s.scalar(select(Ticket))
        alerts = list(await s.scalars(select(Outbox).where(Outbox.user_key == ADMIN)))
    assert ticket.urgent and len(alerts) == 1


@pytest.mark.parametrize("words", ["转人工", "人工客服", "human please", "我想搵人傾下"])
async def test_asking_for_a_person_in_her_words_goes_to_a_person(app, chat, words):
    await load(app, COURSES, FAIRS)
    me = await seeker(chat, "tg:745", "en")
    await me.say(words)
    assert "Courses and job fairs" not in me.text
    assert (await load_user(app, "tg:745")).state == "ASK_TEXT"


@pytest.mark.parametrize("words", ["谢谢", "好的", "多謝晒", "thanks!", "OK"])
async def test_thanks_and_ok_are_not_searched(app, chat, words):
    await load(app, COURSES, FAIRS)
    me = await seeker(chat, "tg:746", "en")
    menu = list(me.labels)
    await me.say(words)
    assert "welcome" in me.text and "Courses and job fairs" not in me.text
    await me.tap(BACK)
    assert me.labels == menu


async def test_a_ticket_carries_her_words_not_the_numbers_she_typed(app, chat):
    me = await seeker(chat, "tg:747", "en")
    await me.say("4")  # a button's number: not her words
    await me.say("/menu")
    await me.say("zzzz qqqq")
    await me.tap("Ask a person")
    await me.tap("Send")
    async with app.db.sessions() as s:
        ticket = await s.scalar(select(Ticket))
    assert "4" not in ticket.context["recent"] and "zzzz qqqq" in ticket.context["recent"]


async def test_danger_as_her_very_first_message_gets_the_emergency_line(app, chat):
    me = chat("tg:748", "zh-hans")
    await me.say("救命，老板打我")
    assert "110" in me.replies[0].text and any("马上告诉项目办公室" in x for x in me.labels)
    assert (await load_user(app, "tg:748")).asked == "救命，老板打我"


@pytest.mark.parametrize(
    ("words", "danger"),
    [
        ("他说要杀了我", True),
        ("我想跳楼", True),
        ("佢困住我", True),
        ("I want to die", True),
        ("he punched me", True),
        ("SOS", True),
        ("打110", True),
        ("可以打我的手机吗", False),
        ("工资什么时候给我打钱", False),
        ("给宝宝打疫苗要注意什么？", False),
        ("我的账号被锁了", False),
        ("我被踢出微信群了", False),
        ("Do I need a police certificate for Hong Kong?", False),
        ("how to beat eggs for baby food?", False),
        ("培训费110元吗？", False),
        ("80-110", False),
    ],
)
def test_danger_words_and_ordinary_words_that_look_like_them(words, danger):
    from handlers.danger import urgent

    assert urgent(words) is danger


async def test_declining_the_privacy_notice_after_danger_repeats_the_emergency_line(app, chat):
    me = chat("tg:749", "en")
    await me.say("/start")
    await me.press(me.button("▶").data)
    await me.say("my boss locked me in the house")
    await me.tap("Tell the programme office now")
    await me.tap("No, thank you")
    assert "kept nothing" in me.text and "call the police: 110" in me.text
    assert await load_user(app, "tg:749") is None
