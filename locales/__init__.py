"""Haoxin's languages: gettext catalogs and locale-aware formatting.

Message ids are the English source text (gettext convention); every language, English
included, has its own catalog under `locales/<locale>/LC_MESSAGES/haoxin.po`. The `.po`
files are read directly at start-up (with Babel), so a fresh install needs no compile
step. Placeholders are `str.format` names: `_("Seat {n} of {total}", n=3, total=20)`.
"""

from __future__ import annotations

import datetime as dt
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime, format_skeleton, format_time
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal

HERE = Path(__file__).parent
DOMAIN = "haoxin"
DEFAULT = "zh"

# our language code -> (catalog folder, Babel locale for dates and money, its own name)
LANGUAGES: dict[str, tuple[str, str, str]] = {
    "zh": ("zh_Hans_CN", "zh_Hans_CN", "简体中文"),
    "yue": ("yue_Hant_HK", "zh_Hant_HK", "廣東話（繁體）"),
    "en": ("en", "en_GB", "English"),
}

_TRADITIONAL_HINTS = ("zh-hant", "zh-tw", "zh-hk", "zh-mo", "yue", "zh_tw", "zh_hk", "zh_mo")


def detect_language(hint: str | None) -> str:
    """Our language code for a platform's hint (`zh-hans`, `zh_HK`, `en-US`, `yue`...)."""
    h = (hint or "").strip().lower().replace("_", "-")
    if not h:
        return DEFAULT
    if h.startswith(tuple(x.replace("_", "-") for x in _TRADITIONAL_HINTS)):
        return "yue"
    if h.startswith("zh"):
        return "zh"
    if h.startswith("en"):
        return "en"
    return DEFAULT


def catalog_path(lang: str) -> Path:
    return HERE / LANGUAGES[lang][0] / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def load_catalog(lang: str) -> dict[str, str]:
    """msgid -> translation for one language (empty translations left out)."""
    with catalog_path(lang).open("rb") as f:
        catalog = read_po(f, locale=LANGUAGES[lang][1])
    return {m.id: m.string for m in catalog if m.id and isinstance(m.id, str) and m.string}


class Translator:
    """Translates and formats for one language. Call it like gettext: `_("Hello")`."""

    __slots__ = ("_messages", "lang", "locale")

    def __init__(self, lang: str) -> None:
        if lang not in LANGUAGES:
            lang = DEFAULT
        self.lang = lang
        self.locale = Locale.parse(LANGUAGES[lang][1])
        self._messages = load_catalog(lang)

    def __call__(self, message: str, /, **params: object) -> str:
        text = self._messages.get(message, message)
        return text.format(**params) if params else text

    gettext = __call__

    def date(self, value: dt.date, fmt: str = "medium") -> str:
        return _format_date(self.lang, value, fmt)

    def short_date(self, value: dt.date) -> str:
        """Month and day only: 12月9日, 9 Dec."""
        return _format_skeleton(self.lang, "MMMd", value)

    def month(self, value: dt.date) -> str:
        """Year and month: 2026年12月, December 2026."""
        return _format_skeleton(self.lang, "yMMMM", value)

    def time(self, value: dt.time | dt.datetime, fmt: str = "short") -> str:
        return format_time(value, format=fmt, locale=self.locale)

    def datetime(self, value: dt.datetime, fmt: str = "medium") -> str:
        return format_datetime(value, format=fmt, locale=self.locale)

    def money(self, fen: int, currency: str = "CNY") -> str:
        """An amount held in fen (1/100 yuan), e.g. 780000 -> ¥7,800.00 / CN¥7,800.00."""
        return format_currency(fen / 100, currency, locale=self.locale)

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)


# a list of courses writes a few dozen dates, the same ones again and again: Babel takes
# ~50 µs each (a fifth of rendering a list), a dictionary lookup a fraction of one
@lru_cache(maxsize=4096)
def _format_date(lang: str, value: dt.date, fmt: str) -> str:
    return format_date(value, format=fmt, locale=translator(lang).locale)


@lru_cache(maxsize=4096)
def _format_skeleton(lang: str, skeleton: str, value: dt.date) -> str:
    return format_skeleton(skeleton, value, locale=translator(lang).locale)


@cache
def translator(lang: str) -> Translator:
    return Translator(lang)


def language_name(lang: str) -> str:
    return LANGUAGES[lang][2]
