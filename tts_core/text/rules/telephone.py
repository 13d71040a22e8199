"""Telephone numbers, read digit by digit in their groups with a pause between groups, 0 as 'oh':
'(212) 555-0199' -> two one two, five five five, oh one nine nine.

Rules: North American numbers (with or without +1 / 1-, parentheses, dashes, dots or spaces); the toll-free area
code 800 is 'eight hundred' (888, 877, ... stay digits, as people say them); international numbers start with '+';
a bare 555-0199 is a telephone number when its second group starts with 0 or a word like 'call' or 'number'
comes just before (otherwise 200-1000 is a range). Extensions: 'ext. 42', 'x105', 'extension 7': two digits as a
number (forty-two), others digit by digit (one oh five). Vanity numbers: '1-800-FLOWERS' -> one, eight hundred,
flowers. Emergency numbers after call/dial (911, 999, 112) and codes (a PIN, passcode, verification or
confirmation code, zip code) are digits one by one: 'code is 482913' -> four eight two nine one three.
"""
from __future__ import annotations

import re

from ..numbers import cardinal, digits

_EXT = r"(?:,?\s*(?:ext\.?|extension|x)\s?(\d{1,5}))?"
_NANP = re.compile(r"(?<![\w+])(?:(\+?1)[\s.-]?)?(?:\((\d{3})\)\s?|(\d{3})[\s.-])(\d{3})[\s.-](\d{4})\b" + _EXT)
_INTERNATIONAL = re.compile(r"(?<![\w+])\+(\d{1,3})((?:[\s.-]\d{1,8}){2,6})\b" + _EXT)
_LOCAL = re.compile(r"(?<![\w+./-])(\d{3})-(\d{4})\b(?![-/.]\d)" + _EXT)
_VANITY = re.compile(r"(?<![\w+])(?:(1)-)?(800|888|877|866|855|844|833)-([A-Z]{4,10})\b")
_EMERGENCY = re.compile(r"\b((?:call|dial|ring|phone|text)\s+)(911|999|112|000)\b", re.IGNORECASE)
_CODE = re.compile(r"\b((?:pin|passcode|password|code|otp|zip|zip code|postcode|post code|confirmation number|"
                   r"tracking number|reference number|order number)(?:\s+(?:is|was|number))?\s*[:#]?\s*)(\d{3,12})\b",
                   re.IGNORECASE)
_CONTEXT = re.compile(r"\b(?:(?:call|dial|phone|text|fax|reach|contact|ring)(?:\s+[a-z]+){0,2}|(?:number|tel|telephone|"
                      r"mobile|cell|phone)(?:\s+(?:is|was|at))?)\W*$", re.IGNORECASE)


def _group(g: str) -> str:
    return digits(g, zero="oh")


def _ext(ext: str | None) -> str:
    if not ext:
        return ""
    return ", extension " + (cardinal(int(ext)) if len(ext) == 2 else _group(ext))


def _nanp(m: re.Match[str]) -> str:
    country, area = m.group(1), m.group(2) or m.group(3)
    groups = ([("plus " if country.startswith("+") else "") + "one"] if country else [])
    groups.append("eight hundred" if area == "800" else _group(area))
    groups += [_group(m.group(4)), _group(m.group(5))]
    return ", ".join(groups) + _ext(m.group(6))


def _international(m: re.Match[str]) -> str:
    groups = ["plus " + _group(m.group(1))] + [_group(g) for g in re.split(r"[\s.-]", m.group(2).strip()) if g]
    return ", ".join(groups) + _ext(m.group(3))


def _local(m: re.Match[str]) -> str:
    if not (m.group(2).startswith("0") or _CONTEXT.search(m.string[max(0, m.start() - 30):m.start()])):
        return m.group(0)
    return _group(m.group(1)) + ", " + _group(m.group(2)) + _ext(m.group(3))


def _vanity(m: re.Match[str]) -> str:
    area = "eight hundred" if m.group(2) == "800" else _group(m.group(2))
    return ("one, " if m.group(1) else "") + area + ", " + m.group(3).lower()


def apply(text: str) -> str:
    text = _VANITY.sub(_vanity, text)
    text = _EMERGENCY.sub(lambda m: m.group(1) + digits(m.group(2)), text)
    text = _CODE.sub(lambda m: m.group(1) + digits(m.group(2)), text)
    text = _NANP.sub(_nanp, text)
    text = _INTERNATIONAL.sub(_international, text)
    return _LOCAL.sub(_local, text)
