"""Spreadsheets Haoxin writes (the programme's numbers, and later the staff's exports):
XLSX with openpyxl, every cell through `safe_cell`.

A cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return) is read by
Excel, WPS and LibreOffice as a formula when the file is opened or the cell edited: a
course title or a name typed as `=HYPERLINK("http://…","点我")` would become a live
link, or worse (CSV/formula injection, OWASP). `safe_cell` writes such text with a
leading apostrophe, so it stays text everywhere; numbers and dates stay numbers and
dates. The same helper serves CSV exports.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

#: what a cell's text must not start with: spreadsheet programs read it as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: the most characters one cell holds (Excel's limit)
MAX_CELL = 32767
# control characters an XLSX cannot hold (openpyxl refuses them)
_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037]")
# characters a sheet's name cannot hold
_BAD_TITLE = re.compile(r"[\\*?:/\[\]]")
_PLAIN = (bool, int, float, Decimal, dt.date, dt.datetime, dt.time)


def safe_cell(value: Any) -> Any:
    """`value` as it may go into a spreadsheet cell: None, numbers, dates and times as
    they are; anything else as text, without the control characters a file cannot hold,
    at most `MAX_CELL` characters, and with a leading `'` when it would start a formula
    (`=1+1` → `'=1+1`)."""
    if value is None or isinstance(value, _PLAIN):
        return value
    text = _ILLEGAL.sub("", str(value))
    if text.startswith(FORMULA_STARTS):
        text = "'" + text
    return text[:MAX_CELL]


def sheet_title(title: str, taken: set[str] | None = None) -> str:
    """A sheet's name as spreadsheets allow: no `\\ * ? : / [ ]`, at most 31 characters,
    not empty, not one in `taken` (compared case-blind; a number is added)."""
    base = _BAD_TITLE.sub(" ", title).strip().strip("'")[:31] or "Sheet"
    taken = {t.casefold() for t in taken or set()}
    name, n = base, 2
    while name.casefold() in taken:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    return name


def workbook(
    sheets: Sequence[tuple[str, Sequence[Sequence[Any]]]], *, widths: Sequence[int] = ()
) -> bytes:
    """An .xlsx file of `sheets`: (name, rows), the first row of each a header (bold,
    frozen). Every cell goes through `safe_cell`. `widths`: the first columns' widths,
    in characters. Blocking (call from a worker thread for large sheets)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    book.properties.creator = "Haoxin"
    taken: set[str] = set()
    bold = Font(bold=True)
    for name, rows in sheets:
        title = sheet_title(name, taken)
        taken.add(title)
        sheet = book.create_sheet(title)
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        for n, row in enumerate(rows):
            if n == 0:
                header = []
                for value in row:
                    cell = WriteOnlyCell(sheet, value=safe_cell(value))
                    cell.font = bold
                    header.append(cell)
                sheet.append(header)
            else:
                sheet.append([safe_cell(value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
