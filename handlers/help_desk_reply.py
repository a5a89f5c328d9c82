"""The help desk's reply (issue 13), on `handlers.help_desk`'s router.

    DESK_TICKET ─✍ Reply (hers)─▶ DESK_REPLY: typed ─▶ a staff message on the ticket,
        sent to her through the outbox (`handlers.ask.office_reply_notice`, in her
        language, marked as from the programme office) ─▶ DESK_TICKET
          ├─ ✔ Send what I wrote (a reply kept from before) ─▶ the same
          └─ ✖ Cancel ─▶ DESK_TICKET
    DESK_TICKET: text typed there is kept as her reply, to send from DESK_REPLY

A reply the ticket no longer takes (closed, released or held by another meanwhile, on
any instance: `DeskRepo.reply` is conditional) is not sent: she is told why, and what
she wrote stays in her form (`desk_draft`) and on the ticket's screen.
"""

from __future__ import annotations

from handlers.context import Ctx
from handlers.help_desk import (
    DESK_REPLY,
    DESK_TICKET,
    MAX_REPLY,
    current,
    desk_only,
    draft_of,
    drop_draft,
    keep_draft,
    outside_of,
    platform_words,
    router,
    ticket_lang,
)
from handlers.router import Invalid, Replies
from locales import language_name
from storage.help_desk import ASKER, CLOSED, OPEN, TAKEN
from storage.models import Ticket


# --- writing the reply ------------------------------------------------------------------
@router.button(DESK_TICKET, "desk_reply")
@desk_only
async def start_reply(ctx: Ctx, _arg: str) -> Replies:
    ticket = await current(ctx)
    if not _holds(ctx, ticket):
        raise Invalid(_not_yours(ctx, ticket))
    return await ctx.goto(DESK_REPLY)


def _holds(ctx: Ctx, ticket: Ticket) -> bool:
    return ticket.status == TAKEN and ticket.holder == ctx.user.key


def _not_yours(ctx: Ctx, ticket: Ticket) -> str:
    """Why her reply cannot go on this ticket now."""
    _ = ctx._
    if ticket.status == CLOSED:
        return _("{reference} is closed: your reply was not sent.", reference=ticket.reference)
    if ticket.status == OPEN:
        return _(
            "{reference} is not yours: take it first, then send your reply.",
            reference=ticket.reference,
        )
    return _(
        "{reference} is held by someone else now: your reply was not sent.",
        reference=ticket.reference,
    )


@router.text(DESK_TICKET)
@desk_only
async def typed_on_ticket(ctx: Ctx, text: str) -> Replies:
    """Text typed on the ticket's screen is kept as her reply: sent from DESK_REPLY
    when she holds the ticket, else kept until she does."""
    _ = ctx._
    ticket = await current(ctx)
    keep_draft(ctx, ticket, text)
    if _holds(ctx, ticket):
        return await ctx.goto(DESK_REPLY)
    raise Invalid(_not_yours(ctx, ticket) + "\n" + _("What you wrote is kept below."))


@router.prompt(DESK_REPLY)
@desk_only
async def ask_reply(ctx: Ctx) -> Replies:
    _ = ctx._
    try:
        ticket = await current(ctx)
    except Invalid:
        return await ctx.goto(DESK_TICKET)  # which says so, and goes back to the queue
    if not _holds(ctx, ticket):
        return [ctx.reply(_not_yours(ctx, ticket)), *await ctx.goto(DESK_TICKET)]
    context = ticket.context or {}
    lines = [
        "✍ "
        + _(
            "Your reply to {reference}. She receives it on {platform} as from the programme "
            "office; she reads {language}.",
            reference=ticket.reference,
            platform=platform_words(_, str(context.get("platform") or "")),
            language=language_name(ticket_lang(ticket)),
        )
    ]
    last = [m for m in await ctx.repos.desk.messages(ticket.id, 6) if m.author == ASKER]
    if last:
        text = last[-1].text
        lines.append(_("Her last message: “{text}”", text=text[:600] + ("…" * (len(text) > 600))))
    lines.append(_("Type your reply (at most {most} characters).", most=MAX_REPLY))
    rows = []
    draft = draft_of(ctx, ticket)
    if draft:
        lines += ["", "📝 " + _("Your reply, not sent yet: “{text}”", text=draft)]
        rows.append([ctx.button(_("✔ Send what I wrote"), "desk_send")])
    rows.append([ctx.button(_("✖ Cancel"), "desk_cancel")])
    return [ctx.reply("\n".join(lines), *rows)]


@router.text(DESK_REPLY)
@desk_only
async def reply_typed(ctx: Ctx, text: str) -> Replies:
    return await _send(ctx, text.strip())


@router.button(DESK_REPLY, "desk_send")
@desk_only
async def send_draft(ctx: Ctx, _arg: str) -> Replies:
    ticket = await current(ctx)
    draft = draft_of(ctx, ticket)
    if not draft:
        raise Invalid(ctx._("Please type your reply."))
    return await _send(ctx, draft)


async def _send(ctx: Ctx, text: str) -> Replies:
    """Her reply on the ticket and to the asker, or, when the ticket no longer takes it,
    kept and shown back (nothing lost)."""
    _ = ctx._
    if not text:
        raise Invalid(_("Please type your reply."))
    if len(text) > MAX_REPLY:  # a kept draft from an older limit
        raise Invalid(
            _("That message is too long. Please keep it under {limit} characters.", limit=MAX_REPLY)
        )
    ticket = await current(ctx)
    desk = ctx.repos.desk
    message = await desk.reply(ticket.id, ctx.user.key, text)
    if message is None:
        keep_draft(ctx, ticket, text)
        ticket = await current(ctx)
        note = _not_yours(ctx, ticket) + "\n" + _("What you wrote is kept below: nothing is lost.")
        return [ctx.reply(note), *await ctx.goto(DESK_TICKET)]
    asker = await desk.asker(ticket)
    if asker is not None:
        from handlers.ask import office_reply_notice

        notice = office_reply_notice(outside_of(ctx, asker), ticket, text)
        ctx.notify(asker.key, [notice], topic=f"ticket:{ticket.id}")
    drop_draft(ctx)
    done = _("✅ Sent to her ({reference}).", reference=ticket.reference)
    return [ctx.reply(done), *await ctx.goto(DESK_TICKET)]


@router.button(DESK_REPLY, "desk_cancel")
@desk_only
async def cancel_reply(ctx: Ctx, _arg: str) -> Replies:
    drop_draft(ctx)
    return [ctx.reply(ctx._("Nothing was sent.")), *await ctx.goto(DESK_TICKET)]
