"""`haoxin`: the command line.

haoxin --version                                        the installed version
haoxin chat [--user NAME] [--demo] [--lang zh|yue|en]   the terminal chat
haoxin db upgrade                                       apply migrations
haoxin import FILE                                      import bases, courses, fairs
haoxin import trainings FILE                            mark who attended or completed
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
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.app import App, create_app, import_file, import_trainings, seed_demo
from bot.config import Settings
from storage.importer import DataFileError
from storage.training_import import TrainingRowsError

#: `haoxin import trainings FILE`: the word that says the file is of course attendance
TRAININGS = "trainings"


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
        metavar="FILE | trainings",
        help="a .yaml, .yml or .json file (see storage/demo.yaml); or the word "
        f"`{TRAININGS}`, then a file of attendance",
    )
    imp.add_argument(
        "trainings_file",
        type=Path,
        nargs="?",
        metavar="FILE",
        help=f"after `{TRAININGS}`: a .csv (UTF-8 or GBK), .yaml, .yml or .json file with "
        "the columns course, phone, attended (yes/no), completed_on (e.g. 2026-12-09); "
        "see storage/demo_trainings.csv",
    )
    return parser


async def _main(args: argparse.Namespace) -> int:
    app = await create_app(Settings())
    try:
        if args.command == "db":
            print("database is up to date")
        elif args.command == "import" and args.trainings_file is not None:
            return await _import_trainings(app, args.trainings_file)
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


def main(argv: list[str] | None = None) -> int:
    """Run one command. A failure is one redacted line on stderr and exit status 1, never
    a traceback: a library's error can quote the bot token or a person's data."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "import" and args.trainings_file is not None:
        if str(args.file) != TRAININGS:
            parser.error(f"import takes one FILE, or `{TRAININGS}` and a FILE: {args.file}")
    elif args.command == "import" and str(args.file) == TRAININGS and not args.file.exists():
        parser.error(f"import {TRAININGS} needs the FILE to import")
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
