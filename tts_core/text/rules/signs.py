"""Signs in context: '&' and, '@' at, '+' plus, '=' equals, '#' number, '10x faster' ten times, '2x4' two by four,
'10 - 3' ten minus three, 'and/or' and or, 'yes/no' / 'his/her' yes or no / his or her; every other sign an English voice cannot say
becomes a space; double quotes are dropped, as NVIDIA's cleaners drop them ('said "no".' -> said no.)."""
from __future__ import annotations

import re

_TIMES = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?[x×](?=\s|$|[,.;:!?])")
_BY = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?[x×]\s?(?=\d)")
_MINUS = re.compile(r"(?<=\d)\s+[-\u2212]\s+(?=\d)")
_AND_OR = re.compile(r"\band/or\b", re.IGNORECASE)
_ALTERNATIVES = re.compile(r"\b([a-z]+)/([a-z]+)\b")
_WORDS = {"&": " and ", "@": " at ", "+": " plus ", "=": " equals ", "#": " number ", "/": " ", "\\": " ",
          "_": " ", "|": " ", "~": " ", "*": " ", "^": " ", "<": " ", ">": " ", "[": " ", "]": " ", "{": " ",
          "}": " ", '"': "", "`": "'", "\u2026": ".", "×": " times "}
_SIGNS = re.compile("[%s]" % re.escape("".join(_WORDS)))


def apply(text: str) -> str:
    text = _TIMES.sub(r"\1 times", text)
    text = _BY.sub(r"\1 by ", text)
    text = _MINUS.sub(" minus ", text)
    text = _AND_OR.sub("and or", text)
    text = _ALTERNATIVES.sub(r"\1 or \2", text)
    return _SIGNS.sub(lambda m: _WORDS[m.group(0)], text)
