"""`haoxin import courses|fairs|workers FILE`: spreadsheets staff keep in Excel or WPS.

Every bad row is named with its number and the file imports nothing; importing again
updates; GBK CSV and .xlsx both read; a file that is not a spreadsheet, a zip bomb and a
50 MB file are refused before they are read; a moved course tells the people holding a
place; workers come in for vetting and their ID numbers are never kept whole.
"""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import Workbook
from sqlalchemy import func, select

from bot.cli import _Progress, import_table, main
from storage.bulk_import import ValidationFailed
from storage.models import AuditEntry, Course, JobFair, Outbox, User, WorkerProfile
from storage.tabular import MAX_BYTES, TableError, parse_date, parse_datetime, read_path
from tests.catalogue import BASES, course, load
from tests.test_changes import sign_up

TODAY = dt.date.today()
HEADER = ["code", "title", "track", "base", "starts_on", "ends_on", "seats"]


def day(days: int) -> str:
    return (TODAY + dt.timedelta(days=days)).isoformat()


def write_csv(path: Path, rows: list[list[Any]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as stream:
        csv.writer(stream).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """`haoxin ...` in this process, on a database of the test's own, in its folder (no
    `.env` read); returns (exit status, stdout, stderr). The bases are imported first."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HAOXIN_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/h.db")
    monkeypatch.setenv("HAOXIN_ADMIN_IDS", "console:admin")
    (tmp_path / "bases.yaml").write_text(
        yaml.safe_dump({"training_bases": BASES}, allow_unicode=True), encoding="utf-8"
    )

    def run(*args: str) -> tuple[int, str, str]:
        status = main(list(args))
        out = capsys.readouterr()
        return status, out.out, out.err

    assert run("import", "bases.yaml")[0] == 0
    return run


def courses_in(tmp_path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(tmp_path / "h.db") as con:
        return con.execute("SELECT code, title FROM courses ORDER BY code").fetchall()


# -- all or nothing, every problem named ------------------------------------------------


def test_one_bad_row_imports_nothing_and_every_bad_row_is_named(cli, tmp_path):
    write_csv(
        tmp_path / "courses.csv",
        [
            HEADER,
            ["c1", "月嫂初级班", "月嫂", "mm", day(10), day(20), 20],
            ["c2", "育婴班", "育婴员", "mm", "2026-02-30", day(20), 20],
            ["c3", "保姆班", "保姆", "mm", day(10), day(20), "二十"],
            ["c4", "陪护班", "病患陪护", "nowhere", day(10), day(20), 20],
            ["c1", "月嫂中级班", "月嫂", "mm", day(10), day(20), 20],
            ["c5", '=HYPERLINK("http://x","点我")', "月嫂", "mm", day(10), day(20), 20],
            ["c6", "催乳班", "催乳师", "xy", day(12), day(14), 10],
        ],
    )
    status, out, err = cli("import", "courses", "courses.csv")
    assert status == 1 and out == ""
    lines = err.splitlines()
    assert lines == [
        "haoxin import: courses.csv: row 3, column starts_on: no such day '2026-02-30' "
        "(write 2026-12-09, 2026/12/9 or 2026年12月9日)",
        "haoxin import: courses.csv: row 4, column seats: should be a whole number, not '二十'",
        "haoxin import: courses.csv: row 5, column base: unknown training base 'nowhere'; "
        "write its code",
        "haoxin import: courses.csv: row 6, column code: the same code as row 2; a code may "
        "be used once",
        "haoxin import: courses.csv: row 7, column title: a formula (=...) cannot be "
        "imported; type the value itself",
        "haoxin import: courses.csv: nothing was imported (5 problems); correct the file "
        "and import it again",
    ]
    assert courses_in(tmp_path) == []  # not even the good rows


def test_at_most_fifty_problems_are_printed_then_how_many_more(cli, tmp_path):
    rows = [HEADER] + [[f"c{n}", "月嫂班", "月嫂", "mm", "soon", day(20), 20] for n in range(60)]
    write_csv(tmp_path / "many.csv", rows)
    status, _out, err = cli("import", "courses", "many.csv")
    lines = err.splitlines()
    assert status == 1 and len(lines) == 52
    assert lines[0].startswith("haoxin import: many.csv: row 2, column starts_on: invalid date")
    assert lines[49].startswith("haoxin import: many.csv: row 51, column starts_on")
    assert lines[50] == "haoxin import: … and 10 more"
    assert "nothing was imported (60 problems)" in lines[51]


def test_a_header_without_a_required_column_or_with_an_unknown_one_is_refused(cli, tmp_path):
    write_csv(
        tmp_path / "header.csv",
        [["code", "title", "track", "base", "starts_on", "ends_on", "seat", "备注"]],
    )
    status, _out, err = cli("import", "courses", "header.csv")
    assert status == 1
    assert "row 1, column seat: unknown column 'seat'; the columns are code, title" in err
    assert "row 1, column seats: no seats column; it is required" in err


# -- re-importing, GBK, XLSX, dates ---------------------------------------------------------


async def test_importing_again_updates_and_keeps_what_the_file_does_not_say(app, tmp_path):
    await load(app, [])  # the training bases
    first = write_csv(
        tmp_path / "courses.csv",
        [
            [*HEADER, "room"],
            ["c1", "月嫂初级班", "月嫂", "mm", day(10), day(20), 20, "302"],
            ["c2", "育婴班", "育婴员", "xy", day(12), day(22), 15, ""],
        ],
    )
    result, _told = await import_table(app.db, app.settings, "courses", read_path(first))
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)

    again = write_csv(
        tmp_path / "again.csv",
        [
            HEADER,  # no room column: the rooms stay as they are
            ["c1", "月嫂初级班（周末）", "月嫂", "mm", day(10), day(20), 20],
            ["c2", "育婴班", "育婴员", "xy", day(12), day(22), 15],
        ],
    )
    result, _told = await import_table(app.db, app.settings, "courses", read_path(again))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    async with app.db.sessions() as s:
        assert await s.scalar(select(func.count(Course.id))) == 2
        c1 = await s.scalar(select(Course).where(Course.code == "c1"))
    assert (c1.title, c1.room) == ("月嫂初级班（周末）", "302")
    # the audit log: the changed row's fields before and after, by whom, from which file
    async with app.db.sessions() as s:
        [edit] = await s.scalars(select(AuditEntry).where(AuditEntry.action == "import:update"))
    assert edit.subject == f"course:{c1.id}" and edit.reason == "again.csv"
    assert (edit.before, edit.after) == ({"title": "月嫂初级班"}, {"title": "月嫂初级班（周末）"})
    assert edit.actor == "import:again.csv"


async def test_a_gbk_csv_with_chinese_headers_and_chinese_dates_imports(app, tmp_path):
    await load(app, [])
    path = write_csv(
        tmp_path / "课程.csv",
        [
            [
                "编号",
                "课程名称",
                "工种",
                "培训基地",
                "开始日期",
                "结束日期",
                "名额",
                "费用",
                "免费对象",
                "住宿",
                "教室",
                "序号",
            ],
            [
                "ys-1",
                "好心月嫂初级班",
                "月嫂",
                "mm",
                "2026年12月9日",
                "2026/12/19",
                "30",
                "1,800",
                "农村妇女、失业人员",
                "是",
                "三楼 302",
                "1",
            ],
            [
                "ys-2",
                "巾帼育婴班",
                "育婴员",
                "信宜乡村家政培训站",
                "2026-12-12",
                "2026年12月20日",
                "25",
                "",
                "",
                "否",
                "",
                "2",
            ],
        ],
        encoding="gbk",
    )
    assert "好心".encode("gbk") in path.read_bytes()  # really GBK, not UTF-8
    result, _told = await import_table(app.db, app.settings, "courses", read_path(path))
    assert result.created == 2
    async with app.db.sessions() as s:
        rows = {c.code: c for c in await s.scalars(select(Course))}
    one, two = rows["ys-1"], rows["ys-2"]
    assert (one.title, one.starts_on, one.ends_on) == (
        "好心月嫂初级班",
        dt.date(2026, 12, 9),
        dt.date(2026, 12, 19),
    )
    assert (one.fee_fen, one.free_for, one.lodging, one.room) == (
        180000,
        ["rural_women", "unemployed"],
        True,
        "三楼 302",
    )
    assert (two.starts_on, two.ends_on, two.lodging) == (
        dt.date(2026, 12, 12),
        dt.date(2026, 12, 20),
        False,
    )
    assert two.base_id != one.base_id  # the base named by its name


async def test_an_xlsx_made_with_openpyxl_imports_with_excel_date_cells(app, tmp_path):
    await load(app, [])
    path = write_xlsx(
        tmp_path / "courses.xlsx",
        [
            [*HEADER, "fee_yuan"],
            ["x1", "月嫂班", "月嫂", "mm", dt.datetime(2026, 12, 9), "2026/12/19", 30, 1800.0],
            ["x2", "育婴班", "育婴员", "mm", "2026年12月10日", dt.date(2026, 12, 20), 25.0, None],
        ],
    )
    result, _told = await import_table(app.db, app.settings, "courses", read_path(path))
    assert result.created == 2
    async with app.db.sessions() as s:
        rows = {c.code: c for c in await s.scalars(select(Course))}
    assert (rows["x1"].starts_on, rows["x1"].ends_on, rows["x1"].fee_fen) == (
        dt.date(2026, 12, 9),
        dt.date(2026, 12, 19),
        180000,
    )
    assert (rows["x2"].starts_on, rows["x2"].seats) == (dt.date(2026, 12, 10), 25)


async def test_fairs_from_an_xlsx_with_times_and_firms(app, tmp_path):
    path = write_xlsx(
        tmp_path / "fairs.xlsx",
        [
            ["编号", "名称", "开始时间", "结束时间", "场地", "县区", "参会企业", "需报名"],
            [
                "f1",
                "好心家政招聘会",
                dt.datetime(2026, 12, 9, 9, 30),
                "12:00",
                "人民广场",
                "茂南",
                "茂名好心家政\n深圳鹏城家政",
                "是",
            ],
            [
                "f2",
                "大湾区对接会",
                "2026年12月16日 14:30",
                "2026-12-16 17:00",
                "",
                "電白區",
                None,
                "否",
            ],
        ],
    )
    result, _told = await import_table(app.db, app.settings, "fairs", read_path(path))
    assert result.created == 2
    async with app.db.sessions() as s:
        fairs = {f.code: f for f in await s.scalars(select(JobFair))}
    f1, f2 = fairs["f1"], fairs["f2"]
    assert (f1.starts_at, f1.ends_at) == (
        dt.datetime(2026, 12, 9, 9, 30),
        dt.datetime(2026, 12, 9, 12),
    )
    assert [e["name"] for e in f1.employers] == ["茂名好心家政", "深圳鹏城家政"]
    assert (f1.county, f1.registration_required) == ("maonan", True)
    assert (f2.starts_at, f2.county, f2.employers) == (
        dt.datetime(2026, 12, 16, 14, 30),
        "dianbai",
        [],
    )


def test_dates_in_the_common_formats_and_excel_cells():
    want = dt.date(2026, 12, 9)
    serial = (want - dt.date(1899, 12, 30)).days  # Excel's day number
    for written in (
        "2026-12-09",
        "2026/12/9",
        "2026年12月9日",
        "2026.12.9",
        "２０２６年１２月９日",
        dt.datetime(2026, 12, 9),
        want,
        serial,
        float(serial),
    ):
        assert parse_date(written) == want, written
    assert parse_date("today+3") == TODAY + dt.timedelta(days=3)
    assert parse_date("") is None and parse_date(None) is None
    for wrong in ("2026-02-30", "12/9/2026", "soon", 12):
        with pytest.raises(ValueError, match="2026-12-09, 2026/12/9 or 2026年12月9日"):
            parse_date(wrong)
    moment = dt.datetime(2026, 12, 9, 9, 30)
    for written in (
        "2026-12-09 09:30",
        "2026/12/9 9:30",
        "2026年12月9日 9:30",
        "2026年12月9日9点30分",
        "2026-12-09T09:30:00",
        moment,
        serial + 0.3958333,
    ):
        assert parse_datetime(written) == moment, written
    assert parse_datetime("12:00", day=want) == dt.datetime(2026, 12, 9, 12)
    assert parse_datetime(dt.time(17, 0), day=want) == dt.datetime(2026, 12, 9, 17)
    with pytest.raises(ValueError, match="invalid date and time"):
        parse_datetime("next week")


def test_the_progress_line_counts_rows_in_place(capsys):
    progress = _Progress()
    for done in range(1, 341):
        progress(done, 340)
    progress.end()
    err = capsys.readouterr().err
    assert err.startswith("\r1/340 rows\r3/340 rows") and err.endswith("\r340/340 rows\n")
    assert err.count("\r") <= 120  # rewritten in place about a hundred times, not 340


# -- files that are not spreadsheets ------------------------------------------------------


def renamed_text(folder: Path) -> str:
    (folder / "notes.xlsx").write_text("code,title\nc1,月嫂班\n", encoding="utf-8")
    return "notes.xlsx"


def zip_without_workbook(folder: Path) -> str:
    with zipfile.ZipFile(folder / "photos.xlsx", "w") as archive:
        archive.writestr("photo.txt", "not a workbook")
    return "photos.xlsx"


def zip_bomb(folder: Path) -> str:
    """60 MB of zeros that pack into some 60 KB, dressed as a workbook."""
    with zipfile.ZipFile(folder / "bomb.xlsx", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            for _ in range(60):
                part.write(b"\0" * 1024 * 1024)
    return "bomb.xlsx"


def old_xls(folder: Path) -> str:
    (folder / "old.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    return "old.xlsx"


def workbook_as_csv(folder: Path) -> str:
    write_xlsx(folder / "book.xlsx", [HEADER])
    (folder / "book.xlsx").rename(folder / "book.csv")
    return "book.csv"


NOT_SPREADSHEETS = [
    (renamed_text, "notes.xlsx: not an Excel workbook (.xlsx), whatever its name says"),
    (zip_without_workbook, "photos.xlsx: a zip archive, not an Excel workbook (.xlsx)"),
    (zip_bomb, "bomb.xlsx: would unpack to 60 MB in 3 parts, more than the 50 MB"),
    (old_xls, "old.xlsx: an old Excel file (.xls) or a workbook with a password"),
    (workbook_as_csv, "book.csv: an Excel workbook named .csv; name it .xlsx"),
]


@pytest.mark.parametrize(
    ("make", "line"), NOT_SPREADSHEETS, ids=[m.__name__ for m, _ in NOT_SPREADSHEETS]
)
def test_a_file_that_is_not_a_spreadsheet_is_refused_in_one_line(cli, tmp_path, make, line):
    name = make(tmp_path)
    tracemalloc.start()
    try:
        with pytest.raises(TableError):
            read_path(tmp_path / name)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 1024 * 1024  # judged without unpacking anything
    status, out, err = cli("import", "courses", name)
    assert status == 1 and out == ""
    assert err.startswith(f"haoxin import: {line}") and err.count("\n") == 1, err
    assert courses_in(tmp_path) == []


@pytest.mark.parametrize("name", ["big.csv", "big.xlsx"])
def test_a_50_mb_file_is_refused_before_it_is_read(cli, tmp_path, name):
    with (tmp_path / name).open("wb") as stream:
        stream.truncate(50 * 1000 * 1000)  # 50 MB, sparse: nothing is written
    tracemalloc.start()
    try:
        with pytest.raises(TableError) as refused:
            read_path(tmp_path / name)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.code == "too_big" and peak < MAX_BYTES // 5
    status, _out, err = cli("import", "courses", name)
    assert status == 1
    assert err == (
        f"haoxin import: {name}: 47.7 MB, larger than the 5 MB a spreadsheet may be; split it\n"
    )


def test_an_empty_spreadsheet_imports_nothing_without_failing(cli, tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    write_xlsx(tmp_path / "empty.xlsx", [])
    for name in ("empty.csv", "empty.xlsx"):
        status, out, _err = cli("import", "fairs", name)
        assert (status, out) == (0, f"{name}: nothing to import (the file holds no rows)\n")


def test_a_spreadsheet_given_without_its_kind_says_how(cli, tmp_path):
    write_csv(tmp_path / "courses.csv", [HEADER])
    status, _out, err = cli("import", "courses.csv")
    assert status == 1
    assert "courses.csv: a spreadsheet: say what it holds, e.g. `haoxin import courses" in err


# -- people holding a place hear of changes ---------------------------------------------------


async def test_a_moved_course_and_a_cancelled_one_tell_everyone_holding_a_place(app, tmp_path):
    ids = await load(app, [course("a", "月嫂班", "月嫂/母婴护理"), course("b", "育婴班", "育婴员")])
    await sign_up(app, "tg:801", "zh-hans", ids["a"])
    await sign_up(app, "tg:802", "en", ids["a"])
    await sign_up(app, "tg:802", "en", ids["b"])

    path = write_csv(
        tmp_path / "changes.csv",
        [
            [*HEADER, "room", "status"],
            ["a", "月嫂班", "月嫂/母婴护理", "mm", day(17), day(27), 20, "302 教室", "开放"],
            ["b", "育婴班", "育婴员", "mm", day(10), day(20), 20, "", "取消"],
        ],
    )
    result, told = await import_table(app.db, app.settings, "courses", read_path(path))
    assert (result.updated, told) == (2, 3)
    async with app.db.sessions() as s:
        notes = list(
            await s.scalars(select(Outbox).where(Outbox.topic.is_(None)).order_by(Outbox.id))
        )
    texts = {(o.user_key, o.replies[0]["text"]) for o in notes}
    assert any(k == "tg:801" and "302 教室" in t for k, t in texts)
    assert any(k == "tg:802" and "Change to your course" in t for k, t in texts)
    assert any(k == "tg:802" and "has been cancelled" in t for k, t in texts)

    # the same file again changes nothing, and tells no one again
    result, told = await import_table(app.db, app.settings, "courses", read_path(path))
    assert (result.unchanged, told) == (2, 0)


async def test_fewer_seats_than_people_seated_is_refused(app, tmp_path):
    ids = await load(app, [course("a", "月嫂班", "月嫂/母婴护理", seats=5)])
    await sign_up(app, "tg:801", "en", ids["a"])
    path = write_csv(
        tmp_path / "seats.csv",
        [HEADER, ["a", "月嫂班", "月嫂/母婴护理", "mm", day(10), day(20), 0]],
    )
    with pytest.raises(ValidationFailed) as refused:
        await import_table(app.db, app.settings, "courses", read_path(path))
    assert [str(p) for p in refused.value.problems] == [
        "row 2, column seats: 0 seats is fewer than the 1 people already seated; keep at "
        "least 1, or cancel their places first"
    ]


# -- workers ------------------------------------------------------------------------------

ID_NUMBER = "440902198503120021"  # a valid number (check digit 1), of no one
WORKERS = [
    "编号",
    "姓名",
    "电话",
    "县区",
    "年龄",
    "身份证号",
    "工种",
    "从业年限",
    "工作地点",
    "语言",
    "住家月薪",
    "自我介绍",
    "证书",
]


def worker(code: str, name: str, phone: str, id_number: str = "", intro: str = "做事细心") -> list:
    return [
        code,
        name,
        phone,
        "电白",
        38,
        id_number,
        "月嫂、催乳师",
        5,
        "茂名、广州",
        "普通话、粤语",
        "7000-10000",
        intro,
        "母婴护理员证、健康证",
    ]


async def test_workers_come_in_for_vetting_and_no_id_number_is_kept_whole(app, tmp_path):
    path = write_csv(
        tmp_path / "workers.csv",
        [
            WORKERS,
            worker("w-1", "李秀梅", "138 0013 8000", ID_NUMBER),
            worker("w-2", "陈美玲", "+86 139 0013 9000"),
        ],
    )
    result, _told = await import_table(app.db, app.settings, "workers", read_path(path))
    assert result.created == 2
    async with app.db.sessions() as s:
        profiles = {
            p.name: p for p in await s.scalars(select(WorkerProfile).order_by(WorkerProfile.id))
        }
        keys = set(await s.scalars(select(User.key)))
    mei = profiles["李秀梅"]
    assert mei.status == "submitted" and mei.queued_at is not None and mei.verified_at is None
    assert (mei.kinds, mei.skills, mei.places) == (
        ["maternity"],
        ["lactation"],
        ["maoming", "guangzhou"],
    )
    assert mei.pay == {"live_in": [7000, 10000]} and mei.languages == ["mandarin", "cantonese"]
    assert mei.id_last4 == "0021" and len(mei.id_hash) == 64
    assert {"import:w-1", "import:w-2"} <= keys
    await app.db.close()  # everything written to the database file
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("haoxin-test.db*"))
    assert ID_NUMBER.encode() not in stored and b"13800138000" in stored


async def test_reimporting_workers_updates_them_and_refuses_the_same_id_twice(app, tmp_path):
    first = write_csv(
        tmp_path / "w.csv", [WORKERS, worker("w-1", "李秀梅", "13800138000", ID_NUMBER)]
    )
    await import_table(app.db, app.settings, "workers", read_path(first))
    again = write_csv(
        tmp_path / "w2.csv",
        [WORKERS, worker("w-1", "李秀梅", "13800138000", ID_NUMBER, "做事细心，会做粤菜")],
    )
    result, _told = await import_table(app.db, app.settings, "workers", read_path(again))
    assert (result.created, result.updated) == (0, 1)
    async with app.db.sessions() as s:
        assert await s.scalar(select(func.count(WorkerProfile.id))) == 1

    wrong = ID_NUMBER[:-1] + "9"  # the check digit does not match
    bad = write_csv(
        tmp_path / "bad.csv",
        [
            WORKERS,
            worker("w-3", "王丽华", "13700137000", ID_NUMBER),  # w-1's number
            worker("w-4", "张小红", "13600136000", wrong),
            worker("w-5", "赵美", "13500135000", intro="微信 zhaomei88"),
            worker("w-6", "黄芳", "12345"),
        ],
    )
    with pytest.raises(ValidationFailed) as refused:
        await import_table(app.db, app.settings, "workers", read_path(bad))
    lines = refused.value.lines()
    assert lines == [
        f"{bad}: row 2, column id_number: another profile (#1) has this ID number: the same "
        "person is there already",
        f"{bad}: row 3, column id_number: not an ID number (check_digit)",
        f"{bad}: row 4, column intro: the introduction holds a phone number, an ID number or "
        "another way to reach her; households read it, so take it out",
        f"{bad}: row 5, column phone: '12345' is not a mainland mobile number (11 digits, "
        "13800138000)",
    ]
    assert not any(ID_NUMBER in line or wrong in line for line in lines)
    async with app.db.sessions() as s:
        assert await s.scalar(select(func.count(WorkerProfile.id))) == 1


def test_a_csv_in_the_bom_excel_writes_reads_like_any(tmp_path):
    text = '\ufeffcode,title\r\nc1,月嫂班\r\n\r\nc2,"育婴\n班"\r\n'
    (tmp_path / "bom.csv").write_bytes(text.encode("utf-8"))
    table = read_path(tmp_path / "bom.csv")
    assert table.headers == ["code", "title"]
    assert [(r.number, r.values["title"]) for r in table.rows] == [(2, "月嫂班"), (4, "育婴\n班")]
