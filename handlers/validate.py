"""Checking and normalising what people type: names, phone numbers, ages."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from handlers.router import Invalid

if TYPE_CHECKING:
    from locales import Translator

_SEPARATORS = re.compile(r"[\s\-().]")


def phone_number(text: str) -> str | None:
    """A mobile number in E.164 (+8613800138000), or None.

    Mainland China: 11 digits starting 13-19, with or without +86 / 86 / 0086. Hong Kong:
    8 digits starting 4-9 with +852. Macau: 8 digits starting 6 (or 2) with +853. Eight
    digits without a prefix could be either: None here (`local_number`).
    """
    digits = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text).strip())
    if digits.startswith("+"):
        digits = "00" + digits[1:]
    if not (digits.isascii() and digits.isdigit()):  # ０-９ became 0-9; other scripts' digits
        return None
    for prefix in ("0086", "86"):
        rest = digits.removeprefix(prefix)
        if rest != digits and re.fullmatch(r"1[3-9]\d{9}", rest):
            return "+86" + rest
    if re.fullmatch(r"1[3-9]\d{9}", digits):
        return "+86" + digits
    if re.fullmatch(r"00852[4-9]\d{7}", digits):  # 8 digits alone: Hong Kong or Macau?
        return "+852" + digits[-8:]
    if re.fullmatch(r"00853[62]\d{7}", digits):
        return "+853" + digits[-8:]
    return None


def local_number(text: str) -> str | None:
    """Eight digits typed without a country code (`9123 4567`): a Hong Kong or a Macau
    number, which only she can tell; the digits, or None."""
    digits = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text).strip())
    # a Hong Kong mobile starts 4-9, a Macau one 6 (a Macau line 28): anything else is
    # neither, and no answer to "Hong Kong or Macau?" could make it a number
    local = re.fullmatch(r"[4-9]\d{7}|28\d{6}", digits)
    return digits if local and digits.isascii() else None


class RegionNeeded(Invalid):
    """A phone number of eight digits without a country code: the conversation asks
    whether it is Hong Kong (+852) or Macau (+853), then gives the number with its code
    to the question that asked (`handlers.phone`)."""

    def __init__(self, message: str, digits: str) -> None:
        super().__init__(message)
        self.digits = digits


def person_name(text: str) -> str | None:
    """A name of up to 20 characters, at least two of them letters (a Chinese name has
    two or more characters; `A` or `李` alone is an initial or a surname, not a name),
    and no digits."""
    name = " ".join(text.split())
    if not 2 <= len(name) <= 20 or any(ch.isdigit() for ch in name):
        return None
    if sum(ch.isalpha() for ch in name) < 2:
        return None
    return name


def age(text: str) -> int | None:
    """An age in years, as typed (`38`, `38岁`, `38 years`); None if not a number."""
    m = re.fullmatch(r"\s*(\d{1,3})\s*(岁|歲|years?( old)?)?\s*", text, flags=re.IGNORECASE)
    return int(m.group(1)) if m else None


def short_text(text: str, limit: int) -> str | None:
    cleaned = " ".join(text.split())
    return cleaned if 1 <= len(cleaned) <= limit else None


def checked_phone(_: Translator, text: str) -> str:
    """The normalised phone number, or `Invalid` with a translated explanation."""
    phone = phone_number(text)
    if phone is None and (digits := local_number(text)) is not None:
        raise RegionNeeded(_("Is {digits} a Hong Kong or a Macau number?", digits=digits), digits)
    if phone is None:
        raise Invalid(
            _(
                "That does not look like a mobile number. Please type 11 digits, like "
                "13800138000 (Hong Kong or Macau: with +852 or +853)."
            )
        )
    return phone


def checked_name(_: Translator, text: str) -> str:
    """The tidied name, or `Invalid` with a translated explanation."""
    name = person_name(text)
    if name is None:
        raise Invalid(_("Please type your full name (2 to 20 characters, no numbers)."))
    return name
