"""Broadcasts (issue 12): programme notices delivered as a durable job, over real HTTP.

- A notice to job seekers on Telegram (through aiogram, against the fake Bot API) and on
  WeChat (its customer-service API), each in her language: a person who blocked the bot
  is marked unreachable and never tried again, a 429 is waited out, a follower outside
  WeChat's 48-hour window is counted as not reachable (not failed), a household is left
  out, and the broadcast's counts equal its rows.
- The pace, counted at a fake Bot API that notes when each message arrived: a 429 stops
  every send until its `retry_after`; two broadcasters on one SQLite file stay within
  the rate together.
- A broadcaster process killed (SIGKILL) half-way, and another one: nothing that was
  delivered is sent again, the leased-out rest goes once the lease runs out.
- /notices off: skipped and counted, while her own messages still reach her; back on.
- Two staff confirming one draft: one queue. Cancelling half-way. A notice's button.
  Texts that cannot be sent. The preview's counts per platform and audience.
"""

from __future__ import annotations

import asyncio
import collections
import io
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bench.broadcast import FakeBotApi, raw_bot_api
from bot.app import App, create_app
from bot.broadcaster import Broadcaster
from bot.console import ConsoleSender
from bot.notifier import Notifier
from bot.telegram import Telegram
from handlers import notices
from handlers.replies import Reply
from storage.broadcasts import BroadcastInvalid, BroadcastRepo, audience_counts, audience_keys
from storage.db import Database
from storage.models import (
    Broadcast,
    BroadcastDelivery,
    FairRegistration,
    JobFair,
    Profile,
    Signup,
    User,
    WorkerProfile,
    WorkerTag,
)
from storage.repositories import Repos
from tests.catalogue import course, load
from tests.chat import Chat
from tests.conftest import ADMIN, load_user, make_settings
from tests.postgres import fresh_postgres
from tests.telegram_player import TelegramPlayer, running_bot
from tests.wechat_player import WeChatPlayer, running_wechat

ROOT = Path(__file__).resolve().parent.parent
RATE = 5.0  # messages a second, in the tests that count the pace


# --- helpers --------------------------------------------------------------------------------
async def people(
    db: Database, keys: list[str], role: str = "seeker", lang: str = "en", **values: Any
) -> None:
    async with db.sessions() as s, s.begin():
        for key in keys:
            user = Repos(s).users.new(key, lang)
            user.role = role
            for name, value in values.items():
                setattr(user, name, value)


async def queue_notice(
    db: Database,
    texts: dict[str, str] | None = None,
    audience: dict[str, Any] | None = None,
    **extra: Any,
) -> int:
    """A notice written and confirmed by staff; its id."""
    async with db.sessions() as s, s.begin():
        repo = BroadcastRepo(s)
        made = await repo.create(
            ADMIN, texts or {"all": "Open day on Friday"}, audience or {"who": "seekers"}, **extra
        )
        assert await repo.confirm(made.id, made.version)
        return made.id


async def broadcast_row(db: Database, broadcast_id: int) -> Broadcast:
    async with db.sessions() as s:
        row = await s.get(Broadcast, broadcast_id)
    assert row is not None
    return row


async def deliveries(db: Database, broadcast_id: int) -> dict[str, BroadcastDelivery]:
    async with db.sessions() as s:
        rows = await s.scalars(
            select(BroadcastDelivery).where(BroadcastDelivery.broadcast_id == broadcast_id)
        )
        return {d.user_key: d for d in rows}


async def until(check: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def done(db: Database, broadcast_id: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await broadcast_row(db, broadcast_id)).status == "done"

    return check


async def counts_equal_rows(db: Database, broadcast_id: int) -> collections.Counter[str]:
    """The broadcast's counts are its deliveries' rows, counted; returns them."""
    row = await broadcast_row(db, broadcast_id)
    statuses = collections.Counter(d.status for d in (await deliveries(db, broadcast_id)).values())
    assert row.total == sum(n for status, n in statuses.items() if status != "skipped")
    assert row.sent == statuses["sent"]
    assert row.failed == statuses["failed"]
    assert row.unreachable == statuses["unreachable"]
    assert row.not_reachable_wechat == statuses["outside_window"]
    assert row.skipped_opted_out == statuses["skipped"]
    return statuses


@asynccontextmanager
async def running(*broadcasters: Broadcaster) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(b.run_forever()) for b in broadcasters]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@asynccontextmanager
async def bot_api(**options: Any) -> AsyncIterator[FakeBotApi]:
    fake = FakeBotApi(**options)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@asynccontextmanager
async def telegram(app: App, fake: FakeBotApi, token: str = "1:A") -> AsyncIterator[Telegram]:
    """The Telegram transport's sender, calling the fake Bot API over HTTP."""
    call, close = raw_bot_api(fake.url, token)
    try:
        yield Telegram(app.dispatcher, app.db, call)
    finally:
        await close()


def busiest_second(times: list[float]) -> int:
    """The most messages that arrived within any one second."""
    times = sorted(times)
    return max((sum(1 for u in times if t <= u < t + 1.0) for t in times), default=0)


# --- a segment across Telegram and WeChat ---------------------------------------------------
async def test_a_notice_reaches_job_seekers_on_telegram_and_wechat(db_path):
    texts = {"zh": "新课程下周开课", "en": "A new course starts next week"}
    async with (
        running_bot(db_path, "aiogram") as (fake, app, _hook),
        running_wechat(db_path) as (url, _wx_app, api),
    ):
        me = TelegramPlayer(fake, 702, "zh-hans")  # one plays it, two more are there
        await me.say("/start")
        await me.tap("继续")
        await people(app.db, ["tg:701", "tg:703"])
        await people(app.db, ["tg:704"], role="household")
        for openid in ("oSEEK1", "oSEEK2"):
            follower = WeChatPlayer(url, openid)
            await follower.say("你好")
            await follower.tap("继续")
        assert (await load_user(app, "tg:704")).role == "household"

        before = len(fake.calls)
        fake.blocked_next("sendMessage")  # the first person it reaches blocked the bot
        fake.flood_next("sendMessage", retry_after=1)  # then Telegram asks to wait a second
        api.errcodes = [45015]  # the first follower wrote nothing for 48 hours
        broadcast_id = await queue_notice(app.db, texts, {"who": "seekers"})
        await until(done(app.db, broadcast_id))

        row = await broadcast_row(app.db, broadcast_id)
        assert (row.total, row.sent, row.failed) == (5, 3, 0)
        assert (row.unreachable, row.not_reachable_wechat, row.skipped_opted_out) == (1, 1, 0)
        assert (await counts_equal_rows(app.db, broadcast_id))["sent"] == 3

        refused = [int(p["chat_id"]) for m, p in fake.calls[before:] if m == "!sendMessage"]
        blocked, waited = refused  # 403 once, 429 once: no more refusals
        got = collections.Counter(
            int(p["chat_id"])
            for m, p in fake.calls[before:]
            if m == "sendMessage" and p["text"].startswith(tuple(texts.values()))
        )
        assert got == {chat: 1 for chat in (701, 702, 703) if chat != blocked}
        assert waited in got  # sent after the wait, once
        assert not (await load_user(app, f"tg:{blocked}")).reachable
        rows = await deliveries(app.db, broadcast_id)
        assert rows[f"tg:{blocked}"].status == "unreachable"
        assert rows[f"tg:{blocked}"].attempts == 1  # never tried again
        assert "tg:704" not in rows  # a household is no job seeker
        texts_sent = {
            int(p["chat_id"]): p["text"] for m, p in fake.calls[before:] if m == "sendMessage"
        }
        for chat in got:  # each in her own language, with how to stop them
            expected = texts["zh"] if chat == 702 else texts["en"]
            assert texts_sent[chat].startswith(expected) and "/notices" in texts_sent[chat]

        wx = {k: d.status for k, d in rows.items() if k.startswith("wx:")}
        assert sorted(wx.values()) == ["outside_window", "sent"]
        [reached] = [k for k, s in wx.items() if s == "sent"]
        assert [m["touser"] for m in api.sent] == [reached.removeprefix("wx:")]
        assert api.sent[0]["text"]["content"].startswith(texts["zh"])
        outside = next(k for k, s in wx.items() if s == "outside_window")
        assert (await load_user(app, outside)).reachable  # her next message reopens it


# --- the pace -------------------------------------------------------------------------------
async def test_a_429_stops_every_send_until_its_retry_after(app):
    keys = [f"tg:{n}" for n in range(1, 7)]
    await people(app.db, keys)
    async with bot_api(limit=1000) as fake, telegram(app, fake) as sender:
        fake.flood_next(1, retry_after=1)
        fake.blocked = {4}
        broadcast_id = await queue_notice(app.db)
        async with running(Broadcaster(app.db, sender, rate=10, every=0.05)):
            await until(done(app.db, broadcast_id))
    [(flooded_at, _chat, _status)] = [r for r in fake.refused if r[2] == 429]
    after = [t for t, _chat, _text in fake.sent if t > flooded_at]
    assert after and min(after) - flooded_at >= 0.95  # nothing went out during the wait
    assert fake.per_chat_counts() == {n: 1 for n in (1, 2, 3, 5, 6)}
    assert [chat for _t, chat, status in fake.refused if status == 403] == [4]  # once
    statuses = await counts_equal_rows(app.db, broadcast_id)
    assert statuses == {"sent": 5, "unreachable": 1}
    assert not (await load_user(app, "tg:4")).reachable


async def test_two_broadcasters_on_one_file_stay_within_the_rate_together(db_path):
    first = await create_app(make_settings(db_path))
    second = await create_app(make_settings(db_path))
    try:
        keys = [f"tg:{n}" for n in range(1, 16)]
        await people(first.db, keys)
        async with (
            bot_api(limit=1000) as fake,
            telegram(first, fake, "1:FIRST") as one,
            telegram(second, fake, "2:SECOND") as two,
        ):
            broadcast_id = await queue_notice(first.db)
            a = Broadcaster(first.db, one, rate=RATE, every=0.05)
            b = Broadcaster(second.db, two, rate=RATE, every=0.05)
            await a.step()  # writes the deliveries
            await a.step()  # each takes a first share at once, then they run side by side
            await b.step()
            async with running(a, b):
                await until(done(first.db, broadcast_id))
        assert fake.per_chat_counts() == {n: 1 for n in range(1, 16)}  # each once
        assert fake.tokens["1:FIRST"] and fake.tokens["2:SECOND"]  # both sent a share
        # at most RATE in any second, counted where they arrive (one more for the
        # scheduling of two processes' timers at a second's edges)
        assert busiest_second([t for t, _c, _x in fake.sent]) <= RATE + 1
        assert fake.floods == 0
        assert (await counts_equal_rows(first.db, broadcast_id))["sent"] == 15
    finally:
        await first.close()
        await second.close()


async def test_two_instances_on_postgresql_send_each_notice_once_within_the_rate(tmp_path):
    """Several instances serve one PostgreSQL database (README): two broadcasters,
    each with its own bot token, share one send gate and one queue of deliveries."""
    async with fresh_postgres("haoxin_broadcast") as url:
        first = await create_app(make_settings(None, database_url=url))
        second = await create_app(make_settings(None, database_url=url))
        try:
            keys = [f"tg:{n}" for n in range(1, 13)]
            await people(first.db, keys)
            await people(first.db, ["tg:50"], reachable=False)
            await people(first.db, ["tg:51"], notices_off=True)
            async with (
                bot_api(limit=1000) as fake,
                telegram(first, fake, "1:FIRST") as one,
                telegram(second, fake, "2:SECOND") as two,
            ):
                broadcast_id = await queue_notice(first.db)
                a = Broadcaster(first.db, one, rate=RATE, every=0.05)
                b = Broadcaster(second.db, two, rate=RATE, every=0.05)
                await a.step()
                await a.step()
                await b.step()
                async with running(a, b):
                    await until(done(first.db, broadcast_id))
            assert fake.per_chat_counts() == {n: 1 for n in range(1, 13)}
            assert fake.floods == 0
            assert busiest_second([t for t, _c, _x in fake.sent]) <= RATE + 1
            statuses = await counts_equal_rows(first.db, broadcast_id)
            assert statuses == {"sent": 12, "unreachable": 1, "skipped": 1}
        finally:
            await first.close()
            await second.close()


# --- a crash and a restart ------------------------------------------------------------------
async def test_a_killed_broadcaster_is_resumed_without_sending_twice(app, db_path):
    keys = [f"tg:{n}" for n in range(1, 31)]
    await people(app.db, keys)
    async with bot_api(limit=1000) as fake:
        broadcast_id = await queue_notice(app.db)
        command = [sys.executable, str(ROOT / "bench" / "broadcast.py"), "--worker"]
        command += ["--db", str(db_path), "--api", fake.url, "--rate", "10", "--lease", "1"]
        worker = await asyncio.create_subprocess_exec(*command, "--framework", "raw", cwd=ROOT)
        try:

            async def some_sent() -> bool:
                return len(fake.sent) >= 8

            await until(some_sent)
        finally:
            os.kill(worker.pid, signal.SIGKILL)  # no chance to give anything back
            await worker.wait()
        await asyncio.sleep(0.3)  # what was on its way when it died arrives
        rows = await deliveries(app.db, broadcast_id)
        delivered = {k for k, d in rows.items() if d.status == "sent"}
        held = {k for k, d in rows.items() if d.status == "sending"}
        in_flight = len(fake.per_chat_counts()) - len(delivered)
        assert delivered and held  # it died with messages sent and messages claimed

        async with telegram(app, fake) as sender:
            async with running(Broadcaster(app.db, sender, rate=10, lease=1, every=0.05)):
                await until(done(app.db, broadcast_id))
    counts = fake.per_chat_counts()
    assert set(counts) == set(range(1, 31))  # everyone got it
    assert all(counts[int(k.removeprefix("tg:"))] == 1 for k in delivered)  # none again
    assert sum(1 for n in counts.values() if n > 1) <= in_flight
    assert (await counts_equal_rows(app.db, broadcast_id))["sent"] == 30


# --- turning notices off --------------------------------------------------------------------
async def test_notices_off_skips_her_and_her_own_messages_still_reach_her(app):
    mei = Chat(app.dispatcher, "console:mei", "en")
    await mei.onboard()
    await mei.say("/notices")
    assert "Programme notices are on" in mei.text and "either way" in mei.text
    await mei.tap("Turn notices off")
    assert "no more programme notices" in mei.text
    assert "Main menu: training and work" in mei.text  # back where she was
    assert (await load_user(app, "console:mei")).notices_off
    ann = Chat(app.dispatcher, "console:ann", "en")
    await ann.onboard()

    out = io.StringIO()
    sender = ConsoleSender(out, app.dispatcher.files)
    first = await queue_notice(app.db, {"all": "Job fair on Saturday"}, {"who": "everyone"})
    async with running(Broadcaster(app.db, sender, rate=50, every=0.05)):
        await until(done(app.db, first))
    assert out.getvalue().count("Job fair on Saturday") == 1  # Ann's
    rows = await deliveries(app.db, first)
    assert (rows["console:mei"].status, rows["console:ann"].status) == ("skipped", "sent")
    row = await broadcast_row(app.db, first)
    assert (row.total, row.sent, row.skipped_opted_out) == (1, 1, 1)
    await counts_equal_rows(app.db, first)

    async with app.db.sessions() as s, s.begin():  # a message about her own sign-up
        Repos(s).outbox.add("console:mei", [Reply("Your course starts tomorrow").to_dict()])
    mine = io.StringIO()
    await Notifier(app.db, ConsoleSender(mine), user="console:mei").run_once()
    assert "Your course starts tomorrow" in mine.getvalue()

    await mei.say("/notices")
    assert "Programme notices are off" in mei.text
    await mei.tap("Turn notices on")
    assert "will reach you again" in mei.text
    second = await queue_notice(app.db, {"all": "Second fair"}, {"who": "everyone"})
    async with running(Broadcaster(app.db, sender, rate=50, every=0.05)):
        await until(done(app.db, second))
    assert out.getvalue().count("Second fair") == 2
    await mei.press("zzzzz|notices_set:maybe")  # forged: refused, nothing changes
    assert not (await load_user(app, "console:mei")).notices_off


async def test_a_notices_button_opens_its_course_from_the_message(app):
    ids = await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
    mei = Chat(app.dispatcher, "tg:41", "en")
    await mei.onboard()
    await people(app.db, ["wx:oBUTTON"], lang="zh", consented_at=None)
    broadcast_id = await queue_notice(
        app.db, {"all": "Sign up now"}, button={"kind": "course", "id": ids["ys1"]}
    )
    broadcast = await broadcast_row(app.db, broadcast_id)
    on_telegram = notices.notice_replies(await load_user(app, "tg:41"), broadcast)
    [[button]] = on_telegram[0].buttons
    assert "Open the course" in button.label
    await mei.say("/menu")  # she has moved on since the notice came
    await mei.press(button.data)
    assert "好心月嫂初级班" in mei.text
    assert (await load_user(app, "tg:41")).state == "COURSE_CARD"
    tag = button.data.partition("|")[0]
    await mei.press(f"{tag}|notice_open:course_999")  # her tag, but no such course
    assert "can't find that course" in mei.text
    on_wechat = notices.notice_replies(await load_user(app, "wx:oBUTTON"), broadcast)
    assert not on_wechat[0].buttons  # a typed number would press her current screen's
    assert f"/start course_{ids['ys1']}" in on_wechat[0].text


# --- staff: confirming, cancelling, checking ------------------------------------------------
async def test_two_staff_confirming_one_draft_make_one_queue(db_path):
    first = await create_app(make_settings(db_path))
    second = await create_app(make_settings(db_path))
    try:
        keys = [f"console:p{n}" for n in range(12)]
        await people(first.db, keys)
        async with first.db.sessions() as s, s.begin():
            draft = await BroadcastRepo(s).create(ADMIN, {"all": "Once"}, {"who": "seekers"})
            draft_id, version = draft.id, draft.version

        async def confirm(db: Database) -> bool:
            async with db.sessions() as s, s.begin():
                return await BroadcastRepo(s).confirm(draft_id, version)

        results = await asyncio.gather(confirm(first.db), confirm(second.db))
        assert sorted(results) == [False, True]
        out = io.StringIO()
        async with running(
            Broadcaster(first.db, ConsoleSender(out), rate=50, every=0.05),
            Broadcaster(second.db, ConsoleSender(out), rate=50, every=0.05),
        ):
            await until(done(first.db, draft_id))
        assert out.getvalue().count("Once") == 12  # one queue: each person once
        async with first.db.sessions() as s:
            rows = await s.scalar(select(func.count()).select_from(BroadcastDelivery))
        assert rows == 12
        assert (await broadcast_row(first.db, draft_id)).total == 12
        async with first.db.sessions() as s, s.begin():  # a third try, later: refused
            assert not await BroadcastRepo(s).confirm(draft_id, version)
    finally:
        await first.close()
        await second.close()


async def test_staff_cancel_a_broadcast_half_way(app):
    keys = [f"tg:{n}" for n in range(1, 21)]
    await people(app.db, keys)
    async with bot_api(limit=1000) as fake, telegram(app, fake) as sender:
        broadcast_id = await queue_notice(app.db)
        async with running(Broadcaster(app.db, sender, rate=10, every=0.05)):

            async def some_sent() -> bool:
                return len(fake.sent) >= 3

            await until(some_sent)
            async with app.db.sessions() as s, s.begin():
                assert await BroadcastRepo(s).cancel(broadcast_id)
                claimed = await s.scalar(
                    select(func.count()).where(BroadcastDelivery.status.in_(("sending", "sent")))
                )

            async def settled() -> bool:
                rows = await deliveries(app.db, broadcast_id)
                return not any(d.status in ("pending", "sending") for d in rows.values())

            await until(settled)
            await asyncio.sleep(0.3)  # nothing more goes out
    assert len(fake.sent) <= claimed < 20
    progress = await _progress(app.db, broadcast_id)
    assert progress.status == "cancelled" and progress.left == 0
    assert progress.cancelled == 20 - progress.sent > 0
    statuses = await counts_equal_rows(app.db, broadcast_id)
    assert statuses["sent"] == len(fake.sent)
    async with app.db.sessions() as s, s.begin():
        assert not await BroadcastRepo(s).cancel(broadcast_id)  # once


async def _progress(db: Database, broadcast_id: int) -> Any:
    async with db.sessions() as s:
        return await BroadcastRepo(s).progress(broadcast_id)


async def test_a_notice_without_text_or_too_long_is_refused(app):
    async with app.db.sessions() as s, s.begin():
        repo = BroadcastRepo(s)
        for texts, reason in (
            ({}, "empty_text"),
            ({"zh": "  "}, "empty_text"),
            ({"all": "好" * 5000}, "too_long"),
            ({"fr": "Bonjour"}, "language"),
        ):
            with pytest.raises(BroadcastInvalid) as refused:
                await repo.create(ADMIN, texts, {"who": "everyone"})
            assert refused.value.reason == reason
        with pytest.raises(BroadcastInvalid) as refused:
            await repo.create(ADMIN, {"all": "x"}, {"who": "course"})  # which course?
        assert refused.value.reason == "audience"
        with pytest.raises(BroadcastInvalid) as refused:
            await repo.create(ADMIN, {"all": "x"}, {"who": "everyone"}, button={"kind": "x"})
        assert refused.value.reason == "button"
        made = await repo.create(ADMIN, {"all": "好" * 4000}, {"who": "everyone"})
    async with app.db.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Broadcast)) == 1
    assert made.status == "draft"


# --- the audience and its preview -----------------------------------------------------------
async def test_the_audience_and_the_preview_per_platform(app):
    from tests.test_fairs import fair

    ids = await load(
        app,
        [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")],
        [fair("f1", "春季招聘会", 5, "茂南", [("好心家政", "月嫂", "茂名", 6000, 9000, True)])],
    )
    await people(app.db, ["tg:1", "tg:2", "wx:o3"], lang="zh")  # seekers
    await people(app.db, ["tg:4"], lang="yue", notices_off=True)
    await people(app.db, ["wx:o5"], lang="en", reachable=False)
    await people(app.db, ["tg:6", "wx:o7"], role="household", lang="yue")
    await people(app.db, ["demo:worker-1"])  # a demo worker: nobody's chat
    async with app.db.sessions() as s, s.begin():
        users = {u.key: u for u in await s.scalars(select(User))}
        fair_id = await s.scalar(select(JobFair.id))
        s.add(Profile(user_id=users["tg:1"].id, county="maonan"))
        s.add(Profile(user_id=users["wx:o3"].id, county="xinyi"))
        for key, status, kind in (
            ("tg:1", "verified", "maternity"),
            ("tg:2", "submitted", "nanny"),
        ):
            profile = WorkerProfile(user_id=users[key].id, status=status, kinds=[kind])
            s.add(profile)
            await s.flush()
            s.add(WorkerTag(profile_id=profile.id, tag=f"kind:{kind}"))
        s.add(
            Signup(
                course_id=ids["ys1"],
                user_id=users["tg:2"].id,
                status="confirmed",
                name="x",
                phone="1",
            )
        )
        s.add(
            Signup(
                course_id=ids["ys1"],
                user_id=users["wx:o3"].id,
                status="cancelled",
                name="x",
                phone="1",
            )
        )
        s.add(FairRegistration(fair_id=fair_id, user_id=users["wx:o3"].id, name="x", phone="1"))

    async def keys(**audience: Any) -> list[str]:
        async with app.db.sessions() as s:
            return await audience_keys(s, audience)

    async def preview(**audience: Any) -> dict[str, int]:
        async with app.db.sessions() as s:
            return await audience_counts(s, audience)

    assert await preview(who="everyone") == {"tg": 3, "wx": 2, "opted_out": 1, "unreachable": 1}
    assert await preview(who="seekers") == {"tg": 2, "wx": 1, "opted_out": 1, "unreachable": 1}
    assert await keys(who="households") == ["tg:6", "wx:o7"]
    assert await keys(who="workers") == ["tg:1", "tg:2"]
    assert await keys(who="workers", kinds=["maternity"]) == ["tg:1"]
    assert await keys(who="workers", vetting=["submitted"]) == ["tg:2"]
    assert await keys(who="course", course_id=ids["ys1"]) == ["tg:2"]  # a place, not cancelled
    assert await keys(who="fair", fair_id=fair_id) == ["wx:o3"]
    assert await keys(who="everyone", counties=["maonan", "xinyi"]) == ["tg:1", "wx:o3"]
    assert await keys(who="everyone", langs=["yue"]) == ["tg:4", "tg:6", "wx:o7"]
    assert await keys(who="households", langs=["yue"], counties=["maonan"]) == []
