"""Staff vetting workers, played as people on SQLite: the queue, each check on its own,
asking for changes, her resubmission, approval, the audit log, two staff at once (in
one process and on two instances), a stale screen and forged buttons."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
from typing import Any

from PIL import Image
from sqlalchemy import func, select

from bot.app import App, create_app
from handlers import FLOWS
from handlers.context import Ctx
from handlers.events import Event
from handlers.vetting import VETTING, is_staff, typed_date
from locales import translator
from storage.models import AuditEntry, Outbox, VettingCheck, WorkerProfile
from storage.repositories import Repos
from storage.workers import DECISIONS, id_digest
from tests.chat import Chat
from tests.conftest import ADMIN, load_user, make_settings

OTHER_ADMIN = "tg:900"
ID_NUMBER = "11010519491231002X"


async def person(app: App, key: str, hint: str = "zh-hans") -> Chat:
    """Someone at her main menu who agreed to the privacy notice, in the language of
    `hint` (buttons pressed by position: the labels are in her language)."""
    me = Chat(app.dispatcher, key, hint)
    await me.say("/start")
    await me.press(me.button("▶").data)
    await me.say("/privacy")
    await me.press(me.replies[0].buttons[0][0].data)  # agree
    return me


async def with_repos(app: App, work: Any) -> Any:
    async with app.db.sessions() as session, session.begin():
        return await work(Repos(session, app.dispatcher.files))


async def worker(
    app: App,
    key: str = "tg:5",
    hint: str = "zh-hans",
    *,
    photo: bool = False,
    health: bool = True,
    id_number: str = ID_NUMBER,
) -> int:
    """A worker who built and submitted her profile (through `WorkerRepo`), with a
    certificate; returns the profile's id."""
    await person(app, key, hint)

    async def build(repos: Repos) -> int:
        user = await repos.users.get(key)
        assert user is not None
        profile = await repos.workers.start(user)
        given = dt.date.today() - dt.timedelta(days=30) if health else None
        await repos.workers.edit(
            profile,
            name="李秀英",
            kinds=["maternity"],
            places=["maonan", "guangzhou"],
            years=6,
            intro="带过很多宝宝。",
            id_last4=id_number[-4:],
            id_hash=id_digest(id_number, await repos.workers.id_key()),
            health_passed_on=given,
        )
        name = None
        if photo:
            picture = io.BytesIO()
            Image.new("RGB", (40, 30), "white").save(picture, format="JPEG")
            name = await repos.files.keep_image(user, "certificate", picture.getvalue())
        await repos.workers.add_certificate(
            profile, "maternity_nurse", "MY-2023-0018", "茂名市人社局", dt.date(2023, 5, 1), name
        )
        await repos.workers.submit(profile)
        return profile.id

    return await with_repos(app, build)


async def staff(app: App, key: str = ADMIN) -> Chat:
    """A staff member at the vetting screen."""
    me = Chat(app.dispatcher, key, "en")
    await me.say("/start")
    await me.say("/menu")
    await me.tap("Vet workers")
    return me


async def profile_now(app: App, profile_id: int) -> WorkerProfile:
    async def read(repos: Repos) -> WorkerProfile:
        found = await repos.workers.get(profile_id)
        assert found is not None
        return found

    return await with_repos(app, read)


async def audit(app: App, profile_id: int) -> list[AuditEntry]:
    async def read(repos: Repos) -> list[AuditEntry]:
        return list(reversed(await repos.workers.audit_of(f"worker:{profile_id}", 100)))

    return await with_repos(app, read)


async def her_messages(app: App, key: str) -> list[str]:
    async with app.db.sessions() as session:
        rows = await session.scalars(
            select(Outbox).where(Outbox.user_key == key, Outbox.topic.like("vetting:%"))
        )
        return [r["text"] for row in rows for r in row.replies]


async def record(me: Chat, label: str, note: str | None = None) -> None:
    await me.tap(label)
    if "Keep:" in " ".join(me.labels):  # a passed health check: the date she gave
        await me.tap("Keep:")
    if note is None:
        await me.tap("No note")
    else:
        await me.say(note)
    assert "Recorded:" in me.text, me.text


async def all_checks(app: App, profile_id: int) -> None:
    """Identity, health and criminal record passed (straight through the repository)."""

    async def check(repos: Repos) -> None:
        for kind in ("identity", "health", "criminal"):
            profile = await repos.workers.get(profile_id)
            assert profile is not None
            await repos.workers.record_check(
                profile.id, profile.version, ADMIN, kind, "", "passed", dt.date.today()
            )

    await with_repos(app, check)


# --- the whole journey ------------------------------------------------------------------
async def test_check_by_check_changes_resubmit_approve_with_every_step_audited(app):
    pid = await worker(app, "tg:5", "zh-hans", photo=True)
    me = await staff(app)
    assert "1 profile waits for vetting." in me.text
    assert f"Profile #{pid}: Waiting for vetting" in me.text
    assert "New: no staff member has decided" in me.text
    assert "李秀英" in me.text and "ID number ends in: 002X" in me.text
    assert "MY-2023-0018" in me.text  # staff see the certificate's number

    # the certificate's photo, for staff
    replies = await me.tap("Photo of Maternity nurse certificate")
    stored = (await profile_now(app, pid)).certificates[0].photo
    assert replies[0].photo == stored and stored

    await me.press(me.history[-2].flat_buttons()[0].data)  # the screen stays: ✅ Identity
    await me.tap("No note")
    assert "Recorded: Identity passed" in me.text
    assert "✅ Identity: verified" in me.text

    # approving before health and criminal record are passed: refused, saying which
    await me.tap("Approve")
    assert "Not approved" in me.text
    assert "Health examination" in me.text and "Criminal-record check" in me.text
    assert (await profile_now(app, pid)).status == "submitted"

    # ask for changes: the reason is required, and reaches her in her language
    await me.tap("Ask for changes")
    await me.say("x" * 301)
    assert "at most 300 characters" in me.text
    await me.say("请补上证书背面的照片")
    assert "Done: profile" in me.text and "Changes asked" in me.text
    assert "No profile waits for vetting." in me.text
    sent = await her_messages(app, "tg:5")
    zh = translator("zh")
    assert "请补上证书背面的照片" in sent[-1] and zh("🪪 My worker profile") in sent[-1]

    # she edits, answers and sends it again
    async def resubmit(repos: Repos) -> None:
        profile = await repos.workers.get(pid)
        assert profile is not None
        await repos.workers.edit(profile, intro="带过四十多个宝宝，会做月子餐。")
        await repos.workers.answer(profile, "已经补上了")
        await repos.workers.submit(profile)

    await with_repos(app, resubmit)
    await me.say("/menu")
    await me.tap("Vet workers")
    assert "Changed since the last look: introduction." in me.text
    assert "Staff asked for changes: “请补上证书背面的照片”" in me.text
    assert "Her answer: “已经补上了”" in me.text

    await record(me, "Health examination passed")
    await record(me, "Criminal-record check passed", "公安机关证明已核对")
    await record(me, "Maternity nurse certificate passed")
    assert "公安机关证明已核对" in me.text  # the note shows with the check
    await me.tap("Approve")
    assert "Done: profile" in me.text and "Verified" in me.text

    profile = await profile_now(app, pid)
    assert profile.status == "verified" and profile.code and len(profile.code) == 12
    assert profile.health_valid_until == dt.date.today() - dt.timedelta(days=30) + dt.timedelta(
        days=365
    )
    sent = await her_messages(app, "tg:5")
    assert profile.code[:4] in sent[-1]

    entries = await audit(app, pid)
    assert [e.action for e in entries] == [
        "submit",
        "check:identity",
        "changes",
        "submit",
        "check:health",
        "check:criminal",
        f"check:certificate:{profile.certificates[0].id}",
        "approve",
    ]
    by_staff = [e for e in entries if e.action != "submit"]
    assert all(e.actor == ADMIN and e.at for e in by_staff)
    changes = entries[2]
    assert (changes.before, changes.after, changes.reason) == (
        {"status": "submitted"},
        {"status": "changes"},
        "请补上证书背面的照片",
    )
    assert entries[5].reason == "公安机关证明已核对"
    assert entries[-1].before == {"status": "submitted"}
    assert entries[-1].after == {"status": "verified"}

    # the history, found by her credential code
    await me.tap("Look up a worker")
    await me.say(profile.code.lower())
    assert f"Profile #{pid}: Verified" in me.text
    assert "This profile is not waiting in the queue." in me.text
    await me.tap("History")
    assert f"History of profile #{pid}, newest first:" in me.text
    assert "Approved: Waiting for vetting → Verified" in me.text
    assert "Note: 公安机关证明已核对" in me.text  # a check's note
    assert "Asked for changes: Waiting for vetting → Changes asked" in me.text
    assert "Why: 请补上证书背面的照片" in me.text
    assert "Older ▶" in me.labels  # eight entries: two pages
    await me.tap("Older ▶")
    assert me.replies[0].replace  # the same message, edited
    assert "Identity: not checked → passed" in me.text
    assert "she herself\nSent for vetting: Draft, not sent yet → Waiting for vetting" in me.text
    await me.tap("◀ Newer")
    assert "Approved" in me.text
    await me.tap("Back to the profile")
    assert f"Profile #{pid}: Verified" in me.text


async def test_health_date_is_asked_never_in_the_future_and_valid_a_year(app):
    pid = await worker(app, health=False)
    me = await staff(app)
    await me.tap("Health examination passed")
    assert "on what date was the examination?" in me.text
    assert not any("Keep:" in label for label in me.labels)  # she gave none
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    await me.say(tomorrow.isoformat())
    assert "in the future" in me.text
    await me.say((dt.date.today() - dt.timedelta(days=400)).isoformat())
    assert "more than a year old" in me.text
    await me.say("不知道")
    assert "Please type a date" in me.text
    day = dt.date.today() - dt.timedelta(days=10)
    await me.say(f"{day.year}年{day.month}月{day.day}日")
    await me.tap("No note")
    profile = await profile_now(app, pid)
    assert profile.health_valid_until == day + dt.timedelta(days=365)
    assert profile.health_passed_on == day


async def test_approve_is_refused_while_health_is_missing_or_expired(app):
    pid = await worker(app)
    me = await staff(app)
    await record(me, "Identity passed")
    await record(me, "Criminal-record check passed")
    await me.tap("Approve")
    assert "Not approved: these checks are not passed yet: Health examination." in me.text
    assert (await profile_now(app, pid)).status == "submitted"
    assert not [e for e in await audit(app, pid) if e.action == "approve"]

    async def expire(repos: Repos) -> None:  # a check recorded more than a year ago
        profile = await repos.workers.get(pid)
        assert profile is not None
        old = dt.date.today() - dt.timedelta(days=400)
        await repos.workers.record_check(pid, profile.version, ADMIN, "health", "", "passed", old)

    await with_repos(app, expire)
    await me.say("/menu")
    await me.tap("Vet workers")
    await me.tap("Approve")
    assert "Health examination" in me.text and "Not approved" in me.text
    assert (await profile_now(app, pid)).status == "submitted"


async def test_reject_suspend_and_reinstate_tell_her(app):
    first = await worker(app, "tg:5", "en")
    second = await worker(app, "tg:6", "zh-hk", id_number="110105194912310029")
    me = await staff(app)
    assert "2 profiles wait for vetting." in me.text
    await me.tap("Next profile")
    assert f"Profile #{second}" in me.text
    await me.tap("Next profile")
    assert "That was the last profile in the queue. Back to the first:" in me.text
    assert f"Profile #{first}" in me.text
    await me.tap("Reject")
    await me.say("证件不清楚")
    assert (await profile_now(app, first)).status == "rejected"
    assert "not approved" in (await her_messages(app, "tg:5"))[-1]

    await all_checks(app, second)
    await me.say("/menu")
    await me.tap("Vet workers")
    await me.tap("Approve")
    code = (await profile_now(app, second)).code
    await me.tap("Look up a worker")
    await me.say(f"#{second}")
    assert "Suspend" in " ".join(me.labels) and "Reject" not in " ".join(me.labels)
    await me.tap("Suspend")
    await me.say("家长投诉 调查中")
    assert (await profile_now(app, second)).status == "suspended"
    assert f"Profile #{second}: Suspended" in me.text  # stays on screen
    hk = await her_messages(app, "tg:6")
    assert "家长投诉 调查中" in hk[-1] and code and code[:4] in hk[-2]
    await me.tap("Reinstate")
    assert (await profile_now(app, second)).status == "verified"
    assert len(await her_messages(app, "tg:6")) == 3
    actions = [e.action for e in await audit(app, second)]
    assert actions[-3:] == ["approve", "suspend", "reinstate"]


async def test_the_same_id_number_on_two_profiles_is_flagged(app):
    first = await worker(app, "tg:5")
    second = await worker(app, "tg:6")
    me = await staff(app)
    assert f"The same ID number is on profile #{second}." in me.text
    await me.tap("Next profile")
    assert f"The same ID number is on profile #{first}." in me.text


# --- two staff at once ----------------------------------------------------------------
async def decisions(app: App, profile_id: int) -> list[AuditEntry]:
    return [e for e in await audit(app, profile_id) if e.action in DECISIONS]


async def test_two_staff_one_approves_the_other_rejects_one_decision(app):
    pid = await worker(app)
    await all_checks(app, pid)
    a = await staff(app, ADMIN)
    b = await staff(app, OTHER_ADMIN)
    await b.tap("Reject")  # B starts typing a reason...
    await a.tap("Approve")  # ...while A approves
    assert "Done: profile" in a.text
    await b.say("看起来不可靠")
    assert (
        "Another staff member has just decided on this profile (now: Verified by console:admin)"
        in b.text
    )
    assert f"Profile #{pid}: Verified" in b.text  # shown as it is now
    assert (await profile_now(app, pid)).status == "verified"
    assert [e.action for e in await decisions(app, pid)] == ["approve"]
    assert not await her_messages(app, "tg:5") or all(
        "不可靠" not in m for m in await her_messages(app, "tg:5")
    )

    # and the other way round: approving a profile another staff member just rejected
    other = await worker(app, "tg:6", id_number="110105194912310029")
    await all_checks(app, other)
    await a.say("/menu")
    await a.tap("Vet workers")
    await b.say("/menu")
    await b.tap("Vet workers")
    await b.tap("Reject")
    await b.say("资料不全")
    await a.tap("Approve")
    assert "Another staff member has just decided on this profile (now: Rejected by tg:900)" in (
        a.text
    )
    assert (await profile_now(app, other)).status == "rejected"
    assert [e.action for e in await decisions(app, other)] == ["reject"]


async def test_two_instances_on_one_database_end_with_one_decision(db_path):
    first = await create_app(make_settings(db_path))
    second = await create_app(make_settings(db_path))
    try:
        for round_ in range(3):
            pid = await worker(first, f"tg:{50 + round_}", id_number="110105194912310029")
            await all_checks(first, pid)
            a = await staff(first, ADMIN)
            b = await staff(second, OTHER_ADMIN)
            assert f"Profile #{pid}" in a.text and f"Profile #{pid}" in b.text
            await b.tap("Reject")
            approve = a.button("Approve").data
            answers = await asyncio.gather(
                first.dispatcher.handle(Event(ADMIN, data=approve, update_id=f"race-a{round_}")),
                second.dispatcher.handle(
                    Event(OTHER_ADMIN, text="不合格", update_id=f"race-b{round_}")
                ),
            )
            texts = ["\n".join(r.text for r in handled.replies) for handled in answers]
            won = [t for t in texts if "Done: profile" in t]
            lost = [t for t in texts if "Another staff member has just decided" in t]
            assert len(won) == 1 and len(lost) == 1, texts
            assert len(await decisions(first, pid)) == 1
            status = (await profile_now(first, pid)).status
            assert status == ("verified" if "Verified" in won[0] else "rejected")
    finally:
        await first.close()
        await second.close()


async def test_a_screen_opened_before_she_edited_is_stale(app):
    pid = await worker(app)
    me = await staff(app)
    await me.tap("Identity passed")

    async def edit(repos: Repos) -> None:
        profile = await repos.workers.get(pid)
        assert profile is not None
        await repos.workers.edit(profile, name="李秀莲")

    await with_repos(app, edit)
    await me.tap("No note")
    assert "Not recorded. She changed her profile since you opened it." in me.text
    assert "李秀莲" in me.text  # as it is now
    async with app.db.sessions() as session:
        assert not await session.scalar(select(func.count(VettingCheck.id)))
    await record(me, "Identity passed")  # on the fresh screen it works


async def test_a_check_another_staff_member_just_recorded_is_said_so(app):
    pid = await worker(app)
    a = await staff(app, ADMIN)
    b = await staff(app, OTHER_ADMIN)
    await record(a, "Identity passed")
    await b.tap("Identity failed")  # on a screen drawn before A's check
    assert "Another staff member has just recorded a check on this profile." in b.text
    results = [e.after["result"] for e in await audit(app, pid) if e.action == "check:identity"]
    assert results == ["passed"]


# --- refusals ----------------------------------------------------------------------------
async def test_forged_vetting_buttons_from_a_job_seeker_change_nothing(app):
    pid = await worker(app)
    await all_checks(app, pid)
    me = await staff(app)
    approve = me.button("Approve").data
    seeker = await person(app, "tg:66", "en")
    nonce = seeker.button("Language").data.split("|")[0]
    for data in (approve, f"{nonce}|decide:approve", f"{nonce}|check:identity.p", "x|decide"):
        await seeker.press(data)
        assert "I don't recognise that button" in seeker.text or "earlier message" in seeker.text
        assert "Profile #" not in seeker.text
    assert (await profile_now(app, pid)).status == "submitted"
    assert not await decisions(app, pid)
    user = await load_user(app, "tg:66")
    assert user is not None and user.refused_presses >= 4 and user.state != VETTING
    # the staff member's own button still works afterwards
    await me.press(approve)
    assert (await profile_now(app, pid)).status == "verified"


async def test_every_staff_handler_asks_is_staff(app, caplog):
    """Reaching a vetting handler without staff rights (whatever the path) is refused
    with a translated answer, logged without personal data, and nothing changes."""
    caplog.set_level(logging.INFO, logger="handlers.vetting")
    pid = await worker(app)
    await all_checks(app, pid)
    me = await staff(app)
    assert "Profile #" in me.text
    async with app.db.sessions() as session, session.begin():
        repos = Repos(session, app.dispatcher.files)
        user = await repos.users.get(ADMIN)
        assert user is not None
        ctx = Ctx(Event(ADMIN), user, translator("zh"), repos, FLOWS, is_admin=False)
        assert not is_staff(ctx)
        for action in ("decide", "check", "next", "history", "lookup", "photo"):
            replies = await FLOWS.states[VETTING].buttons[action](ctx, "approve")
            assert replies[0].text == translator("zh")("That part is for programme staff only.")
            user.state = VETTING
        replies = await FLOWS.states[VETTING].prompt(ctx)  # type: ignore[misc]
        assert "Profile #" not in "\n".join(r.text for r in replies)
    refusals = [r.getMessage() for r in caplog.records if "refused a staff" in r.getMessage()]
    assert len(refusals) == 7
    assert not any(ADMIN in m or "李秀英" in m for m in refusals)
    assert (await profile_now(app, pid)).status == "submitted"


async def test_staff_whose_right_was_removed_is_refused_on_the_next_tap(app, db_path):
    pid = await worker(app)
    await all_checks(app, pid)
    me = await staff(app)
    approve = me.button("Approve").data
    later = await create_app(make_settings(db_path, admin_ids=frozenset({OTHER_ADMIN})))
    try:
        handled = await later.dispatcher.handle(Event(ADMIN, data=approve, update_id="gone"))
        text = "\n".join(r.text for r in handled.replies)
        assert "That part is for programme staff only." in text
        assert "Profile #" not in text
    finally:
        await later.close()
    assert (await profile_now(app, pid)).status == "submitted"
    assert not await decisions(app, pid)


async def test_bad_input_on_vetting_screens_keeps_the_screen(app):
    pid = await worker(app)
    me = await staff(app)
    await me.say("approve everyone")
    assert "Please tap one of the buttons" in me.text and f"Profile #{pid}" in me.text
    await me.tap("Ask for changes")
    await me.say("   ")
    assert "What should she change?" in me.text
    await me.tap("Back")
    assert f"Profile #{pid}" in me.text
    await me.tap("Identity passed")
    await me.say("n" * 201)
    assert "under 200 characters" in me.text
    await me.tap("Back")
    await me.tap("Look up a worker")
    await me.say("999999")
    assert "I can't find a worker" in me.text
    await me.say("7K2M-9QPD-XW3A")
    assert "I can't find a worker" in me.text
    await me.say(str(pid))
    assert f"Profile #{pid}" in me.text
    for reply in me.replies:
        assert len(reply.text) <= 4096
    user = await load_user(app, ADMIN)
    assert user is not None and user.state == VETTING


async def test_an_empty_queue_says_so_and_offers_a_look_up(app):
    me = await staff(app)
    assert "No profile waits for vetting." in me.text
    assert me.labels == ["🔎 Look up a worker", "◀ Main menu"]


def test_dates_as_staff_type_them():
    today = dt.date(2026, 3, 10)
    assert typed_date("2025-12-01", today) == dt.date(2025, 12, 1)
    assert typed_date("2025/1/2", today) == dt.date(2025, 1, 2)
    assert typed_date("２０２５年１月２日", today) == dt.date(2025, 1, 2)
    assert typed_date("20250102", today) == dt.date(2025, 1, 2)
    assert typed_date("3月1日", today) == dt.date(2026, 3, 1)
    assert typed_date("12-1", today) == dt.date(2025, 12, 1)  # the last such day
    assert typed_date("今天", today) == today
    assert typed_date("yesterday", today) == dt.date(2026, 3, 9)
    for bad in ("2025-02-30", "hello", "13/45", ""):
        assert typed_date(bad, today) is None


async def test_opening_a_profile_and_its_history_changes_nothing(app):
    pid = await worker(app)
    before = (await profile_now(app, pid)).version
    me = await staff(app)
    await me.tap("History")
    await me.tap("Back to the profile")
    after = await profile_now(app, pid)
    assert after.version == before and after.reviewed == {}
