"""Every message in the code is translated in every catalog, with the same placeholders."""

from __future__ import annotations

import datetime as dt
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from locales import LANGUAGES, Translator, catalog_path, detect_language

ROOT = Path(__file__).parent.parent


def source_messages() -> set[str]:
    found = set()
    for folder in ("bot", "handlers", "storage", "locales"):
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords={"_": None}
        ):
            found.add(message)
    return found


def placeholders(text: str | tuple[str, ...]) -> set[str]:
    """The placeholders of a message, or of all the forms of a plural one."""
    texts = (text,) if isinstance(text, str) else text
    return {n for t in texts for _lit, n, _spec, _conv in string.Formatter().parse(t) if n}


def test_the_code_has_messages_to_translate():
    assert len(source_messages()) > 40


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_translates_every_message_in_the_code(lang):
    with catalog_path(lang).open("rb") as f:
        catalog = read_po(f)
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(source_messages() - translated.keys())
    assert not missing, f"{lang} misses {len(missing)} messages, e.g. {missing[:3]}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_the_placeholders_of_the_source(lang):
    with catalog_path(lang).open("rb") as f:
        catalog = read_po(f)
    wrong = [
        (m.id, m.string)
        for m in catalog
        if m.id and m.string and placeholders(m.id) != placeholders(m.string)
    ]
    assert not wrong, f"{lang}: placeholders differ: {wrong[:3]}"


def test_the_cantonese_catalog_is_in_traditional_characters():
    simplified_only = set("这们说话语时间钟个来对还没为请选择资删欢发")
    with catalog_path("yue").open("rb") as f:
        catalog = read_po(f)
    leaks = [
        m.string
        for m in catalog
        if m.string
        and simplified_only
        & set(
            "".join([m.string] if isinstance(m.string, str) else m.string).replace("简体中文", "")
        )
    ]
    assert not leaks, leaks[:3]


@pytest.mark.parametrize(
    "hint, lang",
    [
        ("zh-hans", "zh"),
        ("zh-CN", "zh"),
        ("zh_CN", "zh"),
        ("zh", "zh"),
        ("zh-hant", "yue"),
        ("zh-HK", "yue"),
        ("zh_TW", "yue"),
        ("yue", "yue"),
        ("en", "en"),
        ("en-US", "en"),
        ("fr", "zh"),
        (None, "zh"),
        ("", "zh"),
    ],
)
def test_language_from_the_platform_hint(hint, lang):
    assert detect_language(hint) == lang


def test_dates_and_money_are_formatted_for_the_locale():
    day = dt.date(2026, 12, 3)
    assert Translator("zh").date(day) == "2026年12月3日"
    assert Translator("en").date(day) == "3 Dec 2026"
    assert Translator("zh").money(780_000) == "¥7,800"  # whole yuan, as on every screen
    assert "7,800" in Translator("yue").money(780_000)
    assert Translator("en").money(4_500) == "CN¥45"
    assert Translator("en").money(4_550) == "CN¥45.50"
    assert Translator("en")("Language: {name}", name="English") == "Language: English"
    assert Translator("zh")("Language: {name}", name="English") == "语言：English"


def test_no_message_hides_inside_an_f_string():
    """Babel cannot extract `_("...")` written inside an f-string: it would never be
    translated. Such calls must stand outside (`label = _("...")`, then f"{label}")."""
    hidden = []
    for folder in ("bot", "handlers", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if re.search(r"""f(["']).*\{[^}]*\b_\(""", line):
                    hidden.append(f"{path.name}:{n}")
    assert not hidden, hidden
