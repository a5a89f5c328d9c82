"""The notices screen, when a notice goes out and how it goes (issue 12), on
`broadcast_compose.router`.

    /broadcast, 📣 Send a notice ─▶ BC_LIST: the latest notices (a base's staff: hers),
        each with its status and counts; ✏ New notice ─▶ BC_MODE (`broadcast_compose`)
    BC_PREVIEW ─🕒 Send at a set time─▶ BC_WHEN: a date and time typed in local time,
        to come, at most `MAX_AHEAD_DAYS` ahead ─▶ BC_PREVIEW (confirm it there)
    BC_PREVIEW ─✖ Discard─▶ BC_DISCARD ─yes─▶ cancelled unsent (audited), BC_LIST
    BC_LIST ─a notice─▶ BC_STATUS: its status, sent, failed, unreachable, WeChat outside
        48 hours, turned notices off, left and the time left at the broadcast rate
        ├─ 🔄 Refresh ─▶ the same message, edited in place (`Reply.replace`)
        ├─ ⛔ Cancel sending ─▶ BC_CANCEL ─yes─▶ stopped (audited), BC_STATUS
        └─ ◀ Notices
    a broadcast done ─▶ its writer gets one message with the counts (`report_done`,
        called by the broadcaster in the transaction that marks it done)

The rate is the settings' `broadcast_rate` (`HAOXIN_BROADCAST_RATE`, on the flows'
options: `rate`).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Sequence

from handlers.broadcast_compose import (
    BC_CANCEL,
    BC_DISCARD,
    BC_LIST,
    BC_MODE,
    BC_PREVIEW,
    BC_STATUS,
    BC_WHEN,
    audit,
    draft,
    first_words,
    local_words,
    may_see,
    moved_on,
    notice,
    router,
    staff_goes,
    status_words,
)
from handlers.context import Ctx, Options, outside
from handlers.replies import Reply
from handlers.router import Invalid, Replies
from handlers.staff import is_staff, staff_base
from handlers.typed_values import AmbiguousDate, read_date, read_time
from handlers.vetting import staff_only
from storage.broadcasts import Progress
from storage.models import Broadcast, utcnow
from storage.repositories import Repos

log = logging.getLogger(__name__)

#: messages a second, when the options do not say (the settings' default)
DEFAULT_RATE = 25.0
#: notices listed on the first screen
RECENT = 8
#: how far ahead a notice may be set to go, days
MAX_AHEAD_DAYS = 90


def rate(ctx: Ctx) -> float:
    """The broadcast rate, messages a second on each platform."""
    value = ctx.options.broadcast_rate
    return value if value > 0 else DEFAULT_RATE


def time_words(ctx: Ctx, seconds: float) -> str:
    """`less than a minute`, `about 3 minutes`, `about 2 h 5 min`."""
    _ = ctx._
    if seconds < 60:
        return _("less than a minute")
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return _.ngettext("about {n} minute", "about {n} minutes", minutes)
    return _("about {hours} h {minutes} min", hours=minutes // 60, minutes=minutes % 60)


def counts_words(ctx: Ctx, row: Broadcast | Progress) -> str:
    """Sent, failed, unreachable, WeChat outside 48 hours, turned notices off."""
    return ctx._(
        "Sent {sent} · failed {failed} · cannot be reached {unreachable} · WeChat, no "
        "message from them in 48 hours {wechat} · turned notices off {off}",
        sent=row.sent,
        failed=row.failed,
        unreachable=row.unreachable,
        wechat=row.not_reachable_wechat,
        off=row.skipped_opted_out,
    )


# --- the list -----------------------------------------------------------------------------
@router.command("broadcast")
async def broadcast_command(ctx: Ctx, _arg: str) -> Replies:
    """`/broadcast`: the notices screen, for staff only."""
    if not is_staff(ctx):
        log.warning("refused /broadcast: user %s", ctx.user.id)
        raise Invalid(ctx._("That part is for programme staff only."))
    return await ctx.goto(BC_LIST)


@router.prompt(BC_LIST)
@staff_only
async def show_list(ctx: Ctx) -> Replies:
    _ = ctx._
    mine = None if ctx.is_admin else ctx.user.key  # a base's staff: the ones she wrote
    latest = await ctx.repos.broadcasts.recent(RECENT, created_by=mine)
    rows = [r for r in latest if may_see(ctx, r)]
    lines = ["📣 " + _("Programme notices.")]
    if staff_base(ctx) is not None:
        lines.append(
            _(
                "As staff of a training base, you send notices to the people signed up for a "
                "course of your base."
            )
        )
    lines.append(_("The latest, newest first:") if rows else _("No notices yet."))
    buttons = [[ctx.button(_("✏ New notice"), "new")]]
    for row in rows[:RECENT]:
        counts = ""
        if row.status in ("sending", "done", "cancelled") and row.total:
            counts = " · " + _("{sent} of {total} sent", sent=row.sent, total=row.total)
        elif row.status == "queued" and row.send_at is not None:
            counts = " · " + local_words(ctx, row.send_at)
        lines.append(f"#{row.id} · {status_words(ctx, row.status)}{counts} · {first_words(row)}")
        buttons.append([ctx.button(f"#{row.id} {first_words(row, 40)}", "open", row.id)])
    buttons.append([ctx.button(_("◀ Main menu"), "home")])
    return [ctx.reply("\n".join(lines), *buttons)]


@router.button(BC_LIST, "new")
@staff_only
async def new_notice(ctx: Ctx, _arg: str) -> Replies:
    ctx.remember(bc=None, bc_edit=False, bc_at=None, bc_aud=None, bc_v=None)
    return await ctx.goto(BC_MODE)


@router.button(BC_LIST, "open")
@staff_only
async def open_notice(ctx: Ctx, arg: str) -> Replies:
    row = await notice(ctx, arg)
    if row.status == "draft":
        ctx.remember(bc=row.id, bc_edit=True, bc_at=None, bc_aud=None)
        return await ctx.goto(BC_PREVIEW)
    ctx.remember(bc_show=row.id)
    return await ctx.goto(BC_STATUS)


# --- when it is sent ------------------------------------------------------------
@router.prompt(BC_WHEN)
@staff_only
async def ask_when(ctx: Ctx) -> Replies:
    _ = ctx._
    example = ctx.today() + dt.timedelta(days=1)
    text = _(
        "When should it be sent? Type the date and the time ({zone} time), for example "
        "“{example} 09:00” or “tomorrow 9am”.",
        zone=ctx.options.timezone,
        example=example.isoformat(),
    )
    return [ctx.reply(text, [ctx.button(_("◀ Back to the preview"), "preview")])]


def read_when(text: str, today: dt.date) -> tuple[dt.date, dt.time] | None:
    """A date and a time typed together (`2026-12-01 09:00`, `明天上午9点`, `tomorrow
    9am`), or a time alone (today); None when they cannot be read. `AmbiguousDate` for
    `9/12 10:00`."""
    text = text.strip()
    if (alone := read_time(text)) is not None:
        return today, alone
    words = text.split()
    splits = [(" ".join(words[:-1]), words[-1])] if len(words) > 1 else []
    splits += [(text[:i], text[i:]) for i in range(1, len(text))]
    ambiguous = False
    for day_text, time_text in splits:
        try:
            day = read_date(day_text.strip(), today, ahead=True)
        except AmbiguousDate:
            ambiguous = True
            continue
        at = read_time(time_text.strip())
        if day is not None and at is not None:
            return day, at
    if ambiguous:
        raise AmbiguousDate(text)
    return None


@router.text(BC_WHEN)
@staff_only
async def when_typed(ctx: Ctx, text: str) -> Replies:
    _ = ctx._
    if len(text) > 40:
        raise Invalid(_("Please type only the date and the time, like “2026-12-01 09:00”."))
    try:
        found = read_when(text, ctx.today())
    except AmbiguousDate:
        raise Invalid(
            _("Please write the date with the year first, like “2026-12-01 09:00”.")
        ) from None
    if found is None:
        raise Invalid(
            _(
                "I could not read a date and a time in that. Please type them like "
                "“2026-12-01 09:00”."
            )
        )
    day, _time = found
    if day < ctx.today() - dt.timedelta(days=1):  # year 1 has no UTC before it
        raise Invalid(_("That time has already passed. Please type a time to come."))
    if day > ctx.today() + dt.timedelta(days=MAX_AHEAD_DAYS + 1):
        raise Invalid(_("A notice can be set at most {days} days ahead.", days=MAX_AHEAD_DAYS))
    at = ctx.options.utc(*found)
    if at <= utcnow():
        raise Invalid(_("That time has already passed. Please type a time to come."))
    if at > utcnow() + dt.timedelta(days=MAX_AHEAD_DAYS):
        raise Invalid(_("A notice can be set at most {days} days ahead.", days=MAX_AHEAD_DAYS))
    ctx.remember(bc_at=at.isoformat())
    return await ctx.goto(BC_PREVIEW)


# --- discarding a draft ---------------------------------------------------------------------------
@router.prompt(BC_DISCARD)
@staff_only
async def ask_discard(ctx: Ctx) -> Replies:
    _ = ctx._
    row = await draft(ctx)
    if row is None:
        ctx.user.state = BC_LIST
        raise Invalid(_("There is no draft to discard."))
    text = _("Discard notice #{id}? It is never sent; the list shows it as cancelled.", id=row.id)
    return [
        ctx.reply(
            text,
            [ctx.button(_("✖ Yes, discard it"), "discard_yes")],
            [ctx.button(_("◀ No, back to the preview"), "preview")],
        )
    ]


@router.button(BC_DISCARD, "discard_yes")
@staff_only
async def discard(ctx: Ctx, _arg: str) -> Replies:
    _ = ctx._
    row = await draft(ctx)
    seen = ctx.form.get("bc_v")
    repo = ctx.repos.broadcasts
    if row is None or not isinstance(seen, int):
        ctx.user.state = BC_LIST
        raise Invalid(_("There is no draft to discard."))
    # still the draft the preview showed, in this transaction: never a confirmed one
    if not await repo.revise(row.id, seen) or not await repo.cancel(row.id):
        fresh = await repo.get(row.id)
        if fresh is None or fresh.status != "draft":
            raise moved_on(ctx, fresh or row)
        ctx.user.state = BC_PREVIEW
        raise Invalid(
            _("Other staff changed this notice after you opened it. Please check it again:")
        )
    audit(
        ctx, row, "broadcast:discard", {"status": "draft", "version": seen}, {"status": "cancelled"}
    )
    log.info("staff user %s discarded notice %s", ctx.user.id, row.id)
    await repo.get(row.id)  # the row in this session as it is now, for the list
    ctx.remember(bc=None, bc_v=None, bc_at=None, bc_aud=None, bc_edit=False)
    return [
        ctx.reply(_("Discarded: notice #{id} will not be sent.", id=row.id)),
        *await ctx.goto(BC_LIST),
    ]


# --- progress ------------------------------------------------------------------------------
@router.prompt(BC_STATUS)
@staff_only
async def show_status(ctx: Ctx, *, replace: bool = False) -> Replies:
    _ = ctx._
    row = await notice(ctx, ctx.form.get("bc_show"))
    if row.status == "draft":  # discarded drafts are `cancelled`: this one is still open
        ctx.remember(bc=row.id, bc_edit=True)
        ctx.user.state = BC_PREVIEW
        return await ctx.ask()
    progress = await ctx.repos.broadcasts.progress(row.id, rate(ctx))
    assert progress is not None  # `notice` found it
    lines = [
        "📣 " + _("Notice #{id}: {words}", id=row.id, words=first_words(row, 60)),
        _("Status: {status}", status=status_words(ctx, progress.status)),
    ]
    if progress.status == "queued":
        if row.send_at is not None:
            lines.append(_("To be sent at {when}.", when=local_words(ctx, row.send_at)))
        else:
            lines.append(_("Sending starts in a moment."))
    else:
        lines.append(counts_words(ctx, progress))
    if progress.status == "sending":
        lines.append(
            _(
                "Left to send: {left}, {time} to go.",
                left=progress.left,
                time=time_words(ctx, progress.seconds_left),
            )
        )
    if progress.status == "cancelled" and progress.cancelled:
        lines.append(_("Not sent, cancelled first: {n}", n=progress.cancelled))
    if progress.status in ("done", "cancelled") and row.finished_at is not None:
        lines.append(_("Finished at {when}.", when=local_words(ctx, row.finished_at)))
    rows = [[ctx.button(_("🔄 Refresh"), "refresh")]]
    if progress.status in ("queued", "sending"):
        rows.append([ctx.button(_("⛔ Cancel sending"), "stop")])
    rows += [[ctx.button(_("◀ Notices"), "list")], [ctx.button(_("◀ Main menu"), "home")]]
    return [ctx.reply("\n".join(lines), *rows, replace=replace)]


@router.button(BC_STATUS, "refresh")
@staff_only
async def refresh(ctx: Ctx, _arg: str) -> Replies:
    """The same message, edited with the counts as they are now."""
    return await show_status(ctx, replace=True)


staff_goes("stop", BC_CANCEL, BC_STATUS)
staff_goes("status", BC_STATUS, BC_CANCEL)


# --- cancelling -------------------------------------------------------------------------------
@router.prompt(BC_CANCEL)
@staff_only
async def ask_cancel(ctx: Ctx) -> Replies:
    _ = ctx._
    row = await notice(ctx, ctx.form.get("bc_show"))
    if row.status not in ("queued", "sending"):
        ctx.user.state = BC_STATUS
        raise Invalid(_("This notice is not being sent any more: there is nothing to cancel."))
    if row.status == "queued":
        text = _(
            "Cancel notice #{id}? It has not been sent to anyone yet; no one will get it.",
            id=row.id,
        )
    else:
        text = _(
            "Stop sending notice #{id}? Those it has not reached yet will not get it; the "
            "{sent} who have it keep it.",
            id=row.id,
            sent=row.sent,
        )
    return [
        ctx.reply(
            text,
            [ctx.button(_("⛔ Yes, stop sending"), "stop_yes")],
            [ctx.button(_("◀ No, keep sending"), "status")],
        )
    ]


@router.button(BC_CANCEL, "stop_yes")
@staff_only
async def cancel(ctx: Ctx, _arg: str) -> Replies:
    _ = ctx._
    row = await notice(ctx, ctx.form.get("bc_show"))
    before = {"status": row.status, "sent": row.sent, "total": row.total}
    ctx.user.state = BC_STATUS
    if not await ctx.repos.broadcasts.cancel(row.id):
        raise Invalid(_("It had already finished or been cancelled: nothing was changed."))
    audit(ctx, row, "broadcast:cancel", before, {"status": "cancelled"})
    log.info("staff user %s cancelled notice %s", ctx.user.id, row.id)
    stopped = _(
        "Stopped: nothing more of it is sent (the few messages already on their way may "
        "still arrive)."
    )
    return [ctx.reply("⛔ " + stopped), *await ctx.ask()]


# --- the creator's final report ------------------------------------------------------------------
def report_text(ctx: Ctx, row: Broadcast) -> str:
    """The final report in the creator's language: the counts per reason."""
    _ = ctx._
    return "\n".join(
        [
            "📣 " + _("Notice #{id} has been sent: {words}", id=row.id, words=first_words(row, 60)),
            counts_words(ctx, row),
            _.ngettext(
                "{n} person in all.", "{n} people in all.", row.total + row.skipped_opted_out
            ),
        ]
    )


async def report_done(repos: Repos, options: Options, broadcast_ids: Sequence[int]) -> int:
    """Queue, for each broadcast just done (`BroadcastRepo.finish`'s ids), one message to
    the staff member who wrote it (`Broadcast.created_by`) with its counts per reason,
    through the outbox in the caller's transaction. Returns how many were queued (a
    creator who erased her data gets none)."""
    queued = 0
    for ident in broadcast_ids:
        row = await repos.broadcasts.get(ident)
        if row is None or row.status != "done":
            continue
        creator = await repos.users.get(row.created_by)
        if creator is None:
            continue
        ctx = outside(repos, creator, options)
        ctx.notify(creator.key, [Reply(report_text(ctx, row))], topic=f"broadcast:{row.id}")
        queued += 1
    return queued
