"""Abbreviations, with or without the dot: titles (Mr, Dr., Prof., Sen.), e.g. / i.e. / etc. / vs., addresses
(St., Ave., Blvd.), references (No. 5, p. 12, pp. 12-14, Fig. 3, vol. 2, ch. 3), and initialisms that cannot be
said as a word (BBC, CNN, TV, DC: no vowel), which are spelled.

Rules: 'No.' is 'number' only before a number ('The answer is No.' stays no); 'St.' after a capitalized word is
'street' (Baker St.), otherwise 'saint' (St. Louis); p./pp./fig./vol./ch./no. only before a number; titles
without a dot (Mr Smith) only before a capitalized name; 'Dr.' after a capitalized word and not before a name is
'drive' (Elm Dr.); dotted initials are spelled (U.S. -> u s); Y counts as a vowel (WHY is a word).
"""
from __future__ import annotations

import re

from ._words import letters

_DOTTED = [(re.compile(r"\b%s\." % abbr, re.IGNORECASE), word) for abbr, word in [
    ("mrs", "misess"), ("mr", "mister"), ("ms", "miss"), ("dr", "doctor"), ("co", "company"),
    ("jr", "junior"), ("sr", "senior"), ("maj", "major"), ("gen", "general"), ("drs", "doctors"),
    ("rev", "reverend"), ("lt", "lieutenant"), ("hon", "honorable"), ("sgt", "sergeant"), ("capt", "captain"),
    ("esq", "esquire"), ("ltd", "limited"), ("col", "colonel"), ("ft", "fort"), ("mt", "mount"),
    ("prof", "professor"), ("inc", "incorporated"), ("corp", "corporation"),
    ("etc", "et cetera"), ("approx", "approximately"), ("dept", "department"), ("sen", "senator"),
    ("gov", "governor"), ("pres", "president"), ("ave", "avenue"), ("blvd", "boulevard"), ("rd", "road"),
    ("hwy", "highway"), ("ln", "lane"), ("tel", "telephone"),
    ("dept", "department"), ("univ", "university"), ("assn", "association"), ("bros", "brothers"),
]]
_PHRASES = [(re.compile(p, re.IGNORECASE), w) for p, w in [
    (r"\be\.\s?g\.", "for example"), (r"\bi\.\s?e\.", "that is"), (r"\bph\.\s?d\.", "p h d"),
    (r"\bvs\b\.?", "versus"), (r"\bw/o\b", "without"), (r"\bw/(?=\s)", "with"),
]]
_BEFORE_NUMBER = [(re.compile(r"\b%s\.\s?(?=#?\d)" % abbr, re.IGNORECASE), word + " ") for abbr, word in [
    ("no", "number"), ("nos", "numbers"), ("pp", "pages"), ("p", "page"), ("fig", "figure"), ("figs", "figures"),
    ("vol", "volume"), ("vols", "volumes"), ("ch", "chapter"), ("sec", "section"), ("eq", "equation"),
    ("apt", "apartment"),
]]
_TITLES = re.compile(r"\b(Mrs|Mr|Ms|Dr|Prof|St)\b(?=\s+[A-Z])")
_TITLE_WORDS = {"Mrs": "misess", "Mr": "mister", "Ms": "miss", "Dr": "doctor", "Prof": "professor", "St": "saint"}
_STREET = re.compile(r"\b([A-Z][a-z]+\s+)St\.")
_DRIVE = re.compile(r"\b([A-Z][a-z]+\s+)Dr\.(?!\s+[A-Z])")  # 'Elm Dr. near the park'; 'Dr. Jones' is a doctor
_DOTTED_INITIALS = re.compile(r"\b((?:[A-Z]\.){2,})(?!\w)")
_SAINT = re.compile(r"\bSt\.\s?")
_INITIALISM = re.compile(r"\b[B-DF-HJ-NP-TV-XZ]{2,5}\b")  # Y is a vowel here: WHY, MY, BY are words


def _ending(word: str):
    """The replacement, keeping the full stop when the abbreviation ends the text (a sentence must end in one)."""
    def replace(m: re.Match[str]) -> str:
        keep = m.group(0).endswith(".") and not m.string[m.end():].strip()
        return m.expand(word) + ("." if keep else "")
    return replace


def _ending_initials(m: re.Match[str]) -> str:
    """'U.S.' -> 'u s' (the full stop kept when it ends the text)."""
    spoken = letters(m.group(1).replace(".", ""))
    return spoken + ("." if not m.string[m.end():].strip() else "")


def apply(text: str) -> str:
    for pattern, word in _PHRASES:
        text = pattern.sub(_ending(word), text)
    for pattern, word in _BEFORE_NUMBER:
        text = pattern.sub(word, text)
    text = _STREET.sub(_ending(r"\1street"), text)
    text = _DRIVE.sub(_ending(r"\1drive"), text)
    text = _DOTTED_INITIALS.sub(_ending_initials, text)
    text = _SAINT.sub("saint ", text)
    for pattern, word in _DOTTED:
        text = pattern.sub(_ending(word), text)
    text = _TITLES.sub(lambda m: _TITLE_WORDS[m.group(1)], text)
    return _INITIALISM.sub(lambda m: letters(m.group(0)), text)
