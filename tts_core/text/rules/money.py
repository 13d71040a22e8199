"""Money: '$3.50' -> three dollars and fifty cents; '¥500' -> five hundred yen; '₹300' -> three hundred rupees;
'50¢' -> fifty cents; '$5M' / '$80k' / '$2B' -> five million / eighty thousand / two billion dollars;
'100 USD', 'EUR 20'; 'A$20' -> twenty australian dollars.

A minus before the sign is said ('-$12.34' -> minus twelve dollars and thirty-four cents).
Rule: after 'a' or 'an' the unit is singular ('a $2B deal' -> a two billion dollar deal, as said).
"""
from __future__ import annotations

import re

from ..numbers import NUMBER, integer, is_one, number
from ._words import after_article

# sign or code -> (one, many, sub-unit one, sub-unit many); sub-units only where people say them
_UNITS = {
    "$": ("dollar", "dollars", "cent", "cents"), "US$": ("u s dollar", "u s dollars", "cent", "cents"),
    "A$": ("australian dollar", "australian dollars", "cent", "cents"),
    "C$": ("canadian dollar", "canadian dollars", "cent", "cents"),
    "NZ$": ("new zealand dollar", "new zealand dollars", "cent", "cents"),
    "HK$": ("hong kong dollar", "hong kong dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"), "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", None, None), "₹": ("rupee", "rupees", "paisa", "paise"), "₩": ("won", "won", None, None),
    "₽": ("ruble", "rubles", "kopek", "kopeks"), "₺": ("lira", "lira", "kurus", "kurus"),
    "₪": ("shekel", "shekels", "agora", "agorot"), "₱": ("peso", "pesos", "centavo", "centavos"),
    "USD": ("u s dollar", "u s dollars", "cent", "cents"), "EUR": ("euro", "euros", "cent", "cents"),
    "GBP": ("pound", "pounds", "penny", "pence"), "JPY": ("yen", "yen", None, None),
    "INR": ("rupee", "rupees", "paisa", "paise"), "CAD": ("canadian dollar", "canadian dollars", "cent", "cents"),
    "AUD": ("australian dollar", "australian dollars", "cent", "cents"),
    "CHF": ("swiss franc", "swiss francs", "rappen", "rappen"), "CNY": ("yuan", "yuan", None, None),
}
_SIGNS = "|".join(re.escape(s) for s in sorted((k for k in _UNITS if not k.isalpha()), key=len, reverse=True))
_CODES = "|".join(k for k in _UNITS if k.isalpha())
_MAGNITUDES = {"k": "thousand", "K": "thousand", "thousand": "thousand", "m": "million", "M": "million",
               "mn": "million", "million": "million", "b": "billion", "B": "billion", "bn": "billion",
               "billion": "billion", "t": "trillion", "T": "trillion", "tn": "trillion", "trillion": "trillion"}
_MAGNITUDE = r"(?:\s?(thousand|million|billion|trillion)\b|(k|K|m|M|mn|b|B|bn|T|tn)\b)?"
_BEFORE = re.compile(r"(?:(?<![\w.])([-\u2212])(?=[$£€¥₹₩]))?(%s)\s?(%s)%s" % (_SIGNS, NUMBER, _MAGNITUDE),
                     re.IGNORECASE)
_CODE_BEFORE = re.compile(r"\b(%s)\s?(%s)%s" % (_CODES, NUMBER, _MAGNITUDE))
_CODE_AFTER = re.compile(r"(?<![\w.])(%s)%s\s?(%s)\b" % (NUMBER, _MAGNITUDE, _CODES))
_CENTS = re.compile(r"(?<![\w.])(\d+)\s?¢")


def _amount(unit: str, amount: str, magnitude: str | None, singular: bool) -> str:
    one, many, sub_one, sub_many = _UNITS[unit]
    if magnitude:
        scale = _MAGNITUDES.get(magnitude) or _MAGNITUDES[magnitude.lower()]
        return f"{number(amount)} {scale} {one if singular else many}"
    whole, _, frac = amount.replace(",", "").partition(".")
    units = int(whole) if whole else 0
    if len(whole) > 15:  # an ID, not an amount
        return f"{number(amount)} {many}"
    if frac and sub_one is None or len(frac) > 2:
        return f"{number(amount)} {one if singular else many}"
    cents = int((frac + "00")[:2]) if frac else 0
    parts = []
    if units or not cents:
        parts.append(f"{integer(str(units))} {one if units == 1 or singular else many}")
    if cents:
        parts.append(f"{integer(str(cents))} {sub_one if cents == 1 else sub_many}")
    return " and ".join(parts)


def _unit(token: str) -> str:
    return token if token in _UNITS else token.upper()


def apply(text: str) -> str:
    text = _BEFORE.sub(lambda m: ("minus " if m.group(1) else "")
                       + _amount(_unit(m.group(2)), m.group(3), m.group(4) or m.group(5), after_article(m)), text)
    text = _CODE_BEFORE.sub(lambda m: _amount(m.group(1), m.group(2), m.group(3) or m.group(4), after_article(m)), text)
    text = _CODE_AFTER.sub(lambda m: _amount(m.group(4), m.group(1), m.group(2) or m.group(3), after_article(m)), text)
    return _CENTS.sub(lambda m: integer(m.group(1)) + (" cent" if is_one(m.group(1)) else " cents"), text)
