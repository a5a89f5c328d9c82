"""Staff keep courses and job fairs in chat (issue 12), played as staff would: a new
course step by step (buttons for choices, typed text, wrong answers refused without
losing the others, a summary that changes any answer), then rescheduled, given a room,
more seats and cancelled, each telling everyone holding a place in her own language
(her outbox) and moving her reminder; two staff on one course at once; a base's staff
kept to her base's courses; a job seeker refused; job fairs created, moved and
cancelled by an admin. Flows in English, one in Chinese (zh) and one in Cantonese.

Taps in zh and yue go by the button's action (`press`) or its data, so they do not
depend on how a label is worded in the catalogs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from storage.models import AuditEntry, Course, FairRegistration, JobFair, Outbox, Signup
from tests.catalogue import course, load, set_course
from tests.chat import Chat
from tests.conftest import ADMIN, load_user
from tests.test_changes import sign_up
from tests.test_fairs import fair
from tests.test_staff_roles import invite_for, person

TODAY = dt.date.today()


def act(me: Chat, action: str, arg: object = None) -> str:
    """The data of the last screen's button that runs `action` (with `arg`)."""
    found = [
        b.data
        for r in me.replies
        for b in r.flat_buttons()
        if b.data.split("|", 1)[1].split(":")[0] == action
        and (arg is None or b.data.endswith(f":{arg}"))
    ]
    assert len(found) == 1, (action, arg, me.labels)
    return found[0]


async def press(me: Chat, action: str, arg: object = None) -> None:
    await me.press(act(me, action, arg))


async def pick(me: Chat, part: str) -> None:
    """Tap the step's choice whose label holds `part`."""
    found = [
        b for r in me.replies for b in r.flat_buttons() if "|pick:" in b.data and part in b.label
    ]
    assert len(found) == 1, (part, me.labels)
    await me.press(found[0].data)


async def keep(me: Chat) -> None:
    """Tap "Keep: …" (a step's last choice, when it has an answer already)."""
    picks = [b for r in me.replies for b in r.flat_buttons() if "|pick:" in b.data]
    await me.press(picks[-1].data)


async def state_of(app, key: str) -> str:
    return (await load_user(app, key)).state


async def audit(app, action: str) -> list[AuditEntry]:
    async with app.db.sessions() as s:
        return list(await s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


async def notices(app, key: str) -> list[str]:
    """The texts in her outbox that are not reminders (no topic), oldest first."""
    async with app.db.sessions() as s:
        rows = await s.scalars(
            select(Outbox).where(Outbox.user_key == key, Outbox.topic.is_(None)).order_by(Outbox.id)
        )
        return [o.replies[0]["text"] for o in rows]


async def a_course(app, code: str) -> Course:
    async with app.db.sessions() as s:
        return await s.scalar(
            select(Course).options(joinedload(Course.base)).where(Course.code == code)
        )


def later(days: int) -> dt.date:
    return TODAY + dt.timedelta(days=days)


# --- a new course ----------------------------------------------------------------------------
async def test_an_admin_creates_a_course_step_by_step(app):
    await load(app, [course("old", "旧课程", "育婴员", base="xy")])
    admin = Chat(app.dispatcher, ADMIN, "en")
    await admin.say("/start")
    await admin.tap("Courses and job fairs")
    assert "旧课程" in " ".join(admin.labels) and "Job fairs" in " ".join(admin.labels)
    await admin.tap("New course")
    assert "New course (step 1 of 10)" in admin.text
    await admin.say("做饭和打扫")  # two kinds: which?
    assert "Please tap the kind of work" in admin.text
    stale = admin.button("Elder carer").data
    await admin.say("yuesao")  # typed, as people type it
    assert "Which training base" in admin.text
    await admin.press(stale)  # a button of the step before: not an answer here
    assert "earlier message" in admin.text and "Which training base" in admin.text
    await admin.press(stale.split("|")[0] + "|pick:99")  # forged: refused
    assert await state_of(app, ADMIN) == "CAT_C_BASE"
    await admin.tap("茂名好心家政培训学校")
    await admin.say("x" * 121)
    assert "keep it under 120 characters" in admin.text
    await admin.say("茂名月嫂培训班（12月）")
    await admin.tap("No English title")
    await admin.say("the day after tomorrow-ish")
    assert "Please type a date" in admin.text
    await admin.say("2150-01-05")
    assert "check the year" in admin.text
    await admin.say(TODAY.isoformat())  # today: no one could sign up
    assert "starts after today" in admin.text
    await admin.say(later(30).isoformat())
    await admin.say(later(20).isoformat())  # ends before it starts
    assert "cannot end before it starts" in admin.text
    await pick(admin, "14 days")
    await admin.tap("09:00-17:00")
    await admin.say("0")
    assert "number of seats, from 1" in admin.text
    await admin.say("30")
    await admin.tap("No room yet")
    await admin.say(later(31).isoformat())  # after the start
    assert "must close by the day the course starts" in admin.text
    await pick(admin, "The day before it starts")
    # the summary: every answer, each one can be changed
    assert "Please check, then save" in admin.text
    assert "茂名月嫂培训班（12月）" in admin.text and "Maternity nurse" in admin.text
    assert "Code: made when saved" in admin.text
    answers = (await load_user(app, ADMIN)).form["cat_run"]["answers"]
    assert answers["seats"] == 30 and answers["starts_on"] == later(30).isoformat()
    await admin.tap("✏ Seats")
    await admin.say("32")
    assert "Please check, then save" in admin.text and "Seats: 32" in admin.text
    await admin.tap("✏ Code")
    await admin.say("old")  # another course's
    assert "The code old is taken" in admin.text
    await admin.say("ys 2026")
    assert "letters, digits, - or _" in admin.text
    await admin.say("ys-2026-12")
    await admin.tap("Create the course")
    assert "the course is open for sign-up" in admin.text and "ys-2026-12" in admin.text
    assert "32 seats: 0 seated, 0 waiting" in admin.text
    made = await a_course(app, "ys-2026-12")
    assert (made.title, made.track, made.base.code, made.seats) == (
        "茂名月嫂培训班（12月）",
        "月嫂/母婴护理",
        "mm",
        32,
    )
    assert (made.starts_on, made.ends_on) == (later(30), later(43))
    assert made.signup_closes_on == later(29) and made.daily_hours == "09:00-17:00"
    (created,) = await audit(app, "course:create")
    assert created.actor == ADMIN and created.subject == f"course:{made.id}"
    assert created.after["code"] == "ys-2026-12" and created.before == {}
    # open for sign-up at once, as job seekers see it
    seeker = Chat(app.dispatcher, "tg:501", "en")
    await seeker.say(f"/start course_{made.id}")
    assert "茂名月嫂培训班（12月）" in seeker.text and "Sign up" in " ".join(seeker.labels)


async def test_stopping_a_new_course_keeps_nothing_and_a_code_is_made(app):
    admin = Chat(app.dispatcher, ADMIN, "en")
    await load(app, [])
    await admin.say("/start")
    await admin.tap("Courses and job fairs")
    assert "There are no courses yet" in admin.text
    await admin.tap("New course")
    await admin.tap("Elder carer")
    await admin.tap("◀ Back")  # the previous step keeps its answer
    assert "Keep: Elder carer" in " ".join(admin.labels)
    await admin.tap("Cancel")
    assert "Nothing was saved" in admin.text
    assert "cat_run" not in (await load_user(app, ADMIN)).form
    for step in ("New course", "Elder carer", "信宜乡村家政培训站"):
        await admin.tap(step)
    await admin.say("信宜养老护理员班")
    await admin.tap("No English title")
    monday = TODAY + dt.timedelta(days=7 - TODAY.weekday())
    await admin.press(admin.replies[0].buttons[0][0].data)  # the first Monday offered
    await pick(admin, "5 days")
    await admin.say("8:30-12:00")
    await admin.tap("20")
    await admin.say("二楼 201")
    await admin.tap("Until it starts")
    await admin.tap("Create the course")
    made = await a_course(app, f"elder-{monday:%Y%m%d}")
    assert made is not None and made.room == "二楼 201" and made.signup_closes_on is None
    assert made.base.code == "xy" and made.ends_on == monday + dt.timedelta(days=4)


async def test_a_base_s_staff_creates_courses_of_her_own_base_only_in_chinese(app):
    await load(
        app,
        [
            course("mine", "茂名月嫂班", "月嫂/母婴护理"),
            course("xy1", "信宜育婴班", "育婴员", base="xy"),
        ],
    )
    code = await invite_for(app, "茂名好心家政培训学校")
    me = await person(app)
    await me.say(f"/staff {code}")
    await me.say("/language")
    await me.tap("简体中文")
    await me.say("/menu")
    await me.tap("课程和招聘会")  # the staff menu's entry, in her language
    labels = " ".join(me.labels)
    assert "茂名月嫂班" in labels and "信宜育婴班" not in labels
    assert "cat_fairs" not in " ".join(b.data for r in me.replies for b in r.flat_buttons())
    await press(me, "new_course")
    await pick(me, "月嫂")  # the kind of work, shown in her language
    assert await state_of(app, "tg:301") == "CAT_C_TITLE"  # her base: not asked
    await me.say("茂名月嫂提升班")
    await press(me, "pick", 0)  # no English title (the step's only choice)
    start = later(40)
    await me.say(f"{start.month}月{start.day}日")  # typed as she writes dates
    await me.say(f"{start.year}年{start.month}月{start.day}日")  # the end: the same day
    await me.say("上午9点到12点")
    await me.say("二十")  # Chinese numerals
    await me.say("302 教室")
    await me.say("/help")  # a detour keeps every answer
    assert await state_of(app, "tg:301") == "CAT_C_CLOSES"
    await press(me, "pick", 1)  # until it starts
    await press(me, "save")
    assert "已保存：课程已开放报名" in me.text and "上午9点到12点" in me.text
    made = await a_course(app, f"maternity-{start:%Y%m%d}")
    assert made.base.code == "mm" and made.seats == 20 and made.room == "302 教室"
    assert made.daily_hours == "上午9点到12点" and made.ends_on == start
    (created,) = await audit(app, "course:create")
    assert created.actor == "tg:301"


# --- changing a course: everyone holding a place is told -----------------------------------
async def test_reschedule_room_and_cancel_tell_everyone_holding_a_place(app):
    ids = await load(app, [course("a", "月嫂班", "月嫂/母婴护理", seats=2, starts=10)])
    for key, hint in (("tg:801", "zh-hans"), ("tg:802", "zh-hk"), ("tg:803", "en")):
        await sign_up(app, key, hint, ids["a"])  # two seats, one waiting
    admin = Chat(app.dispatcher, ADMIN, "en")
    await admin.say("/start")
    await admin.tap("Courses and job fairs")
    await admin.tap("月嫂班")
    assert "2 seats: 2 seated, 1 waiting" in admin.text
    await admin.tap("Reschedule")
    assert "Keep:" in " ".join(admin.labels)
    await admin.say(later(17).isoformat())
    await pick(admin, "as long as before")
    assert "Move “月嫂班”" in admin.text and "3 people holding a place will be told" in admin.text
    await admin.tap("Yes, reschedule")
    assert "Saved. 3 people holding a place were told." in admin.text
    moved = await a_course(app, "a")
    assert (moved.starts_on, moved.ends_on) == (later(17), later(27))
    (entry,) = await audit(app, "course:reschedule")
    assert entry.actor == ADMIN and entry.before["starts_on"] == later(10).isoformat()
    assert entry.after == {"starts_on": later(17).isoformat(), "ends_on": later(27).isoformat()}
    assert "有变动" in (await notices(app, "tg:801"))[-1]
    assert "有變動" in (await notices(app, "tg:802"))[-1]
    assert "Change to your course" in (await notices(app, "tg:803"))[-1]
    async with app.db.sessions() as s:
        reminder = await s.scalar(
            select(Outbox).where(Outbox.user_key == "tg:801", Outbox.topic == f"course:{ids['a']}")
        )
    assert reminder.due_at == dt.datetime.combine(later(16), dt.time(10))  # the day before

    await admin.tap("Change room")
    await admin.say("三楼 305 教室")
    assert "Saved. 3 people holding a place were told." in admin.text
    assert "305" in (await notices(app, "tg:803"))[-1]
    assert (await a_course(app, "a")).room == "三楼 305 教室"
    (entry,) = await audit(app, "course:room")
    assert (entry.before, entry.after) == ({"room": ""}, {"room": "三楼 305 教室"})

    await admin.tap("Cancel the course")
    assert "3 people holding a place" in admin.text and "cannot be undone" in admin.text
    await admin.tap("No, keep it")
    assert (await a_course(app, "a")).status == "open"
    await admin.tap("Cancel the course")
    await admin.tap("Yes, cancel the course")
    assert "The course is cancelled. 3 people holding a place were told." in admin.text
    await admin.tap("⛔ 月嫂班")  # listed last, marked; nothing more to change on it
    assert "This course has been cancelled" in admin.text
    assert "Reschedule" not in " ".join(admin.labels)
    assert "已取消" in (await notices(app, "tg:801"))[-1]
    assert "已經取消" in (await notices(app, "tg:802"))[-1]
    assert "has been cancelled" in (await notices(app, "tg:803"))[-1]
    async with app.db.sessions() as s:
        statuses = set(await s.scalars(select(Signup.status)))
        reminders = await s.scalar(
            select(func.count(Outbox.id)).where(Outbox.topic == f"course:{ids['a']}")
        )
    assert statuses == {"cancelled"} and reminders == 0
    assert (await a_course(app, "a")).seats_taken == 0
    assert [e.after for e in await audit(app, "course:cancel")] == [{"status": "cancelled"}]


async def test_seats_never_go_below_the_seated_and_more_seat_the_waiting(app):
    ids = await load(app, [course("two", "两个名额班", "月嫂/母婴护理", seats=2)])
    for n in range(3):
        await sign_up(app, f"tg:81{n}", "en", ids["two"])
    admin = Chat(app.dispatcher, ADMIN, "en")
    await admin.say("/start")
    await admin.tap("Courses and job fairs")
    await admin.tap("两个名额班")
    await admin.tap("Edit")
    await admin.tap("✏ Seats")
    await admin.say("1")  # a typed number is the answer here, not a button's
    assert "2 people already have a seat: keep at least 2 seats" in admin.text
    assert (await a_course(app, "two")).seats == 2
    await admin.say("3")
    assert "Saved. 1 person holding a place was told." in admin.text
    async with app.db.sessions() as s:
        statuses = list(await s.scalars(select(Signup.status).order_by(Signup.id)))
    assert statuses == ["confirmed"] * 3
    assert "a seat freed up" in (await notices(app, "tg:812"))[-1]
    await admin.tap("Edit")
    await admin.tap("✏ Title (Chinese)")
    await admin.tap("Keep")
    assert "Nothing changed" in admin.text
    await admin.tap("Edit")
    await admin.tap("✏ English title")
    await admin.say("Two-seat course")
    assert "Saved." in admin.text and "told" not in admin.text  # a title: no one is told
    (entry,) = [e for e in await audit(app, "course:edit") if "title_en" in e.after]
    assert entry.before == {"title_en": ""} and entry.after == {"title_en": "Two-seat course"}


async def test_two_staff_on_one_course_the_second_is_told_and_nothing_is_half_done(app):
    ids = await load(app, [course("a", "月嫂班", "月嫂/母婴护理")])
    await sign_up(app, "tg:820", "en", ids["a"])
    first, second = Chat(app.dispatcher, ADMIN, "en"), Chat(app.dispatcher, "tg:900", "en")
    for staff in (first, second):
        await staff.say("/start")
        await staff.tap("Courses and job fairs")
        await staff.tap("月嫂班")
    await second.tap("Reschedule")
    await second.say(later(20).isoformat())
    await pick(second, "as long as before")  # on the confirmation, about to say yes
    await first.tap("Change room")
    await first.say("101 教室")
    assert "Saved." in first.text
    await second.tap("Yes, reschedule")
    assert "Someone else changed this meanwhile, so nothing was saved" in second.text
    assert "Room: 101 教室" in second.text  # the course as it is now
    assert f"Not saved: Starts on: {later(20):%-d %b %Y}" in second.text  # what she gave
    after = await a_course(app, "a")
    assert after.starts_on == later(10) and after.room == "101 教室"
    assert len(await audit(app, "course:reschedule")) == 0
    (room,) = await notices(app, "tg:820")  # the room; the dates never changed
    assert "101 教室" in room and later(10).strftime("%-d %b") in room
    await second.tap("Reschedule")  # from the screen as it is now, it works
    await second.say(later(20).isoformat())
    await pick(second, "as long as before")
    await second.tap("Yes, reschedule")
    assert "Saved." in second.text and (await a_course(app, "a")).starts_on == later(20)
    # a seat taken meanwhile is no conflict
    await first.tap("◀ Courses")
    await first.tap("月嫂班")
    await first.tap("Edit")
    await sign_up(app, "tg:821", "en", ids["a"])
    await first.tap("✏ Daily hours")
    await first.tap("08:30-17:30")
    assert "Saved." in first.text and (await a_course(app, "a")).daily_hours == "08:30-17:30"


# --- who may -----------------------------------------------------------------------------------
async def test_a_base_s_staff_cannot_change_another_base_s_course(app):
    ids = await load(
        app,
        [
            course("mm1", "茂名月嫂班", "月嫂/母婴护理"),
            course("xy1", "信宜育婴班", "育婴员", base="xy"),
        ],
    )
    code = await invite_for(app, "茂名好心家政培训学校")
    me = await person(app)
    await me.say(f"/staff {code}")
    await me.tap("Courses and job fairs")
    nonce = me.button("茂名月嫂班").data.split("|")[0]
    await me.press(f"{nonce}|course:{ids['xy1']}")  # forged onto her screen's nonce
    assert "recognise" in me.text or "earlier message" in me.text
    await me.press(f"{nonce}|new_fair")
    assert "recognise" in me.text or "earlier message" in me.text
    # her screen was of her base's course; an admin moved it to another base meanwhile
    await me.tap("茂名月嫂班")
    await set_course(app, ids["mm1"], base_id=2)
    await me.tap("Cancel the course")
    assert "belongs to another training base" in me.text
    await me.say("/start")
    await me.tap("Courses and job fairs")
    assert "茂名月嫂班" not in " ".join(me.labels)
    # a screen of hers from before (a state and form of another base's course)
    async with app.db.sessions() as s, s.begin():
        from storage.models import User

        her = await s.scalar(select(User).where(User.key == "tg:301"))
        her.state, her.form = "CAT_C_CANCEL", {"cat_course": ids["xy1"]}
    await me.say("/help")
    assert "belongs to another training base" in me.text
    # the job fairs are admins' only
    async with app.db.sessions() as s, s.begin():
        her = await s.scalar(select(User).where(User.key == "tg:301"))
        her.state = "CAT_FAIRS"
    await me.say("/help")
    assert "for programme staff only" in me.text
    assert [c.status for c in [await a_course(app, "mm1"), await a_course(app, "xy1")]] == [
        "open",
        "open",
    ]
    async with app.db.sessions() as s:
        assert (
            await s.scalar(
                select(func.count(AuditEntry.id)).where(AuditEntry.action.like("course:%"))
            )
            == 0
        )


async def test_a_job_seeker_is_refused_by_forged_data_and_state(app):
    ids = await load(app, [course("a", "月嫂班", "月嫂/母婴护理")])
    me = await person(app, "tg:601")
    await me.press("aaaaa|go:catalogue")
    await me.press(f"aaaaa|course:{ids['a']}")
    assert "Courses and job fairs" not in me.text
    async with app.db.sessions() as s, s.begin():
        from storage.models import User

        her = await s.scalar(select(User).where(User.key == "tg:601"))
        her.state, her.form = "CAT_C_CANCEL", {"cat_course": ids["a"]}
    await me.say("/help")
    assert "for programme staff only" in me.text
    her = await load_user(app, "tg:601")
    assert her.state != "CAT_C_CANCEL" and her.refused_presses >= 2
    assert (await a_course(app, "a")).status == "open"


# --- job fairs ---------------------------------------------------------------------------------
async def register(app, key: str, hint: str, fair_id: int) -> None:
    """She registers for the fair from its link (the privacy notice first)."""
    me = Chat(app.dispatcher, key, hint)
    await me.say(f"/start fair_{fair_id}")
    await press(me, "register")
    await press(me, "agree")
    await me.say("李秀梅")
    await me.say("13800138000")
    await press(me, "confirm_fair")


async def test_an_admin_creates_moves_and_cancels_a_job_fair_in_cantonese(app):
    await load(
        app, [], [fair("old", "旧招聘会", 30, "茂南", [("好心", "月嫂", "深圳", 1, 2, True)])]
    )
    admin = Chat(app.dispatcher, "tg:900", "zh-hk")
    await admin.say("/start")
    await admin.tap("課程同招聘會")
    await press(admin, "cat_fairs")
    assert "旧招聘會" in " ".join(admin.labels) or "舊招聘會" in " ".join(admin.labels)
    await press(admin, "new_fair")
    await admin.say("好心家政专场招聘会")
    await press(admin, "pick", 0)  # no English title
    day = later(21)
    await admin.say(f"{day.month}月{day.day}日")
    await admin.say("下午2点")
    await admin.say("下午1点")  # ends before it starts
    assert await state_of(app, "tg:900") == "CAT_F_END"
    await admin.say("17:00")
    await admin.say("茂南人民广场")
    await admin.say("油城五路 1 号")
    await admin.say("電白")  # Traditional
    await pick(admin, "📝")  # registration needed
    assert await state_of(app, "tg:900") == "CAT_F_SUMMARY"
    assert "好心家政专场招聘会" in admin.text or "好心家政專場招聘會" in admin.text
    await press(admin, "save")
    assert "已經儲存：招聘會已經列出" in admin.text and "需要登記" in admin.text
    async with app.db.sessions() as s:
        made = await s.scalar(select(JobFair).where(JobFair.title == "好心家政专场招聘会"))
    assert made.starts_at == dt.datetime.combine(day, dt.time(14))
    assert made.ends_at == dt.datetime.combine(day, dt.time(17))
    assert (made.county, made.registration_required, made.code) == (
        "电白",
        True,
        f"fair-{day:%Y%m%d}",
    )
    assert [e.actor for e in await audit(app, "fair:create")] == ["tg:900"]

    await register(app, "tg:830", "zh-hans", made.id)
    await register(app, "tg:831", "en", made.id)
    await press(admin, "reschedule")
    await pick(admin, "(")  # a week later (the day's note)
    await keep(admin)  # 14:00
    await keep(admin)  # 17:00
    assert "會通知 2 位已登記嘅人" in admin.text
    await press(admin, "move_yes")
    async with app.db.sessions() as s:
        moved = await s.get(JobFair, made.id)
        assert moved.starts_at == dt.datetime.combine(day + dt.timedelta(days=7), dt.time(14))
        assert moved.ends_at == dt.datetime.combine(day + dt.timedelta(days=7), dt.time(17))
    assert "招聘会“好心家政专场招聘会”有变动" in (await notices(app, "tg:830"))[-1]
    assert "Change to the job fair" in (await notices(app, "tg:831"))[-1]
    async with app.db.sessions() as s:
        reminder = await s.scalar(
            select(Outbox).where(Outbox.user_key == "tg:831", Outbox.topic == f"fair:{made.id}")
        )
    assert reminder.due_at == dt.datetime.combine(day + dt.timedelta(days=6), dt.time(10))

    await press(admin, "venue")
    await admin.say("茂名市人才市场")
    await press(admin, "pick", 0)  # no address
    assert "茂名市人才市场" in (await notices(app, "tg:831"))[-1]

    await press(admin, "cancel_fair")
    await press(admin, "cancel_yes")
    async with app.db.sessions() as s:
        assert (await s.get(JobFair, made.id)).status == "cancelled"
        assert set(await s.scalars(select(FairRegistration.status))) == {"cancelled"}
    assert "已取消" in (await notices(app, "tg:830"))[-1]
    assert "has been cancelled" in (await notices(app, "tg:831"))[-1]
    actions = [e.action for e in await audit(app, "fair:reschedule")]
    actions += [e.action for e in await audit(app, "fair:venue")]
    actions += [e.action for e in await audit(app, "fair:cancel")]
    assert actions == ["fair:reschedule", "fair:venue", "fair:cancel"]


async def test_two_admins_on_one_fair_the_second_cancel_is_refused(app):
    await load(app, [], [fair("f", "招聘会", 12, "茂南", [("好心", "月嫂", "深圳", 1, 2, True)])])
    first, second = Chat(app.dispatcher, ADMIN, "en"), Chat(app.dispatcher, "tg:900", "en")
    for staff in (first, second):
        await staff.say("/start")
        await staff.tap("Courses and job fairs")
        await staff.tap("🤝 Job fairs")
        await staff.tap("招聘会")
    await second.tap("Cancel the job fair")
    assert "0 people registered will be told" in second.text
    await first.tap("Change venue")
    await first.say("茂名市人才市场")
    await keep(first)  # the address as it is
    assert "Saved." in first.text and "茂名市人才市场" in first.text
    await second.tap("Yes, cancel the job fair")
    assert "Someone else changed this meanwhile" in second.text and "茂名市人才市场" in second.text
    async with app.db.sessions() as s:
        (shown,) = await s.scalars(select(JobFair))
    assert shown.status == "open" and shown.venue == "茂名市人才市场"
    assert [e.after for e in await audit(app, "fair:venue")] == [{"venue": "茂名市人才市场"}]
    assert await audit(app, "fair:cancel") == []
