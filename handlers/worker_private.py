"""Parts 10–11 of the worker profile, the private ones: her ID number and her health
examination.

    WP_ID ▶ WP_HEALTH ─agree─▶ WP_HEALTH_DATE ▶ (next part)
                      └decline─▶ (next part)

Privacy (PIPL): the ID number is checked, then only its last four characters and a
keyed hash are kept; it is never put in her form, a reply or a log. The health date is
asked only after its own consent (`storage.worker_edits`), and withdrawing the consent
deletes it. The walk itself is `handlers.worker_form`.
"""

from __future__ import annotations

import datetime as dt
import logging

from handlers.context import Ctx
from handlers.router import Invalid, Replies
from handlers.worker_form import (
    WP_HEALTH,
    WP_HEALTH_DATE,
    WP_ID,
    edits,
    finish,
    heading,
    her_profile,
    nav,
    router,
    save,
    typed_date,
)
from storage.workers import HEALTH_VALID_DAYS, BadIdNumber, check_id_number, id_digest

log = logging.getLogger(__name__)


# --- 10. ID number ----------------------------------------------------------------------
@router.prompt(WP_ID)
async def ask_id(ctx: Ctx) -> Replies:
    _ = ctx._
    profile = await her_profile(ctx)
    text = _(
        "Your ID card number (18 characters). Why: so the programme can check that it is "
        "really you. Only the last four characters are kept, with a secret code that shows "
        "if the same card is used twice; the whole number is never kept or shown."
    )
    if profile.id_last4:
        text += "\n" + _("Given: the number ending in {last4}.", last4=profile.id_last4)
    return [ctx.reply(heading(ctx, WP_ID, text), *nav(ctx))]


@router.text(WP_ID)
async def got_id(ctx: Ctx, text: str) -> Replies:
    _ = ctx._
    try:
        number = check_id_number(text)
    except BadIdNumber as bad:
        log.info("an ID number was refused: %s", bad.why)
        if bad.why == "birth":
            raise Invalid(
                _(
                    "The date of birth in that number (characters 7 to 14) is not a real "
                    "date. Please check it and type it again."
                )
            ) from None
        if bad.why == "check_digit":
            raise Invalid(
                _(
                    "That number does not add up: one character may be wrong. Please check "
                    "it against your card and type it again."
                )
            ) from None
        raise Invalid(
            _(
                "An ID card number has 18 characters: 17 digits, then a digit or X. Please "
                "type it again."
            )
        ) from None
    profile = await her_profile(ctx)
    digest = id_digest(number, await ctx.repos.workers.id_key())
    notes = await save(ctx, profile, id_last4=number[-4:], id_hash=digest)
    return await finish(
        ctx, "id", [_("Thank you: only the last four characters are kept."), *notes]
    )


# --- 11. health examination -------------------------------------------------------------
@router.prompt(WP_HEALTH)
async def ask_health(ctx: Ctx) -> Replies:
    _ = ctx._
    profile = await her_profile(ctx)
    text = _(
        "Health examination (健康证). Health results are sensitive, so we ask you "
        "separately. If you agree, we keep only one thing: the date you passed your "
        "health examination, and programme staff check it. You may say no and keep your "
        "profile as a draft, but households can only be shown your profile with a valid "
        "health check (from the last 12 months)."
    )
    if profile.health_consent_at is not None:
        text += "\n" + _(
            "You agreed. Passed on: {date}",
            date=_.date(profile.health_passed_on) if profile.health_passed_on else "—",
        )
        rows = [
            [ctx.button(_("📅 Give the date"), "agree")],
            [ctx.button(_("✖ Withdraw: delete the date"), "decline")],
        ]
    else:
        rows = [
            [ctx.button(_("✅ I agree: keep the date I passed"), "agree")],
            [ctx.button(_("✖ No, not now"), "decline")],
        ]
    return [ctx.reply(heading(ctx, WP_HEALTH, text), *rows, *nav(ctx))]


@router.button(WP_HEALTH, "agree")
async def health_agree(ctx: Ctx, _arg: str) -> Replies:
    profile = await her_profile(ctx)
    if profile.health_consent_at is None:
        await edits(ctx).health_consent(profile, True, ctx.user.key)
    return await ctx.goto(WP_HEALTH_DATE)


@router.button(WP_HEALTH, "decline")
async def health_decline(ctx: Ctx, _arg: str) -> Replies:
    profile = await her_profile(ctx)
    await edits(ctx).health_consent(profile, False, ctx.user.key)
    note = ctx._(
        "Noted: no health information is kept. Households cannot be shown your profile "
        "without a valid health check; you can agree later under “✏ Edit”."
    )
    return await finish(ctx, "health", [note])


@router.prompt(WP_HEALTH_DATE)
async def ask_health_date(ctx: Ctx) -> Replies:
    _ = ctx._
    text = _(
        "On what date did you pass your health examination (健康证)? Type it, like 2026-03-15."
    )
    return [ctx.reply(text, [ctx.button(_("◀ Back"), "back_health")])]


router.goes("back_health", WP_HEALTH, WP_HEALTH_DATE)


@router.text(WP_HEALTH_DATE)
async def got_health_date(ctx: Ctx, text: str) -> Replies:
    _ = ctx._
    day = typed_date(ctx, text, ahead=False)
    if day > ctx.today():
        raise Invalid(_("That date is in the future. Please type the date you passed it."))
    if day < ctx.today() - dt.timedelta(days=HEALTH_VALID_DAYS):
        raise Invalid(
            _(
                "That check has expired: it is more than a year old. You need a new health "
                "examination; come back with its date."
            )
        )
    profile = await her_profile(ctx)
    if profile.health_consent_at is None:
        return await ctx.goto(WP_HEALTH)
    return await finish(ctx, "health", await save(ctx, profile, health_passed_on=day))
