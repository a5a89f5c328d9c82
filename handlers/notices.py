"""Programme notices (broadcasts): turning them off and on, and how one reads.

    /notices (any state) ─▶ on or off, [🔕 Turn notices off] or [🔔 Turn notices on],
                            [◀ Back] ─▶ the question she was at
    a notice's [📚 Open the course] / [🎪 Open the job fair] (Telegram) ─▶ that card

Notices are what staff send to many people at once (`storage.broadcasts`). Turning
them off stops only those: messages about her own sign-ups, interviews and hires go
through the outbox and still reach her.

A notice (`notice_replies`) is her language's text, a line on how to turn notices off
and, for a notice about a course or a fair, a way to open it: on Telegram a button that
works from the message itself (a navigation entry of `NOTICES`, tagged for her as
`later_entry` tags them); elsewhere a typed number would press a button of her current
screen, so the text says what to send instead (`/start course_3`).
"""

from __future__ import annotations

from handlers.context import Ctx
from handlers.conversation import navigation, state_tag
from handlers.replies import Button, Reply
from handlers.router import Invalid, Replies, Router
from locales import translator
from storage.broadcasts import text_for
from storage.models import Broadcast, User

router = Router(__name__)

#: where a notice's button opens a course or fair from (a navigation entry's origin);
#: its prompt is the /notices screen
NOTICES = router.state("NOTICES")
OPEN = "notice_open"
navigation(OPEN)


def notices_screen(ctx: Ctx) -> Reply:
    """Whether notices reach her, and the button that changes it."""
    _ = ctx._
    own = _("Messages about your own sign-ups, interviews and hires reach you either way.")
    if ctx.user.notices_off:
        text = _("🔕 Programme notices are off: you get no news of new courses and job fairs.")
        button = ctx.button(_("🔔 Turn notices on"), "notices_set", "on")
    else:
        text = _(
            "🔔 Programme notices are on: staff may send you news of new courses and job fairs."
        )
        button = ctx.button(_("🔕 Turn notices off"), "notices_set", "off")
    return ctx.reply(f"{text}\n\n{own}", [button], [ctx.button(_("◀ Back"), "back")])


@router.command("notices")
async def notices(ctx: Ctx, _arg: str) -> Replies:
    return [notices_screen(ctx)]


@router.prompt(NOTICES)
async def ask_notices(ctx: Ctx) -> Replies:
    return [notices_screen(ctx)]


@router.action("notices_set")
async def set_notices(ctx: Ctx, arg: str) -> Replies:
    """Turn notices off or on, then back to the question she was at."""
    _ = ctx._
    if arg not in ("on", "off"):
        raise Invalid(_("I don't recognise that button."))
    ctx.user.notices_off = arg == "off"
    if ctx.user.notices_off:
        done = _("Done: no more programme notices. Send /notices to turn them back on.")
    else:
        done = _("Done: programme notices will reach you again.")
    return [ctx.reply(done), *await ctx.ask()]


@router.button(NOTICES, OPEN)
async def open_from_notice(ctx: Ctx, arg: str) -> Replies:
    """A notice's button: the course or fair it is about (`course_3`, `fair_5`)."""
    kind, _sep, ident = arg.partition("_")
    opener = ctx.flows.deep_links.get(kind) if kind in ("course", "fair") else None
    if opener is None or not ident.isdecimal():
        raise Invalid(ctx._("I don't recognise that button."))
    return await opener(ctx, ident)


def notice_replies(user: User, broadcast: Broadcast) -> list[Reply]:
    """The notice as `user` reads it (her language, her platform): see the module's
    docstring."""
    _ = translator(user.lang if user.lang else "zh")
    lines = [text_for(broadcast, user.lang)]
    buttons: list[list[Button]] = []
    if button := broadcast.button:
        payload = f"{button['kind']}_{button['id']}"
        if button["kind"] == "course":
            label = _("📚 Open the course")
        else:
            label = _("🎪 Open the job fair")
        tag = state_tag(user, NOTICES) if user.consented_at is not None else None
        if user.platform == "tg" and tag is not None:
            buttons = [[Button(label, f"{tag}|{OPEN}:{payload}")]]
        else:
            command = "/start " + payload
            lines.append(_("To open it, send: {command}", command=command))
    lines.append(_("(To stop these notices, send /notices.)"))
    return [Reply("\n\n".join(lines), buttons=buttons)]
