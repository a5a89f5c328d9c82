"""Exports staff take away as a spreadsheet (XLSX or CSV): a course's sign-up list, its
waiting list, its attendance, a fair's registrations, the verified workers.

These are personal data. Whoever calls `build` has checked who is asking (an admin, or
staff of that course's base: `base_id` keeps an export to one base's courses and refuses
a course of another); every export is written to the audit log (`log_export`: subject
`export:<what>`, the actor, how many rows and of what), and holds only what staff need to
run the course or place the worker.

Each export is rows under a header of column names (`Export.headers`, English keys, as
the importers read them: the attendance export has the columns of `haoxin import
trainings` (course, name, phone, attended, completed_on), so staff can fill it in and
import it back). Phone numbers of the mainland are written as people dial them
(13800138000), others in full (+85291234567); times are the programme's local time;
counties, kinds of work and the like by their Chinese names (`storage.vocab`).

Writers: `to_xlsx` and `to_csv` (UTF-8 with the byte-order mark, so Excel and WPS open
Chinese right). No cell can start a formula when the file is opened in Excel, WPS or
LibreOffice: every cell goes through `storage.spreadsheets.safe_cell` (text starting with
`=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`; OWASP's advice on CSV
injection), so a course title or a name typed as `=HYPERLINK(...)` stays text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage import vocab
from storage.models import (
    AuditEntry,
    Course,
    FairRegistration,
    JobFair,
    Profile,
    Signup,
    Training,
    WorkerProfile,
    utcnow,
)
from storage.spreadsheets import safe_cell, sheet_title, workbook
from storage.workers import is_visible, show_code

#: what can be exported
KINDS = ("signups", "waiting", "attendance", "fairs", "workers")
#: the kinds that are lists of one course's people (`course`), or of one fair's (`fair`)
COURSE_KINDS = ("signups", "waiting", "attendance")
FORMATS = ("xlsx", "csv")
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}


class ExportRefused(LookupError):
    """An export that cannot be made: `reason` is `unknown_course`, `unknown_fair`,
    `not_your_base` (a course of another base, or a programme-wide list asked for by a
    base's staff) or `unknown_kind`."""

    def __init__(self, reason: str, subject: str = "") -> None:
        super().__init__(f"{reason}: {subject}" if subject else reason)
        self.reason, self.subject = reason, subject


@dataclass
class Export:
    """One export: `what` (`KINDS`), `title` (the sheet's name and the file's stem,
    `signups ys-2026-01`), column `headers` and `rows` (cells: text, numbers, dates,
    datetimes, None), and `scope` (what it is of, for the audit log: `{"course":
    "ys-2026-01"}`)."""

    what: str
    title: str
    headers: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    scope: dict[str, Any] = field(default_factory=dict)

    def file_name(self, fmt: str, today: dt.date | None = None) -> str:
        """`signups-ys-2026-01-2026-12-09.xlsx`: safe on every system."""
        stem = re.sub(r"[^\w.-]+", "-", self.title, flags=re.ASCII).strip("-")
        day = (today or dt.date.today()).isoformat()
        return f"{stem or self.what}-{day}.{fmt}"


# -- cells --------------------------------------------------------------------------------


def phone_shown(phone: str) -> str:
    """A stored phone number (E.164) as staff dial it: `+8613800138000` → `13800138000`;
    Hong Kong and Macau numbers keep their code (`+85291234567`)."""
    return phone.removeprefix("+86") if phone.startswith("+861") else phone


def _local(moment: dt.datetime | None, zone: ZoneInfo) -> dt.datetime | None:
    """A stored UTC time (naive) as the programme's local time (naive, to the second)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.UTC).astimezone(zone).replace(tzinfo=None, microsecond=0)


def _named(value: str, *vocabularies: vocab.Vocabulary) -> str:
    """A vocabulary id (or name) by its Chinese name; anything else as stored."""
    for vocabulary in vocabularies:
        term = vocabulary.get(value) or vocabulary.of_name(value)
        if term is not None:
            return term.name
    return value


def _names(values: Sequence[str] | None, *vocabularies: vocab.Vocabulary) -> str:
    return "、".join(_named(v, *vocabularies) for v in values or [])


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


# -- building -------------------------------------------------------------------------------


async def build(
    session: AsyncSession,
    what: str,
    *,
    course: str | None = None,
    fair: str | None = None,
    base_id: int | None = None,
    timezone: str = "Asia/Shanghai",
    today: dt.date | None = None,
) -> Export:
    """The export `what` (`KINDS`): of one course (`course`: its code, or its id) or of
    every course (`signups`, `waiting`, `attendance`); of one fair or every fair
    (`fairs`); the verified workers (`workers`). `base_id`: the asker is staff of that
    base only: courses of other bases are refused, as are fairs and workers (the
    programme office's). Raises `ExportRefused`."""
    zone = ZoneInfo(timezone)
    if what in COURSE_KINDS:
        courses = await _courses(session, course, base_id)
        if what == "signups":
            return await _signups(session, courses, course, zone)
        if what == "waiting":
            return await _waiting(session, courses, course, zone)
        return await _attendance(session, courses, course)
    if base_id is not None and what in ("fairs", "workers"):
        raise ExportRefused("not_your_base", what)
    if what == "fairs":
        return await _registrations(session, fair, zone)
    if what == "workers":
        return await _workers(session, today or dt.date.today(), zone)
    raise ExportRefused("unknown_kind", what)


async def _courses(session: AsyncSession, which: str | None, base_id: int | None) -> list[Course]:
    query = select(Course).options(selectinload(Course.base)).order_by(Course.starts_on, Course.id)
    if which is not None:
        wanted = Course.code == which
        if which.isdigit():
            wanted = wanted | (Course.id == int(which))
        found = list(await session.scalars(query.where(wanted)))
        found.sort(key=lambda c: c.code != which)  # the code first, then the id
        if not found:
            raise ExportRefused("unknown_course", which)
        if base_id is not None and found[0].base_id != base_id:
            raise ExportRefused("not_your_base", which)
        return found[:1]
    if base_id is not None:
        query = query.where(Course.base_id == base_id)
    return list(await session.scalars(query))


def _title(what: str, which: str | None, courses: list[Course]) -> str:
    return f"{what} {courses[0].code}" if which is not None and courses else what


async def _people(session: AsyncSession, courses: list[Course], status: str) -> list[Signup]:
    if not courses:
        return []
    ids = [c.id for c in courses]
    rows: list[Signup] = []
    for start in range(0, len(ids), 500):
        rows += await session.scalars(
            select(Signup)
            .where(Signup.course_id.in_(ids[start : start + 500]), Signup.status == status)
            .order_by(Signup.course_id, Signup.queued_at, Signup.id)
        )
    order = {c.id: n for n, c in enumerate(courses)}
    rows.sort(key=lambda s: order[s.course_id])  # stable: each course's in its order
    return rows


async def _signups(
    session: AsyncSession, courses: list[Course], which: str | None, zone: ZoneInfo
) -> Export:
    by_id = {c.id: c for c in courses}
    out = Export(
        "signups",
        _title("signups", which, courses),
        [
            "course",
            "course_title",
            "name",
            "phone",
            "county",
            "age",
            "free_group",
            "signed_up_at",
        ],
        scope={"course": courses[0].code} if which is not None else {},
    )
    for s in await _people(session, courses, "confirmed"):
        course = by_id[s.course_id]
        out.rows.append(
            [
                course.code,
                course.title,
                s.name,
                phone_shown(s.phone),
                _named(s.county, vocab.COUNTIES, vocab.CITIES),
                s.age,
                _named(s.free_reason, vocab.FREE_GROUPS) if s.free_reason != "none" else "",
                _local(s.created_at, zone),
            ]
        )
    return out


async def _waiting(
    session: AsyncSession, courses: list[Course], which: str | None, zone: ZoneInfo
) -> Export:
    by_id = {c.id: c for c in courses}
    out = Export(
        "waiting",
        _title("waiting", which, courses),
        ["course", "course_title", "position", "name", "phone", "county", "age", "waiting_since"],
        scope={"course": courses[0].code} if which is not None else {},
    )
    position: dict[int, int] = {}
    for s in await _people(session, courses, "waitlisted"):
        course = by_id[s.course_id]
        position[course.id] = position.get(course.id, 0) + 1
        out.rows.append(
            [
                course.code,
                course.title,
                position[course.id],
                s.name,
                phone_shown(s.phone),
                _named(s.county, vocab.COUNTIES, vocab.CITIES),
                s.age,
                _local(s.queued_at, zone),
            ]
        )
    return out


async def _attendance(session: AsyncSession, courses: list[Course], which: str | None) -> Export:
    """The columns of `haoxin import trainings`: fill in attended and completed_on, and
    import it back."""
    by_id = {c.id: c for c in courses}
    out = Export(
        "attendance",
        _title("attendance", which, courses),
        ["course", "name", "phone", "attended", "completed_on"],
        scope={"course": courses[0].code} if which is not None else {},
    )
    people = await _people(session, courses, "confirmed")
    marks: dict[tuple[int, int], Training] = {}
    ids = [c.id for c in courses]
    for start in range(0, len(ids), 500):
        for t in await session.scalars(
            select(Training).where(Training.course_id.in_(ids[start : start + 500]))
        ):
            marks[(t.course_id, t.user_id)] = t
    for s in people:
        mark = marks.get((s.course_id, s.user_id))
        out.rows.append(
            [
                by_id[s.course_id].code,
                s.name,
                phone_shown(s.phone),
                _yes_no(mark.attended) if mark else "",
                mark.completed_on if mark else None,
            ]
        )
    return out


async def _registrations(session: AsyncSession, which: str | None, zone: ZoneInfo) -> Export:
    query = select(JobFair).order_by(JobFair.starts_at, JobFair.id)
    if which is not None:
        wanted = JobFair.code == which
        if which.isdigit():
            wanted = wanted | (JobFair.id == int(which))
        fairs = sorted(await session.scalars(query.where(wanted)), key=lambda f: f.code != which)
        if not fairs:
            raise ExportRefused("unknown_fair", which)
        fairs = fairs[:1]
    else:
        fairs = list(await session.scalars(query))
    out = Export(
        "fairs",
        f"fairs {fairs[0].code}" if which is not None else "fairs",
        ["fair", "fair_title", "starts_at", "name", "phone", "registered_at"],
        scope={"fair": fairs[0].code} if which is not None else {},
    )
    by_id = {f.id: f for f in fairs}
    ids = list(by_id)
    rows: list[FairRegistration] = []
    for start in range(0, len(ids), 500):
        rows += await session.scalars(
            select(FairRegistration)
            .where(
                FairRegistration.fair_id.in_(ids[start : start + 500]),
                FairRegistration.status == "registered",
            )
            .order_by(FairRegistration.created_at, FairRegistration.id)
        )
    order = {ident: n for n, ident in enumerate(ids)}
    rows.sort(key=lambda r: order[r.fair_id])
    for r in rows:
        fair = by_id[r.fair_id]
        out.rows.append(
            [
                fair.code,
                fair.title,
                fair.starts_at,  # the poster's local time already
                r.name,
                phone_shown(r.phone),
                _local(r.created_at, zone),
            ]
        )
    return out


async def _workers(session: AsyncSession, today: dt.date, zone: ZoneInfo) -> Export:
    out = Export(
        "workers",
        "workers",
        [
            "credential",
            "name",
            "phone",
            "county",
            "kinds",
            "skills",
            "places",
            "languages",
            "years",
            "certificates",
            "health_valid_until",
            "verified_at",
            "shown_to_households",
        ],
    )
    rows = await session.execute(
        select(WorkerProfile, Profile)
        .outerjoin(Profile, and_(Profile.user_id == WorkerProfile.user_id))
        .where(WorkerProfile.status == "verified")
        .options(selectinload(WorkerProfile.certificates))
        .order_by(WorkerProfile.verified_at, WorkerProfile.id)
    )
    for profile, kept in rows:
        out.rows.append(
            [
                show_code(profile.code) if profile.code else "",
                profile.name,
                phone_shown(kept.phone) if kept else "",
                _named(kept.county, vocab.COUNTIES, vocab.CITIES) if kept else "",
                _names(profile.kinds, vocab.KINDS_OF_WORK),
                _names(profile.skills, vocab.KINDS_OF_WORK),
                _names(profile.places, vocab.COUNTIES, vocab.CITIES),
                _names(profile.languages, vocab.LANGUAGES),
                profile.years,
                _names([c.kind for c in profile.certificates], vocab.CERTIFICATES),
                profile.health_valid_until,
                _local(profile.verified_at, zone),
                _yes_no(is_visible(profile, today)),
            ]
        )
    return out


# -- writing ----------------------------------------------------------------------------------


def _widths(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[int]:
    """Columns wide enough for their header and first rows (a Chinese character counts
    twice), 8 to 40 characters."""
    widths = []
    for n, header in enumerate(headers):
        texts = [header] + [str(r[n]) for r in rows[:200] if n < len(r) and r[n] is not None]
        longest = max(sum(2 if ord(ch) > 0x2E80 else 1 for ch in t) for t in texts)
        widths.append(min(max(longest + 2, 8), 40))
    return widths


def to_xlsx(rows: Sequence[Sequence[Any]], headers: Sequence[str], title: str = "Haoxin") -> bytes:
    """An .xlsx file of one sheet (`title`): a bold, frozen header row, then `rows`.
    Every cell through `safe_cell`: text that would start a formula starts with `'`;
    numbers, dates and datetimes stay what they are."""
    return workbook([(title, [list(headers), *rows])], widths=_widths(headers, rows))


def to_csv(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> bytes:
    """A CSV file, UTF-8 with the byte-order mark (Excel and WPS then read Chinese
    right), lines ending CRLF; dates as 2026-12-09, times as 2026-12-09 09:30:00. Every
    cell through `safe_cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in [list(headers), *rows]:
        writer.writerow([_csv_cell(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_cell(value: Any) -> Any:
    value = safe_cell(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else value


def render(export: Export, fmt: str) -> bytes:
    """The export as a file of `fmt` (`xlsx` or `csv`)."""
    if fmt == "csv":
        return to_csv(export.rows, export.headers)
    if fmt == "xlsx":
        return to_xlsx(export.rows, export.headers, sheet_title(export.title))
    raise ValueError(f"unknown format {fmt!r}")


async def log_export(session: AsyncSession, actor: str, export: Export, fmt: str) -> None:
    """Write the export to the audit log: subject `export:<what>`, the actor (a platform
    key), `after` = {"rows": n, "format": fmt, and its scope (`course`, `fair`)}."""
    session.add(
        AuditEntry(
            subject=f"export:{export.what}",
            actor=actor[:80],
            action="export",
            before={},
            after={"rows": len(export.rows), "format": fmt, **export.scope},
            reason="",
            at=utcnow(),
        )
    )
    await session.flush()
