"""Reading what people type, as plain functions of the text: names of vocabulary terms
(Chinese, Traditional, pinyin, English), numbers in Chinese numerals, pay ranges and
dates. No screen, no translation: the steps that ask (`handlers.worker_form` and its
parts) say what to type when these find nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence

from locales import simplified
from storage.vocab import Term, Vocabulary, plain

_WORD_SEPARATORS = re.compile(r"[\s,，、;；/／&+]+|和|及|与|與|\band\b", re.IGNORECASE)


def _term_named(vocabulary: Vocabulary, terms: Sequence[Term], word: str) -> Term | None:
    """The term of `terms` that `word` names: by name, id or label, in Traditional
    characters too, or by a word people type for it (pinyin, Cantonese, English)."""
    for candidate in (word, simplified(word)):
        term = vocabulary.of_name(candidate)
        if term is not None and term in terms:
            return term
    said = plain(simplified(word))
    for term in terms:
        if said and said in {plain(w) for w in term.typed}:
            return term
    return None


def terms_in(vocabulary: Vocabulary, terms: Sequence[Term], text: str) -> list[Term]:
    """The terms `text` names: one or several (`月嫂、育婴`, `yuesao and nanny`), or
    named inside a sentence (`我做过月嫂`)."""
    words = [w for w in _WORD_SEPARATORS.split(text) if w and w.strip()]
    found = [_term_named(vocabulary, terms, w) for w in words]
    if words and all(found):
        return list(dict.fromkeys(t for t in found if t))
    whole = plain(simplified(text))
    inside = []
    for term in terms:
        names = [*term.names, *(w for w in (term.label, *term.typed) if len(w) >= 4)]
        if any(len(plain(n)) >= 2 and plain(n) in whole for n in names):
            inside.append(term)
    return inside


_CN_DIGITS = dict(
    zip("零〇一二两兩三四五六七八九", (0, 0, 1, 2, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True)
)
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000, "萬": 10000}


def chinese_number(text: str) -> int | None:
    """A number written in Chinese numerals (`五千`, `一万二`, `萬二`, `五千五`, `三十`),
    or None."""
    if not text or any(ch not in _CN_DIGITS and ch not in _CN_UNITS for ch in text):
        return None
    total = section = 0
    number: int | None = None
    last_unit = 1
    for ch in text:
        if ch in _CN_DIGITS:
            if number is not None:
                return None  # 五五: not a number people write
            number = _CN_DIGITS[ch]
        elif _CN_UNITS[ch] == 10000:  # 萬二 (Cantonese) is 一萬二: 12,000
            leading = 1 if number is None and section == 0 else 0
            total += (section + (number or leading)) * 10000
            section, number, last_unit = 0, None, 10000
        else:
            unit = _CN_UNITS[ch]
            if section and unit >= last_unit:  # 五千七千: two amounts, not one
                return None
            section += (number if number is not None else 1) * unit
            number, last_unit = None, unit
    if number is not None:  # 五千五 is 5,500 and 一万二 12,000; 三十五 is 35
        section += number * (last_unit // 10 if last_unit >= 100 else 1)
    return total + section


def number_in(text: str) -> int | None:
    """A whole number as typed: `3`, `3年`, `3 years`, `三年`, `0`; None otherwise."""
    t = unicodedata.normalize("NFKC", text).strip().casefold()
    t = re.sub(r"\s*(年|years?|yrs?)\s*$", "", t)
    if t.isascii() and t.isdigit() and len(t) <= 3:
        return int(t)
    return chinese_number(t) if len(t) <= 4 else None


_MONEY_WORDS = re.compile(
    r"¥|￥|rmb|yuan|元|块|塊|蚊|人民币|人民幣|左右|per month|a month|/month|per hour|an hour"
    r"|/hour|/h\b|每个?月|一个月|個月|个月|/月|每小时|每小時|一小时|一小時|/小时|/小時|小时|小時|月",
)
_RANGE_SEPARATORS = re.compile(r"-|–|—|~|～|〜|到|至|\bto\b")
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)(k|千|w|万|萬)?")


def _amount(text: str) -> int | None:
    m = _AMOUNT.fullmatch(text)
    if m:
        factor = {"k": 1000, "千": 1000, "w": 10000, "万": 10000, "萬": 10000}.get(m.group(2), 1)
        return round(float(m.group(1)) * factor)
    return chinese_number(text)


def pay_range(text: str) -> tuple[int, int] | None:
    """A pay range in yuan as typed (`5000-7000`, `5000到7000`, `5k~7k`, `¥5,000`, `五千`,
    `八千到一万`): (low, high), the same twice for one amount; None when unreadable."""
    t = unicodedata.normalize("NFKC", text).casefold()
    t = _MONEY_WORDS.sub("", t).replace(",", "").replace("，", "")
    parts = [p.strip() for p in _RANGE_SEPARATORS.split(t)]
    if not 1 <= len(parts) <= 2 or not all(parts):
        return None
    amounts = [_amount(p.replace(" ", "")) for p in parts]
    if any(a is None for a in amounts):
        return None
    low, high = amounts[0], amounts[-1]
    assert low is not None and high is not None
    return low, high


class AmbiguousDate(ValueError):
    """`9/12`: the 9th of December or the 12th of September? She is asked for the year."""


_FULL_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号號]?")
_MONTH_DAY = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号號]?")
_SHORT = re.compile(r"\d{1,2}\s*[/.-]\s*\d{1,2}")


def read_date(text: str, today: dt.date, *, ahead: bool) -> dt.date | None:
    """A date as typed: `2026-12-09`, `2026/12/9`, `2026.12.9`, `2026年12月9日`,
    `20261209`, `12月9日`, `9 Dec`, `Dec 9`, `Wed 9 Dec` (this year; when that has
    passed, next year if `ahead`, else the most recent one), today / 今天. None when
    no date; `AmbiguousDate` for `9/12`."""
    t = unicodedata.normalize("NFKC", text).strip().casefold()
    if t in ("today", "今天", "今日", "now", "现在", "現在"):
        return today
    if t in ("tomorrow", "明天", "聽日", "听日"):
        return today + dt.timedelta(days=1)
    try:
        if m := _FULL_DATE.fullmatch(t):
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if re.fullmatch(r"\d{8}", t):
            return dt.date(int(t[:4]), int(t[4:6]), int(t[6:]))
        month_day = _english_month_day(t)
        if month_day is None and (m := _MONTH_DAY.fullmatch(t)):
            month_day = int(m.group(1)), int(m.group(2))
        if month_day is not None:
            month, day = month_day
            found = _in_year(today.year, month, day)
            if ahead and found < today:
                found = _in_year(today.year + 1, month, day)
            elif not ahead and found > today:
                found = _in_year(today.year - 1, month, day)
            return found
    except ValueError:
        return None
    if _SHORT.fullmatch(t):
        raise AmbiguousDate(t)
    return None


_MONTHS = {
    name: n
    for n, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_DAY_MONTH = re.compile(r"(?:[a-z]+,?\s+)?(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?")
_MONTH_THEN_DAY = re.compile(r"(?:[a-z]+,?\s+)?([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?")


def _english_month_day(t: str) -> tuple[int, int] | None:
    """(month, day) of `9 dec`, `dec 9`, `9th december`, `wed 9 dec` (the way the bot
    writes dates in English), or None."""
    for pattern, day_first in ((_DAY_MONTH, True), (_MONTH_THEN_DAY, False)):
        if m := pattern.fullmatch(t):
            day, name = (m.group(1), m.group(2)) if day_first else (m.group(2), m.group(1))
            if name in _MONTHS:
                return _MONTHS[name], int(day)
    return None


def _in_year(year: int, month: int, day: int) -> dt.date:
    if (month, day) == (2, 29):  # 2月29日 in a year without one: the 28th
        try:
            return dt.date(year, 2, 29)
        except ValueError:
            return dt.date(year, 2, 28)
    return dt.date(year, month, day)


_TIME = re.compile(
    r"(?P<part>上午|早上|早晨|朝早|中午|下午|晏昼|晏晝|下昼|下晝|傍晚|晚上|夜晚|夜晚黑|夜)?\s*"
    r"(?P<h>\d{1,2}|[零一二两兩三四五六七八九十]{1,3})\s*"
    r"(?:(?:[:：.]|点钟?|點鐘?|时|時)\s*(?P<m>\d{1,2}|半|一刻|[一二三四五]?十[一二三四五六七八九]?)?\s*分?)?\s*"
    r"(?P<ampm>am|pm|a\.m\.|p\.m\.)?"
)
#: words for the night: with 12 o'clock they mean midnight, which starts the next day
_NIGHT = {"晚上", "夜晚", "夜晚黑", "夜"}
_AFTERNOON = {"下午", "晏昼", "晏晝", "下昼", "下晝", "傍晚", "晚上", "夜晚", "夜晚黑", "夜"}


def read_time(text: str) -> dt.time | None:
    """A time of day as typed: `15:30`, `3:30pm`, `3pm`, `15点`, `下午3点半`, `三点`,
    `10.30`, `晚上7点`; None when it is no time. An hour of 1 to 6 with no morning or
    afternoon word is read as the afternoon (people meet at 3, not at 3 at night).
    `晚上12点` (midnight, which belongs to the next day) is None: asked again."""
    t = unicodedata.normalize("NFKC", text).strip().casefold()
    m = _TIME.fullmatch(t)
    if m is None or not m.group("h"):
        return None
    h_text, m_text = m.group("h"), m.group("m") or ""
    hour = int(h_text) if h_text.isdigit() else chinese_number(h_text)
    if m_text == "半":
        minute: int | None = 30
    elif m_text == "一刻":
        minute = 15
    elif m_text:
        minute = int(m_text) if m_text.isdigit() else chinese_number(m_text)
    else:
        minute = 0
    if hour is None or minute is None or hour > 23 or minute > 59:
        return None
    part, ampm = m.group("part"), (m.group("ampm") or "").replace(".", "")
    if part in _NIGHT and hour == 12:  # 晚上12点: midnight, the next day's 0:00: unclear
        return None
    if (part in _AFTERNOON or ampm == "pm") and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    elif part is None and not ampm and 1 <= hour <= 6:
        hour += 12
    return dt.time(hour, minute)
