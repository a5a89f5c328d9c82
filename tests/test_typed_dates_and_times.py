"""Dates and times as people type them on the household's and the interview's screens:
Chinese, Cantonese and English ways, and what is refused."""

from __future__ import annotations

import datetime as dt

import pytest

from handlers.typed_values import read_date, read_time

TODAY = dt.date(2026, 11, 30)


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("2026-12-09", dt.date(2026, 12, 9)),
        ("12月9日", dt.date(2026, 12, 9)),
        ("9 Dec", dt.date(2026, 12, 9)),
        ("Dec 9", dt.date(2026, 12, 9)),
        ("9th December", dt.date(2026, 12, 9)),
        ("Wed 9 Dec", dt.date(2026, 12, 9)),  # as the bot writes it in English
        ("May 1", dt.date(2027, 5, 1)),  # passed this year: next year
        ("9 foo", None),
        ("31 Feb", None),
    ],
)
def test_dates(typed, day):
    assert read_date(typed, TODAY, ahead=True) == day


@pytest.mark.parametrize(
    ("typed", "at"),
    [
        ("15:30", dt.time(15, 30)),
        ("下午3点半", dt.time(15, 30)),
        ("下晝3點", dt.time(15, 0)),
        ("晚上7点", dt.time(19, 0)),
        ("3pm", dt.time(15, 0)),
        ("3:30 pm", dt.time(15, 30)),
        ("10.30", dt.time(10, 30)),
        ("十点半", dt.time(10, 30)),
        ("下午三点十五分", dt.time(15, 15)),
        ("3点", dt.time(15, 0)),  # 1 to 6 o'clock alone: the afternoon
        ("9点", dt.time(9, 0)),
        ("25:00", None),
        ("15:60", None),
        ("晚上12点", None),  # midnight, the next day's start: asked again, never noon
        ("下午12点", dt.time(12, 0)),
        ("12am", dt.time(0, 0)),
        ("soon", None),
    ],
)
def test_times(typed, at):
    assert read_time(typed) == at
