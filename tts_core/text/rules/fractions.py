"""Fractions and mixed numbers: '3/4' -> three quarters; '1/2' -> one half; '2/3' -> two thirds; '1 1/2' -> one and
a half; '2 3/4' -> two and three quarters; '½', '1½' the same. Idioms: '24/7' -> twenty-four seven, '50/50' ->
fifty fifty.

Rule: a/b is a fraction when 0 < a < b <= 100 (proper) and stands alone (not part of a date, a path, a unit
like km/h); anything else is left to be read as numbers. Ratings are 'out of': '4.5/5', '5/5 stars', 'rated 8/10',
'10/10 would recommend'.
"""
from __future__ import annotations

import re

from ..numbers import cardinal, integer, number, ordinal

VULGAR = {"½": "1/2", "⅓": "1/3", "⅔": "2/3", "¼": "1/4", "¾": "3/4", "⅕": "1/5", "⅖": "2/5", "⅗": "3/5",
          "⅘": "4/5", "⅙": "1/6", "⅚": "5/6", "⅛": "1/8", "⅜": "3/8", "⅝": "5/8", "⅞": "7/8", "⅐": "1/7",
          "⅑": "1/9", "⅒": "1/10"}
_VULGAR = re.compile(r"(\d?)([%s])" % "".join(VULGAR))
_MIXED = re.compile(r"(?<![\w./])(\d+)\s+(\d{1,2})/(\d{1,3})(?![\w/])")
_SIMPLE = re.compile(r"(?<![\w./])(\d{1,3})/(\d{1,3})(?![\w/])")
_RATING = re.compile(r"((?:rated|rating|rate|scored|score|gave it|review)\s*:?\s*)?(?<![\w./])(\d{1,2}(?:\.\d)?)/(5|10|100)"
                     r"(?![\w/])(\s+(?:stars?|points?|rating|overall|would)\b)?", re.IGNORECASE)
_IDIOMS = {"24/7": "twenty-four seven", "9/11": "nine eleven"}


def _denominator(n: int, many: bool) -> str:
    name = {2: "half", 4: "quarter"}.get(n) or ordinal(n)
    if not many:
        return name
    return "halves" if name == "half" else name + "s"


def _fraction(num: int, den: int) -> str | None:
    if not 0 < num < den <= 100:
        return None
    return f"{cardinal(num)} {_denominator(den, num > 1)}"


def words(whole: str | None, num: int, den: int) -> str | None:
    """'1 1/2' -> one and a half; '3/4' -> three quarters; None when it is not a fraction this module reads."""
    if not 0 < num < den <= 100:
        return None
    if not whole:
        return _fraction(num, den)
    part = f"a {_denominator(den, False)}" if num == 1 else _fraction(num, den)
    return f"{integer(whole)} and {part}"


def _mixed(m: re.Match[str]) -> str:
    return words(m.group(1), int(m.group(2)), int(m.group(3))) or m.group(0)


def _rating(m: re.Match[str]) -> str:
    score, scale = m.group(2), m.group(3)
    context = bool(m.group(1)) or bool(m.group(4))
    if not (context or "." in score or score == scale):
        return m.group(0)
    return f"{m.group(1) or ''}{number(score)} out of {cardinal(int(scale))}{m.group(4) or ''}"


def _simple(m: re.Match[str]) -> str:
    if m.group(0) in _IDIOMS:
        return _IDIOMS[m.group(0)]
    num, den = int(m.group(1)), int(m.group(2))
    if num == den:  # 50/50
        return f"{cardinal(num)} {cardinal(den)}"
    return _fraction(num, den) or m.group(0)


def expand_vulgar(text: str) -> str:
    """'1½' -> '1 1/2', '½' -> '1/2' (before Unicode normalization, which would make '1½' into '11⁄2')."""
    return _VULGAR.sub(lambda m: (m.group(1) + " " if m.group(1) else "") + VULGAR[m.group(2)], text)


def apply(text: str) -> str:
    text = text.replace("\u2044", "/")
    text = _RATING.sub(_rating, text)
    text = _MIXED.sub(_mixed, text)
    return _SIMPLE.sub(_simple, text)
