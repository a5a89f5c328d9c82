"""Interviews and hires, for either side: the list, and the notices that lead to it.

    🤝 Interviews and hires (either menu; a notice's button) ─▶ JOBS: her interviews and
        hires, those waiting for her first ─a row─▶ that interview or hire
        (`handlers.interviews`, `handlers.hiring`)

A notice about an interview or a hire (`jobs_notice`) says where to look; on Telegram it
carries a button that opens this list from the notice itself (`later_entry`).
"""

from __future__ import annotations

from handlers.context import Ctx
from handlers.conversation import later_entry
from handlers.replies import Reply
from handlers.router import Replies, Router

router = Router(__name__)

JOBS = router.state("JOBS", personal=True)


def jobs_label(ctx: Ctx) -> str:
    """The menu entry's label (both menus)."""
    return ctx._("🤝 Interviews and hires")


def jobs_notice(ctx: Ctx, text: str) -> Reply:
    """A message for `ctx.user` sent later (`ctx` from `handlers.context.outside`, so in
    her language): `text`, then where to answer. On Telegram a button opens her
    interviews and hires from the message; elsewhere a typed number would press a
    button of her current screen, so none is given and the text says where to go."""
    _ = ctx._
    where = _("Open “{entry}” from your main menu.", entry=jobs_label(ctx))
    reply = Reply(_.sentences([text, where]))
    if ctx.user.platform == "tg":
        button = later_entry(ctx.user, JOBS, jobs_label(ctx), "jobs")
        if button is not None:
            reply.buttons = [[button]]
    return reply


@router.action("jobs")
async def open_jobs(ctx: Ctx, _arg: str) -> Replies:
    return await ctx.goto(JOBS)


@router.prompt(JOBS)
async def show_jobs(ctx: Ctx) -> Replies:
    _ = ctx._
    return [
        ctx.reply(
            _("🤝 You have no interviews or hires yet."), [ctx.button(_("◀ Main menu"), "home")]
        )
    ]
