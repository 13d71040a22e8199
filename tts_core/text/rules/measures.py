"""Units of measure, temperatures and percentages: '15 kg' -> fifteen kilograms; '50 km/h' -> fifty kilometers per
hour; '20 m²' -> twenty square meters; '25°F' -> twenty-five degrees fahrenheit; '-5°C' -> minus five degrees
celsius; '3.5%' -> three point five percent; '5‰' -> five per mille.

Rules: a unit is read only after a number; 1 takes the singular, every other amount the plural, and after 'a'/'an'
the unit is singular ('a 10 oz steak' -> a ten ounce steak). Ambiguous symbols are left alone: 'in' (the word),
lowercase 'l', 't', 'st'; 'm' after a number is meters (money's '$5m' is million, read before this), except
that '1.2m views', '10k followers' are counts. A fraction takes the singular ('1/2 tsp' -> one half teaspoon), a
mixed number the plural. A unit's own full stop before a lowercase word is not a sentence's ('6 ft. tall').
"""
from __future__ import annotations

import re

from ..numbers import is_one, number
from . import fractions
from ._words import after_article

# symbol -> (singular, plural)
_UNITS = {
    "mm": ("millimeter", "millimeters"), "cm": ("centimeter", "centimeters"), "m": ("meter", "meters"),
    "km": ("kilometer", "kilometers"), "ft": ("foot", "feet"), "yd": ("yard", "yards"), "mi": ("mile", "miles"),
    "nm": ("nanometer", "nanometers"), "µm": ("micrometer", "micrometers"), "μm": ("micrometer", "micrometers"),
    "mg": ("milligram", "milligrams"), "g": ("gram", "grams"), "kg": ("kilogram", "kilograms"),
    "oz": ("ounce", "ounces"), "lb": ("pound", "pounds"), "lbs": ("pound", "pounds"),
    "ml": ("milliliter", "milliliters"), "mL": ("milliliter", "milliliters"), "L": ("liter", "liters"),
    "cl": ("centiliter", "centiliters"), "dl": ("deciliter", "deciliters"), "gal": ("gallon", "gallons"),
    "fl oz": ("fluid ounce", "fluid ounces"), "qt": ("quart", "quarts"), "pt": ("pint", "pints"),
    "tsp": ("teaspoon", "teaspoons"), "tbsp": ("tablespoon", "tablespoons"), "Tbsp": ("tablespoon", "tablespoons"),
    "ms": ("millisecond", "milliseconds"), "sec": ("second", "seconds"), "secs": ("second", "seconds"),
    "s": ("second", "seconds"), "min": ("minute", "minutes"), "mins": ("minute", "minutes"),
    "h": ("hour", "hours"), "hr": ("hour", "hours"), "hrs": ("hour", "hours"), "yr": ("year", "years"),
    "yrs": ("year", "years"),
    "km/h": ("kilometer per hour", "kilometers per hour"), "kph": ("kilometer per hour", "kilometers per hour"),
    "mph": ("mile per hour", "miles per hour"), "m/s": ("meter per second", "meters per second"),
    "KB": ("kilobyte", "kilobytes"), "kB": ("kilobyte", "kilobytes"), "MB": ("megabyte", "megabytes"),
    "GB": ("gigabyte", "gigabytes"), "TB": ("terabyte", "terabytes"), "PB": ("petabyte", "petabytes"),
    "Mb": ("megabit", "megabits"), "Gb": ("gigabit", "gigabits"), "kbps": ("kilobit per second", "kilobits per second"),
    "Mbps": ("megabit per second", "megabits per second"), "Gbps": ("gigabit per second", "gigabits per second"),
    "MB/s": ("megabyte per second", "megabytes per second"),
    "Hz": ("hertz", "hertz"), "kHz": ("kilohertz", "kilohertz"), "MHz": ("megahertz", "megahertz"),
    "GHz": ("gigahertz", "gigahertz"), "W": ("watt", "watts"), "kW": ("kilowatt", "kilowatts"),
    "MW": ("megawatt", "megawatts"), "kWh": ("kilowatt hour", "kilowatt hours"), "V": ("volt", "volts"),
    "mA": ("milliamp", "milliamps"), "mAh": ("milliamp hour", "milliamp hours"), "ha": ("hectare", "hectares"),
    "cal": ("calorie", "calories"), "kcal": ("kilocalorie", "kilocalories"),
}
_SQUARE = {"m": "meter", "km": "kilometer", "cm": "centimeter", "mm": "millimeter", "ft": "foot", "mi": "mile"}
_UNIT = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
_NUM = r"(?<![\w.,])(\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)"
_MEASURE = re.compile(_NUM + r"\s?(%s)(?![\w/²³'\u2019-])(\.(?=\s+[a-z]))?" % _UNIT)
_FRACTION_MEASURE = re.compile(r"(?<![\w.,/])(?:(\d+)\s+)?(\d{1,2})/(\d{1,3})\s?(%s)(?![\w/²³'\u2019-])" % _UNIT)
# '1.2m views', '10k followers', '3m people': a count, not meters ('5k run' stays a 5 K run)
_COUNT = re.compile(r"(?<![\w.,])(\d+(?:\.\d+)?)(k|K|m|bn)\s+"
                    r"(?=people\b|(?!(?:is|was|has|as|its|this|his|us|yes|does|plus|versus|across|always)\b)[a-z]+s\b)")
_FEET_INCHES = re.compile(r"(?<![\w.,])(\d+)\s?(?:ft\.?|feet|foot|')\s?(\d{1,2})\s?(?:in\b\.?|inches\b|\"|'')")
_INCHES = re.compile(r"(?<![\w.,])(\d+(?:\.\d+)?)(?:\"|'')(?=\s|$|[,.;:!?])")
_FEET = re.compile(r"(?<![\w.,])(\d+)'(?=\s|$|[,.;:!?])")
_COUNT_WORDS = {"k": "thousand", "K": "thousand", "m": "million", "M": "million", "bn": "billion", "B": "billion"}
_AREA = re.compile(_NUM + r"\s?(?:(sq\.?\s?)(ft|mi|m|km)|(m|km|cm|mm|ft|mi)(²|2|³|3))(?![\w])")
_TEMPERATURE = re.compile(r"(?<![\w.,])([-+\u2212]?)(\d+(?:\.\d+)?)\s?(?:°\s?|\s?degrees?\s)([CFK])\b")
_DEGREES = re.compile(r"(?<![\w.,])([-+\u2212]?)(\d+(?:\.\d+)?)\s?°")
_PERCENT = re.compile(r"(?<![\w.,])(-?)(\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)\s?(%|‰|per ?mille\b)")
_SCALES = {"C": "celsius", "F": "fahrenheit", "K": "kelvin"}
_SIGN_WORDS = {"-": "minus ", "\u2212": "minus ", "+": "plus ", "": ""}


def _singular(m: re.Match[str], amount: str) -> bool:
    return is_one(amount) or after_article(m)


def _adjective(m: re.Match[str]) -> bool:
    """'a 6' fence', '55" TV': the unit stands before a noun, singular."""
    return _singular(m, m.group(1)) or bool(re.match(r"\s+[A-Z]{2}", m.string[m.end():]))


def _measure(m: re.Match[str]) -> str:
    one, many = _UNITS[m.group(2)]
    return f"{number(m.group(1))} {one if _singular(m, m.group(1)) else many}"


def _area(m: re.Match[str]) -> str:
    unit = m.group(3) or m.group(4)
    cubic = m.group(5) in ("³", "3")
    name = _SQUARE[unit]
    if not _singular(m, m.group(1)):
        name = "feet" if name == "foot" else name + "s"
    return f"{number(m.group(1))} {'cubic' if cubic else 'square'} {name}"


def _degrees(sign: str, amount: str, scale: str | None) -> str:
    words = _SIGN_WORDS[sign] + number(amount) + (" degree" if is_one(amount) else " degrees")
    return words + (" " + _SCALES[scale] if scale else "")


def _fraction_measure(m: re.Match[str]) -> str:
    spoken = fractions.words(m.group(1), int(m.group(2)), int(m.group(3)))
    if spoken is None:
        return m.group(0)
    one, many = _UNITS[m.group(4)]
    return f"{spoken} {many if m.group(1) else one}"


def apply(text: str) -> str:
    text = _TEMPERATURE.sub(lambda m: _degrees(m.group(1), m.group(2), m.group(3)), text)
    text = _DEGREES.sub(lambda m: _degrees(m.group(1), m.group(2), None), text)
    text = _PERCENT.sub(lambda m: ("minus " if m.group(1) else "") + number(m.group(2))
                        + (" percent" if m.group(3) == "%" else " per mille"), text)
    # heights and screens: 5'6" -> five foot six (as said), 6 ft 2 in -> six feet two inches, 55" -> fifty-five inch
    text = _FEET_INCHES.sub(lambda m: f"{number(m.group(1))} {'feet' if 'f' in m.group(0) else 'foot'} "
                            f"{number(m.group(2))}" + (" inches" if "in" in m.group(0) else ""), text)
    text = _INCHES.sub(lambda m: f"{number(m.group(1))} " + ("inch" if _adjective(m) else "inches"), text)
    text = _FEET.sub(lambda m: f"{number(m.group(1))} " + ("foot" if _adjective(m) else "feet"), text)
    text = _COUNT.sub(lambda m: f"{number(m.group(1))} {_COUNT_WORDS[m.group(2)]} ", text)
    text = _AREA.sub(_area, text)
    text = _FRACTION_MEASURE.sub(_fraction_measure, text)
    return _MEASURE.sub(_measure, text)
