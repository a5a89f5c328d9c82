"""The programme office's hours (issue 13): whether someone is on duty at the help desk,
when it opens next, and a plain word on when to expect an answer.

`Options.office_hours` (`HAOXIN_OFFICE_HOURS`, local time) reads like
`mon-fri 08:30-17:30; sat 09:00-12:00`: parts separated by `;`, each the days (one day
`mon`, a range `mon-fri` (`fri-mon` wraps round the week), a list `mon,wed,fri`, or
`daily`; English names, three letters or whole) then one or more times `HH:MM-HH:MM`
(or whole hours, `9-12`; `24:00` is midnight at the end of the day). A part that
cannot be read is left out and logged (the setting, never anyone's data); when no part
can be read, or the setting is empty, `DEFAULT_HOURS` hold. A time range must end
after it starts: hours across midnight are two parts
(`mon-fri 22:00-24:00; tue-sat 00:00-06:00`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from functools import lru_cache
from zoneinfo import ZoneInfo

from handlers.context import Options
from locales import Translator

log = logging.getLogger(__name__)

DEFAULT_HOURS = "mon-fri 08:30-17:30"
#: on duty and closing within this: she is told it may be when it opens again
CLOSING_SOON = dt.timedelta(hours=2)

#: per weekday (0 Monday … 6 Sunday), the times on duty: (start, end) in minutes after
#: midnight, sorted, not overlapping, end after start, end at most 1440
Week = tuple[tuple[tuple[int, int], ...], ...]

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RANGE = re.compile(r"^(\d{1,2})(?::(\d{2}))?-(\d{1,2})(?::(\d{2}))?$")


def _day(word: str) -> int:
    word = word.strip().lower()
    if word in _DAYS:
        return _DAYS.index(word)
    if word in _FULL:
        return _FULL.index(word)
    raise ValueError(word)


def _days(spec: str) -> list[int]:
    """`mon-fri`, `sat`, `mon,wed`, `daily` → weekday numbers."""
    if spec.strip().lower() in ("daily", "everyday", "mon-sun"):
        return list(range(7))
    days: list[int] = []
    for item in spec.split(","):
        first, dash, last = item.partition("-")
        if not dash:
            days.append(_day(first))
            continue
        a, b = _day(first), _day(last)
        days += [(a + n) % 7 for n in range((b - a) % 7 + 1)]
    return days


def _minutes(hours: str, minutes: str | None) -> int:
    h, m = int(hours), int(minutes or 0)
    if m > 59 or h > 24 or (h == 24 and m):
        raise ValueError(f"{hours}:{minutes}")
    return h * 60 + m


def _part(text: str) -> tuple[list[int], list[tuple[int, int]]]:
    """One part, `mon-fri 08:30-12:00 14:00-17:30` → (days, ranges). Raises ValueError."""
    words = text.split()
    if len(words) < 2:
        raise ValueError(text)
    ranges = []
    for word in words[1:]:
        for piece in filter(None, word.split(",")):
            found = _RANGE.match(piece)
            if found is None:
                raise ValueError(piece)
            start, end = _minutes(*found.group(1, 2)), _minutes(*found.group(3, 4))
            if end <= start:
                raise ValueError(piece)
            ranges.append((start, end))
    return _days(words[0]), ranges


def _merged(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)


@lru_cache(maxsize=16)
def parse_hours(spec: str) -> Week:
    """The office's hours from a setting (see the module's docstring): a `Week`, never
    empty of hours. Bad parts are left out and logged; nothing readable at all: the
    hours of `DEFAULT_HOURS`. Never raises."""
    norm = (spec or "").replace("–", "-").replace("—", "-").replace("：", ":").replace("；", ";")
    norm = re.sub(r"\s*-\s*", "-", norm)
    norm = re.sub(r"\s*,\s*", ",", norm)
    week: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for part in filter(None, (p.strip() for p in norm.split(";"))):
        try:
            days, ranges = _part(part)
        except ValueError:
            log.warning("office hours: cannot read the part %r; it is left out", part[:40])
            continue
        for day in days:
            week[day] += ranges
    if not any(week):
        if norm.strip():
            log.warning("office hours: nothing readable in the setting; using %s", DEFAULT_HOURS)
        return _default()
    return tuple(_merged(day) for day in week)


def _default() -> Week:
    """`DEFAULT_HOURS` (Monday to Friday, 08:30-17:30), built by hand: never unreadable."""
    return tuple(((8 * 60 + 30, 17 * 60 + 30),) if day < 5 else () for day in range(7))


def _local(options: Options, now: dt.datetime | None) -> dt.datetime:
    """`now` in the programme's time zone: None is the clock; a naive time is taken
    as local already."""
    zone = ZoneInfo(options.timezone)
    if now is None:
        return options.now()
    if now.tzinfo is None:
        return now.replace(tzinfo=zone)
    return now.astimezone(zone)


def _at(day: dt.date, minutes: int, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=zone) + dt.timedelta(minutes=minutes)


def _range_now(options: Options, now: dt.datetime | None) -> tuple[int, int] | None:
    local = _local(options, now)
    minute = local.hour * 60 + local.minute
    for start, end in parse_hours(options.office_hours)[local.weekday()]:
        if start <= minute < end:
            return start, end
    return None


def on_duty(options: Options, now: dt.datetime | None = None) -> bool:
    """Whether someone is on duty at the help desk at `now` (default: the clock)."""
    return _range_now(options, now) is not None


def next_opening(options: Options, now: dt.datetime | None = None) -> dt.datetime:
    """When the office next opens after `now` (aware, in the programme's time zone):
    the next start of its hours, within a week."""
    local = _local(options, now)
    zone = ZoneInfo(options.timezone)
    week = parse_hours(options.office_hours)
    for ahead in range(8):
        day = local.date() + dt.timedelta(days=ahead)
        for start, _end in week[day.weekday()]:
            opens = _at(day, start, zone)
            if opens > local:
                return opens
    raise AssertionError("a week always has hours")  # pragma: no cover


def closes_at(options: Options, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the hours `now` falls in end (aware, local); None when no one is on duty."""
    found = _range_now(options, now)
    if found is None:
        return None
    return _at(_local(options, now).date(), found[1], ZoneInfo(options.timezone))


# --- in words -----------------------------------------------------------------------------
def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def hours_words(_: Translator, options: Options) -> str:
    """The office hours in her language: `Mon–Fri 08:30–17:30; Sat 09:00–12:00`,
    `周一–周五 08:30–17:30；周六 09:00–12:00`. Days with the same hours in a row are
    written once as a range."""
    week = parse_hours(options.office_hours)
    names = _.locale.days["format"]["abbreviated"]
    parts: list[str] = []
    day = 0
    while day < 7:
        if not week[day]:
            day += 1
            continue
        last = day
        while last + 1 < 7 and week[last + 1] == week[day]:
            last += 1
        days = names[day] if last == day else f"{names[day]}–{names[last]}"
        comma = "，" if _.lang in ("zh", "yue") else ", "
        times = comma.join(f"{_clock(s)}–{_clock(e)}" for s, e in week[day])
        parts.append(f"{days} {times}")
        day = last + 1
    return ("；" if _.lang in ("zh", "yue") else "; ").join(parts)


def when_words(_: Translator, options: Options, at: dt.datetime, now: dt.datetime | None) -> str:
    """A time soon in words: `today at 14:00`, `tomorrow at 08:30`, `Mon, 7 Dec at 08:30`."""
    today = _local(options, now).date()
    local = _local(options, at)
    time = _.time(local)
    if local.date() == today:
        return _("today at {time}", time=time)
    if local.date() == today + dt.timedelta(days=1):
        return _("tomorrow at {time}", time=time)
    return _("{day} at {time}", day=_.weekday_date(local.date()), time=time)


def expect_words(
    _: Translator, options: Options, now: dt.datetime | None = None, *, emergency: bool = True
) -> str:
    """A plain word on when to expect an answer. On duty: within a few hours today
    (and, near closing time, maybe when the office opens again). Off duty: the office
    hours, when it opens next, the emergency line (unless `emergency` is False: she
    was given it already), and the office's phone if set."""
    opens = next_opening(options, now)
    closes = closes_at(options, now)
    if closes is not None:
        words = _("Someone usually answers within a few hours today.")
        if closes - _local(options, now) <= CLOSING_SOON and opens > closes:  # a pause
            words += "\n" + _(
                "The office closes at {time} today: if no one answers by then, expect an "
                "answer after it opens again ({when}).",
                time=_.time(closes),
                when=when_words(_, options, opens, now),
            )
        return words
    lines = [
        _(
            "No one is on duty at the programme office right now. Office hours: {hours}.",
            hours=hours_words(_, options),
        ),
        _(
            "Someone will read your question after the office opens: {when}.",
            when=when_words(_, options, opens, now),
        ),
    ]
    if emergency:
        lines.append(_("In an emergency, call {phone}.", phone=options.emergency_phone))
    if options.office_phone:
        lines.append(
            _(
                "The programme office's phone, in office hours: {phone}.",
                phone=options.office_phone,
            )
        )
    return "\n".join(lines)
