"""Import and export as files in chat (issue 12): staff send a spreadsheet of courses,
job fairs or workers; the lists they take away are `handlers.staff_exports`.

    ADMIN_MENU, STAFF_MENU ─"📂 Import and export"─▶ FILES
        ├─ 📥 Import courses | job fairs (admins) | workers (admins) ─▶ IMPORT_FILE: the
        │     columns, "📄 Template" (an .xlsx: the header and an example row), then her
        │     file (CSV in UTF-8 or GBK, or XLSX, at most 5 MB):
        │       cannot be read ──▶ why, in her language; IMPORT_FILE
        │       wrong rows ──────▶ each (row, column, why; `SHOWN_PROBLEMS` in chat, every
        │                          one in an attached .xlsx); nothing changed; IMPORT_FILE
        │       right ───────────▶ new / updated / unchanged, people told; FILES
        ├─ 📤 Export a list ─▶ EXPORT (`handlers.staff_exports`)
        └─ ◀ Main menu

Who: a base's staff import her base's courses only (`base_ids`: a row of another base,
or a course of another base, is a problem and nothing is changed); fairs and workers are
the programme office's: admins only (the buttons are not shown to a base's staff, and a
forged press is refused). Every prompt and action is `staff_only`.

The import is `import_spreadsheet`, the one path `haoxin import courses|fairs|workers`
takes too: `storage.bulk_import.import_rows` and the notices to people holding a place
(`handlers.changes.announce`), in a savepoint of the event's transaction, all or
nothing; audited by `storage.bulk_import` with her key. The file is parsed in a worker
thread and never kept. What is wrong with a file is said in her language by
`handlers.import_problems`; the template is `handlers.import_template`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Any

from handlers import typed
from handlers.changes import announce
from handlers.context import Ctx, Options
from handlers.events import Attachment
from handlers.import_problems import (
    headers_of,
    problem_line,
    problem_parts,
    problems_workbook,
    table_error,
    too_big,
)
from handlers.import_template import template_workbook
from handlers.replies import MAX_TEXT, Reply
from handlers.router import Invalid, Replies, Router
from handlers.staff import staff_base
from handlers.vetting import staff_only
from storage.bulk_import import (
    COURSES,
    FAIRS,
    WORKERS,
    ImportResult,
    Progress,
    ValidationFailed,
    import_rows,
)
from storage.files import FileRejected, sniff
from storage.import_checks import Column
from storage.repositories import Repos
from storage.tabular import MAX_BYTES, Table, TableError, read_bytes

log = logging.getLogger(__name__)

router = Router(__name__)

FILES = router.state("FILES", staff=True)
IMPORT_FILE = router.state("IMPORT_FILE", staff=True)

typed.no_search(FILES, IMPORT_FILE)

#: what can be imported, and its columns
KINDS: dict[str, dict[str, Column]] = {"courses": COURSES, "fairs": FAIRS, "workers": WORKERS}
#: the programme office's: admins only
ADMIN_KINDS = ("fairs", "workers")
#: room for one message of problems (a line of news may go with it)
TEXT_ROOM = MAX_TEXT - 500
#: problems listed in chat; beyond them, a spreadsheet holds them all
SHOWN_PROBLEMS = 30


async def import_spreadsheet(
    repos: Repos,
    options: Options,
    kind: str,
    table: Table,
    *,
    base_ids: set[int] | None = None,
    staff: str = "",
    progress: Progress | None = None,
) -> tuple[ImportResult, int]:
    """Import `table` as `kind` (`courses`, `fairs`, `workers`) all or nothing, in a
    savepoint of the session's transaction, and tell everyone holding a place on a
    course or fair whose date, room or status changed (the outbox, same transaction).
    `base_ids`: the bases whose courses she may change (None: all, an admin; courses
    only). `staff`: who, for the audit log (default `import:<file name>`). Workers come
    in for staff to vet, with the privacy notice's version as their consent's.
    Returns (what was done, how many were told). Raises `ValidationFailed` (nothing
    written)."""
    from handlers.onboarding import PRIVACY_VERSION, SEEKER

    options_: dict[str, Any] = {"progress": progress, "staff": staff}
    if kind == "courses":
        options_["base_ids"] = base_ids
    elif base_ids is not None:
        raise ValueError(f"{kind} are imported by admins only")
    if kind == "workers":
        options_.update(consent_version=PRIVACY_VERSION, role=SEEKER, store=repos.files.store)
    async with repos.session.begin_nested():  # a failure half-way leaves nothing
        result = await import_rows(repos.session, kind, table, **options_)
        told = await announce(repos, options, result.changes)
    return result, told


# --- words ---------------------------------------------------------------------------
def kind_name(ctx: Ctx, kind: str) -> str:
    """`courses` → "courses", in her language."""
    _ = ctx._
    return {"courses": _("courses"), "fairs": _("job fairs"), "workers": _("workers")}[kind]


def _kind(ctx: Ctx, kind: object) -> str:
    """The kind a button or her form names, if she may import it. Raises `Invalid`."""
    if not isinstance(kind, str) or kind not in KINDS:
        ctx.user.state = FILES
        raise Invalid(ctx._("I don't recognise that button."))
    if kind in ADMIN_KINDS and not ctx.is_admin:
        log.warning("refused a base's staff import of %s: user %s", kind, ctx.user.id)
        ctx.user.state = FILES
        raise Invalid(ctx._("Only the programme office imports job fairs and workers."))
    return kind


async def _base_code(ctx: Ctx) -> str:
    """Her base's code (a base's staff), else the first base's (an example)."""
    base_id = staff_base(ctx)
    if base_id is not None:
        base = await ctx.repos.staff.base(base_id)
        return base.code if base is not None else ""
    bases = await ctx.repos.staff.bases()
    return bases[0].code if bases else ""


# --- the hub ---------------------------------------------------------------------------
@router.prompt(FILES)
@staff_only
async def show_files(ctx: Ctx) -> Replies:
    _ = ctx._
    text = "📂 " + _(
        "Import and export. Import courses, job fairs or workers from a spreadsheet "
        "(CSV or XLSX) sent here as a file, or take a list away as a spreadsheet."
    )
    base_id = staff_base(ctx)
    if base_id is not None:
        base = await ctx.repos.staff.base(base_id)
        name = _.text(base.name, base.name_en) if base is not None else "—"
        text += "\n" + _("You import and export {base}'s courses only.", base=name)
    kinds = ["courses"] if base_id is not None else list(KINDS)
    labels = {
        "courses": _("📥 Import courses"),
        "fairs": _("📥 Import job fairs"),
        "workers": _("📥 Import workers"),
    }
    rows = [[ctx.button(labels[k], "imp", k)] for k in kinds]
    rows += [
        [ctx.button(_("📤 Export a list"), "export")],
        [ctx.button(_("◀ Main menu"), "home")],
    ]
    return [ctx.reply(text, *rows)]


@router.button(FILES, "imp")
@staff_only
async def choose_import(ctx: Ctx, arg: str) -> Replies:
    ctx.remember(fx_kind=_kind(ctx, arg))
    return await ctx.goto(IMPORT_FILE)


router.goes("files", FILES, IMPORT_FILE)


@router.file(FILES)
@staff_only
async def file_too_soon(ctx: Ctx, _attachment: Attachment) -> Replies:
    raise Invalid(
        ctx._("To import a file, first tap what it holds (📥 Import courses…), then send it.")
    )


# --- what to send ----------------------------------------------------------------------
def _names(columns: list[Column]) -> str:
    return ", ".join(c.field for c in columns)


@router.prompt(IMPORT_FILE)
@staff_only
async def ask_file(ctx: Ctx) -> Replies:
    _ = ctx._
    kind = _kind(ctx, ctx.form.get("fx_kind"))
    spec = list(KINDS[kind].values())
    lines = [
        "📥 "
        + _(
            "Import {what}: send the spreadsheet here as a file, CSV (UTF-8 or GBK, as "
            "Excel and WPS save it) or XLSX, at most {mb} MB and 5,000 rows.",
            what=kind_name(ctx, kind),
            mb=MAX_BYTES // 1024 // 1024,
        ),
        _(
            "The first row names the columns, in English or Chinese. Required: {required}. "
            "Optional: {optional}.",
            required=_names([c for c in spec if c.required]),
            optional=_names([c for c in spec if not c.required]),
        ),
        _(
            "Dates as 2026-12-09, 2026/12/9 or 2026年12月9日. A row whose code is there "
            "already updates it; a file with any wrong row changes nothing."
        ),
    ]
    if kind == "courses" and staff_base(ctx) is not None:
        lines.append(_("Only your base's courses: its code is {code}.", code=await _base_code(ctx)))
    if kind == "workers":
        lines.append(
            _(
                "Workers come in waiting for vetting, never as verified. Import only people "
                "who gave the programme their consent."
            )
        )
    lines.append(_("“📄 Template” gives a spreadsheet with the columns and an example row."))
    if ctx.user.key.startswith("wx:"):  # an Official Account receives no files
        lines.append(
            "⚠ "
            + _(
                "WeChat cannot send files to an Official Account: send the file to Haoxin "
                "on Telegram, or ask the programme office to import it (haoxin import)."
            )
        )
    rows = [[ctx.button(_("📄 Template"), "template")], [ctx.button(_("◀ Back"), "files")]]
    return [ctx.reply("\n".join(lines), *rows)]


@router.text(IMPORT_FILE)
@staff_only
async def typed_instead(ctx: Ctx, _text: str) -> Replies:
    raise Invalid(
        ctx._("Please send the spreadsheet itself as a file (📎 → File): a .csv or .xlsx file.")
    )


# --- the template (`handlers.import_template`) ------------------------------------------
@router.button(IMPORT_FILE, "template")
@staff_only
async def send_template(ctx: Ctx, _arg: str) -> Replies:
    _ = ctx._
    kind = _kind(ctx, ctx.form.get("fx_kind"))
    data = template_workbook(ctx, kind, KINDS[kind], await _base_code(ctx))
    try:
        name = await ctx.repos.files.keep_document(ctx.user, f"template:{kind}", data)
    except FileRejected as rejected:  # not expected: the file is ours
        log.error("import template not kept: %s", rejected.reason)
        raise Invalid(_("The file could not be made just now. Please try again later.")) from None
    text = "📄 " + _(
        "The template for {what}: fill in the first sheet (the example row shows how) and "
        "send it back here; the second sheet says what each column takes.",
        what=kind_name(ctx, kind),
    )
    back = [[ctx.button(_("◀ Back"), "files")]]
    return [Reply(text, buttons=back, document=name, document_name=f"Haoxin-{kind}.xlsx")]


# --- her file ------------------------------------------------------------------------------
def _shown_name(name: str) -> str:
    """The name she gave the file, safe to show and log: no folders, no control
    characters, at most 60 characters."""
    base = re.sub(r"[\x00-\x1f\x7f]", "", Path(name.replace("\\", "/")).name).strip()
    return base[-60:] or "file"


def _readable_name(ctx: Ctx, name: str, data: bytes) -> str:
    """The name to read the file by: its own when it says .csv, .xlsx or .xls (the
    content is then checked against it), else what its content is. Raises `Invalid`
    for anything that is no spreadsheet (a picture, a PDF)."""
    suffix = Path(name).suffix.lower()
    if suffix in (".csv", ".xlsx", ".xls"):
        return name
    found = sniff(data)
    if found == "zip":
        return f"{name}.xlsx"
    if found == "doc":
        return f"{name}.xls"
    if found in ("text", ""):  # GBK text sniffs as unknown
        return f"{name}.csv"
    raise Invalid(
        ctx._(
            "That file is not a spreadsheet (it looks like {found}). Please send a .csv or "
            ".xlsx file.",
            found=found,
        )
    )


@router.file(IMPORT_FILE)
@staff_only
async def got_file(ctx: Ctx, attachment: Attachment) -> Replies:
    _ = ctx._
    kind = _kind(ctx, ctx.form.get("fx_kind"))
    if attachment.failed:
        raise Invalid(_("That file could not be received. Please send it again."))
    if attachment.too_big or attachment.size > MAX_BYTES or attachment.data is None:
        raise Invalid(too_big(ctx, attachment.size))
    if attachment.kind == "photo":
        raise Invalid(
            _("That is a photo. Please send the spreadsheet itself as a file: .csv or .xlsx.")
        )
    if not attachment.data:
        raise Invalid(_("That file is empty. Please send the spreadsheet with its rows."))
    shown = _shown_name(attachment.name)
    table = attachment.table  # read before the event's transaction (`bot.dispatcher`)
    if table is None:  # not named as one: what its content is, read here
        readable = _readable_name(ctx, shown, attachment.data)
        try:
            table = await asyncio.to_thread(read_bytes, attachment.data, readable)
        except TableError as err:
            raise Invalid(table_error(ctx, err, shown)) from None
    if isinstance(table, TableError):
        raise Invalid(table_error(ctx, table, shown))
    table.source = shown
    if not table.rows and not table.headers:
        raise Invalid(_("{file} holds no rows: nothing was imported.", file=shown))
    base_id = staff_base(ctx)
    try:
        result, told = await import_spreadsheet(
            ctx.repos,
            ctx.options,
            kind,
            table,
            base_ids={base_id} if base_id is not None else None,
            staff=ctx.user.key,
        )
    except ValidationFailed as failed:
        log.info("import of %s by user %s refused: %d problems", kind, ctx.user.id, failed.total)
        return [*await _problems(ctx, failed, table, kind), *await ctx.ask()]
    log.info("user %s imported %s: %s", ctx.user.id, kind, result.summary())
    if not result.rows:
        raise Invalid(_("{file} holds no rows: nothing was imported.", file=shown))
    text = "✅ " + _.ngettext(
        "{file}: {n} row of {what} imported: {created} new, {updated} updated, "
        "{unchanged} unchanged.",
        "{file}: {n} rows of {what} imported: {created} new, {updated} updated, "
        "{unchanged} unchanged.",
        result.rows,
        file=shown,
        what=kind_name(ctx, kind),
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
    )
    if kind != "workers":
        text += "\n" + _("People holding a place who were told of a change: {n}.", n=told)
    ctx.remember(fx_kind=None)
    return [ctx.reply(text), *await ctx.goto(FILES)]


async def _problems(ctx: Ctx, failed: ValidationFailed, table: Table, kind: str) -> list[Reply]:
    """The problems as messages (each within `TEXT_ROOM`, never cut), the first
    `SHOWN_PROBLEMS`; beyond them, how many more and a spreadsheet of them all."""
    _ = ctx._
    headers = headers_of(table, KINDS[kind])
    mine = await _base_code(ctx) if staff_base(ctx) is not None else ""
    known = [mine] if mine else [b.code for b in await ctx.repos.staff.bases()]
    parts = [problem_parts(ctx, p, headers, KINDS[kind], known) for p in failed.problems]
    lines = [problem_line(ctx, *part) for part in parts]
    head = "⚠ " + _.ngettext(
        "Nothing was imported: {file} has {n} problem. Correct it and send the file again:",
        "Nothing was imported: {file} has {n} problems. Correct them and send the file again:",
        failed.total,
        file=table.source,
    )
    texts, current = [], head
    for line in lines[:SHOWN_PROBLEMS]:
        if len(current) + len(line) + 1 > TEXT_ROOM:
            texts.append(current)
            current = line
        else:
            current += "\n" + line
    replies = [ctx.reply(t) for t in texts]
    if failed.total <= SHOWN_PROBLEMS:
        return [*replies, ctx.reply(current)]
    more = failed.total - SHOWN_PROBLEMS
    current += "\n" + _.ngettext(
        "… and {n} more: every problem is in the spreadsheet sent with this message.",
        "… and {n} more: every problem is in the spreadsheet sent with this message.",
        more,
    )
    data = problems_workbook(ctx, parts, failed.total)
    try:
        name = await ctx.repos.files.keep_document(ctx.user, "import-problems", data)
    except FileRejected as rejected:  # not expected: the file is ours
        log.error("import problems not kept: %s", rejected.reason)
        return [*replies, ctx.reply(current)]
    shown = f"Haoxin-problems-{ctx.today():%Y%m%d}.xlsx"
    return [*replies, Reply(current, document=name, document_name=shown)]
