"""A household's requests for help (`HelpRequest`): started as a draft, answered part by
part, saved (open), paused, resumed and closed.

Every method works on one person's own requests: `get` and `mine` take her `User`, so
no id from a button can reach someone else's request.

Privacy (PIPL art. 28-29, 47): a child's or a patient's details (the baby's due date,
twins, a premature baby, dementia, a bedridden patient: `SENSITIVE_NEEDS`) are kept only
while `sensitive_consent_at` is set. Withdrawing the consent, or closing the request
(its purpose is done), deletes them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import HelpRequest, Interview, User, WorkerProfile, WorkerTag, utcnow
from storage.vocab import CITIES, COUNTIES, Term

#: special needs a household may tick, in the order shown
NEEDS = ("twins", "premature", "dementia", "bedridden", "pets", "cooking")
#: the ones about a child or a patient: asked only after their own consent
SENSITIVE_NEEDS = ("twins", "premature", "dementia", "bedridden")
#: which kinds of help each need belongs to (kept to what the job needs)
NEEDS_FOR_KIND = {
    "maternity": ("twins", "premature", "pets", "cooking"),
    "infant": ("twins", "premature", "pets", "cooking"),
    "elder": ("dementia", "bedridden", "pets", "cooking"),
    "patient": ("dementia", "bedridden", "pets", "cooking"),
}
OTHER_NEEDS = ("pets", "cooking")

STATUSES = ("draft", "open", "paused", "closed")

#: what a request's parts may set (`RequestRepo.edit`)
FIELDS = frozenset(
    {
        "kind",
        "mode",
        "place",
        "latitude",
        "longitude",
        "starts_on",
        "due_on",
        "days",
        "budget_min",
        "budget_max",
        "budget_unit",
        "languages",
        "age_min",
        "age_max",
        "min_years",
        "needs",
        "note",
    }
)

#: the middle of each county and city of the service area (latitude, longitude)
PLACE_CENTRES: dict[str, tuple[float, float]] = {
    "maonan": (21.64, 110.92),
    "dianbai": (21.51, 111.01),
    "gaozhou": (21.92, 110.85),
    "huazhou": (21.66, 110.63),
    "xinyi": (22.35, 110.95),
    "maoming": (21.66, 110.92),
    "guangzhou": (23.13, 113.26),
    "shenzhen": (22.54, 114.06),
    "dongguan": (23.02, 113.75),
    "foshan": (23.02, 113.12),
    "zhuhai": (22.27, 113.58),
    "zhongshan": (22.52, 113.39),
    "jiangmen": (22.58, 113.08),
    "huizhou": (23.11, 114.42),
    "zhaoqing": (23.05, 112.47),
    "hong_kong": (22.32, 114.17),
    "macau": (22.20, 113.55),
    "nanning": (22.82, 108.37),
    "laibin": (23.75, 109.22),
}
#: farther than this from every centre is outside the service area, km
SERVICE_RADIUS_KM = 80.0


def km_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


def nearest_place(latitude: float, longitude: float) -> Term | None:
    """The county or city of the service area nearest a shared location (a county before
    the city around it, at equal distance), or None when it is outside the area."""
    best: tuple[float, Term] | None = None
    for vocabulary in (COUNTIES, CITIES):
        for term in vocabulary:
            lat, lon = PLACE_CENTRES[term.id]
            km = km_between(latitude, longitude, lat, lon)
            if best is None or km < best[0] - 0.5:
                best = (km, term)
    if best is None or best[0] > SERVICE_RADIUS_KM:
        return None
    return best[1]


def needs_for(kind: str) -> tuple[str, ...]:
    """The special needs that fit this kind of help."""
    return NEEDS_FOR_KIND.get(kind, OTHER_NEEDS)


def asks_sensitive(kind: str) -> bool:
    """Whether a request for this kind of help may hold a child's or patient's details."""
    return kind == "maternity" or any(n in SENSITIVE_NEEDS for n in needs_for(kind))


#: at most this many newly verified workers are read per pass (`RequestRepo.new_workers`)
NEW_WORKERS = 500


@dataclass(frozen=True)
class NewWorker:
    """A worker first verified at `verified_at` (naive UTC), with her `o:` tags (what
    she offers: kind of work, place, mode)."""

    profile_id: int
    verified_at: dt.datetime
    offers: tuple[str, ...]


class RequestRepo:
    """Her requests for help. Every change is flushed with the event's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def draft(self, user: User) -> HelpRequest | None:
        """Her unsaved request, if she has one."""
        if user.id is None:
            return None
        return await self.session.scalar(
            select(HelpRequest)
            .where(HelpRequest.user_id == user.id, HelpRequest.status == "draft")
            .order_by(HelpRequest.id.desc())
            .limit(1)
        )

    async def start(self, user: User) -> HelpRequest:
        """Her unsaved request (nothing she answered is lost), or a new draft."""
        found = await self.draft(user)
        if found is not None:
            return found
        await self.session.flush()  # her row, if new
        request = HelpRequest(user_id=user.id, status="draft", languages=[], needs=[], note="")
        self.session.add(request)
        await self.session.flush()
        return request

    async def get(self, user: User, request_id: int | str | None) -> HelpRequest | None:
        """One of her own requests by id; None for anyone else's, or no such request."""
        if user.id is None or request_id is None:
            return None
        try:
            wanted = int(request_id)
        except (TypeError, ValueError):
            return None
        return await self.session.scalar(
            select(HelpRequest).where(HelpRequest.id == wanted, HelpRequest.user_id == user.id)
        )

    async def mine(self, user: User) -> list[HelpRequest]:
        """Her requests: open, paused and unsaved ones first, then closed; newest first."""
        if user.id is None:
            return []
        closed_last = case((HelpRequest.status == "closed", 1), else_=0)
        found = await self.session.scalars(
            select(HelpRequest)
            .where(HelpRequest.user_id == user.id)
            .order_by(closed_last, HelpRequest.id.desc())
        )
        return list(found)

    async def edit(self, request: HelpRequest, **values: Any) -> None:
        """Set fields of her request (`FIELDS`). A sensitive detail is kept only with her
        consent: without it the due date and a child's or patient's needs are dropped."""
        for name, value in values.items():
            if name not in FIELDS:
                raise KeyError(name)
            if request.sensitive_consent_at is None:
                if name == "due_on":
                    value = None
                elif name == "needs":
                    value = [n for n in value if n not in SENSITIVE_NEEDS]
            setattr(request, name, value)
        request.updated_at = utcnow()
        await self.session.flush()

    async def sensitive_consent(self, request: HelpRequest, agreed: bool) -> None:
        """Her separate consent to a child's or patient's details, given or refused
        (withdrawn: the due date and those needs are deleted at once)."""
        if agreed:
            request.sensitive_consent_at = request.sensitive_consent_at or utcnow()
        else:
            _forget_sensitive(request)
        request.updated_at = utcnow()
        await self.session.flush()

    async def set_status(
        self, request: HelpRequest, status: str, *, keep_address: bool = False
    ) -> None:
        """Save (open), pause, resume (open) or close it. Closed, its purpose is done:
        the child's or patient's details are deleted (PIPL art. 47), and the address
        too unless a hire still needs it (`keep_address`: deleted when the job is over,
        `handlers.hire_view.job_over`)."""
        if status not in STATUSES:
            raise ValueError(status)
        request.status = status
        if status == "closed":
            _forget_sensitive(request)
            if not keep_address:
                request.address = ""
        request.updated_at = utcnow()
        await self.session.flush()

    async def by_id(self, request_id: int) -> HelpRequest | None:
        """A request by id, whoever's: only for a caller that checked she is a party
        to it (an interview's worker, `HiringRepo.interview`)."""
        return await self.session.get(HelpRequest, request_id)

    async def set_address(self, request: HelpRequest, address: str) -> None:
        """Where the help is needed (private: `HelpRequest.address`)."""
        request.address = address
        request.updated_at = utcnow()
        await self.session.flush()

    # --- what she was shown, and newly verified workers offered to her (issue 11) ---
    async def note_offered(self, request: HelpRequest, profile_ids: Iterable[int]) -> None:
        """The workers just offered to it: shown, and first on her next shortlist."""
        ids = list(dict.fromkeys(profile_ids))
        await self.note_shown(request, ids)
        request.offered = ids
        await self.session.flush()

    async def note_shown(self, request: HelpRequest, profile_ids: Iterable[int]) -> None:
        """Add workers she was shown or offered for this request to its `shown` list
        (each once, in the order first shown): a newly verified worker in it is not
        offered to her again. Those offered and now seen leave `offered`."""
        ids = list(dict.fromkeys(profile_ids))
        known = list(request.shown or [])
        new = [pid for pid in ids if pid not in known]
        if new:
            request.shown = [*known, *new]
        if request.offered and set(ids) & set(request.offered):  # offered, now seen
            request.offered = [pid for pid in request.offered if pid not in ids]
        await self.session.flush()

    async def open_for_offers(
        self, today: dt.date, limit: int = 200, salt: int = 0
    ) -> list[HelpRequest]:
        """Open requests that were not offered a newly verified worker on `today` (the
        programme's local date), at most `limit`, in an order that `salt` rotates (one
        pass after another each gets its turn, however many there are)."""
        turn = ((HelpRequest.id % 1000003) * 1009 + salt % 1000003) % 1000003
        found = await self.session.scalars(
            select(HelpRequest)
            .where(
                HelpRequest.status == "open",
                or_(HelpRequest.offered_on.is_(None), HelpRequest.offered_on < today),
            )
            .order_by(turn, HelpRequest.id)
            .limit(limit)
        )
        return list(found)

    async def new_workers(self, since: dt.datetime, limit: int = NEW_WORKERS) -> list[NewWorker]:
        """Workers first verified after `since` (naive UTC), the most recently verified
        first, at most `limit`, with what they offer (their `o:` tags:
        `storage.workers.tags_of`). Whether a household may see one today is left to
        matching (`storage.matching.rank`), so that this reads `verified_at` alone."""
        rows = (
            await self.session.execute(
                select(WorkerProfile.id, WorkerProfile.verified_at)
                .where(WorkerProfile.verified_at > since)
                .order_by(WorkerProfile.verified_at.desc())
                .limit(limit)
            )
        ).all()
        if not rows:
            return []
        offers: dict[int, list[str]] = {pid: [] for pid, _at in rows}
        tags = await self.session.execute(
            select(WorkerTag.profile_id, WorkerTag.tag).where(
                WorkerTag.profile_id.in_(list(offers)),
                WorkerTag.tag >= "o:",
                WorkerTag.tag < "o;",
            )
        )
        for pid, tag in tags:
            offers[pid].append(tag)
        return [NewWorker(pid, at, tuple(offers[pid])) for pid, at in rows]

    async def claim_offer(self, request: HelpRequest, today: dt.date) -> bool:
        """Mark the request as offered a new worker on `today`, if it is still open and
        was not offered one that day: one conditional UPDATE, so of two instances at
        once only one offers (at most one such message a day). Returns whether it was
        this call; then `request` is read again."""
        result = await self.session.execute(
            update(HelpRequest)
            .where(
                HelpRequest.id == request.id,
                HelpRequest.status == "open",
                or_(HelpRequest.offered_on.is_(None), HelpRequest.offered_on < today),
            )
            .values(offered_on=today, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        claimed = result.rowcount == 1  # type: ignore[attr-defined]
        if claimed:
            await self.session.refresh(request)
        return claimed

    async def interviews_due(self, now: dt.datetime, limit: int = 200) -> dict[int, str]:
        """The interviews waiting for an answer past `expires_at` (naive UTC), by id,
        with whose answer they wait for: `asked` (the worker's) or `moved` (the
        household's, on the time she proposed). Read before `HiringRepo.expire_due`
        expires them, to tell each side the right thing."""
        rows = await self.session.execute(
            select(Interview.id, Interview.status)
            .where(Interview.status.in_(("asked", "moved")), Interview.expires_at <= now)
            .order_by(Interview.expires_at)
            .limit(limit)
        )
        return {interview_id: status for interview_id, status in rows}


def _forget_sensitive(request: HelpRequest) -> None:
    request.sensitive_consent_at = None
    request.due_on = None
    request.needs = [n for n in request.needs or [] if n not in SENSITIVE_NEEDS]


def job_end(request: HelpRequest) -> dt.date | None:
    """The last day of the job, when it has a length."""
    if request.starts_on is None or not request.days:
        return None
    return request.starts_on + dt.timedelta(days=request.days - 1)
