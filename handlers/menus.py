"""The main menus: one for job seekers and workers, one for households, one for admins.

Entries that later issues fill in are marked "coming soon" and answer so when tapped;
they are never dead buttons. Admin menus check the role on every event (the state is
declared `admin=True`), not only when the menu is drawn.
"""

from __future__ import annotations

import unicodedata

from handlers.context import Ctx
from handlers.onboarding import CHOOSE_ROLE, HOUSEHOLD
from handlers.replies import Button
from handlers.router import Invalid, Replies, Router

router = Router(__name__)

SEEKER_MENU = router.state("SEEKER_MENU")
HOUSEHOLD_MENU = router.state("HOUSEHOLD_MENU")
ADMIN_MENU = router.state("ADMIN_MENU", admin=True)
#: a training base's staff (issue 12): her base's courses and numbers
STAFF_MENU = router.state("STAFF_MENU", staff=True)


def home_state(ctx: Ctx) -> str:
    from handlers.staff import is_staff

    if ctx.is_admin:
        return ADMIN_MENU
    if is_staff(ctx):
        return STAFF_MENU
    return HOUSEHOLD_MENU if ctx.user.role == HOUSEHOLD else SEEKER_MENU


def _soon(ctx: Ctx, label: str, key: str) -> list[Button]:
    return [ctx.button(ctx._("{entry} (coming soon)", entry=label), "soon", key)]


def _common_rows(ctx: Ctx) -> list[list[Button]]:
    _ = ctx._
    return [
        [
            ctx.button(_("🌐 Language"), "language"),
            ctx.button(_("🔒 Privacy & my data"), "privacy"),
        ],
    ]


def _entries(ctx: Ctx) -> dict[str, str]:
    """Every coming-soon entry by key, in the person's language."""
    _ = ctx._
    return {
        "courses": _("📚 Find a free course"),
        "fairs": _("🤝 Job fairs"),
        "signups": _("📝 My sign-ups"),
        "profile": _("🪪 My worker profile"),
        "find": _("🔎 Find a helper"),
        "requests": _("📋 My requests"),
        "hires": _("🤝 Interviews and hires"),
        "jobs": _("🤝 Interviews and hires"),
        "verify": _("🪪 Check a credential"),
        "vetting": _("✅ Vet workers"),
        "attendance": _("🎓 Attendance and completion"),
        "catalogue": _("📚 Courses and job fairs"),
        "broadcast": _("📣 Send a notice"),
        "numbers": _("📊 Programme numbers"),
        "roles": _("👥 Staff of the bases"),
        "reports": _("⚠ Reports and ratings"),
        "files": _("📂 Import and export"),
        "questions": _("❓ Questions and help"),
        "desk": _("💬 Help desk"),
    }


def _live() -> dict[str, str]:
    """Menu entries whose flow exists, and the state each opens."""
    from handlers.attendance import ATTENDANCE
    from handlers.broadcast_compose import BC_LIST
    from handlers.catalogue import CATALOGUE
    from handlers.courses import COURSES
    from handlers.credential import VERIFY
    from handlers.fairs import FAIRS
    from handlers.help_desk import DESK
    from handlers.hires import JOBS
    from handlers.household_request import RQ_FIND, RQ_LIST
    from handlers.my_signups import MY_SIGNUPS
    from handlers.numbers import NUMBERS
    from handlers.questions import QUESTIONS
    from handlers.staff_files import FILES
    from handlers.staff_reports import STAFF_REPORTS
    from handlers.staff_roles import STAFF_ROLES
    from handlers.vetting import VETTING
    from handlers.worker_profile import WORKER_PROFILE

    return {
        "courses": COURSES,
        "fairs": FAIRS,
        "signups": MY_SIGNUPS,
        "profile": WORKER_PROFILE,
        "verify": VERIFY,
        "vetting": VETTING,
        "attendance": ATTENDANCE,
        "catalogue": CATALOGUE,
        "broadcast": BC_LIST,
        "find": RQ_FIND,
        "requests": RQ_LIST,
        "hires": JOBS,
        "roles": STAFF_ROLES,
        "numbers": NUMBERS,
        "jobs": JOBS,
        "reports": STAFF_REPORTS,
        "files": FILES,
        "questions": QUESTIONS,
        "desk": DESK,
    }


def _menu(ctx: Ctx, title: str, keys: list[str], *, switch_role: bool = True) -> Replies:
    entries, live = _entries(ctx), _live()
    rows = [
        [ctx.button(entries[k], "go", k)] if k in live else _soon(ctx, entries[k], k) for k in keys
    ]
    if switch_role:
        rows.append([ctx.button(ctx._("🔄 Change what I'm here for"), "switch_role")])
        # after the entries whose numbers people know: typing "5" still does what it did
        rows.append([ctx.button(entries["questions"], "go", "questions")])
    return [ctx.reply(title, *rows, *_common_rows(ctx))]


@router.prompt(SEEKER_MENU)
async def seeker_menu(ctx: Ctx) -> Replies:
    """Her menu opens on the free courses by kind of work, one tap from a list (most
    people come for a course): then other ways to find one, fairs, her sign-ups."""
    from handlers.courses import kinds_of_work

    _ = ctx._
    found, kinds = await kinds_of_work(ctx)
    ctx.remember(choices=found)
    keys = ["courses", "fairs", "signups", "profile"]
    if await ctx.repos.workers.of_user(ctx.user) is not None:  # a worker: households ask her
        keys.append("jobs")
    if not kinds:
        title = _("Main menu: training and work. What would you like to do?")
        return _menu(ctx, title, keys)
    title = _("Main menu: training and work. Free courses by kind of work, tap one:")
    buttons = [row[0] for row in kinds]
    pairs = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    menu = _menu(ctx, title, keys)
    menu[0].buttons[:0] = pairs
    return menu


@router.prompt(HOUSEHOLD_MENU)
async def household_menu(ctx: Ctx) -> Replies:
    title = ctx._("Main menu: help at home. What would you like to do?")
    return _menu(ctx, title, ["find", "requests", "hires", "verify"])


@router.prompt(ADMIN_MENU)
async def admin_menu(ctx: Ctx) -> Replies:
    title = ctx._("Programme staff menu.")
    keys = [
        "vetting",
        "reports",
        "attendance",
        "catalogue",
        "broadcast",
        "numbers",
        "files",
        "roles",
        "desk",
    ]
    return _menu(ctx, title, keys, switch_role=False)


@router.prompt(STAFF_MENU)
async def staff_menu(ctx: Ctx) -> Replies:
    """A training base's staff: her base's vetting queue, attendance and numbers (the
    role is read on every event: revoked, she is refused from her next tap)."""
    base = await ctx.repos.staff.base(ctx.user.staff_base_id)
    name = ctx._.text(base.name, base.name_en) if base is not None else "—"
    title = ctx._("Staff menu: {base}.", base=name)
    keys = ["vetting", "attendance", "catalogue", "broadcast", "numbers", "files", "desk"]
    return _menu(ctx, title, keys, switch_role=False)


MENU_KEYS = {
    SEEKER_MENU: {"courses", "fairs", "signups", "profile", "jobs", "questions"},
    HOUSEHOLD_MENU: {"find", "requests", "hires", "verify", "questions"},
    ADMIN_MENU: {
        "vetting",
        "reports",
        "attendance",
        "catalogue",
        "broadcast",
        "numbers",
        "files",
        "roles",
        "desk",
    },
    STAFF_MENU: {"vetting", "attendance", "catalogue", "broadcast", "numbers", "files", "desk"},
}


def entry_named(ctx: Ctx, text: str) -> str | None:
    """The state of the entry of her main menu whose label `text` is, typed out whole
    (emoji, spaces and punctuation aside: "面试和雇用" for "🤝 面试和雇用"), in her
    language; None otherwise. A notice says "open “🤝 Interviews and hires” from your
    main menu": on WeChat, typing it is the way there."""
    wanted = _plain(text)
    if not wanted:
        return None
    live, entries = _live(), _entries(ctx)
    for key in MENU_KEYS.get(home_state(ctx), ()):
        if key in live and _plain(entries[key]) == wanted:
            return live[key]
    return None


def _plain(label: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", label).casefold() if ch.isalnum())


async def go(ctx: Ctx, key: str) -> Replies:
    live = _live()
    if key not in MENU_KEYS[ctx.user.state] or key not in live:
        raise Invalid(ctx._("I don't recognise that button."))
    return await ctx.goto(live[key])


async def coming_soon(ctx: Ctx, key: str) -> Replies:
    if key not in MENU_KEYS[ctx.user.state] or key in _live():
        raise Invalid(ctx._("I don't recognise that button."))
    entry = _entries(ctx)[key]
    text = ctx._("“{entry}” is coming soon. We will tell you when it is ready.", entry=entry)
    return [ctx.reply(text), *await ctx.ask()]


for _state in MENU_KEYS:
    router.button(_state, "soon")(coming_soon)
    router.button(_state, "go")(go)
router.goes("switch_role", CHOOSE_ROLE, SEEKER_MENU, HOUSEHOLD_MENU)
