"""English text cleaning: NVIDIA's english_cleaners behaviour plus stricter handling of non-English input.

Pipeline: Unicode NFKC -> control characters to spaces -> letters of non-Latin scripts dropped (an English voice
cannot say them; transliterating CJK would produce gibberish) -> numbers, money, times to words -> unidecode for
the remaining Latin text -> lowercase -> abbreviations -> symbols -> only characters of the symbol table kept ->
whitespace collapsed.
"""
from __future__ import annotations

import re
import unicodedata

from unidecode import unidecode

from .numbers import normalize_numbers

_ABBREVIATIONS = [(re.compile(r"\b%s\." % abbr, re.IGNORECASE), word) for abbr, word in [
    ("mrs", "misess"), ("mr", "mister"), ("ms", "miss"), ("dr", "doctor"), ("st", "saint"), ("co", "company"),
    ("jr", "junior"), ("sr", "senior"), ("maj", "major"), ("gen", "general"), ("drs", "doctors"),
    ("rev", "reverend"), ("lt", "lieutenant"), ("hon", "honorable"), ("sgt", "sergeant"), ("capt", "captain"),
    ("esq", "esquire"), ("ltd", "limited"), ("col", "colonel"), ("ft", "fort"), ("mt", "mount"),
    ("prof", "professor"), ("inc", "incorporated"), ("corp", "corporation"), ("vs", "versus"),
    ("etc", "et cetera"), ("approx", "approximately"), ("dept", "department"), ("no", "number"),
]]
# Titles are unambiguous without a period too ("Mr Smith").
_TITLES = [(re.compile(r"\b%s\b(?=\s+[a-z])" % abbr), word) for abbr, word in [
    ("mrs", "misess"), ("mr", "mister"), ("dr", "doctor")]]
_SYMBOL_WORDS = {"&": " and ", "@": " at ", "+": " plus ", "=": " equals ", "#": " number ", "/": " ",
                 "\\": " ", "_": " ", "|": " ", "~": " ", "*": " ", "^": " ", "<": " ", ">": " ",
                 "[": " ", "]": " ", "{": " ", "}": " ", '"': " ", "`": "'", ";": ";", "\u2026": "."}
_DISALLOWED = re.compile(r"[^a-z!'(),.:;? \-]")
_WHITESPACE = re.compile(r"\s+")
_REPEATED_PUNCT = re.compile(r"([!,.:;?\-])\1+")


def _keep_script(ch: str) -> str:
    cat = unicodedata.category(ch)
    if cat in ("Cc", "Cf", "Zl", "Zp"):
        return " "
    if cat.startswith("L") and ord(ch) > 0x7F and not unicodedata.name(ch, "").startswith("LATIN"):
        return " "  # Cyrillic, Greek, CJK, Arabic, ...: not speakable by an English voice
    return ch


def expand_abbreviations(text: str) -> str:
    for pattern, word in _ABBREVIATIONS:
        text = pattern.sub(word, text)
    for pattern, word in _TITLES:
        text = pattern.sub(word, text)
    return text


def english_cleaners(text: str) -> str:
    """The full English cleaning. May return an empty string; callers decide whether that is an error."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(_keep_script(ch) for ch in text)
    text = normalize_numbers(text)  # before unidecode, which would turn '£' into 'PS'
    text = unidecode(text).lower()
    text = expand_abbreviations(text)
    text = normalize_numbers(text)  # digits that unidecode produced (e.g. from '½' or full-width digits)
    text = "".join(_SYMBOL_WORDS.get(ch, ch) for ch in text)
    text = _DISALLOWED.sub(" ", text)
    text = _REPEATED_PUNCT.sub(r"\1", text)
    return _WHITESPACE.sub(" ", text).strip()
