"""Reviews after a job, and problem reports (issue 11).

**Reviews.** At the end of a hire (`Hire.status == "finished"`) each side may review the
other once: 1-5 for quality, communication and reliability, and a comment. A household's
review of a worker counts for her: `WorkerProfile.reviews_count` and `reviews_average`
(the average of the three marks over all her household reviews) are recomputed from the
rows in the transaction that adds a review (`ReviewRepo.add`) or, after a household's
data is erased and its reviews went with it, by `ReviewRepo.recount`. They always equal
what the rows say. The rating is shown on her credential from `SHOWN_FROM` reviews.

**The review queue.** A worker whose average over her last `RECENT` household reviews
(fewer while she has fewer) is below `FLAG_BELOW` is flagged for staff
(`review_flagged_at`, kept from the first time it fell below); she is not hidden. The
flag is cleared when that average is back at `FLAG_BELOW` or above.

**Problem reports.** Either side may report a problem at any time, with the request,
interview or hire it is about; the reporter gets a reference (`R-7K3QM`: five characters
of an alphabet without look-alikes, at random, so it can be read out on the phone and
not guessed from another), staff mark it handled once (`ReportRepo.handle`: the first
of two staff wins).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from storage.models import (
    AuditEntry,
    HelpRequest,
    Hire,
    Interview,
    ProblemReport,
    Review,
    User,
    WorkerProfile,
    utcnow,
)

#: who wrote a review, or reported a problem
SIDES = ("household", "worker")
#: the marks one can give
LOWEST, HIGHEST = 1, 5
#: the rating shows on a worker's credential (and counts in matching) from this many
SHOWN_FROM = 3
#: the review queue: her average over her last `RECENT` reviews below `FLAG_BELOW`
RECENT = 5
FLAG_BELOW = 4.0
#: the longest comment, characters
MAX_COMMENT = 300
#: the longest problem report, characters
MAX_REPORT = 1000
#: references: `R-` and `REFERENCE_LENGTH` characters of `REFERENCE_ALPHABET` (no 0/O,
#: 1/I/L or U/V to mix up on the phone): 29^5, about 20 million
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
REFERENCE_LENGTH = 5
_REFERENCE_TRIES = 8


class AlreadyReviewed(Exception):
    """This side has already reviewed this hire (checked first; the unique constraint on
    (`hire_id`, `side`) decides between two at once)."""


class BadReview(ValueError):
    """A review that cannot be kept. `why`: `side` (not household or worker), `author`
    (she is not that side of the hire), `status` (the hire has not finished), `mark` (a
    mark outside 1-5), `comment` (longer than `MAX_COMMENT`)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


@dataclass(frozen=True)
class Rating:
    """What the rows say of a worker: how many household reviews, the average of their
    three marks (None without reviews), and whether her last `RECENT` are below
    `FLAG_BELOW`."""

    count: int
    average: float | None
    low: bool


@dataclass(frozen=True)
class Context:
    """What a problem report is about, as staff need it (no names, phones or address):
    `what` is `hire`, `interview`, `request` or None (nothing in particular); the kind
    of work and way of working (vocabulary ids); the job's dates (an interview: its
    date, `at`, naive UTC); the status of the hire, interview or request."""

    what: str | None
    ident: int | None = None
    kind: str = ""
    mode: str = ""
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    at: dt.datetime | None = None
    status: str = ""


def new_reference(prefix: str = "R-") -> str:
    """A fresh reference, `prefix` (`R-`: a problem report; `Q-`: a help-desk ticket)
    and `REFERENCE_LENGTH` random characters of `REFERENCE_ALPHABET`."""
    return prefix + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def side_of(hire: Hire, user: User) -> str | None:
    """Which side of `hire` she is: `household`, `worker`, or None (not a party)."""
    if user.id is not None and user.id == hire.household_id:
        return "household"
    if user.id is not None and user.id == hire.worker_id:
        return "worker"
    return None


def _mark(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not LOWEST <= value <= HIGHEST:
        raise BadReview("mark")
    return value


class ReviewRepo:
    """Reviews after a job, and the counts they keep on the worker's profile."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        hire: Hire,
        side: str,
        author: User,
        quality: int,
        communication: int,
        reliability: int,
        comment: str = "",
    ) -> Review:
        """Keep `author`'s review of a finished hire, written as `side`, and (a
        household's) recompute the worker's count, average and flag in this transaction.

        Raises `BadReview` (see its reasons) or `AlreadyReviewed`."""
        if side not in SIDES:
            raise BadReview("side")
        if side_of(hire, author) != side:
            raise BadReview("author")
        if hire.status != "finished":
            raise BadReview("status")
        marks = [_mark(quality), _mark(communication), _mark(reliability)]
        comment = (comment or "").strip()
        if len(comment) > MAX_COMMENT:
            raise BadReview("comment")
        done = await self.session.scalar(
            select(exists().where(Review.hire_id == hire.id, Review.side == side))
        )
        if done:
            raise AlreadyReviewed()
        review = Review(
            hire_id=hire.id,
            side=side,
            author_id=author.id,
            profile_id=hire.profile_id,
            quality=marks[0],
            communication=marks[1],
            reliability=marks[2],
            comment=comment,
        )
        try:
            async with self.session.begin_nested():  # two at once: the constraint decides
                self.session.add(review)
                await self.session.flush()
        except IntegrityError as twice:
            raise AlreadyReviewed() from twice
        if side == "household":
            await self.recount([hire.profile_id])
        return review

    async def of_hire(self, hire: Hire) -> dict[str, Review]:
        """The reviews of a hire by side (`household`, `worker`), those written."""
        found = await self.session.scalars(select(Review).where(Review.hire_id == hire.id))
        return {r.side: r for r in found}

    async def summary(self, profile_id: int) -> tuple[int, float | None]:
        """(How many household reviews she has, the average of their three marks or
        None), from the rows."""
        rating = await self.rating(profile_id)
        return rating.count, rating.average

    async def rating(self, profile_id: int) -> Rating:
        """Her rating as the rows say it (`Rating`)."""
        count, total = (
            await self.session.execute(
                select(
                    func.count(Review.id),
                    func.coalesce(
                        func.sum(Review.quality + Review.communication + Review.reliability), 0
                    ),
                ).where(Review.profile_id == profile_id, Review.side == "household")
            )
        ).one()
        recent = await self.recent(profile_id, RECENT)
        low = bool(recent) and sum(_total(r) for r in recent) < FLAG_BELOW * 3 * len(recent)
        average = total / (3 * count) if count else None
        return Rating(int(count), average, low)

    async def recent(self, profile_id: int, n: int = RECENT) -> list[Review]:
        """Her last `n` household reviews, newest first."""
        found = await self.session.scalars(
            select(Review)
            .where(Review.profile_id == profile_id, Review.side == "household")
            .order_by(Review.created_at.desc(), Review.id.desc())
            .limit(n)
        )
        return list(found)

    async def flagged(self, limit: int = 10) -> list[WorkerProfile]:
        """The staff's review queue: workers flagged for low recent reviews, the
        longest flagged first."""
        found = await self.session.scalars(
            select(WorkerProfile)
            .where(WorkerProfile.review_flagged_at.is_not(None))
            .order_by(WorkerProfile.review_flagged_at, WorkerProfile.id)
            .limit(limit)
        )
        return list(found)

    async def count_flagged(self) -> int:
        return (
            await self.session.scalar(
                select(func.count(WorkerProfile.id)).where(
                    WorkerProfile.review_flagged_at.is_not(None)
                )
            )
        ) or 0

    async def rated_by(self, user: User) -> list[int]:
        """The workers' profiles a household's reviews count for (to recount them once
        its data is erased: its reviews go with it)."""
        if user.id is None:
            return []
        found = await self.session.scalars(
            select(Review.profile_id)
            .where(Review.author_id == user.id, Review.side == "household")
            .distinct()
        )
        return list(found)

    async def recount(self, profile_ids: Iterable[int], now: dt.datetime | None = None) -> None:
        """Set each profile's `reviews_count`, `reviews_average` and `review_flagged_at`
        from the rows (flagged since `now` when newly low; a profile gone is skipped).
        One UPDATE each, in this transaction; a copy already loaded is kept in step."""
        now = now or utcnow()
        for profile_id in sorted(set(profile_ids)):
            row = (
                await self.session.execute(
                    select(WorkerProfile.id, WorkerProfile.review_flagged_at).where(
                        WorkerProfile.id == profile_id
                    )
                )
            ).first()
            if row is None:
                continue
            rating = await self.rating(profile_id)
            values = {
                "reviews_count": rating.count,
                "reviews_average": rating.average,
                "review_flagged_at": (row.review_flagged_at or now) if rating.low else None,
            }
            await self.session.execute(
                update(WorkerProfile)
                .where(WorkerProfile.id == profile_id)
                # a review is not an edit of her profile: `updated_at` stays
                .values(updated_at=WorkerProfile.updated_at, **values)
                .execution_options(synchronize_session=False)
            )
            kept = self.session.identity_map.get(identity_key(WorkerProfile, profile_id))
            if kept is not None:
                for name, value in values.items():
                    set_committed_value(kept, name, value)


def _total(review: Review) -> int:
    return review.quality + review.communication + review.reliability


class ReportRepo:
    """Problem reports, from either side, to staff."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open(
        self,
        reporter: User,
        side: str,
        text: str,
        request_id: int | None = None,
        interview_id: int | None = None,
        hire_id: int | None = None,
    ) -> ProblemReport:
        """A new open report with a fresh reference (unique: a reference already used
        is drawn again). The context ids are kept as given: the caller checked that she
        is a party to them. Raises `ValueError` for another side, or a text that is
        empty or longer than `MAX_REPORT`."""
        if side not in SIDES:
            raise ValueError(f"side {side!r}")
        text = (text or "").strip()
        if not text or len(text) > MAX_REPORT:
            raise ValueError("text")
        for _ in range(_REFERENCE_TRIES):
            reference = new_reference()
            taken = await self.session.scalar(
                select(exists().where(ProblemReport.reference == reference))
            )
            if taken:
                continue
            report = ProblemReport(
                reference=reference,
                reporter_id=reporter.id,
                side=side,
                request_id=request_id,
                interview_id=interview_id,
                hire_id=hire_id,
                text=text,
                status="open",
            )
            try:
                async with self.session.begin_nested():  # another took it meanwhile
                    self.session.add(report)
                    await self.session.flush()
            except IntegrityError:
                continue
            return report
        raise RuntimeError("no free problem report reference")  # pragma: no cover

    async def context(
        self,
        request_id: int | None = None,
        interview_id: int | None = None,
        hire_id: int | None = None,
    ) -> Context:
        """What a report is (or is to be) about: the hire if there is one, else the
        interview, else the request; one that is gone counts as not given."""
        if hire_id is not None and (hire := await self.session.get(Hire, hire_id)) is not None:
            return Context(
                "hire",
                hire.id,
                hire.kind,
                hire.mode,
                hire.starts_on,
                hire.ends_on,
                status=hire.status,
            )
        if interview_id is not None:
            interview = await self.session.get(Interview, interview_id)
            if interview is not None:
                request = await self.session.get(HelpRequest, interview.request_id)
                return Context(
                    "interview",
                    interview.id,
                    request.kind if request else "",
                    request.mode if request else "",
                    at=interview.at,
                    status=interview.status,
                )
        if request_id is not None:
            request = await self.session.get(HelpRequest, request_id)
            if request is not None:
                return Context(
                    "request",
                    request.id,
                    request.kind,
                    request.mode,
                    request.starts_on,
                    status=request.status,
                )
        return Context(None)

    async def open_reports(self, limit: int = 10) -> list[ProblemReport]:
        """Open reports, the oldest first."""
        found = await self.session.scalars(
            select(ProblemReport)
            .where(ProblemReport.status == "open")
            .order_by(ProblemReport.created_at, ProblemReport.id)
            .limit(limit)
        )
        return list(found)

    async def count_open(self) -> int:
        return (
            await self.session.scalar(
                select(func.count(ProblemReport.id)).where(ProblemReport.status == "open")
            )
        ) or 0

    async def get(self, report_id: int | str | None) -> ProblemReport | None:
        """A report by id, as it is now; None for no such report (or not an id)."""
        try:
            wanted = int(report_id)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        return await self.session.get(ProblemReport, wanted, populate_existing=True)

    async def handle(
        self, report: ProblemReport, staff_key: str, now: dt.datetime | None = None
    ) -> bool:
        """Mark it handled by `staff_key`: one conditional UPDATE from `open`. False when
        it was handled already (another staff member came first); `report` is refreshed
        either way. Audited (`report:handled` on `report:<id>`)."""
        now = now or utcnow()
        result = await self.session.execute(
            update(ProblemReport)
            .where(ProblemReport.id == report.id, ProblemReport.status == "open")
            .values(status="handled", handled_by=staff_key, handled_at=now)
            .execution_options(synchronize_session=False)
        )
        await self.session.refresh(report)
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        self.session.add(
            AuditEntry(
                subject=f"report:{report.id}",
                actor=staff_key,
                action="report:handled",
                before={"status": "open"},
                after={"status": "handled"},
                at=now,
            )
        )
        return True
