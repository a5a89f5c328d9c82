"""The credential card as a picture (PNG) she can forward: drawn with Pillow.

    ┌──────────────────────────────┐
    │ programme · credential title │  coloured band
    │ Her name                     │
    │ kinds of work                │
    │ [ status, coloured ]         │
    │ Checked by the programme:    │
    │ ● identity: verified DATE    │  one line per check, training, certificate,
    │ ● ...                        │  rating; a drawn mark (no emoji font needed)
    │ Verification code            │
    │     7K2M-9QPD-XW3A           │  large, monospaced
    │          [QR code]           │  opens the verification
    │      how to use the code     │
    └──────────────────────────────┘

Everything on it arrives already translated (`CardText`): this module only draws.
Chinese has no spaces: lines are wrapped by the width of each character (a run of
Latin letters and digits is kept whole where it fits). The font is Noto Sans CJK
(`noto_cjk_sans_otc`), a collection: its Simplified Chinese face for zh and English,
its Hong Kong face for Cantonese (Traditional characters).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw, ImageFont

WIDTH = 1080
MARGIN = 64
MIN_HEIGHT = 1350  # 4:5, a portrait picture as phones show it
QR_SIZE = 360

#: the faces of the font collection each language reads in (by their names: the order
#: of faces in the .ttc is the font's business)
FACES = {"zh": "Noto Sans CJK SC", "yue": "Noto Sans CJK HK", "en": "Noto Sans CJK SC"}
MONO = {
    "zh": "Noto Sans Mono CJK SC",
    "yue": "Noto Sans Mono CJK HK",
    "en": "Noto Sans Mono CJK SC",
}

INK = (31, 41, 55)
GREY = (107, 114, 128)
BAND = (15, 118, 110)  # the programme's green
PAPER = (255, 255, 255)
LINE = (229, 231, 235)
#: a status's colours: (background, text)
TONES = {
    "valid": ((220, 252, 231), (22, 101, 52)),
    "expired": ((254, 243, 199), (146, 64, 14)),
    "stopped": ((254, 226, 226), (153, 27, 27)),
    "unverified": ((243, 244, 246), (75, 85, 99)),
}
#: the colour of each mark drawn before a line
MARK_COLOURS = {
    "passed": (22, 163, 74),
    "failed": (220, 38, 38),
    "recheck": (217, 119, 6),
    "missing": (156, 163, 175),
    "star": (234, 179, 8),
    "plain": (156, 163, 175),
}


@dataclass(frozen=True)
class CardText:
    """What the card says, in the reader's language. `items` are (mark, text): mark is
    `passed`, `failed`, `recheck`, `missing`, `star` (a rating) or `plain`. `tone` is the
    status's colour: `valid`, `expired`, `stopped` or `unverified`. `qr` is what the QR
    code holds (a link, or the command to send)."""

    lang: str
    programme: str
    title: str
    name: str
    kinds: str
    status: str
    tone: str
    heading: str
    items: tuple[tuple[str, str], ...]
    code_label: str
    code: str
    qr: str
    qr_caption: str


# --- fonts --------------------------------------------------------------------------
def font_path() -> str:
    import noto_cjk_sans_otc

    return str(noto_cjk_sans_otc.FONT_PATH)


@cache
def face_index(name: str) -> int:
    """The index of the face called `name` in the font collection (0 if not found)."""
    for index in range(16):
        try:
            family, _style = ImageFont.truetype(font_path(), 12, index=index).getname()
        except OSError:  # past the last face
            break
        if family == name:
            return index
    return 0


@cache
def font(lang: str, size: int, *, mono: bool = False) -> ImageFont.FreeTypeFont:
    """The card's font for `lang` at `size` pixels (loaded once per size)."""
    faces = MONO if mono else FACES
    return ImageFont.truetype(font_path(), size, index=face_index(faces.get(lang, FACES["zh"])))


# --- text ---------------------------------------------------------------------------
# a Chinese date (2027年11月10日) is one word, and so is a run of Latin letters, digits and
# their punctuation; any other character (Chinese, full-width punctuation) is a word of
# its own; spaces are kept as words
_TOKENS = re.compile(
    r"\d+年\d+月\d+日|[^\s\u2e80-\u9fff\u3000-\u303f\uf900-\ufaff\uff00-\uffef]+|\s|."
)
#: characters a line must not start with (they hang at the end of the line before)
_NO_LINE_START = set("，。、；：！？）」』】》〉,.;:!?)%’”")
# emoji and pictographs the font has not got (they would be empty boxes)
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\ufe0f\u200d\u25a0-\u25ff]"
)


def drawable(text: str) -> str:
    """`text` without emoji, which the card's font cannot draw."""
    return re.sub(r"\s{2,}", " ", _EMOJI.sub("", text)).strip()


def wrap(text: str, typeface: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """`text` in lines no wider than `width` pixels: broken between words of Latin text
    and between any two Chinese characters, never before closing punctuation; a word
    wider than a line is cut."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for token in _TOKENS.findall(paragraph):
            if typeface.getlength(line + token) <= width:
                line += token
                continue
            if token.isspace():
                lines.append(line.rstrip())
                line = ""
                continue
            if token in _NO_LINE_START and line.strip():
                line += token  # hangs a little past the edge rather than start a line
                continue
            if line.strip():
                lines.append(line.rstrip())
            while typeface.getlength(token) > width:  # a word wider than the card
                cut = 1
                while cut < len(token) and typeface.getlength(token[: cut + 1]) <= width:
                    cut += 1
                lines.append(token[:cut])
                token = token[cut:]
            line = token
        lines.append(line.rstrip())
    return lines


# --- drawing ------------------------------------------------------------------------
def _line_height(typeface: ImageFont.FreeTypeFont) -> int:
    return round(typeface.size * 1.4)


def _mark(draw: ImageDraw.ImageDraw, kind: str, x: int, y: int, size: int) -> None:
    """A round mark of `size` pixels at (x, y), top left: a tick, a cross, a clock..."""
    colour = MARK_COLOURS.get(kind, MARK_COLOURS["plain"])
    box = (x, y, x + size, y + size)
    s = size / 36
    if kind == "missing":
        draw.ellipse(box, outline=colour, width=max(2, round(3 * s)))
        return
    if kind == "plain":
        r = size // 5
        cx, cy = x + size // 2, y + size // 2
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
        return
    if kind == "star":
        import math

        cx, cy, outer, inner = x + size / 2, y + size / 2, size / 2, size / 5
        points = [
            (
                cx + (outer if i % 2 == 0 else inner) * math.sin(i * math.pi / 5),
                cy - (outer if i % 2 == 0 else inner) * math.cos(i * math.pi / 5),
            )
            for i in range(10)
        ]
        draw.polygon(points, fill=colour)
        return
    draw.ellipse(box, fill=colour)
    white, w = (255, 255, 255), max(3, round(4 * s))
    if kind == "passed":
        draw.line(
            [(x + 9 * s, y + 19 * s), (x + 15 * s, y + 25 * s), (x + 27 * s, y + 12 * s)],
            fill=white,
            width=w,
            joint="curve",
        )
    elif kind == "failed":
        draw.line([(x + 11 * s, y + 11 * s), (x + 25 * s, y + 25 * s)], fill=white, width=w)
        draw.line([(x + 25 * s, y + 11 * s), (x + 11 * s, y + 25 * s)], fill=white, width=w)
    else:  # being checked again: a clock's hands
        draw.line([(x + 18 * s, y + 8 * s), (x + 18 * s, y + 19 * s)], fill=white, width=w)
        draw.line([(x + 18 * s, y + 19 * s), (x + 26 * s, y + 23 * s)], fill=white, width=w)


def _qr_image(text: str, size: int) -> Image.Image:
    """`text` as a QR code of about `size` pixels, black on white, with its quiet zone."""
    import segno

    qr = segno.make(text, error="m")
    rows = [list(row) for row in qr.matrix]
    modules = len(rows) + 8  # a quiet zone of four modules around it
    scale = max(1, size // modules)
    image = Image.new("1", (modules * scale, modules * scale), 1)
    draw = ImageDraw.Draw(image)
    for r, row in enumerate(rows):
        for c, dark in enumerate(row):
            if dark:
                x, y = (c + 4) * scale, (r + 4) * scale
                draw.rectangle((x, y, x + scale - 1, y + scale - 1), fill=0)
    return image.convert("RGB")


class _Layout:
    """Lines drawn top to bottom; `height` is where the next one goes."""

    def __init__(self, draw: ImageDraw.ImageDraw | None) -> None:
        self.draw = draw
        self.height = 0

    def text(
        self,
        text: str,
        typeface: ImageFont.FreeTypeFont,
        colour: tuple[int, int, int],
        *,
        x: int = MARGIN,
        width: int = WIDTH - 2 * MARGIN,
        centre: bool = False,
        bold: bool = False,
    ) -> None:
        step = _line_height(typeface)
        for line in wrap(drawable(text), typeface, width):
            if self.draw is not None and line:
                left = x + (width - typeface.getlength(line)) / 2 if centre else x
                self.draw.text(
                    (left, self.height),
                    line,
                    font=typeface,
                    fill=colour,
                    stroke_width=1 if bold else 0,
                    stroke_fill=colour,
                )
            self.height += step


def _band(out: _Layout, card: CardText) -> None:
    out.height = 48
    out.text(card.programme, font(card.lang, 32), (204, 251, 241))
    out.height += 4
    out.text(card.title, font(card.lang, 48), PAPER, bold=True)


def _draw(card: CardText, image: Image.Image | None) -> int:
    """Draw the card on `image` (or only measure it, when None); returns its height."""
    draw = ImageDraw.Draw(image) if image is not None else None
    lang = card.lang
    out = _Layout(draw)
    inner = WIDTH - 2 * MARGIN

    # the band: programme and title (measured first, to colour it behind them)
    band = _Layout(None)
    _band(band, card)
    if draw is not None:
        draw.rectangle((0, 0, WIDTH, band.height + 32), fill=BAND)
    _band(out, card)
    out.height += 32 + 40

    # who she is
    out.text(card.name or "—", font(lang, 72), INK, bold=True)
    out.height += 4
    out.text(card.kinds, font(lang, 36), GREY)
    out.height += 24

    # the status, on its colour
    background, ink = TONES.get(card.tone, TONES["unverified"])
    status_font = font(lang, 38)
    top = out.height
    padding = 24
    lines = wrap(drawable(card.status), status_font, inner - 2 * padding)
    box_height = len(lines) * _line_height(status_font) + 2 * padding
    if draw is not None:
        draw.rounded_rectangle(
            (MARGIN, top, WIDTH - MARGIN, top + box_height), radius=20, fill=background
        )
    out.height = top + padding
    out.text(card.status, status_font, ink, x=MARGIN + padding, width=inner - 2 * padding)
    out.height = top + box_height + 36

    # what the programme checked
    out.text(card.heading, font(lang, 36), INK, bold=True)
    out.height += 8
    item_font, mark = font(lang, 32), 34
    for kind, text in card.items:
        top = out.height
        if draw is not None:
            _mark(draw, kind, MARGIN, top + (_line_height(item_font) - mark) // 2, mark)
        out.text(text, item_font, INK, x=MARGIN + mark + 20, width=inner - mark - 20)
        out.height += 6
    out.height += 24
    if draw is not None:
        draw.line((MARGIN, out.height, WIDTH - MARGIN, out.height), fill=LINE, width=3)
    out.height += 32

    # the code, large, and its QR code
    out.text(card.code_label, font(lang, 32), GREY, centre=True)
    out.text(card.code, font(lang, 88, mono=True), INK, centre=True, bold=True)
    out.height += 16
    qr = _qr_image(card.qr, QR_SIZE)
    if image is not None:
        image.paste(qr, ((WIDTH - qr.width) // 2, out.height))
    out.height += qr.height + 16
    out.text(card.qr_caption, font(lang, 30), GREY, centre=True)
    return out.height + MARGIN


def render(card: CardText) -> bytes:
    """The card as a PNG, `WIDTH` pixels wide, portrait. Blocking (tens of ms): call it
    in a worker thread from async code."""
    height = max(MIN_HEIGHT, _draw(card, None))
    image = Image.new("RGB", (WIDTH, height), PAPER)
    _draw(card, image)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
