"""The rules every worker screen relies on (storage/workers.py): ID numbers, codes, who
households may see, rechecks after an edit, and one decision when two staff decide at
once, on SQLite and on PostgreSQL, through two database connections as two instances."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select

from storage.db import Database, open_database
from storage.models import AuditEntry, User, WorkerProfile
from storage.repositories import Repos
from storage.workers import (
    BadIdNumber,
    NotAllowed,
    Stale,
    check_id_number,
    id_digest,
    is_visible,
    new_code,
    read_code,
    show_code,
    visible,
)
from tests.postgres import fresh_postgres

TODAY = dt.date.today()
STAFF_A, STAFF_B = "console:admin", "tg:900"


def test_id_numbers_are_checked_by_shape_birth_date_and_check_digit():
    assert check_id_number("11010519491231002x") == "11010519491231002X"
    assert check_id_number(" 110105 19491231 002X ") == "11010519491231002X"
    for bad, why in (
        ("1101051949123100", "shape"),
        ("11010519491231002A", "shape"),
        ("１１０１０５１９４９１２３１００２Ｘ", "shape"),  # full-width digits
        ("110105194913310020", "birth"),
        ("110105194912310021", "check_digit"),
    ):
        with pytest.raises(BadIdNumber) as caught:
            check_id_number(bad)
        assert caught.value.why == why, bad


def test_the_id_hash_is_keyed():
    assert id_digest("11010519491231002X", "a") != id_digest("11010519491231002X", "b")
    assert len(id_digest("11010519491231002X", "a")) == 64


def test_codes_are_long_random_and_read_as_people_type_them():
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000 and all(len(c) == 12 for c in codes)
    code = "7K2M9QPDXW3A"
    assert show_code(code) == "7K2M-9QPD-XW3A"
    assert read_code("7k2m-9qpd-xw3a") == code
    assert read_code(" 7K2M 9QPD XW3A ") == code
    assert read_code("verify_7K2M9QPDXW3A") == code
    assert read_code("7K2M-9QPD-XW3") is None
    assert read_code("hello") is None


async def _worker(repos: Repos, key: str = "tg:5") -> WorkerProfile:
    user = User(key=key, lang="zh", state="", form={}, screen_buttons=[])
    repos.session.add(user)
    await repos.session.flush()
    profile = await repos.workers.start(user)
    await repos.workers.edit(profile, name="李秀英", kinds=["maternity"], places=["maonan"])
    await repos.workers.submit(profile)
    return profile


async def _checked(repos: Repos, profile: WorkerProfile, on: dt.date = TODAY) -> WorkerProfile:
    for kind in ("identity", "health", "criminal"):
        profile = await repos.workers.record_check(
            profile.id, profile.version, STAFF_A, kind, "", "passed", on
        )
    return profile


@pytest.fixture
async def db(tmp_path):
    database = await open_database(f"sqlite+aiosqlite:///{tmp_path}/w.db")
    yield database
    await database.close()


async def test_approval_needs_identity_health_and_criminal_checks_passed(db):
    async with db.sessions() as session, session.begin():
        repos = Repos(session)
        profile = await _worker(repos)
        with pytest.raises(NotAllowed) as caught:
            await repos.workers.decide(profile.id, profile.version, STAFF_A, "approve")
        assert caught.value.missing == ("identity", "health", "criminal")
        profile = await _checked(repos, profile)
        profile = await repos.workers.decide(profile.id, profile.version, STAFF_A, "approve")
        assert profile.status == "verified" and profile.code and len(profile.code) == 12
        assert profile.health_valid_until == TODAY + dt.timedelta(days=365)
        assert profile.queued_at is None


async def test_only_verified_unpaused_shared_workers_with_a_valid_health_check_are_visible(db):
    async with db.sessions() as session, session.begin():
        repos = Repos(session)
        profile = await _checked(repos, await _worker(repos))
        profile = await repos.workers.decide(profile.id, profile.version, STAFF_A, "approve")
        assert not is_visible(profile, TODAY)  # not shared yet: her consent first
        await repos.workers.set_shared(profile, True)
        assert is_visible(profile, TODAY)
        await repos.workers.set_paused(profile, True)
        assert not is_visible(profile, TODAY)
        await repos.workers.set_paused(profile, False)
        later = profile.health_valid_until + dt.timedelta(days=1)
        assert not is_visible(profile, later)
        await session.flush()
        count = select(func.count(WorkerProfile.id)).where(visible(TODAY))
        assert await session.scalar(count) == 1
        assert await session.scalar(select(func.count(WorkerProfile.id)).where(visible(later))) == 0


async def test_editing_a_verified_name_sends_identity_back_without_hiding_her(db):
    async with db.sessions() as session, session.begin():
        repos = Repos(session)
        profile = await _checked(repos, await _worker(repos))
        profile = await repos.workers.decide(profile.id, profile.version, STAFF_A, "approve")
        await repos.workers.set_shared(profile, True)
        assert await repos.workers.edit(profile, name="李秀英2") == ["identity"]
        await session.flush()
        checks = await repos.workers.checks(profile)
        assert checks[("identity", "")].result == "recheck"
        assert checks[("health", "")].result == "passed"
        assert profile.status == "verified" and is_visible(profile, TODAY)
        assert [p.id for p in await repos.workers.queue(5)] == [profile.id]
        # staff check her identity again: she leaves the queue
        profile = await repos.workers.record_check(
            profile.id, profile.version, STAFF_A, "identity", "", "passed", TODAY
        )
        assert profile.queued_at is None


async def test_a_decision_on_a_profile_that_moved_on_is_stale(db):
    async with db.sessions() as session, session.begin():
        repos = Repos(session)
        profile = await _checked(repos, await _worker(repos))
        seen = profile.version
        await repos.workers.decide(profile.id, seen, STAFF_A, "reject", "photo unreadable")
        with pytest.raises(Stale) as caught:
            await repos.workers.decide(profile.id, seen, STAFF_B, "approve")
        assert caught.value.profile is not None and caught.value.profile.status == "rejected"


async def _race(first: Database, second: Database) -> None:
    async def setup(session):
        repos = Repos(session)
        profile = await _checked(repos, await _worker(repos, f"tg:{uuid.uuid4().int % 10**9}"))
        return profile.id, profile.version

    profile_id, seen = await first.transaction(setup)

    async def decide(db: Database, staff: str, decision: str) -> str:
        async def work(session):
            repos = Repos(session)
            try:
                await repos.workers.decide(profile_id, seen, staff, decision, "reason")
            except Stale:
                return "stale"
            return decision

        return await db.transaction(work, tries=10)

    outcomes = await asyncio.gather(
        decide(first, STAFF_A, "approve"), decide(second, STAFF_B, "reject")
    )
    assert sorted(outcomes) in (["approve", "stale"], ["reject", "stale"])
    async with first.sessions() as session:
        profile = await session.get(WorkerProfile, profile_id)
        assert profile is not None
        decisions = await session.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.subject == f"worker:{profile_id}",
                AuditEntry.action.in_(["approve", "reject"]),
            )
        )
        winner = next(o for o in outcomes if o != "stale")
        assert profile.status == ("verified" if winner == "approve" else "rejected")
        assert decisions == 1


async def test_two_staff_on_two_connections_end_with_one_decision_on_sqlite(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/race.db"
    first = await open_database(url)
    second = await open_database(url)
    try:
        for _ in range(5):
            await _race(first, second)
    finally:
        await first.close()
        await second.close()


async def test_two_staff_on_two_connections_end_with_one_decision_on_postgresql():
    async with fresh_postgres("haoxin_race") as url:
        first = await open_database(url)
        second = Database(url)
        try:
            for _ in range(5):
                await _race(first, second)
        finally:
            await first.close()
            await second.close()
