"""Helpers the rules share: how a token of letters is read aloud."""
from __future__ import annotations

import re

_VOWEL = re.compile(r"[aeiouy]", re.IGNORECASE)


def letters(token: str) -> str:
    """'BBC' -> 'b b c'."""
    return " ".join(token.lower())


def word_or_letters(token: str) -> str:
    """A token as a word where it can be said as one ('python'), letter by letter where it cannot ('bbc', 'hr')."""
    return token.lower() if _VOWEL.search(token) else letters(token)
