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


_ARTICLE = re.compile(r"\b(?:a|an)\s+$", re.IGNORECASE)


def after_article(m: re.Match[str]) -> bool:
    """Whether the match follows 'a' or 'an': its unit is then said in the singular ('a 10 oz steak')."""
    return bool(_ARTICLE.search(m.string[max(0, m.start() - 4):m.start()]))
