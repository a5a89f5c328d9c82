"""How a worker is shown: her credential (what the programme verified, and when) and
her profile as a household sees it (the credential, then what she says of herself).

Every line says whose word it is: ✅ verified by the programme (with the date), ⏳
being checked, ❌ failed, ▫ not checked; her own words are under "In her own words"
(self-reported, ../shared/domain.md: trusted systems mark self-reported data as such).
Nothing private is ever on these cards: no phone, no ID digits, no address, no
certificate numbers or photos (`staff_lines` adds those for staff only).

Shapes: `Card` bundles what a card needs, loaded once (`load_card`); the functions
return lines of text in the reader's language.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from handlers.context import Ctx
from storage.models import Course, Training, WorkerProfile
from storage.vocab import CERTIFICATES, CHECKS, CITIES, COUNTIES, KINDS_OF_WORK, LANGUAGES, MODES
from storage.workers import REQUIRED_CHECKS, CheckState, health_valid, show_code

#: how each check result is marked
MARKS = {"passed": "✅", "failed": "❌", "recheck": "⏳", "missing": "▫"}


@dataclass
class Card:
    """A profile with its checks (`WorkerRepo.checks`) and the courses she completed
    (`WorkerRepo.trainings`), as of `today` (local date)."""

    profile: WorkerProfile
    checks: dict[tuple[str, str], CheckState]
    trainings: list[tuple[Training, Course]] = field(default_factory=list)
    today: dt.date = field(default_factory=dt.date.today)
    #: (average, count) of her reviews once there are any (issue 11)
    rating: tuple[float, int] | None = None


async def load_card(ctx: Ctx, profile: WorkerProfile) -> Card:
    repos = ctx.repos.workers
    return Card(
        profile,
        await repos.checks(profile),
        await repos.trainings(profile.user_id),
        ctx.today(),
        (profile.reviews_average, profile.reviews_count) if profile.reviews_average else None,
    )


def status_line(ctx: Ctx, card: Card) -> str:
    """The credential's standing in one line: valid, being checked again (she changed a
    checked part since), suspended, health check expired, or not verified (yet)."""
    _ = ctx._
    p = card.profile
    if p.status == "suspended":
        return "⛔ " + _("Suspended by the programme: not valid now.")
    if p.status != "verified" and p.verified_at is None:
        return "▫ " + _("Not verified by the programme yet.")
    if p.status != "verified":
        return "⛔ " + _("Not valid now.")
    if not health_valid(p, card.today):
        return "⚠ " + _("Health check expired: not valid until a new check is recorded.")
    again = [
        kind
        for kind in REQUIRED_CHECKS
        if (check := card.checks.get((kind, ""))) is not None and check.result == "recheck"
    ]
    if again:
        names = _.join(_(term.label) for kind in again if (term := CHECKS.get(kind)))
        return "⏳ " + _(
            "Changed since it was verified: {checks} being checked again.", checks=names
        )
    return "✅ " + _("Valid: verified by the programme.")


def place_names(ctx: Ctx, ids: list[str]) -> str:
    """Counties and cities by their labels, counties first in their own order."""
    _ = ctx._
    names = [_(t.label) for t in COUNTIES if t.id in ids]
    names += [_(t.label) for t in CITIES if t.id in ids]
    return _.join(names)


def kinds_line(ctx: Ctx, profile: WorkerProfile) -> str:
    _ = ctx._
    kinds = [_(t.label) for t in KINDS_OF_WORK if t.id in (profile.kinds or [])]
    skills = [_(t.label) for t in KINDS_OF_WORK if t.id in (profile.skills or [])]
    line = _.join(kinds) or "—"
    if skills:
        line += " · " + _("also: {skills}", skills=_.join(skills))
    return line


def check_line(ctx: Ctx, label: str, check: CheckState | None, today: dt.date | None = None) -> str:
    """`✅ Identity: verified 2026-10-02` and the like; a check with a validity (the
    health examination) says when it was passed and until when, or that it ran out."""
    _ = ctx._
    if check is None:
        return f"{MARKS['missing']} " + _("{check}: not checked", check=label)
    mark = MARKS.get(check.result, "▫")
    if check.result == "passed" and check.valid_until:
        if today is not None and check.valid_until < today:
            return "⚠ " + _(
                "{check}: passed on {date}, ran out on {until}",
                check=label,
                date=_.date(check.checked_on),
                until=_.date(check.valid_until),
            )
        return f"{mark} " + _(
            "{check}: passed on {date}, valid until {until}",
            check=label,
            date=_.date(check.checked_on),
            until=_.date(check.valid_until),
        )
    if check.result == "passed":
        return f"{mark} " + _(
            "{check}: verified {date}", check=label, date=_.date(check.checked_on)
        )
    if check.result == "failed":
        return f"{mark} " + _("{check}: not passed", check=label)
    return f"{mark} " + _("{check}: changed, being checked again", check=label)


def credential_lines(ctx: Ctx, card: Card, *, code: bool = True) -> list[str]:
    """The credential (居家上门服务证-like): name, kinds of work, each check with its
    date and status, training through Haoxin and certificates, rating once she has
    three reviews, and the verification code. Nothing private."""
    _ = ctx._
    p = card.profile
    lines = [
        "🪪 " + _("Haoxin home-services credential"),
        f"👤 {p.name or '—'}",
        "🧹 " + kinds_line(ctx, p),
        status_line(ctx, card),
        "",
        _("Checked by the programme:"),
    ]
    for kind in REQUIRED_CHECKS:
        term = CHECKS.get(kind)
        assert term is not None
        lines.append(check_line(ctx, _(term.label), card.checks.get((kind, "")), card.today))
    for training, course in card.trainings:
        title = _.text(course.title, course.title_en)
        if training.completed_on:
            lines.append(
                "✅ "
                + _(
                    "Training: {course}, completed {date}",
                    course=title,
                    date=_.date(training.completed_on),
                )
            )
        elif training.attended:
            lines.append("✅ " + _("Training: {course}, attended", course=title))
    for cert in p.certificates:
        term = CERTIFICATES.get(cert.kind)
        label = _(term.label) if term else cert.kind
        lines.append(check_line(ctx, label, card.checks.get(("certificate", str(cert.id)))))
    if card.rating and card.rating[1] >= 3:
        average, count = card.rating
        lines.append(
            "⭐ "
            + _.ngettext(
                "{average} from {n} review",
                "{average} from {n} reviews",
                count,
                average=f"{average:.1f}",
            )
        )
    if code and p.code:
        lines += ["", _("Verification code: {code}", code=show_code(p.code))]
    return lines


def profile_lines(ctx: Ctx, card: Card) -> list[str]:
    """Her profile as a household sees it: the credential, then in her own words her
    experience, past jobs, where she works, modes and pay, languages, dates and
    introduction."""
    _ = ctx._
    p = card.profile
    lines = credential_lines(ctx, card)
    lines += ["", "💬 " + _("In her own words (not checked by the programme):")]
    if p.years is not None:
        lines.append(_.ngettext("{n} year of experience", "{n} years of experience", p.years))
    for job in p.jobs or []:
        what = _.term(KINDS_OF_WORK, job.get("what")) or job.get("what", "")
        where = _.term(CITIES, job.get("where")) or _.term(COUNTIES, job.get("where"))
        years = int(job.get("years") or 0)
        lines.append(
            "· "
            + _.ngettext(
                "{what} in {where}, {n} year",
                "{what} in {where}, {n} years",
                years,
                what=what,
                where=where or _.text(job.get("where", "")),
            )
        )
    if p.places:
        lines.append("📍 " + _("Works in: {places}", places=place_names(ctx, p.places)))
    for mode in MODES:
        pay = (p.pay or {}).get(mode.id)
        if pay is None:
            continue
        low, high = int(pay[0]), int(pay[1])
        money = _.money_range(low * 100, high * 100)
        per = (
            _("{money} an hour", money=money)
            if mode.id == "hourly"
            else _("{money} a month", money=money)
        )
        label = _(mode.label)
        lines.append(f"🕘 {label}: {per}")
    if p.languages:
        lines.append("🗣 " + _.join(_(t.label) for t in LANGUAGES if t.id in p.languages))
    if p.available_from or p.available_until:
        start = _.date(p.available_from) if p.available_from else _("now")
        end = _.date(p.available_until) if p.available_until else _("no end date")
        lines.append("📅 " + _("Available from {start} to {end}", start=start, end=end))
    if p.intro:
        lines.append(f"“{p.intro}”")
    if p.paused:
        lines += ["", "⏸ " + _("Paused: not available for now.")]
    return lines


def staff_lines(ctx: Ctx, card: Card) -> list[str]:
    """What staff see besides the household's view: the last four characters of the
    ID, the health date she gave, each certificate's number, issuer and date."""
    _ = ctx._
    p = card.profile
    lines = [
        _("ID number ends in: {last4}", last4=p.id_last4 or "—"),
    ]
    if p.health_passed_on:
        lines.append(_("Health examination passed on {date}", date=_.date(p.health_passed_on)))
    for cert in p.certificates:
        term = CERTIFICATES.get(cert.kind)
        issued = _.date(cert.issued_on) if cert.issued_on else "—"
        lines.append(
            "📄 "
            + _(
                "{certificate}: no. {number}, {issuer}, {date}",
                certificate=_(term.label) if term else cert.kind,
                number=cert.number or "—",
                issuer=cert.issuer or "—",
                date=issued,
            )
            + (" 📷" if cert.photo else "")
        )
    return lines
