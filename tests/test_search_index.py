"""The search index is kept in step one document at a time, and exactly.

Random edits (a seat taken, a course cancelled or reopened, a title or kind of work
changed, a course added, a sign-up deadline passed, a start day moved, a fair edited) are
made the way the app makes them, each in its own transaction on a real SQLite file; after
each, the index that caught up incrementally answers every query exactly as an index
built from nothing does. A change to one document re-indexes that document only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import storage.search as search
from bot.app import App
from storage.courses import CourseRepo, SignupRepo
from storage.db import Database, open_database
from storage.models import Course, JobFair, TrainingBase
from storage.search import SearchIndex, SearchRepo

TODAY = dt.date.today()
TITLE_WORDS = [
    "好心月嫂",
    "金牌月嫂",
    "育婴员",
    "养老护理员",
    "收纳师",
    "小儿推拿",
    "病患陪护",
    "催乳师",
    "家政服务员",
    "初级班",
    "高级班",
    "周末班",
    "走访班",
]
# words no seeded document has: they come into the vocabulary (and go) with edits, which
# changes the near misses of typed tokens (`plis` is one edit from `plus`)
NEW_WORDS = ["搜救", "涉外", "plus", "pro", "vip"]
TRACKS = ["月嫂/母婴护理", "育婴员", "家政服务员/保姆", "养老护理员", "病患陪护", "小儿推拿"]
COUNTIES = ["茂南", "信宜", "高州"]
CITIES = ["茂名", "深圳", "香港"]
QUERIES = [
    "yuesao",
    "yue sao",
    "月艘",
    "yuesou",
    "sou",
    "shoo",
    "plis",
    "prp",
    "vap 月嫂",
    "金牌",
    "jin pai yue sao",
    "護理",
    "yanglao huli",
    "nanny",
    "maternity",
    "shouna",
    "收納",
    "zoufang",
    "tuina",
    "高州 月嫂",
    "信宜 保姆 qqq",
    "gaoji ban",
    "zhoumo",
    "招聘会",
    "shenzhen",
    "yuesao shenzhen zzz",
    "zzzz",
]
ACTIONS = [
    "seat",
    "status",
    "title",
    "track",
    "add",
    "deadline",
    "day",
    "fair_title",
    "fair_status",
    "fair_day",
]


def title(rnd: random.Random, new_words: bool = False) -> str:
    words = rnd.sample(TITLE_WORDS, rnd.randint(1, 3))
    if new_words and rnd.random() < 0.5:
        words.insert(rnd.randint(0, len(words)), rnd.choice(NEW_WORDS))
    return "".join(words)


def new_course(rnd: random.Random, code: str, base_ids: list[int]) -> Course:
    return Course(
        code=code,
        title=title(rnd),
        track=rnd.choice(TRACKS),
        brand=rnd.choice(["好心月嫂", "好心保姆", ""]),
        base_id=rnd.choice(base_ids),
        starts_on=TODAY + dt.timedelta(days=rnd.randint(-3, 40)),
        ends_on=TODAY + dt.timedelta(days=60),
        seats=rnd.randint(1, 3),
        free_for=[],
        certificate="职业技能等级证书",
        signup_closes_on=rnd.choice([None, TODAY + dt.timedelta(days=rnd.randint(-2, 5))]),
        status=rnd.choice(["open", "open", "open", "cancelled"]),
    )


def new_fair(rnd: random.Random, n: int) -> JobFair:
    return JobFair(
        code=f"f{n}",
        title=f"{rnd.choice(COUNTIES)}家政招聘会第{n}场",
        starts_at=dt.datetime.combine(TODAY, dt.time(9)) + dt.timedelta(days=rnd.randint(-3, 30)),
        county=rnd.choice(COUNTIES),
        organiser="人社局",
        status="open",
        employers=[
            {
                "name": "好心家政",
                "jobs": [{"category": rnd.choice(TRACKS), "destination": rnd.choice(CITIES)}],
            }
        ],
    )


async def seed(db: Database, rnd: random.Random, courses: int = 30, fairs: int = 8) -> None:
    """Two training bases, `courses` courses and `fairs` job fairs, made up from `rnd`."""
    async with db.sessions() as s, s.begin():
        bases = [
            TrainingBase(code=f"b{i}", name=f"{county}家政培训基地", county=county)
            for i, county in enumerate(COUNTIES)
        ]
        s.add_all(bases)
        await s.flush()
        ids = [b.id for b in bases]
        s.add_all(new_course(rnd, f"c{i}", ids) for i in range(courses))
        s.add_all(new_fair(rnd, i) for i in range(fairs))


async def edit(db: Database, n: int, action: str, seed_: int) -> None:
    """One change, committed, made as the app makes it: a seat by the sign-up's atomic
    UPDATE, everything else through the ORM (as staff edits and imports do); `n` numbers
    the step (a new course's code)."""
    rnd = random.Random(seed_)
    async with db.sessions() as s, s.begin():
        course_ids = list(await s.scalars(select(Course.id).order_by(Course.id)))
        fair_ids = list(await s.scalars(select(JobFair.id).order_by(JobFair.id)))
        if action == "seat":
            await SignupRepo(s)._take_seat(rnd.choice(course_ids))
            return
        if action == "add":
            base_ids = list(await s.scalars(select(TrainingBase.id)))
            s.add(new_course(rnd, f"n{n}", base_ids))
            return
        if action.startswith("fair_"):
            fair = await s.get(JobFair, rnd.choice(fair_ids))
            assert fair is not None
            if action == "fair_title":
                fair.title = f"{rnd.choice(COUNTIES)}{title(rnd, new_words=True)}招聘会"
            elif action == "fair_status":
                fair.status = rnd.choice(["open", "cancelled"])
            else:
                fair.starts_at = dt.datetime.combine(TODAY, dt.time(9)) + dt.timedelta(
                    days=rnd.randint(-3, 30)
                )
            return
        course = await CourseRepo(s).get(rnd.choice(course_ids))
        assert course is not None
        if action == "status":
            course.status = rnd.choice(["open", "cancelled"])
        elif action == "title":
            course.title = title(rnd, new_words=True)
        elif action == "track":
            course.track = rnd.choice(TRACKS)
        elif action == "deadline":
            course.signup_closes_on = TODAY + dt.timedelta(days=rnd.randint(-3, 3))
        elif action == "day":
            course.starts_on = TODAY + dt.timedelta(days=rnd.randint(-3, 40))


async def answers(index: SearchIndex) -> dict[tuple[str, str, dt.date], list[int]]:
    """Every query's answer (up to 50 ids), for courses and fairs, today and in a week."""
    return {
        (q, kind, day): index.search(q, kind, day, limit=50)
        for q in QUERIES
        for kind in ("course", "fair")
        for day in (TODAY, TODAY + dt.timedelta(days=7))
    }


async def compare(db: Database) -> None:
    """The index kept in step answers as an index built from nothing."""
    async with db.sessions() as s:
        kept = await SearchRepo(s).index()
        fresh = SearchIndex()
        fresh.bulk()
        await SearchRepo(s).catch_up(fresh)
    assert len(kept.docs) == len(fresh.docs)
    assert dict(kept.counts) == dict(fresh.counts)
    assert await answers(kept) == await answers(fresh)


step = st.tuples(st.sampled_from(ACTIONS), st.integers(0, 10**9))


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    start=st.integers(0, 10**9),
    steps=st.lists(step, min_size=1, max_size=25),
    exact_up_to=st.sampled_from([3000, 4]),
    budget=st.sampled_from([2_000_000, 60]),
)
@example(start=1, steps=[("title", 2), ("status", 3), ("seat", 4)], exact_up_to=4, budget=60)
@example(start=2, steps=[("title", n) for n in range(12)], exact_up_to=3000, budget=2_000_000)
def test_incremental_updates_answer_as_a_fresh_index_does(
    tmp_path_factory: Any, start: int, steps: list[tuple[str, int]], exact_up_to: int, budget: int
) -> None:
    """Few candidates are scored one by one and many taken by class (soonest first), so
    both paths are run (`exact_up_to`); a small cache budget makes entries be dropped and
    built again while others are patched."""
    path: Path = tmp_path_factory.mktemp("search") / "haoxin.db"

    async def main() -> None:
        db = await open_database(f"sqlite+aiosqlite:///{path}")
        try:
            await seed(db, random.Random(start))
            await compare(db)
            for n, (action, seed_) in enumerate(steps):
                await edit(db, n, action, seed_)
                await compare(db)
        finally:
            await db.close()

    with mock.patch.multiple(search, EXACT_UP_TO=exact_up_to, CACHE_BUDGET=budget, CACHE_PER_DOC=0):
        asyncio.run(main())


async def test_a_change_to_one_course_reindexes_that_course_only(
    app: App, monkeypatch: Any
) -> None:
    await seed(app.db, random.Random(5), courses=60, fairs=10)
    async with app.db.sessions() as s:
        index = await SearchRepo(s).index()
        for q in QUERIES:  # fill the caches
            index.search(q, "course", TODAY)
    assert len(index.docs) == 70

    taken_in: list[tuple[str, int]] = []
    original_add = SearchIndex.add

    def add(self: SearchIndex, kind: str, ident: int, *args: Any) -> bool:
        taken_in.append((kind, ident))
        return original_add(self, kind, ident, *args)

    monkeypatch.setattr(SearchIndex, "add", add)
    tokenised: list[str] = []
    original_tokens = search._tokens

    def counting_tokens(text: str) -> tuple[str, ...]:
        tokenised.append(text)
        return original_tokens(text)

    monkeypatch.setattr(search, "_tokens", counting_tokens)

    async with app.db.sessions() as s:
        course = await s.scalar(
            select(Course).where(Course.status == "open", Course.starts_on > TODAY)
        )
        assert course is not None
        course_id = course.id

    # a seat taken: the course is read again, and nothing search sees has changed
    cached = dict(index._cache)
    reindexed = index.reindexed
    async with app.db.sessions() as s, s.begin():
        assert await SignupRepo(s)._take_seat(course_id)
    async with app.db.sessions() as s:
        await SearchRepo(s).courses("yuesao", TODAY)
    assert 1 <= len(taken_in) <= 2  # the changed course, and the one last changed before
    assert ("course", course_id) in taken_in
    assert len(tokenised) <= 2 * 10  # a course has at most ten fields
    assert index.reindexed == reindexed
    assert all(index._cache.get(key) is entry for key, entry in cached.items())

    # a new title: that course alone is re-indexed, found by its new words at once
    taken_in.clear()
    tokenised.clear()
    async with app.db.sessions() as s, s.begin():
        course = await CourseRepo(s).get(course_id)
        assert course is not None
        course.title = "涉外金牌收纳师特训营"
    async with app.db.sessions() as s:
        found = await SearchRepo(s).courses("shewai texunying", TODAY)
    assert found == [course_id]
    assert 1 <= len(taken_in) <= 2
    assert len(tokenised) <= 2 * 10
    assert index.reindexed == reindexed + 1
    assert len(index.docs) == 70
    kept = [key for key, entry in cached.items() if index._cache.get(key) is entry]
    assert len(kept) >= len(cached) - 5  # the rest of the caches were patched or untouched

    # cancelled: gone from the very next search
    async with app.db.sessions() as s, s.begin():
        course = await CourseRepo(s).get(course_id)
        assert course is not None
        course.status = "cancelled"
    async with app.db.sessions() as s:
        assert await SearchRepo(s).courses("shewai texunying", TODAY) == []
    assert index.reindexed == reindexed + 1  # the text did not change: no postings moved


# --- the index alone, without a database: many more random edits -----------------------
WORDS = ["vip", "plus", "pro", "jin", "pai", "yue", "sao", "bao", "mu", "hu", "li", "gao"]
TYPED = [
    "vip jin pai yue sao qqq",
    "plus yue sao qqq",
    "jin pai qqq",
    "yue sao",
    "hu li",
    "bao mu hu",
    "plis",
    "vap yue",
    "pri gao",
    "saoo",
    "zzz qqq",
]
text_of = st.lists(st.sampled_from(WORDS), min_size=0, max_size=5).map(" ".join)
document = st.tuples(
    st.sampled_from(["course", "fair"]),
    st.integers(1, 12),  # the id: an id drawn again is an edit of that document
    st.lists(st.tuples(st.sampled_from(search.TIERS), text_of), min_size=1, max_size=4),
    st.integers(-3, 12),  # the day, from today
    st.sampled_from(["open", "open", "cancelled"]),
)


def take_in(index: SearchIndex, doc: tuple[str, int, list[tuple[float, str]], int, str]) -> None:
    kind, ident, fields, day, status = doc
    index.add(kind, ident, fields, TODAY + dt.timedelta(days=day), None, status)


@settings(max_examples=300, deadline=None)
@example(  # the only document holding the most words loses them: count again
    docs=[
        ("course", 1, [(1.0, "vip jin pai yue sao")], 5, "open"),
        ("course", 2, [(1.0, "jin pai yue sao")], 5, "open"),
        ("course", 1, [(1.0, "bao")], 5, "open"),
    ],
    exact_up_to=3000,
    budget=2_000_000,
)
@given(
    docs=st.lists(document, min_size=1, max_size=40),
    exact_up_to=st.sampled_from([3000, 2]),
    budget=st.sampled_from([2_000_000, 8]),
)
def test_random_edits_to_an_index_answer_as_a_fresh_index_does(
    docs: list[tuple[str, int, list[tuple[float, str]], int, str]], exact_up_to: int, budget: int
) -> None:
    """Each document drawn is added, or replaces the one of that kind and id; after each,
    the index kept in step answers every query as one built from the final documents."""
    with mock.patch.multiple(search, EXACT_UP_TO=exact_up_to, CACHE_BUDGET=budget, CACHE_PER_DOC=0):
        kept = SearchIndex()
        latest: dict[tuple[str, int], tuple[str, int, list[tuple[float, str]], int, str]] = {}
        for doc in docs:
            take_in(kept, doc)
            latest[doc[:2]] = doc
            fresh = SearchIndex()
            fresh.bulk()
            for final in latest.values():
                take_in(fresh, final)
            fresh.ready()
            for q in TYPED:
                for kind in ("course", "fair"):
                    assert kept.search(q, kind, TODAY, 20) == fresh.search(q, kind, TODAY, 20), q
