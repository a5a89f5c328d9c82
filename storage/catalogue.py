"""Staff's own writes to the catalogue from chat (issue 12): create, edit, reschedule and
cancel a course or a job fair (what the screens read: `storage.catalogue_queries`).

**As the screen showed it.** Every change names what the staff member's screen showed:
`seen`, the fields of `COURSE_SEEN` / `FAIR_SEEN` as they were drawn (`seen_course`,
`seen_fair`: JSON-safe, kept in her form). The write is one statement,
`UPDATE courses SET ... WHERE id = :id AND title = :seen_title AND starts_on = ... `, so
of two staff members changing the same course the second finds nothing to update, and is
told so with the course as it is now (`Stale`): nothing is half-done, on SQLite and
PostgreSQL alike. A seat taken meanwhile (`seats_taken`, `updated_at`) is no conflict; a
change to anything she saw (by staff or an import) is. No migration is needed.

**Seats** of an open course never go below the people already seated (the import's
rule): the same UPDATE says `AND seats_taken <= :seats` (`FewerSeats` otherwise).

**Scope**: `base_id` (a base's staff) limits a change to that base's courses
(`NotYourBase`); the screens check it first, this checks it again.

Values are checked with the import's row models (`storage.importer.CourseRow`,
`FairRow`): what no import could write is refused (`ValueError`). Every write is audited
(`AuditEntry`: who, when, what, before and after; subject `course:<id>` / `fair:<id>`)
and returns the changes for `handlers.changes.announce` (table, id, watched fields that
moved), which the caller runs in the same transaction: storage never speaks to people.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, update
from sqlalchemy.exc import IntegrityError

from storage.catalogue_queries import CatalogueQueries
from storage.fairs import FairRepo
from storage.importer import WATCHED, CourseRow, FairRow
from storage.models import AuditEntry, Course, JobFair, TrainingBase
from storage.vocab import KINDS_OF_WORK

#: what a course's screen shows and a change is conditional on
COURSE_SEEN = (
    "code",
    "title",
    "title_en",
    "track",
    "base_id",
    "starts_on",
    "ends_on",
    "daily_hours",
    "seats",
    "room",
    "signup_closes_on",
    "status",
)
#: what a fair's screen shows and a change is conditional on
FAIR_SEEN = (
    "code",
    "title",
    "title_en",
    "starts_at",
    "ends_at",
    "venue",
    "address",
    "county",
    "registration_required",
    "status",
)
#: what staff may change in chat (the rest: by import)
COURSE_EDITABLE = frozenset(COURSE_SEEN) - {"code", "base_id"}
FAIR_EDITABLE = frozenset(FAIR_SEEN) - {"code"}
_DATES = {"starts_on", "ends_on", "signup_closes_on"}
_TIMES = {"starts_at", "ends_at"}
#: a code as staff type it: letters, digits, `-` and `_`
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,39}")


class Stale(Exception):
    """What the screen showed has changed since (or is gone: `now` is None)."""

    def __init__(self, now: Course | JobFair | None) -> None:
        super().__init__("changed meanwhile")
        self.now = now


class FewerSeats(Exception):
    """Fewer seats than people already seated (`taken`)."""

    def __init__(self, taken: int) -> None:
        super().__init__(taken)
        self.taken = taken


class NotYourBase(Exception):
    """A course of another training base than the one she is staff of."""


class CodeTaken(Exception):
    """Another course or fair has this code already."""


@dataclass
class Saved:
    """What a write did: the row as it is now, and the changes to announce."""

    row: Any
    changes: list[tuple[str, int, set[str]]] = field(default_factory=list)


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def _stored(name: str, value: Any) -> Any:
    """A value as the column keeps it, from its JSON form (a form or button)."""
    if value is None or not isinstance(value, str):
        return value
    if name in _DATES:
        return dt.date.fromisoformat(value)
    if name in _TIMES:
        return dt.datetime.fromisoformat(value)
    return value


def seen_course(course: Course) -> dict[str, Any]:
    """The course as its screen shows it: `COURSE_SEEN`, JSON-safe."""
    return {name: _json(getattr(course, name)) for name in COURSE_SEEN}


def seen_fair(fair: JobFair) -> dict[str, Any]:
    """The fair as its screen shows it: `FAIR_SEEN`, JSON-safe."""
    return {name: _json(getattr(fair, name)) for name in FAIR_SEEN}


def _as_shown(model: type, seen: dict[str, Any], names: tuple[str, ...]) -> list[Any]:
    """SQL conditions: each field still as `seen`. A `seen` lacking one is stale."""
    conditions = []
    for name in names:
        if name not in seen:
            raise Stale(None)
        column, value = getattr(model, name), _stored(name, seen[name])
        conditions.append(column.is_(None) if value is None else column == value)
    return conditions


class CatalogueRepo(CatalogueQueries):
    """Staff's lists of courses and fairs (`CatalogueQueries`), and their conditional,
    audited writes."""

    # --- courses ------------------------------------------------------------------------
    async def create_course(
        self, values: dict[str, Any], actor: str, *, code: str | None = None
    ) -> Saved:
        """A new open course from `values` (`COURSE_EDITABLE` and `base_id`, JSON forms
        taken), with `code`, or one made from its kind of work and start (unique).
        Raises ValueError (a value no import could write, an unknown base), `CodeTaken`."""
        wanted = COURSE_EDITABLE | {"base_id"}
        values = {k: _stored(k, v) for k, v in values.items() if k in wanted}
        base = await self.session.get(TrainingBase, values.get("base_id") or 0)
        if base is None:
            raise ValueError("unknown training base")
        values.update(status="open", seats_taken=0)
        _check_course(values, base.code, code or "new")
        for attempt in range(100):
            kind = KINDS_OF_WORK.of_name(values["track"])
            prefix = kind.id if kind is not None else "course"
            made = code or _made_code(prefix, values["starts_on"], attempt)
            if not code and not await self.code_free(made):
                continue
            try:
                async with self.session.begin_nested():  # two at once: the key decides
                    course = Course(code=made, **values)
                    self.session.add(course)
            except IntegrityError:
                if code:
                    raise CodeTaken(code) from None
                continue
            self._audit(actor, "course:create", f"course:{course.id}", {}, seen_course(course))
            return Saved(await self.course(course.id))
        raise CodeTaken(code or "")

    async def update_course(
        self,
        course_id: int,
        seen: dict[str, Any],
        values: dict[str, Any],
        actor: str,
        *,
        action: str = "course:edit",
        base_id: int | None = None,
    ) -> Saved:
        """Change a course as the screen `seen` showed it: `values` (of
        `COURSE_EDITABLE`, JSON forms taken; the others are ignored). `base_id`: only a
        course of that base. Raises `Stale` (changed or gone since: nothing written),
        `FewerSeats`, `NotYourBase`, ValueError. Cancelling is `{"status": "cancelled"}`."""
        values = {k: _stored(k, v) for k, v in values.items() if k in COURSE_EDITABLE}
        current = await self.course(course_id)
        if current is None:
            raise Stale(None)
        if base_id is not None and current.base_id != base_id:
            raise NotYourBase()
        shown = _as_shown(Course, seen, COURSE_SEEN)
        changed = {k: v for k, v in values.items() if _stored(k, seen[k]) != v}
        if not changed:
            if seen_course(current) != {k: seen[k] for k in COURSE_SEEN}:
                raise Stale(current)
            return Saved(current)
        whole = {k: _stored(k, seen[k]) for k in COURSE_EDITABLE} | changed
        _check_course(whole, current.base.code, current.code)
        stmt = update(Course).where(Course.id == course_id, *shown)
        if base_id is not None:
            stmt = stmt.where(Course.base_id == base_id)
        if "seats" in changed and whole["status"] == "open":
            stmt = stmt.where(Course.seats_taken <= changed["seats"])
        result = await self.session.execute(
            stmt.values(**changed).execution_options(synchronize_session=False)
        )
        now = await self.course(course_id)
        if result.rowcount != 1:  # type: ignore[attr-defined]
            if now is not None and seen_course(now) == {k: seen[k] for k in COURSE_SEEN}:
                if "seats" in changed and now.seats_taken > changed["seats"]:
                    raise FewerSeats(now.seats_taken)
            raise Stale(now)
        before = {k: seen[k] for k in changed}
        after = {k: _json(v) for k, v in changed.items()}
        self._audit(actor, action, f"course:{course_id}", before, after)
        watched = set(changed) & WATCHED["courses"]
        return Saved(now, [("courses", course_id, watched)] if watched else [])

    # --- fairs --------------------------------------------------------------------------
    async def create_fair(
        self, values: dict[str, Any], actor: str, *, code: str | None = None
    ) -> Saved:
        """A new open fair from `values` (`FAIR_EDITABLE`, JSON forms taken; no
        employers yet: an import adds them), with `code` or one made from its day.
        Raises ValueError, `CodeTaken`."""
        values = {k: _stored(k, v) for k, v in values.items() if k in FAIR_EDITABLE}
        values.update(status="open", employers=[])
        _check_fair(values, code or "new")
        for attempt in range(100):
            made = code or _made_code("fair", values["starts_at"].date(), attempt)
            if not code and not await self.code_free(made):
                continue
            try:
                async with self.session.begin_nested():
                    fair = JobFair(code=made, **values)
                    self.session.add(fair)
            except IntegrityError:
                if code:
                    raise CodeTaken(code) from None
                continue
            await FairRepo(self.session).keep_places([fair.id])
            self._audit(actor, "fair:create", f"fair:{fair.id}", {}, seen_fair(fair))
            return Saved(await self.fair(fair.id))
        raise CodeTaken(code or "")

    async def update_fair(
        self,
        fair_id: int,
        seen: dict[str, Any],
        values: dict[str, Any],
        actor: str,
        *,
        action: str = "fair:edit",
    ) -> Saved:
        """Change a fair as the screen `seen` showed it (`FAIR_EDITABLE`). Raises
        `Stale` (nothing written), ValueError. Cancelling is `{"status": "cancelled"}`."""
        values = {k: _stored(k, v) for k, v in values.items() if k in FAIR_EDITABLE}
        current = await self.fair(fair_id)
        if current is None:
            raise Stale(None)
        shown = _as_shown(JobFair, seen, FAIR_SEEN)
        changed = {k: v for k, v in values.items() if _stored(k, seen[k]) != v}
        if not changed:
            if seen_fair(current) != {k: seen[k] for k in FAIR_SEEN}:
                raise Stale(current)
            return Saved(current)
        _check_fair({k: _stored(k, seen[k]) for k in FAIR_EDITABLE} | changed, current.code)
        result = await self.session.execute(
            update(JobFair)
            .where(JobFair.id == fair_id, and_(*shown))
            .values(**changed)
            .execution_options(synchronize_session=False)
        )
        now = await self.fair(fair_id)
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Stale(now)
        before = {k: seen[k] for k in changed}
        after = {k: _json(v) for k, v in changed.items()}
        self._audit(actor, action, f"fair:{fair_id}", before, after)
        watched = set(changed) & WATCHED["job_fairs"]
        return Saved(now, [("job_fairs", fair_id, watched)] if watched else [])

    def _audit(self, actor: str, action: str, subject: str, before: dict, after: dict) -> None:
        self.session.add(
            AuditEntry(subject=subject, actor=actor, action=action, before=before, after=after)
        )


def _made_code(prefix: str, day: dt.date, attempt: int) -> str:
    """`maternity-20261209`, then `-2`, `-3`...: readable, and unique once checked."""
    made = f"{re.sub(r'[^A-Za-z0-9]+', '-', prefix).strip('-')[:20]}-{day:%Y%m%d}"
    return made if attempt == 0 else f"{made}-{attempt + 1}"


def _check_course(values: dict[str, Any], base_code: str, code: str) -> None:
    """Refuse (ValueError) what the import would refuse in a course row."""
    row = {k: v for k, v in values.items() if k in COURSE_EDITABLE}
    try:
        CourseRow.model_validate({**row, "code": code, "base": base_code})
    except ValidationError as bad:
        raise ValueError(str(bad)) from None


def _check_fair(values: dict[str, Any], code: str) -> None:
    """Refuse (ValueError) what the import would refuse in a fair row."""
    row = {k: v for k, v in values.items() if k in FAIR_EDITABLE}
    try:
        FairRow.model_validate({**row, "code": code})
    except ValidationError as bad:
        raise ValueError(str(bad)) from None
