"""Number ranges and scores: '5-10%' -> 5 to 10%; '10–15 minutes'; '102-98'; '9am-5pm'; '$5-$10'.

Rule: two numbers joined by an en or em dash (spaced or not), or by a hyphen with no space on either side, are a
range ('to'); a hyphen with spaces is minus ('10 - 3'). Telephone numbers and dates are read before this.
The numbers themselves are left for the rules of their class (money, percent, times, units, years).
"""
from __future__ import annotations

import re

_SIGN = r"[$£€¥₹₩]?"
_SIDE = _SIGN + r"\d+(?:,\d{3})*(?:\.\d+)?(?::[0-5]\d)?(?:\s?[ap]\.?m\.?|\s?%)?"
_RANGE = re.compile(r"(?<![\w.,/-])(%s)(?:\s?[\u2013\u2014]\s?|-)(%s)(?![\w/]*-\d)" % (_SIDE, _SIGN + r"\d"),
                    re.IGNORECASE)


def apply(text: str) -> str:
    return _RANGE.sub(lambda m: f"{m.group(1)} to {m.group(2)}", text)
