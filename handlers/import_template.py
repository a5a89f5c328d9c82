"""The template staff fill in to import courses, job fairs or workers
(`handlers.staff_files`): an .xlsx whose first sheet has the columns and an example row
(refused if sent back unchanged: its code says it is the example), and whose second
says, in her language, what each column takes.

The columns are storage's (`storage.import_checks.Column`: `COURSES`, `FAIRS`,
`WORKERS`), headed by their English names, which the importer always reads; the example
is written as the data is, in Chinese. Dates are relative to today, so the example is
never in the past.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from handlers.context import Ctx
from storage.import_checks import EXAMPLE_CODE, Column
from storage.spreadsheets import workbook
from storage.vocab import COUNTIES


def example_row(kind: str, base: str, today: dt.date) -> dict[str, Any]:
    """An example row, every cell as the importer reads it (the data's own language:
    Chinese), but its code (`EXAMPLE_CODE`) refused: sent back unchanged, the template
    changes nothing."""
    day = dt.timedelta(days=1)
    if kind == "courses":
        return {
            "code": f"{EXAMPLE_CODE}course-{today.year}",
            "title": "好心月嫂初级班",
            "track": "月嫂/母婴护理",
            "base": base,
            "starts_on": today + 30 * day,
            "ends_on": today + 44 * day,
            "daily_hours": "09:00-17:00",
            "seats": 30,
            "fee_yuan": 0,
            "free_for": "农村妇女、失业人员",
            "certificate": "母婴护理员证书",
            "teaching_language": "普通话",
            "lodging": "是",
            "room": "301",
            "status": "开放",
        }
    if kind == "fairs":
        starts = dt.datetime.combine(today + 21 * day, dt.time(9, 30))
        return {
            "code": f"{EXAMPLE_CODE}fair-{today.year}",
            "title": "好心家政招聘会",
            "starts_at": starts,
            "ends_at": "12:00",
            "venue": "人民广场",
            "county": "茂南",
            "organiser": "茂名市人力资源和社会保障局",
            "registration_required": "是",
            "employers": "茂名好心家政\n深圳鹏城家政",
            "status": "开放",
        }
    return {
        "code": f"{EXAMPLE_CODE}worker-1",
        "name": "李秀梅",
        "phone": "13800138000",
        "county": "电白",
        "age": 38,
        "kinds": "月嫂、催乳师",
        "years": 5,
        "places": "茂名、广州",
        "languages": "普通话、粤语",
        "pay_live_in": "7000-10000",
        "available_from": today + 14 * day,
        "intro": "做事细心，带过双胞胎",
        "certificates": "母婴护理员证、健康证",
    }


def column_help(ctx: Ctx, column: Column) -> str:
    """What to write in a column, in her language."""
    _ = ctx._
    if column.field == "code":
        return _("the row's own code: the same code updates the same row")
    if column.field == "base":
        return _("the training base's code")
    words = {
        "date": _("a date: 2026-12-09, 2026/12/9 or 2026年12月9日"),
        "datetime": _("a date and time: 2026-12-09 09:30"),
        "end_time": _("a time (12:00) or a date and time"),
        "int": _("a whole number"),
        "number": _("a number"),
        "bool": _("yes or no (是 or 否)"),
        "status": _("open or cancelled (开放 or 取消)"),
        "phone": _("a mainland mobile number: 13800138000"),
        "id_number": _("her ID card number (only its last four characters are kept)"),
        "pay": _("yuan a month (an hour for hourly work): 7000-10000"),
        "employers": _("the firms' names, one a line"),
    }
    if column.kind == "county":
        return _("a county: {names}", names="、".join(t.name for t in COUNTIES))
    listed = _("names separated by 、 or a comma")
    return words.get(column.kind, _("text") if column.kind == "text" else listed)


def template_workbook(ctx: Ctx, kind: str, columns: dict[str, Column], base: str) -> bytes:
    """The template of `kind` (`courses`, `fairs`, `workers`; its `columns`) as an
    .xlsx: the columns and an example row on the first sheet (the one imported), what
    each column takes on the second. `base`: a training base's code for the example."""
    _ = ctx._
    spec = list(columns.values())
    example = example_row(kind, base, ctx.today())
    yes, no = _("yes"), _("no")
    about: list[list[Any]] = [[_("Column"), _("Required"), _("Also named"), _("What to write")]]
    for c in spec:
        others = "、".join(n for n in c.names if n != c.field)
        about.append([c.field, yes if c.required else no, others, column_help(ctx, c)])
    return workbook(
        [
            (kind, [[c.field for c in spec], [example.get(c.field) for c in spec]]),
            (_("Columns"), about),
        ],
        widths=(18, 18, 30, 50),
    )
