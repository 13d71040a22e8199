"""The text front end's one entry: written English as a careful reader says it aloud.

``normalize(text)`` turns telephone numbers, dates, decades, ranges, times, money, units, temperatures,
percentages, fractions, Roman numerals, emails and URLs, hashtags, signs and abbreviations into words, and then
every number left. The handler, training and evaluation all reach it through ``english_cleaners`` (and so
``text_to_sequence`` / ``clean_text``); nothing else expands text.

The engine is our own ordered rules (one module per class in ``tts_core.text.rules``). Measured side by side by
``scripts/bench_text.py``: NVIDIA NeMo's WFST normalizer reads 119 of our 236 cases right (ours all; on 66 cases
written after the rules were frozen, 35 against our 65), takes 39-125 ms per 100 characters (the budget is 20;
ours is under 1) and needs a compiled grammar cache; inflect's number_to_words says the same words as our
``numbers.cardinal`` but takes 63 µs a number against 0.9, so neither is used, and nothing does a job twice.
Order matters: what contains dots, dashes and slashes of its own (URLs, telephone numbers, dates) is read
before ranges and fractions; classes that read a number with its unit come before the plain numbers.
Ambiguous cases follow the rule written in each module's docstring.
"""
from __future__ import annotations

import logging
import re
import unicodedata

from .numbers import normalize_numbers
from .rules import (abbreviations, dates, decades, fractions, hashtags, measures, money, ranges, roman, signs,
                    telephone, times, web)

log = logging.getLogger(__name__)
_RULES = (web, hashtags, telephone, dates, decades, ranges, times, money, measures, fractions, roman,
          abbreviations, signs)


def _keep_script(ch: str) -> str:
    cat = unicodedata.category(ch)
    if cat in ("Cc", "Cf", "Zl", "Zp"):
        return " "
    if cat.startswith("L") and ord(ch) > 0x7F and not unicodedata.name(ch, "").startswith("LATIN"):
        return " "  # Cyrillic, Greek, CJK, Arabic, ...: not speakable by an English voice
    return ch


# Marks that NFKC would turn into letters ('™' -> 'TM') or unidecode into nonsense ('§' -> 'SS'): readers skip
# trademark signs and say the others.
_MARKS = {"\u2122": " ", "\u00ae": " ", "\u2120": " ", "\u00a9": " copyright ", "\u00a7": " section ",
          "\u00b6": " paragraph "}
_MARK_RE = re.compile("[%s]" % "".join(_MARKS))


def normalize(text: str) -> str:
    """Written text -> the words a reader says (case and punctuation kept, for the cleaners to fold)."""
    text = _MARK_RE.sub(lambda m: _MARKS[m.group(0)], text)
    text = fractions.expand_vulgar(text)  # before NFKC, which would turn '1½' into '11⁄2'
    text = unicodedata.normalize("NFKC", text)
    text = "".join(_keep_script(ch) for ch in text)
    for rule in _RULES:
        try:
            text = rule.apply(text)
        except Exception:  # noqa: BLE001 - a rule's bug must not turn a user's text into a server error
            log.exception("text rule %s failed; the text goes on without it", rule.__name__)
    return normalize_numbers(text)
