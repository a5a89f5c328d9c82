"""Exports staff open in Excel: the right rows, no cell that Excel would run as a formula,
admins only from the command line, and every export in the audit log."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.app import import_trainings, seed_demo
from storage.exports import ExportRefused, build, render, to_csv, to_xlsx
from storage.models import AuditEntry, JobFair, TrainingBase, WorkerProfile
from storage.repositories import Repos
from storage.workers import show_code
from tests.catalogue import course, load
from tests.chat import Chat
from tests.conftest import load_user
from tests.test_fairs import fair

EVIL_TITLE = '=HYPERLINK("http://evil.example","点我")'
# names people can type at sign-up (two letters or more, no digits): each would start a
# formula in Excel, WPS or LibreOffice if written as it is
EVIL_NAMES = ('=HYPERLINK("a","b")', "@SUM(A)", "+李秀梅", "-陈美玲")


async def sign_up(app, user: str, course_id: int, name: str, phone: str) -> None:
    """From the course's link: the sign-up form, her answers typed, then confirmed."""
    answers = {"ASK_NAME": name, "ASK_PHONE": phone, "ASK_COUNTY": "茂南", "ASK_AGE": "38"}
    me = Chat(app.dispatcher, user, "en")
    await me.say(f"/start course_{course_id}")
    await me.tap(next(x for x in me.labels if x.startswith(("✍", "⏳"))))  # sign up, or wait
    while (step := (await load_user(app, user)).state) != "CONFIRM_SIGNUP":
        if step in answers:
            await me.say(answers[step])
        else:  # I agree; a free group
            await me.press(me.replies[-1].buttons[0][0].data)
    await me.press(me.button("✅").data)


async def register(app, user: str, fair_id: int, name: str, phone: str) -> None:
    me = Chat(app.dispatcher, user, "en")
    await me.say(f"/start fair_{fair_id}")
    await me.tap("Register to attend")
    await me.press(me.replies[-1].buttons[0][0].data)  # I agree
    await me.say(name)
    await me.say(phone)
    await me.tap("✅ Register")


@pytest.fixture
async def lists(app) -> dict[str, int]:
    """A full course (one seat, one waiting) with a title written as a formula, a second
    course, a fair; people whose names would be formulas."""
    ids = await load(
        app,
        [
            course("a", EVIL_TITLE, "月嫂/母婴护理", seats=1),
            course("b", "+1 育婴班", "育婴员", base="xy"),
        ],
        [fair("f", "@SUM 招聘会", 6, "茂南", [("好心", "月嫂", "深圳", 1, 2, True)])],
    )
    await sign_up(app, "tg:801", ids["a"], EVIL_NAMES[0], "13800138001")
    await sign_up(app, "tg:802", ids["a"], EVIL_NAMES[1], "13800138002")  # waits
    await sign_up(app, "tg:803", ids["b"], EVIL_NAMES[2], "+852 9123 4567")
    async with app.db.sessions() as s:
        ids["f"] = await s.scalar(select(JobFair.id).where(JobFair.code == "f"))
    await register(app, "tg:804", ids["f"], EVIL_NAMES[3], "13900139000")
    return ids


def sheet(content: bytes) -> list[list[Any]]:
    """The rows of an .xlsx, as Excel opens it; no cell may be a formula or read as one."""
    book = load_workbook(io.BytesIO(content))
    rows = []
    for row in book.worksheets[0].iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.value
            if isinstance(cell.value, str):
                assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r")), cell.value
        rows.append([cell.value for cell in row])
    return rows


def table(content: bytes) -> list[list[str]]:
    """The rows of a CSV as Excel reads it (UTF-8 with the byte-order mark); only a
    number (`-5`) may start with a sign."""
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    for row in rows:
        for value in row:
            if not re.fullmatch(r"-?\d+(\.\d+)?", value):
                assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    return rows


async def export(app, what: str, fmt: str = "xlsx", **scope: Any) -> bytes:
    async with app.db.sessions() as s:
        return render(await build(s, what, **scope), fmt)


async def test_each_list_holds_its_rows_and_no_cell_is_a_formula(app, lists):
    signups = sheet(await export(app, "signups", course="a"))
    assert signups[0] == [
        "course",
        "course_title",
        "name",
        "phone",
        "county",
        "age",
        "free_group",
        "signed_up_at",
    ]
    assert [row[:7] for row in signups[1:]] == [
        ["a", "'" + EVIL_TITLE, "'" + EVIL_NAMES[0], "13800138001", "茂南", 38, None]
    ]
    assert isinstance(signups[1][7], dt.datetime)  # a date cell, local time

    waiting = sheet(await export(app, "waiting", course="a"))
    assert [row[:5] for row in waiting[1:]] == [
        ["a", "'" + EVIL_TITLE, 1, "'" + EVIL_NAMES[1], "13800138002"]
    ]

    every = sheet(await export(app, "signups"))  # every course, soonest first
    assert [(row[0], row[1], row[2], row[3]) for row in every[1:]] == [
        ("a", "'" + EVIL_TITLE, "'" + EVIL_NAMES[0], "13800138001"),
        ("b", "'+1 育婴班", "'" + EVIL_NAMES[2], "'+85291234567"),
    ]

    fairs = sheet(await export(app, "fairs", fair="f"))
    assert fairs[0] == ["fair", "fair_title", "starts_at", "name", "phone", "registered_at"]
    assert [row[:2] + row[3:5] for row in fairs[1:]] == [
        ["f", "'@SUM 招聘会", "'" + EVIL_NAMES[3], "13900139000"]
    ]

    attendance = sheet(await export(app, "attendance", course="a"))
    assert attendance == [
        ["course", "name", "phone", "attended", "completed_on"],
        ["a", "'" + EVIL_NAMES[0], "13800138001", None, None],
    ]


async def test_the_csv_holds_the_same_rows_with_the_mark_excel_needs(app, lists):
    rows = table(await export(app, "signups", "csv"))
    assert rows[0][:4] == ["course", "course_title", "name", "phone"]
    assert [row[:4] for row in rows[1:]] == [
        ["a", "'" + EVIL_TITLE, "'" + EVIL_NAMES[0], "13800138001"],
        ["b", "'+1 育婴班", "'" + EVIL_NAMES[2], "'+85291234567"],
    ]
    assert rows[1][5] == "38" and dt.datetime.fromisoformat(rows[1][7])


def test_the_writers_neutralise_every_formula_start():
    headers = ["text", "number", "day"]
    rows = [
        ["=1+1", 3, dt.date(2026, 12, 9)],
        ["+86 138", -5, None],
        ["-2", 2.5, dt.datetime(2026, 12, 9, 9, 30)],
        ["@SUM(A1:A9)", 0, None],
        ["\t=cmd", 1, None],
        ["\r=cmd", 1, None],
        ["plain 月嫂", 1, None],
    ]
    cells = sheet(to_xlsx(rows, headers))
    assert [row[0] for row in cells[1:]] == [
        "'=1+1",
        "'+86 138",
        "'-2",
        "'@SUM(A1:A9)",
        "'\t=cmd",
        "'\r=cmd",
        "plain 月嫂",
    ]
    assert [row[1] for row in cells[1:3]] == [3, -5]  # numbers stay numbers
    assert cells[1][2] == dt.datetime(2026, 12, 9)  # dates stay dates
    text = table(to_csv(rows, headers))
    assert [row[0] for row in text[1:]][:4] == ["'=1+1", "'+86 138", "'-2", "'@SUM(A1:A9)"]
    assert text[1][1:] == ["3", "2026-12-09"] and text[2][1] == "-5"


async def test_the_attendance_export_filled_in_imports_back(app, lists, tmp_path):
    rows = table(await export(app, "attendance", "csv", course="a"))
    rows[1][3] = "yes"  # staff fill it in
    path = tmp_path / "attendance.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        csv.writer(stream).writerows(rows)
    counts = await import_trainings(app.db, path)
    assert (counts.rows, counts.attended) == (1, 1)
    filled = sheet(await export(app, "attendance", course="a"))
    assert filled[1][3] == "yes"


async def test_base_staff_export_only_their_own_base(app, lists):
    async with app.db.sessions() as s:
        bases = {b.code: b.id for b in await s.scalars(select(TrainingBase))}
        mine = await build(s, "signups", base_id=bases["mm"])
        assert [row[0] for row in mine.rows] == ["a"]
        for what, scope in (("signups", {"course": "b"}), ("fairs", {}), ("workers", {})):
            with pytest.raises(ExportRefused) as refused:
                await build(s, what, base_id=bases["mm"], **scope)
            assert refused.value.reason == "not_your_base"
        with pytest.raises(ExportRefused) as refused:
            await build(s, "waiting", course="nowhere")
        assert refused.value.reason == "unknown_course"


async def test_the_verified_workers_and_no_one_else(app):
    await seed_demo(app.db, app.settings)
    async with app.db.sessions() as s:
        verified = {
            p.name: p
            for p in await s.scalars(
                select(WorkerProfile).where(WorkerProfile.status == "verified")
            )
        }
        others = await s.scalar(
            select(func.count(WorkerProfile.id)).where(WorkerProfile.status != "verified")
        )
    assert verified and others
    rows = sheet(await export(app, "workers"))
    assert rows[0][:5] == ["credential", "name", "phone", "county", "kinds"]
    by_name = {row[1]: row for row in rows[1:]}
    assert set(by_name) == set(verified)
    some = next(iter(verified.values()))
    assert by_name[some.name][0] == show_code(some.code)
    assert all(row[12] in ("yes", "no") for row in rows[1:])


# -- the command line ---------------------------------------------------------------------


def haoxin(db_path: Path, folder: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    environ = {
        **os.environ,
        "HAOXIN_DATABASE_URL": f"sqlite+aiosqlite:///{db_path}",
        "HAOXIN_ADMIN_IDS": "console:admin,tg:900",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        env=environ,
        cwd=folder,
        timeout=120,
    )


async def audit(app) -> list[AuditEntry]:
    async with app.db.sessions() as s:
        return list(
            await s.scalars(
                select(AuditEntry)
                .where(AuditEntry.subject.like("export:%"))
                .order_by(AuditEntry.id)
            )
        )


async def test_a_non_admin_is_refused_and_nothing_is_written(app, lists, db_path, tmp_path):
    done = haoxin(
        db_path,
        tmp_path,
        "export",
        "signups",
        "--course",
        "a",
        "--staff",
        "tg:1",
        "--out",
        "x.xlsx",
    )
    assert done.returncode == 1 and done.stdout == b""
    assert done.stderr.decode() == (
        "haoxin export: tg:1 is neither an admin (HAOXIN_ADMIN_IDS) nor staff of a training "
        "base: exports hold personal data; nothing was written\n"
    )
    assert not (tmp_path / "x.xlsx").exists()
    assert await audit(app) == []
    usage = haoxin(db_path, tmp_path, "export", "signups")  # who is exporting?
    assert usage.returncode == 2 and b"--staff" in usage.stderr


async def test_a_bases_staff_exports_her_bases_course_at_the_terminal_only(
    app, lists, db_path, tmp_path
):
    async with app.db.sessions() as s, s.begin():
        base = await s.scalar(select(TrainingBase.id).where(TrainingBase.code == "mm"))
        Repos(s).users.new("console:mei", "zh").staff_base_id = base
    mine = haoxin(db_path, tmp_path, "export", "signups", "--course", "a", "--staff", "mei")
    assert mine.returncode == 0, mine.stderr
    assert [e.actor for e in await audit(app)] == ["console:mei"]
    other = haoxin(
        db_path, tmp_path, "export", "signups", "--course", "b", "--staff", "mei", "--out", "b.csv"
    )
    assert other.returncode == 1 and b"not of console:mei's training base" in other.stderr
    assert not (tmp_path / "b.csv").exists()
    fairs = haoxin(db_path, tmp_path, "export", "fairs", "--staff", "mei", "--out", "f.csv")
    assert fairs.returncode == 1 and not (tmp_path / "f.csv").exists()
    assert len(await audit(app)) == 1


async def test_an_admin_export_is_written_and_logged(app, lists, db_path, tmp_path):
    done = haoxin(db_path, tmp_path, "export", "signups", "--course", "a", "--staff", "admin")
    assert done.returncode == 0, done.stderr
    name = f"signups-a-{dt.date.today().isoformat()}.xlsx"
    assert done.stdout.decode() == f"{name}: 1 row\n"
    path = tmp_path / name
    assert path.stat().st_mode & 0o077 == 0  # personal data: its owner's alone
    assert sheet(path.read_bytes())[1][2] == "'" + EVIL_NAMES[0]

    done = haoxin(
        db_path, tmp_path, "export", "fairs", "--staff", "tg:900", "--format", "csv", "--out", "-"
    )
    assert done.returncode == 0 and done.stderr.decode() == "standard output: 1 row\n"
    assert table(done.stdout)[1][3] == "'" + EVIL_NAMES[3]

    refused = haoxin(db_path, tmp_path, "export", "waiting", "--course", "zz", "--staff", "admin")
    assert refused.returncode == 1 and b"no course 'zz'" in refused.stderr

    entries = await audit(app)
    assert [(e.subject, e.actor, e.action, e.after) for e in entries] == [
        ("export:signups", "console:admin", "export", {"rows": 1, "format": "xlsx", "course": "a"}),
        ("export:fairs", "tg:900", "export", {"rows": 1, "format": "csv"}),
    ]
