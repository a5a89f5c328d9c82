"""README's security and privacy promises name tests: every named test must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent


def named_tests() -> list[tuple[str, str]]:
    """(file, test) for every `file.py::test` and following `::test` in the promises."""
    section = ROOT.joinpath("README.md").read_text(encoding="utf-8")
    section = section.split("## Security and privacy", 1)[1].split("\n## ", 1)[0]
    found = []
    for row in section.splitlines():
        current = None
        for file, name in re.findall(r"`(test_\w+\.py)?(?:::(\w+))?`", row):
            current = file or current
            if current and name:
                found.append((current, name))
    return found


def test_every_test_named_by_a_readme_promise_exists():
    named = named_tests()
    assert len(named) >= 20
    for file, name in named:
        source = ROOT.joinpath("tests", file).read_text(encoding="utf-8")
        assert re.search(rf"^(async )?def {name}\(", source, re.M), f"{file}::{name}"
