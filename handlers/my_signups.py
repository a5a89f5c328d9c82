"""My sign-ups: her places on courses, with their status; cancelling one.

MY_SIGNUPS ─tap one─▶ SIGNUP_DETAIL ─cancel─▶ CONFIRM_CANCEL_SIGNUP ─yes─▶ cancelled;
                                              the first on the waiting list gets the seat
"""

from __future__ import annotations

from handlers import reminders
from handlers.context import Ctx, Options, outside
from handlers.courses import COURSE_CARD, COURSES, base_name, county, title
from handlers.lists import short
from handlers.router import Invalid, Replies, Router
from storage.models import Signup, User
from storage.repositories import Repos

router = Router(__name__)

MY_SIGNUPS = router.state("MY_SIGNUPS")
SIGNUP_DETAIL = router.state("SIGNUP_DETAIL")
CONFIRM_CANCEL_SIGNUP = router.state("CONFIRM_CANCEL_SIGNUP")


async def status_line(ctx: Ctx, signup: Signup) -> str:
    _ = ctx._
    if signup.status == "confirmed":
        return _("✅ seat confirmed")
    return _("⏳ number {n} on the waiting list", n=await ctx.repos.signups.position(signup))


@router.prompt(MY_SIGNUPS)
async def my_signups(ctx: Ctx) -> Replies:
    _ = ctx._
    signups = await ctx.repos.signups.of_user(ctx.user.id) if ctx.user.id else []
    fairs = await ctx.repos.fairs.of_user(ctx.user.id) if ctx.user.id else []
    home = [ctx.button(_("📚 Find a course"), "find"), ctx.button(_("◀ Main menu"), "home")]
    if not signups and not fairs:
        return [ctx.reply(_("You have not signed up for any course yet."), home)]
    rows = []
    for s in signups:
        c = s.course
        parts = (short(title(ctx, c), 16), county(ctx, c), _.short_date(c.starts_on))
        label = "📚 " + " · ".join(p for p in parts if p)
        rows.append([ctx.button(f"{label} · {await status_line(ctx, s)}", "signup", s.id)])
    registered = _("✅ registered")
    for r in fairs:
        fair_title = _.text(r.fair.title, r.fair.title_en)
        label = f"🤝 {short(fair_title, 20)} · {_.short_date(r.fair.starts_at.date())}"
        rows.append([ctx.button(f"{label} · {registered}", "fair", r.fair_id)])
    return [ctx.reply(_("Your sign-ups. Tap one to see it or cancel it:"), *rows, home)]


@router.button(MY_SIGNUPS, "fair")
async def open_fair(ctx: Ctx, arg: str) -> Replies:
    from handlers.fairs import show_fair

    return await show_fair(ctx, arg)


async def _mine(ctx: Ctx, arg: str) -> Signup:
    signup = None
    if arg.isdecimal() and len(arg) < 10:
        signup = await ctx.repos.signups.get(int(arg), ctx.user.id)
    if signup is None or signup.status == "cancelled":
        raise Invalid(ctx._("That sign-up is no longer there."))
    return signup


@router.button(MY_SIGNUPS, "signup")
async def open_signup(ctx: Ctx, arg: str) -> Replies:
    signup = await _mine(ctx, arg)
    ctx.remember(signup_id=signup.id)
    return await ctx.goto(SIGNUP_DETAIL)


router.goes("my_signups", MY_SIGNUPS, COURSE_CARD)
router.goes("find", COURSES, MY_SIGNUPS)
router.goes("back_list", MY_SIGNUPS, SIGNUP_DETAIL, CONFIRM_CANCEL_SIGNUP)


@router.prompt(SIGNUP_DETAIL)
async def detail(ctx: Ctx) -> Replies:
    _ = ctx._
    signup = await _mine(ctx, str(ctx.form.get("signup_id") or ""))
    course = signup.course
    text = "\n".join(
        [
            f"📚 {title(ctx, course)}",
            f"📅 {_.date(course.starts_on)} – {_.date(course.ends_on)} {course.daily_hours}",
            "🏫 "
            + _(
                "{place} ({county})", place=base_name(ctx, course.base), county=county(ctx, course)
            ),
            await status_line(ctx, signup),
        ]
    )
    return [
        ctx.reply(
            text,
            [ctx.button(_("✖ Cancel my place"), "cancel_place", signup.id)],
            [ctx.button(_("📚 The course"), "course", course.id)],
            [ctx.button(_("◀ Back"), "back_list")],
        )
    ]


@router.button(SIGNUP_DETAIL, "course")
async def to_course(ctx: Ctx, arg: str) -> Replies:
    signup = await _mine(ctx, str(ctx.form.get("signup_id") or ""))
    ctx.remember(course=signup.course_id)
    return await ctx.goto(COURSE_CARD)


@router.button(SIGNUP_DETAIL, "cancel_place")
async def ask_cancel(ctx: Ctx, arg: str) -> Replies:
    signup = await _mine(ctx, arg)
    ctx.remember(signup_id=signup.id)
    return await ctx.goto(CONFIRM_CANCEL_SIGNUP)


@router.prompt(CONFIRM_CANCEL_SIGNUP)
async def confirm_cancel(ctx: Ctx) -> Replies:
    _ = ctx._
    signup = await _mine(ctx, str(ctx.form.get("signup_id") or ""))
    return [
        ctx.reply(
            _(
                "Cancel your place on “{title}”? If you hold a seat, it goes to the next person "
                "waiting.",
                title=title(ctx, signup.course),
            ),
            [ctx.button(_("✖ Yes, cancel my place"), "yes", signup.id)],
            [ctx.button(_("◀ No, keep it"), "back_list")],
        )
    ]


@router.button(CONFIRM_CANCEL_SIGNUP, "yes")
async def cancel_place(ctx: Ctx, arg: str) -> Replies:
    signup = await _mine(ctx, arg)
    await release(ctx, ctx.user, signup)
    text = ctx._("Your place on “{title}” is cancelled.", title=title(ctx, signup.course))
    return [ctx.reply(text), *await ctx.goto(MY_SIGNUPS)]


async def release(ctx: Ctx, user: User, signup: Signup) -> None:
    """Cancel a place: withdraw her reminder; a freed seat goes to the next in line."""
    course = signup.course
    await reminders.withdraw_reminder(ctx, user, course)
    promoted = await ctx.repos.signups.cancel(signup)
    if promoted is not None:
        await reminders.seat_freed(ctx, promoted, course)


async def release_all(ctx: Ctx, user: User) -> None:
    """Before her data is erased: every place she holds is given up (PIPL art. 47)."""
    for signup in await ctx.repos.signups.of_user(user.id):
        await release(ctx, user, signup)


async def erase_person(repos: Repos, user: User, options: Options) -> None:
    """Erase a person's data, first giving up her places so the next in line get them.
    Used by /delete_me and by WeChat's unfollow (which has no conversation of its own)."""
    from handlers.hire_view import before_erasure

    await release_all(outside(repos, user, options), user)
    await before_erasure(outside(repos, user, options), user)
    await repos.workers.forget(user)  # the audit entries about her profile
    await repos.users.erase(user)
