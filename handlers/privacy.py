"""Privacy: the notice at any time, and deleting one's data (PIPL art. 47).

/privacy ─▶ notice, [I agree] (until she has), [delete my data] [back]
/delete_me or [delete my data] ─▶ CONFIRM_DELETE ─yes─▶ everything erased
                                                 └─no──▶ back where they were
"""

from __future__ import annotations

from handlers.context import Ctx
from handlers.my_signups import erase_person
from handlers.onboarding import GREETING, PRIVACY_VERSION, privacy_notice
from handlers.router import Replies, Router
from storage.models import utcnow

router = Router(__name__)

CONFIRM_DELETE = router.state("CONFIRM_DELETE")


@router.command("privacy")
async def privacy(ctx: Ctx, _arg: str) -> Replies:
    _ = ctx._
    rows = []
    if ctx.user.consented_at is None:  # she may agree now, before any form asks her to
        rows.append([ctx.button(_("✅ I agree"), "consent")])
    rows.append([ctx.button(_("🗑 Delete my data"), "forget")])
    rows.append([ctx.button(_("◀ Back"), "back")])
    return [ctx.reply(privacy_notice(ctx), *rows)]


@router.action("privacy")
async def privacy_button(ctx: Ctx, arg: str) -> Replies:
    return await privacy(ctx, arg)


@router.action("consent")
async def consent(ctx: Ctx, _arg: str) -> Replies:
    """Agreeing from the privacy notice shown by /privacy: recorded once (a second
    agreement keeps the first time), then back, or on to the question that waited for it."""
    from handlers.onboarding import PRIVACY, agree

    if ctx.user.state == PRIVACY:  # the notice was asked already: answer it
        return await agree(ctx, "")
    if ctx.user.consented_at is None:
        ctx.user.consented_at = utcnow()
        ctx.user.consent_version = PRIVACY_VERSION
    thanks = ctx._("Thank you. You can change your mind at any time: /delete_me.")
    return [ctx.reply(thanks), *await ctx.ask()]


@router.command("delete_me")
async def delete_me(ctx: Ctx, _arg: str) -> Replies:
    if ctx.user.state != CONFIRM_DELETE:
        ctx.remember(back_to=ctx.user.state)
    return await ctx.goto(CONFIRM_DELETE)


@router.action("forget")
async def forget_button(ctx: Ctx, arg: str) -> Replies:
    return await delete_me(ctx, arg)


@router.prompt(CONFIRM_DELETE)
async def ask_delete(ctx: Ctx) -> Replies:
    _ = ctx._
    return [
        ctx.reply(
            _(
                "Delete all your data? Your answers, sign-ups and settings will be erased "
                "and cannot be brought back."
            ),
            [ctx.button(_("🗑 Yes, delete everything"), "erase")],
            [ctx.button(_("◀ No, keep my data"), "keep")],
        )
    ]


@router.button(CONFIRM_DELETE, "erase")
async def erase(ctx: Ctx, _arg: str) -> Replies:
    await erase_person(ctx.repos, ctx.user, ctx.options)
    ctx.deleted = True
    return [ctx.reply(ctx._("Done: your data has been deleted. Send /start to begin again."))]


@router.button(CONFIRM_DELETE, "keep")
async def keep(ctx: Ctx, _arg: str) -> Replies:
    back_to = ctx.form.get("back_to") or GREETING
    ctx.user.form = {k: v for k, v in ctx.form.items() if k != "back_to"}
    return [ctx.reply(ctx._("Your data is kept.")), *await ctx.goto(back_to)]
