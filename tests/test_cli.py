"""The command line as staff meet it: a version, help for everything, one name per person."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from bot.cli import _parser, console_user
from tests.test_console_and_data import run_chat

ADMIN = {"HAOXIN_ADMIN_IDS": "console:admin"}


def test_haoxin_version_prints_the_installed_version():
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    name, version = done.stdout.split()
    assert name == "haoxin" and version[0].isdigit(), done.stdout


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_subcommand_and_option_has_help_and_shows_its_default():
    parser = _parser()
    commands = _commands(parser)
    assert set(commands) == {"chat", "db", "run", "import", "chores", "export"}
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert all(choice.help for choice in sub._choices_actions)  # listed with a summary
    for name, command in commands.items():
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"haoxin {name} {action.dest} has no help text"
        text = command.format_help()
        for action in command._actions:
            if action.default not in (None, False) and not isinstance(action, argparse._HelpAction):
                assert f"(default: {action.default})" in " ".join(text.split()), (name, action)


def test_user_admin_and_console_admin_are_the_same_person(tmp_path):
    assert console_user("admin") == console_user("console:admin") == "console:admin"
    with pytest.raises(ValueError):
        console_user("tg:1")  # the terminal never acts for a Telegram user
    first = run_chat(tmp_path, "/start\n1\n1\n", "--user", "admin", "--lang", "en", **ADMIN)
    assert "Programme staff menu" in first.stdout, first.stdout
    # the same person under her full name: no greeting again, straight to her menu
    second = run_chat(tmp_path, "/menu\n", "--user", "console:admin", **ADMIN)
    assert "Hello! I am Haoxin" not in second.stdout
    assert "Programme staff menu" in second.stdout, second.stdout


def test_a_platform_key_as_the_terminal_user_is_refused_with_a_usage_line(tmp_path):
    done = run_chat(tmp_path, "", "--user", "wx:someone")
    assert done.returncode == 2
    assert "--user must be a terminal name" in done.stderr and "Traceback" not in done.stderr
