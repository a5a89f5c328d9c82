"""One help-desk ticket on staff's screen (issue 13), on `handlers.help_desk`'s router:
what staff read of it, and taking, releasing and closing it.

    DESK ─Q-…─▶ DESK_TICKET: reference, urgent, when, who (role, platform, language:
        never her phone or ID), the step she was on, her last messages, where it
        stands, the conversation (its newest messages, as many as fit)
          ├─ 🙋 Take it (open) ─▶ hers (someone was first: told so, DESK)
          ├─ ↩ Release (hers) ─▶ open again, DESK
          ├─ ✔ Close (hers; an admin: any) ─▶ she is told, DESK_TICKET (closed)
          └─ ◀ Back ─▶ DESK

A ticket another staff member holds can be read here, not answered. Each change is
one conditional UPDATE (`storage.help_desk.DeskRepo`): the second of two staff is told
what happened.
"""

from __future__ import annotations

import datetime as dt

from handlers.context import Ctx
from handlers.help_desk import (
    DESK_TICKET,
    MESSAGE_EXCERPT,
    TEXT_ROOM,
    THREAD,
    age_words,
    back_to_desk,
    current,
    cut,
    desk_only,
    draft_of,
    drop_draft,
    may_catalogue,
    outside_of,
    platform_words,
    role_words,
    router,
    ticket_lang,
)
from handlers.replies import Button, Reply
from handlers.router import Invalid, Replies
from handlers.staff import staff_base
from locales import language_name
from storage.help_desk import CLOSED, OPEN, STAFF, TAKEN
from storage.models import Ticket, TicketMessage


# --- what staff read ------------------------------------------------------------------
@router.prompt(DESK_TICKET)
@desk_only
async def show_ticket(ctx: Ctx) -> Replies:
    _ = ctx._
    try:
        ticket = await current(ctx)
    except Invalid as gone:
        return await back_to_desk(ctx, gone.message)
    desk, me = ctx.repos.desk, ctx.user.key
    head = await _ticket_head(ctx, ticket)
    draft = draft_of(ctx, ticket)
    if draft:
        head += ["", "📝 " + _("Your reply, not sent yet: “{text}”", text=draft)]
    thread = await desk.messages(ticket.id, THREAD)
    more = await desk.count_messages(ticket.id) - len(thread)
    lines = _fit(ctx, head, [_message_line(ctx, m) for m in thread], more)
    rows: list[list[Button]] = []
    if ticket.status == OPEN:
        rows.append([ctx.button(_("🙋 Take it"), "desk_take")])
    mine = ticket.status == TAKEN and ticket.holder == me
    if mine:
        rows.append([ctx.button(_("✍ Reply"), "desk_reply")])
        rows.append(
            [ctx.button(_("↩ Release"), "desk_release"), ctx.button(_("✔ Close"), "desk_close")]
        )
    elif ticket.status != CLOSED and ctx.is_admin:
        if ticket.status == TAKEN:  # someone else holds it: away, or no longer staff
            shown = int(ticket.taken_at.timestamp()) if ticket.taken_at else 0
            rows.append([ctx.button(_("🙋 Take it over"), "desk_take_over", shown)])
        rows.append([ctx.button(_("✔ Close"), "desk_close")])
    if await may_catalogue(ctx, ticket):
        rows.append([ctx.button(_("📌 Add to the catalogue"), "desk_faq")])
    rows.append([ctx.button(_("◀ Back"), "desk_back")])
    return [ctx.reply("\n".join(lines), *rows)]


async def _ticket_head(ctx: Ctx, ticket: Ticket) -> list[str]:
    """What staff read of a ticket before its conversation: reference, urgent, when,
    who (role, platform, language: never her phone or ID), the step she was on, her
    last messages, where it stands."""
    _ = ctx._
    context = ticket.context or {}
    lines = ["💬 " + ticket.reference]
    if ticket.urgent:
        lines.append("🚨 " + _("URGENT: it mentions danger or violence."))
    lines.append(
        _(
            "Asked {when} ({age} ago)",
            when=_when(ctx, ticket.created_at),
            age=age_words(_, ticket.created_at),
        )
    )
    lines.append(
        _(
            "From {role}, on {platform}, reading {language}",
            role=role_words(_, str(context.get("role") or "")),
            platform=platform_words(_, str(context.get("platform") or "")),
            language=language_name(ticket_lang(ticket)),
        )
    )
    if context.get("step"):
        lines.append(_("She was on: {step}", step=cut(str(context["step"]), 200)))
    recent = [str(r) for r in context.get("recent") or [] if r][-5:]
    if recent:
        lines.append(_("Her last messages before asking:"))
        lines += [f"· “{cut(r, 200)}”" for r in recent]
    asker = await ctx.repos.desk.asker(ticket)
    asker_key = asker.key if asker is not None else ""
    lines.append(_("Status: {status}", status=status_words(ctx, ticket, asker_key)))
    if ticket.faq_key and ticket.faq_key != "-":
        lines.append("📌 " + _("In the catalogue as {key}", key=ticket.faq_key))
    return lines


def _message_line(ctx: Ctx, message: TicketMessage) -> str:
    _ = ctx._
    when = _when(ctx, message.created_at)
    if message.author == STAFF:
        who = _("Staff ({who})", who=message.staff_key or "—")
    else:
        who = _("Asker")
    return f"[{when}] {who}: {cut(message.text, MESSAGE_EXCERPT)}"


def _fit(ctx: Ctx, head: list[str], thread: list[str], more: int) -> list[str]:
    """The head and as much of the conversation (its newest messages) as fits."""
    _ = ctx._
    room = TEXT_ROOM - sum(len(line) + 1 for line in head) - 80
    kept: list[str] = []
    for line in reversed(thread):
        if len(line) + 1 > room:
            break
        kept.insert(0, line)
        room -= len(line) + 1
    more += len(thread) - len(kept)
    body = ["", "— " + _("Conversation") + " —"]
    if more > 0:
        body.append(_("({n} earlier messages not shown)", n=more))
    if not thread:
        body.append(_("(no messages)"))
    return head + body + kept


# --- taking, releasing, closing -------------------------------------------------------
@router.button(DESK_TICKET, "desk_take_over")
@desk_only
async def take_over(ctx: Ctx, arg: str) -> Replies:
    """An admin takes a ticket another holds, as her screen showed it (`arg`: when it
    was taken, so that two admins taking over at once do not take it from each other);
    the one who held it is told."""
    _ = ctx._
    ticket = await current(ctx)
    if not ctx.is_admin:
        raise Invalid(_("I don't recognise that button."))
    shown = int(ticket.taken_at.timestamp()) if ticket.taken_at else 0
    if ticket.status != TAKEN or ticket.holder == ctx.user.key or str(shown) != arg:
        return await back_to_desk(
            ctx, _("{reference} changed meanwhile: here it is now.", reference=ticket.reference)
        )
    holder = ticket.holder
    if not await ctx.repos.desk.take_over(ticket.id, ctx.user.key, holder):
        return await back_to_desk(
            ctx, _("{reference} changed meanwhile: here it is now.", reference=ticket.reference)
        )
    taken = await ctx.repos.users.get(holder)
    if taken is not None:
        told = outside_of(ctx, taken)._(
            "💬 {reference} was taken over by a programme admin: you no longer answer it.",
            reference=ticket.reference,
        )
        ctx.notify(holder, [Reply(told)], topic=f"ticket:{ticket.id}:holder")
    done = _("🙋 {reference} is yours now.", reference=ticket.reference)
    return [ctx.reply(done), *await ctx.ask()]


@router.button(DESK_TICKET, "desk_take")
@desk_only
async def take(ctx: Ctx, _arg: str) -> Replies:
    _ = ctx._
    ticket = await current(ctx)
    if not await ctx.repos.desk.take(ticket.id, ctx.user.key, staff_base(ctx)):
        ticket = await current(ctx)
        if ticket.status == TAKEN and ticket.holder == ctx.user.key:
            return await ctx.ask()  # her own second tap
        if ticket.status == CLOSED:
            return await back_to_desk(
                ctx, _("{reference} was closed meanwhile.", reference=ticket.reference)
            )
        return await back_to_desk(
            ctx,
            _("{reference} was taken by someone else just now.", reference=ticket.reference),
        )
    done = _(
        "🙋 {reference} is yours now: reply to her, or release it.", reference=ticket.reference
    )
    return [ctx.reply(done), *await ctx.ask()]


@router.button(DESK_TICKET, "desk_release")
@desk_only
async def release(ctx: Ctx, _arg: str) -> Replies:
    _ = ctx._
    ticket = await current(ctx)
    if not await ctx.repos.desk.release(ticket.id, ctx.user.key):
        return [ctx.reply(_("It is not yours any more.")), *await ctx.ask()]
    note = _("↩ {reference} is back in the open queue.", reference=ticket.reference)
    return await back_to_desk(ctx, note)


@router.button(DESK_TICKET, "desk_close")
@desk_only
async def close(ctx: Ctx, _arg: str) -> Replies:
    _ = ctx._
    ticket = await current(ctx)
    if not await ctx.repos.desk.close(ticket.id, ctx.user.key, any_holder=ctx.is_admin):
        ticket = await current(ctx)
        if ticket.status == CLOSED:
            note = _("{reference} was closed already.", reference=ticket.reference)
        else:
            note = _(
                "{reference} is not yours: only the staff member who took it, or an "
                "admin, can close it.",
                reference=ticket.reference,
            )
        return [ctx.reply(note), *await ctx.ask()]
    ticket = await current(ctx)
    asker = await ctx.repos.desk.asker(ticket)
    if asker is not None:
        from handlers.ask import closed_notice

        told = closed_notice(outside_of(ctx, asker), ticket)
        ctx.notify(asker.key, [told], topic=f"ticket:{ticket.id}")
    drop_draft(ctx)
    done = _("✔ {reference} is closed, and she was told.", reference=ticket.reference)
    return [ctx.reply(done), *await ctx.ask()]


def status_words(ctx: Ctx, ticket: Ticket, asker_key: str) -> str:
    """Where the ticket stands, for staff; who closed it, unless she did (her platform
    key is never shown)."""
    _ = ctx._
    if ticket.status == OPEN:
        return _("open: waiting for someone to take it")
    if ticket.status == TAKEN:
        if ticket.holder == ctx.user.key:
            return _("yours: you took it")
        return _("taken by {who}", who=ticket.holder or "—")
    if not ticket.closed_by or ticket.closed_by == asker_key:
        return _("closed by the person who asked")
    return _("closed by {who}", who=ticket.closed_by)


def _when(ctx: Ctx, at: dt.datetime) -> str:
    return ctx._.datetime(ctx.options.local(at).replace(tzinfo=None), "short")
