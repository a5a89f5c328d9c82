"""The demo's workers, in every state of vetting, and staff marking attendance and
completion of courses with `haoxin import trainings FILE`."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from bot.app import App, create_app, import_file, import_trainings, seed_demo
from storage.demo_workers import DEMO_STAFF, demo_key
from storage.importer import DEMO_FILE, DataFileError, read_file
from storage.models import (
    AuditEntry,
    Certificate,
    Course,
    Profile,
    Signup,
    Training,
    User,
    VettingCheck,
    WorkerProfile,
)
from storage.repositories import Repos
from storage.training_import import TrainingRowsError
from storage.workers import HEALTH_REMIND_DAYS, is_visible, read_code
from tests.catalogue import course, load
from tests.conftest import make_settings

TODAY = dt.date.today()
STATES = {row.code: row.state for row in read_file(DEMO_FILE).worker_profiles}
SHOWN = ("shown", "expiring")  # verified, unpaused, shared, health check valid today
HIDDEN = ("paused", "expired", "rejected", "suspended", "draft", "submitted", "changes")
TABLES = (User, Profile, Signup, WorkerProfile, Certificate, VettingCheck, Training, AuditEntry)


async def demo_profiles(app: App) -> dict[str, list[WorkerProfile]]:
    """The demo workers' profiles (with certificates), by the state the file gives them."""
    by_state: dict[str, list[WorkerProfile]] = {}
    async with app.db.sessions() as session:
        rows = await session.execute(
            select(User.key, WorkerProfile.id).join(WorkerProfile, WorkerProfile.user_id == User.id)
        )
        ids = {key: pid for key, pid in rows}
        profiles = await Repos(session).workers.profiles_by_ids(ids.values())
    by_id = {p.id: p for p in profiles}
    for code, state in STATES.items():
        by_state.setdefault(state, []).append(by_id[ids[demo_key(code)]])
    return by_state


async def counts(app: App) -> dict[str, int]:
    async with app.db.sessions() as session:
        return {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model))
            for model in TABLES
        }


# -- the demo's workers -------------------------------------------------------------------


async def test_the_demo_has_workers_in_every_state_and_shows_only_the_right_ones(app):
    loaded = await seed_demo(app.db, app.settings)
    assert loaded["worker_profiles"] == len(STATES) >= 13
    assert loaded["courses"] >= 8 and loaded["workers"] >= 5  # the rest still loads
    profiles = await demo_profiles(app)
    assert set(profiles) == {*SHOWN, *HIDDEN}
    assert len(profiles["submitted"]) >= 3  # a queue for staff to work through
    status = {
        "draft": "draft",
        "submitted": "submitted",
        "changes": "changes",
        "rejected": "rejected",
        "suspended": "suspended",
    }
    for state, group in profiles.items():
        for p in group:
            assert p.status == status.get(state, "verified"), (state, p.name)
            assert is_visible(p, TODAY) == (state in SHOWN), (state, p.name)
    for p in profiles["shown"] + profiles["expiring"]:
        assert p.shared_at and not p.paused and p.code and read_code(p.code) == p.code
    assert all(p.paused for p in profiles["paused"])
    expiring = profiles["expiring"][0].health_valid_until
    assert TODAY < expiring <= TODAY + dt.timedelta(days=HEALTH_REMIND_DAYS)
    assert profiles["expired"][0].health_valid_until < TODAY
    for state in ("changes", "rejected", "suspended"):
        assert profiles[state][0].reason, state
    assert profiles["changes"][0].answer  # her answer to the staff's reason
    assert profiles["draft"][0].submitted_at is None

    async with app.db.sessions() as session:
        repos = Repos(session)
        # the vetting queue: the submitted ones, oldest first
        queue = await repos.workers.queue(limit=10)
        assert [p.id for p in queue] == [p.id for p in profiles["submitted"]]
        assert queue[0].queued_at < queue[1].queued_at < queue[2].queued_at
        # a recognisable demo code verifies, as README tells people to try it
        found = await repos.workers.by_code(read_code("DEMO-0000-0001"))
        assert found is not None and found.id == profiles["shown"][0].id
        # the shown: every check and certificate passed, a course completed through Haoxin
        for p in profiles["shown"]:
            checks = await repos.workers.checks(p)
            assert all(checks[(k, "")].result == "passed" for k in ("identity", "criminal"))
            assert checks[("health", "")].valid_until >= TODAY
            for cert in p.certificates:
                assert checks[("certificate", str(cert.id))].result == "passed"
            trainings = await repos.workers.trainings(p.user_id)
            assert trainings and all(t.completed_on and t.marked_by for t, _c in trainings)
            assert all(c.ends_on < TODAY for _t, c in trainings)
            history = await repos.workers.audit_of(f"worker:{p.id}")
            assert {"submit", "approve"} <= {e.action for e in history}
            assert {e.actor for e in history if e.action != "submit"} == {DEMO_STAFF}
        # each is a person of her own: consented, with what she gave at sign-up
        people = list(await session.scalars(select(User).where(User.key.like("demo:%"))))
        assert len(people) == len(STATES) and all(u.consented_at for u in people)
        kept = list(await session.scalars(select(Profile)))
        assert all(k.phone.startswith("+86") and k.name for k in kept)
        assert all(len(p.id_last4) in (0, 4) for group in profiles.values() for p in group)
        assert all(len(p.id_hash) in (0, 64) for group in profiles.values() for p in group)


async def test_loading_the_demo_twice_adds_nothing(app):
    await seed_demo(app.db, app.settings)
    before = await counts(app)
    assert await seed_demo(app.db, app.settings) is None
    again = await import_file(app.db, DEMO_FILE, demo=True)  # the loader itself, again
    assert again["worker_profiles"] == 0
    assert await counts(app) == before


async def test_haoxin_import_leaves_the_demo_workers_out_and_the_demo_adds_them_later(app):
    imported = await import_file(app.db, DEMO_FILE)  # `haoxin import storage/demo.yaml`
    assert imported["worker_profiles_skipped"] == len(STATES)
    assert (await counts(app))["worker_profiles"] == 0
    loaded = await seed_demo(
        app.db, app.settings
    )  # a database an earlier demo seeded: workers added
    assert loaded is not None and loaded["worker_profiles"] == len(STATES)
    assert (await counts(app))["worker_profiles"] == len(STATES)


async def test_a_database_of_real_courses_gets_no_demo_workers(app):
    await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
    assert await seed_demo(app.db, app.settings) is None
    assert (await counts(app))["users"] == 0


def test_a_demo_worker_row_is_checked_like_any_row(tmp_path):
    data = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
    data["worker_profiles"][2]["kinds"] = ["astronaut"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        read_file(bad)
    assert "worker_profiles row 3 (code worker-3), field kinds" in str(err.value)
    data = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
    data["past_courses"][0]["ends_on"] = "today+3"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        read_file(bad)
    assert "past_courses row 1 (code ys-past-01), field ends_on" in str(err.value)


# -- haoxin import trainings ----------------------------------------------------------------


def run_cli(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command, on the test's database; cwd is `folder`, so no `.env` is read."""
    environ = {**os.environ, "HAOXIN_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/t.db"}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=environ,
        cwd=folder,
        timeout=120,
    )


@pytest.fixture
async def demo(tmp_path):
    app = await create_app(make_settings(tmp_path / "t.db"))
    await seed_demo(app.db, app.settings)
    yield app
    await app.close()


async def marks(app: App) -> dict[tuple[str, str], tuple[bool, dt.date | None, str]]:
    """(person's key, course code) → (attended, completed_on, marked by)."""
    async with app.db.sessions() as session:
        rows = await session.execute(
            select(User.key, Course.code, Training)
            .join(Training, Training.user_id == User.id)
            .join(Course, Course.id == Training.course_id)
        )
        return {(k, c): (t.attended, t.completed_on, t.marked_by) for k, c, t in rows}


def course_days(code: str) -> tuple[dt.date, dt.date]:
    row = next(r for r in read_file(DEMO_FILE).past_courses if r.code == code)
    return row.starts_on, row.ends_on


async def test_staff_mark_attendance_and_completion_with_a_csv(demo, tmp_path):
    _start, ends = course_days("hl-past-01")
    (tmp_path / "hl.csv").write_text(
        "course,phone,attended,completed_on,name\n"
        f"hl-past-01,199 0668 0009,是,{ends:%Y/%-m/%-d},张桂英\n"  # 2026/6/3, as Excel writes
        "yy-past-01,+86 199-0668-0010,yes,,莫小红\n",
        encoding="utf-8",
    )
    before = await marks(demo)
    done = run_cli(tmp_path, "import", "trainings", "hl.csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "hl.csv: 2 rows: 1 completed, 1 attended, 0 absent, 0 already marked so"
    )
    after = await marks(demo)
    assert after[("demo:worker-9", "hl-past-01")] == (True, ends, "import:hl.csv")
    assert after[("demo:worker-10", "yy-past-01")] == (True, None, "import:hl.csv")
    assert {k: v for k, v in after.items() if k not in before} == {
        ("demo:worker-9", "hl-past-01"): (True, ends, "import:hl.csv"),
        ("demo:worker-10", "yy-past-01"): (True, None, "import:hl.csv"),
    }
    async with demo.db.sessions() as session:
        audited = await session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.actor == "import:hl.csv")
        )
    assert audited == 2

    # the same file again: nothing new, nothing written to the audit log
    again = run_cli(tmp_path, "import", "trainings", "hl.csv")
    assert again.returncode == 0, again.stderr
    assert "0 completed, 0 attended, 0 absent, 2 already marked so" in again.stdout
    async with demo.db.sessions() as session:
        assert audited == await session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.actor == "import:hl.csv")
        )


async def test_the_demo_trainings_file_marks_the_demo_workers_once(demo):
    path = Path(__file__).parent.parent / "storage" / "demo_trainings.csv"
    first = await import_trainings(demo.db, path)
    assert (first.rows, first.completed, first.attended, first.unchanged) == (2, 1, 1, 0)
    second = await import_trainings(demo.db, path)
    assert (second.rows, second.unchanged) == (2, 2)


async def test_a_file_with_one_bad_row_marks_nothing_and_names_the_row(demo, tmp_path):
    (tmp_path / "bad.csv").write_text(
        "course,phone,attended,completed_on\n"
        "hl-past-01,19906680009,yes,\n"
        "yy-past-01,19906680010,yes,2099-01-01\n"  # a day still to come
        "yy-past-01,19906680002,no,\n",
        encoding="utf-8",
    )
    before, rows_before = await marks(demo), await counts(demo)
    done = run_cli(tmp_path, "import", "trainings", "bad.csv")
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert lines[0] == (
        "haoxin import: bad.csv: row 2 (line 3), course yy-past-01, field completed_on: "
        "completed on 2099-01-01, a day still to come"
    )
    assert lines[-1].startswith("haoxin import: bad.csv: nothing was marked (1 problem)")
    assert await marks(demo) == before and await counts(demo) == rows_before


async def test_every_wrong_row_is_listed_with_its_reason(demo, tmp_path):
    start, _ends = course_days("ys-past-01")
    async with demo.db.sessions() as session, session.begin():
        # worker-12 (a draft) waits for a place on a full course; worker-13 cancelled hers
        ids = dict((await session.execute(select(Course.code, Course.id))).all())
        users = dict((await session.execute(select(User.key, User.id))).all())
        for key, status in (("demo:worker-12", "waitlisted"), ("demo:worker-13", "cancelled")):
            session.add(
                Signup(
                    course_id=ids["ys-past-01"],
                    user_id=users[key],
                    status=status,
                    name="x",
                    phone=f"+86199066800{key[-2:]}",
                )
            )
    rows = [
        ("nope-01", "19906680001", "yes", ""),  # 1: unknown course
        ("ys-past-01", "19906680002", "yes", ""),  # 2: not signed up for it
        ("ys-past-01", "19906680012", "yes", ""),  # 3: on the waiting list
        ("ys-past-01", "19906680013", "yes", ""),  # 4: cancelled
        ("ys-past-01", "19906680001", "yes", f"{start - dt.timedelta(days=1)}"),  # 5: too early
        ("ys-past-01", "12345", "yes", ""),  # 6: not a phone number
        ("ys-past-01", "19906680005", "maybe", ""),  # 7: not yes or no
        ("ys-past-01", "19906680005", "yes", "2026-02-30"),  # 8: no such day
        ("ys-past-01", "19906680005", "no", f"{start}"),  # 9: completed but absent
        ("ys-past-01", "19906680005", "", ""),  # 10: nothing to mark
        ("ys-past-01", "19906680008", "yes", ""),  # 11: fine
        ("ys-past-01", "+8619906680008", "yes", ""),  # 12: the same person again
    ]
    text = "course,phone,attended,completed_on\n" + "".join(",".join(r) + "\n" for r in rows)
    (tmp_path / "wrong.csv").write_text(text, encoding="utf-8")
    before = await counts(demo)
    with pytest.raises(TrainingRowsError) as caught:
        await import_trainings(demo.db, tmp_path / "wrong.csv")
    problems = [str(p) for p in caught.value.problems]
    expected = [
        "row 1 (line 2), course nope-01, field course: unknown course 'nope-01'",
        "row 2 (line 3), course ys-past-01, field phone: no one signed up with 199****0002",
        "row 3 (line 4), course ys-past-01, field phone: the sign-up with 199****0012 is on "
        "the waiting list",
        "row 4 (line 5), course ys-past-01, field phone: the sign-up with 199****0013 was "
        "cancelled",
        "row 5 (line 6), course ys-past-01, field completed_on: completed on "
        f"{start - dt.timedelta(days=1)}, before the course started ({start})",
        "row 6 (line 7), course ys-past-01, field phone: '12345' is not a mobile phone number",
        "row 7 (line 8), course ys-past-01, field attended: 'maybe': write yes or no",
        "row 8 (line 9), course ys-past-01, field completed_on: invalid date '2026-02-30'",
        "row 9 (line 10), course ys-past-01, field attended: completed on",
        "row 10 (line 11), course ys-past-01, field attended: nothing to mark",
        "row 12 (line 13), course ys-past-01, field phone: the same person and course as row 11",
    ]
    assert len(problems) == len(expected), problems
    for problem, start_of in zip(problems, expected, strict=True):
        assert problem.startswith(f"{tmp_path / 'wrong.csv'}: {start_of}"), problem
    assert "19906680002" not in " ".join(problems)  # phone numbers shown masked
    assert await counts(demo) == before


async def test_a_gbk_csv_with_chinese_headers_and_dates(demo, tmp_path):
    _start, ends = course_days("yy-past-01")
    text = (
        "课程,手机号码,出勤,结业日期,姓名\r\n"
        f"yy-past-01,19906680010,是,{ends.year}年{ends.month}月{ends.day}日,莫小红\r\n"
    )
    (tmp_path / "gbk.csv").write_bytes(text.encode("gbk"))  # as Excel saves it in China
    done = await import_trainings(demo.db, tmp_path / "gbk.csv")
    assert (done.rows, done.completed) == (1, 1)
    assert (await marks(demo))[("demo:worker-10", "yy-past-01")] == (True, ends, "import:gbk.csv")


async def test_a_sign_up_made_in_the_chat_is_found_by_its_phone_however_written(
    app, chat, tmp_path
):
    ids = await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理", starts=10)])
    me = chat("tg:51")
    await me.say(f"/start course_{ids['ys1']}")
    await me.tap("Sign up")
    await me.tap("I agree")
    for answer in ("李秀梅", "138 0013 8000", "茂南", "38"):
        await me.say(answer)
    await me.tap("Confirm sign-up")
    (tmp_path / "ys.yaml").write_text(
        "trainings:\n  - {course: ys1, phone: '+86 138-0013-8000', attended: yes}\n",
        encoding="utf-8",
    )
    done = await import_trainings(app.db, tmp_path / "ys.yaml")
    assert (done.rows, done.attended) == (1, 1)
    assert (await marks(app))[("tg:51", "ys1")] == (True, None, "import:ys.yaml")
    # she did not come after all: `no` clears the mark; a completion before the start
    # of a course still to come is refused
    (tmp_path / "ys.json").write_text(
        '[{"course": "ys1", "phone": "13800138000", "attended": "否"}]', encoding="utf-8"
    )
    done = await import_trainings(app.db, tmp_path / "ys.json")
    assert (done.rows, done.absent) == (1, 1)
    assert (await marks(app))[("tg:51", "ys1")] == (False, None, "import:ys.json")
    (tmp_path / "early.csv").write_text(
        f"course,phone,completed_on\nys1,13800138000,{TODAY}\n", encoding="utf-8"
    )
    with pytest.raises(TrainingRowsError) as caught:
        await import_trainings(app.db, tmp_path / "early.csv")
    assert "before the course started" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("t.txt", b"course,phone\n", "a trainings file is .csv"),
        ("t.csv", b"course,phone,colour\n", "unknown column 'colour'"),
        ("t.csv", b"course,attended\n", "no phone column"),
        ("t.csv", b"course,phone,name\n", "no attended or completed_on column"),
        ("t.yaml", b"- &a {course: x}\n- *a\n", "YAML anchors and aliases"),
        ("t.csv", b"\xff\xfe\x00\x00" * 3, "not UTF-8 or GBK text"),
    ],
)
async def test_a_file_it_cannot_read_is_refused_in_one_line(app, tmp_path, name, content, why):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(DataFileError) as caught:
        await import_trainings(app.db, tmp_path / name)
    assert why in str(caught.value) and str(caught.value).startswith(str(tmp_path / name))


async def test_an_empty_file_says_it_marked_nothing(tmp_path):
    (tmp_path / "empty.csv").write_text("course,phone,attended,completed_on\n", encoding="utf-8")
    done = run_cli(tmp_path, "import", "trainings", "empty.csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "empty.csv: nothing to import (the file holds no rows)"
    usage = run_cli(tmp_path, "import", "trainings")
    assert usage.returncode == 2 and "needs the FILE" in usage.stderr
