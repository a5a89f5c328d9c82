"""Chores done by the clock, not by anyone's message (issue 11): one pass at a time,
every `bot.dispatcher.CHORES_EVERY` seconds, in the caller's transaction.

    interviews unanswered past `expires_at` ─▶ expired; both sides told   (`_expire`)
    hires past their end date ──────────────▶ finished, the address deleted; both
                                               asked for a review (`_finish`)
    open requests, not offered anyone today ─▶ newly verified helpers who fit, offered
                                               in one message, at most one a day (`_offer`)

**Two instances at once.** Every change is one conditional UPDATE on what it expects
(the interview's status, the hire's, the request's `offered_on`), and a notice is
written only by the pass whose UPDATE changed the row, in the same transaction: of two
passes, or of a pass and the worker accepting on another instance, the first wins,
the second changes nothing and tells no one. Nothing is told twice, and nothing is
lost: a notice is committed with the change it tells of, or neither is.

**Bounded work.** A pass holds the database's write lock (SQLite) while it runs, so it
is kept short: it expires and finishes at most `BATCH` of each, and looks at most at
`OFFER_REQUESTS` open requests, scoring at most `OFFER_SCORED` of them, in an order
that turns from pass to pass (the rest wait for the next one). The newly verified workers
are read once per pass (`RequestRepo.new_workers`) and filed by what they offer
(`NewWorkers`); a request is scored against them (`storage.matching.rank`, one query)
only when one of them offers its kind of work, place and mode.
"""

from __future__ import annotations

import datetime as dt

from handlers.context import Ctx, Options, outside
from handlers.hire_view import job_over
from handlers.hires import jobs_notice
from handlers.household_request import reason_text
from handlers.interviews import when_words
from handlers.replies import Reply
from handlers.request_form import title
from handlers.worker_card import kinds_line, load_card, status_line
from storage.matching import Match, MatchQuery, rank, record_shown
from storage.models import HelpRequest, Interview, WorkerProfile, utcnow
from storage.repositories import Repos
from storage.requests import NewWorker
from storage.workers import offer_prefix

#: at most this many interviews expired and hires finished per pass
BATCH = 200
#: at most this many open requests looked at per pass
OFFER_REQUESTS = 50
#: at most this many newly verified workers scored for one request per pass
OFFER_CHECKED = 50
#: at most this many requests scored against newly verified workers per pass (a few
#: milliseconds each, an offer included: the rest wait for the next pass)
OFFER_SCORED = 3
#: at most this many helpers in one offer
OFFERED = 3


async def run_chores(
    repos: Repos, options: Options, now: dt.datetime | None = None
) -> dict[str, int]:
    """One pass, in `repos`' transaction: expire overdue interviews, finish hires past
    their end date, offer newly verified helpers to open requests; each person told in
    her language, through the outbox. `now`: naive UTC (default: the clock); the day
    is the programme's local date of it. Returns how many of each were done:
    {"expired": n, "finished": n, "offered": n} (offered: requests sent an offer)."""
    now = now or utcnow()
    today = options.local(now).date()
    return {
        "expired": await _expire(repos, options, now),
        "finished": await _finish(repos, options, today),
        "offered": await _offer(repos, options, now, today),
    }


# --- interviews nobody answered -----------------------------------------------------------
async def _expire(repos: Repos, options: Options, now: dt.datetime) -> int:
    waiting = await repos.requests.interviews_due(now, BATCH)
    if not waiting:
        return 0
    expired = await repos.hiring.expire_due(now, BATCH)
    for interview in expired:
        profile = await repos.workers.get(interview.profile_id)
        moved = waiting.get(interview.id) == "moved"  # the household did not answer
        topic = f"interview:{interview.id}"
        household = await repos.users.by_id(interview.household_id)
        if household is not None:
            ctx = outside(repos, household, options)
            text = _expired_household(ctx, interview, profile, moved)
            ctx.notify(household.key, [jobs_notice(ctx, text)], topic=topic)
        worker = await repos.users.by_id(interview.worker_id)
        if worker is not None:
            ctx = outside(repos, worker, options)
            text = _expired_worker(ctx, interview, moved)
            ctx.notify(worker.key, [jobs_notice(ctx, text)], topic=topic)
    return len(expired)


def _expired_household(
    ctx: Ctx, interview: Interview, profile: WorkerProfile | None, moved: bool
) -> str:
    _ = ctx._
    name = helper_name(ctx, profile)
    when = when_words(ctx, interview.at)
    if moved:
        return "⌛ " + _(
            "You did not answer the time {name} proposed ({when}) within 24 hours, so "
            "the interview request has expired. Find other helpers from your request: "
            "{where}.",
            name=name,
            when=when,
            where=find_helpers_path(ctx),
        )
    return "⌛ " + _(
        "Your interview request to {name} for {when} got no answer within 24 hours, so "
        "it has expired. Find other helpers from your request: {where}.",
        name=name,
        when=when,
        where=find_helpers_path(ctx),
    )


def _expired_worker(ctx: Ctx, interview: Interview, moved: bool) -> str:
    _ = ctx._
    when = when_words(ctx, interview.at)
    if moved:
        return "⌛ " + _(
            "The household did not answer the time you proposed ({when}) within 24 hours, "
            "so the interview request has expired.",
            when=when,
        )
    return "⌛ " + _(
        "The interview request for {when} has expired: it was not answered within 24 hours.",
        when=when,
    )


# --- jobs that ended ------------------------------------------------------------------------
async def _finish(repos: Repos, options: Options, today: dt.date) -> int:
    finished = await repos.hiring.finish_due(today, BATCH)
    for hire in finished:
        household = await repos.users.by_id(hire.household_id)
        if household is None:
            continue
        ctx = outside(repos, household, options)
        _ = ctx._
        # as when either side ends it: the address is deleted, she is asked for a review
        await job_over(ctx, hire)
        text = "🏁 " + _(
            "The job with {name} ended on {date}. Please review her work: open the job and "
            "tap {review}.",
            name=helper_name(ctx, await repos.workers.get(hire.profile_id)),
            date=_.date(hire.ends_on or today),
            review=_("⭐ Review"),
        )
        ctx.notify(household.key, [jobs_notice(ctx, text)], topic=f"hire:{hire.id}")
    return len(finished)


# --- newly verified helpers offered to open requests -----------------------------------------
async def _offer(repos: Repos, options: Options, now: dt.datetime, today: dt.date) -> int:
    turn = int(now.timestamp()) // 60  # another order every minute: each request its turn
    requests = await repos.requests.open_for_offers(today, OFFER_REQUESTS, salt=turn)
    if not requests:
        return 0
    since = min(r.created_at for r in requests)
    offering = NewWorkers(await repos.requests.new_workers(since))
    if not offering:
        return 0
    offered = scored = 0
    for request in requests:
        if scored >= OFFER_SCORED:
            break  # the rest at the next pass: people's events wait for this transaction
        fresh = offering.for_request(request)[:OFFER_CHECKED]
        if not fresh:
            continue
        scored += 1
        query = MatchQuery.from_request(request)
        matches = await rank(repos.session, query, today, fresh, limit=OFFERED, record=False)
        # the claim decides, also against another instance's pass: one message a day
        if not matches or not await repos.requests.claim_offer(request, today):
            continue
        ids = [m.profile.id for m in matches]
        await record_shown(repos.session, ids)
        await repos.requests.note_offered(request, ids)
        household = await repos.users.by_id(request.user_id)
        if household is not None:
            ctx = outside(repos, household, options)
            text = await offer_text(ctx, request, matches)
            ctx.notify(household.key, [Reply(text)], topic=f"offer:{request.id}")
        offered += 1
    return offered


class NewWorkers:
    """Newly verified workers (`RequestRepo.new_workers`, the most recently verified
    first) by what they offer: the start of each `o:` tag (`offer_prefix`: kind of
    work, place, mode), so that a request finds its few in a dictionary."""

    def __init__(self, workers: list[NewWorker]) -> None:
        self.by_offer: dict[str, list[tuple[int, NewWorker]]] = {}
        for order, worker in enumerate(workers):
            for tag in worker.offers:
                start = tag[: tag.rfind("/") + 1]
                self.by_offer.setdefault(start, []).append((order, worker))

    def __bool__(self) -> bool:
        return bool(self.by_offer)

    def for_request(self, request: HelpRequest) -> list[int]:
        """The ids of those first verified after the request was made, never shown or
        offered for it nor excluded from it, who offer its kind of work in a place that
        serves it in its mode (`storage.matching.rank` checks the rest), the most
        recently verified first."""
        seen = {*(request.shown or []), *(request.excluded or [])}
        found: dict[int, int] = {}
        for place in MatchQuery.from_request(request).place_tags():
            start = offer_prefix(request.kind, place.removeprefix("place:"), request.mode)
            for order, worker in self.by_offer.get(start, ()):
                if worker.verified_at > request.created_at and worker.profile_id not in seen:
                    found[worker.profile_id] = order
        return sorted(found, key=found.__getitem__)


async def offer_text(ctx: Ctx, request: HelpRequest, matches: list[Match]) -> str:
    """The message offering newly verified helpers: who they are (the credential's
    first lines: name, kinds of work, standing), why they fit, and where to ask one for
    an interview."""
    _ = ctx._
    parts = [
        "🆕 "
        + _.ngettext(
            "A newly verified helper fits your request ({request}):",
            "{n} newly verified helpers fit your request ({request}):",
            len(matches),
            request=title(ctx, request),
        )
    ]
    for match in matches:
        profile = match.profile
        card = await load_card(ctx, profile)
        lines = [
            f"👤 {profile.name or '—'}",
            "🧹 " + kinds_line(ctx, profile),
            status_line(ctx, card),
        ]
        why = [w for r, p in match.reasons if (w := reason_text(ctx, r, p or {}))]
        if why:
            lines.append("💡 " + " · ".join(why))
        parts.append("\n".join(lines))
    parts.append(_("To ask for an interview: {where}.", where=find_helpers_path(ctx)))
    return "\n\n".join(parts)


# --- words ------------------------------------------------------------------------------------
def helper_name(ctx: Ctx, profile: WorkerProfile | None) -> str:
    """How a helper is named in a notice: the name on her credential, or "the helper"."""
    return (profile.name if profile is not None else "") or ctx._("the helper")


def find_helpers_path(ctx: Ctx) -> str:
    """Where a household finds helpers for a request: `📋 My requests → her request →
    🔎 Find helpers`, by the buttons' own labels."""
    _ = ctx._
    return " → ".join([_("📋 My requests"), _("your request"), _("🔎 Find helpers")])
