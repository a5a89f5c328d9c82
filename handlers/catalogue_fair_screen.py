"""A job fair's screen for admins, and its changes (issue 12), on the fair form's router.

    CAT_FAIRS ─a fair─▶ CAT_FAIR: its details and the people registered
        ├─ 📅 Reschedule ─▶ CAT_F_DAY ▶ CAT_F_TIME ▶ CAT_F_END ▶ CAT_F_MOVE ─yes─▶ told
        ├─ 📍 Change venue ─▶ CAT_F_VENUE ▶ CAT_F_ADDRESS ─────────────────▶ saved, told
        ├─ ✏ Edit ─▶ CAT_F_EDIT: title, English title, county, registration ─▶ saved
        └─ ✖ Cancel the job fair ─▶ CAT_F_CANCEL ─yes─▶ cancelled, everyone told: CAT_FAIRS

As a course's screen (`handlers.catalogue_course_screen`): the screen keeps what it
showed (`cat_fseen`) and every change is conditional on it; a new day, time or venue,
or a cancellation, tells everyone registered in her own language and moves her reminder
(`handlers.changes.announce`, in the same transaction).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from handlers import typed
from handlers.catalogue import CAT_FAIRS, catalogue, changed_meanwhile, fair_for, told
from handlers.catalogue_fair import CAT_F_SUMMARY, FORM, fair_answers, fair_values, router
from handlers.catalogue_form import Run, drop_run
from handlers.changes import announce
from handlers.context import Ctx
from handlers.fairs import title, venue
from handlers.router import Invalid, Replies
from handlers.vetting import staff_only
from storage.catalogue import Stale, seen_fair
from storage.models import JobFair
from storage.vocab import COUNTIES

log = logging.getLogger(__name__)

CAT_FAIR = router.state("CAT_FAIR", admin=True)
CAT_F_EDIT = router.state("CAT_F_EDIT", admin=True)
CAT_F_MOVE = router.state("CAT_F_MOVE", admin=True)
CAT_F_CANCEL = router.state("CAT_F_CANCEL", admin=True)

typed.no_search(CAT_FAIR, CAT_F_EDIT, CAT_F_MOVE, CAT_F_CANCEL, CAT_F_SUMMARY)

#: what "✏ Edit" offers, in this order
EDITABLE = ("title", "title_en", "county", "registration_required")


async def _this(ctx: Ctx, arg: str | None = None, *, open_only: bool = False) -> JobFair:
    """The fair on her screen, as it is now (and the one the button names); with
    `open_only`, not a cancelled one."""
    fair = await fair_for(ctx, ctx.form.get("cat_fair"))
    if arg is not None and arg != str(fair.id):
        raise Invalid(ctx._("I don't recognise that button."))
    if open_only and fair.status == "cancelled":
        ctx.user.state = CAT_FAIR
        raise Invalid(ctx._("This job fair has been cancelled."))
    return fair


@router.button(CAT_FAIRS, "fair")
@staff_only
async def open_fair(ctx: Ctx, arg: str) -> Replies:
    fair = await fair_for(ctx, arg)
    drop_run(ctx)
    ctx.remember(cat_fair=fair.id)
    return await ctx.goto(CAT_FAIR)


def _when(ctx: Ctx, fair: JobFair) -> str:
    when = f"{ctx._.date(fair.starts_at.date())} {ctx._.time(fair.starts_at)}"
    return when + (f"–{ctx._.time(fair.ends_at)}" if fair.ends_at else "")


async def fair_text(ctx: Ctx, fair: JobFair) -> str:
    """The fair as staff see it: when, where, registration, the people registered."""
    _ = ctx._
    where = venue(_, fair) or "—"
    if fair.county:
        where = _("{place} ({county})", place=where, county=_.term(COUNTIES, fair.county))
    registered = await catalogue(ctx).registered(fair.id)
    firms = len(fair.employers or [])
    lines = [
        f"🤝 {title(_, fair)}",
        f"📅 {_when(ctx, fair)}",
        f"📍 {where}",
        "📝 "
        + (_("Registration needed") if fair.registration_required else _("No registration needed")),
        "👥 " + _.ngettext("{n} person registered", "{n} people registered", registered),
        "🏢 " + _.ngettext("{n} firm (from a data file)", "{n} firms (from a data file)", firms),
        "🏷 " + _("Code: {code}", code=fair.code),
    ]
    if fair.title_en and _.lang != "en":
        lines.insert(1, f"🔤 {fair.title_en}")
    if fair.status == "cancelled":
        lines.append("⛔ " + _("This job fair has been cancelled."))
    return "\n".join(lines)


@router.prompt(CAT_FAIR)
@staff_only
async def show_fair(ctx: Ctx) -> Replies:
    _ = ctx._
    fair = await _this(ctx)
    ctx.remember(cat_fseen=seen_fair(fair))  # what every change is conditional on
    rows = []
    if fair.status != "cancelled":
        rows += [
            [ctx.button(_("📅 Reschedule"), "reschedule", fair.id)],
            [ctx.button(_("📍 Change venue"), "venue", fair.id)],
            [ctx.button(_("✏ Edit (title / county …)"), "edit", fair.id)],
            [ctx.button(_("✖ Cancel the job fair"), "cancel_fair", fair.id)],
        ]
    rows.append([ctx.button(_("◀ Job fairs"), "cat_fairs"), ctx.button(_("◀ Main menu"), "home")])
    return [ctx.reply(await fair_text(ctx, fair), *rows)]


router.goes("cat_fairs", CAT_FAIRS, CAT_FAIR)


def _answers(ctx: Ctx) -> dict[str, Any]:
    return fair_answers(ctx.form.get("cat_fseen") or {})


@router.button(CAT_FAIR, "reschedule")
@staff_only
async def reschedule(ctx: Ctx, arg: str) -> Replies:
    fair = await _this(ctx, arg, open_only=True)
    return await FORM.start_edit(
        ctx, fair.id, _answers(ctx), ["day", "time", "end"], "fair:reschedule"
    )


@router.button(CAT_FAIR, "venue")
@staff_only
async def change_venue(ctx: Ctx, arg: str) -> Replies:
    fair = await _this(ctx, arg, open_only=True)
    return await FORM.start_edit(ctx, fair.id, _answers(ctx), ["venue", "address"], "fair:venue")


@router.button(CAT_FAIR, "edit")
@staff_only
async def edit(ctx: Ctx, arg: str) -> Replies:
    await _this(ctx, arg, open_only=True)
    return await ctx.goto(CAT_F_EDIT)


@router.prompt(CAT_F_EDIT)
@staff_only
async def what_to_edit(ctx: Ctx) -> Replies:
    _ = ctx._
    fair = await _this(ctx, open_only=True)
    rows = [[ctx.button("✏ " + ctx._(FORM.by_key[k].name), "field", k)] for k in EDITABLE]
    rows.append([ctx.button(_("◀ Back"), "back_fair")])
    text = _("🤝 {title}: what would you like to change?", title=title(_, fair))
    return [ctx.reply(text, *rows)]


@router.button(CAT_F_EDIT, "field")
@staff_only
async def edit_field(ctx: Ctx, arg: str) -> Replies:
    fair = await _this(ctx, open_only=True)
    if arg not in EDITABLE:
        raise Invalid(ctx._("I don't recognise that button."))
    return await FORM.start_edit(ctx, fair.id, _answers(ctx), [arg], "fair:edit")


router.goes("back_fair", CAT_FAIR, CAT_F_EDIT, CAT_F_MOVE, CAT_F_CANCEL)


# --- saving a change ----------------------------------------------------------------------------
def _values(ctx: Ctx, run: Run) -> dict[str, Any]:
    """What the answers change, as the fair's fields."""
    seen = ctx.form.get("cat_fseen") or {}

    def same(name: str, value: Any) -> bool:
        was = seen.get(name)
        if name in ("starts_at", "ends_at") and value and was:
            return dt.datetime.fromisoformat(value) == dt.datetime.fromisoformat(was)
        return value == was

    return {k: v for k, v in fair_values(run["answers"]).items() if not same(k, v)}


async def edited(ctx: Ctx, run: Run) -> Replies:
    """The steps of a change are answered: a new time is confirmed first (CAT_F_MOVE),
    anything else is saved now."""
    if run["action"] == "fair:reschedule" and _values(ctx, run):
        return await ctx.goto(CAT_F_MOVE)
    return await _save(ctx, run)


async def _save(ctx: Ctx, run: Run, values: dict[str, Any] | None = None) -> Replies:
    _ = ctx._
    values = _values(ctx, run) if values is None else values
    fair_id = int(run.get("id") or ctx.form.get("cat_fair") or 0)
    if not values:
        drop_run(ctx)
        return [ctx.reply(_("Nothing changed.")), *await ctx.goto(CAT_FAIR)]
    try:
        saved = await catalogue(ctx).update_fair(
            fair_id,
            ctx.form.get("cat_fseen") or {},
            values,
            ctx.user.key,
            action=run.get("action") or "fair:edit",
        )
    except Stale:
        text = changed_meanwhile(ctx)
        if yours := await FORM.given(ctx, run):
            text += "\n" + _("Not saved: {answers}", answers=yours)
        drop_run(ctx)
        return [ctx.reply(text), *await ctx.goto(CAT_FAIR)]
    except ValueError:
        log.warning("a change to fair %s was refused by the storage's checks", fair_id)
        raise Invalid(_("That cannot be saved as it is. Please check the answers.")) from None
    n = await announce(ctx.repos, ctx.options, saved.changes)
    log.info("staff user %s changed fair %s (%s)", ctx.user.id, fair_id, sorted(values))
    drop_run(ctx)
    if values.get("status") == "cancelled":  # nothing more to change: back to the list
        ctx.user.form = {k: v for k, v in ctx.form.items() if k not in ("cat_fair", "cat_fseen")}
        done, where = _("✅ The job fair is cancelled."), CAT_FAIRS
    else:
        done, where = _("✅ Saved."), CAT_FAIR
    return [ctx.reply(" ".join(x for x in (done, told(ctx, n)) if x)), *await ctx.goto(where)]


@router.prompt(CAT_F_MOVE)
@staff_only
async def confirm_move(ctx: Ctx) -> Replies:
    _ = ctx._
    fair = await _this(ctx, open_only=True)
    run = FORM.run_of(ctx)
    now = fair_values(run["answers"])
    start = dt.datetime.fromisoformat(now["starts_at"])
    when = f"{_.date(start.date())} {_.time(start)}"
    if now["ends_at"]:
        when += f"–{_.time(dt.datetime.fromisoformat(now['ends_at']))}"
    registered = await catalogue(ctx).registered(fair.id)
    lines = [
        _(
            "Move “{title}” from {before} to {after}?",
            title=title(_, fair),
            before=_when(ctx, fair),
            after=when,
        ),
        _.ngettext(
            "{n} person registered will be told.", "{n} people registered will be told.", registered
        ),
    ]
    rows = [
        [ctx.button(_("✅ Yes, reschedule"), "move_yes")],
        [ctx.button(_("◀ Back"), "back_fair")],
    ]
    return [ctx.reply("\n".join(lines), *rows)]


@router.button(CAT_F_MOVE, "move_yes")
@staff_only
async def move(ctx: Ctx, _arg: str) -> Replies:
    await _this(ctx, open_only=True)
    return await _save(ctx, FORM.run_of(ctx))


@router.button(CAT_FAIR, "cancel_fair")
@staff_only
async def ask_cancel(ctx: Ctx, arg: str) -> Replies:
    await _this(ctx, arg, open_only=True)
    return await ctx.goto(CAT_F_CANCEL)


@router.prompt(CAT_F_CANCEL)
@staff_only
async def confirm_cancel(ctx: Ctx) -> Replies:
    _ = ctx._
    fair = await _this(ctx, open_only=True)
    registered = await catalogue(ctx).registered(fair.id)
    text = _.sentences(
        [
            _("Cancel “{title}” ({when})?", title=title(_, fair), when=_when(ctx, fair)),
            _.ngettext(
                "{n} person registered will be told.",
                "{n} people registered will be told.",
                registered,
            ),
            _("This cannot be undone."),
        ]
    )
    rows = [
        [ctx.button(_("✖ Yes, cancel the job fair"), "cancel_yes")],
        [ctx.button(_("◀ No, keep it"), "back_fair")],
    ]
    return [ctx.reply(text, *rows)]


@router.button(CAT_F_CANCEL, "cancel_yes")
@staff_only
async def cancel(ctx: Ctx, _arg: str) -> Replies:
    fair = await _this(ctx, open_only=True)
    run: Run = {"id": fair.id, "action": "fair:cancel", "answers": {}}
    return await _save(ctx, run, {"status": "cancelled"})
