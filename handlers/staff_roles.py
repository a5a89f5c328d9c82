"""Staff roles (issue 12): an admin makes someone staff of a training base with a
one-time invite, and revokes it; the person redeems it with `/staff CODE`.

    ADMIN_MENU ─👥 Staff of the bases─▶ STAFF_ROLES: each base's staff
        ├─ ➕ Invite for BASE ─▶ a code (shown once; 48 hours, one use) to give her
        └─ ✖ Revoke KEY ─▶ STAFF_REVOKE ─yes─▶ she is no longer staff (from her next tap)
    anyone: /staff CODE ─▶ staff of that base: her staff menu (`STAFF_MENU`)

Only admins manage roles (the states are `admin`, and every prompt and action asks
`staff_only`). Each change is in the audit log (`storage.staff`).
"""

from __future__ import annotations

import logging

from handlers.context import Ctx
from handlers.router import Invalid, Replies, Router
from handlers.vetting import staff_only
from storage.staff import INVITE_HOURS, InviteRefused
from storage.workers import read_code, show_code

log = logging.getLogger(__name__)

router = Router(__name__)

STAFF_ROLES = router.state("STAFF_ROLES", admin=True)
STAFF_REVOKE = router.state("STAFF_REVOKE", admin=True)


@router.prompt(STAFF_ROLES)
@staff_only
async def show_roles(ctx: Ctx) -> Replies:
    _ = ctx._
    staff = ctx.repos.staff
    members = await staff.members()
    lines = ["👥 " + _("Staff of the training bases")]
    rows = []
    for base in await staff.bases():
        mine = [m for m in members if m.base_id == base.id]
        names = _.join(m.key for m in mine) if mine else _("no one yet")
        lines.append(f"🏫 {_.text(base.name, base.name_en)}: {names}")
        rows.append(
            [
                ctx.button(
                    _("➕ Invite for {base}", base=_.text(base.name, base.name_en)),
                    "invite",
                    base.id,
                )
            ]
        )
        rows += [[ctx.button(_("✖ Revoke {who}", who=m.key), "revoke", m.user_id)] for m in mine]
    rows.append([ctx.button(_("◀ Main menu"), "home")])
    return [ctx.reply("\n".join(lines), *rows)]


@router.button(STAFF_ROLES, "invite")
@staff_only
async def invite(ctx: Ctx, arg: str) -> Replies:
    _ = ctx._
    if not arg.isdecimal():
        raise Invalid(_("I don't recognise that button."))
    try:
        code, _row = await ctx.repos.staff.invite(int(arg), ctx.user.key)
    except LookupError:
        raise Invalid(_("That training base is no longer there.")) from None
    log.info("staff invite made by %s for base %s", ctx.user.id, arg)
    text = _(
        "Give her this one-time code. She sends “/staff {code}” to Haoxin within {hours} "
        "hours to become staff of this base. It works once; it is not shown again.",
        code=show_code(code),
        hours=INVITE_HOURS,
    )
    return [ctx.reply(text), *await ctx.ask()]


@router.button(STAFF_ROLES, "revoke")
@staff_only
async def ask_revoke(ctx: Ctx, arg: str) -> Replies:
    if not arg.isdecimal():
        raise Invalid(ctx._("I don't recognise that button."))
    ctx.remember(revoke=int(arg))
    return await ctx.goto(STAFF_REVOKE)


@router.prompt(STAFF_REVOKE)
@staff_only
async def confirm_revoke(ctx: Ctx) -> Replies:
    _ = ctx._
    target = await ctx.repos.users.by_id(ctx.form.get("revoke"))
    if target is None or target.staff_base_id is None:
        ctx.user.state = STAFF_ROLES
        raise Invalid(_("She is not staff of a base (any more)."))
    text = _("Revoke {who}'s staff role? She is refused from her next tap.", who=target.key)
    rows = [
        [ctx.button(_("✖ Yes, revoke"), "revoke_yes")],
        [ctx.button(_("◀ Back"), "roles")],
    ]
    return [ctx.reply(text, *rows)]


router.goes("roles", STAFF_ROLES, STAFF_REVOKE)


@router.button(STAFF_REVOKE, "revoke_yes")
@staff_only
async def revoke(ctx: Ctx, _arg: str) -> Replies:
    done = await ctx.repos.staff.revoke(int(ctx.form.get("revoke") or 0), ctx.user.key)
    ctx.remember(revoke=None)
    text = ctx._("Revoked.") if done else ctx._("She is not staff of a base (any more).")
    return [ctx.reply(text), *await ctx.goto(STAFF_ROLES)]


@router.command("staff")
async def redeem(ctx: Ctx, arg: str) -> Replies:
    """`/staff CODE`: an invite from an admin. Only after she agreed to the privacy
    notice (a role is personal data), never for an event the platform cannot vouch for."""
    from handlers.menus import home_state
    from handlers.onboarding import consented

    _ = ctx._
    code = read_code(arg)
    if not ctx.event.verified or not consented(ctx):
        raise Invalid(
            _("Please agree to the privacy notice first (/privacy), then send the code again.")
        )
    if code is None:
        raise Invalid(_("Please send the code as you were given it: /staff ABCD-EFGH-JKLM."))
    try:
        base_id = await ctx.repos.staff.redeem(ctx.user, code)
    except InviteRefused as refused:
        why = {
            "used": _("That code has been used already."),
            "expired": _("That code has expired. Please ask the programme office for a new one."),
        }.get(refused.reason, _("That code is not right. Please check it and send it again."))
        raise Invalid(why) from None
    log.info("user %s became staff of base %s", ctx.user.id, base_id)
    ctx.forget_form()
    text = _("✅ You are now staff of your training base. Your staff menu:")
    return [ctx.reply(text), *await ctx.goto(home_state(ctx))]
