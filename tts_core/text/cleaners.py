"""English text cleaning: NVIDIA's english_cleaners behaviour plus stricter handling of non-English input.

Pipeline: the front end (tts_core.text.normalize: Unicode NFKC, letters of non-Latin scripts dropped, every class
of written text to words) -> unidecode for the remaining Latin text -> lowercase -> only characters of the symbol
table kept -> repeated punctuation and whitespace collapsed.
"""
from __future__ import annotations

import re

from unidecode import unidecode

from .normalize import normalize
from .numbers import normalize_numbers

_DISALLOWED = re.compile(r"[^a-z!'(),.:;? \-]")
_WHITESPACE = re.compile(r"\s+")
_REPEATED_PUNCT = re.compile(r"([!,.:;?\-])\1+")


def english_cleaners(text: str) -> str:
    """The full English cleaning. May return an empty string; callers decide whether that is an error."""
    text = normalize(text)  # before unidecode, which would turn '£' into 'PS'
    text = unidecode(text).lower()
    text = normalize_numbers(text)  # digits unidecode produced from signs no rule knows (rare)
    text = text.replace('"', "")  # curly quotes became straight ones: dropped, as NVIDIA does
    text = _DISALLOWED.sub(" ", text)
    text = _REPEATED_PUNCT.sub(r"\1", text)
    return _WHITESPACE.sub(" ", text).strip()
