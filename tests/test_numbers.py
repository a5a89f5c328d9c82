"""Programme numbers (issue 12), played on SQLite (and compared on PostgreSQL where a
server answers): counts per period in the programme's local days, checked against
counts worked out here from the rows themselves; a training base's own numbers; an
admin reads them by tapping, takes the chart (a PNG of the stated size whose Chinese
words are real glyphs) and the spreadsheet (openpyxl reads the right rows, and a
course titled `=HYPERLINK(…)` stays text); a base's staff, invited, sees her base's
course numbers; a job seeker, a forged button and a former admin are refused.

The screen is reached from the staff menus ("📊 Programme numbers"): these tests need
`handlers.numbers.router` in `handlers.FLOWS` and the menus' `numbers` entry opening
`NUMBERS` (`handlers.menus._live`)."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from PIL import Image, ImageChops, ImageDraw
from sqlalchemy import select

from bot.app import App, create_app
from handlers import FLOWS
from handlers.context import Ctx
from handlers.events import Event
from handlers.numbers import NUMBERS
from handlers.numbers_chart import HEIGHT, WIDTH, chart_font, weekly_chart
from locales import translator
from storage.db import Database, open_database
from storage.files import XLSX_TYPE, FileRejected, FileStore
from storage.importer import DataFile, import_data
from storage.models import (
    Course,
    FairRegistration,
    HelpRequest,
    Hire,
    Interview,
    JobFair,
    Signup,
    StoredFile,
    Training,
    TrainingBase,
    User,
    WorkerProfile,
    utcnow,
)
from storage.repositories import Repos
from storage.spreadsheets import safe_cell, sheet_title
from storage.statistics import Numbers, programme_numbers, weekly_series
from storage.vocab import GREATER_BAY_AREA, KINDS_OF_WORK
from tests.catalogue import BASES, course
from tests.chat import Chat
from tests.conftest import ADMIN, load_user, make_settings
from tests.postgres import fresh_postgres
from tests.test_changes import sign_up
from tests.test_fairs import fair
from tests.test_staff_roles import invite_for

TZ = ZoneInfo("Asia/Shanghai")
#: a Wednesday: the week began on Monday 7 December, the month on Tuesday the 1st
WEDNESDAY = dt.date(2026, 12, 9)
EVIL = '=HYPERLINK("http://evil.example","点我")'
COURSES = [
    course("ys1", "好心月嫂初级班", "月嫂/母婴护理", seats=2),
    course("yy1", "育婴员培训班", "育婴员"),
    course("bm1", "信宜家政服务员班", "家政服务员/保姆", base="xy"),
    course("evil", EVIL, "养老护理员", base="xy"),
]
FAIRS = [fair("f1", "茂名家政招聘会", 12, "茂南", [("好心", "月嫂", "深圳", 1, 2, True)])]


def utc(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A local time of the programme as naive UTC, as the database keeps it."""
    local = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def local_day(at: dt.datetime) -> dt.date:
    return at.replace(tzinfo=dt.UTC).astimezone(TZ).date()


def local_today() -> dt.date:
    return dt.datetime.now(TZ).date()


# --- the data: people signing up, training, registering, working ----------------------------
async def seed(db: Database, today: dt.date) -> dict[str, Any]:
    """Courses at two bases, a fair, and people around the period bounds of `today`:
    sign-ups (one waiting, one cancelled), attendance and completion, registrations,
    worker profiles, requests, interviews and hires, each at a time set here."""
    monday = today - dt.timedelta(days=today.weekday())
    first = today.replace(day=1)
    day = dt.timedelta(days=1)
    data = DataFile.model_validate(
        {"training_bases": BASES, "courses": COURSES, "job_fairs": FAIRS}
    )
    async with db.sessions() as s, s.begin():
        await import_data(s, data)
    async with db.sessions() as s, s.begin():
        repos = Repos(s)
        ids = dict((await s.execute(select(Course.code, Course.id))).all())
        bases = dict((await s.execute(select(TrainingBase.code, TrainingBase.id))).all())
        fair_id = await s.scalar(select(JobFair.id))
        people = [User(key=f"tg:{600 + n}", lang="zh", consented_at=utcnow()) for n in range(10)]
        s.add_all(people)
        await s.flush()
        signups = [
            (0, "ys1", utc(monday, 0, 30)),  # this week, 00:30 local (Sunday in UTC)
            (1, "ys1", utc(monday - day, 23, 30)),  # last Sunday night: not this week
            (2, "ys1", utc(today, 9)),  # full: waiting
            (3, "yy1", utc(first, 0, 10)),  # the 1st, just after midnight
            (4, "yy1", utc(first - day, 23, 50)),  # last month's last evening
            (5, "bm1", utc(today - 40 * day)),
            (6, "evil", utc(today - 3 * day)),
            (7, "evil", utc(today - 100 * day)),  # later cancelled
            (0, "bm1", utc(today - 8 * 7 * day)),
            (1, "evil", utc(today, 8)),
        ]
        for who, code, at in signups:
            row = await repos.signups.book(
                ids[code], people[who].id, name="李秀梅", phone="13800138000", county="茂南"
            )
            row.created_at = row.queued_at = at
        seven = await repos.signups.mine(ids["evil"], people[7].id)
        assert seven is not None
        await repos.signups.cancel(seven)
        marks = [
            (0, "ys1", True, None, utc(today, 11)),
            (3, "yy1", True, first, utc(first, 18)),
            (5, "bm1", None, today - 40 * day, utc(today - 39 * day)),
            (7, "evil", True, None, utc(today - 99 * day)),
            (4, "yy1", False, None, utc(monday)),  # marked absent: not counted
        ]
        for who, code, present, done, at in marks:
            row = await repos.workers.mark_training(
                people[who].id, ids[code], ADMIN, attended=present, completed_on=done
            )
            row.marked_at = at
        for who, at, status in [
            (0, utc(today), "registered"),
            (1, utc(first), "registered"),
            (2, utc(today - 50 * day), "registered"),
            (3, utc(today), "cancelled"),
        ]:
            row = await repos.fairs.register(fair_id, people[who].id, "李秀梅", "13800138000")
            row.created_at, row.status = at, status
        profiles = []
        for who, status, at in [
            (0, "draft", utc(today)),
            (1, "submitted", utc(monday)),
            (2, "verified", utc(first)),
            (3, "verified", utc(today - 60 * day)),
            (4, "suspended", utc(today - 61 * day)),
            (5, "changes", utc(today - 2 * day)),
        ]:
            profile = await repos.workers.start(people[who])
            profile.status, profile.created_at = status, at
            profiles.append(profile)
        requests = []
        for who, status, at in [
            (8, "draft", utc(today)),
            (8, "open", utc(today)),
            (9, "closed", utc(today - 20 * day)),
            (9, "paused", utc(first - day)),
        ]:
            request = HelpRequest(user_id=people[who].id, status=status, created_at=at)
            s.add(request)
            requests.append(request)
        await s.flush()
        for at in (utc(today), utc(monday, 0, 5), utc(first - 3 * day)):
            s.add(
                Interview(
                    request_id=requests[1].id,
                    profile_id=profiles[2].id,
                    household_id=people[8].id,
                    worker_id=people[2].id,
                    status="declined",
                    at=at,
                    expires_at=at,
                    created_at=at,
                )
            )
        for city, confirmed in [
            ("maoming", utc(today)),
            ("guangzhou", utc(monday)),
            ("shenzhen", utc(first)),
            ("hong_kong", utc(today - 45 * day)),
            ("nanning", utc(today - 3 * 7 * day)),
            ("", utc(today - 80 * day)),
            ("guangzhou", None),  # a trial, not confirmed: no placement
        ]:
            s.add(Hire(city=city, status="hired", starts_on=today, confirmed_at=confirmed))
    return {"courses": ids, "bases": bases}


# --- the numbers, worked out from the rows ----------------------------------------------------
def _periods(today: dt.date) -> dict[str, tuple[dt.date, dt.date]]:
    return {
        "week": (today - dt.timedelta(days=today.weekday()), today),
        "month": (today.replace(day=1), today),
        "all": (dt.date.min, today),
    }


async def expected(db: Database, today: dt.date, base_id: int | None = None) -> dict:
    """Every number of `programme_numbers`, counted here from all the rows in Python."""
    async with db.sessions() as s:
        courses = {c.id: c for c in await s.scalars(select(Course))}
        signups = list(await s.scalars(select(Signup)))
        trainings = list(await s.scalars(select(Training)))
        registrations = list(await s.scalars(select(FairRegistration)))
        profiles = list(await s.scalars(select(WorkerProfile)))
        requests = list(await s.scalars(select(HelpRequest)))
        interviews = list(await s.scalars(select(Interview)))
        hires = list(await s.scalars(select(Hire)))
    names = {"confirmed": "confirmed", "waitlisted": "waiting", "cancelled": "cancelled"}
    mine = {i for i, c in courses.items() if base_id is None or c.base_id == base_id}
    out: dict[str, Any] = {}
    for period, (start, end) in _periods(today).items():

        def within(day: dt.date, start: dt.date = start, end: dt.date = end) -> bool:
            return start <= day <= end

        per_course: dict[int, Counter] = {}
        for row in signups:
            if row.course_id in mine and within(local_day(row.created_at)):
                per_course.setdefault(row.course_id, Counter())[names[row.status]] += 1
        for row in trainings:
            if row.course_id not in mine:
                continue
            if row.attended and within(local_day(row.marked_at)):
                per_course.setdefault(row.course_id, Counter())["attended"] += 1
            if row.completed_on is not None and within(row.completed_on):
                per_course.setdefault(row.course_id, Counter())["completed"] += 1
        tracks: dict[str, Counter] = {}
        for course_id, counts in per_course.items():
            term = KINDS_OF_WORK.of_name(courses[course_id].track)
            tracks.setdefault(term.id if term else courses[course_id].track, Counter()).update(
                counts
            )
        places: Counter = Counter()
        for hire in hires:
            if hire.confirmed_at is not None and within(local_day(hire.confirmed_at)):
                city = hire.city
                place = city if city == "maoming" or city in GREATER_BAY_AREA else "elsewhere"
                places[place] += 1
        out[period] = {
            "courses": {i: dict(c) for i, c in per_course.items()},
            "tracks": {k: dict(c) for k, c in tracks.items()},
            "total": dict(sum(per_course.values(), Counter())),
            "fairs": sum(
                r.status == "registered" and within(local_day(r.created_at)) for r in registrations
            ),
            "workers": dict(Counter(p.status for p in profiles if within(local_day(p.created_at)))),
            "requests": sum(
                r.status != "draft" and within(local_day(r.created_at)) for r in requests
            ),
            "interviews": sum(within(local_day(i.created_at)) for i in interviews),
            "hires": sum(places.values()),
            "placements": dict(places),
        }
    return out


def shape(numbers: Numbers) -> dict:
    """`programme_numbers`' answer in the shape of `expected` (zeros left out)."""

    def counts(c: Any) -> dict[str, int]:
        fields = ("confirmed", "waiting", "cancelled", "attended", "completed")
        return {f: getattr(c, f) for f in fields if getattr(c, f)}

    return {
        p.name: {
            "courses": {c.course_id: counts(c.counts) for c in p.courses},
            "tracks": {k: counts(c) for k, c in p.tracks.items()},
            "total": counts(p.total),
            "fairs": p.fair_registrations,
            "workers": {k: n for k, n in p.workers.items() if n},
            "requests": p.requests,
            "interviews": p.interviews,
            "hires": p.hires,
            "placements": {k: n for k, n in p.placements.items() if n},
        }
        for p in numbers.periods
    }


async def numbers_of(db: Database, today: dt.date, base_id: int | None = None) -> Numbers:
    async with db.sessions() as s:
        return await programme_numbers(s, today=today, base_id=base_id)


async def series_of(db: Database, today: dt.date, base_id: int | None = None) -> list:
    async with db.sessions() as s:
        return await weekly_series(s, today=today, base_id=base_id)


async def expected_series(db: Database, today: dt.date, base_id: int | None = None) -> list:
    async with db.sessions() as s:
        courses = {c.id: c.base_id for c in await s.scalars(select(Course))}
        signups = [
            local_day(r.created_at)
            for r in await s.scalars(select(Signup))
            if base_id is None or courses[r.course_id] == base_id
        ]
        placed = [
            local_day(h.confirmed_at)
            for h in await s.scalars(select(Hire))
            if h.confirmed_at is not None
        ]
    monday = today - dt.timedelta(days=today.weekday())
    weeks = [monday - dt.timedelta(weeks=11 - n) for n in range(12)]

    def count(days: list[dt.date], start: dt.date) -> int:
        return sum(start <= d < start + dt.timedelta(days=7) and d <= today for d in days)

    return [(w, count(signups, w), count(placed, w)) for w in weeks]


# --- the statistics --------------------------------------------------------------------------
async def test_numbers_count_each_period_in_the_programmes_local_days(app):
    await seed(app.db, WEDNESDAY)
    numbers = await numbers_of(app.db, WEDNESDAY)
    assert shape(numbers) == await expected(app.db, WEDNESDAY)
    # and by hand, around the bounds: Monday 00:30 local is this week, Sunday 23:30 not
    week, month, every = numbers.periods
    assert (week.first_day, month.first_day, every.first_day) == (
        dt.date(2026, 12, 7),
        dt.date(2026, 12, 1),
        None,
    )
    assert (week.total.signups, month.total.signups, every.total.signups) == (3, 6, 10)
    assert (every.total.waiting, every.total.cancelled) == (1, 1)
    assert week.tracks["maternity"].waiting == 1 and week.tracks["maternity"].confirmed == 1
    assert (week.total.attended, month.total.attended, every.total.attended) == (1, 2, 4)
    assert (week.total.completed, month.total.completed, every.total.completed) == (0, 1, 2)
    assert (week.fair_registrations, month.fair_registrations, every.fair_registrations) == (
        1,
        2,
        3,
    )
    assert every.workers["verified"] == 2 and week.workers["draft"] == 1
    assert (week.requests, month.requests, every.requests) == (1, 1, 3)
    assert (week.interviews, month.interviews, every.interviews) == (2, 2, 3)
    assert (week.hires, month.hires, every.hires) == (2, 3, 6)
    assert every.placements == {
        "maoming": 1,
        "guangzhou": 1,
        "shenzhen": 1,
        "foshan": 0,
        "dongguan": 0,
        "zhuhai": 0,
        "zhongshan": 0,
        "jiangmen": 0,
        "huizhou": 0,
        "zhaoqing": 0,
        "hong_kong": 1,
        "macau": 0,
        "elsewhere": 2,
    }
    order = list(every.placements)
    assert order[0] == "maoming" and order[-1] == "elsewhere"


async def test_a_training_base_sees_its_own_courses_numbers(app):
    ids = await seed(app.db, WEDNESDAY)
    xinyi = ids["bases"]["xy"]
    numbers = await numbers_of(app.db, WEDNESDAY, base_id=xinyi)
    assert shape(numbers) == await expected(app.db, WEDNESDAY, base_id=xinyi)
    every = numbers.all_time
    assert {c.code for c in every.courses} == {"bm1", "evil"}
    assert list(every.tracks) == ["housekeeping", "elder"]  # in the vocabulary's order
    assert every.total.signups == 5 and numbers.week.total.signups == 1
    # the rest is the programme's, whoever looks
    whole = await numbers_of(app.db, WEDNESDAY)
    assert every.placements == whole.all_time.placements
    assert every.fair_registrations == whole.all_time.fair_registrations


async def test_weekly_series_counts_twelve_weeks_of_sign_ups_and_placements(app):
    ids = await seed(app.db, WEDNESDAY)
    series = await series_of(app.db, WEDNESDAY)
    assert series == await expected_series(app.db, WEDNESDAY)
    assert len(series) == 12 and series[-1][0] == dt.date(2026, 12, 7)
    assert all(monday.weekday() == 0 for monday, _s, _p in series)
    assert series[-1][1:] == (3, 2)  # this week: 3 sign-ups, 2 placements
    xinyi = ids["bases"]["xy"]
    assert await series_of(app.db, WEDNESDAY, xinyi) == await expected_series(
        app.db, WEDNESDAY, xinyi
    )
    with pytest.raises(ValueError):
        async with app.db.sessions() as s:
            await weekly_series(s, today=WEDNESDAY, weeks=0)


async def test_the_same_numbers_on_postgresql(app):
    await seed(app.db, WEDNESDAY)
    on_sqlite = shape(await numbers_of(app.db, WEDNESDAY))
    async with fresh_postgres("haoxin_numbers") as url:
        postgres = await open_database(url)
        try:
            ids = await seed(postgres, WEDNESDAY)
            assert shape(await numbers_of(postgres, WEDNESDAY)) == await expected(
                postgres, WEDNESDAY
            )
            based = await numbers_of(postgres, WEDNESDAY, ids["bases"]["mm"])
            assert shape(based) == await expected(postgres, WEDNESDAY, ids["bases"]["mm"])
            assert await series_of(postgres, WEDNESDAY) == await expected_series(
                postgres, WEDNESDAY
            )
            on_postgres = shape(await numbers_of(postgres, WEDNESDAY))
        finally:
            await postgres.close()
    # the same rows (course ids aside) give the same numbers
    for period in on_sqlite:
        on_sqlite[period].pop("courses")
        on_postgres[period].pop("courses")
    assert on_postgres == on_sqlite


# --- the screen -------------------------------------------------------------------------------
async def staff(app: App, key: str = ADMIN, hint: str = "en") -> Chat:
    """A staff member at the numbers screen, from the staff menu."""
    me = Chat(app.dispatcher, key, hint)
    await me.say("/start")
    await me.say("/menu")
    await me.tap("📊")
    return me


def counts_line(counts: dict[str, int]) -> str:
    c = Counter(counts)
    return (
        f"{c['confirmed'] + c['waiting'] + c['cancelled']} — confirmed {c['confirmed']} · "
        f"waiting {c['waiting']} · cancelled {c['cancelled']} · attended {c['attended']} · "
        f"completed {c['completed']}"
    )


async def test_an_admin_reads_the_numbers_by_tapping(app):
    today = local_today()
    await seed(app.db, today)
    me = await staff(app)
    assert (await load_user(app, ADMIN)).state == NUMBERS
    assert len(me.replies) == 3 and all(len(r.text) <= 4096 for r in me.replies)
    want = await expected(app.db, today)
    week, month, every = (r.text for r in me.replies)
    assert week.startswith("📊 Programme numbers, as of")
    assert "🗓 This week" in week and "🗓 This month" in month and "🗓 All time" in every
    for text, period in ((week, "week"), (month, "month"), (every, "all")):
        numbers = want[period]
        assert f"📝 Course sign-ups: {counts_line(numbers['total'])}" in text
        assert f"🤝 Job fair registrations: {numbers['fairs']}" in text
        assert f"🏠 Household requests: {numbers['requests']}" in text
        assert f"💬 Interviews asked: {numbers['interviews']}" in text
        assert f"✅ Hires confirmed: {numbers['hires']}" in text
        started = sum(numbers["workers"].values())
        assert f"🪪 Worker profiles started: {started}" in text
        places = numbers["placements"]
        bay = sum(n for p, n in places.items() if p in GREATER_BAY_AREA)
        assert f"📍 Placements: Maoming {places.get('maoming', 0)} · Greater Bay Area {bay}" in text
        assert f"Elsewhere {places.get('elsewhere', 0)}" in text
    every_numbers = want["all"]
    maternity = counts_line(every_numbers["tracks"]["maternity"])
    assert f"· Maternity nurse (yuesao): {maternity}" in every
    assert "Verified 2" in every and "Guangzhou 1" in every and "Hong Kong 1" in every
    assert "好心月嫂初级班" in every and EVIL[:20] in every
    assert me.labels == ["🖼 Chart (12 weeks)", "📊 As a spreadsheet (XLSX)", "◀ Main menu"]

    # a sign-up made in chat now shows in this week's numbers
    await sign_up(app, "tg:801", "en", (await _course_id(app, "yy1")))
    await me.say("/menu")
    await me.tap("📊")
    grown = await expected(app.db, today)
    assert grown["week"]["total"]["confirmed"] == want["week"]["total"].get("confirmed", 0) + 1
    assert f"📝 Course sign-ups: {counts_line(grown['week']['total'])}" in me.replies[0].text
    await me.tap("Main menu")
    assert "Programme staff menu." in me.text


async def _course_id(app: App, code: str) -> int:
    async with app.db.sessions() as s:
        found = await s.scalar(select(Course.id).where(Course.code == code))
        assert found is not None
        return found


async def test_many_courses_still_fit_in_a_message_each(app):
    many = [
        course(
            f"c{n:02}", f"好心家政第{n}期月嫂与育婴综合技能提升培训班（周末班）", "月嫂/母婴护理"
        )
        for n in range(40)
    ]
    data = DataFile.model_validate({"training_bases": BASES, "courses": many})
    async with app.db.sessions() as s, s.begin():
        await import_data(s, data)
        people = [User(key=f"tg:{700 + n}", lang="zh") for n in range(40)]
        s.add_all(people)
        await s.flush()
        repos = Repos(s)
        ids = list((await s.scalars(select(Course.id))).all())
        for person, course_id in zip(people, ids, strict=True):
            await repos.signups.book(course_id, person.id, name="李", phone="13800138000")
    me = await staff(app)
    assert all(len(r.text) <= 4096 for r in me.replies)
    assert "… and 30 more courses (every course is in the spreadsheet)." in me.replies[2].text


# --- the chart --------------------------------------------------------------------------------
async def test_the_chart_is_a_png_of_the_stated_size(app):
    today = local_today()
    await seed(app.db, today)
    me = await staff(app)
    await me.tap("Chart")
    [reply] = me.replies
    assert reply.photo and reply.photo.endswith(".png")
    assert "the last 12 weeks" in reply.text
    assert me.labels == ["🖼 Chart (12 weeks)", "📊 As a spreadsheet (XLSX)", "◀ Main menu"]
    series = await expected_series(app.db, today)
    signups, placed = sum(s for _w, s, _p in series), sum(p for _w, _s, p in series)
    assert f"{signups} sign-ups, {placed} placements" in reply.text
    with Image.open(io.BytesIO(app.dispatcher.files.read(reply.photo))) as image:
        assert image.format == "PNG" and image.size == (WIDTH, HEIGHT) == (1200, 700)
        image.verify()
    # drawn again, it replaces her earlier chart
    first = reply.photo
    await me.tap("Chart")
    async with app.db.sessions() as s:
        charts = list(
            await s.scalars(select(StoredFile).where(StoredFile.purpose == "numbers-chart"))
        )
    assert [c.name for c in charts] == [me.replies[0].photo]
    assert not app.dispatcher.files.path(first).exists() or first == me.replies[0].photo


LABELS = {
    "zh": {
        "title": "课程报名和就业安置",
        "subtitle": "最近12周",
        "signups": "课程报名",
        "placements": "就业安置",
        "week": "每周开始日",
    },
    "yue": {
        "title": "課程報名同就業安置",
        "subtitle": "最近12個禮拜",
        "signups": "課程報名",
        "placements": "就業安置",
        "week": "每個禮拜開始",
    },
}


@pytest.mark.parametrize("lang", ["zh", "yue"])
def test_chinese_labels_are_drawn_with_real_glyphs_not_empty_boxes(lang):
    """The chart's font draws a known label with glyphs: each character differs from
    one the font has not got (U+10FFFF: its .notdef box) and is not blank; and the
    chart's title drawn from real words differs from the same number of boxes."""
    typeface = chart_font(lang, 48)

    def drawn(text: str) -> Image.Image:
        image = Image.new("L", (64 * len(text), 72), 255)
        ImageDraw.Draw(image).text((4, 4), text, font=typeface, fill=0)
        return image

    missing = drawn("\U0010ffff")
    for ch in LABELS[lang]["signups"] + "报名報名":
        glyph = drawn(ch)
        assert ImageChops.invert(glyph).getbbox() is not None, f"{ch} is blank"
        assert ImageChops.difference(glyph, missing).getbbox() is not None, f"{ch} is a box"

    series = [(dt.date(2026, 9, 7) + dt.timedelta(weeks=n), n, n % 3) for n in range(12)]
    words = LABELS[lang]
    boxes = {k: "\U0010ffff" * len(v) for k, v in words.items()}
    title_area = (40, 20, 600, 80)
    real = Image.open(io.BytesIO(weekly_chart(series, words, lang))).convert("L")
    empty = Image.open(io.BytesIO(weekly_chart(series, boxes, lang))).convert("L")
    assert real.size == (1200, 700)
    assert ImageChops.invert(real.crop(title_area)).getbbox() is not None  # ink in the title
    assert ImageChops.difference(real.crop(title_area), empty.crop(title_area)).getbbox()


# --- the spreadsheet --------------------------------------------------------------------------
async def test_the_spreadsheet_holds_the_numbers_and_no_formula(app):
    today = local_today()
    await seed(app.db, today)
    want = await expected(app.db, today)
    me = await staff(app)
    await me.tap("spreadsheet")
    [reply] = me.replies
    assert reply.document and reply.document.endswith(".xlsx")
    assert reply.document_name == f"Haoxin-numbers-{today:%Y%m%d}.xlsx"
    assert FileStore.content_type(reply.document) == XLSX_TYPE
    book = openpyxl.load_workbook(io.BytesIO(app.dispatcher.files.read(reply.document)))
    assert book.sheetnames == ["Summary", "By kind of work", "By course", "Per week"]
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@")), cell.value

    summary = {row[0]: row[1:] for row in book["Summary"].iter_rows(values_only=True)}
    assert summary["Measure"] == ("This week", "This month", "All time")
    periods = ("week", "month", "all")
    assert summary["Course sign-ups"] == tuple(
        sum(want[p]["total"].get(k, 0) for k in ("confirmed", "waiting", "cancelled"))
        for p in periods
    )
    assert summary["Waiting list"] == tuple(want[p]["total"].get("waiting", 0) for p in periods)
    assert summary["Completed"] == tuple(want[p]["total"].get("completed", 0) for p in periods)
    assert summary["Job fair registrations"] == tuple(want[p]["fairs"] for p in periods)
    assert summary["Hires confirmed"] == tuple(want[p]["hires"] for p in periods)
    assert summary["Worker profiles started: Verified"] == tuple(
        want[p]["workers"].get("verified", 0) for p in periods
    )
    for place, label in (("maoming", "Maoming"), ("guangzhou", "Guangzhou"), ("macau", "Macau")):
        assert summary[f"Placements: {label}"] == tuple(
            want[p]["placements"].get(place, 0) for p in periods
        )
    assert summary["Placements: Elsewhere"] == tuple(
        want[p]["placements"].get("elsewhere", 0) for p in periods
    )

    courses = list(book["By course"].iter_rows(values_only=True))
    assert courses[0][:5] == ("Course code", "Course", "Kind of work", "Starts on", "Period")
    evil = [row for row in courses if row[0] == "evil" and row[4] == "All time"]
    assert len(evil) == 1 and evil[0][1] == "'" + EVIL
    rows_all = [row for row in courses[1:] if row[4] == "All time"]
    assert len(rows_all) == len(want["all"]["courses"])

    weekly = list(book["Per week"].iter_rows(values_only=True))
    series = await expected_series(app.db, today)
    assert [(r[0].date(), r[1], r[2]) for r in weekly[1:]] == series

    # taken again, it replaces her earlier copy
    await me.tap("spreadsheet")
    async with app.db.sessions() as s:
        kept = list(await s.scalars(select(StoredFile).where(StoredFile.purpose == "numbers")))
    assert [k.name for k in kept] == [me.replies[0].document]
    assert kept[0].content_type == XLSX_TYPE


def test_safe_cell_keeps_every_cell_text_or_a_number():
    for bad in ("=1+1", "+86 138", "-2+3", "@SUM(A1)", "\t=1", "\r=1", EVIL):
        assert safe_cell(bad) == "'" + bad
    assert safe_cell("好心月嫂") == "好心月嫂"
    assert safe_cell("a\x00b\x1fc") == "abc"
    assert safe_cell(-3) == -3 and safe_cell(2.5) == 2.5 and safe_cell(None) is None
    assert safe_cell(WEDNESDAY) == WEDNESDAY
    assert len(safe_cell("x" * 40_000)) == 32767
    assert sheet_title("By course: [all]/?") == "By course   all"
    assert sheet_title("Summary", {"summary"}) == "Summary (2)"


def test_the_store_keeps_workbooks_as_xlsx(tmp_path):
    import zipfile

    store = FileStore(tmp_path)
    from storage.spreadsheets import workbook

    name, _size = store.save_document(workbook([("S", [["a"], [1]])]))
    assert name.endswith(".xlsx") and store.content_type(name) == XLSX_TYPE
    assert store.path(name) == tmp_path / name
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("xl/other.xml", "x")
    with pytest.raises(FileRejected) as refused:
        store.save_document(out.getvalue())
    assert refused.value.reason == "not_document"


# --- a training base's staff ----------------------------------------------------------------
async def test_a_bases_staff_sees_her_own_bases_course_numbers(app):
    today = local_today()
    ids = await seed(app.db, today)
    code = await invite_for(app, "信宜乡村家政培训站")
    me = Chat(app.dispatcher, "tg:301", "en")
    await me.onboard()
    await me.say(f"/staff {code}")
    assert "Staff menu: 信宜乡村家政培训站" in me.text
    await me.tap("📊")
    assert (await load_user(app, "tg:301")).state == NUMBERS
    xinyi = ids["bases"]["xy"]
    want, whole = await expected(app.db, today, xinyi), await expected(app.db, today)
    assert "Course numbers are 信宜乡村家政培训站's only" in me.replies[0].text
    for reply, period in zip(me.replies, ("week", "month", "all"), strict=True):
        assert f"📝 Course sign-ups: {counts_line(want[period]['total'])}" in reply.text
        assert f"✅ Hires confirmed: {whole[period]['hires']}" in reply.text  # the programme's
    assert "好心月嫂初级班" not in me.text and "信宜家政服务员班" in me.text

    await me.tap("Chart")
    series = await expected_series(app.db, today, xinyi)
    signups, placed = sum(s for _w, s, _p in series), sum(p for _w, _s, p in series)
    assert f"{signups} sign-ups, {placed} placements" in me.replies[0].text
    await me.tap("spreadsheet")
    book = openpyxl.load_workbook(io.BytesIO(app.dispatcher.files.read(me.replies[0].document)))
    codes = {row[0] for row in book["By course"].iter_rows(min_row=2, values_only=True)}
    assert codes == {"bm1", "evil"}
    notes = [row[0] for row in book["Summary"].iter_rows(values_only=True)]
    assert any(n and "信宜乡村家政培训站" in n for n in notes)


# --- refusals ----------------------------------------------------------------------------------
async def test_a_job_seeker_and_forged_buttons_are_refused(app):
    await seed(app.db, local_today())
    me = await staff(app)
    chart, xlsx = me.button("Chart").data, me.button("spreadsheet").data
    seeker = Chat(app.dispatcher, "tg:66", "en")
    await seeker.onboard()
    assert not any("Programme numbers" in label for label in seeker.labels)
    nonce = seeker.button("Language").data.split("|")[0]
    for data in (chart, xlsx, f"{nonce}|chart", f"{nonce}|xlsx", "x|chart"):
        await seeker.press(data)
        assert "I don't recognise that button" in seeker.text or "earlier message" in seeker.text
        assert not any(r.photo or r.document for r in seeker.replies)
        assert "Course sign-ups" not in seeker.text
    user = await load_user(app, "tg:66")
    assert user is not None and user.state != NUMBERS and user.refused_presses >= 5
    async with app.db.sessions() as s:
        assert not list(await s.scalars(select(StoredFile).where(StoredFile.user_id == user.id)))
    # the staff member's own button still works afterwards
    await me.press(chart)
    assert me.replies[0].photo


async def test_every_numbers_handler_asks_is_staff(app):
    await seed(app.db, local_today())
    await staff(app)
    refusal = translator("zh")("That part is for programme staff only.")
    async with app.db.sessions() as session, session.begin():
        repos = Repos(session, app.dispatcher.files)
        user = await repos.users.get(ADMIN)
        assert user is not None
        ctx = Ctx(Event(ADMIN), user, translator("zh"), repos, FLOWS, is_admin=False)
        for action in ("chart", "xlsx"):
            user.state = NUMBERS
            replies = await FLOWS.states[NUMBERS].buttons[action](ctx, "")
            assert replies[0].text == refusal
            assert not any(r.photo or r.document for r in replies)
        user.state = NUMBERS
        replies = await FLOWS.states[NUMBERS].prompt(ctx)  # type: ignore[misc]
        assert replies[0].text == refusal
        assert "Course sign-ups" not in "\n".join(r.text for r in replies)
        assert not await repos.files.names_of(user.id)


async def test_a_former_admin_is_refused_on_the_next_tap(app, db_path):
    await seed(app.db, local_today())
    me = await staff(app)
    chart = me.button("Chart").data
    later = await create_app(make_settings(db_path, admin_ids=frozenset({"tg:900"})))
    try:
        handled = await later.dispatcher.handle(Event(ADMIN, data=chart, update_id="gone"))
        assert not any(r.photo for r in handled.replies)
        assert "Course sign-ups" not in "\n".join(r.text for r in handled.replies)
    finally:
        await later.close()
    async with app.db.sessions() as s:
        assert not list(await s.scalars(select(StoredFile)))


# --- in Chinese (needs the merged catalogs) -------------------------------------------------------
async def test_numbers_in_chinese(app):
    await seed(app.db, local_today())
    me = await staff(app, "tg:900", "zh-hans")
    assert me.replies[0].text.startswith("📊 项目数据")
    assert "本周" in me.replies[0].text and "课程报名" in me.replies[0].text
    await me.press(me.replies[-1].buttons[0][0].data)
    assert me.replies[0].photo
    await me.press(me.replies[-1].buttons[1][0].data)
    book = openpyxl.load_workbook(io.BytesIO(app.dispatcher.files.read(me.replies[0].document)))
    assert book["汇总"]["B1"].value == "本周"
