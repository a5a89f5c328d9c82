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
- stops reading YAML after `MAX_NODES` values (200,000), as soon as it gets there, so
  that a file of a million tiny values (`- ` lines, `[]`s) is refused quickly and small;
- caps every text at its column's length (`storage.models`), every list at `MAX_ITEMS`
  (a fair's employers at `MAX_EMPLOYERS`) and a fair's `employers` and a household's
  free-form `need` at `MAX_JSON` characters, so that no row can be megabytes, and numbers
  to fit columns.

And a data file must say what it means, once: a key written twice in one mapping (YAML or
JSON) is refused rather than the last one silently winning; texts may not hold control
characters (other than tab and newline) or the invisible marks that reverse how text is
shown (U+202A–U+202E, U+2066–U+2069); dates must lie in 2000–2099 and times carry no
time zone; a fair's employers and their jobs have fixed fields (`EmployerRow`, `JobRow`),
since every viewer's fair card shows them.

Every problem (a missing file, broken YAML or JSON, a bad date, an unknown training base,
a code used twice...) is raised as a `DataFileError` whose text is one line naming the
file, the row (counted from 1) and the field, e.g.
`courses.yaml: courses row 3 (code ys1), field starts_on: invalid date 'tomorrow-ish' ...`;
a field inside a list is a path with items counted from 1, too:
`fairs.yaml: job_fairs row 1 (code f1), field employers.2.jobs.1.pay_min: ...`.
An import is all or nothing: nothing of a refused file is written.

Two sections serve the demo's workers (issue 10): `past_courses` are courses that have
already ended (imported like `courses`; staff mark who completed them), and
`worker_profiles` are fictional workers with real, vetted profiles in every state. Those
are read and checked here, but created only by the demo loader (`haoxin chat --demo`,
`storage.demo_workers`), never by `haoxin import`: no data file may put a "verified"
worker in front of households without staff vetting her.
"""

from __future__ import annotations

import datetime as dt
import gc
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
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import ErrorDetails
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode
from yaml.reader import ReaderError
from yaml.resolver import Resolver

from storage import vocab
from storage.fairs import FairRepo
from storage.models import Course, DemoHousehold, DemoWorker, JobFair, TrainingBase, utcnow
from storage.workers import BadIdNumber, check_id_number, read_code

DEMO_FILE = Path(__file__).parent / "demo.yaml"
#: the largest data file read, in bytes: the demo file is under 10 KB
MAX_BYTES = 1024 * 1024
#: the most rows one file may hold, all kinds together
MAX_ROWS = 5000
SUFFIXES = (".yaml", ".yml", ".json")
#: the most items of a list field (free_for, categories, certificates...)
MAX_ITEMS = 50
#: the most employers at one job fair
MAX_EMPLOYERS = 200
#: the longest free-form field (a fair's employers, a household's need), as JSON text
MAX_JSON = 100_000
#: the most values (every mapping, list, key and value: YAML's nodes) a YAML file may hold,
#: 40 for each row allowed, counted as it is read. A 1 MiB file of tiny values
#: (`"-\n" * 524288`, `courses: [{a: []}, ...]`, `courses:` then `- {}` lines) holds
#: 210,000-524,000 of them, and `haoxin import` read them all before refusing it (for too
#: many rows, or for not holding sections): 6.7-11.3 s and 285-358 MB peak (time -v).
#: Refused at the 200,001st value, it takes 4.0-4.2 s and 193-206 MB, of which starting
#: the command is 2.5 s and 132 MB; reading alone (`read_file`) went from 3.3-8.4 s and
#: 150-220 MB over what Python had to 1.3-1.9 s and 60-75 MB. A real file meets `MAX_BYTES`
#: first: the demo file holds 737 values, a 5,000-row course file of 750 KB 95,000.
MAX_NODES = 40 * MAX_ROWS
#: the dates a course or fair may have: anything else is a typing slip (`0001-01-01`)
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
SECTIONS = (
    "training_bases",
    "courses",
    "past_courses",
    "job_fairs",
    "workers",
    "households",
    "worker_profiles",
)

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
        text = " ".join(text.splitlines())
        # a code or field name from the file may hold an escape sequence or a bidi override:
        # shown as `\x1b`, `\u202e`, never sent to the terminal as is
        return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


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

    _nodes = 0  # the values composed so far, against `MAX_NODES`

    def compose_node(self, parent: Any, index: Any) -> Any:
        # an anchor or alias is refused before any node is shared, so nothing expands
        event = self.peek_event()  # type: ignore[attr-defined]
        if isinstance(event, AliasEvent) or event.anchor is not None:
            raise DataFileError(
                "YAML anchors and aliases (&name, *name) are not allowed; "
                "write every row out in full",
                _line(event.start_mark),
            )
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise DataFileError(
                f"more than {MAX_NODES:,} values (rows, fields and list items together), "
                "the most one file may hold; split it",
                _line(event.start_mark),
            )
        return super().compose_node(parent, index)  # type: ignore[misc]

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        # a key written twice is refused: otherwise the last one silently wins
        if isinstance(node, MappingNode):
            self.flatten_mapping(node)  # type: ignore[attr-defined]  # `<<:` keys count too
            seen: dict[Any, Any] = {}
            for key_node, _value in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    other = seen.setdefault(key, key_node)
                except TypeError:  # a list as a key: PyYAML's own message names it
                    continue
                if other is not key_node:  # name the later one (`<<:` keys come first)
                    first, second = sorted((other, key_node), key=lambda n: n.start_mark.index)
                    raise DataFileError(
                        f"{_show(key)} is written twice here (also on line "
                        f"{first.start_mark.line + 1}); write it once",
                        _line(second.start_mark),
                    )
        return super().construct_mapping(node, deep)  # type: ignore[misc]

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


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`object_pairs_hook` for `json.loads`: a key written twice is refused."""
    mapping: dict[str, Any] = {}
    for key, value in pairs:
        if key in mapping:
            code = mapping.get("code", dict(pairs).get("code"))
            place = f" (the one with code {_show(code)})" if isinstance(code, str) else ""
            raise DataFileError(
                f"{_show(key)} is written twice in the same {{...}}{place}; write it once"
            )
        mapping[key] = value
    return mapping


# C0 and C1 control characters but tab and newline, and the bidi embeddings, overrides
# and isolates (U+202A-U+202E, U+2066-U+2069), which make a name display reversed
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _hidden(text: str) -> str | None:
    """Why `text` cannot be shown as written, or None when it can."""
    found = _HIDDEN.search(text)
    if found is None:
        return None
    char = found.group()
    what = (
        "an invisible mark that changes the direction text is shown in"
        if "\u202a" <= char
        else "a control character"
    )
    return f"{_show(text)} holds {what} (U+{ord(char):04X}); remove it"


def _plain_texts(value: Any) -> Any:
    """Refuse hidden characters in a text, or any text (or key) inside lists and mappings."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            why = _hidden(item)
            if why:
                raise ValueError(why)
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
    return value


def _in_range(value: dt.date) -> dt.date:
    day = value.date() if isinstance(value, dt.datetime) else value
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(
            f"the date {day} is out of range: write one from {FIRST_DAY} to {LAST_DAY}"
        )
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        raise ValueError(
            f"{value.isoformat()} has a time zone; write the local time without one "
            "(2026-12-03 09:30)"
        )
    return value


def _model_data(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump()
    raise TypeError(type(value).__name__)


def _small_json(value: Any) -> Any:
    try:
        size = len(json.dumps(value, ensure_ascii=False, default=_model_data))
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
Day = Annotated[dt.date, AfterValidator(_in_range)]  # 2000-01-01 to 2099-12-31
Moment = Annotated[dt.datetime, AfterValidator(_in_range)]  # the same days, no time zone
Pay = Annotated[int, Field(ge=0, le=1_000_000)]  # yuan a month (or, under 300, an hour)


class _Model(BaseModel):
    """What every row and part of a row shares: known fields only, texts shown as written."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _no_hidden_characters(cls, value: Any) -> Any:
        return _plain_texts(value)


class _Row(_Model):
    code: str = Field(min_length=1, max_length=40)


# `<field>_en`: the field in English, shown to English readers (optional; without it they
# see the Chinese). Kinds of work, counties and cities need none: their vocabularies
# (`storage.vocab`) name them in every language.
class BaseRow(_Row):
    name: Phrase
    name_en: Phrase = ""
    address: str = Field(default="", max_length=200)
    address_en: str = Field(default="", max_length=200)
    county: Word = ""
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    phone: Word = ""


class CourseRow(_Row):
    title: Phrase
    title_en: Phrase = ""
    track: Word
    brand: Word = ""
    base: Word
    starts_on: Day
    ends_on: Day
    daily_hours: Word = ""
    seats: int = Field(ge=0, le=100_000)
    fee_yuan: float = Field(default=0, ge=0, le=10_000_000)
    free_for: Words = []
    certificate: Phrase = ""
    certificate_en: Phrase = ""
    teaching_language: Word = ""
    lodging: bool = False
    childcare: bool = False
    signup_closes_on: Day | None = None
    room: str = Field(default="", max_length=80)
    status: str = Field(default="open", pattern="^(open|cancelled)$")

    @field_validator("ends_on")
    @classmethod
    def _ends_after_start(cls, ends_on: dt.date, info: ValidationInfo) -> dt.date:
        starts_on = info.data.get("starts_on")
        if starts_on is not None and ends_on < starts_on:
            raise ValueError(f"the course ends ({ends_on}) before it starts ({starts_on})")
        return ends_on

    @field_validator("signup_closes_on")
    @classmethod
    def _closes_before_start(cls, closes: dt.date | None, info: ValidationInfo) -> dt.date | None:
        starts_on = info.data.get("starts_on")
        if closes is not None and starts_on is not None and closes > starts_on:
            raise ValueError(f"sign-up closes ({closes}) after the course starts ({starts_on})")
        return closes


class PastCourseRow(CourseRow):
    """A course that has already ended (`past_courses`): imported like any course, so
    that staff can mark who completed it; one ending today or later belongs in
    `courses`."""

    @field_validator("ends_on")
    @classmethod
    def _ended(cls, ends_on: dt.date) -> dt.date:
        if ends_on >= dt.date.today():
            raise ValueError(f"the course ends {ends_on}, not before today: write it under courses")
        return ends_on


class JobRow(_Model):
    """One kind of job an employer offers at a fair, as the fair card shows it:
    `• firm: category · destination · ¥pay_min–pay_max a month · live-in`."""

    category: Word = Field(min_length=1)
    destination: Word = ""
    pay_min: Pay | None = None
    pay_max: Pay | None = None
    live_in: bool = False

    @field_validator("pay_max")
    @classmethod
    def _max_above_min(cls, pay_max: int | None, info: ValidationInfo) -> int | None:
        pay_min = info.data.get("pay_min")
        if pay_max is not None and pay_min is not None and pay_max < pay_min:
            raise ValueError(f"the highest pay ({pay_max}) is below the lowest ({pay_min})")
        return pay_max


class EmployerRow(_Model):
    """An employer at a fair: stored (`model_dump`) as the fair card reads it."""

    name: Phrase = Field(min_length=1)
    name_en: Phrase = ""
    jobs: Annotated[list[JobRow], Field(max_length=MAX_ITEMS)] = []

    @model_serializer(mode="wrap")
    def _english_when_given(self, dump: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Stored as written: `name_en` only where the file gives one."""
        stored = dump(self)
        if not stored.get("name_en"):
            stored.pop("name_en", None)
        return stored


class FairRow(_Row):
    title: str = Field(max_length=160)
    title_en: str = Field(default="", max_length=160)
    starts_at: Moment
    ends_at: Moment | None = None
    venue: str = Field(default="", max_length=160)
    venue_en: str = Field(default="", max_length=160)
    address: str = Field(default="", max_length=200)
    address_en: str = Field(default="", max_length=200)
    county: Word = ""
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    organiser: Phrase = ""
    organiser_en: Phrase = ""
    registration_required: bool = False
    employers: Annotated[
        list[EmployerRow], Field(max_length=MAX_EMPLOYERS), AfterValidator(_small_json)
    ] = []
    status: str = Field(default="open", pattern="^(open|cancelled)$")

    @field_validator("ends_at")
    @classmethod
    def _ends_after_start(cls, ends_at: dt.datetime | None, info: ValidationInfo) -> Any:
        starts_at = info.data.get("starts_at")
        if ends_at is not None and starts_at is not None and ends_at < starts_at:
            raise ValueError(f"the fair ends ({ends_at}) before it starts ({starts_at})")
        return ends_at


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


# -- the demo's workers (`worker_profiles`): created only by `storage.demo_workers` -------

#: how far a demo worker's vetting went: `shown` is verified and shown to households;
#: `paused`, `expiring` (health check runs out within 30 days), `expired` and
#: `suspended` are verified too
DEMO_STATES = (
    "draft",
    "submitted",
    "changes",
    "shown",
    "paused",
    "expiring",
    "expired",
    "rejected",
    "suspended",
)
VERIFIED_DEMO_STATES = ("shown", "paused", "expiring", "expired", "suspended")


def _relative_day(value: Any) -> Any:
    return _when(value, dt.date.today())


def _known(vocabulary: Any, ids: list[str]) -> list[str]:
    for term_id in ids:
        if vocabulary.get(term_id) is None:
            known = ", ".join(t.id for t in vocabulary)
            raise ValueError(f"unknown {vocabulary.kind} {_show(term_id)}; write one of {known}")
    return ids


class CertificateRow(_Model):
    """One certificate of a demo worker (`CERTIFICATES` id), checked by staff when she
    is verified."""

    kind: Word
    number: Word = ""
    issuer: str = Field(default="", max_length=80)
    issued_on: Day | None = None

    _relative = field_validator("issued_on", mode="before")(_relative_day)

    @field_validator("kind")
    @classmethod
    def _a_certificate(cls, kind: str) -> str:
        return _known(vocab.CERTIFICATES, [kind])[0]


class TrainingRow(_Model):
    """A course she trained on through Haoxin: a confirmed sign-up, marked attended
    (`completed_on`: completed that day) by staff; `marked: false` leaves it unmarked."""

    course: Word
    completed_on: Day | None = None
    marked: bool = True

    _relative = field_validator("completed_on", mode="before")(_relative_day)


class PastJobRow(_Model):
    what: Word
    where: Word
    years: int = Field(ge=0, le=60)


class WorkerProfileRow(_Row):
    """A fictional worker with a real profile (`WorkerProfile`), a person of her own
    (`demo:<code>`), vetted by `demo:staff` as far as `state` says."""

    state: str = Field(pattern="^(" + "|".join(DEMO_STATES) + ")$")
    lang: str = Field(default="zh", pattern="^(zh|yue|en)$")
    name: str = Field(min_length=1, max_length=40)
    #: a mainland mobile number, 11 digits (kept as +86...)
    phone: str = Field(pattern=r"^1[3-9]\d{9}$")
    county: Word
    age: int = Field(ge=16, le=70)
    #: kept as its last four characters and a keyed hash, never whole
    id_number: str = ""
    kinds: Words
    skills: Words = []
    years: int | None = Field(default=None, ge=0, le=60)
    jobs: Annotated[list[PastJobRow], Field(max_length=5)] = []
    places: Words = []
    #: mode → [lowest, highest] yuan: a month (live_in, day) or an hour (hourly)
    pay: dict[str, Annotated[list[Pay], Field(min_length=2, max_length=2)]] = {}
    languages: Words = []
    available_from: Day | None = None
    available_until: Day | None = None
    intro: str = Field(default="", max_length=500)
    health_passed_on: Day | None = None
    certificates: Annotated[list[CertificateRow], Field(max_length=10)] = []
    trainings: Annotated[list[TrainingRow], Field(max_length=10)] = []
    #: when she sent it to staff, and when staff checked it
    submitted_on: Day | None = None
    checked_on: Day | None = None
    #: staff's reason (changes, rejected, suspended) and her answer (changes)
    reason: str = Field(default="", max_length=500)
    answer: str = Field(default="", max_length=500)
    #: the credential's verification code (verified states), as people read it
    credential: str = ""

    _relative = field_validator(
        "available_from",
        "available_until",
        "health_passed_on",
        "submitted_on",
        "checked_on",
        mode="before",
    )(_relative_day)

    @field_validator("kinds", "skills", "places", "languages", "pay", "county")
    @classmethod
    def _vocabulary_ids(cls, value: Any, info: ValidationInfo) -> Any:
        field = info.field_name
        if field == "skills":
            for skill in value:
                if skill not in vocab.ADD_ON_SKILLS:
                    raise ValueError(f"unknown add-on skill {_show(skill)}")
            return value
        if field in ("places", "county"):
            ids = [value] if field == "county" else value
            for place in ids:
                if vocab.COUNTIES.get(place) is None and vocab.CITIES.get(place) is None:
                    raise ValueError(f"unknown county or city {_show(place)}")
            return value
        vocabulary = {
            "kinds": vocab.KINDS_OF_WORK,
            "languages": vocab.LANGUAGES,
            "pay": vocab.MODES,
        }[str(field)]
        _known(vocabulary, list(value))
        return value

    @field_validator("id_number")
    @classmethod
    def _an_id_number(cls, number: str) -> str:
        if not number:
            return number
        try:
            return check_id_number(number)
        except BadIdNumber as exc:
            raise ValueError(f"not an ID number ({exc.why})") from None

    @field_validator("credential")
    @classmethod
    def _a_code(cls, credential: str) -> str:
        if not credential:
            return credential
        code = read_code(credential)
        if code is None:
            raise ValueError(f"{_show(credential)} is not a code of 12 letters and digits")
        return code

    @model_validator(mode="after")
    def _as_far_as_the_state_says(self) -> WorkerProfileRow:
        verified = self.state in VERIFIED_DEMO_STATES
        if verified and not (self.credential and self.health_passed_on and self.checked_on):
            raise ValueError(
                f"a {self.state} worker needs credential, health_passed_on and checked_on"
            )
        if not verified and self.credential:
            raise ValueError(f"a {self.state} worker has no credential")
        if self.state in ("changes", "rejected", "suspended") and not self.reason:
            raise ValueError(f"a {self.state} worker needs the staff's reason")
        if self.state in ("changes", "rejected") and not self.checked_on:
            raise ValueError(f"a {self.state} worker needs checked_on")
        return self


class DataFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    training_bases: Annotated[list[BaseRow], Field(max_length=MAX_ROWS)] = []
    courses: Annotated[list[CourseRow], Field(max_length=MAX_ROWS)] = []
    past_courses: Annotated[list[PastCourseRow], Field(max_length=MAX_ROWS)] = []
    job_fairs: Annotated[list[FairRow], Field(max_length=MAX_ROWS)] = []
    workers: Annotated[list[WorkerRow], Field(max_length=MAX_ROWS)] = []
    households: Annotated[list[HouseholdRow], Field(max_length=MAX_ROWS)] = []
    worker_profiles: Annotated[list[WorkerProfileRow], Field(max_length=MAX_ROWS)] = []
    _source: str = PrivateAttr(default="")

    @property
    def source(self) -> str:
        """The file the data was read from, as named; empty when built in code."""
        return self._source

    @field_validator("courses", "past_courses", "job_fairs", mode="before")
    @classmethod
    def _relative_dates(cls, rows: Any) -> Any:
        today = dt.date.today()
        if isinstance(rows, list):
            return [
                {k: _when(v, today) for k, v in r.items()} if isinstance(r, dict) else r
                for r in rows
            ]
        return rows


def read_bytes(path: Path, name: str) -> bytes:
    """A data file's bytes, at most `MAX_BYTES` read whatever the file claims (`name`:
    how error lines name it). Raises `DataFileError` for a missing, unreadable or
    too large file, a directory or anything not a regular file."""
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
    return content


def read_file(path: Path | str) -> DataFile:
    """Read and check a data file (`.json` is JSON, `.yaml` and `.yml` YAML).

    Raises `DataFileError` (one line naming the file, the row and the field) and nothing
    else, for a missing or unreadable file, one over `MAX_BYTES` or `MAX_ROWS`, text
    that is not UTF-8, broken YAML or JSON, YAML anchors or aliases, unknown sections or
    fields, a value a row model refuses, or a code used twice by one kind. An empty file
    (or only comments, `{}`, empty lists) reads as a `DataFile` without rows.
    """
    name = str(path)
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise DataFileError(
            "only .yaml, .yml or .json data files can be imported (save a spreadsheet "
            "as one of those first)",
            file=name,
        )
    content = read_bytes(path, name)
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
        if as_json:
            return json.loads(text, object_pairs_hook=_json_pairs)
        return _load_yaml(text)
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
    except ReaderError as exc:  # a control character written as is
        at = text.find(chr(exc.character)) if isinstance(exc.character, int) else -1
        where = f"line {text.count(chr(10), 0, at) + 1}" if at >= 0 else ""
        what = f"U+{exc.character:04X}" if isinstance(exc.character, int) else "?"
        raise DataFileError(
            f"a control character ({what}) that cannot be shown; remove it", where, name
        ) from exc
    except yaml.YAMLError as exc:
        raise DataFileError(f"broken YAML: {exc}", file=name) from exc
    except RecursionError:
        raise DataFileError(f"broken {kind}: nested too deeply", file=name) from None
    except ValueError as exc:  # JSON: an integer of more than 4300 digits
        raise DataFileError(f"broken {kind}: {exc}", file=name) from exc


def _load_yaml(text: str) -> Any:
    # PyYAML makes a few objects a value, and no reference cycles to speak of (aliases are
    # refused): Python's cycle collector, run again and again over the growing pile, took
    # half the time of reading a large file (3.4 s of 200,000 values, 1.4 s without it)
    collecting = gc.isenabled()
    gc.disable()
    try:
        return yaml.load(text, Loader=_LOADER)
    finally:
        if collecting:
            gc.enable()


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
    upcoming = {row.code: index for index, row in enumerate(data.courses)}
    for index, row in enumerate(data.past_courses):
        if row.code in upcoming:
            raise DataFileError(
                f"the same code as {_row('courses', upcoming[row.code])}; a code may be used once",
                _field("past_courses", index, row.code, "code"),
                name,
            )
    return data


def course_rows(data: DataFile) -> list[tuple[str, int, CourseRow]]:
    """Every course of `data`, upcoming and past, with its section and index there."""
    return [("courses", i, row) for i, row in enumerate(data.courses)] + [
        ("past_courses", i, row) for i, row in enumerate(data.past_courses)
    ]


def _field(section: str, index: int, code: Any, *path: str | int) -> str:
    """`courses row 3 (code ys1), field starts_on`; inside lists, items count from 1:
    `job_fairs row 1 (code f1), field employers.2.jobs.1.pay_min`."""
    steps = (str(p + 1) if isinstance(p, int) else _clip(str(p)) for p in path)
    return f"{_row(section, index, code)}, field {'.'.join(steps)}"


def _locate(loc: tuple[str | int, ...], raw: dict[str, Any]) -> str:
    """`('courses', 2, 'starts_on')` → `courses row 3 (code ys1), field starts_on`."""
    if len(loc) < 2 or not isinstance(loc[1], int):
        return ", ".join(_clip(str(part)) for part in loc)
    section, index, *path = loc
    rows = raw.get(str(section))
    row = rows[index] if isinstance(rows, list) and index < len(rows) else None
    code = row.get("code") if isinstance(row, dict) else None
    return _field(str(section), index, code, *path) if path else _row(str(section), index, code)


# pydantic's wording, where it speaks of types
_PLAIN = {
    "int_parsing": "should be a whole number",
    "int_type": "should be a whole number",
    "int_from_float": "should be a whole number",
    "float_parsing": "should be a number",
    "float_type": "should be a number",
    "string_type": "should be text",
    "list_type": "should be a list",
    "bool_parsing": "should be true or false",
    "bool_type": "should be true or false",
}


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
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"should be fields written `name: value`, not {_show(value)}"
    message = _PLAIN.get(kind) or problem["msg"].removeprefix("Value error, ")
    message = message.replace(" after validation", "")  # `List should have at most 50 items`
    if isinstance(value, str | int | float) and kind != "value_error" and "too_long" not in kind:
        message += f", not {_show(value)}"
    return message


# what a person holding a place must hear about when it changes
WATCHED = {
    # seats: more seats go to the people waiting (handlers.changes), without a notice
    "courses": {"starts_on", "ends_on", "daily_hours", "room", "status", "base_id", "seats"},
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
    all_courses = course_rows(data)
    wanted = {row.base for _s, _i, row in all_courses} - in_file
    known = set(
        await session.scalars(select(TrainingBase.code).where(TrainingBase.code.in_(wanted)))
        if wanted
        else ()
    )
    for section, index, row in all_courses:
        if row.base not in in_file and row.base not in known:
            raise DataFileError(
                f"unknown training base {_show(row.base)}, neither in the file's "
                "training_bases nor in the database",
                _field(section, index, row.code, "base"),
                data.source,
            )
    searched_as = await _base_names(session, TrainingBase.code.in_(in_file)) if in_file else {}
    counts = {"training_bases": await _upsert(session, TrainingBase, _dump(data.training_bases))}
    await _reindex_renamed_bases(session, searched_as)
    base_ids = {
        code: id_ for code, id_ in await session.execute(select(TrainingBase.code, TrainingBase.id))
    }
    courses = []
    for _section, _index, row in all_courses:
        values = row.model_dump()
        values["base_id"] = base_ids[values.pop("base")]
        values["fee_fen"] = round(values.pop("fee_yuan") * 100)
        courses.append(values)
    counts["courses"] = await _upsert(session, Course, courses, changes)
    await _keep_seated(session, data)
    fairs = _dump(data.job_fairs)
    counts["job_fairs"] = await _upsert(session, JobFair, fairs, changes)
    # where each fair's jobs are, as the fairs list filters them (FairPlace)
    await FairRepo(session).keep_places(codes=[row["code"] for row in fairs])
    counts["workers"] = await _upsert(session, DemoWorker, _dump(data.workers))
    counts["households"] = await _upsert(session, DemoHousehold, _dump(data.households))
    return counts


async def _base_names(session: AsyncSession, which: Any) -> dict[int, tuple[str, str]]:
    """What search reads of the training bases `which` selects (name, county), by id."""
    rows = await session.execute(
        select(TrainingBase.id, TrainingBase.name, TrainingBase.county).where(which)
    )
    return {id_: (name, county) for id_, name, county in rows}


async def _reindex_renamed_bases(session: AsyncSession, before: dict[int, tuple[str, str]]) -> None:
    """A course is found by its training base's name and county too: when those change,
    its `updated_at` moves, so every running search index reads it again."""
    if not before:
        return
    now = await _base_names(session, TrainingBase.id.in_(list(before)))
    renamed = [id_ for id_, seen in before.items() if now.get(id_) != seen]
    if renamed:
        await session.execute(
            update(Course).where(Course.base_id.in_(renamed)).values(updated_at=utcnow())
        )


async def _keep_seated(session: AsyncSession, data: DataFile) -> None:
    """An open course may not get fewer seats than people already seated in it (its
    `seats_taken` would stand above `seats`): `DataFileError` names the row, and the
    whole import is rolled back. Cancelling the course, or their places, comes first."""
    rows = {
        row.code: (section, index)
        for section, index, row in course_rows(data)
        if row.status == "open"
    }
    if not rows:
        return
    over = await session.execute(
        select(Course.code, Course.seats, Course.seats_taken).where(
            Course.code.in_(list(rows)), Course.seats < Course.seats_taken
        )
    )
    for code, seats, taken in over:
        raise DataFileError(
            f"{seats} seats is fewer than the {taken} people already seated; keep at least "
            f"{taken} seats, or cancel their places first",
            _field(rows[code][0], rows[code][1], code, "seats"),
            data.source,
        )


def _dump(rows: list[BaseModel]) -> list[dict[str, Any]]:
    return [r.model_dump() for r in rows]
