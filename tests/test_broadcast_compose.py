"""Staff compose and follow a programme notice in chat (issue 12), played as people.

- An admin writes a text per language, a button that opens a course, and sends it to
  the people signed up for that course who read Chinese or Cantonese: the preview's
  counts per platform are the database's, each person gets her language's text and the
  course's button (Telegram) or how to open it (WeChat); the progress screen is edited
  in place; the admin gets one final report with the counts.
- An empty and a 5,000-character text are refused, saying why, and what she wrote
  before is kept (Cantonese).
- Two admins confirming one draft: one queue, the second told and shown where it stands;
  a draft changed by one after the other opened it is not confirmed unseen.
- Sending is cancelled half-way; a second cancel is answered clearly.
- A notice set for tomorrow 9 o'clock (typed in Chinese) is not sent before its time.
- A job seeker typing /broadcast or forging the screen's buttons is refused.
- A training base's staff can only send to people signed up for her base's courses.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.app import App
from bot.broadcaster import STATUS_EVERY, Broadcaster
from bot.notifier import Delivery
from handlers import FLOWS
from handlers.context import Options
from handlers.replies import Reply
from locales import translator
from storage.broadcasts import MAX_TEXT, audience_counts
from storage.models import (
    AuditEntry,
    Broadcast,
    BroadcastDelivery,
    FairRegistration,
    JobFair,
    Outbox,
    Profile,
    Signup,
    User,
    WorkerProfile,
    WorkerTag,
    utcnow,
)
from storage.repositories import Repos
from tests.catalogue import course, load
from tests.chat import Chat
from tests.conftest import ADMIN

OTHER_ADMIN = "tg:900"  # the second admin of `make_settings`
OPTIONS = Options()
#: whether the conversation core lets a state take longer texts than its own limit
#: (`State.max_input`, asked for in the report of this work)


# --- helpers -------------------------------------------------------------------------------
class Recorder:
    """A platform for the broadcaster: what each person received, in order."""

    platforms = ("tg", "wx", "console")

    def __init__(self) -> None:
        self.got: dict[str, list[Reply]] = collections.defaultdict(list)

    async def send(self, user: str, replies: list[Reply]) -> Delivery:
        self.got[user] += replies
        return Delivery.SENT


async def people(app: App, keys: list[str], lang: str, **values: Any) -> None:
    """Job seekers who agreed to the privacy notice."""
    async with app.db.sessions() as s, s.begin():
        for key in keys:
            user = Repos(s).users.new(key, lang)
            user.role, user.consented_at = "seeker", utcnow()
            for name, value in values.items():
                setattr(user, name, value)


async def hold_places(app: App, course_id: int, keys: list[str], status: str = "confirmed") -> None:
    async with app.db.sessions() as s, s.begin():
        for key in keys:
            user = await s.scalar(select(User).where(User.key == key))
            s.add(Signup(course_id=course_id, user_id=user.id, status=status, name="x", phone="1"))


async def row_of(app: App, broadcast_id: int | None = None) -> Broadcast:
    async with app.db.sessions() as s:
        query = select(Broadcast).order_by(Broadcast.id.desc())
        if broadcast_id is not None:
            query = query.where(Broadcast.id == broadcast_id)
        row = await s.scalar(query)
    assert row is not None
    return row


async def count(app: App, model: Any, *where: Any) -> int:
    async with app.db.sessions() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def audits(app: App, action: str) -> list[AuditEntry]:
    async with app.db.sessions() as s:
        return list(await s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


async def until(check: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def status_is(app: App, broadcast_id: int, *statuses: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await row_of(app, broadcast_id)).status in statuses

    return check


@asynccontextmanager
async def sending(app: App, sender: Recorder, rate: float = 200.0) -> AsyncIterator[None]:
    task = asyncio.create_task(Broadcaster(app.db, sender, rate=rate, every=0.02).run_forever())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def admin_on(app: App, key: str = ADMIN, hint: str = "en") -> Chat:
    """A staff member on the notices screen."""
    me = Chat(app.dispatcher, key, hint)
    await me.say("/start")
    await me.tap(translator(_lang(hint))("📣 Send a notice"))
    return me


def _lang(hint: str) -> str:
    return {"zh-hans": "zh", "yue": "yue"}.get(hint, "en")


async def write_notice(me: Chat, text: str, lang: str = "en") -> None:
    """New notice, one text for everyone, no button: on the choice of who receives it."""
    _ = translator(lang)
    await me.tap(_("✏ New notice"))
    await me.tap(_("🌐 One text for every language"))
    await me.say(text)
    await me.tap(_("➖ No button"))


# --- the whole way: per-language texts, a course button, a course's people by language ------
async def test_an_admin_sends_a_notice_per_language_to_a_courses_people(app):
    ids = await load(
        app,
        [
            course("ys1", "好心月嫂初级班", "月嫂/母婴护理"),
            course("yy1", "育婴员班", "育婴员", base="xy"),
        ],
    )
    await people(app, ["tg:11", "wx:o12", "console:mei"], "zh")
    await people(app, ["tg:13"], "yue")
    await people(app, ["tg:14"], "yue", notices_off=True)
    await people(app, ["tg:15", "wx:o16"], "en")
    await people(app, ["tg:17"], "zh")  # on another course
    await hold_places(app, ids["ys1"], ["tg:11", "wx:o12", "console:mei", "tg:13", "tg:14"])
    await hold_places(app, ids["ys1"], ["tg:15"], status="waitlisted")
    await hold_places(app, ids["ys1"], ["wx:o16"], status="cancelled")
    await hold_places(app, ids["yy1"], ["tg:17"])
    texts = {"zh": "月嫂班下周一开课，请带身份证。", "yue": "月嫂班下星期一開課，請帶身份證。"}

    admin = await admin_on(app)
    assert "No notices yet" in admin.text
    await admin.tap("New notice")
    await admin.tap("A text per language")
    assert "Language 1 of 3" in admin.text and "简体中文" in admin.text
    await admin.say(texts["zh"])
    assert "Kept in the draft" in admin.text and "廣東話" in admin.text
    draft = await row_of(app)
    assert (draft.status, draft.texts, draft.created_by) == ("draft", {"zh": texts["zh"]}, ADMIN)
    await admin.say(texts["yue"])
    assert "Language 3 of 3" in admin.text
    await admin.tap("Skip this language")  # English readers read the Chinese one
    assert "Add a button that opens a course or a job fair" in admin.text
    await admin.tap("A course")
    await admin.tap("好心月嫂初级班")
    assert (await row_of(app)).button == {"kind": "course", "id": ids["ys1"]}
    assert "Who should receive it" in admin.text
    await admin.tap("People signed up for a course")
    assert "育婴员班" in " ".join(admin.labels)  # an admin may choose any base's course
    await admin.tap("好心月嫂初级班")
    await admin.tap("简体中文")
    await admin.tap("廣東話")
    assert "reading 简体中文 and 廣東話（繁體）" in admin.text
    await admin.tap("Continue to the preview")

    # the preview: each language's text, the button, who, and the database's numbers
    preview = admin.text
    assert "Notice #1, a draft" in preview
    assert f"简体中文: {texts['zh']}" in preview and f"廣東話（繁體）: {texts['yue']}" in preview
    assert f"English: {texts['zh']} (no text of its own" in preview
    assert "A button that opens the course “好心月嫂初级班”" in preview
    assert "People with a place on the course “好心月嫂初级班”" in preview
    async with app.db.sessions() as s:  # counted here from the rows themselves
        holders = await s.execute(
            select(User.key, User.notices_off)
            .join(Signup, Signup.user_id == User.id)
            .where(
                Signup.course_id == ids["ys1"],
                Signup.status.in_(("confirmed", "waitlisted")),
                User.lang.in_(("zh", "yue")),
            )
        )
        per_platform = collections.Counter(
            "off" if off else key.split(":")[0] for key, off in holders
        )
    assert per_platform == {"tg": 2, "wx": 1, "console": 1, "off": 1}
    assert "Goes to 4 people: Telegram 2 · WeChat 1 · terminal 1" in preview
    assert "Sent nothing: 1 turned notices off, 0 cannot be reached" in preview
    assert "On WeChat it reaches only those who wrote to us in the last 48 hours" in preview

    await admin.tap("Send now")
    assert "Confirmed: notice #1 is being sent now" in admin.text
    assert "Status: 📤 being sent" in admin.text or "waiting to be sent" in admin.text
    row = await row_of(app)
    assert row.status == "queued"
    [confirmed] = await audits(app, "broadcast:confirm")
    assert (confirmed.actor, confirmed.subject) == (ADMIN, f"broadcast:{row.id}")
    assert confirmed.before["status"] == "draft" and confirmed.after["status"] == "queued"

    sender = Recorder()
    async with sending(app, sender):
        await until(status_is(app, row.id, "done"))

        async def reported() -> bool:
            return await count(app, Outbox, Outbox.user_key == ADMIN) > 0

        await until(reported)
    assert set(sender.got) == {"tg:11", "wx:o12", "console:mei", "tg:13"}
    for key, lang in (("tg:11", "zh"), ("wx:o12", "zh"), ("console:mei", "zh"), ("tg:13", "yue")):
        [notice] = sender.got[key]
        assert notice.text.startswith(texts[lang]) and "/notices" in notice.text
    [[button]] = sender.got["tg:11"][0].buttons  # Telegram: a button under the notice
    assert button.label == translator("zh")("📚 Open the course")
    assert button.data.endswith(f"notice_open:course_{ids['ys1']}")
    assert sender.got["tg:13"][0].buttons[0][0].label == translator("yue")("📚 Open the course")
    assert not sender.got["wx:o12"][0].buttons  # WeChat: what to send instead
    assert f"/start course_{ids['ys1']}" in sender.got["wx:o12"][0].text

    # progress, refreshed in place; the final report reached its writer
    await admin.tap("Refresh")
    [screen] = admin.replies
    assert screen.replace  # the same message, edited
    assert "Status: ✅ sent" in screen.text
    assert "Sent 4 · failed 0 · cannot be reached 0" in screen.text
    assert "turned notices off 1" in screen.text
    assert "Cancel sending" not in " ".join(admin.labels)
    async with app.db.sessions() as s:
        [report] = await s.scalars(select(Outbox).where(Outbox.user_key == ADMIN))
    assert report.topic == f"broadcast:{row.id}"
    text = report.replies[0]["text"]
    assert "Notice #1 has been sent" in text and "Sent 4 · failed 0" in text
    assert "turned notices off 1" in text and "5 people in all" in text
    await admin.tap("Notices")
    assert "#1 · ✅ sent · 4 of 4 sent" in admin.text


# --- bad texts ------------------------------------------------------------------------------
async def test_empty_and_over_long_texts_are_refused_and_earlier_ones_kept(app):
    """In Cantonese, on Telegram."""
    _ = translator("yue")
    admin = await admin_on(app, OTHER_ADMIN, "yue")
    await admin.tap(_("✏ New notice"))
    await admin.tap(_("🈶 A text per language"))
    await admin.say("下星期一開課")
    assert (await row_of(app)).texts == {"zh": "下星期一開課"}
    await admin.say("   ")
    assert _("I received an empty message. Please type an answer or tap a button.") in admin.text
    long_text = "好" * 5000
    await admin.say(long_text)
    # the screen's own answer (it takes longer text than the core): the limit, her length
    assert "5,000" in admin.text and f"{MAX_TEXT:,}" in admin.text
    assert (await row_of(app)).texts == {"zh": "下星期一開課"}  # nothing lost, nothing half-kept
    async with app.db.sessions() as s:
        me = await s.scalar(select(User).where(User.key == OTHER_ADMIN))
    assert (me.state, me.form["bc_lang"]) == ("BC_TEXT", "yue")  # still asked for Cantonese
    await admin.say("下星期一開課，記得帶身份證")
    assert (await row_of(app)).texts == {"zh": "下星期一開課", "yue": "下星期一開課，記得帶身份證"}
    await admin.say("好" * 3000)  # a long notice within the limit is taken
    assert len((await row_of(app)).texts["en"]) == 3000


# --- two admins, one draft ------------------------------------------------------------------
async def test_two_admins_confirming_one_draft_make_one_queue(app):
    await people(app, [f"console:p{n}" for n in range(6)], "en")
    first = await admin_on(app)
    await write_notice(first, "Open day on Friday")
    await first.tap("Job seekers")
    await first.tap("Continue to the preview")
    assert "Goes to 6 people" in first.text
    second = await admin_on(app, OTHER_ADMIN)
    await second.tap("#1 Open day on Friday")
    assert "Notice #1, a draft" in second.text

    # one changes the text after the other opened the preview: not confirmed unseen
    await second.tap("Change the text")
    await second.tap("One text for every language")
    await second.say("Open day on Saturday")
    assert "Open day on Saturday" in second.text  # her preview again
    await first.tap("Send now")
    assert "Other staff changed this notice after you opened it" in first.text
    assert "Everyone reads: Open day on Saturday" in first.text  # as it is now
    assert (await row_of(app)).status == "draft"

    await first.tap("Send now")
    assert "Confirmed: notice #1 is being sent now" in first.text
    await second.tap("Send now")  # her preview is of the same version as the first's
    assert "no longer a draft" in second.text and "nothing was done twice" in second.text
    assert "Notice #1: Open day on Saturday" in second.text  # where it stands
    assert len(await audits(app, "broadcast:confirm")) == 1

    sender = Recorder()
    async with sending(app, sender):
        await until(status_is(app, 1, "done"))
    assert {k: len(v) for k, v in sender.got.items()} == {f"console:p{n}": 1 for n in range(6)}
    assert all(r[0].text.startswith("Open day on Saturday") for r in sender.got.values())
    assert await count(app, BroadcastDelivery) == 6
    await second.tap("Refresh")
    assert "Sent 6" in second.text

    # a second notice, both tapping "Send now" at the same moment
    await first.tap("Notices")
    await write_notice(first, "Second notice")
    await first.tap("Job seekers")
    await first.tap("Continue to the preview")
    await second.tap("Notices")
    await second.tap("#2 Second notice")
    await asyncio.gather(first.tap("Send now"), second.tap("Send now"))
    answers = sorted(
        "confirmed" if "Confirmed: notice #2" in c.text else "told" if "no longer a draft" in c.text
        else c.text
        for c in (first, second)
    )  # fmt: skip
    assert answers == ["confirmed", "told"]
    assert len(await audits(app, "broadcast:confirm")) == 2  # one for each notice
    assert (await row_of(app, 2)).status == "queued"


# --- cancelling ---------------------------------------------------------------------------------
async def test_sending_is_cancelled_half_way(app):
    await people(app, [f"tg:{n}" for n in range(1, 21)], "en")
    admin = await admin_on(app)
    await write_notice(admin, "Fair moved to Sunday")
    await admin.tap("Job seekers")
    await admin.tap("Continue to the preview")
    await admin.tap("Send now")
    other = await admin_on(app, OTHER_ADMIN)
    await other.tap("#1 Fair moved to Sunday")
    await other.tap("Cancel sending")  # she will be too late

    sender = Recorder()
    async with sending(app, sender, rate=5):

        async def some_sent() -> bool:
            return sum(map(len, sender.got.values())) >= 3

        await until(some_sent)
        await admin.tap("Refresh")
        assert admin.replies[0].replace and "Status: 📤 being sent" in admin.text
        assert "Left to send:" in admin.text and "to go" in admin.text
        await admin.tap("Cancel sending")
        assert "Stop sending notice #1?" in admin.text
        await admin.tap("Yes, stop sending")
        assert "Stopped: nothing more of it is sent" in admin.text
        assert "Status: ⛔ cancelled" in admin.text

        async def settled() -> bool:
            return not await count(
                app, BroadcastDelivery, BroadcastDelivery.status.in_(("pending", "sending"))
            )

        await until(settled)
        await asyncio.sleep(0.3)  # nothing more goes out
    got = sum(map(len, sender.got.values()))
    row = await row_of(app)
    assert row.status == "cancelled" and 3 <= got == row.sent < 20
    assert await count(app, BroadcastDelivery, BroadcastDelivery.status == "cancelled") == 20 - got
    [cancelled] = await audits(app, "broadcast:cancel")
    assert cancelled.actor == ADMIN and cancelled.before["status"] == "sending"
    assert cancelled.after == {"status": "cancelled"}
    await other.tap("Yes, stop sending")
    assert "already finished or been cancelled: nothing was changed" in other.text
    assert len(await audits(app, "broadcast:cancel")) == 1
    assert not await count(app, Outbox, Outbox.user_key == ADMIN)  # no report: not done


# --- a set time ---------------------------------------------------------------------------------
async def test_a_notice_set_for_tomorrow_is_not_sent_before_then(app):
    """In Chinese, at the terminal."""
    _ = translator("zh")
    await people(app, ["console:a", "tg:2"], "zh")
    admin = await admin_on(app, hint="zh-hans")
    await write_notice(admin, "明天上午九点招聘会", "zh")
    await admin.tap(_("👥 Everyone"))
    await admin.tap(_("Continue to the preview ▶"))
    await admin.tap(_("🕒 Send at a set time"))
    await admin.say("2020年1月1日上午9点")
    assert _("That time has already passed. Please type a time to come.") in admin.text
    await admin.say("9/12 10:00")
    assert _("Please write the date with the year first, like “2026-12-01 09:00”.") in admin.text
    await admin.say("明天上午9点")
    tomorrow = OPTIONS.now().date() + dt.timedelta(days=1)
    when = f"{_.date(tomorrow)} {_.time(dt.time(9, 0))}"
    assert when in admin.text  # shown back in local time
    await admin.tap(_("✅ Confirm: send at {when}", when=when))
    assert _("🕒 Confirmed: notice #{id} will be sent at {when}.", id=1, when=when) in admin.text
    row = await row_of(app)
    assert row.status == "queued"
    assert row.send_at == OPTIONS.utc(tomorrow, dt.time(9, 0))

    sender = Recorder()
    broadcaster = Broadcaster(app.db, sender, rate=200, every=0.02)
    for _step in range(3):
        await broadcaster.step()
    assert not sender.got and (await row_of(app)).status == "queued"
    assert not await count(app, BroadcastDelivery)
    async with app.db.sessions() as s, s.begin():  # the time comes
        await s.execute(update(Broadcast).values(send_at=utcnow() - dt.timedelta(seconds=1)))
    async with sending(app, sender):
        await until(status_is(app, row.id, "done"))
    assert set(sender.got) == {"console:a", "tg:2", ADMIN}  # everyone: staff too


# --- who may ----------------------------------------------------------------------------------
async def test_a_job_seeker_is_refused_by_command_and_by_forged_buttons(app):
    await people(app, ["tg:5"], "en")
    seeker = Chat(app.dispatcher, "tg:5", "en")
    await seeker.say("/menu")
    await seeker.say("/broadcast")
    assert "That part is for programme staff only" in seeker.text
    await seeker.press("abcde|new")
    assert "recognise that button" in seeker.text or "earlier message" in seeker.text
    async with app.db.sessions() as s, s.begin():  # a screen of staff's, reached somehow
        await s.execute(
            update(User).where(User.key == "tg:5").values(state="BC_PREVIEW", form={"bc": 1})
        )
    await seeker.say("/help")
    assert "That part is for programme staff only" in seeker.text
    assert (await _user(app, "tg:5")).state != "BC_PREVIEW"
    assert not await count(app, Broadcast)


async def _user(app: App, key: str) -> User:
    async with app.db.sessions() as s:
        user = await s.scalar(select(User).where(User.key == key))
    assert user is not None
    return user


async def test_base_staff_send_only_to_her_base_courses_people(app):
    ids = await load(
        app,
        [
            course("mm1", "茂名月嫂班", "月嫂/母婴护理", base="mm"),
            course("xy1", "信宜育婴班", "育婴员", base="xy"),
        ],
    )
    await people(app, ["tg:21", "tg:22"], "zh")
    await hold_places(app, ids["mm1"], ["tg:21"])
    await hold_places(app, ids["xy1"], ["tg:22"])
    admin = await admin_on(app)
    await write_notice(admin, "For everyone")  # an admin's draft: not hers to see
    staff = Chat(app.dispatcher, "tg:301", "en")
    await staff.onboard()
    async with app.db.sessions() as s, s.begin():
        await s.execute(update(User).where(User.key == "tg:301").values(staff_base_id=1))
    await staff.say("/menu")
    await staff.tap("Send a notice")
    assert "people signed up for a course of your base" in staff.text
    assert "For everyone" not in staff.text  # the admin's notice is not listed
    await staff.tap("New notice")
    await staff.tap("One text for every language")
    await staff.say("明天上课请带身份证")
    assert "A job fair" not in " ".join(staff.labels)
    await staff.tap("No button")
    assert "茂名月嫂班" in " ".join(staff.labels)  # her base's courses, at once
    assert "信宜育婴班" not in " ".join(staff.labels)
    nonce = staff.button("茂名月嫂班").data.split("|")[0]
    await staff.press(f"{nonce}|pick:{ids['xy1']}")  # forged: refused
    assert "recognise that button" in staff.text or "earlier message" in staff.text
    draft = await row_of(app)
    # another base's course reached another way (a screen from before): refused too
    async with app.db.sessions() as s, s.begin():
        form = (await s.scalar(select(User).where(User.key == "tg:301"))).form
        aud = {"who": "course", "course_id": ids["xy1"]}
        await s.execute(
            update(User)
            .where(User.key == "tg:301")
            .values(state="BC_NARROW", form={**form, "bc_aud": aud})
        )
    await staff.say("/help")
    await staff.tap("Continue to the preview")
    assert "That course belongs to another training base" in staff.text
    assert (await row_of(app, draft.id)).audience == {"who": "everyone"}
    await staff.tap("茂名月嫂班")
    await staff.tap("Continue to the preview")
    assert "Goes to 1 person: Telegram 1" in staff.text
    await staff.tap("Send now")
    assert "Confirmed" in staff.text
    row = await row_of(app, draft.id)
    assert row.audience == {"who": "course", "course_id": ids["mm1"]}
    assert row.created_by == "tg:301"
    await staff.press(f"{nonce}|open:1")  # the admin's notice, forged: refused
    assert "recognise that button" in staff.text or "earlier message" in staff.text


async def test_counties_are_matched_however_she_gave_hers(app):
    """A county ticked matches `茂南` (as sign-up keeps it) and `maonan` alike."""
    await people(app, ["tg:31", "tg:32", "tg:33"], "en")
    async with app.db.sessions() as s, s.begin():
        users = {u.key: u for u in await s.scalars(select(User))}
        s.add(Profile(user_id=users["tg:31"].id, county="茂南"))
        s.add(Profile(user_id=users["tg:32"].id, county="maonan"))
        s.add(Profile(user_id=users["tg:33"].id, county="信宜"))
    admin = await admin_on(app)
    await write_notice(admin, "Maonan only")
    await admin.tap("Everyone")
    await admin.tap("Maonan")
    assert "living in Maonan" in admin.text and "That is 2 people to send to" in admin.text
    await admin.tap("Continue to the preview")
    assert "Goes to 2 people: Telegram 2" in admin.text
    row = await row_of(app)
    async with app.db.sessions() as s:
        assert await audience_counts(s, row.audience) == {"tg": 2}


# --- workers, fairs, changing and discarding -------------------------------------------------
async def test_workers_by_kind_and_vetting_a_fair_and_a_discarded_draft(app):
    from tests.test_fairs import fair

    await load(
        app,
        [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")],
        [fair("f1", "春季招聘会", 5, "茂南", [("好心家政", "月嫂", "茂名", 6000, 9000, True)])],
    )
    await people(app, ["tg:41", "tg:42", "wx:o43"], "en")
    async with app.db.sessions() as s, s.begin():
        users = {u.key: u for u in await s.scalars(select(User))}
        fair_id = await s.scalar(select(JobFair.id))
        for key, status, kind in (("tg:41", "verified", "elder"), ("tg:42", "submitted", "elder")):
            profile = WorkerProfile(user_id=users[key].id, status=status, kinds=[kind])
            s.add(profile)
            await s.flush()
            s.add(WorkerTag(profile_id=profile.id, tag=f"kind:{kind}"))
        s.add(FairRegistration(fair_id=fair_id, user_id=users["wx:o43"].id, name="x", phone="1"))

    admin = await admin_on(app)
    await admin.tap("New notice")
    await admin.tap("A text per language")
    await admin.say("老年护理新岗位")
    await admin.say("老年護理新職位")
    await admin.say("New elder care jobs")
    await admin.tap("A job fair")
    await admin.tap("春季招聘会")
    await admin.tap("Workers")
    await admin.tap("Elder carer")
    await admin.tap("Verified")
    assert "✅ Elder carer" in admin.labels and "✅ Verified" in admin.labels
    assert "kinds of work: Elder carer — vetting: Verified" in admin.text
    await admin.tap("Continue ▶")
    assert "That is 1 person to send to" in admin.text
    await admin.tap("Continue to the preview")
    assert "A button that opens the job fair “春季招聘会”" in admin.text
    assert "Goes to 1 person: Telegram 1" in admin.text
    row = await row_of(app)
    assert row.audience == {"who": "workers", "kinds": ["elder"], "vetting": ["verified"]}
    assert row.button == {"kind": "fair", "id": fair_id}

    # the English text dropped, the button taken off, a fair's people instead
    await admin.tap("Change the text")
    await admin.tap("A text per language")
    await admin.tap("Keep it")
    await admin.tap("Keep it")
    await admin.tap("No text for this language")
    assert "English: 老年护理新岗位 (no text of its own" in admin.text
    await admin.tap("Change the button")
    await admin.tap("No button")
    assert "🔘 No button." in admin.text
    await admin.tap("Change who receives it")
    await admin.tap("People registered for a job fair")
    await admin.tap("春季招聘会")
    await admin.tap("Continue to the preview")
    assert "People registered for the job fair “春季招聘会”" in admin.text
    assert "Goes to 1 person: Telegram 0 · WeChat 1" in admin.text
    row = await row_of(app)
    assert (row.texts, row.button) == ({"zh": "老年护理新岗位", "yue": "老年護理新職位"}, None)
    assert row.audience == {"who": "fair", "fair_id": fair_id}

    await admin.tap("Discard")
    await admin.tap("Yes, discard it")
    assert "Discarded: notice #1 will not be sent" in admin.text
    assert "#1 · ⛔ cancelled" in admin.text
    assert (await row_of(app)).status == "cancelled"
    [discarded] = await audits(app, "broadcast:discard")
    assert discarded.actor == ADMIN and discarded.after == {"status": "cancelled"}
    await admin.tap("#1")  # a cancelled notice opens on its status
    assert "Status: ⛔ cancelled" in admin.text and "Cancel sending" not in " ".join(admin.labels)


# --- every screen, in every language ----------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "yue", "en"])
async def test_every_notice_screen_draws_in_every_language(app, lang):
    """Each state drawn again from what her form holds (as after a restart), with and
    without a draft: a screen or a clear answer, never an error; within Telegram's limits."""
    hint = {"zh": "zh-hans", "yue": "yue", "en": "en"}[lang]
    await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
    admin = await admin_on(app, hint=hint)
    await write_notice(admin, "好" * 400, lang)
    draft = await row_of(app)
    forms: list[dict[str, Any]] = [
        {},
        {"bc": draft.id, "bc_lang": "yue", "bc_aud": {"who": "workers"}, "bc_pick": "button"},
        {"bc": draft.id, "bc_show": draft.id, "bc_at": "2999-01-01T00:00:00", "bc_edit": True},
        {"bc": "x", "bc_show": 99, "bc_aud": "x", "bc_page": 99},
    ]
    for state in [s for s in FLOWS.states if s.startswith("BC_")]:
        for form in forms:
            async with app.db.sessions() as s, s.begin():
                await s.execute(
                    update(User).where(User.key == ADMIN).values(state=state, form=form)
                )
            await admin.say("/help")
            screen = admin.replies[-1]
            assert screen.text and len(screen.text) < 4096, (state, form)
            assert all(len(b.data.encode()) <= 64 for b in screen.flat_buttons())


class Timed:
    """A sender that notes when each notice went (monotonic seconds) and to whom."""

    platforms = ("tg", "wx", "console")

    def __init__(self) -> None:
        self.got: list[tuple[float, str]] = []

    async def send(self, user: str, replies: list) -> Delivery:
        self.got.append((time.monotonic(), user))
        return Delivery.SENT


async def test_stopped_means_what_was_booked_ahead_is_not_sent(app):
    """At the default rate a second of messages is booked ahead; "Stopped" stops them
    too (within the broadcaster's status look, `STATUS_EVERY`), and they are counted
    cancelled, not sent."""
    await people(app, [f"tg:{n}" for n in range(1, 301)], "en")
    admin = await admin_on(app)
    await write_notice(admin, "Fair moved to Sunday")
    await admin.tap("Job seekers")
    await admin.tap("Continue to the preview")
    await admin.tap("Send now")
    sender = Timed()
    async with sending(app, sender, rate=25.0):

        async def some() -> bool:
            return len(sender.got) >= 40

        await until(some)
        await admin.tap("Refresh")
        await admin.tap("Cancel sending")
        await admin.tap("Yes, stop sending")
        assert "Stopped" in admin.text
        stopped_at = time.monotonic()
        await asyncio.sleep(1.5)
    after = [u for t, u in sender.got if t > stopped_at]
    assert len(after) <= 25 * STATUS_EVERY + 2, len(after)
    row = await row_of(app)
    assert row.sent == len(sender.got) and row.status == "cancelled"
    async with app.db.sessions() as session:
        left = await session.scalar(
            select(func.count()).where(
                BroadcastDelivery.broadcast_id == row.id,
                BroadcastDelivery.status.in_(("pending", "sending")),
            )
        )
    assert left == 0


async def test_a_notice_too_long_for_one_telegram_message_or_showing_nothing_is_refused(app):
    """Counted as Telegram counts (UTF-16): 3,000 emoji are 6,000 units, over the limit
    though under 4,000 characters; a text of blank Braille cells shows nothing."""
    admin = await admin_on(app)
    await admin.tap("New notice")
    await admin.tap("One text for every language")
    await admin.say("😀" * 3000)
    assert "6,000" in admin.text and f"{MAX_TEXT:,}" in admin.text
    await admin.say("\u2800" * 20)
    assert "Kept in the draft" not in admin.text
    async with app.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Broadcast)) == 0


async def test_a_time_at_midnight_or_in_year_one_is_asked_again(app):
    """晚上12点 is midnight (the next day's start): never read as noon; a date of year
    1 is in the past, not a crash."""
    await people(app, ["tg:1"], "en")
    admin = await admin_on(app)
    await write_notice(admin, "Fair moved to Sunday")
    await admin.tap("Job seekers")
    await admin.tap("Continue to the preview")
    await admin.tap("Send at a set time")
    await admin.say("明天晚上12点")
    assert "could not read a date and a time" in admin.text
    await admin.say("0001-01-01 00:00")
    assert "already passed" in admin.text
    assert (await row_of(app)).status == "draft"
