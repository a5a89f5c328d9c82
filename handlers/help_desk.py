"""The help desk, staff's side (issue 13): the queue of questions people asked, one
ticket per screen, taking, replying, releasing, closing, and a ticket's answer made a
catalogue entry with one action.

    ADMIN_MENU, STAFF_MENU ─"💬 Help desk"─▶ DESK: hers, then the open ones (🚨 urgent
    first, then the oldest), then those other staff hold; 8 a page
        └─ Q-… (or its reference typed) ─▶ DESK_TICKET: who asked (role, platform,
           language: never her phone or ID), the step she was on, her last messages,
           the conversation
              ├─ 🙋 Take it (open) ─▶ hers, DESK_TICKET    (someone was first: DESK)
              ├─ ✍ Reply (hers) ─▶ DESK_REPLY ─ typed ─▶ sent to her (outbox), DESK_TICKET
              ├─ ↩ Release (hers) ─▶ open again, DESK
              ├─ ✔ Close (hers; an admin: any) ─▶ she is told, DESK_TICKET (closed)
              ├─ 📌 Add to the catalogue (once it has a staff reply; once) ─▶ DESK_TICKET
              └─ ◀ Back ─▶ DESK

Who: programme admins see every ticket; a training base's staff those about her base
(`handlers.staff.staff_base`). The states are declared `staff` (the core asks on every
event) and every prompt and action asks again (`desk_only`, as `staff_only`); a ticket
outside her base, reached in any way, is refused.

Two staff, two instances: taking, replying, releasing, closing and cataloguing are each
one conditional UPDATE (`storage.help_desk.DeskRepo`): the second of two is told what
happened. A reply that could not be sent (the ticket was closed, released or is held by
another meanwhile) is kept in her form (`desk_draft`) and shown back: nothing is lost.
This module holds the queue and what the screens share; the ticket's screen is
`handlers.help_desk_ticket`, the reply and the catalogue action
`handlers.help_desk_reply` (both on this router).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from handlers import typed
from handlers.context import Ctx, outside
from handlers.replies import MAX_TEXT, Button
from handlers.router import Invalid, Replies, Router
from handlers.staff import staff_base
from handlers.vetting import allowed, refuse
from locales import LANGUAGES, Translator, language_name
from storage.help_desk import QueueLine
from storage.models import Ticket, utcnow

log = logging.getLogger(__name__)

router = Router(__name__)

DESK = router.state("DESK", staff=True)
DESK_TICKET = router.state("DESK_TICKET", staff=True)
#: the longest staff reply, characters
MAX_REPLY = 2000
DESK_REPLY = router.state("DESK_REPLY", staff=True, max_input=MAX_REPLY)

typed.no_search(DESK, DESK_TICKET, DESK_REPLY)

#: tickets on one page of the queue
PAGE = 8
#: the first words of a question on the queue, characters
FIRST_WORDS = 40
#: the conversation's messages on a ticket's screen, and how much of each
THREAD = 12
MESSAGE_EXCERPT = 600
#: room left on a screen for the text (buttons and a line of news go with it)
TEXT_ROOM = MAX_TEXT - 300

H = TypeVar("H", bound=Callable[..., Awaitable[Replies]])


# --- who may be here ------------------------------------------------------------------
def desk_only(fn: H) -> H:
    """Wrap a prompt or handler of the help desk: asked first, on every call, whether
    she is staff now (`handlers.vetting.allowed`), else refused (`refuse`) with the help
    desk's part of her form dropped."""

    @functools.wraps(fn)
    async def checked(ctx: Ctx, *args: Any, **kwargs: Any) -> Replies:
        if not allowed(ctx):
            ctx.user.form = {k: v for k, v in ctx.form.items() if not k.startswith("desk_")}
            return await refuse(ctx)
        return await fn(ctx, *args, **kwargs)

    return checked  # type: ignore[return-value]


def desk_label(ctx: Ctx) -> str:
    """The staff menus' entry."""
    return ctx._("💬 Help desk")


def not_on_desk(ctx: Ctx) -> str:
    return ctx._("That question is not on your help desk.")


async def visible(ctx: Ctx, ticket_id: int | str | None) -> Ticket:
    """The ticket she may see (an admin: any; a base's staff: her base's), as it is
    now. Raises `Invalid` for another (logged by ids, without what it says)."""
    ticket = await ctx.repos.desk.get(ticket_id)
    if ticket is None:
        raise Invalid(not_on_desk(ctx))
    if not ctx.repos.desk.may_see(ticket, staff_base(ctx)):
        log.warning("refused a help-desk ticket of another base: user %s", ctx.user.id)
        raise Invalid(not_on_desk(ctx))
    return ticket


async def current(ctx: Ctx) -> Ticket:
    """The ticket on her screen (`desk_ticket` in her form), checked as `visible`."""
    return await visible(ctx, ctx.form.get("desk_ticket"))


def draft_of(ctx: Ctx, ticket: Ticket) -> str:
    """Her reply to this ticket that was not sent yet (kept in her form), or ""."""
    draft = ctx.form.get("desk_draft")
    if isinstance(draft, dict) and draft.get("ticket") == ticket.id:
        return str(draft.get("text") or "")
    return ""


def keep_draft(ctx: Ctx, ticket: Ticket, text: str) -> None:
    ctx.remember(desk_draft={"ticket": ticket.id, "text": text})


def drop_draft(ctx: Ctx) -> None:
    ctx.user.form = {k: v for k, v in ctx.form.items() if k != "desk_draft"}


# --- words ----------------------------------------------------------------------------
def cut(text: str, most: int) -> str:
    return text if len(text) <= most else text[:most].rstrip() + "…"


def first_words(text: str) -> str:
    """The start of a question, on one line."""
    return cut(" ".join(text.split()), FIRST_WORDS)


def age_words(_: Translator, since: dt.datetime, now: dt.datetime | None = None) -> str:
    """How long ago, short: `5 min`, `3 h`, `2 d`."""
    minutes = max(int(((now or utcnow()) - since).total_seconds() // 60), 0)
    if minutes < 60:
        return _("{n} min", n=minutes)
    if minutes < 48 * 60:
        return _("{n} h", n=minutes // 60)
    return _("{n} d", n=minutes // (24 * 60))


def ticket_lang(ticket: Ticket) -> str:
    """The language she asked in (`zh` when the ticket does not say)."""
    lang = (ticket.context or {}).get("lang")
    return lang if lang in LANGUAGES else "zh"


def role_words(_: Translator, role: str) -> str:
    """Who asked, by the role in the ticket's context (`seeker`, `household`, `admin`,
    `staff`)."""
    words = {
        "seeker": _("a job seeker or worker"),
        "worker": _("a job seeker or worker"),
        "household": _("a household"),
        "admin": _("a programme admin"),
        "staff": _("a training base's staff member"),
    }
    return words.get(role, role or "—")


def platform_words(_: Translator, platform: str) -> str:
    words = {"tg": _("Telegram"), "wx": _("WeChat"), "console": _("the terminal")}
    return words.get(platform, platform or "—")


async def may_catalogue(ctx: Ctx, ticket: Ticket) -> bool:
    """Whether the catalogue action is hers here: the ticket was never made into an
    entry, has a staff reply, and she is a programme admin (what the catalogue says,
    everyone reads: a base's staff answer their base's questions only)."""
    if ticket.faq_key or not ctx.is_admin:
        return False
    return await ctx.repos.desk.last_staff_reply(ticket.id) is not None


def outside_of(ctx: Ctx, user: Any) -> Ctx:
    """A context for the asker (her language), to write what she is sent."""
    return outside(ctx.repos, user, ctx.options)


# --- the queue ------------------------------------------------------------------------
def _page(ctx: Ctx) -> int:
    page = ctx.form.get("desk_page")
    return page if isinstance(page, int) and page >= 0 else 0


@router.prompt(DESK)
@desk_only
async def show_desk(ctx: Ctx) -> Replies:
    _ = ctx._
    desk, key, base = ctx.repos.desk, ctx.user.key, staff_base(ctx)
    counts = await desk.counts(key, base)
    total = counts["mine"] + counts["open"] + counts["others"]
    pages = max((total + PAGE - 1) // PAGE, 1)
    page = min(_page(ctx), pages - 1)
    ctx.remember(desk_page=page)
    lines = [desk_label(ctx)]
    if base is not None and (found := await ctx.repos.staff.base(base)) is not None:
        lines.append(_("Questions about {base}", base=_.text(found.name, found.name_en)))
    if not total:
        lines.append(_("No questions are waiting."))
    else:
        lines.append(
            _(
                "Yours: {mine} · open: {open} ({urgent} urgent) · taken by other staff: {others}",
                **counts,
            )
        )
    rows: list[list[Button]] = []
    shown = await desk.queue(key, base, offset=page * PAGE, limit=PAGE)
    group = ""
    for line in shown:
        if line.group != group:
            group = line.group
            lines += ["", _group_title(ctx, group)]
        lines.append(_queue_line(ctx, line))
    buttons = [_ticket_button(ctx, line) for line in shown]
    rows += [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    if pages > 1:
        lines += ["", _("Page {page} of {pages}", page=page + 1, pages=pages)]
        turn = []
        if page > 0:
            turn.append(ctx.button(_("◀ Earlier page"), "desk_page", page - 1))
        if page + 1 < pages:
            turn.append(ctx.button(_("Next page ▶"), "desk_page", page + 1))
        rows.append(turn)
    rows.append([ctx.button(_("🔄 Refresh"), "desk_refresh"), ctx.button(_("◀ Main menu"), "home")])
    return [ctx.reply("\n".join(lines), *rows)]


def _group_title(ctx: Ctx, group: str) -> str:
    _ = ctx._
    titles = {
        "mine": "🙋 " + _("Yours:"),
        "open": "📥 " + _("Open, urgent ones first, then the oldest:"),
        "others": "👥 " + _("Taken by other staff:"),
    }
    return titles[group]


def _queue_line(ctx: Ctx, line: QueueLine) -> str:
    _ = ctx._
    ticket = line.ticket
    parts = [
        ("🚨 " if ticket.urgent else "") + ticket.reference,
        age_words(_, ticket.created_at),
        language_name(ticket_lang(ticket)),
    ]
    if line.group == "others":
        parts.append(ticket.holder)
    return " · ".join(parts) + f" · “{first_words(ticket.question)}”"


def _ticket_button(ctx: Ctx, line: QueueLine) -> Button:
    ticket = line.ticket
    label = ("🚨 " if ticket.urgent else "") + ticket.reference
    return ctx.button(label, "desk_ticket", ticket.id)


@router.text(DESK)
@desk_only
async def reference_typed(ctx: Ctx, text: str) -> Replies:
    """A reference typed (`q-7k3qm`) opens that ticket."""
    ticket = await ctx.repos.desk.by_reference(text, staff_base(ctx))
    if ticket is None:
        raise Invalid(ctx._("Tap a question, or type its reference (like Q-7K3QM)."))
    return await open_ticket(ctx, str(ticket.id))


@router.button(DESK, "desk_ticket")
@desk_only
async def open_ticket(ctx: Ctx, arg: str) -> Replies:
    ticket = await visible(ctx, arg)
    ctx.remember(desk_ticket=ticket.id)
    return await ctx.goto(DESK_TICKET)


@router.button(DESK, "desk_page")
@desk_only
async def turn_page(ctx: Ctx, arg: str) -> Replies:
    if not arg.isdecimal():
        raise Invalid(ctx._("I don't recognise that button."))
    ctx.remember(desk_page=int(arg))
    return await ctx.ask()


@router.button(DESK, "desk_refresh")
@desk_only
async def refresh(ctx: Ctx, _arg: str) -> Replies:
    return await ctx.ask()


async def back_to_desk(ctx: Ctx, *notes: str) -> Replies:
    """The queue again, with `notes` first; the ticket's part of her form dropped."""
    ctx.user.form = {k: v for k, v in ctx.form.items() if k != "desk_ticket"}
    return [*(ctx.reply(n) for n in notes if n), *await ctx.goto(DESK)]


router.goes("desk_back", DESK, DESK_TICKET)

# the ticket's screen, the reply and the catalogue action register on `router` as they load
from handlers import help_desk_faq, help_desk_reply, help_desk_ticket  # noqa: E402, F401
