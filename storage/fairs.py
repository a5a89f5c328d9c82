"""Job fairs and registrations to attend them.

The fairs list filters, counts and pages in SQL, on indexes (`JobFair.__table_args__`):
open fairs from a day on, soonest first, by county, by month (a range of `starts_at`) or
by where the jobs are (`FairPlace`, table `fair_places`, which `keep_places` keeps
equal to `destinations(fair)`). No screen reads a fair's row beyond the page it shows:
counts read index entries only, and the filter screens one or two index seeks per county,
month or destination; at 30,000 fairs each screen takes a few ms (`bench/fairs.py`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from storage.models import FairPlace, FairRegistration, JobFair

#: ids per statement when syncing places (well under any database's parameter limit)
CHUNK = 500
#: months looked up in one statement by the month filter's screen (SQLite allows 500)
MONTHS_AT_ONCE = 120
#: a month filter's value: `2026-12`, as `starts_at.strftime("%Y-%m")` writes it
_MONTH = re.compile(r"\d{4}-\d{2}")


def places(employers: Any) -> list[str]:
    """Where the jobs of a fair's `employers` (its JSON list) are, each once, in the order
    first mentioned. A destination that is not text (the importer never stores one) is
    left out."""
    seen: list[str] = []
    for employer in employers if isinstance(employers, list) else []:
        jobs = employer.get("jobs", []) if isinstance(employer, dict) else []
        for job in jobs if isinstance(jobs, list) else []:
            place = job.get("destination", "") if isinstance(job, dict) else ""
            if place and isinstance(place, str) and place not in seen:
                seen.append(place)
    return seen


def destinations(fair: JobFair) -> list[str]:
    """Where the fair's jobs are, in the order first mentioned (its `FairPlace` rows)."""
    return places(fair.employers)


@dataclass(frozen=True)
class FairFilter:
    """What the fairs list is narrowed to; empty fields narrow nothing.

    `county` and `destination` are a name, or several (the spellings of one term of a
    vocabulary: `电白`, `电白区`); `month` is `YYYY-MM` of the local wall-clock start
    (`starts_at.strftime("%Y-%m")`); `ids`, when set, are a search's results: only those
    fairs, in that order.
    """

    county: str | tuple[str, ...] = ""
    month: str = ""
    destination: str | tuple[str, ...] = ""
    ids: tuple[int, ...] | None = None


def _names(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


class FairLine(NamedTuple):
    """A fair as the list shows it: a button `title · date` that opens fair `id`."""

    id: int
    title: str
    #: local wall-clock time, naive
    starts_at: dt.datetime
    #: the title in English, where the data gives one
    title_en: str = ""


def month_range(month: str) -> tuple[dt.datetime, dt.datetime] | None:
    """`2026-12` → (2026-12-01 00:00, 2027-01-01 00:00), naive: exactly the times whose
    `strftime("%Y-%m")` is `month`. None when `month` is no such month (matches nothing)."""
    if not _MONTH.fullmatch(month):
        return None
    year, number = int(month[:4]), int(month[5:])
    if not 1 <= year <= dt.MAXYEAR or not 1 <= number <= 12:
        return None
    first = dt.datetime(year, number, 1)
    if (year, number) == (dt.MAXYEAR, 12):
        return first, dt.datetime.max
    return first, dt.datetime(year + number // 12, number % 12 + 1, 1)


class FairRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, fair_id: int) -> JobFair | None:
        return await self.session.get(JobFair, fair_id)

    async def upcoming(self, since: dt.datetime) -> list[JobFair]:
        """Every open fair from `since` on (naive local wall-clock time, like `starts_at`),
        soonest first, whole: only where there are few (the list uses `count`/`listed`)."""
        rows = await self.session.scalars(
            select(JobFair)
            .where(JobFair.status == "open", JobFair.starts_at >= since)
            .order_by(JobFair.starts_at, JobFair.id)
        )
        return list(rows)

    # --- the list: filtered, counted and paged in SQL ----------------------------------
    def _matching(
        self, since: dt.datetime, flt: FairFilter, *columns: Any, fair_row: bool = False
    ) -> Select[Any]:
        """SELECT `columns` of the open fairs starting at `since` or later (naive local
        time) that `flt` keeps, soonest first (ties by id). For a destination it reads
        `fair_places`, joined to job_fairs only when `fair_row` (the columns are the
        fair's) or the filter needs the fair's own row; job_fairs otherwise."""
        wheres: list[ColumnElement[bool]] = []
        places = _names(flt.destination)
        if len(places) > 1:  # several spellings: a fair naming two of them is listed once
            at, ident = JobFair.starts_at, JobFair.id
            named = select(FairPlace.fair_id).where(
                FairPlace.status == "open", FairPlace.place.in_(places)
            )
            wheres += [JobFair.status == "open", JobFair.id.in_(named)]
            query = select(*columns).select_from(JobFair)
        elif places and places[0]:
            at, ident = FairPlace.starts_at, FairPlace.fair_id
            wheres += [FairPlace.status == "open", FairPlace.place == places[0]]
            query = select(*columns).select_from(FairPlace)
            if fair_row or flt.county or flt.ids is not None:
                query = query.join(JobFair, JobFair.id == FairPlace.fair_id)
        else:
            at, ident = JobFair.starts_at, JobFair.id
            wheres.append(JobFair.status == "open")
            query = select(*columns).select_from(JobFair)
        if flt.month:
            span = month_range(flt.month)
            wheres += [at >= max(since, span[0]), at < span[1]] if span else [false()]
        else:
            wheres.append(at >= since)
        counties = [c for c in _names(flt.county) if c]
        if counties:
            wheres.append(
                JobFair.county == counties[0]
                if len(counties) == 1
                else JobFair.county.in_(counties)
            )
        if flt.ids is not None:
            wheres.append(JobFair.id.in_(flt.ids) if flt.ids else false())
        return query.where(and_(*wheres)).order_by(at, ident)

    async def count(self, since: dt.datetime, flt: FairFilter) -> int:
        """How many open fairs from `since` on (naive local time) `flt` keeps."""
        query = self._matching(since, flt, func.count()).order_by(None)
        return (await self.session.scalar(query)) or 0

    async def listed(
        self, since: dt.datetime, flt: FairFilter, offset: int, limit: int
    ) -> list[FairLine]:
        """Fairs `offset` to `offset + limit - 1` (from 0) of those `flt` keeps from `since`
        on: soonest first (ties by id), or in the order of `flt.ids`."""
        columns = (JobFair.id, JobFair.title, JobFair.starts_at, JobFair.title_en)
        if flt.ids is not None:  # a search's few results, in the search's order
            order = {ident: n for n, ident in enumerate(flt.ids)}
            rows = await self.session.execute(self._matching(since, flt, *columns, fair_row=True))
            found = sorted((FairLine(*row) for row in rows), key=lambda f: order[f.id])
            return found[offset : offset + limit]
        query = self._matching(since, flt, *columns, fair_row=True).offset(offset).limit(limit)
        return [FairLine(*row) for row in await self.session.execute(query)]

    # --- the filter screens: the counties, months and destinations there are -----------
    async def choices(self, since: dt.datetime, kind: str) -> list[str]:
        """The counties, months (`YYYY-MM`) or destinations (`kind`) of the open fairs from
        `since` on (naive local time), each once, in the order the list first shows them
        (by their first fair's start, then id, then place in `destinations(fair)`); no
        empty county. One index seek or two per value, never a fair's row."""
        if kind == "month":
            return await self._months(since)
        if kind == "county":
            fairs = JobFair.__table__.c
            return await self._first_seen(since, fairs.county, fairs.starts_at, fairs.id)
        if kind == "destination":
            rows = FairPlace.__table__.c
            return await self._first_seen(since, rows.place, rows.starts_at, rows.fair_id, True)
        raise ValueError(f"no such filter: {kind!r}")

    async def _first_seen(
        self, since: dt.datetime, value: Any, at: Any, ident: Any, in_fair_order: bool = False
    ) -> list[str]:
        """Distinct `value`s (job_fairs.county, or fair_places.place) of open rows from
        `since` on, ordered by their first fair: its start, its id, then (`in_fair_order`)
        the place's position in it. A loose index scan on the (status, value, start, id)
        index: a recursive CTE steps from one value to the next, one seek each; for each
        value its first start, the smallest fair id at that start (and the position) are
        one seek each too."""
        open_ = value.table.c.status == "open"
        seed = select(func.min(value).label("v")).where(open_).cte("vals", recursive=True)
        after = select(func.min(value)).where(open_, value > seed.c.v).scalar_subquery()
        vals = seed.union_all(select(after).where(seed.c.v.is_not(None)))
        first_at = (
            select(func.min(at)).where(open_, value == vals.c.v, at >= since).scalar_subquery()
        )
        firsts = select(vals.c.v, first_at.label("at")).where(vals.c.v.is_not(None)).subquery()
        first_id = (
            select(func.min(ident))
            .where(open_, value == firsts.c.v, at == firsts.c.at)
            .scalar_subquery()
        )
        found = (
            select(firsts.c.v, firsts.c.at, first_id.label("ident"))
            .where(firsts.c.at.is_not(None), firsts.c.v != "")
            .subquery()
        )
        order: list[Any] = [found.c.at, found.c.ident]
        if in_fair_order:  # several places first seen at the same fair: in its own order
            rank = FairPlace.__table__.c
            order.append(
                select(rank.position)
                .where(rank.fair_id == found.c.ident, rank.place == found.c.v)
                .scalar_subquery()
            )
        return list(await self.session.scalars(select(found.c.v).order_by(*order)))

    async def _months(self, since: dt.datetime) -> list[str]:
        """Months (`YYYY-MM`) of the open fairs from `since` on, in order. The last open
        fair's start is one seek; then each month from `since`'s to that one is one
        EXISTS seek on (status, starts_at), `MONTHS_AT_ONCE` months a statement."""
        fairs = JobFair.__table__.c
        last = await self.session.scalar(
            select(func.max(fairs.starts_at)).where(fairs.status == "open")
        )
        if last is None or last < since:
            return []
        spans: list[tuple[str, dt.datetime, dt.datetime]] = []
        month = since.strftime("%Y-%m")
        while (span := month_range(month)) is not None and span[0] <= last:
            spans.append((month, max(since, span[0]), span[1]))
            if span[1] == dt.datetime.max:
                break
            month = span[1].strftime("%Y-%m")
        months: list[str] = []
        for chunk in _chunks(spans, MONTHS_AT_ONCE):
            held = [
                select(literal(name, String).label("month")).where(
                    exists().where(
                        fairs.status == "open", fairs.starts_at >= lo, fairs.starts_at < hi
                    )
                )
                for name, lo, hi in chunk
            ]
            query = union_all(*held).subquery()
            months += await self.session.scalars(select(query.c.month).order_by(query.c.month))
        return months

    # --- keeping fair_places equal to destinations(fair) -------------------------------
    async def keep_places(self, fair_ids: Iterable[int] = (), *, codes: Iterable[str] = ()) -> int:
        """Make the `FairPlace` rows of these fairs (by id or by code) equal to
        `destinations(fair)` as the fairs are now stored (flush first); returns how many
        fairs' rows were rewritten. Call it, in the same transaction, after writing a
        fair's `employers`."""
        ids = set(fair_ids)
        for chunk in _chunks(sorted(set(codes))):
            ids.update(
                await self.session.scalars(select(JobFair.id).where(JobFair.code.in_(chunk)))
            )
        rewritten = 0
        for chunk in _chunks(sorted(ids)):
            stored = await self.session.execute(
                select(JobFair.id, JobFair.employers).where(JobFair.id.in_(chunk))
            )
            wanted = {ident: places(employers) for ident, employers in stored}
            have: dict[int, list[str]] = {ident: [] for ident in wanted}
            rows = await self.session.execute(
                select(FairPlace.fair_id, FairPlace.place)
                .where(FairPlace.fair_id.in_(chunk))
                .order_by(FairPlace.fair_id, FairPlace.position)
            )
            for ident, place in rows:
                have.setdefault(ident, []).append(place)
            stale = sorted(i for i in wanted if have[i] != wanted[i])
            if not stale:
                continue
            await self.session.execute(delete(FairPlace).where(FairPlace.fair_id.in_(stale)))
            new = [
                {"fair_id": i, "place": p, "position": n}
                for i in stale
                for n, p in enumerate(wanted[i])
            ]
            if new:
                conn = await self.session.connection()
                await conn.execute(_INSERT_PLACE, new)
            rewritten += len(stale)
        return rewritten

    async def places_of(self, fair_ids: Sequence[int]) -> dict[int, list[str]]:
        """The stored `FairPlace` rows of these fairs: {fair id: places in position order}."""
        out: dict[int, list[str]] = {ident: [] for ident in fair_ids}
        for chunk in _chunks(list(fair_ids)):
            rows = await self.session.execute(
                select(FairPlace.fair_id, FairPlace.place)
                .where(FairPlace.fair_id.in_(chunk))
                .order_by(FairPlace.fair_id, FairPlace.position)
            )
            for ident, place in rows:
                out[ident].append(place)
        return out

    # --- registrations -------------------------------------------------------------------
    async def mine(self, fair_id: int, user_id: int) -> FairRegistration | None:
        return await self.session.scalar(
            select(FairRegistration).where(
                FairRegistration.fair_id == fair_id, FairRegistration.user_id == user_id
            )
        )

    async def register(self, fair_id: int, user_id: int, name: str, phone: str) -> FairRegistration:
        registration = await self.mine(fair_id, user_id)
        if registration is None:
            registration = FairRegistration(fair_id=fair_id, user_id=user_id, name="", phone="")
            self.session.add(registration)
        registration.name, registration.phone, registration.status = name, phone, "registered"
        await self.session.flush()
        return registration

    async def registered(self, fair_id: int) -> list[FairRegistration]:
        rows = await self.session.scalars(
            select(FairRegistration).where(
                FairRegistration.fair_id == fair_id, FairRegistration.status == "registered"
            )
        )
        return list(rows)

    async def of_user(self, user_id: int) -> list[FairRegistration]:
        """Her registrations still standing, with their fairs, soonest first (one query)."""
        return list(await self.session.scalars(_OF_USER, {"user_id": user_id}))


# her registrations with their fairs, in one statement built once (My sign-ups shows
# them after every sign-up confirmation)
_OF_USER = (
    select(FairRegistration)
    .join(FairRegistration.fair)
    .options(contains_eager(FairRegistration.fair))
    .where(
        FairRegistration.user_id == bindparam("user_id"),
        FairRegistration.status == "registered",
    )
    .order_by(JobFair.starts_at, FairRegistration.id)
)


def _chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# one place row: its copy of the fair's (starts_at, status) read from the fair's own row,
# as stored, so that it always satisfies the foreign key (executed with many parameters)
_INSERT_PLACE = insert(FairPlace.__table__).from_select(
    ["fair_id", "place", "position", "starts_at", "status"],
    select(
        JobFair.__table__.c.id,
        bindparam("place", type_=FairPlace.__table__.c.place.type),
        bindparam("position", type_=FairPlace.__table__.c.position.type),
        JobFair.__table__.c.starts_at,
        JobFair.__table__.c.status,
    ).where(JobFair.__table__.c.id == bindparam("fair_id")),
)
