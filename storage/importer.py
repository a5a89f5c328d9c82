"""Import programme data from a readable file (YAML or JSON): bases, courses, fairs...

The demo data (`storage/demo.yaml`) and admins' data files go through the same importer.
Rows are matched by their `code`: importing again updates them instead of duplicating.
Dates may be ISO (`2026-12-03`, `2026-12-03T09:30`) or relative to today (`today+14`,
`today+14 09:30`), which keeps demo data in the future.

A data file is untrusted input, and reading one must never exhaust the machine: a 462-byte
YAML file with nested aliases (a "billion laughs") took 4.9 s and 551 MB and wrote an
80 MB row, and a 518-byte one was killed at 3 GB. So `read_file`

- refuses YAML anchors and aliases (`&name`, `*name`) the moment the parser meets one,
  before anything is expanded: a data file writes every row out in full;
- refuses a file over `MAX_BYTES` (1 MiB; the demo file is under 10 KB) or with more
  than `MAX_ROWS` rows in all (5,000);
- caps every text at its column's length (`storage.models`), every list at `MAX_ITEMS`
  (a fair's employers at `MAX_EMPLOYERS`) and the free-form `employers` and `need` at
  `MAX_JSON` characters, so that no row can be megabytes, and numbers to fit columns.

Every problem (a missing file, broken YAML or JSON, a bad date, an unknown training base,
a code used twice...) is raised as a `DataFileError` whose text is one line naming the
file, the row (counted from 1) and the field, e.g.
`courses.yaml: courses row 3 (code ys1), field starts_on: invalid date 'tomorrow-ish' ...`.
An import is all or nothing: nothing of a refused file is written.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import stat
from pathlib import Path
from typing import Annotated, Any, ClassVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
)
from pydantic_core import ErrorDetails
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.resolver import Resolver

from storage.models import Course, DemoHousehold, DemoWorker, JobFair, TrainingBase

DEMO_FILE = Path(__file__).parent / "demo.yaml"
#: the largest data file read, in bytes: the demo file is under 10 KB
MAX_BYTES = 1024 * 1024
#: the most rows one file may hold, all kinds together
MAX_ROWS = 5000
#: the most items of a list field (free_for, categories, certificates...)
MAX_ITEMS = 50
#: the most employers at one job fair
MAX_EMPLOYERS = 200
#: the longest free-form field (a fair's employers, a household's need), as JSON text
MAX_JSON = 100_000
SECTIONS = ("training_bases", "courses", "job_fairs", "workers", "households")

# `today`, `today+14`, `today-3 09:30`; at most 5 digits of days, so the date stays valid
_RELATIVE = re.compile(r"^today\s*([+-]\s*\d{1,5})?(?:\s+(\d{1,2}):(\d{2}))?$")


class DataFileError(ValueError):
    """A data file that cannot be imported, and why, for the person who wrote it.

    `file` is the file as named on the command line (empty when the data did not come from
    a file), `where` the row and field (`courses row 3 (code ys1), field starts_on`) or the
    line (`line 7, column 3`), `why` what is wrong. `str()` is one line: `file: where: why`.
    """

    def __init__(self, why: str, where: str = "", file: str = "") -> None:
        super().__init__(why)
        self.why, self.where, self.file = why, where, file

    def __str__(self) -> str:
        text = ": ".join(part for part in (self.file, self.where, self.why) if part)
        return " ".join(text.splitlines())


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _show(value: Any) -> str:
    """A value as the message quotes it: short, on one line."""
    return repr(_clip(value)) if isinstance(value, str) else _clip(repr(value))


def _row(section: str, index: int, code: Any = None) -> str:
    """`courses row 3 (code ys1)`: rows counted from 1, as the person sees them."""
    label = f"{section} row {index + 1}"
    if isinstance(code, str | int) and not isinstance(code, bool) and str(code).strip():
        label += f" (code {_clip(str(code).strip())})"
    return label


# -- reading YAML: no anchors, no aliases, dates left as text -----------------------------


class _Strict:
    """What a data file's YAML may hold, for a loader class that mixes this in first."""

    # YAML 1.1's implicit types less timestamps: `2026-13-45` stays text, and the row
    # model names the row and field it is in instead of the YAML reader failing without
    yaml_implicit_resolvers: ClassVar[dict[Any, list[Any]]] = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in Resolver.yaml_implicit_resolvers.items()
    }

    def compose_node(self, parent: Any, index: Any) -> Any:
        # an anchor or alias is refused before any node is shared, so nothing expands
        event = self.peek_event()  # type: ignore[attr-defined]
        if isinstance(event, AliasEvent) or event.anchor is not None:
            raise DataFileError(
                "YAML anchors and aliases (&name, *name) are not allowed; "
                "write every row out in full",
                _line(event.start_mark),
            )
        return super().compose_node(parent, index)  # type: ignore[misc]

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)  # type: ignore[misc]
        except (DataFileError, yaml.YAMLError):
            raise
        except Exception as exc:  # PyYAML's own constructors fail with anything on odd input:
            # `!!timestamp nope` (AttributeError), an int of 5000 digits (ValueError)...
            kind = str(node.tag).rsplit(":", 1)[-1]
            why = f"unreadable value: {exc}" if isinstance(exc, ValueError) else f"not a {kind}"
            raise DataFileError(why, _line(node.start_mark)) from exc


def _line(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


class _PyLoader(_Strict, yaml.SafeLoader):
    """The pure-Python reader, when PyYAML was built without libyaml."""


_LOADER: type = _PyLoader
if yaml.__with_libyaml__:
    from yaml.cyaml import CParser

    class _CLoader(_Strict, Composer, CParser, SafeConstructor, Resolver):  # type: ignore[misc]
        """libyaml parses (several times faster than Python on a large file); composing
        stays in Python (`Composer` before `CParser`) so that `_Strict` sees every event."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    _LOADER = _CLoader


def _when(value: Any, today: dt.date) -> Any:
    if isinstance(value, str) and len(value) <= 40:
        m = _RELATIVE.match(value.strip())
        if m:
            day = today + dt.timedelta(days=int((m.group(1) or "0").replace(" ", "")))
            if not m.group(2):
                return day
            try:
                return dt.datetime.combine(day, dt.time(int(m.group(2)), int(m.group(3))))
            except ValueError:  # `today+1 25:00`: the row model names the row and field
                return value
    return value


def _small_json(value: Any) -> Any:
    try:
        size = len(json.dumps(value, ensure_ascii=False))
    except (TypeError, ValueError, RecursionError):
        raise ValueError("only text, numbers, true/false, lists and mappings go here") from None
    if size > MAX_JSON:
        raise ValueError(f"{size} characters long, more than the {MAX_JSON} allowed")
    return value


# texts as long as their columns in `storage.models`
Word = Annotated[str, Field(max_length=40)]  # codes, counties, tracks, short labels
Phrase = Annotated[str, Field(max_length=120)]  # names, titles, certificates
Words = Annotated[list[Word], Field(max_length=MAX_ITEMS)]
Phrases = Annotated[list[Phrase], Field(max_length=MAX_ITEMS)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str = Field(min_length=1, max_length=40)


class BaseRow(_Row):
    name: Phrase
    address: str = Field(default="", max_length=200)
    county: Word = ""
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    phone: Word = ""


class CourseRow(_Row):
    title: Phrase
    track: Word
    brand: Word = ""
    base: Word
    starts_on: dt.date
    ends_on: dt.date
    daily_hours: Word = ""
    seats: int = Field(ge=0, le=100_000)
    fee_yuan: float = Field(default=0, ge=0, le=10_000_000)
    free_for: Words = []
    certificate: Phrase = ""
    teaching_language: Word = ""
    lodging: bool = False
    childcare: bool = False
    signup_closes_on: dt.date | None = None
    room: str = Field(default="", max_length=80)
    status: str = Field(default="open", pattern="^(open|cancelled)$")


class FairRow(_Row):
    title: str = Field(max_length=160)
    starts_at: dt.datetime
    ends_at: dt.datetime | None = None
    venue: str = Field(default="", max_length=160)
    address: str = Field(default="", max_length=200)
    county: Word = ""
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    organiser: Phrase = ""
    registration_required: bool = False
    employers: Annotated[
        list[dict[str, Any]], Field(max_length=MAX_EMPLOYERS), AfterValidator(_small_json)
    ] = []
    status: str = Field(default="open", pattern="^(open|cancelled)$")


class WorkerRow(_Row):
    name: str = Field(max_length=60)
    categories: Words = []
    county: Word = ""
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    years_experience: int = Field(default=0, ge=0, le=100)
    dialects: Words = []
    certificates: Phrases = []
    about: str = Field(default="", max_length=2000)


class HouseholdRow(_Row):
    name: str = Field(max_length=60)
    city: Word = ""
    need: Annotated[dict[str, Any], AfterValidator(_small_json)] = {}


class DataFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    training_bases: Annotated[list[BaseRow], Field(max_length=MAX_ROWS)] = []
    courses: Annotated[list[CourseRow], Field(max_length=MAX_ROWS)] = []
    job_fairs: Annotated[list[FairRow], Field(max_length=MAX_ROWS)] = []
    workers: Annotated[list[WorkerRow], Field(max_length=MAX_ROWS)] = []
    households: Annotated[list[HouseholdRow], Field(max_length=MAX_ROWS)] = []
    _source: str = PrivateAttr(default="")

    @property
    def source(self) -> str:
        """The file the data was read from, as named; empty when built in code."""
        return self._source

    @field_validator("courses", "job_fairs", mode="before")
    @classmethod
    def _relative_dates(cls, rows: Any) -> Any:
        today = dt.date.today()
        if isinstance(rows, list):
            return [
                {k: _when(v, today) for k, v in r.items()} if isinstance(r, dict) else r
                for r in rows
            ]
        return rows


def read_file(path: Path | str) -> DataFile:
    """Read and check a data file (`.json` is JSON, anything else YAML).

    Raises `DataFileError` (one line naming the file, the row and the field) and nothing
    else, for a missing or unreadable file, one over `MAX_BYTES` or `MAX_ROWS`, text
    that is not UTF-8, broken YAML or JSON, YAML anchors or aliases, unknown sections or
    fields, a value a row model refuses, or a code used twice by one kind. An empty file
    (or only comments, `{}`, empty lists) reads as a `DataFile` without rows.
    """
    name = str(path)
    path = Path(path)
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise DataFileError("is a directory, not a data file", file=name)
        if not stat.S_ISREG(mode):
            raise DataFileError("not a regular file", file=name)
        with path.open("rb") as stream:
            content = stream.read(MAX_BYTES + 1)  # never more, whatever the file claims
    except FileNotFoundError:
        raise DataFileError("no such file", file=name) from None
    except OSError as exc:
        raise DataFileError(f"cannot read it: {exc.strerror or exc}", file=name) from exc
    if len(content) > MAX_BYTES:
        raise DataFileError(
            f"larger than {MAX_BYTES // 1024} KiB, the most one file may be; split it",
            file=name,
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise DataFileError("not UTF-8 text; save it as UTF-8", f"line {line}", name) from exc
    raw = _parse(text, name, as_json=path.suffix.lower() == ".json")
    data = _validate(raw, name)
    data._source = name
    return data


def _parse(text: str, name: str, as_json: bool) -> Any:
    if not text.strip():
        return None
    kind = "JSON" if as_json else "YAML"
    try:
        return json.loads(text) if as_json else yaml.load(text, Loader=_LOADER)
    except DataFileError as exc:
        exc.file = name
        raise
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise DataFileError(f"broken JSON: {exc.msg}", where, name) from exc
    except yaml.MarkedYAMLError as exc:
        what = exc.problem or exc.context or "unreadable"
        raise DataFileError(
            f"broken YAML: {what}", _line(exc.problem_mark or exc.context_mark), name
        ) from exc
    except yaml.YAMLError as exc:
        raise DataFileError(f"broken YAML: {exc}", file=name) from exc
    except RecursionError:
        raise DataFileError(f"broken {kind}: nested too deeply", file=name) from None
    except ValueError as exc:  # JSON: an integer of more than 4300 digits
        raise DataFileError(f"broken {kind}: {exc}", file=name) from exc


def _validate(raw: Any, name: str) -> DataFile:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        kinds = {list: "a list", str: "text", bool: "true/false", int: "a number"}
        found = kinds.get(type(raw), "a number" if isinstance(raw, float) else "something else")
        raise DataFileError(
            f"the file must hold sections ({', '.join(SECTIONS)}), not {found}", file=name
        )
    for key in raw:
        if key not in SECTIONS:
            raise DataFileError(
                f"unknown section {_show(key)}; the sections are {', '.join(SECTIONS)}",
                file=name,
            )
    raw = {key: [] if rows is None else rows for key, rows in raw.items()}  # `courses:` alone
    total = sum(len(rows) for rows in raw.values() if isinstance(rows, list))
    if total > MAX_ROWS:
        raise DataFileError(
            f"{total} rows, more than the {MAX_ROWS} one file may hold; split it", file=name
        )
    try:
        data = DataFile.model_validate(raw)
    except ValidationError as exc:
        problems = exc.errors(include_url=False)
        why = _reason(problems[0])
        if len(problems) > 1:
            why += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
        raise DataFileError(why, _locate(problems[0]["loc"], raw), name) from exc
    for section in SECTIONS:
        seen: dict[str, int] = {}
        for index, row in enumerate(getattr(data, section)):
            if row.code in seen:
                first = _row(section, seen[row.code])
                raise DataFileError(
                    f"the same code as {first}; a code may be used once",
                    _field(section, index, row.code, "code"),
                    name,
                )
            seen[row.code] = index
    return data


def _field(section: str, index: int, code: Any, *path: str | int) -> str:
    where = f"{_row(section, index, code)}, field {_clip(str(path[0]))}"
    return where + "".join(
        f", item {p + 1}" if isinstance(p, int) else f", {_clip(str(p))}" for p in path[1:]
    )


def _locate(loc: tuple[str | int, ...], raw: dict[str, Any]) -> str:
    """`('courses', 2, 'starts_on')` → `courses row 3 (code ys1), field starts_on`."""
    if len(loc) < 2 or not isinstance(loc[1], int):
        return ", ".join(_clip(str(part)) for part in loc)
    section, index, *path = loc
    rows = raw.get(str(section))
    row = rows[index] if isinstance(rows, list) and index < len(rows) else None
    code = row.get("code") if isinstance(row, dict) else None
    return _field(str(section), index, code, *path) if path else _row(str(section), index, code)


def _reason(problem: ErrorDetails) -> str:
    kind, value = problem["type"], problem.get("input")
    if kind.startswith("datetime"):
        return f"invalid date and time {_show(value)} (write 2026-12-03 09:30 or today+14 09:30)"
    if kind.startswith("date"):
        return f"invalid date {_show(value)} (write 2026-12-03 or today+14)"
    if kind == "missing":
        return "missing; it is required"
    if kind == "extra_forbidden":
        return "unknown field; check its spelling"
    message = problem["msg"].removeprefix("Value error, ")
    if isinstance(value, str | int | float) and kind != "value_error" and "too_long" not in kind:
        message += f", not {_show(value)}"
    return message


# what a person holding a place must hear about when it changes
WATCHED = {
    "courses": {"starts_on", "ends_on", "daily_hours", "room", "status", "base_id"},
    "job_fairs": {"starts_at", "ends_at", "venue", "address", "status"},
}


async def _upsert(
    session: AsyncSession,
    model: type,
    rows: list[dict[str, Any]],
    changes: list[tuple[str, int, set[str]]] | None = None,
) -> int:
    """Insert new rows, update existing ones (by code); note watched fields that changed."""
    if not rows:
        return 0
    watched = WATCHED.get(model.__tablename__, set())
    existing = {
        obj.code: obj
        for obj in await session.scalars(
            select(model).where(model.code.in_([r["code"] for r in rows]))
        )
    }
    for row in rows:
        obj = existing.get(row["code"])
        if obj is None:
            session.add(model(**row))
        else:
            changed = {n for n, v in row.items() if n in watched and getattr(obj, n) != v}
            for name, value in row.items():
                setattr(obj, name, value)
            if changed and changes is not None:
                changes.append((model.__tablename__, obj.id, changed))
    await session.flush()
    return len(rows)


async def import_data(
    session: AsyncSession,
    data: DataFile,
    changes: list[tuple[str, int, set[str]]] | None = None,
) -> dict[str, int]:
    """Insert or update every row of `data`; returns how many of each kind. `changes`
    collects (table, id, fields) for courses and fairs whose date, place or status moved.

    A course's training base must be in `data` or already in the database: otherwise
    `DataFileError` names the file, the course's row and the field `base`, and nothing is
    written (the check comes first)."""
    in_file = {row.code for row in data.training_bases}
    wanted = {row.base for row in data.courses} - in_file
    known = set(
        await session.scalars(select(TrainingBase.code).where(TrainingBase.code.in_(wanted)))
        if wanted
        else ()
    )
    for index, row in enumerate(data.courses):
        if row.base not in in_file and row.base not in known:
            raise DataFileError(
                f"unknown training base {_show(row.base)}, neither in the file's "
                "training_bases nor in the database",
                _field("courses", index, row.code, "base"),
                data.source,
            )
    counts = {"training_bases": await _upsert(session, TrainingBase, _dump(data.training_bases))}
    base_ids = {
        code: id_ for code, id_ in await session.execute(select(TrainingBase.code, TrainingBase.id))
    }
    courses = []
    for row in data.courses:
        values = row.model_dump()
        values["base_id"] = base_ids[values.pop("base")]
        values["fee_fen"] = round(values.pop("fee_yuan") * 100)
        courses.append(values)
    counts["courses"] = await _upsert(session, Course, courses, changes)
    counts["job_fairs"] = await _upsert(session, JobFair, _dump(data.job_fairs), changes)
    counts["workers"] = await _upsert(session, DemoWorker, _dump(data.workers))
    counts["households"] = await _upsert(session, DemoHousehold, _dump(data.households))
    return counts


def _dump(rows: list[BaseModel]) -> list[dict[str, Any]]:
    return [r.model_dump() for r in rows]
