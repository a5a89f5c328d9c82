"""Courses and job fairs as staff keep them (issue 12): the lists, the way into the
guided forms and into each course's and fair's screen.

    ADMIN_MENU, STAFF_MENU ─"📚 Courses and job fairs"─▶ CATALOGUE: the courses (her
        base's for a base's staff, every base's for admins), those not ended first,
        soonest first, then those ended; 5 a page, each with the people holding a place
        ├─ ➕ New course ─────▶ the course form (`handlers.catalogue_course`)
        ├─ a course ─────────▶ CAT_COURSE: its screen (`handlers.catalogue_course`)
        └─ 🤝 Job fairs (admins only) ─▶ CAT_FAIRS: the fairs, upcoming first
              ├─ ➕ New job fair ─▶ the fair form (`handlers.catalogue_fair`)
              └─ a fair ──────────▶ CAT_FAIR: its screen (`handlers.catalogue_fair`)

The lists are `storage.catalogue.CatalogueRepo`; the writes, conditional on what the
screen showed and audited, too. The course and fair modules attach their buttons to
these states (`Router.button` on another flow's state). Who: `CATALOGUE` is a staff
state (admins and a base's staff: `handlers.staff`), `CAT_FAIRS` an admins' one; the
core checks that on every event, and every prompt and action asks again
(`handlers.vetting.staff_only`). A base's staff never see or touch another base's
course (`course_for`).
"""

from __future__ import annotations

import datetime as dt

from handlers import typed
from handlers.context import Ctx
from handlers.courses import list_line
from handlers.lists import PAGE_SIZE, page_number, page_reply, short
from handlers.router import Invalid, Replies, Router
from handlers.staff import staff_base
from handlers.vetting import staff_only
from storage.catalogue import CatalogueRepo
from storage.models import Course, JobFair

router = Router(__name__)

CATALOGUE = router.state("CATALOGUE", staff=True)
CAT_FAIRS = router.state("CAT_FAIRS", admin=True)

typed.no_search(CATALOGUE, CAT_FAIRS)


def catalogue(ctx: Ctx) -> CatalogueRepo:
    return CatalogueRepo(ctx.repos.session)


def _page(ctx: Ctx, key: str) -> int:
    value = ctx.form.get(key)
    return value if isinstance(value, int) else 0


def since(ctx: Ctx) -> dt.datetime:
    """Today's start, as fairs keep times (local wall-clock, naive)."""
    return dt.datetime.combine(ctx.today(), dt.time())


def told(ctx: Ctx, n: int) -> str:
    """`3 people holding a place were told.` (nothing when no one)."""
    if not n:
        return ""
    return ctx._.ngettext(
        "{n} person holding a place was told.", "{n} people holding a place were told.", n
    )


def changed_meanwhile(ctx: Ctx) -> str:
    return ctx._(
        "⚠ Someone else changed this meanwhile, so nothing was saved. Here it is as it is "
        "now: please look, then try again."
    )


async def course_for(ctx: Ctx, ident: object) -> Course:
    """The course `ident` names (an id, from a button or her form), as it is now, if she
    may change it: any for an admin, her base's for a base's staff. Otherwise `Invalid`,
    and she is back at the list."""
    course = None
    if isinstance(ident, int) or (isinstance(ident, str) and ident.isdecimal() and len(ident) < 10):
        course = await catalogue(ctx).course(int(ident))
    if course is None:
        ctx.user.state = CATALOGUE
        raise Invalid(ctx._("That course is no longer there."))
    base = staff_base(ctx)
    if base is not None and course.base_id != base:  # another base's: not hers to change
        ctx.user.state = CATALOGUE
        raise Invalid(ctx._("That course belongs to another training base."))
    return course


async def fair_for(ctx: Ctx, ident: object) -> JobFair:
    """The fair `ident` names, as it is now (admins only: the states say so), or
    `Invalid`, back at the fairs."""
    fair = None
    if isinstance(ident, int) or (isinstance(ident, str) and ident.isdecimal() and len(ident) < 10):
        fair = await catalogue(ctx).fair(int(ident))
    if fair is None:
        ctx.user.state = CAT_FAIRS
        raise Invalid(ctx._("I can't find that job fair. It may have been removed."))
    return fair


# --- the courses --------------------------------------------------------------------------
def _course_mark(ctx: Ctx, course: Course) -> str:
    today = ctx.today()
    if course.status == "cancelled":
        return "⛔"
    if course.ends_on < today:
        return "✔"
    return "▶" if course.starts_on <= today else "⏳"


@router.prompt(CATALOGUE)
@staff_only
async def courses(ctx: Ctx, *, replace: bool = False) -> Replies:
    _ = ctx._
    page = _page(ctx, "cat_page")
    base_id = staff_base(ctx)
    found, held, total = await catalogue(ctx).courses_page(
        ctx.today(), page * PAGE_SIZE, PAGE_SIZE, base_id=base_id
    )
    if not found and page:
        ctx.remember(cat_page=0)
        return await courses(ctx, replace=replace)
    lines = [_("📚 Courses and job fairs")]
    if base_id is not None:
        base = await ctx.repos.staff.base(base_id)
        name = _.text(base.name, base.name_en) if base is not None else "—"
        lines.append(_("The courses of {base}.", base=name))
    if found:
        lines.append(
            _(
                "Tap a course to change it (⏳ to come, ▶ running, ✔ ended, ⛔ cancelled; "
                "👥 people holding a place):"
            )
        )
    else:
        lines.append(_("There are no courses yet."))
    items = [
        (f"{_course_mark(ctx, c)} {list_line(ctx, c)} · 👥{held.get(c.id, 0)}", "course", c.id)
        for c in found
    ]
    extra = [[ctx.button(_("🤝 Job fairs"), "cat_fairs")]] if ctx.is_admin else []
    extra.append([ctx.button(_("◀ Main menu"), "home")])
    reply = page_reply(ctx, "\n".join(lines), items, page, total, replace=replace, extra=extra)
    reply.buttons.insert(0, [ctx.button(_("➕ New course"), "new_course")])  # first, always
    return [reply]


@router.button(CATALOGUE, "page")
@staff_only
async def courses_page(ctx: Ctx, arg: str) -> Replies:
    ctx.remember(cat_page=page_number(arg))
    return await courses(ctx, replace=True)


router.goes("cat_fairs", CAT_FAIRS, CATALOGUE)
router.goes("cat_courses", CATALOGUE, CAT_FAIRS)


# --- the fairs ----------------------------------------------------------------------------
def fair_line(ctx: Ctx, fair: JobFair) -> str:
    """`title · 9 Dec 09:30`, the title cut short enough that the date always shows."""
    title = ctx._.text(fair.title, fair.title_en)
    when = f"{ctx._.short_date(fair.starts_at.date())} {ctx._.time(fair.starts_at)}"
    return f"{short(title, 24)} · {when}"


@router.prompt(CAT_FAIRS)
@staff_only
async def fairs(ctx: Ctx, *, replace: bool = False) -> Replies:
    _ = ctx._
    page = _page(ctx, "cat_fpage")
    found, held, total = await catalogue(ctx).fairs_page(since(ctx), page * PAGE_SIZE, PAGE_SIZE)
    if not found and page:
        ctx.remember(cat_fpage=0)
        return await fairs(ctx, replace=replace)
    if found:
        text = _(
            "🤝 Job fairs. Tap one to change it (⏳ to come, ✔ past, ⛔ cancelled; 👥 "
            "people registered):"
        )
    else:
        text = _("There are no job fairs yet.")
    items = []
    for fair in found:
        mark = "⛔" if fair.status == "cancelled" else "✔" if fair.starts_at < since(ctx) else "⏳"
        items.append((f"{mark} {fair_line(ctx, fair)} · 👥{held.get(fair.id, 0)}", "fair", fair.id))
    extra = [[ctx.button(_("◀ Courses"), "cat_courses"), ctx.button(_("◀ Main menu"), "home")]]
    reply = page_reply(ctx, text, items, page, total, replace=replace, extra=extra)
    reply.buttons.insert(0, [ctx.button(_("➕ New job fair"), "new_fair")])  # first, always
    return [reply]


@router.button(CAT_FAIRS, "page")
@staff_only
async def fairs_page(ctx: Ctx, arg: str) -> Replies:
    ctx.remember(cat_fpage=page_number(arg))
    return await fairs(ctx, replace=True)
