"""Asking a person at the programme office, the person's side (issue 13), played as
people on SQLite: a question sent in Mandarin, Cantonese and English gets a reference
and a ticket with its context; the words on when to expect an answer on and off duty;
an urgent question reaches every admin at once; a second question joins the open
ticket; the flood limits, with what she typed kept; a reply to a closed ticket; her
questions' list and conversation (split, never cut), the office's notices with their
button; a forged `my_ticket`; a restart keeps the ticket and her place; erasing her
erases her tickets.

Where she asks from belongs to other flows: a stand-in screen here (`/tplace`,
`T_PLACE`, with something in her form) opens `start_ticket` as they do, with no
question ("T-ASK") or with one that had no answer (`/tunanswered …`). One test goes
through the real "❓ Questions and help" screen.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.app import App, create_app
from bot.dispatcher import Dispatcher
from handlers import FLOWS, ask
from handlers.ask_words import MESSAGES_PER_HOUR, SCREEN_CHARS, TICKETS_PER_DAY, thread_screens
from handlers.context import Ctx, Options, outside
from handlers.conversation import state_tag
from handlers.office import expect_words, next_opening, on_duty, parse_hours
from handlers.router import Flows, Replies, Router
from locales import translator
from storage.models import (
    Course,
    Outbox,
    Signup,
    Ticket,
    TicketMessage,
    TrainingBase,
    User,
    utcnow,
)
from storage.repositories import Repos
from tests.chat import Chat
from tests.conftest import ADMIN, make_settings
from tests.test_vetting import person as agreed
from tests.test_vetting import with_repos

OTHER_ADMIN = "tg:900"
HINTS = {"zh": "zh-hans", "yue": "zh-hk", "en": "en"}
REFERENCE = re.compile(r"Q-[23456789ABCDEFGHJKMNPQRSTWXYZ]{5}")
ALWAYS = "daily 00:00-24:00"
ZONE = ZoneInfo("Asia/Shanghai")

# --- a stand-in for the screens she asks from -----------------------------------------------
standin = Router("tests.ask_standin")
T_PLACE = standin.state("T_PLACE")


@standin.command("tplace")
async def _place(ctx: Ctx, _arg: str) -> Replies:
    ctx.remember(mine="kept")
    return await ctx.goto(T_PLACE)


@standin.prompt(T_PLACE)
async def _place_screen(ctx: Ctx) -> Replies:
    return [
        ctx.reply(
            f"Stand-in place, form: {ctx.form.get('mine')}",
            [ctx.button("T-ASK", "t_ask")],
            [ctx.button("T-MINE", "t_mine")],
        )
    ]


@standin.button(T_PLACE, "t_ask")
async def _ask(ctx: Ctx, _arg: str) -> Replies:
    return await ask.start_ticket(ctx, back=T_PLACE)


@standin.button(T_PLACE, "t_mine")
async def _mine(ctx: Ctx, _arg: str) -> Replies:
    return await ctx.goto(ask.MY_TICKETS)


@standin.command("tunanswered")
async def _unanswered(ctx: Ctx, arg: str) -> Replies:
    ctx.remember(mine="kept")
    ctx.user.state = T_PLACE
    return await ask.start_ticket(ctx, question=arg, back=T_PLACE)


def _flows() -> Flows:
    extra = Flows([standin])
    merged = Flows.__new__(Flows)
    for attr in ("states", "commands", "actions", "deep_links"):
        setattr(merged, attr, {**getattr(FLOWS, attr), **getattr(extra, attr)})
    return merged


FLOWS_HERE = _flows()


async def open_app(db_path: Path, **settings: Any) -> App:
    values: dict[str, Any] = {"office_hours": ALWAYS, "emergency_phone": "999"}
    values.update(settings)
    app = await create_app(make_settings(db_path, **values))
    app.dispatcher = Dispatcher(app.db, app.settings, flows=FLOWS_HERE)
    return app


@pytest.fixture
async def app(db_path: Path) -> AsyncIterator[App]:
    app = await open_app(db_path)
    yield app
    await app.close()


# --- people and rows ------------------------------------------------------------------------
async def person(app: App, key: str, lang: str = "en") -> Chat:
    """Someone at her main menu who agreed to the privacy notice, in `lang`."""
    return await agreed(app, key, HINTS[lang])


async def rows(app: App, model: Any, *where: Any) -> list[Any]:
    async with app.db.sessions() as session:
        return list(await session.scalars(select(model).where(*where).order_by(model.id)))


async def user_row(app: App, key: str) -> User:
    [found] = await rows(app, User, User.key == key)
    return found


async def outbox_texts(app: App, key: str) -> list[str]:
    found = await rows(app, Outbox, Outbox.user_key == key)
    return ["\n".join(r["text"] for r in row.replies) for row in found]


async def staff_does(app: App, ticket_id: int, **values: Any) -> None:
    """Staff take or close a ticket (their side is another flow: the row as it leaves it)."""
    async with app.db.sessions() as session, session.begin():
        await session.execute(update(Ticket).where(Ticket.id == ticket_id).values(**values))


async def staff_writes(app: App, ticket_id: int, text: str, staff: str = ADMIN) -> None:
    async with app.db.sessions() as session, session.begin():
        session.add(TicketMessage(ticket_id=ticket_id, author="staff", staff_key=staff, text=text))


async def signed_up(app: App, key: str) -> int:
    """A training base, a course there and her sign-up for it: the base's id."""

    async def build(repos: Repos) -> int:
        user = await repos.users.get(key)
        assert user is not None
        base = TrainingBase(code="b-ask", name="茂名家政培训基地")
        repos.session.add(base)
        await repos.session.flush()
        today = dt.date.today()
        course = Course(
            code="c-ask",
            title="月嫂培训",
            track="maternity",
            base_id=base.id,
            starts_on=today + dt.timedelta(days=10),
            ends_on=today + dt.timedelta(days=20),
            seats=10,
        )
        repos.session.add(course)
        await repos.session.flush()
        repos.session.add(
            Signup(course_id=course.id, user_id=user.id, status="seated", name="李", phone="1")
        )
        return base.id

    return await with_repos(app, build)


async def ask_by_typing(me: Chat, question: str, lang: str = "en") -> str:
    """From the stand-in place: "T-ASK", type, send. Returns what she was told."""
    _ = translator(lang)
    await me.say("/tplace")
    await me.tap("T-ASK")
    await me.say(question)
    await me.tap(_("✅ Send to the programme office"))
    return me.text


# --- asking -------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "yue", "en"])
async def test_a_question_gets_a_reference_and_a_ticket_with_its_context(app, lang):
    _ = translator(lang)
    me = await person(app, "tg:301", lang)
    base_id = await signed_up(app, "tg:301")
    await me.say("/tplace")
    await me.tap("T-ASK")
    assert _("Ask a person at the programme office") in me.text
    # questions the catalogue answers: typed here, they are for the person
    question = {
        "zh": "培训结束后有证书吗",
        "yue": "培訓完有冇證書",
        "en": "Do I get a certificate?",
    }
    await me.say(question[lang])
    assert f"“{question[lang]}”" in me.text
    assert _("Send this question to the programme office?") in me.text
    await me.tap(_("✅ Send to the programme office"))
    [reference] = REFERENCE.findall(me.text)
    assert _("Someone usually answers within a few hours today.") in me.text
    # back where she asked from, her form as it was
    assert "Stand-in place, form: kept" in me.text
    [ticket] = await rows(app, Ticket)
    her = await user_row(app, "tg:301")
    assert (ticket.reference, ticket.status, ticket.asker_id) == (reference, "open", her.id)
    assert (ticket.question, ticket.urgent, ticket.base_id) == (question[lang], False, base_id)
    context = ticket.context
    assert context["role"] == "seeker" and context["state"] == T_PLACE
    assert context["lang"] == lang and context["platform"] == "tg"
    assert isinstance(context["step"], str) and isinstance(context["recent"], list)
    assert len(context["recent"]) <= 5 and all(len(t) <= 200 for t in context["recent"])
    [message] = await rows(app, TicketMessage)
    assert (message.ticket_id, message.author, message.text) == (
        ticket.id,
        "asker",
        ticket.question,
    )
    assert "ask" not in her.form and her.form.get("mine") == "kept"
    # no one was told at once: it is not urgent (staff see it in the queue)
    assert await outbox_texts(app, ADMIN) == []


async def test_a_question_that_had_no_answer_is_carried_and_can_be_changed(app):
    me = await person(app, "tg:302")
    await me.say("/tunanswered Can my daughter come to the course with me?")
    assert "“Can my daughter come to the course with me?”" in me.text
    await me.tap("Change it")
    assert "You wrote: “Can my daughter come to the course with me?”" in me.text
    await me.tap("Keep what I wrote")
    await me.tap("Cancel")
    assert "Nothing was sent." in me.text and "Stand-in place, form: kept" in me.text
    assert await rows(app, Ticket) == []


async def test_bad_questions_are_refused_and_nothing_she_typed_is_lost(app):
    me = await person(app, "tg:303")
    await me.say("/tplace")
    await me.tap("T-ASK")
    await me.say("?")
    assert "Please tell us a little more" in me.text
    await me.say("我的身份证是 11010519491231002X 对吗")
    assert "That looks like an ID card number" in me.text
    assert "11010519491231002X" not in me.text
    long = "我想问一下培训的事情。" * 110  # 1,100 characters
    await me.say(long)
    assert "please keep it to 1,000" in me.text and long in me.text  # shown back whole
    assert await rows(app, Ticket) == []
    await me.say("培训在哪里上课？")
    await me.tap("Change it")
    await me.tap("Keep what I wrote")
    assert "“培训在哪里上课？”" in me.text
    await me.tap("Send to the programme office")
    assert REFERENCE.search(me.text)


async def test_through_questions_and_help(app):
    """The real way in: the main menu's "❓ Questions and help" → "👤 Ask a person",
    then "📨 My questions to the office"."""
    me = await person(app, "tg:304")
    await me.tap("Questions and help")
    await me.tap("Ask a person")
    await me.say("我想换一个培训基地可以吗")
    await me.tap("Send to the programme office")
    [reference] = REFERENCE.findall(me.text)
    assert "Questions and help" in me.text  # back on that screen
    await me.tap("My questions to the office")
    assert reference in me.text or any(reference in label for label in me.labels)
    await me.tap(reference)
    assert "我想换一个培训基地可以吗" in me.text
    await me.tap("◀ Back")
    await me.tap("◀ Back")
    assert "Questions and help" in me.text


# --- when to expect an answer ---------------------------------------------------------------------
def test_office_hours_on_and_off_duty_at_a_fixed_time():
    options = Options(office_hours="mon-fri 08:30-17:30; sat 09:00-12:00", office_phone="0668-1")
    _ = translator("en")
    tuesday_ten = dt.datetime(2026, 12, 1, 10, 0, tzinfo=ZONE)
    assert on_duty(options, tuesday_ten)
    assert expect_words(_, options, tuesday_ten) == (
        "Someone usually answers within a few hours today."
    )
    friday_four = dt.datetime(2026, 12, 4, 16, 0, tzinfo=ZONE)
    assert "closes at 17:30 today" in expect_words(_, options, friday_four)
    assert "tomorrow at 09:00" in expect_words(_, options, friday_four)
    saturday_one = dt.datetime(2026, 12, 5, 13, 0, tzinfo=ZONE)
    assert not on_duty(options, saturday_one)
    assert next_opening(options, saturday_one) == dt.datetime(2026, 12, 7, 8, 30, tzinfo=ZONE)
    words = expect_words(_, options, saturday_one)
    assert "No one is on duty" in words
    assert "Mon–Fri 08:30–17:30; Sat 09:00–12:00" in words
    assert "Mon 7 Dec at 08:30" in words
    assert "In an emergency, call 110." in words and "0668-1" in words
    # the same moment in UTC, and as naive local time
    assert not on_duty(options, saturday_one.astimezone(dt.UTC))
    assert on_duty(options, dt.datetime(2026, 12, 1, 10, 0))
    around_the_clock = Options(office_hours="daily 00:00-24:00")
    late = dt.datetime(2026, 12, 1, 23, 30, tzinfo=ZONE)
    assert expect_words(_, around_the_clock, late) == (
        "Someone usually answers within a few hours today."
    )
    zh = expect_words(translator("zh"), options, saturday_one)
    assert "周一–周五 08:30–17:30；周六 09:00–12:00" in zh


def test_bad_office_hours_are_left_out_or_fall_back(caplog):
    week = parse_hours("mon-fri 08:30-17:30; sat 9-12; sunday 25:00-26:00; nonsense")
    assert week[0] == ((510, 1050),) and week[5] == ((540, 720),) and week[6] == ()
    assert "cannot read" in caplog.text
    assert parse_hours("whenever") == parse_hours("mon-fri 08:30-17:30")
    assert parse_hours("") == parse_hours("mon-fri 08:30-17:30")
    assert parse_hours("fri-mon 10:00-12:00, 14:00-16:00")[6] == ((600, 720), (840, 960))
    assert parse_hours("fri-mon 10:00-12:00")[2] == ()


async def test_off_duty_she_is_told_the_hours_the_next_opening_and_the_emergency_line(db_path):
    day = (dt.datetime.now(ZONE) + dt.timedelta(days=2)).strftime("%a").lower()
    app = await open_app(db_path, office_hours=f"{day} 09:00-12:00", office_phone="0668-2")
    try:
        me = await person(app, "tg:305")
        told = await ask_by_typing(me, "请问什么时候开课")
        assert REFERENCE.search(told)
        assert "No one is on duty at the programme office right now." in told
        assert "09:00–12:00" in told and "at 09:00" in told
        assert "In an emergency, call 999." in told and "0668-2" in told
    finally:
        await app.close()


# --- urgent --------------------------------------------------------------------------------------
async def test_an_urgent_question_tells_every_admin_at_once(app):
    me = await person(app, "tg:306")
    told = await ask_by_typing(me, "雇主的丈夫打我，我很害怕，怎么办")
    assert "If anyone is in danger right now, call the police: 999." in told
    [ticket] = await rows(app, Ticket)
    assert ticket.urgent
    for admin in (ADMIN, OTHER_ADMIN):
        [notice] = await outbox_texts(app, admin)
        assert notice.startswith("🚨")
        assert ticket.reference in notice and "雇主的丈夫打我" in notice
    # an urgent message added later tells them again
    await me.say("/tplace")
    await me.tap("T-ASK")
    await me.say("他又来了 help, he hit me again")
    await me.tap("Send to the programme office")
    assert f"Added to your question {ticket.reference}" in me.text
    # on the ticket, for staff to read; admins alerted at most once in ten minutes
    assert len(await outbox_texts(app, ADMIN)) == 1


# --- one ticket at a time -------------------------------------------------------------------------
async def test_a_second_question_joins_the_open_ticket_and_the_holder_is_told(app):
    me = await person(app, "tg:307")
    await ask_by_typing(me, "第一个问题：培训要钱吗")
    [ticket] = await rows(app, Ticket)
    await staff_does(app, ticket.id, status="taken", holder=ADMIN)
    await me.say("/tplace")
    await me.tap("T-ASK")
    assert f"It will be added to your question {ticket.reference}" in me.text
    await me.say("第二个问题：有宿舍吗")
    assert f"Add this to your question {ticket.reference}?" in me.text
    await me.tap("Send to the programme office")
    assert f"Added to your question {ticket.reference}." in me.text
    assert len(await rows(app, Ticket)) == 1
    texts = [m.text for m in await rows(app, TicketMessage)]
    assert texts == ["第一个问题：培训要钱吗", "第二个问题：有宿舍吗"]
    [told] = await outbox_texts(app, ADMIN)
    assert ticket.reference in told and "第二个问题：有宿舍吗" in told
    # closed by staff: the next question is a new ticket
    await staff_does(app, ticket.id, status="closed", closed_by=ADMIN)
    told = await ask_by_typing(me, "第三个问题：几时开课")
    assert len(await rows(app, Ticket)) == 2 and ticket.reference not in told


# --- flood limits ---------------------------------------------------------------------------------
async def test_beyond_three_new_questions_a_day_she_is_told_and_her_text_is_kept(app):
    me = await person(app, "tg:308")
    for n in range(TICKETS_PER_DAY):
        await ask_by_typing(me, f"问题{n + 1}：培训的事")
        [last] = (await rows(app, Ticket))[-1:]
        await staff_does(app, last.id, status="closed")
    told = await ask_by_typing(me, "第四个问题：可以带孩子吗")
    assert "You can ask at most 3 new questions a day" in told
    assert "Stand-in place, form: kept" in told
    assert len(await rows(app, Ticket)) == TICKETS_PER_DAY
    assert (await user_row(app, "tg:308")).form["ask_draft"] == "第四个问题：可以带孩子吗"
    # asked with a question (from a failed answer): refused at once
    await me.say("/tunanswered 第五个问题：有没有宿舍")
    assert "You can ask at most 3 new questions a day" in me.text
    assert (await user_row(app, "tg:308")).form["ask_draft"] == "第五个问题：有没有宿舍"
    # someone in danger always reaches a person (what she typed before is offered)
    await me.tap("T-ASK")
    assert "You wrote: “第五个问题：有没有宿舍”" in me.text
    await me.say("雇主打我，我现在很危险")
    await me.tap("Send to the programme office")
    assert REFERENCE.search(me.text) and "call the police: 999" in me.text
    [urgent_one] = [t for t in await rows(app, Ticket) if t.urgent]
    assert len(await outbox_texts(app, ADMIN)) == 1
    await staff_does(app, urgent_one.id, status="closed")
    # her other question waits for tomorrow
    await me.say("/tunanswered 第五个问题：有没有宿舍")
    assert "You can ask at most 3 new questions a day" in me.text
    # a day later she comes back: what she wrote is there to keep
    async with app.db.sessions() as session, session.begin():
        a_day_ago = utcnow() - dt.timedelta(days=1, minutes=1)
        await session.execute(update(Ticket).values(created_at=a_day_ago))
        await session.execute(update(TicketMessage).values(created_at=a_day_ago))
    await me.tap("T-ASK")
    assert "You wrote: “第五个问题：有没有宿舍”" in me.text
    await me.tap("Keep what I wrote")
    await me.tap("Send to the programme office")
    assert REFERENCE.search(me.text)
    assert (await rows(app, Ticket))[-1].question == "第五个问题：有没有宿舍"


async def test_beyond_ten_messages_an_hour_a_reply_waits_and_is_kept(app):
    me = await person(app, "tg:309")
    await ask_by_typing(me, "第一条：培训地址在哪里")
    await me.tap("T-MINE")
    [ticket] = await rows(app, Ticket)
    await me.tap(ticket.reference)
    for n in range(MESSAGES_PER_HOUR - 1):
        await me.say(f"补充{n + 1}：谢谢")
        assert f"Added to your question {ticket.reference}." in me.text
    await me.tap("Reply")
    await me.say("第十一条：还有一个问题")
    assert "You can send at most 10 messages an hour" in me.text
    assert "You wrote: “第十一条：还有一个问题”" in me.text
    assert len(await rows(app, TicketMessage)) == MESSAGES_PER_HOUR
    # an hour later: "Keep what I wrote" sends it
    async with app.db.sessions() as session, session.begin():
        await session.execute(
            update(TicketMessage).values(created_at=utcnow() - dt.timedelta(minutes=61))
        )
    await me.tap("Keep what I wrote")
    assert f"Added to your question {ticket.reference}." in me.text
    assert (await rows(app, TicketMessage))[-1].text == "第十一条：还有一个问题"


# --- her questions and the conversation ----------------------------------------------------------
async def test_her_questions_the_conversation_and_closing_it(app):
    me = await person(app, "tg:310")
    await ask_by_typing(me, "第一个：旧问题")
    [old] = await rows(app, Ticket)
    await staff_does(app, old.id, status="closed")
    await ask_by_typing(me, "第二个：新问题")
    await me.tap("T-MINE")
    assert "新问题" in me.labels[0] and "waiting" in me.labels[0]  # newest first
    assert "旧问题" in me.labels[1] and "closed" in me.labels[1]
    new = (await rows(app, Ticket))[-1]
    await staff_does(app, new.id, status="taken", holder=ADMIN)
    await staff_writes(app, new.id, "您好，请问您报名的是哪个课程？")
    await me.tap(new.reference)
    assert "Someone at the programme office is answering it." in me.text
    assert "🏢 Programme office" in me.text and "您好，请问您报名的是哪个课程？" in me.text
    assert me.text.index("第二个：新问题") < me.text.index("您好，请问")
    await me.tap("Reply")
    await me.say("月嫂培训，十二月那期")
    assert f"Added to your question {new.reference}." in me.text
    assert "月嫂培训，十二月那期" in me.text  # the conversation again
    [told] = await outbox_texts(app, ADMIN)
    assert "月嫂培训，十二月那期" in told
    await me.tap("It's answered, close it")
    assert "Closed. Thank you!" in me.text and "Reply" not in " ".join(me.labels)
    closed = (await rows(app, Ticket))[-1]
    assert (closed.status, closed.closed_by) == ("closed", "tg:310")
    last = (await outbox_texts(app, ADMIN))[-1]  # in the admin's language (Chinese)
    assert last.startswith(f"✔ {closed.reference}") and "结束" in last


async def test_a_long_conversation_is_split_over_several_messages_never_cut(app):
    me = await person(app, "tg:311")
    await ask_by_typing(me, "一个很长的问题")
    [ticket] = await rows(app, Ticket)
    answers = [f"第{n}段回答。" + "说明" * 490 for n in range(6)]  # 6 × ~985 characters
    for text in answers:
        await staff_writes(app, ticket.id, text)
    await me.tap("T-MINE")
    await me.tap(ticket.reference)
    assert len(me.replies) >= 2
    assert all(len(r.text) <= SCREEN_CHARS for r in me.replies)
    assert all(any(text in r.text for r in me.replies) for text in answers)
    assert not me.replies[0].buttons and me.replies[-1].buttons


async def test_a_reply_to_a_closed_ticket_is_kept_and_can_be_asked_again(app):
    me = await person(app, "tg:312")
    await ask_by_typing(me, "证书什么时候发")
    [ticket] = await rows(app, Ticket)
    await me.tap("T-MINE")
    await me.tap(ticket.reference)
    await me.tap("Reply")
    await staff_does(app, ticket.id, status="closed", closed_by=ADMIN)  # meanwhile
    await me.say("还没有收到证书")
    assert f"This question ({ticket.reference}) is closed" in me.text
    assert "You wrote: “还没有收到证书”" in me.text
    assert len(await rows(app, TicketMessage)) == 1  # nothing added to the closed one
    await me.tap("Ask again with what I wrote")
    assert "“还没有收到证书”" in me.text
    await me.tap("Send to the programme office")
    [_old, new] = await rows(app, Ticket)
    assert (new.question, new.status) == ("还没有收到证书", "open")
    assert new.reference in me.text


def test_one_message_longer_than_a_screen_is_split_at_its_line_ends_never_cut():
    _ = translator("zh")
    long = "\n".join(f"第{n}行：" + "说明" * 60 for n in range(80))  # ~10,000 characters
    message = TicketMessage(author="staff", text=long, created_at=utcnow())
    screens = thread_screens(_, Options(), "Q-22222", [message], "foot")
    assert len(screens) >= 3 and all(len(s) <= SCREEN_CHARS for s in screens)
    shown = "\n".join(screens)
    assert all(line in shown for line in long.splitlines())


@pytest.mark.parametrize("lang", ["zh", "yue", "en"])
async def test_every_screen_of_hers_copes_with_an_empty_form(app, lang):
    """Reached with nothing in her form (a restart of an older version, a stale state):
    each screen shows something with buttons, or takes her somewhere that does."""
    me = await person(app, f"tg:32{len(lang)}", lang)
    for state in (ask.ASK_TEXT, ask.ASK_CONFIRM, ask.MY_TICKETS, ask.TK_VIEW, ask.TK_REPLY):
        async with app.db.sessions() as session, session.begin():
            await session.execute(
                update(User).where(User.key == me.user).values(state=state, form={})
            )
        await me.say("/help")
        assert me.replies and me.labels, (state, me.text)
        assert all(len(r.text) <= 4096 for r in me.replies)
    await ask_by_typing(me, "第一个问题", lang)
    async with app.db.sessions() as session, session.begin():
        await session.execute(
            update(User).where(User.key == me.user).values(state=ask.TK_CLOSED, form={})
        )
    await me.say("/help")
    assert me.labels


# --- the office's notices, and buttons that are not hers ------------------------------------------
async def notices(app: App, key: str, ticket_id: int) -> tuple[Any, Any]:
    async def build(repos: Repos) -> tuple[Any, Any]:
        user = await repos.users.get(key)
        assert user is not None
        ctx = outside(repos, user, app.dispatcher.options)
        ticket = await repos.tickets.get(user, ticket_id)
        assert ticket is not None
        return ask.office_reply_notice(ctx, ticket, "可以的，请带身份证原件。"), ask.closed_notice(
            ctx, ticket
        )

    return await with_repos(app, build)


async def test_the_offices_notices_open_her_ticket_and_a_forged_one_is_refused(app):
    me = await person(app, "tg:313")
    await ask_by_typing(me, "面试要带什么")
    other = await person(app, "console:314")
    await ask_by_typing(other, "我也有一个问题")
    mine, theirs = await rows(app, Ticket)
    replied, closed = await notices(app, "tg:313", mine.id)
    assert "The programme office answered your question" in replied.text
    assert mine.reference in replied.text and "可以的，请带身份证原件。" in replied.text
    assert mine.reference in closed.text and closed.buttons
    # on Telegram a button on the notice opens the conversation, from wherever she is
    await me.say("/tplace")
    await me.press(replied.buttons[0][0].data)
    assert "面试要带什么" in me.text and "Reply" in " ".join(me.labels)
    # the same button with another person's ticket: refused like a forged button
    her = await user_row(app, "tg:313")
    refused_before = her.refused_presses
    forged = f"{state_tag(her, ask.TK_VIEW)}|my_ticket:{theirs.id}"
    await me.press(forged)
    assert "I don't recognise that button." in me.text and "我也有一个问题" not in me.text
    assert (await user_row(app, "tg:313")).refused_presses == refused_before + 1
    for arg in ("abc", "-1", str(10**30)):
        await me.press(f"{state_tag(her, ask.TK_VIEW)}|my_ticket:{arg}")
        assert "I don't recognise that button." in me.text
    # elsewhere no button: the notice says where to answer
    replied, closed = await notices(app, "console:314", theirs.id)
    assert not replied.buttons and "📨 My questions to the office" in replied.text
    assert not closed.buttons and "Questions and help" in closed.text


# --- a restart, and erasure -----------------------------------------------------------------------
async def test_a_restart_keeps_the_ticket_and_her_place(db_path):
    app = await open_app(db_path)
    me = await person(app, "tg:315")
    await ask_by_typing(me, "第一个问题：住宿怎么安排")
    await me.tap("T-ASK")
    await me.say("第二个问题：吃饭呢")
    send = me.button("Send to the programme office").data
    await app.close()

    again = await open_app(db_path)
    try:
        her = Chat(again.dispatcher, "tg:315", "en")
        await her.press(send)  # the screen she left, on a new instance
        [ticket] = await rows(again, Ticket)
        assert f"Added to your question {ticket.reference}." in her.text
        assert "Stand-in place, form: kept" in her.text
        await her.tap("T-MINE")
        await her.tap(ticket.reference)
        assert "住宿怎么安排" in her.text and "吃饭呢" in her.text
    finally:
        await again.close()


async def test_erasing_her_erases_her_tickets(app):
    me = await person(app, "tg:316")
    await ask_by_typing(me, "我想删除我的资料")
    assert len(await rows(app, Ticket)) == 1
    await me.say("/delete_me")
    await me.tap(next(label for label in me.labels if "delete" in label.lower()))
    assert await rows(app, Ticket) == [] and await rows(app, TicketMessage) == []


async def test_erasing_her_drops_the_unsent_staff_notices_that_quote_her(app):
    me = await person(app, "tg:317")
    await ask_by_typing(me, "雇主打我，我很害怕")  # urgent: every admin told at once
    assert any("雇主打我" in text for text in await outbox_texts(app, ADMIN))
    await me.say("/delete_me")
    await me.tap(next(label for label in me.labels if "delete" in label.lower()))
    assert not any("雇主打我" in text for text in await outbox_texts(app, ADMIN))


async def test_beyond_ten_messages_an_hour_danger_still_reaches_every_admin(app):
    me = await person(app, "tg:318")
    await ask_by_typing(me, "培训地址在哪里")
    await me.tap("T-MINE")
    [ticket] = await rows(app, Ticket)
    await me.tap(ticket.reference)
    for n in range(MESSAGES_PER_HOUR - 1):
        await me.say(f"补充{n + 1}：还要准备什么")
    await me.tap("Reply")
    await me.say("雇主打我，我现在很害怕，快来救我")  # the eleventh this hour: it goes
    assert f"Added to your question {ticket.reference}." in me.text
    now = (await rows(app, Ticket))[-1]
    assert now.urgent and now.base_id is None  # the programme office's now
    for admin in (ADMIN, OTHER_ADMIN):
        [alert] = await outbox_texts(app, admin)
        assert alert.startswith("🚨") and "雇主打我" in alert


async def test_closing_and_asking_again_in_danger_alerts_admins_once_in_ten_minutes(app):
    me = await person(app, "tg:319")
    for n in range(3):
        await ask_by_typing(me, f"救命 {n}")
        ticket = (await rows(app, Ticket))[-1]
        await staff_does(app, ticket.id, status="closed")
    assert len(await rows(app, Ticket)) == 3 and all(t.urgent for t in await rows(app, Ticket))
    assert len(await outbox_texts(app, ADMIN)) == 1  # one alert for her, not one a ticket
