"""Bulk import of courses, job fairs and worker profiles from a spreadsheet
(`storage.tabular`: CSV or XLSX), for `haoxin import courses|fairs|workers FILE` and a
file sent in chat. Reading and checking the cells is `storage.import_checks` (its
`Problem`, `ValidationFailed` and `ImportResult` are named here too); workers are
`storage.worker_import`.

Any problem in any row refuses the whole file (`ValidationFailed`): nothing is written.
The caller runs the import in one transaction, so a failure half-way (the database)
leaves nothing either.

Rows are matched by `code`, the stable external id: importing the same file again
updates the rows (or leaves them as they are) instead of adding them twice. A column the
file has sets that field (an empty cell sets the field's default: no room, no
certificate); an optional column the file lacks leaves the field as it is, so a sheet
of the required columns and `room` changes rooms and keeps fees, certificates and the
rest.

Changes to a course's dates, hours, room, base, seats or status, or a fair's time, place
or status, are returned (`ImportResult.changes`, as `storage.importer.import_data`
gives them) for the caller to tell everyone holding a place (`handlers.changes.announce`,
in the same transaction): storage never speaks to people.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.fairs import FairRepo
from storage.import_checks import (
    COURSES,
    FAIRS,
    MAX_PROBLEMS,
    WORKERS,
    ImportResult,
    Problem,
    Progress,
    ValidationFailed,
    actor_of,
    apply_values,
    audit_import,
    by_code,
    check_rows,
    clip,
    only_columns,
    present_fields,
    refuse,
    tick,
)
from storage.importer import (
    CourseRow,
    FairRow,
)
from storage.models import Course, JobFair, TrainingBase
from storage.tabular import Table
from storage.worker_import import import_key, import_workers

__all__ = [
    "COURSES",
    "FAIRS",
    "MAX_PROBLEMS",
    "WORKERS",
    "ImportResult",
    "Problem",
    "Progress",
    "ValidationFailed",
    "import_courses",
    "import_fairs",
    "import_key",
    "import_rows",
    "import_workers",
]


# -- courses ----------------------------------------------------------------------------


async def import_courses(
    session: AsyncSession,
    table: Table,
    *,
    base_ids: set[int] | None = None,
    staff: str = "",
    progress: Progress | None = None,
) -> ImportResult:
    """Create or update the courses of `table` (columns `COURSES`), all or nothing.

    `base` is a training base's code (or its name, as written in the database).
    `base_ids`: the bases the person importing may manage (None: all, an admin): a row
    of another base, or updating a course of another base, is a problem. An open course
    may not get fewer seats than people already seated. Raises `ValidationFailed`
    (nothing written) with every problem; returns what was done. Audited as
    `import:courses` by `staff` (default `import:<file name>`)."""
    checked = check_rows(table, COURSES, CourseRow)
    bases = {
        key: (ident, code)
        for ident, code, name in await session.execute(
            select(TrainingBase.id, TrainingBase.code, TrainingBase.name)
        )
        for key in (code, name)
    }
    for number, cells in checked.cells:  # rows with other problems too
        written = cells.get("base")
        if isinstance(written, str) and written not in bases:
            checked.problems.append(
                Problem(
                    number,
                    "base",
                    "unknown_base",
                    f"unknown training base {clip(written)!r}; write its code",
                    {"base": clip(written)},
                )
            )
    existing = await by_code(session, Course, (r.code for _n, r in checked.rows))
    ready: list[tuple[int, dict[str, Any], Course | None]] = []
    for number, row in checked.rows:
        base = bases.get(row.base)
        if base is None:
            continue  # said above
        course = existing.get(row.code)
        if base_ids is not None and (
            base[0] not in base_ids or (course is not None and course.base_id not in base_ids)
        ):
            checked.problems.append(
                Problem(
                    number,
                    "base",
                    "not_your_base",
                    "a course of another training base: only its own staff may change it",
                )
            )
            continue
        values = row.model_dump()
        values.pop("base")
        values["base_id"] = base[0]
        values["fee_fen"] = round(values.pop("fee_yuan") * 100)
        if (
            course is not None
            and values["status"] == "open"
            and values["seats"] < course.seats_taken
        ):
            checked.problems.append(
                Problem(
                    number,
                    "seats",
                    "fewer_seats_than_seated",
                    f"{values['seats']} seats is fewer than the {course.seats_taken} people "
                    f"already seated; keep at least {course.seats_taken}, or cancel their "
                    "places first",
                    {"seats": values["seats"], "taken": course.seats_taken},
                )
            )
            continue
        ready.append((number, values, course))
    refuse(checked, table.source)

    result = ImportResult("courses", table.source, rows=len(ready))
    present = present_fields(checked.columns, {"base": "base_id", "fee_yuan": "fee_fen"})
    for done, (_number, values, course) in enumerate(ready, start=1):
        if course is None:
            session.add(Course(**values))
            result.created += 1
        elif apply_values(course, only_columns(values, present), "courses", result):
            result.updated += 1
        else:
            result.unchanged += 1
        tick(progress, done, len(ready))
    await session.flush()
    audit_import(session, "courses", actor_of(table, staff), result)
    return result


# -- fairs ------------------------------------------------------------------------------


async def import_fairs(
    session: AsyncSession,
    table: Table,
    *,
    staff: str = "",
    progress: Progress | None = None,
) -> ImportResult:
    """Create or update the job fairs of `table` (columns `FAIRS`), all or nothing.

    `starts_at` is a date and time (2026-12-09 09:30); `ends_at` a date and time or a time
    alone (12:00, on the start's day). `employers`: the firms' names, one a line (or JSON
    as data files write them); a file without that column keeps a fair's employers.
    Raises `ValidationFailed` (nothing written); returns what was done. Where each fair's
    jobs are (`FairPlace`) is kept equal in the same transaction."""
    checked = check_rows(table, FAIRS, FairRow)
    refuse(checked, table.source)
    existing = await by_code(session, JobFair, (r.code for _n, r in checked.rows))
    result = ImportResult("fairs", table.source, rows=len(checked.rows))
    present = set(checked.columns)
    for done, (_number, row) in enumerate(checked.rows, start=1):
        values = row.model_dump()
        fair = existing.get(values["code"])
        if fair is None:
            session.add(JobFair(**values))
            result.created += 1
        elif apply_values(fair, only_columns(values, present), "job_fairs", result):
            result.updated += 1
        else:
            result.unchanged += 1
        tick(progress, done, len(checked.rows))
    await session.flush()
    await FairRepo(session).keep_places(codes=[r.code for _n, r in checked.rows])
    audit_import(session, "fairs", actor_of(table, staff), result)
    return result


async def import_rows(
    session: AsyncSession, kind: str, table: Table, **options: Any
) -> ImportResult:
    """`import_courses`, `import_fairs` or `import_workers` by `kind` (`courses`,
    `fairs`, `workers`), with their keyword options."""
    if kind == "courses":
        return await import_courses(session, table, **options)
    if kind == "fairs":
        return await import_fairs(session, table, **options)
    if kind == "workers":
        return await import_workers(session, table, **options)
    raise ValueError(f"unknown kind {kind!r}")
