"""Vetting workers: the staff's queue, one profile per screen, each check recorded on
its own, decisions with their reasons, and the audit log per worker.

    ADMIN_MENU, STAFF_MENU ─"✅ Vet workers"─▶ VETTING: the longest-waiting profile (or
    one looked up)
        ├─ ✅ / ❌ a check ─▶ (health passed: VET_HEALTH_DATE ▶) VET_NOTE ─▶ recorded, VETTING
        ├─ Approve, Reinstate ─────────────────────────────────▶ decided, VETTING (next)
        ├─ Ask for changes, Reject, Suspend ─▶ VET_REASON ─────▶ decided, VETTING (next)
        ├─ 📷 Photo of a certificate (the picture; the screen stays)
        ├─ ⏭ Next profile (skip it)       ├─ 📜 History ─▶ VET_HISTORY (paged)
        └─ 🔎 Look up a worker ─▶ VET_LOOKUP (her credential code or profile number)

This module holds the queue, the profile screen, checks and decisions; the history is
`handlers.vetting_history`, the look-up `handlers.vetting_lookup` (both on this router).

Two staff at once: the screen remembers the profile's `version` it showed (`vet` in the
staff member's form) and every check or decision names it; a profile that moved on
since (another staff member decided, or she edited it) is refused by the repository
(`storage.workers.Stale`), and the staff member is told what happened and shown the
profile as it is now: never two decisions.

Who: programme admins vet everyone; a training base's staff vet the women of her base
(`may_vet`: signed up for or trained on one of its courses): her queue, her look-ups
and every check and decision are of those only. Every prompt and action asks
`is_staff` (the state is also declared `staff`, which the core checks on every event):
a refusal says so, is logged without personal data and changes nothing. After each
decision she is told in her own language (the outbox).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from handlers import typed
from handlers.context import Ctx, outside
from handlers.health import plan_health_reminders
from handlers.replies import MAX_TEXT, Button
from handlers.router import Invalid, Replies, Router
from handlers.staff import is_staff, staff_base
from handlers.worker_card import load_card, profile_lines, staff_lines
from storage.models import Certificate, WorkerProfile
from storage.vocab import CERTIFICATES, CHECKS
from storage.workers import (
    DECISIONS,
    HEALTH_VALID_DAYS,
    REQUIRED_CHECKS,
    NotAllowed,
    Stale,
    changed_since,
    holds_id_number,
    show_code,
)

log = logging.getLogger(__name__)

router = Router(__name__)

VETTING = router.state("VETTING", staff=True)
VET_HEALTH_DATE = router.state("VET_HEALTH_DATE", staff=True)
VET_NOTE = router.state("VET_NOTE", staff=True)
VET_REASON = router.state("VET_REASON", staff=True)
VET_HISTORY = router.state("VET_HISTORY", staff=True)
VET_LOOKUP = router.state("VET_LOOKUP", staff=True, numeric=True)

typed.no_search(VETTING, VET_HISTORY)

MAX_NOTE = 200
MAX_REASON = 300
#: decisions that need a reason she will read
WITH_REASON = ("changes", "reject", "suspend")
RESULTS = {"p": "passed", "f": "failed"}
#: room left on a screen for the text (buttons and a line of news go with it)
TEXT_ROOM = MAX_TEXT - 300

H = TypeVar("H", bound=Callable[..., Awaitable[Replies]])
#: what staff screens keep in a form (vetting, attendance, the course editor, notices,
#: imports and exports): dropped when someone is refused a staff screen
STAFF_FORM_KEYS = ("vet", "att_", "cat_", "bc", "fx_", "ex_", "desk_")


# --- who may vet ----------------------------------------------------------------------
def allowed(ctx: Ctx) -> bool:
    """Whether she may act on the screen she is on: an admin-only screen (reports,
    roles) for an admin; a staff screen (vetting, attendance, numbers) for an admin or
    a base's staff (`handlers.staff.is_staff`; which profiles and courses are hers is
    asked by each screen: `may_vet`)."""
    spec = ctx.flows.states.get(ctx.user.state)
    if spec is not None and spec.staff and not spec.admin:
        return is_staff(ctx)
    return ctx.is_admin


async def refuse(ctx: Ctx) -> Replies:
    """A staff screen or action asked for by someone who is not staff: say so, keep
    nothing of ours in her form, take her home. Logged by ids only."""
    from handlers.menus import home_state

    log.warning("refused a staff action: user %s in state %s", ctx.user.id, ctx.user.state)
    ctx.user.form = {k: v for k, v in ctx.form.items() if not k.startswith(STAFF_FORM_KEYS)}
    text = ctx._("That part is for programme staff only.")
    return [ctx.reply(text), *await ctx.goto(home_state(ctx))]


def staff_only(fn: H) -> H:
    """Wrap a prompt or handler of a staff screen: asked first, on every call, whether
    this person may be there (`allowed`), else `refuse`."""

    @functools.wraps(fn)
    async def checked(ctx: Ctx, *args: Any, **kwargs: Any) -> Replies:
        if not allowed(ctx):
            return await refuse(ctx)
        return await fn(ctx, *args, **kwargs)

    return checked  # type: ignore[return-value]


# --- dates as staff type them ----------------------------------------------------------
_DATE = re.compile(r"(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号號]?")
_TODAY = {"today", "今天", "今日"}
_YESTERDAY = {"yesterday", "昨天", "昨日", "琴日"}


def typed_date(text: str, today: dt.date) -> dt.date | None:
    """A date as typed: `2025-03-14`, `2025/3/14`, `2025年3月14日`, `20250314`, `3月14日`
    or `3-14` (the last such day up to today), `today`/`今天`, `yesterday`/`昨天`; None
    when it is no date."""
    t = unicodedata.normalize("NFKC", text).strip().casefold()
    if t in _TODAY:
        return today
    if t in _YESTERDAY:
        return today - dt.timedelta(days=1)
    if re.fullmatch(r"\d{8}", t):
        t = f"{t[:4]}-{t[4:6]}-{t[6:]}"
    m = _DATE.fullmatch(t)
    if m is None:
        return None
    year, month, day = (int(g) if g else None for g in m.groups())
    try:
        if year is not None:
            return dt.date(year, month or 0, day or 0)
        found = dt.date(today.year, month or 0, day or 0)
        return found if found <= today else found.replace(year=today.year - 1)
    except ValueError:
        return None


# --- words ---------------------------------------------------------------------------
def status_name(ctx: Ctx, status: str) -> str:
    """A profile's vetting state in words."""
    _ = ctx._
    names = {
        "draft": _("Draft, not sent yet"),
        "submitted": _("Waiting for vetting"),
        "verified": _("Verified"),
        "changes": _("Changes asked"),
        "rejected": _("Rejected"),
        "suspended": _("Suspended"),
    }
    return names.get(status, status)


def result_name(ctx: Ctx, result: str) -> str:
    """A check's result in words."""
    _ = ctx._
    names = {
        "passed": _("passed"),
        "failed": _("not passed"),
        "recheck": _("to be checked again"),
        "missing": _("not checked"),
    }
    return names.get(result, result)


def _field_names(ctx: Ctx) -> dict[str, str]:
    """Her profile's parts (`storage.workers.snapshot`'s keys) in words."""
    _ = ctx._
    return {
        "name": _("name"),
        "kinds": _("kinds of work"),
        "skills": _("add-on skills"),
        "years": _("years of experience"),
        "jobs": _("past jobs"),
        "places": _("where she works"),
        "pay": _("service modes and pay"),
        "languages": _("languages"),
        "available_from": _("dates available"),
        "available_until": _("dates available"),
        "intro": _("introduction"),
        "id_last4": _("ID number"),
        "health_passed_on": _("health examination date"),
        "certificates": _("certificates"),
    }


def cert_label(ctx: Ctx, profile: WorkerProfile, cert: Certificate) -> str:
    """A certificate by its kind's label, numbered when she has two of a kind."""
    term = CERTIFICATES.get(cert.kind)
    label = ctx._(term.label) if term else cert.kind
    same = [c.id for c in profile.certificates if c.kind == cert.kind]
    return f"{label} {same.index(cert.id) + 1}" if len(same) > 1 else label


def check_name(ctx: Ctx, profile: WorkerProfile | None, kind: str, subject: str) -> str:
    """A check in words: `Identity`, a certificate by its label."""
    _ = ctx._
    if kind == "certificate" and profile is not None:
        cert = next((c for c in profile.certificates if str(c.id) == subject), None)
        if cert is not None:
            return cert_label(ctx, profile, cert)
    term = CHECKS.get(kind)
    label = _(term.label) if term else kind
    return f"{label} #{subject}" if subject else label


def audit_subject(profile_id: int) -> str:
    """A worker's profile as the audit log names it."""
    return f"worker:{profile_id}"


# --- what the screen shows and remembers -------------------------------------------------
def _shown(ctx: Ctx) -> dict[str, Any]:
    """The profile on her screen: `id`, and the `version`, `status` and newest audit
    entry (`audit`) it had when shown."""
    shown = ctx.form.get("vet")
    return dict(shown) if isinstance(shown, dict) else {}


def _drop(ctx: Ctx, *keys: str) -> None:
    ctx.user.form = {k: v for k, v in ctx.form.items() if k not in keys}


def show_next(ctx: Ctx, profile_id: int | None = None) -> None:
    """Show `profile_id` on the next VETTING screen (None: the queue's first)."""
    _drop(ctx, "vet", "vet_check", "vet_decision", "vet_page")
    if profile_id is not None:
        ctx.remember(vet={"id": profile_id})


async def remembered_profile(ctx: Ctx) -> WorkerProfile | None:
    """The profile on her screen, as it is now; None when none is shown or it is gone."""
    ident = _shown(ctx).get("id")
    if not isinstance(ident, int) or not await may_vet(ctx, ident):
        return None
    return await ctx.repos.workers.get(ident)


async def may_vet(ctx: Ctx, profile_id: int) -> bool:
    """Whether she may see and decide this profile: an admin any; a training base's
    staff only her base's (`WorkerRepo.of_base`: signed up for or trained on one of its
    courses), asked again on every screen and action."""
    base = staff_base(ctx)
    return base is None or await ctx.repos.workers.of_base(profile_id, base)


async def current_profile(ctx: Ctx) -> WorkerProfile:
    """The profile on her screen, as it is now; `Invalid` when it is gone."""
    profile = await remembered_profile(ctx)
    if profile is None:
        ident = _shown(ctx).get("id")
        _drop(ctx, "vet")
        if isinstance(ident, int) and not await may_vet(ctx, ident):
            log.warning("refused another base's profile: user %s", ctx.user.id)
            raise Invalid(ctx._("That profile is not one of your training base's."))
        raise Invalid(ctx._("That profile is no longer there: she may have deleted her data."))
    return profile


def capped(ctx: Ctx, lines: list[str]) -> str:
    """Lines joined, cut (with a mark) to fit one message."""
    text = "\n".join(lines)
    if len(text) <= TEXT_ROOM:
        return text
    return text[: TEXT_ROOM - 60].rsplit("\n", 1)[0] + "\n… " + ctx._("(cut short)")


# --- the profile screen ---------------------------------------------------------------
@router.prompt(VETTING)
@staff_only
async def show_profile(ctx: Ctx) -> Replies:
    profile = await remembered_profile(ctx)
    if profile is None:
        queued = await ctx.repos.workers.queue(base_id=staff_base(ctx))
        if not queued:
            return _empty_queue(ctx)
        profile = queued[0]
    return await _draw(ctx, profile)


def _empty_queue(ctx: Ctx) -> Replies:
    _ = ctx._
    _drop(ctx, "vet")
    text = _(
        "No profile waits for vetting. To reach a worker who is not in the queue (to "
        "suspend her, say), look her up by her credential code or profile number."
    )
    return [
        ctx.reply(
            text,
            [ctx.button(_("🔎 Look up a worker"), "lookup")],
            [ctx.button(_("◀ Main menu"), "home")],
        )
    ]


async def _draw(ctx: Ctx, profile: WorkerProfile) -> Replies:
    _ = ctx._
    workers = ctx.repos.workers
    newest = await workers.audit_of(audit_subject(profile.id), limit=1)
    ctx.remember(
        vet={
            "id": profile.id,
            "version": profile.version,
            "status": profile.status,
            "audit": newest[0].id if newest else 0,
        }
    )
    card = await load_card(ctx, profile)
    waiting = await workers.waiting(staff_base(ctx))
    lines = [
        _.ngettext("{n} profile waits for vetting.", "{n} profiles wait for vetting.", waiting)
        if waiting
        else _("No profile waits for vetting.")
    ]
    if profile.queued_at is None:
        lines.append(_("This profile is not waiting in the queue."))
    lines.append(
        "🗂 " + _("Profile #{id}: {status}", id=profile.id, status=status_name(ctx, profile.status))
    )
    lines += _news(ctx, profile)
    for n in await workers.same_id(profile):  # a duplicate: the same person twice?
        lines.append("⚠ " + _("The same ID number is on profile #{n}.", n=n))
    lines += [
        "",
        *profile_lines(ctx, card),
        "",
        "🔒 " + _("For staff only:"),
        *staff_lines(ctx, card),
    ]
    for (kind, subject), check in card.checks.items():
        if check.note:
            lines.append(
                "📝 "
                + _(
                    "{check}: “{note}” ({who}, {date})",
                    check=check_name(ctx, profile, kind, subject),
                    note=check.note,
                    who=check.staff,
                    date=_.date(check.checked_on) if check.checked_on else "—",
                )
            )
    return [ctx.reply(capped(ctx, lines), *_buttons(ctx, profile))]


def _news(ctx: Ctx, profile: WorkerProfile) -> list[str]:
    """What changed since staff last looked, and what was said between her and staff."""
    _ = ctx._
    lines = []
    if not profile.reviewed:
        lines.append("🆕 " + _("New: no staff member has decided on this profile before."))
    else:
        names = _field_names(ctx)
        changed = list(dict.fromkeys(names.get(n, n) for n in changed_since(profile)))
        if changed:
            lines.append("✏ " + _("Changed since the last look: {parts}.", parts=_.join(changed)))
        else:
            lines.append(_("Nothing she wrote changed since the last look."))
    if profile.reason and profile.status in ("changes", "submitted"):
        lines.append("✏ " + _("Staff asked for changes: “{reason}”", reason=profile.reason))
    elif profile.reason and profile.status in ("rejected", "suspended"):
        lines.append(_("Reason given: “{reason}”", reason=profile.reason))
    if profile.answer:
        lines.append("💬 " + _("Her answer: “{answer}”", answer=profile.answer))
    return lines


def _buttons(ctx: Ctx, profile: WorkerProfile) -> list[list[Button]]:
    _ = ctx._
    rows = []
    for kind in REQUIRED_CHECKS:
        term = CHECKS.get(kind)
        label = _(term.label) if term else kind
        rows.append(
            [
                ctx.button(_("✅ {check} passed", check=label), "check", f"{kind}.p"),
                ctx.button(_("❌ {check} failed", check=label), "check", f"{kind}.f"),
            ]
        )
    for cert in profile.certificates:
        label = cert_label(ctx, profile, cert)
        rows.append(
            [
                ctx.button(
                    _("✅ {check} passed", check=label), "check", f"certificate.{cert.id}.p"
                ),
                ctx.button(
                    _("❌ {check} failed", check=label), "check", f"certificate.{cert.id}.f"
                ),
            ]
        )
    photos = [
        ctx.button(
            _("📷 Photo of {certificate}", certificate=cert_label(ctx, profile, c)), "photo", c.id
        )
        for c in profile.certificates
        if c.photo
    ]
    rows += [photos[i : i + 2] for i in range(0, len(photos), 2)]
    labels = {
        "approve": _("✅ Approve"),
        "changes": _("✏ Ask for changes"),
        "reject": _("⛔ Reject"),
        "suspend": _("⏸ Suspend"),
        "reinstate": _("▶ Reinstate"),
    }
    decisions = [
        ctx.button(labels[d], "decide", d)
        for d, (allowed_from, _after) in DECISIONS.items()
        if profile.status in allowed_from
        and not (d == "approve" and profile.status == "verified" and profile.queued_at is None)
    ]
    rows += [decisions[i : i + 3] for i in range(0, len(decisions), 3)]
    rows.append([ctx.button(_("⏭ Next profile"), "next"), ctx.button(_("📜 History"), "history")])
    rows.append(
        [ctx.button(_("🔎 Look up a worker"), "lookup"), ctx.button(_("◀ Main menu"), "home")]
    )
    return rows


@router.button(VETTING, "photo")
@staff_only
async def photo(ctx: Ctx, arg: str) -> Replies:
    """A certificate's photo, for staff: the picture alone (her screen's buttons stay)."""
    profile = await current_profile(ctx)
    cert = next((c for c in profile.certificates if str(c.id) == arg), None)
    if cert is None or not cert.photo:
        raise Invalid(ctx._("That photo is no longer there."))
    log.info("staff %s viewed a certificate photo of profile %s", ctx.user.id, profile.id)
    label = cert_label(ctx, profile, cert)
    return [ctx.reply(ctx._("📷 Photo of {certificate}", certificate=label), photo=cert.photo)]


@router.button(VETTING, "next")
@staff_only
async def next_profile(ctx: Ctx, _arg: str) -> Replies:
    """Skip to the profile queued after this one (after the last: the first again)."""
    workers = ctx.repos.workers
    shown = _shown(ctx).get("id")
    base = staff_base(ctx)
    later = await workers.queue(after=shown, base_id=base) if isinstance(shown, int) else []
    news: Replies = []
    if not later:
        later = await workers.queue(base_id=base)
        if later and later[0].id != shown:
            news = [ctx.reply(ctx._("That was the last profile in the queue. Back to the first:"))]
        elif later:
            news = [ctx.reply(ctx._("This is the only profile in the queue."))]
    show_next(ctx, later[0].id if later else None)
    return [*news, *await ctx.ask()]


# --- recording a check ----------------------------------------------------------------
def _pending_check(ctx: Ctx) -> dict[str, Any]:
    pending = ctx.form.get("vet_check")
    return dict(pending) if isinstance(pending, dict) else {}


@router.button(VETTING, "check")
@staff_only
async def check_chosen(ctx: Ctx, arg: str) -> Replies:
    """✅ / ❌ of a check: a passed health check asks the examination's date, then any
    check asks for a note."""
    profile = await current_profile(ctx)
    if profile.version != _shown(ctx).get("version"):
        return await _stale(ctx, Stale(profile))
    parts = arg.split(".")
    kind, result = parts[0], RESULTS.get(parts[-1])
    if kind == "certificate" and len(parts) == 3:
        subject = parts[1]
        if not any(str(c.id) == subject for c in profile.certificates):
            raise Invalid(ctx._("I don't recognise that button."))
    elif kind in REQUIRED_CHECKS and len(parts) == 2:
        subject = ""
    else:
        result = None
    if result is None:
        raise Invalid(ctx._("I don't recognise that button."))
    ctx.remember(vet_check={"kind": kind, "subject": subject, "result": result})
    if kind == "health" and result == "passed":
        return await ctx.goto(VET_HEALTH_DATE)
    return await ctx.goto(VET_NOTE)


@router.prompt(VET_HEALTH_DATE)
@staff_only
async def ask_health_date(ctx: Ctx) -> Replies:
    _ = ctx._
    profile = await remembered_profile(ctx)
    if profile is None or _pending_check(ctx).get("kind") != "health":
        return await ctx.goto(VETTING)
    text = _(
        "Health examination passed: on what date was the examination? Type it, like "
        "{example}. The check is valid for one year from that date.",
        example=ctx.today().isoformat(),
    )
    rows = []
    given = profile.health_passed_on
    if given is not None and _health_date_problem(ctx, given) is None:
        keep = _("Keep: {date} (the date she gave)", date=_.date(given))
        rows.append([ctx.button(keep, "given", given.isoformat())])
    rows.append([ctx.button(_("◀ Back"), "back_profile")])
    return [ctx.reply(text, *rows)]


def _health_date_problem(ctx: Ctx, day: dt.date) -> str | None:
    """Why an examination date cannot be taken (translated), or None."""
    _ = ctx._
    today = ctx.today()
    if day > today:
        return _("That date is in the future. Please type the date of the examination.")
    if day + dt.timedelta(days=HEALTH_VALID_DAYS) < today:
        return _(
            "An examination on {date} is more than a year old: it is no longer valid. "
            "Ask her for a new one, or type a later date.",
            date=_.date(day),
        )
    return None


async def _health_date(ctx: Ctx, day: dt.date) -> Replies:
    problem = _health_date_problem(ctx, day)
    if problem is not None:
        raise Invalid(problem)
    ctx.remember(vet_check={**_pending_check(ctx), "on": day.isoformat()})
    return await ctx.goto(VET_NOTE)


@router.text(VET_HEALTH_DATE)
@staff_only
async def health_date_typed(ctx: Ctx, text: str) -> Replies:
    day = typed_date(text, ctx.today())
    if day is None:
        raise Invalid(ctx._("Please type a date, like {example}.", example=ctx.today().isoformat()))
    return await _health_date(ctx, day)


@router.button(VET_HEALTH_DATE, "given")
@staff_only
async def health_date_given(ctx: Ctx, arg: str) -> Replies:
    profile = await current_profile(ctx)
    if profile.health_passed_on is None or profile.health_passed_on.isoformat() != arg:
        raise Invalid(ctx._("I don't recognise that button."))
    return await _health_date(ctx, profile.health_passed_on)


@router.prompt(VET_NOTE)
@staff_only
async def ask_note(ctx: Ctx) -> Replies:
    _ = ctx._
    pending = _pending_check(ctx)
    profile = await remembered_profile(ctx)
    if profile is None or not pending:
        return await ctx.goto(VETTING)
    text = _.sentences(
        [
            _(
                "{check}: {result}. Add a short note if you like (type it, at most {limit} "
                "characters), or tap “No note”.",
                check=check_name(ctx, profile, pending["kind"], pending["subject"]),
                result=result_name(ctx, pending["result"]),
                limit=MAX_NOTE,
            ),
            _(
                "Write what was checked, never an ID number or a health result: notes "
                "are kept in her record."
            ),
        ]
    )
    return [
        ctx.reply(
            text,
            [ctx.button(_("No note"), "no_note")],
            [ctx.button(_("◀ Back"), "back_profile")],
        )
    ]


@router.text(VET_NOTE)
@staff_only
async def note_typed(ctx: Ctx, text: str) -> Replies:
    note = " ".join(text.split())
    if len(note) > MAX_NOTE:
        raise Invalid(ctx._("Please keep the note under {limit} characters.", limit=MAX_NOTE))
    _no_id_number(ctx, note)
    return await _record(ctx, note)


def _no_id_number(ctx: Ctx, text: str) -> None:
    """Notes and reasons are kept (and reasons sent to her): never a whole ID number."""
    if holds_id_number(text):
        log.info("refused a staff note or reason holding an ID number")
        raise Invalid(
            ctx._(
                "That looks like a whole ID number. Notes and reasons are kept in her "
                "record: write what was checked, not the number."
            )
        )


@router.button(VET_NOTE, "no_note")
@staff_only
async def no_note(ctx: Ctx, _arg: str) -> Replies:
    return await _record(ctx, "")


async def _record(ctx: Ctx, note: str) -> Replies:
    _ = ctx._
    pending, shown = _pending_check(ctx), _shown(ctx)
    if not pending or not isinstance(shown.get("version"), int):
        return await ctx.goto(VETTING)
    on = dt.date.fromisoformat(pending["on"]) if pending.get("on") else ctx.today()
    try:
        profile = await ctx.repos.workers.record_check(
            shown["id"],
            shown["version"],
            staff=ctx.user.key,
            kind=pending["kind"],
            subject=pending["subject"],
            result=pending["result"],
            checked_on=on,
            note=note,
        )
    except Stale as moved:
        return await _stale(ctx, moved)
    _drop(ctx, "vet_check")
    log.info("staff %s recorded a %s check on profile %s", ctx.user.id, pending["kind"], profile.id)
    if pending["kind"] == "health":
        await _plan_health(ctx, profile)
    text = _(
        "Recorded: {check} {result} ({date}).",
        check=check_name(ctx, profile, pending["kind"], pending["subject"]),
        result=result_name(ctx, pending["result"]),
        date=_.date(on),
    )
    return [ctx.reply(text), *await ctx.goto(VETTING)]


async def _plan_health(ctx: Ctx, profile: WorkerProfile) -> None:
    """(Re)plan her health check's expiry reminders (`handlers.health`): after a
    health check is recorded, passed or failed, and after a decision."""
    await plan_health_reminders(ctx, profile)


# --- decisions ------------------------------------------------------------------------
@router.button(VETTING, "decide")
@staff_only
async def decision_chosen(ctx: Ctx, arg: str) -> Replies:
    profile = await current_profile(ctx)
    if profile.version != _shown(ctx).get("version"):
        return await _stale(ctx, Stale(profile))
    if arg not in DECISIONS or profile.status not in DECISIONS[arg][0]:
        raise Invalid(ctx._("I don't recognise that button."))
    if arg in WITH_REASON:
        ctx.remember(vet_decision=arg)
        return await ctx.goto(VET_REASON)
    return await _decide(ctx, arg, "")


@router.prompt(VET_REASON)
@staff_only
async def ask_reason(ctx: Ctx) -> Replies:
    _ = ctx._
    decision = ctx.form.get("vet_decision")
    if decision not in WITH_REASON or await remembered_profile(ctx) is None:
        return await ctx.goto(VETTING)
    if decision == "changes":
        text = _(
            "What should she change? Type it: she will read it (at most {limit} characters).",
            limit=MAX_REASON,
        )
    elif decision == "reject":
        text = _(
            "Why is the profile rejected? Type the reason: she will read it (at most "
            "{limit} characters).",
            limit=MAX_REASON,
        )
    else:
        text = _(
            "Why is she suspended? Type the reason: she will read it (at most {limit} characters).",
            limit=MAX_REASON,
        )
    return [ctx.reply(text, [ctx.button(_("◀ Back"), "back_profile")])]


@router.text(VET_REASON)
@staff_only
async def reason_typed(ctx: Ctx, text: str) -> Replies:
    decision = ctx.form.get("vet_decision")
    if decision not in WITH_REASON:
        return await ctx.goto(VETTING)
    reason = " ".join(text.split())
    if not 1 <= len(reason) <= MAX_REASON:
        raise Invalid(
            ctx._("Please type the reason in at most {limit} characters.", limit=MAX_REASON)
        )
    _no_id_number(ctx, reason)
    return await _decide(ctx, decision, reason)


async def _decide(ctx: Ctx, decision: str, reason: str) -> Replies:
    _ = ctx._
    shown = _shown(ctx)
    if not isinstance(shown.get("version"), int):
        return await ctx.goto(VETTING)
    try:
        profile = await ctx.repos.workers.decide(
            shown["id"], shown["version"], ctx.user.key, decision, reason, today=ctx.today()
        )
    except Stale as moved:
        return await _stale(ctx, moved)
    except NotAllowed as refused:
        _drop(ctx, "vet_decision")
        ctx.user.state = VETTING
        log.info(
            "staff %s: %s on profile %s not allowed (%s)",
            ctx.user.id,
            decision,
            shown["id"],
            refused.why,
        )
        if refused.why == "checks":
            missing = [check_name(ctx, None, kind, "") for kind in refused.missing]
            raise Invalid(
                _(
                    "Not approved: these checks are not passed yet: {checks}. (A health "
                    "check counts only while it is valid.)",
                    checks=_.join(missing),
                )
            ) from None
        raise Invalid(_("That decision does not fit this profile as it is now.")) from None
    log.info("staff %s decided %s on profile %s", ctx.user.id, decision, profile.id)
    await _tell_her(ctx, profile, decision, reason)
    await _plan_health(ctx, profile)  # a rejected profile's reminders are withdrawn
    text = _(
        "Done: profile #{id} is now “{status}”. She has been told.",
        id=profile.id,
        status=status_name(ctx, profile.status),
    )
    # approved, changes asked, rejected: it leaves the queue, the next one shows;
    # suspended or reinstated: it stays on screen
    show_next(ctx, profile.id if decision in ("suspend", "reinstate") else None)
    return [ctx.reply(text), *await ctx.goto(VETTING)]


async def _tell_her(ctx: Ctx, profile: WorkerProfile, decision: str, reason: str) -> None:
    """The decision, in her language, through the outbox."""
    her = await ctx.repos.users.by_id(profile.user_id)
    if her is None:
        return
    hers = outside(ctx.repos, her, ctx.options)
    _ = hers._
    menu = _("🪪 My worker profile")
    if profile.shared_at is None:
        shown_when = _(
            "Households can see your profile once you have chosen to show it to them, and "
            "while your health check is valid."
        )
    else:  # she already chose to show it
        shown_when = _("Households can see your profile while your health check is valid.")
    if decision == "approve":
        text = _(
            "✅ The programme has approved your worker profile. Your credential code is {code}.",
            code=show_code(profile.code or ""),
        )
        text = _.sentences([text, shown_when])
    elif decision == "changes":
        text = _(
            "✏ Programme staff ask you to change your worker profile: “{reason}”. To "
            "change it or answer, open “{menu}” from your menu.",
            reason=reason,
            menu=menu,
        )
    elif decision == "reject":
        text = _("Your worker profile was not approved: “{reason}”.", reason=reason)
    elif decision == "suspend":
        text = _(
            "⛔ Your worker credential is suspended: “{reason}”. Households cannot see "
            "your profile for now.",
            reason=reason,
        )
    else:
        text = _.sentences([_("✅ Your worker credential is valid again."), shown_when])
    ctx.notify(her.key, [hers.reply(text)], topic=f"vetting:{profile.id}")


async def _stale(ctx: Ctx, moved: Stale) -> Replies:
    """The profile moved on since it was shown: say what happened, show it as it is."""
    _ = ctx._
    shown = _shown(ctx)
    _drop(ctx, "vet_check", "vet_decision")
    profile = moved.profile
    log.info("staff %s acted on a profile that had changed: %s", ctx.user.id, shown.get("id"))
    if profile is None:
        show_next(ctx)
        text = _("That profile is no longer there: she may have deleted her data.")
        return [ctx.reply(text), *await ctx.goto(VETTING)]
    seen = shown.get("audit") or 0
    since = [
        e for e in await ctx.repos.workers.audit_of(audit_subject(profile.id), 10) if e.id > seen
    ]
    decided = next((e for e in since if e.action in DECISIONS), None)
    if decided is not None:
        text = _(
            "Not recorded. Another staff member has just decided on this profile (now: "
            "{status} by {who}). Here it is as it is now:",
            status=status_name(ctx, profile.status),
            who=decided.actor,
        )
    elif any(e.action.startswith("check:") and e.actor for e in since):
        text = _(
            "Not recorded. Another staff member has just recorded a check on this "
            "profile. Here it is as it is now:"
        )
    else:
        text = _(
            "Not recorded. She changed her profile since you opened it. Here it is as it is now:"
        )
    show_next(ctx, profile.id)
    return [ctx.reply(text), *await ctx.goto(VETTING)]


# --- going back to the profile --------------------------------------------------------
@staff_only
async def back_profile(ctx: Ctx, _arg: str) -> Replies:
    _drop(ctx, "vet_check", "vet_decision", "vet_page")
    return await ctx.goto(VETTING)


for _state in (VET_HEALTH_DATE, VET_NOTE, VET_REASON, VET_HISTORY, VET_LOOKUP):
    router.button(_state, "back_profile")(back_profile)


# the audit log and the look-up screens register on `router` as they load
from handlers import vetting_history, vetting_lookup  # noqa: E402, F401
