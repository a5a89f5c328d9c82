"""Exports as files in chat (issue 12): sign-up lists, waiting lists, attendance, fair
registrations and the verified workers, as XLSX or CSV.

    FILES ─"📤 Export a list"─▶ EXPORT: which list
        ├─ 📝 Sign-ups | ⏳ Waiting list | 🎓 Attendance ─▶ EXPORT_COURSE: every course
        │     (of her base), or one (5 a page) ─────────────────────────▶ EXPORT_FORMAT
        ├─ 🤝 Fair registrations (admins) ─▶ EXPORT_FAIR: every fair, or one ─▶ EXPORT_FORMAT
        ├─ 🪪 Verified workers (admins) ──────────────────────────────────▶ EXPORT_FORMAT
        └─ ◀ Back
    EXPORT_FORMAT ─ 📊 XLSX | 📄 CSV ─▶ the file (`Haoxin-signups-ys-2026-01-20261130.xlsx`),
        logged; EXPORT

The lists are personal data: only staff (`staff_only` on every prompt and action), a
base's staff only of her base's courses (`storage.exports.build` with `base_id` refuses
another base's course, however its id reached her form), fairs and workers for admins
only; every export is in the audit log (`storage.exports.log_export`: who, when, what,
how many rows), in the same transaction as the file kept for her. Cells never start a
formula (`storage.spreadsheets.safe_cell`); a CSV is UTF-8 with the byte-order mark, so
Excel and WPS read Chinese right. Each list she takes replaces her earlier copy of the
same list (`FileRepo.keep_document`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re

from handlers import typed
from handlers.context import Ctx
from handlers.courses import list_line
from handlers.lists import PAGE_SIZE, page_number, page_reply, short
from handlers.replies import Reply
from handlers.router import Invalid, Replies, Router
from handlers.staff import staff_base
from handlers.staff_files import FILES
from handlers.vetting import staff_only
from storage.exports import COURSE_KINDS, FORMATS, ExportRefused, build, log_export, render
from storage.fairs import FairFilter
from storage.files import FileRejected
from storage.models import Course, JobFair
from storage.vetting_queries import AttendanceQueries

log = logging.getLogger(__name__)

router = Router(__name__)

EXPORT = router.state("EXPORT", staff=True)
EXPORT_COURSE = router.state("EXPORT_COURSE", staff=True)
EXPORT_FAIR = router.state("EXPORT_FAIR", staff=True)
EXPORT_FORMAT = router.state("EXPORT_FORMAT", staff=True)

typed.no_search(EXPORT, EXPORT_COURSE, EXPORT_FAIR, EXPORT_FORMAT)

#: the programme office's lists: admins only
ADMIN_LISTS = ("fairs", "workers")
#: `FileRepo` purposes are at most 24 characters: each list's short name
_SHORT = {"signups": "su", "waiting": "wl", "attendance": "at", "fairs": "fr", "workers": "wk"}
#: fairs listed to choose from: those that started at most this long ago, and to come
FAIRS_SINCE = dt.timedelta(days=90)

router.goes("export", EXPORT, FILES)
router.goes("files", FILES, EXPORT)
router.goes("lists", EXPORT, EXPORT_COURSE, EXPORT_FAIR, EXPORT_FORMAT)


def list_name(ctx: Ctx, what: str) -> str:
    _ = ctx._
    return {
        "signups": _("📝 Sign-up list"),
        "waiting": _("⏳ Waiting list"),
        "attendance": _("🎓 Attendance"),
        "fairs": _("🤝 Job fair registrations"),
        "workers": _("🪪 Verified workers"),
    }[what]


def _what(ctx: Ctx, what: object) -> str:
    """The list a button or her form names, if she may take it. Raises `Invalid`."""
    if not isinstance(what, str) or what not in _SHORT:
        ctx.user.state = EXPORT
        raise Invalid(ctx._("I don't recognise that button."))
    if what in ADMIN_LISTS and not ctx.is_admin:
        log.warning("refused a base's staff export of %s: user %s", what, ctx.user.id)
        ctx.user.state = EXPORT
        raise Invalid(ctx._("Only the programme office exports fair registrations and workers."))
    return what


# --- which list ------------------------------------------------------------------------
@router.prompt(EXPORT)
@staff_only
async def show_lists(ctx: Ctx) -> Replies:
    _ = ctx._
    text = "📤 " + _(
        "Export a list as a spreadsheet. These are personal data: keep the file safe, "
        "share it with no one who does not need it, and delete it when done. Every "
        "export is recorded."
    )
    lists = [*COURSE_KINDS, *(ADMIN_LISTS if ctx.is_admin else ())]
    rows = [[ctx.button(list_name(ctx, w), "list", w)] for w in lists]
    rows.append([ctx.button(_("◀ Back"), "files")])
    return [ctx.reply(text, *rows)]


@router.button(EXPORT, "list")
@staff_only
async def choose_list(ctx: Ctx, arg: str) -> Replies:
    what = _what(ctx, arg)
    ctx.remember(ex_what=what, ex_course=None, ex_fair=None, ex_page=0)
    if what in COURSE_KINDS:
        return await ctx.goto(EXPORT_COURSE)
    if what == "fairs":
        return await ctx.goto(EXPORT_FAIR)
    return await ctx.goto(EXPORT_FORMAT)


# --- of which course -------------------------------------------------------------------
@router.prompt(EXPORT_COURSE)
@staff_only
async def show_courses(ctx: Ctx, *, replace: bool = False) -> Replies:
    _ = ctx._
    what = _what(ctx, ctx.form.get("ex_what"))
    page = page_number(str(ctx.form.get("ex_page") or 0))
    found, _seats, total = await AttendanceQueries(ctx.repos.session).courses(
        ctx.today(), page * PAGE_SIZE, PAGE_SIZE, base_id=staff_base(ctx)
    )
    everyone = _("All my base's courses") if staff_base(ctx) is not None else _("All courses")
    text = _("{list}: of which course?", list=list_name(ctx, what))
    items = [(list_line(ctx, c), "course", c.id) for c in found]
    extra = [[ctx.button("📚 " + everyone, "all")], [ctx.button(_("◀ Back"), "lists")]]
    return [page_reply(ctx, text, items, page, total, replace=replace, extra=extra)]


@router.button(EXPORT_COURSE, "page")
@staff_only
async def courses_page(ctx: Ctx, arg: str) -> Replies:
    ctx.remember(ex_page=page_number(arg))
    return await show_courses(ctx, replace=True)


async def _course(ctx: Ctx, ident: object) -> Course:
    """The course `ident` names, if it is there and hers to export. Raises `Invalid`."""
    course = None
    if isinstance(ident, int) or (isinstance(ident, str) and ident.isdecimal() and len(ident) < 10):
        course = await ctx.repos.courses.get(int(ident))
    if course is None:
        ctx.user.state = EXPORT
        raise Invalid(ctx._("That course is no longer there."))
    base = staff_base(ctx)
    if base is not None and course.base_id != base:
        log.warning("refused an export of another base's course: user %s", ctx.user.id)
        ctx.user.state = EXPORT
        raise Invalid(ctx._("That course belongs to another training base."))
    return course


@router.button(EXPORT_COURSE, "course")
@staff_only
async def choose_course(ctx: Ctx, arg: str) -> Replies:
    ctx.remember(ex_course=(await _course(ctx, arg)).id)
    return await ctx.goto(EXPORT_FORMAT)


@router.button(EXPORT_COURSE, "all")
@staff_only
async def every_course(ctx: Ctx, _arg: str) -> Replies:
    ctx.remember(ex_course=None)
    return await ctx.goto(EXPORT_FORMAT)


# --- of which fair -----------------------------------------------------------------------
def _since(ctx: Ctx) -> dt.datetime:
    return ctx.options.now().replace(tzinfo=None, microsecond=0) - FAIRS_SINCE


@router.prompt(EXPORT_FAIR)
@staff_only
async def show_fairs(ctx: Ctx, *, replace: bool = False) -> Replies:
    _ = ctx._
    _what(ctx, "fairs")
    page = page_number(str(ctx.form.get("ex_page") or 0))
    fairs = ctx.repos.fairs
    total = await fairs.count(_since(ctx), FairFilter())
    found = await fairs.listed(_since(ctx), FairFilter(), page * PAGE_SIZE, PAGE_SIZE)
    items = [
        (f"{short(_.text(f.title, f.title_en), 30)} · {_.short_date(f.starts_at)}", "fair", f.id)
        for f in found
    ]
    text = _(
        "{list}: of which fair? (Fairs of the last {days} days and to come.)",
        list=list_name(ctx, "fairs"),
        days=FAIRS_SINCE.days,
    )
    extra = [[ctx.button("🤝 " + _("All fairs"), "all")], [ctx.button(_("◀ Back"), "lists")]]
    return [page_reply(ctx, text, items, page, total, replace=replace, extra=extra)]


@router.button(EXPORT_FAIR, "page")
@staff_only
async def fairs_page(ctx: Ctx, arg: str) -> Replies:
    ctx.remember(ex_page=page_number(arg))
    return await show_fairs(ctx, replace=True)


async def _fair(ctx: Ctx, ident: object) -> JobFair:
    fair = None
    if isinstance(ident, int) or (isinstance(ident, str) and ident.isdecimal() and len(ident) < 10):
        fair = await ctx.repos.fairs.get(int(ident))
    if fair is None:
        ctx.user.state = EXPORT
        raise Invalid(ctx._("That job fair is no longer there."))
    return fair


@router.button(EXPORT_FAIR, "fair")
@staff_only
async def choose_fair(ctx: Ctx, arg: str) -> Replies:
    _what(ctx, "fairs")
    ctx.remember(ex_fair=(await _fair(ctx, arg)).id)
    return await ctx.goto(EXPORT_FORMAT)


@router.button(EXPORT_FAIR, "all")
@staff_only
async def every_fair(ctx: Ctx, _arg: str) -> Replies:
    _what(ctx, "fairs")
    ctx.remember(ex_fair=None)
    return await ctx.goto(EXPORT_FORMAT)


# --- the format, and the file ------------------------------------------------------------
async def _scope(ctx: Ctx, what: str) -> tuple[Course | None, JobFair | None, str]:
    """The course or fair the list is of (None: all), and its words."""
    _ = ctx._
    course = fair = None
    if what in COURSE_KINDS and ctx.form.get("ex_course") is not None:
        course = await _course(ctx, ctx.form.get("ex_course"))
        return course, None, _.text(course.title, course.title_en) + f" ({course.code})"
    if what == "fairs" and ctx.form.get("ex_fair") is not None:
        fair = await _fair(ctx, ctx.form.get("ex_fair"))
        return None, fair, _.text(fair.title, fair.title_en) + f" ({fair.code})"
    if what in COURSE_KINDS:
        words = _("all my base's courses") if staff_base(ctx) is not None else _("all courses")
    else:
        words = _("all fairs") if what == "fairs" else _("every verified worker")
    return None, None, words


@router.prompt(EXPORT_FORMAT)
@staff_only
async def ask_format(ctx: Ctx) -> Replies:
    _ = ctx._
    what = _what(ctx, ctx.form.get("ex_what"))
    *_found, scope = await _scope(ctx, what)
    text = _(
        "{list}: {scope}. As which kind of file? Both open in Excel and WPS.",
        list=list_name(ctx, what),
        scope=scope,
    )
    return [
        ctx.reply(
            text,
            [ctx.button(_("📊 XLSX (Excel)"), "format", "xlsx")],
            [ctx.button(_("📄 CSV"), "format", "csv")],
            [ctx.button(_("◀ Back"), "lists")],
        )
    ]


def file_name(what: str, code: str, fmt: str, today: dt.date) -> str:
    """`Haoxin-signups-ys-2026-01-20261130.xlsx`: the code in letters, digits, `.`, `_`
    and `-` only."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", code).strip("-.")[:40]
    return "-".join(p for p in ("Haoxin", what, safe, f"{today:%Y%m%d}") if p) + f".{fmt}"


@router.button(EXPORT_FORMAT, "format")
@staff_only
async def send_export(ctx: Ctx, fmt: str) -> Replies:
    _ = ctx._
    what = _what(ctx, ctx.form.get("ex_what"))
    if fmt not in FORMATS:
        raise Invalid(_("I don't recognise that button."))
    course, fair, scope = await _scope(ctx, what)
    try:
        export = await build(
            ctx.repos.session,
            what,
            course=course.code if course else None,
            fair=fair.code if fair else None,
            base_id=staff_base(ctx),
            timezone=ctx.options.timezone,
            today=ctx.today(),
        )
    except ExportRefused as refused:
        log.warning("export refused (%s): user %s", refused.reason, ctx.user.id)
        ctx.user.state = EXPORT
        raise Invalid(
            _("That course belongs to another training base.")
            if refused.reason == "not_your_base"
            else _("That list is no longer there.")
        ) from None
    data = await asyncio.to_thread(render, export, fmt)
    ident = course.id if course else fair.id if fair else "all"
    try:
        name = await ctx.repos.files.keep_document(
            ctx.user, f"export:{_SHORT[what]}:{ident}:{fmt}", data
        )
    except FileRejected:
        raise Invalid(
            _(
                "That list is too large to send here. Export one course at a time, or use "
                "`haoxin export` at the terminal."
            )
        ) from None
    await log_export(ctx.repos.session, ctx.user.key, export, fmt)
    log.info("user %s exported %s (%d rows)", ctx.user.id, what, len(export.rows))
    code = course.code if course else fair.code if fair else ""
    shown = file_name(what, code, fmt, ctx.today())
    text = _.ngettext(
        "{list}: {scope}, {n} row: {name}. Personal data: keep it safe.",
        "{list}: {scope}, {n} rows: {name}. Personal data: keep it safe.",
        len(export.rows),
        list=list_name(ctx, what),
        scope=scope,
        name=shown,
    )
    return [Reply(text, document=name, document_name=shown), *await ctx.goto(EXPORT)]
