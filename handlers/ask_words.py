"""What asking a person says (issue 13), apart from the flow itself (`handlers.ask`):
checking what she typed, a ticket's status and conversation in words, the notices to
staff, and the flood limits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from handlers.context import Ctx, Options, outside
from handlers.problems import tell_staff
from handlers.replies import Reply
from handlers.router import Invalid
from locales import Translator, translator
from storage.models import Ticket, TicketMessage, utcnow
from storage.tickets import CLOSED, MAX_QUESTION, TAKEN
from storage.workers import holds_id_number

#: the shortest question or reply, characters (`工资` is a question)
MIN_QUESTION = 2
#: new tickets one person may open in `TICKET_WINDOW` (a rolling day); beyond, she is
#: told to wait, and what she typed is kept
TICKETS_PER_DAY = 3
TICKET_WINDOW = dt.timedelta(days=1)
#: messages (questions and replies) one person may send the office in `MESSAGE_WINDOW`
MESSAGES_PER_HOUR = 10
MESSAGE_WINDOW = dt.timedelta(hours=1)
#: a message that mentions danger goes beyond `MESSAGES_PER_HOUR`, up to this many an
#: hour (a flood is still bounded)
DANGER_PER_HOUR = 30
#: every admin is alerted of an urgent ticket at most once in this time (each danger
#: message is still added to the ticket and shown to staff)
ALERT_GAP = dt.timedelta(minutes=10)
#: a screen of the conversation stays under this many characters (a message holds 4,096)
SCREEN_CHARS = 4000
#: how much of her words a staff notice quotes, and of staff's words her notice shows
STAFF_EXCERPT = 200
NOTICE_CHARS = 3000
#: what a ticket's context keeps of her last messages: how many, how long each
RECENT_KEPT = 5
RECENT_CHARS = 200


# --- her form: `ask` (the question being written), `tk` (the ticket she looks at) -------
def form_part(ctx: Ctx, key: str) -> dict[str, Any]:
    """One part of her form (`ask` or `tk`), a copy; {} when there is none."""
    found = ctx.form.get(key)
    return dict(found) if isinstance(found, dict) else {}


def set_part(ctx: Ctx, key: str, **values: Any) -> None:
    """Change some values of one part of her form."""
    ctx.remember(**{key: {**form_part(ctx, key), **values}})


def police(ctx: Ctx) -> str:
    """The emergency line, for anyone in danger now."""
    return ctx._(
        "If anyone is in danger right now, call the police: {police}.",
        police=ctx.options.emergency_phone,
    )


def checked(_: Translator, text: str) -> str:
    """Her question or reply, trimmed. Raises `Invalid` for one that is too short, too
    long (shown back to her, to copy and shorten) or holds an ID card number (never
    repeated back)."""
    text = text.strip()
    if len(text) < MIN_QUESTION:
        raise Invalid(_("Please tell us a little more: a few words are enough."))
    if holds_id_number(text):
        raise Invalid(
            _(
                "That looks like an ID card number. Please don't put it here: it is asked "
                "only once, in its own part, and is never kept whole."
            )
        )
    if len(text) > MAX_QUESTION:
        head = _(
            "That is {n} characters; please keep it to {most}. Here is what you wrote, "
            "to copy and shorten:",
            n=_.number(len(text)),
            most=_.number(MAX_QUESTION),
        )
        raise Invalid(f"{head}\n\n{text}")
    return text


def status_words(_: Translator, ticket: Ticket) -> str:
    """Where her question is, in a sentence."""
    if ticket.status == CLOSED:
        return "✔ " + _("Closed.")
    if ticket.status == TAKEN:
        return "💬 " + _("Someone at the programme office is answering it.")
    return "⏳ " + _("Waiting for someone at the programme office to take it.")


def status_label(_: Translator, ticket: Ticket) -> str:
    """Her question on a button: `Q-7K3QM · ⏳ waiting · 培训要钱吗`."""
    if ticket.status == CLOSED:
        status = "✔ " + _("closed")
    elif ticket.status == TAKEN:
        status = "💬 " + _("being answered")
    else:
        status = "⏳ " + _("waiting")
    first = (ticket.question.strip().splitlines() or [""])[0]
    if len(first) > 24:
        first = first[:24] + "…"
    return f"{ticket.reference} · {status} · {first}"


def _entry(_: Translator, options: Options, message: TicketMessage) -> str:
    who = "🙋 " + _("You") if message.author == "asker" else "🏢 " + _("Programme office")
    at = options.local(message.created_at)
    return f"{who} · {_.short_date(at.date())} {_.time(at)}\n{message.text}"


def _pieces(text: str, size: int) -> list[str]:
    """A text longer than `size` in pieces of at most `size`, at line ends where it can
    be: nothing is left out."""
    out: list[str] = []
    while len(text) > size:
        cut = text.rfind("\n", 0, size)
        cut = cut if cut > size // 2 else size
        out.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*out, text]


def thread_screens(
    _: Translator, options: Options, head: str, messages: list[TicketMessage], foot: str
) -> list[str]:
    """The conversation as texts of at most `SCREEN_CHARS`: `head`, each message with who
    wrote it and when, `foot`. Split between messages, never cutting one unless it alone
    is longer than a screen (then at its line ends); nothing is left out."""
    blocks = [head, *(_entry(_, options, m) for m in messages), foot]
    screens: list[str] = []
    current = ""
    for block in filter(None, blocks):
        for piece in _pieces(block, SCREEN_CHARS):
            joined = f"{current}\n\n{piece}" if current else piece
            if len(joined) <= SCREEN_CHARS:
                current = joined
            else:
                screens.append(current)
                current = piece
    return [*screens, current] if current else screens


def excerpt(text: str, most: int) -> str:
    return text if len(text) <= most else text[:most] + "…"


def who_words(_: Translator, role: str) -> str:
    """Who asked, for staff: a household, a job seeker or worker, staff."""
    if role == "household":
        return _("a household")
    if role in ("admin", "staff"):
        return _("programme staff")
    return _("a job seeker or worker")


def urgent_notice(_: Translator, ticket: Ticket, text: str) -> str:
    """What every admin is told of an urgent question or message (in their language)."""
    return "\n".join(
        [
            "🚨 " + _("URGENT: a question for the programme office mentions danger or violence."),
            _(
                "{reference} from {who}:",
                reference=ticket.reference,
                who=who_words(_, str((ticket.context or {}).get("role") or "")),
            ),
            f"“{excerpt(text, STAFF_EXCERPT)}”",
            _("Open “💬 Help desk” in the staff menu to take it and answer."),
        ]
    )


def holder_notice(_: Translator, ticket: Ticket, text: str) -> str:
    """What the staff member holding a ticket is told when the asker writes again."""
    return "\n".join(
        [
            "💬 " + _("{reference}: the person who asked wrote again:", reference=ticket.reference),
            f"“{excerpt(text, STAFF_EXCERPT)}”",
            _("Open “💬 Help desk” in the staff menu to answer."),
        ]
    )


def closed_by_asker_notice(_: Translator, ticket: Ticket) -> str:
    """What the staff member holding a ticket is told when the asker closes it."""
    return "✔ " + _(
        "{reference}: the person who asked closed it: it is answered.",
        reference=ticket.reference,
    )


def context_of(ctx: Ctx, back: str) -> dict[str, Any]:
    """A ticket's context for staff: who she is, where she was, her last few messages,
    her language and platform (the shape in `handlers.ask`)."""
    from handlers.staff import is_staff

    role = "admin" if ctx.is_admin else "staff" if is_staff(ctx) else ctx.user.role or ""
    recent = [str(t)[:RECENT_CHARS] for t in (ctx.user.recent or []) if t][-RECENT_KEPT:]
    return {
        "role": role,
        "state": back,
        "step": back.replace("_", " ").lower(),
        "recent": recent,
        "lang": ctx._.lang,
        "platform": ctx.user.platform,
    }


async def flood_words(ctx: Ctx, *, new_ticket: bool, danger: bool = False) -> str:
    """Why she cannot send to the office now, in words; "" when she can. Held: every
    message beyond `MESSAGES_PER_HOUR` an hour, and a new ticket (`new_ticket`) beyond
    `TICKETS_PER_DAY` a day unless its text mentions danger (`danger`: someone in danger
    must reach a person). With `danger`, the words give the emergency line too."""
    _ = ctx._
    repo, now = ctx.repos.tickets, utcnow()
    words = ""
    sent = await repo.messages_since(ctx.user, now - MESSAGE_WINDOW)
    if sent >= (DANGER_PER_HOUR if danger else MESSAGES_PER_HOUR):
        words = _(
            "You can send at most {n} messages an hour to the programme office, and you "
            "have reached that. Please wait a little, then send it again.",
            n=DANGER_PER_HOUR if danger else MESSAGES_PER_HOUR,
        )
    elif (
        new_ticket
        and not danger
        and await repo.opened_since(ctx.user, now - TICKET_WINDOW) >= TICKETS_PER_DAY
    ):
        words = _(
            "You can ask at most {n} new questions a day, and you have reached that. "
            "Please ask again tomorrow.",
            n=TICKETS_PER_DAY,
        )
    if not words:
        return ""
    lines = [words]
    if ctx.options.office_phone:
        lines.append(
            _("You can also call the programme office: {phone}.", phone=ctx.options.office_phone)
        )
    if danger:
        lines.append(
            _(
                "If anyone is in danger right now, call the police: {police}.",
                police=ctx.options.emergency_phone,
            )
        )
    return "\n".join(lines)


# --- telling staff --------------------------------------------------------------------------
async def tell_holder(ctx: Ctx, ticket: Ticket, words: Callable[[Translator], str]) -> None:
    """Tell the staff member holding `ticket`, if any, `words` made in their language
    (Chinese for one who never wrote to Haoxin), through the outbox."""
    if not ticket.holder:
        return
    holder = await ctx.repos.users.get(ticket.holder)
    still_staff = ticket.holder in ctx.options.admins or (
        holder is not None and holder.staff_base_id is not None
    )
    if not still_staff:  # her words never go to someone who is no longer staff
        return
    _ = outside(ctx.repos, holder, ctx.options)._ if holder is not None else translator("zh")
    ctx.notify(ticket.holder, [Reply(words(_))], topic=f"ticket:{ticket.id}:asker")


async def tell_admins(ctx: Ctx, ticket: Ticket, text: str) -> None:
    """An urgent question or message (`text`): every admin at once, in each one's
    language (`problems.tell_staff`); at most once in `ALERT_GAP` for one person,
    whichever of her tickets (the rest are on the tickets' screens)."""
    hers = [f"ticket:{t.id}:urgent" for t in await ctx.repos.tickets.mine(ctx.user)]
    if await ctx.repos.outbox.queued_since(hers, utcnow() - ALERT_GAP):
        return  # one alert for her, not one a ticket
    await tell_staff(
        ctx, lambda t: urgent_notice(t, ticket, text), topic=f"ticket:{ticket.id}:urgent"
    )
