"""Staff: problem reports and the review queue (issue 11).

    ADMIN_MENU ─"⚠ Reports and ratings"─▶ STAFF_REPORTS:
        open problem reports, the oldest first, each with what it is about and
        [✔ Mark R-… handled] ─▶ handled (the reporter is told), the screen again
        the review queue: workers whose average over their last five reviews is below
        4.0, the longest flagged first, with their last five marks and comments

Staff see what they need to act and no more: who reported (a household or a worker)
and how to call her back (the name and phone she gave), the hire, interview or request
it is about (kind of work, way of working, dates, status, its number), the text; in the
queue the worker's name, credential code and profile number (to look her up in "✅ Vet
workers"), and her last reviews. No addresses. Nothing here hides a worker: staff
decide, in vetting.

Two staff at once: marking a report handled is one conditional UPDATE
(`ReportRepo.handle`); the second is told who came first. The state is declared
`admin` (the core checks it on every event) and every prompt and action asks
`is_staff` (`staff_only`).
"""

from __future__ import annotations

from handlers import typed
from handlers.context import Ctx, outside
from handlers.problems import about_words, side_words, urgent
from handlers.replies import MAX_TEXT, Reply
from handlers.router import Invalid, Replies, Router
from handlers.vetting import staff_only
from locales import Translator
from storage.models import ProblemReport, WorkerProfile
from storage.reviews import FLAG_BELOW, RECENT
from storage.workers import show_code

router = Router(__name__)

STAFF_REPORTS = router.state("STAFF_REPORTS", admin=True)

typed.no_search(STAFF_REPORTS)

#: open reports and flagged workers on one screen
PAGE = 5
#: how much of a report's text the screen quotes
EXCERPT = 600
#: how much of a review's comment the queue quotes
COMMENT_EXCERPT = 120


def reports_label(ctx: Ctx) -> str:
    """The staff menu's entry."""
    return ctx._("⚠ Reports and ratings")


def _cut(text: str, most: int) -> str:
    return text if len(text) <= most else text[:most] + "…"


@router.prompt(STAFF_REPORTS)
@staff_only
async def show_reports(ctx: Ctx) -> Replies:
    _ = ctx._
    reports = ctx.repos.reports
    waiting = await reports.count_open()
    head = [reports_label(ctx)]
    if waiting:
        head.append(
            _.ngettext(
                "{n} open problem report, the oldest first:",
                "{n} open problem reports, the oldest first:",
                waiting,
            )
        )
    else:
        head.append(_("No open problem reports."))
    replies = [ctx.reply("\n".join(head))]
    for report in await reports.open_reports(PAGE):
        replies.append(await _report(ctx, report))
    replies.append(await _queue(ctx))
    replies[-1].buttons.append([ctx.button(_("🔄 Refresh"), "refresh")])
    replies[-1].buttons.append([ctx.button(_("◀ Main menu"), "home")])
    return replies


async def _report(ctx: Ctx, report: ProblemReport) -> Reply:
    _ = ctx._
    context = await ctx.repos.reports.context(
        report.request_id, report.interview_id, report.hire_id
    )
    lines = ["🚨 " + _("URGENT: it mentions danger or violence.")] if urgent(report.text) else []
    when = ctx.options.local(report.created_at)
    lines += [
        "⚠ "
        + _(
            "{reference} · {when} · from {side}",
            reference=report.reference,
            when=_.datetime(when.replace(tzinfo=None), "short"),
            side=side_words(_, report.side),
        ),
        _("About: {what}", what=about_words(_, context, ctx.options)),
        f"“{_cut(report.text, EXCERPT)}”",
    ]
    reporter = await ctx.repos.users.by_id(report.reporter_id)
    known = await ctx.repos.profiles.of(reporter) if reporter is not None else None
    if known is not None and (known.name or known.phone):  # to call her back
        lines.append(
            "📞 " + _("Call back: {who}", who=" ".join(p for p in (known.name, known.phone) if p))
        )
    label = _("✔ Mark {reference} handled", reference=report.reference)
    return ctx.reply("\n".join(lines), [ctx.button(label, "handled", report.id)])


async def _queue(ctx: Ctx) -> Reply:
    """The review queue: flagged workers, the longest flagged first, and their last
    reviews (marks, date, comment)."""
    _ = ctx._
    reviews = ctx.repos.reviews
    flagged = await reviews.count_flagged()
    floor = f"{FLAG_BELOW:.1f}"
    if not flagged:
        return ctx.reply("⭐ " + _("No worker is in the review queue."))
    lines = [
        "⭐ "
        + _.ngettext(
            "Review queue: {n} worker whose average over her last {recent} reviews is "
            "below {floor}. She is still shown to households: to suspend her, look her up "
            "in “✅ Vet workers”.",
            "Review queue: {n} workers whose average over their last {recent} reviews is "
            "below {floor}. They are still shown to households: to suspend one, look her "
            "up in “✅ Vet workers”.",
            flagged,
            recent=RECENT,
            floor=floor,
        )
    ]
    for profile in await reviews.flagged(PAGE):
        lines += ["", *await _worker(ctx, profile)]
    text = "\n".join(lines)
    if len(text) > MAX_TEXT - 200:
        text = text[: MAX_TEXT - 260].rsplit("\n", 1)[0] + "\n… " + _("(cut short)")
    return ctx.reply(text)


async def _worker(ctx: Ctx, profile: WorkerProfile) -> list[str]:
    _ = ctx._
    flagged = profile.review_flagged_at
    average = f"{profile.reviews_average or 0:.1f}"
    since = ctx.options.local(flagged).date() if flagged else None
    lines = [
        "👤 "
        + _(
            "{name} · credential {code} · profile #{id} · in the queue since {date}",
            name=profile.name or "—",
            code=show_code(profile.code) if profile.code else "—",
            id=profile.id,
            date=_.date(since) if since else "—",
        ),
        _.ngettext(
            "{average} on average from {n} review",
            "{average} on average from {n} reviews",
            profile.reviews_count,
            average=average,
        ),
    ]
    for review in await ctx.repos.reviews.recent(profile.id, RECENT):
        marks = _(
            "quality {quality}, communication {communication}, reliability {reliability}",
            quality=review.quality,
            communication=review.communication,
            reliability=review.reliability,
        )
        day = _.date(ctx.options.local(review.created_at).date())
        line = f"· {day}: {marks}"
        if review.comment:
            line += f" “{_cut(review.comment, COMMENT_EXCERPT)}”"
        lines.append(line)
    return lines


@router.button(STAFF_REPORTS, "handled")
@staff_only
async def mark_handled(ctx: Ctx, arg: str) -> Replies:
    _ = ctx._
    report = await ctx.repos.reports.get(arg)
    if report is None:
        raise Invalid(_("That report is no longer there: the person may have deleted her data."))
    if not await ctx.repos.reports.handle(report, ctx.user.key):
        when = ctx.options.local(report.handled_at) if report.handled_at else None
        text = _(
            "{reference} was already marked handled by {who} at {time}.",
            reference=report.reference,
            who=report.handled_by or "—",
            time=_.time(when) if when else "—",
        )
        return [ctx.reply(text), *await ctx.ask()]
    reporter = await ctx.repos.users.by_id(report.reporter_id)
    if reporter is not None:
        told = _handled_notice(outside(ctx.repos, reporter, ctx.options)._, report.reference)
        ctx.notify(reporter.key, [Reply(told)], topic=f"report:{report.id}")
    done = _("✔ {reference} is marked handled.", reference=report.reference)
    return [ctx.reply(done), *await ctx.ask()]


def _handled_notice(_: Translator, reference: str) -> str:
    """The reporter's notice, in her language: staff dealt with her report."""
    return _(
        "Programme staff have dealt with your problem report {reference}. If something is "
        "still wrong, report it again.",
        reference=reference,
    )


@router.button(STAFF_REPORTS, "refresh")
@staff_only
async def refresh(ctx: Ctx, _arg: str) -> Replies:
    return await ctx.ask()
