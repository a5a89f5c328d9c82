"""Her questions to the programme office (issue 13): the list, one question's
conversation, her answers in it, closing it; a reply to a closed one is kept and can
be asked again as a new question. The states are declared in `handlers.ask` (on its
router); the diagram is there too.
"""

from __future__ import annotations

import logging

from handlers.ask import MY_TICKETS, TK_CLOSED, TK_REPLY, TK_VIEW, router, start_ticket
from handlers.ask_words import (
    checked,
    closed_by_asker_notice,
    flood_words,
    form_part,
    holder_notice,
    police,
    set_part,
    status_label,
    status_words,
    tell_admins,
    tell_holder,
    thread_screens,
)
from handlers.context import Ctx
from handlers.danger import urgent
from handlers.router import Invalid, Replies
from storage.models import Ticket
from storage.tickets import CLOSED, MAX_QUESTION

log = logging.getLogger(__name__)

#: where the "❓ Questions and help" screen is (`handlers.questions`): MY_TICKETS goes
#: back to it (to her main menu while there is none)
QUESTIONS = "QUESTIONS"
#: the most tickets her list shows
MAX_LISTED = 20


# --- her questions --------------------------------------------------------------------------
@router.prompt(MY_TICKETS)
async def my_tickets(ctx: Ctx) -> Replies:
    _ = ctx._
    ctx.user.form = {k: v for k, v in ctx.form.items() if k != "tk"}
    tickets = await ctx.repos.tickets.mine(ctx.user, MAX_LISTED)
    rows = [[ctx.button(status_label(_, t), "my_ticket", t.id)] for t in tickets]
    rows += [
        [ctx.button(_("✍ Ask a new question"), "ask_new")],
        [ctx.button(_("◀ Back"), "back")],
    ]
    if not tickets:
        text = _("You have not asked the programme office anything yet.")
    else:
        text = _("Your questions to the programme office, newest first. Tap one to see it.")
    return [ctx.reply("💬 " + text, *rows)]


@router.button(MY_TICKETS, "back")
async def tickets_back(ctx: Ctx, _arg: str) -> Replies:
    if QUESTIONS in ctx.flows.states:
        return await ctx.goto(QUESTIONS)
    from handlers.menus import home_state

    return await ctx.goto(home_state(ctx))


async def ask_new(ctx: Ctx, _arg: str) -> Replies:
    return await start_ticket(ctx, back=MY_TICKETS)


for _state in (MY_TICKETS, TK_VIEW):
    router.button(_state, "ask_new")(ask_new)


@router.action("my_ticket")
async def open_ticket(ctx: Ctx, arg: str) -> Replies:
    """One of her tickets (no id: her list). Another's id, or a guess, is refused like
    a forged button."""
    if not arg:
        return await ctx.goto(MY_TICKETS)
    ticket = await ctx.repos.tickets.get(ctx.user, arg)
    if ticket is None:
        ctx.user.refused_presses = (ctx.user.refused_presses or 0) + 1
        log.info("refused a ticket button that is not hers")
        raise Invalid(ctx._("I don't recognise that button."))
    ctx.remember(tk={"id": ticket.id})
    return await ctx.goto(TK_VIEW)


async def _ticket(ctx: Ctx) -> Ticket | None:
    return await ctx.repos.tickets.get(ctx.user, form_part(ctx, "tk").get("id"))


@router.prompt(TK_VIEW)
async def view(ctx: Ctx) -> Replies:
    _ = ctx._
    ticket = await _ticket(ctx)
    if ticket is None:
        return await ctx.goto(MY_TICKETS)
    messages = await ctx.repos.tickets.messages(ticket)
    head = f"💬 {ticket.reference} · {status_words(_, ticket)}"
    if ticket.status == CLOSED:
        foot = _("This question is closed. If you need more help, ask a new question.")
        rows = [[ctx.button(_("✍ Ask a new question"), "ask_new")]]
    else:
        foot = _("Type your answer here, or tap “✍ Reply”.")
        rows = [
            [ctx.button(_("✍ Reply"), "reply")],
            [ctx.button(_("✔ It's answered, close it"), "close")],
        ]
    rows.append([ctx.button(_("◀ Back"), "back")])
    screens = thread_screens(_, ctx.options, head, messages, foot)
    return [*(ctx.reply(s) for s in screens[:-1]), ctx.reply(screens[-1], *rows)]


router.goes("back", MY_TICKETS, TK_VIEW)
router.goes("reply", TK_REPLY, TK_VIEW)


@router.prompt(TK_REPLY)
async def ask_reply(ctx: Ctx) -> Replies:
    _ = ctx._
    ticket = await _ticket(ctx)
    if ticket is None:
        return await ctx.goto(MY_TICKETS)
    lines = [
        "✍ "
        + _(
            "Your answer to {reference}: type it (at most {most} characters).",
            reference=ticket.reference,
            most=_.number(MAX_QUESTION),
        )
    ]
    rows = []
    if written := form_part(ctx, "tk").get("text"):
        lines += ["", _("You wrote: “{text}”", text=written)]
        rows.append([ctx.button(_("✔ Keep what I wrote"), "keep")])
    rows.append([ctx.button(_("✖ Cancel"), "cancel")])
    return [ctx.reply("\n".join(lines), *rows)]


async def _reply(ctx: Ctx, text: str) -> Replies:
    """Her answer in her ticket's conversation: added while it is not closed (then the
    holder is told); closed: TK_CLOSED, with what she wrote kept."""
    _ = ctx._
    text = checked(_, text)
    ticket = await _ticket(ctx)
    if ticket is None:
        return await ctx.goto(MY_TICKETS)
    if ticket.status == CLOSED:
        set_part(ctx, "tk", text=text)
        return await ctx.goto(TK_CLOSED)
    danger = urgent(text)
    limited = await flood_words(ctx, new_ticket=False, danger=danger)
    if limited:
        set_part(ctx, "tk", text=text)
        return [ctx.reply(limited), *await ctx.goto(TK_REPLY)]
    added = await ctx.repos.tickets.add_message(ctx.user, ticket.id, text, urgent=danger)
    if added is None:  # closed meanwhile, by staff on another instance
        set_part(ctx, "tk", text=text)
        return await ctx.goto(TK_CLOSED)
    ctx.remember(tk={"id": added.id})
    await tell_holder(ctx, added, lambda t: holder_notice(t, added, text))
    words = [_("✅ Added to your question {reference}.", reference=added.reference)]
    if danger:
        await tell_admins(ctx, added, text)
        words.append(police(ctx))
    return [ctx.reply("\n".join(words)), *await ctx.goto(TK_VIEW)]


router.text(TK_VIEW)(_reply)
router.text(TK_REPLY)(_reply)


@router.button(TK_REPLY, "keep")
async def keep_reply(ctx: Ctx, _arg: str) -> Replies:
    written = str(form_part(ctx, "tk").get("text") or "")
    if not written:
        raise Invalid(ctx._("Please type your answer."))
    return await _reply(ctx, written)


router.goes("cancel", TK_VIEW, TK_REPLY)


@router.button(TK_VIEW, "close")
async def close(ctx: Ctx, _arg: str) -> Replies:
    _ = ctx._
    closed = await ctx.repos.tickets.close(ctx.user, form_part(ctx, "tk").get("id") or 0)
    if closed is None:
        raise Invalid(_("This question is closed already."))
    await tell_holder(ctx, closed, lambda t: closed_by_asker_notice(t, closed))
    done = _("✔ Closed. Thank you! If you need more help, you can ask again at any time.")
    return [ctx.reply(done), *await ctx.goto(TK_VIEW)]


@router.prompt(TK_CLOSED)
async def closed_screen(ctx: Ctx) -> Replies:
    _ = ctx._
    ticket = await _ticket(ctx)
    written = form_part(ctx, "tk").get("text")
    if ticket is None or not written:
        return await ctx.goto(MY_TICKETS if ticket is None else TK_VIEW)
    lines = [
        _(
            "This question ({reference}) is closed, so nothing more can be added to it.",
            reference=ticket.reference,
        ),
        _("You can ask it as a new question: what you wrote is kept."),
        "",
        _("You wrote: “{text}”", text=written),
    ]
    return [
        ctx.reply(
            "\n".join(lines),
            [ctx.button(_("❓ Ask again with what I wrote"), "again")],
            [ctx.button(_("◀ Back"), "back")],
        )
    ]


@router.button(TK_CLOSED, "again")
async def ask_again(ctx: Ctx, _arg: str) -> Replies:
    written = str(form_part(ctx, "tk").get("text") or "")
    set_part(ctx, "tk", text="")
    return await start_ticket(ctx, question=written, back=MY_TICKETS)


router.goes("back", TK_VIEW, TK_CLOSED)
