"""Reading and checking a spreadsheet for a bulk import (`storage.bulk_import`): the
columns of each kind, every cell read, every problem collected.

Each kind has its columns (`COURSES`, `FAIRS`, `WORKERS`: a field and the names a header
may give it, Chinese too, compared without case, spaces, `_` or `-`); `序号`/`no` and
`备注`/`note` columns are there for the staff's own use and ignored. A header naming an
unknown column, or lacking a required one, refuses the file.

Every row is checked (`check_rows`), with the same row models as data files
(`storage.importer`: `CourseRow`, `FairRow`, `WorkerProfileRow`): **every** problem is
collected, with the spreadsheet's row number, the column and a reason (`Problem`: a
stable `code` and its `params` for a translated message, and English text), and any
problem refuses the whole file (`ValidationFailed`): nothing is written.

Cells: dates through `storage.tabular.parse_date` (2026-12-09, 2026/12/9, 2026年12月9日,
Excel's date cells); yes/no as `是`/`否`, `yes`/`no`, `y`/`n`, `1`/`0`, `√`/`×`; lists
(kinds of work, places, free-training groups...) separated by `,` `，` `、` `;` `；` or
line breaks, each named as people write it (`月嫂`, `电白`, `广州`) or by its id. A text cell
that starts a formula (`=`) is refused: type the value itself. A leading `'` that an export
put before `+`, `-` or `@` (so that Excel shows it as text) is taken off again; before
`=`, too, and the formula is then refused.

The small writing helpers every kind shares (matching rows by code, noting watched
changes, the audit entry) are here too.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.validate import phone_number
from storage import vocab
from storage.importer import (
    WATCHED,
    DataFileError,
    _reason,
)
from storage.models import AuditEntry, utcnow
from storage.tabular import Table, parse_date, parse_datetime
from storage.training_import import NO, YES, masked
from storage.workers import (
    BadIdNumber,
    check_id_number,
)

MAX_PROBLEMS = 500
#: how the template's example rows' codes begin (`handlers.import_template`): such a row
#: is refused, so that a template sent back unchanged changes nothing
EXAMPLE_CODE = "example-"
#: what a progress callback gets: rows done, rows in all
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Column:
    """A column of an import: the row model's `field`, the names a header may give it,
    how its cells are read (`kind`), and whether the header must have it."""

    field: str
    names: tuple[str, ...]
    kind: str = "text"  # text, int, number, bool, date, datetime, list, status, ...
    required: bool = False


def _cols(*columns: Column) -> dict[str, Column]:
    return {c.field: c for c in columns}


COURSES = _cols(
    Column(
        "code", ("code", "编号", "课程编号", "课程代码", "代码", "編號", "課程編號"), required=True
    ),
    Column("title", ("title", "课程名称", "名称", "课程名", "課程名稱", "名稱"), required=True),
    Column("title_en", ("title_en", "英文名称", "英文名稱")),
    Column("track", ("track", "工种", "类别", "培训类别", "工種", "類別"), required=True),
    Column("brand", ("brand", "品牌")),
    Column("base", ("base", "培训基地", "基地", "基地编号", "培訓基地"), "base", required=True),
    Column(
        "starts_on",
        ("starts_on", "start", "开始日期", "开课日期", "開始日期", "開課日期"),
        "date",
        required=True,
    ),
    Column("ends_on", ("ends_on", "end", "结束日期", "結束日期"), "date", required=True),
    Column("daily_hours", ("daily_hours", "hours", "上课时间", "上課時間", "时间")),
    Column("seats", ("seats", "名额", "人数", "名額", "人數"), "int", required=True),
    Column("fee_yuan", ("fee_yuan", "fee", "费用", "学费", "收费", "費用", "學費"), "number"),
    Column("free_for", ("free_for", "免费对象", "免費對象"), "groups"),
    Column("certificate", ("certificate", "证书", "證書")),
    Column("certificate_en", ("certificate_en", "英文证书")),
    Column(
        "teaching_language",
        ("teaching_language", "language", "授课语言", "教学语言", "授課語言"),
    ),
    Column("lodging", ("lodging", "住宿", "包住"), "bool"),
    Column("childcare", ("childcare", "托儿", "托管", "托兒"), "bool"),
    Column(
        "signup_closes_on",
        ("signup_closes_on", "signup_closes", "报名截止", "报名截止日期", "報名截止"),
        "date",
    ),
    Column("room", ("room", "教室", "课室", "課室")),
    Column("status", ("status", "状态", "狀態"), "status"),
)

FAIRS = _cols(
    Column("code", ("code", "编号", "招聘会编号", "代码", "編號"), required=True),
    Column("title", ("title", "名称", "招聘会名称", "招聘会", "名稱"), required=True),
    Column("title_en", ("title_en", "英文名称")),
    Column(
        "starts_at",
        ("starts_at", "start", "开始时间", "举办时间", "時間", "开始", "開始時間"),
        "datetime",
        required=True,
    ),
    Column("ends_at", ("ends_at", "end", "结束时间", "結束時間", "结束"), "end_time"),
    Column("venue", ("venue", "场地", "地点", "會場", "場地", "地點")),
    Column("venue_en", ("venue_en", "英文场地")),
    Column("address", ("address", "地址")),
    Column("address_en", ("address_en", "英文地址")),
    Column("county", ("county", "县区", "区县", "縣區", "區縣"), "county"),
    Column("latitude", ("latitude", "lat", "纬度", "緯度"), "number"),
    Column("longitude", ("longitude", "lng", "lon", "经度", "經度"), "number"),
    Column("organiser", ("organiser", "organizer", "主办", "主办单位", "主辦單位")),
    Column("organiser_en", ("organiser_en", "organizer_en")),
    Column(
        "registration_required",
        ("registration_required", "需报名", "需要报名", "须报名", "需報名"),
        "bool",
    ),
    Column(
        "employers",
        ("employers", "参会企业", "企业", "用人单位", "參會企業", "企業"),
        "employers",
    ),
    Column("status", ("status", "状态", "狀態"), "status"),
)

WORKERS = _cols(
    Column("code", ("code", "编号", "人员编号", "工号", "編號"), required=True),
    Column("name", ("name", "姓名", "名字"), required=True),
    Column(
        "phone",
        ("phone", "mobile", "电话", "手机", "手机号", "联系电话", "電話", "手機"),
        "phone",
        required=True,
    ),
    Column("county", ("county", "县区", "区县", "所在县区", "縣區"), "county", required=True),
    Column("age", ("age", "年龄", "年齡"), "int", required=True),
    Column(
        "id_number",
        ("id_number", "id", "身份证号", "身份证", "身份证号码", "身份證號", "身份證"),
        "id_number",
    ),
    Column(
        "kinds",
        ("kinds", "kinds_of_work", "工种", "服务类别", "可做工种", "工種"),
        "kinds",
        required=True,
    ),
    Column("years", ("years", "从业年限", "工作年限", "经验年限", "年資"), "int"),
    Column("places", ("places", "工作地点", "意向地点", "可去地区", "工作地點"), "places"),
    Column("languages", ("languages", "语言", "方言", "語言"), "languages"),
    Column("pay_live_in", ("pay_live_in", "住家月薪", "住家薪资"), "pay"),
    Column("pay_day", ("pay_day", "日间月薪", "日间薪资"), "pay"),
    Column("pay_hourly", ("pay_hourly", "时薪", "钟点工时薪", "時薪"), "pay"),
    Column("available_from", ("available_from", "可上岗日期", "可开始日期"), "date"),
    Column("available_until", ("available_until", "可工作至", "截止日期"), "date"),
    Column("intro", ("intro", "自我介绍", "简介", "介绍", "自我介紹")),
    Column("certificates", ("certificates", "证书", "證書"), "certificates"),
)

#: columns staff keep for themselves: read past, never imported
IGNORED = ("no", "序号", "序號", "note", "notes", "remark", "备注", "備註")
_STATUS = {
    "open": "open",
    "开放": "open",
    "開放": "open",
    "正常": "open",
    "报名中": "open",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "取消": "cancelled",
    "已取消": "cancelled",
}
_LIST = re.compile(r"[,，、;；\n]+")
_ITEMS = re.compile(r"[;；\n]+")
#: a text an export neutralised (`storage.exports.safe_cell`): the quote comes off again
_NEUTRALISED = ("'=", "'+", "'-", "'@", "'\t", "'\r")
# pydantic's error types → a `Problem.code`
_CODES = {
    "missing": "missing",
    "string_too_long": "too_long",
    "string_too_short": "missing",
    "too_long": "too_many",
    "int_parsing": "not_a_number",
    "int_from_float": "not_a_number",
    "float_parsing": "not_a_number",
    "greater_than_equal": "too_small",
    "greater_than": "too_small",
    "less_than_equal": "too_large",
    "less_than": "too_large",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a spreadsheet: the spreadsheet's `row` (0: the file), the
    `column` (a field, e.g. `starts_on`, or a header as written), a stable `code`
    (`missing`, `invalid_date`, `unknown_base`, `duplicate`, `unknown_column`, ...)
    with its `params` for a translated message, and `text`, the reason in English."""

    row: int
    column: str
    code: str
    text: str
    params: dict[str, Any] = field(default_factory=dict)

    def where(self) -> str:
        """`row 3, column starts_on`."""
        parts = [f"row {self.row}"] if self.row else []
        if self.column:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    def __str__(self) -> str:
        return ": ".join(p for p in (self.where(), self.text) if p)


class ValidationFailed(DataFileError):
    """A spreadsheet with problems: nothing of it was written. `problems` lists every
    one (at most `MAX_PROBLEMS`, in row order), `total` how many there were; `str()` is
    the first, with how many more."""

    def __init__(self, problems: list[Problem], source: str = "") -> None:
        ordered = sorted(problems, key=lambda p: p.row)
        first, more = ordered[0], len(ordered) - 1
        why = first.text + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")
        super().__init__(why, first.where(), source)
        self.problems = ordered[:MAX_PROBLEMS]
        self.total = len(ordered)

    def lines(self) -> list[str]:
        """One line a problem, naming the file: `FILE: row 3, column x: why`."""
        return [": ".join(p for p in (self.file, str(problem)) if p) for problem in self.problems]


@dataclass
class ImportResult:
    """What an import did: `rows` read, `created`, `updated` and `unchanged` rows (by
    code), and `changes`: (table, id, fields) of courses and fairs whose watched fields
    moved, for `handlers.changes.announce`."""

    kind: str
    source: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: list[tuple[str, int, set[str]]] = field(default_factory=list)
    #: each stored row the import changed: (subject `course:<id>` / `fair:<id>`, the
    #: changed fields' values before, after), for the audit log (`audit_import`)
    edits: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the person who ran it."""
        if not self.rows:
            return f"{self.source}: nothing to import (the file holds no rows)"
        return (
            f"{self.source}: {self.kind}: {self.rows} row{'s' if self.rows != 1 else ''}: "
            f"{self.created} new, {self.updated} updated, {self.unchanged} unchanged"
        )


# -- reading cells ----------------------------------------------------------------------


def _key(header: str) -> str:
    text = unicodedata.normalize("NFKC", header).strip().lower()
    return re.sub(r"[\s_\-]+", "", text)


_IGNORED = {_key(name) for name in IGNORED}


class _Bad(Exception):
    """A cell that cannot be read: becomes a `Problem`."""

    def __init__(self, code: str, text: str, **params: Any) -> None:
        super().__init__(text)
        self.code, self.text, self.params = code, text, params


def clip(text: str, limit: int = 40) -> str:
    """`text` for a message: unprintable characters as `?`, at most `limit` characters
    (then `…`)."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[:limit] + "…"


def _text(value: Any) -> str:
    """A cell as text: a whole number without `.0`, a quote an export put first taken
    off; a formula refused."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if text.startswith(_NEUTRALISED):
        text = text[1:]
    if text.startswith(("=", "＝")):
        raise _Bad("formula", "a formula (=...) cannot be imported; type the value itself")
    return text


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise _Bad("not_a_number", "should be a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = re.sub(r"[,，\s]", "", unicodedata.normalize("NFKC", _text(value)))
    text = re.sub(r"(岁|歲|人|个|個|名|年)$", "", text)
    if not re.fullmatch(r"-?\d{1,9}", text):
        raise _Bad("not_a_number", f"should be a whole number, not {clip(text)!r}", value=text)
    return int(text)


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise _Bad("not_a_number", "should be a number")
    if isinstance(value, int | float):
        return float(value)
    text = re.sub(r"[,，\s¥￥]|元$", "", unicodedata.normalize("NFKC", _text(value)))
    try:
        return float(text)
    except ValueError:
        raise _Bad("not_a_number", f"should be a number, not {clip(text)!r}", value=text) from None


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = _text(value).lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise _Bad("not_yes_no", f"{clip(text)!r}: write yes or no (是 or 否)", value=text)


def _items(value: Any, pattern: re.Pattern[str] = _LIST) -> list[str]:
    return [item.strip() for item in pattern.split(_text(value)) if item.strip()]


def _terms(value: Any, *vocabularies: vocab.Vocabulary) -> list[str]:
    """Names or ids of terms (`月嫂`, `電白區`, `guangzhou`) as their ids, each once."""
    out: list[str] = []
    for item in _items(value):
        term = next((t for v in vocabularies if (t := v.of_name(item)) is not None), None)
        if term is None:
            known = "、".join(t.name for v in vocabularies for t in v)
            raise _Bad(
                "unknown_value",
                f"unknown {vocabularies[0].kind.replace('_', ' ')} {clip(item)!r}; "
                f"write one of {known}",
                value=item,
            )
        if term.id not in out:
            out.append(term.id)
    return out


def _pay(value: Any) -> list[int]:
    """`7000-10000`, `7000~10000` or `7000` (yuan): [lowest, highest]."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [int(value), int(value)]
    text = re.sub(r"[,，\s¥￥元]", "", unicodedata.normalize("NFKC", _text(value)))
    found = re.fullmatch(r"(\d{1,7})(?:[-~～至到](\d{1,7}))?", text)
    if found is None:
        raise _Bad("invalid_pay", f"{clip(text)!r}: write the pay as 7000-10000 (yuan)")
    low = int(found[1])
    return [low, int(found[2] or low)]


def _employers(value: Any) -> list[Any]:
    """A fair's employers: JSON as data files write them, or firms' names, one a line
    (or separated by `;`)."""
    text = _text(value)
    if text.startswith("["):
        try:
            found = json.loads(text)
        except ValueError as exc:
            raise _Bad("invalid", f"broken JSON: {exc}") from None
        if not isinstance(found, list):
            raise _Bad("invalid", "should be a list of employers")
        return found
    return [{"name": name} for name in _items(text, _ITEMS)]


def _read_cell(column: Column, value: Any, starts: Any = None) -> Any:
    """A cell as its row model wants it. Raises `_Bad`."""
    kind = column.kind
    try:
        if kind == "date":
            return parse_date(value)
        if kind == "datetime":
            return parse_datetime(value)
        if kind == "end_time":
            day = starts.date() if hasattr(starts, "date") else None
            return parse_datetime(value, day=day)
    except ValueError as exc:
        code = "invalid_date" if "date" in kind else "invalid_time"
        raise _Bad(code, str(exc), value=clip(_text_of(value))) from None
    if kind == "int":
        return _int(value)
    if kind == "number":
        return _number(value)
    if kind == "bool":
        return _bool(value)
    if kind == "status":
        text = _text(value).lower()
        if text not in _STATUS:
            raise _Bad("invalid_status", f"{clip(text)!r}: write open or cancelled (开放 or 取消)")
        return _STATUS[text]
    if kind == "groups":
        return _terms(value, vocab.FREE_GROUPS)
    if kind == "county":
        term = vocab.COUNTIES.of_name(_text(value))
        if term is None:
            known = "、".join(t.name for t in vocab.COUNTIES)
            raise _Bad(
                "unknown_value", f"unknown county {clip(_text(value))!r}; write one of {known}"
            )
        return term.id
    if kind == "kinds":
        return _terms(value, vocab.KINDS_OF_WORK)
    if kind == "places":
        return _terms(value, vocab.COUNTIES, vocab.CITIES)
    if kind == "languages":
        return _terms(value, vocab.LANGUAGES)
    if kind == "certificates":
        return _terms(value, vocab.CERTIFICATES)
    if kind == "pay":
        return _pay(value)
    if kind == "employers":
        return _employers(value)
    if kind == "phone":
        text = _text(value)
        found = phone_number(text)
        if found is None or not found.startswith("+86"):
            raise _Bad(
                "invalid_phone",
                f"{masked(text)!r} is not a mainland mobile number (11 digits, 13800138000)",
            )
        return found.removeprefix("+86")
    if kind == "id_number":
        try:
            return check_id_number(_text(value))
        except BadIdNumber as exc:  # never quoted: an ID number stays out of messages
            raise _Bad("invalid_id_number", f"not an ID number ({exc.why})", why=exc.why) from None
    return _text(value)


def _text_of(value: Any) -> str:
    return "" if value is None else str(value)


# -- checking rows ----------------------------------------------------------------------


@dataclass
class Checked:
    """The rows that passed, with the problems of all of them."""

    columns: set[str] = field(default_factory=set)
    #: (row number, the row model): `Any`, since each kind has its own model
    rows: list[tuple[int, Any]] = field(default_factory=list)
    #: every row's cells as read (rows with problems too): (row number, {field: value})
    cells: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _header(table: Table, spec: dict[str, Column]) -> tuple[dict[str, str], list[Problem]]:
    """{header as written: field} for the columns imported; problems with the header."""
    by_name = {_key(name): c.field for c in spec.values() for name in c.names}
    mapping: dict[str, str] = {}
    problems: list[Problem] = []
    for header in table.headers:
        key = _key(header)
        if key in _IGNORED:
            continue
        found = by_name.get(key)
        if found is None:
            problems.append(
                Problem(
                    table.header_row,
                    clip(header),
                    "unknown_column",
                    f"unknown column {clip(header)!r}; the columns are {', '.join(spec)}",
                    {"column": clip(header)},
                )
            )
        elif found in mapping.values():
            problems.append(
                Problem(
                    table.header_row,
                    found,
                    "column_twice",
                    f"two columns are {found}; keep one",
                    {"column": found},
                )
            )
        else:
            mapping[header] = found
    for column in spec.values():
        if column.required and column.field not in mapping.values():
            problems.append(
                Problem(
                    table.header_row,
                    column.field,
                    "missing_column",
                    f"no {column.field} column; it is required",
                    {"column": column.field},
                )
            )
    return mapping, problems


def check_rows(
    table: Table,
    spec: dict[str, Column],
    model: type[BaseModel],
    shape: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Checked:
    """Read every row's cells and check it with `model`; raises `ValidationFailed` for a
    header that cannot be imported. Rows with problems are left out of `rows`."""
    if not table.headers:  # an empty file: nothing to import, and nothing wrong
        return Checked()
    mapping, problems = _header(table, spec)
    if problems:
        raise ValidationFailed(problems, table.source)
    order = list(spec)  # a fair's start is read before its end, whatever the header's order
    mapping = dict(sorted(mapping.items(), key=lambda item: order.index(item[1])))
    out = Checked(columns=set(mapping.values()))
    seen: dict[str, int] = {}
    for row in table.rows:
        values: dict[str, Any] = {}
        bad: set[str] = set()
        for header, name in mapping.items():
            cell = row.values.get(header)
            if cell is None or (isinstance(cell, str) and not cell.strip()):
                continue
            try:
                values[name] = _read_cell(spec[name], cell, values.get("starts_at"))
            except _Bad as exc:
                bad.add(name)
                out.problems.append(Problem(row.number, name, exc.code, exc.text, exc.params))
        code = values.get("code")
        if isinstance(code, str) and code.casefold().startswith(EXAMPLE_CODE):
            bad.add("code")
            out.problems.append(
                Problem(
                    row.number,
                    "code",
                    "example_row",
                    "the template's example row: write your own rows in its place",
                )
            )
        elif isinstance(code, str) and code in seen:
            bad.add("code")
            out.problems.append(
                Problem(
                    row.number,
                    "code",
                    "duplicate",
                    f"the same code as row {seen[code]}; a code may be used once",
                    {"other": seen[code]},
                )
            )
        elif isinstance(code, str):
            seen[code] = row.number
        out.cells.append((row.number, values))
        if shape is not None:
            values = shape(values)
        try:
            checked = model.model_validate(values)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                loc = error["loc"]
                name = str(loc[0]) if loc else ""
                if name in bad:
                    continue  # said already
                bad.add(name)
                path = ".".join(str(p + 1) if isinstance(p, int) else str(p) for p in loc)
                text = "invalid: " + error["msg"].removeprefix("Value error, ")
                if name != "id_number":  # never quote an ID number
                    text = _reason(error)
                limits = {  # `max_length: 120`, `ge: 0`: for a translated message
                    k: v for k, v in (error.get("ctx") or {}).items() if isinstance(v, int | float)
                }
                code = _CODES.get(error["type"], "invalid")
                out.problems.append(Problem(row.number, path, code, text, limits))
            continue
        if bad:
            continue
        out.rows.append((row.number, checked))
    return out


def refuse(checked: Checked, source: str) -> None:
    """Raise `ValidationFailed` (naming `source`) when any row had a problem."""
    if checked.problems:
        raise ValidationFailed(checked.problems, source)


def actor_of(table: Table, staff: str) -> str:
    """Who the audit log names: `staff` (a platform key), else `import:<file name>`."""
    return (staff or f"import:{Path(table.source).name}")[:80]


def audit_import(session: AsyncSession, kind: str, actor: str, result: ImportResult) -> None:
    """One audit entry for the whole import (subject `import:<kind>`, what it did), and
    one for each row it changed: `import:update` on `course:<id>` / `fair:<id>`, the
    changed fields before and after."""
    source = Path(result.source).name[:80]
    for subject, before, after in result.edits:
        session.add(
            AuditEntry(
                subject=subject,
                actor=actor,
                action="import:update",
                before=before,
                after=after,
                reason=source,
                at=utcnow(),
            )
        )
    session.add(
        AuditEntry(
            subject=f"import:{kind}",
            actor=actor,
            action="import",
            before={},
            after={
                "file": Path(result.source).name[:80],
                "rows": result.rows,
                "created": result.created,
                "updated": result.updated,
            },
            reason="",
            at=utcnow(),
        )
    )


def tick(progress: Progress | None, done: int, total: int) -> None:
    """Tell `progress` (if any) how many rows of `total` are done."""
    if progress is not None:
        progress(done, total)


async def by_code(session: AsyncSession, model: type, codes: Iterable[str]) -> dict[str, Any]:
    """The stored rows of `model` with these codes, by code (asked 500 at a time)."""
    codes = sorted(set(codes))
    found: dict[str, Any] = {}
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        found.update(
            {o.code: o for o in await session.scalars(select(model).where(model.code.in_(chunk)))}
        )
    return found


def apply_values(obj: Any, values: dict[str, Any], table: str, result: ImportResult) -> bool:
    """Set `values` on a stored row; note watched fields that moved (`result.changes`)
    and every changed field's value before and after (`result.edits`). Whether any
    field changed."""
    changed = sorted(name for name, value in values.items() if getattr(obj, name) != value)
    before = {name: _json(getattr(obj, name)) for name in changed}
    for name in changed:
        setattr(obj, name, values[name])
    watched = set(changed) & WATCHED.get(table, set())
    if watched:
        result.changes.append((table, obj.id, watched))
    if changed:
        subject = f"{'course' if table == 'courses' else 'fair'}:{obj.id}"
        result.edits.append((subject, before, {n: _json(values[n]) for n in changed}))
    return bool(changed)


def _json(value: Any) -> Any:
    """A value as the audit log keeps it (JSON): dates and times as ISO text."""
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return value


def only_columns(values: dict[str, Any], names: set[str]) -> dict[str, Any]:
    """The values of the fields in `names` only."""
    return {name: value for name, value in values.items() if name in names}


def present_fields(columns: set[str], renamed: dict[str, str]) -> set[str]:
    """The stored fields that the file's columns give."""
    return {renamed.get(name, name) for name in columns}
