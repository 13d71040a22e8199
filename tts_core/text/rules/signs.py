"""Signs in context: '&' and, '@' at, '+' plus, '=' equals, '#' number, '10x faster' ten times, '2x4' two by four,
'10 - 3' ten minus three, '$5/month' five dollars per month, 'n/a', 'c/o' care of, an em dash a
pause, 'and/or' and or, 'yes/no' / 'his/her' yes or no / his or her; every other sign an English voice cannot say
becomes a space; double quotes are dropped, as NVIDIA's cleaners drop them ('said "no".' -> said no.)."""
from __future__ import annotations

import re

_TIMES = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?[x×](?=\s|$|[,.;:!?])")
_BY = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?[x×]\s?(?=\d)")
_MINUS = re.compile(r"(?<=\d)\s+[-\u2212]\s+(?=\d)")
_AND_OR = re.compile(r"\band/or\b", re.IGNORECASE)
_PER_UNITS = {"h": "hour", "hr": "hour", "hour": "hour", "day": "day", "night": "night", "wk": "week", "week": "week",
              "mo": "month", "month": "month", "yr": "year", "year": "year", "person": "person", "head": "head",
              "unit": "unit", "each": "each", "item": "item", "lb": "pound", "kg": "kilogram", "oz": "ounce",
              "g": "gram", "mile": "mile", "mi": "mile", "km": "kilometer", "ft": "foot", "sq ft": "square foot",
              "gal": "gallon", "l": "liter", "liter": "liter", "min": "minute", "minute": "minute", "sec": "second",
              "second": "second", "seat": "seat", "user": "user", "page": "page", "visit": "visit", "kwh": "kilowatt hour"}
# 'dollars/month', '$3.99/lb' (money is read by now), 'miles/hour': a rate is 'per'
_PER = re.compile(r"(?<=[a-z])\s?/\s?(%s)\b" % "|".join(sorted(_PER_UNITS, key=len, reverse=True)), re.IGNORECASE)
_SPECIAL = [(re.compile(p, re.IGNORECASE), w) for p, w in [(r"\bn/a\b", "n a"), (r"\bc/o\b", "care of"),
                                                           (r"\bw/e\b", "whatever"), (r"\ba/c\b", "a c")]]
_DASH = re.compile(r"\s*\u2014\s*|(?<=[A-Za-z])\s+\u2013\s+(?=[A-Za-z])")  # an em dash is a pause
_ALTERNATIVES = re.compile(r"\b([a-z]+)/([a-z]+)\b")
_WORDS = {"&": " and ", "@": " at ", "+": " plus ", "=": " equals ", "#": " number ", "/": " ", "\\": " ",
          "_": " ", "|": " ", "~": " ", "*": " ", "^": " ", "<": " ", ">": " ", "[": " ", "]": " ", "{": " ",
          "}": " ", '"': "", "`": "'", "\u2026": ".", "×": " times "}
_SIGNS = re.compile("[%s]" % re.escape("".join(_WORDS)))


def apply(text: str) -> str:
    text = _TIMES.sub(r"\1 times", text)
    text = _BY.sub(r"\1 by ", text)
    text = _MINUS.sub(" minus ", text)
    text = _DASH.sub(", ", text)
    for pattern, words in _SPECIAL:
        text = pattern.sub(words, text)
    text = _PER.sub(lambda m: " per " + _PER_UNITS[m.group(1).lower()], text)
    text = _AND_OR.sub("and or", text)
    text = _ALTERNATIVES.sub(r"\1 or \2", text)
    return _SIGNS.sub(lambda m: _WORDS[m.group(0)], text)
