"""Dates and days of the week: 'July 4, 1776' -> july fourth, seventeen seventy-six; '07/04/2021' -> july fourth,
twenty twenty-one; '2021-07-04' (ISO) the same; '1 January 2020' -> the first of january twenty twenty;
'Tue., Aug. 3' -> tuesday, august third.

Rules: numeric dates are month first (US) unless the first number cannot be a month (25/12/2024 is day first); a
month/day without a year is a date only when the day cannot be a usual fraction's denominator (3/15, 11/30 are
dates; 3/4, 7/16 are fractions: days 13-31 except 16). A month name or abbreviation is a month when capitalized and followed
by a day, or when abbreviated with a dot (Feb.); 'May 5' is may fifth. A weekday abbreviation (Mon, Tue., Sat.)
is a weekday when a date follows; 'Sun.' alone stays the sun. Two-digit years are read as numbers ('99 -> ninety-nine).
"""
from __future__ import annotations

import re

from ..numbers import cardinal, ordinal, year

MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]
_ABBR = {"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "Jun": 6, "Jul": 7, "Aug": 8, "Sep": 9, "Sept": 9, "Oct": 10,
         "Nov": 11, "Dec": 12}
_DAYS = {"Mon": "monday", "Tue": "tuesday", "Tues": "tuesday", "Wed": "wednesday", "Thu": "thursday",
         "Thur": "thursday", "Thurs": "thursday", "Fri": "friday", "Sat": "saturday", "Sun": "sunday"}
_MONTH_NAME = r"(?:%s)" % "|".join([m.capitalize() for m in MONTHS] + [a + r"\.?" for a in _ABBR])
_ANY_MONTH = r"(?:%s)" % "|".join(MONTHS + [m.capitalize() for m in MONTHS] + list(_ABBR))

_ISO = re.compile(r"(?<![\w./-])(\d{4})-(\d{2})-(\d{2})(?![\w/-])")
_NUMERIC = re.compile(r"(?<![\w./-])(\d{1,2})([/-])(\d{1,2})\2(\d{4}|\d{2})(?![\w/-])")
_MONTH_DAY_NUMERIC = re.compile(r"(?<![\w./-])(1[0-2]|0?[1-9])/(1[3-57-9]|2\d|3[01])(?![\w/-])")
_WEEKDAY = re.compile(r"\b(%s)\b\.?(?=,?\s+(?:%s|\d))" % ("|".join(_DAYS), _ANY_MONTH))
_MONTH_DAY = re.compile(r"\b(%s)\s+(\d{1,2})(?:st|nd|rd|th)?\b(?![:.,]?\d)(?:(,?)\s+(\d{4})\b)?" % _MONTH_NAME)
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(%s)\b(?:,?\s+(\d{4})\b)?" % _MONTH_NAME)
_MONTH_ABBR = re.compile(r"\b(%s)\.(?=\s|$)" % "|".join(_ABBR))


def _month(token: str) -> str | None:
    token = token.rstrip(".")
    if token in _ABBR:
        return MONTHS[_ABBR[token] - 1]
    return token.lower() if token.lower() in MONTHS else None


def _year(y: str) -> str:
    if len(y) == 2:
        return ("oh " + cardinal(int(y))) if y.startswith("0") else cardinal(int(y))
    return year(int(y))


def _spoken(month: int, day: int, y: str | None) -> str:
    return f"{MONTHS[month - 1]} {ordinal(day)}" + (f", {_year(y)}" if y else "")


def _iso(m: re.Match[str]) -> str:
    month, day = int(m.group(2)), int(m.group(3))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m.group(0)
    return _spoken(month, day, m.group(1))


def _numeric(m: re.Match[str]) -> str:
    first, second, y = int(m.group(1)), int(m.group(3)), m.group(4)
    if 1 <= first <= 12 and 1 <= second <= 31:
        return _spoken(first, second, y)
    if 13 <= first <= 31 and 1 <= second <= 12:  # day first
        return f"the {ordinal(first)} of {MONTHS[second - 1]}, {_year(y)}"
    return m.group(0)


def _month_day(m: re.Match[str]) -> str:
    day = int(m.group(2))
    if not 1 <= day <= 31:
        return m.group(0)
    return f"{_month(m.group(1))} {ordinal(day)}" + (f", {year(int(m.group(4)))}" if m.group(4) else "")


def _day_month(m: re.Match[str]) -> str:
    day = int(m.group(1))
    if not 1 <= day <= 31:
        return m.group(0)
    before = m.string[max(0, m.start() - 4):m.start()].lower()
    the = "" if before.endswith(("the ", "on the ")) else "the "
    return f"{the}{ordinal(day)} of {_month(m.group(2))}" + (f" {year(int(m.group(3)))}" if m.group(3) else "")


def apply(text: str) -> str:
    text = _ISO.sub(_iso, text)
    text = _NUMERIC.sub(_numeric, text)
    text = _MONTH_DAY_NUMERIC.sub(lambda m: _spoken(int(m.group(1)), int(m.group(2)), None), text)
    text = _WEEKDAY.sub(lambda m: _DAYS[m.group(1)], text)
    text = _MONTH_DAY.sub(_month_day, text)
    text = _DAY_MONTH.sub(_day_month, text)
    return _MONTH_ABBR.sub(lambda m: _month(m.group(1)), text)
