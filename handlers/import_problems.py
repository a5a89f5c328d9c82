"""Why a spreadsheet could not be imported, in her language (`handlers.staff_files`).

Storage says what is wrong as codes with their values (`storage.bulk_import.Problem`:
`row`, `column`, `code`, `params`; `storage.tabular.TableError`: `code`, `params`), and
in English for the terminal; here each code becomes a sentence in her language, and
each column is named as her own header wrote it (`名额` for `seats`). A reason storage
has no code for keeps its English words, said to be such. No reason ever quotes an ID
number (storage never puts one in a problem).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from handlers.context import Ctx
from storage.bulk_import import Problem
from storage.import_checks import Column
from storage.spreadsheets import workbook
from storage.tabular import MAX_BYTES, Table, TableError


def too_big(ctx: Ctx, size: int) -> str:
    """A file over `MAX_BYTES` (`size` in bytes; 0 when unknown)."""
    _ = ctx._
    limit = MAX_BYTES // 1024 // 1024
    if size > MAX_BYTES:
        megabytes = round(size / 1024 / 1024, 1)
        return _(
            "That file is {size} MB; a spreadsheet may be at most {limit} MB. Split it into "
            "smaller files and send each.",
            size=megabytes,
            limit=limit,
        )
    return _("That file is too large: a spreadsheet may be at most {limit} MB.", limit=limit)


def table_error(ctx: Ctx, err: TableError, shown: str) -> str:
    """Why a file cannot be read at all (`TableError.code`), in her language."""
    _ = ctx._
    p = err.params
    if err.code == "too_big":
        return too_big(ctx, int(p.get("size") or 0))
    words = {
        "not_xlsx": _(
            "{file} is not an Excel workbook (.xlsx), whatever its name says. Save it from "
            "Excel or WPS as .xlsx or as CSV and send it again."
        ),
        "old_xls": _(
            "{file} is an old Excel file (.xls) or a workbook with a password. Save it as "
            ".xlsx without a password, or as CSV, and send it again."
        ),
        "encrypted": _("{file} is encrypted. Save it without a password and send it again."),
        "zip_bomb": _("{file} would unpack to far more than any spreadsheet holds: refused."),
        "unreadable": _(
            "{file} cannot be read. Open it in Excel or WPS, save it again as .xlsx or CSV, "
            "and send it."
        ),
        "not_text": _(
            "{file} is neither an Excel workbook nor CSV text. Save it as .xlsx, or as CSV "
            "(UTF-8), and send it again."
        ),
        "broken_csv": _(
            "{file} is a broken CSV ({where}). Save it from Excel or WPS as CSV again."
        ),
        "too_many_rows": _(
            "{file} has more than {limit} rows, the most one file may hold. Split it."
        ),
        "too_many_columns": _(
            "{file} has more than {limit} columns. Keep only the columns to import."
        ),
        "header_twice": _("In {file}, the column “{column}” is in the header twice. Keep one."),
    }
    text = words.get(err.code, _("{file} cannot be read as a spreadsheet (.csv or .xlsx)."))
    return text.format(
        file=shown, where=err.where, limit=p.get("limit", ""), column=p.get("column", "")
    )


def _header_key(header: str) -> str:
    """A header as the importer compares it: no case, spaces, `_` or `-`."""
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", header).strip().lower())


def headers_of(table: Table, spec: dict[str, Column]) -> dict[str, str]:
    """{field: the file's header naming it, as written} (`名额` for `seats`)."""
    names = {_header_key(name): c.field for c in spec.values() for name in c.names}
    return {names[k]: h for h in table.headers if (k := _header_key(h)) in names}


def _quoted(text: str) -> str:
    """The first value storage quoted in an English reason (`'x'`), else ""."""
    found = re.search(r"'([^']*)'|\"([^\"]*)\"", text)
    return (found.group(1) or found.group(2) or "") if found else ""


def problem_reason(ctx: Ctx, p: Problem, spec: dict[str, Column], bases: list[str]) -> str:
    """Why a row cannot be imported (`Problem.code` and its values), in her language.
    `bases`: the training bases' codes she may name."""
    _ = ctx._
    v = p.params
    value = str(v.get("value") or v.get("base") or _quoted(p.text))
    if p.code == "not_a_number":
        whole = "whole" in p.text or p.column in ("seats", "age", "years")
        text = _("should be a whole number") if whole else _("should be a number")
        return text + (_(", not “{value}”", value=value) if value else "")
    if p.code == "unknown_value":
        known = p.text.rpartition("write one of ")[2] if "write one of " in p.text else ""
        return _(
            "“{value}” is not a name Haoxin knows; write one of: {known}", value=value, known=known
        )
    if p.code in ("invalid_date", "invalid_time"):
        if p.text.startswith("no such"):
            return _("there is no such day: “{value}”", value=value)
        if p.code == "invalid_time":
            return _("“{value}” is not a date and time; write 2026-12-09 09:30", value=value)
        return _(
            "“{value}” is not a date; write 2026-12-09, 2026/12/9 or 2026年12月9日", value=value
        )
    if p.code == "invalid" and "ends" in p.text and "before it starts" in p.text:
        return _("it ends before it starts")
    if p.code == "invalid" and "sign-up closes" in p.text:
        return _("sign-up closes after the course starts")
    words = {
        "unknown_column": _("unknown column; the columns are: {columns}"),
        "column_twice": _("two columns mean the same; keep one"),
        "missing_column": _("this column is missing; it is required"),
        "formula": _("a formula (=…) cannot be imported; type the value itself"),
        "not_yes_no": _("“{value}”: write yes or no (是 or 否)"),
        "invalid_pay": _("write the pay in yuan as 7000-10000"),
        "invalid_status": _("write open or cancelled (开放 or 取消)"),
        "invalid_phone": _("not a mainland mobile number (11 digits, like 13800138000)"),
        "invalid_id_number": _("not a valid ID card number"),
        "duplicate": _("the same code as row {other}; each code may be used once"),
        "example_row": _("the template's example row: write your own rows in its place"),
        "missing": _("missing; it is required"),
        "too_long": _("too long: at most {max_length} characters"),
        "too_many": _("too many: at most {max_length}"),
        "too_small": _("too small: at least {ge}"),
        "too_large": _("too large: at most {le}"),
        "unknown_base": _("unknown training base “{value}”; write its code: {bases}"),
        "not_your_base": _(
            "a course of another training base: only that base's staff may change it"
        ),
        "fewer_seats_than_seated": _(
            "{seats} seats is fewer than the {taken} people already seated; keep at least "
            "{taken}, or cancel their places first"
        ),
        "intro_contact": _(
            "the introduction holds a phone number, an ID number or another way to reach "
            "her; households read it, so take it out"
        ),
        "duplicate_id_number": _("the same ID number as row {other}; one person, one row"),
        "id_number_taken": _("another profile (#{profile}) has this ID number already"),
    }
    if p.code == "too_small" and "ge" not in v and "gt" in v:
        return _("too small: more than {gt}", gt=v["gt"])
    if p.code == "too_large" and "le" not in v and "lt" in v:
        return _("too large: less than {lt}", lt=v["lt"])
    text = words.get(p.code)
    if text is None:  # a reason storage has no code for: its English words
        return _("not accepted: {why}", why=p.text)
    values = {"value": value, "columns": ", ".join(spec), "bases": ", ".join(bases) or "—"}
    try:
        return text.format(**{**v, **values})
    except (KeyError, IndexError, ValueError):
        return _("not accepted: {why}", why=p.text)


def problem_parts(
    ctx: Ctx, p: Problem, headers: dict[str, str], spec: dict[str, Column], bases: list[str]
) -> tuple[int, str, str]:
    """(row, column as her header names it, why in her language)."""
    field, _dot, rest = p.column.partition(".")
    column = headers.get(field, field) + (f".{rest}" if rest else "")
    return p.row, column, problem_reason(ctx, p, spec, bases)


def problem_line(ctx: Ctx, row: int, column: str, reason: str) -> str:
    """`row 4, column “seats”: should be a whole number`."""
    _ = ctx._
    if row and column:
        return _("row {row}, column “{column}”: {reason}", row=row, column=column, reason=reason)
    if row:
        return _("row {row}: {reason}", row=row, reason=reason)
    return reason


def problems_workbook(ctx: Ctx, parts: list[tuple[int, str, str]], total: int) -> bytes:
    """Every problem as an .xlsx: row, column, why (and how many more, past the most
    storage lists)."""
    _ = ctx._
    rows: list[list[Any]] = [[_("Row"), _("Column"), _("Problem")]]
    rows += [[row or None, column, reason] for row, column, reason in parts]
    if total > len(parts):
        rows.append([None, None, _("… and {n} more", n=total - len(parts))])
    return workbook([(_("Problems"), rows)], widths=(8, 24, 90))
