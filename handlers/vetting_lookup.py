"""Looking a worker up, for staff: by her credential code or her profile number, to
reach a profile that is not waiting in the queue (to suspend her, say).

    VETTING ─🔎 Look up a worker─▶ VET_LOOKUP ─her code or number─▶ VETTING (her profile)

Opened from the vetting screen (`handlers.vetting`, on its router); like every staff
screen, each prompt and action asks `is_staff` first.
"""

from __future__ import annotations

from handlers.context import Ctx
from handlers.router import Invalid, Replies
from handlers.vetting import VET_LOOKUP, VETTING, may_vet, router, show_next, staff_only
from storage.workers import read_code


@router.button(VETTING, "lookup")
@staff_only
async def open_lookup(ctx: Ctx, _arg: str) -> Replies:
    return await ctx.goto(VET_LOOKUP)


@router.prompt(VET_LOOKUP)
@staff_only
async def ask_lookup(ctx: Ctx) -> Replies:
    _ = ctx._
    text = _("Type her credential code (like 7K2M-9QPD-XW3A) or her profile number (like 12).")
    return [ctx.reply(text, [ctx.button(_("◀ Back"), "back_profile")])]


@router.text(VET_LOOKUP)
@staff_only
async def lookup_typed(ctx: Ctx, text: str) -> Replies:
    workers = ctx.repos.workers
    profile = None
    code = read_code(text)
    if code is not None:
        profile = await workers.by_code(code)
    else:
        number = text.strip().lstrip("#＃№").strip()
        if number.isdecimal() and len(number) < 10:
            profile = await workers.get(int(number))
    if profile is None or not await may_vet(ctx, profile.id):  # another base's: not found
        raise Invalid(ctx._("I can't find a worker with that code or profile number."))
    show_next(ctx, profile.id)
    return await ctx.goto(VETTING)
