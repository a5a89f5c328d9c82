"""`haoxin import trainings FILE`: staff mark who attended and completed a course, from
a spreadsheet saved as CSV (UTF-8 or, as Excel saves it in China, GBK) or from YAML or
JSON.

One row a person and course, with the columns (a header row; Chinese names work too):

    course        the course's code                                课程
    phone         the phone she signed up with (any way it is      电话, 手机
                  written: 138 0013 8000, +86..., 0086...)
    attended      yes / no (是 / 否, y / n, true / false, 1 / 0)     出勤
    completed_on  the day she completed it, optional: 2026-12-09,  结业日期
                  2026/12/9 or 2026年12月9日 (implies attended);
                  `today-3` as in data files

`name` (姓名) and `note` (备注) columns may be there for the staff's own use and are
ignored. A YAML or JSON file is a list of rows with those keys (or `trainings:` and
the list).

Each row is checked: the course exists; she holds a confirmed place on it, found by her
phone number normalised as sign-up normalises it (`handlers.validate.phone_number`;
eight digits alone match a Hong Kong or a Macau number); a completion day is neither in
the future nor before the course started. Any problem refuses the whole file: every
problem is listed with its row (and, in a CSV, its line), and nothing is marked. Rows are
marked through `WorkerRepo.mark_training` by `import:<file name>` (in the audit log); a
row that would change nothing is left alone, so importing the same file again marks
nothing new. A blank `completed_on` keeps a completion already marked; `attended: no`
clears it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from handlers.validate import local_number, phone_number
from storage.importer import MAX_ROWS, DataFileError, _parse, _when, read_bytes
from storage.models import Course, Signup, Training
from storage.repositories import Repos

SUFFIXES = (".csv", ".yaml", ".yml", ".json")
#: how many problems are listed, at most
MAX_PROBLEMS = 50
COLUMNS = ("course", "phone", "attended", "completed_on")
#: the names a column may have in the header (compared without case, spaces, `_`, `-`)
ALIASES = {
    "course": ("course", "coursecode", "code", "课程", "课程编号", "课程代码", "課程", "課程編號"),
    "phone": (
        "phone",
        "mobile",
        "phonenumber",
        "电话",
        "手机",
        "手机号",
        "手机号码",
        "联系电话",
        "電話",
        "手機",
        "手機號碼",
    ),
    "attended": ("attended", "attendance", "出勤", "是否出勤", "到课", "參加", "参加"),
    "completed_on": (
        "completedon",
        "completed",
        "completion",
        "结业日期",
        "完成日期",
        "结业",
        "結業日期",
        "結業",
    ),
}
IGNORED = ("name", "note", "notes", "remark", "姓名", "名字", "备注", "備註", "序号", "序號", "no")
YES = {"yes", "y", "true", "1", "是", "有", "出勤", "√", "✓"}
NO = {"no", "n", "false", "0", "否", "无", "沒有", "没有", "缺勤", "×", "✗"}
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


@dataclass(frozen=True)
class TrainingMark:
    """One row: `row` counts data rows from 1, `line` is its line in a CSV (the header
    is line 1); `phones` are the numbers (E.164) she may have signed up with."""

    row: int
    line: int | None
    course: str
    phone: str
    phones: tuple[str, ...]
    attended: bool | None
    completed_on: dt.date | None

    def where(self, column: str = "") -> str:
        """`row 3 (line 4), course ys-2026-01, field completed_on`."""
        text = f"row {self.row}" + (f" (line {self.line})" if self.line else "")
        if self.course:
            text += f", course {_clip(self.course)}"
        return text + (f", field {column}" if column else "")


@dataclass
class TrainingFile:
    """The rows of a trainings file, read and checked for form (not yet against the
    database): `source` is the file as named, `marks` the rows that could be read and
    `problems` the rows that could not (`apply_trainings` refuses the file then, with
    those of the database's too)."""

    source: str
    marks: list[TrainingMark] = field(default_factory=list)
    problems: list[tuple[int, DataFileError]] = field(default_factory=list)

    @property
    def staff(self) -> str:
        """Who marks the rows, in the audit log: `import:<file name>`."""
        return f"import:{Path(self.source).name}"[:80]


@dataclass
class TrainingCounts:
    """What an import did: rows newly `completed`, newly `attended` (not completed),
    newly `absent`, and rows already marked so (`unchanged`)."""

    rows: int = 0
    completed: int = 0
    attended: int = 0
    absent: int = 0
    unchanged: int = 0

    def summary(self, source: str) -> str:
        """One line for the person who ran it."""
        if not self.rows:
            return f"{source}: nothing to import (the file holds no rows)"
        done = f"{self.completed} completed, {self.attended} attended, {self.absent} absent"
        text = f"{source}: {self.rows} row{'s' if self.rows != 1 else ''}: {done}"
        return text + f", {self.unchanged} already marked so"


class TrainingRowsError(DataFileError):
    """Rows that cannot be marked, every one named (`problems`, in file order); `str()`
    is the first, with how many more."""

    def __init__(self, problems: list[DataFileError]) -> None:
        first = problems[0]
        more = len(problems) - 1
        why = first.why + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")
        super().__init__(why, first.where, first.file)
        self.problems = problems


def _clip(text: str, limit: int = 40) -> str:
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[:limit] + "…"


def masked(phone: str) -> str:
    """A phone number as error messages show it: `199****0001`."""
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) < 8:  # not a phone number: shown as written
        return _clip(phone)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def _key(header: str) -> str:
    text = unicodedata.normalize("NFKC", header).strip().lower()
    return re.sub(r"[\s_\-]+", "", text)


_BY_ALIAS = {_key(alias): column for column, names in ALIASES.items() for alias in names}
_IGNORED = {_key(name) for name in IGNORED}


# -- reading ----------------------------------------------------------------------------


def read_trainings(path: Path | str) -> TrainingFile:
    """Read a trainings file and check each row's form (course given, a phone number, yes
    or no, a date, each person and course once). Raises `DataFileError` for the file
    (missing, too big, not text, unknown columns); a row that is wrong is kept in
    `problems`."""
    name = str(path)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataFileError(
            "a trainings file is .csv (save the spreadsheet as CSV), .yaml, .yml or .json",
            file=name,
        )
    content = read_bytes(path, name)
    if suffix == ".csv":
        raw_rows = _csv_rows(_decode(content, name, gbk=True), name)
    else:
        raw_rows = _data_rows(_decode(content, name, gbk=False), name, suffix == ".json")
    if len(raw_rows) > MAX_ROWS:
        raise DataFileError(
            f"{len(raw_rows)} rows, more than the {MAX_ROWS} one file may hold; split it",
            file=name,
        )
    data = TrainingFile(name)
    seen: dict[tuple[str, str], int] = {}
    for number, (line, values) in enumerate(raw_rows, start=1):
        try:
            mark = _mark(number, line, values, name)
        except DataFileError as problem:
            data.problems.append((number, problem))
            continue
        other = next((seen[(mark.course, p)] for p in mark.phones if (mark.course, p) in seen), 0)
        if other:
            why = f"the same person and course as row {other}; write each once"
            data.problems.append((number, DataFileError(why, mark.where("phone"), name)))
            continue
        seen.update({(mark.course, phone): number for phone in mark.phones})
        data.marks.append(mark)
    return data


def _decode(content: bytes, name: str, *, gbk: bool) -> str:
    """UTF-8 (with or without the mark Excel writes first); a CSV also GBK (GB 18030),
    what Excel saves in China."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if gbk:
            try:
                return content.decode("gb18030")
            except UnicodeDecodeError:
                pass
        line = content[: exc.start].count(b"\n") + 1
        saved = "UTF-8 or GBK" if gbk else "UTF-8"
        raise DataFileError(f"not {saved} text; save it as UTF-8", f"line {line}", name) from exc


def _csv_rows(text: str, name: str) -> list[tuple[int | None, dict[str, Any]]]:
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    if not first:
        return []
    delimiter = max(",\t;，", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    table: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            if any(c.strip() for c in cells):  # not blank lines (a spreadsheet's last rows)
                table.append((reader.line_num, cells))
    except csv.Error as exc:
        raise DataFileError(f"broken CSV: {exc}", f"line {reader.line_num}", name) from exc
    if not table:
        return []
    header_line, header = table[0]
    columns = _columns(header, f"line {header_line}", name)
    rows: list[tuple[int | None, dict[str, Any]]] = []
    for line, cells in table[1:]:
        if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
            raise DataFileError(
                f"{len(cells)} cells, more than the {len(columns)} columns of the header",
                f"line {line}",
                name,
            )
        values = {col: cell for col, cell in zip(columns, cells, strict=False) if col}
        rows.append((line, values))
    return rows


def _columns(header: list[str], where: str, name: str) -> list[str | None]:
    """The header's cells as columns (`None`: ignored); every needed column there."""
    columns: list[str | None] = []
    for cell in header:
        key = _key(cell)
        if key in _BY_ALIAS:
            if _BY_ALIAS[key] in columns:
                raise DataFileError(f"the column {_BY_ALIAS[key]} is there twice", where, name)
            columns.append(_BY_ALIAS[key])
        elif key in _IGNORED or not key:
            columns.append(None)
        else:
            raise DataFileError(
                f"unknown column {_clip(cell)!r}; the columns are {', '.join(COLUMNS)} "
                "(name and note may be there too)",
                where,
                name,
            )
    _needed(set(filter(None, columns)), where, name)
    return columns


def _needed(columns: set[str], where: str, name: str) -> None:
    for column in ("course", "phone"):
        if column not in columns:
            raise DataFileError(f"no {column} column; it is required", where, name)
    if not columns & {"attended", "completed_on"}:
        raise DataFileError("no attended or completed_on column: nothing to mark", where, name)


def _data_rows(text: str, name: str, as_json: bool) -> list[tuple[int | None, dict[str, Any]]]:
    raw = _parse(text, name, as_json)
    if raw is None:
        return []
    if isinstance(raw, dict) and set(raw) == {"trainings"}:
        raw = raw["trainings"] or []
    if not isinstance(raw, list):
        raise DataFileError(
            "the file must hold a list of rows (or trainings: and a list)", "", name
        )
    rows: list[tuple[int | None, dict[str, Any]]] = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise DataFileError("should be fields written `name: value`", f"row {number}", name)
        values: dict[str, Any] = {}
        for key, value in item.items():
            column = _BY_ALIAS.get(_key(str(key)))
            if column is None and _key(str(key)) not in _IGNORED:
                raise DataFileError(
                    f"unknown field {_clip(str(key))!r}; the fields are {', '.join(COLUMNS)}",
                    f"row {number}",
                    name,
                )
            if column is not None:
                values[column] = value
        rows.append((None, values))
    return rows


def _mark(number: int, line: int | None, values: dict[str, Any], name: str) -> TrainingMark:
    course = _text(values.get("course"))
    draft = TrainingMark(number, line, course, "", (), None, None)
    if not course:
        raise DataFileError("missing; it is required", draft.where("course"), name)
    phone = _text(values.get("phone"))
    if not phone:
        raise DataFileError("missing; it is required", draft.where("phone"), name)
    phones = _phones(phone)
    if not phones:
        raise DataFileError(
            f"{masked(phone)!r} is not a mobile phone number",
            draft.where("phone"),
            name,
        )
    attended = _yes_no(values.get("attended"), draft.where("attended"), name)
    completed_on = _day(values.get("completed_on"), draft.where("completed_on"), name)
    if attended is False and completed_on is not None:
        raise DataFileError(
            f"completed on {completed_on}, but attended says no; correct one of them",
            draft.where("attended"),
            name,
        )
    if attended is None and completed_on is None:
        raise DataFileError(
            "nothing to mark: write attended (yes or no) or completed_on",
            draft.where("attended"),
            name,
        )
    return TrainingMark(number, line, course, phone, phones, attended, completed_on)


def _text(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip()


def _phones(text: str) -> tuple[str, ...]:
    """The numbers (E.164) she may have signed up with: eight digits alone are a Hong
    Kong or a Macau number, as she told sign-up."""
    text = text.lstrip("'")  # a spreadsheet's mark for "a number kept as text"
    found = phone_number(text)
    if found:
        return (found,)
    digits = local_number(text)
    return (f"+852{digits}", f"+853{digits}") if digits else ()


def _yes_no(value: Any, where: str, name: str) -> bool | None:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if not text:
        return None
    if text in YES:
        return True
    if text in NO:
        return False
    raise DataFileError(f"{_clip(text)!r}: write yes or no (是 or 否)", where, name)


def _day(value: Any, where: str, name: str) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    if not text:
        return None
    relative = _when(text, dt.date.today())  # `today-3`, as data files write it
    if isinstance(relative, dt.date):
        return relative
    found = _DATE.match(text)
    if found:
        try:
            return dt.date(int(found[1]), int(found[2]), int(found[3]))
        except ValueError:
            pass
    raise DataFileError(
        f"invalid date {_clip(text)!r} (write 2026-12-09, 2026/12/9 or 2026年12月9日)",
        where,
        name,
    )


# -- marking ------------------------------------------------------------------------------


async def apply_trainings(repos: Repos, data: TrainingFile, today: dt.date) -> TrainingCounts:
    """Check every row against the database, then mark them (all or nothing): raises
    `TrainingRowsError` for an unknown course, no confirmed place with that phone on
    that course, a completion day in the future or before the course started."""
    session = repos.session
    codes = {m.course for m in data.marks}
    courses = {
        c.code: c
        for c in (
            await session.scalars(select(Course).where(Course.code.in_(codes))) if codes else []
        )
    }
    phones = {p for m in data.marks for p in m.phones}
    signups: dict[tuple[int, str], list[Signup]] = {}
    if courses and phones:
        rows = await session.scalars(
            select(Signup)
            .where(
                Signup.course_id.in_([c.id for c in courses.values()]),
                Signup.phone.in_(phones),
            )
            .order_by(Signup.id)
        )
        for signup in rows:
            signups.setdefault((signup.course_id, signup.phone), []).append(signup)

    problems = list(data.problems)
    chosen: list[tuple[TrainingMark, Signup]] = []
    for mark in data.marks:
        course = courses.get(mark.course)
        if course is None:
            why = f"unknown course {_clip(mark.course)!r}"
            problems.append((mark.row, DataFileError(why, mark.where("course"), data.source)))
            continue
        why, column = _too_early_or_late(mark, course, today), "completed_on"
        found = [s for p in mark.phones for s in signups.get((course.id, p), [])]
        confirmed = [s for s in found if s.status == "confirmed"]
        if not confirmed:
            why, column = _no_place(mark, found), "phone"
        elif len({s.user_id for s in confirmed}) > 1:
            why, column = (
                f"{len(confirmed)} people signed up with {masked(mark.phone)} on this course; "
                "mark them from the staff menu",
                "phone",
            )
        if why:
            problems.append((mark.row, DataFileError(why, mark.where(column), data.source)))
        else:
            chosen.append((mark, confirmed[0]))
    if problems:
        problems.sort(key=lambda pair: pair[0])
        raise TrainingRowsError([problem for _row, problem in problems[:MAX_PROBLEMS]])

    counts = TrainingCounts(rows=len(data.marks))
    for mark, signup in chosen:
        existing = await session.scalar(
            select(Training).where(
                Training.user_id == signup.user_id, Training.course_id == signup.course_id
            )
        )
        attended, completed_on = _wanted(mark, existing)
        if existing is not None and (existing.attended, existing.completed_on) == (
            attended,
            completed_on,
        ):
            counts.unchanged += 1
            continue
        await repos.workers.mark_training(
            signup.user_id,
            signup.course_id,
            data.staff,
            attended=attended,
            completed_on=completed_on,
            uncomplete=completed_on is None,
        )
        if completed_on:
            counts.completed += 1
        elif attended:
            counts.attended += 1
        else:
            counts.absent += 1
    return counts


def _too_early_or_late(mark: TrainingMark, course: Course, today: dt.date) -> str:
    day = mark.completed_on
    if day is None:
        return ""
    if day > today:
        return f"completed on {day}, a day still to come"
    if day < course.starts_on:
        return f"completed on {day}, before the course started ({course.starts_on})"
    return ""


def _no_place(mark: TrainingMark, found: list[Signup]) -> str:
    statuses = {s.status for s in found}
    who = f"with {masked(mark.phone)}"
    if "waitlisted" in statuses:
        return f"the sign-up {who} is on the waiting list, not a confirmed place"
    if "cancelled" in statuses:
        return f"the sign-up {who} was cancelled"
    return f"no one signed up {who} on this course"


def _wanted(mark: TrainingMark, existing: Training | None) -> tuple[bool, dt.date | None]:
    """(attended, completed_on) as the row leaves them: a blank completion keeps one
    already marked; `attended: no` clears it."""
    if mark.attended is False:
        return False, None
    completed_on = mark.completed_on or (existing.completed_on if existing else None)
    return True, completed_on
