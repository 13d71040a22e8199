"""Spell out numbers, money, times, ordinals and percentages in English words.

Better than NVIDIA's normaliser: "1,234" is one thousand two hundred thirty-four (NVIDIA drops the comma and reads
a year), and negatives, decimals, times, percentages, pounds and euros are handled.
"""
from __future__ import annotations

import re

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
         "sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ("", "thousand", "million", "billion", "trillion", "quadrillion")
_ORDINAL_IRREGULAR = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                      "nine": "ninth", "twelve": "twelfth"}

_CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
               "€": ("euro", "euros", "cent", "cents")}
_MAGNITUDE = r"(?:\s?(thousand|million|billion|trillion)\b)?"
_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?|\.\d+"

_currency_re = re.compile(r"([$£€])\s?(" + _NUM + r")" + _MAGNITUDE, re.IGNORECASE)
_percent_re = re.compile(r"(-?)(" + _NUM + r")\s?%")
_time_re = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)(?:\s?([ap])\.?\s?m\b\.?)?", re.IGNORECASE)
_ordinal_re = re.compile(r"\b(\d+(?:,\d{3})*)(st|nd|rd|th)\b", re.IGNORECASE)
_decimal_re = re.compile(r"(?<![\d.])(-?)(\d+(?:,\d{3})*)\.(\d+)\b")
_comma_number_re = re.compile(r"(?<![\d,])(-?)(\d{1,3}(?:,\d{3})+)\b")
_year_re = re.compile(r"(?<![\d,.$£€-])\b(1[1-9]\d\d|20\d\d)\b(?![,.]?\d)")
_negative_re = re.compile(r"(?<![\w])-(\d)")
_integer_re = re.compile(r"\d+")
_digit_letter_re = re.compile(r"(\d)([A-Za-z])|(?<=[A-Za-z])(?=\d)")


def cardinal(n: int) -> str:
    """Integer -> words: 1234 -> 'one thousand two hundred thirty-four'."""
    if n < 0:
        return "minus " + cardinal(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + ("-" + _ONES[ones] if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return _ONES[hundreds] + " hundred" + (" " + cardinal(rest) if rest else "")
    parts = []
    scale = 0
    while n:
        n, chunk = divmod(n, 1000)
        if chunk:
            if scale >= len(_SCALES):
                raise ValueError("number too large to spell out")
            parts.append(cardinal(chunk) + (" " + _SCALES[scale] if scale else ""))
        scale += 1
    return " ".join(reversed(parts))


def ordinal(n: int) -> str:
    words = cardinal(n)
    head, sep, last = words.rpartition(" ")
    pre, dash, tail = last.rpartition("-")
    if tail in _ORDINAL_IRREGULAR:
        tail = _ORDINAL_IRREGULAR[tail]
    elif tail.endswith("y"):
        tail = tail[:-1] + "ieth"
    else:
        tail = tail + "th"
    return head + sep + pre + dash + tail


def year(n: int) -> str:
    """1999 -> nineteen ninety-nine; 2005 -> two thousand five; 2026 -> twenty twenty-six; 1900 -> nineteen hundred."""
    if 2000 <= n < 2010:
        return cardinal(n)
    high, low = divmod(n, 100)
    if low == 0:
        return cardinal(high) + " hundred"
    return cardinal(high) + (" oh " if low < 10 else " ") + cardinal(low)


def _digits(s: str) -> str:
    return " ".join(_ONES[int(d)] for d in s)


def _number(text: str) -> str:
    """'1,234.56' -> words (digits after the point read one by one)."""
    whole, _, frac = text.replace(",", "").partition(".")
    words = cardinal(int(whole)) if whole else "zero"
    return words + (" point " + _digits(frac) if frac else "")


def _big(value: str) -> int:
    digits = value.replace(",", "")
    if len(digits) > 18:
        raise ValueError
    return int(digits)


def _currency(m: re.Match[str]) -> str:
    one, many, sub_one, sub_many = _CURRENCIES[m.group(1)]
    amount, magnitude = m.group(2), m.group(3)
    if magnitude:
        return f"{_number(amount)} {magnitude.lower()} {many}"
    whole, _, frac = amount.replace(",", "").partition(".")
    units = int(whole) if whole else 0
    cents = int((frac + "00")[:2]) if frac else 0
    parts = []
    if units or not cents:
        parts.append(f"{cardinal(units)} {one if units == 1 else many}")
    if cents:
        parts.append(f"{cardinal(cents)} {sub_one if cents == 1 else sub_many}")
    return " and ".join(parts)


def _time(m: re.Match[str]) -> str:
    hours, minutes, meridiem = int(m.group(1)), int(m.group(2)), m.group(3)
    words = cardinal(hours)
    if minutes == 0:
        words += " o'clock" if not meridiem else ""
    elif minutes < 10:
        words += " oh " + cardinal(minutes)
    else:
        words += " " + cardinal(minutes)
    if meridiem:
        words += " " + meridiem.lower() + " m"
    return words


def normalize_numbers(text: str) -> str:
    """Replace every number-like token in ``text`` with words. Digits that remain nowhere."""
    text = _currency_re.sub(_currency, text)
    text = _percent_re.sub(lambda m: ("minus " if m.group(1) else "") + _number(m.group(2)) + " percent", text)
    text = _time_re.sub(_time, text)
    text = _ordinal_re.sub(lambda m: ordinal(_big(m.group(1))), text)
    text = _digit_letter_re.sub(r"\1 \2", text)  # "221B" -> "221 B"
    text = _decimal_re.sub(lambda m: ("minus " if m.group(1) else "") + _number(m.group(2) + "." + m.group(3)),
                           text)
    text = _comma_number_re.sub(lambda m: ("minus " if m.group(1) else "") + cardinal(_big(m.group(2))), text)
    text = _year_re.sub(lambda m: year(int(m.group(1))), text)
    text = _negative_re.sub(r"minus \1", text)

    def integer(m: re.Match[str]) -> str:
        digits = m.group(0)
        if len(digits) > 15:  # phone/ID-like strings: read digit by digit
            return _digits(digits)
        return cardinal(int(digits))

    return _integer_re.sub(integer, text)
