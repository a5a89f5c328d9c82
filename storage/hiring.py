"""Interviews, trials (试工) and placements between households and workers (issue 11).

    the household asks ─▶ asked ─┬─(she accepts)──────────▶ agreed: phones exchanged
                                 ├─(she declines)─────────▶ declined
                                 ├─(she proposes a time)──▶ moved ─┬─(it agrees)──▶ agreed
                                 │                                 └─(it declines)▶ withdrawn
                                 └─ 24 hours unanswered ──▶ expired (`expire_due`), told
    agreed ──(household)──▶ Hire: trial ─┬─ confirmed ─▶ hired ─ the end date ─▶ finished
                                         └─ ended ──▶ a replacement (she is not shown again)

Every change of state is one conditional UPDATE on the status (and version) it expects,
in the caller's transaction (SQLite's write lock, PostgreSQL's SERIALIZABLE): of two
answers at once (her accepting on one instance while the request expires on another),
the first wins and the second raises `Moved` with the interview as it is now. Asking
checks, in the same transaction, that she may still be shown and is not at work
elsewhere; the partial unique indexes `uq_interviews_live` and `uq_hires_live_profile`
hold the same rules in the database itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import exists, literal_column, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    HIRE_LIVE,
    INTERVIEW_LIVE,
    HelpRequest,
    Hire,
    Interview,
    User,
    WorkerProfile,
    utcnow,
)
from storage.vocab import CITIES, COUNTIES, GREATER_BAY_AREA
from storage.workers import is_visible

#: how long the other side has to answer an interview request (issue 11), hours
ANSWER_HOURS = 24
#: a trial's length when the household does not say (issue 11), days
TRIAL_DAYS = 3
#: the longest trial the programme accepts, days
MAX_TRIAL_DAYS = 14
#: the statuses in which an interview waits for someone's answer
WAITING = ("asked", "moved")


class Refused(Exception):
    """An interview cannot be asked for, agreed or lead to a trial. `reason`: `hidden`
    (she is paused, suspended, her health check ran out or she stopped sharing her
    profile), `busy` (she is on a trial or hired), `twice` (this request has a live
    interview with her), `closed` (the request is closed), `paused` (it is paused),
    `health` (her health check runs out before the trial starts), `filled` (the request
    has a live trial or hire)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Moved(Exception):
    """The interview or hire changed since it was shown (another answer came first, it
    expired, she was hired elsewhere): `current` is it as it is now, None if gone."""

    def __init__(self, current: Interview | Hire | None) -> None:
        super().__init__(getattr(current, "status", None))
        self.current = current


def destination(place: str) -> str:
    """Where a placement goes, for the programme's statistics: `maoming` for Maoming or
    any of its counties, the city's id for another city (`CITIES`), else `elsewhere`."""
    if COUNTIES.get(place) is not None or place == "maoming":
        return "maoming"
    return place if CITIES.get(place) is not None else "elsewhere"


def destination_group(city: str) -> str:
    """`maoming`, `gba` (a Greater Bay Area city: `GREATER_BAY_AREA`) or `elsewhere`."""
    if city == "maoming":
        return "maoming"
    return "gba" if city in GREATER_BAY_AREA else "elsewhere"


def at_work(profile_id: Any, starts: dt.date, ends: dt.date | None) -> Any:
    """The SQL condition: the worker (`profile_id`: a column or a value) has a live
    trial or hire (`HIRE_LIVE`) on a day from `starts` to `ends` (None: open-ended,
    every day from `starts` on). A live hire without `ends_on` holds every day from its
    start. The statuses are literals, so that SQLite reads the partial index
    `ix_hires_live_profile` (a bound parameter cannot show that its WHERE holds)."""
    live = [literal_column(f"'{status}'") for status in HIRE_LIVE]
    conditions = [
        Hire.profile_id == profile_id,
        Hire.status.in_(live),
        or_(Hire.ends_on.is_(None), Hire.ends_on >= starts),
    ]
    if ends is not None:
        conditions.append(Hire.starts_on <= max(ends, starts))
    return exists().where(*conditions)


def overlap(first: tuple[dt.date, dt.date | None], second: tuple[dt.date, dt.date | None]) -> bool:
    """Whether two spans of days (start, last day or None: open-ended) share a day."""
    (a0, a1), (b0, b1) = first, second
    return (a1 is None or b0 <= a1) and (b1 is None or a0 <= b1)


def job_span(request: HelpRequest, today: dt.date) -> tuple[dt.date, dt.date | None]:
    """The days a request's job takes: from its start (today at the earliest) to its
    last day (None: open-ended, no length given)."""
    starts = max(request.starts_on or today, today)
    ends = None
    if request.starts_on is not None and request.days:
        ends = request.starts_on + dt.timedelta(days=request.days - 1)
    return starts, ends


class HiringRepo:
    """Interviews and hires, seen by either side: each lookup takes the person, so no
    id from a button reaches someone else's interview."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- interviews ---------------------------------------------------------------------
    async def ask(
        self,
        request: HelpRequest,
        profile: WorkerProfile,
        *,
        at: dt.datetime,
        how: str,
        summary: str,
        today: dt.date,
        now: dt.datetime | None = None,
    ) -> Interview:
        """Ask her for an interview for `request` at `at` (naive UTC), `how` `home` or
        `video`. Raises `Refused` (see its reasons); checked in this transaction."""
        now = now or utcnow()
        if request.status != "open":
            raise Refused("closed")
        await self.session.refresh(profile)
        if not is_visible(profile, today):
            raise Refused("hidden")
        if await self.busy(profile.id, *job_span(request, today)):
            raise Refused("busy")
        live = await self.session.scalar(
            select(Interview.id).where(
                Interview.request_id == request.id,
                Interview.profile_id == profile.id,
                Interview.status.in_(INTERVIEW_LIVE),
            )
        )
        if live is not None:
            raise Refused("twice")
        interview = Interview(
            request_id=request.id,
            profile_id=profile.id,
            household_id=request.user_id,
            worker_id=profile.user_id,
            status="asked",
            at=at,
            how=how,
            summary=summary,
            expires_at=now + dt.timedelta(hours=ANSWER_HOURS),
        )
        self.session.add(interview)
        await self.session.flush()
        return interview

    async def busy(self, profile_id: int, starts: dt.date, ends: dt.date | None) -> bool:
        """Whether she is on a trial or hired on a day from `starts` to `ends`
        (`at_work`)."""
        return bool(await self.session.scalar(select(at_work(profile_id, starts, ends))))

    async def interview(self, user: User, interview_id: int | str | None) -> Interview | None:
        """One interview of hers by id, as the household or as the worker; None for
        anyone else's or no such interview."""
        wanted = _int(interview_id)
        if user.id is None or wanted is None:
            return None
        found = await self.session.get(Interview, wanted, populate_existing=True)
        if found is None or user.id not in (found.household_id, found.worker_id):
            return None
        return found

    async def interviews_of(self, user: User, limit: int = 20) -> list[Interview]:
        """Her interviews on either side, those waiting or agreed first, newest first."""
        if user.id is None:
            return []
        found = await self.session.scalars(
            select(Interview)
            .where(or_(Interview.household_id == user.id, Interview.worker_id == user.id))
            .order_by(Interview.status.notin_(INTERVIEW_LIVE), Interview.id.desc())
            .limit(limit)
        )
        return list(found)

    async def _move(
        self,
        interview: Interview,
        expect: tuple[str, ...],
        now: dt.datetime,
        *,
        overdue: bool | None = False,
        **values: Any,
    ) -> Interview:
        """One conditional UPDATE: from a status in `expect`, at the version seen; a
        waiting interview only before it expires (`overdue`: only after; None: either).
        Raises `Moved` when another change came first."""
        seen = interview.version
        conditions = [
            Interview.id == interview.id,
            Interview.version == seen,
            Interview.status.in_(expect),
        ]
        if overdue:
            conditions.append(Interview.expires_at <= now)
        elif overdue is not None:
            conditions.append(or_(Interview.status.notin_(WAITING), Interview.expires_at > now))
        result = await self.session.execute(
            update(Interview)
            .where(*conditions)
            .values(version=seen + 1, updated_at=now, **values)
            .execution_options(synchronize_session=False)
        )
        current = await self.session.get(Interview, interview.id, populate_existing=True)
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Moved(current)
        assert current is not None
        return current

    async def accept(
        self,
        interview: Interview,
        today: dt.date | None = None,
        now: dt.datetime | None = None,
    ) -> Interview:
        """She accepts the time asked, or the household accepts the time she proposed:
        agreed (each side may now see the other's phone number). Checked first, in this
        transaction, as when it was asked: the request still open (`Refused("paused")`
        while paused; `closed` cancels it), and she may still be shown (`hidden`) and is
        not at work elsewhere (`busy`): both cancel it. Raises `Moved` when another
        change came first."""
        now = now or utcnow()
        reason = await self.why_not(interview, today or dt.date.today())
        if reason == "paused":
            raise Refused(reason)
        if reason is not None:
            await self._move(interview, WAITING, now, status="cancelled")
            raise Refused(reason)
        return await self._move(interview, WAITING, now, status="agreed", agreed_at=now)

    async def why_not(
        self,
        interview: Interview,
        today: dt.date,
        span: tuple[dt.date, dt.date | None] | None = None,
    ) -> str | None:
        """Why the interview cannot go on now (`Refused`'s reasons, and `paused` for a
        paused request), or None. `span`: the job's days (first, last), when they are
        no longer the request's (a trial's own start)."""
        request = await self.session.get(HelpRequest, interview.request_id, populate_existing=True)
        if request is None or request.status == "closed":
            return "closed"
        if request.status == "paused":
            return "paused"
        profile = await self.session.get(
            WorkerProfile, interview.profile_id, populate_existing=True
        )
        if profile is None or not is_visible(profile, today):
            return "hidden"
        if await self.busy(profile.id, *(span or job_span(request, today))):
            return "busy"
        return None

    async def cancel_live(
        self,
        *,
        request_id: int | None = None,
        profile_id: int | None = None,
        user_id: int | None = None,
        keep: int | None = None,
        during: tuple[dt.date, dt.date | None] | None = None,
        today: dt.date | None = None,
        now: dt.datetime | None = None,
    ) -> list[Interview]:
        """Cancel the live interviews (waiting, or agreed without a hire) of a request
        (closed or filled), of a worker (at work now) or of a person (her data erased),
        all but `keep`; with `during` (first day, last or None), only those whose job
        takes one of those days (`job_span`, from `today`). Returns those cancelled, for
        the other sides to be told."""
        now = now or utcnow()
        conditions = [Interview.status.in_(INTERVIEW_LIVE)]
        if request_id is not None:
            conditions.append(Interview.request_id == request_id)
        if profile_id is not None:
            conditions.append(Interview.profile_id == profile_id)
        if user_id is not None:
            conditions.append(
                or_(Interview.household_id == user_id, Interview.worker_id == user_id)
            )
        if keep is not None:
            conditions.append(Interview.id != keep)
        found = await self.session.scalars(
            select(Interview)
            .where(*conditions, ~exists().where(Hire.interview_id == Interview.id))
            .order_by(Interview.id)
        )
        cancelled = []
        for interview in list(found):
            if during is not None:
                request = await self.session.get(HelpRequest, interview.request_id)
                if request is not None and not overlap(
                    during, job_span(request, today or dt.date.today())
                ):
                    continue
            try:
                cancelled.append(
                    await self._move(
                        interview, INTERVIEW_LIVE, now, overdue=None, status="cancelled"
                    )
                )
            except Moved:
                continue
        return cancelled

    async def decline(self, interview: Interview, now: dt.datetime | None = None) -> Interview:
        """She declines (`declined`), or the household declines her proposed time or
        withdraws (`withdrawn`). Raises `Moved`."""
        now = now or utcnow()
        status = "declined" if interview.status == "asked" else "withdrawn"
        return await self._move(interview, (interview.status,), now, status=status)

    async def withdraw(self, interview: Interview, now: dt.datetime | None = None) -> Interview:
        """The household calls it off (waiting or agreed): `withdrawn`. Raises `Moved`."""
        now = now or utcnow()
        return await self._move(interview, INTERVIEW_LIVE, now, status="withdrawn")

    async def propose(
        self, interview: Interview, at: dt.datetime, now: dt.datetime | None = None
    ) -> Interview:
        """She proposes another time: `moved`, the household has `ANSWER_HOURS` to
        answer. Raises `Moved`."""
        now = now or utcnow()
        return await self._move(
            interview,
            ("asked",),
            now,
            status="moved",
            at=at,
            expires_at=now + dt.timedelta(hours=ANSWER_HOURS),
        )

    async def expire_due(self, now: dt.datetime | None = None, limit: int = 200) -> list[Interview]:
        """Interviews whose answer is overdue, now `expired` (each by one conditional
        UPDATE: one that was answered meanwhile is left alone). Returns those expired
        here, for their households (and workers) to be told."""
        now = now or utcnow()
        due = await self.session.scalars(
            select(Interview)
            .where(Interview.status.in_(WAITING), Interview.expires_at <= now)
            .order_by(Interview.expires_at)
            .limit(limit)
        )
        expired = []
        for interview in list(due):
            try:
                expired.append(
                    await self._move(interview, WAITING, now, overdue=True, status="expired")
                )
            except Moved:
                continue
        return expired

    # --- trials and hires ---------------------------------------------------------------
    async def start_trial(
        self,
        interview: Interview,
        request: HelpRequest,
        *,
        starts_on: dt.date,
        trial_days: int,
        trial_fee: int,
        wage: int,
        wage_unit: str,
        ends_on: dt.date | None = None,
        today: dt.date | None = None,
    ) -> Hire:
        """A trial after an agreed interview, from `starts_on` (local date). Refused
        (`Refused`) as an interview is: the request paused or no longer open
        (`closed`), she no longer shown (`hidden`), at work elsewhere (`busy`); and
        when her health check runs out before the start (`health`) or the request has
        a live trial or hire already (`filled`). `today`: the programme's local date.
        Raises `Moved` when the interview is no longer agreed or already led to a hire."""
        current = await self.session.get(Interview, interview.id, populate_existing=True)
        if current is None or current.status != "agreed":
            raise Moved(current)
        if await self.session.scalar(select(Hire.id).where(Hire.interview_id == interview.id)):
            raise Moved(current)
        filled = await self.session.scalar(
            select(Hire.id).where(Hire.request_id == request.id, Hire.status.in_(HIRE_LIVE))
        )
        if filled is not None:
            raise Refused("filled")
        reason = await self.why_not(current, today or dt.date.today(), span=(starts_on, ends_on))
        if reason is not None:
            raise Refused(reason)
        profile = await self.session.get(WorkerProfile, current.profile_id)
        if profile is None or (profile.health_valid_until or dt.date.min) < starts_on:
            raise Refused("health")
        hire = Hire(
            interview_id=interview.id,
            request_id=request.id,
            profile_id=interview.profile_id,
            household_id=interview.household_id,
            worker_id=interview.worker_id,
            status="trial",
            kind=request.kind,
            mode=request.mode,
            place=request.place,
            city=destination(request.place),
            starts_on=starts_on,
            ends_on=ends_on,
            trial_days=trial_days,
            trial_fee=trial_fee,
            wage=wage,
            wage_unit=wage_unit,
        )
        self.session.add(hire)
        await self.session.flush()
        return hire

    async def hire(self, user: User, hire_id: int | str | None) -> Hire | None:
        """One hire of hers by id, on either side; None for anyone else's."""
        wanted = _int(hire_id)
        if user.id is None or wanted is None:
            return None
        found = await self.session.get(Hire, wanted, populate_existing=True)
        if found is None or user.id not in (found.household_id, found.worker_id):
            return None
        return found

    async def hire_of(self, interview: Interview) -> Hire | None:
        """The trial or hire that came of an interview, if any."""
        return await self.session.scalar(select(Hire).where(Hire.interview_id == interview.id))

    async def hires_of(self, user: User, limit: int | None = 20) -> list[Hire]:
        """Her trials and hires on either side, live ones first, newest first (all of
        them with `limit` None)."""
        if user.id is None:
            return []
        found = await self.session.scalars(
            select(Hire)
            .where(or_(Hire.household_id == user.id, Hire.worker_id == user.id))
            .order_by(Hire.status.notin_(HIRE_LIVE), Hire.id.desc())
            .limit(limit)
        )
        return list(found)

    async def _set_hire(self, hire: Hire, expect: str, now: dt.datetime, **values: Any) -> Hire:
        seen = hire.version
        result = await self.session.execute(
            update(Hire)
            .where(Hire.id == hire.id, Hire.version == seen, Hire.status == expect)
            .values(version=seen + 1, updated_at=now, **values)
            .execution_options(synchronize_session=False)
        )
        current = await self.session.get(Hire, hire.id, populate_existing=True)
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Moved(current)
        assert current is not None
        return current

    async def agree_terms(self, hire: Hire, now: dt.datetime | None = None) -> Hire:
        """She agrees to the trial's terms (`worker_agreed_at`). Raises `Moved`."""
        now = now or utcnow()
        if hire.worker_agreed_at is not None:
            raise Moved(hire)
        return await self._set_hire(hire, "trial", now, worker_agreed_at=now)

    async def confirm(self, hire: Hire, now: dt.datetime | None = None) -> Hire:
        """The household confirms the hire after the trial: `hired` (a placement, with
        its destination city); only once she agreed to the terms. Raises `Moved`."""
        now = now or utcnow()
        if hire.worker_agreed_at is None:
            raise Moved(hire)
        return await self._set_hire(hire, "trial", now, status="hired", confirmed_at=now)

    async def end_trial(self, hire: Hire, reason: str, now: dt.datetime | None = None) -> Hire:
        """The household ends the trial: `ended`; she is never shown for that request
        again (`HelpRequest.excluded`). Raises `Moved`."""
        now = now or utcnow()
        ended = await self._set_hire(
            hire, "trial", now, status="ended", end_reason=reason, ended_at=now
        )
        request = await self.session.get(HelpRequest, hire.request_id)
        if request is not None and hire.profile_id not in (request.excluded or []):
            request.excluded = [*(request.excluded or []), hire.profile_id]
        return ended

    async def finish(self, hire: Hire, now: dt.datetime | None = None) -> Hire:
        """The job is over (at its end date, or either side says so): `finished`, both
        are to be asked for a review. Raises `Moved`."""
        now = now or utcnow()
        return await self._set_hire(
            hire, "hired", now, status="finished", ended_at=now, review_asked_at=now
        )

    async def keep_terms(self, hire: Hire, terms: dict[str, Any]) -> None:
        """Keep the contract's terms as confirmed (`Hire.terms`)."""
        hire.terms = terms
        await self.session.flush()

    async def forget_party(self, hire: Hire, side: str) -> None:
        """One side (`household` or `worker`) erases her data: her details leave the
        kept contract terms (`Hire.terms`): name, phone, and the household's address or
        the worker's code. The rest (the job, the money, the dates) stays."""
        if not hire.terms:
            return
        gone = (
            ("household_name", "household_phone", "address")
            if side == "household"
            else ("worker_name", "worker_phone", "worker_code")
        )
        hire.terms = {k: ("" if k in gone else v) for k, v in hire.terms.items()}
        await self.session.flush()

    async def close_for_erasure(self, hire: Hire, now: dt.datetime | None = None) -> Hire:
        """One side erases her data: a trial ends (`ended`, reason `erased`), a hire is
        over (`finished`, marked as asked for reviews: there is no one to review). A
        placement stays counted. Returns the hire as it is now."""
        now = now or utcnow()
        try:
            if hire.status == "trial":
                return await self._set_hire(
                    hire, "trial", now, status="ended", end_reason="erased", ended_at=now
                )
            if hire.status == "hired":
                return await self._set_hire(
                    hire, "hired", now, status="finished", ended_at=now, review_asked_at=now
                )
        except Moved as moved:
            return moved.current if isinstance(moved.current, Hire) else hire
        return hire

    async def finish_due(self, today: dt.date, limit: int = 200) -> list[Hire]:
        """Hires whose end date has passed, now `finished` and marked as asked for
        reviews (each once: `review_asked_at`). Returns those finished here."""
        now = utcnow()
        due = await self.session.scalars(
            select(Hire)
            .where(Hire.status == "hired", Hire.ends_on.is_not(None), Hire.ends_on < today)
            .order_by(Hire.ends_on)
            .limit(limit)
        )
        done = []
        for hire in list(due):
            try:
                done.append(
                    await self._set_hire(
                        hire, "hired", now, status="finished", ended_at=now, review_asked_at=now
                    )
                )
            except Moved:
                continue
        return done


def _int(value: int | str | None) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
