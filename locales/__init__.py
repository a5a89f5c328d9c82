"""Haoxin's languages: gettext catalogs and locale-aware formatting.

Message ids are the English source text (gettext convention); every language, English
included, has its own catalog under `locales/<locale>/LC_MESSAGES/haoxin.po`. The `.po`
files are read directly at start-up (with Babel), so a fresh install needs no compile
step. Placeholders are `str.format` names: `_("Seat {n} of {total}", n=3, total=20)`;
plurals come from the catalog's plural forms: `_.ngettext("{n} course", "{n} courses", n)`.

Content (course and fair data) is shown in the reader's language too:

- fixed vocabularies (`storage.vocab`: kinds of work, counties, cities...) by their
  term's label, a catalog message: `_.term(COUNTIES, "电白")` is 电白 / 電白 / Dianbai;
- free text (titles, bases, addresses, employers) as written in Simplified Chinese,
  converted to Hong Kong Traditional characters for Cantonese readers (OpenCC `s2hk`),
  and in its English field, where the data file gives one, for English readers:
  `_.text(course.title, course.title_en)`.
"""

from __future__ import annotations

import datetime as dt
import gettext as _gettext
import re
from collections.abc import Callable, Iterable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Protocol

from babel import Locale
from babel.dates import format_date, format_datetime, format_skeleton, format_time
from babel.lists import format_list
from babel.messages.catalog import Catalog
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
def _read_catalog(lang: str) -> Catalog:
    with catalog_path(lang).open("rb") as f:
        return read_po(f, locale=LANGUAGES[lang][1])


@cache
def load_catalog(lang: str) -> dict[str, str]:
    """msgid -> translation for one language (empty translations left out)."""
    catalog = _read_catalog(lang)
    return {m.id: m.string for m in catalog if m.id and isinstance(m.id, str) and m.string}


@cache
def load_plurals(lang: str) -> tuple[dict[str, tuple[str, ...]], Callable[[int], int]]:
    """Plural messages (singular msgid -> its forms) and the catalog's plural rule (a
    count -> the index of its form), from the `.po` file's `Plural-Forms` header."""
    catalog = _read_catalog(lang)
    forms = {
        m.id[0]: tuple(m.string)
        for m in catalog
        if isinstance(m.id, tuple | list) and m.string and all(m.string)
    }
    return forms, _gettext.c2py(catalog.plural_expr or "(n != 1)")


class _Vocabulary(Protocol):
    def of_name(self, name: str | None) -> Any: ...


@lru_cache(maxsize=1)
def _opencc() -> Any:
    from opencc import OpenCC  # loads its dictionaries: once, when first needed

    return OpenCC("s2hk")


@lru_cache(maxsize=16384)
def hong_kong(text: str) -> str:
    """Simplified Chinese text in Hong Kong Traditional characters (OpenCC `s2hk`).
    The same titles and addresses are shown again and again: each is converted once."""
    return _opencc().convert(text) if text else text


@lru_cache(maxsize=1)
def _opencc_back() -> Any:
    from opencc import OpenCC

    return OpenCC("hk2s")


@lru_cache(maxsize=4096)
def simplified(text: str) -> str:
    """Hong Kong Traditional text in Simplified characters (OpenCC `hk2s`): what she
    typed in Traditional, compared with data written in Simplified (`水東鎮` → `水东镇`)."""
    return _opencc_back().convert(text) if text else text


# where a field names several terms: `普通话、粤语`, `Mandarin, Cantonese`
_LIST_SEPARATORS = re.compile(r"\s*[、,，;；]\s*")


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

    def ngettext(self, singular: str, plural: str, n: int, /, **params: object) -> str:
        """The form of a message for the count `n` (given to it as `{n}` too), as the
        language's catalog has it: Chinese has one form, English two."""
        forms, rule = load_plurals(self.lang)
        found = forms.get(singular)
        if found:
            text = found[min(int(rule(n)), len(found) - 1)]
        else:
            text = singular if n == 1 else plural
        return text.format(n=n, **params)

    # --- content: data in the reader's language --------------------------------------
    def text(self, chinese: str, english: str = "") -> str:
        """A free-text field of the data (written in Simplified Chinese): in Traditional
        characters for Cantonese readers, its English field (where there is one) for
        English readers, as written otherwise."""
        if self.lang == "en" and english:
            return english
        if self.lang == "yue":
            return hong_kong(chinese or "")
        return chinese or ""

    def term(self, vocabulary: _Vocabulary, name: str | None) -> str:
        """A data name of a fixed vocabulary (`电白`, `月嫂/母婴护理`) by its term's label in
        this language; a name the vocabulary does not know is shown as written."""
        if not name:
            return ""
        found = vocabulary.of_name(name) or vocabulary.of_name(hong_kong(name))
        return self(found.label) if found is not None else self.text(name)

    def terms(self, vocabulary: _Vocabulary, names: str | Iterable[str]) -> str:
        """Several names (a list, or one text `普通话、粤语`), each as `term`, as a list."""
        if isinstance(names, str):
            names = _LIST_SEPARATORS.split(names)
        return self.join(self.term(vocabulary, n) for n in names if n and n.strip())

    def sentences(self, items: Iterable[str]) -> str:
        """Sentences one after another: with a space in English, none in Chinese (whose
        full stops are full-width and carry their own space)."""
        return ("" if self.lang in ("zh", "yue") else " ").join(x for x in items if x)

    def join(self, items: Iterable[str]) -> str:
        """A list in this language's words: 甲、乙和丙 / A, B and C."""
        shown = [x for x in items if x]
        return format_list(shown, locale=self.locale) if shown else ""

    def date(self, value: dt.date, fmt: str = "medium") -> str:
        return _format_date(self.lang, value, fmt)

    def short_date(self, value: dt.date) -> str:
        """Month and day only: 12月9日, 9 Dec."""
        return _format_skeleton(self.lang, "MMMd", value)

    def weekday_date(self, value: dt.date) -> str:
        """Weekday, month and day: 12月1日周二, Tue, Dec 1 (a day to choose on a button)."""
        return _format_skeleton(self.lang, "MMMEd", value)

    def month(self, value: dt.date) -> str:
        """Year and month: 2026年12月, December 2026."""
        return _format_skeleton(self.lang, "yMMMM", value)

    def time(self, value: dt.time | dt.datetime) -> str:
        """A clock time, 24-hour in every language (posters and timetables are): 14:30."""
        return format_time(value, format="HH:mm", locale=self.locale)

    def datetime(self, value: dt.datetime, fmt: str = "medium") -> str:
        return format_datetime(value, format=fmt, locale=self.locale)

    def money(self, fen: int, currency: str = "CNY") -> str:
        """An amount held in fen (1/100 yuan), the same way on every screen of a language:
        whole yuan without decimals (780000 -> ¥7,800 / CN¥7,800), others with two."""
        if fen % 100:
            return format_currency(fen / 100, currency, locale=self.locale)
        pattern = self.locale.currency_formats["standard"].pattern.replace(".00", "")
        return format_currency(
            fen // 100, currency, format=pattern, locale=self.locale, currency_digits=False
        )

    def money_range(self, low_fen: int, high_fen: int, currency: str = "CNY") -> str:
        """From one amount to another, the currency written once: ¥7,000–10,000."""
        if not high_fen or high_fen == low_fen:
            return self.money(low_fen, currency)
        high = self.money(high_fen, currency)
        digits = high[next((i for i, c in enumerate(high) if c.isdigit()), 0) :]
        return f"{self.money(low_fen, currency)}–{digits}"

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
