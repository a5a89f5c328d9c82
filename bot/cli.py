"""`haoxin`: the command line.

haoxin --version                                        the installed version
haoxin chat [--user NAME] [--demo] [--lang zh|yue|en]   the terminal chat
haoxin db upgrade                                       apply migrations
haoxin import FILE                                      import bases, courses, fairs
haoxin import trainings FILE                            mark who attended or completed
haoxin import courses|fairs|workers FILE                import a spreadsheet (CSV, XLSX)
haoxin import faq FILE                                  add to the questions and answers
haoxin export signups|waiting|attendance|fairs|workers --staff KEY [--course ID|--fair ID]
              [--format xlsx|csv] [--out FILE]          a list as a spreadsheet
haoxin run telegram|wechat [--framework aiogram|ptb] [--webhook-url URL] [--listen HOST:PORT]
                                                        serve a messaging platform
haoxin chores                                           one pass of the chores, now

`haoxin chores` does at once what a running bot does every minute (`handlers.chores`):
expires interview requests unanswered for 24 hours, finishes jobs past their end date
(both sides asked for a review), offers newly verified workers to open requests; the
messages go to the outbox, for the running bot to send. It prints
`expired: N, finished: N, offered: N`.

`haoxin import` prints how many rows of each kind it imported. A file it refuses (see
`storage.importer`) gets one line on stderr, `haoxin import: FILE: ROW, FIELD: WHY`, and
exit status 1, with nothing imported. A file without rows (empty, only comments, `{}`,
empty lists) is no error: it prints `FILE: nothing to import (the file holds no rows)`
and exits 0, so that an emptied file is noticed but does not fail a script.

`haoxin import trainings FILE` (`storage.training_import`: a CSV, YAML or JSON file of
course, phone, attended, completed_on) marks who attended and completed a course and
prints `FILE: N rows: ... completed, ... attended, ... absent, ... already marked so`.
A file with any wrong row marks nothing: every problem is one line on stderr,
`haoxin import: FILE: row 3 (line 4), course C, field F: WHY`, and the exit status is 1.

`haoxin import courses|fairs|workers FILE` (`storage.bulk_import`: a .csv in UTF-8 or
GBK, or an .xlsx, of at most 5 MB and 5,000 rows) creates or updates rows by their
`code` and prints `FILE: KIND: N rows: N new, N updated, N unchanged`, and how many
people holding a place were told of a changed date, room or status. On a terminal, a
progress line (`12/340 rows`) runs on stderr meanwhile. A file with any problem imports
nothing: one line a problem on stderr, `haoxin import: FILE: row 3, column C: WHY` (the
first 50, then `… and N more`), and exit status 1. Workers are imported for staff to
vet, never as verified.

`haoxin import faq FILE` (`storage.faq`: a .yaml file shaped as storage/faq.yaml, or a
.csv / .xlsx with the columns key, topic, question_zh, question_yue, question_en,
answer_zh, answer_yue, answer_en; several questions in a cell one per line) adds
entries to the catalogue of questions and answers, or replaces those of the same key
(a shipped one too), all or nothing, and prints `FILE: faq: N entries: N new, N
replaced`. Every instance answers from them at its next question. A wrong file imports
nothing: one line a problem on stderr and exit status 1.

`haoxin export WHAT --staff KEY` writes a list as a spreadsheet: a course's sign-ups,
waiting list or attendance (`--course CODE`; without it, every course), a fair's
registrations (`--fair CODE`; without it, every fair), the verified workers. They are
personal data: KEY must be an admin's (`HAOXIN_ADMIN_IDS`), and every export is written
to the audit log. `--out FILE` (default: named after the list and the day, in the
current folder, readable by its owner alone; `-`: standard output), `--format` (default:
the suffix of `--out`, else xlsx). It prints `FILE: N rows`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import IMPORT_TRIES, App, create_app, import_file, import_trainings, seed_demo
from bot.config import Settings
from storage.bulk_import import ImportResult, Progress
from storage.db import Database
from storage.exports import COURSE_KINDS, FORMATS
from storage.exports import KINDS as EXPORTS
from storage.importer import DataFileError
from storage.tabular import Table
from storage.training_import import TrainingRowsError

#: `haoxin import trainings FILE`: the word that says the file is of course attendance
TRAININGS = "trainings"
#: `haoxin import KIND FILE`: spreadsheets of these (`storage.bulk_import`)
TABLES = ("courses", "fairs", "workers")
#: `haoxin import faq FILE`: entries of the catalogue of questions (`storage.faq`)
FAQ = "faq"
#: the most problems printed, one a line (then how many more)
SHOWN_PROBLEMS = 50


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("haoxin")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def console_user(name: str) -> str:
    """The platform key of a terminal user: `admin` and `console:admin` are the same
    person (HAOXIN_ADMIN_IDS names `console:admin`). Raises ValueError for a name of
    another platform (`tg:1`): the terminal must not act for a Telegram or WeChat user."""
    platform, sep, rest = name.strip().partition(":")
    if not sep:
        rest, platform = platform, "console"
    if platform != "console" or not rest:
        raise ValueError(
            f"--user must be a terminal name like `admin` or `console:admin`: {name!r}"
        )
    return f"console:{rest}"


class _Defaults(argparse.ArgumentDefaultsHelpFormatter):
    """Help that shows each option's default, where it has one."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or isinstance(action.default, bool):
            return action.help or ""
        return super()._get_help_string(action) or ""


def _parser() -> argparse.ArgumentParser:
    shown = _Defaults
    parser = argparse.ArgumentParser(
        prog="haoxin",
        description="Haoxin 好心: the home-services programme's chatbot. Settings come from "
        "HAOXIN_* environment variables or a .env file (see README).",
        formatter_class=shown,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    chat = sub.add_parser("chat", help="chat with Haoxin in this terminal", formatter_class=shown)
    chat.add_argument(
        "--user",
        default="local",
        help="who is chatting: a name, the same as console:NAME (admins are listed in "
        "HAOXIN_ADMIN_IDS, e.g. console:admin)",
    )
    chat.add_argument(
        "--demo",
        action="store_true",
        help="load the demo courses and fairs if the database has none",
    )
    chat.add_argument(
        "--lang",
        help="language of a new user: zh, yue or en, or a locale like zh-HK (default: "
        "Simplified Chinese; she can change it in the chat)",
    )

    db = sub.add_parser("db", help="database maintenance", formatter_class=shown)
    db.add_argument(
        "action", choices=["upgrade"], help="upgrade: apply the database migrations not yet applied"
    )

    run = sub.add_parser("run", help="serve a messaging platform", formatter_class=shown)
    run.add_argument("platform", choices=["telegram", "wechat"], help="which platform to serve")
    run.add_argument(
        "--framework",
        choices=["aiogram", "ptb"],
        default="aiogram",
        help="Telegram: the framework that talks to the Bot API (ptb: python-telegram-bot)",
    )
    run.add_argument(
        "--webhook-url",
        help="Telegram: receive updates at this public HTTPS URL instead of polling "
        "(default: polling)",
    )
    run.add_argument(
        "--listen",
        default="127.0.0.1:8080",
        help="HOST:PORT the webhook server listens on (WeChat, or Telegram with --webhook-url)",
    )

    sub.add_parser(
        "chores",
        help="run the chores once now: expire unanswered interview requests, ask for "
        "reviews of jobs that ended, offer newly verified workers to open requests",
        formatter_class=shown,
    )

    imp = sub.add_parser(
        "import",
        help="import training bases, courses and job fairs from a YAML or JSON file, or "
        "(import trainings FILE) mark who attended and completed courses",
        formatter_class=shown,
    )
    imp.add_argument(
        "file",
        type=Path,
        metavar="FILE | KIND",
        help="a .yaml, .yml or .json file (see storage/demo.yaml); or what the next FILE "
        f"holds: `{TRAININGS}` (attendance), `{FAQ}` (questions and answers), or "
        f"{', '.join(TABLES)} (a spreadsheet)",
    )
    imp.add_argument(
        "trainings_file",
        type=Path,
        nargs="?",
        metavar="FILE",
        help=f"after `{TRAININGS}`: a .csv (UTF-8 or GBK), .yaml, .yml or .json file with "
        "the columns course, phone, attended (yes/no), completed_on (e.g. 2026-12-09); "
        "see storage/demo_trainings.csv. After courses, fairs or workers: a .csv (UTF-8 "
        "or GBK) or .xlsx file of at most 5 MB and 5,000 rows, a header row first, rows "
        "matched by their code column (see storage/import_checks.py for the columns)",
    )

    exp = sub.add_parser(
        "export",
        help="write a sign-up list, waiting list, attendance, fair registrations or the "
        "verified workers as a spreadsheet (personal data: admins only, audited)",
        formatter_class=shown,
    )
    exp.add_argument("what", choices=EXPORTS, help="which list")
    exp.add_argument(
        "--staff",
        required=True,
        metavar="KEY",
        help="who is exporting: an admin's key from HAOXIN_ADMIN_IDS (a terminal name "
        "like `admin` is console:admin); written to the audit log",
    )
    exp.add_argument(
        "--course",
        metavar="ID",
        help="signups, waiting, attendance: the course's code (or id) (default: every course)",
    )
    exp.add_argument(
        "--fair", metavar="ID", help="fairs: the fair's code (or id) (default: every fair)"
    )
    exp.add_argument(
        "--format",
        choices=FORMATS,
        help="xlsx or csv (UTF-8 with a byte-order mark) (default: the suffix of --out, else xlsx)",
    )
    exp.add_argument(
        "--out",
        metavar="FILE",
        help="the file to write, or - for standard output (default: named after the list "
        "and today, in the current folder)",
    )
    return parser


async def _main(args: argparse.Namespace) -> int:
    app = await create_app(Settings())
    try:
        if args.command == "db":
            print("database is up to date")
        elif args.command == "import" and str(args.file) in TABLES and args.trainings_file:
            return await _import_table(app, str(args.file), args.trainings_file)
        elif args.command == "import" and str(args.file) == FAQ and args.trainings_file:
            return await _import_faq(app, args.trainings_file)
        elif args.command == "import" and args.trainings_file is not None:
            return await _import_trainings(app, args.trainings_file)
        elif args.command == "export":
            return await _export(app, args)
        elif args.command == "import":
            return await _import(app, args.file)
        elif args.command == "chat":
            from bot.console import chat

            if args.demo:
                await seed_demo(app.db, app.settings)
            await chat(app.dispatcher, console_user(args.user), lang_hint=args.lang)
        elif args.command == "chores":
            counts = await app.dispatcher.run_chores()
            print(", ".join(f"{name}: {n}" for name, n in counts.items()))
        elif args.command == "run":
            from bot.platforms import run_platform

            return await run_platform(
                app, args.platform, args.framework, args.webhook_url, args.listen
            )
    finally:
        await app.close()
    return 0


async def _import(app: App, path: Path) -> int:
    from sqlalchemy.exc import OperationalError

    if path.suffix.lower() in (".csv", ".xlsx", ".xls"):
        print(
            f"haoxin import: {path}: a spreadsheet: say what it holds, e.g. "
            f"`haoxin import courses {path}` ({', '.join((*TABLES, TRAININGS))})",
            file=sys.stderr,
        )
        return 1
    try:
        counts = await import_file(app.db, path, app.settings)
    except DataFileError as err:
        print(f"haoxin import: {err}", file=sys.stderr)
        return 1
    except OperationalError as err:
        # SQLite's write lock, held by the bot past the busy timeout: the import rolled back
        text = str(err.orig if err.orig is not None else err).lower()
        if "locked" not in text and "busy" not in text:
            raise
        print(
            f"haoxin import: {path}: the database is busy (the bot is writing); "
            "nothing was imported, try again",
            file=sys.stderr,
        )
        return 1
    skipped = counts.pop("worker_profiles_skipped", 0)
    if not any(n for name, n in counts.items() if name != "notices"):
        print(f"{path}: nothing to import (the file holds no rows)")
    else:
        print(", ".join(f"{name}: {n}" for name, n in counts.items()))
    if skipped:
        print(
            f"{path}: {skipped} demo worker profiles left out: they are loaded only by "
            "`haoxin chat --demo`"
        )
    return 0


async def _import_faq(app: App, path: Path) -> int:
    """`haoxin import faq FILE`: the summary, or every problem (nothing imported)."""
    from storage.faq import FaqError, FaqRepo, Imported, read_catalogue

    try:
        content = await asyncio.to_thread(path.read_bytes)
        catalogue = read_catalogue(content, path.name)
    except FaqError as err:
        for problem in err.problems[:SHOWN_PROBLEMS]:
            print(f"haoxin import: {path}: {problem}", file=sys.stderr)
        print(f"haoxin import: {path}: nothing was imported", file=sys.stderr)
        return 1
    except (DataFileError, OSError) as err:
        print(f"haoxin import: {path}: {err}", file=sys.stderr)
        return 1
    if not catalogue.entries and not catalogue.hidden:
        print(f"{path}: nothing to import (the file holds no rows)")
        return 0

    async def write(session: AsyncSession) -> Imported:
        return await FaqRepo(session).import_catalogue(catalogue, "cli")

    done = await app.db.transaction(write, tries=IMPORT_TRIES)
    if done.hidden < len(catalogue.hidden):
        print(
            f"haoxin import: {path}: {len(catalogue.hidden) - done.hidden} of the keys to hide "
            "are in no entry (or hidden already)",
            file=sys.stderr,
        )
    print(
        f"{path}: faq: {len(catalogue.entries)} entries: {done.added} new, "
        f"{done.replaced} replaced, {done.hidden} hidden"
    )
    return 0


async def _import_trainings(app: App, path: Path) -> int:
    """`haoxin import trainings FILE`: every problem on its own line, or the summary."""
    try:
        counts = await import_trainings(app.db, path)
    except TrainingRowsError as err:
        for problem in err.problems:
            print(f"haoxin import: {problem}", file=sys.stderr)
        total = len(err.problems)
        print(
            f"haoxin import: {path}: nothing was marked ({total} problem"
            f"{'s' if total != 1 else ''}); correct the file and import it again",
            file=sys.stderr,
        )
        return 1
    except DataFileError as err:
        print(f"haoxin import: {err}", file=sys.stderr)
        return 1
    print(counts.summary(str(path)))
    return 0


class _Progress:
    """`12/340 rows` on stderr, rewritten in place (a terminal only), at most a hundred
    times in all; `end` finishes the line."""

    def __init__(self) -> None:
        self.shown = -1
        self.total = 0

    def __call__(self, done: int, total: int) -> None:
        step = max(1, total // 100)
        if done != total and done % step and done != 1:
            return
        self.total = total
        sys.stderr.write(f"\r{done}/{total} rows")
        sys.stderr.flush()
        self.shown = done

    def end(self) -> None:
        if self.shown >= 0:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.shown = -1


async def import_table(
    db: Database,
    settings: Settings,
    kind: str,
    table: Table,
    progress: Progress | None = None,
) -> tuple[ImportResult, int]:
    """Import a spreadsheet of `kind` (`courses`, `fairs`, `workers`) all or nothing, in
    one transaction (run again on a conflict with the bot's writes); everyone holding a
    place on a course or fair whose date, room or status changed is told, in the same
    transaction. Returns (what was done, how many were told). Raises `ValidationFailed`
    (nothing written). Workers come in for staff to vet, with the privacy notice's
    version as their consent's (`storage.worker_import.import_workers`)."""
    from handlers.staff_files import import_spreadsheet
    from storage.repositories import Repos

    async def write(session: AsyncSession) -> tuple[ImportResult, int]:
        repos = Repos(session, settings.file_store())
        return await import_spreadsheet(repos, settings.options(), kind, table, progress=progress)

    return await db.transaction(write, tries=IMPORT_TRIES)


async def _import_table(app: App, kind: str, path: Path) -> int:
    """`haoxin import courses|fairs|workers FILE`: the summary, or every problem."""
    from storage.bulk_import import ValidationFailed
    from storage.tabular import read_path

    try:
        table = read_path(path)
    except DataFileError as err:
        print(f"haoxin import: {err}", file=sys.stderr)
        return 1
    progress = _Progress() if sys.stderr.isatty() else None
    try:
        result, told = await import_table(app.db, app.settings, kind, table, progress)
    except ValidationFailed as err:
        if progress is not None:
            progress.end()
        for line in err.lines()[:SHOWN_PROBLEMS]:
            print(f"haoxin import: {line}", file=sys.stderr)
        if err.total > SHOWN_PROBLEMS:
            print(f"haoxin import: … and {err.total - SHOWN_PROBLEMS} more", file=sys.stderr)
        print(
            f"haoxin import: {path}: nothing was imported ({err.total} problem"
            f"{'s' if err.total != 1 else ''}); correct the file and import it again",
            file=sys.stderr,
        )
        return 1
    except DataFileError as err:
        if progress is not None:
            progress.end()
        print(f"haoxin import: {err}", file=sys.stderr)
        return 1
    if progress is not None:
        progress.end()
    print(result.summary())
    if told:
        print(f"{path}: {told} people holding a place told of the changes")
    return 0


async def _export(app: App, args: argparse.Namespace) -> int:
    """`haoxin export WHAT --staff KEY`: an admin, or a training base's staff (her base's
    courses' lists only: `storage.exports.build`); the file is written and the export
    logged in one transaction (a file that cannot be written logs nothing; standard
    output is written once it is logged)."""
    import os

    from storage.exports import ExportRefused, build, log_export, render
    from storage.repositories import Repos

    staff = args.staff.strip()
    key = staff if ":" in staff else f"console:{staff}"
    base_id: int | None = None  # an admin: every base
    if not app.settings.is_admin(key):
        async with app.db.sessions() as session:
            user = await Repos(session).users.get(key)
        base_id = user.staff_base_id if user is not None else None
        if base_id is None:
            print(
                f"haoxin export: {key} is neither an admin (HAOXIN_ADMIN_IDS) nor staff of a "
                "training base: exports hold personal data; nothing was written",
                file=sys.stderr,
            )
            return 1
    out = args.out
    fmt = args.format or (
        out.rsplit(".", 1)[-1].lower()
        if out and out != "-" and out.rsplit(".", 1)[-1].lower() in FORMATS
        else "xlsx"
    )

    async def write(session: AsyncSession) -> tuple[str, bytes, int]:
        export = await build(
            session,
            args.what,
            course=args.course,
            fair=args.fair,
            base_id=base_id,
            timezone=app.settings.timezone,
        )
        content = render(export, fmt)
        target = out or export.file_name(fmt)
        if target != "-":  # personal data: readable by its owner alone
            handle = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(handle, 0o600)  # a file that was there keeps no wider mode
            with os.fdopen(handle, "wb") as stream:
                stream.write(content)
        await log_export(session, key, export, fmt)
        return target, content, len(export.rows)

    try:
        target, content, rows = await app.db.transaction(write, tries=IMPORT_TRIES)
    except ExportRefused as err:
        if err.reason == "not_your_base":
            print(
                f"haoxin export: {err.subject!r} is not of {key}'s training base; nothing was "
                "written",
                file=sys.stderr,
            )
            return 1
        what = {"unknown_course": "no course", "unknown_fair": "no fair"}.get(err.reason, "no")
        print(f"haoxin export: {what} {err.subject!r}; nothing was written", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"haoxin export: {args.out}: {err.strerror or err}", file=sys.stderr)
        return 1
    if target == "-":  # after the transaction: a run again never writes it twice
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
    shown = "standard output" if target == "-" else target
    print(
        f"{shown}: {rows} row{'s' if rows != 1 else ''}",
        file=sys.stderr if target == "-" else sys.stdout,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one command. A failure is one redacted line on stderr and exit status 1, never
    a traceback: a library's error can quote the bot token or a person's data."""
    parser = _parser()
    args = parser.parse_args(argv)
    kinds = (TRAININGS, FAQ, *TABLES)
    if args.command == "import" and args.trainings_file is not None:
        if str(args.file) not in kinds:
            parser.error(
                f"import takes one FILE, or what it holds ({', '.join(kinds)}) and a FILE: "
                f"{args.file}"
            )
    elif args.command == "import" and str(args.file) in kinds and not args.file.exists():
        parser.error(f"import {args.file} needs the FILE to import")
    if args.command == "export":
        if args.course is not None and args.what not in COURSE_KINDS:
            parser.error(f"--course goes with {', '.join(COURSE_KINDS)}, not {args.what}")
        if args.fair is not None and args.what != "fairs":
            parser.error(f"--fair goes with fairs, not {args.what}")
    if args.command == "chat":
        try:
            console_user(args.user)
        except ValueError as err:
            parser.error(str(err))
    try:
        return asyncio.run(_main(args))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from bot.logs import redact
        from storage.db import Database

        if Database.retryable(exc):  # another process holds the database: not a fault
            print(
                "haoxin: the database is busy (another process is writing); try again",
                file=sys.stderr,
            )
            return 1
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        print(f"haoxin: {type(exc).__name__}: {redact(first)}".rstrip(": "), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
