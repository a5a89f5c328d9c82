"""The programme's weekly chart as a picture (PNG): course sign-ups and placements per
week over the last weeks, drawn with Pillow (no plotting library).

    ┌────────────────────────────────────────────── 1200 × 700 ┐
    │ Title                                   ■ sign-ups        │
    │ subtitle                                ■ placements      │
    │  30 ┤─────────────────────────────────────────────────    │
    │  20 ┤──────▇▇─────────────────────▇▇───────────────────    │
    │  10 ┤──▇▇──▇▇─▇▁────▇▇────▇▇──────▇▇▁──▇▇▃──────────────   │
    │   0 ┴──┴───┴───┴────┴─────┴───────┴────┴──────────────    │
    │      9/1  9/8  9/15 ...                      (Mondays)    │
    │                  week starting                             │
    └───────────────────────────────────────────────────────────┘

Every word on it arrives translated (`labels`); this module only draws. The font is
the credential card's (`handlers.credential_image.font`: Noto Sans CJK from the
`noto-cjk-sans-otc` package, its Hong Kong face for Cantonese), so Chinese labels are
real glyphs, never empty boxes.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Callable, Sequence

from PIL import Image, ImageDraw, ImageFont

from handlers.credential_image import BAND, GREY, INK, LINE, PAPER, drawable, font

WIDTH, HEIGHT = 1200, 700
#: the plot's box: left, top, right, bottom (room for the title, the axes' words)
PLOT = (112, 170, WIDTH - 48, HEIGHT - 116)
SIGNUPS = BAND  # the programme's green
PLACEMENTS = (234, 88, 12)  # orange
#: the words the chart needs, by key; a missing one is left out
LABEL_KEYS = ("title", "subtitle", "signups", "placements", "week")

Series = Sequence[tuple[dt.date, int, int]]


def chart_font(lang: str, size: int) -> ImageFont.FreeTypeFont:
    """The chart's font for `lang` at `size` pixels (the credential card's)."""
    return font(lang, size)


def nice_step(most: int, ticks: int = 5) -> int:
    """A round step (1, 2, 5, 10, 20, 50…) for a value axis up to `most` in at most
    about `ticks` steps."""
    raw = max(most, 1) / ticks
    power = 10 ** max(0, math.floor(math.log10(raw))) if raw >= 1 else 1
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return int(factor * power)
    return int(10 * power)


def _day(value: dt.date) -> str:
    return f"{value.month}/{value.day}"


def weekly_chart(
    series: Series,
    labels: dict[str, str],
    lang: str,
    *,
    day: Callable[[dt.date], str] = _day,
) -> bytes:
    """A PNG of `WIDTH` × `HEIGHT` pixels: for each week of `series` ([(Monday, sign-ups,
    placements)], oldest first) a pair of bars, sign-ups and placements, with their
    numbers; a title, a subtitle, a legend and the axes' words from `labels`
    (`LABEL_KEYS`), drawn in `lang`'s face of the CJK font; each week's Monday as
    `day` writes it (default `9/15`). An empty series draws empty axes."""
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    words = {key: drawable(labels.get(key, "")) for key in LABEL_KEYS}

    room = _legend(draw, lang, [(SIGNUPS, words["signups"]), (PLACEMENTS, words["placements"])])
    title = _fitting(words["title"], lang, 38, room - 48 - 24)
    draw.text((48, 28), words["title"], font=title, fill=INK, stroke_width=1, stroke_fill=INK)
    subtitle = _fitting(words["subtitle"], lang, 24, room - 48 - 24)
    draw.text((48, 84), words["subtitle"], font=subtitle, fill=GREY)

    left, top, right, bottom = PLOT
    most = max((max(s, p) for _d, s, p in series), default=0)
    step = nice_step(most)
    ceiling = step * max(1, math.ceil(most / step))
    tick_font = chart_font(lang, 20)
    for value in range(0, ceiling + 1, step):
        y = bottom - (bottom - top) * value / ceiling
        draw.line((left, y, right, y), fill=LINE if value else GREY, width=2 if value else 3)
        text = str(value)
        draw.text((left - 14 - tick_font.getlength(text), y - 13), text, font=tick_font, fill=GREY)

    if series:
        group = (right - left) / len(series)
        bar = max(4.0, group * 0.3)
        value_font = chart_font(lang, 18 if len(series) <= 16 else 14)
        for n, (monday, signups, placed) in enumerate(series):
            middle = left + group * (n + 0.5)
            for x, value, colour in (
                (middle - bar - 2, signups, SIGNUPS),
                (middle + 2, placed, PLACEMENTS),
            ):
                height = (bottom - top) * value / ceiling
                if value:
                    draw.rectangle((x, bottom - height, x + bar, bottom - 1), fill=colour)
                    text = str(value)
                    width = value_font.getlength(text)
                    draw.text((x + (bar - width) / 2, bottom - height - 26), text,
                              font=value_font, fill=INK)  # fmt: skip
            if len(series) <= 16 or (len(series) - 1 - n) % 2 == 0:  # the last always
                text = drawable(day(monday))
                width = tick_font.getlength(text)
                draw.text((middle - width / 2, bottom + 14), text, font=tick_font, fill=GREY)

    axis = chart_font(lang, 22)
    width = axis.getlength(words["week"])
    draw.text(((left + right - width) / 2, HEIGHT - 64), words["week"], font=axis, fill=GREY)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _fitting(text: str, lang: str, size: int, width: float) -> ImageFont.FreeTypeFont:
    """The chart's font at `size`, or smaller (down to 16) until `text` fits `width`."""
    typeface = chart_font(lang, size)
    while size > 16 and typeface.getlength(text) > width:
        size -= 2
        typeface = chart_font(lang, size)
    return typeface


def _legend(draw: ImageDraw.ImageDraw, lang: str, items: list[tuple[tuple, str]]) -> float:
    """The series' colours and names, one under the other, at the top right. Returns
    where the legend begins (x): the title's room ends there."""
    typeface = chart_font(lang, 24)
    widest = max((typeface.getlength(text) for _c, text in items), default=0)
    x = WIDTH - 48 - 34 - widest
    for n, (colour, text) in enumerate(items):
        y = 34 + n * 40
        draw.rectangle((x, y + 4, x + 22, y + 26), fill=colour)
        draw.text((x + 34, y), text, font=typeface, fill=INK)
    return x
