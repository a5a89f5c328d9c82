"""`haoxin import` on files that are broken, hostile or empty: one clear line, never a crash.

A 462-byte YAML file of nested aliases once took 4.9 s and 551 MB and wrote an 80 MB row;
now such a file is refused before anything expands. Every refusal is one line on stderr
naming the file, the row and the field, exit status 1, and nothing written to the database.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from sqlalchemy import select

import storage.importer as importer
from bot.app import import_file
from storage.importer import read_file

CATALOGUE = ("training_bases", "courses", "job_fairs", "demo_workers", "demo_households")
MAX_BYTES, MAX_ROWS = 1024 * 1024, 5000  # storage.importer's caps, as the messages say
BASE = {"code": "mm", "name": "茂名好心家政培训学校", "county": "茂南"}


def course(code: str, **values: Any) -> dict[str, Any]:
    return {
        "code": code,
        "title": "好心月嫂初级班",
        "track": "月嫂/母婴护理",
        "base": "mm",
        "starts_on": "today+10",
        "ends_on": "today+20",
        "seats": 20,
        **values,
    }


def write_yaml(folder: Path, name: str, data: Any) -> str:
    (folder / name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return name


def laughs(levels: int) -> str:
    """The issue's "billion laughs": each level is nine aliases of the one before."""
    lines = ["households:", "  - code: h1", "    name: laughs", "    need:"]
    lines.append('      a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]')
    for before, level in zip("abcdefgh", "bcdefghi"[: levels - 1], strict=False):
        lines.append(f"      {level}: &{level} [{','.join([f'*{before}'] * 9)}]")
    return "\n".join(lines) + "\n"


def run_import(folder: Path, name: str) -> subprocess.CompletedProcess[str]:
    """The real command, on a real database file; cwd is `folder`, so no `.env` is read."""
    environ = {**os.environ, "HAOXIN_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/h.db"}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "import", name],
        capture_output=True,
        text=True,
        env=environ,
        cwd=folder,
        timeout=120,
    )


def catalogue_rows(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as con:
        return sum(
            con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in CATALOGUE
        )


# -- each case writes a file into the folder and returns its name -------------------------


def missing(folder: Path) -> str:
    return "nowhere.yaml"


def directory(folder: Path) -> str:
    (folder / "folder.yaml").mkdir()
    return "folder.yaml"


def broken_yaml(folder: Path) -> str:
    text = "training_bases:\n  - code: mm\n    name: 茂名\ncourses: [unclosed\n"
    (folder / "broken.yaml").write_text(text, encoding="utf-8")
    return "broken.yaml"


def broken_json(folder: Path) -> str:
    text = '{\n  "training_bases": [{"code": "mm", "name": "茂名"}],\n  "courses": [,]\n}\n'
    (folder / "broken.json").write_text(text, encoding="utf-8")
    return "broken.json"


def alias_bomb(folder: Path) -> str:
    (folder / "laughs.yaml").write_text(laughs(6), encoding="utf-8")
    return "laughs.yaml"


def one_alias(folder: Path) -> str:
    text = (
        "training_bases:\n"
        "  - {code: mm, name: 茂名}\n"
        "courses:\n"
        "  - &first {code: c1, title: 月嫂班, track: 月嫂, base: mm, starts_on: today+3,"
        " ends_on: today+9, seats: 5}\n"
        "  - <<: *first\n"
        "    code: c2\n"
    )
    (folder / "alias.yaml").write_text(text, encoding="utf-8")
    return "alias.yaml"


def oversize(folder: Path) -> str:
    text = yaml.safe_dump({"training_bases": [BASE]}, allow_unicode=True)
    text += "#" * (MAX_BYTES + 1 - len(text.encode())) + "\n"
    (folder / "big.yaml").write_text(text, encoding="utf-8")
    return "big.yaml"


def too_many_rows(folder: Path) -> str:
    rows = "".join(f"  - {{code: b{n}, name: 基地{n}}}\n" for n in range(MAX_ROWS + 1))
    (folder / "many.yaml").write_text("training_bases:\n" + rows, encoding="utf-8")
    return "many.yaml"


def bad_date(folder: Path) -> str:
    courses = [course("c0"), course("ys1", starts_on="tomorrow-ish")]
    return write_yaml(folder, "courses.yaml", {"training_bases": [BASE], "courses": courses})


def unknown_base(folder: Path) -> str:
    courses = [course("c1", base="nowhere")]
    return write_yaml(folder, "base.yaml", {"training_bases": [BASE], "courses": courses})


def many_values(folder: Path) -> str:
    text = "courses: [" + "{a: []}, " * (MAX_BYTES // 9 - 2) + "{a: []}]\n"
    (folder / "values.yaml").write_text(text, encoding="utf-8")
    return "values.yaml"


def duplicate_code(folder: Path) -> str:
    courses = [course("c1"), course("c2"), course("c1", title="另一个班")]
    return write_yaml(folder, "twice.yaml", {"training_bases": [BASE], "courses": courses})


REFUSED: list[tuple[Callable[[Path], str], str]] = [
    (missing, "nowhere.yaml: no such file"),
    (directory, "folder.yaml: is a directory, not a data file"),
    (broken_yaml, "broken.yaml: line 5, column 1: broken YAML: "),
    (broken_json, "broken.json: line 3, column 15: broken JSON: Expecting value"),
    (alias_bomb, "laughs.yaml: line 5, column 10: YAML anchors and aliases"),
    (one_alias, "alias.yaml: line 4, column 5: YAML anchors and aliases"),
    (oversize, "big.yaml: larger than 1024 KiB"),
    (too_many_rows, "many.yaml: 5001 rows, more than the 5000 one file may hold"),
    (many_values, "values.yaml: line 1, column 600000: more than 200,000 values"),
    (
        bad_date,
        "courses.yaml: courses row 2 (code ys1), field starts_on: invalid date 'tomorrow-ish'",
    ),
    (
        unknown_base,
        "base.yaml: courses row 1 (code c1), field base: unknown training base 'nowhere'",
    ),
    (
        duplicate_code,
        "twice.yaml: courses row 3 (code c1), field code: the same code as courses row 1",
    ),
]


@pytest.mark.parametrize(("make", "line"), REFUSED, ids=[make.__name__ for make, _ in REFUSED])
def test_a_refused_file_gets_one_line_exit_1_and_writes_nothing(tmp_path, make, line):
    done = run_import(tmp_path, make(tmp_path))
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr.count("\n") == 1 and done.stderr.endswith("\n"), done.stderr
    assert done.stderr.startswith(f"haoxin import: {line}"), done.stderr
    assert done.stdout == ""
    assert catalogue_rows(tmp_path / "h.db") == 0  # all or nothing


EMPTY = {
    "zero-bytes.yaml": "",
    "comments.yaml": "# the courses of next spring, to come\n\n",
    "braces.json": "{}",
    "lists.yaml": "training_bases: []\ncourses:\njob_fairs: []\n",
}


@pytest.mark.parametrize("name", EMPTY)
def test_an_empty_file_says_it_imported_nothing(tmp_path, name):
    (tmp_path / name).write_text(EMPTY[name], encoding="utf-8")
    done = run_import(tmp_path, name)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert done.stdout == f"{name}: nothing to import (the file holds no rows)\n"


def test_a_good_file_still_imports(tmp_path):
    name = write_yaml(tmp_path, "good.yaml", {"training_bases": [BASE], "courses": [course("c1")]})
    done = run_import(tmp_path, name)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert done.stdout.startswith("training_bases: 1, courses: 1, job_fairs: 0"), done.stdout
    with sqlite3.connect(tmp_path / "h.db") as con:
        assert con.execute("SELECT code, starts_on FROM courses").fetchall() == [
            ("c1", (dt.date.today() + dt.timedelta(days=10)).isoformat())
        ]


# -- the reader itself, in process ---------------------------------------------------------


def test_the_billion_laughs_of_the_issue_is_refused_at_once_and_small(tmp_path):
    bomb = tmp_path / "laughs.yaml"
    bomb.write_text(laughs(9), encoding="utf-8")  # 9**9 "lol"s once expanded
    assert len(bomb.read_bytes()) < 600
    tracemalloc.start()  # memory, not time: tests never assert wall-clock times
    try:
        with pytest.raises(importer.DataFileError) as refused:
            read_file(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000, peak
    assert refused.value.file == str(bomb) and refused.value.where == "line 5, column 10"
    assert "anchors and aliases" in refused.value.why


@pytest.mark.parametrize("loader", ["_PyLoader", "_LOADER"])
def test_both_yaml_readers_refuse_an_anchor_before_the_alias(loader):
    text = "x: &x [1, 2]\ny: *x\n"
    with pytest.raises(importer.DataFileError) as refused:
        yaml.load(text, Loader=getattr(importer, loader))
    assert refused.value.where == "line 1, column 4"


def fair(**values: Any) -> dict[str, Any]:
    return {"code": "f1", "title": "招聘会", "starts_at": "today+5 09:00", **values}


LONG_EMPLOYER = {
    "name": "好" * 120,
    "jobs": [{"category": "月" * 40, "destination": "深" * 40}] * 50,
}


@pytest.mark.parametrize(
    ("data", "where", "why"),
    [
        ([BASE], "", "the file must hold sections"),
        ({"bases": [BASE]}, "", "unknown section 'bases'"),
        ({"courses": [course("c1", colour="red")]}, "courses row 1 (code c1), field colour", ""),
        (
            {"courses": [course("c1", title="长" * 5000)]},
            "courses row 1 (code c1), field title",
            "at most 120 characters",
        ),
        (
            {"courses": [course("c1", free_for=["x"] * 1000)]},
            "courses row 1 (code c1), field free_for",
            "at most 50 items",
        ),
        (  # employers have a schema now: a long file of them, each within its limits
            {"job_fairs": [fair(employers=[LONG_EMPLOYER] * 20)]},
            "job_fairs row 1 (code f1), field employers",
            "more than the 100000 allowed",
        ),
        (
            {"job_fairs": [fair(starts_at="today+1 25:00")]},
            "job_fairs row 1 (code f1), field starts_at",
            "invalid date and time 'today+1 25:00'",
        ),
        (
            {"courses": [course("c1", seats=-3)]},
            "courses row 1 (code c1), field seats",
            "greater than or equal to 0, not -3",
        ),
        (
            {"courses": [{"title": "无码班"}]},
            "courses row 1, field code",
            "missing; it is required (and 5 more problems)",
        ),
        (
            {"courses": [course("c1", starts_on="today+3", ends_on="today+1")]},
            "courses row 1 (code c1), field ends_on",
            "ends",
        ),
        (
            {"courses": [course("c1", starts_on="today+3", signup_closes_on="today+9")]},
            "courses row 1 (code c1), field signup_closes_on",
            "after the course starts",
        ),
        (
            {"job_fairs": [fair(ends_at="today+4 12:00")]},
            "job_fairs row 1 (code f1), field ends_at",
            "before it starts",
        ),
    ],
)
def test_the_reader_names_the_row_and_the_field(tmp_path, data, where, why):
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(importer.DataFileError) as refused:
        read_file(path)
    assert (refused.value.file, refused.value.where) == (str(path), where)
    assert why in refused.value.why and "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("value", "why"),
    [("!!timestamp soon", "not a timestamp"), ("9" * 5000, "unreadable value: Exceeds the limit")],
)
def test_a_value_yaml_cannot_read_names_its_line(tmp_path, value, why):
    path = tmp_path / "odd.yaml"
    path.write_text(f"workers:\n  - code: w1\n    birth_year: {value}\n", encoding="utf-8")
    with pytest.raises(importer.DataFileError) as refused:
        read_file(path)
    assert refused.value.where == "line 3, column 17" and refused.value.why.startswith(why)


@pytest.mark.parametrize("name", ["courses.xlsx", "courses.csv", "courses"])
def test_only_yaml_and_json_files_are_read(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04 a spreadsheet")
    with pytest.raises(importer.DataFileError) as refused:
        read_file(path)
    assert "only .yaml, .yml or .json" in str(refused.value)


def test_text_that_is_not_utf8_names_its_line(tmp_path):
    path = tmp_path / "gbk.yaml"
    path.write_bytes("training_bases:\n  - code: mm\n    name: 茂名\n".encode("gbk"))
    with pytest.raises(importer.DataFileError) as refused:
        read_file(path)
    assert str(refused.value) == f"{path}: line 3: not UTF-8 text; save it as UTF-8"


async def test_a_base_only_in_the_database_will_do_and_an_unknown_one_is_named(app, tmp_path):
    first = write_yaml(tmp_path, "bases.yaml", {"training_bases": [BASE]})
    await import_file(app.db, tmp_path / first)
    second = write_yaml(tmp_path, "courses.yaml", {"courses": [course("c1")]})
    assert (await import_file(app.db, tmp_path / second))["courses"] == 1
    third = write_yaml(tmp_path, "more.yaml", {"courses": [course("c2"), course("c3", base="zz")]})
    with pytest.raises(importer.DataFileError) as refused:
        await import_file(app.db, tmp_path / third)
    assert str(refused.value).startswith(
        f"{tmp_path / third}: courses row 2 (code c3), field base: unknown training base 'zz'"
    )
    assert catalogue_rows(tmp_path / "haoxin-test.db") == 2  # the base and c1; c2 was not kept


# -- 1. a file of very many tiny values is refused while it is read -----------------------

RSS = """
import resource, sys, time
import storage.importer as importer
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
try:
    importer.read_file(sys.argv[1])
    print("read", end=" ")
except importer.DataFileError as exc:
    print(exc.where.replace(" ", "_"), exc.why[:40].replace(" ", "_"), end=" ")
took = time.perf_counter() - started
print(took, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
"""


def read_measured(path: Path) -> tuple[str, str, float, float]:
    """`read_file` in a fresh Python: where, why, seconds and MB of peak memory it took."""
    done = subprocess.run(
        [sys.executable, "-c", RSS, str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    where, why, took, grew = done.stdout.split() if " " in done.stdout else ("", "", "0", "0")
    return where.replace("_", " "), why.replace("_", " "), float(took), float(grew)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("-\n" * (MAX_BYTES // 2), "line 200000, column 2"),  # a list of 524,288 nulls
        ("courses: [" + "{a: []}, " * (MAX_BYTES // 9 - 2) + "{a: []}]\n", "line 1, column 600000"),
    ],
    ids=["dashes", "tiny-rows"],
)
def test_a_mib_of_tiny_values_is_refused_as_it_is_read_quickly_and_small(tmp_path, text, where):
    """Before: all 350,000-524,000 values were read first, 6-8 s and 185-220 MB more."""
    path = tmp_path / "tiny.yaml"
    path.write_text(text, encoding="utf-8")
    assert len(path.read_bytes()) <= MAX_BYTES
    refused_where, why, _took, grew = read_measured(path)
    assert (refused_where, why) == (where, "more than 200,000 values (rows, fields a")
    assert grew < 130, grew  # measured: 60-75 MB (and 1.3-1.9 s, not asserted)


def test_the_demo_and_a_5000_row_file_still_read(tmp_path):
    assert len(read_file(importer.DEMO_FILE).courses) == 8
    courses = [course(f"c{n}", free_for=["rural_women", "unemployed"]) for n in range(MAX_ROWS - 1)]
    name = write_yaml(tmp_path, "big.yaml", {"training_bases": [BASE], "courses": courses})
    assert len((tmp_path / name).read_bytes()) > 700_000
    assert len(read_file(tmp_path / name).courses) == MAX_ROWS - 1


# -- 2. a fair's employers and jobs have fixed fields -------------------------------------


def job(**values: Any) -> dict[str, Any]:
    return {"category": "月嫂", "destination": "深圳", "pay_min": 9000, "pay_max": 12000, **values}


def employers(*jobs: Any, name: Any = "好心家政") -> list[Any]:
    return [{"name": "鹏城家政", "jobs": [job()]}, {"name": name, "jobs": [job(), *jobs]}]


@pytest.mark.parametrize(
    ("employers_", "field", "why"),
    [
        (employers(job(pay_min="abc")), "employers.2.jobs.2.pay_min", "should be a whole number"),
        (employers(job(pay_max=-5)), "employers.2.jobs.2.pay_max", "greater than or equal to 0"),
        (employers(job(pay_max=2_000_000)), "employers.2.jobs.2.pay_max", "less than or equal"),
        (employers(job(pay_min=9000, pay_max=5000)), "employers.2.jobs.2.pay_max", "below"),
        (employers(name=7), "employers.2.name", "should be text, not 7"),
        (employers(name=""), "employers.2.name", "at least 1 character"),
        (employers(name="好" * 121), "employers.2.name", "at most 120 characters"),
        ([{"name": "好心", "jobs": "月嫂"}], "employers.1.jobs", "should be a list, not '月嫂'"),
        ([{"name": "好心", "jobs": [job()] * 51}], "employers.1.jobs", "at most 50 items"),
        ([{"name": "好心", "jobs": ["月嫂"]}], "employers.1.jobs.1", "should be fields written"),
        (["好心家政"], "employers.1", "should be fields written `name: value`, not '好心家政'"),
        (employers(job(category="")), "employers.2.jobs.2.category", "at least 1 character"),
        (employers(job(category="月" * 41)), "employers.2.jobs.2.category", "at most 40"),
        (employers(job(destination=["深圳"])), "employers.2.jobs.2.destination", "should be text"),
        (employers(job(live_in="maybe")), "employers.2.jobs.2.live_in", "true or false"),
        (employers(job(pay_unit="month")), "employers.2.jobs.2.pay_unit", "unknown field"),
        ([{"name": "好心", "phone": "1"}], "employers.1.phone", "unknown field"),
        ([{"jobs": [job()]}], "employers.1.name", "missing; it is required"),
    ],
)
def test_junk_in_a_fairs_employers_is_refused_naming_the_job(tmp_path, employers_, field, why):
    path = tmp_path / "fairs.json"
    path.write_text(json.dumps({"job_fairs": [fair(employers=employers_)]}), encoding="utf-8")
    with pytest.raises(importer.DataFileError) as refused:
        read_file(path)
    assert refused.value.where == f"job_fairs row 1 (code f1), field {field}"
    assert why in refused.value.why, refused.value.why


async def test_employers_are_stored_in_the_shape_the_fair_card_reads(app, tmp_path):
    from handlers.fairs import fair_card
    from storage.models import JobFair

    jobs = [job(live_in=True), {"category": "钟点工", "pay_min": 35, "pay_max": 50}]
    name = write_yaml(
        tmp_path, "f.yaml", {"job_fairs": [fair(employers=[{"name": " 好心 ", "jobs": jobs}])]}
    )
    await import_file(app.db, tmp_path / name)
    async with app.db.sessions() as session:
        stored = (await session.scalars(select(JobFair))).one()
    assert stored.employers == [
        {
            "name": "好心",
            "jobs": [
                {**job(), "live_in": True},
                {
                    "category": "钟点工",
                    "destination": "",
                    "pay_min": 35,
                    "pay_max": 50,
                    "live_in": False,
                },
            ],
        }
    ]

    from locales import translator

    card = fair_card(SimpleNamespace(_=translator("en")), stored)  # type: ignore[arg-type]
    # kinds of work and places by their English names, money as every English screen has it,
    # and no empty place left between two dots
    maternity = "Maternity nurse (yuesao) · Shenzhen · CN¥9,000–12,000 a month · live-in"
    assert f"• 好心: {maternity}" in card
    assert "• 好心: Hourly cleaner · CN¥35–50 an hour · lives out" in card


# -- 3. dates out of range ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "where", "why"),
    [
        (
            {"courses": [course("c1", starts_on="0001-01-01", ends_on="2026-01-01")]},
            "courses row 1 (code c1), field starts_on",
            "the date 0001-01-01 is out of range: write one from 2000-01-01 to 2099-12-31",
        ),
        (
            {"courses": [course("c1", ends_on="9999-12-31")]},
            "courses row 1 (code c1), field ends_on",
            "the date 9999-12-31 is out of range",
        ),
        (
            {"courses": [course("c1", ends_on="today+99999")]},
            "courses row 1 (code c1), field ends_on",
            "is out of range",
        ),
        (
            {"courses": [course("c1", signup_closes_on="1999-12-31")]},
            "courses row 1 (code c1), field signup_closes_on",
            "the date 1999-12-31 is out of range",
        ),
        (
            {"job_fairs": [fair(starts_at="0001-01-01 09:00")]},
            "job_fairs row 1 (code f1), field starts_at",
            "the date 0001-01-01 is out of range",
        ),
        (
            {"job_fairs": [fair(starts_at="2099-12-31 09:00", ends_at="2100-01-01 01:00")]},
            "job_fairs row 1 (code f1), field ends_at",
            "the date 2100-01-01 is out of range",
        ),
        (  # compared with a time without one, this was a TypeError, not a DataFileError
            {"job_fairs": [fair(starts_at="2026-12-01T09:00+08:00", ends_at="2026-12-01T12:00")]},
            "job_fairs row 1 (code f1), field starts_at",
            "has a time zone; write the local time without one",
        ),
    ],
)
def test_a_date_out_of_range_is_refused_naming_the_row_and_field(tmp_path, data, where, why):
    path = tmp_path / "dates.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(importer.DataFileError) as refused:
        read_file(path)
    assert refused.value.where == where and why in refused.value.why, str(refused.value)


def test_the_first_and_last_days_allowed_are_read(tmp_path):
    courses = [course("c1", starts_on="2000-01-01", ends_on="2099-12-31")]
    fairs = [fair(starts_at="2000-01-01 00:00", ends_at="2099-12-31 23:59")]
    name = write_yaml(tmp_path, "edges.yaml", {"courses": courses, "job_fairs": fairs})
    data = read_file(tmp_path / name)
    assert data.courses[0].ends_on == dt.date(2099, 12, 31)
    assert data.job_fairs[0].starts_at == dt.datetime(2000, 1, 1)


async def test_a_course_moved_to_year_1_while_a_seat_is_held_is_refused_not_a_crash(app, tmp_path):
    """The attacker's report: the day-before reminder of 0001-01-01 was an OverflowError."""
    from tests.test_changes import sign_up

    first = write_yaml(tmp_path, "c.yaml", {"training_bases": [BASE], "courses": [course("c1")]})
    await import_file(app.db, tmp_path / first, app.settings)
    await sign_up(app, "tg:831", "en", 1)
    moved = course("c1", starts_on="0001-01-01", ends_on="0001-01-02")
    second = write_yaml(tmp_path, "moved.yaml", {"courses": [moved]})
    with pytest.raises(importer.DataFileError) as refused:
        await import_file(app.db, tmp_path / second, app.settings)
    assert refused.value.where == "courses row 1 (code c1), field starts_on"
    with sqlite3.connect(tmp_path / "haoxin-test.db") as con:
        assert con.execute("SELECT starts_on FROM courses").fetchone()[0] != "0001-01-01"


# -- 4. a key written twice --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where", "why"),
    [
        (
            "training_bases:\n  - {code: real, name: 真}\ncourses: []\n"
            "training_bases:\n  - {code: fake, name: 假}\n",
            "line 4, column 1",
            "'training_bases' is written twice here (also on line 1); write it once",
        ),
        (
            "training_bases:\n  - code: mm\n    name: Real\n    name: Fake\n",
            "line 4, column 5",
            "'name' is written twice here (also on line 3); write it once",
        ),
        (  # a merge key is one more way of writing a key twice
            "training_bases:\n  - code: mm\n    name: Real\n    <<: {name: Fake}\n",
            "line 4, column 10",
            "'name' is written twice here (also on line 3)",
        ),
        (
            "households:\n  - code: h1\n    name: 张\n    need: {category: 月嫂, category: 保姆}\n",
            "line 4, column 26",
            "'category' is written twice here (also on line 4)",
        ),
    ],
    ids=["section", "field", "merge", "nested"],
)
def test_a_key_written_twice_in_yaml_is_refused_naming_its_line(tmp_path, text, where, why):
    path = tmp_path / "twice.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(importer.DataFileError) as refused:
        read_file(path)
    assert refused.value.where == where and refused.value.why.startswith(why), str(refused.value)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (
            '{"training_bases": [{"code": "mm", "name": "Real", "name": "Fake"}]}',
            "'name' is written twice in the same {...} (the one with code 'mm'); write it once",
        ),
        (
            '{"training_bases": [{"code": "a", "name": "A"}], "training_bases": []}',
            "'training_bases' is written twice in the same {...}; write it once",
        ),
    ],
)
def test_a_key_written_twice_in_json_is_refused_naming_the_key(tmp_path, text, why):
    path = tmp_path / "twice.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(importer.DataFileError) as refused:
        read_file(path)
    assert str(refused.value) == f"{path}: {why}"


# -- 5. control characters and direction marks in texts -----------------------------------

BIDI = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]


@pytest.mark.parametrize(
    ("data", "where", "char"),
    [
        (
            {"training_bases": [{**BASE, "name": "茂名\x00学校"}]},
            "training_bases row 1 (code mm), field name",
            "U+0000",
        ),
        (
            {"courses": [course("c1", title="月嫂\x07班")]},
            "courses row 1 (code c1), field title",
            "U+0007",
        ),
        (
            {"courses": [course("c1", room="3\r02")]},
            "courses row 1 (code c1), field room",
            "U+000D",
        ),
        (
            {"courses": [course("c1", free_for=["ok", "x\x9b"])]},
            "courses row 1 (code c1), field free_for",
            "U+009B",
        ),
        ({"courses": [course("c\x7f1")]}, "courses row 1 (code c\x7f1), field code", "U+007F"),
        (
            {"job_fairs": [fair(employers=employers(name="好心\x1b[2J"))]},
            "job_fairs row 1 (code f1), field employers.2.name",
            "U+001B",
        ),
        (
            {"households": [{"code": "h1", "name": "张", "need": {"a": [{"b": "\x01"}]}}]},
            "households row 1 (code h1), field need",
            "U+0001",
        ),
        *(
            (
                {"training_bases": [{**BASE, "name": f"{c}茂名学校"}]},
                "training_bases row 1 (code mm), field name",
                f"U+{ord(c):04X}",
            )
            for c in BIDI
        ),
        (
            {"workers": [{"code": "w1", "name": "李\u202e秀梅"}]},
            "workers row 1 (code w1), field name",
            "U+202E",
        ),
        (
            {"job_fairs": [fair(title="\u2067招聘会")]},
            "job_fairs row 1 (code f1), field title",
            "U+2067",
        ),
    ],
)
def test_hidden_characters_in_a_text_are_refused_naming_row_and_field(tmp_path, data, where, char):
    path = tmp_path / "hidden.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(importer.DataFileError) as refused:
        read_file(path)
    assert refused.value.where == where, str(refused.value)
    assert f"({char}); remove it" in refused.value.why
    assert str(refused.value).isprintable()  # the line printed never carries the character


def test_tabs_newlines_and_other_scripts_are_fine(tmp_path):
    text = (
        'training_bases:\n  - {code: mm, name: "茂名\\t学校", address: "一路\\n二号"}\n'
        "workers:\n  - {code: w1, name: محمد, about: 👩‍🍼 带过宝宝}\n"
    )
    path = tmp_path / "fine.yaml"
    path.write_text(text, encoding="utf-8")
    data = read_file(path)
    assert data.training_bases[0].name == "茂名\t学校" and data.workers[0].name == "محمد"


def test_a_control_character_written_as_is_in_yaml_names_its_line(tmp_path):
    path = tmp_path / "raw.yaml"
    path.write_text("training_bases:\n  - {code: mm, name: 茂名\x1b[31m}\n", encoding="utf-8")
    with pytest.raises(importer.DataFileError) as refused:
        read_file(path)
    assert (
        str(refused.value)
        == f"{path}: line 2: a control character (U+001B) that cannot be shown; remove it"
    )


def test_a_refusal_never_echoes_a_control_character_of_the_file(tmp_path):
    path = tmp_path / "echo.json"
    row = {"code": "mm\x1b]0;pwned\x07", "name": "x", "na\u202eme": "y"}
    path.write_text(json.dumps({"training_bases": [row]}), encoding="utf-8")
    with pytest.raises(importer.DataFileError) as refused:
        read_file(path)
    assert str(refused.value).isprintable() and "\\x1b]0;pwned" in str(refused.value)


# -- 6. the database busy ----------------------------------------------------------------


async def test_an_import_while_the_bot_holds_the_database_says_so_and_names_the_file(
    db_path, tmp_path, monkeypatch, capsys
):
    import storage.db
    from bot.app import create_app
    from bot.cli import _import
    from tests.conftest import make_settings

    monkeypatch.setattr(storage.db, "BUSY_TIMEOUT_MS", 200)  # not 5 s, for the test
    app = await create_app(make_settings(db_path))
    name = write_yaml(tmp_path, "good.yaml", {"training_bases": [BASE], "courses": [course("c1")]})
    writer = sqlite3.connect(db_path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # the bot, writing
        assert await _import(app, tmp_path / name) == 1
    finally:
        writer.close()
        await app.close()
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"haoxin import: {tmp_path / name}: the database is busy (the bot is writing); "
        "nothing was imported, try again\n"
    )
    assert catalogue_rows(db_path) == 0
