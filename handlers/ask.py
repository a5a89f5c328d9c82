"""Asking a person at the programme office (issue 13): the person's side.

    "👤 Ask a person" or a failed answer ─start_ticket(ctx, question=…, back=…)─┐
        no question: ASK_TEXT (typed, 2-1,000 characters) ─▶ ASK_CONFIRM ◀──────┘
        ASK_CONFIRM ─✅ Send─▶ a ticket `Q-7K3QM` (or, with one going on, a message
            added to it), her reference and when to expect an answer ─▶ `back`
                    ├─✏ Change it─▶ ASK_TEXT (what she wrote is kept: ✔ Keep)
        ✖ Cancel on either ─▶ nothing sent ─▶ `back` (her form as it was)

    MY_TICKETS (newest first) ─a ticket─▶ TK_VIEW (the conversation; typing answers)
        TK_VIEW ─✍ Reply─▶ TK_REPLY ─typed─▶ added ─▶ TK_VIEW
                ─✔ It's answered, close it─▶ closed ─▶ TK_VIEW
        a reply to a closed ticket ─▶ TK_CLOSED ─❓ Ask again with it─▶ ASK_CONFIRM

One ticket going on at a time: a new question while one is open or taken joins it as
a message. Flood limits (`handlers.ask_words`): `TICKETS_PER_DAY` new tickets a day and
`MESSAGES_PER_HOUR` messages an hour; beyond, she is told why and what she typed stays
in her form (`ask_draft`, or the reply's draft), shown again with "✔ Keep what I wrote"
when she comes back. A question that mentions danger (`handlers.danger.urgent`) makes the
ticket urgent: every admin is told at once, and she is given the emergency line.

What she types on ASK_TEXT, TK_VIEW and TK_REPLY is always for the person, even when
the catalogue could answer it (`questions.free_text`).

`my_ticket` (a ticket id) opens one of HER tickets from anywhere, an earlier message
or a notice of the office's reply included (`later_entry`); another's id is refused
like a forged button. Staff's side (taking, answering, closing) is `handlers.help_desk`;
what she receives from it is `office_reply_notice` and `closed_notice`.

A ticket's `context`: {"role", "state" (where she was: `back`), "step" (the same in
words), "recent" (her last few messages), "lang", "platform"}; `base_id`: the training
base of her latest sign-up's course (its staff may see the ticket), else None.
"""

from __future__ import annotations

from typing import Any

from handlers import typed
from handlers.ask_words import (
    NOTICE_CHARS,
    checked,
    context_of,
    excerpt,
    flood_words,
    form_part,
    holder_notice,
    police,
    set_part,
    tell_admins,
    tell_holder,
)
from handlers.context import Ctx
from handlers.conversation import later_entry, navigation
from handlers.danger import urgent as is_urgent
from handlers.office import expect_words
from handlers.questions import free_text
from handlers.replies import Reply
from handlers.router import Invalid, Replies, Router
from storage.models import Ticket
from storage.tickets import MAX_QUESTION
from storage.workers import holds_id_number

router = Router(__name__)

#: a refused text is shown back to her whole: the state takes texts this long
_SHOWN_BACK = 3 * MAX_QUESTION

ASK_TEXT = router.state("ASK_TEXT", personal=True, max_input=_SHOWN_BACK)
ASK_CONFIRM = router.state("ASK_CONFIRM", personal=True)
MY_TICKETS = router.state("MY_TICKETS")
TK_VIEW = router.state("TK_VIEW", personal=True, max_input=_SHOWN_BACK)
TK_REPLY = router.state("TK_REPLY", personal=True, max_input=_SHOWN_BACK)
TK_CLOSED = router.state("TK_CLOSED", personal=True)

typed.no_search(ASK_CONFIRM, MY_TICKETS, TK_CLOSED)
free_text(ASK_TEXT, TK_VIEW, TK_REPLY)  # a question typed there is for the person
navigation("my_ticket")


def _keepable(text: str) -> str:
    """What of a refused text stays in her form: all of it, unless it holds an ID card
    number (never kept) or is longer than any screen shows back."""
    text = text.strip()
    return "" if holds_id_number(text) or len(text) > _SHOWN_BACK else text


async def _leave(ctx: Ctx, *notes: str, draft: str = "") -> Replies:
    """Back to where she asked from, the question's form dropped (`draft`: what she
    typed, kept for when she asks again)."""
    back = str(form_part(ctx, "ask").get("back") or "")
    ctx.user.form = {k: v for k, v in ctx.form.items() if k not in ("ask", "ask_draft")}
    if draft := _keepable(draft):
        ctx.remember(ask_draft=draft)
    if back not in ctx.flows.states:
        from handlers.menus import home_state

        back = home_state(ctx)
    return [*(ctx.reply(n) for n in notes if n), *await ctx.goto(back)]


# --- asking -----------------------------------------------------------------------------------
async def start_ticket(ctx: Ctx, *, question: str = "", back: str, urgent: bool = False) -> Replies:
    """Open asking a person; come back to the state `back` when sent or cancelled (her
    form kept as it was). `urgent`: from the emergency screen, the ticket is urgent
    whatever she then writes. With `question` (what she asked that had no answer), the
    confirm screen shows it; without, she is asked to type it (what she typed earlier
    and could not send is offered again). Beyond the flood limits she is told (at once
    when nothing could be sent) and is back at `back`, what she typed kept."""
    _ = ctx._
    if back in (ASK_TEXT, ASK_CONFIRM):  # asked again from these screens: where before
        back = str(form_part(ctx, "ask").get("back") or "")
    earlier = str(ctx.form.get("ask_draft") or "")
    ctx.user.form = {k: v for k, v in ctx.form.items() if k != "ask_draft"}
    ctx.remember(ask={"back": back, "urgent": urgent})
    draft = question.strip() or earlier
    going_on = await ctx.repos.tickets.current(ctx.user)
    # told at once what cannot go: beyond the hourly limit nothing, beyond the daily one
    # the question given; what she types may mention danger, which goes through
    danger = urgent or is_urgent(question) if question.strip() else True
    limited = await flood_words(ctx, new_ticket=going_on is None, danger=danger)
    if limited:
        return await _leave(ctx, limited, draft=draft)
    if not draft:
        return await ctx.goto(ASK_TEXT)
    try:
        text = checked(_, draft)
    except Invalid as bad:  # shown back (an ID card number never): she types it again
        return [ctx.reply(bad.message), *await ctx.goto(ASK_TEXT)]
    set_part(ctx, "ask", text=text)
    return await ctx.goto(ASK_CONFIRM if question.strip() else ASK_TEXT)


@router.prompt(ASK_TEXT)
async def ask_text(ctx: Ctx) -> Replies:
    _ = ctx._
    form = form_part(ctx, "ask")
    if not form:
        return await _leave(ctx)
    lines = [
        "👤 " + _("Ask a person at the programme office"),
        "",
        _(
            "Type your question in your own words (at most {most} characters). Programme "
            "office staff read it and answer you here, in this chat.",
            most=_.number(MAX_QUESTION),
        ),
    ]
    going_on = await ctx.repos.tickets.current(ctx.user)
    if going_on is not None:
        lines.append(
            _(
                "It will be added to your question {reference}, which is still open.",
                reference=going_on.reference,
            )
        )
    lines.append(police(ctx))
    rows = []
    if written := form.get("text"):
        lines += ["", _("You wrote: “{text}”", text=written)]
        rows.append([ctx.button(_("✔ Keep what I wrote"), "keep")])
    rows.append([ctx.button(_("✖ Cancel"), "cancel")])
    return [ctx.reply("\n".join(lines), *rows)]


@router.text(ASK_TEXT)
async def question_typed(ctx: Ctx, text: str) -> Replies:
    set_part(ctx, "ask", text=checked(ctx._, text))
    return await ctx.goto(ASK_CONFIRM)


@router.button(ASK_TEXT, "keep")
async def keep_question(ctx: Ctx, _arg: str) -> Replies:
    if not form_part(ctx, "ask").get("text"):
        raise Invalid(ctx._("Please type your question."))
    return await ctx.goto(ASK_CONFIRM)


@router.prompt(ASK_CONFIRM)
async def ask_confirm(ctx: Ctx) -> Replies:
    _ = ctx._
    form = form_part(ctx, "ask")
    written = form.get("text")
    if not written:
        return await ctx.goto(ASK_TEXT) if form else await _leave(ctx)
    going_on = await ctx.repos.tickets.current(ctx.user)
    if going_on is not None:
        head = _("Add this to your question {reference}?", reference=going_on.reference)
    else:
        head = _("Send this question to the programme office?")
    return [
        ctx.reply(
            f"{head}\n\n“{written}”",
            [ctx.button(_("✅ Send to the programme office"), "send")],
            [ctx.button(_("✏ Change it"), "change"), ctx.button(_("✖ Cancel"), "cancel")],
        )
    ]


router.goes("change", ASK_TEXT, ASK_CONFIRM)


@router.button(ASK_CONFIRM, "send")
async def send(ctx: Ctx, _arg: str) -> Replies:
    _ = ctx._
    form = form_part(ctx, "ask")
    text = str(form.get("text") or "")
    if not text:
        raise Invalid(_("Please type your question."))
    text = checked(_, text)
    danger = is_urgent(text) or bool(form.get("urgent"))
    repo = ctx.repos.tickets
    going_on = await repo.current(ctx.user)
    limited = await flood_words(ctx, new_ticket=going_on is None, danger=danger)
    if limited:
        return await _leave(ctx, limited, draft=text)
    ticket = None
    if going_on is not None:  # closed meanwhile (not hers to add to): a new ticket instead
        ticket = await repo.add_message(ctx.user, going_on.id, text, urgent=danger)
    if ticket is not None:
        await tell_holder(ctx, ticket, lambda t: holder_notice(t, ticket, text))
        words = [_("✅ Added to your question {reference}.", reference=ticket.reference)]
    else:
        if going_on is not None and (
            limited := await flood_words(ctx, new_ticket=True, danger=danger)
        ):
            return await _leave(ctx, limited, draft=text)
        back = str(form.get("back") or "")
        ticket = await repo.open(
            ctx.user,
            text,
            context_of(ctx, back),
            # a safety report is the programme office's, not a base's
            base_id=None if danger else await repo.latest_base(ctx.user),
            urgent=danger,
        )
        words = [
            _(
                "✅ Sent to the programme office. Your reference number is {reference}: "
                "please keep it, and give it if you call us.",
                reference=ticket.reference,
            )
        ]
    if danger:
        await tell_admins(ctx, ticket, text)
        words.append(police(ctx))
    words.append(expect_words(_, ctx.options, emergency=not danger))
    words.append(_("The answer will come here, in this chat."))
    return await _leave(ctx, "\n".join(words))


async def cancel(ctx: Ctx, _arg: str) -> Replies:
    return await _leave(ctx, ctx._("Nothing was sent."))


for _state in (ASK_TEXT, ASK_CONFIRM):
    router.button(_state, "cancel")(cancel)


# --- what she receives from the help desk -------------------------------------------------
def _later(ctx: Ctx, ticket: Ticket, label: str) -> list[list[Any]]:
    """On Telegram, a button that opens the conversation from a message sent later;
    elsewhere none (a typed number would press a button of her current screen): the
    message says where to find it instead."""
    if ctx.user.platform != "tg":
        return []
    button = later_entry(ctx.user, TK_VIEW, label, f"my_ticket:{ticket.id}")
    return [] if button is None else [[button]]


def office_reply_notice(ctx: Ctx, ticket: Ticket, text: str) -> Reply:
    """The message the asker gets when staff answer (`ctx` from `outside` for her, so
    in her language): from the programme office, with the reference; on Telegram a
    button that opens the conversation, elsewhere where to find it."""
    _ = ctx._
    rows = _later(ctx, ticket, _("✍ See it and answer"))
    head = _("The programme office answered your question {reference}:", reference=ticket.reference)
    lines = ["🏢 " + head, "", excerpt(text, NOTICE_CHARS)]
    if not rows:
        lines += [
            "",
            _(
                "To see it and answer, open “❓ Questions and help” from your main menu, "
                "then “📨 My questions to the office”."
            ),
        ]
    return Reply("\n".join(lines), buttons=rows)


def closed_notice(ctx: Ctx, ticket: Ticket) -> Reply:
    """The message the asker gets when staff close her ticket (`ctx` from `outside`)."""
    _ = ctx._
    rows = _later(ctx, ticket, _("💬 See the conversation"))
    lines = [
        "✔ "
        + _(
            "The programme office closed your question {reference}. If you need more "
            "help, you can ask again at any time.",
            reference=ticket.reference,
        )
    ]
    if not rows:
        lines.append(
            _(
                "To see the conversation, open “❓ Questions and help” from your main menu, "
                "then “📨 My questions to the office”."
            )
        )
    return Reply("\n".join(lines), buttons=rows)


# her questions' screens (MY_TICKETS, TK_VIEW, TK_REPLY, TK_CLOSED), on this router
from handlers import ask_tickets  # noqa: E402, F401
