"""The audit log of a worker's profile, for staff: every check and decision on it, who
made it and when, newest first, a few entries a page.

    VETTING ─📜 History─▶ VET_HISTORY (◀ Newer / Older ▶) ─◀ Back to the profile─▶ VETTING

Opened from the vetting screen (`handlers.vetting`, on its router) for the profile
shown there; like every staff screen, each prompt and action asks `is_staff` first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from handlers.context import Ctx
from handlers.router import Replies
from handlers.vetting import (
    VET_HISTORY,
    VETTING,
    audit_subject,
    capped,
    check_name,
    current_profile,
    remembered_profile,
    result_name,
    router,
    staff_only,
    status_name,
)
from storage.models import AuditEntry, WorkerProfile

HISTORY_PAGE = 6


def _decision_names(ctx: Ctx) -> dict[str, str]:
    _ = ctx._
    return {
        "submit": _("Sent for vetting"),
        "approve": _("Approved"),
        "changes": _("Asked for changes"),
        "reject": _("Rejected"),
        "suspend": _("Suspended"),
        "reinstate": _("Reinstated"),
    }


@router.button(VETTING, "history")
@staff_only
async def open_history(ctx: Ctx, _arg: str) -> Replies:
    await current_profile(ctx)
    ctx.remember(vet_page=0)
    return await ctx.goto(VET_HISTORY)


@router.prompt(VET_HISTORY)
@staff_only
async def history(ctx: Ctx, *, replace: bool = False) -> Replies:
    """The audit log of the worker on screen, newest first, a few entries a page."""
    _ = ctx._
    profile = await remembered_profile(ctx)
    if profile is None:
        return await ctx.goto(VETTING)
    page = ctx.form.get("vet_page")
    page = page if isinstance(page, int) and 0 <= page < 1000 else 0
    upto = (page + 1) * HISTORY_PAGE
    entries = await ctx.repos.workers.audit_of(audit_subject(profile.id), limit=upto + 1)
    shown = entries[page * HISTORY_PAGE : upto]
    if not shown and page:
        ctx.remember(vet_page=0)
        return await history(ctx, replace=replace)
    head = "📜 " + _("History of profile #{id}, newest first:", id=profile.id)
    blocks = [_entry(ctx, profile, e) for e in shown] or [_("Nothing recorded yet.")]
    pager = []
    if page > 0:
        pager.append(ctx.button(_("◀ Newer"), "hpage", page - 1))
    if len(entries) > upto:
        pager.append(ctx.button(_("Older ▶"), "hpage", page + 1))
    text = capped(ctx, [head, "", "\n\n".join(blocks)])
    back = [ctx.button(_("◀ Back to the profile"), "back_profile")]
    return [ctx.reply(text, pager, back, replace=replace)]


_CONSENTS: dict[str, Callable[[Ctx], str]] = {
    "consent:share": lambda ctx: ctx._("Show my profile to households"),
    "consent:health": lambda ctx: ctx._("Give my health examination result"),
}


def _entry(ctx: Ctx, profile: WorkerProfile, entry: AuditEntry) -> str:
    """One audit entry: when (local time), who, what, before → after, why."""
    _ = ctx._
    local = ctx.options.local(entry.at)
    who = entry.actor or _("she herself")
    action = entry.action
    before, after = entry.before or {}, entry.after or {}
    if action.startswith("check:"):
        _check, _sep, rest = action.partition(":")
        kind, _sep, subject = rest.partition(":")
        what = check_name(ctx, profile, kind, subject)
        change = _change(ctx, before.get("result"), after.get("result"), result_name)
        if isinstance(after.get("on"), str):
            try:
                change += f" ({_.date(dt.date.fromisoformat(after['on']))})"
            except ValueError:
                pass
    elif action in _CONSENTS:  # her own answers to the two consent questions
        what = _CONSENTS[action](ctx)
        change = _("yes") if after.get("agreed") else _("no")
    elif "status" in before or "status" in after:
        what = _decision_names(ctx).get(action, action)
        change = _change(ctx, before.get("status"), after.get("status"), status_name)
    else:  # an entry of another kind: its values as written
        what = action
        keys = list(dict.fromkeys([*before, *after]))
        change = "; ".join(f"{k} {before.get(k, '—')} → {after.get(k, '—')}" for k in keys)
    lines = [f"🕘 {_.date(local.date())} {_.time(local)} · {who}", f"{what}: {change}"]
    if entry.reason and action.startswith("check:"):
        lines.append(_("Note: {note}", note=entry.reason))
    elif entry.reason:
        lines.append(_("Why: {reason}", reason=entry.reason))
    return "\n".join(lines)


def _change(ctx: Ctx, before: Any, after: Any, name: Callable[[Ctx, str], str]) -> str:
    """`before → after` in words (— where there was none)."""
    was = name(ctx, str(before)) if before else "—"
    now = name(ctx, str(after)) if after else "—"
    return f"{was} → {now}"


@router.button(VET_HISTORY, "hpage")
@staff_only
async def history_page(ctx: Ctx, arg: str) -> Replies:
    page = int(arg) if arg.isdecimal() and len(arg) < 4 else 0
    ctx.remember(vet_page=page)
    return await history(ctx, replace=True)
