"""Reading a spreadsheet staff send: a CSV (UTF-8, with or without Excel's byte-order mark,
or GBK / GB 18030, what Excel saves in China) or an Excel workbook (.xlsx), into rows of
cells keyed by the header's names.

A spreadsheet is untrusted input, and reading one must never exhaust the machine, so:

- a file over `MAX_BYTES` (5 MiB) is refused before it is read whole (`read_path` reads at
  most one byte more than that, whatever the file claims; a 5,000-row course sheet is
  about 1 MiB as CSV, less as XLSX). The issue's 50 MB file is refused at once;
- an .xlsx must be what it says by content, not by name: a zip archive holding
  `[Content_Types].xml` and `xl/workbook.xml`, no encrypted parts, at most `MAX_PARTS`
  parts and `MAX_UNZIPPED` bytes (50 MiB) once unpacked, as the archive's directory says
  *before anything is unpacked* (Python's `zipfile` never unpacks a part past its stated
  size: a part that lies is cut there and fails its checksum). A renamed text file, an
  old .xls, a password-protected workbook and a zip bomb are refused with one line;
- openpyxl reads it read-only (a stream, cells as values: a formula gives the value Excel
  saved with it), XML through defusedxml, at most `MAX_COLUMNS` columns;
- more than `MAX_ROWS` (5,000) rows with anything in them is refused as soon as the
  5,001st is met, and so is a sheet whose first `MAX_SCANNED` rows (blank ones too: a
  small workbook can unpack to a million empty rows) do not end it, so that reading a
  file never takes more than a moment.

The first row with anything in it is the header. Rows are numbered as the spreadsheet
shows them (the header is usually row 1, the first data row 2), blank rows counted but
not returned, so that an error's row number is the one staff see in Excel.

Dates in cells: `parse_date` / `parse_datetime` read 2026-12-09, 2026/12/9, 2026.12.9,
2026年12月9日, Excel's own date cells (and their serial numbers, 46365) and `today+14` as
data files do; one helper for every importer.

Every problem with the file as a whole raises `TableError` (a `DataFileError`: one line
naming the file, and `code` for a translated message).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import stat
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storage.importer import MAX_ROWS, DataFileError, _when

#: the largest spreadsheet read, in bytes (the issue's 50 MB file is ten times this)
MAX_BYTES = 5 * 1024 * 1024
#: the most an .xlsx may hold once unpacked, all parts together, as its directory says
MAX_UNZIPPED = 50 * 1024 * 1024
#: the most parts (files) inside an .xlsx: a plain workbook has about a dozen
MAX_PARTS = 1000
#: the most columns read; cells further right are not read at all
MAX_COLUMNS = 100
#: the file types read, by name
SUFFIXES = (".csv", ".xlsx")
#: Excel's serial day numbers of 2000-01-01 and 2099-12-31 (its 1900 date system)
_SERIALS = (36526, 73050)

_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号號]?$")
_DATE_TIME = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号號]?\s*[T\s]?\s*"
    r"(\d{1,2})\s*[:：时時点點]\s*(\d{1,2})?\s*(?:[:：]\s*(\d{1,2}))?\s*分?$"
)
_TIME = re.compile(r"^(\d{1,2})\s*[:：时時点點]\s*(\d{1,2})?\s*(?:[:：]\s*(\d{1,2}))?\s*分?$")
#: what the messages suggest
DATE_FORMATS = "2026-12-09, 2026/12/9 or 2026年12月9日"
DATE_TIME_FORMATS = "2026-12-09 09:30, 2026/12/9 9:30 or 2026年12月9日 9:30"


class TableError(DataFileError):
    """A spreadsheet that cannot be read at all. `code` names the problem for a
    translated message (`too_big`, `not_xlsx`, `old_xls`, `encrypted`, `zip_bomb`,
    `unreadable`, `not_text`, `broken_csv`, `too_many_rows`, `no_header`,
    `header_twice`, `suffix`, `missing`, `not_a_file`), `params` its values."""

    def __init__(self, code: str, why: str, where: str = "", file: str = "", **params: Any) -> None:
        super().__init__(why, where, file)
        self.code, self.params = code, params


@dataclass(frozen=True)
class Row:
    """One data row: `number` is its row in the spreadsheet (the header is usually 1),
    `values` its cells by header name (as written in the header, stripped); an empty
    cell is None. Cells are text in a CSV; in an .xlsx also int, float, bool,
    datetime.datetime or datetime.time, as Excel stored them."""

    number: int
    values: dict[str, Any]


@dataclass
class Table:
    """A spreadsheet read: `source` is the file as named, `headers` the header's names in
    order (blank ones left out), `header_row` the header's row number, `rows` the rows
    with anything in them."""

    source: str
    headers: list[str] = field(default_factory=list)
    header_row: int = 1
    rows: list[Row] = field(default_factory=list)


# -- reading ----------------------------------------------------------------------------


def read_path(path: Path | str) -> Table:
    """Read a .csv or .xlsx file (by its name's suffix, then checked by content).

    Raises `TableError` for a missing or unreadable file, one over `MAX_BYTES` (checked
    by its size first, and never more than `MAX_BYTES` + 1 bytes read), and anything
    `read_bytes` refuses."""
    name = str(path)
    path = Path(path)
    _suffix(name)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise TableError("not_a_file", "not a regular file", file=name)
        if info.st_size > MAX_BYTES:
            raise _too_big(name, info.st_size)
        with path.open("rb") as stream:
            content = _read_up_to(stream, MAX_BYTES + 1)
    except FileNotFoundError:
        raise TableError("missing", "no such file", file=name) from None
    except OSError as exc:
        raise TableError("unreadable", f"cannot read it: {exc.strerror or exc}", file=name) from exc
    return read_bytes(content, name)


def _read_up_to(stream: Any, limit: int) -> bytes:
    """At most `limit` bytes, read in 64 KiB pieces (never a buffer of `limit` bytes
    for a small file, whatever its size claimed)."""
    pieces: list[bytes] = []
    left = limit
    while left > 0 and (piece := stream.read(min(left, 65536))):
        pieces.append(piece)
        left -= len(piece)
    return b"".join(pieces)


def read_bytes(content: bytes, name: str) -> Table:
    """Read a spreadsheet's bytes (`name`: how messages name the file, its suffix says
    .csv or .xlsx). Raises `TableError`."""
    suffix = _suffix(name)
    if len(content) > MAX_BYTES:
        raise _too_big(name, len(content))
    if suffix == ".xlsx":
        cells = _xlsx_rows(content, name)
    else:
        if content.startswith(b"PK\x03\x04"):
            raise TableError(
                "not_text",
                "an Excel workbook named .csv; name it .xlsx, or save it as CSV",
                file=name,
            )
        cells = _csv_rows(decode(content, name), name)
    return _table(cells, name)


def _suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix == ".xls":
        raise TableError(
            "old_xls", "an old Excel file (.xls); save it as .xlsx or as CSV", file=name
        )
    if suffix not in SUFFIXES:
        raise TableError(
            "suffix", "a spreadsheet is read as .csv or .xlsx; save it as one of those", file=name
        )
    return suffix


def _too_big(name: str, size: int) -> TableError:
    return TableError(
        "too_big",
        f"{size / 1024 / 1024:.1f} MB, larger than the {MAX_BYTES // 1024 // 1024} MB a "
        "spreadsheet may be; split it",
        file=name,
        size=size,
        limit=MAX_BYTES,
    )


def decode(content: bytes, name: str) -> str:
    """A CSV's text: UTF-8 (strictly, with or without the mark Excel writes first), else
    GB 18030 (GBK's superset, what Excel saves in China). Raises `TableError`
    (`not_text`) for neither, or for NUL bytes (a binary file)."""
    if b"\x00" in content[:8192]:
        raise TableError("not_text", "not a text file (a CSV is text)", file=name)
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            return content.decode("gb18030")
        except UnicodeDecodeError:
            line = content[: exc.start].count(b"\n") + 1
            raise TableError(
                "not_text",
                "neither UTF-8 nor GBK text; save it as CSV (UTF-8)",
                f"line {line}",
                name,
            ) from None


#: rows read at most, blank ones too (`MAX_ROWS` with anything in them, and room for
#: the blank rows people leave between groups)
MAX_SCANNED = 4 * MAX_ROWS


def _csv_rows(text: str, name: str) -> list[tuple[int, list[Any]]]:
    """Every record with its number (Excel's row: a cell's line breaks stay in one row)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not first:
        return []
    delimiter = max(",\t;，", key=first.count)
    if delimiter == "，":  # a "CSV" typed with Chinese commas: Python's csv wants one char
        text = text.replace("，", ",")
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out: list[tuple[int, list[Any]]] = []
    number = 0
    try:
        for cells in reader:
            number += 1
            if number > MAX_SCANNED:
                raise _too_many(name)
            if any(c.strip() for c in cells):
                out.append((number, [c or None for c in cells[: MAX_COLUMNS + 1]]))
                if len(out) > MAX_ROWS + 1:
                    raise _too_many(name)
    except csv.Error as exc:
        raise TableError(
            "broken_csv", f"broken CSV: {exc}", f"line {reader.line_num}", name
        ) from exc
    return out


def _too_many(name: str) -> TableError:
    return TableError(
        "too_many_rows",
        f"more than {MAX_ROWS} rows, the most one file may hold; split it",
        file=name,
        limit=MAX_ROWS,
    )


def check_xlsx(content: bytes, name: str) -> None:
    """Refuse bytes that are not an .xlsx by content: not a zip archive (a renamed text
    file, an old .xls, a password-protected workbook, which is an OLE file), without a
    workbook, with encrypted parts, or that would unpack to more than `MAX_UNZIPPED`
    bytes or `MAX_PARTS` parts (a zip bomb), judged from the archive's directory before
    anything is unpacked. Raises `TableError`."""
    if content.startswith(b"\xd0\xcf\x11\xe0"):  # OLE: .xls, or a workbook with a password
        raise TableError(
            "old_xls",
            "an old Excel file (.xls) or a workbook with a password; save it as .xlsx "
            "without a password, or as CSV",
            file=name,
        )
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise TableError(
            "not_xlsx", "not an Excel workbook (.xlsx), whatever its name says", file=name
        ) from None
    names = {part.filename for part in parts}
    if not {"[Content_Types].xml", "xl/workbook.xml"} <= names:
        raise TableError(
            "not_xlsx",
            "a zip archive, not an Excel workbook (.xlsx): no workbook inside",
            file=name,
        )
    if any(part.flag_bits & 0x1 for part in parts):
        raise TableError("encrypted", "the workbook is encrypted; save it without", file=name)
    unpacked = sum(part.file_size for part in parts)
    if len(parts) > MAX_PARTS or unpacked > MAX_UNZIPPED:
        raise TableError(
            "zip_bomb",
            f"would unpack to {unpacked / 1024 / 1024:.0f} MB in {len(parts)} parts, more "
            f"than the {MAX_UNZIPPED // 1024 // 1024} MB a workbook may; it is refused",
            file=name,
            size=unpacked,
            limit=MAX_UNZIPPED,
        )


def _xlsx_rows(content: bytes, name: str) -> list[tuple[int, list[Any]]]:
    check_xlsx(content, name)
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl fails on odd input with anything
        raise TableError(
            "unreadable", f"an Excel workbook that cannot be read ({type(exc).__name__})", file=name
        ) from None
    out: list[tuple[int, list[Any]]] = []
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            return []
        if hasattr(sheet, "reset_dimensions"):  # rows as long as their cells, no padding
            sheet.reset_dimensions()
        for number, cells in enumerate(
            sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True), start=1
        ):
            if number > MAX_SCANNED:
                raise _too_many(name)
            if any(_filled(c) for c in cells):
                out.append((number, list(cells)))
                if len(out) > MAX_ROWS + 1:
                    raise _too_many(name)
    except TableError:
        raise
    except Exception as exc:
        raise TableError(
            "unreadable", f"an Excel workbook that cannot be read ({type(exc).__name__})", file=name
        ) from None
    finally:
        book.close()
    return out


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _table(cells: list[tuple[int, list[Any]]], name: str) -> Table:
    table = Table(name)
    if not cells:
        return table
    header_row, header = cells[0]
    names: list[str | None] = []
    for cell in header[:MAX_COLUMNS]:
        text = " ".join(str(cell).split()) if _filled(cell) else ""
        if text and text in names:
            raise TableError(
                "header_twice",
                f"the column {text!r} is in the header twice",
                f"row {header_row}",
                name,
                column=text,
            )
        names.append(text or None)
    if len(header) > MAX_COLUMNS and _filled(header[MAX_COLUMNS]):
        raise TableError(
            "too_many_columns",
            f"more than {MAX_COLUMNS} columns; keep only those to import",
            f"row {header_row}",
            name,
            limit=MAX_COLUMNS,
        )
    table.header_row = header_row
    table.headers = [n for n in names if n]
    for number, row in cells[1:]:
        values = {n: _cell(v) for n, v in zip(names, row, strict=False) if n}
        if any(v is not None for v in values.values()):
            table.rows.append(Row(number, values))
    return table


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


# -- dates ------------------------------------------------------------------------------


def parse_date(value: Any, today: dt.date | None = None) -> dt.date | None:
    """A date from a cell: a date or datetime (Excel's date cells), an Excel serial day
    number in 2000-2099, or text in `DATE_FORMATS` (also `2026.12.9`, full-width digits)
    or `today+14` as data files write it. None for an empty cell. Raises ValueError
    (English, naming the formats) for anything else or a day that does not exist."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if _SERIALS[0] <= value <= _SERIALS[1] and float(value).is_integer():
            return dt.date(1899, 12, 30) + dt.timedelta(days=int(value))
        raise ValueError(f"invalid date {value!r} (write {DATE_FORMATS})")
    text = unicodedata.normalize("NFKC", str(value)).strip()
    relative = _when(text, today or dt.date.today())
    if isinstance(relative, dt.datetime):
        return relative.date()
    if isinstance(relative, dt.date):
        return relative
    found = _DATE.match(text)
    if found is None:
        raise ValueError(f"invalid date {_clip(text)!r} (write {DATE_FORMATS})")
    try:
        return dt.date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        raise ValueError(f"no such day {_clip(text)!r} (write {DATE_FORMATS})") from None


def parse_time(value: Any) -> dt.time | None:
    """A time of day from a cell: Excel's time cells (a `datetime.time`, or a fraction of
    a day), or text `9:30`, `09:30:00`, `9点30`, `14时`. None for an empty cell. Raises
    ValueError."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.time):
        return value.replace(microsecond=0)
    if isinstance(value, float) and 0 <= value < 1:
        seconds = round(value * 86400)
        return dt.time(seconds // 3600, seconds % 3600 // 60)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    found = _TIME.match(text)
    if found is None:
        raise ValueError(f"invalid time {_clip(text)!r} (write 09:30)")
    try:
        return dt.time(int(found[1]), int(found[2] or 0), int(found[3] or 0))
    except ValueError:
        raise ValueError(f"no such time {_clip(text)!r} (write 09:30)") from None


def parse_datetime(
    value: Any, *, day: dt.date | None = None, today: dt.date | None = None
) -> dt.datetime | None:
    """A local date and time from a cell: a datetime (Excel's cells), text in
    `DATE_TIME_FORMATS` (`T` between them works too; `9点30`, `14时` as well), a date
    alone (midnight), or `today+14 09:30`. `day`: a time alone (`12:00`) is that
    time on `day` (a fair's end on its start's day). None for an empty cell. Raises
    ValueError."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0, tzinfo=None) if value.tzinfo is None else value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    if isinstance(value, dt.time) and day is not None:
        return dt.datetime.combine(day, value.replace(microsecond=0))
    if isinstance(value, int | float) and not isinstance(value, bool):
        if _SERIALS[0] <= value <= _SERIALS[1] + 1:  # Excel's serial day and fraction
            return dt.datetime(1899, 12, 30) + dt.timedelta(seconds=round(value * 86400))
        if day is not None and 0 <= value < 1:
            return dt.datetime.combine(day, parse_time(float(value)) or dt.time())
        raise ValueError(f"invalid date and time {value!r} (write {DATE_TIME_FORMATS})")
    text = unicodedata.normalize("NFKC", str(value)).strip()
    relative = _when(text, today or dt.date.today())
    if isinstance(relative, dt.datetime):
        return relative
    if isinstance(relative, dt.date):
        return dt.datetime.combine(relative, dt.time())
    found = _DATE_TIME.match(text)
    try:
        if found is not None:
            return dt.datetime(
                int(found[1]),
                int(found[2]),
                int(found[3]),
                int(found[4]),
                int(found[5] or 0),
                int(found[6] or 0),
            )
        if _DATE.match(text):
            return dt.datetime.combine(parse_date(text) or dt.date.min, dt.time())
        if day is not None and _TIME.match(text):
            return dt.datetime.combine(day, parse_time(text) or dt.time())
    except ValueError:
        raise ValueError(
            f"no such day or time {_clip(text)!r} (write {DATE_TIME_FORMATS})"
        ) from None
    raise ValueError(f"invalid date and time {_clip(text)!r} (write {DATE_TIME_FORMATS})")


def _clip(text: str, limit: int = 40) -> str:
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[:limit] + "…"
