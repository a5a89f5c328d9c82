"""The help desk, staff's side (issue 13), played as people: the queue (hers first,
urgent ones, the oldest first; a base's staff see her base's only), taking a ticket,
two staff (and two instances) taking the same one, the reply reaching the person in her
language through the outbox, replies the ticket no longer takes (kept, nothing lost),
one action to the catalogue, forged and out-of-base tickets refused, a role revoked
mid-way, and tickets across a restart."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any

from sqlalchemy import func, select, update

from bot.app import App, create_app
from handlers import FLOWS
from handlers.context import Ctx, Options, outside
from handlers.events import Event
from handlers.help_desk import DESK, DESK_REPLY, DESK_TICKET
from handlers.replies import Button
from locales import translator
from storage.models import (
    AuditEntry,
    FaqEntry,
    Outbox,
    Ticket,
    TicketMessage,
    TrainingBase,
    User,
)
from storage.repositories import Repos
from storage.staff import StaffRepo
from tests.catalogue import course, load
from tests.chat import Chat
from tests.conftest import ADMIN, load_user, make_settings
from tests.postgres import fresh_postgres
from tests.test_staff_roles import invite_for, person
from tests.test_staff_vetting import signed_up
from tests.test_vetting import OTHER_ADMIN
from tests.test_vetting import person as person_in

COURSES = [
    course("mm1", "茂名月嫂班", "月嫂/母婴护理", base="mm"),
    course("xy1", "信宜育婴班", "育婴员", base="xy"),
]


# --- people and tickets -------------------------------------------------------------------
async def with_repos(app: App, work: Any) -> Any:
    async with app.db.sessions() as session, session.begin():
        return await work(Repos(session, app.dispatcher.files))


async def base_id(app: App, code: str) -> int:
    async with app.db.sessions() as session:
        return await session.scalar(select(TrainingBase.id).where(TrainingBase.code == code))


async def ask_office(app: App, me: Chat, question: str) -> Ticket:
    """She asks a person from her menu ("❓ Questions and help", "👤 Ask a person"),
    types her question and sends it; her ticket, by the reference she is given.
    Buttons are pressed by what they do: their labels are in her language."""
    await me.say("/menu")
    for action in ("go:questions", "ask_person:new"):
        await me.press(by_action(me, action).data)
    await me.say(question)
    await me.press(by_action(me, "send").data)
    found = re.search(r"Q-[0-9A-Z]{5}", me.text)
    assert found, me.text
    async with app.db.sessions() as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.reference == found.group()))
    assert ticket is not None
    return ticket


def by_action(me: Chat, action: str) -> Button:
    found = [b for r in me.replies for b in r.flat_buttons() if b.data.endswith("|" + action)]
    assert len(found) == 1, (action, me.labels)
    return found[0]


async def asks(
    app: App,
    key: str,
    question: str,
    *,
    hint: str = "zh-hans",
    course: str | None = None,
    minutes_ago: int = 0,
) -> Ticket:
    """A new person (signed up for `course`, whose base the question is then about)
    asks the office `question`, `minutes_ago` (her ticket's time moved back)."""
    me = await person_in(app, key, hint)
    if course is not None:
        await signed_up(app, key, course)
    ticket = await ask_office(app, me, question)
    if minutes_ago:
        async with app.db.sessions() as session, session.begin():
            mine = await session.get(Ticket, ticket.id)
            assert mine is not None
            mine.created_at -= dt.timedelta(minutes=minutes_ago)
            ticket = mine
    return ticket


async def desk(app: App, key: str = ADMIN) -> Chat:
    """A staff member at the help desk, from her menu."""
    me = Chat(app.dispatcher, key, "en")
    await me.say("/menu")
    await me.tap("Help desk")
    assert "💬 Help desk" in me.text, me.text
    return me


async def ticket_now(app: App, ticket_id: int) -> Ticket:
    async with app.db.sessions() as session:
        found = await session.get(Ticket, ticket_id)
        assert found is not None
        return found


async def staff_messages(app: App, ticket_id: int) -> list[TicketMessage]:
    async with app.db.sessions() as session:
        rows = await session.scalars(
            select(TicketMessage).where(
                TicketMessage.ticket_id == ticket_id, TicketMessage.author == "staff"
            )
        )
        return list(rows)


async def her_notices(app: App, key: str, ticket_id: int) -> list[str]:
    async with app.db.sessions() as session:
        rows = await session.scalars(
            select(Outbox).where(Outbox.user_key == key, Outbox.topic == f"ticket:{ticket_id}")
        )
        return [r["text"] for row in rows for r in row.replies]


async def office_notice(app: App, key: str, ticket_id: int, text: str) -> str:
    """What she should receive for this reply: the office's notice in her language
    (`handlers.ask.office_reply_notice`, for her)."""
    from handlers.ask import office_reply_notice

    async def render(repos: Repos) -> str:
        her, ticket = await repos.users.get(key), await repos.desk.get(ticket_id)
        assert her is not None and ticket is not None
        return office_reply_notice(outside(repos, her, Options()), ticket, text).text

    return await with_repos(app, render)


async def actions(app: App, ticket_id: int) -> list[str]:
    async with app.db.sessions() as session:
        rows = await session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.subject == f"ticket:{ticket_id}")
            .order_by(AuditEntry.id)
        )
        return list(rows)


async def base_staff(app: App, key: str = "tg:301") -> Chat:
    """Staff of 茂名好心家政培训学校 (base `mm`), by invite."""
    code = await invite_for(app, "茂名好心家政培训学校")
    me = await person(app, key)
    await me.say(f"/staff {code}")
    assert "Staff menu" in me.text
    return me


async def base_staff_holding(app: App, ticket: Ticket) -> Chat:
    """The base's staff member, who has taken `ticket` at her help desk."""
    me = await base_staff(app)
    await me.tap("Help desk")
    await me.tap(ticket.reference)
    await me.tap("Take it")
    return me


# --- the queue ------------------------------------------------------------------------------
async def test_queue_hers_first_then_urgent_then_oldest_scoped_to_her_base(app):
    await load(app, COURSES)
    mm, xy = await base_id(app, "mm"), await base_id(app, "xy")
    old = await asks(app, "tg:1", "培训要钱吗？", course="mm1", minutes_ago=300)
    newer = await asks(app, "tg:2", "几时开课？", minutes_ago=30)
    danger = await asks(app, "tg:3", "雇主打我，怎么办", minutes_ago=5)
    other = await asks(app, "tg:4", "信宜有没有课", course="xy1", minutes_ago=200)
    assert (old.base_id, other.base_id, newer.base_id) == (mm, xy, None) and danger.urgent
    me = await desk(app)
    text = me.text
    assert "Yours: 0 · open: 4 (1 urgent)" in text
    order = [text.index(t.reference) for t in (danger, old, other, newer)]
    assert order == sorted(order), text
    assert f"🚨 {danger.reference}" in text and "雇主打我" in text
    assert "5 h" in text and "简体中文" in text  # its age and language
    # hers come first once she takes one
    await me.tap(newer.reference)
    await me.tap("Take it")
    await me.tap("◀ Back")
    assert me.text.index(newer.reference) < me.text.index(danger.reference)
    assert "Yours: 1 · open: 3 (1 urgent)" in me.text
    # a base's staff see her base's questions only
    staff = await base_staff(app)
    await staff.tap("Help desk")
    assert old.reference in staff.text
    assert not any(t.reference in staff.text for t in (newer, danger, other))
    assert "Questions about 茂名好心家政培训学校" in staff.text


async def test_the_queue_is_paged_eight_at_a_time(app):
    made = [await asks(app, f"tg:{n}", f"问题 {n}", minutes_ago=100 - n) for n in range(1, 11)]
    me = await desk(app)
    assert all(t.reference in me.text for t in made[:8])
    assert made[8].reference not in me.text and "Page 1 of 2" in me.text
    await me.tap("Next page")
    assert made[8].reference in me.text and made[9].reference in me.text
    assert made[0].reference not in me.text
    await me.tap("Earlier page")
    assert made[0].reference in me.text


# --- one ticket: reading, taking, replying ------------------------------------------------
async def test_taken_and_answered_the_reply_reaches_her_in_her_language(app):
    her = await person_in(app, "tg:7", "zh-hans")
    await her.say("月嫂班几时开始")
    ticket = await ask_office(app, her, "月嫂培训要不要钱？我没有钱")
    me = await desk(app)
    await me.tap(ticket.reference)
    text = me.text
    assert ticket.reference in text and "月嫂培训要不要钱" in text
    assert "From a job seeker or worker, on Telegram, reading 简体中文" in text
    assert "She was on: " in text and "“月嫂班几时开始”" in text
    assert "open: waiting for someone to take it" in text
    assert "tg:7" not in text  # never her ID (nor a phone: the ticket holds none)
    assert "Reply" not in " ".join(me.labels)  # not hers yet
    await me.tap("Take it")
    assert f"{ticket.reference} is yours now" in me.text
    await me.tap("Reply")
    assert "she reads 简体中文" in me.text
    await me.say("不用钱，农村妇女免费。报名请点“找免费课程”。")
    assert f"Sent to her ({ticket.reference})" in me.text
    assert "不用钱，农村妇女免费" in me.text  # the conversation on the ticket's screen
    [reply] = await staff_messages(app, ticket.id)
    assert reply.staff_key == ADMIN and reply.text.startswith("不用钱")
    [notice] = await her_notices(app, "tg:7", ticket.id)
    assert "不用钱，农村妇女免费" in notice and ticket.reference in notice
    assert notice == await office_notice(app, "tg:7", ticket.id, reply.text)  # her language
    assert "项目办公室" in notice or "programme office" in notice  # until translated
    assert await actions(app, ticket.id) == ["desk:take", "desk:reply"]
    # releasing puts it back in the queue, closing tells her
    await me.tap("Release")
    assert f"{ticket.reference} is back in the open queue" in me.text
    assert (await ticket_now(app, ticket.id)).status == "open"
    await me.tap(ticket.reference)
    await me.tap("Take it")
    await me.tap("Close")
    assert f"{ticket.reference} is closed, and she was told" in me.text
    assert (await ticket_now(app, ticket.id)).status == "closed"
    assert len(await her_notices(app, "tg:7", ticket.id)) == 2
    assert "Reply" not in " ".join(me.labels) and "Take it" not in " ".join(me.labels)
    await me.tap("◀ Back")
    assert ticket.reference not in me.text  # closed: off the queue


async def test_a_reference_typed_on_the_queue_opens_it(app):
    ticket = await asks(app, "tg:7", "证书怎么拿")
    me = await desk(app)
    await me.say(ticket.reference.lower())
    assert "证书怎么拿" in me.text and "Take it" in " ".join(me.labels)
    await me.tap("◀ Back")
    await me.say("Q-22222")
    assert "type its reference" in me.text


async def test_two_staff_take_the_same_ticket_the_second_is_told(app):
    ticket = await asks(app, "tg:7", "我想换工作")
    a, b = await desk(app, ADMIN), await desk(app, OTHER_ADMIN)
    await a.tap(ticket.reference)
    await b.tap(ticket.reference)
    await a.tap("Take it")
    await b.tap("Take it")
    assert f"{ticket.reference} was taken by someone else just now." in b.text
    assert "💬 Help desk" in b.text and "Taken by other staff" in b.text
    assert (await ticket_now(app, ticket.id)).holder == ADMIN
    # she can read it, not answer it
    await b.tap(ticket.reference)
    assert f"taken by {ADMIN}" in b.text
    assert "Reply" not in " ".join(b.labels) and "🙋 Take it" not in b.labels
    assert "🙋 Take it over" in b.labels  # an admin may, deliberately
    await b.say("我来回答")  # typed on its screen: refused, and kept
    assert "held by someone else now" in b.text and "“我来回答”" in b.text
    assert not await staff_messages(app, ticket.id)
    assert await actions(app, ticket.id) == ["desk:take"]


async def race_two_instances(first: App, second: App) -> None:
    """Two admins on two instances tap "Take it" on the same ticket at once, three
    times: each time exactly one holds it."""
    for round_ in range(3):
        key = f"tg:{70 + round_}"
        ticket = await asks(first, key, f"第 {round_} 个问题")
        a, b = await desk(first, ADMIN), await desk(second, OTHER_ADMIN)
        await a.tap(ticket.reference)
        await b.tap(ticket.reference)
        taps = (a.button("Take it").data, b.button("Take it").data)
        answers = await asyncio.gather(
            first.dispatcher.handle(Event(ADMIN, data=taps[0], update_id=f"race-a{round_}")),
            second.dispatcher.handle(Event(OTHER_ADMIN, data=taps[1], update_id=f"race-b{round_}")),
        )
        texts = ["\n".join(r.text for r in handled.replies) for handled in answers]
        won = [n for n, t in enumerate(texts) if "is yours now" in t]
        lost = [n for n, t in enumerate(texts) if "was taken by someone else just now" in t]
        assert len(won) == 1 and len(lost) == 1, texts
        now = await ticket_now(first, ticket.id)
        assert now.status == "taken" and now.holder == (ADMIN, OTHER_ADMIN)[won[0]]
        assert await actions(first, ticket.id) == ["desk:take"]


async def test_two_instances_on_one_database_file_take_a_ticket_once(db_path):
    first = await create_app(make_settings(db_path))
    second = await create_app(make_settings(db_path))
    try:
        await race_two_instances(first, second)
    finally:
        await first.close()
        await second.close()


async def test_two_instances_on_postgresql_take_a_ticket_once():
    async with fresh_postgres("haoxin_desk") as url:
        first = await create_app(make_settings(None, database_url=url))
        second = await create_app(make_settings(None, database_url=url))
        try:
            await race_two_instances(first, second)
        finally:
            await first.close()
            await second.close()


async def test_a_ticket_survives_a_restart_and_is_answered_after_it(db_path):
    before = await create_app(make_settings(db_path))
    try:
        ticket = await asks(before, "tg:7", "我想問下培訓幾時開始", hint="zh-hant")
    finally:
        await before.close()
    after = await create_app(make_settings(db_path))
    try:
        me = await desk(after)
        assert ticket.reference in me.text
        await me.tap(ticket.reference)
        await me.tap("Take it")
        await me.tap("Reply")
        assert "she reads 廣東話（繁體）" in me.text
        await me.say("下個月一號開始。")
        [notice] = await her_notices(after, "tg:7", ticket.id)
        assert "下個月一號開始" in notice and ticket.reference in notice
        assert notice == await office_notice(after, "tg:7", ticket.id, "下個月一號開始。")
        assert (await load_user(after, "tg:7")).lang == "yue"
    finally:
        await after.close()


# --- replies the ticket no longer takes: nothing lost ----------------------------------------
async def test_a_reply_after_it_was_closed_is_kept_and_shown_back(app):
    ticket = await asks(app, "tg:7", "工资什么时候发")
    a, b = await desk(app, ADMIN), await desk(app, OTHER_ADMIN)
    await a.tap(ticket.reference)
    await a.tap("Take it")
    await a.tap("Reply")
    await b.tap(ticket.reference)
    await b.tap("Close")  # an admin may close any ticket
    assert f"{ticket.reference} is closed" in b.text
    await a.say("每月十号发工资。")
    assert f"{ticket.reference} is closed: your reply was not sent." in a.text
    assert "nothing is lost" in a.text and "“每月十号发工资。”" in a.text
    assert not await staff_messages(app, ticket.id)
    assert len(await her_notices(app, "tg:7", ticket.id)) == 1  # only that it was closed
    user = await load_user(app, ADMIN)
    assert user.form["desk_draft"] == {"ticket": ticket.id, "text": "每月十号发工资。"}


async def test_a_reply_after_release_and_another_took_it_is_kept(app):
    ticket = await asks(app, "tg:7", "可以带孩子去上课吗")
    me = await desk(app)
    await me.tap(ticket.reference)
    await me.tap("Take it")
    await me.tap("Reply")

    async def elsewhere(repos: Repos) -> None:  # on another instance, meanwhile
        assert await repos.desk.release(ticket.id, ADMIN)
        assert await repos.desk.take(ticket.id, OTHER_ADMIN, None)

    await with_repos(app, elsewhere)
    await me.say("可以，有托管。")
    assert "held by someone else now: your reply was not sent" in me.text
    assert "“可以，有托管。”" in me.text
    assert not await staff_messages(app, ticket.id)
    # released again: she takes it and sends what she wrote, without typing it again
    await with_repos(app, lambda repos: repos.desk.release(ticket.id, OTHER_ADMIN))
    await me.say("/help")  # her screen again, as it is now
    await me.tap("Take it")
    await me.tap("Reply")
    await me.tap("Send what I wrote")
    assert f"Sent to her ({ticket.reference})" in me.text
    [reply] = await staff_messages(app, ticket.id)
    assert reply.text == "可以，有托管。"
    assert len(await her_notices(app, "tg:7", ticket.id)) == 1


# --- the catalogue ----------------------------------------------------------------------------
async def test_an_answer_goes_into_the_catalogue_once_written_over_by_an_admin(app):
    ticket = await asks(app, "tg:7", "我叫李秀梅，电话13800138000，体检在哪里做？")
    a, b = await desk(app, ADMIN), await desk(app, OTHER_ADMIN)
    await a.tap(ticket.reference)
    await a.tap("Take it")
    assert "Add to the catalogue" not in " ".join(a.labels)  # no staff reply yet
    await a.tap("Reply")
    await a.say("秀梅你好，在市人民医院体检中心，带身份证。")
    await b.tap(ticket.reference)
    assert "Add to the catalogue" in " ".join(b.labels)  # an admin
    await a.tap("Add to the catalogue")
    assert "never published as they are" in a.text  # her words are shown, not taken
    await a.say("体检在哪里做？电话13800138000")  # a phone number: refused
    assert "leave out phone numbers" in a.text
    await a.say("体检在哪里做？")  # the reply she got is shown to copy from, not taken
    assert "The reply she got: “秀梅你好" in a.text and "Publish" not in " ".join(a.labels)
    await a.say("在市人民医院体检中心，带身份证。")
    assert "Publish this in the catalogue?" in a.text
    await a.tap("Publish")
    assert "Added to the catalogue as desk-" in a.text and "体检在哪里做？" in a.text
    assert "Add to the catalogue" not in " ".join(a.labels)
    await b.tap("Add to the catalogue")  # a screen drawn before
    assert "It is in the catalogue already." in b.text
    async with app.db.sessions() as session:
        [entry] = list(await session.scalars(select(FaqEntry)))
    assert entry.source == "desk" and entry.topic == "more" and entry.created_by == ADMIN
    assert entry.questions == {"zh": ["体检在哪里做？"]}
    assert entry.answers == {"zh": "在市人民医院体检中心，带身份证。"}
    assert (await ticket_now(app, ticket.id)).faq_key == entry.key
    assert (await actions(app, ticket.id))[-1] == "desk:catalogue"
    other = await person_in(app, "tg:9", "zh-hans")  # another person asks it
    await other.say("体检在哪里做？")
    assert "在市人民医院体检中心" in other.text and "李秀梅" not in other.text


async def test_a_bases_staff_cannot_add_to_the_catalogue(app):
    await load(app, COURSES)
    ticket = await asks(app, "tg:7", "茂名的课几点开始？", course="mm1")
    me = await base_staff_holding(app, ticket)
    await me.tap("Reply")
    await me.say("早上八点半。")
    assert "Add to the catalogue" not in " ".join(me.labels)
    forged = me.replies[-1].buttons[0][0].data.split("|")[0] + "|desk_faq"
    await me.press(forged)
    async with app.db.sessions() as session:
        assert list(await session.scalars(select(FaqEntry))) == []


async def test_a_held_ticket_is_released_when_its_holder_is_revoked_and_admins_take_over(app):
    await load(app, COURSES)
    ticket = await asks(app, "tg:7", "茂名的课在哪里上？", course="mm1")
    me = await base_staff_holding(app, ticket)
    a = await desk(app, ADMIN)
    await a.tap(ticket.reference)
    await a.tap("Take it over")
    assert f"{ticket.reference} is yours now" in a.text
    now = await ticket_now(app, ticket.id)
    assert now.holder == ADMIN and (await actions(app, ticket.id))[-1] == "desk:take_over"
    await a.tap("Release")
    await me.say("/menu")
    await me.tap("Help desk")
    await me.tap(ticket.reference)
    await me.tap("Take it")
    assert (await ticket_now(app, ticket.id)).holder == me.user
    async with app.db.sessions() as session, session.begin():
        user = await session.scalar(select(User).where(User.key == me.user))
        assert await StaffRepo(session).revoke(user.id, ADMIN)
    released = await ticket_now(app, ticket.id)
    assert (released.status, released.holder) == ("open", "")


# --- refusals ----------------------------------------------------------------------------------
async def test_a_forged_or_another_bases_ticket_is_refused(app):
    await load(app, COURSES)
    mine = await asks(app, "tg:7", "茂名的问题", course="mm1")
    theirs = await asks(app, "tg:8", "信宜的问题", course="xy1")
    me = await base_staff(app)
    await me.tap("Help desk")
    nonce = me.button(mine.reference).data.split("|")[0]
    await me.press(f"{nonce}|desk_ticket:{theirs.id}")  # forged onto her screen
    assert "信宜的问题" not in me.text
    await me.say(theirs.reference)  # typed: not on her desk
    assert "信宜的问题" not in me.text and "type its reference" in me.text
    # another base's ticket put on her screen some other way: the screen refuses it
    async with app.db.sessions() as session, session.begin():
        await session.execute(
            update(User)
            .where(User.key == "tg:301")
            .values(state="DESK_TICKET", form={"desk_ticket": theirs.id})
        )
    await me.say("/help")
    assert "That question is not on your help desk." in me.text
    assert "信宜的问题" not in me.text and "💬 Help desk" in me.text
    # a job seeker's forged buttons do nothing
    seeker = await person(app, "tg:66")
    seeker_nonce = seeker.button("Language").data.split("|")[0]
    for data in (f"{seeker_nonce}|desk_take", f"{seeker_nonce}|desk_ticket:{mine.id}"):
        await seeker.press(data)
        assert "茂名的问题" not in seeker.text
    assert (await ticket_now(app, mine.id)).status == "open"
    assert (await ticket_now(app, theirs.id)).status == "open"


async def test_a_revoked_staff_member_is_refused_mid_way(app):
    await load(app, COURSES)
    ticket = await asks(app, "tg:7", "课程可以改时间吗", course="mm1")
    me = await base_staff(app)
    await me.tap("Help desk")
    await me.tap(ticket.reference)
    assert "Take it" in " ".join(me.labels)
    admin = Chat(app.dispatcher, ADMIN, "en")
    await admin.say("/menu")
    await admin.tap("Staff of the bases")
    await admin.tap("Revoke tg:301")
    await admin.tap("Yes, revoke")
    await me.tap("Take it")
    assert "for programme staff only" in me.text
    assert "课程可以改时间吗" not in me.text
    assert (await ticket_now(app, ticket.id)).status == "open"
    async with app.db.sessions() as session:
        taken = await session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "desk:take")
        )
    assert taken == 0


async def test_every_help_desk_prompt_and_action_asks_again(app):
    """Reached without staff rights, whatever the path, every screen and action of the
    help desk refuses, in her language, and changes nothing."""
    ticket = await asks(app, "tg:7", "问一下")
    await desk(app)
    async with app.db.sessions() as session, session.begin():
        repos = Repos(session, app.dispatcher.files)
        user = await repos.users.get(ADMIN)
        assert user is not None
        ctx = Ctx(Event(ADMIN), user, translator("zh"), repos, FLOWS, is_admin=False)
        refused = translator("zh")("That part is for programme staff only.")
        for state in (DESK, DESK_TICKET, DESK_REPLY):
            spec = FLOWS.states[state]
            handlers = [(h, str(ticket.id)) for h in spec.buttons.values()]
            if spec.on_text is not None:
                handlers.append((spec.on_text, "回答"))
            for handler, arg in handlers:
                user.state, user.form = state, {"desk_ticket": ticket.id}
                replies = await handler(ctx, arg)
                assert replies[0].text == refused, (state, handler)
                assert "desk_ticket" not in user.form
            user.state = state
            replies = await spec.prompt(ctx)  # type: ignore[misc]
            assert replies[0].text == refused
    now = await ticket_now(app, ticket.id)
    assert now.status == "open" and not await staff_messages(app, ticket.id)


async def test_danger_on_a_ticket_a_bases_staff_holds_sends_it_to_the_admins(app):
    await load(app, COURSES)
    ticket = await asks(app, "tg:7", "茂名的课几点开始？", course="mm1")
    await base_staff_holding(app, ticket)
    her = Chat(app.dispatcher, "tg:7", "zh-hans")
    await her.say("/menu")
    await her.press(by_action(her, "go:questions").data)
    await her.press(by_action(her, "ask_person:new").data)
    await her.say("改不了了，雇主打我，我现在很害怕")
    await her.press(by_action(her, "send").data)
    now = await ticket_now(app, ticket.id)
    assert now.urgent and now.base_id is None and (now.status, now.holder) == ("open", "")
    a = await desk(app, ADMIN)
    assert ticket.reference in a.labels[0]  # urgent, first in the admins' queue
