"""Clock times: '3pm' -> three p m; '3:30 PM' -> three thirty p m; '7:05' -> seven oh five; '9:00' -> nine o'clock;
'11am EST' -> eleven a m e s t (a time zone after a time is spelled).

A sentence that ends in 'p.m.' keeps its full stop.
"""
from __future__ import annotations

import re

from ..numbers import cardinal

_ZONES = "EST|EDT|CST|CDT|MST|MDT|PST|PDT|AKST|HST|ET|CT|MT|PT|GMT|UTC|BST|CET|CEST|EET|IST|JST|AEST|AEDT"
_MERIDIEM = re.compile(r"(?<![\w:.])(1[0-2]|0?[1-9])(?::([0-5]\d))?\s?([AaPp])\.?\s?[Mm]\b(\.)?(\s+(?:%s)\b)?"
                       % _ZONES)
_CLOCK = re.compile(r"(?<![\w:.])([01]?\d|2[0-3]):([0-5]\d)\b(?!:\d)(\s+(?:%s)\b)?" % _ZONES)


def _minutes(hours: int, minutes: int, meridiem: bool) -> str:
    words = cardinal(hours)
    if minutes == 0:
        return words if meridiem else words + " o'clock"
    return words + (" oh " if minutes < 10 else " ") + cardinal(minutes)


def _zone(zone: str | None) -> str:
    return (" " + " ".join(zone.strip().lower())) if zone else ""


def _meridiem(m: re.Match[str]) -> str:
    words = _minutes(int(m.group(1)), int(m.group(2) or 0), True) + " " + m.group(3).lower() + " m"
    words += _zone(m.group(5))
    if m.group(4) and not m.group(5):  # 'p.m.' at the end of a sentence: keep the full stop
        rest = m.string[m.end():]
        if not rest.strip() or re.match(r"\s+[A-Z]", rest):
            words += "."
    return words


def apply(text: str) -> str:
    text = _MERIDIEM.sub(_meridiem, text)
    return _CLOCK.sub(lambda m: _minutes(int(m.group(1)), int(m.group(2)), False) + _zone(m.group(3)), text)
