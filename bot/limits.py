"""Platform limits, counted in each platform's own unit, and splitting what does not fit.

- Telegram counts a message's text in UTF-16 code units (an emoji outside the Basic
  Multilingual Plane is 2) and allows 4,096 of them per message, 1,024 per caption
  (Bot API, sendMessage `text` and sendPhoto `caption`).
- WeChat counts a text message's content in UTF-8 bytes (a Chinese character is 3) and
  allows 2,048 of them, for a passive reply and a customer-service message alike
  (Official Account documentation, 被动回复用户消息 / 客服消息).

A text that does not fit is split into several messages at line breaks; only a single
line longer than a whole message is broken inside, at a space if there is one, and
never inside a character, a surrogate pair or a combining sequence. Nothing is cut off
and nothing is dropped: every character is in a piece, in order; only the line break at
which two pieces meet is left out (the next message starts the next line).
"""

from __future__ import annotations

from collections.abc import Callable

import regex

_GRAPHEMES = regex.compile(r"\X")

TELEGRAM_TEXT = 4096  # UTF-16 code units
TELEGRAM_CAPTION = 1024  # UTF-16 code units
WECHAT_TEXT = 2048  # UTF-8 bytes

Measure = Callable[[str], int]


def utf16_units(text: str) -> int:
    """Telegram's length of `text`: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def utf8_bytes(text: str) -> int:
    """WeChat's length of `text`: UTF-8 bytes."""
    return len(text.encode("utf-8"))


def split_text(text: str, limit: int, measure: Measure) -> list[str]:
    """`text` as pieces of at most `limit` (in `measure`'s unit), split at line breaks.

    When the text splits only at line breaks, `"\\n".join(pieces) == text`; a line longer
    than `limit` is broken inside, and then the pieces joined without a separator give
    that line back. Raises ValueError for a limit too small to hold one character.
    """
    if measure(text) <= limit:
        return [text]
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    newline = measure("\n")
    for line in text.split("\n"):
        for part in _fit_line(line, limit, measure):
            extra = measure(part) + (newline if current else 0)
            if current and size + extra > limit:
                pieces.append("\n".join(current))
                current, size = [], 0
                extra = measure(part)
            current.append(part)
            size += extra
    if current:
        pieces.append("\n".join(current))
    return pieces


def _fit_line(line: str, limit: int, measure: Measure) -> list[str]:
    """One line as parts that each fit: whole if it fits, else broken after the last
    space that fits or, for a word longer than a message, between grapheme clusters
    (Unicode's user-perceived characters, found by the `regex` library's `\\X`: a flag,
    a keycap, an emoji with its skin tone or joiners, a Hangul syllable stay whole)."""
    if measure(line) <= limit:
        return [line]
    parts: list[str] = []
    current, size, space_at = "", 0, -1
    for cluster in _GRAPHEMES.findall(line):
        width = measure(cluster)
        if width > limit:
            raise ValueError(f"a limit of {limit} cannot hold {cluster!r}")
        if size + width > limit:
            cut = space_at if space_at > 0 else len(current)
            parts.append(current[:cut])
            current = current[cut:]
            size, space_at = measure(current), -1
        current += cluster
        size += width
        if cluster == " ":
            space_at = len(current)
    parts.append(current)
    return parts
