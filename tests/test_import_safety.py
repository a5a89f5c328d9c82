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
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

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
    started = time.monotonic()
    done = run_import(tmp_path, make(tmp_path))
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr.count("\n") == 1 and done.stderr.endswith("\n"), done.stderr
    assert done.stderr.startswith(f"haoxin import: {line}"), done.stderr
    assert done.stdout == ""
    assert catalogue_rows(tmp_path / "h.db") == 0  # all or nothing
    assert time.monotonic() - started < 60


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
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(importer.DataFileError) as refused:
            read_file(bomb)
        took = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert took < 0.5 and peak < 2_000_000, (took, peak)
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
        (
            {"job_fairs": [fair(employers=[{"name": "x" * 120_000}])]},
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
