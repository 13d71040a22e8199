"""Number words (cardinals, ordinals, years, digits, decimals) and the last pass of the front end, which reads every
number the earlier rules left: ordinals, decimals, numbers with thousands separators, years, negatives, integers.

Better than NVIDIA's normaliser: "1,234" is one thousand two hundred thirty-four (NVIDIA drops the comma and reads
a year), and negatives and decimals are handled. Money, times, percentages and the other classes are rules of their
own (tts_core.text.rules), run before this.
"""
from __future__ import annotations

import re

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
         "sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ("", "thousand", "million", "billion", "trillion", "quadrillion")
_ORDINAL_IRREGULAR = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                      "nine": "ninth", "twelve": "twelfth"}

NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?|\.\d+"

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
    """1999 -> nineteen ninety-nine; 2005 -> two thousand five; 2026 -> twenty twenty-six; 1900 -> nineteen hundred;
    476 -> four seventy-six; 44 -> forty-four."""
    if n < 100 or 2000 <= n < 2010 or n % 1000 == 0:
        return cardinal(n)
    high, low = divmod(n, 100)
    if low == 0:
        return cardinal(high) + " hundred"
    return cardinal(high) + (" oh " if low < 10 else " ") + cardinal(low)


def plural(words: str) -> str:
    """The plural of a number's last word: eighty -> eighties, six -> sixes, hundred -> hundreds."""
    if words.endswith("y"):
        return words[:-1] + "ies"
    if words.endswith(("x", "s")):
        return words + "es"
    return words + "s"


def digits(s: str, zero: str = "zero") -> str:
    """'0199' -> 'zero one nine nine' (telephone numbers say 'oh': zero='oh')."""
    return " ".join(zero if d == "0" else _ONES[int(d)] for d in s if d.isdigit())


def integer(text: str) -> str:
    """'1,234' -> words; longer than 15 digits (an ID, not an amount) digit by digit."""
    value = text.replace(",", "")
    return cardinal(int(value)) if len(value) <= 15 else digits(value)


def number(text: str) -> str:
    """'1,234.56' -> words (digits after the point read one by one)."""
    whole, _, frac = text.replace(",", "").partition(".")
    words = integer(whole) if whole else "zero"
    return words + (" point " + digits(frac) if frac else "")


def is_one(text: str) -> bool:
    """Whether a written amount takes the singular ('1 kg', '1 dollar'; not '1.5' or '1.0')."""
    return text.replace(",", "") == "1"


def normalize_numbers(text: str) -> str:
    """Replace every number-like token in ``text`` with words. Digits remain nowhere."""
    text = _ordinal_re.sub(lambda m: ordinal(int(m.group(1).replace(",", ""))) if len(m.group(1)) <= 15
                           else digits(m.group(1)), text)
    text = _digit_letter_re.sub(r"\1 \2", text)  # "221B" -> "221 B"
    text = _decimal_re.sub(lambda m: ("minus " if m.group(1) else "") + number(m.group(2) + "." + m.group(3)), text)
    text = _comma_number_re.sub(lambda m: ("minus " if m.group(1) else "") + integer(m.group(2)), text)
    text = _year_re.sub(lambda m: year(int(m.group(1))), text)
    text = _negative_re.sub(r"minus \1", text)

    return _integer_re.sub(lambda m: integer(m.group(0)), text)
