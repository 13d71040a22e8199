"""Decades and eras: 'the 1980s' -> the nineteen eighties; "the '90s" / '80s' -> the nineties / eighties;
'476 AD' -> four seventy-six a d; '44 BC' -> forty-four b c."""
from __future__ import annotations

import re

from ..numbers import cardinal, plural, year
from ._words import letters

_FULL = re.compile(r"(?<![\w.,])(1\d|20)(\d)0'?s\b")
_SHORT = re.compile(r"(?<![\w.,])['\u2019]?([2-9])0'?s\b")
_ERA_AFTER = re.compile(r"(?<![\w.,])(\d{1,4})\s?(AD|BC|BCE|CE|A\.D\.|B\.C\.)(?![\w])")
_ERA_BEFORE = re.compile(r"\b(AD|A\.D\.)\s?(\d{1,4})\b")


def _era(digits: str, era: str) -> str:
    return f"{year(int(digits))} {letters(era.replace('.', ''))}"


def apply(text: str) -> str:
    text = _FULL.sub(lambda m: plural(year(int(m.group(1) + m.group(2) + "0"))), text)
    text = _SHORT.sub(lambda m: plural(cardinal(int(m.group(1)) * 10)), text)
    text = _ERA_AFTER.sub(lambda m: _era(m.group(1), m.group(2)), text)
    return _ERA_BEFORE.sub(lambda m: _era(m.group(2), m.group(1)), text)
