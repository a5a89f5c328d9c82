"""Eight digits typed as a phone number: Hong Kong or Macau? Asked, never guessed.

    any step that takes a phone number (`checked_phone` raises `RegionNeeded`)
        ─▶ PHONE_REGION: "Is 9123 4567 a Hong Kong or a Macau number?"
            ─Hong Kong / Macau─▶ the same step, answered with +852 / +853 and the digits
            ─◀ Back───────────▶ the same step, asked again

Shared by every flow that asks for a phone number (a sign-up, a fair registration, and
later the worker profile and the household's request): the step's own text handler
gets the number with its code, as if she had typed it so.
"""

from __future__ import annotations

from handlers.context import Ctx
from handlers.replies import Button, Reply
from handlers.router import Invalid, Replies, Router
from storage.vocab import CITIES

router = Router(__name__)

PHONE_REGION = router.state("PHONE_REGION", personal=True)
CODES = {"852": "hong_kong", "853": "macau"}  # country calling code -> CITIES term id


def with_share_hint(ctx: Ctx, question: str) -> str:
    """A phone question, told to tap the share button only where there is one (Telegram:
    the terminal and WeChat show none)."""
    if ctx.event.platform != "tg":
        return question
    return ctx._.sentences([question, ctx._("Type it, or tap “Share my phone number” below.")])


def phone_question(ctx: Ctx, question: str, *rows: list[Button]) -> Reply:
    """A screen that asks for her phone number: the question (with the share hint where
    there is a share button) and the one-time "📱 Share my phone number" button, which
    platforms without one leave out."""
    return ctx.reply(
        with_share_hint(ctx, question), *rows, request_contact=ctx._("📱 Share my phone number")
    )


async def ask_region(ctx: Ctx, digits: str) -> Replies:
    """Remember the digits and the step that asked, and ask which region."""
    ctx.remember(phone_region={"digits": digits, "back_to": ctx.user.state})
    return await ctx.goto(PHONE_REGION)


@router.prompt(PHONE_REGION)
async def which_region(ctx: Ctx) -> Replies:
    _ = ctx._
    digits = (ctx.form.get("phone_region") or {}).get("digits", "")
    rows = []
    for code, term_id in CODES.items():
        term = CITIES.get(term_id)
        assert term is not None
        region = _(term.label)
        rows.append([ctx.button(f"{region} +{code}", "region", code)])
    rows.append([ctx.button(_("◀ Back"), "back_phone")])
    return [ctx.reply(_("Is {digits} a Hong Kong or a Macau number?", digits=digits), *rows)]


def _back_to(ctx: Ctx) -> tuple[str, str]:
    asked = ctx.form.get("phone_region") or {}
    ctx.user.form = {k: v for k, v in ctx.form.items() if k != "phone_region"}
    back_to = asked.get("back_to", "")
    if ctx.flows.states.get(back_to) is None or ctx.flows.states[back_to].on_text is None:
        raise Invalid(ctx._("I don't recognise that button."))
    return back_to, asked.get("digits", "")


@router.button(PHONE_REGION, "region")
async def chose_region(ctx: Ctx, code: str) -> Replies:
    if code not in CODES:
        raise Invalid(ctx._("I don't recognise that button."))
    back_to, digits = _back_to(ctx)
    ctx.user.state = back_to
    step = ctx.flows.states[back_to]
    assert step.on_text is not None
    return await step.on_text(ctx, f"+{code}{digits}")


@router.button(PHONE_REGION, "back_phone")
async def back_phone(ctx: Ctx, _arg: str) -> Replies:
    back_to, _digits = _back_to(ctx)
    return await ctx.goto(back_to)
