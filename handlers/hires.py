"""Interviews and hires, for either side: the list, and the notices that lead to it.

    🤝 Interviews and hires (either menu; a notice's button) ─▶ JOBS: her interviews and
        hires, those waiting for her first ─a row─▶ that interview or hire
        (`handlers.interview_answers`, `handlers.hire_view`)

A notice about an interview or a hire (`jobs_notice`) says where to look; on Telegram it
carries a button that opens this list from the notice itself (`later_entry`).
"""

from __future__ import annotations

from handlers.context import Ctx
from handlers.conversation import later_entry
from handlers.replies import Reply
from handlers.router import Replies, Router

router = Router(__name__)

JOBS = router.state("JOBS")


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
    reply = Reply(f"{text}\n\n{where}")
    if ctx.user.platform == "tg":
        button = later_entry(ctx.user, JOBS, jobs_label(ctx), "jobs")
        if button is not None:
            reply.buttons = [[button]]
    return reply


@router.action("jobs")
async def open_jobs(ctx: Ctx, _arg: str) -> Replies:
    return await ctx.goto(JOBS)


#: the most interviews and hires the list shows
MAX_LISTED = 20


@router.prompt(JOBS)
async def show_jobs(ctx: Ctx) -> Replies:
    from handlers.hire_view import hire_title
    from handlers.interview_answers import interview_title

    _ = ctx._
    ctx.remember(iv={}, iv_open=None, hire_open=None)
    hires = await ctx.repos.hiring.hires_of(ctx.user, MAX_LISTED)
    interviews = await ctx.repos.hiring.interviews_of(ctx.user, MAX_LISTED)
    rows = [[ctx.button(await hire_title(ctx, h), "hire", h.id)] for h in hires]
    rows += [[ctx.button(await interview_title(ctx, i), "iv", i.id)] for i in interviews]
    home = [ctx.button(_("◀ Main menu"), "home")]
    if not rows:
        return [ctx.reply(_("🤝 You have no interviews or hires yet."), home)]
    text = _("🤝 Your interviews and hires. Tap one to see it and answer.")
    return [ctx.reply(text, *rows[:MAX_LISTED], home)]


@router.button(JOBS, "iv")
async def interview_from_list(ctx: Ctx, arg: str) -> Replies:
    from handlers.interview_answers import open_interview

    return await open_interview(ctx, arg)
