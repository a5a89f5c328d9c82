"""The terminal chat, the demo data and its importer, migrations and configuration."""

from __future__ import annotations

import datetime as dt
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from bot.app import create_app, import_file, seed_demo
from bot.config import Settings
from storage.importer import DEMO_FILE, DataFileError
from storage.models import Course, JobFair, TrainingBase
from tests.conftest import make_settings

ROOT = Path(__file__).parent.parent


def run_chat(tmp_path: Path, stdin: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "HAOXIN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/c.db", **env}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environ,
        cwd=tmp_path,
        timeout=120,
    )


def read_until(proc: subprocess.Popen, marker: str, timeout: float = 60) -> str:
    """What the chat printed up to and including the line with `marker`. Fails (and
    kills the chat) if the marker does not come within `timeout` seconds or the chat
    ends first: never waits forever."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:
            lines.put(line)
        lines.put("")  # the end of its output

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    seen = ""
    while marker not in seen:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            proc.kill()
            pytest.fail(f"no {marker!r} within {timeout}s; the chat printed:\n{seen}")
        if not line:
            proc.kill()
            pytest.fail(f"the chat ended before {marker!r}; it printed:\n{seen}")
        seen += line
    return seen


def test_piped_session_shows_greeting_then_the_job_seekers_menu(tmp_path):
    done = run_chat(tmp_path, "/start\n1\n", "--demo", "--lang", "en")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Hello! I am Haoxin" in out
    assert "[1] Continue ▶" in out and "[4] English" in out
    menu = out.split("> 1")[-1]  # what "Continue" led to: the job seeker's menu at once
    assert "Main menu: training and work" in menu
    assert "[1] Maternity nurse (yuesao) (2)" in menu and "📚 Find a free course" in menu
    assert "🔄 Change what I'm here for" in menu
    assert "Your privacy" not in out and "I want training or work" not in out  # not asked


def test_the_conversation_continues_in_the_next_session(tmp_path):
    run_chat(tmp_path, "/start\n1\n", "--lang", "zh-CN")  # greeting, continue: the menu
    done = run_chat(tmp_path, "5\n2\n")  # "Change what I'm here for", "I need a helper"
    assert done.returncode == 0, done.stderr
    assert "主菜单：找家政服务" in done.stdout


def test_a_killed_chat_resumes_where_the_person_was(tmp_path):
    environ = {**os.environ, "HAOXIN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/k.db"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "chat", "--demo", "--lang", "en"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=environ,
        cwd=tmp_path,
    )
    try:
        proc.stdin.write("/start course_1\n1\n")  # a poster's link, then "Sign up"
        proc.stdin.flush()
        seen = read_until(proc, "Do you agree?")  # the privacy question is on screen
        assert "✍ Sign up" in seen
    finally:
        proc.kill()  # SIGKILL: no clean shutdown
        proc.wait(timeout=30)
    done = run_chat(
        tmp_path.joinpath("."), "1\n", HAOXIN_DATABASE_URL=environ["HAOXIN_DATABASE_URL"]
    )  # "I agree", in a new session: on to the question that needed it
    assert "what is your name?" in done.stdout, done.stdout


def test_admin_in_the_terminal_gets_the_staff_menu(tmp_path):
    done = run_chat(
        tmp_path,
        "/start\n1\n",
        "--user",
        "admin",
        "--lang",
        "en",
        HAOXIN_ADMIN_IDS="tg:1, console:admin",
    )
    assert "Programme staff menu" in done.stdout
    assert "Your privacy" not in done.stdout


def test_empty_input_ends_cleanly(tmp_path):
    done = run_chat(tmp_path, "")
    assert done.returncode == 0 and done.stdout == ""


async def test_demo_data_is_seeded_once_and_stays_upcoming(db_path):
    app = await create_app(make_settings(db_path))
    first = await seed_demo(app.db, app.settings)
    assert first["training_bases"] == 5 and first["courses"] >= 8 and first["job_fairs"] >= 3
    assert first["workers"] >= 5 and first["households"] >= 3
    assert await seed_demo(app.db, app.settings) is None  # already there
    await import_file(app.db, DEMO_FILE)  # importing again updates, never duplicates
    async with app.db.sessions() as s:
        assert await s.scalar(select(func.count(TrainingBase.id))) == 5
        course = await s.scalar(select(Course).where(Course.code == "jg-muying-01"))
        fair = await s.scalar(select(JobFair).order_by(JobFair.starts_at))
    assert course.fee_fen == 0 and "rural_women" in course.free_for
    assert course.starts_on > dt.date.today()
    assert fair.starts_at > dt.datetime.now()
    assert any(job["destination"] == "深圳" for e in fair.employers for job in e["jobs"])
    await app.close()


async def test_a_bad_data_file_is_refused_naming_the_row(db_path, tmp_path):
    data = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
    data["courses"][1]["seats"] = -3
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    app = await create_app(make_settings(db_path))
    with pytest.raises(DataFileError) as err:
        await import_file(app.db, bad)
    assert "courses row 2 (code jg-muying-01), field seats" in str(err.value)
    async with app.db.sessions() as s:
        assert await s.scalar(select(func.count(Course.id))) == 0
    await app.close()


def test_db_upgrade_creates_every_table_of_the_models(tmp_path):
    environ = {**os.environ, "HAOXIN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/u.db"}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        capture_output=True,
        text=True,
        env=environ,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "u.db") as conn:
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
        mode = conn.execute("pragma journal_mode").fetchone()[0]
    from storage.models import Base

    assert set(Base.metadata.tables) | {"alembic_version"} == tables
    assert mode == "wal"


def test_the_migrations_match_the_models(tmp_path):
    """A model change without a migration fails here (autogenerate finds a difference)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    from storage.db import _upgrade_sync
    from storage.models import Base

    engine = create_engine(f"sqlite:///{tmp_path}/m.db")
    with engine.begin() as conn:
        _upgrade_sync(conn)
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_settings_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HAOXIN_ADMIN_IDS", "tg:123, console:admin ,")
    monkeypatch.setenv("HAOXIN_DATABASE_URL", "sqlite+aiosqlite:///x.db")
    s = Settings()
    assert s.admin_ids == {"tg:123", "console:admin"}
    assert s.is_admin("console:admin") and not s.is_admin("console:local")
    assert s.database_url.endswith("x.db")
    (tmp_path / ".env").write_text("HAOXIN_BATCH_SIZE=8\n")
    monkeypatch.delenv("HAOXIN_ADMIN_IDS")
    assert Settings().batch_size == 8 and Settings().admin_ids == frozenset()


async def test_messages_sent_later_reach_the_person_at_the_terminal(app):
    import io

    from bot.console import ConsoleSender
    from bot.notifier import Notifier
    from handlers.replies import Button, Reply
    from storage.models import Outbox
    from storage.repositories import Repos

    async with app.db.sessions() as s, s.begin():
        outbox = Repos(s).outbox
        outbox.add("console:mei", [Reply("明天开课", [[Button("好", "00|ok")]]).to_dict()])
        outbox.add("console:other", [Reply("not for this terminal").to_dict()])
    out = io.StringIO()
    assert await Notifier(app.db, ConsoleSender(out), user="console:mei").run_once() == 1
    assert "🔔 明天开课" in out.getvalue() and "[1] 好" in out.getvalue()
    assert "not for this terminal" not in out.getvalue()
    async with app.db.sessions() as s:
        rows = {r.user_key: r.status for r in await s.scalars(select(Outbox))}
    assert rows == {"console:mei": "sent", "console:other": "pending"}


def test_the_terminal_shows_one_emoji_and_what_to_type_for_contact_and_location():
    from bot.console import render, to_event
    from handlers.replies import Reply

    contact = render(Reply("Your number?", request_contact="📱 Share my phone number"))
    assert contact.count("📱") == 1 and "/phone 13800000000" in contact
    place = render(Reply("Where are you?", request_location="📍 Share my location"))
    assert place.count("📍") == 1 and "/location 21.66 110.93" in place
    event = to_event("/location 21.6629, 110.9253\n", "console:local", "en")
    assert (event.location.latitude, event.location.longitude) == (21.6629, 110.9253)
    assert to_event("/location somewhere", "console:local", "en").text == "/location somewhere"


def test_nearest_to_me_works_at_the_terminal(tmp_path):
    steps = [
        "/start",
        "1",
        "Find a free course",
        "Nearest to me",
        "1",  # her location is personal: the privacy question first, "I agree"
        "/location 21.66 110.92",
    ]
    done = run_chat(tmp_path, "\n".join(steps) + "\n", "--demo", "--lang", "en")
    assert done.returncode == 0, done.stderr
    after = done.stdout.split("/location 21.66 110.93")[-1]  # what came after her location
    assert "茂名市好心家政" in after or "好心月嫂" in after, after[-1500:]
