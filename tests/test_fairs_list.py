"""The fairs list with many fairs, played as a person: every page, every filter, counts.

60 fairs across counties, months and destinations, some cancelled and some past, some at
the same minute, two at the edges of a month and two at the edge of today. What she sees
is checked against the upcoming fairs worked out here in plain Python from the imported
rows (soonest first, ties by id: the list as it always was). Then imports change fairs'
employers, dates and status, and the places the list filters by (`fair_places`) must stay
equal to `destinations(fair)`. The list and the filter screens run on SQLite and, when a
server answers, on PostgreSQL (`HAOXIN_TEST_POSTGRES`); so does the migration's backfill.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import event, select

from bot.app import App, create_app
from locales import translator
from storage.db import Database, _alembic_config
from storage.fairs import FairRepo, destinations
from storage.models import JobFair
from storage.vocab import CITIES
from storage.vocab import COUNTIES as COUNTY_TERMS
from tests.catalogue import load
from tests.chat import Chat
from tests.conftest import load_user, make_settings

POSTGRES = os.environ.get(
    "HAOXIN_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
COUNTIES = ["茂南", "电白", "高州", "信宜", "化州"]
PLACES = ["深圳", "广州", "澳门", "茂名", "东莞", "佛山"]
PAGE = 5
EN = translator("en")


def today() -> dt.date:
    """The programme's today (its time zone's), as the fairs list reckons upcoming."""
    return dt.datetime.now(ZoneInfo(make_settings(None).timezone)).date()


def midnight(days: int = 0) -> dt.datetime:
    return dt.datetime.combine(today(), dt.time()) + dt.timedelta(days=days)


def first_of_month(months_ahead: int) -> dt.datetime:
    today_ = today()
    n = today_.year * 12 + today_.month - 1 + months_ahead
    return dt.datetime(n // 12, n % 12 + 1, 1)


def employers(*jobs: tuple[str, str]) -> list[dict[str, Any]]:
    """(firm, destination) for each job; a firm named twice gets both jobs."""
    firms: dict[str, list[dict[str, Any]]] = {}
    for firm, place in jobs:
        firms.setdefault(firm, []).append(
            {"category": "月嫂", "destination": place, "pay_min": 8000, "pay_max": 12000}
        )
    return [{"name": firm, "jobs": j} for firm, j in firms.items()]


def a_fair(n: int, starts: dt.datetime, county: str, jobs: list, status: str = "open") -> dict:
    return {
        "code": f"f{n:02d}",
        "title": f"F{n:02d}{county}招聘会",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + dt.timedelta(minutes=1)).isoformat(),
        "venue": f"{county}广场",
        "county": county,
        "status": status,
        "employers": employers(*jobs),
    }


def sixty_fairs() -> list[dict[str, Any]]:
    """60 fairs. The first few are built to catch a wrong order: the soonest fair names
    香港 before 东莞 (which sort the other way), two fairs at the same minute list 高州
    then 电白 (the other way round by text), and one is cancelled, one past."""
    rnd = random.Random(20261202)
    soon = midnight(1) + dt.timedelta(hours=9)
    edge = first_of_month(2)
    fairs = [
        a_fair(1, soon, "信宜", [("甲", "香港"), ("乙", "东莞"), ("甲", "香港")]),
        a_fair(2, soon + dt.timedelta(hours=1), "高州", [("丙", "深圳")]),
        a_fair(3, soon + dt.timedelta(hours=1), "电白", [("丁", "")]),  # no destination
        a_fair(4, soon, "茂南", [("戊", "澳门")], status="cancelled"),
        a_fair(5, midnight(-1) + dt.timedelta(hours=23, minutes=59), "化州", [("己", "韶关")]),
        a_fair(6, midnight(0), "茂南", [("庚", "广州")]),  # today at 00:00: upcoming
        a_fair(7, edge - dt.timedelta(minutes=1), "电白", [("辛", "佛山")]),  # month's last
        a_fair(8, edge, "电白", [("壬", "佛山")]),  # next month's first minute
    ]
    for n in range(9, 61):
        days = rnd.randint(-40, 150)
        days += 3 if days in (0, 1) else 0  # the first few fairs above stay the soonest
        starts = midnight(days) + dt.timedelta(hours=rnd.choice([9, 9, 14]))
        jobs = [(rnd.choice("ABC"), rnd.choice(PLACES)) for _ in range(rnd.randint(1, 4))]
        status = "cancelled" if n % 9 == 0 else "open"
        fairs.append(a_fair(n, starts, rnd.choice(COUNTIES), jobs, status))
    return fairs


# --- what she must see, worked out in plain Python ------------------------------------
def upcoming(rows: list[dict[str, Any]], ids: dict[str, int]) -> list[dict[str, Any]]:
    """Open fairs from today on, soonest first, ties by id: each row with its `id`."""
    kept = [
        {**row, "id": ids[row["code"]], "at": dt.datetime.fromisoformat(row["starts_at"])}
        for row in rows
        if row["status"] == "open" and dt.datetime.fromisoformat(row["starts_at"]) >= midnight()
    ]
    return sorted(kept, key=lambda r: (r["at"], r["id"]))


def places_of(row: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    for employer in row["employers"]:
        for job in employer["jobs"]:
            if job["destination"] and job["destination"] not in seen:
                seen.append(job["destination"])
    return seen


def values(kind: str, shown: list[dict[str, Any]]) -> list[str]:
    """The filter screen's choices: each value once, in the order the list meets it."""
    out: list[str] = []
    for row in shown:
        of = {"county": [row["county"]], "month": [row["at"].strftime("%Y-%m")]}
        for v in of.get(kind, places_of(row)):
            if v and v not in out:
                out.append(v)
    return out


def keeps(kind: str, value: str, row: dict[str, Any]) -> bool:
    if kind == "county":
        return row["county"] == value
    if kind == "month":
        return row["at"].strftime("%Y-%m") == value
    return value in places_of(row)


# --- playing it -----------------------------------------------------------------------
async def seeker(app: App, user: str) -> Chat:
    me = Chat(app.dispatcher, user, "en")
    await me.onboard()
    await me.tap("Job fairs")
    return me


def titles(me: Chat) -> list[str]:
    return [label.split(" · ")[0] for label in me.labels if " · " in label]


async def every_page(me: Chat) -> tuple[list[str], int]:
    """Read the list from its first page to its last (tapping Later ▶): every title in
    order, and the count its heading gives; checks the page line and the pager."""
    found = re.search(r"soonest first \((\d+)\)", me.text)
    assert found, me.text
    total = int(found.group(1))
    pages = -(-total // PAGE)
    seen = titles(me)
    for page in range(2, pages + 1):
        await me.tap("Later ▶")
        assert f"Page {page} of {pages}" in me.text
        assert me.replies[0].replace  # paging edits the message
        seen += titles(me)
    assert not any("Later" in label for label in me.labels)
    if pages > 1:
        assert "Earlier" in " ".join(me.labels)
    else:
        assert "Page " not in me.text
    return seen, total


async def check_list(me: Chat, expected: list[dict[str, Any]]) -> None:
    if not expected:
        assert "No upcoming job fair matches" in me.text
        return
    seen, total = await every_page(me)
    assert total == len(expected)
    assert seen == [row["title"] for row in expected]


@pytest.fixture(params=["sqlite", "postgresql"])
async def any_app(request, db_path) -> AsyncIterator[App]:
    """The app on a fresh SQLite file, and on a throwaway PostgreSQL database (skipped
    when no server answers)."""
    if request.param == "sqlite":
        app = await create_app(make_settings(db_path))
        yield app
        await app.close()
        return
    async with postgres_url() as url:
        app = await create_app(make_settings(None, database_url=url))
        try:
            yield app
        finally:
            await app.close()


class postgres_url:
    """A throwaway database on the PostgreSQL server, dropped afterwards (skips the test
    when no server answers)."""

    async def __aenter__(self) -> str:
        import asyncpg

        self.name = f"haoxin_fairs_{uuid.uuid4().hex[:10]}"
        try:
            self.admin = await asyncpg.connect(
                POSTGRES.replace("postgresql+asyncpg", "postgresql"), timeout=3
            )
        except (OSError, asyncpg.PostgresError) as exc:
            pytest.skip(f"no PostgreSQL at {POSTGRES}: {type(exc).__name__}")
        await self.admin.execute(f"create database {self.name}")
        return POSTGRES.rsplit("/", 1)[0] + "/" + self.name

    async def __aexit__(self, *exc: object) -> None:
        await self.admin.execute(f"drop database {self.name} with (force)")
        await self.admin.close()


async def fair_ids(app: App) -> dict[str, int]:
    async with app.db.sessions() as s:
        return {code: ident for code, ident in await s.execute(select(JobFair.code, JobFair.id))}


async def test_every_page_filter_and_count_with_sixty_fairs(any_app):
    app = any_app
    rows = sixty_fairs()
    await load(app, [], rows)
    shown = upcoming(rows, await fair_ids(app))
    assert 30 < len(shown) < 60  # cancelled and past fairs are there, and left out
    assert {"F01", "F02", "F03", "F06", "F07", "F08"} <= {r["title"][:3] for r in shown}
    loaded: list[int] = []  # whole fairs read from the database: none for lists and filters

    def read(target: JobFair, _context: Any) -> None:
        loaded.append(target.id)

    event.listen(JobFair, "load", read)
    try:
        await play_every_filter(app, shown)
    finally:
        event.remove(JobFair, "load", read)
    assert loaded == [shown[PAGE]["id"]]  # only the card read a whole fair


async def play_every_filter(app: App, shown: list[dict[str, Any]]) -> None:
    """The whole list, then each county, month and destination, page by page; then a
    card from the second page."""
    me = await seeker(app, "tg:1101")
    await check_list(me, shown)

    for kind, button in (("county", "County"), ("month", "Month"), ("destination", "Where")):
        expected = values(kind, shown)
        if kind == "county":  # counties in the one order of every screen
            expected.sort(key=COUNTY_TERMS.order)
        await me.tap(button)
        choices = [label for label in me.labels if "Back" not in label]
        if kind == "month":
            labels = [EN.month(dt.date.fromisoformat(v + "-01")) for v in expected]
        else:  # by their names in her language
            labels = [EN.term(COUNTY_TERMS if kind == "county" else CITIES, v) for v in expected]
        assert choices == labels, kind
        kept = (await load_user(app, "tg:1101")).form["filter_values"]
        assert [c["names"] for c in kept] == [[v] for v in expected]
        for n, value in enumerate(expected):
            if n:
                await me.tap(button)
            await me.press(me.button(choices[n]).data)
            await check_list(me, [row for row in shown if keeps(kind, value, row)])
            await me.tap("Show all fairs")
            assert f"soonest first ({len(shown)})" in me.text
    # the fixture holds the cases a wrong order would show: 香港 before 东莞 in one fair,
    # 高州 before 电白 at the same minute (each the other way round as text); counties
    # are listed in the vocabulary's order all the same
    assert values("destination", shown)[:3] == ["广州", "香港", "东莞"]
    assert values("county", shown)[:4] == ["茂南", "信宜", "高州", "电白"]

    await me.tap("Later ▶")
    await me.tap(titles(me)[0])  # the card still opens from a later page
    assert shown[PAGE]["title"] in me.text


async def test_a_page_past_the_end_shows_the_first_and_search_shows_only_upcoming(any_app):
    app = any_app
    rows = sixty_fairs()
    await load(app, [], rows)
    shown = upcoming(rows, await fair_ids(app))
    me = await seeker(app, "tg:1102")
    pages = -(-len(shown) // PAGE)
    for _ in range(pages - 1):
        await me.tap("Later ▶")
    last = titles(me)
    # the last page is remembered; with fewer fairs the page is past the end: page one
    await load(app, [], [{**row, "status": "cancelled"} for row in rows[8:]])
    await me.say("/menu")
    await me.tap("Job fairs")
    assert titles(me) == [r["title"] for r in upcoming(rows[:8], await fair_ids(app))][:PAGE]
    assert last != titles(me)

    await me.tap("Search")
    await me.say("shenzhen")
    async with app.db.sessions() as s:
        from storage.repositories import Repos

        found = await Repos(s).search.fairs("shenzhen", today(), limit=5)
    by_id = {ident: code for code, ident in (await fair_ids(app)).items()}
    assert titles(me) == [next(r["title"] for r in rows if r["code"] == by_id[i]) for i in found]
    assert titles(me) == ["F02高州招聘会"]  # the only upcoming open fair with 深圳 now
    assert "soonest first (1)" in me.text


async def stored_places(app: App) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """Every fair's places as `fair_places` holds them, and as `destinations` reads them."""
    async with app.db.sessions() as s:
        fairs = list(await s.scalars(select(JobFair)))
        held = await FairRepo(s).places_of([f.id for f in fairs])
        rows = await s.execute(
            sa.text(
                "select p.fair_id from fair_places p join job_fairs j on j.id = p.fair_id "
                "where p.starts_at <> j.starts_at or p.status <> j.status"
            )
        )
        assert rows.all() == []  # the copies of the fair's start and status agree
    return held, {f.id: destinations(f) for f in fairs}


async def test_places_follow_every_import_of_a_fairs_employers(any_app):
    app = any_app
    rows = sixty_fairs()
    await load(app, [], rows)
    held, wanted = await stored_places(app)
    assert held == wanted and wanted[1] == ["香港", "东莞"]
    me = await seeker(app, "tg:1103")
    await me.tap("Where the jobs are")
    # places by their English names; one the vocabulary does not know (韶关) as written
    assert "Hong Kong" in me.labels and "韶关" not in me.labels  # 韶关: a past fair's only

    # F01 now sends people to 韶关 first and no longer to 香港; F02 adds 香港 after 深圳
    rows[0]["employers"] = employers(("甲", "韶关"), ("乙", "东莞"))
    rows[1]["employers"] = employers(("丙", "深圳"), ("丙", "香港"), ("丁", "深圳"))
    await load(app, [], rows[:2])
    held, wanted = await stored_places(app)
    assert held == wanted
    assert wanted[1] == ["韶关", "东莞"] and wanted[2] == ["深圳", "香港"]
    await me.tap("Back")
    await me.tap("Where the jobs are")
    shown = upcoming(rows, await fair_ids(app))
    choices = [label for label in me.labels if "Back" not in label]
    assert choices == [EN.term(CITIES, v) for v in values("destination", shown)]
    assert choices[:3] == ["Guangzhou", "韶关", "Dongguan"]
    await me.tap("Hong Kong")
    await check_list(me, [r for r in shown if "香港" in places_of(r)])
    assert titles(me) == ["F02高州招聘会"]

    # a destination removed from every fair is gone from the screen and matches nothing
    for row in rows:
        row["employers"] = [
            {**e, "jobs": [j for j in e["jobs"] if j["destination"] != "香港"]}
            for e in row["employers"]
        ]
    await load(app, [], rows)
    held, wanted = await stored_places(app)
    assert held == wanted and all("香港" not in p for p in held.values())
    await me.tap("Show all fairs")
    await me.tap("Where the jobs are")
    assert "Hong Kong" not in me.labels

    # a fair moved to the past, and one cancelled, leave the destination filter too
    rows[0]["starts_at"] = midnight(-3).isoformat()
    rows[0]["ends_at"] = midnight(-3).isoformat()
    rows[1]["status"] = "cancelled"
    await load(app, [], rows[:2])
    held, wanted = await stored_places(app)
    assert held == wanted
    await me.tap("Back")
    await me.tap("Where the jobs are")
    assert "韶关" not in me.labels  # only F01 had it upcoming
    place = "深圳"
    await me.tap(EN.term(CITIES, place))
    shown = upcoming(rows, await fair_ids(app))
    await check_list(me, [r for r in shown if place in places_of(r)])
    assert "F02高州招聘会" not in titles(me)


# --- the migration's backfill -----------------------------------------------------------
BEFORE = [  # (code, starts_at, status, employers) as 0004 stored them
    ("m1", dt.datetime(2030, 5, 1, 9), "open", employers(("a", "澳门"), ("b", "深圳"))),
    ("m2", dt.datetime(2030, 5, 1, 9), "cancelled", employers(("a", "深圳"), ("a", "深圳"))),
    ("m3", dt.datetime(2030, 6, 2, 14), "open", employers(("a", ""))),
    ("m4", dt.datetime(2030, 6, 3, 14), "open", []),
]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_the_migration_fills_in_the_places_of_existing_fairs(backend, tmp_path):
    async with _database(backend, tmp_path) as url:
        db = Database(url)
        try:
            async with db.engine.begin() as conn:
                await conn.run_sync(_upgrade_to, "0004")
                fairs = sa.table(
                    "job_fairs",
                    *(sa.column(c, sa.String) for c in ("code", "title", "status")),
                    *(sa.column(c, sa.String) for c in ("venue", "address", "county")),
                    sa.column("organiser", sa.String),
                    sa.column("starts_at", sa.DateTime),
                    sa.column("updated_at", sa.DateTime),
                    sa.column("registration_required", sa.Boolean),
                    sa.column("employers", sa.JSON),
                )
                for code, starts, status, jobs in BEFORE:
                    await conn.execute(
                        fairs.insert().values(
                            code=code,
                            title=code,
                            starts_at=starts,
                            status=status,
                            employers=jobs,
                            venue="",
                            address="",
                            county="茂南",
                            organiser="",
                            registration_required=False,
                            updated_at=starts,
                        )
                    )
            await db.upgrade()
            async with db.sessions() as s:
                stored = list(await s.scalars(select(JobFair).order_by(JobFair.code)))
                held = await FairRepo(s).places_of([f.id for f in stored])
                assert [held[f.id] for f in stored] == [destinations(f) for f in stored]
                assert [held[f.id] for f in stored] == [["澳门", "深圳"], ["深圳"], [], []]
                since = dt.datetime(2030, 1, 1)
                assert await FairRepo(s).choices(since, "destination") == ["澳门", "深圳"]
                assert await FairRepo(s).choices(since, "month") == ["2030-05", "2030-06"]
        finally:
            await db.close()


def _upgrade_to(connection: Any, revision: str) -> None:
    from alembic import command

    command.upgrade(_alembic_config(connection), revision)


class _database:
    def __init__(self, backend: str, tmp_path: Any) -> None:
        self.backend, self.tmp_path, self.pg = backend, tmp_path, None

    async def __aenter__(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite+aiosqlite:///{self.tmp_path}/before.db"
        self.pg = postgres_url()
        return await self.pg.__aenter__()

    async def __aexit__(self, *exc: object) -> None:
        if self.pg is not None:
            await self.pg.__aexit__(*exc)
